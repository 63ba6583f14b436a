/*
 * test_value.c - value checks by field type, and the Finnish personal
 * identity code (HETU) detector that keeps identity codes out of free text.
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

/*
 * An independent HETU builder for the tests: the check character is the
 * nine-digit number DDMMYYNNN modulo 31, looked up in the official table of
 * digits and letters without G, I, O, Q, Z.
 */
static void
make_hetu(char out[12], int dd, int mm, int yy, char sign, int nnn)
{
	const char *table = "0123456789ABCDEFHJKLMNPRSTUVWXY";
	unsigned long n;

	n = (unsigned long)dd * 10000000UL + (unsigned long)mm * 100000UL +
	    (unsigned long)yy * 1000UL + (unsigned long)nnn;
	snprintf(out, 12, "%02d%02d%02d%c%03d%c", dd, mm, yy, sign, nnn,
	    table[n % 31]);
}

static bool
hetu(const char *s)
{
	return pol_contains_hetu((const uint8_t *)s, strlen(s));
}

static void
test_hetu_known(void **state)
{
	char h[12];

	/* The example used by the Digital and Population Data Services
	 * Agency; and our builder agrees with it. */
	assert_true(hetu("131052-308T"));
	make_hetu(h, 13, 10, 52, '-', 308);
	assert_string_equal(h, "131052-308T");

	assert_false(hetu("131052-308U")); /* wrong check character */
	assert_false(hetu("131052-308t")); /* lowercase does not count */
	assert_false(hetu("131052a308T")); /* lowercase century sign */
	assert_false(hetu("131052-308"));  /* too short */
	assert_false(hetu(""));
	assert_false(pol_contains_hetu(NULL, 11));
}

static void
test_hetu_centuries(void **state)
{
	static const char signs[] = "+-YXWVUABCDEF";
	char h[12];
	size_t i;

	for (i = 0; signs[i] != '\0'; i++) {
		make_hetu(h, 1, 1, 99, signs[i], 123);
		if (!hetu(h))
			fail_msg("sign %c: %s not found", signs[i], h);
		/* A wrong check character is not an identity code. */
		h[10] = h[10] == 'A' ? 'B' : 'A';
		if (hetu(h))
			fail_msg("sign %c: %s matched", signs[i], h);
		make_hetu(h, 1, 1, 99, signs[i], 123);
		h[6] = 'Z';
		assert_false(hetu(h));
	}

	/* 29 February exists in 2000 (sign A) but not in 1900 (-) or 1800
	 * (+); 2004 has it in every century. */
	make_hetu(h, 29, 2, 0, 'A', 200);
	assert_true(hetu(h));
	make_hetu(h, 29, 2, 0, '-', 200);
	assert_false(hetu(h));
	make_hetu(h, 29, 2, 0, '+', 200);
	assert_false(hetu(h));
	make_hetu(h, 29, 2, 4, 'Y', 200);
	assert_true(hetu(h));
	make_hetu(h, 29, 2, 4, '+', 200);
	assert_true(hetu(h));
}

static void
test_hetu_ranges(void **state)
{
	char h[12];

	make_hetu(h, 1, 1, 80, '-', 2);
	assert_true(hetu(h));
	make_hetu(h, 1, 1, 80, '-', 899);
	assert_true(hetu(h));
	make_hetu(h, 1, 1, 80, '-', 1); /* individual numbers 002-899 */
	assert_false(hetu(h));
	make_hetu(h, 1, 1, 80, '-', 0);
	assert_false(hetu(h));
	make_hetu(h, 1, 1, 80, '-', 900); /* temporary identifiers */
	assert_false(hetu(h));
	make_hetu(h, 1, 1, 80, '-', 999);
	assert_false(hetu(h));
	make_hetu(h, 0, 1, 80, '-', 123);
	assert_false(hetu(h));
	make_hetu(h, 32, 1, 80, '-', 123);
	assert_false(hetu(h));
	make_hetu(h, 31, 4, 80, '-', 123); /* 31 April */
	assert_false(hetu(h));
	make_hetu(h, 30, 4, 80, '-', 123);
	assert_true(hetu(h));
	make_hetu(h, 1, 13, 80, '-', 123);
	assert_false(hetu(h));
	make_hetu(h, 1, 0, 80, '-', 123);
	assert_false(hetu(h));
}

static void
test_hetu_in_text(void **state)
{
	assert_true(hetu("Hetu: 131052-308T, kiitos"));
	assert_true(hetu("131052-308T"));
	assert_true(hetu("(131052-308T)"));
	assert_true(hetu("line one\n131052-308T\n"));
	assert_true(hetu("puhelin 040 123 ja 131052-308T."));
	assert_true(hetu("\xc3\xa4 131052-308T \xc3\xb6"));
	assert_true(hetu("x131052-308T 131052-308T"));

	/* Part of a longer alphanumeric token: not an identity code. */
	assert_false(hetu("X131052-308T"));
	assert_false(hetu("131052-308TX"));
	assert_false(hetu("1131052-308T"));
	assert_false(hetu("131052-308T1"));
	assert_false(hetu("ord-131052-308Tb"));
}

static void
test_hetu_many(void **state)
{
	int dd, mm, nnn;
	char h[12];

	/* Sweep dates and individual numbers against the builder. */
	for (mm = 1; mm <= 12; mm++)
		for (dd = 1; dd <= 28; dd += 9)
			for (nnn = 2; nnn <= 899; nnn += 97) {
				make_hetu(h, dd, mm, 71, '-', nnn);
				if (!hetu(h))
					fail_msg("%s not found", h);
			}
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
	    cmocka_unit_test(test_hetu_centuries),
	    cmocka_unit_test(test_hetu_ranges),
	    cmocka_unit_test(test_hetu_in_text),
	    cmocka_unit_test(test_hetu_many),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_lengths),
	    cmocka_unit_test(test_why),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
