/*
 * audit_query.c - the workers' side of the audit log: query planning,
 * walking, paging and cursors, and the checkpoint listing; see audit.h.
 * Runs in worker threads, in read transactions only.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

#define ST(x)  PRIVD__V1__STATUS__##x
#define DEC(x) PRIVD__V1__DECISION__##x

#define QUERY_DEFAULT_LIMIT 100
#define QUERY_MAX_LIMIT     1000
#define QUERY_MAX_EXAMINED  20000 /* events looked at for one page */
#define CKPT_MAX_LIST       10000
#define CURSOR_BYTES        17 /* version(1) seq(8) time(8) */

/*
 * Query plans: the most selective index the query allows. Every index key
 * ends in the event's seq, and seq order is time order, so each plan walks
 * events in seq order (or reverse) and can stop at the first one outside
 * the seq or time bounds.
 */
typedef struct walk {
	MDB_cursor *c;
	uint8_t
	    prefix[AUDIT_IDX_KEYMAX]; /* audit_idx_principal writes a seq too */
	size_t plen;
	bool main; /* walking the audit database itself */
	bool desc;
	bool first; /* next step is the positioning one */
	uint8_t start[AUDIT_IDX_KEYMAX];
	size_t slen;
} walk;

/* Position on the first key at or after (asc) / at or before (desc) start,
 * or step; 0 and the key on success, MDB_NOTFOUND at the end. */
static int
walk_next(walk *w, MDB_val *k, MDB_val *v)
{
	int rc;

	if (w->first) {
		w->first = false;
		k->mv_size = w->slen;
		k->mv_data = w->start;
		rc = mdb_cursor_get(w->c, k, v, MDB_SET_RANGE);
		if (w->desc) {
			if (rc == MDB_NOTFOUND)
				rc = mdb_cursor_get(w->c, k, v, MDB_LAST);
			else if (rc == 0 && (k->mv_size != w->slen ||
			                        memcmp(k->mv_data, w->start,
			                            w->slen) != 0))
				rc = mdb_cursor_get(w->c, k, v, MDB_PREV);
		}
	} else {
		rc = mdb_cursor_get(w->c, k, v, w->desc ? MDB_PREV : MDB_NEXT);
	}
	if (rc != 0)
		return rc;
	if (k->mv_size < w->plen + 8 ||
	    memcmp(k->mv_data, w->prefix, w->plen) != 0)
		return MDB_NOTFOUND;
	return 0;
}

static bool
op_wanted(const Privd__V1__AuditQueryRequest *q, const char *op)
{
	size_t i;

	if (q->n_ops == 0)
		return true;
	for (i = 0; i < q->n_ops; i++)
		if (strcmp(q->ops[i], op) == 0)
			return true;
	return false;
}

/* Does an event meet every criterion of the query? */
static bool
event_matches(const Privd__V1__AuditQueryRequest *q,
    const Privd__V1__AuditEvent *ev, const uint8_t *pseudo)
{
	if (pseudo != NULL &&
	    (ev->subject.len != CRYPTO_PSEUDONYMBYTES ||
	        memcmp(ev->subject.data, pseudo, CRYPTO_PSEUDONYMBYTES) != 0))
		return false;
	if (q->register_[0] != '\0' && strcmp(q->register_, ev->register_) != 0)
		return false;
	if (q->principal[0] != '\0' && strcmp(q->principal, ev->principal) != 0)
		return false;
	if (q->since_us != 0 && ev->time_us < q->since_us)
		return false;
	if (q->until_us != 0 && ev->time_us >= q->until_us)
		return false;
	if (q->decision != DEC(DECISION_UNSPECIFIED) &&
	    (int)ev->decision != (int)q->decision)
		return false;
	return op_wanted(q, ev->op);
}

static void
query_fail(job *j, int rc)
{
	log_err("audit query failed: %s",
	    rc > 0 || rc < -1 ? mdb_strerror(rc) : "out of memory");
	job_fail(j, ST(INTERNAL), 0, "the audit log cannot be read");
}

/*
 * One page of an audit query. Records point into the read transaction's
 * pages until the reply is packed here, so nothing is copied twice.
 */
void
audit_query(store *st, MDB_txn *txn, job *j, const uint8_t *pseudo)
{
	const Privd__V1__AuditQueryRequest *q = j->req->audit_query;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__AuditQueryResponse qr =
	    PRIVD__V1__AUDIT_QUERY_RESPONSE__INIT;
	Privd__V1__AuditRecord *recs, **ptrs;
	Privd__V1__AuditEvent *ev;
	uint64_t seq, lo, hi, cur_seq = 0, cur_time = 0, last_seq = 0,
	                      last_time = 0;
	uint8_t kb[8], *cursor;
	MDB_val k, v, ek = {8, kb};
	size_t limit, n = 0, examined = 0;
	bool more = false, have_cursor = false;
	walk w;
	int rc;

	limit = q->limit == 0 ? QUERY_DEFAULT_LIMIT : q->limit;
	if (limit > QUERY_MAX_LIMIT)
		limit = QUERY_MAX_LIMIT;
	if (q->cursor.len != 0) {
		if (q->cursor.len != CURSOR_BYTES || q->cursor.data[0] != 1) {
			job_fail(
			    j, ST(INVALID), 0, "not a cursor of this query");
			return;
		}
		have_cursor = true;
		cur_seq = store_get_be64(q->cursor.data + 1);
		cur_time = store_get_be64(q->cursor.data + 9);
	}
	lo = q->from_seq;
	hi = q->to_seq ? q->to_seq : UINT64_MAX;
	if (have_cursor) {
		if (q->newest_first)
			hi = cur_seq > 0 ? cur_seq - 1 : 0;
		else
			lo = cur_seq + 1;
	}
	recs = arena_alloc(&j->ar, limit * sizeof(*recs));
	ptrs = arena_alloc(&j->ar, limit * sizeof(*ptrs));
	if (recs == NULL || ptrs == NULL) {
		query_fail(j, -1);
		return;
	}

	memset(&w, 0, sizeof(w));
	w.desc = q->newest_first;
	w.first = true;
	if (pseudo != NULL) {
		w.prefix[0] = AUDIT_IDX_SUBJECT;
		memcpy(w.prefix + 1, pseudo, CRYPTO_PSEUDONYMBYTES);
		w.plen = 1 + CRYPTO_PSEUDONYMBYTES;
	} else if (q->principal[0] != '\0') {
		w.plen = audit_idx_principal(w.prefix, q->principal, 0) - 8;
	} else if (q->since_us != 0 || q->until_us != 0) {
		w.prefix[0] = AUDIT_IDX_TIME;
		w.plen = 1;
	} else {
		w.main = true;
	}
	memcpy(w.start, w.prefix, w.plen);
	if (w.main || w.prefix[0] != AUDIT_IDX_TIME) {
		store_be64(w.start + w.plen, w.desc ? hi : lo);
		w.slen = w.plen + 8;
	} else if (have_cursor) {
		store_be64(w.start + 1, cur_time);
		store_be64(w.start + 9, w.desc ? hi : lo);
		w.slen = 17;
	} else {
		store_be64(w.start + 1,
		    w.desc ? (q->until_us ? q->until_us - 1 : UINT64_MAX)
		           : q->since_us);
		store_be64(w.start + 9, w.desc ? UINT64_MAX : 0);
		w.slen = 17;
	}
	if (lo > hi)
		goto done;
	if ((rc = mdb_cursor_open(
	         txn, w.main ? st->audit : st->audit_idx, &w.c)) != 0) {
		query_fail(j, rc);
		return;
	}
	while ((rc = walk_next(&w, &k, &v)) == 0) {
		seq = store_get_be64((uint8_t *)k.mv_data + k.mv_size - 8);
		if (n == limit || examined == QUERY_MAX_EXAMINED) {
			more = true;
			break;
		}
		examined++;
		/* Every index is in seq order. The seq and subject/principal
		 * plans start inside the seq bounds; the time plan starts at
		 * a time, so it may meet events before the bounds first. */
		if (w.desc ? seq > hi : seq < lo)
			continue;
		if (w.desc ? seq < lo : seq > hi)
			break;
		if (!w.main) {
			store_be64(kb, seq);
			if ((rc = mdb_get(txn, st->audit, &ek, &v)) != 0) {
				if (rc == MDB_NOTFOUND)
					continue; /* pruned meanwhile */
				break;
			}
		}
		if (v.mv_size <= AUDIT_HASHBYTES)
			continue;
		ev = privd__v1__audit_event__unpack(NULL,
		    v.mv_size - AUDIT_HASHBYTES,
		    (uint8_t *)v.mv_data + AUDIT_HASHBYTES);
		if (ev == NULL)
			continue; /* damaged: `privctl audit verify` says where
			           */
		last_seq = seq;
		last_time = ev->time_us;
		if (w.desc ? (q->since_us && ev->time_us < q->since_us)
		           : (q->until_us && ev->time_us >= q->until_us)) {
			privd__v1__audit_event__free_unpacked(ev, NULL);
			break; /* time order too */
		}
		if (event_matches(q, ev, pseudo)) {
			privd__v1__audit_record__init(&recs[n]);
			recs[n].hash.data = v.mv_data;
			recs[n].hash.len = AUDIT_HASHBYTES;
			recs[n].event.data =
			    (uint8_t *)v.mv_data + AUDIT_HASHBYTES;
			recs[n].event.len = v.mv_size - AUDIT_HASHBYTES;
			ptrs[n] = &recs[n];
			n++;
		}
		privd__v1__audit_event__free_unpacked(ev, NULL);
	}
	mdb_cursor_close(w.c);
	if (rc != 0 && rc != MDB_NOTFOUND) {
		query_fail(j, rc);
		return;
	}
done:
	if (more && last_seq != 0) {
		if ((cursor = arena_alloc(&j->ar, CURSOR_BYTES)) == NULL) {
			query_fail(j, -1);
			return;
		}
		cursor[0] = 1;
		store_be64(cursor + 1, last_seq);
		store_be64(cursor + 9, last_time);
		qr.next_cursor.data = cursor;
		qr.next_cursor.len = CURSOR_BYTES;
	}
	qr.n_records = n;
	qr.records = ptrs;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_QUERY;
	resp.audit_query = &qr;
	job_ok(j, &resp);
}

/* A checkpoint message pointing into its stored record (no copy). */
static void
ckpt_msg(uint64_t seq, const MDB_val *v, Privd__V1__AuditCheckpoint *m)
{
	const uint8_t *p = v->mv_data;

	privd__v1__audit_checkpoint__init(m);
	m->seq = seq;
	m->time_us = store_get_be64(p);
	m->hash.data = (uint8_t *)p + 8;
	m->hash.len = AUDIT_HASHBYTES;
	m->signature.data = (uint8_t *)p + 8 + AUDIT_HASHBYTES;
	m->signature.len = AUDIT_SIGBYTES;
}

void
audit_checkpoints(store *st, MDB_txn *txn, job *j)
{
	const Privd__V1__AuditCheckpointsRequest *q = j->req->audit_checkpoints;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__AuditCheckpointsResponse cr =
	    PRIVD__V1__AUDIT_CHECKPOINTS_RESPONSE__INIT;
	Privd__V1__AuditCheckpoint *items, **ptrs, base;
	MDB_cursor *c;
	MDB_stat ms;
	MDB_val k, v;
	uint8_t kb[8];
	uint64_t seq, hi = q->to_seq ? q->to_seq : UINT64_MAX;
	size_t n = 0, max;
	int rc;

	if ((rc = mdb_stat(txn, st->audit_ckpt, &ms)) != 0) {
		query_fail(j, rc);
		return;
	}
	max = ms.ms_entries < CKPT_MAX_LIST ? ms.ms_entries : CKPT_MAX_LIST;
	items = arena_alloc(&j->ar, (max ? max : 1) * sizeof(*items));
	ptrs = arena_alloc(&j->ar, (max ? max : 1) * sizeof(*ptrs));
	if (items == NULL || ptrs == NULL) {
		query_fail(j, -1);
		return;
	}
	if ((rc = mdb_cursor_open(txn, st->audit, &c)) != 0) {
		query_fail(j, rc);
		return;
	}
	if (mdb_cursor_get(c, &k, &v, MDB_FIRST) == 0)
		cr.first_seq = store_get_be64(k.mv_data);
	if (mdb_cursor_get(c, &k, &v, MDB_LAST) == 0)
		cr.last_seq = store_get_be64(k.mv_data);
	mdb_cursor_close(c);
	if ((rc = mdb_cursor_open(txn, st->audit_ckpt, &c)) != 0) {
		query_fail(j, rc);
		return;
	}
	store_be64(kb, q->from_seq);
	k.mv_size = 8;
	k.mv_data = kb;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
	     rc == 0 && n < CKPT_MAX_LIST;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		seq = store_get_be64(k.mv_data);
		if (seq > hi)
			break;
		if (v.mv_size != AUDIT_CKPT_RECBYTES)
			continue;
		ckpt_msg(seq, &v, &items[n]);
		ptrs[n] = &items[n];
		n++;
	}
	/* After pruning, the checkpoint just before the oldest event starts
	 * the chain. */
	if (cr.first_seq > 1) {
		store_be64(kb, cr.first_seq - 1);
		k.mv_size = 8;
		k.mv_data = kb;
		if (mdb_cursor_get(c, &k, &v, MDB_SET_KEY) == 0 &&
		    v.mv_size == AUDIT_CKPT_RECBYTES) {
			ckpt_msg(cr.first_seq - 1, &v, &base);
			cr.prune_checkpoint = &base;
		}
	}
	mdb_cursor_close(c);
	cr.n_checkpoints = n;
	cr.checkpoints = ptrs;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_CHECKPOINTS;
	resp.audit_checkpoints = &cr;
	job_ok(j, &resp);
}
