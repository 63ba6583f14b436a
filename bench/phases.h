/*
 * phases.h - the phases of a run (phases.c), driven by main.c.
 */
#ifndef PRIVD_BENCH_PHASES_H
#define PRIVD_BENCH_PHASES_H

#include "bench.h"
#include "floors.h"
#include "pg_store.h"
#include "server.h"

/* Phase groups (--phases). */
enum {
	PH_GET = 1 << 0,
	PH_PUT = 1 << 1,
	PH_MIXED = 1 << 2,
	PH_ECHO = 1 << 3,
	PH_STORE = 1 << 4,
	PH_PG = 1 << 5,
	PH_AGED = 1 << 6,
	PH_AUDIT = 1 << 7,
	PH_BIG = 1 << 8,
	PH_SOAK = 1 << 9,
	PH_SWEEP = 1 << 10,
	PH_PGSTORE = 1 << 11, /* GET and PUT on privd's PostgreSQL backend */
	/* the writers' lock with network latency; not in PH_ALL */
	PH_LOCKCOST = 1 << 12,
};
#define PH_QUICK (PH_GET | PH_PUT | PH_MIXED | PH_ECHO | PH_STORE)
#define PH_ALL   0xfff
/* --compare-stores: 8x16 audited GETs and PUTs on LMDB, on the PostgreSQL
 * backend and on the pgcrypto alternative, one after another */
#define PH_COMPARE (PH_GET | PH_PUT | PH_PG | PH_PGSTORE)
/* the groups that need the fresh privd */
#define PH_PRIVD (PH_GET | PH_PUT | PH_MIXED | PH_AGED | PH_AUDIT | PH_SOAK)

#define BENCH_MAX_RTTS 8 /* --pg-rtts */

typedef struct bench_opts {
	uint64_t subjects, big_subjects, aged_events, audit_events;
	uint64_t soak_requests; /* the soak phase's requests */
	uint64_t sweep_fields;  /* fields that fall due in the sweep phase */
	double seconds;
	unsigned phases;
	bool tcp;
	const char *json;
	const char *get_fields[16];
	size_t nget;
	const char *policy;
	const char *pg_prog;
	const char *privd_args[16]; /* more `privd serve` arguments */
	size_t nprivd_args;
	/* the store of the privd under test: NULL or "lmdb" (the data
	 * directory), "postgresql" (a private server), or a conninfo */
	const char *store;
	/* an external privd */
	const char *endpoint, *server_key, *key_file, *auditor_file;
	const char *data_dir;
	pid_t pid;
	/* lockcost: round-trip times to PostgreSQL (us), requests in flight
	 * of each of its 16 clients */
	unsigned pg_rtts_us[BENCH_MAX_RTTS];
	size_t npg_rtts;
	int lockcost_inflight;
} bench_opts;

/* What a run holds, for the clean-up on any way out. */
typedef struct bench_run {
	const bench_opts *o;
	bench_report rep;
	bench_server srv;             /* the fresh store (or --endpoint) */
	bench_server big;             /* the big store */
	bench_server swp;             /* the sweep phase's store */
	bench_server pgs;             /* the pgstore phases' privd */
	bench_pgstore *pg;            /* the private PostgreSQL privd runs on */
	char pg_spec[BENCH_PATH_MAX]; /* its conninfo */
	echo_server echo;
	char workdir[BENCH_PATH_MAX]; /* floors' files, echo socket */
	int failed;                   /* a phase failed: exit status 1 */
	/* lockcost: node A, node B, the proxy between them and run->pg */
	bench_server lcs;
	struct harness *lcb;
	struct delayproxy *proxy;
} bench_run;

/* Run every selected phase; 0, or -1 when a phase failed (said why). */
int phases_run(bench_run *run);

/* Compute the ratios of the rows there are. */
void phases_ratios(bench_run *run);

/* ---- for the phases of other files (phases.c) ---------------------------- */

/*
 * One load run against a privd (or the echo server: srv NULL, pid its
 * child), measured: privd's CPU and memory around its timed part, the
 * store's growth. Hooks the spec already has (at_start, at_end, with its
 * arg) run after the measurement's own. Adds a row named group/phase
 * unless add_row is false; out (may be NULL) receives the result. A
 * failed run (an error, no reply) is said on stderr and marks the run
 * failed. Returns 0 or -1.
 */
int phase_measure(bench_run *run, bench_server *srv, load_spec *s, pid_t pid,
    const char *group, const char *phase, bool add_row, load_result *out);

/* A load spec against srv as crm (as auditor with auditor set), the
 * run's seconds and subjects, the GET's fields. */
void phase_spec(bench_run *run, bench_server *srv, load_spec *s, load_kind kind,
    int c, int f, bool auditor);

/* Mark the run failed and say why (the load's first error, privd's log). */
void phase_failed(
    bench_run *run, bench_server *srv, const char *what, const load_result *r);

/* Load subjects 0..n-1 into srv with pipelined PUTs (8x16) and add the
 * row group/phase. 0 or -1. */
int phase_fill(bench_run *run, bench_server *srv, uint64_t n, const char *group,
    const char *phase);

/*
 * The store spec for `privd init` of the privd under test (--store): NULL
 * for LMDB; a private PostgreSQL started (run->pg) for "postgresql"; else
 * the conninfo given. 0, or -1 (said why; the run failed).
 */
int phase_store_spec(bench_run *run, const char **spec);

/* The pgstore phases (pgstore_phase.c): a privd on the PostgreSQL
 * backend, loaded, then GET 1x1, GET 8x16, PUT 1x1, PUT 8x16. 0 or -1. */
int pgstore_phase(bench_run *run);

/* The lockcost phases (lockcost_phase.c): one privd node and two on a
 * PostgreSQL reached through a delaying proxy, GET and PUT at each
 * --pg-rtts. 0 or -1. lockcost_cleanup stops what they started (not
 * run->pg); safe to repeat. */
int lockcost_phase(bench_run *run);
void lockcost_cleanup(bench_run *run);

/* The sweep phase (sweep_phase.c); 0 or -1. */
int sweep_phase(bench_run *run);

#endif
