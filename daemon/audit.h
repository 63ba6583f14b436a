/*
 * audit.h - the tamper-evident audit log (DESIGN.md section 5).
 *
 * Every request is one privd.v1.AuditEvent. The writer appends the events of
 * a batch in the batch's own write transaction, so an event is durable
 * exactly when the change it describes is, and before the reply leaves.
 *
 *   audit      seq -> hash || event     hash = BLAKE2b-256(prev || event)
 *   audit_ix   by subject pseudonym and by principal, written in bulk
 *              behind the log (audit_index.h)
 *   audit_ckpt seq -> time || hash || Ed25519 signature
 *
 * A checkpoint is signed every `ckpt_every` events, within a second of any
 * unsigned event (writer.c), and at shutdown. Pruning
 * (the policy's audit.retention) deletes events only up to a signed
 * checkpoint, which stays: the rest of the chain verifies from it.
 *
 * Threads: audit_append/checkpoint/prune run in the writer (write
 * transactions, audit.c); audit_query and audit_checkpoints in workers
 * (read transactions, audit_query.c). The audit_state belongs to the writer.
 */
#ifndef PRIVD_AUDIT_H
#define PRIVD_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job.h"
#include "store.h"

#define AUDIT_HASHBYTES          32
#define AUDIT_SIGBYTES           64
#define AUDIT_CKPT_RECBYTES      (8 + AUDIT_HASHBYTES + AUDIT_SIGBYTES)
#define AUDIT_DEFAULT_CKPT_EVERY 1000
#define AUDIT_PRUNE_CHUNK        2000 /* events pruned per call, roughly */

/* The head of the chain, as the writer sees it. */
typedef struct audit_state {
	uint64_t seq;                  /* last event; 0 if none */
	uint8_t hash[AUDIT_HASHBYTES]; /* its chain hash */
	uint64_t time_us;              /* its time: times never go back */
	uint64_t ckpt_seq;             /* last signed checkpoint */
} audit_state;

/* The oldest event kept: its seq and stored record (hash || event), valid
 * for the transaction. 0, STORE_NOTFOUND for an empty log, or an error. */
int audit_first(store *st, store_txn *txn, uint64_t *seq, store_val *rec);
/* The newest event, likewise. */
int audit_last(store *st, store_txn *txn, uint64_t *seq, store_val *rec);

/* Read the head of the chain (writer, at start). */
int audit_load(store *st, store_txn *txn, audit_state *a);

/*
 * Append the event of job j (worker-prepared j->ev; the writer fills seq,
 * time, decision, status, reason): the event and its chain hash, nothing
 * else (its index entries follow in bulk: audit_index.h). Advances *a; the
 * caller keeps a copy to roll back if the transaction fails.
 */
int audit_append(
    store *st, store_txn *txn, audit_state *a, job *j, uint64_t now);
/* The same for an event of privd's own (the retention sweeper): ev has
 * status and reason set; seq, time and decision are filled in. */
int audit_append_event(store *st, store_txn *txn, audit_state *a,
    Privd__V1__AuditEvent *ev, uint64_t now);

/* Sign and store a checkpoint of the head, if it is newer than the last. */
int audit_checkpoint(
    store *st, store_txn *txn, audit_state *a, const uint8_t *sign_sk);

/*
 * Prune events older than cutoff_us, up to a signed checkpoint older than
 * the cutoff, which is kept as the start of the chain; about
 * AUDIT_PRUNE_CHUNK events per call (more only if checkpoints are further
 * apart). *more is set if another call would prune more.
 */
int audit_prune(
    store *st, store_txn *txn, uint64_t cutoff_us, size_t *pruned, bool *more);

/*
 * A rotation of the signing key (`privd audit rotate-key`, audit_key.c):
 * one event of principal AUDIT_KEY_PRINCIPAL and op AUDIT_OP_KEY_ROTATE
 * whose two fields are AUDIT_KEY_FROM and AUDIT_KEY_TO followed by the old
 * and the new Ed25519 public key in 64 lowercase hex digits, covered by a
 * checkpoint at its own seq signed by the old key (which thus vouches for
 * the new one through the chain hash); every later checkpoint is signed by
 * the new key. client/auditverify.c follows these from the auditor's
 * pinned first key. Pruning never makes a rotation's checkpoint the start
 * of the kept chain, so that the checkpoint there is always signed by the
 * key in force for the events kept after it.
 */
#define AUDIT_KEY_PRINCIPAL "privd"
#define AUDIT_OP_KEY_ROTATE "audit_key_rotate"
#define AUDIT_KEY_FROM      "from="
#define AUDIT_KEY_TO        "to="

/* True if the stored event at seq is a rotation of the signing key. */
bool audit_is_key_rotation(store *st, store_txn *txn, uint64_t seq);

/*
 * Rotate the signing key in the write transaction txn (audit_key.c): a new
 * key pair, the rotation event and its checkpoint signed by the old key
 * (old_sk), the new secret key sealed in meta under keys and its public
 * key beside it. new_pk receives the new public key, *seq the rotation's
 * seq. 0, or a store error / ENOMEM.
 */
int audit_key_rotate(store *st, store_txn *txn, const crypto_keys *keys,
    const uint8_t *old_sk, uint64_t now, uint8_t new_pk[32], uint64_t *seq);

/* The signed message of a checkpoint (for signing and verifying). */
#define AUDIT_CKPT_MSGBYTES (25 + 8 + AUDIT_HASHBYTES + 8)
void audit_ckpt_message(uint64_t seq, const uint8_t hash[AUDIT_HASHBYTES],
    uint64_t time_us, uint8_t out[AUDIT_CKPT_MSGBYTES]);

/*
 * Worker side (audit_query.c): answer one page of an audit query into j
 * (packs the reply, or fails the job). pseudo is the subject's pseudonym if
 * the query names a subject, else NULL. The worker has checked the query's
 * strings (NUL-terminated names) and its shape.
 *
 * Every record carries its seq; a stored event that does not decode is
 * flagged damaged and is in every answer whose seq range holds it. A page
 * holds at most `limit` records and looks at no more than
 * AUDIT_QUERY_MAX_EXAMINED events; one that stops early carries a cursor
 * that resumes exactly where it stopped, and a page without a cursor ends
 * the query: nothing more matches. A cursor that is not one of the query's
 * own is refused (INVALID).
 */
#define AUDIT_QUERY_MAX_EXAMINED 20000
/* A cursor: version(1), the last seq the page examined (big-endian), and a
 * digest of the query's criteria. Opaque to clients; it can only narrow its
 * query, and only its own query accepts it. */
#define AUDIT_CURSOR_VERSION  2
#define AUDIT_CURSOR_TAGBYTES 16
#define AUDIT_CURSOR_BYTES    (1 + 8 + AUDIT_CURSOR_TAGBYTES)
void audit_query(store *st, store_txn *txn, job *j, const uint8_t *pseudo);
/* Answer an audit checkpoint listing into j (audit_query.c). */
void audit_checkpoints(store *st, store_txn *txn, job *j);

/*
 * Visit every event of the subject with pseudonym pseudo (32 bytes), in seq
 * order (audit_subject.c): through the subject index up to its mark, then
 * the log past the mark, as a query by subject walks it, so that events
 * not yet indexed are found all the same. fn(arg, seq, ev) gets each event
 * decoded (ev valid only during the call), or ev NULL for a stored event
 * that does not decode: privd cannot tell whose it is, so it is given to
 * every walk. fn returns 0 to go on, AUDIT_SUBJECT_STOP to stop (the walk
 * then returns 0), or an error that ends the walk. Returns 0, a store
 * error, ENOMEM, or fn's error. Runs in a read transaction of a worker.
 */
#define AUDIT_SUBJECT_STOP (-30001)
typedef int (*audit_subject_fn)(
    void *arg, uint64_t seq, const Privd__V1__AuditEvent *ev);
int audit_subject_walk(store *st, store_txn *txn, const uint8_t *pseudo,
    audit_subject_fn fn, void *arg);

#endif
