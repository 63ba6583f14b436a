/*
 * log.h - privd's log: one line per event on stderr, with a level.
 *
 * Never pass a value, a subject id or a key to these functions: log lines
 * name registers, fields, principals and counts, nothing personal.
 */
#ifndef PRIVD_LOG_H
#define PRIVD_LOG_H

#include <stdarg.h>

enum { LOG_ERR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are not printed (default LOG_INFO). */
void log_set_level(int level);

void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* For start-up failures and broken invariants only; never for bad input. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define log_err(...)   log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
