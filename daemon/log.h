/*
 * log.h - privd's log: one line per event on stderr, with a level.
 *
 * Never pass a value, a subject id or a key to these functions: log lines
 * name registers, fields, principals and counts, nothing personal.
 *
 * A line looks like one of:
 *   2025-01-31T12:00:00.000Z privd[42] info: message   (LOG_STYLE_DAEMON)
 *   privd: message, privd: warning: message            (LOG_STYLE_PLAIN)
 *   <6>message                                         (the journal)
 * The last whenever stderr is the systemd journal (JOURNAL_STREAM names
 * stderr's device and inode, as systemd sets it for StandardError=journal):
 * the journal takes the priority from the <N> prefix (syslog's numbers:
 * 3 error, 4 warning, 6 info, 7 debug) and adds its own time and pid, so
 * privd adds neither. Otherwise the style set with log_set_style: privd
 * serve logs as a daemon, privd's other commands (init, restore, ...) as a
 * command line tool.
 */
#ifndef PRIVD_LOG_H
#define PRIVD_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are not printed (default LOG_INFO). */
void log_set_level(int level);

enum { LOG_STYLE_DAEMON = 0, LOG_STYLE_PLAIN };

/* How lines look when stderr is not the journal (default: daemon). */
void log_set_style(int style);

/* Is stderr the journal (JOURNAL_STREAM matches it)? Looked at once. */
int log_to_journal(void);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* For start-up failures and broken invariants only; never for bad input. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

/*
 * A line that a client can cause (a refused key, a failed handshake, ...)
 * goes through a limiter, one per cause: at most one such line a second,
 * the next one saying how many were left out. Anyone can reach privd's
 * endpoints with the public server key, so without a limit anyone could
 * fill the disk with privd's log. A limiter is zero-initialised (static).
 */
typedef struct log_limit {
	uint64_t window_ms;     /* start of the current second (monotonic) */
	unsigned dropped;       /* lines left out since the last one written */
	int level;              /* of the last line */
	char last[120];         /* the last line written, for log_limit_flush */
	struct log_limit *next; /* every limiter used so far */
	int listed;
} log_limit;

void log_limited(log_limit *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Say how many lines each limiter left out in a second that has ended
 * without another line to say it: a flood that stops still shows its size.
 * Called now and then (the writer's housekeeping). */
void log_limit_flush(void);

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
