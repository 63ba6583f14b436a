/*
 * test_systemd_notify.c - privd serve under a service manager that speaks
 * the sd_notify protocol (Type=notify, WatchdogSec=): the test plays the
 * manager, a unix datagram socket whose address privd gets in
 * NOTIFY_SOCKET, and reads what privd sends, with the sender's pid as the
 * kernel gives it (SO_PASSCRED), as systemd does for NotifyAccess=main.
 *
 * - READY=1 once privd listens (its ipc socket exists when READY=1
 *   arrives), then WATCHDOG=1 again and again with WATCHDOG_USEC set, and
 *   STOPPING=1 at SIGTERM; privd exits 0;
 * - no WATCHDOG=1 when the manager asks for none, or asks it of another
 *   process (WATCHDOG_PID);
 * - an abstract socket name ("@name");
 * - a NOTIFY_SOCKET nobody listens on: privd serves anyway and says so.
 *
 * The privd under test sends with libsystemd's sd_notify when it was built
 * with libsystemd, else with its own sender (daemon/notify.c); the unit
 * test notify exercises the latter in every build.
 */
#define _GNU_SOURCE /* struct ucred, SCM_CREDENTIALS */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "run.h"

#define MSG_TIMEOUT_MS 10000 /* a datagram privd owes the manager */
#define MSG_MAX        256

/* The manager's end: its socket, and what privd sent to it. */
typedef struct manager {
	int fd;
	char addr[H_PATH_MAX + 16]; /* as in NOTIFY_SOCKET */
} manager;

typedef struct fixture {
	harness *h;
	manager m;
	pid_t privd; /* the last privd serve started (h->pid, kept after it
	                exits) */
} fixture;

/*
 * Bind the manager's socket (a path in h's directory, or an abstract name
 * when abstract) with SO_PASSCRED, and put its address in NOTIFY_SOCKET
 * for the privd started next.
 */
static void
manager_open(fixture *f, int abstract)
{
	struct sockaddr_un sa;
	socklen_t salen;
	int one = 1;
	size_t len;

	f->m.fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(f->m.fd >= 0);
	assert_int_equal(
	    setsockopt(f->m.fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
	if (abstract)
		snprintf(f->m.addr, sizeof(f->m.addr), "@privd-test-notify-%d",
		    (int)getpid());
	else
		snprintf(f->m.addr, sizeof(f->m.addr), "%s/notify", f->h->root);
	len = strlen(f->m.addr);
	assert_true(len < sizeof(sa.sun_path));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, f->m.addr, len);
	if (abstract)
		sa.sun_path[0] = '\0';
	salen = offsetof(struct sockaddr_un, sun_path) + len + !abstract;
	assert_int_equal(bind(f->m.fd, (struct sockaddr *)&sa, salen), 0);
	assert_int_equal(setenv("NOTIFY_SOCKET", f->m.addr, 1), 0);
}

/*
 * The next datagram within timeout_ms (0: only one already there) into
 * buf as a string, and the pid of its sender. 0, or -1 if none came.
 */
static int
manager_recv(manager *m, int timeout_ms, char *buf, size_t size, pid_t *pid)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct pollfd p = {.fd = m->fd, .events = POLLIN};
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	struct msghdr msg = {.msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = control.buf,
	    .msg_controllen = sizeof(control.buf)};
	struct cmsghdr *c;
	struct ucred cred;
	int64_t deadline = h_now_ms() + timeout_ms;
	ssize_t n;
	int r;

	for (;;) {
		int left = (int)(deadline - h_now_ms());

		r = poll(&p, 1, left > 0 ? left : 0);
		if (r > 0)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		return -1;
	}
	if ((n = recvmsg(m->fd, &msg, MSG_DONTWAIT)) < 0)
		return -1;
	buf[n] = '\0';
	*pid = -1;
	for (c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			*pid = cred.pid;
		}
	return 0;
}

/* The next datagram must be want, from privd itself. */
static void
expect_msg(fixture *f, const char *want)
{
	char buf[MSG_MAX];
	pid_t pid;

	if (manager_recv(&f->m, MSG_TIMEOUT_MS, buf, sizeof(buf), &pid) != 0) {
		h_dump_log(f->h, 20);
		fail_msg("no %s from privd within %d ms", want, MSG_TIMEOUT_MS);
	}
	assert_string_equal(buf, want);
	assert_int_equal(pid, f->privd);
}

/*
 * Start privd serve as h_start() does but without waiting for it to
 * answer: the test sees READY=1 come before anything else tells it
 * privd is up.
 */
static void
serve_nowait(fixture *f)
{
	harness *h = f->h;
	const char *argv[] = {h->privd_bin, "serve", "--data-dir", h->data_dir,
	    "--listen", h->endpoint, NULL};
	int log_fd;

	run_log_banner(h, argv);
	assert_true((log_fd = run_log_open(h)) >= 0);
	h->pid = run_spawn(h, argv, log_fd, log_fd);
	close(log_fd);
	assert_true(h->pid > 0);
	f->privd = h->pid;
}

/* SIGTERM privd; it must exit 0 in time. */
static void
stop_ok(harness *h)
{
	int st;

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	if (f == NULL || (f->h = h_new()) == NULL ||
	    h_key_new(f->h, "svc") == NULL ||
	    h_policy_write(f->h, h_policy_default) != 0 ||
	    h_init(f->h, NULL) != 0) {
		if (f != NULL)
			h_destroy(&f->h);
		free(f);
		return -1;
	}
	f->m.fd = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	if (f->m.fd >= 0)
		close(f->m.fd);
	*state = f->h;
	free(f);
	return h_teardown(state);
}

static void
test_ready_watchdog_stopping(void **state)
{
	fixture *f = *state;
	char buf[MSG_MAX];
	struct stat st;
	pid_t pid;
	int i, stopping = 0;

	manager_open(f, 0);
	/* 300 ms: a ping every 150 ms */
	assert_int_equal(setenv("WATCHDOG_USEC", "300000", 1), 0);
	serve_nowait(f);

	/* the first word is READY=1, and privd listens by then */
	expect_msg(f, "READY=1");
	assert_int_equal(stat(f->h->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(h_wait_ready(f->h, H_READY_TIMEOUT_MS), 0);

	/* then the watchdog, again and again */
	for (i = 0; i < 3; i++)
		expect_msg(f, "WATCHDOG=1");

	/* SIGTERM: STOPPING=1 (watchdog pings may come before and while
	 * privd drains), never READY=1 again */
	stop_ok(f->h);
	while (manager_recv(&f->m, 0, buf, sizeof(buf), &pid) == 0) {
		assert_int_equal(pid, f->privd);
		if (strcmp(buf, "STOPPING=1") == 0)
			stopping++;
		else
			assert_string_equal(buf, "WATCHDOG=1");
	}
	assert_int_equal(stopping, 1);
}

/* READY=1, requests, STOPPING=1: nothing else may come between. */
static void
expect_no_watchdog(fixture *f)
{
	privd_client *c;
	char buf[MSG_MAX];
	pid_t pid;
	int i;

	serve_nowait(f);
	expect_msg(f, "READY=1");
	assert_int_equal(h_wait_ready(f->h, H_READY_TIMEOUT_MS), 0);
	/* every request turns the frontend's loop, where the first
	 * WATCHDOG=1 would go out at once */
	c = client(f->h, "svc");
	for (i = 0; i < 20; i++)
		expect_rc(c, privd_ping(c, NULL), PRIVD_OK, "ping");
	privd_close(&c);
	stop_ok(f->h);
	expect_msg(f, "STOPPING=1");
	assert_int_equal(manager_recv(&f->m, 0, buf, sizeof(buf), &pid), -1);
}

static void
test_no_watchdog_unasked(void **state)
{
	fixture *f = *state;

	manager_open(f, 0);
	unsetenv("WATCHDOG_USEC");
	expect_no_watchdog(f);
}

static void
test_no_watchdog_for_another_pid(void **state)
{
	fixture *f = *state;

	manager_open(f, 0);
	assert_int_equal(setenv("WATCHDOG_USEC", "300000", 1), 0);
	/* the manager watches pid 1 (a wrapper, say), not privd */
	assert_int_equal(setenv("WATCHDOG_PID", "1", 1), 0);
	expect_no_watchdog(f);
}

static void
test_abstract_socket(void **state)
{
	fixture *f = *state;

	manager_open(f, 1);
	serve_nowait(f);
	expect_msg(f, "READY=1");
	stop_ok(f->h);
	expect_msg(f, "STOPPING=1");
}

static void
test_nobody_listening(void **state)
{
	fixture *f = *state;
	char path[H_PATH_MAX + 16];
	size_t from = h_log_size(f->h);

	snprintf(path, sizeof(path), "%s/nobody", f->h->root);
	assert_int_equal(setenv("NOTIFY_SOCKET", path, 1), 0);
	assert_int_equal(h_start(f->h, NULL), 0);
	assert_int_equal(h_log_count(f->h, from,
	                     "cannot tell the service manager that privd is "
	                     "ready"),
	    1);
	stop_ok(f->h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_ready_watchdog_stopping, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_watchdog_unasked, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_watchdog_for_another_pid, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_abstract_socket, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_nobody_listening, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
