/*
 * retention_common.h - what the retention tests (issue 9,
 * test_retention_*.c) share (retention_common.c): their policy, times on
 * the calendar, the retention requests spoken raw (libprivd's calls for
 * them are not relied on), and the retention events of the audit log
 * with their rule.
 *
 * These fail the running test (cmocka), like checks.h.
 */
#ifndef PRIVD_TEST_RETENTION_COMMON_H
#define PRIVD_TEST_RETENTION_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define US_PER_S   1000000LL
#define US_PER_DAY (86400LL * US_PER_S)
#define DAY_S      86400LL

/* privd.v1.DenyReason values the tests expect. */
#define R_UNKNOWN_REGISTER 3
#define R_NO_GRANT         6
#define R_ROLE_REQUIRED    11

/*
 * The retention tests' own policy (the example's customer rules, and a
 * register ended by contract):
 *   customers (purpose invoicing): name (identity), email (contact),
 *     notes (feedback), billing_details (billing); rules
 *     bookkeeping: billing, keep_at_least 6 years from relationship_end;
 *     after-customership: *, delete 1 year after relationship_end;
 *     notes-90d: feedback, delete 90 days after collected.
 *   acis (purpose cx): name (identity), feedback_score (feedback,
 *     integer); rule contract-end: *, delete 30 days after contract_end.
 *   b2b (purpose cx): name; no rule (its name is shorter than acis's
 *     and sorts after it).
 * Principals: svc (read, write, delete of customers), acis (the same on
 * acis), reader (read of customers only), admin (policy_admin), rights
 * (subject_rights), auditor (auditor). RET_POLICY_NOTES(d) is the same
 * policy with notes-90d's "after" set to d (its id stays notes-90d).
 */
#define RET_POLICY_NOTES(d)                                                    \
	H_POL_CONTROLLER                                                       \
	" \"registers\": {\n"                                                  \
	"  \"customers\": {\n"                                                 \
	"   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n" \
	"   \"fields\": {\n"                                                   \
	"    \"name\": {\"category\": \"identity\", \"type\": \"string\", "    \
	"\"identifying\": true},\n"                                            \
	"    \"email\": {\"category\": \"contact\", \"type\": \"email\", "     \
	"\"identifying\": true},\n"                                            \
	"    \"notes\": {\"category\": \"feedback\", \"type\": \"text\"},\n"   \
	"    \"billing_details\": {\"category\": \"billing\", \"type\": "      \
	"\"text\"}},\n"                                                        \
	"   \"retention\": [\n"                                                \
	"    {\"id\": \"bookkeeping\", \"categories\": [\"billing\"], "        \
	"\"from\": \"relationship_end\", \"keep_at_least\": \"6 years\"},\n"   \
	"    {\"id\": \"after-customership\", \"categories\": [\"*\"], "       \
	"\"from\": \"relationship_end\", \"after\": \"1 year\", \"action\": "  \
	"\"delete\"},\n"                                                       \
	"    {\"id\": \"notes-90d\", \"categories\": [\"feedback\"], "         \
	"\"from\": \"collected\", \"after\": \"" d "\", \"action\": "          \
	"\"delete\"}]},\n"                                                     \
	"  \"acis\": {\n"                                                      \
	"   \"purposes\": {\"cx\": {\"legal_basis\": \"contract\"}},\n"        \
	"   \"fields\": {\n"                                                   \
	"    \"name\": {\"category\": \"identity\", \"type\": \"string\", "    \
	"\"identifying\": true},\n"                                            \
	"    \"feedback_score\": {\"category\": \"feedback\", \"type\": "      \
	"\"integer\"}},\n"                                                     \
	"   \"retention\": [\n"                                                \
	"    {\"id\": \"contract-end\", \"categories\": [\"*\"], \"from\": "   \
	"\"contract_end\", \"after\": \"30 days\", \"action\": "               \
	"\"delete\"}]},\n"                                                     \
	"  \"b2b\": {\n"                                                       \
	"   \"purposes\": {\"cx\": {\"legal_basis\": \"contract\"}},\n"        \
	"   \"fields\": {\"name\": {\"category\": \"identity\", \"type\": "    \
	"\"string\"}}}},\n"                                                    \
	" \"principals\": {\n"                                                 \
	"  \"svc\": {\"key\": \"@KEY:svc@\", \"grants\": [{\"register\": "     \
	"\"customers\", \"purposes\": [\"invoicing\"], \"fields\": [\"*\"], "  \
	"\"ops\": [\"read\", \"write\", \"delete\"]}]},\n"                     \
	"  \"acis\": {\"key\": \"@KEY:acis@\", \"grants\": [{\"register\": "   \
	"\"acis\", \"purposes\": [\"cx\"], \"fields\": [\"*\"], \"ops\": "     \
	"[\"read\", \"write\", \"delete\"]}]},\n"                              \
	"  \"reader\": {\"key\": \"@KEY:reader@\", \"grants\": "               \
	"[{\"register\": \"customers\", \"purposes\": [\"invoicing\"], "       \
	"\"fields\": [\"*\"], \"ops\": [\"read\"]}]},\n"                       \
	"  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "                  \
	"[\"policy_admin\"]},\n"                                               \
	"  \"rights\": {\"key\": \"@KEY:rights@\", \"roles\": "                \
	"[\"subject_rights\"]},\n"                                             \
	"  \"auditor\": {\"key\": \"@KEY:auditor@\", \"roles\": "              \
	"[\"auditor\"]}}}\n"
#define RET_POLICY RET_POLICY_NOTES("90 days")

#define CUST "customers"
#define INV  "invoicing"

/*
 * The `privd serve` options of the tests: --retention-interval 0, so that
 * privd sweeps only when a test asks (RetentionRun); its timer would
 * otherwise sweep at start and every minute, at times no test controls.
 */
extern const char *const ret_serve_args[];

/*
 * cmocka setup: a harness with RET_POLICY's keys (svc first), privd
 * initialised and serving on the test clock (offset 0), with serve_args
 * (NULL-terminated; NULL: ret_serve_args). ret_setup uses
 * ret_serve_args; the teardown is h_teardown.
 */
int ret_setup_args(void **state, const char *const *serve_args);
int ret_setup(void **state);

/* Stop privd (cleanly) and start it again with ret_serve_args. */
void ret_restart(harness *h);

/*
 * cmocka setup with the example policy (policy/examples/aktiivitieto.json,
 * $POLICY_EXAMPLE): a key for each of its principals (crm first) in place
 * of the example's, privd serving on the test clock with ret_serve_args.
 * The policy_admin is then "dpo" (ret_admin).
 */
int ret_setup_example(void **state);

/* The policy_admin that sweep() and preview() run as: "admin", or "dpo"
 * under the example policy. */
extern const char *ret_admin;

/* ---- time ------------------------------------------------------------ */

/* t_us plus n calendar months (n may be negative), a day past the end of
 * the shorter month clamping to its end, time of day kept: what the
 * policy's "1 year" or "6 years" counts (privd-policy(5)). */
int64_t add_months(int64_t t_us, int n);

/* Move privd's clock so that it reads at least t_us (and less than a
 * second more, plus the time until it is read): sets the offset, waits
 * until a running privd has seen it. Only forward: privd refuses a clock
 * behind its newest audit event. */
void clock_to(harness *h, int64_t t_us);

/* ---- data ------------------------------------------------------------ */

/* Put name, email, notes and billing_details of subject in customers (as
 * svc), each value "<field>-<subject>" (the email a valid address). */
void put_customer(harness *h, const char *subject);

/* The names of the fields of subject that key reads in reg for purpose
 * (all it may read), sorted, as one comma-separated string into out
 * (size bytes); "" if there is none, "NOT_FOUND" if privd says so.
 * Anything else fails. */
void fields_of(harness *h, const char *key, const char *reg,
    const char *purpose, const char *subject, char *out, size_t size);

/* fields_of must be want. */
void expect_fields(harness *h, const char *key, const char *reg,
    const char *purpose, const char *subject, const char *want);

/* The same for customers, as svc, for invoicing. */
void expect_cust(harness *h, const char *subject, const char *want);

/* ---- the retention requests, raw -------------------------------------- */

/* Fail (with what, privd's status, reason and message) unless r has
 * status st (and, for DENIED, reason reason). */
void expect_status(
    const Privd__V1__Response *r, int st, int reason, const char *what);

/* RelationshipEnd as key (now: at_us ignored; neither: undo). */
Privd__V1__Response *rel_end(harness *h, const char *key, const char *reg,
    const char *subject, uint64_t at_us, bool now);

/* ContractEnd as key. */
Privd__V1__Response *contract_end(
    harness *h, const char *key, const char *reg, uint64_t at_us, bool now);

/* HoldSet, HoldLift, HoldList as key (subject "" or NULL: the register;
 * reg "" or NULL in a list: every register). */
Privd__V1__Response *hold_set(harness *h, const char *key, const char *reg,
    const char *subject, const char *reason, uint64_t until_us);
Privd__V1__Response *hold_lift(
    harness *h, const char *key, const char *reg, const char *subject);
Privd__V1__Response *hold_list(harness *h, const char *key, const char *reg);

/* RetentionRun as key; reg NULL: every register. */
Privd__V1__Response *ret_run(harness *h, const char *key, bool preview,
    uint64_t as_of_us, const char *reg, uint32_t limit);

/* A sweep (RetentionRun, preview false, every register) as admin that
 * must be OK; its answer. */
Privd__V1__Response *sweep(harness *h);

/* A preview as of as_of_us (0: now) as admin that must be OK. */
Privd__V1__Response *preview(harness *h, uint64_t as_of_us);

/* A delete request (DeleteRequest) as key for purpose: n names, or the
 * whole subject with n 0. */
Privd__V1__Response *del_raw(harness *h, const char *key, const char *reg,
    const char *subject, const char *purpose, const char *const *names,
    size_t n);

/* The retained entry for field in a DeleteResponse, or NULL. */
const Privd__V1__Retained *retained_of(
    const Privd__V1__Response *r, const char *field);

/* The count of (reg, rule) in a RetentionRunResponse, or NULL. */
const Privd__V1__RetentionCount *count_of(
    const Privd__V1__Response *r, const char *reg, const char *rule);

/* Fields acted on, subjects and held of (reg, rule); 0 for a rule not in
 * the answer. */
void expect_count(const Privd__V1__Response *r, const char *reg,
    const char *rule, uint64_t fields, uint64_t subjects, uint64_t held);

/* Fail unless the counts of a and b are the same (register, rule, action,
 * fields, subjects, held), ignoring order. */
void expect_same_counts(
    const Privd__V1__Response *a, const Privd__V1__Response *b);

/* ---- retention events in the audit log -------------------------------- */

/* One event as the tests compare it: the libprivd event and its rule,
 * decoded from its raw bytes (privd.v1.AuditEvent.rule). */
typedef struct ret_ev {
	const privd_audit_event *e;
	char rule[65];
	char fields[512]; /* the fields, sorted, comma-separated */
} ret_ev;

typedef struct ret_evs {
	evlist l;
	ret_ev *ev;
	size_t n;
} ret_evs;

/*
 * The events of principal "retention" (as the auditor reads them): of
 * subject (NULL: any) with seq >= from_seq (0: any). Free with
 * ret_evs_free.
 */
void ret_events(
    harness *h, const char *subject, uint64_t from_seq, ret_evs *out);
void ret_evs_free(ret_evs *v);

/*
 * The retention events of subject (NULL: of any) must be exactly n, in
 * some order: one with op ops[i], register reg, rule rules[i] and fields
 * fields[i] (sorted, comma-separated) for each i, each with decision
 * ALLOWED, status OK, and a pseudonym.
 */
void expect_ret_events(harness *h, const char *subject, const char *reg,
    size_t n, const char *const *ops, const char *const *rules,
    const char *const *fields);

/*
 * The retention events from from_seq on are exactly what the sweep that
 * answered r did: for each (register, rule) of its counts, `subjects`
 * events of distinct subjects naming `fields` fields in all, and no other
 * retention event.
 */
void expect_run_events(
    harness *h, uint64_t from_seq, const Privd__V1__Response *r);

/* The newest seq of the audit log (as the auditor). */
uint64_t audit_head(harness *h);

/* `privctl audit verify` as the auditor exits 0. */
void privctl_verify_ok(harness *h);

#endif /* PRIVD_TEST_RETENTION_COMMON_H */
