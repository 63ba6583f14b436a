/*
 * index.c - the lookup indexes of a parsed policy, and the lookups.
 *
 * Every connection looks its principal up by key, and every request looks up
 * a register, a purpose and fields by name, so each is a binary search over
 * an array of pointers sorted once by pol_parse; the arrays the pointers
 * point into stay in document order, since field and purpose indexes (and
 * so grants' bit sets) are positions in them. The same sorted arrays make
 * the parse's own cross-references and uniqueness checks n log n.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The generic comparisons below read a struct's name through a pointer to
 * the struct, which C allows because the name is its first member. */
_Static_assert(offsetof(pol_field, name) == 0, "name first");
_Static_assert(offsetof(pol_purpose, name) == 0, "name first");
_Static_assert(offsetof(pol_register, name) == 0, "name first");
_Static_assert(offsetof(pol_principal, name) == 0, "name first");

static const char *
name_of(const void *elem)
{
	return *(char *const *)*(const void *const *)elem;
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(name_of(a), name_of(b));
}

/* bsearch's key is the name itself. */
static int
cmp_key_name(const void *key, const void *elem)
{
	return strcmp(key, name_of(elem));
}

void
pj_sort_by_name(const void **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_name);
}

static const void *
find_by_name(const void *const *v, size_t n, const char *name)
{
	const void *const *hit;

	if (v == NULL || name == NULL)
		return NULL;
	hit = bsearch(name, v, n, sizeof(*v), cmp_key_name);
	return hit != NULL ? *hit : NULL;
}

/* An array of pointers to each of n structs of size sz at base. */
static const void **
pointers(const void *base, size_t n, size_t sz)
{
	const void **v = calloc(n > 0 ? n : 1, sizeof(*v));
	size_t i;

	if (v == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		v[i] = (const char *)base + i * sz;
	return v;
}

/* Names within a register are unique already (JSON object keys), so the
 * indexes need no duplicate check. */
int
pj_index_register(struct ctx *c, const char *path, pol_register *r)
{
	r->fields_by_name = (const pol_field **)pointers(
	    r->fields, r->nfields, sizeof(*r->fields));
	r->purposes_by_name = (const pol_purpose **)pointers(
	    r->purposes, r->npurposes, sizeof(*r->purposes));
	if (r->fields_by_name == NULL || r->purposes_by_name == NULL)
		return pj_fail(c, path, "out of memory");
	pj_sort_by_name((const void **)r->fields_by_name, r->nfields);
	pj_sort_by_name((const void **)r->purposes_by_name, r->npurposes);
	return 0;
}

int
pj_index_registers(struct ctx *c, pol_policy *p)
{
	p->registers_by_name = (const pol_register **)pointers(
	    p->registers, p->nregisters, sizeof(*p->registers));
	if (p->registers_by_name == NULL)
		return pj_fail(c, "$.registers", "out of memory");
	pj_sort_by_name((const void **)p->registers_by_name, p->nregisters);
	return 0;
}

/* Keys, then document order: of principals sharing a key, the first one
 * written comes first. */
static int
cmp_key(const void *a, const void *b)
{
	const pol_principal *x = *(const pol_principal *const *)a;
	const pol_principal *y = *(const pol_principal *const *)b;
	int d = memcmp(x->key, y->key, POL_KEY_BYTES);

	if (d != 0)
		return d;
	return (x > y) - (x < y);
}

static int
cmp_key_key(const void *key, const void *elem)
{
	return memcmp(
	    key, (*(const pol_principal *const *)elem)->key, POL_KEY_BYTES);
}

/*
 * Each connection is identified by its key alone, so a key shared by two
 * principals would make them indistinguishable. Of all principals that
 * repeat an earlier one's key, the one written first is reported, naming
 * the principal whose key it repeats.
 */
int
pj_index_principals(struct ctx *c, pol_policy *p)
{
	const pol_principal **k, *dup = NULL, *orig = NULL;
	char path[PATHLEN], sub[PATHLEN];
	size_t i;

	p->principals_by_name = (const pol_principal **)pointers(
	    p->principals, p->nprincipals, sizeof(*p->principals));
	p->principals_by_key = k = (const pol_principal **)pointers(
	    p->principals, p->nprincipals, sizeof(*p->principals));
	if (p->principals_by_name == NULL || k == NULL)
		return pj_fail(c, "$.principals", "out of memory");
	pj_sort_by_name((const void **)p->principals_by_name, p->nprincipals);
	if (p->nprincipals > 1)
		qsort(k, p->nprincipals, sizeof(*k), cmp_key);
	for (i = 1; i < p->nprincipals; i++) {
		if (memcmp(k[i - 1]->key, k[i]->key, POL_KEY_BYTES) != 0)
			continue;
		/* Within a run of equal keys only the first pair can
		 * improve on dup (the run is in document order), and there
		 * k[i - 1] is the run's first principal. */
		if (dup == NULL || k[i] < dup) {
			dup = k[i];
			orig = k[i - 1];
		}
	}
	if (dup == NULL)
		return 0;
	pj_path_key(path, "$.principals", dup->name);
	pj_path_key(sub, path, "key");
	return pj_fail(c, sub, "same key as principal \"%s\"", orig->name);
}

const pol_register *
pol_register_find(const pol_policy *p, const char *name)
{
	if (p == NULL)
		return NULL;
	return find_by_name(
	    (const void *const *)p->registers_by_name, p->nregisters, name);
}

const pol_field *
pol_field_find(const pol_register *r, const char *name)
{
	if (r == NULL)
		return NULL;
	return find_by_name(
	    (const void *const *)r->fields_by_name, r->nfields, name);
}

const pol_purpose *
pol_purpose_find(const pol_register *r, const char *name)
{
	if (r == NULL)
		return NULL;
	return find_by_name(
	    (const void *const *)r->purposes_by_name, r->npurposes, name);
}

const pol_principal *
pol_principal_by_key(const pol_policy *p, const uint8_t key[POL_KEY_BYTES])
{
	const pol_principal *const *hit;

	if (p == NULL || key == NULL || p->principals_by_key == NULL)
		return NULL;
	hit = bsearch(key, p->principals_by_key, p->nprincipals,
	    sizeof(*p->principals_by_key), cmp_key_key);
	return hit != NULL ? *hit : NULL;
}

const pol_principal *
pol_principal_by_name(const pol_policy *p, const char *name)
{
	if (p == NULL)
		return NULL;
	return find_by_name(
	    (const void *const *)p->principals_by_name, p->nprincipals, name);
}
