/*
 * audit_common.h - what the audit tests (test_audit_*.c) share: their
 * policy (registers customers and newsletter, a service "svc" granted
 * both, an auditor and an admin; svc is the first key, so the harness's
 * readiness pings are svc's), privd's checkpoint interval, and reading the
 * log through libprivd. Include it after cmocka.h.
 */
#ifndef PRIVD_TEST_AUDIT_COMMON_H
#define PRIVD_TEST_AUDIT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#define CUST  "customers"
#define NEWS  "newsletter"
#define INV   "invoicing"
#define MKT   "marketing"
#define CKPTS "5" /* --audit-checkpoint-every */

/* privd.v1.Status and DenyReason values the tests expect. */
#define S_OK        1
#define S_INVALID   2
#define S_DENIED    3
#define S_NOT_FOUND 4

#define R_UNKNOWN_PURPOSE 5
#define R_NO_GRANT        6
#define R_ROLE_REQUIRED   11

#define POL_HEAD                                                               \
	"{\"controller\": {\"name\": \"Test Oy\", \"business_id\": "           \
	"\"1234567-8\"},\n"
#define POL_BODY                                                               \
	" \"registers\": {\n"                                                  \
	"  \"customers\": {\n"                                                 \
	"   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n" \
	"   \"fields\": {\n"                                                   \
	"     \"name\": {\"category\": \"identity\", \"type\": \"string\"},\n" \
	"     \"email\": {\"category\": \"contact\", \"type\": \"email\"},\n"  \
	"     \"notes\": {\"category\": \"feedback\", \"type\": "              \
	"\"text\"}}},\n"                                                       \
	"  \"newsletter\": {\n"                                                \
	"   \"purposes\": {\"marketing\": {\"legal_basis\": \"consent\"}},\n"  \
	"   \"fields\": {\n"                                                   \
	"     \"email\": {\"category\": \"contact\", \"type\": \"email\"},\n"  \
	"     \"topic\": {\"category\": \"preference\", \"type\": "            \
	"\"string\"}}}},\n"                                                    \
	" \"principals\": {\n"                                                 \
	"  \"svc\": {\"key\": \"@KEY:svc@\", \"region\": \"FI\", \"grants\": " \
	"[\n"                                                                  \
	"    {\"register\": \"customers\", \"purposes\": [\"invoicing\"], "    \
	"\"fields\": [\"*\"], \"ops\": [\"read\", \"write\", \"delete\"]},\n"  \
	"    {\"register\": \"newsletter\", \"purposes\": [\"marketing\"], "   \
	"\"fields\": [\"*\"], \"ops\": [\"read\", \"write\", "                 \
	"\"delete\"]}]},\n"                                                    \
	"  \"auditor\": {\"key\": \"@KEY:auditor@\", \"roles\": "              \
	"[\"auditor\"]},\n"                                                    \
	"  \"admin\": {\"key\": \"@KEY:admin@\", \"region\": \"FI\", "         \
	"\"roles\": [\"policy_admin\"]}}}\n"

extern const char POLICY[];
extern const char *const serve_args[];

/* ---- set-up ------------------------------------------------------------ */

/* A privd with keys svc, auditor and admin, policy, and `privd serve`
 * options args. */
int setup_args(void **state, const char *policy, const char *const *args);

/* The same with POLICY and serve_args. */
int setup(void **state);

void put1(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *field, const char *value);

/* ---- reading the log ----------------------------------------------------- */

/* Every event of a query, all pages; the pages own the events. */
typedef struct evlist {
	privd_audit_page **pages;
	size_t npages;
	const privd_audit_event **ev;
	size_t n;
	size_t npagesread; /* pages privd answered, empty ones included */
} evlist;

void evlist_free(evlist *l);

/* Run a query to the end, following cursors. */
void collect(privd_client *a, const privd_audit_filter *f, evlist *l);

/* A description of an event for failure messages. */
const char *ev_str(const privd_audit_event *e);

/*
 * Check one event. reg and purpose "" mean none; fields is a
 * NULL-terminated list in the order privd records them.
 */
void expect_event(const privd_audit_event *e, const char *principal,
    const char *op, const char *reg, const char *purpose,
    const char *const *fields, int decision, int status, int reason);

/* The newest seq in the log right now (a query, so an event of its own). */
uint64_t head(privd_client *a);

#endif /* PRIVD_TEST_AUDIT_COMMON_H */
