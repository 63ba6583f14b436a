/*
 * worker_lookup.c - SubjectLookup (issue 10, DESIGN.md section 7): find a
 * person by a `lookup` field's value, across registers, through the blind
 * index (blind.h). Role subject_rights. A read: the worker answers it, and
 * the writer makes its audit event durable before the reply leaves.
 *
 * The subject id of each match is opened from its sealed retention record
 * (retstore.h); a match whose record is missing or does not open is left
 * out and logged, without any id.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "blind.h"
#include "log.h"
#include "retstore.h"
#include "worker.h"

#define LOOKUP_MAX_VALUE   1024  /* the longest value a lookup takes */
#define LOOKUP_MAX_MATCHES 10000 /* more than any person has */

typedef struct lookup {
	worker *w;
	job *j;
	const char *field;
	/* the registers searched: they declare the field with lookup */
	const pol_register *regs[POL_MAX_REGISTERS];
	size_t nregs;
	Privd__V1__SubjectMatch **out;
	size_t n, cap;
	unsigned unreadable;
	bool nomem;
} lookup;

static const pol_register *
searched(const lookup *lk, const char *reg, size_t len)
{
	size_t i;

	for (i = 0; i < lk->nregs; i++)
		if (strlen(lk->regs[i]->name) == len &&
		    memcmp(lk->regs[i]->name, reg, len) == 0)
			return lk->regs[i];
	return NULL;
}

static int
match_add(void *arg, const blind_match *m)
{
	lookup *lk = arg;
	const pol_register *r;
	Privd__V1__SubjectMatch *sm, **grown;
	ret_sub rs;
	size_t cap;
	int rc;

	if (strlen(lk->field) != m->fieldlen ||
	    memcmp(lk->field, m->field, m->fieldlen) != 0 ||
	    (r = searched(lk, m->reg, m->reglen)) == NULL)
		return 0;
	if (lk->n == LOOKUP_MAX_MATCHES)
		return 0;
	rc = ret_sub_get(lk->w->srv->st, lk->w->rtxn, lk->w->srv->keys, r->name,
	    m->sid, &rs);
	if (rc == STORE_NOTFOUND || rc == STORE_CORRUPTED) {
		lk->unreadable++;
		return 0;
	}
	if (rc != 0)
		return rc;
	if (lk->n == lk->cap) {
		cap = lk->cap ? lk->cap * 2 : 8;
		if ((grown = arena_alloc(&lk->j->ar, cap * sizeof(*grown))) ==
		    NULL)
			goto nomem;
		if (lk->n > 0)
			memcpy(grown, lk->out, lk->n * sizeof(*grown));
		lk->out = grown;
		lk->cap = cap;
	}
	if ((sm = arena_alloc(&lk->j->ar, sizeof(*sm))) == NULL)
		goto nomem;
	privd__v1__subject_match__init(sm);
	if ((sm->subject = arena_alloc(&lk->j->ar, rs.subjlen + 1)) == NULL)
		goto nomem;
	sm->register_ = (char *)r->name;
	memcpy(sm->subject, rs.subject, rs.subjlen);
	sm->subject[rs.subjlen] = '\0';
	sodium_memzero(&rs, sizeof(rs));
	lk->out[lk->n++] = sm;
	return 0;
nomem:
	sodium_memzero(&rs, sizeof(rs));
	lk->nomem = true;
	return -1;
}

static int
match_cmp(const void *a, const void *b)
{
	const Privd__V1__SubjectMatch *const *x = a, *const *y = b;
	int c;

	if ((c = strcmp((*x)->register_, (*y)->register_)) != 0)
		return c;
	return strcmp((*x)->subject, (*y)->subject);
}

/* Search under the tag of each searched register's field, once per
 * distinct tag (the same field name and type gives the same tag). */
static int
search(lookup *lk, const ProtobufCBinaryData *value)
{
	uint8_t tags[POL_MAX_REGISTERS][BLIND_TAGBYTES];
	size_t i, k, ntags = 0;
	int rc;

	for (i = 0; i < lk->nregs; i++) {
		const pol_field *f = pol_field_find(lk->regs[i], lk->field);

		if (blind_tag(lk->w->srv->keys, f, value->data, value->len,
		        tags[ntags]) != 0) {
			job_fail(lk->j, ST(INVALID), 0,
			    "the value is not a valid %s for field %s",
			    f->type == POL_FT_PHONE ? "phone number" : "value",
			    lk->field);
			return -1;
		}
		for (k = 0; k < ntags; k++)
			if (memcmp(tags[k], tags[ntags], BLIND_TAGBYTES) == 0)
				break;
		if (k < ntags)
			continue;
		rc = blind_find(
		    lk->w->srv->st, lk->w->rtxn, tags[ntags++], match_add, lk);
		if (rc != 0) {
			/* the database gone part way: UNAVAILABLE, not a
			 * shorter list of matches */
			sodium_memzero(tags, sizeof(tags));
			worker_read_fail(lk->j, lk->nomem ? ENOMEM : rc,
			    "lookup", "cannot read the lookup index");
			return -1;
		}
	}
	sodium_memzero(tags, sizeof(tags));
	return 0;
}

void
do_subject_lookup(worker *w, job *j)
{
	Privd__V1__SubjectLookupRequest *rq = j->req->subject_lookup;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__SubjectLookupResponse lr =
	    PRIVD__V1__SUBJECT_LOOKUP_RESPONSE__INIT;
	const pol_policy *pol = j->snap->pol;
	const pol_field *f;
	lookup lk;
	bool ready;
	size_t i;
	int rc;

	if (require_role(j, POL_ROLE_SUBJECT_RIGHTS, "subject_rights") == NULL)
		return;
	if (!name_ok(rq->field)) {
		job_fail(j, ST(INVALID), 0, "field name must be 1..%d bytes",
		    POL_MAX_NAME);
		return;
	}
	if (rq->value.len == 0 || rq->value.len > LOOKUP_MAX_VALUE) {
		job_fail(j, ST(INVALID), 0, "the value must be 1..%d bytes",
		    LOOKUP_MAX_VALUE);
		return;
	}
	memset(&lk, 0, sizeof(lk));
	lk.w = w;
	lk.j = j;
	for (i = 0; i < pol->nregisters; i++) {
		f = pol_field_find(&pol->registers[i], rq->field);
		if (f != NULL && f->lookup) {
			lk.regs[lk.nregs++] = &pol->registers[i];
			lk.field = f->name;
		}
	}
	if (lk.nregs == 0) {
		job_fail(j, ST(INVALID), 0,
		    "field %s is not a lookup field of any register",
		    rq->field);
		return;
	}
	if ((j->ev.fields = arena_alloc(&j->ar, sizeof(char *))) != NULL) {
		j->ev.fields[0] = (char *)lk.field;
		j->ev.n_fields = 1;
	}
	if ((rc = store_read_begin(w->srv->st, &w->rtxn)) != 0) {
		worker_store_fail(j, rc);
		return;
	}
	if ((rc = blind_ready(w->srv->st, w->rtxn, &ready)) != 0 || !ready) {
		/* half an index would answer "nobody" for people it has not
		 * reached yet: a rights request must not be told that */
		if (rc != 0)
			worker_read_fail(
			    j, rc, "lookup", "cannot read the lookup index");
		else
			job_fail(j, ST(UNAVAILABLE), 0,
			    "the lookup index is being built (after an upgrade "
			    "or a policy change to lookup fields); ask again "
			    "shortly");
	} else if (search(&lk, &rq->value) == 0) {
		if (lk.unreadable > 0)
			log_warn("lookup: %u index entries name a subject "
			         "whose retention record is missing or "
			         "damaged; left out of the answer",
			    lk.unreadable);
		if (lk.n > 1)
			qsort(lk.out, lk.n, sizeof(*lk.out), match_cmp);
		lr.matches = lk.out;
		lr.n_matches = lk.n;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_LOOKUP;
		resp.subject_lookup = &lr;
		job_ok(j, &resp);
	}
	store_read_end(w->srv->st, w->rtxn);
	for (i = 0; i < lk.n; i++)
		sodium_memzero(lk.out[i]->subject, strlen(lk.out[i]->subject));
}
