/*
 * pg_store.h - the PostgreSQL server privd-bench runs privd's PostgreSQL
 * backend on (pg_store.c): a private one, started with the settings of the
 * pgcrypto alternative's (pg_server.c: fsync and synchronous_commit on), so
 * that the two PostgreSQL rows of a run differ only in what runs on it.
 */
#ifndef PRIVD_BENCH_PG_STORE_H
#define PRIVD_BENCH_PG_STORE_H

#include "bench.h"

typedef struct bench_pgstore bench_pgstore;

/*
 * Start a private PostgreSQL (initdb in a temporary directory, a unix
 * socket only) with an empty database for `privd init --store`, whose
 * libpq conninfo goes to spec. Returns 0; 1 when PostgreSQL cannot run
 * here (not installed, privd-bench built without libpq: the reason in
 * why, the caller skips); -1 on a failure (why). pgstore_stop *out
 * in every case.
 */
int pgstore_start(
    bench_pgstore **out, char *spec, size_t len, char *why, size_t wlen);

/* Stop the server and remove its directory; safe on NULL and to repeat. */
void pgstore_stop(bench_pgstore **p);

/*
 * CPU the server's processes used so far (the postmaster and its children:
 * the backends of privd's connections), in microseconds; -1 if unknown.
 * privd keeps its connections open, so the difference of two samples
 * around a phase is what the server spent on it.
 */
double pgstore_cpu_us(const bench_pgstore *p);

/*
 * The statements privd sent (pg_stat_statements, in the server the bench
 * starts): pgstore_stmts_reset forgets them; pgstore_stmts writes into out
 * the statements per request over requests and the top most frequent ones
 * with their share (their text cut short unless top > 5), e.g. "7.1
 * statements/req: 4.00 SELECT v FROM privd_values WHERE k = $1; ...".
 * Statements queued in libpq's pipeline count as one each, though they share a
 * round trip. 0, or -1 where unknown.
 */
void pgstore_stmts_reset(bench_pgstore *p);
int pgstore_stmts(
    bench_pgstore *p, uint64_t requests, int top, char *out, size_t len);

#endif
