/*
 * server.h - what the threads of a serving privd share.
 *
 * Threads (DESIGN.md section 2):
 *   frontend (main thread)  frontend.c: ROUTER socket(s), ZAP, replies
 *   workers  (N threads)    worker.c: decode, decide, read, prepare writes
 *   writer   (1 thread)     writer.c: group commit, then release replies
 * They meet only through the three job queues below and the snapshot cell.
 */
#ifndef PRIVD_SERVER_H
#define PRIVD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "job.h"
#include "snapshot.h"
#include "store.h"

#define SERVER_MAX_LISTEN          8
#define SERVER_DEFAULT_MAX_REQUEST (1024 * 1024)
#define SERVER_MAX_INFLIGHT        4096 /* stop reading sockets beyond this */
#define SERVER_MAX_INFLIGHT_BYTES  (32u * 1024 * 1024) /* or this */
#define SERVER_BATCH_MAX           512 /* jobs in one group commit */

typedef struct server_config {
	const char *datadir;
	const char *listen[SERVER_MAX_LISTEN];
	size_t nlisten;
	int workers;
	size_t max_request;
	size_t mapsize;
	uint64_t ckpt_every; /* sign an audit checkpoint every N events */
} server_config;

typedef struct server {
	server_config cfg;
	store *st;
	crypto_keys *keys;
	uint8_t *curve_secret; /* sodium_malloc, 32 bytes */
	uint8_t curve_public[32];
	uint8_t *sign_sk; /* sodium_malloc: the audit signing key (writer) */
	uint8_t sign_pk[32];
	snapshot_cell policy;
	jobq work;    /* frontend -> workers */
	jobq commit;  /* workers -> writer */
	jobq replies; /* writer -> frontend (eventfd) */
} server;

/* Worker and writer thread bodies (arg: server *). */
void *worker_main(void *arg);
void *writer_main(void *arg);

/* Run the frontend in the calling thread until SIGTERM/SIGINT and every
 * in-flight request is answered. sigfd: a signalfd for those signals.
 * Returns 0 on a clean stop. */
int frontend_run(server *srv, int sigfd);

/* Seal a put's values under data key dk into its records (worker.c). */
int put_seal(const crypto_keys *keys, job *j, const uint8_t *dk, uint64_t now);

/* Microseconds since the epoch. */
uint64_t now_us(void);

#endif
