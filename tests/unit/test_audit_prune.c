/*
 * test_audit_prune.c - pruning the audit chain (audit_prune): events older
 * than a cutoff go up to a signed checkpoint, which stays, and what is left
 * still verifies from it with client/auditverify.c. The fixture is in
 * test_audit_chain.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_audit_chain.h"

/*
 * 1. Pruning: 10 old events (a checkpoint every 4), 5 newer ones. A cutoff
 * before the first checkpoint prunes nothing; a cutoff between events 8 and
 * 9 deletes events 1..8, keeps checkpoint 8 as the
 * start of the chain and deletes checkpoint 4; the rest verifies from
 * checkpoint 8 and audit_load still finds the head.
 */
static void
test_prune(void **state)
{
	fixture *f = *state;
	uint64_t times[15];
	const av_checkpoint *c8;
	audit_state a, l;
	av_state v;
	chain before, c;
	size_t i, pruned;
	store_txn *txn;
	bool more;

	for (i = 0; i < 10; i++)
		times[i] = (i + 1) * SEC;
	for (i = 10; i < 15; i++)
		times[i] = 1000 * SEC + i * SEC;
	a = append_at(f, 15, times, 4);
	assert_int_equal(a.seq, 15);
	assert_int_equal(a.ckpt_seq, 12);
	chain_read(f, &before);
	assert_int_equal(before.nckpts, 3);

	/* checkpoint 4 is not older than a cutoff at its own time */
	txn = wbegin(f);
	assert_int_equal(audit_prune(f->st, txn, 4 * SEC, &pruned, &more), 0);
	wcommit(txn);
	assert_int_equal(pruned, 0);
	assert_false(more);
	assert_int_equal(db_count(f, STORE_AUDIT), 15);
	assert_int_equal(db_count(f, STORE_AUDIT_CKPT), 3);

	txn = wbegin(f);
	assert_int_equal(
	    audit_prune(f->st, txn, 8 * SEC + SEC / 2, &pruned, &more), 0);
	wcommit(txn);
	assert_int_equal(pruned, 8);
	assert_false(more);

	chain_read(f, &c);
	assert_int_equal(c.nrecs, 7);
	assert_int_equal(c.recs[0].seq, 9);
	assert_int_equal(c.nckpts, 2);
	assert_null(chain_ckpt(&c, 4));
	assert_non_null(c8 = chain_ckpt(&c, 8));
	assert_non_null(chain_ckpt(&c, 12));
	assert_memory_equal(c8->hash, before.recs[7].hash, AUDIT_HASHBYTES);

	assert_true(av_checkpoint_valid(c8, f->pk));
	assert_int_equal(chain_verify(&c, 9, c8->hash, f->pk, &v), 0);
	assert_int_equal(v.checked, 7);
	assert_int_equal(v.ckpts_ok, 1);

	l = load(f);
	assert_int_equal(l.seq, 15);
	assert_memory_equal(l.hash, before.recs[14].hash, AUDIT_HASHBYTES);
	assert_int_equal(l.ckpt_seq, 12);
	assert_int_equal(l.time_us, a.time_us);
	chain_free(&c);
	chain_free(&before);
}

/*
 * 2. Everything pruned up to the last checkpoint, which is the head: the
 * chain continues from the checkpoint, and the next event verifies from it.
 */
static void
test_prune_all_then_continue(void **state)
{
	fixture *f = *state;
	uint64_t early = 5 * SEC;
	audit_state a, l;
	const av_checkpoint *ck;
	av_state v;
	chain before, c;
	size_t pruned;
	store_txn *txn;
	bool more;

	a = append_at(f, 12, NULL, 4);
	assert_int_equal(a.seq, 12);
	assert_int_equal(a.ckpt_seq, 12);
	chain_read(f, &before);

	txn = wbegin(f);
	assert_int_equal(
	    audit_prune(f->st, txn, UINT64_MAX, &pruned, &more), 0);
	wcommit(txn);
	assert_int_equal(pruned, 12);
	assert_false(more);
	assert_int_equal(db_count(f, STORE_AUDIT), 0);
	assert_int_equal(db_count(f, STORE_AUDIT_IX), 0);
	assert_int_equal(db_count(f, STORE_AUDIT_CKPT), 1);

	l = load(f);
	assert_int_equal(l.seq, 12);
	assert_int_equal(l.ckpt_seq, 12);
	assert_int_equal(l.time_us, 12 * SEC);
	assert_memory_equal(l.hash, before.recs[11].hash, AUDIT_HASHBYTES);

	/* the clock is behind the checkpoint: time still does not go back */
	a = append_at(f, 1, &early, 13);
	assert_int_equal(a.seq, 13);
	assert_int_equal(a.ckpt_seq, 13);

	chain_read(f, &c);
	assert_int_equal(c.nrecs, 1);
	assert_int_equal(c.recs[0].seq, 13);
	assert_non_null(ck = chain_ckpt(&c, 12));
	assert_true(av_checkpoint_valid(ck, f->pk));
	assert_int_equal(chain_verify(&c, 13, ck->hash, f->pk, &v), 0);
	assert_int_equal(v.checked, 1);
	assert_int_equal(v.ckpts_ok, 1);
	assert_int_equal(v.last_time, 12 * SEC);
	chain_free(&c);
	chain_free(&before);
}

/*
 * 3. Pruning more than AUDIT_PRUNE_CHUNK events takes several calls: the
 * first says there is more, and in the end every event up to the last
 * checkpoint before the cutoff is gone, only that
 * checkpoint is left of the old ones, and the rest verifies from it.
 */
static void
test_prune_in_chunks(void **state)
{
	fixture *f = *state;
	const av_checkpoint *ck;
	size_t pruned, total = 0, calls = 0;
	store_txn *txn;
	av_state v;
	bool more;
	chain c;

	/* checkpoints at 700, 1400, 2100 */
	append_at(f, AUDIT_PRUNE_CHUNK + 200, NULL, 700);
	do {
		txn = wbegin(f);
		assert_int_equal(
		    audit_prune(f->st, txn, UINT64_MAX, &pruned, &more), 0);
		wcommit(txn);
		assert_true(pruned <= AUDIT_PRUNE_CHUNK);
		if (calls++ == 0)
			assert_true(more);
		total += pruned;
	} while (more && calls < 10);
	assert_false(more);
	assert_int_equal(total, 2100);
	assert_int_equal(db_count(f, STORE_AUDIT), 100);

	chain_read(f, &c);
	assert_int_equal(c.recs[0].seq, 2101);
	assert_int_equal(c.nckpts, 1);
	assert_non_null(ck = chain_ckpt(&c, 2100));
	assert_true(av_checkpoint_valid(ck, f->pk));
	assert_int_equal(chain_verify(&c, 2101, ck->hash, f->pk, &v), 0);
	assert_int_equal(v.checked, 100);
	chain_free(&c);
}

/*
 * 4. Each of those calls is its own write transaction, and the writer
 * commits batches (and workers answer audit queries) between them. After
 * every call the chain must still start right after a kept signed
 * checkpoint, as audit.h promises ("deletes events only up to a signed
 * checkpoint, which stays: the rest of the chain verifies from it").
 */
static void
test_prune_chunk_keeps_anchor(void **state)
{
	fixture *f = *state;
	const av_checkpoint *ck;
	size_t pruned, calls = 0;
	store_txn *txn;
	av_state v;
	bool more;
	chain c;

	/* checkpoints at 700, 1400, 2100: none at a chunk boundary */
	append_at(f, AUDIT_PRUNE_CHUNK + 200, NULL, 700);
	do {
		txn = wbegin(f);
		assert_int_equal(
		    audit_prune(f->st, txn, UINT64_MAX, &pruned, &more), 0);
		wcommit(txn);
		calls++;

		chain_read(f, &c);
		assert_true(c.nrecs > 0);
		ck = chain_ckpt(&c, c.recs[0].seq - 1);
		if (ck == NULL)
			fail_msg(
			    "after prune call %zu the oldest event kept is "
			    "%llu, but there is no checkpoint at %llu to "
			    "verify it from",
			    calls, (unsigned long long)c.recs[0].seq,
			    (unsigned long long)c.recs[0].seq - 1);
		assert_int_equal(
		    chain_verify(&c, c.recs[0].seq, ck->hash, f->pk, &v), 0);
		chain_free(&c);
	} while (more && calls < 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_all_then_continue, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_in_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_chunk_keeps_anchor, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	memset(pseudo[0], 0xa1, sizeof(pseudo[0]));
	memset(pseudo[1], 0xb2, sizeof(pseudo[1]));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
