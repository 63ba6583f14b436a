/*
 * sweep_internal.h - what the sweeper's files share: sweep.c (the sweep
 * and its due-index phase), sweep_act.c (acting on one field, the groups
 * of a step) and sweep_purge.c (contract-end purges). Nothing else
 * includes it.
 */
#ifndef PRIVD_SWEEP_INTERNAL_H
#define PRIVD_SWEEP_INTERNAL_H

#include "clock.h"
#include "sweep.h"

/*
 * One (subject, rule) action of a step: its fields, and the event. For an
 * anonymisation, also the plaintext of the fields it keeps (the
 * non-identifying ones), which become one anonymous record.
 */
typedef struct group {
	bool open;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	const pol_register *reg;
	const pol_retention *rule;
	const char *op;
	char *fields[POL_MAX_FIELDS];
	size_t nfields;
	bool has_sub; /* rs holds the subject's retention record */
	ret_sub rs;
	/* anonymisation */
	uint8_t *buf;
	size_t len, cap;
	uint64_t collected_us; /* the earliest first write of the fields */
} group;

/* The groups of a step: every (subject, rule) action of the step is one
 * group and one event, however its entries interleave with others' in the
 * due index. The data key in e->dk is the subject dk_sid's. */
typedef struct groups {
	group *v;
	size_t n, cap;
	bool dk_valid;
	uint8_t dk_sid[CRYPTO_SUBJECT_IDBYTES];
} groups;

/* The subject's retention record, read once per subject in a step. */
typedef struct sub_cache {
	bool valid, found;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	char reg[POL_MAX_NAME + 1];
	ret_sub rs;
} sub_cache;

/* What a step knows of each register's contract end. */
typedef struct reg_ends {
	size_t n;
	struct {
		const pol_register *r;
		uint64_t end; /* 0: none */
		bool purging; /* its contract-end purge is due */
	} v[POL_MAX_REGISTERS];
} reg_ends;

/* Has a step with examined entries read so far run out of time? (Never
 * before its first entry: every step makes progress.) */
static inline bool
sweep_past_deadline(const sweep_env *e, uint64_t examined)
{
	return e->deadline_us != 0 && examined > 0 &&
	       clock_mono_us() >= e->deadline_us;
}

/* The count of (register, rule, action), made if new; NULL when out of
 * memory. */
sweep_count *sweep_count_of(
    sweep *sw, const char *reg, const char *rule, const char *action);
/* Count subject sid as acted on under c. */
int sweep_count_sid(sweep_count *c, const uint8_t *sid);

/* The subject's retention record through the step's cache. */
int sweep_sub_get(const sweep_env *e, store_txn *txn, sub_cache *sc,
    const char *reg, const uint8_t *sid);

/* An audit event of the sweeper's own (principal "retention"). */
int sweep_event_append(const sweep_env *e, store_txn *txn, sweep *sw,
    audit_state *a, Privd__V1__AuditEvent *ev, uint64_t now);

/* The op of an action under rule: retention_delete, retention_anonymize
 * or contract_end_purge. */
const char *sweep_op_of(const pol_retention *rule);

/*
 * Act on one due field (r, f) of subject sid under plan: count it, or,
 * held, count it as held; in a run, delete or anonymise it as part of its
 * (subject, rule) group. *acted is set if it was acted on.
 */
int sweep_act(const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a,
    groups *gs, sub_cache *sc, const pol_register *r, const pol_field *f,
    const uint8_t *sid, const store_value *sv, const pol_plan *plan,
    const char *op, uint64_t now, bool *acted);
/* The end of a step: every group's record and event; then free them. */
int sweep_groups_flush(const sweep_env *e, store_txn *txn, sweep *sw,
    audit_state *a, groups *gs, uint64_t now);
void sweep_groups_free(groups *gs);

/* A register's contract end and whether its purge is due, through the
 * step's cache. */
int sweep_reg_end(const sweep_env *e, store_txn *txn, const sweep *sw,
    reg_ends *re, const pol_register *r, uint64_t *end, bool *purging);
/* Is a rule counting from the contract end of r (ended at end) due at t? */
bool sweep_purge_due(const pol_register *r, uint64_t end, uint64_t t);
/* Phase 2 of a step: the contract-end purges. */
int sweep_step_purge(const sweep_env *e, store_txn *txn, sweep *sw,
    audit_state *a, groups *gs, sub_cache *sc, uint64_t now, uint64_t *examined,
    uint64_t *acted);

#endif
