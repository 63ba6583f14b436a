/*
 * test_rights_object.c - objection to a purpose (issue 10, first part:
 * SubjectObject) under the example policy
 * (policy/examples/aktiivitieto.json): once a subject objects to
 * customers.marketing, every get, put and delete of it for marketing is
 * DENIED with reason objected (10), naming the purpose, while its other
 * purposes and other subjects' marketing are served; withdrawing restores
 * marketing; a repeat answers changed=false; only a purpose the policy
 * marks objectable can be objected to (invoicing is INVALID, naming it),
 * and a purpose the register does not declare is DENIED (unknown
 * purpose); an objection outlives a restart and goes with the subject
 * when it is deleted; aggregates for the purpose leave the objecting
 * subject out; and each request is audited (op subject_object).
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

#include "retention_views.h"
#include "rights_common.h"

#define SUBJ  "subj-objecting-7b3d"
#define OTHER "subj-other-1e8a"
#define MKT   "marketing"

/* crm's purposes on customers besides marketing, and billing's. */
static const char *const crm_purposes[] = {
    "offers", "orders", "contacting", "service_development", CR};
static const char *const billing_purposes[] = {"invoicing", "debt_collection"};

/* Every purpose of subject but marketing is served, gets and puts. */
static void
others_served(harness *h, const char *subject)
{
	size_t i;

	for (i = 0; i < sizeof(crm_purposes) / sizeof(crm_purposes[0]); i++) {
		expect_get(
		    h, "crm", CUST, crm_purposes[i], subject, PRIVD_OK, 0);
		expect_put(h, "crm", CUST, crm_purposes[i], subject, "position",
		    "sales director", PRIVD_OK, 0);
	}
	for (i = 0; i < 2; i++) {
		expect_get(h, "billing", CUST, billing_purposes[i], subject,
		    PRIVD_OK, 0);
		expect_put(h, "billing", CUST, billing_purposes[i], subject,
		    "billing_details", "Paper invoice", PRIVD_OK, 0);
	}
}

/* marketing's get and put of subject: served (the put writes name
 * "Kaisa Uusinimi"), or refused as objected (the put would have written
 * another name). */
static void
marketing(harness *h, const char *subject, bool objected)
{
	int rc = objected ? PRIVD_EDENIED : PRIVD_OK;
	int reason = objected ? R_OBJECTED : 0;

	expect_get(h, "crm", CUST, MKT, subject, rc, reason);
	expect_put(h, "crm", CUST, MKT, subject, "name",
	    objected ? "Refused Name" : "Kaisa Uusinimi", rc, reason);
}

/*
 * An objection to marketing refuses marketing for that subject only;
 * every other purpose, and the other subject's marketing, are served;
 * withdrawal restores it; repeats answer changed=false; the audit log has
 * the four requests and the two refusals (reason objected), under the
 * subject's pseudonym.
 */
static void
test_object_marketing(void **state)
{
	harness *h = *state;

	put_cust(h, SUBJ, true);
	put_cust(h, OTHER, true);
	marketing(h, SUBJ, false);

	object_ok(h, CUST, SUBJ, MKT, true, true);
	object_ok(h, CUST, SUBJ, MKT, true, false);
	marketing(h, SUBJ, true);
	others_served(h, SUBJ);
	marketing(h, OTHER, false);
	/* the refused put wrote nothing: the name is the one of before
	 * the objection (the served puts wrote position and
	 * billing_details) */
	{
		privd_client *c = client(h, "crm");
		const char *const name[] = {"name"};
		privd_record *rec = NULL;

		expect_rc(c, privd_get(c, CUST, SUBJ, CR, name, 1, &rec),
		    PRIVD_OK, "get name");
		assert_field_str(rec, "name", "Kaisa Uusinimi");
		privd_record_free(&rec);
		privd_close(&c);
	}

	object_ok(h, CUST, SUBJ, MKT, false, true);
	object_ok(h, CUST, SUBJ, MKT, false, false);
	marketing(h, SUBJ, false);
	others_served(h, SUBJ);

	expect_events(h, SUBJ, "subject_object", CUST, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 2);
	expect_events(h, SUBJ, "subject_object_withdraw", CUST, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 2);
	expect_events(h, OTHER, "subject_object", NULL, NULL,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 0);
	expect_events(h, SUBJ, "get", CUST, "crm", PRIVD_DECISION_REFUSED,
	    ST(DENIED), R_OBJECTED, 1);
	expect_events(h, SUBJ, "put", CUST, "crm", PRIVD_DECISION_REFUSED,
	    ST(DENIED), R_OBJECTED, 1);
	expect_events(h, OTHER, "get", CUST, NULL, PRIVD_DECISION_REFUSED,
	    ST(DENIED), R_OBJECTED, 0);
	privctl_verify_ok(h);
}

/*
 * Only objectable purposes: invoicing (a contract's) is INVALID and the
 * message names it; a purpose customers does not declare (one of acis's,
 * one of nobody's) is DENIED, unknown purpose; none changes anything:
 * every purpose is still served, and a first objection to marketing
 * still changes something. Each is audited, as the refusal or rejection
 * it is.
 */
static void
test_not_objectable(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;

	put_cust(h, SUBJ, true);

	r = object_raw(h, RIGHTS, CUST, SUBJ, "invoicing", true);
	expect_status(r, ST(INVALID), 0, "object to invoicing");
	if (strstr(r->message, "invoicing") == NULL)
		fail_msg("object to invoicing: the message does not name it: "
		         "\"%s\"",
		    r->message);
	assert_null(strstr(r->message, SUBJ));
	privd__v1__response__free_unpacked(r, NULL);
	object_expect(h, RIGHTS, CUST, SUBJ, "debt_collection", true,
	    ST(INVALID), 0, "object to debt_collection");
	object_expect(h, RIGHTS, CUST, SUBJ, CXM, true, ST(DENIED),
	    R_UNKNOWN_PURPOSE, "object to an acis purpose in customers");
	object_expect(h, RIGHTS, CUST, SUBJ, "no_such_purpose", true,
	    ST(DENIED), R_UNKNOWN_PURPOSE, "object to an undeclared purpose");
	object_expect(h, RIGHTS, CUST, SUBJ, "invoicing", false, ST(INVALID), 0,
	    "withdraw from invoicing");

	others_served(h, SUBJ);
	marketing(h, SUBJ, false);
	expect_events(h, SUBJ, "subject_object", CUST, RIGHTS,
	    PRIVD_DECISION_REJECTED, ST(INVALID), 0, 2);
	expect_events(h, SUBJ, "subject_object_withdraw", CUST, RIGHTS,
	    PRIVD_DECISION_REJECTED, ST(INVALID), 0, 1);
	expect_events(h, SUBJ, "subject_object", CUST, RIGHTS,
	    PRIVD_DECISION_REFUSED, ST(DENIED), R_UNKNOWN_PURPOSE, 2);
	object_ok(h, CUST, SUBJ, MKT, true, true);
	object_ok(h, CUST, SUBJ, "contacting", true, true);
	marketing(h, SUBJ, true);
	expect_get(
	    h, "crm", CUST, "contacting", SUBJ, PRIVD_EDENIED, R_OBJECTED);
	expect_get(h, "crm", CUST, "offers", SUBJ, PRIVD_OK, 0);
}

/*
 * acis: an objection to cx_management refuses it (get, put, delete) and
 * leaves satisfaction_tracking served; it is of acis only (customers'
 * purposes are untouched); it outlives a restart; withdrawn after one.
 * Objection and restriction together: the restriction's reason comes
 * first (the policy decides the subject's restriction before its
 * objections), and lifting the restriction leaves the objection.
 */
static void
test_acis_restart_and_restriction(void **state)
{
	harness *h = *state;

	put_acis(h, SUBJ);
	put_cust(h, SUBJ, true);
	object_ok(h, ACIS, SUBJ, CXM, true, true);
	expect_get(h, "acis", ACIS, CXM, SUBJ, PRIVD_EDENIED, R_OBJECTED);
	expect_put(h, "acis", ACIS, CXM, SUBJ, "name", "Uusi Nimi",
	    PRIVD_EDENIED, R_OBJECTED);
	expect_del(h, "acis", ACIS, CXM, SUBJ, "customer_type", PRIVD_EDENIED,
	    R_OBJECTED);
	expect_get(h, "acis", ACIS, ST_P, SUBJ, PRIVD_OK, 0);
	marketing(h, SUBJ, false);
	others_served(h, SUBJ);

	ret_restart(h);
	expect_get(h, "acis", ACIS, CXM, SUBJ, PRIVD_EDENIED, R_OBJECTED);
	expect_get(h, "acis", ACIS, ST_P, SUBJ, PRIVD_OK, 0);
	object_ok(h, ACIS, SUBJ, CXM, true, false);

	restrict_ok(h, ACIS, SUBJ, true, true);
	expect_get(h, "acis", ACIS, CXM, SUBJ, PRIVD_EDENIED, R_RESTRICTED);
	expect_get(h, "acis", ACIS, ST_P, SUBJ, PRIVD_EDENIED, R_RESTRICTED);
	restrict_ok(h, ACIS, SUBJ, false, true);
	expect_get(h, "acis", ACIS, CXM, SUBJ, PRIVD_EDENIED, R_OBJECTED);
	expect_get(h, "acis", ACIS, ST_P, SUBJ, PRIVD_OK, 0);

	object_ok(h, ACIS, SUBJ, CXM, false, true);
	expect_get(h, "acis", ACIS, CXM, SUBJ, PRIVD_OK, 0);
	expect_fields(h, "acis", ACIS, CXM, SUBJ, ACIS_ALL);
}

/*
 * An objection goes with the subject: after a whole-subject delete (by a
 * purpose not objected to), the subject written again under the same id
 * is served for the purpose it objected to; a withdrawal then changes
 * nothing.
 */
static void
test_delete_takes_objection(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;

	put_cust(h, SUBJ, false);
	object_ok(h, CUST, SUBJ, MKT, true, true);
	marketing(h, SUBJ, true);
	r = del_raw(h, "crm", CUST, SUBJ, CR, NULL, 0);
	expect_status(r, ST(OK), 0, "crm deletes the subject");
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "crm", CUST, CR, SUBJ, "NOT_FOUND");

	put_cust(h, SUBJ, false);
	marketing(h, SUBJ, false);
	object_ok(h, CUST, SUBJ, MKT, false, false);
}

/* reporting's count of customers' feedback_score (every subject here
 * has 8) must be n: one group of n, nothing suppressed. */
static void
feedback_count(harness *h, uint64_t n)
{
	Privd__V1__Response *r = aggregate_ok(
	    h, "reporting", "reporting", CUST, "feedback_score", NULL);

	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, "", n, 8 * (int64_t)n, 8, 8);
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * Aggregates leave out a restricted subject, and a subject objecting to
 * the statistical purpose (reporting is objectable), but not one
 * objecting to another purpose (README "Data subject rights"); lifting
 * and withdrawing count them again.
 */
static void
test_aggregates_leave_out(void **state)
{
	harness *h = *state;
	char s[7][16];
	int i;

	for (i = 0; i < 7; i++) {
		snprintf(s[i], sizeof(s[i]), "agg-%d", i);
		put_cust(h, s[i], false);
	}
	feedback_count(h, 7);
	restrict_ok(h, CUST, s[0], true, true);
	feedback_count(h, 6);
	object_ok(h, CUST, s[1], "reporting", true, true);
	feedback_count(h, 5);
	object_ok(h, CUST, s[2], MKT, true, true);
	feedback_count(h, 5);
	restrict_ok(h, CUST, s[0], false, true);
	object_ok(h, CUST, s[1], "reporting", false, true);
	feedback_count(h, 7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_object_marketing, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_not_objectable, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(test_acis_restart_and_restriction,
	        ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delete_takes_objection, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_aggregates_leave_out, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/rights_object", tests, NULL, NULL);
}
