/*
 * internal.h - shared between the files of the policy module, not part of
 * its interface (policy.h is).
 *
 *   pjson.c   typed access to a document's members; errors with JSON paths;
 *             names, durations and keys
 *   region.c  regions and transfer rules, as sets of country codes
 *   index.c   the sorted lookup indexes and the lookups over them
 *   policy.c  the schema: pol_parse and pol_free
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
int pj_get_duration(struct ctx *c, const char *path, json_t *obj,
    const char *key, int64_t *out);
int pj_sdup(struct ctx *c, const char *path, const char *s, char **out);
bool pj_z85_key(const char *s, uint8_t key[POL_KEY_BYTES]);

/* region.c */
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

#endif /* PRIVD_POLICY_INTERNAL_H */
