/*
 * floor_store.c - floor (b): privd's work on the store, in-process, with
 * nothing around it: no sockets, no policy, no threads, no hand-offs.
 *
 * It uses privd's own layout and crypto (daemon/store.h, daemon/crypto.h,
 * read-only use of the daemon's library): subject ids are keyed BLAKE2b
 * hashes, each subject has a random data key wrapped with the key-wrapping
 * key, values are sealed with XChaCha20-Poly1305 bound to their headers.
 * Each operation appends one audit record as privd does (a packed
 * privd.v1.AuditEvent with its BLAKE2b chain hash, reserved in place with
 * STORE_APPEND) and nothing else: no audit index, which is the floor the
 * issue asks privd to approach. Commits are group commits of `batch`
 * operations with LMDB's default durability (a data sync and a meta page
 * sync), whatever flags privd's store_open() may come to use.
 *
 * A batch is read, then committed, then the next one read: no overlap, on
 * purpose. With c x f requests in flight there is one batch of c x f at a
 * time (a second one would need requests that are not in flight), and at
 * batch 1 an operation's latency is one read and one durable commit, the
 * latency floor. A privd that overlaps the preparation of some requests
 * with the commit of others, in smaller batches, may beat it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "crypto.h"
#include "floors.h"
#include "privd.pb-c.h"
#include "store.h"
#include "store_lmdb.h" /* the floor is LMDB's */

#define FLOOR_MAPSIZE   (64ull << 30) /* address space only */
#define LOAD_PER_COMMIT 10000
#define HASHBYTES       32

struct store_floor {
	store *st;
	crypto_keys *keys;
	uint64_t nsubjects;
	uint64_t seq; /* last audit record */
	uint8_t hash[HASHBYTES];
	uint64_t rng;
};

/* One operation of a batch, between its read and its commit. */
typedef struct floor_op {
	uint64_t subject;
	uint8_t pseudo[CRYPTO_PSEUDONYMBYTES];
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	/* put: the sealed records of phone, organisation, position */
	uint8_t rec[3][STORE_VALUE_HDRBYTES + 32 + BENCH_VALUE_MAX +
	               CRYPTO_SEAL_OVERHEAD];
	size_t reclen[3];
} floor_op;

static const int put_fields[3] = {FLD_PHONE, FLD_ORG, FLD_POSITION};

static uint64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t
rnd(store_floor *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ull;
}

/* Seal field fi's value (variant v) of subject i into rec; its length. */
static size_t
seal_value(
    const uint8_t *dk, int fi, uint64_t i, int v, uint64_t now, uint8_t *rec)
{
	char subj[32], val[BENCH_VALUE_MAX];
	size_t sl = bench_subject(i, subj, sizeof(subj));
	size_t vl = bench_value(fi, i, v, val, sizeof(val));
	size_t hl = store_value_header(
	    rec, now, now, BENCH_PURPOSE, strlen(BENCH_PURPOSE));

	crypto_value_seal(dk, BENCH_REGISTER, (const uint8_t *)subj, sl,
	    bench_field_names[fi], rec, hl, (const uint8_t *)val, vl, rec + hl);
	return hl + vl + CRYPTO_SEAL_OVERHEAD;
}

static int
load(store_floor *f, char *err, size_t errlen)
{
	uint8_t dk[CRYPTO_KEYBYTES], hdr[STORE_SUBJECT_HDRBYTES],
	    key[STORE_VALUE_KEYMAX], rec[512];
	char subj[32];
	store_txn *txn = NULL;
	store_subject sub;
	store_val k, v;
	uint64_t now = wall_us();
	int rc = 0;

	for (uint64_t i = 0; i < f->nsubjects && !bench_interrupted; i++) {
		size_t sl = bench_subject(i, subj, sizeof(subj));
		uint8_t sid[CRYPTO_SUBJECT_IDBYTES];

		if (txn == NULL && (rc = store_txn_begin(f->st, 0, &txn)) != 0)
			break;
		crypto_subject_id(
		    f->keys, BENCH_REGISTER, (const uint8_t *)subj, sl, sid);
		randombytes_buf(dk, sizeof(dk));
		sub.created_us = now;
		store_subject_header(hdr, now);
		crypto_key_wrap(f->keys, BENCH_REGISTER, (const uint8_t *)subj,
		    sl, hdr, sizeof(hdr), dk, sub.wrapped);
		if ((rc = store_subject_put(f->st, txn, sid, &sub)) != 0)
			break;
		for (int fi = 0; fi < FLD_N && rc == 0; fi++) {
			k.size =
			    store_value_key(key, sid, bench_field_names[fi]);
			k.data = key;
			v.size = seal_value(dk, fi, i, 0, now, rec);
			v.data = rec;
			rc = store_put(txn, STORE_VALUES, &k, &v, 0);
		}
		if (rc != 0)
			break;
		if ((i + 1) % LOAD_PER_COMMIT == 0 || i + 1 == f->nsubjects) {
			rc = store_txn_commit(txn);
			txn = NULL;
			if (rc != 0)
				break;
		}
	}
	sodium_memzero(dk, sizeof(dk));
	if (txn != NULL)
		store_txn_abort(txn);
	if (rc != 0)
		snprintf(err, errlen, "store floor: loading: %s",
		    store_strerror(rc));
	else if (bench_interrupted)
		snprintf(err, errlen, "interrupted");
	return rc != 0 || bench_interrupted ? -1 : 0;
}

int
store_floor_open(const char *dir, uint64_t nsubjects, store_floor **out,
    char *err, size_t errlen)
{
	uint8_t master[CRYPTO_KEYBYTES];
	store_floor *f;

	*out = NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "store floor: sodium_init failed");
		return -1;
	}
	if (mkdir(dir, 0700) != 0) {
		snprintf(
		    err, errlen, "store floor: mkdir: %s", strerror(errno));
		return -1;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	f->nsubjects = nsubjects;
	f->rng = 0x2545F4914F6CDD1Dull;
	randombytes_buf(master, sizeof(master));
	f->keys = crypto_keys_derive(master);
	sodium_memzero(master, sizeof(master));
	if (f->keys == NULL ||
	    store_open(dir, FLOOR_MAPSIZE, true, &f->st, err, errlen) != 0) {
		store_floor_close(&f);
		return -1;
	}
	/* LMDB's default: fdatasync of the data, then the meta page */
	mdb_env_set_flags(
	    f->st->env, MDB_NOSYNC | MDB_NOMETASYNC | MDB_MAPASYNC, 0);
	if (load(f, err, errlen) != 0) {
		store_floor_close(&f);
		return -1;
	}
	*out = f;
	return 0;
}

void
store_floor_close(store_floor **fp)
{
	store_floor *f;

	if (fp == NULL || (f = *fp) == NULL)
		return;
	store_close(&f->st);
	crypto_keys_free(&f->keys);
	free(f);
	*fp = NULL;
}

/* The reading half of one operation, in the batch's read transaction.
 * Returns 0, or -1 with r->first_error. */
static int
floor_read(store_floor *f, store_txn *txn, bool put, floor_op *op,
    const char *const *get_fields, size_t nget, uint64_t now, load_result *r)
{
	uint8_t dk[CRYPTO_KEYBYTES], hdr[STORE_SUBJECT_HDRBYTES],
	    plain[BENCH_VALUE_MAX + 1];
	char subj[32], want[BENCH_VALUE_MAX];
	size_t sl = bench_subject(op->subject, subj, sizeof(subj));
	store_subject sub;
	store_value sv;
	int rc;

	crypto_subject_id(
	    f->keys, BENCH_REGISTER, (const uint8_t *)subj, sl, op->sid);
	crypto_pseudonym(f->keys, (const uint8_t *)subj, sl, op->pseudo);
	if ((rc = store_subject_get(f->st, txn, op->sid, &sub)) != 0)
		goto bad;
	store_subject_header(hdr, sub.created_us);
	if (crypto_key_unwrap(f->keys, BENCH_REGISTER, (const uint8_t *)subj,
	        sl, hdr, sizeof(hdr), sub.wrapped, dk) != 0)
		goto bad;
	if (put) {
		for (int i = 0; i < 3; i++)
			op->reclen[i] = seal_value(
			    dk, put_fields[i], op->subject, 1, now, op->rec[i]);
	} else {
		for (size_t i = 0; i < nget; i++) {
			int fi = bench_field_index(get_fields[i]);
			size_t pl, wl;

			if (fi < 0)
				continue;
			rc = store_value_get(
			    f->st, txn, op->sid, bench_field_names[fi], &sv);
			if (rc != 0 || sv.sealedlen < CRYPTO_SEAL_OVERHEAD ||
			    (pl = sv.sealedlen - CRYPTO_SEAL_OVERHEAD) >
			        BENCH_VALUE_MAX ||
			    crypto_value_open(dk, BENCH_REGISTER,
			        (const uint8_t *)subj, sl,
			        bench_field_names[fi], sv.hdr, sv.hdrlen,
			        sv.sealed, sv.sealedlen, plain) != 0)
				goto bad;
			/* a floor that read the wrong thing is no floor */
			wl =
			    bench_value(fi, op->subject, 0, want, sizeof(want));
			if (!bench_field_varies(fi) &&
			    (wl != pl || memcmp(want, plain, pl) != 0))
				goto bad;
		}
	}
	sodium_memzero(dk, sizeof(dk));
	return 0;
bad:
	sodium_memzero(dk, sizeof(dk));
	snprintf(r->first_error, sizeof(r->first_error),
	    "store floor: a stored subject does not read back (%s)",
	    rc ? store_strerror(rc) : "does not authenticate");
	return -1;
}

/* Append op's audit record, as audit_append() does, packed in place. */
static int
floor_audit(store_floor *f, store_txn *txn, bool put, const floor_op *op,
    const char *const *get_fields, size_t nget, uint64_t now)
{
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	crypto_generichash_state h;
	char *pf[3];
	uint8_t kb[8], *p;
	store_val k = {8, kb}, v;
	size_t n;
	int rc;

	ev.seq = f->seq + 1;
	ev.time_us = now;
	ev.principal = "crm";
	ev.op = put ? "put" : "get";
	ev.register_ = BENCH_REGISTER;
	ev.subject.data = (uint8_t *)op->pseudo;
	ev.subject.len = CRYPTO_PSEUDONYMBYTES;
	if (put) {
		for (int i = 0; i < 3; i++)
			pf[i] = (char *)bench_field_names[put_fields[i]];
		ev.fields = pf;
		ev.n_fields = 3;
	} else {
		ev.fields = (char **)get_fields;
		ev.n_fields = nget;
	}
	ev.purpose = BENCH_PURPOSE;
	ev.decision = PRIVD__V1__DECISION__ALLOWED;
	ev.status = PRIVD__V1__STATUS__OK;
	ev.policy_version = 1;
	ev.request_id = (ev.seq << 8) | 7;
	n = privd__v1__audit_event__get_packed_size(&ev);
	store_be64(kb, ev.seq);
	v.size = HASHBYTES + n;
	if ((rc = store_put(
	         txn, STORE_AUDIT, &k, &v, STORE_RESERVE | STORE_APPEND)) != 0)
		return rc;
	p = v.data;
	privd__v1__audit_event__pack(&ev, p + HASHBYTES);
	crypto_generichash_init(&h, NULL, 0, HASHBYTES);
	crypto_generichash_update(&h, f->hash, HASHBYTES);
	crypto_generichash_update(&h, p + HASHBYTES, n);
	crypto_generichash_final(&h, p, HASHBYTES);
	memcpy(f->hash, p, HASHBYTES);
	f->seq = ev.seq;
	return 0;
}

/* One batch: read, then one durable write transaction. */
static int
floor_batch(store_floor *f, bool put, floor_op *ops, int batch,
    const char *const *get_fields, size_t nget, load_result *r)
{
	uint8_t key[STORE_VALUE_KEYMAX];
	uint64_t now = wall_us();
	store_txn *txn;
	store_val k, v;
	int rc, i;

	if ((rc = store_txn_begin(f->st, STORE_RDONLY, &txn)) != 0)
		goto fail;
	for (i = 0; i < batch; i++) {
		ops[i].subject = rnd(f) % f->nsubjects;
		if (floor_read(
		        f, txn, put, &ops[i], get_fields, nget, now, r) != 0) {
			store_txn_abort(txn);
			return -1;
		}
	}
	store_txn_abort(txn);
	if ((rc = store_txn_begin(f->st, 0, &txn)) != 0)
		goto fail;
	for (i = 0; i < batch && rc == 0; i++) {
		for (int j = 0; put && j < 3 && rc == 0; j++) {
			k.size = store_value_key(
			    key, ops[i].sid, bench_field_names[put_fields[j]]);
			k.data = key;
			v.size = ops[i].reclen[j];
			v.data = ops[i].rec[j];
			rc = store_put(txn, STORE_VALUES, &k, &v, 0);
		}
		if (rc == 0)
			rc = floor_audit(
			    f, txn, put, &ops[i], get_fields, nget, now);
	}
	if (rc != 0) {
		store_txn_abort(txn);
		goto fail;
	}
	if ((rc = store_txn_commit(txn)) != 0)
		goto fail;
	return 0;
fail:
	snprintf(r->first_error, sizeof(r->first_error), "store floor: %s",
	    store_strerror(rc));
	return -1;
}

int
store_floor_run(store_floor *f, bool put, int batch, double seconds,
    const char *const *get_fields, size_t nget, load_result *r,
    double *cpu_us_per_op)
{
	uint64_t start, end, deadline, cpu0;
	floor_op *ops;
	hist h;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	*cpu_us_per_op = -1;
	if (batch < 1 || f->nsubjects == 0)
		return -1;
	if ((ops = calloc((size_t)batch, sizeof(*ops))) == NULL ||
	    hist_init(&h) != 0) {
		free(ops);
		snprintf(
		    r->first_error, sizeof(r->first_error), "out of memory");
		return -1;
	}
	cpu0 = thread_cpu_ns();
	start = bench_now_ns();
	deadline = start + (uint64_t)(seconds * 1e9);
	do {
		uint64_t t0 = bench_now_ns(), t1;

		if (floor_batch(f, put, ops, batch, get_fields, nget, r) != 0) {
			r->errors++;
			rc = -1;
			break;
		}
		t1 = bench_now_ns();
		for (int i = 0; i < batch; i++)
			hist_add(&h, t1 - t0);
		r->requests += (uint64_t)batch;
		end = t1;
	} while (end < deadline && !bench_interrupted);
	end = bench_now_ns();
	r->seconds = (double)(end - start) / 1e9;
	r->p50_us = hist_quantile_us(&h, 0.50);
	r->p99_us = hist_quantile_us(&h, 0.99);
	r->p999_us = hist_quantile_us(&h, 0.999);
	r->max_us = (double)h.max / 1000.0;
	if (r->requests > 0)
		*cpu_us_per_op = (double)(thread_cpu_ns() - cpu0) / 1000.0 /
		                 (double)r->requests;
	if (bench_interrupted && rc == 0) {
		snprintf(r->first_error, sizeof(r->first_error), "interrupted");
		r->errors++;
		rc = -1;
	}
	hist_free(&h);
	free(ops);
	return rc;
}
