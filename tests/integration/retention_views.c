/*
 * retention_views.c - privctl's output, Aggregate answers and the store's
 * files as the retention tests read them (see retention_views.h).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <lmdb.h>

#include "retention_views.h"

/* ---- privctl's output ------------------------------------------------ */

void
date_of(int64_t t_us, char *out)
{
	time_t s = (time_t)(t_us / US_PER_S);
	struct tm tm;

	assert_non_null(gmtime_r(&s, &tm));
	assert_true(strftime(out, 16, "%Y-%m-%d", &tm) > 0);
}

void
iso_of(int64_t t_us, char *out)
{
	time_t s = (time_t)(t_us / US_PER_S);
	struct tm tm;

	assert_non_null(gmtime_r(&s, &tm));
	assert_true(strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
}

int64_t
midnight(int64_t t_us)
{
	return t_us - t_us % US_PER_DAY;
}

void
expect_line(const char *out, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = out; (p = strstr(p, line)) != NULL; p++)
		if ((p == out || p[-1] == '\n') && p[n] == '\n')
			return;
	fail_msg("no line [%s] in:\n%s", line, out);
}

void
line_of(const char *out, const char *prefix, char *line, size_t size)
{
	const char *p, *e;

	for (p = out; p != NULL && *p != '\0'; p = e != NULL ? e + 1 : NULL) {
		e = strchr(p, '\n');
		if (strncmp(p, prefix, strlen(prefix)) == 0) {
			snprintf(line, size, "%.*s",
			    (int)(e != NULL ? (size_t)(e - p) : strlen(p)), p);
			return;
		}
	}
	fail_msg("no line beginning [%s] in:\n%s", prefix, out);
}

size_t
nlines(const char *out)
{
	size_t n = 0;

	for (; *out != '\0'; out++)
		n += *out == '\n';
	return n;
}

void
expect_why(const h_result *r, const char *needle, const char *secret)
{
	if (strncmp(r->err, "privctl: ", 9) != 0 ||
	    strstr(r->err, needle) == NULL)
		fail_msg("expected privctl: ...%s... on stderr, got [%s]",
		    needle, r->err);
	if (r->out[0] != '\0')
		fail_msg("a failure printed on stdout: [%s]", r->out);
	if (secret != NULL && strstr(r->err, secret) != NULL)
		fail_msg("the message repeats the subject id: %s", r->err);
}

void
expect_run_line(const char *out, const char *reg, const char *rule,
    const char *action, uint64_t fields, uint64_t subjects, uint64_t held)
{
	const char *p, *e;
	char line[512], r[80], u[80], a[80];
	unsigned long long f, s, k;

	for (p = out; p != NULL && *p != '\0'; p = e != NULL ? e + 1 : NULL) {
		e = strchr(p, '\n');
		/* one line at a time: sscanf would read on past its end */
		snprintf(line, sizeof(line), "%.*s",
		    (int)(e != NULL ? (size_t)(e - p) : strlen(p)), p);
		if (sscanf(line, "%79s %79s %79s %llu %llu %llu", r, u, a, &f,
		        &s, &k) != 6 ||
		    strcmp(r, reg) != 0 || strcmp(u, rule) != 0)
			continue;
		if (strcmp(a, action) != 0 || f != fields || s != subjects ||
		    k != held)
			fail_msg("%s/%s: %s %llu %llu %llu; expected %s %llu "
			         "%llu %llu",
			    reg, rule, a, f, s, k, action,
			    (unsigned long long)fields,
			    (unsigned long long)subjects,
			    (unsigned long long)held);
		return;
	}
	if (fields != 0 || subjects != 0 || held != 0)
		fail_msg("no line for %s/%s in:\n%s", reg, rule, out);
}

/* ---- reporting (Aggregate), raw --------------------------------------- */

Privd__V1__Response *
aggregate(harness *h, const char *key, const char *purpose, const char *reg,
    const char *field, const char *group_by)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AggregateRequest ag = PRIVD__V1__AGGREGATE_REQUEST__INIT;

	ag.register_ = (char *)reg;
	ag.field = (char *)field;
	ag.group_by = (char *)(group_by != NULL ? group_by : "");
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_AGGREGATE;
	req.aggregate = &ag;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
aggregate_ok(harness *h, const char *key, const char *purpose, const char *reg,
    const char *field, const char *group_by)
{
	Privd__V1__Response *r =
	    aggregate(h, key, purpose, reg, field, group_by);

	expect_status(r, ST(OK), 0, "aggregate");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_AGGREGATE);
	return r;
}

const Privd__V1__AggregateGroup *
agg_group(const Privd__V1__Response *r, const char *key)
{
	const Privd__V1__AggregateResponse *a = r->aggregate;
	size_t i;

	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_AGGREGATE);
	for (i = 0; i < a->n_groups; i++) {
		const Privd__V1__AggregateGroup *g = a->groups[i];

		/* an empty key comes as no data at all (memcmp must not see
		 * its NULL) */
		if (key == NULL
		        ? g->missing
		        : !g->missing && g->key.len == strlen(key) &&
		              (g->key.len == 0 ||
		                  memcmp(g->key.data, key, g->key.len) == 0))
			return g;
	}
	return NULL;
}

void
expect_group(const Privd__V1__Response *r, const char *key, uint64_t count,
    int64_t sum, int64_t min, int64_t max)
{
	const Privd__V1__AggregateGroup *g = agg_group(r, key);
	const char *name = key == NULL ? "(missing)" : key;
	double mean;

	if (g == NULL)
		fail_msg("no group [%s] in the aggregate", name);
	if (g->count != count || g->sum != sum || g->min != min ||
	    g->max != max)
		fail_msg("group [%s]: count %llu sum %lld min %lld max %lld; "
		         "expected %llu, %lld, %lld, %lld",
		    name, (unsigned long long)g->count, (long long)g->sum,
		    (long long)g->min, (long long)g->max,
		    (unsigned long long)count, (long long)sum, (long long)min,
		    (long long)max);
	mean = count > 0 ? (double)sum / (double)count : 0.0;
	if (g->mean < mean - 1e-9 || g->mean > mean + 1e-9)
		fail_msg("group [%s]: mean %.6f, expected %.6f", name, g->mean,
		    mean);
}

void
expect_agg(const Privd__V1__Response *r, size_t ngroups, uint64_t sgroups,
    uint64_t srecords, uint32_t min_group, bool integer)
{
	const Privd__V1__AggregateResponse *a;
	size_t i;

	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_AGGREGATE);
	a = r->aggregate;
	if (a->n_groups != ngroups || a->suppressed_groups != sgroups ||
	    a->suppressed_records != srecords || a->min_group != min_group ||
	    a->integer != integer)
		fail_msg("aggregate: %zu groups shown, %llu suppressed of "
		         "%llu records, min_group %u, integer %d; expected "
		         "%zu, %llu, %llu, %u, %d",
		    a->n_groups, (unsigned long long)a->suppressed_groups,
		    (unsigned long long)a->suppressed_records,
		    (unsigned)a->min_group, (int)a->integer, ngroups,
		    (unsigned long long)sgroups, (unsigned long long)srecords,
		    (unsigned)min_group, (int)integer);
	/* what is hidden is never one small group's records alone: the
	 * ungrouped total minus the groups shown would reveal them */
	if (a->n_groups > 0 && a->suppressed_records > 0 &&
	    a->suppressed_records < a->min_group)
		fail_msg("aggregate: %llu suppressed record(s) next to shown "
		         "groups, fewer than min_group %u",
		    (unsigned long long)a->suppressed_records,
		    (unsigned)a->min_group);
	/* never a group under the minimum, never one record's value; in
	 * key order, the records without a value last */
	for (i = 0; i < a->n_groups; i++) {
		const Privd__V1__AggregateGroup *g = a->groups[i], *p;
		size_t n;
		int c;

		assert_true(g->count >= a->min_group);
		assert_true(!g->missing || g->key.len == 0);
		if (i == 0)
			continue;
		p = a->groups[i - 1];
		assert_false(p->missing);
		if (g->missing)
			continue;
		n = p->key.len < g->key.len ? p->key.len : g->key.len;
		c = n == 0 ? 0 : memcmp(p->key.data, g->key.data, n);
		assert_true(c < 0 || (c == 0 && p->key.len < g->key.len));
	}
}

/* ---- the store's files ------------------------------------------------ */

void
compact_store(harness *h, char *out, size_t size)
{
	MDB_env *env = NULL;
	int rc;

	snprintf(out, size, "%s/compact", h->root);
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	rc = mdb_env_open(env, h->data_dir, MDB_RDONLY, 0600);
	if (rc != 0)
		fail_msg("open the store: %s", mdb_strerror(rc));
	rc = mdb_env_copy2(env, out, MDB_CP_COMPACT);
	if (rc != 0)
		fail_msg("compact the store: %s", mdb_strerror(rc));
	mdb_env_close(env);
}
