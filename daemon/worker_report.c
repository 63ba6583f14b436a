/*
 * worker_report.c - Aggregate: counts and integer statistics over a
 * register's live subjects and anonymous records together, for purposes
 * the policy marks statistical (DESIGN.md section 6).
 *
 * The answer never holds one record's value: every group with fewer
 * records than the policy's reporting.min_group is suppressed (only
 * counted), and grouping is only by a non-identifying field. Live
 * subjects are found through their retention records (ret_sub, which
 * keep the subject id sealed), so that their values can be opened; a
 * subject stored before those records existed is not counted, nor one who
 * restricted processing or objected to the report's purpose.
 *
 * Cost: one key unwrap and up to two value opens per live subject, and
 * one open per anonymous record, in read transactions of SCAN_CHUNK
 * records each. A report is a batch job by nature; it runs in a worker
 * beside requests, not in the writer.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "retstore.h"
#include "substate.h"
#include "worker.h"

#define REPORT_MAX_GROUPS 1000

typedef struct rgroup {
	uint8_t *key; /* malloc'd; NULL with missing */
	size_t keylen;
	bool missing;
	bool suppressed;
	uint64_t count;
	int64_t sum, min, max;
	bool overflow;
} rgroup;

typedef struct report {
	const pol_register *reg;
	const pol_purpose *purpose;
	const pol_field *field, *by;
	rgroup *groups;
	size_t ngroups;
	bool too_many;
} report;

static bool
parse_int(const uint8_t *v, size_t len, int64_t *out)
{
	char buf[32], *end;
	long long x;
	bool ok;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, v, len);
	buf[len] = '\0';
	errno = 0;
	x = strtoll(buf, &end, 10);
	ok = errno == 0 && *end == '\0';
	sodium_memzero(buf, sizeof(buf));
	*out = x;
	return ok;
}

/* Count one record: its field's value (v, vlen) in the group of its
 * group_by value (g, glen; g NULL: missing). */
static int
add(report *rp, const uint8_t *v, size_t vlen, const uint8_t *g, size_t glen)
{
	rgroup *grp = NULL, *p;
	int64_t x;
	size_t i;

	for (i = 0; i < rp->ngroups; i++) {
		p = &rp->groups[i];
		if ((g == NULL && p->missing) ||
		    (g != NULL && !p->missing && p->keylen == glen &&
		        memcmp(p->key, g, glen) == 0)) {
			grp = p;
			break;
		}
	}
	if (grp == NULL) {
		if (rp->ngroups == REPORT_MAX_GROUPS) {
			rp->too_many = true;
			return 0;
		}
		p = realloc(rp->groups, (rp->ngroups + 1) * sizeof(*p));
		if (p == NULL)
			return ENOMEM;
		rp->groups = p;
		grp = &rp->groups[rp->ngroups];
		memset(grp, 0, sizeof(*grp));
		grp->missing = g == NULL;
		if (g != NULL) {
			if ((grp->key = malloc(glen ? glen : 1)) == NULL)
				return ENOMEM;
			memcpy(grp->key, g, glen);
			grp->keylen = glen;
		}
		rp->ngroups++;
	}
	grp->count++;
	if (rp->field->type != POL_FT_INTEGER || !parse_int(v, vlen, &x))
		return 0;
	if (grp->count == 1 || x < grp->min)
		grp->min = x;
	if (grp->count == 1 || x > grp->max)
		grp->max = x;
	if (__builtin_add_overflow(grp->sum, x, &grp->sum))
		grp->overflow = true;
	return 0;
}

/* Open field f of a live subject (key in w->dk) into a malloc'd buffer. */
static int
open_live(worker *w, const report *rp, const uint8_t *sid, const ret_sub *rs,
    const pol_field *f, uint8_t **out, size_t *len)
{
	store_value sv;
	uint8_t *m;
	int rc;

	*out = NULL;
	rc = store_value_get(w->srv->st, w->rtxn, sid, f->name, &sv);
	if (rc != 0)
		return rc == STORE_NOTFOUND ? 0 : rc;
	if (sv.sealedlen < CRYPTO_SEAL_OVERHEAD)
		return STORE_CORRUPTED;
	*len = sv.sealedlen - CRYPTO_SEAL_OVERHEAD;
	if ((m = malloc(*len ? *len : 1)) == NULL)
		return ENOMEM;
	if (crypto_value_open(w->dk, rp->reg->name,
	        (const uint8_t *)rs->subject, rs->subjlen, f->name, sv.hdr,
	        sv.hdrlen, sv.sealed, sv.sealedlen, m) != 0) {
		free(m);
		return STORE_CORRUPTED;
	}
	*out = m;
	return 0;
}

static void
wipe_free(uint8_t *p, size_t n)
{
	if (p != NULL)
		sodium_memzero(p, n);
	free(p);
}

/* One live subject (its ret_sub record's key and value). */
static int
live_one(worker *w, report *rp, const store_val *k)
{
	static log_limit lim;
	store *st = w->srv->st;
	size_t plen = 1 + strlen(rp->reg->name), vlen, glen = 0;
	const uint8_t *sid = (const uint8_t *)k->data + plen;
	uint8_t *v = NULL, *g = NULL;
	store_subject sub;
	subj_state ss;
	ret_sub rs;
	int rc;

	/* a subject who restricted processing, or objected to this
	 * purpose, is not counted (a damaged state: neither) */
	if (atomic_load(&w->srv->subj_states)) {
		rc = substate_get(st, w->rtxn, w->srv->keys, sid, &ss);
		if (rc == STORE_CORRUPTED ||
		    (rc == 0 && ((ss.restricted &&
		                     !rp->purpose->allowed_when_restricted) ||
		                    substate_objects(&ss, rp->purpose->name))))
			return 0;
		if (rc != 0)
			return rc;
	}

	/* a read that failed is no count: only a record that is there and
	 * does not open is left out (a database gone part way would
	 * otherwise give a report that silently counts fewer) */
	rc = ret_sub_get(st, w->rtxn, w->srv->keys, rp->reg->name, sid, &rs);
	if (rc == 0)
		rc = store_subject_get(st, w->rtxn, sid, &sub);
	if (rc != 0 && rc != STORE_NOTFOUND && rc != STORE_CORRUPTED) {
		sodium_memzero(&rs, sizeof(rs));
		return rc;
	}
	if (rc != 0 || subject_unwrap(w->srv->keys, rp->reg->name, rs.subject,
	                   &sub, w->dk) != 0) {
		sodium_memzero(&rs, sizeof(rs));
		log_limited(&lim, LOG_WARN,
		    "report: a subject of register %s does not open; it is not "
		    "counted",
		    rp->reg->name);
		return 0;
	}
	rc = open_live(w, rp, sid, &rs, rp->field, &v, &vlen);
	if (rc == 0 && v != NULL && rp->by != NULL)
		rc = open_live(w, rp, sid, &rs, rp->by, &g, &glen);
	if (rc == 0 && v != NULL)
		rc = add(rp, v, vlen, rp->by == NULL ? (const uint8_t *)"" : g,
		    rp->by == NULL ? 0 : glen);
	wipe_free(v, v ? vlen : 0);
	wipe_free(g, g ? glen : 0);
	sodium_memzero(&rs, sizeof(rs));
	sodium_memzero(w->dk, CRYPTO_KEYBYTES);
	if (rc == STORE_CORRUPTED) {
		log_limited(&lim, LOG_WARN,
		    "report: a value of register %s does not open; it is not "
		    "counted",
		    rp->reg->name);
		rc = 0;
	}
	return rc;
}

/* One anonymous record. */
static int
anon_one(worker *w, report *rp, const store_val *k, const store_val *d)
{
	static log_limit lim;
	const uint8_t *v, *g;
	uint8_t *plain;
	size_t len, vlen, glen = 0;
	uint64_t month;
	int rc;

	if (ret_anon_open(w->srv->keys, k, d, &plain, &len, &month) != 0) {
		log_limited(&lim, LOG_WARN,
		    "report: an anonymous record of register %s does not open; "
		    "it is not counted",
		    rp->reg->name);
		return 0;
	}
	v = ret_anon_field(plain, len, rp->field->name, &vlen);
	g = rp->by != NULL ? ret_anon_field(plain, len, rp->by->name, &glen)
	                   : (const uint8_t *)""; /* one group, not missing */
	rc = v != NULL ? add(rp, v, vlen, g, glen) : 0;
	wipe_free(plain, len);
	return rc;
}

#define SCAN_CHUNK 1024 /* records per read transaction */

/*
 * The records of the register in dbi (ret_sub: its live subjects; anon:
 * its anonymous records), each of keylen bytes after the register's
 * prefix, in chunks of SCAN_CHUNK, each chunk in a read transaction of
 * its own: a report over a large register must not hold back a map growth
 * (and the writer with it) for its whole length. A subject written or
 * removed between chunks is counted as the chunk that reaches it sees it.
 */
static int
scan(worker *w, report *rp, store_tbl dbi, size_t keylen)
{
	uint8_t pos[1 + POL_MAX_NAME + 64 + 1];
	size_t plen = 1 + strlen(rp->reg->name), poslen, n;
	store *st = w->srv->st;
	store_cur *c;
	store_val k, d;
	bool end = false;
	int rc = 0;

	pos[0] = (uint8_t)(plen - 1);
	memcpy(pos + 1, rp->reg->name, plen - 1);
	poslen = plen;
	while (!end && rc == 0) {
		if ((rc = store_read_begin(st, &w->rtxn)) != 0)
			return rc;
		if ((rc = store_cur_open(w->rtxn, dbi, &c)) != 0) {
			store_read_end(st, w->rtxn);
			return rc;
		}
		k.size = poslen;
		k.data = pos;
		for (n = 0, rc = store_cur_get(c, &k, &d, STORE_SET_RANGE);
		     rc == 0; rc = store_cur_get(c, &k, &d, STORE_NEXT)) {
			if (k.size < plen || memcmp(k.data, pos, plen) != 0) {
				end = true;
				break;
			}
			if (k.size != plen + keylen)
				continue; /* not a record privd wrote */
			if (n == SCAN_CHUNK) {
				/* the next chunk starts here */
				memcpy(pos, k.data, k.size);
				poslen = k.size;
				break;
			}
			if (dbi == STORE_RET_SUB)
				rc = live_one(w, rp, &k);
			else
				rc = anon_one(w, rp, &k, &d);
			if (rc != 0)
				break;
			n++;
		}
		if (rc == STORE_NOTFOUND) {
			end = true;
			rc = 0;
		}
		store_cur_close(c);
		store_read_end(st, w->rtxn);
	}
	return rc;
}

static int
group_cmp(const void *a, const void *b)
{
	const rgroup *x = a, *y = b;
	size_t n;
	int c;

	if (x->missing != y->missing)
		return x->missing ? 1 : -1;
	n = x->keylen < y->keylen ? x->keylen : y->keylen;
	if ((c = memcmp(x->key, y->key, n)) != 0)
		return c;
	return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/* The groups that may be shown, into the reply (in the job's arena). */
static int
answer(job *j, report *rp, Privd__V1__AggregateResponse *out)
{
	Privd__V1__AggregateGroup *g;
	rgroup *p;
	size_t i;

	out->min_group = j->snap->pol->min_group;
	out->integer = rp->field->type == POL_FT_INTEGER;
	if (rp->ngroups > 0)
		qsort(rp->groups, rp->ngroups, sizeof(*rp->groups), group_cmp);
	out->groups = arena_alloc(
	    &j->ar, (rp->ngroups ? rp->ngroups : 1) * sizeof(*out->groups));
	if (out->groups == NULL)
		return -1;
	for (i = 0; i < rp->ngroups; i++) {
		p = &rp->groups[i];
		if (p->count < out->min_group) {
			p->suppressed = true;
			out->suppressed_groups++;
			out->suppressed_records += p->count;
		}
	}
	/* Complementary suppression: the total of the register is one
	 * ungrouped report away, so a suppressed remainder smaller than the
	 * minimum would be the difference of two answers. Suppress the
	 * smallest shown groups too until what is hidden is not one small
	 * group's. */
	while (out->suppressed_records > 0 &&
	       out->suppressed_records < out->min_group) {
		rgroup *min = NULL;

		for (i = 0; i < rp->ngroups; i++)
			if (!rp->groups[i].suppressed &&
			    (min == NULL || rp->groups[i].count < min->count))
				min = &rp->groups[i];
		if (min == NULL)
			break;
		min->suppressed = true;
		out->suppressed_groups++;
		out->suppressed_records += min->count;
	}
	for (i = 0; i < rp->ngroups; i++) {
		p = &rp->groups[i];
		if (p->suppressed)
			continue;
		if ((g = arena_alloc(&j->ar, sizeof(*g))) == NULL)
			return -1;
		privd__v1__aggregate_group__init(g);
		g->missing = p->missing;
		if (p->keylen > 0) {
			if ((g->key.data = arena_alloc(&j->ar, p->keylen)) ==
			    NULL)
				return -1;
			memcpy(g->key.data, p->key, p->keylen);
			g->key.len = p->keylen;
		}
		g->count = p->count;
		if (rp->field->type == POL_FT_INTEGER && !p->overflow) {
			g->sum = p->sum;
			g->min = p->min;
			g->max = p->max;
			g->mean = (double)p->sum / (double)p->count;
		}
		out->groups[out->n_groups++] = g;
	}
	return 0;
}

static void
report_free(report *rp)
{
	size_t i;

	for (i = 0; i < rp->ngroups; i++)
		wipe_free(rp->groups[i].key, rp->groups[i].keylen);
	free(rp->groups);
}

void
do_aggregate(worker *w, job *j)
{
	Privd__V1__AggregateRequest *rq = j->req->aggregate;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__AggregateResponse ar = PRIVD__V1__AGGREGATE_RESPONSE__INIT;
	char *names[2] = {rq->field, rq->group_by};
	const pol_purpose *pp;
	pol_decision d;
	report rp;
	int rc;

	memset(&rp, 0, sizeof(rp));
	if (!name_ok(rq->register_) || !name_ok(j->req->purpose) ||
	    !name_ok(rq->field) ||
	    (rq->group_by[0] != '\0' && !name_ok(rq->group_by))) {
		job_fail(j, ST(INVALID), 0,
		    "register, purpose, field (and group_by, if given) must be "
		    "1..%d bytes",
		    POL_MAX_NAME);
		return;
	}
	if (rq->group_by[0] != '\0' && strcmp(rq->group_by, rq->field) == 0) {
		job_fail(j, ST(INVALID), 0, "group_by names the field itself");
		return;
	}
	if (worker_decide(w, j, rq->register_, NULL, POL_OP_READ, names,
	        rq->group_by[0] != '\0' ? 2 : 1, &d) != 0)
		return;
	pp = pol_purpose_find(j->reg, j->req->purpose);
	rp.purpose = pp;
	if (pp == NULL || !pp->statistical) {
		job_fail(j, ST(DENIED), POL_DENY_NO_GRANT,
		    "purpose %s of register %s is not statistical: it reads "
		    "no aggregates",
		    j->req->purpose, j->reg->name);
		return;
	}
	rp.reg = j->reg;
	rp.field = pol_field_find(j->reg, rq->field);
	if (rq->group_by[0] != '\0') {
		rp.by = pol_field_find(j->reg, rq->group_by);
		if (rp.by->identifying) {
			job_fail(j, ST(INVALID), 0,
			    "field %s is identifying: a report cannot group by "
			    "it",
			    rp.by->name);
			return;
		}
	}
	rc = scan(w, &rp, STORE_RET_SUB, CRYPTO_SUBJECT_IDBYTES);
	if (rc == 0)
		rc = scan(w, &rp, STORE_ANON, RET_ANON_IDBYTES);
	if (rc != 0) {
		worker_read_fail(j, rc, "report", "the report failed");
	} else if (rp.too_many) {
		job_fail(j, ST(INVALID), 0,
		    "field %s has more than %d distinct values: too many "
		    "groups",
		    rp.by->name, REPORT_MAX_GROUPS);
	} else if (answer(j, &rp, &ar) != 0) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
	} else {
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_AGGREGATE;
		resp.aggregate = &ar;
		job_ok(j, &resp);
	}
	report_free(&rp);
}
