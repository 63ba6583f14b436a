/*
 * test_audit_index_model.c - the audit log and the test's model of it; see
 * test_audit_index_model.h.
 */
#define _GNU_SOURCE
#include "test_audit_index_model.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define SEC 1000000ull

const char *ixt_princ[NPRINC];
char ixt_name64[POL_MAX_NAME + 1];
static char name63[POL_MAX_NAME];
uint8_t ixt_pseudo[NPSEUDO][CRYPTO_PSEUDONYMBYTES];

void
ixt_init(void)
{
	static const char *const names[NPRINC] = {
	    "a", "ab", "alice", name63, ixt_name64, ""};
	size_t i;

	memset(ixt_name64, 'n', POL_MAX_NAME);
	memcpy(name63, ixt_name64, POL_MAX_NAME - 1);
	memcpy(ixt_princ, names, sizeof(names));
	for (i = 0; i < NPSEUDO; i++)
		memset(ixt_pseudo[i], 0xa1, CRYPTO_PSEUDONYMBYTES);
	ixt_pseudo[1][PSEUDO_KEYBYTES - 1] = 0xa2;
	ixt_pseudo[2][PSEUDO_KEYBYTES] = 0x00;
	memset(ixt_pseudo[3], 0x00, CRYPTO_PSEUDONYMBYTES);
	memset(ixt_pseudo[4], 0xff, CRYPTO_PSEUDONYMBYTES);
}

/* splitmix64 of (seq, salt) */
uint64_t
ixt_draw(uint64_t seq, uint64_t salt)
{
	uint64_t z = seq * 0x9e3779b97f4a7c15ull + salt * 0xbf58476d1ce4e5b9ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void
ixt_gen_mix(uint64_t seq, mev *e)
{
	uint64_t r = ixt_draw(seq, 1) % 100, q = ixt_draw(seq, 2) % 100;

	e->p = r < 40   ? 2
	       : r < 60 ? 0
	       : r < 70 ? 1
	       : r < 78 ? 3
	       : r < 86 ? 4
	                : P_NONE;
	e->s = q < 35   ? 0
	       : q < 50 ? 2
	       : q < 65 ? 1
	       : q < 75 ? 3
	       : q < 85 ? 4
	                : S_NONE;
}

/* Events that name neither a principal nor a subject. */
void
ixt_gen_bare(uint64_t seq, mev *e)
{
	(void)seq;
	e->p = P_NONE;
	e->s = S_NONE;
}

void
ixt_push(seqlist *l, uint64_t s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 256;
		assert_non_null(l->s = realloc(l->s, l->cap * sizeof(*l->s)));
	}
	l->s[l->n++] = s;
}

int
ixt_setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	memcpy(f->dir, IXT_TMPL, sizeof(IXT_TMPL));
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, STORE_DEFAULT_MAPSIZE, true, &f->st,
	                     err, sizeof(err)),
	    0);
	f->gen = ixt_gen_mix;
	*state = f;
	return 0;
}

int
ixt_teardown(void **state)
{
	fixture *f = *state;
	char path[sizeof(IXT_TMPL) + 16];

	store_close(&f->st);
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
	unlink(path);
	assert_int_equal(rmdir(f->dir), 0);
	free(f->ev);
	free(f);
	return 0;
}

store_txn *
ixt_wbegin(fixture *f)
{
	store_txn *txn;

	assert_int_equal(store_txn_begin(f->st, 0, &txn), 0);
	return txn;
}

void
ixt_wcommit(store_txn *txn)
{
	assert_int_equal(store_txn_commit(txn), 0);
}

/* Append n events (f->gen says what each names) in one transaction. */
void
ixt_append(fixture *f, uint64_t n)
{
	store_txn *txn = ixt_wbegin(f);
	audit_state a;
	job *j;
	mev *e;
	uint64_t i;

	assert_non_null(
	    f->ev = realloc(f->ev, (f->n + n + 1) * sizeof(*f->ev)));
	assert_int_equal(audit_load(f->st, txn, &a), 0);
	assert_int_equal(a.seq, f->n);
	assert_non_null(j = job_new());
	for (i = 0; i < n; i++) {
		e = &f->ev[++f->n];
		memset(e, 0, sizeof(*e));
		f->gen(f->n, e);
		privd__v1__audit_event__init(&j->ev);
		j->ev.principal = (char *)ixt_princ[e->p];
		j->ev.op = "get";
		j->ev.register_ = "customers";
		if (e->s != S_NONE) {
			j->ev.subject.data = ixt_pseudo[e->s];
			j->ev.subject.len = CRYPTO_PSEUDONYMBYTES;
		}
		j->ev.request_id = f->n;
		j->status = PRIVD__V1__STATUS__OK;
		assert_int_equal(
		    audit_append(f->st, txn, &a, j, f->n * SEC), 0);
		assert_int_equal(a.seq, f->n);
	}
	job_free(j);
	ixt_wcommit(txn);
}

/* Write garbage over event seq's record (after its hash), or a record too
 * short to hold a hash, as test_audit_fixture.c's al_damage does. */
void
ixt_damage(fixture *f, uint64_t seq, bool short_record)
{
	static const uint8_t garbage[] = {0x07, 0xff, 0xff, 0x13, 0x37};
	uint8_t kb[8], rec[AUDIT_HASHBYTES + sizeof(garbage)];
	store_val k = {8, kb}, v;
	store_txn *txn = ixt_wbegin(f);

	assert_null(
	    privd__v1__audit_event__unpack(NULL, sizeof(garbage), garbage));
	store_be64(kb, seq);
	assert_int_equal(store_get(txn, STORE_AUDIT, &k, &v), 0);
	memcpy(rec, v.data, AUDIT_HASHBYTES);
	memcpy(rec + AUDIT_HASHBYTES, garbage, sizeof(garbage));
	v.data = rec;
	v.size = short_record ? 10 : sizeof(rec);
	assert_int_equal(store_put(txn, STORE_AUDIT, &k, &v, 0), 0);
	ixt_wcommit(txn);
	f->ev[seq].dmg = true;
}

void
ixt_delete_event(fixture *f, uint64_t seq)
{
	uint8_t kb[8];
	store_val k = {8, kb};
	store_txn *txn = ixt_wbegin(f);

	store_be64(kb, seq);
	assert_int_equal(store_del(txn, STORE_AUDIT, &k), 0);
	ixt_wcommit(txn);
	f->ev[seq].gone = true;
}

/*
 * The model of a flush that indexed (mark, to], from the log or from the
 * collector's items: a run starts at mark + 1 unless the last run covers
 * fewer than AUDIT_IX_RUN_MIN seqs (it is merged), or unless nothing in
 * (mark, to] has an entry (no key is written).
 */
void
ixt_model_indexed(fixture *f, uint64_t to, bool from_log)
{
	bool keys = false;
	uint64_t s;
	mev *e;

	assert_true(to <= f->n);
	for (s = f->mark + 1; s <= to; s++) {
		e = &f->ev[s];
		e->ixskip = from_log && e->gone;
		e->ixdmg = from_log && e->dmg && !e->gone;
		keys = keys || e->ixdmg ||
		       (!e->ixskip && (e->p != P_NONE || e->s != S_NONE));
	}
	if (to <= f->mark)
		return;
	if (f->nruns > 0 &&
	    f->mark - f->runs[f->nruns - 1] + 1 < AUDIT_IX_RUN_MIN)
		; /* merged into the last run */
	else if (keys) {
		assert_true(f->nruns < MAXRUNS);
		f->runs[f->nruns++] = f->mark + 1;
	}
	f->mark = to;
}

/* The model of audit_ix_prune(upto): a run ends before the next begins. */
void
ixt_model_pruned(fixture *f, uint64_t upto)
{
	while (f->nruns > 1 && f->runs[1] - 1 <= upto) {
		memmove(
		    f->runs, f->runs + 1, (f->nruns - 1) * sizeof(*f->runs));
		f->nruns--;
	}
}

/* The runs in the database, and its mark, are the model's. */
void
ixt_check_runs(fixture *f)
{
	uint64_t runs[MAXRUNS], r, mark;
	size_t n = 0, i;
	store_cur *c;
	store_txn *txn;
	store_val k, v;
	int rc;

	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(audit_ix_mark(f->st, txn, &mark), 0);
	assert_int_equal(mark, f->mark);
	assert_int_equal(store_cur_open(txn, STORE_AUDIT_IX, &c), 0);
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		assert_true(k.size > 8);
		r = store_get_be64(k.data);
		if (n == 0 || runs[n - 1] != r) {
			assert_true(n < MAXRUNS);
			runs[n++] = r;
		}
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	store_cur_close(c);
	store_txn_abort(txn);
	assert_int_equal(n, f->nruns);
	for (i = 0; i < n; i++)
		assert_int_equal(runs[i], f->runs[i]);
}

/* Every key and value of audit_ix in the runs from run from on, one
 * after the other. */
void
ixt_dump_from(fixture *f, uint64_t from, seqlist *d)
{
	store_cur *c;
	store_txn *txn;
	store_val k, v;
	size_t i;
	int rc;

	d->n = 0;
	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(store_cur_open(txn, STORE_AUDIT_IX, &c), 0);
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		assert_true(k.size >= 8);
		if (store_get_be64(k.data) < from)
			continue;
		ixt_push(d, k.size << 32 | v.size);
		for (i = 0; i < k.size; i++)
			ixt_push(d, ((uint8_t *)k.data)[i]);
		for (i = 0; i < v.size; i++)
			ixt_push(d, ((uint8_t *)v.data)[i]);
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	store_cur_close(c);
	store_txn_abort(txn);
}

void
ixt_dump(fixture *f, seqlist *d)
{
	ixt_dump_from(f, 0, d);
}

void
ixt_same_dump(const seqlist *a, const seqlist *b)
{
	assert_true(a->n > 0);
	assert_int_equal(a->n, b->n);
	assert_memory_equal(a->s, b->s, a->n * sizeof(*a->s));
}

/* Forget the index: an empty audit_ix and no mark. */
void
ixt_reset(fixture *f)
{
	store_val k = {strlen(AUDIT_IX_MARK), AUDIT_IX_MARK};
	store_txn *txn = ixt_wbegin(f);
	uint64_t s;
	int rc;

	assert_int_equal(store_drop(txn, STORE_AUDIT_IX), 0);
	rc = store_del(txn, STORE_META, &k);
	assert_true(rc == 0 || rc == STORE_NOTFOUND);
	ixt_wcommit(txn);
	f->mark = 0;
	f->nruns = 0;
	for (s = 1; s <= f->n; s++)
		f->ev[s].ixdmg = f->ev[s].ixskip = false;
}

void
ixt_load(fixture *f, audit_ix *ix)
{
	store_txn *txn;

	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(audit_ix_load(f->st, txn, ix), 0);
	store_txn_abort(txn);
	assert_int_equal(ix->mark, f->mark);
}

/* Give the collector events [from, to], as the writer does after a
 * commit. */
void
ixt_feed(fixture *f, audit_ix *ix, uint64_t from, uint64_t to)
{
	uint64_t s;

	for (s = from; s <= to; s++)
		audit_ix_add(ix, s, ixt_princ[f->ev[s].p],
		    f->ev[s].s == S_NONE ? NULL : ixt_pseudo[f->ev[s].s], s);
}

/*
 * Flush the collector (at most max events) in a transaction of its own, as
 * the writer does. The test says which way it expects the entries to be
 * read (the log or the items: undecodable and deleted events tell them
 * apart) and the mark it expects.
 */
void
ixt_flush(fixture *f, audit_ix *ix, uint64_t max, bool from_log, uint64_t want)
{
	store_txn *txn = ixt_wbegin(f);
	uint64_t upto = 0;

	assert_int_equal(audit_ix_flush(f->st, txn, ix, max, &upto), 0);
	ixt_wcommit(txn);
	audit_ix_flushed(ix, upto);
	assert_int_equal(upto, want);
	assert_int_equal(ix->mark, want);
	ixt_model_indexed(f, want, from_log);
	ixt_check_runs(f);
}

/* A flush that reads the log, as audit_ix_catch_up does. */
void
ixt_log_flush(fixture *f, uint64_t max, uint64_t want)
{
	audit_ix ix;

	ixt_load(f, &ix);
	ix.from_log = true;
	ixt_flush(f, &ix, max, true, want);
	audit_ix_release(&ix);
}

void
ixt_catch_up(fixture *f, uint64_t want)
{
	uint64_t indexed, to;

	assert_int_equal(audit_ix_catch_up(f->st, &indexed), 0);
	assert_int_equal(indexed, want);
	while (f->mark < f->n) {
		to = f->n - f->mark > CATCH_UP_RUN ? f->mark + CATCH_UP_RUN
		                                   : f->n;
		ixt_model_indexed(f, to, true);
	}
	ixt_check_runs(f);
}

/* A key as audit_index.h lays it out. */
size_t
ixt_key_p(uint8_t *key, const char *name)
{
	key[0] = 'P';
	key[1] = (uint8_t)strlen(name);
	memcpy(key + 2, name, key[1]);
	return 2 + key[1];
}

size_t
ixt_key_s(uint8_t *key, const uint8_t *ps)
{
	key[0] = 'S';
	memcpy(key + 1, ps, PSEUDO_KEYBYTES);
	return 1 + PSEUDO_KEYBYTES;
}

/* Every principal and subject, and keys that name no event. */
void
ixt_all_keys(keyset *ks)
{
	static const uint8_t other[PSEUDO_KEYBYTES] = {0x55};
	size_t i;

	ks->n = 0;
	for (i = 0; i < P_NONE; i++, ks->n++)
		ks->len[ks->n] = ixt_key_p(ks->k[ks->n], ixt_princ[i]);
	for (i = 0; i < NPSEUDO; i++, ks->n++)
		ks->len[ks->n] = ixt_key_s(ks->k[ks->n], ixt_pseudo[i]);
	ks->len[ks->n] = ixt_key_p(ks->k[ks->n], "alic");
	ks->n++;
	ks->len[ks->n] = ixt_key_p(ks->k[ks->n], "zz");
	ks->n++;
	ks->len[ks->n] = ixt_key_s(ks->k[ks->n], other);
	ks->n++;
}

/* Does the model say the index lists seq under key? */
static bool
listed(const fixture *f, uint64_t seq, const uint8_t *key, size_t klen)
{
	const mev *e = &f->ev[seq];

	if (e->ixskip)
		return false;
	if (e->ixdmg)
		return true; /* in every walk */
	if (key[0] == 'P')
		return e->p != P_NONE && klen == 2 + strlen(ixt_princ[e->p]) &&
		       memcmp(key + 2, ixt_princ[e->p], klen - 2) == 0;
	return e->s != S_NONE && klen == 1 + PSEUDO_KEYBYTES &&
	       memcmp(key + 1, ixt_pseudo[e->s], PSEUDO_KEYBYTES) == 0;
}

/* What a walk of key over [lo, hi] must list: the indexed seqs (from the
 * first run kept to the mark) the model lists under key. */
void
ixt_expect(const fixture *f, const uint8_t *key, size_t klen, uint64_t lo,
    uint64_t hi, bool desc, seqlist *out)
{
	uint64_t s, i;

	out->n = 0;
	if (f->nruns == 0)
		return;
	if (lo < f->runs[0])
		lo = f->runs[0];
	if (hi > f->mark)
		hi = f->mark;
	for (i = lo; i <= hi; i++) {
		s = desc ? hi - (i - lo) : i;
		if (listed(f, s, key, klen))
			ixt_push(out, s);
	}
}

static int
sink_fn(void *arg, uint64_t seq)
{
	sink *k = arg;

	k->calls++;
	if (k->l.n == k->budget)
		return k->stop;
	ixt_push(&k->l, seq);
	return 0;
}

/* Walk in txn (NULL: a read transaction of its own). */
int
ixt_walk(fixture *f, store_txn *txn, const uint8_t *key, size_t klen,
    uint64_t lo, uint64_t hi, bool desc, sink *k)
{
	store_txn *t = txn;
	int rc;

	k->l.n = 0;
	k->calls = 0;
	if (t == NULL)
		assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &t), 0);
	rc = audit_ix_walk(f->st, t, key, klen, lo, hi, desc, sink_fn, k);
	if (txn == NULL)
		store_txn_abort(t);
	return rc;
}

void
ixt_same_list(const seqlist *got, const seqlist *want, uint64_t lo, uint64_t hi,
    bool desc)
{
	size_t i;

	for (i = 0; i < got->n && i < want->n; i++)
		if (got->s[i] != want->s[i])
			break;
	if (i < got->n || i < want->n)
		fail_msg("walk [%llu, %llu]%s: %zu seqs, %zu expected; "
		         "they differ at %zu",
		    (unsigned long long)lo, (unsigned long long)hi,
		    desc ? " desc" : "", got->n, want->n, i);
}

/* One walk against the model. */
void
ixt_check(fixture *f, const uint8_t *key, size_t klen, uint64_t lo, uint64_t hi,
    bool desc)
{
	sink k = {.budget = SIZE_MAX};
	seqlist want = {0};

	assert_int_equal(ixt_walk(f, NULL, key, klen, lo, hi, desc, &k), 0);
	ixt_expect(f, key, klen, lo, hi, desc, &want);
	ixt_same_list(&k.l, &want, lo, hi, desc);
	assert_int_equal(k.calls, want.n);
	free(k.l.s);
	free(want.s);
}

/* Every key over the whole log, both ways, and one range inside. */
void
ixt_check_all(fixture *f)
{
	keyset ks;
	size_t i;

	ixt_all_keys(&ks);
	for (i = 0; i < ks.n; i++) {
		ixt_check(f, ks.k[i], ks.len[i], 0, BIG, false);
		ixt_check(f, ks.k[i], ks.len[i], 1, BIG, true);
		ixt_check(
		    f, ks.k[i], ks.len[i], f->mark / 3, f->mark / 2, false);
		ixt_check(
		    f, ks.k[i], ks.len[i], f->mark / 3, f->mark / 2, true);
	}
}

/*
 * Seqs where walks may go wrong: the ends of the log, the first, second
 * and middle seq of every run and the one before it, the mark and past it.
 */
static size_t
edges(const fixture *f, uint64_t *pts)
{
	uint64_t end;
	size_t n = 0, i;

	pts[n++] = 0;
	pts[n++] = 1;
	for (i = 0; i < f->nruns; i++) {
		end = i + 1 < f->nruns ? f->runs[i + 1] - 1 : f->mark;
		pts[n++] = f->runs[i] - 1;
		pts[n++] = f->runs[i];
		pts[n++] = f->runs[i] + 1;
		pts[n++] = f->runs[i] + (end - f->runs[i]) / 2;
	}
	pts[n++] = f->mark - 1;
	pts[n++] = f->mark;
	pts[n++] = f->mark + 1;
	pts[n++] = f->n + 5;
	pts[n++] = BIG;
	return n;
}

/* Walks of key over every pair of edges, both ways. */
void
ixt_check_edges(fixture *f, const uint8_t *key, size_t klen)
{
	uint64_t pts[4 * MAXRUNS + 8];
	size_t n = edges(f, pts), i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			ixt_check(f, key, klen, pts[i], pts[j], false);
			ixt_check(f, key, klen, pts[i], pts[j], true);
		}
}

/* Decode postings as audit_index.h lays them out. */
static void
decode(const store_val *v, uint64_t run, seqlist *out)
{
	const uint8_t *p = v->data, *end = p + v->size;
	uint64_t prev = run, d;
	unsigned shift;

	out->n = 0;
	while (p < end) {
		d = 0;
		shift = 0;
		do {
			assert_true(p < end && shift < 64);
			d |= (uint64_t)(*p & 0x7f) << shift;
			shift += 7;
		} while (*p++ & 0x80);
		prev += d;
		ixt_push(out, prev);
	}
}

/* A run's subject table (audit_index.h): 8 bytes of pseudonym and a
 * big-endian 32-bit offset from the run per entry, sorted as bytes. The
 * entries of pseudonym prefix p, as seqs; the table must be sorted. */
static void
decode_subjects(
    const store_val *v, uint64_t run, const uint8_t *p, seqlist *out)
{
	const uint8_t *t = v->data;
	size_t i, n = v->size / 12;

	out->n = 0;
	assert_int_equal(v->size % 12, 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(
			    memcmp(t + (i - 1) * 12, t + i * 12, 12) < 0);
		if (memcmp(t + i * 12, p, 8) == 0)
			ixt_push(out, run + ((uint64_t)t[i * 12 + 8] << 24 |
			                        (uint64_t)t[i * 12 + 9] << 16 |
			                        (uint64_t)t[i * 12 + 10] << 8 |
			                        t[i * 12 + 11]));
	}
}

/* The stored postings of key (kind and body) in every run are the
 * model's; a key without entries in a run is absent from it (a subject:
 * has no entry in the run's subject table). */
void
ixt_check_postings(fixture *f, const uint8_t *key, size_t klen)
{
	uint8_t kb[8 + AUDIT_IX_KEYMAX];
	store_val k = {8 + klen, kb}, v;
	seqlist got = {0}, want = {0};
	uint64_t s, end;
	store_txn *txn;
	size_t i;
	int rc;

	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	for (i = 0; i < f->nruns; i++) {
		end = i + 1 < f->nruns ? f->runs[i + 1] - 1 : f->mark;
		want.n = 0;
		for (s = f->runs[i]; s <= end; s++)
			if (key[0] == 'D'
			        ? f->ev[s].ixdmg
			        : !f->ev[s].ixdmg && listed(f, s, key, klen))
				ixt_push(&want, s);
		store_be64(kb, f->runs[i]);
		memcpy(kb + 8, key, klen);
		k.data = kb;
		if (key[0] == 'S') {
			k.size = 9; /* the run's subject table */
			rc = store_get(txn, STORE_AUDIT_IX, &k, &v);
			k.size = 8 + klen;
			got.n = 0;
			if (rc == 0)
				decode_subjects(&v, f->runs[i], key + 1, &got);
			else
				assert_int_equal(rc, STORE_NOTFOUND);
			ixt_same_list(&got, &want, f->runs[i], end, false);
			continue;
		}
		rc = store_get(txn, STORE_AUDIT_IX, &k, &v);
		if (want.n == 0) {
			assert_int_equal(rc, STORE_NOTFOUND);
			continue;
		}
		assert_int_equal(rc, 0);
		decode(&v, f->runs[i], &got);
		ixt_same_list(&got, &want, f->runs[i], end, false);
	}
	store_txn_abort(txn);
	free(got.s);
	free(want.s);
}

/* Put key (run, kind and body) -> val in txn. */
void
ixt_put_raw(fixture *f, store_txn *txn, uint64_t run, const uint8_t *key,
    size_t klen, const uint8_t *val, size_t vlen)
{
	uint8_t kb[8 + AUDIT_IX_KEYMAX + 8];
	store_val k = {8 + klen, kb}, v = {vlen, (void *)val};

	store_be64(kb, run);
	memcpy(kb + 8, key, klen);
	assert_int_equal(store_put(txn, STORE_AUDIT_IX, &k, &v, 0), 0);
}

/* Put a key of klen bytes (short: not one privd writes) in txn. */
void
ixt_put_short(fixture *f, store_txn *txn, const uint8_t *key, size_t klen)
{
	store_val k = {klen, (void *)key}, v = {1, "\x01"};

	assert_int_equal(store_put(txn, STORE_AUDIT_IX, &k, &v, 0), 0);
}

/* A walk in txn against the model. */
void
ixt_check_in(fixture *f, store_txn *txn, const uint8_t *key, size_t klen,
    uint64_t lo, uint64_t hi, bool desc)
{
	sink k = {.budget = SIZE_MAX};
	seqlist want = {0};

	assert_int_equal(ixt_walk(f, txn, key, klen, lo, hi, desc, &k), 0);
	ixt_expect(f, key, klen, lo, hi, desc, &want);
	ixt_same_list(&k.l, &want, lo, hi, desc);
	free(k.l.s);
	free(want.s);
}

void
ixt_save(const audit_ix *ix, ix_copy *c)
{
	c->ix = *ix;
	assert_non_null(c->items = malloc(ix->n * sizeof(*ix->items) + 1));
	memcpy(c->items, ix->items, ix->n * sizeof(*ix->items));
}

void
ixt_same(const audit_ix *ix, ix_copy *c)
{
	assert_int_equal(ix->mark, c->ix.mark);
	assert_int_equal(ix->last, c->ix.last);
	assert_int_equal(ix->since_us, c->ix.since_us);
	assert_int_equal(ix->from_log, c->ix.from_log);
	assert_int_equal(ix->n, c->ix.n);
	assert_memory_equal(ix->items, c->items, ix->n * sizeof(*ix->items));
	free(c->items);
}
