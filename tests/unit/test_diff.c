/*
 * test_diff.c - pol_diff on the example policy against edited copies: each
 * kind of change is reported once, in the policy's terms, in a stable order;
 * a reordered or reformatted document, or one that says the same thing in
 * other words, has no differences; nothing printed is free text or a key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "policy.h"

#define MAX_LINES 64

struct rec {
	char line[MAX_LINES][1024];
	size_t n, calls;
};

/* Text that must never appear: descriptions (every one in the example says
 * "notice" or "clause"), the controller's name, the edits' free text, and
 * (checked separately) keys. */
static const char *const forbidden[] = {
    "notice", "clause", "Aktiivitieto", "SECRET", NULL};

static const char *const example_keys[] = {
    "ggpdYmiDL1p6JFvL37uJ3yYc0jnuiL1qGZS4L6FP",
    "x4EeV6KmPEWWjq3BN9BBb2hIB7uW33iGMtbk5KpS",
    "0000000000000000000000000000000000000000", NULL};

static void
record(void *arg, pol_change ch, const char *what, const char *detail)
{
	struct rec *r = arg;
	size_t i;

	assert_non_null(what);
	assert_non_null(detail);
	for (i = 0; forbidden[i] != NULL; i++)
		if (strstr(what, forbidden[i]) || strstr(detail, forbidden[i]))
			fail_msg("free text printed: %s: %s", what, detail);
	for (i = 0; example_keys[i] != NULL; i++)
		if (strstr(detail, example_keys[i]))
			fail_msg("a key printed: %s: %s", what, detail);
	r->calls++;
	if (r->n < MAX_LINES)
		snprintf(r->line[r->n++], sizeof(r->line[0]), "%c %s: %s",
		    (char)ch, what, detail);
}

static json_t *
example(void)
{
	const char *path = getenv("POLICY_EXAMPLE");
	json_error_t je;
	json_t *j;

	if (path == NULL)
		path = "policy/examples/aktiivitieto.json";
	if ((j = json_load_file(path, JSON_REJECT_DUPLICATES, &je)) == NULL)
		fail_msg("cannot read %s (set POLICY_EXAMPLE)", path);
	return j;
}

/* Parse a document given as JSON; flags choose its formatting. */
static pol_policy *
parse(json_t *j, size_t flags)
{
	pol_policy *p = NULL;
	pol_error err;
	char *s = json_dumps(j, flags);

	assert_non_null(s);
	if (pol_parse(s, strlen(s), &p, &err) != 0)
		fail_msg("edited policy invalid: %s: %s", err.path, err.reason);
	free(s);
	return p;
}

/* The member at a dotted path ("registers.customers.fields"); array
 * entries by number ("principals.crm.grants.0"). */
static json_t *
at(json_t *j, const char *path)
{
	char buf[256], *tok, *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (tok = strtok_r(buf, ".", &save); tok != NULL && j != NULL;
	     tok = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, (size_t)atoi(tok))
		                     : json_object_get(j, tok);
	if (j == NULL)
		fail_msg("no %s in the example", path);
	return j;
}

static void
set(json_t *j, const char *path, const char *key, json_t *v)
{
	assert_int_equal(json_object_set_new(at(j, path), key, v), 0);
}

/* Diff the example (a) against the edited copy (b) and compare the report
 * with want (NULL-terminated). The reverse diff has as many lines, with
 * added and removed swapped. */
static void
expect(json_t *edited, const char *const *want)
{
	json_t *orig = example();
	pol_policy *a = parse(orig, JSON_INDENT(2)), *b = parse(edited, 0);
	struct rec r = {.n = 0}, back = {.n = 0};
	size_t i, n;

	n = pol_diff(a, b, record, &r);
	for (i = 0; i < r.n || want[i] != NULL; i++) {
		if (i >= r.n)
			fail_msg("missing: %s", want[i]);
		if (want[i] == NULL)
			fail_msg("unexpected: %s", r.line[i]);
		if (strcmp(r.line[i], want[i]) != 0)
			fail_msg("line %zu:\n got  %s\n want %s", i, r.line[i],
			    want[i]);
	}
	assert_int_equal(n, r.calls);
	assert_int_equal(pol_diff(a, b, NULL, NULL), n);

	assert_int_equal(pol_diff(b, a, record, &back), n);
	for (i = 0; i < back.n; i++) {
		char c = r.line[i][0], d = back.line[i][0];

		assert_true((c == '~' && d == '~') || (c == '+' && d == '-') ||
		            (c == '-' && d == '+'));
	}
	pol_free(&a);
	pol_free(&b);
	json_decref(orig);
	json_decref(edited);
}

static void
test_identical(void **state)
{
	json_t *j = example();
	pol_policy *a = parse(j, 0), *b = parse(j, JSON_INDENT(4));
	struct rec r = {.n = 0};

	assert_int_equal(pol_diff(a, a, record, &r), 0);
	assert_int_equal(pol_diff(a, b, record, &r), 0);
	assert_int_equal(pol_diff(a, b, NULL, NULL), 0);
	assert_int_equal(pol_diff(NULL, b, record, &r), 0);
	assert_int_equal(r.calls, 0);
	pol_free(&a);
	pol_free(&b);
	json_decref(j);
}

/* Every object's members and every array's entries in reverse order. */
static json_t *
reversed(json_t *j)
{
	json_t *out, *v;
	const char **keys;
	const char *k;
	size_t i, n;

	if (json_is_array(j)) {
		out = json_array();
		for (i = json_array_size(j); i > 0; i--)
			json_array_append_new(
			    out, reversed(json_array_get(j, i - 1)));
		return out;
	}
	if (!json_is_object(j))
		return json_deep_copy(j);
	n = json_object_size(j);
	keys = calloc(n ? n : 1, sizeof(*keys));
	assert_non_null(keys);
	i = 0;
	json_object_foreach(j, k, v)
	{
		keys[i++] = k;
	}
	out = json_object();
	while (i > 0) {
		i--;
		json_object_set_new(
		    out, keys[i], reversed(json_object_get(j, keys[i])));
	}
	free(keys);
	return out;
}

/* The same policy in other words: reordered everywhere, a grant split in
 * two, ["*"] spelled out, a duration in other units, a default given. */
static void
test_same_meaning(void **state)
{
	json_t *j = example(), *r, *g, *acis_fields, *list;
	const char *k;
	json_t *v;
	static const char *const none[] = {NULL};

	r = reversed(j);
	json_decref(j);

	/* crm's first grant, for five purposes, as two grants. */
	g = json_deep_copy(at(r, "principals.crm.grants.1"));
	assert_int_equal(json_array_size(at(r, "principals.crm.grants.1."
	                                       "purposes")),
	    5);
	json_array_remove(at(r, "principals.crm.grants.1.purposes"), 0);
	json_array_remove(at(r, "principals.crm.grants.1.purposes"), 0);
	list = json_array();
	json_array_append_new(list, json_string("marketing"));
	json_array_append_new(list, json_string("service_development"));
	json_object_set_new(g, "purposes", list);
	json_array_append_new(at(r, "principals.crm.grants"), g);

	/* acis may use every field: say which. */
	list = json_array();
	acis_fields = at(r, "registers.acis.fields");
	json_object_foreach(acis_fields, k, v)
	{
		json_array_append_new(list, json_string(k));
	}
	set(r, "principals.acis.grants.0", "fields", list);

	set(r, "registers.customers.retention.0", "after",
	    json_string("12 months"));
	/* zero is zero in any unit */
	set(r, "registers.acis.retention.0", "after", json_string("0 months"));
	json_object_set_new(r, "audit", json_object());     /* the default */
	json_object_set_new(r, "reporting", json_object()); /* likewise */
	set(r, "registers.acis.purposes.cx_management", "statistical",
	    json_false());
	expect(r, none);
}

static void
test_controller_audit(void **state)
{
	json_t *j = example();
	static const char *const want[] = {
	    "~ controller: name changed; business_id changed",
	    "~ audit retention: 5 years -> 6 years",
	    "~ reporting: min_group 5 -> 10",
	    NULL,
	};

	set(j, "controller", "name", json_string("SECRET Oy"));
	set(j, "controller", "business_id", json_string("SECRET-1"));
	set(j, "audit", "retention", json_string("6 years"));
	set(j, "reporting", "min_group", json_integer(10));
	expect(j, want);
}

/* A register added brings everything in it; its description changed is
 * said, never quoted. */
static void
test_registers(void **state)
{
	json_t *j = example();
	static const char *const want[] = {
	    "+ register acis2: ",
	    "+ transfer acis2: allowed EEA",
	    "+ purpose acis2.cx_management: legal_basis legitimate_interest, "
	    "objectable",
	    "+ purpose acis2.legal_obligations: legal_basis legal_obligation, "
	    "allowed_when_restricted",
	    "+ purpose acis2.sales_reporting: legal_basis legitimate_interest, "
	    "objectable, statistical",
	    "+ purpose acis2.satisfaction_tracking: legal_basis "
	    "legitimate_interest, objectable",
	    "+ field acis2.classification: type string, category "
	    "classification, source reseller",
	    "+ field acis2.customer_type: type string, category "
	    "classification, "
	    "source reseller",
	    "+ field acis2.email: type email, category contact, identifying, "
	    "lookup, source reseller",
	    "+ field acis2.feedback_score: type integer, category feedback, "
	    "source subject",
	    "+ field acis2.feedback_text: type text, category feedback, source "
	    "subject",
	    "+ field acis2.name: type string, category identity, identifying, "
	    "source reseller",
	    "+ field acis2.organisation: type string, category organisation, "
	    "source reseller",
	    "+ field acis2.organisation_address: type text, category "
	    "organisation, source reseller",
	    "+ field acis2.phone: type phone, category contact, identifying, "
	    "lookup, source reseller",
	    "+ field acis2.position: type string, category organisation, "
	    "identifying, source reseller",
	    "+ retention acis2.anonymize-24m: categories *, from collected, "
	    "after 2 years, action anonymize",
	    "+ retention acis2.contract-end: categories *, from contract_end, "
	    "after 0 days, action delete",
	    "~ register customers: description changed",
	    NULL,
	};

	set(j, "registers", "acis2", json_deep_copy(at(j, "registers.acis")));
	set(j, "registers.customers", "description",
	    json_string("SECRET text"));
	expect(j, want);
}

static void
test_transfer(void **state)
{
	json_t *j = example();
	json_t *list = json_array();
	static const char *const want[] = {
	    "~ transfer acis: allowed CH, US; no longer allowed AT, BE, BG, "
	    "CY, "
	    "CZ, DE, DK, EE, ES, FR, GR, HR, HU, IE, IS, IT, LI, LT, LU, LV, "
	    "MT, NL, NO, PL, PT, RO, SI, SK",
	    "- transfer customers: allowed EEA",
	    NULL,
	};

	/* A region of the document's own, and codes. */
	set(j, "", "regions", json_pack("{s:[s,s]}", "NORDICS", "FI", "SE"));
	json_array_append_new(list, json_string("NORDICS"));
	json_array_append_new(list, json_string("CH"));
	json_array_append_new(list, json_string("US"));
	set(j, "registers.acis.transfer", "allowed_regions", list);
	json_object_del(at(j, "registers.customers"), "transfer");
	expect(j, want);
}

static void
test_purposes_fields(void **state)
{
	json_t *j = example();
	static const char *const want[] = {
	    "- field acis.phone: type phone, category contact, identifying, "
	    "lookup, source reseller",
	    "~ purpose customers.marketing: legal_basis legitimate_interest -> "
	    "consent; objectable true -> false; statistical false -> true",
	    "~ purpose customers.reporting: statistical true -> false",
	    "+ purpose customers.surveys: legal_basis consent",
	    "~ field customers.name: type string -> text; allow_identity_code "
	    "false -> true; source subject -> (none); description changed",
	    /* Grants of "*" lose the field. */
	    "~ grant acis acis.cx_management: fields name, email, phone, "
	    "organisation, position, organisation_address, customer_type, "
	    "classification, feedback_score, feedback_text -> name, email, "
	    "organisation, position, organisation_address, customer_type, "
	    "classification, feedback_score, feedback_text",
	    "~ grant acis acis.satisfaction_tracking: fields name, email, "
	    "phone, "
	    "organisation, position, organisation_address, customer_type, "
	    "classification, feedback_score, feedback_text -> name, email, "
	    "organisation, position, organisation_address, customer_type, "
	    "classification, feedback_score, feedback_text",
	    "~ grant support_contractor acis.cx_management: fields name, "
	    "email, "
	    "phone, organisation, position, organisation_address, "
	    "customer_type, classification, feedback_score, feedback_text -> "
	    "name, email, organisation, position, organisation_address, "
	    "customer_type, classification, feedback_score, feedback_text",
	    NULL,
	};

	set(j, "registers.customers.purposes.marketing", "legal_basis",
	    json_string("consent"));
	json_object_del(
	    at(j, "registers.customers.purposes.marketing"), "objectable");
	set(j, "registers.customers.purposes.marketing", "statistical",
	    json_true());
	json_object_del(
	    at(j, "registers.customers.purposes.reporting"), "statistical");
	set(j, "registers.customers.purposes", "surveys",
	    json_pack("{s:s}", "legal_basis", "consent"));
	set(j, "registers.customers.fields.name", "type", json_string("text"));
	set(j, "registers.customers.fields.name", "allow_identity_code",
	    json_true());
	set(j, "registers.customers.fields.name", "description",
	    json_string("SECRET text"));
	json_object_del(at(j, "registers.customers.fields.name"), "source");
	json_object_del(at(j, "registers.acis.fields"), "phone");
	expect(j, want);
}

static void
test_retention(void **state)
{
	json_t *j = example();
	static const char *const want[] = {
	    "~ retention acis.anonymize-24m: after 2 years -> 730 days",
	    "- retention acis.contract-end: categories *, from contract_end, "
	    "after 0 days, action delete",
	    "~ retention customers.after-customership: from relationship_end "
	    "-> contract_end; after 1 year -> 0 days",
	    "~ retention customers.bookkeeping: categories billing -> billing, "
	    "identity; keep_at_least 6 years -> 7 years",
	    "+ retention customers.feedback-6m: categories feedback, from "
	    "collected, after 180 days, action anonymize, keep_at_least 1 "
	    "week",
	    NULL,
	};

	set(j, "registers.customers.retention.1", "after",
	    json_string("0 days"));
	set(j, "registers.customers.retention.1", "from",
	    json_string("contract_end"));
	set(j, "registers.customers.retention.0", "categories",
	    json_pack("[s,s,s]", "identity", "billing", "identity"));
	set(j, "registers.customers.retention.0", "keep_at_least",
	    json_string("7 years"));
	json_array_append_new(at(j, "registers.customers.retention"),
	    json_pack("{s:s,s:[s],s:s,s:s,s:s,s:s}", "id", "feedback-6m",
	        "categories", "feedback", "from", "collected", "after",
	        "180 days", "action", "anonymize", "keep_at_least", "7 days"));
	json_array_remove(at(j, "registers.acis.retention"), 1);
	/* the same number of days, but not the same on the calendar */
	set(j, "registers.acis.retention.0", "after", json_string("730 days"));
	expect(j, want);
}

static void
test_principals(void **state)
{
	json_t *j = example();
	static const char *const want[] = {
	    "- principal auditor: region FI; roles auditor",
	    "~ principal crm: region FI -> SE; roles (none) -> auditor; "
	    "description changed",
	    "~ principal dpo: key changed",
	    "+ principal newsvc: region (none); roles subject_rights",
	    "+ grant newsvc customers.orders: ops read; fields name, email",
	    "- principal support_contractor: region IN; roles (none)",
	    "- grant support_contractor acis.cx_management: ops read; fields "
	    "name, email, phone, organisation, position, organisation_address, "
	    "customer_type, classification, feedback_score, feedback_text",
	    NULL,
	};

	json_object_del(at(j, "principals"), "auditor");
	json_object_del(at(j, "principals"), "support_contractor");
	set(j, "principals.crm", "region", json_string("SE"));
	set(j, "principals.crm", "roles", json_pack("[s]", "auditor"));
	set(j, "principals.crm", "description", json_string("SECRET text"));
	set(j, "principals.dpo", "key",
	    json_string("0000000000000000000000000000000000000000"));
	set(j, "principals", "newsvc",
	    json_pack("{s:s,s:[s],s:[{s:s,s:[s],s:[s,s],s:[s]}]}", "key",
	        "1111111111111111111111111111111111111111", "roles",
	        "subject_rights", "grants", "register", "customers", "purposes",
	        "orders", "fields", "email", "name", "ops", "read"));
	expect(j, want);
}

static void
test_grants(void **state)
{
	json_t *j = example();
	static const char *const want[] = {
	    "~ grant billing customers.debt_collection: fields name, email, "
	    "organisation, billing_details, organisation_address -> name, "
	    "email, phone, organisation, billing_details, organisation_address",
	    "~ grant billing customers.invoicing: fields name, email, "
	    "organisation, billing_details, organisation_address -> name, "
	    "email, phone, organisation, billing_details, organisation_address",
	    "+ grant billing customers.orders: ops read, write; fields name, "
	    "email, phone, organisation, billing_details, organisation_address",
	    "~ grant crm customers.contacting: ops read, write -> read",
	    "~ grant crm customers.marketing: ops read, write -> read",
	    "~ grant crm customers.offers: ops read, write -> read",
	    "~ grant crm customers.orders: ops read, write -> read",
	    "~ grant crm customers.service_development: ops read, write -> "
	    "read",
	    "~ grant reporting customers.reporting: ops read; fields "
	    "organisation, customer_type, classification, feedback_score, "
	    "feedback_text -> read: organisation, customer_type, "
	    "classification, feedback_score, feedback_text; write, delete: "
	    "feedback_score",
	    NULL,
	};

	set(j, "principals.crm.grants.0", "ops", json_pack("[s]", "read"));
	json_array_append_new(
	    at(j, "principals.billing.grants.0.fields"), json_string("phone"));
	json_array_append_new(at(j, "principals.billing.grants.0.purposes"),
	    json_string("orders"));
	json_array_append_new(at(j, "principals.reporting.grants"),
	    json_pack("{s:s,s:[s],s:[s],s:[s,s]}", "register", "customers",
	        "purposes", "reporting", "fields", "feedback_score", "ops",
	        "delete", "write"));
	expect(j, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_identical),
	    cmocka_unit_test(test_same_meaning),
	    cmocka_unit_test(test_controller_audit),
	    cmocka_unit_test(test_registers),
	    cmocka_unit_test(test_transfer),
	    cmocka_unit_test(test_purposes_fields),
	    cmocka_unit_test(test_retention),
	    cmocka_unit_test(test_principals),
	    cmocka_unit_test(test_grants),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
