/*
 * test_audit_rotate.c - rotating the audit signing key (audit_key_rotate,
 * daemon/audit_key.c) and following it on the auditor's side
 * (client/auditverify.c): the verifier goes from the first key to the
 * next through the rotation event and the old key's checkpoint over it;
 * a rotation that the old key did not sign, one that does not start from
 * the key in force, and a forged one are each found at their seq; pruning
 * never starts the kept chain at a rotation. The fixture is in
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

#include "datadir.h"
#include "test_audit_chain.h"

/* The master key of the fixture's store, for sealing the new key. */
static crypto_keys *
test_keys(void)
{
	uint8_t master[CRYPTO_KEYBYTES];
	crypto_keys *k;

	randombytes_buf(master, sizeof(master));
	assert_non_null(k = crypto_keys_derive(master));
	return k;
}

/*
 * Rotate at time now (seconds): the fixture signs with the new key
 * afterwards, as privd does once it starts again. Returns the rotation's
 * seq; old_pk (may be NULL) receives the key it replaced.
 */
static uint64_t
rotate(fixture *f, const crypto_keys *k, uint64_t now_s, uint8_t *old_pk)
{
	uint8_t new_pk[32];
	uint64_t seq = 0;
	store_txn *txn;
	store_val v;

	if (old_pk != NULL)
		memcpy(old_pk, f->pk, 32);
	txn = wbegin(f);
	assert_int_equal(
	    audit_key_rotate(f->st, txn, k, f->sk, now_s * SEC, new_pk, &seq),
	    0);
	wcommit(txn);
	/* the sealed secret in meta is the new key's */
	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(datadir_secret(f->st, txn, k, META_SIGN_SECRET, f->sk,
	                     crypto_sign_SECRETKEYBYTES),
	    0);
	assert_int_equal(
	    store_meta_get(f->st, txn, "audit_sign_public", &v), 0);
	assert_int_equal(v.size, 32);
	assert_memory_equal(v.data, new_pk, 32);
	store_txn_abort(txn);
	crypto_sign_ed25519_sk_to_pk(f->pk, f->sk);
	assert_memory_equal(f->pk, new_pk, 32);
	return seq;
}

/*
 * 1. 25 events under the first key (checkpoints at 10, 20), the rotation
 * (26, its checkpoint signed by the first key), 24 more under the new key
 * (checkpoints at 30, 40, 50). From the first key everything verifies and
 * one rotation is followed; the rotation event names both keys; from the
 * new key alone the first checkpoint fails; from event 27 on, the new key
 * is the key in force.
 */
static void
test_rotation_followed(void **state)
{
	fixture *f = *state;
	crypto_keys *k = test_keys();
	uint8_t first[32], to[32], from[32];
	Privd__V1__AuditEvent *ev;
	const rec *r;
	uint64_t s;
	av_state v;
	chain c;

	append_at(f, 25, NULL, 10);
	s = rotate(f, k, 26, first);
	assert_int_equal(s, 26);
	append_at(f, 24, NULL, 10);
	chain_read(f, &c);
	assert_non_null(chain_ckpt(&c, 26));
	assert_true(av_checkpoint_valid(chain_ckpt(&c, 26), first));
	assert_false(av_checkpoint_valid(chain_ckpt(&c, 26), f->pk));
	assert_true(av_checkpoint_valid(chain_ckpt(&c, 30), f->pk));

	r = &c.recs[25];
	assert_int_equal(r->seq, 26);
	ev = decode(r);
	assert_string_equal(ev->principal, "privd");
	assert_string_equal(ev->op, "audit_key_rotate");
	assert_int_equal(ev->n_fields, 2);
	assert_int_equal(strncmp(ev->fields[0], "from=", 5), 0);
	assert_int_equal(strncmp(ev->fields[1], "to=", 3), 0);
	privd__v1__audit_event__free_unpacked(ev, NULL);
	assert_int_equal(av_key_rotation(r->ev, r->len, from, to, &s), 1);
	assert_int_equal(s, 26);
	assert_memory_equal(from, first, 32);
	assert_memory_equal(to, f->pk, 32);
	assert_int_equal(
	    av_key_rotation(c.recs[0].ev, c.recs[0].len, NULL, NULL, NULL), 0);

	assert_int_equal(chain_verify(&c, 1, NULL, first, &v), 0);
	assert_int_equal(v.rotations, 1);
	assert_int_equal(v.ckpts_ok, 6);
	assert_memory_equal(v.pk, f->pk, 32);

	assert_int_not_equal(chain_verify(&c, 1, NULL, f->pk, &v), 0);
	assert_int_equal(v.bad_seq, 10);

	/* mid-log: from 27, whose previous hash is event 26's */
	av_init(&v, 27, c.recs[25].hash, c.ckpts, c.nckpts, f->pk);
	for (size_t i = 26; i < c.nrecs; i++)
		av_record(&v, c.recs[i].ev, c.recs[i].len, c.recs[i].hash,
		    AUDIT_HASHBYTES, NULL);
	assert_int_equal(av_finish(&v, 50), 0);
	assert_int_equal(v.rotations, 0);
	chain_free(&c);

	/* and a second rotation is followed the same way */
	rotate(f, k, 60, NULL);
	append_at(f, 5,
	    (const uint64_t[]){
	        61 * SEC, 62 * SEC, 63 * SEC, 64 * SEC, 65 * SEC},
	    5);
	chain_read(f, &c);
	assert_int_equal(chain_verify(&c, 1, NULL, first, &v), 0);
	assert_int_equal(v.rotations, 2);
	assert_memory_equal(v.pk, f->pk, 32);
	chain_free(&c);
	crypto_keys_free(&k);
}

/*
 * 2. Without the old key's checkpoint at the rotation (deleted), nothing
 * vouches for the new key: verification fails at the rotation.
 */
static void
test_rotation_unsigned(void **state)
{
	fixture *f = *state;
	crypto_keys *k = test_keys();
	uint8_t first[32], kb[8];
	store_val key = {8, kb};
	store_txn *txn;
	uint64_t s;
	av_state v;
	chain c;

	append_at(f, 9, NULL, 3);
	s = rotate(f, k, 10, first);
	append_at(f, 10, NULL, 5);
	store_be64(kb, s);
	txn = wbegin(f);
	assert_int_equal(store_del(txn, STORE_AUDIT_CKPT, &key), 0);
	wcommit(txn);
	chain_read(f, &c);
	assert_int_not_equal(chain_verify(&c, 1, NULL, first, &v), 0);
	assert_int_equal(v.bad_seq, s);
	assert_non_null(strstr(v.why, "no checkpoint signed by the key"));
	chain_free(&c);
	crypto_keys_free(&k);
}

/*
 * 3. Forgeries. Someone without the key who appends a rotation to a key of
 * their own, with a checkpoint signed by that key: the checkpoint at the
 * rotation does not verify under the key in force. A rotation whose "from"
 * is not the key in force (here: the first key again, signed by the
 * current one): it fails at its seq as starting from another key.
 */
static void
test_rotation_forged(void **state)
{
	fixture *f = *state;
	crypto_keys *k = test_keys();
	uint8_t first[32], mine_pk[32], mine_sk[64];
	uint64_t s;
	av_state v;
	chain c;

	append_at(f, 10, NULL, 5);
	memcpy(first, f->pk, 32);
	/* the forger's rotation: their key signs it */
	crypto_sign_keypair(mine_pk, mine_sk);
	memcpy(f->sk, mine_sk, 64);
	crypto_sign_ed25519_sk_to_pk(f->pk, f->sk);
	s = rotate(f, k, 11, NULL);
	chain_read(f, &c);
	assert_int_not_equal(chain_verify(&c, 1, NULL, first, &v), 0);
	assert_int_equal(v.bad_seq, s);
	assert_non_null(strstr(v.why, "starts from another key"));
	chain_free(&c);
	crypto_keys_free(&k);
}

/*
 * 4. A rotation from the first key, then a second one whose "from" names
 * the first key again although the second key is in force (signed by
 * the second key): found at the second rotation.
 */
static void
test_rotation_wrong_from(void **state)
{
	fixture *f = *state;
	crypto_keys *k = test_keys();
	uint8_t first[32], first_sk[64], second_sk[64];
	uint64_t s1, s2;
	av_state v;
	chain c;

	append_at(f, 4, NULL, 2);
	memcpy(first_sk, f->sk, 64);
	s1 = rotate(f, k, 5, first);
	append_at(
	    f, 4, (const uint64_t[]){6 * SEC, 7 * SEC, 8 * SEC, 9 * SEC}, 2);
	/* the rotation's event says "from" the first key (the old_sk the
	 * rotation reads its "from" from), its checkpoint is signed by the
	 * second: write it with the first key, then re-sign the checkpoint */
	memcpy(second_sk, f->sk, 64);
	memcpy(f->sk, first_sk, 64);
	s2 = rotate(f, k, 10, NULL);
	{
		audit_state a = load(f);
		store_txn *txn = wbegin(f);

		a.ckpt_seq = 0;
		assert_int_equal(
		    audit_checkpoint(f->st, txn, &a, second_sk), 0);
		wcommit(txn);
	}
	chain_read(f, &c);
	assert_int_not_equal(chain_verify(&c, 1, NULL, first, &v), 0);
	assert_int_equal(v.bad_seq, s2);
	assert_int_equal(v.rotations, 1);
	assert_non_null(strstr(v.why, "starts from another key"));
	assert_true(s1 < s2);
	chain_free(&c);
	crypto_keys_free(&k);
}

/*
 * 5. Pruning up to a cutoff past the rotation's time does not make the
 * rotation's checkpoint (signed by the old key) the start of the kept
 * chain: it stops at the checkpoint before it until a checkpoint of the
 * new key is old enough, and the chain kept verifies from its start with
 * the key that signs it.
 */
static void
test_prune_skips_rotation(void **state)
{
	fixture *f = *state;
	crypto_keys *k = test_keys();
	uint8_t first[32], prev[AV_HASHBYTES];
	const av_checkpoint *base;
	size_t pruned;
	store_txn *txn;
	uint64_t s;
	av_state v;
	bool more;
	chain c;

	append_at(f, 8, NULL, 4); /* checkpoints at 4, 8 (first key) */
	s = rotate(f, k, 9, first);
	assert_int_equal(s, 9);
	append_at(f, 6,
	    (const uint64_t[]){100 * SEC, 101 * SEC, 102 * SEC, 103 * SEC,
	        104 * SEC, 105 * SEC},
	    6); /* checkpoint at 12 (new key) */

	/* a cutoff between the rotation and the new key's checkpoint */
	txn = wbegin(f);
	assert_int_equal(audit_prune(f->st, txn, 50 * SEC, &pruned, &more), 0);
	wcommit(txn);
	assert_int_equal(pruned, 8); /* up to checkpoint 8, not 9 */
	chain_read(f, &c);
	assert_int_equal(c.recs[0].seq, 9);
	assert_non_null(base = chain_ckpt(&c, 8));
	assert_true(av_checkpoint_valid(base, first));
	memcpy(prev, base->hash, sizeof(prev));
	assert_int_equal(chain_verify(&c, 9, prev, first, &v), 0);
	assert_int_equal(v.rotations, 1);
	chain_free(&c);

	/* past the new key's checkpoint: it is the start, the rotation goes */
	txn = wbegin(f);
	assert_int_equal(audit_prune(f->st, txn, 200 * SEC, &pruned, &more), 0);
	wcommit(txn);
	assert_int_equal(pruned, 4); /* 9..12 */
	chain_read(f, &c);
	assert_int_equal(c.recs[0].seq, 13);
	assert_non_null(base = chain_ckpt(&c, 12));
	assert_true(av_checkpoint_valid(base, f->pk));
	assert_null(chain_ckpt(&c, 9));
	memcpy(prev, base->hash, sizeof(prev));
	assert_int_equal(chain_verify(&c, 13, prev, f->pk, &v), 0);
	chain_free(&c);
	crypto_keys_free(&k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_rotation_followed, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rotation_unsigned, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rotation_forged, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rotation_wrong_from, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_skips_rotation, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(pseudo, sizeof(pseudo));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
