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
#include "sweep_internal.h"

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

sweep_count *
sweep_count_of(sweep *sw, const char *reg, const char *rule, const char *action)
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

int
sweep_count_sid(sweep_count *c, const uint8_t *sid)
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

/* Leave the entry at pos where it is: the next one is after it. */
static void
advance(sweep *sw)
{
	sw->pos[sw->poslen++] = 0;
}

/* Forget a plan the sweep found stale (run only). */
static int
drop_plan(sweep *sw, store_txn *txn, const sweep_env *e, const ret_due *d)
{
	if (sw->preview)
		return 0;
	return ret_plan_set(e->st, txn, d->reg, d->sid, d->field, RET_NEVER);
}

/* The due-time index, phase 1 of a sweep. */
static int
step_due(const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a,
    groups *gs, sub_cache *sc, reg_ends *re, uint64_t now, uint64_t *examined,
    uint64_t *acted)
{
	const pol_register *r;
	const pol_field *f;
	uint8_t last[8 + CRYPTO_SUBJECT_IDBYTES];
	store_value sv;
	pol_plan plan;
	ret_due d;
	store_cur *cur;
	store_val k, v;
	uint64_t due, end;
	bool did, purging, have_last = false;
	int rc;

	if ((rc = store_cur_open(txn, STORE_RET_DUE, &cur)) != 0)
		return rc;
	for (;;) {
		k.size = sw->poslen;
		k.data = sw->pos;
		rc = sw->poslen == 0
		         ? store_cur_get(cur, &k, &v, STORE_FIRST)
		         : store_cur_get(cur, &k, &v, STORE_SET_RANGE);
		/* an entry privd did not write (it does not decode): step
		 * over it, to the next one that does */
		while (rc == 0 && ret_due_decode(&k, &v, &d) != 0)
			rc = store_cur_get(cur, &k, &v, STORE_NEXT);
		if (rc == STORE_NOTFOUND) {
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
		        (!sw->preview && *acted >= SWEEP_STEP_ACTIONS) ||
		        sweep_past_deadline(e, *examined)) &&
		    !(have_last && memcmp(k.data, last, sizeof(last)) == 0))
			break;
		if (sw->limit != 0 && sw->actions >= sw->limit) {
			sw->more = sw->done = true;
			break;
		}
		memcpy(sw->pos, k.data, k.size);
		sw->poslen = k.size;
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
		if ((rc = sweep_reg_end(e, txn, sw, re, r, &end, &purging)) !=
		    0)
			break;
		if (purging)
			goto next; /* the purge (phase 2) takes it */
		rc = store_value_get(e->st, txn, d.sid, f->name, &sv);
		if (rc == STORE_NOTFOUND || rc == STORE_CORRUPTED) {
			rc = drop_plan(sw, txn, e, &d);
			goto next;
		}
		if (rc != 0 ||
		    (rc = sweep_sub_get(e, txn, sc, r->name, d.sid)) != 0)
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
		rc = sweep_act(e, txn, sw, a, gs, sc, r, f, d.sid, &sv, &plan,
		    sweep_op_of(plan.rule), now, &did);
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
	store_cur_close(cur);
	return rc;
}

int
sweep_step(
    const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a, uint64_t now)
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
		rc = sweep_groups_flush(e, txn, sw, a, &gs, now);
	sweep_groups_free(&gs);
	sc.valid = false;
	if (rc == 0 && sw->phase == 1 && !sw->done)
		rc = sweep_step_purge(
		    e, txn, sw, a, &gs, &sc, now, &examined, &acted);
	if (rc == 0 && !sw->preview)
		rc = sweep_groups_flush(e, txn, sw, a, &gs, now);
	sweep_groups_free(&gs);
	sodium_memzero(&sc, sizeof(sc));
	if (e->dk != NULL)
		sodium_memzero(e->dk, CRYPTO_KEYBYTES);
	return rc;
}
