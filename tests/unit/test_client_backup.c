/*
 * test_client_backup.c - libprivd's backup call (privd_backup(),
 * <privd/backup.h>) against the fake privd of fake_privd.c, which here
 * plays a whole backup (start, polls while it copies, reads, end) from a
 * file made by the daemon's own daemon/backupfmt.c: that the client
 * fetches it in chunks into the file and checks its digest and trailer as
 * the daemon writes them; that a truncated, damaged or malformed stream
 * is refused and leaves no file; that BackupEnd is sent on every failure
 * once a backup was started. Then privctl's: an interrupt, and the
 * progress line. The erasure journal calls: test_client_erasures.c.
 */
#include <setjmp.h>
#include <signal.h>
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
#include "fake_privd.h"
#include "privctl.h"
#include <privd/backup.h>

#define MIB       (1024 * 1024)
#define T_SNAP    1985126400000000ULL /* 2032-11-27T00:00:00Z */
#define J_HEAD    41
#define A_HEAD    977
#define MAX_READS 4096

/* The fake privd's side of a backup, and what it saw. */
struct srv {
	uint8_t *file;      /* the backup privd serves: image and trailer */
	size_t size;        /* its bytes */
	uint64_t said_size; /* the size privd says (normally size) */
	size_t chunk;       /* most bytes per read (0: as asked) */
	int polls;          /* not-ready answers before ready */
	uint64_t said_time, said_head; /* time_us, journal_head said */
	/* faults */
	Privd__V1__Status start_status, read_status;
	int fail_read_at; /* the read (1: first) answered read_status */
	int drop_read_at; /* the read (1: first) not answered at all */
	int data_while_copying, grow_at, empty_at, extra_at, empty_id;
	int raise_at; /* at this read, SIGINT (as a user's Ctrl-C) */
	/* what it saw */
	int starts, reads, ends, bad_id;
	uint64_t offsets[MAX_READS];
	uint32_t lengths[MAX_READS];
	/* the answers */
	Privd__V1__Response r;
	Privd__V1__BackupStartResponse bs;
	Privd__V1__BackupReadResponse br;
	Privd__V1__BackupEndResponse be;
};

static const uint8_t backup_id[16] = {
    0xb4, 0xc1, 0x0d, 0x01, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};

/* Is req's id the backup's? */
static int
id_ok(const ProtobufCBinaryData *id)
{
	return id->len == sizeof(backup_id) &&
	       memcmp(id->data, backup_id, sizeof(backup_id)) == 0;
}

/* The fake privd's answer to one request of a backup. */
static Privd__V1__Response *
srv_respond(struct fake *f, const Privd__V1__Request *req)
{
	struct srv *s = f->respond_arg;
	const Privd__V1__BackupReadRequest *rq;
	size_t n, at, end;
	int k;

	s->r = (Privd__V1__Response)PRIVD__V1__RESPONSE__INIT;
	switch (req->op_case) {
	case PRIVD__V1__REQUEST__OP_BACKUP_START:
		s->starts++;
		s->bs = (Privd__V1__BackupStartResponse)
		    PRIVD__V1__BACKUP_START_RESPONSE__INIT;
		s->bs.id.data = (uint8_t *)backup_id;
		s->bs.id.len = s->empty_id ? 0 : sizeof(backup_id);
		ANSWER(s->r, BACKUP_START, backup_start, &s->bs);
		if (s->start_status != PRIVD__V1__STATUS__OK) {
			s->r.status = s->start_status;
			s->r.message = "a backup is being made already";
		}
		return &s->r;
	case PRIVD__V1__REQUEST__OP_BACKUP_READ:
		rq = req->backup_read;
		k = ++s->reads;
		if (k <= MAX_READS) {
			s->offsets[k - 1] = rq->offset;
			s->lengths[k - 1] = rq->length;
		}
		if (!id_ok(&rq->id))
			s->bad_id++;
		if (k == s->drop_read_at)
			return NULL;
		if (k == s->raise_at)
			raise(SIGINT);
		s->br = (Privd__V1__BackupReadResponse)
		    PRIVD__V1__BACKUP_READ_RESPONSE__INIT;
		ANSWER(s->r, BACKUP_READ, backup_read, &s->br);
		if (k == s->fail_read_at) {
			s->r.status = s->read_status;
			s->r.message = "the copy failed: no space left";
			return &s->r;
		}
		if (k <= s->polls) {
			s->br.copied = (uint64_t)k * 1000;
			s->br.estimate = s->size;
			if (s->data_while_copying) {
				s->br.data.data = s->file;
				s->br.data.len = 10;
			}
			return &s->r;
		}
		s->br.ready = 1;
		s->br.size = k == s->grow_at ? s->said_size + 1 : s->said_size;
		s->br.time_us = s->said_time;
		s->br.journal_head = s->said_head;
		/* as much as asked for, of what privd says there is */
		end = s->said_size < s->size ? (size_t)s->said_size : s->size;
		at = rq->offset < end ? (size_t)rq->offset : end;
		n = rq->length != 0 ? rq->length : MIB;
		if (s->chunk != 0 && n > s->chunk)
			n = s->chunk;
		if (n > end - at)
			n = end - at;
		if (k == s->empty_at)
			n = 0;
		if (k == s->extra_at)
			n = s->size - at;
		s->br.data.data = s->file + at;
		s->br.data.len = n;
		return &s->r;
	case PRIVD__V1__REQUEST__OP_BACKUP_END:
		s->ends++;
		if (!id_ok(&req->backup_end->id))
			s->bad_id++;
		s->be = (Privd__V1__BackupEndResponse)
		    PRIVD__V1__BACKUP_END_RESPONSE__INIT;
		ANSWER(s->r, BACKUP_END, backup_end, &s->be);
		return &s->r;
	default:
		s->r.status = PRIVD__V1__STATUS__INVALID;
		return &s->r;
	}
}

/*
 * A backup of an image of n pseudo-random bytes with its trailer, made by
 * the daemon's code; the fake serves it as privd would.
 */
static struct srv *
srv_new(struct fake *f, size_t n)
{
	struct srv *s = calloc(1, sizeof(*s));
	crypto_generichash_state h;
	backup_info bi = {0};
	size_t i;

	assert_non_null(s);
	s->size = n + BACKUP_TRAILER_BYTES;
	s->file = malloc(s->size);
	assert_non_null(s->file);
	for (i = 0; i < n; i++)
		s->file[i] = (uint8_t)(i * 2654435761u >> 13);
	bi.store_format = 7;
	bi.time_us = T_SNAP;
	bi.image_bytes = n;
	bi.journal_head = J_HEAD;
	bi.audit_head = A_HEAD;
	memset(bi.audit_hash, 0xa5, sizeof(bi.audit_hash));
	backup_digest_init(&h);
	backup_digest_update(&h, s->file, n);
	backup_trailer_encode(&bi, s->file + n);
	backup_digest_final(&h, s->file + n, bi.digest);
	backup_trailer_encode(&bi, s->file + n);
	s->said_size = s->size;
	s->said_time = T_SNAP;
	s->said_head = J_HEAD;
	s->polls = 2;
	s->start_status = PRIVD__V1__STATUS__OK;
	f->respond = srv_respond;
	f->respond_arg = s;
	return s;
}

static void
srv_free(struct fake *f, struct srv *s)
{
	f->respond = NULL;
	f->respond_arg = NULL;
	free(s->file);
	free(s);
}

/* Where the tests write: a fresh directory of their own. */
static char dir[64];
static char path[96], part[112];

static int
dir_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_client_backup.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/privd.bak", dir);
	snprintf(part, sizeof(part), "%s.part", path);
	return fake_setup(state);
}

static int
dir_teardown(void **state)
{
	unlink(path);
	unlink(part);
	rmdir(dir);
	return fake_teardown(state);
}

static int
exists(const char *p)
{
	struct stat sb;

	return lstat(p, &sb) == 0;
}

/* Does the file at p hold exactly n bytes of want? */
static void
assert_file(const char *p, const uint8_t *want, size_t n)
{
	struct stat sb;
	uint8_t *got = malloc(n + 1);
	FILE *fp = fopen(p, "rb");

	assert_non_null(got);
	assert_non_null(fp);
	assert_int_equal(fread(got, 1, n + 1, fp), n);
	fclose(fp);
	assert_memory_equal(got, want, n);
	free(got);
	assert_int_equal(stat(p, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
}

/* What the progress callback was told. */
struct seen {
	int copying, receiving, out_of_order;
	uint64_t last_done, last_total, copy_estimate;
	int stop_at; /* stop at this call (1: first); 0: never */
	int calls;
};

static int
note_progress(void *arg, int phase, uint64_t done, uint64_t total)
{
	struct seen *p = arg;

	p->calls++;
	if (phase == PRIVD_BACKUP_COPYING) {
		if (p->receiving)
			p->out_of_order++;
		p->copying++;
		p->copy_estimate = total;
	} else {
		if (phase != PRIVD_BACKUP_RECEIVING || done < p->last_done)
			p->out_of_order++;
		p->receiving++;
		p->last_done = done;
		p->last_total = total;
	}
	return p->stop_at != 0 && p->calls >= p->stop_at;
}

/*
 * A backup of 2.5 MiB: two polls while privd copies, then three reads of
 * at most 1 MiB at consecutive offsets; the file is the backup byte for
 * byte, 0600, the .part gone, the trailer's values in info, and
 * BackupEnd sent with the id.
 */
static void
test_backup_ok(void **state)
{
	struct fake *f = *state;
	struct srv *s = srv_new(f, 5 * MIB / 2);
	struct seen seen = {0};
	privd_backup_info info;
	int i;

	assert_int_equal(
	    privd_backup(f->c, path, note_progress, &seen, &info), PRIVD_OK);
	assert_file(path, s->file, s->size);
	assert_false(exists(part));
	assert_int_equal(info.size, s->size);
	assert_int_equal(info.time_us, T_SNAP);
	assert_int_equal(info.journal_head, J_HEAD);
	assert_int_equal(info.audit_head, A_HEAD);
	assert_int_equal(info.store_format, 7);
	for (i = 0; i < 32; i++)
		assert_int_equal(info.audit_hash[i], 0xa5);

	assert_int_equal(s->starts, 1);
	assert_int_equal(s->ends, 1);
	assert_int_equal(s->bad_id, 0);
	/* 2 polls, then reads at 0 (ready), 1 MiB, 2 MiB */
	assert_int_equal(s->reads, 5);
	for (i = 0; i < 3; i++)
		assert_int_equal(s->offsets[i], 0);
	assert_int_equal(s->offsets[3], MIB);
	assert_int_equal(s->offsets[4], 2 * MIB);
	for (i = 0; i < 5; i++)
		assert_int_equal(s->lengths[i], MIB);

	assert_int_equal(seen.copying, 2);
	assert_int_equal(seen.copy_estimate, s->size);
	assert_int_equal(seen.receiving, 3);
	assert_int_equal(seen.out_of_order, 0);
	assert_int_equal(seen.last_done, s->size);
	assert_int_equal(seen.last_total, s->size);

	/* progress and info may be NULL; an existing file is replaced */
	s->polls = 0;
	assert_int_equal(privd_backup(f->c, path, NULL, NULL, NULL), PRIVD_OK);
	assert_file(path, s->file, s->size);
	assert_int_equal(s->ends, 2);
	unlink(path);
	srv_free(f, s);
}

/*
 * privd may send less than asked for: 777 bytes at a time, so that the
 * trailer comes split across reads. The file checks all the same.
 */
static void
test_backup_small_chunks(void **state)
{
	struct fake *f = *state;
	struct srv *s = srv_new(f, 5000);
	privd_backup_info info;
	int i;

	s->chunk = 777;
	s->polls = 0;
	assert_int_equal(privd_backup(f->c, path, NULL, NULL, &info), PRIVD_OK);
	assert_file(path, s->file, s->size);
	assert_int_equal(info.size, 5112);
	assert_int_equal(s->reads, (5112 + 776) / 777);
	for (i = 0; i < s->reads; i++)
		assert_int_equal(s->offsets[i], (uint64_t)i * 777);
	assert_int_equal(s->ends, 1);
	unlink(path);

	/* a backup of an empty image is the trailer alone */
	srv_free(f, s);
	s = srv_new(f, 0);
	s->polls = 0;
	assert_int_equal(privd_backup(f->c, path, NULL, NULL, &info), PRIVD_OK);
	assert_int_equal(info.size, BACKUP_TRAILER_BYTES);
	assert_file(path, s->file, s->size);
	unlink(path);
	srv_free(f, s);
}

/* A backup refused: EPROTO, no file, no .part, a file already at path
 * untouched, BackupEnd sent. */
static void
assert_refused(struct fake *f, struct srv *s, int want, const char *why)
{
	privd_backup_info info;
	int ends = s->ends;

	memset(&info, 0xff, sizeof(info));
	assert_int_equal(privd_backup(f->c, path, NULL, NULL, &info), want);
	if (why != NULL)
		assert_non_null(strstr(privd_errmsg(f->c), why));
	assert_false(exists(path));
	assert_false(exists(part));
	assert_int_equal(info.size, 0);
	assert_int_equal(info.journal_head, 0);
	assert_int_equal(s->ends, ends + 1);
}

/*
 * A damaged backup: a byte of the image changed, of the digest, or of the
 * trailer's values: the digest does not match. Nothing is left behind.
 */
static void
test_backup_damaged(void **state)
{
	struct fake *f = *state;
	struct srv *s = srv_new(f, 3000);
	uint8_t *t = s->file + 3000;

	s->polls = 0;
	s->file[1234] ^= 1;
	assert_refused(f, s, PRIVD_EPROTO, "digest");
	s->file[1234] ^= 1;
	t[BACKUP_DIGEST_AT + 5] ^= 0x80;
	assert_refused(f, s, PRIVD_EPROTO, "digest");
	t[BACKUP_DIGEST_AT + 5] ^= 0x80;
	t[40] ^= 1; /* audit_head */
	assert_refused(f, s, PRIVD_EPROTO, "digest");
	t[40] ^= 1;
	/* not a trailer at all */
	t[0] = 'X';
	assert_refused(f, s, PRIVD_EPROTO, "trailer");
	t[0] = 'P';
	/* the trailer of another format version */
	t[11] = 2;
	assert_refused(f, s, PRIVD_EPROTO, "trailer");
	t[11] = 1;
	/* and, put back, it passes */
	assert_int_equal(privd_backup(f->c, path, NULL, NULL, NULL), PRIVD_OK);
	unlink(path);
	srv_free(f, s);
}

/*
 * A truncated stream: privd says the backup is shorter than it is (its
 * end is not a trailer), or a prefix of the image followed by the
 * trailer (the size disagrees with the trailer's), or it stops sending
 * before the end. Refused, and no file left.
 */
static void
test_backup_truncated(void **state)
{
	struct fake *f = *state;
	struct srv *s = srv_new(f, 3 * MIB);
	uint8_t *cut;

	s->polls = 0;
	s->said_size = s->size - 4096;
	assert_refused(f, s, PRIVD_EPROTO, "trailer");
	s->said_size = s->size - 1;
	assert_refused(f, s, PRIVD_EPROTO, "trailer");

	/* a file cut in the middle of its image, with the trailer at its
	 * end: the trailer's image size is not the file's */
	cut = malloc(MIB + BACKUP_TRAILER_BYTES);
	assert_non_null(cut);
	memcpy(cut, s->file, MIB);
	memcpy(cut + MIB, s->file + 3 * MIB, BACKUP_TRAILER_BYTES);
	free(s->file);
	s->file = cut;
	s->size = s->said_size = MIB + BACKUP_TRAILER_BYTES;
	assert_refused(f, s, PRIVD_EPROTO, "size");
	srv_free(f, s);

	/* no data before the end (the third read, at 1 MiB of 3) */
	s = srv_new(f, 3 * MIB);
	s->polls = 0;
	s->empty_at = 2;
	assert_refused(f, s, PRIVD_EPROTO, "no data");
	srv_free(f, s);
}

/*
 * Answers that break the protocol: a size too small for a trailer, a
 * size that changes, more data than asked for or past the end, data
 * while privd still copies, an empty id, a trailer that disagrees with
 * what privd said of the backup's time or journal head.
 */
static void
test_backup_malformed(void **state)
{
	struct fake *f = *state;
	struct srv *s = srv_new(f, 2 * MIB);

	s->polls = 0;
	s->said_size = BACKUP_TRAILER_BYTES - 1;
	assert_refused(f, s, PRIVD_EPROTO, "too small");
	s->said_size = s->size;
	s->grow_at = 2;
	assert_refused(f, s, PRIVD_EPROTO, "size");
	s->grow_at = 0;
	s->reads = 0;
	s->extra_at = 1; /* everything in one answer, over 1 MiB */
	assert_refused(f, s, PRIVD_EPROTO, "more");
	s->extra_at = 0;
	s->reads = 0;
	s->polls = 1;
	s->data_while_copying = 1;
	assert_refused(f, s, PRIVD_EPROTO, "before its copy");
	s->data_while_copying = 0;
	s->said_time = T_SNAP + 1;
	assert_refused(f, s, PRIVD_EPROTO, "disagrees");
	s->said_time = T_SNAP;
	s->said_head = J_HEAD - 1;
	assert_refused(f, s, PRIVD_EPROTO, "disagrees");
	s->said_head = J_HEAD;

	/* an empty id: there is no backup to end */
	s->empty_id = 1;
	assert_int_equal(
	    privd_backup(f->c, path, NULL, NULL, NULL), PRIVD_EPROTO);
	assert_int_equal(s->ends, 6);
	assert_false(exists(part));
	srv_free(f, s);
}

/*
 * Failures: privd's copy fails (its status and message are the call's,
 * not BackupEnd's), the caller stops it from the progress callback, a
 * start is refused (nothing to end), a .part exists (nothing asked of
 * privd, and the .part is not someone else's to remove), a path that
 * cannot be created. An existing file at path stays as it was.
 */
static void
test_backup_failures(void **state)
{
	struct fake *f = *state;
	struct srv *s = srv_new(f, 4000);
	struct seen seen = {0};
	FILE *fp;

	s->read_status = PRIVD__V1__STATUS__UNAVAILABLE;
	s->fail_read_at = 2;
	assert_refused(f, s, PRIVD_EUNAVAILABLE, "no space left");
	s->read_status = PRIVD__V1__STATUS__INTERNAL;
	s->reads = 0;
	assert_refused(f, s, PRIVD_EINTERNAL, "no space left");
	s->reads = 0;
	s->fail_read_at = 4; /* past the polls: while receiving */
	s->chunk = 1000;
	assert_refused(f, s, PRIVD_EINTERNAL, "no space left");
	s->fail_read_at = 0;
	s->chunk = 0;

	/* stopped by the callback, while copying and while receiving */
	seen.stop_at = 1;
	s->reads = 0;
	assert_int_equal(
	    privd_backup(f->c, path, note_progress, &seen, NULL), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(f->c), "progress callback"));
	assert_int_equal(seen.receiving, 0);
	assert_int_equal(s->ends, 4);
	assert_false(exists(part));
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 3;
	s->reads = 0;
	assert_int_equal(
	    privd_backup(f->c, path, note_progress, &seen, NULL), PRIVD_EINVAL);
	assert_int_equal(seen.receiving, 1);
	assert_int_equal(s->ends, 5);
	assert_false(exists(part));
	assert_false(exists(path));

	/* a start refused: CONFLICT, and no BackupEnd without an id */
	s->start_status = PRIVD__V1__STATUS__CONFLICT;
	assert_int_equal(
	    privd_backup(f->c, path, NULL, NULL, NULL), PRIVD_ECONFLICT);
	assert_int_equal(s->ends, 5);
	s->start_status = PRIVD__V1__STATUS__DENIED;
	assert_int_equal(
	    privd_backup(f->c, path, NULL, NULL, NULL), PRIVD_EDENIED);
	assert_int_equal(s->ends, 5);
	assert_false(exists(part));
	s->start_status = PRIVD__V1__STATUS__OK;

	/* a file at path stays as it was through a failure */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("an older backup\n", fp);
	fclose(fp);
	chmod(path, 0600);
	s->fail_read_at = 1;
	s->reads = 0;
	assert_int_equal(
	    privd_backup(f->c, path, NULL, NULL, NULL), PRIVD_EINTERNAL);
	assert_file(path, (const uint8_t *)"an older backup\n", 16);
	s->fail_read_at = 0;
	unlink(path);

	/* a .part exists: refused before anything is asked of privd */
	fp = fopen(part, "w");
	assert_non_null(fp);
	fclose(fp);
	s->starts = 0;
	assert_int_equal(
	    privd_backup(f->c, path, NULL, NULL, NULL), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(f->c), ".part"));
	assert_int_equal(s->starts, 0);
	assert_true(exists(part));
	unlink(part);

	/* a directory that does not exist; no path at all */
	assert_int_equal(
	    privd_backup(f->c, "/nonexistent/dir/privd.bak", NULL, NULL, NULL),
	    PRIVD_EINVAL);
	assert_int_equal(
	    privd_backup(f->c, "", NULL, NULL, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_backup(f->c, NULL, NULL, NULL, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_backup(NULL, path, NULL, NULL, NULL), PRIVD_EINVAL);
	assert_int_equal(s->starts, 0);
	srv_free(f, s);
}

/*
 * A read that gets no answer in time is asked again (the same offset):
 * the backup completes. A read never answered ends in PRIVD_ETIMEOUT,
 * and the BackupEnd after it is answered.
 */
static void
test_backup_read_retry(void **state)
{
	struct fake *f = *state;
	struct srv *s = srv_new(f, 3000);

	privd_set_timeout(f->c, 300);
	s->polls = 0;
	s->chunk = 1000;
	s->drop_read_at = 2;
	assert_int_equal(privd_backup(f->c, path, NULL, NULL, NULL), PRIVD_OK);
	assert_file(path, s->file, s->size);
	assert_int_equal(s->offsets[1], 1000);
	assert_int_equal(s->offsets[2], 1000);
	assert_int_equal(s->ends, 1);
	unlink(path);
	privd_set_timeout(f->c, PRIVD_DEFAULT_TIMEOUT_MS);
	srv_free(f, s);
}

static volatile sig_atomic_t got_signal;

static void
on_signal_test(int sig)
{
	got_signal = sig;
}

/*
 * privctl backup interrupted (SIGINT while privd copies): the backup
 * stops at the next poll, BackupEnd is sent, nothing is left behind, and
 * privctl then dies of the signal (here the test's handler takes it).
 */
static void
test_privctl_interrupt(void **state)
{
	struct fake *f = *state;
	struct srv *s = srv_new(f, 3000);
	struct sigaction sa, old;
	struct opts o = {0};
	char *args[] = {path};

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal_test;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old);
	got_signal = 0;
	s->polls = 1000;
	s->raise_at = 3;
	assert_int_equal(cmd_backup(&o, f->c, args, 1), 1);
	assert_int_equal(got_signal, SIGINT);
	assert_int_equal(s->reads, 3);
	assert_int_equal(s->ends, 1);
	assert_false(exists(path));
	assert_false(exists(part));
	sigaction(SIGINT, &old, NULL);
	srv_free(f, s);
}

/* privctl's sizes and progress line. */
static void
test_progress_line(void **state)
{
	char buf[160], b[32];

	(void)state;
	assert_string_equal(human_bytes(0, b), "0 B");
	assert_string_equal(human_bytes(1023, b), "1023 B");
	assert_string_equal(human_bytes(1536, b), "1.5 KiB");
	assert_string_equal(human_bytes(5 * MIB / 2, b), "2.5 MiB");
	assert_string_equal(
	    human_bytes((uint64_t)3 * 1024 * MIB, b), "3.0 GiB");

	/* before a second: no rate yet */
	progress_line(
	    buf, sizeof(buf), PRIVD_BACKUP_COPYING, MIB, 4 * MIB, 0.5);
	assert_string_equal(buf, "privd copies: 1.0 MiB of about 4.0 MiB");
	progress_line(buf, sizeof(buf), PRIVD_BACKUP_COPYING, MIB, 4 * MIB, 2);
	assert_string_equal(buf, "privd copies: 1.0 MiB of about 4.0 MiB, "
	                         "512.0 KiB/s, 6 s left");
	/* no estimate: no time left */
	progress_line(buf, sizeof(buf), PRIVD_BACKUP_COPYING, MIB, 0, 2);
	assert_string_equal(buf, "privd copies: 1.0 MiB, 512.0 KiB/s");
	/* an estimate passed: no time left */
	progress_line(
	    buf, sizeof(buf), PRIVD_BACKUP_COPYING, 5 * MIB, 4 * MIB, 5);
	assert_string_equal(buf, "privd copies: 5.0 MiB of about 4.0 MiB, "
	                         "1.0 MiB/s");
	progress_line(
	    buf, sizeof(buf), PRIVD_BACKUP_RECEIVING, 30 * MIB, 120 * MIB, 3);
	assert_string_equal(buf, "receiving: 30.0 MiB of 120.0 MiB (25%), "
	                         "10.0 MiB/s, 9 s left");
	progress_line(buf, sizeof(buf), PRIVD_BACKUP_RECEIVING, 120 * MIB,
	    120 * MIB, 600);
	assert_string_equal(buf, "receiving: 120.0 MiB of 120.0 MiB (100%), "
	                         "204.8 KiB/s");
	/* a long wait reads as minutes */
	progress_line(
	    buf, sizeof(buf), PRIVD_BACKUP_RECEIVING, MIB, 601 * MIB, 10);
	assert_string_equal(buf, "receiving: 1.0 MiB of 601.0 MiB (0%), "
	                         "102.4 KiB/s, 1 h 40 min left");
	/* a small buffer is cut, not overrun */
	progress_line(b, 12, PRIVD_BACKUP_RECEIVING, MIB, 4 * MIB, 2);
	assert_string_equal(b, "receiving: ");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_backup_ok, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_backup_small_chunks, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_backup_damaged, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_backup_truncated, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_backup_malformed, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_backup_failures, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_backup_read_retry, dir_setup, dir_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_interrupt, dir_setup, dir_teardown),
	    cmocka_unit_test(test_progress_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
