/*
 * capgen.h - build large, valid policy documents for the caps test
 * (test_caps.c), the policy benchmark (bench/policy_bench.c) and the fuzz
 * corpus: every count given explicitly, so that a test can build a policy
 * exactly at a cap, or one past it.
 *
 * Names are short and regular ("reg3", "p12", "f200", "c5", "r7", "area9",
 * "u1000"), so a document's size grows with the counts, not with the names.
 */
#ifndef PRIVD_CAPGEN_H
#define PRIVD_CAPGEN_H

#include <stddef.h>

typedef struct capgen {
	size_t registers;
	size_t purposes;        /* per register */
	size_t fields;          /* per register */
	size_t categories;      /* distinct field categories per register */
	size_t retention;       /* rules per register */
	size_t rule_categories; /* categories listed by rule 0 (others: 2) */
	size_t allowed_regions; /* entries of each register's transfer rule */
	size_t regions;         /* user-defined regions */
	size_t countries;       /* codes per region (at most 676) */
	size_t principals;
	size_t grants;         /* per principal, */
	size_t total_grants;   /* up to this many in all (0: no limit) */
	size_t grant_purposes; /* purposes listed per grant */
	size_t grant_fields;   /* fields listed per grant; 0 = ["*"] */
} capgen;

/* Every count at the policy module's cap (POL_MAX_*), lists in grants and
 * rules of a moderate length. */
void capgen_at_caps(capgen *g);

/*
 * The document for g: a NUL-terminated string the caller frees, its length
 * in *len. NULL if out of memory. Names: register i is "reg<i>", its
 * purposes "p<k>", fields "f<k>", categories "c<k>", rules "r<k>"; region i
 * "area<i>"; principal i "u<i>" with a distinct key. The last entry of a
 * transfer rule longer than the number of regions is a country code.
 */
char *capgen_build(const capgen *g, size_t *len);

#endif /* PRIVD_CAPGEN_H */
