/*
 * test_backup_common.c - what the backup and restore tests share; see
 * test_backup_common.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "backupfmt.h"
#include "test_backup_common.h"

#define READY_TIMEOUT_MS 120000

const char bk_policy[] = H_POL_CONTROLLER
    " \"registers\": {\"customers\": {\n"
    "   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n"
    "   \"fields\": {\n"
    "     \"name\": {\"category\": \"identity\", \"type\": \"string\"},\n"
    "     \"notes\": {\"category\": \"feedback\", \"type\": "
    "\"text\"}}}},\n" H_POL_PRINCIPALS H_POL_SVC_RWD ",\n"
    "  \"operator\": {\"key\": \"@KEY:operator@\", \"roles\": "
    "[\"operator\"]},\n"
    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "
    "[\"policy_admin\"]},\n"
    "  \"rights\": {\"key\": \"@KEY:rights@\", \"roles\": "
    "[\"subject_rights\"]},\n" H_POL_AUDITOR H_POL_END;

int
bk_setup(void **state)
{
	static const char *const keys[] = {
	    "svc", "operator", "admin", "rights", "auditor"};
	static const h_opts o = {.test_clock = true};

	return h_setup_opt(
	    state, keys, sizeof(keys) / sizeof(keys[0]), bk_policy, NULL, &o);
}

Privd__V1__Response *
bk_start(harness *h, const char *key)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__BackupStartRequest bs =
	    PRIVD__V1__BACKUP_START_REQUEST__INIT;

	req.op_case = PRIVD__V1__REQUEST__OP_BACKUP_START;
	req.backup_start = &bs;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
bk_read(harness *h, const char *key, const uint8_t *id, size_t idlen,
    uint64_t offset, uint32_t length)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__BackupReadRequest br = PRIVD__V1__BACKUP_READ_REQUEST__INIT;

	br.id.data = (uint8_t *)id;
	br.id.len = idlen;
	br.offset = offset;
	br.length = length;
	req.op_case = PRIVD__V1__REQUEST__OP_BACKUP_READ;
	req.backup_read = &br;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
bk_end(harness *h, const char *key, const uint8_t *id, size_t idlen)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__BackupEndRequest be = PRIVD__V1__BACKUP_END_REQUEST__INIT;

	be.id.data = (uint8_t *)id;
	be.id.len = idlen;
	req.op_case = PRIVD__V1__REQUEST__OP_BACKUP_END;
	req.backup_end = &be;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
bk_export(harness *h, const char *key, uint64_t after, uint32_t limit)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__ErasuresExportRequest ee =
	    PRIVD__V1__ERASURES_EXPORT_REQUEST__INIT;

	ee.after = after;
	ee.limit = limit;
	req.op_case = PRIVD__V1__REQUEST__OP_ERASURES_EXPORT;
	req.erasures_export = &ee;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
bk_erase(harness *h, const char *key, const char *subject)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectEraseRequest se =
	    PRIVD__V1__SUBJECT_ERASE_REQUEST__INIT;

	se.subject = (char *)subject;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_ERASE;
	req.subject_erase = &se;
	return raw_call(h, key, &req);
}

void
bk_expect(const Privd__V1__Response *r, int st, int reason, const char *what)
{
	if ((int)r->status != st ||
	    (st == ST(DENIED) && reason != 0 && (int)r->reason != reason))
		fail_msg("%s: expected status %d reason %d, got status %d "
		         "reason %d (\"%s\")",
		    what, st, reason, (int)r->status, (int)r->reason,
		    r->message);
}

void
bk_start_ok(harness *h, const char *key, uint8_t id[16])
{
	Privd__V1__Response *r = bk_start(h, key);

	bk_expect(r, ST(OK), 0, "BackupStart");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_BACKUP_START);
	assert_int_equal(r->backup_start->id.len, 16);
	memcpy(id, r->backup_start->id.data, 16);
	privd__v1__response__free_unpacked(r, NULL);
}

Privd__V1__Response *
bk_wait_ready(harness *h, const char *key, const uint8_t id[16])
{
	int64_t deadline = h_now_ms() + READY_TIMEOUT_MS;
	Privd__V1__Response *r;

	for (;;) {
		r = bk_read(h, key, id, 16, 0, 1);
		bk_expect(r, ST(OK), 0, "BackupRead");
		assert_int_equal(
		    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_BACKUP_READ);
		if (r->backup_read->ready)
			return r;
		assert_int_equal(r->backup_read->data.len, 0);
		assert_true(r->backup_read->estimate > 0);
		privd__v1__response__free_unpacked(r, NULL);
		if (h_now_ms() > deadline)
			fail_msg("the backup is not ready after %d ms",
			    READY_TIMEOUT_MS);
		h_sleep_ms(20);
	}
}

void
bk_fetch_id(harness *h, const char *key, const uint8_t id[16], const char *path,
    uint32_t chunk, bool keep, bk_info *out)
{
	Privd__V1__Response *r = bk_wait_ready(h, key, id);
	backup_info bi;
	char err[200];
	uint64_t off = 0;
	int fd;

	memset(out, 0, sizeof(*out));
	out->size = r->backup_read->size;
	out->time_us = r->backup_read->time_us;
	out->journal_head = r->backup_read->journal_head;
	assert_true(out->size > BACKUP_TRAILER_BYTES);
	privd__v1__response__free_unpacked(r, NULL);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	for (;;) {
		r = bk_read(h, key, id, 16, off, chunk);
		bk_expect(r, ST(OK), 0, "BackupRead of data");
		assert_true(r->backup_read->ready);
		assert_int_equal(r->backup_read->size, out->size);
		if (r->backup_read->data.len == 0) {
			privd__v1__response__free_unpacked(r, NULL);
			break;
		}
		assert_true(
		    r->backup_read->data.len <=
		    (chunk == 0 || chunk > (1u << 20) ? (1u << 20) : chunk));
		assert_int_equal(write(fd, r->backup_read->data.data,
		                     r->backup_read->data.len),
		    (ssize_t)r->backup_read->data.len);
		off += r->backup_read->data.len;
		privd__v1__response__free_unpacked(r, NULL);
	}
	assert_int_equal(off, out->size);
	if (backup_check_fd(fd, &bi, err, sizeof(err)) != 0)
		fail_msg("the backup does not check: %s", err);
	close(fd);
	assert_int_equal(bi.time_us, out->time_us);
	assert_int_equal(bi.journal_head, out->journal_head);
	assert_int_equal(bi.image_bytes + BACKUP_TRAILER_BYTES, out->size);
	if (!keep) {
		r = bk_end(h, key, id, 16);
		bk_expect(r, ST(OK), 0, "BackupEnd");
		privd__v1__response__free_unpacked(r, NULL);
	}
}

void
bk_fetch(harness *h, const char *key, const char *path, bk_info *out)
{
	uint8_t id[16];

	bk_start_ok(h, key, id);
	bk_fetch_id(h, key, id, path, 0, false, out);
}

static const char *
kind_ok(const char *k)
{
	assert_true(strcmp(k, "erase") == 0 || strcmp(k, "delete") == 0 ||
	            strcmp(k, "retention") == 0 ||
	            strcmp(k, "restricted") == 0 || strcmp(k, "state") == 0);
	return k;
}

size_t
bk_journal_file(harness *h, const char *key, uint64_t after, uint32_t page,
    const char *path)
{
	Privd__V1__Response *r;
	FILE *f = fopen(path, "we");
	char hex[65], when[32];
	uint64_t at = after, head = 0;
	size_t n = 0, i, k;
	char *body = NULL;
	size_t bodylen = 0;
	FILE *b = open_memstream(&body, &bodylen);
	time_t now = time(NULL);
	struct tm tm;
	bool more;

	assert_non_null(f);
	assert_non_null(b);
	do {
		r = bk_export(h, key, at, page);
		bk_expect(r, ST(OK), 0, "ErasuresExport");
		assert_int_equal(r->payload_case,
		    PRIVD__V1__RESPONSE__PAYLOAD_ERASURES_EXPORT);
		head = r->erasures_export->head;
		more = r->erasures_export->more;
		for (i = 0; i < r->erasures_export->n_entries; i++) {
			const Privd__V1__ErasureEntry *e =
			    r->erasures_export->entries[i];

			assert_true(e->seq > at);
			assert_int_equal(e->subject_hash.len, 32);
			sodium_bin2hex(
			    hex, sizeof(hex), e->subject_hash.data, 32);
			fprintf(b,
			    "{\"seq\":%llu,\"time_us\":%llu,\"kind\":\"%s\","
			    "\"subject_hash\":\"%s\",\"register\":\"%s\","
			    "\"fields\":[",
			    (unsigned long long)e->seq,
			    (unsigned long long)e->time_us, kind_ok(e->kind),
			    hex, e->register_);
			for (k = 0; k < e->n_fields; k++)
				fprintf(
				    b, "%s\"%s\"", k ? "," : "", e->fields[k]);
			fprintf(b, "]}\n");
			at = e->seq;
			n++;
		}
		privd__v1__response__free_unpacked(r, NULL);
	} while (more);
	fclose(b);
	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f,
	    "{\"privd_erasure_journal\":1,\"head\":%llu,\"after\":%llu,"
	    "\"exported_at\":\"%s\"}\n",
	    (unsigned long long)head, (unsigned long long)after, when);
	fwrite(body, 1, bodylen, f);
	free(body);
	assert_int_equal(fclose(f), 0);
	return n;
}

void
bk_restore(harness *h, const char *from, const char *journal, h_result *r)
{
	const char *args[] = {"restore", "--data-dir", h->data_dir, "--from",
	    from, journal ? "--journal" : NULL, journal, NULL};

	assert_int_equal(h_run_privd(h, args, 60000, r), 0);
	assert_false(r->timed_out);
}

size_t
bk_files(harness *h)
{
	char dir[H_PATH_MAX + 16];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/backup", h->data_dir);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

void
bk_expect_name(privd_client *c, const char *subject, const char *value)
{
	const char *names[] = {"name"};
	privd_record *rec = NULL;
	int rc = privd_get(c, BK_REG, subject, BK_PUR, names, 1, &rec);

	if (value == NULL) {
		if (rc != PRIVD_ENOTFOUND)
			fail_msg("subject %s: expected NOT_FOUND, got %d",
			    subject, rc);
		return;
	}
	expect_rc(c, rc, PRIVD_OK, subject);
	assert_field_str(rec, "name", value);
	privd_record_free(&rec);
}

void
bk_verify_ok(harness *h)
{
	h_result r;

	privctl_expect(h, "auditor", (const char *[]){"audit", "verify", NULL},
	    &r, 0, "privctl audit verify");
	assert_non_null(strstr(r.out, "audit log verifies"));
}

void
bk_events(harness *h, const char *op, evlist *l)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};
	const char *ops[] = {op};

	memset(l, 0, sizeof(*l));
	f.ops = ops;
	f.nops = 1;
	collect(a, &f, l);
	privd_close(&a);
}
