/*
 * test_rights_rectify.c - what a rectification and an erasure leave behind
 * (issue 10), looked for in the store and in a compacted backup:
 *   - rectify: a value replaced (a put by the service, or by a
 *     subject_rights principal) is in no file of the data directory in
 *     the clear, and its old sealed record is in no compacted backup taken
 *     afterwards, while the new one is (the backup holds live pages only);
 *   - erase: a canary value of a person erased whole is in no file of the
 *     data directory, and neither it, its sealed records nor the wrapped
 *     data key are in a compacted backup taken afterwards.
 * A live data file may keep an old sealed record in a free page until LMDB
 * reuses the page (README, "Security model"); sealed, under a key that an
 * erasure destroys.
 *
 * A real privd; the old records are read from its LMDB store directly
 * (read-only, beside privd) before they are replaced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "test_backup_common.h"

#define OLD_CANARY   "Canary-Old-7f3a9c21-Rectified"
#define NEW_CANARY   "Canary-New-51d0e8b4-Correct"
#define ERASE_CANARY "Canary-Erased-a44c1e09-Gone"

/* Every record of database name in the store, copied: n of them. */
typedef struct records {
	uint8_t *rec[16];
	size_t len[16];
	size_t n;
} records;

static void
records_of(harness *h, const char *name, records *out)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	int rc;

	memset(out, 0, sizeof(*out));
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, h->data_dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, name, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		assert_true(out->n < 16);
		out->rec[out->n] = malloc(v.mv_size);
		assert_non_null(out->rec[out->n]);
		memcpy(out->rec[out->n], v.mv_data, v.mv_size);
		out->len[out->n++] = v.mv_size;
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

static void
records_free(records *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rec[i]);
	r->n = 0;
}

/* How many of the records r are in file: whole, as stored. */
static int
records_in(const records *r, const char *file)
{
	h_needle nd[16];

	for (size_t i = 0; i < r->n; i++)
		nd[i] = (h_needle){r->rec[i], r->len[i], "a stored record"};
	return h_scan_file(file, nd, r->n);
}

static void
put_as(harness *h, const char *key, const char *subject, const char *v)
{
	privd_client *c = client(h, key);
	privd_field f[] = {h_field("name", v)};

	expect_rc(
	    c, privd_put(c, BK_REG, subject, BK_PUR, f, 1), PRIVD_OK, "put");
	privd_close(&c);
}

static void
test_rectify(void **state)
{
	harness *h = *state;
	h_needle old[] = {{OLD_CANARY, strlen(OLD_CANARY), "old value"}};
	h_needle new[] = {{NEW_CANARY, strlen(NEW_CANARY), "new value"}};
	records before, after;
	char bak[H_PATH_MAX + 32];
	bk_info bi;
	privd_client *c;

	put_as(h, "svc", "r-1", OLD_CANARY);
	records_of(h, "values", &before);
	assert_int_equal(before.n, 1);
	/* rectified by the service; the subject stays */
	put_as(h, "svc", "r-1", NEW_CANARY);
	c = client(h, "svc");
	bk_expect_name(c, "r-1", NEW_CANARY);
	privd_close(&c);
	records_of(h, "values", &after);
	assert_int_equal(after.n, 1);

	snprintf(bak, sizeof(bak), "%s/rectify.bak", h->root);
	bk_fetch(h, "operator", bak, &bi);
	assert_int_equal(records_in(&before, bak), 0);
	assert_int_equal(records_in(&after, bak), 1); /* the scan sees */
	assert_int_equal(h_scan_file(bak, old, 1), 0);
	assert_int_equal(h_scan_file(bak, new, 1), 0); /* sealed */
	assert_int_equal(h_scan_dir(h->data_dir, old, 1), 0);
	assert_int_equal(h_scan_dir(h->data_dir, new, 1), 0);
	records_free(&before);
	records_free(&after);
}

static void
test_erase(void **state)
{
	harness *h = *state;
	h_needle canary[] = {{ERASE_CANARY, strlen(ERASE_CANARY), "canary"}};
	records vals, keys;
	char bak[H_PATH_MAX + 32];
	bk_info bi;
	Privd__V1__Response *r;
	privd_client *c;

	put_as(h, "svc", "e-1", ERASE_CANARY);
	records_of(h, "values", &vals);
	records_of(h, "subjects", &keys);
	assert_int_equal(vals.n, 1);
	assert_int_equal(keys.n, 1);
	r = bk_erase(h, "rights", "e-1");
	bk_expect(r, PRIVD__V1__STATUS__OK, 0, "erase");
	privd__v1__response__free_unpacked(r, NULL);
	c = client(h, "svc");
	bk_expect_name(c, "e-1", NULL);
	privd_close(&c);

	snprintf(bak, sizeof(bak), "%s/erase.bak", h->root);
	bk_fetch(h, "operator", bak, &bi);
	assert_int_equal(records_in(&vals, bak), 0);
	assert_int_equal(records_in(&keys, bak), 0);
	assert_int_equal(h_scan_file(bak, canary, 1), 0);
	assert_int_equal(h_scan_dir(h->data_dir, canary, 1), 0);
	records_free(&vals);
	records_free(&keys);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_rectify, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_erase, bk_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/rights_rectify", tests, NULL, NULL);
}
