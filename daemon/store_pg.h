/*
 * store_pg.h - the PostgreSQL backend's own declarations, shared by
 * store_pg.c (transactions, reads and writes, the schema),
 * store_pg_conn.c (connections, the pipeline, the pool),
 * store_pg_cursor.c (cursors) and store_pg_node.c (what several nodes
 * need: the generation, notifications, leases). The daemon reaches the
 * backend through store_kv.h and store_backend.h's table; only the
 * multi-node hooks at the end are the optional ops of that table that
 * say how several nodes share the store (store_kv.h's store_txn_gen,
 * store_notify, store_listen*, store_lease_*).
 */
#ifndef PRIVD_STORE_PG_H
#define PRIVD_STORE_PG_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "store_backend.h"

#ifndef LIBPQ_HAS_PIPELINING
#error "the PostgreSQL store backend needs libpq 14 or later (pipeline mode)"
#endif

/*
 * The advisory lock every privd node's write transaction takes first, so
 * that the nodes' writers take turns and there is one logical audit log
 * (one seq, one hash chain). "privd" in ASCII, then the lock's number:
 * other locks of privd (the retention sweeper's) take the next numbers.
 */
#define STORE_PG_LOCK_WRITER 0x7072697664000001LL
/* Other locks of privd, session-level (store_pg_lease_*): the lock of
 * lease n is STORE_PG_LOCK_WRITER + 1 + n. */
#define STORE_PG_LEASE_SWEEPER 0 /* the retention sweeper */
#define STORE_PG_NLEASES       1
/* The serving lock (store_pg_node.c): every serving node's listener
 * connection holds it shared, a restore exclusive; past the leases'
 * numbers, clear of any number of them. */
#define STORE_PG_LOCK_SERVING (STORE_PG_LOCK_WRITER + 0x100)
/* The schema this privd writes and reads (privd_schema.version). */
#define STORE_PG_SCHEMA 1

/* Statements, prepared once per connection and table when first used.
 * "@" in their text stands for the table's name. */
enum pg_q {
	Q_GET,    /* v of k */
	Q_PUT,    /* insert or replace */
	Q_PUTNEW, /* insert unless present; the present value otherwise */
	Q_APPEND, /* insert a key above every key, else fail */
	Q_DEL,
	Q_DROP,
	Q_COUNT,
	Q_FIRST, /* cursor batches: (k, v) in key order, LIMIT $n */
	Q_LAST,
	Q_GE,
	Q_GT,
	Q_LT,
	Q_GEN,     /* store_pg_node.c: advance the generation */
	Q_GENREAD, /* the generation of the snapshot */
	Q_NOTIFY,  /* pg_notify(channel, payload) */
	Q_GETMANY, /* (k, v) of each key of a bytea[] (the read-ahead) */
	Q_GETONE,  /* (k, v) of one key (the read-ahead of one) */
	Q_NQ
};

/* Statements in flight before we stop and read their results: bounds the
 * results the server buffers for us (no pipeline deadlock) and our queue. */
#define PG_MAXPEND 256

/* One sent and not yet read item of a connection's pipeline. */
struct pg_pend {
	uint8_t kind; /* PEND_STMT, PEND_PREP or PEND_SYNC */
	uint8_t tb;   /* PEND_PREP: which statement it prepares */
	uint8_t q;
	bool quiet; /* of a transaction that has ended: errors are moot */
	int32_t pf; /* a read-ahead's entry its result fills, or -1 */
};

/* A connection, always in pipeline mode once set up. */
typedef struct pg_conn {
	PGconn *pc;
	struct pg_conn *next; /* in the store's pool */
	bool broken;          /* lost or unusable: closed, never reused */
	int unsynced;         /* items sent since the last sync */
	int npend;
	struct pg_pend pend[PG_MAXPEND];
	uint8_t prep[STORE_NTABLES][Q_NQ]; /* PREP_* */
	int keep;           /* item whose result goes to kept, or -1 */
	PGresult *kept;     /* (pg_keep_last) */
	struct pg_txn *pft; /* the transaction whose read-ahead is queued */
} pg_conn;

typedef struct pg_store {
	struct store base;
	char *conninfo;
	pthread_mutex_t wmu; /* held for a write transaction's life */
	pg_conn *w;          /* the writer's connection */
	pthread_mutex_t pmu;
	pg_conn *idle; /* read transactions' connections, free */
	int nidle;
	/* The generation (store_pg_node.c), under wmu: this store's node
	 * id, and the generation of its last write transaction known to
	 * have committed (none known: last_known false). */
	uint8_t node[16];
	uint64_t last_gen;
	bool last_known;
	/* Leases: a session lock each, on a connection of its own. */
	pthread_mutex_t lmu;
	PGconn *lease[STORE_PG_NLEASES]; /* NULL: not connected */
	bool leased[STORE_PG_NLEASES];
} pg_store;

typedef struct pg_cur pg_cur;

/* A key read ahead (store_pg_cursor.c's read-ahead), or written after. */
#define PF_KEYMAX 128 /* longer keys are not read ahead */
struct pg_pf {
	uint8_t st;     /* PF_* of store_pg_cursor.c */
	uint32_t batch; /* the read-ahead statement fetching it, or 0 */
	uint8_t tb;
	uint8_t klen;
	uint8_t k[PF_KEYMAX];
	size_t vlen;
	const void *v; /* in a result or a copy the transaction keeps */
};

typedef struct pg_txn {
	struct store_txn base;
	pg_conn *c;
	bool rdonly;
	bool live; /* a PostgreSQL transaction is open (not reset) */
	int err;   /* the first error; every later call returns it */
	/* Results and copies handed out: they live until the end. */
	PGresult **res;
	size_t nres, capres;
	void **blobs;
	size_t nblobs, capblobs;
	/* A STORE_RESERVE put waiting for its bytes (sent at the next call). */
	struct {
		bool on;
		store_tbl tb;
		unsigned flags;
		uint8_t *k;
		size_t klen;
		uint8_t *v;
		size_t vlen;
	} rsv;
	/* Bumped by every write to a table: open cursors' batches of an
	 * older generation are stale. */
	uint32_t wgen[STORE_NTABLES];
	pg_cur *curs; /* open cursors */
	/* A write transaction's generation (store_pg_node.c): read from
	 * the connection's kept result when first needed. */
	bool gen_have;
	bool moved; /* another node committed since our last commit */
	uint64_t gen;
	/* Records read ahead (store_prefetch): npf entries (their places
	 * never change: a queued fetch names its entry's), found by key
	 * through ix, an open-addressed index of nix slots (a power of two,
	 * or 0) holding entry + 1, 0 if free. */
	struct pg_pf *pf;
	size_t npf, cappf;
	uint32_t *ix;
	size_t nix;
	uint32_t pfbatch; /* the last read-ahead statement's number */
} pg_txn;

#define PGT(t) ((pg_txn *)(t))

/* store_pg_conn.c */
void pg_table_name(char *buf, size_t len, store_tbl tb);
/* A libpq connection for the store (not yet in pipeline mode), or NULL
 * with libpq's reason (never a password) in err. writer: the writer's,
 * whose silence inside a transaction the server ends. */
PGconn *pg_dial(pg_store *s, bool writer, char *err, size_t errlen);
pg_conn *pg_conn_new(pg_store *s, bool writer);
void pg_conn_free(pg_conn *c);
bool pg_conn_alive(pg_conn *c);
bool pg_pc_alive(PGconn *pc);
void pg_keep_last(pg_conn *c);
int pg_conn_wait(pg_conn *c, int want, PGresult **out);
int pg_send_plain(pg_conn *c, const char *sql, int *idx);
void pg_end_quietly(pg_conn *c, const char *sql);
pg_conn *pg_pool_get(pg_store *s);
void pg_pool_put(pg_store *s, pg_conn *c);
int pg_exec(pg_txn *t, enum pg_q q, store_tbl tb, const store_val *a,
    const store_val *b, int64_t lim, PGresult **res);
int pg_keep_res(pg_txn *t, PGresult *r);
void *pg_keep_copy(pg_txn *t, const void *p, size_t n);

/* store_pg.c */
int pg_begin_call(pg_txn *t);

/* store_pg_node.c: the backend's side of them (see there) */
int pg_gen_send(pg_txn *t);
int pg_gen_take(pg_txn *t);
void pg_gen_committed(pg_txn *t, bool ok);
void pg_leases_close(pg_store *s);
/* the listener's ops, over store_pg_listen* (the head first) */
int pg_op_listen(
    store *s, const char *const *channels, size_t n, store_listener **out);
int pg_op_listen_fd(const store_listener *l);
int pg_op_listen_drain(
    store_listener *l, store_notify_fn *fn, void *arg, bool *missed);
void pg_op_listen_close(store_listener *l);

/* store_pg_cursor.c */
int store_pg_cur_open(store_txn *t, store_tbl tb, store_cur **c);
void store_pg_cur_close(store_cur *c);
int store_pg_cur_get(store_cur *c, store_val *k, store_val *v, store_op op);
int store_pg_cur_put_current(store_cur *c, const store_val *k, store_val *v);
int store_pg_cur_del(store_cur *c);
void store_pg_cur_stream(store_cur *c);
void pg_cur_end_txn(pg_txn *t, bool detach);
/* The read-ahead (store_kv.h's store_prefetch): queue the gets; what a
 * get finds there (0 with v, STORE_NOTFOUND, PF_ASK: ask the server, or
 * the error of the wait); whether a key is there (1), not (0) or not
 * known (-1); a write to a key (v NULL: deleted; gone true: no longer
 * known) or to a whole table; a result arriving; a write transaction's
 * get the server answered (v NULL: absent); the end. */
#define PF_ASK (-1)
int store_pg_prefetch(
    store_txn *t, store_tbl tb, const store_val *keys, size_t n);
int pg_pf_get(pg_txn *t, store_tbl tb, const store_val *k, store_val *v);
int pg_pf_present(pg_txn *t, store_tbl tb, const store_val *k);
void pg_pf_wrote(
    pg_txn *t, store_tbl tb, const store_val *k, const store_val *v, bool gone);
void pg_pf_table(pg_txn *t, store_tbl tb);
void pg_pf_fill(pg_txn *t, store_tbl tb, int batch, PGresult *r);
void pg_pf_note(
    pg_txn *t, store_tbl tb, const store_val *k, const store_val *v);
void pg_pf_end(pg_txn *t);

/*
 * The multi-node hooks (store_pg_node.c has their design): the ops
 * txn_gen, gen, notify, listen*, lease_* of store_backend.h; the daemon
 * calls them through store_kv.h's store_txn_gen etc.
 */

/* A write transaction's generation: the one it commits as, and whether a
 * write transaction of another store (node) committed since this store's
 * last committed one (or none of ours is known to have: the first, or
 * after a failed commit); then what the caller keeps in memory is stale.
 * A read transaction's: that of its snapshot (*moved false). Waits for
 * the writers' lock if the transaction does not hold it yet. moved may
 * be NULL. */
int store_pg_txn_gen(store_txn *t, uint64_t *gen, bool *moved);
/* The generation last committed, read now (one round trip, on a pooled
 * connection): the workers' check "has anything been written since G?" */
int store_pg_gen(store *s, uint64_t *gen);

/* Queues NOTIFY channel, payload in write transaction t: delivered to
 * every listener when t commits, never if it does not. channel: 1-63 of
 * [a-z0-9_]; payload: under 8000 bytes of the database's encoding (ASCII
 * is safe), may be NULL (""); a payload the server refuses fails the
 * transaction. It goes through the server's log at log_statement=all:
 * never put a value, subject id or key in it. */
int store_pg_notify(store_txn *t, const char *channel, const char *payload);

typedef struct store_pg_listener store_pg_listener;
typedef store_notify_fn store_pg_notify_fn;
/* A listener on its own connection, LISTENing to channels (as above).
 * Fails only on bad arguments (EINVAL) or ENOMEM: a listener that cannot
 * connect yet says so at its first drain. */
int store_pg_listen(
    store *s, const char *const *channels, size_t n, store_pg_listener **out);
/* The socket to poll for reading, or -1 while disconnected (then drain
 * on a timer). It changes when the listener reconnects: ask again after
 * every drain. */
int store_pg_listen_fd(const store_pg_listener *l);
/* Calls fn for every notification received, in commit order, without
 * waiting. A lost connection is connected again (a failover: to the new
 * primary) and LISTENs again; *missed is then true, and stays so until
 * a drain succeeds: notifications may have been lost meanwhile, reload.
 * Returns 0, or STORE_UNAVAILABLE while it cannot connect. */
int store_pg_listen_drain(
    store_pg_listener *l, store_pg_notify_fn *fn, void *arg, bool *missed);
void store_pg_listen_close(store_pg_listener *l);

/* Leases (STORE_PG_LEASE_*): a session-level advisory lock on a
 * connection of its own, held until released or the connection ends;
 * one store (node) at a time holds it. take does not wait: *got says
 * whether this store holds it now. held says whether it still does, as
 * far as the connection shows, without waiting; a connection that died
 * loses it and any store may take it. */
int store_pg_lease_take(store *s, int which, bool *got);
bool store_pg_lease_held(store *s, int which);
void store_pg_lease_release(store *s, int which);

#endif
