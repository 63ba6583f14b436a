/*
 * test_store_kv_cursor.c - the cursor cases of the store_kv.h contract
 * (test_store_kv.c runs them on every backend): key order, walks both
 * ways across batches with SET_RANGE, SET_KEY and LAST, deletes and
 * rewrites at the cursor during a walk, and the transaction's own
 * writes seen by an open cursor. Then the read-ahead (store_prefetch)
 * and store_del_any, whose answers must be those of plain gets and dels
 * whatever the transaction wrote in between.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "test_store_kv.h"

/* bytea and LMDB's default order: bytewise, unsigned, a prefix first. */
void
test_key_order(void **state)
{
	static const struct {
		size_t n;
		const char *b;
	} keys[] = {{1, "\x00"}, {2, "\x00\x00"}, {2, "\x00\x01"}, {1, "\x01"},
	    {1, "\x7f"}, {1, "\x80"}, {2, "\x80\x00"}, {1, "\xff"},
	    {2, "\xff\xff"}};
	const size_t nk = sizeof(keys) / sizeof(keys[0]);
	static const int shuffled[] = {5, 0, 8, 3, 1, 7, 2, 6, 4};
	store_txn *t = wbegin();
	store_cur *c;
	store_val k, v;
	size_t i;

	for (i = 0; i < nk; i++) {
		k.size = keys[shuffled[i]].n;
		k.data = (void *)keys[shuffled[i]].b;
		v = sv("x");
		assert_int_equal(store_put(t, STORE_BLIND, &k, &v, 0), 0);
	}
	assert_int_equal(store_txn_commit(t), 0);

	t = rbegin();
	assert_int_equal(store_cur_open(t, STORE_BLIND, &c), 0);
	for (i = 0; i < nk; i++) {
		assert_int_equal(
		    store_cur_get(c, &k, &v, i == 0 ? STORE_FIRST : STORE_NEXT),
		    0);
		assert_int_equal(k.size, keys[i].n);
		assert_memory_equal(k.data, keys[i].b, k.size);
	}
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), STORE_NOTFOUND);
	for (i = nk; i-- > 0;) {
		assert_int_equal(store_cur_get(c, &k, &v,
		                     i == nk - 1 ? STORE_LAST : STORE_PREV),
		    0);
		assert_int_equal(k.size, keys[i].n);
		assert_memory_equal(k.data, keys[i].b, k.size);
	}
	assert_int_equal(store_cur_get(c, &k, &v, STORE_PREV), STORE_NOTFOUND);
	store_cur_close(c);
	store_txn_abort(t);
}

static void
expect_rec(const store_val *k, const store_val *v, int i)
{
	char kb[16], vb[16];

	snprintf(kb, sizeof(kb), "k%04d", i);
	snprintf(vb, sizeof(vb), "v%d", i);
	expect_val(k, kb);
	expect_val(v, vb);
}

/* Walks of 1000 records cross several batches of a backend that
 * fetches in batches; both ways, and turning round midway. */
static void
cursor_walks(store_txn *t)
{
	store_cur *c;
	store_val k, v;
	int i;

	assert_int_equal(store_cur_open(t, STORE_VALUES, &c), 0);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(
		    store_cur_get(c, &k, &v, i == 0 ? STORE_FIRST : STORE_NEXT),
		    0);
		expect_rec(&k, &v, i);
	}
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), STORE_NOTFOUND);
	for (i = 999; i >= 0; i--) {
		assert_int_equal(store_cur_get(c, &k, &v,
		                     i == 999 ? STORE_LAST : STORE_PREV),
		    0);
		expect_rec(&k, &v, i);
	}
	assert_int_equal(store_cur_get(c, &k, &v, STORE_PREV), STORE_NOTFOUND);

	k = sv("k0500x");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_SET_RANGE), 0);
	expect_rec(&k, &v, 501);
	k = sv("k0000");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_SET_RANGE), 0);
	expect_rec(&k, &v, 0);
	k = sv("k9");
	assert_int_equal(
	    store_cur_get(c, &k, &v, STORE_SET_RANGE), STORE_NOTFOUND);
	k = sv("k0700x");
	assert_int_equal(
	    store_cur_get(c, &k, &v, STORE_SET_KEY), STORE_NOTFOUND);
	k = sv("k0700");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_SET_KEY), 0);
	expect_rec(&k, &v, 700);
	/* turning round, across the edges of whatever batches there are */
	for (i = 701; i < 900; i++) {
		assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), 0);
		expect_rec(&k, &v, i);
	}
	for (i = 898; i > 400; i--) {
		assert_int_equal(store_cur_get(c, &k, &v, STORE_PREV), 0);
		expect_rec(&k, &v, i);
	}
	assert_int_equal(store_cur_get(c, &k, &v, STORE_GET_CURRENT), 0);
	expect_rec(&k, &v, 401);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), 0);
	expect_rec(&k, &v, 402);
	store_cur_close(c);

	/* a fresh cursor: NEXT starts at the first record, PREV at the last */
	assert_int_equal(store_cur_open(t, STORE_VALUES, &c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), 0);
	expect_rec(&k, &v, 0);
	store_cur_close(c);
	assert_int_equal(store_cur_open(t, STORE_VALUES, &c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_PREV), 0);
	expect_rec(&k, &v, 999);
	store_cur_close(c);
}

void
test_cursors(void **state)
{
	store_txn *t;
	store_cur *c;
	store_val k, v;

	fill(STORE_VALUES, 1000);
	t = rbegin();
	cursor_walks(t);
	store_txn_abort(t);
	t = wbegin();
	cursor_walks(t);
	assert_int_equal(store_txn_commit(t), 0);

	/* an empty table */
	t = rbegin();
	assert_int_equal(store_cur_open(t, STORE_HOLDS, &c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_FIRST), STORE_NOTFOUND);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_LAST), STORE_NOTFOUND);
	k = sv("a");
	assert_int_equal(
	    store_cur_get(c, &k, &v, STORE_SET_RANGE), STORE_NOTFOUND);
	store_cur_close(c);
	store_txn_abort(t);
}

/* Deleting at the cursor while walking: NEXT goes on with the record
 * that followed, PREV with the one before. */
void
test_cursor_del(void **state)
{
	store_txn *t;
	store_cur *c;
	store_val k, v;
	int i, rc;

	fill(STORE_VALUES, 600);
	t = wbegin();
	assert_int_equal(store_cur_open(t, STORE_VALUES, &c), 0);
	/* forward, deleting the even ones */
	for (i = 0, rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     i++, rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		expect_rec(&k, &v, i);
		if (i % 2 == 0)
			assert_int_equal(store_cur_del(c), 0);
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	assert_int_equal(i, 600);

	/* turning round after a delete */
	k = sv("k0301");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_SET_KEY), 0);
	assert_int_equal(store_cur_del(c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_PREV), 0);
	expect_rec(&k, &v, 299);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), 0);
	expect_rec(&k, &v, 303);

	/* backward, deleting every one below 200 */
	k = sv("k0200");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_SET_RANGE), 0);
	expect_rec(&k, &v, 201);
	for (i = 199, rc = store_cur_get(c, &k, &v, STORE_PREV); rc == 0;
	     i -= 2, rc = store_cur_get(c, &k, &v, STORE_PREV)) {
		expect_rec(&k, &v, i);
		assert_int_equal(store_cur_del(c), 0);
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	assert_int_equal(i, -1);
	store_cur_close(c);
	assert_int_equal(store_txn_commit(t), 0);

	/* left: the odd ones from 201, without 301 */
	t = rbegin();
	assert_int_equal(store_cur_open(t, STORE_VALUES, &c), 0);
	for (i = 201, rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		expect_rec(&k, &v, i);
		i += i == 299 ? 4 : 2;
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	assert_int_equal(i, 601);
	store_cur_close(c);
	store_txn_abort(t);
	assert_int_equal(count(STORE_VALUES), 199);
}

void
test_cursor_put_current(void **state)
{
	store_txn *t;
	store_cur *c;
	store_val k, v, nv, kc;
	char buf[16], kb[16];
	int i, rc;

	fill(STORE_VALUES, 500);
	t = wbegin();
	assert_int_equal(store_cur_open(t, STORE_VALUES, &c), 0);
	for (i = 0, rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     i++, rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		expect_rec(&k, &v, i);
		snprintf(buf, sizeof(buf), "new%d", i);
		nv = sv(buf);
		/* a copy of the key: LMDB re-inserts the record with the key
		 * it is given when the value's size changes, and the cursor's
		 * key points into the page it rewrites */
		snprintf(kb, sizeof(kb), "%.*s", (int)k.size, (char *)k.data);
		kc = sv(kb);
		assert_int_equal(store_cur_put_current(c, &kc, &nv), 0);
		assert_int_equal(
		    store_cur_get(c, &k, &v, STORE_GET_CURRENT), 0);
		expect_val(&v, buf);
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	assert_int_equal(i, 500);
	/* back over the rewritten records */
	for (i = 499; i >= 0; i--) {
		assert_int_equal(store_cur_get(c, &k, &v,
		                     i == 499 ? STORE_LAST : STORE_PREV),
		    0);
		snprintf(buf, sizeof(buf), "new%d", i);
		expect_val(&v, buf);
	}
	store_cur_close(c);
	assert_int_equal(store_txn_commit(t), 0);

	t = rbegin();
	expect(t, STORE_VALUES, "k0123", "new123");
	store_txn_abort(t);
}

/* A cursor sees the transaction's own writes made while it is open. */
void
test_cursor_sees_writes(void **state)
{
	store_txn *t = wbegin();
	store_cur *c;
	store_val k, v;

	put(t, STORE_META, "a", "1");
	put(t, STORE_META, "c", "3");
	put(t, STORE_META, "e", "5");
	assert_int_equal(store_cur_open(t, STORE_META, &c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_FIRST), 0);
	expect_val(&k, "a");
	put(t, STORE_META, "b", "2");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), 0);
	expect_val(&k, "b");
	k = sv("c");
	assert_int_equal(store_del(t, STORE_META, &k), 0);
	put(t, STORE_META, "e", "55");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), 0);
	expect_val(&k, "e");
	expect_val(&v, "55");
	store_cur_close(c);
	assert_int_equal(store_txn_commit(t), 0);
}

/* Reads ahead the keys of names (NULL-terminated) in table tb. */
static void
prefetch(store_txn *t, store_tbl tb, const char *const *names)
{
	store_val keys[16];
	size_t n = 0;

	for (; names[n] != NULL; n++)
		keys[n] = sv(names[n]);
	assert_int_equal(store_prefetch(t, tb, keys, n), 0);
}

/*
 * store_prefetch is only a hint: the gets after it answer as without it,
 * present or absent, and the transaction's own writes after it (put,
 * del, RESERVE, NOOVERWRITE, a cursor's writes, drop) are what the gets
 * and dels see; a key read ahead twice, or in another table, is its own.
 */
void
test_prefetch(void **state)
{
	static const char *const abcx[] = {"a", "b", "c", "d", "e", "x", NULL};
	store_txn *t = wbegin();
	store_cur *c;
	store_val k, v;

	put(t, STORE_META, "a", "1");
	put(t, STORE_META, "b", "2");
	put(t, STORE_META, "d", "4");
	put(t, STORE_META, "e", "5");
	put(t, STORE_POLICY, "a", "other table");
	assert_int_equal(store_txn_commit(t), 0);

	t = wbegin();
	prefetch(t, STORE_META, abcx);
	prefetch(t, STORE_META, abcx); /* twice: the same */
	expect(t, STORE_META, "a", "1");
	expect(t, STORE_META, "x", NULL);
	expect(t, STORE_POLICY, "a", "other table");
	/* a put after the read-ahead, before its results were read */
	put(t, STORE_META, "b", "2'");
	expect(t, STORE_META, "b", "2'");
	put(t, STORE_META, "x", "new");
	expect(t, STORE_META, "x", "new");
	k = sv("a");
	assert_int_equal(store_del(t, STORE_META, &k), 0);
	assert_int_equal(store_del(t, STORE_META, &k), STORE_NOTFOUND);
	expect(t, STORE_META, "a", NULL);
	k = sv("c");
	assert_int_equal(store_del(t, STORE_META, &k), STORE_NOTFOUND);
	/* NOOVERWRITE: answered by the store, then seen */
	v = sv("no");
	k = sv("b");
	assert_int_equal(store_put(t, STORE_META, &k, &v, STORE_NOOVERWRITE),
	    STORE_KEYEXIST);
	expect_val(&v, "2'");
	v = sv("3");
	k = sv("c");
	assert_int_equal(
	    store_put(t, STORE_META, &k, &v, STORE_NOOVERWRITE), 0);
	expect(t, STORE_META, "c", "3");
	/* RESERVE: the bytes written after the put are the value */
	k = sv("d");
	v.size = 2;
	assert_int_equal(store_put(t, STORE_META, &k, &v, STORE_RESERVE), 0);
	memcpy(v.data, "4'", 2);
	expect(t, STORE_META, "d", "4'");
	/* a cursor's writes */
	assert_int_equal(store_cur_open(t, STORE_META, &c), 0);
	k = sv("e");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_SET_KEY), 0);
	k = sv("e"); /* not LMDB's page: the size changes (as above) */
	v = sv("5'");
	assert_int_equal(store_cur_put_current(c, &k, &v), 0);
	store_cur_close(c);
	expect(t, STORE_META, "e", "5'");
	assert_int_equal(store_cur_open(t, STORE_META, &c), 0);
	k = sv("e");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_SET_KEY), 0);
	assert_int_equal(store_cur_del(c), 0);
	store_cur_close(c);
	expect(t, STORE_META, "e", NULL);
	assert_int_equal(store_txn_commit(t), 0);

	t = rbegin();
	expect(t, STORE_META, "a", NULL);
	expect(t, STORE_META, "b", "2'");
	expect(t, STORE_META, "c", "3");
	expect(t, STORE_META, "d", "4'");
	expect(t, STORE_META, "e", NULL);
	expect(t, STORE_META, "x", "new");
	store_txn_abort(t);

	/* drop, and an abort leaves nothing of it behind */
	t = wbegin();
	prefetch(t, STORE_META, abcx);
	expect(t, STORE_META, "b", "2'");
	assert_int_equal(store_drop(t, STORE_META), 0);
	expect(t, STORE_META, "b", NULL);
	expect(t, STORE_META, "x", NULL);
	store_txn_abort(t);
	t = wbegin();
	expect(t, STORE_META, "b", "2'");
	store_txn_abort(t);
}

/* A read transaction's read-ahead is of its snapshot, kept across a
 * commit made meanwhile; a reset and renew forgets it. */
void
test_prefetch_snapshot(void **state)
{
	static const char *const ab[] = {"a", "b", NULL};
	store_txn *r, *t = wbegin();

	put(t, STORE_META, "a", "1");
	assert_int_equal(store_txn_commit(t), 0);

	r = rbegin();
	prefetch(r, STORE_META, ab);
	expect(r, STORE_META, "a", "1");
	t = wbegin();
	put(t, STORE_META, "a", "2");
	put(t, STORE_META, "b", "new");
	assert_int_equal(store_txn_commit(t), 0);
	expect(r, STORE_META, "a", "1");
	expect(r, STORE_META, "b", NULL);
	store_txn_reset(r);
	assert_int_equal(store_txn_renew(r), 0);
	expect(r, STORE_META, "a", "2");
	expect(r, STORE_META, "b", "new");
	prefetch(r, STORE_META, ab);
	expect(r, STORE_META, "b", "new");
	store_txn_abort(r);
}

/* Many keys, more than the pipeline's queue holds at once: every one
 * answered, present or not. */
void
test_prefetch_many(void **state)
{
	store_val keys[600];
	char names[600][8], want[8];
	store_txn *t;
	int i;

	fill(STORE_VALUES, 500);
	for (i = 0; i < 600; i++) {
		snprintf(names[i], sizeof(names[i]), "k%04d", i);
		keys[i] = sv(names[i]);
	}
	t = wbegin();
	assert_int_equal(store_prefetch(t, STORE_VALUES, keys, 600), 0);
	for (i = 0; i < 600; i++) {
		snprintf(want, sizeof(want), "v%d", i);
		expect(t, STORE_VALUES, names[i], i < 500 ? want : NULL);
	}
	assert_int_equal(store_txn_commit(t), 0);
}

/* store_del_any: the key is gone whether it was there or not; never
 * STORE_NOTFOUND; the transaction's gets (read ahead, read before, or
 * not) and a cursor see it gone; an abort brings it back. */
void
test_del_any(void **state)
{
	static const char *const a[] = {"a", NULL};
	store_txn *t = wbegin();
	store_cur *c;
	store_val k, v;

	put(t, STORE_META, "a", "1");
	put(t, STORE_META, "b", "2");
	put(t, STORE_META, "c", "3");
	assert_int_equal(store_txn_commit(t), 0);

	t = wbegin();
	prefetch(t, STORE_META, a);
	k = sv("a");
	assert_int_equal(store_del_any(t, STORE_META, &k), 0);
	expect(t, STORE_META, "a", NULL);
	expect(t, STORE_META, "b", "2"); /* read before the delete */
	k = sv("b");
	assert_int_equal(store_del_any(t, STORE_META, &k), 0);
	expect(t, STORE_META, "b", NULL);
	assert_int_equal(store_del(t, STORE_META, &k), STORE_NOTFOUND);
	k = sv("nothing");
	assert_int_equal(store_del_any(t, STORE_META, &k), 0);
	k = sv("c"); /* never read */
	assert_int_equal(store_del_any(t, STORE_META, &k), 0);
	assert_int_equal(store_cur_open(t, STORE_META, &c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_FIRST), STORE_NOTFOUND);
	store_cur_close(c);
	store_txn_abort(t);

	t = wbegin();
	expect(t, STORE_META, "a", "1");
	k = sv("c");
	assert_int_equal(store_del_any(t, STORE_META, &k), 0);
	assert_int_equal(store_txn_commit(t), 0);
	t = rbegin();
	expect(t, STORE_META, "b", "2");
	expect(t, STORE_META, "c", NULL);
	store_txn_abort(t);
}

/* A write transaction's gets answer its dels too (PostgreSQL keeps what
 * the server answered): a get, then a put or a del of the key elsewhere
 * in the transaction, then a del, each answers as the store now is. */
void
test_get_then_del(void **state)
{
	store_txn *t = wbegin();
	store_val k;

	put(t, STORE_META, "a", "1");
	assert_int_equal(store_txn_commit(t), 0);

	t = wbegin();
	expect(t, STORE_META, "a", "1");
	expect(t, STORE_META, "b", NULL);
	k = sv("a");
	assert_int_equal(store_del(t, STORE_META, &k), 0);
	assert_int_equal(store_del(t, STORE_META, &k), STORE_NOTFOUND);
	put(t, STORE_META, "b", "2");
	k = sv("b");
	assert_int_equal(store_del(t, STORE_META, &k), 0);
	expect(t, STORE_META, "b", NULL);
	put(t, STORE_META, "a", "again");
	expect(t, STORE_META, "a", "again");
	assert_int_equal(store_txn_commit(t), 0);
	t = rbegin();
	expect(t, STORE_META, "a", "again");
	expect(t, STORE_META, "b", NULL);
	store_txn_abort(t);
}

/* A streaming cursor walks as any other: every record in order both
 * ways across many batches, past the end and back, and rewrites at the
 * cursor on the way (store_cur_stream only shortens how long a record
 * it returned stays valid). */
void
test_cursor_stream(void **state)
{
	store_txn *t;
	store_cur *c;
	store_val k, v;
	char want[16];
	int i, rc;

	fill(STORE_AUDIT, 1200);
	t = rbegin();
	assert_int_equal(store_cur_open(t, STORE_AUDIT, &c), 0);
	store_cur_stream(c);
	for (i = 0; i < 1200; i++) {
		assert_int_equal(
		    store_cur_get(c, &k, &v, i == 0 ? STORE_FIRST : STORE_NEXT),
		    0);
		snprintf(want, sizeof(want), "k%04d", i);
		expect_val(&k, want);
		snprintf(want, sizeof(want), "v%d", i);
		expect_val(&v, want);
	}
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), STORE_NOTFOUND);
	for (i = 1199; i >= 0; i--) {
		assert_int_equal(store_cur_get(c, &k, &v,
		                     i == 1199 ? STORE_LAST : STORE_PREV),
		    0);
		snprintf(want, sizeof(want), "k%04d", i);
		expect_val(&k, want);
	}
	store_cur_close(c);
	store_txn_abort(t);

	t = wbegin();
	assert_int_equal(store_cur_open(t, STORE_AUDIT, &c), 0);
	store_cur_stream(c);
	k = sv("k0100");
	for (i = 0, rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     i++, rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		snprintf(want, sizeof(want), "k%04d", 100 + i);
		expect_val(&k, want);
		if (i % 2 == 0)
			assert_int_equal(store_cur_del(c), 0);
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	assert_int_equal(i, 1100);
	store_cur_close(c);
	assert_int_equal(store_txn_commit(t), 0);
	assert_int_equal(count(STORE_AUDIT), 650);
}
