/*
 * privd-bench - privd measured from outside, against the machine's own
 * floors, in one run. Prints figures; asserts nothing about them (a
 * benchmark is not a test), but every reply is checked, and a wrong one
 * fails the run: exit status 1, with the number of errors and the first.
 *
 *   build/bench/privd-bench [--quick] [--seconds S] [--subjects N]
 *       [--phases LIST] [--tcp] [--json FILE] ...   (--help for all)
 *
 * By default it starts privd itself on a fresh store in a temporary
 * directory (the integration tests' harness; see server.c for the policy)
 * and removes everything it started on every way out: privd, the echo
 * server, the PostgreSQL alternative, the temporary directories. With
 * --endpoint it measures a privd that runs already.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "phases.h"

#ifndef BENCH_PRIVD_BIN
#define BENCH_PRIVD_BIN "privd"
#endif
#ifndef BENCH_POLICY_EXAMPLE
#define BENCH_POLICY_EXAMPLE "policy/examples/aktiivitieto.json"
#endif

#define QUICK_SUBJECTS 10000

static const char *const default_get_fields[] = {
    "name", "email", "phone", "organisation"};

static const struct {
	const char *name;
	unsigned bit;
} groups[] = {{"get", PH_GET}, {"put", PH_PUT}, {"mixed", PH_MIXED},
    {"echo", PH_ECHO}, {"store", PH_STORE}, {"pg", PH_PG}, {"aged", PH_AGED},
    {"audit", PH_AUDIT}, {"big", PH_BIG}, {"soak", PH_SOAK},
    {"sweep", PH_SWEEP}, {"pgstore", PH_PGSTORE}, {"lockcost", PH_LOCKCOST}};

static bench_run *the_run; /* for the clean-up at exit */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: privd-bench [options]\n"
	    "  --seconds S          length of each timed phase (default 5)\n"
	    "  --subjects N         subjects in the fresh store (default "
	    "100000;\n"
	    "                       with --quick 10000)\n"
	    "  --phases LIST        groups to run, comma-separated: get, put, "
	    "mixed\n"
	    "                       (each at 1x1, 8x1, 8x16), echo (IPC "
	    "floor),\n"
	    "                       store (store floor), pg (PostgreSQL), "
	    "aged,\n"
	    "                       audit, big, soak, sweep, pgstore (privd "
	    "on its\n"
	    "                       PostgreSQL backend, then two privd nodes "
	    "on it),\n"
	    "                       lockcost (one privd node and two on a "
	    "PostgreSQL\n"
	    "                       reached through a proxy that adds "
	    "latency)\n"
	    "                       (default: all but lockcost)\n"
	    "  --quick              get,put,mixed,echo,store only\n"
	    "  --compare-stores     get,put,pg,pgstore: audited GETs and PUTs "
	    "on LMDB,\n"
	    "                       on the PostgreSQL backend and on the "
	    "pgcrypto\n"
	    "                       alternative, in one run (with --quick: "
	    "on 10000\n"
	    "                       subjects)\n"
	    "  --store STORE        the store of the privd under test: lmdb "
	    "(default),\n"
	    "                       postgresql (a private server the bench "
	    "starts),\n"
	    "                       or a libpq conninfo naming an empty "
	    "database\n"
	    "                       (what the run writes stays there)\n"
	    "                       (big and sweep then skipped)\n"
	    "  --pg-rtts LIST       lockcost: round-trip times to PostgreSQL "
	    "in us,\n"
	    "                       comma-separated (0,500,1000,2000)\n"
	    "  --lockcost-inflight F  lockcost: requests in flight of each "
	    "of its 16\n"
	    "                       clients (8)\n"
	    "  --aged-events N      audit events before the aged GET phase "
	    "(2000000)\n"
	    "  --audit-events N     audit events before the audit query "
	    "phase (1000000)\n"
	    "  --big-subjects N     subjects of the big store (1000000); it "
	    "is\n"
	    "                       aged to --aged-events too\n"
	    "  --soak-requests N    GETs of the soak phase, privd's memory\n"
	    "                       read every tenth (10000000)\n"
	    "  --sweep-fields N     fields that fall due in the sweep phase, "
	    "five a\n"
	    "                       subject, deleted and then as many "
	    "anonymised\n"
	    "                       under 8 clients' GETs (100000)\n"
	    "  --tcp                tcp://127.0.0.1 instead of ipc\n"
	    "  --json FILE          write the figures as JSON\n"
	    "  --get-fields LIST    fields a GET asks for "
	    "(name,email,phone,organisation)\n"
	    "  --policy FILE        the policy (default the example; needs "
	    "principals\n"
	    "                       crm and auditor)\n"
	    "  --privd-arg ARG      one more `privd serve` argument "
	    "(repeatable)\n"
	    "  --pg-bench PATH      the PostgreSQL alternative (default "
	    "privd-bench-pg\n"
	    "                       next to privd-bench)\n"
	    "an external privd (instead of starting one):\n"
	    "  --endpoint EP        its endpoint\n"
	    "  --server-key KEY     its public key, or a file holding it\n"
	    "  --key FILE           key pair file of a principal with read "
	    "and write of\n"
	    "                       customers for orders\n"
	    "  --auditor-key FILE   key pair file of an auditor (audit "
	    "phases)\n"
	    "  --pid PID            its process (CPU and memory figures)\n"
	    "  --data-dir DIR       its data directory (store size)\n"
	    "privd comes from $PRIVD_BIN, else the build tree's.\n");
}

static int
parse_u64(const char *flag, const char *arg, uint64_t min, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg != NULL ? arg : "", &end, 10);
	if (arg == NULL || errno != 0 || end == arg || *end != '\0' ||
	    v < min) {
		fprintf(stderr, "privd-bench: %s needs an integer >= %llu\n",
		    flag, (unsigned long long)min);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_phases(const char *arg, unsigned *out)
{
	char buf[256], *tok, *save;

	*out = 0;
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
			if (strcmp(tok, groups[i].name) == 0)
				break;
		if (i == sizeof(groups) / sizeof(groups[0])) {
			fprintf(
			    stderr, "privd-bench: no phase group %s\n", tok);
			return -1;
		}
		*out |= groups[i].bit;
	}
	return *out != 0 ? 0 : -1;
}

/* --pg-rtts: up to BENCH_MAX_RTTS round-trip times in us (0 to 1 s). */
static int
parse_rtts(const char *arg, bench_opts *o)
{
	char buf[256], *tok, *save, *end;

	o->npg_rtts = 0;
	if (arg == NULL || strlen(arg) >= sizeof(buf))
		return -1;
	memcpy(buf, arg, strlen(arg) + 1);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long v = strtoul(tok, &end, 10);

		if (end == tok || *end != '\0' || v > 1000000 ||
		    o->npg_rtts == BENCH_MAX_RTTS) {
			fprintf(stderr,
			    "privd-bench: --pg-rtts needs up to %d "
			    "round-trip times in us (at most "
			    "1000000), comma-separated\n",
			    BENCH_MAX_RTTS);
			return -1;
		}
		o->pg_rtts_us[o->npg_rtts++] = (unsigned)v;
	}
	return o->npg_rtts > 0 ? 0 : -1;
}

/* Split a comma-separated list in place. */
static int
parse_fields(char *arg, bench_opts *o)
{
	char *tok, *save;

	o->nget = 0;
	for (tok = strtok_r(arg, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (o->nget == sizeof(o->get_fields) / sizeof(o->get_fields[0]))
			return -1;
		o->get_fields[o->nget++] = tok;
	}
	return o->nget > 0 ? 0 : -1;
}

static int
parse_args(int argc, char **argv, bench_opts *o, char *pg_default)
{
	bool quick = false, compare = false, subjects_given = false;
	uint64_t v;

	memset(o, 0, sizeof(*o));
	o->subjects = 100000;
	o->big_subjects = 1000000;
	o->aged_events = 2000000;
	o->audit_events = 1000000;
	o->soak_requests = 10000000;
	o->sweep_fields = 100000;
	o->seconds = 5;
	o->phases = PH_ALL;
	o->policy = BENCH_POLICY_EXAMPLE;
	o->pg_prog = pg_default;
	o->pg_rtts_us[0] = 0;
	o->pg_rtts_us[1] = 500;
	o->pg_rtts_us[2] = 1000;
	o->pg_rtts_us[3] = 2000;
	o->npg_rtts = 4;
	o->lockcost_inflight = 8;
	for (size_t i = 0; i < 4; i++)
		o->get_fields[i] = default_get_fields[i];
	o->nget = 4;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i],
		           *arg = i + 1 < argc ? argv[i + 1] : NULL;
		int used = 1; /* takes an argument */

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			exit(0);
		} else if (strcmp(a, "--quick") == 0) {
			quick = true;
			used = 0;
		} else if (strcmp(a, "--compare-stores") == 0) {
			compare = true;
			used = 0;
		} else if (arg != NULL && strcmp(a, "--store") == 0) {
			o->store = arg;
		} else if (strcmp(a, "--tcp") == 0) {
			o->tcp = true;
			used = 0;
		} else if (strcmp(a, "--seconds") == 0) {
			char *end;

			o->seconds = arg != NULL ? strtod(arg, &end) : 0;
			if (arg == NULL || end == arg || *end != '\0' ||
			    !(o->seconds >= 0.1 && o->seconds <= 86400)) {
				fprintf(stderr,
				    "privd-bench: --seconds needs a "
				    "number from 0.1 to 86400\n");
				return -1;
			}
		} else if (strcmp(a, "--subjects") == 0) {
			if (parse_u64(a, arg, 1, &o->subjects) != 0)
				return -1;
			subjects_given = true;
		} else if (strcmp(a, "--big-subjects") == 0) {
			if (parse_u64(a, arg, 1, &o->big_subjects) != 0)
				return -1;
		} else if (strcmp(a, "--aged-events") == 0) {
			if (parse_u64(a, arg, 0, &o->aged_events) != 0)
				return -1;
		} else if (strcmp(a, "--soak-requests") == 0) {
			if (parse_u64(a, arg, 10, &o->soak_requests) != 0)
				return -1;
		} else if (strcmp(a, "--sweep-fields") == 0) {
			if (parse_u64(a, arg, 1, &o->sweep_fields) != 0)
				return -1;
		} else if (strcmp(a, "--audit-events") == 0) {
			if (parse_u64(a, arg, 0, &o->audit_events) != 0)
				return -1;
		} else if (strcmp(a, "--phases") == 0) {
			if (arg == NULL || parse_phases(arg, &o->phases) != 0)
				return -1;
		} else if (strcmp(a, "--pg-rtts") == 0) {
			if (parse_rtts(arg, o) != 0)
				return -1;
		} else if (strcmp(a, "--lockcost-inflight") == 0) {
			if (parse_u64(a, arg, 1, &v) != 0 ||
			    v > BENCH_MAX_INFLIGHT)
				return -1;
			o->lockcost_inflight = (int)v;
		} else if (strcmp(a, "--get-fields") == 0) {
			/* cut a copy: argv goes into the report whole */
			static char fields[512];

			if (arg == NULL || strlen(arg) >= sizeof(fields))
				return -1;
			memcpy(fields, arg, strlen(arg) + 1);
			if (parse_fields(fields, o) != 0)
				return -1;
		} else if (strcmp(a, "--privd-arg") == 0) {
			if (arg == NULL || o->nprivd_args == 15)
				return -1;
			o->privd_args[o->nprivd_args++] = arg;
		} else if (arg != NULL && strcmp(a, "--json") == 0) {
			o->json = arg;
		} else if (arg != NULL && strcmp(a, "--policy") == 0) {
			o->policy = arg;
		} else if (arg != NULL && strcmp(a, "--pg-bench") == 0) {
			o->pg_prog = arg;
		} else if (arg != NULL && strcmp(a, "--endpoint") == 0) {
			o->endpoint = arg;
		} else if (arg != NULL && strcmp(a, "--server-key") == 0) {
			o->server_key = arg;
		} else if (arg != NULL && strcmp(a, "--key") == 0) {
			o->key_file = arg;
		} else if (arg != NULL && strcmp(a, "--auditor-key") == 0) {
			o->auditor_file = arg;
		} else if (arg != NULL && strcmp(a, "--data-dir") == 0) {
			o->data_dir = arg;
		} else if (strcmp(a, "--pid") == 0) {
			if (parse_u64(a, arg, 1, &v) != 0)
				return -1;
			o->pid = (pid_t)v;
		} else {
			fprintf(stderr, "privd-bench: unknown option %s\n", a);
			return -1;
		}
		i += used;
	}
	if (compare)
		o->phases &= PH_COMPARE;
	if (quick) {
		/* with --compare-stores, quick means fewer subjects only */
		o->phases &= PH_QUICK | (compare ? PH_COMPARE : 0);
		if (!subjects_given)
			o->subjects = QUICK_SUBJECTS;
	}
	if (o->phases == 0) {
		fprintf(stderr, "privd-bench: no phase left to run\n");
		return -1;
	}
	return 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	bench_interrupted = 1;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* Stop everything the run started and remove its files; safe to repeat
 * (it runs at the end and again from atexit). */
static void
cleanup(void)
{
	bench_run *run = the_run;

	if (run == NULL)
		return;
	echo_stop(&run->echo);
	server_stop(&run->srv);
	server_stop(&run->big);
	server_stop(&run->swp);
	server_stop(&run->pgs);
	lockcost_cleanup(run);
	pgstore_stop(&run->pg); /* after every privd on it */
	if (run->workdir[0] != '\0') {
		nftw(run->workdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		run->workdir[0] = '\0';
	}
}

/* The options as one line, for the report. */
static void
options_text(int argc, char **argv, char *out, size_t len)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = 1; i < argc && n + 1 < len; i++) {
		/* a conninfo may hold a password: only its kind is shown */
		bool spec = i > 1 && strcmp(argv[i - 1], "--store") == 0 &&
		            strcmp(argv[i], "lmdb") != 0 &&
		            strcmp(argv[i], "postgresql") != 0;
		int w = snprintf(out + n, len - n, "%s%s", i > 1 ? " " : "",
		    spec ? "(a conninfo)" : argv[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
}

int
main(int argc, char **argv)
{
	static bench_run run;
	static char pg_default[PATH_MAX + 32];
	char self[PATH_MAX];
	const char *tmp = getenv("TMPDIR");
	struct sigaction sa;
	bench_opts o;
	ssize_t n;
	int rc;

	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		snprintf(pg_default, sizeof(pg_default), "%s/privd-bench-pg",
		    dirname(self));
	}
	if (parse_args(argc, argv, &o, pg_default[0] ? pg_default : NULL) !=
	    0) {
		usage(stderr);
		return 2;
	}
	/* the test suite's store switch (tests/integration/pgstore.c) would
	 * put every privd of the run on a test server with fsync off: the
	 * bench picks its stores itself (--store, pgstore) */
	unsetenv("PRIVD_TEST_STORE");
	if (getenv("PRIVD_BIN") == NULL)
		setenv("PRIVD_BIN", BENCH_PRIVD_BIN, 1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	run.o = &o;
	run.echo.pid = -1;
	the_run = &run;
	atexit(cleanup);
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 64)
		tmp = "/tmp"; /* ipc paths are short */
	snprintf(
	    run.workdir, sizeof(run.workdir), "%s/privd-bench-XXXXXX", tmp);
	if (mkdtemp(run.workdir) == NULL) {
		fprintf(stderr, "privd-bench: mkdtemp: %s\n", strerror(errno));
		run.workdir[0] = '\0';
		return 1;
	}
	options_text(argc, argv, run.rep.options, sizeof(run.rep.options));
	snprintf(run.rep.transport, sizeof(run.rep.transport), "%s",
	    o.tcp ? "tcp" : "ipc");
	run.rep.subjects = o.subjects;
	run.rep.big_subjects = (o.phases & PH_BIG) ? o.big_subjects : 0;
	load_get_sizes(o.get_fields, o.nget, &run.rep.get_req_bytes,
	    &run.rep.get_reply_bytes);
	printf("privd-bench: %llu subjects, %g s per phase, %s with CURVE; a "
	       "GET asks for %zu fields (%zu bytes, reply %zu bytes)\n",
	    (unsigned long long)o.subjects, o.seconds, run.rep.transport,
	    o.nget, run.rep.get_req_bytes, run.rep.get_reply_bytes);
	printf("c x f = clients x requests in flight each (store: batch f); "
	       "latencies in us; cpu/req (us) and memory are privd's\n(echo: "
	       "the echo server's; store: the bench's own); B/req = growth of "
	       "the store's used size per request;\nvs floor = requests/s "
	       "against the echo (get, mixed), the store floor (put) or the "
	       "fresh store\n\n");
	report_header();

	rc = phases_run(&run);
	if (bench_interrupted) {
		fprintf(stderr, "privd-bench: interrupted\n");
		cleanup();
		return 130;
	}
	cleanup();
	if (rc != 0 || run.failed) {
		fprintf(stderr, "privd-bench: the run failed; no ratios, no "
		                "JSON\n");
		return 1;
	}
	phases_ratios(&run);
	report_print_ratios(&run.rep);
	if (run.rep.privd_version[0] != '\0')
		printf("privd %s\n", run.rep.privd_version);
	if (o.json != NULL && report_write_json(&run.rep, o.json) != 0)
		return 1;
	if (o.json != NULL)
		printf("figures written to %s\n", o.json);
	return 0;
}
