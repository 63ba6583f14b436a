/*
 * audit_retain.c - the audit log's retention floor and pruning pause; see
 * audit_retain.h.
 */
#include "audit_retain.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "log.h"

#define META_FLOOR "audit_retention_min"
#define META_HOLD  "audit_prune_hold" /* be64 at_us || be64 jump_s */

int
retain_floor_put(store *st, store_txn *txn, uint64_t floor_s)
{
	return store_meta_put_u64(st, txn, META_FLOOR, floor_s);
}

int
retain_load(store *st, store_txn *txn, audit_retain *r)
{
	store_val v;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = store_meta_get_u64(st, txn, META_FLOOR,
	         RETAIN_DEFAULT_FLOOR_S, &r->floor_s)) != 0)
		return rc;
	rc = store_meta_get(st, txn, META_HOLD, &v);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.size != 16)
		return STORE_CORRUPTED;
	r->hold_at_us = store_get_be64(v.data);
	r->hold_jump_s = store_get_be64((uint8_t *)v.data + 8);
	return 0;
}

int
retain_hold_put(store *st, store_txn *txn, uint64_t at_us, uint64_t jump_s)
{
	uint8_t b[16];

	store_be64(b, at_us != 0 ? at_us : 1);
	store_be64(b + 8, jump_s);
	return store_meta_put(st, txn, META_HOLD, b, sizeof(b));
}

int
retain_hold_clear(store *st, store_txn *txn)
{
	store_val k = {strlen(META_HOLD), (void *)META_HOLD};
	int rc = store_del(txn, STORE_META, &k);

	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
retain_start_check(uint64_t last_event_us, uint64_t now_us, bool behind_ok,
    uint64_t *jump_s, char *err, size_t errlen)
{
	*jump_s = 0;
	if (last_event_us == 0)
		return 0; /* a new log: nothing to compare with */
	if (now_us < last_event_us) {
		if (!behind_ok) {
			snprintf(err, errlen,
			    "the clock is %llu s behind the newest audit "
			    "event: it went back. Set the clock right, or "
			    "start with --clock-behind-ok if it is right now "
			    "(events then keep the newest event's time until "
			    "the clock passes it)",
			    (unsigned long long)((last_event_us - now_us) /
			                             1000000 +
			                         1));
			return -1;
		}
		log_warn("the clock is %llu s behind the newest audit event; "
		         "starting anyway (--clock-behind-ok): events keep "
		         "that event's time until the clock passes it",
		    (unsigned long long)((last_event_us - now_us) / 1000000 +
		                         1));
		return 0;
	}
	if (now_us - last_event_us > RETAIN_MAX_JUMP_US)
		*jump_s = (now_us - last_event_us + 500000) / 1000000;
	return 0;
}

uint64_t
retain_clock_watch(audit_retain *r, uint64_t wall_us, uint64_t boot_us)
{
	uint64_t dw, dm, jump = 0;

	if (r->last_boot_us == 0) {
		r->last_wall_us = wall_us;
		r->last_boot_us = boot_us;
		return 0;
	}
	dm = boot_us - r->last_boot_us;
	if (wall_us >= r->last_wall_us) {
		dw = wall_us - r->last_wall_us;
		if (dw > dm + RETAIN_MAX_JUMP_US)
			jump = (dw - dm + 500000) / 1000000;
		r->behind_logged = false;
	} else if (!r->behind_logged) {
		/* times of events never go back: they stay at the newest
		 * event's time until the clock catches up (audit.c) */
		log_warn("the wall clock went back by %llu s; audit event "
		         "times stay at the newest event's until it catches up",
		    (unsigned long long)((r->last_wall_us - wall_us) /
		                         1000000));
		r->behind_logged = true;
	}
	r->last_wall_us = wall_us;
	r->last_boot_us = boot_us;
	return jump;
}

uint64_t
retain_keep_s(const audit_retain *r, int64_t policy_s)
{
	uint64_t p = policy_s > 0 ? (uint64_t)policy_s : 0;

	return p > r->floor_s ? p : r->floor_s;
}

int
retain_oldest(store *st, store_txn *txn, uint64_t *seq, uint64_t *time_us)
{
	Privd__V1__AuditEvent *ev;
	store_val v;
	int rc;

	*seq = *time_us = 0;
	if ((rc = audit_first(st, txn, seq, &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	/* a damaged oldest event has no time to give: 0 */
	if (v.size > AUDIT_HASHBYTES &&
	    (ev = privd__v1__audit_event__unpack(NULL, v.size - AUDIT_HASHBYTES,
	         (uint8_t *)v.data + AUDIT_HASHBYTES)) != NULL) {
		*time_us = ev->time_us;
		privd__v1__audit_event__free_unpacked(ev, NULL);
	}
	return 0;
}

int
retain_report(store *st, store_txn *txn, const audit_retain *r,
    int64_t policy_s, uint64_t now_us, Privd__V1__AuditPruneResponse *out)
{
	uint64_t seq, time_us;
	int rc;

	privd__v1__audit_prune_response__init(out);
	out->paused = r->hold_at_us != 0;
	out->paused_at_us = r->hold_at_us;
	out->clock_jump_s = r->hold_jump_s;
	out->retention_s = retain_keep_s(r, policy_s);
	out->floor_s = r->floor_s;
	out->now_us = now_us;
	if ((rc = retain_oldest(st, txn, &seq, &time_us)) != 0)
		return rc;
	out->oldest_seq = seq;
	out->oldest_time_us = time_us;
	return 0;
}

int
retain_prune(store *st, store_txn *txn, const audit_retain *r, int64_t policy_s,
    uint64_t now_us, bool *more)
{
	/* the policy bounds durations (POL_MAX_DURATION_S), and so does init
	 * the floor, so this cannot wrap; a retention beyond now prunes
	 * nothing */
	uint64_t keep = retain_keep_s(r, policy_s) * 1000000u;
	size_t n;
	int rc;

	*more = false;
	if (keep >= now_us)
		return 0;
	rc = audit_prune(st, txn, now_us - keep, &n, more);
	if (rc == 0 && n > 0)
		log_info("audit: pruned %zu events older than the retention "
		         "period",
		    n);
	return rc;
}
