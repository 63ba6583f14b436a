/*
 * server.h - the privd under test (server.c): one the bench starts in a
 * temporary directory with the integration tests' harness, or one already
 * running at --endpoint.
 */
#ifndef PRIVD_BENCH_SERVER_H
#define PRIVD_BENCH_SERVER_H

#include "bench.h"

struct harness;

typedef struct bench_server {
	struct harness *h; /* NULL for an external privd */
	char endpoint[BENCH_PATH_MAX];
	char server_key[BENCH_KEY_LEN];
	/* crm: read and write of customers for orders (the load) */
	char pub[BENCH_KEY_LEN], sec[BENCH_KEY_LEN];
	/* auditor: role auditor (the audit phases, the event count) */
	char aud_pub[BENCH_KEY_LEN], aud_sec[BENCH_KEY_LEN];
	bool has_auditor;
	/* acis (read, write and delete of acis) and dpo (roles policy_admin
	 * and subject_rights), where the policy has them: the sweep phase */
	char acis_pub[BENCH_KEY_LEN], acis_sec[BENCH_KEY_LEN];
	char adm_pub[BENCH_KEY_LEN], adm_sec[BENCH_KEY_LEN];
	bool has_acis, has_admin;
	pid_t pid;                     /* for /proc; 0: unknown */
	char data_dir[BENCH_PATH_MAX]; /* for the store's size; "": unknown */
	char root[BENCH_PATH_MAX];     /* the harness's directory, or "" */
	const char *init_extra[3];     /* --store SPEC for privd init */
} bench_server;

/*
 * Start a privd on a fresh store: a harness directory, keys for crm and
 * auditor (and acis and dpo where the policy has them), the policy at
 * policy_path with those principals' keys replaced by the bench's own,
 * `privd init`, `privd serve` (on ipc in the directory, or tcp on a free
 * port of 127.0.0.1) with serve_extra (NULL-terminated, or NULL). With
 * test_clock, privd's wall clock follows server_clock_set (the test clock
 * file, daemon/clock.h). store_spec NULL: the store is LMDB in the data
 * directory; else `privd init --store store_spec` (a PostgreSQL conninfo
 * naming an empty database; privd serve finds it through the data
 * directory). 0, or -1 (said why on stderr; nothing left running).
 */
int server_start(bench_server *s, const char *policy_path, bool tcp,
    const char *const *serve_extra, bool test_clock, const char *store_spec);

/* Shift the wall clock of a privd started with test_clock by offset_s
 * seconds from the real one, and wait until privd has seen it. 0 or -1. */
int server_clock_set(bench_server *s, int64_t offset_s);

/*
 * Use a privd that runs already. server_key is a Z85 key or a file holding
 * one; key_file is crm's key pair file (privctl keygen), auditor_file the
 * auditor's or NULL; pid (0: unknown) and data_dir (NULL: unknown) let the
 * bench read its CPU, memory and store size. 0 or -1.
 */
int server_external(bench_server *s, const char *endpoint,
    const char *server_key, const char *key_file, const char *auditor_file,
    pid_t pid, const char *data_dir);

/* Stop the privd the bench started (if any) and remove its directory. */
void server_stop(bench_server *s);

/* Whether privd still runs (always true for an external one without a
 * pid). Main thread only. */
bool server_alive(bench_server *s);

/* privd's version (a ping as crm). 0 or -1. */
int server_version(bench_server *s, char *out, size_t len);

/* The newest audit event's seq (AuditCheckpoints as auditor). 0 or -1. */
int server_last_seq(bench_server *s, uint64_t *seq);

/*
 * The store's size: the file data.mdb, and what LMDB uses of it
 * ((last page + 1) * page size), read through a read-only environment
 * opened beside privd's, as LMDB allows another process to. -1 where
 * unknown (also for a store that is not LMDB: no data.mdb).
 */
void server_store_size(
    const bench_server *s, long long *file_bytes, long long *used_bytes);

/* Print the tail of privd's log on stderr (after a failure). */
void server_dump_log(const bench_server *s);

#endif
