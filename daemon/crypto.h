/*
 * crypto.h - privd's key hierarchy and value encryption (libsodium).
 *
 *   master key (master.key, 32 bytes, 0600)
 *     -> crypto_kdf subkeys: key wrapping, subject ids, audit pseudonyms,
 *        blind index, daemon-secret wrapping
 *   per-subject data key (random), stored wrapped with the key-wrapping key
 *     (XChaCha20-Poly1305-IETF, AAD = register + subject + the subject
 *     record's header)
 *   values sealed with the subject's data key
 *     (XChaCha20-Poly1305-IETF, AAD = register + subject + field + the
 *     value record's header)
 *
 * Every AAD is a tagged, length-prefixed encoding, so no two different
 * (register, subject, field, header) tuples share one: a ciphertext moved to
 * another place does not open, and neither does one whose record header
 * (format, times, purpose) was edited. All secrets live in sodium_malloc
 * memory.
 * sodium_init() must have been called before any of this.
 */
#ifndef PRIVD_CRYPTO_H
#define PRIVD_CRYPTO_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_KEYBYTES   32
#define CRYPTO_NONCEBYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define CRYPTO_TAGBYTES   crypto_aead_xchacha20poly1305_ietf_ABYTES
/* A sealed blob is nonce || ciphertext || tag. */
#define CRYPTO_SEAL_OVERHEAD    (CRYPTO_NONCEBYTES + CRYPTO_TAGBYTES)
#define CRYPTO_WRAPPED_KEYBYTES (CRYPTO_KEYBYTES + CRYPTO_SEAL_OVERHEAD)
#define CRYPTO_SUBJECT_IDBYTES  32

#define CRYPTO_MAX_SUBJECT 256 /* bytes in a subject id */
#define CRYPTO_MAX_NAME    64  /* bytes in a register or field name */
#define CRYPTO_MAX_HDR     512 /* bytes of a record header bound into a seal */
#define CRYPTO_AAD_MAX                                                         \
	(1 + 4 * 2 + CRYPTO_MAX_NAME * 2 + CRYPTO_MAX_SUBJECT + CRYPTO_MAX_HDR)

/*
 * Derived keys. Read-only after crypto_keys_load/create/adopt.
 *
 * After `privd rekey` (daemon/rekey.c) a store holds a keyring: the keys
 * that cannot change without rewriting what privd cannot rewrite (wrap,
 * subject, pseudonym, blind, from the store's first master key), sealed
 * under the secret key of the master key in force; crypto_keyring_adopt
 * puts them in place of the derived ones, and sets `layered`. Then every
 * wrapped data key also carries an outer layer under `outer`, derived from
 * the master key in force, so that a master key replaced by a rekey no
 * longer opens any data key (see crypto_key_wrap).
 */
typedef struct crypto_keys {
	uint8_t wrap[CRYPTO_KEYBYTES];      /* wraps subject data keys */
	uint8_t subject[CRYPTO_KEYBYTES];   /* keyed hash of subject ids */
	uint8_t pseudonym[CRYPTO_KEYBYTES]; /* audit pseudonyms */
	uint8_t blind[CRYPTO_KEYBYTES];     /* blind index of lookup values */
	uint8_t secret[CRYPTO_KEYBYTES];    /* wraps the daemon's own secrets */
	uint8_t outer[CRYPTO_KEYBYTES];     /* outer layer of wrapped keys */
	int layered; /* the store has a keyring: wrapped keys are layered */
} crypto_keys;

/* The keyring as stored (meta "keyring"): the four stable keys sealed. */
#define CRYPTO_KEYRING_BYTES (4 * CRYPTO_KEYBYTES + CRYPTO_SEAL_OVERHEAD)
#define CRYPTO_KEYRING_LABEL "keyring"

/*
 * Load master.key and derive the subkeys. Refuses a file that is missing,
 * not a regular file, readable or writable by group/other, owned by another
 * user than the one running this process, or not exactly 32 bytes; err
 * (errlen bytes) then says which. Returns 0 and a new key set
 * in *out (free with crypto_keys_free), or -1.
 */
int crypto_keys_load(const char *path, crypto_keys **out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* Create a new random master.key (mode 0600, never overwriting) and derive
 * the subkeys. Same return convention as crypto_keys_load. */
int crypto_keys_create(const char *path, crypto_keys **out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

/* Derive the subkeys from a master key held by the caller (tests). */
crypto_keys *crypto_keys_derive(const uint8_t master[CRYPTO_KEYBYTES]);

/*
 * Open a stored keyring (len bytes) with k's secret key and put its keys
 * in place of k's stable ones; k becomes layered. 0, or -1 if it does not
 * open under k (another master key, or damaged).
 */
int crypto_keyring_adopt(crypto_keys *k, const uint8_t *ring, size_t len)
    __attribute__((warn_unused_result));

/* Seal k's stable keys as a keyring under k's secret key. */
void crypto_keyring_seal(
    const crypto_keys *k, uint8_t out[CRYPTO_KEYRING_BYTES]);

/*
 * The key set of a new master key for a store whose keys are now old:
 * secret and outer derived from new_master, the stable keys taken from
 * old; layered. NULL if out of secure memory.
 */
crypto_keys *crypto_keys_rekeyed(
    const crypto_keys *old, const uint8_t new_master[CRYPTO_KEYBYTES]);

/*
 * Move a wrapped data key from the outer layer of `from` to that of `to`
 * (either may be unlayered: no layer), in place, knowing only what the
 * store holds: the subject's storage id and its record's header. Its
 * inner seal is untouched (it binds the subject id, which is not stored).
 */
void crypto_key_relayer(const crypto_keys *from, const crypto_keys *to,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const uint8_t *hdr,
    size_t hdrlen, uint8_t blob[CRYPTO_WRAPPED_KEYBYTES]);

/* Create a new random master key file like crypto_keys_create, and give
 * back the key itself in master (sodium memory of the caller) instead of
 * deriving. */
int crypto_master_create(const char *path, uint8_t master[CRYPTO_KEYBYTES],
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* Wipe and free a key set; NULL-safe; sets *k to NULL. */
void crypto_keys_free(crypto_keys **k);

/* The storage id of a subject: BLAKE2b keyed with the subject key over
 * (register, subject). Plaintext subject ids never reach the disk. */
void crypto_subject_id(const crypto_keys *k, const char *reg,
    const uint8_t *subj, size_t subjlen, uint8_t out[CRYPTO_SUBJECT_IDBYTES]);

/* The audit pseudonym of a subject id: BLAKE2b keyed with the pseudonym key
 * over the id alone, so one person's events in every register share it. */
#define CRYPTO_PSEUDONYMBYTES 32
void crypto_pseudonym(const crypto_keys *k, const uint8_t *subj, size_t subjlen,
    uint8_t out[CRYPTO_PSEUDONYMBYTES]);

/* Wrap / unwrap a subject's data key, bound to (register, subject) and to
 * the subject record's header (hdr, hdrlen <= CRYPTO_MAX_HDR bytes).
 * unwrap returns -1 if the blob or the header was altered or belongs
 * elsewhere. With a layered key set the blob also carries the outer layer
 * (crypto_key_relayer). */
void crypto_key_wrap(const crypto_keys *k, const char *reg, const uint8_t *subj,
    size_t subjlen, const uint8_t *hdr, size_t hdrlen,
    const uint8_t dk[CRYPTO_KEYBYTES], uint8_t out[CRYPTO_WRAPPED_KEYBYTES]);
int crypto_key_unwrap(const crypto_keys *k, const char *reg,
    const uint8_t *subj, size_t subjlen, const uint8_t *hdr, size_t hdrlen,
    const uint8_t in[CRYPTO_WRAPPED_KEYBYTES], uint8_t dk[CRYPTO_KEYBYTES])
    __attribute__((warn_unused_result));

/* Seal a value of mlen bytes into out (mlen + CRYPTO_SEAL_OVERHEAD bytes),
 * bound to (register, subject, field) and to the value record's header
 * (hdr, hdrlen <= CRYPTO_MAX_HDR bytes). */
void crypto_value_seal(const uint8_t dk[CRYPTO_KEYBYTES], const char *reg,
    const uint8_t *subj, size_t subjlen, const char *field, const uint8_t *hdr,
    size_t hdrlen, const uint8_t *m, size_t mlen, uint8_t *out);

/* Open a sealed value of clen bytes into m (clen - CRYPTO_SEAL_OVERHEAD
 * bytes). Returns -1 if clen is too short, or the blob or its header was
 * altered, or it was moved. */
int crypto_value_open(const uint8_t dk[CRYPTO_KEYBYTES], const char *reg,
    const uint8_t *subj, size_t subjlen, const char *field, const uint8_t *hdr,
    size_t hdrlen, const uint8_t *c, size_t clen, uint8_t *m)
    __attribute__((warn_unused_result));

/* Seal / open a daemon secret (CURVE secret key, audit signing key) under
 * the secret-wrapping key, bound to a label such as "curve-server". */
void crypto_secret_seal(const crypto_keys *k, const char *label,
    const uint8_t *m, size_t mlen, uint8_t *out);
int crypto_secret_open(const crypto_keys *k, const char *label,
    const uint8_t *c, size_t clen, uint8_t *m)
    __attribute__((warn_unused_result));

/* Seal / open a small secret of privd's own records (a subject id kept for
 * the sweeper, a hold's reason) under the secret-wrapping key, bound to a
 * label and to the bytes of the record's key (bind, at most
 * CRYPTO_MAX_SUBJECT bytes): a sealed blob moved to another record does
 * not open. */
void crypto_bound_seal(const crypto_keys *k, const char *label,
    const uint8_t *bind, size_t bindlen, const uint8_t *m, size_t mlen,
    uint8_t *out);
int crypto_bound_open(const crypto_keys *k, const char *label,
    const uint8_t *bind, size_t bindlen, const uint8_t *c, size_t clen,
    uint8_t *m) __attribute__((warn_unused_result));

/* Seal / open an anonymous record of register reg (its random id, idlen
 * <= CRYPTO_MAX_SUBJECT bytes, and its header bound in) under the
 * register's anonymous-record key, derived from the secret key: nothing
 * about a subject goes into it. */
void crypto_anon_seal(const crypto_keys *k, const char *reg, const uint8_t *id,
    size_t idlen, const uint8_t *hdr, size_t hdrlen, const uint8_t *m,
    size_t mlen, uint8_t *out);
int crypto_anon_open(const crypto_keys *k, const char *reg, const uint8_t *id,
    size_t idlen, const uint8_t *hdr, size_t hdrlen, const uint8_t *c,
    size_t clen, uint8_t *m) __attribute__((warn_unused_result));

#endif
