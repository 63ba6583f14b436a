/*
 * writer_internal.h - the writer thread's state, shared by writer.c (group
 * commit, housekeeping) and writer_apply.c (the changes of each job).
 * Nothing outside the writer includes it.
 */
#ifndef PRIVD_WRITER_INTERNAL_H
#define PRIVD_WRITER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "audit.h"
#include "audit_follow.h"
#include "audit_index.h"
#include "audit_retain.h"
#include "replan.h"
#include "server.h"

#define JOB_FAILED 1 /* apply: this job failed, the transaction is fine */

typedef struct writer {
	server *srv;
	uint8_t *dk;          /* sodium_malloc: a data key while resealing */
	audit_state audit;    /* head of the audit chain as last committed */
	audit_retain keep;    /* retention floor and pruning pause */
	bool disk_full;       /* in a disk-full episode */
	uint64_t next_prune;  /* monotonic */
	follow_marks follow;  /* when each follower was last audited */
	audit_ix ix;          /* index entries of events past the mark */
	job *held;            /* committed, its meta page not yet flushed */
	bool metasync_off;    /* MDB_NOMETASYNC is set (held_flush) */
	struct sweep *sw;     /* the retention sweep under way, or NULL */
	job *sweep_job;       /* the RetentionRun it answers, or NULL */
	job *sweep_queue;     /* RetentionRuns waiting for their sweep */
	uint64_t next_sweep;  /* monotonic: the timer's next sweep */
	bool replan_more;     /* registers may wait for a re-plan */
	bool replan_busy;     /* a re-plan is under way */
	bool legacy_subjects; /* the store may hold subjects without
	                         retention records (from before them) */
	replan_pos replan;    /* where the re-plan under way is */
} writer;

/* Apply job j's change in txn: 0, JOB_FAILED (j failed and is answered;
 * the transaction is fine), or an LMDB error (the transaction fails). */
int writer_apply(writer *wr, MDB_txn *txn, job *j, uint64_t now);

/* After a commit: make each new policy of the batch current, in order, and
 * take the effects of prune confirmations. Neither can fail. */
void writer_after_commit(writer *wr, job *batch);

/* Retention in the writer's transaction (writer_retention.c): a put to a
 * register whose contract ended is refused (JOB_FAILED) before anything
 * changes; a put's fields are planned after they are stored; a delete
 * keeps what a minimum or a hold keeps; relationship and contract ends and
 * holds. Same return convention as writer_apply. */
int ret_put_check(writer *wr, MDB_txn *txn, job *j, uint64_t now);
int ret_put_plan(writer *wr, MDB_txn *txn, job *j, uint64_t now);
int ret_delete(writer *wr, MDB_txn *txn, job *j, uint64_t now);
int ret_apply(writer *wr, MDB_txn *txn, job *j, uint64_t now);
/* Pack the reply of a relationship end, contract end or hold job. */
void ret_pack(job *j);

/* Pack the reply of a job that the writer finished. */
void writer_pack_result(job *j);

#endif
