/*
 * store_pg_cursor.c - store_kv.h's cursors over PostgreSQL: a walk in
 * key order (either way) over batches of rows; and the read-ahead
 * (store_prefetch, at the end): records fetched before they are asked
 * for, answered from memory.
 *
 * DESIGN: a cursor holds the batch it is in (a PGresult the transaction
 * keeps, so records handed out stay valid until it ends), the row it is
 * at, and the current key. A step inside the batch costs nothing; a step
 * out of it fetches the next batch from the current key (k > cur
 * ascending, k < cur descending). Batches grow from 8 rows to 256 as a
 * walk goes on: most walks are a prefix scan of a few records (a
 * subject's values), some cross a whole table (an audit export).
 *
 * A streaming cursor (store_cur_stream: the caller needs a record only
 * until the cursor moves) frees each batch when it fetches the next, so
 * a walk across a whole table (an export, a backup's copy) holds one
 * batch of at most BATCH_MAX rows, not every row it passed.
 *
 * The batch is a copy of the table at the time of the fetch. A write to
 * the table in the transaction (any put, del or drop: t->wgen) makes
 * every open cursor's batch stale; the cursor then fetches again from
 * its current key at its next step. The cursor's own writes (cur_del,
 * put_current) change only the current row, so the cursor keeps the part
 * of the batch ahead of it in the direction it was going ([lo, hi)) and
 * stays fast through a walk that deletes or rewrites every record.
 */
#include "store_pg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BATCH_FIRST 8
#define BATCH_MAX   256

enum { C_UNSET, C_ON, C_DEL };

struct pg_cur {
	struct store_cur base;
	pg_cur *next; /* the transaction's open cursors */
	store_tbl tb;
	PGresult *b; /* the batch, or NULL */
	int n;       /* its rows */
	int lo, hi;  /* the rows of it still valid */
	int i;       /* the current row */
	int dir;     /* +1 or -1: the last step's direction in row numbers */
	bool desc;   /* the batch is in descending key order */
	uint32_t gen;
	int64_t want; /* the next batch's size */
	bool stream;  /* store_cur_stream: drop a batch once past it */
	size_t bix;   /* b's place in the transaction's results */
	int st;
	store_val k, v; /* the current record */
};

int
store_pg_cur_open(store_txn *tx, store_tbl tb, store_cur **out)
{
	pg_txn *t = PGT(tx);
	pg_cur *c;
	int rc;

	*out = NULL;
	if ((rc = pg_begin_call(t)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	c->base.ops = tx->ops;
	c->base.t = tx;
	c->tb = tb;
	c->want = BATCH_FIRST;
	c->next = t->curs;
	t->curs = c;
	*out = &c->base;
	return 0;
}

void
store_pg_cur_close(store_cur *cur)
{
	pg_cur *c = (pg_cur *)cur, **p;

	if (c == NULL)
		return;
	if (c->base.t != NULL) {
		for (p = &PGT(c->base.t)->curs; *p != NULL; p = &(*p)->next) {
			if (*p == c) {
				*p = c->next;
				break;
			}
		}
	}
	free(c);
}

/* The transaction ends (or resets): batches go with its results. A
 * cursor left open is detached, so closing it later is still safe. */
void
pg_cur_end_txn(pg_txn *t, bool detach)
{
	for (pg_cur *c = t->curs; c != NULL; c = c->next) {
		c->b = NULL;
		c->n = c->lo = c->hi = 0;
		c->st = C_UNSET;
		if (detach)
			c->base.t = NULL;
	}
	if (detach)
		t->curs = NULL;
}

/*
 * The cursor's batch becomes r, which pg_exec has just kept (the last of
 * the transaction's results). A streaming cursor (store_cur_stream) frees
 * the batch it leaves, so a long walk holds one batch, not the table; an
 * empty r leaves it, since the current key points into it.
 */
static void
set_batch(pg_cur *c, PGresult *r)
{
	pg_txn *t = PGT(c->base.t);

	if (c->stream && c->b != NULL && PQntuples(r) > 0 && c->bix < t->nres &&
	    t->res[c->bix] == c->b) {
		PQclear(c->b);
		t->res[c->bix] = NULL; /* PQclear(NULL) at the end: nothing */
	}
	if (PQntuples(r) > 0 || c->b == NULL || !c->stream) {
		c->b = r;
		c->bix = t->nres - 1;
	}
}

static void
set_row(pg_cur *c, int i)
{
	c->i = i;
	c->k.size = (size_t)PQgetlength(c->b, i, 0);
	c->k.data = PQgetvalue(c->b, i, 0);
	c->v.size = (size_t)PQgetlength(c->b, i, 1);
	c->v.data = PQgetvalue(c->b, i, 1);
	c->st = C_ON;
}

/* Fetches a batch with q from the key from (if the statement takes one)
 * and moves to its first row; STORE_NOTFOUND leaves the position. */
static int
fetch(pg_cur *c, enum pg_q q, const store_val *from, int64_t lim)
{
	pg_txn *t = PGT(c->base.t);
	PGresult *r;
	int rc;

	if ((rc = pg_exec(t, q, c->tb, from, NULL, lim, &r)) != 0)
		return rc;
	if (lim == c->want && c->want < BATCH_MAX)
		c->want *= 2;
	set_batch(c, r);
	c->n = c->hi = PQntuples(r);
	c->lo = 0;
	c->desc = q == Q_LAST || q == Q_LT;
	c->gen = t->wgen[c->tb];
	c->dir = 1;
	if (c->n == 0)
		return STORE_NOTFOUND;
	set_row(c, 0);
	return 0;
}

static bool
batch_fresh(const pg_cur *c)
{
	return c->b != NULL && c->gen == PGT(c->base.t)->wgen[c->tb];
}

/* One record on in key order (fwd) or back. */
static int
step(pg_cur *c, bool fwd)
{
	int d, j;

	if (c->st == C_UNSET)
		return fetch(c, fwd ? Q_FIRST : Q_LAST, NULL, c->want);
	d = fwd != c->desc ? 1 : -1;
	j = c->i + d;
	if (batch_fresh(c) && j >= c->lo && j < c->hi) {
		set_row(c, j);
		c->dir = d;
		return 0;
	}
	/* c->k is the current (or just deleted) key; it points into a
	 * result the transaction keeps */
	return fetch(c, fwd ? Q_GT : Q_LT, &c->k, c->want);
}

/* The current record again: from the batch if nothing wrote to the
 * table since, else from the table (it may be gone). */
static int
current(pg_cur *c)
{
	pg_txn *t = PGT(c->base.t);
	PGresult *r;
	int rc;

	if (c->st == C_UNSET)
		return EINVAL;
	if (c->st == C_DEL) /* as LMDB: the record that followed */
		return step(c, true);
	if (batch_fresh(c))
		return 0;
	if ((rc = pg_exec(t, Q_GE, c->tb, &c->k, NULL, 1, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0 || (size_t)PQgetlength(r, 0, 0) != c->k.size ||
	    memcmp(PQgetvalue(r, 0, 0), c->k.data, c->k.size) != 0)
		return STORE_NOTFOUND;
	set_batch(c, r);
	c->n = 1;
	c->lo = 0;
	c->hi = 1;
	c->desc = false;
	c->gen = t->wgen[c->tb];
	set_row(c, 0);
	return 0;
}

int
store_pg_cur_get(store_cur *cur, store_val *k, store_val *v, store_op op)
{
	pg_cur *c = (pg_cur *)cur;
	pg_txn *t = PGT(c->base.t);
	int rc;

	if (t == NULL)
		return EINVAL;
	if ((rc = pg_begin_call(t)) != 0)
		return rc;
	switch (op) {
	case STORE_FIRST:
		rc = fetch(c, Q_FIRST, NULL, c->want);
		break;
	case STORE_LAST:
		rc = fetch(c, Q_LAST, NULL, c->want);
		break;
	case STORE_NEXT:
		rc = step(c, true);
		break;
	case STORE_PREV:
		rc = step(c, false);
		break;
	case STORE_GET_CURRENT:
		rc = current(c);
		break;
	case STORE_SET_KEY:
	case STORE_SET_RANGE:
		if (k == NULL || k->size == 0 || k->size > INT32_MAX)
			return EINVAL;
		/* an exact lookup usually wants one record */
		rc = fetch(c, Q_GE, k, op == STORE_SET_KEY ? 1 : c->want);
		if (rc == 0 && op == STORE_SET_KEY &&
		    (c->k.size != k->size ||
		        memcmp(c->k.data, k->data, k->size) != 0)) {
			c->st = C_UNSET;
			rc = STORE_NOTFOUND;
		}
		break;
	default:
		return EINVAL;
	}
	if (rc != 0)
		return rc;
	if (k != NULL)
		*k = c->k;
	if (v != NULL)
		*v = c->v;
	return 0;
}

/* store_kv.h's store_cur_stream. */
void
store_pg_cur_stream(store_cur *cur)
{
	((pg_cur *)cur)->stream = true;
}

/* After the cursor's own write to the current row: the rows behind it
 * and the row itself leave the batch; the rest stays fresh. */
static void
own_write(pg_cur *c)
{
	pg_txn *t = PGT(c->base.t);
	bool fresh = batch_fresh(c);

	if (fresh) {
		if (c->dir > 0)
			c->lo = c->i + 1;
		else
			c->hi = c->i;
	}
	t->wgen[c->tb]++;
	if (fresh) /* a stale batch stays stale */
		c->gen = t->wgen[c->tb];
}

int
store_pg_cur_put_current(store_cur *cur, const store_val *k, store_val *v)
{
	pg_cur *c = (pg_cur *)cur;
	pg_txn *t = PGT(c->base.t);
	void *copy;
	int rc;

	if (t == NULL || c->st != C_ON)
		return EINVAL;
	if (t->rdonly)
		return EACCES;
	if ((rc = pg_begin_call(t)) != 0)
		return rc;
	if (k != NULL &&
	    (k->size != c->k.size || memcmp(k->data, c->k.data, k->size) != 0))
		return EINVAL; /* LMDB: the key must be the current one */
	if (v->size > INT32_MAX)
		return EINVAL;
	if ((copy = pg_keep_copy(t, v->data, v->size)) == NULL)
		return t->err = ENOMEM;
	if ((rc = pg_exec(t, Q_PUT, c->tb, &c->k, v, 0, NULL)) != 0)
		return rc;
	pg_pf_wrote(t, c->tb, &c->k, v, false);
	own_write(c);
	c->v.size = v->size;
	c->v.data = copy;
	return 0;
}

/* Queued, not waited for: the row is there (the cursor is on it and no
 * write since says otherwise, or it fetches first). */
int
store_pg_cur_del(store_cur *cur)
{
	pg_cur *c = (pg_cur *)cur;
	pg_txn *t = PGT(c->base.t);
	int rc;

	if (t == NULL || c->st != C_ON)
		return EINVAL;
	if (t->rdonly)
		return EACCES;
	if ((rc = pg_begin_call(t)) != 0)
		return rc;
	if (!batch_fresh(c) && (rc = current(c)) != 0)
		return rc;
	if ((rc = pg_exec(t, Q_DEL, c->tb, &c->k, NULL, 0, NULL)) != 0)
		return rc;
	pg_pf_wrote(t, c->tb, &c->k, NULL, false);
	own_write(c);
	c->st = C_DEL;
	return 0;
}

/*
 * The read-ahead (store_kv.h's store_prefetch). A writer about to apply
 * a batch of jobs knows most of the keys its jobs will get (each put's
 * subject, its values, its register's end); asking for them one get at a
 * time costs a round trip each, while the writers' lock is held. So
 * store_prefetch queues one statement for all the keys of a table (k =
 * ANY($1)) in the pipeline, without waiting, and notes each key here as
 * awaited; whichever call waits next reads its result with its own
 * (pg_conn_wait fills the entries: a key it did not return is absent),
 * and a get of a key found here is answered from memory. A record
 * handed out lives in a result or a copy the transaction keeps, until
 * it ends.
 *
 * What is here stays true for the transaction: a read transaction sees
 * one snapshot, and a write transaction holds the writers' lock (no other
 * privd writes), so only its own writes change what it would read, and
 * each of them updates this: a put sets the value (a copy), a del marks
 * the key absent; a put whose value is not known yet (STORE_RESERVE, or
 * a put that may fail: NOOVERWRITE, APPEND), a cursor's write or a drop
 * makes the key (the table) unknown, asked of the server again. A write
 * that was queued before its key's fetch was answered wins: the fetch's
 * result is dropped when it comes. Only keys read ahead (and a write
 * transaction's gets: pg_pf_note) are kept: others cost nothing here.
 */
enum { PF_WAIT = 1, PF_HAVE, PF_NONE, PF_UNKNOWN };

#define PF_MAX 16384 /* entries; a read-ahead past it is not made */

static uint32_t
pf_hash(store_tbl tb, const store_val *k)
{
	const uint8_t *p = k->data;
	uint32_t h = 2166136261u ^ (uint32_t)tb;

	for (size_t i = 0; i < k->size; i++)
		h = (h ^ p[i]) * 16777619u; /* FNV-1a */
	return h;
}

/* The index slot of key k of tb: its entry's, or the free one where it
 * would go. nix > 0. */
static size_t
pf_slot(const pg_txn *t, store_tbl tb, const store_val *k)
{
	size_t m = t->nix - 1, i = pf_hash(tb, k) & m;
	const struct pg_pf *e;

	for (; t->ix[i] != 0; i = (i + 1) & m) {
		e = &t->pf[t->ix[i] - 1];
		if (e->tb == tb && e->klen == k->size &&
		    memcmp(e->k, k->data, k->size) == 0)
			break;
	}
	return i;
}

static struct pg_pf *
pf_find(const pg_txn *t, store_tbl tb, const store_val *k)
{
	size_t i;

	if (t->nix == 0 || k->size > PF_KEYMAX)
		return NULL;
	i = pf_slot(t, tb, k);
	return t->ix[i] != 0 ? &t->pf[t->ix[i] - 1] : NULL;
}

/* Room for one entry more, the index at most half full. */
static int
pf_room(pg_txn *t)
{
	if (t->npf == t->cappf) {
		size_t n = t->cappf ? t->cappf * 2 : 64;
		struct pg_pf *p = realloc(t->pf, n * sizeof(*p));

		if (p == NULL)
			return ENOMEM;
		t->pf = p;
		t->cappf = n;
	}
	if (2 * (t->npf + 1) > t->nix) {
		size_t n = t->nix ? t->nix * 2 : 128;
		uint32_t *ix = calloc(n, sizeof(*ix));
		uint32_t *old = t->ix;

		if (ix == NULL)
			return ENOMEM;
		t->ix = ix;
		t->nix = n;
		for (size_t e = 0; e < t->npf; e++) {
			store_val k = {t->pf[e].klen, t->pf[e].k};

			t->ix[pf_slot(t, t->pf[e].tb, &k)] = (uint32_t)e + 1;
		}
		free(old);
	}
	return 0;
}

static uint8_t *
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

/*
 * Queues one statement that fetches every key not read ahead yet (k =
 * ANY of a bytea[], sent in binary: PostgreSQL's array_send layout), so
 * the server runs one statement, not one per key. A hint: keys too long,
 * or past PF_MAX, are left to their gets; out of memory leaves the rest.
 * Only an error of the pipeline (the connection) is returned.
 */
int
store_pg_prefetch(store_txn *tx, store_tbl tb, const store_val *keys, size_t n)
{
	pg_txn *t = PGT(tx);
	struct pg_pf *e;
	size_t i, slot, first, len = 20;
	uint32_t id, nk = 0;
	uint8_t *arr, *p;
	store_val a;
	int rc;

	if ((rc = pg_begin_call(t)) != 0)
		return rc;
	id = ++t->pfbatch;
	first = t->npf;
	for (i = 0; i < n; i++) {
		if (keys[i].size == 0 || keys[i].size > PF_KEYMAX ||
		    t->npf >= PF_MAX || pf_room(t) != 0)
			continue;
		slot = pf_slot(t, tb, &keys[i]);
		if (t->ix[slot] != 0)
			continue; /* read ahead already, read, or written */
		e = &t->pf[t->npf];
		e->st = PF_WAIT;
		e->batch = id;
		e->tb = (uint8_t)tb;
		e->klen = (uint8_t)keys[i].size;
		memcpy(e->k, keys[i].data, keys[i].size);
		e->vlen = 0;
		e->v = NULL;
		t->ix[slot] = (uint32_t)++t->npf;
		len += 4 + keys[i].size;
		nk++;
	}
	if (nk == 0)
		return 0;
	if (nk == 1) { /* prepared, no array, no planning */
		a.size = t->pf[first].klen;
		a.data = t->pf[first].k;
		arr = NULL;
		goto send;
	}
	if ((arr = malloc(len)) == NULL) {
		for (i = first; i < t->npf; i++)
			t->pf[i].st = PF_UNKNOWN;
		return 0;
	}
	p = put_be32(arr, 1); /* dimensions */
	p = put_be32(p, 0);   /* no NULLs */
	p = put_be32(p, 17);  /* bytea */
	p = put_be32(p, nk);  /* elements */
	p = put_be32(p, 1);   /* lower bound */
	for (i = first; i < t->npf; i++) {
		p = put_be32(p, t->pf[i].klen);
		memcpy(p, t->pf[i].k, t->pf[i].klen);
		p += t->pf[i].klen;
	}
	a.size = len;
	a.data = arr;
send:
	rc = pg_exec(t, nk == 1 ? Q_GETONE : Q_GETMANY, tb, &a, NULL, 0, NULL);
	free(arr);
	if (rc != 0) {
		for (i = first; i < t->npf; i++)
			t->pf[i].st = PF_UNKNOWN;
		return rc;
	}
	t->c->pend[t->c->npend - 1].pf = (int32_t)id;
	t->c->pft = t;
	return 0;
}

/*
 * A write transaction's get answered by the server is kept too (r: its
 * result, kept by the transaction; NULL: the key is absent): a del of a
 * key the transaction read is then answered without waiting, as one read
 * ahead is (a hold lifted, a lookup field's tag removed). A hint: a key
 * that finds no room is not kept.
 */
void
pg_pf_note(pg_txn *t, store_tbl tb, const store_val *k, const store_val *v)
{
	struct pg_pf *e;
	size_t slot;

	if (t->rdonly || k->size > PF_KEYMAX || t->npf >= PF_MAX ||
	    pf_room(t) != 0)
		return;
	slot = pf_slot(t, tb, k);
	if (t->ix[slot] != 0)
		return; /* a get of a key awaited, or unknown: as it is */
	e = &t->pf[t->npf];
	e->st = v != NULL ? PF_HAVE : PF_NONE;
	e->batch = 0;
	e->tb = (uint8_t)tb;
	e->klen = (uint8_t)k->size;
	memcpy(e->k, k->data, k->size);
	e->vlen = v != NULL ? v->size : 0;
	e->v = v != NULL ? v->data : NULL;
	t->ix[slot] = (uint32_t)++t->npf;
}

/* A read-ahead statement's result (NULL: it failed), from pg_conn_wait:
 * the keys it returned are there, the others of its batch are not. */
void
pg_pf_fill(pg_txn *t, store_tbl tb, int batch, PGresult *r)
{
	struct pg_pf *e;
	store_val k;
	int err = t->err, i, n;
	uint8_t to = PF_NONE;

	if (r != NULL && pg_keep_res(t, r) != 0) { /* freed it */
		t->err = err;                      /* only a hint lost */
		r = NULL;
	}
	if (r == NULL) {
		to = PF_UNKNOWN;
	} else {
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			k.size = (size_t)PQgetlength(r, i, 0);
			k.data = PQgetvalue(r, i, 0);
			e = pf_find(t, tb, &k);
			if (e == NULL || e->st != PF_WAIT ||
			    e->batch != (uint32_t)batch)
				continue; /* written since it was queued */
			e->st = PF_HAVE;
			e->vlen = (size_t)PQgetlength(r, i, 1);
			e->v = PQgetvalue(r, i, 1);
		}
	}
	for (size_t j = 0; j < t->npf; j++)
		if (t->pf[j].st == PF_WAIT && t->pf[j].batch == (uint32_t)batch)
			t->pf[j].st = to;
}

int
pg_pf_get(pg_txn *t, store_tbl tb, const store_val *k, store_val *v)
{
	struct pg_pf *e = pf_find(t, tb, k);
	int rc;

	if (e != NULL && e->st == PF_WAIT &&
	    (rc = pg_conn_wait(t->c, -1, NULL)) != 0)
		return t->err = rc;
	if (e == NULL || (e->st != PF_HAVE && e->st != PF_NONE))
		return PF_ASK;
	if (e->st == PF_NONE)
		return STORE_NOTFOUND;
	v->size = e->vlen;
	v->data = (void *)e->v;
	return 0;
}

/* Waits for a key still awaited (it costs the round trip the caller's
 * own statement would, and answers every key awaited with it); a failed
 * wait is the transaction's error (t->err), the answer -1. */
int
pg_pf_present(pg_txn *t, store_tbl tb, const store_val *k)
{
	struct pg_pf *e = pf_find(t, tb, k);
	int rc;

	if (e != NULL && e->st == PF_WAIT &&
	    (rc = pg_conn_wait(t->c, -1, NULL)) != 0) {
		t->err = rc; /* the transaction's, as any wait's */
		return -1;
	}
	if (e == NULL || (e->st != PF_HAVE && e->st != PF_NONE))
		return -1;
	return e->st == PF_HAVE;
}

void
pg_pf_wrote(
    pg_txn *t, store_tbl tb, const store_val *k, const store_val *v, bool gone)
{
	struct pg_pf *e = pf_find(t, tb, k);
	void *copy;

	if (e == NULL)
		return;
	if (gone) {
		e->st = PF_UNKNOWN;
	} else if (v == NULL) {
		e->st = PF_NONE;
	} else if ((copy = pg_keep_copy(t, v->data, v->size)) == NULL) {
		e->st = PF_UNKNOWN;
	} else {
		e->st = PF_HAVE;
		e->vlen = v->size;
		e->v = copy;
	}
}

void
pg_pf_table(pg_txn *t, store_tbl tb)
{
	for (size_t i = 0; i < t->npf; i++)
		if (t->pf[i].tb == tb)
			t->pf[i].st = PF_UNKNOWN;
}

/* The transaction ends or resets: results still queued are dropped. */
void
pg_pf_end(pg_txn *t)
{
	if (t->c != NULL && t->c->pft == t)
		t->c->pft = NULL;
	free(t->pf);
	free(t->ix);
	t->pf = NULL;
	t->ix = NULL;
	t->npf = t->cappf = t->nix = 0;
	t->pfbatch = 0;
}
