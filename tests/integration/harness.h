/*
 * harness.h - run a real privd for integration tests.
 *
 * A harness owns one temporary directory (mkdtemp under $TMPDIR or /tmp)
 * holding the policy file, the data directory, the ipc socket and a log file
 * that receives privd's stderr, and at most one running `privd serve` child
 * (and one privctl in the background, h_privctl_start).
 * h_destroy() stops the child (SIGTERM, then SIGKILL) and removes the
 * directory; harnesses still alive at exit are destroyed by an atexit hook,
 * and children die with the test process (PR_SET_PDEATHSIG), so a failing
 * test leaves nothing behind.
 *
 * Binaries come from the environment: PRIVD_BIN (the daemon) and PRIVCTL_BIN
 * (the CLI), both set by meson.
 *
 * Not thread-safe: call harness functions from the test's main thread only
 * (privd clients made with h_connect() may be used from any one thread).
 * Harness functions never call cmocka assertions; they return -1 and print
 * why on stderr, so they can be used from setup and teardown functions
 * (checks.h has the assertions the tests share).
 *
 * The code: harness.c (the directory, keys, policy, test clock, privd
 * init/serve/stop/kill, set-ups), run.c (commands and privctl, h_run*,
 * h_privctl*), dealer.c (h_dealer_*), files.c (files, h_scan_*, the log).
 */
#ifndef PRIVD_TEST_HARNESS_H
#define PRIVD_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <privd/client.h>

#include "privd.pb-c.h"

#define H_PATH_MAX 256
#define H_MAX_KEYS 8
#define H_NAME_MAX 32

/* A text field for privd_put(): name and the bytes of s (no NUL). */
static inline privd_field
h_field(const char *name, const char *s)
{
	privd_field f = {name, (const uint8_t *)s, 0};

	while (s[f.len] != '\0')
		f.len++;
	return f;
}

/* Deadlines used by the helpers, in milliseconds. */
#define H_READY_TIMEOUT_MS 10000 /* privd serve answers a ping */
#define H_STOP_TIMEOUT_MS  10000 /* privd exits after SIGTERM */
#define H_RUN_TIMEOUT_MS   10000 /* a short command (init, refusing serve) */

/* A client key pair, as Z85 text, under a name the policy template uses. */
typedef struct h_key {
	char name[H_NAME_MAX];
	char pub[PRIVD_KEY_Z85_LEN];
	char sec[PRIVD_KEY_Z85_LEN];
} h_key;

typedef struct harness {
	char root[H_PATH_MAX];     /* temporary directory, removed at the end */
	char data_dir[H_PATH_MAX]; /* root/data: made by privd init */
	char policy[H_PATH_MAX];   /* root/policy.json */
	char log[H_PATH_MAX];  /* root/privd.log: stderr of every privd run */
	char sock[H_PATH_MAX]; /* root/s: the ipc socket path */
	char endpoint[H_PATH_MAX];          /* "ipc://" + sock */
	char server_key[PRIVD_KEY_Z85_LEN]; /* from privd init's stdout */
	h_key keys[H_MAX_KEYS];
	size_t nkeys;
	const char *privd_bin;
	const char *privctl_bin;
	pid_t pid;        /* running privd serve, or -1 */
	int last_wstatus; /* wait status of the last privd serve that ended */
	/* extra arguments of `privd init` (NULL-terminated), or NULL */
	const char *const *init_extra;
	/* the test clock (h_clock_set): root/clock, passed to every privd
	 * started afterwards as PRIVD_TEST_CLOCK_FILE */
	char clock_file[H_PATH_MAX];
	bool clock_on;
	int64_t clock_offset_s;
	/* RLIMIT_FSIZE of privd serve children (0: none) */
	uint64_t fsize_limit;
	pid_t bg_pid; /* privctl in the background (h_privctl_start), or -1 */
	/* the store privd init was given (PostgreSQL: its conninfo), or "" */
	char store_spec[H_PATH_MAX];
	bool pg_log_all; /* set before h_init: log_statement = all */
} harness;

/*
 * Store (pgstore.c): the suite runs privd on LMDB in the data directory,
 * or, with PRIVD_TEST_STORE=postgresql (meson test --setup pg), on a
 * private PostgreSQL server per test process with a fresh database per
 * h_init (privd init --store; DIR/store then names it for every later
 * command, so a copied data directory is a second node on the same
 * store). A test that is LMDB's only (it reads data.mdb, backs up or
 * restores, grows the map, fills the disk) is given PRIVD_TEST_LMDB_ONLY
 * (the reason) by meson, and h_new exits 77 (skipped) saying it.
 */
bool h_store_pg(void);
/* Exit 77 with the reason if this test cannot run on the store asked. */
void h_store_check(void);
/* A fresh database's conninfo into spec (PostgreSQL mode; the server is
 * started at the first call; log_all: log_statement = all for it). 0 or
 * -1. Exits 77 if PostgreSQL is not installed. PRIVD_TEST_PG_LOG_ALL set:
 * log_all for every database. */
int h_store_new(char *spec, size_t len, bool log_all);
/* The private server's directory (its log: DIR/server.log) and the
 * directory of its binaries (pg_dump), or NULL before h_store_new. */
const char *h_store_server_dir(void);
const char *h_store_bindir(void);
/* Stop the private server (fast shutdown) and start it again: 0 or -1. */
int h_store_halt(void);
int h_store_resume(void);
/* End every connection to h's database (pg_terminate_backend), as a
 * failover ends them: 0 or -1. */
int h_store_drop_connections(const harness *h);
/* PostgreSQL: give to (a copy of from's data directory, privd stopped) a
 * copy of from's database, so the two are independent stores with the
 * same keys, as two copied LMDB directories are. 0 or -1. */
int h_store_clone(const harness *from, harness *to);

/*
 * Pieces of the policy templates that several tests share, to put together
 * by string literal concatenation: H_POL_CONTROLLER, the registers (e.g.
 * H_POL_CUSTOMERS), H_POL_PRINCIPALS, the principals separated by ",\n"
 * (e.g. H_POL_SVC_RW, H_POL_AUDITOR), then H_POL_END.
 */
#define H_POL_CONTROLLER                                                       \
	"{\"controller\": {\"name\": \"Test Oy\", \"business_id\": "           \
	"\"1234567-8\"},\n"
/* Register customers: purpose invoicing (contract), one field, name
 * (identity, string). */
#define H_POL_CUSTOMERS                                                        \
	" \"registers\": {\"customers\": {\n"                                  \
	"   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n" \
	"   \"fields\": {\"name\": {\"category\": \"identity\", \"type\": "    \
	"\"string\"}}}},\n"
#define H_POL_PRINCIPALS " \"principals\": {\n"
/* Principal svc (region FI) granted read and write (H_POL_SVC_RW), or
 * read, write and delete (H_POL_SVC_RWD), of every field of customers for
 * invoicing. */
#define H_POL_SVC_GRANT                                                        \
	"  \"svc\": {\"key\": \"@KEY:svc@\", \"region\": \"FI\", \"grants\": " \
	"[{\"register\": \"customers\", \"purposes\": [\"invoicing\"], "       \
	"\"fields\": [\"*\"], \"ops\": "
#define H_POL_SVC_RW  H_POL_SVC_GRANT "[\"read\", \"write\"]}]}"
#define H_POL_SVC_RWD H_POL_SVC_GRANT "[\"read\", \"write\", \"delete\"]}]}"
/* Principal auditor, with the role auditor. */
#define H_POL_AUDITOR                                                          \
	"  \"auditor\": {\"key\": \"@KEY:auditor@\", \"roles\": "              \
	"[\"auditor\"]}"
#define H_POL_END "}}\n"

/*
 * The policy of most tests: register "customers" (transfer EEA; purposes
 * invoicing and marketing; fields name/string, email/email, notes/text,
 * blob/bytes) and principal "svc" (region FI) granted read, write and delete
 * of every field for invoicing. "@KEY:svc@" stands for svc's public key.
 */
extern const char h_policy_default[];

/* Output of a command run by h_run(). */
typedef struct h_result {
	int wstatus;    /* as from waitpid(); meaningful unless timed_out */
	bool timed_out; /* killed after the deadline */
	char out[4096]; /* stdout, NUL-terminated, truncated if longer */
	char err[4096]; /* stderr, NUL-terminated, truncated if longer */
} h_result;

/*
 * Create a harness: a fresh temporary directory and the paths in it. Needs
 * PRIVD_BIN in the environment. Returns NULL (and says why) on failure.
 * Free with h_destroy().
 */
harness *h_new(void);

/*
 * Kill the background privctl if it runs, stop privd if it runs (SIGKILL if
 * SIGTERM does not end it in time), remove the temporary directory
 * recursively, free h, set *hp to NULL. NULL-safe.
 */
void h_destroy(harness **hp);

/* Generate a key pair under name; the pointer lives as long as h. NULL on
 * failure (too many keys, name too long, no CURVE support). */
const h_key *h_key_new(harness *h, const char *name);

/* The key pair registered under name, or NULL. */
const h_key *h_key_get(const harness *h, const char *name);

/*
 * Write h->policy from a template in which every "@KEY:<name>@" is replaced
 * by the public key registered under <name>. Fails on an unknown name.
 */
int h_policy_write(harness *h, const char *tmpl);

/*
 * Shift the wall clock of privd by offset_s seconds from now on: privd
 * reads it from h->clock_file (see daemon/clock.h), and every privd started
 * after the first call gets that file. A running privd picks a change up
 * within a few milliseconds; call h_clock_wait() to be sure. Tests move
 * time with it instead of sleeping.
 */
int h_clock_set(harness *h, int64_t offset_s);

/* Wait (a short, fixed moment) until a running privd has seen the last
 * h_clock_set: it re-reads the file at most 100 times a second. */
void h_clock_wait(void);

/* privd's wall clock as shifted by h_clock_set, in microseconds. */
uint64_t h_clock_us(const harness *h);

/*
 * Run `privd init --data-dir DATA --policy POLICY [h->init_extra...]`; on
 * success (exit 0 and
 * one Z85 key on stdout) store the key in h->server_key. res (may be NULL)
 * receives the command's output and status.
 */
int h_init(harness *h, h_result *res);

/*
 * Start `privd serve --data-dir DATA --listen ENDPOINT [extra...]` as a child
 * (stderr appended to the log) and wait until it answers a ping from the
 * first registered key. extra is a NULL-terminated list, or NULL. Fails if
 * privd already runs, exits early, or is not ready within
 * H_READY_TIMEOUT_MS (the child is then killed).
 */
int h_start(harness *h, const char *const *extra);

/*
 * Make b a second node of a's store: b's data directory becomes a copy of
 * a's (privd stopped; on PostgreSQL its DIR/store names the same database:
 * one store, two nodes; on LMDB another store with the same keys), and b
 * takes a's client keys and server key. 0, or -1 said on stderr.
 */
int h_node_copy(harness *a, harness *b);

/*
 * Ping privd with the first registered key until it answers, the child
 * exits, or timeout_ms passes. 0 when privd answered.
 */
int h_wait_ready(harness *h, int timeout_ms);

/*
 * Send SIGTERM to privd and wait up to timeout_ms for it to exit; SIGKILL it
 * after that. *wstatus (may be NULL) receives the wait status. Returns 0 if
 * it exited by itself in time, -1 if it had to be killed or was not running.
 */
int h_stop(harness *h, int timeout_ms, int *wstatus);

/*
 * Kill privd without warning (SIGKILL: no shutdown, nothing flushed) and
 * reap it; h->pid becomes -1 and h->last_wstatus its wait status. Returns
 * 0 if privd was running and died of the SIGKILL, -1 (and says why) if it
 * was not running, had already ended by itself, or was not reaped within
 * H_STOP_TIMEOUT_MS (h->pid is then kept, for h_destroy()).
 */
int h_kill(harness *h);

/* h_stop() that requires exit status 0, then h_start() with no extra args. */
int h_restart(harness *h);

/* True while the privd serve child has not exited (reaps it if it has, and
 * keeps its status in h->last_wstatus). */
bool h_running(harness *h);

/*
 * Run a command (argv[0] is the program path, argv NULL-terminated) to
 * completion with stdin from /dev/null, capturing stdout and stderr (stderr
 * is also appended to the log). After timeout_ms the command is killed and
 * res->timed_out set. Returns 0 if the command ran (whatever its exit
 * status), -1 if it could not be started.
 */
int h_run(harness *h, const char *const *argv, int timeout_ms, h_result *res);

/*
 * Convenience: `privd <args...>` with h_run(). args NULL-terminated.
 */
int h_run_privd(
    harness *h, const char *const *args, int timeout_ms, h_result *res);

/*
 * Connect a libprivd handle to this harness's privd with the key pair
 * registered under keyname. *out is owned by the caller (privd_close).
 */
int h_connect(harness *h, const char *keyname, privd_client **out);

/*
 * Write the key pair registered under keyname as a key pair file (mode
 * 0600), root/<keyname>.key, as `privctl keygen --out` does; its path goes
 * to out (size bytes). Returns 0 or -1.
 */
int h_key_file(harness *h, const char *keyname, char *out, size_t size);

/*
 * Run privctl (PRIVCTL_BIN) against this harness's privd as keyname:
 * `privctl --endpoint ENDPOINT --key root/<keyname>.key --server-key KEY
 * args...` with h_run(). server_key NULL: h->server_key. args is
 * NULL-terminated. Returns 0 if privctl ran (whatever its exit status).
 */
int h_privctl(harness *h, const char *keyname, const char *server_key,
    const char *const *args, int timeout_ms, h_result *res);

/*
 * Start privctl as keyname, as h_privctl() runs it, in the background: its
 * stdout goes to a pipe whose reading end is *out_fd (the caller closes
 * it), its stderr to the log. One at a time. h_destroy() kills it
 * (SIGKILL) if it still runs, so it does not outlive a failing test.
 * Returns its pid (to signal it), or -1 (and *out_fd is -1).
 */
pid_t h_privctl_start(
    harness *h, const char *keyname, const char *const *args, int *out_fd);

/*
 * Wait up to timeout_ms (0: just look) for the background privctl to
 * end. 0 once it is reaped, its wait status in *wstatus (may be NULL); -1
 * if it still runs or none was started.
 */
int h_privctl_wait(harness *h, int timeout_ms, int *wstatus);

/*
 * Print the last max_lines lines of the privd log on stderr, prefixed, so a
 * failing test shows what privd said.
 */
void h_dump_log(const harness *h, int max_lines);

/* One byte string to look for with h_scan_dir(). */
typedef struct h_needle {
	const void *data;
	size_t len;
	const char *label; /* for messages */
} h_needle;

/*
 * Read every regular file under dir (recursively, not following symlinks)
 * and look for each needle. Returns the number of (file, needle) hits, each
 * reported on stderr, or -1 if a file could not be read.
 */
int h_scan_dir(const char *dir, const h_needle *needles, size_t n);

/* Same for one file. */
int h_scan_file(const char *path, const h_needle *needles, size_t n);

/* Read a whole (small) file into a malloc'd buffer; -1 on failure. */
int h_read_file(const char *path, uint8_t **buf, size_t *len);

/* Write a buffer to a file (created or truncated, with mode). */
int h_write_file(const char *path, const void *buf, size_t len, int mode);

/* Milliseconds on a monotonic clock. */
int64_t h_now_ms(void);

/* Sleep ms milliseconds (through signals). For letting real time pass;
 * to wait for a condition, poll it with a deadline instead. */
void h_sleep_ms(int ms);

/*
 * cmocka setup/teardown for the common case: a harness with key "svc", the
 * default policy, privd initialised and serving. *state is the harness.
 * The teardown stops privd, prints the tail of its log (meson shows it for
 * failing tests) and destroys the harness.
 */
int h_setup_default(void **state);

/*
 * The same with your own keys (registered in this order; the first is the
 * one the harness pings with), policy template and `privd serve` options
 * (NULL-terminated, or NULL). On failure the log tail is printed.
 */
int h_setup(void **state, const char *const *keys, size_t nkeys,
    const char *policy, const char *const *serve_args);

/* What h_setup_opt adds to h_setup. */
typedef struct h_opts {
	const char *const *init_args; /* more `privd init` arguments */
	bool test_clock;              /* start on the test clock (offset 0) */
	uint64_t fsize_limit;         /* RLIMIT_FSIZE of privd serve */
} h_opts;
int h_setup_opt(void **state, const char *const *keys, size_t nkeys,
    const char *policy, const char *const *serve_args, const h_opts *o);
int h_teardown(void **state);

/*
 * A raw ZeroMQ DEALER with CURVE, for tests that speak the wire protocol
 * without libprivd.
 */
typedef struct h_dealer {
	void *ctx;
	void *sock;
	void *mon; /* PAIR receiving socket events, or NULL */
} h_dealer;

/*
 * Connect a DEALER to h->endpoint as the key registered under keyname,
 * trusting server_key (NULL: h->server_key). With monitor, socket events are
 * delivered to d->mon (see h_dealer_wait_event). Returns 0 or -1.
 */
int h_dealer_open(harness *h, const char *keyname, const char *server_key,
    bool monitor, h_dealer *d);

/* Close the sockets and the context (linger 0). NULL-safe on members. */
void h_dealer_close(h_dealer *d);

/* Send nparts frames. Returns 0 or -1. */
int h_dealer_send(
    h_dealer *d, const void *const *parts, const size_t *lens, size_t nparts);

/*
 * Receive one message within timeout_ms. On success *buf (malloc'd, caller
 * frees) holds its first frame, *len its size, *nframes the number of frames
 * (extra frames are discarded). Returns 0, or -1 on timeout or error.
 */
int h_dealer_recv(
    h_dealer *d, int timeout_ms, uint8_t **buf, size_t *len, size_t *nframes);

/*
 * Wait up to timeout_ms for a socket event in mask on d->mon. Returns the
 * event number, or -1 on timeout.
 */
int h_dealer_wait_event(h_dealer *d, int mask, int timeout_ms);

/*
 * Send req on d and wait up to timeout_ms for privd's Response with the
 * same request_id; replies to other requests are dropped. Returns the
 * Response (free with privd__v1__response__free_unpacked(r, NULL)), or
 * NULL (and says why) on a timeout or a reply that does not decode. For
 * operations libprivd has no call for.
 */
Privd__V1__Response *h_dealer_call(
    h_dealer *d, const Privd__V1__Request *req, int timeout_ms);

/* The size of the privd log now: a starting point for h_log_count(). */
size_t h_log_size(const harness *h);

/* The number of lines of the privd log, from byte offset from on, that
 * contain needle (0 if there is no log). */
int h_log_count(const harness *h, size_t from, const char *needle);

/*
 * Poll the log until at least n lines from offset from on contain needle,
 * or timeout_ms passes. Returns the number found (less than n on timeout).
 */
int h_log_wait(
    const harness *h, size_t from, const char *needle, int n, int timeout_ms);

#endif /* PRIVD_TEST_HARNESS_H */
