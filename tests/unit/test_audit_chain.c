/*
 * test_audit_chain.c - the fixture and helpers shared by the audit chain
 * tests (test_audit.c, test_audit_prune.c); see test_audit_chain.h.
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

#include "test_audit_chain.h"

uint8_t pseudo[2][CRYPTO_PSEUDONYMBYTES];
const char *const principals[3] = {"alice", "bob", "retention"};

int
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

int
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

bool
has_subject(uint64_t seq)
{
	return seq % 10 != 0;
}

const char *
principal_of(uint64_t seq)
{
	return principals[seq % 3];
}

int
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
audit_state
append_at(fixture *f, size_t n, const uint64_t *times, unsigned every)
{
	audit_state a;
	store_txn *txn;
	uint64_t seq;
	job *j;
	size_t i;

	assert_int_equal(store_txn_begin(f->st, 0, &txn), 0);
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
	assert_int_equal(store_txn_commit(txn), 0);
	return a;
}

audit_state
load(fixture *f)
{
	audit_state a;
	store_txn *txn;

	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(audit_load(f->st, txn, &a), 0);
	store_txn_abort(txn);
	return a;
}

/* Copy every record and checkpoint out of a read transaction. */
void
chain_read(fixture *f, chain *c)
{
	store_txn *txn;
	store_cur *cur;
	store_val k, v;
	int rc;

	memset(c, 0, sizeof(*c));
	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(store_cur_open(txn, STORE_AUDIT, &cur), 0);
	for (rc = store_cur_get(cur, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(cur, &k, &v, STORE_NEXT)) {
		rec *r;

		assert_int_equal(k.size, 8);
		assert_true(v.size > AUDIT_HASHBYTES);
		c->recs = realloc(c->recs, (c->nrecs + 1) * sizeof(*c->recs));
		assert_non_null(c->recs);
		r = &c->recs[c->nrecs++];
		r->seq = store_get_be64(k.data);
		memcpy(r->hash, v.data, AUDIT_HASHBYTES);
		r->len = v.size - AUDIT_HASHBYTES;
		assert_non_null(r->ev = malloc(r->len));
		memcpy(r->ev, (uint8_t *)v.data + AUDIT_HASHBYTES, r->len);
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	store_cur_close(cur);
	assert_int_equal(store_cur_open(txn, STORE_AUDIT_CKPT, &cur), 0);
	for (rc = store_cur_get(cur, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(cur, &k, &v, STORE_NEXT)) {
		av_checkpoint *ck;
		const uint8_t *p = v.data;

		assert_int_equal(k.size, 8);
		assert_int_equal(v.size, AUDIT_CKPT_RECBYTES);
		c->ckpts =
		    realloc(c->ckpts, (c->nckpts + 1) * sizeof(*c->ckpts));
		assert_non_null(c->ckpts);
		ck = &c->ckpts[c->nckpts++];
		ck->seq = store_get_be64(k.data);
		ck->time_us = store_get_be64(p);
		memcpy(ck->hash, p + 8, AV_HASHBYTES);
		memcpy(ck->sig, p + 8 + AV_HASHBYTES, AV_SIGBYTES);
	}
	assert_int_equal(rc, STORE_NOTFOUND);
	store_cur_close(cur);
	store_txn_abort(txn);
}

void
chain_free(chain *c)
{
	size_t i;

	for (i = 0; i < c->nrecs; i++)
		free(c->recs[i].ev);
	free(c->recs);
	free(c->ckpts);
	memset(c, 0, sizeof(*c));
}

const av_checkpoint *
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
int
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
int
verify_all(fixture *f, av_state *v)
{
	chain c;
	int rc;

	chain_read(f, &c);
	rc = chain_verify(&c, 1, NULL, f->pk, v);
	chain_free(&c);
	return rc;
}

Privd__V1__AuditEvent *
decode(const rec *r)
{
	Privd__V1__AuditEvent *ev;

	ev = privd__v1__audit_event__unpack(NULL, r->len, r->ev);
	assert_non_null(ev);
	return ev;
}

/* Tampering and pruning: a write transaction on the raw databases. */
store_txn *
wbegin(fixture *f)
{
	store_txn *txn;

	assert_int_equal(store_txn_begin(f->st, 0, &txn), 0);
	return txn;
}

void
wcommit(store_txn *txn)
{
	assert_int_equal(store_txn_commit(txn), 0);
}

size_t
db_count(fixture *f, store_tbl dbi)
{
	store_txn *txn;
	uint64_t n;

	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(store_count(txn, dbi, &n), 0);
	store_txn_abort(txn);
	return n;
}

static int
seq_collect(void *arg, uint64_t seq)
{
	seqlist *l = arg;

	assert_true(l->n < 64);
	l->s[l->n++] = seq;
	return 0;
}

void
ix_list(fixture *f, const uint8_t *key, size_t klen, seqlist *l)
{
	store_txn *txn;

	l->n = 0;
	assert_int_equal(store_txn_begin(f->st, STORE_RDONLY, &txn), 0);
	assert_int_equal(audit_ix_walk(f->st, txn, key, klen, 1, UINT64_MAX,
	                     false, seq_collect, l),
	    0);
	store_txn_abort(txn);
}
