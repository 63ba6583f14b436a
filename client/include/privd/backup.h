/*
 * <privd/backup.h> - backups and the erasure journal in libprivd.
 *
 * Part of the client library's public contract, next to <privd/client.h>
 * (which this header includes); the conventions, deadlines and thread
 * safety described there hold here too.
 *
 * A backup is made by privd while it runs: a compacted copy of its store
 * (values stay sealed, the master key is never in it), followed by a
 * trailer that holds the backup's time, its erasure journal head and its
 * audit head, and a digest of the whole file. privd_backup() fetches it
 * into a file and checks it there. The erasure journal lists every
 * deletion of personal data since the store was created, pseudonymously;
 * `privd restore` applies the entries made after a backup again, so that a
 * restored backup does not bring back anyone erased since. When the store
 * the journal would be read from is lost with the machine, an exported
 * journal (privd_erasures_export_file()) stands in for it.
 *
 * These calls need the role operator or policy_admin in the policy in
 * force: without it they fail with PRIVD_EDENIED and privd_reason() ==
 * PRIVD_REASON_ROLE_REQUIRED, or PRIVD_REASON_UNKNOWN_PRINCIPAL for a key the
 * policy does not name. privd audits every request they send (operations
 * backup_start, backup_read, backup_end, erasures_export). Neither a backup's
 * bytes nor a journal entry holds a value or a subject id in the clear.
 */
#ifndef PRIVD_BACKUP_H
#define PRIVD_BACKUP_H

#include <stdint.h>
#include <stdio.h>

#include <privd/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Phases of a backup, as its progress callback is told them. */
#define PRIVD_BACKUP_COPYING   1 /* privd copies its store */
#define PRIVD_BACKUP_RECEIVING 2 /* the copy comes over to the client */

/*
 * Progress of privd_backup(), called on the caller's thread: while privd
 * copies (phase PRIVD_BACKUP_COPYING), done is the bytes copied so far
 * and total privd's estimate of the copy's size (0 if it has none; an
 * estimate can be passed); then while the file comes (phase
 * PRIVD_BACKUP_RECEIVING), done is the bytes received and total the
 * backup's exact size. Return 0 to go on; anything else stops the backup
 * (privd_backup() then ends it as on a failure and returns PRIVD_EINVAL
 * with the message "stopped by its progress callback").
 */
typedef int (*privd_backup_progress_fn)(
    void *arg, int phase, uint64_t done, uint64_t total);

/* What a backup holds, from its trailer (checked against its digest). */
typedef struct privd_backup_info {
	uint64_t size;          /* bytes of the file, trailer included */
	uint64_t time_us;       /* when privd took the copy's snapshot */
	uint64_t journal_head;  /* last erasure journal seq in it (0: none) */
	uint64_t audit_head;    /* last audit event seq in it */
	uint8_t audit_hash[32]; /* the audit chain's hash after audit_head */
	uint32_t store_format;  /* the store format of the copy */
} privd_backup_info;

/*
 * Make a backup of privd's store into the file path. privd makes the
 * copy in the background (its other requests go on meanwhile), and this
 * call polls for it (every 50 ms at first, backing off to every 500 ms),
 * then reads it in chunks of 1 MiB into path + ".part" (created with mode
 * 0600; it must not exist), checks the trailer and the digest the file
 * ends with (the format of daemon/backupfmt.h), syncs it to disk and
 * renames it to path, replacing a file there. Then privd is told that the
 * backup has ended and removes its copy; that is done on every failure
 * too, once privd has started a backup. progress (may be NULL) is called
 * with arg as described above. On PRIVD_OK *info (may be NULL) describes
 * the backup; on failure it is zeroed, and neither path nor path.part is
 * left behind (path is as it was).
 * Every request waits at most the handle's timeout (privd_set_timeout());
 * a read that times out is asked again, twice. The backup as a whole
 * takes as long as privd takes to copy the store and the network to
 * carry it.
 * Errors: PRIVD_EINVAL (c NULL, path NULL or empty; path.part exists or
 * cannot be created, whose message names it; stopped by progress;
 * privd: an offset past the end), PRIVD_ECONFLICT (privd makes another
 * backup now: one at a time), PRIVD_EDENIED (reason role_required,
 * unknown_principal), PRIVD_ENOTFOUND (privd no longer knows the backup:
 * it was abandoned, or privd restarted), PRIVD_ETOOBIG,
 * PRIVD_EUNAVAILABLE (also: privd's disk is full), PRIVD_EHANDSHAKE,
 * PRIVD_ETIMEOUT (a read only after three tries), PRIVD_EPROTO (an answer
 * that breaks the protocol: a backup too small to hold its trailer, one
 * whose size changes, data not at the offset asked for or past the end, a
 * chunk without data before the end; or a file whose trailer or digest
 * does not check, or whose trailer disagrees with what privd said of it),
 * PRIVD_ENOMEM, PRIVD_EINTERNAL (privd's copy failed; or writing, syncing
 * or renaming the file failed here, whose message names the file and the
 * system's error).
 */
int privd_backup(privd_client *c, const char *path,
    privd_backup_progress_fn progress, void *arg, privd_backup_info *info);

/* One entry of the erasure journal: one deletion of personal data, or a
 * data subject's state after a restriction or an objection changed it. */
typedef struct privd_erasure_entry {
	uint64_t seq;     /* the journal's sequence number, from 1, gapless */
	uint64_t time_us; /* when the deletion was made */
	/* "erase" (a subject erasure), "delete" (a delete request) or
	 * "retention" (the retention sweeper); "restricted" or "state" (not
	 * restricted): the subject's state, its fields the purposes it
	 * objects to */
	char kind[12];
	/* privd's keyed hash of (register, subject): the subject's
	 * pseudonym, which only privd can compute from a subject id */
	uint8_t subject_hash[32];
	char reg[65]; /* the register's name */
	/* the fields deleted, by name (NUL-terminated policy names); none
	 * (NULL, nfields 0): the whole subject, its data key destroyed */
	char **fields;
	size_t nfields;
} privd_erasure_entry;

/* One page of the journal, as privd_erasures_export() answers it;
 * everything it points to belongs to it. */
typedef struct privd_erasure_page {
	privd_erasure_entry *entries; /* oldest first; NULL if nentries 0 */
	size_t nentries;
	uint64_t head; /* the journal's last seq when privd answered */
	int more;      /* entries follow the last one: ask again after it */
} privd_erasure_page;

/*
 * The entries of privd's erasure journal with a seq after after, oldest
 * first, at most limit of them (0: 1000; at most 10000). On PRIVD_OK *out
 * is a new page owned by the caller (free with privd_erasure_page_free());
 * on failure *out is NULL. To walk the journal, ask again with after set
 * to the last entry's seq while more is set.
 * Errors: PRIVD_EINVAL (c or out NULL, limit over 10000), PRIVD_EDENIED
 * (reason role_required, unknown_principal), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (more entries than
 * asked for, entries not in seq order or not after after or past head,
 * more set with no entry, a kind not one of the three, a subject hash not
 * of 32 bytes, a register or field name that is not a policy name (1 to
 * 64 of A-Z a-z 0-9 _ . -), more than 256 fields), PRIVD_ENOMEM,
 * PRIVD_EINTERNAL (privd cannot read a journal entry: its message names
 * the seq).
 */
int privd_erasures_export(
    privd_client *c, uint64_t after, uint32_t limit, privd_erasure_page **out);

/* Free a page of privd_erasures_export() and set *p to NULL. NULL-safe. */
void privd_erasure_page_free(privd_erasure_page **p);

/*
 * Write the erasure journal after seq after to out, in the journal file
 * format `privd restore --journal` reads (JSON lines; README "Backup and
 * restore"): first the line
 *   {"privd_erasure_journal":1,"head":H,"after":A,"exported_at":"T"}
 * with H the journal's head when the export began and T that time (RFC
 * 3339 UTC, by this machine's clock), then one line per entry from seq
 * A+1 to H, oldest first:
 *   {"seq":N,"time_us":N,"kind":"erase","subject_hash":"<64 hex>",
 *    "register":"R","fields":["f",...]}
 * (fields [] for the whole subject), fetched page by page (1000 entries a
 * request). Entries made after the export began are left out: the file
 * is the journal as it was at H. The entries must come gapless, each seq
 * one past the one before; anything else fails with PRIVD_EPROTO, so that
 * a file written is the whole journal from A+1 to H. *nentries and *head
 * (either may be NULL) receive the entries written and H. On failure
 * some lines may have been written: the caller discards out.
 * Errors: those of privd_erasures_export(), and: PRIVD_EINVAL (also out
 * NULL), PRIVD_EDENIED, PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (also: a gap, or a head
 * that goes back), PRIVD_ENOMEM, PRIVD_EINTERNAL (also: writing to out
 * failed, whose message says why).
 */
int privd_erasures_export_file(privd_client *c, uint64_t after, FILE *out,
    uint64_t *nentries, uint64_t *head);

#ifdef __cplusplus
}
#endif

#endif /* PRIVD_BACKUP_H */
