/*
 * writer.c - group commit.
 *
 * DESIGN: exactly one writer thread. It takes every job waiting in the commit
 * queue (up to SERVER_BATCH_MAX), applies all their changes in ONE LMDB write
 * transaction, commits, and hands the whole batch to the frontend to
 * answer once the commit is on disk: at once, or, when another batch was
 * waiting, after that batch's commit has flushed this one's meta page too
 * (meta_sync, below). So no reply leaves privd before its request is
 * durable, and a burst of N writes costs one commit, not N. The writer may
 * touch: the jobs of its batch, the store (the only write transactions in
 * the process), the key set (read-only).
 *
 * Every job passes through here, answered ones (reads, denials, invalid
 * requests) included: their audit events are appended in the same
 * transaction (DESIGN.md section 5), which is why they wait for the commit.
 * If that transaction cannot commit (a full disk, an I/O error), nothing of
 * the batch happened: every job is answered UNAVAILABLE (disk full) or
 * INTERNAL, and those outcomes are recorded first in a second transaction
 * that holds only their events. If even that fails, the batch is not
 * answered at all (clients time out): no reply without its event. On a
 * database store, a batch whose commit fails because the server went
 * away or failed over (STORE_UNAVAILABLE) is answered UNAVAILABLE, never
 * OK (the commit may have landed: the reply says so), its events written
 * from the chain's head read again from the store, on the new primary;
 * a lost serialisation race (STORE_CONFLICT) is retried.
 *
 * The changes each kind of job makes are in writer_apply.c (retention's in
 * writer_retention.c).
 *
 * Between batches the writer also does the audit log's housekeeping, each
 * in its own short transaction: writing the audit index behind the log
 * (every AUDIT_IX_FLUSH_EVENTS events, at most a second late: audit_index.h),
 * pruning (at start, then hourly, in bounded chunks, unless a clock jump
 * paused it: audit_retain.h), signing the head of the chain when it has
 * been unsigned for a second, and a last index run and checkpoint at
 * shutdown. It watches the wall clock against the monotonic one, which
 * times every wait. It may also grow the map. And it runs retention
 * between batches, one bounded step at a time: the sweeps and the
 * re-planning after a policy change (writer_sweep.c).
 *
 * On a store shared by several privd nodes (PostgreSQL), every write
 * transaction first re-reads what this writer caches if another node
 * committed since (writer_nodes_sync), and between batches the writer
 * takes other nodes' policy versions (writer_nodes_tick): writer_nodes.c.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "audit_follow.h"
#include "audit_index.h"
#include "audit_retain.h"
#include "blind.h"
#include "clock.h"
#include "log.h"
#include "server.h"
#include "sweep.h"
#include "writer_internal.h"
#include "writer_nodes.h"

#define ST(x)                PRIVD__V1__STATUS__##x
#define MAX_GROW_RETRIES     16
#define MAX_CONFLICT_RETRIES 8
/* apply_batch's "a change went past its deadline during this attempt:
 * run it again" (each restart expires at least one more change, so it
 * ends: a bound only against a clock stepping back and forth), counted
 * apart from the database's serialisation races */
#define BATCH_LATE       (-30720) /* writer.c's own, outside store_kv.h's */
#define MAX_LATE_RETRIES 64
/* a failed batch's events after the database went away: tries, and the
 * first wait (doubled each time: 0.25 + 0.5 + 1 s, a failover's time) */
#define UNAVAIL_TRIES        4
#define UNAVAIL_WAIT_MS      250
#define PRUNE_INTERVAL_US    (3600ULL * 1000000)
#define CKPT_MAX_UNSIGNED_US 1000000 /* sign the head within 1 s */

/*
 * Run fn in one write transaction and commit; if the map is full, abort,
 * grow the map and run it again: clients see only a slower commit. A
 * transaction that lost a serialisation race (STORE_CONFLICT, a database
 * backend) is run again too, a bounded number of times: fn starts from
 * what the writer last committed each time. STORE_UNAVAILABLE (the
 * database went away or failed over) is returned at once: the next
 * transaction's begin connects again (store_pg.c) and finds the new
 * primary. Neither is damage: nothing here stops privd for them.
 */
static int apply_batch(writer *wr, store_txn *txn, void *arg);

int
writer_in_write_txn(
    writer *wr, int (*fn)(writer *, store_txn *, void *), void *arg)
{
	store *st = wr->srv->st;
	store_txn *txn;
	int rc, attempt, conflicts = 0, late = 0;

	for (attempt = 0;; attempt++) {
		if ((rc = store_txn_begin(st, 0, &txn)) != 0)
			return rc;
		/* a batch's reads ride on the begin's round trip (a hint;
		 * apply_batch's arg begins with the batch) */
		if (fn == apply_batch)
			(void)writer_prefetch(wr, txn, *(job **)arg);
		/* another node's commits first (writer_nodes.c) */
		if ((rc = writer_nodes_sync(wr, txn)) == 0 &&
		    (rc = fn(wr, txn, arg)) == 0)
			rc = store_txn_commit(txn);
		else
			store_txn_abort(txn);
		if (rc == STORE_MAP_FULL && attempt < MAX_GROW_RETRIES &&
		    store_grow(st) == 0)
			continue;
		if (rc == STORE_CONFLICT && ++conflicts <= MAX_CONFLICT_RETRIES)
			continue;
		if (rc == BATCH_LATE) {
			if (++late <= MAX_LATE_RETRIES)
				continue;
			rc = STORE_CONFLICT; /* as a race lost too often */
		}
		return rc;
	}
}

typedef struct batch_txn {
	job *batch;
	audit_state a; /* the chain's head as this attempt leaves it */
} batch_txn;
_Static_assert(offsetof(batch_txn, batch) == 0, "writer_in_write_txn");

/* Append the events of the batch's jobs (but the follow polls already
 * covered) and sign a checkpoint when one is due. */
static int
append_events(writer *wr, store_txn *txn, batch_txn *bt, uint64_t now)
{
	job *j;
	int rc;

	for (j = bt->batch; j != NULL; j = j->next)
		if (!j->no_event &&
		    (rc = audit_append(wr->srv->st, txn, &bt->a, j, now)) != 0)
			return rc;
	if (bt->a.seq - bt->a.ckpt_seq >= wr->srv->cfg.ckpt_every)
		return audit_checkpoint(
		    wr->srv->st, txn, &bt->a, wr->srv->sign_sk);
	return 0;
}

/* Is a change of the batch (a job still to be carried out) past its
 * deadline? */
static bool
batch_late(const job *batch)
{
	const job *j;

	for (j = batch; j != NULL; j = j->next)
		if (j->kind != JOB_ANSWERED && job_late(j))
			return true;
	return false;
}

/*
 * One attempt at a batch: apply every change, append the audit event of
 * every job, sign a checkpoint when one is due. Starts again from the last
 * committed head each time, so a retried attempt leaves no trace of the
 * aborted one.
 *
 * Deadlines (proto: Request.deadline_ms): a change whose deadline has
 * passed is not applied but answered EXPIRED, with its event, in this
 * same transaction. Its client has stopped waiting and was told the
 * change is in doubt; it may have done it again elsewhere since, and a
 * node that hung (SIGSTOP, a stall, a partition) and woke up must not
 * write the old change over the new one. The check is made once the
 * transaction has begun (on PostgreSQL: after the writers' lock), and
 * made again once everything is applied: a change whose deadline passed
 * meanwhile (round trips, a stall) makes the attempt start over, which
 * expires it. What remains is the commit itself: one begun before the
 * deadline may land after it.
 */
static int
apply_batch(writer *wr, store_txn *txn, void *arg)
{
	batch_txn *bt = arg;
	uint64_t now = clock_wall_us();
	int rc = 0;
	job *j;

	bt->a = wr->audit;
	for (j = bt->batch; j != NULL; j = j->next)
		if (j->kind != JOB_ANSWERED)
			(void)job_expired(j);
	for (j = bt->batch; j != NULL && rc == 0; j = j->next) {
		rc = writer_apply(wr, txn, j, now);
		if (rc == JOB_FAILED) {
			j->kind = JOB_ANSWERED;
			rc = 0;
		}
		/* the other nodes load a new version at this commit */
		if (rc == 0 && j->kind == JOB_POLICY && j->status == ST(OK) &&
		    !j->policy_same)
			rc = writer_nodes_policy_stored(txn, j->policy_version);
	}
	if (rc == 0 && (rc = append_events(wr, txn, bt, now)) == 0 &&
	    batch_late(bt->batch))
		/* run the attempt again (writer_in_write_txn): its first
		 * loop above expires the late change */
		rc = BATCH_LATE;
	return rc;
}

/* The second transaction of a failed batch: only its events. */
static int
apply_events_only(writer *wr, store_txn *txn, void *arg)
{
	batch_txn *bt = arg;

	bt->a = wr->audit;
	return append_events(wr, txn, bt, clock_wall_us());
}

/*
 * The events of a batch whose commit failed because the database went
 * away (STORE_UNAVAILABLE). That commit may have landed before the
 * connection broke, so the chain's head is read again from the store in
 * the same transaction rather than taken from memory; and the database
 * may need a moment to fail over, so this is tried a few times, waiting
 * between tries (the writer has nothing else it could do meanwhile).
 */
static int
reload_events_only(writer *wr, store_txn *txn, void *arg)
{
	audit_state a;
	int rc;

	if ((rc = audit_load(wr->srv->st, txn, &a)) != 0)
		return rc;
	if (a.seq != wr->audit.seq)
		log_warn("the audit log's head moved during the database's "
		         "failure: the failed commit may have landed; "
		         "continuing from the store's head");
	wr->audit = a;
	return apply_events_only(wr, txn, arg);
}

static int
events_after_unavailable(writer *wr, batch_txn *bt)
{
	struct timespec ts;
	int rc, i, wait_ms = UNAVAIL_WAIT_MS;

	for (i = 0;; i++) {
		rc = writer_in_write_txn(wr, reload_events_only, bt);
		if (rc != STORE_UNAVAILABLE || i + 1 >= UNAVAIL_TRIES)
			return rc;
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
		nanosleep(&ts, NULL);
		wait_ms *= 2;
	}
}

/*
 * A batch that could not commit: nothing of it happened. Each job is
 * answered with what happened to it - UNAVAILABLE when the disk is full
 * (the client may retry later), INTERNAL otherwise - and those outcomes
 * are recorded first, in a transaction of their events alone (small enough
 * to fit in pages LMDB has freed, even on a full disk). If that fails too,
 * no job is answered.
 */
static int
batch_failed(writer *wr, job *batch, int rc)
{
	static log_limit failed_lim, unrecorded_lim;
	batch_txn bt = {.batch = batch};
	bool full = store_disk_full(wr->srv->st, rc);
	bool gone = rc == STORE_UNAVAILABLE || rc == STORE_CONFLICT;
	job *j;

	/* LMDB reports a write cut short by a full disk as EIO: say what
	 * it is, not what the errno says */
	if (full && !wr->disk_full)
		log_err("the store's disk is full: requests are answered "
		        "UNAVAILABLE until there is room again");
	else if (gone)
		log_limited(&failed_lim, LOG_ERR,
		    "commit failed (%s): the batch is answered UNAVAILABLE",
		    store_strerror(rc));
	else if (!full)
		log_limited(&failed_lim, LOG_ERR,
		    "commit failed, batch not applied: %s", store_strerror(rc));
	wr->disk_full = wr->disk_full || full;
	for (j = batch; j != NULL; j = j->next) {
		if (j->req != NULL &&
		    j->req->op_case == PRIVD__V1__REQUEST__OP_GET) {
			j->ev.fields = NULL; /* nothing was disclosed */
			j->ev.n_fields = 0;
		}
		snapshot_release(&j->newsnap);
		j->no_event =
		    false; /* a failed poll gets an event of its own */
		if (full)
			job_fail(j, ST(UNAVAILABLE), 0,
			    "the store's disk is full; retry later");
		else if (gone)
			/* a commit cut off may still have landed: no
			 * promise either way, and never an OK */
			job_fail(j, ST(UNAVAILABLE), 0,
			    "the store's database is unavailable (a "
			    "failover?); a change may or may not have been "
			    "applied: read back before repeating it");
		else
			job_fail(j, ST(INTERNAL), 0,
			    "the request could not be carried out");
	}
	rc = rc == STORE_UNAVAILABLE
	         ? events_after_unavailable(wr, &bt)
	         : writer_in_write_txn(wr, apply_events_only, &bt);
	if (rc == 0) {
		wr->audit = bt.a;
		return 0;
	}
	log_limited(&unrecorded_lim, LOG_ERR,
	    "cannot record the failed requests either (%s): they are not "
	    "answered",
	    wr->disk_full ? "the disk is full" : store_strerror(rc));
	for (j = batch; j != NULL; j = j->next)
		job_drop_reply(j);
	return -1;
}

/* Did the batch change data (a put, delete or policy that committed)? */
static bool
batch_wrote(const job *batch)
{
	const job *j;

	for (j = batch; j != NULL; j = j->next)
		if ((j->kind == JOB_PUT || j->kind == JOB_DELETE ||
		        (j->kind == JOB_POLICY && !j->policy_same)) &&
		    j->status == ST(OK))
			return true;
	return false;
}

/*
 * One flush per commit (DESIGN, issue 8). LMDB's durable commit flushes
 * the data file (fdatasync) and then writes its meta page through a
 * synchronous descriptor: two device flushes. When another batch is already
 * waiting as a batch commits, the writer commits it with MDB_NOMETASYNC
 * (store_set_meta_sync) instead: one flush, and its meta page reaches the disk
 * with the next commit's data flush, which follows at once. The batch's replies
 * are held until then (or until writer_held_flush(), if no commit follows after
 * all); nothing is answered before it is durable, and under load every commit
 * costs one flush instead of two. A batch with nothing behind it commits
 * the usual way and is answered at once: holding it would only add a flush
 * to its latency. A crash before the covering flush loses at most a commit
 * nobody was answered for: LMDB then opens at the meta page before it.
 */
void
writer_meta_sync(writer *wr, bool off)
{
	if (off == wr->metasync_off)
		return;
	/* between transactions: LMDB reads the flag at commit; a backend
	 * whose every commit is durable says ENOTSUP, and nothing is held */
	if (store_set_meta_sync(wr->srv->st, !off) == 0)
		wr->metasync_off = off;
}

void
writer_held_flush(writer *wr)
{
	static log_limit lim;
	job *j;
	int rc;

	if (wr->held == NULL)
		return;
	if ((rc = store_sync(wr->srv->st)) != 0) {
		/* durable or not, it cannot be said: say nothing */
		log_limited(&lim, LOG_ERR,
		    "cannot flush the store (%s): the last batch is not "
		    "answered",
		    store_strerror(rc));
		for (j = wr->held; j != NULL; j = j->next)
			job_drop_reply(j);
	}
	jobq_push(&wr->srv->replies, wr->held);
	wr->held = NULL;
}

/* Collect the index entries of the events a commit appended. */
static void
index_collect(writer *wr, job *batch, uint64_t mono)
{
	job *j;

	for (j = batch; j != NULL; j = j->next)
		if (!j->no_event && j->ev.seq != 0)
			audit_ix_add(&wr->ix, j->ev.seq, j->ev.principal,
			    j->ev.subject.len == CRYPTO_PSEUDONYMBYTES
			        ? j->ev.subject.data
			        : NULL,
			    mono);
}

typedef struct ix_flush_arg {
	uint64_t upto;
} ix_flush_arg;

static int
ix_flush_txn(writer *wr, store_txn *txn, void *arg)
{
	ix_flush_arg *fa = arg;

	return audit_ix_flush(
	    wr->srv->st, txn, &wr->ix, AUDIT_IX_FLUSH_EVENTS * 4, &fa->upto);
}

/* Write the pending index entries as a run (audit_index.h). */
static void
index_flush(writer *wr)
{
	static log_limit lim;
	ix_flush_arg fa = {0};
	int rc;

	if (audit_ix_pending(&wr->ix) == 0)
		return;
	if ((rc = writer_in_write_txn(wr, ix_flush_txn, &fa)) != 0) {
		/* queries read the log past the mark: still exact */
		log_limited(&lim, LOG_ERR,
		    "audit: cannot write the index (%s); queries read the "
		    "log instead",
		    store_strerror(rc));
		wr->ix.since_us = clock_mono_us();
		return;
	}
	audit_ix_flushed(&wr->ix, fa.upto);
}

/*
 * Group commit: the whole batch in one write transaction, then the replies,
 * once the commit is on disk (held_flush).
 */
void
writer_commit_batch(writer *wr, job *batch)
{
	batch_txn bt = {.batch = batch};
	uint64_t mono = clock_mono_us();
	job *j;
	int rc;

	follow_decide(&wr->follow, batch, mono);
	writer_meta_sync(wr, jobq_waiting(&wr->srv->commit) > 0);
	if ((rc = writer_in_write_txn(wr, apply_batch, &bt)) != 0) {
		if (batch_failed(wr, batch, rc) != 0) {
			/* nothing was committed: the batch goes back
			 * unanswered, and the one held must be flushed on its
			 * own */
			writer_held_flush(wr);
			jobq_push(&wr->srv->replies, batch);
			return;
		}
	} else {
		wr->audit = bt.a;
		follow_remember(&wr->follow, batch, mono);
		writer_after_commit(wr, batch);
		for (j = batch; j != NULL; j = j->next)
			if (j->kind != JOB_ANSWERED)
				writer_pack_result(j);
		/* a batch of reads may fit in freed pages: writes that
		 * commit again end the episode */
		if (wr->disk_full && batch_wrote(batch)) {
			log_info("the store's disk has room again: serving "
			         "normally");
			wr->disk_full = false;
		}
	}
	index_collect(wr, batch, mono);
	/* this commit flushed the data file, and with it the meta page of
	 * the commit before: that batch is durable; this one is too, unless
	 * its own meta page was left for the next commit to flush */
	if (wr->held != NULL)
		jobq_push(&wr->srv->replies, wr->held);
	wr->held = NULL;
	if (wr->metasync_off)
		wr->held = batch;
	else
		jobq_push(&wr->srv->replies, batch);
	if (audit_ix_pending(&wr->ix) >= AUDIT_IX_FLUSH_EVENTS)
		index_flush(wr);
}

static int
checkpoint_now(writer *wr, store_txn *txn, void *arg)
{
	audit_state *a = arg;

	/* the head as this transaction reads it (another node may have
	 * appended, or signed it already) */
	*a = wr->audit;
	if (a->seq <= a->ckpt_seq)
		return 0;
	return audit_checkpoint(wr->srv->st, txn, a, wr->srv->sign_sk);
}

static int
prune_chunk(writer *wr, store_txn *txn, void *arg)
{
	snapshot *snap = snapshot_acquire(&wr->srv->policy);
	int rc;

	rc = retain_prune(wr->srv->st, txn, &wr->keep,
	    snap->pol->audit_retention_s, clock_wall_us(), arg);
	snapshot_release(&snap);
	return rc;
}

/* Sign the head of the chain now, if it is not signed yet. */
static void
sign_head(writer *wr)
{
	static log_limit lim;
	audit_state a = wr->audit;
	int rc;

	if (a.seq <= a.ckpt_seq)
		return;
	if ((rc = writer_in_write_txn(wr, checkpoint_now, &a)) == 0)
		wr->audit = a;
	else
		log_limited(&lim, LOG_ERR, "audit: checkpoint failed: %s",
		    store_strerror(rc));
}

typedef struct hold_arg {
	uint64_t at_us, jump_s;
} hold_arg;

static int
hold_put(writer *wr, store_txn *txn, void *arg)
{
	hold_arg *h = arg;

	return retain_hold_put(wr->srv->st, txn, h->at_us, h->jump_s);
}

/*
 * Pause pruning after a forward jump of the wall clock: a wrong clock must
 * not erase evidence. Kept in the store so that a restart keeps it; lifted
 * only by an admin (audit_prune with confirm).
 */
static void
prune_pause(writer *wr, uint64_t jump_s, const char *when)
{
	hold_arg h = {clock_wall_us(), jump_s};
	int rc;

	log_warn("the wall clock jumped forward by %llu s (%s): audit pruning "
	         "is paused until an admin confirms the clock "
	         "(privctl audit prune --confirm)",
	    (unsigned long long)jump_s, when);
	if (wr->keep.hold_at_us != 0)
		return; /* paused already: keep the first jump's record */
	if ((rc = writer_in_write_txn(wr, hold_put, &h)) != 0)
		log_err("audit: cannot record the pruning pause (%s); pruning "
		        "stays paused while privd runs",
		    store_strerror(rc));
	wr->keep.hold_at_us = h.at_us;
	wr->keep.hold_jump_s = jump_s;
}

/* Housekeeping between batches: the clock watch, pruning (bounded chunks
 * at start, then hourly) and the 1-second checkpoint. *more is set while
 * pruning has more to do. */
static void
housekeeping(writer *wr, uint64_t *unsigned_since, bool *more)
{
	uint64_t mono = clock_mono_us(), jump;
	int rc;

	log_limit_flush();
	if ((jump = retain_clock_watch(
	         &wr->keep, clock_wall_us(), clock_boot_us())) != 0)
		prune_pause(wr, jump, "while running");
	if (wr->keep.hold_at_us == 0 && (mono >= wr->next_prune || *more)) {
		*more = false;
		if ((rc = writer_in_write_txn(wr, prune_chunk, more)) != 0) {
			log_err(
			    "audit: pruning failed: %s", store_strerror(rc));
			*more = false;
		}
		if (!*more)
			wr->next_prune = mono + PRUNE_INTERVAL_US;
	}
	if (audit_ix_pending(&wr->ix) > 0 &&
	    clock_mono_us() - wr->ix.since_us >= AUDIT_IX_IDLE_US)
		index_flush(wr);
	/* No event stays unsigned for longer than CKPT_MAX_UNSIGNED_US, busy
	 * or idle: a checkpoint every N events alone would leave a quiet
	 * log's newest events open to an undetected rewrite. */
	if (*unsigned_since != 0 &&
	    clock_mono_us() - *unsigned_since >= CKPT_MAX_UNSIGNED_US) {
		sign_head(wr);
		*unsigned_since = 0;
	}
}

writer *
writer_new(server *srv)
{
	store_txn *txn = NULL;
	uint64_t marked = 0;
	writer *wr;
	int rc;

	if ((wr = calloc(1, sizeof(*wr))) == NULL)
		return NULL;
	wr->srv = srv;
	if ((wr->dk = sodium_malloc(CRYPTO_KEYBYTES)) == NULL) {
		free(wr);
		return NULL;
	}
	if ((rc = store_txn_begin(srv->st, STORE_RDONLY, &txn)) != 0 ||
	    (rc = audit_load(srv->st, txn, &wr->audit)) != 0 ||
	    (rc = audit_ix_load(srv->st, txn, &wr->ix)) != 0 ||
	    (rc = retain_load(srv->st, txn, &wr->keep)) != 0 ||
	    (rc = store_meta_get_u64(
	         srv->st, txn, "retention_records", 0, &marked)) != 0) {
		log_err(
		    "audit log: cannot read its head: %s", store_strerror(rc));
		if (txn != NULL)
			store_txn_abort(txn);
		writer_free(&wr);
		return NULL;
	}
	store_txn_abort(txn);
	if ((rc = writer_nodes_start(wr)) != 0) {
		log_err("cannot listen for other privd nodes: %s",
		    store_strerror(rc));
		writer_free(&wr);
		return NULL;
	}
	wr->legacy_subjects = marked == 0;
	/* an index left incomplete (an upgrade, a policy change) is built
	 * on between batches (writer_blind_work) */
	wr->blind_filling = true;
	return wr;
}

void
writer_free(writer **wp)
{
	writer *wr;

	if (wp == NULL || (wr = *wp) == NULL)
		return;
	writer_held_flush(wr);
	/* the last commit's meta page, whoever waits for it */
	store_sync(wr->srv->st);
	writer_meta_sync(wr, false);
	writer_nodes_stop(wr);
	audit_ix_release(&wr->ix);
	sodium_free(wr->dk);
	free(wr);
	*wp = NULL;
}

/*
 * Take a batch's RetentionRun jobs aside for their sweeps, but those past
 * their deadline, which are answered EXPIRED with the rest of the batch
 * instead. A sweep taken in time runs however long it waits behind
 * another: what it does, retention due by the policy, is the same run
 * later (by the timer's sweep too).
 */
static job *
sweep_take(writer *wr, job *batch)
{
	job *j;

	for (j = batch; j != NULL; j = j->next)
		if (j->kind == JOB_SWEEP)
			(void)job_expired(j);
	return writer_sweep_take(wr, batch);
}

void
writer_commit(writer *wr, job *batch)
{
	uint64_t unsigned_since = 0;

	if ((batch = sweep_take(wr, batch)) != NULL)
		writer_commit_batch(wr, batch);
	while (wr->sweep_queue != NULL || wr->sw != NULL)
		(void)writer_sweep_work(wr, &unsigned_since);
	writer_held_flush(wr);
}

void *
writer_main(void *arg)
{
	struct timespec deadline;
	bool closed = false, more = true, sweeping = false;
	uint64_t unsigned_since = 0, t, tick;
	writer *wr;
	job *batch;

	wr = ((server *)arg)->writer;
	((server *)arg)->writer = NULL;
	if (wr == NULL && (wr = writer_new(arg)) == NULL)
		fatal("writer: cannot start (out of memory, or the audit log's "
		      "head cannot be read)");
	log_info("audit log at event %llu", (unsigned long long)wr->audit.seq);
	if (wr->keep.hold_at_us != 0)
		log_warn(
		    "audit pruning is paused since a clock jump of %llu s; "
		    "an admin lifts the pause with privctl audit prune "
		    "--confirm",
		    (unsigned long long)wr->keep.hold_jump_s);
	if (wr->srv->start_jump_s != 0)
		prune_pause(
		    wr, wr->srv->start_jump_s, "since the newest event");
	wr->next_sweep = clock_mono_us();
	wr->replan_more = true; /* a list left by the last run */
	for (;;) {
		/* a backup about to copy asks for room first (store.h) */
		store_grow_wanted(wr->srv->st);
		housekeeping(wr, &unsigned_since, &more);
		/* other nodes' policy versions (writer_nodes.c) */
		tick = writer_nodes_tick(wr);
		sweeping = writer_sweep_work(wr, &unsigned_since);
		sweeping = writer_replan_work(wr) || sweeping;
		sweeping = writer_blind_work(wr) || sweeping;
		if (more || sweeping) {
			/* go on pruning right after the next batch */
			t = clock_mono_us();
		} else if (unsigned_since != 0) {
			t = unsigned_since + CKPT_MAX_UNSIGNED_US;
		} else {
			t = wr->keep.hold_at_us == 0
			        ? wr->next_prune
			        : clock_mono_us() + PRUNE_INTERVAL_US;
			/* wake now and then to watch the wall clock */
			if (t > clock_mono_us() + 60ULL * 1000000)
				t = clock_mono_us() + 60ULL * 1000000;
			if (wr->srv->cfg.retention_interval_s != 0 &&
			    t > wr->next_sweep)
				t = wr->next_sweep;
		}
		if (audit_ix_pending(&wr->ix) > 0 &&
		    t > wr->ix.since_us + AUDIT_IX_IDLE_US)
			t = wr->ix.since_us + AUDIT_IX_IDLE_US;
		if (t > tick)
			t = tick;
		if (wr->held != NULL)
			t = 0; /* the next batch now, or flush the held one */
		deadline = clock_mono_ts(t);
		batch = jobq_take_until(
		    &wr->srv->commit, SERVER_BATCH_MAX, &deadline, &closed);
		if (batch == NULL && wr->held != NULL) {
			writer_held_flush(wr);
			continue;
		}
		if (batch != NULL)
			batch = sweep_take(wr, batch);
		if (batch != NULL) {
			writer_commit_batch(wr, batch);
			if (wr->audit.seq == wr->audit.ckpt_seq)
				unsigned_since = 0;
			else if (unsigned_since == 0)
				unsigned_since = clock_mono_us();
		} else if (closed) {
			break;
		}
	}
	writer_sweep_abandon(wr);
	/* Index and sign the head at shutdown, so the last events are
	 * covered. */
	index_flush(wr);
	sign_head(wr);
	writer_free(&wr);
	return NULL;
}
