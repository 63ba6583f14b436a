/*
 * sweep_act.c - what a sweep does to one due field: count it, leave it
 * to a hold, or delete or anonymise it as part of its (subject, rule)
 * group, and at the end of a step each group's anonymous record and audit
 * event, and the subject's own records if nothing of it is left
 * (sweep.h, sweep_internal.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "retplan.h"
#include "substate.h"
#include "sweep_internal.h"

#define ST(x) PRIVD__V1__STATUS__##x

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
int
sweep_event_append(const sweep_env *e, store_txn *txn, sweep *sw,
    audit_state *a, Privd__V1__AuditEvent *ev, uint64_t now)
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
group_flush(const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a,
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
	/* the erasure journal, for a restore to apply it again */
	if ((rc = journal_append(e->st, txn, now, JOURNAL_RETENTION, g->sid,
	         g->reg->name, any ? (const char *const *)g->fields : NULL,
	         any ? g->nfields : 0)) != 0)
		goto out;
	if (!any) {
		rc = store_subject_delete(e->st, txn, g->sid, &n);
		if ((rc != 0 && rc != STORE_NOTFOUND) ||
		    (rc = ret_plan_drop_subject(e->st, txn, g->sid)) != 0 ||
		    (rc = substate_del(e->st, txn, g->sid)) != 0)
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

int
sweep_sub_get(const sweep_env *e, store_txn *txn, sub_cache *sc,
    const char *reg, const uint8_t *sid)
{
	int rc;

	if (sc->valid && memcmp(sc->sid, sid, sizeof(sc->sid)) == 0 &&
	    strcmp(sc->reg, reg) == 0)
		return 0;
	sc->valid = false;
	rc = ret_sub_get(e->st, txn, e->keys, reg, sid, &sc->rs);
	if (rc != 0 && rc != STORE_NOTFOUND && rc != STORE_CORRUPTED)
		return rc;
	sc->found = rc == 0; /* a damaged record: act, unnamed */
	memcpy(sc->sid, sid, sizeof(sc->sid));
	snprintf(sc->reg, sizeof(sc->reg), "%s", reg);
	sc->valid = true;
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
anonymise(const sweep_env *e, store_txn *txn, groups *gs, group *g,
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
int
sweep_act(const sweep_env *e, store_txn *txn, sweep *sw, audit_state *a,
    groups *gs, sub_cache *sc, const pol_register *r, const pol_field *f,
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
	if ((c = sweep_count_of(sw, r->name, plan->rule->id, action)) == NULL)
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
	if ((rc = sweep_count_sid(c, sid)) != 0 || sw->preview)
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
		if ((rc = sweep_sub_get(e, txn, sc, r->name, sid)) != 0)
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
int
sweep_groups_flush(const sweep_env *e, store_txn *txn, sweep *sw,
    audit_state *a, groups *gs, uint64_t now)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < gs->n && rc == 0; i++)
		rc = group_flush(e, txn, sw, a, &gs->v[i], now);
	return rc;
}

void
sweep_groups_free(groups *gs)
{
	size_t i;

	for (i = 0; i < gs->n; i++)
		group_wipe(&gs->v[i]);
	free(gs->v);
	memset(gs, 0, sizeof(*gs));
}

const char *
sweep_op_of(const pol_retention *rule)
{
	if (strcmp(rule->from, "contract_end") == 0 &&
	    strcmp(rule->action, "delete") == 0)
		return "contract_end_purge";
	if (strcmp(rule->action, "anonymize") == 0)
		return "retention_anonymize";
	return "retention_delete";
}
