/*
 * test_rights_canary.c - an erased person is visible nowhere (issue 10,
 * first part): distinctive values of a person in both registers of the
 * example policy (policy/examples/aktiivitieto.json), who had restricted
 * processing and objected to a purpose, are in no file of the data
 * directory after the erasure, nor of a compacted copy of the store taken
 * after it (what `mdb_copy -c` makes: free pages dropped), nor in privd's
 * log; and no subject id is in any of them in the clear - not the erased
 * person's, not the id of a person who keeps billing_details, not the id
 * of an erasure that found nobody.
 *
 * The store is compacted with liblmdb's mdb_env_copy2(MDB_CP_COMPACT)
 * (compact_store, retention_views.c) with privd stopped.
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

#include "retention_views.h"
#include "rights_common.h"

#define SUBJ_ERASED  "subj-CANARY-ERASED-5e27b1"
#define SUBJ_KEPT    "subj-CANARY-KEPT-a90c3d"
#define SUBJ_UNKNOWN "subj-CANARY-UNKNOWN-31f6d8"

#define C_NAME     "Ottilie Canarybright"
#define C_EMAIL    "ottilie.k9w3@example.fi"
#define C_PHONE    "+358 40 555 0137"
#define C_ORG      "CANARY-ORG-d4e8 Oy"
#define C_POSITION "CANARY-POSITION-62bf chief taster"
#define C_FEEDBACK "CANARY-FEEDBACK-0a5c the coffee was cold"
#define C_BILL     "CANARY-BILL-7731ee e-invoice 003712345678"
#define A_NAME     "Ottilie Canarybright-Acis"
#define A_EMAIL    "ottilie.acis.p2m8@example.fi"
#define A_FEEDBACK "CANARY-ACIS-FEEDBACK-be91 slow answers"
#define K_BILL     "CANARY-KEPT-BILL-4c02f9 net 30"

#define N(s, label)                                                            \
	{                                                                      \
		s, sizeof(s) - 1, label                                        \
	}
static const h_needle needles[] = {
    N(SUBJ_ERASED, "subject id (erased)"),
    N(SUBJ_KEPT, "subject id (kept)"),
    N(SUBJ_UNKNOWN, "subject id (never stored)"),
    N(C_NAME, "erased name"),
    N(C_EMAIL, "erased email"),
    N(C_PHONE, "erased phone"),
    N(C_ORG, "erased organisation"),
    N(C_POSITION, "erased position"),
    N(C_FEEDBACK, "erased feedback_text"),
    N(C_BILL, "erased billing_details"),
    N(A_NAME, "erased name (acis)"),
    N(A_EMAIL, "erased email (acis)"),
    N(A_FEEDBACK, "erased feedback_text (acis)"),
    N(K_BILL, "kept billing_details (stored encrypted)"),
};
#define NNEEDLES (sizeof(needles) / sizeof(needles[0]))

/* The erased person in customers (every field but the type-bound ones
 * distinctive), as crm writes it, and in acis, as acis does. */
static void
put_canary(harness *h)
{
	privd_client *c = client(h, "crm");
	privd_field cf[] = {h_field("name", C_NAME), h_field("email", C_EMAIL),
	    h_field("phone", C_PHONE), h_field("organisation", C_ORG),
	    h_field("position", C_POSITION),
	    h_field("feedback_text", C_FEEDBACK),
	    h_field("billing_details", C_BILL)};
	privd_field af[] = {h_field("name", A_NAME), h_field("email", A_EMAIL),
	    h_field("feedback_text", A_FEEDBACK),
	    h_field("feedback_score", "2")};
	privd_field kf[] = {
	    h_field("name", "Kept Person"), h_field("billing_details", K_BILL)};

	expect_rc(
	    c, privd_put(c, CUST, SUBJ_ERASED, CR, cf, 7), PRIVD_OK, "crm put");
	expect_rc(
	    c, privd_put(c, CUST, SUBJ_KEPT, CR, kf, 2), PRIVD_OK, "crm put");
	privd_close(&c);
	c = client(h, "acis");
	expect_rc(c, privd_put(c, ACIS, SUBJ_ERASED, ST_P, af, 4), PRIVD_OK,
	    "acis put");
	privd_close(&c);
}

static void
test_erased_nowhere(void **state)
{
	harness *h = *state;
	static const char *const both[] = {ACIS, CUST};
	static const char *const cust[] = {CUST};
	Privd__V1__Response *r;
	char copy[H_PATH_MAX + 16];
	int64_t now;

	put_canary(h);
	/* the minimum has passed for the erased person's billing_details:
	 * the relationship ended 7 years ago */
	now = (int64_t)h_clock_us(h);
	end_rel(h, SUBJ_ERASED, add_months(now, -84));
	expect_fields(h, "crm", CUST, CR, SUBJ_ERASED,
	    "billing_details,email,feedback_text,name,organisation,phone,"
	    "position");
	restrict_ok(h, ACIS, SUBJ_ERASED, true, true);
	object_ok(h, CUST, SUBJ_ERASED, "marketing", true, true);
	restrict_ok(h, CUST, SUBJ_KEPT, true, true);

	r = erase_raw(h, RIGHTS, SUBJ_ERASED, NULL, 0);
	expect_erase_answer(r, ST(OK), both, 2);
	expect_erased(erased_of(r, ACIS),
	    "email,feedback_score,feedback_text,name", 0, true);
	expect_erased(erased_of(r, CUST),
	    "billing_details,email,feedback_text,name,organisation,phone,"
	    "position",
	    0, true);
	privd__v1__response__free_unpacked(r, NULL);
	r = erase_raw(h, RIGHTS, SUBJ_KEPT, NULL, 0);
	expect_erase_answer(r, ST(RETAINED), cust, 1);
	expect_erased(erased_of(r, CUST), "name", 1, false);
	privd__v1__response__free_unpacked(r, NULL);
	r = erase_raw(h, RIGHTS, SUBJ_UNKNOWN, NULL, 0);
	expect_status(r, ST(NOT_FOUND), 0, "erase an unknown subject");
	privd__v1__response__free_unpacked(r, NULL);

	/* nobody reads the erased person */
	expect_fields(h, "crm", CUST, CR, SUBJ_ERASED, "NOT_FOUND");
	expect_fields(
	    h, "billing", CUST, "invoicing", SUBJ_ERASED, "NOT_FOUND");
	expect_fields(h, "acis", ACIS, ST_P, SUBJ_ERASED, "NOT_FOUND");
	expect_fields(h, "acis", ACIS, CXM, SUBJ_ERASED, "NOT_FOUND");
	expect_fields(h, "billing", CUST, "debt_collection", SUBJ_KEPT,
	    "billing_details");
	/* the audit log knows the erasures by pseudonym only */
	expect_events(h, SUBJ_ERASED, "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(OK), 0, 1);
	expect_events(h, SUBJ_UNKNOWN, "subject_erase", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, ST(NOT_FOUND), 0, 1);

	stop_clean(h);
	compact_store(h, copy, sizeof(copy));
	assert_int_equal(h_scan_dir(h->data_dir, needles, NNEEDLES), 0);
	assert_int_equal(h_scan_dir(copy, needles, NNEEDLES), 0);
	assert_int_equal(h_scan_file(h->log, needles, NNEEDLES), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_erased_nowhere, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/rights_canary", tests, NULL, NULL);
}
