/*
 * audit_follow.h - auditing the auditor who follows the log.
 *
 * `privctl audit tail -f` polls for new events twice a second; one audit
 * event per poll would fill the log with the auditor's own polls (170,000 a
 * day) and bury every answer about a person in them. So the polls of a
 * follow (AuditQueryRequest.follow, whose shape the worker checks) are
 * audited as one "audit_follow" event per principal and minute, which
 * stands for every poll of that principal in that minute.
 *
 * Threads: the writer's alone (its batches, its marks).
 */
#ifndef PRIVD_AUDIT_FOLLOW_H
#define PRIVD_AUDIT_FOLLOW_H

#include <stdint.h>

#include "job.h"

#define FOLLOW_EVERY_US (60ULL * 1000000) /* one audit_follow a minute */
#define FOLLOW_SLOTS    64                /* followers remembered */

/* When a principal's follow polls were last recorded. */
typedef struct follow_slot {
	char principal[POL_MAX_NAME + 1];
	uint64_t at_mono_us;
} follow_slot;

typedef struct follow_marks {
	follow_slot slot[FOLLOW_SLOTS];
} follow_marks;

/* Before the batch's transaction: name each follow poll's event
 * "audit_follow" and set no_event on those already covered (by this
 * minute's event, or by another poll of the same principal in the batch).
 * The same batch always gets the same decisions, so a retried transaction
 * decides the same. mono: the monotonic time of the batch. */
void follow_decide(follow_marks *fm, job *batch, uint64_t mono);

/* After the commit: remember when each follower's event was recorded. */
void follow_remember(follow_marks *fm, job *batch, uint64_t mono);

#endif
