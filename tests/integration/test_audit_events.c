/*
 * test_audit_events.c - the audit log end to end, as it records and
 * answers: every request is exactly one event with the right fields;
 * queries by subject, register, principal, operation, decision, time and
 * seq, paged in both directions; only auditors read the log.
 *
 * Each test has its own privd with the audit tests' policy
 * (audit_common.h).
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit_common.h"
#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

/* Wall-clock microseconds, as privd stamps events. */
static uint64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
dump(const evlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		fprintf(stderr, "  %s\n", ev_str(l->ev[i]));
}

/*
 * The events after *mark: the auditor's previous query (the one that
 * moved the mark), then want - 1 others, with consecutive seqs. Moves the
 * mark to the last one.
 */
static void
after_mark(privd_client *a, uint64_t *mark, size_t want, evlist *l)
{
	privd_audit_filter f = {0};
	size_t i;

	f.from_seq = *mark + 1;
	collect(a, &f, l);
	if (l->n != want) {
		dump(l);
		fail_msg("%zu events after #%llu, expected %zu", l->n,
		    (unsigned long long)*mark, want);
	}
	for (i = 0; i < l->n; i++)
		assert_int_equal(l->ev[i]->seq, *mark + 1 + i);
	expect_event(l->ev[0], "auditor", "audit_query", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_false(l->ev[0]->has_subject);
	assert_true(l->ev[0]->request_id != 0);
	*mark = l->ev[l->n - 1]->seq;
}

/* ---- every operation is one event ------------------------------------ */

static void
test_every_operation_is_one_event(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_client *admin = client(h, "admin");
	privd_field two[] = {
	    h_field("name", "Ann Example"), h_field("email", "ann@example.fi")};
	const char *const name_notes[] = {"name", "notes"};
	const char *const email[] = {"email"};
	static const char garbage[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	                              "\xff\xff\xff";
	const void *parts[] = {garbage};
	size_t lens[] = {sizeof(garbage) - 1}, nframes, rlen;
	Privd__V1__Response *resp;
	privd_policy_version pv;
	privd_record *rec = NULL;
	uint8_t pseudo[32], *reply;
	privd_audit_filter f = {0};
	h_dealer d;
	uint64_t mark = 0, rid;
	evlist l;

	/* everything so far (the harness's pings): the mark is the head */
	collect(a, NULL, &l);
	assert_true(l.n >= 1);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.ev[i]->seq, i + 1);
		assert_string_equal(l.ev[i]->op, "ping");
	}
	mark = l.ev[l.n - 1]->seq;
	evlist_free(&l);

	expect_rc(svc, privd_ping(svc, NULL), PRIVD_OK, "ping");
	rid = privd_last_request_id(svc);
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "ping", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_false(l.ev[1]->has_subject);
	assert_true(rid != 0);
	assert_int_equal(l.ev[1]->request_id, rid);
	evlist_free(&l);

	expect_rc(
	    svc, privd_put(svc, CUST, "c-1", INV, two, 2), PRIVD_OK, "put");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "put", CUST, INV,
	    (const char *[]){"name", "email", NULL}, PRIVD_DECISION_ALLOWED,
	    S_OK, 0);
	assert_true(l.ev[1]->has_subject);
	memcpy(pseudo, l.ev[1]->subject, sizeof(pseudo));
	assert_int_equal(l.ev[1]->request_id, privd_last_request_id(svc));
	evlist_free(&l);

	/* a get records the fields returned: notes is not stored */
	expect_rc(svc, privd_get(svc, CUST, "c-1", INV, name_notes, 2, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "get", CUST, INV,
	    (const char *[]){"name", NULL}, PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_true(l.ev[1]->has_subject);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	assert_int_equal(l.ev[1]->request_id, privd_last_request_id(svc));
	evlist_free(&l);

	/* get-all: every stored field, in privd's order */
	expect_rc(svc, privd_get(svc, CUST, "c-1", INV, NULL, 0, &rec),
	    PRIVD_OK, "get all");
	assert_int_equal(rec->nfields, 2);
	privd_record_free(&rec);
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "get", CUST, INV,
	    (const char *[]){"email", "name", NULL}, PRIVD_DECISION_ALLOWED,
	    S_OK, 0);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	evlist_free(&l);

	expect_rc(svc, privd_delete(svc, CUST, "c-1", INV, email, 1, NULL),
	    PRIVD_OK, "delete field");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "delete", CUST, INV,
	    (const char *[]){"email", NULL}, PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	evlist_free(&l);

	expect_rc(svc, privd_delete(svc, CUST, "c-1", INV, NULL, 0, NULL),
	    PRIVD_OK, "delete subject");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "delete", CUST, INV, NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	evlist_free(&l);

	/* denials: a purpose the register does not declare, and no grant */
	expect_rc(svc, privd_get(svc, CUST, "c-1", MKT, NULL, 0, &rec),
	    PRIVD_EDENIED, "get for an undeclared purpose");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "get", CUST, "", NULL,
	    PRIVD_DECISION_REFUSED, S_DENIED, R_UNKNOWN_PURPOSE);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	assert_int_equal(l.ev[1]->request_id, privd_last_request_id(svc));
	evlist_free(&l);

	expect_rc(admin, privd_get(admin, CUST, "c-1", INV, NULL, 0, &rec),
	    PRIVD_EDENIED, "get by admin");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "admin", "get", CUST, INV, NULL,
	    PRIVD_DECISION_REFUSED, S_DENIED, R_NO_GRANT);
	evlist_free(&l);

	/* garbage from an authenticated principal: rejected, op invalid */
	assert_int_equal(h_dealer_open(h, "svc", NULL, false, &d), 0);
	assert_int_equal(h_dealer_send(&d, parts, lens, 1), 0);
	assert_int_equal(h_dealer_recv(&d, 5000, &reply, &rlen, &nframes), 0);
	resp = privd__v1__response__unpack(NULL, rlen, reply);
	assert_non_null(resp);
	assert_int_equal(resp->status, PRIVD__V1__STATUS__INVALID);
	privd__v1__response__free_unpacked(resp, NULL);
	free(reply);
	h_dealer_close(&d);
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "invalid", "", "", NULL,
	    PRIVD_DECISION_REJECTED, S_INVALID, 0);
	assert_false(l.ev[1]->has_subject);
	evlist_free(&l);

	/* a subject that does not exist: allowed, not found */
	expect_rc(svc, privd_get(svc, CUST, "c-404", INV, NULL, 0, &rec),
	    PRIVD_ENOTFOUND, "get missing");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "get", CUST, INV, NULL,
	    PRIVD_DECISION_ALLOWED, S_NOT_FOUND, 0);
	assert_true(l.ev[1]->has_subject);
	assert_memory_not_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	evlist_free(&l);

	expect_rc(
	    admin, privd_policy_get(admin, &pv, NULL), PRIVD_OK, "policy get");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "admin", "policy_get", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_int_equal(l.ev[1]->request_id, privd_last_request_id(admin));
	evlist_free(&l);

	/* an audit query by subject names the subject's pseudonym and the
	 * register; the next query sees it */
	f.subject = "c-1";
	f.reg = CUST;
	collect(a, &f, &l);
	assert_int_equal(l.n, 7); /* put, 2 gets, 2 deletes, 2 denials */
	rid = privd_last_request_id(a);
	evlist_free(&l);
	memset(&f, 0, sizeof(f));
	f.from_seq = mark + 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0]->seq, mark + 1);
	assert_int_equal(l.ev[1]->seq, mark + 2);
	expect_event(l.ev[1], "auditor", "audit_query", CUST, "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_true(l.ev[1]->has_subject);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	assert_int_equal(l.ev[1]->request_id, rid);
	evlist_free(&l);

	privd_close(&admin);
	privd_close(&a);
	privd_close(&svc);
}

/* ---- queries ---------------------------------------------------------- */

static void
expect_seqs_ordered(const evlist *l, int newest_first)
{
	size_t i;

	for (i = 1; i < l->n; i++)
		if (newest_first ? l->ev[i]->seq >= l->ev[i - 1]->seq
		                 : l->ev[i]->seq <= l->ev[i - 1]->seq)
			fail_msg("events out of order at %zu: #%llu after "
			         "#%llu",
			    i, (unsigned long long)l->ev[i]->seq,
			    (unsigned long long)l->ev[i - 1]->seq);
}

static void
test_query_criteria(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_client *admin = client(h, "admin");
	privd_audit_filter f = {0};
	const char *const put_del[] = {"put", "delete"};
	const char *const del[] = {"delete"};
	privd_policy_version pv;
	privd_record *rec = NULL;
	uint8_t alice[32];
	uint64_t t1, t2;
	evlist l, r;
	size_t i;

	/* alice in both registers, bob in one */
	put1(svc, CUST, "alice", INV, "name", "Alice A");
	put1(svc, NEWS, "alice", MKT, "topic", "running");
	put1(svc, CUST, "bob", INV, "name", "Bob B");
	expect_rc(svc, privd_get(svc, CUST, "alice", INV, NULL, 0, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	expect_rc(svc, privd_get(svc, NEWS, "alice", MKT, NULL, 0, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	expect_rc(svc, privd_get(svc, CUST, "bob", INV, NULL, 0, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	expect_rc(svc,
	    privd_delete(svc, NEWS, "alice", MKT,
	        (const char *const[]){"topic"}, 1, NULL),
	    PRIVD_OK, "delete");
	expect_rc(svc, privd_get(svc, CUST, "alice", MKT, NULL, 0, &rec),
	    PRIVD_EDENIED, "denied get");
	expect_rc(admin, privd_policy_get(admin, &pv, NULL), PRIVD_OK, "pg");
	expect_rc(admin, privd_get(admin, CUST, "bob", INV, NULL, 0, &rec),
	    PRIVD_EDENIED, "admin get");

	/* by subject: alice's 6 events in both registers, nothing of bob's */
	f.subject = "alice";
	collect(a, &f, &l);
	if (l.n != 6) {
		dump(&l);
		fail_msg("%zu events of alice, expected 6", l.n);
	}
	expect_seqs_ordered(&l, 0);
	memcpy(alice, l.ev[0]->subject, sizeof(alice));
	for (i = 0; i < l.n; i++) {
		assert_true(l.ev[i]->has_subject);
		assert_memory_equal(l.ev[i]->subject, alice, sizeof(alice));
		assert_string_equal(l.ev[i]->principal, "svc");
	}
	assert_string_equal(l.ev[0]->reg, CUST);
	assert_string_equal(l.ev[1]->reg, NEWS); /* same pseudonym */
	assert_string_equal(l.ev[5]->op, "get");
	assert_int_equal(l.ev[5]->decision, PRIVD_DECISION_REFUSED);

	/* newest first: the same events backwards, after the query just
	 * made, which names alice too */
	f.newest_first = 1;
	collect(a, &f, &r);
	assert_int_equal(r.n, l.n + 1);
	expect_event(r.ev[0], "auditor", "audit_query", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_memory_equal(r.ev[0]->subject, alice, sizeof(alice));
	for (i = 0; i < l.n; i++)
		assert_int_equal(r.ev[i + 1]->seq, l.ev[l.n - 1 - i]->seq);
	evlist_free(&r);
	evlist_free(&l);

	/* --register narrows: put, get and delete in the newsletter */
	f.newest_first = 0;
	f.reg = NEWS;
	collect(a, &f, &l);
	assert_int_equal(l.n, 3);
	for (i = 0; i < l.n; i++) {
		assert_string_equal(l.ev[i]->reg, NEWS);
		assert_memory_equal(l.ev[i]->subject, alice, sizeof(alice));
	}
	assert_string_equal(l.ev[0]->op, "put");
	assert_string_equal(l.ev[1]->op, "get");
	assert_string_equal(l.ev[2]->op, "delete");
	evlist_free(&l);

	/* bob: his own events only */
	memset(&f, 0, sizeof(f));
	f.subject = "bob";
	collect(a, &f, &l);
	assert_int_equal(l.n, 3); /* put, get, admin's denied get */
	for (i = 0; i < l.n; i++)
		assert_memory_not_equal(l.ev[i]->subject, alice, sizeof(alice));
	evlist_free(&l);

	/* by principal */
	memset(&f, 0, sizeof(f));
	f.principal = "admin";
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ev[0]->op, "policy_get");
	assert_string_equal(l.ev[1]->op, "get");
	evlist_free(&l);

	/* by operation, one or several */
	memset(&f, 0, sizeof(f));
	f.ops = del;
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0]->op, "delete");
	evlist_free(&l);
	f.ops = put_del;
	f.nops = 2;
	collect(a, &f, &l);
	assert_int_equal(l.n, 4);
	for (i = 0; i < l.n; i++)
		assert_true(strcmp(l.ev[i]->op, "put") == 0 ||
		            strcmp(l.ev[i]->op, "delete") == 0);
	evlist_free(&l);

	/* by decision: the two refusals */
	memset(&f, 0, sizeof(f));
	f.decision = PRIVD_DECISION_REFUSED;
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ev[0]->principal, "svc");
	assert_int_equal(l.ev[0]->reason, R_UNKNOWN_PURPOSE);
	assert_string_equal(l.ev[1]->principal, "admin");
	assert_int_equal(l.ev[1]->reason, R_NO_GRANT);
	for (i = 0; i < l.n; i++) {
		assert_int_equal(l.ev[i]->decision, PRIVD_DECISION_REFUSED);
		assert_int_equal(l.ev[i]->status, S_DENIED);
	}
	evlist_free(&l);

	/* a time range around three puts, with sleeps either side */
	h_sleep_ms(20);
	t1 = wall_us();
	h_sleep_ms(20);
	put1(svc, CUST, "carol", INV, "name", "Carol C");
	put1(svc, CUST, "dave", INV, "name", "Dave D");
	put1(svc, CUST, "erin", INV, "name", "Erin E");
	h_sleep_ms(20);
	t2 = wall_us();
	h_sleep_ms(20);
	memset(&f, 0, sizeof(f));
	f.since_us = t1;
	f.until_us = t2;
	collect(a, &f, &l);
	if (l.n != 3) {
		dump(&l);
		fail_msg("%zu events in the time range, expected 3", l.n);
	}
	for (i = 0; i < l.n; i++) {
		assert_string_equal(l.ev[i]->op, "put");
		assert_true(l.ev[i]->time_us >= t1 && l.ev[i]->time_us < t2);
	}
	expect_seqs_ordered(&l, 0);
	evlist_free(&l);
	f.newest_first = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 3);
	expect_seqs_ordered(&l, 1);
	evlist_free(&l);
	/* since alone, with a principal: the same three */
	memset(&f, 0, sizeof(f));
	f.since_us = t1;
	f.principal = "svc";
	collect(a, &f, &l);
	assert_int_equal(l.n, 3);
	evlist_free(&l);
	/* until alone: the puts before t1 */
	memset(&f, 0, sizeof(f));
	f.until_us = t1;
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 3); /* alice twice, bob */
	evlist_free(&l);

	privd_close(&admin);
	privd_close(&a);
	privd_close(&svc);
}

/* ---- paging ------------------------------------------------------------- */

#define NPAGED 250

/* Page through f with limit 7 in both directions: every one of want
 * exactly once, in order. */
static void
expect_paged(
    privd_client *a, privd_audit_filter f, const uint64_t *want, size_t n)
{
	evlist l;
	size_t i;

	f.limit = 7;
	f.newest_first = 0;
	collect(a, &f, &l);
	if (l.n != n) {
		fail_msg("%zu events paged oldest first, expected %zu", l.n, n);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(l.ev[i]->seq, want[i]);
	assert_true(l.npagesread >= n / 7);
	evlist_free(&l);

	f.newest_first = 1;
	collect(a, &f, &l);
	if (l.n != n)
		fail_msg("%zu events paged newest first, expected %zu", l.n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(l.ev[i]->seq, want[n - 1 - i]);
	evlist_free(&l);
}

static void
test_paging_returns_every_event_once(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f = {0};
	uint64_t seqs[NPAGED], t0, t1;
	char subj[32];
	evlist l;
	size_t i;

	t0 = wall_us();
	for (i = 0; i < NPAGED; i++) {
		snprintf(subj, sizeof(subj), "p-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Page Person");
	}
	t1 = wall_us() + 1;
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	f.limit = 1000;
	collect(a, &f, &l);
	assert_int_equal(l.n, NPAGED);
	for (i = 0; i < NPAGED; i++)
		seqs[i] = l.ev[i]->seq;
	/* nothing else happened meanwhile: consecutive */
	assert_int_equal(seqs[NPAGED - 1] - seqs[0], NPAGED - 1);
	evlist_free(&l);

	/* through the principal index */
	memset(&f, 0, sizeof(f));
	f.principal = "svc";
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	expect_paged(a, f, seqs, NPAGED);
	/* through the log itself, by seq range */
	memset(&f, 0, sizeof(f));
	f.from_seq = seqs[0];
	f.to_seq = seqs[NPAGED - 1];
	expect_paged(a, f, seqs, NPAGED);
	/* through the time index */
	memset(&f, 0, sizeof(f));
	f.since_us = t0;
	f.until_us = t1;
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	expect_paged(a, f, seqs, NPAGED);

	/* a cursor from another query is refused, not misread */
	{
		privd_audit_page *pg = NULL;
		static const uint8_t junk[3] = {1, 2, 3};

		expect_rc(a, privd_audit_query(a, NULL, junk, 3, &pg),
		    PRIVD_EINVAL, "bad cursor");
		assert_null(pg);
	}
	privd_close(&a);
	privd_close(&svc);
}

/* ---- roles -----------------------------------------------------------------
 */

static void
test_only_auditors_read_the_log(void **state)
{
	harness *h = *state;
	const char *names[] = {"svc", "admin"};
	privd_client *c, *a = client(h, "auditor");
	privd_audit_checkpoint *ck = NULL;
	privd_audit_page *pg = NULL;
	privd_record *rec = NULL;
	uint8_t pk[32];
	size_t i, n;

	for (i = 0; i < 2; i++) {
		c = client(h, names[i]);
		expect_denied(c, privd_audit_query(c, NULL, NULL, 0, &pg),
		    R_ROLE_REQUIRED, "query");
		assert_null(pg);
		expect_denied(
		    c, privd_audit_pubkey(c, pk), R_ROLE_REQUIRED, "pubkey");
		expect_denied(c,
		    privd_audit_checkpoints(
		        c, 0, 0, &ck, &n, NULL, NULL, NULL, NULL),
		    R_ROLE_REQUIRED, "checkpoints");
		assert_null(ck);
		expect_denied(c,
		    privd_audit_verify(c, 0, 0, NULL, NULL, NULL, 0, NULL),
		    R_ROLE_REQUIRED, "verify");
		privd_close(&c);
	}
	put1(c = client(h, "svc"), CUST, "c-9", INV, "name", "Role Test");
	privd_close(&c);
	/* the auditor reads the log, never the data */
	expect_rc(a, privd_get(a, CUST, "c-9", INV, NULL, 0, &rec),
	    PRIVD_EDENIED, "auditor get");
	assert_null(rec);
	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "auditor pubkey");
	privd_close(&a);
}

/* A time bound and a seq bound together: every criterion holds (the time
 * index walk must skip, not stop at, events before the seq bound). */
static void
test_time_and_seq_bounds_combine(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f;
	evlist l;
	size_t i;
	int k;

	for (k = 0; k < 12; k++)
		expect_rc(svc, privd_ping(svc, NULL), PRIVD_OK, "ping");
	memset(&f, 0, sizeof(f));
	f.since_us = 1;
	f.from_seq = 5;
	f.to_seq = 10;
	collect(a, &f, &l);
	assert_int_equal(l.n, 6);
	for (i = 0; i < l.n; i++)
		assert_int_equal(l.ev[i]->seq, 5 + i);
	evlist_free(&l);

	memset(&f, 0, sizeof(f));
	f.until_us = wall_us() + 3600ull * 1000000;
	f.from_seq = 3;
	f.to_seq = 4;
	f.newest_first = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0]->seq, 4);
	assert_int_equal(l.ev[1]->seq, 3);
	evlist_free(&l);
	privd_close(&a);
	privd_close(&svc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_every_operation_is_one_event, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_query_criteria, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_paging_returns_every_event_once, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_only_auditors_read_the_log, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_time_and_seq_bounds_combine, setup, h_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name(
	    "integration/audit_events", tests, NULL, NULL);
}
