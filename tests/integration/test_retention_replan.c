/*
 * test_retention_replan.c - a policy change re-plans stored data (issue
 * 9): a shorter period applies to data stored before the change (on the
 * sweeps after the apply; privd re-plans in the background, so the test
 * sweeps until a deadline), and a longer one keeps data the old period
 * would have deleted.
 *
 * privd builds the re-plan after the sweeper, and nothing on the wire
 * tells whether a privd has it: until it lands, REPLAN_LANDED is 0 and
 * the tests skip saying so. Set it to 1 to run them.
 *
 * The tests' own policy (RET_POLICY, notes-90d) and the same with
 * notes-90d's period changed (RET_POLICY_NOTES), on a real privd on the
 * test clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retention_common.h"

#ifndef REPLAN_LANDED
#define REPLAN_LANDED 0
#endif

#define ALL4 "billing_details,email,name,notes"

/* How long the re-plan may take to reach the sweeper, at most. */
#define REPLAN_TIMEOUT_MS 30000

static void
need(harness *h)
{
	if (!REPLAN_LANDED)
		ret_skip(
		    "privd does not re-plan stored data on a policy "
		    "change yet (issue 9 builds it after the sweeper); set "
		    "REPLAN_LANDED to 1 in test_retention_replan.c once it "
		    "does");
	ret_need(h, "admin", PRIVD__V1__REQUEST__OP_RETENTION_RUN,
	    "RetentionRun (the sweeper)");
}

/* admin applies tmpl over version `over`; the new version. */
static uint64_t
apply(harness *h, const char *tmpl, uint64_t over)
{
	privd_client *a = client(h, "admin");
	char *text = policy_text(h, tmpl);
	uint64_t v = 0;

	expect_rc(
	    a, privd_policy_apply(a, over, text, &v), PRIVD_OK, "policy apply");
	assert_int_equal(v, over + 1);
	free(text);
	privd_close(&a);
	return v;
}

/* Sweep until svc reads want of subject, or fail after the deadline. */
static void
sweep_until(harness *h, const char *subject, const char *want)
{
	int64_t deadline = h_now_ms() + REPLAN_TIMEOUT_MS;
	char got[512];

	for (;;) {
		privd__v1__response__free_unpacked(sweep(h), NULL);
		fields_of(h, "svc", CUST, INV, subject, got, sizeof(got));
		if (strcmp(got, want) == 0)
			return;
		if (h_now_ms() > deadline)
			fail_msg("after the policy change, sweeps leave [%s], "
			         "expected [%s]",
			    got, want);
		h_sleep_ms(100);
	}
}

/* Notes stored 40 days ago under a 90-day rule: a policy with 30 days
 * makes them due, and the sweep deletes them. */
static void
test_shorter_period_applies_to_stored_data(void **state)
{
	harness *h = *state;
	const char *const ops[] = {"retention_delete"};
	const char *const rules[] = {"notes-90d"};
	const char *const f[] = {"notes"};
	Privd__V1__Response *r;

	need(h);
	put_customer(h, "s-1");
	put_customer(h, "s-2");
	clock_to(h, (int64_t)h_clock_us(h) + 40 * US_PER_DAY);
	r = sweep(h);
	expect_count(r, CUST, "notes-90d", 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_cust(h, "s-1", ALL4);

	apply(h, RET_POLICY_NOTES("30 days"), 1);
	sweep_until(h, "s-1", "billing_details,email,name");
	sweep_until(h, "s-2", "billing_details,email,name");
	expect_ret_events(h, "s-1", CUST, 1, ops, rules, f);
	expect_ret_events(h, "s-2", CUST, 1, ops, rules, f);
}

/* Notes stored before a policy with 200 days instead of 90: kept past
 * 90 days, deleted after 200. */
static void
test_longer_period_keeps_stored_data(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;
	int64_t t0;
	int i;

	need(h);
	put_customer(h, "s-1");
	t0 = (int64_t)h_clock_us(h);
	apply(h, RET_POLICY_NOTES("200 days"), 1);
	clock_to(h, t0 + 100 * US_PER_DAY);
	/* the re-plan runs in the background: a few sweeps while it may
	 * still be under way must not delete the notes either */
	for (i = 0; i < 5; i++) {
		r = sweep(h);
		expect_count(r, CUST, "notes-90d", 0, 0, 0);
		privd__v1__response__free_unpacked(r, NULL);
		expect_cust(h, "s-1", ALL4);
		h_sleep_ms(100);
	}
	clock_to(h, t0 + 201 * US_PER_DAY);
	sweep_until(h, "s-1", "billing_details,email,name");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_shorter_period_applies_to_stored_data, ret_setup,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_longer_period_keeps_stored_data, ret_setup, h_teardown),
	};
	return ret_main_result(
	    cmocka_run_group_tests_name(
	        "integration/retention_replan", tests, NULL, NULL),
	    sizeof(tests) / sizeof(tests[0]));
}
