/*
 * internal.h - shared between the files of the policy module, not part of
 * its interface (policy.h is).
 *
 *   pjson.c   typed access to a document's members; errors with JSON paths;
 *             names, durations and keys
 *   region.c  regions and transfer rules, as sets of country codes
 *   index.c   the sorted lookup indexes and the lookups over them
 *   policy.c  the schema: pol_parse and pol_free
 *   diff.c    pol_diff over parsed policies; grantdiff.c, its grants
 *
 * Every step of a parse is linear in what it reads, or n log n where it
 * sorts; nothing scans a list once per entry of another.
 */
#ifndef PRIVD_POLICY_INTERNAL_H
#define PRIVD_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "policy.h"

#define PATHLEN sizeof(((pol_error *)0)->path)

struct pj_region; /* region.c */

/* Parse state: where errors go, and the document's regions. */
struct ctx {
	pol_error *err;
	struct pj_region *regions; /* sorted by name; owned, pj_regions_free */
	size_t nregions;
	size_t ngrants; /* in the principals parsed so far */
};

/* What a member must be; jansson has two types for booleans. */
enum want { W_STR, W_BOOL, W_OBJ, W_ARR };

/* pjson.c. Each returns 0, or -1 after recording the error in c. */
int pj_fail(struct ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int pj_fail_key(struct ctx *c, const char *path, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int pj_fail_entry(struct ctx *c, const char *path, const char *key, size_t i,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int pj_fail_idx(struct ctx *c, const char *path, size_t i, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int pj_fail_json(struct ctx *c, const json_error_t *je);
void pj_path_key(char *out, const char *base, const char *key);
void pj_path_idx(char *out, const char *base, size_t i);
int pj_lookup(const char *const *table, const char *s);
int pj_check_keys(
    struct ctx *c, const char *path, json_t *obj, const char *const *allowed);
int pj_get(struct ctx *c, const char *path, json_t *obj, const char *key,
    enum want w, bool required, json_t **out);
int pj_get_str(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char **out);
int pj_get_bool(
    struct ctx *c, const char *path, json_t *obj, const char *key, bool *out);
int pj_get_name(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char **out);
int pj_get_enum(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, const char *const *table, const char *what, int *out);
int pj_get_list(struct ctx *c, const char *path, json_t *obj, const char *key,
    bool required, json_t **out);
/* A duration (pol_duration_parse); zero: "0 <unit>" is accepted too. */
int pj_duration(const char *s, bool zero, int64_t *out);
int pj_get_duration(struct ctx *c, const char *path, json_t *obj,
    const char *key, bool zero, int64_t *out);
int pj_sdup(struct ctx *c, const char *path, const char *s, char **out);
bool pj_z85_key(const char *s, uint8_t key[POL_KEY_BYTES]);

/* region.c. pj_eea gives the predefined region EEA as a country set. */
void pj_eea(uint64_t bits[POL_COUNTRY_WORDS]);
int pj_regions_parse(struct ctx *c, json_t *root);
void pj_regions_free(struct ctx *c);
int pj_transfer_parse(
    struct ctx *c, const char *rpath, json_t *jr, pol_register *r);

/* index.c: build the indexes of policy.h. pj_index_principals also refuses
 * two principals with one key. */
int pj_index_register(struct ctx *c, const char *path, pol_register *r);
int pj_index_registers(struct ctx *c, pol_policy *p);
int pj_index_principals(struct ctx *c, pol_policy *p);
/* Sort n pointers to structs whose first member is their name (char *). */
void pj_sort_by_name(const void **v, size_t n);

/* diff.c and grantdiff.c: building pol_diff's report. */
/* A growing string for a detail; if memory runs out it ends in "...". */
struct sb {
	char *s;
	size_t len, cap;
	char fixed[512];
};

struct diff {
	pol_diff_fn fn;
	void *arg;
	size_t n;
	char what[4 * POL_MAX_NAME + 32];
	struct sb d; /* the detail of the difference being built */
};

void pd_add(struct sb *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "; " between the parts of a detail. */
void pd_sep(struct sb *b);
/* Words of the bits set in mask, comma-separated; "(none)" if none. */
void pd_bits(struct sb *b, unsigned mask, const char *const *words, size_t n);
/* Report one difference: what is formatted from fmt, the detail is df->d,
 * which is then emptied. */
void pd_emit(struct diff *df, pol_change ch, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/*
 * Merge two name-sorted arrays: calls fn once per name, with the element
 * of each side or NULL. The arrays' elements start with their name.
 */
typedef void (*pd_merge_fn)(
    struct diff *df, const void *x, const void *y, const void *ctx);

void pd_merge(struct diff *df, const void *const *a, size_t na,
    const void *const *b, size_t nb, pd_merge_fn fn, const void *ctx);
/* The grants of principal name: a in the old policy, b in the new (either
 * may be NULL). */
void pd_grants(struct diff *df, const char *name, const pol_principal *a,
    const pol_principal *b);

#endif /* PRIVD_POLICY_INTERNAL_H */
