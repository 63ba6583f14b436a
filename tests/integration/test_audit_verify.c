/*
 * test_audit_verify.c - the audit log stays whole and provable: events
 * survive a SIGKILL; a changed, removed or reordered event is found by the
 * auditor's verifier (libprivd and privctl), and an untouched log verifies
 * across restarts; no subject id or value reaches the audit database;
 * pruning keeps the rest verifiable; an idle log's newest event is signed
 * within about a second.
 *
 * Tampering edits the store with LMDB directly while privd is stopped.
 * Each test has its own privd with the audit tests' policy
 * (audit_common.h).
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "audit_common.h"
#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

static const char POLICY_SHORT_RETENTION[] =
    POL_HEAD " \"audit\": {\"retention\": \"2 seconds\"},\n" POL_BODY;

/* The largest interval privd accepts: only the idle-time signer signs. */
static const char *const serve_args_no_count_ckpt[] = {
    "--audit-checkpoint-every", "1000000", NULL};

/* A store whose floor lets a policy keep the log 2 seconds, on the test
 * clock, so that time passes without waiting for it. */
static int
setup_short_retention(void **state)
{
	static const char *const names[] = {"svc", "auditor", "admin"};
	static const char *const init[] = {
	    "--audit-retention-min", "1 second", NULL};
	static const h_opts o = {.init_args = init, .test_clock = true};

	return h_setup_opt(state, names, sizeof(names) / sizeof(names[0]),
	    POLICY_SHORT_RETENTION, serve_args, &o);
}

static int
setup_no_count_ckpt(void **state)
{
	return setup_args(state, POLICY, serve_args_no_count_ckpt);
}

/* Restart privd with the audit options of these tests. */
static void
restart(harness *h)
{
	int st;

	if (h_stop(h, H_STOP_TIMEOUT_MS, &st) != 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		fail_msg("privd did not stop cleanly (wait status %d)", st);
	assert_int_equal(h_start(h, serve_args), 0);
}

/* ---- durability ---------------------------------------------------------- */

#define NDURABLE 50

static void
test_events_survive_sigkill(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f = {0};
	uint64_t ids[NDURABLE], checked = 0;
	uint8_t pk[32];
	char subj[32];
	evlist l;
	size_t i, k;

	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	for (i = 0; i < NDURABLE; i++) {
		snprintf(subj, sizeof(subj), "d-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Durable Person");
		ids[i] = privd_last_request_id(svc);
	}
	assert_int_equal(h_kill(h), 0);
	assert_int_equal(h_start(h, serve_args), 0);

	f.principal = "svc";
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, NDURABLE);
	for (i = 0; i < NDURABLE; i++) {
		for (k = 0; k < l.n && l.ev[k]->request_id != ids[i]; k++)
			;
		if (k == l.n)
			fail_msg("the event of put %zu was lost", i);
		assert_int_equal(l.ev[k]->status, S_OK);
	}
	evlist_free(&l);
	audit_verify_ok(a, pk, &checked);
	assert_true(checked >= NDURABLE);
	privd_close(&a);
	privd_close(&svc);
}

/* ---- tampering ------------------------------------------------------------
 */

#define NTAMPER 30

/* The store, opened directly (privd stopped). */
typedef struct rawdb {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi audit, ckpt;
} rawdb;

static void
raw_open(harness *h, rawdb *r, unsigned txnflags)
{
	assert_int_equal(mdb_env_create(&r->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(r->env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(r->env, 256u << 20), 0);
	assert_int_equal(mdb_env_open(r->env, h->data_dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(r->env, NULL, txnflags, &r->txn), 0);
	assert_int_equal(mdb_dbi_open(r->txn, "audit", 0, &r->audit), 0);
	assert_int_equal(mdb_dbi_open(r->txn, "audit_ckpt", 0, &r->ckpt), 0);
}

static void
raw_close(rawdb *r, int commit)
{
	if (commit)
		assert_int_equal(mdb_txn_commit(r->txn), 0);
	else
		mdb_txn_abort(r->txn);
	mdb_env_close(r->env);
}

static MDB_val
seq_key(uint8_t kb[8], uint64_t seq)
{
	MDB_val k = {8, kb};
	int i;

	for (i = 7; i >= 0; i--, seq >>= 8)
		kb[i] = (uint8_t)seq;
	return k;
}

static uint64_t
be64(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * A privd with NTAMPER puts by svc, stopped. Returns the seq of a put in
 * the middle (k, with k + 1 also a put) and the pinned signing key.
 */
static uint64_t
tamper_prepare(harness *h, uint8_t pk[32])
{
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f = {0};
	uint64_t k;
	char subj[32];
	evlist l;
	size_t i;
	int st;

	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	for (i = 0; i < NTAMPER; i++) {
		snprintf(subj, sizeof(subj), "t-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Tamper Target");
	}
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, NTAMPER);
	k = l.ev[NTAMPER / 2]->seq;
	assert_int_equal(l.ev[NTAMPER / 2 + 1]->seq, k + 1);
	evlist_free(&l);
	privd_close(&a);
	privd_close(&svc);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, &st), 0);
	return k;
}

static void
verify_tampered(harness *h, const uint8_t *pk, uint64_t k)
{
	privd_client *a = client(h, "auditor");
	char why[200] = "";
	uint64_t bad = 0, checked = 0;
	int rc;

	rc = privd_audit_verify(a, 0, 0, pk, &bad, why, sizeof(why), &checked);
	if (rc != PRIVD_ETAMPERED)
		fail_msg("verify: expected %s, got %s (%s)",
		    privd_strerror(PRIVD_ETAMPERED), privd_strerror(rc),
		    privd_errmsg(a));
	if (bad != k)
		fail_msg("verify reported event %llu (%s), expected %llu",
		    (unsigned long long)bad, why, (unsigned long long)k);
	assert_true(*why != '\0');
	assert_true(checked < k);
	/* a range that ends before the damage still verifies */
	rc = privd_audit_verify(a, 1, k - 1, pk, &bad, why, sizeof(why), NULL);
	expect_rc(a, rc, PRIVD_OK, "verify up to the event before");
	privd_close(&a);
}

static void
test_tamper_flipped_byte_detected(void **state)
{
	harness *h = *state;
	uint8_t pk[32], *buf;
	char hex[65], msg[64];
	const uint8_t *p;
	h_result *res = malloc(sizeof(*res));
	rawdb r;
	uint64_t k = tamper_prepare(h, pk);
	uint8_t kb[8];
	MDB_val key = seq_key(kb, k), v;
	size_t i;

	assert_non_null(res);
	raw_open(h, &r, 0);
	assert_int_equal(mdb_get(r.txn, r.audit, &key, &v), 0);
	/* change the principal "svc" inside the event into "svd": it still
	 * decodes, as the same seq, but its bytes are not those chained */
	assert_non_null(buf = malloc(v.mv_size));
	memcpy(buf, v.mv_data, v.mv_size);
	p = memmem(buf + 32, v.mv_size - 32, "svc", 3);
	assert_non_null(p);
	i = (size_t)(p - buf) + 2;
	buf[i] ^= 0x07;
	v.mv_data = buf;
	assert_int_equal(mdb_put(r.txn, r.audit, &key, &v, 0), 0);
	raw_close(&r, 1);
	free(buf);
	assert_int_equal(h_start(h, serve_args), 0);

	verify_tampered(h, pk, k);

	/* privctl says so too, exit 7 */
	sodium_bin2hex(hex, sizeof(hex), pk, 32);
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "verify", "--pubkey", hex, NULL}, res, 7,
	    "privctl audit verify");
	snprintf(msg, sizeof(msg),
	    "audit log does NOT verify at event %llu: ", (unsigned long long)k);
	assert_non_null(strstr(res->out, msg));
	free(res);
}

static void
test_tamper_deleted_event_detected(void **state)
{
	harness *h = *state;
	uint8_t pk[32], kb[8];
	uint64_t k = tamper_prepare(h, pk);
	MDB_val key = seq_key(kb, k);
	rawdb r;

	raw_open(h, &r, 0);
	assert_int_equal(mdb_del(r.txn, r.audit, &key, NULL), 0);
	raw_close(&r, 1);
	assert_int_equal(h_start(h, serve_args), 0);
	verify_tampered(h, pk, k);
}

static void
test_tamper_swapped_events_detected(void **state)
{
	harness *h = *state;
	uint8_t pk[32], kb[8], kb2[8], *ek, *ek1;
	uint64_t k = tamper_prepare(h, pk);
	MDB_val k1 = seq_key(kb, k), k2 = seq_key(kb2, k + 1), v, w;
	size_t nk, nk1;
	rawdb r;

	raw_open(h, &r, 0);
	assert_int_equal(mdb_get(r.txn, r.audit, &k1, &v), 0);
	nk = v.mv_size;
	assert_non_null(ek = malloc(nk));
	memcpy(ek, v.mv_data, nk);
	assert_int_equal(mdb_get(r.txn, r.audit, &k2, &v), 0);
	nk1 = v.mv_size;
	assert_non_null(ek1 = malloc(nk1));
	memcpy(ek1, v.mv_data, nk1);
	/* event k+1 (with its hash) under key k, event k under key k+1 */
	v.mv_size = nk1;
	v.mv_data = ek1;
	w.mv_size = nk;
	w.mv_data = ek;
	assert_int_equal(mdb_put(r.txn, r.audit, &k1, &v, 0), 0);
	assert_int_equal(mdb_put(r.txn, r.audit, &k2, &w, 0), 0);
	raw_close(&r, 1);
	free(ek);
	free(ek1);
	assert_int_equal(h_start(h, serve_args), 0);
	verify_tampered(h, pk, k);
}

static void
test_untouched_log_verifies_across_restarts(void **state)
{
	harness *h = *state;
	privd_client *a;
	privd_audit_checkpoint *ck = NULL;
	uint8_t pk[32];
	uint64_t checked = 0, first, last, head_seq, head_ckpt;
	size_t n, i;
	MDB_cursor *cur;
	MDB_val k, v;
	rawdb r;
	int found = 0;

	tamper_prepare(h, pk);
	/* the shutdown checkpoint covers the very last event */
	raw_open(h, &r, MDB_RDONLY);
	assert_int_equal(mdb_cursor_open(r.txn, r.audit, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0);
	head_seq = be64(k.mv_data);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_cursor_open(r.txn, r.ckpt, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0);
	head_ckpt = be64(k.mv_data);
	mdb_cursor_close(cur);
	raw_close(&r, 0);
	assert_int_equal(head_ckpt, head_seq);

	assert_int_equal(h_start(h, serve_args), 0);
	a = client(h, "auditor");
	audit_verify_ok(a, pk, &checked);
	assert_true(checked > head_seq);
	expect_rc(a,
	    privd_audit_checkpoints(
	        a, 0, 0, &ck, &n, &first, &last, NULL, NULL),
	    PRIVD_OK, "checkpoints");
	assert_int_equal(first, 1);
	assert_true(last > head_seq);
	assert_true(n >= NTAMPER / 5);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(ck[i].seq > ck[i - 1].seq);
		found |= ck[i].seq == head_seq;
	}
	assert_true(found);
	privd_free(ck);
	privd_close(&a);

	/* and again after another clean restart, and after a SIGKILL */
	restart(h);
	a = client(h, "auditor");
	audit_verify_ok(a, pk, NULL);
	privd_close(&a);
	assert_int_equal(h_kill(h), 0);
	assert_int_equal(h_start(h, serve_args), 0);
	a = client(h, "auditor");
	audit_verify_ok(a, pk, NULL);
	/* verifying against privd's own word for the key works too */
	audit_verify_ok(a, NULL, NULL);
	/* a range in the middle starts from the stored hash before it */
	expect_rc(a,
	    privd_audit_verify(
	        a, head_seq / 2, head_seq, pk, NULL, NULL, 0, &checked),
	    PRIVD_OK, "verify a range");
	assert_int_equal(checked, head_seq - head_seq / 2 + 1);
	/* a range after the newest event holds nothing to verify */
	expect_rc(a,
	    privd_audit_verify(a, 1000000, 0, pk, NULL, NULL, 0, &checked),
	    PRIVD_OK, "verify after the end");
	assert_int_equal(checked, 0);
	expect_rc(a, privd_audit_verify(a, 5, 4, pk, NULL, NULL, 0, NULL),
	    PRIVD_EINVAL, "verify an empty range");
	/* a wrong key fails at the first checkpoint */
	{
		uint8_t wrong[32];
		uint64_t bad = 0;
		char why[200];

		memcpy(wrong, pk, 32);
		wrong[0] ^= 1;
		expect_rc(a,
		    privd_audit_verify(
		        a, 0, 0, wrong, &bad, why, sizeof(why), NULL),
		    PRIVD_ETAMPERED, "verify with a wrong key");
		assert_true(bad >= 1);
	}
	privd_close(&a);
}

/* ---- no personal data in the audit database ------------------------------ */

static const char *const secrets[] = {"subj-QZXW-4711-audit",
    "subj-JKLP-0815-audit", "Valtteri Zyxwvu-Audit", "zyxwvu.audit@example.fi",
    "feedback-PLMOKN-9931"};

static void
test_no_subject_or_value_in_audit_db(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_field f1[] = {h_field("name", secrets[2]),
	    h_field("email", secrets[3]), h_field("notes", secrets[4])};
	privd_audit_filter f = {0};
	h_needle needles[sizeof(secrets) / sizeof(secrets[0])];
	char path[H_PATH_MAX + 16];
	privd_record *rec = NULL;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_dbi idx;
	rawdb r;
	size_t i, j, nrec = 0;
	evlist l;
	int st, rc;

	expect_rc(
	    svc, privd_put(svc, CUST, secrets[0], INV, f1, 3), PRIVD_OK, "put");
	put1(svc, NEWS, secrets[0], MKT, "email", secrets[3]);
	put1(svc, CUST, secrets[1], INV, "notes", secrets[4]);
	expect_rc(svc, privd_get(svc, CUST, secrets[0], INV, NULL, 0, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	expect_rc(svc, privd_get(svc, CUST, secrets[1], MKT, NULL, 0, &rec),
	    PRIVD_EDENIED, "denied get");
	f.subject = secrets[0];
	collect(a, &f, &l);
	assert_int_equal(l.n, 3);
	evlist_free(&l);
	f.subject = secrets[1];
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	evlist_free(&l);
	privd_close(&a);
	privd_close(&svc);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, &st), 0);

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		needles[i].data = secrets[i];
		needles[i].len = strlen(secrets[i]);
		needles[i].label = secrets[i];
	}
	/* every key and value of the three audit databases */
	raw_open(h, &r, MDB_RDONLY);
	assert_int_equal(mdb_dbi_open(r.txn, "audit_ix", 0, &idx), 0);
	{
		MDB_dbi dbs[] = {r.audit, idx, r.ckpt};

		for (j = 0; j < 3; j++) {
			assert_int_equal(
			    mdb_cursor_open(r.txn, dbs[j], &cur), 0);
			for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
			     rc == 0;
			     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
				nrec++;
				for (i = 0;
				     i < sizeof(secrets) / sizeof(secrets[0]);
				     i++) {
					if (memmem(k.mv_data, k.mv_size,
					        needles[i].data,
					        needles[i].len) != NULL ||
					    memmem(v.mv_data, v.mv_size,
					        needles[i].data,
					        needles[i].len) != NULL)
						fail_msg("audit database %zu "
						         "holds \"%s\"",
						    j, secrets[i]);
				}
			}
			assert_int_equal(rc, MDB_NOTFOUND);
			mdb_cursor_close(cur);
		}
	}
	raw_close(&r, 0);
	assert_true(nrec > 10);
	/* and the file as a whole, free pages included, and the directory */
	snprintf(path, sizeof(path), "%s/data.mdb", h->data_dir);
	assert_int_equal(h_scan_file(path, needles, 5), 0);
	assert_int_equal(h_scan_dir(h->data_dir, needles, 5), 0);
}

/* ---- pruning ------------------------------------------------------------- */

static void
test_pruning_keeps_the_rest_verifiable(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_checkpoint *ck = NULL, base;
	uint64_t first, last, fresh[7], checked = 0, old_last, t_restart;
	uint64_t old_kept, old_end = 0;
	uint8_t pk[32];
	char subj[32];
	evlist l;
	size_t i, k, n;
	int has_base = 0;

	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	for (i = 0; i < 20; i++) {
		snprintf(subj, sizeof(subj), "old-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Old Event");
	}
	old_last = head(a);
	/* the old events' checkpoint is signed at the old time... */
	if (audit_wait_signed(a, old_last, 10000) < 0)
		fail_msg("event %llu not signed within 10 s",
		    (unsigned long long)old_last);
	/* ...and then three seconds pass for privd */
	assert_int_equal(h_clock_set(h, 3), 0);
	h_clock_wait();
	for (i = 0; i < 7; i++) {
		snprintf(subj, sizeof(subj), "new-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Fresh Event");
		fresh[i] = privd_last_request_id(svc);
	}
	/* pruning runs at start */
	t_restart = h_clock_us(h);
	restart(h);

	expect_rc(a,
	    privd_audit_checkpoints(
	        a, 0, 0, &ck, &n, &first, &last, &base, &has_base),
	    PRIVD_OK, "checkpoints");
	privd_free(ck);
	if (first <= 1)
		fail_msg("nothing was pruned (first event %llu)",
		    (unsigned long long)first);
	assert_true(has_base);
	assert_int_equal(base.seq, first - 1);

	audit_verify_ok(a, pk, &checked);
	assert_true(checked >= last - first + 1);

	/* the old events end just before the first fresh put */
	collect(a, NULL, &l);
	assert_true(l.n > 0);
	for (k = 0; k < l.n && old_end == 0; k++)
		if (l.ev[k]->request_id == fresh[0])
			old_end = l.ev[k]->seq - 1;
	assert_true(old_end > old_last);
	/* what is gone is old: up to a checkpoint older than the cutoff */
	assert_true(base.seq <= old_end);
	assert_true(base.time_us < t_restart - 2000000u);

	/* nothing at or before the kept checkpoint; of the old events only
	 * those after it (before the cutoff's checkpoint) may stay */
	assert_int_equal(l.ev[0]->seq, first);
	for (i = 0, old_kept = 0; i < l.n; i++) {
		assert_true(l.ev[i]->seq > base.seq);
		if (l.ev[i]->time_us < t_restart - 2000000u)
			old_kept++;
	}
	if (old_kept > old_end - base.seq)
		fail_msg("%llu old events kept after the checkpoint at %llu; "
		         "the old ones ended at %llu",
		    (unsigned long long)old_kept, (unsigned long long)base.seq,
		    (unsigned long long)old_end);
	assert_true(old_kept < 20);
	/* the fresh puts are all kept */
	for (i = 0; i < 7; i++) {
		for (k = 0; k < l.n && l.ev[k]->request_id != fresh[i]; k++)
			;
		if (k == l.n)
			fail_msg("fresh put %zu was pruned", i);
	}
	evlist_free(&l);
	privd_close(&a);
	privd_close(&svc);
}

/* How soon privd must have signed an idle log's newest event: it promises
 * about a second (CKPT_MAX_UNSIGNED_US in daemon/writer.c); the rest is
 * slack for sanitizer builds. And how long the test waits at most. */
#define IDLE_SIGN_MAX_MS  3000
#define IDLE_SIGN_WAIT_MS 5000
#define IDLE_POLL_MS      100

/*
 * The newest events are signed within about a second, without a shutdown,
 * when too few events came for a checkpoint by count: this privd signs by
 * count only every 1000000 events, so only the idle-time signer can sign
 * the ping. The test's own checkpoint queries are events too and keep
 * moving the head, so it waits for a checkpoint that covers the ping.
 */
static void
test_head_signed_when_idle(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_checkpoint *ck = NULL;
	privd_audit_filter f = {0};
	uint64_t ping_seq = 0, last = 0, signed_seq = 0;
	int64_t t0, now, took = -1;
	size_t n, i;
	evlist l;

	t0 = h_now_ms();
	expect_rc(svc, privd_ping(svc, NULL), PRIVD_OK, "ping");

	/* the ping's event: the newest of svc's */
	f.from_seq = 1;
	collect(a, &f, &l);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.ev[i]->principal, "svc") == 0)
			ping_seq = l.ev[i]->seq;
	assert_true(ping_seq > 0);
	for (i = 0; i < l.n && l.ev[i]->seq != ping_seq; i++)
		;
	expect_event(l.ev[i], "svc", "ping", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	evlist_free(&l);

	for (;;) {
		n = 0;
		expect_rc(a,
		    privd_audit_checkpoints(
		        a, 0, 0, &ck, &n, NULL, &last, NULL, NULL),
		    PRIVD_OK, "checkpoints");
		now = h_now_ms();
		signed_seq = n > 0 ? ck[n - 1].seq : 0;
		privd_free(ck);
		assert_true(signed_seq <= last);
		if (signed_seq >= ping_seq) {
			took = now - t0;
			break;
		}
		if (now - t0 >= IDLE_SIGN_WAIT_MS)
			break;
		h_sleep_ms(IDLE_POLL_MS);
	}
	if (took < 0)
		fail_msg("event #%llu still unsigned after %d ms (newest "
		         "checkpoint #%llu, head #%llu)",
		    (unsigned long long)ping_seq, IDLE_SIGN_WAIT_MS,
		    (unsigned long long)signed_seq, (unsigned long long)last);
	print_message("event #%llu signed within %lld ms\n",
	    (unsigned long long)ping_seq, (long long)took);
	if (took > IDLE_SIGN_MAX_MS)
		fail_msg("event #%llu signed only after %lld ms, expected at "
		         "most %d ms",
		    (unsigned long long)ping_seq, (long long)took,
		    IDLE_SIGN_MAX_MS);
	privd_close(&a);
	privd_close(&svc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_events_survive_sigkill, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tamper_flipped_byte_detected, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tamper_deleted_event_detected, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tamper_swapped_events_detected, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_untouched_log_verifies_across_restarts, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_subject_or_value_in_audit_db, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pruning_keeps_the_rest_verifiable, setup_short_retention,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_head_signed_when_idle, setup_no_count_ckpt, h_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name(
	    "integration/audit_verify", tests, NULL, NULL);
}
