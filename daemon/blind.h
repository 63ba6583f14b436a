/*
 * blind.h - the blind index of lookup values (issue 10, DESIGN.md section
 * 7): how the privacy team finds a person by email or phone number without
 * privd keeping either in the clear.
 *
 *   blind     tag(32) sid(32) field -> fmt(1) reglen(1) reg
 *   blind_of  sid(32) field -> tag(32)
 *
 * tag = BLAKE2b-256 keyed with the blind-index key (derived from the master
 * key) over a domain, the field's name and the value normalised: an email
 * address case-folded, a phone number in E.164 form. Without the master key
 * a tag cannot be computed from a guessed value, so the index tells nothing
 * of the values; with it, a lookup is one range scan. blind_of finds the
 * tag of a stored value again, to replace or remove its entry without
 * opening the value. The subject id of a match comes from its sealed
 * retention record (retstore.h).
 */
#ifndef PRIVD_BLIND_H
#define PRIVD_BLIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "store.h"

#define BLIND_TAGBYTES 32
/* Longest normalised value: a phone number's digits and prefix, or an
 * email address; longer values of other types are hashed as they are. */
#define BLIND_NORM_MAX 512

/* Normalise value v of field f into out (BLIND_NORM_MAX bytes): email
 * case-folded; phone in E.164 (a leading 00 becomes +; a national number
 * with a leading 0 is taken as Finnish, +358); other types as they are.
 * Returns the length, or -1 if the value cannot be normalised (a phone
 * number without digits, a value too long). */
int blind_normalise(
    const pol_field *f, const uint8_t *v, size_t len, uint8_t *out);

/* The tag of value v of field f; -1 if it cannot be normalised. */
int blind_tag(const crypto_keys *k, const pol_field *f, const uint8_t *v,
    size_t len, uint8_t tag[BLIND_TAGBYTES]);

/* Index field of subject sid in reg under tag, replacing the entry of its
 * previous value. */
int blind_put(store *st, store_txn *txn, const uint8_t tag[BLIND_TAGBYTES],
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *reg,
    const char *field);
/* Remove the entry of (sid, field); 0 if there was none. */
int blind_del(store *st, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field);
/* Remove every entry of subject sid. */
int blind_del_subject(
    store *st, store_txn *txn, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES]);

/* One entry under a tag; pointers valid for the transaction. */
typedef struct blind_match {
	const uint8_t *sid;
	const char *field; /* not NUL-terminated */
	size_t fieldlen;
	const char *reg; /* not NUL-terminated */
	size_t reglen;
} blind_match;

/* Call fn for every entry under tag, in key order, until it returns
 * non-zero (which is returned). Malformed entries are skipped. */
int blind_find(store *st, store_txn *txn, const uint8_t tag[BLIND_TAGBYTES],
    int (*fn)(void *arg, const blind_match *m), void *arg);

/* Index FILL_STEP more subjects' lookup values into an index being built
 * (blind_fill.c), in the writer's transaction txn; *done once every one
 * is (the store is then marked "blind_index"). Counts what it indexed and
 * the records that did not open. */
int blind_fill_step(store *st, store_txn *txn, const crypto_keys *k,
    const pol_policy *pol, uint64_t *subjects, unsigned *damaged, bool *done);
/* Empty the index and clear the mark, to be built again. */
int blind_reset(store *st, store_txn *txn);
/* Does going from policy a to b change what is indexed or how (a field
 * made lookup or no longer, or a lookup field's type)? */
bool blind_policy_changed(const pol_policy *a, const pol_policy *b);
/* Is the index complete (meta "blind_index")? 0 with *ready, or a store
 * error. */
int blind_ready(store *st, store_txn *txn, bool *ready);

#endif
