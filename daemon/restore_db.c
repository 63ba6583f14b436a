/*
 * restore_db.c - `privd restore` into a database store (PostgreSQL): the
 * restored store put in place of the database's rows in one transaction;
 * see restore.h.
 *
 * DESIGN (issue 12). The restore is restore.c's, step for step: the same
 * checks of the backup and of DIR's master key, the backup's image made
 * into the LMDB store DIR/restore.tmp, the erasure journal after the
 * backup re-applied to it, its audit log continued from the replaced
 * store's and the restore's own event appended - in one LMDB
 * transaction, as on LMDB. The replaced store is the database's: it is
 * read, as one REPEATABLE READ snapshot, for its journal and its audit
 * events after the backup, and kept as an LMDB image file
 * DIR/store.replaced-<UTC>.mdb (0600, store_image_write) from that same
 * snapshot. Only then is the database changed: in ONE write transaction,
 * which takes the writers' lock, every table's rows are replaced by the
 * restored store's (store_image_replace), and it commits; a failure
 * before the commit leaves the database as it was.
 *
 * The database must not change between the snapshot and the write: the
 * write transaction's generation (store_kv.h) must follow the
 * snapshot's, or the restore is refused (someone wrote: a privd command
 * such as `privd policy set`), and nothing is changed. No node serves
 * meanwhile: the restore holds the serving lock exclusive from before
 * its first read to its end (store_image.h), which it cannot take while
 * any node serves. DIR's own lock (datadir_lock) keeps a privd serving
 * on DIR off too.
 *
 * A database without privd's schema (a new one: how a store moves from
 * LMDB to PostgreSQL) has no replaced store: the journal must come from
 * --journal, as for a lost LMDB store, and the schema is made just
 * before the write.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "datadir.h"
#include "restore.h"
#include "store_image.h"

#define REPLACED_PREFIX "store.replaced-"

typedef struct rdb {
	const char *spec;
	store *db; /* NULL: no privd schema in the database yet */
	char open_err[256];
#ifdef PRIVD_HAVE_PG
	store_pg_serving *serving;
#endif
	uint64_t gen0; /* the generation of the snapshot read */
} rdb;

/* Take the serving lock: refused while a node serves. */
static int
hold_serving(rst *r, rdb *d)
{
#ifdef PRIVD_HAVE_PG
	bool got;
	int rc;

	if ((rc = store_pg_serving_take(d->db, &got, &d->serving)) != 0)
		return rst_refuse(r,
		    "cannot take the database's serving lock (%s); nothing "
		    "was changed",
		    store_strerror(rc));
	if (!got)
		return rst_refuse(r,
		    "a privd node serves this database (or the server is a "
		    "standby): stop every node before a restore; nothing was "
		    "changed");
	return 0;
#else
	(void)d;
	return rst_refuse(r, "this privd was built without PostgreSQL");
#endif
}

static void
release_serving(rdb *d)
{
#ifdef PRIVD_HAVE_PG
	store_pg_serving_end(&d->serving);
#else
	(void)d;
#endif
}

/*
 * The database as it is: its generation, and whether it holds a store
 * (r->has_old: r->old, r->otxn, a read snapshot held to the write). An
 * empty schema holds none; a store this privd does not read is refused.
 */
static int
open_db_old(rst *r, rdb *d)
{
	char err[300];
	store_val v;
	uint64_t n;
	int rc;

	if (d->db == NULL)
		return 0;
	if ((rc = store_txn_begin(d->db, STORE_RDONLY, &r->otxn)) != 0 ||
	    (rc = store_txn_gen(r->otxn, &d->gen0, NULL)) != 0 ||
	    (rc = store_count(r->otxn, STORE_META, &n)) != 0)
		return rst_refuse(
		    r, "cannot read the database: %s", store_strerror(rc));
	if (n == 0 &&
	    store_meta_get(d->db, r->otxn, "format", &v) == STORE_NOTFOUND)
		return 0; /* privd's schema, no store in it */
	if (store_format_check(d->db, r->otxn, err, sizeof(err)) != 0)
		return rst_refuse(r, "the database's store: %s", err);
	r->old = d->db;
	r->has_old = true;
	return 0;
}

/* Keep the replaced store's contents, as read, in DIR (r->kept). */
static int
keep_replaced(rst *r, rdb *d)
{
	char stamp[32], name[64], err[256];
	int rc;

	rst_utc(clock_wall_us(), stamp, sizeof(stamp), true);
	snprintf(name, sizeof(name), REPLACED_PREFIX "%s.mdb", stamp);
	if (datadir_path(r->kept, sizeof(r->kept), r->dir, name) != 0)
		return rst_refuse(r, "path too long");
	if (access(r->kept, F_OK) == 0) {
		r->kept[0] = '\0';
		return rst_refuse(r, "%s already holds %s", r->dir, name);
	}
	if ((rc = store_image_write(r->otxn, r->kept,
	         store_image_estimate(d->db), NULL, NULL, err, sizeof(err))) !=
	    0) {
		unlink(r->kept);
		r->kept[0] = '\0';
		return rst_refuse(r,
		    "cannot keep the replaced store in %s: %s; nothing was "
		    "changed",
		    r->dir, err);
	}
	return 0;
}

/* The end of the snapshot read: the old store is not read again. */
static void
end_old(rst *r)
{
	if (r->otxn != NULL)
		store_txn_abort(r->otxn);
	r->otxn = NULL;
	r->old = NULL;
}

/*
 * The one write transaction: the writers' lock, the generation checked
 * against the snapshot's, every table replaced by the restored store's,
 * commit. *landed: whether the database may have changed (a commit that
 * was sent).
 */
static int
write_db(rst *r, rdb *d, bool *landed)
{
	store_txn *src = NULL, *w = NULL;
	char err[256];
	uint64_t gen;
	int rc;

	*landed = false;
	if (d->db == NULL) {
		/* a new database: privd's schema first (idempotent) */
		if (store_open_spec(
		        d->spec, 0, true, &d->db, err, sizeof(err)) != 0)
			return rst_refuse(r,
			    "cannot make privd's schema in the database: %s",
			    err);
		if (hold_serving(r, d) != 0)
			return -1;
		if ((rc = store_gen(d->db, &d->gen0)) != 0)
			return rst_refuse(r, "cannot read the database: %s",
			    store_strerror(rc));
	}
	if ((rc = store_txn_begin(r->st, STORE_RDONLY, &src)) != 0)
		return rst_refuse(r, "cannot read the restored store: %s",
		    store_strerror(rc));
	if ((rc = store_txn_begin(d->db, 0, &w)) != 0 ||
	    (rc = store_txn_gen(w, &gen, NULL)) != 0) {
		rst_refuse(r, "cannot begin the database's transaction: %s",
		    store_strerror(rc));
		goto fail;
	}
	/* one node: 0 and 0; else the write must follow the snapshot */
	if (gen != 0 && gen != d->gen0 + 1) {
		rst_refuse(r,
		    "the database was written to during the restore (by a "
		    "privd command or node): run the restore again");
		goto fail;
	}
	if ((rc = store_image_replace(src, w, &r->db_rows)) != 0) {
		rst_refuse(r, "cannot write the restored store: %s",
		    store_strerror(rc));
		goto fail;
	}
	*landed = true;
	rc = store_txn_commit(w);
	w = NULL;
	store_txn_abort(src);
	if (rc == 0)
		return 0;
	if (rc != STORE_UNAVAILABLE)
		*landed = false; /* refused by the server: rolled back */
	return rst_refuse(r, "the commit failed: %s", store_strerror(rc));
fail:
	if (w != NULL)
		store_txn_abort(w);
	store_txn_abort(src);
	return -1;
}

int
rst_into_db(rst *r, int fd, const char *spec)
{
	char msg[sizeof(r->why)];
	rdb d;
	bool landed = false;
	int rc = -1;

	memset(&d, 0, sizeof(d));
	d.spec = spec;
	/* a database without privd's schema is a new one (its schema is
	 * made at the write, once every check has passed: store_pg.c says
	 * "holds no privd store"); any other failure to open it (no
	 * server, another schema version) is refused */
	if (store_open_spec(
	        spec, 0, false, &d.db, d.open_err, sizeof(d.open_err)) != 0) {
		d.db = NULL;
		if (strstr(d.open_err, "holds no privd store") == NULL) {
			rc =
			    rst_refuse(r, "the database store: %s", d.open_err);
			goto out;
		}
	} else if (hold_serving(r, &d) != 0) {
		goto out;
	}
	if (rst_check_backup(r, fd) != 0 || rst_copy_image(r, fd) != 0 ||
	    rst_open_restored(r) != 0 || open_db_old(r, &d) != 0 ||
	    rst_load_journal(r) != 0)
		goto out;
	if ((rc = rst_apply(r)) != 0) {
		rc = rst_refuse(r, "cannot write the restored store: %s",
		    store_strerror(rc));
		goto out;
	}
	if (r->has_old && (rc = keep_replaced(r, &d)) != 0)
		goto out;
	end_old(r);
	rc = write_db(r, &d, &landed);
out:
	end_old(r);
	store_close(&r->st);
	if (r->tmp[0] != '\0')
		rst_clean_tmp(r->tmp);
	if (rc != 0) {
		snprintf(msg, sizeof(msg), "%s", r->why);
		if (landed) {
			size_t n;

			snprintf(r->why, sizeof(r->why),
			    "%.200s; the commit's answer was lost: the restore "
			    "may have landed (the audit log's restore event "
			    "says whether it did)",
			    msg);
			n = strlen(r->why);
			if (r->kept[0] != '\0')
				snprintf(r->why + n, sizeof(r->why) - n,
				    "; the replaced store is kept as %s",
				    r->kept);
		} else if (strstr(msg, "nothing was changed") == NULL)
			snprintf(r->why, sizeof(r->why),
			    "%.330s; nothing was changed", msg);
		if (!landed && r->kept[0] != '\0') {
			unlink(r->kept); /* personal data, and not needed */
			r->kept[0] = '\0';
		}
	}
	release_serving(&d);
	store_close(&d.db);
	return rc == 0 ? 0 : -1;
}
