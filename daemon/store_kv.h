/*
 * store_kv.h - the backend-neutral interface of privd's store: ordered
 * key-value tables with transactions and cursors (issue 12, step 1).
 *
 * DESIGN: privd's subsystems (audit, retention, rights, blind index,
 * writer, workers) keep their record layouts and their logic; what they
 * ask of a store is the contract LMDB offers them today, and no more:
 * named tables of byte keys in byte order, read transactions with a
 * stable snapshot, one write transaction at a time that commits all or
 * nothing, and cursors that walk a table in either direction. Every
 * backend honours that same contract, so the sealing, the keyed-hash
 * keys and the layouts stay in one place and a second backend stores
 * exactly the bytes LMDB stores: a PostgreSQL server sees only sealed
 * values and keyed hashes, never a value, a subject id or a lookup value.
 *
 *   store_lmdb.c  LMDB: each call is the LMDB call of the same name; the
 *                 codes and store_val are LMDB's, so nothing is copied or
 *                 translated on the request path.
 *   store_pg.c    PostgreSQL (libpq): one table per store table (k bytea
 *                 primary key, v bytea); a write transaction is one
 *                 PostgreSQL transaction, serialised across privd nodes
 *                 by an advisory lock taken at its start, and committed
 *                 with synchronous_commit on; reads and cursors fetch in
 *                 batches; results live until the transaction ends.
 *
 * Codes: 0, a STORE_* code below, or an errno value. The STORE_* codes
 * are LMDB's own numbers (store_lmdb.c checks it at compile time), so the
 * LMDB backend passes its codes through unchanged; store_strerror names
 * every code of every backend.
 */
#ifndef PRIVD_STORE_KV_H
#define PRIVD_STORE_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_KEYEXIST     (-30799) /* put with STORE_NOOVERWRITE: taken */
#define STORE_NOTFOUND     (-30798) /* no such key, or the cursor's end */
#define STORE_CORRUPTED    (-30796) /* a record or page is malformed */
#define STORE_MAP_FULL     (-30792) /* LMDB: the map is full; grow, retry */
#define STORE_INCOMPATIBLE (-30784) /* the table's flags do not match */
/* LMDB: another process grew the map; store_map_adopt (store.h), retry */
#define STORE_MAP_RESIZED (-30785)
/* Not LMDB's: a backend that talks to a server. */
#define STORE_UNAVAILABLE (-30700) /* the server is gone; retry later */
#define STORE_CONFLICT    (-30701) /* lost a serialisation race; retry */

/* A key or a value. Same layout as LMDB's MDB_val (size first). A value
 * a read returns is valid until the transaction ends (LMDB: for a write
 * transaction, until the next write to the table). */
typedef struct store_val {
	size_t size;
	void *data;
} store_val;

/* The tables. store.h describes each one's keys and records. */
typedef enum store_tbl {
	STORE_META,
	STORE_POLICY,
	STORE_SUBJECTS,
	STORE_VALUES,
	STORE_AUDIT,
	STORE_AUDIT_CKPT,
	STORE_AUDIT_IX,
	STORE_RET_SUB,
	STORE_RET_PLAN,
	STORE_RET_DUE,
	STORE_RET_REG,
	STORE_HOLDS,
	STORE_ANON,
	STORE_SUBJ_STATE,
	STORE_ERASURES,
	STORE_BLIND,
	STORE_BLIND_OF,
	STORE_NTABLES
} store_tbl;

/* The table's name on disk (LMDB's named database, PostgreSQL's table). */
const char *store_tbl_name(store_tbl tb);

/* Flags of store_txn_begin. */
#define STORE_RDONLY 0x20000 /* MDB_RDONLY */

/* Flags of store_put (LMDB's values). */
#define STORE_NOOVERWRITE 0x10 /* fail with STORE_KEYEXIST if present */
#define STORE_RESERVE                                                          \
	0x10000              /* v->data receives room for v->size              \
	                      * bytes to fill before the next call */
#define STORE_APPEND 0x20000 /* the key sorts after every key */

/* Cursor operations (LMDB's MDB_cursor_op values). */
typedef enum store_op {
	STORE_FIRST = 0,
	STORE_GET_CURRENT = 4,
	STORE_LAST = 6,
	STORE_NEXT = 8,
	STORE_PREV = 12,
	STORE_SET_KEY = 16,   /* exactly k; k and v receive the record */
	STORE_SET_RANGE = 17, /* the first key >= k */
} store_op;

typedef struct store store;
typedef struct store_txn store_txn;
typedef struct store_cur store_cur;

const char *store_strerror(int rc);

/*
 * Transactions. Only the writer thread begins write transactions (flags
 * 0); any thread may begin read-only ones. A read-only transaction sees
 * one snapshot from begin to end.
 */
int store_txn_begin(store *s, unsigned flags, store_txn **t);
int store_txn_commit(store_txn *t);
void store_txn_abort(store_txn *t);
/* A worker's long-lived read handle: reset drops the snapshot (and pins
 * nothing), renew takes a new one. */
void store_txn_reset(store_txn *t);
int store_txn_renew(store_txn *t);

int store_get(store_txn *t, store_tbl tb, const store_val *k, store_val *v);
int store_put(store_txn *t, store_tbl tb, const store_val *k, store_val *v,
    unsigned flags);
/* 0, or STORE_NOTFOUND if there was no such key. */
int store_del(store_txn *t, store_tbl tb, const store_val *k);
/* Remove every record of the table (the table stays). */
int store_drop(store_txn *t, store_tbl tb);
/* The number of records in the table. */
int store_count(store_txn *t, store_tbl tb, uint64_t *n);

int store_cur_open(store_txn *t, store_tbl tb, store_cur **c);
void store_cur_close(store_cur *c);
int store_cur_get(store_cur *c, store_val *k, store_val *v, store_op op);
/* Replace the value of the record at the cursor (LMDB's MDB_CURRENT). */
int store_cur_put_current(store_cur *c, const store_val *k, store_val *v);
/* Delete the record at the cursor; STORE_NEXT then moves to the record
 * that followed it. */
int store_cur_del(store_cur *c);

/*
 * Several privd nodes on one store (PostgreSQL; README "Beyond one
 * host"). A backend of one node (LMDB: the data directory's lock makes
 * privd its only writer) answers as the comments say, and the callers
 * then do nothing more than they did before.
 */

/* A write transaction's generation: the one it commits as, and *moved:
 * whether a write transaction of another node committed since this
 * store's last committed one (or none of ours is known to have: the
 * first, or after a failed commit); then what the writer keeps in memory
 * is stale and must be re-read in this transaction. A read transaction:
 * the generation of its snapshot, *moved false. One node: *gen 0, *moved
 * false. moved may be NULL. */
int store_txn_gen(store_txn *t, uint64_t *gen, bool *moved);
/* The generation last committed, read now (one round trip on
 * PostgreSQL). One node: 0, always. */
int store_gen(store *s, uint64_t *gen);

/* Queue a notification on channel ([a-z0-9_], 1-63 bytes) delivered to
 * every node's listener when write transaction t commits, never if it
 * does not. payload (NULL: "") is short ASCII and passes through the
 * server's log: never a value, a subject id or a key. One node: 0,
 * nothing (the writer applies what it commits itself). */
int store_notify(store_txn *t, const char *channel, const char *payload);

typedef struct store_listener store_listener;
typedef void store_notify_fn(
    void *arg, const char *channel, const char *payload);
/* A listener on channels, on a connection of its own: ENOTSUP on a
 * store of one node (nobody else commits: nothing to listen for). */
int store_listen(
    store *s, const char *const *channels, size_t n, store_listener **l);
/* The descriptor to poll for reading; -1 while disconnected (drain on a
 * timer then). It changes when the listener reconnects: ask after every
 * drain. */
int store_listen_fd(const store_listener *l);
/* Calls fn for each notification received, in commit order, without
 * waiting; reconnects a lost connection, and *missed then says some may
 * have been lost (reload). 0 or STORE_UNAVAILABLE. */
int store_listen_drain(
    store_listener *l, store_notify_fn *fn, void *arg, bool *missed);
void store_listen_close(store_listener **l);

/* Leases: one node at a time does a job. take never waits; *got says
 * whether this store holds lease which now. held: whether it still does
 * as far as can be seen without waiting. A lease only chooses who does
 * a job; it must never be what makes the job correct (after a failover
 * two nodes may each believe they hold it for a moment). One node: got,
 * held always. */
#define STORE_LEASE_SWEEPER 0 /* the retention sweeper */
int store_lease_take(store *s, int which, bool *got);
bool store_lease_held(store *s, int which);
void store_lease_release(store *s, int which);

/*
 * Read-ahead: the records at keys[0..n) of table tb, which this
 * transaction is about to get, fetched together instead of one get at a
 * time (PostgreSQL: all in the round trip of the transaction's next
 * call that waits, rather than one round trip each). A hint: the gets
 * that follow answer exactly as they would have, and writes in the
 * transaction are seen by them as always. 0, or an error the next call
 * would give too (the transaction is dead). LMDB: 0, nothing (a get is
 * a B-tree lookup in memory).
 */
int store_prefetch(store_txn *t, store_tbl tb, const store_val *keys, size_t n);
/* Does store_prefetch do anything on s (a caller spares building its
 * keys when not)? */
bool store_reads_ahead(const store *s);

/*
 * Delete key k if it is there, without asking whether it was: 0 or an
 * error, never STORE_NOTFOUND. For the many callers to whom a missing
 * key is no different from a deleted one: a backend may then only queue
 * the delete (PostgreSQL: no round trip; an error of it fails the
 * transaction's next call or its commit, as a put's does), where
 * store_del waits for its answer. LMDB: store_del.
 */
int store_del_any(store_txn *t, store_tbl tb, const store_val *k);

/*
 * For a long walk: from now on, a record cursor c returns is valid only
 * until c moves again or closes, not until the transaction ends (the
 * rule of the records above). Then a backend that fetches batches may
 * free each when it fetches the next (PostgreSQL: a walk across a whole
 * table holds one batch, not the table). A caller keeping a record past
 * the next move copies it, and never gives the cursor's own record as
 * the key of a move (STORE_SET_KEY, STORE_SET_RANGE): copy it first.
 * LMDB: nothing changes.
 */
void store_cur_stream(store_cur *c);

#endif
