/*
 * test_crypto.c - the key hierarchy and value sealing of daemon/crypto.c.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "crypto.h"

static crypto_keys *
test_keys(uint8_t fill)
{
	uint8_t master[CRYPTO_KEYBYTES];

	memset(master, fill, sizeof(master));
	return crypto_keys_derive(master);
}

#define S(x) (const uint8_t *)(x), strlen(x)
/* A record header bound into a seal (the store's are binary; any bytes do). */
#define HDR (const uint8_t *)"\x02hdr", 4

static void
test_value_round_trip(void **state)
{
	uint8_t dk[CRYPTO_KEYBYTES], sealed[64 + CRYPTO_SEAL_OVERHEAD];
	uint8_t out[64];
	const char *v = "alice@example.com";
	size_t n = strlen(v);

	randombytes_buf(dk, sizeof(dk));
	crypto_value_seal(dk, "customers", S("subject-1"), "email", HDR,
	    (const uint8_t *)v, n, sealed);
	/* the plaintext is not in the sealed blob */
	assert_null(memmem(sealed, n + CRYPTO_SEAL_OVERHEAD, v, n));
	assert_int_equal(
	    crypto_value_open(dk, "customers", S("subject-1"), "email", HDR,
	        sealed, n + CRYPTO_SEAL_OVERHEAD, out),
	    0);
	assert_memory_equal(out, v, n);
}

static void
test_value_empty_and_large(void **state)
{
	uint8_t dk[CRYPTO_KEYBYTES], *big, *sealed, *out;
	size_t n = 64 * 1024;

	randombytes_buf(dk, sizeof(dk));
	big = malloc(n);
	sealed = malloc(n + CRYPTO_SEAL_OVERHEAD);
	out = malloc(n);
	randombytes_buf(big, n);
	crypto_value_seal(dk, "r", S("s"), "f", HDR, big, n, sealed);
	assert_int_equal(crypto_value_open(dk, "r", S("s"), "f", HDR, sealed,
	                     n + CRYPTO_SEAL_OVERHEAD, out),
	    0);
	assert_memory_equal(out, big, n);
	crypto_value_seal(dk, "r", S("s"), "f", HDR, big, 0, sealed);
	assert_int_equal(crypto_value_open(dk, "r", S("s"), "f", HDR, sealed,
	                     CRYPTO_SEAL_OVERHEAD, out),
	    0);
	free(big);
	free(sealed);
	free(out);
}

/* A ciphertext copied to another subject, field or register must not open:
 * the AAD binds it to its place. */
static void
test_value_moved_fails(void **state)
{
	uint8_t dk[CRYPTO_KEYBYTES], sealed[16 + CRYPTO_SEAL_OVERHEAD], out[16];
	size_t clen = 5 + CRYPTO_SEAL_OVERHEAD;

	randombytes_buf(dk, sizeof(dk));
	crypto_value_seal(dk, "customers", S("subject-1"), "name", HDR,
	    (const uint8_t *)"Alice", 5, sealed);
	assert_int_equal(crypto_value_open(dk, "customers", S("subject-2"),
	                     "name", HDR, sealed, clen, out),
	    -1);
	assert_int_equal(crypto_value_open(dk, "customers", S("subject-1"),
	                     "email", HDR, sealed, clen, out),
	    -1);
	assert_int_equal(crypto_value_open(dk, "acis", S("subject-1"), "name",
	                     HDR, sealed, clen, out),
	    -1);
	/* length-prefixed AAD: ("ab","c") and ("a","bc") differ */
	crypto_value_seal(
	    dk, "ab", S("c"), "f", HDR, (const uint8_t *)"Alice", 5, sealed);
	assert_int_equal(
	    crypto_value_open(dk, "a", S("bc"), "f", HDR, sealed, clen, out),
	    -1);
}

static void
test_value_tampered_fails(void **state)
{
	uint8_t dk[CRYPTO_KEYBYTES], sealed[16 + CRYPTO_SEAL_OVERHEAD], out[16];
	size_t clen = 5 + CRYPTO_SEAL_OVERHEAD, i;

	randombytes_buf(dk, sizeof(dk));
	crypto_value_seal(
	    dk, "r", S("s"), "f", HDR, (const uint8_t *)"Alice", 5, sealed);
	for (i = 0; i < clen; i++) {
		sealed[i] ^= 0x01;
		assert_int_equal(crypto_value_open(dk, "r", S("s"), "f", HDR,
		                     sealed, clen, out),
		    -1);
		sealed[i] ^= 0x01;
	}
	/* too short to hold nonce and tag */
	assert_int_equal(crypto_value_open(dk, "r", S("s"), "f", HDR, sealed,
	                     CRYPTO_SEAL_OVERHEAD - 1, out),
	    -1);
	/* another data key */
	dk[0] ^= 1;
	assert_int_equal(
	    crypto_value_open(dk, "r", S("s"), "f", HDR, sealed, clen, out),
	    -1);
}

static void
test_key_wrap_round_trip(void **state)
{
	crypto_keys *k = test_keys(7), *other = test_keys(8);
	uint8_t dk[CRYPTO_KEYBYTES], back[CRYPTO_KEYBYTES];
	uint8_t wrapped[CRYPTO_WRAPPED_KEYBYTES];

	randombytes_buf(dk, sizeof(dk));
	crypto_key_wrap(k, "customers", S("subject-1"), HDR, dk, wrapped);
	assert_null(memmem(wrapped, sizeof(wrapped), dk, sizeof(dk)));
	assert_int_equal(crypto_key_unwrap(k, "customers", S("subject-1"), HDR,
	                     wrapped, back),
	    0);
	assert_memory_equal(back, dk, sizeof(dk));
	/* bound to (register, subject), and to the master key */
	assert_int_equal(crypto_key_unwrap(k, "customers", S("subject-2"), HDR,
	                     wrapped, back),
	    -1);
	assert_int_equal(
	    crypto_key_unwrap(k, "acis", S("subject-1"), HDR, wrapped, back),
	    -1);
	assert_int_equal(crypto_key_unwrap(other, "customers", S("subject-1"),
	                     HDR, wrapped, back),
	    -1);
	crypto_keys_free(&k);
	crypto_keys_free(&other);
	assert_null(k);
}

/* A record header edited on disk (a time, the purpose) must fail like an
 * edited ciphertext: the seal binds it, for values and wrapped keys. */
static void
test_header_bound_into_seal(void **state)
{
	crypto_keys *k = test_keys(7);
	uint8_t dk[CRYPTO_KEYBYTES], back[CRYPTO_KEYBYTES];
	uint8_t wrapped[CRYPTO_WRAPPED_KEYBYTES];
	uint8_t sealed[16 + CRYPTO_SEAL_OVERHEAD], out[16];
	uint8_t hdr[4] = {2, 'h', 'd', 'r'};
	size_t clen = 5 + CRYPTO_SEAL_OVERHEAD, i;

	randombytes_buf(dk, sizeof(dk));
	crypto_value_seal(dk, "r", S("s"), "f", hdr, sizeof(hdr),
	    (const uint8_t *)"Alice", 5, sealed);
	crypto_key_wrap(k, "r", S("s"), hdr, sizeof(hdr), dk, wrapped);
	assert_int_equal(crypto_value_open(dk, "r", S("s"), "f", hdr,
	                     sizeof(hdr), sealed, clen, out),
	    0);
	assert_int_equal(
	    crypto_key_unwrap(k, "r", S("s"), hdr, sizeof(hdr), wrapped, back),
	    0);
	for (i = 0; i < sizeof(hdr); i++) {
		hdr[i] ^= 0x01;
		assert_int_equal(crypto_value_open(dk, "r", S("s"), "f", hdr,
		                     sizeof(hdr), sealed, clen, out),
		    -1);
		assert_int_equal(crypto_key_unwrap(k, "r", S("s"), hdr,
		                     sizeof(hdr), wrapped, back),
		    -1);
		hdr[i] ^= 0x01;
	}
	/* a shorter header is another header, and no header is another too */
	assert_int_equal(crypto_value_open(dk, "r", S("s"), "f", hdr,
	                     sizeof(hdr) - 1, sealed, clen, out),
	    -1);
	assert_int_equal(
	    crypto_value_open(dk, "r", S("s"), "f", NULL, 0, sealed, clen, out),
	    -1);
	crypto_keys_free(&k);
}

static void
test_secret_seal(void **state)
{
	crypto_keys *k = test_keys(3);
	uint8_t secret[32], sealed[32 + CRYPTO_SEAL_OVERHEAD], back[32];

	randombytes_buf(secret, sizeof(secret));
	crypto_secret_seal(k, "curve_secret", secret, 32, sealed);
	assert_int_equal(
	    crypto_secret_open(k, "curve_secret", sealed, sizeof(sealed), back),
	    0);
	assert_memory_equal(back, secret, 32);
	assert_int_equal(crypto_secret_open(k, "audit_sign_secret", sealed,
	                     sizeof(sealed), back),
	    -1);
	crypto_keys_free(&k);
}

/* Storage ids: deterministic for one master key, different per register,
 * per subject and per master key, and never the subject id itself. */
static void
test_subject_id(void **state)
{
	crypto_keys *k = test_keys(1), *other = test_keys(2);
	uint8_t a[32], b[32], c[32], d[32], e[32];
	char longid[CRYPTO_MAX_SUBJECT + 1];

	crypto_subject_id(k, "customers", S("subject-1"), a);
	crypto_subject_id(k, "customers", S("subject-1"), b);
	assert_memory_equal(a, b, 32);
	crypto_subject_id(k, "acis", S("subject-1"), c);
	assert_memory_not_equal(a, c, 32);
	crypto_subject_id(k, "customers", S("subject-2"), d);
	assert_memory_not_equal(a, d, 32);
	crypto_subject_id(other, "customers", S("subject-1"), e);
	assert_memory_not_equal(a, e, 32);
	/* the longest allowed id works and differs from its prefix */
	memset(longid, 'x', CRYPTO_MAX_SUBJECT);
	longid[CRYPTO_MAX_SUBJECT] = '\0';
	crypto_subject_id(k, "customers", S(longid), a);
	longid[CRYPTO_MAX_SUBJECT - 1] = '\0';
	crypto_subject_id(k, "customers", S(longid), b);
	assert_memory_not_equal(a, b, 32);
	crypto_keys_free(&k);
	crypto_keys_free(&other);
}

/* master.key: created 0600 and loadable; refused when group/other can read
 * it, when its size is wrong, or when it is missing; never overwritten. */
static void
test_master_key_file(void **state)
{
	char dir[] = "/tmp/privd-test-crypto-XXXXXX", path[256], err[256];
	crypto_keys *k = NULL, *k2 = NULL;
	uint8_t sid1[32], sid2[32];
	struct stat st;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	assert_int_equal(crypto_keys_load(path, &k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));

	assert_int_equal(crypto_keys_create(path, &k, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, CRYPTO_KEYBYTES);
	assert_int_equal(crypto_keys_create(path, &k2, err, sizeof(err)), -1);
	assert_null(k2);

	assert_int_equal(crypto_keys_load(path, &k2, err, sizeof(err)), 0);
	crypto_subject_id(k, "r", S("s"), sid1);
	crypto_subject_id(k2, "r", S("s"), sid2);
	assert_memory_equal(sid1, sid2, 32); /* same master, same subkeys */
	crypto_keys_free(&k2);

	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(crypto_keys_load(path, &k2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "group/other"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(crypto_keys_load(path, &k2, err, sizeof(err)), -1);
	assert_int_equal(chmod(path, 0600), 0);

	f = fopen(path, "ab");
	assert_non_null(f);
	fputc('x', f);
	fclose(f);
	assert_int_equal(crypto_keys_load(path, &k2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "32 bytes"));
	assert_null(k2);

	crypto_keys_free(&k);
	unlink(path);
	rmdir(dir);
}

/* A master.key owned by another user than the one running privd is
 * refused, mode 0600 or not: that user could read or replace it. */
static void
test_master_key_owner(void **state)
{
	char dir[] = "/tmp/privd-test-crypto-XXXXXX", path[256], err[256];
	crypto_keys *k = NULL;
	uid_t other = geteuid() == 65534 ? 65533 : 65534;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/master.key", dir);
	assert_int_equal(crypto_keys_create(path, &k, err, sizeof(err)), 0);
	crypto_keys_free(&k);
	if (chown(path, other, (gid_t)-1) != 0) {
		unlink(path);
		rmdir(dir);
		print_message("skipped: making a file owned by another user "
		              "needs root\n");
		skip();
	}
	assert_int_equal(crypto_keys_load(path, &k, err, sizeof(err)), -1);
	assert_null(k);
	assert_non_null(strstr(err, "owned by uid"));
	assert_int_equal(chown(path, geteuid(), (gid_t)-1), 0);
	assert_int_equal(crypto_keys_load(path, &k, err, sizeof(err)), 0);
	crypto_keys_free(&k);
	unlink(path);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_value_round_trip),
	    cmocka_unit_test(test_value_empty_and_large),
	    cmocka_unit_test(test_value_moved_fails),
	    cmocka_unit_test(test_value_tampered_fails),
	    cmocka_unit_test(test_key_wrap_round_trip),
	    cmocka_unit_test(test_header_bound_into_seal),
	    cmocka_unit_test(test_master_key_owner),
	    cmocka_unit_test(test_secret_seal),
	    cmocka_unit_test(test_subject_id),
	    cmocka_unit_test(test_master_key_file),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
