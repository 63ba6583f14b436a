/*
 * test_integrity.c - the store's records are authenticated whole:
 * - a value that was changed, or moved to another subject, is never
 *   returned (a get answers INTERNAL "integrity check");
 * - (issue 7) a value record whose header (format, created and updated times,
 *   purpose) was edited fails authentication exactly like an edited
 *   ciphertext: a get answers INTERNAL "integrity", never the value and
 *   never another one, and a put over it stores nothing of the edit;
 * - the same for a subject record's header (format, created_us);
 * - (issue 7) privd serve refuses a store whose format version it does not
 * know;
 * - privd serve refuses a master.key owned by another user.
 *
 * Records are edited with LMDB while privd is stopped. Their keys are
 * keyed hashes, so the tests tell records apart by their created time:
 * subjects are written one at a time, in a known order. Each test has its
 * own privd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>

#include "checks.h"
#include "harness.h"

#define REG     "customers"
#define INV     "invoicing"
#define SUBJ_HB 9  /* subject record header: fmt(1) created_us(8) */
#define VAL_HB  18 /* value record header before the purpose */
#define MAXREC  64

/* One record of a database, copied out of LMDB. */
typedef struct rec {
	uint8_t key[128];
	size_t klen;
	uint8_t *val;
	size_t vlen;
} rec;

static uint64_t
be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

static void
env_open(harness *h, MDB_env **env)
{
	assert_int_equal(mdb_env_create(env), 0);
	assert_int_equal(mdb_env_set_maxdbs(*env, 16), 0);
	assert_int_equal(mdb_env_open(*env, h->data_dir, 0, 0600), 0);
}

static int
by_created(const void *a, const void *b)
{
	uint64_t x = be64(((const rec *)a)->val + 1);
	uint64_t y = be64(((const rec *)b)->val + 1);

	return x < y ? -1 : x > y;
}

/* Every record of db, sorted by the created time in its header. */
static size_t
load(harness *h, const char *db, rec *out)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	size_t n = 0;
	int rc;

	env_open(h, &env);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		assert_true(n < MAXREC);
		assert_true(k.mv_size <= sizeof(out[n].key));
		assert_true(v.mv_size > SUBJ_HB);
		memcpy(out[n].key, k.mv_data, out[n].klen = k.mv_size);
		out[n].val = malloc(out[n].vlen = v.mv_size);
		assert_non_null(out[n].val);
		memcpy(out[n].val, v.mv_data, v.mv_size);
		n++;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	qsort(out, n, sizeof(*out), by_created);
	for (size_t i = 1; i < n; i++)
		if (be64(out[i].val + 1) == be64(out[i - 1].val + 1))
			fail_msg("two %s records were created in the same "
			         "microsecond: cannot tell them apart",
			    db);
	return n;
}

/* Write the records back (replacing them). */
static void
save(harness *h, const char *db, const rec *r, size_t n)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;

	env_open(h, &env);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	for (size_t i = 0; i < n; i++) {
		MDB_val k = {r[i].klen, (void *)r[i].key};
		MDB_val v = {r[i].vlen, r[i].val};

		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
release(rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].val);
		r[i].val = NULL;
	}
}

/* The record of db with the given key, re-read (malloc'd into *out). */
static void
reload(harness *h, const char *db, const rec *key, rec *out)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {key->klen, (void *)key->key}, v;

	env_open(h, &env);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	*out = *key;
	out->val = malloc(out->vlen = v.mv_size);
	assert_non_null(out->val);
	memcpy(out->val, v.mv_data, v.mv_size);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/*
 * A get of subject must fail like a damaged ciphertext. Returns NULL if it
 * did, else what went wrong (for the caller's list).
 */
static const char *
get_fails(privd_client *c, const char *subject, char *why, size_t len)
{
	privd_record *r = NULL;
	int rc = privd_get(c, REG, subject, INV, NULL, 0, &r);

	if (rc == PRIVD_OK) {
		const privd_field *f = privd_record_field(r, "name");

		snprintf(why, len, "answered OK (%s)",
		    f == NULL ? "no name" : (const char *)f->value);
		privd_record_free(&r);
		return why;
	}
	if (rc != PRIVD_EINTERNAL) {
		snprintf(why, len, "answered %s", privd_strerror(rc));
		return why;
	}
	if (strstr(privd_errmsg(c), "integrity") == NULL) {
		snprintf(why, len, "INTERNAL without \"integrity\": %s",
		    privd_errmsg(c));
		return why;
	}
	if (strstr(privd_errmsg(c), "Person") != NULL) {
		snprintf(why, len, "a value in the message");
		return why;
	}
	return NULL;
}

/* After a put over a damaged record: OK and the new value back, or
 * INTERNAL and still no value. Returns the put's status. */
static int
put_over(privd_client *c, const char *subject, const char *name)
{
	privd_field f = h_field("name", name);
	privd_record *r = NULL;
	char why[200];
	int rc = privd_put(c, REG, subject, INV, &f, 1);

	if (rc == PRIVD_EINTERNAL) {
		if (get_fails(c, subject, why, sizeof(why)) != NULL)
			fail_msg("%s after a refused put: %s", subject, why);
		return rc;
	}
	expect_rc(c, rc, PRIVD_OK, "put over a damaged record");
	expect_rc(c, privd_get(c, REG, subject, INV, NULL, 0, &r), PRIVD_OK,
	    "get after a put over a damaged record");
	assert_int_equal(r->nfields, 1);
	assert_string_equal(privd_record_field(r, "name")->value, name);
	privd_record_free(&r);
	return rc;
}

static void
stop(harness *h)
{
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
}

/* The control subject, written first and never touched, reads back. */
static void
control_ok(privd_client *c)
{
	privd_record *r = NULL;

	expect_rc(c, privd_get(c, REG, "ctl", INV, NULL, 0, &r), PRIVD_OK,
	    "the untouched subject");
	assert_string_equal(
	    privd_record_field(r, "name")->value, "Control Person");
	privd_record_free(&r);
}

static void
test_value_header_edit_fails_integrity(void **state)
{
	enum { N = VAL_HB + sizeof(INV) - 1 }; /* one subject per byte */
	harness *h = *state;
	privd_client *c = client(h, "svc");
	rec r[MAXREC], now;
	uint8_t edited[N][VAL_HB];
	char subj[16], name[32], why[200], bad[2048] = "";
	size_t n, blen = 0;
	int refused = 0;

	put_name(c, "ctl", "Control Person");
	for (int i = 0; i < N; i++) {
		snprintf(subj, sizeof(subj), "v-%02d", i);
		snprintf(name, sizeof(name), "Person %02d", i);
		put_name(c, subj, name);
	}
	privd_close(&c);
	stop(h);

	/* record 0 is ctl's; record 1 + i is v-i's: flip its byte i */
	n = load(h, "values", r);
	assert_int_equal(n, N + 1);
	for (int i = 0; i < N; i++) {
		uint8_t *v = r[1 + i].val;

		assert_int_equal(v[0], 2); /* the format this test knows */
		assert_int_equal(VAL_HB + v[VAL_HB - 1], N);
		v[i] ^= 0x01;
		memcpy(edited[i], v, VAL_HB);
	}
	save(h, "values", r + 1, N);
	release(r, n); /* the keys stay */

	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	control_ok(c);
	for (int i = 0; i < N; i++) {
		const char *w;

		snprintf(subj, sizeof(subj), "v-%02d", i);
		if ((w = get_fails(c, subj, why, sizeof(why))) != NULL)
			blen += (size_t)snprintf(bad + blen, sizeof(bad) - blen,
			    "\n  header byte %d: %s", i, w);
	}
	if (blen > 0)
		fail_msg("edited value records:%s", bad);

	/* a put over each stores the new value and nothing of the edit */
	for (int i = 0; i < N; i++) {
		snprintf(subj, sizeof(subj), "v-%02d", i);
		snprintf(name, sizeof(name), "New Person %02d", i);
		if (put_over(c, subj, name) != PRIVD_OK) {
			r[1 + i].klen = 0; /* nothing to check on disk */
			refused++;
		}
	}
	print_message("puts over edited value records: %d refused, %d "
	              "stored\n",
	    refused, N - refused);
	control_ok(c);
	privd_close(&c);
	stop(h);
	blen = 0;
	for (int i = 0; i < N; i++) {
		const uint8_t *v;

		if (r[1 + i].klen == 0)
			continue;
		reload(h, "values", &r[1 + i], &now);
		v = now.val;
		if ((i >= 1 && i < 9 && be64(v + 1) == be64(edited[i] + 1)) ||
		    (i >= 9 && i < 17 && be64(v + 9) == be64(edited[i] + 9)))
			blen += (size_t)snprintf(bad + blen, sizeof(bad) - blen,
			    "\n  header byte %d: the edited %s time is in the "
			    "new record",
			    i, i < 9 ? "created" : "updated");
		assert_int_equal(v[0], 2);
		assert_int_equal(v[VAL_HB - 1], sizeof(INV) - 1);
		assert_memory_equal(v + VAL_HB, INV, sizeof(INV) - 1);
		free(now.val);
	}
	if (blen > 0)
		fail_msg("a put over an edited value record:%s", bad);

	/* and what was put reads back after a restart */
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	for (int i = 0; i < N; i++) {
		privd_record *got = NULL;

		if (r[1 + i].klen == 0)
			continue;
		snprintf(subj, sizeof(subj), "v-%02d", i);
		snprintf(name, sizeof(name), "New Person %02d", i);
		expect_rc(c, privd_get(c, REG, subj, INV, NULL, 0, &got),
		    PRIVD_OK, "get after restart");
		assert_string_equal(
		    privd_record_field(got, "name")->value, name);
		privd_record_free(&got);
	}
	privd_close(&c);
}

static void
test_subject_header_edit_fails_integrity(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	rec r[MAXREC], now;
	uint8_t edited[SUBJ_HB][SUBJ_HB];
	char subj[16], name[32], why[200], bad[1024] = "";
	size_t n, blen = 0;
	int refused = 0;

	put_name(c, "ctl", "Control Person");
	for (int i = 0; i < SUBJ_HB; i++) {
		snprintf(subj, sizeof(subj), "s-%d", i);
		snprintf(name, sizeof(name), "Person %d", i);
		put_name(c, subj, name);
	}
	privd_close(&c);
	stop(h);

	n = load(h, "subjects", r);
	assert_int_equal(n, SUBJ_HB + 1);
	for (int i = 0; i < SUBJ_HB; i++) {
		uint8_t *v = r[1 + i].val;

		assert_int_equal(v[0], 2);
		v[i] ^= 0x01;
		memcpy(edited[i], v, SUBJ_HB);
	}
	save(h, "subjects", r + 1, SUBJ_HB);
	release(r, n);

	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	control_ok(c);
	for (int i = 0; i < SUBJ_HB; i++) {
		const char *w;

		snprintf(subj, sizeof(subj), "s-%d", i);
		if ((w = get_fails(c, subj, why, sizeof(why))) != NULL)
			blen += (size_t)snprintf(bad + blen, sizeof(bad) - blen,
			    "\n  header byte %d: %s", i, w);
	}
	if (blen > 0)
		fail_msg("edited subject records:%s", bad);

	for (int i = 0; i < SUBJ_HB; i++) {
		snprintf(subj, sizeof(subj), "s-%d", i);
		snprintf(name, sizeof(name), "New Person %d", i);
		if (put_over(c, subj, name) != PRIVD_OK) {
			r[1 + i].klen = 0;
			refused++;
		}
	}
	print_message("puts over edited subject records: %d refused, %d "
	              "stored\n",
	    refused, SUBJ_HB - refused);
	privd_close(&c);
	stop(h);
	for (int i = 1; i < SUBJ_HB; i++) {
		if (r[1 + i].klen == 0)
			continue;
		reload(h, "subjects", &r[1 + i], &now);
		if (be64(now.val + 1) == be64(edited[i] + 1))
			fail_msg(
			    "byte %d: the edited created time was kept", i);
		free(now.val);
	}
	assert_int_equal(h_start(h, NULL), 0);
}

/* Set meta "format" (a native uint32) to *format, or delete it (NULL). */
static void
set_format(harness *h, const uint32_t *format)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {6, "format"}, v = {sizeof(*format), (void *)format};

	env_open(h, &env);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	if (format != NULL)
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	else
		assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

static void
test_unknown_store_format_refused(void **state)
{
	static const uint32_t formats[] = {0, 1, 3, 0xffffffffu};
	static const uint32_t ours = 2;
	harness *h = *state;
	privd_client *c = client(h, "svc");

	put_name(c, "ctl", "Control Person");
	privd_close(&c);
	stop(h);
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		set_format(h, &formats[i]);
		serve_refused(h, "format", NULL);
	}
	set_format(h, NULL);
	serve_refused(h, "format", NULL);

	set_format(h, &ours);
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	control_ok(c);
	privd_close(&c);
}

static void
test_master_key_of_another_user_refused(void **state)
{
	harness *h = *state;
	char key[H_PATH_MAX + 16];
	privd_client *c;
	struct stat st;

	if (geteuid() != 0) {
		print_message("skipped: giving master.key to another user "
		              "needs root\n");
		skip();
	}
	snprintf(key, sizeof(key), "%s/master.key", h->data_dir);
	assert_int_equal(stat(key, &st), 0);
	stop(h);
	assert_int_equal(chown(key, 65534, 65534), 0);
	serve_refused(h, "master.key", NULL);
	assert_int_equal(chown(key, st.st_uid, st.st_gid), 0);
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	expect_rc(c, privd_ping(c, NULL), PRIVD_OK, "ping");
	privd_close(&c);
}

/*
 * Change the "values" database of a stopped privd's store with LMDB
 * directly: flip the last byte of every record (op 0), or swap the records
 * of the first two keys (op 1). The keys are keyed hashes, so the test
 * cannot choose a subject; it uses stores with one or two of them.
 */
static void
tamper_values(harness *h, int op)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v, k2, v2;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	uint8_t ka[64], kb[64];
	size_t kalen = 0, kblen = 0;
	int rc;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, h->data_dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "values", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (op == 0) {
			uint8_t *copy = malloc(v.mv_size);

			memcpy(copy, v.mv_data, v.mv_size);
			copy[v.mv_size - 1] ^= 0x01;
			v2.mv_size = v.mv_size;
			v2.mv_data = copy;
			assert_int_equal(
			    mdb_cursor_put(c, &k, &v2, MDB_CURRENT), 0);
			free(copy);
		} else if (a == NULL) {
			a = malloc(alen = v.mv_size);
			memcpy(a, v.mv_data, alen);
			memcpy(ka, k.mv_data, kalen = k.mv_size);
		} else if (b == NULL) {
			b = malloc(blen = v.mv_size);
			memcpy(b, v.mv_data, blen);
			memcpy(kb, k.mv_data, kblen = k.mv_size);
		}
	}
	mdb_cursor_close(c);
	if (op == 1) {
		assert_non_null(a);
		assert_non_null(b);
		k.mv_size = kalen;
		k.mv_data = ka;
		v.mv_size = blen;
		v.mv_data = b;
		k2.mv_size = kblen;
		k2.mv_data = kb;
		v2.mv_size = alen;
		v2.mv_data = a;
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
		assert_int_equal(mdb_put(txn, dbi, &k2, &v2, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	free(a);
	free(b);
}

/* A stored value that was changed, or moved to another subject, is never
 * returned: privd answers INTERNAL ("integrity check"), says nothing about
 * the data, and goes on serving. */
static void
test_tampered_value_never_returned(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field fa = h_field("name", "Alpha Person");
	privd_field fb = h_field("name", "Beta Person");
	privd_record *got = NULL;
	int op, rc;

	for (op = 0; op < 2; op++) {
		/* only these subjects have values: a fresh store, and the
		 * first round deletes its subject at the end */
		assert_int_equal(
		    privd_put(c, REG, "tamper-a", INV, &fa, 1), PRIVD_OK);
		if (op == 1)
			assert_int_equal(
			    privd_put(c, REG, "tamper-b", INV, &fb, 1),
			    PRIVD_OK);
		privd_close(&c);
		assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
		tamper_values(h, op);
		assert_int_equal(h_start(h, NULL), 0);
		c = client(h, "svc");
		rc = privd_get(c, REG, "tamper-a", INV, NULL, 0, &got);
		if (rc != PRIVD_EINTERNAL)
			fail_msg("%s value: expected INTERNAL, got %s",
			    op == 0 ? "a changed" : "a moved",
			    privd_strerror(rc));
		assert_null(got);
		assert_non_null(strstr(privd_errmsg(c), "integrity"));
		assert_null(strstr(privd_errmsg(c), "Person"));
		assert_true(h_running(h));
		assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
		/* and the damaged subject can be overwritten cleanly */
		assert_int_equal(
		    privd_delete(c, REG, "tamper-a", INV, NULL, 0, NULL),
		    PRIVD_OK);
	}
	privd_close(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup_default, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_value_header_edit_fails_integrity),
	    T(test_subject_header_edit_fails_integrity),
	    T(test_unknown_store_format_refused),
	    T(test_master_key_of_another_user_refused),
	    T(test_tampered_value_never_returned),
	};

	return cmocka_run_group_tests_name(
	    "integration/integrity", tests, NULL, NULL);
}
