/*
 * restore.h - `privd restore`: put a backup (backupfmt.h) in place of the
 * store of a stopped privd, with every deletion made since the backup
 * applied again (issue 10; README "Backup and restore"; privd(8)).
 *
 * restore.c is the command: checks, the restored store, its audit log,
 * the swap. restore_journal.c reads the erasure journal to re-apply, from
 * the replaced store or from a file `privctl erasures export` wrote.
 */
#ifndef PRIVD_RESTORE_H
#define PRIVD_RESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "store.h"

/* `privd restore --data-dir DIR --from FILE [--journal FILE]`. */
int cmd_restore(int argc, char **argv);

/* Remove what a restore that stopped before its swap left in DIR (at
 * privd serve's start: it holds sealed personal data). 1 if something
 * was there, 0 if not, -1 if the path is too long. */
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

#endif
