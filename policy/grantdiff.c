/*
 * grantdiff.c - the grants part of pol_diff (diff.c): what each principal
 * may do, compared as pol_decide sees it.
 *
 * For a principal, register and purpose, the grants add up to a field set
 * per operation; that is compared by field name (field indexes differ
 * between two policies), and reported as one "grant N R.P". Grants split
 * or merged differently, listed fields in another order, or ["*"] spelled
 * out, are no change.
 */
#include <string.h>

#include "internal.h"

static const char *const op_words[] = {"read", "write", "delete"};

/* What a principal may do with one register for one purpose: for each
 * operation (read, write, delete), the fields it may touch. */
struct perm {
	uint64_t f[3][POL_FIELD_WORDS];
	unsigned ops; /* the operations with any field */
};

static bool
set_empty(const uint64_t s[POL_FIELD_WORDS])
{
	size_t w;

	for (w = 0; w < POL_FIELD_WORDS; w++)
		if (s[w] != 0)
			return false;
	return true;
}

/* The union of grants g[0..n) (all on one register) for purpose pu. */
static void
perm_of(
    const pol_grant *const *g, size_t n, const pol_purpose *pu, struct perm *p)
{
	size_t i, k, w;

	memset(p, 0, sizeof(*p));
	if (pu == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (!(g[i]->purposes >> pu->index & 1))
			continue;
		for (k = 0; k < 3; k++)
			if (g[i]->ops & (1u << k))
				for (w = 0; w < POL_FIELD_WORDS; w++)
					p->f[k][w] |= g[i]->fields[w];
	}
	for (k = 0; k < 3; k++)
		if (!set_empty(p->f[k]))
			p->ops |= 1u << k;
}

static size_t
set_count(const uint64_t s[POL_FIELD_WORDS])
{
	size_t w, n = 0;

	for (w = 0; w < POL_FIELD_WORDS; w++)
		n += (size_t)__builtin_popcountll(s[w]);
	return n;
}

/* Field sets of two registers (of two policies) hold the same names. */
static bool
set_eq(const uint64_t x[POL_FIELD_WORDS], const pol_register *rx,
    const uint64_t y[POL_FIELD_WORDS], const pol_register *ry)
{
	const pol_field *f;
	size_t i;

	if (set_count(x) != set_count(y))
		return false;
	for (i = 0; i < rx->nfields; i++) {
		if (!pol_fieldset_has(x, i))
			continue;
		f = pol_field_find(ry, rx->fields[i].name);
		if (f == NULL || !pol_fieldset_has(y, f->index))
			return false;
	}
	return true;
}

/* Names of the fields in s, in the register's document order. */
static void
sb_fields(
    struct sb *b, const uint64_t s[POL_FIELD_WORDS], const pol_register *r)
{
	const char *sep = "";
	size_t i;

	for (i = 0; i < r->nfields; i++) {
		if (pol_fieldset_has(s, i)) {
			pd_add(b, "%s%s", sep, r->fields[i].name);
			sep = ", ";
		}
	}
}

/* One field set for every operation allowed. */
static bool
perm_uniform(const struct perm *p)
{
	const uint64_t *first = NULL;
	size_t k;

	for (k = 0; k < 3; k++) {
		if (!(p->ops & (1u << k)))
			continue;
		if (first == NULL)
			first = p->f[k];
		else if (memcmp(first, p->f[k], sizeof(p->f[k])) != 0)
			return false;
	}
	return true;
}

static const uint64_t *
perm_fields(const struct perm *p)
{
	size_t k;

	for (k = 0; k < 3; k++)
		if (p->ops & (1u << k))
			return p->f[k];
	return p->f[0];
}

/* "ops read, write; fields name, email", or when the operations touch
 * different fields, "read: name, email; write: name". */
static void
perm_desc(struct sb *b, const struct perm *p, const pol_register *r)
{
	unsigned done = 0, same, k, m;
	const char *sep = "";

	if (perm_uniform(p)) {
		pd_add(b, "ops ");
		pd_bits(b, p->ops, op_words, 3);
		pd_add(b, "; fields ");
		sb_fields(b, perm_fields(p), r);
		return;
	}
	for (k = 0; k < 3; k++) {
		if (!(p->ops & (1u << k)) || (done & (1u << k)))
			continue;
		for (same = 0, m = k; m < 3; m++)
			if ((p->ops & (1u << m)) &&
			    memcmp(p->f[k], p->f[m], sizeof(p->f[k])) == 0)
				same |= 1u << m;
		done |= same;
		pd_add(b, "%s", sep);
		sep = "; ";
		pd_bits(b, same, op_words, 3);
		pd_add(b, ": ");
		sb_fields(b, p->f[k], r);
	}
}

static bool
perm_eq(const struct perm *x, const pol_register *rx, const struct perm *y,
    const pol_register *ry)
{
	size_t k;

	if (x->ops != y->ops)
		return false;
	for (k = 0; k < 3; k++)
		if ((x->ops & (1u << k)) && !set_eq(x->f[k], rx, y->f[k], ry))
			return false;
	return true;
}

/* The grants of one principal on one register, on each side. */
struct grantgroup {
	const char *principal;
	const pol_register *ra, *rb;
	const pol_grant *const *ga, *const *gb;
	size_t na, nb;
};

static void
diff_grant(struct diff *df, const void *x, const void *y, const void *ctx)
{
	const struct grantgroup *gg = ctx;
	const pol_purpose *pa = x, *pb = y;
	const char *rname = gg->ra != NULL ? gg->ra->name : gg->rb->name;
	struct perm a, b;

	perm_of(gg->ga, gg->na, pa, &a);
	perm_of(gg->gb, gg->nb, pb, &b);
	if (a.ops == 0 && b.ops == 0)
		return;
	if (a.ops == 0 || b.ops == 0) {
		perm_desc(&df->d, a.ops ? &a : &b, a.ops ? gg->ra : gg->rb);
		pd_emit(df, a.ops ? POL_REMOVED : POL_ADDED, "grant %s %s.%s",
		    gg->principal, rname, pa != NULL ? pa->name : pb->name);
		return;
	}
	if (perm_eq(&a, gg->ra, &b, gg->rb))
		return;
	if (perm_uniform(&a) && perm_uniform(&b)) {
		if (a.ops != b.ops) {
			pd_add(&df->d, "ops ");
			pd_bits(&df->d, a.ops, op_words, 3);
			pd_add(&df->d, " -> ");
			pd_bits(&df->d, b.ops, op_words, 3);
		}
		if (!set_eq(perm_fields(&a), gg->ra, perm_fields(&b), gg->rb)) {
			pd_sep(&df->d);
			pd_add(&df->d, "fields ");
			sb_fields(&df->d, perm_fields(&a), gg->ra);
			pd_add(&df->d, " -> ");
			sb_fields(&df->d, perm_fields(&b), gg->rb);
		}
	} else {
		perm_desc(&df->d, &a, gg->ra);
		pd_add(&df->d, " -> ");
		perm_desc(&df->d, &b, gg->rb);
	}
	pd_emit(
	    df, POL_CHANGED, "grant %s %s.%s", gg->principal, rname, pa->name);
}

/* By register name, then position: the grants on one register are then
 * consecutive. */
static int
cmp_grant(const void *x, const void *y)
{
	const pol_grant *a = *(const pol_grant *const *)x;
	const pol_grant *b = *(const pol_grant *const *)y;
	int d = strcmp(a->reg->name, b->reg->name);

	return d != 0 ? d : (a > b) - (a < b);
}

static size_t
grants_by_register(const pol_principal *p, const pol_grant **v)
{
	size_t i;

	if (p == NULL)
		return 0;
	for (i = 0; i < p->ngrants && i < POL_MAX_GRANTS; i++)
		v[i] = &p->grants[i];
	qsort(v, i, sizeof(*v), cmp_grant);
	return i;
}

static size_t
same_register(const pol_grant *const *v, size_t n)
{
	size_t k = 1;

	while (k < n && v[k]->reg == v[0]->reg)
		k++;
	return k;
}

/*
 * A principal's grants, register by register (in name order) and purpose
 * by purpose: each (register, purpose) the principal may use on either
 * side is one grant in the report.
 */
void
pd_grants(struct diff *df, const char *name, const pol_principal *a,
    const pol_principal *b)
{
	const pol_grant *va[POL_MAX_GRANTS], *vb[POL_MAX_GRANTS];
	size_t na = grants_by_register(a, va), nb = grants_by_register(b, vb);
	size_t i = 0, j = 0, ka, kb;
	struct grantgroup gg = {.principal = name};
	int c;

	while (i < na || j < nb) {
		if (i == na)
			c = 1;
		else if (j == nb)
			c = -1;
		else
			c = strcmp(va[i]->reg->name, vb[j]->reg->name);
		ka = c <= 0 ? same_register(va + i, na - i) : 0;
		kb = c >= 0 ? same_register(vb + j, nb - j) : 0;
		gg.ra = ka ? va[i]->reg : NULL;
		gg.rb = kb ? vb[j]->reg : NULL;
		gg.ga = va + i;
		gg.gb = vb + j;
		gg.na = ka;
		gg.nb = kb;
		pd_merge(df,
		    gg.ra ? (const void *const *)gg.ra->purposes_by_name : NULL,
		    gg.ra ? gg.ra->npurposes : 0,
		    gg.rb ? (const void *const *)gg.rb->purposes_by_name : NULL,
		    gg.rb ? gg.rb->npurposes : 0, diff_grant, &gg);
		i += ka;
		j += kb;
	}
}
