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
	sodium_mprotect_readonly(k);
	return k;
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
crypto_keys_create(
    const char *path, crypto_keys **out, char *err, size_t errlen)
{
	uint8_t *master;
	size_t off = 0;
	ssize_t n;
	int fd;

	*out = NULL;
	fd = open(
	    path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create master key %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if ((master = sodium_malloc(CRYPTO_KEYBYTES)) == NULL) {
		snprintf(err, errlen, "out of secure memory");
		goto fail;
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
	*out = crypto_keys_derive(master);
	sodium_free(master);
	if (*out == NULL) {
		snprintf(err, errlen, "out of secure memory");
		unlink(path);
		return -1;
	}
	return 0;
fail:
	if (master != NULL)
		sodium_free(master);
	close(fd);
	unlink(path);
	return -1;
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
}

int
crypto_key_unwrap(const crypto_keys *k, const char *reg, const uint8_t *subj,
    size_t subjlen, const uint8_t *hdr, size_t hdrlen,
    const uint8_t in[CRYPTO_WRAPPED_KEYBYTES], uint8_t dk[CRYPTO_KEYBYTES])
{
	uint8_t aad[CRYPTO_AAD_MAX];
	size_t n;
	int rc;

	n = aad_build(aad, AAD_KEY, reg, subj, subjlen, NULL, hdr, hdrlen);
	rc = open_sealed(k->wrap, aad, n, in, CRYPTO_WRAPPED_KEYBYTES, dk);
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
