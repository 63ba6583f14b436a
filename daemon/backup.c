/*
 * backup.c - online backups: the backup's state, its thread and its
 * timer; see backup.h. The thread's copy is backup_copy.c's.
 *
 * A backup goes NONE -> COPYING -> READY -> NONE (ended or abandoned), or
 * COPYING -> FAILED (its file is gone; the next read reports why and ends
 * it), or COPYING -> CANCEL -> NONE (ended, or privd stopping, while the
 * copy ran). The thread owns the copy; whoever ends the backup removes
 * its file under the mutex, so that a read never sees a closed fd.
 */
#include "backup_internal.h"

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

#include "clock.h"
#include "log.h"
#include "store_image.h"

#define RELEASE_STEP      (16 << 20)
#define TICK_US           1000000 /* the timer looks at the idle time this often */
#define BACKUP_DISK_SLACK (256ull << 20) /* left free for the store */

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
	rc = backup_make(b, &bi, msg, sizeof(msg));
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
