/*
 * verify.c - privd_audit_verify(): fetch the events and checkpoints of a
 * range and run them through the chain verifier (auditverify.c, pure code
 * that the daemon's unit tests also link).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auditverify.h"
#include "internal.h"

/* Order checkpoints by seq, as the verifier meets them. */
static int
ckpt_cmp(const void *a, const void *b)
{
	const av_checkpoint *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Does a list of checkpoints that privd sent for [from, hi] keep to it, in
 * strictly increasing seq? A list that does not could make a caller that
 * pages through them ask for the same ones forever.
 */
static int
ckpts_in_order(
    const privd_audit_checkpoint *p, size_t n, uint64_t from, uint64_t hi)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].seq < from || p[i].seq > hi ||
		    (i > 0 && p[i].seq <= p[i - 1].seq))
			return 0;
	return 1;
}

/*
 * Every checkpoint in [from_seq, to_seq] as the verifier wants them, in as
 * many calls as privd's per-call limit needs. The first call also gives the
 * range of events kept and the prune base; later calls end at *last_seq so
 * that checkpoints signed meanwhile do not look like missing events. Each
 * call must start after the previous one's last checkpoint and keep to the
 * range asked for, so the calls end and the list holds at most one
 * checkpoint per event of the range.
 */
static int
audit_ckpts_all(privd_client *c, uint64_t from_seq, uint64_t to_seq,
    av_checkpoint **out, size_t *nout, uint64_t *first_seq, uint64_t *last_seq,
    privd_audit_checkpoint *base, int *has_base)
{
	privd_audit_checkpoint *part = NULL;
	av_checkpoint *all = NULL, *grown;
	size_t n = 0, np, i;
	uint64_t from = from_seq, first, last, end = to_seq, hi;
	int rc, first_call = 1;

	*out = NULL;
	*nout = 0;
	for (;;) {
		rc = privd_audit_checkpoints(c, from, end, &part, &np, &first,
		    &last, first_call ? base : NULL,
		    first_call ? has_base : NULL);
		if (rc != PRIVD_OK)
			break;
		/* end 0 asks for every checkpoint: one past the newest event
		 * is for the verifier to judge (events cut off the end) */
		hi = end != 0 ? end : UINT64_MAX;
		if (!ckpts_in_order(part, np, from, hi) ||
		    (np > 0 && n + np - 1 > hi - from_seq)) {
			rc = cl_fail(c, PRIVD_EPROTO,
			    "privd's answer does not make progress");
			break;
		}
		if (first_call) {
			*first_seq = first;
			*last_seq = last;
			if (end == 0)
				end = last > 0 ? last : 1;
			first_call = 0;
		}
		grown = np ? realloc(all, (n + np) * sizeof(*all)) : all;
		if (np > 0 && grown == NULL) {
			rc = cl_fail(c, PRIVD_ENOMEM, "out of memory");
			break;
		}
		all = grown;
		for (i = 0; i < np; i++) {
			all[n].seq = part[i].seq;
			all[n].time_us = part[i].time_us;
			memcpy(all[n].hash, part[i].hash, AV_HASHBYTES);
			memcpy(all[n].sig, part[i].sig, AV_SIGBYTES);
			n++;
		}
		if (np < AUDIT_CKPTS_MAX || part[np - 1].seq >= end)
			break;
		from = part[np - 1].seq + 1;
		privd_free(part);
		part = NULL;
	}
	privd_free(part);
	if (rc != PRIVD_OK) {
		free(all);
		return rc;
	}
	/* privd sends them in order; a verifier does not rely on it */
	if (n > 1)
		qsort(all, n, sizeof(*all), ckpt_cmp);
	*out = all;
	*nout = n;
	return PRIVD_OK;
}

/*
 * The key in force at from_seq when the caller pinned none: privd's
 * current key, unless a rotation of the signing key comes at or after
 * from_seq; then the first such rotation's old key (its "from"). The
 * rotations are events of principal "privd", found with a query for that
 * principal (a few events: the offline commands'). The verifier then
 * checks that the chain of keys from there leads to privd's current key.
 * *rotations is set if there was one.
 */
static int
key_at_start(privd_client *c, uint64_t from_seq, uint8_t *key, int *rotations)
{
	privd_audit_filter q = {0};
	privd_audit_page *pg = NULL;
	uint8_t *cursor = NULL;
	size_t cursorlen = 0, i;
	int rc, found = 0;

	*rotations = 0;
	q.principal = "privd";
	q.from_seq = from_seq;
	q.limit = AUDIT_PAGE_MAX;
	for (;;) {
		rc = privd_audit_query(c, &q, cursor, cursorlen, &pg);
		free(cursor);
		cursor = NULL;
		if (rc != PRIVD_OK)
			return rc;
		for (i = 0; i < pg->n && !found; i++)
			if (!pg->events[i].damaged &&
			    av_key_rotation(pg->events[i].raw,
			        pg->events[i].rawlen, key, NULL, NULL) == 1)
				found = 1;
		if (found || pg->cursor == NULL)
			break;
		if ((cursor = malloc(pg->cursorlen)) == NULL) {
			privd_audit_page_free(&pg);
			return cl_fail(c, PRIVD_ENOMEM, "out of memory");
		}
		memcpy(cursor, pg->cursor, pg->cursorlen);
		cursorlen = pg->cursorlen;
		privd_audit_page_free(&pg);
	}
	privd_audit_page_free(&pg);
	*rotations = found;
	return PRIVD_OK;
}

/* The first sequence number of the range that the verifier could not
 * account for: say so, and return PRIVD_ETAMPERED. */
static int tampered(privd_client *c, uint64_t seq, uint64_t *bad_seq, char *why,
    size_t whylen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
tampered(privd_client *c, uint64_t seq, uint64_t *bad_seq, char *why,
    size_t whylen, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (bad_seq != NULL)
		*bad_seq = seq;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return cl_fail(c, PRIVD_ETAMPERED,
	    "the audit log does not verify at event %llu: %s",
	    (unsigned long long)seq, msg);
}

/*
 * Where verification starts and the chain hash before it (see
 * privd_audit_verify() in the header). Returns PRIVD_OK with *start and
 * prev set, PRIVD_ETAMPERED, or a transport status.
 */
static int
verify_start(privd_client *c, uint64_t from_seq, uint64_t first_seq,
    const av_checkpoint *ck, size_t nck, const privd_audit_checkpoint *base,
    int has_base, const uint8_t *pk, uint64_t *start, uint8_t *prev,
    uint64_t *bad_seq, char *why, size_t whylen)
{
	privd_audit_filter q = {0};
	privd_audit_page *pg = NULL;
	av_checkpoint b;
	uint64_t lost;
	size_t i;
	int rc;

	if (from_seq == 0)
		from_seq = 1;
	if (first_seq > 1 && from_seq <= first_seq) {
		/* pruned: the kept chain starts from a signed checkpoint */
		if (!has_base || base->seq != first_seq - 1) {
			for (lost = from_seq, i = 0; i < nck; i++)
				if (ck[i].seq < first_seq && ck[i].seq >= lost)
					lost = ck[i].seq + 1;
			return tampered(c, lost, bad_seq, why, whylen,
			    "events %llu to %llu are missing, and no signed "
			    "checkpoint ends them",
			    (unsigned long long)lost,
			    (unsigned long long)(first_seq - 1));
		}
		b.seq = base->seq;
		b.time_us = base->time_us;
		memcpy(b.hash, base->hash, AV_HASHBYTES);
		memcpy(b.sig, base->sig, AV_SIGBYTES);
		if (!av_checkpoint_valid(&b, pk))
			return tampered(c, b.seq, bad_seq, why, whylen,
			    "the checkpoint at event %llu, where the kept "
			    "events start, has an invalid signature (or the "
			    "signing key was rotated in the pruned events: "
			    "pin the key in force after them)",
			    (unsigned long long)b.seq);
		*start = first_seq;
		memcpy(prev, b.hash, AV_HASHBYTES);
		return PRIVD_OK;
	}
	if (from_seq == 1) {
		*start = 1;
		memset(prev, 0, AV_HASHBYTES);
		return PRIVD_OK;
	}
	/* mid-log: the stored hash of the event before the range */
	q.from_seq = q.to_seq = from_seq - 1;
	q.limit = 1;
	if ((rc = privd_audit_query(c, &q, NULL, 0, &pg)) != PRIVD_OK)
		return rc;
	if (pg->n != 1 || pg->events[0].seq != from_seq - 1) {
		privd_audit_page_free(&pg);
		return tampered(c, from_seq - 1, bad_seq, why, whylen,
		    "event %llu, before the range, is missing",
		    (unsigned long long)(from_seq - 1));
	}
	if (pg->events[0].damaged) {
		privd_audit_page_free(&pg);
		return tampered(c, from_seq - 1, bad_seq, why, whylen,
		    "event %llu, before the range, is damaged (it cannot be "
		    "decoded)",
		    (unsigned long long)(from_seq - 1));
	}
	*start = from_seq;
	memcpy(prev, pg->events[0].hash, AV_HASHBYTES);
	privd_audit_page_free(&pg);
	return PRIVD_OK;
}

int
privd_audit_verify(privd_client *c, uint64_t from_seq, uint64_t to_seq,
    const uint8_t pk[32], uint64_t *bad_seq, char *why, size_t whylen,
    uint64_t *checked)
{
	privd_audit_filter q = {0};
	privd_audit_checkpoint base;
	Privd__V1__Response *r = NULL;
	const Privd__V1__AuditQueryResponse *qr;
	const Privd__V1__AuditRecord *rec;
	uint8_t key[AV_PKBYTES], cur[AV_PKBYTES], prev[AV_HASHBYTES];
	uint8_t *cursor = NULL, *nc;
	size_t cursorlen = 0, nck = 0, i;
	uint64_t first_seq = 0, last_seq = 0, start = 0, end, fin, seq;
	av_checkpoint *ck = NULL;
	av_state *v = NULL;
	int rc, has_base = 0, rotations = 0;

	if (bad_seq != NULL)
		*bad_seq = 0;
	if (why != NULL && whylen > 0)
		*why = '\0';
	if (checked != NULL)
		*checked = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if (to_seq != 0 && from_seq > to_seq)
		return cl_fail(c, PRIVD_EINVAL, "from_seq is after to_seq");
	if (sodium_init() < 0)
		return cl_fail(c, PRIVD_EINTERNAL, "libsodium cannot start");
	if (pk == NULL) {
		if ((rc = privd_audit_pubkey(c, cur)) != PRIVD_OK)
			return rc;
		memcpy(key, cur, AV_PKBYTES);
	} else {
		memcpy(key, pk, AV_PKBYTES);
	}
	rc = audit_ckpts_all(c, from_seq, to_seq, &ck, &nck, &first_seq,
	    &last_seq, &base, &has_base);
	if (rc != PRIVD_OK)
		return rc;
	if (last_seq == 0)
		goto done; /* nothing kept (yet): nothing to verify */
	/*
	 * The range ends at the newest event as of the checkpoint listing
	 * (later ones include this call's own queries), or at a checkpoint
	 * beyond it: a signed checkpoint names events that must be there.
	 */
	end = to_seq != 0 && to_seq < last_seq ? to_seq : last_seq;
	fin = end;
	for (i = 0; i < nck; i++)
		if (ck[i].seq > fin)
			fin = ck[i].seq;
	if ((from_seq > 1 ? from_seq : 1) > fin)
		goto done; /* the range starts after the newest event */
	if (pk == NULL &&
	    (rc = key_at_start(c, from_seq, key, &rotations)) != PRIVD_OK)
		goto done;
	rc = verify_start(c, from_seq, first_seq, ck, nck, &base, has_base, key,
	    &start, prev, bad_seq, why, whylen);
	if (rc != PRIVD_OK || start > fin)
		goto done;
	if ((v = malloc(sizeof(*v))) == NULL) {
		rc = cl_fail(c, PRIVD_ENOMEM, "out of memory");
		goto done;
	}
	av_init(v, start, prev, ck, nck, key);
	q.from_seq = start;
	q.to_seq = fin;
	q.limit = AUDIT_PAGE_MAX;
	for (;;) {
		rc = cl_audit_query_call(c, &q, cursor, cursorlen, &r);
		if (rc != PRIVD_OK)
			goto done;
		qr = r->audit_query;
		/*
		 * Each record verified is the next seq (av_record), so pages
		 * that carry records advance; a page without any must at
		 * least move the cursor, or privd would be asked the same
		 * question forever.
		 */
		if (cursor != NULL && qr->next_cursor.len == cursorlen &&
		    memcmp(qr->next_cursor.data, cursor, cursorlen) == 0) {
			rc = cl_fail(c, PRIVD_EPROTO,
			    "privd's answer does not make progress");
			goto done;
		}
		for (i = 0; i < qr->n_records && v->bad_seq == 0; i++) {
			rec = qr->records[i];
			if (rec->damaged && rec->seq == v->next_seq &&
			    rec->seq > fin) {
				rc = cl_fail(c, PRIVD_EPROTO,
				    "privd's answer goes past the range asked "
				    "for");
				goto done;
			}
			if (rec->damaged) {
				/* verification cannot go past it */
				av_damaged(v, rec->seq);
				break;
			}
			if (av_record(v, rec->event.data, rec->event.len,
			        rec->hash.data, rec->hash.len, &seq) == 0 &&
			    seq > fin) {
				/* more records than the range holds */
				rc = cl_fail(c, PRIVD_EPROTO,
				    "privd's answer goes past the range asked "
				    "for");
				goto done;
			}
		}
		free(cursor);
		cursor = NULL;
		cursorlen = qr->next_cursor.len;
		if (cursorlen > 0 && v->bad_seq == 0) {
			if ((nc = malloc(cursorlen)) == NULL) {
				rc = cl_fail(c, PRIVD_ENOMEM, "out of memory");
				goto done;
			}
			memcpy(nc, qr->next_cursor.data, cursorlen);
			cursor = nc;
		}
		cl_response_free(r);
		r = NULL;
		if (cursor == NULL)
			break;
	}
	if (av_finish(v, fin) != 0)
		rc =
		    tampered(c, v->bad_seq, bad_seq, why, whylen, "%s", v->why);
	else if (pk == NULL && rotations && to_seq == 0 &&
	         sodium_memcmp(v->pk, cur, AV_PKBYTES) != 0)
		/* the keys were taken from the log: they must lead to the
		 * key privd signs with */
		rc = tampered(c, fin, bad_seq, why, whylen,
		    "the log's key rotations do not lead to the key privd "
		    "signs with now");
	if (checked != NULL)
		*checked = v->checked;
done:
	if (r != NULL)
		cl_response_free(r);
	free(cursor);
	free(ck);
	free(v);
	return rc;
}
