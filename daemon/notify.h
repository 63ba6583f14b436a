/*
 * notify.h - telling a service manager how privd serve is doing: the
 * sd_notify(3) protocol of systemd (a unit with Type=notify and, if it
 * sets WatchdogSec=, the watchdog).
 *
 * The manager gives the address of a unix datagram socket in
 * NOTIFY_SOCKET; each state is one datagram of "KEY=value" lines. privd
 * sends READY=1 once every endpoint listens (a unit ordered after it can
 * connect), STOPPING=1 when a signal starts the shutdown, and WATCHDOG=1
 * every half of WATCHDOG_USEC from the frontend's loop, so a frontend that
 * hangs stops the pings and the manager restarts privd. Without
 * NOTIFY_SOCKET (privd run by hand, or by a manager that does not listen)
 * every call is a no-op.
 *
 * With libsystemd found at build time (HAVE_LIBSYSTEMD) the datagrams are
 * sent by its sd_notify(); otherwise by a small sender of the same
 * datagram here, so privd does not need libsystemd to run under systemd.
 *
 * Called from one thread only (privd serve's frontend, the main thread).
 */
#ifndef PRIVD_NOTIFY_H
#define PRIVD_NOTIFY_H

/*
 * Read the environment (NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID) once,
 * before the first of the calls below. Safe to call when none is set.
 */
void notify_init(void);

/* Send READY=1 / STOPPING=1. 0 when sent or when there is no manager to
 * tell, -1 when the datagram could not be sent (the caller logs it). */
int notify_ready(void);
int notify_stopping(void);

/*
 * The watchdog: sends WATCHDOG=1 if one is due (half of WATCHDOG_USEC has
 * passed since the last, or none was sent yet) and returns the number of
 * milliseconds until the next is due, for the timeout of the caller's
 * poll; -1 (wait forever) when the manager asked for no watchdog. Call it
 * on every round of the loop whose liveness it stands for.
 */
long notify_watchdog(void);

/* The interval between WATCHDOG=1 in microseconds, 0 without a watchdog. */
unsigned long long notify_watchdog_interval_us(void);

#endif
