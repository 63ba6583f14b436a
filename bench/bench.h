/*
 * bench.h - privd-bench: privd measured against the machine's own floors.
 *
 * The pieces, one file each:
 *   main.c         options, the order of the phases, clean-up
 *   server.c       the privd under test: start it (or reach --endpoint),
 *                  its policy, its CPU and memory, its store's size
 *   load.c         the load generator: DEALER clients over CURVE keeping
 *                  requests in flight, every reply checked
 *   sweep_phase.c  the retention sweeper under load (a privd of its own
 *                  with the test clock)
 *   floor_ipc.c    floor (a): a bare ROUTER/DEALER echo with CURVE
 *   floor_store.c  floor (b): the same gets and puts in-process on LMDB
 *                  and libsodium, one audit record per operation
 *   alternative.c  (c): runs privd-bench-pg, the PostgreSQL alternative
 *   report.c       the table, the ratios, the JSON file
 *   common.c       clocks, latency histograms, /proc, the data stored
 *
 * Everything runs from the main thread except the load generator's client
 * threads (load.c), which touch only their own client and the shared
 * counters of their run.
 */
#ifndef PRIVD_BENCH_H
#define PRIVD_BENCH_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MAX_CLIENTS  64
#define BENCH_MAX_INFLIGHT 256
#define BENCH_KEY_LEN      41 /* Z85 key and its NUL */
#define BENCH_PATH_MAX     512

/* Set by SIGINT/SIGTERM: every loop ends, main.c cleans up. */
extern volatile sig_atomic_t bench_interrupted;

/* ---- common.c ---------------------------------------------------------- */

/* Nanoseconds on the monotonic clock. */
uint64_t bench_now_ns(void);

/* A TCP port of 127.0.0.1 that is free at the moment, or -1. */
int bench_free_tcp_port(void);

/*
 * A latency histogram in nanoseconds: exact below 1024 ns, then 512
 * buckets per power of two (0.2% resolution), up to about 18 minutes.
 * One per client thread; merged at the end of a run.
 */
typedef struct hist {
	uint64_t *b;
	uint64_t n;
	uint64_t max;
} hist;
int hist_init(hist *h); /* 0 or -1 (out of memory) */
void hist_free(hist *h);
void hist_reset(hist *h);
void hist_add(hist *h, uint64_t ns);
void hist_merge(hist *dst, const hist *src);
/* The q-quantile (0 < q < 1) in microseconds; 0 for an empty histogram. */
double hist_quantile_us(const hist *h, double q);

/* What /proc says about a process: CPU time and resident memory. */
typedef struct proc_sample {
	bool ok;
	uint64_t cpu_ticks; /* utime + stime, in clock ticks */
	long rss_anon_kb;
	long rss_file_kb;
} proc_sample;
void proc_sample_take(pid_t pid, proc_sample *out);
/* CPU microseconds between two samples; -1 if either failed. */
double proc_cpu_us(const proc_sample *a, const proc_sample *b);

/*
 * The data the bench stores: subjects of the customers register of
 * policy/examples/aktiivitieto.json, five fields each. Values are made up
 * from the subject's number, so that every reply can be checked without
 * keeping the data; variant 0 is what the load writes, and the PUT phases
 * write variant 0 or 1 of phone, organisation and position.
 */
enum { FLD_NAME, FLD_EMAIL, FLD_PHONE, FLD_ORG, FLD_POSITION, FLD_N };
extern const char *const bench_field_names[FLD_N];
#define BENCH_REGISTER  "customers"
#define BENCH_PURPOSE   "orders" /* granted to crm: read and write */
#define BENCH_VALUE_MAX 128
/* The field's index, or -1 if the bench does not store that field. */
int bench_field_index(const char *name);
/* The value of field f of subject i in variant v; returns its length. */
size_t bench_value(int f, uint64_t i, int v, char *buf, size_t cap);
/* Whether a PUT phase rewrites field f (so either variant may be read). */
bool bench_field_varies(int f);
/* The subject id of subject i; returns its length. */
size_t bench_subject(uint64_t i, char *buf, size_t cap);

/* ---- load.c ------------------------------------------------------------ */

typedef enum load_kind {
	LOAD_GET,    /* GET of the spec's fields, random subjects */
	LOAD_PUT,    /* PUT of phone, organisation, position */
	LOAD_MIXED,  /* 90% GET, 10% PUT */
	LOAD_FILL,   /* PUT of all five fields of subjects first.. in order */
	LOAD_AUDITQ, /* an auditor's AuditQuery by subject, first page */
	LOAD_ECHO,   /* floor (a): opaque frames of the GET's sizes */
	LOAD_RELEND, /* RelationshipEnd{now} of subjects first.. in order */
} load_kind;

typedef struct load_spec {
	load_kind kind;
	const char *endpoint;
	/* non-NULL: the odd-numbered clients connect here instead (a second
	 * privd node on the same store, same server key and policy) */
	const char *endpoint2;
	const char *server_key; /* Z85 */
	const char *pub, *sec;  /* the client's key pair, Z85 */
	int clients;
	int inflight;       /* requests each client keeps in flight */
	double seconds;     /* > 0: a timed run */
	uint64_t count;     /* else: this many requests in all */
	uint64_t first;     /* LOAD_FILL, LOAD_RELEND: the first subject */
	uint64_t nsubjects; /* random subjects are drawn from 0..nsubjects-1 */
	const char *const *get_fields; /* LOAD_GET/MIXED: names to ask for */
	size_t nget;
	size_t echo_req, echo_reply; /* LOAD_ECHO: frame sizes */
	/* the register and purpose of GETs and PUTs (NULL: BENCH_REGISTER,
	 * BENCH_PURPOSE); a fill of another register writes the same five
	 * fields, which it must declare */
	const char *reg, *purpose;
	/* a timed run also ends when *stop becomes true (NULL: never) */
	atomic_bool *stop;
	uint64_t seed;
	/* Called by the main thread: at the start and the end of the timed
	 * part (after every client connected), and about every 200 ms while
	 * it runs; tick returns false to abort the run (the server died). */
	void (*at_start)(void *arg);
	void (*at_end)(void *arg);
	bool (*tick)(void *arg, uint64_t done);
	void *arg;
} load_spec;

typedef struct load_result {
	uint64_t requests; /* replies received and checked */
	uint64_t errors;
	double seconds;
	double p50_us, p99_us, p999_us, max_us;
	/* the first error: a status name (or "protocol", "timeout"...) and
	 * privd's message, which never holds a value or a subject id */
	char first_error[256];
} load_result;

/* Run a load. Returns 0, or -1 if it could not run at all (result's
 * first_error says why); errors of requests are counted in r. */
int load_run(const load_spec *s, load_result *r);

/* Sizes of a packed GET request and of its reply (for LOAD_ECHO). */
void load_get_sizes(
    const char *const *fields, size_t n, size_t *req, size_t *reply);

/* ---- report.c ---------------------------------------------------------- */

typedef struct bench_row {
	char id[48];    /* unique, e.g. "privd/get/8x16", for comparisons */
	char group[16]; /* privd, echo, store, pg */
	char phase[24];
	int clients, inflight; /* store: 1 x batch */
	uint64_t requests;
	double seconds, rps, p50_us, p99_us, p999_us;
	double cpu_us_per_req;         /* < 0: unknown */
	long rss_anon_kb, rss_file_kb; /* < 0: unknown */
	double store_bytes_per_req;    /* < 0: not measured */
	/* requests/s against the row's floor, printed beside it: a GET or
	 * mixed row against the echo, a PUT row against the store floor with
	 * the same batch, an aged or big GET against the fresh one */
	double vs;      /* < 0: none */
	char vs_of[48]; /* the id of the row compared with */
} bench_row;

typedef struct bench_ratio {
	char id[40];
	char what[96];
	double value;    /* < 0: not available */
	char target[24]; /* the target, as text, or "" */
} bench_ratio;

/*
 * The retention sweeper under load (sweep_phase.c): GETs of live subjects
 * without a sweep ("base"), and while a sweep deletes ("delete") or
 * anonymises ("anonymize") the fields that fell due.
 */
typedef struct bench_sweep {
	char id[16];
	char reg[32], rule[32], action[24]; /* the rule that acted */
	uint64_t gets;                      /* GETs answered meanwhile */
	double get_seconds;
	double p50_us, p99_us, p999_us, max_us;
	/* a sweep's own figures (not for "base") */
	double sweep_s;   /* RetentionRun sent to answered */
	double preview_s; /* the preview before it (a read-only walk) */
	uint64_t fields, subjects, examined;
} bench_sweep;

#define BENCH_MAX_ROWS   64
#define BENCH_MAX_RATIOS 16
#define BENCH_MAX_NOTES  24
#define BENCH_MAX_SWEEPS 4

typedef struct bench_report {
	bench_row rows[BENCH_MAX_ROWS];
	size_t nrows;
	bench_ratio ratios[BENCH_MAX_RATIOS];
	size_t nratios;
	char notes[BENCH_MAX_NOTES][200];
	size_t nnotes;
	/* what the run was */
	char options[512];
	char transport[8];
	uint64_t subjects, big_subjects;
	size_t get_req_bytes, get_reply_bytes;
	/* the fresh store at the end of its phases */
	long long store_file_bytes, store_used_bytes; /* < 0: unknown */
	uint64_t audit_events;
	char privd_version[32];
	/* the sweep phase: its live and due subjects, GET clients x flight */
	bench_sweep sweeps[BENCH_MAX_SWEEPS];
	size_t nsweeps;
	uint64_t sweep_live, sweep_due;
	int sweep_clients, sweep_inflight;
} bench_report;

/* Add a row (and print it at once); returns it, or NULL when full. */
bench_row *report_add(bench_report *rep, const bench_row *row);
const bench_row *report_find(const bench_report *rep, const char *id);
void report_ratio(bench_report *rep, const char *id, const char *what,
    double value, const char *target);
/* A line for the report and stderr: a skipped phase, a reason. */
void report_note(bench_report *rep, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void report_header(void);
/* Print the ratios (the sweep's figures, the notes) after the table. */
void report_print_ratios(const bench_report *rep);
/* Write the JSON file; 0 or -1. */
int report_write_json(const bench_report *rep, const char *path);

#endif
