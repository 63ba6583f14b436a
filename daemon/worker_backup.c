/*
 * worker_backup.c - online backups and the erasure journal's export in the
 * worker (issue 10; README "Backup and restore"). The worker checks the
 * role and answers; a backup's copy runs in a thread of its own
 * (backup.c), never in the writer. Like every request, the answer leaves
 * once the writer has made its audit event durable.
 */
#include <errno.h>
#include <string.h>

#include "backup.h"
#include "log.h"
#include "substate.h"
#include "worker.h"

#define BACKUP_ROLES    (POL_ROLE_OPERATOR | POL_ROLE_POLICY_ADMIN)
#define BACKUP_ROLENAME "operator or policy_admin"
#define READ_MAX        (1024u * 1024) /* bytes in one BackupRead */
#define EXPORT_DEFAULT  1000
#define EXPORT_MAX      10000

/* The caller may make backups, and this privd can: the control, or NULL
 * (the job failed). */
static backup_ctl *
backups_of(worker *w, job *j)
{
	if (require_role(j, BACKUP_ROLES, BACKUP_ROLENAME) == NULL)
		return NULL;
	if (w->srv->backup == NULL) {
		job_fail(j, ST(UNAVAILABLE), 0, "this privd makes no backups");
		return NULL;
	}
	return w->srv->backup;
}

void
do_backup_start(worker *w, job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__BackupStartResponse bs =
	    PRIVD__V1__BACKUP_START_RESPONSE__INIT;
	uint8_t *id;
	backup_ctl *b;
	int rc;

	if ((b = backups_of(w, j)) == NULL)
		return;
	if ((id = arena_alloc(&j->ar, BACKUP_IDBYTES)) == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return;
	}
	if ((rc = backup_start(b, id)) == EBUSY) {
		job_fail(j, ST(CONFLICT), 0,
		    "a backup is under way: read it to its end and end it "
		    "(BackupEnd), or wait until it is abandoned");
		return;
	}
	if (rc == ENOSPC) {
		job_fail(j, ST(UNAVAILABLE), 0,
		    "not enough free space in privd's data directory for a "
		    "backup (about 1.25 times the store, and 256 MiB to "
		    "spare)");
		return;
	}
	if (rc != 0) {
		log_err("cannot start a backup: %s", strerror(rc));
		job_fail(j, ST(INTERNAL), 0, "cannot start a backup: %s",
		    strerror(rc));
		return;
	}
	bs.id.data = id;
	bs.id.len = BACKUP_IDBYTES;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_BACKUP_START;
	resp.backup_start = &bs;
	job_ok(j, &resp);
}

void
do_backup_read(worker *w, job *j)
{
	Privd__V1__BackupReadRequest *rq = j->req->backup_read;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__BackupReadResponse br =
	    PRIVD__V1__BACKUP_READ_RESPONSE__INIT;
	size_t len =
	    rq->length == 0 || rq->length > READ_MAX ? READ_MAX : rq->length;
	backup_view v;
	backup_ctl *b;
	uint8_t *buf;
	size_t n;
	int rc;

	if ((b = backups_of(w, j)) == NULL)
		return;
	if ((buf = arena_alloc(&j->ar, len)) == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return;
	}
	rc = backup_read(
	    b, rq->id.data, rq->id.len, rq->offset, buf, len, &n, &v);
	if (rc == ENOENT) {
		job_fail(j, ST(NOT_FOUND), 0,
		    "no backup under way has this id (ended, abandoned, or "
		    "made by a privd since restarted)");
		return;
	}
	if (rc == ERANGE) {
		job_fail(j, ST(INVALID), 0,
		    "offset %llu is past the backup's end (%llu bytes)",
		    (unsigned long long)rq->offset, (unsigned long long)v.size);
		return;
	}
	if (rc != 0) {
		log_err("backup: cannot read its file: %s", strerror(rc));
		job_fail(j, ST(INTERNAL), 0, "cannot read the backup's file");
		return;
	}
	if (v.phase == BACKUP_FAILED) {
		/* a full disk, or a database that went away (the copy
		 * failed; nothing is damaged): try again later */
		job_fail(j,
		    v.err == ENOSPC || v.err == EDQUOT || v.err == EFBIG ||
		            v.err == STORE_UNAVAILABLE ||
		            v.err == STORE_CONFLICT
		        ? ST(UNAVAILABLE)
		        : ST(INTERNAL),
		    0, "%s", v.msg);
		return;
	}
	br.ready = v.phase == BACKUP_READY;
	br.copied = v.copied;
	br.estimate = v.estimate;
	if (br.ready) {
		br.size = v.size;
		br.time_us = v.info.time_us;
		br.journal_head = v.info.journal_head;
		br.data.data = buf;
		br.data.len = n;
	}
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_BACKUP_READ;
	resp.backup_read = &br;
	job_ok(j, &resp);
}

void
do_backup_end(worker *w, job *j)
{
	Privd__V1__BackupEndRequest *rq = j->req->backup_end;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__BackupEndResponse be = PRIVD__V1__BACKUP_END_RESPONSE__INIT;
	backup_ctl *b;

	if ((b = backups_of(w, j)) == NULL)
		return;
	if (backup_end(b, rq->id.data, rq->id.len) != 0) {
		job_fail(j, ST(NOT_FOUND), 0,
		    "no backup under way has this id (ended, abandoned, or "
		    "made by a privd since restarted)");
		return;
	}
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_BACKUP_END;
	resp.backup_end = &be;
	job_ok(j, &resp);
}

static char *
arena_str(job *j, const char *s)
{
	size_t n = strlen(s);
	char *p;

	if ((p = arena_alloc(&j->ar, n + 1)) != NULL)
		memcpy(p, s, n + 1);
	return p;
}

/* One journal entry as an ErasureEntry in j's arena; NULL when out of
 * memory. */
static Privd__V1__ErasureEntry *
entry_msg(job *j, const journal_entry *je)
{
	Privd__V1__ErasureEntry *e;
	uint8_t *sid;
	size_t i;

	if ((e = arena_alloc(&j->ar, sizeof(*e))) == NULL ||
	    (sid = arena_alloc(&j->ar, CRYPTO_SUBJECT_IDBYTES)) == NULL)
		return NULL;
	privd__v1__erasure_entry__init(e);
	e->seq = je->seq;
	e->time_us = je->time_us;
	e->kind = (char *)journal_kind_name(je->kind);
	memcpy(sid, je->sid, CRYPTO_SUBJECT_IDBYTES);
	e->subject_hash.data = sid;
	e->subject_hash.len = CRYPTO_SUBJECT_IDBYTES;
	if ((e->register_ = arena_str(j, je->reg)) == NULL)
		return NULL;
	if (je->nfields > 0) {
		e->fields = arena_alloc(&j->ar, je->nfields * sizeof(char *));
		if (e->fields == NULL)
			return NULL;
		for (i = 0; i < je->nfields; i++)
			if ((e->fields[i] = arena_str(j, je->fields[i])) ==
			    NULL)
				return NULL;
		e->n_fields = je->nfields;
	}
	return e;
}

/*
 * The entries after `after`, oldest first. A record that does not decode
 * fails the export, naming its seq: a restore that skipped it would
 * bring back what it deleted.
 */
static int
export_entries(worker *w, job *j, uint64_t after, size_t limit,
    Privd__V1__ErasuresExportResponse *out, uint64_t *bad)
{
	store *st = w->srv->st;
	journal_entry *je;
	store_cur *c;
	store_val k, v;
	uint8_t kb[8];
	int rc;

	if ((rc = journal_head(st, w->rtxn, &out->head)) != 0)
		return rc;
	if (after >= out->head)
		return 0;
	if ((out->entries = arena_alloc(
	         &j->ar, limit * sizeof(*out->entries))) == NULL ||
	    (je = arena_alloc(&j->ar, sizeof(*je))) == NULL)
		return ENOMEM;
	if ((rc = store_cur_open(w->rtxn, STORE_ERASURES, &c)) != 0)
		return rc;
	store_be64(kb, after + 1);
	k.size = sizeof(kb);
	k.data = kb;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (out->n_entries == limit) {
			out->more = true;
			break;
		}
		if (journal_decode(&k, &v, je) != 0 ||
		    journal_kind_name(je->kind) == NULL) {
			*bad = k.size == 8 ? store_get_be64(k.data) : 0;
			rc = STORE_CORRUPTED;
			break;
		}
		if ((out->entries[out->n_entries] = entry_msg(j, je)) == NULL) {
			rc = ENOMEM;
			break;
		}
		out->n_entries++;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

void
do_erasures_export(worker *w, job *j)
{
	Privd__V1__ErasuresExportRequest *rq = j->req->erasures_export;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__ErasuresExportResponse ee =
	    PRIVD__V1__ERASURES_EXPORT_RESPONSE__INIT;
	size_t limit = rq->limit == 0 ? EXPORT_DEFAULT : rq->limit;
	uint64_t bad = 0;
	int rc;

	if (require_role(j, BACKUP_ROLES, BACKUP_ROLENAME) == NULL)
		return;
	if (rq->limit > EXPORT_MAX) {
		job_fail(j, ST(INVALID), 0, "limit must be 1..%d (0: %d)",
		    EXPORT_MAX, EXPORT_DEFAULT);
		return;
	}
	if ((rc = store_read_begin(w->srv->st, &w->rtxn)) != 0) {
		worker_store_fail(j, rc); /* a database gone: UNAVAILABLE */
		return;
	}
	rc = export_entries(w, j, rq->after, limit, &ee, &bad);
	if (rc == 0) {
		resp.payload_case =
		    PRIVD__V1__RESPONSE__PAYLOAD_ERASURES_EXPORT;
		resp.erasures_export = &ee;
		job_ok(j, &resp); /* packed while the transaction holds */
	} else if (rc == STORE_CORRUPTED) {
		log_err("erasure journal: record %llu is damaged",
		    (unsigned long long)bad);
		job_fail(j, ST(INTERNAL), 0,
		    "the erasure journal's record %llu is damaged; a restore "
		    "must not go without it",
		    (unsigned long long)bad);
	} else if (rc == STORE_UNAVAILABLE || rc == STORE_CONFLICT) {
		worker_store_fail(j, rc); /* retry later; nothing is damaged */
	} else {
		log_err("erasure journal export: %s", store_strerror(rc));
		job_fail(j, ST(INTERNAL), 0, "cannot read the erasure journal");
	}
	store_read_end(w->srv->st, w->rtxn);
}
