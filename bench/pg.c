/*
 * pg.c - privd-bench-pg: the usual alternative to privd, measured the way
 * privd is (issue 8, item (c)). Starts a private PostgreSQL from Debian's
 * packages in a temporary directory, loads N subjects of the customers
 * register encrypted with pgcrypto (pg_data.c), and runs timed phases of
 * audited reads and writes through PL/pgSQL functions over libpq pipeline
 * mode (pg_run.c). Prints figures; asserts nothing.
 *
 *   privd-bench-pg [--subjects N] [--seconds S]
 *                  [--phases get:1x1,get:8x16,put:8x16] [--tcp] [--keep]
 *
 * stdout carries only JSON, one object per line and phase:
 *   {"phase":"get","clients":8,"inflight":16,"requests":123,"errors":0,
 *    "seconds":5.0,"rps":24.6,"p50_us":1,"p99_us":2,"p999_us":3}
 * or a single {"skipped":"<reason>"} (exit 0) when PostgreSQL cannot be
 * started here. Progress goes to stderr. Exit status 1 if any phase had
 * an error or the load failed, 2 on a usage error, 130 if interrupted.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "pg.h"

#define MAX_PHASES   32
#define MAX_CLIENTS  64 /* under max_connections = 100 */
#define MAX_INFLIGHT 1024
#define MAX_SUBJECTS 100000000u

static const char *const op_name[] = {"get", "put", "mixed"};

int64_t
pgb_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: privd-bench-pg [--subjects N] [--seconds S] "
	    "[--phases OP:CxF,...] [--tcp] [--keep]\n"
	    "  OP is get, put or mixed (90%% get, 10%% put); C clients "
	    "(1-%d), F requests in flight each (1-%d)\n"
	    "  defaults: --subjects 100000 --seconds 5 "
	    "--phases get:1x1,get:8x16,put:8x16\n"
	    "  --tcp   127.0.0.1 on a free port instead of a unix socket\n"
	    "  --keep  keep the temporary directory (data and logs)\n",
	    MAX_CLIENTS, MAX_INFLIGHT);
	exit(2);
}

/* Parses "get:1x1,get:8x16,put:8x16"; returns the count or -1. */
static int
parse_phases(const char *spec, pgb_phase *ph)
{
	char buf[512], *tok, *save = NULL, *colon, *end;
	long c, f;
	int n = 0, op;

	if (strlen(spec) >= sizeof(buf))
		return -1;
	strcpy(buf, spec);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_PHASES || (colon = strchr(tok, ':')) == NULL)
			return -1;
		*colon = '\0';
		for (op = 0; op < 3 && strcmp(tok, op_name[op]) != 0; op++)
			;
		c = strtol(colon + 1, &end, 10);
		if (op == 3 || *end != 'x')
			return -1;
		f = strtol(end + 1, &end, 10);
		if (*end != '\0' || c < 1 || c > MAX_CLIENTS || f < 1 ||
		    f > MAX_INFLIGHT)
			return -1;
		ph[n].op = op;
		ph[n].clients = (int)c;
		ph[n].inflight = (int)f;
		n++;
	}
	return n > 0 ? n : -1;
}

/* The one line a caller gets when there is nothing to measure here. */
static void
print_skipped(const char *why)
{
	fputs("{\"skipped\":\"", stdout);
	for (; *why != '\0'; why++) {
		if (*why == '"' || *why == '\\')
			putchar('\\');
		if ((unsigned char)*why >= 0x20)
			putchar(*why);
	}
	fputs("\"}\n", stdout);
	fflush(stdout);
}

static int
make_keys(pgb_keys *k)
{
	unsigned char raw[64];
	size_t i;

	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
		return -1;
	for (i = 0; i < 32; i++) {
		snprintf(k->enc + 2 * i, 3, "%02x", raw[i]);
		snprintf(k->mac + 2 * i, 3, "%02x", raw[32 + i]);
	}
	explicit_bzero(raw, sizeof(raw));
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {{"subjects", 1, NULL, 'n'},
	    {"seconds", 1, NULL, 's'}, {"phases", 1, NULL, 'p'},
	    {"tcp", 0, NULL, 't'}, {"keep", 0, NULL, 'k'},
	    {"help", 0, NULL, 'h'}, {NULL, 0, NULL, 0}};
	pgb_phase ph[MAX_PHASES];
	pgb_server srv;
	pgb_result res;
	pgb_keys keys;
	const char *spec = "get:1x1,get:8x16,put:8x16";
	unsigned long nsub = 100000;
	double seconds = 5;
	bool keep = false, no_pgcrypto;
	char why[256], *end;
	int nph, i, o, status = 0;
	int64_t t0;
	PGconn *c;

	memset(&srv, 0, sizeof(srv));
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'n':
			nsub = strtoul(optarg, &end, 10);
			if (*end != '\0' || nsub < 1 || nsub > MAX_SUBJECTS)
				usage();
			break;
		case 's':
			seconds = strtod(optarg, &end);
			if (*end != '\0' || !(seconds > 0 && seconds <= 3600))
				usage();
			break;
		case 'p':
			spec = optarg;
			break;
		case 't':
			srv.tcp = true;
			break;
		case 'k':
			keep = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (nph = parse_phases(spec, ph)) < 0)
		usage();

	pgb_signals_init();
	if (make_keys(&keys) != 0) {
		fprintf(stderr, "privd-bench-pg: getrandom failed\n");
		return 1;
	}
	if (pgb_server_find(&srv, why, sizeof(why)) != 0) {
		fprintf(stderr, "privd-bench-pg: skipped: %s\n", why);
		print_skipped(why);
		return 0;
	}
	if (pgb_server_start(&srv, why, sizeof(why)) != 0) {
		pgb_server_stop(&srv, keep);
		if (pgb_interrupted)
			goto interrupted;
		fprintf(stderr, "privd-bench-pg: skipped: %s\n", why);
		print_skipped(why);
		return 0;
	}
	if ((c = pgb_connect(&srv, "postgres")) == NULL) {
		status = 1;
		goto out;
	}
	fprintf(stderr,
	    "privd-bench-pg: PostgreSQL %d.%d from %s on %s; fsync on, "
	    "synchronous_commit on, shared_buffers %s\n",
	    PQserverVersion(c) / 10000, PQserverVersion(c) % 10000, srv.bindir,
	    srv.tcp ? "127.0.0.1 (tcp)" : "a unix socket", srv.shared_buffers);
	if (pgb_schema(c, &no_pgcrypto) != 0) {
		PQfinish(c);
		pgb_server_stop(&srv, keep);
		if (pgb_interrupted)
			goto interrupted;
		if (!no_pgcrypto)
			return 1;
		print_skipped("the pgcrypto extension is not available "
		              "(Debian: postgresql-contrib)");
		return 0;
	}
	PQfinish(c);

	fprintf(stderr, "privd-bench-pg: loading %lu subjects\n", nsub);
	t0 = pgb_now_us();
	if (pgb_load(&srv, &keys, (uint32_t)nsub) != 0) {
		if (!pgb_interrupted)
			fprintf(stderr, "privd-bench-pg: load failed\n");
		status = 1;
		goto out;
	}
	fprintf(stderr, "privd-bench-pg: loaded in %.1f s\n",
	    (double)(pgb_now_us() - t0) / 1e6);

	for (i = 0; i < nph && !pgb_interrupted; i++) {
		fprintf(stderr, "privd-bench-pg: %s %dx%d for %g s\n",
		    op_name[ph[i].op], ph[i].clients, ph[i].inflight, seconds);
		if (pgb_run(&srv, &keys, (uint32_t)nsub, seconds, &ph[i],
		        &res) != 0) {
			fprintf(stderr, "privd-bench-pg: out of memory\n");
			status = 1;
			break;
		}
		if (pgb_interrupted)
			break;
		printf("{\"phase\":\"%s\",\"clients\":%d,\"inflight\":%d,"
		       "\"requests\":%llu,\"errors\":%llu,\"seconds\":%.2f,"
		       "\"rps\":%.1f,\"p50_us\":%u,\"p99_us\":%u,"
		       "\"p999_us\":%u}\n",
		    op_name[ph[i].op], ph[i].clients, ph[i].inflight,
		    (unsigned long long)res.requests,
		    (unsigned long long)res.errors, res.seconds,
		    res.seconds > 0 ? (double)res.requests / res.seconds : 0,
		    res.p50_us, res.p99_us, res.p999_us);
		fflush(stdout);
		if (res.errors > 0)
			status = 1;
	}
out:
	pgb_server_stop(&srv, keep);
	explicit_bzero(&keys, sizeof(keys));
	if (!pgb_interrupted)
		return status;
interrupted:
	fprintf(stderr, "privd-bench-pg: interrupted\n");
	return 130;
}
