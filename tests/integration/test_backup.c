/*
 * test_backup.c - online backups and the erasure journal's export (issue
 * 10, second part: BackupStart/Read/End, ErasuresExport) on a real privd:
 *   - only operator and policy_admin may make backups or export the
 *     journal (DENIED, role required, for the others);
 *   - one backup at a time (CONFLICT); it reads in chunks of at most what
 *     was asked (1 MiB at most) to a file whose trailer and digest check;
 *     an offset past its end is INVALID; an unknown id, or one that has
 *     ended, is NOT_FOUND; its end removes its file, and the next backup
 *     can start;
 *   - a backup nobody reads for 10 minutes (privd's clock) is abandoned
 *     and its file removed; so is one privd stops with, and what a privd
 *     that died left in DATA/backup (an image's work directory too) is
 *     removed at start;
 *   - values are sealed in a backup: a canary value is in no file of it,
 *     nor the master key;
 *   - every backup request is an audit event of its own;
 *   - ErasuresExport lists erasures and deletes oldest first, in pages,
 *     with the journal's head; a limit over 10000 is INVALID.
 *
 * The requests are spoken raw (test_backup_common.c). On the test setup
 * "pg" the same cases run on a PostgreSQL store (issue 12): the backup
 * is then an image of every table read in one snapshot.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_backup_common.h"

#define CANARY "canary-7d1e5a3b-backup-sealed"

static void
put_subjects(harness *h, const char *prefix, int n, const char *notes)
{
	privd_client *c = client(h, "svc");
	char subject[64], name[96];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(subject, sizeof(subject), "%s-%d", prefix, i);
		snprintf(name, sizeof(name), "name of %s", subject);
		privd_field f[] = {
		    h_field("name", name), h_field("notes", notes)};
		expect_rc(c, privd_put(c, BK_REG, subject, BK_PUR, f, 2),
		    PRIVD_OK, "put");
	}
	privd_close(&c);
}

static void
expect_refused(Privd__V1__Response *r, int st, int reason, const char *what)
{
	bk_expect(r, st, reason, what);
	privd__v1__response__free_unpacked(r, NULL);
}

/* Every backup request and the export, as principals without the role. */
static void
test_roles(void **state)
{
	harness *h = *state;
	static const char *const others[] = {"svc", "auditor", "rights"};
	uint8_t id[16];
	size_t i;

	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		expect_refused(bk_start(h, others[i]), ST(DENIED),
		    R_ROLE_REQUIRED, "BackupStart without the role");
		expect_refused(bk_export(h, others[i], 0, 0), ST(DENIED),
		    R_ROLE_REQUIRED, "ErasuresExport without the role");
	}
	assert_int_equal(bk_files(h), 0);
	/* operator starts, policy_admin may read and end the same backup */
	bk_start_ok(h, "operator", id);
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		expect_refused(bk_read(h, others[i], id, 16, 0, 0), ST(DENIED),
		    R_ROLE_REQUIRED, "BackupRead without the role");
		expect_refused(bk_end(h, others[i], id, 16), ST(DENIED),
		    R_ROLE_REQUIRED, "BackupEnd without the role");
	}
	privd__v1__response__free_unpacked(bk_wait_ready(h, "admin", id), NULL);
	expect_refused(bk_end(h, "admin", id, 16), ST(OK), 0, "BackupEnd");
	assert_int_equal(bk_files(h), 0);
	expect_refused(
	    bk_export(h, "admin", 0, 0), ST(OK), 0, "export as policy_admin");
}

/*
 * One at a time; reads in chunks; the offset past the end; unknown and
 * ended ids; the end removes the file; the next backup starts.
 */
static void
test_reads(void **state)
{
	harness *h = *state;
	uint8_t id[16], id2[16], bogus[16] = {1, 2, 3};
	char path[H_PATH_MAX + 16];
	Privd__V1__Response *r;
	bk_info bi;
	evlist l;
	size_t i;

	put_subjects(h, "s", 300, "some notes that take room in the store");
	bk_start_ok(h, "operator", id);
	expect_refused(
	    bk_start(h, "operator"), ST(CONFLICT), 0, "a second BackupStart");
	expect_refused(bk_start(h, "admin"), ST(CONFLICT), 0,
	    "a second BackupStart by another principal");
	snprintf(path, sizeof(path), "%s/b1", h->root);
	bk_fetch_id(h, "operator", id, path, 4096, true, &bi);
	assert_int_equal(bk_files(h), 1);
	assert_true(bi.size > 4096 * 4);
	/* length 0: up to 1 MiB; a length over 1 MiB is cut to it */
	r = bk_read(h, "operator", id, 16, 0, 0);
	bk_expect(r, ST(OK), 0, "a read of length 0");
	assert_int_equal(r->backup_read->data.len,
	    bi.size < (1u << 20) ? bi.size : (1u << 20));
	privd__v1__response__free_unpacked(r, NULL);
	r = bk_read(h, "operator", id, 16, 10, 64u << 20);
	bk_expect(r, ST(OK), 0, "a read of 64 MiB");
	assert_true(r->backup_read->data.len <= (1u << 20));
	privd__v1__response__free_unpacked(r, NULL);
	/* at the end: nothing; past it: INVALID */
	r = bk_read(h, "operator", id, 16, bi.size, 100);
	bk_expect(r, ST(OK), 0, "a read at the end");
	assert_int_equal(r->backup_read->data.len, 0);
	assert_int_equal(r->backup_read->size, bi.size);
	privd__v1__response__free_unpacked(r, NULL);
	expect_refused(bk_read(h, "operator", id, 16, bi.size + 1, 100),
	    ST(INVALID), 0, "a read past the end");
	/* ids that are not the backup's */
	expect_refused(bk_read(h, "operator", bogus, 16, 0, 0), ST(NOT_FOUND),
	    0, "a read of an unknown id");
	expect_refused(bk_read(h, "operator", id, 8, 0, 0), ST(NOT_FOUND), 0,
	    "a read of a short id");
	expect_refused(bk_end(h, "operator", bogus, 16), ST(NOT_FOUND), 0,
	    "the end of an unknown id");
	/* the end removes the file; the id is gone */
	expect_refused(bk_end(h, "operator", id, 16), ST(OK), 0, "BackupEnd");
	assert_int_equal(bk_files(h), 0);
	expect_refused(bk_read(h, "operator", id, 16, 0, 0), ST(NOT_FOUND), 0,
	    "a read after the end");
	expect_refused(
	    bk_end(h, "operator", id, 16), ST(NOT_FOUND), 0, "a second end");
	/* the next one starts, with another id */
	bk_start_ok(h, "admin", id2);
	assert_memory_not_equal(id, id2, 16);
	expect_refused(bk_end(h, "admin", id2, 16), ST(OK), 0,
	    "BackupEnd during or after the copy");
	/* each request is an event of its own, by its principal */
	bk_events(h, "backup_start", &l);
	assert_int_equal(l.n, 4); /* two OK, two CONFLICT */
	for (i = 0; i < l.n; i++)
		assert_int_equal(l.ev[i]->has_subject, 0);
	evlist_free(&l);
	bk_events(h, "backup_end", &l);
	assert_int_equal(l.n, 4);
	evlist_free(&l);
	bk_events(h, "backup_read", &l);
	assert_true(l.n >= bi.size / 4096);
	evlist_free(&l);
}

/* Poll until DATA/backup holds n files, or fail after a deadline. */
static void
wait_files(harness *h, size_t n)
{
	int64_t deadline = h_now_ms() + 15000;

	while (bk_files(h) != n) {
		if (h_now_ms() > deadline)
			fail_msg("DATA/backup holds %zu files, not %zu",
			    bk_files(h), n);
		h_sleep_ms(20);
	}
}

/* A backup nobody reads for 10 minutes is abandoned; the stop of privd,
 * and its start, leave no backup file. */
static void
test_abandoned(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 32];
	uint8_t id[16];
	Privd__V1__Response *r;

	put_subjects(h, "a", 20, "notes");
	bk_start_ok(h, "operator", id);
	privd__v1__response__free_unpacked(
	    bk_wait_ready(h, "operator", id), NULL);
	assert_int_equal(bk_files(h), 1);
	/* nine minutes: still there */
	assert_int_equal(h_clock_set(h, 9 * 60), 0);
	h_clock_wait();
	h_sleep_ms(1500); /* two looks of its timer */
	assert_int_equal(bk_files(h), 1);
	r = bk_read(h, "operator", id, 16, 0, 16);
	bk_expect(r, ST(OK), 0, "a read at nine minutes");
	privd__v1__response__free_unpacked(r, NULL);
	/* ten more minutes after that read: abandoned */
	assert_int_equal(h_clock_set(h, 20 * 60), 0);
	wait_files(h, 0);
	expect_refused(bk_read(h, "operator", id, 16, 0, 0), ST(NOT_FOUND), 0,
	    "a read of an abandoned backup");
	bk_start_ok(h, "operator", id);

	/* privd stops with a backup: its file goes */
	privd__v1__response__free_unpacked(
	    bk_wait_ready(h, "operator", id), NULL);
	assert_int_equal(bk_files(h), 1);
	stop_clean(h);
	assert_int_equal(bk_files(h), 0);

	/* what a privd that died left is removed at start */
	snprintf(path, sizeof(path), "%s/backup/0011.part", h->data_dir);
	assert_int_equal(h_write_file(path, "left", 4, 0600), 0);
	snprintf(path, sizeof(path), "%s/backup/0012.bak", h->data_dir);
	assert_int_equal(h_write_file(path, "over", 4, 0600), 0);
	/* an image's work directory (a store without a copy of its own) */
	snprintf(path, sizeof(path), "%s/backup/0013.part.d", h->data_dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(
	    path, sizeof(path), "%s/backup/0013.part.d/data.mdb", h->data_dir);
	assert_int_equal(h_write_file(path, "work", 4, 0600), 0);
	assert_int_equal(bk_files(h), 3);
	assert_int_equal(h_start(h, NULL), 0);
	assert_int_equal(bk_files(h), 0);
	expect_refused(bk_read(h, "operator", id, 16, 0, 0), ST(NOT_FOUND), 0,
	    "a read of a backup of the privd before");
}

/* Values stay sealed in a backup, and the master key is not in it: not
 * in the fetched file, nor in privd's own while it is kept. */
static void
test_sealed(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16], dir[H_PATH_MAX + 16];
	uint8_t id[16], *key;
	size_t keylen;
	bk_info bi;
	struct stat sb;

	put_subjects(h, CANARY, 30, CANARY " in the notes");
	snprintf(path, sizeof(path), "%s/master.key", h->data_dir);
	assert_int_equal(h_read_file(path, &key, &keylen), 0);
	assert_int_equal(keylen, 32);
	{
		const h_needle needles[] = {
		    {CANARY, strlen(CANARY), "the canary"},
		    {key, keylen, "the master key"},
		};

		bk_start_ok(h, "operator", id);
		snprintf(path, sizeof(path), "%s/b", h->root);
		bk_fetch_id(h, "operator", id, path, 0, true, &bi);
		assert_int_equal(h_scan_file(path, needles, 2), 0);
		snprintf(dir, sizeof(dir), "%s/backup", h->data_dir);
		assert_int_equal(h_scan_dir(dir, needles, 2), 0);
		/* the directory and the file are privd's alone */
		assert_int_equal(stat(dir, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0700);
	}
	expect_refused(bk_end(h, "operator", id, 16), ST(OK), 0, "BackupEnd");
	free(key);
}

/* The erasure journal: oldest first, in pages, with its head. */
static void
test_export(void **state)
{
	harness *h = *state;
	privd_client *c;
	Privd__V1__Response *r;
	const char *notes[] = {"notes"};
	char subject[32];
	uint64_t seq;
	int i;

	expect_refused(bk_export(h, "operator", 0, 10001), ST(INVALID), 0,
	    "a limit over 10000");
	r = bk_export(h, "operator", 0, 0);
	bk_expect(r, ST(OK), 0, "the export of an empty journal");
	assert_int_equal(r->erasures_export->n_entries, 0);
	assert_int_equal(r->erasures_export->head, 0);
	assert_false(r->erasures_export->more);
	privd__v1__response__free_unpacked(r, NULL);

	put_subjects(h, "e", 5, "notes");
	for (i = 0; i < 3; i++) {
		snprintf(subject, sizeof(subject), "e-%d", i);
		expect_refused(
		    bk_erase(h, "rights", subject), ST(OK), 0, "SubjectErase");
	}
	c = client(h, "svc");
	expect_rc(c, privd_delete(c, BK_REG, "e-3", BK_PUR, notes, 1, NULL),
	    PRIVD_OK, "delete of notes");
	privd_close(&c);

	r = bk_export(h, "operator", 0, 0);
	bk_expect(r, ST(OK), 0, "ErasuresExport");
	assert_int_equal(r->erasures_export->n_entries, 4);
	assert_int_equal(r->erasures_export->head, 4);
	assert_false(r->erasures_export->more);
	for (i = 0; i < 4; i++) {
		const Privd__V1__ErasureEntry *e =
		    r->erasures_export->entries[i];

		assert_int_equal(e->seq, (uint64_t)i + 1);
		assert_string_equal(e->register_, BK_REG);
		assert_int_equal(e->subject_hash.len, 32);
		assert_true(e->time_us > 0);
		assert_string_equal(e->kind, i < 3 ? "erase" : "delete");
	}
	assert_int_equal(r->erasures_export->entries[3]->n_fields, 1);
	assert_string_equal(r->erasures_export->entries[3]->fields[0], "notes");
	assert_memory_not_equal(
	    r->erasures_export->entries[0]->subject_hash.data,
	    r->erasures_export->entries[1]->subject_hash.data, 32);
	privd__v1__response__free_unpacked(r, NULL);

	/* in pages of one */
	for (seq = 0; seq < 4; seq++) {
		r = bk_export(h, "admin", seq, 1);
		bk_expect(r, ST(OK), 0, "a page of one");
		assert_int_equal(r->erasures_export->n_entries, 1);
		assert_int_equal(r->erasures_export->entries[0]->seq, seq + 1);
		assert_int_equal(r->erasures_export->more, seq + 1 < 4);
		privd__v1__response__free_unpacked(r, NULL);
	}
	r = bk_export(h, "operator", 4, 0);
	bk_expect(r, ST(OK), 0, "after the head");
	assert_int_equal(r->erasures_export->n_entries, 0);
	assert_int_equal(r->erasures_export->head, 4);
	privd__v1__response__free_unpacked(r, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roles, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_reads, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_abandoned, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_sealed, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_export, bk_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/backup", tests, NULL, NULL);
}
