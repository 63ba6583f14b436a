/*
 * test_audit_index.c - daemon/audit_index.c on a real LMDB store: the audit
 * log is written with daemon/audit.c, and the test keeps its own model of
 * what each event names (test_audit_index_model.c). Every walk is compared
 * with a list built from that model, never with another answer of the code
 * under test; the index's raw bytes are compared between two ways of
 * building it that must agree (the writer's items and the log).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_audit_index_model.h"

/* 9. Keys are laid out as audit_index.h says: names of 1 and 64 bytes,
 * the first PSEUDO_KEYBYTES of the pseudonym. */
static void
test_keys(void **state)
{
	uint8_t got[AUDIT_IX_KEYMAX], want[AUDIT_IX_KEYMAX];
	size_t i, n;

	(void)state;
	for (i = 0; i < P_NONE; i++) {
		n = ixt_key_p(want, ixt_princ[i]);
		assert_int_equal(audit_ix_key_principal(got, ixt_princ[i]), n);
		assert_memory_equal(got, want, n);
	}
	assert_int_equal(audit_ix_key_principal(got, "a"), 3);
	assert_int_equal(
	    audit_ix_key_principal(got, ixt_name64), AUDIT_IX_KEYMAX);
	for (i = 0; i < NPSEUDO; i++) {
		n = ixt_key_s(want, ixt_pseudo[i]);
		assert_int_equal(audit_ix_key_subject(got, ixt_pseudo[i]), n);
		assert_memory_equal(got, want, n);
	}
	/* sharing PSEUDO_KEYBYTES bytes is sharing a key; one fewer is not */
	audit_ix_key_subject(got, ixt_pseudo[0]);
	audit_ix_key_subject(want, ixt_pseudo[2]);
	assert_memory_equal(got, want, 1 + PSEUDO_KEYBYTES);
	audit_ix_key_subject(want, ixt_pseudo[1]);
	assert_memory_not_equal(got, want, 1 + PSEUDO_KEYBYTES);
}

#define N1 70000 /* more than one chunk of audit_ix_catch_up */

/*
 * 1. The writer's way (items of committed batches, a flush once 8192 are
 * pending, the rest on an idle flush) and the log's way (the same flushes
 * from the log; audit_ix_catch_up) build the same index: the same bytes
 * where the runs are the same, the same walks where they are not.
 */
static void
test_paths_agree(void **state)
{
	fixture *f = *state;
	uint64_t sizes[32], b;
	size_t nsizes = 0, i;
	seqlist a = {0}, d = {0};
	audit_ix ix;

	ixt_load(f, &ix);
	while (f->n < N1) {
		b = 1 + ixt_draw(f->n, 9) % 600;
		b = f->n + b > N1 ? N1 - f->n : b;
		ixt_append(f, b);
		ixt_feed(f, &ix, f->n - b + 1, f->n);
		if (audit_ix_pending(&ix) >= AUDIT_IX_FLUSH_EVENTS) {
			sizes[nsizes++] = audit_ix_pending(&ix);
			ixt_flush(
			    f, &ix, AUDIT_IX_FLUSH_EVENTS * 4, false, f->n);
		}
	}
	sizes[nsizes++] = audit_ix_pending(&ix);
	ixt_flush(f, &ix, AUDIT_IX_FLUSH_EVENTS * 4, false, N1);
	assert_int_equal(audit_ix_pending(&ix), 0);
	audit_ix_release(&ix);
	assert_true(f->nruns >= 8);
	ixt_check_all(f);
	ixt_dump(f, &a);

	ixt_reset(f);
	for (i = 0; i < nsizes; i++)
		ixt_log_flush(f, sizes[i], f->mark + sizes[i]);
	ixt_dump(f, &d);
	ixt_same_dump(&a, &d);

	/* from nothing: a run of CATCH_UP_RUN and the rest */
	ixt_reset(f);
	ixt_catch_up(f, N1);
	assert_int_equal(f->nruns, 2);
	ixt_check_all(f);
	ixt_dump(f, &a);
	ixt_reset(f);
	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, CATCH_UP_RUN);
	ixt_flush(f, &ix, CATCH_UP_RUN, false, CATCH_UP_RUN);
	ixt_feed(f, &ix, CATCH_UP_RUN + 1, N1);
	ixt_flush(f, &ix, AUDIT_IX_FLUSH_EVENTS * 4, false, N1);
	audit_ix_release(&ix);
	ixt_dump(f, &d);
	ixt_same_dump(&a, &d);

	/* the writer stops (its pending items lost) and privd starts again */
	ixt_reset(f);
	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, 20000);
	ixt_flush(f, &ix, 20000, false, 20000);
	ixt_feed(f, &ix, 20001, 30000);
	audit_ix_release(&ix);
	ixt_catch_up(f, N1 - 20000);
	ixt_check_all(f);
	ixt_dump(f, &a);
	ixt_reset(f);
	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, 20000);
	ixt_flush(f, &ix, 20000, false, 20000);
	audit_ix_release(&ix);
	ixt_log_flush(f, N1, N1);
	ixt_dump(f, &d);
	ixt_same_dump(&a, &d);
	free(a.s);
	free(d.s);
}

/* Walk key over [lo, hi] with a callback that stops after budget seqs. */
static void
check_stop(fixture *f, const uint8_t *key, size_t klen, uint64_t lo,
    uint64_t hi, bool desc, size_t budget, int stop)
{
	sink k = {.budget = budget, .stop = stop};
	seqlist want = {0};
	size_t n;
	int rc;

	rc = ixt_walk(f, NULL, key, klen, lo, hi, desc, &k);
	ixt_expect(f, key, klen, lo, hi, desc, &want);
	n = budget < want.n ? budget : want.n;
	assert_int_equal(rc, budget < want.n ? stop : 0);
	assert_int_equal(k.calls, budget < want.n ? budget + 1 : want.n);
	want.n = n;
	ixt_same_list(&k.l, &want, lo, hi, desc);
	free(k.l.s);
	free(want.s);
}

/* How many of the model's entries under key lie in [lo, hi]. */
static size_t
count(fixture *f, const uint8_t *key, size_t klen, uint64_t lo, uint64_t hi)
{
	seqlist l = {0};
	size_t n;

	ixt_expect(f, key, klen, lo, hi, false, &l);
	n = l.n;
	free(l.s);
	return n;
}

/*
 * 2. Several runs, and events past the mark: walks over ranges that start
 * and end inside runs, on their edges, before the first, past the mark,
 * both ways; callbacks that stop (or fail) at every interesting place.
 */
static void
test_runs_and_ranges(void **state)
{
	static const uint64_t sizes[] = {8192, 8200, 10000, 4100};
	fixture *f = *state;
	uint8_t key[4][AUDIT_IX_KEYMAX];
	size_t klen[4], i, j, d, tot, first, last, budgets[8];
	audit_ix ix;

	ixt_append(f, 31000);
	ixt_load(f, &ix);
	for (i = 0; i < 4; i++) {
		ixt_feed(f, &ix, f->mark + 1, f->mark + sizes[i]);
		ixt_flush(f, &ix, AUDIT_IX_FLUSH_EVENTS * 4, false,
		    f->mark + sizes[i]);
	}
	audit_ix_release(&ix);
	assert_int_equal(f->nruns, 4);
	assert_int_equal(f->runs[3], 26393);
	assert_true(f->mark < f->n);

	klen[0] = ixt_key_p(key[0], "alice");
	klen[1] = ixt_key_s(key[1], ixt_pseudo[0]);
	klen[2] = ixt_key_p(key[2], ixt_name64);
	klen[3] = ixt_key_p(key[3], "zz");
	for (i = 0; i < 4; i++)
		ixt_check_edges(f, key[i], klen[i]);
	ixt_check_all(f);

	for (i = 0; i < 2; i++) {
		tot = count(f, key[i], klen[i], 0, BIG);
		first = count(f, key[i], klen[i], 0, f->runs[1] - 1);
		last = count(f, key[i], klen[i], f->runs[3], BIG);
		budgets[0] = 0;
		budgets[1] = 1;
		budgets[2] = first - 1;
		budgets[3] = first; /* the next is the second run's first */
		budgets[4] = first + 1;
		budgets[5] = tot - 1;
		budgets[6] = tot;
		budgets[7] = tot + 1;
		for (j = 0; j < 8; j++) {
			check_stop(f, key[i], klen[i], 0, BIG, false,
			    budgets[j], AUDIT_IX_STOP);
			check_stop(
			    f, key[i], klen[i], 0, BIG, false, budgets[j], -7);
		}
		for (d = 0; d < 3; d++) {
			check_stop(f, key[i], klen[i], 0, BIG, true,
			    last - 1 + d, AUDIT_IX_STOP);
			check_stop(f, key[i], klen[i], f->runs[1] + 3,
			    f->runs[3] - 3, true, 100 * d, AUDIT_IX_STOP);
			check_stop(f, key[i], klen[i], f->runs[1] + 3,
			    f->runs[3] - 3, false, 100 * d, -7);
		}
	}
}

/*
 * 3. A run shorter than AUDIT_IX_RUN_MIN (an idle flush) is merged into the
 * next flush: one run where there were two, the same bytes as one flush
 * of them all, and the same walks. One of exactly AUDIT_IX_RUN_MIN is kept.
 */
static void
test_short_run_merged(void **state)
{
	fixture *f = *state;
	seqlist a = {0}, b = {0};
	audit_ix ix;
	int i;

	ixt_append(f, 9000);
	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, 100);
	ixt_flush(f, &ix, BIG, false, 100);
	assert_int_equal(f->nruns, 1);
	ixt_feed(f, &ix, 101, 8292);
	ixt_flush(f, &ix, BIG, false, 8292);
	assert_int_equal(f->nruns, 1);
	audit_ix_release(&ix);
	ixt_check_all(f);
	ixt_dump(f, &a);
	ixt_reset(f);
	ixt_log_flush(f, 8292, 8292);
	ixt_dump(f, &b);
	ixt_same_dump(&a, &b);

	/* at the edge: 4095 seqs are merged, 4096 are not */
	ixt_reset(f);
	ixt_log_flush(f, AUDIT_IX_RUN_MIN - 1, AUDIT_IX_RUN_MIN - 1);
	ixt_log_flush(f, 100, AUDIT_IX_RUN_MIN + 99);
	assert_int_equal(f->nruns, 1);
	ixt_check_all(f);
	ixt_reset(f);
	ixt_log_flush(f, AUDIT_IX_RUN_MIN, AUDIT_IX_RUN_MIN);
	ixt_log_flush(f, 100, AUDIT_IX_RUN_MIN + 100);
	assert_int_equal(f->nruns, 2);
	ixt_check_all(f);

	/* many idle flushes, from the items and from the log, make one run */
	ixt_reset(f);
	ixt_load(f, &ix);
	for (i = 0; i < 10; i++) {
		ixt_feed(f, &ix, f->mark + 1, f->mark + 10);
		ixt_flush(f, &ix, BIG, false, f->mark + 10);
	}
	audit_ix_release(&ix);
	ixt_log_flush(f, 50, 150);
	assert_int_equal(f->nruns, 1);
	ixt_check_all(f);
	ixt_dump(f, &a);
	ixt_reset(f);
	ixt_log_flush(f, 150, 150);
	ixt_dump(f, &b);
	ixt_same_dump(&a, &b);

	/* a short run after a long one */
	ixt_reset(f);
	ixt_log_flush(f, 8192, 8192);
	ixt_log_flush(f, 50, 8242);
	ixt_log_flush(f, 50, 8292);
	assert_int_equal(f->nruns, 2);
	ixt_check_all(f);
	ixt_dump(f, &a);
	ixt_reset(f);
	ixt_log_flush(f, 8192, 8192);
	ixt_log_flush(f, 100, 8292);
	ixt_dump(f, &b);
	ixt_same_dump(&a, &b);
	free(a.s);
	free(b.s);
}

/*
 * 4. Gaps: an event the collector did not see (or saw twice, or out of
 * order) sends the next flush to the log; a flush of fewer than pending
 * indexes up to mark + max and the rest next time. Which way a flush read
 * is told by events damaged after the collector saw them: the items index
 * them as what they were, the log as undecodable.
 */
static void
test_gaps(void **state)
{
	fixture *f = *state;
	seqlist a = {0}, b = {0};
	audit_ix ix;

	ixt_append(f, 10);
	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, 10);
	assert_int_equal(ix.since_us, 1); /* the first pending event's */
	assert_false(ix.from_log);
	ixt_append(f, 10);
	ixt_feed(f, &ix, 12, 20); /* 11 went past unseen */
	assert_true(ix.from_log);
	assert_int_equal(audit_ix_pending(&ix), 20);
	ixt_damage(f, 5, false);
	ixt_damage(f, 11, false);
	ixt_flush(f, &ix, BIG, true, 20);
	assert_false(ix.from_log);
	assert_int_equal(ix.n, 0);
	ixt_check_all(f);

	ixt_append(f, 20);
	ixt_feed(f, &ix, 21, 40);
	assert_int_equal(ix.since_us, 21);
	assert_false(ix.from_log);
	ixt_damage(f, 30, false);
	ixt_flush(f, &ix, BIG, false, 40);
	ixt_check_all(f);

	/* the same event twice; one out of order */
	ixt_append(f, 10);
	ixt_feed(f, &ix, 41, 50);
	ixt_feed(f, &ix, 50, 50);
	assert_true(ix.from_log);
	ixt_damage(f, 45, true);
	ixt_flush(f, &ix, BIG, true, 50);
	ixt_append(f, 10);
	ixt_feed(f, &ix, 51, 60);
	ixt_feed(f, &ix, 55, 55);
	assert_true(ix.from_log);
	assert_int_equal(ix.last, 60);
	ixt_flush(f, &ix, BIG, true, 60);
	ixt_check_all(f);

	/* at most max: from the log up to mark + max, the rest from the
	 * items */
	ixt_append(f, 100);
	ixt_feed(f, &ix, 61, 160);
	ixt_flush(f, &ix, 0, false, 60);
	ixt_damage(f, 70, false);
	ixt_damage(f, 120, false);
	ixt_flush(f, &ix, 30, true, 90);
	assert_false(ix.from_log);
	assert_int_equal(audit_ix_pending(&ix), 70);
	ixt_flush(f, &ix, BIG, false, 160);
	assert_int_equal(f->nruns, 1);
	ixt_check_all(f);

	/* the same, the first part long enough to be a run of its own */
	ixt_append(f, 6000);
	ixt_feed(f, &ix, 161, 6160);
	ixt_flush(f, &ix, 5000, true, 5160);
	assert_true(ix.n > 0);
	ixt_flush(f, &ix, BIG, false, 6160);
	assert_int_equal(f->nruns, 2);
	ixt_check_all(f);

	/* the log past what the collector saw: a flush from the log takes
	 * it all, and the collector goes on after it */
	ixt_append(f, 240);
	ixt_feed(f, &ix, 6161, 6170);
	ixt_feed(f, &ix, 6172, 6180);
	ixt_delete_event(f, 6175);
	ixt_flush(f, &ix, BIG, true, 6400);
	assert_int_equal(ix.last, 6400);
	ixt_append(f, 10);
	ixt_feed(f, &ix, 6401, 6410);
	assert_false(ix.from_log);
	ixt_flush(f, &ix, BIG, false, 6410);
	ixt_check_all(f);

	/* nothing pending: nothing written */
	ixt_dump(f, &a);
	ixt_flush(f, &ix, BIG, false, 6410);
	ixt_dump(f, &b);
	ixt_same_dump(&a, &b);

	/* the writer stops with items pending: privd catches up at start */
	ixt_append(f, 20);
	ixt_feed(f, &ix, 6411, 6420);
	ixt_flush(f, &ix, BIG, false, 6420);
	ixt_feed(f, &ix, 6421, 6425);
	audit_ix_release(&ix);
	ixt_catch_up(f, 10);
	ixt_check_all(f);
	free(a.s);
	free(b.s);
}

/*
 * 5. Undecodable events (garbage, or a record shorter than a hash) indexed
 * from the log are listed under 'D' and come back in every walk of their
 * run, in seq order among the key's own; also after a merge.
 */
static void
test_damaged(void **state)
{
	static const uint64_t bad[] = {
	    1, 3, 4096, 8192, 8193, 12000, 16384, 16385, 17000, 19000, 20000};
	static const uint8_t dkey = AUDIT_IX_DAMAGED;
	fixture *f = *state;
	uint8_t key[AUDIT_IX_KEYMAX];
	size_t i;
	keyset ks;

	ixt_append(f, 20000);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ixt_damage(f, bad[i], i % 3 == 2);
	ixt_log_flush(f, 8192, 8192);
	ixt_log_flush(f, 8192, 16384);
	ixt_log_flush(f, 2000, 18384);
	ixt_log_flush(f, 1616, 20000); /* merged: 17000 and 19000 in one run */
	assert_int_equal(f->nruns, 3);
	ixt_check_all(f);
	ixt_check_edges(f, key, ixt_key_p(key, "alice"));
	ixt_check_edges(f, key, ixt_key_p(key, "zz"));
	ixt_check_edges(f, key, ixt_key_s(key, ixt_pseudo[3]));
	ixt_check_postings(f, &dkey, 1);
	ixt_all_keys(&ks);
	for (i = 0; i < ks.n; i++)
		ixt_check_postings(f, ks.k[i], ks.len[i]);

	ixt_reset(f);
	ixt_catch_up(f, 20000);
	ixt_check_all(f);
	ixt_check_postings(f, &dkey, 1);
}

/*
 * 6. audit_ix_prune(upto) deletes the runs whose every seq is at most upto,
 * never the last, and nothing else; walks list the seqs of the runs kept.
 */
static void
prune_to(fixture *f, uint64_t upto, size_t nruns)
{
	seqlist want = {0}, got = {0};
	store_txn *txn;
	uint8_t key[AUDIT_IX_KEYMAX];

	ixt_model_pruned(f, upto);
	assert_int_equal(f->nruns, nruns);
	ixt_dump_from(f, f->runs[0], &want);
	txn = ixt_wbegin(f);
	assert_int_equal(audit_ix_prune(f->st, txn, upto), 0);
	ixt_wcommit(txn);
	ixt_check_runs(f);
	ixt_dump_from(f, 0, &got);
	ixt_same_dump(&got, &want);
	ixt_check_all(f);
	ixt_check_edges(f, key, ixt_key_p(key, "ab"));
	free(want.s);
	free(got.s);
}

static void
test_prune(void **state)
{
	fixture *f = *state;
	store_txn *txn;
	int i;

	txn = ixt_wbegin(f);
	assert_int_equal(audit_ix_prune(f->st, txn, BIG), 0); /* empty */
	ixt_wcommit(txn);
	ixt_append(f, 35768);
	for (i = 0; i < 4; i++)
		ixt_log_flush(f, 8192, f->mark + 8192);
	ixt_log_flush(f, 3000, 35768);
	assert_int_equal(f->nruns, 5);
	prune_to(f, 0, 5);
	prune_to(f, 8191, 5);
	prune_to(f, 8192, 4);
	prune_to(f, 8192, 4);
	prune_to(f, 20000, 3);
	prune_to(f, 24576, 2);
	prune_to(f, 35768, 1);
	prune_to(f, BIG, 1);
	/* the short last run kept is merged into the next flush */
	ixt_append(f, 6000);
	ixt_log_flush(f, 6000, 41768);
	assert_int_equal(f->nruns, 1);
	ixt_check_all(f);
}

/* A flush in a transaction that is aborted; then the real one. */
static void
flush_aborted_then(fixture *f, audit_ix *ix, bool from_log, uint64_t want)
{
	seqlist before = {0}, after = {0};
	store_txn *txn;
	uint64_t upto;
	ix_copy c;

	ixt_dump(f, &before);
	ixt_save(ix, &c);
	txn = ixt_wbegin(f);
	assert_int_equal(audit_ix_flush(f->st, txn, ix, BIG, &upto), 0);
	assert_int_equal(upto, want);
	store_txn_abort(txn);
	ixt_same(ix, &c);
	ixt_dump(f, &after);
	ixt_same_dump(&after, &before);
	ixt_flush(f, ix, BIG, from_log, want);
	free(before.s);
	free(after.s);
}

/*
 * 7. An aborted flush (one that merges a short run, from the items and
 * from the log) leaves the collector as it was; the next one writes what
 * one flush of everything would have.
 */
static void
test_aborted_flush(void **state)
{
	fixture *f = *state;
	seqlist ref = {0}, d = {0};
	audit_ix ix;

	ixt_append(f, 9000);
	ixt_log_flush(f, 5000, 5000);
	ixt_dump(f, &ref);
	ixt_reset(f);

	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, 100);
	ixt_flush(f, &ix, BIG, false, 100);
	ixt_feed(f, &ix, 101, 5000);
	flush_aborted_then(f, &ix, false, 5000);
	audit_ix_release(&ix);
	ixt_dump(f, &d);
	ixt_same_dump(&d, &ref);
	ixt_check_all(f);

	ixt_reset(f);
	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, 100);
	ixt_flush(f, &ix, BIG, false, 100);
	ixt_feed(f, &ix, 101, 200);
	ixt_feed(f, &ix, 202, 5000);
	assert_true(ix.from_log);
	flush_aborted_then(f, &ix, true, 9000);
	audit_ix_release(&ix);
	ixt_check_all(f);
	free(ref.s);
	free(d.s);
}

/*
 * Flushes that write no key: events that name neither a principal nor a
 * subject (from the items), events deleted from the log (from the log).
 * The mark moves on; the run before covers them.
 *
 * With no item and no short run to merge, items is NULL and n is 0:
 * audit_ix_flush must not pass that to qsort (undefined; glibc declares its
 * base nonnull), which the ASan+UBSan build would report and stop at
 * (UBSAN_OPTIONS=halt_on_error=1 in tests/unit/meson.build).
 */
static void
test_no_entries(void **state)
{
	fixture *f = *state;
	audit_ix ix;
	uint64_t s;

	f->gen = ixt_gen_bare;
	ixt_append(f, 50);
	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, 50);
	ixt_flush(f, &ix, BIG, false, 50);
	assert_int_equal(f->nruns, 0);
	ixt_check_all(f);
	f->gen = ixt_gen_mix;
	ixt_append(f, 8192);
	ixt_feed(f, &ix, 51, 8242);
	ixt_flush(f, &ix, BIG, false, 8242);
	f->gen = ixt_gen_bare;
	ixt_append(f, 30);
	for (s = 8243; s <= 8262; s++)
		ixt_delete_event(f, s);
	ix.from_log = true;
	ixt_flush(f, &ix, BIG, true, 8272);
	audit_ix_release(&ix);
	assert_int_equal(f->nruns, 1);
	ixt_check_all(f);
}

/*
 * The entries waiting for a flush are bounded: once AUDIT_IX_MAX_ITEMS
 * wait (flushes keep failing, say on a full disk), the collector lets them
 * go and the next flush reads the log instead. Nothing is lost.
 */
static void
test_pending_bounded(void **state)
{
	fixture *f = *state;
	uint64_t n = AUDIT_IX_MAX_ITEMS + 1000;
	audit_ix ix;

	ixt_append(f, n);
	ixt_load(f, &ix);
	ixt_feed(f, &ix, 1, n);
	assert_true(ix.from_log);
	assert_int_equal(ix.n, 0);
	assert_int_equal(audit_ix_pending(&ix), n);
	ixt_flush(f, &ix, n, true, n);
	assert_false(ix.from_log);
	assert_int_equal(audit_ix_pending(&ix), 0);
	ixt_check_all(f);
	audit_ix_release(&ix);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test_setup_teardown(
	        test_paths_agree, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_runs_and_ranges, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_short_run_merged, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(test_gaps, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_damaged, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_aborted_flush, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_entries, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pending_bounded, ixt_setup, ixt_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	ixt_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
