/*
 * test_privctl_output.c - privctl's pure output helpers (client/privctl/
 * output.c): how a duration reads to an admin.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "privctl.h"

static void
expect_duration(uint64_t secs, const char *want)
{
	char buf[48];

	assert_string_equal(duration(secs, buf), want);
}

/* Exact values read as they are. */
static void
test_duration_exact(void **state)
{
	(void)state;
	expect_duration(0, "0 s");
	expect_duration(45, "45 s");
	expect_duration(60, "1 min");
	expect_duration(3 * 3600 + 20 * 60, "3 h 20 min");
	expect_duration(86400, "1 day");
	expect_duration(86400 + 2 * 3600, "1 day 2 h");
	expect_duration(3 * 86400, "3 days");
	expect_duration(1825 * 86400ULL, "1825 days");
}

/*
 * A value is rounded to the last unit shown, not cut: privd measures a
 * clock jump of 3 days as 259199 s or 259200 s (whole seconds of a
 * difference of two clocks), and "2 days 23 h" would be off by an hour.
 */
static void
test_duration_rounds(void **state)
{
	(void)state;
	expect_duration(3 * 86400 - 1, "3 days");
	expect_duration(3 * 86400 + 1, "3 days");
	expect_duration(86400 + 2 * 3600 + 29 * 60, "1 day 2 h");
	expect_duration(86400 + 2 * 3600 + 31 * 60, "1 day 3 h");
	expect_duration(86400 - 1, "1 day");
	expect_duration(2 * 3600 - 1, "2 h 0 min");
	expect_duration(3600 + 29, "1 h 0 min");
	expect_duration(3600 + 31, "1 h 1 min");
	expect_duration(3600 - 1, "1 h 0 min");
	expect_duration(2 * 60 - 1, "2 min");
	expect_duration(60 + 29, "1 min");
	expect_duration(59, "59 s");
	/* no wrap-around at the top */
	expect_duration(UINT64_MAX, "213503982334601 days 7 h");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_exact),
	    cmocka_unit_test(test_duration_rounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
