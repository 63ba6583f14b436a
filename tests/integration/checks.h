/*
 * checks.h - cmocka assertions shared by the integration tests (checks.c).
 * Unlike the harness (which only returns errors, for use in setup and
 * teardown), these fail the running test.
 */
#ifndef PRIVD_TEST_CHECKS_H
#define PRIVD_TEST_CHECKS_H

#include "harness.h"

/* ---- clients and their answers -------------------------------------- */

/* A client for the key registered under name; fails the test if it
 * cannot be made. */
privd_client *client(harness *h, const char *name);

/* A client as the key registered under key, trusting server_key (which
 * need not be privd's), with a deadline of timeout_ms per call. */
privd_client *client_as(
    harness *h, const char *key, const char *server_key, int timeout_ms);

/* Fail with privd's message unless rc is want. */
void expect_rc(privd_client *c, int rc, int want, const char *what);

/* Fail unless rc is PRIVD_EDENIED with the deny reason reason. */
void expect_denied(privd_client *c, int rc, int reason, const char *what);

/* ---- data (put_name, put_ok, get_ok: register customers, purpose
 * invoicing) ---------------------------------------------------------- */

/* A put of one text field, field = value, that must be OK. */
void put1(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *field, const char *value);

/* The same in register customers for purpose invoicing: field name. */
void put_name(privd_client *c, const char *subject, const char *name);

/* A put of n fields that must be OK. */
void put_ok(
    privd_client *c, const char *subject, const privd_field *fields, size_t n);

/* A get of the named fields (names NULL: all) that must be OK; the
 * record, for privd_record_free(). */
privd_record *get_ok(
    privd_client *c, const char *subject, const char *const *names, size_t n);

/* rec holds field name with exactly the bytes v[0..len), and a NUL after
 * them (client.h: every value is NUL-terminated too). */
void assert_field(
    const privd_record *rec, const char *name, const void *v, size_t len);

/* The same for a text value. */
void assert_field_str(const privd_record *rec, const char *name, const char *v);

/* ---- commands ------------------------------------------------------- */

/* The exit code of a command h_run() ran, or -1 if it did not exit. */
int exit_status(const h_result *res);

/* Did the command exit with code? Shows its output if not. */
void expect_exit(const h_result *r, int code, const char *what);

/* Run argv (h_run, H_RUN_TIMEOUT_MS), its output into r, and expect exit
 * code. */
void run_expect(harness *h, const char *const *argv, h_result *r, int code,
    const char *what);

/* Run privctl as key (h_privctl, H_RUN_TIMEOUT_MS) with args, its output
 * into r, and expect exit code. */
void privctl_expect(harness *h, const char *key, const char *const *args,
    h_result *r, int code, const char *what);

/* privd stops on SIGTERM by itself, in time, with exit status 0. */
void stop_clean(harness *h);

/*
 * Run `privd serve` on h's data directory and endpoint: it must refuse to
 * start, at once, with exit status 1 and why on stderr, containing needle
 * (unless NULL). res (may be NULL) receives the command's output.
 */
void serve_refused(harness *h, const char *needle, h_result *res);

/* ---- policies ------------------------------------------------------- */

/* The text of a policy template with the harness's keys filled in
 * (malloc'd). It goes through h->policy, which only privd init reads. */
char *policy_text(harness *h, const char *tmpl);

/* The same, also written to root/name (mode 0644), its path into path
 * (size bytes). */
char *policy_file(
    harness *h, const char *tmpl, const char *name, char *path, size_t size);

/* The policy version in force, as admin (a policy_admin) reads it. */
uint64_t policy_in_force(privd_client *admin);

/* ---- raw requests --------------------------------------------------- */

/* privd.v1.Status values by name: ST(OK), ST(DENIED), ... */
#define ST(x) PRIVD__V1__STATUS__##x

/* The deadline of a raw call (h_dealer_call). */
#define RAW_CALL_TIMEOUT_MS 10000

/*
 * Send req as key over a DEALER of its own (h_dealer_call), with a request
 * id of its own; fails the test without an answer. For operations libprivd
 * has no call for. Free the answer with
 * privd__v1__response__free_unpacked(r, NULL).
 */
Privd__V1__Response *raw_call(
    harness *h, const char *key, Privd__V1__Request *req);

#endif /* PRIVD_TEST_CHECKS_H */
