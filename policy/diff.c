/*
 * diff.c - what changes between two policies, in the policy's own terms,
 * for the admin who reviews a change before applying it (privctl policy
 * diff).
 *
 * The comparison is of meaning, not text: everything is matched by name
 * (registers, purposes, fields, principals) or id (retention rules), in
 * name order, so a reordered or reformatted document has no differences.
 * Grants are compared as what they allow: for each principal, register and
 * purpose, the fields each operation may touch, which is what pol_decide
 * sees. Two grants that together allow what one grant allowed are no
 * change; a field added to a register that a ["*"] grant covers is one.
 *
 * What is printed is names from the policy, schema words, country codes and
 * durations. Free text (descriptions, the controller's name and business
 * id) and keys are only ever said to have changed.
 *
 * Names of things: "controller", "audit retention", "reporting",
 * "register R", "transfer R", "purpose R.P", "field R.F", "retention
 * R.ID", "principal N", and "grant N R.P" (what principal N may do with
 * register R for purpose P).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* rules_by_id sorts rules with pj_sort_by_name, which reads the first
 * member. */
_Static_assert(offsetof(pol_retention, id) == 0, "id first");

void
pd_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	size_t room;
	char *t;
	int n;

	for (;;) {
		room = b->cap - b->len;
		va_start(ap, fmt);
		n = vsnprintf(b->s + b->len, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		t = b->s == b->fixed ? malloc(b->cap * 2 + (size_t)n)
		                     : realloc(b->s, b->cap * 2 + (size_t)n);
		if (t == NULL) {
			/* Keep what fits, marked as cut. */
			b->len = b->cap - 1;
			memcpy(b->s + b->cap - 4, "...", 4);
			return;
		}
		if (b->s == b->fixed)
			memcpy(t, b->fixed, b->len + 1);
		b->s = t;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

static void
sb_init(struct sb *b)
{
	b->s = b->fixed;
	b->cap = sizeof(b->fixed);
	b->len = 0;
	b->s[0] = '\0';
}

static void
sb_free(struct sb *b)
{
	if (b->s != b->fixed)
		free(b->s);
	sb_init(b);
}

/* "; " between the parts of a detail. */
void
pd_sep(struct sb *b)
{
	if (b->len > 0)
		pd_add(b, "; ");
}

/* Report one difference: what is formatted from fmt, the detail is df->d,
 * which is then emptied. */
void
pd_emit(struct diff *df, pol_change ch, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(df->what, sizeof(df->what), fmt, ap);
	va_end(ap);
	if (df->fn != NULL)
		df->fn(df->arg, ch, df->what, df->d.s);
	df->n++;
	df->d.len = 0;
	df->d.s[0] = '\0';
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static const char *
or_none(const char *s)
{
	return s != NULL ? s : "(none)";
}

static const char *
tf(bool v)
{
	return v ? "true" : "false";
}

static void
flag_change(struct sb *b, const char *name, bool x, bool y)
{
	if (x != y) {
		pd_sep(b);
		pd_add(b, "%s %s -> %s", name, tf(x), tf(y));
	}
}

static void
word_change(struct sb *b, const char *name, const char *x, const char *y)
{
	if (!str_eq(x, y)) {
		pd_sep(b);
		pd_add(b, "%s %s -> %s", name, or_none(x), or_none(y));
	}
}

static void
text_change(struct sb *b, const char *name, const char *x, const char *y)
{
	if (!str_eq(x, y)) {
		pd_sep(b);
		pd_add(b, "%s changed", name);
	}
}

/* Units for printing durations, largest first. */
static const struct {
	const char *unit;
	int64_t secs;
} dur_units[] = {
    {"year", 365 * 86400},
    {"month", 30 * 86400},
    {"week", 7 * 86400},
    {"day", 86400},
    {"hour", 3600},
    {"minute", 60},
    {"second", 1},
};
#define DUR_FIXED 2 /* dur_units from here on are not calendar words */

/* s seconds in the largest unit from dur_units[from] on that divides it. */
static void
sb_units(struct sb *b, int64_t s, size_t from)
{
	size_t i;

	if (s < 0) {
		pd_add(b, "(none)");
		return;
	}
	for (i = from; i < sizeof(dur_units) / sizeof(dur_units[0]); i++) {
		if (s % dur_units[i].secs == 0) {
			long long n = (long long)(s / dur_units[i].secs);

			pd_add(b, "%lld %s%s", n, dur_units[i].unit,
			    n == 1 ? "" : "s");
			return;
		}
	}
}

/* A duration in the largest unit that divides it, as the policy writes
 * durations ("30 days" reads back as "1 month": a month is 30 days). */
static void
sb_duration(struct sb *b, int64_t s)
{
	sb_units(b, s, 0);
}

/* A retention span: calendar months as months or years; seconds in weeks
 * and smaller units, since months and years mean the calendar there. */
static void
sb_span(struct sb *b, const pol_span *s)
{
	if (s->n == 0)
		pd_add(b, "0 days"); /* not "0 weeks" */
	else if (s->n < 0 || !s->months)
		sb_units(b, s->n, DUR_FIXED);
	else if (s->n % 12 == 0)
		pd_add(b, "%lld year%s", (long long)(s->n / 12),
		    s->n == 12 ? "" : "s");
	else
		pd_add(
		    b, "%lld month%s", (long long)s->n, s->n == 1 ? "" : "s");
}

/* A retention span changed: "24 months" and "720 days" differ on the
 * calendar though not in seconds. */
static void
span_change(
    struct sb *b, const char *name, const pol_span *x, const pol_span *y)
{
	if (x->n != y->n || (x->n >= 0 && x->months != y->months)) {
		pd_sep(b);
		pd_add(b, "%s ", name);
		sb_span(b, x);
		pd_add(b, " -> ");
		sb_span(b, y);
	}
}

static const char *const basis_words[] = {"consent", "contract",
    "legal_obligation", "vital_interests", "public_task",
    "legitimate_interest"};
static const char *const type_words[] = {
    "string", "text", "email", "phone", "integer", "date", "bytes"};
static const char *const role_words[] = {
    "auditor", "policy_admin", "subject_rights", "operator"};

static const char *
basis_word(pol_basis v)
{
	return (unsigned)v < 6 ? basis_words[v] : "?";
}

static const char *
type_word(pol_ftype v)
{
	return (unsigned)v < 7 ? type_words[v] : "?";
}

/* Words of the bits set in mask, comma-separated; "(none)" if none. */
void
pd_bits(struct sb *b, unsigned mask, const char *const *words, size_t n)
{
	const char *sep = "";
	size_t i;

	if ((mask & ((1u << n) - 1)) == 0) {
		pd_add(b, "(none)");
		return;
	}
	for (i = 0; i < n; i++) {
		if (mask & (1u << i)) {
			pd_add(b, "%s%s", sep, words[i]);
			sep = ", ";
		}
	}
}

static const char *
first_name(const void *e)
{
	return *(char *const *)e;
}

void
pd_merge(struct diff *df, const void *const *a, size_t na, const void *const *b,
    size_t nb, pd_merge_fn fn, const void *ctx)
{
	size_t i = 0, j = 0;
	int c;

	while (i < na || j < nb) {
		if (i == na)
			c = 1;
		else if (j == nb)
			c = -1;
		else
			c = strcmp(first_name(a[i]), first_name(b[j]));
		if (c < 0)
			fn(df, a[i++], NULL, ctx);
		else if (c > 0)
			fn(df, NULL, b[j++], ctx);
		else
			fn(df, a[i++], b[j++], ctx);
	}
}

/* Both registers of one name, for the merges inside a register. */
struct regpair {
	const pol_register *a, *b;
	const char *name;
};

static void
purpose_desc(struct sb *b, const pol_purpose *p)
{
	pd_add(b, "legal_basis %s", basis_word(p->basis));
	if (p->objectable)
		pd_add(b, ", objectable");
	if (p->allowed_when_restricted)
		pd_add(b, ", allowed_when_restricted");
	if (p->statistical)
		pd_add(b, ", statistical");
}

static void
diff_purpose(struct diff *df, const void *x, const void *y, const void *ctx)
{
	const struct regpair *rp = ctx;
	const pol_purpose *a = x, *b = y;

	if (a == NULL || b == NULL) {
		purpose_desc(&df->d, a != NULL ? a : b);
		pd_emit(df, a != NULL ? POL_REMOVED : POL_ADDED,
		    "purpose %s.%s", rp->name, a != NULL ? a->name : b->name);
		return;
	}
	word_change(
	    &df->d, "legal_basis", basis_word(a->basis), basis_word(b->basis));
	flag_change(&df->d, "objectable", a->objectable, b->objectable);
	flag_change(&df->d, "allowed_when_restricted",
	    a->allowed_when_restricted, b->allowed_when_restricted);
	flag_change(&df->d, "statistical", a->statistical, b->statistical);
	text_change(&df->d, "description", a->description, b->description);
	if (df->d.len > 0)
		pd_emit(df, POL_CHANGED, "purpose %s.%s", rp->name, a->name);
}

static void
field_desc(struct sb *b, const pol_field *f)
{
	pd_add(b, "type %s, category %s", type_word(f->type), f->category);
	if (f->identifying)
		pd_add(b, ", identifying");
	if (f->lookup)
		pd_add(b, ", lookup");
	if (f->allow_identity_code)
		pd_add(b, ", allow_identity_code");
	if (f->source != NULL)
		pd_add(b, ", source %s", f->source);
}

static void
diff_field(struct diff *df, const void *x, const void *y, const void *ctx)
{
	const struct regpair *rp = ctx;
	const pol_field *a = x, *b = y;

	if (a == NULL || b == NULL) {
		field_desc(&df->d, a != NULL ? a : b);
		pd_emit(df, a != NULL ? POL_REMOVED : POL_ADDED, "field %s.%s",
		    rp->name, a != NULL ? a->name : b->name);
		return;
	}
	word_change(&df->d, "type", type_word(a->type), type_word(b->type));
	word_change(&df->d, "category", a->category, b->category);
	flag_change(&df->d, "identifying", a->identifying, b->identifying);
	flag_change(&df->d, "lookup", a->lookup, b->lookup);
	flag_change(&df->d, "allow_identity_code", a->allow_identity_code,
	    b->allow_identity_code);
	word_change(&df->d, "source", a->source, b->source);
	text_change(&df->d, "description", a->description, b->description);
	if (df->d.len > 0)
		pd_emit(df, POL_CHANGED, "field %s.%s", rp->name, a->name);
}

static int
cmp_strp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* A rule's categories as a sorted set (a rule may repeat one). v holds
 * POL_MAX_RULE_CATEGORIES. */
static size_t
category_set(const pol_retention *r, const char **v)
{
	size_t i, k, n = 0;

	for (k = 0; k < r->ncategories && k < POL_MAX_RULE_CATEGORIES; k++)
		v[k] = r->categories[k];
	qsort(v, k, sizeof(*v), cmp_strp);
	for (i = 0; i < k; i++)
		if (n == 0 || strcmp(v[n - 1], v[i]) != 0)
			v[n++] = v[i];
	return n;
}

static void
sb_list(struct sb *b, const char *const *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		pd_add(b, "%s%s", i > 0 ? ", " : "", v[i]);
}

static void
rule_desc(struct sb *b, const pol_retention *r)
{
	const char *v[POL_MAX_RULE_CATEGORIES];

	pd_add(b, "categories ");
	sb_list(b, v, category_set(r, v));
	pd_add(b, ", from %s", r->from);
	if (r->after.n >= 0) {
		pd_add(b, ", after ");
		sb_span(b, &r->after);
		pd_add(b, ", action %s", or_none(r->action));
	}
	if (r->keep_least.n >= 0) {
		pd_add(b, ", keep_at_least ");
		sb_span(b, &r->keep_least);
	}
}

static void
diff_rule(struct diff *df, const void *x, const void *y, const void *ctx)
{
	const char *va[POL_MAX_RULE_CATEGORIES], *vb[POL_MAX_RULE_CATEGORIES];
	const struct regpair *rp = ctx;
	const pol_retention *a = x, *b = y;
	size_t na, nb, i;

	if (a == NULL || b == NULL) {
		rule_desc(&df->d, a != NULL ? a : b);
		pd_emit(df, a != NULL ? POL_REMOVED : POL_ADDED,
		    "retention %s.%s", rp->name, a != NULL ? a->id : b->id);
		return;
	}
	na = category_set(a, va);
	nb = category_set(b, vb);
	for (i = 0; na == nb && i < na; i++)
		if (strcmp(va[i], vb[i]) != 0)
			break;
	if (na != nb || i < na) {
		pd_add(&df->d, "categories ");
		sb_list(&df->d, va, na);
		pd_add(&df->d, " -> ");
		sb_list(&df->d, vb, nb);
	}
	word_change(&df->d, "from", a->from, b->from);
	span_change(&df->d, "after", &a->after, &b->after);
	word_change(&df->d, "action", a->action, b->action);
	span_change(&df->d, "keep_at_least", &a->keep_least, &b->keep_least);
	if (df->d.len > 0)
		pd_emit(df, POL_CHANGED, "retention %s.%s", rp->name, a->id);
}

/* The codes of a country set; EEA stands for its 30 countries. */
static void
sb_countries(struct sb *b, const uint64_t set[POL_COUNTRY_WORDS])
{
	uint64_t eea[POL_COUNTRY_WORDS], rest[POL_COUNTRY_WORDS];
	const char *sep = "";
	bool all = true;
	size_t w;
	int k;

	pj_eea(eea);
	for (w = 0; w < POL_COUNTRY_WORDS; w++) {
		all = all && (set[w] & eea[w]) == eea[w];
		rest[w] = set[w];
	}
	if (all) {
		pd_add(b, "EEA");
		sep = ", ";
		for (w = 0; w < POL_COUNTRY_WORDS; w++)
			rest[w] &= ~eea[w];
	}
	for (k = 0; k < 26 * 26; k++) {
		if (rest[k / 64] >> (k % 64) & 1) {
			pd_add(b, "%s%c%c", sep, 'A' + k / 26, 'A' + k % 26);
			sep = ", ";
		}
	}
}

static bool
countries_empty(const uint64_t set[POL_COUNTRY_WORDS])
{
	size_t w;

	for (w = 0; w < POL_COUNTRY_WORDS; w++)
		if (set[w] != 0)
			return false;
	return true;
}

/* A transfer rule: present or not, and the countries it allows. A changed
 * rule is told as the countries it adds and removes. */
static void
diff_transfer(struct diff *df, const struct regpair *rp)
{
	const pol_register *a = rp->a, *b = rp->b;
	bool ha = a != NULL && a->allowed_countries != NULL;
	bool hb = b != NULL && b->allowed_countries != NULL;
	uint64_t add[POL_COUNTRY_WORDS], del[POL_COUNTRY_WORDS];
	size_t w;

	if (!ha && !hb)
		return;
	if (ha != hb) {
		pd_add(&df->d, "allowed ");
		sb_countries(&df->d, ha ? a->countries : b->countries);
		pd_emit(
		    df, ha ? POL_REMOVED : POL_ADDED, "transfer %s", rp->name);
		return;
	}
	for (w = 0; w < POL_COUNTRY_WORDS; w++) {
		add[w] = b->countries[w] & ~a->countries[w];
		del[w] = a->countries[w] & ~b->countries[w];
	}
	if (!countries_empty(add)) {
		pd_add(&df->d, "allowed ");
		sb_countries(&df->d, add);
	}
	if (!countries_empty(del)) {
		pd_sep(&df->d);
		pd_add(&df->d, "no longer allowed ");
		sb_countries(&df->d, del);
	}
	if (df->d.len > 0)
		pd_emit(df, POL_CHANGED, "transfer %s", rp->name);
}

/* The retention rules of r sorted by id, into v (POL_MAX_RETENTION). */
static size_t
rules_by_id(const pol_register *r, const void **v)
{
	size_t i;

	if (r == NULL)
		return 0;
	for (i = 0; i < r->nretention && i < POL_MAX_RETENTION; i++)
		v[i] = &r->retention[i];
	pj_sort_by_name(v, i);
	return i;
}

static void
diff_register(struct diff *df, const void *x, const void *y, const void *ctx)
{
	const pol_register *a = x, *b = y;
	struct regpair rp = {a, b, a != NULL ? a->name : b->name};
	const void *ra[POL_MAX_RETENTION], *rb[POL_MAX_RETENTION];
	size_t na, nb;

	if (a == NULL || b == NULL) {
		pd_emit(df, a != NULL ? POL_REMOVED : POL_ADDED, "register %s",
		    rp.name);
	} else {
		text_change(
		    &df->d, "description", a->description, b->description);
		if (df->d.len > 0)
			pd_emit(df, POL_CHANGED, "register %s", rp.name);
	}
	diff_transfer(df, &rp);
	pd_merge(df,
	    a != NULL ? (const void *const *)a->purposes_by_name : NULL,
	    a != NULL ? a->npurposes : 0,
	    b != NULL ? (const void *const *)b->purposes_by_name : NULL,
	    b != NULL ? b->npurposes : 0, diff_purpose, &rp);
	pd_merge(df, a != NULL ? (const void *const *)a->fields_by_name : NULL,
	    a != NULL ? a->nfields : 0,
	    b != NULL ? (const void *const *)b->fields_by_name : NULL,
	    b != NULL ? b->nfields : 0, diff_field, &rp);
	na = rules_by_id(a, ra);
	nb = rules_by_id(b, rb);
	pd_merge(df, ra, na, rb, nb, diff_rule, &rp);
}

static void
principal_desc(struct sb *b, const pol_principal *p)
{
	pd_add(b, "region %s; roles ", p->region[0] ? p->region : "(none)");
	pd_bits(b, p->roles, role_words, 4);
}

static void
diff_principal(struct diff *df, const void *x, const void *y, const void *ctx)
{
	const pol_principal *a = x, *b = y;
	const char *name = a != NULL ? a->name : b->name;

	if (a == NULL || b == NULL) {
		principal_desc(&df->d, a != NULL ? a : b);
		pd_emit(df, a != NULL ? POL_REMOVED : POL_ADDED, "principal %s",
		    name);
	} else {
		if (memcmp(a->key, b->key, POL_KEY_BYTES) != 0)
			pd_add(&df->d, "key changed");
		word_change(&df->d, "region", a->region[0] ? a->region : NULL,
		    b->region[0] ? b->region : NULL);
		if (a->roles != b->roles) {
			pd_sep(&df->d);
			pd_add(&df->d, "roles ");
			pd_bits(&df->d, a->roles, role_words, 4);
			pd_add(&df->d, " -> ");
			pd_bits(&df->d, b->roles, role_words, 4);
		}
		text_change(
		    &df->d, "description", a->description, b->description);
		if (df->d.len > 0)
			pd_emit(df, POL_CHANGED, "principal %s", name);
	}
	pd_grants(df, name, a, b);
}

size_t
pol_diff(const pol_policy *a, const pol_policy *b, pol_diff_fn fn, void *arg)
{
	struct diff df = {.fn = fn, .arg = arg, .n = 0};

	if (a == NULL || b == NULL)
		return 0;
	sb_init(&df.d);
	text_change(&df.d, "name", a->controller_name, b->controller_name);
	text_change(&df.d, "business_id", a->controller_business_id,
	    b->controller_business_id);
	if (df.d.len > 0)
		pd_emit(&df, POL_CHANGED, "controller");
	if (a->audit_retention_s != b->audit_retention_s) {
		sb_duration(&df.d, a->audit_retention_s);
		pd_add(&df.d, " -> ");
		sb_duration(&df.d, b->audit_retention_s);
		pd_emit(&df, POL_CHANGED, "audit retention");
	}
	if (a->min_group != b->min_group) {
		pd_add(&df.d, "min_group %u -> %u", a->min_group, b->min_group);
		pd_emit(&df, POL_CHANGED, "reporting");
	}
	pd_merge(&df, (const void *const *)a->registers_by_name, a->nregisters,
	    (const void *const *)b->registers_by_name, b->nregisters,
	    diff_register, NULL);
	pd_merge(&df, (const void *const *)a->principals_by_name,
	    a->nprincipals, (const void *const *)b->principals_by_name,
	    b->nprincipals, diff_principal, NULL);
	sb_free(&df.d);
	return df.n;
}
