/*
 * test_store.c - daemon/store.c on a real LMDB environment in a temporary
 * directory: growing the map while readers keep coming.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "store_lmdb.h" /* the map growth is LMDB's */

#define READERS         2
#define GROW_DEADLINE_S 5

typedef struct shared {
	store *st;
	atomic_bool stop;
	atomic_bool grown;
	pthread_mutex_t mu;
	pthread_cond_t cv;
} shared;

/*
 * Two readers in a relay: each lets go of its read transaction only once
 * the other has begun one after it (or after HOLD_MAX_MS, so that neither
 * waits forever for a partner the lock holds back). So some reader holds
 * the map lock at every moment, as under a steady stream of requests.
 */
#define HOLD_MAX_MS 50

static atomic_uint_fast64_t acq_counter;
static atomic_uint_fast64_t last_acq[READERS];

typedef struct reader_arg {
	shared *sh;
	int id;
} reader_arg;

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void *
reader(void *arg)
{
	reader_arg *ra = arg;
	shared *sh = ra->sh;
	int other = (ra->id + 1) % READERS;
	struct timespec tick = {0, 100 * 1000};
	store_txn *txn = NULL;
	uint64_t mine, t0;

	while (!atomic_load(&sh->stop)) {
		if (store_read_begin(sh->st, &txn) != 0)
			break;
		mine = atomic_fetch_add(&acq_counter, 1) + 1;
		atomic_store(&last_acq[ra->id], mine);
		t0 = mono_ms();
		while (atomic_load(&last_acq[other]) < mine &&
		       mono_ms() - t0 < HOLD_MAX_MS && !atomic_load(&sh->stop))
			nanosleep(&tick, NULL);
		store_read_end(sh->st, txn);
	}
	if (txn != NULL)
		store_txn_abort(txn);
	return NULL;
}

/* Remove the store's files and its directory. */
static void
rm_store(const char *dir)
{
	static const char *const files[] = {"data.mdb", "lock.mdb"};
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static void *
grower(void *arg)
{
	shared *sh = arg;

	assert_int_equal(store_grow(sh->st), 0);
	pthread_mutex_lock(&sh->mu);
	atomic_store(&sh->grown, true);
	pthread_cond_signal(&sh->cv);
	pthread_mutex_unlock(&sh->mu);
	return NULL;
}

/* With a steady stream of overlapping reads, store_grow must still get the
 * map lock: the lock prefers its writer (issue 7: a reader-preferring lock
 * starved the map growth, and the writer with it, for as long as reads
 * went on). The deadline is a liveness bound, not a measurement. */
static void
test_grow_not_starved_by_readers(void **state)
{
	char dir[] = "/tmp/privd-test-store-XXXXXX", err[256];
	pthread_t r[READERS], g;
	reader_arg ra[READERS];
	struct timespec deadline;
	size_t before;
	bool in_time;
	shared sh;
	int i;

	memset(&sh, 0, sizeof(sh));
	pthread_mutex_init(&sh.mu, NULL);
	pthread_cond_init(&sh.cv, NULL);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(
	    store_open(dir, STORE_MIN_MAPSIZE, true, &sh.st, err, sizeof(err)),
	    0);
	before = sh.st->mapsize;
	for (i = 0; i < READERS; i++) {
		ra[i].sh = &sh;
		ra[i].id = i;
		assert_int_equal(
		    pthread_create(&r[i], NULL, reader, &ra[i]), 0);
	}
	usleep(50 * 1000); /* let the readers get going */
	assert_int_equal(pthread_create(&g, NULL, grower, &sh), 0);

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += GROW_DEADLINE_S;
	pthread_mutex_lock(&sh.mu);
	while (!atomic_load(&sh.grown))
		if (pthread_cond_timedwait(&sh.cv, &sh.mu, &deadline) != 0)
			break;
	pthread_mutex_unlock(&sh.mu);
	in_time = atomic_load(&sh.grown);
	atomic_store(&sh.stop, true); /* lets a starved grower finish too */
	for (i = 0; i < READERS; i++)
		pthread_join(r[i], NULL);
	pthread_join(g, NULL);
	if (!in_time)
		fail_msg("store_grow waited more than %d s behind readers",
		    GROW_DEADLINE_S);
	assert_true(sh.st->mapsize == before * 2);
	store_close(&sh.st);
	rm_store(dir);
}

/* The other process of test_map_grown_elsewhere: grow the map twice and
 * fill it past the first process's map. Exit status 0 if all went. */
#define FILL_RECORDS 48
#define FILL_BYTES   (64u * 1024)

static int
grow_and_fill(const char *dir)
{
	static uint8_t buf[FILL_BYTES];
	char err[256], name[16];
	store_txn *t;
	store *st;
	int i;

	if (store_open(dir, STORE_MIN_MAPSIZE, false, &st, err, sizeof(err)) !=
	        0 ||
	    store_grow(st) != 0 || store_grow(st) != 0 ||
	    store_txn_begin(st, 0, &t) != 0)
		return 1;
	for (i = 0; i < FILL_RECORDS; i++) {
		snprintf(name, sizeof(name), "fill%02d", i);
		memset(buf, i, sizeof(buf));
		if (store_meta_put(st, t, name, buf, sizeof(buf)) != 0) {
			store_txn_abort(t);
			return 1;
		}
	}
	if (store_txn_commit(t) != 0)
		return 1;
	store_close(&st);
	return 0;
}

/* Another process (privd server-key next beside privd serve, or the
 * reverse) grows the map and fills it past this process's map: this
 * process's next transaction adopts the new size (LMDB's
 * MDB_MAP_RESIZED, handled in store_lmdb.c) and sees the records. */
static void
test_map_grown_elsewhere(void **state)
{
	char dir[] = "/tmp/privd-test-store-XXXXXX", err[256];
	store_val v;
	store_txn *t;
	store *st;
	pid_t pid;
	int status;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(
	    store_open(dir, STORE_MIN_MAPSIZE, true, &st, err, sizeof(err)), 0);
	assert_true(st->mapsize < FILL_RECORDS * FILL_BYTES);
	if ((pid = fork()) == 0)
		_exit(grow_and_fill(dir));
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	assert_int_equal(store_txn_begin(st, 0, &t), 0);
	assert_int_equal(store_meta_get(st, t, "fill47", &v), 0);
	assert_int_equal(v.size, FILL_BYTES);
	assert_int_equal(((uint8_t *)v.data)[0], 47);
	assert_int_equal(store_meta_put(st, t, "after", "x", 1), 0);
	assert_int_equal(store_txn_commit(t), 0);
	assert_true(st->mapsize >= FILL_RECORDS * FILL_BYTES);
	store_close(&st);
	rm_store(dir);
}

/* --store lmdb:DIR names the LMDB store in DIR, as a plain path does. */
static void
test_open_spec_lmdb(void **state)
{
	char dir[] = "/tmp/privd-test-store-XXXXXX", spec[64], err[256];
	store *st;

	assert_non_null(mkdtemp(dir));
	snprintf(spec, sizeof(spec), "lmdb:%s", dir);
	assert_int_equal(store_open_spec(spec, STORE_MIN_MAPSIZE, true, &st,
	                     err, sizeof(err)),
	    0);
	assert_string_equal(store_backend(st), "lmdb");
	store_close(&st);
	assert_null(st);
	assert_int_equal(store_open_spec(dir, STORE_MIN_MAPSIZE, false, &st,
	                     err, sizeof(err)),
	    0);
	assert_string_equal(store_backend(st), "lmdb");
	store_close(&st);
	rm_store(dir);
	/* a directory that holds no store, not created: a clear error */
	assert_int_equal(store_open_spec("lmdb:/nonexistent-privd-dir",
	                     STORE_MIN_MAPSIZE, false, &st, err, sizeof(err)),
	    -1);
	assert_null(st);
	assert_non_null(strstr(err, "/nonexistent-privd-dir"));
}

/* store_kv.h's codes are every backend's: their text names none (a
 * malformed row in PostgreSQL is not "MDB_CORRUPTED"); LMDB's own codes
 * and errno values keep LMDB's text. */
static void
test_strerror_neutral(void **state)
{
	static const int codes[] = {STORE_KEYEXIST, STORE_NOTFOUND,
	    STORE_CORRUPTED, STORE_INCOMPATIBLE, STORE_UNAVAILABLE,
	    STORE_CONFLICT};

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *t = store_strerror(codes[i]);

		assert_non_null(t);
		assert_true(t[0] != '\0');
		assert_null(strstr(t, "MDB"));
		assert_null(strstr(t, "LMDB"));
		assert_null(strstr(t, "page was wrong type"));
	}
	assert_non_null(strstr(store_strerror(STORE_CORRUPTED), "malformed"));
	assert_non_null(strstr(store_strerror(STORE_MAP_FULL), "MDB_MAP_FULL"));
	assert_string_equal(store_strerror(ENOSPC), strerror(ENOSPC));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_grow_not_starved_by_readers),
	    cmocka_unit_test(test_map_grown_elsewhere),
	    cmocka_unit_test(test_open_spec_lmdb),
	    cmocka_unit_test(test_strerror_neutral),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
