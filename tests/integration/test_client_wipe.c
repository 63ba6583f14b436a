/*
 * test_client_wipe.c - libprivd wipes what held a value or a subject id
 * before it frees it (issue 7, "Plaintext in freed memory").
 *
 * This test is linked with libprivd's sources (not the shared library) and
 * -Wl,--wrap=free, so every free() those sources make goes through
 * __wrap_free() below, which looks for the test's markers in the block
 * before it is freed. A put and a get of a value holding a marker, for a
 * subject id holding another, then pass through every buffer of the
 * library that can hold them: the packed request (freed by libzmq through
 * the library's free function), privd's unpacked answer (through the
 * library's protobuf-c allocator) and the record (privd_record_free). A
 * real privd answers; nothing is mocked.
 *
 * What --wrap cannot see: the frames libzmq receives are freed inside
 * libzmq (the library wipes them before closing them, which no free() of
 * ours shows), and libzmq's own CURVE buffers are beyond the library's
 * reach (client.h says so).
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"

#define VALUE_MARK   "wipe-check-value-5d1e"
#define SUBJECT_MARK "wipe-check-subject-8b2c"

void __real_free(void *p);
void __wrap_free(void *p);

static atomic_int scanning;
static atomic_uint scanned, value_seen, subject_seen;

/* Called in place of free() by the library's sources and this test, on
 * any thread (libzmq frees sent requests from its I/O thread). */
void
__wrap_free(void *p)
{
	size_t n;

	if (p != NULL && atomic_load(&scanning)) {
		n = malloc_usable_size(p);
		atomic_fetch_add(&scanned, 1);
		if (memmem(p, n, VALUE_MARK, sizeof(VALUE_MARK) - 1) != NULL)
			atomic_fetch_add(&value_seen, 1);
		if (memmem(p, n, SUBJECT_MARK, sizeof(SUBJECT_MARK) - 1) !=
		    NULL)
			atomic_fetch_add(&subject_seen, 1);
	}
	__real_free(p);
}

static void
scan_start(void)
{
	atomic_store(&scanned, 0);
	atomic_store(&value_seen, 0);
	atomic_store(&subject_seen, 0);
	atomic_store(&scanning, 1);
}

/* The check itself sees a block freed with a marker in it. */
static void
test_detector_sees_an_unwiped_block(void **state)
{
	char *p = malloc(64);

	(void)state;
	assert_non_null(p);
	snprintf(p, 64, "x%sx", VALUE_MARK);
	scan_start();
	free(p);
	atomic_store(&scanning, 0);
	assert_int_equal(atomic_load(&scanned), 1);
	assert_int_equal(atomic_load(&value_seen), 1);
}

static void
test_put_get_leave_no_value_in_freed_memory(void **state)
{
	harness *h = *state;
	char value[64], subject[64];
	privd_field f;
	privd_record *r = NULL;
	privd_client *c;
	int i;

	snprintf(value, sizeof(value), "%s", VALUE_MARK);
	snprintf(subject, sizeof(subject), "%s", SUBJECT_MARK);
	f = h_field("notes", value);
	scan_start();
	c = client(h, "svc");
	for (i = 0; i < 3; i++) {
		expect_rc(c,
		    privd_put(c, "customers", subject, "invoicing", &f, 1),
		    PRIVD_OK, "put");
		expect_rc(c,
		    privd_get(
		        c, "customers", subject, "invoicing", NULL, 0, &r),
		    PRIVD_OK, "get");
		assert_non_null(privd_record_field(r, "notes"));
		assert_string_equal(
		    (const char *)privd_record_field(r, "notes")->value,
		    VALUE_MARK);
		privd_record_free(&r);
	}
	/* every message libzmq held is released by now */
	privd_close(&c);
	atomic_store(&scanning, 0);
	/* requests, answers and records went through free() */
	assert_true(atomic_load(&scanned) >= 3 * 4);
	if (atomic_load(&value_seen) != 0 || atomic_load(&subject_seen) != 0)
		fail_msg("%u freed block(s) held the value, %u the subject id "
		         "(of %u freed)",
		    atomic_load(&value_seen), atomic_load(&subject_seen),
		    atomic_load(&scanned));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_detector_sees_an_unwiped_block),
	    cmocka_unit_test_setup_teardown(
	        test_put_get_leave_no_value_in_freed_memory, h_setup_default,
	        h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/client_wipe", tests, NULL, NULL);
}
