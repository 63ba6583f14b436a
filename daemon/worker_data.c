/*
 * worker_data.c - the data requests' worker side: get, put, delete.
 *
 * DESIGN: a get opens the subject's key and the values it may read in the
 * worker's read transaction and answers them (its audit event still goes
 * through the writer); a put seals its values here, off the writer's
 * thread, under the subject's key as this snapshot has it (the writer
 * reconciles with what is committed: writer_apply.c); a delete is only
 * decided here. On a database store the reads of one request are read
 * ahead together (store_prefetch): one round trip, not one per record.
 * Split from worker.c, which keeps the loop, the decision and the
 * failures' answers.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "blind.h"
#include "clock.h"
#include "log.h"
#include "substate.h"
#include "worker.h"

#define MAX_FIELDS_PER_REQUEST POL_MAX_FIELDS
#define MAX_VALUE              (64 * 1024)

/*
 * Check what every data operation names: register, subject, purpose, and
 * the field list's size. Fails the job and returns -1 if something is off.
 */
static int
check_target(
    worker *w, job *j, const char *reg, const char *subject, size_t nfields)
{
	size_t slen;

	slen = strnlen(subject, CRYPTO_MAX_SUBJECT + 1);
	if (slen == 0 || slen > CRYPTO_MAX_SUBJECT) {
		job_fail(j, ST(INVALID), 0, "subject id must be 1..%d bytes",
		    CRYPTO_MAX_SUBJECT);
		return -1;
	}
	ev_subject(w, j, subject, slen);
	if (!name_ok(reg)) {
		job_fail(j, ST(INVALID), 0, "register name must be 1..%d bytes",
		    POL_MAX_NAME);
		return -1;
	}
	if (!name_ok(j->req->purpose)) {
		job_fail(j, ST(INVALID), 0, "purpose must be 1..%d bytes",
		    POL_MAX_NAME);
		return -1;
	}
	if (nfields > MAX_FIELDS_PER_REQUEST) {
		job_fail(j, ST(INVALID), 0, "at most %d fields per request",
		    MAX_FIELDS_PER_REQUEST);
		return -1;
	}
	return 0;
}

/* Open one stored value into the arena and append it to the reply. */
static int
open_value(worker *w, job *j, const char *field, const store_val *rec,
    Privd__V1__Field *out)
{
	const char *subj = j->req->get->subject;
	store_value sv;
	uint8_t *plain;
	size_t plen;

	if (store_value_decode(rec, &sv) != 0)
		return -1;
	plen = sv.sealedlen - CRYPTO_SEAL_OVERHEAD;
	if ((plain = arena_alloc(&j->ar, plen + 1)) == NULL)
		return -1;
	if (crypto_value_open(w->dk, j->reg->name, (const uint8_t *)subj,
	        strlen(subj), field, sv.hdr, sv.hdrlen, sv.sealed, sv.sealedlen,
	        plain) != 0)
		return -1;
	privd__v1__field__init(out);
	out->name = (char *)field;
	out->value.data = plain;
	out->value.len = plen;
	return 0;
}

/* Unwrap a subject's data key into dk, checking its record's header too.
 * Returns 0 or -1 (does not authenticate). */
int
subject_unwrap(const crypto_keys *keys, const char *reg, const char *subj,
    const store_subject *sub, uint8_t *dk)
{
	uint8_t hdr[STORE_SUBJECT_HDRBYTES];

	store_subject_header(hdr, sub->created_us);
	return crypto_key_unwrap(keys, reg, (const uint8_t *)subj, strlen(subj),
	    hdr, sizeof(hdr), sub->wrapped, dk);
}

/* A new subject: a random data key in dk, wrapped into sub. */
void
subject_new_key(const crypto_keys *keys, const char *reg, const char *subj,
    uint64_t created_us, uint8_t *dk, store_subject *sub)
{
	uint8_t hdr[STORE_SUBJECT_HDRBYTES];

	randombytes_buf(dk, CRYPTO_KEYBYTES);
	sub->created_us = created_us;
	store_subject_header(hdr, created_us);
	crypto_key_wrap(keys, reg, (const uint8_t *)subj, strlen(subj), hdr,
	    sizeof(hdr), dk, sub->wrapped);
}

/*
 * Unwrap the subject's data key into w->dk, inside a read transaction.
 * Returns 0, STORE_NOTFOUND, or -1 (failed job: store damaged).
 */
static int
subject_key(worker *w, job *j, const char *subj, store_subject *sub)
{
	server *srv = w->srv;
	int rc;

	rc = store_subject_get(srv->st, w->rtxn, j->sid, sub);
	if (rc == STORE_NOTFOUND)
		return rc;
	if (rc == 0 &&
	    subject_unwrap(srv->keys, j->reg->name, subj, sub, w->dk) == 0)
		return 0;
	if (WORKER_STORE_GONE(rc)) {
		worker_store_fail(j, rc);
		return -1;
	}
	log_err("register %s: a subject key record is damaged (%s)",
	    j->reg->name, rc ? store_strerror(rc) : "does not authenticate");
	job_fail(j, ST(INTERNAL), 0, "stored data failed an integrity check");
	return -1;
}

static int
field_cmp(const void *a, const void *b)
{
	const Privd__V1__Field *const *fa = a, *const *fb = b;

	return strcmp((*fa)->name, (*fb)->name);
}

/*
 * A get of named fields, and a put, read the subject's record and then
 * each field's one at a time: on a database store a round trip each.
 * Read them ahead (store_prefetch): one round trip for all. A hint:
 * nothing fails here (the reads that follow say what went wrong). LMDB
 * reads nothing ahead, and nothing is built for it.
 */
#define AHEAD_MAX 16

static void
read_ahead(worker *w, const uint8_t *sid, const char *const *fields, size_t n)
{
	uint8_t keys[AHEAD_MAX][STORE_VALUE_KEYMAX];
	store_val kv[AHEAD_MAX];
	size_t i, m = 0;

	kv[0].size = CRYPTO_SUBJECT_IDBYTES;
	kv[0].data = (void *)sid;
	(void)store_prefetch(w->rtxn, STORE_SUBJECTS, kv, 1);
	for (i = 0; i < n && m < AHEAD_MAX; i++) {
		if (fields[i] == NULL)
			continue;
		kv[m].size = store_value_key(keys[m], sid, fields[i]);
		kv[m].data = keys[m];
		m++;
	}
	if (m > 0)
		(void)store_prefetch(w->rtxn, STORE_VALUES, kv, m);
}

static void
get_ahead(worker *w, job *j, const Privd__V1__GetRequest *g)
{
	const char *names[AHEAD_MAX];
	const pol_field *f;
	size_t i, n = 0;

	if (!store_reads_ahead(w->srv->st))
		return;
	for (i = 0; i < g->n_fields && n < AHEAD_MAX; i++)
		if ((f = pol_field_find(j->reg, g->fields[i])) != NULL)
			names[n++] = f->name;
	read_ahead(w, j->sid, names, n);
}

static void
put_ahead(worker *w, job *j)
{
	const char *names[AHEAD_MAX];
	size_t i, n = 0;

	if (!store_reads_ahead(w->srv->st))
		return;
	for (i = 0; i < j->nvalues && n < AHEAD_MAX; i++)
		names[n++] = j->values[i].field;
	read_ahead(w, j->sid, names, n);
}

void
do_get(worker *w, job *j)
{
	Privd__V1__GetRequest *g = j->req->get;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__GetResponse gr = PRIVD__V1__GET_RESPONSE__INIT;
	Privd__V1__Field *items, **ptrs;
	server *srv = w->srv;
	const pol_field *f;
	char **evf;
	store_subject sub;
	pol_decision d;
	store_cur *cur;
	store_val k, v;
	uint8_t key[STORE_VALUE_KEYMAX];
	char name[POL_MAX_NAME + 1];
	size_t i, n = 0, max, klen;
	int rc;

	if (check_target(w, j, g->register_, g->subject, g->n_fields) != 0 ||
	    worker_decide(w, j, g->register_, g->subject, POL_OP_READ,
	        g->fields, g->n_fields, &d) != 0)
		return;
	max = g->n_fields ? g->n_fields : j->reg->nfields;
	items = arena_alloc(&j->ar, (max ? max : 1) * sizeof(*items));
	ptrs = arena_alloc(&j->ar, (max ? max : 1) * sizeof(*ptrs));
	if (items == NULL || ptrs == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return;
	}
	crypto_subject_id(srv->keys, j->reg->name, (const uint8_t *)g->subject,
	    strlen(g->subject), j->sid);
	if ((rc = store_read_begin(srv->st, &w->rtxn)) != 0) {
		worker_read_fail(
		    j, rc, "read transaction", "store unavailable");
		return;
	}
	get_ahead(w, j, g);
	if ((rc = subject_key(w, j, g->subject, &sub)) != 0) {
		if (rc == STORE_NOTFOUND)
			job_fail(j, ST(NOT_FOUND), 0, "no such subject");
		goto out;
	}
	if (g->n_fields > 0) {
		for (i = 0; i < g->n_fields; i++) {
			f = pol_field_find(j->reg, g->fields[i]);
			k.size = store_value_key(key, j->sid, f->name);
			k.data = key;
			if ((rc = store_get(w->rtxn, STORE_VALUES, &k, &v)) ==
			    STORE_NOTFOUND)
				continue;
			if (rc != 0 ||
			    open_value(w, j, f->name, &v, &items[n]) != 0)
				goto damaged;
			ptrs[n] = &items[n];
			n++;
		}
		/* the contract: sorted by name, as a full read is */
		qsort(ptrs, n, sizeof(*ptrs), field_cmp);
	} else {
		/* Every stored field the grant lets this caller read, in key
		 * order, which is name order. */
		if ((rc = store_cur_open(w->rtxn, STORE_VALUES, &cur)) != 0)
			goto damaged;
		k.size = CRYPTO_SUBJECT_IDBYTES;
		k.data = j->sid;
		rc = store_cur_get(cur, &k, &v, STORE_SET_RANGE);
		while (rc == 0 && k.size > CRYPTO_SUBJECT_IDBYTES &&
		       memcmp(k.data, j->sid, CRYPTO_SUBJECT_IDBYTES) == 0) {
			klen = k.size - CRYPTO_SUBJECT_IDBYTES;
			if (klen <= POL_MAX_NAME) {
				memcpy(name,
				    (uint8_t *)k.data + CRYPTO_SUBJECT_IDBYTES,
				    klen);
				name[klen] = '\0';
				f = pol_field_find(j->reg, name);
				if (f != NULL && n < max &&
				    pol_fieldset_has(d.fields, f->index)) {
					if (open_value(w, j, f->name, &v,
					        &items[n]) != 0) {
						store_cur_close(cur);
						goto damaged;
					}
					ptrs[n] = &items[n];
					n++;
				}
			}
			rc = store_cur_get(cur, &k, &v, STORE_NEXT);
		}
		store_cur_close(cur);
		if (rc != 0 && rc != STORE_NOTFOUND)
			goto damaged;
	}
	/* the audit event names what was disclosed */
	if ((evf = arena_alloc(&j->ar, (n ? n : 1) * sizeof(*evf))) != NULL) {
		for (i = 0; i < n; i++)
			evf[i] = ptrs[i]->name;
		j->ev.fields = evf;
		j->ev.n_fields = n;
	}
	gr.n_fields = n;
	gr.fields = ptrs;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_GET;
	resp.get = &gr;
	job_ok(j, &resp);
	goto out;
damaged:
	if (WORKER_STORE_GONE(rc)) {
		worker_store_fail(j, rc);
		goto out;
	}
	log_err("register %s: a stored value is damaged or does not "
	        "authenticate",
	    j->reg->name);
	job_fail(j, ST(INTERNAL), 0, "stored data failed an integrity check");
out:
	sodium_memzero(w->dk, CRYPTO_KEYBYTES);
	store_read_end(srv->st, w->rtxn);
}

/*
 * Seal every value of a put under data key dk into the job's record buffer,
 * each with its header (collected: the field's first write, or now; updated:
 * now; the purpose) bound into the seal. Called by the worker, and again by
 * the writer in the rare case that the subject's key or a field's first
 * write time changed between the worker's read and the commit.
 */
int
put_seal(const crypto_keys *keys, job *j, const uint8_t *dk, uint64_t now)
{
	const char *subj = j->req->put->subject;
	size_t i, total = 0, slen = strlen(subj), plen = strlen(j->purpose);
	job_value *jv;
	uint8_t *p;

	for (i = 0; i < j->nvalues; i++)
		total += STORE_VALUE_HDRBYTES + plen + j->values[i].plainlen +
		         CRYPTO_SEAL_OVERHEAD;
	if (total > j->reccap) {
		if ((p = malloc(total)) == NULL)
			return -1;
		if (j->recbuf != NULL)
			sodium_memzero(j->recbuf, j->reccap);
		free(j->recbuf);
		j->recbuf = p;
		j->reccap = total;
	}
	p = j->recbuf;
	for (i = 0; i < j->nvalues; i++) {
		jv = &j->values[i];
		jv->rec = p;
		jv->hdrlen = store_value_header(p,
		    jv->created_us != 0 ? jv->created_us : now, now, j->purpose,
		    plen);
		crypto_value_seal(dk, j->reg->name, (const uint8_t *)subj, slen,
		    jv->field, p, jv->hdrlen, jv->plain, jv->plainlen,
		    p + jv->hdrlen);
		jv->reclen = jv->hdrlen + jv->plainlen + CRYPTO_SEAL_OVERHEAD;
		p += jv->reclen;
	}
	return 0;
}

/*
 * Does a stored value authenticate under data key dk (its header too)? The
 * plaintext goes to scratch in the job's arena and is wiped at once.
 * Returns 0 or -1.
 */
int
value_authentic(const uint8_t *dk, job *j, const char *subj, const char *field,
    const store_value *sv)
{
	size_t plen = sv->sealedlen - CRYPTO_SEAL_OVERHEAD;
	uint8_t *scratch;
	int rc;

	if ((scratch = arena_alloc(&j->ar, plen + 1)) == NULL)
		return -1;
	rc = crypto_value_open(dk, j->reg->name, (const uint8_t *)subj,
	    strlen(subj), field, sv->hdr, sv->hdrlen, sv->sealed, sv->sealedlen,
	    scratch);
	sodium_memzero(scratch, plen);
	return rc;
}

/*
 * Each value's first write time as stored now (0 if not stored), read in
 * the worker's transaction from a record that authenticates: a header
 * edited on disk must not slip into a new seal. Returns 0 or -1 (failed
 * job: store damaged).
 */
static int
put_created_times(worker *w, job *j)
{
	const char *subj = j->req->put->subject;
	job_value *jv;
	store_value sv;
	size_t i;
	int rc;

	for (i = 0; i < j->nvalues; i++) {
		jv = &j->values[i];
		rc = store_value_get(
		    w->srv->st, w->rtxn, j->sid, jv->field, &sv);
		if (rc == STORE_NOTFOUND)
			continue;
		if (WORKER_STORE_GONE(rc)) {
			worker_store_fail(j, rc);
			return -1;
		}
		if (rc != 0 ||
		    value_authentic(w->dk, j, subj, jv->field, &sv) != 0) {
			log_err(
			    "register %s: a stored value is damaged or does "
			    "not authenticate",
			    j->reg->name);
			job_fail(j, ST(INTERNAL), 0,
			    "stored data failed an integrity check");
			return -1;
		}
		jv->created_us = sv.created_us;
		jv->had_old = true;
		store_value_id(&sv, jv->old_id);
	}
	return 0;
}

void
do_put(worker *w, job *j)
{
	Privd__V1__PutRequest *pr = j->req->put;
	server *srv = w->srv;
	const pol_field *f;
	pol_decision d;
	char **names, why[96];
	size_t i, n = pr->n_fields;
	uint64_t now;
	int rc;

	if (check_target(w, j, pr->register_, pr->subject, n) != 0)
		return;
	if (n == 0) {
		job_fail(j, ST(INVALID), 0, "a put needs at least one field");
		return;
	}
	names = arena_alloc(&j->ar, n * sizeof(*names));
	j->values = arena_alloc(&j->ar, n * sizeof(*j->values));
	if (names == NULL || j->values == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		names[i] = pr->fields[i]->name;
	if (worker_decide(w, j, pr->register_, pr->subject, POL_OP_WRITE, names,
	        n, &d) != 0)
		return;
	memset(j->values, 0, n * sizeof(*j->values));
	for (i = 0; i < n; i++) {
		f = pol_field_find(j->reg, names[i]);
		if (pr->fields[i]->value.len > MAX_VALUE) {
			job_fail(j, ST(TOO_LARGE), 0,
			    "field %s: value larger than %d bytes", f->name,
			    MAX_VALUE);
			return;
		}
		if (pol_value_check(f, pr->fields[i]->value.data,
		        pr->fields[i]->value.len, why, sizeof(why)) != 0) {
			job_fail(
			    j, ST(INVALID), 0, "field %s: %s", f->name, why);
			return;
		}
		j->values[i].field = f->name;
		j->values[i].plain = pr->fields[i]->value.data;
		j->values[i].plainlen = pr->fields[i]->value.len;
		if (f->lookup) {
			if (blind_tag(srv->keys, f, j->values[i].plain,
			        j->values[i].plainlen, j->values[i].tag) != 0) {
				job_fail(j, ST(INVALID), 0,
				    "field %s: the value cannot be normalised "
				    "for lookup",
				    f->name);
				return;
			}
			j->values[i].lookup = true;
		}
	}
	j->nvalues = n;
	crypto_subject_id(srv->keys, j->reg->name, (const uint8_t *)pr->subject,
	    strlen(pr->subject), j->sid);
	if ((rc = store_read_begin(srv->st, &w->rtxn)) != 0) {
		worker_read_fail(
		    j, rc, "read transaction", "store unavailable");
		return;
	}
	put_ahead(w, j);
	rc = subject_key(w, j, pr->subject, &j->subject);
	if (rc == 0 && put_created_times(w, j) != 0)
		rc = -1;
	store_read_end(srv->st, w->rtxn);
	now = clock_wall_us();
	if (rc == STORE_NOTFOUND) {
		subject_new_key(srv->keys, j->reg->name, pr->subject, now,
		    w->dk, &j->subject);
		j->new_key = true;
	} else if (rc != 0) {
		sodium_memzero(w->dk, CRYPTO_KEYBYTES);
		return; /* job failed */
	}
	if (put_seal(srv->keys, j, w->dk, now) != 0)
		job_fail(j, ST(INTERNAL), 0, "out of memory");
	else
		j->kind = JOB_PUT;
	sodium_memzero(w->dk, CRYPTO_KEYBYTES);
}

void
do_delete(worker *w, job *j)
{
	Privd__V1__DeleteRequest *dr = j->req->delete_;
	pol_decision d;

	if (check_target(w, j, dr->register_, dr->subject, dr->n_fields) != 0 ||
	    worker_decide(w, j, dr->register_, dr->subject, POL_OP_DELETE,
	        dr->fields, dr->n_fields, &d) != 0)
		return;
	crypto_subject_id(w->srv->keys, j->reg->name,
	    (const uint8_t *)dr->subject, strlen(dr->subject), j->sid);
	j->kind = JOB_DELETE;
}
