/*
 * test_restore_pg.c - `privd restore` into a PostgreSQL store (issue 12;
 * README "Backup and restore"), the cases that are the database's own
 * (test_restore.c runs the others on the test setup "pg"):
 *   - refused while a privd node serves the database: another node's
 *     directory (a copy of the serving one's) asks for the restore; it is
 *     refused, nothing is kept or left behind, no restore event; once the
 *     node stops, the same restore goes through;
 *   - a damaged or truncated backup, or the database server down, is
 *     refused with every table of the database unchanged (a digest of
 *     all of them, read with libpq);
 *   - a move from LMDB: an LMDB privd's backup and exported journal
 *     restored into a new PostgreSQL database (no privd schema in it),
 *     an erasure made after the backup re-applied; privd then serves the
 *     database: the data is readable, the erased person stays erased, and
 *     the audit log verifies across the restore; and back: the
 *     database's backup restored into LMDB in the same directory.
 *
 * PostgreSQL whatever the setup (PRIVD_TEST_STORE=postgresql from meson,
 * like test_nodes); the move's first privd is on LMDB.
 */
#define _GNU_SOURCE
#include <dirent.h>
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
#include <libpq-fe.h>

#include "test_backup_common.h"

#define VICTIM "victim"

static const char *const tables[] = {"meta", "policy", "subjects", "values",
    "audit", "audit_ckpt", "audit_ix", "ret_sub", "ret_plan", "ret_due",
    "ret_reg", "holds", "anon", "subj_state", "erasures", "blind", "blind_of",
    "gen"};

static int
pg_setup(void **state)
{
	setenv("PRIVD_TEST_STORE", "postgresql", 1);
	return bk_setup(state);
}

/* The move's first privd: on LMDB in its data directory. */
static int
lmdb_setup(void **state)
{
	setenv("PRIVD_TEST_STORE", "lmdb", 1);
	return bk_setup(state);
}

static void
put_n(harness *h, const char *prefix, int n)
{
	privd_client *c = client(h, "svc");
	char subject[32], name[48];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(subject, sizeof(subject), "%s-%d", prefix, i);
		snprintf(name, sizeof(name), "v-%s", subject);
		privd_field f[] = {
		    h_field("name", name), h_field("notes", "notes")};

		expect_rc(c, privd_put(c, BK_REG, subject, BK_PUR, f, 2),
		    PRIVD_OK, "put");
	}
	privd_close(&c);
}

static void
erase_ok(harness *h, const char *subject)
{
	Privd__V1__Response *r = bk_erase(h, "rights", subject);

	bk_expect(r, ST(OK), 0, "SubjectErase");
	privd__v1__response__free_unpacked(r, NULL);
}

/* A digest of every row of every privd table of the database spec
 * names (hex, into out). */
static void
db_digest(const char *spec, char *out, size_t len)
{
	char sql[4096];
	size_t n = 0, i;
	PGconn *c = PQconnectdb(spec);
	PGresult *r;

	assert_int_equal(PQstatus(c), CONNECTION_OK);
	n += (size_t)snprintf(sql + n, sizeof(sql) - n, "SELECT md5(''");
	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n,
		    " || (SELECT coalesce(md5(string_agg(t::text, ',' ORDER "
		    "BY t::text)), '-') FROM privd_%s t)",
		    tables[i]);
	snprintf(sql + n, sizeof(sql) - n, ")");
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		fail_msg("digest: %s", PQerrorMessage(c));
	snprintf(out, len, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
}

/* How many files DIR holds whose name begins with prefix. */
static size_t
files_named(const char *dir, const char *prefix)
{
	struct dirent *de;
	size_t n = 0;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0)
			n++;
	closedir(d);
	return n;
}

/* `privd restore` of from into dir's store (store: --store SPEC, or
 * NULL), with journal (or NULL). */
static void
restore_into(harness *h, const char *dir, const char *store, const char *from,
    const char *journal, h_result *r)
{
	const char *args[12];
	size_t n = 0;

	args[n++] = "restore";
	args[n++] = "--data-dir";
	args[n++] = dir;
	if (store != NULL) {
		args[n++] = "--store";
		args[n++] = store;
	}
	args[n++] = "--from";
	args[n++] = from;
	if (journal != NULL) {
		args[n++] = "--journal";
		args[n++] = journal;
	}
	args[n] = NULL;
	assert_int_equal(h_run_privd(h, args, 60000, r), 0);
	assert_false(r->timed_out);
}

/* Refused while a node serves; goes through once it stops. */
static void
test_refused_while_serving(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16], other[H_PATH_MAX + 16];
	const char *cp[5];
	privd_client *c;
	h_result r;
	bk_info bi;
	evlist l;

	put_n(h, "s", 20);
	snprintf(path, sizeof(path), "%s/b.bak", h->root);
	bk_fetch(h, "operator", path, &bi);
	erase_ok(h, "s-3");
	/* another node's directory: the master key, DIR/store */
	snprintf(other, sizeof(other), "%s/other", h->root);
	cp[0] = "/bin/cp";
	cp[1] = "-a";
	cp[2] = h->data_dir;
	cp[3] = other;
	cp[4] = NULL;
	run_expect(h, cp, &r, 0, "cp -a of the data directory");

	restore_into(h, other, NULL, path, NULL, &r);
	expect_exit(&r, 1, "privd restore while a node serves");
	assert_non_null(strstr(r.err, "a privd node serves this database"));
	assert_non_null(strstr(r.err, "nothing was changed"));
	assert_int_equal(files_named(other, "store.replaced-"), 0);
	assert_int_equal(files_named(other, "restore.tmp"), 0);
	bk_events(h, "restore", &l);
	assert_int_equal(l.n, 0);
	evlist_free(&l);
	c = client(h, "svc");
	bk_expect_name(c, "s-3", NULL);
	bk_expect_name(c, "s-4", "v-s-4");
	privd_close(&c);

	/* the node stopped: the same restore goes through */
	stop_clean(h);
	restore_into(h, other, NULL, path, NULL, &r);
	expect_exit(&r, 0, "privd restore with every node stopped");
	assert_non_null(strstr(r.out, "re-applied 1 erasure journal entries"));
	assert_int_equal(files_named(other, "store.replaced-"), 1);
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	bk_expect_name(c, "s-3", NULL);
	bk_expect_name(c, "s-4", "v-s-4");
	privd_close(&c);
	bk_verify_ok(h);
}

/* A damaged and a truncated backup: refused, the database untouched. */
static void
test_damaged_refused(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16], bad[H_PATH_MAX + 16];
	char before[64], after[64];
	uint8_t *buf;
	size_t len;
	h_result r;
	bk_info bi;

	put_n(h, "d", 30);
	snprintf(path, sizeof(path), "%s/b.bak", h->root);
	bk_fetch(h, "operator", path, &bi);
	erase_ok(h, "d-1");
	stop_clean(h);
	db_digest(h->store_spec, before, sizeof(before));

	assert_int_equal(h_read_file(path, &buf, &len), 0);
	snprintf(bad, sizeof(bad), "%s/bad.bak", h->root);
	buf[len / 2] ^= 0x40;
	assert_int_equal(h_write_file(bad, buf, len, 0600), 0);
	restore_into(h, h->data_dir, NULL, bad, NULL, &r);
	expect_exit(&r, 1, "privd restore of a damaged backup");
	assert_non_null(strstr(r.err, "damaged"));
	buf[len / 2] ^= 0x40;
	assert_int_equal(h_write_file(bad, buf, len - 100, 0600), 0);
	restore_into(h, h->data_dir, NULL, bad, NULL, &r);
	expect_exit(&r, 1, "privd restore of a truncated backup");
	free(buf);

	/* the database server down: refused, saying so */
	assert_int_equal(h_store_halt(), 0);
	restore_into(h, h->data_dir, NULL, path, NULL, &r);
	assert_int_equal(h_store_resume(), 0);
	expect_exit(&r, 1, "privd restore with the database down");
	assert_non_null(strstr(r.err, "the database store: "));
	assert_non_null(strstr(r.err, "nothing was changed"));
	assert_null(strstr(r.err, "dbname="));

	db_digest(h->store_spec, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(files_named(h->data_dir, "store.replaced-"), 0);
	assert_int_equal(files_named(h->data_dir, "restore.tmp"), 0);
	assert_int_equal(h_start(h, NULL), 0);
	bk_verify_ok(h);
}

/* LMDB's backup and journal into a new PostgreSQL database. */
static void
test_lmdb_to_pg(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16], jpath[H_PATH_MAX + 16];
	char spec[H_PATH_MAX];
	const char *serve[3];
	privd_client *c;
	h_result r;
	bk_info bi;
	evlist l;

	assert_false(h_store_pg());
	put_n(h, "m", 40);
	snprintf(path, sizeof(path), "%s/lmdb.bak", h->root);
	bk_fetch(h, "operator", path, &bi);
	erase_ok(h, "m-7");
	snprintf(jpath, sizeof(jpath), "%s/journal.jsonl", h->root);
	assert_int_equal(
	    bk_journal_file(h, "operator", bi.journal_head, 0, jpath), 1);
	stop_clean(h);

	assert_int_equal(h_store_new(spec, sizeof(spec), false), 0);
	/* a new database holds no store: the journal must be given */
	restore_into(h, h->data_dir, spec, path, NULL, &r);
	expect_exit(&r, 1, "privd restore into a new database, no journal");
	assert_non_null(strstr(r.err, "--journal"));
	restore_into(h, h->data_dir, spec, path, jpath, &r);
	expect_exit(&r, 0, "privd restore into a new database");
	assert_non_null(strstr(r.out, "restored the database store of"));
	assert_non_null(strstr(r.out, "re-applied 1 erasure journal entries"));
	assert_int_equal(files_named(h->data_dir, "store.replaced-"), 0);

	serve[0] = "--store";
	serve[1] = spec;
	serve[2] = NULL;
	assert_int_equal(h_start(h, serve), 0);
	c = client(h, "svc");
	bk_expect_name(c, "m-0", "v-m-0");
	bk_expect_name(c, "m-39", "v-m-39");
	bk_expect_name(c, "m-7", NULL);
	privd_close(&c);
	put_n(h, "after", 2);
	bk_verify_ok(h);
	bk_events(h, "restore", &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0]->fields[0], "lmdb.bak");
	assert_string_equal(l.ev[0]->fields[1], "reapplied=1");
	evlist_free(&l);

	/* and back: the database's backup into LMDB in the directory */
	snprintf(path, sizeof(path), "%s/pg.bak", h->root);
	bk_fetch(h, "operator", path, &bi);
	assert_int_equal(bi.journal_head, 1);
	stop_clean(h);
	snprintf(jpath, sizeof(jpath), "lmdb:%s", h->data_dir);
	restore_into(h, h->data_dir, jpath, path, NULL, &r);
	expect_exit(&r, 0, "privd restore of the database's backup into LMDB");
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	bk_expect_name(c, "m-0", "v-m-0");
	bk_expect_name(c, "after-1", "v-after-1");
	bk_expect_name(c, "m-7", NULL);
	privd_close(&c);
	bk_verify_ok(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_refused_while_serving, pg_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_damaged_refused, pg_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_lmdb_to_pg, lmdb_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/restore_pg", tests, NULL, NULL);
}
