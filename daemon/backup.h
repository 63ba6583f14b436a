/*
 * backup.h - online backups of a serving privd (issue 10, README "Backup
 * and restore"; the file format is backupfmt.h).
 *
 * DESIGN. One backup at a time. A worker starts it (BackupStart) and
 * answers at once; a thread of the backup's own makes the copy: on LMDB,
 * LMDB's compacted copy (mdb_env_copyfd2, MDB_CP_COMPACT) in one read
 * transaction, through a pipe, so that the bytes are counted and hashed
 * as they go into DATADIR/backup/<id>.part; on any other store (issue 12:
 * PostgreSQL), an LMDB image of every table walked in one read
 * transaction, one snapshot (store_image.h), made in <id>.part.d/ and
 * renamed to <id>.part, then read through for its digest. The file format
 * is the same either way. Then it reads the journal and audit heads from
 * the finished image, appends the trailer, fsyncs and renames the file to
 * <id>.bak. The writer is never involved: the copy is one more reader, and
 * requests go on. Workers answer BackupRead from the file and BackupEnd by
 * removing it. After the copy the thread stays as the backup's timer: a
 * backup not read for BACKUP_IDLE_US is abandoned and its file removed.
 *
 * The copy holds the store's maplock shared, as every reader does: LMDB
 * must not remap under a read transaction. A map growth the writer needs
 * while a copy runs therefore waits until the copy is done (store.h).
 *
 * Threads: backup_start/read/end from workers; backup_ctl_new/free from
 * the main thread (before the workers start, after they stopped). All
 * state is under the control's mutex.
 */
#ifndef PRIVD_BACKUP_H
#define PRIVD_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "backupfmt.h"
#include "store.h"

#define BACKUP_IDBYTES 16
#define BACKUP_IDLE_US (10ULL * 60 * 1000000) /* abandoned when not read */
#define BACKUP_DIR     "backup"               /* in the data directory */

typedef struct backup_ctl backup_ctl;

/* What a BackupRead sees of the backup. */
typedef enum backup_phase {
	BACKUP_COPYING = 1, /* copied and estimate tell the progress */
	BACKUP_READY,       /* size and info are final; data can be read */
	BACKUP_FAILED,      /* err and msg say why; the backup has ended */
} backup_phase;

typedef struct backup_view {
	backup_phase phase;
	uint64_t copied;   /* bytes of the image copied so far */
	uint64_t estimate; /* the expected size of the file */
	uint64_t size;     /* BACKUP_READY: the file's size */
	backup_info info;  /* BACKUP_READY: its trailer */
	int err;           /* BACKUP_FAILED: an errno value or a store code */
	char msg[160];     /* BACKUP_FAILED: for the client; no value */
} backup_view;

/*
 * The backups of store st in data directory datadir. NULL when out of
 * memory. Free with backup_ctl_free, which ends a backup still under way
 * (its copy is stopped, its file removed) and waits for its thread.
 */
backup_ctl *backup_ctl_new(store *st, const char *datadir);
void backup_ctl_free(backup_ctl **b);

/*
 * Remove whatever a privd that stopped without ending its backups left in
 * DATADIR/backup (at start, before serving). *removed receives the number
 * of files removed. 0, or -1 with errno.
 */
int backup_clean_dir(const char *datadir, size_t *removed);

/*
 * Start a backup: its id into id. 0; EBUSY if one has not ended; or an
 * errno (no thread, no directory, ...).
 */
int backup_start(backup_ctl *b, uint8_t id[BACKUP_IDBYTES]);

/*
 * Read the backup id (idlen bytes): its state into *v and, once ready, up
 * to len bytes from offset into buf (*n of them). A failed backup is
 * reported once (v->phase BACKUP_FAILED) and has ended. 0; ENOENT for an
 * unknown id; ERANGE for an offset past the end; or an errno of pread.
 */
int backup_read(backup_ctl *b, const uint8_t *id, size_t idlen, uint64_t offset,
    uint8_t *buf, size_t len, size_t *n, backup_view *v);

/* End the backup id: its file is removed (a copy under way is stopped).
 * 0, or ENOENT for an unknown id. */
int backup_end(backup_ctl *b, const uint8_t *id, size_t idlen);

#endif
