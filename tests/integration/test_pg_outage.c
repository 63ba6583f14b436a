/*
 * test_pg_outage.c - privd on PostgreSQL when the database goes away
 * (issue 12): a lost connection (every backend of privd's database
 * terminated, as a failover ends them) and a server that is down answer
 * requests UNAVAILABLE - never OK for a change that was not committed,
 * never an integrity failure - privd keeps running, and once the database
 * is back (the next transaction connects again) requests succeed, every
 * acknowledged put is readable, and the audit chain verifies.
 *
 * Every kind of read (get, subject export, audit query and checkpoints,
 * lookup, hold list, retention preview, aggregate, policy get and
 * history): its connection ended in the middle of the read (the test
 * holds a lock on the table the read needs, waits until privd's read
 * waits for it, ends that connection, then lets go) is answered
 * UNAVAILABLE, never INTERNAL; with the server down, it
 * is answered UNAVAILABLE or not at all (privd answers nothing whose
 * audit event it cannot record); nothing is logged as damaged; and after
 * each, every kind works again.
 *
 * privd started while the server is down waits for it (store-wait),
 * listening to nobody meanwhile, and serves once it is back; with a
 * short store-wait it gives up and exits 1, saying so.
 *
 * Runs only on the test setup "pg" (PRIVD_TEST_STORE=postgresql).
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <privd/audit.h>
#include <privd/retention.h>
#include <privd/rights.h>

#if defined(__has_include)
#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#define HAVE_LIBPQ 1
#endif
#endif

#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "run.h"

#define RECOVER_MS 30000 /* the database is back: a put succeeds by then */
#define WAIT_MS    20000 /* privd's read waits for the test's lock by then */

/*
 * Register customers: purposes invoicing and stats (statistical); fields
 * name, email (a lookup field) and segment. svc reads and writes it for
 * invoicing, reporter aggregates segment for stats, admin is
 * policy_admin and subject_rights, auditor the auditor.
 */
static const char policy[] = H_POL_CONTROLLER
    " \"registers\": {\"customers\": {\n"
    "   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"},\n"
    "    \"stats\": {\"legal_basis\": \"legitimate_interest\", "
    "\"statistical\": true}},\n"
    "   \"fields\": {\n"
    "    \"name\": {\"category\": \"identity\", \"type\": \"string\"},\n"
    "    \"email\": {\"category\": \"contact\", \"type\": \"email\", "
    "\"identifying\": true, \"lookup\": true},\n"
    "    \"segment\": {\"category\": \"classification\", \"type\": "
    "\"string\"}}}},\n" H_POL_PRINCIPALS H_POL_SVC_RW ",\n"
    "  \"reporter\": {\"key\": \"@KEY:reporter@\", \"grants\": "
    "[{\"register\": \"customers\", \"purposes\": [\"stats\"], "
    "\"fields\": [\"segment\"], \"ops\": [\"read\"]}]},\n"
    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "
    "[\"policy_admin\", \"subject_rights\"]},\n" H_POL_AUDITOR H_POL_END;

/* privd serve's options: no retention sweeps but those asked for. */
static const char *const serve_args[] = {"--retention-interval", "0", NULL};

static int
setup(void **state)
{
	static const char *const keys[] = {
	    "svc", "auditor", "admin", "reporter"};

	return h_setup(state, keys, 4, policy, serve_args);
}

static int
pg_put_name(privd_client *c, const char *subject, const char *name)
{
	privd_field f = h_field("name", name);

	return privd_put(c, "customers", subject, "invoicing", &f, 1);
}

static void
pg_expect_name(privd_client *c, const char *subject, const char *name)
{
	privd_record *rec = NULL;

	assert_int_equal(
	    privd_get(c, "customers", subject, "invoicing", NULL, 0, &rec),
	    PRIVD_OK);
	assert_int_equal(rec->nfields, 1);
	assert_int_equal(rec->fields[0].len, strlen(name));
	assert_memory_equal(rec->fields[0].value, name, strlen(name));
	privd_record_free(&rec);
}

/*
 * Put until one is acknowledged (the database is back), at most
 * RECOVER_MS; every failure on the way must be UNAVAILABLE (or a
 * timeout while privd waits for the database). The milliseconds taken.
 */
static int64_t
put_until_ok(harness *h, privd_client *c, const char *subject, const char *v)
{
	int64_t t0 = h_now_ms();
	int rc;

	while ((rc = pg_put_name(c, subject, v)) != PRIVD_OK) {
		if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
			fail_msg("put while the database returns: %d (%s)", rc,
			    privd_errmsg(c));
		assert_true(h_running(h));
		if (h_now_ms() - t0 > RECOVER_MS)
			fail_msg("no put acknowledged %d ms after the database "
			         "came back",
			    RECOVER_MS);
		h_sleep_ms(50);
	}
	return h_now_ms() - t0;
}

static void
verify_audit(harness *h)
{
	privd_client *a;

	assert_int_equal(h_connect(h, "auditor", &a), 0);
	audit_verify_ok(a, NULL, NULL);
	privd_close(&a);
}

/* Every connection of privd's database ended: the next requests answer
 * UNAVAILABLE or succeed on a new connection, never anything else. */
static void
test_connections_lost(void **state)
{
	harness *h = *state;
	privd_client *c;
	int rc, i;

	assert_int_equal(h_connect(h, "svc", &c), 0);
	assert_int_equal(pg_put_name(c, "s-1", "before"), PRIVD_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(h_store_drop_connections(h), 0);
		rc = pg_put_name(c, "s-2", "during");
		if (rc != PRIVD_OK && rc != PRIVD_EUNAVAILABLE)
			fail_msg("a put after the connections were ended: %d "
			         "(%s)",
			    rc, privd_errmsg(c));
		printf("# round %d: the first put after the connections "
		       "ended: %s\n",
		    i, rc == PRIVD_OK ? "OK" : "UNAVAILABLE");
		put_until_ok(h, c, "s-2", "during");
	}
	assert_true(h_running(h));
	pg_expect_name(c, "s-1", "before");
	pg_expect_name(c, "s-2", "during");
	assert_int_equal(h_log_count(h, 0, "integrity"), 0);
	privd_close(&c);
	verify_audit(h);
}

/* The server down: requests answer UNAVAILABLE; privd keeps running;
 * the server back: requests succeed. */
static void
test_server_down(void **state)
{
	harness *h = *state;
	privd_client *c;
	privd_record *rec = NULL;
	int64_t ms;
	int rc;

	assert_int_equal(h_connect(h, "svc", &c), 0);
	assert_int_equal(pg_put_name(c, "s-1", "before"), PRIVD_OK);
	assert_int_equal(h_store_halt(), 0);
	rc = pg_put_name(c, "s-3", "while down");
	if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
		fail_msg("a put while the database is down: %d (%s)", rc,
		    privd_errmsg(c));
	rc = privd_get(c, "customers", "s-1", "invoicing", NULL, 0, &rec);
	if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
		fail_msg("a get while the database is down: %d (%s)", rc,
		    privd_errmsg(c));
	assert_null(rec);
	assert_true(h_running(h));
	assert_int_equal(h_store_resume(), 0);
	ms = put_until_ok(h, c, "s-3", "after");
	printf("# the first put acknowledged %lld ms after the database was "
	       "started again\n",
	    (long long)ms);
	pg_expect_name(c, "s-1", "before");
	pg_expect_name(c, "s-3", "after");
	assert_true(h_running(h));
	assert_int_equal(h_log_count(h, 0, "integrity"), 0);
	privd_close(&c);
	verify_audit(h);
}

/* ---- every kind of read ------------------------------------------- */

/* A read request: its name, the principal that may make it, and the
 * table of privd's database it reads (where the test makes it wait). */
typedef struct read_kind {
	const char *name;
	const char *key;
	const char *table;
} read_kind;

static const read_kind kinds[] = {
    {"get", "svc", "privd_values"},
    {"subject export", "admin", "privd_values"},
    {"audit query", "auditor", "privd_audit"},
    {"audit checkpoints", "auditor", "privd_audit_ckpt"},
    {"lookup", "admin", "privd_blind"},
    {"hold list", "admin", "privd_holds"},
    {"retention preview", "admin", "privd_ret_due"},
    {"aggregate", "reporter", "privd_ret_sub"},
    {"policy get", "admin", "privd_policy"},
    {"policy history", "admin", "privd_policy"},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

#define EMAIL "person.outage@example.fi"

/* Make read kind k on c; its status (what it returned is freed). */
static int
read_once(privd_client *c, size_t k)
{
	privd_record *rec = NULL;
	privd_audit_page *page = NULL;
	privd_audit_checkpoint *ck = NULL;
	privd_match *m = NULL;
	privd_hold *holds = NULL;
	privd_retention_opts ro = {.preview = 1};
	privd_retention_report *rep = NULL;
	privd_aggregate_result *agg = NULL;
	privd_policy_version *pv = NULL;
	char *json = NULL;
	size_t n = 0, len = 0;
	int rc = PRIVD_EINVAL;

	switch (k) {
	case 0:
		rc = privd_get(
		    c, "customers", "s-1", "invoicing", NULL, 0, &rec);
		privd_record_free(&rec);
		break;
	case 1:
		rc = privd_subject_export(c, NULL, "s-1", &json, &len);
		privd_subject_export_free(&json, len);
		break;
	case 2:
		rc = privd_audit_query(c, NULL, NULL, 0, &page);
		privd_audit_page_free(&page);
		break;
	case 3:
		rc = privd_audit_checkpoints(
		    c, 0, 0, &ck, &n, NULL, NULL, NULL, NULL);
		privd_free(ck);
		break;
	case 4:
		rc = privd_subject_lookup(
		    c, "email", EMAIL, strlen(EMAIL), &m, &n);
		privd_matches_free(&m, n);
		break;
	case 5:
		rc = privd_hold_list(c, NULL, &holds, &n);
		privd_holds_free(&holds);
		break;
	case 6:
		rc = privd_retention_run(c, &ro, &rep);
		privd_retention_report_free(&rep);
		break;
	case 7:
		rc = privd_aggregate(
		    c, "stats", "customers", "segment", NULL, &agg);
		privd_aggregate_result_free(&agg);
		break;
	case 8:
		rc = privd_policy_get_version(c, 0, NULL, &json);
		privd_free(json);
		break;
	case 9:
		rc = privd_policy_history(c, &pv, &n);
		privd_free(pv);
		break;
	}
	return rc;
}

/* Connect as kind k's principal, with a timeout of timeout_ms. */
static privd_client *
kind_client(harness *h, size_t k, int timeout_ms)
{
	privd_client *c;

	assert_int_equal(h_connect(h, kinds[k].key, &c), 0);
	assert_int_equal(privd_set_timeout(c, timeout_ms), PRIVD_OK);
	return c;
}

/* Every kind of read succeeds (the lookup index may still be being
 * built on a fresh store: that one is asked until it is ready). */
static void
reads_ok(harness *h)
{
	int64_t t0 = h_now_ms();
	privd_client *c;
	size_t k;
	int rc;

	for (k = 0; k < NKINDS; k++) {
		c = kind_client(h, k, 10000);
		while ((rc = read_once(c, k)) == PRIVD_EUNAVAILABLE && k == 4 &&
		       h_now_ms() - t0 < RECOVER_MS)
			h_sleep_ms(50);
		if (rc != PRIVD_OK)
			fail_msg("%s: %s (%s)", kinds[k].name,
			    privd_strerror(rc), privd_errmsg(c));
		privd_close(&c);
	}
}

/* A subject with every field, for the reads to find. */
static void
put_subject(harness *h)
{
	privd_field f[] = {h_field("name", "Outage Person"),
	    h_field("email", EMAIL), h_field("segment", "b2b")};
	privd_client *c;

	assert_int_equal(h_connect(h, "svc", &c), 0);
	assert_int_equal(
	    privd_put(c, "customers", "s-1", "invoicing", f, 3), PRIVD_OK);
	privd_close(&c);
}

/* Nothing of the outage was taken for damage, in privd's log from off. */
static void
log_clean(const harness *h, size_t off)
{
	assert_int_equal(h_log_count(h, off, "damaged"), 0);
	assert_int_equal(h_log_count(h, off, "integrity"), 0);
}

/* One read made on a thread of its own (libprivd's calls block). */
typedef struct bg_read {
	pthread_t th;
	privd_client *c;
	size_t k;
	int rc;
} bg_read;

static void *
bg_main(void *arg)
{
	bg_read *b = arg;

	b->rc = read_once(b->c, b->k);
	return NULL;
}

static void
bg_start(harness *h, bg_read *b, size_t k, int timeout_ms)
{
	b->c = kind_client(h, k, timeout_ms);
	b->k = k;
	b->rc = -1;
	assert_int_equal(pthread_create(&b->th, NULL, bg_main, b), 0);
}

static int
bg_join(bg_read *b)
{
	assert_int_equal(pthread_join(b->th, NULL), 0);
	privd_close(&b->c);
	return b->rc;
}

#ifdef HAVE_LIBPQ
/* A statement on the test's own connection that must succeed; its
 * result (PQclear it). */
static PGresult *
sql(PGconn *pc, const char *q)
{
	PGresult *r = PQexec(pc, q);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", q, PQerrorMessage(pc));
	return r;
}

/* The pid of a backend of privd's that waits for a lock outside a
 * write transaction (a read: it has no transaction id), or 0. */
static int
waiting_reader(PGconn *pc)
{
	PGresult *r;
	int pid;

	/* inside the test's transaction pg_stat_activity is a snapshot
	 * taken once: drop it, to see the backends as they are now */
	PQclear(sql(pc, "SELECT pg_stat_clear_snapshot()"));
	r = sql(pc, "SELECT pid FROM pg_stat_activity WHERE datname = "
	            "current_database() AND pid <> pg_backend_pid() AND "
	            "wait_event_type = 'Lock' AND backend_xid IS NULL");
	pid = PQntuples(r) > 0 ? atoi(PQgetvalue(r, 0, 0)) : 0;
	PQclear(r);
	return pid;
}

static bool
backend_alive(PGconn *pc, int pid)
{
	char q[128];
	PGresult *r;
	bool alive;

	PQclear(sql(pc, "SELECT pg_stat_clear_snapshot()"));
	snprintf(
	    q, sizeof(q), "SELECT 1 FROM pg_stat_activity WHERE pid = %d", pid);
	r = sql(pc, q);
	alive = PQntuples(r) > 0;
	PQclear(r);
	return alive;
}

/*
 * Read kind k with its connection ended in the middle: lock the table it
 * reads, start it, wait until privd's read waits for the lock, end that
 * read's connection (it gets the error a failover or a restart gives),
 * wait until its backend is gone, let go of the lock. The read's status.
 */
static int
read_cut(harness *h, PGconn *pc, size_t k)
{
	char q[128];
	bg_read b;
	int64_t t0;
	int pid = 0;

	PQclear(sql(pc, "BEGIN"));
	snprintf(q, sizeof(q), "LOCK TABLE %s IN ACCESS EXCLUSIVE MODE",
	    kinds[k].table);
	PQclear(sql(pc, q));
	bg_start(h, &b, k, 60000);
	for (t0 = h_now_ms(); h_now_ms() - t0 < WAIT_MS; h_sleep_ms(10))
		if ((pid = waiting_reader(pc)) != 0)
			break;
	if (pid == 0) {
		PQclear(sql(pc, "ROLLBACK"));
		bg_join(&b);
		fail_msg("%s: privd's read never waited for the lock on %s",
		    kinds[k].name, kinds[k].table);
	}
	/* that connection only: the writer's stays, so the answer is the
	 * read's own, not a failed commit's */
	snprintf(q, sizeof(q), "SELECT pg_terminate_backend(%d)", pid);
	PQclear(sql(pc, q));
	for (t0 = h_now_ms(); backend_alive(pc, pid); h_sleep_ms(10))
		if (h_now_ms() - t0 > WAIT_MS) {
			PQclear(sql(pc, "ROLLBACK"));
			bg_join(&b);
			fail_msg("%s: privd's backend outlived its end",
			    kinds[k].name);
		}
	PQclear(sql(pc, "ROLLBACK"));
	return bg_join(&b);
}
#endif

/* Each kind of read, its connection ended mid-read: UNAVAILABLE; then
 * every kind works again. */
static void
test_reads_cut_off(void **state)
{
#ifdef HAVE_LIBPQ
	harness *h = *state;
	PGconn *pc;
	size_t off, k;
	int rc;

	put_subject(h);
	reads_ok(h);
	off = h_log_size(h);
	pc = PQconnectdb(h->store_spec);
	if (PQstatus(pc) != CONNECTION_OK)
		fail_msg("cannot connect to privd's database: %s",
		    PQerrorMessage(pc));
	for (k = 0; k < NKINDS; k++) {
		rc = read_cut(h, pc, k);
		printf("# %s, its connection ended mid-read: %s\n",
		    kinds[k].name, privd_strerror(rc));
		if (rc != PRIVD_EUNAVAILABLE)
			fail_msg("%s, its connection ended mid-read: %s, not "
			         "UNAVAILABLE",
			    kinds[k].name, privd_strerror(rc));
		assert_true(h_running(h));
		reads_ok(h);
	}
	PQfinish(pc);
	log_clean(h, off);
	verify_audit(h);
#else
	(void)state;
	skip(); /* built without libpq's header: no connection of its own */
#endif
}

/* The server down: every kind of read at once is answered UNAVAILABLE
 * or not at all (its audit event cannot be recorded); privd runs on; the
 * server back, every kind works. */
static void
test_reads_server_down(void **state)
{
	harness *h = *state;
	bg_read b[NKINDS];
	size_t off, k;
	int rc;

	put_subject(h);
	reads_ok(h);
	off = h_log_size(h);
	assert_int_equal(h_store_halt(), 0);
	for (k = 0; k < NKINDS; k++)
		bg_start(h, &b[k], k, 5000);
	for (k = 0; k < NKINDS; k++) {
		rc = bg_join(&b[k]);
		printf("# %s while the database is down: %s\n", kinds[k].name,
		    privd_strerror(rc));
		if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
			fail_msg("%s while the database is down: %s",
			    kinds[k].name, privd_strerror(rc));
	}
	assert_true(h_running(h));
	assert_int_equal(h_store_resume(), 0);
	{
		privd_client *c;

		assert_int_equal(h_connect(h, "svc", &c), 0);
		put_until_ok(h, c, "s-2", "after");
		privd_close(&c);
	}
	reads_ok(h);
	log_clean(h, off);
	verify_audit(h);
}

/* privd serve started as h_start starts it, with extra options, without
 * waiting for it to answer; h->pid is its pid. */
static void
spawn_privd(harness *h, const char *const *extra)
{
	const char *argv[16];
	size_t n = 0, i;
	int fd;

	argv[n++] = h->privd_bin;
	argv[n++] = "serve";
	argv[n++] = "--data-dir";
	argv[n++] = h->data_dir;
	argv[n++] = "--listen";
	argv[n++] = h->endpoint;
	for (i = 0; serve_args[i] != NULL; i++)
		argv[n++] = serve_args[i];
	for (i = 0; extra[i] != NULL; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	run_log_banner(h, argv);
	assert_true((fd = run_log_open(h)) >= 0);
	h->pid = run_spawn(h, argv, fd, fd);
	close(fd);
	assert_true(h->pid > 0);
}

/* A service manager's notify socket (sd_notify(3)) at root/notify, in
 * NOTIFY_SOCKET for the privd started next; its fd. */
static int
notify_open(harness *h)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	assert_true(snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify",
	                h->root) < (int)sizeof(sa.sun_path));
	assert_true((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", sa.sun_path, 1), 0);
	return fd;
}

/* Whether READY=1 came on fd within timeout_ms (0: already). */
static bool
notify_ready_seen(int fd, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	int64_t t0 = h_now_ms();
	char buf[512];
	ssize_t n;
	int left;

	for (;;) {
		left = timeout_ms - (int)(h_now_ms() - t0);
		if (poll(&p, 1, left > 0 ? left : 0) <= 0)
			return false;
		if ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
			buf[n] = '\0';
			if (strstr(buf, "READY=1") != NULL)
				return true;
		}
	}
}

/* privd started while the server is down waits for it, answering
 * nobody and telling systemd nothing, and serves (READY=1) once it is
 * back. */
static void
test_start_waits(void **state)
{
	static const char *const extra[] = {"--store-wait", "300", NULL};
	harness *h = *state;
	privd_client *c;
	size_t off;
	int64_t t0;
	int fd;

	put_subject(h);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	assert_int_equal(h_store_halt(), 0);
	off = h_log_size(h);
	fd = notify_open(h);
	spawn_privd(h, extra);
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(
	    h_log_wait(h, off, "store's database does not answer", 1, WAIT_MS),
	    1);
	/* waiting, not serving: nothing listens yet */
	assert_true(h_running(h));
	assert_int_equal(h_connect(h, "svc", &c), 0);
	privd_set_timeout(c, 300);
	assert_int_not_equal(privd_ping(c, NULL), PRIVD_OK);
	privd_close(&c);
	assert_false(notify_ready_seen(fd, 0));
	assert_true(h_running(h));
	t0 = h_now_ms();
	assert_int_equal(h_store_resume(), 0);
	assert_int_equal(h_wait_ready(h, 60000), 0);
	assert_true(notify_ready_seen(fd, WAIT_MS));
	close(fd);
	printf("# privd served %lld ms after the database was started again\n",
	    (long long)(h_now_ms() - t0));
	assert_int_equal(
	    h_log_count(h, off, "store's database answers after"), 1);
	reads_ok(h);
	log_clean(h, off);
	verify_audit(h);
}

/* A privd restore under way on the database (it holds the serving lock
 * exclusive: store_pg_node.c; the test holds it as a restore does) keeps
 * a starting node from serving: it waits, saying why, and serves once
 * the lock is released. The key is the daemon's (store_pg.h), written
 * out here as a stranger's tool would see it. */
static void
test_start_waits_for_restore(void **state)
{
#ifdef HAVE_LIBPQ
	static const char *const extra[] = {"--store-wait", "300", NULL};
	harness *h = *state;
	privd_client *c;
	PGconn *pc;
	size_t off;

	put_subject(h);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	pc = PQconnectdb(h->store_spec);
	if (PQstatus(pc) != CONNECTION_OK)
		fail_msg("cannot connect to privd's database: %s",
		    PQerrorMessage(pc));
	/* 0x7072697664000001 + 0x100 */
	PQclear(sql(pc, "SELECT pg_advisory_lock(8102654636797722625 + 256)"));
	off = h_log_size(h);
	spawn_privd(h, extra);
	assert_int_equal(
	    h_log_wait(h, off, "a privd restore is under way", 1, WAIT_MS), 1);
	assert_true(h_running(h));
	assert_int_equal(h_connect(h, "svc", &c), 0);
	privd_set_timeout(c, 300);
	assert_int_not_equal(privd_ping(c, NULL), PRIVD_OK);
	privd_close(&c);
	PQclear(
	    sql(pc, "SELECT pg_advisory_unlock(8102654636797722625 + 256)"));
	assert_int_equal(h_wait_ready(h, 60000), 0);
	PQfinish(pc);
	reads_ok(h);
	log_clean(h, off);
	verify_audit(h);
#else
	skip(); /* built without libpq's header: it cannot hold the lock */
#endif
}

/* With a short store-wait and the server down, privd gives up: exit 1,
 * and the log says why, naming the setting. */
static void
test_start_gives_up(void **state)
{
	static const char *const extra[] = {"--store-wait", "1", NULL};
	harness *h = *state;
	size_t off;
	int st;

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	assert_int_equal(h_store_halt(), 0);
	off = h_log_size(h);
	spawn_privd(h, extra);
	assert_int_equal(run_wait(h->pid, WAIT_MS, &st), 0);
	h->pid = -1;
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 1);
	assert_int_equal(
	    h_log_count(h, off, "did not answer within 1 s (store-wait"), 1);
	assert_int_equal(h_store_resume(), 0);
	/* and with the database back it starts as always */
	assert_int_equal(h_start(h, serve_args), 0);
	verify_audit(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_connections_lost, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_server_down, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reads_cut_off, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_reads_server_down, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_start_waits, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_start_waits_for_restore, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_start_gives_up, setup, h_teardown),
	};

	if (!h_store_pg()) {
		printf("SKIP: a test of the PostgreSQL store (meson test "
		       "--setup pg)\n");
		return 77;
	}
	return cmocka_run_group_tests_name(
	    "integration/pg_outage", tests, NULL, NULL);
}
