/*
 * test_privctl_args.c - what privctl reads from its command line before it
 * connects: times (client/privctl/args.c) and the checks of the retention
 * commands (cmd_retention.c) and of subject erase (cmd_subject.c), which
 * turn options into what libprivd is asked. A usage error here costs no request
 * and no audit event.
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

/* 2026-11-27T00:00:00Z and T10:00:00Z, in microseconds. */
#define DAY_US   1795737600000000ULL
#define TEN_H_US (10ULL * 3600 * 1000000)

static void
expect_time(const char *s, uint64_t want)
{
	uint64_t us = 0;

	if (parse_time(s, &us) != 0)
		fail_msg("refused: %s", s);
	if (us != want)
		fail_msg("%s: %llu, not %llu", s, (unsigned long long)us,
		    (unsigned long long)want);
}

static void
expect_bad_time(const char *s)
{
	uint64_t us = 12345;

	if (parse_time(s, &us) == 0)
		fail_msg("taken: %s", s);
	assert_int_equal(us, 12345);
}

/* Dates, RFC 3339 with every form of offset and fraction, Unix seconds. */
static void
test_time_forms(void **state)
{
	(void)state;
	expect_time("2026-11-27", DAY_US);
	expect_time("2026-11-27T10:00:00Z", DAY_US + TEN_H_US);
	expect_time("2026-11-27t10:00:00z", DAY_US + TEN_H_US);
	expect_time("2026-11-27 10:00:00Z", DAY_US + TEN_H_US);
	expect_time("2026-11-27T12:00:00+02:00", DAY_US + TEN_H_US);
	expect_time("2026-11-27T05:30:00-04:30", DAY_US + TEN_H_US);
	expect_time("2026-11-27T10:00:00+00:00", DAY_US + TEN_H_US);
	expect_time("2026-11-27T10:00:00-00:00", DAY_US + TEN_H_US);
	expect_time("2026-11-27T10:00:00.5Z", DAY_US + TEN_H_US + 500000);
	expect_time("2026-11-27T10:00:00.123456Z", DAY_US + TEN_H_US + 123456);
	/* past microseconds: cut, not rounded */
	expect_time(
	    "2026-11-27T10:00:00.1234567891Z", DAY_US + TEN_H_US + 123456);
	expect_time("2026-11-27T12:00:00.25+02:00", DAY_US + TEN_H_US + 250000);
	expect_time("1795773600", DAY_US + TEN_H_US);
	expect_time("0", 0);
	expect_time("1970-01-01", 0);
	/* a leap day, and an offset that moves the date back a day */
	expect_time("2028-02-29", 1835395200000000ULL);
	expect_time("2026-11-27T01:00:00+02:00", DAY_US - 3600000000ULL);
}

/* Nothing that is not a real time is taken, and nothing before 1970. */
static void
test_time_refused(void **state)
{
	(void)state;
	expect_bad_time("");
	expect_bad_time("2026-11-27T10:00:00"); /* no offset */
	expect_bad_time("2026-11-27T10:00Z");
	expect_bad_time("2026-11-27T10:00:00+0200");
	expect_bad_time("2026-11-27T10:00:00+02");
	expect_bad_time("2026-11-27T10:00:00+24:00");
	expect_bad_time("2026-11-27T10:00:00+02:60");
	expect_bad_time("2026-11-27T10:00:00.Z");
	expect_bad_time("2026-11-27T10:00:00ZZ");
	expect_bad_time("2026-11-27T10:00:00Z ");
	expect_bad_time("2026-02-30");
	expect_bad_time("2026-13-01");
	expect_bad_time("2026-00-10");
	expect_bad_time("2026-11-27T24:00:00Z");
	expect_bad_time("2026-11-27T10:60:00Z");
	expect_bad_time("2026-11-27T10:00:60Z");
	expect_bad_time("2026-1-27");
	expect_bad_time("+026-11-27");
	expect_bad_time("2026-11- 7");
	expect_bad_time("1969-12-31");
	expect_bad_time("1970-01-01T01:00:00+02:00");
	expect_bad_time("-5");
	expect_bad_time("99999999999999999999");
	expect_bad_time("yesterday");
}

/*
 * Usage errors go to stderr: keep the test's output clean by sending
 * them nowhere while a check runs.
 */
static int
quiet_check(cmd_check_fn fn, struct opts *o, char **args, int nargs)
{
	FILE *null = fopen("/dev/null", "w");
	int saved, rc;

	assert_non_null(null);
	fflush(stderr);
	saved = dup(2);
	dup2(fileno(null), 2);
	rc = fn(o, args, nargs);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fclose(null);
	return rc;
}

/* relationship-end and contract-end: no --at is now, --undo is 0 (undo),
 * --at is its time; both, or a time of 0, or a bad time are usage errors. */
static void
test_end_check(void **state)
{
	struct opts o;
	char *args[] = {"customers", "c-1"};

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(quiet_check(end_check, &o, args, 2), 0);
	assert_true(o.at_us == PRIVD_AT_NOW);

	memset(&o, 0, sizeof(o));
	o.undo = 1;
	o.at_us = 5;
	assert_int_equal(quiet_check(end_check, &o, args, 2), 0);
	assert_int_equal(o.at_us, 0);

	memset(&o, 0, sizeof(o));
	o.at = "2026-11-27T12:00:00+02:00";
	assert_int_equal(quiet_check(end_check, &o, args, 2), 0);
	assert_int_equal(o.at_us, DAY_US + TEN_H_US);

	o.undo = 1;
	assert_int_equal(quiet_check(end_check, &o, args, 2), EXIT_USAGE);
	o.undo = 0;
	o.at = "0";
	assert_int_equal(quiet_check(end_check, &o, args, 2), EXIT_USAGE);
	o.at = "2026-02-30";
	assert_int_equal(quiet_check(end_check, &o, args, 2), EXIT_USAGE);
}

/* hold set: --reason required, --until parsed (none: 0, until lifted); an
 * empty SUBJECT is refused (leaving it out names the register). */
static void
test_hold_checks(void **state)
{
	struct opts o;
	char *reg[] = {"customers"}, *subj[] = {"customers", "c-1"};
	char *empty[] = {"customers", ""};

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(quiet_check(hold_set_check, &o, subj, 2), EXIT_USAGE);
	o.reason = "";
	assert_int_equal(quiet_check(hold_set_check, &o, subj, 2), EXIT_USAGE);
	o.reason = "litigation";
	o.until_us = 99;
	assert_int_equal(quiet_check(hold_set_check, &o, subj, 2), 0);
	assert_int_equal(o.until_us, 0);
	assert_int_equal(quiet_check(hold_set_check, &o, reg, 1), 0);
	assert_int_equal(quiet_check(hold_set_check, &o, empty, 2), EXIT_USAGE);
	o.until = "2026-11-27";
	assert_int_equal(quiet_check(hold_set_check, &o, subj, 2), 0);
	assert_int_equal(o.until_us, DAY_US);
	o.until = "soon";
	assert_int_equal(quiet_check(hold_set_check, &o, subj, 2), EXIT_USAGE);

	memset(&o, 0, sizeof(o));
	assert_int_equal(quiet_check(hold_lift_check, &o, reg, 1), 0);
	assert_int_equal(quiet_check(hold_lift_check, &o, subj, 2), 0);
	assert_int_equal(
	    quiet_check(hold_lift_check, &o, empty, 2), EXIT_USAGE);
}

/* retention preview and run: --as-of parsed, --limit 1..2^32-1, an empty
 * --register refused. */
static void
test_sweep_check(void **state)
{
	struct opts o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(quiet_check(sweep_check, &o, NULL, 0), 0);
	assert_int_equal(o.as_of_us, 0);
	assert_int_equal(o.run_limit, 0);
	o.as_of = "2026-11-27";
	o.limit = "4294967295";
	assert_int_equal(quiet_check(sweep_check, &o, NULL, 0), 0);
	assert_int_equal(o.as_of_us, DAY_US);
	assert_int_equal(o.run_limit, UINT32_MAX);
	o.limit = "4294967296";
	assert_int_equal(quiet_check(sweep_check, &o, NULL, 0), EXIT_USAGE);
	o.limit = "0";
	assert_int_equal(quiet_check(sweep_check, &o, NULL, 0), EXIT_USAGE);
	o.limit = "-1";
	assert_int_equal(quiet_check(sweep_check, &o, NULL, 0), EXIT_USAGE);
	o.limit = NULL;
	o.as_of = "0";
	assert_int_equal(quiet_check(sweep_check, &o, NULL, 0), EXIT_USAGE);
	o.as_of = NULL;
	o.reg = "";
	assert_int_equal(quiet_check(sweep_check, &o, NULL, 0), EXIT_USAGE);
}

/* report: --purpose required, --group-by not empty. */
static void
test_report_check(void **state)
{
	struct opts o;
	char *args[] = {"acis", "feedback_score"};

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(quiet_check(report_check, &o, args, 2), EXIT_USAGE);
	o.purpose = "sales_reporting";
	assert_int_equal(quiet_check(report_check, &o, args, 2), 0);
	o.group_by = "";
	assert_int_equal(quiet_check(report_check, &o, args, 2), EXIT_USAGE);
	o.group_by = "region";
	assert_int_equal(quiet_check(report_check, &o, args, 2), 0);
}

/* subject erase: every --register is asked for once, in the order given;
 * an empty one is a usage error. */
static void
test_erase_check(void **state)
{
	struct opts o;
	char *args[] = {"c-1"};

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(quiet_check(erase_check, &o, args, 1), 0);
	assert_int_equal(o.nregs, 0);
	o.regs[0] = "customers";
	o.regs[1] = "acis";
	o.regs[2] = "customers";
	o.regs[3] = "acis";
	o.regs[4] = "leads";
	o.nregs = 5;
	assert_int_equal(quiet_check(erase_check, &o, args, 1), 0);
	assert_int_equal(o.nregs, 3);
	assert_string_equal(o.regs[0], "customers");
	assert_string_equal(o.regs[1], "acis");
	assert_string_equal(o.regs[2], "leads");
	o.regs[3] = "";
	o.nregs = 4;
	assert_int_equal(quiet_check(erase_check, &o, args, 1), EXIT_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time_forms),
	    cmocka_unit_test(test_time_refused),
	    cmocka_unit_test(test_end_check),
	    cmocka_unit_test(test_hold_checks),
	    cmocka_unit_test(test_sweep_check),
	    cmocka_unit_test(test_report_check),
	    cmocka_unit_test(test_erase_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
