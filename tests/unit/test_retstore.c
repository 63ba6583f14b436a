/*
 * test_retstore.c - daemon/retstore.c on a real LMDB store in a temporary
 * directory: the retention records round-trip, keep the due-time index in
 * step with the plans, and refuse what privd did not write (malformed,
 * edited or moved records) without reading past their ends.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"
#include "retstore.h"
#include "store.h"

typedef struct fx {
	char dir[64];
	store *st;
	crypto_keys *keys;
	store_txn *txn;
} fx;

static int
setup(void **state)
{
	uint8_t master[CRYPTO_KEYBYTES];
	char err[256];
	fx *f = calloc(1, sizeof(*f));

	if (f == NULL || sodium_init() < 0)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/privd-retstore-XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, STORE_MIN_MAPSIZE * 8,
	                                   true, &f->st, err, sizeof(err)) != 0)
		return -1;
	randombytes_buf(master, sizeof(master));
	f->keys = crypto_keys_derive(master);
	if (store_txn_begin(f->st, 0, &f->txn) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fx *f = *state;
	char cmd[128];

	store_txn_abort(f->txn);
	store_close(&f->st);
	crypto_keys_free(&f->keys);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
sid_of(uint8_t sid[CRYPTO_SUBJECT_IDBYTES], int n)
{
	memset(sid, 0, CRYPTO_SUBJECT_IDBYTES);
	sid[0] = (uint8_t)n;
	sid[31] = 0x5a;
}

/* Entries of ret_due, in order. */
static size_t
due_entries(fx *f, ret_due *out, size_t max)
{
	store_cur *c;
	store_val k, v;
	size_t n = 0;

	assert_int_equal(store_cur_open(f->txn, STORE_RET_DUE, &c), 0);
	while (
	    store_cur_get(c, &k, &v, n == 0 ? STORE_FIRST : STORE_NEXT) == 0) {
		assert_true(n < max);
		assert_int_equal(ret_due_decode(&k, &v, &out[n]), 0);
		n++;
	}
	store_cur_close(c);
	return n;
}

static void
test_plans_keep_the_index_in_step(void **state)
{
	fx *f = *state;
	uint8_t a[CRYPTO_SUBJECT_IDBYTES], b[CRYPTO_SUBJECT_IDBYTES];
	ret_due d[8];
	uint64_t due;

	sid_of(a, 1);
	sid_of(b, 2);
	assert_int_equal(
	    ret_plan_set(f->st, f->txn, "acis", a, "name", 300), 0);
	assert_int_equal(
	    ret_plan_set(f->st, f->txn, "acis", a, "email", 100), 0);
	assert_int_equal(
	    ret_plan_set(f->st, f->txn, "acis", b, "name", 200), 0);
	assert_int_equal(due_entries(f, d, 8), 3);
	assert_int_equal(d[0].due_us, 100);
	assert_string_equal(d[0].field, "email");
	assert_string_equal(d[0].reg, "acis");
	assert_memory_equal(d[0].sid, a, sizeof(a));
	assert_int_equal(d[1].due_us, 200);
	/* moving a plan moves its entry; NEVER removes both */
	assert_int_equal(ret_plan_set(f->st, f->txn, "acis", a, "name", 50), 0);
	assert_int_equal(due_entries(f, d, 8), 3);
	assert_int_equal(d[0].due_us, 50);
	assert_int_equal(
	    ret_plan_set(f->st, f->txn, "acis", a, "name", RET_NEVER), 0);
	assert_int_equal(ret_plan_get(f->st, f->txn, a, "name", &due), 0);
	assert_true(due == RET_NEVER);
	assert_int_equal(due_entries(f, d, 8), 2);
	/* a subject's plans go together, and only its own */
	assert_int_equal(ret_plan_drop_subject(f->st, f->txn, a), 0);
	assert_int_equal(due_entries(f, d, 8), 1);
	assert_memory_equal(d[0].sid, b, sizeof(b));
	assert_int_equal(ret_plan_get(f->st, f->txn, b, "name", &due), 0);
	assert_int_equal(due, 200);
}

static void
test_due_decode_refuses_malformed_entries(void **state)
{
	uint8_t key[RET_DUE_KEYMAX + 8], val[80];
	store_val k = {0, key}, v = {0, val};
	ret_due d;

	(void)state;
	memset(key, 'x', sizeof(key));
	val[0] = 4;
	memcpy(val + 1, "acis", 4);
	v.size = 5;
	k.size = 8 + CRYPTO_SUBJECT_IDBYTES; /* no field */
	assert_int_equal(ret_due_decode(&k, &v, &d), -1);
	k.size = RET_DUE_KEYMAX + 1; /* field name too long */
	assert_int_equal(ret_due_decode(&k, &v, &d), -1);
	k.size = 8 + CRYPTO_SUBJECT_IDBYTES + 4;
	assert_int_equal(ret_due_decode(&k, &v, &d), 0);
	v.size = 4; /* register name longer than the value */
	assert_int_equal(ret_due_decode(&k, &v, &d), -1);
	val[0] = 0;
	v.size = 1; /* empty register name */
	assert_int_equal(ret_due_decode(&k, &v, &d), -1);
	val[0] = 4;
	v.size = 6; /* trailing byte */
	assert_int_equal(ret_due_decode(&k, &v, &d), -1);
}

static void
test_subject_record_is_sealed_and_bound(void **state)
{
	fx *f = *state;
	uint8_t a[CRYPTO_SUBJECT_IDBYTES], b[CRYPTO_SUBJECT_IDBYTES];
	uint8_t key[RET_SUB_KEYMAX];
	ret_sub rs = {0}, got;
	store_val k, v, v2;
	void *copy;

	sid_of(a, 1);
	sid_of(b, 2);
	rs.rel_end_us = 1234;
	rs.flags = RET_SUB_REL_ACTED;
	rs.subjlen = strlen("alice-CANARY");
	memcpy(rs.subject, "alice-CANARY", rs.subjlen);
	assert_int_equal(
	    ret_sub_put(f->st, f->txn, f->keys, "customers", a, &rs), 0);
	assert_int_equal(
	    ret_sub_get(f->st, f->txn, f->keys, "customers", a, &got), 0);
	assert_string_equal(got.subject, "alice-CANARY");
	assert_int_equal(got.rel_end_us, 1234);
	assert_int_equal(got.flags, RET_SUB_REL_ACTED);
	/* the subject id is not in the record in the clear */
	k.size = ret_sub_key(key, "customers", a);
	k.data = key;
	assert_int_equal(store_get(f->txn, STORE_RET_SUB, &k, &v), 0);
	assert_null(memmem(v.data, v.size, "CANARY", 6));
	/* the same record under another subject's key does not open */
	copy = malloc(v.size);
	memcpy(copy, v.data, v.size);
	v2.size = v.size;
	v2.data = copy;
	k.size = ret_sub_key(key, "customers", b);
	assert_int_equal(store_put(f->txn, STORE_RET_SUB, &k, &v2, 0), 0);
	assert_int_equal(
	    ret_sub_get(f->st, f->txn, f->keys, "customers", b, &got),
	    STORE_CORRUPTED);
	/* nor with an edited relationship end: the seal binds the header */
	k.size = ret_sub_key(key, "customers", a);
	((uint8_t *)copy)[9] ^= 1;
	assert_int_equal(store_put(f->txn, STORE_RET_SUB, &k, &v2, 0), 0);
	assert_int_equal(
	    ret_sub_get(f->st, f->txn, f->keys, "customers", a, &got),
	    STORE_CORRUPTED);
	((uint8_t *)copy)[9] ^= 1;
	k.size = ret_sub_key(key, "customers", b);
	((uint8_t *)copy)[0] = 9; /* unknown format */
	assert_int_equal(store_put(f->txn, STORE_RET_SUB, &k, &v2, 0), 0);
	assert_int_equal(
	    ret_sub_get(f->st, f->txn, f->keys, "customers", b, &got),
	    STORE_CORRUPTED);
	v2.size = 5; /* too short */
	assert_int_equal(store_put(f->txn, STORE_RET_SUB, &k, &v2, 0), 0);
	assert_int_equal(
	    ret_sub_get(f->st, f->txn, f->keys, "customers", b, &got),
	    STORE_CORRUPTED);
	free(copy);
}

static void
test_holds_round_trip_and_refuse_damage(void **state)
{
	fx *f = *state;
	uint8_t a[CRYPTO_SUBJECT_IDBYTES], key[RET_HOLD_KEYMAX];
	ret_hold h = {0}, got;
	bool held;
	store_val k, v;
	uint8_t *copy;

	sid_of(a, 1);
	snprintf(h.reg, sizeof(h.reg), "customers");
	h.has_sid = true;
	memcpy(h.sid, a, sizeof(a));
	h.set_at_us = 10;
	h.until_us = 1000;
	snprintf(h.by, sizeof(h.by), "dpo");
	snprintf(h.subject, sizeof(h.subject), "bob-CANARY");
	snprintf(h.reason, sizeof(h.reason), "court case CANARY");
	assert_int_equal(ret_hold_put(f->st, f->txn, f->keys, &h), 0);
	assert_int_equal(
	    ret_hold_get(f->st, f->txn, f->keys, "customers", a, &got), 0);
	assert_string_equal(got.subject, "bob-CANARY");
	assert_string_equal(got.reason, "court case CANARY");
	assert_string_equal(got.by, "dpo");
	assert_int_equal(got.until_us, 1000);
	/* in force before its end, not at it */
	assert_int_equal(ret_hold_find(f->st, f->txn, f->keys, "customers", a,
	                     999, &held, &got),
	    0);
	assert_true(held);
	assert_int_equal(ret_hold_find(f->st, f->txn, f->keys, "customers", a,
	                     1000, &held, &got),
	    0);
	assert_false(held);
	/* no reason or subject id in the clear */
	k.size = ret_hold_key(key, "customers", a);
	k.data = key;
	assert_int_equal(store_get(f->txn, STORE_HOLDS, &k, &v), 0);
	assert_null(memmem(v.data, v.size, "CANARY", 6));
	/* an edited end does not authenticate (the seal binds the header),
	 * nor does a flipped byte of the sealed part */
	copy = malloc(v.size);
	memcpy(copy, v.data, v.size);
	v.data = copy;
	copy[16] ^= 1; /* the low byte of until */
	assert_int_equal(store_put(f->txn, STORE_HOLDS, &k, &v, 0), 0);
	assert_int_equal(
	    ret_hold_get(f->st, f->txn, f->keys, "customers", a, &got),
	    STORE_CORRUPTED);
	copy[16] ^= 1;
	copy[v.size - 1] ^= 1;
	assert_int_equal(store_put(f->txn, STORE_HOLDS, &k, &v, 0), 0);
	assert_int_equal(
	    ret_hold_get(f->st, f->txn, f->keys, "customers", a, &got),
	    STORE_CORRUPTED);
	v.size = 3;
	assert_int_equal(store_put(f->txn, STORE_HOLDS, &k, &v, 0), 0);
	assert_int_equal(
	    ret_hold_get(f->st, f->txn, f->keys, "customers", a, &got),
	    STORE_CORRUPTED);
	free(copy);
}

static void
test_anonymous_records(void **state)
{
	fx *f = *state;
	uint8_t plain[64], *opened;
	const uint8_t *val;
	size_t len, vlen, n;
	uint64_t month;
	bool more;
	store_cur *c;
	store_val k, v;

	/* feedback_score = "4" */
	len = 0;
	plain[len++] = 14;
	memcpy(plain + len, "feedback_score", 14);
	len += 14;
	memcpy(plain + len,
	    "\0\0\0\1"
	    "4",
	    5);
	len += 5;
	assert_int_equal(ret_anon_put(f->st, f->txn, f->keys, "acis",
	                     ret_month_of(1700000000ULL * 1000000), plain, len),
	    0);
	assert_int_equal(store_cur_open(f->txn, STORE_ANON, &c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_FIRST), 0);
	assert_int_equal(
	    ret_anon_open(f->keys, &k, &v, &opened, &n, &month), 0);
	store_cur_close(c);
	assert_int_equal(month, 1698796800ULL * 1000000); /* 2023-11-01 */
	val = ret_anon_field(opened, n, "feedback_score", &vlen);
	assert_non_null(val);
	assert_int_equal(vlen, 1);
	assert_memory_equal(val, "4", 1);
	assert_null(ret_anon_field(opened, n, "name", &vlen));
	/* truncated: the field's length runs past the end */
	assert_null(ret_anon_field(opened, n - 1, "feedback_score", &vlen));
	free(opened);
	/* dropped with its register */
	assert_int_equal(
	    ret_anon_drop(f->st, f->txn, "acis", 10, &n, &more), 0);
	assert_int_equal(n, 1);
	assert_false(more);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_plans_keep_the_index_in_step, setup, teardown),
	    cmocka_unit_test(test_due_decode_refuses_malformed_entries),
	    cmocka_unit_test_setup_teardown(
	        test_subject_record_is_sealed_and_bound, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_holds_round_trip_and_refuse_damage, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_anonymous_records, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
