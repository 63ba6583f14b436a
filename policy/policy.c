/*
 * policy.c - parse and validate a policy document into a pol_policy.
 *
 * The document comes from a policy admin and is checked completely before
 * anything uses it: every key is known, every type is right, every name that
 * refers to something refers to something declared. The first problem found
 * is reported with its JSON path; error text names schema keys and policy
 * names only, never other values from the document.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "policy.h"

#define PATHLEN sizeof(((pol_error *)0)->path)

/* The predefined region: EU-27 plus Iceland, Liechtenstein and Norway. */
static const char *const eea_countries[] = {"AT", "BE", "BG", "HR", "CY", "CZ",
    "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    NULL};

static const char *const basis_names[] = {"consent", "contract",
    "legal_obligation", "vital_interests", "public_task", "legitimate_interest",
    NULL};

static const char *const ftype_names[] = {
    "string", "text", "email", "phone", "integer", "date", "bytes", NULL};

static const char *const op_names[] = {"read", "write", "delete", NULL};
static const char *const role_names[] = {
    "auditor", "policy_admin", "subject_rights", NULL};
static const char *const from_names[] = {
    "collected", "updated", "relationship_end", "contract_end", NULL};
static const char *const action_names[] = {"delete", "anonymize", NULL};

/* Allowed keys of each object in the schema. */
static const char *const root_keys[] = {
    "controller", "regions", "audit", "registers", "principals", NULL};
static const char *const controller_keys[] = {"name", "business_id", NULL};
static const char *const audit_keys[] = {"retention", NULL};
static const char *const register_keys[] = {
    "description", "transfer", "purposes", "fields", "retention", NULL};
static const char *const transfer_keys[] = {"allowed_regions", NULL};
static const char *const purpose_keys[] = {"legal_basis", "objectable",
    "allowed_when_restricted", "description", NULL};
static const char *const field_keys[] = {"category", "type", "identifying",
    "lookup", "source", "allow_identity_code", "description", NULL};
static const char *const retention_keys[] = {
    "id", "categories", "from", "after", "action", "keep_at_least", NULL};
static const char *const principal_keys[] = {
    "key", "region", "roles", "description", "grants", NULL};
static const char *const grant_keys[] = {
    "register", "purposes", "fields", "ops", NULL};

static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/* Parse state: where errors go, and the user-defined regions (borrowed from
 * the document, which outlives the parse). */
struct ctx {
	pol_error *err;
	json_t *regions;
};

/* What a member must be; jansson has two types for booleans. */
enum want { W_STR, W_BOOL, W_OBJ, W_ARR };

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct ctx *c, const char *path, const char *fmt, ...)
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

/* Two uppercase ASCII letters: the shape of an ISO 3166-1 alpha-2 code. */
static bool
iso_code(const char *s)
{
	return s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z' &&
	       s[2] == '\0';
}

/* Index of s in a NULL-terminated table, or -1. */
static int
lookup(const char *const *table, const char *s)
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
static void
path_key(char *out, const char *base, const char *key)
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

static void
path_idx(char *out, const char *base, size_t i)
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
static int
check_keys(
    struct ctx *c, const char *path, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *v;
	char sub[PATHLEN];

	json_object_foreach(obj, key, v)
	{
		if (lookup(allowed, key) >= 0)
			continue;
		if (!pol_name_valid(key))
			return fail(c, path, "unknown key");
		path_key(sub, path, key);
		return fail(c, sub, "unknown key \"%s\"", key);
	}
	return 0;
}

/*
 * Fetch obj[key] and check its JSON type. An absent optional member gives
 * *out = NULL and 0; an absent required one is an error.
 */
static int
get(struct ctx *c, const char *path, json_t *obj, const char *key, enum want w,
    bool required, json_t **out)
{
	char sub[PATHLEN];
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	path_key(sub, path, key);
	if (v == NULL) {
		if (required)
			return fail(c, sub, "missing (required)");
		return 0;
	}
	if (!is_want(v, w))
		return fail(c, sub, "expected %s", want_name(w));
	*out = v;
	return 0;
}

static int
get_str(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char **out)
{
	json_t *v;

	*out = NULL;
	if (get(c, path, obj, key, W_STR, required, &v) == -1)
		return -1;
	if (v != NULL)
		*out = json_string_value(v);
	return 0;
}

static int
get_bool(
    struct ctx *c, const char *path, json_t *obj, const char *key, bool *out)
{
	json_t *v;

	*out = false;
	if (get(c, path, obj, key, W_BOOL, false, &v) == -1)
		return -1;
	if (v != NULL)
		*out = json_is_true(v);
	return 0;
}

/* A member that must be a policy name. */
static int
get_name(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char **out)
{
	char sub[PATHLEN];

	if (get_str(c, path, obj, key, required, out) == -1)
		return -1;
	if (*out != NULL && !pol_name_valid(*out)) {
		path_key(sub, path, key);
		return fail(c, sub, "not a valid name ([A-Za-z0-9_.-]{1,64})");
	}
	return 0;
}

/* A member that must be one of a fixed set of words; gives its index. */
static int
get_enum(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char *const *table, const char *what, int *out)
{
	const char *s;
	char sub[PATHLEN];

	*out = -1;
	if (get_str(c, path, obj, key, required, &s) == -1)
		return -1;
	if (s == NULL)
		return 0;
	if ((*out = lookup(table, s)) < 0) {
		path_key(sub, path, key);
		if (pol_name_valid(s))
			return fail(c, sub, "unknown %s \"%s\"", what, s);
		return fail(c, sub, "unknown %s", what);
	}
	return 0;
}

/* A member that must be a non-empty array of strings. */
static int
get_list(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, json_t **out)
{
	char sub[PATHLEN], el[PATHLEN];
	size_t i;
	json_t *v;

	if (get(c, path, obj, key, W_ARR, required, out) == -1)
		return -1;
	if (*out == NULL)
		return 0;
	path_key(sub, path, key);
	if (json_array_size(*out) == 0)
		return fail(c, sub, "must not be empty");
	json_array_foreach(*out, i, v)
	{
		if (!json_is_string(v)) {
			path_idx(el, sub, i);
			return fail(c, el, "expected a string");
		}
	}
	return 0;
}

static int
sdup(struct ctx *c, const char *path, const char *s, char **out)
{
	if (s == NULL) {
		*out = NULL;
		return 0;
	}
	if ((*out = strdup(s)) == NULL)
		return fail(c, path, "out of memory");
	return 0;
}

/*
 * Decode 40 characters of Z85 into a 32-byte key. Done here rather than with
 * zmq_z85_decode so that the policy library needs no ZeroMQ, and so that
 * out-of-range groups are refused instead of wrapping.
 */
static bool
z85_key(const char *s, uint8_t key[POL_KEY_BYTES])
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
 * are fixed lengths because retention is about elapsed time, not calendars.
 */
int
pol_duration_parse(const char *s, int64_t *out)
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

	if (s == NULL || *p < '1' || *p > '9')
		return -1;
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

static int
get_duration(
    struct ctx *c, const char *path, json_t *obj, const char *key, int64_t *out)
{
	const char *s;
	char sub[PATHLEN];

	*out = -1;
	if (get_str(c, path, obj, key, false, &s) == -1)
		return -1;
	if (s != NULL && pol_duration_parse(s, out) == -1) {
		path_key(sub, path, key);
		return fail(c, sub,
		    "not a duration (e.g. \"30 days\"; units second, minute, "
		    "hour, day, week, month, year; at most 1000 years)");
	}
	return 0;
}

/* User-defined regions: named groups of country codes. EEA is built in so
 * that every policy means the same thing by it. */
static int
parse_regions(struct ctx *c, json_t *root)
{
	const char *name;
	char path[PATHLEN], el[PATHLEN];
	json_t *regions, *list, *v;
	size_t i;

	if (get(c, "$", root, "regions", W_OBJ, false, &regions) == -1)
		return -1;
	if (regions == NULL)
		return 0;
	json_object_foreach(regions, name, list)
	{
		if (!pol_name_valid(name))
			return fail(c, "$.regions", "invalid region name");
		path_key(path, "$.regions", name);
		if (strcmp(name, "EEA") == 0)
			return fail(c, path,
			    "EEA is predefined and cannot be redefined");
		if (iso_code(name))
			return fail(c, path,
			    "a region name must not look like a country code");
		if (!json_is_array(list))
			return fail(c, path, "expected an array");
		if (json_array_size(list) == 0)
			return fail(c, path, "must not be empty");
		json_array_foreach(list, i, v)
		{
			path_idx(el, path, i);
			if (!json_is_string(v))
				return fail(c, el, "expected a string");
			if (!iso_code(json_string_value(v)))
				return fail(c, el,
				    "not an ISO 3166-1 alpha-2 country code");
		}
	}
	c->regions = regions;
	return 0;
}

static int
add_country(struct ctx *c, const char *path, pol_register *r, const char *cc)
{
	char **n;
	size_t i;

	for (i = 0; i < r->nallowed_countries; i++)
		if (strcmp(r->allowed_countries[i], cc) == 0)
			return 0;
	n = realloc(
	    r->allowed_countries, (r->nallowed_countries + 1) * sizeof(*n));
	if (n == NULL)
		return fail(c, path, "out of memory");
	r->allowed_countries = n;
	if (sdup(c, path, cc, &n[r->nallowed_countries]) == -1)
		return -1;
	r->nallowed_countries++;
	return 0;
}

/* Expand "allowed_regions" (region names and country codes) into the list of
 * countries the decision code compares a principal's region against. */
static int
parse_transfer(struct ctx *c, const char *rpath, json_t *jr, pol_register *r)
{
	char path[PATHLEN], lpath[PATHLEN], el[PATHLEN];
	json_t *t, *list, *v, *group, *g;
	size_t i, k;
	const char *s;

	if (get(c, rpath, jr, "transfer", W_OBJ, false, &t) == -1)
		return -1;
	if (t == NULL)
		return 0;
	path_key(path, rpath, "transfer");
	if (check_keys(c, path, t, transfer_keys) == -1 ||
	    get_list(c, path, t, "allowed_regions", true, &list) == -1)
		return -1;
	path_key(lpath, path, "allowed_regions");
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		path_idx(el, lpath, i);
		if (strcmp(s, "EEA") == 0) {
			for (k = 0; eea_countries[k] != NULL; k++)
				if (add_country(c, el, r, eea_countries[k]) ==
				    -1)
					return -1;
		} else if (c->regions != NULL &&
		           (group = json_object_get(c->regions, s)) != NULL) {
			json_array_foreach(group, k, g)
			{
				if (add_country(
				        c, el, r, json_string_value(g)) == -1)
					return -1;
			}
		} else if (iso_code(s)) {
			if (add_country(c, el, r, s) == -1)
				return -1;
		} else if (pol_name_valid(s)) {
			return fail(c, el, "unknown region \"%s\"", s);
		} else {
			return fail(c, el, "unknown region");
		}
	}
	return 0;
}

static int
parse_purposes(struct ctx *c, const char *rpath, json_t *jr, pol_register *r)
{
	char path[PATHLEN], sub[PATHLEN];
	json_t *obj, *jp;
	const char *name, *desc;
	int basis;

	if (get(c, rpath, jr, "purposes", W_OBJ, true, &obj) == -1)
		return -1;
	path_key(path, rpath, "purposes");
	if (json_object_size(obj) == 0)
		return fail(c, path, "at least one purpose is required");
	if (json_object_size(obj) > POL_MAX_PURPOSES)
		return fail(c, path, "more than %d purposes", POL_MAX_PURPOSES);
	if ((r->purposes = calloc(
	         json_object_size(obj), sizeof(*r->purposes))) == NULL)
		return fail(c, path, "out of memory");
	json_object_foreach(obj, name, jp)
	{
		pol_purpose *pu = &r->purposes[r->npurposes];

		if (!pol_name_valid(name))
			return fail(c, path, "invalid purpose name");
		path_key(sub, path, name);
		if (!json_is_object(jp))
			return fail(c, sub, "expected an object");
		if (sdup(c, sub, name, &pu->name) == -1)
			return -1;
		pu->index = (uint8_t)r->npurposes++;
		if (check_keys(c, sub, jp, purpose_keys) == -1 ||
		    get_enum(c, sub, jp, "legal_basis", true, basis_names,
		        "legal basis", &basis) == -1 ||
		    get_bool(c, sub, jp, "objectable", &pu->objectable) == -1 ||
		    get_bool(c, sub, jp, "allowed_when_restricted",
		        &pu->allowed_when_restricted) == -1 ||
		    get_str(c, sub, jp, "description", false, &desc) == -1)
			return -1;
		pu->basis = (pol_basis)basis;
	}
	return 0;
}

static int
parse_fields(struct ctx *c, const char *rpath, json_t *jr, pol_register *r)
{
	char path[PATHLEN], sub[PATHLEN];
	json_t *obj, *jf;
	const char *name, *s;
	int type;

	if (get(c, rpath, jr, "fields", W_OBJ, true, &obj) == -1)
		return -1;
	path_key(path, rpath, "fields");
	if (json_object_size(obj) == 0)
		return fail(c, path, "at least one field is required");
	if (json_object_size(obj) > POL_MAX_FIELDS)
		return fail(c, path, "more than %d fields", POL_MAX_FIELDS);
	if ((r->fields = calloc(json_object_size(obj), sizeof(*r->fields))) ==
	    NULL)
		return fail(c, path, "out of memory");
	json_object_foreach(obj, name, jf)
	{
		pol_field *f = &r->fields[r->nfields];

		if (!pol_name_valid(name))
			return fail(c, path, "invalid field name");
		path_key(sub, path, name);
		if (!json_is_object(jf))
			return fail(c, sub, "expected an object");
		if (sdup(c, sub, name, &f->name) == -1)
			return -1;
		f->index = (uint16_t)r->nfields++;
		if (check_keys(c, sub, jf, field_keys) == -1 ||
		    get_name(c, sub, jf, "category", true, &s) == -1 ||
		    sdup(c, sub, s, &f->category) == -1 ||
		    get_enum(c, sub, jf, "type", true, ftype_names, "type",
		        &type) == -1 ||
		    get_bool(c, sub, jf, "identifying", &f->identifying) ==
		        -1 ||
		    get_bool(c, sub, jf, "lookup", &f->lookup) == -1 ||
		    get_bool(c, sub, jf, "allow_identity_code",
		        &f->allow_identity_code) == -1 ||
		    get_name(c, sub, jf, "source", false, &s) == -1 ||
		    sdup(c, sub, s, &f->source) == -1 ||
		    get_str(c, sub, jf, "description", false, &s) == -1)
			return -1;
		f->type = (pol_ftype)type;
	}
	return 0;
}

static bool
category_used(const pol_register *r, const char *cat)
{
	size_t i;

	for (i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].category, cat) == 0)
			return true;
	return false;
}

/*
 * One retention rule. A rule either deletes/anonymises after a time, or
 * guarantees a minimum keep (a statutory obligation), or both; a category the
 * register does not use is almost certainly a typo that would leave data
 * unmanaged, so it is refused.
 */
static int
parse_rule(struct ctx *c, const char *path, json_t *jt, pol_register *r,
    pol_retention *rt)
{
	char sub[PATHLEN], el[PATHLEN];
	json_t *cats, *v;
	const char *s;
	size_t i;
	int from, action;

	if (!json_is_object(jt))
		return fail(c, path, "expected an object");
	if (check_keys(c, path, jt, retention_keys) == -1 ||
	    get_name(c, path, jt, "id", true, &s) == -1)
		return -1;
	for (i = 0; i < r->nretention; i++) {
		if (strcmp(r->retention[i].id, s) == 0) {
			path_key(sub, path, "id");
			return fail(c, sub, "duplicate retention id \"%s\"", s);
		}
	}
	if (sdup(c, path, s, &rt->id) == -1 ||
	    get_list(c, path, jt, "categories", true, &cats) == -1)
		return -1;
	path_key(sub, path, "categories");
	if ((rt->categories = calloc(
	         json_array_size(cats), sizeof(*rt->categories))) == NULL)
		return fail(c, sub, "out of memory");
	json_array_foreach(cats, i, v)
	{
		s = json_string_value(v);
		path_idx(el, sub, i);
		if (strcmp(s, "*") != 0) {
			if (!pol_name_valid(s))
				return fail(c, el, "not a valid name");
			if (!category_used(r, s))
				return fail(c, el,
				    "no field of the register has category "
				    "\"%s\"",
				    s);
		}
		if (sdup(c, el, s, &rt->categories[rt->ncategories]) == -1)
			return -1;
		rt->ncategories++;
	}
	if (get_enum(c, path, jt, "from", true, from_names, "start event",
	        &from) == -1 ||
	    sdup(c, path, from_names[from], &rt->from) == -1 ||
	    get_duration(c, path, jt, "after", &rt->after_s) == -1 ||
	    get_enum(c, path, jt, "action", false, action_names, "action",
	        &action) == -1 ||
	    get_duration(c, path, jt, "keep_at_least", &rt->keep_least_s) == -1)
		return -1;
	if ((rt->after_s >= 0) != (action >= 0)) {
		path_key(sub, path, rt->after_s >= 0 ? "action" : "after");
		return fail(
		    c, sub, "\"after\" and \"action\" must be given together");
	}
	if (rt->after_s < 0 && rt->keep_least_s < 0)
		return fail(c, path,
		    "a rule needs \"after\" and \"action\", or "
		    "\"keep_at_least\"");
	if (action >= 0 &&
	    sdup(c, path, action_names[action], &rt->action) == -1)
		return -1;
	return 0;
}

static int
parse_retention(struct ctx *c, const char *rpath, json_t *jr, pol_register *r)
{
	char path[PATHLEN], el[PATHLEN];
	json_t *arr, *jt;
	size_t i;

	if (get(c, rpath, jr, "retention", W_ARR, false, &arr) == -1)
		return -1;
	if (arr == NULL || json_array_size(arr) == 0)
		return 0;
	path_key(path, rpath, "retention");
	if ((r->retention = calloc(
	         json_array_size(arr), sizeof(*r->retention))) == NULL)
		return fail(c, path, "out of memory");
	json_array_foreach(arr, i, jt)
	{
		pol_retention *rt = &r->retention[i];

		rt->after_s = rt->keep_least_s = -1;
		path_idx(el, path, i);
		/* Count it first so pol_free sees its allocations. */
		if (parse_rule(c, el, jt, r, rt) == -1) {
			r->nretention = i + 1;
			return -1;
		}
		r->nretention = i + 1;
	}
	return 0;
}

static int
parse_register(struct ctx *c, const char *name, json_t *jr, pol_register *r)
{
	char path[PATHLEN];
	const char *desc;

	path_key(path, "$.registers", name);
	if (!json_is_object(jr))
		return fail(c, path, "expected an object");
	if (sdup(c, path, name, &r->name) == -1 ||
	    check_keys(c, path, jr, register_keys) == -1 ||
	    get_str(c, path, jr, "description", false, &desc) == -1 ||
	    parse_transfer(c, path, jr, r) == -1 ||
	    parse_purposes(c, path, jr, r) == -1 ||
	    parse_fields(c, path, jr, r) == -1 ||
	    parse_retention(c, path, jr, r) == -1)
		return -1;
	return 0;
}

static int
parse_registers(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj, *jr;
	const char *name;

	if (get(c, "$", root, "registers", W_OBJ, true, &obj) == -1)
		return -1;
	if (json_object_size(obj) == 0)
		return fail(
		    c, "$.registers", "at least one register is required");
	if ((p->registers = calloc(
	         json_object_size(obj), sizeof(*p->registers))) == NULL)
		return fail(c, "$.registers", "out of memory");
	json_object_foreach(obj, name, jr)
	{
		if (!pol_name_valid(name))
			return fail(c, "$.registers", "invalid register name");
		if (parse_register(
		        c, name, jr, &p->registers[p->nregisters++]) == -1)
			return -1;
	}
	return 0;
}

/*
 * One grant: (register, purposes, fields, ops) resolved to bit sets against
 * the register, so that deciding a request is a few mask tests.
 */
static int
parse_grant(struct ctx *c, const char *path, json_t *jg, const pol_policy *p,
    pol_grant *g)
{
	char sub[PATHLEN], el[PATHLEN];
	json_t *list, *v;
	const char *s;
	const pol_purpose *pu;
	const pol_field *f;
	size_t i;
	int k;

	if (!json_is_object(jg))
		return fail(c, path, "expected an object");
	if (check_keys(c, path, jg, grant_keys) == -1 ||
	    get_str(c, path, jg, "register", true, &s) == -1)
		return -1;
	if ((g->reg = pol_register_find(p, s)) == NULL) {
		path_key(sub, path, "register");
		if (pol_name_valid(s))
			return fail(c, sub, "unknown register \"%s\"", s);
		return fail(c, sub, "unknown register");
	}

	if (get_list(c, path, jg, "purposes", true, &list) == -1)
		return -1;
	path_key(sub, path, "purposes");
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		path_idx(el, sub, i);
		if ((pu = pol_purpose_find(g->reg, s)) == NULL) {
			if (pol_name_valid(s))
				return fail(c, el,
				    "unknown purpose \"%s\" in register \"%s\"",
				    s, g->reg->name);
			return fail(c, el, "unknown purpose");
		}
		g->purposes |= UINT64_C(1) << pu->index;
	}

	if (get_list(c, path, jg, "fields", true, &list) == -1)
		return -1;
	path_key(sub, path, "fields");
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		path_idx(el, sub, i);
		if (strcmp(s, "*") == 0) {
			if (json_array_size(list) != 1)
				return fail(
				    c, el, "\"*\" must be the only entry");
			for (k = 0; (size_t)k < g->reg->nfields; k++)
				pol_fieldset_add(g->fields, (size_t)k);
		} else if ((f = pol_field_find(g->reg, s)) != NULL) {
			pol_fieldset_add(g->fields, f->index);
		} else if (pol_name_valid(s)) {
			return fail(c, el,
			    "unknown field \"%s\" in register \"%s\"", s,
			    g->reg->name);
		} else {
			return fail(c, el, "unknown field");
		}
	}

	if (get_list(c, path, jg, "ops", true, &list) == -1)
		return -1;
	path_key(sub, path, "ops");
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		path_idx(el, sub, i);
		if ((k = lookup(op_names, s)) < 0) {
			if (pol_name_valid(s))
				return fail(
				    c, el, "unknown operation \"%s\"", s);
			return fail(c, el, "unknown operation");
		}
		g->ops |= 1u << k;
	}
	return 0;
}

static int
parse_principal(struct ctx *c, const char *name, json_t *jp, pol_policy *p,
    pol_principal *pr)
{
	char path[PATHLEN], sub[PATHLEN], el[PATHLEN];
	json_t *list, *v;
	const char *s;
	size_t i;
	int k;

	path_key(path, "$.principals", name);
	if (!json_is_object(jp))
		return fail(c, path, "expected an object");
	if (sdup(c, path, name, &pr->name) == -1 ||
	    check_keys(c, path, jp, principal_keys) == -1 ||
	    get_str(c, path, jp, "description", false, &s) == -1 ||
	    get_str(c, path, jp, "key", true, &s) == -1)
		return -1;
	path_key(sub, path, "key");
	if (!z85_key(s, pr->key))
		return fail(c, sub,
		    "not a Z85-encoded CURVE public key (40 characters)");
	/* Each connection is identified by its key alone, so a shared key
	 * would make two principals indistinguishable. */
	for (i = 0; &p->principals[i] != pr; i++)
		if (memcmp(p->principals[i].key, pr->key, POL_KEY_BYTES) == 0)
			return fail(c, sub, "same key as principal \"%s\"",
			    p->principals[i].name);

	if (get_str(c, path, jp, "region", false, &s) == -1)
		return -1;
	if (s != NULL) {
		path_key(sub, path, "region");
		if (!iso_code(s))
			return fail(
			    c, sub, "not an ISO 3166-1 alpha-2 country code");
		memcpy(pr->region, s, 3);
	}

	if (get_list(c, path, jp, "roles", false, &list) == -1)
		return -1;
	path_key(sub, path, "roles");
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		path_idx(el, sub, i);
		if ((k = lookup(role_names, s)) < 0) {
			if (pol_name_valid(s))
				return fail(c, el, "unknown role \"%s\"", s);
			return fail(c, el, "unknown role");
		}
		pr->roles |= 1u << k;
	}

	if (get(c, path, jp, "grants", W_ARR, false, &list) == -1)
		return -1;
	if (list == NULL || json_array_size(list) == 0)
		return 0;
	path_key(sub, path, "grants");
	if ((pr->grants = calloc(json_array_size(list), sizeof(*pr->grants))) ==
	    NULL)
		return fail(c, sub, "out of memory");
	json_array_foreach(list, i, v)
	{
		path_idx(el, sub, i);
		if (parse_grant(c, el, v, p, &pr->grants[pr->ngrants++]) == -1)
			return -1;
	}
	return 0;
}

static int
parse_principals(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj, *jp;
	const char *name;

	if (get(c, "$", root, "principals", W_OBJ, true, &obj) == -1)
		return -1;
	if (json_object_size(obj) == 0)
		return 0;
	if ((p->principals = calloc(
	         json_object_size(obj), sizeof(*p->principals))) == NULL)
		return fail(c, "$.principals", "out of memory");
	json_object_foreach(obj, name, jp)
	{
		if (!pol_name_valid(name))
			return fail(
			    c, "$.principals", "invalid principal name");
		if (parse_principal(
		        c, name, jp, p, &p->principals[p->nprincipals++]) == -1)
			return -1;
	}
	return 0;
}

static int
parse_controller(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj;
	const char *name, *id;

	if (get(c, "$", root, "controller", W_OBJ, true, &obj) == -1 ||
	    check_keys(c, "$.controller", obj, controller_keys) == -1 ||
	    get_str(c, "$.controller", obj, "name", true, &name) == -1 ||
	    get_str(c, "$.controller", obj, "business_id", true, &id) == -1)
		return -1;
	if (*name == '\0')
		return fail(c, "$.controller.name", "must not be empty");
	if (*id == '\0')
		return fail(c, "$.controller.business_id", "must not be empty");
	if (sdup(c, "$.controller", name, &p->controller_name) == -1 ||
	    sdup(c, "$.controller", id, &p->controller_business_id) == -1)
		return -1;
	return 0;
}

static int
parse_audit(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj;
	int64_t secs;

	p->audit_retention_s = 5 * 365 * 86400LL;
	if (get(c, "$", root, "audit", W_OBJ, false, &obj) == -1)
		return -1;
	if (obj == NULL)
		return 0;
	if (check_keys(c, "$.audit", obj, audit_keys) == -1 ||
	    get_duration(c, "$.audit", obj, "retention", &secs) == -1)
		return -1;
	if (secs >= 0)
		p->audit_retention_s = secs;
	return 0;
}

/*
 * jansson's own error text quotes the input near the error, which may be
 * anything; so the reason is rebuilt from the error code and position.
 */
static int
fail_json(struct ctx *c, const json_error_t *je)
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
	return fail(c, "$", "invalid JSON: %s at line %d, column %d", what,
	    je->line, je->column);
}

int
pol_parse(const char *json, size_t len, pol_policy **out, pol_error *err)
{
	struct ctx c = {.err = err, .regions = NULL};
	json_error_t je;
	json_t *root;
	pol_policy *p;
	int rc = -1;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (out == NULL)
		return fail(&c, "$", "no output pointer");
	*out = NULL;
	if (json == NULL)
		return fail(&c, "$", "no document");
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return fail_json(&c, &je);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		json_decref(root);
		return fail(&c, "$", "out of memory");
	}
	if (!json_is_object(root))
		fail(&c, "$", "expected an object");
	else if (check_keys(&c, "$", root, root_keys) == 0 &&
	         parse_controller(&c, root, p) == 0 &&
	         parse_regions(&c, root) == 0 &&
	         parse_audit(&c, root, p) == 0 &&
	         parse_registers(&c, root, p) == 0 &&
	         parse_principals(&c, root, p) == 0)
		rc = 0;
	json_decref(root);
	if (rc == -1)
		pol_free(&p);
	*out = p;
	return rc;
}

/* Free everything pol_parse allocated; also used on a half-built policy, so
 * every count covers exactly the entries that may hold allocations. */
void
pol_free(pol_policy **pp)
{
	pol_policy *p;
	size_t i, j, k;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	for (i = 0; i < p->nregisters; i++) {
		pol_register *r = &p->registers[i];

		free(r->name);
		for (j = 0; j < r->nfields; j++) {
			free(r->fields[j].name);
			free(r->fields[j].category);
			free(r->fields[j].source);
		}
		free(r->fields);
		for (j = 0; j < r->npurposes; j++)
			free(r->purposes[j].name);
		free(r->purposes);
		for (j = 0; j < r->nallowed_countries; j++)
			free(r->allowed_countries[j]);
		free(r->allowed_countries);
		for (j = 0; j < r->nretention; j++) {
			pol_retention *rt = &r->retention[j];

			free(rt->id);
			for (k = 0; k < rt->ncategories; k++)
				free(rt->categories[k]);
			free(rt->categories);
			free(rt->from);
			free(rt->action);
		}
		free(r->retention);
	}
	free(p->registers);
	for (i = 0; i < p->nprincipals; i++) {
		free(p->principals[i].name);
		free(p->principals[i].grants);
	}
	free(p->principals);
	free(p->controller_name);
	free(p->controller_business_id);
	free(p);
	*pp = NULL;
}

const pol_register *
pol_register_find(const pol_policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->nregisters; i++)
		if (strcmp(p->registers[i].name, name) == 0)
			return &p->registers[i];
	return NULL;
}

const pol_field *
pol_field_find(const pol_register *r, const char *name)
{
	size_t i;

	if (r == NULL || name == NULL)
		return NULL;
	for (i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	return NULL;
}

const pol_purpose *
pol_purpose_find(const pol_register *r, const char *name)
{
	size_t i;

	if (r == NULL || name == NULL)
		return NULL;
	for (i = 0; i < r->npurposes; i++)
		if (strcmp(r->purposes[i].name, name) == 0)
			return &r->purposes[i];
	return NULL;
}

const pol_principal *
pol_principal_by_key(const pol_policy *p, const uint8_t key[POL_KEY_BYTES])
{
	size_t i;

	if (p == NULL || key == NULL)
		return NULL;
	for (i = 0; i < p->nprincipals; i++)
		if (memcmp(p->principals[i].key, key, POL_KEY_BYTES) == 0)
			return &p->principals[i];
	return NULL;
}

const pol_principal *
pol_principal_by_name(const pol_policy *p, const char *name)
{
	size_t i;

	if (p == NULL || name == NULL)
		return NULL;
	for (i = 0; i < p->nprincipals; i++)
		if (strcmp(p->principals[i].name, name) == 0)
			return &p->principals[i];
	return NULL;
}
