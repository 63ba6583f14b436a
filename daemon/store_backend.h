/*
 * store_backend.h - how a storage backend plugs in behind store_kv.h.
 *
 * DESIGN: store.c answers every store_kv.h call by one indirect call
 * through the backend's operations table. The table is found from the
 * object the call is given: a store, a transaction and a cursor each
 * begin with the same head (the table, and the object it belongs to), and
 * a backend's own structures embed that head as their first member and
 * cast. So one daemon serves any backend it was built with, chosen when
 * the store is opened, and nothing outside the backend's file sees past
 * the head. An indirect call is a few nanoseconds against the
 * microseconds of a B-tree lookup or a network round trip, and LMDB's
 * codes, flags and store_val are passed through untranslated
 * (store_lmdb.c checks that at compile time).
 *
 * Only store.c and the backends (store_lmdb.c, store_pg.c) include this
 * header. /work/wt/notes/store-dispatch.md, issue 12, describes it to
 * backend authors.
 */
#ifndef PRIVD_STORE_BACKEND_H
#define PRIVD_STORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store_kv.h"

struct store_ops {
	const char *name; /* "lmdb", "postgresql" */
	/* How many times longer than on LMDB a step of housekeeping (a
	 * sweep's) may take to do as much: every read is a round trip to a
	 * server. 0 means 1. */
	unsigned step_scale;

	/* Required: the functions of store_kv.h. commit and abort free the
	 * transaction whatever happens; reset and renew are only called on
	 * read-only transactions. */
	void (*close)(store *s);
	int (*txn_begin)(store *s, unsigned flags, store_txn **t);
	int (*txn_commit)(store_txn *t);
	void (*txn_abort)(store_txn *t);
	void (*txn_reset)(store_txn *t);
	int (*txn_renew)(store_txn *t);
	int (*get)(
	    store_txn *t, store_tbl tb, const store_val *k, store_val *v);
	int (*put)(store_txn *t, store_tbl tb, const store_val *k, store_val *v,
	    unsigned flags);
	int (*del)(store_txn *t, store_tbl tb, const store_val *k);
	int (*drop)(store_txn *t, store_tbl tb);
	int (*count)(store_txn *t, store_tbl tb, uint64_t *n);
	int (*cur_open)(store_txn *t, store_tbl tb, store_cur **c);
	void (*cur_close)(store_cur *c);
	int (*cur_get)(store_cur *c, store_val *k, store_val *v, store_op op);
	int (*cur_put_current)(store_cur *c, const store_val *k, store_val *v);
	int (*cur_del)(store_cur *c);

	/* Optional: NULL means the backend has no such thing; store.c then
	 * answers as each comment says. */
	int (*copy)(store *s, int fd);   /* compact copy for backups: ENOTSUP */
	uint64_t (*copy_size)(store *s); /* its estimated length: 0 */
	int (*grow)(store *s);           /* LMDB's map: 0 */
	int (*map_adopt)(store *s);      /* take another process's growth: 0 */
	bool (*want_map)(store *s, size_t bytes, int timeout_ms); /* true */
	void (*grow_wanted)(store *s);                            /* nothing */
	size_t (*used_bytes)(store *s);                           /* 0 */
	bool (*disk_full)(store *s, int rc);                      /* false */
	/* A worker's long-lived read handle (store_read_begin): begin if
	 * *t is NULL, else renew; end resets. */
	int (*read_begin)(store *s, store_txn **t);
	void (*read_end)(store *s, store_txn *t);
	/* Whether a commit flushes the store's root at once (LMDB's meta
	 * page; writer.c's held flush): ENOTSUP, and the writer holds no
	 * replies. */
	int (*meta_sync)(store *s, bool on);
	int (*sync)(store *s); /* make every commit durable now: 0 */

	/* Several nodes on one store (store_kv.h's comments say what each
	 * does). NULL: one node, as LMDB (the data directory's lock makes
	 * privd the only writer); store.c answers as each comment says. */
	int (*txn_gen)(store_txn *t, uint64_t *gen, bool *moved); /* 0, no */
	int (*gen)(store *s, uint64_t *gen);                      /* 0 */
	int (*notify)(store_txn *t, const char *channel,
	    const char *payload); /* 0: nothing to tell */
	int (*listen)(store *s, const char *const *channels, size_t n,
	    store_listener **l); /* ENOTSUP */
	int (*listen_fd)(const store_listener *l);
	int (*listen_drain)(
	    store_listener *l, store_notify_fn *fn, void *arg, bool *missed);
	void (*listen_close)(store_listener *l);
	int (*lease_take)(store *s, int which, bool *got); /* got */
	bool (*lease_held)(store *s, int which);           /* true */
	void (*lease_release)(store *s, int which);        /* nothing */

	/* Read-ahead (store_kv.h's store_prefetch). NULL: 0, nothing. */
	int (*prefetch)(
	    store_txn *t, store_tbl tb, const store_val *keys, size_t n);
	/* store_kv.h's store_del_any. NULL: del, STORE_NOTFOUND as 0. */
	int (*del_any)(store_txn *t, store_tbl tb, const store_val *k);
	/* store_kv.h's store_cur_stream. NULL: nothing. */
	void (*cur_stream)(store_cur *c);
};

/* The heads. A backend's store, transaction and cursor begin with these. */
#ifndef PRIVD_STORE_STRUCT
struct store {
	const struct store_ops *ops;
};
#endif
struct store_txn {
	const struct store_ops *ops;
	store *s;
};
struct store_cur {
	const struct store_ops *ops;
	store_txn *t;
};
struct store_listener {
	const struct store_ops *ops;
	store *s;
};

/* The backends' open functions (store_open_spec picks one). */
int store_lmdb_open(const char *dir, size_t mapsize, bool create, store **out,
    char *err, size_t errlen);
const char *store_lmdb_strerror(int rc);
#ifdef PRIVD_HAVE_PG
int store_pg_open(
    const char *conninfo, bool create, store **out, char *err, size_t errlen);
#endif

#endif
