/*
 * writer_rights.c - what the data subjects' requests change in the
 * writer's transaction (issue 10): a restriction or an objection recorded,
 * an erasure across registers (through ret_clear, as a delete request, and
 * journalled), and their answers.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "substate.h"
#include "writer_internal.h"

#define ST(x) PRIVD__V1__STATUS__##x

/* The subject must be stored in the register. */
static int
stored(writer *wr, store_txn *txn, job *j)
{
	store_subject sub;
	int rc;

	rc = store_subject_get(wr->srv->st, txn, j->sid, &sub);
	if (rc == STORE_NOTFOUND) {
		job_fail(j, ST(NOT_FOUND), 0, "no such subject in register %s",
		    j->reg->name);
		return JOB_FAILED;
	}
	return rc;
}

/* Read, change and store a subject's state; *changed if it changed. */
static int
apply_state(writer *wr, store_txn *txn, job *j)
{
	server *srv = wr->srv;
	subj_state ss;
	bool on;
	int rc;

	if ((rc = stored(wr, txn, j)) != 0)
		return rc;
	rc = substate_get(srv->st, txn, srv->keys, j->sid, &ss);
	if (rc == STORE_CORRUPTED) {
		/* start again from what this request says */
		memset(&ss, 0, sizeof(ss));
	} else if (rc != 0) {
		return rc;
	}
	if (j->kind == JOB_RESTRICT) {
		on = j->req->subject_restrict->on;
		j->replaced = ss.restricted != on;
		ss.restricted = on;
	} else {
		on = j->req->subject_object->on;
		j->replaced = substate_object(&ss, j->purpose, on);
	}
	if (j->replaced || rc == STORE_CORRUPTED) {
		const char *objs[POL_MAX_PURPOSES];
		size_t i;

		for (i = 0; i < ss.nobjections; i++)
			objs[i] = ss.objections[i];
		/* the state goes into the journal too: a restore from a
		 * backup older than this request sets it again */
		if ((rc = substate_put(srv->st, txn, srv->keys, j->sid, &ss)) ==
		    0)
			rc = journal_append(srv->st, txn, clock_wall_us(),
			    ss.restricted ? JOURNAL_RESTRICTED : JOURNAL_STATE,
			    j->sid, j->reg->name, objs, ss.nobjections);
	} else {
		rc = 0;
	}
	sodium_memzero(&ss, sizeof(ss));
	if (rc != 0)
		return rc;
	j->status = ST(OK);
	return 0;
}

/* Name the fields an erasure deleted in its audit event (each name once,
 * whatever the register; the journal has them per register). */
static int
ev_add_fields(job *j, char **names, size_t n)
{
	char **v;
	size_t i, k;

	if (n == 0)
		return 0;
	if ((v = arena_alloc(&j->ar, (j->ev.n_fields + n) * sizeof(*v))) ==
	    NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return JOB_FAILED;
	}
	if (j->ev.n_fields > 0)
		memcpy(v, j->ev.fields, j->ev.n_fields * sizeof(*v));
	for (i = 0; i < n; i++) {
		for (k = 0; k < j->ev.n_fields; k++)
			if (strcmp(v[k], names[i]) == 0)
				break;
		if (k == j->ev.n_fields)
			v[j->ev.n_fields++] = names[i];
	}
	j->ev.fields = v;
	return 0;
}

/* An erasure, register by register. */
static int
apply_erase(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	Privd__V1__ErasedRegister *er;
	ret_cleared c;
	bool kept = false;
	size_t i;
	int rc;

	/* a batch retried after the map grew applies it again */
	j->nerased = 0;
	j->ev.fields = NULL;
	j->ev.n_fields = 0;
	if ((j->erased = arena_alloc(&j->ar,
	         (j->neregs ? j->neregs : 1) * sizeof(*j->erased))) == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return JOB_FAILED;
	}
	for (i = 0; i < j->neregs; i++) {
		rc = ret_clear(wr, txn, j, j->eregs[i], j->esids[i], NULL, 0,
		    JOURNAL_ERASE, now, &c);
		if (rc == STORE_NOTFOUND)
			continue; /* not stored in this register */
		if (rc != 0)
			return rc;
		if ((er = arena_alloc(&j->ar, sizeof(*er))) == NULL) {
			job_fail(j, ST(INTERNAL), 0, "out of memory");
			return JOB_FAILED;
		}
		privd__v1__erased_register__init(er);
		er->register_ = j->eregs[i]->name;
		er->deleted = c.deleted;
		er->n_deleted = c.ndeleted;
		er->kept = c.kept;
		er->n_kept = c.nkept;
		er->key_destroyed = c.key_destroyed;
		j->erased[j->nerased++] = er;
		kept = kept || c.nkept > 0;
		if ((rc = ev_add_fields(j, c.deleted, c.ndeleted)) != 0)
			return rc;
	}
	if (j->nerased == 0) {
		/* an unknown subject; its request is still audited */
		job_fail(j, ST(NOT_FOUND), 0, "no such subject in %s",
		    j->neregs == 1 ? j->eregs[0]->name : "any register");
		return JOB_FAILED;
	}
	if (!kept) {
		j->status = ST(OK);
		return 0;
	}
	j->status = ST(RETAINED);
	snprintf(j->message, sizeof(j->message),
	    "fields kept by a legal minimum or hold; the rest was erased");
	return 0;
}

int
rights_apply(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	switch (j->kind) {
	case JOB_RESTRICT:
	case JOB_OBJECT:
		return apply_state(wr, txn, j);
	case JOB_ERASE:
		return apply_erase(wr, txn, j, now);
	default:
		return 0;
	}
}

void
rights_after_commit(writer *wr, const job *j)
{
	/* from now on, the workers look states up */
	if ((j->kind == JOB_RESTRICT || j->kind == JOB_OBJECT) &&
	    j->status == ST(OK))
		atomic_store(&wr->srv->subj_states, true);
}

void
rights_pack(job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__SubjectRestrictResponse rr =
	    PRIVD__V1__SUBJECT_RESTRICT_RESPONSE__INIT;
	Privd__V1__SubjectObjectResponse orr =
	    PRIVD__V1__SUBJECT_OBJECT_RESPONSE__INIT;
	Privd__V1__SubjectEraseResponse er =
	    PRIVD__V1__SUBJECT_ERASE_RESPONSE__INIT;

	switch (j->kind) {
	case JOB_RESTRICT:
		rr.changed = j->replaced;
		resp.payload_case =
		    PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_RESTRICT;
		resp.subject_restrict = &rr;
		break;
	case JOB_OBJECT:
		orr.changed = j->replaced;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_OBJECT;
		resp.subject_object = &orr;
		break;
	default:
		er.registers = j->erased;
		er.n_registers = j->nerased;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_ERASE;
		resp.subject_erase = &er;
		break;
	}
	job_pack(j, &resp);
}
