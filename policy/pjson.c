/*
 * pjson.c - reading a policy document: each member fetched with the JSON
 * type it must have, every problem reported with the member's JSON path;
 * and the small formats inside strings (names, durations, Z85 keys).
 *
 * Error text names schema keys and policy names only, never other values
 * from the document: a key that is not a valid name is not copied into a
 * path, and jansson's own messages (which quote the input) are rebuilt.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

int
pj_fail(struct ctx *c, const char *path, const char *fmt, ...)
{
	va_list ap;

	if (c->err == NULL)
		return -1;
	snprintf(c->err->path, sizeof(c->err->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(c->err->reason, sizeof(c->err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

/* The same, at member key of path, entry i of path, or entry i of member
 * key of path. Building a path costs
 * a formatted print, and a parse visits every member, so the hot paths
 * build one only when they fail. */
int
pj_fail_key(
    struct ctx *c, const char *path, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (c->err == NULL)
		return -1;
	pj_path_key(c->err->path, path, key);
	va_start(ap, fmt);
	vsnprintf(c->err->reason, sizeof(c->err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

int
pj_fail_entry(struct ctx *c, const char *path, const char *key, size_t i,
    const char *fmt, ...)
{
	char sub[PATHLEN];
	va_list ap;

	if (c->err == NULL)
		return -1;
	pj_path_key(sub, path, key);
	pj_path_idx(c->err->path, sub, i);
	va_start(ap, fmt);
	vsnprintf(c->err->reason, sizeof(c->err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

int
pj_fail_idx(struct ctx *c, const char *path, size_t i, const char *fmt, ...)
{
	va_list ap;

	if (c->err == NULL)
		return -1;
	pj_path_idx(c->err->path, path, i);
	va_start(ap, fmt);
	vsnprintf(c->err->reason, sizeof(c->err->reason), fmt, ap);
	va_end(ap);
	return -1;
}

bool
pol_name_valid(const char *s)
{
	size_t n;

	if (s == NULL)
		return false;
	for (n = 0; s[n] != '\0'; n++) {
		char ch = s[n];

		if (n >= POL_MAX_NAME)
			return false;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		        (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
		        ch == '-'))
			return false;
	}
	return n > 0;
}

/* Index of s in a NULL-terminated table, or -1. */
int
pj_lookup(const char *const *table, const char *s)
{
	int i;

	for (i = 0; table[i] != NULL; i++)
		if (strcmp(table[i], s) == 0)
			return i;
	return -1;
}

/* Paths are far shorter than PATHLEN with names capped at POL_MAX_NAME, but
 * a cut one is marked rather than left looking complete. */
static void
path_fix(char *out, int n)
{
	if (n < 0 || (size_t)n >= PATHLEN)
		memcpy(out + PATHLEN - 4, "...", 4);
}

/*
 * Path of a member. Names may contain '.', which would make "$.a.b" ambiguous,
 * so such names use the bracket form. A key that is not a valid name is not
 * copied into the path at all (it could be anything); callers report it
 * against the parent.
 */
void
pj_path_key(char *out, const char *base, const char *key)
{
	int n;

	if (!pol_name_valid(key))
		n = snprintf(out, PATHLEN, "%s", base);
	else if (strchr(key, '.') != NULL)
		n = snprintf(out, PATHLEN, "%s[\"%s\"]", base, key);
	else
		n = snprintf(out, PATHLEN, "%s.%s", base, key);
	path_fix(out, n);
}

void
pj_path_idx(char *out, const char *base, size_t i)
{
	path_fix(out, snprintf(out, PATHLEN, "%s[%zu]", base, i));
}

static const char *
want_name(enum want w)
{
	switch (w) {
	case W_STR:
		return "a string";
	case W_BOOL:
		return "a boolean";
	case W_OBJ:
		return "an object";
	case W_ARR:
		return "an array";
	}
	return "?";
}

static bool
is_want(const json_t *j, enum want w)
{
	switch (w) {
	case W_STR:
		return json_is_string(j);
	case W_BOOL:
		return json_is_boolean(j);
	case W_OBJ:
		return json_is_object(j);
	case W_ARR:
		return json_is_array(j);
	}
	return false;
}

/* Reject any key of obj not in the allowed list: a typo in a policy must not
 * silently drop a rule. */
int
pj_check_keys(
    struct ctx *c, const char *path, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	char sub[PATHLEN];

	json_object_foreach(obj, key, v)
	{
		if (pj_lookup(allowed, key) >= 0)
			continue;
		if (!pol_name_valid(key))
			return pj_fail(c, path, "unknown key");
		pj_path_key(sub, path, key);
		return pj_fail(c, sub, "unknown key \"%s\"", key);
	}
	return 0;
}

/*
 * Fetch obj[key] and check its JSON type. An absent optional member gives
 * *out = NULL and 0; an absent required one is an error.
 */
int
pj_get(struct ctx *c, const char *path, json_t *obj, const char *key,
    enum want w, bool required, json_t **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (v == NULL) {
		if (required)
			return pj_fail_key(c, path, key, "missing (required)");
		return 0;
	}
	if (!is_want(v, w))
		return pj_fail_key(c, path, key, "expected %s", want_name(w));
	*out = v;
	return 0;
}

int
pj_get_str(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char **out)
{
	json_t *v;

	*out = NULL;
	if (pj_get(c, path, obj, key, W_STR, required, &v) == -1)
		return -1;
	if (v != NULL)
		*out = json_string_value(v);
	return 0;
}

int
pj_get_bool(
    struct ctx *c, const char *path, json_t *obj, const char *key, bool *out)
{
	json_t *v;

	*out = false;
	if (pj_get(c, path, obj, key, W_BOOL, false, &v) == -1)
		return -1;
	if (v != NULL)
		*out = json_is_true(v);
	return 0;
}

/* A member that must be a policy name. */
int
pj_get_name(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char **out)
{
	if (pj_get_str(c, path, obj, key, required, out) == -1)
		return -1;
	if (*out != NULL && !pol_name_valid(*out))
		return pj_fail_key(
		    c, path, key, "not a valid name ([A-Za-z0-9_.-]{1,64})");
	return 0;
}

/* A member that must be one of a fixed set of words; gives its index. */
int
pj_get_enum(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char *const *table, const char *what, int *out)
{
	const char *s;

	*out = -1;
	if (pj_get_str(c, path, obj, key, required, &s) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if ((*out = pj_lookup(table, s)) < 0) {
		if (pol_name_valid(s))
			return pj_fail_key(
			    c, path, key, "unknown %s \"%s\"", what, s);
		return pj_fail_key(c, path, key, "unknown %s", what);
	}
	return 0;
}

/* A member that must be a non-empty array of strings. */
int
pj_get_list(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, json_t **out)
{
	size_t i;
	json_t *v;

	if (pj_get(c, path, obj, key, W_ARR, required, out) == -1)
		return -1;
	if (*out == NULL)
		return 0;
	if (json_array_size(*out) == 0)
		return pj_fail_key(c, path, key, "must not be empty");
	json_array_foreach(*out, i, v)
	{
		if (!json_is_string(v))
			return pj_fail_entry(
			    c, path, key, i, "expected a string");
	}
	return 0;
}

int
pj_sdup(struct ctx *c, const char *path, const char *s, char **out)
{
	if (s == NULL) {
		*out = NULL;
		return 0;
	}
	if ((*out = strdup(s)) == NULL)
		return pj_fail(c, path, "out of memory");
	return 0;
}

/*
 * Decode 40 characters of Z85 into a 32-byte key. Done here rather than with
 * zmq_z85_decode so that the policy library needs no ZeroMQ, and so that
 * out-of-range groups are refused instead of wrapping.
 */
bool
pj_z85_key(const char *s, uint8_t key[POL_KEY_BYTES])
{
	size_t i, j;

	if (strlen(s) != POL_KEY_BYTES * 5 / 4)
		return false;
	for (i = 0; i < POL_KEY_BYTES / 4; i++) {
		uint64_t v = 0;

		for (j = 0; j < 5; j++) {
			const char *q = strchr(z85_chars, s[i * 5 + j]);

			if (q == NULL)
				return false;
			v = v * 85 + (uint64_t)(q - z85_chars);
		}
		if (v > UINT32_MAX)
			return false;
		key[i * 4 + 0] = (uint8_t)(v >> 24);
		key[i * 4 + 1] = (uint8_t)(v >> 16);
		key[i * 4 + 2] = (uint8_t)(v >> 8);
		key[i * 4 + 3] = (uint8_t)v;
	}
	return true;
}

/*
 * Durations are written for people ("24 months"), so the grammar is small and
 * exact: no signs, no leading zeros, one space, a known unit. Months and years
 * are fixed lengths here because retention is about elapsed time, not
 * calendars (retention.c counts a rule's spans on the calendar). Zero, the
 * digit 0 alone, only where the caller allows it: a zero audit retention or
 * legal minimum would keep nothing.
 */
int
pj_duration(const char *s, bool zero, int64_t *out)
{
	static const struct {
		const char *unit;
		int64_t secs;
	} units[] = {
	    {"second", 1},
	    {"minute", 60},
	    {"hour", 3600},
	    {"day", 86400},
	    {"week", 7 * 86400},
	    {"month", 30 * 86400},
	    {"year", 365 * 86400},
	};
	int64_t n = 0;
	size_t i, ulen;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9')
		return -1;
	if (*p == '0') {
		if (!zero || p[1] != ' ')
			return -1;
		p++;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (INT64_MAX - (*p - '0')) / 10)
			return -1;
		n = n * 10 + (*p - '0');
	}
	if (*p++ != ' ')
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		ulen = strlen(units[i].unit);
		if (strncmp(p, units[i].unit, ulen) != 0)
			continue;
		if (!(p[ulen] == '\0' ||
		        (p[ulen] == 's' && p[ulen + 1] == '\0')))
			continue;
		/* Bounded so that later arithmetic (microseconds, dates)
		 * cannot overflow: a wrapped retention would prune at once. */
		if (n > POL_MAX_DURATION_S / units[i].secs)
			return -1;
		if (out != NULL)
			*out = n * units[i].secs;
		return 0;
	}
	return -1;
}

int
pol_duration_parse(const char *s, int64_t *out)
{
	return pj_duration(s, false, out);
}

int
pj_get_duration(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool zero, int64_t *out)
{
	const char *s;
	char sub[PATHLEN];

	*out = -1;
	if (pj_get_str(c, path, obj, key, false, &s) == -1)
		return -1;
	if (s == NULL || pj_duration(s, zero, out) == 0)
		return 0;
	*out = -1;
	pj_path_key(sub, path, key);
	if (!zero && pj_duration(s, true, NULL) == 0)
		return pj_fail(c, sub, "must be longer than zero");
	return pj_fail(c, sub,
	    "not a duration (e.g. \"30 days\"; units second, minute, "
	    "hour, day, week, month, year; at most 1000 years)");
}

/*
 * jansson's own error text quotes the input near the error, which may be
 * anything; so the reason is rebuilt from the error code and position.
 */
int
pj_fail_json(struct ctx *c, const json_error_t *je)
{
	const char *what;

	switch (json_error_code(je)) {
	case json_error_duplicate_key:
		what = "duplicate key";
		break;
	case json_error_invalid_utf8:
		what = "invalid UTF-8";
		break;
	case json_error_premature_end_of_input:
		what = "unexpected end of input";
		break;
	case json_error_end_of_input_expected:
		what = "trailing data after the document";
		break;
	case json_error_stack_overflow:
		what = "nested too deeply";
		break;
	case json_error_null_character:
	case json_error_null_byte_in_key:
		what = "NUL character";
		break;
	case json_error_numeric_overflow:
		what = "number out of range";
		break;
	case json_error_out_of_memory:
		what = "out of memory";
		break;
	default:
		what = "syntax error";
		break;
	}
	return pj_fail(c, "$", "invalid JSON: %s at line %d, column %d", what,
	    je->line, je->column);
}
