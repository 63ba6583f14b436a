/*
 * test_rights_input.c - bad input for the data subject rights requests
 * (issue 10, first part: SubjectRestrict, SubjectObject, SubjectErase)
 * under the example policy (policy/examples/aktiivitieto.json): an empty
 * subject, one of 257 bytes or not UTF-8 (INVALID), an undeclared
 * register (DENIED, unknown register), a subject not stored (NOT_FOUND),
 * a principal without the role subject_rights (DENIED, role required) -
 * every other principal of the example. Each gets its status, and
 * nothing changes: the subjects read back whole, a first restriction or
 * objection still changes something, and the refusals are audited. A
 * subject of exactly 256 bytes is taken.
 *
 * A real privd on the test clock; the rights requests are spoken raw
 * (rights_common.c).
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

#define SUBJ "subj-input-0d5f"
#define MKT  "marketing"

/* Every principal of the example but the subject_rights one (dpo). */
static const char *const others[] = {
    "crm", "billing", "reporting", "acis", "auditor", "support_contractor"};
#define NOTHERS (sizeof(others) / sizeof(others[0]))

/* An erasure as key of subject in regs (n) must have status st (reason
 * for DENIED) and carry no payload. */
static void
erase_expect(harness *h, const char *key, const char *subject,
    const char *const *regs, size_t n, int st, int reason, const char *what)
{
	Privd__V1__Response *r = erase_raw(h, key, subject, regs, n);

	expect_status(r, st, reason, what);
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD__NOT_SET);
	if (subject[0] != '\0')
		assert_null(strstr(r->message, subject));
	privd__v1__response__free_unpacked(r, NULL);
}

/* All three requests for subject must have status st (reason); the
 * objection is to marketing, in customers. */
static void
all_expect(harness *h, const char *key, const char *subject, int st, int reason,
    const char *what)
{
	restrict_expect(h, key, CUST, subject, true, st, reason, what);
	object_expect(h, key, CUST, subject, MKT, true, st, reason, what);
	erase_expect(h, key, subject, NULL, 0, st, reason, what);
}

/* Nothing of SUBJ changed: its data reads back whole in both registers,
 * every purpose is served, and the first restriction and objection
 * change something (then are undone). */
static void
unchanged(harness *h)
{
	expect_fields(h, "crm", CUST, CR, SUBJ, CUST_ALL);
	expect_fields(h, "acis", ACIS, ST_P, SUBJ, ACIS_ALL);
	expect_get(h, "crm", CUST, MKT, SUBJ, PRIVD_OK, 0);
	expect_get(h, "billing", CUST, "invoicing", SUBJ, PRIVD_OK, 0);
	expect_get(h, "acis", ACIS, CXM, SUBJ, PRIVD_OK, 0);
	restrict_ok(h, CUST, SUBJ, true, true);
	restrict_ok(h, CUST, SUBJ, false, true);
	restrict_ok(h, ACIS, SUBJ, true, true);
	restrict_ok(h, ACIS, SUBJ, false, true);
	object_ok(h, CUST, SUBJ, MKT, true, true);
	object_ok(h, CUST, SUBJ, MKT, false, true);
}

/*
 * Subjects privd cannot take: empty, 257 bytes, not UTF-8: INVALID for
 * each request (an erasure in one register too); 256 bytes is taken
 * (stored, restricted, objecting, erased).
 */
static void
test_bad_subject(void **state)
{
	harness *h = *state;
	static const char *const acis[] = {ACIS};
	char big[258], max[257];
	Privd__V1__Response *r;

	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	memset(big, 'x', 257);
	big[257] = '\0';
	memcpy(max, big, 256);
	max[256] = '\0';

	all_expect(h, RIGHTS, "", ST(INVALID), 0, "empty subject");
	all_expect(h, RIGHTS, big, ST(INVALID), 0, "257-byte subject");
	all_expect(
	    h, RIGHTS, "subj-\xff\xfe", ST(INVALID), 0, "subject not UTF-8");
	erase_expect(h, RIGHTS, "", acis, 1, ST(INVALID), 0,
	    "erase an empty subject in acis");
	erase_expect(h, RIGHTS, big, acis, 1, ST(INVALID), 0,
	    "erase a 257-byte subject in acis");
	restrict_expect(h, RIGHTS, CUST, "", false, ST(INVALID), 0,
	    "lift for an empty subject");
	object_expect(h, RIGHTS, CUST, big, MKT, false, ST(INVALID), 0,
	    "withdraw for a 257-byte subject");
	unchanged(h);

	/* the longest subject id there is */
	put_cust(h, max, false);
	restrict_ok(h, CUST, max, true, true);
	object_ok(h, CUST, max, MKT, true, true);
	expect_get(h, "crm", CUST, CR, max, PRIVD_EDENIED, R_RESTRICTED);
	r = erase_raw(h, RIGHTS, max, NULL, 0);
	expect_status(r, ST(OK), 0, "erase a 256-byte subject");
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "crm", CUST, CR, max, "NOT_FOUND");
}

/*
 * A register the policy does not declare: DENIED, unknown register, for a
 * restriction, an objection, an erasure naming it alone or beside a
 * declared one (which then erases nothing there either). A subject not
 * stored in the register: NOT_FOUND (the subject is stored in the other
 * register), and for an erasure in none of the registers named.
 */
static void
test_unknown_register_and_subject(void **state)
{
	harness *h = *state;
	static const char *const nope[] = {"nope"};
	static const char *const acis_nope[] = {ACIS, "nope"};
	static const char *const nope_cust[] = {"nope", CUST};

	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	put_cust(h, "only-in-customers", false);

	restrict_expect(h, RIGHTS, "nope", SUBJ, true, ST(DENIED),
	    R_UNKNOWN_REGISTER, "restrict in an unknown register");
	restrict_expect(h, RIGHTS, "nope", SUBJ, false, ST(DENIED),
	    R_UNKNOWN_REGISTER, "lift in an unknown register");
	object_expect(h, RIGHTS, "nope", SUBJ, MKT, true, ST(DENIED),
	    R_UNKNOWN_REGISTER, "object in an unknown register");
	erase_expect(h, RIGHTS, SUBJ, nope, 1, ST(DENIED), R_UNKNOWN_REGISTER,
	    "erase in an unknown register");
	erase_expect(h, RIGHTS, SUBJ, acis_nope, 2, ST(DENIED),
	    R_UNKNOWN_REGISTER, "erase in acis and an unknown register");
	erase_expect(h, RIGHTS, SUBJ, nope_cust, 2, ST(DENIED),
	    R_UNKNOWN_REGISTER, "erase in an unknown register and customers");
	unchanged(h);

	/* stored in customers only */
	restrict_expect(h, RIGHTS, ACIS, "only-in-customers", true,
	    ST(NOT_FOUND), 0, "restrict where the subject is not stored");
	object_expect(h, RIGHTS, ACIS, "only-in-customers", CXM, true,
	    ST(NOT_FOUND), 0, "object where the subject is not stored");
	restrict_expect(h, RIGHTS, CUST, "nobody", true, ST(NOT_FOUND), 0,
	    "restrict an unknown subject");
	object_expect(h, RIGHTS, CUST, "nobody", MKT, true, ST(NOT_FOUND), 0,
	    "object for an unknown subject");
	{
		static const char *const acis[] = {ACIS};

		erase_expect(h, RIGHTS, "only-in-customers", acis, 1,
		    ST(NOT_FOUND), 0, "erase where the subject is not stored");
	}
	expect_fields(h, "crm", CUST, CR, "only-in-customers", CUST_NO_BILLING);
	expect_get(h, "crm", CUST, MKT, "only-in-customers", PRIVD_OK, 0);

	expect_events(h, SUBJ, "subject_restrict", NULL, RIGHTS,
	    PRIVD_DECISION_REFUSED, ST(DENIED), R_UNKNOWN_REGISTER, 1);
	expect_events(h, SUBJ, "subject_restrict_lift", NULL, RIGHTS,
	    PRIVD_DECISION_REFUSED, ST(DENIED), R_UNKNOWN_REGISTER, 1);
	expect_events(h, SUBJ, "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_REFUSED, ST(DENIED), R_UNKNOWN_REGISTER, 3);
	expect_events(h, "only-in-customers", "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(NOT_FOUND), 0, 1);
	expect_events(h, "nobody", "subject_restrict", CUST, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(NOT_FOUND), 0, 1);
}

/* Exactly n events of principal with op, refused for want of the role
 * (found by principal: test_role_refusal_pseudonym looks for them by
 * subject). */
static void
expect_refusals(harness *h, const char *principal, const char *op, size_t n)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};
	evlist l;
	size_t got = 0, i;

	f.principal = principal;
	collect(a, &f, &l);
	privd_close(&a);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.ev[i]->op, op) == 0 &&
		    l.ev[i]->decision == PRIVD_DECISION_REFUSED &&
		    l.ev[i]->status == ST(DENIED) &&
		    l.ev[i]->reason == R_ROLE_REQUIRED)
			got++;
	evlist_free(&l);
	if (got != n)
		fail_msg("%zu %s refusals of %s (role required), expected %zu",
		    got, op, principal, n);
}

/*
 * Every principal without the role subject_rights - the services, the
 * reporting principal, the auditor, the contractor outside the EEA - is
 * DENIED (role required) for each request and each change it could ask
 * for (on and off, in both registers, every register), and nothing
 * changes; each refusal is audited.
 */
static void
test_role_required(void **state)
{
	harness *h = *state;
	static const char *const acis[] = {ACIS};
	size_t i;

	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	/* a standing restriction and objection, which no one but the dpo
	 * may lift */
	restrict_ok(h, ACIS, SUBJ, true, true);
	object_ok(h, CUST, SUBJ, "contacting", true, true);

	for (i = 0; i < NOTHERS; i++) {
		const char *k = others[i];

		all_expect(h, k, SUBJ, ST(DENIED), R_ROLE_REQUIRED, k);
		restrict_expect(
		    h, k, ACIS, SUBJ, false, ST(DENIED), R_ROLE_REQUIRED, k);
		object_expect(h, k, CUST, SUBJ, "contacting", false, ST(DENIED),
		    R_ROLE_REQUIRED, k);
		object_expect(h, k, ACIS, SUBJ, CXM, true, ST(DENIED),
		    R_ROLE_REQUIRED, k);
		erase_expect(
		    h, k, SUBJ, acis, 1, ST(DENIED), R_ROLE_REQUIRED, k);
	}

	/* the restriction and objection stand; all data is there */
	expect_get(h, "acis", ACIS, ST_P, SUBJ, PRIVD_EDENIED, R_RESTRICTED);
	expect_get(
	    h, "crm", CUST, "contacting", SUBJ, PRIVD_EDENIED, R_OBJECTED);
	restrict_ok(h, ACIS, SUBJ, true, false);
	object_ok(h, CUST, SUBJ, "contacting", true, false);
	restrict_ok(h, ACIS, SUBJ, false, true);
	object_ok(h, CUST, SUBJ, "contacting", false, true);
	unchanged(h);

	for (i = 0; i < NOTHERS; i++) {
		expect_refusals(h, others[i], "subject_restrict", 1);
		expect_refusals(h, others[i], "subject_restrict_lift", 1);
		expect_refusals(h, others[i], "subject_object", 2);
		expect_refusals(h, others[i], "subject_object_withdraw", 1);
		expect_refusals(h, others[i], "subject_erase", 2);
	}
	privctl_verify_ok(h);
}

/*
 * A refusal for want of the role is audited under the subject's
 * pseudonym, as every rights request is (issue10-spec: "Each is audited
 * ... with the subject's pseudonym"), so that an auditor asking what
 * happened to a person finds a service's attempt to erase them.
 */
static void
test_role_refusal_pseudonym(void **state)
{
	harness *h = *state;

	put_cust(h, SUBJ, true);
	all_expect(h, "crm", SUBJ, ST(DENIED), R_ROLE_REQUIRED, "crm");
	expect_events(h, SUBJ, "subject_restrict", NULL, "crm",
	    PRIVD_DECISION_REFUSED, ST(DENIED), R_ROLE_REQUIRED, 1);
	expect_events(h, SUBJ, "subject_object", NULL, "crm",
	    PRIVD_DECISION_REFUSED, ST(DENIED), R_ROLE_REQUIRED, 1);
	expect_events(h, SUBJ, "subject_erase", NULL, "crm",
	    PRIVD_DECISION_REFUSED, ST(DENIED), R_ROLE_REQUIRED, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_bad_subject, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_register_and_subject,
	        ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_role_required, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_role_refusal_pseudonym, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/rights_input", tests, NULL, NULL);
}
