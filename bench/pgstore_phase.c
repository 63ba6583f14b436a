/*
 * pgstore_phase.c - privd on its PostgreSQL backend (issue 12, the
 * benchmark's --store postgresql mode), beside the same load on LMDB and on
 * the pgcrypto alternative in the same run.
 *
 * The phase group "pgstore" stops the LMDB privd (one privd at a time: the
 * measured one gets the machine), starts a private PostgreSQL with the
 * alternative's durable settings (pg_store.c), `privd init --store` on it,
 * loads the subjects as the LMDB store was loaded, and runs GET and PUT at
 * 1x1 and 8x16 as rows "privd-pg/...". Each row's cpu/req is privd's; the
 * PostgreSQL server's CPU per request (postmaster and backends) is a note,
 * since on this backend a good part of a request's work moves there, and
 * so are the statements privd sent per request (pg_store.h), which say
 * how many round trips a request costs and where they go. Then a second
 * privd node joins the first on the same database and GET and PUT 8x16
 * run with half the clients on each, as rows "privd-pg-2nodes/...": every
 * write transaction of either node takes the writers' advisory lock, so
 * these rows against the one-node ones say what that lock costs.
 * `--store postgresql` instead runs every privd phase of the run on such a
 * server (and this group then has nothing to add: it is skipped).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"
#include "phases.h"

#define PGS_GROUP  "privd-pg"
#define PGS2_GROUP "privd-pg-2nodes"

static const struct {
	load_kind kind;
	const char *phase;
	int clients, inflight;
} pgs_levels[] = {{LOAD_GET, "get", 1, 1}, {LOAD_GET, "get", 8, 16},
    {LOAD_PUT, "put", 1, 1}, {LOAD_PUT, "put", 8, 16}};

/* The server's CPU around a timed part (load_spec hooks). */
typedef struct pg_cpu {
	bench_pgstore *pg;
	double t0, t1;
} pg_cpu;

static void
cpu_start(void *arg)
{
	pg_cpu *c = arg;

	pgstore_stmts_reset(c->pg);
	c->t0 = pgstore_cpu_us(c->pg);
}

static void
cpu_end(void *arg)
{
	pg_cpu *c = arg;

	c->t1 = pgstore_cpu_us(c->pg);
}

/* Start run->pg if it is not running; 0, 1 (not here: why), -1 (why). */
static int
pg_up(bench_run *run, char *why, size_t len)
{
	int rc;

	if (run->pg != NULL)
		return 0;
	fprintf(stderr, "privd-bench: starting a private PostgreSQL for "
	                "privd's store\n");
	rc = pgstore_start(
	    &run->pg, run->pg_spec, sizeof(run->pg_spec), why, len);
	if (rc != 0)
		pgstore_stop(&run->pg);
	return rc;
}

int
phase_store_spec(bench_run *run, const char **spec)
{
	const char *st = run->o->store;
	char why[512];
	int rc;

	*spec = NULL;
	if (st == NULL || strcmp(st, "lmdb") == 0)
		return 0;
	if (strcmp(st, "postgresql") != 0) {
		*spec = st; /* a conninfo (or lmdb:DIR): never printed */
		report_note(&run->rep, "privd's store: the one given with "
		                       "--store");
		return 0;
	}
	if ((rc = pg_up(run, why, sizeof(why))) != 0) {
		fprintf(stderr, "privd-bench: FAILED: --store postgresql: %s\n",
		    why);
		run->failed = 1;
		return -1;
	}
	report_note(&run->rep, "privd's store: a private PostgreSQL (fsync "
	                       "and synchronous_commit on)");
	*spec = run->pg_spec;
	return 0;
}

/* Run kind at pgs_levels as rows privd-pg/phase/CxF, with the PostgreSQL
 * server's CPU per request as a note. 0 or -1. */
static int
pgstore_levels(
    bench_run *run, bench_server *srv, load_kind kind, const char *phase)
{
	for (size_t i = 0; i < sizeof(pgs_levels) / sizeof(pgs_levels[0]) &&
	                   !bench_interrupted;
	     i++) {
		pg_cpu cpu = {.pg = run->pg, .t0 = -1, .t1 = -1};
		char stmts[2048];
		load_result r;
		load_spec s;

		if (pgs_levels[i].kind != kind)
			continue;
		phase_spec(run, srv, &s, kind, pgs_levels[i].clients,
		    pgs_levels[i].inflight, false);
		s.at_start = cpu_start;
		s.at_end = cpu_end;
		s.arg = &cpu;
		if (phase_measure(run, srv, &s, srv->pid, PGS_GROUP, phase,
		        true, &r) != 0)
			return -1;
		if (cpu.t0 >= 0 && cpu.t1 >= cpu.t0 && r.requests > 0)
			report_note(&run->rep,
			    "%s %s %dx%d: the PostgreSQL server's CPU %.0f "
			    "us/req (besides privd's)",
			    PGS_GROUP, phase, pgs_levels[i].clients,
			    pgs_levels[i].inflight,
			    (cpu.t1 - cpu.t0) / (double)r.requests);
		/* every statement on stderr, the first few in the report */
		if (pgstore_stmts(
		        run->pg, r.requests, 24, stmts, sizeof(stmts)) == 0)
			fprintf(stderr, "privd-bench: %s %s %dx%d: %s\n",
			    PGS_GROUP, phase, pgs_levels[i].clients,
			    pgs_levels[i].inflight, stmts);
		if (pgstore_stmts(
		        run->pg, r.requests, 4, stmts, sizeof(stmts)) == 0)
			report_note(&run->rep, "%s %s %dx%d: %s", PGS_GROUP,
			    phase, pgs_levels[i].clients,
			    pgs_levels[i].inflight, stmts);
	}
	return 0;
}

/*
 * Node B: a copy of node A's data directory taken with A stopped (the
 * master key, the server key, DIR/store naming the same database: how a
 * second node is made, as tests/integration/test_nodes.c does), then A and
 * B both serving with extra. *out is B (h_destroy it), or NULL. 0 or -1.
 */
static int
second_node(bench_run *run, const char *const *extra, harness **out)
{
	harness *a = run->pgs.h, *b = NULL;
	const char *cp[5];
	h_result r;

	*out = NULL;
	if (a == NULL || h_stop(a, 30000, NULL) != 0 || (b = h_new()) == NULL)
		goto fail;
	cp[0] = "/bin/cp";
	cp[1] = "-a";
	cp[2] = a->data_dir;
	cp[3] = b->data_dir;
	cp[4] = NULL;
	if (h_run(a, cp, H_RUN_TIMEOUT_MS, &r) != 0 || r.timed_out ||
	    !WIFEXITED(r.wstatus) || WEXITSTATUS(r.wstatus) != 0) {
		fprintf(
		    stderr, "privd-bench: cannot copy the data directory\n");
		goto fail;
	}
	/* A's client keys too: h_start waits for privd with a ping */
	memcpy(b->keys, a->keys, sizeof(a->keys));
	b->nkeys = a->nkeys;
	memcpy(b->server_key, a->server_key, sizeof(a->server_key));
	if (h_start(a, extra) != 0 || h_start(b, extra) != 0)
		goto fail;
	run->pgs.pid = a->pid;
	*out = b;
	return 0;
fail:
	fprintf(stderr, "privd-bench: cannot start a second privd node\n");
	h_destroy(&b);
	return -1;
}

/*
 * GET and PUT 8x16 through two privd nodes on the one database, the odd
 * clients on node B: every write transaction of either node takes the
 * writers' advisory lock, so this is what the lock's hand-over between
 * two writers costs against the one-node rows above. privd's cpu/req is
 * not recorded (two processes); PostgreSQL's is a note, as above.
 */
static int
pgstore_two_nodes(bench_run *run, const char *const *extra)
{
	static const load_kind kinds[] = {LOAD_GET, LOAD_PUT};
	static const char *const names[] = {"get", "put"};
	harness *b = NULL;
	int rc = 0;

	fprintf(stderr, "privd-bench: a second privd node on the same "
	                "PostgreSQL database\n");
	if (second_node(run, extra, &b) != 0) {
		run->failed = 1;
		return -1;
	}
	for (size_t i = 0; i < 2 && !bench_interrupted && rc == 0; i++) {
		pg_cpu cpu = {.pg = run->pg, .t0 = -1, .t1 = -1};
		char stmts[2048];
		load_result r;
		load_spec s;

		phase_spec(run, &run->pgs, &s, kinds[i], 8, 16, false);
		s.endpoint2 = b->endpoint;
		s.at_start = cpu_start;
		s.at_end = cpu_end;
		s.arg = &cpu;
		if (phase_measure(run, &run->pgs, &s, 0, PGS2_GROUP, names[i],
		        true, &r) != 0) {
			h_dump_log(b, 30);
			rc = -1;
			break;
		}
		if (cpu.t0 >= 0 && cpu.t1 >= cpu.t0 && r.requests > 0)
			report_note(&run->rep,
			    "%s %s 8x16 (half the clients on each node): the "
			    "PostgreSQL server's CPU %.0f us/req",
			    PGS2_GROUP, names[i],
			    (cpu.t1 - cpu.t0) / (double)r.requests);
		if (pgstore_stmts(
		        run->pg, r.requests, 24, stmts, sizeof(stmts)) == 0)
			fprintf(stderr, "privd-bench: %s %s 8x16: %s\n",
			    PGS2_GROUP, names[i], stmts);
		if (pgstore_stmts(
		        run->pg, r.requests, 4, stmts, sizeof(stmts)) == 0)
			report_note(&run->rep, "%s %s 8x16: %s", PGS2_GROUP,
			    names[i], stmts);
	}
	h_destroy(&b);
	return rc;
}

int
pgstore_phase(bench_run *run)
{
	const bench_opts *o = run->o;
	const char *extra[17];
	char why[512];
	size_t i;
	int rc;

	if (o->store != NULL && strcmp(o->store, "lmdb") != 0) {
		report_note(&run->rep, "pgstore phases skipped: --store "
		                       "already runs privd on PostgreSQL");
		return 0;
	}
	/* one privd at a time */
	server_stop(&run->srv);
	if ((rc = pg_up(run, why, sizeof(why))) == 1) {
		report_note(&run->rep, "pgstore phases skipped: %s", why);
		return 0;
	} else if (rc != 0) {
		fprintf(stderr, "privd-bench: FAILED: PostgreSQL: %s\n", why);
		run->failed = 1;
		return -1;
	}
	for (i = 0; i < o->nprivd_args; i++)
		extra[i] = o->privd_args[i];
	extra[i] = NULL;
	if (server_start(&run->pgs, o->policy, o->tcp, extra, false,
	        run->pg_spec) != 0) {
		run->failed = 1;
		return -1;
	}
	if (phase_fill(run, &run->pgs, o->subjects, PGS_GROUP, "load") != 0 ||
	    pgstore_levels(run, &run->pgs, LOAD_GET, "get") != 0 ||
	    pgstore_levels(run, &run->pgs, LOAD_PUT, "put") != 0 ||
	    pgstore_two_nodes(run, extra) != 0)
		return -1;
	server_stop(&run->pgs);
	pgstore_stop(&run->pg);
	return bench_interrupted ? -1 : 0;
}
