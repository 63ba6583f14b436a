/*
 * audit.c - the audit calls: query pages, checkpoints and the signing key.
 */
#include <stdlib.h>
#include <string.h>

#include "auditverify.h"
#include "internal.h"

/*
 * Send one audit query and return privd's answer, checked to hold at most
 * a page of records, each with a 32-byte hash. The request structs point
 * into q and cursor: no copies.
 */
int
cl_audit_query_call(privd_client *c, const privd_audit_filter *q,
    const uint8_t *cursor, size_t cursorlen, Privd__V1__Response **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditQueryRequest aq = PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;
	const Privd__V1__AuditQueryResponse *qr;
	size_t i;
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
		if (q->nops > MAX_OPS || (q->nops > 0 && q->ops == NULL))
			return cl_fail(c, PRIVD_EINVAL,
			    "at most %d operations, in a list", MAX_OPS);
		for (i = 0; i < q->nops; i++)
			if (cl_empty(q->ops[i]) || strlen(q->ops[i]) > MAX_NAME)
				return cl_fail(c, PRIVD_EINVAL,
				    "operation name %zu is empty or too long",
				    i + 1);
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
	if (qr->n_records > AUDIT_PAGE_MAX)
		rc = cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d audit records",
		    AUDIT_PAGE_MAX);
	for (i = 0; rc == PRIVD_OK && i < qr->n_records; i++)
		if (qr->records[i] == NULL ||
		    qr->records[i]->hash.len != AV_HASHBYTES)
			rc = cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has an audit record without its "
			    "hash");
	if (rc != PRIVD_OK) {
		privd__v1__response__free_unpacked(*out, NULL);
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
 * chain hash covers them).
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
		bytes += rec->event.len;
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
		e->seq = evs[i]->seq;
		e->time_us = evs[i]->time_us;
		e->policy_version = evs[i]->policy_version;
		e->request_id = evs[i]->request_id;
		cl_copy_str(
		    e->principal, sizeof(e->principal), evs[i]->principal);
		cl_copy_str(e->op, sizeof(e->op), evs[i]->op);
		cl_copy_str(e->reg, sizeof(e->reg), evs[i]->register_);
		cl_copy_str(e->purpose, sizeof(e->purpose), evs[i]->purpose);
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
		if (rec->event.len > 0)
			memcpy(p, rec->event.data, rec->event.len);
		e->raw = (const uint8_t *)p;
		e->rawlen = rec->event.len;
		p += rec->event.len;
		memcpy(e->hash, rec->hash.data, sizeof(e->hash));
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
	privd__v1__response__free_unpacked(r, NULL);
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
	privd__v1__response__free_unpacked(r, NULL);
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
		privd__v1__response__free_unpacked(r, NULL);
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
		privd__v1__response__free_unpacked(r, NULL);
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
	privd__v1__response__free_unpacked(r, NULL);
	return PRIVD_OK;
}
