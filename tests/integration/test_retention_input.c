/*
 * test_retention_input.c - RelationshipEnd and its undo, and bad input
 * for the retention requests (issue 9): an unknown register or subject, a
 * time more than a year ahead or before 2000, a hold on a register not
 * declared, an empty reason, an until in the past, a relationship end by a
 * principal without a write grant, a sweep by a principal who is not a
 * policy_admin. Each gets a clear status, and nothing changes: the data
 * reads back, and a preview shows no end recorded and no hold.
 *
 * The tests' own policy (RET_POLICY) on a real privd on the test clock.
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

/* 2000-01-01T00:00:00Z, the earliest time privd takes. */
#define Y2000_US 946684800000000LL

/* A RelationshipEnd as key whose status must be st (reason: see
 * expect_status); the answer's at_us if OK. */
static uint64_t
rel_expect(harness *h, const char *key, const char *reg, const char *subject,
    uint64_t at_us, bool now, int st, int reason, const char *what)
{
	Privd__V1__Response *r = rel_end(h, key, reg, subject, at_us, now);
	uint64_t at = 0;

	expect_status(r, st, reason, what);
	if (st == ST(OK)) {
		assert_int_equal(r->payload_case,
		    PRIVD__V1__RESPONSE__PAYLOAD_RELATIONSHIP_END);
		at = r->relationship_end->at_us;
	}
	privd__v1__response__free_unpacked(r, NULL);
	return at;
}

/* A preview as of as_of_us must count after-customership and notes-90d
 * so (fields, subjects; nothing held). */
static void
preview_expect(harness *h, uint64_t as_of_us, uint64_t ac_fields,
    uint64_t ac_subjects, uint64_t n90_fields, uint64_t n90_subjects)
{
	Privd__V1__Response *r = preview(h, as_of_us);

	expect_count(r, CUST, "after-customership", ac_fields, ac_subjects, 0);
	expect_count(r, CUST, "notes-90d", n90_fields, n90_subjects, 0);
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * An end moves the due times of the fields it governs (name, email and
 * billing_details; notes stays due under notes-90d first) and an undo
 * moves them back, as a preview a year ahead shows; `now` ends it at
 * privd's clock; an undo after the sweeper deleted something because of
 * the end is CONFLICT, and the end stays.
 */
static void
test_relationship_end_undo(void **state)
{
	harness *h = *state;
	const char *const bill[] = {"billing_details"};
	Privd__V1__Response *r;
	int64_t now, end, old_end;
	uint64_t t0, t1, at;
	uint32_t moved_end, moved_undo;

	put_customer(h, "s-1");
	put_customer(h, "s-2");
	now = (int64_t)h_clock_us(h);
	end = now - 30 * US_PER_DAY;
	r = rel_end(h, "svc", CUST, "s-1", (uint64_t)end, false);
	expect_status(r, ST(OK), 0, "relationship end");
	assert_int_equal(r->relationship_end->at_us, (uint64_t)end);
	moved_end = r->relationship_end->fields;
	privd__v1__response__free_unpacked(r, NULL);
	preview_expect(h, (uint64_t)(now + 400 * US_PER_DAY), 2, 1, 2, 2);

	/* undo: neither at nor now */
	r = rel_end(h, "svc", CUST, "s-1", 0, false);
	expect_status(r, ST(OK), 0, "relationship end undo");
	assert_int_equal(r->relationship_end->at_us, 0);
	moved_undo = r->relationship_end->fields;
	privd__v1__response__free_unpacked(r, NULL);
	preview_expect(h, (uint64_t)(now + 400 * US_PER_DAY), 0, 0, 2, 2);

	/* now, by privd's clock */
	t0 = h_clock_us(h);
	at = rel_expect(h, "svc", CUST, "s-1", 0, true, ST(OK), 0, "now");
	t1 = h_clock_us(h);
	assert_true(at >= t0 && at <= t1);
	rel_expect(h, "svc", CUST, "s-1", 0, false, ST(OK), 0, "undo again");

	/* once the sweeper deleted because of it, the end stays */
	old_end = add_months(now, -24);
	rel_expect(h, "svc", CUST, "s-2", (uint64_t)old_end, false, ST(OK), 0,
	    "end of s-2");
	r = sweep(h);
	expect_count(r, CUST, "after-customership", 3, 1, 0);
	privd__v1__response__free_unpacked(r, NULL);
	rel_expect(h, "svc", CUST, "s-2", 0, false, ST(CONFLICT), 0,
	    "undo after a deletion");
	r = del_raw(h, "svc", CUST, "s-2", INV, bill, 1);
	expect_status(r, ST(RETAINED), 0, "delete billing_details");
	assert_non_null(retained_of(r, "billing_details"));
	assert_int_equal(retained_of(r, "billing_details")->until_us,
	    (uint64_t)add_months(old_end, 72));
	privd__v1__response__free_unpacked(r, NULL);
	expect_cust(h, "s-1", ALL4);
	expect_cust(h, "s-2", "billing_details");

	/* RelationshipEndResponse.fields: "stored fields of the subject
	 * whose due time it moved" - name, email, billing_details; notes
	 * was and stays due under notes-90d first (checked last, so that
	 * the rest runs whatever this says) */
	if (moved_end != 3 || moved_undo != 3)
		fail_msg("the end moved the due time of 3 fields, the undo of "
		         "3; privd says %u and %u",
		    moved_end, moved_undo);
}

/*
 * RelationshipEnd refused: unknown register, subject not stored, a time
 * more than a year ahead (13 months: privd allows 366 days, a leap year)
 * or before 2000, no subject, a caller without a
 * write grant on the register. A time less than a year ahead is taken.
 */
static void
test_relationship_end_bad_input(void **state)
{
	harness *h = *state;
	static const char *const no_write[] = {"reader", "acis"};
	static const char *const no_grant[] = {"admin", "rights", "auditor"};
	int64_t now;
	size_t i;

	put_customer(h, "s-1");
	put_customer(h, "s-2");
	now = (int64_t)h_clock_us(h);

	rel_expect(h, "svc", "no-such-register", "s-1", 0, true, ST(DENIED),
	    R_UNKNOWN_REGISTER, "unknown register");
	rel_expect(h, "svc", CUST, "ghost", (uint64_t)(now - US_PER_DAY), false,
	    ST(NOT_FOUND), 0, "unknown subject");
	rel_expect(h, "svc", CUST, "", 0, true, ST(INVALID), 0, "no subject");
	rel_expect(h, "svc", CUST, "s-1", (uint64_t)add_months(now, 13), false,
	    ST(INVALID), 0, "13 months ahead");
	rel_expect(h, "svc", CUST, "s-1", (uint64_t)(Y2000_US - 1), false,
	    ST(INVALID), 0, "before 2000");
	rel_expect(h, "svc", CUST, "s-1", 1, false, ST(INVALID), 0, "1970");
	for (i = 0; i < sizeof(no_write) / sizeof(no_write[0]); i++)
		rel_expect(h, no_write[i], CUST, "s-1",
		    (uint64_t)(now - US_PER_DAY), false, ST(DENIED), R_NO_GRANT,
		    "no write grant");
	for (i = 0; i < sizeof(no_grant) / sizeof(no_grant[0]); i++)
		rel_expect(h, no_grant[i], CUST, "s-1", 0, true, ST(DENIED), 0,
		    "no grant at all");
	/* less than a year ahead is taken, on the other subject */
	rel_expect(h, "svc", CUST, "s-2", (uint64_t)(now + 300 * US_PER_DAY),
	    false, ST(OK), 0, "300 days ahead");

	/* nothing changed for s-1: three years on, only s-2's end (name
	 * and email; its billing_details is kept 6 years) and the notes
	 * are due */
	preview_expect(h, (uint64_t)add_months(now, 36), 2, 1, 2, 2);
	expect_cust(h, "s-1", ALL4);
	expect_cust(h, "s-2", ALL4);
}

/*
 * HoldSet and HoldLift refused: a register not declared, no reason or
 * one over 256 bytes, an until in the past; lifting what is not held.
 * 256 bytes of reason are taken.
 */
static void
test_hold_bad_input(void **state)
{
	harness *h = *state;
	char long_reason[258];
	Privd__V1__Response *r;
	int64_t now;

	put_customer(h, "s-1");
	now = (int64_t)h_clock_us(h);
	rel_expect(h, "svc", CUST, "s-1", (uint64_t)add_months(now, -24), false,
	    ST(OK), 0, "end of s-1");

	r = hold_set(h, "rights", "no-such-register", "s-1", "why", 0);
	expect_status(r, ST(DENIED), R_UNKNOWN_REGISTER, "hold: register");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_set(h, "rights", "no-such-register", "", "why", 0);
	expect_status(r, ST(DENIED), R_UNKNOWN_REGISTER, "register hold");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_set(h, "rights", CUST, "s-1", "", 0);
	expect_status(r, ST(INVALID), 0, "hold: empty reason");
	privd__v1__response__free_unpacked(r, NULL);
	memset(long_reason, 'r', 257);
	long_reason[257] = '\0';
	r = hold_set(h, "rights", CUST, "s-1", long_reason, 0);
	expect_status(r, ST(INVALID), 0, "hold: 257 bytes of reason");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_set(
	    h, "rights", CUST, "s-1", "why", (uint64_t)(now - US_PER_DAY));
	expect_status(r, ST(INVALID), 0, "hold: until yesterday");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_set(h, "rights", CUST, "s-1", "why", 1);
	expect_status(r, ST(INVALID), 0, "hold: until 1970");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_lift(h, "rights", "no-such-register", "s-1");
	expect_status(r, ST(DENIED), R_UNKNOWN_REGISTER, "lift: register");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_lift(h, "rights", CUST, "s-1");
	expect_status(r, ST(NOT_FOUND), 0, "lift: no hold");
	privd__v1__response__free_unpacked(r, NULL);

	/* nothing changed: no hold listed, none holds the sweep back */
	r = hold_list(h, "rights", NULL);
	expect_status(r, ST(OK), 0, "hold list");
	assert_int_equal(r->hold_list->n_holds, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_cust(h, "s-1", ALL4);

	/* the longest reason is taken (and lifted again) */
	long_reason[256] = '\0';
	r = hold_set(h, "rights", CUST, "s-1", long_reason, 0);
	expect_status(r, ST(OK), 0, "hold: 256 bytes of reason");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_lift(h, "rights", CUST, "s-1");
	expect_status(r, ST(OK), 0, "lift");
	privd__v1__response__free_unpacked(r, NULL);

	r = sweep(h);
	expect_count(r, CUST, "after-customership", 3, 1, 0);
	privd__v1__response__free_unpacked(r, NULL);
}

/* RetentionRun, a sweep or a preview, by anyone but a policy_admin:
 * DENIED (role_required), and nothing is swept. */
static void
test_run_needs_policy_admin(void **state)
{
	harness *h = *state;
	static const char *const keys[] = {
	    "svc", "rights", "reader", "auditor"};
	Privd__V1__Response *r;
	size_t i;

	put_customer(h, "s-1");
	rel_expect(h, "svc", CUST, "s-1",
	    (uint64_t)add_months((int64_t)h_clock_us(h), -24), false, ST(OK), 0,
	    "end of s-1");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		r = ret_run(h, keys[i], false, 0, NULL, 0);
		expect_status(r, ST(DENIED), R_ROLE_REQUIRED, "sweep");
		privd__v1__response__free_unpacked(r, NULL);
		r = ret_run(h, keys[i], true, 0, NULL, 0);
		expect_status(r, ST(DENIED), R_ROLE_REQUIRED, "preview");
		privd__v1__response__free_unpacked(r, NULL);
	}
	expect_cust(h, "s-1", ALL4);
	expect_ret_events(h, NULL, CUST, 0, NULL, NULL, NULL);

	r = sweep(h);
	expect_count(r, CUST, "after-customership", 3, 1, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_cust(h, "s-1", "billing_details");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_relationship_end_undo, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_relationship_end_bad_input, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hold_bad_input, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_run_needs_policy_admin, ret_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/retention_input", tests, NULL, NULL);
}
