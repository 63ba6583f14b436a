/*
 * test_audit.c - the audit chain end to end: daemon/audit.c writes it into a
 * real LMDB store in a temporary directory, client/auditverify.c (the
 * auditor's verifier) checks it, and the tests tamper with the stored bytes
 * the way an attacker with write access to the store could.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "audit_index.h"
#include "auditverify.h"

#define SEC      1000000u /* microseconds */
#define TMPL     "/tmp/privd-test-audit-XXXXXX"
#define ST(x)    PRIVD__V1__STATUS__##x
#define DEC(x)   PRIVD__V1__DECISION__##x
#define NO_EVERY 0 /* append_at: never checkpoint */

/* Events alternate between two subjects; every tenth names none. */
static uint8_t pseudo[2][CRYPTO_PSEUDONYMBYTES];
static const char *const principals[] = {"alice", "bob", "retention"};

typedef struct fixture {
	char dir[sizeof(TMPL)];
	store *st;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
} fixture;

/* One stored record, copied out of the read transaction. */
typedef struct rec {
	uint64_t seq; /* from the key */
	uint8_t hash[AUDIT_HASHBYTES];
	uint8_t *ev;
	size_t len;
} rec;

/* What an auditor gets: the events kept and every stored checkpoint. */
typedef struct chain {
	rec *recs;
	size_t nrecs;
	av_checkpoint *ckpts;
	size_t nckpts;
} chain;

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	char err[256];

	assert_non_null(f);
	memcpy(f->dir, TMPL, sizeof(TMPL));
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, STORE_DEFAULT_MAPSIZE, true, &f->st,
	                     err, sizeof(err)),
	    0);
	assert_int_equal(crypto_sign_keypair(f->pk, f->sk), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;
	char path[sizeof(TMPL) + 16];

	store_close(&f->st);
	snprintf(path, sizeof(path), "%s/data.mdb", f->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", f->dir);
	unlink(path);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

static bool
has_subject(uint64_t seq)
{
	return seq % 10 != 0;
}

static const char *
principal_of(uint64_t seq)
{
	return principals[seq % 3];
}

static int
status_of(uint64_t seq)
{
	return seq % 4 == 3 ? ST(DENIED) : ST(OK);
}

/*
 * Append n events in one write transaction, starting from the head that
 * audit_load reads. times[i] is the `now` of the i-th event (NULL: its seq
 * in seconds); a checkpoint is signed after every event whose seq is a
 * multiple of every (0: never). Returns the head after the commit.
 */
static audit_state
append_at(fixture *f, size_t n, const uint64_t *times, unsigned every)
{
	audit_state a;
	MDB_txn *txn;
	uint64_t seq;
	job *j;
	size_t i;

	assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
	assert_int_equal(audit_load(f->st, txn, &a), 0);
	for (i = 0; i < n; i++) {
		seq = a.seq + 1;
		assert_non_null(j = job_new());
		j->ev.principal = (char *)principal_of(seq);
		j->ev.op = "get";
		j->ev.register_ = "customers";
		if (has_subject(seq)) {
			j->ev.subject.data = pseudo[seq % 2];
			j->ev.subject.len = CRYPTO_PSEUDONYMBYTES;
		}
		j->ev.policy_version = 3;
		j->ev.request_id = 1000 + seq;
		j->status = status_of(seq);
		j->reason = j->status == ST(DENIED) ? POL_DENY_NO_GRANT : 0;
		assert_int_equal(audit_append(f->st, txn, &a, j,
		                     times != NULL ? times[i] : seq * SEC),
		    0);
		assert_int_equal(a.seq, seq);
		if (every != NO_EVERY && seq % every == 0) {
			assert_int_equal(
			    audit_checkpoint(f->st, txn, &a, f->sk), 0);
			assert_int_equal(a.ckpt_seq, seq);
		}
		job_free(j);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	return a;
}

static audit_state
load(fixture *f)
{
	audit_state a;
	MDB_txn *txn;

	assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(audit_load(f->st, txn, &a), 0);
	mdb_txn_abort(txn);
	return a;
}

/* Copy every record and checkpoint out of a read transaction. */
static void
chain_read(fixture *f, chain *c)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	memset(c, 0, sizeof(*c));
	assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_cursor_open(txn, f->st->audit, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		rec *r;

		assert_int_equal(k.mv_size, 8);
		assert_true(v.mv_size > AUDIT_HASHBYTES);
		c->recs = realloc(c->recs, (c->nrecs + 1) * sizeof(*c->recs));
		assert_non_null(c->recs);
		r = &c->recs[c->nrecs++];
		r->seq = store_get_be64(k.mv_data);
		memcpy(r->hash, v.mv_data, AUDIT_HASHBYTES);
		r->len = v.mv_size - AUDIT_HASHBYTES;
		assert_non_null(r->ev = malloc(r->len));
		memcpy(r->ev, (uint8_t *)v.mv_data + AUDIT_HASHBYTES, r->len);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_cursor_open(txn, f->st->audit_ckpt, &cur), 0);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		av_checkpoint *ck;
		const uint8_t *p = v.mv_data;

		assert_int_equal(k.mv_size, 8);
		assert_int_equal(v.mv_size, AUDIT_CKPT_RECBYTES);
		c->ckpts =
		    realloc(c->ckpts, (c->nckpts + 1) * sizeof(*c->ckpts));
		assert_non_null(c->ckpts);
		ck = &c->ckpts[c->nckpts++];
		ck->seq = store_get_be64(k.mv_data);
		ck->time_us = store_get_be64(p);
		memcpy(ck->hash, p + 8, AV_HASHBYTES);
		memcpy(ck->sig, p + 8 + AV_HASHBYTES, AV_SIGBYTES);
	}
	assert_int_equal(rc, MDB_NOTFOUND);
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
}

static void
chain_free(chain *c)
{
	size_t i;

	for (i = 0; i < c->nrecs; i++)
		free(c->recs[i].ev);
	free(c->recs);
	free(c->ckpts);
	memset(c, 0, sizeof(*c));
}

static const av_checkpoint *
chain_ckpt(const chain *c, uint64_t seq)
{
	size_t i;

	for (i = 0; i < c->nckpts; i++)
		if (c->ckpts[i].seq == seq)
			return &c->ckpts[i];
	return NULL;
}

/*
 * Verify the chain as the auditor does: from `from` (whose previous hash is
 * prev) over every record kept, against every checkpoint, up to the newest
 * record. Returns av_finish's result; *v says where and why it failed.
 */
static int
chain_verify(const chain *c, uint64_t from, const uint8_t *prev,
    const uint8_t *pk, av_state *v)
{
	static const uint8_t zero[AV_HASHBYTES];
	size_t i;

	av_init(v, from, prev != NULL ? prev : zero, c->ckpts, c->nckpts, pk);
	for (i = 0; i < c->nrecs; i++)
		av_record(v, c->recs[i].ev, c->recs[i].len, c->recs[i].hash,
		    AUDIT_HASHBYTES, NULL);
	return av_finish(
	    v, c->nrecs > 0 ? c->recs[c->nrecs - 1].seq : from - 1);
}

/* Read and verify the whole chain from seq 1. */
static int
verify_all(fixture *f, av_state *v)
{
	chain c;
	int rc;

	chain_read(f, &c);
	rc = chain_verify(&c, 1, NULL, f->pk, v);
	chain_free(&c);
	return rc;
}

static Privd__V1__AuditEvent *
decode(const rec *r)
{
	Privd__V1__AuditEvent *ev;

	ev = privd__v1__audit_event__unpack(NULL, r->len, r->ev);
	assert_non_null(ev);
	return ev;
}

/* Tampering: a write transaction on the raw databases. */
static MDB_txn *
wbegin(fixture *f)
{
	MDB_txn *txn;

	assert_int_equal(mdb_txn_begin(f->st->env, NULL, 0, &txn), 0);
	return txn;
}

static void
wcommit(MDB_txn *txn)
{
	assert_int_equal(mdb_txn_commit(txn), 0);
}

/* Copy the stored value of seq in dbi into a malloc'd buffer. */
static uint8_t *
raw_get(MDB_txn *txn, MDB_dbi dbi, uint64_t seq, size_t *len)
{
	uint8_t kb[8], *p;
	MDB_val k = {8, kb}, v;

	store_be64(kb, seq);
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	assert_non_null(p = malloc(v.mv_size));
	memcpy(p, v.mv_data, v.mv_size);
	*len = v.mv_size;
	return p;
}

static void
raw_put(MDB_txn *txn, MDB_dbi dbi, uint64_t seq, const uint8_t *p, size_t len)
{
	uint8_t kb[8];
	MDB_val k = {8, kb}, v = {len, (void *)p};

	store_be64(kb, seq);
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
}

static size_t
db_count(fixture *f, MDB_dbi dbi)
{
	MDB_txn *txn;
	MDB_stat s;

	assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_stat(txn, dbi, &s), 0);
	mdb_txn_abort(txn);
	return s.ms_entries;
}

/* The seqs the index lists under a key (kind and body), oldest first. */
typedef struct seqlist {
	uint64_t s[64];
	size_t n;
} seqlist;

static int
seq_collect(void *arg, uint64_t seq)
{
	seqlist *l = arg;

	assert_true(l->n < 64);
	l->s[l->n++] = seq;
	return 0;
}

static void
ix_list(fixture *f, const uint8_t *key, size_t klen, seqlist *l)
{
	MDB_txn *txn;

	l->n = 0;
	assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(audit_ix_walk(f->st, txn, key, klen, 1, UINT64_MAX,
	                     false, seq_collect, l),
	    0);
	mdb_txn_abort(txn);
}

/*
 * 1. 20 events, a checkpoint every 5: the whole chain verifies, seqs are
 * 1..20 without gaps, times never decrease (even when the clock does), the
 * writer's fields are filled in, and audit_load finds the head again.
 */
static void
test_chain_verifies(void **state)
{
	fixture *f = *state;
	uint64_t times[20], last_time = 0;
	audit_state a, l;
	Privd__V1__AuditEvent *ev;
	av_state v;
	chain c;
	size_t i;

	for (i = 0; i < 20; i++)
		times[i] = (i + 1) * SEC;
	times[9] = 1;         /* the clock went back */
	times[10] = times[8]; /* and is level with event 9 */
	a = append_at(f, 20, times, 5);
	assert_int_equal(a.seq, 20);

	chain_read(f, &c);
	assert_int_equal(c.nrecs, 20);
	assert_int_equal(c.nckpts, 4);
	assert_int_equal(chain_verify(&c, 1, NULL, f->pk, &v), 0);
	assert_int_equal(v.bad_seq, 0);
	assert_int_equal(v.checked, 20);
	assert_int_equal(v.ckpts_ok, 4);
	for (i = 0; i < c.nrecs; i++) {
		assert_int_equal(c.recs[i].seq, i + 1);
		ev = decode(&c.recs[i]);
		assert_int_equal(ev->seq, i + 1);
		assert_true(ev->time_us >= last_time);
		assert_true(ev->time_us >= times[i]);
		last_time = ev->time_us;
		assert_string_equal(ev->principal, principal_of(i + 1));
		assert_int_equal(ev->status, status_of(i + 1));
		if (ev->status == ST(DENIED)) {
			assert_int_equal(ev->decision, DEC(REFUSED));
			assert_int_equal(ev->reason, POL_DENY_NO_GRANT);
		} else {
			assert_int_equal(ev->decision, DEC(ALLOWED));
			assert_int_equal(ev->reason, 0);
		}
		privd__v1__audit_event__free_unpacked(ev, NULL);
	}
	for (i = 0; i < c.nckpts; i++) {
		assert_int_equal(c.ckpts[i].seq, 5 * (i + 1));
		assert_memory_equal(c.ckpts[i].hash,
		    c.recs[c.ckpts[i].seq - 1].hash, AUDIT_HASHBYTES);
		assert_true(av_checkpoint_valid(&c.ckpts[i], f->pk));
	}

	l = load(f);
	assert_int_equal(l.seq, 20);
	assert_memory_equal(l.hash, c.recs[19].hash, AUDIT_HASHBYTES);
	assert_memory_equal(l.hash, a.hash, AUDIT_HASHBYTES);
	assert_int_equal(l.time_us, last_time);
	assert_int_equal(l.ckpt_seq, 20);
	chain_free(&c);
}

/* 2. One byte of event 7's bytes changed: event 7 fails. */
static void
test_tampered_event_fails(void **state)
{
	fixture *f = *state;
	uint8_t *p, *at;
	MDB_txn *txn;
	av_state v;
	size_t len;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	p = raw_get(txn, f->st->audit, 7, &len);
	/* a byte of the subject pseudonym: the event still decodes */
	at = memmem(p + AUDIT_HASHBYTES, len - AUDIT_HASHBYTES, pseudo[1],
	    CRYPTO_PSEUDONYMBYTES);
	assert_non_null(at);
	at[5] ^= 0x01;
	raw_put(txn, f->st->audit, 7, p, len);
	wcommit(txn);
	free(p);

	assert_int_equal(verify_all(f, &v), -1);
	assert_int_equal(v.bad_seq, 7);
	assert_int_equal(v.checked, 6);
	assert_non_null(strstr(v.why, "chain hash"));
}

/* 3. One byte of event 7's stored hash changed: event 7 fails. */
static void
test_tampered_hash_fails(void **state)
{
	fixture *f = *state;
	MDB_txn *txn;
	av_state v;
	size_t len;
	uint8_t *p;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	p = raw_get(txn, f->st->audit, 7, &len);
	p[AUDIT_HASHBYTES - 1] ^= 0x80;
	raw_put(txn, f->st->audit, 7, p, len);
	wcommit(txn);
	free(p);

	assert_int_equal(verify_all(f, &v), -1);
	assert_int_equal(v.bad_seq, 7);
	assert_non_null(strstr(v.why, "chain hash"));
}

/* 4. Event 9 deleted: event 9 is missing. */
static void
test_deleted_event_fails(void **state)
{
	fixture *f = *state;
	uint8_t kb[8];
	MDB_val k = {8, kb};
	MDB_txn *txn;
	av_state v;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	store_be64(kb, 9);
	assert_int_equal(mdb_del(txn, f->st->audit, &k, NULL), 0);
	wcommit(txn);

	assert_int_equal(verify_all(f, &v), -1);
	assert_int_equal(v.bad_seq, 9);
	assert_int_equal(v.checked, 8);
	assert_non_null(strstr(v.why, "missing"));
}

/* 5. Events 12 and 13 swapped: event 12 fails. */
static void
test_swapped_events_fail(void **state)
{
	fixture *f = *state;
	uint8_t *p12, *p13;
	size_t l12, l13;
	MDB_txn *txn;
	av_state v;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	p12 = raw_get(txn, f->st->audit, 12, &l12);
	p13 = raw_get(txn, f->st->audit, 13, &l13);
	raw_put(txn, f->st->audit, 12, p13, l13);
	raw_put(txn, f->st->audit, 13, p12, l12);
	wcommit(txn);
	free(p12);
	free(p13);

	assert_int_equal(verify_all(f, &v), -1);
	assert_int_equal(v.bad_seq, 12);
	assert_int_equal(v.checked, 11);
}

/*
 * 6. An attacker rewrites event 3 and recomputes every later hash. The
 * chain is consistent again (it verifies without checkpoints), but without
 * the signing key the checkpoint at 5 gives it away.
 */
static void
test_rewritten_chain_fails_at_checkpoint(void **state)
{
	fixture *f = *state;
	uint8_t prev[AUDIT_HASHBYTES], *p, *np;
	Privd__V1__AuditEvent *ev;
	crypto_generichash_state h;
	char *orig;
	size_t len, n;
	MDB_txn *txn;
	uint64_t seq;
	av_state v;
	chain c;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	p = raw_get(txn, f->st->audit, 2, &len);
	memcpy(prev, p, AUDIT_HASHBYTES);
	free(p);
	for (seq = 3; seq <= 20; seq++) {
		p = raw_get(txn, f->st->audit, seq, &len);
		if (seq == 3) {
			ev = privd__v1__audit_event__unpack(
			    NULL, len - AUDIT_HASHBYTES, p + AUDIT_HASHBYTES);
			assert_non_null(ev);
			orig = ev->principal;
			ev->principal = "mallory";
			n = privd__v1__audit_event__get_packed_size(ev);
			assert_non_null(np = malloc(AUDIT_HASHBYTES + n));
			privd__v1__audit_event__pack(ev, np + AUDIT_HASHBYTES);
			ev->principal = orig;
			privd__v1__audit_event__free_unpacked(ev, NULL);
			free(p);
			p = np;
			len = AUDIT_HASHBYTES + n;
		}
		crypto_generichash_init(&h, NULL, 0, AUDIT_HASHBYTES);
		crypto_generichash_update(&h, prev, AUDIT_HASHBYTES);
		crypto_generichash_update(
		    &h, p + AUDIT_HASHBYTES, len - AUDIT_HASHBYTES);
		crypto_generichash_final(&h, p, AUDIT_HASHBYTES);
		memcpy(prev, p, AUDIT_HASHBYTES);
		raw_put(txn, f->st->audit, seq, p, len);
		free(p);
	}
	wcommit(txn);

	chain_read(f, &c);
	/* the rewrite is self-consistent: only the signatures catch it */
	av_init(&v, 1, (const uint8_t[AV_HASHBYTES]){0}, NULL, 0, f->pk);
	for (n = 0; n < c.nrecs; n++)
		assert_int_equal(av_record(&v, c.recs[n].ev, c.recs[n].len,
		                     c.recs[n].hash, AUDIT_HASHBYTES, NULL),
		    0);
	assert_int_equal(av_finish(&v, 20), 0);

	assert_int_equal(chain_verify(&c, 1, NULL, f->pk, &v), -1);
	assert_int_equal(v.bad_seq, 5);
	assert_int_equal(v.ckpts_ok, 0);
	assert_non_null(strstr(v.why, "checkpoint"));
	chain_free(&c);
}

/*
 * 7. A checkpoint with a flipped signature byte fails at its seq; a
 * verifier holding another public key fails at the first checkpoint.
 */
static void
test_bad_signature_fails(void **state)
{
	fixture *f = *state;
	uint8_t pk2[crypto_sign_PUBLICKEYBYTES],
	    sk2[crypto_sign_SECRETKEYBYTES];
	MDB_txn *txn;
	av_state v;
	size_t len;
	uint8_t *p;
	chain c;

	append_at(f, 20, NULL, 5);
	assert_int_equal(crypto_sign_keypair(pk2, sk2), 0);
	chain_read(f, &c);
	assert_int_equal(chain_verify(&c, 1, NULL, pk2, &v), -1);
	assert_int_equal(v.bad_seq, 5);
	assert_non_null(strstr(v.why, "signature"));
	assert_false(av_checkpoint_valid(&c.ckpts[0], pk2));
	chain_free(&c);

	txn = wbegin(f);
	p = raw_get(txn, f->st->audit_ckpt, 10, &len);
	assert_int_equal(len, AUDIT_CKPT_RECBYTES);
	p[8 + AUDIT_HASHBYTES + 17] ^= 0x04;
	raw_put(txn, f->st->audit_ckpt, 10, p, len);
	wcommit(txn);
	free(p);

	chain_read(f, &c);
	assert_false(av_checkpoint_valid(chain_ckpt(&c, 10), f->pk));
	assert_int_equal(chain_verify(&c, 1, NULL, f->pk, &v), -1);
	assert_int_equal(v.bad_seq, 10);
	assert_int_equal(v.ckpts_ok, 1);
	assert_non_null(strstr(v.why, "signature"));
	chain_free(&c);
}

/*
 * 8. audit_append writes no index entry; indexing the log afterwards
 * (audit_ix_catch_up, as privd does at start) lists under each subject and
 * principal exactly its events, in seq order, in one run (a key for each
 * principal, one subject table), and sets the mark at the head.
 */
static void
test_index_entries(void **state)
{
	fixture *f = *state;
	uint8_t key[AUDIT_IX_KEYMAX];
	uint64_t indexed, mark, s;
	MDB_txn *txn;
	seqlist l;
	size_t i, n;

	append_at(f, 20, NULL, 5);
	assert_int_equal(db_count(f, f->st->audit_ix), 0);
	assert_int_equal(audit_ix_catch_up(f->st, &indexed), 0);
	assert_int_equal(indexed, 20);
	assert_int_equal(audit_ix_catch_up(f->st, &indexed), 0);
	assert_int_equal(indexed, 0);
	assert_int_equal(mdb_txn_begin(f->st->env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(audit_ix_mark(f->st, txn, &mark), 0);
	mdb_txn_abort(txn);
	assert_int_equal(mark, 20);
	/* a key for each of three principals, and the subject table */
	assert_int_equal(db_count(f, f->st->audit_ix), 4);
	for (i = 0; i < 2; i++) {
		ix_list(f, key, audit_ix_key_subject(key, pseudo[i]), &l);
		for (n = 0, s = 1; s <= 20; s++)
			if (has_subject(s) && s % 2 == i)
				assert_int_equal(l.s[n++], s);
		assert_int_equal(l.n, n);
	}
	for (i = 0; i < 3; i++) {
		ix_list(f, key, audit_ix_key_principal(key, principals[i]), &l);
		for (n = 0, s = 1; s <= 20; s++)
			if (s % 3 == i)
				assert_int_equal(l.s[n++], s);
		assert_int_equal(l.n, n);
	}
}

/*
 * 9. Pruning: 10 old events (a checkpoint every 4), 5 newer ones. A cutoff
 * before the first checkpoint prunes nothing; a cutoff between events 8 and
 * 9 deletes events 1..8, keeps checkpoint 8 as the
 * start of the chain and deletes checkpoint 4; the rest verifies from
 * checkpoint 8 and audit_load still finds the head.
 */
static void
test_prune(void **state)
{
	fixture *f = *state;
	uint64_t times[15];
	const av_checkpoint *c8;
	audit_state a, l;
	av_state v;
	chain before, c;
	size_t i, pruned;
	MDB_txn *txn;
	bool more;

	for (i = 0; i < 10; i++)
		times[i] = (i + 1) * SEC;
	for (i = 10; i < 15; i++)
		times[i] = 1000 * SEC + i * SEC;
	a = append_at(f, 15, times, 4);
	assert_int_equal(a.seq, 15);
	assert_int_equal(a.ckpt_seq, 12);
	chain_read(f, &before);
	assert_int_equal(before.nckpts, 3);

	/* checkpoint 4 is not older than a cutoff at its own time */
	txn = wbegin(f);
	assert_int_equal(audit_prune(f->st, txn, 4 * SEC, &pruned, &more), 0);
	wcommit(txn);
	assert_int_equal(pruned, 0);
	assert_false(more);
	assert_int_equal(db_count(f, f->st->audit), 15);
	assert_int_equal(db_count(f, f->st->audit_ckpt), 3);

	txn = wbegin(f);
	assert_int_equal(
	    audit_prune(f->st, txn, 8 * SEC + SEC / 2, &pruned, &more), 0);
	wcommit(txn);
	assert_int_equal(pruned, 8);
	assert_false(more);

	chain_read(f, &c);
	assert_int_equal(c.nrecs, 7);
	assert_int_equal(c.recs[0].seq, 9);
	assert_int_equal(c.nckpts, 2);
	assert_null(chain_ckpt(&c, 4));
	assert_non_null(c8 = chain_ckpt(&c, 8));
	assert_non_null(chain_ckpt(&c, 12));
	assert_memory_equal(c8->hash, before.recs[7].hash, AUDIT_HASHBYTES);

	assert_true(av_checkpoint_valid(c8, f->pk));
	assert_int_equal(chain_verify(&c, 9, c8->hash, f->pk, &v), 0);
	assert_int_equal(v.checked, 7);
	assert_int_equal(v.ckpts_ok, 1);

	l = load(f);
	assert_int_equal(l.seq, 15);
	assert_memory_equal(l.hash, before.recs[14].hash, AUDIT_HASHBYTES);
	assert_int_equal(l.ckpt_seq, 12);
	assert_int_equal(l.time_us, a.time_us);
	chain_free(&c);
	chain_free(&before);
}

/*
 * 10. Everything pruned up to the last checkpoint, which is the head: the
 * chain continues from the checkpoint, and the next event verifies from it.
 */
static void
test_prune_all_then_continue(void **state)
{
	fixture *f = *state;
	uint64_t early = 5 * SEC;
	audit_state a, l;
	const av_checkpoint *ck;
	av_state v;
	chain before, c;
	size_t pruned;
	MDB_txn *txn;
	bool more;

	a = append_at(f, 12, NULL, 4);
	assert_int_equal(a.seq, 12);
	assert_int_equal(a.ckpt_seq, 12);
	chain_read(f, &before);

	txn = wbegin(f);
	assert_int_equal(
	    audit_prune(f->st, txn, UINT64_MAX, &pruned, &more), 0);
	wcommit(txn);
	assert_int_equal(pruned, 12);
	assert_false(more);
	assert_int_equal(db_count(f, f->st->audit), 0);
	assert_int_equal(db_count(f, f->st->audit_ix), 0);
	assert_int_equal(db_count(f, f->st->audit_ckpt), 1);

	l = load(f);
	assert_int_equal(l.seq, 12);
	assert_int_equal(l.ckpt_seq, 12);
	assert_int_equal(l.time_us, 12 * SEC);
	assert_memory_equal(l.hash, before.recs[11].hash, AUDIT_HASHBYTES);

	/* the clock is behind the checkpoint: time still does not go back */
	a = append_at(f, 1, &early, 13);
	assert_int_equal(a.seq, 13);
	assert_int_equal(a.ckpt_seq, 13);

	chain_read(f, &c);
	assert_int_equal(c.nrecs, 1);
	assert_int_equal(c.recs[0].seq, 13);
	assert_non_null(ck = chain_ckpt(&c, 12));
	assert_true(av_checkpoint_valid(ck, f->pk));
	assert_int_equal(chain_verify(&c, 13, ck->hash, f->pk, &v), 0);
	assert_int_equal(v.checked, 1);
	assert_int_equal(v.ckpts_ok, 1);
	assert_int_equal(v.last_time, 12 * SEC);
	chain_free(&c);
	chain_free(&before);
}

/*
 * 11. Pruning more than AUDIT_PRUNE_CHUNK events takes several calls: the
 * first says there is more, and in the end every event up to the last
 * checkpoint before the cutoff is gone, only that
 * checkpoint is left of the old ones, and the rest verifies from it.
 */
static void
test_prune_in_chunks(void **state)
{
	fixture *f = *state;
	const av_checkpoint *ck;
	size_t pruned, total = 0, calls = 0;
	MDB_txn *txn;
	av_state v;
	bool more;
	chain c;

	/* checkpoints at 700, 1400, 2100 */
	append_at(f, AUDIT_PRUNE_CHUNK + 200, NULL, 700);
	do {
		txn = wbegin(f);
		assert_int_equal(
		    audit_prune(f->st, txn, UINT64_MAX, &pruned, &more), 0);
		wcommit(txn);
		assert_true(pruned <= AUDIT_PRUNE_CHUNK);
		if (calls++ == 0)
			assert_true(more);
		total += pruned;
	} while (more && calls < 10);
	assert_false(more);
	assert_int_equal(total, 2100);
	assert_int_equal(db_count(f, f->st->audit), 100);

	chain_read(f, &c);
	assert_int_equal(c.recs[0].seq, 2101);
	assert_int_equal(c.nckpts, 1);
	assert_non_null(ck = chain_ckpt(&c, 2100));
	assert_true(av_checkpoint_valid(ck, f->pk));
	assert_int_equal(chain_verify(&c, 2101, ck->hash, f->pk, &v), 0);
	assert_int_equal(v.checked, 100);
	chain_free(&c);
}

/*
 * 12. Each of those calls is its own write transaction, and the writer
 * commits batches (and workers answer audit queries) between them. After
 * every call the chain must still start right after a kept signed
 * checkpoint, as audit.h promises ("deletes events only up to a signed
 * checkpoint, which stays: the rest of the chain verifies from it").
 */
static void
test_prune_chunk_keeps_anchor(void **state)
{
	fixture *f = *state;
	const av_checkpoint *ck;
	size_t pruned, calls = 0;
	MDB_txn *txn;
	av_state v;
	bool more;
	chain c;

	/* checkpoints at 700, 1400, 2100: none at a chunk boundary */
	append_at(f, AUDIT_PRUNE_CHUNK + 200, NULL, 700);
	do {
		txn = wbegin(f);
		assert_int_equal(
		    audit_prune(f->st, txn, UINT64_MAX, &pruned, &more), 0);
		wcommit(txn);
		calls++;

		chain_read(f, &c);
		assert_true(c.nrecs > 0);
		ck = chain_ckpt(&c, c.recs[0].seq - 1);
		if (ck == NULL)
			fail_msg(
			    "after prune call %zu the oldest event kept is "
			    "%llu, but there is no checkpoint at %llu to "
			    "verify it from",
			    calls, (unsigned long long)c.recs[0].seq,
			    (unsigned long long)c.recs[0].seq - 1);
		assert_int_equal(
		    chain_verify(&c, c.recs[0].seq, ck->hash, f->pk, &v), 0);
		chain_free(&c);
	} while (more && calls < 10);
}

/*
 * 13. The newest events deleted, the signed checkpoint that covers them
 * kept: the store's own newest event is then 15, but checkpoint 20 proves
 * that events 16..20 existed. auditverify.h: "a checkpoint beyond the last
 * record means events are missing".
 */
static void
test_truncated_tail_fails(void **state)
{
	fixture *f = *state;
	uint8_t kb[8];
	MDB_val k = {8, kb};
	MDB_txn *txn;
	uint64_t seq;
	av_state v;

	append_at(f, 20, NULL, 5);
	txn = wbegin(f);
	for (seq = 16; seq <= 20; seq++) {
		store_be64(kb, seq);
		assert_int_equal(mdb_del(txn, f->st->audit, &k, NULL), 0);
	}
	wcommit(txn);

	assert_int_equal(verify_all(f, &v), -1);
	assert_true(v.bad_seq >= 16 && v.bad_seq <= 20);
	assert_int_equal(v.checked, 15);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_chain_verifies, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tampered_event_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tampered_hash_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_deleted_event_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_swapped_events_fail, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rewritten_chain_fails_at_checkpoint, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_bad_signature_fails, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_index_entries, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_all_then_continue, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_in_chunks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_prune_chunk_keeps_anchor, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_truncated_tail_fails, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	memset(pseudo[0], 0xa1, sizeof(pseudo[0]));
	memset(pseudo[1], 0xb2, sizeof(pseudo[1]));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
