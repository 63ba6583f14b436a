/*
 * writer_sweep.c - retention in the writer thread, between batches: the
 * sweeps (a RetentionRun's, in the order they came, or the timer's), one
 * bounded step in its own transaction at a time, and the re-planning of
 * stored data after a policy change (sweep.h, replan.h). The group commit
 * around them is writer.c.
 */
#include <stdlib.h>
#include <string.h>

#include "blind.h"
#include "clock.h"
#include "log.h"
#include "sweep.h"
#include "writer_internal.h"
#include "writer_nodes.h"

#define ST(x) PRIVD__V1__STATUS__##x

/*
 * Requests first: while a batch waits, retention work waits too, but not
 * longer than SWEEP_YIELD_US since its last step, so that it still moves
 * on under a load that never lets up. A step then costs a waiting request
 * at most one step's time (SWEEP_STEP_US, and the step's commit).
 */
#define SWEEP_YIELD_US 20000

static bool
writer_yield(writer *wr)
{
	uint64_t now = clock_mono_us();

	if (jobq_waiting(&wr->srv->commit) > 0 &&
	    now - wr->last_step_us < SWEEP_YIELD_US)
		return true;
	wr->last_step_us = now;
	return false;
}

/* One step of the sweep under way, in its own transaction, with the
 * policy in force now. */
static int
sweep_txn(writer *wr, store_txn *txn, void *arg)
{
	snapshot *snap = snapshot_acquire(&wr->srv->policy);
	sweep_env e = {wr->srv->st, wr->srv->keys, snap->pol, snap->version,
	    wr->dk,
	    clock_mono_us() + store_step_us(wr->srv->st, SWEEP_STEP_US)};
	audit_state *a = arg;
	int rc;

	*a = wr->audit;
	rc = sweep_step(&e, txn, wr->sw, a, clock_wall_us());
	if (rc == 0 && a->seq - a->ckpt_seq >= wr->srv->cfg.ckpt_every)
		rc = audit_checkpoint(wr->srv->st, txn, a, wr->srv->sign_sk);
	snapshot_release(&snap);
	return rc;
}

/* Start the next sweep: a RetentionRun's, in the order they came, or the
 * timer's. */
static void
sweep_start(writer *wr, uint64_t mono)
{
	Privd__V1__RetentionRunRequest *rq;
	job *j = wr->sweep_queue;

	if (j != NULL) {
		wr->sweep_queue = j->next;
		j->next = NULL;
		rq = j->req->retention_run;
		wr->sw = sweep_new(clock_wall_us(), false,
		    rq->register_[0] != '\0' ? rq->register_ : NULL, rq->limit);
		if (wr->sw == NULL) {
			job_fail(j, ST(INTERNAL), 0, "out of memory");
			j->kind = JOB_ANSWERED;
			writer_commit_batch(wr, j);
			return;
		}
		wr->sweep_job = j;
		return;
	}
	if (wr->srv->cfg.retention_interval_s == 0 || mono < wr->next_sweep)
		return;
	wr->next_sweep = mono + wr->srv->cfg.retention_interval_s * 1000000;
	/* the timer's sweeps: one node of a shared store (writer_nodes.c) */
	if (!writer_nodes_sweeper(wr))
		return;
	wr->sw = sweep_new(clock_wall_us(), false, NULL, 0);
}

/* The sweep under way is over: answer its RetentionRun, if any. */
static void
sweep_end(writer *wr, int rc)
{
	job *j = wr->sweep_job;
	sweep *sw = wr->sw;

	wr->sw = NULL;
	wr->sweep_job = NULL;
	if (rc == 0) {
		sweep_finish(sw);
		if (sw->actions > 0 || j != NULL)
			log_info("retention: examined %llu entries, acted on "
			         "%llu fields",
			    (unsigned long long)sw->examined,
			    (unsigned long long)sw->actions);
	}
	if (j == NULL) {
		sweep_free(&sw);
		return;
	}
	if (rc == 0) {
		j->sweep = sw;
		j->status = ST(OK);
	} else {
		sweep_free(&sw);
		job_fail(j, ST(INTERNAL), 0, "the sweep failed part way");
		j->kind = JOB_ANSWERED;
	}
	writer_commit_batch(wr, j); /* its own event, then the answer */
}

/*
 * Retention between batches: one bounded step of the sweep under way (or
 * of a new one), so that requests keep flowing between steps. Returns
 * true while a sweep has more to do.
 */
bool
writer_sweep_work(writer *wr, uint64_t *unsigned_since)
{
	static log_limit lim;
	audit_state a;
	size_t i;
	int rc;

	if (wr->sw == NULL)
		sweep_start(wr, clock_mono_us());
	if (wr->sw == NULL)
		return false;
	if (wr->sweep_job == NULL && !writer_nodes_sweeper(wr)) {
		/* the lease went to another node: it sweeps now (what
		 * this sweep did stays done, and audited) */
		sweep_free(&wr->sw);
		return wr->sweep_queue != NULL;
	}
	if (writer_yield(wr))
		return true;
	/* this commit's flush covers the meta page of a held batch */
	writer_meta_sync(wr, false);
	if ((rc = writer_in_write_txn(wr, sweep_txn, &a)) != 0) {
		log_limited(&lim, LOG_ERR, "retention: a sweep step failed: %s",
		    store_strerror(rc));
		writer_held_flush(wr);
		sweep_end(wr, rc);
		return wr->sweep_queue != NULL;
	}
	wr->audit = a;
	sweep_committed(wr->sw);
	if (wr->held != NULL)
		jobq_push(&wr->srv->replies, wr->held);
	wr->held = NULL;
	for (i = 0; i < wr->sw->nevs; i++)
		audit_ix_add(&wr->ix, wr->sw->evs[i].seq, "retention",
		    wr->sw->evs[i].has_pseudo ? wr->sw->evs[i].pseudo : NULL,
		    clock_mono_us());
	if (wr->sw->nevs > 0 && *unsigned_since == 0)
		*unsigned_since = clock_mono_us();
	if (wr->sw->done)
		sweep_end(wr, 0);
	return wr->sw != NULL || wr->sweep_queue != NULL;
}

typedef struct replan_arg {
	replan_pos pos; /* a copy: committed only with the step */
	bool more;
} replan_arg;

static int
replan_txn(writer *wr, store_txn *txn, void *arg)
{
	snapshot *snap = snapshot_acquire(&wr->srv->policy);
	replan_arg *ra = arg;
	int rc;

	ra->pos = wr->replan;
	rc = replan_step(
	    wr->srv->st, txn, wr->srv->keys, snap->pol, &ra->pos, &ra->more);
	snapshot_release(&snap);
	return rc;
}

/* One step of re-planning after a policy change (replan.h). Returns true
 * while there is more. */
bool
writer_replan_work(writer *wr)
{
	static log_limit lim;
	replan_arg ra;
	int rc;

	if (!wr->replan_more)
		return false;
	if (!writer_nodes_sweeper(wr)) {
		/* the lease's holder re-plans (it loads the new policy
		 * too); a node taking the lease later starts afresh */
		if (writer_nodes_other_sweeps(wr))
			wr->replan_more = false;
		return false;
	}
	if (writer_yield(wr))
		return true;
	if ((rc = writer_in_write_txn(wr, replan_txn, &ra)) != 0) {
		log_limited(&lim, LOG_ERR,
		    "retention: re-planning failed (%s); it is tried again at "
		    "the next policy change or start",
		    store_strerror(rc));
		wr->replan_more = false;
		return false;
	}
	wr->replan = ra.pos;
	if (!ra.more && wr->replan_busy)
		log_info("retention: stored data re-planned under the policy "
		         "in force");
	wr->replan_busy = wr->replan_more = ra.more;
	if (!ra.more)
		writer_nodes_replanned(wr);
	return ra.more;
}

/* Take a batch's RetentionRun jobs aside: each waits for a sweep of its
 * own (sweep_work). Returns the rest of the batch. */
job *
writer_sweep_take(writer *wr, job *batch)
{
	job *rest = NULL, **rt = &rest, **qt, *j, *next;

	for (qt = &wr->sweep_queue; *qt != NULL; qt = &(*qt)->next)
		;
	for (j = batch; j != NULL; j = next) {
		next = j->next;
		j->next = NULL;
		if (j->kind == JOB_SWEEP) {
			*qt = j;
			qt = &j->next;
		} else {
			*rt = j;
			rt = &j->next;
		}
	}
	return rest;
}

/* Stopping: the sweep under way and those waiting are not run; their
 * RetentionRuns are answered UNAVAILABLE (what a sweep did so far stays
 * done, and audited). */
void
writer_sweep_abandon(writer *wr)
{
	job *j, *all;

	sweep_free(&wr->sw);
	if (wr->sweep_job != NULL) {
		wr->sweep_job->next = wr->sweep_queue;
		wr->sweep_queue = wr->sweep_job;
		wr->sweep_job = NULL;
	}
	if ((all = wr->sweep_queue) == NULL)
		return;
	wr->sweep_queue = NULL;
	for (j = all; j != NULL; j = j->next) {
		job_fail(j, ST(UNAVAILABLE), 0,
		    "privd is stopping; the sweep did not finish");
		j->kind = JOB_ANSWERED;
	}
	writer_commit_batch(wr, all);
}

typedef struct blind_arg {
	bool done;
	bool was_ready;
} blind_arg;

static int
blind_txn(writer *wr, store_txn *txn, void *arg)
{
	snapshot *snap;
	blind_arg *ba = arg;
	int rc;

	if ((rc = blind_ready(wr->srv->st, txn, &ba->was_ready)) != 0)
		return rc;
	if (ba->was_ready) {
		ba->done = true;
		return 0;
	}
	snap = snapshot_acquire(&wr->srv->policy);
	rc = blind_fill_step(wr->srv->st, txn, wr->srv->keys, snap->pol,
	    &wr->blind_subjects, &wr->blind_damaged, &ba->done);
	snapshot_release(&snap);
	return rc;
}

/* One step of building the lookup index (blind_fill.c). Returns true
 * while there is more. */
bool
writer_blind_work(writer *wr)
{
	static log_limit lim;
	blind_arg ba = {false, false};
	uint64_t before = wr->blind_subjects;
	unsigned damaged = wr->blind_damaged;
	int rc;

	if (!wr->blind_filling)
		return false;
	if (writer_yield(wr))
		return true;
	if ((rc = writer_in_write_txn(wr, blind_txn, &ba)) != 0) {
		/* the step's counts went with its transaction */
		wr->blind_subjects = before;
		wr->blind_damaged = damaged;
		log_limited(&lim, LOG_ERR,
		    "lookup index: building it failed (%s); it is tried "
		    "again at the next start",
		    store_strerror(rc));
		wr->blind_filling = false;
		return false;
	}
	if (!ba.done)
		return true;
	wr->blind_filling = false;
	if (!ba.was_ready)
		log_info("lookup index: built, %llu subjects indexed%s",
		    (unsigned long long)wr->blind_subjects,
		    wr->blind_damaged ? "; some records did not open and were "
		                        "left out"
		                      : "");
	wr->blind_subjects = 0;
	wr->blind_damaged = 0;
	return false;
}
