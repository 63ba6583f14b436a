/*
 * log.h - privd's log: one line per event on stderr, with a level.
 *
 * Never pass a value, a subject id or a key to these functions: log lines
 * name registers, fields, principals and counts, nothing personal.
 */
#ifndef PRIVD_LOG_H
#define PRIVD_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are not printed (default LOG_INFO). */
void log_set_level(int level);

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
