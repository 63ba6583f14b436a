/*
 * test_audit_index_bad.c - daemon/audit_index.c on data privd does not
 * write (malformed postings, keys of the wrong length or past the mark)
 * and when memory runs out: errors, never a crash or wrong seqs. The log
 * and the model are test_audit_index_model.c's.
 *
 * Linked with -Wl,--wrap=malloc,--wrap=realloc: while `oom` is set, every
 * allocation of the daemon's code (and of this test's) fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "test_audit_index_model.h"

void *__real_malloc(size_t n);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_realloc(void *p, size_t n);

static bool oom;

void *
__wrap_malloc(size_t n)
{
	return oom ? NULL : __real_malloc(n);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return oom ? NULL : __real_realloc(p, n);
}

/* Runs at 1, 8193 and 16385 (short: the next flush merges it), and 100
 * events past the mark. */
static void
three_runs(fixture *f)
{
	ixt_append(f, 20100);
	ixt_log_flush(f, 8192, 8192);
	ixt_log_flush(f, 8192, 16384);
	ixt_log_flush(f, 3616, 20000);
	assert_int_equal(f->nruns, 3);
}

/* Walks of key through run 8193 (which holds bad postings) fail with
 * STORE_CORRUPTED; those that do not reach it are right. The transaction
 * ends before the verdict, so that a failure leaves nothing open. */
static void
bad_postings(fixture *f, const uint8_t *at, size_t atlen, const uint8_t *val,
    size_t vlen)
{
	store_txn *txn = ixt_wbegin(f);
	uint8_t key[AUDIT_IX_KEYMAX];
	size_t klen = ixt_key_p(key, "alice");
	sink k = {.budget = SIZE_MAX};
	int rc[3];

	ixt_put_raw(f, txn, 8193, at, atlen, val, vlen);
	rc[0] = ixt_walk(f, txn, key, klen, 0, BIG, false, &k);
	rc[1] = ixt_walk(f, txn, key, klen, 0, BIG, true, &k);
	rc[2] = ixt_walk(f, txn, key, klen, 8200, 9000, true, &k);
	ixt_check_in(f, txn, key, klen, 1, 8192, false);
	ixt_check_in(f, txn, key, klen, 16385, BIG, true);
	store_txn_abort(txn);
	free(k.l.s);
	assert_int_equal(rc[0], STORE_CORRUPTED);
	assert_int_equal(rc[1], STORE_CORRUPTED);
	assert_int_equal(rc[2], STORE_CORRUPTED);
}

/* A flush from the log in txn, merging the short last run. */
static int
flush_in(fixture *f, store_txn *txn)
{
	audit_ix ix;
	uint64_t upto;
	int rc;

	assert_int_equal(audit_ix_load(f->st, txn, &ix), 0);
	ix.from_log = true;
	rc = audit_ix_flush(f->st, txn, &ix, BIG, &upto);
	audit_ix_release(&ix);
	return rc;
}

/*
 * 8. Malformed postings (a truncated varint, a zero delta, a varint too
 * long, one past 2^64) and keys privd does not write (shorter than 9
 * bytes, longer than a key, past the mark): walks, flushes and prunes that
 * meet them return STORE_CORRUPTED, and neither crash nor list wrong seqs.
 */
static void
test_malformed(void **state)
{
	static const uint8_t trunc[] = {0x81}, trunc2[] = {0x05, 0x03, 0x80},
	                     zero[] = {0x05, 0x00},
	                     longer[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	                         0x80, 0x80, 0x80, 0x80, 0x01},
	                     wraps[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                         0xff, 0xff, 0xff, 0x01},
	                     first0[] = {0x00, 0x02};
	static const uint8_t dkey = AUDIT_IX_DAMAGED;
	uint8_t key[AUDIT_IX_KEYMAX], kb[8], big[8 + 3 + POL_MAX_NAME];
	fixture *f = *state;
	size_t klen = ixt_key_p(key, "alice");
	sink k = {.budget = SIZE_MAX};
	store_txn *txn;

	three_runs(f);

	bad_postings(f, key, klen, trunc, sizeof(trunc));
	bad_postings(f, key, klen, trunc2, sizeof(trunc2));
	bad_postings(f, key, klen, zero, sizeof(zero));
	bad_postings(f, key, klen, longer, sizeof(longer));
	bad_postings(f, key, klen, wraps, sizeof(wraps));
	bad_postings(f, &dkey, 1, trunc, sizeof(trunc));

	/* a first delta of 0 is the run's first seq */
	txn = ixt_wbegin(f);
	ixt_put_raw(f, txn, 8193, key, klen, first0, sizeof(first0));
	assert_int_equal(
	    ixt_walk(f, txn, key, klen, 8193, 16384, false, &k), 0);
	assert_int_equal(k.l.n, 2);
	assert_int_equal(k.l.s[0], 8193);
	assert_int_equal(k.l.s[1], 8195);
	store_txn_abort(txn);

	/* an 8-byte key inside the first run: met going up and down */
	txn = ixt_wbegin(f);
	store_be64(kb, 100);
	ixt_put_short(f, txn, kb, 8);
	assert_int_equal(
	    ixt_walk(f, txn, key, klen, 0, BIG, false, &k), STORE_CORRUPTED);
	assert_int_equal(
	    ixt_walk(f, txn, key, klen, 0, BIG, true, &k), STORE_CORRUPTED);
	ixt_check_in(f, txn, key, klen, 1, 50, true);
	ixt_check_in(f, txn, key, klen, 8193, BIG, false);
	assert_int_equal(audit_ix_prune(f->st, txn, 8192), STORE_CORRUPTED);
	store_txn_abort(txn);

	/* a 7-byte key between the first run and the second */
	txn = ixt_wbegin(f);
	store_be64(kb, 0x2000);
	ixt_put_short(f, txn, kb, 7);
	assert_int_equal(
	    ixt_walk(f, txn, key, klen, 0, BIG, false, &k), STORE_CORRUPTED);
	store_txn_abort(txn);

	/* the last key short, or past the mark: the flush refuses */
	txn = ixt_wbegin(f);
	store_be64(kb, BIG);
	ixt_put_short(f, txn, kb, 8);
	assert_int_equal(flush_in(f, txn), STORE_CORRUPTED);
	store_txn_abort(txn);
	txn = ixt_wbegin(f);
	ixt_put_raw(f, txn, 20050, &dkey, 1, first0, 1);
	assert_int_equal(flush_in(f, txn), STORE_CORRUPTED);
	store_txn_abort(txn);

	/* the short last run, merged, holds a bad value or a long key */
	txn = ixt_wbegin(f);
	ixt_put_raw(f, txn, 16385, key, klen, trunc, sizeof(trunc));
	assert_int_equal(flush_in(f, txn), STORE_CORRUPTED);
	store_txn_abort(txn);
	txn = ixt_wbegin(f);
	memset(big, 'x', sizeof(big));
	store_be64(big, 16385);
	big[8] = 'P';
	big[9] = POL_MAX_NAME + 1;
	ixt_put_short(f, txn, big, sizeof(big));
	assert_int_equal(flush_in(f, txn), STORE_CORRUPTED);
	store_txn_abort(txn);

	/* nothing of it stayed */
	ixt_check_all(f);
	free(k.l.s);
}

/*
 * The 10th byte of a varint holds bit 63 only; a 10th byte above 1 is a
 * value past 2^64. Dropping its high bits would decode {0x80 x 9, 0x02} as
 * 0, which a first delta may be, and list the run's first seq where
 * nothing was written: it must be STORE_CORRUPTED.
 */
static void
test_malformed_varint_high_bits(void **state)
{
	static const uint8_t over[] = {
	    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02};
	fixture *f = *state;
	uint8_t key[AUDIT_IX_KEYMAX];
	size_t klen = ixt_key_p(key, "alice");

	three_runs(f);
	bad_postings(f, key, klen, over, sizeof(over));
}

/* A walk's callback that must not be called. */
static int
never(void *arg, uint64_t seq)
{
	(void)arg;
	(void)seq;
	fail_msg("a walk that could not allocate went on");
	return 0;
}

/*
 * Out of memory: a collector that cannot keep an event's items reads the
 * log at its next flush (an event damaged after it was collected shows
 * which way was taken); a flush or a walk that cannot allocate returns
 * ENOMEM and changes nothing; the next one does it all.
 */
static void
test_out_of_memory(void **state)
{
	fixture *f = *state;
	uint8_t key[AUDIT_IX_KEYMAX];
	size_t klen = ixt_key_p(key, "alice");
	uint64_t upto, indexed;
	seqlist before = {0}, after = {0};
	sink k = {.budget = SIZE_MAX};
	store_txn *txn;
	audit_ix ix;
	ix_copy c;
	int rc;

	ixt_append(f, 100);
	ixt_load(f, &ix);
	oom = true;
	ixt_feed(f, &ix, 1, 10);
	oom = false;
	assert_true(ix.from_log);
	ixt_feed(f, &ix, 11, 100);
	ixt_damage(f, 5, false);
	ixt_flush(f, &ix, BIG, true, 100);

	/* a flush from the items, and one from the log */
	ixt_append(f, 100);
	ixt_feed(f, &ix, 101, 200);
	ixt_damage(f, 150, false);
	ixt_dump(f, &before);
	ixt_save(&ix, &c);
	txn = ixt_wbegin(f);
	oom = true;
	rc = audit_ix_flush(f->st, txn, &ix, BIG, &upto);
	oom = false;
	store_txn_abort(txn);
	assert_int_equal(rc, ENOMEM);
	ixt_same(&ix, &c);
	ix.from_log = true;
	txn = ixt_wbegin(f);
	oom = true;
	rc = audit_ix_flush(f->st, txn, &ix, BIG, &upto);
	oom = false;
	store_txn_abort(txn);
	assert_int_equal(rc, ENOMEM);
	ix.from_log = false;
	ixt_dump(f, &after);
	ixt_same_dump(&after, &before);
	ixt_flush(f, &ix, BIG, false, 200);
	audit_ix_release(&ix);
	ixt_check_all(f);

	/* a walk */
	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	oom = true;
	rc = audit_ix_walk(f->st, txn, key, klen, 0, BIG, false, never, NULL);
	oom = false;
	store_txn_abort(txn);
	assert_int_equal(rc, ENOMEM);
	assert_int_equal(ixt_walk(f, NULL, key, klen, 0, BIG, false, &k), 0);

	/* catching up */
	ixt_append(f, 100);
	oom = true;
	rc = audit_ix_catch_up(f->st, &indexed);
	oom = false;
	assert_int_equal(rc, ENOMEM);
	ixt_check_runs(f);
	ixt_catch_up(f, 100);
	ixt_check_all(f);
	free(before.s);
	free(after.s);
	free(k.l.s);
}

/*
 * A run's subject table that is not whole 12-byte entries, or whose
 * entries for one pseudonym do not ascend, is STORE_CORRUPTED for a walk of
 * a subject in that run, not a short or disordered answer.
 */
static void
test_malformed_subject_table(void **state)
{
	static const uint8_t skey = AUDIT_IX_SUBJECT;
	uint8_t pseudo[CRYPTO_PSEUDONYMBYTES] = {0x5a, 0x5a},
	        key[AUDIT_IX_KEYMAX];
	uint8_t table[2 * 12 + 1];
	fixture *f = *state;
	size_t klen = ixt_key_s(key, pseudo);
	sink k = {.budget = SIZE_MAX};
	store_txn *txn;

	three_runs(f);
	/* two entries of the pseudonym, offsets 5 then 3 */
	memset(table, 0, sizeof(table));
	memcpy(table, pseudo, 8);
	table[11] = 5;
	memcpy(table + 12, pseudo, 8);
	table[23] = 3;
	txn = ixt_wbegin(f);
	ixt_put_raw(f, txn, 8193, &skey, 1, table, 24);
	assert_int_equal(
	    ixt_walk(f, txn, key, klen, 0, BIG, false, &k), STORE_CORRUPTED);
	store_txn_abort(txn);
	/* not whole entries */
	table[23] = 7;
	txn = ixt_wbegin(f);
	ixt_put_raw(f, txn, 8193, &skey, 1, table, 25);
	assert_int_equal(
	    ixt_walk(f, txn, key, klen, 0, BIG, false, &k), STORE_CORRUPTED);
	assert_int_equal(
	    ixt_walk(f, txn, key, klen, 0, BIG, true, &k), STORE_CORRUPTED);
	store_txn_abort(txn);
	/* whole and ascending, it is read */
	txn = ixt_wbegin(f);
	ixt_put_raw(f, txn, 8193, &skey, 1, table, 24);
	assert_int_equal(
	    ixt_walk(f, txn, key, klen, 8193, 16384, false, &k), 0);
	assert_int_equal(k.l.n, 2);
	assert_int_equal(k.l.s[0], 8198);
	assert_int_equal(k.l.s[1], 8200);
	store_txn_abort(txn);
	free(k.l.s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_malformed, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_malformed_varint_high_bits, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_out_of_memory, ixt_setup, ixt_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_malformed_subject_table, ixt_setup, ixt_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	ixt_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
