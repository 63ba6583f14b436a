/*
 * test_systemd_config.c - `privd serve --config FILE`: the file's
 * "key = value" lines for every option of privd serve, comments, flags
 * overriding lines, errors naming the file and the line, and a privd
 * that serves from a file alone; the example contrib/privd.conf
 * (PRIVD_CONF_EXAMPLE) as privd reads it.
 *
 * `privd serve --check` prints the settings in force and exits: most
 * cases read that instead of starting privd.
 */
#include <setjmp.h>
#include <stdarg.h>
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
#include "run.h"

/* Write text to root/privd.conf; its path into path. */
static void
conf_write(harness *h, const char *text, char *path, size_t size)
{
	snprintf(path, size, "%s/privd.conf", h->root);
	assert_int_equal(h_write_file(path, text, strlen(text), 0600), 0);
}

/* `privd serve --config path [extra...] --check`: its output in res. */
static void
check_run(harness *h, const char *path, const char *const *extra, h_result *res)
{
	const char *argv[24];
	size_t n = 0;

	argv[n++] = h->privd_bin;
	argv[n++] = "serve";
	argv[n++] = "--config";
	argv[n++] = path;
	while (extra != NULL && *extra != NULL && n < 22)
		argv[n++] = *extra++;
	argv[n++] = "--check";
	argv[n] = NULL;
	assert_int_equal(h_run(h, argv, H_RUN_TIMEOUT_MS, res), 0);
	assert_false(res->timed_out);
}

/* out has the line want. */
static void
has_line(const char *out, const char *want)
{
	size_t n = strlen(want);
	const char *p;

	for (p = out; (p = strstr(p, want)) != NULL; p += n)
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("no line \"%s\" in:\n%s", want, out);
}

static int
count_lines(const char *out, const char *prefix)
{
	const char *p;
	int n = 0;

	for (p = out; p != NULL && *p != '\0';
	     p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static int
setup(void **state)
{
	harness *h = h_new();

	if (h == NULL)
		return -1;
	*state = h;
	return 0;
}

static void
test_example_config(void **state)
{
	harness *h = *state;
	const char *path = getenv("PRIVD_CONF_EXAMPLE");
	h_result res;

	assert_non_null(path);
	check_run(h, path, NULL, &res);
	expect_exit(&res, 0, "privd serve --check");
	has_line(res.out, "data-dir = /var/lib/privd");
	has_line(res.out, "listen = ipc:///run/privd/privd.sock");
	assert_int_equal(count_lines(res.out, "listen = "), 1);
	/* the commented settings are the defaults they say */
	has_line(res.out, "max-request = 1048576");
	has_line(res.out, "map-size = 67108864");
	has_line(res.out, "log-level = info");
	has_line(res.out, "audit-checkpoint-every = 1000");
	has_line(res.out, "retention-interval = 60");
	has_line(res.out, "clock-behind-ok = no");
}

/* Every option of privd serve has its key; blanks, comments and CRLF. */
static void
test_every_key(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16];
	h_result res;

	conf_write(h,
	    "# privd serve, all of it\n"
	    "\n"
	    "data-dir = /srv/privd\n"
	    "   listen=ipc:///run/privd/a.sock   \n"
	    "listen = tcp://127.0.0.1:7450\r\n"
	    "\t# an indented comment\n"
	    "workers = 3\n"
	    "max-request = 2048\n"
	    "map-size = 2097152\n"
	    "log-level = debug\n"
	    "audit-checkpoint-every = 7\n"
	    "retention-interval = 0\n"
	    "deadline-grace = 250\n"
	    "store-wait = 30\n"
	    "clock-behind-ok = yes",
	    path, sizeof(path));
	check_run(h, path, NULL, &res);
	expect_exit(&res, 0, "privd serve --check");
	has_line(res.out, "data-dir = /srv/privd");
	has_line(res.out, "listen = ipc:///run/privd/a.sock");
	has_line(res.out, "listen = tcp://127.0.0.1:7450");
	has_line(res.out, "workers = 3");
	has_line(res.out, "max-request = 2048");
	has_line(res.out, "map-size = 2097152");
	has_line(res.out, "log-level = debug");
	has_line(res.out, "audit-checkpoint-every = 7");
	has_line(res.out, "retention-interval = 0");
	has_line(res.out, "clock-behind-ok = yes");
	has_line(res.out, "deadline-grace = 250");
	has_line(res.out, "store-wait = 30");
}

/* A flag overrides its line; --listen flags replace every listen line. */
static void
test_flags_override(void **state)
{
	const char *const extra[] = {"--workers", "5", "--listen",
	    "ipc:///tmp/c.sock", "--data-dir", "/srv/other", NULL};
	harness *h = *state;
	char path[H_PATH_MAX + 16];
	h_result res;

	conf_write(h,
	    "data-dir = /srv/privd\n"
	    "listen = ipc:///tmp/a.sock\n"
	    "listen = ipc:///tmp/b.sock\n"
	    "workers = 3\n"
	    "log-level = warn\n",
	    path, sizeof(path));
	check_run(h, path, extra, &res);
	expect_exit(&res, 0, "privd serve --check");
	has_line(res.out, "data-dir = /srv/other");
	has_line(res.out, "listen = ipc:///tmp/c.sock");
	assert_int_equal(count_lines(res.out, "listen = "), 1);
	has_line(res.out, "workers = 5");
	/* what no flag sets comes from the file */
	has_line(res.out, "log-level = warn");
}

/* A file that privd refuses: exit 2, the message naming file and line. */
typedef struct bad_case {
	const char *text;
	const char *msg; /* after "FILE:" in the error line */
} bad_case;

static void
test_errors(void **state)
{
	static const bad_case cases[] = {
	    {"data-dir = /x\nworkres = 4\n", "2: unknown setting \"workres\""},
	    {"workers = 0\n", "1: workers must be an integer in 1..256"},
	    {"workers = four\n", "1: workers must be an integer in 1..256"},
	    {"# c\nmax-request = 1k\n",
	        "2: max-request must be an integer in 1024..67108864"},
	    {"data-dir /x\n", "1: not a \"key = value\" line"},
	    {"data-dir = /x\ndata-dir = /y\n",
	        "2: data-dir is set again (first on line 1)"},
	    {"data-dir =\n", "1: data-dir has no value"},
	    {"log-level = verbose\n",
	        "1: log-level must be error, warn, info or debug"},
	    {"clock-behind-ok = maybe\n",
	        "1: clock-behind-ok must be yes or no"},
	    {"config = /etc/other.conf\n", "1: unknown setting \"config\""},
	    {"listen = a\nlisten = b\nlisten = c\nlisten = d\nlisten = e\n"
	     "listen = f\nlisten = g\nlisten = h\nlisten = i\n",
	        "9: listen: at most 8 endpoints"},
	};
	harness *h = *state;
	char path[H_PATH_MAX + 16], want[H_PATH_MAX + 128];
	h_result res;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf_write(h, cases[i].text, path, sizeof(path));
		check_run(h, path, NULL, &res);
		if (exit_status(&res) != 2)
			fail_msg("case %zu: not refused: %s", i, res.err);
		snprintf(want, sizeof(want), " privd[");
		assert_non_null(strstr(res.err, want));
		snprintf(
		    want, sizeof(want), "error: %s:%s", path, cases[i].msg);
		if (strstr(res.err, want) == NULL)
			fail_msg(
			    "case %zu: no \"%s\" in: %s", i, want, res.err);
		assert_string_equal(res.out, "");
	}
}

/* No file, a directory, a NUL byte; no data directory anywhere. */
static void
test_file_errors(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16];
	h_result res;

	snprintf(path, sizeof(path), "%s/missing.conf", h->root);
	check_run(h, path, NULL, &res);
	expect_exit(&res, 2, "privd serve --check");
	assert_non_null(strstr(res.err, "No such file or directory"));

	check_run(h, h->root, NULL, &res);
	expect_exit(&res, 2, "privd serve --check");
	assert_non_null(strstr(res.err, "not a regular file"));

	snprintf(path, sizeof(path), "%s/nul.conf", h->root);
	assert_int_equal(h_write_file(path, "workers = 2\n\0\n", 14, 0600), 0);
	check_run(h, path, NULL, &res);
	expect_exit(&res, 2, "privd serve --check");
	assert_non_null(strstr(res.err, "not a text file"));

	conf_write(h, "workers = 2\n", path, sizeof(path));
	check_run(h, path, NULL, &res);
	expect_exit(&res, 2, "privd serve --check");
	assert_non_null(strstr(res.err, "no data directory"));
}

/* privd serve from a file alone answers on the file's endpoint. */
static void
test_serve_from_file(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16], text[3 * H_PATH_MAX];
	const char *argv[] = {h->privd_bin, "serve", "--config", path, NULL};
	int log_fd;

	assert_non_null(h_key_new(h, "svc"));
	assert_int_equal(h_policy_write(h, h_policy_default), 0);
	assert_int_equal(h_init(h, NULL), 0);
	snprintf(text, sizeof(text),
	    "data-dir = %s\nlisten = %s\nworkers = 2\nlog-level = debug\n",
	    h->data_dir, h->endpoint);
	conf_write(h, text, path, sizeof(path));

	run_log_banner(h, argv);
	assert_true((log_fd = run_log_open(h)) >= 0);
	h->pid = run_spawn(h, argv, log_fd, log_fd);
	close(log_fd);
	assert_true(h->pid > 0);
	if (h_wait_ready(h, H_READY_TIMEOUT_MS) != 0) {
		h_dump_log(h, 20);
		fail_msg("privd serve --config did not answer");
	}
	/* log-level = debug is in force */
	assert_true(h_log_wait(h, 0, "accepted a connection for principal svc",
	                1, H_READY_TIMEOUT_MS) >= 1);
	assert_true(h_log_count(h, 0, "ready: 2 workers") == 1);
	stop_clean(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_example_config, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_every_key, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_flags_override, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_file_errors, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_serve_from_file, setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
