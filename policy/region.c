/*
 * region.c - regions and transfer rules.
 *
 * A region is a named group of country codes; a register's transfer rule
 * lists regions and codes. Both become sets of country codes held as bit
 * sets (a bit per two-letter code, 676 in all), so expanding a rule costs a
 * few words per entry whatever the regions hold, duplicates vanish on their
 * own, and the decision tests one bit.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The predefined region: EU-27 plus Iceland, Liechtenstein and Norway. */
static const char *const eea_countries[] = {"AT", "BE", "BG", "HR", "CY", "CZ",
    "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU",
    "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
    NULL};

static const char *const transfer_keys[] = {"allowed_regions", NULL};

struct pj_region {
	const char *name; /* borrowed from the document */
	uint64_t bits[POL_COUNTRY_WORDS];
};

static void
set_bit(uint64_t bits[POL_COUNTRY_WORDS], int b)
{
	bits[b / 64] |= UINT64_C(1) << (b % 64);
}

static int
cmp_region(const void *a, const void *b)
{
	return strcmp(((const struct pj_region *)a)->name,
	    ((const struct pj_region *)b)->name);
}

void
pj_eea(uint64_t bits[POL_COUNTRY_WORDS])
{
	size_t k;

	memset(bits, 0, POL_COUNTRY_WORDS * sizeof(*bits));
	for (k = 0; eea_countries[k] != NULL; k++)
		set_bit(bits, pol_country_bit(eea_countries[k]));
}

void
pj_regions_free(struct ctx *c)
{
	free(c->regions);
	c->regions = NULL;
	c->nregions = 0;
}

/* User-defined regions: named groups of country codes. EEA is built in so
 * that every policy means the same thing by it. */
int
pj_regions_parse(struct ctx *c, json_t *root)
{
	const char *name;
	char path[PATHLEN];
	json_t *regions, *list, *v;
	size_t i;
	int b;

	if (pj_get(c, "$", root, "regions", W_OBJ, false, &regions) == -1)
		return -1;
	if (regions == NULL || json_object_size(regions) == 0)
		return 0;
	if (json_object_size(regions) > POL_MAX_REGIONS)
		return pj_fail(
		    c, "$.regions", "more than %d regions", POL_MAX_REGIONS);
	c->regions = calloc(json_object_size(regions), sizeof(*c->regions));
	if (c->regions == NULL)
		return pj_fail(c, "$.regions", "out of memory");
	json_object_foreach(regions, name, list)
	{
		struct pj_region *rg = &c->regions[c->nregions++];

		if (!pol_name_valid(name))
			return pj_fail(c, "$.regions", "invalid region name");
		pj_path_key(path, "$.regions", name);
		if (strcmp(name, "EEA") == 0)
			return pj_fail(c, path,
			    "EEA is predefined and cannot be redefined");
		if (pol_country_bit(name) >= 0)
			return pj_fail(c, path,
			    "a region name must not look like a country code");
		if (!json_is_array(list))
			return pj_fail(c, path, "expected an array");
		if (json_array_size(list) == 0)
			return pj_fail(c, path, "must not be empty");
		if (json_array_size(list) > POL_MAX_REGION_COUNTRIES)
			return pj_fail(c, path, "more than %d countries",
			    POL_MAX_REGION_COUNTRIES);
		rg->name = name;
		json_array_foreach(list, i, v)
		{
			if (!json_is_string(v))
				return pj_fail_idx(
				    c, path, i, "expected a string");
			if ((b = pol_country_bit(json_string_value(v))) < 0)
				return pj_fail_idx(c, path, i,
				    "not an ISO 3166-1 alpha-2 country code");
			set_bit(rg->bits, b);
		}
	}
	qsort(c->regions, c->nregions, sizeof(*c->regions), cmp_region);
	return 0;
}

static const struct pj_region *
region_find(const struct ctx *c, const char *name)
{
	struct pj_region key = {.name = name};

	if (c->regions == NULL)
		return NULL;
	return bsearch(
	    &key, c->regions, c->nregions, sizeof(*c->regions), cmp_region);
}

/* The bit set as a sorted array of codes, the form policy.h promises. */
static int
countries_list(struct ctx *c, const char *path, pol_register *r)
{
	size_t n = 0, w;
	int b;

	for (w = 0; w < POL_COUNTRY_WORDS; w++)
		n += (size_t)__builtin_popcountll(r->countries[w]);
	if ((r->allowed_countries = calloc(n, sizeof(char *))) == NULL)
		return pj_fail(c, path, "out of memory");
	for (b = 0; b < 26 * 26; b++) {
		char cc[3] = {(char)('A' + b / 26), (char)('A' + b % 26), 0};

		if (!(r->countries[b / 64] >> (b % 64) & 1))
			continue;
		if (pj_sdup(c, path, cc,
		        &r->allowed_countries[r->nallowed_countries]) == -1)
			return -1;
		r->nallowed_countries++;
	}
	return 0;
}

/* Expand "allowed_regions" (region names and country codes) into the set of
 * countries the decision compares a principal's region against. */
int
pj_transfer_parse(struct ctx *c, const char *rpath, json_t *jr, pol_register *r)
{
	char path[PATHLEN], lpath[PATHLEN];
	uint64_t eea[POL_COUNTRY_WORDS];
	const struct pj_region *rg;
	json_t *t, *list, *v;
	size_t i, k;
	const char *s;
	int b;

	if (pj_get(c, rpath, jr, "transfer", W_OBJ, false, &t) == -1)
		return -1;
	if (t == NULL)
		return 0;
	pj_path_key(path, rpath, "transfer");
	if (pj_check_keys(c, path, t, transfer_keys) == -1 ||
	    pj_get_list(c, path, t, "allowed_regions", true, &list) == -1)
		return -1;
	pj_path_key(lpath, path, "allowed_regions");
	if (json_array_size(list) > POL_MAX_ALLOWED_REGIONS)
		return pj_fail(
		    c, lpath, "more than %d entries", POL_MAX_ALLOWED_REGIONS);
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		if (strcmp(s, "EEA") == 0) {
			pj_eea(eea);
			for (k = 0; k < POL_COUNTRY_WORDS; k++)
				r->countries[k] |= eea[k];
		} else if ((rg = region_find(c, s)) != NULL) {
			for (k = 0; k < POL_COUNTRY_WORDS; k++)
				r->countries[k] |= rg->bits[k];
		} else if ((b = pol_country_bit(s)) >= 0) {
			set_bit(r->countries, b);
		} else if (pol_name_valid(s)) {
			return pj_fail_idx(
			    c, lpath, i, "unknown region \"%s\"", s);
		} else {
			return pj_fail_idx(c, lpath, i, "unknown region");
		}
	}
	return countries_list(c, lpath, r);
}
