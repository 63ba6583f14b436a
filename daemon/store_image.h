/*
 * store_image.h - a store's every table copied, as of one read snapshot,
 * into an LMDB image file: the backup of a store that has no copy of its
 * own (PostgreSQL), the replaced store a restore into PostgreSQL keeps,
 * and the tables of a restored image put back into any store.
 * store_image.c has the design.
 */
#ifndef PRIVD_STORE_IMAGE_H
#define PRIVD_STORE_IMAGE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

/* Whether the store makes its backup image itself (store_copy: LMDB's
 * compacted copy); else store_image_write makes it. */
bool store_image_native(store *s);

/* The image's expected length in bytes, for a backup's progress and its
 * free-space check: the backend's estimate (LMDB), else the size of its
 * tables (PostgreSQL), else 0 (unknown). */
uint64_t store_image_estimate(store *s);

/*
 * Write every table of the store, as read in txn (any backend, read-only
 * or not: one snapshot), into a new LMDB image file at path (created
 * 0600; it must not exist), durable when this returns 0. Work space is
 * path's directory: path.d/ (removed again whatever happens). estimate
 * (0: unknown) sizes the image's map at first. copied (may be NULL)
 * counts the bytes of keys and values copied so far; cancel (may be
 * NULL) stops the copy with ECANCELED when it turns true.
 * 0, or a store code or errno value with why in err (no value, no key).
 * The reads need only the current record of a cursor to stay valid until
 * its next step.
 */
int store_image_write(store_txn *txn, const char *path, uint64_t estimate,
    const atomic_bool *cancel, atomic_uint_fast64_t *copied, char *err,
    size_t errlen);

/*
 * Replace every table of write transaction dst by the records of the
 * same table in src (a transaction on another store, e.g. an LMDB image
 * opened with store_open): each table is emptied (store_drop), then
 * filled in key order. *n counts the records written (may be NULL).
 * 0 or a store code.
 */
int store_image_replace(store_txn *src, store_txn *dst, uint64_t *n);

/* Remove a work directory store_image_write left (privd stopped during
 * a copy): its files and itself. 0, or -1 with errno. */
int store_image_clean(const char *workdir);

#ifdef PRIVD_HAVE_PG
/*
 * PostgreSQL's side (store_pg_node.c). The bytes its tables use (the
 * estimate of an image of them), read now; 0 if unknown.
 */
uint64_t store_pg_image_bytes(store *s);

/*
 * The serving lock. Every serving node holds it shared, on its
 * listener's connection (store_listen) for as long as that lives. A
 * command that needs every node stopped (privd restore) takes it
 * exclusive without waiting, on a connection of its own: *got false
 * says that a node serves (or the server is a standby). While the
 * command holds it, a node that starts finds its listener refused and
 * retries. 0 or STORE_UNAVAILABLE; release with store_pg_serving_end.
 */
typedef struct store_pg_serving store_pg_serving;
int store_pg_serving_take(store *s, bool *got, store_pg_serving **out);
void store_pg_serving_end(store_pg_serving **p);
#endif

#endif
