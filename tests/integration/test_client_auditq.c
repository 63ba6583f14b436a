/*
 * test_client_auditq.c - what privd's audit queries answer, as libprivd and
 * privctl present it (issue 7):
 * - not_ops (--not-op) leaves operations out, request_id (--request-id)
 *   asks for one request's events;
 * - a stored event that privd cannot decode is reported as damaged, with
 *   its seq, in every answer whose range holds it, whatever the other
 *   criteria: libprivd keeps it in the page (damaged = 1) instead of failing
 *   the page, privd_audit_verify() says "event N is damaged" at its seq,
 *   and privctl prints it as such and exits 7.
 * The event is damaged by writing undecodable bytes into its record with
 * LMDB directly while privd is stopped.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <lmdb.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define CUST "customers"
#define INV  "invoicing"

static const char POLICY[] =
    H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RWD
    ",\n" H_POL_AUDITOR H_POL_END;

static int
setup(void **state)
{
	static const char *const keys[] = {"svc", "auditor"};

	return h_setup(state, keys, 2, POLICY, NULL);
}

static void
get1(privd_client *c, const char *subject)
{
	privd_record *r = NULL;

	expect_rc(
	    c, privd_get(c, CUST, subject, INV, NULL, 0, &r), PRIVD_OK, "get");
	privd_record_free(&r);
}

/* ---- not_ops and request_id -------------------------------------------- */

static void
test_not_ops_and_request_id(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f = {0};
	uint64_t mark, put_id;
	evlist all, l;
	size_t i, want;

	mark = head(a);
	put_name(svc, "nq-1", "Not Query");
	put_id = privd_last_request_id(svc);
	get1(svc, "nq-1");
	(void)head(a); /* an audit_query in between */
	put_name(svc, "nq-2", "Not Query Two");

	/* the brute-force answer: every event after the mark */
	f.from_seq = mark + 1;
	collect(a, &f, &all);

	/* not_ops leaves out exactly those operations */
	f.not_ops = (const char *const[]){"audit_query", "get"};
	f.nnot_ops = 2;
	collect(a, &f, &l);
	for (i = 0, want = 0; i < all.n; i++)
		if (strcmp(all.ev[i]->op, "audit_query") != 0 &&
		    strcmp(all.ev[i]->op, "get") != 0) {
			assert_true(want < l.n);
			assert_int_equal(l.ev[want]->seq, all.ev[i]->seq);
			want++;
		}
	assert_int_equal(l.n, want);
	assert_int_equal(want, 2); /* the two puts */
	evlist_free(&l);

	/* request_id: that request's event alone */
	memset(&f, 0, sizeof(f));
	f.request_id = put_id;
	collect(a, &f, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0]->op, "put");
	assert_int_equal(l.ev[0]->request_id, put_id);
	evlist_free(&l);

	/* ops and not_ops together: both hold */
	memset(&f, 0, sizeof(f));
	f.from_seq = mark + 1;
	f.ops = (const char *const[]){"put", "get"};
	f.nops = 2;
	f.not_ops = (const char *const[]){"get"};
	f.nnot_ops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ev[0]->op, "put");
	assert_string_equal(l.ev[1]->op, "put");
	evlist_free(&l);

	/* an operation privd does not record: INVALID, not an empty page */
	memset(&f, 0, sizeof(f));
	f.not_ops = (const char *const[]){"frobnicate"};
	f.nnot_ops = 1;
	{
		privd_audit_page *pg = NULL;

		expect_rc(a, privd_audit_query(a, &f, NULL, 0, &pg),
		    PRIVD_EINVAL, "unknown not_op");
		assert_null(pg);
	}
	evlist_free(&all);
	privd_close(&svc);
	privd_close(&a);
}

static void
test_privctl_query_not_op_request_id(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	h_result *r = malloc(sizeof(*r));
	char rid[32], want[64];

	assert_non_null(r);
	put_name(svc, "cq-1", "Cli Query");
	snprintf(rid, sizeof(rid), "%llu",
	    (unsigned long long)privd_last_request_id(svc));
	get1(svc, "cq-1");

	/* --not-op, repeatable, with --json: no line of those operations */
	privctl_expect(h, "auditor",
	    (const char *[]){"--json", "audit", "query", "--since", "0",
	        "--not-op", "audit_query", "--not-op", "get", NULL},
	    r, 0, "query --not-op");
	assert_null(strstr(r->out, "\"op\":\"audit_query\""));
	assert_null(strstr(r->out, "\"op\":\"get\""));
	assert_non_null(strstr(r->out, "\"op\":\"put\""));

	/* --request-id: that request alone */
	privctl_expect(h, "auditor",
	    (const char *[]){
	        "--json", "audit", "query", "--request-id", rid, NULL},
	    r, 0, "query --request-id");
	snprintf(want, sizeof(want), "\"request_id\":\"%s\"", rid);
	assert_non_null(strstr(r->out, want));
	assert_non_null(strstr(r->out, "\"op\":\"put\""));
	assert_int_equal(strchr(r->out, '\n') - r->out + 1, strlen(r->out));

	/* --op and --not-op together: both hold, so nothing here */
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--from-seq", NULL}, r, 2,
	    "query --from-seq (no such option)");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--since", "0", "--op", "put",
	        "--op", "get", "--not-op", "put", "--not-op", "get", NULL},
	    r, 0, "query --op X --not-op X");
	assert_string_equal(r->out, "");
	free(r);
	privd_close(&svc);
	privd_close(&a);
}

/* ---- damaged events ------------------------------------------------- */

#define NPUTS 10

/* What the damaged record holds after its hash: not a decodable event
 * (field 0x1fffffff with wire type 7). */
static const uint8_t garbage[] = {0xff, 0xff, 0xff, 0xff, 0x0f};

/*
 * NPUTS puts by svc; then, privd stopped, the record of the middle put
 * keeps its stored hash but its event becomes garbage; privd starts again.
 * Returns that put's seq; *hash receives the stored hash, pk the signing
 * key.
 */
static uint64_t
damage_one(harness *h, uint8_t hash[32], uint8_t pk[32])
{
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f = {0};
	evlist l;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	uint8_t kb[8], rec[32 + sizeof(garbage)];
	uint64_t seq, s;
	char subj[16];
	size_t i;
	int st;

	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	for (i = 0; i < NPUTS; i++) {
		snprintf(subj, sizeof(subj), "d-%zu", i);
		put_name(svc, subj, "Damage Target");
	}
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, NPUTS);
	seq = l.ev[NPUTS / 2]->seq; /* subject d-5 */
	evlist_free(&l);
	privd_close(&svc);
	privd_close(&a);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, &st), 0);

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(env, 256u << 20), 0);
	assert_int_equal(mdb_env_open(env, h->data_dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "audit", 0, &dbi), 0);
	for (s = seq, i = 8; i-- > 0; s >>= 8)
		kb[i] = (uint8_t)s;
	k = (MDB_val){8, kb};
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_true(v.mv_size > 32);
	memcpy(hash, v.mv_data, 32);
	memcpy(rec, hash, 32);
	memcpy(rec + 32, garbage, sizeof(garbage));
	v = (MDB_val){sizeof(rec), rec};
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(h_start(h, NULL), 0);
	return seq;
}

/* In l, the event at seq is damaged as damage_one() left it; all others
 * are whole. Returns 1 if l holds it. */
static int
has_damaged(const evlist *l, uint64_t seq)
{
	size_t i;
	int found = 0;

	for (i = 0; i < l->n; i++) {
		if (l->ev[i]->seq != seq) {
			assert_int_equal(l->ev[i]->damaged, 0);
			continue;
		}
		assert_int_equal(l->ev[i]->damaged, 1);
		assert_string_equal(l->ev[i]->op, "");
		assert_string_equal(l->ev[i]->principal, "");
		assert_int_equal(l->ev[i]->nfields, 0);
		found = 1;
	}
	return found;
}

static void
test_damaged_event_in_every_answer(void **state)
{
	harness *h = *state;
	uint8_t hash[32], pk[32];
	uint64_t k = damage_one(h, hash, pk);
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};
	privd_audit_page *pg = NULL;
	evlist l;
	size_t i, n;

	/* the page that holds it keeps its bytes and hash */
	f.from_seq = k;
	f.to_seq = k;
	expect_rc(a, privd_audit_query(a, &f, NULL, 0, &pg), PRIVD_OK,
	    "the damaged event alone");
	assert_int_equal(pg->n, 1);
	assert_int_equal(pg->events[0].seq, k);
	assert_int_equal(pg->events[0].damaged, 1);
	assert_int_equal(pg->events[0].rawlen, sizeof(garbage));
	assert_memory_equal(pg->events[0].raw, garbage, sizeof(garbage));
	assert_memory_equal(pg->events[0].hash, hash, 32);
	privd_audit_page_free(&pg);

	/* every event, and every criterion privd cannot judge it by (the
	 * damaged event is the put of subject d-5, by svc) */
	memset(&f, 0, sizeof(f));
	collect(a, &f, &l);
	assert_true(has_damaged(&l, k));
	for (i = 1; i < l.n; i++)
		assert_int_equal(l.ev[i]->seq, l.ev[i - 1]->seq + 1);
	evlist_free(&l);
	f.principal = "svc";
	collect(a, &f, &l);
	assert_true(has_damaged(&l, k));
	for (i = 0, n = 0; i < l.n; i++)
		n += strcmp(l.ev[i]->op, "put") == 0;
	assert_int_equal(n, NPUTS - 1); /* and the damaged one */
	evlist_free(&l);
	memset(&f, 0, sizeof(f));
	f.ops = (const char *const[]){"get"};
	f.nops = 1;
	collect(a, &f, &l);
	assert_true(has_damaged(&l, k));
	evlist_free(&l);
	/* the subject plan walks that subject's index entries: its own
	 * damaged event is among them */
	memset(&f, 0, sizeof(f));
	f.subject = "d-5";
	collect(a, &f, &l);
	assert_true(has_damaged(&l, k));
	evlist_free(&l);
	memset(&f, 0, sizeof(f));
	f.newest_first = 1;
	collect(a, &f, &l);
	assert_true(has_damaged(&l, k));
	evlist_free(&l);
	/* a range without it does not have it */
	memset(&f, 0, sizeof(f));
	f.to_seq = k - 1;
	collect(a, &f, &l);
	assert_false(has_damaged(&l, k));
	evlist_free(&l);
	privd_close(&a);
}

static void
test_damaged_event_fails_verify_at_its_seq(void **state)
{
	harness *h = *state;
	uint8_t hash[32], pk[32];
	uint64_t k = damage_one(h, hash, pk), bad = 0, checked = 0;
	privd_client *a = client(h, "auditor");
	char why[200], want[96];

	expect_rc(a,
	    privd_audit_verify(a, 0, 0, pk, &bad, why, sizeof(why), &checked),
	    PRIVD_ETAMPERED, "verify");
	assert_int_equal(bad, k);
	snprintf(want, sizeof(want),
	    "event %llu is damaged (it cannot be "
	    "decoded)",
	    (unsigned long long)k);
	assert_string_equal(why, want);
	assert_int_equal(checked, k - 1);
	/* up to the event before it, the log verifies */
	expect_rc(a,
	    privd_audit_verify(a, 1, k - 1, pk, &bad, why, sizeof(why), NULL),
	    PRIVD_OK, "verify before");
	/* a range after it starts from its hash: not vouched for */
	expect_rc(a,
	    privd_audit_verify(
	        a, k + 1, k + 2, pk, &bad, why, sizeof(why), NULL),
	    PRIVD_ETAMPERED, "verify after");
	assert_int_equal(bad, k);
	assert_non_null(strstr(why, "damaged"));
	privd_close(&a);
}

static void
test_privctl_shows_damaged_and_exits_7(void **state)
{
	harness *h = *state;
	uint8_t hash[32], pk[32];
	uint64_t k = damage_one(h, hash, pk);
	h_result *r = malloc(sizeof(*r));
	char line[96], json[96], verify[128];

	assert_non_null(r);
	snprintf(line, sizeof(line),
	    "\n%llu damaged: privd cannot decode this stored event\n",
	    (unsigned long long)k);
	snprintf(json, sizeof(json), "{\"seq\":%llu,\"damaged\":true}\n",
	    (unsigned long long)k);
	snprintf(verify, sizeof(verify),
	    "audit log does NOT verify at event %llu: event %llu is damaged",
	    (unsigned long long)k, (unsigned long long)k);

	privctl_expect(h, "auditor", (const char *[]){"audit", "query", NULL},
	    r, 7, "query");
	assert_non_null(strstr(r->out, line));
	assert_non_null(strstr(r->err, "1 damaged event"));
	/* every other event is printed too, after it */
	assert_non_null(strstr(strstr(r->out, line), " svc put customers "));

	privctl_expect(h, "auditor",
	    (const char *[]){
	        "--json", "audit", "query", "--principal", "svc", NULL},
	    r, 7, "query --json --principal");
	assert_non_null(strstr(r->out, json));

	privctl_expect(h, "auditor", (const char *[]){"audit", "export", NULL},
	    r, 7, "export");
	assert_non_null(strstr(r->out, json));

	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "tail", "-n", "1000", NULL}, r, 7,
	    "tail");
	assert_non_null(strstr(r->out, line));

	privctl_expect(h, "auditor", (const char *[]){"audit", "verify", NULL},
	    r, 7, "verify");
	assert_non_null(strstr(r->out, verify));

	/* a range without it: exit 0 */
	snprintf(line, sizeof(line), "%llu", (unsigned long long)k - 1);
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "export", "--to", line, NULL}, r, 0,
	    "export before it");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_not_ops_and_request_id, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_query_not_op_request_id, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_damaged_event_in_every_answer, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_damaged_event_fails_verify_at_its_seq, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_shows_damaged_and_exits_7, setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/client_auditq", tests, NULL, NULL);
}
