/*
 * backup.c - online backups: the backup's state, its copy thread and its
 * timer; see backup.h.
 *
 * A backup goes NONE -> COPYING -> READY -> NONE (ended or abandoned), or
 * COPYING -> FAILED (its file is gone; the next read reports why and ends
 * it), or COPYING -> CANCEL -> NONE (ended, or privd stopping, while the
 * copy ran). The thread owns the copy; whoever ends the backup removes
 * its file under the mutex, so that a read never sees a closed fd.
 */
#define _GNU_SOURCE /* pipe2 */
#include "backup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "log.h"
#include "store_image.h"
#include "substate.h"

#define COPY_CHUNK        (1u << 20)
#define PIPE_BYTES        (1 << 20) /* fewer, larger reads of the copy */
#define WRITEBACK_BYTES   (8ull << 20)
#define RELEASE_STEP      (16 << 20)
#define TICK_US           1000000 /* the timer looks at the idle time this often */
#define BACKUP_DISK_SLACK (256ull << 20) /* left free for the store */
#define MAP_SLACK_BYTES   (64ull << 20)  /* room for the writes during a copy */
#define MAP_WAIT_MS       5000           /* for the writer to grow the map */

typedef enum bstate {
	B_NONE,
	B_COPYING,
	B_READY,
	B_FAILED,
	B_CANCEL, /* ended while copying: the thread removes the file */
} bstate;

struct backup_ctl {
	store *st;
	char dir[PATH_MAX];      /* DATADIR/backup */
	char datadir[PATH_MAX];  /* DATADIR: its file system holds the copy */
	pthread_mutex_t startmu; /* one start at a time: it may join */
	pthread_mutex_t mu;      /* everything below */
	pthread_cond_t cv;       /* on CLOCK_MONOTONIC: the timer's */
	bstate state;
	uint8_t id[BACKUP_IDBYTES];
	char tag[9]; /* the id's first bytes in hex, for the log */
	char part[PATH_MAX], bak[PATH_MAX];
	int fd;    /* the file (READY), for reads; -1 if none */
	int trash; /* a removed file's fd, for the thread to release */
	atomic_bool cancel;
	bool stopping; /* backup_ctl_free */
	bool live;     /* thr has been started and not joined */
	pthread_t thr;
	atomic_uint_fast64_t copied;
	uint64_t estimate;
	backup_info info;
	uint64_t size;
	int err;
	char msg[160];
	uint64_t used_mono, used_wall; /* the last start or read */
};

/*
 * Free a removed backup's blocks a little at a time, then close it. A
 * file of a few hundred MB freed at once is one large file system
 * transaction, and the writer's commit flushes queue behind it (measured:
 * puts waited up to 90 ms after a BackupEnd); in steps, each waits for
 * one step at most.
 */
static void
release_blocks(int fd)
{
	struct stat sb;
	off_t size;

	if (fstat(fd, &sb) == 0)
		for (size = sb.st_size; size > 0;) {
			size = size > RELEASE_STEP ? size - RELEASE_STEP : 0;
			if (ftruncate(fd, size) != 0)
				break;
		}
	close(fd);
}

/* Remove the backup's file(s) and forget it; its blocks are the
 * thread's to release (b->trash). Under mu. */
static void
drop_locked(backup_ctl *b)
{
	if (b->fd >= 0) {
		if (b->trash >= 0)
			close(b->trash);
		b->trash = b->fd;
	}
	b->fd = -1;
	if (b->part[0] != '\0')
		unlink(b->part);
	if (b->bak[0] != '\0')
		unlink(b->bak);
	b->part[0] = b->bak[0] = '\0';
	sodium_memzero(b->id, sizeof(b->id));
	b->state = B_NONE;
}

backup_ctl *
backup_ctl_new(store *st, const char *datadir)
{
	pthread_condattr_t ca;
	backup_ctl *b;
	int n;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	n = snprintf(b->dir, sizeof(b->dir), "%s/%s", datadir, BACKUP_DIR);
	if (n < 0 || (size_t)n >= sizeof(b->dir) ||
	    snprintf(b->datadir, sizeof(b->datadir), "%s", datadir) < 0) {
		free(b);
		return NULL;
	}
	b->st = st;
	b->fd = -1;
	b->trash = -1;
	pthread_mutex_init(&b->startmu, NULL);
	pthread_mutex_init(&b->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&b->cv, &ca);
	pthread_condattr_destroy(&ca);
	return b;
}

void
backup_ctl_free(backup_ctl **bp)
{
	backup_ctl *b;

	if (bp == NULL || (b = *bp) == NULL)
		return;
	pthread_mutex_lock(&b->mu);
	b->stopping = true;
	atomic_store(&b->cancel, true);
	pthread_cond_broadcast(&b->cv);
	pthread_mutex_unlock(&b->mu);
	if (b->live)
		pthread_join(b->thr, NULL);
	pthread_mutex_lock(&b->mu);
	if (b->state != B_NONE) {
		log_info("backup %s ended: privd stops", b->tag);
		drop_locked(b);
	}
	if (b->trash >= 0)
		close(b->trash); /* privd stops: no request to keep waiting */
	pthread_mutex_unlock(&b->mu);
	pthread_cond_destroy(&b->cv);
	pthread_mutex_destroy(&b->mu);
	pthread_mutex_destroy(&b->startmu);
	free(b);
	*bp = NULL;
}

int
backup_clean_dir(const char *datadir, size_t *removed)
{
	char dir[PATH_MAX], path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d;
	int n;

	*removed = 0;
	n = snprintf(dir, sizeof(dir), "%s/%s", datadir, BACKUP_DIR);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		/* a directory: an image's work store (store_image.h) */
		if (unlink(path) == 0 ||
		    (errno == EISDIR && store_image_clean(path) == 0))
			(*removed)++;
		else
			log_warn("cannot remove %s: %s", path, strerror(errno));
	}
	closedir(d);
	return 0;
}

/*
 * What the image will hold (LMDB: the pages of every database, free pages
 * left out; PostgreSQL: about its tables' size) and the trailer. An
 * estimate for the progress and the free-space check only: the store
 * changes while it is copied.
 */
static uint64_t
estimate_size(store *st)
{
	return store_image_estimate(st) + BACKUP_TRAILER_BYTES;
}

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

/*
 * Make the backup's file: the image, its trailer, fsync, rename. 0 with
 * *bi, or an error (errno or a store code) with a message for the client
 * in msg. The file descriptor stays open in b->fd (the thread's until
 * READY).
 */
static int
make_backup(backup_ctl *b, backup_info *bi, char *msg, size_t msglen)
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

/* The time since the backup was last used: the larger of the monotonic
 * and the wall clock's (the wall clock is what tests move, and a step of
 * it forward at worst abandons a backup early). Under mu. */
static uint64_t
idle_us(const backup_ctl *b)
{
	uint64_t m = clock_mono_us() - b->used_mono, w = clock_wall_us();

	w = w > b->used_wall ? w - b->used_wall : 0;
	return m > w ? m : w;
}

static void
mark_used(backup_ctl *b)
{
	b->used_mono = clock_mono_us();
	b->used_wall = clock_wall_us();
}

/* READY: wait until the backup ends, privd stops, or nobody has read it
 * for BACKUP_IDLE_US. Under mu. */
static void
keep(backup_ctl *b, const uint8_t id[BACKUP_IDBYTES])
{
	struct timespec ts;

	while (b->state == B_READY && memcmp(b->id, id, BACKUP_IDBYTES) == 0) {
		if (b->stopping)
			return; /* backup_ctl_free removes it */
		if (idle_us(b) >= BACKUP_IDLE_US) {
			log_info("backup %s abandoned: not read for %llu "
			         "minutes; its file is removed",
			    b->tag,
			    (unsigned long long)(BACKUP_IDLE_US / 60000000));
			drop_locked(b);
			return;
		}
		ts = clock_mono_ts(clock_mono_us() + TICK_US);
		pthread_cond_timedwait(&b->cv, &b->mu, &ts);
	}
}

static bool
full_disk(int rc)
{
	return rc == ENOSPC || rc == EDQUOT || rc == EFBIG;
}

static void *
backup_main(void *arg)
{
	backup_ctl *b = arg;
	uint8_t id[BACKUP_IDBYTES];
	backup_info bi;
	char msg[160] = "";
	int rc, trash;

	memcpy(id, b->id, sizeof(id)); /* set before the thread started */
	rc = make_backup(b, &bi, msg, sizeof(msg));
	pthread_mutex_lock(&b->mu);
	if (b->stopping) {
		/* backup_ctl_free removes the file */
	} else if (rc == 0 && b->state == B_COPYING) {
		b->state = B_READY;
		b->info = bi;
		b->size = bi.image_bytes + BACKUP_TRAILER_BYTES;
		log_info("backup %s ready: %llu bytes, audit head %llu, "
		         "erasure journal head %llu",
		    b->tag, (unsigned long long)b->size,
		    (unsigned long long)bi.audit_head,
		    (unsigned long long)bi.journal_head);
		/* idle from when it can be read */
		mark_used(b);
		keep(b, id);
	} else if (b->state == B_COPYING) {
		drop_locked(b);
		memcpy(b->id, id, sizeof(id)); /* the next read says why */
		b->state = B_FAILED;
		b->err = rc;
		if (full_disk(rc))
			snprintf(b->msg, sizeof(b->msg),
			    "the backup failed: privd's disk is full");
		else
			snprintf(b->msg, sizeof(b->msg), "%s",
			    msg[0] ? msg : "the backup failed");
		log_err("backup %s failed: %s", b->tag, b->msg);
	} else {
		/* ended while copying (B_CANCEL) */
		drop_locked(b);
		log_info("backup %s ended during its copy", b->tag);
	}
	/* the file removed (ended, abandoned, failed): free its blocks */
	trash = b->trash;
	b->trash = -1;
	pthread_mutex_unlock(&b->mu);
	if (trash >= 0)
		release_blocks(trash);
	return NULL;
}

/* Wait for the thread of an earlier backup to finish. Under startmu, not
 * mu. */
static void
join_old(backup_ctl *b)
{
	bool live;

	pthread_mutex_lock(&b->mu);
	live = b->live;
	b->live = false;
	pthread_mutex_unlock(&b->mu);
	if (live)
		pthread_join(b->thr, NULL);
}

static void
hex_tag(char *out, const uint8_t *id)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 4; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[8] = '\0';
}

/* Make the backup directory and the backup's file (.part), 0700/0600. */
static int
open_part(backup_ctl *b, const uint8_t id[BACKUP_IDBYTES])
{
	static const char hex[] = "0123456789abcdef";
	char name[2 * BACKUP_IDBYTES + 1];
	size_t i;
	int n;

	for (i = 0; i < BACKUP_IDBYTES; i++) {
		name[2 * i] = hex[id[i] >> 4];
		name[2 * i + 1] = hex[id[i] & 15];
	}
	name[2 * BACKUP_IDBYTES] = '\0';
	if (mkdir(b->dir, 0700) != 0 && errno != EEXIST)
		return errno;
	if (chmod(b->dir, 0700) != 0)
		return errno;
	n = snprintf(b->part, sizeof(b->part), "%s/%s.part", b->dir, name);
	if (n < 0 || (size_t)n >= sizeof(b->part))
		return ENAMETOOLONG;
	n = snprintf(b->bak, sizeof(b->bak), "%s/%s.bak", b->dir, name);
	if (n < 0 || (size_t)n >= sizeof(b->bak))
		return ENAMETOOLONG;
	b->fd = open(b->part, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	return b->fd < 0 ? errno : 0;
}

int
backup_start(backup_ctl *b, uint8_t id[BACKUP_IDBYTES])
{
	struct statvfs vfs;
	uint64_t est;
	int rc;

	pthread_mutex_lock(&b->startmu);
	pthread_mutex_lock(&b->mu);
	if (b->state == B_COPYING || b->state == B_READY) {
		pthread_mutex_unlock(&b->mu);
		pthread_mutex_unlock(&b->startmu);
		return EBUSY;
	}
	pthread_mutex_unlock(&b->mu);
	/* a failed or ended backup's thread is done or about to be */
	join_old(b);
	est = estimate_size(b->st);
	/* the copy goes on privd's own disk: never fill it (data writes
	 * would fail meanwhile), with room to spare for them */
	if (statvfs(b->datadir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize <
	        est + est / 4 + BACKUP_DISK_SLACK) {
		pthread_mutex_unlock(&b->startmu);
		log_warn("backup refused: about %llu MiB needed on the data "
		         "directory's file system, %llu MiB free",
		    (unsigned long long)((est + est / 4 + BACKUP_DISK_SLACK) >>
		                         20),
		    (unsigned long long)(((uint64_t)vfs.f_bavail *
		                             vfs.f_frsize) >>
		                         20));
		return ENOSPC;
	}
	pthread_mutex_lock(&b->mu);
	drop_locked(b); /* a failed backup nobody read */
	randombytes_buf(id, BACKUP_IDBYTES);
	if ((rc = open_part(b, id)) != 0) {
		drop_locked(b);
		goto out;
	}
	memcpy(b->id, id, BACKUP_IDBYTES);
	hex_tag(b->tag, id);
	atomic_store(&b->cancel, false);
	atomic_store(&b->copied, 0);
	b->estimate = est;
	b->err = 0;
	b->msg[0] = '\0';
	b->state = B_COPYING;
	mark_used(b);
	if ((rc = pthread_create(&b->thr, NULL, backup_main, b)) != 0) {
		drop_locked(b);
		goto out;
	}
	b->live = true;
	log_info("backup %s started (about %llu bytes)", b->tag,
	    (unsigned long long)est);
out:
	pthread_mutex_unlock(&b->mu);
	pthread_mutex_unlock(&b->startmu);
	return rc;
}

/* Is id (idlen bytes) the backup's? Under mu. */
static bool
is_ours(const backup_ctl *b, const uint8_t *id, size_t idlen)
{
	return (b->state == B_COPYING || b->state == B_READY ||
	           b->state == B_FAILED) &&
	       idlen == BACKUP_IDBYTES &&
	       sodium_memcmp(b->id, id, BACKUP_IDBYTES) == 0;
}

int
backup_read(backup_ctl *b, const uint8_t *id, size_t idlen, uint64_t offset,
    uint8_t *buf, size_t len, size_t *n, backup_view *v)
{
	ssize_t got = 0;
	int rc = 0;

	*n = 0;
	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&b->mu);
	if (!is_ours(b, id, idlen)) {
		rc = ENOENT;
		goto out;
	}
	mark_used(b);
	v->copied = atomic_load(&b->copied);
	v->estimate = b->estimate;
	switch (b->state) {
	case B_COPYING:
		v->phase = BACKUP_COPYING;
		break;
	case B_FAILED:
		v->phase = BACKUP_FAILED;
		v->err = b->err;
		snprintf(v->msg, sizeof(v->msg), "%s", b->msg);
		log_info("backup %s ended: its failure was reported", b->tag);
		drop_locked(b);
		break;
	default:
		v->phase = BACKUP_READY;
		v->size = v->estimate = b->size;
		v->info = b->info;
		if (offset > b->size) {
			rc = ERANGE;
			break;
		}
		if (len > b->size - offset)
			len = (size_t)(b->size - offset);
		while (len > 0 &&
		       (got = pread(b->fd, buf, len, (off_t)offset)) == -1 &&
		       errno == EINTR)
			;
		if (got < 0)
			rc = errno;
		else
			*n = (size_t)got;
		break;
	}
out:
	pthread_mutex_unlock(&b->mu);
	return rc;
}

int
backup_end(backup_ctl *b, const uint8_t *id, size_t idlen)
{
	int rc = 0;

	pthread_mutex_lock(&b->mu);
	if (!is_ours(b, id, idlen)) {
		rc = ENOENT;
	} else if (b->state == B_COPYING) {
		/* the thread stops the copy and removes the file */
		b->state = B_CANCEL;
		atomic_store(&b->cancel, true);
	} else {
		log_info("backup %s ended", b->tag);
		drop_locked(b);
		pthread_cond_broadcast(&b->cv);
	}
	pthread_mutex_unlock(&b->mu);
	return rc;
}
