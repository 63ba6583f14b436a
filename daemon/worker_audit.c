/*
 * worker_audit.c - the audit operations on the worker side: check a query
 * from an auditor and answer it from the log (audit_query.c), list
 * checkpoints, give the signing key; and prepare the audit_prune operation
 * of an admin, which the writer carries out.
 *
 * DESIGN: runs in worker threads like worker.c, under the same rules.
 */
#include <string.h>

#include "audit.h"
#include "log.h"
#include "worker.h"

#define QUERY_MAX_OPS 32

/* Every op name of a query list is one privd records: a typo would
 * otherwise be an empty answer that looks like "nobody did that". */
static int
check_ops(job *j, char **ops, size_t n, const char *what)
{
	size_t i;

	if (n > QUERY_MAX_OPS) {
		job_fail(j, ST(INVALID), 0, "at most %d operations in %s",
		    QUERY_MAX_OPS, what);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (!name_ok(ops[i]) || !worker_op_known(ops[i])) {
			job_fail(j, ST(INVALID), 0,
			    "%s names an operation privd does not record",
			    what);
			return -1;
		}
	}
	return 0;
}

/*
 * A follow poll may only ask for what `privctl audit tail -f` asks: the
 * events after a seq, oldest first, a page at a time, some operations left
 * out. Its auditing is limited to one event a minute (writer.c), so it must
 * not be a way to run any other query unrecorded.
 */
static bool
follow_shape_ok(const Privd__V1__AuditQueryRequest *q)
{
	return q->subject[0] == '\0' && q->register_[0] == '\0' &&
	       q->principal[0] == '\0' && q->since_us == 0 &&
	       q->until_us == 0 && q->n_ops == 0 &&
	       q->decision == PRIVD__V1__DECISION__DECISION_UNSPECIFIED &&
	       !q->newest_first && q->to_seq == 0 && q->request_id == 0;
}

/* Check an audit query before it runs; fails the job and returns -1 if it
 * is malformed. *slen receives the subject id's length. */
static int
check_query(worker *w, job *j, size_t *slen)
{
	const Privd__V1__AuditQueryRequest *q = j->req->audit_query;
	const pol_register *r;

	*slen = strnlen(q->subject, CRYPTO_MAX_SUBJECT + 1);
	if (*slen > CRYPTO_MAX_SUBJECT ||
	    strnlen(q->register_, POL_MAX_NAME + 1) > POL_MAX_NAME ||
	    strnlen(q->principal, POL_MAX_NAME + 1) > POL_MAX_NAME ||
	    q->decision < 0 || q->decision > PRIVD__V1__DECISION__FAILED) {
		job_fail(j, ST(INVALID), 0, "malformed audit query");
		return -1;
	}
	if (check_ops(j, q->ops, q->n_ops, "ops") != 0 ||
	    check_ops(j, q->not_ops, q->n_not_ops, "not_ops") != 0)
		return -1;
	if (q->follow) {
		if (!follow_shape_ok(q)) {
			job_fail(j, ST(INVALID), 0,
			    "a follow poll takes from_seq, limit and not_ops "
			    "only");
			return -1;
		}
		j->follow = true;
	}
	if (*slen > 0)
		ev_subject(w, j, q->subject, *slen);
	if ((r = pol_register_find(j->snap->pol, q->register_)) != NULL)
		j->ev.register_ = r->name;
	return 0;
}

/*
 * Audit operations (role auditor). A query by subject takes the subject id
 * and looks for its pseudonym; the id itself is never stored.
 */
void
do_audit(worker *w, job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__AuditPubkeyResponse pk =
	    PRIVD__V1__AUDIT_PUBKEY_RESPONSE__INIT;
	server *srv = w->srv;
	size_t slen = 0;
	int rc;

	if (require_role(j, POL_ROLE_AUDITOR, "auditor") == NULL)
		return;
	if (j->req->op_case == PRIVD__V1__REQUEST__OP_AUDIT_PUBKEY) {
		pk.public_key.data = srv->sign_pk;
		pk.public_key.len = sizeof(srv->sign_pk);
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_PUBKEY;
		resp.audit_pubkey = &pk;
		job_ok(j, &resp);
		return;
	}
	if (j->req->op_case == PRIVD__V1__REQUEST__OP_AUDIT_QUERY &&
	    check_query(w, j, &slen) != 0)
		return;
	if ((rc = store_read_begin(srv->st, &w->rtxn)) != 0) {
		worker_store_fail(j, rc);
		return;
	}
	if (j->req->op_case == PRIVD__V1__REQUEST__OP_AUDIT_QUERY)
		audit_query(srv->st, w->rtxn, j, slen > 0 ? j->pseudo : NULL);
	else
		audit_checkpoints(srv->st, w->rtxn, j);
	store_read_end(srv->st, w->rtxn);
}

/*
 * Pruning's state belongs to the writer, which alone prunes and alone
 * writes: the worker checks the role and hands the job on.
 */
void
do_audit_prune(worker *w, job *j)
{
	if (require_role(j, POL_ROLE_POLICY_ADMIN, "policy_admin") == NULL)
		return;
	j->kind = JOB_PRUNE;
}
