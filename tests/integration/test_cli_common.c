/*
 * test_cli_common.c - privctl run as a shell runs it (test_cli_common.h):
 * stdin from a file, an environment of the test's own, stderr on a
 * pseudo-terminal if asked, every output read until the child is done
 * or the deadline passes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "run.h"
#include "test_cli_common.h"

#define CLI_TIMEOUT_MS 30000
#define CLI_ARGV       64
#define CLI_ENV        256

const char cli_policy[] = H_POL_CONTROLLER
    " \"registers\": {\"customers\": {\n"
    "   \"transfer\": {\"allowed_regions\": [\"EEA\"]},\n"
    "   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"},\n"
    "                \"marketing\": {\"legal_basis\": "
    "\"legitimate_interest\", \"objectable\": true}},\n"
    "   \"fields\": {\n"
    "     \"name\": {\"category\": \"identity\", \"type\": \"string\", "
    "\"identifying\": true},\n"
    "     \"email\": {\"category\": \"contact\", \"type\": \"email\", "
    "\"identifying\": true, \"lookup\": true},\n"
    "     \"notes\": {\"category\": \"feedback\", \"type\": \"text\"},\n"
    "     \"blob\": {\"category\": \"other\", \"type\": "
    "\"bytes\"}}}},\n" H_POL_PRINCIPALS H_POL_SVC_RWD ",\n"
    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "
    "[\"policy_admin\"]},\n"
    "  \"dpo\": {\"key\": \"@KEY:dpo@\", \"roles\": "
    "[\"subject_rights\"]},\n" H_POL_AUDITOR H_POL_END;

int
cli_setup(void **state)
{
	static const char *const keys[] = {"svc", "admin", "auditor", "dpo"};

	return h_setup(state, keys, 4, cli_policy, NULL);
}

const char *
cli_server_pub(harness *h)
{
	static char path[H_PATH_MAX + 16];
	char text[64];
	int n;

	snprintf(path, sizeof(path), "%s/server.pub", h->root);
	n = snprintf(text, sizeof(text), "%s\n", h->server_key);
	assert_int_equal(h_write_file(path, text, (size_t)n, 0644), 0);
	return path;
}

const char *
cli_key_file(harness *h, const char *name)
{
	static char path[4][H_PATH_MAX + 16];
	static int next;
	char *p = path[next++ % 4];

	assert_int_equal(h_key_file(h, name, p, H_PATH_MAX + 16), 0);
	return p;
}

/* Does env entry e ("NAME=VALUE") set the variable that spec ("NAME" or
 * "NAME=...") names? */
static bool
same_var(const char *e, const char *spec)
{
	size_t n = strcspn(spec, "=");

	return strncmp(e, spec, n) == 0 && e[n] == '=';
}

/*
 * The child's environment: ours without PRIVD_* and PRIVCTL_* (a
 * developer's settings must not leak in), HOME the test's own and no
 * XDG_CONFIG_HOME, then c->env applied. Strings live in envbuf's
 * storage or in the caller's.
 */
static void
child_env(harness *h, const cli_cmd *c, const char **env, char *home)
{
	extern char **environ;
	size_t n = 0, i, j;

	for (i = 0; environ[i] != NULL && n < CLI_ENV - 2; i++)
		if (strncmp(environ[i], "PRIVD_", 6) != 0 &&
		    strncmp(environ[i], "PRIVCTL_", 8) != 0 &&
		    strncmp(environ[i], "HOME=", 5) != 0 &&
		    strncmp(environ[i], "XDG_CONFIG_HOME=", 16) != 0)
			env[n++] = environ[i];
	snprintf(home, H_PATH_MAX + 16, "HOME=%s/home", h->root);
	mkdir(home + 5, 0700);
	env[n++] = home;
	for (i = 0; c->env != NULL && c->env[i] != NULL; i++) {
		for (j = 0; j < n; j++)
			if (same_var(env[j], c->env[i])) {
				env[j] = env[--n];
				break;
			}
		if (strchr(c->env[i], '=') != NULL && n < CLI_ENV - 1)
			env[n++] = c->env[i];
	}
	env[n] = NULL;
}

/* Append what fd has now to buf (size, *n used); false at its end. */
static bool
drain(int fd, char *buf, size_t size, size_t *n)
{
	char tmp[4096];
	ssize_t r = read(fd, tmp, sizeof(tmp));
	size_t take;

	if (r < 0 && errno == EINTR)
		return true;
	if (r <= 0) /* a pty's master reads EIO once the child is gone */
		return false;
	take = (size_t)r < size - 1 - *n ? (size_t)r : size - 1 - *n;
	memcpy(buf + *n, tmp, take);
	*n += take;
	buf[*n] = '\0';
	return true;
}

void
cli_run(harness *h, const cli_cmd *c, cli_result *r)
{
	const char *argv[CLI_ARGV], *env[CLI_ENV];
	char home[H_PATH_MAX + 16], in_path[H_PATH_MAX + 16];
	int out_p[2], err_p[2], in_fd, status, master = -1, slave = -1;
	size_t n = 0, i, on = 0, en = 0;
	int64_t deadline = h_now_ms() + CLI_TIMEOUT_MS;
	bool out_open = true, err_open = true;
	pid_t pid, parent = getpid();

	memset(r, 0, sizeof(*r));
	r->code = -1;
	argv[n++] = h->privctl_bin;
	if (c->key != NULL) {
		argv[n++] = "--endpoint";
		argv[n++] = h->endpoint;
		argv[n++] = "--key";
		argv[n++] = cli_key_file(h, c->key);
		argv[n++] = "--server-key";
		argv[n++] = h->server_key;
	}
	for (i = 0; c->args[i] != NULL && n < CLI_ARGV - 1; i++)
		argv[n++] = c->args[i];
	argv[n] = NULL;
	child_env(h, c, env, home);
	/* stdin from a file: no writer to keep going */
	snprintf(in_path, sizeof(in_path), "%s/stdin", h->root);
	assert_int_equal(h_write_file(in_path, c->in ? c->in : "",
	                     c->in ? c->inlen : 0, 0600),
	    0);
	assert_true((in_fd = open(in_path, O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(pipe2(out_p, O_CLOEXEC), 0);
	if (c->tty) {
		assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
		err_p[0] = master;
		err_p[1] = slave;
	} else
		assert_int_equal(pipe2(err_p, O_CLOEXEC), 0);
	run_log_banner(h, argv);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		if (dup2(in_fd, 0) < 0 || dup2(out_p[1], 1) < 0 ||
		    dup2(err_p[1], 2) < 0)
			_exit(127);
		execve(argv[0], (char *const *)argv, (char *const *)env);
		_exit(127);
	}
	close(in_fd);
	close(out_p[1]);
	close(err_p[1]);
	while (out_open || err_open) {
		struct pollfd p[2] = {
		    {.fd = out_open ? out_p[0] : -1, .events = POLLIN},
		    {.fd = err_open ? err_p[0] : -1, .events = POLLIN}};
		int64_t left = deadline - h_now_ms();

		if (left <= 0)
			break;
		if (poll(p, 2, (int)left) < 0 && errno != EINTR)
			break;
		if (p[0].revents != 0)
			out_open = drain(out_p[0], r->out, sizeof(r->out), &on);
		if (p[1].revents != 0)
			err_open = drain(err_p[0], r->err, sizeof(r->err), &en);
	}
	close(out_p[0]);
	close(err_p[0]);
	if (run_wait(pid,
	        (int)(deadline > h_now_ms() ? deadline - h_now_ms() : 0),
	        &status) != 0) {
		r->timed_out = true;
		run_kill(pid, &status);
		return;
	}
	if (WIFEXITED(status))
		r->code = WEXITSTATUS(status);
}

void
cli_expect(harness *h, const char *key, const char *const *args, cli_result *r,
    int code, const char *what)
{
	cli_cmd c = {.key = key, .args = args};

	cli_run(h, &c, r);
	if (r->code != code)
		fail_msg("%s: exit %d, not %d\nstdout: %s\nstderr: %s", what,
		    r->code, code, r->out, r->err);
}
