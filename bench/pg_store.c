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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pg_store.h"

#ifdef BENCH_HAVE_PG
#include "pg.h"

struct bench_pgstore {
	pgb_server srv;
	bool stmts; /* pg_stat_statements is there */
};

/*
 * pg_stat_statements counts the statements privd sends (their text with
 * $n for the parameters: no value reaches it). It costs the server a
 * little per statement; the alternative's server runs without it.
 */
static const char stmts_conf[] =
    "shared_preload_libraries = 'pg_stat_statements'\n"
    "pg_stat_statements.track = all\n"
    "pg_stat_statements.max = 1000\n";

/* Runs sql on the server's database "postgres"; true if it succeeded. */
static bool
admin(const bench_pgstore *p, const char *sql)
{
	PGconn *c = pgb_connect(&p->srv, "postgres");
	PGresult *r;
	bool ok;

	if (c == NULL)
		return false;
	r = PQexec(c, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	     PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	PQfinish(c);
	return ok;
}

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
	char lib[320];
	PGconn *c;
	PGresult *r;
	bool ok;

	if ((*out = p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(why, wlen, "out of memory");
		return -1;
	}
	if (pgb_server_find(&p->srv, why, wlen) != 0)
		return 1;
	/* Debian's layout (bindir/../lib); a server without the module
	 * would not start with it preloaded: then no statement counts */
	if (snprintf(lib, sizeof(lib), "%s/../lib/pg_stat_statements.so",
	        p->srv.bindir) < (int)sizeof(lib) &&
	    access(lib, R_OK) == 0)
		p->srv.extra_conf = stmts_conf;
	if (pgb_server_start(&p->srv, why, wlen) != 0)
		return -1;
	p->stmts = p->srv.extra_conf != NULL &&
	           admin(p, "CREATE EXTENSION IF NOT EXISTS "
	                    "pg_stat_statements");
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

void
pgstore_stmts_reset(bench_pgstore *p)
{
	if (p != NULL && p->stmts)
		admin(p, "SELECT pg_stat_statements_reset()");
}

/* Appends to out (len bytes in all, used so far *n) like snprintf. */
static void
add(char *out, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*n >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(out + *n, len - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n += (size_t)w < len - *n ? (size_t)w : len - *n - 1;
}

int
pgstore_stmts(
    bench_pgstore *p, uint64_t requests, int top, char *out, size_t len)
{
	static const char sql[] =
	    "SELECT s.calls, regexp_replace(s.query, '\\s+', ' ', 'g') "
	    "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
	    "WHERE d.datname = 'privd' ORDER BY s.calls DESC";
	PGconn *c;
	PGresult *r;
	double total = 0;
	size_t n = 0;
	int rows;

	if (p == NULL || !p->stmts || requests == 0 || len == 0 ||
	    (c = pgb_connect(&p->srv, "postgres")) == NULL)
		return -1;
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		PQclear(r);
		PQfinish(c);
		return -1;
	}
	rows = PQntuples(r);
	for (int i = 0; i < rows; i++)
		total += strtod(PQgetvalue(r, i, 0), NULL);
	out[0] = '\0';
	add(out, len, &n, "%.1f stmts/req", total / (double)requests);
	for (int i = 0; i < rows && i < top; i++) {
		double per =
		    strtod(PQgetvalue(r, i, 0), NULL) / (double)requests;

		if (per < 0.05)
			break;
		add(out, len, &n, "%s %.2f %.*s", i == 0 ? ":" : ";", per,
		    top > 5 ? 72 : 30, PQgetvalue(r, i, 1));
	}
	PQclear(r);
	PQfinish(c);
	return 0;
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

void
pgstore_stmts_reset(bench_pgstore *p)
{
	(void)p;
}

int
pgstore_stmts(
    bench_pgstore *p, uint64_t requests, int top, char *out, size_t len)
{
	(void)p;
	(void)requests;
	(void)top;
	(void)out;
	(void)len;
	return -1;
}

#endif
