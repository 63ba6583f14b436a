/*
 * test_value.c - value checks by field type, and the Finnish personal
 * identity code (HETU) detector that keeps identity codes out of every
 * string-typed value: anchored on test vectors from an independent
 * implementation, not on a copy of privd's own table.
 */
#include <ctype.h>
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

static bool
hetu(const char *s)
{
	return pol_contains_hetu((const uint8_t *)s, strlen(s));
}

/*
 * Codes written out by hand (the check characters were computed once,
 * outside privd), for the rules the external vectors below do not pin down:
 * dates that do not exist, and the individual numbers that are never
 * issued.
 */
static void
test_hetu_known(void **state)
{
	/* The example of the Digital and Population Data Services Agency. */
	assert_true(hetu("131052-308T"));
	assert_true(hetu("131052-308t"));  /* people type lower case too */
	assert_true(hetu("131052a308t"));  /* a: the 2000s, 13.10.2052 */
	assert_false(hetu("131052-308U")); /* wrong check character */
	assert_false(hetu("131052-308u"));
	assert_false(hetu("131052Z308T")); /* no such century sign */
	assert_false(hetu("131052-308"));  /* too short */
	assert_false(hetu(""));
	assert_false(pol_contains_hetu(NULL, 11));

	/* 29 February exists in 2000 (sign A) but not in 1900 (-) or 1800
	 * (+); 2004 has it in every century. */
	assert_true(hetu("290200A200S"));
	assert_false(hetu("290200-200S"));
	assert_false(hetu("290200+200S"));
	assert_true(hetu("290204Y200T"));
	assert_true(hetu("290204+200T"));
}

static void
test_hetu_ranges(void **state)
{
	assert_true(hetu("010180-0025")); /* individual number 002 */
	assert_true(hetu("010180-8993")); /* 899 */
	assert_true(hetu("010180-9004")); /* 900: a temporary code */
	assert_true(hetu("010180-999A")); /* 999 */
	assert_true(hetu("010180-999a"));
	assert_false(hetu("010180-0014")); /* 001 is never issued */
	assert_false(hetu("010180-0003")); /* nor 000 */
	assert_false(hetu("000180-123D")); /* day 0 */
	assert_false(hetu("320180-1232")); /* day 32 */
	assert_false(hetu("310480-123U")); /* 31 April */
	assert_true(hetu("300480-1236"));
	assert_false(hetu("011380-123R")); /* month 13 */
	assert_false(hetu("010080-1238")); /* month 0 */
}

static void
test_hetu_in_text(void **state)
{
	assert_true(hetu("Hetu: 131052-308T, kiitos"));
	assert_true(hetu("hetu: 131052-308t, kiitos"));
	assert_true(hetu("131052-308T"));
	assert_true(hetu("(131052-308T)"));
	assert_true(hetu("line one\n131052-308T\n"));
	assert_true(hetu("puhelin 040 123 ja 131052-308T."));
	assert_true(hetu("\xc3\xa4 131052-308T \xc3\xb6"));
	assert_true(hetu("x131052-308T 131052-308T"));
	assert_true(hetu("131052-308t@example.fi"));
	assert_true(hetu("matti.131052-308T@example.fi"));

	/* Part of a longer alphanumeric token: not an identity code. */
	assert_false(hetu("X131052-308T"));
	assert_false(hetu("x131052-308t"));
	assert_false(hetu("131052-308TX"));
	assert_false(hetu("1131052-308T"));
	assert_false(hetu("131052-308T1"));
	assert_false(hetu("ord-131052-308Tb"));
}

/* The test vectors: tests/unit/data/hetu/vectors.json, a verbatim copy of
 * ../shared/hetu/vectors.json, made by an independent implementation (npm
 * finnish-ssn 2.1.2); meson passes its path in HETU_VECTORS. */
static json_t *
load_vectors(void)
{
	const char *path = getenv("HETU_VECTORS");
	json_error_t je;
	json_t *v;

	if (path == NULL)
		path = "tests/unit/data/hetu/vectors.json";
	if ((v = json_load_file(path, 0, &je)) == NULL)
		fail_msg("cannot read %s (set HETU_VECTORS): line %d", path,
		    je.line);
	return v;
}

static json_t *
vector_list(json_t *v, const char *name, size_t at_least)
{
	json_t *list = json_object_get(v, name);

	if (!json_is_array(list) || json_array_size(list) < at_least)
		fail_msg("vectors: \"%s\" missing or short", name);
	return list;
}

/* Check one value against a field of the given type; want NULL = accepted,
 * else the reason. */
static void
check(pol_ftype type, bool allow, const char *v, const char *want)
{
	pol_field f = {.name = "f",
	    .category = "c",
	    .type = type,
	    .allow_identity_code = allow};
	char why[128];
	int rc = pol_value_check(
	    &f, (const uint8_t *)v, strlen(v), why, sizeof(why));

	if (want == NULL && rc != 0)
		fail_msg("type %d: \"%s\" refused: %s", type, v, why);
	if (want != NULL && (rc != -1 || strcmp(why, want) != 0))
		fail_msg("type %d: \"%s\": want \"%s\", got \"%s\"", type, v,
		    want, rc == 0 ? "accepted" : why);
}

/* A code is phone-shaped if check_phone takes it: century sign '-' and a
 * digit for check character. */
static bool
phone_shaped(const char *code)
{
	return code[6] == '-' && code[10] >= '0' && code[10] <= '9';
}

static const char *const HETU = "contains a personal identity code";

/* Every way an identity code reaches privd: alone, in upper and lower case,
 * in free text, in the local part of an email address, and as a phone
 * number; refused unless the field allows identity codes. */
static void
expect_found(const char *code, size_t *phones)
{
	char lower[12], buf[128];
	size_t i;

	for (i = 0; i < 11; i++)
		lower[i] = (char)tolower((unsigned char)code[i]);
	lower[11] = '\0';
	if (!hetu(code) || !hetu(lower))
		fail_msg("%s (or %s) not found", code, lower);

	check(POL_FT_STRING, false, code, HETU);
	check(POL_FT_STRING, false, lower, HETU);
	snprintf(buf, sizeof(buf), "Asiakkaan hetu on %s, kiitos.", lower);
	check(POL_FT_TEXT, false, buf, HETU);
	check(POL_FT_TEXT, true, buf, NULL);
	snprintf(buf, sizeof(buf), "%s@example.fi", code);
	check(POL_FT_EMAIL, false, buf, HETU);
	check(POL_FT_EMAIL, true, buf, NULL);
	snprintf(buf, sizeof(buf), "matti.%s@example.fi", lower);
	check(POL_FT_EMAIL, false, buf, HETU);
	check(POL_FT_EMAIL, true, buf, NULL);
	if (phone_shaped(code)) {
		check(POL_FT_PHONE, false, code, HETU);
		check(POL_FT_PHONE, true, code, NULL);
		snprintf(buf, sizeof(buf), "+358 %s", code);
		check(POL_FT_PHONE, false, buf, HETU);
		(*phones)++;
	}
	/* Bytes stay opaque. */
	check(POL_FT_BYTES, false, code, NULL);
}

static void
test_hetu_vectors(void **state)
{
	json_t *v = load_vectors(), *list, *e;
	char lower[12], buf[128], signs[32] = "";
	size_t i, k, phones = 0;

	list = vector_list(v, "valid", 400);
	json_array_foreach(list, i, e)
	{
		const char *code = json_string_value(e);

		assert_non_null(code);
		assert_int_equal(strlen(code), 11);
		if (strchr(signs, code[6]) == NULL)
			signs[strlen(signs)] = code[6];
		expect_found(code, &phones);
	}
	/* The vectors hold every century sign, and phone-shaped codes. */
	assert_int_equal(strlen(signs), 13);
	for (k = 0; k < 13; k++)
		assert_non_null(strchr(signs, "+-YXWVUABCDEF"[k]));
	assert_true(phones > 0);

	list = vector_list(v, "temporary_900_999", 50);
	json_array_foreach(list, i, e)
	{
		const char *code = json_string_value(e);

		assert_non_null(code);
		assert_true(code[7] == '9');
		expect_found(code, &phones);
	}

	/* A wrong check character makes it no identity code: nothing is
	 * refused for it (no false positives). */
	list = vector_list(v, "invalid_check_char", 400);
	json_array_foreach(list, i, e)
	{
		const char *code = json_string_value(e);

		assert_non_null(code);
		for (k = 0; k < 11; k++)
			lower[k] = (char)tolower((unsigned char)code[k]);
		lower[11] = '\0';
		if (hetu(code) || hetu(lower))
			fail_msg("%s matched", code);
		check(POL_FT_STRING, false, code, NULL);
		snprintf(buf, sizeof(buf), "Viite %s, kiitos.", lower);
		check(POL_FT_TEXT, false, buf, NULL);
		snprintf(buf, sizeof(buf), "%s@example.fi", lower);
		check(POL_FT_EMAIL, false, buf, NULL);
		if (phone_shaped(code))
			check(POL_FT_PHONE, false, code, NULL);
	}
	json_decref(v);
}

/* The identity code is looked for before the type's syntax, so a value that
 * holds one is refused for that whatever else is wrong with it. */
static void
test_hetu_first(void **state)
{
	check(POL_FT_PHONE, false, "131052-308T", HETU);
	check(POL_FT_PHONE, true, "131052-308T", "not a phone number");
	check(POL_FT_EMAIL, false, "131052-308T", HETU);
	check(POL_FT_EMAIL, true, "131052-308T", "not an email address");
	check(POL_FT_STRING, false, "131052-308T\n", HETU);
	check(POL_FT_STRING, true, "131052-308T\n",
	    "contains a control character");
	/* Length still comes first: it bounds the scan. */
	check(POL_FT_PHONE, false,
	    "131052-308T 131052-308T 131052-308T 131052-308T 131052-308T "
	    "131052-308T",
	    "too long");
	/* Types people do not type text into are not searched. */
	check(POL_FT_INTEGER, false, "1310523089", NULL);
	check(POL_FT_BYTES, false, "131052-308T", NULL);
}

struct vcase {
	pol_ftype type;
	bool allow_id;
	const char *v;
	size_t len;      /* 0 = strlen(v) */
	const char *why; /* NULL = accepted */
};

static const struct vcase vcases[] = {
    /* integer */
    {POL_FT_INTEGER, false, "0", 0, NULL},
    {POL_FT_INTEGER, false, "42", 0, NULL},
    {POL_FT_INTEGER, false, "-5", 0, NULL},
    {POL_FT_INTEGER, false, "9223372036854775807", 0, NULL},
    {POL_FT_INTEGER, false, "-9223372036854775808", 0, NULL},
    {POL_FT_INTEGER, false, "9223372036854775808", 0, "not an integer"},
    {POL_FT_INTEGER, false, "-9223372036854775809", 0, "not an integer"},
    {POL_FT_INTEGER, false, "12345678901234567890", 0, "not an integer"},
    {POL_FT_INTEGER, false, "-", 0, "not an integer"},
    {POL_FT_INTEGER, false, "+1", 0, "not an integer"},
    {POL_FT_INTEGER, false, "1.5", 0, "not an integer"},
    {POL_FT_INTEGER, false, " 1", 0, "not an integer"},
    {POL_FT_INTEGER, false, "1a", 0, "not an integer"},
    {POL_FT_INTEGER, false, "", 0, "empty"},
    /* email */
    {POL_FT_EMAIL, false, "a@b.fi", 0, NULL},
    {POL_FT_EMAIL, false, "matti.meikalainen+crm@example.co.uk", 0, NULL},
    {POL_FT_EMAIL, false, "\xc3\xa4iti@esimerkki.fi", 0, NULL},
    {POL_FT_EMAIL, false, "matti", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a@@b.fi", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a@b@c.fi", 0, "not an email address"},
    {POL_FT_EMAIL, false, "@b.fi", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a@bfi", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a@", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a@.fi", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a@b.", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a@b..fi", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a b@c.fi", 0, "not an email address"},
    {POL_FT_EMAIL, false, "a@b.fi\n", 0, "not an email address"},
    {POL_FT_EMAIL, false, "\xff@b.fi", 0, "not an email address"},
    {POL_FT_EMAIL, false, "", 0, "empty"},
    {POL_FT_EMAIL, false, "131052-308t@example.fi", 0,
        "contains a personal identity code"},
    {POL_FT_EMAIL, true, "131052-308t@example.fi", 0, NULL},
    /* phone */
    {POL_FT_PHONE, false, "+358 40 123 4567", 0, NULL},
    {POL_FT_PHONE, false, "040-1234567", 0, NULL},
    {POL_FT_PHONE, false, "(09) 123 456", 0, NULL},
    {POL_FT_PHONE, false, "12345", 0, NULL},
    {POL_FT_PHONE, false, "12345678901234567890", 0, NULL},
    {POL_FT_PHONE, false, "1234", 0, "not a phone number"},
    {POL_FT_PHONE, false, "123456789012345678901", 0, "not a phone number"},
    {POL_FT_PHONE, false, "+", 0, "not a phone number"},
    {POL_FT_PHONE, false, "++358401234567", 0, "not a phone number"},
    {POL_FT_PHONE, false, "040 123 4567 ext 5", 0, "not a phone number"},
    {POL_FT_PHONE, false, "040.1234567", 0, "not a phone number"},
    {POL_FT_PHONE, false, "", 0, "empty"},
    {POL_FT_PHONE, false, "200490-3311", 0,
        "contains a personal identity code"},
    {POL_FT_PHONE, true, "200490-3311", 0, NULL},
    /* date */
    {POL_FT_DATE, false, "2024-02-29", 0, NULL},
    {POL_FT_DATE, false, "2000-02-29", 0, NULL},
    {POL_FT_DATE, false, "1999-12-31", 0, NULL},
    {POL_FT_DATE, false, "0001-01-01", 0, NULL},
    {POL_FT_DATE, false, "2023-02-29", 0, "not an ISO date (YYYY-MM-DD)"},
    {POL_FT_DATE, false, "1900-02-29", 0, "not an ISO date"},
    {POL_FT_DATE, false, "2024-13-01", 0, "not an ISO date"},
    {POL_FT_DATE, false, "2024-00-10", 0, "not an ISO date"},
    {POL_FT_DATE, false, "2024-04-31", 0, "not an ISO date"},
    {POL_FT_DATE, false, "2024-01-00", 0, "not an ISO date"},
    {POL_FT_DATE, false, "2024-1-01", 0, "not an ISO date"},
    {POL_FT_DATE, false, "2024/01/01", 0, "not an ISO date"},
    {POL_FT_DATE, false, "2024-01-01T00:00", 0, "not an ISO date"},
    {POL_FT_DATE, false, "0000-01-01", 0, "not an ISO date"},
    {POL_FT_DATE, false, "", 0, "empty"},
    /* string */
    {POL_FT_STRING, false, "Matti Meik\xc3\xa4l\xc3\xa4inen", 0, NULL},
    {POL_FT_STRING, false, "\xe2\x82\xac 5 \xf0\x9f\x98\x80", 0, NULL},
    {POL_FT_STRING, false, "a\nb", 0, "contains a control character"},
    {POL_FT_STRING, false, "a\tb", 0, "contains a control character"},
    {POL_FT_STRING, false, "a\x7f", 0, "contains a control character"},
    {POL_FT_STRING, false, "a\0b", 3, "contains a control character"},
    {POL_FT_STRING, false, "\xc2\x85", 0, "contains a control character"},
    {POL_FT_STRING, false, "\xc3", 0, "not valid UTF-8"},
    {POL_FT_STRING, false, "\xc0\xaf", 0, "not valid UTF-8"},
    {POL_FT_STRING, false, "\xe0\x80\xaf", 0, "not valid UTF-8"},
    {POL_FT_STRING, false, "\xed\xa0\x80", 0, "not valid UTF-8"},
    {POL_FT_STRING, false, "\xf4\x90\x80\x80", 0, "not valid UTF-8"},
    {POL_FT_STRING, false, "\xf8\x88\x80\x80\x80", 0, "not valid UTF-8"},
    {POL_FT_STRING, false, "\x80", 0, "not valid UTF-8"},
    {POL_FT_STRING, false, "", 0, "empty"},
    {POL_FT_STRING, false, "hetu 131052-308T", 0,
        "contains a personal identity code"},
    {POL_FT_STRING, true, "hetu 131052-308T", 0, NULL},
    {POL_FT_STRING, false, "tilaus X131052-308T", 0, NULL},
    /* text */
    {POL_FT_TEXT, false, "line 1\nline 2\tcol\r\n", 0, NULL},
    {POL_FT_TEXT, false, "a\x01", 0, "contains a control character"},
    {POL_FT_TEXT, false, "a\x1b[31m", 0, "contains a control character"},
    {POL_FT_TEXT, false, "\xfe", 0, "not valid UTF-8"},
    {POL_FT_TEXT, false, "", 0, "empty"},
    {POL_FT_TEXT, false, "Soittakaa, hetuni on\n131052-308T", 0,
        "contains a personal identity code"},
    {POL_FT_TEXT, true, "Soittakaa, hetuni on\n131052-308T", 0, NULL},
    /* bytes */
    {POL_FT_BYTES, false, "", 0, NULL},
    {POL_FT_BYTES, false, "\0\xff\x01", 3, NULL},
    {POL_FT_BYTES, false, "131052-308T", 0, NULL},
};

static void
test_values(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];
		pol_field f = {.name = "f",
		    .category = "c",
		    .type = c->type,
		    .allow_identity_code = c->allow_id};
		size_t len = c->len ? c->len : strlen(c->v);
		char why[128] = "junk";
		int rc;

		rc = pol_value_check(
		    &f, (const uint8_t *)c->v, len, why, sizeof(why));
		if (c->why == NULL && rc != 0)
			fail_msg("case %zu: rejected: %s", i, why);
		if (c->why == NULL && why[0] != '\0')
			fail_msg("case %zu: why not cleared", i);
		if (c->why != NULL && rc != -1)
			fail_msg("case %zu: accepted", i);
		if (c->why != NULL && strstr(why, c->why) == NULL)
			fail_msg("case %zu: why \"%s\", want \"%s\"", i, why,
			    c->why);
	}
}

/* Length limits: at the limit accepted, one byte over refused. */
static void
test_lengths(void **state)
{
	static const struct {
		pol_ftype type;
		size_t max;
	} lim[] = {
	    {POL_FT_STRING, 1024},
	    {POL_FT_TEXT, 65536},
	    {POL_FT_BYTES, 65536},
	};
	uint8_t *buf = malloc(65537 + 1);
	char why[64];
	pol_field f = {.name = "f", .category = "c"};
	size_t i;

	assert_non_null(buf);
	memset(buf, 'a', 65537);
	for (i = 0; i < sizeof(lim) / sizeof(lim[0]); i++) {
		f.type = lim[i].type;
		assert_int_equal(
		    pol_value_check(&f, buf, lim[i].max, why, sizeof(why)), 0);
		assert_int_equal(
		    pol_value_check(&f, buf, lim[i].max + 1, why, sizeof(why)),
		    -1);
		assert_string_equal(why, "too long");
	}

	/* Email: 254 bytes in all. */
	f.type = POL_FT_EMAIL;
	memcpy(buf + 254 - 5, "@b.fi", 5);
	assert_int_equal(pol_value_check(&f, buf, 254, why, sizeof(why)), 0);
	memset(buf, 'a', 65537);
	memcpy(buf + 255 - 5, "@b.fi", 5);
	assert_int_equal(pol_value_check(&f, buf, 255, why, sizeof(why)), -1);
	assert_string_equal(why, "too long");
	free(buf);
}

/* The reason never quotes the value, and why may be NULL or tiny. */
static void
test_why(void **state)
{
	pol_field f = {.name = "f", .category = "c", .type = POL_FT_STRING};
	const char *v = "secret 131052-308T";
	char why[8];

	assert_int_equal(
	    pol_value_check(&f, (const uint8_t *)v, strlen(v), NULL, 0), -1);
	assert_int_equal(pol_value_check(&f, (const uint8_t *)v, strlen(v), why,
	                     sizeof(why)),
	    -1);
	assert_int_equal(strlen(why), sizeof(why) - 1);
	assert_int_equal(
	    pol_value_check(NULL, (const uint8_t *)v, 1, NULL, 0), -1);
	assert_int_equal(pol_value_check(&f, NULL, 0, NULL, 0), -1);
	f.type = POL_FT_BYTES;
	assert_int_equal(pol_value_check(&f, NULL, 0, NULL, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hetu_known),
	    cmocka_unit_test(test_hetu_ranges),
	    cmocka_unit_test(test_hetu_in_text),
	    cmocka_unit_test(test_hetu_vectors),
	    cmocka_unit_test(test_hetu_first),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
