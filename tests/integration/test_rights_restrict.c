/*
 * test_rights_restrict.c - restriction of processing (issue 10, first
 * part: SubjectRestrict) under the example policy
 * (policy/examples/aktiivitieto.json): while a subject is restricted in a
 * register, every get, put and delete of it there, by every principal
 * for every purpose it is granted, is DENIED with reason restricted (9),
 * except for the purposes the policy marks allowed_when_restricted
 * (customers' debt_collection, which billing may use); another subject,
 * and the same subject in another register, are unaffected; lifting
 * restores every access; a repeat answers changed=false; the restriction
 * outlives a restart and goes with the subject when a sweep leaves
 * nothing of it; and the audit log holds each restriction request (op
 * subject_restrict, by the subject's pseudonym) and each denial as a
 * refusal with reason restricted.
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

#define SUBJ  "subj-restricted-4f1a"
#define OTHER "subj-other-9c2e"

/*
 * Every grant of the example policy on a register, one row per
 * (principal, register, purpose): the field a put writes (NULL: no write
 * grant), the field a delete removes (NULL: no delete grant), and the
 * reason a get is denied with before the restriction (0: allowed) and
 * while the subject is restricted (0: allowed).
 *
 * The reporting principal's purposes are statistical: a get of one
 * subject is refused (no_grant), and privd decides the request itself
 * before the subject's state, so a restricted subject's get says no_grant
 * too: a principal that may not read learns nothing of the restriction.
 * support_contractor is outside the EEA: refused for
 * its region before anything about the subject is looked at, so it
 * learns nothing of the restriction. The allowed_when_restricted
 * purposes nobody is granted (legal_obligations) stay refused for lack
 * of a grant: being allowed while restricted grants nothing.
 */
typedef struct access {
	const char *key, *reg, *purpose;
	const char *put_field, *del_field;
	int before, restricted;
} access;

static const access grants[] = {
    {"crm", CUST, "offers", "name", NULL, 0, R_RESTRICTED},
    {"crm", CUST, "orders", "name", NULL, 0, R_RESTRICTED},
    {"crm", CUST, "contacting", "name", NULL, 0, R_RESTRICTED},
    {"crm", CUST, "service_development", "name", NULL, 0, R_RESTRICTED},
    {"crm", CUST, "marketing", "position", NULL, 0, R_RESTRICTED},
    {"crm", CUST, CR, "organisation", "classification", 0, R_RESTRICTED},
    {"billing", CUST, "invoicing", "billing_details", NULL, 0, R_RESTRICTED},
    {"billing", CUST, "debt_collection", "billing_details", NULL, 0, 0},
    {"billing", CUST, "legal_obligations", NULL, NULL, R_NO_GRANT, R_NO_GRANT},
    {"reporting", CUST, "reporting", NULL, NULL, R_NO_GRANT, R_NO_GRANT},
    {"acis", ACIS, ST_P, "name", "customer_type", 0, R_RESTRICTED},
    {"acis", ACIS, CXM, "email", "feedback_score", 0, R_RESTRICTED},
    {"acis", ACIS, "legal_obligations", NULL, NULL, R_NO_GRANT, R_NO_GRANT},
    {"reporting", ACIS, "sales_reporting", NULL, NULL, R_NO_GRANT, R_NO_GRANT},
    {"support_contractor", ACIS, CXM, NULL, NULL, R_REGION, R_REGION},
};
#define NGRANTS (sizeof(grants) / sizeof(grants[0]))

/* libprivd's rc for a reason (0: allowed). */
static int
rc_of(int reason)
{
	return reason == 0 ? PRIVD_OK : PRIVD_EDENIED;
}

/* A value a put may write to field (every one is text or a string, but
 * email). */
static const char *
value_of(const char *field)
{
	return strcmp(field, "email") == 0 ? "uusi.osoite@example.fi"
	                                   : "Rewritten value";
}

/*
 * Every row's get, put and (on `deletes`) delete of subject must have
 * the outcome of `restricted` or of `before`, for the rows of register
 * reg (NULL: every register).
 */
static void
check_all(harness *h, const char *subject, const char *reg, bool restricted,
    bool deletes)
{
	size_t i;

	for (i = 0; i < NGRANTS; i++) {
		const access *a = &grants[i];
		int reason = restricted ? a->restricted : a->before;

		if (reg != NULL && strcmp(a->reg, reg) != 0)
			continue;
		expect_get(h, a->key, a->reg, a->purpose, subject,
		    rc_of(reason), reason);
		if (a->put_field != NULL)
			expect_put(h, a->key, a->reg, a->purpose, subject,
			    a->put_field, value_of(a->put_field), rc_of(reason),
			    reason);
		if (a->del_field != NULL && deletes)
			expect_del(h, a->key, a->reg, a->purpose, subject,
			    a->del_field, rc_of(reason), reason);
	}
}

/* The number of rows of reg denied as restricted with a put (puts) or a
 * delete (dels) grant, or all of them. */
static size_t
nrestricted(const char *reg, bool puts, bool dels)
{
	size_t i, n = 0;

	for (i = 0; i < NGRANTS; i++)
		if (strcmp(grants[i].reg, reg) == 0 &&
		    grants[i].restricted == R_RESTRICTED &&
		    (!puts || grants[i].put_field != NULL) &&
		    (!dels || grants[i].del_field != NULL))
			n++;
	return n;
}

/*
 * A subject restricted in both registers is refused by every grant but
 * debt_collection (and refused as before where it was refused anyway),
 * while another subject is served as before; nothing of the restricted
 * subject changes (the denied puts and deletes did nothing); lifting
 * restores every grant; each repeat answers changed=false; the audit log
 * has the four requests per register and every denial as a refusal with
 * reason restricted, all under the subject's pseudonym.
 */
static void
test_every_grant(void **state)
{
	harness *h = *state;
	size_t nreg = 0, i;

	put_cust(h, SUBJ, true);
	put_cust(h, OTHER, true);
	put_acis(h, SUBJ);
	put_acis(h, OTHER);
	check_all(h, SUBJ, NULL, false, false);

	restrict_ok(h, CUST, SUBJ, true, true);
	restrict_ok(h, CUST, SUBJ, true, false);
	restrict_ok(h, ACIS, SUBJ, true, true);
	restrict_ok(h, ACIS, SUBJ, true, false);
	check_all(h, SUBJ, NULL, true, true);
	/* the other subject: every grant as before, deletes included */
	check_all(h, OTHER, NULL, false, true);

	restrict_ok(h, CUST, SUBJ, false, true);
	restrict_ok(h, CUST, SUBJ, false, false);
	restrict_ok(h, ACIS, SUBJ, false, true);
	restrict_ok(h, ACIS, SUBJ, false, false);
	/* nothing the refused requests asked for happened (the puts of
	 * debt_collection did) */
	expect_fields(h, "crm", CUST, CR, SUBJ, CUST_ALL);
	expect_fields(h, "acis", ACIS, ST_P, SUBJ, ACIS_ALL);
	expect_fields(h, "crm", CUST, CR, OTHER,
	    "billing_details,customer_type,email,feedback_score,"
	    "feedback_text,name,organisation,organisation_address,phone,"
	    "position");
	expect_fields(h, "acis", ACIS, ST_P, OTHER, "email,name");

	check_all(h, SUBJ, NULL, false, true);

	/* the audit log: 4 requests per register, all changed or not: two
	 * restrictions and two lifts, each its own op */
	expect_events(h, SUBJ, "subject_restrict", CUST, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 2);
	expect_events(h, SUBJ, "subject_restrict_lift", CUST, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 2);
	expect_events(h, SUBJ, "subject_restrict", ACIS, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 2);
	expect_events(h, SUBJ, "subject_restrict_lift", ACIS, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 2);
	expect_events(h, OTHER, "subject_restrict", NULL, NULL,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 0);
	/* each denial a refusal with reason restricted, of this subject
	 * only */
	for (i = 0; i < 2; i++) {
		const char *reg = i == 0 ? CUST : ACIS;

		expect_events(h, SUBJ, "get", reg, NULL, PRIVD_DECISION_REFUSED,
		    ST(DENIED), R_RESTRICTED, nrestricted(reg, false, false));
		expect_events(h, SUBJ, "put", reg, NULL, PRIVD_DECISION_REFUSED,
		    ST(DENIED), R_RESTRICTED, nrestricted(reg, true, false));
		expect_events(h, SUBJ, "delete", reg, NULL,
		    PRIVD_DECISION_REFUSED, ST(DENIED), R_RESTRICTED,
		    nrestricted(reg, false, true));
		expect_events(h, OTHER, "get", reg, NULL,
		    PRIVD_DECISION_REFUSED, ST(DENIED), R_RESTRICTED, 0);
		nreg += nrestricted(reg, false, false);
	}
	/* the matrix covers both registers' refusals */
	assert_true(nreg >= 9);
	privctl_verify_ok(h);
}

/*
 * A restriction is of one register: the same subject in the other
 * register is served; and it is stored: it outlives a restart of privd,
 * and is lifted after one.
 */
static void
test_one_register_and_restart(void **state)
{
	harness *h = *state;

	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	restrict_ok(h, ACIS, SUBJ, true, true);
	check_all(h, SUBJ, CUST, false, false);
	check_all(h, SUBJ, ACIS, true, false);

	ret_restart(h);
	check_all(h, SUBJ, ACIS, true, false);
	check_all(h, SUBJ, CUST, false, false);
	restrict_ok(h, ACIS, SUBJ, true, false);
	restrict_ok(h, ACIS, SUBJ, false, true);
	check_all(h, SUBJ, ACIS, false, false);

	/* restricted in customers now, and after a restart still */
	restrict_ok(h, CUST, SUBJ, true, true);
	ret_restart(h);
	check_all(h, SUBJ, CUST, true, false);
	check_all(h, SUBJ, ACIS, false, false);
	restrict_ok(h, CUST, SUBJ, false, true);
	check_all(h, SUBJ, CUST, false, false);
}

/*
 * A restriction goes with the subject: a sweep that leaves nothing of it
 * (customers: the relationship ended over 6 years ago, so nothing is
 * kept; acis: anonymised 24 months after it was collected) takes the
 * restriction too, and the subject written again under the same id is
 * served (the put itself would be refused otherwise). Before that, a
 * service's whole-subject delete of the restricted subject is refused
 * like any other delete.
 */
static void
test_sweep_takes_restriction(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;
	int64_t now;

	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	now = (int64_t)h_clock_us(h);
	end_rel(h, SUBJ, add_months(now, -84));
	restrict_ok(h, CUST, SUBJ, true, true);
	restrict_ok(h, ACIS, SUBJ, true, true);

	r = del_raw(h, "crm", CUST, SUBJ, CR, NULL, 0);
	expect_status(r, ST(DENIED), R_RESTRICTED, "crm deletes the subject");
	privd__v1__response__free_unpacked(r, NULL);
	r = del_raw(h, "acis", ACIS, SUBJ, ST_P, NULL, 0);
	expect_status(r, ST(DENIED), R_RESTRICTED, "acis deletes the subject");
	privd__v1__response__free_unpacked(r, NULL);

	/* customers: everything of the subject is due; the sweep removes
	 * it, restricted or not (retention is no service's processing) */
	r = sweep(h);
	expect_count(r, CUST, "after-customership", 11, 1, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "crm", CUST, CR, SUBJ, "NOT_FOUND");
	put_cust(h, SUBJ, true);
	check_all(h, SUBJ, CUST, false, false);
	restrict_ok(h, CUST, SUBJ, false, false);
	check_all(h, SUBJ, ACIS, true, false);

	/* acis: 24 months on, the subject is anonymised away */
	clock_to(h, add_months(now, 24) + 2 * US_PER_DAY);
	r = sweep(h);
	expect_count(r, ACIS, "anonymize-24m", 4, 1, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "acis", ACIS, ST_P, SUBJ, "NOT_FOUND");
	put_acis(h, SUBJ);
	check_all(h, SUBJ, ACIS, false, false);
	restrict_ok(h, ACIS, SUBJ, false, false);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_every_grant, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_one_register_and_restart, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sweep_takes_restriction, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/rights_restrict", tests, NULL, NULL);
}
