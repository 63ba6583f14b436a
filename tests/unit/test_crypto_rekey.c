/*
 * test_crypto_rekey.c - the key sets of `privd rekey` (daemon/crypto.c):
 * a data key wrapped under the first master key, moved to the outer layer
 * of a second and then a third, opens under the key in force and under no
 * replaced one; a key wrapped after a rekey does too; the keyring seals
 * and opens only under its own master key, and a key set that adopts it
 * computes the same storage ids and pseudonyms as the first one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"

#define REG  "customers"
#define SUBJ "person-42"

static const uint8_t hdr[9] = {2, 0, 0, 0, 0, 0, 0, 0, 7};

static crypto_keys *
from_master(uint8_t master[CRYPTO_KEYBYTES])
{
	crypto_keys *k;

	randombytes_buf(master, CRYPTO_KEYBYTES);
	assert_non_null(k = crypto_keys_derive(master));
	return k;
}

/* A rekeyed key set as privd serve would load it: derived from the new
 * master key alone, then the stored keyring adopted. */
static crypto_keys *
loaded(const uint8_t master[CRYPTO_KEYBYTES], const crypto_keys *rekeyed)
{
	uint8_t ring[CRYPTO_KEYRING_BYTES];
	crypto_keys *k;

	crypto_keyring_seal(rekeyed, ring);
	assert_non_null(k = crypto_keys_derive(master));
	assert_int_equal(crypto_keyring_adopt(k, ring, sizeof(ring)), 0);
	assert_true(k->layered);
	return k;
}

static bool
opens(const crypto_keys *k, const uint8_t blob[CRYPTO_WRAPPED_KEYBYTES],
    const uint8_t dk[CRYPTO_KEYBYTES])
{
	uint8_t out[CRYPTO_KEYBYTES];

	return crypto_key_unwrap(k, REG, (const uint8_t *)SUBJ, strlen(SUBJ),
	           hdr, sizeof(hdr), blob, out) == 0 &&
	       memcmp(out, dk, sizeof(out)) == 0;
}

static void
test_layers(void **state)
{
	uint8_t m1[32], m2[32], m3[32], dk[32], dk2[32];
	uint8_t blob[CRYPTO_WRAPPED_KEYBYTES], blob2[CRYPTO_WRAPPED_KEYBYTES];
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES], sid2[CRYPTO_SUBJECT_IDBYTES];
	uint8_t ps[CRYPTO_PSEUDONYMBYTES], ps2[CRYPTO_PSEUDONYMBYTES];
	uint8_t ring[CRYPTO_KEYRING_BYTES];
	crypto_keys *k1, *k2, *k3, *l2, *l3, *bare2;

	(void)state;
	k1 = from_master(m1);
	randombytes_buf(dk, sizeof(dk));
	crypto_key_wrap(k1, REG, (const uint8_t *)SUBJ, strlen(SUBJ), hdr,
	    sizeof(hdr), dk, blob);
	assert_true(opens(k1, blob, dk));
	crypto_subject_id(k1, REG, (const uint8_t *)SUBJ, strlen(SUBJ), sid);
	crypto_pseudonym(k1, (const uint8_t *)SUBJ, strlen(SUBJ), ps);

	/* the first rekey: k2 keeps k1's stable keys, the blob moves */
	randombytes_buf(m2, sizeof(m2));
	assert_non_null(k2 = crypto_keys_rekeyed(k1, m2));
	crypto_key_relayer(k1, k2, sid, hdr, sizeof(hdr), blob);
	l2 = loaded(m2, k2);
	assert_true(opens(k2, blob, dk));
	assert_true(opens(l2, blob, dk));
	assert_false(opens(k1, blob, dk));
	/* the new master key without its keyring opens nothing either */
	assert_non_null(bare2 = crypto_keys_derive(m2));
	assert_false(opens(bare2, blob, dk));
	/* the same ids and pseudonyms */
	crypto_subject_id(l2, REG, (const uint8_t *)SUBJ, strlen(SUBJ), sid2);
	assert_memory_equal(sid, sid2, sizeof(sid));
	crypto_pseudonym(l2, (const uint8_t *)SUBJ, strlen(SUBJ), ps2);
	assert_memory_equal(ps, ps2, sizeof(ps));

	/* the keyring opens under its own master key only */
	crypto_keyring_seal(k2, ring);
	assert_int_equal(crypto_keyring_adopt(k1, ring, sizeof(ring)), -1);
	assert_false(k1->layered);
	assert_int_equal(crypto_keyring_adopt(l2, ring, sizeof(ring) - 1), -1);

	/* a key wrapped after the rekey, and a header that differs */
	randombytes_buf(dk2, sizeof(dk2));
	crypto_key_wrap(l2, REG, (const uint8_t *)SUBJ, strlen(SUBJ), hdr,
	    sizeof(hdr), dk2, blob2);
	assert_true(opens(l2, blob2, dk2));
	assert_false(opens(k1, blob2, dk2));

	/* a second rekey moves both from k2's layer to k3's */
	randombytes_buf(m3, sizeof(m3));
	assert_non_null(k3 = crypto_keys_rekeyed(l2, m3));
	crypto_key_relayer(l2, k3, sid, hdr, sizeof(hdr), blob);
	crypto_key_relayer(l2, k3, sid, hdr, sizeof(hdr), blob2);
	l3 = loaded(m3, k3);
	assert_true(opens(l3, blob, dk));
	assert_true(opens(l3, blob2, dk2));
	assert_false(opens(l2, blob, dk));
	assert_false(opens(k1, blob2, dk2));

	/* a flipped bit in the outer layer is caught by the inner seal */
	blob[30] ^= 1;
	assert_false(opens(l3, blob, dk));

	crypto_keys_free(&k1);
	crypto_keys_free(&k2);
	crypto_keys_free(&k3);
	crypto_keys_free(&l2);
	crypto_keys_free(&l3);
	crypto_keys_free(&bare2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layers),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
