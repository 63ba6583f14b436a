/*
 * writer_retention.c - what retention changes in the writer's transaction:
 * the plans of a put's fields, deletes that keep what a minimum or a hold
 * keeps, relationship and contract ends, legal holds (DESIGN.md section 6,
 * retstore.h). The sweeper itself is sweep.c; the writer runs it between
 * batches (writer.c).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "retplan.h"
#include "substate.h"
#include "writer_internal.h"

#define ST(x) PRIVD__V1__STATUS__##x

/* A time for messages: "2031-03-31". */
static void
day_of(uint64_t us, char *buf, size_t len)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%d", &tm) == 0)
		snprintf(buf, len, "?");
}

/*
 * A register whose contract has ended takes no new data. The end is read
 * here, in the writer's transaction, so that no put commits after the
 * contract end that refuses it.
 */
int
ret_put_check(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	uint64_t end;
	uint8_t flags;
	char day[16];
	int rc;

	if ((rc = ret_reg_get(wr->srv->st, txn, j->reg->name, &end, &flags)) !=
	    0)
		return rc;
	j->at_us = end; /* for the plans: a minimum may count from it */
	if (end == 0 || end > now)
		return 0;
	day_of(end, day, sizeof(day));
	job_fail(j, ST(CONFLICT), 0,
	    "the contract of register %s ended on %s: it takes no new data",
	    j->reg->name, day);
	return JOB_FAILED;
}

/*
 * Plan the due times of a put's fields, after they are stored. A field
 * that was stored before keeps its plan unless a rule counts from the
 * last write; a new subject gets its retention record.
 */
int
ret_put_plan(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	server *srv = wr->srv;
	const char *subj = j->req->put->subject;
	const pol_field *f;
	store_value sv;
	store_val rec;
	ret_sub rs;
	pol_plan plan;
	bool have_rs = false,
	     updated = pol_retention_from_used(j->reg, "updated");
	unsigned n;
	size_t i;
	int rc;

	memset(&rs, 0, sizeof(rs));
	if (!j->new_key && wr->legacy_subjects) {
		/* a subject from before retention records: it gets one now
		 * (keeping a relationship end it may have) */
		rc = ret_sub_get(
		    srv->st, txn, srv->keys, j->reg->name, j->sid, &rs);
		if (rc == 0)
			have_rs = true;
		else if (rc != STORE_NOTFOUND && rc != STORE_CORRUPTED)
			goto out;
	}
	if (!have_rs && (j->new_key || wr->legacy_subjects)) {
		memset(&rs, 0, sizeof(rs));
		rs.subjlen = strlen(subj);
		memcpy(rs.subject, subj, rs.subjlen);
		if ((rc = ret_sub_put(srv->st, txn, srv->keys, j->reg->name,
		         j->sid, &rs)) != 0)
			goto out;
		have_rs = true;
		/* and its fields stored before get their plans */
		if (!j->new_key && (rc = retplan_subject(srv->st, txn, j->reg,
		                        j->sid, 0, j->at_us, &n)) != 0)
			goto out;
	}
	for (i = 0; i < j->nvalues; i++) {
		f = pol_field_find(j->reg, j->values[i].field);
		if (f == NULL || !pol_field_planned(j->reg, f))
			continue;
		if (j->values[i].created_us != 0 && !updated)
			continue; /* its plan counts from what did not change */
		if (!have_rs) {
			rc = ret_sub_get(
			    srv->st, txn, srv->keys, j->reg->name, j->sid, &rs);
			if (rc == STORE_NOTFOUND || rc == STORE_CORRUPTED)
				rs.rel_end_us = 0;
			else if (rc != 0)
				goto out;
			have_rs = true;
		}
		/* the times the record carries: sealed by the worker (or
		 * resealed here), not this transaction's now */
		rec.size = j->values[i].reclen;
		rec.data = j->values[i].rec;
		if (store_value_decode(&rec, &sv) != 0)
			continue; /* cannot be: privd's own record */
		retplan_compute(j->reg, f, sv.created_us, sv.updated_us,
		    rs.rel_end_us, j->at_us, &plan);
		/* a field new to the store has no plan to replace */
		if (j->values[i].created_us == 0 &&
		    retplan_due(&plan) == RET_NEVER)
			continue;
		if ((rc = ret_plan_set(srv->st, txn, j->reg->name, j->sid,
		         f->name, retplan_due(&plan))) != 0)
			goto out;
	}
	rc = 0;
out:
	sodium_memzero(&rs, sizeof(rs));
	return rc;
}

/* Add a field to a list of what was kept (in the job's arena). */
static int
kept_add(job *j, ret_cleared *c, const pol_field *f, const retplan_keep *k)
{
	Privd__V1__Retained *r;

	if (c->kept == NULL && (c->kept = arena_alloc(&j->ar,
	                            POL_MAX_FIELDS * sizeof(*c->kept))) == NULL)
		return -1;
	if (c->nkept == POL_MAX_FIELDS ||
	    (r = arena_alloc(&j->ar, sizeof(*r))) == NULL)
		return -1;
	privd__v1__retained__init(r);
	r->field = f->name;
	r->rule = (char *)(k->rule != NULL ? k->rule : "");
	r->until_us = k->until_us;
	if (k->reason != NULL) {
		size_t n = strlen(k->reason);

		if ((r->hold_reason = arena_alloc(&j->ar, n + 1)) == NULL)
			return -1;
		memcpy(r->hold_reason, k->reason, n + 1);
	} else
		r->hold_reason = "";
	c->kept[c->nkept++] = r;
	return 0;
}

/* The names of a subject's stored fields that the policy declares. */
static int
stored_fields(store *st, store_txn *txn, const pol_register *r,
    const uint8_t *sid, const char **out, size_t *n)
{
	char name[CRYPTO_MAX_NAME + 1];
	const pol_field *f;
	store_cur *c;
	store_val k = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	size_t flen;
	int rc;

	*n = 0;
	if ((rc = store_cur_open(txn, STORE_VALUES, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size <= CRYPTO_SUBJECT_IDBYTES ||
		    memcmp(k.data, sid, CRYPTO_SUBJECT_IDBYTES) != 0)
			break;
		flen = k.size - CRYPTO_SUBJECT_IDBYTES;
		if (flen > CRYPTO_MAX_NAME)
			continue;
		memcpy(name, (uint8_t *)k.data + CRYPTO_SUBJECT_IDBYTES, flen);
		name[flen] = '\0';
		if ((f = pol_field_find(r, name)) != NULL &&
		    *n < POL_MAX_FIELDS)
			out[(*n)++] = f->name;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* What keeps each of the n named fields of subject sid at now (kept[i]),
 * into c's list; fields not stored are neither kept nor named. */
static int
what_stays(writer *wr, store_txn *txn, job *j, const pol_register *r,
    const uint8_t *sid, const char **names, size_t n, bool *kept, uint64_t now,
    ret_cleared *c)
{
	server *srv = wr->srv;
	const pol_field *f;
	store_value sv;
	ret_hold hold;
	ret_sub rs;
	pol_plan plan;
	retplan_keep keep;
	uint64_t end;
	uint8_t flags;
	bool held;
	size_t i;
	int rc;

	memset(&rs, 0, sizeof(rs));
	memset(&hold, 0, sizeof(hold));
	if ((rc = ret_reg_get(srv->st, txn, r->name, &end, &flags)) != 0 ||
	    (rc = ret_hold_find(srv->st, txn, srv->keys, r->name, sid, now,
	         &held, &hold)) != 0)
		goto out;
	rc = ret_sub_get(srv->st, txn, srv->keys, r->name, sid, &rs);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPTED)
		rs.rel_end_us = 0;
	else if (rc != 0)
		goto out;
	for (i = 0; i < n; i++) {
		kept[i] = false;
		f = pol_field_find(r, names[i]);
		rc = store_value_get(srv->st, txn, sid, f->name, &sv);
		if (rc == STORE_NOTFOUND || rc == STORE_CORRUPTED)
			continue; /* absent, or damaged: nothing to keep */
		if (rc != 0)
			goto out;
		retplan_compute(r, f, sv.created_us, sv.updated_us,
		    rs.rel_end_us, end, &plan);
		if (retplan_kept(&plan, &hold, held, now, &keep)) {
			kept[i] = true;
			if (kept_add(j, c, f, &keep) != 0) {
				job_fail(j, ST(INTERNAL), 0, "out of memory");
				rc = JOB_FAILED;
				goto out;
			}
		}
	}
	rc = 0;
out:
	sodium_memzero(&rs, sizeof(rs));
	sodium_memzero(&hold, sizeof(hold));
	return rc;
}

int
ret_clear(writer *wr, store_txn *txn, job *j, const pol_register *r,
    const uint8_t *sid, char *const *fields, size_t nfields, int kind,
    uint64_t now, ret_cleared *c)
{
	server *srv = wr->srv;
	const char *names[POL_MAX_FIELDS];
	bool kept[POL_MAX_FIELDS];
	const pol_field *f;
	store_subject sub;
	store_value sv;
	size_t i, n;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((rc = store_subject_get(srv->st, txn, sid, &sub)) != 0)
		return rc; /* STORE_NOTFOUND: no such subject */
	if (nfields == 0) {
		if ((rc = stored_fields(srv->st, txn, r, sid, names, &n)) != 0)
			return rc;
	} else {
		for (n = 0; n < nfields; n++)
			names[n] = fields[n];
	}
	/* first what stays, then, only if everything may go, the subject */
	if ((rc = what_stays(wr, txn, j, r, sid, names, n, kept, now, c)) != 0)
		return rc;
	if ((c->deleted = arena_alloc(
	         &j->ar, (n ? n : 1) * sizeof(*c->deleted))) == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return JOB_FAILED;
	}
	for (i = 0; i < n; i++) {
		if (kept[i])
			continue;
		f = pol_field_find(r, names[i]);
		rc = store_value_get(srv->st, txn, sid, f->name, &sv);
		if (rc == STORE_NOTFOUND)
			continue;
		if (rc != 0 && rc != STORE_CORRUPTED)
			return rc;
		c->deleted[c->ndeleted++] = (char *)f->name;
	}
	if (nfields == 0 && c->nkept == 0) {
		/* the wrapped key goes with the subject: crypto-shredding */
		if ((rc = store_forget(srv->st, txn, r->name, sid, NULL, 0)) !=
		    0)
			return rc;
		c->key_destroyed = true;
	} else if (c->ndeleted > 0 &&
	           (rc = store_forget(srv->st, txn, r->name, sid,
	                (const char *const *)c->deleted, c->ndeleted)) != 0)
		return rc;
	if (c->ndeleted == 0 && !c->key_destroyed)
		return 0;
	return journal_append(srv->st, txn, now, kind, sid, r->name,
	    c->key_destroyed ? NULL : (const char *const *)c->deleted,
	    c->key_destroyed ? 0 : c->ndeleted);
}

/*
 * A delete request. What a legal hold or a keep_at_least minimum keeps
 * stays, and is listed in the answer (RETAINED); the rest goes. A
 * whole-subject delete that keeps nothing removes the subject's key with
 * its values (crypto-shredding) and its retention records.
 */
int
ret_delete(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	Privd__V1__DeleteRequest *dr = j->req->delete_;
	ret_cleared c;
	int rc;

	/* a batch retried after the map grew applies it again */
	j->retained = NULL;
	j->nretained = 0;
	rc = ret_clear(wr, txn, j, j->reg, j->sid, dr->fields, dr->n_fields,
	    JOURNAL_DELETE, now, &c);
	if (rc == STORE_NOTFOUND) {
		job_fail(j, ST(NOT_FOUND), 0, "no such subject");
		return JOB_FAILED;
	}
	if (rc != 0)
		return rc;
	j->count = (uint32_t)c.ndeleted;
	j->retained = c.kept;
	j->nretained = c.nkept;
	if (j->nretained == 0) {
		j->status = ST(OK);
		return 0;
	}
	j->status = ST(RETAINED);
	snprintf(j->message, sizeof(j->message),
	    "%zu field%s kept by a legal minimum or hold; the rest was "
	    "deleted",
	    j->nretained, j->nretained == 1 ? "" : "s");
	return 0;
}

/* A relationship end, or its undoing. */
static int
apply_relend(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	Privd__V1__RelationshipEndRequest *rq = j->req->relationship_end;
	server *srv = wr->srv;
	store_subject sub;
	ret_sub rs;
	uint64_t end;
	uint8_t flags;
	unsigned n;
	int rc;

	if ((rc = store_subject_get(srv->st, txn, j->sid, &sub)) ==
	    STORE_NOTFOUND) {
		job_fail(j, ST(NOT_FOUND), 0, "no such subject");
		return JOB_FAILED;
	}
	if (rc != 0)
		return rc;
	rc = ret_sub_get(srv->st, txn, srv->keys, j->reg->name, j->sid, &rs);
	if (rc == STORE_NOTFOUND) {
		/* a subject stored before retention records existed */
		memset(&rs, 0, sizeof(rs));
		rs.subjlen = strlen(rq->subject);
		memcpy(rs.subject, rq->subject, rs.subjlen);
	} else if (rc != 0) {
		return rc;
	}
	if (!rq->now && rq->at_us == 0 && (rs.flags & RET_SUB_REL_ACTED)) {
		sodium_memzero(&rs, sizeof(rs));
		job_fail(j, ST(CONFLICT), 0,
		    "data was already deleted because of this relationship "
		    "end: it cannot be undone");
		return JOB_FAILED;
	}
	rs.rel_end_us = rq->now ? now : rq->at_us;
	rc = ret_sub_put(srv->st, txn, srv->keys, j->reg->name, j->sid, &rs);
	if (rc == 0)
		rc = ret_reg_get(srv->st, txn, j->reg->name, &end, &flags);
	if (rc == 0)
		rc = retplan_subject(
		    srv->st, txn, j->reg, j->sid, rs.rel_end_us, end, &n);
	j->at_us = rs.rel_end_us;
	sodium_memzero(&rs, sizeof(rs));
	if (rc != 0)
		return rc;
	j->count = n;
	j->status = ST(OK);
	return 0;
}

/* A contract end, or its undoing. */
static int
apply_contract(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	Privd__V1__ContractEndRequest *rq = j->req->contract_end;
	uint64_t end;
	uint8_t flags;
	size_t i;
	int rc;

	if ((rc = ret_reg_get(wr->srv->st, txn, j->reg->name, &end, &flags)) !=
	    0)
		return rc;
	j->at_us = rq->now ? now : rq->at_us;
	if ((flags & RET_REG_PURGING) && (j->at_us == 0 || j->at_us > end)) {
		job_fail(j, ST(CONFLICT), 0,
		    "the purge of register %s has begun: its contract end "
		    "cannot be undone or moved later",
		    j->reg->name);
		return JOB_FAILED;
	}
	if ((rc = ret_reg_put(
	         wr->srv->st, txn, j->reg->name, j->at_us, flags)) != 0)
		return rc;
	/* a minimum counting from the contract end holds stored fields */
	for (i = 0; i < j->reg->nretention; i++)
		if (j->reg->retention[i].keep_least.n >= 0 &&
		    strcmp(j->reg->retention[i].from, "contract_end") == 0) {
			if ((rc = replan_queue(
			         wr->srv->st, txn, j->reg->name)) != 0)
				return rc;
			wr->replan_more = true;
			break;
		}
	j->status = ST(OK);
	return 0;
}

static int
apply_hold_set(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	Privd__V1__HoldSetRequest *rq = j->req->hold_set;
	server *srv = wr->srv;
	ret_hold h, old;
	bool subj = rq->subject[0] != '\0';
	int rc;

	memset(&h, 0, sizeof(h));
	snprintf(h.reg, sizeof(h.reg), "%s", j->reg->name);
	h.has_sid = subj;
	if (subj)
		memcpy(h.sid, j->sid, sizeof(h.sid));
	h.set_at_us = now;
	h.until_us = rq->until_us;
	snprintf(h.by, sizeof(h.by), "%s", j->principal);
	snprintf(h.subject, sizeof(h.subject), "%s", rq->subject);
	snprintf(h.reason, sizeof(h.reason), "%s", rq->reason);
	rc = ret_hold_get(
	    srv->st, txn, srv->keys, h.reg, subj ? h.sid : NULL, &old);
	j->replaced = rc == 0 && ret_hold_active(&old, now);
	if (rc == 0 || rc == STORE_NOTFOUND || rc == STORE_CORRUPTED)
		rc = ret_hold_put(srv->st, txn, srv->keys, &h);
	sodium_memzero(&h, sizeof(h));
	sodium_memzero(&old, sizeof(old));
	if (rc != 0)
		return rc;
	j->status = ST(OK);
	return 0;
}

static int
apply_hold_lift(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	Privd__V1__HoldLiftRequest *rq = j->req->hold_lift;
	bool subj = rq->subject[0] != '\0';
	ret_hold old;
	int rc;

	rc = ret_hold_get(wr->srv->st, txn, wr->srv->keys, j->reg->name,
	    subj ? j->sid : NULL, &old);
	if (rc == 0 && !ret_hold_active(&old, now))
		rc = STORE_NOTFOUND; /* expired: lifted already */
	sodium_memzero(&old, sizeof(old));
	if (rc == STORE_NOTFOUND) {
		job_fail(j, ST(NOT_FOUND), 0, "no such hold in force");
		return JOB_FAILED;
	}
	if ((rc != 0 && rc != STORE_CORRUPTED) ||
	    (rc = ret_hold_del(
	         wr->srv->st, txn, j->reg->name, subj ? j->sid : NULL)) != 0)
		return rc;
	j->status = ST(OK);
	return 0;
}

int
ret_apply(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	switch (j->kind) {
	case JOB_RELEND:
		return apply_relend(wr, txn, j, now);
	case JOB_CONTRACT:
		return apply_contract(wr, txn, j, now);
	case JOB_HOLD_SET:
		return apply_hold_set(wr, txn, j, now);
	case JOB_HOLD_LIFT:
		return apply_hold_lift(wr, txn, j, now);
	default:
		return 0;
	}
}

void
ret_pack(job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__RelationshipEndResponse rel =
	    PRIVD__V1__RELATIONSHIP_END_RESPONSE__INIT;
	Privd__V1__ContractEndResponse con =
	    PRIVD__V1__CONTRACT_END_RESPONSE__INIT;
	Privd__V1__HoldSetResponse hs = PRIVD__V1__HOLD_SET_RESPONSE__INIT;
	Privd__V1__HoldLiftResponse hl = PRIVD__V1__HOLD_LIFT_RESPONSE__INIT;

	switch (j->kind) {
	case JOB_RELEND:
		rel.at_us = j->at_us;
		rel.fields = j->count;
		resp.payload_case =
		    PRIVD__V1__RESPONSE__PAYLOAD_RELATIONSHIP_END;
		resp.relationship_end = &rel;
		break;
	case JOB_CONTRACT:
		con.at_us = j->at_us;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_CONTRACT_END;
		resp.contract_end = &con;
		break;
	case JOB_HOLD_SET:
		hs.replaced = j->replaced;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_HOLD_SET;
		resp.hold_set = &hs;
		break;
	default:
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_HOLD_LIFT;
		resp.hold_lift = &hl;
		break;
	}
	job_pack(j, &resp);
}
