/*
 * log.c - stderr logging. Any thread may log; each line is written with one
 * write(2) so lines of different threads do not interleave.
 */
#include "log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int log_level = LOG_INFO;
static int log_style = LOG_STYLE_DAEMON;
static pthread_once_t journal_once = PTHREAD_ONCE_INIT;
static int journal; /* stderr is the journal (journal_once) */
/* syslog's priorities of LOG_ERR..LOG_DEBUG, for the journal */
static const int journal_prio[] = {3, 4, 6, 7};
static pthread_mutex_t limit_mu = PTHREAD_MUTEX_INITIALIZER;
static log_limit *limiters; /* under limit_mu */
static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
log_set_level(int level)
{
	log_level = level;
}

void
log_set_style(int style)
{
	log_style = style;
}

/*
 * JOURNAL_STREAM is "DEV:INO" of the stream systemd connected to the
 * journal. It is inherited by whatever privd's parent runs, so it counts
 * only while stderr is that very stream: `privd ... 2>file` under a unit
 * writes plain lines to the file.
 */
static void
journal_detect(void)
{
	const char *s = getenv("JOURNAL_STREAM");
	uintmax_t dev, ino;
	struct stat st;
	int n = 0;

	if (s == NULL ||
	    sscanf(s, "%" SCNuMAX ":%" SCNuMAX "%n", &dev, &ino, &n) != 2 ||
	    s[n] != '\0' || fstat(STDERR_FILENO, &st) != 0)
		return;
	journal = (uintmax_t)st.st_dev == dev && (uintmax_t)st.st_ino == ino;
}

int
log_to_journal(void)
{
	pthread_once(&journal_once, journal_detect);
	return journal;
}

/* The start of a line of level: the time, pid and level, or the journal's
 * priority, or privd's name. */
static int
log_prefix(char *line, size_t size, int level)
{
	struct timespec ts;
	struct tm tm;

	if (log_to_journal())
		return snprintf(line, size, "<%d>", journal_prio[level]);
	if (log_style == LOG_STYLE_PLAIN)
		return snprintf(line, size, "privd: %s",
		    level == LOG_WARN    ? "warning: "
		    : level == LOG_DEBUG ? "debug: "
		                         : "");
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	return snprintf(line, size,
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ privd[%d] %s: ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, ts.tv_nsec / 1000000, (int)getpid(), level_names[level]);
}

/* Print one line; suffix (may be NULL) is appended to the message. */
static void log_line(int level, const char *suffix, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
log_line(int level, const char *suffix, const char *fmt, va_list ap)
{
	char line[1024];
	int n, m;

	n = log_prefix(line, sizeof(line), level);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if (suffix != NULL && (size_t)n < sizeof(line) - 2) {
		m = snprintf(line + n, sizeof(line) - n - 1, "%s", suffix);
		if (m > 0)
			n += m;
	}
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* nowhere left to report it */
	}
}

static void log_vmsg(int level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
log_vmsg(int level, const char *fmt, va_list ap)
{
	log_line(level, NULL, fmt, ap);
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void
log_limited(log_limit *l, int level, const char *fmt, ...)
{
	uint64_t now = mono_ms();
	unsigned dropped;
	char suffix[64];
	va_list ap;

	if (level > log_level)
		return;
	pthread_mutex_lock(&limit_mu);
	if (!l->listed) {
		l->next = limiters;
		limiters = l;
		l->listed = 1;
	}
	if (l->window_ms != 0 && now - l->window_ms < 1000) {
		l->dropped++;
		pthread_mutex_unlock(&limit_mu);
		return;
	}
	dropped = l->dropped;
	l->dropped = 0;
	l->window_ms = now;
	l->level = level;
	va_start(ap, fmt);
	vsnprintf(l->last, sizeof(l->last), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&limit_mu);
	if (dropped > 0)
		snprintf(suffix, sizeof(suffix),
		    " (and %u more like this before)", dropped);
	va_start(ap, fmt);
	log_line(level, dropped > 0 ? suffix : NULL, fmt, ap);
	va_end(ap);
}

void
log_limit_flush(void)
{
	uint64_t now = mono_ms();
	log_limit *l;

	pthread_mutex_lock(&limit_mu);
	for (l = limiters; l != NULL; l = l->next) {
		if (l->dropped == 0 || now - l->window_ms < 1000)
			continue;
		log_msg(l->level, "%u more like this: %s", l->dropped, l->last);
		l->dropped = 0;
		l->window_ms = 0;
	}
	pthread_mutex_unlock(&limit_mu);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}
