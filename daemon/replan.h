/*
 * replan.h - re-planning stored data after a policy change (issue 9).
 *
 * A policy that changes how a register's fields fall due (its retention
 * rules, or a field's category) leaves the due times already stored
 * wrong: a shortened period must apply to data stored before the change.
 * The writer stores, in the transaction of the new policy, the names of
 * the registers to re-plan (meta "replan"), and works through each
 * register's subjects in bounded steps between batches (writer.c), so the
 * list survives a restart (a register is then re-planned from its start:
 * planning is idempotent). Until a subject is re-planned, the sweeper
 * plans each entry it meets under the policy in force anyway, so a
 * lengthened period or a removed rule never acts early; only an earlier
 * due time waits for the re-plan.
 */
#ifndef PRIVD_REPLAN_H
#define PRIVD_REPLAN_H

#include <stdbool.h>
#include <stdint.h>

#include "policy.h"
#include "retstore.h"

#define REPLAN_STEP_SUBJECTS 64

/* Would fields of register r fall due differently under n than under o? */
bool replan_changed(const pol_register *o, const pol_register *n);

/* The registers of policy n whose plans differ from o's: a bit per
 * register index of n. */
uint32_t replan_registers(const pol_policy *o, const pol_policy *n);

/* The subjects stored in register reg (a count through ret_sub). */
int replan_count(store *st, store_txn *txn, const char *reg, uint64_t *n);

/* Add reg to the registers waiting for a re-plan. */
int replan_queue(store *st, store_txn *txn, const char *reg);

/* Where the re-plan under way is. */
typedef struct replan_pos {
	uint8_t key[RET_SUB_KEYMAX + 1];
	size_t len;
} replan_pos;

/*
 * One step: re-plan up to REPLAN_STEP_SUBJECTS subjects of the first
 * register waiting, under policy pol. *more while registers wait.
 */
int replan_step(store *st, store_txn *txn, const crypto_keys *k,
    const pol_policy *pol, replan_pos *pos, bool *more);

/* Are registers waiting (meta "replan" not empty)? */
int replan_pending(store *st, store_txn *txn, bool *pending);

#endif
