/*
 * substate.h - what a data subject asked for (issue 10, DESIGN.md section
 * 7): restriction of processing and objections to purposes, per (register,
 * subject); and the erasure journal.
 *
 *   subj_state  sid(32) -> fmt(1) sealed(restricted(1) { len(1) purpose }...)
 *               sealed under the daemon's secret key, bound to the key: a
 *               state moved to another subject, or edited, does not open.
 *               Objections are kept by purpose name, so that a policy
 *               change that reorders purposes keeps them.
 *   erasures    be64 seq -> fmt(1) time(8) kind(1) sid(32) reglen(1) reg
 *               nfields(2) { len(1) field }...   (nfields 0: the whole
 *               subject)
 *               the erasure journal: every deletion of personal data
 *               (erasure, delete request, retention), pseudonymous (sid is
 *               a keyed hash), appended in the transaction of the
 *               deletion, so that a restore can apply them again; and
 *               every change of a subject's restriction or objections
 *               (the state it left, objections as fields), so that a
 *               restore does not undo a data subject's request.
 */
#ifndef PRIVD_SUBSTATE_H
#define PRIVD_SUBSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "store.h"

typedef struct subj_state {
	bool restricted;
	size_t nobjections;
	char objections[POL_MAX_PURPOSES][POL_MAX_NAME + 1];
} subj_state;

/* The state of subject sid: 0 (all false if none is stored), a store
 * error, or STORE_CORRUPTED if it does not open. */
int substate_get(store *st, store_txn *txn, const crypto_keys *k,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], subj_state *out);
/* Store it (nothing restricted and no objection: delete the record). */
int substate_put(store *st, store_txn *txn, const crypto_keys *k,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const subj_state *s);
/* Delete it, with the subject. */
int substate_del(
    store *st, store_txn *txn, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES]);

/* Is the purpose objected to? Add / remove an objection (true if that
 * changed anything). */
bool substate_objects(const subj_state *s, const char *purpose);
bool substate_object(subj_state *s, const char *purpose, bool on);

/* The state as pol_decide takes it, for register r. */
void substate_decide(
    const subj_state *s, const pol_register *r, pol_subject_state *out);

/* How many subjects have a state (for the workers: none, no lookups). */
int substate_count(store *st, store_txn *txn, uint64_t *n);

/* Journal kinds. */
#define JOURNAL_ERASE     1 /* SubjectErase */
#define JOURNAL_DELETE    2 /* a delete request */
#define JOURNAL_RETENTION 3 /* the retention sweeper */
/* Not deletions: a data subject's state as a restriction or an objection
 * (or its end) left it, so that a restore sets it again. fields: the
 * purposes objected to. */
#define JOURNAL_RESTRICTED 4 /* restricted */
#define JOURNAL_STATE      5 /* not restricted */
#define JOURNAL_KINDS      6 /* one past the last */

/* Append to the erasure journal: fields (n of them; 0: the whole subject)
 * of sid in reg deleted at time t. */
int journal_append(store *st, store_txn *txn, uint64_t t, int kind,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *reg,
    const char *const *fields, size_t n);

/* One journal entry, decoded; pointers valid for the transaction. */
typedef struct journal_entry {
	uint64_t seq;
	uint64_t time_us;
	int kind; /* JOURNAL_* */
	const uint8_t *sid;
	char reg[POL_MAX_NAME + 1];
	size_t nfields; /* 0: the whole subject */
	char fields[POL_MAX_FIELDS][POL_MAX_NAME + 1];
} journal_entry;

/* Decode a (key, record) pair of the journal: 0, or STORE_CORRUPTED. */
int journal_decode(const store_val *k, const store_val *v, journal_entry *out);
/* The last seq of the journal (0: empty). */
int journal_head(store *st, store_txn *txn, uint64_t *seq);
/* The name of a kind ("erase", "delete", "retention"), NULL if unknown. */
const char *journal_kind_name(int kind);

/*
 * Forget what a deletion removes: fields (n of them) of subject sid in reg,
 * with their retention plans; n == 0: the whole subject, its wrapped key
 * (crypto-shredding), plans, retention record and state. Blind-index
 * entries go with the values (store.c). Something already gone is not an
 * error, so that a journal entry can be applied again (a restore).
 */
int store_forget(store *st, store_txn *txn, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *const *fields,
    size_t n);

#endif
