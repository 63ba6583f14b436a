/*
 * run.c - the harness's children: a command run to completion with its
 * output captured (h_run, h_run_privd, h_privctl), privctl in the
 * background (h_privctl_start), and the fork+exec and waiting that h_start
 * and h_stop use too (run.h).
 *
 * DESIGN: everything here runs on the test's main thread. Children are
 * started with fork+exec; between the two the child only makes
 * async-signal-safe calls, because the test process may already have other
 * threads (ZeroMQ I/O threads of open clients). Waiting for a child uses a
 * pidfd where the kernel has one, so no wait is a fixed sleep.
 */
#define _GNU_SOURCE
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int64_t
h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
h_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Wait for child pid to end, at most timeout_ms. Returns 0 and fills
 * *wstatus once it is reaped, -1 on timeout (the child is left alone).
 */
int
run_wait(pid_t pid, int timeout_ms, int *wstatus)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	int pfd = pidfd_open(pid, 0);
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (pfd >= 0)
				close(pfd);
			if (wstatus != NULL)
				*wstatus = st;
			return 0;
		}
		if (r == -1 && errno != EINTR) {
			fprintf(stderr, "harness: waitpid(%d): %s\n", (int)pid,
			    strerror(errno));
			if (pfd >= 0)
				close(pfd);
			return -1;
		}
		int64_t left = deadline - h_now_ms();
		if (left <= 0)
			break;
		if (pfd >= 0) {
			struct pollfd p = {.fd = pfd, .events = POLLIN};
			poll(&p, 1, (int)left);
		} else {
			/* No pidfd on this kernel: poll waitpid. */
			h_sleep_ms(left < 5 ? (int)left : 5);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return -1;
}

void
run_kill(pid_t pid, int *wstatus)
{
	kill(pid, SIGKILL);
	if (run_wait(pid, 5000, wstatus) != 0)
		fprintf(stderr, "harness: pid %d survived SIGKILL\n", (int)pid);
}

int
run_log_open(const harness *h)
{
	int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		fprintf(
		    stderr, "harness: open %s: %s\n", h->log, strerror(errno));
	return fd;
}

/* Append one line naming the command, so the log shows which run said
 * what. */
void
run_log_banner(const harness *h, const char *const *argv)
{
	int fd = run_log_open(h);
	char line[1024];
	size_t n = 0;

	if (fd < 0)
		return;
	n += (size_t)snprintf(line, sizeof(line), "=== harness:");
	for (size_t i = 0; argv[i] != NULL && n < sizeof(line) - 2; i++)
		n += (size_t)snprintf(
		    line + n, sizeof(line) - n, " %s", argv[i]);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(fd, line, n) < 0) {
		/* the banner is only a diagnostic */
	}
	close(fd);
}

/*
 * fork+exec argv with the given stdout and stderr (stdin from /dev/null),
 * with the test clock and file size limit of h (may be NULL). Returns the
 * child's pid or -1.
 */
pid_t
run_spawn(const harness *h, const char *const *argv, int out_fd, int err_fd)
{
	extern char **environ;
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t parent = getpid();
	pid_t pid;
	char clockvar[H_PATH_MAX + 32];
	char **envp = environ, **own = NULL;
	size_t n = 0;
	struct rlimit fsize;

	/* the environment is built before fork: the child only execs */
	if (h != NULL && h->clock_on) {
		while (environ[n] != NULL)
			n++;
		if ((own = calloc(n + 2, sizeof(*own))) == NULL) {
			if (null_fd >= 0)
				close(null_fd);
			return -1;
		}
		memcpy(own, environ, n * sizeof(*own));
		snprintf(clockvar, sizeof(clockvar), "PRIVD_TEST_CLOCK_FILE=%s",
		    h->clock_file);
		own[n] = clockvar;
		envp = own;
	}

	if (null_fd < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
		close(null_fd);
		free(own);
		return -1;
	}
	if (pid == 0) {
		struct sigaction sa;
		sigset_t none;

		/* Die with the test, so nothing outlives a crashed test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGPIPE, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
		    dup2(err_fd, 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		if (h != NULL && h->fsize_limit != 0) {
			fsize.rlim_cur = fsize.rlim_max = h->fsize_limit;
			if (setrlimit(RLIMIT_FSIZE, &fsize) != 0)
				_exit(127);
		}
		execve(argv[0], (char *const *)argv, envp);
		_exit(127);
	}
	close(null_fd);
	free(own);
	return pid;
}

int
h_run(harness *h, const char *const *argv, int timeout_ms, h_result *res)
{
	int out_p[2], err_p[2];
	size_t out_n = 0, err_n = 0;
	int64_t deadline = h_now_ms() + timeout_ms;
	int log_fd;
	pid_t pid;
	bool out_open = true, err_open = true;

	memset(res, 0, sizeof(*res));
	if (pipe2(out_p, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(err_p, O_CLOEXEC) != 0) {
		close(out_p[0]);
		close(out_p[1]);
		return -1;
	}
	run_log_banner(h, argv);
	pid = run_spawn(h, argv, out_p[1], err_p[1]);
	close(out_p[1]);
	close(err_p[1]);
	if (pid < 0) {
		close(out_p[0]);
		close(err_p[0]);
		return -1;
	}
	log_fd = run_log_open(h);
	while (out_open || err_open) {
		struct pollfd p[2] = {
		    {.fd = out_open ? out_p[0] : -1, .events = POLLIN},
		    {.fd = err_open ? err_p[0] : -1, .events = POLLIN}};
		int64_t left = deadline - h_now_ms();
		char tmp[4096];

		if (left <= 0)
			break;
		if (poll(p, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			ssize_t r = read(p[i].fd, tmp, sizeof(tmp));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (i == 0)
					out_open = false;
				else
					err_open = false;
				continue;
			}
			char *dst = i == 0 ? res->out : res->err;
			size_t *dn = i == 0 ? &out_n : &err_n;
			size_t cap = sizeof(res->out) - 1;
			size_t take = (size_t)r;
			if (take > cap - *dn)
				take = cap - *dn;
			memcpy(dst + *dn, tmp, take);
			*dn += take;
			dst[*dn] = '\0';
			if (i == 1 && log_fd >= 0 &&
			    write(log_fd, tmp, (size_t)r) < 0) {
				/* the log is only a diagnostic */
			}
		}
	}
	close(out_p[0]);
	close(err_p[0]);
	if (log_fd >= 0)
		close(log_fd);
	int64_t left = deadline - h_now_ms();
	if (run_wait(pid, left > 0 ? (int)left : 0, &res->wstatus) != 0) {
		res->timed_out = true;
		run_kill(pid, &res->wstatus);
	}
	return 0;
}

int
h_run_privd(harness *h, const char *const *args, int timeout_ms, h_result *res)
{
	const char *argv[32];
	size_t n = 0;

	argv[n++] = h->privd_bin;
	for (size_t i = 0; args[i] != NULL; i++) {
		if (n >= sizeof(argv) / sizeof(argv[0]) - 1)
			return -1;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return h_run(h, argv, timeout_ms, res);
}

int
h_key_file(harness *h, const char *keyname, char *out, size_t size)
{
	const h_key *k = h_key_get(h, keyname);
	char text[256];
	int n;

	if (k == NULL) {
		fprintf(stderr, "harness: no key %s\n", keyname);
		return -1;
	}
	n = snprintf(out, size, "%s/%s.key", h->root, keyname);
	if (n < 0 || (size_t)n >= size)
		return -1;
	n = snprintf(text, sizeof(text), "public-key = %s\nsecret-key = %s\n",
	    k->pub, k->sec);
	return h_write_file(out, text, (size_t)n, 0600);
}

/* privctl's command line as keyname (key file written to key), trusting
 * server_key (NULL: h->server_key), then args. argv has PRIVCTL_ARGV
 * entries. Returns 0 or -1. */
#define PRIVCTL_ARGV 48
static int
privctl_argv(harness *h, const char *keyname, const char *server_key,
    const char *const *args, char key[H_PATH_MAX + 16], const char **argv)
{
	size_t n = 0;

	if (h->privctl_bin == NULL || *h->privctl_bin == '\0') {
		fprintf(stderr, "harness: PRIVCTL_BIN is not set\n");
		return -1;
	}
	if (h_key_file(h, keyname, key, H_PATH_MAX + 16) != 0)
		return -1;
	argv[n++] = h->privctl_bin;
	argv[n++] = "--endpoint";
	argv[n++] = h->endpoint;
	argv[n++] = "--key";
	argv[n++] = key;
	argv[n++] = "--server-key";
	argv[n++] = server_key != NULL ? server_key : h->server_key;
	for (size_t i = 0; args[i] != NULL; i++) {
		if (n >= PRIVCTL_ARGV - 1)
			return -1;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return 0;
}

int
h_privctl(harness *h, const char *keyname, const char *server_key,
    const char *const *args, int timeout_ms, h_result *res)
{
	char key[H_PATH_MAX + 16];
	const char *argv[PRIVCTL_ARGV];

	if (privctl_argv(h, keyname, server_key, args, key, argv) != 0)
		return -1;
	return h_run(h, argv, timeout_ms, res);
}

pid_t
h_privctl_start(
    harness *h, const char *keyname, const char *const *args, int *out_fd)
{
	char key[H_PATH_MAX + 16];
	const char *argv[PRIVCTL_ARGV];
	int p[2], log_fd;

	*out_fd = -1;
	if (h->bg_pid > 0) {
		fprintf(stderr, "harness: a background privctl runs already\n");
		return -1;
	}
	if (privctl_argv(h, keyname, NULL, args, key, argv) != 0 ||
	    pipe2(p, O_CLOEXEC) != 0)
		return -1;
	run_log_banner(h, argv);
	if ((log_fd = run_log_open(h)) < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	h->bg_pid = run_spawn(h, argv, p[1], log_fd);
	close(log_fd);
	close(p[1]);
	if (h->bg_pid < 0) {
		close(p[0]);
		return -1;
	}
	*out_fd = p[0];
	return h->bg_pid;
}

int
h_privctl_wait(harness *h, int timeout_ms, int *wstatus)
{
	if (h->bg_pid <= 0 || run_wait(h->bg_pid, timeout_ms, wstatus) != 0)
		return -1;
	h->bg_pid = -1;
	return 0;
}
