/*
 * test_retention_replan.c - a policy change re-plans stored data (issue
 * 9): a shorter period applies to data stored before the change (on the
 * sweeps after the apply; privd re-plans in the background, so the test
 * sweeps until a deadline), and a longer one keeps data the old period
 * would have deleted.
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

#define ALL4 "billing_details,email,name,notes"

/* How long the re-plan may take to reach the sweeper, at most. */
#define REPLAN_TIMEOUT_MS 30000

/* admin applies tmpl over version 1 (a raw PolicyApply: libprivd does
 * not return replan_subjects); privd must answer version 2 and that it
 * re-plans `subjects` subjects. */
static void
apply(harness *h, const char *tmpl, uint64_t subjects)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyApplyRequest pa =
	    PRIVD__V1__POLICY_APPLY_REQUEST__INIT;
	Privd__V1__Response *r;
	char *text = policy_text(h, tmpl);

	pa.replaces_version = 1;
	pa.policy_json = text;
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_APPLY;
	req.policy_apply = &pa;
	r = raw_call(h, "admin", &req);
	expect_status(r, ST(OK), 0, "policy apply");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_APPLY);
	assert_int_equal(r->policy_apply->version, 2);
	assert_false(r->policy_apply->unchanged);
	assert_int_equal(r->policy_apply->replan_subjects, subjects);
	privd__v1__response__free_unpacked(r, NULL);
	free(text);
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

	put_customer(h, "s-1");
	put_customer(h, "s-2");
	clock_to(h, (int64_t)h_clock_us(h) + 40 * US_PER_DAY);
	r = sweep(h);
	expect_count(r, CUST, "notes-90d", 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_cust(h, "s-1", ALL4);

	apply(h, RET_POLICY_NOTES("30 days"), 2);
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
	return cmocka_run_group_tests_name(
	    "integration/retention_replan", tests, NULL, NULL);
}
