/*
 * test_retention_customers.c - the customer register of the example
 * policy (policy/examples/aktiivitieto.json) kept as the notice says
 * (issue 9): deleted a year after the relationship ends, billing_details
 * kept 6 years from the end ("bookkeeping") and then deleted.
 *
 * A real privd on the test clock: time moves with h_clock_set, never by
 * sleeping. The retention requests are spoken raw (retention_common.c).
 * Each test has its own privd with a key for each of the example's
 * principals.
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

#define CR "customer_relationship" /* crm's purpose with every field */
#define ALL                                                                    \
	"billing_details,classification,customer_type,email,feedback_score,"   \
	"feedback_text,name,organisation,organisation_address,phone,position"
#define ALL_BUT_BILLING                                                        \
	"classification,customer_type,email,feedback_score,feedback_text,"     \
	"name,organisation,organisation_address,phone,position"
#define BILLING_VALUE "Invoices by e-invoice, net 14 days"

/* Every field of the example's customers, as crm writes it. */
static void
put_full(harness *h, const char *subject)
{
	privd_client *c = client(h, "crm");
	char email[300];

	snprintf(email, sizeof(email), "%s@example.fi", subject);
	privd_field f[] = {h_field("name", "Kaisa Asiakas"),
	    h_field("email", email), h_field("phone", "+358 40 765 4321"),
	    h_field("organisation", "Esimerkki Oy"),
	    h_field("position", "purchasing manager"),
	    h_field("billing_details", BILLING_VALUE),
	    h_field("organisation_address", "Mannerheimintie 1, Helsinki"),
	    h_field("customer_type", "company"),
	    h_field("classification", "key account"),
	    h_field("feedback_score", "8"),
	    h_field("feedback_text", "Quick delivery, friendly service")};

	expect_rc(c,
	    privd_put(c, CUST, subject, CR, f, sizeof(f) / sizeof(f[0])),
	    PRIVD_OK, "crm put");
	privd_close(&c);
}

/* crm ends subject's relationship at at_us: OK, recorded as asked, and
 * every one of its 11 fields re-planned. */
static void
end_at(harness *h, const char *subject, int64_t at_us)
{
	Privd__V1__Response *r =
	    rel_end(h, "crm", CUST, subject, (uint64_t)at_us, false);

	expect_status(r, ST(OK), 0, "relationship end");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_RELATIONSHIP_END);
	assert_int_equal(r->relationship_end->at_us, (uint64_t)at_us);
	assert_int_equal(r->relationship_end->fields, 11);
	privd__v1__response__free_unpacked(r, NULL);
}

/* The billing principal reads billing_details (and nothing else is left
 * of what it may read). */
static void
billing_reads_it(harness *h, const char *subject)
{
	privd_client *c = client(h, "billing");
	privd_record *rec = NULL;

	expect_rc(c, privd_get(c, CUST, subject, "invoicing", NULL, 0, &rec),
	    PRIVD_OK, "billing get");
	assert_int_equal(rec->nfields, 1);
	assert_field_str(rec, "billing_details", BILLING_VALUE);
	privd_record_free(&rec);
	privd_close(&c);
}

/* A delete request of crm that privd answers RETAINED, keeping
 * billing_details under "bookkeeping" until until_us, after deleting
 * `deleted` fields. names NULL: the whole subject. */
static void
delete_retained(harness *h, const char *subject, const char *const *names,
    size_t n, uint32_t deleted, uint64_t until_us)
{
	Privd__V1__Response *r = del_raw(h, "crm", CUST, subject, CR, names, n);
	const Privd__V1__Retained *k;

	expect_status(r, ST(RETAINED), 0, "delete");
	assert_int_equal(r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_DELETE);
	assert_int_equal(r->delete_->deleted, deleted);
	assert_int_equal(r->delete_->n_retained, 1);
	assert_non_null(k = retained_of(r, "billing_details"));
	assert_string_equal(k->rule, "bookkeeping");
	assert_int_equal(k->until_us, until_us);
	assert_string_equal(k->hold_reason, "");
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * A customer whose relationship ended two years ago: a sweep leaves only
 * billing_details, which the billing principal still reads, and which a
 * delete request cannot remove before the minimum; 6 years after the end
 * (and a day) a sweep deletes it and the subject is gone. Each action of
 * the sweeps is exactly one audit event, and the log verifies.
 */
static void
test_customer_lifecycle(void **state)
{
	harness *h = *state;
	const char *const bill[] = {"billing_details"};
	const char *const ops[] = {"retention_delete", "retention_delete"};
	const char *const rules[] = {
	    "after-customership", "after-customership"};
	const char *const fields[] = {ALL_BUT_BILLING, "billing_details"};
	Privd__V1__Response *r;
	int64_t now, end, recent_end, kept_until;

	put_full(h, "cust-ended");
	put_full(h, "cust-recent");
	put_full(h, "cust-active");
	now = (int64_t)h_clock_us(h);
	end = add_months(now, -24);
	recent_end = add_months(now, -1);
	kept_until = add_months(end, 72);
	end_at(h, "cust-ended", end);
	end_at(h, "cust-recent", recent_end);

	/* two years after the end: everything but billing_details goes */
	r = sweep(h);
	expect_count(r, CUST, "after-customership", 10, 1, 0);
	expect_count(r, CUST, "bookkeeping", 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "crm", CUST, CR, "cust-ended", "billing_details");
	billing_reads_it(h, "cust-ended");
	expect_fields(h, "crm", CUST, CR, "cust-recent", ALL);
	expect_fields(h, "crm", CUST, CR, "cust-active", ALL);
	expect_ret_events(h, "cust-ended", CUST, 1, ops, rules, fields);
	expect_ret_events(h, "cust-recent", CUST, 0, NULL, NULL, NULL);

	/* in between, neither a delete of billing_details nor of the whole
	 * subject removes it: RETAINED with the rule and the date */
	delete_retained(h, "cust-ended", bill, 1, 0, (uint64_t)kept_until);
	delete_retained(h, "cust-ended", NULL, 0, 0, (uint64_t)kept_until);
	billing_reads_it(h, "cust-ended");

	/* a day past 6 years after the end: billing_details goes too, and
	 * the subject with it; the recent customer's relationship ended 4
	 * years ago by now, so all of it but billing_details goes */
	clock_to(h, kept_until + US_PER_DAY);
	r = sweep(h);
	expect_count(r, CUST, "after-customership", 11, 2, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "crm", CUST, CR, "cust-ended", "NOT_FOUND");
	expect_fields(
	    h, "billing", CUST, "invoicing", "cust-ended", "NOT_FOUND");
	expect_fields(h, "crm", CUST, CR, "cust-recent", "billing_details");
	expect_fields(h, "crm", CUST, CR, "cust-active", ALL);
	expect_ret_events(h, "cust-ended", CUST, 2, ops, rules, fields);
	expect_ret_events(h, "cust-recent", CUST, 1, ops, rules, fields);
	expect_ret_events(h, "cust-active", CUST, 0, NULL, NULL, NULL);

	/* a sweep with nothing due does nothing */
	r = sweep(h);
	expect_count(r, CUST, "after-customership", 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	privctl_verify_ok(h);
}

/*
 * Delete requests under the bookkeeping minimum, before any sweep: a
 * relationship not ended keeps billing_details with until 0 (the minimum
 * has not started), an ended one until 6 calendar years after the end;
 * the rest of what was asked for is deleted; a field no minimum covers
 * is simply deleted.
 */
static void
test_delete_under_minimum(void **state)
{
	harness *h = *state;
	const char *const bill[] = {"billing_details"};
	const char *const name_bill[] = {"name", "billing_details"};
	const char *const phone[] = {"phone"};
	Privd__V1__Response *r;
	int64_t now, end, recent_end;

	put_full(h, "cust-active");
	put_full(h, "cust-recent");
	put_full(h, "cust-ended");
	now = (int64_t)h_clock_us(h);
	end = add_months(now, -24);
	recent_end = add_months(now, -1);
	end_at(h, "cust-recent", recent_end);
	end_at(h, "cust-ended", end);

	/* no minimum covers phone: deleted, OK */
	r = del_raw(h, "crm", CUST, "cust-active", CR, phone, 1);
	expect_status(r, ST(OK), 0, "delete phone");
	assert_int_equal(r->delete_->deleted, 1);
	assert_int_equal(r->delete_->n_retained, 0);
	privd__v1__response__free_unpacked(r, NULL);

	/* relationship not ended: kept, until not known */
	delete_retained(h, "cust-active", bill, 1, 0, 0);
	delete_retained(h, "cust-active", NULL, 0, 9, 0);
	expect_fields(h, "crm", CUST, CR, "cust-active", "billing_details");
	billing_reads_it(h, "cust-active");

	/* ended a month ago: the whole subject but billing_details goes */
	delete_retained(h, "cust-recent", NULL, 0, 10,
	    (uint64_t)add_months(recent_end, 72));
	expect_fields(h, "crm", CUST, CR, "cust-recent", "billing_details");

	/* ended two years ago, not swept yet: what may go goes */
	delete_retained(
	    h, "cust-ended", name_bill, 2, 1, (uint64_t)add_months(end, 72));
	expect_fields(h, "crm", CUST, CR, "cust-ended",
	    "billing_details,classification,customer_type,email,"
	    "feedback_score,feedback_text,organisation,organisation_address,"
	    "phone,position");
	expect_fields(h, "billing", CUST, "invoicing", "cust-ended",
	    "billing_details,email,organisation,organisation_address");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_customer_lifecycle, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delete_under_minimum, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/retention_customers", tests, NULL, NULL);
}
