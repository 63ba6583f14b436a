/*
 * floors.h - what the machine can do without privd: floor (a), a bare
 * CURVE echo (floor_ipc.c), and floor (b), privd's store work done
 * in-process (floor_store.c).
 */
#ifndef PRIVD_BENCH_FLOORS_H
#define PRIVD_BENCH_FLOORS_H

#include "bench.h"

/* ---- floor_ipc.c ------------------------------------------------------- */

typedef struct echo_server {
	pid_t pid; /* the echo child, or -1 */
	char endpoint[BENCH_PATH_MAX];
	char server_key[BENCH_KEY_LEN]; /* its CURVE public key */
} echo_server;

/* Fork the echo server on endpoint, answering reply_size bytes per
 * request; returns once it is bound. 0 or -1. */
int echo_start(echo_server *e, const char *endpoint, size_t reply_size);
/* Kill it and wait for it; removes its ipc socket. Safe to repeat. */
void echo_stop(echo_server *e);

/* ---- floor_store.c ----------------------------------------------------- */

typedef struct store_floor store_floor;

/*
 * Create a store in dir (which must not exist yet) the way privd lays it
 * out (daemon/store.h), with LMDB's default durable commits, and load
 * subjects 0..nsubjects-1 of the bench's data (common.c) into it.
 * 0 or -1 with err.
 */
int store_floor_open(const char *dir, uint64_t nsubjects, store_floor **out,
    char *err, size_t errlen);

/*
 * For `seconds`, do what privd's GET (put: PUT of three fields) does to
 * the store, in group commits of `batch` operations: a read transaction
 * that derives each subject's id, unwraps its data key and opens (put:
 * seals) the values; then one write transaction holding the batch's value
 * records (put) and one audit record per operation (a packed AuditEvent
 * and its BLAKE2b chain hash), committed durably. An operation's latency
 * is its batch's. *cpu_us_per_op gets this thread's CPU per operation.
 * 0, or -1 with r->first_error.
 */
int store_floor_run(store_floor *f, bool put, int batch, double seconds,
    const char *const *get_fields, size_t nget, load_result *r,
    double *cpu_us_per_op);

/* Close and free (the directory stays: the caller removes it). */
void store_floor_close(store_floor **f);

#endif
