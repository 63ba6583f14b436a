/*
 * worker_ops.c - the operations a worker carries out: each request's name
 * in the audit log and the handler that decides and prepares it, and the
 * dispatch of a decoded request to its handler. The handlers live by
 * concern: data (worker.c), policy and audit (worker_policy.c,
 * worker_audit.c), retention (worker_retention.c), reporting
 * (worker_report.c), data subjects' rights (worker_rights.c,
 * worker_lookup.c, worker_export.c), backups (worker_backup.c).
 */
#include <string.h>

#include "decode.h"
#include "worker.h"

/* Every operation: its name in the audit log and who carries it out. */
static const struct op {
	int op_case;
	const char *name;
	void (*run)(worker *, job *);
} ops[] = {
    {PRIVD__V1__REQUEST__OP_PING, "ping", do_ping},
    {PRIVD__V1__REQUEST__OP_PUT, "put", do_put},
    {PRIVD__V1__REQUEST__OP_GET, "get", do_get},
    {PRIVD__V1__REQUEST__OP_DELETE, "delete", do_delete},
    {PRIVD__V1__REQUEST__OP_POLICY_GET, "policy_get", do_policy_get},
    {PRIVD__V1__REQUEST__OP_POLICY_APPLY, "policy_apply", do_policy_apply},
    {PRIVD__V1__REQUEST__OP_POLICY_HISTORY, "policy_history",
        do_policy_history},
    {PRIVD__V1__REQUEST__OP_AUDIT_QUERY, "audit_query", do_audit},
    {PRIVD__V1__REQUEST__OP_AUDIT_CHECKPOINTS, "audit_checkpoints", do_audit},
    {PRIVD__V1__REQUEST__OP_AUDIT_PUBKEY, "audit_pubkey", do_audit},
    {PRIVD__V1__REQUEST__OP_AUDIT_PRUNE, "audit_prune", do_audit_prune},
    {PRIVD__V1__REQUEST__OP_RELATIONSHIP_END, "relationship_end",
        do_relationship_end},
    {PRIVD__V1__REQUEST__OP_CONTRACT_END, "contract_end", do_contract_end},
    {PRIVD__V1__REQUEST__OP_HOLD_SET, "hold_set", do_hold_set},
    {PRIVD__V1__REQUEST__OP_HOLD_LIFT, "hold_lift", do_hold_lift},
    {PRIVD__V1__REQUEST__OP_HOLD_LIST, "hold_list", do_hold_list},
    {PRIVD__V1__REQUEST__OP_RETENTION_RUN, "retention_run", do_retention_run},
    {PRIVD__V1__REQUEST__OP_AGGREGATE, "aggregate", do_aggregate},
    {PRIVD__V1__REQUEST__OP_SUBJECT_RESTRICT, "subject_restrict",
        do_subject_restrict},
    {PRIVD__V1__REQUEST__OP_SUBJECT_OBJECT, "subject_object",
        do_subject_object},
    {PRIVD__V1__REQUEST__OP_SUBJECT_ERASE, "subject_erase", do_subject_erase},
    {PRIVD__V1__REQUEST__OP_SUBJECT_LOOKUP, "subject_lookup",
        do_subject_lookup},
    {PRIVD__V1__REQUEST__OP_SUBJECT_EXPORT, "subject_export",
        do_subject_export},
    {PRIVD__V1__REQUEST__OP_BACKUP_START, "backup_start", do_backup_start},
    {PRIVD__V1__REQUEST__OP_BACKUP_READ, "backup_read", do_backup_read},
    {PRIVD__V1__REQUEST__OP_BACKUP_END, "backup_end", do_backup_end},
    {PRIVD__V1__REQUEST__OP_ERASURES_EXPORT, "erasures_export",
        do_erasures_export},
};

/* Names that appear in the audit log without an entry of their own above. */
static const char *const other_op_names[] = {"invalid", "audit_follow",
    "retention_preview", "retention_delete", "retention_anonymize",
    "contract_end_purge", "restore", "subject_restrict_lift",
    "subject_object_withdraw", "audit_key_rotate", "rekey", "server_key_next",
    "server_key_rotate"};

bool
worker_op_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strcmp(ops[i].name, name) == 0)
			return true;
	for (i = 0; i < sizeof(other_op_names) / sizeof(other_op_names[0]); i++)
		if (strcmp(other_op_names[i], name) == 0)
			return true;
	return false;
}

/* Decode and dispatch one request. Leaves the job answered or prepared,
 * with its audit event filled in as far as the worker knows it. */
void
worker_handle(worker *w, job *j)
{
	const struct op *op = NULL;
	size_t i;
	int rc;

	j->kind = JOB_ANSWERED;
	j->snap = snapshot_acquire(&w->srv->policy);
	j->ev.principal = j->principal;
	j->ev.op = "invalid";
	j->ev.policy_version = j->snap->version;
	rc = decode_request(j, w->srv->cfg.max_request);
	for (i = 0; j->req != NULL && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op_case == (int)j->req->op_case)
			op = &ops[i];
	if (op != NULL)
		j->ev.op = (char *)op->name;
	if (rc != 0)
		return; /* the job failed */
	if (op == NULL) {
		job_fail(j, ST(INVALID), 0, "the request names no operation");
		return;
	}
	op->run(w, j);
}
