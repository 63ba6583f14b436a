/*
 * progress.c - long work shown on a terminal: one line on stderr, redrawn
 * in place, then cleared when the work ends, so that what the command
 * prints is all that is left. Nothing is drawn unless stderr is a
 * terminal: a script or a log gets no progress lines.
 *
 * Two kinds. A count (audit export: events done of a total known at the
 * start) shows what is done, the rate and the time left. A wait (audit
 * verify, subject export: one library call that says nothing until it
 * returns) shows what it is waiting for and for how long, redrawn by a
 * ticker thread.
 *
 * DESIGN (threads): the ticker thread only formats the line and writes
 * it to stderr; it touches no privd_client and nothing else of the
 * command's. The command's thread starts it (progress_wait_begin) and
 * stops and joins it (progress_wait_end) before it prints anything
 * itself; p->mu guards p->stop between the two.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "privctl.h"

/* The line is redrawn at most this often (seconds). */
#define PROGRESS_EVERY 0.2

/* Seconds on the monotonic clock. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The line of a count, secs into the work: "audit export: 1200 of 5000
 * events (24%)", then once a second has passed ", 800 events/s", and
 * with a total ", 5 s left" at that rate. total 0: not known.
 */
void
progress_count_line(char *buf, size_t size, const char *what, const char *unit,
    uint64_t done, uint64_t total, double secs)
{
	double rate = secs > 0 ? (double)done / secs : 0;
	char eta[48];
	size_t n;

	if (total == 0)
		n = (size_t)snprintf(buf, size, "%s: %llu %s", what,
		    (unsigned long long)done, unit);
	else
		n = (size_t)snprintf(buf, size, "%s: %llu of %llu %s (%d%%)",
		    what, (unsigned long long)done, (unsigned long long)total,
		    unit,
		    (int)(done >= total ? 100
		                        : (double)done * 100 / (double)total));
	if (n >= size || secs < 1)
		return;
	n += (size_t)snprintf(buf + n, size - n, ", %.0f %s/s", rate, unit);
	if (n >= size || total <= done || rate <= 0)
		return;
	snprintf(buf + n, size - n, ", %s left",
	    duration((uint64_t)((double)(total - done) / rate + 0.5), eta));
}

/* The line of a wait: "audit verify: events 1..5000, 12 s". */
void
progress_wait_line(
    char *buf, size_t size, const char *what, const char *detail, double secs)
{
	char d[48];

	snprintf(buf, size, "%s: %s%s%s", what, detail, *detail ? ", " : "",
	    duration((uint64_t)secs, d));
}

/* Draw a line over the one drawn before (\033[K clears what a longer
 * line left). */
static void
draw(struct progress *p, const char *line)
{
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = 1;
}

/*
 * Begin a count of total unit (0: not known) for what. Drawn only when
 * stderr is a terminal and, if stream is set (the command prints as it
 * goes), stdout is not one: then the lines themselves show the progress.
 */
void
progress_begin(struct progress *p, const char *what, const char *unit,
    uint64_t total, int stream)
{
	memset(p, 0, sizeof(*p));
	p->on = isatty(STDERR_FILENO) && !(stream && isatty(STDOUT_FILENO));
	p->what = what;
	p->unit = unit;
	p->total = total;
	p->t0 = mono();
	p->last = -1;
	if (p->on)
		progress_update(p, 0);
}

/* done of the count are done: redraw, now and then (and at the end). */
void
progress_update(struct progress *p, uint64_t done)
{
	char line[200];
	double now;

	if (!p->on)
		return;
	now = mono();
	if (p->last >= 0 && now - p->last < PROGRESS_EVERY &&
	    (p->total == 0 || done < p->total))
		return;
	p->last = now;
	progress_count_line(
	    line, sizeof(line), p->what, p->unit, done, p->total, now - p->t0);
	draw(p, line);
}

/* End a count or a wait: the line is cleared. */
void
progress_end(struct progress *p)
{
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->drawn = 0;
	}
}

/* The ticker: redraw the wait's line until told to stop. */
static void *
ticker(void *arg)
{
	struct progress *p = arg;
	struct timespec until;
	char line[200];
	double now;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		now = mono();
		progress_wait_line(
		    line, sizeof(line), p->what, p->detail, now - p->t0);
		draw(p, line);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_nsec += (long)(PROGRESS_EVERY * 1e9);
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!p->stop && pthread_cond_timedwait(
		                       &p->cv, &p->mu, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/*
 * Begin a wait for what (detail: what it is about, may be ""), shown
 * with the time it has taken, if stderr is a terminal. If the ticker
 * cannot be started, the work goes on without it.
 */
void
progress_wait_begin(struct progress *p, const char *what, const char *detail)
{
	pthread_condattr_t ca;

	memset(p, 0, sizeof(*p));
	p->what = what;
	snprintf(p->detail, sizeof(p->detail), "%s", detail);
	p->t0 = mono();
	if (!isatty(STDERR_FILENO))
		return;
	if (pthread_condattr_init(&ca) != 0)
		return;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&p->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		return;
	}
	pthread_condattr_destroy(&ca);
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		pthread_cond_destroy(&p->cv);
		return;
	}
	if (pthread_create(&p->th, NULL, ticker, p) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		return;
	}
	p->ticking = 1;
}

/* End a wait: stop the ticker, wait for it, clear the line. */
void
progress_wait_end(struct progress *p)
{
	if (p->ticking) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_signal(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		p->ticking = 0;
	}
	progress_end(p);
}
