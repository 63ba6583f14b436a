/*
 * test_audit_query.c - audit queries never lose an event: every plan
 * (subject, principal, time, seq), oldest and newest first, paged to the
 * end over a log larger than one page may examine, answers exactly what a
 * brute-force filter over the same events does; cursors resume exactly and
 * only for their own query. Also prints what one page costs.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "test_audit_fixture.h"

#define ST(x) PRIVD__V1__STATUS__##x

static int
setup(void **state)
{
	*state = al_new(AL_EVENTS);
	return 0;
}

static int
teardown(void **state)
{
	al_log *l = *state;

	al_free(&l);
	return 0;
}

/* Run q oldest first, then newest first, against the oracle. */
static void
check_both(al_log *l, const al_query *q)
{
	al_query d = *q;

	al_check(l, q);
	d.newest_first = true;
	al_check(l, &d);
}

/*
 * 0. The log is what the other tests need: more events than a page may
 * examine, in runs of equal times, and the time bounds of the table's
 * queries inside such runs (so that events of the same time fall on both
 * sides of a seq bound, and none on the wrong side of a time bound).
 */
static void
test_log_has_equal_times(void **state)
{
	al_log *l = *state;
	const al_query *q;
	size_t i, equal = 0;

	assert_true(l->n > AUDIT_QUERY_MAX_EXAMINED);
	for (i = 2; i <= l->n; i++) {
		assert_true(l->ev[i].time_us >= l->ev[i - 1].time_us);
		equal += l->ev[i].time_us == l->ev[i - 1].time_us;
	}
	assert_true(equal > l->n / 2);
	for (i = 0; i < al_nqueries; i++) {
		q = &al_queries[i];
		if (q->since_at > 2 && q->since_at < l->n && q->since_plus == 0)
			assert_int_equal(l->ev[q->since_at - 1].time_us,
			    l->ev[q->since_at].time_us);
		if (q->until_at > 2 && q->until_at < l->n && q->until_plus == 0)
			assert_int_equal(l->ev[q->until_at - 1].time_us,
			    l->ev[q->until_at].time_us);
	}
}

/* 1. Every query of the table, both directions. */
static void
test_every_plan_both_directions(void **state)
{
	al_log *l = *state;
	size_t i;

	for (i = 0; i < al_nqueries; i++)
		check_both(l, &al_queries[i]);
}

/* Walk q to the end; the number of events and of pages. */
static size_t
walk_count(al_log *l, const al_query *q, size_t *pages)
{
	al_walk w;
	size_t n;

	al_walk_all(l, q, &w);
	n = w.n;
	*pages = w.pages;
	al_walk_free(&w);
	return n;
}

/*
 * 2. The issue's case, as it was reported: time bounds, no subject or
 * principal, and from_seq 22000 over 25,000 events (or newest first with
 * to_seq) answered OK with no records and no cursor. Every event of the
 * range is in it, and so is every seq.
 */
static void
test_issue_time_bounds_and_from_seq(void **state)
{
	al_log *l = *state;
	al_query q = {.name = "issue",
	    .subject = AL_NO_SUBJ,
	    .since_at = 1,
	    .until_at = AL_EVENTS,
	    .until_plus = 1,
	    .from_seq = 22000};
	size_t pages;

	assert_int_equal(walk_count(l, &q, &pages), AL_EVENTS - 22000 + 1);
	q.newest_first = true;
	assert_int_equal(walk_count(l, &q, &pages), AL_EVENTS - 22000 + 1);
	q.from_seq = 0;
	q.to_seq = 3000;
	assert_int_equal(walk_count(l, &q, &pages), 3000);
	q.newest_first = false;
	assert_int_equal(walk_count(l, &q, &pages), 3000);
}

/* The first page of q that carries a cursor (q paged at limit 5). */
static Privd__V1__Response *
first_cursor(al_log *l, const al_query *q, Privd__V1__AuditQueryRequest *r)
{
	Privd__V1__Response *resp;
	const uint8_t *pseudo;

	al_request(l, q, r, &pseudo);
	r->limit = 5;
	resp = al_page(l, r, pseudo);
	assert_int_equal(resp->status, ST(OK));
	assert_int_equal(
	    resp->audit_query->next_cursor.len, AUDIT_CURSOR_BYTES);
	return resp;
}

/* The answer of q with a given cursor: its status (INVALID with the
 * message the issue asks for). */
static int
status_with(al_log *l, const al_query *q, const uint8_t *cursor, size_t len)
{
	Privd__V1__AuditQueryRequest r;
	Privd__V1__Response *resp;
	const uint8_t *pseudo;
	int status;

	al_request(l, q, &r, &pseudo);
	r.cursor.data = (uint8_t *)cursor;
	r.cursor.len = len;
	resp = al_page(l, &r, pseudo);
	status = resp->status;
	if (status == ST(INVALID))
		assert_string_equal(
		    resp->message, "not a cursor of this query");
	else
		assert_int_equal(status, ST(OK));
	privd__v1__response__free_unpacked(resp, NULL);
	return status;
}

/*
 * 3. A cursor is accepted only by its own query: any other criterion,
 * direction, subject or follow flag is refused; a different limit is not a
 * different query.
 */
static void
test_cursor_of_another_query(void **state)
{
	al_log *l = *state;
	const al_query base = {.name = "base",
	    .subject = AL_NO_SUBJ,
	    .principal = "bob",
	    .from_seq = 100,
	    .to_seq = 20000,
	    .since_at = 50,
	    .until_at = 21000,
	    .ops = {"get", "put"},
	    .not_ops = {"put"},
	    .request_id = 0};
	Privd__V1__AuditQueryRequest r;
	Privd__V1__Response *resp;
	const uint8_t *c;
	al_query o;
	size_t i;

	resp = first_cursor(l, &base, &r);
	c = resp->audit_query->next_cursor.data;
	o = base;
	o.limit = 999;
	assert_int_equal(status_with(l, &o, c, AUDIT_CURSOR_BYTES), ST(OK));
	for (i = 0; i < 13; i++) {
		o = base;
		switch (i) {
		case 0:
			o.principal = "alice";
			break;
		case 1:
			o.principal = NULL;
			break;
		case 2:
			o.subject = 1;
			break;
		case 3:
			o.from_seq = 99;
			break;
		case 4:
			o.to_seq = 0;
			break;
		case 5:
			o.since_plus = 1;
			break;
		case 6:
			o.until_at = 0;
			break;
		case 7:
			o.ops[1] = NULL;
			break;
		case 8:
			o.not_ops[0] = NULL;
			break;
		case 9:
			o.request_id = 7;
			break;
		case 10:
			o.newest_first = true;
			break;
		case 11:
			o.reg = "customers";
			break;
		case 12:
			o.decision = PRIVD__V1__DECISION__ALLOWED;
			break;
		}
		if (status_with(l, &o, c, AUDIT_CURSOR_BYTES) != ST(INVALID))
			fail_msg(
			    "variant %zu accepted another query's cursor", i);
	}
	privd__v1__response__free_unpacked(resp, NULL);

	/* a follow's cursor is not a plain query's, nor the reverse */
	o = (al_query){.name = "follow",
	    .subject = AL_NO_SUBJ,
	    .follow = true,
	    .from_seq = 10};
	resp = first_cursor(l, &o, &r);
	c = resp->audit_query->next_cursor.data;
	o.follow = false;
	assert_int_equal(
	    status_with(l, &o, c, AUDIT_CURSOR_BYTES), ST(INVALID));
	o.follow = true;
	o.newest_first = true; /* a follow is oldest first all the same */
	assert_int_equal(status_with(l, &o, c, AUDIT_CURSOR_BYTES), ST(OK));
	privd__v1__response__free_unpacked(resp, NULL);
}

/* 4. Malformed cursors: short, long, another version, the old format. */
static void
test_malformed_cursor(void **state)
{
	al_log *l = *state;
	const al_query q = {.name = "q", .subject = AL_NO_SUBJ};
	uint8_t c[AUDIT_CURSOR_BYTES + 1];
	Privd__V1__AuditQueryRequest r;
	Privd__V1__Response *resp;

	resp = first_cursor(l, &q, &r);
	memcpy(c, resp->audit_query->next_cursor.data, AUDIT_CURSOR_BYTES);
	privd__v1__response__free_unpacked(resp, NULL);
	c[AUDIT_CURSOR_BYTES] = 0;
	assert_int_equal(status_with(l, &q, c, AUDIT_CURSOR_BYTES), ST(OK));
	assert_int_equal(
	    status_with(l, &q, c, AUDIT_CURSOR_BYTES - 1), ST(INVALID));
	assert_int_equal(
	    status_with(l, &q, c, AUDIT_CURSOR_BYTES + 1), ST(INVALID));
	assert_int_equal(status_with(l, &q, c, 1), ST(INVALID));
	assert_int_equal(status_with(l, &q, c, 17), ST(INVALID)); /* v1 */
	c[0] = 1;
	assert_int_equal(
	    status_with(l, &q, c, AUDIT_CURSOR_BYTES), ST(INVALID));
}

/*
 * 5. A cursor cannot widen its query: with any byte of a valid cursor
 * changed, the query is refused or answers only events it would answer
 * anyway, in its order. (A changed seq is a valid resume point, so it must
 * give a tail of the same answer.)
 */
static void
test_cursor_cannot_widen(void **state)
{
	static const uint8_t masks[] = {0x01, 0x80, 0xff};
	al_log *l = *state;
	al_query q = {.name = "narrow",
	    .subject = AL_NO_SUBJ,
	    .principal = "bob",
	    .from_seq = 5000,
	    .to_seq = 15000,
	    .since_at = 6000,
	    .until_at = 14000};
	Privd__V1__AuditQueryRequest r;
	Privd__V1__Response *resp, *page;
	uint8_t c[AUDIT_CURSOR_BYTES];
	const uint8_t *pseudo;
	uint64_t *want;
	size_t nwant, i, m, k, at, ok = 0;

	assert_non_null(want = calloc(AL_EVENTS + 1, sizeof(*want)));
	for (int dir = 0; dir < 2; dir++) {
		q.newest_first = dir == 1;
		nwant = al_expect(l, &q, want);
		assert_true(nwant > 100);
		resp = first_cursor(l, &q, &r);
		for (i = 0; i < AUDIT_CURSOR_BYTES; i++) {
			for (m = 0; m < sizeof(masks); m++) {
				memcpy(c, resp->audit_query->next_cursor.data,
				    sizeof(c));
				c[i] ^= masks[m];
				al_request(l, &q, &r, &pseudo);
				r.cursor.data = c;
				r.cursor.len = sizeof(c);
				page = al_page(l, &r, pseudo);
				if (page->status == ST(INVALID)) {
					privd__v1__response__free_unpacked(
					    page, NULL);
					continue;
				}
				assert_int_equal(page->status, ST(OK));
				ok++;
				/* a run of the answer, in order */
				for (k = 0, at = 0;
				     k < page->audit_query->n_records; k++) {
					uint64_t s =
					    page->audit_query->records[k]->seq;

					while (at < nwant && want[at] != s)
						at++;
					if (at == nwant)
						fail_msg(
						    "byte %zu ^ %#x: event "
						    "%llu is not in the "
						    "query's answer",
						    i, masks[m],
						    (unsigned long long)s);
				}
				privd__v1__response__free_unpacked(page, NULL);
			}
		}
		privd__v1__response__free_unpacked(resp, NULL);
	}
	assert_true(ok > 0); /* some changed seqs were valid resume points */
	free(want);
}

/* 6. The page size: 0 means 100, more than 1000 means 1000. */
static void
test_limit(void **state)
{
	al_log *l = *state;
	const uint32_t limits[][2] = {
	    {0, 100}, {1, 1}, {1000, 1000}, {5000, 1000}};
	Privd__V1__AuditQueryRequest r;
	Privd__V1__Response *resp;
	const uint8_t *pseudo;
	al_query q = {.name = "limit", .subject = AL_NO_SUBJ};
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		al_request(l, &q, &r, &pseudo);
		r.limit = limits[i][0];
		resp = al_page(l, &r, pseudo);
		assert_int_equal(resp->status, ST(OK));
		assert_int_equal(resp->audit_query->n_records, limits[i][1]);
		assert_int_equal(
		    resp->audit_query->next_cursor.len, AUDIT_CURSOR_BYTES);
		privd__v1__response__free_unpacked(resp, NULL);
	}
}

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The cheapest of a few runs of one page of q (figures only). */
static void
cost(al_log *l, const char *what, const al_query *q)
{
	Privd__V1__AuditQueryRequest r;
	Privd__V1__Response *resp;
	const uint8_t *pseudo;
	double best = 0, t;
	size_t n = 0, bytes = 0;
	int i;

	al_request(l, q, &r, &pseudo);
	for (i = 0; i < 5; i++) {
		t = now_us();
		resp = al_page(l, &r, pseudo);
		t = now_us() - t;
		assert_int_equal(resp->status, ST(OK));
		n = resp->audit_query->n_records;
		bytes = privd__v1__response__get_packed_size(resp);
		privd__v1__response__free_unpacked(resp, NULL);
		if (i == 0 || t < best)
			best = t;
	}
	print_message("page cost: %-46s %4zu records %7zu bytes %8.0f us\n",
	    what, n, bytes, best);
}

/*
 * 7. What one page costs on this log, for the record (no pass or fail on
 * time): the worst pages examine AUDIT_QUERY_MAX_EXAMINED events and match
 * none; through an index, each entry is one more lookup in the log.
 */
static void
test_page_cost(void **state)
{
	al_log *l = *state;
	al_query q = {.subject = AL_NO_SUBJ, .request_id = 999999};

	cost(l, "log, 20000 examined, no match", &q);
	q.since_at = 2;
	cost(l, "time range, 20000 examined, no match", &q);
	q = (al_query){.subject = 0, .request_id = 999999};
	cost(l, "subject index, 20000 examined, no match", &q);
	q = (al_query){
	    .subject = AL_NO_SUBJ, .principal = "alice", .request_id = 999999};
	cost(l, "principal index, 20000 examined, no match", &q);
	q = (al_query){.subject = AL_NO_SUBJ, .limit = 1000};
	cost(l, "log, full page of 1000", &q);
	q = (al_query){.subject = 0, .limit = 1000};
	cost(l, "subject index, full page of 1000", &q);
	q = (al_query){.subject = AL_NO_SUBJ, .limit = 100, .from_seq = 12000};
	cost(l, "log, default page of 100", &q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_log_has_equal_times),
	    cmocka_unit_test(test_every_plan_both_directions),
	    cmocka_unit_test(test_issue_time_bounds_and_from_seq),
	    cmocka_unit_test(test_cursor_of_another_query),
	    cmocka_unit_test(test_malformed_cursor),
	    cmocka_unit_test(test_cursor_cannot_widen),
	    cmocka_unit_test(test_limit),
	    cmocka_unit_test(test_page_cost),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
