/*
 * worker.c - decode, decide, read, prepare.
 *
 * DESIGN: N worker threads, each looping over the work queue. A worker owns
 * the job it took until it pushes it to the writer. It may touch: the job,
 * the current policy snapshot (acquire/release), the key set (read-only),
 * and LMDB through its own read transaction. It never writes to the store
 * and never touches a ZeroMQ socket. Every job goes on to the writer, even a
 * denial or an invalid request: nothing is answered before the writer has
 * made the request's audit event durable (DESIGN.md section 2).
 *
 * Untrusted input ends here: everything in the decoded request is checked
 * before it is used, and an error reply names at most a register, purpose or
 * field, never a value or a subject id.
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
#define WORKER_TAKE            8 /* jobs a worker takes at once */

/* A name from the request: non-empty and at most POL_MAX_NAME bytes (the
 * decoder has checked that it is UTF-8 without a NUL). */
bool
name_ok(const char *s)
{
	size_t n = strnlen(s, POL_MAX_NAME + 1);

	return n > 0 && n <= POL_MAX_NAME;
}

void
ev_subject(worker *w, job *j, const char *subject, size_t len)
{
	crypto_pseudonym(
	    w->srv->keys, (const uint8_t *)subject, len, j->pseudo);
	j->ev.subject.data = j->pseudo;
	j->ev.subject.len = CRYPTO_PSEUDONYMBYTES;
}

/*
 * Name the register, purpose and fields of a request in its audit event:
 * only names the policy declares, so nothing a client typed reaches the
 * audit log unless it is a name from the policy.
 */
static void
ev_names(job *j, const pol_decision *d, char **names, size_t n)
{
	const pol_field *f;
	char **out;
	size_t i, m = 0;

	if (d->reg == NULL)
		return;
	j->ev.register_ = d->reg->name;
	if (d->purpose != NULL)
		j->ev.purpose = d->purpose->name;
	if (n == 0 || (out = arena_alloc(&j->ar, n * sizeof(*out))) == NULL)
		return;
	for (i = 0; i < n; i++)
		if ((f = pol_field_find(d->reg, names[i])) != NULL)
			out[m++] = f->name;
	j->ev.fields = out;
	j->ev.n_fields = m;
}

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

/* The policy's principal for this connection: the ZAP User-Id names it, and
 * its key must still be the one the peer authenticated with, so a removed or
 * re-keyed principal loses access on its very next request. */
const pol_principal *
principal_of(const job *j)
{
	const pol_principal *p;

	p = pol_principal_by_name(j->snap->pol, j->principal);
	if (p != NULL &&
	    (!j->has_key || memcmp(p->key, j->key, POL_KEY_BYTES) != 0))
		p = NULL;
	return p;
}

/*
 * Decide a data request and check its field names (each at most once).
 * Returns 0 if allowed (*d filled), or fails the job and returns -1.
 */
/*
 * What the data subject asked for (issue 10): its restriction and
 * objections in register reg, for pol_decide. Only looked up once some
 * subject has a state (srv->subj_states), so a store without any costs
 * nothing. A state that does not authenticate restricts: when in doubt,
 * process less. Returns 0 with *have set if there is one, or -1 (the job
 * failed).
 */
static int
subject_state(worker *w, job *j, const char *reg, const char *subject,
    pol_subject_state *out, bool *have)
{
	const pol_register *r;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	subj_state ss;
	size_t len;
	int rc;

	*have = false;
	if (subject == NULL || !atomic_load(&w->srv->subj_states) ||
	    (r = pol_register_find(j->snap->pol, reg)) == NULL)
		return 0;
	len = strnlen(subject, CRYPTO_MAX_SUBJECT + 1);
	if (len == 0 || len > CRYPTO_MAX_SUBJECT)
		return 0; /* check_target refused it already */
	crypto_subject_id(
	    w->srv->keys, r->name, (const uint8_t *)subject, len, sid);
	if ((rc = store_read_begin(w->srv->st, &w->rtxn)) != 0) {
		worker_store_fail(j, rc);
		return -1;
	}
	rc = substate_get(w->srv->st, w->rtxn, w->srv->keys, sid, &ss);
	store_read_end(w->srv->st, w->rtxn);
	if (rc == STORE_CORRUPTED) {
		log_err("register %s: a data subject's state does not "
		        "authenticate; treated as restricted",
		    r->name);
		memset(&ss, 0, sizeof(ss));
		ss.restricted = true;
	} else if (rc != 0) {
		worker_store_fail(j, rc);
		return -1;
	}
	substate_decide(&ss, r, out);
	*have = out->restricted || out->objected != 0;
	return 0;
}

/*
 * A database store that went away (STORE_UNAVAILABLE) is not damage: the
 * request is answered UNAVAILABLE, the client may retry (the read
 * transaction's next begin connects again, store_pg.c), and nothing is
 * logged as an integrity failure. While the database is down every
 * request comes here: the log says so at most a few lines a second.
 */
void
worker_store_fail(job *j, int rc)
{
	static log_limit lim;

	if (WORKER_STORE_GONE(rc)) {
		log_limited(&lim, LOG_WARN,
		    "the store's database is unavailable (%s): requests that "
		    "read it are answered UNAVAILABLE",
		    store_strerror(rc));
		job_fail(j, ST(UNAVAILABLE), 0,
		    "the store's database is unavailable; retry");
	} else {
		job_fail(j, ST(INTERNAL), 0, "store unavailable");
	}
}

/*
 * A read that failed part way: the database gone (worker_store_fail),
 * want of memory, or a store error that is logged with what failed. Only
 * the last is privd's own failure; none is called damage here, the
 * callers say so where a record did not decode or authenticate.
 */
void
worker_read_fail(job *j, int rc, const char *what, const char *msg)
{
	if (WORKER_STORE_GONE(rc)) {
		worker_store_fail(j, rc);
	} else if (rc == ENOMEM) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
	} else {
		log_err("%s: %s", what, store_strerror(rc));
		job_fail(j, ST(INTERNAL), 0, "%s", msg);
	}
}

int
worker_decide(worker *w, job *j, const char *reg, const char *subject,
    unsigned op, char **names, size_t n, pol_decision *d)
{
	uint64_t seen[POL_FIELD_WORDS] = {0};
	const pol_field *f;
	pol_subject_state state;
	pol_request pr;
	bool have;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!name_ok(names[i])) {
			job_fail(j, ST(INVALID), 0,
			    "field names must be 1..%d bytes", POL_MAX_NAME);
			return -1;
		}
	}
	memset(&pr, 0, sizeof(pr));
	pr.principal = principal_of(j);
	pr.reg = reg;
	pr.purpose = j->req->purpose;
	pr.op = op;
	pr.fields = (const char *const *)names;
	pr.nfields = n;
	/* first the request itself, then what the subject asked for: a
	 * principal that may not make the request learns nothing of the
	 * subject's restriction or objections */
	pol_decide(j->snap->pol, &pr, d);
	ev_names(j, d, names, n);
	if (d->reason != POL_ALLOW) {
		job_fail(j, ST(DENIED), d->reason, "%s", d->message);
		return -1;
	}
	/* a statistical purpose reads aggregates, never one person's data */
	if (d->purpose->statistical &&
	    j->req->op_case != PRIVD__V1__REQUEST__OP_AGGREGATE) {
		job_fail(j, ST(DENIED), POL_DENY_NO_GRANT,
		    "purpose %s is statistical: it reads aggregates only",
		    d->purpose->name);
		return -1;
	}
	if (subject_state(w, j, reg, subject, &state, &have) != 0)
		return -1;
	if (have) {
		pr.subject = &state;
		pol_decide(j->snap->pol, &pr, d);
		if (d->reason != POL_ALLOW) {
			job_fail(j, ST(DENIED), d->reason, "%s", d->message);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		f = pol_field_find(d->reg, names[i]);
		if (seen[f->index / 64] & (1ull << (f->index % 64))) {
			job_fail(
			    j, ST(INVALID), 0, "field %s named twice", f->name);
			return -1;
		}
		seen[f->index / 64] |= 1ull << (f->index % 64);
	}
	j->reg = d->reg;
	j->purpose = d->purpose->name;
	return 0;
}

void
do_ping(worker *w, job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__PingResponse pong = PRIVD__V1__PING_RESPONSE__INIT;
	const pol_principal *p;

	if ((p = principal_of(j)) == NULL) {
		job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_PRINCIPAL,
		    "this key is not a principal of the policy in force");
		return;
	}
	pong.server_version = PRIVD_VERSION;
	pong.principal = p->name;
	pong.policy_version = j->snap->version;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_PING;
	resp.ping = &pong;
	job_ok(j, &resp);
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

worker *
worker_new(server *srv)
{
	worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->srv = srv;
	if ((w->dk = sodium_malloc(CRYPTO_KEYBYTES)) == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void
worker_free(worker **wp)
{
	worker *w;

	if (wp == NULL || (w = *wp) == NULL)
		return;
	if (w->rtxn != NULL)
		store_txn_abort(w->rtxn);
	sodium_free(w->dk);
	free(w);
	*wp = NULL;
}

void *
worker_main(void *arg)
{
	worker *w;
	job *batch, *j;

	if ((w = worker_new(arg)) == NULL)
		fatal("worker: out of secure memory");
	/* A few jobs at a time, handed to the writer together: one queue
	 * operation (and at most one wake-up) each way instead of one per
	 * request. Few enough that the other workers still get their share
	 * of a burst. */
	while ((batch = jobq_take(&w->srv->work, WORKER_TAKE)) != NULL) {
		for (j = batch; j != NULL; j = j->next)
			worker_handle(w, j);
		jobq_push(&w->srv->commit, batch);
	}
	worker_free(&w);
	return NULL;
}
