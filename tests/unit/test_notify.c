/*
 * test_notify.c - daemon/notify.c against a socket playing systemd's
 * notify socket: the datagrams READY=1, STOPPING=1 and WATCHDOG=1 to a
 * path and to an abstract name, the watchdog's interval (half of
 * WATCHDOG_USEC, only for the process WATCHDOG_PID names), and no-ops and
 * errors without a manager.
 *
 * Built twice: notify_builtin compiles notify.c with PRIVD_NOTIFY_BUILTIN
 * (privd's own sender, what a privd built without libsystemd uses), and,
 * where libsystemd is found, notify_libsystemd with sd_notify (what privd
 * uses then). The integration test systemd_notify runs privd serve itself.
 */
#define _GNU_SOURCE
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
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "notify.h"

#define WAIT_MS 5000

typedef struct manager {
	int fd;
	char addr[108];
	char dir[64];
} manager;

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A datagram socket at a path in a new directory, or an abstract name;
 * NOTIFY_SOCKET names it. */
static void
manager_open(manager *m, int abstract)
{
	struct sockaddr_un sa;
	size_t len;

	memset(m, 0, sizeof(*m));
	m->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(m->fd >= 0);
	if (abstract) {
		snprintf(m->addr, sizeof(m->addr), "@privd-test-notify-unit-%d",
		    (int)getpid());
	} else {
		snprintf(m->dir, sizeof(m->dir), "/tmp/privd-notify-XXXXXX");
		assert_non_null(mkdtemp(m->dir));
		snprintf(m->addr, sizeof(m->addr), "%s/notify", m->dir);
	}
	len = strlen(m->addr);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, m->addr, len);
	if (abstract)
		sa.sun_path[0] = '\0';
	assert_int_equal(
	    bind(m->fd, (struct sockaddr *)&sa,
	        offsetof(struct sockaddr_un, sun_path) + len + !abstract),
	    0);
	assert_int_equal(setenv("NOTIFY_SOCKET", m->addr, 1), 0);
}

static void
manager_close(manager *m)
{
	close(m->fd);
	if (m->dir[0] != '\0') {
		unlink(m->addr);
		rmdir(m->dir);
	}
}

/* The next datagram (waiting up to timeout_ms) as a string; -1 if none. */
static int
manager_recv(manager *m, int timeout_ms, char *buf, size_t size)
{
	struct pollfd p = {.fd = m->fd, .events = POLLIN};
	ssize_t n;

	if (poll(&p, 1, timeout_ms) != 1)
		return -1;
	if ((n = recv(m->fd, buf, size - 1, MSG_DONTWAIT)) < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static void
expect_msg(manager *m, const char *want)
{
	char buf[64];

	assert_int_equal(manager_recv(m, WAIT_MS, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void
expect_none(manager *m)
{
	char buf[64];

	assert_int_equal(manager_recv(m, 0, buf, sizeof(buf)), -1);
}

static int
clear_env(void **state)
{
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	return 0;
}

static void
test_no_manager(void **state)
{
	notify_init();
	assert_int_equal(notify_ready(), 0);
	assert_int_equal(notify_stopping(), 0);
	assert_int_equal(notify_watchdog(), -1);
	assert_int_equal(notify_watchdog_interval_us(), 0);
}

static void
states(int abstract)
{
	manager m;

	manager_open(&m, abstract);
	notify_init();
	assert_int_equal(notify_ready(), 0);
	expect_msg(&m, "READY=1");
	assert_int_equal(notify_stopping(), 0);
	expect_msg(&m, "STOPPING=1");
	/* no watchdog asked for: nothing sent */
	assert_int_equal(notify_watchdog(), -1);
	expect_none(&m);
	manager_close(&m);
}

static void
test_states_path(void **state)
{
	states(0);
}

static void
test_states_abstract(void **state)
{
	states(1);
}

/*
 * WATCHDOG_USEC 2 s: WATCHDOG=1 at once, then not again for a second (the
 * call returns how long to wait); WATCHDOG_USEC 2 ms: again within 1 ms,
 * seen by polling with a deadline.
 */
static void
test_watchdog(void **state)
{
	char buf[64];
	manager m;
	long wait;
	int64_t deadline;
	int got = 0;

	manager_open(&m, 0);
	setenv("WATCHDOG_USEC", "2000000", 1);
	notify_init();
	assert_int_equal(notify_watchdog_interval_us(), 1000000);
	wait = notify_watchdog();
	assert_true(wait > 0 && wait <= 1000);
	expect_msg(&m, "WATCHDOG=1");
	wait = notify_watchdog();
	assert_true(wait > 0 && wait <= 1000);
	expect_none(&m);

	setenv("WATCHDOG_USEC", "2000", 1);
	notify_init();
	deadline = now_ms() + WAIT_MS;
	while (got < 2 && now_ms() < deadline) {
		wait = notify_watchdog();
		assert_true(wait >= 0 && wait <= 1);
		if (manager_recv(&m, (int)wait, buf, sizeof(buf)) == 0) {
			assert_string_equal(buf, "WATCHDOG=1");
			got++;
		}
	}
	assert_int_equal(got, 2);
	manager_close(&m);
}

/* WATCHDOG_PID: the watchdog is for this process only if it names it. */
static void
test_watchdog_pid(void **state)
{
	char pid[32];
	manager m;

	manager_open(&m, 0);
	setenv("WATCHDOG_USEC", "2000000", 1);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	notify_init();
	assert_int_equal(notify_watchdog_interval_us(), 1000000);
	assert_true(notify_watchdog() > 0);
	expect_msg(&m, "WATCHDOG=1");

	snprintf(pid, sizeof(pid), "%d", (int)getpid() + 1);
	setenv("WATCHDOG_PID", pid, 1);
	notify_init();
	assert_int_equal(notify_watchdog_interval_us(), 0);
	assert_int_equal(notify_watchdog(), -1);
	expect_none(&m);
	manager_close(&m);
}

/* A WATCHDOG_USEC that is not a number asks for no watchdog. */
static void
test_watchdog_bad_usec(void **state)
{
	manager m;

	manager_open(&m, 0);
	setenv("WATCHDOG_USEC", "12x", 1);
	notify_init();
	assert_int_equal(notify_watchdog(), -1);
	expect_none(&m);
	manager_close(&m);
}

/* A socket nobody listens on: the calls say so (and privd goes on). */
static void
test_nobody_listening(void **state)
{
	setenv("NOTIFY_SOCKET", "/nonexistent/privd-notify", 1);
	notify_init();
	assert_int_equal(notify_ready(), -1);
	assert_int_equal(notify_stopping(), -1);
	setenv("NOTIFY_SOCKET", "@privd-test-notify-nobody", 1);
	notify_init();
	assert_int_equal(notify_ready(), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_no_manager, clear_env),
	    cmocka_unit_test_teardown(test_states_path, clear_env),
	    cmocka_unit_test_teardown(test_states_abstract, clear_env),
	    cmocka_unit_test_teardown(test_watchdog, clear_env),
	    cmocka_unit_test_teardown(test_watchdog_pid, clear_env),
	    cmocka_unit_test_teardown(test_watchdog_bad_usec, clear_env),
	    cmocka_unit_test_teardown(test_nobody_listening, clear_env),
	};

	clear_env(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
