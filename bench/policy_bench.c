/*
 * policy_bench.c - how long does validating a policy take? Prints figures;
 * asserts nothing (benchmarks are not tests).
 *
 * A policy comes from an admin and is validated on a worker thread of the
 * daemon (and by privctl policy check), so its validation must cost what the
 * document is long, never more. This parses and validates, several times
 * each, the example policy, a policy with every count at its cap, and a
 * document of 1 MiB made mostly of long lists (the shape that costs the
 * most per byte), and prints the median and the fastest run in CPU and wall
 * time. Then, over the policy at every cap, the cost of what runs on every
 * connection (finding the principal by key) and every request (a decision
 * naming eight fields, by a principal with the most grants).
 *
 *   build/bench/policy-bench [-n runs] [-s percent] [example.json]
 *
 * -s scales the counts of the capped policy (to measure code that cannot
 * handle the full size).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capgen.h"
#include "policy.h"

#define MAX_RUNS 101

static double
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Validate doc runs times; print median and minimum of CPU and wall time. */
static void
measure(const char *name, const char *doc, size_t len, int runs)
{
	double cpu[MAX_RUNS], wall[MAX_RUNS], c0, w0;
	pol_policy *p;
	pol_error err;
	int i;

	for (i = 0; i < runs; i++) {
		c0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
		w0 = clock_ms(CLOCK_MONOTONIC);
		if (pol_parse(doc, len, &p, &err) != 0) {
			printf("%-28s invalid: %s: %s\n", name, err.path,
			    err.reason);
			return;
		}
		cpu[i] = clock_ms(CLOCK_PROCESS_CPUTIME_ID) - c0;
		wall[i] = clock_ms(CLOCK_MONOTONIC) - w0;
		pol_free(&p);
	}
	qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
	qsort(wall, (size_t)runs, sizeof(double), cmp_double);
	printf("%-28s %9zu bytes  cpu median %9.3f ms (min %9.3f)  "
	       "wall median %9.3f ms\n",
	    name, len, cpu[runs / 2], cpu[0], wall[runs / 2]);
	fflush(stdout);
}

/*
 * What every connection and request costs at the caps, in nanoseconds of
 * CPU per call: each principal looked up by key in turn, and a read naming
 * eight fields decided for each principal with POL_MAX_GRANTS grants in
 * turn (pol_decide scans them all). capgen gives principal i's first grant
 * register i % 16, purposes p0-p3 and fields f0-f7: the read is allowed.
 */
static void
lookups(const char *doc, size_t len)
{
	enum { ROUNDS = 200 };
	const char *fields[8];
	char names[8][16];
	pol_policy *p;
	pol_error err;
	size_t i, k, n = 0, calls = 0, allowed = 0;
	double t0, by_key, decide;

	if (pol_parse(doc, len, &p, &err) != 0)
		return;
	t0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
	for (k = 0; k < ROUNDS; k++)
		for (i = 0; i < p->nprincipals; i++)
			n += pol_principal_by_key(p, p->principals[i].key) ==
			     &p->principals[i];
	by_key = (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - t0) * 1e6 /
	         ((double)ROUNDS * (double)p->nprincipals);
	for (k = 0; k < 8; k++) {
		snprintf(names[k], sizeof(names[k]), "f%zu", k);
		fields[k] = names[k];
	}
	t0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID);
	for (k = 0; k < ROUNDS; k++) {
		for (i = 0; i < p->nprincipals; i++) {
			if (p->principals[i].ngrants < POL_MAX_GRANTS)
				continue;
			pol_request req = {.principal = &p->principals[i],
			    .reg = p->registers[i % p->nregisters].name,
			    .purpose = "p1",
			    .op = POL_OP_READ,
			    .fields = fields,
			    .nfields = 8};
			pol_decision d;

			pol_decide(p, &req, &d);
			allowed += d.reason == POL_ALLOW;
			calls++;
		}
	}
	decide = (clock_ms(CLOCK_PROCESS_CPUTIME_ID) - t0) * 1e6 /
	         (double)(calls > 0 ? calls : 1);
	printf("at every cap: principal by key %.0f ns (%zu of %zu found), "
	       "decision of 8 fields %.0f ns (%zu of %zu allowed)\n",
	    by_key, n, (size_t)ROUNDS * p->nprincipals, decide, allowed, calls);
	pol_free(&p);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1))) {
		if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(fp);
	return buf;
}

static size_t
scale(size_t n, int percent)
{
	size_t s = n * (size_t)percent / 100;

	return s > 0 ? s : 1;
}

/*
 * About 1 MiB within the caps: one register of 256 fields, one principal
 * whose grants list fields over and over. Every entry is a name to resolve,
 * so this is the most lookups a mebibyte can ask for.
 */
static char *
long_lists(size_t *len)
{
	capgen g;
	char *doc, *q, *out;
	size_t n, i, listlen;
	const char *mark = "\"fields\":[";

	capgen_at_caps(&g);
	g.registers = 1;
	g.regions = 1;
	g.allowed_regions = 1;
	g.principals = 1;
	g.grants = POL_MAX_GRANTS;
	g.grant_fields = 1;
	if ((doc = capgen_build(&g, &n)) == NULL)
		return NULL;
	/* Widen each grant's one-entry field list to ~16 KiB of entries. */
	listlen = 16384 / 7;
	out = malloc(n + (size_t)POL_MAX_GRANTS * listlen * 8 + 1);
	if (out == NULL) {
		free(doc);
		return NULL;
	}
	*len = 0;
	for (q = doc;;) {
		char *m = strstr(q, mark);

		if (m == NULL) {
			memcpy(out + *len, q, strlen(q) + 1);
			*len += strlen(q);
			break;
		}
		m += strlen(mark);
		memcpy(out + *len, q, (size_t)(m - q));
		*len += (size_t)(m - q);
		for (i = 0; i < listlen; i++)
			*len += (size_t)sprintf(
			    out + *len, "\"f%zu\",", (i * 37) % 256);
		q = m;
	}
	free(doc);
	return out;
}

int
main(int argc, char **argv)
{
	const char *example = getenv("POLICY_EXAMPLE");
	int runs = 9, percent = 100, ch;
	char *doc;
	size_t len;
	capgen g;

	while ((ch = getopt(argc, argv, "n:s:")) != -1) {
		switch (ch) {
		case 'n':
			runs = atoi(optarg);
			break;
		case 's':
			percent = atoi(optarg);
			break;
		default:
			fprintf(stderr,
			    "usage: %s [-n runs] [-s percent] "
			    "[example.json]\n",
			    argv[0]);
			return 2;
		}
	}
	if (runs < 1 || runs > MAX_RUNS || percent < 1 || percent > 100) {
		fprintf(stderr, "%s: runs 1-%d, percent 1-100\n", argv[0],
		    MAX_RUNS);
		return 2;
	}
	if (optind < argc)
		example = argv[optind];
	if (example == NULL)
		example = "policy/examples/aktiivitieto.json";

	printf("policy validation, %d runs each\n", runs);
	if ((doc = read_file(example, &len)) != NULL)
		measure("example policy", doc, len, runs);
	else
		printf("%-28s cannot read %s\n", "example policy", example);
	free(doc);

	capgen_at_caps(&g);
	g.registers = scale(g.registers, percent);
	g.retention = scale(g.retention, percent);
	g.allowed_regions = scale(g.allowed_regions, percent);
	g.regions = scale(g.regions, percent);
	g.principals = scale(g.principals, percent);
	g.grants = scale(g.grants, percent);
	if ((doc = capgen_build(&g, &len)) != NULL) {
		char name[40];

		snprintf(name, sizeof(name), "every count at its cap%s",
		    percent < 100 ? " (scaled)" : "");
		if (percent < 100)
			printf("scaled to %d%%: %zu registers, %zu principals "
			       "x %zu grants, %zu regions\n",
			    percent, g.registers, g.principals, g.grants,
			    g.regions);
		measure(name, doc, len, runs);
		lookups(doc, len);
	}
	free(doc);

	if ((doc = long_lists(&len)) != NULL)
		measure("1 MiB of grant lists", doc, len, runs);
	free(doc);
	return 0;
}
