/*
 * alternative.c - (c) the usual alternative: PostgreSQL on loopback, as
 * measured by privd-bench-pg (bench/pg*.c, a program of its own, built
 * when libpq is there). It is run as a child:
 *
 *   privd-bench-pg --subjects N --seconds S --phases get:1x1,get:8x16,...
 *
 * and prints one JSON object per line per phase,
 *   {"phase":"get","clients":8,"inflight":16,"requests":..,"errors":..,
 *    "seconds":..,"rps":..,"p50_us":..,"p99_us":..,"p999_us":..}
 * or a single {"skipped":"why"}. Its stderr passes through. A missing
 * program, a skip, errors or output the bench cannot read become a note
 * in the report, not a failure of the run: the alternative is context for
 * privd's figures, not what is under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "alternative.h"

#define TERM_GRACE_MS 15000

static void
stop_child(pid_t pid, int *status)
{
	uint64_t deadline = bench_now_ns() + TERM_GRACE_MS * 1000000ull;

	/* SIGTERM first: it has a PostgreSQL of its own to shut down */
	kill(pid, SIGTERM);
	while (waitpid(pid, status, WNOHANG) == 0) {
		if (bench_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, status, 0);
			return;
		}
		usleep(20000);
	}
}

static double
num(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);

	return json_is_number(v) ? json_number_value(v) : -1;
}

/* One line of output: a row, a skip, or something to note. Returns the
 * errors the line reports. */
static uint64_t
take_line(bench_report *rep, const char *line, bool *skipped, int *rows)
{
	json_error_t jerr;
	json_t *o = json_loads(line, 0, &jerr), *v;
	bench_row r;
	const char *phase;
	double errors;

	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		return 0; /* not JSON: not ours to read */
	}
	if ((v = json_object_get(o, "skipped")) != NULL) {
		report_note(rep, "PostgreSQL alternative skipped: %s",
		    json_is_string(v) ? json_string_value(v) : "(no reason)");
		*skipped = true;
		json_decref(o);
		return 0;
	}
	phase = json_string_value(json_object_get(o, "phase"));
	errors = num(o, "errors");
	memset(&r, 0, sizeof(r));
	snprintf(r.group, sizeof(r.group), "pg");
	snprintf(r.phase, sizeof(r.phase), "%s", phase ? phase : "?");
	r.clients = (int)num(o, "clients");
	r.inflight = (int)num(o, "inflight");
	snprintf(
	    r.id, sizeof(r.id), "pg/%s/%dx%d", r.phase, r.clients, r.inflight);
	r.requests = num(o, "requests") > 0 ? (uint64_t)num(o, "requests") : 0;
	r.seconds = num(o, "seconds");
	r.rps = num(o, "rps");
	r.p50_us = num(o, "p50_us");
	r.p99_us = num(o, "p99_us");
	r.p999_us = num(o, "p999_us");
	r.cpu_us_per_req = num(o, "cpu_us_per_req");
	r.rss_anon_kb = (long)num(o, "rss_anon_kb");
	r.rss_file_kb = (long)num(o, "rss_file_kb");
	r.store_bytes_per_req = num(o, "store_bytes_per_req");
	r.vs = -1;
	json_decref(o);
	if (phase == NULL || r.rps < 0 || r.clients < 1 || r.inflight < 1) {
		report_note(rep, "PostgreSQL alternative: a line the bench "
		                 "cannot read was left out");
		return 0;
	}
	if (errors > 0) {
		report_note(rep,
		    "PostgreSQL alternative: %s %dx%d had %.0f errors; its "
		    "figures are left out",
		    r.phase, r.clients, r.inflight, errors);
		return (uint64_t)errors;
	}
	report_add(rep, &r);
	(*rows)++;
	return 0;
}

int
alternative_run(bench_report *rep, const char *prog, uint64_t subjects,
    double seconds, const char *phases)
{
	char nbuf[32], sbuf[32], buf[4096];
	const char *argv[] = {prog, "--subjects", nbuf, "--seconds", sbuf,
	    "--phases", phases, NULL};
	uint64_t deadline;
	size_t used = 0;
	bool skipped = false;
	int fds[2], status = 0, rows = 0;
	pid_t pid, parent = getpid();

	if (prog == NULL || access(prog, X_OK) != 0) {
		report_note(rep,
		    "PostgreSQL alternative not run: %s is not there (it is "
		    "built when libpq is installed: make bench-deps)",
		    prog ? prog : "privd-bench-pg");
		return 0;
	}
	snprintf(nbuf, sizeof(nbuf), "%llu", (unsigned long long)subjects);
	snprintf(sbuf, sizeof(sbuf), "%g", seconds);
	if (pipe(fds) != 0)
		return -1;
	fflush(NULL);
	if ((pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[1]);
		execv(prog, (char *const *)argv);
		fprintf(stderr, "privd-bench: cannot run %s: %s\n", prog,
		    strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	/* setting up PostgreSQL and loading the subjects takes a while */
	deadline =
	    bench_now_ns() +
	    (uint64_t)(600 + subjects / 200 + 10 * seconds) * 1000000000ull;
	for (;;) {
		struct pollfd p = {.fd = fds[0], .events = POLLIN};
		char *nl;
		ssize_t n;

		if (bench_interrupted || bench_now_ns() > deadline) {
			report_note(rep, "PostgreSQL alternative %s",
			    bench_interrupted ? "interrupted"
			                      : "timed out: stopped");
			stop_child(pid, &status);
			close(fds[0]);
			return 0;
		}
		if (poll(&p, 1, 200) <= 0)
			continue;
		if ((n = read(fds[0], buf + used, sizeof(buf) - 1 - used)) <=
		    0) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		used += (size_t)n;
		buf[used] = '\0';
		while ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			take_line(rep, buf, &skipped, &rows);
			used -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, used + 1);
		}
		if (used == sizeof(buf) - 1)
			used = 0; /* an endless line: drop it */
	}
	if (used > 0) {
		buf[used] = '\0';
		take_line(rep, buf, &skipped, &rows);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!skipped && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		report_note(rep, "PostgreSQL alternative: %s ended with %s %d",
		    prog, WIFEXITED(status) ? "exit status" : "signal",
		    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	else if (!skipped && rows == 0)
		report_note(rep,
		    "PostgreSQL alternative: %s printed no "
		    "figures",
		    prog);
	return 0;
}
