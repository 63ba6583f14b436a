/*
 * cluster_privd: issue 12's "Failover under load", through libprivd.
 *
 * test_cluster_privd.sh brings up the loopback cluster of `make cluster`
 * (scripts/cluster/cluster.sh: 3 etcd, 3 PostgreSQL under Patroni with
 * synchronous replication, 2 privd nodes on the one store) on a port
 * block of its own and runs this program with CLUSTER_DIR,
 * CLUSTER_PORT_BASE and PRIVD_CLUSTER_SH (cluster.sh's path) set. Then:
 *
 * - 4 writer threads, each with its own handle on both privd nodes
 *   (tcp://127.0.0.1:B+41,B+42), put one new subject after the other
 *   (register customers, purpose orders, one field name = a value of its
 *   own) as the example policy's CRM service, as fast as privd answers;
 *   every acknowledged put is recorded with its request id;
 * - PRIVD_CLUSTER_TEST_ROUNDS times (default 5, the figure): once
 *   the cluster is whole (`cluster.sh ready`: a leader with a streaming
 *   sync standby, every member running) and writes are flowing, kill -9
 *   the primary's postmaster (`cluster.sh primary` names it); Patroni
 *   promotes the sync standby and the privd nodes reach it through the
 *   multi-host URI. Printed: how long writes were unavailable, from the
 *   kill to the first acknowledgement of a put sent after it, and how
 *   the puts that failed meanwhile failed (they may or may not have been
 *   applied: none of them is checked; privd acknowledged none);
 * - then kill -9 privd node 1: every writer goes on through node 2
 *   (printed: from the kill to the last writer's first acknowledgement);
 * - the writers stop, and through node 2: every acknowledged put is
 *   read back with its value, has exactly one audit event with its
 *   request id (op put, principal crm, status OK), and the whole audit
 *   log verifies (privd_audit_verify, against the signing key privd
 *   gives: the point here is the chain across nodes and failovers, not
 *   a pinned key).
 *
 * Deadlines only bound a hang (each wait fails the test when it passes);
 * no figure passes or fails it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <privd/audit.h>
#include <privd/client.h>

#define NWRITERS   4
#define NSTATUS    16
#define TIMEOUT_MS 10000 /* per call, for both nodes (client.h) */

static const char *cluster_sh, *cluster_dir;
static char endpoints[128], server_key[4096], crm_key[4096], auditor_key[4096];

/* One acknowledged put: subject w<writer>-<n>, value v<writer>-<n>. */
struct ack {
	uint32_t n;
	uint64_t request_id;
};

struct writer {
	int id;
	pthread_t th;
	privd_client *c;
	struct ack *acks;
	size_t nacks, cap;
	atomic_uint_fast64_t failed[NSTATUS]; /* by status */
	atomic_uint_fast64_t nok;
	/* the first acknowledgement of a put sent at or after mark_ms */
	atomic_uint_fast64_t mark_ms, resumed_ms;
};

static struct writer writers[NWRITERS];
static atomic_bool stop;
/* the last acknowledgement (any writer), and the longest stretch without
 * one that ended after gap_from_ms */
static atomic_uint_fast64_t last_ack_ms, gap_from_ms = UINT64_MAX, max_gap_ms;

static void fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

static void
fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cluster_privd: FAIL: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static privd_client *
connect_as(const char *keyfile, const char *eps)
{
	privd_client *c;
	char why[512];
	int rc;

	rc = privd_connect_keyfile(
	    &c, eps, server_key, keyfile, why, sizeof(why));
	if (rc != PRIVD_OK)
		fail("connect: %s: %s", privd_strerror(rc), why);
	if (privd_set_timeout(c, TIMEOUT_MS) != PRIVD_OK)
		fail("privd_set_timeout");
	return c;
}

/*
 * A writer: one new subject per put. A failed put is counted by its
 * status and not repeated (a put in doubt may have been applied; the
 * next put is a new subject anyway); a short pause after it keeps a
 * writer that fails at once (no node reachable) from spinning.
 */
static void *
writer_main(void *arg)
{
	struct writer *w = arg;
	char subject[32], value[32];
	uint32_t n = 0;
	uint64_t sent;
	int rc;

	while (!atomic_load(&stop)) {
		privd_field f = {.name = "name"};

		n++;
		snprintf(subject, sizeof(subject), "w%d-%" PRIu32, w->id, n);
		snprintf(value, sizeof(value), "v%d-%" PRIu32, w->id, n);
		f.value = (const uint8_t *)value;
		f.len = strlen(value);
		sent = now_ms();
		rc = privd_put(w->c, "customers", subject, "orders", &f, 1);
		if (rc != PRIVD_OK) {
			atomic_fetch_add(&w->failed[rc < NSTATUS ? rc : 0], 1);
			nap_ms(50);
			continue;
		}
		if (w->nacks == w->cap) {
			w->cap = w->cap ? 2 * w->cap : 4096;
			w->acks = realloc(w->acks, w->cap * sizeof(*w->acks));
			if (w->acks == NULL)
				fail("out of memory");
		}
		w->acks[w->nacks].n = n;
		w->acks[w->nacks].request_id = privd_last_request_id(w->c);
		w->nacks++;
		atomic_fetch_add(&w->nok, 1);
		{
			uint64_t t = now_ms(),
			         prev = atomic_exchange(&last_ack_ms, t);
			uint64_t g = atomic_load(&max_gap_ms);

			while (t >= atomic_load(&gap_from_ms) && prev < t &&
			       t - prev > g &&
			       !atomic_compare_exchange_weak(
			           &max_gap_ms, &g, t - prev))
				;
		}
		if (sent >= atomic_load(&w->mark_ms) &&
		    atomic_load(&w->resumed_ms) == 0)
			atomic_store(&w->resumed_ms, now_ms());
	}
	return NULL;
}

static uint64_t
total_ok(void)
{
	uint64_t t = 0;

	for (int i = 0; i < NWRITERS; i++)
		t += atomic_load(&writers[i].nok);
	return t;
}

static void
failed_snapshot(uint64_t out[NSTATUS])
{
	memset(out, 0, NSTATUS * sizeof(*out));
	for (int i = 0; i < NWRITERS; i++)
		for (int s = 0; s < NSTATUS; s++)
			out[s] += atomic_load(&writers[i].failed[s]);
}

static void
print_failed(const char *what, const uint64_t before[NSTATUS])
{
	uint64_t now[NSTATUS];
	char buf[512];
	size_t off = 0;

	failed_snapshot(now);
	buf[0] = '\0';
	for (int s = 0; s < NSTATUS; s++) {
		if (now[s] == before[s])
			continue;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
		    "%s%s %" PRIu64, off ? ", " : "", privd_strerror(s),
		    now[s] - before[s]);
		if (off >= sizeof(buf))
			break;
	}
	printf(
	    "cluster_privd: %s: puts failed: %s\n", what, off ? buf : "none");
}

/* Runs `sh cluster.sh ARG`; its first output line into out (may be NULL). */
static int
cluster(const char *arg, char *out, size_t outlen)
{
	char cmd[4200], line[256];
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "sh '%s' %s 2>&1", cluster_sh, arg);
	if ((p = popen(cmd, "r")) == NULL)
		fail("popen: %s", strerror(errno));
	if (out != NULL)
		out[0] = '\0';
	while (fgets(line, sizeof(line), p) != NULL)
		if (out != NULL && out[0] == '\0') {
			line[strcspn(line, "\n")] = '\0';
			snprintf(out, outlen, "%s", line);
		}
	st = pclose(p);
	return st == 0 ? 0 : -1;
}

static void
wait_ready(int round)
{
	uint64_t end = now_ms() + 150000;
	char what[256];

	while (cluster("ready", what, sizeof(what)) != 0) {
		if (now_ms() >= end)
			fail("round %d: the cluster is not whole again within "
			     "150 s: %s",
			    round, what);
		nap_ms(500);
	}
}

/* Waits until n more puts have been acknowledged. */
static void
wait_acks(uint64_t n, const char *what)
{
	uint64_t want = total_ok() + n, end = now_ms() + 120000;

	while (total_ok() < want) {
		if (now_ms() >= end)
			fail("%s: no %" PRIu64
			     " acknowledged puts within 120 s",
			    what, n);
		nap_ms(100);
	}
}

static void
mark_all(uint64_t t)
{
	atomic_store(&gap_from_ms, t);
	atomic_store(&max_gap_ms, 0);
	for (int i = 0; i < NWRITERS; i++) {
		atomic_store(&writers[i].resumed_ms, 0);
		atomic_store(&writers[i].mark_ms, t);
	}
}

/* Waits for a put sent after the mark to be acknowledged by the first
 * writer (any: 0) or by every writer (all: 1); returns when. */
static uint64_t
wait_resumed(bool all, uint64_t deadline_s, const char *what)
{
	uint64_t end = now_ms() + deadline_s * 1000;

	for (;;) {
		uint64_t first = 0, last = 0;
		int n = 0;

		for (int i = 0; i < NWRITERS; i++) {
			uint64_t r = atomic_load(&writers[i].resumed_ms);

			if (r == 0)
				continue;
			n++;
			if (first == 0 || r < first)
				first = r;
			if (r > last)
				last = r;
		}
		if (!all && n > 0)
			return first;
		if (all && n == NWRITERS)
			return last;
		if (now_ms() >= end)
			fail("%s: %d of %d writers had a put acknowledged "
			     "within %" PRIu64 " s",
			    what, n, NWRITERS, deadline_s);
		nap_ms(20);
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct checker {
	struct writer *w;
	const char *eps;
	const uint64_t *ids; /* the OK put events' request ids, sorted */
	size_t nids;
	pthread_t th;
};

/* One writer's acknowledged puts: each readable with its value, and its
 * request id on exactly one OK put event. Fails the test if not. */
static void *
check_writer(void *arg)
{
	struct checker *ck = arg;
	struct writer *w = ck->w;
	privd_client *r = connect_as(crm_key, ck->eps);
	const char *names[] = {"name"};
	const uint64_t *ids = ck->ids;
	size_t nids = ck->nids;
	int rc;

	for (size_t j = 0; j < w->nacks; j++) {
		char subject[32], value[32];
		privd_record *rec = NULL;
		const privd_field *f;
		uint64_t id = w->acks[j].request_id;
		const uint64_t *hit;

		snprintf(subject, sizeof(subject), "w%d-%" PRIu32, w->id,
		    w->acks[j].n);
		snprintf(
		    value, sizeof(value), "v%d-%" PRIu32, w->id, w->acks[j].n);
		rc = privd_get(
		    r, "customers", subject, "orders", names, 1, &rec);
		if (rc != PRIVD_OK)
			fail("acknowledged put %d/%" PRIu32 " not readable: %s",
			    w->id, w->acks[j].n, privd_strerror(rc));
		f = privd_record_field(rec, "name");
		if (f == NULL || f->len != strlen(value) ||
		    memcmp(f->value, value, f->len) != 0)
			fail("acknowledged put %d/%" PRIu32
			     " reads back another "
			     "value",
			    w->id, w->acks[j].n);
		privd_record_free(&rec);
		hit = bsearch(&id, ids, nids, sizeof(*ids), cmp_u64);
		if (hit == NULL)
			fail("acknowledged put %d/%" PRIu32
			     " has no OK audit event "
			     "with its request id",
			    w->id, w->acks[j].n);
		if ((hit > ids && hit[-1] == id) ||
		    (hit + 1 < ids + nids && hit[1] == id))
			fail("acknowledged put %d/%" PRIu32
			     " has more than one OK "
			     "audit event with its request id",
			    w->id, w->acks[j].n);
	}
	privd_close(&r);
	return NULL;
}

/*
 * Every acknowledged put, through node 2 (node 1 is dead): readable with
 * its value, and its request id on exactly one OK put event of crm's
 * (one reader per writer); then the whole log verifies.
 */
static void
check_acks(const char *eps)
{
	privd_client *a = connect_as(auditor_key, eps);
	const char *ops[] = {"put"};
	privd_audit_filter q = {
	    .principal = "crm", .ops = ops, .nops = 1, .limit = 1000};
	privd_audit_page *pg = NULL;
	uint8_t *cur = NULL;
	size_t curlen = 0, nids = 0, cap = 0, total = 0;
	uint64_t *ids = NULL, t = now_ms();
	int rc;

	/* the OK put events' request ids, sorted */
	do {
		if ((rc = privd_audit_query(a, &q, cur, curlen, &pg)) !=
		    PRIVD_OK)
			fail("audit query: %s: %s", privd_strerror(rc),
			    privd_errmsg(a));
		for (size_t i = 0; i < pg->n; i++) {
			if (pg->events[i].status != PRIVD_AUDIT_STATUS_OK)
				continue;
			if (nids == cap) {
				cap = cap ? 2 * cap : 8192;
				if ((ids = realloc(ids, cap * sizeof(*ids))) ==
				    NULL)
					fail("out of memory");
			}
			ids[nids++] = pg->events[i].request_id;
		}
		free(cur);
		cur = NULL;
		curlen = 0;
		if (pg->cursor != NULL) {
			if ((cur = malloc(pg->cursorlen)) == NULL)
				fail("out of memory");
			memcpy(cur, pg->cursor, pg->cursorlen);
			curlen = pg->cursorlen;
		}
		privd_audit_page_free(&pg);
	} while (cur != NULL);
	qsort(ids, nids, sizeof(*ids), cmp_u64);

	{
		struct checker ck[NWRITERS];

		for (int i = 0; i < NWRITERS; i++) {
			ck[i] = (struct checker){.w = &writers[i],
			    .eps = eps,
			    .ids = ids,
			    .nids = nids};
			if (pthread_create(
			        &ck[i].th, NULL, check_writer, &ck[i]))
				fail("pthread_create");
		}
		for (int i = 0; i < NWRITERS; i++) {
			pthread_join(ck[i].th, NULL);
			total += writers[i].nacks;
		}
	}
	printf("cluster_privd: all %zu acknowledged puts read back with their "
	       "value and their one audit event (%zu OK put events in the "
	       "log; %.1f s)\n",
	    total, nids, (double)(now_ms() - t) / 1000);
	free(ids);
	{
		uint8_t pk[32];
		uint64_t bad = 0, checked = 0;
		char why[256] = "";

		t = now_ms();
		if ((rc = privd_audit_pubkey(a, pk)) != PRIVD_OK)
			fail("audit pubkey: %s", privd_strerror(rc));
		rc = privd_audit_verify(
		    a, 0, 0, pk, &bad, why, sizeof(why), &checked);
		if (rc != PRIVD_OK)
			fail("audit verify: %s (event %" PRIu64 "): %s",
			    privd_strerror(rc), bad, why);
		printf("cluster_privd: audit verify passes: %" PRIu64
		       " events (%.1f s)\n",
		    checked, (double)(now_ms() - t) / 1000);
	}
	privd_close(&a);
}

static void
path_of(char *buf, size_t len, const char *rel)
{
	if ((size_t)snprintf(buf, len, "%s/%s", cluster_dir, rel) >= len)
		fail("CLUSTER_DIR is too long");
}

int
main(void)
{
	const char *b = getenv("CLUSTER_PORT_BASE"),
	           *rs = getenv("PRIVD_CLUSTER_TEST_ROUNDS");
	char node2[64], member[64], pidpath[4096], line[256];
	uint64_t failed0[NSTATUS], t0, t1;
	int base, rounds = rs && *rs ? atoi(rs) : 5;
	long pid;
	FILE *f;

	cluster_sh = getenv("PRIVD_CLUSTER_SH");
	cluster_dir = getenv("CLUSTER_DIR");
	if (cluster_sh == NULL || cluster_dir == NULL || b == NULL)
		fail("run by test_cluster_privd.sh (PRIVD_CLUSTER_SH, "
		     "CLUSTER_DIR "
		     "and CLUSTER_PORT_BASE unset)");
	if (rounds < 1)
		fail("PRIVD_CLUSTER_TEST_ROUNDS: a number, 1 or more");
	base = atoi(b);
	snprintf(endpoints, sizeof(endpoints),
	    "tcp://127.0.0.1:%d,tcp://127.0.0.1:%d", base + 41, base + 42);
	snprintf(node2, sizeof(node2), "tcp://127.0.0.1:%d", base + 42);
	path_of(server_key, sizeof(server_key), "privd1/server.pub");
	path_of(crm_key, sizeof(crm_key), "privd/keys/crm.key");
	path_of(auditor_key, sizeof(auditor_key), "privd/keys/auditor.key");
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);

	for (int i = 0; i < NWRITERS; i++) {
		writers[i].id = i + 1;
		writers[i].c = connect_as(crm_key, endpoints);
		atomic_store(&writers[i].mark_ms, UINT64_MAX);
		if (pthread_create(
		        &writers[i].th, NULL, writer_main, &writers[i]))
			fail("pthread_create");
	}
	printf("cluster_privd: %d writers on %s, %d rounds\n", NWRITERS,
	    endpoints, rounds);

	for (int r = 1; r <= rounds; r++) {
		char what[32];

		snprintf(what, sizeof(what), "round %d", r);
		wait_ready(r);
		wait_acks(100, what);
		if (cluster("primary", line, sizeof(line)) != 0 ||
		    sscanf(line, "%63s %ld", member, &pid) != 2 || pid <= 1)
			fail("%s: cluster.sh primary: %s", what, line);
		failed_snapshot(failed0);
		t0 = now_ms();
		mark_all(t0);
		if (kill((pid_t)pid, SIGKILL) != 0)
			fail("%s: kill -9 %s's postmaster: %s", what, member,
			    strerror(errno));
		t1 = wait_resumed(false, 120, what);
		wait_acks(100, what);
		printf(
		    "cluster_privd: round %d: killed %s's postmaster (kill "
		    "-9); writes unavailable for %.1f s (the longest stretch "
		    "without an acknowledged put); the first put sent after "
		    "the kill was acknowledged %.1f s after it\n",
		    r, member, (double)atomic_load(&max_gap_ms) / 1000,
		    (double)(t1 - t0) / 1000);
		print_failed(what, failed0);
	}

	/* a privd node dies: the writers go on through the other */
	wait_ready(rounds + 1);
	path_of(pidpath, sizeof(pidpath), "privd1/pid");
	if ((f = fopen(pidpath, "r")) == NULL ||
	    fgets(line, sizeof(line), f) == NULL || (pid = atol(line)) <= 1)
		fail("no pid in %s", pidpath);
	fclose(f);
	failed_snapshot(failed0);
	t0 = now_ms();
	mark_all(t0);
	if (kill((pid_t)pid, SIGKILL) != 0)
		fail("kill -9 privd1: %s", strerror(errno));
	t1 = wait_resumed(true, 60, "privd1 killed");
	printf("cluster_privd: killed privd node 1 (kill -9); every writer had "
	       "a put acknowledged through node 2 within %.1f s\n",
	    (double)(t1 - t0) / 1000);
	wait_acks(100, "privd1 killed");
	print_failed("privd1 killed", failed0);
	for (int i = 0; i < NWRITERS; i++)
		if (strcmp(privd_endpoint(writers[i].c), node2) != 0)
			fail("writer %d is not on node 2", i + 1);

	atomic_store(&stop, true);
	for (int i = 0; i < NWRITERS; i++) {
		pthread_join(writers[i].th, NULL);
		privd_close(&writers[i].c);
	}
	check_acks(endpoints);
	for (int i = 0; i < NWRITERS; i++)
		free(writers[i].acks);
	printf("cluster_privd: PASS\n");
	return 0;
}
