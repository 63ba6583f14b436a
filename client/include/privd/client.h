/*
 * <privd/client.h> - the privd client library (libprivd).
 *
 * A service stores and reads personal data in privd through this library.
 * privd decides every request against its policy, audits it, and answers;
 * this library carries requests over ZeroMQ with CURVE encryption and
 * authentication (privd knows the caller by its CURVE public key).
 *
 * Conventions
 * - Every function that can fail returns int: PRIVD_OK (0) or a PRIVD_E*
 *   status (a positive number); privd_strerror() names it. After a failure,
 *   privd_errmsg() gives privd's explanation, if any.
 * - Results are owned by the caller and freed with the matching *_free()
 *   function, which also sets the caller's pointer to NULL.
 * - No global state: everything lives in the handle.
 *
 * Thread safety
 * - A privd_client handle must be used by one thread at a time (like a ZeroMQ
 *   socket). Use one handle per thread; handles are independent of each other
 *   and may be used concurrently from different threads.
 * - Results (privd_record, privd_audit_page, arrays) are plain memory and may
 *   be passed between threads.
 *
 * Deadlines
 * - Every call waits at most the handle's timeout (default 5000 ms,
 *   privd_set_timeout()). If privd cannot be reached the call returns
 *   PRIVD_EUNAVAILABLE; if it was reached but did not answer in time,
 *   PRIVD_ETIMEOUT. In the second case the request may or may not have been
 *   carried out. The handle reconnects by itself: the next call works again
 *   once privd is back.
 * - Some failures are clear before the deadline, and every call that needs
 *   a connection can end with them early (none of them sent the request):
 *   PRIVD_EDENIED (reason 2, unknown_principal) as soon as privd refuses
 *   the client key during the CURVE handshake; PRIVD_EHANDSHAKE when
 *   privd's endpoint accepts the connection but the CURVE handshake fails
 *   three times in a row, with none succeeding between (within about half
 *   a second: libzmq retries every 100-200 ms). That is what a wrong server
 *   key looks like; privd_errmsg() names the endpoint. A single failed
 *   handshake can be transient (privd stopping meanwhile), so fewer
 *   failures before the deadline give PRIVD_EUNAVAILABLE, whose message
 *   then says that a handshake failed. A stopped privd accepts no
 *   connection: PRIVD_EUNAVAILABLE at the deadline.
 *
 * Memory that held personal data
 * - The library wipes (overwrites with zeros) every buffer of its own that
 *   held a subject id or a value before freeing it: the packed request
 *   (once libzmq is done sending it), every frame received, privd's
 *   unpacked answer, and a record at privd_record_free(). It cannot wipe
 *   the caller's own buffers, nor the copies libzmq's CURVE code makes
 *   internally while encrypting and decrypting.
 *
 * Answers
 * - The library trusts privd's answers no further than it must: a reply
 *   larger than 64 MiB (ZMQ_MAXMSGSIZE; a legitimate one is at most about
 *   17 MiB) is never taken in, libzmq drops the connection instead and the
 *   call ends with PRIVD_ETIMEOUT; an answer that breaks the protocol's
 *   limits (more fields, records, checkpoints or versions than privd sends,
 *   a hash, signature, key or pseudonym of the wrong length, a paged
 *   answer that does not make progress) fails with PRIVD_EPROTO.
 */
#ifndef PRIVD_CLIENT_H
#define PRIVD_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. Stable: values are never renumbered. */
#define PRIVD_OK           0  /* success */
#define PRIVD_EINVAL       1  /* invalid argument or value (privd: INVALID) */
#define PRIVD_EDENIED      2  /* the policy denies it; see privd_reason() */
#define PRIVD_ENOTFOUND    3  /* no such subject or field */
#define PRIVD_ECONFLICT    4  /* a version or state precondition failed */
#define PRIVD_ERETAINED    5  /* data kept by a legal minimum or hold */
#define PRIVD_ETOOBIG      6  /* request larger than the size limit */
#define PRIVD_EUNAVAILABLE 7  /* privd could not be reached or is stopping */
#define PRIVD_ETIMEOUT     8  /* no answer before the deadline */
#define PRIVD_EPROTO       9  /* privd's answer could not be understood */
#define PRIVD_EINTERNAL    10 /* privd failed; the request had no effect */
#define PRIVD_ENOMEM       11 /* out of memory in the client */
#define PRIVD_EKEY         12 /* a key or key file is malformed or unreadable */
#define PRIVD_ETAMPERED    13 /* the audit log does not verify */
#define PRIVD_EHANDSHAKE   14 /* connected, but the CURVE handshake failed */

/* Z85 text of a 32-byte CURVE key: 40 characters plus NUL. */
#define PRIVD_KEY_Z85_LEN 41

/* Default deadline of a call, in milliseconds. */
#define PRIVD_DEFAULT_TIMEOUT_MS 5000
/* Default largest request the client sends (privd's default limit). */
#define PRIVD_DEFAULT_MAX_REQUEST (1024 * 1024)

typedef struct privd_client privd_client;

/* One field of a subject: a name and an opaque value of len bytes. */
typedef struct privd_field {
	const char *name;
	const uint8_t *value;
	size_t len;
} privd_field;

/* Fields read from privd. The record owns every name and value; they are
 * valid until privd_record_free(). Each value is also NUL-terminated (not
 * counted in len), so text values can be printed directly. */
typedef struct privd_record {
	size_t nfields;
	privd_field *fields;
} privd_record;

/* What privd says about itself and the caller (privd_ping). */
typedef struct privd_pong {
	char server_version[32];
	char principal[65]; /* the policy's name for the caller's key */
	uint64_t policy_version;
} privd_pong;

/*
 * Generate a new CURVE key pair as Z85 text.
 * public_key, secret_key: buffers of PRIVD_KEY_Z85_LEN bytes.
 * Errors: PRIVD_EINTERNAL if the library has no CURVE support.
 */
int privd_keygen(
    char public_key[PRIVD_KEY_Z85_LEN], char secret_key[PRIVD_KEY_Z85_LEN]);

/*
 * Read a key pair file as written by `privctl keygen`:
 *   public-key = <Z85>
 *   secret-key = <Z85>
 * ('#' starts a comment line). Errors: PRIVD_EKEY (missing, unreadable,
 * malformed, or readable by group/other).
 */
int privd_keypair_load(const char *path, char public_key[PRIVD_KEY_Z85_LEN],
    char secret_key[PRIVD_KEY_Z85_LEN]);

/*
 * Like privd_keypair_load(), and on failure also says why in why (a buffer of
 * whylen bytes, always NUL-terminated; may be NULL), e.g. "file is accessible
 * by group or other (chmod 600)". The text never contains key material.
 */
int privd_keypair_load_err(const char *path, char public_key[PRIVD_KEY_Z85_LEN],
    char secret_key[PRIVD_KEY_Z85_LEN], char *why, size_t whylen);

/*
 * Create a handle that talks to privd at endpoint ("ipc:///path" or
 * "tcp://host:port"). server_key is privd's public key, public_key and
 * secret_key the caller's key pair, all Z85. Connecting is lazy: this call
 * does not wait for privd, so it succeeds while privd is down.
 * On success *out is the new handle (free with privd_close).
 * Errors: PRIVD_EINVAL (out NULL, or a NULL or bad endpoint), PRIVD_EKEY (a
 * key NULL or malformed, or public_key not the one of secret_key),
 * PRIVD_ENOMEM, PRIVD_EINTERNAL (the ZeroMQ context or socket cannot be
 * made).
 */
int privd_connect(privd_client **out, const char *endpoint,
    const char *server_key, const char *public_key, const char *secret_key);

/* Close a handle, drop unsent requests, and set *c to NULL. NULL-safe. */
void privd_close(privd_client **c);

/* Set the deadline of every later call, in milliseconds (> 0). */
void privd_set_timeout(privd_client *c, int timeout_ms);

/* Set the largest request the client will send; bigger ones fail with
 * PRIVD_ETOOBIG without being sent. Match privd's --max-request. */
void privd_set_max_request(privd_client *c, size_t bytes);

/*
 * Check that privd answers and knows the caller. pong may be NULL; its
 * strings are privd's, cut to fit and NUL-terminated, and not checked to
 * be printable. Errors: PRIVD_EINVAL (c NULL), PRIVD_EDENIED (privd refused
 * this client key: privd_reason() is 2, unknown_principal),
 * PRIVD_EHANDSHAKE (the server key is probably wrong; see "Deadlines"),
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO, PRIVD_EINTERNAL,
 * PRIVD_ENOMEM.
 */
int privd_ping(privd_client *c, privd_pong *pong);

/*
 * Store fields of a subject for a purpose: all of them or none.
 * reg: register name; subject: the caller's id for the person (1..256 bytes);
 * fields: n >= 1 fields, each name at most once.
 * Errors: PRIVD_EINVAL (bad argument: c NULL, an empty register, purpose or
 * field name, a subject id empty or longer than 256 bytes, no fields or
 * more than 256, a value larger than 64 KiB or NULL with a length; privd:
 * a field twice, or a value that fails its type check), PRIVD_EDENIED,
 * PRIVD_ECONFLICT (the register's processing contract has ended: no new
 * data may be written to it), PRIVD_ETOOBIG, PRIVD_EHANDSHAKE,
 * PRIVD_EUNAVAILABLE (also: privd's disk is full), PRIVD_ETIMEOUT (the put
 * may or may not have happened), PRIVD_EPROTO, PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_put(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const privd_field *fields, size_t n);

/*
 * Read fields of a subject for a purpose. names: n field names, or n == 0 for
 * every stored field the caller may read. On PRIVD_OK *out is a new record
 * (possibly with fewer fields than asked: fields not stored are absent); free
 * it with privd_record_free(); on failure *out is NULL.
 * Errors: PRIVD_EINVAL (c or out NULL, an empty register, purpose or field
 * name, a subject id empty or longer than 256 bytes, more than 256 names,
 * or names NULL with n > 0), PRIVD_ENOTFOUND (no such subject),
 * PRIVD_EDENIED, PRIVD_ETOOBIG, PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT, PRIVD_EPROTO (privd's answer has more than 256 fields, a
 * field without a name, or a field twice), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_get(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n,
    privd_record **out);

/*
 * Delete named fields of a subject (n > 0), or the whole subject and its
 * data key (n == 0), for a purpose. deleted (may be NULL) receives the
 * number of stored fields removed. A field kept by a retention minimum or
 * a legal hold stays and everything else asked for is deleted: the call
 * then returns PRIVD_ERETAINED with *deleted set; privd_delete_ex() also
 * says which fields were kept and why.
 * Errors: PRIVD_EINVAL (c NULL, an empty register, purpose or field name,
 * a subject id empty or longer than 256 bytes, more than 256 names, or
 * names NULL with n > 0; privd: a malformed request), PRIVD_ENOTFOUND (no
 * such subject), PRIVD_EDENIED, PRIVD_ERETAINED (see above), PRIVD_ETOOBIG,
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the delete may or
 * may not have happened), PRIVD_EPROTO, PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_delete(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, uint32_t *deleted);

/* A field that a delete request asked to go but privd kept (see
 * privd_delete_ex). Strings are NUL-terminated, cut to fit. */
typedef struct privd_retained {
	char field[65]; /* the field kept */
	/* the id of the retention rule whose keep_at_least minimum has not
	 * passed, or "" when a legal hold keeps it (then hold_reason) */
	char rule[65];
	/* kept at least until then (microseconds since the epoch, UTC); 0:
	 * until a hold is lifted, or, for a rule, while the event its period
	 * counts from (e.g. the end of the relationship) has not happened */
	uint64_t until_us;
	char hold_reason[257]; /* the hold's reason ("" for a rule) */
} privd_retained;

/*
 * privd_delete(), saying what was kept. On PRIVD_OK *kept is NULL and
 * *nkept 0. On PRIVD_ERETAINED (some fields kept by a retention minimum
 * or a legal hold, everything else asked for deleted) *deleted (may be
 * NULL) is the number of fields removed and *kept an array of *nkept
 * entries, one per field kept, owned by the caller (free with
 * privd_free(); NULL with *nkept 0 if privd did not list them). A
 * whole-subject delete that keeps a field keeps the subject (and its data
 * key) with just the fields kept. On any other failure *kept is NULL and
 * *nkept 0. kept and nkept may both be NULL (then this is privd_delete()).
 * Errors: those of privd_delete(), and PRIVD_EINVAL also for only one of
 * kept and nkept NULL; PRIVD_EPROTO also for more than 256 fields kept.
 */
int privd_delete_ex(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, uint32_t *deleted,
    privd_retained **kept, size_t *nkept);

/* Free a record, wiping its names and values first, and set *r to NULL.
 * NULL-safe. */
void privd_record_free(privd_record **r);

/*
 * Policy administration. These calls need the role policy_admin in the
 * policy in force; without it they fail with PRIVD_EDENIED and
 * privd_reason() == 11 (role_required), or 2 (unknown_principal) for a key
 * the policy does not name. They need no purpose.
 */

/* One version of the policy: when it was applied and by whom. */
typedef struct privd_policy_version {
	uint64_t version;       /* 1 for the policy given to `privd init` */
	char applied_by[65];    /* principal name, or "privd init" */
	uint64_t applied_at_us; /* microseconds since the Unix epoch, UTC */
} privd_policy_version;

/*
 * Read the policy in force. version (may be NULL) receives its version,
 * who applied it and when. *json receives its document exactly as applied,
 * NUL-terminated, in memory owned by the caller (free with privd_free());
 * json may be NULL if only the version is wanted. On failure *json is NULL.
 * The same as privd_policy_get_version(c, 0, version, json).
 * Errors: PRIVD_EDENIED, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO,
 * PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_get(
    privd_client *c, privd_policy_version *version, char **json);

/*
 * Read policy version `version` (0: the version in force), any version
 * ever applied (privd_policy_history() lists them). info and json as for
 * privd_policy_get(): info (may be NULL) receives the version, who applied
 * it and when; *json (json may be NULL) its document exactly as applied,
 * owned by the caller (free with privd_free()), NULL on failure.
 * Errors: PRIVD_ENOTFOUND (no such version), PRIVD_EDENIED,
 * PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (also an answer about
 * another version than the one asked for), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_get_version(
    privd_client *c, uint64_t version, privd_policy_version *info, char **json);

/* Flags of privd_policy_apply_ex() and privd_policy_apply_flags(). */
#define PRIVD_APPLY_FORCE                                                      \
	0x1u /* apply even if the document takes the role                      \
	        policy_admin from the caller itself */

/* What privd_policy_apply_ex() answers. */
typedef struct privd_apply_result {
	uint64_t version; /* the version in force after the call */
	int unchanged;    /* see privd_policy_apply_ex() */
	/* stored subjects privd re-plans in the background because the new
	 * version changes a register's retention rules or a field's
	 * category: when each of their fields falls due (a shortened period
	 * applies to data stored before); 0 if nothing falls due
	 * differently, and whenever unchanged is set */
	uint64_t replan_subjects;
} privd_apply_result;

/*
 * Replace the policy in force by the document json (NUL-terminated), which
 * privd validates completely first. replaces_version is the version it
 * replaces: privd refuses the change if another version is in force by
 * then, so that two admins cannot silently overwrite each other. The
 * library keeps no reference to json.
 * privd refuses (PRIVD_EINVAL, nothing changed, privd_errmsg() says
 * "$.principals: ...") a document that leaves no principal with the role
 * policy_admin, since nobody could change the policy again; and one that
 * takes that role from the caller itself, unless flags has
 * PRIVD_APPLY_FORCE. flags: 0 or PRIVD_APPLY_FORCE.
 * On success *out (may be NULL) receives the version in force after the
 * call, how many subjects privd re-plans (privd_apply_result), and in
 * out->unchanged which case it was:
 * - 0: the new version (replaces_version + 1), in force for every later
 *   request and connection; requests already being decided finish under
 *   the old one. Until a subject is re-planned, privd's sweeper still
 *   acts on none of its fields before the new version's rules allow; only
 *   a due time the new version brings forward waits for the re-plan;
 * - 1: the document equals, as JSON (member order and whitespace aside),
 *   the one in force: nothing is stored, out->version is
 *   replaces_version, which stays in force.
 * On failure *out is zeroed.
 * Errors: PRIVD_EINVAL (replaces_version 0, unknown flags, or a document
 * that is invalid or refused as above: privd_errmsg() says "JSON path:
 * reason"), PRIVD_ECONFLICT (replaces_version is not the version in force;
 * get the policy again, merge and retry), PRIVD_ETOOBIG (larger than the
 * request limit), PRIVD_EDENIED, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (the
 * change may or may not have happened: privd_policy_get() tells),
 * PRIVD_EPROTO (an answer with an impossible version, or subjects to
 * re-plan for an unchanged document), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_policy_apply_ex(privd_client *c, uint64_t replaces_version,
    const char *json, unsigned flags, privd_apply_result *out);

/*
 * privd_policy_apply_ex() without the number of subjects re-planned:
 * *version and *unchanged (each may be NULL; 0 on failure) receive
 * out->version and out->unchanged.
 */
int privd_policy_apply_flags(privd_client *c, uint64_t replaces_version,
    const char *json, unsigned flags, uint64_t *version, int *unchanged);

/*
 * privd_policy_apply_flags(c, replaces_version, json, 0, new_version,
 * NULL): without force, and without saying whether anything changed (an
 * unchanged document gives *new_version == replaces_version).
 */
int privd_policy_apply(privd_client *c, uint64_t replaces_version,
    const char *json, uint64_t *new_version);

/*
 * List every policy version ever applied, oldest first. On PRIVD_OK
 * *versions is an array of *n entries owned by the caller (free with
 * privd_free()); on failure *versions is NULL and *n is 0.
 * Errors: PRIVD_EDENIED, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO
 * (also for an answer of more than 1000000 versions), PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_policy_history(
    privd_client *c, privd_policy_version **versions, size_t *n);

/*
 * Audit log. These calls need the role auditor in the policy in force;
 * without it they fail with PRIVD_EDENIED and privd_reason() == 11
 * (role_required). privd records every request it answers as one audit
 * event (these calls included), chains the events with BLAKE2b-256 and signs
 * a checkpoint of the chain every N events and at shutdown with its Ed25519
 * key; proto/privd.proto describes the format.
 */

/* Decisions of an audit event, and privd_audit_filter.decision. */
#define PRIVD_DECISION_ANY      0 /* query only: any decision */
#define PRIVD_DECISION_ALLOWED  1 /* decided and allowed (see status) */
#define PRIVD_DECISION_REFUSED  2 /* denied by the policy (see reason) */
#define PRIVD_DECISION_REJECTED 3 /* not decided: malformed or invalid */
#define PRIVD_DECISION_FAILED   4 /* privd failed to carry it out */

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
	int decision; /* PRIVD_DECISION_* */
	int reason;   /* for PRIVD_DECISION_REFUSED: see privd_reason_name() */
	int status;   /* the reply's privd.v1.Status (1 OK, 3 DENIED, ...) */
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
 * Errors: PRIVD_EINVAL (a malformed query or cursor, an unknown operation
 * name, a follow with other criteria), PRIVD_EDENIED, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT, PRIVD_EPROTO (more than 1000 events, an event that does
 * not decode although privd did not mark it damaged, a damaged event
 * without its seq, a hash not of 32 bytes or a pseudonym neither absent nor
 * of 32 bytes), PRIVD_ENOMEM, PRIVD_EINTERNAL.
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
 * Errors: PRIVD_EDENIED, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO.
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
 * Errors: PRIVD_EDENIED, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO
 * (more than 10000 checkpoints, or a hash or signature of the wrong
 * length), PRIVD_ENOMEM, PRIVD_EINTERNAL.
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
 * damaged (it cannot be decoded)" for an event privd marked damaged. Other
 * errors: PRIVD_EINVAL (from_seq > to_seq), PRIVD_EDENIED, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT, PRIVD_EPROTO (also when privd's pages or checkpoint lists do
 * not make progress through the range, or go past it), PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
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
 * Errors: PRIVD_EINVAL (c NULL), PRIVD_EDENIED (reason 11, role_required),
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT (a confirmation
 * may or may not have happened: ask again), PRIVD_EPROTO, PRIVD_ENOMEM,
 * PRIVD_EINTERNAL.
 */
int privd_audit_prune(
    privd_client *c, int confirm, privd_audit_prune_status *status);

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
 * after a purge began), PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE,
 * PRIVD_ETIMEOUT (the change may or may not have happened), PRIVD_EPROTO,
 * PRIVD_ENOMEM, PRIVD_EINTERNAL.
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
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (more
 * than 1000000 holds, or a subject id or reason longer than 256 bytes),
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
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (more than
 * 1000000 counts), PRIVD_ENOMEM, PRIVD_EINTERNAL.
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
 * field_not_granted, region),
 * PRIVD_EHANDSHAKE, PRIVD_EUNAVAILABLE, PRIVD_ETIMEOUT, PRIVD_EPROTO (more
 * than 1000000 groups, a group key larger than 64 KiB, or the missing
 * group with a key), PRIVD_ENOMEM, PRIVD_EINTERNAL.
 */
int privd_aggregate(privd_client *c, const char *purpose, const char *reg,
    const char *field, const char *group_by, privd_aggregate_result **out);

/* Free a result of privd_aggregate(), wiping it first, and set *r to NULL.
 * NULL-safe. */
void privd_aggregate_result_free(privd_aggregate_result **r);

/* The request id of the last request this handle sent (0 if none): the
 * request_id of its audit event, to find one's own requests in the log. */
uint64_t privd_last_request_id(const privd_client *c);

/* Free memory that a privd_* call handed to the caller with the words
 * "free with privd_free()". NULL-safe. */
void privd_free(void *p);

/* Find a field in a record by name; NULL if absent. Valid as long as r. */
const privd_field *privd_record_field(const privd_record *r, const char *name);

/* A static, human-readable description of a status code. */
const char *privd_strerror(int status);

/* privd's message about the last failed call on this handle ("" if none).
 * Valid until the next call on the handle. Never contains personal data.
 * A message from privd is printable UTF-8: the library turns each byte of
 * it that is not part of a printable character into '?'. */
const char *privd_errmsg(const privd_client *c);

/* For PRIVD_EDENIED: the deny reason code of the last call (privd.v1
 * DenyReason; 0 if none) and its name, e.g. "unknown_field". */
int privd_reason(const privd_client *c);
const char *privd_reason_name(int reason);

#ifdef __cplusplus
}
#endif

/* Data subject rights: restriction, objection, erasure, lookup, export. */
#include <privd/rights.h>
/* Backups and the erasure journal. */
#include <privd/backup.h>

#endif /* PRIVD_CLIENT_H */
