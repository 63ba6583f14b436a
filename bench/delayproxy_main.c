/*
 * privd-delayproxy - the benchmark's latency proxy on its own: a TCP port
 * of 127.0.0.1 forwarding to a PostgreSQL (or anything) with a fixed
 * one-way delay each way, until SIGINT or SIGTERM; then it prints what
 * its protocol watch saw (delayproxy.h) and exits 0.
 *
 *   privd-delayproxy UPSTREAM ONE_WAY_US
 *
 * UPSTREAM is a unix socket's path (PostgreSQL's is DIR/.s.PGSQL.PORT) or
 * 127.0.0.1:PORT. It prints the port it listens on, then waits. E.g. a
 * round-trip time of 1 ms to a local PostgreSQL:
 *   privd-delayproxy /var/run/postgresql/.s.PGSQL.5432 500
 * and privd's conninfo "host=127.0.0.1 port=<that port> ...".
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "delayproxy.h"

int
main(int argc, char **argv)
{
	delayproxy *p = NULL;
	char why[256], *end;
	unsigned long us;
	sigset_t set;
	dp_stats st;
	int sig;

	if (argc != 3 || (us = strtoul(argv[2], &end, 10)) > 10000000 ||
	    *end != '\0' || end == argv[2]) {
		fprintf(stderr, "usage: privd-delayproxy UPSTREAM ONE_WAY_US "
		                "(at most 10 s)\n");
		return 2;
	}
	/* before the proxy's thread starts, so that it inherits the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (dp_start(&p, argv[1], (unsigned)us, why, sizeof(why)) != 0) {
		fprintf(stderr, "privd-delayproxy: %s\n", why);
		dp_stop(&p);
		return 1;
	}
	printf("%d\n", dp_port(p));
	fflush(stdout);
	sigwait(&set, &sig);
	dp_stats_get(p, &st);
	dp_stop(&p);
	printf("connections %llu, bytes up %llu, down %llu; write "
	       "transactions %llu, %.2f round trips each, the lock held "
	       "%.0f us each (p50 %.0f, p99 %.0f), waited for %.0f us\n",
	    (unsigned long long)st.conns, (unsigned long long)st.bytes_up,
	    (unsigned long long)st.bytes_down, (unsigned long long)st.wtxns,
	    st.wtxns ? (double)st.wrts / (double)st.wtxns : 0.0,
	    st.wtxns ? st.hold_us_sum / (double)st.wtxns : 0.0, st.hold_p50_us,
	    st.hold_p99_us, st.wtxns ? st.wait_us_sum / (double)st.wtxns : 0.0);
	return 0;
}
