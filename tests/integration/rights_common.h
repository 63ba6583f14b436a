/*
 * rights_common.h - what the tests of the data subject rights (issue 10,
 * first part: restriction, objection, erasure; test_rights_*.c) share
 * (rights_common.c): the three requests spoken raw (libprivd's calls for
 * them are not relied on), gets, puts and deletes whose outcome a test
 * names, the example policy's data, and the audit events of one subject.
 *
 * The tests run a real privd with the example policy
 * (policy/examples/aktiivitieto.json) on the test clock, sweeping only
 * when asked (ret_setup_example, retention_common.h). Its subject_rights
 * principal is "dpo" (RIGHTS).
 *
 * These fail the running test (cmocka), like checks.h.
 */
#ifndef PRIVD_TEST_RIGHTS_COMMON_H
#define PRIVD_TEST_RIGHTS_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "retention_common.h"

/* privd.v1.DenyReason values the tests expect (retention_common.h and
 * retention_views.h have the others). */
#ifndef R_UNKNOWN_PURPOSE
#define R_UNKNOWN_PURPOSE 5
#endif
#define R_REGION     8
#define R_RESTRICTED 9
#define R_OBJECTED   10

/* The example policy's principal with the role subject_rights. */
#define RIGHTS "dpo"

/* The example's registers and the purposes the tests use most. */
#define ACIS "acis"
#define CR   "customer_relationship" /* crm's purpose with every field */
#define ST_P "satisfaction_tracking" /* acis's purposes */
#define CXM  "cx_management"

/* Every field of the example's customers, and all but billing_details
 * (sorted, comma-separated, as fields_of gives them). */
#define CUST_ALL                                                               \
	"billing_details,classification,customer_type,email,feedback_score,"   \
	"feedback_text,name,organisation,organisation_address,phone,position"
#define CUST_NO_BILLING                                                        \
	"classification,customer_type,email,feedback_score,feedback_text,"     \
	"name,organisation,organisation_address,phone,position"
/* What put_acis stores. */
#define ACIS_ALL "customer_type,email,feedback_score,name"

/* ---- the requests, raw ----------------------------------------------- */

/* SubjectRestrict, SubjectObject and SubjectErase as key (the request's
 * purpose left empty: privd does not need it). regs NULL (n 0): every
 * register. */
Privd__V1__Response *restrict_raw(
    harness *h, const char *key, const char *reg, const char *subject, bool on);
Privd__V1__Response *object_raw(harness *h, const char *key, const char *reg,
    const char *subject, const char *purpose, bool on);
Privd__V1__Response *erase_raw(harness *h, const char *key, const char *subject,
    const char *const *regs, size_t n);

/* A restriction (on) or its lift (off) as RIGHTS that must be OK, with
 * the answer's `changed` as given. */
void restrict_ok(
    harness *h, const char *reg, const char *subject, bool on, bool changed);

/* An objection to purpose (on) or its withdrawal as RIGHTS that must be
 * OK, with `changed` as given. */
void object_ok(harness *h, const char *reg, const char *subject,
    const char *purpose, bool on, bool changed);

/* A request whose answer must have status st (and for DENIED reason) and
 * no payload but what an OK answer carries; the answer is freed. */
void restrict_expect(harness *h, const char *key, const char *reg,
    const char *subject, bool on, int st, int reason, const char *what);
void object_expect(harness *h, const char *key, const char *reg,
    const char *subject, const char *purpose, bool on, int st, int reason,
    const char *what);

/* The ErasedRegister of reg in an erasure's answer, or NULL. */
const Privd__V1__ErasedRegister *erased_of(
    const Privd__V1__Response *r, const char *reg);

/*
 * An erasure's answer: status st (OK or RETAINED), a SubjectEraseResponse
 * listing exactly the registers regs (n of them, in the given order,
 * which must be by name).
 */
void expect_erase_answer(
    const Privd__V1__Response *r, int st, const char *const *regs, size_t n);

/*
 * e (an ErasedRegister) deleted exactly the fields of deleted (sorted,
 * comma-separated: "" none), kept exactly n_kept fields, and destroyed
 * the key or not.
 */
void expect_erased(const Privd__V1__ErasedRegister *e, const char *deleted,
    size_t n_kept, bool key_destroyed);

/* The Retained entry of field in e, or NULL. */
const Privd__V1__Retained *kept_of(
    const Privd__V1__ErasedRegister *e, const char *field);

/* ---- data requests whose outcome the test names ----------------------- */

/*
 * A get (of every field key may read), a put of one text field, a delete
 * of one field, as key for purpose: libprivd's rc must be rc (PRIVD_OK,
 * PRIVD_EDENIED, PRIVD_ENOTFOUND, ...) and, for PRIVD_EDENIED, the deny
 * reason reason. A restriction's denial must say so ("processing
 * restricted by the data subject"), an objection's must name the
 * purpose.
 */
void expect_get(harness *h, const char *key, const char *reg,
    const char *purpose, const char *subject, int rc, int reason);
void expect_put(harness *h, const char *key, const char *reg,
    const char *purpose, const char *subject, const char *field,
    const char *value, int rc, int reason);
void expect_del(harness *h, const char *key, const char *reg,
    const char *purpose, const char *subject, const char *field, int rc,
    int reason);

/* ---- the example policy's data ---------------------------------------- */

/* Every field of customers (billing_details only if billing) of subject,
 * as crm writes them for customer_relationship. */
void put_cust(harness *h, const char *subject, bool billing);

/* name, email, feedback_score and customer_type of subject in acis, as
 * acis writes them for satisfaction_tracking. */
void put_acis(harness *h, const char *subject);

/* crm ends subject's customer relationship at at_us (must be OK). */
void end_rel(harness *h, const char *subject, int64_t at_us);

/* ---- the audit events of a subject ------------------------------------ */

/* Every event of subject (privd looks its pseudonym up from the id), as
 * the auditor reads them, oldest first. Free with evlist_free. */
void subject_events(harness *h, const char *subject, evlist *l);

/*
 * The number of events in l with op, register reg (NULL: any), principal
 * (NULL: any), decision, status and (for REFUSED) reason; each must have
 * a pseudonym, and the same pseudonym as every other event of l that has
 * one (they are one subject's).
 */
size_t count_events(const evlist *l, const char *op, const char *reg,
    const char *principal, int decision, int status, int reason);

/* Exactly n such events of subject. */
void expect_events(harness *h, const char *subject, const char *op,
    const char *reg, const char *principal, int decision, int status,
    int reason, size_t n);

#endif /* PRIVD_TEST_RIGHTS_COMMON_H */
