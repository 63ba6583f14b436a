/*
 * audit_subject.c - every audit event of one subject, in seq order, for a
 * worker that needs all of them (a subject export); see audit.h.
 *
 * DESIGN. The walk is the one a query by subject makes (audit_query.c):
 * the subject index up to its mark, then the log past the mark, so that
 * it is complete at every moment even though the index lags the log. The
 * index keys a subject by the first bytes of its pseudonym, so every event
 * it lists is decoded and its whole pseudonym compared. An event that does
 * not decode cannot be attributed: the walk hands it on undecoded, and the
 * caller decides what to make of it (the index lists such events under a
 * key of their own, which audit_ix_walk merges in).
 */
#include "audit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit_index.h"

/* protobuf-c's allocations while decoding: malloc, noting a failure, so
 * that an event that did not decode for want of memory is not taken for
 * a damaged one. */
typedef struct subj_alloc {
	bool failed;
} subj_alloc;

static void *
sa_alloc(void *data, size_t n)
{
	subj_alloc *a = data;
	void *p;

	if ((p = malloc(n)) == NULL)
		a->failed = true;
	return p;
}

static void
sa_free(void *data, void *p)
{
	(void)data;
	free(p);
}

typedef struct subj_walk {
	store *st;
	store_txn *txn;
	const uint8_t *pseudo;
	audit_subject_fn fn;
	void *arg;
} subj_walk;

/*
 * Hand the stored record v of seq to the caller if its event is the
 * subject's, or does not decode (ev NULL). Returns what fn returned, 0,
 * or ENOMEM.
 */
static int
visit(subj_walk *w, uint64_t seq, const store_val *v)
{
	subj_alloc sa = {false};
	ProtobufCAllocator pa = {sa_alloc, sa_free, &sa};
	Privd__V1__AuditEvent *ev;
	int rc = 0;

	if (v->size < AUDIT_HASHBYTES)
		return w->fn(w->arg, seq, NULL);
	ev = privd__v1__audit_event__unpack(&pa, v->size - AUDIT_HASHBYTES,
	    (const uint8_t *)v->data + AUDIT_HASHBYTES);
	if (ev == NULL)
		return sa.failed ? ENOMEM : w->fn(w->arg, seq, NULL);
	if (ev->subject.len == CRYPTO_PSEUDONYMBYTES &&
	    memcmp(ev->subject.data, w->pseudo, CRYPTO_PSEUDONYMBYTES) == 0)
		rc = w->fn(w->arg, seq, ev);
	privd__v1__audit_event__free_unpacked(ev, &pa);
	return rc;
}

/* An index entry's seq: its event, unless it was pruned meanwhile. */
static int
visit_seq(void *arg, uint64_t seq)
{
	subj_walk *w = arg;
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	int rc;

	store_be64(kb, seq);
	if ((rc = store_get(w->txn, STORE_AUDIT, &k, &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	rc = visit(w, seq, &v);
	return rc == AUDIT_SUBJECT_STOP ? AUDIT_IX_STOP : rc;
}

/* The log itself from seq lo on. */
static int
walk_tail(subj_walk *w, uint64_t lo)
{
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	store_cur *c;
	int rc;

	if ((rc = store_cur_open(w->txn, STORE_AUDIT, &c)) != 0)
		return rc;
	store_be64(kb, lo);
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size != 8)
			continue; /* not a key privd writes */
		if ((rc = visit(w, store_get_be64(k.data), &v)) != 0)
			break;
	}
	store_cur_close(c);
	if (rc == STORE_NOTFOUND || rc == AUDIT_SUBJECT_STOP)
		return 0;
	return rc;
}

int
audit_subject_walk(store *st, store_txn *txn, const uint8_t *pseudo,
    audit_subject_fn fn, void *arg)
{
	subj_walk w = {st, txn, pseudo, fn, arg};
	uint8_t key[AUDIT_IX_KEYMAX];
	size_t klen;
	uint64_t mark;
	int rc;

	if ((rc = audit_ix_mark(st, txn, &mark)) != 0)
		return rc;
	if (mark > 0) {
		klen = audit_ix_key_subject(key, pseudo);
		rc = audit_ix_walk(
		    st, txn, key, klen, 1, mark, false, visit_seq, &w);
		if (rc == AUDIT_IX_STOP)
			return 0;
		if (rc != 0)
			return rc;
	}
	if (mark == UINT64_MAX)
		return 0;
	return walk_tail(&w, mark + 1);
}
