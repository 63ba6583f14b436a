/*
 * delayproxy.h - a TCP proxy that adds a fixed one-way delay in each
 * direction (delayproxy.c): the network between privd and PostgreSQL
 * made slower than loopback, for the lockcost phase (lockcost_phase.c)
 * and privd-delayproxy (delayproxy_main.c). This machine's kernel has no
 * netem qdisc, so `tc qdisc add dev lo root netem delay` cannot do it.
 *
 * It also watches the PostgreSQL protocol going through (it only reads
 * it; every byte is forwarded as it came) to time the write transactions
 * that hold privd's writers' lock: see dp_stats.
 */
#ifndef PRIVD_BENCH_DELAYPROXY_H
#define PRIVD_BENCH_DELAYPROXY_H

#include <stddef.h>
#include <stdint.h>

typedef struct delayproxy delayproxy;

/*
 * What the proxy saw since the last dp_stats_reset. A write transaction
 * is one that sent pg_advisory_xact_lock (privd's writers' lock: every
 * write transaction of every privd node takes it first) in a Parse or
 * Query message; it ends at the first ReadyForQuery with status idle that
 * answers a sync sent after it. Times are the server's side of the proxy
 * (when the lock statement went to the server, when the server's answer
 * came), so they hold no delay of the way back. All write transactions
 * of every node go through this one proxy, and the lock is exclusive: a
 * transaction's lock was granted when its statement arrived or when the
 * previous write transaction ended, whichever is later; wait is before
 * that, hold after it (to its end).
 */
typedef struct dp_stats {
	uint64_t conns;                /* connections accepted */
	uint64_t bytes_up, bytes_down; /* to the server, to the clients */
	uint64_t rts;       /* ReadyForQuery: round trips of every connection */
	uint64_t wtxns;     /* write transactions ended */
	uint64_t wrts;      /* round trips (syncs answered) within them */
	double hold_us_sum; /* the lock held, summed */
	double wait_us_sum; /* waited for it, summed */
	double hold_p50_us; /* of the transactions sampled (the first */
	double hold_p99_us; /* 2^17 after the reset) */
	double seconds;     /* since the reset */
} dp_stats;

/*
 * Start a proxy on 127.0.0.1 (a free port, dp_port) that forwards each
 * connection to upstream: a unix socket's path (starting with '/') or
 * "127.0.0.1:PORT". Each chunk read is written to the other side
 * one_way_us microseconds after it was read (0: at once), in order.
 * Runs in a thread of its own. 0, or -1 with the reason in why.
 */
int dp_start(delayproxy **out, const char *upstream, unsigned one_way_us,
    char *why, size_t len);

/* The port it listens on. */
int dp_port(const delayproxy *p);

/* Change the one-way delay for the chunks read from now on. */
void dp_set_delay(delayproxy *p, unsigned one_way_us);

void dp_stats_reset(delayproxy *p);
void dp_stats_get(delayproxy *p, dp_stats *out);

/* Close every connection, stop the thread, free; safe on NULL. */
void dp_stop(delayproxy **p);

#endif
