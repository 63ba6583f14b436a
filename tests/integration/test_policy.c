/*
 * test_policy.c - policy administration over the wire: get, apply and
 * history need the role policy_admin; an apply names the version it
 * replaces; a new policy takes effect at once, for new connections and for
 * the next request of connected clients; privctl's policy commands.
 *
 * Each test has its own privd started with POL_V1: an admin (policy_admin),
 * a data service "svc" with a full grant, "other" (EEA, no grant), an
 * auditor (role auditor) and "contractor" (region IN, with a grant that the
 * EEA transfer rule overrides). Key "svcnew" is registered but not named
 * until a test gives it to svc.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define REG     "customers"
#define PURPOSE "invoicing"

/* privd.v1.DenyReason values the tests expect. */
#define R_UNKNOWN_PRINCIPAL 2
#define R_NO_GRANT          6
#define R_REGION            8
#define R_ROLE_REQUIRED     11

/* Deadline for calls that a refused key makes. */
#define REJECT_TIMEOUT_MS 1000

/* Policy templates, assembled from parts; "@KEY:name@" is a harness key. */
#define POL_HEAD                                                               \
	H_POL_CONTROLLER                                                       \
	" \"registers\": {\"customers\": {\n"                                  \
	"   \"transfer\": {\"allowed_regions\": [\"EEA\"]},\n"                 \
	"   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n" \
	"   \"fields\": {\n"                                                   \
	"     \"name\": {\"category\": \"identity\", \"type\": \"string\"},\n" \
	"     \"email\": {\"category\": \"contact\", \"type\": "               \
	"\"email\"}}}},\n"                                                     \
	" \"principals\": {\n"
#define POL_TAIL " }}\n"
#define GRANT_ALL                                                              \
	"\"grants\": [{\"register\": \"customers\", \"purposes\": "            \
	"[\"invoicing\"], \"fields\": [\"*\"], \"ops\": [\"read\", "           \
	"\"write\", \"delete\"]}]"
#define P_ADMIN                                                                \
	"  \"admin\": {\"key\": \"@KEY:admin@\", \"region\": \"FI\", "         \
	"\"roles\": [\"policy_admin\"]},\n"
#define P_SVC                                                                  \
	"  \"svc\": {\"key\": \"@KEY:svc@\", \"region\": \"FI\", " GRANT_ALL   \
	"},\n"
#define P_SVC_NEWKEY                                                           \
	"  \"svc\": {\"key\": \"@KEY:svcnew@\", \"region\": "                  \
	"\"FI\", " GRANT_ALL "},\n"
#define P_OTHER "  \"other\": {\"key\": \"@KEY:other@\", \"region\": \"FI\"},\n"
#define P_OTHER_GRANTED                                                        \
	"  \"other\": {\"key\": \"@KEY:other@\", \"region\": \"FI\", "         \
	"\"grants\": [{\"register\": \"customers\", \"purposes\": "            \
	"[\"invoicing\"], \"fields\": [\"name\"], \"ops\": [\"read\"]}]},\n"
/* a grant to a field the register does not declare */
#define P_OTHER_BAD                                                            \
	"  \"other\": {\"key\": \"@KEY:other@\", \"region\": \"FI\", "         \
	"\"grants\": [{\"register\": \"customers\", \"purposes\": "            \
	"[\"invoicing\"], \"fields\": [\"phone\"], \"ops\": [\"read\"]}]},\n"
#define P_AUDITOR                                                              \
	"  \"auditor\": {\"key\": \"@KEY:auditor@\", \"region\": \"FI\", "     \
	"\"roles\": [\"auditor\"]},\n"
#define P_CONTRACTOR                                                           \
	"  \"contractor\": {\"key\": \"@KEY:contractor@\", \"region\": "       \
	"\"IN\", " GRANT_ALL "}\n"

static const char POL_V1[] =
    POL_HEAD P_ADMIN P_SVC P_OTHER P_AUDITOR P_CONTRACTOR POL_TAIL;
static const char POL_OTHER_GRANTED[] =
    POL_HEAD P_ADMIN P_SVC P_OTHER_GRANTED P_AUDITOR P_CONTRACTOR POL_TAIL;
static const char POL_NO_SVC[] =
    POL_HEAD P_ADMIN P_OTHER P_AUDITOR P_CONTRACTOR POL_TAIL;
static const char POL_SVC_NEWKEY[] =
    POL_HEAD P_ADMIN P_SVC_NEWKEY P_OTHER P_AUDITOR P_CONTRACTOR POL_TAIL;
static const char POL_BAD_FIELD[] =
    POL_HEAD P_ADMIN P_SVC P_OTHER_BAD P_AUDITOR P_CONTRACTOR POL_TAIL;
/* the JSON path pol_parse reports for POL_BAD_FIELD */
#define BAD_FIELD_PATH "$.principals.other.grants[0].fields[0]"

static const char *const keynames[] = {
    "admin", "svc", "other", "auditor", "contractor", "svcnew"};

/* A privd serving POL_V1; the admin key comes first, so it is the key the
 * harness pings with. */
static int
setup(void **state)
{
	return h_setup(state, keynames, sizeof(keynames) / sizeof(keynames[0]),
	    POL_V1, NULL);
}

/*
 * The denial came in privd's reply on the connection in use, not from a
 * new handshake refused by ZAP (which libprivd reports with the same status
 * and reason, and this message).
 */
static void
expect_denied_in_session(privd_client *c, int rc, const char *what)
{
	expect_denied(c, rc, R_UNKNOWN_PRINCIPAL, what);
	if (strstr(privd_errmsg(c), "refused this client key") != NULL)
		fail_msg("%s: the connection was re-made and refused, not "
		         "denied on the existing one",
		    what);
}

/* Apply a template over version replaces; returns the new version. */
static uint64_t
apply_ok(harness *h, privd_client *admin, uint64_t replaces, const char *tmpl)
{
	char *json = policy_text(h, tmpl);
	uint64_t v = 0;
	int rc;

	rc = privd_policy_apply(admin, replaces, json, &v);
	free(json);
	expect_rc(admin, rc, PRIVD_OK, "policy apply");
	assert_int_equal(v, replaces + 1);
	return v;
}

/* A data get of every allowed field of subject; the record is dropped. */
static int
get_any(privd_client *c, const char *subject)
{
	privd_record *rec = NULL;
	int rc;

	rc = privd_get(c, REG, subject, PURPOSE, NULL, 0, &rec);
	if (rc != PRIVD_OK)
		assert_null(rec);
	privd_record_free(&rec);
	return rc;
}

/* A put of name and an email address. */
static void
put_name_email(privd_client *c, const char *subject, const char *name)
{
	privd_field f[] = {
	    h_field("name", name), h_field("email", "maija@example.fi")};

	expect_rc(
	    c, privd_put(c, REG, subject, PURPOSE, f, 2), PRIVD_OK, "put");
}

/* Also: what was applied survives a restart. */
static void
test_admin_gets_applies_and_lists_history(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin");
	privd_client *svc = client(h, "svc"), *other = client(h, "other");
	privd_policy_version v, *hist = NULL;
	privd_record *rec = NULL;
	uint8_t *file = NULL;
	size_t flen, n = 0, i;
	char *json = NULL;

	/* version 1 is the document privd init was given, byte for byte */
	assert_int_equal(h_read_file(h->policy, &file, &flen), 0);
	memset(&v, 0, sizeof(v));
	expect_rc(admin, privd_policy_get(admin, &v, &json), PRIVD_OK, "get");
	assert_int_equal(v.version, 1);
	assert_string_equal(v.applied_by, "privd init");
	assert_true(v.applied_at_us > 0);
	assert_non_null(json);
	assert_string_equal(json, (const char *)file);
	privd_free(json);
	free(file);

	put_name_email(svc, "c-1", "Maija Meikäläinen");
	expect_denied(other, get_any(other, "c-1"), R_NO_GRANT, "other v1");

	/* a grant added: the same connection is allowed at once */
	apply_ok(h, admin, 1, POL_OTHER_GRANTED);
	expect_rc(other, privd_get(other, REG, "c-1", PURPOSE, NULL, 0, &rec),
	    PRIVD_OK, "other v2");
	assert_int_equal(rec->nfields, 1);
	assert_string_equal(
	    (const char *)privd_record_field(rec, "name")->value,
	    "Maija Meikäläinen");
	privd_record_free(&rec);

	/* and removed again */
	apply_ok(h, admin, 2, POL_V1);
	expect_denied(other, get_any(other, "c-1"), R_NO_GRANT, "other v3");
	assert_int_equal(policy_in_force(admin), 3);

	expect_rc(
	    admin, privd_policy_history(admin, &hist, &n), PRIVD_OK, "history");
	assert_int_equal(n, 3);
	assert_string_equal(hist[0].applied_by, "privd init");
	for (i = 0; i < n; i++) {
		assert_int_equal(hist[i].version, i + 1);
		if (i > 0) {
			assert_string_equal(hist[i].applied_by, "admin");
			assert_true(
			    hist[i].applied_at_us > hist[i - 1].applied_at_us);
		}
	}
	privd_free(hist);
	privd_close(&admin);
	privd_close(&svc);
	privd_close(&other);

	/* the latest version is the one a restarted privd enforces */
	assert_int_equal(h_restart(h), 0);
	admin = client(h, "admin");
	other = client(h, "other");
	assert_int_equal(policy_in_force(admin), 3);
	expect_denied(other, get_any(other, "c-1"), R_NO_GRANT, "other");
	expect_rc(admin, privd_policy_history(admin, &hist, &n), PRIVD_OK,
	    "history after restart");
	assert_int_equal(n, 3);
	privd_free(hist);
	privd_close(&admin);
	privd_close(&other);
}

static void
test_stale_version_conflicts_and_changes_nothing(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin");
	privd_policy_version v;
	char *v2 = NULL, *v1 = NULL, *json = NULL;
	uint64_t nv = 99;

	apply_ok(h, admin, 1, POL_OTHER_GRANTED);
	v2 = policy_text(h, POL_OTHER_GRANTED);
	v1 = policy_text(h, POL_V1);

	/* a second admin still working from version 1 */
	expect_rc(admin, privd_policy_apply(admin, 1, v1, &nv), PRIVD_ECONFLICT,
	    "stale apply");
	assert_int_equal(nv, 0);
	/* a version not yet in existence is just as stale */
	expect_rc(admin, privd_policy_apply(admin, 3, v1, &nv), PRIVD_ECONFLICT,
	    "future apply");

	expect_rc(admin, privd_policy_get(admin, &v, &json), PRIVD_OK, "get");
	assert_int_equal(v.version, 2);
	assert_string_equal(v.applied_by, "admin");
	assert_string_equal(json, v2);
	privd_free(json);
	free(v1);
	free(v2);
	privd_close(&admin);
}

/* replaces_version 0 is refused by the library and, over the raw wire, by
 * privd itself. */
static void
test_replaces_zero_is_invalid(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin");
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyApplyRequest pa =
	    PRIVD__V1__POLICY_APPLY_REQUEST__INIT;
	Privd__V1__Response *resp;
	char *json = policy_text(h, POL_OTHER_GRANTED);
	uint8_t *frame, *reply = NULL;
	size_t len, rlen, nframes;
	const void *parts[1];
	h_dealer d;

	expect_rc(admin, privd_policy_apply(admin, 0, json, NULL), PRIVD_EINVAL,
	    "apply 0");

	pa.replaces_version = 0;
	pa.policy_json = json;
	req.request_id = 77;
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_APPLY;
	req.policy_apply = &pa;
	len = privd__v1__request__get_packed_size(&req);
	assert_non_null(frame = malloc(len));
	privd__v1__request__pack(&req, frame);
	assert_int_equal(h_dealer_open(h, "admin", NULL, false, &d), 0);
	parts[0] = frame;
	assert_int_equal(h_dealer_send(&d, parts, &len, 1), 0);
	assert_int_equal(h_dealer_recv(&d, 5000, &reply, &rlen, &nframes), 0);
	resp = privd__v1__response__unpack(NULL, rlen, reply);
	assert_non_null(resp);
	assert_int_equal(resp->request_id, 77);
	assert_int_equal(resp->status, PRIVD__V1__STATUS__INVALID);
	privd__v1__response__free_unpacked(resp, NULL);
	free(reply);
	free(frame);
	h_dealer_close(&d);

	assert_int_equal(policy_in_force(admin), 1);
	free(json);
	privd_close(&admin);
}

static void
test_invalid_policy_over_wire_changes_nothing(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin");
	privd_client *svc = client(h, "svc"), *other = client(h, "other");
	char *bad = policy_text(h, POL_BAD_FIELD);

	expect_rc(admin, privd_policy_apply(admin, 1, bad, NULL), PRIVD_EINVAL,
	    "apply invalid");
	if (strstr(privd_errmsg(admin), BAD_FIELD_PATH ": ") == NULL)
		fail_msg("message '%s' does not start with the JSON path %s",
		    privd_errmsg(admin), BAD_FIELD_PATH);
	free(bad);

	/* not JSON at all */
	expect_rc(admin, privd_policy_apply(admin, 1, "{\"controller\":", NULL),
	    PRIVD_EINVAL, "apply truncated");
	if (strncmp(privd_errmsg(admin), "$", 1) != 0)
		fail_msg(
		    "message '%s' names no JSON path", privd_errmsg(admin));

	assert_int_equal(policy_in_force(admin), 1);
	/* the policy in force still works as before */
	put_name_email(svc, "c-2", "Still Here");
	expect_denied(other, get_any(other, "c-2"), R_NO_GRANT, "other");
	privd_close(&admin);
	privd_close(&svc);
	privd_close(&other);
}

static void
test_removed_principal_loses_access_mid_connection(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin");
	privd_client *svc = client(h, "svc"), *fresh = NULL;
	int rc;

	put_name_email(svc, "c-3", "Removed Later");
	expect_rc(svc, get_any(svc, "c-3"), PRIVD_OK, "get before");

	apply_ok(h, admin, 1, POL_NO_SVC);

	/* the same handle, no reconnect: denied on its very next request */
	expect_denied_in_session(svc, get_any(svc, "c-3"), "get after removal");
	expect_denied_in_session(
	    svc, privd_ping(svc, NULL), "ping after removal");

	/* a new connection with that key is refused at the handshake */
	fresh = client(h, "svc");
	privd_set_timeout(fresh, REJECT_TIMEOUT_MS);
	rc = get_any(fresh, "c-3");
	if (rc != PRIVD_EDENIED && rc != PRIVD_EUNAVAILABLE)
		fail_msg("new handle of a removed key: expected denied or "
		         "unavailable, got %s",
		    privd_strerror(rc));
	privd_close(&fresh);
	privd_close(&svc);
	privd_close(&admin);
}

static void
test_changed_key_denies_old_key_and_admits_new(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin");
	privd_client *old = client(h, "svc"), *newer;
	privd_record *rec = NULL;
	privd_pong pong;

	put_name_email(old, "c-4", "Key Rotated");
	apply_ok(h, admin, 1, POL_SVC_NEWKEY);

	expect_denied_in_session(old, get_any(old, "c-4"), "old key");

	/* the new key is the same principal and reads what the old wrote */
	newer = client(h, "svcnew");
	expect_rc(newer, privd_ping(newer, &pong), PRIVD_OK, "new key ping");
	assert_string_equal(pong.principal, "svc");
	assert_int_equal(pong.policy_version, 2);
	expect_rc(newer, privd_get(newer, REG, "c-4", PURPOSE, NULL, 0, &rec),
	    PRIVD_OK, "new key get");
	assert_string_equal(
	    (const char *)privd_record_field(rec, "name")->value,
	    "Key Rotated");
	privd_record_free(&rec);
	privd_close(&newer);
	privd_close(&old);
	privd_close(&admin);
}

/* Every admin call by name must be refused with role_required. */
static void
expect_no_policy_access(harness *h, const char *name)
{
	static privd_policy_version poison_v;
	static char poison_c;
	privd_client *c = client(h, name);
	/* out-parameters start non-NULL: a failed call must clear them */
	privd_policy_version *hist = &poison_v;
	char *json = &poison_c, *doc = policy_text(h, POL_OTHER_GRANTED);
	uint64_t nv = 5;
	size_t n = 5;

	expect_denied(
	    c, privd_policy_get(c, NULL, &json), R_ROLE_REQUIRED, name);
	assert_null(json);
	expect_denied(
	    c, privd_policy_apply(c, 1, doc, &nv), R_ROLE_REQUIRED, name);
	assert_int_equal(nv, 0);
	expect_denied(
	    c, privd_policy_history(c, &hist, &n), R_ROLE_REQUIRED, name);
	assert_null(hist);
	assert_int_equal(n, 0);
	free(doc);
	privd_close(&c);
}

static void
test_non_admin_cannot_get_apply_or_list(void **state)
{
	harness *h = *state;
	privd_client *admin;

	expect_no_policy_access(h, "svc");     /* data grants give no role */
	expect_no_policy_access(h, "auditor"); /* nor does another role */

	admin = client(h, "admin");
	assert_int_equal(policy_in_force(admin), 1);
	privd_close(&admin);
}

static void
test_out_of_eea_principal_denied_by_region(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *ctr = client(h, "contractor");
	privd_field f[] = {h_field("name", "Not Abroad")};

	put_name_email(svc, "c-5", "Stays In EEA");
	expect_denied(ctr, get_any(ctr, "c-5"), R_REGION, "contractor get");
	expect_denied(ctr, privd_put(ctr, REG, "c-5", PURPOSE, f, 1), R_REGION,
	    "contractor put");
	expect_rc(svc, get_any(svc, "c-5"), PRIVD_OK, "svc get");
	privd_close(&svc);
	privd_close(&ctr);
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
test_privctl_policy_check_offline(void **state)
{
	harness *h = *state;
	char good[H_PATH_MAX + 16], bad[H_PATH_MAX + 16];
	privd_client *admin = client(h, "admin");
	h_result *r = malloc(sizeof(*r));

	assert_non_null(r);
	free(policy_file(h, POL_V1, "good.json", good, sizeof(good)));
	free(policy_file(h, POL_BAD_FIELD, "bad.json", bad, sizeof(bad)));
	/* no connection settings at all: check needs none */
	unsetenv("PRIVD_ENDPOINT");
	unsetenv("PRIVD_KEY");
	unsetenv("PRIVD_SERVER_KEY");

	const char *ok_argv[] = {h->privctl_bin, "policy", "check", good, NULL};
	run_expect(h, ok_argv, r, 0, "check good");
	assert_non_null(strstr(r->out, "ok (1 register, 5 principals)"));

	const char *bad_argv[] = {h->privctl_bin, "policy", "check", bad, NULL};
	run_expect(h, bad_argv, r, 5, "check bad");
	if (strstr(r->out, BAD_FIELD_PATH) == NULL &&
	    strstr(r->err, BAD_FIELD_PATH) == NULL)
		fail_msg(
		    "check bad: no JSON path in output:\n%s%s", r->out, r->err);

	/* apply validates first: exit 5, and privd is never asked */
	const char *bad_apply[] = {h->privctl_bin, "--endpoint", h->endpoint,
	    "--key", "/nonexistent.key", "--server-key", h->server_key,
	    "policy", "apply", bad, "--replaces", "1", NULL};
	run_expect(h, bad_apply, r, 5, "apply bad");
	assert_non_null(strstr(r->err, BAD_FIELD_PATH));

	/* --replaces is required, with a hint where to find the version */
	const char *no_repl[] = {h->privctl_bin, "policy", "apply", good, NULL};
	run_expect(h, no_repl, r, 2, "apply without --replaces");
	assert_non_null(strstr(r->err, "privctl policy show"));

	assert_int_equal(policy_in_force(admin), 1);
	free(r);
	privd_close(&admin);
}

static void
test_privctl_policy_show_apply_history(void **state)
{
	harness *h = *state;
	char file[H_PATH_MAX + 16], *v1 = policy_text(h, POL_V1);
	h_result *r = malloc(sizeof(*r));
	const char *line2;

	assert_non_null(r);
	free(policy_file(h, POL_OTHER_GRANTED, "v2.json", file, sizeof(file)));

	privctl_expect(
	    h, "admin", (const char *[]){"policy", "show", NULL}, r, 0, "show");
	assert_true(
	    starts_with(r->out, "version 1, applied by privd init at "));
	/* an ISO 8601 UTC time, then the document as stored */
	assert_non_null(line2 = strchr(r->out, '\n'));
	assert_true(line2[-1] == 'Z' && line2[-10] == 'T');
	assert_string_equal(line2 + 1, v1);

	privctl_expect(h, "admin",
	    (const char *[]){"--json", "policy", "show", NULL}, r, 0,
	    "show --json");
	assert_true(starts_with(r->out, "{\"version\":1,\"applied_by\":"
	                                "\"privd init\",\"applied_at\":\""));
	assert_non_null(strstr(r->out, "\"policy\":{\"controller\":"));

	/* a service key is no admin: denied, exit 3 */
	privctl_expect(h, "svc", (const char *[]){"policy", "show", NULL}, r, 3,
	    "show as svc");
	assert_non_null(strstr(r->err, "role_required"));

	privctl_expect(h, "admin",
	    (const char *[]){"policy", "apply", file, "--replaces", "1", NULL},
	    r, 0, "apply");
	assert_string_equal(r->out, "policy version 2 in force\n");

	/* the same apply again is stale now: conflict, exit 6 */
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "apply", file, "--replaces", "1", NULL},
	    r, 6, "stale apply");

	privctl_expect(h, "admin", (const char *[]){"policy", "history", NULL},
	    r, 0, "history");
	assert_true(starts_with(r->out, "1    "));
	assert_non_null(strstr(r->out, "Z privd init\n2    "));
	assert_non_null(strstr(r->out, "Z admin\n"));
	assert_null(strstr(r->out, "\n3"));

	privctl_expect(h, "admin",
	    (const char *[]){"--json", "policy", "history", NULL}, r, 0,
	    "history --json");
	assert_true(starts_with(r->out, "{\"versions\":[{\"version\":1,"));
	assert_non_null(strstr(r->out,
	    "{\"version\":2,\"applied_by\":\"admin\",\"applied_at\":\""));
	free(v1);
	free(r);
}

/* A service reading in a loop while policies change under it. */
struct loader {
	privd_client *c;
	atomic_bool stop;
	atomic_long ok;
	atomic_long failed;
	int first_rc;
	int first_reason;
	char first_msg[256];
};

static void *
load_gets(void *arg)
{
	struct loader *l = arg;
	int rc;

	while (!atomic_load(&l->stop)) {
		rc = get_any(l->c, "c-6");
		if (rc == PRIVD_OK) {
			atomic_fetch_add(&l->ok, 1);
			continue;
		}
		if (atomic_fetch_add(&l->failed, 1) == 0) {
			l->first_rc = rc;
			l->first_reason = privd_reason(l->c);
			snprintf(l->first_msg, sizeof(l->first_msg), "%s",
			    privd_errmsg(l->c));
		}
	}
	return NULL;
}

/* Wait up to 10 s until the loader has done more than n good gets. */
static void
wait_gets(struct loader *l, long n)
{
	int64_t deadline = h_now_ms() + 10000;

	while (atomic_load(&l->ok) <= n && atomic_load(&l->failed) == 0 &&
	       h_now_ms() < deadline)
		usleep(1000);
}

static void
test_apply_under_load_every_get_succeeds(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin"), *svc = client(h, "svc");
	struct loader l = {.c = client(h, "svc")};
	uint64_t v = 1;
	pthread_t t;
	long before;
	int i;

	put_name_email(svc, "c-6", "Under Load");
	assert_int_equal(pthread_create(&t, NULL, load_gets, &l), 0);
	wait_gets(&l, 0);
	before = atomic_load(&l.ok);
	/* five versions, each keeping svc's grant */
	for (i = 0; i < 5; i++)
		v = apply_ok(
		    h, admin, v, i % 2 == 0 ? POL_OTHER_GRANTED : POL_V1);
	wait_gets(&l, atomic_load(&l.ok) + 2);
	atomic_store(&l.stop, true);
	pthread_join(t, NULL);

	if (atomic_load(&l.failed) != 0)
		fail_msg("%ld of %ld gets failed; first: %s (%s, reason %s)",
		    atomic_load(&l.failed),
		    atomic_load(&l.failed) + atomic_load(&l.ok),
		    privd_strerror(l.first_rc), l.first_msg,
		    privd_reason_name(l.first_reason));
	assert_true(before > 0);
	assert_true(atomic_load(&l.ok) > before);
	assert_int_equal(policy_in_force(admin), 6);
	privd_close(&l.c);
	privd_close(&svc);
	privd_close(&admin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_admin_gets_applies_and_lists_history, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_stale_version_conflicts_and_changes_nothing, setup,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_replaces_zero_is_invalid, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_invalid_policy_over_wire_changes_nothing, setup,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_removed_principal_loses_access_mid_connection, setup,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_changed_key_denies_old_key_and_admits_new, setup,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_non_admin_cannot_get_apply_or_list, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_out_of_eea_principal_denied_by_region, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_policy_check_offline, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_policy_show_apply_history, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_apply_under_load_every_get_succeeds, setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
