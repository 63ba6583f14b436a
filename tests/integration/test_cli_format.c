/*
 * test_cli_format.c - privctl's output formats (issue 11), against a real
 * privd: --format json, --json and PRIVCTL_FORMAT=json print one JSON
 * object on stdout, errors included - usage errors too - and nothing on
 * stderr; --format table wins over the environment; a bad format is a
 * usage error; what a value has not is null, never "" or missing (audit
 * events, verify, keygen, pubkey); `COMMAND --help` shows that command
 * alone.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "checks.h"
#include "harness.h"
#include "test_cli_common.h"

static cli_result res;

/* stdout is exactly one JSON object with "error": its status. */
static void
expect_json_error(const cli_result *r, const char *status)
{
	json_error_t je;
	json_t *doc, *err;

	if ((doc = json_loads(r->out, 0, &je)) == NULL)
		fail_msg(
		    "not one JSON object: %s (stderr: %s)", r->out, r->err);
	err = json_object_get(doc, "error");
	assert_non_null(err);
	assert_string_equal(
	    json_string_value(json_object_get(err, "status")), status);
	/* every member there, reason null unless denied */
	assert_non_null(json_object_get(err, "reason"));
	assert_true(json_is_string(json_object_get(err, "message")));
	json_decref(doc);
	assert_string_equal(r->err, "");
}

/* Usage errors, privd's errors, as JSON on stdout by every way of
 * asking for it. */
static void
test_json_errors(void **state)
{
	static const char *const bad_opt[] = {"--json", "ping", "--nope", NULL};
	static const char *const bad_opt_fmt[] = {
	    "ping", "--nope", "--format", "json", NULL};
	static const char *const no_cmd[] = {"--format=json", NULL};
	static const char *const denied[] = {"get", "customers", "c-1",
	    "--purpose", "marketing", "--json", NULL};
	static const char *const plain[] = {"ping", "--nope", NULL};
	static const char *const table[] = {"--format", "table", "get",
	    "customers", "c-1", "--purpose", "marketing", NULL};
	static const char *const env_json[] = {"PRIVCTL_FORMAT=json", NULL};
	static const char *const env_bad[] = {"PRIVCTL_FORMAT=yaml", NULL};
	harness *h = *state;
	cli_cmd c = {.args = bad_opt};
	json_t *doc, *err;

	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	expect_json_error(&res, "usage");
	c.args = bad_opt_fmt;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	expect_json_error(&res, "usage");
	c.args = no_cmd;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	expect_json_error(&res, "usage");
	/* no connection settings at all: a usage error too */
	c.args = (const char *const[]){"ping", "--json", NULL};
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	expect_json_error(&res, "usage");
	/* from the environment */
	c.args = plain;
	c.env = env_json;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	expect_json_error(&res, "usage");

	/* privd's: denied, with its reason */
	cli_expect(h, "svc", denied, &res, 3, "denied");
	expect_json_error(&res, "denied");
	assert_non_null(doc = json_loads(res.out, 0, NULL));
	err = json_object_get(doc, "error");
	assert_string_equal(
	    json_string_value(json_object_get(err, "reason")), "no_grant");
	json_decref(doc);

	/* --format table wins over PRIVCTL_FORMAT */
	c.key = "svc";
	c.args = table;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 3);
	assert_string_equal(res.out, "");
	assert_non_null(strstr(res.err, "privctl: denied by policy"));

	/* a format privctl does not know */
	c.key = NULL;
	c.args = (const char *const[]){"ping", NULL};
	c.env = env_bad;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	assert_non_null(strstr(res.err, "PRIVCTL_FORMAT is json or table"));
	c.env = NULL;
	c.args = (const char *const[]){"--format", "yaml", "ping", NULL};
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	assert_non_null(strstr(res.err, "--format takes json or table"));
}

/* An audit event has every member; what it has not is null. */
static void
test_event_nulls(void **state)
{
	static const char *const ping[] = {"ping", NULL};
	static const char *const query[] = {
	    "audit", "query", "--op", "ping", "--format", "json", NULL};
	static const char *const members[] = {"seq", "time", "time_us",
	    "principal", "op", "register", "subject", "fields", "purpose",
	    "decision", "reason", "status", "policy_version", "request_id",
	    "rule", "hash"};
	harness *h = *state;
	json_t *e;
	size_t i;

	cli_expect(h, "svc", ping, &res, 0, "ping");
	cli_expect(h, "auditor", query, &res, 0, "audit query");
	/* the harness's own pings come first: take the last line */
	{
		char *last = res.out, *nl;

		while ((nl = strchr(last, '\n')) != NULL && nl[1] != '\0')
			last = nl + 1;
		assert_non_null(e = json_loads(last, 0, NULL));
	}
	assert_int_equal(json_object_size(e), 16);
	for (i = 0; i < sizeof(members) / sizeof(members[0]); i++)
		if (json_object_get(e, members[i]) == NULL)
			fail_msg("no member %s", members[i]);
	assert_string_equal(
	    json_string_value(json_object_get(e, "principal")), "svc");
	assert_true(json_is_null(json_object_get(e, "register")));
	assert_true(json_is_null(json_object_get(e, "purpose")));
	assert_true(json_is_null(json_object_get(e, "subject")));
	assert_true(json_is_null(json_object_get(e, "reason")));
	assert_true(json_is_null(json_object_get(e, "rule")));
	json_decref(e);
}

/* verify, keygen and pubkey: the same members whatever the answer. */
static void
test_same_members(void **state)
{
	static const char *const verify[] = {"audit", "verify", "--json", NULL};
	static const char *const pubkey[] = {"audit", "pubkey", "--json", NULL};
	static const char *const keygen[] = {"keygen", "--json", NULL};
	harness *h = *state;
	cli_cmd c = {.args = keygen};
	json_t *v;

	cli_expect(h, "auditor", verify, &res, 0, "audit verify");
	assert_non_null(v = json_loads(res.out, 0, NULL));
	assert_int_equal(json_object_size(v), 7);
	assert_true(json_is_true(json_object_get(v, "verified")));
	assert_true(json_is_integer(json_object_get(v, "from")));
	assert_true(json_is_null(json_object_get(v, "bad_seq")));
	assert_true(json_is_null(json_object_get(v, "why")));
	json_decref(v);

	cli_expect(h, "auditor", pubkey, &res, 0, "audit pubkey");
	assert_non_null(v = json_loads(res.out, 0, NULL));
	assert_int_equal(json_object_size(v), 2);
	assert_true(json_is_null(json_object_get(v, "file")));
	json_decref(v);

	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_non_null(v = json_loads(res.out, 0, NULL));
	assert_int_equal(json_object_size(v), 3);
	assert_true(json_is_string(json_object_get(v, "secret_key")));
	assert_true(json_is_null(json_object_get(v, "file")));
	json_decref(v);
}

/* `privctl audit query --help`: that command, not the others. */
static void
test_command_help(void **state)
{
	static const char *const help[] = {"audit", "query", "--help", NULL};
	harness *h = *state;
	cli_cmd c = {.args = help};

	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_non_null(
	    strstr(res.out, "usage: privctl [options] audit query"));
	assert_null(strstr(res.out, "audit tail"));
	assert_null(strstr(res.out, "keygen"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_json_errors, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_event_nulls, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_same_members, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_command_help, cli_setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
