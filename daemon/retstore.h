/*
 * retstore.h - the retention records of the store (issue 9, DESIGN.md
 * section 6).
 *
 *   ret_sub   reglen(1) register sid(32) -> fmt(1) flags(1) rel_end(8)
 *             sealed subject id
 *             one per stored subject: the register's subjects are one
 *             range (re-planning, purges), and the sweeper, which has only
 *             the due index, can open the subject's key and name it by
 *             pseudonym in the audit log. The subject id is sealed under
 *             the daemon's secret key, bound to the record's key.
 *   ret_plan  sid(32) field -> due(8)
 *   ret_due   due(8) sid(32) field -> reglen(1) register
 *             the due-time index: a field with a finite due time has one
 *             entry in each, nothing else has any. A sweep reads ret_due
 *             from its start, so it costs what is due, not what is stored.
 *   ret_reg   register -> fmt(1) flags(1) contract_end(8)
 *   holds     reglen(1) register [sid(32)] -> fmt(1) set_at(8) until(8)
 *             sealed(bylen(1) by sublen(2) subject reasonlen(2) reason)
 *             a hold's reason and subject id are sealed like ret_sub's.
 *   anon      reglen(1) register id(16) -> fmt(1) month(8) sealed(fields)
 *             anonymous records: what anonymisation kept of a subject,
 *             under a random id, sealed with the register's key
 *             (crypto_anon_seal), its time the month it was collected.
 *             fields = { namelen(1) name vlen(4) value }...
 *
 * Times are big-endian microseconds since the epoch; 0 is "not set".
 */
#ifndef PRIVD_RETSTORE_H
#define PRIVD_RETSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define RET_FORMAT 1
#define RET_NEVER  UINT64_MAX

#define RET_SUB_KEYMAX  (1 + CRYPTO_MAX_NAME + CRYPTO_SUBJECT_IDBYTES)
#define RET_PLAN_KEYMAX (CRYPTO_SUBJECT_IDBYTES + CRYPTO_MAX_NAME)
#define RET_DUE_KEYMAX  (8 + RET_PLAN_KEYMAX)
#define RET_REASON_MAX  256

/* ret_sub flags */
#define RET_SUB_REL_ACTED 0x01 /* the sweeper acted because of rel_end */
/* ret_reg flags */
#define RET_REG_PURGING 0x01 /* a contract-end purge has begun */

size_t ret_sub_key(
    uint8_t *key, const char *reg, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES]);

typedef struct ret_sub {
	uint8_t flags;
	uint64_t rel_end_us;
	char subject[CRYPTO_MAX_SUBJECT + 1]; /* opened by ret_sub_get */
	size_t subjlen;
} ret_sub;

/* Read (and open the subject id of) a subject's record: 0, STORE_NOTFOUND,
 * a store error, or STORE_CORRUPTED if it does not open. */
int ret_sub_get(store *st, store_txn *txn, const crypto_keys *k,
    const char *reg, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], ret_sub *out);
/* Write it (sealing out->subject afresh). */
int ret_sub_put(store *st, store_txn *txn, const crypto_keys *k,
    const char *reg, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES],
    const ret_sub *rs);
int ret_sub_del(store *st, store_txn *txn, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES]);

/* The due time of (sid, field): RET_NEVER if it has none. */
int ret_plan_get(store *st, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field,
    uint64_t *due);
/* Set it (RET_NEVER: remove it), keeping ret_due in step. */
int ret_plan_set(store *st, store_txn *txn, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field, uint64_t due);
/* Remove every plan of a subject. */
int ret_plan_drop_subject(
    store *st, store_txn *txn, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES]);

/* One entry of ret_due, decoded; pointers valid for the transaction. */
typedef struct ret_due {
	uint64_t due_us;
	const uint8_t *sid;
	char field[CRYPTO_MAX_NAME + 1];
	char reg[CRYPTO_MAX_NAME + 1];
} ret_due;
/* Decode a (key, value) pair of ret_due; -1 if malformed. */
int ret_due_decode(const store_val *k, const store_val *v, ret_due *out);

/* A register's contract end (0: none) and flags. */
int ret_reg_get(store *st, store_txn *txn, const char *reg, uint64_t *end_us,
    uint8_t *flags);
int ret_reg_put(
    store *st, store_txn *txn, const char *reg, uint64_t end_us, uint8_t flags);

/* Legal holds. sid NULL: the register's own hold. */
typedef struct ret_hold {
	char reg[CRYPTO_MAX_NAME + 1];
	bool has_sid;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	uint64_t set_at_us;
	uint64_t until_us; /* 0: until lifted */
	char by[CRYPTO_MAX_NAME + 1];
	char subject[CRYPTO_MAX_SUBJECT + 1];
	char reason[RET_REASON_MAX + 1];
} ret_hold;

#define RET_HOLD_KEYMAX RET_SUB_KEYMAX
size_t ret_hold_key(uint8_t *key, const char *reg, const uint8_t *sid);
/* Is a hold in force at t? */
static inline bool
ret_hold_active(const ret_hold *h, uint64_t t)
{
	return h->until_us == 0 || t < h->until_us;
}
int ret_hold_get(store *st, store_txn *txn, const crypto_keys *k,
    const char *reg, const uint8_t *sid, ret_hold *out);
int ret_hold_put(
    store *st, store_txn *txn, const crypto_keys *k, const ret_hold *h);
int ret_hold_del(
    store *st, store_txn *txn, const char *reg, const uint8_t *sid);
/* Delete the holds whose end has passed at t (their sealed subject id
 * and reason go with them); *n deleted. */
int ret_hold_expire(store *st, store_txn *txn, uint64_t t, size_t *n);
/* Decode and open a (key, value) pair of holds; -1 if malformed. */
int ret_hold_decode(const crypto_keys *k, const store_val *key,
    const store_val *val, ret_hold *out);
/*
 * The hold that keeps a subject's data at t, if any: the subject's own or
 * the register's, whichever lasts longer; a hold record that does not
 * authenticate holds too (until lifted). 0 and *held, or a store error.
 */
int ret_hold_find(store *st, store_txn *txn, const crypto_keys *k,
    const char *reg, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], uint64_t t,
    bool *held, ret_hold *out);

/* Anonymous records. */
#define RET_ANON_IDBYTES 16
#define RET_ANON_KEYMAX  (1 + CRYPTO_MAX_NAME + RET_ANON_IDBYTES)
/* Store one, under a fresh random id. */
int ret_anon_put(store *st, store_txn *txn, const crypto_keys *k,
    const char *reg, uint64_t month_us, const uint8_t *plain, size_t len);
/* Open one: *plain (malloc'd, *len bytes; wipe and free it) and its month.
 * -1 if it does not authenticate. */
int ret_anon_open(const crypto_keys *k, const store_val *key,
    const store_val *val, uint8_t **plain, size_t *len, uint64_t *month_us);
/* The value of field name in an opened record, or NULL. */
const uint8_t *ret_anon_field(
    const uint8_t *plain, size_t len, const char *name, size_t *vlen);
/* Delete up to max anonymous records of a register; *n deleted, *more if
 * some are left. */
int ret_anon_drop(store *st, store_txn *txn, const char *reg, size_t max,
    size_t *n, bool *more);
/* The first year-month of t: midnight UTC on the 1st. */
uint64_t ret_month_of(uint64_t t_us);

#endif
