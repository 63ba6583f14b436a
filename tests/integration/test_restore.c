/*
 * test_restore.c - `privd restore` (issue 10, second part) on a real
 * privd's data directory:
 *   - a backup made while 8 clients write; a person erased and a field
 *     deleted after it; the restore (the journal read from the replaced
 *     store): the person stays erased, the field deleted, every write
 *     acknowledged before the backup started is there, the audit log goes
 *     on unbroken (the replaced store's later events kept) and verifies,
 *     and the restore is one event naming the backup and the count; the
 *     replaced store is kept, mode 0600;
 *   - the same with the journal exported (ErasuresExport, in the journal
 *     file's format) and the old store deleted: without --journal the
 *     restore is refused; with it, the log goes on from the backup's
 *     head and verifies;
 *   - refusals leave data.mdb byte for byte as it was: privd running, a
 *     truncated or damaged backup, a backup of another privd (another
 *     master key), a journal with a gap or a malformed line, a store older
 *     than the backup, a store that is LMDB in another directory (a
 *     restore swaps DIR/data.mdb).
 *
 * On the test setup "pg" (issue 12) the restore goes into the database:
 * the tests that need no LMDB file run there too (the replaced store is
 * then kept as store.replaced-<UTC>.mdb); those that delete or compare
 * data.mdb are skipped, and test_restore_pg.c has the database's own
 * cases (a node serving, a damaged file, LMDB to PostgreSQL).
 *
 * The backup requests are spoken raw (test_backup_common.c).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "test_backup_common.h"

#define WRITERS     8
#define WRITES_MAX  400 /* per writer */
#define VICTIM      "victim"
#define PARTIAL     "partial"
#define NOTES_BYTES 1500

/* One writing client: puts w<t>-<i> until told to stop. */
typedef struct writer {
	privd_client *c;
	int t;
	atomic_int acked; /* puts answered OK: 0..acked-1 */
	atomic_int failed;
	atomic_bool *stop;
	pthread_t thr;
} writer;

static void *
writer_main(void *arg)
{
	writer *w = arg;
	char subject[32], name[48];
	int i;

	for (i = 0; i < WRITES_MAX && !atomic_load(w->stop); i++) {
		snprintf(subject, sizeof(subject), "w%d-%d", w->t, i);
		snprintf(name, sizeof(name), "v-%s", subject);
		privd_field f = h_field("name", name);

		if (privd_put(w->c, BK_REG, subject, BK_PUR, &f, 1) !=
		    PRIVD_OK) {
			atomic_fetch_add(&w->failed, 1);
			break; /* the order of acks must stay 0..acked-1 */
		}
		atomic_store(&w->acked, i + 1);
	}
	return NULL;
}

/* Subjects prefix-0.. prefix-(n-1) with a name and notes. */
static void
put_many(harness *h, const char *prefix, int n)
{
	privd_client *c = client(h, "svc");
	char subject[32], name[48], notes[NOTES_BYTES + 1];
	int i;

	memset(notes, 'n', NOTES_BYTES);
	notes[NOTES_BYTES] = '\0';
	for (i = 0; i < n; i++) {
		snprintf(subject, sizeof(subject), "%s-%d", prefix, i);
		snprintf(name, sizeof(name), "v-%s", subject);
		privd_field f[] = {
		    h_field("name", name), h_field("notes", notes)};

		expect_rc(c, privd_put(c, BK_REG, subject, BK_PUR, f, 2),
		    PRIVD_OK, "put");
	}
	privd_close(&c);
}

static void
put_one(harness *h, const char *subject)
{
	privd_client *c = client(h, "svc");
	char name[48];
	privd_field f[2];

	snprintf(name, sizeof(name), "v-%s", subject);
	f[0] = h_field("name", name);
	f[1] = h_field("notes", "notes");
	expect_rc(
	    c, privd_put(c, BK_REG, subject, BK_PUR, f, 2), PRIVD_OK, "put");
	privd_close(&c);
}

static void
erase_ok(harness *h, const char *subject)
{
	Privd__V1__Response *r = bk_erase(h, "rights", subject);

	bk_expect(r, ST(OK), 0, "SubjectErase");
	privd__v1__response__free_unpacked(r, NULL);
}

static void
expect_have(privd_client *c, const char *subject)
{
	char name[48];

	snprintf(name, sizeof(name), "v-%s", subject);
	bk_expect_name(c, subject, name);
}

/* The subject's notes are gone, its name is not. */
static void
expect_no_notes(privd_client *c, const char *subject)
{
	privd_record *rec = NULL;

	expect_rc(c, privd_get(c, BK_REG, subject, BK_PUR, NULL, 0, &rec),
	    PRIVD_OK, "get of every field");
	assert_int_equal(rec->nfields, 1);
	assert_null(privd_record_field(rec, "notes"));
	privd_record_free(&rec);
	expect_have(c, subject);
}

/* The one restore event: principal privd, fields [name, reapplied=n]. */
static void
expect_restore_event(harness *h, const char *name, unsigned n)
{
	char count[32];
	evlist l;

	snprintf(count, sizeof(count), "reapplied=%u", n);
	bk_events(h, "restore", &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0]->principal, "privd");
	assert_int_equal(l.ev[0]->decision, PRIVD_DECISION_ALLOWED);
	assert_int_equal(l.ev[0]->status, ST(OK));
	assert_int_equal(l.ev[0]->nfields, 2);
	assert_string_equal(l.ev[0]->fields[0], name);
	assert_string_equal(l.ev[0]->fields[1], count);
	evlist_free(&l);
}

/* The files data.mdb.replaced-* (LMDB) or store.replaced-* (a database
 * store) in the data directory: how many, and each of mode 0600. */
static size_t
kept_files(harness *h)
{
	char path[H_PATH_MAX * 2];
	struct dirent *de;
	struct stat sb;
	size_t n = 0;
	DIR *d = opendir(h->data_dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "data.mdb.replaced-", 18) != 0 &&
		    strncmp(de->d_name, "store.replaced-", 15) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", h->data_dir, de->d_name);
		assert_int_equal(stat(path, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
		n++;
	}
	closedir(d);
	return n;
}

/* Skip a test that deletes or compares LMDB's files on a database store
 * (saying why). */
static bool
lmdb_only(const char *why)
{
	if (!h_store_pg())
		return false;
	printf("skipped on PostgreSQL: %s\n", why);
	return true;
}

static bool
has_tmp(harness *h)
{
	char path[H_PATH_MAX + 16];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/restore.tmp", h->data_dir);
	return lstat(path, &sb) == 0;
}

/*
 * The backup while 8 clients write; an erasure and a delete after it;
 * the restore with the journal of the replaced store.
 */
static void
test_restore_store(void **state)
{
	harness *h = *state;
	writer w[WRITERS];
	atomic_bool stop = false;
	int before[WRITERS], t, i;
	char path[H_PATH_MAX + 16], subject[32];
	const char *notes[] = {"notes"};
	privd_client *c;
	uint8_t id[16];
	h_result r;
	bk_info bi;
	evlist l;

	put_many(h, "pre", 200);
	put_one(h, VICTIM);
	put_one(h, PARTIAL);
	for (t = 0; t < WRITERS; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].t = t;
		w[t].stop = &stop;
		assert_int_equal(h_connect(h, "svc", &w[t].c), 0);
		assert_int_equal(
		    pthread_create(&w[t].thr, NULL, writer_main, &w[t]), 0);
	}
	h_sleep_ms(100); /* let them write a while */
	for (t = 0; t < WRITERS; t++)
		before[t] = atomic_load(&w[t].acked);
	bk_start_ok(h, "operator", id);
	snprintf(path, sizeof(path), "%s/b.bak", h->root);
	bk_fetch_id(h, "operator", id, path, 0, false, &bi);
	assert_int_equal(bi.journal_head, 0);
	/* after the backup */
	erase_ok(h, VICTIM);
	c = client(h, "svc");
	expect_rc(c, privd_delete(c, BK_REG, PARTIAL, BK_PUR, notes, 1, NULL),
	    PRIVD_OK, "delete of notes");
	privd_close(&c);
	atomic_store(&stop, true);
	for (t = 0; t < WRITERS; t++) {
		pthread_join(w[t].thr, NULL);
		privd_close(&w[t].c);
		assert_int_equal(atomic_load(&w[t].failed), 0);
	}
	stop_clean(h);

	bk_restore(h, path, NULL, &r);
	expect_exit(&r, 0, "privd restore");
	assert_non_null(strstr(r.out, "re-applied 2 erasure journal entries "
	                              "(seq 1..2) from the replaced store: "
	                              "erase 1, delete 1, retention 0"));
	assert_non_null(strstr(r.out, "continues the replaced store's"));
	assert_non_null(strstr(r.out, "the replaced store is kept as"));
	assert_int_equal(kept_files(h), 1);
	assert_false(has_tmp(h));

	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	bk_expect_name(c, VICTIM, NULL);
	expect_no_notes(c, PARTIAL);
	for (i = 0; i < 200; i++) {
		snprintf(subject, sizeof(subject), "pre-%d", i);
		expect_have(c, subject);
	}
	for (t = 0; t < WRITERS; t++)
		for (i = 0; i < before[t]; i++) {
			snprintf(subject, sizeof(subject), "w%d-%d", t, i);
			expect_have(c, subject);
		}
	/* it serves writes, and the journal goes on from the restored one */
	put_one(h, "after-restore");
	expect_have(c, "after-restore");
	privd_close(&c);
	bk_verify_ok(h);
	expect_restore_event(h, "b.bak", 2);
	/* the erasure after the backup is still in the log */
	bk_events(h, "subject_erase", &l);
	assert_int_equal(l.n, 1);
	evlist_free(&l);
	erase_ok(h, "pre-0");
	{
		Privd__V1__Response *e = bk_export(h, "operator", 0, 0);

		bk_expect(e, ST(OK), 0, "ErasuresExport after the restore");
		assert_int_equal(e->erasures_export->head, 3);
		assert_int_equal(e->erasures_export->n_entries, 3);
		privd__v1__response__free_unpacked(e, NULL);
	}
	bk_verify_ok(h);
}

/* The journal exported to a file; the old store gone. */
static void
test_restore_journal(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16], jpath[H_PATH_MAX + 16];
	privd_client *c;
	h_result r;
	bk_info bi;

	if (lmdb_only("it deletes data.mdb (test_restore_pg: the journal "
	              "into a new database)")) {
		skip();
		return;
	}

	put_many(h, "pre", 50);
	put_one(h, VICTIM);
	erase_ok(h, "pre-49"); /* in the backup's own journal */
	snprintf(path, sizeof(path), "%s/b2.bak", h->root);
	bk_fetch(h, "admin", path, &bi);
	assert_int_equal(bi.journal_head, 1);
	erase_ok(h, VICTIM);
	erase_ok(h, "pre-48");
	snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", h->root);
	/* in pages of one, as a client pages through a long journal */
	assert_int_equal(
	    bk_journal_file(h, "operator", bi.journal_head, 1, jpath), 2);
	stop_clean(h);
	snprintf(path, sizeof(path), "%s/data.mdb", h->data_dir);
	assert_int_equal(unlink(path), 0);
	snprintf(path, sizeof(path), "%s/lock.mdb", h->data_dir);
	unlink(path);

	snprintf(path, sizeof(path), "%s/b2.bak", h->root);
	bk_restore(h, path, NULL, &r);
	expect_exit(&r, 1, "privd restore without a store or --journal");
	assert_non_null(strstr(r.err, "--journal"));
	assert_false(has_tmp(h));

	bk_restore(h, path, jpath, &r);
	expect_exit(&r, 0, "privd restore --journal");
	assert_non_null(strstr(r.out, "re-applied 2 erasure journal entries "
	                              "(seq 2..3)"));
	assert_non_null(strstr(r.out, "continues from the backup's head"));
	assert_null(strstr(r.out, "kept as"));
	assert_int_equal(kept_files(h), 0);

	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	bk_expect_name(c, VICTIM, NULL);
	bk_expect_name(c, "pre-48", NULL);
	bk_expect_name(c, "pre-49", NULL);
	expect_have(c, "pre-47");
	expect_have(c, "pre-0");
	privd_close(&c);
	bk_verify_ok(h);
	expect_restore_event(h, "b2.bak", 2);
}

/* data.mdb is still exactly want (len bytes), and no temporary store is
 * left. */
static void
expect_untouched(harness *h, const uint8_t *want, size_t len)
{
	char path[H_PATH_MAX + 16];
	uint8_t *now;
	size_t n;

	snprintf(path, sizeof(path), "%s/data.mdb", h->data_dir);
	assert_int_equal(h_read_file(path, &now, &n), 0);
	assert_int_equal(n, len);
	assert_memory_equal(now, want, len);
	free(now);
	assert_false(has_tmp(h));
	assert_int_equal(kept_files(h), 0);
}

/* A restore that must be refused with needle in its message. */
static void
refused(harness *h, const char *from, const char *journal, const char *needle,
    const uint8_t *want, size_t len)
{
	h_result r;

	bk_restore(h, from, journal, &r);
	expect_exit(&r, 1, needle);
	if (strstr(r.err, needle) == NULL)
		fail_msg(
		    "privd restore said \"%s\", not \"%s\"", r.err, needle);
	assert_non_null(strstr(r.err, "nothing"));
	if (want != NULL)
		expect_untouched(h, want, len);
}

/* A copy of the file from with its lines except line number skip (1 is
 * the first), or with that line replaced by repl. */
static void
edit_lines(const char *from, const char *to, int skip, const char *repl)
{
	char line[8192];
	FILE *in = fopen(from, "re"), *out = fopen(to, "we");
	int n = 0;

	assert_non_null(in);
	assert_non_null(out);
	while (fgets(line, sizeof(line), in) != NULL) {
		if (++n == skip) {
			if (repl != NULL)
				fprintf(out, "%s\n", repl);
			continue;
		}
		fputs(line, out);
	}
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

static void
copy_file(const char *from, const char *to, size_t cut, long flip)
{
	uint8_t *b;
	size_t n;

	assert_int_equal(h_read_file(from, &b, &n), 0);
	assert_true(n > cut);
	if (flip >= 0)
		b[flip] ^= 0x40;
	assert_int_equal(h_write_file(to, b, n - cut, 0600), 0);
	free(b);
}

static void
test_restore_refusals(void **state)
{
	harness *h = *state;
	char good[H_PATH_MAX + 16], bad[H_PATH_MAX + 16],
	    jfull[H_PATH_MAX + 16], jbad[H_PATH_MAX + 16],
	    data[H_PATH_MAX + 16], early[H_PATH_MAX + 16], cur[H_PATH_MAX + 16];
	uint8_t *want;
	size_t len;
	void *other;
	bk_info bi;

	if (lmdb_only("it compares data.mdb byte for byte "
	              "(test_restore_pg: the database untouched)")) {
		skip();
		return;
	}

	snprintf(good, sizeof(good), "%s/good.bak", h->root);
	snprintf(bad, sizeof(bad), "%s/bad.bak", h->root);
	snprintf(jfull, sizeof(jfull), "%s/full.jsonl", h->root);
	snprintf(jbad, sizeof(jbad), "%s/bad.jsonl", h->root);
	snprintf(data, sizeof(data), "%s/data.mdb", h->data_dir);
	snprintf(early, sizeof(early), "%s/early.mdb", h->root);
	snprintf(cur, sizeof(cur), "%s/cur.mdb", h->root);

	put_many(h, "pre", 20);
	/* a store from before the backup, for the last refusal */
	stop_clean(h);
	copy_file(data, early, 0, -1);
	assert_int_equal(h_start(h, NULL), 0);
	erase_ok(h, "pre-0");
	bk_fetch(h, "operator", good, &bi);
	assert_int_equal(bi.journal_head, 1);
	erase_ok(h, "pre-1");
	erase_ok(h, "pre-2");
	erase_ok(h, "pre-3");
	assert_int_equal(bk_journal_file(h, "operator", 1, 0, jfull), 3);

	/* privd running: refused before anything is read */
	refused(h, good, NULL, "privd is running", NULL, 0);
	stop_clean(h);
	assert_int_equal(h_read_file(data, &want, &len), 0);

	copy_file(good, bad, 1000, -1);
	refused(h, bad, NULL, "truncated", want, len);
	copy_file(good, bad, 0, 5000);
	refused(h, bad, NULL, "damaged", want, len);
	refused(h, jfull, NULL, "not a privd backup", want, len);
	/* an LMDB store in another directory than DIR is not DIR/data.mdb */
	{
		char spec[H_PATH_MAX + 16];
		h_result r;

		snprintf(spec, sizeof(spec), "lmdb:%s", h->root);
		assert_int_equal(
		    h_run_privd(h,
		        (const char *const[]){"restore", "--data-dir",
		            h->data_dir, "--store", spec, "--from", good, NULL},
		        60000, &r),
		    0);
		expect_exit(&r, 1, "a restore of an LMDB store elsewhere");
		assert_non_null(strstr(r.err, "LMDB in another directory"));
		expect_untouched(h, want, len);
	}

	/* a backup of another privd: another master key */
	assert_int_equal(bk_setup(&other), 0);
	bk_fetch(other, "operator", bad, &bi);
	assert_int_equal(h_teardown(&other), 0);
	refused(h, bad, NULL, "another master key", want, len);

	/* journals with a gap, a malformed line, that start too late */
	edit_lines(jfull, jbad, 3, NULL); /* seq 3 */
	refused(h, good, jbad, "gap", want, len);
	edit_lines(jfull, jbad, 4, NULL); /* seq 4, the last */
	refused(h, good, jbad, "truncated", want, len);
	edit_lines(jfull, jbad, 2, "{\"seq\":2,\"kind\":\"erase\"}");
	refused(h, good, jbad, "line 2", want, len);
	edit_lines(jfull, jbad, 2, "not json");
	refused(h, good, jbad, "line 2", want, len);
	edit_lines(jfull, jbad, 1, "{\"something\":\"else\"}");
	refused(h, good, jbad, "line 1", want, len);

	/* a store older than the backup */
	assert_int_equal(rename(data, cur), 0);
	copy_file(early, data, 0, -1);
	free(want);
	assert_int_equal(h_read_file(data, &want, &len), 0);
	refused(h, good, NULL, "older than the backup", want, len);
	assert_int_equal(rename(cur, data), 0);
	free(want);

	/* and the good one, with its full journal, goes */
	{
		h_result r;
		privd_client *c;

		bk_restore(h, good, jfull, &r);
		expect_exit(&r, 0, "privd restore");
		assert_int_equal(h_start(h, NULL), 0);
		c = client(h, "svc");
		bk_expect_name(c, "pre-0", NULL);
		bk_expect_name(c, "pre-3", NULL);
		expect_have(c, "pre-4");
		privd_close(&c);
		bk_verify_ok(h);
	}
}

/*
 * A journal file exported before the last erasure, given while the
 * replaced store (which recorded it) is still in DIR: privd restore reads
 * both and applies the longer, so the person erased after the export stays
 * erased. (Found in review: the file alone brought them back while the
 * copied audit log said they were erased.)
 */
static void
test_restore_stale_journal(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16], jpath[H_PATH_MAX + 16];
	privd_client *c;
	h_result r;
	bk_info bi;

	put_many(h, "pre", 5);
	put_one(h, VICTIM);
	snprintf(path, sizeof(path), "%s/b.bak", h->root);
	bk_fetch(h, "admin", path, &bi);
	snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", h->root);
	bk_journal_file(h, "operator", bi.journal_head, 0, jpath);
	erase_ok(h, VICTIM); /* after the export */
	stop_clean(h);
	bk_restore(h, path, jpath, &r);
	expect_exit(&r, 0, "privd restore --journal with the store there");
	assert_non_null(strstr(r.out, "it goes further than the file"));
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	bk_expect_name(c, VICTIM, NULL);
	bk_expect_name(c, "pre-4", "v-pre-4");
	privd_close(&c);
	bk_verify_ok(h);
}

/*
 * A restriction set after the backup is not undone by a restore: the
 * journal carries the subject's state (kind "restricted"), from the
 * replaced store and from an exported journal file alike.
 */
static void
test_restore_keeps_restriction(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16], jpath[H_PATH_MAX + 16];
	privd_client *c;
	h_result r;
	bk_info bi;
	int changed = 0;

	put_many(h, "pre", 3);
	snprintf(path, sizeof(path), "%s/b3.bak", h->root);
	bk_fetch(h, "admin", path, &bi);
	c = client(h, "rights");
	expect_rc(c, privd_subject_restrict(c, BK_REG, "pre-1", 1, &changed),
	    PRIVD_OK, "restrict after the backup");
	privd_close(&c);
	snprintf(jpath, sizeof(jpath), "%s/journal3.jsonl", h->root);
	assert_int_equal(
	    bk_journal_file(h, "operator", bi.journal_head, 0, jpath), 1);
	stop_clean(h);

	/* from the replaced store's journal */
	bk_restore(h, path, NULL, &r);
	expect_exit(&r, 0, "privd restore");
	assert_non_null(strstr(r.out, "set again 1 restriction"));
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	expect_denied(c,
	    privd_get(
	        c, BK_REG, "pre-1", BK_PUR, NULL, 0, &(privd_record *){0}),
	    9, "a get of the restricted subject");
	expect_have(c, "pre-2");
	privd_close(&c);
	stop_clean(h);
	if (lmdb_only("the second half deletes data.mdb"))
		return;

	/* from the exported file, the store gone */
	{
		char dm[H_PATH_MAX + 16];

		snprintf(dm, sizeof(dm), "%s/data.mdb", h->data_dir);
		assert_int_equal(unlink(dm), 0);
		snprintf(dm, sizeof(dm), "%s/lock.mdb", h->data_dir);
		unlink(dm);
	}
	bk_restore(h, path, jpath, &r);
	expect_exit(&r, 0, "privd restore --journal");
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	expect_denied(c,
	    privd_get(
	        c, BK_REG, "pre-1", BK_PUR, NULL, 0, &(privd_record *){0}),
	    9, "a get of the restricted subject");
	privd_close(&c);
	bk_verify_ok(h);
}

/*
 * A signing key rotated after the backup: the restore continues the
 * replaced store's log under the key in force at its end, so the log
 * verifies from the first key through the rotation and the restore.
 */
static void
test_restore_after_key_rotation(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16];
	h_result r;
	bk_info bi;

	put_many(h, "pre", 3);
	snprintf(path, sizeof(path), "%s/b4.bak", h->root);
	bk_fetch(h, "admin", path, &bi);
	stop_clean(h);
	run_expect(h,
	    (const char *[]){h->privd_bin, "audit", "rotate-key", "--data-dir",
	        h->data_dir, NULL},
	    &r, 0, "privd audit rotate-key");
	assert_int_equal(h_start(h, NULL), 0);
	erase_ok(h, "pre-0");
	stop_clean(h);
	bk_restore(h, path, NULL, &r);
	expect_exit(&r, 0, "privd restore");
	assert_non_null(strstr(r.out, "continues the replaced store's"));
	assert_int_equal(h_start(h, NULL), 0);
	bk_verify_ok(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_restore_store, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_restore_journal, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_restore_refusals, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_restore_stale_journal, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_restore_keeps_restriction, bk_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_restore_after_key_rotation, bk_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/restore", tests, NULL, NULL);
}
