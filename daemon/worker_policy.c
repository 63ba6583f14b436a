/*
 * worker_policy.c - the policy administration operations (role
 * policy_admin), on the worker side: read versions, validate a new one.
 *
 * DESIGN: runs in worker threads like worker.c, under the same rules (its
 * own read transaction, the snapshot, no writes). A new policy is parsed,
 * validated and checked here, in parallel with other requests, and wrapped
 * in the snapshot it will become; the writer only checks the version it
 * replaces, stores it and swaps it in, so nothing can fail after the commit.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "log.h"
#include "replan.h"
#include "worker.h"

/*
 * Admin operations need a role of the caller's principal; a role never
 * gives access to data, and data grants never give a role.
 */
const pol_principal *
require_role(job *j, unsigned role, const char *name)
{
	const pol_principal *p;

	if ((p = principal_of(j)) == NULL) {
		job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_PRINCIPAL,
		    "this key is not a principal of the policy in force");
		return NULL;
	}
	if ((p->roles & role) == 0) {
		job_fail(j, ST(DENIED), POL_DENY_ROLE_REQUIRED,
		    "this operation needs role %s", name);
		return NULL;
	}
	return p;
}

/* A PolicyVersion message for a stored version; strings go to the arena. */
static int
policy_version_msg(job *j, const store_policy *sp, Privd__V1__PolicyVersion *m)
{
	char *who;

	if ((who = arena_alloc(&j->ar, sp->wholen + 1)) == NULL)
		return -1;
	memcpy(who, sp->who, sp->wholen);
	who[sp->wholen] = '\0';
	privd__v1__policy_version__init(m);
	m->version = sp->version;
	m->applied_by = who;
	m->applied_at_us = sp->time_us;
	return 0;
}

void
do_policy_get(worker *w, job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__PolicyGetResponse pg = PRIVD__V1__POLICY_GET_RESPONSE__INIT;
	Privd__V1__PolicyVersion pv;
	server *srv = w->srv;
	store_policy sp;
	uint64_t version = j->req->policy_get->version;
	char *json;
	int rc;

	if (require_role(j, POL_ROLE_POLICY_ADMIN, "policy_admin") == NULL)
		return;
	/* 0: the version this request was decided under, not a newer one */
	if (version == 0)
		version = j->snap->version;
	if ((rc = store_read_begin(srv->st, &w->rtxn)) != 0) {
		worker_read_fail(
		    j, rc, "read transaction", "store unavailable");
		return;
	}
	rc = store_policy_get(srv->st, w->rtxn, version, &sp);
	if (rc == STORE_NOTFOUND) {
		job_fail(j, ST(NOT_FOUND), 0, "there is no policy version %llu",
		    (unsigned long long)version);
	} else if (rc == 0 && policy_version_msg(j, &sp, &pv) == 0 &&
	           (json = arena_alloc(&j->ar, sp.len + 1)) != NULL) {
		memcpy(json, sp.json, sp.len);
		json[sp.len] = '\0';
		pg.version = &pv;
		pg.policy_json = json;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_POLICY_GET;
		resp.policy_get = &pg;
		job_ok(j, &resp);
	} else {
		worker_read_fail(j, rc ? rc : ENOMEM, "policy get",
		    "the policy cannot be read");
	}
	store_read_end(srv->st, w->rtxn);
}

void
do_policy_history(worker *w, job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__PolicyHistoryResponse ph =
	    PRIVD__V1__POLICY_HISTORY_RESPONSE__INIT;
	Privd__V1__PolicyVersion *items, **ptrs;
	server *srv = w->srv;
	store_policy sp;
	store_cur *cur = NULL;
	uint64_t nver;
	store_val k, v;
	size_t n = 0;
	int rc;

	if (require_role(j, POL_ROLE_POLICY_ADMIN, "policy_admin") == NULL)
		return;
	if ((rc = store_read_begin(srv->st, &w->rtxn)) != 0) {
		worker_read_fail(
		    j, rc, "read transaction", "store unavailable");
		return;
	}
	if ((rc = store_count(w->rtxn, STORE_POLICY, &nver)) != 0 ||
	    (rc = store_cur_open(w->rtxn, STORE_POLICY, &cur)) != 0)
		goto fail;
	items = arena_alloc(&j->ar, (nver + 1) * sizeof(*items));
	ptrs = arena_alloc(&j->ar, (nver + 1) * sizeof(*ptrs));
	if (items == NULL || ptrs == NULL)
		goto fail;
	for (rc = store_cur_get(cur, &k, &v, STORE_FIRST); rc == 0 && n < nver;
	     rc = store_cur_get(cur, &k, &v, STORE_NEXT)) {
		if ((rc = store_policy_decode(&k, &v, &sp)) != 0 ||
		    policy_version_msg(j, &sp, &items[n]) != 0)
			goto fail;
		ptrs[n] = &items[n];
		n++;
	}
	if (rc != 0 && rc != STORE_NOTFOUND)
		goto fail;
	ph.n_versions = n;
	ph.versions = ptrs;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_POLICY_HISTORY;
	resp.policy_history = &ph;
	job_ok(j, &resp);
	goto out;
fail:
	worker_read_fail(j, rc ? rc : ENOMEM, "policy history",
	    "the policy history cannot be read");
out:
	if (cur != NULL)
		store_cur_close(cur);
	store_read_end(srv->st, w->rtxn);
}

/*
 * What a new policy must satisfy beyond its own validity, wherever it is
 * applied (over the wire, or offline with `privd policy set`): its audit
 * retention is at least the store's floor, some principal keeps the role
 * policy_admin (or nobody could ever change the policy again over the
 * wire), and, unless force, the principal applying it keeps its own role.
 */
int
policy_admissible(const pol_policy *p, uint64_t floor_s, const char *applier,
    bool force, char *why, size_t whylen)
{
	const pol_principal *me;
	size_t i, admins = 0;

	if ((uint64_t)p->audit_retention_s < floor_s) {
		snprintf(why, whylen,
		    "$.audit.retention: shorter than this store's floor of "
		    "%llu days (privd init --audit-retention-min)",
		    (unsigned long long)(floor_s / 86400));
		return -1;
	}
	for (i = 0; i < p->nprincipals; i++)
		if (p->principals[i].roles & POL_ROLE_POLICY_ADMIN)
			admins++;
	if (admins == 0) {
		snprintf(why, whylen,
		    "$.principals: no principal has the role policy_admin, so "
		    "nobody could change the policy afterwards");
		return -1;
	}
	if (!force && applier != NULL &&
	    ((me = pol_principal_by_name(p, applier)) == NULL ||
	        (me->roles & POL_ROLE_POLICY_ADMIN) == 0)) {
		snprintf(why, whylen,
		    "$.principals: it takes the role policy_admin away from "
		    "%s, who applies it (apply with force to do so)",
		    applier);
		return -1;
	}
	return 0;
}

bool
policy_same_json(const store_policy *sp, const char *doc, size_t len)
{
	json_t *a = json_loadb(sp->json, sp->len, 0, NULL);
	json_t *b = a != NULL ? json_loadb(doc, len, 0, NULL) : NULL;
	bool same = a != NULL && b != NULL && json_equal(a, b);

	json_decref(a);
	json_decref(b);
	return same;
}

/*
 * Is the new document the same policy as the stored version it replaces?
 * false when the version is not stored or cannot be read: the writer then
 * decides (CONFLICT, or a new version).
 */
static bool
same_as_stored(worker *w, uint64_t version, const char *doc)
{
	server *srv = w->srv;
	store_policy sp;
	bool same = false;

	if (store_read_begin(srv->st, &w->rtxn) != 0)
		return false;
	if (store_policy_get(srv->st, w->rtxn, version, &sp) == 0)
		same = policy_same_json(&sp, doc, strlen(doc));
	store_read_end(srv->st, w->rtxn);
	return same;
}

/*
 * How many stored subjects the new policy makes privd re-plan (the
 * answer says so; j->at_us carries it to the writer's reply). Counted
 * here, in the worker's read transaction, against the policy the worker
 * saw: if another version got in first, the apply is a CONFLICT anyway.
 */
static void
replan_estimate(worker *w, job *j, const pol_policy *pol)
{
	uint32_t set = replan_registers(j->snap->pol, pol);
	uint64_t n;
	size_t i;

	if (set == 0 || store_read_begin(w->srv->st, &w->rtxn) != 0)
		return;
	for (i = 0; i < pol->nregisters && i < 32; i++)
		if ((set & (1u << i)) && replan_count(w->srv->st, w->rtxn,
		                             pol->registers[i].name, &n) == 0)
			j->at_us += n;
	store_read_end(w->srv->st, w->rtxn);
}

/*
 * Validate a new policy here, in parallel with other requests; the writer
 * only checks the version it replaces, stores it and swaps it in.
 */
void
do_policy_apply(worker *w, job *j)
{
	Privd__V1__PolicyApplyRequest *pa = j->req->policy_apply;
	const pol_principal *me;
	pol_policy *pol = NULL;
	pol_error err;
	char why[200];

	if ((me = require_role(j, POL_ROLE_POLICY_ADMIN, "policy_admin")) ==
	    NULL)
		return;
	if (pa->replaces_version == 0) {
		job_fail(j, ST(INVALID), 0,
		    "replaces_version must name the version in force");
		return;
	}
	if (pol_parse(pa->policy_json, strlen(pa->policy_json), &pol, &err) !=
	    0) {
		job_fail(j, ST(INVALID), 0, "%s: %s", err.path, err.reason);
		return;
	}
	j->kind = JOB_POLICY;
	if (same_as_stored(w, pa->replaces_version, pa->policy_json)) {
		/* nothing to store: the writer answers with the version */
		j->policy_same = true;
		pol_free(&pol);
		return;
	}
	/* refused, but only once the writer has seen that the version it
	 * replaces is in force: a stale apply is a CONFLICT first */
	if (policy_admissible(pol, w->srv->audit_floor_s, me->name, pa->force,
	        why, sizeof(why)) != 0) {
		pol_free(&pol);
		j->policy_refused = true;
		snprintf(j->message, sizeof(j->message), "%s", why);
		return;
	}
	replan_estimate(w, j, pol);
	if ((j->newsnap = snapshot_new(pol, 0)) == NULL) {
		pol_free(&pol);
		job_fail(j, ST(INTERNAL), 0, "out of memory");
	}
}
