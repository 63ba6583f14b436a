/*
 * test_decide.c - the allow/deny matrix: every rule of pol_decide, every
 * reason code, and the order in which the rules are applied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

/*
 * "shop" is EEA-only with fields name, email, phone, notes (indexes 0-3);
 * "open" has no transfer rule. The principals:
 *   clerk    FI: orders read+write name,email; orders read phone;
 *                legal read *; marketing read email
 *   admin    SE: orders read/write/delete *
 *   deleter  FI: orders delete name,email,phone (not notes)
 *   abroad   US: shop orders read *; open stats read *
 *   noregion --: shop orders read *; open stats read *
 *   boss     FI: every role, no grants
 */
static const char policy_json[] =
    "{\"controller\":{\"name\":\"Shop Oy\",\"business_id\":\"1234567-8\"},"
    "\"registers\":{"
    " \"shop\":{\"transfer\":{\"allowed_regions\":[\"EEA\"]},"
    "  \"purposes\":{"
    "   \"orders\":{\"legal_basis\":\"contract\"},"
    "   \"marketing\":{\"legal_basis\":\"legitimate_interest\","
    "     \"objectable\":true},"
    "   \"legal\":{\"legal_basis\":\"legal_obligation\","
    "     \"allowed_when_restricted\":true}},"
    "  \"fields\":{"
    "   \"name\":{\"category\":\"identity\",\"type\":\"string\"},"
    "   \"email\":{\"category\":\"contact\",\"type\":\"email\"},"
    "   \"phone\":{\"category\":\"contact\",\"type\":\"phone\"},"
    "   \"notes\":{\"category\":\"misc\",\"type\":\"text\"}}},"
    " \"open\":{"
    "  \"purposes\":{\"stats\":{\"legal_basis\":\"legitimate_interest\"}},"
    "  \"fields\":{\"score\":{\"category\":\"feedback\",\"type\":"
    "\"integer\"}}}},"
    "\"principals\":{"
    " \"clerk\":{\"key\":\"0000000000000000000000000000000000000001\","
    "  \"region\":\"FI\",\"grants\":["
    "  {\"register\":\"shop\",\"purposes\":[\"orders\"],"
    "   \"fields\":[\"name\",\"email\"],\"ops\":[\"read\",\"write\"]},"
    "  {\"register\":\"shop\",\"purposes\":[\"orders\"],"
    "   \"fields\":[\"phone\"],\"ops\":[\"read\"]},"
    "  {\"register\":\"shop\",\"purposes\":[\"legal\"],"
    "   \"fields\":[\"*\"],\"ops\":[\"read\"]},"
    "  {\"register\":\"shop\",\"purposes\":[\"marketing\"],"
    "   \"fields\":[\"email\"],\"ops\":[\"read\"]}]},"
    " \"admin\":{\"key\":\"0000000000000000000000000000000000000002\","
    "  \"region\":\"SE\",\"grants\":["
    "  {\"register\":\"shop\",\"purposes\":[\"orders\"],"
    "   \"fields\":[\"*\"],\"ops\":[\"read\",\"write\",\"delete\"]}]},"
    " \"deleter\":{\"key\":\"0000000000000000000000000000000000000003\","
    "  \"region\":\"FI\",\"grants\":["
    "  {\"register\":\"shop\",\"purposes\":[\"orders\"],"
    "   \"fields\":[\"name\",\"email\",\"phone\"],\"ops\":[\"delete\"]}]},"
    " \"abroad\":{\"key\":\"0000000000000000000000000000000000000004\","
    "  \"region\":\"US\",\"grants\":["
    "  {\"register\":\"shop\",\"purposes\":[\"orders\"],"
    "   \"fields\":[\"*\"],\"ops\":[\"read\"]},"
    "  {\"register\":\"open\",\"purposes\":[\"stats\"],"
    "   \"fields\":[\"*\"],\"ops\":[\"read\"]}]},"
    " \"noregion\":{\"key\":\"0000000000000000000000000000000000000005\","
    "  \"grants\":["
    "  {\"register\":\"shop\",\"purposes\":[\"orders\"],"
    "   \"fields\":[\"*\"],\"ops\":[\"read\"]},"
    "  {\"register\":\"open\",\"purposes\":[\"stats\"],"
    "   \"fields\":[\"*\"],\"ops\":[\"read\"]}]},"
    " \"boss\":{\"key\":\"0000000000000000000000000000000000000006\","
    "  \"region\":\"FI\","
    "  \"roles\":[\"auditor\",\"policy_admin\",\"subject_rights\"]}}}";

#define R POL_OP_READ
#define W POL_OP_WRITE
#define D POL_OP_DELETE
#define NONE                                                                   \
	{                                                                      \
		NULL                                                           \
	}
#define F(...)                                                                 \
	{                                                                      \
		__VA_ARGS__, NULL                                              \
	}

struct row {
	const char *name;
	const char *principal; /* NULL = unknown */
	const char *reg;
	const char *purpose;
	unsigned op;
	const char *fields[5]; /* NULL-terminated; empty = all fields */
	bool restricted;
	const char *objected; /* purpose the subject objected to */
	pol_reason want;
	const char *want_fields[5]; /* when allowed: exactly these */
	const char *msg;            /* substring of the message, if set */
};

static const struct row rows[] = {
    /* 1. principal */
    {"unknown principal", NULL, "shop", "orders", R, NONE, false, NULL,
        POL_DENY_UNKNOWN_PRINCIPAL, NONE, "principal"},
    /* 2. register */
    {"unknown register", "clerk", "nope", "orders", R, NONE, false, NULL,
        POL_DENY_UNKNOWN_REGISTER, NONE, "unknown register nope"},
    {"null register", "clerk", NULL, "orders", R, NONE, false, NULL,
        POL_DENY_UNKNOWN_REGISTER, NONE, NULL},
    {"register name not quoted", "clerk", "a\nb", "orders", R, NONE, false,
        NULL, POL_DENY_UNKNOWN_REGISTER, NONE, "(invalid name)"},
    /* 3. purpose */
    {"unknown purpose", "clerk", "shop", "nope", R, NONE, false, NULL,
        POL_DENY_UNKNOWN_PURPOSE, NONE, "unknown purpose nope"},
    {"null purpose", "clerk", "shop", NULL, R, NONE, false, NULL,
        POL_DENY_UNKNOWN_PURPOSE, NONE, NULL},
    {"empty purpose", "clerk", "shop", "", R, NONE, false, NULL,
        POL_DENY_UNKNOWN_PURPOSE, NONE, NULL},
    {"purpose of another register", "clerk", "shop", "stats", R, NONE, false,
        NULL, POL_DENY_UNKNOWN_PURPOSE, NONE, NULL},
    /* 4. fields declared */
    {"unknown field", "clerk", "shop", "orders", R, F("name", "bogus"), false,
        NULL, POL_DENY_UNKNOWN_FIELD, NONE, "bogus"},
    {"field of another register", "clerk", "shop", "orders", R, F("score"),
        false, NULL, POL_DENY_UNKNOWN_FIELD, NONE, "score"},
    /* 5. region */
    {"out of region", "abroad", "shop", "orders", R, F("name"), false, NULL,
        POL_DENY_REGION, NONE, "US"},
    {"no region, transfer rule", "noregion", "shop", "orders", R, NONE, false,
        NULL, POL_DENY_REGION, NONE, NULL},
    {"out of region, no rule", "abroad", "open", "stats", R, NONE, false, NULL,
        POL_ALLOW, F("score"), NULL},
    {"no region, no rule", "noregion", "open", "stats", R, F("score"), false,
        NULL, POL_ALLOW, F("score"), NULL},
    {"other EEA country", "admin", "shop", "orders", R, F("notes"), false, NULL,
        POL_ALLOW, F("notes"), NULL},
    /* 6. grant for (register, purpose, op) */
    {"no grant for op", "clerk", "shop", "orders", D, F("name"), false, NULL,
        POL_DENY_NO_GRANT, NONE,
        "no grant for register shop, purpose orders, operation delete"},
    {"no grant for purpose op", "clerk", "shop", "marketing", W, F("email"),
        false, NULL, POL_DENY_NO_GRANT, NONE, "marketing"},
    {"no grant for register", "clerk", "open", "stats", R, NONE, false, NULL,
        POL_DENY_NO_GRANT, NONE, "open"},
    {"roles give no data access", "boss", "shop", "orders", R, NONE, false,
        NULL, POL_DENY_NO_GRANT, NONE, NULL},
    {"invalid op", "clerk", "shop", "orders", 0, F("name"), false, NULL,
        POL_DENY_OTHER, NONE, NULL},
    {"two ops at once", "clerk", "shop", "orders", R | W, F("name"), false,
        NULL, POL_DENY_OTHER, NONE, NULL},
    /* 7. fields granted */
    {"named fields", "clerk", "shop", "orders", R, F("email", "name"), false,
        NULL, POL_ALLOW, F("name", "email"), NULL},
    {"fields from two grants", "clerk", "shop", "orders", R, F("name", "phone"),
        false, NULL, POL_ALLOW, F("name", "phone"), NULL},
    {"field granted for read only", "clerk", "shop", "orders", W, F("phone"),
        false, NULL, POL_DENY_FIELD_NOT_GRANTED, NONE, "phone"},
    {"field never granted", "clerk", "shop", "orders", W, F("name", "notes"),
        false, NULL, POL_DENY_FIELD_NOT_GRANTED, NONE, "notes"},
    {"read all = granted only", "clerk", "shop", "orders", R, NONE, false, NULL,
        POL_ALLOW, F("name", "email", "phone"), NULL},
    {"read all, one field", "clerk", "shop", "marketing", R, NONE, false, NULL,
        POL_ALLOW, F("email"), NULL},
    {"write all needs all", "clerk", "shop", "orders", W, NONE, false, NULL,
        POL_DENY_FIELD_NOT_GRANTED, NONE, "phone"},
    {"delete subject", "admin", "shop", "orders", D, NONE, false, NULL,
        POL_ALLOW, F("name", "email", "phone", "notes"), NULL},
    {"delete subject needs all", "deleter", "shop", "orders", D, NONE, false,
        NULL, POL_DENY_FIELD_NOT_GRANTED, NONE, "notes"},
    {"delete some fields", "deleter", "shop", "orders", D, F("phone", "name"),
        false, NULL, POL_ALLOW, F("name", "phone"), NULL},
    /* 8. subject state */
    {"restricted", "admin", "shop", "orders", R, NONE, true, NULL,
        POL_DENY_RESTRICTED, NONE, "restricted"},
    {"restricted, write", "admin", "shop", "orders", W, F("name"), true, NULL,
        POL_DENY_RESTRICTED, NONE, NULL},
    {"allowed when restricted", "clerk", "shop", "legal", R, NONE, true, NULL,
        POL_ALLOW, F("name", "email", "phone", "notes"), NULL},
    {"objected", "clerk", "shop", "marketing", R, F("email"), false,
        "marketing", POL_DENY_OBJECTED, NONE, "marketing"},
    {"objected to another purpose", "clerk", "shop", "orders", R, F("email"),
        false, "marketing", POL_ALLOW, F("email"), NULL},
    {"objection bit honoured anyway", "clerk", "shop", "orders", R, F("email"),
        false, "orders", POL_DENY_OBJECTED, NONE, NULL},
    /* precedence */
    {"field before region", "abroad", "shop", "orders", D, F("bogus"), false,
        NULL, POL_DENY_UNKNOWN_FIELD, NONE, NULL},
    {"region before grant", "abroad", "shop", "orders", D, F("name"), false,
        NULL, POL_DENY_REGION, NONE, NULL},
    {"purpose before field", "clerk", "shop", "nope", R, F("bogus"), false,
        NULL, POL_DENY_UNKNOWN_PURPOSE, NONE, NULL},
    {"grant before state", "clerk", "shop", "orders", D, F("name"), true,
        "orders", POL_DENY_NO_GRANT, NONE, NULL},
    {"field grant before state", "clerk", "shop", "orders", W, F("notes"), true,
        NULL, POL_DENY_FIELD_NOT_GRANTED, NONE, NULL},
    {"restricted before objected", "clerk", "shop", "marketing", R, F("email"),
        true, "marketing", POL_DENY_RESTRICTED, NONE, NULL},
};

static pol_policy *
load(void)
{
	pol_policy *p = NULL;
	pol_error err;

	if (pol_parse(policy_json, strlen(policy_json), &p, &err) != 0)
		fail_msg("policy: %s: %s", err.path, err.reason);
	return p;
}

static size_t
count(const char *const *names)
{
	size_t n = 0;

	while (names[n] != NULL)
		n++;
	return n;
}

static void
test_matrix(void **state)
{
	pol_policy *p = load();
	size_t i, k;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *row = &rows[i];
		const pol_register *reg = pol_register_find(p, row->reg);
		pol_subject_state subj = {.restricted = row->restricted};
		pol_request req = {
		    .principal = row->principal
		                     ? pol_principal_by_name(p, row->principal)
		                     : NULL,
		    .reg = row->reg,
		    .purpose = row->purpose,
		    .op = row->op,
		    .fields = row->fields,
		    .nfields = count(row->fields),
		    .subject = &subj,
		};
		uint64_t want[POL_FIELD_WORDS] = {0};
		pol_decision d;

		if (row->principal != NULL && req.principal == NULL)
			fail_msg("row \"%s\": no principal", row->name);
		if (row->objected != NULL)
			subj.objected =
			    UINT64_C(1)
			    << pol_purpose_find(reg, row->objected)->index;
		pol_decide(p, &req, &d);
		if (d.reason != row->want)
			fail_msg("row \"%s\": %s (%s), want %s", row->name,
			    pol_reason_name(d.reason), d.message,
			    pol_reason_name(row->want));
		if (row->msg != NULL && strstr(d.message, row->msg) == NULL)
			fail_msg("row \"%s\": message \"%s\" lacks \"%s\"",
			    row->name, d.message, row->msg);
		if (d.reason != POL_ALLOW) {
			if (d.message[0] == '\0')
				fail_msg("row \"%s\": no message", row->name);
			continue;
		}
		assert_ptr_equal(d.reg, reg);
		assert_ptr_equal(
		    d.purpose, pol_purpose_find(reg, row->purpose));
		for (k = 0; row->want_fields[k] != NULL; k++)
			pol_fieldset_add(want,
			    pol_field_find(reg, row->want_fields[k])->index);
		if (memcmp(want, d.fields, sizeof(want)) != 0)
			fail_msg("row \"%s\": fields %#llx, want %#llx",
			    row->name, (unsigned long long)d.fields[0],
			    (unsigned long long)want[0]);
	}
	pol_free(&p);
}

/* No subject state recorded means nothing forbids the purpose. */
static void
test_no_subject(void **state)
{
	pol_policy *p = load();
	const char *fields[] = {"email"};
	pol_request req = {
	    .principal = pol_principal_by_name(p, "clerk"),
	    .reg = "shop",
	    .purpose = "marketing",
	    .op = POL_OP_READ,
	    .fields = fields,
	    .nfields = 1,
	};
	pol_decision d;

	pol_decide(p, &req, &d);
	assert_int_equal(d.reason, POL_ALLOW);
	assert_string_equal(d.message, "");

	/* A field count without a list is refused, not dereferenced. */
	req.fields = NULL;
	pol_decide(p, &req, &d);
	assert_int_equal(d.reason, POL_DENY_OTHER);
	pol_decide(NULL, &req, &d);
	assert_int_equal(d.reason, POL_DENY_OTHER);
	pol_decide(p, NULL, &d);
	assert_int_equal(d.reason, POL_DENY_OTHER);
	pol_free(&p);
}

/* Every reason code is reached by some row of the matrix, except
 * role_required, which is the daemon's to give for role operations. */
static void
test_coverage(void **state)
{
	bool seen[POL_DENY_ROLE_REQUIRED + 1] = {false};
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		seen[rows[i].want] = true;
	for (i = 0; i < POL_DENY_ROLE_REQUIRED; i++)
		if (!seen[i])
			fail_msg(
			    "no row for %s", pol_reason_name((pol_reason)i));
}

static void
test_reason_names(void **state)
{
	static const char *const names[] = {"allow", "other",
	    "unknown_principal", "unknown_register", "unknown_field",
	    "unknown_purpose", "no_grant", "field_not_granted", "region",
	    "restricted", "objected", "role_required"};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(pol_reason_name((pol_reason)i), names[i]);
	assert_string_equal(pol_reason_name((pol_reason)99), "other");
	assert_string_equal(pol_reason_name((pol_reason)-1), "other");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_matrix),
	    cmocka_unit_test(test_no_subject),
	    cmocka_unit_test(test_coverage),
	    cmocka_unit_test(test_reason_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
