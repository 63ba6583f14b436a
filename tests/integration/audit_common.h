/*
 * audit_common.h - what the audit tests (test_audit_*.c) share: their
 * policy (registers customers and newsletter, a service "svc" granted
 * both, an auditor and an admin; svc is the first key, so the harness's
 * readiness pings are svc's), privd's checkpoint interval and the set-up.
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

#define POL_HEAD H_POL_CONTROLLER
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
	"\"delete\"]}]},\n" H_POL_AUDITOR ",\n"                                \
	"  \"admin\": {\"key\": \"@KEY:admin@\", \"region\": \"FI\", "         \
	"\"roles\": [\"policy_admin\"]}" H_POL_END

extern const char POLICY[];
extern const char *const serve_args[];

/* ---- set-up ------------------------------------------------------------ */

/* A privd with keys svc, auditor and admin, policy, and `privd serve`
 * options args. */
int setup_args(void **state, const char *policy, const char *const *args);

/* The same with POLICY and serve_args. */
int setup(void **state);

#endif /* PRIVD_TEST_AUDIT_COMMON_H */
