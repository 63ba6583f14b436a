/*
 * audit_index.c - the audit log's indexes, written in bulk behind the log:
 * collecting, flushing runs, catching up, pruning and walking; see
 * audit_index.h.
 */
#include "audit_index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"

#define CATCH_UP_CHUNK 65536 /* events indexed per transaction at start */
#define RUNKEY_MAX     (8 + AUDIT_IX_KEYMAX)

size_t
audit_ix_key_subject(uint8_t *key, const uint8_t *pseudo)
{
	key[0] = AUDIT_IX_SUBJECT;
	memcpy(key + 1, pseudo, AUDIT_IX_PSEUDOBYTES);
	return 1 + AUDIT_IX_PSEUDOBYTES;
}

size_t
audit_ix_key_principal(uint8_t *key, const char *name)
{
	size_t n = strnlen(name, POL_MAX_NAME);

	key[0] = AUDIT_IX_PRINCIPAL;
	key[1] = (uint8_t)n;
	memcpy(key + 2, name, n);
	return 2 + n;
}

int
audit_ix_mark(store *st, store_txn *txn, uint64_t *mark)
{
	return store_meta_get_u64(st, txn, AUDIT_IX_MARK, 0, mark);
}

int
audit_ix_load(store *st, store_txn *txn, audit_ix *ix)
{
	int rc;

	memset(ix, 0, sizeof(*ix));
	if ((rc = audit_ix_mark(st, txn, &ix->mark)) != 0)
		return rc;
	ix->last = ix->mark;
	return 0;
}

void
audit_ix_release(audit_ix *ix)
{
	free(ix->items);
	memset(ix, 0, sizeof(*ix));
}

/* Room for one more item; NULL if there is no memory. */
static audit_ix_item *
item_new(audit_ix_item **items, size_t *n, size_t *cap)
{
	audit_ix_item *p;
	size_t ncap;

	if (*n == *cap) {
		ncap = *cap ? *cap * 2 : 1024;
		if ((p = realloc(*items, ncap * sizeof(*p))) == NULL)
			return NULL;
		*items = p;
		*cap = ncap;
	}
	return &(*items)[(*n)++];
}

/* The items of one event onto a list; false if there is no memory. */
static bool
items_of_event(audit_ix_item **items, size_t *n, size_t *cap, uint64_t seq,
    const char *principal, const uint8_t *pseudo, bool damaged)
{
	audit_ix_item *it;

	if (damaged) {
		if ((it = item_new(items, n, cap)) == NULL)
			return false;
		it->seq = seq;
		it->key[0] = AUDIT_IX_DAMAGED;
		it->klen = 1;
		return true;
	}
	if (principal != NULL && principal[0] != '\0') {
		if ((it = item_new(items, n, cap)) == NULL)
			return false;
		it->seq = seq;
		it->klen = (uint8_t)audit_ix_key_principal(it->key, principal);
	}
	if (pseudo != NULL) {
		if ((it = item_new(items, n, cap)) == NULL)
			return false;
		it->seq = seq;
		it->klen = (uint8_t)audit_ix_key_subject(it->key, pseudo);
	}
	return true;
}

void
audit_ix_add(audit_ix *ix, uint64_t seq, const char *principal,
    const uint8_t *pseudo, uint64_t mono_us)
{
	if (ix->last == ix->mark)
		ix->since_us = mono_us;
	if (seq != ix->last + 1)
		ix->from_log = true; /* an event went past unseen */
	if (seq > ix->last)
		ix->last = seq;
	if (!ix->from_log && ix->n >= AUDIT_IX_MAX_ITEMS) {
		/* flushes keep failing (a full disk): the log has it all,
		 * and memory must not grow with every request */
		ix->from_log = true;
		ix->n = 0;
	}
	if (ix->from_log)
		return;
	if (!items_of_event(
	        &ix->items, &ix->n, &ix->cap, seq, principal, pseudo, false)) {
		/* the log has them all: the flush reads it instead */
		ix->from_log = true;
	}
}

void
audit_ix_flushed(audit_ix *ix, uint64_t upto)
{
	size_t i, k = 0;

	if (upto <= ix->mark)
		return;
	ix->mark = upto;
	if (ix->last < upto)
		ix->last = upto;
	for (i = 0; i < ix->n; i++)
		if (ix->items[i].seq > upto)
			ix->items[k++] = ix->items[i];
	ix->n = k;
	if (ix->last == ix->mark) {
		/* nothing pending: the items can be trusted again */
		ix->from_log = false;
		ix->n = 0;
	}
}

/*
 * Another privd node wrote (store_txn_gen said so; writer_nodes.c): its
 * events interleave with ours in the one log, and it may have flushed
 * the index past our mark. Take the committed mark, drop the entries it
 * covers, and if the log's head is past what we collected, the events
 * in between are another node's: the next flush reads them from the log
 * (from_log), so every event is indexed by whichever node flushes next,
 * even a node that stopped before it flushed its own.
 */
void
audit_ix_resync(audit_ix *ix, uint64_t mark, uint64_t head, uint64_t mono_us)
{
	if (mark > ix->mark) {
		audit_ix_flushed(ix, mark);
	} else if (mark < ix->mark) {
		/* our flush did not commit after all (a lost answer) */
		ix->mark = mark;
		ix->from_log = true;
		ix->n = 0;
	}
	if (head > ix->last) {
		if (ix->last == ix->mark)
			ix->since_us = mono_us;
		ix->last = head;
		ix->from_log = true;
		ix->n = 0;
	}
}

static int
item_cmp(const void *a, const void *b)
{
	const audit_ix_item *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c;

	if ((c = memcmp(x->key, y->key, n)) != 0)
		return c;
	if (x->klen != y->klen)
		return x->klen < y->klen ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static size_t
varint_put(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Decode postings of run into *seqs (grown as needed), appending. */
static int
postings_decode(
    const store_val *v, uint64_t run, uint64_t **seqs, size_t *n, size_t *cap)
{
	const uint8_t *p = v->data, *end = p + v->size;
	uint64_t prev = run, d, *np;
	unsigned shift;
	bool first = true;

	while (p < end) {
		d = 0;
		for (shift = 0;; shift += 7) {
			/* the tenth byte holds only the 64th bit */
			if (p == end || shift > 63 || (shift == 63 && *p > 1))
				return STORE_CORRUPTED;
			d |= (uint64_t)(*p & 0x7f) << shift;
			if ((*p++ & 0x80) == 0)
				break;
		}
		if ((!first && d == 0) || d > UINT64_MAX - prev)
			return STORE_CORRUPTED;
		prev += d;
		first = false;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;

			if ((np = realloc(*seqs, ncap * sizeof(*np))) == NULL)
				return ENOMEM;
			*seqs = np;
			*cap = ncap;
		}
		(*seqs)[(*n)++] = prev;
	}
	return 0;
}

/*
 * A run's subject table (audit_index.h): entries of a pseudonym prefix and
 * the seq's offset from the run (big-endian), sorted as bytes, so by
 * pseudonym and then by seq.
 */
#define SUBJ_ENTRY (AUDIT_IX_PSEUDOBYTES + 4)

static uint64_t
entry_off(const uint8_t *e)
{
	const uint8_t *o = e + AUDIT_IX_PSEUDOBYTES;

	return (uint64_t)o[0] << 24 | (uint64_t)o[1] << 16 |
	       (uint64_t)o[2] << 8 | o[3];
}

static void
entry_put(uint8_t *e, const uint8_t *pseudo, uint64_t off)
{
	memcpy(e, pseudo, AUDIT_IX_PSEUDOBYTES);
	e[AUDIT_IX_PSEUDOBYTES] = (uint8_t)(off >> 24);
	e[AUDIT_IX_PSEUDOBYTES + 1] = (uint8_t)(off >> 16);
	e[AUDIT_IX_PSEUDOBYTES + 2] = (uint8_t)(off >> 8);
	e[AUDIT_IX_PSEUDOBYTES + 3] = (uint8_t)off;
}

static bool
is_subject_key(const uint8_t *key, size_t klen)
{
	return klen == 1 + AUDIT_IX_PSEUDOBYTES && key[0] == AUDIT_IX_SUBJECT;
}

/* The seqs of the subject table v under pseudonym prefix p (binary
 * search), appended to *seqs. */
static int
subjects_decode(const store_val *v, uint64_t run, const uint8_t *p,
    uint64_t **seqs, size_t *n, size_t *cap)
{
	const uint8_t *t = v->data;
	size_t lo = 0, hi, mid, first = *n;
	uint64_t *np;

	if (v->size % SUBJ_ENTRY != 0)
		return STORE_CORRUPTED;
	hi = v->size / SUBJ_ENTRY;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (memcmp(t + mid * SUBJ_ENTRY, p, AUDIT_IX_PSEUDOBYTES) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->size / SUBJ_ENTRY &&
	       memcmp(t + lo * SUBJ_ENTRY, p, AUDIT_IX_PSEUDOBYTES) == 0;
	     lo++) {
		uint64_t off = entry_off(t + lo * SUBJ_ENTRY);

		if (*n > first && run + off <= (*seqs)[*n - 1])
			return STORE_CORRUPTED; /* not ascending */
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 256;

			if ((np = realloc(*seqs, ncap * sizeof(*np))) == NULL)
				return ENOMEM;
			*seqs = np;
			*cap = ncap;
		}
		(*seqs)[(*n)++] = run + off;
	}
	return 0;
}

static size_t
runkey(uint8_t *k, uint64_t run, const uint8_t *key, size_t klen)
{
	store_be64(k, run);
	memcpy(k + 8, key, klen);
	return 8 + klen;
}

/* The run of the cursor's current key; STORE_CORRUPTED for a key privd does
 * not write. */
static int
key_run(const store_val *k, uint64_t *run)
{
	if (k->size < 9)
		return STORE_CORRUPTED;
	*run = store_get_be64(k->data);
	return 0;
}

/* Position c on the first key of the first run after run: 0 and *next, or
 * STORE_NOTFOUND if run is the last. */
static int
run_next(store_cur *c, uint64_t run, uint64_t *next)
{
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	int rc;

	if (run == UINT64_MAX)
		return STORE_NOTFOUND;
	store_be64(kb, run + 1);
	if ((rc = store_cur_get(c, &k, &v, STORE_SET_RANGE)) != 0)
		return rc;
	return key_run(&k, next);
}

/* The run that holds seq (the last run starting at or before it): 0 and
 * *run, or STORE_NOTFOUND if every run starts after seq (or there is none). */
static int
run_at(store_cur *c, uint64_t seq, uint64_t *run)
{
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	int rc;

	store_be64(kb, seq == UINT64_MAX ? seq : seq + 1);
	rc = store_cur_get(c, &k, &v, STORE_SET_RANGE);
	if (rc == STORE_NOTFOUND)
		rc = store_cur_get(c, &k, &v, STORE_LAST);
	else if (rc == 0)
		rc = store_cur_get(c, &k, &v, STORE_PREV);
	if (rc != 0)
		return rc;
	if ((rc = key_run(&k, run)) != 0)
		return rc;
	return *run <= seq ? 0 : STORE_NOTFOUND;
}

/* A run's subject table back into items. */
static int
subjects_take(const store_val *v, uint64_t run, audit_ix_item **items,
    size_t *n, size_t *cap)
{
	const uint8_t *t = v->data, *o;
	audit_ix_item *it;
	size_t i;

	if (v->size % SUBJ_ENTRY != 0)
		return STORE_CORRUPTED;
	for (i = 0; i < v->size / SUBJ_ENTRY; i++) {
		if ((it = item_new(items, n, cap)) == NULL)
			return ENOMEM;
		o = t + i * SUBJ_ENTRY;
		it->key[0] = AUDIT_IX_SUBJECT;
		memcpy(it->key + 1, o, AUDIT_IX_PSEUDOBYTES);
		it->klen = 1 + AUDIT_IX_PSEUDOBYTES;
		it->seq = run + entry_off(o);
	}
	return 0;
}

/* Read the entries of run back into items and delete them (merging a short
 * last run into the next flush). */
static int
run_take(
    store_cur *c, uint64_t run, audit_ix_item **items, size_t *n, size_t *cap)
{
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	uint64_t *seqs = NULL, r = run;
	size_t ns = 0, scap = 0, i;
	audit_ix_item *it;
	int rc;

	/* seek again after each delete: the cursor of a tree that a delete
	 * emptied is not positioned */
	for (;;) {
		k.size = 8;
		k.data = kb;
		store_be64(kb, run);
		if ((rc = store_cur_get(c, &k, &v, STORE_SET_RANGE)) != 0)
			break;
		if ((rc = key_run(&k, &r)) != 0 || r != run)
			break;
		if (k.size - 8 > AUDIT_IX_KEYMAX) {
			rc = STORE_CORRUPTED;
			break;
		}
		if (k.size == 9 && ((uint8_t *)k.data)[8] == AUDIT_IX_SUBJECT) {
			if ((rc = subjects_take(&v, run, items, n, cap)) != 0)
				break;
			if ((rc = store_cur_del(c)) != 0)
				break;
			continue;
		}
		ns = 0;
		if ((rc = postings_decode(&v, run, &seqs, &ns, &scap)) != 0)
			break;
		for (i = 0; i < ns; i++) {
			if ((it = item_new(items, n, cap)) == NULL) {
				rc = ENOMEM;
				goto out;
			}
			it->seq = seqs[i];
			it->klen = (uint8_t)(k.size - 8);
			memcpy(it->key, (uint8_t *)k.data + 8, it->klen);
		}
		if ((rc = store_cur_del(c)) != 0)
			break;
	}
out:
	free(seqs);
	return rc == STORE_NOTFOUND || (rc == 0 && r != run) ? 0 : rc;
}

/* The items of the events of the log in [from, to]. */
static int
items_from_log(store *st, store_txn *txn, uint64_t from, uint64_t to,
    audit_ix_item **items, size_t *n, size_t *cap)
{
	Privd__V1__AuditEvent *ev;
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	store_cur *c;
	uint64_t seq;
	bool ok;
	int rc;

	if ((rc = store_cur_open(txn, STORE_AUDIT, &c)) != 0)
		return rc;
	store_be64(kb, from);
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size != 8)
			continue; /* not a key privd writes */
		if ((seq = store_get_be64(k.data)) > to)
			break;
		ev = v.size > AUDIT_HASHBYTES
		         ? privd__v1__audit_event__unpack(NULL,
		               v.size - AUDIT_HASHBYTES,
		               (uint8_t *)v.data + AUDIT_HASHBYTES)
		         : NULL;
		if (ev == NULL)
			ok = items_of_event(
			    items, n, cap, seq, NULL, NULL, true);
		else
			ok = items_of_event(items, n, cap, seq, ev->principal,
			    ev->subject.len == CRYPTO_PSEUDONYMBYTES
			        ? ev->subject.data
			        : NULL,
			    false);
		if (ev != NULL)
			privd__v1__audit_event__free_unpacked(ev, NULL);
		if (!ok) {
			rc = ENOMEM;
			break;
		}
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/*
 * Write sorted items as the entries of run, appending: a postings value per
 * principal (and for the damaged events), then the run's subject table,
 * whose items sort last.
 */
static int
run_write(store *st, store_txn *txn, uint64_t run, const audit_ix_item *items,
    size_t n)
{
	uint8_t kb[RUNKEY_MAX], *vb;
	store_val k = {0, kb}, v;
	uint64_t prev, off;
	size_t i, j, len;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((vb = malloc(n * (SUBJ_ENTRY > 10 ? SUBJ_ENTRY : 10))) == NULL)
		return ENOMEM;
	for (i = 0; i < n && rc == 0; i = j) {
		prev = run;
		len = 0;
		if (is_subject_key(items[i].key, items[i].klen)) {
			/* the subject table: every subject item to the end */
			for (j = i; j < n; j++) {
				if (!is_subject_key(
				        items[j].key, items[j].klen) ||
				    (off = items[j].seq - run) > UINT32_MAX) {
					rc = EINVAL; /* cannot happen: sorted,
					              * runs are short */
					break;
				}
				if (j > i && items[j].seq == items[j - 1].seq &&
				    memcmp(items[j].key, items[j - 1].key,
				        items[j].klen) == 0)
					continue; /* the same event twice */
				entry_put(vb + len, items[j].key + 1, off);
				len += SUBJ_ENTRY;
			}
			if (rc != 0)
				break;
			k.size = runkey(kb, run, items[i].key, 1);
		} else {
			for (j = i; j < n && items[j].klen == items[i].klen &&
			            memcmp(items[j].key, items[i].key,
			                items[i].klen) == 0;
			     j++) {
				if (j > i && items[j].seq == prev)
					continue; /* the same event twice */
				len +=
				    varint_put(vb + len, items[j].seq - prev);
				prev = items[j].seq;
			}
			k.size = runkey(kb, run, items[i].key, items[i].klen);
		}
		v.size = len;
		v.data = vb;
		rc = store_put(txn, STORE_AUDIT_IX, &k, &v, STORE_APPEND);
	}
	free(vb);
	return rc;
}

/* The last seq in the log; 0 if it is empty. */
static int
log_head(store *st, store_txn *txn, uint64_t *head)
{
	store_val rec;
	int rc;

	*head = 0;
	rc = audit_last(st, txn, head, &rec);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
audit_ix_flush(
    store *st, store_txn *txn, audit_ix *ix, uint64_t max, uint64_t *upto)
{
	audit_ix_item *items = NULL;
	size_t n = 0, cap = 0;
	uint64_t from = ix->mark + 1, to, head, run = from, last;
	store_cur *c;
	store_val k, v;
	int rc;

	*upto = ix->mark;
	if (max == 0)
		return 0;
	if (!ix->from_log && ix->last - ix->mark <= max) {
		to = ix->last;
		if (ix->n > 0) {
			cap = n = ix->n;
			if ((items = malloc(n * sizeof(*items))) == NULL)
				return ENOMEM;
			memcpy(items, ix->items, n * sizeof(*items));
		}
	} else {
		if ((rc = log_head(st, txn, &head)) != 0)
			return rc;
		to = head <= ix->mark        ? ix->mark
		     : head - ix->mark > max ? ix->mark + max
		                             : head;
		if (to > ix->mark && (rc = items_from_log(st, txn, from, to,
		                          &items, &n, &cap)) != 0)
			goto out;
	}
	if (to <= ix->mark) {
		rc = 0;
		goto out;
	}

	/* merge a short last run */
	if ((rc = store_cur_open(txn, STORE_AUDIT_IX, &c)) != 0)
		goto out;
	if ((rc = store_cur_get(c, &k, &v, STORE_LAST)) == 0 &&
	    (rc = key_run(&k, &last)) == 0) {
		if (last > ix->mark)
			rc = STORE_CORRUPTED; /* entries past the mark */
		else if (ix->mark - last + 1 < AUDIT_IX_RUN_MIN) {
			run = last;
			rc = run_take(c, last, &items, &n, &cap);
		}
	}
	store_cur_close(c);
	if (rc != 0 && rc != STORE_NOTFOUND)
		goto out;

	if (n > 1)
		qsort(items, n, sizeof(*items), item_cmp);
	if ((rc = run_write(st, txn, run, items, n)) != 0 ||
	    (rc = store_meta_put_u64(st, txn, AUDIT_IX_MARK, to)) != 0)
		goto out;
	*upto = to;
out:
	free(items);
	return rc;
}

int
audit_ix_catch_up(store *st, uint64_t *indexed)
{
	audit_ix ix;
	store_txn *txn;
	uint64_t head, upto;
	int rc;

	*indexed = 0;
	for (;;) {
		if ((rc = store_txn_begin(st, 0, &txn)) != 0)
			return rc;
		if ((rc = audit_ix_load(st, txn, &ix)) != 0 ||
		    (rc = log_head(st, txn, &head)) != 0) {
			store_txn_abort(txn);
			return rc;
		}
		if (head <= ix.mark) {
			store_txn_abort(txn);
			return 0;
		}
		ix.from_log = true;
		if ((rc = audit_ix_flush(
		         st, txn, &ix, CATCH_UP_CHUNK, &upto)) == 0)
			rc = store_txn_commit(txn);
		else
			store_txn_abort(txn);
		if (rc == STORE_MAP_FULL && store_grow(st) == 0)
			continue;
		if (rc != 0)
			return rc;
		*indexed += upto - ix.mark;
	}
}

int
audit_ix_prune(store *st, store_txn *txn, uint64_t upto)
{
	store_cur *c;
	store_val k, v;
	uint64_t run, next, r;
	int rc;

	if ((rc = store_cur_open(txn, STORE_AUDIT_IX, &c)) != 0)
		return rc;
	for (;;) {
		if ((rc = store_cur_get(c, &k, &v, STORE_FIRST)) != 0 ||
		    (rc = key_run(&k, &run)) != 0)
			break;
		/* the first run ends just before the next one starts; the
		 * last run is never wholly pruned (it holds the newest) */
		if ((rc = run_next(c, run, &next)) != 0 || next - 1 > upto)
			break;
		for (rc = store_cur_get(c, &k, &v, STORE_FIRST);
		     rc == 0 && key_run(&k, &r) == 0 && r == run;
		     rc = store_cur_get(c, &k, &v, STORE_FIRST))
			if ((rc = store_cur_del(c)) != 0)
				break;
		if (rc != 0 && rc != STORE_NOTFOUND)
			break;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

static int
seq_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The postings of key and of the damaged events in run, sorted. at_first:
 * the cursor is on the run's first key already (where a 'D' key would
 * be), as run_next() leaves it; that saves a lookup per run, which is what
 * a walk over many runs costs.
 */
static int
run_postings(store_cur *c, uint64_t run, bool at_first, const uint8_t *key,
    size_t klen, uint64_t **seqs, size_t *n, size_t *cap)
{
	uint8_t kb[RUNKEY_MAX];
	store_val k = {8, kb}, v;
	size_t before;
	uint64_t r;
	int rc;

	*n = 0;
	if (at_first)
		rc = store_cur_get(c, &k, &v, STORE_GET_CURRENT);
	else {
		store_be64(kb, run);
		rc = store_cur_get(c, &k, &v, STORE_SET_RANGE);
	}
	if (rc == 0 && (rc = key_run(&k, &r)) == 0 && r == run && k.size == 9 &&
	    ((uint8_t *)k.data)[8] == AUDIT_IX_DAMAGED)
		rc = postings_decode(&v, run, seqs, n, cap);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	before = *n;
	if (is_subject_key(key, klen)) {
		k.size = runkey(kb, run, key, 1);
		k.data = kb;
		rc = store_cur_get(c, &k, &v, STORE_SET_KEY);
		if (rc == 0)
			rc = subjects_decode(&v, run, key + 1, seqs, n, cap);
	} else {
		k.size = runkey(kb, run, key, klen);
		k.data = kb;
		rc = store_cur_get(c, &k, &v, STORE_SET_KEY);
		if (rc == 0)
			rc = postings_decode(&v, run, seqs, n, cap);
	}
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	if (before > 0 && *n > before)
		qsort(*seqs, *n, sizeof(**seqs), seq_cmp);
	return 0;
}

int
audit_ix_walk(store *st, store_txn *txn, const uint8_t *key, size_t klen,
    uint64_t lo, uint64_t hi, bool desc, int (*fn)(void *, uint64_t), void *arg)
{
	uint64_t *seqs = NULL, run, next;
	size_t n, cap = 0, i;
	store_cur *c;
	store_val k, v;
	bool at_first = false;
	int rc;

	if (lo > hi)
		return 0;
	if ((rc = store_cur_open(txn, STORE_AUDIT_IX, &c)) != 0)
		return rc;
	rc = run_at(c, desc ? hi : lo, &run);
	if (rc == STORE_NOTFOUND && !desc &&
	    (rc = store_cur_get(c, &k, &v, STORE_FIRST)) == 0) {
		rc = key_run(&k, &run);
		at_first = true;
	}
	while (rc == 0) {
		if (!desc && run > hi)
			break;
		if ((rc = run_postings(
		         c, run, at_first, key, klen, &seqs, &n, &cap)) != 0)
			break;
		for (i = 0; i < n && rc == 0; i++) {
			uint64_t s = seqs[desc ? n - 1 - i : i];

			if (s >= lo && s <= hi)
				rc = fn(arg, s);
		}
		if (rc != 0)
			break;
		if (desc) {
			if (run <= lo || run == 0)
				break;
			rc = run_at(c, run - 1, &run);
		} else {
			rc = run_next(c, run, &next);
			run = next;
			at_first = true;
		}
	}
	store_cur_close(c);
	free(seqs);
	return rc == STORE_NOTFOUND ? 0 : rc;
}
