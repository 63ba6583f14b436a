/*
 * test_store_kv.c - the store_kv.h contract, the same cases on every
 * backend built in: get/put/del, NOOVERWRITE, RESERVE, APPEND, drop,
 * count, key order, cursors both ways with SET_RANGE/SET_KEY/LAST,
 * deletes and rewrites during a walk, a read transaction's snapshot
 * against a concurrent commit, readers on several threads, abort. Then
 * the PostgreSQL backend's own cases: its multi-node hooks
 * (test_store_kv_nodes.c), then the rest (test_store_kv_pg.c).
 *
 * Backends: PostgreSQL in a private server (pgtmp.c) when its binaries
 * are installed (else its cases are skipped, saying why), and LMDB in
 * a temporary directory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_store_kv.h"

typedef struct backend {
	const char *name;
	/* 0: ready; 1: not here (why says so); -1: broken */
	int (*up)(char *why, size_t len);
	void (*down)(void);
	int (*open)(bool create, store **s, char *err, size_t len);
} backend;

static const backend *be;
store *st;

/* ---- the backends ---------------------------------------------------- */

#ifdef HAVE_STORE_PG
pgtmp pg;

static int
pg_up(char *why, size_t len)
{
	return pgtmp_start(&pg, why, len);
}

static void
pg_down(void)
{
	pgtmp_stop(&pg);
}

static int
pg_open(bool create, store **s, char *err, size_t len)
{
	return store_pg_open(pg.conninfo, create, s, err, len);
}
#endif

#ifdef HAVE_STORE_LMDB
static char lmdb_dir[64];

static int
lmdb_up(char *why, size_t len)
{
	snprintf(lmdb_dir, sizeof(lmdb_dir), "/tmp/privd-test-kv.XXXXXX");
	if (mkdtemp(lmdb_dir) == NULL) {
		snprintf(why, len, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static void
lmdb_down(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/data.mdb", lmdb_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", lmdb_dir);
	unlink(path);
	rmdir(lmdb_dir);
}

static int
lmdb_open(bool create, store **s, char *err, size_t len)
{
	return store_lmdb_open(lmdb_dir, 64u << 20, create, s, err, len);
}
#endif

static const backend backends[] = {
#ifdef HAVE_STORE_LMDB
    {"lmdb", lmdb_up, lmdb_down, lmdb_open},
#endif
#ifdef HAVE_STORE_PG
    {"postgresql", pg_up, pg_down, pg_open},
#endif
};

/* ---- helpers --------------------------------------------------------- */

store_val
sv(const char *s)
{
	store_val v = {strlen(s), (void *)s};

	return v;
}

static store_val
be64(uint8_t buf[8], uint64_t n)
{
	store_val v = {8, buf};

	for (int i = 7; i >= 0; i--, n >>= 8)
		buf[i] = (uint8_t)n;
	return v;
}

void
put(store_txn *t, store_tbl tb, const char *k, const char *v)
{
	store_val kk = sv(k), vv = sv(v);

	assert_int_equal(store_put(t, tb, &kk, &vv, 0), 0);
}

/* want == NULL: expect STORE_NOTFOUND. */
void
expect(store_txn *t, store_tbl tb, const char *k, const char *want)
{
	store_val kk = sv(k), v;
	int rc = store_get(t, tb, &kk, &v);

	if (want == NULL) {
		assert_int_equal(rc, STORE_NOTFOUND);
		return;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(v.size, strlen(want));
	assert_memory_equal(v.data, want, v.size);
}

void
expect_val(const store_val *v, const char *want)
{
	assert_int_equal(v->size, strlen(want));
	assert_memory_equal(v->data, want, v->size);
}

store_txn *
wbegin(void)
{
	store_txn *t;

	assert_int_equal(store_txn_begin(st, 0, &t), 0);
	return t;
}

store_txn *
rbegin(void)
{
	store_txn *t;

	assert_int_equal(store_txn_begin(st, STORE_RDONLY, &t), 0);
	return t;
}

uint64_t
count(store_tbl tb)
{
	store_txn *t = rbegin();
	uint64_t n;

	assert_int_equal(store_count(t, tb, &n), 0);
	store_txn_abort(t);
	return n;
}

/* Every test starts from empty tables. */
int
clear_all(void **state)
{
	store_txn *t;

	if (store_txn_begin(st, 0, &t) != 0)
		return -1;
	for (int tb = 0; tb < STORE_NTABLES; tb++) {
		if (store_drop(t, (store_tbl)tb) != 0) {
			store_txn_abort(t);
			return -1;
		}
	}
	return store_txn_commit(t) == 0 ? 0 : -1;
}

void
fill(store_tbl tb, int n)
{
	store_txn *t = wbegin();
	char k[16], v[16];

	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "k%04d", i);
		snprintf(v, sizeof(v), "v%d", i);
		put(t, tb, k, v);
	}
	assert_int_equal(store_txn_commit(t), 0);
}

/* ---- the contract ---------------------------------------------------- */

static void
test_get_put_del(void **state)
{
	store_txn *t = wbegin();
	store_val k = sv("b");
	uint64_t n;

	put(t, STORE_META, "a", "1");
	put(t, STORE_META, "b", "2");
	expect(t, STORE_META, "a", "1"); /* a write txn reads its writes */
	assert_int_equal(store_del(t, STORE_META, &k), 0);
	assert_int_equal(store_del(t, STORE_META, &k), STORE_NOTFOUND);
	expect(t, STORE_META, "b", NULL);
	put(t, STORE_META, "a", "11"); /* replaces */
	expect(t, STORE_META, "a", "11");
	put(t, STORE_VALUES, "a", "other table");
	assert_int_equal(store_txn_commit(t), 0);

	t = rbegin();
	expect(t, STORE_META, "a", "11");
	expect(t, STORE_META, "b", NULL);
	expect(t, STORE_VALUES, "a", "other table");
	assert_int_equal(store_count(t, STORE_META, &n), 0);
	assert_int_equal(n, 1);
	store_txn_abort(t);
}

static void
test_nooverwrite(void **state)
{
	store_txn *t = wbegin();
	store_val k = sv("a"), v = sv("2"), k2 = sv("c"), v2 = sv("3");

	put(t, STORE_META, "a", "1");
	assert_int_equal(store_put(t, STORE_META, &k, &v, STORE_NOOVERWRITE),
	    STORE_KEYEXIST);
	expect_val(&v, "1"); /* as LMDB: v receives the present value */
	assert_int_equal(
	    store_put(t, STORE_META, &k2, &v2, STORE_NOOVERWRITE), 0);
	expect(t, STORE_META, "a", "1");
	assert_int_equal(store_txn_commit(t), 0);

	t = rbegin();
	expect(t, STORE_META, "a", "1");
	expect(t, STORE_META, "c", "3");
	store_txn_abort(t);
}

static void
test_reserve(void **state)
{
	store_txn *t = wbegin();
	store_val k = sv("r1"), v = {5, NULL};
	uint8_t kb[8];
	store_val ka;

	assert_int_equal(store_put(t, STORE_META, &k, &v, STORE_RESERVE), 0);
	assert_non_null(v.data);
	memcpy(v.data, "hello", 5);
	expect(t, STORE_META, "r1", "hello"); /* sent at the next call */

	/* RESERVE | APPEND, as the audit log writes */
	for (uint64_t i = 1; i <= 3; i++) {
		ka = be64(kb, i);
		v.size = 6;
		assert_int_equal(store_put(t, STORE_AUDIT, &ka, &v,
		                     STORE_RESERVE | STORE_APPEND),
		    0);
		snprintf(v.data, 6, "ev%03d", (int)i);
	}

	/* RESERVE | NOOVERWRITE, as retention's anonymous records */
	k = sv("r1");
	v.size = 3;
	assert_int_equal(
	    store_put(t, STORE_META, &k, &v, STORE_RESERVE | STORE_NOOVERWRITE),
	    STORE_KEYEXIST);
	expect_val(&v, "hello");
	k = sv("r2");
	v.size = 3;
	assert_int_equal(
	    store_put(t, STORE_META, &k, &v, STORE_RESERVE | STORE_NOOVERWRITE),
	    0);
	memcpy(v.data, "new", 3);
	/* the last reserved bytes are sent by the commit */
	assert_int_equal(store_txn_commit(t), 0);

	t = rbegin();
	expect(t, STORE_META, "r1", "hello");
	expect(t, STORE_META, "r2", "new");
	for (uint64_t i = 1; i <= 3; i++) {
		char want[8];

		ka = be64(kb, i);
		snprintf(want, sizeof(want), "ev%03d", (int)i);
		assert_int_equal(store_get(t, STORE_AUDIT, &ka, &v), 0);
		assert_int_equal(v.size, 6);
		assert_memory_equal(v.data, want, 6); /* with the NUL */
	}
	store_txn_abort(t);
}

/* A key that does not sort after every key is refused: at the put
 * (LMDB) or, for a backend that queues puts, at the next call that
 * waits or at commit. Either way nothing of the transaction lands. */
static void
bad_append(uint64_t key)
{
	store_txn *t = wbegin();
	uint8_t kb[8];
	store_val k = be64(kb, key), v = sv("bad");
	int rc;

	put(t, STORE_META, "marker", "x");
	rc = store_put(t, STORE_AUDIT, &k, &v, STORE_APPEND);
	if (rc == 0)
		rc = store_txn_commit(t);
	else
		store_txn_abort(t);
	assert_int_equal(rc, STORE_KEYEXIST);

	t = rbegin();
	expect(t, STORE_META, "marker", NULL);
	store_txn_abort(t);
}

static void
test_append(void **state)
{
	store_txn *t = wbegin();
	uint8_t kb[8];
	store_val k, v;
	char val[16];

	for (uint64_t i = 1; i <= 100; i++) {
		k = be64(kb, i);
		snprintf(val, sizeof(val), "e%d", (int)i);
		v = sv(val);
		assert_int_equal(
		    store_put(t, STORE_AUDIT, &k, &v, STORE_APPEND), 0);
	}
	assert_int_equal(store_txn_commit(t), 0);
	assert_int_equal(count(STORE_AUDIT), 100);

	bad_append(50);  /* below the last key */
	bad_append(100); /* the last key itself */
	assert_int_equal(count(STORE_AUDIT), 100);

	t = rbegin();
	k = be64(kb, 50);
	assert_int_equal(store_get(t, STORE_AUDIT, &k, &v), 0);
	expect_val(&v, "e50");
	store_txn_abort(t);
}

static void
test_drop_count(void **state)
{
	store_txn *t;
	uint64_t n;

	fill(STORE_VALUES, 300);
	fill(STORE_META, 5);
	assert_int_equal(count(STORE_VALUES), 300);

	t = wbegin();
	assert_int_equal(store_drop(t, STORE_VALUES), 0);
	assert_int_equal(store_count(t, STORE_VALUES, &n), 0);
	assert_int_equal(n, 0);
	store_txn_abort(t);
	assert_int_equal(count(STORE_VALUES), 300);

	t = wbegin();
	assert_int_equal(store_drop(t, STORE_VALUES), 0);
	assert_int_equal(store_txn_commit(t), 0);
	assert_int_equal(count(STORE_VALUES), 0);
	assert_int_equal(count(STORE_META), 5); /* the table stays */
	fill(STORE_VALUES, 2);
	assert_int_equal(count(STORE_VALUES), 2);
}

static void
test_abort(void **state)
{
	store_txn *t;
	store_val k = sv("k0001");

	fill(STORE_META, 3);
	t = wbegin();
	put(t, STORE_META, "new", "x");
	put(t, STORE_META, "k0000", "changed");
	assert_int_equal(store_del(t, STORE_META, &k), 0);
	store_txn_abort(t);

	t = rbegin();
	expect(t, STORE_META, "new", NULL);
	expect(t, STORE_META, "k0000", "v0");
	expect(t, STORE_META, "k0001", "v1");
	store_txn_abort(t);
}

/* A read transaction keeps its snapshot while a write commits; renew
 * takes a new one. */
static void
test_snapshot(void **state)
{
	store_txn *r, *r2, *t = wbegin();
	store_cur *c;
	store_val k, v;

	put(t, STORE_META, "a", "1");
	assert_int_equal(store_txn_commit(t), 0);

	r = rbegin();
	expect(r, STORE_META, "a", "1");

	t = wbegin();
	put(t, STORE_META, "a", "2");
	put(t, STORE_META, "b", "new");
	assert_int_equal(store_txn_commit(t), 0);

	expect(r, STORE_META, "a", "1");
	expect(r, STORE_META, "b", NULL);
	assert_int_equal(store_cur_open(r, STORE_META, &c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_FIRST), 0);
	expect_val(&k, "a");
	expect_val(&v, "1");
	assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), STORE_NOTFOUND);
	store_cur_close(c);

	r2 = rbegin();
	expect(r2, STORE_META, "a", "2");
	store_txn_abort(r2);

	store_txn_reset(r);
	assert_int_equal(store_txn_renew(r), 0);
	expect(r, STORE_META, "a", "2");
	expect(r, STORE_META, "b", "new");
	store_txn_abort(r);
}

/* Values handed out stay valid until the transaction ends, however many
 * reads and batches come after them. */
static void
test_values_live(void **state)
{
	store_txn *t;
	store_cur *c;
	store_val k, v, first, mid;

	fill(STORE_VALUES, 700);
	t = rbegin();
	k = sv("k0001");
	assert_int_equal(store_get(t, STORE_VALUES, &k, &first), 0);
	assert_int_equal(store_cur_open(t, STORE_VALUES, &c), 0);
	assert_int_equal(store_cur_get(c, &k, &v, STORE_FIRST), 0);
	for (int i = 1; i < 700; i++) {
		assert_int_equal(store_cur_get(c, &k, &v, STORE_NEXT), 0);
		if (i == 5)
			mid = v;
	}
	store_cur_close(c);
	expect_val(&first, "v1");
	expect_val(&mid, "v5");
	store_txn_abort(t);
}

static void
test_big_and_empty_values(void **state)
{
	size_t n = 1u << 20;
	uint8_t *big = malloc(n);
	store_txn *t;
	store_val k = sv("big"), v = {n, big}, k0 = sv("empty"), v0 = {0, ""};

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 131 + (i >> 8));
	t = wbegin();
	assert_int_equal(store_put(t, STORE_VALUES, &k, &v, 0), 0);
	assert_int_equal(store_put(t, STORE_VALUES, &k0, &v0, 0), 0);
	assert_int_equal(store_txn_commit(t), 0);
	t = rbegin();
	assert_int_equal(store_get(t, STORE_VALUES, &k, &v), 0);
	assert_int_equal(v.size, n);
	assert_memory_equal(v.data, big, n);
	assert_int_equal(store_get(t, STORE_VALUES, &k0, &v0), 0);
	assert_int_equal(v0.size, 0);
	store_txn_abort(t);
	free(big);
}

/* More queued puts than a pipeline holds at once. */
static void
test_many_puts(void **state)
{
	fill(STORE_AUDIT_IX, 3000);
	assert_int_equal(count(STORE_AUDIT_IX), 3000);
	store_txn *t = rbegin();
	expect(t, STORE_AUDIT_IX, "k2999", "v2999");
	store_txn_abort(t);
}

#define READERS 4
#define COMMITS 150

struct reader {
	pthread_t th;
	atomic_bool *stop;
	int failures;
	unsigned long reads;
	unsigned long older; /* saw an older commit than before */
};

static unsigned long
number(const store_val *v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%.*s", (int)v->size, (char *)v->data);
	return strtoul(buf, NULL, 10);
}

/* A worker: one read transaction after another, each reading the two
 * counters the writer commits together. */
static void *
reader(void *arg)
{
	struct reader *r = arg;
	store_val kn = sv("n"), km = sv("m"), vn, vm;
	unsigned long last = 0, n;
	store_txn *t;

	while (!atomic_load(r->stop)) {
		if (store_txn_begin(st, STORE_RDONLY, &t) != 0) {
			r->failures++;
			continue;
		}
		if (store_get(t, STORE_META, &kn, &vn) != 0 ||
		    store_get(t, STORE_META, &km, &vm) != 0)
			r->failures++;
		else if ((n = number(&vn)) != number(&vm))
			r->failures++; /* torn: not one snapshot */
		else if (n < last)
			r->older++;
		else
			last = n;
		store_txn_abort(t);
		r->reads++;
	}
	return NULL;
}

/*
 * Readers on several threads while the writer commits: every read
 * transaction sees both counters of one commit (one snapshot). Whether a
 * later transaction of a thread can see an older commit than its
 * earlier one is counted and printed, not asserted: store_kv.h does not
 * promise it, and LMDB 0.9.24 was seen to do it, rarely, on a loaded
 * machine (a reader saw commit 25 after 26); not understood yet.
 */
static void
test_concurrent_readers(void **state)
{
	struct reader rd[READERS];
	atomic_bool stop = false;
	char buf[24];
	store_txn *t = wbegin();

	put(t, STORE_META, "n", "0");
	put(t, STORE_META, "m", "0");
	assert_int_equal(store_txn_commit(t), 0);
	for (int i = 0; i < READERS; i++) {
		rd[i] = (struct reader){.stop = &stop};
		assert_int_equal(
		    pthread_create(&rd[i].th, NULL, reader, &rd[i]), 0);
	}
	for (int i = 1; i <= COMMITS; i++) {
		snprintf(buf, sizeof(buf), "%d", i);
		t = wbegin();
		put(t, STORE_META, "n", buf);
		put(t, STORE_META, "m", buf);
		assert_int_equal(store_txn_commit(t), 0);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < READERS; i++) {
		pthread_join(rd[i].th, NULL);
		assert_int_equal(rd[i].failures, 0);
		assert_true(rd[i].reads > 0);
		if (rd[i].older > 0)
			print_message(
			    "reader %d: %lu of %lu reads saw an older "
			    "commit than the read before\n",
			    i, rd[i].older, rd[i].reads);
	}
}

static const struct CMUnitTest contract[] = {
    cmocka_unit_test_setup(test_get_put_del, clear_all),
    cmocka_unit_test_setup(test_nooverwrite, clear_all),
    cmocka_unit_test_setup(test_reserve, clear_all),
    cmocka_unit_test_setup(test_append, clear_all),
    cmocka_unit_test_setup(test_drop_count, clear_all),
    cmocka_unit_test_setup(test_abort, clear_all),
    cmocka_unit_test_setup(test_key_order, clear_all),
    cmocka_unit_test_setup(test_cursors, clear_all),
    cmocka_unit_test_setup(test_cursor_del, clear_all),
    cmocka_unit_test_setup(test_cursor_put_current, clear_all),
    cmocka_unit_test_setup(test_cursor_sees_writes, clear_all),
    cmocka_unit_test_setup(test_snapshot, clear_all),
    cmocka_unit_test_setup(test_values_live, clear_all),
    cmocka_unit_test_setup(test_big_and_empty_values, clear_all),
    cmocka_unit_test_setup(test_many_puts, clear_all),
    cmocka_unit_test_setup(test_concurrent_readers, clear_all),
    cmocka_unit_test_setup(test_prefetch, clear_all),
    cmocka_unit_test_setup(test_prefetch_snapshot, clear_all),
    cmocka_unit_test_setup(test_prefetch_many, clear_all),
    cmocka_unit_test_setup(test_del_any, clear_all),
    cmocka_unit_test_setup(test_get_then_del, clear_all),
    cmocka_unit_test_setup(test_cursor_stream, clear_all),
};

int
group_open(void **state)
{
	char err[256];

	if (be->open(true, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: open: %s\n", be->name, err);
		return -1;
	}
	return 0;
}

int
group_close(void **state)
{
	store_close(&st);
	return 0;
}

int
main(void)
{
	const size_t nb = sizeof(backends) / sizeof(backends[0]);
	int failed = 0, ran = 0, rc;
	char why[512];

	for (size_t i = 0; i < nb; i++) {
		be = &backends[i];
		if ((rc = be->up(why, sizeof(why))) != 0) {
			be->down();
			if (rc > 0) {
				printf("# %s: skipped: %s\n", be->name, why);
				continue;
			}
			fprintf(stderr, "%s: %s\n", be->name, why);
			failed++;
			continue;
		}
		ran++;
		failed += _cmocka_run_group_tests(be->name, contract,
		    sizeof(contract) / sizeof(contract[0]), group_open,
		    group_close);
#ifdef HAVE_STORE_PG
		if (strcmp(be->name, "postgresql") == 0) {
			failed += run_pg_nodes();
			failed += run_pg_own(); /* last: it fails over */
		}
#endif
		be->down();
	}
	if (ran == 0 && failed == 0) {
		printf("# no backend to test: skipped\n");
		return 77;
	}
	return failed != 0;
}
