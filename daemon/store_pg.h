/*
 * store_pg.h - the PostgreSQL backend's own declarations, shared by
 * store_pg.c (transactions, reads and writes, the schema),
 * store_pg_conn.c (connections, the pipeline, the pool) and
 * store_pg_cursor.c (cursors). Nothing else includes it: the daemon
 * reaches the backend through store_kv.h and store_backend.h's table.
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
} pg_conn;

typedef struct pg_store {
	struct store base;
	char *conninfo;
	pthread_mutex_t wmu; /* held for a write transaction's life */
	pg_conn *w;          /* the writer's connection */
	pthread_mutex_t pmu;
	pg_conn *idle; /* read transactions' connections, free */
	int nidle;
} pg_store;

typedef struct pg_cur pg_cur;

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

/* store_pg_cursor.c */
int store_pg_cur_open(store_txn *t, store_tbl tb, store_cur **c);
void store_pg_cur_close(store_cur *c);
int store_pg_cur_get(store_cur *c, store_val *k, store_val *v, store_op op);
int store_pg_cur_put_current(store_cur *c, const store_val *k, store_val *v);
int store_pg_cur_del(store_cur *c);
void pg_cur_end_txn(pg_txn *t, bool detach);

#endif
