/*
 * worker_retention.c - the retention operations in the worker: relationship
 * and contract ends, legal holds, sweeps and previews (DESIGN.md section
 * 6). The worker checks and decides; the writer changes the store
 * (writer_retention.c) and runs sweeps (writer.c). A hold list and a
 * preview only read, and are answered here.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "retstore.h"
#include "sweep.h"
#include "worker.h"

#define US_PER_S   1000000ULL
#define MIN_TIME   (946684800ULL * US_PER_S) /* 2000-01-01 */
#define HOLD_ROLES (POL_ROLE_SUBJECT_RIGHTS | POL_ROLE_POLICY_ADMIN)

/* The register a request names, declared by the policy, or NULL (the job
 * failed). */
static const pol_register *
declared(job *j, const char *reg)
{
	const pol_register *r;

	if (!name_ok(reg)) {
		job_fail(j, ST(INVALID), 0, "register name must be 1..%d bytes",
		    POL_MAX_NAME);
		return NULL;
	}
	if ((r = pol_register_find(j->snap->pol, reg)) == NULL) {
		job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_REGISTER,
		    "register %s is not declared by the policy", reg);
		return NULL;
	}
	j->ev.register_ = r->name;
	j->reg = r;
	return r;
}

/* A subject id of a request: 1..CRYPTO_MAX_SUBJECT bytes; its sid and
 * pseudonym. -1 (job failed) if it is not. */
static int
subject_of(worker *w, job *j, const char *subject)
{
	size_t n = strnlen(subject, CRYPTO_MAX_SUBJECT + 1);

	if (n == 0 || n > CRYPTO_MAX_SUBJECT) {
		job_fail(j, ST(INVALID), 0, "subject id must be 1..%d bytes",
		    CRYPTO_MAX_SUBJECT);
		return -1;
	}
	ev_subject(w, j, subject, n);
	crypto_subject_id(
	    w->srv->keys, j->reg->name, (const uint8_t *)subject, n, j->sid);
	return 0;
}

/* An end time: at_us, or now, or neither (undo). Not before 2000 nor more
 * than a year ahead of privd's clock: a time that far off is a mistake
 * (milliseconds for microseconds, a wrong year), not a plan. */
static int
end_time_ok(job *j, uint64_t at_us, bool now)
{
	static const pol_span year = {12, true};
	int64_t limit;

	if (now || at_us == 0)
		return 0;
	if (pol_time_add((int64_t)clock_wall_us(), &year, &limit) != 0)
		limit = INT64_MAX;
	if (at_us < MIN_TIME || at_us > (uint64_t)limit) {
		job_fail(j, ST(INVALID), 0,
		    "the end must be between 2000-01-01 and a year from now");
		return -1;
	}
	return 0;
}

/* Has the principal a grant with op write on register r? */
static bool
may_write(const pol_principal *p, const pol_register *r)
{
	size_t i;

	for (i = 0; i < p->ngrants; i++)
		if (p->grants[i].reg == r && (p->grants[i].ops & POL_OP_WRITE))
			return true;
	return false;
}

void
do_relationship_end(worker *w, job *j)
{
	Privd__V1__RelationshipEndRequest *rq = j->req->relationship_end;
	const pol_principal *p;
	size_t n = strnlen(rq->subject, CRYPTO_MAX_SUBJECT + 1);

	/* the pseudonym first: a refused attempt is found by subject too */
	if (n > 0 && n <= CRYPTO_MAX_SUBJECT)
		ev_subject(w, j, rq->subject, n);
	if ((p = principal_of(j)) == NULL) {
		job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_PRINCIPAL,
		    "this key is not a principal of the policy in force");
		return;
	}
	if (declared(j, rq->register_) == NULL ||
	    subject_of(w, j, rq->subject) != 0)
		return;
	if (!may_write(p, j->reg)) {
		job_fail(j, ST(DENIED), POL_DENY_NO_GRANT,
		    "a relationship end needs a write grant on register %s",
		    j->reg->name);
		return;
	}
	if (end_time_ok(j, rq->at_us, rq->now) != 0)
		return;
	j->kind = JOB_RELEND;
}

void
do_contract_end(worker *w, job *j)
{
	Privd__V1__ContractEndRequest *rq = j->req->contract_end;

	(void)w;
	if (require_role(j, POL_ROLE_POLICY_ADMIN, "policy_admin") == NULL ||
	    declared(j, rq->register_) == NULL ||
	    end_time_ok(j, rq->at_us, rq->now) != 0)
		return;
	j->kind = JOB_CONTRACT;
}

/* The register and optional subject of a hold request. */
static int
hold_target(worker *w, job *j, const char *reg, const char *subject)
{
	size_t n = strnlen(subject, CRYPTO_MAX_SUBJECT + 1);

	/* the pseudonym first: a refused attempt is found by subject too */
	if (n > 0 && n <= CRYPTO_MAX_SUBJECT)
		ev_subject(w, j, subject, n);
	if (require_role(j, HOLD_ROLES, "subject_rights or policy_admin") ==
	        NULL ||
	    declared(j, reg) == NULL)
		return -1;
	if (subject[0] != '\0' && subject_of(w, j, subject) != 0)
		return -1;
	return 0;
}

void
do_hold_set(worker *w, job *j)
{
	Privd__V1__HoldSetRequest *rq = j->req->hold_set;
	size_t n;

	if (hold_target(w, j, rq->register_, rq->subject) != 0)
		return;
	n = strnlen(rq->reason, RET_REASON_MAX + 1);
	if (n == 0 || n > RET_REASON_MAX) {
		job_fail(j, ST(INVALID), 0,
		    "a hold needs a reason of 1..%d bytes", RET_REASON_MAX);
		return;
	}
	if (rq->until_us != 0 && rq->until_us <= clock_wall_us()) {
		job_fail(j, ST(INVALID), 0,
		    "until_us is not in the future (0: until lifted)");
		return;
	}
	j->kind = JOB_HOLD_SET;
}

void
do_hold_lift(worker *w, job *j)
{
	Privd__V1__HoldLiftRequest *rq = j->req->hold_lift;

	if (hold_target(w, j, rq->register_, rq->subject) != 0)
		return;
	j->kind = JOB_HOLD_LIFT;
}

static char *
arena_str(job *j, const char *s)
{
	size_t n = strlen(s);
	char *p;

	if ((p = arena_alloc(&j->ar, n + 1)) != NULL)
		memcpy(p, s, n + 1);
	return p;
}

/* By register, then set time (the proto's order). */
static int
hold_cmp(const void *a, const void *b)
{
	const Privd__V1__Hold *x = *(Privd__V1__Hold *const *)a,
	                      *y = *(Privd__V1__Hold *const *)b;
	int c;

	if ((c = strcmp(x->register_, y->register_)) != 0)
		return c;
	return x->set_at_us < y->set_at_us ? -1 : x->set_at_us > y->set_at_us;
}

/* Collect the holds in force (of one register, or all) into the reply. */
static int
hold_list(worker *w, job *j, const char *reg, Privd__V1__HoldListResponse *out)
{
	Privd__V1__Hold *h, **v;
	uint64_t now = clock_wall_us();
	ret_hold rh;
	store_cur *c;
	store_val k, d;
	size_t cap = 0;
	int rc;

	if ((rc = store_cur_open(w->rtxn, STORE_HOLDS, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &d, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &d, STORE_NEXT)) {
		if (ret_hold_decode(w->srv->keys, &k, &d, &rh) != 0) {
			log_err("a legal hold record does not authenticate");
			continue;
		}
		if (!ret_hold_active(&rh, now) ||
		    (reg != NULL && strcmp(rh.reg, reg) != 0))
			continue;
		if (out->n_holds == cap) {
			cap = cap ? cap * 2 : 16;
			if ((v = arena_alloc(&j->ar, cap * sizeof(*v))) == NULL)
				break;
			if (out->n_holds > 0)
				memcpy(
				    v, out->holds, out->n_holds * sizeof(*v));
			out->holds = v;
		}
		if ((h = arena_alloc(&j->ar, sizeof(*h))) == NULL)
			break;
		privd__v1__hold__init(h);
		h->register_ = arena_str(j, rh.reg);
		h->subject = arena_str(j, rh.subject);
		h->reason = arena_str(j, rh.reason);
		h->set_by = arena_str(j, rh.by);
		h->until_us = rh.until_us;
		h->set_at_us = rh.set_at_us;
		if (h->register_ == NULL || h->subject == NULL ||
		    h->reason == NULL || h->set_by == NULL)
			break;
		out->holds[out->n_holds++] = h;
	}
	sodium_memzero(&rh, sizeof(rh));
	store_cur_close(c);
	if (rc == 0)
		return ENOMEM; /* broke out of the loop */
	if (rc != STORE_NOTFOUND)
		return rc;
	if (out->n_holds > 1)
		qsort(out->holds, out->n_holds, sizeof(*out->holds), hold_cmp);
	return 0;
}

void
do_hold_list(worker *w, job *j)
{
	Privd__V1__HoldListRequest *rq = j->req->hold_list;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__HoldListResponse hl = PRIVD__V1__HOLD_LIST_RESPONSE__INIT;
	int rc;

	if (require_role(j, HOLD_ROLES, "subject_rights or policy_admin") ==
	    NULL)
		return;
	if (rq->register_[0] != '\0' && declared(j, rq->register_) == NULL)
		return;
	if ((rc = store_read_begin(w->srv->st, &w->rtxn)) != 0) {
		worker_store_fail(j, rc);
		return;
	}
	rc = hold_list(w, j, j->reg != NULL ? j->reg->name : NULL, &hl);
	if (rc == 0) {
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_HOLD_LIST;
		resp.hold_list = &hl;
		job_ok(j, &resp);
	} else {
		worker_read_fail(j, rc, "hold list", "cannot read the holds");
	}
	store_read_end(w->srv->st, w->rtxn);
}

/* A sweep's counts as a RetentionRunResponse, in the job's arena. */
int
sweep_response(job *j, sweep *sw, Privd__V1__RetentionRunResponse *out)
{
	Privd__V1__RetentionCount *c;
	size_t i;

	out->as_of_us = sw->as_of_us;
	out->examined = sw->examined;
	out->more = sw->more;
	if (sw->ncounts == 0)
		return 0;
	out->counts = arena_alloc(&j->ar, sw->ncounts * sizeof(*out->counts));
	if (out->counts == NULL)
		return -1;
	for (i = 0; i < sw->ncounts; i++) {
		if ((c = arena_alloc(&j->ar, sizeof(*c))) == NULL)
			return -1;
		privd__v1__retention_count__init(c);
		c->register_ = arena_str(j, sw->counts[i].reg);
		c->rule = arena_str(j, sw->counts[i].rule);
		c->action = (char *)sw->counts[i].action;
		c->fields = sw->counts[i].fields;
		c->subjects = sw->counts[i].subjects;
		c->held = sw->counts[i].held;
		c->anonymous_records = sw->counts[i].anon;
		if (c->register_ == NULL || c->rule == NULL)
			return -1;
		out->counts[out->n_counts++] = c;
	}
	return 0;
}

/* A preview: the sweep's own code in a read transaction. */
static void
preview(worker *w, job *j, uint64_t as_of)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__RetentionRunResponse rr =
	    PRIVD__V1__RETENTION_RUN_RESPONSE__INIT;
	sweep_env e = {
	    w->srv->st, w->srv->keys, j->snap->pol, j->snap->version, NULL, 0};
	sweep *sw;
	int rc;

	if ((sw = sweep_new(as_of, true, j->reg != NULL ? j->reg->name : NULL,
	         0)) == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return;
	}
	/* step by step, each in a read transaction of its own: a long
	 * preview must not hold back a map growth (and the writer with it) */
	do {
		if ((rc = store_read_begin(w->srv->st, &w->rtxn)) != 0) {
			sweep_free(&sw);
			worker_store_fail(j, rc);
			return;
		}
		rc = sweep_step(&e, w->rtxn, sw, NULL, as_of);
		store_read_end(w->srv->st, w->rtxn);
	} while (rc == 0 && !sw->done);
	if (rc != 0) {
		worker_read_fail(
		    j, rc, "retention preview", "the preview failed");
	} else {
		sweep_finish(sw);
		if (sweep_response(j, sw, &rr) != 0) {
			job_fail(j, ST(INTERNAL), 0, "out of memory");
		} else {
			resp.payload_case =
			    PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN;
			resp.retention_run = &rr;
			job_ok(j, &resp);
		}
	}
	sweep_free(&sw);
}

void
do_retention_run(worker *w, job *j)
{
	Privd__V1__RetentionRunRequest *rq = j->req->retention_run;
	uint64_t now = clock_wall_us();

	if (rq->preview)
		j->ev.op = "retention_preview";
	if (require_role(j, POL_ROLE_POLICY_ADMIN, "policy_admin") == NULL)
		return;
	if (rq->register_[0] != '\0' && declared(j, rq->register_) == NULL)
		return;
	if (rq->preview) {
		if (rq->limit != 0) {
			job_fail(j, ST(INVALID), 0,
			    "a preview has no limit: it changes nothing");
			return;
		}
		if (rq->as_of_us != 0 && rq->as_of_us < MIN_TIME) {
			job_fail(j, ST(INVALID), 0,
			    "as_of_us must be after 2000-01-01 (microseconds "
			    "since the epoch)");
			return;
		}
		preview(w, j, rq->as_of_us != 0 ? rq->as_of_us : now);
		return;
	}
	if (rq->as_of_us != 0) {
		job_fail(j, ST(INVALID), 0,
		    "a run sweeps as of privd's clock: as_of_us is for a "
		    "preview");
		return;
	}
	j->kind = JOB_SWEEP;
}
