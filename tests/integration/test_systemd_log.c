/*
 * test_systemd_log.c - privd's log lines when stderr is the systemd
 * journal (JOURNAL_STREAM names stderr's device and inode, as systemd
 * sets it for StandardError=journal) and when it is not:
 *
 * - privd serve under the journal: every line is "<N>message", N the
 *   syslog priority of its level (3 error, 4 warning, 6 info, 7 debug),
 *   with no time, pid or level word of privd's own;
 * - start-up errors of privd serve and of privd init under the journal:
 *   "<3>message" too;
 * - JOURNAL_STREAM naming another file (inherited by a privd whose
 *   stderr was sent elsewhere): today's formats, "TIME privd[PID] LEVEL:
 *   message" for privd serve, start-up errors included, and "privd:
 *   message" for the other commands.
 *
 * The test plays the journal with a file: the test sets JOURNAL_STREAM to
 * the file's device and inode and privd's stderr to the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "run.h"

#define BANNER "=== harness:" /* the harness's lines in the log */

/* Make path the journal for the privd started next (it need not exist). */
static void
journal_set(const char *path)
{
	struct stat st;
	char v[64];
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	close(fd);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

/*
 * Run privd with args (NULL-terminated) to its end, stdout and stderr to
 * the file path (appended); its exit status.
 */
static int
run_privd_into(harness *h, const char *path, const char *const *args)
{
	const char *argv[16];
	size_t n = 0;
	int fd, st;
	pid_t pid;

	argv[n++] = h->privd_bin;
	while (*args != NULL && n < sizeof(argv) / sizeof(argv[0]) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	pid = run_spawn(h, argv, fd, fd);
	close(fd);
	assert_true(pid > 0);
	assert_int_equal(run_wait(pid, H_RUN_TIMEOUT_MS, &st), 0);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

/* The file's text from byte from on (malloc'd, NUL-terminated). */
static char *
read_from(const char *path, size_t from)
{
	uint8_t *buf;
	size_t len;
	char *s;

	assert_int_equal(h_read_file(path, &buf, &len), 0);
	assert_true(from <= len);
	s = malloc(len - from + 1);
	assert_non_null(s);
	memcpy(s, buf + from, len - from);
	s[len - from] = '\0';
	free(buf);
	return s;
}

/*
 * Every line of text (but the harness's) matches the extended regular
 * expression re; the number of lines checked.
 */
static int
all_lines_match(const char *text, const char *re)
{
	regex_t rx;
	char *copy = strdup(text), *line, *save = NULL;
	int n = 0;

	assert_non_null(copy);
	assert_int_equal(regcomp(&rx, re, REG_EXTENDED | REG_NOSUB), 0);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, BANNER, strlen(BANNER)) == 0)
			continue;
		if (regexec(&rx, line, 0, NULL, 0) != 0)
			fail_msg("a line not like %s: %s", re, line);
		n++;
	}
	regfree(&rx);
	free(copy);
	return n;
}

/* text has a line that is exactly want. */
static void
has_line(const char *text, const char *want)
{
	size_t n = strlen(want);
	const char *p;

	for (p = text; (p = strstr(p, want)) != NULL; p += n)
		if ((p == text || p[-1] == '\n') &&
		    (p[n] == '\n' || p[n] == '\0'))
			return;
	fail_msg("no line \"%s\" in:\n%s", want, text);
}

/* A line of privd serve under the journal: a priority, then the message,
 * which does not start with a time. */
#define JOURNAL_LINE "^<[3467]>[^<0-9 ]"
/* privd serve's lines elsewhere */
#define DAEMON_LINE                                                            \
	"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z privd\\[[0-9]+\\] "             \
	"(error|warn|info|debug): "

static int
setup(void **state)
{
	harness *h = h_new();

	if (h == NULL || h_key_new(h, "svc") == NULL ||
	    h_policy_write(h, h_policy_default) != 0 || h_init(h, NULL) != 0) {
		h_destroy(&h);
		return -1;
	}
	*state = h;
	return 0;
}

static int
teardown(void **state)
{
	unsetenv("JOURNAL_STREAM");
	unsetenv("NOTIFY_SOCKET");
	return h_teardown(state);
}

static void
test_journal_serve(void **state)
{
	const char *const extra[] = {"--log-level", "debug", NULL};
	harness *h = *state;
	char nobody[H_PATH_MAX + 16];
	size_t from = h_log_size(h);
	privd_client *c;
	char *text;

	journal_set(h->log);
	/* a warning: nobody listens on this notify socket */
	snprintf(nobody, sizeof(nobody), "%s/nobody", h->root);
	assert_int_equal(setenv("NOTIFY_SOCKET", nobody, 1), 0);
	assert_int_equal(h_start(h, extra), 0);
	c = client(h, "svc");
	expect_rc(c, privd_ping(c, NULL), PRIVD_OK, "ping");
	privd_close(&c);
	stop_clean(h);

	text = read_from(h->log, from);
	assert_true(all_lines_match(text, JOURNAL_LINE) >= 4);
	has_line(text, "<6>policy version 1 in force");
	has_line(text,
	    "<4>cannot tell the service manager that privd is ready: No "
	    "such file or directory");
	has_line(text, "<7>accepted a connection for principal svc");
	has_line(text, "<6>stopped");
	free(text);
}

static void
test_journal_startup_errors(void **state)
{
	harness *h = *state;
	char journal[H_PATH_MAX + 16], missing[H_PATH_MAX + 16];
	const char *serve_missing[] = {"serve", "--data-dir", missing, NULL};
	const char *serve_bad[] = {
	    "serve", "--data-dir", h->data_dir, "--workers", "0", NULL};
	const char *init_bad[] = {
	    "init", "--data-dir", missing, "--policy", missing, NULL};
	char *text;

	snprintf(journal, sizeof(journal), "%s/journal", h->root);
	snprintf(missing, sizeof(missing), "%s/missing", h->root);
	journal_set(journal);
	assert_int_equal(run_privd_into(h, journal, serve_missing), 1);
	assert_int_equal(run_privd_into(h, journal, serve_bad), 2);
	assert_int_equal(run_privd_into(h, journal, init_bad), 1);
	text = read_from(journal, 0);
	assert_int_equal(all_lines_match(text, "^<3>[^<0-9 ]"), 3);
	has_line(text, "<3>--workers must be an integer in 1..256 (worker "
	               "threads (default: cores))");
	free(text);
}

static void
test_not_journal(void **state)
{
	harness *h = *state;
	char out[H_PATH_MAX + 16], missing[H_PATH_MAX + 16];
	const char *serve_missing[] = {"serve", "--data-dir", missing, NULL};
	const char *init_bad[] = {
	    "init", "--data-dir", missing, "--policy", missing, NULL};
	size_t from = h_log_size(h);
	char *text;

	/* the journal is some other file: privd's stderr is not it */
	snprintf(out, sizeof(out), "%s/out", h->root);
	snprintf(missing, sizeof(missing), "%s/missing", h->root);
	journal_set(h->policy);
	assert_int_equal(h_start(h, NULL), 0);
	stop_clean(h);
	text = read_from(h->log, from);
	assert_true(all_lines_match(text, DAEMON_LINE) >= 3);
	free(text);

	assert_int_equal(run_privd_into(h, out, serve_missing), 1);
	text = read_from(out, 0);
	assert_int_equal(all_lines_match(text, DAEMON_LINE "[^<0-9 ]"), 1);
	free(text);
	assert_int_equal(run_privd_into(h, out, init_bad), 1);
	text = read_from(out, 0);
	assert_non_null(strstr(text, "\nprivd: cannot open "));
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_journal_serve, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_journal_startup_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_journal, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
