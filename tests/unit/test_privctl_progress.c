/*
 * test_privctl_progress.c - what privctl's progress lines say
 * (client/privctl/progress.c): a count shows done of total and the
 * percentage, then from a second on the rate and the time left at that
 * rate; a wait shows what it waits for and for how long. Nothing is
 * drawn when stderr is not a terminal (as here).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "privctl.h"

static void
expect_count(uint64_t done, uint64_t total, double secs, const char *want)
{
	char line[200];

	progress_count_line(
	    line, sizeof(line), "audit export", "events", done, total, secs);
	assert_string_equal(line, want);
}

static void
test_count_line(void **state)
{
	(void)state;
	/* before a second: no rate to speak of */
	expect_count(0, 5000, 0, "audit export: 0 of 5000 events (0%)");
	expect_count(
	    1200, 5000, 0.5, "audit export: 1200 of 5000 events (24%)");
	/* then the rate and the time left at it */
	expect_count(1200, 5000, 2,
	    "audit export: 1200 of 5000 events (24%), 600 events/s, 6 s left");
	expect_count(1000, 361000, 1,
	    "audit export: 1000 of 361000 events (0%), 1000 events/s, 6 min "
	    "left");
	/* done: no time left */
	expect_count(5000, 5000, 4,
	    "audit export: 5000 of 5000 events (100%), 1250 events/s");
	/* past the total (events written meanwhile): still 100% */
	expect_count(5001, 5000, 4,
	    "audit export: 5001 of 5000 events (100%), 1250 events/s");
	/* no total: the count and the rate */
	expect_count(300, 0, 3, "audit export: 300 events, 100 events/s");
	/* a line cut to the buffer stays a string */
	{
		char small[16];

		progress_count_line(
		    small, sizeof(small), "audit export", "events", 1, 2, 5);
		assert_int_equal(strlen(small), sizeof(small) - 1);
	}
}

static void
test_wait_line(void **state)
{
	char line[200];

	(void)state;
	progress_wait_line(
	    line, sizeof(line), "audit verify", "events 1..5000", 12.7);
	assert_string_equal(line, "audit verify: events 1..5000, 12 s");
	progress_wait_line(line, sizeof(line), "subject export", "", 75);
	assert_string_equal(line, "subject export: 1 min");
}

/* Not a terminal: nothing drawn, no thread started. */
static void
test_silent(void **state)
{
	struct progress p;

	(void)state;
	if (isatty(STDERR_FILENO)) {
		/* run by hand on a terminal (meson captures stderr) */
		fprintf(stderr, "skipped: stderr is a terminal here\n");
		skip();
	}
	progress_begin(&p, "audit export", "events", 10, 0);
	assert_int_equal(p.on, 0);
	progress_update(&p, 5);
	assert_int_equal(p.drawn, 0);
	progress_end(&p);
	progress_wait_begin(&p, "audit verify", "events 1..10");
	assert_int_equal(p.ticking, 0);
	progress_wait_end(&p);
	assert_int_equal(p.drawn, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_count_line),
	    cmocka_unit_test(test_wait_line),
	    cmocka_unit_test(test_silent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
