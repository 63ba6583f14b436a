/*
 * <privd/rights.h> - data subject rights in libprivd: restriction of
 * processing, objection to a purpose, erasure, lookup and export.
 *
 * Part of the client library's public contract, split from
 * <privd/client.h> (which includes this header, so including either is
 * enough); the conventions, deadlines and thread safety described there
 * hold here too.
 *
 * These calls answer the requests people make about their own data. They
 * need the role subject_rights in the policy in force: without it they
 * fail with PRIVD_EDENIED and privd_reason() == PRIVD_REASON_ROLE_REQUIRED, or
 * PRIVD_REASON_UNKNOWN_PRINCIPAL for a key the policy does not name. They take
 * no purpose. privd audits every one it receives (operations subject_restrict,
 * subject_object, subject_erase, subject_lookup, subject_export) under the
 * subject's pseudonym, refused and failed ones too; one the library refuses
 * before sending (PRIVD_EINVAL) reaches neither privd nor its log. The library
 * wipes the request, which holds the subject id, like every other (see "Memory
 * that held personal data" in <privd/client.h>). The results of
 * privd_subject_lookup() and privd_subject_export() hold subject ids (and
 * an export the values): their free functions wipe them.
 */
#ifndef PRIVD_RIGHTS_H
#define PRIVD_RIGHTS_H

#include <privd/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Restrict processing of subject's data in register reg (on nonzero), or
 * lift the restriction (on 0). While it is restricted, privd denies every
 * get, put and delete of the subject in the register (PRIVD_EDENIED,
 * privd_reason() PRIVD_REASON_RESTRICTED), except for a purpose the policy
 * marks allowed_when_restricted (such as debt collection or legal claims). The
 * subject's other registers, and other subjects, are not affected. The
 * restriction lasts until lifted, or until the subject's data is gone from
 * the register. *changed (may be NULL) says whether anything changed: 0
 * if the subject was restricted (or not) already; on failure it is 0.
 * Errors: PRIVD_EINVAL (c NULL, an empty register or one longer than 64
 * bytes, a subject id empty or longer than 256 bytes), PRIVD_ENOTFOUND
 * (the subject is not stored in the register), PRIVD_EDENIED (reason
 * role_required, unknown_principal, or unknown_register: the register is
 * not declared), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT (the change may or may not have happened: ask again, it
 * is idempotent), PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_subject_restrict(privd_client *c, const char *reg,
    const char *subject, int on, int *changed);

/*
 * The subject objects to purpose in register reg (on nonzero), or
 * withdraws the objection (on 0). Only a purpose the policy marks
 * objectable can be objected to. From then on privd denies every get, put
 * and delete of the subject in the register for that purpose
 * (PRIVD_EDENIED, privd_reason() PRIVD_REASON_OBJECTED); its other purposes are
 * not affected. The objection lasts until withdrawn, or until the subject's
 * data is gone from the register. *changed (may be NULL) says whether
 * anything changed: 0 if the objection was in force (or not) already; on
 * failure it is 0.
 * Errors: PRIVD_EINVAL (c NULL, an empty register or purpose or one
 * longer than 64 bytes, a subject id empty or longer than 256 bytes;
 * privd: a purpose not marked objectable, which privd_errmsg() names),
 * PRIVD_ENOTFOUND (the subject is not stored in the register),
 * PRIVD_EDENIED (reason role_required, unknown_principal,
 * unknown_register, or unknown_purpose: the register declares no such
 * purpose), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT (the change may or may not have happened: ask again, it
 * is idempotent), PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_subject_object(privd_client *c, const char *reg, const char *subject,
    const char *purpose, int on, int *changed);

/* What an erasure did in one register where the subject was stored. */
typedef struct privd_erased_register {
	char reg[65]; /* the register's name */
	/* the fields deleted, by name (NUL-terminated policy names); NULL
	 * when ndeleted is 0 */
	char **deleted;
	size_t ndeleted;
	/* the fields kept and why, as privd_delete_ex() reports them: a
	 * keep_at_least minimum that has not passed (rule, until_us) or a
	 * legal hold (hold_reason); NULL when nkept is 0 */
	privd_retained *kept;
	size_t nkept;
	/* nothing of the subject is left in the register: its data key was
	 * destroyed with its records (crypto-shredding). 0 when something
	 * was kept: the subject stays, with the fields kept. */
	int key_destroyed;
} privd_erased_register;

/* The answer of privd_subject_erase(); everything it points to belongs
 * to it. */
typedef struct privd_erasure {
	/* one per register where the subject was stored, by register name;
	 * registers where it was not stored are not listed (NULL when
	 * nregisters is 0) */
	privd_erased_register *registers;
	size_t nregisters;
} privd_erasure;

/*
 * Erase subject (the right to erasure) from the nregisters registers
 * named in registers, or with nregisters 0 (registers may then be NULL)
 * from every register of the policy. In each register where the subject
 * is stored, privd deletes every stored field except those a retention
 * minimum (keep_at_least) or a legal hold keeps, exactly as a delete
 * request would; where nothing is kept, the subject's data key is
 * destroyed with its records, and so are its restriction and objections.
 * privd records the erasure (pseudonymously) in its erasure journal in
 * the same transaction, so that a restored backup erases the subject
 * again.
 * Returns PRIVD_OK when nothing was kept anywhere, PRIVD_ERETAINED when
 * something was (everything else was erased). In both cases *out is a new
 * report owned by the caller (free with privd_erasure_free()): per
 * register, what was deleted and kept, and whether the key was destroyed
 * (after PRIVD_ERETAINED without a report from privd, a report of no
 * register). On any other failure *out is NULL.
 * Errors: PRIVD_EINVAL (c or out NULL, a subject id empty or longer than
 * 256 bytes, registers NULL with nregisters > 0, a register name empty or
 * longer than 64 bytes; privd: more than 16 registers, the most a policy
 * declares), PRIVD_ENOTFOUND (the subject is stored in none
 * of the registers; privd audits the request all the same),
 * PRIVD_EDENIED (reason role_required, unknown_principal, or
 * unknown_register: a register named is not declared; nothing is erased),
 * PRIVD_ERETAINED (see above), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the erasure may or may not have
 * happened: ask again, which erases what is left, or answers
 * PRIVD_ENOTFOUND when nothing is), PRIVD_EPROTO (a report of more than
 * 1000 registers, of a register not asked for or twice, of more than 256
 * fields deleted or kept in one register, of a field without a name or
 * with a name longer than 64 bytes, of a key destroyed where a field was
 * kept, or of a field kept with the status OK), PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_subject_erase(privd_client *c, const char *subject,
    const char *const *registers, size_t nregisters, privd_erasure **out);

/* Free a report of privd_subject_erase() and set *e to NULL. NULL-safe. */
void privd_erasure_free(privd_erasure **e);

/* One person found by privd_subject_lookup(). */
typedef struct privd_match {
	char reg[65];  /* the register's name */
	char *subject; /* the subject id the person is stored under */
} privd_match;

/*
 * Find a person by the value of a field the policy marks `lookup: true`
 * (e.g. "email", "phone"), in every register that declares it so. Values
 * are compared normalised: an email address case-folded, a phone number in
 * E.164 form (a national number with a leading 0 is taken as Finnish,
 * +358; spaces, hyphens and parentheses are ignored). privd searches a
 * keyed blind index: it keeps neither the value nor an unkeyed hash of it.
 * Role subject_rights; audited (the field's name, never the value).
 * On success *out is an array of *n matches sorted by register, then
 * subject (NULL and 0 when nobody matched: that is not an error); free it
 * with privd_matches_free(). On failure *out is NULL and *n 0.
 * Errors: PRIVD_EINVAL (c, field, value, out or n NULL; an empty field
 * name or one longer than 64 bytes; a value empty or longer than 1024
 * bytes; privd: a field that no register marks lookup, a phone number
 * without digits), PRIVD_EDENIED (reason role_required or
 * unknown_principal), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT, PRIVD_EPROTO (a match without a register or subject, or
 * with one too long), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_subject_lookup(privd_client *c, const char *field, const void *value,
    size_t len, privd_match **out, size_t *n);

/* Free the matches of privd_subject_lookup() (the subject ids are wiped)
 * and set *m to NULL. NULL-safe. */
void privd_matches_free(privd_match **m, size_t n);

/*
 * Everything privd holds about subject, and who used it, as one JSON
 * document (UTF-8), for the rights of access (GDPR art. 15) and data
 * portability (art. 20): per register where the subject is stored, its
 * restriction, objections, relationship end and the legal holds that keep
 * its data, and every stored field with its value, type, category,
 * source, purpose, legal basis, times and retention; then, from the audit
 * log, who read, wrote or deleted the data when and for what purpose
 * (recipients), what retention did to it, and the rights requests made
 * about it. The document's schema is docs/subject-export.schema.json
 * (format_version 1). reg names one register; NULL or "": every register
 * where the subject is stored. A stored value that does not open is
 * listed as damaged, without a value.
 * On success *json is a new NUL-terminated buffer of *len bytes (the NUL
 * not counted) owned by the caller: it holds the person's data, so free
 * it with privd_subject_export_free(), which wipes it. On failure *json is
 * NULL and *len 0. Unlike the other results of these calls, the document
 * holds the subject id (as given) as well as the values. privd audits the
 * request (operation subject_export) under the subject's pseudonym, with the
 * register if one was named. The export may take longer than other calls for a
 * person with much data or a long history: give the handle a timeout to match.
 * Errors: PRIVD_EINVAL (c, json or len NULL, a register name longer than
 * 64 bytes, a subject id empty or longer than 256 bytes), PRIVD_ENOTFOUND
 * (the subject is stored in none of the registers; privd audits the
 * request all the same), PRIVD_EDENIED (reason role_required,
 * unknown_principal, or unknown_register), PRIVD_ETOOBIG (the document
 * would be larger than 32 MiB: privd_errmsg() names the register to
 * export alone), PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT
 * (ask again: an export changes nothing), PRIVD_EPROTO (an answer that
 * is empty, holds a NUL byte or is larger than 32 MiB), PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_subject_export(privd_client *c, const char *reg, const char *subject,
    char **json, size_t *len);

/* Wipe and free a document of privd_subject_export() of len bytes, and
 * set *json to NULL. NULL-safe. */
void privd_subject_export_free(char **json, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* PRIVD_RIGHTS_H */
