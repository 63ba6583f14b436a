/*
 * test_audit_damage.c - a damaged event is reported, never dropped: in a
 * large log with stored events overwritten by bytes that do not decode, or
 * cut shorter than a hash, every query whose seq range holds one answers it
 * (flagged damaged, with its seq and its bytes as stored), whatever its
 * other criteria, in every plan (through an index, when the index entry
 * names it); an index entry whose event is gone is skipped. The auditor's
 * verifier (client/auditverify.c) then says "damaged", not "missing".
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditverify.h"
#include "test_audit_fixture.h"

#define ST(x) PRIVD__V1__STATUS__##x

/* Garbage mid-log, on both sides of a time bound of the query table
 * (5003 has the time of 5004, the "time range" query's since), first and
 * last; a record cut short; an event deleted with its index entries kept. */
static const uint64_t garbage[] = {1, 5003, 7001, 12345, AL_EVENTS};
static const uint64_t cut = 20001;
static const uint64_t gone = 15000;

static int
setup(void **state)
{
	al_log *l = al_new(AL_EVENTS);
	size_t i;

	for (i = 0; i < sizeof(garbage) / sizeof(garbage[0]); i++)
		al_damage(l, garbage[i], false);
	al_damage(l, cut, true);
	al_delete(l, gone);
	*state = l;
	return 0;
}

static int
teardown(void **state)
{
	al_log *l = *state;

	al_free(&l);
	return 0;
}

/*
 * 1. Every query of the table, both directions, against the oracle, which
 * wants each damaged event in every answer whose range holds it (through
 * an index, if the index names it) and the gone one in none.
 */
static void
test_every_plan_reports_damage(void **state)
{
	al_log *l = *state;
	al_query d;
	size_t i;

	for (i = 0; i < al_nqueries; i++) {
		al_check(l, &al_queries[i]);
		d = al_queries[i];
		d.newest_first = true;
		al_check(l, &d);
	}
}

/* The records of q's first page (q must fit in one). */
static Privd__V1__Response *
one_page(al_log *l, const al_query *q)
{
	Privd__V1__AuditQueryRequest r;
	Privd__V1__Response *resp;
	const uint8_t *pseudo;

	al_request(l, q, &r, &pseudo);
	resp = al_page(l, &r, pseudo);
	assert_int_equal(resp->status, ST(OK));
	assert_int_equal(resp->audit_query->next_cursor.len, 0);
	return resp;
}

/* Is seq in the answer, and flagged damaged? */
static bool
has_damaged(const Privd__V1__Response *resp, uint64_t seq)
{
	size_t i;

	for (i = 0; i < resp->audit_query->n_records; i++)
		if (resp->audit_query->records[i]->seq == seq) {
			assert_true(resp->audit_query->records[i]->damaged);
			return true;
		}
	return false;
}

/*
 * 2. A damaged record comes as stored: the hash and the bytes after it, or
 * everything in `hash` if the record is shorter than a hash. The neighbours
 * are whole.
 */
static void
test_damaged_record_as_stored(void **state)
{
	al_log *l = *state;
	al_query q = {
	    .subject = AL_NO_SUBJ, .from_seq = 12344, .to_seq = 12346};
	const Privd__V1__AuditRecord *rec;
	Privd__V1__Response *resp;

	resp = one_page(l, &q);
	assert_int_equal(resp->audit_query->n_records, 3);
	rec = resp->audit_query->records[1];
	assert_int_equal(rec->seq, 12345);
	assert_true(rec->damaged);
	assert_int_equal(rec->hash.len, AUDIT_HASHBYTES);
	assert_true(rec->event.len > 0);
	assert_null(privd__v1__audit_event__unpack(
	    NULL, rec->event.len, rec->event.data));
	assert_false(resp->audit_query->records[0]->damaged);
	assert_false(resp->audit_query->records[2]->damaged);
	privd__v1__response__free_unpacked(resp, NULL);

	q.from_seq = q.to_seq = cut;
	resp = one_page(l, &q);
	assert_int_equal(resp->audit_query->n_records, 1);
	rec = resp->audit_query->records[0];
	assert_int_equal(rec->seq, cut);
	assert_true(rec->damaged);
	assert_int_equal(rec->hash.len, 10);
	assert_int_equal(rec->event.len, 0);
	privd__v1__response__free_unpacked(resp, NULL);
}

/*
 * 3. Whatever the other criteria: a query that matches nothing else still
 * answers the damaged event of its range, through the log, the time index,
 * and the subject and principal index entries that name it; a subject or
 * principal whose index does not name it does not get it.
 */
static void
test_damage_whatever_the_criteria(void **state)
{
	al_log *l = *state;
	const al_event *e = &l->ev[12345];
	al_query q = {.subject = AL_NO_SUBJ,
	    .from_seq = 12000,
	    .to_seq = 12999,
	    .ops = {"no_such_op"},
	    .request_id = 999999,
	    .reg = "nowhere",
	    .limit = 1000};
	Privd__V1__Response *resp;
	int other;

	resp = one_page(l, &q);
	assert_int_equal(resp->audit_query->n_records, 1);
	assert_true(has_damaged(resp, 12345));
	privd__v1__response__free_unpacked(resp, NULL);

	q.from_seq = q.to_seq = 0;
	q.since_at = 12300;
	q.until_at = 12400;
	resp = one_page(l, &q);
	assert_int_equal(resp->audit_query->n_records, 1);
	assert_true(has_damaged(resp, 12345));
	privd__v1__response__free_unpacked(resp, NULL);

	/* the event named a subject and a principal when it was whole */
	assert_int_not_equal(e->subject, AL_NO_SUBJ);
	q.subject = e->subject;
	resp = one_page(l, &q);
	assert_int_equal(resp->audit_query->n_records, 1);
	assert_true(has_damaged(resp, 12345));
	privd__v1__response__free_unpacked(resp, NULL);
	other = (e->subject + 1) % AL_SUBJECTS;
	q.subject = other;
	resp = one_page(l, &q);
	assert_false(has_damaged(resp, 12345));
	privd__v1__response__free_unpacked(resp, NULL);

	q.subject = AL_NO_SUBJ;
	q.principal = e->principal;
	resp = one_page(l, &q);
	assert_int_equal(resp->audit_query->n_records, 1);
	assert_true(has_damaged(resp, 12345));
	privd__v1__response__free_unpacked(resp, NULL);
	q.principal = strcmp(e->principal, "bob") == 0 ? "alice" : "bob";
	resp = one_page(l, &q);
	assert_false(has_damaged(resp, 12345));
	privd__v1__response__free_unpacked(resp, NULL);

	/* and never outside its range */
	q = (al_query){.subject = AL_NO_SUBJ,
	    .from_seq = 12346,
	    .to_seq = 12400,
	    .ops = {"no_such_op"}};
	resp = one_page(l, &q);
	assert_int_equal(resp->audit_query->n_records, 0);
	privd__v1__response__free_unpacked(resp, NULL);
}

/* 4. An index entry whose event is gone is skipped, not an error. */
static void
test_gone_event_skipped(void **state)
{
	al_log *l = *state;
	al_query q = {.subject = l->ev[gone].subject,
	    .from_seq = gone - 50,
	    .to_seq = gone + 50,
	    .limit = 1000};
	Privd__V1__Response *resp;
	size_t i;

	assert_int_not_equal(q.subject, AL_NO_SUBJ);
	resp = one_page(l, &q);
	assert_true(resp->audit_query->n_records > 0);
	for (i = 0; i < resp->audit_query->n_records; i++)
		assert_int_not_equal(resp->audit_query->records[i]->seq, gone);
	privd__v1__response__free_unpacked(resp, NULL);
}

/* The stored hash of event seq. */
static void
stored_hash(al_log *l, uint64_t seq, uint8_t hash[AUDIT_HASHBYTES])
{
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	store_txn *txn;

	store_be64(kb, seq);
	assert_int_equal(store_txn_begin(l->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(store_get(txn, STORE_AUDIT, &k, &v), 0);
	assert_true(v.size >= AUDIT_HASHBYTES);
	memcpy(hash, v.data, AUDIT_HASHBYTES);
	store_txn_abort(txn);
}

/*
 * Verify events from..to as privd_audit_verify does, page by page with a
 * seq-range query; skip_damaged drops damaged records first (what the
 * query did before). The verifier's state ends up in *v.
 */
static void
verify(al_log *l, uint64_t from, uint64_t to, bool skip_damaged, av_state *v)
{
	static const uint8_t pk[AV_PKBYTES];
	al_query q = {.subject = AL_NO_SUBJ,
	    .from_seq = from,
	    .to_seq = to,
	    .limit = 1000};
	const Privd__V1__AuditRecord *rec;
	Privd__V1__AuditQueryRequest r;
	Privd__V1__Response *resp;
	uint8_t prev[AUDIT_HASHBYTES], cursor[AUDIT_CURSOR_BYTES];
	const uint8_t *pseudo;
	size_t i;
	bool more;

	stored_hash(l, from - 1, prev);
	av_init(v, from, prev, NULL, 0, pk);
	al_request(l, &q, &r, &pseudo);
	do {
		resp = al_page(l, &r, pseudo);
		assert_int_equal(resp->status, ST(OK));
		for (i = 0; i < resp->audit_query->n_records; i++) {
			rec = resp->audit_query->records[i];
			if (!(skip_damaged && rec->damaged))
				av_record(v, rec->event.data, rec->event.len,
				    rec->hash.data, rec->hash.len, NULL);
		}
		more = resp->audit_query->next_cursor.len != 0;
		if (more) {
			assert_int_equal(
			    resp->audit_query->next_cursor.len, sizeof(cursor));
			memcpy(cursor, resp->audit_query->next_cursor.data,
			    sizeof(cursor));
			r.cursor.data = cursor;
			r.cursor.len = sizeof(cursor);
		}
		privd__v1__response__free_unpacked(resp, NULL);
	} while (more);
	av_finish(v, to);
}

/*
 * 5. The verifier, fed what the query answers, fails at the damaged event
 * and says it does not decode; fed the answer without it (as before),
 * it could only call it missing.
 */
static void
test_verifier_says_damaged(void **state)
{
	al_log *l = *state;
	av_state v;

	verify(l, 12000, 12999, false, &v);
	assert_int_equal(v.bad_seq, 12345);
	assert_non_null(strstr(v.why, "does not decode"));
	assert_null(strstr(v.why, "missing"));

	verify(l, 12000, 12999, true, &v);
	assert_int_equal(v.bad_seq, 12345);
	assert_non_null(strstr(v.why, "missing"));

	/* the whole range around it verifies up to it */
	verify(l, 12000, 12344, false, &v);
	assert_int_equal(v.bad_seq, 0);
	assert_int_equal(v.checked, 345);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_plan_reports_damage),
	    cmocka_unit_test(test_damaged_record_as_stored),
	    cmocka_unit_test(test_damage_whatever_the_criteria),
	    cmocka_unit_test(test_gone_event_skipped),
	    cmocka_unit_test(test_verifier_says_damaged),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
