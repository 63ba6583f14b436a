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
	uint8_t *dk;             /* sodium_malloc: a data key while resealing */
	audit_state audit;       /* head of the audit chain as last committed */
	audit_retain keep;       /* retention floor and pruning pause */
	bool disk_full;          /* in a disk-full episode */
	uint64_t next_prune;     /* monotonic */
	follow_marks follow;     /* when each follower was last audited */
	audit_ix ix;             /* index entries of events past the mark */
	job *held;               /* committed, its meta page not yet flushed */
	bool metasync_off;       /* meta sync is off (held_flush) */
	struct sweep *sw;        /* the retention sweep under way, or NULL */
	job *sweep_job;          /* the RetentionRun it answers, or NULL */
	job *sweep_queue;        /* RetentionRuns waiting for their sweep */
	uint64_t next_sweep;     /* monotonic: the timer's next sweep */
	bool replan_more;        /* registers may wait for a re-plan */
	bool replan_busy;        /* a re-plan is under way */
	uint64_t last_step_us;   /* monotonic: the last retention step */
	bool legacy_subjects;    /* the store may hold subjects without
	                            retention records (from before them) */
	replan_pos replan;       /* where the re-plan under way is */
	bool blind_filling;      /* the lookup index may be incomplete */
	uint64_t blind_subjects; /* indexed by the fill under way */
	unsigned blind_damaged;
	struct writer_nodes *nodes; /* other nodes on the store
	                               (writer_nodes.c) */
} writer;

/* writer.c, for the other writer files: run fn in one write transaction
 * (growing the map and retrying if it is full); commit a batch and pass
 * it on to be answered; MDB_NOMETASYNC on or off; flush and release a
 * held batch. */
int writer_in_write_txn(
    writer *wr, int (*fn)(writer *, store_txn *, void *), void *arg);
void writer_commit_batch(writer *wr, job *batch);
void writer_meta_sync(writer *wr, bool off);
void writer_held_flush(writer *wr);

/* writer_sweep.c: one step of the retention sweep under way (starting one
 * when due), true while there is more; a batch's RetentionRuns taken
 * aside to wait for their sweeps (returns the rest); at shutdown, the
 * sweeps left answered UNAVAILABLE; one step of re-planning. */
bool writer_sweep_work(writer *wr, uint64_t *unsigned_since);
/* writer_sweep.c: one step of building the lookup index (blind.h), true
 * while there is more. */
bool writer_blind_work(writer *wr);
job *writer_sweep_take(writer *wr, job *batch);
void writer_sweep_abandon(writer *wr);
bool writer_replan_work(writer *wr);

/* Apply job j's change in txn: 0, JOB_FAILED (j failed and is answered;
 * the transaction is fine), or a store error (the transaction fails). */
int writer_apply(writer *wr, store_txn *txn, job *j, uint64_t now);
/* Read ahead what the batch's jobs will read (writer_apply.c): 0 or a
 * store error (the transaction fails). */
int writer_prefetch(writer *wr, store_txn *txn, job *batch);

/* After a commit: make each new policy of the batch current, in order, and
 * take the effects of prune confirmations. Neither can fail. */
void writer_after_commit(writer *wr, job *batch);

/* Retention in the writer's transaction (writer_retention.c): a put to a
 * register whose contract ended is refused (JOB_FAILED) before anything
 * changes; a put's fields are planned after they are stored; a delete
 * keeps what a minimum or a hold keeps; relationship and contract ends and
 * holds. Same return convention as writer_apply. */
int ret_put_check(writer *wr, store_txn *txn, job *j, uint64_t now);
int ret_put_plan(writer *wr, store_txn *txn, job *j, uint64_t now);
int ret_delete(writer *wr, store_txn *txn, job *j, uint64_t now);

/*
 * Clear fields (nfields of them; 0: every stored field) of subject sid of
 * register r, but what a keep_at_least minimum or a legal hold keeps (as a
 * delete request and an erasure do): kept fields listed with why, the rest
 * deleted with their plans; a whole subject with nothing kept goes with
 * its key and all its records. Journalled as kind (substate.h). Lists are
 * in j's arena. 0, STORE_NOTFOUND (no such subject), JOB_FAILED (out of
 * memory; j failed) or a store error.
 */
typedef struct ret_cleared {
	char **deleted; /* the policy's names */
	size_t ndeleted;
	Privd__V1__Retained **kept;
	size_t nkept;
	bool key_destroyed;
} ret_cleared;
int ret_clear(writer *wr, store_txn *txn, job *j, const pol_register *r,
    const uint8_t *sid, char *const *fields, size_t nfields, int kind,
    uint64_t now, ret_cleared *c);
int ret_apply(writer *wr, store_txn *txn, job *j, uint64_t now);
/* The data subjects' requests (writer_rights.c): restriction, objection,
 * erasure; after the commit (the workers start looking states up); their
 * answers. */
int rights_apply(writer *wr, store_txn *txn, job *j, uint64_t now);
void rights_after_commit(writer *wr, const job *j);
void rights_pack(job *j);

/* Pack the reply of a relationship end, contract end or hold job. */
void ret_pack(job *j);

/* Pack the reply of a job that the writer finished. */
void writer_pack_result(job *j);

#endif
