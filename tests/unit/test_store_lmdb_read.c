/*
 * test_store_lmdb_read.c - LMDB read snapshots never go back in time.
 *
 * LMDB 0.9.24 starts a read transaction by registering the last commit's
 * txnid and then copying that commit's meta page; a reader delayed
 * between the two copies the page the writer has meanwhile rewritten for
 * a later, unfinished commit, and its next read, registering the commit
 * in between, sees an older one (store_lmdb.c, read_settle). Readers
 * here do what privd's workers do (a read handle renewed per request,
 * store_read_begin/store_read_end) and what other readers do (a read
 * transaction begun and aborted), while the writer commits a counter:
 * each read sees one commit, never an older one than the same thread's
 * read before, and never older than the last commit acknowledged when it
 * began.
 *
 * Reader threads never call cmocka assertions: they count, and the main
 * thread asserts after joining them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "store_kv.h"

#define READERS 4
#define COMMITS 2000

static char dir[64];
static store *st;

struct reader {
	pthread_t th;
	bool handle; /* a worker's read handle, else begin and abort */
	atomic_bool *stop;
	atomic_ulong *acked;
	unsigned long reads;
	unsigned long failures; /* a call failed, or the counters disagree */
	unsigned long older;    /* older than the read before */
	unsigned long stale;    /* older than acknowledged at its start */
};

static unsigned long
number(const store_val *v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%.*s", (int)v->size, (char *)v->data);
	return strtoul(buf, NULL, 10);
}

static void *
reader(void *arg)
{
	struct reader *r = arg;
	store_val kn = {1, "n"}, km = {1, "m"}, vn, vm;
	unsigned long last = 0, before, n;
	store_txn *t = NULL;
	int rc;

	while (!atomic_load(r->stop)) {
		before = atomic_load(r->acked);
		rc = r->handle ? store_read_begin(st, &t)
		               : store_txn_begin(st, STORE_RDONLY, &t);
		if (rc != 0) {
			r->failures++;
			continue;
		}
		if (store_get(t, STORE_META, &kn, &vn) != 0 ||
		    store_get(t, STORE_META, &km, &vm) != 0 ||
		    (n = number(&vn)) != number(&vm))
			r->failures++;
		else {
			if (n < last)
				r->older++;
			if (n < before)
				r->stale++;
			last = n;
		}
		if (r->handle)
			store_read_end(st, t);
		else
			store_txn_abort(t);
		r->reads++;
	}
	if (r->handle && t != NULL)
		store_txn_abort(t);
	return NULL;
}

static void
commit_counter(unsigned long i)
{
	char buf[24];
	store_txn *t;
	store_val kn = {1, "n"}, km = {1, "m"}, v;

	snprintf(buf, sizeof(buf), "%lu", i);
	v = (store_val){strlen(buf), buf};
	assert_int_equal(store_txn_begin(st, 0, &t), 0);
	assert_int_equal(store_put(t, STORE_META, &kn, &v, 0), 0);
	v = (store_val){strlen(buf), buf};
	assert_int_equal(store_put(t, STORE_META, &km, &v, 0), 0);
	assert_int_equal(store_txn_commit(t), 0);
}

/*
 * Half the readers hold a worker's read handle, half begin a read
 * transaction each time; the writer commits with the meta page synced
 * (its write is slow, which is the window).
 */
static void
test_reads_never_go_back(void **state)
{
	struct reader rd[READERS];
	atomic_bool stop = false;
	atomic_ulong acked = 0;

	(void)state;
	commit_counter(0);
	for (int i = 0; i < READERS; i++) {
		rd[i] = (struct reader){
		    .handle = i % 2 == 0, .stop = &stop, .acked = &acked};
		assert_int_equal(
		    pthread_create(&rd[i].th, NULL, reader, &rd[i]), 0);
	}
	for (unsigned long i = 1; i <= COMMITS; i++) {
		commit_counter(i);
		atomic_store(&acked, i);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < READERS; i++) {
		pthread_join(rd[i].th, NULL);
		print_message("reader %d (%s): %lu reads\n", i,
		    rd[i].handle ? "handle" : "begin", rd[i].reads);
		assert_int_equal(rd[i].failures, 0);
		assert_true(rd[i].reads > 0);
		if (rd[i].older != 0 || rd[i].stale != 0)
			fail_msg("reader %d: %lu reads older than the one "
			         "before, %lu older than acknowledged",
			    i, rd[i].older, rd[i].stale);
	}
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/privd-test-lmdb-read.XXXXXX");
	if (mkdtemp(dir) == NULL) {
		fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	if (store_open(dir, 64u << 20, true, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char path[128];

	(void)state;
	store_close(&st);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reads_never_go_back),
	};

	return cmocka_run_group_tests_name(
	    "store_lmdb_read", tests, setup, teardown);
}
