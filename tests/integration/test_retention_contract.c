/*
 * test_retention_contract.c - the end of a register's processing
 * contract (issue 9): ContractEnd (role policy_admin) refuses new data
 * from its time on (CONFLICT naming the register), the rules counting
 * from contract_end fall due and the sweeper purges the register (op
 * contract_end_purge) until it holds no subject; a hold on the register
 * or a subject blocks the purge; an undo is refused once a purge began;
 * bad input changes nothing.
 *
 * The tests' own policy (RET_POLICY: register acis, rule contract-end,
 * delete 30 days after contract_end) on a real privd on the test clock.
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

#define ACIS "acis"
#define CX   "cx"
#define BOTH "feedback_score,name"

/* acis puts subject's two fields; the status privd answers (libprivd). */
static int
put_acis(harness *h, const char *subject)
{
	privd_client *c = client(h, "acis");
	privd_field f[] = {
	    h_field("name", "Aino Vastaaja"), h_field("feedback_score", "4")};
	int rc = privd_put(c, ACIS, subject, CX, f, 2);

	if (rc == PRIVD_ECONFLICT && strstr(privd_errmsg(c), ACIS) == NULL)
		fail_msg("the refusal does not name the register: %s",
		    privd_errmsg(c));
	privd_close(&c);
	return rc;
}

/* ContractEnd as key with status st; the at_us answered if OK. */
static uint64_t
ce_expect(harness *h, const char *key, const char *reg, uint64_t at_us,
    bool now, int st, int reason, const char *what)
{
	Privd__V1__Response *r = contract_end(h, key, reg, at_us, now);
	uint64_t at = 0;

	expect_status(r, st, reason, what);
	if (st == ST(OK)) {
		assert_int_equal(
		    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_CONTRACT_END);
		at = r->contract_end->at_us;
	}
	privd__v1__response__free_unpacked(r, NULL);
	return at;
}

/* A sweep's count for acis's contract-end rule, whose action is
 * contract_end_purge (a rule missing from the answer counts 0). */
static void
sweep_purges(harness *h, uint64_t fields, uint64_t subjects, uint64_t held)
{
	Privd__V1__Response *r = sweep(h);
	const Privd__V1__RetentionCount *c = count_of(r, ACIS, "contract-end");

	expect_count(r, ACIS, "contract-end", fields, subjects, held);
	if (c != NULL)
		assert_string_equal(c->action, "contract_end_purge");
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * A contract ended 31 days ago: puts to the register are refused, the
 * sweep purges every subject of it (one contract_end_purge event each,
 * rule contract-end) and nothing of it is read afterwards; the other
 * register is untouched.
 */
static void
test_contract_end_purge(void **state)
{
	harness *h = *state;
	static const char *const subjects[] = {"a-1", "a-2", "a-3"};
	const char *const ops[] = {"contract_end_purge"};
	const char *const rules[] = {"contract-end"};
	const char *const f[] = {BOTH};
	Privd__V1__Response *r;
	uint64_t at, from;
	size_t i;

	for (i = 0; i < 3; i++)
		assert_int_equal(put_acis(h, subjects[i]), PRIVD_OK);
	put_customer(h, "s-1");
	at = h_clock_us(h) - 31 * US_PER_DAY;
	assert_int_equal(
	    ce_expect(h, "admin", ACIS, at, false, ST(OK), 0, "contract end"),
	    at);
	assert_int_equal(put_acis(h, "a-4"), PRIVD_ECONFLICT);
	assert_int_equal(put_acis(h, "a-1"), PRIVD_ECONFLICT);
	expect_fields(h, "acis", ACIS, CX, "a-1", BOTH);

	from = audit_head(h) + 1;
	r = sweep(h);
	expect_count(r, ACIS, "contract-end", 6, 3, 0);
	expect_count(r, CUST, "after-customership", 0, 0, 0);
	expect_run_events(h, from, r);
	privd__v1__response__free_unpacked(r, NULL);
	for (i = 0; i < 3; i++) {
		expect_fields(h, "acis", ACIS, CX, subjects[i], "NOT_FOUND");
		expect_ret_events(h, subjects[i], ACIS, 1, ops, rules, f);
	}
	/* nothing of the register is due any more, ever */
	r = preview(h, h_clock_us(h) + 300 * US_PER_DAY);
	expect_count(r, ACIS, "contract-end", 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	assert_int_equal(put_acis(h, "a-1"), PRIVD_ECONFLICT);
	expect_cust(h, "s-1", "billing_details,email,name,notes");
	privctl_verify_ok(h);
}

/* A hold on the register blocks the purge of all of it, a hold on a
 * subject that subject's, until lifted. */
static void
test_hold_blocks_purge(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;

	assert_int_equal(put_acis(h, "a-1"), PRIVD_OK);
	assert_int_equal(put_acis(h, "a-2"), PRIVD_OK);
	r = hold_set(h, "rights", ACIS, "", "client's litigation", 0);
	expect_status(r, ST(OK), 0, "register hold");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_set(h, "rights", ACIS, "a-1", "subject's complaint", 0);
	expect_status(r, ST(OK), 0, "subject hold");
	privd__v1__response__free_unpacked(r, NULL);
	ce_expect(h, "admin", ACIS, h_clock_us(h) - 31 * US_PER_DAY, false,
	    ST(OK), 0, "contract end");

	sweep_purges(h, 0, 0, 4);
	expect_fields(h, "acis", ACIS, CX, "a-1", BOTH);
	expect_fields(h, "acis", ACIS, CX, "a-2", BOTH);
	r = del_raw(h, "acis", ACIS, "a-2", CX, NULL, 0);
	expect_status(r, ST(RETAINED), 0, "delete under a register hold");
	assert_non_null(retained_of(r, "name"));
	assert_string_equal(
	    retained_of(r, "name")->hold_reason, "client's litigation");
	privd__v1__response__free_unpacked(r, NULL);

	r = hold_lift(h, "rights", ACIS, "");
	expect_status(r, ST(OK), 0, "lift the register hold");
	privd__v1__response__free_unpacked(r, NULL);
	sweep_purges(h, 2, 1, 2);
	expect_fields(h, "acis", ACIS, CX, "a-1", BOTH);
	expect_fields(h, "acis", ACIS, CX, "a-2", "NOT_FOUND");

	r = hold_lift(h, "rights", ACIS, "a-1");
	expect_status(r, ST(OK), 0, "lift the subject hold");
	privd__v1__response__free_unpacked(r, NULL);
	sweep_purges(h, 2, 1, 0);
	expect_fields(h, "acis", ACIS, CX, "a-1", "NOT_FOUND");
}

/*
 * ContractEnd refused: not a policy_admin, an unknown register, a time
 * more than a year ahead (13 months: privd allows 366 days) or before
 * 2000 - and puts still work. An end in the future refuses puts from then
 * on; undone (before any purge), puts work again; `now` ends it at
 * privd's clock. What was stored stays readable until the purge.
 */
static void
test_contract_end_input_and_undo(void **state)
{
	harness *h = *state;
	static const char *const not_admin[] = {"acis", "rights", "svc"};
	int64_t now;
	uint64_t t0, at;
	size_t i;

	assert_int_equal(put_acis(h, "a-1"), PRIVD_OK);
	now = (int64_t)h_clock_us(h);
	for (i = 0; i < sizeof(not_admin) / sizeof(not_admin[0]); i++)
		ce_expect(h, not_admin[i], ACIS, 0, true, ST(DENIED),
		    R_ROLE_REQUIRED, "not a policy_admin");
	ce_expect(h, "admin", "no-such-register", 0, true, ST(DENIED),
	    R_UNKNOWN_REGISTER, "unknown register");
	ce_expect(h, "admin", ACIS, (uint64_t)add_months(now, 13), false,
	    ST(INVALID), 0, "13 months ahead");
	ce_expect(h, "admin", ACIS, 946684800000000ULL - 1, false, ST(INVALID),
	    0, "before 2000");
	assert_int_equal(put_acis(h, "a-2"), PRIVD_OK);

	/* ten days ahead: puts until then, none after; undone, puts again */
	assert_int_equal(
	    ce_expect(h, "admin", ACIS, (uint64_t)(now + 10 * US_PER_DAY),
	        false, ST(OK), 0, "ten days ahead"),
	    (uint64_t)(now + 10 * US_PER_DAY));
	assert_int_equal(put_acis(h, "a-3"), PRIVD_OK);
	clock_to(h, now + 10 * US_PER_DAY + US_PER_S);
	assert_int_equal(put_acis(h, "a-4"), PRIVD_ECONFLICT);
	assert_int_equal(put_acis(h, "a-1"), PRIVD_ECONFLICT);
	expect_fields(h, "acis", ACIS, CX, "a-1", BOTH);
	assert_int_equal(
	    ce_expect(h, "admin", ACIS, 0, false, ST(OK), 0, "undo"), 0);
	assert_int_equal(put_acis(h, "a-4"), PRIVD_OK);

	/* now, by privd's clock */
	t0 = h_clock_us(h);
	at = ce_expect(h, "admin", ACIS, 0, true, ST(OK), 0, "now");
	assert_true(at >= t0 && at <= h_clock_us(h));
	assert_int_equal(put_acis(h, "a-5"), PRIVD_ECONFLICT);
	expect_fields(h, "acis", ACIS, CX, "a-4", BOTH);
	/* the other registers take data as before */
	put_customer(h, "s-1");
}

/* Ended now and purged 31 days on: the undo comes too late, and the
 * register stays closed. */
static void
test_undo_after_purge(void **state)
{
	harness *h = *state;

	assert_int_equal(put_acis(h, "a-1"), PRIVD_OK);
	assert_int_equal(put_acis(h, "a-2"), PRIVD_OK);
	ce_expect(h, "admin", ACIS, 0, true, ST(OK), 0, "now");
	clock_to(h, (int64_t)h_clock_us(h) + 31 * US_PER_DAY);
	sweep_purges(h, 4, 2, 0);
	ce_expect(
	    h, "admin", ACIS, 0, false, ST(CONFLICT), 0, "undo after a purge");
	assert_int_equal(put_acis(h, "a-3"), PRIVD_ECONFLICT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_contract_end_purge, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hold_blocks_purge, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_contract_end_input_and_undo, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_undo_after_purge, ret_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/retention_contract", tests, NULL, NULL);
}
