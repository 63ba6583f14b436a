/*
 * sweep_phase.c - the retention sweeper under load (issue 9, "the sweeper
 * under load"): how long GETs wait while a sweep deletes or anonymises
 * many fields that fell due at once, against the same GETs without one.
 *
 * A privd of its own (one privd at a time, as for the big store), started
 * with the test clock (daemon/clock.h) and --retention-interval 0, so that
 * only the bench's RetentionRun sweeps, at a moment it knows. Its store,
 * under the example policy:
 *   - subjects 0..L-1 of customers (crm, --subjects): what the GETs read;
 *     no rule ever makes them due (no relationship end);
 *   - subjects L..L+D-1 of customers, five fields each, whose relationship
 *     ends now (RelationshipEnd, crm): rule after-customership deletes
 *     them a year after the end;
 *   - subjects L..L+D-1 of acis (principal acis), five fields each,
 *     collected now: rule anonymize-24m anonymises them 24 months on.
 * D x 5 is --sweep-fields. Then: 8 clients GET (one request in flight
 * each) for --seconds without a sweep; privd's clock is moved 400 days
 * on, a preview says what is due, and a sweep (RetentionRun as dpo,
 * policy_admin, over a connection of its own) deletes it while the same
 * GETs run, until it answers; the clock is moved 800 days on, and the
 * same for the anonymisation. Anonymisation re-encrypts what it keeps
 * into an anonymous record, so it costs more than a deletion.
 *
 * Checked: every reply (the GETs' values, so live subjects are untouched
 * by both sweeps; every put and relationship end), the preview's counts
 * equal the sweep's, both are exactly the fields and subjects that fell
 * due and nothing else, and a swept subject is gone (NOT_FOUND). Timing
 * is printed, never judged.
 *
 * DESIGN: the sweep's RetentionRun waits in a thread of its own, started
 * by the GET load's at_start hook and joined by its at_end hook; it sets
 * the load's stop flag when the answer comes, so the GETs measured are
 * those during the sweep. The thread touches only its sweep_call.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "phases.h"

#define DAY_S            86400
#define DELETE_AT_S      (400 * DAY_S) /* a year after the end, and more */
#define ANONYMIZE_AT_S   (800 * DAY_S) /* 24 months after collection */
#define SWEEP_CLIENTS    8
#define SWEEP_INFLIGHT   1
#define SWEEP_TIMEOUT_S  3600.0 /* no answer to a RetentionRun: fail */
#define SWEEP_MAX_LOAD_S 7200.0 /* the GETs end with the sweep */
#define ACIS_PURPOSE     "satisfaction_tracking"

/* A RetentionRun in a thread of its own, while the GETs run. */
typedef struct sweep_call {
	h_dealer d;
	atomic_bool stop; /* the GET load's: set when the answer came */
	pthread_t thr;
	bool started;
	uint64_t t0, t1;           /* sent, answered (ns) */
	Privd__V1__Response *resp; /* the answer, or NULL (err says why) */
	char err[200];
} sweep_call;

static const char *
status_name(int st)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &privd__v1__status__descriptor, st);

	return v != NULL ? v->name : "?";
}

/*
 * Send req on d and wait for the Response to it, checking bench_interrupted
 * every 200 ms. Returns the Response (status OK; free it with
 * privd__v1__response__free_unpacked), or NULL with err saying why.
 */
static Privd__V1__Response *
call(h_dealer *d, const Privd__V1__Request *req, double timeout_s, char *err,
    size_t errlen)
{
	size_t n = privd__v1__request__get_packed_size(req), rl, frames;
	uint64_t deadline = bench_now_ns() + (uint64_t)(timeout_s * 1e9);
	uint8_t *buf = malloc(n > 0 ? n : 1), *reply;
	const void *parts[1];
	Privd__V1__Response *r;

	if (buf == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	privd__v1__request__pack(req, buf);
	parts[0] = buf;
	if (h_dealer_send(d, parts, &n, 1) != 0) {
		free(buf);
		snprintf(err, errlen, "cannot send");
		return NULL;
	}
	free(buf);
	while (!bench_interrupted && bench_now_ns() < deadline) {
		if (h_dealer_recv(d, 200, &reply, &rl, &frames) != 0)
			continue;
		r = privd__v1__response__unpack(NULL, rl, reply);
		free(reply);
		if (r == NULL) {
			snprintf(err, errlen,
			    "protocol: a reply is not a "
			    "Response");
			return NULL;
		}
		if (r->request_id != req->request_id) {
			privd__v1__response__free_unpacked(r, NULL);
			continue;
		}
		if (r->status == PRIVD__V1__STATUS__OK &&
		    r->payload_case ==
		        PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN)
			return r;
		snprintf(err, errlen, "status %s: %s", status_name(r->status),
		    r->message);
		privd__v1__response__free_unpacked(r, NULL);
		return NULL;
	}
	snprintf(err, errlen,
	    bench_interrupted ? "interrupted" : "no answer within %.0f s",
	    timeout_s);
	return NULL;
}

/* A RetentionRun request: a sweep now, or a preview as of privd's now. */
static void
retention_req(Privd__V1__Request *req, Privd__V1__RetentionRunRequest *rr,
    bool preview, uint64_t id)
{
	privd__v1__request__init(req);
	privd__v1__retention_run_request__init(rr);
	rr->preview = preview;
	req->request_id = id;
	req->op_case = PRIVD__V1__REQUEST__OP_RETENTION_RUN;
	req->retention_run = rr;
}

static void *
sweep_thread(void *arg)
{
	sweep_call *c = arg;
	Privd__V1__Request req;
	Privd__V1__RetentionRunRequest rr;

	retention_req(&req, &rr, false, 2);
	c->resp = call(&c->d, &req, SWEEP_TIMEOUT_S, c->err, sizeof(c->err));
	c->t1 = bench_now_ns();
	atomic_store(&c->stop, true);
	return NULL;
}

/* The GET load's at_start: the GETs begin, the sweep begins. */
static void
sweep_go(void *arg)
{
	sweep_call *c = arg;

	c->t0 = bench_now_ns();
	if (pthread_create(&c->thr, NULL, sweep_thread, c) == 0) {
		c->started = true;
		return;
	}
	snprintf(c->err, sizeof(c->err), "cannot start a thread");
	atomic_store(&c->stop, true);
}

/* The GET load's at_end: the sweep answered (the GETs stopped for it), or
 * the GETs failed and the sweep is waited for. */
static void
sweep_join(void *arg)
{
	sweep_call *c = arg;

	if (c->started)
		pthread_join(c->thr, NULL);
	c->started = false;
}

/*
 * The counts of a preview or a sweep: the rule rule of register reg acted
 * on exactly fields fields of subjects subjects, nothing was held, and no
 * other rule acted. 0, or -1 with err saying why.
 */
static int
expect_counts(const Privd__V1__RetentionRunResponse *rr, const char *reg,
    const char *rule, uint64_t fields, uint64_t subjects, char *err,
    size_t errlen)
{
	bool found = false;

	if (rr->more) {
		snprintf(err, errlen, "it stopped with more due (more)");
		return -1;
	}
	for (size_t i = 0; i < rr->n_counts; i++) {
		const Privd__V1__RetentionCount *c = rr->counts[i];
		bool ours = strcmp(c->register_, reg) == 0 &&
		            strcmp(c->rule, rule) == 0;

		if (ours && c->fields == fields && c->subjects == subjects &&
		    c->held == 0) {
			found = true;
			continue;
		}
		if (ours || c->fields != 0 || c->held != 0) {
			snprintf(err, errlen,
			    "register %s rule %s: %llu fields of %llu "
			    "subjects, "
			    "%llu held (due: %s %s, %llu fields of %llu "
			    "subjects)",
			    c->register_, c->rule,
			    (unsigned long long)c->fields,
			    (unsigned long long)c->subjects,
			    (unsigned long long)c->held, reg, rule,
			    (unsigned long long)fields,
			    (unsigned long long)subjects);
			return -1;
		}
	}
	if (!found)
		snprintf(
		    err, errlen, "register %s rule %s did not act", reg, rule);
	return found ? 0 : -1;
}

/* Whether a sweep did exactly what the preview before it said. */
static bool
same_counts(const Privd__V1__RetentionRunResponse *a,
    const Privd__V1__RetentionRunResponse *b)
{
	if (a->n_counts != b->n_counts)
		return false;
	for (size_t i = 0; i < a->n_counts; i++) {
		const Privd__V1__RetentionCount *x = a->counts[i],
		                                *y = b->counts[i];

		if (strcmp(x->register_, y->register_) != 0 ||
		    strcmp(x->rule, y->rule) != 0 ||
		    strcmp(x->action, y->action) != 0 ||
		    x->fields != y->fields || x->subjects != y->subjects ||
		    x->held != y->held ||
		    x->anonymous_records != y->anonymous_records)
			return false;
	}
	return true;
}

/* Subject i of register reg is gone: a GET answers NOT_FOUND. */
static int
gone(const bench_server *srv, const char *pub, const char *sec, const char *reg,
    const char *purpose, uint64_t i)
{
	privd_client *c = NULL;
	privd_record *rec = NULL;
	char subj[32];
	int rc;

	bench_subject(i, subj, sizeof(subj));
	if (privd_connect(&c, srv->endpoint, srv->server_key, pub, sec) !=
	    PRIVD_OK)
		return -1;
	privd_set_timeout(c, 30000);
	rc = privd_get(c, reg, subj, purpose, NULL, 0, &rec);
	privd_record_free(&rec);
	if (rc != PRIVD_ENOTFOUND)
		fprintf(stderr,
		    "privd-bench: FAILED: a GET of a swept subject of %s "
		    "answered %s, not NOT_FOUND\n",
		    reg, privd_strerror(rc));
	privd_close(&c);
	return rc == PRIVD_ENOTFOUND ? 0 : -1;
}

/* The GET load's spec: 8 clients, one GET in flight each, live subjects. */
static void
get_spec(bench_run *run, load_spec *s)
{
	phase_spec(
	    run, &run->swp, s, LOAD_GET, SWEEP_CLIENTS, SWEEP_INFLIGHT, false);
}

static void
keep_figures(bench_sweep *f, const char *id, const load_result *r)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->gets = r->requests;
	f->get_seconds = r->seconds;
	f->p50_us = r->p50_us;
	f->p99_us = r->p99_us;
	f->p999_us = r->p999_us;
	f->max_us = r->max_us;
}

static int
sweep_failed(bench_run *run, const char *what, const char *why)
{
	run->failed = 1;
	if (!bench_interrupted) {
		fprintf(stderr, "privd-bench: FAILED: %s: %s\n", what, why);
		server_dump_log(&run->swp);
	}
	return -1;
}

/*
 * Move privd's clock to offset_s, preview, then sweep under the GET load;
 * the sweep must act on exactly what fell due: rule rule of register reg,
 * fields fields of subjects subjects. Its figures go to the report as id,
 * its GETs' row as phase.
 */
static int
timed_sweep(bench_run *run, int64_t offset_s, const char *id, const char *phase,
    const char *reg, const char *rule, uint64_t fields, uint64_t subjects)
{
	static sweep_call c; /* large; one at a time */
	bench_report *rep = &run->rep;
	Privd__V1__Request req;
	Privd__V1__RetentionRunRequest rr;
	Privd__V1__Response *pv = NULL;
	bench_sweep *f = &rep->sweeps[rep->nsweeps];
	char what[96], err[300];
	load_result r;
	load_spec s;
	uint64_t t;
	int rc = -1;

	snprintf(what, sizeof(what), "sweep (%s %s)", reg, rule);
	memset(&c, 0, sizeof(c));
	if (rep->nsweeps == BENCH_MAX_SWEEPS)
		return sweep_failed(run, what, "too many sweeps");
	if (server_clock_set(&run->swp, offset_s) != 0)
		return sweep_failed(run, what, "cannot move privd's clock");
	if (h_dealer_open(run->swp.h, "dpo", NULL, false, &c.d) != 0)
		return sweep_failed(run, what, "cannot connect as dpo");
	/* the preview: what is due, and the connection's handshake done */
	retention_req(&req, &rr, true, 1);
	t = bench_now_ns();
	if ((pv = call(&c.d, &req, SWEEP_TIMEOUT_S, c.err, sizeof(c.err))) ==
	    NULL) {
		snprintf(err, sizeof(err), "the preview: %s", c.err);
		goto out;
	}
	t = bench_now_ns() - t;
	if (expect_counts(pv->retention_run, reg, rule, fields, subjects, c.err,
	        sizeof(c.err)) != 0) {
		snprintf(err, sizeof(err), "the preview: %s", c.err);
		goto out;
	}
	fprintf(stderr,
	    "privd-bench: privd's clock %lld days on: %llu fields of "
	    "%llu subjects due (%s %s); sweeping under 8 clients' GETs\n",
	    (long long)(offset_s / DAY_S), (unsigned long long)fields,
	    (unsigned long long)subjects, reg, rule);
	get_spec(run, &s);
	s.seconds = SWEEP_MAX_LOAD_S;
	s.stop = &c.stop;
	s.at_start = sweep_go;
	s.at_end = sweep_join;
	s.arg = &c;
	if (phase_measure(run, &run->swp, &s, run->swp.pid, "privd", phase,
	        true, &r) != 0)
		goto out_failed; /* said already */
	if (c.resp == NULL) {
		snprintf(err, sizeof(err), "RetentionRun: %s", c.err);
		goto out;
	}
	if (expect_counts(c.resp->retention_run, reg, rule, fields, subjects,
	        c.err, sizeof(c.err)) != 0) {
		snprintf(err, sizeof(err), "the sweep: %s", c.err);
		goto out;
	}
	if (!same_counts(pv->retention_run, c.resp->retention_run)) {
		snprintf(err, sizeof(err),
		    "the sweep's counts differ from the preview's");
		goto out;
	}
	keep_figures(f, id, &r);
	snprintf(f->reg, sizeof(f->reg), "%s", reg);
	snprintf(f->rule, sizeof(f->rule), "%s", rule);
	for (size_t i = 0; i < c.resp->retention_run->n_counts; i++)
		if (c.resp->retention_run->counts[i]->fields > 0)
			snprintf(f->action, sizeof(f->action), "%s",
			    c.resp->retention_run->counts[i]->action);
	f->sweep_s = (double)(c.t1 - c.t0) / 1e9;
	f->preview_s = (double)t / 1e9;
	f->fields = fields;
	f->subjects = subjects;
	f->examined = c.resp->retention_run->examined;
	rep->nsweeps++;
	rc = 0;
	goto done;
out:
	sweep_failed(run, what, err);
out_failed:
	run->failed = 1;
done:
	if (pv != NULL)
		privd__v1__response__free_unpacked(pv, NULL);
	if (c.resp != NULL)
		privd__v1__response__free_unpacked(c.resp, NULL);
	c.resp = NULL;
	h_dealer_close(&c.d);
	return rc;
}

/* Fill, or end the relationships of, subjects first..first+n-1. */
static int
due_load(bench_run *run, load_kind kind, const char *reg, uint64_t first,
    uint64_t n, const char *phase)
{
	bench_server *srv = &run->swp;
	load_spec s;

	phase_spec(run, srv, &s, kind, 8, 16, false);
	s.seconds = 0;
	s.count = n;
	s.first = first;
	s.nsubjects = first + n;
	if (strcmp(reg, "acis") == 0) {
		s.reg = "acis";
		s.purpose = ACIS_PURPOSE;
		s.pub = srv->acis_pub;
		s.sec = srv->acis_sec;
	}
	return phase_measure(
	    run, srv, &s, srv->pid, "privd", phase, true, NULL);
}

int
sweep_phase(bench_run *run)
{
	const bench_opts *o = run->o;
	bench_server *srv = &run->swp;
	const char *extra[20];
	uint64_t live = o->subjects,
	         due = (o->sweep_fields + FLD_N - 1) / FLD_N;
	uint64_t fields = due * FLD_N;
	load_result r;
	load_spec s;
	size_t i;

	if (o->endpoint != NULL) {
		report_note(&run->rep, "sweep phase skipped: it needs a privd "
		                       "of its own (no --endpoint)");
		return 0;
	}
	/* one privd at a time: the sweep's gets the machine */
	server_stop(&run->srv);
	server_stop(&run->big);
	for (i = 0; i < o->nprivd_args; i++)
		extra[i] = o->privd_args[i];
	extra[i++] = "--retention-interval";
	extra[i++] = "0";
	extra[i] = NULL;
	if (server_start(srv, o->policy, o->tcp, extra, true, NULL) != 0) {
		run->failed = 1;
		return -1;
	}
	if (!srv->has_acis || !srv->has_admin) {
		report_note(&run->rep, "sweep phase skipped: the policy has no "
		                       "principals acis and dpo");
		server_stop(srv);
		return 0;
	}
	if (run->rep.privd_version[0] == '\0')
		server_version(srv, run->rep.privd_version,
		    sizeof(run->rep.privd_version));
	run->rep.sweep_live = live;
	run->rep.sweep_due = due;
	run->rep.sweep_clients = SWEEP_CLIENTS;
	run->rep.sweep_inflight = SWEEP_INFLIGHT;
	fprintf(stderr,
	    "privd-bench: sweep: loading %llu live subjects, and %llu "
	    "subjects of customers and of acis to fall due\n",
	    (unsigned long long)live, (unsigned long long)due);
	phase_spec(run, srv, &s, LOAD_FILL, 8, 16, false);
	s.seconds = 0;
	s.count = live;
	if (phase_measure(run, srv, &s, srv->pid, "privd", "load-sweep", false,
	        NULL) != 0 ||
	    due_load(run, LOAD_FILL, "customers", live, due, "fill-due") != 0 ||
	    due_load(run, LOAD_RELEND, "customers", live, due, "relend") != 0 ||
	    due_load(run, LOAD_FILL, "acis", live, due, "fill-acis") != 0)
		return -1;

	/* (a) the GETs without a sweep */
	get_spec(run, &s);
	if (phase_measure(
	        run, srv, &s, srv->pid, "privd", "sweep-base", true, &r) != 0)
		return -1;
	keep_figures(&run->rep.sweeps[run->rep.nsweeps++], "base", &r);

	/* (b) the same GETs while a sweep deletes, then anonymises */
	if (timed_sweep(run, DELETE_AT_S, "delete", "sweep-del", "customers",
	        "after-customership", fields, due) != 0 ||
	    gone(srv, srv->pub, srv->sec, "customers", BENCH_PURPOSE, live) !=
	        0 ||
	    timed_sweep(run, ANONYMIZE_AT_S, "anonymize", "sweep-anon", "acis",
	        "anonymize-24m", fields, due) != 0 ||
	    gone(srv, srv->acis_pub, srv->acis_sec, "acis", ACIS_PURPOSE,
	        live + due - 1) != 0) {
		run->failed = 1;
		return -1;
	}
	server_stop(srv);
	return bench_interrupted ? -1 : 0;
}
