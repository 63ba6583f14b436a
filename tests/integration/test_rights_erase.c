/*
 * test_rights_erase.c - erasure (issue 10, first part: SubjectErase)
 * under the example policy (policy/examples/aktiivitieto.json):
 *   - a customer under the bookkeeping minimum (relationship not ended,
 *     or ended a month ago) keeps exactly billing_details, with the rule
 *     and the date it is kept until in the answer (RETAINED); everything
 *     else is deleted; a customer whose minimum has passed, or who has no
 *     billing_details, is erased whole (OK, key destroyed); a legal hold
 *     keeps what it covers, with its reason;
 *   - a person in both registers: acis, where nothing is kept, has its
 *     key destroyed and nobody reads anything there; the answer lists
 *     the registers by name; another person is untouched;
 *   - the registers named limit the erasure; a subject stored in none of
 *     them is NOT_FOUND, and audited all the same;
 *   - a restricted and objecting subject erased whole loses its
 *     restriction and objections (written again, it is served); one that
 *     keeps billing_details stays restricted.
 * Each erasure is one audit event (op subject_erase) under the subject's
 * pseudonym.
 *
 * A real privd on the test clock, sweeping only when asked; the rights
 * requests are spoken raw (rights_common.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rights_common.h"

#define BILLING_ONLY "billing_details"

static const char *const only_cust[] = {CUST};
static const char *const only_acis[] = {ACIS};
static const char *const both[] = {ACIS, CUST}; /* by name */

/* An erasure of subject as RIGHTS in regs (n; 0: every register). */
static Privd__V1__Response *
erase(harness *h, const char *subject, const char *const *regs, size_t n)
{
	return erase_raw(h, RIGHTS, subject, regs, n);
}

/* billing_details of e is kept by the rule bookkeeping until until_us. */
static void
expect_bookkeeping(const Privd__V1__ErasedRegister *e, uint64_t until_us)
{
	const Privd__V1__Retained *k = kept_of(e, "billing_details");

	assert_non_null(k);
	assert_string_equal(k->rule, "bookkeeping");
	assert_int_equal(k->until_us, until_us);
	assert_string_equal(k->hold_reason, "");
}

/* What the billing principal and crm read of subject in customers:
 * exactly billing_details, or nothing (NOT_FOUND). */
static void
cust_left(harness *h, const char *subject, const char *want)
{
	expect_fields(h, "crm", CUST, CR, subject, want);
	expect_fields(h, "billing", CUST, "invoicing", subject, want);
}

/*
 * Customers under the minimum keep billing_details (until 0 while the
 * relationship has not ended; 6 calendar years after an end a month
 * ago), the rest goes; past the minimum (ended 7 years ago, not swept
 * yet), and without billing_details, the whole subject and its key go.
 */
static void
test_customers_minimum(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;
	int64_t now, recent;

	put_cust(h, "e-active", true);
	put_cust(h, "e-recent", true);
	put_cust(h, "e-old", true);
	put_cust(h, "e-nobill", false);
	now = (int64_t)h_clock_us(h);
	recent = add_months(now, -1);
	end_rel(h, "e-recent", recent);
	end_rel(h, "e-old", add_months(now, -84));

	r = erase(h, "e-active", NULL, 0);
	expect_erase_answer(r, ST(RETAINED), only_cust, 1);
	expect_erased(erased_of(r, CUST), CUST_NO_BILLING, 1, false);
	expect_bookkeeping(erased_of(r, CUST), 0);
	privd__v1__response__free_unpacked(r, NULL);
	cust_left(h, "e-active", BILLING_ONLY);

	r = erase(h, "e-recent", only_cust, 1);
	expect_erase_answer(r, ST(RETAINED), only_cust, 1);
	expect_erased(erased_of(r, CUST), CUST_NO_BILLING, 1, false);
	expect_bookkeeping(
	    erased_of(r, CUST), (uint64_t)add_months(recent, 72));
	privd__v1__response__free_unpacked(r, NULL);
	cust_left(h, "e-recent", BILLING_ONLY);

	r = erase(h, "e-old", NULL, 0);
	expect_erase_answer(r, ST(OK), only_cust, 1);
	expect_erased(erased_of(r, CUST), CUST_ALL, 0, true);
	privd__v1__response__free_unpacked(r, NULL);
	cust_left(h, "e-old", "NOT_FOUND");

	r = erase(h, "e-nobill", NULL, 0);
	expect_erase_answer(r, ST(OK), only_cust, 1);
	expect_erased(erased_of(r, CUST), CUST_NO_BILLING, 0, true);
	privd__v1__response__free_unpacked(r, NULL);
	cust_left(h, "e-nobill", "NOT_FOUND");

	/* erasing again: what is kept stays kept, and is listed again;
	 * nothing more is deleted */
	r = erase(h, "e-active", NULL, 0);
	expect_erase_answer(r, ST(RETAINED), only_cust, 1);
	expect_erased(erased_of(r, CUST), "", 1, false);
	expect_bookkeeping(erased_of(r, CUST), 0);
	privd__v1__response__free_unpacked(r, NULL);
	cust_left(h, "e-active", BILLING_ONLY);
	r = erase(h, "e-old", NULL, 0);
	expect_status(r, ST(NOT_FOUND), 0, "erase an erased subject");
	privd__v1__response__free_unpacked(r, NULL);

	expect_events(h, "e-active", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(RETAINED), 0, 2);
	expect_events(h, "e-recent", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(RETAINED), 0, 1);
	expect_events(h, "e-old", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 1);
	expect_events(h, "e-old", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(NOT_FOUND), 0, 1);
	privctl_verify_ok(h);
}

/*
 * A legal hold on the subject keeps what it covers: in acis (where no
 * minimum keeps anything) every field, with the hold's reason and until
 * 0, and the key stays; once the hold is lifted, the erasure takes all.
 */
static void
test_hold_keeps(void **state)
{
	harness *h = *state;
	const Privd__V1__ErasedRegister *e;
	Privd__V1__Response *r;
	size_t i;

	put_acis(h, "e-held");
	r = hold_set(h, RIGHTS, ACIS, "e-held", "Court case 12/2026", 0);
	expect_status(r, ST(OK), 0, "hold");
	privd__v1__response__free_unpacked(r, NULL);

	r = erase(h, "e-held", NULL, 0);
	expect_erase_answer(r, ST(RETAINED), only_acis, 1);
	e = erased_of(r, ACIS);
	expect_erased(e, "", 4, false);
	for (i = 0; i < e->n_kept; i++) {
		assert_string_equal(e->kept[i]->rule, "");
		assert_string_equal(
		    e->kept[i]->hold_reason, "Court case 12/2026");
		assert_int_equal(e->kept[i]->until_us, 0);
	}
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "acis", ACIS, ST_P, "e-held", ACIS_ALL);

	r = hold_lift(h, RIGHTS, ACIS, "e-held");
	expect_status(r, ST(OK), 0, "lift");
	privd__v1__response__free_unpacked(r, NULL);
	r = erase(h, "e-held", NULL, 0);
	expect_erase_answer(r, ST(OK), only_acis, 1);
	expect_erased(erased_of(r, ACIS), ACIS_ALL, 0, true);
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "acis", ACIS, ST_P, "e-held", "NOT_FOUND");
}

/* Nobody reads subject in acis: acis for both its purposes (all fields,
 * or one by name) finds nothing, nor does a delete; reporting's
 * statistical purpose and support_contractor's region are refused as
 * ever. */
static void
acis_gone(harness *h, const char *subject)
{
	const char *const score[] = {"feedback_score"};
	privd_client *c = client(h, "acis");
	privd_record *rec = NULL;
	Privd__V1__Response *r;

	expect_get(h, "acis", ACIS, ST_P, subject, PRIVD_ENOTFOUND, 0);
	expect_get(h, "acis", ACIS, CXM, subject, PRIVD_ENOTFOUND, 0);
	expect_rc(c, privd_get(c, ACIS, subject, CXM, score, 1, &rec),
	    PRIVD_ENOTFOUND, "get feedback_score");
	assert_null(rec);
	privd_close(&c);
	r = del_raw(h, "acis", ACIS, subject, ST_P, NULL, 0);
	expect_status(r, ST(NOT_FOUND), 0, "delete an erased subject");
	privd__v1__response__free_unpacked(r, NULL);
	expect_get(h, "reporting", ACIS, "sales_reporting", subject,
	    PRIVD_EDENIED, R_NO_GRANT);
	expect_get(h, "support_contractor", ACIS, CXM, subject, PRIVD_EDENIED,
	    R_REGION);
}

/*
 * A person in both registers: the answer lists acis then customers; acis
 * loses everything and its key; customers keeps billing_details; nobody
 * reads the person in acis; the other person is untouched.
 */
static void
test_both_registers(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;

	put_cust(h, "p-both", true);
	put_acis(h, "p-both");
	put_cust(h, "p-other", true);
	put_acis(h, "p-other");

	r = erase(h, "p-both", NULL, 0);
	expect_erase_answer(r, ST(RETAINED), both, 2);
	expect_erased(erased_of(r, ACIS), ACIS_ALL, 0, true);
	expect_erased(erased_of(r, CUST), CUST_NO_BILLING, 1, false);
	expect_bookkeeping(erased_of(r, CUST), 0);
	privd__v1__response__free_unpacked(r, NULL);

	acis_gone(h, "p-both");
	cust_left(h, "p-both", BILLING_ONLY);
	expect_fields(h, "acis", ACIS, ST_P, "p-other", ACIS_ALL);
	expect_fields(h, "crm", CUST, CR, "p-other", CUST_ALL);
	expect_events(h, "p-both", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(RETAINED), 0, 1);
	expect_events(h, "p-other", "subject_erase", NULL, NULL,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 0);

	/* a new record under the same id in acis starts afresh */
	put_acis(h, "p-both");
	expect_fields(h, "acis", ACIS, ST_P, "p-both", ACIS_ALL);
}

/*
 * The registers named limit the erasure: acis alone leaves customers
 * whole; then customers alone; then acis again is NOT_FOUND (the subject
 * is stored in none of the registers named) and changes nothing, and so
 * is a subject privd never saw; each is audited. Both registers named,
 * for a subject stored in one: the answer lists that one.
 */
static void
test_registers_filter(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;

	put_cust(h, "f-1", false);
	put_acis(h, "f-1");
	put_cust(h, "f-2", true);

	r = erase(h, "f-1", only_acis, 1);
	expect_erase_answer(r, ST(OK), only_acis, 1);
	expect_erased(erased_of(r, ACIS), ACIS_ALL, 0, true);
	privd__v1__response__free_unpacked(r, NULL);
	acis_gone(h, "f-1");
	expect_fields(h, "crm", CUST, CR, "f-1", CUST_NO_BILLING);

	r = erase(h, "f-1", only_acis, 1);
	expect_status(r, ST(NOT_FOUND), 0, "erase in acis again");
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "crm", CUST, CR, "f-1", CUST_NO_BILLING);

	r = erase(h, "f-1", only_cust, 1);
	expect_erase_answer(r, ST(OK), only_cust, 1);
	expect_erased(erased_of(r, CUST), CUST_NO_BILLING, 0, true);
	privd__v1__response__free_unpacked(r, NULL);
	cust_left(h, "f-1", "NOT_FOUND");

	r = erase(h, "f-2", both, 2);
	expect_erase_answer(r, ST(RETAINED), only_cust, 1);
	expect_erased(erased_of(r, CUST), CUST_NO_BILLING, 1, false);
	privd__v1__response__free_unpacked(r, NULL);

	/* a subject privd never saw: NOT_FOUND, audited by its pseudonym */
	r = erase(h, "f-never-stored", NULL, 0);
	expect_status(r, ST(NOT_FOUND), 0, "erase an unknown subject");
	assert_null(strstr(r->message, "f-never-stored"));
	privd__v1__response__free_unpacked(r, NULL);

	expect_events(h, "f-1", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 2);
	expect_events(h, "f-1", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(NOT_FOUND), 0, 1);
	expect_events(h, "f-never-stored", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(NOT_FOUND), 0, 1);
	privctl_verify_ok(h);
}

/*
 * Restriction and objections go with an erased subject: restricted and
 * objecting in both registers, erased whole, written again: every
 * purpose is served, and a new restriction or objection changes
 * something. A customer that keeps billing_details stays restricted:
 * the kept data is still the subject's, and the billing principal reads
 * it for debt collection only.
 */
static void
test_erase_takes_state(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;

	put_cust(h, "s-1", false);
	put_acis(h, "s-1");
	restrict_ok(h, CUST, "s-1", true, true);
	restrict_ok(h, ACIS, "s-1", true, true);
	object_ok(h, CUST, "s-1", "marketing", true, true);
	object_ok(h, ACIS, "s-1", CXM, true, true);

	r = erase(h, "s-1", NULL, 0);
	expect_erase_answer(r, ST(OK), both, 2);
	expect_erased(erased_of(r, ACIS), ACIS_ALL, 0, true);
	expect_erased(erased_of(r, CUST), CUST_NO_BILLING, 0, true);
	privd__v1__response__free_unpacked(r, NULL);

	put_cust(h, "s-1", false);
	put_acis(h, "s-1");
	expect_get(h, "crm", CUST, "marketing", "s-1", PRIVD_OK, 0);
	expect_get(h, "crm", CUST, CR, "s-1", PRIVD_OK, 0);
	expect_get(h, "acis", ACIS, CXM, "s-1", PRIVD_OK, 0);
	expect_get(h, "acis", ACIS, ST_P, "s-1", PRIVD_OK, 0);
	restrict_ok(h, CUST, "s-1", false, false);
	restrict_ok(h, ACIS, "s-1", false, false);
	object_ok(h, CUST, "s-1", "marketing", false, false);
	object_ok(h, ACIS, "s-1", CXM, false, false);
	restrict_ok(h, ACIS, "s-1", true, true);

	/* kept billing_details: the restriction stays with it */
	put_cust(h, "s-2", true);
	restrict_ok(h, CUST, "s-2", true, true);
	r = erase(h, "s-2", NULL, 0);
	expect_erase_answer(r, ST(RETAINED), only_cust, 1);
	privd__v1__response__free_unpacked(r, NULL);
	expect_get(h, "billing", CUST, "invoicing", "s-2", PRIVD_EDENIED,
	    R_RESTRICTED);
	expect_fields(
	    h, "billing", CUST, "debt_collection", "s-2", BILLING_ONLY);
	restrict_ok(h, CUST, "s-2", true, false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_customers_minimum, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hold_keeps, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_both_registers, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_registers_filter, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_erase_takes_state, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/rights_erase", tests, NULL, NULL);
}
