/*
 * crypto.c - key hierarchy and sealing; see crypto.h.
 */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KDF_CONTEXT "privd-v1" /* crypto_kdf_CONTEXTBYTES == 8 */

enum {
	KDF_ID_WRAP = 1,
	KDF_ID_SUBJECT,
	KDF_ID_PSEUDONYM,
	KDF_ID_BLIND,
	KDF_ID_SECRET,
	KDF_ID_OUTER,
};

/* AAD domain tags: a wrapped key can never be taken for a value. */
enum {
	AAD_KEY = 'K',
	AAD_VALUE = 'V',
	AAD_SECRET = 'S',
	AAD_SUBJECT = 'I',
	AAD_BOUND = 'B',
	AAD_ANON = 'A',
};

crypto_keys *
crypto_keys_derive(const uint8_t master[CRYPTO_KEYBYTES])
{
	crypto_keys *k;

	if ((k = sodium_malloc(sizeof(*k))) == NULL)
		return NULL;
	crypto_kdf_derive_from_key(
	    k->wrap, sizeof(k->wrap), KDF_ID_WRAP, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->subject, sizeof(k->subject),
	    KDF_ID_SUBJECT, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(k->pseudonym, sizeof(k->pseudonym),
	    KDF_ID_PSEUDONYM, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(
	    k->blind, sizeof(k->blind), KDF_ID_BLIND, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(
	    k->secret, sizeof(k->secret), KDF_ID_SECRET, KDF_CONTEXT, master);
	crypto_kdf_derive_from_key(
	    k->outer, sizeof(k->outer), KDF_ID_OUTER, KDF_CONTEXT, master);
	k->layered = 0;
	sodium_mprotect_readonly(k);
	return k;
}

/*
 * DESIGN (privd rekey). A new master key must leave the old one opening
 * nothing in the store, but not every key below the master key can be
 * replaced offline:
 * - subject, pseudonym and blind are keys of keyed hashes: the storage id
 *   of every record, the pseudonyms inside the signed audit chain (which
 *   cannot be rewritten without breaking its signatures), the erasure
 *   journal's ids that a restore applies to older backups, the blind
 *   index. They stay as they are.
 * - wrap seals each subject's data key with the plaintext subject id in
 *   its AAD, which privd never stores: a wrapped key cannot be opened and
 *   sealed again without the request that names the subject. So the inner
 *   seal stays, under the first wrap key, and a rekey puts an outer layer
 *   on it instead: the blob XORed with an XChaCha20 stream under `outer`
 *   (derived from the master key in force), its nonce a hash of the
 *   subject's storage id and the record's header, which the store holds.
 *   The inner tag still authenticates the whole blob (a bit flipped in the
 *   outer layer flips one in the inner blob), and a later rekey swaps one
 *   stream for another without opening anything.
 * - secret (the daemon's secrets, subject ids for the sweeper, holds,
 *   subject states, anonymous records) is replaced: everything sealed
 *   under it is opened and sealed again.
 * The stable keys are kept in a keyring sealed under the new secret key
 * (crypto_keyring_*). So after a rekey the old master key opens no value,
 * data key, daemon secret or retention record; what it still gives is the
 * keyed hashes: with a copy of the rekeyed store and a subject id, one can
 * tell whether that subject is in it (as before the rekey).
 */
int
crypto_keyring_adopt(crypto_keys *k, const uint8_t *ring, size_t len)
{
	uint8_t *plain;
	int rc = -1;

	if (len != CRYPTO_KEYRING_BYTES ||
	    (plain = sodium_malloc(4 * CRYPTO_KEYBYTES)) == NULL)
		return -1;
	if (crypto_secret_open(k, CRYPTO_KEYRING_LABEL, ring, len, plain) ==
	    0) {
		sodium_mprotect_readwrite(k);
		memcpy(k->wrap, plain, CRYPTO_KEYBYTES);
		memcpy(k->subject, plain + CRYPTO_KEYBYTES, CRYPTO_KEYBYTES);
		memcpy(
		    k->pseudonym, plain + 2 * CRYPTO_KEYBYTES, CRYPTO_KEYBYTES);
		memcpy(k->blind, plain + 3 * CRYPTO_KEYBYTES, CRYPTO_KEYBYTES);
		k->layered = 1;
		sodium_mprotect_readonly(k);
		rc = 0;
	}
	sodium_free(plain);
	return rc;
}

void
crypto_keyring_seal(const crypto_keys *k, uint8_t out[CRYPTO_KEYRING_BYTES])
{
	uint8_t *plain;

	if ((plain = sodium_malloc(4 * CRYPTO_KEYBYTES)) == NULL)
		abort(); /* callers check with crypto_keys_rekeyed first */
	memcpy(plain, k->wrap, CRYPTO_KEYBYTES);
	memcpy(plain + CRYPTO_KEYBYTES, k->subject, CRYPTO_KEYBYTES);
	memcpy(plain + 2 * CRYPTO_KEYBYTES, k->pseudonym, CRYPTO_KEYBYTES);
	memcpy(plain + 3 * CRYPTO_KEYBYTES, k->blind, CRYPTO_KEYBYTES);
	crypto_secret_seal(
	    k, CRYPTO_KEYRING_LABEL, plain, 4 * CRYPTO_KEYBYTES, out);
	sodium_free(plain);
}

crypto_keys *
crypto_keys_rekeyed(
    const crypto_keys *old, const uint8_t new_master[CRYPTO_KEYBYTES])
{
	crypto_keys *k;

	if ((k = crypto_keys_derive(new_master)) == NULL)
		return NULL;
	sodium_mprotect_readwrite(k);
	memcpy(k->wrap, old->wrap, CRYPTO_KEYBYTES);
	memcpy(k->subject, old->subject, CRYPTO_KEYBYTES);
	memcpy(k->pseudonym, old->pseudonym, CRYPTO_KEYBYTES);
	memcpy(k->blind, old->blind, CRYPTO_KEYBYTES);
	k->layered = 1;
	sodium_mprotect_readonly(k);
	return k;
}

/* XOR the outer layer of k onto a wrapped key of storage id sid whose
 * record header is hdr: applying it twice removes it. */
static void
outer_xor(const crypto_keys *k, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES],
    const uint8_t *hdr, size_t hdrlen, uint8_t blob[CRYPTO_WRAPPED_KEYBYTES])
{
	uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES], len[2];
	crypto_generichash_state h;

	if (!k->layered)
		return;
	len[0] = (uint8_t)(hdrlen >> 8);
	len[1] = (uint8_t)hdrlen;
	crypto_generichash_init(&h, NULL, 0, sizeof(nonce));
	crypto_generichash_update(&h, (const uint8_t *)"privd-outer-v1", 14);
	crypto_generichash_update(&h, sid, CRYPTO_SUBJECT_IDBYTES);
	crypto_generichash_update(&h, len, sizeof(len));
	crypto_generichash_update(&h, hdr, hdrlen);
	crypto_generichash_final(&h, nonce, sizeof(nonce));
	crypto_stream_xchacha20_xor(
	    blob, blob, CRYPTO_WRAPPED_KEYBYTES, nonce, k->outer);
}

void
crypto_key_relayer(const crypto_keys *from, const crypto_keys *to,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const uint8_t *hdr,
    size_t hdrlen, uint8_t blob[CRYPTO_WRAPPED_KEYBYTES])
{
	outer_xor(from, sid, hdr, hdrlen, blob);
	outer_xor(to, sid, hdr, hdrlen, blob);
}

void
crypto_keys_free(crypto_keys **k)
{
	if (k == NULL || *k == NULL)
		return;
	sodium_free(*k); /* sodium_free wipes before unmapping */
	*k = NULL;
}

/*
 * Read exactly one master key from an open file into sodium memory, then
 * derive. The master key itself does not outlive this call: only subkeys
 * are kept.
 */
static int
keys_from_fd(int fd, crypto_keys **out, char *err, size_t errlen)
{
	uint8_t *master, extra;
	ssize_t n;
	size_t got = 0;

	if ((master = sodium_malloc(CRYPTO_KEYBYTES)) == NULL) {
		snprintf(err, errlen, "out of secure memory");
		return -1;
	}
	while (got < CRYPTO_KEYBYTES) {
		n = read(fd, master + got, CRYPTO_KEYBYTES - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got != CRYPTO_KEYBYTES || read(fd, &extra, 1) != 0) {
		sodium_free(master);
		snprintf(err, errlen,
		    "master key file must be exactly %d bytes",
		    CRYPTO_KEYBYTES);
		return -1;
	}
	*out = crypto_keys_derive(master);
	sodium_free(master);
	if (*out == NULL) {
		snprintf(err, errlen, "out of secure memory");
		return -1;
	}
	return 0;
}

int
crypto_keys_load(const char *path, crypto_keys **out, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		snprintf(err, errlen, "cannot open master key %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(
		    err, errlen, "master key %s is not a regular file", path);
		close(fd);
		return -1;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen,
		    "master key %s is accessible by group/other (mode %04o); "
		    "chmod 600 it",
		    path, (unsigned)(st.st_mode & 07777));
		close(fd);
		return -1;
	}
	/* Another user's key file could be swapped or read by that user;
	 * the key belongs to whoever runs privd and to nobody else. */
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen,
		    "master key %s is owned by uid %u, not by uid %u that "
		    "privd runs as; chown it",
		    path, (unsigned)st.st_uid, (unsigned)geteuid());
		close(fd);
		return -1;
	}
	if (st.st_size != CRYPTO_KEYBYTES) {
		snprintf(err, errlen, "master key %s must be exactly %d bytes",
		    path, CRYPTO_KEYBYTES);
		close(fd);
		return -1;
	}
	rc = keys_from_fd(fd, out, err, errlen);
	close(fd);
	return rc;
}

int
crypto_master_create(
    const char *path, uint8_t master[CRYPTO_KEYBYTES], char *err, size_t errlen)
{
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create master key %s: %s", path,
		    strerror(errno));
		return -1;
	}
	randombytes_buf(master, CRYPTO_KEYBYTES);
	while (off < CRYPTO_KEYBYTES) {
		n = write(fd, master + off, CRYPTO_KEYBYTES - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write master key: %s",
			    strerror(errno));
			goto fail;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0) {
		snprintf(
		    err, errlen, "cannot sync master key: %s", strerror(errno));
		goto fail;
	}
	close(fd);
	return 0;
fail:
	close(fd);
	unlink(path);
	sodium_memzero(master, CRYPTO_KEYBYTES);
	return -1;
}

int
crypto_keys_create(
    const char *path, crypto_keys **out, char *err, size_t errlen)
{
	uint8_t *master;

	*out = NULL;
	if ((master = sodium_malloc(CRYPTO_KEYBYTES)) == NULL) {
		snprintf(err, errlen, "out of secure memory");
		return -1;
	}
	if (crypto_master_create(path, master, err, errlen) != 0) {
		sodium_free(master);
		return -1;
	}
	*out = crypto_keys_derive(master);
	sodium_free(master);
	if (*out == NULL) {
		snprintf(err, errlen, "out of secure memory");
		unlink(path);
		return -1;
	}
	return 0;
}

/* Append a 16-bit length-prefixed byte string to an AAD buffer. */
static size_t
aad_put(uint8_t *buf, size_t off, const void *p, size_t len)
{
	buf[off++] = (uint8_t)(len >> 8);
	buf[off++] = (uint8_t)len;
	if (len > 0)
		memcpy(buf + off, p, len);
	return off + len;
}

/*
 * Build the AAD for (tag, register, subject[, field][, header]) into a
 * buffer of CRYPTO_AAD_MAX bytes. Callers validate lengths (names <=
 * CRYPTO_MAX_NAME, subjects <= CRYPTO_MAX_SUBJECT) on the way in, and
 * headers are privd's own; a longer one here is a broken invariant, and
 * truncating it would let two subjects share a key, so it aborts instead.
 */
static size_t
aad_build(uint8_t *buf, int tag, const char *reg, const uint8_t *subj,
    size_t subjlen, const char *field, const uint8_t *hdr, size_t hdrlen)
{
	size_t off = 0, reglen, fieldlen = 0;

	reglen = strlen(reg);
	if (field != NULL)
		fieldlen = strlen(field);
	if (reglen > CRYPTO_MAX_NAME || fieldlen > CRYPTO_MAX_NAME ||
	    subjlen > CRYPTO_MAX_SUBJECT || hdrlen > CRYPTO_MAX_HDR)
		abort();
	buf[off++] = (uint8_t)tag;
	off = aad_put(buf, off, reg, reglen);
	off = aad_put(buf, off, subj, subjlen);
	if (field != NULL)
		off = aad_put(buf, off, field, fieldlen);
	if (hdr != NULL)
		off = aad_put(buf, off, hdr, hdrlen);
	return off;
}

void
crypto_subject_id(const crypto_keys *k, const char *reg, const uint8_t *subj,
    size_t subjlen, uint8_t out[CRYPTO_SUBJECT_IDBYTES])
{
	uint8_t buf[CRYPTO_AAD_MAX];
	size_t n;

	n = aad_build(buf, AAD_SUBJECT, reg, subj, subjlen, NULL, NULL, 0);
	crypto_generichash(out, CRYPTO_SUBJECT_IDBYTES, buf, n, k->subject,
	    sizeof(k->subject));
	sodium_memzero(buf, n);
}

void
crypto_pseudonym(const crypto_keys *k, const uint8_t *subj, size_t subjlen,
    uint8_t out[CRYPTO_PSEUDONYMBYTES])
{
	crypto_generichash(out, CRYPTO_PSEUDONYMBYTES, subj, subjlen,
	    k->pseudonym, sizeof(k->pseudonym));
}

/* Seal m into out = nonce || ciphertext || tag under key with AAD. */
static void
seal(const uint8_t *key, const uint8_t *aad, size_t aadlen, const uint8_t *m,
    size_t mlen, uint8_t *out)
{
	randombytes_buf(out, CRYPTO_NONCEBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + CRYPTO_NONCEBYTES,
	    NULL, m, mlen, aad, aadlen, NULL, out, key);
}

static int
open_sealed(const uint8_t *key, const uint8_t *aad, size_t aadlen,
    const uint8_t *c, size_t clen, uint8_t *m)
{
	if (clen < CRYPTO_SEAL_OVERHEAD)
		return -1;
	return crypto_aead_xchacha20poly1305_ietf_decrypt(m, NULL, NULL,
	    c + CRYPTO_NONCEBYTES, clen - CRYPTO_NONCEBYTES, aad, aadlen, c,
	    key);
}

void
crypto_key_wrap(const crypto_keys *k, const char *reg, const uint8_t *subj,
    size_t subjlen, const uint8_t *hdr, size_t hdrlen,
    const uint8_t dk[CRYPTO_KEYBYTES], uint8_t out[CRYPTO_WRAPPED_KEYBYTES])
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;

	n = aad_build(aad, AAD_KEY, reg, subj, subjlen, NULL, hdr, hdrlen);
	seal(k->wrap, aad, n, dk, CRYPTO_KEYBYTES, out);
	sodium_memzero(aad, n);
	if (k->layered) {
		uint8_t sid[CRYPTO_SUBJECT_IDBYTES];

		crypto_subject_id(k, reg, subj, subjlen, sid);
		outer_xor(k, sid, hdr, hdrlen, out);
	}
}

int
crypto_key_unwrap(const crypto_keys *k, const char *reg, const uint8_t *subj,
    size_t subjlen, const uint8_t *hdr, size_t hdrlen,
    const uint8_t in[CRYPTO_WRAPPED_KEYBYTES], uint8_t dk[CRYPTO_KEYBYTES])
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;
	int rc;
	uint8_t blob[CRYPTO_WRAPPED_KEYBYTES];

	memcpy(blob, in, sizeof(blob));
	if (k->layered) {
		uint8_t sid[CRYPTO_SUBJECT_IDBYTES];

		crypto_subject_id(k, reg, subj, subjlen, sid);
		outer_xor(k, sid, hdr, hdrlen, blob);
	}
	n = aad_build(aad, AAD_KEY, reg, subj, subjlen, NULL, hdr, hdrlen);
	rc = open_sealed(k->wrap, aad, n, blob, CRYPTO_WRAPPED_KEYBYTES, dk);
	sodium_memzero(aad, n);
	return rc;
}

void
crypto_value_seal(const uint8_t dk[CRYPTO_KEYBYTES], const char *reg,
    const uint8_t *subj, size_t subjlen, const char *field, const uint8_t *hdr,
    size_t hdrlen, const uint8_t *m, size_t mlen, uint8_t *out)
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;

	n = aad_build(aad, AAD_VALUE, reg, subj, subjlen, field, hdr, hdrlen);
	seal(dk, aad, n, m, mlen, out);
	sodium_memzero(aad, n);
}

int
crypto_value_open(const uint8_t dk[CRYPTO_KEYBYTES], const char *reg,
    const uint8_t *subj, size_t subjlen, const char *field, const uint8_t *hdr,
    size_t hdrlen, const uint8_t *c, size_t clen, uint8_t *m)
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;
	int rc;

	n = aad_build(aad, AAD_VALUE, reg, subj, subjlen, field, hdr, hdrlen);
	rc = open_sealed(dk, aad, n, c, clen, m);
	sodium_memzero(aad, n);
	return rc;
}

void
crypto_secret_seal(const crypto_keys *k, const char *label, const uint8_t *m,
    size_t mlen, uint8_t *out)
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;

	n = aad_build(aad, AAD_SECRET, label, NULL, 0, NULL, NULL, 0);
	seal(k->secret, aad, n, m, mlen, out);
}

int
crypto_secret_open(const crypto_keys *k, const char *label, const uint8_t *c,
    size_t clen, uint8_t *m)
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;

	n = aad_build(aad, AAD_SECRET, label, NULL, 0, NULL, NULL, 0);
	return open_sealed(k->secret, aad, n, c, clen, m);
}

void
crypto_bound_seal(const crypto_keys *k, const char *label, const uint8_t *bind,
    size_t bindlen, const uint8_t *m, size_t mlen, uint8_t *out)
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;

	n = aad_build(aad, AAD_BOUND, label, bind, bindlen, NULL, NULL, 0);
	seal(k->secret, aad, n, m, mlen, out);
}

int
crypto_bound_open(const crypto_keys *k, const char *label, const uint8_t *bind,
    size_t bindlen, const uint8_t *c, size_t clen, uint8_t *m)
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;

	n = aad_build(aad, AAD_BOUND, label, bind, bindlen, NULL, NULL, 0);
	return open_sealed(k->secret, aad, n, c, clen, m);
}

/* The register's key for anonymous records: derived from the secret key
 * and the register's name, never stored. */
static void
anon_key(const crypto_keys *k, const char *reg, uint8_t key[CRYPTO_KEYBYTES])
{
	crypto_generichash_state h;

	crypto_generichash_init(
	    &h, k->secret, sizeof(k->secret), CRYPTO_KEYBYTES);
	crypto_generichash_update(&h, (const uint8_t *)"privd-anon-v1", 13);
	crypto_generichash_update(&h, (const uint8_t *)reg, strlen(reg));
	crypto_generichash_final(&h, key, CRYPTO_KEYBYTES);
}

void
crypto_anon_seal(const crypto_keys *k, const char *reg, const uint8_t *id,
    size_t idlen, const uint8_t *hdr, size_t hdrlen, const uint8_t *m,
    size_t mlen, uint8_t *out)
{
	uint8_t aad[CRYPTO_AAD_MAX], key[CRYPTO_KEYBYTES];
	size_t n;

	anon_key(k, reg, key);
	n = aad_build(aad, AAD_ANON, reg, id, idlen, NULL, hdr, hdrlen);
	seal(key, aad, n, m, mlen, out);
	sodium_memzero(key, sizeof(key));
}

int
crypto_anon_open(const crypto_keys *k, const char *reg, const uint8_t *id,
    size_t idlen, const uint8_t *hdr, size_t hdrlen, const uint8_t *c,
    size_t clen, uint8_t *m)
{
	uint8_t aad[CRYPTO_AAD_MAX], key[CRYPTO_KEYBYTES];
	size_t n;
	int rc;

	anon_key(k, reg, key);
	n = aad_build(aad, AAD_ANON, reg, id, idlen, NULL, hdr, hdrlen);
	rc = open_sealed(key, aad, n, c, clen, m);
	sodium_memzero(key, sizeof(key));
	return rc;
}
