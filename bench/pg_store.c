/*
 * pg_store.c - the private PostgreSQL privd's PostgreSQL backend runs on in
 * the bench; see pg_store.h.
 *
 * DESIGN: it reuses privd-bench-pg's server code (pg_server.c), linked into
 * privd-bench too, rather than the tests' pgtmp.c: pgtmp runs with fsync
 * off (a test's data is thrown away), which would flatter the backend
 * against LMDB (which syncs every commit) and against the alternative
 * (which runs with pg_server.c's durable settings). Here all three commit
 * durably. Built without libpq, every function says PostgreSQL cannot run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_store.h"

#ifdef BENCH_HAVE_PG
#include "pg.h"

struct bench_pgstore {
	pgb_server srv;
};

/* pg_server.c's clock; privd-bench-pg has its own in pg.c. */
int64_t
pgb_now_us(void)
{
	return (int64_t)(bench_now_ns() / 1000);
}

int
pgstore_start(
    bench_pgstore **out, char *spec, size_t len, char *why, size_t wlen)
{
	bench_pgstore *p;
	PGconn *c;
	PGresult *r;
	bool ok;

	if ((*out = p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	if (pgb_server_find(&p->srv, why, wlen) != 0)
		return 1;
	if (pgb_server_start(&p->srv, why, wlen) != 0)
		return -1;
	if ((c = pgb_connect(&p->srv, "postgres")) == NULL) {
		snprintf(why, wlen, "cannot connect to the private server");
		return -1;
	}
	r = PQexec(c, "CREATE DATABASE privd");
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(why, wlen, "CREATE DATABASE: %s", PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	if (!ok)
		return -1;
	if (snprintf(spec, len, "host=%s port=%s dbname=privd user=postgres",
	        p->srv.dir, p->srv.port) >= (int)len) {
		snprintf(why, wlen, "the conninfo is too long");
		return -1;
	}
	return 0;
}

void
pgstore_stop(bench_pgstore **pp)
{
	bench_pgstore *p = *pp;

	*pp = NULL;
	if (p == NULL)
		return;
	pgb_server_stop(&p->srv, false);
	free(p);
}

/* utime + stime and the parent of one process, from /proc/PID/stat. */
static int
stat_of(const char *pid, pid_t *ppid, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long ut, st;
	int pp;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* the command may hold spaces and parentheses: after the last ')' */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
	        &pp, &ut, &st) != 3)
		return -1;
	*ppid = pp;
	*ticks = (uint64_t)ut + st;
	return 0;
}

double
pgstore_cpu_us(const bench_pgstore *p)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t total = 0, t;
	struct dirent *de;
	pid_t ppid;
	DIR *d;

	if (p == NULL || p->srv.pid <= 0 || hz <= 0 ||
	    (d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (stat_of(de->d_name, &ppid, &t) != 0)
			continue;
		if (atol(de->d_name) == (long)p->srv.pid || ppid == p->srv.pid)
			total += t;
	}
	closedir(d);
	return (double)total * 1e6 / (double)hz;
}

#else /* !BENCH_HAVE_PG */

int
pgstore_start(
    bench_pgstore **out, char *spec, size_t len, char *why, size_t wlen)
{
	(void)spec;
	(void)len;
	*out = NULL;
	snprintf(why, wlen, "privd-bench was built without libpq");
	return 1;
}

void
pgstore_stop(bench_pgstore **p)
{
	*p = NULL;
}

double
pgstore_cpu_us(const bench_pgstore *p)
{
	(void)p;
	return -1;
}

#endif
