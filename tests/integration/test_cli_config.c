/*
 * test_cli_config.c - privctl's config file (issue 11), against a real
 * privd: a service account whose ~/.config/privctl/config names the
 * endpoint, its key file (relative to the config file) and the server
 * key file connects with no option and no variable; PRIVD_KEY and then
 * --key override the file; PRIVCTL_CONFIG names another file;
 * `privctl config` says where each setting comes from; a config file
 * others could write, or with a mistake in it, is refused naming the
 * line, before anything is sent.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <jansson.h>

#include "checks.h"
#include "harness.h"
#include "test_cli_common.h"

static cli_result res;

/*
 * Write HOME/.config/privctl/config (HOME: root/home, as cli_run() gives
 * privctl) with the endpoint, the key file of keyname copied beside it
 * as svc.key (a name relative to the file), the server key file, and
 * extra lines; mode mode. Its path into path.
 */
static void
write_config(harness *h, const char *keyname, const char *extra, int mode,
    char *path, size_t size)
{
	char dir[H_PATH_MAX + 64], key[H_PATH_MAX + 80], text[2048];
	uint8_t *buf = NULL;
	size_t len = 0;
	int n;

	snprintf(dir, sizeof(dir), "%s/home", h->root);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/home/.config", h->root);
	mkdir(dir, 0700);
	snprintf(dir, sizeof(dir), "%s/home/.config/privctl", h->root);
	mkdir(dir, 0700);
	assert_int_equal(h_read_file(cli_key_file(h, keyname), &buf, &len), 0);
	snprintf(key, sizeof(key), "%s/svc.key", dir);
	assert_int_equal(h_write_file(key, buf, len, 0600), 0);
	free(buf);
	n = snprintf(text, sizeof(text),
	    "# privctl config of a service account\n"
	    "endpoint = %s\n"
	    "key = svc.key\n"
	    "server-key = %s\n"
	    "%s",
	    h->endpoint, cli_server_pub(h), extra);
	snprintf(path, size, "%s/config", dir);
	assert_int_equal(h_write_file(path, text, (size_t)n, 0600), 0);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* The config file alone connects; the environment and options win. */
static void
test_service_account(void **state)
{
	static const char *const ping[] = {"ping", NULL};
	static const char *const ping_admin[] = {"ping", "--key", NULL, NULL};
	harness *h = *state;
	char path[H_PATH_MAX + 128], env_key[H_PATH_MAX + 32];
	const char *env[] = {env_key, NULL};
	const char *args[4];
	cli_cmd c = {.args = ping};

	write_config(h, "svc", "", 0600, path, sizeof(path));
	cli_run(h, &c, &res);
	if (res.code != 0)
		fail_msg("ping: exit %d: %s", res.code, res.err);
	assert_non_null(strstr(res.out, "you are \"svc\""));

	/* PRIVD_KEY over the file */
	snprintf(env_key, sizeof(env_key), "PRIVD_KEY=%s",
	    cli_key_file(h, "auditor"));
	c.env = env;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_non_null(strstr(res.out, "you are \"auditor\""));

	/* --key over both */
	memcpy(args, ping_admin, sizeof(ping_admin));
	args[2] = cli_key_file(h, "admin");
	c.args = args;
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_non_null(strstr(res.out, "you are \"admin\""));
}

/* `privctl config --json` names the file and each setting's source. */
static void
test_config_command(void **state)
{
	static const char *const config[] = {"config", "--json", NULL};
	harness *h = *state;
	char path[H_PATH_MAX + 128];
	const char *env[] = {"PRIVD_ENDPOINT=ipc:///elsewhere", NULL};
	cli_cmd c = {.args = config, .env = env};
	json_t *doc, *s;

	write_config(h, "svc", "timeout = 2500\n", 0600, path, sizeof(path));
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	assert_non_null(doc = json_loads(res.out, 0, NULL));
	assert_string_equal(
	    json_string_value(json_object_get(doc, "file")), path);
	s = json_object_get(doc, "settings");
	assert_int_equal(json_array_size(s), 5);
	/* endpoint: the environment's */
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(s, 0), "source")),
	    "environment");
	assert_true(
	    json_is_null(json_object_get(json_array_get(s, 0), "line")));
	/* key: the file's, line 3, resolved beside it */
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(s, 1), "source")),
	    "file");
	assert_int_equal(
	    json_integer_value(json_object_get(json_array_get(s, 1), "line")),
	    3);
	assert_non_null(strstr(
	    json_string_value(json_object_get(json_array_get(s, 1), "value")),
	    "/home/.config/privctl/svc.key"));
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(s, 3), "value")),
	    "2500");
	/* format: the option's */
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(s, 4), "source")),
	    "option");
	json_decref(doc);
}

/* PRIVCTL_CONFIG names the file; "" means none. */
static void
test_privctl_config_var(void **state)
{
	static const char *const ping[] = {"ping", NULL};
	harness *h = *state;
	char path[H_PATH_MAX + 128], var[H_PATH_MAX + 96],
	    moved[H_PATH_MAX + 64];
	const char *env[] = {var, NULL};
	cli_cmd c = {.args = ping, .env = env};

	write_config(h, "svc", "", 0600, path, sizeof(path));
	snprintf(
	    moved, sizeof(moved), "%s/home/.config/privctl/svc.conf", h->root);
	assert_int_equal(rename(path, moved), 0);
	snprintf(var, sizeof(var), "PRIVCTL_CONFIG=%s", moved);
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 0);
	/* none: nothing says where privd is */
	snprintf(var, sizeof(var), "PRIVCTL_CONFIG=");
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	assert_non_null(strstr(res.err, "no endpoint"));
	/* named but missing */
	snprintf(var, sizeof(var), "PRIVCTL_CONFIG=%s/none", h->root);
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
}

/* Refused before anything is sent, naming the line; with format = json
 * in the file, as JSON on stdout. */
static void
test_refused(void **state)
{
	static const char *const ping[] = {"ping", NULL};
	harness *h = *state;
	char path[H_PATH_MAX + 128];
	cli_cmd c = {.args = ping};
	json_t *doc;

	write_config(h, "svc", "", 0660, path, sizeof(path));
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	assert_non_null(strstr(res.err, "writable by group or others"));
	write_config(h, "svc", "\nkeyfile = x\n", 0600, path, sizeof(path));
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	assert_non_null(strstr(res.err, "line 6: unknown setting"));
	write_config(h, "svc", "format = json\ntimeout = soon\n", 0600, path,
	    sizeof(path));
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	assert_non_null(strstr(res.err, "line 6: timeout"));
	/* a good file with format = json: errors are JSON on stdout */
	write_config(h, "svc", "format = json\n", 0600, path, sizeof(path));
	{
		static const char *const denied[] = {
		    "get", "customers", "c-1", "--purpose", "marketing", NULL};

		c.args = denied;
		cli_run(h, &c, &res);
		assert_int_equal(res.code, 3);
		assert_string_equal(res.err, "");
		assert_non_null(doc = json_loads(res.out, 0, NULL));
		assert_string_equal(
		    json_string_value(json_object_get(
		        json_object_get(doc, "error"), "status")),
		    "denied");
		json_decref(doc);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_service_account, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_config_command, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_config_var, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_refused, cli_setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
