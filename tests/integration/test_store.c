/*
 * test_store.c - a real privd stores, returns and deletes data, keeps it
 * across restarts, never writes it in plaintext, guards its data directory
 * and key, and refuses what the policy does not declare.
 *
 * Every test gets its own temporary directory and privd (h_setup_default).
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
#include "privd.pb-c.h"

#define REG     "customers"
#define PURPOSE "invoicing"

/* Assert that rec holds field name with exactly the bytes v[0..len). */
static void
assert_field(
    const privd_record *rec, const char *name, const void *v, size_t len)
{
	const privd_field *f = privd_record_field(rec, name);

	if (f == NULL)
		fail_msg("field %s missing from the record", name);
	assert_int_equal(f->len, len);
	assert_memory_equal(f->value, v, len);
	/* client.h: every value is also NUL-terminated. */
	assert_int_equal(f->value[len], '\0');
}

static void
assert_field_str(const privd_record *rec, const char *name, const char *v)
{
	assert_field(rec, name, v, strlen(v));
}

static void
put_ok(
    privd_client *c, const char *subject, const privd_field *fields, size_t n)
{
	int rc = privd_put(c, REG, subject, PURPOSE, fields, n);

	if (rc != PRIVD_OK)
		fail_msg("put: %s (%s)", privd_strerror(rc), privd_errmsg(c));
}

static privd_record *
get_ok(privd_client *c, const char *subject, const char *const *names, size_t n)
{
	privd_record *rec = NULL;
	int rc = privd_get(c, REG, subject, PURPOSE, names, n, &rec);

	if (rc != PRIVD_OK)
		fail_msg("get: %s (%s)", privd_strerror(rc), privd_errmsg(c));
	assert_non_null(rec);
	return rec;
}

static void
assert_not_found(
    privd_client *c, const char *subject, const char *const *names, size_t n)
{
	privd_record *rec = NULL;

	assert_int_equal(privd_get(c, REG, subject, PURPOSE, names, n, &rec),
	    PRIVD_ENOTFOUND);
	assert_null(rec);
}

static void
stop_clean(harness *h)
{
	int st = -1;

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void
test_put_get_single_field(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Matti Meikäläinen")};
	const char *names[] = {"name"};
	privd_record *rec;

	put_ok(c, "cust-1", f, 1);
	rec = get_ok(c, "cust-1", names, 1);
	assert_int_equal(rec->nfields, 1);
	assert_field_str(rec, "name", "Matti Meikäläinen");
	privd_record_free(&rec);
	assert_null(rec);
	privd_close(&c);
	assert_null(c);
}

static void
test_put_get_several_fields(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Maija Virtanen"),
	    h_field("email", "maija.virtanen@example.fi"),
	    h_field("notes", "Prefers paper invoices.")};
	const char *names[] = {"name", "email", "notes"};
	privd_record *rec;

	put_ok(c, "cust-2", f, 3);
	rec = get_ok(c, "cust-2", names, 3);
	assert_int_equal(rec->nfields, 3);
	assert_field_str(rec, "name", "Maija Virtanen");
	assert_field_str(rec, "email", "maija.virtanen@example.fi");
	assert_field_str(rec, "notes", "Prefers paper invoices.");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_get_named_fields(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Liisa Korhonen"),
	    h_field("email", "liisa@example.fi"), h_field("notes", "VIP")};
	const char *two[] = {"email", "notes"};
	const char *with_unstored[] = {"name", "blob"};
	privd_record *rec;

	put_ok(c, "cust-3", f, 3);

	rec = get_ok(c, "cust-3", two, 2);
	assert_int_equal(rec->nfields, 2);
	assert_field_str(rec, "email", "liisa@example.fi");
	assert_field_str(rec, "notes", "VIP");
	assert_null(privd_record_field(rec, "name"));
	privd_record_free(&rec);

	/* A named field that is not stored is simply absent. */
	rec = get_ok(c, "cust-3", with_unstored, 2);
	assert_int_equal(rec->nfields, 1);
	assert_field_str(rec, "name", "Liisa Korhonen");
	assert_null(privd_record_field(rec, "blob"));
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_get_all_fields(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	static const uint8_t blob[] = {0xde, 0xad, 0xbe, 0xef};
	privd_field f[] = {h_field("name", "Pekka Nieminen"),
	    h_field("email", "pekka@example.fi"),
	    h_field("notes", "Met at fair"), {"blob", blob, sizeof(blob)}};
	privd_record *rec;

	put_ok(c, "cust-4", f, 4);
	rec = get_ok(c, "cust-4", NULL, 0);
	assert_int_equal(rec->nfields, 4);
	assert_field_str(rec, "name", "Pekka Nieminen");
	assert_field_str(rec, "email", "pekka@example.fi");
	assert_field_str(rec, "notes", "Met at fair");
	assert_field(rec, "blob", blob, sizeof(blob));
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_put_replaces_only_named_fields(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field first[] = {
	    h_field("name", "Old Name"), h_field("email", "keep@example.fi")};
	privd_field second[] = {h_field("name", "New Name")};
	privd_record *rec;

	put_ok(c, "cust-5", first, 2);
	put_ok(c, "cust-5", second, 1);
	rec = get_ok(c, "cust-5", NULL, 0);
	assert_int_equal(rec->nfields, 2);
	assert_field_str(rec, "name", "New Name");
	assert_field_str(rec, "email", "keep@example.fi");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_delete_one_field_then_get(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Anna Laine"),
	    h_field("email", "anna@example.fi"), h_field("notes", "n")};
	const char *del[] = {"email"};
	uint32_t deleted = 99;
	privd_record *rec;

	put_ok(c, "cust-6", f, 3);
	assert_int_equal(
	    privd_delete(c, REG, "cust-6", PURPOSE, del, 1, &deleted),
	    PRIVD_OK);
	assert_int_equal(deleted, 1);

	rec = get_ok(c, "cust-6", NULL, 0);
	assert_int_equal(rec->nfields, 2);
	assert_null(privd_record_field(rec, "email"));
	assert_field_str(rec, "name", "Anna Laine");
	assert_field_str(rec, "notes", "n");
	privd_record_free(&rec);

	/* The subject still exists; the deleted field is just absent. */
	rec = get_ok(c, "cust-6", del, 1);
	assert_int_equal(rec->nfields, 0);
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_delete_subject_then_not_found(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Erkki Esimerkki"),
	    h_field("email", "erkki@example.fi")};
	const char *names[] = {"name"};
	uint32_t deleted = 99;

	put_ok(c, "cust-7", f, 2);
	assert_int_equal(
	    privd_delete(c, REG, "cust-7", PURPOSE, NULL, 0, &deleted),
	    PRIVD_OK);
	assert_int_equal(deleted, 2);

	assert_not_found(c, "cust-7", NULL, 0);
	assert_not_found(c, "cust-7", names, 1);
	assert_int_equal(privd_delete(c, REG, "cust-7", PURPOSE, NULL, 0, NULL),
	    PRIVD_ENOTFOUND);
	privd_close(&c);
}

static void
test_get_unknown_subject_not_found(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");

	assert_not_found(c, "never-written", NULL, 0);
	privd_close(&c);
}

static void
test_data_survives_restart(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	char subject[32], name[32];
	privd_record *rec;

	for (int i = 0; i < 20; i++) {
		snprintf(subject, sizeof(subject), "persist-%d", i);
		snprintf(name, sizeof(name), "Person %d", i);
		privd_field f[] = {h_field("name", name)};
		put_ok(c, subject, f, 1);
	}
	privd_close(&c);

	assert_int_equal(h_restart(h), 0);

	c = client(h, "svc");
	for (int i = 0; i < 20; i++) {
		snprintf(subject, sizeof(subject), "persist-%d", i);
		snprintf(name, sizeof(name), "Person %d", i);
		rec = get_ok(c, subject, NULL, 0);
		assert_int_equal(rec->nfields, 1);
		assert_field_str(rec, "name", name);
		privd_record_free(&rec);
	}
	privd_close(&c);
}

static void
test_client_reconnects_after_restart(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	int rc;

	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	assert_int_equal(h_restart(h), 0);
	/* client.h: "the next call works again once privd is back". */
	rc = privd_ping(c, NULL);
	if (rc != PRIVD_OK)
		fail_msg("ping on the old handle after restart: %s",
		    privd_strerror(rc));
	privd_close(&c);
}

/*
 * While privd is down, every call ends by its deadline with UNAVAILABLE or
 * TIMEOUT instead of hanging; once privd is back, the same handle works,
 * and a request that failed while it was down was not carried out later.
 */
static void
test_client_deadline_while_privd_down(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_record *r = NULL;
	privd_field f = h_field("name", "Written While Down");
	int64_t t0, took;
	int rc, i;

	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	privd_set_timeout(c, 500);
	for (i = 0; i < 3; i++) {
		t0 = h_now_ms();
		rc = i == 0 ? privd_put(c, REG, "down-1", PURPOSE, &f, 1)
		            : privd_get(c, REG, "down-1", PURPOSE, NULL, 0, &r);
		took = h_now_ms() - t0;
		if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
			fail_msg("call %d while privd is down: %s", i,
			    privd_strerror(rc));
		if (took > 1500)
			fail_msg("call %d took %lld ms with a 500 ms deadline",
			    i, (long long)took);
	}
	assert_int_equal(h_start(h, NULL), 0);
	privd_set_timeout(c, 5000);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	/* the put that failed was not queued and sent behind our back */
	assert_int_equal(
	    privd_get(c, REG, "down-1", PURPOSE, NULL, 0, &r), PRIVD_ENOTFOUND);
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
	privd_record *rec = NULL;
	int op, rc;

	for (op = 0; op < 2; op++) {
		/* only these subjects have values: a fresh store, and the
		 * first round deletes its subject at the end */
		assert_int_equal(
		    privd_put(c, REG, "tamper-a", PURPOSE, &fa, 1), PRIVD_OK);
		if (op == 1)
			assert_int_equal(
			    privd_put(c, REG, "tamper-b", PURPOSE, &fb, 1),
			    PRIVD_OK);
		privd_close(&c);
		assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
		tamper_values(h, op);
		assert_int_equal(h_start(h, NULL), 0);
		c = client(h, "svc");
		rc = privd_get(c, REG, "tamper-a", PURPOSE, NULL, 0, &rec);
		if (rc != PRIVD_EINTERNAL)
			fail_msg("%s value: expected INTERNAL, got %s",
			    op == 0 ? "a changed" : "a moved",
			    privd_strerror(rc));
		assert_null(rec);
		assert_non_null(strstr(privd_errmsg(c), "integrity"));
		assert_null(strstr(privd_errmsg(c), "Person"));
		assert_true(h_running(h));
		assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
		/* and the damaged subject can be overwritten cleanly */
		assert_int_equal(
		    privd_delete(c, REG, "tamper-a", PURPOSE, NULL, 0, NULL),
		    PRIVD_OK);
	}
	privd_close(&c);
}

/* Distinctive values that must never appear in plaintext. */
#define CANARY_SUBJECT "subj-CANARY-93f1c0d7"
#define CANARY_NAME    "Zyxwvut Canarysson"
#define CANARY_EMAIL   "canary.q7w3x9@example.org"
#define CANARY_NOTES   "CANARY-NOTES-5d1e8f2a is a distinctive note"
static const uint8_t canary_blob[] = {'B', 'L', 'O', 'B', 0x00, 0x17, 0x42,
    0x99, 'c', 'a', 'n', 'a', 'r', 'y', 0x00, 0x7f};

static const h_needle canaries[] = {
    {CANARY_SUBJECT, sizeof(CANARY_SUBJECT) - 1, "subject id"},
    {CANARY_NAME, sizeof(CANARY_NAME) - 1, "name value"},
    {CANARY_EMAIL, sizeof(CANARY_EMAIL) - 1, "email value"},
    {CANARY_NOTES, sizeof(CANARY_NOTES) - 1, "notes value"},
    {canary_blob, sizeof(canary_blob), "blob value"},
};

static void
put_canaries(harness *h)
{
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", CANARY_NAME),
	    h_field("email", CANARY_EMAIL), h_field("notes", CANARY_NOTES),
	    {"blob", canary_blob, sizeof(canary_blob)}};
	privd_record *rec;

	put_ok(c, CANARY_SUBJECT, f, 4);
	/* Read it back so the test knows privd really has it. */
	rec = get_ok(c, CANARY_SUBJECT, NULL, 0);
	assert_int_equal(rec->nfields, 4);
	assert_field_str(rec, "email", CANARY_EMAIL);
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_no_plaintext_on_disk(void **state)
{
	harness *h = *state;

	put_canaries(h);
	stop_clean(h);
	assert_int_equal(h_scan_dir(h->data_dir, canaries,
	                     sizeof(canaries) / sizeof(canaries[0])),
	    0);
}

static void
test_no_plaintext_in_log(void **state)
{
	harness *h = *state;
	privd_client *c;
	privd_field bad[] = {h_field("email", "not-an-email")};
	privd_field unknown[] = {h_field("shoe_size", "42")};
	const char *unknown_name[] = {"shoe_size"};
	privd_record *rec = NULL;

	put_canaries(h);
	/* Refused requests name the subject too: they must not log it. */
	c = client(h, "svc");
	assert_int_equal(
	    privd_put(c, REG, CANARY_SUBJECT, PURPOSE, bad, 1), PRIVD_EINVAL);
	assert_int_equal(privd_put(c, REG, CANARY_SUBJECT, PURPOSE, unknown, 1),
	    PRIVD_EDENIED);
	assert_int_equal(
	    privd_get(c, REG, CANARY_SUBJECT, PURPOSE, unknown_name, 1, &rec),
	    PRIVD_EDENIED);
	assert_int_equal(
	    privd_delete(c, REG, CANARY_SUBJECT, PURPOSE, NULL, 0, NULL),
	    PRIVD_OK);
	privd_close(&c);
	stop_clean(h);
	assert_int_equal(h_scan_file(h->log, canaries,
	                     sizeof(canaries) / sizeof(canaries[0])),
	    0);
}

static void
test_init_layout(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 32];
	struct stat st;
	uint8_t *buf;
	size_t len;

	assert_int_equal(stat(h->data_dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);

	snprintf(path, sizeof(path), "%s/master.key", h->data_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(st.st_mode & 07777, 0600);

	snprintf(path, sizeof(path), "%s/data.mdb", h->data_dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/lock.mdb", h->data_dir);
	assert_int_equal(stat(path, &st), 0);

	snprintf(path, sizeof(path), "%s/server.pub", h->data_dir);
	assert_int_equal(h_read_file(path, &buf, &len), 0);
	assert_true(len >= PRIVD_KEY_Z85_LEN - 1);
	assert_memory_equal(buf, h->server_key, PRIVD_KEY_Z85_LEN - 1);
	assert_true(
	    len == PRIVD_KEY_Z85_LEN - 1 || buf[PRIVD_KEY_Z85_LEN - 1] == '\n');
	free(buf);
}

static void
test_init_refuses_existing_store(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Before Reinit")};
	char key_path[H_PATH_MAX + 32], pub_path[H_PATH_MAX + 32];
	uint8_t *key0, *key1, *pub0, *pub1;
	size_t key0_len, key1_len, pub0_len, pub1_len;
	privd_record *rec;
	h_result res;

	put_ok(c, "kept", f, 1);
	privd_close(&c);
	stop_clean(h);

	snprintf(key_path, sizeof(key_path), "%s/master.key", h->data_dir);
	snprintf(pub_path, sizeof(pub_path), "%s/server.pub", h->data_dir);
	assert_int_equal(h_read_file(key_path, &key0, &key0_len), 0);
	assert_int_equal(h_read_file(pub_path, &pub0, &pub0_len), 0);

	{
		const char *args[] = {"init", "--data-dir", h->data_dir,
		    "--policy", h->policy, NULL};
		assert_int_equal(
		    h_run_privd(h, args, H_RUN_TIMEOUT_MS, &res), 0);
	}
	assert_false(res.timed_out);
	assert_true(WIFEXITED(res.wstatus));
	assert_int_equal(WEXITSTATUS(res.wstatus), 1);
	assert_true(strlen(res.err) > 0);

	/* Nothing was replaced. */
	assert_int_equal(h_read_file(key_path, &key1, &key1_len), 0);
	assert_int_equal(h_read_file(pub_path, &pub1, &pub1_len), 0);
	assert_int_equal(key0_len, key1_len);
	assert_memory_equal(key0, key1, key0_len);
	assert_int_equal(pub0_len, pub1_len);
	assert_memory_equal(pub0, pub1, pub0_len);
	free(key0);
	free(key1);
	free(pub0);
	free(pub1);

	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	rec = get_ok(c, "kept", NULL, 0);
	assert_field_str(rec, "name", "Before Reinit");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_serve_refuses_group_readable_key(void **state)
{
	harness *h = *state;
	char key_path[H_PATH_MAX + 32];

	stop_clean(h);
	snprintf(key_path, sizeof(key_path), "%s/master.key", h->data_dir);
	assert_int_equal(chmod(key_path, 0640), 0);
	serve_refused(h, NULL, NULL);
	/* The mode was the only problem. */
	assert_int_equal(chmod(key_path, 0600), 0);
	assert_int_equal(h_start(h, NULL), 0);
}

static void
test_serve_refuses_wrong_size_key(void **state)
{
	harness *h = *state;
	char key_path[H_PATH_MAX + 32];
	uint8_t *key, longer[33];
	size_t len;

	stop_clean(h);
	snprintf(key_path, sizeof(key_path), "%s/master.key", h->data_dir);
	assert_int_equal(h_read_file(key_path, &key, &len), 0);
	assert_int_equal(len, 32);

	memcpy(longer, key, 32);
	longer[32] = 0x5a;
	assert_int_equal(h_write_file(key_path, longer, 33, 0600), 0);
	serve_refused(h, NULL, NULL);

	assert_int_equal(h_write_file(key_path, key, 31, 0600), 0);
	serve_refused(h, NULL, NULL);

	assert_int_equal(h_write_file(key_path, key, 0, 0600), 0);
	serve_refused(h, NULL, NULL);

	assert_int_equal(h_write_file(key_path, key, 32, 0600), 0);
	free(key);
	assert_int_equal(h_start(h, NULL), 0);
}

static void
test_serve_refuses_missing_key(void **state)
{
	harness *h = *state;
	char key_path[H_PATH_MAX + 32], moved[H_PATH_MAX + 32];

	stop_clean(h);
	snprintf(key_path, sizeof(key_path), "%s/master.key", h->data_dir);
	snprintf(moved, sizeof(moved), "%s/master.key.moved", h->root);
	assert_int_equal(rename(key_path, moved), 0);
	serve_refused(h, NULL, NULL);
	assert_int_equal(rename(moved, key_path), 0);
	assert_int_equal(h_start(h, NULL), 0);
}

static void
test_second_serve_refused_first_keeps_serving(void **state)
{
	harness *h = *state;
	const char *args[] = {
	    "serve", "--data-dir", h->data_dir, "--listen", h->endpoint, NULL};
	privd_field f[] = {h_field("name", "Still Served")};
	privd_client *c;
	privd_record *rec;
	h_result res;

	assert_int_equal(h_run_privd(h, args, H_RUN_TIMEOUT_MS, &res), 0);
	if (res.timed_out)
		fail_msg("a second privd serve ran on the same data dir");
	assert_true(WIFEXITED(res.wstatus));
	assert_int_not_equal(WEXITSTATUS(res.wstatus), 0);

	assert_true(h_running(h));
	/* A new connection: the second instance must not have taken over or
	 * removed the first one's socket. */
	c = client(h, "svc");
	put_ok(c, "after-second", f, 1);
	rec = get_ok(c, "after-second", NULL, 0);
	assert_field_str(rec, "name", "Still Served");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_unknown_register_denied(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Someone")};
	privd_record *rec = NULL;

	assert_int_equal(
	    privd_put(c, "suppliers", "sup-1", PURPOSE, f, 1), PRIVD_EDENIED);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_REGISTER);
	assert_string_equal(
	    privd_reason_name(privd_reason(c)), "unknown_register");

	assert_int_equal(
	    privd_get(c, "suppliers", "sup-1", PURPOSE, NULL, 0, &rec),
	    PRIVD_EDENIED);
	assert_null(rec);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_REGISTER);
	privd_close(&c);
}

static void
test_unknown_field_denied(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {
	    h_field("name", "Partly Known"), h_field("shoe_size", "42")};
	const char *names[] = {"shoe_size"};
	privd_record *rec = NULL;

	assert_int_equal(
	    privd_put(c, REG, "cust-uf", PURPOSE, f, 2), PRIVD_EDENIED);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_FIELD);
	assert_string_equal(
	    privd_reason_name(privd_reason(c)), "unknown_field");
	/* All or nothing: the known field was not written either. */
	assert_not_found(c, "cust-uf", NULL, 0);

	put_ok(c, "cust-uf", f, 1);
	assert_int_equal(privd_get(c, REG, "cust-uf", PURPOSE, names, 1, &rec),
	    PRIVD_EDENIED);
	assert_null(rec);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_FIELD);
	privd_close(&c);
}

static void
test_ungranted_purpose_denied(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Not For Marketing")};

	/* "marketing" is declared by the register but not granted to svc. */
	assert_int_equal(
	    privd_put(c, REG, "cust-mk", "marketing", f, 1), PRIVD_EDENIED);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_NO_GRANT);
	assert_not_found(c, "cust-mk", NULL, 0);
	privd_close(&c);
}

static void
test_invalid_value_stores_nothing(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field bad[] = {
	    h_field("name", "New Name"), h_field("email", "not-an-email")};
	privd_field old[] = {h_field("name", "Old Name")};
	privd_record *rec;

	/* A new subject: nothing at all is created. The error names the
	 * field and the rule, never the value or the subject id. */
	assert_int_equal(
	    privd_put(c, REG, "cust-inv", PURPOSE, bad, 2), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "email"));
	assert_non_null(strstr(privd_errmsg(c), "not an email address"));
	assert_null(strstr(privd_errmsg(c), "not-an-email"));
	assert_null(strstr(privd_errmsg(c), "cust-inv"));
	assert_not_found(c, "cust-inv", NULL, 0);

	/* A Finnish identity code in free text is refused the same way. */
	bad[1] = h_field("notes", "asiakkaan hetu on 131052-308T.");
	assert_int_equal(
	    privd_put(c, REG, "cust-inv", PURPOSE, bad, 2), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "identity code"));
	assert_null(strstr(privd_errmsg(c), "131052"));
	assert_not_found(c, "cust-inv", NULL, 0);
	bad[1] = h_field("email", "not-an-email");

	/* An existing subject: the valid field in the same put is not
	 * written either. */
	put_ok(c, "cust-inv", old, 1);
	assert_int_equal(
	    privd_put(c, REG, "cust-inv", PURPOSE, bad, 2), PRIVD_EINVAL);
	rec = get_ok(c, "cust-inv", NULL, 0);
	assert_int_equal(rec->nfields, 1);
	assert_field_str(rec, "name", "Old Name");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_bytes_field_binary_safe(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	uint8_t v[260];
	privd_record *rec;
	const char *names[] = {"blob"};

	/* NULs first, last and in the middle, and every byte value. */
	v[0] = 0;
	v[1] = 0;
	for (int i = 0; i < 256; i++)
		v[2 + i] = (uint8_t)i;
	v[258] = 0xff;
	v[259] = 0;
	privd_field f[] = {{"blob", v, sizeof(v)}};

	put_ok(c, "cust-bin", f, 1);
	rec = get_ok(c, "cust-bin", names, 1);
	assert_int_equal(rec->nfields, 1);
	assert_field(rec, "blob", v, sizeof(v));
	privd_record_free(&rec);
	privd_close(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup_default, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_put_get_single_field),
	    T(test_put_get_several_fields),
	    T(test_get_named_fields),
	    T(test_get_all_fields),
	    T(test_put_replaces_only_named_fields),
	    T(test_delete_one_field_then_get),
	    T(test_delete_subject_then_not_found),
	    T(test_get_unknown_subject_not_found),
	    T(test_data_survives_restart),
	    T(test_client_reconnects_after_restart),
	    T(test_client_deadline_while_privd_down),
	    T(test_tampered_value_never_returned),
	    T(test_no_plaintext_on_disk),
	    T(test_no_plaintext_in_log),
	    T(test_init_layout),
	    T(test_init_refuses_existing_store),
	    T(test_serve_refuses_group_readable_key),
	    T(test_serve_refuses_wrong_size_key),
	    T(test_serve_refuses_missing_key),
	    T(test_second_serve_refused_first_keeps_serving),
	    T(test_unknown_register_denied),
	    T(test_unknown_field_denied),
	    T(test_ungranted_purpose_denied),
	    T(test_invalid_value_stores_nothing),
	    T(test_bytes_field_binary_safe),
	};

	return cmocka_run_group_tests_name(
	    "integration/store", tests, NULL, NULL);
}
