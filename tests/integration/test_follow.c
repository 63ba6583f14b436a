/*
 * test_follow.c - following the audit log does not flood it (issue 7):
 * `privctl audit tail -f` polls every 500 ms, and each poll used to be an
 * audit_query event of its own. The polls of a follow (AuditQueryRequest
 * .follow) are audited with one audit_follow event per principal and
 * minute; a follow poll takes no criterion but from_seq, limit and
 * not_ops; an operation name privd does not know, in ops or not_ops, is
 * INVALID rather than a filter that silently matches nothing.
 *
 * The polls are spoken raw (h_dealer_call). The tests share one privd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define POLLS 20

static const char POLICY[] =
    H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RW
    ",\n" H_POL_AUDITOR ",\n"
    "  \"auditor2\": {\"key\": \"@KEY:auditor2@\", \"roles\": "
    "[\"auditor\"]}" H_POL_END;

/* The operation names privd.proto lists for AuditEvent.op. */
static const char *const known_ops[] = {"ping", "put", "get", "delete",
    "policy_get", "policy_apply", "policy_history", "audit_query",
    "audit_follow", "audit_checkpoints", "audit_pubkey", "audit_prune",
    "invalid"};

static int
setup(void **state)
{
	static const char *const keys[] = {"svc", "auditor", "auditor2"};

	return h_setup(
	    state, keys, sizeof(keys) / sizeof(keys[0]), POLICY, NULL);
}

static uint64_t next_id = 9000;

/* Send one audit query on d and return the answer (fails without one). */
static Privd__V1__Response *
query(h_dealer *d, Privd__V1__AuditQueryRequest *q)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__Response *r;

	req.request_id = next_id++;
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_QUERY;
	req.audit_query = q;
	r = h_dealer_call(d, &req, RAW_CALL_TIMEOUT_MS);
	if (r == NULL)
		fail_msg("no answer to an audit query");
	return r;
}

static void
expect_query_status(
    h_dealer *d, Privd__V1__AuditQueryRequest *q, int want, const char *what)
{
	Privd__V1__Response *r = query(d, q);

	if ((int)r->status != want)
		fail_msg("%s: expected status %d, got %d (%s)", what, want,
		    (int)r->status, r->message);
	privd__v1__response__free_unpacked(r, NULL);
}

/* The events of op (through libprivd, as auditor): their count, and the
 * request id and principal of each (up to max; ids, who may be NULL). */
static size_t
events_of(
    harness *h, const char *op, uint64_t *ids, char (*who)[65], size_t max)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter q = {.limit = 1000};
	privd_audit_page *p = NULL;
	size_t n;

	q.ops = &op;
	q.nops = 1;
	expect_rc(a, privd_audit_query(a, &q, NULL, 0, &p), PRIVD_OK, "query");
	assert_null(p->cursor);
	n = p->n;
	for (size_t i = 0; i < n && i < max; i++) {
		if (ids != NULL)
			ids[i] = p->events[i].request_id;
		if (who != NULL)
			memcpy(who[i], p->events[i].principal, 65);
	}
	privd_audit_page_free(&p);
	privd_close(&a);
	return n;
}

/*
 * Follow the log as tail -f does: polls from the next seq on, each
 * answered OK with the events from there, oldest first.
 */
static void
follow(harness *h, const char *key, int polls, uint64_t *ids)
{
	Privd__V1__AuditQueryRequest q = PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;
	uint64_t from = 1;
	h_dealer d;

	assert_int_equal(h_dealer_open(h, key, NULL, false, &d), 0);
	q.follow = true;
	q.limit = 100;
	for (int i = 0; i < polls; i++) {
		Privd__V1__Response *r;

		q.from_seq = from;
		ids[i] = next_id;
		r = query(&d, &q);
		if (r->status != ST(OK))
			fail_msg("follow poll %d: status %d (%s)", i,
			    (int)r->status, r->message);
		/* oldest first, from from_seq on; the record's seq is
		 * the event's */
		for (size_t k = 0; k < r->audit_query->n_records; k++) {
			Privd__V1__AuditRecord *rec =
			    r->audit_query->records[k];
			Privd__V1__AuditEvent *ev =
			    privd__v1__audit_event__unpack(
			        NULL, rec->event.len, rec->event.data);

			assert_non_null(ev);
			assert_int_equal(rec->seq, ev->seq);
			assert_false(rec->damaged);
			if (ev->seq < from)
				fail_msg("poll %d from %llu: event %llu", i,
				    (unsigned long long)from,
				    (unsigned long long)ev->seq);
			from = ev->seq + 1;
			privd__v1__audit_event__free_unpacked(ev, NULL);
		}
		privd__v1__response__free_unpacked(r, NULL);
	}
	h_dealer_close(&d);
}

static void
test_follow_polls_audited_once_a_minute(void **state)
{
	harness *h = *state;
	uint64_t polls[POLLS], polls2[5], ids[64];
	char who[64][65];
	size_t n, k;

	follow(h, "auditor", POLLS, polls);
	follow(h, "auditor2", 5, polls2);

	/* one audit_follow per principal, for one of its polls */
	n = events_of(h, "audit_follow", ids, who, 64);
	if (n != 2)
		fail_msg("%zu audit_follow events for 25 polls by two "
		         "principals within seconds, expected 2",
		    n);
	assert_true((strcmp(who[0], "auditor") == 0 &&
	                strcmp(who[1], "auditor2") == 0) ||
	            (strcmp(who[0], "auditor2") == 0 &&
	                strcmp(who[1], "auditor") == 0));
	/* ...and no poll became an audit_query event */
	n = events_of(h, "audit_query", ids, NULL, 64);
	assert_true(n < 64);
	for (size_t i = 0; i < n; i++) {
		for (k = 0; k < POLLS; k++)
			assert_true(ids[i] != polls[k]);
		for (k = 0; k < 5; k++)
			assert_true(ids[i] != polls2[k]);
	}
}

/* A follow poll with any other criterion is INVALID; from_seq, limit and
 * not_ops are its own. */
static void
test_follow_with_a_criterion_invalid(void **state)
{
	harness *h = *state;
	char *mine[] = {"ping"};
	Privd__V1__AuditQueryRequest q;
	h_dealer d;

	assert_int_equal(h_dealer_open(h, "auditor", NULL, false, &d), 0);
	for (int i = 0; i < 10; i++) {
		Privd__V1__AuditQueryRequest init =
		    PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;
		static const char *const what[] = {"subject", "register",
		    "principal", "since_us", "until_us", "ops", "decision",
		    "newest_first", "to_seq", "request_id"};

		q = init;
		q.follow = true;
		q.from_seq = 1;
		switch (i) {
		case 0:
			q.subject = "someone";
			break;
		case 1:
			q.register_ = "customers";
			break;
		case 2:
			q.principal = "svc";
			break;
		case 3:
			q.since_us = 1;
			break;
		case 4:
			q.until_us = h_clock_us(h);
			break;
		case 5:
			q.n_ops = 1;
			q.ops = mine;
			break;
		case 6:
			q.decision = PRIVD__V1__DECISION__ALLOWED;
			break;
		case 7:
			q.newest_first = true;
			break;
		case 8:
			q.to_seq = 1000;
			break;
		case 9:
			q.request_id = 1;
			break;
		}
		expect_query_status(&d, &q, ST(INVALID), what[i]);
	}
	{
		Privd__V1__AuditQueryRequest init =
		    PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;
		q = init;
	}
	q.follow = true;
	q.from_seq = 1;
	q.limit = 10;
	q.n_not_ops = 1;
	q.not_ops = mine;
	expect_query_status(&d, &q, ST(OK), "follow with limit and not_ops");
	h_dealer_close(&d);
}

static void
test_unknown_op_name_invalid(void **state)
{
	harness *h = *state;
	char *bad[] = {"put", "no_such_op"};
	Privd__V1__AuditQueryRequest q;
	h_dealer d;

	assert_int_equal(h_dealer_open(h, "auditor", NULL, false, &d), 0);
	for (int follow_poll = 0; follow_poll < 2; follow_poll++) {
		Privd__V1__AuditQueryRequest init =
		    PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;

		q = init;
		q.follow = follow_poll;
		q.n_not_ops = 2;
		q.not_ops = bad;
		expect_query_status(
		    &d, &q, ST(INVALID), "unknown op in not_ops");
		if (follow_poll)
			continue;
		q.n_not_ops = 0;
		q.n_ops = 2;
		q.ops = bad;
		expect_query_status(&d, &q, ST(INVALID), "unknown op in ops");
	}
	/* every name the contract lists is known */
	for (size_t i = 0; i < sizeof(known_ops) / sizeof(known_ops[0]); i++) {
		Privd__V1__AuditQueryRequest init =
		    PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;
		char *one[] = {(char *)known_ops[i]};

		q = init;
		q.n_ops = 1;
		q.ops = one;
		expect_query_status(&d, &q, ST(OK), known_ops[i]);
		q.n_ops = 0;
		q.n_not_ops = 1;
		q.not_ops = one;
		expect_query_status(&d, &q, ST(OK), known_ops[i]);
	}
	h_dealer_close(&d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_follow_polls_audited_once_a_minute),
	    cmocka_unit_test(test_follow_with_a_criterion_invalid),
	    cmocka_unit_test(test_unknown_op_name_invalid),
	};

	return cmocka_run_group_tests_name(
	    "integration/follow", tests, setup, h_teardown);
}
