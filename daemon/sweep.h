/*
 * sweep.h - the retention sweeper (issue 9, DESIGN.md section 6).
 *
 * A sweep as of time T walks the due-time index (retstore.h) from its
 * start up to T, and for each entry plans the field again under the
 * policy in force (the plan may have moved: a rewrite, a policy change)
 * and acts on what is due: a held field is left alone and counted, a
 * field due for deletion is deleted. A subject left with no field is
 * deleted with its key and its retention record. Every action is one
 * audit event of principal "retention", in the transaction of the change.
 *
 * The writer runs a sweep in steps (sweep_step), each in its own write
 * transaction with a bounded number of actions and entries examined, so
 * requests keep flowing between steps. A preview runs the very same code
 * in a read transaction with `preview` set: it decides exactly as a sweep
 * as of the same time would, and changes nothing; that is what makes
 * "preview at T = sweep at T" hold by construction.
 *
 * Cost: entries due by T, plus held entries, which stay in the index and
 * are examined again by every sweep until their hold ends.
 */
#ifndef PRIVD_SWEEP_H
#define PRIVD_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "policy.h"
#include "retstore.h"

#define SWEEP_STEP_ACTIONS 32   /* field actions in one write transaction */
#define SWEEP_STEP_EXAMINE 4096 /* due entries read in one step */
/* and a step of a run stops after this much time: a step holds the writer,
 * and every request waiting behind it (bench: 256 actions took 10 ms) */
#define SWEEP_STEP_US 2000

typedef struct sweep_count {
	char reg[POL_MAX_NAME + 1];
	char rule[POL_MAX_NAME + 1];
	const char *action; /* "delete", "anonymize", "contract_end_purge" */
	uint64_t fields;
	uint64_t held;
	uint64_t anon;  /* anonymous records destroyed (contract end) */
	uint64_t *sids; /* subjects acted on (8-byte prefixes of their sid) */
	size_t nsids, capsids;
	uint64_t subjects; /* distinct sids, once the sweep is finished */
} sweep_count;

/* An audit event a step appended, for the writer's audit index. */
typedef struct sweep_event {
	uint64_t seq;
	bool has_pseudo;
	uint8_t pseudo[CRYPTO_PSEUDONYMBYTES];
} sweep_event;

typedef struct sweep {
	/* what the sweep is */
	uint64_t as_of_us;
	bool preview;
	char reg[POL_MAX_NAME + 1]; /* "": every register */
	uint64_t limit;             /* field actions; 0: none */
	/* where it is */
	uint8_t pos[RET_DUE_KEYMAX + 1];
	size_t poslen;
	bool done;
	bool more;   /* stopped at the limit with more due */
	int phase;   /* 0: the due index; 1: contract-end purges */
	size_t preg; /* phase 1: the register (index in the policy) */
	uint8_t ppos[RET_SUB_KEYMAX + 1]; /* and the subject (ret_sub key) */
	size_t ppos_len;
	bool anon_left; /* and its anonymous records are still to go */
	uint64_t examined;
	uint64_t actions;
	sweep_count *counts;
	size_t ncounts;
	/* the events of the last step */
	sweep_event *evs;
	size_t nevs, capevs;
	/* the state at the start of the step being attempted, to start a
	 * retried attempt from (the writer retries a transaction that
	 * filled the map) */
	struct sweep_mark {
		bool valid;
		uint8_t pos[RET_DUE_KEYMAX + 1];
		size_t poslen;
		int phase;
		size_t preg;
		uint8_t ppos[RET_SUB_KEYMAX + 1];
		size_t ppos_len;
		bool anon_left;
		uint64_t examined, actions;
		uint64_t *anon;
		size_t ncounts;
		uint64_t *fields, *held;
		size_t *nsids;
	} mark;
} sweep;

/* What a step works with. */
typedef struct sweep_env {
	store *st;
	const crypto_keys *keys;
	const pol_policy *pol;
	uint64_t policy_version;
	uint8_t *dk;          /* sodium_malloc'd room for a data key (a run) */
	uint64_t deadline_us; /* monotonic: a run's step ends by then (0:
	                         no deadline) */
} sweep_env;

/* A new sweep as of as_of_us; NULL when out of memory. */
sweep *sweep_new(
    uint64_t as_of_us, bool preview, const char *reg, uint64_t limit);
void sweep_free(sweep **sw);

/*
 * One step. With a (the audit chain's head) it acts and appends its
 * events (sw->evs), at most SWEEP_STEP_ACTIONS of them; in a preview (a
 * NULL) it only counts. Either reads at most about SWEEP_STEP_EXAMINE
 * entries, so that a preview, too, can let go of its read transaction
 * between steps (a map growth waits for readers). now stamps the events.
 * Returns 0 or a store error (the transaction then fails, and the next
 * attempt starts from where this one did). sw->done when nothing due is
 * left.
 */
int sweep_step(const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a,
    uint64_t now);
/* The step committed: forget where it started. */
void sweep_committed(sweep *sw);
/* Count distinct subjects (call once, when done). */
void sweep_finish(sweep *sw);

#endif
