/*
 * worker.h - what the worker's operation handlers share (worker.c,
 * worker_ops.c, worker_policy.c, worker_audit.c, ...). Internal to the worker
 * threads.
 */
#ifndef PRIVD_WORKER_H
#define PRIVD_WORKER_H

#include "server.h"

#define ST(x) PRIVD__V1__STATUS__##x

typedef struct worker {
	server *srv;
	store_txn *rtxn;
	uint8_t *dk; /* sodium_malloc: the subject's data key while in use */
} worker;

/* A name from the request: non-empty and at most POL_MAX_NAME bytes. */
bool name_ok(const char *s);

/* The policy's principal for this connection, or NULL (see worker.c). */
const pol_principal *principal_of(const job *j);

/* The caller's principal if it has role, else fail the job (DENIED) and
 * return NULL. name is the role's name for the message. */
const pol_principal *require_role(job *j, unsigned role, const char *name);

/* Decide a data request on register reg for op and the named fields
 * (each at most once), about subject (NULL: none; its restriction and
 * objections count): 0 if allowed (*d filled, j->reg and j->purpose set),
 * or the job failed and -1. Names the register, purpose and fields in the
 * audit event. */
int worker_decide(worker *w, job *j, const char *reg, const char *subject,
    unsigned op, char **names, size_t n, pol_decision *d);

/* Name the subject in the request's audit event, by pseudonym only. */
void ev_subject(worker *w, job *j, const char *subject, size_t len);
/* Fail j for a store error rc that is not damage: UNAVAILABLE when a
 * database store went away or failed over (STORE_UNAVAILABLE, or a
 * lost serialisation race), INTERNAL otherwise. */
void worker_store_fail(job *j, int rc);
/* Fail j for the store error rc met while reading: the database gone is
 * worker_store_fail's UNAVAILABLE; ENOMEM is INTERNAL "out of memory";
 * anything else is logged as "what: error" and answered INTERNAL with
 * msg. Never an integrity failure: a caller that found a damaged record
 * says so itself. */
void worker_read_fail(job *j, int rc, const char *what, const char *msg);
/* Whether rc says the store's database is gone for now (not damage). */
#define WORKER_STORE_GONE(rc)                                                  \
	((rc) == STORE_UNAVAILABLE || (rc) == STORE_CONFLICT)

/* Handlers of the data operations (worker.c). */
void do_ping(worker *w, job *j);
void do_get(worker *w, job *j);
void do_put(worker *w, job *j);
void do_delete(worker *w, job *j);
/* Handlers of the policy and audit operations. */
void do_policy_get(worker *w, job *j);
void do_policy_apply(worker *w, job *j);
void do_policy_history(worker *w, job *j);
void do_audit(worker *w, job *j);
void do_audit_prune(worker *w, job *j);
/* Handlers of the retention operations (worker_retention.c). */
void do_relationship_end(worker *w, job *j);
void do_contract_end(worker *w, job *j);
void do_hold_set(worker *w, job *j);
void do_hold_lift(worker *w, job *j);
void do_hold_list(worker *w, job *j);
void do_retention_run(worker *w, job *j);
/* Data subjects' requests (worker_rights.c). */
void do_subject_restrict(worker *w, job *j);
void do_subject_object(worker *w, job *j);
void do_subject_erase(worker *w, job *j);
/* Lookup through the blind index (worker_lookup.c). */
void do_subject_lookup(worker *w, job *j);
/* Export of everything about a subject (worker_export.c). */
void do_subject_export(worker *w, job *j);
/* Online backups and the erasure journal (worker_backup.c). */
void do_backup_start(worker *w, job *j);
void do_backup_read(worker *w, job *j);
void do_backup_end(worker *w, job *j);
void do_erasures_export(worker *w, job *j);
/* Aggregate (worker_report.c). */
void do_aggregate(worker *w, job *j);
/* A sweep's counts as a RetentionRunResponse in j's arena; -1 when out
 * of memory. */
struct sweep;
int sweep_response(
    job *j, struct sweep *sw, Privd__V1__RetentionRunResponse *out);

/* True if name is the audit name of an operation ("get", "audit_follow",
 * ...), for checking the op names of an audit query. */
bool worker_op_known(const char *name);

#endif
