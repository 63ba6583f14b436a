/*
 * test_audit.c - the audit chain end to end: daemon/audit.c writes it into a
 * real LMDB store in a temporary directory, client/auditverify.c (the
 * auditor's verifier) checks it, and the tests tamper with the stored bytes
 * the way an attacker with write access to the store could. The fixture is
 * in test_audit_chain.c; pruning is tested in test_audit_prune.c.
 */
#define _GNU_SOURCE
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

#include "store_lmdb.h" /* the old index is LMDB's (store_lmdb.c) */

/* Copy the stored value of seq in dbi into a malloc'd buffer. */
static uint8_t *
raw_get(store_txn *txn, store_tbl dbi, uint64_t seq, size_t *len)
{
	uint8_t kb[8], *p;
	store_val k = {8, kb}, v;

	store_be64(kb, seq);
	assert_int_equal(store_get(txn, dbi, &k, &v), 0);
	assert_non_null(p = malloc(v.size));
	memcpy(p, v.data, v.size);
	*len = v.size;
	return p;
}

static void
raw_put(
    store_txn *txn, store_tbl dbi, uint64_t seq, const uint8_t *p, size_t len)
{
	uint8_t kb[8];
	store_val k = {8, kb}, v = {len, (void *)p};

	store_be64(kb, seq);
	assert_int_equal(store_put(txn, dbi, &k, &v, 0), 0);
}

/*
 * 1. 20 events, a checkpoint every 5: the whole chain verifies, seqs are
 * 1..20 without gaps, times never decrease (even when the clock does), the
 * writer's fields are filled in, and audit_load finds the head again.
 */
static void
test_chain_verifies(void **state)
{
	fixture *f = *state;
	uint64_t times[20], last_time = 0;
	audit_state a, l;
	Privd__V1__AuditEvent *ev;
	av_state v;
	chain c;
	size_t i;

	for (i = 0; i < 20; i++)
		times[i] = (i + 1) * SEC;
	times[9] = 1;         /* the clock went back */
	times[10] = times[8]; /* and is level with event 9 */
	a = append_at(f, 20, times, 5);
	assert_int_equal(a.seq, 20);

	chain_read(f, &c);
	assert_int_equal(c.nrecs, 20);
	assert_int_equal(c.nckpts, 4);
	assert_int_equal(chain_verify(&c, 1, NULL, f->pk, &v), 0);
	assert_int_equal(v.bad_seq, 0);
	assert_int_equal(v.checked, 20);
	assert_int_equal(v.ckpts_ok, 4);
	for (i = 0; i < c.nrecs; i++) {
		assert_int_equal(c.recs[i].seq, i + 1);
		ev = decode(&c.recs[i]);
		assert_int_equal(ev->seq, i + 1);
		assert_true(ev->time_us >= last_time);
		assert_true(ev->time_us >= times[i]);
		last_time = ev->time_us;
		assert_string_equal(ev->principal, principal_of(i + 1));
		assert_int_equal(ev->status, status_of(i + 1));
		if (ev->status == ST(DENIED)) {
			assert_int_equal(ev->decision, DEC(REFUSED));
			assert_int_equal(ev->reason, POL_DENY_NO_GRANT);
		} else {
			assert_int_equal(ev->decision, DEC(ALLOWED));
			assert_int_equal(ev->reason, 0);
		}
		privd__v1__audit_event__free_unpacked(ev, NULL);
	}
	for (i = 0; i < c.nckpts; i++) {
		assert_int_equal(c.ckpts[i].seq, 5 * (i + 1));
		assert_memory_equal(c.ckpts[i].hash,
		    c.recs[c.ckpts[i].seq - 1].hash, AUDIT_HASHBYTES);
		assert_true(av_checkpoint_valid(&c.ckpts[i], f->pk));
	}

	l = load(f);
	assert_int_equal(l.seq, 20);
	assert_memory_equal(l.hash, c.recs[19].hash, AUDIT_HASHBYTES);
	assert_memory_equal(l.hash, a.hash, AUDIT_HASHBYTES);
	assert_int_equal(l.time_us, last_time);
	assert_int_equal(l.ckpt_seq, 20);
	chain_free(&c);
}

/* 2. One byte of event 7's bytes changed: event 7 fails. */
static void
test_tampered_event_fails(void **state)
{
	fixture *f = *state;
	uint8_t *p, *at;
	store_txn *txn;
	av_state v;
	size_t len;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	p = raw_get(txn, STORE_AUDIT, 7, &len);
	/* a byte of the subject pseudonym: the event still decodes */
	at = memmem(p + AUDIT_HASHBYTES, len - AUDIT_HASHBYTES, pseudo[1],
	    CRYPTO_PSEUDONYMBYTES);
	assert_non_null(at);
	at[5] ^= 0x01;
	raw_put(txn, STORE_AUDIT, 7, p, len);
	wcommit(txn);
	free(p);

	assert_int_equal(verify_all(f, &v), -1);
	assert_int_equal(v.bad_seq, 7);
	assert_int_equal(v.checked, 6);
	assert_non_null(strstr(v.why, "chain hash"));
}

/* 3. One byte of event 7's stored hash changed: event 7 fails. */
static void
test_tampered_hash_fails(void **state)
{
	fixture *f = *state;
	store_txn *txn;
	av_state v;
	size_t len;
	uint8_t *p;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	p = raw_get(txn, STORE_AUDIT, 7, &len);
	p[AUDIT_HASHBYTES - 1] ^= 0x80;
	raw_put(txn, STORE_AUDIT, 7, p, len);
	wcommit(txn);
	free(p);

	assert_int_equal(verify_all(f, &v), -1);
	assert_int_equal(v.bad_seq, 7);
	assert_non_null(strstr(v.why, "chain hash"));
}

/* 4. Event 9 deleted: event 9 is missing. */
static void
test_deleted_event_fails(void **state)
{
	fixture *f = *state;
	uint8_t kb[8];
	store_val k = {8, kb};
	store_txn *txn;
	av_state v;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	store_be64(kb, 9);
	assert_int_equal(store_del(txn, STORE_AUDIT, &k), 0);
	wcommit(txn);

	assert_int_equal(verify_all(f, &v), -1);
	assert_int_equal(v.bad_seq, 9);
	assert_int_equal(v.checked, 8);
	assert_non_null(strstr(v.why, "missing"));
}

/* 5. Events 12 and 13 swapped: event 12 fails. */
static void
test_swapped_events_fail(void **state)
{
	fixture *f = *state;
	uint8_t *p12, *p13;
	size_t l12, l13;
	store_txn *txn;
	av_state v;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	p12 = raw_get(txn, STORE_AUDIT, 12, &l12);
	p13 = raw_get(txn, STORE_AUDIT, 13, &l13);
	raw_put(txn, STORE_AUDIT, 12, p13, l13);
	raw_put(txn, STORE_AUDIT, 13, p12, l12);
	wcommit(txn);
	free(p12);
	free(p13);

	assert_int_equal(verify_all(f, &v), -1);
	assert_int_equal(v.bad_seq, 12);
	assert_int_equal(v.checked, 11);
}

/*
 * 6. An attacker rewrites event 3 and recomputes every later hash. The
 * chain is consistent again (it verifies without checkpoints), but without
 * the signing key the checkpoint at 5 gives it away.
 */
static void
test_rewritten_chain_fails_at_checkpoint(void **state)
{
	fixture *f = *state;
	uint8_t prev[AUDIT_HASHBYTES], *p, *np;
	Privd__V1__AuditEvent *ev;
	crypto_generichash_state h;
	char *orig;
	size_t len, n;
	store_txn *txn;
	uint64_t seq;
	av_state v;
	chain c;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	p = raw_get(txn, STORE_AUDIT, 2, &len);
	memcpy(prev, p, AUDIT_HASHBYTES);
	free(p);
	for (seq = 3; seq <= 20; seq++) {
		p = raw_get(txn, STORE_AUDIT, seq, &len);
		if (seq == 3) {
			ev = privd__v1__audit_event__unpack(
			    NULL, len - AUDIT_HASHBYTES, p + AUDIT_HASHBYTES);
			assert_non_null(ev);
			orig = ev->principal;
			ev->principal = "mallory";
			n = privd__v1__audit_event__get_packed_size(ev);
			assert_non_null(np = malloc(AUDIT_HASHBYTES + n));
			privd__v1__audit_event__pack(ev, np + AUDIT_HASHBYTES);
			ev->principal = orig;
			privd__v1__audit_event__free_unpacked(ev, NULL);
			free(p);
			p = np;
			len = AUDIT_HASHBYTES + n;
		}
		crypto_generichash_init(&h, NULL, 0, AUDIT_HASHBYTES);
		crypto_generichash_update(&h, prev, AUDIT_HASHBYTES);
		crypto_generichash_update(
		    &h, p + AUDIT_HASHBYTES, len - AUDIT_HASHBYTES);
		crypto_generichash_final(&h, p, AUDIT_HASHBYTES);
		memcpy(prev, p, AUDIT_HASHBYTES);
		raw_put(txn, STORE_AUDIT, seq, p, len);
		free(p);
	}
	wcommit(txn);

	chain_read(f, &c);
	/* the rewrite is self-consistent: only the signatures catch it */
	av_init(&v, 1, (const uint8_t[AV_HASHBYTES]){0}, NULL, 0, f->pk);
	for (n = 0; n < c.nrecs; n++)
		assert_int_equal(av_record(&v, c.recs[n].ev, c.recs[n].len,
		                     c.recs[n].hash, AUDIT_HASHBYTES, NULL),
		    0);
	assert_int_equal(av_finish(&v, 20), 0);

	assert_int_equal(chain_verify(&c, 1, NULL, f->pk, &v), -1);
	assert_int_equal(v.bad_seq, 5);
	assert_int_equal(v.ckpts_ok, 0);
	assert_non_null(strstr(v.why, "checkpoint"));
	chain_free(&c);
}

/*
 * 7. A checkpoint with a flipped signature byte fails at its seq; a
 * verifier holding another public key fails at the first checkpoint.
 */
static void
test_bad_signature_fails(void **state)
{
	fixture *f = *state;
	uint8_t pk2[crypto_sign_PUBLICKEYBYTES],
	    sk2[crypto_sign_SECRETKEYBYTES];
	store_txn *txn;
	av_state v;
	size_t len;
	uint8_t *p;
	chain c;

	append_at(f, 20, NULL, 5);
	assert_int_equal(crypto_sign_keypair(pk2, sk2), 0);
	chain_read(f, &c);
	assert_int_equal(chain_verify(&c, 1, NULL, pk2, &v), -1);
	assert_int_equal(v.bad_seq, 5);
	assert_non_null(strstr(v.why, "signature"));
	assert_false(av_checkpoint_valid(&c.ckpts[0], pk2));
	chain_free(&c);

	txn = wbegin(f);
	p = raw_get(txn, STORE_AUDIT_CKPT, 10, &len);
	assert_int_equal(len, AUDIT_CKPT_RECBYTES);
	p[8 + AUDIT_HASHBYTES + 17] ^= 0x04;
	raw_put(txn, STORE_AUDIT_CKPT, 10, p, len);
	wcommit(txn);
	free(p);

	chain_read(f, &c);
	assert_false(av_checkpoint_valid(chain_ckpt(&c, 10), f->pk));
	assert_int_equal(chain_verify(&c, 1, NULL, f->pk, &v), -1);
	assert_int_equal(v.bad_seq, 10);
	assert_int_equal(v.ckpts_ok, 1);
	assert_non_null(strstr(v.why, "signature"));
	chain_free(&c);
}

/*
 * 8. audit_append writes no index entry; indexing the log afterwards
 * (audit_ix_catch_up, as privd does at start) lists under each subject and
 * principal exactly its events, in seq order, in one run (a key for each
 * principal, one subject table), and sets the mark at the head.
 */
static void
test_index_entries(void **state)
{
	fixture *f = *state;
	uint8_t key[AUDIT_IX_KEYMAX];
	uint64_t indexed, mark, s;
	store_txn *txn;
	seqlist l;
	size_t i, n;

	append_at(f, 20, NULL, 5);
	assert_int_equal(db_count(f, STORE_AUDIT_IX), 0);
	assert_int_equal(audit_ix_catch_up(f->st, &indexed), 0);
	assert_int_equal(indexed, 20);
	assert_int_equal(audit_ix_catch_up(f->st, &indexed), 0);
	assert_int_equal(indexed, 0);
	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(audit_ix_mark(f->st, txn, &mark), 0);
	store_txn_abort(txn);
	assert_int_equal(mark, 20);
	/* a key for each of three principals, and the subject table */
	assert_int_equal(db_count(f, STORE_AUDIT_IX), 4);
	for (i = 0; i < 2; i++) {
		ix_list(f, key, audit_ix_key_subject(key, pseudo[i]), &l);
		for (n = 0, s = 1; s <= 20; s++)
			if (has_subject(s) && s % 2 == i)
				assert_int_equal(l.s[n++], s);
		assert_int_equal(l.n, n);
	}
	for (i = 0; i < 3; i++) {
		ix_list(f, key, audit_ix_key_principal(key, principals[i]), &l);
		for (n = 0, s = 1; s <= 20; s++)
			if (s % 3 == i)
				assert_int_equal(l.s[n++], s);
		assert_int_equal(l.n, n);
	}
}

/*
 * 8b. A store written before issue 8 (its indexes in "audit_idx", a key per
 * event and index): opening it drops that database, and indexing the log
 * rebuilds what queries use from the events alone.
 */
static void
test_old_index_dropped(void **state)
{
	fixture *f = *state;
	uint8_t key[AUDIT_IX_KEYMAX], old[41] = {'S'};
	store_val k = {sizeof(old), old}, v = {0, (void *)""};
	uint64_t indexed, s;
	char err[256];
	MDB_txn *txn;
	MDB_dbi dbi;
	seqlist l;
	size_t n;

	append_at(f, 20, NULL, 5);
	assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "audit_idx", MDB_CREATE, &dbi), 0);
	assert_int_equal(mdb_put(txn, dbi, (MDB_val *)&k, (MDB_val *)&v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	store_close(&f->st);
	assert_int_equal(store_open(f->dir, STORE_DEFAULT_MAPSIZE, false,
	                     &f->st, err, sizeof(err)),
	    0);
	assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "audit_idx", 0, &dbi), MDB_NOTFOUND);
	mdb_txn_abort(txn);
	assert_int_equal(audit_ix_catch_up(f->st, &indexed), 0);
	assert_int_equal(indexed, 20);
	ix_list(f, key, audit_ix_key_subject(key, pseudo[1]), &l);
	for (n = 0, s = 1; s <= 20; s++)
		if (has_subject(s) && s % 2 == 1)
			assert_int_equal(l.s[n++], s);
	assert_int_equal(l.n, n);
}

/*
 * 9. The newest events deleted, the signed checkpoint that covers them
 * kept: the store's own newest event is then 15, but checkpoint 20 proves
 * that events 16..20 existed. auditverify.h: "a checkpoint beyond the last
 * record means events are missing".
 */
static void
test_truncated_tail_fails(void **state)
{
	fixture *f = *state;
	uint8_t kb[8];
	store_val k = {8, kb};
	store_txn *txn;
	uint64_t seq;
	av_state v;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	for (seq = 16; seq <= 20; seq++) {
		store_be64(kb, seq);
		assert_int_equal(store_del(txn, STORE_AUDIT, &k), 0);
	}
	wcommit(txn);

	assert_int_equal(verify_all(f, &v), -1);
	assert_true(v.bad_seq >= 16 && v.bad_seq <= 20);
	assert_int_equal(v.checked, 15);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_chain_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tampered_event_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tampered_hash_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_deleted_event_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_swapped_events_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rewritten_chain_fails_at_checkpoint, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_bad_signature_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_index_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_old_index_dropped, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_truncated_tail_fails, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	memset(pseudo[0], 0xa1, sizeof(pseudo[0]));
	memset(pseudo[1], 0xb2, sizeof(pseudo[1]));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
