/*
 * backup.c - backups and the erasure journal (<privd/backup.h>): fetch a
 * backup privd makes, into a file checked against its trailer and digest;
 * and export the erasure journal, a page or the whole journal file.
 *
 * The backup file's layout is daemon/backupfmt.h's, taken from there so
 * that the two cannot drift; its code (backupfmt.c) is the daemon's and
 * pulls in the store's headers, so the client checks the file with its
 * own few lines below. tests/unit/test_client_backup.c feeds this code
 * files made by backupfmt.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../daemon/backupfmt.h"
#include "internal.h"
#include <privd/backup.h>

/* Bytes asked for in one BackupRead: privd's most. */
#define CHUNK (1024 * 1024)
/* A backup id privd hands out (16 bytes) is at most this long. */
#define BACKUP_ID_MAX 64
/* Polls while privd copies: from this delay, doubling, to the last. */
#define POLL_FIRST_MS 50
#define POLL_LAST_MS  500
/* A BackupRead that timed out is asked again this many times. */
#define READ_RETRIES 2
/* Entries asked for in one ErasuresExport: privd's default and its most.
 * An entry can name 256 fields of 64 bytes: 1000 of those still fit a
 * reply (REPLY_MAX), 10000 would not. */
#define JOURNAL_PAGE     1000
#define JOURNAL_PAGE_MAX 10000

/* The digest's domain, as daemon/backupfmt.c hashes it: with its NUL. */
static const char digest_domain[] = BACKUP_DIGEST_DOMAIN;

/* A backup under way: where it goes, what privd said of it, the digest. */
struct bk {
	privd_client *c;
	const char *path;
	char *part; /* path + ".part" */
	int fd;     /* open on part, or -1 */
	uint8_t id[BACKUP_ID_MAX];
	size_t idlen; /* 0: privd has not started one */
	int ready;    /* privd's copy is complete: size is known */
	uint64_t size, offset;
	uint64_t time_us, journal_head; /* what privd said with ready */
	crypto_generichash_state h;     /* over the image, as it comes */
	uint8_t trailer[BACKUP_TRAILER_BYTES];
	privd_backup_progress_fn progress;
	void *arg;
};

static uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Sleep ms milliseconds; a signal may cut it short (the caller polls). */
static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* Write all of p to fd; 0 or -1 with errno set. */
static int
write_full(int fd, const uint8_t *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Tell the progress callback; nonzero: the caller asked to stop. */
static int
bk_progress(struct bk *b, int phase, uint64_t done, uint64_t total)
{
	if (b->progress == NULL || b->progress(b->arg, phase, done, total) == 0)
		return PRIVD_OK;
	return cl_fail(b->c, PRIVD_EINVAL, "stopped by its progress callback");
}

/* BackupStart: privd begins a copy and names it. */
static int
bk_start(struct bk *b)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__BackupStartRequest bs =
	    PRIVD__V1__BACKUP_START_REQUEST__INIT;
	Privd__V1__Response *r;
	ProtobufCBinaryData *id;
	int rc;

	req.op_case = PRIVD__V1__REQUEST__OP_BACKUP_START;
	req.backup_start = &bs;
	rc = cl_call(b->c, &req, PRIVD__V1__RESPONSE__PAYLOAD_BACKUP_START, &r);
	if (rc != PRIVD_OK)
		return rc;
	id = &r->backup_start->id;
	if (id->len == 0 || id->len > BACKUP_ID_MAX) {
		cl_response_free(r);
		return cl_fail(b->c, PRIVD_EPROTO,
		    "privd's backup id is empty or longer than %d bytes",
		    BACKUP_ID_MAX);
	}
	memcpy(b->id, id->data, id->len);
	b->idlen = id->len;
	cl_response_free(r);
	return PRIVD_OK;
}

/* BackupRead at b->offset; asked again after a timeout, as reading the
 * same bytes again changes nothing. */
static int
bk_read(struct bk *b, Privd__V1__Response **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__BackupReadRequest br = PRIVD__V1__BACKUP_READ_REQUEST__INIT;
	int rc, tries = 0;

	br.id.data = b->id;
	br.id.len = b->idlen;
	br.offset = b->offset;
	br.length = CHUNK;
	req.op_case = PRIVD__V1__REQUEST__OP_BACKUP_READ;
	req.backup_read = &br;
	do
		rc = cl_call(
		    b->c, &req, PRIVD__V1__RESPONSE__PAYLOAD_BACKUP_READ, out);
	while (rc == PRIVD_ETIMEOUT && tries++ < READ_RETRIES);
	return rc;
}

/* BackupEnd, when privd has started a backup. Its outcome is not the
 * backup's: the caller's error, if any, is kept. */
static void
bk_end(struct bk *b)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__BackupEndRequest be = PRIVD__V1__BACKUP_END_REQUEST__INIT;
	Privd__V1__Response *r;
	char msg[sizeof(b->c->errmsg)];
	int reason = b->c->reason;

	if (b->idlen == 0)
		return;
	memcpy(msg, b->c->errmsg, sizeof(msg));
	be.id.data = b->id;
	be.id.len = b->idlen;
	req.op_case = PRIVD__V1__REQUEST__OP_BACKUP_END;
	req.backup_end = &be;
	if (cl_call(b->c, &req, PRIVD__V1__RESPONSE__PAYLOAD_BACKUP_END, &r) ==
	    PRIVD_OK)
		cl_response_free(r);
	memcpy(b->c->errmsg, msg, sizeof(msg));
	b->c->reason = reason;
	b->idlen = 0;
}

/*
 * Take what a ready answer says of the backup: its size, time and journal
 * head, the same in every answer. Too small to hold a trailer is not a
 * backup.
 */
static int
bk_ready(struct bk *b, const Privd__V1__BackupReadResponse *rr)
{
	if (!b->ready) {
		if (rr->size < BACKUP_TRAILER_BYTES)
			return cl_fail(b->c, PRIVD_EPROTO,
			    "privd's backup is too small to be one");
		b->ready = 1;
		b->size = rr->size;
		b->time_us = rr->time_us;
		b->journal_head = rr->journal_head;
		return PRIVD_OK;
	}
	if (rr->size != b->size)
		return cl_fail(b->c, PRIVD_EPROTO,
		    "privd's backup changed its size while being read");
	return PRIVD_OK;
}

/*
 * Take the bytes of one answer at b->offset: into the file, into the
 * digest as far as they are the image, into b->trailer past it. An
 * answer must bring bytes until the end, and none past it.
 */
static int
bk_take(struct bk *b, const ProtobufCBinaryData *d)
{
	uint64_t image = b->size - BACKUP_TRAILER_BYTES, at = b->offset;
	size_t n = d->len, k = 0;

	if (n > CHUNK || n > b->size - at)
		return cl_fail(b->c, PRIVD_EPROTO,
		    "privd sent more of the backup than asked for");
	if (n == 0)
		return cl_fail(b->c, PRIVD_EPROTO,
		    "privd sent no data before the backup's end");
	if (at < image) {
		k = image - at < n ? (size_t)(image - at) : n;
		crypto_generichash_update(&b->h, d->data, k);
	}
	if (k < n)
		memcpy(b->trailer + (at + k - image), d->data + k, n - k);
	if (write_full(b->fd, d->data, n) != 0)
		return cl_fail(
		    b->c, PRIVD_EINTERNAL, "%s: %s", b->part, strerror(errno));
	b->offset += n;
	return PRIVD_OK;
}

/*
 * The whole file has come: its trailer must be one of this format, for an
 * image of the size privd sent, agree with what privd said of the backup,
 * and its digest (BLAKE2b-256 of the domain, the image and the trailer's
 * first BACKUP_DIGEST_AT bytes) must match.
 */
static int
bk_check(struct bk *b, privd_backup_info *info)
{
	uint8_t d[BACKUP_HASHBYTES];
	const uint8_t *t = b->trailer;

	if (memcmp(t, BACKUP_MAGIC, 8) != 0 || get_be32(t + 8) != BACKUP_FORMAT)
		return cl_fail(b->c, PRIVD_EPROTO,
		    "privd's backup does not end with a backup trailer");
	if (get_be64(t + 24) != b->size - BACKUP_TRAILER_BYTES)
		return cl_fail(b->c, PRIVD_EPROTO,
		    "privd's backup is truncated or damaged (its size does "
		    "not match its trailer)");
	crypto_generichash_update(&b->h, t, BACKUP_DIGEST_AT);
	crypto_generichash_final(&b->h, d, sizeof(d));
	if (sodium_memcmp(d, t + BACKUP_DIGEST_AT, sizeof(d)) != 0)
		return cl_fail(b->c, PRIVD_EPROTO,
		    "privd's backup is damaged (its digest does not match its "
		    "contents)");
	if (get_be64(t + 16) != b->time_us ||
	    get_be64(t + 32) != b->journal_head)
		return cl_fail(b->c, PRIVD_EPROTO,
		    "privd's backup trailer disagrees with what privd said of "
		    "the backup");
	info->size = b->size;
	info->store_format = get_be32(t + 12);
	info->time_us = get_be64(t + 16);
	info->journal_head = get_be64(t + 32);
	info->audit_head = get_be64(t + 40);
	memcpy(info->audit_hash, t + 48, sizeof(info->audit_hash));
	return PRIVD_OK;
}

/* Poll until privd's copy is complete, telling the progress; the answer
 * that says so is handed back in *out (it may hold the first bytes). */
static int
bk_wait(struct bk *b, Privd__V1__Response **out)
{
	const Privd__V1__BackupReadResponse *rr;
	Privd__V1__Response *r;
	long delay = POLL_FIRST_MS;
	int rc;

	for (;;) {
		if ((rc = bk_read(b, &r)) != PRIVD_OK)
			return rc;
		rr = r->backup_read;
		if (rr->ready) {
			*out = r;
			return PRIVD_OK;
		}
		if (rr->data.len > 0) {
			cl_response_free(r);
			return cl_fail(b->c, PRIVD_EPROTO,
			    "privd sent backup data before its copy was "
			    "complete");
		}
		rc = bk_progress(
		    b, PRIVD_BACKUP_COPYING, rr->copied, rr->estimate);
		cl_response_free(r);
		if (rc != PRIVD_OK)
			return rc;
		sleep_ms(delay);
		delay = delay * 2 > POLL_LAST_MS ? POLL_LAST_MS : delay * 2;
	}
}

/* Make path's directory entry durable (best effort: a file system that
 * cannot sync a directory has the file all the same). */
static void
sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (slash == NULL)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
}

/* The backup, from start to the file in place; bk_end() and cleaning up
 * are the caller's. */
static int
bk_run(struct bk *b, privd_backup_info *info)
{
	const Privd__V1__BackupReadResponse *rr;
	Privd__V1__Response *r;
	int rc;

	if ((rc = bk_start(b)) != PRIVD_OK)
		return rc;
	if ((rc = bk_wait(b, &r)) != PRIVD_OK)
		return rc;
	for (;;) {
		rr = r->backup_read;
		if (!rr->ready)
			rc = cl_fail(b->c, PRIVD_EPROTO,
			    "privd's backup is no longer ready");
		else if ((rc = bk_ready(b, rr)) == PRIVD_OK)
			rc = bk_take(b, &rr->data); /* offset < size here */
		cl_response_free(r);
		if (rc == PRIVD_OK)
			rc = bk_progress(
			    b, PRIVD_BACKUP_RECEIVING, b->offset, b->size);
		if (rc != PRIVD_OK)
			return rc;
		if (b->offset == b->size)
			break;
		if ((rc = bk_read(b, &r)) != PRIVD_OK)
			return rc;
	}
	if ((rc = bk_check(b, info)) != PRIVD_OK)
		return rc;
	if (fsync(b->fd) != 0)
		return cl_fail(
		    b->c, PRIVD_EINTERNAL, "%s: %s", b->part, strerror(errno));
	rc = close(b->fd);
	b->fd = -1;
	if (rc != 0)
		return cl_fail(
		    b->c, PRIVD_EINTERNAL, "%s: %s", b->part, strerror(errno));
	if (rename(b->part, b->path) != 0)
		return cl_fail(
		    b->c, PRIVD_EINTERNAL, "%s: %s", b->path, strerror(errno));
	sync_dir_of(b->path);
	return PRIVD_OK;
}

int
privd_backup(privd_client *c, const char *path,
    privd_backup_progress_fn progress, void *arg, privd_backup_info *info)
{
	struct bk b = {.c = c, .path = path, .fd = -1};
	privd_backup_info dummy;
	size_t n;
	int rc;

	if (info == NULL)
		info = &dummy;
	memset(info, 0, sizeof(*info));
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if (cl_empty(path))
		return cl_fail(
		    c, PRIVD_EINVAL, "the backup's file name is empty");
	n = strlen(path);
	if ((b.part = malloc(n + sizeof(".part"))) == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	memcpy(b.part, path, n);
	memcpy(b.part + n, ".part", sizeof(".part"));
	/* before anything is asked of privd: a file that cannot be made
	 * costs no copy. O_EXCL: never another's file, nor a link. */
	b.fd = open(
	    b.part, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (b.fd < 0) {
		rc =
		    cl_fail(c, PRIVD_EINVAL, "%s: %s", b.part, strerror(errno));
		free(b.part);
		return rc;
	}
	/* 0600 whatever the umask: it holds sealed personal data */
	if (fchmod(b.fd, 0600) != 0)
		rc = cl_fail(
		    c, PRIVD_EINTERNAL, "%s: %s", b.part, strerror(errno));
	else {
		b.progress = progress;
		b.arg = arg;
		crypto_generichash_init(&b.h, NULL, 0, BACKUP_HASHBYTES);
		crypto_generichash_update(&b.h, (const uint8_t *)digest_domain,
		    sizeof(digest_domain));
		rc = bk_run(&b, info);
	}
	bk_end(&b);
	if (b.fd >= 0)
		close(b.fd);
	if (rc != PRIVD_OK) {
		unlink(b.part);
		memset(info, 0, sizeof(*info));
	}
	free(b.part);
	return rc;
}

/* Is s a name as a policy gives one: 1 to 64 of A-Z a-z 0-9 _ . - ? */
static int
policy_name(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	              "0123456789_.-");
	return n > 0 && n <= MAX_NAME && s[n] == '\0';
}

/* One journal entry of an answer, checked; *names grows by the bytes its
 * field names take. */
static int
entry_check(privd_client *c, const Privd__V1__ErasureEntry *e, size_t *names)
{
	size_t i;

	if (e == NULL || e->kind == NULL ||
	    (strcmp(e->kind, "erase") != 0 && strcmp(e->kind, "delete") != 0 &&
	        strcmp(e->kind, "retention") != 0 &&
	        strcmp(e->kind, "restricted") != 0 &&
	        strcmp(e->kind, "state") != 0))
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's journal entry has an unknown kind");
	if (e->subject_hash.len != 32)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's journal entry has a subject hash not of 32 "
		    "bytes");
	if (!policy_name(e->register_))
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's journal entry has a malformed register name");
	if (e->n_fields > MAX_FIELDS)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's journal entry has more than %d fields",
		    MAX_FIELDS);
	for (i = 0; i < e->n_fields; i++) {
		if (!policy_name(e->fields[i]))
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's journal entry has a malformed field "
			    "name");
		*names += strlen(e->fields[i]) + 1;
	}
	return PRIVD_OK;
}

/* A page in one allocation (freed with one free()), as rights.c makes an
 * erasure report: the page, its entries, their field arrays, the names. */
struct page_block {
	privd_erasure_page p;
	privd_erasure_entry e[];
};

/* Check an ErasuresExportResponse to a request (after, limit) and copy it
 * into one caller-owned block. */
static int
page_build(privd_client *c, const Privd__V1__ErasuresExportResponse *a,
    uint64_t after, uint32_t limit, privd_erasure_page **out)
{
	size_t i, j, nptrs = 0, names = 0, ptrs_at, str_at;
	const Privd__V1__ErasureEntry *e;
	privd_erasure_entry *dst;
	struct page_block *b;
	uint64_t prev = after;
	char **np, *sp;
	int rc;

	if (a->n_entries > limit)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd sent more journal entries than asked for");
	if (a->more && a->n_entries == 0)
		return cl_fail(
		    c, PRIVD_EPROTO, "privd's answer does not make progress");
	for (i = 0; i < a->n_entries; i++) {
		e = a->entries[i];
		if ((rc = entry_check(c, e, &names)) != PRIVD_OK)
			return rc;
		if (e->seq <= prev || e->seq > a->head)
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's journal entries are out of order");
		prev = e->seq;
		nptrs += e->n_fields;
	}
	/* bounded above (10000 entries of 256 fields): no overflow */
	ptrs_at = (sizeof(*b) + a->n_entries * sizeof(b->e[0]) +
	              alignof(char *) - 1) &
	          ~(alignof(char *) - 1);
	str_at = ptrs_at + nptrs * sizeof(char *);
	if ((b = calloc(1, str_at + names)) == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	b->p.entries = a->n_entries > 0 ? b->e : NULL;
	b->p.nentries = a->n_entries;
	b->p.head = a->head;
	b->p.more = a->more;
	np = (char **)((char *)b + ptrs_at);
	sp = (char *)b + str_at;
	for (i = 0; i < a->n_entries; i++) {
		e = a->entries[i];
		dst = &b->e[i];
		dst->seq = e->seq;
		dst->time_us = e->time_us;
		cl_copy_str(dst->kind, sizeof(dst->kind), e->kind);
		memcpy(dst->subject_hash, e->subject_hash.data, 32);
		cl_copy_str(dst->reg, sizeof(dst->reg), e->register_);
		dst->fields = e->n_fields > 0 ? np : NULL;
		dst->nfields = e->n_fields;
		for (j = 0; j < e->n_fields; j++) {
			*np++ = sp;
			memcpy(sp, e->fields[j], strlen(e->fields[j]) + 1);
			sp += strlen(e->fields[j]) + 1;
		}
	}
	*out = &b->p;
	return PRIVD_OK;
}

int
privd_erasures_export(
    privd_client *c, uint64_t after, uint32_t limit, privd_erasure_page **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__ErasuresExportRequest ee =
	    PRIVD__V1__ERASURES_EXPORT_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || out == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if (limit > JOURNAL_PAGE_MAX)
		return cl_fail(c, PRIVD_EINVAL,
		    "at most %d journal entries at a time", JOURNAL_PAGE_MAX);
	ee.after = after;
	ee.limit = limit;
	req.op_case = PRIVD__V1__REQUEST__OP_ERASURES_EXPORT;
	req.erasures_export = &ee;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_ERASURES_EXPORT, &r);
	if (rc != PRIVD_OK)
		return rc;
	rc = page_build(c, r->erasures_export, after,
	    limit != 0 ? limit : JOURNAL_PAGE, out);
	cl_response_free(r);
	return rc;
}

void
privd_erasure_page_free(privd_erasure_page **p)
{
	if (p == NULL || *p == NULL)
		return;
	/* the page is the start of its block (page_build) */
	free(*p);
	*p = NULL;
}

/* One entry as a line of the journal file. Names are policy names
 * (checked): nothing in them needs escaping in JSON. */
static int
entry_write(FILE *out, const privd_erasure_entry *e)
{
	char hex[2 * 32 + 1];
	size_t i;

	sodium_bin2hex(hex, sizeof(hex), e->subject_hash, 32);
	if (fprintf(out,
	        "{\"seq\":%llu,\"time_us\":%llu,\"kind\":\"%s\","
	        "\"subject_hash\":\"%s\",\"register\":\"%s\",\"fields\":[",
	        (unsigned long long)e->seq, (unsigned long long)e->time_us,
	        e->kind, hex, e->reg) < 0)
		return -1;
	for (i = 0; i < e->nfields; i++)
		if (fprintf(out, "%s\"%s\"", i ? "," : "", e->fields[i]) < 0)
			return -1;
	return fputs("]}\n", out) < 0 ? -1 : 0;
}

/* The journal file's first line. */
static int
header_write(FILE *out, uint64_t head, uint64_t after)
{
	char at[32];
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm) == NULL ||
	    strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return fprintf(out,
	           "{\"privd_erasure_journal\":1,\"head\":%llu,"
	           "\"after\":%llu,\"exported_at\":\"%s\"}\n",
	           (unsigned long long)head, (unsigned long long)after, at) < 0
	           ? -1
	           : 0;
}

int
privd_erasures_export_file(privd_client *c, uint64_t after, FILE *out,
    uint64_t *nentries, uint64_t *head)
{
	privd_erasure_page *p = NULL;
	uint64_t at = after, h = 0, n = 0;
	int rc, first = 1;
	size_t i;

	if (nentries != NULL)
		*nentries = 0;
	if (head != NULL)
		*head = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	if (out == NULL) {
		cl_reset_error(c);
		return cl_fail(c, PRIVD_EINVAL, "no file to write to");
	}
	for (;;) {
		if ((rc = privd_erasures_export(c, at, JOURNAL_PAGE, &p)) !=
		    PRIVD_OK)
			return rc;
		if (first) {
			/* the file is the journal as it is now, up to h */
			first = 0;
			h = p->head;
			if (header_write(out, h, after) != 0)
				goto io;
		} else if (p->head < h) {
			privd_erasure_page_free(&p);
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's erasure journal head went back");
		}
		for (i = 0; i < p->nentries && at < h; i++) {
			if (p->entries[i].seq != at + 1) {
				privd_erasure_page_free(&p);
				return cl_fail(c, PRIVD_EPROTO,
				    "privd's erasure journal skips seq %llu",
				    (unsigned long long)(at + 1));
			}
			if (entry_write(out, &p->entries[i]) != 0)
				goto io;
			at++;
			n++;
		}
		if (at >= h)
			break;
		if (!p->more) {
			privd_erasure_page_free(&p);
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's erasure journal ends at seq %llu, before "
			    "its head %llu",
			    (unsigned long long)at, (unsigned long long)h);
		}
		privd_erasure_page_free(&p);
	}
	privd_erasure_page_free(&p);
	if (fflush(out) != 0 || ferror(out))
		return cl_fail(c, PRIVD_EINTERNAL,
		    "cannot write the erasure journal: %s", strerror(errno));
	if (nentries != NULL)
		*nentries = n;
	if (head != NULL)
		*head = h;
	return PRIVD_OK;

io:
	privd_erasure_page_free(&p);
	return cl_fail(c, PRIVD_EINTERNAL,
	    "cannot write the erasure journal: %s", strerror(errno));
}
