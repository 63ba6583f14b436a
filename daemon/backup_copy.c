/*
 * backup_copy.c - a backup's copy, in the backup's thread: the store's
 * image into DATADIR/backup/<id>.part (LMDB's compacted copy through a
 * pipe, or store_image.h's image of any other store), its digest, the
 * heads read back from it, the trailer; see backup.h.
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "backup_internal.h"
#include "clock.h"
#include "log.h"
#include "store_image.h"
#include "substate.h"

#define COPY_CHUNK      (1u << 20)
#define PIPE_BYTES      (1 << 20) /* fewer, larger reads of the copy */
#define WRITEBACK_BYTES (8ull << 20)
#define MAP_SLACK_BYTES (64ull << 20) /* room for the writes during a copy */
#define MAP_WAIT_MS     5000          /* for the writer to grow the map */

/* Copy the store into the pipe (its writing end); store_copy holds
 * maplock shared for the whole read transaction of the copy. */
typedef struct copier {
	store *st;
	int fd;
	int rc;
} copier;

static void *
copier_main(void *arg)
{
	copier *c = arg;

	c->rc = store_copy(c->st, c->fd);
	close(c->fd);
	return NULL;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Write back what the copy wrote so far, one WRITEBACK_BYTES window at a
 * time, waiting for the window before: a few hundred MB left dirty for
 * the final fsync would queue the writer's commit flushes behind them
 * (measured: puts waited up to 170 ms); this keeps them waiting for a
 * window at most.
 */
static void
write_back(int fd, uint64_t *synced, uint64_t written)
{
	const unsigned wait = SYNC_FILE_RANGE_WAIT_BEFORE |
	                      SYNC_FILE_RANGE_WRITE |
	                      SYNC_FILE_RANGE_WAIT_AFTER;

	while (written - *synced >= WRITEBACK_BYTES) {
		sync_file_range(
		    fd, (off_t)*synced, WRITEBACK_BYTES, SYNC_FILE_RANGE_WRITE);
		if (*synced >= WRITEBACK_BYTES)
			sync_file_range(fd, (off_t)(*synced - WRITEBACK_BYTES),
			    WRITEBACK_BYTES, wait);
		*synced += WRITEBACK_BYTES;
	}
}

/* Move the copy from the pipe into the file, hashing and counting. 0, an
 * errno, or ECANCELED. */
static int
pump(backup_ctl *b, int in, int out, crypto_generichash_state *h)
{
	uint64_t written = 0, synced = 0;
	uint8_t *buf;
	ssize_t n;
	int rc = 0;

	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return ENOMEM;
	for (;;) {
		if (atomic_load(&b->cancel)) {
			rc = ECANCELED;
			break;
		}
		if ((n = read(in, buf, COPY_CHUNK)) == -1) {
			if (errno == EINTR)
				continue;
			rc = errno;
			break;
		}
		if (n == 0)
			break;
		backup_digest_update(h, buf, (size_t)n);
		if ((rc = write_all(out, buf, (size_t)n)) != 0)
			break;
		atomic_fetch_add(&b->copied, (uint64_t)n);
		written += (uint64_t)n;
		write_back(out, &synced, written);
	}
	free(buf); /* sealed values and keys only: nothing to wipe */
	return rc;
}

/*
 * Read from the finished image what its trailer says of it: its format,
 * the erasure journal's head, the audit log's head and chain hash. The
 * image is opened read-only without a lock file: nobody else opens it.
 */
static int
image_heads(const char *path, backup_info *bi, char *msg, size_t msglen)
{
	store *s = NULL;
	store_txn *txn = NULL;
	audit_state a;
	char err[200];
	int rc;

	if ((rc = store_open_image(path, true, &s)) != 0 ||
	    (rc = store_txn_begin(s, STORE_RDONLY, &txn)) != 0)
		goto out;
	if (store_format_check(s, txn, err, sizeof(err)) != 0) {
		snprintf(msg, msglen, "the copy is not readable: %.120s", err);
		rc = STORE_INCOMPATIBLE;
		goto out;
	}
	if ((rc = journal_head(s, txn, &bi->journal_head)) != 0 ||
	    (rc = audit_load(s, txn, &a)) != 0)
		goto out;
	bi->store_format = STORE_FORMAT;
	bi->audit_head = a.seq;
	memcpy(bi->audit_hash, a.hash, sizeof(bi->audit_hash));
out:
	if (rc != 0 && msg[0] == '\0')
		snprintf(msg, msglen, "the copy cannot be read back: %s",
		    store_strerror(rc));
	if (txn != NULL)
		store_txn_abort(txn);
	store_close(&s);
	return rc;
}

static int
fsync_dir(const char *dir)
{
	int fd, rc = 0;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	if (fsync(fd) != 0)
		rc = errno;
	close(fd);
	return rc;
}

/*
 * LMDB's image: its compacted copy through a pipe into the file, hashed
 * and counted on the way.
 */
static int
copy_native(backup_ctl *b, backup_info *bi, crypto_generichash_state *h,
    char *msg, size_t msglen)
{
	pthread_t ct;
	copier c = {b->st, -1, 0};
	int p[2], rc;

	if (pipe2(p, O_CLOEXEC) != 0) {
		rc = errno;
		snprintf(msg, msglen, "cannot make a pipe: %s", strerror(rc));
		return rc;
	}
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES); /* best effort */
	c.fd = p[1];
	/* While the copy holds its read transaction, freed pages are not
	 * reused and the map cannot grow without waiting for the copy (and
	 * every reader behind it): make room first, as much again as the
	 * store uses. The writer grows the map (store.h); it wakes for this
	 * backup's own start request at the latest. */
	{
		size_t used = store_used_bytes(b->st);

		if (!store_want_map(
		        b->st, 2 * used + MAP_SLACK_BYTES, MAP_WAIT_MS))
			log_warn("backup: the store map could not be grown "
			         "ahead of the copy; if it fills during the "
			         "copy, requests wait for the copy to end");
	}
	/* the copy's read transaction begins just after this */
	bi->time_us = clock_wall_us();
	if ((rc = pthread_create(&ct, NULL, copier_main, &c)) != 0) {
		close(p[0]);
		close(p[1]);
		snprintf(
		    msg, msglen, "cannot start the copy: %s", strerror(rc));
		return rc;
	}
	rc = pump(b, p[0], b->fd, h);
	/* a copy still writing gets EPIPE and stops */
	close(p[0]);
	pthread_join(ct, NULL);
	if (rc == 0 && c.rc != 0)
		rc = c.rc;
	if (rc != 0) {
		if (rc != ECANCELED)
			snprintf(msg, msglen, "the copy failed: %s",
			    store_strerror(rc));
		return rc;
	}
	bi->image_bytes = atomic_load(&b->copied);
	return 0;
}

/*
 * Any other store's image (store_image.h): every table walked in one read
 * transaction (PostgreSQL: one REPEATABLE READ snapshot) into an LMDB
 * image that takes the .part's place; then the file is read through for
 * its digest. copied counts the records' bytes while they are copied,
 * and the image's length once it is made.
 */
static int
copy_image(backup_ctl *b, backup_info *bi, crypto_generichash_state *h,
    char *msg, size_t msglen)
{
	store_txn *txn;
	struct stat sb;
	uint8_t *buf;
	uint64_t at = 0;
	ssize_t n;
	int fd, rc;

	/* the snapshot is taken at the transaction's first read, after this */
	bi->time_us = clock_wall_us();
	if ((rc = store_txn_begin(b->st, STORE_RDONLY, &txn)) != 0) {
		snprintf(msg, msglen, "cannot read the store: %s",
		    store_strerror(rc));
		return rc;
	}
	rc = store_image_write(
	    txn, b->part, b->estimate, &b->cancel, &b->copied, msg, msglen);
	store_txn_abort(txn);
	if (rc != 0)
		return rc;
	/* the image was renamed over the .part the start made */
	if ((fd = open(b->part, O_RDWR | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		rc = errno;
		if (fd >= 0)
			close(fd);
		snprintf(
		    msg, msglen, "cannot open the image: %s", strerror(rc));
		return rc;
	}
	pthread_mutex_lock(&b->mu);
	close(b->fd);
	b->fd = fd;
	pthread_mutex_unlock(&b->mu);
	if ((buf = malloc(COPY_CHUNK)) == NULL)
		return ENOMEM;
	while (at < (uint64_t)sb.st_size) {
		if (atomic_load(&b->cancel)) {
			rc = ECANCELED;
			break;
		}
		if ((n = pread(fd, buf, COPY_CHUNK, (off_t)at)) <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			rc = n < 0 ? errno : EIO;
			snprintf(msg, msglen, "cannot read the image: %s",
			    strerror(rc));
			break;
		}
		backup_digest_update(h, buf, (size_t)n);
		at += (uint64_t)n;
	}
	free(buf);
	if (rc != 0)
		return rc;
	bi->image_bytes = at;
	atomic_store(&b->copied, at);
	return lseek(fd, 0, SEEK_END) < 0 ? errno : 0;
}

int
backup_make(backup_ctl *b, backup_info *bi, char *msg, size_t msglen)
{
	uint8_t tr[BACKUP_TRAILER_BYTES];
	crypto_generichash_state h;
	int rc;

	memset(bi, 0, sizeof(*bi));
	backup_digest_init(&h);
	rc = store_image_native(b->st) ? copy_native(b, bi, &h, msg, msglen)
	                               : copy_image(b, bi, &h, msg, msglen);
	if (rc != 0)
		return rc;
	if ((rc = image_heads(b->part, bi, msg, msglen)) != 0)
		return rc;
	backup_trailer_encode(bi, tr);
	backup_digest_final(&h, tr, bi->digest);
	backup_trailer_encode(bi, tr);
	if ((rc = write_all(b->fd, tr, sizeof(tr))) != 0 ||
	    (fsync(b->fd) != 0 && (rc = errno) != 0) ||
	    (rename(b->part, b->bak) != 0 && (rc = errno) != 0)) {
		snprintf(
		    msg, msglen, "cannot write the backup: %s", strerror(rc));
		return rc;
	}
	b->part[0] = '\0';
	if ((rc = fsync_dir(b->dir)) != 0) {
		snprintf(
		    msg, msglen, "cannot write the backup: %s", strerror(rc));
		return rc;
	}
	return 0;
}
