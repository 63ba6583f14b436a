/*
 * sweep.c - the retention sweeper (sweep.h).
 */
#include "sweep.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "retplan.h"

#define ST(x) PRIVD__V1__STATUS__##x

sweep *
sweep_new(uint64_t as_of_us, bool preview, const char *reg, uint64_t limit)
{
	sweep *sw;

	if ((sw = calloc(1, sizeof(*sw))) == NULL)
		return NULL;
	sw->as_of_us = as_of_us;
	sw->preview = preview;
	if (reg != NULL)
		snprintf(sw->reg, sizeof(sw->reg), "%s", reg);
	sw->limit = limit;
	sw->anon_left = true;
	return sw;
}

static void
mark_free(sweep *sw)
{
	free(sw->mark.fields);
	free(sw->mark.held);
	free(sw->mark.nsids);
	free(sw->mark.anon);
	sw->mark.anon = NULL;
	sw->mark.fields = sw->mark.held = NULL;
	sw->mark.nsids = NULL;
	sw->mark.valid = false;
}

void
sweep_free(sweep **swp)
{
	sweep *sw;
	size_t i;

	if (swp == NULL || (sw = *swp) == NULL)
		return;
	for (i = 0; i < sw->ncounts; i++)
		free(sw->counts[i].sids);
	free(sw->counts);
	free(sw->evs);
	mark_free(sw);
	free(sw);
	*swp = NULL;
}

/* Remember the state before a step, or go back to it for a retry. */
static int
mark_or_rollback(sweep *sw)
{
	size_t i, n;

	if (sw->mark.valid) {
		memcpy(sw->pos, sw->mark.pos, sizeof(sw->pos));
		sw->poslen = sw->mark.poslen;
		sw->examined = sw->mark.examined;
		sw->actions = sw->mark.actions;
		sw->phase = sw->mark.phase;
		sw->preg = sw->mark.preg;
		memcpy(sw->ppos, sw->mark.ppos, sizeof(sw->ppos));
		sw->ppos_len = sw->mark.ppos_len;
		sw->anon_left = sw->mark.anon_left;
		for (i = sw->mark.ncounts; i < sw->ncounts; i++)
			free(sw->counts[i].sids);
		sw->ncounts = sw->mark.ncounts;
		for (i = 0; i < sw->ncounts; i++) {
			sw->counts[i].fields = sw->mark.fields[i];
			sw->counts[i].held = sw->mark.held[i];
			sw->counts[i].nsids = sw->mark.nsids[i];
			sw->counts[i].anon = sw->mark.anon[i];
		}
		sw->done = sw->more = false;
		sw->nevs = 0;
		return 0;
	}
	n = sw->ncounts ? sw->ncounts : 1;
	sw->mark.fields = calloc(n, sizeof(uint64_t));
	sw->mark.held = calloc(n, sizeof(uint64_t));
	sw->mark.nsids = calloc(n, sizeof(size_t));
	sw->mark.anon = calloc(n, sizeof(uint64_t));
	if (sw->mark.fields == NULL || sw->mark.held == NULL ||
	    sw->mark.nsids == NULL || sw->mark.anon == NULL) {
		mark_free(sw);
		return ENOMEM;
	}
	memcpy(sw->mark.pos, sw->pos, sizeof(sw->pos));
	sw->mark.poslen = sw->poslen;
	sw->mark.examined = sw->examined;
	sw->mark.actions = sw->actions;
	sw->mark.phase = sw->phase;
	sw->mark.preg = sw->preg;
	memcpy(sw->mark.ppos, sw->ppos, sizeof(sw->ppos));
	sw->mark.ppos_len = sw->ppos_len;
	sw->mark.anon_left = sw->anon_left;
	sw->mark.ncounts = sw->ncounts;
	for (i = 0; i < sw->ncounts; i++) {
		sw->mark.fields[i] = sw->counts[i].fields;
		sw->mark.held[i] = sw->counts[i].held;
		sw->mark.nsids[i] = sw->counts[i].nsids;
		sw->mark.anon[i] = sw->counts[i].anon;
	}
	sw->mark.valid = true;
	sw->nevs = 0;
	return 0;
}

void
sweep_committed(sweep *sw)
{
	mark_free(sw);
}

static sweep_count *
count_of(sweep *sw, const char *reg, const char *rule, const char *action)
{
	sweep_count *c;
	size_t i;

	for (i = 0; i < sw->ncounts; i++) {
		c = &sw->counts[i];
		if (strcmp(c->reg, reg) == 0 && strcmp(c->rule, rule) == 0 &&
		    strcmp(c->action, action) == 0)
			return c;
	}
	c = realloc(sw->counts, (sw->ncounts + 1) * sizeof(*c));
	if (c == NULL)
		return NULL;
	sw->counts = c;
	c = &sw->counts[sw->ncounts++];
	memset(c, 0, sizeof(*c));
	snprintf(c->reg, sizeof(c->reg), "%s", reg);
	snprintf(c->rule, sizeof(c->rule), "%s", rule);
	c->action = action;
	return c;
}

static int
count_sid(sweep_count *c, const uint8_t *sid)
{
	uint64_t v, *p;

	memcpy(&v, sid, sizeof(v));
	if (c->nsids > 0 && c->sids[c->nsids - 1] == v)
		return 0;
	if (c->nsids == c->capsids) {
		p = realloc(
		    c->sids, (c->capsids ? c->capsids * 2 : 64) * sizeof(*p));
		if (p == NULL)
			return ENOMEM;
		c->sids = p;
		c->capsids = c->capsids ? c->capsids * 2 : 64;
	}
	c->sids[c->nsids++] = v;
	return 0;
}

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void
sweep_finish(sweep *sw)
{
	sweep_count *c;
	size_t i, j, n;

	for (i = 0; i < sw->ncounts; i++) {
		c = &sw->counts[i];
		if (c->nsids > 0)
			qsort(c->sids, c->nsids, sizeof(*c->sids), u64_cmp);
		for (j = n = 0; j < c->nsids; j++)
			if (j == 0 || c->sids[j] != c->sids[j - 1])
				n++;
		c->subjects = n;
	}
}

/*
 * One (subject, rule) action of a step: its fields, and the event. For an
 * anonymisation, also the plaintext of the fields it keeps (the
 * non-identifying ones), which become one anonymous record.
 */
typedef struct group {
	bool open;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	const pol_register *reg;
	const pol_retention *rule;
	const char *op;
	char *fields[POL_MAX_FIELDS];
	size_t nfields;
	bool has_sub; /* rs holds the subject's retention record */
	ret_sub rs;
	/* anonymisation */
	uint8_t *buf;
	size_t len, cap;
	uint64_t collected_us; /* the earliest first write of the fields */
} group;

/* The groups of a step: every (subject, rule) action of the step is one
 * group and one event, however its entries interleave with others' in the
 * due index. The data key in e->dk is the subject dk_sid's. */
typedef struct groups {
	group *v;
	size_t n, cap;
	bool dk_valid;
	uint8_t dk_sid[CRYPTO_SUBJECT_IDBYTES];
} groups;

static int
add_event(sweep *sw, const Privd__V1__AuditEvent *ev)
{
	sweep_event *p;

	if (sw->nevs == sw->capevs) {
		p = realloc(
		    sw->evs, (sw->capevs ? sw->capevs * 2 : 64) * sizeof(*p));
		if (p == NULL)
			return ENOMEM;
		sw->evs = p;
		sw->capevs = sw->capevs ? sw->capevs * 2 : 64;
	}
	p = &sw->evs[sw->nevs++];
	p->seq = ev->seq;
	p->has_pseudo = ev->subject.len == CRYPTO_PSEUDONYMBYTES;
	if (p->has_pseudo)
		memcpy(p->pseudo, ev->subject.data, CRYPTO_PSEUDONYMBYTES);
	return 0;
}

static void
group_wipe(group *g)
{
	if (g->buf != NULL)
		sodium_memzero(g->buf, g->cap);
	free(g->buf);
	g->buf = NULL;
	g->len = g->cap = 0;
	sodium_memzero(&g->rs, sizeof(g->rs));
}

/* An event of the sweeper's own. */
static int
sweep_event_append(const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a,
    Privd__V1__AuditEvent *ev, uint64_t now)
{
	int rc;

	ev->principal = "retention";
	ev->status = ST(OK);
	ev->policy_version = e->policy_version;
	if ((rc = audit_append_event(e->st, txn, a, ev, now)) != 0)
		return rc;
	return add_event(sw, ev);
}

/*
 * The end of a group: the anonymous record it makes, its audit event, and
 * the subject's own records if it has no field left (or the mark that its
 * relationship end was acted on, so that it can no longer be undone).
 */
static int
group_flush(const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a,
    group *g, uint64_t now)
{
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	uint8_t pseudo[CRYPTO_PSEUDONYMBYTES];
	unsigned n;
	bool any;
	int rc;

	if (!g->open)
		return 0;
	g->open = false;
	if (g->len > 0 &&
	    (rc = ret_anon_put(e->st, txn, e->keys, g->reg->name,
	         ret_month_of(g->collected_us), g->buf, g->len)) != 0)
		goto out;
	ev.op = (char *)g->op;
	ev.register_ = g->reg->name;
	ev.fields = g->fields;
	ev.n_fields = g->nfields;
	ev.rule = g->rule->id;
	if (g->has_sub) {
		crypto_pseudonym(e->keys, (const uint8_t *)g->rs.subject,
		    g->rs.subjlen, pseudo);
		ev.subject.data = pseudo;
		ev.subject.len = sizeof(pseudo);
	}
	if ((rc = sweep_event_append(e, txn, sw, a, &ev, now)) != 0 ||
	    (rc = retplan_has_values(e->st, txn, g->sid, &any)) != 0)
		goto out;
	if (!any) {
		rc = store_subject_delete(e->st, txn, g->sid, &n);
		if ((rc != 0 && rc != MDB_NOTFOUND) ||
		    (rc = ret_plan_drop_subject(e->st, txn, g->sid)) != 0)
			goto out;
		rc = ret_sub_del(e->st, txn, g->reg->name, g->sid);
		goto out;
	}
	rc = 0;
	if (g->has_sub && strcmp(g->rule->from, "relationship_end") == 0 &&
	    (g->rs.flags & RET_SUB_REL_ACTED) == 0) {
		g->rs.flags |= RET_SUB_REL_ACTED;
		rc = ret_sub_put(
		    e->st, txn, e->keys, g->reg->name, g->sid, &g->rs);
	}
out:
	group_wipe(g);
	return rc;
}

/* Leave the entry at pos where it is: the next one is after it. */
static void
advance(sweep *sw)
{
	sw->pos[sw->poslen++] = 0;
}

/* The subject's retention record, read once per subject in a step. */
typedef struct sub_cache {
	bool valid, found;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	char reg[POL_MAX_NAME + 1];
	ret_sub rs;
} sub_cache;

static int
sub_get(const sweep_env *e, MDB_txn *txn, sub_cache *sc, const char *reg,
    const uint8_t *sid)
{
	int rc;

	if (sc->valid && memcmp(sc->sid, sid, sizeof(sc->sid)) == 0 &&
	    strcmp(sc->reg, reg) == 0)
		return 0;
	sc->valid = false;
	rc = ret_sub_get(e->st, txn, e->keys, reg, sid, &sc->rs);
	if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_CORRUPTED)
		return rc;
	sc->found = rc == 0; /* a damaged record: act, unnamed */
	memcpy(sc->sid, sid, sizeof(sc->sid));
	snprintf(sc->reg, sizeof(sc->reg), "%s", reg);
	sc->valid = true;
	return 0;
}

/* Forget a plan the sweep found stale (run only). */
static int
drop_plan(sweep *sw, MDB_txn *txn, const sweep_env *e, const ret_due *d)
{
	if (sw->preview)
		return 0;
	return ret_plan_set(e->st, txn, d->reg, d->sid, d->field, RET_NEVER);
}

/* What a step knows of each register's contract end. */
typedef struct reg_ends {
	size_t n;
	struct {
		const pol_register *r;
		uint64_t end; /* 0: none */
		bool purging; /* its contract-end purge is due */
	} v[POL_MAX_REGISTERS];
} reg_ends;

static bool purge_due(const pol_register *r, uint64_t end, uint64_t t);

static int
reg_end(const sweep_env *e, MDB_txn *txn, const sweep *sw, reg_ends *re,
    const pol_register *r, uint64_t *end, bool *purging)
{
	uint8_t flags;
	size_t i;
	int rc;

	for (i = 0; i < re->n; i++)
		if (re->v[i].r == r) {
			*end = re->v[i].end;
			*purging = re->v[i].purging;
			return 0;
		}
	if ((rc = ret_reg_get(e->st, txn, r->name, end, &flags)) != 0)
		return rc;
	*purging = *end != 0 && purge_due(r, *end, sw->as_of_us);
	if (re->n < POL_MAX_REGISTERS) {
		re->v[re->n].r = r;
		re->v[re->n].end = *end;
		re->v[re->n].purging = *purging;
		re->n++;
	}
	return 0;
}

/* Append one kept value to an anonymisation's record. */
static int
group_keep(group *g, const char *name, const uint8_t *m, size_t mlen)
{
	size_t nl = strlen(name), need = g->len + 5 + nl + mlen, cap;
	uint8_t *p;

	if (need > g->cap) {
		cap = g->cap ? g->cap : 1024;
		while (cap < need)
			cap *= 2;
		if ((p = malloc(cap)) == NULL)
			return ENOMEM;
		if (g->buf != NULL) {
			memcpy(p, g->buf, g->len);
			sodium_memzero(g->buf, g->cap);
			free(g->buf);
		}
		g->buf = p;
		g->cap = cap;
	}
	p = g->buf + g->len;
	p[0] = (uint8_t)nl;
	memcpy(p + 1, name, nl);
	p[1 + nl] = (uint8_t)(mlen >> 24);
	p[2 + nl] = (uint8_t)(mlen >> 16);
	p[3 + nl] = (uint8_t)(mlen >> 8);
	p[4 + nl] = (uint8_t)mlen;
	memcpy(p + 5 + nl, m, mlen);
	g->len = need;
	return 0;
}

/*
 * Anonymise one field: a non-identifying one is opened with the subject's
 * key and kept for the group's anonymous record; an identifying one is
 * only dropped. A value that cannot be opened (no subject id on record, a
 * damaged key or value) is dropped too, and said in the log: anonymisation
 * never keeps what it cannot vouch for.
 */
static int
anonymise(const sweep_env *e, MDB_txn *txn, groups *gs, group *g,
    const pol_field *f, const store_value *sv)
{
	static log_limit lim;
	uint8_t hdr[STORE_SUBJECT_HDRBYTES];
	store_subject sub;
	uint8_t *m;
	size_t mlen;
	int rc;

	if (f->identifying)
		return 0;
	if (!g->has_sub)
		goto drop;
	if (!gs->dk_valid || memcmp(gs->dk_sid, g->sid, sizeof(g->sid)) != 0) {
		gs->dk_valid = false;
		if (store_subject_get(e->st, txn, g->sid, &sub) != 0)
			goto drop;
		store_subject_header(hdr, sub.created_us);
		if (crypto_key_unwrap(e->keys, g->reg->name,
		        (const uint8_t *)g->rs.subject, g->rs.subjlen, hdr,
		        sizeof(hdr), sub.wrapped, e->dk) != 0)
			goto drop;
		memcpy(gs->dk_sid, g->sid, sizeof(g->sid));
		gs->dk_valid = true;
	}
	if (sv->sealedlen < CRYPTO_SEAL_OVERHEAD)
		goto drop;
	mlen = sv->sealedlen - CRYPTO_SEAL_OVERHEAD;
	if ((m = malloc(mlen ? mlen : 1)) == NULL)
		return ENOMEM;
	if (crypto_value_open(e->dk, g->reg->name,
	        (const uint8_t *)g->rs.subject, g->rs.subjlen, f->name, sv->hdr,
	        sv->hdrlen, sv->sealed, sv->sealedlen, m) != 0) {
		free(m);
		goto drop;
	}
	rc = group_keep(g, f->name, m, mlen);
	sodium_memzero(m, mlen);
	free(m);
	if (rc == 0 &&
	    (g->collected_us == 0 || sv->created_us < g->collected_us))
		g->collected_us = sv->created_us;
	return rc;
drop:
	log_limited(&lim, LOG_WARN,
	    "retention: a value of register %s could not be opened for "
	    "anonymisation and is dropped",
	    g->reg->name);
	return 0;
}

/*
 * Act on one due field (r, f) of subject sid under plan: count it, or,
 * held, count it as held; in a run, delete or anonymise it as part of the
 * (subject, rule) group. *acted is set if it was acted on.
 */
static int
act(const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a, groups *gs,
    sub_cache *sc, const pol_register *r, const pol_field *f,
    const uint8_t *sid, const store_value *sv, const pol_plan *plan,
    const char *op, uint64_t now, bool *acted)
{
	const char *action =
	    strcmp(op, "retention_anonymize") == 0  ? "anonymize"
	    : strcmp(op, "contract_end_purge") == 0 ? "contract_end_purge"
	                                            : "delete";
	sweep_count *c;
	ret_hold hold;
	group *g;
	size_t i;
	bool held;
	int rc;

	*acted = false;
	if ((c = count_of(sw, r->name, plan->rule->id, action)) == NULL)
		return ENOMEM;
	rc = ret_hold_find(
	    e->st, txn, e->keys, r->name, sid, sw->as_of_us, &held, &hold);
	sodium_memzero(&hold, sizeof(hold));
	if (rc != 0)
		return rc;
	if (held) {
		c->held++;
		return 0;
	}
	c->fields++;
	sw->actions++;
	*acted = true;
	if ((rc = count_sid(c, sid)) != 0 || sw->preview)
		return rc;
	for (i = 0; i < gs->n; i++) {
		g = &gs->v[i];
		if (memcmp(g->sid, sid, sizeof(g->sid)) == 0 &&
		    g->rule == plan->rule && g->reg == r &&
		    strcmp(g->op, op) == 0 && g->nfields < POL_MAX_FIELDS)
			break;
	}
	if (i == gs->n) {
		if (gs->n == gs->cap) {
			g = realloc(
			    gs->v, (gs->cap ? gs->cap * 2 : 16) * sizeof(*g));
			if (g == NULL)
				return ENOMEM;
			gs->v = g;
			gs->cap = gs->cap ? gs->cap * 2 : 16;
		}
		if ((rc = sub_get(e, txn, sc, r->name, sid)) != 0)
			return rc;
		g = &gs->v[gs->n++];
		memset(g, 0, sizeof(*g));
		g->open = true;
		memcpy(g->sid, sid, sizeof(g->sid));
		g->reg = r;
		g->rule = plan->rule;
		g->op = op;
		g->has_sub = sc->found;
		if (sc->found)
			g->rs = sc->rs;
	}
	g->fields[g->nfields++] = f->name;
	if (strcmp(op, "retention_anonymize") == 0 &&
	    (rc = anonymise(e, txn, gs, g, f, sv)) != 0)
		return rc;
	if ((rc = ret_plan_set(e->st, txn, r->name, sid, f->name, RET_NEVER)) !=
	    0)
		return rc;
	return store_value_del(e->st, txn, sid, f->name);
}

/* The end of a step: every group's record and event, in the order the
 * groups began. */
static int
groups_flush(const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a,
    groups *gs, uint64_t now)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < gs->n && rc == 0; i++)
		rc = group_flush(e, txn, sw, a, &gs->v[i], now);
	return rc;
}

static void
groups_free(groups *gs)
{
	size_t i;

	for (i = 0; i < gs->n; i++)
		group_wipe(&gs->v[i]);
	free(gs->v);
	memset(gs, 0, sizeof(*gs));
}

static const char *
op_of(const pol_retention *rule)
{
	if (strcmp(rule->from, "contract_end") == 0 &&
	    strcmp(rule->action, "delete") == 0)
		return "contract_end_purge";
	if (strcmp(rule->action, "anonymize") == 0)
		return "retention_anonymize";
	return "retention_delete";
}

/* The due-time index, phase 1 of a sweep. */
static int
step_due(const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a,
    groups *gs, sub_cache *sc, reg_ends *re, uint64_t now, uint64_t *examined,
    uint64_t *acted)
{
	const pol_register *r;
	const pol_field *f;
	uint8_t last[8 + CRYPTO_SUBJECT_IDBYTES];
	store_value sv;
	pol_plan plan;
	ret_due d;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t due, end;
	bool did, purging, have_last = false;
	int rc;

	if ((rc = mdb_cursor_open(txn, e->st->ret_due, &cur)) != 0)
		return rc;
	for (;;) {
		k.mv_size = sw->poslen;
		k.mv_data = sw->pos;
		rc = sw->poslen == 0
		         ? mdb_cursor_get(cur, &k, &v, MDB_FIRST)
		         : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		/* an entry privd did not write (it does not decode): step
		 * over it, to the next one that does */
		while (rc == 0 && ret_due_decode(&k, &v, &d) != 0)
			rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
		if (rc == MDB_NOTFOUND) {
			sw->phase = 1;
			rc = 0;
			break;
		}
		if (rc != 0)
			break;
		if (d.due_us > sw->as_of_us) {
			sw->phase = 1;
			break;
		}
		/* a step ends at its bounds, but not inside the fields of
		 * one subject due at one time: they are one action, one
		 * event and one anonymous record */
		if ((*examined >= SWEEP_STEP_EXAMINE ||
		        (!sw->preview && *acted >= SWEEP_STEP_ACTIONS)) &&
		    !(have_last && memcmp(k.mv_data, last, sizeof(last)) == 0))
			break;
		if (sw->limit != 0 && sw->actions >= sw->limit) {
			sw->more = sw->done = true;
			break;
		}
		memcpy(sw->pos, k.mv_data, k.mv_size);
		sw->poslen = k.mv_size;
		d.sid = sw->pos + 8; /* the page may change under the key */
		(*examined)++;
		sw->examined++;
		rc = 0;
		did = false;
		if (sw->reg[0] != '\0' && strcmp(sw->reg, d.reg) != 0)
			goto next;
		if ((r = pol_register_find(e->pol, d.reg)) == NULL ||
		    (f = pol_field_find(r, d.field)) == NULL) {
			/* no longer declared: nothing plans it */
			rc = drop_plan(sw, txn, e, &d);
			goto next;
		}
		if ((rc = reg_end(e, txn, sw, re, r, &end, &purging)) != 0)
			break;
		if (purging)
			goto next; /* the purge (phase 2) takes it */
		rc = store_value_get(e->st, txn, d.sid, f->name, &sv);
		if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
			rc = drop_plan(sw, txn, e, &d);
			goto next;
		}
		if (rc != 0 || (rc = sub_get(e, txn, sc, r->name, d.sid)) != 0)
			break;
		retplan_compute(r, f, sv.created_us, sv.updated_us,
		    sc->found ? sc->rs.rel_end_us : 0, end, &plan);
		due = retplan_due(&plan);
		if (due > sw->as_of_us) {
			/* the plan moved (a rewrite, a policy change) */
			if (!sw->preview)
				rc = ret_plan_set(
				    e->st, txn, r->name, d.sid, f->name, due);
			goto next;
		}
		rc = act(e, txn, sw, a, gs, sc, r, f, d.sid, &sv, &plan,
		    op_of(plan.rule), now, &did);
		if (did) {
			(*acted)++;
			memcpy(last, sw->pos, sizeof(last));
			have_last = true;
		}
	next:
		if (rc != 0)
			break;
		/* past this entry, whether it is still there or not */
		advance(sw);
	}
	mdb_cursor_close(cur);
	return rc;
}

/* Is a rule counting from the contract end of register r (ended at end)
 * due at t? */
static bool
purge_due(const pol_register *r, uint64_t end, uint64_t t)
{
	int64_t at;
	size_t i;

	for (i = 0; i < r->nretention; i++)
		if (r->retention[i].action != NULL &&
		    strcmp(r->retention[i].from, "contract_end") == 0 &&
		    pol_time_add((int64_t)end, &r->retention[i].after, &at) ==
		        0 &&
		    at >= 0 && (uint64_t)at <= t)
			return true;
	return false;
}

/* The rule that destroys the register's anonymous records at its
 * contract end: a due contract-end delete on every category. */
static const pol_retention *
purge_anon_rule(const pol_register *r, uint64_t end, uint64_t t)
{
	const pol_retention *rt;
	int64_t at;
	size_t i, c;

	for (i = 0; i < r->nretention; i++) {
		rt = &r->retention[i];
		if (rt->action == NULL || strcmp(rt->action, "delete") != 0 ||
		    strcmp(rt->from, "contract_end") != 0 ||
		    pol_time_add((int64_t)end, &rt->after, &at) != 0 ||
		    at < 0 || (uint64_t)at > t)
			continue;
		for (c = 0; c < rt->ncategories; c++)
			if (strcmp(rt->categories[c], "*") == 0)
				return rt;
	}
	return NULL;
}

/* The due contract-end rule with an action that covers field f, the
 * earliest (a delete before an anonymisation at the same time), or NULL. */
static const pol_retention *
purge_rule(const pol_register *r, const pol_field *f, uint64_t end, uint64_t t)
{
	const pol_retention *rt, *best = NULL;
	int64_t at, best_at = 0;
	size_t i, c;
	bool covers;

	for (i = 0; i < r->nretention; i++) {
		rt = &r->retention[i];
		if (rt->action == NULL ||
		    strcmp(rt->from, "contract_end") != 0 ||
		    pol_time_add((int64_t)end, &rt->after, &at) != 0 ||
		    at < 0 || (uint64_t)at > t)
			continue;
		for (c = 0, covers = false; c < rt->ncategories && !covers; c++)
			covers = strcmp(rt->categories[c], "*") == 0 ||
			         strcmp(rt->categories[c], f->category) == 0;
		if (!covers)
			continue;
		if (best == NULL || at < best_at ||
		    (at == best_at && strcmp(rt->action, "delete") == 0 &&
		        strcmp(best->action, "delete") != 0)) {
			best = rt;
			best_at = at;
		}
	}
	return best;
}

/* Every stored field of one subject under the plan with the contract end. */
static int
purge_subject(const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a,
    groups *gs, sub_cache *sc, const pol_register *r, const uint8_t *sid,
    uint64_t end, uint64_t now, uint64_t *acted)
{
	const pol_field *fs[POL_MAX_FIELDS];
	char name[CRYPTO_MAX_NAME + 1];
	const pol_retention *rule;
	pol_field_times t;
	store_value sv;
	pol_plan plan;
	MDB_cursor *c;
	MDB_val k = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	size_t n = 0, i, flen;
	bool did;
	int rc;

	if ((rc = mdb_cursor_open(txn, e->st->values, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= CRYPTO_SUBJECT_IDBYTES ||
		    memcmp(k.mv_data, sid, CRYPTO_SUBJECT_IDBYTES) != 0)
			break;
		flen = k.mv_size - CRYPTO_SUBJECT_IDBYTES;
		if (flen > CRYPTO_MAX_NAME || n == POL_MAX_FIELDS)
			continue;
		memcpy(
		    name, (uint8_t *)k.mv_data + CRYPTO_SUBJECT_IDBYTES, flen);
		name[flen] = '\0';
		if ((fs[n] = pol_field_find(r, name)) != NULL)
			n++;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if ((rc = sub_get(e, txn, sc, r->name, sid)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = store_value_get(e->st, txn, sid, fs[i]->name, &sv);
		if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED)
			continue;
		if (rc != 0)
			return rc;
		t.collected_us = (int64_t)sv.created_us;
		t.updated_us = (int64_t)sv.updated_us;
		t.relationship_end_us =
		    sc->found ? (int64_t)sc->rs.rel_end_us : 0;
		t.contract_end_us = (int64_t)end;
		pol_retention_plan(r, fs[i], &t, &plan);
		if (retplan_due(&plan) > sw->as_of_us)
			continue;
		/* the contract end is what acts, when one of its rules
		 * covers the field: a purge, even if an earlier rule was
		 * due too */
		if ((rule = purge_rule(r, fs[i], end, sw->as_of_us)) != NULL)
			plan.rule = rule;
		if ((rc = act(e, txn, sw, a, gs, sc, r, fs[i], sid, &sv, &plan,
		         op_of(plan.rule), now, &did)) != 0)
			return rc;
		if (did)
			(*acted)++;
	}
	return 0;
}

/* The anonymous records of a purged register: gone, counted, one event
 * per step. */
static int
purge_anon(const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a,
    const pol_register *r, const pol_retention *rule, uint64_t now,
    uint64_t *acted, bool *more)
{
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	sweep_count *c;
	MDB_cursor *cur;
	MDB_val k, v;
	ret_hold hold;
	size_t n = 0;
	bool held;
	int rc;

	*more = false;
	if ((c = count_of(sw, r->name, rule->id, "contract_end_purge")) == NULL)
		return ENOMEM;
	/* a whole-register hold keeps them too (a damaged one as well) */
	rc = ret_hold_get(e->st, txn, e->keys, r->name, NULL, &hold);
	held = (rc == 0 && ret_hold_active(&hold, sw->as_of_us)) ||
	       rc == MDB_CORRUPTED;
	sodium_memzero(&hold, sizeof(hold));
	if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_CORRUPTED)
		return rc;
	if (held || sw->preview) {
		pre[0] = (uint8_t)strlen(r->name);
		memcpy(pre + 1, r->name, pre[0]);
		if ((rc = mdb_cursor_open(txn, e->st->anon, &cur)) != 0)
			return rc;
		k.mv_size = 1 + (size_t)pre[0];
		k.mv_data = pre;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size < 1u + pre[0] ||
			    memcmp(k.mv_data, pre, 1u + pre[0]) != 0)
				break;
			n++;
		}
		mdb_cursor_close(cur);
		if (held)
			c->held += n;
		else
			c->anon += n;
		return rc == MDB_NOTFOUND ? 0 : rc;
	}
	if ((rc = ret_anon_drop(
	         e->st, txn, r->name, SWEEP_STEP_ACTIONS, &n, more)) != 0 ||
	    n == 0)
		return rc;
	c->anon += n;
	*acted += n;
	ev.op = "contract_end_purge";
	ev.register_ = r->name;
	ev.rule = rule->id;
	return sweep_event_append(e, txn, sw, a, &ev, now);
}

/* Contract-end purges, phase 2 of a sweep: every subject of a register
 * whose contract-end rules are due, through ret_sub. */
static int
step_purge(const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a,
    groups *gs, sub_cache *sc, uint64_t now, uint64_t *examined,
    uint64_t *acted)
{
	const pol_register *r;
	const pol_retention *anon;
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t end;
	uint8_t flags;
	size_t plen;
	bool more;
	int rc = 0;

	for (; sw->preg < e->pol->nregisters;
	     sw->preg++, sw->ppos_len = 0, sw->anon_left = true) {
		r = &e->pol->registers[sw->preg];
		if (sw->reg[0] != '\0' && strcmp(sw->reg, r->name) != 0)
			continue;
		if ((rc = ret_reg_get(e->st, txn, r->name, &end, &flags)) != 0)
			return rc;
		if (end == 0 || !purge_due(r, end, sw->as_of_us))
			continue;
		if (!sw->preview && (flags & RET_REG_PURGING) == 0 &&
		    (rc = ret_reg_put(e->st, txn, r->name, end,
		         flags | RET_REG_PURGING)) != 0)
			return rc;
		plen = 1 + strlen(r->name);
		pre[0] = (uint8_t)(plen - 1);
		memcpy(pre + 1, r->name, plen - 1);
		if (sw->ppos_len == 0) {
			memcpy(sw->ppos, pre, plen);
			sw->ppos_len = plen;
		}
		for (;;) {
			if (*examined >= SWEEP_STEP_EXAMINE ||
			    (!sw->preview && *acted >= SWEEP_STEP_ACTIONS))
				return 0;
			if (sw->limit != 0 && sw->actions >= sw->limit) {
				sw->more = sw->done = true;
				return 0;
			}
			if ((rc = mdb_cursor_open(txn, e->st->ret_sub, &cur)) !=
			    0)
				return rc;
			k.mv_size = sw->ppos_len;
			k.mv_data = sw->ppos;
			rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
			/* step over keys of the register privd did not
			 * write (of another length) */
			while (rc == 0 && k.mv_size >= plen &&
			       memcmp(k.mv_data, pre, plen) == 0 &&
			       k.mv_size != plen + CRYPTO_SUBJECT_IDBYTES)
				rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
			if (rc == 0 &&
			    (k.mv_size != plen + CRYPTO_SUBJECT_IDBYTES ||
			        memcmp(k.mv_data, pre, plen) != 0))
				rc = MDB_NOTFOUND;
			if (rc == 0) {
				memcpy(sw->ppos, k.mv_data, k.mv_size);
				sw->ppos_len = k.mv_size;
			}
			mdb_cursor_close(cur);
			if (rc == MDB_NOTFOUND)
				break;
			if (rc != 0)
				return rc;
			(*examined)++;
			sw->examined++;
			/* sid is copied: the purge may delete the record */
			if ((rc = purge_subject(e, txn, sw, a, gs, sc, r,
			         sw->ppos + plen, end, now, acted)) != 0)
				return rc;
			sw->ppos[sw->ppos_len++] = 0; /* past this subject */
		}
		if (sw->anon_left &&
		    (anon = purge_anon_rule(r, end, sw->as_of_us)) != NULL) {
			if ((rc = purge_anon(e, txn, sw, a, r, anon, now, acted,
			         &more)) != 0)
				return rc;
			if (more) {
				sw->ppos_len =
				    plen + CRYPTO_SUBJECT_IDBYTES + 1;
				memset(sw->ppos + plen, 0xff,
				    CRYPTO_SUBJECT_IDBYTES);
				return 0; /* the next step goes on */
			}
			sw->anon_left = false;
		}
	}
	sw->done = true;
	return 0;
}

int
sweep_step(
    const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a, uint64_t now)
{
	uint64_t examined = 0, acted = 0;
	sub_cache sc = {0};
	groups gs = {0};
	reg_ends re = {0};
	size_t expired;
	int rc = 0;

	if (!sw->preview && (rc = mark_or_rollback(sw)) != 0)
		return rc;
	/* a run begins with the holds that ended: they hold nothing now */
	if (!sw->preview && sw->phase == 0 && sw->poslen == 0 &&
	    (rc = ret_hold_expire(e->st, txn, sw->as_of_us, &expired)) != 0)
		return rc;
	if (sw->phase == 0)
		rc = step_due(
		    e, txn, sw, a, &gs, &sc, &re, now, &examined, &acted);
	/* the anonymous records this step made exist before a purge that
	 * destroys the register's records runs */
	if (rc == 0 && !sw->preview)
		rc = groups_flush(e, txn, sw, a, &gs, now);
	groups_free(&gs);
	sc.valid = false;
	if (rc == 0 && sw->phase == 1 && !sw->done)
		rc =
		    step_purge(e, txn, sw, a, &gs, &sc, now, &examined, &acted);
	if (rc == 0 && !sw->preview)
		rc = groups_flush(e, txn, sw, a, &gs, now);
	groups_free(&gs);
	sodium_memzero(&sc, sizeof(sc));
	if (e->dk != NULL)
		sodium_memzero(e->dk, CRYPTO_KEYBYTES);
	return rc;
}
