/*
 * worker_rights.c - the data subjects' requests in the worker (issue 10,
 * DESIGN.md section 7): restriction, objection, erasure. Role
 * subject_rights. The worker checks and names; the writer changes the
 * store (writer_rights.c).
 */
#include <stdlib.h>
#include <string.h>

#include "worker.h"

/* The subject of a request, named in its audit event by pseudonym before
 * anything else is checked: an auditor asking what happened to a person
 * sees refused attempts too. -1 (the job failed) if it is malformed. */
static int
pseudonym(worker *w, job *j, const char *subject)
{
	size_t n = strnlen(subject, CRYPTO_MAX_SUBJECT + 1);

	if (n == 0 || n > CRYPTO_MAX_SUBJECT) {
		job_fail(j, ST(INVALID), 0, "subject id must be 1..%d bytes",
		    CRYPTO_MAX_SUBJECT);
		return -1;
	}
	ev_subject(w, j, subject, n);
	return 0;
}

/* The register of a request, declared; its subject's sid. -1 (the job
 * failed) if it is not. */
static int
target(worker *w, job *j, const char *reg, const char *subject)
{
	const pol_register *r;

	if (!name_ok(reg)) {
		job_fail(j, ST(INVALID), 0, "register name must be 1..%d bytes",
		    POL_MAX_NAME);
		return -1;
	}
	if ((r = pol_register_find(j->snap->pol, reg)) == NULL) {
		job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_REGISTER,
		    "register %s is not declared by the policy", reg);
		return -1;
	}
	j->reg = r;
	j->ev.register_ = r->name;
	crypto_subject_id(w->srv->keys, r->name, (const uint8_t *)subject,
	    strlen(subject), j->sid);
	return 0;
}

void
do_subject_restrict(worker *w, job *j)
{
	Privd__V1__SubjectRestrictRequest *rq = j->req->subject_restrict;

	/* a lift is an event of its own kind: an auditor (and the export)
	 * tells a restriction from its end by the op */
	if (!rq->on)
		j->ev.op = "subject_restrict_lift";
	if (pseudonym(w, j, rq->subject) != 0 ||
	    require_role(j, POL_ROLE_SUBJECT_RIGHTS, "subject_rights") ==
	        NULL ||
	    target(w, j, rq->register_, rq->subject) != 0)
		return;
	j->kind = JOB_RESTRICT;
}

void
do_subject_object(worker *w, job *j)
{
	Privd__V1__SubjectObjectRequest *rq = j->req->subject_object;
	const pol_purpose *pu;

	if (!rq->on)
		j->ev.op = "subject_object_withdraw";
	if (pseudonym(w, j, rq->subject) != 0 ||
	    require_role(j, POL_ROLE_SUBJECT_RIGHTS, "subject_rights") ==
	        NULL ||
	    target(w, j, rq->register_, rq->subject) != 0)
		return;
	if (!name_ok(rq->purpose)) {
		job_fail(j, ST(INVALID), 0, "purpose must be 1..%d bytes",
		    POL_MAX_NAME);
		return;
	}
	if ((pu = pol_purpose_find(j->reg, rq->purpose)) == NULL) {
		job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_PURPOSE,
		    "purpose %s is not declared by register %s", rq->purpose,
		    j->reg->name);
		return;
	}
	j->ev.purpose = pu->name;
	if (!pu->objectable) {
		job_fail(j, ST(INVALID), 0,
		    "purpose %s of register %s is not objectable: the data "
		    "subject cannot object to it",
		    pu->name, j->reg->name);
		return;
	}
	j->purpose = pu->name;
	j->kind = JOB_OBJECT;
}

static int
reg_cmp(const void *a, const void *b)
{
	const pol_register *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

void
do_subject_erase(worker *w, job *j)
{
	Privd__V1__SubjectEraseRequest *rq = j->req->subject_erase;
	const pol_policy *pol = j->snap->pol;
	const pol_register *r;
	size_t i, k, n;

	if (pseudonym(w, j, rq->subject) != 0 ||
	    require_role(j, POL_ROLE_SUBJECT_RIGHTS, "subject_rights") == NULL)
		return;
	if (rq->n_registers > POL_MAX_REGISTERS) {
		job_fail(j, ST(INVALID), 0, "at most %d registers",
		    POL_MAX_REGISTERS);
		return;
	}
	k = rq->n_registers ? rq->n_registers : pol->nregisters;
	j->eregs = arena_alloc(&j->ar, (k ? k : 1) * sizeof(*j->eregs));
	j->esids = arena_alloc(&j->ar, (k ? k : 1) * sizeof(*j->esids));
	if (j->eregs == NULL || j->esids == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return;
	}
	for (i = 0; i < k; i++) {
		if (rq->n_registers == 0) {
			r = &pol->registers[i];
		} else if (!name_ok(rq->registers[i])) {
			job_fail(j, ST(INVALID), 0,
			    "register names must be 1..%d bytes", POL_MAX_NAME);
			return;
		} else if ((r = pol_register_find(pol, rq->registers[i])) ==
		           NULL) {
			job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_REGISTER,
			    "register %s is not declared by the policy",
			    rq->registers[i]);
			return;
		}
		j->eregs[i] = r;
	}
	qsort(j->eregs, k, sizeof(*j->eregs), reg_cmp);
	for (i = n = 0; i < k; i++) /* each register once */
		if (n == 0 || j->eregs[n - 1] != j->eregs[i])
			j->eregs[n++] = j->eregs[i];
	j->neregs = n;
	for (i = 0; i < n; i++)
		crypto_subject_id(w->srv->keys, j->eregs[i]->name,
		    (const uint8_t *)rq->subject, strlen(rq->subject),
		    j->esids[i]);
	if (n == 1)
		j->ev.register_ = j->eregs[0]->name;
	j->kind = JOB_ERASE;
}
