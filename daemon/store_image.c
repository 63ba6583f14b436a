/*
 * store_image.c - a store copied table by table into an LMDB image, and
 * back; see store_image.h.
 *
 * DESIGN (issue 12: backups and restore on a PostgreSQL store). A privd
 * backup is one file format whatever the store: an LMDB image of every
 * store table followed by backupfmt.h's trailer. LMDB makes its image
 * itself (store_copy: mdb_env_copyfd2 with compaction). Any other
 * backend's image is made here, over store_kv.h alone: one transaction
 * of the source (on PostgreSQL a REPEATABLE READ snapshot, so every
 * table is as of one moment) walks every table with a cursor in key
 * order and appends each record to a fresh LMDB store (store_open with
 * create) in a work directory beside the image; the work store's
 * data.mdb is then renamed to be the image. Both backends order keys
 * byte by byte, shorter first on a tie (bytea, LMDB's default), so the
 * appends are in order and the image is dense. The image's writes are
 * committed every TXN_BYTES, so a large store does not sit in one LMDB
 * transaction's dirty pages; a full map is grown (store_grow) and the
 * chunk written again from the last committed key.
 *
 * The same walk serves the restore into PostgreSQL twice: the replaced
 * contents are kept as an image file (store_image_write of the
 * database's transaction), and the restored image's tables replace the
 * database's rows (store_image_replace, inside the restore's one write
 * transaction). A backup of LMDB restored into PostgreSQL, or the
 * reverse, is the same walk: that is how a store moves between backends.
 *
 * Threads: whoever calls; the source transaction is the caller's, the
 * work store this file's own.
 */
#include "store_image.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TXN_BYTES    (64ull << 20) /* an image transaction's payload */
#define MIN_MAP      (64ull << 20)
#define MAX_GROWS    24   /* doublings: far past any disk */
#define CANCEL_EVERY 256  /* records between looks at cancel */
#define WORK_SUFFIX  ".d" /* path.d/: the work store */

bool
store_image_native(store *s)
{
	return strcmp(store_backend(s), "lmdb") == 0;
}

uint64_t
store_image_estimate(store *s)
{
	if (store_image_native(s))
		return store_copy_size(s);
#ifdef PRIVD_HAVE_PG
	if (strcmp(store_backend(s), "postgresql") == 0)
		return store_pg_image_bytes(s);
#endif
	return 0;
}

int
store_image_clean(const char *workdir)
{
	static const char *const names[] = {"data.mdb", "lock.mdb"};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", workdir, names[i]) >=
		    (int)sizeof(path)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if (unlink(path) != 0 && errno != ENOENT)
			return -1;
	}
	return rmdir(workdir) != 0 && errno != ENOENT ? -1 : 0;
}

/* Where a chunk of the copy begins: a table and the last key copied
 * (none: the table's first record). */
typedef struct img_pos {
	int tb;
	uint8_t *key; /* malloc'd */
	size_t klen;
} img_pos;

static int
pos_set(img_pos *p, int tb, const store_val *k)
{
	uint8_t *key = NULL;

	if (k != NULL && (key = malloc(k->size ? k->size : 1)) == NULL)
		return ENOMEM;
	if (k != NULL)
		memcpy(key, k->data, k->size);
	free(p->key);
	p->tb = tb;
	p->key = key;
	p->klen = k != NULL ? k->size : 0;
	return 0;
}

/* The cursor at the first record after p's key (its table's first if
 * none). */
static int
seek(store_cur *c, const img_pos *p, store_val *k, store_val *v)
{
	int rc;

	if (p->key == NULL)
		return store_cur_get(c, k, v, STORE_FIRST);
	k->size = p->klen;
	k->data = p->key;
	if ((rc = store_cur_get(c, k, v, STORE_SET_RANGE)) != 0)
		return rc;
	if (k->size == p->klen && memcmp(k->data, p->key, p->klen) == 0)
		rc = store_cur_get(c, k, v, STORE_NEXT);
	return rc;
}

/*
 * Copy from *at into dst until TXN_BYTES are written or every table is:
 * *next receives where the next chunk begins (tb STORE_NTABLES: done),
 * *bytes what this chunk holds.
 */
static int
fill_chunk(store_txn *src, store_txn *dst, const img_pos *at, img_pos *next,
    uint64_t *bytes, const atomic_bool *cancel)
{
	store_val k, v, w;
	store_cur *c;
	unsigned n = 0;
	int tb, rc;

	*bytes = 0;
	if ((rc = pos_set(next, at->tb, NULL)) != 0)
		return rc;
	for (tb = at->tb; tb < STORE_NTABLES; tb++) {
		if ((rc = store_cur_open(src, (store_tbl)tb, &c)) != 0)
			return rc;
		/* a record is used before the next move (its key kept by
		 * pos_set's copy): a database store holds one batch of the
		 * walk, not the whole table, until the transaction ends */
		store_cur_stream(c);
		rc = tb == at->tb ? seek(c, at, &k, &v)
		                  : store_cur_get(c, &k, &v, STORE_FIRST);
		for (; rc == 0; rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
			if (++n % CANCEL_EVERY == 0 && cancel != NULL &&
			    atomic_load(cancel)) {
				rc = ECANCELED;
				break;
			}
			w = v;
			if ((rc = store_put(dst, (store_tbl)tb, &k, &w,
			         STORE_APPEND)) != 0)
				break;
			*bytes += k.size + v.size;
			if (*bytes >= TXN_BYTES) {
				rc = pos_set(next, tb, &k);
				store_cur_close(c);
				return rc;
			}
		}
		store_cur_close(c);
		if (rc != STORE_NOTFOUND)
			return rc;
	}
	return pos_set(next, STORE_NTABLES, NULL);
}

/* Fill the work store from src, a chunk per transaction. */
static int
fill(store_txn *src, store *img, const atomic_bool *cancel,
    atomic_uint_fast64_t *copied)
{
	img_pos at = {0, NULL, 0}, next = {0, NULL, 0};
	store_txn *dst;
	uint64_t bytes;
	int rc = 0, grows = 0;

	while (at.tb < STORE_NTABLES) {
		if ((rc = store_txn_begin(img, 0, &dst)) != 0)
			break;
		if ((rc = fill_chunk(src, dst, &at, &next, &bytes, cancel)) ==
		    0)
			rc = store_txn_commit(dst);
		else
			store_txn_abort(dst);
		if (rc == STORE_MAP_FULL && grows++ < MAX_GROWS &&
		    store_grow(img) == 0)
			continue; /* the same chunk again, in a larger map */
		if (rc != 0)
			break;
		if (copied != NULL)
			atomic_fetch_add(copied, bytes);
		free(at.key);
		at = next;
		next.key = NULL;
	}
	free(at.key);
	free(next.key);
	return rc;
}

static int
fsync_path(const char *path, bool dir)
{
	int fd, rc = 0;

	if ((fd = open(path,
	         (dir ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC)) < 0)
		return errno;
	if (fsync(fd) != 0)
		rc = errno;
	close(fd);
	return rc;
}

/* The directory part of path (".": none), into buf. */
static void
dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

int
store_image_write(store_txn *txn, const char *path, uint64_t estimate,
    const atomic_bool *cancel, atomic_uint_fast64_t *copied, char *err,
    size_t errlen)
{
	char work[PATH_MAX], data[PATH_MAX], dir[PATH_MAX], why[256];
	uint64_t map = estimate + estimate / 4 + MIN_MAP;
	store *img = NULL;
	int rc;

	if (snprintf(work, sizeof(work), "%s%s", path, WORK_SUFFIX) >=
	        (int)sizeof(work) ||
	    snprintf(data, sizeof(data), "%s/data.mdb", work) >=
	        (int)sizeof(data)) {
		snprintf(err, errlen, "path too long");
		return ENAMETOOLONG;
	}
	(void)store_image_clean(work); /* an earlier copy's, if any */
	if (mkdir(work, 0700) != 0) {
		rc = errno;
		snprintf(err, errlen, "cannot make a work directory: %s",
		    strerror(rc));
		return rc;
	}
	if (map > SIZE_MAX / 2)
		map = SIZE_MAX / 2;
	if (store_open(work, (size_t)map, true, &img, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot make the image: %.200s", why);
		rc = EIO;
		goto out;
	}
	rc = fill(txn, img, cancel, copied);
	store_close(&img);
	if (rc != 0) {
		if (rc != ECANCELED)
			snprintf(err, errlen, "the copy failed: %s",
			    store_strerror(rc));
		goto out;
	}
	/* LMDB made every commit durable; the rename must be too */
	dir_of(path, dir, sizeof(dir));
	if (chmod(data, 0600) != 0 || rename(data, path) != 0 ||
	    (rc = fsync_path(path, false)) != 0 ||
	    (rc = fsync_path(dir, true)) != 0) {
		if (rc == 0)
			rc = errno;
		snprintf(
		    err, errlen, "cannot write the image: %s", strerror(rc));
	}
out:
	(void)store_image_clean(work);
	return rc;
}

int
store_image_replace(store_txn *src, store_txn *dst, uint64_t *n)
{
	store_val k, v, w;
	store_cur *c;
	int tb, rc = 0;

	if (n != NULL)
		*n = 0;
	for (tb = 0; tb < STORE_NTABLES; tb++) {
		if ((rc = store_drop(dst, (store_tbl)tb)) != 0 ||
		    (rc = store_cur_open(src, (store_tbl)tb, &c)) != 0)
			return rc;
		store_cur_stream(c);
		for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
		     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
			w = v;
			if ((rc = store_put(dst, (store_tbl)tb, &k, &w, 0)) !=
			    0)
				break;
			if (n != NULL)
				(*n)++;
		}
		store_cur_close(c);
		if (rc != STORE_NOTFOUND)
			return rc;
	}
	return 0;
}
