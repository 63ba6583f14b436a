/*
 * phases.c - the phases of a run, in order: the floors (IPC echo, store)
 * and the PostgreSQL alternative, so that privd's rows can be printed
 * beside them; then privd: load the fresh store; GET, PUT and mixed at
 * 1x1, 8x1 and 8x16; GET on an aged log; the auditor's query by subject;
 * GET on the big store (a second privd, the first one stopped); the
 * retention sweeper under load (a third, sweep_phase.c). Then the ratios.
 *
 * Every privd phase samples privd's /proc before and after its timed part
 * (CPU per request, RSS at its end), and the GET phases the store's used
 * size (bytes of store per audited GET). A phase with any error ends the
 * run: its row is not printed, the first error is, and the exit status
 * is 1.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "alternative.h"
#include "phases.h"

static const struct level {
	int clients, inflight;
} levels[] = {{1, 1}, {8, 1}, {8, 16}};
#define N_LEVELS     (sizeof(levels) / sizeof(levels[0]))
#define LOAD_CLIENTS 8
#define LOAD_FLIGHT  16
#define PROGRESS_NS  (5ull * 1000000000u)

/* What the hooks of one load run measure about the server. */
typedef struct probe {
	bench_server *srv;
	pid_t pid; /* the process to sample; 0: none */
	bool store;
	proc_sample p0, p1;
	long long used0, used1, file;
	/* progress of a long count-limited run */
	const char *label;
	uint64_t total, t0, last;
	/* the caller's own hooks, run after the probe's */
	void (*then_start)(void *arg);
	void (*then_end)(void *arg);
	void *then_arg;
} probe;

static void
probe_start(void *arg)
{
	probe *p = arg;
	long long file;

	proc_sample_take(p->pid, &p->p0);
	p->used0 = -1;
	if (p->store && p->srv != NULL)
		server_store_size(p->srv, &file, &p->used0);
	p->t0 = p->last = bench_now_ns();
	if (p->then_start != NULL)
		p->then_start(p->then_arg);
}

static void
probe_end(void *arg)
{
	probe *p = arg;

	proc_sample_take(p->pid, &p->p1);
	p->used1 = -1;
	if (p->store && p->srv != NULL)
		server_store_size(p->srv, &p->file, &p->used1);
	if (p->then_end != NULL)
		p->then_end(p->then_arg);
}

static bool
probe_tick(void *arg, uint64_t done)
{
	probe *p = arg;
	uint64_t now = bench_now_ns();

	if (p->label != NULL && now - p->last >= PROGRESS_NS) {
		p->last = now;
		fprintf(stderr, "privd-bench: %s: %llu of %llu (%.0f/s)\n",
		    p->label, (unsigned long long)done,
		    (unsigned long long)p->total,
		    (double)done * 1e9 / (double)(now - p->t0));
	}
	return p->srv == NULL || server_alive(p->srv);
}

static void
fill_row(bench_row *row, const char *group, const char *phase, int c, int f,
    const load_result *r)
{
	memset(row, 0, sizeof(*row));
	snprintf(row->group, sizeof(row->group), "%s", group);
	snprintf(row->phase, sizeof(row->phase), "%s", phase);
	snprintf(row->id, sizeof(row->id), "%s/%s/%dx%d", group, phase, c, f);
	row->clients = c;
	row->inflight = f;
	row->requests = r->requests;
	row->seconds = r->seconds;
	row->rps = r->seconds > 0 ? (double)r->requests / r->seconds : 0;
	row->p50_us = r->p50_us;
	row->p99_us = r->p99_us;
	row->p999_us = r->p999_us;
	row->cpu_us_per_req = -1;
	row->rss_anon_kb = row->rss_file_kb = -1;
	row->store_bytes_per_req = -1;
	row->vs = -1;
}

/* The row's floor (see bench_row.vs), if it was measured. */
static void
row_vs(const bench_report *rep, bench_row *row)
{
	const bench_row *f = NULL;
	char id[48];

	if (strcmp(row->group, "privd") != 0)
		return;
	if (strcmp(row->phase, "get") == 0 ||
	    strcmp(row->phase, "mixed") == 0) {
		snprintf(id, sizeof(id), "echo/echo/%dx%d", row->clients,
		    row->inflight);
		f = report_find(rep, id);
	} else if (strcmp(row->phase, "put") == 0) {
		snprintf(id, sizeof(id), "store/put/1x%d",
		    row->clients * row->inflight);
		f = report_find(rep, id);
	} else if (strcmp(row->phase, "get-aged") == 0 ||
	           strcmp(row->phase, "get-big") == 0) {
		f = report_find(rep, "privd/get/8x16");
	}
	if (f != NULL && f->rps > 0) {
		row->vs = row->rps / f->rps;
		snprintf(row->vs_of, sizeof(row->vs_of), "%s", f->id);
	}
}

void
phase_failed(
    bench_run *run, bench_server *srv, const char *what, const load_result *r)
{
	run->failed = 1;
	if (bench_interrupted)
		return; /* main.c says so */
	fprintf(stderr,
	    "privd-bench: FAILED: %s: %llu error%s; the first: %s\n", what,
	    (unsigned long long)r->errors, r->errors == 1 ? "" : "s",
	    r->first_error[0] ? r->first_error : "(none recorded)");
	if (srv != NULL)
		server_dump_log(srv);
}

/* See phases.h. */
int
phase_measure(bench_run *run, bench_server *srv, load_spec *s, pid_t pid,
    const char *group, const char *phase, bool add_row, load_result *out)
{
	load_result r;
	bench_row row;
	probe p = {.srv = srv,
	    .pid = pid,
	    .store = srv != NULL,
	    .then_start = s->at_start,
	    .then_end = s->at_end,
	    .then_arg = s->arg};
	char what[64];
	double cpu;
	int rc;

	if (s->seconds <= 0 && s->count > 100000) {
		p.label = phase;
		p.total = s->count;
	}
	s->at_start = probe_start;
	s->at_end = probe_end;
	s->tick = probe_tick;
	s->arg = &p;
	s->seed = run->rep.nrows * 7919 + 17;
	snprintf(what, sizeof(what), "%s %s %dx%d", group, phase, s->clients,
	    s->inflight);
	rc = load_run(s, &r);
	/* the spec keeps no pointer to this frame's probe */
	s->at_start = p.then_start;
	s->at_end = p.then_end;
	s->tick = NULL;
	s->arg = p.then_arg;
	if (rc != 0 || r.errors > 0 || r.requests == 0) {
		if (r.errors == 0 && r.first_error[0] == '\0')
			snprintf(r.first_error, sizeof(r.first_error),
			    "no request was answered");
		if (r.errors == 0)
			r.errors = 1;
		phase_failed(run, srv, what, &r);
		return -1;
	}
	if (out != NULL)
		*out = r;
	if (!add_row)
		return 0;
	fill_row(&row, group, phase, s->clients, s->inflight, &r);
	if ((cpu = proc_cpu_us(&p.p0, &p.p1)) >= 0)
		row.cpu_us_per_req = cpu / (double)r.requests;
	row.rss_anon_kb = p.p1.ok ? p.p1.rss_anon_kb : -1;
	row.rss_file_kb = p.p1.ok ? p.p1.rss_file_kb : -1;
	/* a run that something else ends (a sweep) shares the store's
	 * growth with it: no bytes per request */
	if (p.used0 >= 0 && p.used1 >= 0 && s->stop == NULL &&
	    (s->kind == LOAD_GET || s->kind == LOAD_AUDITQ))
		row.store_bytes_per_req =
		    (double)(p.used1 - p.used0) / (double)r.requests;
	row_vs(&run->rep, &row);
	report_add(&run->rep, &row);
	return 0;
}

static int
measure(bench_run *run, bench_server *srv, load_spec *s, pid_t pid,
    const char *group, const char *phase, bool add_row)
{
	return phase_measure(run, srv, s, pid, group, phase, add_row, NULL);
}

/* See phases.h. */
void
phase_spec(bench_run *run, bench_server *srv, load_spec *s, load_kind kind,
    int c, int f, bool auditor)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	s->endpoint = srv->endpoint;
	s->server_key = srv->server_key;
	s->pub = auditor ? srv->aud_pub : srv->pub;
	s->sec = auditor ? srv->aud_sec : srv->sec;
	s->clients = c;
	s->inflight = f;
	s->seconds = run->o->seconds;
	s->nsubjects = run->o->subjects;
	s->get_fields = run->o->get_fields;
	s->nget = run->o->nget;
}

/* Load subjects 0..n-1 with pipelined PUTs of all five fields. */
int
phase_fill(bench_run *run, bench_server *srv, uint64_t n, const char *group,
    const char *phase)
{
	load_spec s;

	phase_spec(run, srv, &s, LOAD_FILL, LOAD_CLIENTS, LOAD_FLIGHT, false);
	s.seconds = 0;
	s.count = n;
	s.first = 0;
	s.nsubjects = n;
	fprintf(stderr, "privd-bench: loading %llu subjects\n",
	    (unsigned long long)n);
	return measure(run, srv, &s, srv->pid, group, phase, true);
}

static int
fill(bench_run *run, bench_server *srv, uint64_t n)
{
	return phase_fill(
	    run, srv, n, "privd", srv == &run->big ? "load-big" : "load");
}

/*
 * Issue GETs (8x16) until privd's audit log holds at least target events,
 * as AuditCheckpoints' last_seq says. Without an auditor key (an external
 * privd), it issues target GETs: the log then holds at least that many.
 */
static int
grow_log(bench_run *run, bench_server *srv, uint64_t target)
{
	uint64_t seq = 0;
	load_spec s;

	for (;;) {
		if (srv->has_auditor && server_last_seq(srv, &seq) != 0) {
			run->failed = 1;
			return -1;
		}
		if (seq >= target || bench_interrupted)
			break;
		fprintf(stderr,
		    "privd-bench: the audit log holds %llu events; issuing "
		    "GETs until it holds %llu\n",
		    (unsigned long long)seq, (unsigned long long)target);
		phase_spec(
		    run, srv, &s, LOAD_GET, LOAD_CLIENTS, LOAD_FLIGHT, false);
		if (srv == &run->big)
			s.nsubjects = run->o->big_subjects;
		s.seconds = 0;
		s.count = target - seq;
		if (measure(run, srv, &s, srv->pid, "privd", "aging", false) !=
		    0)
			return -1;
		if (!srv->has_auditor)
			break;
	}
	return bench_interrupted ? -1 : 0;
}

static int
privd_levels(bench_run *run, load_kind kind, const char *phase)
{
	load_spec s;

	for (size_t i = 0; i < N_LEVELS && !bench_interrupted; i++) {
		phase_spec(run, &run->srv, &s, kind, levels[i].clients,
		    levels[i].inflight, false);
		if (measure(run, &run->srv, &s, run->srv.pid, "privd", phase,
		        true) != 0)
			return -1;
	}
	return 0;
}

static int
echo_levels(bench_run *run)
{
	char ep[BENCH_PATH_MAX + 16], pub[BENCH_KEY_LEN], sec[BENCH_KEY_LEN];
	load_spec s;
	int port;

	if (run->o->tcp) {
		if ((port = bench_free_tcp_port()) < 0) {
			run->failed = 1;
			return -1;
		}
		snprintf(ep, sizeof(ep), "tcp://127.0.0.1:%d", port);
	} else {
		snprintf(ep, sizeof(ep), "ipc://%s/echo", run->workdir);
	}
	/* any client key will do: the echo server has no ZAP handler */
	if (zmq_curve_keypair(pub, sec) != 0) {
		run->failed = 1;
		return -1;
	}
	if (echo_start(&run->echo, ep, run->rep.get_reply_bytes) != 0) {
		fprintf(stderr, "privd-bench: cannot start the echo server\n");
		run->failed = 1;
		return -1;
	}
	for (size_t i = 0; i < N_LEVELS && !bench_interrupted; i++) {
		memset(&s, 0, sizeof(s));
		s.kind = LOAD_ECHO;
		s.endpoint = run->echo.endpoint;
		s.server_key = run->echo.server_key;
		s.pub = pub;
		s.sec = sec;
		s.clients = levels[i].clients;
		s.inflight = levels[i].inflight;
		s.seconds = run->o->seconds;
		s.echo_req = run->rep.get_req_bytes;
		s.echo_reply = run->rep.get_reply_bytes;
		if (measure(run, NULL, &s, run->echo.pid, "echo", "echo",
		        true) != 0) {
			echo_stop(&run->echo);
			return -1;
		}
	}
	echo_stop(&run->echo);
	return 0;
}

static int
store_levels(bench_run *run)
{
	char dir[BENCH_PATH_MAX + 16], err[256];
	store_floor *f = NULL;
	load_result r;
	bench_row row;
	double cpu;
	int rc = 0;

	snprintf(dir, sizeof(dir), "%s/floor", run->workdir);
	fprintf(stderr, "privd-bench: store floor: loading %llu subjects\n",
	    (unsigned long long)run->o->subjects);
	if (store_floor_open(dir, run->o->subjects, &f, err, sizeof(err)) !=
	    0) {
		fprintf(stderr, "privd-bench: FAILED: %s\n", err);
		run->failed = 1;
		return -1;
	}
	for (int put = 0; put <= 1 && rc == 0; put++) {
		for (size_t i = 0; i < N_LEVELS && rc == 0; i++) {
			int batch = levels[i].clients * levels[i].inflight;

			if (store_floor_run(f, put, batch, run->o->seconds,
			        run->o->get_fields, run->o->nget, &r,
			        &cpu) != 0) {
				phase_failed(run, NULL, "store floor", &r);
				rc = -1;
				break;
			}
			fill_row(
			    &row, "store", put ? "put" : "get", 1, batch, &r);
			row.cpu_us_per_req = cpu;
			report_add(&run->rep, &row);
		}
	}
	store_floor_close(&f);
	return rc;
}

static int
audit_levels(bench_run *run)
{
	static const struct level al[] = {{1, 1}, {8, 1}};
	load_spec s;

	if (!run->srv.has_auditor) {
		report_note(&run->rep, "audit query phases skipped: no "
		                       "--auditor-key");
		return 0;
	}
	if (grow_log(run, &run->srv, run->o->audit_events) != 0)
		return -1;
	for (size_t i = 0; i < 2 && !bench_interrupted; i++) {
		phase_spec(run, &run->srv, &s, LOAD_AUDITQ, al[i].clients,
		    al[i].inflight, true);
		if (measure(run, &run->srv, &s, run->srv.pid, "privd", "auditq",
		        true) != 0)
			return -1;
	}
	return 0;
}

static int
big_store(bench_run *run)
{
	const char *extra[18];
	load_spec s;
	size_t i;

	if (run->srv.h == NULL && run->o->endpoint != NULL) {
		report_note(&run->rep, "big store phase skipped: it needs a "
		                       "privd of its own (no --endpoint)");
		return 0;
	}
	/* one privd at a time: the big one gets the machine */
	server_stop(&run->srv);
	for (i = 0; i < run->o->nprivd_args; i++)
		extra[i] = run->o->privd_args[i];
	extra[i] = NULL;
	if (server_start(&run->big, run->o->policy, run->o->tcp, extra, false,
	        NULL) != 0) {
		run->failed = 1;
		return -1;
	}
	if (fill(run, &run->big, run->o->big_subjects) != 0)
		return -1;
	/* no cliff: many subjects and a long log together */
	if (grow_log(run, &run->big, run->o->aged_events) != 0)
		return -1;
	phase_spec(
	    run, &run->big, &s, LOAD_GET, LOAD_CLIENTS, LOAD_FLIGHT, false);
	s.nsubjects = run->o->big_subjects;
	if (measure(run, &run->big, &s, run->big.pid, "privd", "get-big",
	        true) != 0)
		return -1;
	server_stop(&run->big);
	return 0;
}

/*
 * The soak: soak_requests GETs (8x16) in ten legs, privd's resident memory
 * read after each. Anonymous memory must stay flat: privd keeps nothing
 * per request beyond it (the index collector is bounded by its flush).
 */
static int
soak(bench_run *run)
{
	uint64_t leg = run->o->soak_requests / 10, done;
	proc_sample ps;
	long first = -1, most = -1;
	load_spec s;
	char line[160];
	size_t i;

	fprintf(stderr, "privd-bench: soak: %llu GETs in ten legs\n",
	    (unsigned long long)run->o->soak_requests);
	for (i = 1, done = 0; i <= 10 && !bench_interrupted; i++) {
		phase_spec(run, &run->srv, &s, LOAD_GET, LOAD_CLIENTS,
		    LOAD_FLIGHT, false);
		s.seconds = 0;
		s.count = leg;
		if (measure(run, &run->srv, &s, run->srv.pid, "privd", "soak",
		        false) != 0)
			return -1;
		done += leg;
		proc_sample_take(run->srv.pid, &ps);
		if (!ps.ok)
			continue;
		if (first < 0)
			first = ps.rss_anon_kb;
		if (ps.rss_anon_kb > most)
			most = ps.rss_anon_kb;
		snprintf(line, sizeof(line),
		    "soak: after %llu GETs privd's RSS is %ld kB anonymous, "
		    "%ld kB file",
		    (unsigned long long)done, ps.rss_anon_kb, ps.rss_file_kb);
		report_note(&run->rep, "%s", line);
	}
	if (first > 0)
		report_ratio(&run->rep, "soak-anon",
		    "anonymous RSS, most over the soak / after its first tenth",
		    (double)most / (double)first, "flat");
	return bench_interrupted ? -1 : 0;
}

/* The fresh store's size and event count, before it goes. */
static void
store_figures(bench_run *run)
{
	server_store_size(
	    &run->srv, &run->rep.store_file_bytes, &run->rep.store_used_bytes);
	if (run->srv.has_auditor)
		server_last_seq(&run->srv, &run->rep.audit_events);
}

int
phases_run(bench_run *run)
{
	const bench_opts *o = run->o;
	const char *extra[17], *spec = NULL;
	bool lmdb = o->store == NULL || strcmp(o->store, "lmdb") == 0;
	size_t i;

	run->rep.store_file_bytes = run->rep.store_used_bytes = -1;
	/* the floors first, so that privd's rows can be set beside them */
	if ((o->phases & PH_ECHO) && echo_levels(run) != 0)
		return -1;
	if ((o->phases & PH_STORE) && store_levels(run) != 0)
		return -1;
	if (o->phases & PH_PG)
		alternative_run(&run->rep, o->pg_prog, o->subjects, o->seconds,
		    "get:1x1,get:8x16,put:1x1,put:8x16");
	if ((o->phases & PH_PRIVD) != 0) {
		for (i = 0; i < o->nprivd_args; i++)
			extra[i] = o->privd_args[i];
		extra[i] = NULL;
		if (o->endpoint == NULL && phase_store_spec(run, &spec) != 0)
			return -1;
		if (o->endpoint != NULL
		        ? server_external(&run->srv, o->endpoint, o->server_key,
		              o->key_file, o->auditor_file, o->pid,
		              o->data_dir) != 0
		        : server_start(&run->srv, o->policy, o->tcp, extra,
		              false, spec) != 0) {
			run->failed = 1;
			return -1;
		}
		if (server_version(&run->srv, run->rep.privd_version,
		        sizeof(run->rep.privd_version)) != 0) {
			fprintf(stderr, "privd-bench: privd does not answer a "
			                "ping\n");
			run->failed = 1;
			return -1;
		}
	}
	if ((o->phases & PH_PRIVD) != 0 &&
	    fill(run, &run->srv, o->subjects) != 0)
		return -1;
	if ((o->phases & PH_GET) && privd_levels(run, LOAD_GET, "get") != 0)
		return -1;
	if ((o->phases & PH_PUT) && privd_levels(run, LOAD_PUT, "put") != 0)
		return -1;
	if ((o->phases & PH_MIXED) &&
	    privd_levels(run, LOAD_MIXED, "mixed") != 0)
		return -1;
	if (o->phases & PH_AGED) {
		load_spec s;

		if (grow_log(run, &run->srv, o->aged_events) != 0)
			return -1;
		phase_spec(run, &run->srv, &s, LOAD_GET, LOAD_CLIENTS,
		    LOAD_FLIGHT, false);
		if (measure(run, &run->srv, &s, run->srv.pid, "privd",
		        "get-aged", true) != 0)
			return -1;
	}
	if ((o->phases & PH_AUDIT) && audit_levels(run) != 0)
		return -1;
	if ((o->phases & PH_SOAK) && soak(run) != 0)
		return -1;
	if (o->phases & PH_PRIVD)
		store_figures(run);
	if ((o->phases & PH_PGSTORE) && pgstore_phase(run) != 0)
		return -1;
	if ((o->phases & PH_LOCKCOST) && lockcost_phase(run) != 0)
		return -1;
	/* one private PostgreSQL per store: these two need stores of their
	 * own, which only LMDB gives them today */
	if ((o->phases & (PH_BIG | PH_SWEEP)) && !lmdb)
		report_note(&run->rep, "big store and sweep phases skipped: "
		                       "they run on LMDB only (--store)");
	if ((o->phases & PH_BIG) && lmdb && big_store(run) != 0)
		return -1;
	if ((o->phases & PH_SWEEP) && lmdb && sweep_phase(run) != 0)
		return -1;
	return bench_interrupted ? -1 : 0;
}

static double
rps_of(const bench_report *rep, const char *id)
{
	const bench_row *r = report_find(rep, id);

	return r != NULL && r->rps > 0 ? r->rps : -1;
}

static void
ratio(bench_report *rep, const char *id, const char *what, double a, double b,
    const char *target)
{
	if (a >= 0 && b > 0)
		report_ratio(rep, id, what, a / b, target);
}

void
phases_ratios(bench_run *run)
{
	bench_report *rep = &run->rep;
	const bench_row *g1 = report_find(rep, "privd/get/1x1"),
	                *e1 = report_find(rep, "echo/echo/1x1"),
	                *s1 = report_find(rep, "store/get/1x1"),
	                *g = report_find(rep, "privd/get/8x16");
	double fresh = rps_of(rep, "privd/get/8x16");

	ratio(rep, "get_8x16_vs_echo", "GET 8x16 / IPC echo 8x16", fresh,
	    rps_of(rep, "echo/echo/8x16"), ">= 0.40");
	ratio(rep, "aged_vs_fresh", "GET 8x16 aged log / fresh store",
	    rps_of(rep, "privd/get-aged/8x16"), fresh, ">= 0.8");
	ratio(rep, "big_vs_fresh",
	    "GET 8x16 big store (1M subjects, 2M+ events) / fresh",
	    rps_of(rep, "privd/get-big/8x16"), fresh, ">= 0.8");
	if (g1 != NULL && e1 != NULL && s1 != NULL)
		ratio(rep, "get_1x1_p50_vs_floor",
		    "GET 1x1 p50 / (echo 1x1 p50 + store commit of one GET)",
		    g1->p50_us, e1->p50_us + s1->p50_us, "<= 1.25");
	ratio(rep, "put_8x16_vs_store", "PUT 8x16 / store floor PUT, batch 128",
	    rps_of(rep, "privd/put/8x16"), rps_of(rep, "store/put/1x128"),
	    ">= 0.7");
	ratio(rep, "get_8x16_vs_pg", "GET 8x16 / PostgreSQL GET 8x16", fresh,
	    rps_of(rep, "pg/get/8x16"), ">= 10");
	/* the PostgreSQL backend (pgstore) against LMDB and the pgcrypto
	 * alternative: context, no target */
	ratio(rep, "pgstore_get_8x16_vs_lmdb",
	    "GET 8x16 on the PostgreSQL backend / on LMDB",
	    rps_of(rep, "privd-pg/get/8x16"), fresh, "");
	ratio(rep, "pgstore_put_8x16_vs_lmdb",
	    "PUT 8x16 on the PostgreSQL backend / on LMDB",
	    rps_of(rep, "privd-pg/put/8x16"), rps_of(rep, "privd/put/8x16"),
	    "");
	ratio(rep, "pgstore_get_8x16_vs_pg",
	    "GET 8x16 on the PostgreSQL backend / pgcrypto alternative",
	    rps_of(rep, "privd-pg/get/8x16"), rps_of(rep, "pg/get/8x16"), "");
	ratio(rep, "pgstore_put_8x16_vs_pg",
	    "PUT 8x16 on the PostgreSQL backend / pgcrypto alternative",
	    rps_of(rep, "privd-pg/put/8x16"), rps_of(rep, "pg/put/8x16"), "");
	/* two privd nodes on the one database against one node: what the
	 * writers' lock's hand-over costs (context, no target) */
	ratio(rep, "pgstore_2nodes_get_8x16",
	    "GET 8x16 through two nodes on one PostgreSQL / through one",
	    rps_of(rep, "privd-pg-2nodes/get/8x16"),
	    rps_of(rep, "privd-pg/get/8x16"), "");
	ratio(rep, "pgstore_2nodes_put_8x16",
	    "PUT 8x16 through two nodes on one PostgreSQL / through one",
	    rps_of(rep, "privd-pg-2nodes/put/8x16"),
	    rps_of(rep, "privd-pg/put/8x16"), "");
	if (g != NULL && g->store_bytes_per_req >= 0)
		report_ratio(rep, "store_bytes_per_get",
		    "store bytes per audited GET (GET 8x16)",
		    g->store_bytes_per_req, "<= 200");
}
