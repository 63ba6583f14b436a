/*
 * sweep_purge.c - contract-end purges, phase 2 of a sweep: a register
 * whose contract has ended and whose contract-end rules are due is purged
 * through its subjects' retention records, then its anonymous records
 * (sweep.h, sweep_internal.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "retplan.h"
#include "sweep_internal.h"

int
sweep_reg_end(const sweep_env *e, store_txn *txn, const sweep *sw, reg_ends *re,
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
	*purging = *end != 0 && sweep_purge_due(r, *end, sw->as_of_us);
	if (re->n < POL_MAX_REGISTERS) {
		re->v[re->n].r = r;
		re->v[re->n].end = *end;
		re->v[re->n].purging = *purging;
		re->n++;
	}
	return 0;
}

/* Is a rule counting from the contract end of register r (ended at end)
 * due at t? */
bool
sweep_purge_due(const pol_register *r, uint64_t end, uint64_t t)
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
purge_subject(const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a,
    groups *gs, sub_cache *sc, const pol_register *r, const uint8_t *sid,
    uint64_t end, uint64_t now, uint64_t *acted)
{
	const pol_field *fs[POL_MAX_FIELDS];
	char name[CRYPTO_MAX_NAME + 1];
	const pol_retention *rule;
	pol_field_times t;
	store_value sv;
	pol_plan plan;
	store_cur *c;
	store_val k = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	size_t n = 0, i, flen;
	bool did;
	int rc;

	if ((rc = store_cur_open(txn, STORE_VALUES, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size <= CRYPTO_SUBJECT_IDBYTES ||
		    memcmp(k.data, sid, CRYPTO_SUBJECT_IDBYTES) != 0)
			break;
		flen = k.size - CRYPTO_SUBJECT_IDBYTES;
		if (flen > CRYPTO_MAX_NAME || n == POL_MAX_FIELDS)
			continue;
		memcpy(name, (uint8_t *)k.data + CRYPTO_SUBJECT_IDBYTES, flen);
		name[flen] = '\0';
		if ((fs[n] = pol_field_find(r, name)) != NULL)
			n++;
	}
	store_cur_close(c);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	if ((rc = sweep_sub_get(e, txn, sc, r->name, sid)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		rc = store_value_get(e->st, txn, sid, fs[i]->name, &sv);
		if (rc == STORE_NOTFOUND || rc == STORE_CORRUPTED)
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
		if ((rc = sweep_act(e, txn, sw, a, gs, sc, r, fs[i], sid, &sv,
		         &plan, sweep_op_of(plan.rule), now, &did)) != 0)
			return rc;
		if (did)
			(*acted)++;
	}
	return 0;
}

/* The anonymous records of a purged register: gone, counted, one event
 * per step. */
static int
purge_anon(const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a,
    const pol_register *r, const pol_retention *rule, uint64_t now,
    uint64_t *acted, bool *more)
{
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	sweep_count *c;
	store_cur *cur;
	store_val k, v;
	ret_hold hold;
	size_t n = 0;
	bool held;
	int rc;

	*more = false;
	if ((c = sweep_count_of(sw, r->name, rule->id, "contract_end_purge")) ==
	    NULL)
		return ENOMEM;
	/* a whole-register hold keeps them too (a damaged one as well) */
	rc = ret_hold_get(e->st, txn, e->keys, r->name, NULL, &hold);
	held = (rc == 0 && ret_hold_active(&hold, sw->as_of_us)) ||
	       rc == STORE_CORRUPTED;
	sodium_memzero(&hold, sizeof(hold));
	if (rc != 0 && rc != STORE_NOTFOUND && rc != STORE_CORRUPTED)
		return rc;
	if (held || sw->preview) {
		pre[0] = (uint8_t)strlen(r->name);
		memcpy(pre + 1, r->name, pre[0]);
		if ((rc = store_cur_open(txn, STORE_ANON, &cur)) != 0)
			return rc;
		k.size = 1 + (size_t)pre[0];
		k.data = pre;
		for (rc = store_cur_get(cur, &k, &v, STORE_SET_RANGE); rc == 0;
		     rc = store_cur_get(cur, &k, &v, STORE_NEXT)) {
			if (k.size < 1u + pre[0] ||
			    memcmp(k.data, pre, 1u + pre[0]) != 0)
				break;
			n++;
		}
		store_cur_close(cur);
		if (held)
			c->held += n;
		else
			c->anon += n;
		return rc == STORE_NOTFOUND ? 0 : rc;
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
int
sweep_step_purge(const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a,
    groups *gs, sub_cache *sc, uint64_t now, uint64_t *examined,
    uint64_t *acted)
{
	const pol_register *r;
	const pol_retention *anon;
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	store_cur *cur;
	store_val k, v;
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
		if (end == 0 || !sweep_purge_due(r, end, sw->as_of_us))
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
			    (!sw->preview && *acted >= SWEEP_STEP_ACTIONS) ||
			    sweep_past_deadline(e, *examined))
				return 0;
			if (sw->limit != 0 && sw->actions >= sw->limit) {
				sw->more = sw->done = true;
				return 0;
			}
			if ((rc = store_cur_open(txn, STORE_RET_SUB, &cur)) !=
			    0)
				return rc;
			k.size = sw->ppos_len;
			k.data = sw->ppos;
			rc = store_cur_get(cur, &k, &v, STORE_SET_RANGE);
			/* step over keys of the register privd did not
			 * write (of another length) */
			while (rc == 0 && k.size >= plen &&
			       memcmp(k.data, pre, plen) == 0 &&
			       k.size != plen + CRYPTO_SUBJECT_IDBYTES)
				rc = store_cur_get(cur, &k, &v, STORE_NEXT);
			if (rc == 0 &&
			    (k.size != plen + CRYPTO_SUBJECT_IDBYTES ||
			        memcmp(k.data, pre, plen) != 0))
				rc = STORE_NOTFOUND;
			if (rc == 0) {
				memcpy(sw->ppos, k.data, k.size);
				sw->ppos_len = k.size;
			}
			store_cur_close(cur);
			if (rc == STORE_NOTFOUND)
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
