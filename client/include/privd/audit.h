/*
 * <privd/audit.h> - the audit log in libprivd: querying events, the
 * signed checkpoints and their key, verifying the chain in the client, and
 * the state of pruning.
 *
 * Part of the client library's public contract, split from
 * <privd/client.h> (which includes this header, so including either is
 * enough); the conventions, deadlines and thread safety described there
 * hold here too.
 */
#ifndef PRIVD_AUDIT_H
#define PRIVD_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include <privd/client.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Audit log. These calls need the role auditor in the policy in force;
 * without it they fail with PRIVD_EDENIED and privd_reason() ==
 * PRIVD_REASON_ROLE_REQUIRED. privd records every request it answers as one
 * audit event (these calls included), chains the events with BLAKE2b-256 and
 * signs a checkpoint of the chain every N events and at shutdown with its
 * Ed25519 key; proto/privd.proto describes the format.
 */

/* Decisions of an audit event, and privd_audit_filter.decision. */
#define PRIVD_DECISION_ANY      0 /* query only: any decision */
#define PRIVD_DECISION_ALLOWED  1 /* decided and allowed (see status) */
#define PRIVD_DECISION_REFUSED  2 /* denied by the policy (see reason) */
#define PRIVD_DECISION_REJECTED 3 /* not decided: malformed or invalid */
#define PRIVD_DECISION_FAILED   4 /* privd failed to carry it out */

/*
 * The status privd answered a request with, as its audit event records
 * it (privd_audit_event.status): privd.v1.Status's numbers, which differ
 * from the library's PRIVD_E* codes (a library status also covers what
 * happens in the client). privd_audit_status_name() names them.
 */
#define PRIVD_AUDIT_STATUS_UNSPECIFIED 0  /* never recorded by privd */
#define PRIVD_AUDIT_STATUS_OK          1  /* carried out */
#define PRIVD_AUDIT_STATUS_INVALID     2  /* malformed, or a value failed */
#define PRIVD_AUDIT_STATUS_DENIED      3  /* denied: see the event's reason */
#define PRIVD_AUDIT_STATUS_NOT_FOUND   4  /* no such subject or field */
#define PRIVD_AUDIT_STATUS_CONFLICT    5  /* a precondition did not hold */
#define PRIVD_AUDIT_STATUS_RETAINED    6  /* kept by a legal minimum or hold */
#define PRIVD_AUDIT_STATUS_TOO_LARGE   7  /* over a size limit */
#define PRIVD_AUDIT_STATUS_UNAVAILABLE 8  /* stopping, overloaded, disk full */
#define PRIVD_AUDIT_STATUS_INTERNAL    9  /* privd failed */
#define PRIVD_AUDIT_STATUS_EXPIRED     10 /* past its deadline: not done */

/* The name of an audit event's status as privd.proto spells it, lower
 * case ("ok", "not_found", ...; "unspecified" for 0); "unknown" for a
 * number this library does not know. Static. */
const char *privd_audit_status_name(int status);

/* The name of an audit event's decision: "allowed", "refused",
 * "rejected", "failed" for PRIVD_DECISION_*, "unspecified" for 0;
 * "unknown" for a number this library does not know. Static. */
const char *privd_audit_decision_name(int decision);

/*
 * What privd_audit_query() looks for. Every criterion given must hold; a
 * zeroed struct asks for every event. Strings may be NULL or "" for "no
 * criterion"; the library keeps no reference to any of them. (Named
 * "filter" because C gives a type and a function one namespace.)
 * Operation names are those of privd_audit_event.op: ping put get delete
 * policy_get policy_apply policy_history audit_query audit_follow
 * audit_checkpoints audit_pubkey audit_prune relationship_end contract_end
 * hold_set hold_lift hold_list retention_run retention_preview aggregate
 * subject_restrict subject_object subject_erase invalid, and for
 * principal "retention" retention_delete
 * retention_anonymize contract_end_purge; privd refuses (PRIVD_EINVAL) a
 * name it does not know.
 */
typedef struct privd_audit_filter {
	const char *subject;    /* a subject id: privd looks up its pseudonym */
	const char *reg;        /* only events of this register */
	const char *principal;  /* only events of this principal */
	uint64_t since_us;      /* time_us >= since_us (0: no bound) */
	uint64_t until_us;      /* time_us < until_us (0: no bound) */
	const char *const *ops; /* only these operations ("get", "put", ...) */
	size_t nops;            /* number of ops (at most 32; 0: any) */
	int decision;           /* PRIVD_DECISION_*; 0: any */
	int newest_first;       /* nonzero: newest event first */
	uint32_t limit;         /* events per page, 1..1000 (0: privd's 100) */
	uint64_t from_seq;      /* seq >= from_seq (0: no bound) */
	uint64_t to_seq;        /* seq <= to_seq (0: no bound) */
	/* not these operations (at most 32; 0: exclude none), e.g.
	 * "audit_query" to leave out the auditors' own queries */
	const char *const *not_ops;
	size_t nnot_ops;
	uint64_t request_id; /* only events of this request id (0: any) */
	/*
	 * Nonzero: this query is one poll of a follow (`privctl audit tail
	 * -f`): the events with seq >= from_seq, oldest first. A follow takes
	 * no other criterion but limit and not_ops (else PRIVD_EINVAL,
	 * before anything is sent). privd audits the polls of a follow with
	 * at most one "audit_follow" event per principal and minute, instead
	 * of one "audit_query" event per query.
	 */
	int follow;
} privd_audit_filter;

/*
 * One audit event, as privd stored it. Strings are NUL-terminated names
 * from the policy ("" when the event has none).
 * A damaged event is one privd stored but can no longer read (its bytes do
 * not decode): privd still reports it in every answer whose seq range it
 * falls in, since it cannot tell whether it matches the criteria. Then
 * damaged is 1, seq is the seq privd stores it under, raw/rawlen are the
 * bytes as stored (possibly none), hash is the stored hash (zeros if there
 * is none), and every other member is zero or empty. Such an event does
 * not verify: privd_audit_verify() reports it as PRIVD_ETAMPERED.
 */
typedef struct privd_audit_event {
	uint64_t seq;            /* 1, 2, 3, ... without gaps */
	uint64_t time_us;        /* microseconds since the Unix epoch, UTC */
	uint64_t policy_version; /* the policy the request was decided under */
	uint64_t request_id;     /* the client's request id */
	char principal[65];      /* who asked ("retention" for retention) */
	char op[33];             /* "ping", "put", "retention_delete", ...
	                            (privd_audit_filter lists them) */
	char reg[65];            /* register touched, if any */
	char purpose[65];        /* the request's purpose, if any */
	char rule[65];           /* retention actions: the rule's id */
	uint8_t subject[32];     /* the subject's pseudonym, if has_subject */
	int has_subject;
	char **fields; /* the fields touched (a get: those returned) */
	size_t nfields;
	int decision;       /* PRIVD_DECISION_* */
	int reason;         /* for PRIVD_DECISION_REFUSED: a PRIVD_REASON_* */
	int status;         /* the reply's status: a PRIVD_AUDIT_STATUS_* */
	const uint8_t *raw; /* the event's bytes as stored, which the chain */
	size_t rawlen;      /* hash covers (a serialised privd.v1.AuditEvent) */
	uint8_t hash[32];   /* its chain hash as stored */
	int damaged;        /* privd cannot decode it (see above) */
} privd_audit_event;

/* One page of results. Everything it points to (fields, raw, cursor)
 * belongs to the page and is valid until privd_audit_page_free(). */
typedef struct privd_audit_page {
	privd_audit_event *events; /* n events, in the order asked for */
	size_t n;
	uint8_t *cursor; /* pass back for the next page; NULL: no more */
	size_t cursorlen;
} privd_audit_page;

/*
 * Get one page of the events that match q (NULL: every event). cursor is
 * NULL (cursorlen 0) for the first page, else the previous page's cursor
 * with the same q. A page may hold fewer events than the limit, even none,
 * and still have a cursor (privd bounds the work of one page): keep asking
 * until the cursor is NULL. On PRIVD_OK *out is a new page owned by the
 * caller (free with privd_audit_page_free()); on failure *out is NULL.
 * A caller that follows cursors should stop if privd hands back the cursor
 * it was sent: that page would come back forever.
 * A damaged event (see privd_audit_event) is part of the page like any
 * other; the call succeeds.
 * Errors: PRIVD_EINVAL (c or out NULL; a subject id longer than 256
 * bytes, a register or principal name longer than 64; more than 32
 * operations or excluded operations, or one empty or longer than 64; an
 * unknown decision; a limit over 1000; a follow with other criteria;
 * cursor NULL with cursorlen > 0; privd: a malformed query or cursor, an
 * unknown operation name), PRIVD_EDENIED (reason
 * PRIVD_REASON_ROLE_REQUIRED without auditor), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (more
 * than 1000 events, an event that does not decode although privd did not
 * mark it damaged, a damaged event without its seq, a hash not of 32
 * bytes or a pseudonym neither absent nor of 32 bytes), PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_audit_query(privd_client *c, const privd_audit_filter *q,
    const uint8_t *cursor, size_t cursorlen, privd_audit_page **out);

/* Free a page and set *p to NULL. NULL-safe. */
void privd_audit_page_free(privd_audit_page **p);

/*
 * The Ed25519 public key that signs privd's audit checkpoints, 32 bytes
 * into pk. An auditor should export it once (`privctl audit pubkey --out`)
 * and verify against that copy: a key asked from privd at verification
 * time proves only that privd signed what privd shows.
 * Errors: PRIVD_EINVAL (c or pk NULL), PRIVD_EDENIED (reason
 * PRIVD_REASON_ROLE_REQUIRED without auditor), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (also
 * a key not of 32 bytes), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_audit_pubkey(privd_client *c, uint8_t pk[32]);

/* A signed statement that the chain's hash after event seq is hash:
 * sig is Ed25519 over "privd-audit-checkpoint-v1" || seq (8 bytes,
 * big-endian) || hash || time_us (8 bytes, big-endian). */
typedef struct privd_audit_checkpoint {
	uint64_t seq;
	uint64_t time_us;
	uint8_t hash[32];
	uint8_t sig[64];
} privd_audit_checkpoint;

/*
 * List the signed checkpoints with from_seq <= seq <= to_seq (0: no bound),
 * oldest first (privd sends at most 10000 per call). On PRIVD_OK *ckpts is
 * an array of *n entries owned by the caller (free with privd_free(); never
 * NULL on success); *first_seq and *last_seq receive the oldest and the
 * newest event still kept (0 if the log is empty). When old events were
 * pruned, *prune_base receives the checkpoint at *first_seq - 1, from which
 * the rest of the chain verifies, and *has_prune_base is set; else it is 0.
 * first_seq, last_seq, prune_base and has_prune_base may be NULL.
 * Errors: PRIVD_EINVAL (c, ckpts or n NULL), PRIVD_EDENIED (reason
 * PRIVD_REASON_ROLE_REQUIRED without auditor), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (more
 * than 10000 checkpoints, or a hash or signature of the wrong length),
 * PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_audit_checkpoints(privd_client *c, uint64_t from_seq, uint64_t to_seq,
    privd_audit_checkpoint **ckpts, size_t *n, uint64_t *first_seq,
    uint64_t *last_seq, privd_audit_checkpoint *prune_base,
    int *has_prune_base);

/*
 * Verify the audit log from event from_seq to event to_seq (0: from the
 * oldest kept event / to the newest as of this call), here in the client:
 * every event's chain hash, the order and continuity of sequence numbers
 * and times, and every signed checkpoint in the range against pk. Where
 * the range starts:
 * - from_seq 0 or 1 and nothing pruned: at event 1 (previous hash: zeros);
 * - at or before the oldest kept event after pruning: at that event, from
 *   the signed checkpoint that ends what was pruned (deleting the oldest
 *   events up to a checkpoint looks the same as pruning);
 * - later: at from_seq, from the hash privd stores for event from_seq - 1
 *   (only the checkpoints from there on vouch for that hash).
 * pk is the signing key (32 bytes). If pk is NULL the key is asked from
 * privd, which proves nothing against a privd that rewrote its log and
 * re-signed it: an auditor should pin the key exported once with
 * privd_audit_pubkey() and pass it here.
 * *checked (may be NULL) receives the number of events verified.
 * Returns PRIVD_OK when the range verifies. PRIVD_ETAMPERED when it does
 * not: *bad_seq (may be NULL) receives the first sequence number that does
 * not verify (an event changed, removed, damaged or out of place, or a
 * checkpoint whose signature or hash does not match) and why (whylen
 * bytes, always NUL-terminated, may be NULL) says what, e.g. "event 7 is
 * damaged (it cannot be decoded)" for an event privd marked damaged.
 * Errors: PRIVD_ETAMPERED (see above), PRIVD_EINVAL (c NULL, from_seq >
 * to_seq > 0), PRIVD_EDENIED (reason PRIVD_REASON_ROLE_REQUIRED without
 * auditor), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT, PRIVD_EPROTO (also when privd's pages or checkpoint lists
 * do not make progress through the range, or go past it, and as for
 * privd_audit_query() and privd_audit_checkpoints()), PRIVD_ENOMEM,
 * PRIVD_EINTERNAL (also: libsodium cannot start).
 * Each page fetched is itself an audit event, recorded after the events
 * being verified.
 */
int privd_audit_verify(privd_client *c, uint64_t from_seq, uint64_t to_seq,
    const uint8_t pk[32], uint64_t *bad_seq, char *why, size_t whylen,
    uint64_t *checked);

/*
 * Pruning of old audit events, as privd reports it (privd_audit_prune).
 * privd deletes events older than the audit retention by itself, unless
 * its wall clock jumped forward by more than a day: then it pauses pruning,
 * so that a wrong clock cannot erase evidence, until an admin confirms
 * that the clock is right.
 */
typedef struct privd_audit_prune_status {
	int paused;              /* pruning waits for a confirmation */
	uint64_t paused_at_us;   /* when privd paused it (0: not paused) */
	uint64_t clock_jump_s;   /* the forward jump that paused it, seconds */
	uint64_t retention_s;    /* retention in force (at least floor_s) */
	uint64_t floor_s;        /* the store's floor (privd init
	                            --audit-retention-min) */
	uint64_t now_us;         /* privd's clock when it answered */
	uint64_t oldest_seq;     /* oldest event kept (0: none) */
	uint64_t oldest_time_us; /* its time */
} privd_audit_prune_status;

/*
 * Report the state of audit pruning into *status (may be NULL); with
 * confirm nonzero, first confirm that privd's clock is right, which
 * resumes a paused pruning. The status is then the one after resuming:
 * paused is 0, and paused_at_us and clock_jump_s still describe the
 * pause just lifted (0 if there was none). Confirming when nothing is
 * paused changes nothing. Needs the role
 * policy_admin (not auditor: resuming can delete events).
 * Errors: PRIVD_EINVAL (c NULL), PRIVD_EDENIED (reason
 * PRIVD_REASON_ROLE_REQUIRED), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (a confirmation may or may not have
 * happened: ask again), PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_audit_prune(
    privd_client *c, int confirm, privd_audit_prune_status *status);

#ifdef __cplusplus
}
#endif

#endif /* PRIVD_AUDIT_H */
