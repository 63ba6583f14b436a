/*
 * test_concurrency.c - privd under concurrent load: parallel writers all
 * succeed and read back, and a SIGTERM in the middle of a load loses no
 * acknowledged write.
 *
 * Worker threads never call cmocka assertions (they are not thread-safe):
 * they record what happened, and the main thread asserts after joining them.
 */
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

#include <cmocka.h>

#include "harness.h"

#define REG     "customers"
#define PURPOSE "invoicing"

/* ---- parallel writers ------------------------------------------------ */

#define PW_THREADS 8
#define PW_PUTS    200

typedef struct pw_worker {
	int id;
	privd_client *c;
	pthread_barrier_t *start;
	int put_failures;
	int first_put_rc;
	int get_failures;
	int first_get_rc;
	int mismatches;
} pw_worker;

static void
pw_subject(char *buf, size_t len, int t, int i)
{
	snprintf(buf, len, "pw-%d-%03d", t, i);
}

static void
pw_value(char *buf, size_t len, int t, int i)
{
	snprintf(buf, len, "writer %d wrote entry %d", t, i);
}

static void *
pw_run(void *arg)
{
	pw_worker *w = arg;
	char subject[32], value[64];

	pthread_barrier_wait(w->start);
	for (int i = 0; i < PW_PUTS; i++) {
		pw_subject(subject, sizeof(subject), w->id, i);
		pw_value(value, sizeof(value), w->id, i);
		privd_field f[] = {
		    {"notes", (const uint8_t *)value, strlen(value)}};
		int rc = privd_put(w->c, REG, subject, PURPOSE, f, 1);
		if (rc != PRIVD_OK && w->put_failures++ == 0)
			w->first_put_rc = rc;
	}
	for (int i = 0; i < PW_PUTS; i++) {
		privd_record *rec = NULL;
		const privd_field *f;

		pw_subject(subject, sizeof(subject), w->id, i);
		pw_value(value, sizeof(value), w->id, i);
		int rc = privd_get(w->c, REG, subject, PURPOSE, NULL, 0, &rec);
		if (rc != PRIVD_OK) {
			if (w->get_failures++ == 0)
				w->first_get_rc = rc;
			continue;
		}
		f = privd_record_field(rec, "notes");
		if (rec->nfields != 1 || f == NULL || f->len != strlen(value) ||
		    memcmp(f->value, value, f->len) != 0)
			w->mismatches++;
		privd_record_free(&rec);
	}
	return NULL;
}

static void
test_parallel_writers_all_succeed(void **state)
{
	harness *h = *state;
	pw_worker w[PW_THREADS];
	pthread_t th[PW_THREADS];
	pthread_barrier_t start;

	assert_int_equal(pthread_barrier_init(&start, NULL, PW_THREADS), 0);
	memset(w, 0, sizeof(w));
	for (int t = 0; t < PW_THREADS; t++) {
		w[t].id = t;
		w[t].start = &start;
		assert_int_equal(h_connect(h, "svc", &w[t].c), PRIVD_OK);
	}
	for (int t = 0; t < PW_THREADS; t++)
		assert_int_equal(
		    pthread_create(&th[t], NULL, pw_run, &w[t]), 0);
	for (int t = 0; t < PW_THREADS; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&start);

	for (int t = 0; t < PW_THREADS; t++) {
		privd_close(&w[t].c);
		if (w[t].put_failures != 0)
			fail_msg("thread %d: %d of %d puts failed, first: %s",
			    t, w[t].put_failures, PW_PUTS,
			    privd_strerror(w[t].first_put_rc));
		if (w[t].get_failures != 0)
			fail_msg("thread %d: %d of %d gets failed, first: %s",
			    t, w[t].get_failures, PW_PUTS,
			    privd_strerror(w[t].first_get_rc));
		assert_int_equal(w[t].mismatches, 0);
	}
	assert_true(h_running(h));
}

/* ---- SIGTERM under load ---------------------------------------------- */

#define ST_THREADS  4
#define ST_MAX_PUTS 100000 /* per thread; bounds the loop */
#define ST_LOAD_MS  300    /* how long the load runs before SIGTERM */
#define ST_STOP_MS  5000   /* privd must be gone by then */

static atomic_int st_term_sent;
static atomic_int st_acked_total;

typedef struct st_worker {
	int id;
	privd_client *c;
	int *acked; /* indexes of acknowledged puts */
	int nacked;
	int fail_rc;             /* the status that stopped the thread */
	bool failed_before_term; /* it came before SIGTERM was sent */
} st_worker;

static void
st_subject(char *buf, size_t len, int t, int i)
{
	snprintf(buf, len, "st-%d-%06d", t, i);
}

static void
st_value(char *buf, size_t len, int t, int i)
{
	snprintf(buf, len, "acknowledged %d/%d", t, i);
}

static void *
st_run(void *arg)
{
	st_worker *w = arg;
	char subject[32], value[64];

	for (int i = 0; i < ST_MAX_PUTS; i++) {
		st_subject(subject, sizeof(subject), w->id, i);
		st_value(value, sizeof(value), w->id, i);
		privd_field f[] = {
		    {"notes", (const uint8_t *)value, strlen(value)}};
		int rc = privd_put(w->c, REG, subject, PURPOSE, f, 1);
		if (rc != PRIVD_OK) {
			/* Read the flag after the call failed: if it is
			 * still clear, the failure came before SIGTERM. */
			w->failed_before_term = atomic_load(&st_term_sent) == 0;
			w->fail_rc = rc;
			break;
		}
		w->acked[w->nacked++] = i;
		atomic_fetch_add(&st_acked_total, 1);
	}
	return NULL;
}

static void
test_sigterm_during_load_keeps_acknowledged_writes(void **state)
{
	harness *h = *state;
	st_worker w[ST_THREADS];
	pthread_t th[ST_THREADS];
	privd_client *c = NULL;
	int64_t deadline;
	int st = -1, stop_rc, total = 0;

	atomic_store(&st_term_sent, 0);
	atomic_store(&st_acked_total, 0);
	memset(w, 0, sizeof(w));
	for (int t = 0; t < ST_THREADS; t++) {
		w[t].id = t;
		w[t].acked = calloc(ST_MAX_PUTS, sizeof(int));
		assert_non_null(w[t].acked);
		assert_int_equal(h_connect(h, "svc", &w[t].c), PRIVD_OK);
		/* Calls stop failing fast once privd is gone. */
		privd_set_timeout(w[t].c, 3000);
	}
	for (int t = 0; t < ST_THREADS; t++)
		assert_int_equal(
		    pthread_create(&th[t], NULL, st_run, &w[t]), 0);

	/* Wait until the load really flows, then let it run a while. */
	deadline = h_now_ms() + 10000;
	while (atomic_load(&st_acked_total) < 20 && h_now_ms() < deadline)
		h_sleep_ms(5);
	h_sleep_ms(ST_LOAD_MS);

	atomic_store(&st_term_sent, 1);
	stop_rc = h_stop(h, ST_STOP_MS, &st);

	for (int t = 0; t < ST_THREADS; t++) {
		pthread_join(th[t], NULL);
		privd_close(&w[t].c);
	}

	if (stop_rc != 0)
		fail_msg(
		    "privd did not exit within %d ms of SIGTERM", ST_STOP_MS);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	for (int t = 0; t < ST_THREADS; t++) {
		if (w[t].failed_before_term)
			fail_msg("thread %d: put failed before SIGTERM: %s", t,
			    privd_strerror(w[t].fail_rc));
		total += w[t].nacked;
	}
	assert_true(total >= 20);
	fprintf(stderr, "# %d acknowledged puts before shutdown\n", total);

	/* Every acknowledged write survived the shutdown. */
	assert_int_equal(h_start(h, NULL), 0);
	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	for (int t = 0; t < ST_THREADS; t++) {
		for (int k = 0; k < w[t].nacked; k++) {
			char subject[32], value[64];
			privd_record *rec = NULL;
			const privd_field *f;
			int rc;

			st_subject(subject, sizeof(subject), t, w[t].acked[k]);
			st_value(value, sizeof(value), t, w[t].acked[k]);
			rc = privd_get(c, REG, subject, PURPOSE, NULL, 0, &rec);
			if (rc != PRIVD_OK)
				fail_msg("acknowledged put %s lost: %s",
				    subject, privd_strerror(rc));
			f = privd_record_field(rec, "notes");
			assert_non_null(f);
			assert_int_equal(f->len, strlen(value));
			assert_memory_equal(f->value, value, f->len);
			privd_record_free(&rec);
		}
		free(w[t].acked);
		w[t].acked = NULL;
	}
	privd_close(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup_default, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_parallel_writers_all_succeed),
	    T(test_sigterm_during_load_keeps_acknowledged_writes),
	};

	return cmocka_run_group_tests_name(
	    "integration/concurrency", tests, NULL, NULL);
}
