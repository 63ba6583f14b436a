/*
 * test_cli_progress.c - progress on a terminal (issue 11), against a real
 * privd: with stderr on a pseudo-terminal, audit export draws "audit
 * export: N of M events" while stdout (a pipe) gets every event, audit
 * verify and subject export draw what they wait for and for how long,
 * and each clears its line at the end; with stderr not a terminal they
 * draw nothing. What the lines say (rate, time left) is the unit test
 * privctl_progress's.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "test_cli_common.h"

#define SUBJECTS 200

static cli_result res;

/* SUBJECTS puts, so that the log has that many events and more. */
static void
fill(harness *h)
{
	privd_client *svc = client(h, "svc");
	char subject[32];
	int i;

	for (i = 0; i < SUBJECTS; i++) {
		snprintf(subject, sizeof(subject), "c-%d", i);
		put_name(svc, subject, "Ada");
	}
	privd_close(&svc);
}

/* The number of lines of s. */
static size_t
lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* The terminal's output ends with the line cleared: "\r\033[K". */
static void
expect_cleared(const cli_result *r)
{
	size_t n = strlen(r->err);

	assert_true(n >= 4);
	assert_string_equal(r->err + n - 4, "\r\033[K");
}

static void
test_audit_export(void **state)
{
	static const char *const args[] = {"audit", "export", NULL};
	harness *h = *state;
	cli_cmd c = {.key = "auditor", .args = args, .tty = true};

	fill(h);
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_true(lines(res.out) > SUBJECTS);
	assert_non_null(strstr(res.err, "\raudit export: 0 of "));
	assert_non_null(strstr(res.err, " events (100%)"));
	expect_cleared(&res);
	/* not a terminal: nothing on stderr, the same events on stdout */
	c.tty = false;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_true(lines(res.out) > SUBJECTS);
	assert_string_equal(res.err, "");
}

static void
test_verify_and_subject_export(void **state)
{
	static const char *const verify[] = {"audit", "verify", NULL};
	harness *h = *state;
	char out[H_PATH_MAX + 32];
	const char *exp[] = {"subject", "export", "c-7", "--out", out, NULL};
	cli_cmd c = {.key = "auditor", .args = verify, .tty = true};

	fill(h);
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_non_null(strstr(res.out, "audit log verifies"));
	assert_non_null(strstr(res.err, "\raudit verify: events 1.."));
	expect_cleared(&res);
	c.tty = false;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_null(strstr(res.err, "audit verify:"));

	snprintf(out, sizeof(out), "%s/c-7.json", h->root);
	c.key = "dpo";
	c.args = exp;
	c.tty = true;
	cli_run(h, &c, &res);
	if (res.code != 0)
		fail_msg("subject export: exit %d: %s", res.code, res.err);
	assert_non_null(
	    strstr(res.err, "\rsubject export: waiting for privd, "));
	expect_cleared(&res);
	c.tty = false;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_string_equal(res.err, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_audit_export, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_verify_and_subject_export, cli_setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
