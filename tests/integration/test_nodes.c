/*
 * test_nodes.c - two privd nodes on one PostgreSQL store (issue 12,
 * README "Beyond one host"): the writers take turns and keep one audit
 * chain, a policy applied on one node is in force on the other within
 * about a second (also when its notification is lost), and one node at
 * a time holds the retention sweeper's lease.
 *
 * The store is a private PostgreSQL server (pgstore.c, tests/unit/pgtmp.c)
 * whatever the test setup: meson gives this test PRIVD_TEST_STORE=
 * postgresql. Node B's data directory is a copy of node A's after privd
 * init (the master key, and DIR/store naming the same database), as a
 * second node of a real cluster is set up.
 *
 * Timing: NODES_POLICY_MS is the documented bound (writer_nodes.h:
 * a notification is drained every 100 ms, the generation compared every
 * second) with room for a slow, shared CI machine; the times measured
 * are printed, never asserted against the clock beyond the deadline.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <setjmp.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"

#define REG     "customers"
#define PURPOSE "invoicing"
/* Writers per node, and the puts each makes. */
#define WRITERS_PER_NODE 2
#define PUTS             40
#define TIMEOUT_MS       10000
/* A policy applied on one node is in force on the other by then. */
#define NODES_POLICY_MS 5000
/* A stopped lease holder's lease is taken by the other node by then (it
 * tries every second once its timer's sweep is due). */
#define LEASE_WAIT_MS 15000
/* How long the node without the lease is watched not to take it. */
#define LEASE_QUIET_MS 2500

#define POL_HEAD                                                               \
	H_POL_CONTROLLER                                                       \
	" \"registers\": {\"customers\": {\n"                                  \
	"   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n" \
	"   \"fields\": {\"name\": {\"category\": \"identity\", \"type\": "    \
	"\"string\"}}}},\n" H_POL_PRINCIPALS                                   \
	"  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "                  \
	"[\"policy_admin\"]},\n" H_POL_AUDITOR ",\n"
/* Version 1: svc reads and writes; version 2: and deletes. */
#define POL_V1 POL_HEAD H_POL_SVC_RW H_POL_END
#define POL_V2 POL_HEAD H_POL_SVC_RWD H_POL_END

struct pair {
	harness *a, *b;
};

static int
setup(void **state)
{
	static const char *const keys[] = {"svc", "admin", "auditor"};
	struct pair *p = calloc(1, sizeof(*p));

	h_store_check();
	if (p == NULL || (p->a = h_new()) == NULL || (p->b = h_new()) == NULL)
		goto bad;
	for (size_t i = 0; i < 3; i++)
		if (h_key_new(p->a, keys[i]) == NULL)
			goto bad;
	if (h_policy_write(p->a, POL_V1) != 0 || h_init(p->a, NULL) != 0)
		goto bad;
	/* B: a copy of A's stopped directory (its DIR/store names the same
	 * database), A's keys */
	if (h_node_copy(p->a, p->b) != 0)
		goto bad;
	if (h_start(p->a, NULL) != 0 || h_start(p->b, NULL) != 0)
		goto bad;
	*state = p;
	return 0;
bad:
	if (p != NULL) {
		if (p->a != NULL)
			h_dump_log(p->a, 30);
		if (p->b != NULL)
			h_dump_log(p->b, 30);
		h_destroy(&p->a);
		h_destroy(&p->b);
		free(p);
	}
	return -1;
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	if (p == NULL)
		return 0;
	h_teardown((void **)&p->a);
	h_teardown((void **)&p->b);
	free(p);
	*state = NULL;
	return 0;
}

static privd_client *
node_client(harness *h, const char *key)
{
	privd_client *c = NULL;

	if (h_connect(h, key, &c) != 0)
		fail_msg("cannot connect as %s", key);
	expect_rc(c, privd_set_timeout(c, TIMEOUT_MS), PRIVD_OK, "timeout");
	return c;
}

/* One writer thread: PUTS puts of subjects of its own, on its node. */
struct writer_arg {
	harness *h;
	int id;
	int failed; /* a put did not answer OK (then it stopped) */
	char why[160];
};

static void *
writer_thread(void *arg)
{
	struct writer_arg *w = arg;
	privd_client *c = NULL;
	char subj[32], name[32];
	privd_field f;
	int rc;

	/* h_connect only reads the harness: safe from this thread */
	if (h_connect(w->h, "svc", &c) != 0) {
		w->failed = PUTS;
		snprintf(w->why, sizeof(w->why), "cannot connect");
		return NULL;
	}
	(void)privd_set_timeout(c, TIMEOUT_MS);
	for (int i = 0; i < PUTS; i++) {
		snprintf(subj, sizeof(subj), "w%d-s%d", w->id, i);
		snprintf(name, sizeof(name), "name %d/%d", w->id, i);
		f = h_field("name", name);
		if ((rc = privd_put(c, REG, subj, PURPOSE, &f, 1)) !=
		    PRIVD_OK) {
			/* the first failure says it: a writer that cannot
			 * append answers nothing, and each put would wait
			 * for its timeout */
			w->failed = 1;
			snprintf(w->why, sizeof(w->why), "%s: %s",
			    privd_strerror(rc), privd_errmsg(c));
			break;
		}
	}
	privd_close(&c);
	return NULL;
}

/* Is every seq from 1 to the last there once, in order? */
static void
expect_gapless(const evlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->ev[i]->seq != i + 1)
			fail_msg("event %zu has seq %llu: the chain has a gap "
			         "or a repeat",
			    i + 1, (unsigned long long)l->ev[i]->seq);
}

/*
 * Four clients write at once, two through each node: every put is
 * answered OK, each is readable from the other node, and the two nodes'
 * events form one chain with one gapless seq that verifies from either
 * node. The writers interleave, so each node's writer finds the other's
 * commits at its transactions' begin (the generation moved) and appends
 * after them: without that re-read two nodes would take the same seq.
 */
static void
test_one_chain(void **state)
{
	struct pair *p = *state;
	struct writer_arg w[2 * WRITERS_PER_NODE];
	pthread_t th[2 * WRITERS_PER_NODE];
	privd_client *ra, *rb, *aa, *ab;
	privd_record *rec;
	const char *names[] = {"name"};
	char subj[32];
	uint64_t checked_a = 0, checked_b = 0;
	evlist la = {0}, lb = {0};
	int64_t t0 = h_now_ms();

	for (int i = 0; i < 2 * WRITERS_PER_NODE; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].h = i % 2 == 0 ? p->a : p->b;
		w[i].id = i;
		assert_int_equal(
		    pthread_create(&th[i], NULL, writer_thread, &w[i]), 0);
	}
	for (int i = 0; i < 2 * WRITERS_PER_NODE; i++) {
		pthread_join(th[i], NULL);
		if (w[i].failed != 0)
			fail_msg("writer %d (node %c): a put failed: %s", i,
			    i % 2 == 0 ? 'A' : 'B', w[i].why);
	}
	printf("# %d puts through two nodes in %lld ms\n",
	    2 * WRITERS_PER_NODE * PUTS, (long long)(h_now_ms() - t0));

	/* every write readable from the other node */
	ra = node_client(p->a, "svc");
	rb = node_client(p->b, "svc");
	for (int i = 0; i < 2 * WRITERS_PER_NODE; i++) {
		privd_client *other = i % 2 == 0 ? rb : ra;

		for (int k = 0; k < PUTS; k += 7) {
			snprintf(subj, sizeof(subj), "w%d-s%d", i, k);
			rec = NULL;
			expect_rc(other,
			    privd_get(
			        other, REG, subj, PURPOSE, names, 1, &rec),
			    PRIVD_OK, "get from the other node");
			assert_non_null(rec);
			privd_record_free(&rec);
		}
	}
	privd_close(&ra);
	privd_close(&rb);

	/* one chain, from either node */
	aa = node_client(p->a, "auditor");
	ab = node_client(p->b, "auditor");
	audit_verify_ok(aa, NULL, &checked_a);
	audit_verify_ok(ab, NULL, &checked_b);
	assert_true(checked_a >= 2 * WRITERS_PER_NODE * PUTS);
	collect(aa, NULL, &la);
	collect(ab, NULL, &lb);
	expect_gapless(&la);
	expect_gapless(&lb);
	printf("# one chain: %llu and %llu events verified from A and B\n",
	    (unsigned long long)checked_a, (unsigned long long)checked_b);
	evlist_free(&la);
	evlist_free(&lb);
	privd_close(&aa);
	privd_close(&ab);
}

/*
 * The audit index both nodes write behind the log covers both nodes'
 * events, once each: after both stop (each indexes what it has at
 * shutdown), a subject's query on a node that did not write it finds its
 * put exactly once.
 */
static void
test_index_covers_both(void **state)
{
	struct pair *p = *state;
	privd_client *c, *aud;
	privd_audit_filter f = {0};
	const char *ops[] = {"put"};
	privd_field fld = h_field("name", "indexed");
	evlist l = {0};

	c = node_client(p->b, "svc");
	expect_rc(c, privd_put(c, REG, "ix-b", PURPOSE, &fld, 1), PRIVD_OK,
	    "put on B");
	privd_close(&c);
	c = node_client(p->a, "svc");
	expect_rc(c, privd_put(c, REG, "ix-a", PURPOSE, &fld, 1), PRIVD_OK,
	    "put on A");
	privd_close(&c);
	stop_clean(p->b);
	stop_clean(p->a);
	assert_int_equal(h_start(p->a, NULL), 0);
	aud = node_client(p->a, "auditor");
	f.ops = ops;
	f.nops = 1;
	f.reg = REG;
	f.subject = "ix-b";
	collect(aud, &f, &l);
	assert_int_equal(l.n, 1);
	evlist_free(&l); /* collect overwrites */
	f.subject = "ix-a";
	collect(aud, &f, &l);
	assert_int_equal(l.n, 1);
	evlist_free(&l);
	audit_verify_ok(aud, NULL, NULL);
	privd_close(&aud);
	assert_int_equal(h_start(p->b, NULL), 0);
}

/* Does svc's delete on node h pass the policy (version 2's grant)? */
static bool
delete_allowed(privd_client *c)
{
	const char *names[] = {"name"};
	uint32_t n = 0;
	int rc = privd_delete(c, REG, "nobody", PURPOSE, names, 1, &n);

	return rc == PRIVD_OK || rc == PRIVD_ENOTFOUND;
}

/*
 * A policy applied on A is in force on B within the documented time
 * (the writer's listener, or its generation check every second), and
 * the compare-and-set on replaces_version holds across the nodes: B
 * refuses a change that replaces the version A replaced.
 */
static void
test_policy_on_both(void **state)
{
	struct pair *p = *state;
	privd_client *adm_a, *adm_b, *svc_b;
	char json[8192];
	uint64_t v = 0;
	int64_t t0, waited = -1;
	FILE *fp;
	size_t n;

	svc_b = node_client(p->b, "svc");
	assert_false(delete_allowed(svc_b)); /* version 1: no delete */

	/* version 2 from the policy file, as its template is filled */
	assert_int_equal(h_policy_write(p->a, POL_V2), 0);
	assert_non_null(fp = fopen(p->a->policy, "r"));
	n = fread(json, 1, sizeof(json) - 1, fp);
	fclose(fp);
	json[n] = '\0';

	adm_a = node_client(p->a, "admin");
	t0 = h_now_ms();
	expect_rc(adm_a, privd_policy_apply(adm_a, 1, json, &v), PRIVD_OK,
	    "apply on A");
	assert_int_equal(v, 2);
	while (h_now_ms() - t0 < NODES_POLICY_MS) {
		if (delete_allowed(svc_b)) {
			waited = h_now_ms() - t0;
			break;
		}
		h_sleep_ms(20);
	}
	if (waited < 0)
		fail_msg("policy version 2 applied on A is not in force on B "
		         "after %d ms",
		    NODES_POLICY_MS);
	printf("# policy version 2 in force on B %lld ms after A's apply\n",
	    (long long)waited);

	/* the compare-and-set reads the store on either node */
	adm_b = node_client(p->b, "admin");
	expect_rc(adm_b, privd_policy_apply(adm_b, 1, json, &v),
	    PRIVD_ECONFLICT, "apply on B replacing version 1");
	privd_close(&adm_a);
	privd_close(&adm_b);
	privd_close(&svc_b);
}

/*
 * The pids of the server processes LISTENing on h's database (privd's
 * listeners: their last query was the LISTEN), into pids; how many, or -1.
 */
static int
listener_pids(const harness *h, int *pids, int max)
{
	PGconn *c = PQconnectdb(h->store_spec);
	PGresult *r = NULL;
	int n = -1;

	if (PQstatus(c) == CONNECTION_OK)
		r = PQexec(c,
		    "SELECT pid FROM pg_stat_activity WHERE datname = "
		    "current_database() AND pid <> pg_backend_pid() "
		    "AND query LIKE 'LISTEN %'");
	if (r != NULL && PQresultStatus(r) == PGRES_TUPLES_OK)
		for (n = 0; n < PQntuples(r) && n < max; n++)
			pids[n] = atoi(PQgetvalue(r, n, 0));
	PQclear(r);
	PQfinish(c);
	return n;
}

/* Node B's listener: the one that is not A's (B restarted, A's taken
 * before); 0 if it does not show within TIMEOUT_MS. */
static int
b_listener(struct pair *p)
{
	int a[8], now[8], na, n;
	int64_t t0;

	stop_clean(p->b);
	assert_true((na = listener_pids(p->a, a, 8)) >= 1);
	assert_int_equal(h_start(p->b, NULL), 0);
	for (t0 = h_now_ms(); h_now_ms() - t0 < TIMEOUT_MS; h_sleep_ms(20)) {
		if ((n = listener_pids(p->a, now, 8)) < 0)
			continue;
		for (int i = 0; i < n; i++) {
			bool known = false;

			for (int j = 0; j < na; j++)
				known = known || now[i] == a[j];
			if (!known)
				return now[i];
		}
	}
	return 0;
}

/*
 * B's notification is lost: the server process of B's LISTEN connection
 * is stopped (SIGSTOP), so A's NOTIFY never reaches B, whose listener
 * just finds nothing to read. With no request sent to B meanwhile (its
 * first write would re-read the policy at its begin: writer_nodes_sync),
 * B still puts the version A applied in force by its generation check,
 * every NODES_GEN_US (1 s): within about a second. The time is printed;
 * NODES_POLICY_MS is the bound.
 */
static void
test_policy_notification_lost(void **state)
{
	struct pair *p = *state;
	privd_client *adm_a, *svc_b;
	char json[8192];
	uint64_t v = 0;
	int64_t t0, waited;
	size_t n, from;
	FILE *fp;
	pid_t pid;
	int found, rc;

	if ((pid = b_listener(p)) <= 0)
		fail_msg("node B's listener connection did not show in "
		         "pg_stat_activity");
	assert_int_equal(h_policy_write(p->a, POL_V2), 0);
	assert_non_null(fp = fopen(p->a->policy, "r"));
	n = fread(json, 1, sizeof(json) - 1, fp);
	fclose(fp);
	json[n] = '\0';

	adm_a = node_client(p->a, "admin");
	from = h_log_size(p->b);
	assert_int_equal(kill(pid, SIGSTOP), 0);
	t0 = h_now_ms();
	rc = privd_policy_apply(adm_a, 1, json, &v);
	found = rc != PRIVD_OK
	            ? 0
	            : h_log_wait(p->b, from, "policy version 2 in force", 1,
	                  NODES_POLICY_MS);
	waited = h_now_ms() - t0;
	/* before any assertion: a stopped backend would hang the server's
	 * shutdown */
	(void)kill(pid, SIGCONT);
	expect_rc(adm_a, rc, PRIVD_OK, "apply on A");
	privd_close(&adm_a);
	if (found < 1) {
		h_dump_log(p->b, 20);
		fail_msg("policy version 2 applied on A is not in force on B "
		         "%d ms after, its notification lost",
		    NODES_POLICY_MS);
	}
	printf("# notification lost: policy version 2 in force on B %lld ms "
	       "after A's apply (generation check)\n",
	    (long long)waited);
	svc_b = node_client(p->b, "svc");
	assert_true(delete_allowed(svc_b));
	privd_close(&svc_b);
}

/* The length of node h's log now: what it says later starts there. */
static size_t
log_mark(const harness *h)
{
	uint8_t *buf = NULL;
	size_t len = 0;

	if (h_read_file(h->log, &buf, &len) != 0)
		return 0;
	free(buf);
	return len;
}

/* Whether node h's log says, past from, that it took the sweeper lease. */
static bool
log_says_lease(const harness *h, size_t from)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	bool yes;

	if (h_read_file(h->log, &buf, &len) != 0)
		return false;
	/* NUL-terminated */
	yes = len > from &&
	      strstr((char *)buf + from, "holds the sweeper lease") != NULL;
	free(buf);
	return yes;
}

static int64_t
wait_lease(const harness *h, size_t from, int ms)
{
	int64_t t0 = h_now_ms();

	while (h_now_ms() - t0 < ms) {
		if (log_says_lease(h, from))
			return h_now_ms() - t0;
		h_sleep_ms(50);
	}
	return -1;
}

/*
 * The timer's sweeps run on one node: A, started first with a sweep due
 * every second, takes the sweeper lease; B, started with the same, does
 * not while A runs; when A stops, B takes it over.
 */
static void
test_sweeper_lease(void **state)
{
	static const char *const sweep[] = {"--retention-interval", "1", NULL};
	struct pair *p = *state;
	size_t from_a, from_b;
	int64_t waited;

	stop_clean(p->b);
	stop_clean(p->a);
	from_a = log_mark(p->a);
	assert_int_equal(h_start(p->a, sweep), 0);
	if (wait_lease(p->a, from_a, LEASE_WAIT_MS) < 0)
		fail_msg("node A never took the sweeper lease");
	from_b = log_mark(p->b);
	assert_int_equal(h_start(p->b, sweep), 0);
	/* a negative: B is given a few of its one-second tries */
	assert_int_equal(wait_lease(p->b, from_b, LEASE_QUIET_MS), -1);
	stop_clean(p->a);
	if ((waited = wait_lease(p->b, from_b, LEASE_WAIT_MS)) < 0)
		fail_msg("node B did not take the sweeper lease over");
	printf("# node B holds the sweeper lease %lld ms after A stopped\n",
	    (long long)waited);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_chain, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_index_covers_both, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_policy_on_both, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sweeper_lease, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_policy_notification_lost, setup, teardown),
	};

	h_store_check();
	if (!h_store_pg()) {
		/* two LMDB nodes would be two stores: nothing to share */
		printf("SKIP: two nodes need a shared store: run with "
		       "PRIVD_TEST_STORE=postgresql (meson gives it)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
