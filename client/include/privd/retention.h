/*
 * <privd/retention.h> - retention in libprivd: the events retention rules
 * count from, legal holds, running or previewing privd's sweep, and
 * reporting (aggregates over live and anonymised records).
 *
 * Part of the client library's public contract, split from
 * <privd/client.h> (which includes this header, so including either is
 * enough); the conventions, deadlines and thread safety described there
 * hold here too.
 */
#ifndef PRIVD_RETENTION_H
#define PRIVD_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include <privd/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Retention. privd applies the policy's retention rules by itself: a
 * sweeper inside privd deletes or anonymises every field when it falls
 * due, each action one audit event of principal "retention" naming the
 * rule. These calls tell privd about the events rules count from (the end
 * of a customer relationship, of a processing contract), set legal holds
 * that keep data whatever the rules say, and run or preview a sweep.
 * Times are microseconds since the Unix epoch, UTC, by privd's clock;
 * privd refuses (PRIVD_EINVAL) a time before 2000-01-01 (the library does
 * too, before sending) or more than a year past its clock.
 */

/* at_us of privd_relationship_end() and privd_contract_end(): "now, by
 * privd's clock". (0 undoes an end.) */
#define PRIVD_AT_NOW UINT64_MAX

/*
 * The customer relationship with a subject of register reg ended at at_us
 * (PRIVD_AT_NOW: now, by privd's clock); rules that count from
 * relationship_end count from then. at_us 0 undoes a relationship end
 * recorded before, which privd refuses once something was deleted because
 * of it. Needs a write grant on the register (for any purpose; the call
 * takes none). On PRIVD_OK *recorded_us (may be NULL) receives the end
 * privd recorded (0: undone) and *fields (may be NULL) the number of the
 * subject's stored fields whose due time moved; on failure both are 0.
 * Errors: PRIVD_EINVAL (c NULL, an empty register, a subject id empty or
 * longer than 256 bytes, at_us before 2000-01-01; privd: at_us more than a
 * year past its clock), PRIVD_EDENIED (no write grant on the register:
 * reason no_grant; an undeclared register: unknown_register),
 * PRIVD_ENOTFOUND (the subject is not stored), PRIVD_ECONFLICT (an undo
 * after something was deleted because of the end), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the change may or
 * may not have happened), PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_relationship_end(privd_client *c, const char *reg,
    const char *subject, uint64_t at_us, uint64_t *recorded_us,
    uint32_t *fields);

/*
 * The processing contract behind register reg ended at at_us
 * (PRIVD_AT_NOW: now, by privd's clock): from then on privd refuses puts
 * to the register (PRIVD_ECONFLICT), and the rules that count from
 * contract_end destroy its data when they fall due. at_us 0 undoes a
 * contract end recorded before, which privd refuses once a purge has
 * begun. Needs the role policy_admin. On PRIVD_OK *recorded_us (may be
 * NULL) receives the end privd recorded (0: undone); on failure 0.
 * Errors: PRIVD_EINVAL (c NULL, an empty register, at_us before
 * 2000-01-01; privd: at_us more than a year past its clock), PRIVD_EDENIED
 * (reason role_required, or unknown_register), PRIVD_ECONFLICT (an undo
 * after a purge began), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the change may or may not have
 * happened), PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_contract_end(
    privd_client *c, const char *reg, uint64_t at_us, uint64_t *recorded_us);

/*
 * Legal holds. A hold keeps what it covers - one subject of a register, or
 * the whole register - from every deletion and anonymisation: by a
 * retention rule, by a delete request (which then answers
 * PRIVD_ERETAINED, naming the hold's reason) and by a contract end. It
 * lasts until it is lifted or its until time passes. The hold calls need
 * the role subject_rights or policy_admin (else PRIVD_EDENIED, reason
 * role_required).
 */

/*
 * Set a hold on subject of register reg (subject NULL or "": on the whole
 * register), for reason (1..256 bytes, required: privd shows it to whoever
 * lists holds and in the answers of the deletes it blocks; it should not
 * hold personal data), until until_us (0: until lifted; else a time in the
 * future). A hold already set on the same target is replaced: *replaced
 * (may be NULL) says whether one was; on failure it is 0. The library
 * keeps no reference to any argument.
 * Errors: PRIVD_EINVAL (c NULL, an empty register, a subject id longer
 * than 256 bytes, a reason empty or longer than 256 bytes, until_us before
 * 2000-01-01; privd: until_us not in the future), PRIVD_EDENIED (reason
 * role_required, or unknown_register:
 * the register is not declared), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the hold may or may not be set),
 * PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_hold_set(privd_client *c, const char *reg, const char *subject,
    const char *reason, uint64_t until_us, int *replaced);

/*
 * Lift the hold on subject of register reg (subject NULL or "": the
 * register's own hold; a register hold and the holds on its subjects are
 * separate). What it kept falls under the rules again (and is deleted at
 * the next sweep if it is overdue).
 * Errors: PRIVD_EINVAL (c NULL, an empty register, a subject id longer
 * than 256 bytes), PRIVD_ENOTFOUND (no such hold in force),
 * PRIVD_EDENIED (reason role_required, or unknown_register),
 * PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT
 * (the hold may or may not be lifted), PRIVD_EPROTO, PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_hold_lift(privd_client *c, const char *reg, const char *subject);

/* One legal hold in force (privd_hold_list). */
typedef struct privd_hold {
	char reg[65];
	char subject[257]; /* the subject id as given to privd_hold_set();
	                      "" for a whole-register hold */
	char reason[257];
	uint64_t until_us;  /* 0: until lifted */
	uint64_t set_at_us; /* when it was set (or last replaced) */
	char set_by[65];    /* the principal that set it */
} privd_hold;

/*
 * List the holds in force in register reg (NULL or "": in every register),
 * by register then time set. Expired holds are not listed. On PRIVD_OK
 * *holds is an array of *n entries owned by the caller (never NULL, even
 * for none; free with privd_holds_free(), which wipes the subject ids);
 * on failure *holds is NULL and *n is 0.
 * Errors: PRIVD_EINVAL (c, holds or n NULL, a register name longer than
 * 64 bytes), PRIVD_EDENIED (reason role_required, or unknown_register),
 * PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT,
 * PRIVD_EPROTO (more than 1000000 holds, or a subject id or reason longer
 * than 256 bytes),
 * PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_hold_list(
    privd_client *c, const char *reg, privd_hold **holds, size_t *n);

/* Free a hold list of privd_hold_list(), wiping it first, and set *holds
 * to NULL. NULL-safe. */
void privd_holds_free(privd_hold **holds);

/* What privd_retention_run() asks for. A zeroed struct (or NULL) asks for
 * a sweep of every register now, without limit. */
typedef struct privd_retention_opts {
	int preview;       /* nonzero: only say what a sweep would do */
	uint64_t as_of_us; /* preview only: as of this time (0: now) */
	const char *reg;   /* only this register (NULL or "": every one) */
	uint32_t limit;    /* sweep only: stop after this many field actions
	                      (0: no limit) */
} privd_retention_opts;

/* What one retention rule did (or would do) in a register. */
typedef struct privd_retention_count {
	char reg[65];
	char rule[65];     /* the rule's id */
	char action[33];   /* "delete", "anonymize" or "contract_end_purge" */
	uint64_t fields;   /* fields acted on */
	uint64_t subjects; /* distinct subjects they belong to */
	uint64_t held;     /* fields due but kept by a legal hold */
	/* contract_end_purge: anonymous records of the register destroyed
	 * (in a preview: that would be); 0 for the other actions */
	uint64_t anonymous_records;
} privd_retention_count;

/* The answer of privd_retention_run(); counts points into the report. */
typedef struct privd_retention_report {
	uint64_t as_of_us; /* the time the sweep (or preview) was as of */
	uint64_t examined; /* due-index entries privd read */
	int more;          /* a sweep stopped at its limit with more due */
	privd_retention_count *counts; /* by register, then rule */
	size_t ncounts;
} privd_retention_report;

/*
 * Run privd's retention sweep now, or with opts->preview say what a sweep
 * as of opts->as_of_us (0: now) would do, changing nothing. A sweep acts
 * on what is due by privd's clock and answers when nothing due is left
 * (or after opts->limit field actions: then more is set); every action is
 * an audit event of principal "retention". What a preview says for time T
 * is what a sweep at T does, unless data, holds or the policy change in
 * between. opts may be NULL (a sweep of everything). Needs the role
 * policy_admin. On PRIVD_OK *out is a new report owned by the caller (free
 * with privd_retention_report_free()); on failure *out is NULL.
 * A large sweep may take longer than the handle's timeout: then
 * PRIVD_ETIMEOUT, and the sweep goes on in privd; use a limit, or a longer
 * timeout.
 * Errors: PRIVD_EINVAL (c or out NULL, as_of_us without preview, a limit
 * with preview, as_of_us before 2000-01-01, a register name longer than 64
 * bytes), PRIVD_EDENIED (reason role_required, or unknown_register),
 * PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the
 * sweep goes on in privd: see above), PRIVD_EPROTO (more than 1000000
 * counts), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_retention_run(privd_client *c, const privd_retention_opts *opts,
    privd_retention_report **out);

/* Free a report of privd_retention_run() and set *r to NULL. NULL-safe. */
void privd_retention_report_free(privd_retention_report **r);

/*
 * Reporting: counts, and for integer fields sums and statistics, over a
 * register's live subjects and its anonymous records together (what
 * retention anonymised still counts), for a purpose the policy marks
 * statistical. No answer holds a single record's value: a group with
 * fewer subjects than the policy's reporting.min_group is suppressed,
 * only counted.
 */

/* One group of an aggregate. key belongs to the result. */
typedef struct privd_aggregate_group {
	/* the group's value of group_by, keylen bytes (also NUL-terminated,
	 * not counted); keylen 0 without group_by, for the group of records
	 * without a group_by value (missing), and for an empty value */
	const uint8_t *key;
	size_t keylen;
	int missing;    /* the records without a group_by value */
	uint64_t count; /* records with the field */
	/* only if the result's integer is set (else 0): */
	int64_t sum;
	double mean;
	int64_t min;
	int64_t max;
} privd_aggregate_group;

/* The answer of privd_aggregate(); groups points into the result. */
typedef struct privd_aggregate_result {
	privd_aggregate_group *groups; /* by key (byte order), missing last */
	size_t ngroups;
	uint64_t suppressed_groups;  /* groups under the minimum */
	uint64_t suppressed_records; /* records in them */
	uint32_t min_group;          /* the minimum in force */
	int integer; /* the field is an integer: the groups' sum, mean, min
	                and max are set (otherwise only their count) */
} privd_aggregate_result;

/*
 * Aggregate field of register reg for purpose (a purpose the policy marks
 * statistical, with a read grant on the fields), over live subjects and
 * anonymous records, optionally grouped by the non-identifying field
 * group_by (NULL or "": one group). On PRIVD_OK *out is a new result owned
 * by the caller (free with privd_aggregate_result_free(), which wipes the
 * group keys); on failure *out is NULL.
 * Errors: PRIVD_EINVAL (c or out NULL, an empty register, purpose or field,
 * a name longer than 64 bytes; privd: group_by an identifying field, or
 * the field itself, or more than 1000 distinct group_by values),
 * PRIVD_EDENIED (unknown_register, unknown_field, unknown_purpose,
 * no_grant - also for a purpose not marked statistical -,
 * field_not_granted, region), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (more
 * than 1000000 groups, a group key larger than 64 KiB, or the missing
 * group with a key), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_aggregate(privd_client *c, const char *purpose, const char *reg,
    const char *field, const char *group_by, privd_aggregate_result **out);

/* Free a result of privd_aggregate(), wiping it first, and set *r to NULL.
 * NULL-safe. */
void privd_aggregate_result_free(privd_aggregate_result **r);

#ifdef __cplusplus
}
#endif

#endif /* PRIVD_RETENTION_H */
