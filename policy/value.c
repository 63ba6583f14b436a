/*
 * value.c - check a value against its field's declared type before it is
 * stored, and find Finnish personal identity codes (HETU) in free text.
 *
 * The notice promises that identity codes are avoided, so every string-typed
 * value (string, text, email, phone) that contains one is refused; a field
 * must opt in to hold them. Reasons given back never quote the value: they
 * end up in replies and logs.
 */
#include <stdio.h>
#include <string.h>

#include "policy.h"

#define STRING_MAX 1024
#define TEXT_MAX   65536
#define BYTES_MAX  65536
#define EMAIL_MAX  254
#define PHONE_MAX  64

enum utf8_result { U_OK, U_INVALID, U_CONTROL };

static bool
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(uint8_t c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int days[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12)
		return 0;
	return m == 2 && leap(y) ? 29 : days[m - 1];
}

/* Value of n ASCII digits at s, or -1 if any is not a digit. */
static int
digits(const uint8_t *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

size_t
pol_utf8_char(const uint8_t *s, size_t len, uint32_t *cp)
{
	size_t n, k;
	uint32_t c, min;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 1, c = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 2, c = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 3, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len <= n)
		return 0;
	for (k = 1; k <= n; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[k] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n + 1;
}

/*
 * Validate UTF-8 strictly (pol_utf8_char) and look for control characters,
 * C0, DEL and C1 alike; a text field may hold tabs and line breaks (CR too,
 * since web forms send CRLF). Returns the first problem met.
 */
static enum utf8_result
utf8_scan(const uint8_t *s, size_t len, bool text)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = pol_utf8_char(s + i, len - i, &cp)) == 0)
			return U_INVALID;
		if (cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    (cp < 0x20 &&
		        !(text && (cp == '\t' || cp == '\n' || cp == '\r'))))
			return U_CONTROL;
		i += n;
	}
	return U_OK;
}

static uint8_t
upper(uint8_t c)
{
	return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c;
}

/*
 * The HETU check character is DDMMYYNNN modulo 31 looked up in this table.
 * People type codes in lower case too, so the century sign and the check
 * character match in either case. Individual numbers 900-999 are temporary
 * codes, identity codes all the same; 000 and 001 are never issued. A match
 * must be a whole token (see pol_contains_hetu) so that a long product code
 * containing the right digits is not mistaken for one.
 */
static bool
hetu_at(const uint8_t *s)
{
	static const char checks[] = "0123456789ABCDEFHJKLMNPRSTUVWXY";
	uint8_t sign = upper(s[6]);
	int dd, mm, yy, nnn, year;
	long n;

	if ((dd = digits(s, 2)) < 0 || (mm = digits(s + 2, 2)) < 0 ||
	    (yy = digits(s + 4, 2)) < 0 || (nnn = digits(s + 7, 3)) < 0)
		return false;
	if (sign == '+')
		year = 1800 + yy;
	else if (memchr("-YXWVU", sign, 6) != NULL)
		year = 1900 + yy;
	else if (memchr("ABCDEF", sign, 6) != NULL)
		year = 2000 + yy;
	else
		return false;
	if (dd < 1 || dd > days_in_month(year, mm))
		return false;
	if (nnn < 2)
		return false;
	n = ((long)dd * 10000 + mm * 100 + yy) * 1000 + nnn;
	return upper(s[10]) == (uint8_t)checks[n % 31];
}

bool
pol_contains_hetu(const uint8_t *s, size_t len)
{
	size_t i;

	if (s == NULL)
		return false;
	for (i = 0; i + 11 <= len; i++) {
		if (i > 0 && is_alnum(s[i - 1]))
			continue;
		if (i + 11 < len && is_alnum(s[i + 11]))
			continue;
		if (hetu_at(s + i))
			return true;
	}
	return false;
}

/* Optional '-', then 1..19 digits, and the result fits in int64. */
static bool
check_integer(const uint8_t *v, size_t len)
{
	static const char max[] = "9223372036854775807";
	bool neg = len > 0 && v[0] == '-';
	size_t i, n = len - (neg ? 1 : 0);
	const uint8_t *d = v + (neg ? 1 : 0);
	int cmp;

	if (n < 1 || n > 19)
		return false;
	for (i = 0; i < n; i++)
		if (!is_digit(d[i]))
			return false;
	if (n < 19)
		return true;
	cmp = memcmp(d, max, 19);
	/* INT64_MIN's magnitude is one more than INT64_MAX. */
	return cmp <= 0 || (neg && memcmp(d, "9223372036854775808", 19) == 0);
}

/*
 * A deliberately plain address check: one '@', something before it, and a
 * domain of non-empty dot-separated labels. Full RFC 5322 is not the point;
 * catching a name or a phone number typed into the email field is.
 */
static bool
check_email(const uint8_t *v, size_t len)
{
	const uint8_t *at = NULL;
	size_t i, dom, dots = 0;

	for (i = 0; i < len; i++) {
		if (v[i] <= 0x20 || v[i] == 0x7f)
			return false;
		if (v[i] == '@') {
			if (at != NULL)
				return false;
			at = v + i;
		}
	}
	if (at == NULL || at == v)
		return false;
	dom = (size_t)(at - v) + 1;
	if (dom >= len || v[dom] == '.' || v[len - 1] == '.')
		return false;
	for (i = dom; i < len; i++) {
		if (v[i] != '.')
			continue;
		if (v[i - 1] == '.')
			return false;
		dots++;
	}
	return dots > 0 && utf8_scan(v, len, false) == U_OK;
}

/* Optional leading '+', then digits with spaces, hyphens or parentheses as
 * people write them; 5 to 20 digits in all. */
static bool
check_phone(const uint8_t *v, size_t len)
{
	size_t i = 0, ndig = 0;

	if (v[0] == '+')
		i++;
	for (; i < len; i++) {
		if (is_digit(v[i]))
			ndig++;
		else if (v[i] != ' ' && v[i] != '-' && v[i] != '(' &&
		         v[i] != ')')
			return false;
	}
	return ndig >= 5 && ndig <= 20;
}

/* YYYY-MM-DD naming a day that exists (years 0001-9999). */
static bool
check_date(const uint8_t *v, size_t len)
{
	int y, m, d;

	if (len != 10 || v[4] != '-' || v[7] != '-')
		return false;
	if ((y = digits(v, 4)) < 1 || (m = digits(v + 5, 2)) < 0 ||
	    (d = digits(v + 8, 2)) < 0)
		return false;
	return d >= 1 && d <= days_in_month(y, m);
}

static int
reject(char *why, size_t whylen, const char *reason)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", reason);
	return -1;
}

/* Shared by string and text: encoding and control characters. */
static int
check_chars(const uint8_t *v, size_t len, bool text, char *why, size_t whylen)
{
	switch (utf8_scan(v, len, text)) {
	case U_INVALID:
		return reject(why, whylen, "not valid UTF-8");
	case U_CONTROL:
		return reject(why, whylen, "contains a control character");
	case U_OK:
		break;
	}
	return 0;
}

/* The types whose values people type: all but integer, date and bytes. */
static bool
string_typed(pol_ftype t)
{
	return t == POL_FT_STRING || t == POL_FT_TEXT || t == POL_FT_EMAIL ||
	       t == POL_FT_PHONE;
}

/* Longest value of each type; 0 for types without a length limit of their
 * own (integer and date are bounded by their syntax). */
static size_t
max_len(pol_ftype t)
{
	switch (t) {
	case POL_FT_STRING:
		return STRING_MAX;
	case POL_FT_TEXT:
		return TEXT_MAX;
	case POL_FT_EMAIL:
		return EMAIL_MAX;
	case POL_FT_PHONE:
		return PHONE_MAX;
	case POL_FT_BYTES:
		return BYTES_MAX;
	case POL_FT_INTEGER:
	case POL_FT_DATE:
		break;
	}
	return 0;
}

/*
 * Length first (it bounds the scans), then the identity code, then the
 * type's own syntax. The identity code comes before the syntax so that an
 * email or phone value holding one is refused for what matters: an address
 * like "131052-308t@example.fi" is a well-formed email, and "200490-3311"
 * a well-formed phone number, and either would otherwise be stored.
 */
int
pol_value_check(
    const pol_field *f, const uint8_t *v, size_t len, char *why, size_t whylen)
{
	size_t max;

	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (f == NULL)
		return reject(why, whylen, "unknown field");
	if (v == NULL && len > 0)
		return reject(why, whylen, "no value");
	if (len == 0)
		return f->type == POL_FT_BYTES ? 0
		                               : reject(why, whylen, "empty");
	if ((max = max_len(f->type)) > 0 && len > max)
		return reject(why, whylen, "too long");
	if (string_typed(f->type) && !f->allow_identity_code &&
	    pol_contains_hetu(v, len))
		return reject(why, whylen, "contains a personal identity code");

	switch (f->type) {
	case POL_FT_STRING:
		return check_chars(v, len, false, why, whylen);
	case POL_FT_TEXT:
		return check_chars(v, len, true, why, whylen);
	case POL_FT_EMAIL:
		if (!check_email(v, len))
			return reject(why, whylen, "not an email address");
		return 0;
	case POL_FT_PHONE:
		if (!check_phone(v, len))
			return reject(why, whylen, "not a phone number");
		return 0;
	case POL_FT_INTEGER:
		if (!check_integer(v, len))
			return reject(why, whylen, "not an integer");
		return 0;
	case POL_FT_DATE:
		if (!check_date(v, len))
			return reject(
			    why, whylen, "not an ISO date (YYYY-MM-DD)");
		return 0;
	case POL_FT_BYTES:
		return 0;
	}
	return reject(why, whylen, "unknown field type");
}
