/*
 * test_privctl_config.c - privctl's config file and settings
 * (client/privctl/config.c): which file is read (--config, then
 * PRIVCTL_CONFIG, then XDG_CONFIG_HOME, then HOME), how its lines are
 * read (names, blanks, comments, file names from the file's directory or
 * HOME), what is refused with the line named, and the order in which a
 * setting is taken: option, environment, file, default.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "privctl.h"

static char dir[64];

/* Every test starts with none of privctl's variables set, HOME = dir. */
static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/privctl-config-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	unsetenv("PRIVCTL_CONFIG");
	unsetenv("PRIVCTL_FORMAT");
	unsetenv("PRIVD_ENDPOINT");
	unsetenv("PRIVD_KEY");
	unsetenv("PRIVD_SERVER_KEY");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", dir, 1);
	output_json_errors(0);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write text to dir/name (directories made), mode; its path into path. */
static void
write_conf(const char *name, const char *text, int mode, char path[160])
{
	char *slash;
	int fd;

	snprintf(path, 160, "%s/%s", dir, name);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash != NULL;
	     slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
}

/* config_load() and settings_resolve() into o, with rc expected. */
static int
load(struct opts *o)
{
	int rc = config_load(o);

	return rc != 0 ? rc : settings_resolve(o);
}

/* The default file: names, blanks, comments, file names resolved. */
static void
test_default_file(void **state)
{
	char path[160], want[200];
	struct opts o = {0};

	(void)state;
	write_conf(".config/privctl/config",
	    "# privctl\n"
	    "\n"
	    "  endpoint =   ipc:///run/privd/privd.sock  \n"
	    "key=svc.key\r\n"
	    "\t# another comment\n"
	    "server-key = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n"
	    "timeout = 1500\n"
	    "format = json",
	    0600, path);
	assert_int_equal(load(&o), 0);
	assert_string_equal(o.endpoint, "ipc:///run/privd/privd.sock");
	snprintf(want, sizeof(want), "%s/.config/privctl/svc.key", dir);
	assert_string_equal(o.keyfile, want);
	/* a server key that is not a file is taken as the key */
	assert_string_equal(
	    o.server_key, "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
	assert_int_equal(o.timeout_ms, 1500);
	assert_int_equal(o.json, 1);
	config_free(&o.cfg);
	output_json_errors(0);
}

/* Option, then environment, then file, then default. */
static void
test_precedence(void **state)
{
	char path[160], pub[160], want[200];
	struct opts o = {0};

	(void)state;
	write_conf(".config/privctl/server.pub", "KEY\n", 0644, pub);
	write_conf(".config/privctl/config",
	    "endpoint = ipc:///file\nkey = ~/file.key\n"
	    "server-key = server.pub\n",
	    0600, path);
	setenv("PRIVD_ENDPOINT", "ipc:///env", 1);
	setenv("PRIVD_KEY", "", 1); /* empty: not set */
	o.endpoint = "ipc:///option";
	o.given = O_ENDPOINT;
	assert_int_equal(load(&o), 0);
	assert_string_equal(o.endpoint, "ipc:///option");
	snprintf(want, sizeof(want), "%s/file.key", dir);
	assert_string_equal(o.keyfile, want);
	/* a server key file beside the config file */
	assert_string_equal(o.server_key, pub);
	assert_int_equal(o.json, 0);
	config_free(&o.cfg);

	memset(&o, 0, sizeof(o));
	setenv("PRIVCTL_FORMAT", "json", 1);
	assert_int_equal(load(&o), 0);
	assert_string_equal(o.endpoint, "ipc:///env");
	assert_int_equal(o.json, 1);
	config_free(&o.cfg);
	output_json_errors(0);
	unsetenv("PRIVCTL_FORMAT");
	unsetenv("PRIVD_ENDPOINT");
	unsetenv("PRIVD_KEY");
}

/* --config, then PRIVCTL_CONFIG ("" for none), then XDG_CONFIG_HOME. */
static void
test_which_file(void **state)
{
	char a[160], b[160], c[160], xdg[200];
	struct opts o = {0};

	(void)state;
	write_conf("a.conf", "endpoint = ipc:///a\n", 0600, a);
	write_conf("b.conf", "endpoint = ipc:///b\n", 0600, b);
	write_conf("xdg/privctl/config", "endpoint = ipc:///xdg\n", 0600, c);
	write_conf(
	    ".config/privctl/config", "endpoint = ipc:///home\n", 0600, c);
	assert_int_equal(load(&o), 0);
	assert_string_equal(o.endpoint, "ipc:///home");
	config_free(&o.cfg);
	snprintf(xdg, sizeof(xdg), "%s/xdg", dir);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	assert_int_equal(load(&o), 0);
	assert_string_equal(o.endpoint, "ipc:///xdg");
	config_free(&o.cfg);
	setenv("PRIVCTL_CONFIG", b, 1);
	assert_int_equal(load(&o), 0);
	assert_string_equal(o.endpoint, "ipc:///b");
	config_free(&o.cfg);
	o.config = a;
	assert_int_equal(load(&o), 0);
	assert_string_equal(o.endpoint, "ipc:///a");
	config_free(&o.cfg);
	o.config = NULL;
	o.endpoint = NULL;
	setenv("PRIVCTL_CONFIG", "", 1);
	assert_int_equal(load(&o), 0);
	assert_null(o.endpoint);
	config_free(&o.cfg);
	/* named, but not there */
	setenv("PRIVCTL_CONFIG", "/nonexistent/privctl.conf", 1);
	assert_int_equal(load(&o), EXIT_USAGE);
	config_free(&o.cfg);
	unsetenv("PRIVCTL_CONFIG");
	unsetenv("XDG_CONFIG_HOME");
}

/* What is refused: each a usage error (exit 2). */
static void
test_refused(void **state)
{
	static const char *const bad[] = {
	    "endpoint ipc:///x\n",          /* no '=' */
	    "colour = blue\n",              /* unknown */
	    "endpoint = a\nendpoint = b\n", /* twice */
	    "key =\n",                      /* no value */
	    "timeout = 0\n",
	    "timeout = 10s\n",
	    "format = yaml\n",
	};
	char path[160];
	struct opts o = {0};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_conf("bad.conf", bad[i], 0600, path);
		o.config = path;
		if (load(&o) != EXIT_USAGE)
			fail_msg("taken: %s", bad[i]);
		config_free(&o.cfg);
	}
	/* a file others could have written */
	write_conf("open.conf", "endpoint = ipc:///x\n", 0620, path);
	o.config = path;
	assert_int_equal(load(&o), EXIT_USAGE);
	config_free(&o.cfg);
	write_conf("open.conf", "endpoint = ipc:///x\n", 0602, path);
	assert_int_equal(load(&o), EXIT_USAGE);
	config_free(&o.cfg);
	/* a bad PRIVCTL_FORMAT */
	o.config = NULL;
	setenv("PRIVCTL_CONFIG", "", 1);
	setenv("PRIVCTL_FORMAT", "yaml", 1);
	assert_int_equal(load(&o), EXIT_USAGE);
	config_free(&o.cfg);
	unsetenv("PRIVCTL_FORMAT");
	unsetenv("PRIVCTL_CONFIG");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_which_file, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
