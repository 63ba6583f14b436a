/*
 * args.c - values on privctl's command line: numbers, times, and where
 * an argument was given. Pure code, so that the unit tests take it as it
 * is.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "privctl.h"

/* The arguments as given, before getopt_long() permuted argv (static:
 * still reachable, not a leak, on every way out of main). */
static char **given;
static int ngiven;

/* Keep where each argument was given, for errors that name a position
 * rather than repeat what was typed. 0, or -1 if out of memory. */
int
args_keep(int argc, char **argv)
{
	if ((given = malloc(((size_t)argc + 1) * sizeof(*given))) == NULL)
		return -1;
	memcpy(given, argv, ((size_t)argc + 1) * sizeof(*given));
	ngiven = argc;
	return 0;
}

/*
 * The position on the command line (1: the first argument after
 * "privctl") of argument arg, an element of argv (compared by address:
 * argv is permuted by then); fallback if it is not one (or args_keep()
 * was not called, as in the unit tests).
 */
int
arg_position(const char *arg, int fallback)
{
	int i;

	for (i = 1; i < ngiven; i++)
		if (given[i] == arg)
			return i;
	return fallback;
}

/* A timeout: a positive number of milliseconds that fits an int, into
 * *ms; -1 if s is not one. */
int
parse_timeout(const char *s, int *ms)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > INT_MAX)
		return -1;
	*ms = (int)v;
	return 0;
}

/* A decimal number without sign or blanks, into *v; -1 if not one. */
int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Digits s[0..n) into *v; -1 if one is not a digit. */
static int
digits(const char *s, int n, int *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/*
 * A time on the command line (privctl.h): Unix seconds, a date (midnight
 * UTC), or RFC 3339, whose 'T' and 'Z' may also be 't', 'z' and the 'T'
 * a blank (RFC 3339 section 5.6 allows that). A fraction keeps its first
 * six digits (microseconds). Parsed by hand: sscanf() would take signs
 * and blanks inside the numbers. timegm() normalises 2026-02-30 into
 * March and 24:00 into the next day: what moved is refused.
 */
int
parse_time(const char *s, uint64_t *us)
{
	struct tm tm, check;
	int year, mon, day, hh = 0, mm = 0, ss = 0, oh = 0, om = 0, sign = 0;
	size_t len = strlen(s), i;
	uint64_t secs, frac = 0, scale = 100000;
	time_t t;

	if (len > 0 && strspn(s, "0123456789") == len) {
		if (parse_u64(s, &secs) != 0 || secs > UINT64_MAX / 1000000u)
			return -1;
		*us = secs * 1000000u;
		return 0;
	}
	if (len < 10 || digits(s, 4, &year) || s[4] != '-' ||
	    digits(s + 5, 2, &mon) || s[7] != '-' || digits(s + 8, 2, &day))
		return -1;
	i = 10;
	if (len > 10) {
		if (len < 20 || strchr("Tt ", s[10]) == NULL ||
		    digits(s + 11, 2, &hh) || s[13] != ':' ||
		    digits(s + 14, 2, &mm) || s[16] != ':' ||
		    digits(s + 17, 2, &ss))
			return -1;
		i = 19;
		if (s[i] == '.') {
			if (s[++i] < '0' || s[i] > '9')
				return -1;
			for (; s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
				frac += (uint64_t)(s[i] - '0') * scale;
		}
		if (s[i] == 'Z' || s[i] == 'z') {
			i++;
		} else if (s[i] == '+' || s[i] == '-') {
			sign = s[i] == '+' ? 1 : -1;
			if (digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
			    digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
				return -1;
			i += 6;
		} else {
			return -1;
		}
		if (i != len)
			return -1;
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	check = tm;
	if (tm.tm_year < 70 || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	if (tm.tm_year != check.tm_year || tm.tm_mday != check.tm_mday ||
	    tm.tm_mon != check.tm_mon || tm.tm_hour != check.tm_hour ||
	    tm.tm_min != check.tm_min || tm.tm_sec != check.tm_sec)
		return -1;
	/* 10:00+02:00 is 08:00Z */
	t -= (time_t)sign * (oh * 3600 + om * 60);
	if (t < 0)
		return -1;
	*us = (uint64_t)t * 1000000u + frac;
	return 0;
}
