/*
 * test_cli_policy.c - the policy side of issue 7 as a client sees it,
 * through libprivd and privctl, against a real privd:
 * - any version can be read (privd_policy_get_version, `policy show N`);
 * - a document equal to the one in force is answered OK with the same
 *   version and no new one (`policy unchanged: version N stays in force`);
 * - privd refuses a policy that leaves no policy_admin, and one that takes
 *   the role from the admin applying it unless forced (--force);
 * - `policy diff [A] [B|FILE]` says what changes, in the policy's terms.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define POL_HEAD                                                               \
	H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RW ",\n"

/* Version 1: two admins. */
static const char POL_V1[] = POL_HEAD
    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": [\"policy_admin\"]},\n"
    "  \"admin2\": {\"key\": \"@KEY:admin2@\", \"roles\": "
    "[\"policy_admin\"]}}}\n";
/* The same policy, written otherwise: another order, other spacing. */
static const char POL_V1_REORDERED[] =
    "{\"principals\": {\"admin2\": {\"roles\": [\"policy_admin\"], "
    "\"key\": \"@KEY:admin2@\"}, \"admin\": {\"roles\": [\"policy_admin\"], "
    "\"key\": \"@KEY:admin@\"}, \"svc\": {\"grants\": [{\"register\": "
    "\"customers\", \"purposes\": [\"invoicing\"], \"fields\": [\"*\"], "
    "\"ops\": [\"read\", \"write\"]}], \"region\": \"FI\", \"key\": "
    "\"@KEY:svc@\"}}, \"registers\": {\"customers\": {\"fields\": "
    "{\"name\": {\"type\": \"string\", \"category\": \"identity\"}}, "
    "\"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}}}}, "
    "\"controller\": {\"business_id\": \"1234567-8\", \"name\": \"Test "
    "Oy\"}}";
/* Version 1 and an auditor. */
static const char POL_AUDITOR[] = POL_HEAD
    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": [\"policy_admin\"]},\n"
    "  \"admin2\": {\"key\": \"@KEY:admin2@\", \"roles\": "
    "[\"policy_admin\"]},\n" H_POL_AUDITOR H_POL_END;
/* Nobody keeps policy_admin. */
static const char POL_NO_ADMIN[] = POL_HEAD
    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": [\"auditor\"]},\n"
    "  \"admin2\": {\"key\": \"@KEY:admin2@\", \"roles\": "
    "[\"auditor\"]}}}\n";
/* admin loses the role, admin2 keeps it. */
static const char POL_ADMIN2_ONLY[] = POL_HEAD
    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": [\"auditor\"]},\n"
    "  \"admin2\": {\"key\": \"@KEY:admin2@\", \"roles\": "
    "[\"policy_admin\"]}}}\n";

static int
setup(void **state)
{
	static const char *const keys[] = {"admin", "admin2", "svc", "auditor"};

	return h_setup(state, keys, 4, POL_V1, NULL);
}

static void
test_policy_versions_and_apply(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin"), *admin2 = client(h, "admin2");
	char path[H_PATH_MAX + 32], *v1, *doc, *json = NULL;
	privd_policy_version info, *hist = NULL;
	uint64_t v = 0;
	size_t n = 0;
	int same = -1;

	v1 = policy_file(h, POL_V1, "v1.json", path, sizeof(path));

	/* the same document: OK, the same version, nothing stored */
	expect_rc(admin, privd_policy_apply_flags(admin, 1, v1, 0, &v, &same),
	    PRIVD_OK, "apply the same");
	assert_int_equal(v, 1);
	assert_int_equal(same, 1);
	/* written otherwise, it is still the same */
	doc = policy_file(h, POL_V1_REORDERED, "r.json", path, sizeof(path));
	expect_rc(admin, privd_policy_apply_flags(admin, 1, doc, 0, &v, &same),
	    PRIVD_OK, "apply the same, reordered");
	assert_int_equal(v, 1);
	assert_int_equal(same, 1);
	free(doc);
	/* the old call says the same with the version */
	expect_rc(admin, privd_policy_apply(admin, 1, v1, &v), PRIVD_OK,
	    "apply the same, old call");
	assert_int_equal(v, 1);
	expect_rc(
	    admin, privd_policy_history(admin, &hist, &n), PRIVD_OK, "history");
	assert_int_equal(n, 1);
	privd_free(hist);

	/* a real change: a new version */
	doc = policy_file(h, POL_AUDITOR, "a.json", path, sizeof(path));
	expect_rc(admin, privd_policy_apply_flags(admin, 1, doc, 0, &v, &same),
	    PRIVD_OK, "apply a change");
	assert_int_equal(v, 2);
	assert_int_equal(same, 0);
	free(doc);

	/* every version can be read */
	expect_rc(admin, privd_policy_get_version(admin, 1, &info, &json),
	    PRIVD_OK, "get version 1");
	assert_int_equal(info.version, 1);
	assert_string_equal(info.applied_by, "privd init");
	assert_string_equal(json, v1);
	privd_free(json);
	expect_rc(admin, privd_policy_get_version(admin, 0, &info, NULL),
	    PRIVD_OK, "get version 0");
	assert_int_equal(info.version, 2);
	assert_string_equal(info.applied_by, "admin");
	expect_rc(admin, privd_policy_get_version(admin, 3, &info, &json),
	    PRIVD_ENOTFOUND, "get version 3");
	assert_null(json);

	/* nobody left with policy_admin: refused, whatever the force */
	doc = policy_file(h, POL_NO_ADMIN, "n.json", path, sizeof(path));
	expect_rc(admin,
	    privd_policy_apply_flags(
	        admin, 2, doc, PRIVD_APPLY_FORCE, &v, &same),
	    PRIVD_EINVAL, "no admin left");
	assert_non_null(strstr(privd_errmsg(admin), "$.principals"));
	assert_int_equal(policy_in_force(admin), 2);
	free(doc);

	/* taking one's own role: refused without force, done with it */
	doc = policy_file(h, POL_ADMIN2_ONLY, "o.json", path, sizeof(path));
	expect_rc(admin, privd_policy_apply_flags(admin, 2, doc, 0, &v, &same),
	    PRIVD_EINVAL, "own role, no force");
	assert_non_null(strstr(privd_errmsg(admin), "policy_admin"));
	assert_int_equal(policy_in_force(admin), 2);
	expect_rc(admin, privd_policy_apply(admin, 2, doc, &v), PRIVD_EINVAL,
	    "own role, old call");
	expect_rc(admin, privd_policy_apply_flags(admin, 2, doc, 0x2, &v, NULL),
	    PRIVD_EINVAL, "unknown flag");
	expect_rc(admin,
	    privd_policy_apply_flags(
	        admin, 2, doc, PRIVD_APPLY_FORCE, &v, &same),
	    PRIVD_OK, "own role, forced");
	assert_int_equal(v, 3);
	assert_int_equal(same, 0);
	/* admin is no admin any more; admin2 is */
	expect_rc(admin, privd_policy_get(admin, NULL, NULL), PRIVD_EDENIED,
	    "admin after");
	assert_int_equal(policy_in_force(admin2), 3);
	free(doc);
	free(v1);
	privd_close(&admin);
	privd_close(&admin2);
}

static void
test_privctl_policy_show_apply(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 32], other[H_PATH_MAX + 32];
	h_result *r = malloc(sizeof(*r));

	assert_non_null(r);
	free(policy_file(h, POL_V1, "v1.json", path, sizeof(path)));
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "apply", path, "--replaces", "1", NULL},
	    r, 0, "apply the same");
	assert_string_equal(
	    r->out, "policy unchanged: version 1 stays in force\n");
	privctl_expect(h, "admin",
	    (const char *[]){
	        "--json", "policy", "apply", path, "--replaces", "1", NULL},
	    r, 0, "apply the same --json");
	assert_string_equal(r->out,
	    "{\"version\":1,\"unchanged\":true,\"replan_subjects\":0}\n");

	free(policy_file(h, POL_AUDITOR, "a.json", other, sizeof(other)));
	privctl_expect(h, "admin",
	    (const char *[]){
	        "--json", "policy", "apply", other, "--replaces", "1", NULL},
	    r, 0, "apply a change --json");
	assert_string_equal(r->out,
	    "{\"version\":2,\"unchanged\":false,\"replan_subjects\":0}\n");

	/* show N */
	privctl_expect(h, "admin",
	    (const char *[]){"--json", "policy", "show", "1", NULL}, r, 0,
	    "show 1 --json");
	assert_non_null(strstr(r->out, "{\"version\":1,"));
	assert_non_null(strstr(r->out, "\"applied_by\":\"privd init\""));
	assert_null(strstr(r->out, "auditor"));
	privctl_expect(
	    h, "admin", (const char *[]){"policy", "show", NULL}, r, 0, "show");
	assert_non_null(strstr(r->out, "version 2, applied by admin at "));
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "show", "7", NULL}, r, 4, "show 7");
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "show", "x", NULL}, r, 2, "show x");

	/* refusals: no admin left (5), own role without --force (5) */
	free(policy_file(h, POL_NO_ADMIN, "n.json", path, sizeof(path)));
	privctl_expect(h, "admin",
	    (const char *[]){
	        "policy", "apply", path, "--replaces", "2", "--force", NULL},
	    r, 5, "apply, no admin left");
	assert_non_null(strstr(r->err, "no principal has the role"));
	free(policy_file(h, POL_ADMIN2_ONLY, "o.json", path, sizeof(path)));
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "apply", path, "--replaces", "2", NULL},
	    r, 5, "apply, own role");
	assert_non_null(strstr(r->err, "force"));
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "check", path, "--force", NULL}, r, 2,
	    "--force is for apply");
	privctl_expect(h, "admin",
	    (const char *[]){
	        "policy", "apply", path, "--replaces", "2", "--force", NULL},
	    r, 0, "apply, own role, --force");
	assert_string_equal(r->out, "policy version 3 in force\n");
	free(r);
}

/*
 * diff: version 1 (two admins) and 2 (an auditor added), and files, are
 * compared every way the command takes them. The lines checked are those
 * pol_diff() documents for a principal added or removed ("principal
 * NAME", and a detail after ": ").
 */
static void
test_privctl_policy_diff(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin");
	char v1[H_PATH_MAX + 32], a[H_PATH_MAX + 32], r3[H_PATH_MAX + 32];
	char *doc;
	h_result *r = malloc(sizeof(*r));
	uint64_t v;

	assert_non_null(r);
	free(policy_file(h, POL_V1, "v1.json", v1, sizeof(v1)));
	free(policy_file(h, POL_V1_REORDERED, "r.json", r3, sizeof(r3)));

	/* one version only: nothing before it (4) */
	privctl_expect(h, "admin", (const char *[]){"policy", "diff", NULL}, r,
	    4, "diff with one version");
	assert_non_null(strstr(r->err, "no version before it"));

	/* diff FILE: what applying it would change; nothing, if the same */
	privctl_expect(h, "admin", (const char *[]){"policy", "diff", r3, NULL},
	    r, 0, "diff reordered file");
	assert_non_null(strstr(r->out, "version 1 -> "));
	assert_non_null(strstr(r->out, "\nno differences\n"));

	doc = policy_file(h, POL_AUDITOR, "a.json", a, sizeof(a));
	privctl_expect(h, "admin", (const char *[]){"policy", "diff", a, NULL},
	    r, 0, "diff FILE");
	assert_non_null(strstr(r->out, "\n+ principal auditor"));
	assert_non_null(strstr(r->out, "\n1 difference\n"));
	privctl_expect(h, "admin",
	    (const char *[]){"--json", "policy", "diff", a, NULL}, r, 0,
	    "diff FILE --json");
	assert_non_null(strstr(r->out, "\"from\":{\"version\":1,"));
	assert_non_null(strstr(r->out, "\"to\":{\"file\":\""));
	assert_non_null(strstr(r->out,
	    "{\"change\":\"added\",\"what\":\"principal auditor\","
	    "\"detail\":\""));
	assert_non_null(strstr(r->out, "\"count\":1}"));

	/* an invalid FILE is refused before privd is asked (5) */
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", h->log, NULL}, r, 5,
	    "diff invalid FILE");

	/* apply it: version 2 */
	expect_rc(
	    admin, privd_policy_apply(admin, 1, doc, &v), PRIVD_OK, "apply");
	assert_int_equal(v, 2);
	free(doc);

	/* no argument: what the last apply changed */
	privctl_expect(
	    h, "admin", (const char *[]){"policy", "diff", NULL}, r, 0, "diff");
	assert_non_null(strstr(r->out, "version 1 -> version 2:\n"));
	assert_non_null(strstr(r->out, "\n+ principal auditor"));
	/* diff A: A -> in force */
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", "1", NULL}, r, 0, "diff 1");
	assert_non_null(strstr(r->out, "version 1 -> version 2:\n"));
	/* diff A B, either way round */
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", "2", "1", NULL}, r, 0,
	    "diff 2 1");
	assert_non_null(strstr(r->out, "version 2 -> version 1:\n"));
	assert_non_null(strstr(r->out, "\n- principal auditor"));
	/* diff A FILE */
	privctl_expect(h, "admin",
	    (const char *[]){"--json", "policy", "diff", "2", v1, NULL}, r, 0,
	    "diff 2 FILE");
	assert_non_null(strstr(r->out, "\"change\":\"removed\""));
	assert_non_null(strstr(r->out, "\"from\":{\"version\":2,"));
	/* diff 2 2: the same version */
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", "2", "2", NULL}, r, 0,
	    "diff 2 2");
	assert_non_null(strstr(r->out, "\nno differences\n"));

	/* usage and unknown versions */
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", v1, "1", NULL}, r, 2,
	    "diff FILE A");
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", "1", "2", "3", NULL}, r, 2,
	    "diff with three arguments");
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", "9", NULL}, r, 4, "diff 9");
	/* digits only are a version, and there is no version 0: a usage
	 * error, never a file named 0 */
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", "0", NULL}, r, 2, "diff 0");
	assert_null(strstr(r->err, "No such file"));
	assert_string_equal(r->out, "");
	privctl_expect(h, "admin",
	    (const char *[]){"policy", "diff", "2", "00", NULL}, r, 2,
	    "diff 2 00");
	assert_null(strstr(r->err, "No such file"));
	/* the policy of an admin: others are denied (3) */
	privctl_expect(h, "auditor", (const char *[]){"policy", "diff", NULL},
	    r, 3, "diff as auditor");
	free(r);
	privd_close(&admin);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_policy_versions_and_apply, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_policy_show_apply, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_policy_diff, setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/cli_policy", tests, NULL, NULL);
}
