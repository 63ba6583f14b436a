/*
 * audit_retain.h - how long the audit log is kept, and what may stop
 * pruning (DESIGN.md section 5; issue 7).
 *
 * Evidence must not be destroyed by one admin or by a wrong clock:
 * - a floor, fixed at `privd init --audit-retention-min` (default 1 year),
 *   under which no policy's audit.retention goes (a policy below it is
 *   refused, and pruning keeps at least the floor anyway);
 * - a clock that is behind the newest event at start is refused (the
 *   clock went back); `privd serve --clock-behind-ok` starts anyway, and
 *   event times then stay at the newest event's until the clock catches up;
 * - a forward jump of the wall clock by more than a day, at start (after
 *   downtime, or a wrong clock) or while running, pauses pruning until an
 *   admin confirms the clock (AuditPruneRequest.confirm). The pause is
 *   kept in the store, so a restart does not lift it.
 *
 * Threads: retain_* functions that write run in the writer; the start
 * checks in main before any thread.
 */
#ifndef PRIVD_AUDIT_RETAIN_H
#define PRIVD_AUDIT_RETAIN_H

#include <stdbool.h>
#include <stdint.h>

#include "privd.pb-c.h"
#include "store.h"

#define RETAIN_DEFAULT_FLOOR_S (365ULL * 86400)
#define RETAIN_MAX_JUMP_US     (86400ULL * 1000000) /* one day */

typedef struct audit_retain {
	uint64_t floor_s;     /* the store's floor */
	uint64_t hold_at_us;  /* pruning paused since (wall); 0: not paused */
	uint64_t hold_jump_s; /* the forward jump that paused it */
	/* the clock watch's last sample of both clocks */
	uint64_t last_wall_us, last_boot_us;
	bool behind_logged; /* a step back was logged and not yet caught up */
} audit_retain;

/* Record the floor of a new store (init). */
int retain_floor_put(store *st, store_txn *txn, uint64_t floor_s);

/* Read the floor and the pause from the store. */
int retain_load(store *st, store_txn *txn, audit_retain *r);

/* Pause pruning (after a jump of jump_s seconds noticed at at_us), or lift
 * the pause; in the caller's write transaction. r follows on success only
 * after the caller committed: pass the values back with retain_set. */
int retain_hold_put(store *st, store_txn *txn, uint64_t at_us, uint64_t jump_s);
int retain_hold_clear(store *st, store_txn *txn);

/*
 * The start-up check of the wall clock against the newest event's time
 * (0: an empty log). Returns 0 if privd may start, and in *jump_s a forward
 * jump of more than a day to pause pruning for (0: none); -1 if the clock
 * is behind the newest event and behind_ok is false (err says by how much
 * and what to do).
 */
int retain_start_check(uint64_t last_event_us, uint64_t now_us, bool behind_ok,
    uint64_t *jump_s, char *err, size_t errlen);

/*
 * Compare how far the wall clock moved since the last call with how far
 * the boot-time clock did (monotonic, counting suspended time too, so that
 * a host that slept is not taken for a clock jump). Returns the size of a
 * forward jump of more than a day in seconds, else 0; logs a step back once per
 * episode.
 */
uint64_t retain_clock_watch(
    audit_retain *r, uint64_t wall_us, uint64_t boot_us);

/* The oldest event kept: its seq and time (0 and 0 for an empty log). */
int retain_oldest(store *st, store_txn *txn, uint64_t *seq, uint64_t *time_us);

/* The state of pruning at now_us under policy retention policy_s, as the
 * answer to an audit_prune request (r is initialised here). */
int retain_report(store *st, store_txn *txn, const audit_retain *r,
    int64_t policy_s, uint64_t now_us, Privd__V1__AuditPruneResponse *out);

/* One bounded chunk of pruning at now_us under policy retention policy_s
 * (audit_prune); *more is set if another chunk would prune more. The
 * caller does not call it while pruning is paused. */
int retain_prune(store *st, store_txn *txn, const audit_retain *r,
    int64_t policy_s, uint64_t now_us, bool *more);

/* Seconds of audit log kept under policy retention policy_s: at least the
 * floor. */
uint64_t retain_keep_s(const audit_retain *r, int64_t policy_s);

#endif
