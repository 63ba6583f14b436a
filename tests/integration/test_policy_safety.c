/*
 * test_policy_safety.c - policy administration cannot lock every admin out,
 * and there is a way back in (issue 7):
 * - a policy that leaves no principal with policy_admin is refused, force
 *   or not; one that takes the role from the applying admin itself is
 *   refused unless force is set;
 * - a document equal, as JSON, to the one in force is answered OK with the
 *   same version and unchanged, and adds no version;
 * - any version can be read back (PolicyGetRequest.version, 0: in force);
 * - `privd policy set --data-dir DIR FILE` sets a policy while privd is
 *   stopped (and refuses while it runs), audited as principal "privd".
 *
 * The operations libprivd has no call for yet are spoken raw over a DEALER
 * (h_dealer_call). Each test has its own privd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define POL_HEAD                                                               \
	H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RW         \
	    ",\n" H_POL_AUDITOR ",\n"

/* What privd init gets: two admins. */
static const char POL_TWO_ADMINS[] =
    POL_HEAD "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "
             "[\"policy_admin\"]},\n"
             "  \"admin2\": {\"key\": \"@KEY:admin2@\", \"roles\": "
             "[\"policy_admin\"]}}}\n";
/* admin is still a principal but no longer an admin; admin2 is. */
static const char POL_ADMIN2_ONLY[] =
    POL_HEAD "  \"admin\": {\"key\": \"@KEY:admin@\"},\n"
             "  \"admin2\": {\"key\": \"@KEY:admin2@\", \"roles\": "
             "[\"policy_admin\"]}}}\n";
/* Both are principals, neither is an admin. */
static const char POL_NO_ADMIN[] =
    POL_HEAD "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "
             "[\"auditor\"]},\n"
             "  \"admin2\": {\"key\": \"@KEY:admin2@\"}}}\n";
/* The init policy plus a third admin, newadmin. */
static const char POL_THREE_ADMINS[] =
    POL_HEAD "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "
             "[\"policy_admin\"]},\n"
             "  \"admin2\": {\"key\": \"@KEY:admin2@\", \"roles\": "
             "[\"policy_admin\"]},\n"
             "  \"newadmin\": {\"key\": \"@KEY:newadmin@\", \"roles\": "
             "[\"policy_admin\"]}}}\n";

static int
setup(void **state)
{
	/* svc first: the harness's readiness pings are svc's */
	static const char *const keys[] = {
	    "svc", "auditor", "admin", "admin2", "newadmin"};

	return h_setup(
	    state, keys, sizeof(keys) / sizeof(keys[0]), POL_TWO_ADMINS, NULL);
}

static Privd__V1__Response *
apply(harness *h, const char *key, uint64_t replaces, const char *json,
    bool force)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyApplyRequest pa =
	    PRIVD__V1__POLICY_APPLY_REQUEST__INIT;

	pa.replaces_version = replaces;
	pa.policy_json = (char *)json;
	pa.force = force;
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_APPLY;
	req.policy_apply = &pa;
	return raw_call(h, key, &req);
}

static Privd__V1__Response *
pget(harness *h, const char *key, uint64_t version)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyGetRequest pg = PRIVD__V1__POLICY_GET_REQUEST__INIT;

	pg.version = version;
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_GET;
	req.policy_get = &pg;
	return raw_call(h, key, &req);
}

static void
expect_status(Privd__V1__Response *r, int want, const char *what)
{
	if ((int)r->status != want)
		fail_msg("%s: expected status %d, got %d (%s)", what, want,
		    (int)r->status, r->message);
}

/* Apply json as key; it must be OK and make a new version, returned. */
static uint64_t
apply_ok(harness *h, const char *key, uint64_t replaces, const char *json,
    bool force)
{
	Privd__V1__Response *r = apply(h, key, replaces, json, force);
	uint64_t v;

	expect_status(r, ST(OK), "policy apply");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_APPLY);
	assert_false(r->policy_apply->unchanged);
	v = r->policy_apply->version;
	assert_int_equal(v, replaces + 1);
	privd__v1__response__free_unpacked(r, NULL);
	return v;
}

/* The version in force, as admin key sees it. */
static uint64_t
in_force(harness *h, const char *key)
{
	Privd__V1__Response *r = pget(h, key, 0);
	uint64_t v;

	expect_status(r, ST(OK), "policy get");
	assert_non_null(r->policy_get->version);
	v = r->policy_get->version->version;
	privd__v1__response__free_unpacked(r, NULL);
	return v;
}

static size_t
history_len(harness *h, const char *key)
{
	privd_client *c = client(h, key);
	privd_policy_version *v = NULL;
	size_t n = 0;

	expect_rc(c, privd_policy_history(c, &v, &n), PRIVD_OK, "history");
	privd_free(v);
	privd_close(&c);
	return n;
}

static void
test_no_admin_refused_even_forced(void **state)
{
	harness *h = *state;
	char *none = policy_text(h, POL_NO_ADMIN);
	Privd__V1__Response *r;

	for (int force = 0; force < 2; force++) {
		r = apply(h, "admin", 1, none, force);
		expect_status(r, ST(INVALID), "a policy without policy_admin");
		assert_non_null(strstr(r->message, "policy_admin"));
		privd__v1__response__free_unpacked(r, NULL);
	}
	/* nothing changed: version 1 in force, no version added, and both
	 * admins are still admins */
	assert_int_equal(in_force(h, "admin"), 1);
	assert_int_equal(in_force(h, "admin2"), 1);
	assert_int_equal(history_len(h, "admin"), 1);
	free(none);
}

static void
test_self_removal_needs_force(void **state)
{
	harness *h = *state;
	char *two = policy_text(h, POL_TWO_ADMINS),
	     *only2 = policy_text(h, POL_ADMIN2_ONLY);
	Privd__V1__Response *r;
	uint64_t v;

	/* admin takes its own role: refused without force */
	r = apply(h, "admin", 1, only2, false);
	expect_status(r, ST(INVALID), "removing the applier's own role");
	privd__v1__response__free_unpacked(r, NULL);
	assert_int_equal(in_force(h, "admin"), 1);

	/* another admin may take it from admin without force */
	v = apply_ok(h, "admin2", 1, only2, false);
	assert_int_equal(in_force(h, "admin2"), v);
	r = pget(h, "admin", 0);
	expect_status(r, ST(DENIED), "admin without the role");
	assert_int_equal(r->reason, PRIVD__V1__DENY_REASON__DENY_ROLE_REQUIRED);
	privd__v1__response__free_unpacked(r, NULL);

	/* back to two admins, then admin removes itself with force */
	v = apply_ok(h, "admin2", v, two, false);
	v = apply_ok(h, "admin", v, only2, true);
	r = pget(h, "admin", 0);
	expect_status(r, ST(DENIED), "admin after removing itself");
	privd__v1__response__free_unpacked(r, NULL);
	assert_int_equal(in_force(h, "admin2"), v);
	free(two);
	free(only2);
}

/* An apply over a version no longer in force is a conflict, whatever else
 * is wrong with the document: the admin must see the new version before
 * anything else (found in review: a self-removal was answered INVALID). */
static void
test_stale_apply_is_a_conflict_first(void **state)
{
	harness *h = *state;
	char *three = policy_text(h, POL_THREE_ADMINS),
	     *only2 = policy_text(h, POL_ADMIN2_ONLY);
	Privd__V1__Response *r;
	uint64_t v;

	v = apply_ok(h, "admin2", 1, three, false);
	/* stale (1) and taking admin's own role away, without force */
	r = apply(h, "admin", 1, only2, false);
	expect_status(r, ST(CONFLICT), "a stale apply that removes the role");
	privd__v1__response__free_unpacked(r, NULL);
	/* over the version in force, the refusal is what remains */
	r = apply(h, "admin", v, only2, false);
	expect_status(r, ST(INVALID), "removing the applier's own role");
	assert_non_null(strstr(r->message, "policy_admin"));
	privd__v1__response__free_unpacked(r, NULL);
	assert_int_equal(in_force(h, "admin"), v);
	free(three);
	free(only2);
}

/* The same document with other white space and another key order. */
static char *
reformatted(harness *h)
{
	static const char tmpl[] =
	    "{ \"principals\" : { \"admin2\" : { \"roles\" : "
	    "[ \"policy_admin\" ] , \"key\" : \"@KEY:admin2@\" } ,\n"
	    "\t\"admin\":{\"roles\":[\"policy_admin\"],\"key\":\"@KEY:admin@\"}"
	    ","
	    "\"auditor\":{\"roles\":[\"auditor\"],\"key\":\"@KEY:auditor@\"},"
	    "\"svc\":{\"grants\":[{\"ops\":[\"read\",\"write\"],\"fields\":"
	    "[\"*\"],\"purposes\":[\"invoicing\"],\"register\":"
	    "\"customers\"}],\"region\":\"FI\",\"key\":\"@KEY:svc@\"}},\n"
	    "\"registers\":{\"customers\":{\"fields\":{\"name\":{\"type\":"
	    "\"string\",\"category\":\"identity\"}},\"purposes\":{"
	    "\"invoicing\":{\"legal_basis\":\"contract\"}}}},\n"
	    "\"controller\":{\"business_id\":\"1234567-8\",\"name\":"
	    "\"Test Oy\"}}";

	return policy_text(h, tmpl);
}

static void
expect_unchanged(harness *h, const char *json, uint64_t version)
{
	Privd__V1__Response *r = apply(h, "admin", version, json, false);

	expect_status(r, ST(OK), "applying the policy in force again");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_APPLY);
	assert_true(r->policy_apply->unchanged);
	assert_int_equal(r->policy_apply->version, version);
	privd__v1__response__free_unpacked(r, NULL);
}

static void
test_identical_document_unchanged(void **state)
{
	harness *h = *state;
	char *two = policy_text(h, POL_TWO_ADMINS), *same = reformatted(h);
	char *three = policy_text(h, POL_THREE_ADMINS);
	Privd__V1__Response *r;
	uint64_t v;

	expect_unchanged(h, two, 1);
	expect_unchanged(h, same, 1);
	assert_int_equal(history_len(h, "admin"), 1);
	assert_int_equal(in_force(h, "admin"), 1);

	/* a different document is a new version, and applying it again is
	 * not */
	v = apply_ok(h, "admin", 1, three, false);
	expect_unchanged(h, three, v);
	assert_int_equal(history_len(h, "admin"), 2);

	/* the version read back is the document as first applied */
	r = pget(h, "admin", 1);
	expect_status(r, ST(OK), "policy get 1");
	assert_string_equal(r->policy_get->policy_json, two);
	privd__v1__response__free_unpacked(r, NULL);
	free(two);
	free(same);
	free(three);
}

static void
test_policy_get_any_version(void **state)
{
	harness *h = *state;
	char *two = policy_text(h, POL_TWO_ADMINS),
	     *three = policy_text(h, POL_THREE_ADMINS);
	Privd__V1__Response *r;
	uint64_t v2;

	v2 = apply_ok(h, "admin2", 1, three, false);
	assert_int_equal(v2, 2);

	r = pget(h, "admin", 1);
	expect_status(r, ST(OK), "policy get 1");
	assert_int_equal(r->policy_get->version->version, 1);
	assert_string_equal(r->policy_get->version->applied_by, "privd init");
	assert_string_equal(r->policy_get->policy_json, two);
	privd__v1__response__free_unpacked(r, NULL);

	r = pget(h, "admin", 2);
	expect_status(r, ST(OK), "policy get 2");
	assert_int_equal(r->policy_get->version->version, 2);
	assert_string_equal(r->policy_get->version->applied_by, "admin2");
	assert_string_equal(r->policy_get->policy_json, three);
	privd__v1__response__free_unpacked(r, NULL);

	r = pget(h, "newadmin", 0);
	expect_status(r, ST(OK), "policy get 0");
	assert_int_equal(r->policy_get->version->version, 2);
	assert_string_equal(r->policy_get->policy_json, three);
	privd__v1__response__free_unpacked(r, NULL);

	r = pget(h, "admin", 3);
	expect_status(r, ST(NOT_FOUND), "policy get of a future version");
	privd__v1__response__free_unpacked(r, NULL);

	/* old versions are as closed as the current one */
	r = pget(h, "svc", 1);
	expect_status(r, ST(DENIED), "policy get 1 by a service");
	assert_int_equal(r->reason, PRIVD__V1__DENY_REASON__DENY_ROLE_REQUIRED);
	privd__v1__response__free_unpacked(r, NULL);
	free(two);
	free(three);
}

/* `privd policy set --data-dir DIR [--force] FILE` with h->policy. */
static void
policy_set(harness *h, bool force, h_result *res)
{
	const char *args[] = {"policy", "set", "--data-dir", h->data_dir,
	    force ? "--force" : h->policy, force ? h->policy : NULL, NULL};

	assert_int_equal(h_run_privd(h, args, H_RUN_TIMEOUT_MS, res), 0);
	assert_false(res->timed_out);
}

/* The policy_apply events of principal "privd" in the audit log, after
 * checking that the whole log verifies. */
static size_t
privd_set_events(harness *h)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter q = {0};
	privd_audit_page *p = NULL;
	const char *ops[] = {"policy_apply"};
	size_t n;

	audit_verify_ok(a, NULL, NULL);
	q.principal = "privd";
	q.ops = ops;
	q.nops = 1;
	q.limit = 1000;
	expect_rc(a, privd_audit_query(a, &q, NULL, 0, &p), PRIVD_OK, "query");
	n = p->n;
	for (size_t i = 0; i < p->n; i++) {
		assert_string_equal(p->events[i].principal, "privd");
		assert_int_equal(p->events[i].status, ST(OK));
	}
	assert_null(p->cursor);
	privd_audit_page_free(&p);
	privd_close(&a);
	return n;
}

/*
 * The recovery path: admin forced itself out and admin2's key is "lost";
 * with privd stopped, privd policy set makes a policy with admin back in
 * force at the next start. It refuses while privd runs, refuses a policy
 * without an admin unless --force, leaves an identical one unchanged, and
 * each run is an audit event of principal "privd" in a log that verifies.
 */
static void
test_policy_set_offline(void **state)
{
	harness *h = *state;
	char *only2 = policy_text(h, POL_ADMIN2_ONLY);
	Privd__V1__Response *r;
	privd_client *c;
	privd_pong pong;
	h_result res;
	uint64_t v;
	size_t n;

	v = apply_ok(h, "admin", 1, only2, true);
	free(only2);

	/* refused while privd runs; nothing changed */
	free(policy_text(h, POL_THREE_ADMINS));
	policy_set(h, false, &res);
	assert_int_equal(exit_status(&res), 1);
	assert_true(strlen(res.err) > 0);
	assert_int_equal(in_force(h, "admin2"), v);

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	/* no admin: refused without --force */
	free(policy_text(h, POL_NO_ADMIN));
	policy_set(h, false, &res);
	assert_int_equal(exit_status(&res), 1);
	assert_non_null(strstr(res.err, "policy_admin"));

	/* the way back in */
	free(policy_text(h, POL_THREE_ADMINS));
	policy_set(h, false, &res);
	if (exit_status(&res) != 0)
		fail_msg("privd policy set: %s", res.err);
	/* the same document again changes nothing */
	policy_set(h, false, &res);
	assert_int_equal(exit_status(&res), 0);

	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	expect_rc(c, privd_ping(c, &pong), PRIVD_OK, "ping");
	assert_int_equal(pong.policy_version, v + 1);
	privd_close(&c);
	assert_int_equal(in_force(h, "admin"), v + 1);
	assert_int_equal(in_force(h, "newadmin"), v + 1);
	assert_int_equal(history_len(h, "admin"), v + 1);
	r = pget(h, "admin", v + 1);
	expect_status(r, ST(OK), "policy get");
	assert_string_equal(r->policy_get->version->applied_by, "privd");
	privd__v1__response__free_unpacked(r, NULL);
	/* the stored version is an event (the unchanged run may be one) */
	n = privd_set_events(h);
	assert_true(n >= 1 && n <= 2);

	/* --force sets even a policy without an admin (the command can
	 * always set another), and it is in force at the next start */
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	free(policy_text(h, POL_NO_ADMIN));
	policy_set(h, true, &res);
	if (exit_status(&res) != 0)
		fail_msg("privd policy set --force: %s", res.err);
	assert_int_equal(h_start(h, NULL), 0);
	r = pget(h, "admin2", 0);
	expect_status(r, ST(DENIED), "policy get without an admin");
	privd__v1__response__free_unpacked(r, NULL);
	assert_int_equal(privd_set_events(h), n + 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_no_admin_refused_even_forced),
	    T(test_self_removal_needs_force),
	    T(test_stale_apply_is_a_conflict_first),
	    T(test_identical_document_unchanged),
	    T(test_policy_get_any_version),
	    T(test_policy_set_offline),
	};

	return cmocka_run_group_tests_name(
	    "integration/policy_safety", tests, NULL, NULL);
}
