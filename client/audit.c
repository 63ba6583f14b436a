/*
 * audit.c - the audit calls: query pages, checkpoints and the signing key.
 */
#include <stdlib.h>
#include <string.h>

#include "auditverify.h"
#include "internal.h"

/* Check a list of n operation names (what is one of them: "operation",
 * "excluded operation"). */
static int
check_ops(privd_client *c, const char *const *ops, size_t n, const char *what)
{
	size_t i;

	if (n > MAX_OPS || (n > 0 && ops == NULL))
		return cl_fail(c, PRIVD_EINVAL, "at most %d %ss, in a list",
		    MAX_OPS, what);
	for (i = 0; i < n; i++)
		if (cl_empty(ops[i]) || strlen(ops[i]) > MAX_NAME)
			return cl_fail(c, PRIVD_EINVAL,
			    "%s name %zu is empty or too long", what, i + 1);
	return PRIVD_OK;
}

/*
 * A follow poll takes no criterion but from_seq, limit and not_ops (privd
 * refuses anything else): say so before spending a round trip.
 */
static int
check_follow(privd_client *c, const privd_audit_filter *q)
{
	if (!cl_empty(q->subject) || !cl_empty(q->reg) ||
	    !cl_empty(q->principal) || q->since_us != 0 || q->until_us != 0 ||
	    q->nops != 0 || q->decision != PRIVD_DECISION_ANY ||
	    q->newest_first || q->to_seq != 0 || q->request_id != 0)
		return cl_fail(c, PRIVD_EINVAL,
		    "a follow query takes no criterion but from_seq, limit "
		    "and not_ops");
	return PRIVD_OK;
}

/*
 * Check one answer's records: at most a page of them, each with its
 * 32-byte hash unless privd marked it damaged (then the bytes are what is
 * stored, if anything, and only its seq says which event it is).
 */
static int
check_records(privd_client *c, const Privd__V1__AuditQueryResponse *qr)
{
	const Privd__V1__AuditRecord *rec;
	size_t i;

	if (qr->n_records > AUDIT_PAGE_MAX)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d audit records",
		    AUDIT_PAGE_MAX);
	for (i = 0; i < qr->n_records; i++) {
		rec = qr->records[i];
		if (rec == NULL)
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has an empty audit record");
		if (rec->damaged && rec->seq == 0)
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has a damaged audit record without "
			    "its seq");
		if (!rec->damaged && rec->hash.len != AV_HASHBYTES)
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has an audit record without its "
			    "hash");
	}
	return PRIVD_OK;
}

/*
 * Send one audit query and return privd's answer, checked by
 * check_records(). The request structs point into q and cursor: no
 * copies.
 */
int
cl_audit_query_call(privd_client *c, const privd_audit_filter *q,
    const uint8_t *cursor, size_t cursorlen, Privd__V1__Response **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditQueryRequest aq = PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;
	const Privd__V1__AuditQueryResponse *qr;
	int rc;

	*out = NULL;
	if (q != NULL) {
		if (!cl_empty(q->subject) && strlen(q->subject) > MAX_SUBJECT)
			return cl_fail(c, PRIVD_EINVAL,
			    "subject id is longer than %d bytes", MAX_SUBJECT);
		if ((!cl_empty(q->reg) && strlen(q->reg) > MAX_NAME) ||
		    (!cl_empty(q->principal) &&
		        strlen(q->principal) > MAX_NAME))
			return cl_fail(c, PRIVD_EINVAL,
			    "names are at most %d bytes", MAX_NAME);
		if ((rc = check_ops(c, q->ops, q->nops, "operation")) !=
		        PRIVD_OK ||
		    (rc = check_ops(c, q->not_ops, q->nnot_ops,
		         "excluded operation")) != PRIVD_OK ||
		    (q->follow && (rc = check_follow(c, q)) != PRIVD_OK))
			return rc;
		if (q->decision < PRIVD_DECISION_ANY ||
		    q->decision > PRIVD_DECISION_FAILED)
			return cl_fail(c, PRIVD_EINVAL, "unknown decision %d",
			    q->decision);
		if (q->limit > AUDIT_PAGE_MAX)
			return cl_fail(c, PRIVD_EINVAL,
			    "at most %d events per page", AUDIT_PAGE_MAX);
		aq.subject = (char *)(q->subject ? q->subject : "");
		aq.register_ = (char *)(q->reg ? q->reg : "");
		aq.principal = (char *)(q->principal ? q->principal : "");
		aq.since_us = q->since_us;
		aq.until_us = q->until_us;
		aq.n_ops = q->nops;
		aq.ops = (char **)q->ops;
		aq.decision = (Privd__V1__Decision)q->decision;
		aq.newest_first = q->newest_first != 0;
		aq.limit = q->limit;
		aq.from_seq = q->from_seq;
		aq.to_seq = q->to_seq;
		aq.n_not_ops = q->nnot_ops;
		aq.not_ops = (char **)q->not_ops;
		aq.request_id = q->request_id;
		aq.follow = q->follow != 0;
	}
	if (cursorlen > 0 && cursor == NULL)
		return cl_fail(c, PRIVD_EINVAL, "cursor is NULL");
	aq.cursor.data = (uint8_t *)cursor;
	aq.cursor.len = cursorlen;
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_QUERY;
	req.audit_query = &aq;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_QUERY, out);
	if (rc != PRIVD_OK)
		return rc;
	qr = (*out)->audit_query;
	if ((rc = check_records(c, qr)) != PRIVD_OK) {
		cl_response_free(*out);
		*out = NULL;
	}
	return rc;
}

/* A page and its events in one allocation; the field name pointers, the
 * events' bytes, the field names and the cursor follow. */
struct page_block {
	privd_audit_page page;
	privd_audit_event ev[];
};

/*
 * Copy an audit query answer into one caller-owned block, decoding each
 * event for its fields while keeping its bytes exactly as stored (the
 * chain hash covers them). A record privd marked damaged is not decoded:
 * it keeps its seq, its bytes and (if it has one) its hash, and says
 * damaged. One that does not decode although privd did not say so fails
 * the page: privd's answer is then not what privd stored.
 */
static int
page_build(privd_client *c, const Privd__V1__AuditQueryResponse *qr,
    privd_audit_page **out)
{
	Privd__V1__AuditEvent **evs;
	const Privd__V1__AuditRecord *rec;
	struct page_block *b = NULL;
	privd_audit_event *e;
	size_t i, k, n = qr->n_records, nf = 0, bytes = 0, total;
	char **fp, *p;
	int rc = PRIVD_OK;

	if ((evs = calloc(n ? n : 1, sizeof(*evs))) == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	/* cl_audit_query_call() checked the number of records and their hashes
	 */
	for (i = 0; i < n && rc == PRIVD_OK; i++) {
		rec = qr->records[i];
		bytes += rec->event.len;
		if (rec->damaged)
			continue;
		evs[i] = privd__v1__audit_event__unpack(
		    NULL, rec->event.len, rec->event.data);
		if (evs[i] == NULL) {
			rc = cl_fail(c, PRIVD_EPROTO,
			    "an audit event in privd's answer does not decode");
			break;
		}
		if (evs[i]->subject.len != 0 &&
		    evs[i]->subject.len != sizeof(b->ev[0].subject)) {
			rc = cl_fail(c, PRIVD_EPROTO,
			    "an audit event in privd's answer has a malformed "
			    "subject pseudonym");
			break;
		}
		nf += evs[i]->n_fields;
		for (k = 0; k < evs[i]->n_fields; k++)
			bytes += strlen(evs[i]->fields[k]) + 1;
	}
	if (rc != PRIVD_OK)
		goto out;
	total = sizeof(*b) + n * sizeof(b->ev[0]) + nf * sizeof(char *) +
	        bytes + qr->next_cursor.len;
	if ((b = calloc(1, total)) == NULL) {
		rc = cl_fail(c, PRIVD_ENOMEM, "out of memory");
		goto out;
	}
	b->page.events = b->ev;
	b->page.n = n;
	fp = (char **)&b->ev[n];
	p = (char *)&fp[nf];
	for (i = 0; i < n; i++) {
		rec = qr->records[i];
		e = &b->ev[i];
		if (rec->event.len > 0)
			memcpy(p, rec->event.data, rec->event.len);
		e->raw = (const uint8_t *)p;
		e->rawlen = rec->event.len;
		p += rec->event.len;
		if (rec->hash.len == sizeof(e->hash))
			memcpy(e->hash, rec->hash.data, sizeof(e->hash));
		if (rec->damaged) {
			/* all else stays zero, fields empty */
			e->seq = rec->seq;
			e->damaged = 1;
			e->fields = fp;
			continue;
		}
		e->seq = evs[i]->seq;
		e->time_us = evs[i]->time_us;
		e->policy_version = evs[i]->policy_version;
		e->request_id = evs[i]->request_id;
		cl_copy_str(
		    e->principal, sizeof(e->principal), evs[i]->principal);
		cl_copy_str(e->op, sizeof(e->op), evs[i]->op);
		cl_copy_str(e->reg, sizeof(e->reg), evs[i]->register_);
		cl_copy_str(e->purpose, sizeof(e->purpose), evs[i]->purpose);
		cl_copy_str(e->rule, sizeof(e->rule), evs[i]->rule);
		if (evs[i]->subject.len == sizeof(e->subject)) {
			memcpy(e->subject, evs[i]->subject.data,
			    sizeof(e->subject));
			e->has_subject = 1;
		}
		e->fields = fp;
		e->nfields = evs[i]->n_fields;
		for (k = 0; k < evs[i]->n_fields; k++) {
			size_t len = strlen(evs[i]->fields[k]) + 1;

			memcpy(p, evs[i]->fields[k], len);
			*fp++ = p;
			p += len;
		}
		e->decision = (int)evs[i]->decision;
		e->reason = (int)evs[i]->reason;
		e->status = (int)evs[i]->status;
	}
	if (qr->next_cursor.len > 0) {
		memcpy(p, qr->next_cursor.data, qr->next_cursor.len);
		b->page.cursor = (uint8_t *)p;
		b->page.cursorlen = qr->next_cursor.len;
	}
	*out = &b->page;
out:
	for (i = 0; i < n; i++)
		if (evs[i] != NULL)
			privd__v1__audit_event__free_unpacked(evs[i], NULL);
	free(evs);
	return rc;
}

int
privd_audit_query(privd_client *c, const privd_audit_filter *q,
    const uint8_t *cursor, size_t cursorlen, privd_audit_page **out)
{
	Privd__V1__Response *r;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || out == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = cl_audit_query_call(c, q, cursor, cursorlen, &r)) != PRIVD_OK)
		return rc;
	rc = page_build(c, r->audit_query, out);
	cl_response_free(r);
	return rc;
}

void
privd_audit_page_free(privd_audit_page **p)
{
	if (p == NULL || *p == NULL)
		return;
	/* the page is the start of its block (page_build) */
	free(*p);
	*p = NULL;
}

int
privd_audit_pubkey(privd_client *c, uint8_t pk[32])
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditPubkeyRequest ap =
	    PRIVD__V1__AUDIT_PUBKEY_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (c == NULL || pk == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_PUBKEY;
	req.audit_pubkey = &ap;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_PUBKEY, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (r->audit_pubkey->public_key.len != AV_PKBYTES)
		rc = cl_fail(c, PRIVD_EPROTO,
		    "privd's audit signing key is not %d bytes", AV_PKBYTES);
	else
		memcpy(pk, r->audit_pubkey->public_key.data, AV_PKBYTES);
	cl_response_free(r);
	return rc;
}

/* Copy a wire checkpoint; a malformed one is a protocol error. */
static int
ckpt_copy(privd_client *c, const Privd__V1__AuditCheckpoint *src,
    privd_audit_checkpoint *dst)
{
	if (src == NULL || src->hash.len != sizeof(dst->hash) ||
	    src->signature.len != sizeof(dst->sig))
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has a malformed audit checkpoint");
	dst->seq = src->seq;
	dst->time_us = src->time_us;
	memcpy(dst->hash, src->hash.data, sizeof(dst->hash));
	memcpy(dst->sig, src->signature.data, sizeof(dst->sig));
	return PRIVD_OK;
}

int
privd_audit_checkpoints(privd_client *c, uint64_t from_seq, uint64_t to_seq,
    privd_audit_checkpoint **ckpts, size_t *n, uint64_t *first_seq,
    uint64_t *last_seq, privd_audit_checkpoint *prune_base, int *has_prune_base)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditCheckpointsRequest ac =
	    PRIVD__V1__AUDIT_CHECKPOINTS_REQUEST__INIT;
	const Privd__V1__AuditCheckpointsResponse *cr;
	privd_audit_checkpoint *list, base;
	Privd__V1__Response *r;
	size_t i;
	int rc;

	if (ckpts != NULL)
		*ckpts = NULL;
	if (n != NULL)
		*n = 0;
	if (first_seq != NULL)
		*first_seq = 0;
	if (last_seq != NULL)
		*last_seq = 0;
	if (has_prune_base != NULL)
		*has_prune_base = 0;
	if (c == NULL || ckpts == NULL || n == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	ac.from_seq = from_seq;
	ac.to_seq = to_seq;
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_CHECKPOINTS;
	req.audit_checkpoints = &ac;
	rc = cl_call(
	    c, &req, PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_CHECKPOINTS, &r);
	if (rc != PRIVD_OK)
		return rc;
	cr = r->audit_checkpoints;
	if (cr->n_checkpoints > AUDIT_CKPTS_MAX) {
		cl_response_free(r);
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d checkpoints",
		    AUDIT_CKPTS_MAX);
	}
	/* one element even for an empty list, so that success is never NULL */
	list = calloc(cr->n_checkpoints ? cr->n_checkpoints : 1, sizeof(*list));
	if (list == NULL)
		rc = cl_fail(c, PRIVD_ENOMEM, "out of memory");
	for (i = 0; rc == PRIVD_OK && i < cr->n_checkpoints; i++)
		rc = ckpt_copy(c, cr->checkpoints[i], &list[i]);
	if (rc == PRIVD_OK && cr->prune_checkpoint != NULL)
		rc = ckpt_copy(c, cr->prune_checkpoint, &base);
	if (rc != PRIVD_OK) {
		free(list);
		cl_response_free(r);
		return rc;
	}
	if (cr->prune_checkpoint != NULL) {
		if (prune_base != NULL)
			*prune_base = base;
		if (has_prune_base != NULL)
			*has_prune_base = 1;
	}
	if (first_seq != NULL)
		*first_seq = cr->first_seq;
	if (last_seq != NULL)
		*last_seq = cr->last_seq;
	*ckpts = list;
	*n = cr->n_checkpoints;
	cl_response_free(r);
	return PRIVD_OK;
}

int
privd_audit_prune(
    privd_client *c, int confirm, privd_audit_prune_status *status)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditPruneRequest ap = PRIVD__V1__AUDIT_PRUNE_REQUEST__INIT;
	const Privd__V1__AuditPruneResponse *pr;
	Privd__V1__Response *r;
	int rc;

	if (status != NULL)
		memset(status, 0, sizeof(*status));
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	ap.confirm = confirm != 0;
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_PRUNE;
	req.audit_prune = &ap;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_PRUNE, &r);
	if (rc != PRIVD_OK)
		return rc;
	pr = r->audit_prune;
	if (status != NULL) {
		status->paused = pr->paused;
		status->paused_at_us = pr->paused_at_us;
		status->clock_jump_s = pr->clock_jump_s;
		status->retention_s = pr->retention_s;
		status->floor_s = pr->floor_s;
		status->now_us = pr->now_us;
		status->oldest_seq = pr->oldest_seq;
		status->oldest_time_us = pr->oldest_time_us;
	}
	cl_response_free(r);
	return PRIVD_OK;
}
