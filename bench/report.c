/*
 * report.c - the table on stdout, the ratios against the floors, and the
 * same as a JSON file (for scripts/bench_compare.py).
 *
 * JSON layout (version 1):
 *   {"version": 1, "machine": {nproc, cpu, kernel, memory_kb, date},
 *    "privd": {version}, "options": "...", "transport": "ipc",
 *    "subjects": N, "big_subjects": N, "get_request_bytes": n,
 *    "get_reply_bytes": n,
 *    "store": {file_bytes, used_bytes, audit_events},
 *    "rows": [{id, group, phase, clients, inflight, requests, seconds,
 *              rps, p50_us, p99_us, p999_us, cpu_us_per_req,
 *              rss_anon_kb, rss_file_kb, store_bytes_per_req
 *              [, vs, vs_of]}, ...],
 *    "ratios": [{id, what, value, target}, ...], "notes": [...]
 *    [, "sweep": {live_subjects, due_subjects, clients, inflight,
 *                 runs: [{id, register, rule, action, gets, seconds,
 *                         p50_us, p99_us, p999_us, max_us
 *                         [, sweep_seconds, preview_seconds, fields,
 *                         subjects, examined, fields_per_s,
 *                         p99_minus_base_us, max_minus_base_us]}]}]}
 * Unknown figures are null. Row and ratio ids are stable, so two runs
 * can be compared line by line. The sweep's runs are "base" (no sweep),
 * "delete" and "anonymize".
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "bench.h"

void
report_header(void)
{
	printf("%-16s %6s %9s %8s %8s %8s %8s %9s %9s %7s  %s\n", "phase",
	    "c x f", "req/s", "p50 us", "p99 us", "p99.9 us", "cpu/req",
	    "anon kB", "file kB", "B/req", "vs floor");
	fflush(stdout);
}

static void
print_row(const bench_row *r)
{
	char name[40], cf[24], cpu[32], anon[24], file[24], bpr[32],
	    vs[32] = "";

	snprintf(name, sizeof(name), "%s %s", r->group, r->phase);
	snprintf(cf, sizeof(cf), "%dx%d", r->clients, r->inflight);
	snprintf(cpu, sizeof(cpu), "-");
	snprintf(anon, sizeof(anon), "-");
	snprintf(file, sizeof(file), "-");
	snprintf(bpr, sizeof(bpr), "-");
	if (r->cpu_us_per_req >= 0)
		snprintf(cpu, sizeof(cpu), "%.1f", r->cpu_us_per_req);
	if (r->rss_anon_kb >= 0)
		snprintf(anon, sizeof(anon), "%ld", r->rss_anon_kb);
	if (r->rss_file_kb >= 0)
		snprintf(file, sizeof(file), "%ld", r->rss_file_kb);
	if (r->store_bytes_per_req >= 0)
		snprintf(bpr, sizeof(bpr), "%.0f", r->store_bytes_per_req);
	if (r->vs >= 0) {
		/* name the floor by its group; privd's own row is "fresh" */
		const char *of = strncmp(r->vs_of, "privd/", 6) == 0   ? "fresh"
		                 : strncmp(r->vs_of, "store/", 6) == 0 ? "store"
		                                                       : "echo";
		snprintf(vs, sizeof(vs), "%.2f %s", r->vs, of);
	}
	printf("%-16s %6s %9.0f %8.0f %8.0f %8.0f %8s %9s %9s %7s%s%s\n", name,
	    cf, r->rps, r->p50_us, r->p99_us, r->p999_us, cpu, anon, file, bpr,
	    vs[0] ? "  " : "", vs);
	fflush(stdout);
}

bench_row *
report_add(bench_report *rep, const bench_row *row)
{
	bench_row *r;

	if (rep->nrows >= BENCH_MAX_ROWS)
		return NULL;
	r = &rep->rows[rep->nrows++];
	*r = *row;
	print_row(r);
	return r;
}

const bench_row *
report_find(const bench_report *rep, const char *id)
{
	for (size_t i = 0; i < rep->nrows; i++)
		if (strcmp(rep->rows[i].id, id) == 0)
			return &rep->rows[i];
	return NULL;
}

void
report_ratio(bench_report *rep, const char *id, const char *what, double value,
    const char *target)
{
	bench_ratio *r;

	if (rep->nratios >= BENCH_MAX_RATIOS)
		return;
	r = &rep->ratios[rep->nratios++];
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->what, sizeof(r->what), "%s", what);
	snprintf(r->target, sizeof(r->target), "%s", target ? target : "");
	r->value = value;
}

void
report_note(bench_report *rep, const char *fmt, ...)
{
	va_list ap;
	char *n;

	if (rep->nnotes >= BENCH_MAX_NOTES)
		return;
	n = rep->notes[rep->nnotes++];
	va_start(ap, fmt);
	vsnprintf(n, sizeof(rep->notes[0]), fmt, ap);
	va_end(ap);
	fprintf(stderr, "privd-bench: %s\n", n);
}

static const bench_sweep *
sweep_base(const bench_report *rep)
{
	for (size_t i = 0; i < rep->nsweeps; i++)
		if (strcmp(rep->sweeps[i].id, "base") == 0)
			return &rep->sweeps[i];
	return NULL;
}

/* The sweep phase's figures: the GETs without and during each sweep. */
static void
print_sweeps(const bench_report *rep)
{
	const bench_sweep *b = sweep_base(rep);

	if (rep->nsweeps == 0)
		return;
	printf("\nthe retention sweeper under load: %dx%d GETs of %llu live "
	       "subjects while %llu subjects\n(%llu fields) of customers, then "
	       "as many of acis, are swept\n",
	    rep->sweep_clients, rep->sweep_inflight,
	    (unsigned long long)rep->sweep_live,
	    (unsigned long long)rep->sweep_due,
	    (unsigned long long)rep->sweep_due * FLD_N);
	printf("  %-10s %8s %8s %8s %8s %8s %8s %9s %9s %9s\n", "sweep",
	    "GETs/s", "p50 us", "p99 us", "p99.9 us", "max us", "sweep s",
	    "fields/s", "p99 diff", "max diff");
	for (size_t i = 0; i < rep->nsweeps; i++) {
		const bench_sweep *f = &rep->sweeps[i];
		char sw[24] = "-", fps[24] = "-", d99[24] = "-", dmax[24] = "-";

		if (f != b) {
			snprintf(sw, sizeof(sw), "%.2f", f->sweep_s);
			if (f->sweep_s > 0)
				snprintf(fps, sizeof(fps), "%.0f",
				    (double)f->fields / f->sweep_s);
			if (b != NULL) {
				snprintf(d99, sizeof(d99), "%+.0f",
				    f->p99_us - b->p99_us);
				snprintf(dmax, sizeof(dmax), "%+.0f",
				    f->max_us - b->max_us);
			}
		}
		printf("  %-10s %8.0f %8.0f %8.0f %8.0f %8.0f %8s %9s %9s "
		       "%9s\n",
		    f == b ? "none" : f->id,
		    f->get_seconds > 0 ? (double)f->gets / f->get_seconds : 0,
		    f->p50_us, f->p99_us, f->p999_us, f->max_us, sw, fps, d99,
		    dmax);
	}
	for (size_t i = 0; i < rep->nsweeps; i++) {
		const bench_sweep *f = &rep->sweeps[i];

		if (f == b)
			continue;
		printf("  %s: %s rule %s (%s): %llu fields of %llu subjects, "
		       "%llu index entries examined; the preview before it "
		       "%.2f s\n",
		    f->id, f->reg, f->rule, f->action,
		    (unsigned long long)f->fields,
		    (unsigned long long)f->subjects,
		    (unsigned long long)f->examined, f->preview_s);
	}
}

void
report_print_ratios(const bench_report *rep)
{
	if (rep->nratios > 0)
		printf("\nratios (one run; the issue's targets in brackets)\n");
	for (size_t i = 0; i < rep->nratios; i++) {
		const bench_ratio *r = &rep->ratios[i];
		char v[24];

		if (r->value >= 0)
			snprintf(v, sizeof(v), "%.2f", r->value);
		else
			snprintf(v, sizeof(v), "n/a");
		printf("  %-60s %6s%s%s%s\n", r->what, v,
		    r->target[0] ? "  [" : "", r->target,
		    r->target[0] ? "]" : "");
	}
	if (rep->store_file_bytes >= 0 || rep->store_used_bytes >= 0)
		printf("\nfresh store: data.mdb %.1f MiB, %.1f MiB in use, "
		       "%llu audit events\n",
		    rep->store_file_bytes / 1048576.0,
		    rep->store_used_bytes / 1048576.0,
		    (unsigned long long)rep->audit_events);
	print_sweeps(rep);
	if (rep->nnotes > 0)
		printf("\nnotes\n");
	for (size_t i = 0; i < rep->nnotes; i++)
		printf("  %s\n", rep->notes[i]);
	fflush(stdout);
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *
num_or_null(double v, bool known)
{
	return known ? json_real(v) : json_null();
}

static json_t *
machine_json(void)
{
	char buf[512], cpu[256] = "", date[32];
	struct utsname u;
	long memkb = -1;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f;
	json_t *m = json_object();

	if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(buf, sizeof(buf), f) != NULL) {
			char *c = strchr(buf, ':');
			if (strncmp(buf, "model name", 10) == 0 && c != NULL) {
				snprintf(cpu, sizeof(cpu), "%s", c + 2);
				cpu[strcspn(cpu, "\n")] = '\0';
				break;
			}
		}
		fclose(f);
	}
	if ((f = fopen("/proc/meminfo", "r")) != NULL) {
		while (fgets(buf, sizeof(buf), f) != NULL)
			if (sscanf(buf, "MemTotal: %ld", &memkb) == 1)
				break;
		fclose(f);
	}
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_object_set_new(
	    m, "nproc", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(m, "cpu", json_string(cpu));
	if (uname(&u) == 0) {
		snprintf(buf, sizeof(buf), "%s %s %s", u.sysname, u.release,
		    u.machine);
		json_object_set_new(m, "kernel", json_string(buf));
	}
	json_object_set_new(m, "memory_kb", json_integer(memkb));
	json_object_set_new(m, "date", json_string(date));
	return m;
}

static json_t *
row_json(const bench_row *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_string(r->id));
	json_object_set_new(o, "group", json_string(r->group));
	json_object_set_new(o, "phase", json_string(r->phase));
	json_object_set_new(o, "clients", json_integer(r->clients));
	json_object_set_new(o, "inflight", json_integer(r->inflight));
	json_object_set_new(
	    o, "requests", json_integer((json_int_t)r->requests));
	json_object_set_new(o, "seconds", json_real(r->seconds));
	json_object_set_new(o, "rps", json_real(r->rps));
	json_object_set_new(o, "p50_us", json_real(r->p50_us));
	json_object_set_new(o, "p99_us", json_real(r->p99_us));
	json_object_set_new(o, "p999_us", json_real(r->p999_us));
	json_object_set_new(o, "cpu_us_per_req",
	    num_or_null(r->cpu_us_per_req, r->cpu_us_per_req >= 0));
	json_object_set_new(o, "rss_anon_kb",
	    r->rss_anon_kb >= 0 ? json_integer(r->rss_anon_kb) : json_null());
	json_object_set_new(o, "rss_file_kb",
	    r->rss_file_kb >= 0 ? json_integer(r->rss_file_kb) : json_null());
	json_object_set_new(o, "store_bytes_per_req",
	    num_or_null(r->store_bytes_per_req, r->store_bytes_per_req >= 0));
	if (r->vs >= 0) {
		json_object_set_new(o, "vs", json_real(r->vs));
		json_object_set_new(o, "vs_of", json_string(r->vs_of));
	}
	return o;
}

static json_t *
sweep_json(const bench_report *rep)
{
	const bench_sweep *b = sweep_base(rep);
	json_t *o = json_object(), *runs = json_array();

	json_object_set_new(
	    o, "live_subjects", json_integer((json_int_t)rep->sweep_live));
	json_object_set_new(
	    o, "due_subjects", json_integer((json_int_t)rep->sweep_due));
	json_object_set_new(o, "clients", json_integer(rep->sweep_clients));
	json_object_set_new(o, "inflight", json_integer(rep->sweep_inflight));
	for (size_t i = 0; i < rep->nsweeps; i++) {
		const bench_sweep *f = &rep->sweeps[i];
		json_t *r = json_object();

		json_object_set_new(r, "id", json_string(f->id));
		json_object_set_new(r, "register", json_string(f->reg));
		json_object_set_new(r, "rule", json_string(f->rule));
		json_object_set_new(r, "action", json_string(f->action));
		json_object_set_new(
		    r, "gets", json_integer((json_int_t)f->gets));
		json_object_set_new(r, "seconds", json_real(f->get_seconds));
		json_object_set_new(r, "p50_us", json_real(f->p50_us));
		json_object_set_new(r, "p99_us", json_real(f->p99_us));
		json_object_set_new(r, "p999_us", json_real(f->p999_us));
		json_object_set_new(r, "max_us", json_real(f->max_us));
		if (f != b) {
			json_object_set_new(
			    r, "sweep_seconds", json_real(f->sweep_s));
			json_object_set_new(
			    r, "preview_seconds", json_real(f->preview_s));
			json_object_set_new(
			    r, "fields", json_integer((json_int_t)f->fields));
			json_object_set_new(r, "subjects",
			    json_integer((json_int_t)f->subjects));
			json_object_set_new(r, "examined",
			    json_integer((json_int_t)f->examined));
			json_object_set_new(r, "fields_per_s",
			    num_or_null((double)f->fields / f->sweep_s,
			        f->sweep_s > 0));
			json_object_set_new(r, "p99_minus_base_us",
			    num_or_null(
			        f->p99_us - (b ? b->p99_us : 0), b != NULL));
			json_object_set_new(r, "max_minus_base_us",
			    num_or_null(
			        f->max_us - (b ? b->max_us : 0), b != NULL));
		}
		json_array_append_new(runs, r);
	}
	json_object_set_new(o, "runs", runs);
	return o;
}

int
report_write_json(const bench_report *rep, const char *path)
{
	json_t *root = json_object(), *rows = json_array(),
	       *ratios = json_array(), *notes = json_array(),
	       *store = json_object(), *privd = json_object();
	char tmp[BENCH_PATH_MAX + 8];
	int rc;

	json_object_set_new(root, "version", json_integer(1));
	json_object_set_new(root, "machine", machine_json());
	json_object_set_new(privd, "version", json_string(rep->privd_version));
	json_object_set_new(root, "privd", privd);
	json_object_set_new(root, "options", json_string(rep->options));
	json_object_set_new(root, "transport", json_string(rep->transport));
	json_object_set_new(
	    root, "subjects", json_integer((json_int_t)rep->subjects));
	json_object_set_new(
	    root, "big_subjects", json_integer((json_int_t)rep->big_subjects));
	json_object_set_new(root, "get_request_bytes",
	    json_integer((json_int_t)rep->get_req_bytes));
	json_object_set_new(root, "get_reply_bytes",
	    json_integer((json_int_t)rep->get_reply_bytes));
	json_object_set_new(store, "file_bytes",
	    rep->store_file_bytes >= 0 ? json_integer(rep->store_file_bytes)
	                               : json_null());
	json_object_set_new(store, "used_bytes",
	    rep->store_used_bytes >= 0 ? json_integer(rep->store_used_bytes)
	                               : json_null());
	json_object_set_new(
	    store, "audit_events", json_integer((json_int_t)rep->audit_events));
	json_object_set_new(root, "store", store);
	for (size_t i = 0; i < rep->nrows; i++)
		json_array_append_new(rows, row_json(&rep->rows[i]));
	json_object_set_new(root, "rows", rows);
	for (size_t i = 0; i < rep->nratios; i++) {
		const bench_ratio *r = &rep->ratios[i];
		json_array_append_new(ratios,
		    json_pack("{s:s, s:s, s:o, s:s}", "id", r->id, "what",
		        r->what, "value", num_or_null(r->value, r->value >= 0),
		        "target", r->target));
	}
	json_object_set_new(root, "ratios", ratios);
	for (size_t i = 0; i < rep->nnotes; i++)
		json_array_append_new(notes, json_string(rep->notes[i]));
	json_object_set_new(root, "notes", notes);
	if (rep->nsweeps > 0)
		json_object_set_new(root, "sweep", sweep_json(rep));
	/* written aside and renamed: never half a file under the name */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	rc = json_dump_file(root, tmp, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (rc != 0 || rename(tmp, path) != 0) {
		fprintf(stderr, "privd-bench: cannot write %s\n", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}
