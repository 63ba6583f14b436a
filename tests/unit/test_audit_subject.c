/*
 * test_audit_subject.c - audit_subject_walk (daemon/audit_subject.c), the
 * walk of a subject export: in a large log indexed up to a mark and not
 * past it (test_audit_fixture.c), it visits exactly the events of the
 * pseudonym, in seq order, through the index and the log past the mark;
 * a damaged event it examines (named by the subject's index entries, or
 * past the mark) is handed on undecoded, never dropped; an event deleted
 * with its index entry kept is skipped; the caller can stop the walk, and
 * its error ends it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_audit_fixture.h"

/* What a walk gave: seqs in order, and whether each came undecoded. */
typedef struct seen {
	uint64_t *seqs;
	bool *damaged;
	size_t n, stop_at;
	int fail; /* returned at stop_at, if not 0 */
	const uint8_t *pseudo;
} seen;

static int
visit(void *arg, uint64_t seq, const Privd__V1__AuditEvent *ev)
{
	seen *s = arg;

	if (ev != NULL) {
		assert_int_equal(ev->subject.len, CRYPTO_PSEUDONYMBYTES);
		assert_memory_equal(
		    ev->subject.data, s->pseudo, CRYPTO_PSEUDONYMBYTES);
		assert_int_equal(ev->seq, seq);
	}
	s->seqs[s->n] = seq;
	s->damaged[s->n] = ev == NULL;
	s->n++;
	if (s->stop_at != 0 && s->n == s->stop_at)
		return s->fail != 0 ? s->fail : AUDIT_SUBJECT_STOP;
	return 0;
}

static void
walk(al_log *l, int subject, seen *s, size_t stop_at, int fail, int want)
{
	store_txn *txn;

	memset(s, 0, sizeof(*s));
	assert_non_null(s->seqs = calloc(l->n + 1, sizeof(*s->seqs)));
	assert_non_null(s->damaged = calloc(l->n + 1, sizeof(*s->damaged)));
	s->stop_at = stop_at;
	s->fail = fail;
	s->pseudo = al_pseudo[subject];
	assert_int_equal(store_txn_begin(l->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(
	    audit_subject_walk(l->st, txn, al_pseudo[subject], visit, s), want);
	store_txn_abort(txn);
}

static void
seen_free(seen *s)
{
	free(s->seqs);
	free(s->damaged);
}

/* The oracle: what the walk of subject must visit, in seq order. An event
 * up to the mark is examined if the index lists it under the subject, one
 * past the mark always; a damaged one examined is visited undecoded. */
static size_t
expect(const al_log *l, int subject, uint64_t *seqs, bool *damaged)
{
	const al_event *e;
	size_t n = 0;
	uint64_t s;

	for (s = 1; s <= l->n; s++) {
		e = &l->ev[s];
		if (e->gone || (s <= l->mark && e->subject != subject))
			continue;
		if (!e->damaged && e->subject != subject)
			continue;
		seqs[n] = s;
		damaged[n++] = e->damaged;
	}
	return n;
}

static void
check_subjects(al_log *l)
{
	uint64_t *want = calloc(l->n + 1, sizeof(*want));
	bool *dam = calloc(l->n + 1, sizeof(*dam));
	size_t n, i;
	int subj;
	seen s;

	assert_non_null(want);
	assert_non_null(dam);
	for (subj = 0; subj < AL_SUBJECTS; subj++) {
		n = expect(l, subj, want, dam);
		assert_true(n > 0);
		walk(l, subj, &s, 0, 0, 0);
		if (s.n != n)
			fail_msg("subject %d: %zu events visited, expected %zu",
			    subj, s.n, n);
		for (i = 0; i < n; i++) {
			assert_int_equal(s.seqs[i], want[i]);
			assert_int_equal(s.damaged[i], dam[i]);
		}
		seen_free(&s);
	}
	free(want);
	free(dam);
}

/* Every subject's events, exactly, through the index and past it. */
static void
test_walk_exact(void **state)
{
	al_log *l = al_new(AL_EVENTS);

	(void)state;
	assert_true(l->mark > 0 && l->mark < l->n);
	check_subjects(l);
	al_free(&l);
}

/* Damaged events (of a subject, under the mark; any, past it) are handed
 * on undecoded; a deleted one is skipped. */
static void
test_walk_damaged(void **state)
{
	al_log *l = al_new(AL_EVENTS);
	uint64_t s, d = 0;

	(void)state;
	/* one damaged event of each subject under the mark, then two past
	 * it, a short record among them; one deleted of each subject */
	for (s = 1; s <= l->mark && d < AL_SUBJECTS; s++)
		if (l->ev[s].subject == (int)d) {
			al_damage(l, s, d == 1);
			d++;
		}
	al_damage(l, l->mark + 3, false);
	al_damage(l, l->n, true);
	for (d = 0, s = 100; s <= l->n && d < AL_SUBJECTS; s++)
		if (l->ev[s].subject == (int)d && !l->ev[s].damaged) {
			al_delete(l, s);
			d++;
		}
	check_subjects(l);
	al_free(&l);
}

/* The caller stops the walk (0), or ends it with its error. */
static void
test_walk_stop(void **state)
{
	al_log *l = al_new(AL_EVENTS);
	seen s;

	(void)state;
	walk(l, 0, &s, 5, 0, 0);
	assert_int_equal(s.n, 5);
	seen_free(&s);
	walk(l, 1, &s, 3, 42, 42);
	assert_int_equal(s.n, 3);
	seen_free(&s);
	/* past the mark too */
	walk(l, 2, &s, 0, 0, 0);
	assert_true(s.seqs[s.n - 1] > l->mark);
	seen_free(&s);
	al_free(&l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_walk_exact),
	    cmocka_unit_test(test_walk_damaged),
	    cmocka_unit_test(test_walk_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
