/*
 * notify.c - the sd_notify protocol (notify.h): through libsystemd when
 * privd was built with it, else through the sender below, which does what
 * sd_notify(3) documents for a unix socket: one datagram to the path (or,
 * with a leading '@', the abstract name) in NOTIFY_SOCKET.
 *
 * PRIVD_NOTIFY_BUILTIN forces the built-in sender even when libsystemd is
 * there, so that a test can exercise it in every build.
 */
#include "notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#if defined(HAVE_LIBSYSTEMD) && !defined(PRIVD_NOTIFY_BUILTIN)
#define NOTIFY_LIBSYSTEMD 1
#include <systemd/sd-daemon.h>
#endif

static int active;                    /* a manager listens (NOTIFY_SOCKET) */
static unsigned long long wd_us;      /* watchdog interval (half the timeout) */
static unsigned long long wd_next_ms; /* next WATCHDOG=1 due (monotonic) */
static int wd_failed;                 /* a WATCHDOG=1 failed (logged once) */

static unsigned long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000 +
	       (unsigned long long)ts.tv_nsec / 1000000;
}

#ifdef NOTIFY_LIBSYSTEMD

static unsigned long long
watchdog_usec(void)
{
	uint64_t usec = 0;

	return sd_watchdog_enabled(0, &usec) > 0 ? usec : 0;
}

static int
send_state(const char *state)
{
	int rc = sd_notify(0, state);

	if (rc < 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}

#else

/* The decimal number in env var name (all of it), or 0. */
static unsigned long long
env_number(const char *name)
{
	const char *s = getenv(name);
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? 0 : v;
}

/*
 * WATCHDOG_USEC, when the watchdog is meant for this process: a manager
 * that starts privd through a wrapper sets WATCHDOG_PID to the process it
 * watches, as sd_watchdog_enabled(3) checks.
 */
static unsigned long long
watchdog_usec(void)
{
	unsigned long long pid;

	if (getenv("WATCHDOG_PID") != NULL &&
	    ((pid = env_number("WATCHDOG_PID")) == 0 ||
	        pid != (unsigned long long)getpid()))
		return 0;
	return env_number("WATCHDOG_USEC");
}

/*
 * One datagram to NOTIFY_SOCKET, on a socket of its own: a state is sent a
 * few times in privd's life and a WATCHDOG=1 every few seconds, so there
 * is nothing to gain from keeping one open (and nothing to close in the
 * threads). Only unix sockets: the vsock addresses of newer systemd are
 * for virtual machines, not for privd's units.
 */
static int
send_state(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t salen;
	size_t len;
	ssize_t n;
	int fd, saved;

	if (path == NULL || (path[0] != '/' && path[0] != '@')) {
		errno = EAFNOSUPPORT;
		return -1;
	}
	len = strlen(path);
	if (len >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* the abstract namespace */
	/* an abstract name is exactly len bytes; a path ends at its NUL */
	salen = offsetof(struct sockaddr_un, sun_path) + len +
	        (path[0] == '/' ? 1 : 0);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	n = sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, salen);
	saved = errno;
	close(fd);
	errno = saved;
	return n == (ssize_t)strlen(state) ? 0 : -1;
}

#endif

void
notify_init(void)
{
	const char *s = getenv("NOTIFY_SOCKET");

	active = s != NULL && *s != '\0';
	wd_us = active ? watchdog_usec() / 2 : 0;
	wd_next_ms = 0;
	wd_failed = 0;
}

static int
notify_state(const char *state, const char *what)
{
	if (!active)
		return 0;
	if (send_state(state) != 0) {
		log_warn("cannot tell the service manager that privd is %s: "
		         "%s",
		    what, strerror(errno));
		return -1;
	}
	return 0;
}

int
notify_ready(void)
{
	return notify_state("READY=1", "ready");
}

int
notify_stopping(void)
{
	return notify_state("STOPPING=1", "stopping");
}

unsigned long long
notify_watchdog_interval_us(void)
{
	return wd_us;
}

long
notify_watchdog(void)
{
	unsigned long long now, interval_ms;

	if (wd_us == 0)
		return -1;
	/* at least 1 ms: a WATCHDOG_USEC under 2 ms would otherwise spin */
	interval_ms = wd_us / 1000 > 0 ? wd_us / 1000 : 1;
	now = mono_ms();
	if (now >= wd_next_ms) {
		if (send_state("WATCHDOG=1") != 0 && !wd_failed) {
			/* once: the manager will say so too, by restarting
			 * privd; a line a round would flood the log */
			log_warn("cannot send WATCHDOG=1 to the service "
			         "manager: %s",
			    strerror(errno));
			wd_failed = 1;
		}
		wd_next_ms = now + interval_ms;
	}
	return (long)(wd_next_ms - now);
}
