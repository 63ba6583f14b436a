/*
 * alternative.h - (c) the PostgreSQL alternative, run as a child program
 * (alternative.c).
 */
#ifndef PRIVD_BENCH_ALTERNATIVE_H
#define PRIVD_BENCH_ALTERNATIVE_H

#include "bench.h"

/*
 * Run prog (privd-bench-pg) for the given phases ("get:1x1,get:8x16,...")
 * and add a row "pg/<phase>/<c>x<f>" per phase it reports. A missing
 * program, a skip, a failure or errors are notes in rep, and 0 is
 * returned: the run goes on. -1 only if it could not be started at all.
 */
int alternative_run(bench_report *rep, const char *prog, uint64_t subjects,
    double seconds, const char *phases);

#endif
