/*
 * test_deadline.c - requests carry their deadline (proto: Request.
 * deadline_ms), and privd never carries a request out after it: it answers
 * EXPIRED, with an audit event, and the request has no effect.
 *
 * - A put sent to a node that then hangs (SIGSTOP) ends PRIVD_EINDOUBT on
 *   a handle with two endpoints; a newer value is written; the hung node
 *   wakes after the put's deadline: the old value is not applied, the
 *   newer one stays, the audit log holds the put's "expired" event and
 *   verifies. On the test setup pg the two nodes share one store (node
 *   B's data directory is a copy of A's, whose DIR/store names the same
 *   database), so the newer value goes through B, as an application that
 *   redoes an in-doubt change elsewhere would; on LMDB each node has its
 *   own store, so it is written on A once A is back (after the stale put,
 *   which A takes first).
 * - On PostgreSQL, a put that reaches privd in time but whose transaction
 *   can begin only after its deadline (the test holds the writers' lock
 *   meanwhile, as a stalled node would) is answered EXPIRED by the
 *   writer, not applied, and its event names the subject.
 * - Raw requests (h_dealer_call): a deadline already past is answered
 *   EXPIRED, not applied, audited (a put and a get); deadline 0 (none),
 *   one far in the future and UINT64_MAX are served as usual;
 *   --deadline-grace stretches every deadline.
 *
 * Nothing is timed for pass or fail: waits poll with a bound.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#if __has_include(<libpq-fe.h>)
#include <libpq-fe.h>
#define HAVE_LIBPQ 1
/* daemon/store_pg.h: the writers' lock, pg_advisory_xact_lock */
#define WRITERS_LOCK 0x7072697664000001LL
#endif

#define REG     "customers"
#define PURPOSE "invoicing"
/* The two-endpoint handle's timeout: A's attempt gets half of it. */
#define TIMEOUT_MS 2000
/* A woken node has taken its stale request by then (a bound, not a
 * measure: the wait polls the audit log). */
#define WAKE_WAIT_MS 20000

#define POLICY                                                                 \
	H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RW         \
	    ",\n" H_POL_AUDITOR H_POL_END

struct pair {
	harness *a, *b;
	char list[2 * H_PATH_MAX + 2]; /* "A,B" */
};

static int
setup_pair(void **state)
{
	static const char *const keys[] = {"svc", "auditor"};
	struct pair *p = calloc(1, sizeof(*p));
	size_t i;

	if (p == NULL || (p->a = h_new()) == NULL || (p->b = h_new()) == NULL)
		goto bad;
	for (i = 0; i < 2; i++)
		if (h_key_new(p->a, keys[i]) == NULL)
			goto bad;
	if (h_policy_write(p->a, POLICY) != 0 || h_init(p->a, NULL) != 0)
		goto bad;
	/* B: a copy of A's stopped directory (on PostgreSQL its DIR/store
	 * names the same database: one store, two nodes), A's keys */
	if (h_node_copy(p->a, p->b) != 0)
		goto bad;
	if (h_start(p->a, NULL) != 0 || h_start(p->b, NULL) != 0)
		goto bad;
	snprintf(
	    p->list, sizeof(p->list), "%s,%s", p->a->endpoint, p->b->endpoint);
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
teardown_pair(void **state)
{
	struct pair *p = *state;

	if (p == NULL)
		return 0;
	/* a stopped node would only die of h_stop's SIGKILL, late */
	if (p->a->pid > 0)
		kill(p->a->pid, SIGCONT);
	if (p->b->pid > 0)
		kill(p->b->pid, SIGCONT);
	h_teardown((void **)&p->a);
	h_teardown((void **)&p->b);
	free(p);
	*state = NULL;
	return 0;
}

/* The wall clock in milliseconds since the epoch, as a client sends it. */
static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
get_name_ok(privd_client *c, const char *subject, const char *name)
{
	privd_record *rec = get_ok(c, subject, NULL, 0);

	assert_field_str(rec, "name", name);
	privd_record_free(&rec);
}

/*
 * Poll h's audit log (as auditor) until the event of request id rid is
 * there; return its status (-1 if it never came).
 */
static int
wait_event_of(harness *h, uint64_t rid, int timeout_ms)
{
	privd_client *aud = client(h, "auditor");
	privd_audit_filter f = {.request_id = rid};
	int64_t until = h_now_ms() + timeout_ms;
	evlist l = {0};
	int status = -1;

	for (;;) {
		collect(aud, &f, &l);
		if (l.n > 0) {
			status = l.ev[l.n - 1]->status;
			printf("# event of request %llu: %s\n",
			    (unsigned long long)rid, ev_str(l.ev[l.n - 1]));
			break;
		}
		evlist_free(&l);
		if (h_now_ms() >= until)
			break;
		h_sleep_ms(100);
	}
	evlist_free(&l);
	privd_close(&aud);
	return status;
}

static void
verify_log(harness *h)
{
	privd_client *aud = client(h, "auditor");
	uint64_t checked = 0;

	audit_verify_ok(aud, NULL, &checked);
	printf("# audit verify on %s: %llu events\n", h->endpoint,
	    (unsigned long long)checked);
	privd_close(&aud);
}

/*
 * The case. A put sent to A, which hangs before answering, is
 * in doubt; a newer value is written; A wakes long after the put's
 * deadline: it does not apply the old put (EXPIRED, audited), and the
 * newer value stays.
 */
static void
test_hung_node_put_expires(void **state)
{
	struct pair *p = *state;
	const h_key *k = h_key_get(p->a, "svc");
	privd_client *c = NULL, *ca, *cb;
	privd_field f = h_field("name", "Old");
	uint64_t rid;
	int rc;

	ca = client(p->a, "svc");
	put_name(ca, "d-1", "Original");
	if (h_store_pg()) {
		/* one store: B sees it */
		cb = client(p->b, "svc");
		get_name_ok(cb, "d-1", "Original");
	} else {
		cb = client(p->b, "svc");
		put_name(cb, "d-1", "Original");
	}

	rc = privd_connect(&c, p->list, p->a->server_key, k->pub, k->sec);
	assert_int_equal(rc, PRIVD_OK);
	expect_rc(c, privd_set_timeout(c, TIMEOUT_MS), PRIVD_OK, "timeout");
	/* connected to A (a request sent, not one still waiting for its
	 * handshake) before A hangs */
	expect_rc(c, privd_ping(c, NULL), PRIVD_OK, "ping A");
	assert_string_equal(privd_endpoint(c), p->a->endpoint);

	assert_int_equal(kill(p->a->pid, SIGSTOP), 0);
	rc = privd_put(c, REG, "d-1", PURPOSE, &f, 1);
	rid = privd_last_request_id(c);
	expect_rc(c, rc, PRIVD_EINDOUBT, "put in flight on a hung node");
	printf("# in doubt: %s\n", privd_errmsg(c));

	/* the application redoes it, newer, through the other node */
	if (h_store_pg())
		put_name(cb, "d-1", "Newer");

	/* A wakes up after the put's deadline (the call ended at it) */
	assert_int_equal(kill(p->a->pid, SIGCONT), 0);
	rc = wait_event_of(p->a, rid, WAKE_WAIT_MS);
	if (rc != PRIVD_AUDIT_STATUS_EXPIRED)
		fail_msg("the stale put's event on A has status %s, not "
		         "expired",
		    rc < 0 ? "(none)" : privd_audit_status_name(rc));

	if (h_store_pg()) {
		/* the newer value stayed, on both nodes */
		get_name_ok(ca, "d-1", "Newer");
		get_name_ok(cb, "d-1", "Newer");
	} else {
		/* A's own store kept its old value; now the newer one */
		get_name_ok(ca, "d-1", "Original");
		put_name(ca, "d-1", "Newer");
		get_name_ok(ca, "d-1", "Newer");
	}
	verify_log(p->a);
	privd_close(&c);
	privd_close(&ca);
	privd_close(&cb);
}

/* ---- raw requests ----------------------------------------------------- */

/* A put of subject's name, carrying deadline; the answer's status. */
static int
raw_put(harness *h, const char *subject, const char *name, uint64_t deadline,
    uint64_t *rid)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__Field fl = PRIVD__V1__FIELD__INIT, *fp = &fl;
	Privd__V1__Response *resp;
	int status;

	fl.name = "name";
	fl.value.data = (uint8_t *)name;
	fl.value.len = strlen(name);
	put.register_ = REG;
	put.subject = (char *)subject;
	put.fields = &fp;
	put.n_fields = 1;
	req.purpose = PURPOSE;
	req.deadline_ms = deadline;
	req.op_case = PRIVD__V1__REQUEST__OP_PUT;
	req.put = &put;
	resp = raw_call(h, "svc", &req);
	*rid = req.request_id;
	status = resp->status;
	if (status == PRIVD__V1__STATUS__EXPIRED)
		printf("# expired: %s\n", resp->message);
	privd__v1__response__free_unpacked(resp, NULL);
	return status;
}

static int
raw_get(harness *h, const char *subject, uint64_t deadline, uint64_t *rid)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__GetRequest get = PRIVD__V1__GET_REQUEST__INIT;
	Privd__V1__Response *resp;
	int status;

	get.register_ = REG;
	get.subject = (char *)subject;
	req.purpose = PURPOSE;
	req.deadline_ms = deadline;
	req.op_case = PRIVD__V1__REQUEST__OP_GET;
	req.get = &get;
	resp = raw_call(h, "svc", &req);
	*rid = req.request_id;
	status = resp->status;
	/* an expired read discloses nothing */
	if (status == PRIVD__V1__STATUS__EXPIRED)
		assert_int_equal(
		    resp->payload_case, PRIVD__V1__RESPONSE__PAYLOAD__NOT_SET);
	privd__v1__response__free_unpacked(resp, NULL);
	return status;
}

/* The event of request rid: status expired, decision rejected. */
static void
expect_expired_event(harness *h, uint64_t rid, const char *op)
{
	privd_client *aud = client(h, "auditor");
	privd_audit_filter f = {.request_id = rid};
	evlist l = {0};

	collect(aud, &f, &l);
	if (l.n != 1)
		fail_msg("request %llu: %zu events, not 1",
		    (unsigned long long)rid, l.n);
	assert_string_equal(l.ev[0]->op, op);
	assert_int_equal(l.ev[0]->status, PRIVD_AUDIT_STATUS_EXPIRED);
	assert_int_equal(l.ev[0]->decision, PRIVD_DECISION_REJECTED);
	/* refused on arrival, before anything was decided: the event
	 * names no register, subject or field */
	assert_int_equal(l.ev[0]->nfields, 0);
	assert_int_equal(l.ev[0]->has_subject, 0);
	evlist_free(&l);
	privd_close(&aud);
}

static void
test_past_deadline_is_expired(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_record *rec = NULL;
	uint64_t rid;

	/* a put a second late: not applied, answered EXPIRED, audited */
	assert_int_equal(raw_put(h, "e-1", "Late", wall_ms() - 1000, &rid),
	    PRIVD__V1__STATUS__EXPIRED);
	expect_expired_event(h, rid, "put");
	expect_rc(c, privd_get(c, REG, "e-1", PURPOSE, NULL, 0, &rec),
	    PRIVD_ENOTFOUND, "the expired put's subject");

	/* one long past (1 ms after the epoch): the same */
	assert_int_equal(
	    raw_put(h, "e-1", "Late", 1, &rid), PRIVD__V1__STATUS__EXPIRED);
	expect_expired_event(h, rid, "put");

	/* a late read is answered EXPIRED too, and discloses nothing */
	put_name(c, "e-2", "Stored");
	assert_int_equal(raw_get(h, "e-2", wall_ms() - 1000, &rid),
	    PRIVD__V1__STATUS__EXPIRED);
	expect_expired_event(h, rid, "get");
	verify_log(h);
	privd_close(&c);
}

static void
test_deadline_inputs(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	uint64_t rid;

	/* 0: no deadline (what an old client sends) */
	assert_int_equal(
	    raw_put(h, "i-1", "None", 0, &rid), PRIVD__V1__STATUS__OK);
	get_name_ok(c, "i-1", "None");
	/* ten years ahead */
	assert_int_equal(raw_put(h, "i-1", "Far",
	                     wall_ms() + 10ULL * 365 * 86400 * 1000, &rid),
	    PRIVD__V1__STATUS__OK);
	get_name_ok(c, "i-1", "Far");
	/* the largest value: no overflow into the past */
	assert_int_equal(
	    raw_put(h, "i-1", "Max", UINT64_MAX, &rid), PRIVD__V1__STATUS__OK);
	get_name_ok(c, "i-1", "Max");
	assert_int_equal(raw_put(h, "i-1", "Max-1000", UINT64_MAX / 1000, &rid),
	    PRIVD__V1__STATUS__OK);
	get_name_ok(c, "i-1", "Max-1000");
	assert_int_equal(
	    raw_get(h, "i-1", UINT64_MAX, &rid), PRIVD__V1__STATUS__OK);
	/* libprivd's own calls carry a deadline and go through */
	put_name(c, "i-2", "Client");
	get_name_ok(c, "i-2", "Client");
	verify_log(h);
	privd_close(&c);
}

/* A wire Request putting subject's name, with deadline; packed into a
 * malloc'd buffer (*len bytes). */
static uint8_t *
pack_put(const char *subject, const char *name, uint64_t deadline, uint64_t rid,
    size_t *len)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__Field fl = PRIVD__V1__FIELD__INIT, *fp = &fl;
	uint8_t *buf;

	fl.name = "name";
	fl.value.data = (uint8_t *)name;
	fl.value.len = strlen(name);
	put.register_ = REG;
	put.subject = (char *)subject;
	put.fields = &fp;
	put.n_fields = 1;
	req.request_id = rid;
	req.purpose = PURPOSE;
	req.deadline_ms = deadline;
	req.op_case = PRIVD__V1__REQUEST__OP_PUT;
	req.put = &put;
	*len = privd__v1__request__get_packed_size(&req);
	assert_non_null(buf = malloc(*len));
	privd__v1__request__pack(&req, buf);
	return buf;
}

/*
 * The writer's check: the put arrives well within its deadline, but the
 * writers' lock is held (by this test, as another node stalled inside its
 * transaction would) until the deadline has passed. The writer then
 * expires it instead of applying it.
 */
static void
test_writer_expires_late_change(void **state)
{
#ifdef HAVE_LIBPQ
	harness *h = *state;
	privd_client *c, *aud;
	privd_audit_filter f = {0};
	const uint64_t rid = 0x0dead11e;
	uint64_t deadline;
	h_dealer d;
	PGconn *pc;
	PGresult *r;
	Privd__V1__Response *resp;
	const void *parts[1];
	uint8_t *buf, *reply;
	size_t len, n, frames;
	char sql[96];
	evlist l = {0};

	if (!h_store_pg()) {
		printf("# skipped: it holds PostgreSQL's writers' lock (run "
		       "it with meson test --setup pg)\n");
		skip();
	}
	c = client(h, "svc");
	put_name(c, "w-1", "Original");
	pc = PQconnectdb(h->store_spec);
	if (PQstatus(pc) != CONNECTION_OK)
		fail_msg("cannot connect to the store: %s", PQerrorMessage(pc));
	snprintf(sql, sizeof(sql), "BEGIN; SELECT pg_advisory_xact_lock(%lld)",
	    WRITERS_LOCK);
	r = PQexec(pc, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	PQclear(r);

	/* three seconds: arrival (decode) finds it in time, even on a
	 * slow machine */
	deadline = wall_ms() + 3000;
	buf = pack_put("w-1", "Stale", deadline, rid, &len);
	assert_int_equal(h_dealer_open(h, "svc", NULL, false, &d), 0);
	parts[0] = buf;
	assert_int_equal(h_dealer_send(&d, parts, &len, 1), 0);
	free(buf);
	/* the deadline passes while the writer waits for the lock */
	while (wall_ms() <= deadline + 200)
		h_sleep_ms(100);
	r = PQexec(pc, "COMMIT");
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(pc);

	assert_int_equal(
	    h_dealer_recv(&d, RAW_CALL_TIMEOUT_MS, &reply, &n, &frames), 0);
	assert_non_null(resp = privd__v1__response__unpack(NULL, n, reply));
	free(reply);
	assert_int_equal(resp->request_id, rid);
	assert_int_equal(resp->status, PRIVD__V1__STATUS__EXPIRED);
	privd__v1__response__free_unpacked(resp, NULL);
	h_dealer_close(&d);
	get_name_ok(c, "w-1", "Original");

	/* decided, then expired by the writer: the event names the
	 * subject and the field asked for */
	aud = client(h, "auditor");
	f.request_id = rid;
	collect(aud, &f, &l);
	assert_int_equal(l.n, 1);
	printf("# %s\n", ev_str(l.ev[0]));
	assert_int_equal(l.ev[0]->status, PRIVD_AUDIT_STATUS_EXPIRED);
	assert_int_equal(l.ev[0]->has_subject, 1);
	assert_int_equal(l.ev[0]->nfields, 1);
	evlist_free(&l);
	privd_close(&aud);
	verify_log(h);
	privd_close(&c);
#else
	(void)state;
	printf("# skipped: built without libpq\n");
	skip();
#endif
}

static int
setup_one(void **state)
{
	static const char *const keys[] = {"svc", "auditor"};

	return h_setup(state, keys, 2, POLICY, NULL);
}

/* privd serve --deadline-grace 60000: a minute's allowance */
static int
setup_grace(void **state)
{
	static const char *const keys[] = {"svc", "auditor"};
	static const char *const args[] = {"--deadline-grace", "60000", NULL};

	return h_setup(state, keys, 2, POLICY, args);
}

/* The grace stretches every deadline: a second late is in time, an hour
 * late is not. */
static void
test_grace(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	uint64_t rid;

	assert_int_equal(raw_put(h, "g-1", "Second", wall_ms() - 1000, &rid),
	    PRIVD__V1__STATUS__OK);
	get_name_ok(c, "g-1", "Second");
	assert_int_equal(
	    raw_put(h, "g-1", "Hour", wall_ms() - 3600 * 1000, &rid),
	    PRIVD__V1__STATUS__EXPIRED);
	expect_expired_event(h, rid, "put");
	get_name_ok(c, "g-1", "Second");
	privd_close(&c);
}

#define T1(fn) cmocka_unit_test_setup_teardown(fn, setup_one, h_teardown)
#define TG(fn) cmocka_unit_test_setup_teardown(fn, setup_grace, h_teardown)
#define T2(fn) cmocka_unit_test_setup_teardown(fn, setup_pair, teardown_pair)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T1(test_past_deadline_is_expired),
	    T1(test_deadline_inputs),
	    T1(test_writer_expires_late_change),
	    TG(test_grace),
	    T2(test_hung_node_put_expires),
	};

	return cmocka_run_group_tests_name(
	    "integration/deadline", tests, NULL, NULL);
}
