/*
 * test_caps.c - the caps on a policy's counts: a policy with every count at
 * its cap validates and every lookup over it finds what it should; one past
 * any cap is refused at the right JSON path with a message naming the cap.
 * (How long validation takes is the benchmark's business:
 * bench/policy_bench.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "capgen.h"
#include "policy.h"

static pol_policy *
build_parse(const capgen *g, pol_error *err)
{
	pol_policy *p = NULL;
	size_t len;
	char *doc = capgen_build(g, &len);

	assert_non_null(doc);
	if (pol_parse(doc, len, &p, err) != 0)
		p = NULL;
	free(doc);
	return p;
}

/* Every lookup of a register's contents finds the element itself, and
 * fields keep their document order. */
static void
check_register(const pol_policy *p, const pol_register *r)
{
	char name[32];
	size_t i;
	int b;

	assert_ptr_equal(pol_register_find(p, r->name), r);
	for (i = 0; i < r->nfields; i++) {
		snprintf(name, sizeof(name), "f%zu", i);
		assert_string_equal(r->fields[i].name, name);
		assert_int_equal(r->fields[i].index, i);
		assert_ptr_equal(pol_field_find(r, name), &r->fields[i]);
	}
	for (i = 0; i < r->npurposes; i++) {
		snprintf(name, sizeof(name), "p%zu", i);
		assert_int_equal(r->purposes[i].index, i);
		assert_ptr_equal(pol_purpose_find(r, name), &r->purposes[i]);
	}
	/* Misses on either side of every name, and between them. */
	assert_null(pol_field_find(r, "f256"));
	assert_null(pol_field_find(r, "a"));
	assert_null(pol_field_find(r, "z"));
	assert_null(pol_field_find(r, "f"));
	assert_null(pol_purpose_find(r, "p64"));
	assert_null(pol_purpose_find(r, ""));
	assert_null(pol_field_find(r, NULL));

	/* The transfer rule: sorted, unique, the same as its bit set. */
	assert_non_null(r->allowed_countries);
	for (i = 0; i < r->nallowed_countries; i++) {
		if (i > 0)
			assert_true(strcmp(r->allowed_countries[i - 1],
			                r->allowed_countries[i]) < 0);
		b = pol_country_bit(r->allowed_countries[i]);
		assert_true(b >= 0);
		assert_true((r->countries[b / 64] >> (b % 64)) & 1);
	}
	for (i = 0, b = 0; b < 26 * 26; b++)
		i += (r->countries[b / 64] >> (b % 64)) & 1;
	assert_int_equal(i, r->nallowed_countries);
}

static void
test_at_caps(void **state)
{
	pol_policy *p;
	pol_error err;
	capgen g;
	char name[32];
	size_t i, grants = 0;

	capgen_at_caps(&g);
	if ((p = build_parse(&g, &err)) == NULL)
		fail_msg("at caps: %s: %s", err.path, err.reason);

	assert_int_equal(p->nregisters, POL_MAX_REGISTERS);
	assert_int_equal(p->nprincipals, POL_MAX_PRINCIPALS);
	for (i = 0; i < p->nregisters; i++) {
		const pol_register *r = &p->registers[i];

		assert_int_equal(r->nfields, POL_MAX_FIELDS);
		assert_int_equal(r->npurposes, POL_MAX_PURPOSES);
		assert_int_equal(r->nretention, POL_MAX_RETENTION);
		/* 64 regions of 250 codes each cover all 676. */
		assert_int_equal(r->nallowed_countries, 26 * 26);
		check_register(p, r);
	}
	assert_null(pol_register_find(p, "reg16"));
	assert_null(pol_register_find(p, "a"));

	assert_int_equal(p->principals[0].ngrants, POL_MAX_GRANTS);
	for (i = 0; i < p->nprincipals; i++) {
		const pol_principal *pr = &p->principals[i];
		uint8_t key[POL_KEY_BYTES];

		grants += pr->ngrants;
		snprintf(name, sizeof(name), "u%zu", i);
		assert_string_equal(pr->name, name);
		assert_ptr_equal(pol_principal_by_name(p, name), pr);
		assert_ptr_equal(pol_principal_by_key(p, pr->key), pr);
		/* A key one bit away belongs to nobody. */
		memcpy(key, pr->key, sizeof(key));
		key[0] ^= 0x80;
		assert_null(pol_principal_by_key(p, key));
	}
	assert_int_equal(grants, POL_MAX_GRANTS_TOTAL);
	assert_null(pol_principal_by_name(p, "u1024"));
	assert_null(pol_principal_by_name(p, NULL));
	assert_null(pol_principal_by_key(p, NULL));
	pol_free(&p);
}

struct over {
	const char *name;
	size_t *(*count)(capgen *g); /* the count to raise by one */
	const char *path;
	const char *reason;
};

#define COUNT(member)                                                          \
	static size_t *count_##member(capgen *g)                               \
	{                                                                      \
		return &g->member;                                             \
	}
COUNT(registers)
COUNT(purposes)
COUNT(fields)
COUNT(retention)
COUNT(rule_categories)
COUNT(allowed_regions)
COUNT(regions)
COUNT(countries)
COUNT(principals)
COUNT(grants)
COUNT(total_grants)

/* Each cap, one past it. The caps' values are spelled out so that
 * changing one means changing the documentation too. */
static const struct over overs[] = {
    {"registers", count_registers, "$.registers", "more than 16 registers"},
    {"purposes", count_purposes, "$.registers.reg0.purposes",
        "more than 64 purposes"},
    {"fields", count_fields, "$.registers.reg0.fields", "more than 256 fields"},
    {"retention rules", count_retention, "$.registers.reg0.retention",
        "more than 64 rules"},
    {"rule categories", count_rule_categories,
        "$.registers.reg0.retention[0].categories", "more than 256 categories"},
    {"allowed regions", count_allowed_regions,
        "$.registers.reg0.transfer.allowed_regions", "more than 64 entries"},
    {"regions", count_regions, "$.regions", "more than 64 regions"},
    {"countries", count_countries, "$.regions.area0",
        "more than 250 countries"},
    {"principals", count_principals, "$.principals",
        "more than 1024 principals"},
    {"grants", count_grants, "$.principals.u0.grants", "more than 64 grants"},
    {"grants in all", count_total_grants, "$.principals.u64.grants",
        "more than 4096 grants in the policy"},
};

static void
test_over_caps(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(overs) / sizeof(overs[0]); i++) {
		const struct over *o = &overs[i];
		pol_policy *p;
		pol_error err;
		capgen g;

		capgen_at_caps(&g);
		(*o->count(&g))++;
		if ((p = build_parse(&g, &err)) != NULL) {
			pol_free(&p);
			fail_msg("%s: one over the cap accepted", o->name);
		}
		if (strcmp(err.path, o->path) != 0 ||
		    strcmp(err.reason, o->reason) != 0)
			fail_msg("%s: got %s: %s; want %s: %s", o->name,
			    err.path, err.reason, o->path, o->reason);
	}
}

/* The caps in policy.h are the ones the table above spells out. */
static void
test_cap_values(void **state)
{
	assert_int_equal(POL_MAX_REGISTERS, 16);
	assert_int_equal(POL_MAX_FIELDS, 256);
	assert_int_equal(POL_MAX_PURPOSES, 64);
	assert_int_equal(POL_MAX_RETENTION, 64);
	assert_int_equal(POL_MAX_RULE_CATEGORIES, 256);
	assert_int_equal(POL_MAX_ALLOWED_REGIONS, 64);
	assert_int_equal(POL_MAX_REGIONS, 64);
	assert_int_equal(POL_MAX_REGION_COUNTRIES, 250);
	assert_int_equal(POL_MAX_PRINCIPALS, 1024);
	assert_int_equal(POL_MAX_GRANTS, 64);
	assert_int_equal(POL_MAX_GRANTS_TOTAL, 4096);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_values),
	    cmocka_unit_test(test_at_caps),
	    cmocka_unit_test(test_over_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
