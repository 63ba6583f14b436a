/*
 * writer_nodes.c - the writer when several privd nodes share one store
 * (PostgreSQL; README "Beyond one host"). On a store of one node (LMDB)
 * every function here costs a test of a flag and changes nothing.
 *
 * DESIGN. The nodes' writers take turns under the store's writers' lock
 * (taken at the start of each write transaction), so each reads the
 * store's state inside its own transaction. What a writer keeps in
 * memory between transactions is a cache of that state, current as long
 * as only this node writes. After each write transaction's begin,
 * writer_nodes_sync asks the store whether another node committed since
 * this one's last commit (store_txn_gen's moved), and if so re-reads, in
 * that transaction, before anything is appended:
 *
 *   audit      the chain's head (seq, hash, time, last checkpoint):
 *              audit_load. Every batch, sweep step and checkpoint starts
 *              from wr->audit inside its transaction, so two nodes never
 *              take the same seq and the chain stays one.
 *   ix         the index mark another node may have flushed past ours,
 *              and the events past what we collected (another node's):
 *              ix_resync makes the next flush read them from the
 *              log, so every event is indexed, whoever wrote it.
 *   keep       the audit pruning pause and the floor (retain_load); the
 *              clock watch's samples are this host's and stay.
 *   policy     the version in force: a new one is loaded and swapped in
 *              before this transaction applies anything, so the writer
 *              always decides (replaces_version, re-plan and lookup-index
 *              diffs, sweeps) under the store's latest version.
 *
 * And why the rest of struct writer (writer_internal.h) is safe as it is:
 *   dk                  scratch for one step's data key.
 *   disk_full, held, metasync_off
 *                       this node's commits (LMDB only: PostgreSQL
 *                       answers meta_sync ENOTSUP and holds nothing).
 *   next_prune          a timer; pruning re-reads the log in its own
 *                       transaction, so two nodes pruning is harmless.
 *   follow              when this node last audited a follower's polls:
 *                       a follower polls one node; another node's
 *                       marks only mean one audit_follow event more.
 *   sw, sweep_job, sweep_queue, next_sweep, last_step_us
 *                       a sweep's position in the due index and its
 *                       counts; each step re-reads what is due at and
 *                       after the position inside its own transaction
 *                       (sweep.h), so a step never acts on what another
 *                       node already did. Dropping the position on
 *                       every move would restart a long sweep while the
 *                       other node writes, forever.
 *   replan, replan_more, replan_busy
 *                       re-planning is idempotent (replan.h) and done
 *                       by the sweeper lease's holder only; a node that
 *                       takes the lease starts the waiting list afresh.
 *   legacy_subjects     set at init ("retention_records"), never after.
 *   blind_*             the lookup index's fill resumes from meta
 *                       (blind_fill_at) in every step; a new policy
 *                       loaded here sets blind_filling to check it.
 * And the server's caches (server.h):
 *   policy              as above, and between transactions the listener
 *                       (below).
 *   subj_states         on a store of several nodes always true: a
 *                       restriction or objection another node recorded
 *                       is then looked up by every request at once (one
 *                       read more per request), never a second late.
 *   audit_floor_s, keys, sign_sk, curve keys
 *                       written by privd init / audit rotate-key /
 *                       rekey / server-key rotate only, which run with
 *                       the nodes stopped (privd.8).
 *
 * Policy between transactions: the writer LISTENs (store_listen) to
 * "privd_policy", which the transaction that stores a new version
 * notifies (payload: the version number), and drains it every
 * NODES_TICK_US (its wait between batches is cut to that; the writer
 * waits on a condition variable, not a poll, and a drain that finds
 * nothing costs one non-blocking read). It also compares the store's
 * generation every NODES_GEN_US, and on any change reads the version in
 * force (one read) and loads it if it changed. So a version committed on
 * one node is in force on every other within NODES_TICK_US plus a load
 * while notifications flow, and within NODES_GEN_US plus a load when one
 * was lost (a failover): about a second. The writer, not the frontend,
 * swaps the snapshot: it already swaps in its own node's versions, and
 * one thread swapping keeps versions from going backwards.
 *
 * The sweeper lease (STORE_LEASE_SWEEPER): the timer's sweeps and the
 * re-planning run only on the node holding it; a node tries to take it
 * at most every NODES_GEN_US. A node without a sweep timer
 * (retention-interval 0) takes it only to re-plan and lets it go when
 * that is done. A RetentionRun request runs on the node it
 * was sent to, holder or not: the lease only chooses who sweeps on the
 * timer, and correctness never rests on it (sweep steps re-read).
 */
#include "writer_nodes.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "clock.h"
#include "log.h"
#include "policy.h"

struct writer_nodes {
	bool on;             /* the store has other nodes (it can listen) */
	store_listener *lsn; /* NULL: none (a store of one node) */
	bool notified;       /* a notification (or a possible loss) */
	uint64_t next_tick;  /* monotonic: the next drain */
	uint64_t next_gen;   /* monotonic: the next generation check */
	uint64_t gen;        /* the generation last checked */
	uint64_t next_take;  /* monotonic: the next try for the lease */
	bool leased;         /* held the sweeper lease at the last look */
	bool other;          /* the last take found another node holding it */
	uint64_t resyncs;    /* caches re-read (writer_nodes_sync) */
};

static log_limit nodes_lim;

/* A notification on NODES_POLICY_CHANNEL: its payload (a version) is only a
 * hint; the version in force is read from the store. */
static void
on_note(void *arg, const char *channel, const char *payload)
{
	struct writer_nodes *n = arg;

	(void)channel;
	(void)payload;
	n->notified = true;
}

int
writer_nodes_start(writer *wr)
{
	static const char *const chans[] = {NODES_POLICY_CHANNEL};
	struct writer_nodes *n;
	int rc;

	if ((n = calloc(1, sizeof(*n))) == NULL)
		return ENOMEM;
	wr->nodes = n;
	rc = store_listen(wr->srv->st, chans, 1, &n->lsn);
	if (rc == ENOTSUP)
		return 0; /* one node: nothing else writes */
	if (rc != 0)
		return rc;
	n->on = true;
	n->next_tick = n->next_gen = clock_mono_us();
	(void)store_gen(wr->srv->st, &n->gen);
	/* another node may record a subject's state at any moment */
	atomic_store(&wr->srv->subj_states, true);
	log_info("store shared with other privd nodes: a policy applied on "
	         "one is in force here within about a second");
	return 0;
}

void
writer_nodes_stop(writer *wr)
{
	if (wr->nodes == NULL)
		return;
	store_listen_close(&wr->nodes->lsn);
	store_lease_release(wr->srv->st, STORE_LEASE_SWEEPER);
	free(wr->nodes);
	wr->nodes = NULL;
}

/*
 * The latest stored policy version, found from the version in force (the
 * snapshot's): a walk of the versions from it on, which is that one
 * record, or two when another is newer, where store_policy_latest reads a
 * cursor's first batch backwards from the last (on PostgreSQL up to 8
 * documents, on every generation move and every policy apply). A store
 * whose latest is older than the one in force (none from it on) is read
 * from its last, as before.
 */
int
writer_nodes_policy_latest(writer *wr, store_txn *txn, store_policy *out)
{
	store *st = wr->srv->st;
	snapshot *cur = snapshot_acquire(&wr->srv->policy);
	uint8_t kb[8];
	store_val k = {8, kb}, v, lk, lv;
	store_cur *c;
	bool any = false;
	int rc;

	store_be64(kb, cur->version);
	snapshot_release(&cur);
	if ((rc = store_cur_open(txn, STORE_POLICY, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		lk = k; /* valid until the transaction ends (store_kv.h) */
		lv = v;
		any = true;
	}
	if (rc == STORE_NOTFOUND && !any) /* none from it on */
		rc = store_policy_latest(st, txn, out);
	else if (rc == STORE_NOTFOUND)
		rc = store_policy_decode(&lk, &lv, out);
	store_cur_close(c);
	return rc;
}

/*
 * Make the latest version (read in txn) the policy in force, if it is
 * not yet.
 * A stored version that does not parse is left out (logged): the one in
 * force stays, as on the node that stored it nothing would have either.
 */
static int
policy_take(writer *wr, store_txn *txn)
{
	store_policy sp;
	snapshot *cur, *snap;
	pol_policy *pol;
	pol_error perr;
	uint64_t have;
	int rc;

	if ((rc = writer_nodes_policy_latest(wr, txn, &sp)) != 0)
		return rc;
	cur = snapshot_acquire(&wr->srv->policy);
	have = cur->version;
	snapshot_release(&cur);
	if (sp.version == have)
		return 0;
	if (pol_parse(sp.json, sp.len, &pol, &perr) != 0) {
		log_limited(&nodes_lim, LOG_ERR,
		    "policy version %llu (another node's) does not parse: "
		    "%s: %s; version %llu stays in force",
		    (unsigned long long)sp.version, perr.path, perr.reason,
		    (unsigned long long)have);
		return 0;
	}
	if ((snap = snapshot_new(pol, sp.version)) == NULL) {
		pol_free(&pol);
		return ENOMEM;
	}
	snapshot_cell_swap(&wr->srv->policy, snap);
	/* what falls due differently, and the lookup index, may need work
	 * (the node that stored it queued it in the store) */
	wr->replan_more = true;
	wr->replan.len = 0;
	wr->blind_filling = true;
	log_info("policy version %llu in force (applied on another node)",
	    (unsigned long long)sp.version);
	return 0;
}

/*
 * Another privd node wrote (store_txn_gen said so): its
 * events interleave with ours in the one log, and it may have flushed
 * the index past our mark. Take the committed mark, drop the entries it
 * covers, and if the log's head is past what we collected, the events
 * in between are another node's: the next flush reads them from the log
 * (from_log), so every event is indexed by whichever node flushes next,
 * even a node that stopped before it flushed its own.
 */
static void
ix_resync(audit_ix *ix, uint64_t mark, uint64_t head, uint64_t mono_us)
{
	if (mark > ix->mark) {
		audit_ix_flushed(ix, mark);
	} else if (mark < ix->mark) {
		/* our flush did not commit after all (a lost answer) */
		ix->mark = mark;
		ix->from_log = true;
		ix->n = 0;
	}
	if (head > ix->last) {
		if (ix->last == ix->mark)
			ix->since_us = mono_us;
		ix->last = head;
		ix->from_log = true;
		ix->n = 0;
	}
}

int
writer_nodes_sync(writer *wr, store_txn *txn)
{
	store *st = wr->srv->st;
	audit_retain keep;
	uint64_t gen, mark;
	bool moved;
	int rc;

	if (wr->nodes == NULL || !wr->nodes->on)
		return 0;
	if ((rc = store_txn_gen(txn, &gen, &moved)) != 0 || !moved)
		return rc;
	if ((rc = audit_load(st, txn, &wr->audit)) != 0 ||
	    (rc = audit_ix_mark(st, txn, &mark)) != 0 ||
	    (rc = retain_load(st, txn, &keep)) != 0 ||
	    (rc = policy_take(wr, txn)) != 0)
		return rc;
	ix_resync(&wr->ix, mark, wr->audit.seq, clock_mono_us());
	wr->keep.floor_s = keep.floor_s;
	wr->keep.hold_at_us = keep.hold_at_us;
	wr->keep.hold_jump_s = keep.hold_jump_s;
	wr->nodes->gen = gen; /* the tick need not look again */
	wr->nodes->resyncs++;
	return 0;
}

int
writer_nodes_policy_stored(store_txn *txn, uint64_t v)
{
	char payload[24];

	snprintf(payload, sizeof(payload), "%llu", (unsigned long long)v);
	return store_notify(txn, NODES_POLICY_CHANNEL, payload);
}

/* Read the version in force and take it (a read transaction). */
static void
policy_reload(writer *wr)
{
	store_txn *txn;
	int rc;

	if ((rc = store_txn_begin(wr->srv->st, STORE_RDONLY, &txn)) == 0) {
		rc = policy_take(wr, txn);
		store_txn_abort(txn);
	}
	if (rc != 0)
		log_limited(&nodes_lim, LOG_WARN,
		    "cannot read the policy in force (%s); tried again "
		    "within a second",
		    store_strerror(rc));
	else
		wr->nodes->notified = false;
}

uint64_t
writer_nodes_tick(writer *wr)
{
	struct writer_nodes *n = wr->nodes;
	uint64_t now = clock_mono_us(), g;
	bool missed = false;

	if (n == NULL || !n->on)
		return UINT64_MAX;
	if (now >= n->next_tick) {
		n->next_tick = now + NODES_TICK_US;
		(void)store_listen_drain(n->lsn, on_note, n, &missed);
		n->notified = n->notified || missed;
	}
	if (now >= n->next_gen) {
		n->next_gen = now + NODES_GEN_US;
		if (store_gen(wr->srv->st, &g) == 0 && g != n->gen) {
			n->gen = g;
			n->notified = true;
		}
	}
	if (n->notified)
		policy_reload(wr);
	return n->next_tick < n->next_gen ? n->next_tick : n->next_gen;
}

bool
writer_nodes_sweeper(writer *wr)
{
	struct writer_nodes *n = wr->nodes;
	uint64_t now;
	bool got = false;

	if (n == NULL || !n->on)
		return true;
	if (n->leased && store_lease_held(wr->srv->st, STORE_LEASE_SWEEPER))
		return true;
	if (n->leased)
		log_info("retention: the sweeper lease is lost; another node "
		         "sweeps");
	n->leased = false;
	now = clock_mono_us();
	if (now < n->next_take)
		return false;
	n->next_take = now + NODES_GEN_US;
	n->other = false;
	if (store_lease_take(wr->srv->st, STORE_LEASE_SWEEPER, &got) != 0)
		return false;
	if (!got) {
		n->other = true;
		return false;
	}
	n->leased = true;
	/* what the last holder left is ours now: re-plan the waiting
	 * registers from their start (idempotent) */
	wr->replan_more = true;
	wr->replan.len = 0;
	log_info("retention: this node holds the sweeper lease");
	return true;
}

bool
writer_nodes_other_sweeps(const writer *wr)
{
	return wr->nodes != NULL && wr->nodes->other;
}

void
writer_nodes_replanned(writer *wr)
{
	struct writer_nodes *n = wr->nodes;

	/* a node that does not sweep on a timer lets the lease go once
	 * its re-planning is done, so that one that does can sweep */
	if (n == NULL || !n->on || !n->leased ||
	    wr->srv->cfg.retention_interval_s != 0)
		return;
	store_lease_release(wr->srv->st, STORE_LEASE_SWEEPER);
	n->leased = false;
	log_info("retention: re-planning done; the sweeper lease is let go "
	         "(this node sweeps on request only)");
}

uint64_t
writer_nodes_resyncs(const writer *wr)
{
	return wr->nodes != NULL ? wr->nodes->resyncs : 0;
}
