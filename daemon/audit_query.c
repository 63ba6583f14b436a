/*
 * audit_query.c - the workers' side of the audit log: query planning,
 * walking, paging and cursors, and the checkpoint listing; see audit.h.
 *
 * DESIGN. Runs in worker threads, each request in its own read transaction;
 * reads the three audit databases and nothing else.
 *
 * A query is answered in three steps. plan_query() picks what to walk (the
 * log itself, or the subject or principal index) and the seq range to
 * walk: the query's seq bounds, its time bounds turned into seqs by a
 * binary search of the log (times never go back, so a time range is a seq
 * range), and the resume point of its cursor. walk_page() walks that range
 * in seq order, or reverse, looking at no more than
 * AUDIT_QUERY_MAX_EXAMINED events: through the index up to its mark, and
 * through the log past it (audit_index.h), so that events not yet indexed
 * are found all the same. finish_page() packs the records, and a
 * cursor if the walk stopped before the end of its range: the last seq it
 * examined, matched or not, so that the next page starts exactly after it.
 * A walk that reaches the end of its range gives no cursor: nothing more
 * can match.
 *
 * A stored event that does not decode is damaged: privd cannot tell whether
 * it matches, so it is in every answer whose seq range holds it, flagged,
 * with its seq (the index lists such events under a key of their own).
 */
#include "audit.h"

#include <errno.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "audit_index.h"
#include "log.h"
#include "worker.h"

#define ST(x)  PRIVD__V1__STATUS__##x
#define DEC(x) PRIVD__V1__DECISION__##x

#define QUERY_DEFAULT_LIMIT 100
#define QUERY_MAX_LIMIT     1000
#define CKPT_MAX_LIST       10000

/*
 * A cursor (audit.h) is the last seq a page examined and a digest of the
 * query it belongs to. It can only narrow its query, since the next page
 * walks the query's own range from just after that seq; one of another
 * query, or with a seq outside the query's seq bounds, is refused all the
 * same, as a client's mistake.
 */
static const char cursor_domain[] = "privd-audit-cursor-v2";

/* What one page walks: set by plan_query(), read by the rest. */
typedef enum plan_via {
	VIA_LOG,       /* the audit database itself */
	VIA_SUBJECT,   /* the subject pseudonym's index entries */
	VIA_PRINCIPAL, /* the principal's index entries */
} plan_via;

typedef struct plan {
	plan_via via;
	uint8_t key[AUDIT_IX_KEYMAX];       /* the index key walked */
	size_t klen;                        /* 0 for VIA_LOG */
	bool desc;                          /* newest first */
	bool empty;                         /* nothing can match */
	uint64_t lo, hi;                    /* seqs to walk, inclusive */
	uint8_t tag[AUDIT_CURSOR_TAGBYTES]; /* the query, in its cursors */
} plan;

/* One page being filled by walk_page(). */
typedef struct page {
	Privd__V1__AuditRecord *recs; /* in the job's arena */
	Privd__V1__AuditRecord **ptrs;
	size_t n, limit;
	size_t examined; /* index entries or events looked at */
	uint64_t last;   /* the last seq examined; 0: none */
	bool more;       /* stopped before the end of the range */
} page;

static void
tag_u64(crypto_generichash_state *h, uint64_t x)
{
	uint8_t b[8];

	store_be64(b, x);
	crypto_generichash_update(h, b, sizeof(b));
}

static void
tag_str(crypto_generichash_state *h, const char *s)
{
	size_t n = strlen(s);

	tag_u64(h, n);
	crypto_generichash_update(h, (const uint8_t *)s, n);
}

/*
 * The digest of every criterion of a query (not its limit, which may change
 * from page to page): a cursor carries it, so that it is accepted only by
 * the query that gave it. The subject is in it as its pseudonym, never as
 * the id, so that a cursor does not hold anything derived from the id
 * without privd's key.
 */
static void
query_tag(const Privd__V1__AuditQueryRequest *q, const uint8_t *pseudo,
    bool desc, uint8_t tag[AUDIT_CURSOR_TAGBYTES])
{
	crypto_generichash_state h;
	size_t i;

	crypto_generichash_init(&h, NULL, 0, AUDIT_CURSOR_TAGBYTES);
	crypto_generichash_update(
	    &h, (const uint8_t *)cursor_domain, sizeof(cursor_domain));
	tag_u64(&h, desc);
	tag_u64(&h, q->follow);
	tag_u64(&h, q->from_seq);
	tag_u64(&h, q->to_seq);
	tag_u64(&h, q->since_us);
	tag_u64(&h, q->until_us);
	tag_u64(&h, (uint64_t)q->decision);
	tag_u64(&h, q->request_id);
	tag_u64(&h, pseudo != NULL);
	if (pseudo != NULL)
		crypto_generichash_update(&h, pseudo, CRYPTO_PSEUDONYMBYTES);
	tag_str(&h, q->register_);
	tag_str(&h, q->principal);
	tag_u64(&h, q->n_ops);
	for (i = 0; i < q->n_ops; i++)
		tag_str(&h, q->ops[i]);
	tag_u64(&h, q->n_not_ops);
	for (i = 0; i < q->n_not_ops; i++)
		tag_str(&h, q->not_ops[i]);
	crypto_generichash_final(&h, tag, AUDIT_CURSOR_TAGBYTES);
}

/*
 * Is the event at seq s at or after time t? An event that does not decode
 * has no time: it takes the time of the nearest event that does after it
 * (after) or before it (!after), and counts as inside the bound being
 * searched for if there is none, so that the search stays monotone and a
 * damaged event at a time bound is in the range, not out of it.
 */
static int
at_or_after(store_cur *c, uint64_t s, uint64_t t, bool after, bool *yes)
{
	Privd__V1__AuditEvent *ev;
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	int rc;

	store_be64(kb, s);
	rc = store_cur_get(c, &k, &v, STORE_SET_RANGE);
	if (!after &&
	    (rc == STORE_NOTFOUND ||
	        (rc == 0 && (k.size != 8 || store_get_be64(k.data) > s))))
		rc =
		    store_cur_get(c, &k, &v, rc == 0 ? STORE_PREV : STORE_LAST);
	for (; rc == 0;
	     rc = store_cur_get(c, &k, &v, after ? STORE_NEXT : STORE_PREV)) {
		ev = v.size > AUDIT_HASHBYTES && k.size == 8
		         ? privd__v1__audit_event__unpack(NULL,
		               v.size - AUDIT_HASHBYTES,
		               (uint8_t *)v.data + AUDIT_HASHBYTES)
		         : NULL;
		if (ev != NULL) {
			*yes = ev->time_us >= t;
			privd__v1__audit_event__free_unpacked(ev, NULL);
			return 0;
		}
	}
	if (rc != STORE_NOTFOUND)
		return rc;
	*yes = after; /* none decodes on that side */
	return 0;
}

/*
 * The seq of the first event at or after time t (after), or of the last
 * event before t (!after); *seq = 0 if there is none. Times never go back,
 * so this is a binary search of the log by seq.
 */
static int
time_seq(store *st, store_txn *txn, uint64_t t, bool after, uint64_t *seq)
{
	store_cur *c;
	store_val k, v;
	uint64_t first, last, lo, hi, mid;
	bool yes;
	int rc;

	*seq = 0;
	if ((rc = store_cur_open(txn, STORE_AUDIT, &c)) != 0)
		return rc;
	if ((rc = store_cur_get(c, &k, &v, STORE_FIRST)) != 0)
		goto out;
	if (k.size != 8) {
		rc = STORE_CORRUPTED;
		goto out;
	}
	first = store_get_be64(k.data);
	if ((rc = store_cur_get(c, &k, &v, STORE_LAST)) != 0)
		goto out;
	if (k.size != 8) {
		rc = STORE_CORRUPTED;
		goto out;
	}
	last = store_get_be64(k.data);
	/* the first seq in [first, last] whose event is at or after t, or
	 * last + 1 */
	for (lo = first, hi = last + 1; lo < hi;) {
		mid = lo + (hi - lo) / 2;
		if ((rc = at_or_after(c, mid, t, after, &yes)) != 0)
			goto out;
		if (yes)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (after)
		*seq = lo <= last ? lo : 0;
	else
		*seq = lo > first ? lo - 1 : 0;
out:
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/*
 * Plan one page of query q (pseudo: the subject's pseudonym, or NULL).
 * Returns 0, or a store error; *badcursor is set if the query's cursor is
 * not one of its own.
 */
static int
plan_query(store *st, store_txn *txn, const Privd__V1__AuditQueryRequest *q,
    const uint8_t *pseudo, plan *p, bool *badcursor)
{
	const uint8_t *cur = q->cursor.data;
	uint64_t seq;
	int rc;

	memset(p, 0, sizeof(*p));
	*badcursor = false;
	/* a follow is the query it is: seq >= from_seq, oldest first */
	p->desc = q->newest_first && !q->follow;
	p->lo = q->from_seq > 0 ? q->from_seq : 1;
	p->hi = q->to_seq > 0 ? q->to_seq : UINT64_MAX;
	query_tag(q, pseudo, p->desc, p->tag);
	if (q->cursor.len != 0) {
		if (q->cursor.len != AUDIT_CURSOR_BYTES ||
		    cur[0] != AUDIT_CURSOR_VERSION ||
		    memcmp(cur + 9, p->tag, AUDIT_CURSOR_TAGBYTES) != 0 ||
		    (seq = store_get_be64(cur + 1)) < p->lo || seq > p->hi) {
			*badcursor = true;
			return 0;
		}
		if (p->desc)
			p->hi = seq - 1; /* seq >= lo >= 1 */
		else if (seq == UINT64_MAX)
			p->empty = true;
		else
			p->lo = seq + 1;
	}

	if (pseudo != NULL) {
		p->via = VIA_SUBJECT;
		p->klen = audit_ix_key_subject(p->key, pseudo);
	} else if (q->principal[0] != '\0') {
		p->via = VIA_PRINCIPAL;
		p->klen = audit_ix_key_principal(p->key, q->principal);
	} else {
		p->via = VIA_LOG;
	}

	if (q->since_us != 0 && !p->empty && p->lo <= p->hi) {
		if ((rc = time_seq(st, txn, q->since_us, true, &seq)) != 0)
			return rc;
		if (seq == 0)
			p->empty = true;
		else if (seq > p->lo)
			p->lo = seq;
	}
	if (q->until_us != 0 && !p->empty && p->lo <= p->hi) {
		if ((rc = time_seq(st, txn, q->until_us, false, &seq)) != 0)
			return rc;
		if (seq == 0)
			p->empty = true;
		else if (seq < p->hi)
			p->hi = seq;
	}
	if (p->lo > p->hi)
		p->empty = true;
	return 0;
}

static bool
name_in(char *const *names, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
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
	if (q->request_id != 0 && ev->request_id != q->request_id)
		return false;
	if (q->n_ops > 0 && !name_in(q->ops, q->n_ops, ev->op))
		return false;
	return !name_in(q->not_ops, q->n_not_ops, ev->op);
}

/*
 * protobuf-c's allocations while decoding one event: from a buffer reused
 * for every event of a page, and from malloc beyond it. It notes a failed
 * allocation, so that an event that did not decode for want of memory is
 * not called damaged.
 */
typedef struct scratch {
	alignas(16) uint8_t buf[4096];
	size_t used;
	bool failed;
} scratch;

static void *
scratch_alloc(void *data, size_t n)
{
	scratch *s = data;
	size_t off = (s->used + 15) & ~(size_t)15;
	void *p;

	if (off <= sizeof(s->buf) && n <= sizeof(s->buf) - off) {
		s->used = off + n;
		return s->buf + off;
	}
	if ((p = malloc(n)) == NULL)
		s->failed = true;
	return p;
}

static void
scratch_free(void *data, void *p)
{
	scratch *s = data;
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)s->buf;

	if (a < b || a >= b + sizeof(s->buf))
		free(p);
}

/* Add the stored record v of seq to the page. The record's bytes stay in
 * the read transaction's pages until the reply is packed. */
static void
page_add(page *pg, uint64_t seq, const store_val *v, bool damaged)
{
	Privd__V1__AuditRecord *r = &pg->recs[pg->n];
	size_t h = v->size < AUDIT_HASHBYTES ? v->size : AUDIT_HASHBYTES;

	privd__v1__audit_record__init(r);
	r->seq = seq;
	r->damaged = damaged;
	r->hash.data = v->data;
	r->hash.len = h;
	r->event.data = (uint8_t *)v->data + h;
	r->event.len = v->size - h;
	pg->ptrs[pg->n++] = r;
}

/*
 * Look at the stored record v of seq: add it to the page if its event
 * matches, or if it cannot be read (too short to hold a hash, or it does
 * not decode). Returns 0, or ENOMEM.
 */
static int
page_consider(page *pg, const Privd__V1__AuditQueryRequest *q,
    const uint8_t *pseudo, uint64_t seq, const store_val *v, scratch *s)
{
	ProtobufCAllocator pa = {scratch_alloc, scratch_free, s};
	Privd__V1__AuditEvent *ev;
	bool match;

	if (v->size < AUDIT_HASHBYTES) {
		page_add(pg, seq, v, true);
		return 0;
	}
	s->used = 0;
	s->failed = false;
	ev = privd__v1__audit_event__unpack(&pa, v->size - AUDIT_HASHBYTES,
	    (uint8_t *)v->data + AUDIT_HASHBYTES);
	if (ev == NULL) {
		if (s->failed)
			return ENOMEM;
		page_add(pg, seq, v, true);
		return 0;
	}
	match = event_matches(q, ev, pseudo);
	privd__v1__audit_event__free_unpacked(ev, &pa);
	if (match)
		page_add(pg, seq, v, false);
	return 0;
}

/*
 * Step the walk: the first step positions on the first key at or after
 * start (oldest first) or at or before it (newest first), later ones move
 * on by one. 0 and the key, or STORE_NOTFOUND past either end.
 */
static int
walk_step(store_cur *c, bool desc, bool first, const uint8_t *start,
    size_t slen, store_val *k, store_val *v)
{
	int rc;

	if (!first)
		return store_cur_get(c, k, v, desc ? STORE_PREV : STORE_NEXT);
	k->size = slen;
	k->data = (void *)start;
	rc = store_cur_get(c, k, v, STORE_SET_RANGE);
	if (!desc)
		return rc;
	if (rc == STORE_NOTFOUND)
		return store_cur_get(c, k, v, STORE_LAST);
	if (rc == 0 && (k->size != slen || memcmp(k->data, start, slen) != 0))
		return store_cur_get(c, k, v, STORE_PREV);
	return rc;
}

/* One page's walk, for the steps below. */
typedef struct walk {
	store *st;
	store_txn *txn;
	const Privd__V1__AuditQueryRequest *q;
	const uint8_t *pseudo;
	page *pg;
	scratch s;
} walk;

/* Is the page done? Then it stops here, to go on after pg->last. */
static bool
page_done(page *pg)
{
	if (pg->n == pg->limit || pg->examined == AUDIT_QUERY_MAX_EXAMINED) {
		pg->more = true;
		return true;
	}
	return false;
}

/*
 * Walk the log itself over [lo, hi], oldest or newest first, filling the
 * page until the range ends or the page is done. Returns 0 or a store
 * error.
 */
static int
walk_log(walk *w, uint64_t lo, uint64_t hi, bool desc)
{
	uint8_t start[8];
	store_val k, v;
	store_cur *c;
	uint64_t seq = 0;
	bool first = true;
	int rc;

	if ((rc = store_cur_open(w->txn, STORE_AUDIT, &c)) != 0)
		return rc;
	store_be64(start, desc ? hi : lo);
	for (;;) {
		rc = walk_step(c, desc, first, start, 8, &k, &v);
		first = false;
		if (rc != 0)
			break;
		/* a key privd does not write is looked at, not used */
		if (k.size == 8) {
			seq = store_get_be64(k.data);
			if (desc ? seq < lo : seq > hi)
				break; /* past the range: the end */
		}
		if (page_done(w->pg))
			break;
		w->pg->examined++;
		if (k.size != 8)
			continue;
		w->pg->last = seq;
		if ((rc = page_consider(
		         w->pg, w->q, w->pseudo, seq, &v, &w->s)) != 0)
			break;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* An index entry's seq: look at its event, unless the page is done. An
 * entry whose event is gone (pruned meanwhile) is skipped. */
static int
walk_seq(void *arg, uint64_t seq)
{
	walk *w = arg;
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	int rc;

	if (page_done(w->pg))
		return AUDIT_IX_STOP;
	w->pg->examined++;
	w->pg->last = seq;
	store_be64(kb, seq);
	if ((rc = store_get(w->txn, STORE_AUDIT, &k, &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	return page_consider(w->pg, w->q, w->pseudo, seq, &v, &w->s);
}

/*
 * Walk the plan's range, filling the page, until the range ends (no more
 * matches can follow) or the page is full or has examined
 * AUDIT_QUERY_MAX_EXAMINED entries (pg->more: a cursor resumes after
 * pg->last). An index plan walks the index up to its mark and the log past
 * it, in the plan's order: the index is complete up to the mark, and the
 * log past it holds every event that may still be missing from it.
 * Returns 0 or a store error.
 */
static int
walk_page(store *st, store_txn *txn, const Privd__V1__AuditQueryRequest *q,
    const uint8_t *pseudo, const plan *p, page *pg)
{
	walk w = {st, txn, q, pseudo, pg, {.used = 0}};
	uint64_t mark, ixhi, loglo;
	int rc;

	if (p->empty)
		return 0;
	if (p->via == VIA_LOG)
		return walk_log(&w, p->lo, p->hi, p->desc);
	if ((rc = audit_ix_mark(st, txn, &mark)) != 0)
		return rc;
	ixhi = p->hi < mark ? p->hi : mark;
	loglo = p->lo > mark ? p->lo : mark + 1;
	if (p->desc && loglo <= p->hi) {
		if ((rc = walk_log(&w, loglo, p->hi, true)) != 0 || pg->more)
			return rc;
	}
	if (p->lo <= ixhi) {
		rc = audit_ix_walk(st, txn, p->key, p->klen, p->lo, ixhi,
		    p->desc, walk_seq, &w);
		if (rc == AUDIT_IX_STOP)
			return 0;
		if (rc != 0)
			return rc;
	}
	if (!p->desc && loglo <= p->hi)
		return walk_log(&w, loglo, p->hi, false);
	return 0;
}

/* A store error is no answer: the database gone is UNAVAILABLE (retry),
 * anything else INTERNAL; never a page that stops short without saying
 * so, nor "damaged" (worker.h). */
static void
query_fail(job *j, int rc)
{
	worker_read_fail(
	    j, rc, "audit query failed", "the audit log cannot be read");
}

/*
 * Pack the page as the job's reply, with a cursor after the last seq
 * examined if the walk stopped early. The records point into the read
 * transaction's pages: the reply is packed before it ends.
 */
static void
finish_page(job *j, const plan *p, const page *pg)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__AuditQueryResponse qr =
	    PRIVD__V1__AUDIT_QUERY_RESPONSE__INIT;
	uint8_t *cursor;

	if (pg->more) {
		if (pg->last == 0) {
			/* only keys privd never writes: no seq to go on
			 * from, and no answer without one */
			log_err("audit query: malformed keys in the audit "
			        "log or its index");
			job_fail(
			    j, ST(INTERNAL), 0, "the audit log is damaged");
			return;
		}
		if ((cursor = arena_alloc(&j->ar, AUDIT_CURSOR_BYTES)) ==
		    NULL) {
			query_fail(j, ENOMEM);
			return;
		}
		cursor[0] = AUDIT_CURSOR_VERSION;
		store_be64(cursor + 1, pg->last);
		memcpy(cursor + 9, p->tag, AUDIT_CURSOR_TAGBYTES);
		qr.next_cursor.data = cursor;
		qr.next_cursor.len = AUDIT_CURSOR_BYTES;
	}
	qr.n_records = pg->n;
	qr.records = pg->ptrs;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_QUERY;
	resp.audit_query = &qr;
	job_ok(j, &resp);
}

/* One page of an audit query: plan, walk, finish. */
void
audit_query(store *st, store_txn *txn, job *j, const uint8_t *pseudo)
{
	const Privd__V1__AuditQueryRequest *q = j->req->audit_query;
	bool badcursor;
	plan p;
	page pg;
	int rc;

	if ((rc = plan_query(st, txn, q, pseudo, &p, &badcursor)) != 0) {
		query_fail(j, rc);
		return;
	}
	if (badcursor) {
		job_fail(j, ST(INVALID), 0, "not a cursor of this query");
		return;
	}
	memset(&pg, 0, sizeof(pg));
	pg.limit = q->limit == 0 ? QUERY_DEFAULT_LIMIT : q->limit;
	if (pg.limit > QUERY_MAX_LIMIT)
		pg.limit = QUERY_MAX_LIMIT;
	pg.recs = arena_alloc(&j->ar, pg.limit * sizeof(*pg.recs));
	pg.ptrs = arena_alloc(&j->ar, pg.limit * sizeof(*pg.ptrs));
	if (pg.recs == NULL || pg.ptrs == NULL) {
		query_fail(j, ENOMEM);
		return;
	}
	if ((rc = walk_page(st, txn, q, pseudo, &p, &pg)) != 0) {
		query_fail(j, rc);
		return;
	}
	finish_page(j, &p, &pg);
}

/* A checkpoint message pointing into its stored record (no copy). */
static void
ckpt_msg(uint64_t seq, const store_val *v, Privd__V1__AuditCheckpoint *m)
{
	const uint8_t *p = v->data;

	privd__v1__audit_checkpoint__init(m);
	m->seq = seq;
	m->time_us = store_get_be64(p);
	m->hash.data = (uint8_t *)p + 8;
	m->hash.len = AUDIT_HASHBYTES;
	m->signature.data = (uint8_t *)p + 8 + AUDIT_HASHBYTES;
	m->signature.len = AUDIT_SIGBYTES;
}

void
audit_checkpoints(store *st, store_txn *txn, job *j)
{
	const Privd__V1__AuditCheckpointsRequest *q = j->req->audit_checkpoints;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__AuditCheckpointsResponse cr =
	    PRIVD__V1__AUDIT_CHECKPOINTS_RESPONSE__INIT;
	Privd__V1__AuditCheckpoint *items, **ptrs, base;
	store_cur *c;
	uint64_t nckpt;
	store_val k, v;
	uint8_t kb[8];
	uint64_t seq, hi = q->to_seq ? q->to_seq : UINT64_MAX;
	size_t n = 0, max;
	int rc;

	if ((rc = store_count(txn, STORE_AUDIT_CKPT, &nckpt)) != 0) {
		query_fail(j, rc);
		return;
	}
	max = nckpt < CKPT_MAX_LIST ? nckpt : CKPT_MAX_LIST;
	items = arena_alloc(&j->ar, (max ? max : 1) * sizeof(*items));
	ptrs = arena_alloc(&j->ar, (max ? max : 1) * sizeof(*ptrs));
	if (items == NULL || ptrs == NULL) {
		query_fail(j, ENOMEM);
		return;
	}
	if ((rc = store_cur_open(txn, STORE_AUDIT, &c)) != 0) {
		query_fail(j, rc);
		return;
	}
	/* an empty log has neither; a failed read is no answer (a
	 * first_seq of 0 would tell the verifier nothing was pruned) */
	if ((rc = store_cur_get(c, &k, &v, STORE_FIRST)) == 0)
		cr.first_seq = store_get_be64(k.data);
	if ((rc == 0 || rc == STORE_NOTFOUND) &&
	    (rc = store_cur_get(c, &k, &v, STORE_LAST)) == 0)
		cr.last_seq = store_get_be64(k.data);
	store_cur_close(c);
	if (rc != 0 && rc != STORE_NOTFOUND) {
		query_fail(j, rc);
		return;
	}
	if ((rc = store_cur_open(txn, STORE_AUDIT_CKPT, &c)) != 0) {
		query_fail(j, rc);
		return;
	}
	store_be64(kb, q->from_seq);
	k.size = 8;
	k.data = kb;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE);
	     rc == 0 && n < CKPT_MAX_LIST;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size != 8)
			continue; /* not a key privd writes */
		seq = store_get_be64(k.data);
		if (seq > hi)
			break;
		if (v.size != AUDIT_CKPT_RECBYTES)
			continue;
		ckpt_msg(seq, &v, &items[n]);
		ptrs[n] = &items[n];
		n++;
	}
	/* the list stops at its end, at hi, or at CKPT_MAX_LIST: never at a
	 * failed read, which would look like a shorter list */
	if (rc == STORE_NOTFOUND)
		rc = 0;
	/* After pruning, the checkpoint just before the oldest event starts
	 * the chain. */
	if (rc == 0 && cr.first_seq > 1) {
		store_be64(kb, cr.first_seq - 1);
		k.size = 8;
		k.data = kb;
		rc = store_cur_get(c, &k, &v, STORE_SET_KEY);
		if (rc == 0 && v.size == AUDIT_CKPT_RECBYTES) {
			ckpt_msg(cr.first_seq - 1, &v, &base);
			cr.prune_checkpoint = &base;
		}
		if (rc == STORE_NOTFOUND)
			rc = 0;
	}
	store_cur_close(c);
	if (rc != 0) {
		query_fail(j, rc);
		return;
	}
	cr.n_checkpoints = n;
	cr.checkpoints = ptrs;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_CHECKPOINTS;
	resp.audit_checkpoints = &cr;
	job_ok(j, &resp);
}
