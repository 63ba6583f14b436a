/*
 * export_common.h - what the tests of the subject export (issue 10,
 * second part: SubjectExport; test_rights_export.c) share
 * (export_common.c): exports through libprivd, validated against
 * docs/subject-export.schema.json by validate_export.py ($EXPORT_SCHEMA,
 * $EXPORT_VALIDATOR, set by meson) and parsed with jansson, and the
 * checks of a document's registers and fields.
 *
 * These fail the running test (cmocka), like checks.h.
 */
#ifndef PRIVD_TEST_EXPORT_COMMON_H
#define PRIVD_TEST_EXPORT_COMMON_H

#include <stdint.h>

#include <jansson.h>

#include "rights_common.h"

/* An RFC 3339 time as privd writes it, in microseconds. */
int64_t time_of(const json_t *v);

/* Run validate_export.py on the document (len bytes): its exit status,
 * and its stderr in r. */
int run_validator(harness *h, const char *doc, size_t len, h_result *r);
/* The document must pass validate_export.py against the schema. */
void validate(harness *h, const char *doc, size_t len);
/* The document, changed by mutate, must fail validation: the schema is
 * strict enough to catch it. */
void invalid(
    harness *h, const json_t *doc, void (*mutate)(json_t *), const char *what);

/* An export as key (reg NULL: every register): libprivd's rc must be
 * want (for PRIVD_EDENIED with reason); on success the document,
 * validated and parsed (json_decref it), else NULL. export_ok: as RIGHTS,
 * must be OK. */
json_t *export_as(harness *h, const char *key, const char *reg,
    const char *subject, int want, int reason);
json_t *export_ok(harness *h, const char *reg, const char *subject);

/* A register of the document, a field of a register; fail if absent. */
json_t *reg_of(const json_t *doc, const char *name);
json_t *field_of(const json_t *reg, const char *name);
/* A member that must be a string. */
const char *str_of(const json_t *o, const char *member);
/* A member that must be the string want (NULL: null). */
void expect_str(const json_t *o, const char *member, const char *want);
/* The names of a register's fields in document order, comma-separated,
 * must be want. */
void expect_field_names(const json_t *reg, const char *want);
/* A stored field: its value (text), type, category, source, purpose and
 * legal basis; collected and updated times, equal. */
void expect_field(const json_t *reg, const char *name, const char *value,
    const char *type, const char *category, const char *source,
    const char *purpose, const char *basis);
/* A field's retention: rule and action (NULL: none), due (0: null),
 * minimum's rule (NULL: none) and until (0: null). */
void expect_retention(const json_t *reg, const char *name, const char *rule,
    const char *action, int64_t due, const char *min_rule, int64_t min_until);
/* A field's collected time. */
int64_t collected_of(const json_t *reg, const char *name);

#endif /* PRIVD_TEST_EXPORT_COMMON_H */
