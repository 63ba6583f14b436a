/*
 * retplan.h - when a stored field falls due, and what keeps it (issue 9).
 *
 * The due time of a field comes from the policy's retention rules
 * (pol_retention_plan) with the field's first and last write (its value
 * record's header) and its subject's relationship end (ret_sub). A
 * register's contract end is not planned per field: a contract-end purge
 * takes the whole register at once (sweep.c), so a field's due time
 * counts no action from contract_end; but a keep_at_least minimum that
 * counts from it holds the field like any other.
 *
 * The times come from record headers that this code does not
 * authenticate (that needs the subject's key). Someone who can edit the
 * store file can delete records anyway; an edited time moves a due time,
 * and the sweeper acts on the plan it computes from the headers.
 */
#ifndef PRIVD_RETPLAN_H
#define PRIVD_RETPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "retstore.h"

/* The plan of one stored field (times 0: not happened). */
void retplan_compute(const pol_register *r, const pol_field *f,
    uint64_t collected_us, uint64_t updated_us, uint64_t rel_end_us,
    uint64_t contract_end_us, pol_plan *out);

/* A plan's due time as ret_plan keeps it (RET_NEVER: none). */
uint64_t retplan_due(const pol_plan *p);

/*
 * Plan every stored field of a subject again (after its relationship end
 * changed, the policy changed). *n: fields whose due time moved.
 */
int retplan_subject(store *st, store_txn *txn, const pol_register *r,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], uint64_t rel_end_us,
    uint64_t contract_end_us, unsigned *n);

/* Does the subject still have a stored value? */
int retplan_has_values(store *st, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], bool *any);

/*
 * What keeps a stored field from being deleted at time now: a legal hold
 * (hold set), or a keep_at_least minimum that has not passed (rule and
 * until set; until 0 while the minimum has not started). Returns true if
 * something keeps it.
 */
typedef struct retplan_keep {
	const char *rule;   /* the minimum's rule id, or NULL */
	uint64_t until_us;  /* end of the minimum or hold; 0: open-ended */
	const char *reason; /* a hold's reason, or NULL */
} retplan_keep;
bool retplan_kept(const pol_plan *p, const ret_hold *hold, bool held,
    uint64_t now, retplan_keep *out);

#endif
