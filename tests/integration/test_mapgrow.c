/*
 * test_mapgrow.c - the LMDB map grows when it fills, instead of failing the
 * write (DESIGN.md section 11): privd starts with a 1 MiB map and takes
 * several MiB of writes, while another client keeps reading.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define NPUTS       96
#define VALUE_BYTES (60 * 1024) /* 96 x 60 KiB > 5 MiB, map starts at 1 */

static atomic_bool stop_reading;

static void
fill(uint8_t *buf, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = (uint8_t)((i * 31 + seed * 7) ^ (i >> 8));
}

/* Reads a fixed subject in a loop while the writer grows the map: readers
 * must be paused and resumed around the growth, never fail. */
static void *
reader(void *arg)
{
	harness *h = arg;
	privd_client *c = NULL;
	privd_record *r = NULL;
	long *failures = calloc(1, sizeof(long));

	if (h_connect(h, "svc", &c) != 0) {
		(*failures)++;
		return failures;
	}
	while (!atomic_load(&stop_reading)) {
		if (privd_get(c, "customers", "reader-subject", "invoicing",
		        NULL, 0, &r) != PRIVD_OK)
			(*failures)++;
		privd_record_free(&r);
	}
	privd_close(&c);
	return failures;
}

static void
test_map_grows_under_writes(void **state)
{
	harness *h;
	privd_client *c = NULL;
	privd_record *r = NULL;
	const char *extra[] = {"--map-size", "1048576", NULL};
	uint8_t *value = malloc(VALUE_BYTES), *log = NULL;
	char subject[32];
	privd_field f;
	pthread_t rt;
	long *rfail;
	size_t loglen;
	int i;

	(void)state;
	h = h_new();
	assert_non_null(h);
	assert_non_null(h_key_new(h, "svc"));
	assert_int_equal(h_policy_write(h, h_policy_default), 0);
	assert_int_equal(h_init(h, NULL), 0);
	assert_int_equal(h_start(h, extra), 0);
	assert_int_equal(h_connect(h, "svc", &c), 0);
	privd_set_timeout(c, 20000);

	f = h_field("name", "Reader Subject");
	assert_int_equal(
	    privd_put(c, "customers", "reader-subject", "invoicing", &f, 1),
	    PRIVD_OK);
	atomic_store(&stop_reading, false);
	assert_int_equal(pthread_create(&rt, NULL, reader, h), 0);

	for (i = 0; i < NPUTS; i++) {
		snprintf(subject, sizeof(subject), "big-%03d", i);
		fill(value, VALUE_BYTES, (unsigned)i);
		f.name = "blob";
		f.value = value;
		f.len = VALUE_BYTES;
		assert_int_equal(
		    privd_put(c, "customers", subject, "invoicing", &f, 1),
		    PRIVD_OK);
	}
	atomic_store(&stop_reading, true);
	pthread_join(rt, (void **)&rfail);
	assert_int_equal(*rfail, 0);
	free(rfail);
	privd_close(&c);

	/* privd says so in its log, and everything is there after a restart */
	assert_int_equal(h_restart(h), 0);
	assert_int_equal(h_read_file(h->log, &log, &loglen), 0);
	assert_non_null(memmem(log, loglen, "store map grown", 15));
	free(log);
	assert_int_equal(h_connect(h, "svc", &c), 0);
	for (i = 0; i < NPUTS; i++) {
		snprintf(subject, sizeof(subject), "big-%03d", i);
		fill(value, VALUE_BYTES, (unsigned)i);
		assert_int_equal(privd_get(c, "customers", subject, "invoicing",
		                     NULL, 0, &r),
		    PRIVD_OK);
		assert_int_equal(r->nfields, 1);
		assert_int_equal(r->fields[0].len, VALUE_BYTES);
		assert_memory_equal(r->fields[0].value, value, VALUE_BYTES);
		privd_record_free(&r);
	}
	privd_close(&c);
	free(value);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	h_destroy(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_map_grows_under_writes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
