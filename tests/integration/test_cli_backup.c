/*
 * test_cli_backup.c - backups and the erasure journal as an operator
 * makes them, through privctl and libprivd, against a real privd:
 * - `privctl backup FILE` writes a file whose trailer and digest check
 *   with the daemon's own backup_check_fd() (daemon/backupfmt.c), mode
 *   0600, with no FILE.part left, silent on stderr when it is not a
 *   terminal, its summary (--json) agreeing with the trailer, and no
 *   stored value in it in the clear; an existing FILE only with --force;
 * - refusals leave nothing behind: a key without the role, a backup
 *   while another runs (exit 6), a FILE.part left over (exit 5, and no
 *   backup left started at privd);
 * - `privctl erasures export` lists the erasures made before it, as the
 *   journal file restore reads (to stdout and to --out FILE), and a
 *   backup records the journal head a restore re-applies after;
 *   privd_erasures_export_file() from a seq exports only what follows;
 * - the two files privctl writes are what `privd restore` takes: the
 *   store lost, a restore of privctl's backup with privctl's journal
 *   erases again whoever was erased after the backup, and the audit log
 *   verifies across it.
 * What privd does with a backup (its copy, abandoning, restore and its
 * refusals) is tested on the daemon's side (test_backup.c,
 * test_restore.c).
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

#include "backupfmt.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"
#include <privd/backup.h>

#define CANARY "CANARY-backup-7f3a9c"

static const char POLICY[] =
    H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RWD
    ",\n"
    "  \"operator\": {\"key\": \"@KEY:operator@\", \"roles\": "
    "[\"operator\"]},\n"
    "  \"dpo\": {\"key\": \"@KEY:dpo@\", \"roles\": "
    "[\"subject_rights\"]},\n" H_POL_AUDITOR H_POL_END;

static const char *const key_names[] = {"svc", "operator", "dpo", "auditor"};

static int
setup(void **state)
{
	return h_setup(state, key_names, 4, POLICY, NULL);
}

/* root/name into buf. */
static const char *
in_root(const harness *h, const char *name, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", h->root, name);
	return buf;
}

static int
exists(const char *p)
{
	struct stat sb;

	return lstat(p, &sb) == 0;
}

/* The number after "key": in a JSON object printed by privctl. */
static uint64_t
json_num(const char *text, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(text, pat);
	if (p == NULL)
		fail_msg("no %s in %s", key, text);
	return strtoull(p + strlen(pat), NULL, 10);
}

/* Check the backup at path as restore will: 0600, and its trailer and
 * digest as backup_check_fd() wants them. */
static void
check_backup(const char *path, backup_info *bi)
{
	char err[256] = "";
	struct stat sb;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	if (backup_check_fd(fd, bi, err, sizeof(err)) != 0)
		fail_msg("the backup does not check: %s", err);
	close(fd);
	assert_int_equal(bi->image_bytes + BACKUP_TRAILER_BYTES, sb.st_size);
}

/* Some subjects, one of them with the canary as its value. */
static void
fill(harness *h, int n)
{
	privd_client *svc = client(h, "svc");
	char subject[32], name[48];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(subject, sizeof(subject), "c-%d", i);
		snprintf(name, sizeof(name), "Person %d", i);
		put_name(svc, subject, i == n / 2 ? CANARY : name);
	}
	privd_close(&svc);
}

/*
 * privctl backup: a file that checks, 0600, no .part, nothing on a
 * stderr that is not a terminal; --json says what its trailer says; no
 * value in the clear; an existing file only with --force.
 */
static void
test_backup_file(void **state)
{
	harness *h = *state;
	h_result *r = malloc(sizeof(*r));
	char file[H_PATH_MAX + 32], part[H_PATH_MAX + 40];
	const h_needle canary = {CANARY, strlen(CANARY), "canary value"};
	uint8_t *before, *after;
	size_t blen, alen;
	backup_info bi;

	assert_non_null(r);
	fill(h, 200);
	in_root(h, "privd.bak", file, sizeof(file));
	snprintf(part, sizeof(part), "%s.part", file);
	privctl_expect(h, "operator",
	    (const char *const[]){"backup", file, NULL}, r, 0, "backup");
	assert_non_null(strstr(r->out, "backup written to "));
	assert_non_null(strstr(r->out, "erasure journal head 0"));
	assert_string_equal(r->err, "");
	assert_false(exists(part));
	check_backup(file, &bi);
	assert_int_equal(bi.journal_head, 0);
	assert_true(bi.audit_head > 200); /* the puts were audited */
	assert_int_equal(h_scan_file(file, &canary, 1), 0);

	/* not over an existing file, unless --force */
	assert_int_equal(h_read_file(file, &before, &blen), 0);
	privctl_expect(h, "operator",
	    (const char *const[]){"backup", file, NULL}, r, 1,
	    "backup over a file");
	assert_non_null(strstr(r->err, "exists"));
	assert_int_equal(h_read_file(file, &after, &alen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);
	free(after);
	privctl_expect(h, "operator",
	    (const char *const[]){"--json", "backup", "--force", file, NULL}, r,
	    0, "backup --force");
	check_backup(file, &bi);
	assert_int_equal(
	    json_num(r->out, "size"), bi.image_bytes + BACKUP_TRAILER_BYTES);
	assert_int_equal(json_num(r->out, "time_us"), bi.time_us);
	assert_int_equal(json_num(r->out, "journal_head"), bi.journal_head);
	assert_int_equal(json_num(r->out, "audit_head"), bi.audit_head);
	/* a later snapshot: the first backup's requests are in it */
	assert_int_equal(h_read_file(file, &after, &alen), 0);
	assert_true(alen != blen || memcmp(after, before, blen) != 0);
	free(after);
	free(before);
	assert_false(exists(part));
	free(r);
}

/*
 * Refusals leave neither FILE nor FILE.part: a key without the role
 * operator (exit 3), a backup while another has not ended (exit 6), a
 * FILE.part left over (exit 5, left as it was, and no backup started:
 * the next one goes through).
 */
static void
test_backup_refusals(void **state)
{
	harness *h = *state;
	h_result *r = malloc(sizeof(*r));
	char file[H_PATH_MAX + 32], part[H_PATH_MAX + 40];
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__BackupStartRequest bs =
	    PRIVD__V1__BACKUP_START_REQUEST__INIT;
	Privd__V1__BackupEndRequest be = PRIVD__V1__BACKUP_END_REQUEST__INIT;
	Privd__V1__Response *resp;
	uint8_t id[64];
	size_t idlen;
	backup_info bi;

	assert_non_null(r);
	fill(h, 10);
	in_root(h, "privd.bak", file, sizeof(file));
	snprintf(part, sizeof(part), "%s.part", file);

	privctl_expect(h, "svc", (const char *const[]){"backup", file, NULL}, r,
	    3, "backup without the role");
	assert_non_null(strstr(r->err, "role_required"));
	assert_false(exists(file));
	assert_false(exists(part));

	/* another backup, started raw and not ended */
	req.op_case = PRIVD__V1__REQUEST__OP_BACKUP_START;
	req.backup_start = &bs;
	resp = raw_call(h, "operator", &req);
	assert_int_equal(resp->status, ST(OK));
	idlen = resp->backup_start->id.len;
	assert_true(idlen > 0 && idlen <= sizeof(id));
	memcpy(id, resp->backup_start->id.data, idlen);
	privd__v1__response__free_unpacked(resp, NULL);
	privctl_expect(h, "operator",
	    (const char *const[]){"backup", file, NULL}, r, 6,
	    "backup while another runs");
	assert_false(exists(file));
	assert_false(exists(part));
	req = (Privd__V1__Request)PRIVD__V1__REQUEST__INIT;
	req.op_case = PRIVD__V1__REQUEST__OP_BACKUP_END;
	be.id.data = id;
	be.id.len = idlen;
	req.backup_end = &be;
	resp = raw_call(h, "operator", &req);
	assert_int_equal(resp->status, ST(OK));
	privd__v1__response__free_unpacked(resp, NULL);

	/* a .part left over: refused before privd is asked */
	assert_int_equal(h_write_file(part, "left over", 9, 0600), 0);
	privctl_expect(h, "operator",
	    (const char *const[]){"backup", file, NULL}, r, 5,
	    "backup with a .part left over");
	assert_non_null(strstr(r->err, ".part"));
	assert_false(exists(file));
	assert_true(exists(part));
	unlink(part);
	privctl_expect(h, "operator",
	    (const char *const[]){"backup", file, NULL}, r, 0,
	    "backup after the refusals");
	check_backup(file, &bi);
	free(r);
}

/* The lines of a journal file text: the header, then n entries. */
static void
check_journal(const char *text, uint64_t head, uint64_t after, size_t n)
{
	char want[96];
	const char *p = text;
	size_t lines = 0;

	snprintf(want, sizeof(want),
	    "{\"privd_erasure_journal\":1,\"head\":%llu,\"after\":%llu,"
	    "\"exported_at\":\"",
	    (unsigned long long)head, (unsigned long long)after);
	assert_int_equal(strncmp(text, want, strlen(want)), 0);
	while ((p = strchr(p, '\n')) != NULL && *++p != '\0')
		lines++;
	assert_int_equal(lines, n);
}

/* The line of journal entry seq in text, or NULL. */
static const char *
journal_line(const char *text, uint64_t seq)
{
	char want[40];

	snprintf(
	    want, sizeof(want), "\n{\"seq\":%llu,", (unsigned long long)seq);
	return strstr(text, want);
}

/*
 * erasures export: an erasure and a delete made before it are in the
 * journal file, in order, named by subject hash only; the same to stdout
 * and to --out FILE (0600). A backup made then records journal head 2;
 * what is erased after it is what an export after 2 holds.
 */
static void
test_erasures_export(void **state)
{
	harness *h = *state;
	h_result *r = malloc(sizeof(*r));
	privd_client *svc = client(h, "svc"), *dpo = client(h, "dpo");
	privd_client *op = client(h, "operator");
	char file[H_PATH_MAX + 32], bak[H_PATH_MAX + 32];
	privd_erasure_page *pg = NULL;
	privd_erasure *er = NULL;
	uint64_t n = 0, head = 0;
	const char *line;
	uint8_t *text;
	size_t len;
	char *mem, *out;
	FILE *fp;
	backup_info bi;
	struct stat sb;

	assert_non_null(r);
	put_name(svc, "e-1", "Erin Erased");
	put_name(svc, "d-2", "Dan Deleted");
	put_name(svc, "k-3", "Kim Kept");
	expect_rc(dpo, privd_subject_erase(dpo, "e-1", NULL, 0, &er), PRIVD_OK,
	    "erase e-1");
	privd_erasure_free(&er);
	expect_rc(svc,
	    privd_delete(svc, "customers", "d-2", "invoicing", NULL, 0, NULL),
	    PRIVD_OK, "delete d-2");

	/* to stdout */
	privctl_expect(h, "operator",
	    (const char *const[]){"erasures", "export", NULL}, r, 0,
	    "erasures export");
	check_journal(r->out, 2, 0, 2);
	line = journal_line(r->out, 1);
	assert_non_null(line);
	assert_non_null(strstr(line, "\"kind\":\"erase\","));
	assert_non_null(
	    strstr(line, "\"register\":\"customers\",\"fields\":[]}"));
	assert_non_null(strstr(line, "\"subject_hash\":\""));
	assert_non_null(
	    strstr(journal_line(r->out, 2), "\"kind\":\"delete\","));
	/* no subject id, no value */
	assert_null(strstr(r->out, "e-1"));
	assert_null(strstr(r->out, "Erin"));
	out = strdup(r->out);
	assert_non_null(out);
	/* --after: only the entries after a seq (a backup's journal head) */
	privctl_expect(h, "operator",
	    (const char *const[]){"erasures", "export", "--after", "1", NULL},
	    r, 0, "erasures export --after 1");
	check_journal(r->out, 2, 1, 1);
	assert_null(journal_line(r->out, 1));
	assert_non_null(
	    strstr(journal_line(r->out, 2), "\"kind\":\"delete\","));
	privctl_expect(h, "operator",
	    (const char *const[]){"erasures", "export", "--after", "x", NULL},
	    r, 2, "erasures export --after x");

	/* to a file, the same entries */
	in_root(h, "journal.jsonl", file, sizeof(file));
	privctl_expect(h, "operator",
	    (const char *const[]){"erasures", "export", "--out", file, NULL}, r,
	    0, "erasures export --out");
	assert_non_null(strstr(r->out, "2 erasure journal entries after seq 0, "
	                               "up to head 2, written to "));
	/* again (-o is --out): a newer export replaces the file */
	privctl_expect(h, "operator",
	    (const char *const[]){"erasures", "export", "-o", file, NULL}, r, 0,
	    "erasures export -o over the last export");
	assert_int_equal(stat(file, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(h_read_file(file, &text, &len), 0);
	mem = strndup((const char *)text, len);
	free(text);
	check_journal(mem, 2, 0, 2);
	assert_string_equal(strchr(mem, '\n'), strchr(out, '\n'));
	/* the entries as libprivd pages them */
	expect_rc(op, privd_erasures_export(op, 0, 0, &pg), PRIVD_OK, "page");
	assert_int_equal(pg->nentries, 2);
	assert_int_equal(pg->head, 2);
	assert_false(pg->more);
	assert_string_equal(pg->entries[0].kind, "erase");
	assert_string_equal(pg->entries[1].kind, "delete");
	privd_erasure_page_free(&pg);
	free(mem);
	free(out);

	/* a backup now holds the journal up to 2 */
	in_root(h, "after-erasures.bak", bak, sizeof(bak));
	privctl_expect(h, "operator",
	    (const char *const[]){"backup", bak, NULL}, r, 0, "backup");
	assert_non_null(strstr(r->out, "erasure journal head 2;"));
	check_backup(bak, &bi);
	assert_int_equal(bi.journal_head, 2);

	/* erased after it: what a restore of it must apply again */
	expect_rc(dpo, privd_subject_erase(dpo, "k-3", NULL, 0, &er), PRIVD_OK,
	    "erase k-3");
	privd_erasure_free(&er);
	fp = open_memstream(&mem, &len);
	assert_non_null(fp);
	expect_rc(op,
	    privd_erasures_export_file(op, bi.journal_head, fp, &n, &head),
	    PRIVD_OK, "export after the backup");
	fclose(fp);
	assert_int_equal(n, 1);
	assert_int_equal(head, 3);
	check_journal(mem, 3, 2, 1);
	assert_non_null(journal_line(mem, 3));
	assert_null(journal_line(mem, 2));
	free(mem);

	/* without the role */
	privctl_expect(h, "svc",
	    (const char *const[]){"erasures", "export", NULL}, r, 3,
	    "erasures export without the role");
	privd_close(&svc);
	privd_close(&dpo);
	privd_close(&op);
	free(r);
}

/* privd_backup() tells its progress: privd's copy, then every byte
 * received, ending at the size. */
static int
progress(void *arg, int phase, uint64_t done, uint64_t total)
{
	uint64_t *last = arg;

	if (phase == PRIVD_BACKUP_RECEIVING) {
		assert_true(done > last[0]);
		assert_true(done <= total);
		last[0] = done;
		last[1] = total;
	}
	return 0;
}

static void
test_library_backup(void **state)
{
	harness *h = *state;
	privd_client *op = client(h, "operator");
	char file[H_PATH_MAX + 32];
	uint64_t last[2] = {0, 0};
	privd_backup_info info;
	backup_info bi;

	fill(h, 20);
	in_root(h, "lib.bak", file, sizeof(file));
	expect_rc(op, privd_backup(op, file, progress, last, &info), PRIVD_OK,
	    "privd_backup");
	check_backup(file, &bi);
	assert_int_equal(info.size, bi.image_bytes + BACKUP_TRAILER_BYTES);
	assert_int_equal(last[0], info.size);
	assert_int_equal(last[1], info.size);
	assert_int_equal(info.time_us, bi.time_us);
	assert_int_equal(info.audit_head, bi.audit_head);
	assert_memory_equal(info.audit_hash, bi.audit_hash, 32);
	assert_int_equal(info.store_format, bi.store_format);
	privd_close(&op);
}

/* Is subject stored (with its name) or not (NOT_FOUND)? */
static void
expect_stored(privd_client *c, const char *subject, int stored)
{
	privd_record *rec = NULL;
	int rc = privd_get(c, "customers", subject, "invoicing", NULL, 0, &rec);

	if (stored) {
		expect_rc(c, rc, PRIVD_OK, "get of a subject kept");
		privd_record_free(&rec);
	} else
		expect_rc(c, rc, PRIVD_ENOTFOUND, "get of a subject erased");
}

/*
 * privctl's backup and privctl's journal, as an operator keeps them,
 * restore a lost store: the subject erased after the backup stays
 * erased (its entry re-applied from the journal file, the entries the
 * backup already holds skipped), what the backup held is there, and
 * `privctl audit verify` passes across the restore.
 */
static void
test_restore_from_privctl_files(void **state)
{
	harness *h = *state;
	h_result *r = malloc(sizeof(*r));
	privd_client *dpo = client(h, "dpo"), *svc;
	char bak[H_PATH_MAX + 32], jfile[H_PATH_MAX + 32];
	char data[H_PATH_MAX + 32];
	privd_erasure *er = NULL;
	backup_info bi;

	assert_non_null(r);
	fill(h, 10);
	expect_rc(dpo, privd_subject_erase(dpo, "c-1", NULL, 0, &er), PRIVD_OK,
	    "erase c-1");
	privd_erasure_free(&er);
	in_root(h, "before.bak", bak, sizeof(bak));
	privctl_expect(h, "operator",
	    (const char *const[]){"backup", bak, NULL}, r, 0, "backup");
	check_backup(bak, &bi);
	assert_int_equal(bi.journal_head, 1);
	expect_rc(dpo, privd_subject_erase(dpo, "c-2", NULL, 0, &er), PRIVD_OK,
	    "erase c-2 after the backup");
	privd_erasure_free(&er);
	privd_close(&dpo);
	/* the whole journal: restore skips what the backup holds */
	in_root(h, "journal.jsonl", jfile, sizeof(jfile));
	privctl_expect(h, "operator",
	    (const char *const[]){"erasures", "export", "--out", jfile, NULL},
	    r, 0, "erasures export");

	/* the machine is lost; its master key was kept apart (on a
	 * PostgreSQL store the database stays: the journal file and the
	 * database's journal are both read and must agree; test_restore_pg
	 * restores into a new database) */
	stop_clean(h);
	if (!h_store_pg()) {
		snprintf(data, sizeof(data), "%s/data.mdb", h->data_dir);
		assert_int_equal(unlink(data), 0);
		snprintf(data, sizeof(data), "%s/lock.mdb", h->data_dir);
		unlink(data);
	}
	assert_int_equal(
	    h_run_privd(h,
	        (const char *const[]){"restore", "--data-dir", h->data_dir,
	            "--from", bak, "--journal", jfile, NULL},
	        60000, r),
	    0);
	expect_exit(r, 0, "privd restore --journal");

	assert_int_equal(h_start(h, NULL), 0);
	svc = client(h, "svc");
	expect_stored(svc, "c-1", 0);
	expect_stored(svc, "c-2", 0);
	expect_stored(svc, "c-0", 1);
	expect_stored(svc, "c-9", 1);
	privd_close(&svc);
	privctl_expect(h, "auditor",
	    (const char *const[]){"audit", "verify", NULL}, r, 0,
	    "audit verify after the restore");
	free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_backup_file, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_backup_refusals, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_erasures_export, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_library_backup, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_restore_from_privctl_files, setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
