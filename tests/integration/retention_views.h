/*
 * retention_views.h - what the tests of anonymisation, reporting and
 * privctl's retention commands (issue 9) read back (retention_views.c):
 * privctl's output, Aggregate answers spoken raw, and the store's files.
 *
 * These fail the running test (cmocka), like checks.h.
 */
#ifndef PRIVD_TEST_RETENTION_VIEWS_H
#define PRIVD_TEST_RETENTION_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retention_common.h"

/* ---- privctl's output ------------------------------------------------ */

/* privctl as key with the arguments (string literals or char *), which
 * must exit code; its output into *r. */
#define PC(h, key, code, r, ...)                                               \
	privctl_expect(h, key, (const char *[]){__VA_ARGS__, NULL}, r, code,   \
	    #__VA_ARGS__)

/* t_us as a DATE ("2026-11-27", out of 16 bytes), and as privctl prints
 * a time to the second ("2026-11-27T10:00:00Z", out of 32 bytes). */
void date_of(int64_t t_us, char *out);
void iso_of(int64_t t_us, char *out);

/* Midnight (UTC) of the day of t_us: the time a DATE names. */
int64_t midnight(int64_t t_us);

/* out holds line (given without its newline) as one whole line. */
void expect_line(const char *out, const char *line);

/* The first line of out that begins with prefix, into line (size bytes,
 * without its newline); fails if there is none. */
void line_of(const char *out, const char *prefix, char *line, size_t size);

/* The number of lines of out. */
size_t nlines(const char *out);

/*
 * A usage error or a refusal: privctl says why on stderr in one line
 * beginning "privctl: " and containing needle, prints nothing on stdout,
 * and does not repeat secret (a subject id given; NULL: none).
 */
void expect_why(const h_result *r, const char *needle, const char *secret);

/*
 * The line of a `privctl retention preview|run` table for (reg, rule)
 * must say action, fields, subjects and held; a rule with no line is
 * fields 0, subjects 0, held 0.
 */
void expect_run_line(const char *out, const char *reg, const char *rule,
    const char *action, uint64_t fields, uint64_t subjects, uint64_t held);

/* ---- reporting (Aggregate), raw --------------------------------------- */

/* The deny reasons of a field outside the grant and of an unknown field
 * or purpose. */
#define R_FIELD_NOT_GRANTED 7
#define R_UNKNOWN_FIELD     4
#define R_UNKNOWN_PURPOSE   5

/* AggregateRequest as key for purpose: field of reg, grouped by group_by
 * (NULL or "": no grouping). */
Privd__V1__Response *aggregate(harness *h, const char *key, const char *purpose,
    const char *reg, const char *field, const char *group_by);

/* The same, which must be OK with an AggregateResponse; its answer. */
Privd__V1__Response *aggregate_ok(harness *h, const char *key,
    const char *purpose, const char *reg, const char *field,
    const char *group_by);

/* The group of an aggregate whose key is the text key ("" without
 * group_by), or with key NULL the group of records without a value
 * (missing); NULL if the answer shows no such group. */
const Privd__V1__AggregateGroup *agg_group(
    const Privd__V1__Response *r, const char *key);

/* The group (as agg_group finds it) must be shown with count records and,
 * for an integer field, sum, min and max and the mean sum/count. */
void expect_group(const Privd__V1__Response *r, const char *key, uint64_t count,
    int64_t sum, int64_t min, int64_t max);

/* The answer shows exactly ngroups groups, suppresses sgroups groups of
 * srecords records, has min_group and says whether the field is an
 * integer; and, whatever the test expects, shows no group under
 * min_group, its groups in key order (the missing one last), and no
 * suppressed remainder under min_group beside a shown group
 * (complementary suppression). */
void expect_agg(const Privd__V1__Response *r, size_t ngroups, uint64_t sgroups,
    uint64_t srecords, uint32_t min_group, bool integer);

/* ---- the store's files ------------------------------------------------ */

/* Compact the store of a stopped privd into root/compact, as `mdb_copy -c
 * DATA root/compact` does (liblmdb's mdb_env_copy2 with MDB_CP_COMPACT:
 * free pages dropped); its path into out. */
void compact_store(harness *h, char *out, size_t size);

#endif /* PRIVD_TEST_RETENTION_VIEWS_H */
