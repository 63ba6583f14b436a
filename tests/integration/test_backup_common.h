/*
 * test_backup_common.h - what the backup and restore tests (issue 10:
 * test_backup.c, test_restore.c) share (test_backup_common.c): their
 * policy, the backup requests and the erasure journal's export spoken raw
 * (libprivd's calls for them are not relied on), a whole backup fetched
 * into a file as a client would, the journal file `privctl erasures
 * export` writes, and `privd restore`.
 *
 * These fail the running test (cmocka), like checks.h.
 */
#ifndef PRIVD_TEST_BACKUP_COMMON_H
#define PRIVD_TEST_BACKUP_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

/* privd.v1.DenyReason values the tests expect. */
#define R_ROLE_REQUIRED 11

/*
 * The tests' policy: register customers (purpose invoicing; fields name,
 * notes); principals svc (read, write, delete of customers), operator
 * (role operator), admin (policy_admin), rights (subject_rights), auditor
 * (auditor).
 */
extern const char bk_policy[];
#define BK_REG "customers"
#define BK_PUR "invoicing"

/* cmocka setup: bk_policy's keys (svc first), privd initialised and
 * serving on the test clock (offset 0). Teardown: h_teardown. */
int bk_setup(void **state);

/* The raw requests as key. */
Privd__V1__Response *bk_start(harness *h, const char *key);
Privd__V1__Response *bk_read(harness *h, const char *key, const uint8_t *id,
    size_t idlen, uint64_t offset, uint32_t length);
Privd__V1__Response *bk_end(
    harness *h, const char *key, const uint8_t *id, size_t idlen);
Privd__V1__Response *bk_export(
    harness *h, const char *key, uint64_t after, uint32_t limit);
Privd__V1__Response *bk_erase(harness *h, const char *key, const char *subject);

/* Fail (with what, privd's status, reason and message) unless r has
 * status st (and, for DENIED, the reason). Frees nothing. */
void bk_expect(
    const Privd__V1__Response *r, int st, int reason, const char *what);

/* A backup started as key that must be OK: its id (16 bytes) into id. */
void bk_start_ok(harness *h, const char *key, uint8_t id[16]);

/* Poll BackupRead (offset 0, length 1) until the backup is ready (fails
 * after a deadline); its last answer. */
Privd__V1__Response *bk_wait_ready(
    harness *h, const char *key, const uint8_t id[16]);

/* What a fetched backup's answers said. */
typedef struct bk_info {
	uint64_t size;
	uint64_t time_us;
	uint64_t journal_head;
	uint64_t polls; /* BackupReads while it was being copied */
} bk_info;

/*
 * Read a started backup to its end into path (mode 0600) in chunks of
 * chunk bytes (0: privd's 1 MiB), as key; BackupEnd unless keep. The
 * file must check (backupfmt.h: size and digest) and its trailer agree
 * with the answers.
 */
void bk_fetch_id(harness *h, const char *key, const uint8_t id[16],
    const char *path, uint32_t chunk, bool keep, bk_info *out);

/* Start, fetch and end a backup as key into path. */
void bk_fetch(harness *h, const char *key, const char *path, bk_info *out);

/* Write the erasure journal after seq `after`, as `privctl erasures
 * export` writes it (README), read with ErasuresExport as key in pages of
 * page entries, into path. The number of entries written. */
size_t bk_journal_file(harness *h, const char *key, uint64_t after,
    uint32_t page, const char *path);

/* Run `privd restore --data-dir DATA --from from [--journal journal]`
 * (journal NULL: none); its output into r. */
void bk_restore(harness *h, const char *from, const char *journal, h_result *r);

/* The files in DATA/backup now (0 if the directory is absent). */
size_t bk_files(harness *h);

/* A subject's name as svc reads it: must be value, or NULL for
 * NOT_FOUND. */
void bk_expect_name(privd_client *c, const char *subject, const char *value);

/* `privctl audit verify` as auditor exits 0 and says so. */
void bk_verify_ok(harness *h);

/* Every event of op (as the auditor reads them) into l. */
void bk_events(harness *h, const char *op, evlist *l);

#endif /* PRIVD_TEST_BACKUP_COMMON_H */
