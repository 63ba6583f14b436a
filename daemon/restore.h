/*
 * restore.h - `privd restore`: put a backup (backupfmt.h) in place of the
 * store of a stopped privd, with every deletion made since the backup
 * applied again (issue 10; README "Backup and restore"; privd(8)).
 *
 * restore.c is the command: checks, the restored store, its audit log,
 * the swap. restore_journal.c reads the erasure journal to re-apply, from
 * the replaced store or from a file `privctl erasures export` wrote.
 * restore_db.c puts the restored store into a database store
 * (PostgreSQL) instead of swapping LMDB's file.
 */
#ifndef PRIVD_RESTORE_H
#define PRIVD_RESTORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "backupfmt.h"
#include "policy.h"
#include "store.h"
#include "substate.h"

/* `privd restore --data-dir DIR --from FILE [--journal FILE]`. */
int cmd_restore(int argc, char **argv);

/* Remove what a restore that stopped before its swap left in DIR (at
 * privd serve's start: it holds sealed personal data): restore.tmp, and
 * the work directory of a replaced store's image. 1 if something was
 * there, 0 if not, -1 if the path is too long. */
int restore_clean_tmp(const char *dir);

/* One erasure journal entry to apply again. */
typedef struct rst_entry {
	uint64_t seq;
	uint64_t time_us;
	int kind; /* JOURNAL_* */
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	char reg[POL_MAX_NAME + 1];
	size_t nfields;                   /* 0: the whole subject */
	char (*fields)[POL_MAX_NAME + 1]; /* malloc'd, nfields of them */
} rst_entry;

/* The entries after the backup's journal head, in seq order. */
typedef struct rst_journal {
	rst_entry *e;
	size_t n, cap;
	uint64_t head; /* the last seq the journal's source holds */
} rst_journal;

void rst_journal_free(rst_journal *j);

/*
 * The entries with seq > after from the erasures database of a store open
 * in txn (st: its erasures handle). 0, or -1 with why in err (a damaged
 * record, named by seq).
 */
int rst_journal_from_store(store *st, store_txn *txn, uint64_t after,
    rst_journal *j, char *err, size_t errlen);

/*
 * The entries with seq > after from a journal file (JSON lines, as
 * `privctl erasures export` writes it). A malformed line is refused,
 * named by its number. 0, or -1 with why in err.
 */
int rst_journal_from_file(
    const char *path, uint64_t after, rst_journal *j, char *err, size_t errlen);

/*
 * Does j reach back to the backup (its first entry is after + 1) and go on
 * without a gap to its head? 0, or -1 with why in err.
 */
int rst_journal_check(
    const rst_journal *j, uint64_t after, char *err, size_t errlen);

/*
 * The restore's state and steps, shared by restore.c and restore_db.c
 * (internal to `privd restore`).
 */
typedef struct rst {
	const char *dir, *from, *jpath;
	char tmp[PATH_MAX];
	backup_info bi;
	crypto_keys *keys;
	uint8_t *sign_sk;
	store *st; /* the restored store, in tmp */
	/* the store replaced, read-only, if there is one: LMDB's in DIR,
	 * or the database's (restore_db.c) */
	bool has_old;
	bool has_old_journal; /* its journal reaches back to the backup */
	store *old;
	store_txn *otxn;
	rst_journal j;
	const char *jsource; /* where j came from, for the report */
	/* what was done */
	uint64_t nkind[JOURNAL_KINDS]; /* entries re-applied, by kind */
	bool continues;   /* the replaced store's later events were copied */
	uint64_t ncopied; /* how many */
	audit_state head; /* the restored log's head, the restore event */
	char kept[PATH_MAX];
	char why[400];
	/* a database store (restore_db.c) */
	bool db;
	uint64_t db_rows; /* records written into it */
} rst;

/* Say why the restore is refused (r->why); returns -1. */
int rst_refuse(rst *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Remove a restored store's directory (DIR/restore.tmp). */
void rst_clean_tmp(const char *tmp);
/* The backup's image into r->tmp/data.mdb; then opened and checked as
 * r->st (format, keys under DIR's master key, heads as its trailer). */
int rst_copy_image(rst *r, int in);
int rst_open_restored(rst *r);
/* The journal to re-apply (r->j), from r->old and/or --journal. */
int rst_load_journal(rst *r);
/* The journal re-applied, the audit log continued and the restore's own
 * event, in one write transaction of r->st. A store code. */
int rst_apply(rst *r);
/* A UTC time, RFC 3339 (compact: for a file name). */
void rst_utc(uint64_t us, char *out, size_t len, bool compact);
/* What was done, on stdout. */
void rst_report(const rst *r);
/* The checks of the backup and DIR before a store is touched: trailer,
 * digest, format, master key; r->tmp made. */
int rst_check_backup(rst *r, int fd);

/* restore_db.c: the restore into the database store spec names (a
 * PostgreSQL connection string), the backup open on fd. 0, or -1 with
 * r->why (and whether anything changed said there). */
int rst_into_db(rst *r, int fd, const char *spec);

#endif
