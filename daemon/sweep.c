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
	return sw;
}

static void
mark_free(sweep *sw)
{
	free(sw->mark.fields);
	free(sw->mark.held);
	free(sw->mark.nsids);
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
		for (i = sw->mark.ncounts; i < sw->ncounts; i++)
			free(sw->counts[i].sids);
		sw->ncounts = sw->mark.ncounts;
		for (i = 0; i < sw->ncounts; i++) {
			sw->counts[i].fields = sw->mark.fields[i];
			sw->counts[i].held = sw->mark.held[i];
			sw->counts[i].nsids = sw->mark.nsids[i];
		}
		sw->done = sw->more = false;
		sw->nevs = 0;
		return 0;
	}
	n = sw->ncounts ? sw->ncounts : 1;
	sw->mark.fields = calloc(n, sizeof(uint64_t));
	sw->mark.held = calloc(n, sizeof(uint64_t));
	sw->mark.nsids = calloc(n, sizeof(size_t));
	if (sw->mark.fields == NULL || sw->mark.held == NULL ||
	    sw->mark.nsids == NULL) {
		mark_free(sw);
		return ENOMEM;
	}
	memcpy(sw->mark.pos, sw->pos, sizeof(sw->pos));
	sw->mark.poslen = sw->poslen;
	sw->mark.examined = sw->examined;
	sw->mark.actions = sw->actions;
	sw->mark.ncounts = sw->ncounts;
	for (i = 0; i < sw->ncounts; i++) {
		sw->mark.fields[i] = sw->counts[i].fields;
		sw->mark.held[i] = sw->counts[i].held;
		sw->mark.nsids[i] = sw->counts[i].nsids;
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

/* One (subject, rule) action of a step: its fields, and the event. */
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
} group;

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

/*
 * The end of a group: its audit event, and the subject's own records if
 * it has no field left (or the mark that its relationship end was acted
 * on, so that it can no longer be undone).
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
	ev.principal = "retention";
	ev.op = (char *)g->op;
	ev.register_ = g->reg->name;
	ev.fields = g->fields;
	ev.n_fields = g->nfields;
	ev.rule = g->rule->id;
	ev.status = ST(OK);
	ev.policy_version = e->policy_version;
	if (g->has_sub) {
		crypto_pseudonym(e->keys, (const uint8_t *)g->rs.subject,
		    g->rs.subjlen, pseudo);
		ev.subject.data = pseudo;
		ev.subject.len = sizeof(pseudo);
	}
	if ((rc = audit_append_event(e->st, txn, a, &ev, now)) != 0 ||
	    (rc = add_event(sw, &ev)) != 0)
		return rc;
	if ((rc = retplan_has_values(e->st, txn, g->sid, &any)) != 0)
		return rc;
	if (!any) {
		rc = store_subject_delete(e->st, txn, g->sid, &n);
		if (rc != 0 && rc != MDB_NOTFOUND)
			return rc;
		if ((rc = ret_plan_drop_subject(e->st, txn, g->sid)) != 0)
			return rc;
		return ret_sub_del(e->st, txn, g->reg->name, g->sid);
	}
	if (g->has_sub && strcmp(g->rule->from, "relationship_end") == 0 &&
	    (g->rs.flags & RET_SUB_REL_ACTED) == 0) {
		g->rs.flags |= RET_SUB_REL_ACTED;
		return ret_sub_put(
		    e->st, txn, e->keys, g->reg->name, g->sid, &g->rs);
	}
	return 0;
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
	if (sw->preview) {
		advance(sw);
		return 0;
	}
	return ret_plan_set(e->st, txn, d->reg, d->sid, d->field, RET_NEVER);
}

int
sweep_step(
    const sweep_env *e, MDB_txn *txn, sweep *sw, audit_state *a, uint64_t now)
{
	const pol_register *r;
	const pol_field *f;
	sweep_count *c;
	store_value sv;
	sub_cache sc = {0};
	group g = {0};
	ret_hold hold;
	pol_plan plan;
	ret_due d;
	MDB_cursor *cur;
	MDB_val k, v;
	uint64_t due, examined = 0, acted = 0;
	bool held;
	int rc;

	if (!sw->preview && (rc = mark_or_rollback(sw)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, e->st->ret_due, &cur)) != 0)
		return rc;
	for (;;) {
		if (!sw->preview && (examined >= SWEEP_STEP_EXAMINE ||
		                        acted >= SWEEP_STEP_ACTIONS))
			break;
		k.mv_size = sw->poslen;
		k.mv_data = sw->pos;
		rc = sw->poslen == 0
		         ? mdb_cursor_get(cur, &k, &v, MDB_FIRST)
		         : mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
		if (rc == MDB_NOTFOUND) {
			sw->done = true;
			rc = 0;
			break;
		}
		if (rc != 0)
			break;
		if (k.mv_size > RET_DUE_KEYMAX ||
		    ret_due_decode(&k, &v, &d) != 0) {
			/* not an entry privd wrote: step over it */
			memcpy(sw->pos, k.mv_data,
			    k.mv_size > RET_DUE_KEYMAX ? RET_DUE_KEYMAX
			                               : k.mv_size);
			sw->poslen = k.mv_size > RET_DUE_KEYMAX ? RET_DUE_KEYMAX
			                                        : k.mv_size;
			advance(sw);
			continue;
		}
		if (d.due_us > sw->as_of_us) {
			sw->done = true;
			break;
		}
		if (sw->limit != 0 && sw->actions >= sw->limit) {
			sw->more = sw->done = true;
			break;
		}
		memcpy(sw->pos, k.mv_data, k.mv_size);
		sw->poslen = k.mv_size;
		d.sid = sw->pos + 8; /* the page may change under the key */
		examined++;
		sw->examined++;
		if (sw->reg[0] != '\0' && strcmp(sw->reg, d.reg) != 0) {
			advance(sw);
			continue;
		}
		if ((r = pol_register_find(e->pol, d.reg)) == NULL ||
		    (f = pol_field_find(r, d.field)) == NULL) {
			/* no longer declared: nothing plans it */
			if ((rc = drop_plan(sw, txn, e, &d)) != 0)
				break;
			continue;
		}
		rc = store_value_get(e->st, txn, d.sid, f->name, &sv);
		if (rc == MDB_NOTFOUND || rc == MDB_CORRUPTED) {
			if ((rc = drop_plan(sw, txn, e, &d)) != 0)
				break;
			continue;
		}
		if (rc != 0 || (rc = sub_get(e, txn, &sc, r->name, d.sid)) != 0)
			break;
		retplan_compute(r, f, sv.created_us, sv.updated_us,
		    sc.found ? sc.rs.rel_end_us : 0, &plan);
		due = retplan_due(&plan);
		if (due > sw->as_of_us) {
			/* the plan moved (a rewrite, a policy change) */
			if (sw->preview)
				advance(sw);
			else if ((rc = ret_plan_set(e->st, txn, r->name, d.sid,
			              f->name, due)) != 0)
				break;
			continue;
		}
		if (strcmp(plan.rule->action, "delete") != 0) {
			/* anonymisation: not carried out yet */
			advance(sw);
			continue;
		}
		c = count_of(sw, r->name, plan.rule->id, "delete");
		if (c == NULL) {
			rc = ENOMEM;
			break;
		}
		if ((rc = ret_hold_find(e->st, txn, e->keys, r->name, d.sid,
		         sw->as_of_us, &held, &hold)) != 0)
			break;
		if (held) {
			c->held++;
			advance(sw);
			continue;
		}
		c->fields++;
		sw->actions++;
		acted++;
		if ((rc = count_sid(c, d.sid)) != 0)
			break;
		if (sw->preview) {
			advance(sw);
			continue;
		}
		if (g.open && (memcmp(g.sid, d.sid, sizeof(g.sid)) != 0 ||
		                  g.rule != plan.rule || g.reg != r ||
		                  g.nfields == POL_MAX_FIELDS)) {
			if ((rc = group_flush(e, txn, sw, a, &g, now)) != 0)
				break;
			sc.valid = false; /* the flush may have changed it */
			if ((rc = sub_get(e, txn, &sc, r->name, d.sid)) != 0)
				break;
		}
		if (!g.open) {
			g.open = true;
			memcpy(g.sid, d.sid, sizeof(g.sid));
			g.reg = r;
			g.rule = plan.rule;
			g.op = "retention_delete";
			g.nfields = 0;
			g.has_sub = sc.found;
			if (sc.found)
				g.rs = sc.rs;
		}
		g.fields[g.nfields++] = f->name;
		/* removes the entry at pos too */
		if ((rc = ret_plan_set(
		         e->st, txn, r->name, d.sid, f->name, RET_NEVER)) != 0)
			break;
		if ((rc = store_value_del(e->st, txn, d.sid, f->name)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc == 0 && !sw->preview)
		rc = group_flush(e, txn, sw, a, &g, now);
	sodium_memzero(&sc, sizeof(sc));
	sodium_memzero(&g.rs, sizeof(g.rs));
	return rc;
}
