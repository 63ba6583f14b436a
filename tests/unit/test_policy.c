/*
 * test_policy.c - parsing and validation of policy documents: the shipped
 * example parses and means what the notice says, and each kind of mistake is
 * refused with the exact JSON path and a recognisable reason.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "policy.h"

/* Two distinct, valid Z85 keys (all zeros; all ones in Z85 digits). */
#define KEY_A "0000000000000000000000000000000000000000"
#define KEY_B "1111111111111111111111111111111111111111"

#define CONTROLLER "\"controller\":{\"name\":\"C Oy\",\"business_id\":\"1-2\"}"
#define PURPOSES                                                               \
	"\"purposes\":{\"p\":{\"legal_basis\":\"consent\"},"                   \
	"\"q\":{\"legal_basis\":\"contract\"}}"
#define FIELDS                                                                 \
	"\"fields\":{\"f\":{\"category\":\"c\",\"type\":\"string\"},"          \
	"\"g\":{\"category\":\"d\",\"type\":\"email\"}}"
/* A register "r" with purposes p, q and fields f, g, plus extra members. */
#define REG(extra)  "\"registers\":{\"r\":{" PURPOSES "," FIELDS extra "}}"
#define PRINC(body) "\"principals\":{" body "}"
#define GRANT(reg, purposes, fields)                                           \
	"\"grants\":[{\"register\":\"" reg "\",\"purposes\":[" purposes        \
	"],\"fields\":[" fields "],\"ops\":[\"read\"]}]"
#define DOC(regs, princs) "{" CONTROLLER "," regs "," princs "}"
#define OK_PRINC          PRINC("\"a\":{\"key\":\"" KEY_A "\"}")

static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf != NULL && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	if (buf != NULL)
		buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

static pol_policy *
parse_ok(const char *json)
{
	pol_policy *p = NULL;
	pol_error err;

	if (pol_parse(json, strlen(json), &p, &err) != 0)
		fail_msg("unexpected error at %s: %s", err.path, err.reason);
	assert_non_null(p);
	return p;
}

static bool
has_country(const pol_register *r, const char *cc)
{
	size_t i;

	for (i = 0; i < r->nallowed_countries; i++)
		if (strcmp(r->allowed_countries[i], cc) == 0)
			return true;
	return false;
}

/* The example renders the notice: check the promises that matter. */
static void
test_example(void **state)
{
	const char *path = getenv("POLICY_EXAMPLE");
	const pol_register *cust, *acis;
	const pol_principal *pr;
	const pol_purpose *pu;
	const pol_field *f;
	pol_policy *p;
	char *json;
	size_t len, i, nstat;

	if (path == NULL)
		path = "policy/examples/aktiivitieto.json";
	json = read_file(path, &len);
	if (json == NULL)
		fail_msg("cannot read %s (set POLICY_EXAMPLE)", path);
	p = parse_ok(json);
	free(json);

	assert_string_equal(p->controller_name, "Suomen Aktiivitieto Oy");
	assert_string_equal(p->controller_business_id, "1106062-3");
	assert_int_equal(p->audit_retention_s, 5 * 365 * 86400LL);
	assert_int_equal(p->nregisters, 2);
	assert_non_null(cust = pol_register_find(p, "customers"));
	assert_non_null(acis = pol_register_find(p, "acis"));

	/* Both registers: EEA only (30 countries), nothing outside. */
	assert_int_equal(cust->nallowed_countries, 30);
	assert_int_equal(acis->nallowed_countries, 30);
	assert_true(has_country(acis, "FI") && has_country(acis, "NO"));
	assert_false(has_country(acis, "IN") || has_country(acis, "US"));

	assert_int_equal(cust->npurposes, 10);
	assert_int_equal(acis->npurposes, 4);
	assert_non_null(pu = pol_purpose_find(cust, "marketing"));
	assert_true(pu->objectable);
	assert_int_equal(pu->basis, POL_BASIS_LEGITIMATE_INTEREST);
	assert_non_null(pu = pol_purpose_find(cust, "legal_obligations"));
	assert_true(pu->allowed_when_restricted);
	assert_int_equal(pu->basis, POL_BASIS_LEGAL_OBLIGATION);
	assert_non_null(pol_purpose_find(acis, "satisfaction_tracking"));
	assert_null(pol_purpose_find(acis, "marketing"));
	/* Reporting reads aggregates, groups under 5 suppressed. */
	assert_int_equal(p->min_group, 5);
	assert_true(pol_purpose_find(cust, "reporting")->statistical);
	assert_true(pol_purpose_find(acis, "sales_reporting")->statistical);
	for (i = 0, nstat = 0; i < cust->npurposes; i++)
		nstat += cust->purposes[i].statistical;
	for (i = 0; i < acis->npurposes; i++)
		nstat += acis->purposes[i].statistical;
	assert_int_equal(nstat, 2);

	assert_int_equal(cust->nfields, 11);
	assert_int_equal(acis->nfields, 10);
	assert_null(pol_field_find(acis, "billing_details"));
	assert_non_null(f = pol_field_find(cust, "email"));
	assert_true(f->lookup && f->identifying);
	assert_int_equal(f->type, POL_FT_EMAIL);
	assert_int_equal(f->index, 1);
	assert_non_null(f = pol_field_find(acis, "feedback_score"));
	assert_int_equal(f->type, POL_FT_INTEGER);
	assert_false(f->identifying);
	assert_non_null(f = pol_field_find(acis, "feedback_text"));
	assert_false(f->allow_identity_code);
	for (i = 0; i < cust->nfields; i++)
		assert_int_equal(cust->fields[i].index, i);

	/* Retention: ACIS anonymised 24 months after collection and
	 * destroyed when the contract ends; bookkeeping minimum. */
	for (i = 0; i < acis->nretention; i++)
		if (strcmp(acis->retention[i].id, "anonymize-24m") == 0)
			break;
	assert_true(i < acis->nretention);
	assert_int_equal(acis->retention[i].after_s, 24 * 30 * 86400LL);
	assert_string_equal(acis->retention[i].action, "anonymize");
	assert_string_equal(acis->retention[i].from, "collected");
	assert_int_equal(acis->retention[i].ncategories, 1);
	assert_string_equal(acis->retention[i].categories[0], "*");
	for (i = 0; i < acis->nretention; i++)
		if (strcmp(acis->retention[i].id, "contract-end") == 0)
			break;
	assert_true(i < acis->nretention);
	assert_int_equal(acis->retention[i].after_s, 0);
	assert_string_equal(acis->retention[i].action, "delete");
	for (i = 0; i < cust->nretention; i++)
		if (strcmp(cust->retention[i].id, "bookkeeping") == 0)
			break;
	assert_true(i < cust->nretention);
	assert_int_equal(cust->retention[i].keep_least_s, 6 * 365 * 86400LL);
	assert_null(cust->retention[i].action);

	assert_int_equal(p->nprincipals, 7);
	assert_non_null(pr = pol_principal_by_name(p, "support_contractor"));
	assert_string_equal(pr->region, "IN");
	assert_ptr_equal(pol_principal_by_key(p, pr->key), pr);
	assert_non_null(pr = pol_principal_by_name(p, "auditor"));
	assert_int_equal(pr->roles, POL_ROLE_AUDITOR);
	assert_int_equal(pr->ngrants, 0);
	assert_non_null(pr = pol_principal_by_name(p, "dpo"));
	assert_int_equal(
	    pr->roles, POL_ROLE_POLICY_ADMIN | POL_ROLE_SUBJECT_RIGHTS);
	assert_null(pol_principal_by_name(p, "nobody"));

	/* Every principal has its own key. */
	for (i = 0; i < p->nprincipals; i++)
		assert_ptr_equal(pol_principal_by_key(p, p->principals[i].key),
		    &p->principals[i]);
	pol_free(&p);
	assert_null(p);
}

/* A minimal valid document, and the optional parts with their defaults. */
static void
test_minimal(void **state)
{
	pol_policy *p = parse_ok(DOC(REG(""), PRINC("")));
	const pol_register *r = pol_register_find(p, "r");

	assert_non_null(r);
	assert_null(r->allowed_countries);
	assert_int_equal(r->nretention, 0);
	assert_int_equal(p->nprincipals, 0);
	assert_int_equal(p->audit_retention_s, 5 * 365 * 86400LL);
	assert_false(r->purposes[0].objectable);
	assert_false(r->purposes[0].allowed_when_restricted);
	assert_false(r->purposes[0].statistical);
	assert_int_equal(p->min_group, POL_DEFAULT_MIN_GROUP);
	assert_null(r->fields[0].source);
	pol_free(&p);

	/* the reporting settings at their bounds */
	p = parse_ok("{" CONTROLLER ",\"reporting\":{\"min_group\":2}," REG(
	    "") "," OK_PRINC "}");
	assert_int_equal(p->min_group, 2);
	pol_free(&p);
	p = parse_ok("{" CONTROLLER ",\"reporting\":{\"min_group\":1000}," REG(
	    "") "," OK_PRINC "}");
	assert_int_equal(p->min_group, 1000);
	pol_free(&p);
	p = parse_ok(
	    "{" CONTROLLER ",\"reporting\":{}," REG("") "," OK_PRINC "}");
	assert_int_equal(p->min_group, 5);
	pol_free(&p);
	p = parse_ok(DOC("\"registers\":{\"r\":{\"purposes\":{\"p\":{"
	                 "\"legal_basis\":\"consent\",\"statistical\":true},"
	                 "\"q\":{\"legal_basis\":\"consent\",\"statistical\""
	                 ":false}}," FIELDS "}}",
	    OK_PRINC));
	r = pol_register_find(p, "r");
	assert_true(pol_purpose_find(r, "p")->statistical);
	assert_false(pol_purpose_find(r, "q")->statistical);
	pol_free(&p);
	pol_free(&p); /* NULL-safe */
	pol_free(NULL);
}

/* User-defined regions expand, mix with EEA and codes, and deduplicate into
 * a sorted list. */
static void
test_regions(void **state)
{
	pol_policy *p =
	    parse_ok("{" CONTROLLER ","
	             "\"regions\":{\"NORDICS\":[\"FI\",\"SE\",\"NO\","
	             "\"FI\"],\"far\":[\"JP\"]},"
	             "\"registers\":{"
	             "\"a\":{\"transfer\":{\"allowed_regions\":"
	             "[\"NORDICS\",\"FI\",\"EEA\"]}," PURPOSES "," FIELDS "},"
	             "\"b\":{\"transfer\":{\"allowed_regions\":"
	             "[\"NORDICS\",\"DE\",\"far\"]}," PURPOSES "," FIELDS "}},"
	             "\"principals\":{}}");
	const pol_register *a = pol_register_find(p, "a");
	const pol_register *b = pol_register_find(p, "b");

	assert_int_equal(a->nallowed_countries, 30);
	assert_int_equal(b->nallowed_countries, 5);
	assert_true(has_country(b, "JP") && has_country(b, "DE"));
	assert_false(has_country(b, "DK"));
	assert_string_equal(b->allowed_countries[0], "DE");
	assert_string_equal(b->allowed_countries[1], "FI");
	assert_string_equal(b->allowed_countries[2], "JP");
	assert_string_equal(b->allowed_countries[3], "NO");
	assert_string_equal(b->allowed_countries[4], "SE");
	assert_string_equal(a->allowed_countries[0], "AT");
	assert_string_equal(a->allowed_countries[29], "SK");
	pol_free(&p);
}

/* Grants resolve to bit sets over the register's purposes and fields. */
static void
test_grant_bits(void **state)
{
	pol_policy *p = parse_ok(DOC(REG(""),
	    PRINC("\"a\":{\"key\":\"" KEY_A "\",\"region\":\"FI\","
	          "\"roles\":[\"auditor\",\"subject_rights\"],"
	          "\"grants\":[{\"register\":\"r\",\"purposes\":[\"q\"],"
	          "\"fields\":[\"g\"],\"ops\":[\"write\",\"delete\"]},"
	          "{\"register\":\"r\",\"purposes\":[\"p\",\"q\"],"
	          "\"fields\":[\"*\"],\"ops\":[\"read\"]}]}")));
	const pol_principal *pr = pol_principal_by_name(p, "a");

	assert_non_null(pr);
	assert_int_equal(pr->ngrants, 2);
	assert_ptr_equal(pr->grants[0].reg, &p->registers[0]);
	assert_int_equal(pr->grants[0].purposes, 2);
	assert_int_equal(pr->grants[0].fields[0], 2);
	assert_int_equal(pr->grants[0].ops, POL_OP_WRITE | POL_OP_DELETE);
	assert_int_equal(pr->grants[1].purposes, 3);
	assert_int_equal(pr->grants[1].fields[0], 3);
	assert_int_equal(pr->grants[1].ops, POL_OP_READ);
	assert_int_equal(pr->roles, POL_ROLE_AUDITOR | POL_ROLE_SUBJECT_RIGHTS);
	assert_string_equal(pr->region, "FI");
	pol_free(&p);
}

struct bad {
	const char *name;
	const char *json;
	const char *path;
	const char *reason; /* substring */
};

static const struct bad bad_cases[] = {
    {"unknown key at root",
        "{" CONTROLLER "," REG("") "," OK_PRINC ",\"bogus\":1}", "$.bogus",
        "unknown key \"bogus\""},
    {"unknown key in field",
        DOC("\"registers\":{\"r\":{" PURPOSES ",\"fields\":{\"f\":{"
            "\"category\":\"c\",\"type\":\"string\",\"tyep\":\"x\"}}}}",
            OK_PRINC),
        "$.registers.r.fields.f.tyep", "unknown key"},
    {"unknown key in grant",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"" KEY_A "\",\"grants\":[{"
                           "\"register\":\"r\",\"purposes\":[\"p\"],"
                           "\"fields\":[\"f\"],\"ops\":[\"read\"],"
                           "\"until\":\"x\"}]}")),
        "$.principals.a.grants[0].until", "unknown key"},
    {"unknown key not a name",
        "{" CONTROLLER "," REG("") "," OK_PRINC ",\"b a d\":1}", "$",
        "unknown key"},
    {"wrong type bool",
        DOC("\"registers\":{\"r\":{\"purposes\":{\"p\":{\"legal_basis\":"
            "\"consent\",\"objectable\":\"yes\"}}," FIELDS "}}",
            OK_PRINC),
        "$.registers.r.purposes.p.objectable", "expected a boolean"},
    {"wrong type object", DOC("\"registers\":[]", OK_PRINC), "$.registers",
        "expected an object"},
    {"wrong type string",
        "{\"controller\":{\"name\":5,\"business_id\":\"1\"}," REG(
            "") "," OK_PRINC "}",
        "$.controller.name", "expected a string"},
    {"wrong type array", DOC(REG(",\"retention\":{}"), OK_PRINC),
        "$.registers.r.retention", "expected an array"},
    {"wrong type list entry",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"" KEY_A "\",\"roles\":[1]}")),
        "$.principals.a.roles[0]", "expected a string"},
    {"root not an object", "[1]", "$", "expected an object"},
    {"missing controller", "{" REG("") "," OK_PRINC "}", "$.controller",
        "missing"},
    {"missing principals", "{" CONTROLLER "," REG("") "}", "$.principals",
        "missing"},
    {"missing field type",
        DOC("\"registers\":{\"r\":{" PURPOSES ",\"fields\":{\"f\":{"
            "\"category\":\"c\"}}}}",
            OK_PRINC),
        "$.registers.r.fields.f.type", "missing"},
    {"empty controller name",
        "{\"controller\":{\"name\":\"\",\"business_id\":\"1\"}," REG(
            "") "," OK_PRINC "}",
        "$.controller.name", "empty"},
    {"no registers", DOC("\"registers\":{}", OK_PRINC), "$.registers",
        "at least one"},
    {"no purposes",
        DOC("\"registers\":{\"r\":{\"purposes\":{}," FIELDS "}}", OK_PRINC),
        "$.registers.r.purposes", "at least one"},
    {"no fields",
        DOC("\"registers\":{\"r\":{" PURPOSES ",\"fields\":{}}}", OK_PRINC),
        "$.registers.r.fields", "at least one"},
    {"duplicate field name",
        DOC("\"registers\":{\"r\":{" PURPOSES ",\"fields\":{\"f\":{"
            "\"category\":\"c\",\"type\":\"string\"},\"f\":{\"category\":"
            "\"c\",\"type\":\"string\"}}}}",
            OK_PRINC),
        "$", "duplicate key"},
    {"duplicate principal name",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"" KEY_A
                           "\"},\"a\":{\"key\":\"" KEY_B "\"}")),
        "$", "duplicate key"},
    {"invalid register name",
        DOC("\"registers\":{\"a b\":{" PURPOSES "," FIELDS "}}", OK_PRINC),
        "$.registers", "invalid register name"},
    {"name too long",
        DOC("\"registers\":{\"r\":{" PURPOSES ",\"fields\":{\"f\":{"
            "\"category\":\"c2345678901234567890123456789012345678901234567"
            "890123456789012345\",\"type\":\"string\"}}}}",
            OK_PRINC),
        "$.registers.r.fields.f.category", "not a valid name"},
    {"dotted name path",
        DOC("\"registers\":{\"r\":{" PURPOSES ",\"fields\":{\"a.b\":{"
            "\"category\":\"c\",\"type\":\"str\"}}}}",
            OK_PRINC),
        "$.registers.r.fields[\"a.b\"].type", "unknown type \"str\""},
    {"grant unknown register",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"" KEY_A
                           "\"," GRANT("nope", "\"p\"", "\"f\"") "}")),
        "$.principals.a.grants[0].register", "unknown register \"nope\""},
    {"grant unknown purpose",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"" KEY_A
                           "\"," GRANT("r", "\"p\",\"nope\"", "\"f\"") "}")),
        "$.principals.a.grants[0].purposes[1]", "unknown purpose \"nope\""},
    {"grant unknown field",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"" KEY_A "\"," GRANT(
                         "r", "\"p\"", "\"f\",\"g\",\"nope\"") "}")),
        "$.principals.a.grants[0].fields[2]", "unknown field \"nope\""},
    {"grant star not alone",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"" KEY_A
                           "\"," GRANT("r", "\"p\"", "\"f\",\"*\"") "}")),
        "$.principals.a.grants[0].fields[1]", "only entry"},
    {"grant empty purposes",
        DOC(REG(""),
            PRINC("\"a\":{\"key\":\"" KEY_A "\"," GRANT("r", "", "\"f\"") "}")),
        "$.principals.a.grants[0].purposes", "must not be empty"},
    {"grant unknown op",
        DOC(REG(""),
            PRINC("\"a\":{\"key\":\"" KEY_A "\",\"grants\":[{"
                  "\"register\":\"r\",\"purposes\":[\"p\"],"
                  "\"fields\":[\"f\"],\"ops\":[\"read\",\"erase\"]}]}")),
        "$.principals.a.grants[0].ops[1]", "unknown operation \"erase\""},
    {"unknown role",
        DOC(REG(""),
            PRINC("\"a\":{\"key\":\"" KEY_A "\",\"roles\":[\"root\"]}")),
        "$.principals.a.roles[0]", "unknown role \"root\""},
    {"key too short",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"000000000000000000000000000000000"
                           "000000\"}")),
        "$.principals.a.key", "Z85"},
    {"key bad character",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"000000000000000000000000000000000"
                           "000000~\"}")),
        "$.principals.a.key", "Z85"},
    {"key group overflows",
        DOC(REG(""),
            PRINC("\"a\":{\"key\":\"#####000000000000000000000000000000"
                  "00000\"}")),
        "$.principals.a.key", "Z85"},
    {"missing key", DOC(REG(""), PRINC("\"a\":{\"region\":\"FI\"}")),
        "$.principals.a.key", "missing"},
    {"duplicate principal key",
        DOC(REG(""),
            PRINC("\"a\":{\"key\":\"" KEY_A "\"},\"b\":{\"key\":\"" KEY_B
                  "\"},\"c\":{\"key\":\"" KEY_A "\"}")),
        "$.principals.c.key", "same key as principal \"a\""},
    {"duplicate principal keys, first repeat reported",
        DOC(REG(""),
            PRINC("\"a\":{\"key\":\"" KEY_A "\"},\"b\":{\"key\":\"" KEY_B
                  "\"},\"c\":{\"key\":\"" KEY_B "\"},\"d\":{\"key\":\"" KEY_A
                  "\"}")),
        "$.principals.c.key", "same key as principal \"b\""},
    {"principal region not a code",
        DOC(REG(""), PRINC("\"a\":{\"key\":\"" KEY_A "\",\"region\":\"fi\"}")),
        "$.principals.a.region", "ISO 3166-1"},
    {"bad duration unit",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"c\"],"
                "\"from\":\"collected\",\"after\":\"5 fortnights\","
                "\"action\":\"delete\"}]"),
            OK_PRINC),
        "$.registers.r.retention[0].after", "not a duration"},
    {"zero minimum",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"*\"],"
                "\"from\":\"collected\",\"keep_at_least\":\"0 days\"}]"),
            OK_PRINC),
        "$.registers.r.retention[0].keep_at_least", "longer than zero"},
    {"zero after with leading zeros",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"*\"],"
                "\"from\":\"collected\",\"after\":\"00 days\","
                "\"action\":\"delete\"}]"),
            OK_PRINC),
        "$.registers.r.retention[0].after", "not a duration"},
    {"zero audit retention",
        "{" CONTROLLER
        ",\"audit\":{\"retention\":\"0 years\"}," REG("") "," OK_PRINC "}",
        "$.audit.retention", "longer than zero"},
    {"statistical not a boolean",
        DOC("\"registers\":{\"r\":{\"purposes\":{\"p\":{\"legal_basis\":"
            "\"consent\",\"statistical\":1}}," FIELDS "}}",
            OK_PRINC),
        "$.registers.r.purposes.p.statistical", "expected a boolean"},
    {"reporting not an object",
        "{" CONTROLLER ",\"reporting\":5," REG("") "," OK_PRINC "}",
        "$.reporting", "expected an object"},
    {"reporting unknown key",
        "{" CONTROLLER ",\"reporting\":{\"k\":5}," REG("") "," OK_PRINC "}",
        "$.reporting.k", "unknown key \"k\""},
    {"min_group a string",
        "{" CONTROLLER
        ",\"reporting\":{\"min_group\":\"5\"}," REG("") "," OK_PRINC "}",
        "$.reporting.min_group", "expected an integer"},
    {"min_group a real",
        "{" CONTROLLER
        ",\"reporting\":{\"min_group\":5.0}," REG("") "," OK_PRINC "}",
        "$.reporting.min_group", "expected an integer"},
    {"min_group 1",
        "{" CONTROLLER ",\"reporting\":{\"min_group\":1}," REG("") "," OK_PRINC
                                                                   "}",
        "$.reporting.min_group", "from 2 to 1000"},
    {"min_group 1001",
        "{" CONTROLLER
        ",\"reporting\":{\"min_group\":1001}," REG("") "," OK_PRINC "}",
        "$.reporting.min_group", "from 2 to 1000"},
    {"min_group negative",
        "{" CONTROLLER ",\"reporting\":{\"min_group\":-5}," REG("") "," OK_PRINC
                                                                    "}",
        "$.reporting.min_group", "from 2 to 1000"},
    {"bad audit retention",
        "{" CONTROLLER
        ",\"audit\":{\"retention\":\"forever\"}," REG("") "," OK_PRINC "}",
        "$.audit.retention", "not a duration"},
    {"audit retention beyond 1000 years",
        "{" CONTROLLER
        ",\"audit\":{\"retention\":\"18446744073710 seconds\"}," REG(
            "") "," OK_PRINC "}",
        "$.audit.retention", "at most 1000 years"},
    {"retention after without action",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"c\"],"
                "\"from\":\"collected\",\"after\":\"5 days\"}]"),
            OK_PRINC),
        "$.registers.r.retention[0].action", "together"},
    {"retention rule does nothing",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"c\"],"
                "\"from\":\"collected\"}]"),
            OK_PRINC),
        "$.registers.r.retention[0]", "keep_at_least"},
    {"retention unused category",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"c\","
                "\"billing\"],\"from\":\"collected\",\"after\":\"1 year\","
                "\"action\":\"delete\"}]"),
            OK_PRINC),
        "$.registers.r.retention[0].categories[1]", "category \"billing\""},
    {"retention duplicate id",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"c\"],"
                "\"from\":\"collected\",\"keep_at_least\":\"1 year\"},"
                "{\"id\":\"x\",\"categories\":[\"d\"],\"from\":\"updated\","
                "\"keep_at_least\":\"1 year\"}]"),
            OK_PRINC),
        "$.registers.r.retention[1].id", "duplicate retention id"},
    {"retention duplicate ids, first repeat reported",
        DOC(REG(",\"retention\":["
                "{\"id\":\"x\",\"categories\":[\"c\"],\"from\":\"updated\","
                "\"keep_at_least\":\"1 year\"},"
                "{\"id\":\"y\",\"categories\":[\"c\"],\"from\":\"updated\","
                "\"keep_at_least\":\"1 year\"},"
                "{\"id\":\"z\",\"categories\":[\"c\"],\"from\":\"updated\","
                "\"keep_at_least\":\"1 year\"},"
                "{\"id\":\"y\",\"categories\":[\"c\"],\"from\":\"updated\","
                "\"keep_at_least\":\"1 year\"},"
                "{\"id\":\"x\",\"categories\":[\"c\"],\"from\":\"updated\","
                "\"keep_at_least\":\"1 year\"}]"),
            OK_PRINC),
        "$.registers.r.retention[3].id", "duplicate retention id \"y\""},
    {"retention unknown from",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"c\"],"
                "\"from\":\"birth\",\"keep_at_least\":\"1 year\"}]"),
            OK_PRINC),
        "$.registers.r.retention[0].from", "unknown start event"},
    {"retention unknown action",
        DOC(REG(",\"retention\":[{\"id\":\"x\",\"categories\":[\"c\"],"
                "\"from\":\"updated\",\"after\":\"1 year\",\"action\":"
                "\"anonymise\"}]"),
            OK_PRINC),
        "$.registers.r.retention[0].action", "unknown action"},
    {"unknown region",
        DOC(REG(",\"transfer\":{\"allowed_regions\":[\"EEA\",\"NORDIC\"]}"),
            OK_PRINC),
        "$.registers.r.transfer.allowed_regions[1]",
        "unknown region \"NORDIC\""},
    {"empty allowed regions",
        DOC(REG(",\"transfer\":{\"allowed_regions\":[]}"), OK_PRINC),
        "$.registers.r.transfer.allowed_regions", "must not be empty"},
    {"region with bad code",
        "{" CONTROLLER
        ",\"regions\":{\"X\":[\"FI\",\"FIN\"]}," REG("") "," OK_PRINC "}",
        "$.regions.X[1]", "ISO 3166-1"},
    {"region named like a code",
        "{" CONTROLLER ",\"regions\":{\"FI\":[\"FI\"]}," REG("") "," OK_PRINC
                                                                 "}",
        "$.regions.FI", "country code"},
    {"EEA redefined",
        "{" CONTROLLER ",\"regions\":{\"EEA\":[\"FI\"]}," REG("") "," OK_PRINC
                                                                  "}",
        "$.regions.EEA", "predefined"},
    {"unknown legal basis",
        DOC("\"registers\":{\"r\":{\"purposes\":{\"p\":{\"legal_basis\":"
            "\"because\"}}," FIELDS "}}",
            OK_PRINC),
        "$.registers.r.purposes.p.legal_basis", "unknown legal basis"},
    {"missing legal basis",
        DOC("\"registers\":{\"r\":{\"purposes\":{\"p\":{}}," FIELDS "}}",
            OK_PRINC),
        "$.registers.r.purposes.p.legal_basis", "missing"},
    {"unknown field type",
        DOC("\"registers\":{\"r\":{" PURPOSES ",\"fields\":{\"f\":{"
            "\"category\":\"c\",\"type\":\"blob\"}}}}",
            OK_PRINC),
        "$.registers.r.fields.f.type", "unknown type"},
    {"invalid JSON", "{\"controller\": {,}}", "$", "line 1, column"},
    {"invalid JSON truncated", "{\"controller\": {", "$", "end of input"},
    {"empty document", "", "$", "invalid JSON"},
};

static void
test_bad(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const struct bad *b = &bad_cases[i];
		pol_policy *p = (pol_policy *)&p; /* must be reset to NULL */
		pol_error err;

		if (pol_parse(b->json, strlen(b->json), &p, &err) != -1)
			fail_msg("case \"%s\": accepted", b->name);
		if (p != NULL)
			fail_msg("case \"%s\": *out not NULL", b->name);
		if (strcmp(err.path, b->path) != 0)
			fail_msg("case \"%s\": path %s, want %s (%s)", b->name,
			    err.path, b->path, err.reason);
		if (strstr(err.reason, b->reason) == NULL)
			fail_msg("case \"%s\": reason \"%s\", want \"%s\"",
			    b->name, err.reason, b->reason);
	}
}

/* Error text names schema keys and policy names, never other values. */
static void
test_no_values_in_errors(void **state)
{
	static const char *const docs[] = {
	    DOC("\"registers\":{\"r\":{\"purposes\":{\"p\":{\"legal_basis\":"
	        "\"SECRET value\"}}," FIELDS "}}",
	        OK_PRINC),
	    DOC(REG(""), PRINC("\"a\":{\"key\":\"SECRET\"}")),
	    DOC(REG(",\"transfer\":{\"allowed_regions\":[\"SECRET x\"]}"),
	        OK_PRINC),
	    "{\"SECRET\": nonsense}",
	    "{\"a\":\"SECRET\",\"a\":1}",
	};
	size_t i;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		pol_policy *p;
		pol_error err;

		assert_int_equal(
		    pol_parse(docs[i], strlen(docs[i]), &p, &err), -1);
		if (strstr(err.reason, "SECRET") || strstr(err.path, "SECRET"))
			fail_msg("doc %zu leaks a value: %s: %s", i, err.path,
			    err.reason);
	}
}

/* Too many purposes or fields for the bit sets is refused, not truncated. */
static void
test_limits(void **state)
{
	char buf[16384], *q = buf;
	pol_policy *p;
	pol_error err;
	int i;

	q += sprintf(q, "{" CONTROLLER ",\"registers\":{\"r\":{\"purposes\":{");
	for (i = 0; i <= POL_MAX_PURPOSES; i++)
		q += sprintf(q, "%s\"p%d\":{\"legal_basis\":\"consent\"}",
		    i ? "," : "", i);
	q += sprintf(q, "}," FIELDS "}},\"principals\":{}}");
	assert_int_equal(pol_parse(buf, strlen(buf), &p, &err), -1);
	assert_string_equal(err.path, "$.registers.r.purposes");
	assert_non_null(strstr(err.reason, "more than 64"));

	/* Exactly the maximum is fine, and the last index is 63. */
	q = strstr(buf, ",\"p64\"");
	strcpy(q, "}," FIELDS "}},\"principals\":{}}");
	p = parse_ok(buf);
	assert_int_equal(p->registers[0].npurposes, POL_MAX_PURPOSES);
	assert_int_equal(p->registers[0].purposes[63].index, 63);
	pol_free(&p);
}

/* The length argument is honoured: no reliance on a terminating NUL. */
static void
test_length(void **state)
{
	const char *doc = DOC(REG(""), OK_PRINC) "garbage";
	pol_policy *p;
	pol_error err;

	assert_int_equal(pol_parse(doc, strlen(doc) - 7, &p, &err), 0);
	pol_free(&p);
	assert_int_equal(pol_parse(doc, strlen(doc), &p, &err), -1);
	assert_string_equal(err.path, "$");
	assert_int_equal(pol_parse(doc, strlen(doc), &p, NULL), -1);
	assert_null(p);
	assert_int_equal(pol_parse(NULL, 0, &p, &err), -1);
}

static void
test_duration(void **state)
{
	static const struct {
		const char *s;
		int64_t want; /* -1 = rejected */
	} cases[] = {
	    {"1 second", 1},
	    {"90 seconds", 90},
	    {"1 minute", 60},
	    {"2 hours", 7200},
	    {"30 days", 30 * 86400LL},
	    {"1 day", 86400},
	    {"2 weeks", 14 * 86400LL},
	    {"24 months", 24 * 30 * 86400LL},
	    {"1 month", 30 * 86400LL},
	    {"6 years", 6 * 365 * 86400LL},
	    {"1 year", 365 * 86400LL},
	    {"3 year", 3 * 365 * 86400LL},
	    {"1000 years", 1000 * 365 * 86400LL},
	    {"1001 years", -1},
	    {"31536000000 seconds", 31536000000LL},
	    {"31536000001 seconds", -1},
	    {"18446744073710 seconds", -1}, /* wrapped to 0.45 s in µs */
	    {"9223372036854775807 seconds", -1},
	    {"9223372036854775808 seconds", -1},
	    {"292471208678 years", -1},
	    {"0 days", -1},
	    {"-1 days", -1},
	    {"+1 days", -1},
	    {"01 days", -1},
	    {"1.5 days", -1},
	    {"1days", -1},
	    {"1  days", -1},
	    {" 1 day", -1},
	    {"1 day ", -1},
	    {"1 dayss", -1},
	    {"1 Days", -1},
	    {"1 fortnight", -1},
	    {"days", -1},
	    {"", -1},
	};
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = pol_duration_parse(cases[i].s, &v);

		if (cases[i].want < 0 && rc != -1)
			fail_msg("\"%s\" accepted", cases[i].s);
		if (cases[i].want >= 0 && (rc != 0 || v != cases[i].want))
			fail_msg("\"%s\": rc %d", cases[i].s, rc);
	}
	assert_int_equal(pol_duration_parse(NULL, &v), -1);
}

static void
test_names(void **state)
{
	assert_true(pol_name_valid("a"));
	assert_true(pol_name_valid("Customer_register-2.v1"));
	assert_true(pol_name_valid("a23456789012345678901234567890123456789012"
	                           "3456789012345678901234"));
	assert_false(pol_name_valid("a23456789012345678901234567890123456789012"
	                            "34567890123456789012345"));
	assert_false(pol_name_valid(""));
	assert_false(pol_name_valid(NULL));
	assert_false(pol_name_valid("a b"));
	assert_false(pol_name_valid("*"));
	assert_false(pol_name_valid("\xc3\xa4"));
	assert_false(pol_name_valid("a/b"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example),
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_regions),
	    cmocka_unit_test(test_grant_bits),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_no_values_in_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_length),
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
