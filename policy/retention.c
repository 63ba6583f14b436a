/*
 * retention.c - what a register's retention rules mean for one stored
 * field: calendar durations, and the time the field falls due (policy.h).
 *
 * Pure functions of the policy and the times given; no clock is read here,
 * so the sweeper, a preview "as of" a date and the tests all plan the same
 * way from the same times (issue 9).
 *
 * Dates are proleptic Gregorian in UTC, computed from the day count with
 * the civil-from-days algorithms of Howard Hinnant ("chrono-Compatible
 * Low-Level Date Algorithms"), which need no time zone database and no
 * libc time functions.
 */
#include <string.h>

#include "internal.h"

#define US_PER_S   1000000LL
#define US_PER_DAY (86400LL * US_PER_S)

int
pol_span_parse(const char *s, pol_span *out)
{
	int64_t secs, n = 0;
	const char *p;

	/* the grammar and the bounds are pol_duration_parse's, and zero */
	if (pj_duration(s, true, &secs) != 0)
		return -1;
	for (p = s; *p >= '0' && *p <= '9'; p++)
		n = n * 10 + (*p - '0');
	p++; /* the space */
	if (n == 0) {
		/* "0 days" and "0 months" are one span: no diff between them */
		out->n = 0;
		out->months = false;
	} else if (strncmp(p, "month", 5) == 0) {
		out->n = n;
		out->months = true;
	} else if (strncmp(p, "year", 4) == 0) {
		out->n = n * 12;
		out->months = true;
	} else {
		out->n = secs;
		out->months = false;
	}
	return 0;
}

/* Days since 1970-01-01 of a civil date (m 1..12, d 1..31). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The civil date of a day count since 1970-01-01. */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static unsigned
days_in_month(int64_t y, unsigned m)
{
	static const unsigned dm[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

int
pol_time_add(int64_t t_us, const pol_span *s, int64_t *out)
{
	int64_t day, tod, y, mi;
	unsigned m, d, dim;

	if (s->n < 0 || t_us < 0)
		return -1;
	if (!s->months) {
		if (s->n > (INT64_MAX - t_us) / US_PER_S)
			return -1;
		*out = t_us + s->n * US_PER_S;
		return 0;
	}
	/* spans are at most 1000 years (pol_duration_parse): no overflow in
	 * the calendar; the day count back to microseconds is checked */
	day = t_us / US_PER_DAY;
	tod = t_us % US_PER_DAY;
	civil_from_days(day, &y, &m, &d);
	mi = y * 12 + (m - 1) + s->n;
	y = mi / 12;
	m = (unsigned)(mi % 12) + 1;
	dim = days_in_month(y, m);
	if (d > dim)
		d = dim; /* 31 January + 1 month: the end of February */
	day = days_from_civil(y, m, d);
	if (day > (INT64_MAX - tod) / US_PER_DAY)
		return -1;
	*out = day * US_PER_DAY + tod;
	return 0;
}

static bool
rule_covers(const pol_retention *rt, const pol_field *f)
{
	size_t i;

	for (i = 0; i < rt->ncategories; i++)
		if (strcmp(rt->categories[i], "*") == 0 ||
		    strcmp(rt->categories[i], f->category) == 0)
			return true;
	return false;
}

/* The time a rule counts from; 0 if that event has not happened. */
static int64_t
rule_start(const pol_retention *rt, const pol_field_times *t)
{
	if (strcmp(rt->from, "collected") == 0)
		return t->collected_us;
	if (strcmp(rt->from, "updated") == 0)
		return t->updated_us;
	if (strcmp(rt->from, "relationship_end") == 0)
		return t->relationship_end_us;
	return t->contract_end_us;
}

/*
 * A field's plan. Each covering rule is weighed once: its action time (a
 * zero span is due at the start event itself) against the earliest so far,
 * its minimum against the longest so far; the action then waits for the
 * longest minimum.
 */
void
pol_retention_plan(const pol_register *r, const pol_field *f,
    const pol_field_times *t, pol_plan *out)
{
	const pol_retention *rt;
	int64_t start, at;
	size_t i;

	out->due_us = POL_NEVER;
	out->rule = NULL;
	out->keep_until_us = 0;
	out->keep_rule = NULL;
	for (i = 0; i < r->nretention; i++) {
		rt = &r->retention[i];
		if (!rule_covers(rt, f))
			continue;
		start = rule_start(rt, t);
		if (rt->keep_least.n >= 0) {
			/* a minimum not started yet holds the field */
			if (start <= 0 ||
			    pol_time_add(start, &rt->keep_least, &at) != 0)
				at = POL_NEVER;
			if (at > out->keep_until_us) {
				out->keep_until_us = at;
				out->keep_rule = rt;
			}
		}
		if (rt->after.n < 0 || rt->action == NULL || start <= 0 ||
		    pol_time_add(start, &rt->after, &at) != 0)
			continue;
		if (at < out->due_us ||
		    (at == out->due_us && out->rule != NULL &&
		        strcmp(rt->action, "delete") == 0 &&
		        strcmp(out->rule->action, "delete") != 0)) {
			out->due_us = at;
			out->rule = rt;
		}
	}
	if (out->rule != NULL && out->keep_until_us > out->due_us)
		out->due_us = out->keep_until_us; /* POL_NEVER while held */
}

bool
pol_retention_from_used(const pol_register *r, const char *from)
{
	const pol_retention *rt;
	size_t i;

	if (r == NULL || from == NULL)
		return false;
	for (i = 0; i < r->nretention; i++) {
		rt = &r->retention[i];
		if ((rt->action != NULL || rt->keep_least.n >= 0) &&
		    strcmp(rt->from, from) == 0)
			return true;
	}
	return false;
}

bool
pol_field_planned(const pol_register *r, const pol_field *f)
{
	const pol_retention *rt;
	size_t i;

	if (r == NULL || f == NULL)
		return false;
	for (i = 0; i < r->nretention; i++) {
		rt = &r->retention[i];
		if (rt->action != NULL && rt->after.n >= 0 &&
		    rule_covers(rt, f))
			return true;
	}
	return false;
}
