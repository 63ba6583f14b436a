/*
 * store.h - privd's store: its tables and the layout of their records.
 *
 * The store is reached through store_kv.h (ordered tables, transactions,
 * cursors) whatever the backend: LMDB in the data directory (the default,
 * store_lmdb.c) or PostgreSQL (store_pg.c). Only the backend's own file
 * knows its types; the rest of privd holds a store * and a store_txn *.
 * Tables (DESIGN.md section 3; LMDB's named databases):
 *   meta      ASCII name -> bytes      format version, wrapped daemon keys
 *   policy    be64 version -> record   every policy version ever applied
 *   subjects  sid(32) -> record        a subject's wrapped data key
 *   values    sid(32) || field -> rec  one sealed value per field
 *   audit     be64 seq -> hash(32) || serialised privd.v1.AuditEvent
 *   audit_ix  be64 run || key -> postings  indexes of the audit log, by
 *                                      subject and principal, written in
 *                                      bulk behind it (audit_index.h)
 *   audit_ckpt be64 seq -> time(8) hash(32) signature(64)
 *   subj_state, erasures: data subjects' requests (substate.h)
 *   blind, blind_of: the blind index of lookup values (blind.h)
 *   ret_sub, ret_plan, ret_due, ret_reg, holds, anon: retention
 *                                      (retstore.h)
 * sid is crypto_subject_id(register, subject): a keyed hash, so neither a
 * subject id nor a register-subject pair appears on disk, and every key has
 * a fixed, short size whatever the subject id's length. A subject's values
 * are one range scan (prefix sid), sorted by field name.
 *
 * Threads: any thread may run read transactions; only the writer thread
 * runs write transactions. LMDB: a worker's read handle (store_read_begin)
 * holds the map lock shared, and only the writer grows the map, holding
 * it exclusive (store_lmdb.c).
 */
#ifndef PRIVD_STORE_H
#define PRIVD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "store_kv.h"

/* The store's format: in meta "format" (a native uint32) and in the first
 * byte of every subject and value record. 2: record headers are bound into
 * the seals (crypto.h). privd opens only the format it writes. */
#define STORE_FORMAT          2
#define STORE_DEFAULT_MAPSIZE (64u * 1024 * 1024)
#define STORE_MIN_MAPSIZE     (1u * 1024 * 1024)

/* subjects record: fmt(1) created_us(8) wrapped data key; the first nine
 * bytes are the header that the wrapping binds (store_subject_header). */
#define STORE_SUBJECT_HDRBYTES 9
#define STORE_SUBJECT_RECBYTES                                                 \
	(STORE_SUBJECT_HDRBYTES + CRYPTO_WRAPPED_KEYBYTES)
typedef struct store_subject {
	uint64_t created_us;
	uint8_t wrapped[CRYPTO_WRAPPED_KEYBYTES];
} store_subject;

/* values record: fmt(1) created_us(8) updated_us(8) purpose_len(1) purpose
 * sealed value (nonce || ciphertext || tag). Everything before the sealed
 * value is the header that the seal binds. */
#define STORE_VALUE_HDRBYTES (1 + 8 + 8 + 1)
typedef struct store_value {
	const uint8_t *hdr; /* the record's header, hdrlen bytes */
	size_t hdrlen;
	uint64_t created_us;
	uint64_t updated_us;
	const char *purpose; /* not NUL-terminated; points into the record */
	size_t purposelen;
	const uint8_t *sealed; /* points into the record */
	size_t sealedlen;
} store_value;

#define STORE_VALUE_KEYMAX (CRYPTO_SUBJECT_IDBYTES + CRYPTO_MAX_NAME)

/*
 * Open (create == true: create) the store in dir. mapsize is the initial map
 * size; an existing larger store keeps its size. Returns 0, or -1 with err.
 */
int store_open(const char *dir, size_t mapsize, bool create, store **out,
    char *err, size_t errlen);
void store_close(store **s);
/*
 * Open the store a --store argument names: "lmdb:DIR" or a path (LMDB, as
 * store_open), or a PostgreSQL connection string ("postgresql://...",
 * "postgres://...", "host=..."), when privd was built with libpq.
 */
int store_open_spec(const char *spec, size_t mapsize, bool create, store **out,
    char *err, size_t errlen);
/* The backend's name: "lmdb", "postgresql". */
const char *store_backend(const store *s);
/* The time a step of housekeeping given us on LMDB may take on this
 * store: on PostgreSQL every read is a round trip, and a sweep step of
 * 2 ms would end between the fields of one subject (two events for one
 * action). */
uint64_t store_step_us(const store *s, uint64_t us);

/* A consistent, compact copy of the whole store into fd (a backup):
 * 0, an error code, or ENOTSUP for a backend that has no such copy.
 * store_copy_size estimates its length (0: unknown). */
int store_copy(store *s, int fd);
uint64_t store_copy_size(store *s);
/*
 * Open, read-only, an LMDB store that is not the serving one: a backup's
 * image (image: one file, LMDB's compacted copy, opened without a lock
 * file as nobody else opens it) or a stopped data directory (restore).
 * Only meta, audit, audit_ckpt and erasures are opened (what backup and
 * restore read); other tables give EINVAL. 0 or an error code. Backups
 * are LMDB images whatever the serving backend, so this is LMDB's.
 */
int store_open_image(const char *path, bool image, store **out);
/* Whether each commit flushes the store's root at once (on: the default)
 * or leaves it to the next commit's flush or store_sync (writer.c's held
 * flush). 0, or ENOTSUP if the backend's commits are always durable. */
int store_set_meta_sync(store *s, bool on);
/* Make every commit so far durable. */
int store_sync(store *s);

/*
 * LMDB's map (the others answer 0, true, nothing, 0): double the map.
 * Writer thread only, with no transaction of its own open. Waits for
 * readers to leave (maplock). Returns a store error code.
 */
int store_grow(store *s);
/* Take the map size the store's file records, grown by another process
 * (privd server-key next opens the store beside a serving privd). No
 * transaction of this thread may be open; it waits for the workers' read
 * handles. A write transaction begun on a map grown elsewhere adopts it
 * by itself; a read-only one fails with STORE_MAP_RESIZED,
 * after which a thread with no other transaction calls this and begins
 * again. */
int store_map_adopt(store *s);

/*
 * Room ahead of a long read transaction (a backup's copy): while it is
 * open the writer cannot grow the map without waiting for it, and every
 * reader would queue behind the writer. store_want_map asks for a map of
 * at least bytes (any thread) and waits up to timeout_ms for the writer
 * to grow it; true if the map is that large. store_grow_wanted is the
 * writer's side: grow while the map is smaller than asked (no
 * transaction of its own open).
 */
bool store_want_map(store *s, size_t bytes, int timeout_ms);
void store_grow_wanted(store *s);
/* Bytes the store uses now (its last page), for store_want_map. */
size_t store_used_bytes(store *s);

/*
 * Is a failed write transaction's error the store's disk being full
 * (false for a backend on a server, whose disk is not privd's)? True
 * for ENOSPC, EDQUOT and EFBIG, and for EIO (what LMDB reports for a short
 * write) when the file system has almost no room left or the data file
 * has reached the process's file size limit.
 */
bool store_disk_full(store *s, int rc);

/* A worker's long-lived read transaction: begin (*txn NULL) or renew;
 * end resets it (LMDB: under maplock shared, released at the end). */
int store_read_begin(store *s, store_txn **txn);
void store_read_end(store *s, store_txn *txn);

int store_meta_get(store *s, store_txn *txn, const char *name, store_val *v);
int store_meta_put(
    store *s, store_txn *txn, const char *name, const void *p, size_t len);
/* 0, STORE_NOTFOUND, or a store error. */
int store_meta_del(store *s, store_txn *txn, const char *name);
/* A big-endian uint64 in meta; *v = def if it is absent. */
int store_meta_get_u64(
    store *s, store_txn *txn, const char *name, uint64_t def, uint64_t *v);
int store_meta_put_u64(store *s, store_txn *txn, const char *name, uint64_t v);

/* Record the format of a new store (init). */
int store_format_put(store *s, store_txn *txn);
/* Check that the store is in the format this privd reads; -1 with a
 * message for the operator in err if not. */
int store_format_check(store *s, store_txn *txn, char *err, size_t errlen);

/* One stored policy version; pointers are valid for the transaction. */
typedef struct store_policy {
	uint64_t version;
	uint64_t time_us;
	const char *who; /* not NUL-terminated */
	size_t wholen;
	const char *json; /* not NUL-terminated */
	size_t len;
} store_policy;

/* Policy versions: record = time_us(8) wholen(1) who json. */
int store_policy_put(store *s, store_txn *txn, uint64_t version,
    uint64_t time_us, const char *who, const char *json, size_t len);
/* The latest version. */
int store_policy_latest(store *s, store_txn *txn, store_policy *out);
/* A given version. */
int store_policy_get(
    store *s, store_txn *txn, uint64_t version, store_policy *out);
/* Decode a (key, record) pair of the policy database; STORE_CORRUPTED if it
 * is malformed. For cursors walking the history. */
int store_policy_decode(
    const store_val *k, const store_val *v, store_policy *out);

int store_subject_get(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], store_subject *out);
/* The header of a subject record (what its key wrapping binds). */
void store_subject_header(
    uint8_t hdr[STORE_SUBJECT_HDRBYTES], uint64_t created_us);
int store_subject_put(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const store_subject *sub);

/* Build a values key; returns its length. key: STORE_VALUE_KEYMAX bytes. */
size_t store_value_key(
    uint8_t *key, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field);
/* Encode a value record header into hdr (STORE_VALUE_HDRBYTES + purposelen
 * bytes); the sealed blob follows it. Returns the header length. */
size_t store_value_header(uint8_t *hdr, uint64_t created_us,
    uint64_t updated_us, const char *purpose, size_t purposelen);
/* Decode a record; -1 if it is malformed. */
int store_value_decode(const store_val *rec, store_value *out);
/* What identifies one sealed record: a hash of its header, nonce and tag
 * (the seal's random nonce makes it unique; the tag covers the rest). Two
 * records with the same id have the same header and, if one
 * authenticates, so does the other's header. */
#define STORE_VALUE_IDBYTES 16
void store_value_id(const store_value *sv, uint8_t id[STORE_VALUE_IDBYTES]);

/* Read and decode the stored value of (sid, field): 0, STORE_NOTFOUND, a
 * store error, or STORE_CORRUPTED for a malformed record. Pointers are valid
 * for the transaction. */
int store_value_get(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field,
    store_value *out);

/* Delete one stored value: 0 (also if there was none) or a store error. */
int store_value_del(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field);

/* Delete a subject: every value and its key record. *nvalues receives the
 * number of values removed. STORE_NOTFOUND if there was no subject. */
int store_subject_delete(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], unsigned *nvalues);

/* Little helpers for the big-endian integers of the layout. */
static inline void
store_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static inline uint64_t
store_get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

/* Transitional: outside the daemon (bench/floor_store.c measures LMDB's
 * floor with privd's layout), the LMDB store stays visible. The daemon
 * and its unit tests are built with PRIVD_STORE_NEUTRAL. */
#ifndef PRIVD_STORE_NEUTRAL
#include "store_lmdb.h"
#endif

#endif
