/*
 * writer.c - group commit.
 *
 * DESIGN: exactly one writer thread. It takes every job waiting in the commit
 * queue (up to SERVER_BATCH_MAX), applies all their changes in ONE LMDB write
 * transaction, commits (LMDB syncs to disk before mdb_txn_commit returns),
 * and only then hands the whole batch to the frontend to answer. So no reply
 * leaves privd before its request is durable, and a burst of N writes costs
 * one fsync, not N. The writer may touch: the jobs of its batch, the store
 * (the only write transactions in the process), the key set (read-only).
 *
 * Every job passes through here, answered ones (reads, denials, invalid
 * requests) included: their audit events are appended in the same
 * transaction (DESIGN.md section 5), which is why they wait for the commit.
 *
 * Between batches the writer also does the audit log's housekeeping, each
 * in its own short transaction: pruning (at start, then hourly, in bounded
 * chunks), signing the head of the chain when it has been unsigned for a
 * second, and a last checkpoint at shutdown. It may also grow the map.
 */
#include <string.h>

#include "audit.h"
#include "log.h"
#include "server.h"

#define ST(x)                PRIVD__V1__STATUS__##x
#define JOB_FAILED           1 /* apply: this job failed, the transaction is fine */
#define MAX_GROW_RETRIES     16
#define PRUNE_INTERVAL_S     3600
#define CKPT_MAX_UNSIGNED_US 1000000 /* sign the head within 1 s */

typedef struct writer {
	server *srv;
	uint8_t *dk;       /* sodium_malloc: a data key while resealing */
	audit_state audit; /* head of the audit chain as last committed */
} writer;

/*
 * The worker sealed the values under the subject key it saw. If the key
 * changed since (another put created the subject first, or a delete removed
 * it), seal them again under the key that will be stored: never store a
 * value under a key that is not the subject's, and never bring back the key
 * of a deleted subject.
 */
static int
put_reconcile_key(writer *wr, MDB_txn *txn, job *j, uint64_t now)
{
	server *srv = wr->srv;
	const char *subj = j->req->put->subject;
	store_subject cur;
	int rc;

	rc = store_subject_get(srv->st, txn, j->sid, &cur);
	if (rc == MDB_NOTFOUND) {
		if (!j->new_key) {
			randombytes_buf(wr->dk, CRYPTO_KEYBYTES);
			crypto_key_wrap(srv->keys, j->reg->name,
			    (const uint8_t *)subj, strlen(subj), wr->dk,
			    j->subject.wrapped);
			j->subject.created_us = now;
			j->new_key = true;
			if (put_seal(srv->keys, j, wr->dk, now) != 0)
				goto nomem;
		}
		return store_subject_put(srv->st, txn, j->sid, &j->subject);
	}
	if (rc != 0)
		return rc;
	if (memcmp(cur.wrapped, j->subject.wrapped, sizeof(cur.wrapped)) == 0)
		return 0;
	if (crypto_key_unwrap(srv->keys, j->reg->name, (const uint8_t *)subj,
	        strlen(subj), cur.wrapped, wr->dk) != 0) {
		log_err("register %s: a subject key record does not "
		        "authenticate",
		    j->reg->name);
		job_fail(j, ST(INTERNAL), 0,
		    "stored data failed an integrity check");
		return JOB_FAILED;
	}
	j->subject = cur;
	j->new_key = false;
	if (put_seal(srv->keys, j, wr->dk, now) != 0)
		goto nomem;
	return 0;
nomem:
	job_fail(j, ST(INTERNAL), 0, "out of memory");
	return JOB_FAILED;
}

static int
apply_put(writer *wr, MDB_txn *txn, job *j, uint64_t now)
{
	store *st = wr->srv->st;
	uint8_t key[STORE_VALUE_KEYMAX];
	store_value old;
	MDB_val k, v, cur;
	size_t i;
	int rc;

	rc = put_reconcile_key(wr, txn, j, now);
	sodium_memzero(wr->dk, CRYPTO_KEYBYTES);
	if (rc != 0)
		return rc;
	for (i = 0; i < j->nvalues; i++) {
		k.mv_size = store_value_key(key, j->sid, j->values[i].field);
		k.mv_data = key;
		/* "collected" is when the field was first stored */
		if (mdb_get(txn, st->values, &k, &cur) == 0 &&
		    store_value_decode(&cur, &old) == 0)
			store_be64(j->values[i].rec + 1, old.created_us);
		v.mv_size = j->values[i].reclen;
		v.mv_data = j->values[i].rec;
		if ((rc = mdb_put(txn, st->values, &k, &v, 0)) != 0)
			return rc;
	}
	j->count = (uint32_t)j->nvalues;
	j->status = ST(OK);
	return 0;
}

static int
apply_delete(writer *wr, MDB_txn *txn, job *j)
{
	Privd__V1__DeleteRequest *dr = j->req->delete_;
	store *st = wr->srv->st;
	uint8_t key[STORE_VALUE_KEYMAX];
	store_subject sub;
	unsigned n = 0;
	MDB_val k;
	size_t i;
	int rc;

	if (dr->n_fields == 0) {
		/* The wrapped key goes with the subject: crypto-shredding. */
		rc = store_subject_delete(st, txn, j->sid, &n);
	} else if ((rc = store_subject_get(st, txn, j->sid, &sub)) == 0) {
		for (i = 0; i < dr->n_fields; i++) {
			k.mv_size = store_value_key(key, j->sid, dr->fields[i]);
			k.mv_data = key;
			rc = mdb_del(txn, st->values, &k, NULL);
			if (rc == 0)
				n++;
			else if (rc != MDB_NOTFOUND)
				return rc;
		}
		rc = 0;
	}
	if (rc == MDB_NOTFOUND) {
		job_fail(j, ST(NOT_FOUND), 0, "no such subject");
		return JOB_FAILED;
	}
	if (rc != 0)
		return rc;
	j->count = n;
	j->status = ST(OK);
	return 0;
}

/*
 * Store a new policy version if the one it replaces is still in force. The
 * swap to the new snapshot happens only after the commit (commit_batch).
 */
static int
apply_policy(writer *wr, MDB_txn *txn, job *j, uint64_t now)
{
	Privd__V1__PolicyApplyRequest *pa = j->req->policy_apply;
	store *st = wr->srv->st;
	store_policy cur;
	int rc;

	if ((rc = store_policy_latest(st, txn, &cur)) != 0)
		return rc;
	if (cur.version != pa->replaces_version) {
		job_fail(j, ST(CONFLICT), 0,
		    "policy version %llu is in force, not %llu: "
		    "get it, merge, and apply again",
		    (unsigned long long)cur.version,
		    (unsigned long long)pa->replaces_version);
		return JOB_FAILED;
	}
	j->policy_version = cur.version + 1;
	if ((rc = store_policy_put(st, txn, j->policy_version, now,
	         j->principal, pa->policy_json, strlen(pa->policy_json))) != 0)
		return rc;
	j->status = ST(OK);
	return 0;
}

/* After a commit: make each new policy of the batch current, in order. */
static void
swap_policies(writer *wr, job *batch)
{
	snapshot *snap;
	job *j;

	for (j = batch; j != NULL; j = j->next) {
		if (j->kind != JOB_POLICY || j->status != ST(OK))
			continue;
		if ((snap = snapshot_new(j->newpol, j->policy_version)) ==
		    NULL) {
			/* stored but not in force until restart: say so */
			log_err("policy version %llu stored but could not be "
			        "swapped in (out of memory)",
			    (unsigned long long)j->policy_version);
			job_fail(j, ST(INTERNAL), 0,
			    "policy stored; restart privd to put it in force");
			continue;
		}
		j->newpol = NULL; /* the snapshot owns it now */
		snapshot_cell_swap(&wr->srv->policy, snap);
		log_info("policy version %llu applied by %s",
		    (unsigned long long)j->policy_version, j->principal);
	}
}

/* Pack the reply of a job that the writer finished. */
static void
pack_result(job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__PutResponse put = PRIVD__V1__PUT_RESPONSE__INIT;
	Privd__V1__DeleteResponse del = PRIVD__V1__DELETE_RESPONSE__INIT;
	Privd__V1__PolicyApplyResponse pol =
	    PRIVD__V1__POLICY_APPLY_RESPONSE__INIT;

	if (j->status != ST(OK)) {
		job_pack(j, NULL);
		return;
	}
	if (j->kind == JOB_PUT) {
		put.written = j->count;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_PUT;
		resp.put = &put;
	} else if (j->kind == JOB_POLICY) {
		pol.version = j->policy_version;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_POLICY_APPLY;
		resp.policy_apply = &pol;
	} else {
		del.deleted = j->count;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_DELETE;
		resp.delete_ = &del;
	}
	job_pack(j, &resp);
}

/* Run fn in one write transaction and commit; if the map is full, abort,
 * grow the map and run it again: clients see only a slower commit. */
static int
in_write_txn(writer *wr, int (*fn)(writer *, MDB_txn *, void *), void *arg)
{
	store *st = wr->srv->st;
	MDB_txn *txn;
	int rc, attempt;

	for (attempt = 0;; attempt++) {
		if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
			return rc;
		if ((rc = fn(wr, txn, arg)) == 0)
			rc = mdb_txn_commit(txn);
		else
			mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL && attempt < MAX_GROW_RETRIES &&
		    store_grow(st) == 0)
			continue;
		return rc;
	}
}

typedef struct batch_txn {
	job *batch;
	audit_state a; /* the chain's head as this attempt leaves it */
} batch_txn;

/*
 * One attempt at a batch: apply every change, append the audit event of
 * every job, sign a checkpoint when one is due. Starts again from the last
 * committed head each time, so a retried attempt leaves no trace of the
 * aborted one.
 */
static int
apply_batch(writer *wr, MDB_txn *txn, void *arg)
{
	batch_txn *bt = arg;
	store *st = wr->srv->st;
	uint64_t now = now_us();
	int rc = 0;
	job *j;

	bt->a = wr->audit;
	for (j = bt->batch; j != NULL && rc == 0; j = j->next) {
		if (j->kind == JOB_PUT)
			rc = apply_put(wr, txn, j, now);
		else if (j->kind == JOB_DELETE)
			rc = apply_delete(wr, txn, j);
		else if (j->kind == JOB_POLICY)
			rc = apply_policy(wr, txn, j, now);
		if (rc == JOB_FAILED) {
			j->kind = JOB_ANSWERED;
			rc = 0;
		}
		if (rc == 0)
			rc = audit_append(st, txn, &bt->a, j, now);
	}
	if (rc == 0 && bt->a.seq - bt->a.ckpt_seq >= wr->srv->cfg.ckpt_every)
		rc = audit_checkpoint(st, txn, &bt->a, wr->srv->sign_sk);
	return rc;
}

/*
 * Group commit: the whole batch in one write transaction, then the replies.
 * A failure fails every job of the batch with INTERNAL (none of their
 * changes or events happened), reads included: no answer without its
 * durable event.
 */
static void
commit_batch(writer *wr, job *batch)
{
	batch_txn bt = {.batch = batch};
	job *j;
	int rc;

	if ((rc = in_write_txn(wr, apply_batch, &bt)) != 0) {
		log_err(
		    "commit failed, batch not applied: %s", mdb_strerror(rc));
		for (j = batch; j != NULL; j = j->next)
			job_fail(j, ST(INTERNAL), 0,
			    "the request could not be recorded");
	} else {
		wr->audit = bt.a;
		swap_policies(wr, batch);
		for (j = batch; j != NULL; j = j->next)
			if (j->kind != JOB_ANSWERED)
				pack_result(j);
	}
	jobq_push(&wr->srv->replies, batch);
}

static int
checkpoint_now(writer *wr, MDB_txn *txn, void *arg)
{
	audit_state *a = arg;

	return audit_checkpoint(wr->srv->st, txn, a, wr->srv->sign_sk);
}

static int
prune_chunk(writer *wr, MDB_txn *txn, void *arg)
{
	bool *more = arg;
	snapshot *snap;
	uint64_t keep, now = now_us();
	size_t n;
	int rc;

	snap = snapshot_acquire(&wr->srv->policy);
	/* the policy bounds durations (POL_MAX_DURATION_S), so this cannot
	 * wrap; a retention beyond now prunes nothing */
	keep = (uint64_t)snap->pol->audit_retention_s * 1000000u;
	snapshot_release(&snap);
	if (keep >= now)
		return 0;
	rc = audit_prune(wr->srv->st, txn, now - keep, &n, more);
	if (rc == 0 && n > 0)
		log_info("audit: pruned %zu events older than the retention "
		         "period",
		    n);
	return rc;
}

/* Sign the head of the chain now, if it is not signed yet. */
static void
sign_head(writer *wr)
{
	audit_state a = wr->audit;
	int rc;

	if (a.seq <= a.ckpt_seq)
		return;
	if ((rc = in_write_txn(wr, checkpoint_now, &a)) == 0)
		wr->audit = a;
	else
		log_err("audit: checkpoint failed: %s", mdb_strerror(rc));
}

void *
writer_main(void *arg)
{
	writer wr = {.srv = arg};
	struct timespec now, deadline;
	MDB_txn *txn;
	bool closed = false, more = true;
	time_t next_prune = 0;
	uint64_t unsigned_since = 0, t;
	job *batch;
	int rc;

	if ((wr.dk = sodium_malloc(CRYPTO_KEYBYTES)) == NULL)
		fatal("writer: out of secure memory");
	if ((rc = mdb_txn_begin(wr.srv->st->env, NULL, MDB_RDONLY, &txn)) !=
	        0 ||
	    (rc = audit_load(wr.srv->st, txn, &wr.audit)) != 0)
		fatal("audit log: cannot read its head: %s", mdb_strerror(rc));
	mdb_txn_abort(txn);
	log_info("audit log at event %llu", (unsigned long long)wr.audit.seq);
	for (;;) {
		/* Pruning runs in bounded chunks between batches: at start,
		 * then hourly. */
		clock_gettime(CLOCK_REALTIME, &now);
		if (now.tv_sec >= next_prune || more) {
			more = false;
			if ((rc = in_write_txn(&wr, prune_chunk, &more)) != 0) {
				log_err("audit: pruning failed: %s",
				    mdb_strerror(rc));
				more = false;
			}
			if (!more)
				next_prune = now.tv_sec + PRUNE_INTERVAL_S;
		}
		/* No event stays unsigned for longer than CKPT_MAX_UNSIGNED_US,
		 * busy or idle: a checkpoint every N events alone would leave
		 * a quiet log's newest events open to an undetected rewrite. */
		t = now_us();
		if (unsigned_since != 0 &&
		    t - unsigned_since >= CKPT_MAX_UNSIGNED_US) {
			sign_head(&wr);
			unsigned_since = 0;
		}
		deadline = now;
		if (more) {
			/* go on pruning right after the next batch */
		} else if (unsigned_since != 0) {
			t = unsigned_since + CKPT_MAX_UNSIGNED_US;
			deadline.tv_sec = (time_t)(t / 1000000u);
			deadline.tv_nsec = (long)(t % 1000000u) * 1000;
		} else {
			deadline.tv_sec = next_prune;
			deadline.tv_nsec = 0;
		}
		batch = jobq_take_until(
		    &wr.srv->commit, SERVER_BATCH_MAX, &deadline, &closed);
		if (batch != NULL) {
			commit_batch(&wr, batch);
			if (wr.audit.seq == wr.audit.ckpt_seq)
				unsigned_since = 0;
			else if (unsigned_since == 0)
				unsigned_since = now_us();
		} else if (closed) {
			break;
		}
	}
	/* Sign the head at shutdown, so the last events are covered. */
	sign_head(&wr);
	sodium_free(wr.dk);
	return NULL;
}
