/*
 * test_sweep.c - daemon/sweep.c on a real LMDB store: a sweep over an
 * index holding entries privd did not write (garbage keys and values,
 * over-long keys, registers and fields the policy does not declare, plans
 * whose value is gone) steps over them, ends, and still acts on the real
 * entry among them; a preview says what the run then does.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit.h"
#include "crypto.h"
#include "retstore.h"
#include "store.h"
#include "sweep.h"

static const char policy_json[] =
    "{\"controller\": {\"name\": \"T Oy\", \"business_id\": \"1234567-8\"},"
    " \"registers\": {\"r\": {"
    "   \"purposes\": {\"p\": {\"legal_basis\": \"contract\"}},"
    "   \"fields\": {\"a\": {\"category\": \"c\", \"type\": \"text\"}},"
    "   \"retention\": [{\"id\": \"gone\", \"categories\": [\"*\"],"
    "     \"from\": \"collected\", \"after\": \"1 day\", \"action\": "
    "\"delete\"}]}},"
    " \"principals\": {\"admin\": {\"key\": "
    "\"DTI6!R.vU>{I9dymSQMHx1Gro.+H[.W2-O.A3)OF\", \"roles\": "
    "[\"policy_admin\"]}}}";

#define DAY_US (86400ULL * 1000000)

typedef struct fx {
	char dir[64];
	store *st;
	crypto_keys *keys;
	pol_policy *pol;
	uint8_t *dk;
} fx;

static int
setup(void **state)
{
	uint8_t master[CRYPTO_KEYBYTES];
	char err[256];
	pol_error perr;
	fx *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/privd-sweep-XXXXXX");
	if (mkdtemp(f->dir) == NULL ||
	    store_open(f->dir, STORE_MIN_MAPSIZE * 8, true, &f->st, err,
	        sizeof(err)) != 0 ||
	    pol_parse(policy_json, strlen(policy_json), &f->pol, &perr) != 0)
		return -1;
	randombytes_buf(master, sizeof(master));
	f->keys = crypto_keys_derive(master);
	f->dk = sodium_malloc(CRYPTO_KEYBYTES);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	char cmd[128];

	store_close(&f->st);
	crypto_keys_free(&f->keys);
	pol_free(&f->pol);
	sodium_free(f->dk);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
put_raw(store_txn *txn, store_tbl dbi, const void *k, size_t kn, const void *v,
    size_t vn)
{
	store_val key = {kn, (void *)k}, val = {vn, (void *)v};

	assert_int_equal(store_put(txn, dbi, &key, &val, 0), 0);
}

/* One real stored field (r, sid, a), written at t, planned a day later,
 * amid entries of the index privd did not write. */
static void
fill(fx *f, const uint8_t *sid, uint64_t t)
{
	uint8_t rec[STORE_VALUE_HDRBYTES + 1 + 40], key[STORE_VALUE_KEYMAX];
	uint8_t junk[RET_DUE_KEYMAX + 40], sub[STORE_SUBJECT_RECBYTES];
	uint8_t other[CRYPTO_SUBJECT_IDBYTES];
	store_txn *txn;
	size_t n;

	assert_int_equal(store_txn_begin(f->st, 0, &txn), 0);
	/* the subject and its value (the seal is not opened by a delete) */
	memset(sub, 0, sizeof(sub));
	sub[0] = STORE_FORMAT;
	put_raw(
	    txn, STORE_SUBJECTS, sid, CRYPTO_SUBJECT_IDBYTES, sub, sizeof(sub));
	n = store_value_header(rec, t, t, "p", 1);
	memset(rec + n, 0xab, 40);
	put_raw(txn, STORE_VALUES, key, store_value_key(key, sid, "a"), rec,
	    n + 40);
	assert_int_equal(
	    ret_plan_set(f->st, txn, "r", sid, "a", t + DAY_US), 0);
	/* garbage: a short key, an over-long key (twice, in a row), a value
	 * that is no register name, an undeclared register and field, and a
	 * plan whose value is gone */
	memset(junk, 0, sizeof(junk));
	put_raw(txn, STORE_RET_DUE, junk, 3, "\1r", 2);
	memset(junk, 0x01, sizeof(junk));
	put_raw(txn, STORE_RET_DUE, junk, sizeof(junk), "\1r", 2);
	junk[sizeof(junk) - 1] = 0x02;
	put_raw(txn, STORE_RET_DUE, junk, sizeof(junk), "\1r", 2);
	store_be64(junk, t);
	memcpy(junk + 8, sid, CRYPTO_SUBJECT_IDBYTES);
	memcpy(junk + 8 + CRYPTO_SUBJECT_IDBYTES, "a", 1);
	put_raw(txn, STORE_RET_DUE, junk, 8 + CRYPTO_SUBJECT_IDBYTES + 1,
	    "\x09r", 2);
	memset(other, 0x17, sizeof(other));
	assert_int_equal(ret_plan_set(f->st, txn, "nosuch", other, "a", t), 0);
	assert_int_equal(ret_plan_set(f->st, txn, "r", sid, "zz", t), 0);
	other[0] = 0x18;
	assert_int_equal(ret_plan_set(f->st, txn, "r", other, "a", t), 0);
	assert_int_equal(store_txn_commit(txn), 0);
}

static sweep *
run(fx *f, uint64_t as_of, bool preview)
{
	sweep_env e = {f->st, f->keys, f->pol, 1, f->dk, 0};
	audit_state a;
	store_txn *txn;
	sweep *sw = sweep_new(as_of, preview, NULL, 0);
	int i;

	assert_non_null(sw);
	assert_int_equal(
	    store_txn_begin(f->st, preview ? STORE_RDONLY : 0, &txn), 0);
	assert_int_equal(audit_load(f->st, txn, &a), 0);
	for (i = 0; i < 100 && !sw->done; i++)
		assert_int_equal(
		    sweep_step(&e, txn, sw, preview ? NULL : &a, as_of), 0);
	assert_true(sw->done); /* it ends */
	if (preview)
		store_txn_abort(txn);
	else
		assert_int_equal(store_txn_commit(txn), 0);
	sweep_finish(sw);
	return sw;
}

static void
test_garbage_in_the_index_is_stepped_over(void **state)
{
	fx *f = *state;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	uint64_t t = 1700000000ULL * 1000000;
	sweep *pv, *sw;
	store_subject s;
	store_txn *txn;

	memset(sid, 0x42, sizeof(sid));
	fill(f, sid, t);
	/* before it is due: nothing */
	pv = run(f, t + DAY_US - 1, true);
	assert_int_equal(pv->actions, 0);
	sweep_free(&pv);
	/* at its due time: the preview and the run act on the one field */
	pv = run(f, t + DAY_US, true);
	assert_int_equal(pv->actions, 1);
	assert_int_equal(pv->ncounts, 1);
	assert_string_equal(pv->counts[0].rule, "gone");
	sw = run(f, t + DAY_US, false);
	assert_int_equal(sw->actions, pv->actions);
	assert_int_equal(sw->counts[0].fields, 1);
	assert_int_equal(sw->counts[0].subjects, 1);
	assert_int_equal(sw->nevs, 1); /* its audit event */
	sweep_free(&pv);
	sweep_free(&sw);
	/* the subject left with nothing is gone, key and all */
	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(
	    store_subject_get(f->st, txn, sid, &s), STORE_NOTFOUND);
	store_txn_abort(txn);
	/* the stale plans were dropped: a second sweep has nothing left
	 * but the entries it cannot read */
	sw = run(f, t + 2 * DAY_US, false);
	assert_int_equal(sw->actions, 0);
	assert_true(sw->examined <= 1);
	sweep_free(&sw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_garbage_in_the_index_is_stepped_over, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
