/*
 * lockcost_phase.c - what the writers' lock costs across hosts (issue 12:
 * "measure what the chain's serialisation point costs"), the phase group
 * "lockcost" (not in the default run: --phases lockcost, or
 * `make bench-lockcost`).
 *
 * Every write transaction of every privd node on a PostgreSQL store takes
 * the writers' lock (pg_advisory_xact_lock, daemon/store_pg.c) first and
 * holds it to its COMMIT, across all its round trips to the server; on
 * this backend an audited GET writes its audit event in such a
 * transaction too. On one host a round trip is a few microseconds; across
 * hosts it is 0.1 to 2 ms, and the lock is held for that many times longer.
 * This machine has loopback only, and its kernel has no netem qdisc, so
 * privd reaches PostgreSQL through delayproxy.c, which delays each chunk
 * by half the round-trip time each way and times the write transactions
 * it sees (how long the lock was held, how long waited for, how many
 * round trips inside).
 *
 * The run: a private PostgreSQL (pg_store.c, durable settings), privd
 * node A on it through the proxy, the subjects loaded (round trip 0), node
 * B made from A's data directory (as pgstore_phase.c does); then for each
 * round-trip time (--pg-rtts): GET with 16 clients on A alone ("lc-1node"),
 * then 8 on each node ("lc-2nodes"), then PUT the same; one node's and two
 * nodes' rows side by side at each delay, so the machine's noise shifts
 * both alike. B runs idle during the one-node rows (as a cluster's second
 * node would). Rows go to the table; the lock's figures to a table of
 * their own after it, and a note per round-trip time.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "delayproxy.h"
#include "harness.h"
#include "phases.h"

#define LC_CLIENTS 16
#define LC_MAX     (4 * BENCH_MAX_RTTS)

/* One measured row and the proxy's figures over its timed part. */
typedef struct lc_row {
	unsigned rtt_us;
	int nodes;
	load_kind kind;
	load_result r;
	dp_stats st;
} lc_row;

static lc_row rows[LC_MAX];
static size_t nrows;

static void
stats_start(void *arg)
{
	dp_stats_reset(arg);
}

static void
stats_end(void *arg)
{
	/* the row being measured is the next one */
	if (nrows < LC_MAX)
		dp_stats_get(arg, &rows[nrows].st);
}

/* Node B: as pgstore_phase.c's second_node. 0 or -1. */
static int
node_b(bench_run *run, const char *const *extra)
{
	harness *a = run->lcs.h, *b = NULL;
	const char *cp[] = {"/bin/cp", "-a", NULL, NULL, NULL};
	h_result r;

	if (a == NULL || h_stop(a, 30000, NULL) != 0 || (b = h_new()) == NULL)
		goto fail;
	cp[2] = a->data_dir;
	cp[3] = b->data_dir;
	if (h_run(a, cp, H_RUN_TIMEOUT_MS, &r) != 0 || r.timed_out ||
	    !WIFEXITED(r.wstatus) || WEXITSTATUS(r.wstatus) != 0)
		goto fail;
	memcpy(b->keys, a->keys, sizeof(a->keys));
	b->nkeys = a->nkeys;
	memcpy(b->server_key, a->server_key, sizeof(a->server_key));
	run->lcb = b;
	if (h_start(a, extra) != 0 || h_start(b, extra) != 0)
		goto fail;
	run->lcs.pid = a->pid;
	return 0;
fail:
	fprintf(stderr, "privd-bench: cannot start a second privd node\n");
	if (run->lcb != b)
		h_destroy(&b);
	return -1;
}

/* One row: kind at rtt_us on one node or both. 0 or -1. */
static int
measure(bench_run *run, load_kind kind, unsigned rtt_us, int nodes)
{
	char group[16], phase[24];
	lc_row *lr = &rows[nrows];
	load_spec s;

	if (nrows == LC_MAX)
		return -1;
	snprintf(
	    group, sizeof(group), "lc-%dnode%s", nodes, nodes > 1 ? "s" : "");
	snprintf(phase, sizeof(phase), "%s@rtt%.1fms",
	    kind == LOAD_GET ? "get" : "put", rtt_us / 1000.0);
	phase_spec(run, &run->lcs, &s, kind, LC_CLIENTS,
	    run->o->lockcost_inflight, false);
	if (nodes > 1)
		s.endpoint2 = run->lcb->endpoint;
	s.at_start = stats_start;
	s.at_end = stats_end;
	s.arg = run->proxy;
	memset(lr, 0, sizeof(*lr));
	if (phase_measure(run, &run->lcs, &s, nodes > 1 ? 0 : run->lcs.pid,
	        group, phase, true, &lr->r) != 0) {
		if (run->lcb != NULL)
			h_dump_log(run->lcb, 30);
		return -1;
	}
	lr->rtt_us = rtt_us;
	lr->nodes = nodes;
	lr->kind = kind;
	nrows++;
	return 0;
}

static double
per(double a, uint64_t b)
{
	return b > 0 ? a / (double)b : 0;
}

/*
 * The lock's table: per row, round trips to PostgreSQL per request (of
 * every connection: reads too), write transactions a second, requests per
 * transaction (a writer's batch), round trips inside one, how long the
 * lock was held (mean, p50, p99) and waited for, and the share of the
 * time it was held at all ("busy": near 100%, the lock is the limit);
 * "model" is (round trips - 1) x RTT, the part of the hold that is the
 * network's: the first round trip's way out comes before the lock, the
 * last one's way back after it.
 */
static void
print_lock_table(bench_run *run)
{
	printf("\nthe writers' lock through the proxy (%d clients x %d in "
	       "flight; two nodes: half on each)\n",
	    LC_CLIENTS, run->o->lockcost_inflight);
	printf("%-7s %-4s %-5s %7s %8s %8s %6s %7s %6s %6s %7s %7s %7s "
	       "%7s %7s %5s\n",
	    "rtt(ms)", "op", "nodes", "req/s", "p50", "p99", "rt/req", "wtxn/s",
	    "req/tx", "rt/tx", "model", "held", "held50", "held99", "waited",
	    "busy");
	for (size_t i = 0; i < nrows; i++) {
		const lc_row *l = &rows[i];
		const dp_stats *st = &l->st;
		double rps = l->r.seconds > 0
		                 ? (double)l->r.requests / l->r.seconds
		                 : 0,
		       rt = per((double)st->wrts, st->wtxns);

		printf("%-7.1f %-4s %-5d %7.0f %8.0f %8.0f %6.2f %7.0f %6.1f "
		       "%6.1f %7.0f %7.0f %7.0f %7.0f %7.0f %4.0f%%\n",
		    l->rtt_us / 1000.0, l->kind == LOAD_GET ? "get" : "put",
		    l->nodes, rps, l->r.p50_us, l->r.p99_us,
		    per((double)st->rts, l->r.requests),
		    st->seconds > 0 ? (double)st->wtxns / st->seconds : 0,
		    per((double)l->r.requests, st->wtxns), rt,
		    rt >= 1 ? (rt - 1) * l->rtt_us : 0,
		    per(st->hold_us_sum, st->wtxns), st->hold_p50_us,
		    st->hold_p99_us, per(st->wait_us_sum, st->wtxns),
		    st->seconds > 0
		        ? 100.0 * st->hold_us_sum / (st->seconds * 1e6)
		        : 0);
	}
	printf("(latencies and lock times in us; rt/req: round trips to "
	       "PostgreSQL of every connection per request; wtxn: write "
	       "transactions,\n each one writer's batch or an audit event's; "
	       "model = (rt/tx - 1) x rtt; busy = share of the time the lock "
	       "was held)\n\n");
}

/* A note per round-trip time: one node's and two nodes' PUTs. */
static void
notes(bench_run *run)
{
	for (size_t i = 0; i + 3 < nrows; i += 4) {
		/* get 1, get 2, put 1, put 2 */
		const lc_row *p1 = &rows[i + 2], *p2 = &rows[i + 3];

		report_note(&run->rep,
		    "lockcost rtt %.1f ms: put %.0f/s on one node, %.0f/s on "
		    "two; the lock held %.0f us a transaction (%.1f round "
		    "trips), busy %.0f%% (two nodes: %.0f%%)",
		    p1->rtt_us / 1000.0, p1->r.requests / p1->r.seconds,
		    p2->r.requests / p2->r.seconds,
		    per(p1->st.hold_us_sum, p1->st.wtxns),
		    per((double)p1->st.wrts, p1->st.wtxns),
		    100.0 * p1->st.hold_us_sum / (p1->st.seconds * 1e6 + 1),
		    100.0 * p2->st.hold_us_sum / (p2->st.seconds * 1e6 + 1));
	}
}

void
lockcost_cleanup(bench_run *run)
{
	h_destroy(&run->lcb);
	server_stop(&run->lcs);
	dp_stop(&run->proxy);
}

int
lockcost_phase(bench_run *run)
{
	const bench_opts *o = run->o;
	const char *extra[17];
	char why[512], host[256], port[16], up[300], spec[BENCH_PATH_MAX];
	size_t i;
	int rc;

	host[0] = '\0';
	if (o->store != NULL && strcmp(o->store, "lmdb") != 0) {
		report_note(&run->rep, "lockcost phases skipped: they start "
		                       "their own PostgreSQL; run them "
		                       "without --store");
		return 0;
	}
	server_stop(&run->srv); /* one privd (pair) at a time */
	if (run->pg == NULL) {
		fprintf(stderr, "privd-bench: starting a private PostgreSQL "
		                "for the lockcost phases\n");
		rc = pgstore_start(&run->pg, run->pg_spec, sizeof(run->pg_spec),
		    why, sizeof(why));
		if (rc == 1) {
			pgstore_stop(&run->pg);
			report_note(
			    &run->rep, "lockcost phases skipped: %s", why);
			return 0;
		} else if (rc != 0) {
			pgstore_stop(&run->pg);
			fprintf(stderr, "privd-bench: FAILED: PostgreSQL: %s\n",
			    why);
			run->failed = 1;
			return -1;
		}
	}
	/* its unix socket, from pg_store.c's conninfo */
	if (sscanf(run->pg_spec, "host=%255s port=%15s", host, port) != 2 ||
	    (size_t)snprintf(up, sizeof(up), "%s/.s.PGSQL.%s", host, port) >=
	        sizeof(up) ||
	    dp_start(&run->proxy, up, 0, why, sizeof(why)) != 0) {
		fprintf(stderr, "privd-bench: FAILED: the delay proxy: %s\n",
		    host[0] != '\0' ? why : "no socket");
		run->failed = 1;
		return -1;
	}
	/* no SSL or GSS negotiation: the proxy's watch follows plain
	 * frames (the server has neither anyway) */
	snprintf(spec, sizeof(spec),
	    "host=127.0.0.1 port=%d dbname=privd user=postgres "
	    "sslmode=disable gssencmode=disable",
	    dp_port(run->proxy));
	for (i = 0; i < o->nprivd_args; i++)
		extra[i] = o->privd_args[i];
	extra[i] = NULL;
	if (server_start(&run->lcs, o->policy, o->tcp, extra, false, spec) !=
	    0) {
		run->failed = 1;
		return -1;
	}
	report_note(&run->rep,
	    "lockcost: privd reaches PostgreSQL through a proxy delaying "
	    "each way by half the round-trip time (bench/delayproxy.c)");
	if (phase_fill(run, &run->lcs, o->subjects, "lc-1node", "load") != 0)
		return -1;
	fprintf(stderr, "privd-bench: a second privd node on the same "
	                "PostgreSQL database\n");
	if (node_b(run, extra) != 0) {
		run->failed = 1;
		return -1;
	}
	nrows = 0;
	for (i = 0; i < o->npg_rtts && !bench_interrupted; i++) {
		unsigned rtt = o->pg_rtts_us[i];

		dp_set_delay(run->proxy, rtt / 2);
		fprintf(stderr, "privd-bench: lockcost: round trip %.1f ms\n",
		    rtt / 1000.0);
		if (measure(run, LOAD_GET, rtt, 1) != 0 ||
		    measure(run, LOAD_GET, rtt, 2) != 0 ||
		    measure(run, LOAD_PUT, rtt, 1) != 0 ||
		    measure(run, LOAD_PUT, rtt, 2) != 0)
			return -1;
	}
	print_lock_table(run);
	notes(run);
	lockcost_cleanup(run);
	pgstore_stop(&run->pg);
	return bench_interrupted ? -1 : 0;
}
