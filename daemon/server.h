/*
 * server.h - what the threads of a serving privd share.
 *
 * Threads (DESIGN.md section 2):
 *   frontend (main thread)  frontend.c: ROUTER socket(s), ZAP, replies
 *   workers  (N threads)    worker.c, worker_policy.c, worker_audit.c:
 *                           decode, decide, read, prepare writes
 *   writer   (1 thread)     writer.c: group commit, then release replies
 * They meet only through the three job queues below and the snapshot cell.
 */
#ifndef PRIVD_SERVER_H
#define PRIVD_SERVER_H

#include <stdatomic.h>
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

/* How much larger than --max-request a frame may be before libzmq drops
 * the peer unread: a request a little over the limit is better answered
 * TOO_LARGE than dropped. ZMQ_MAXMSGSIZE counts the CURVE-encrypted
 * message, which is the request plus a fixed 33 bytes (the MESSAGE
 * command's name, nonce, flags and MAC), so that is added too. */
#define SERVER_FRAME_SLACK    (64 * 1024)
#define SERVER_CURVE_OVERHEAD 33

typedef struct server_config {
	const char *datadir;
	const char *listen[SERVER_MAX_LISTEN];
	size_t nlisten;
	int workers;
	size_t max_request;
	size_t mapsize;
	uint64_t ckpt_every;  /* sign an audit checkpoint every N events */
	bool clock_behind_ok; /* start with the clock behind the newest event */
	uint64_t retention_interval_s; /* sweep every N s; 0: on demand only */
	uint64_t deadline_grace_ms; /* allowance for clocks behind a client's */
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
	uint64_t audit_floor_s; /* the store's audit retention floor */
	uint64_t start_jump_s;  /* the clock jumped this far while stopped */
	/* some subject has a restriction or an objection on record: workers
	 * look states up only then (set at start and by the writer) */
	atomic_bool subj_states;
	jobq work;    /* frontend -> workers */
	jobq commit;  /* workers -> writer */
	jobq replies; /* writer -> frontend (eventfd) */
	/* the online backup (backup.h); NULL: none can be made (a server
	 * that is not privd serve, such as the fuzz target's) */
	struct backup_ctl *backup;
	/* the writer privd serve made before starting the threads (its
	 * reads are part of the start's wait for the store: startwait.c);
	 * writer_main takes it, or makes one when NULL */
	struct writer *writer;
} server;

/* Worker and writer thread bodies (arg: server *). */
void *worker_main(void *arg);
void *writer_main(void *arg);

/* One worker's state, for running the worker's part of a job in the
 * calling thread (the fuzz target does; worker_main loops over it). */
typedef struct worker worker;
worker *worker_new(server *srv);
void worker_free(worker **w);
/* Decode, decide, read and prepare one job (frame in j->frame); leaves it
 * answered or prepared for the writer. */
void worker_handle(worker *w, job *j);

/* The writer's state, for committing batches in the calling thread (the
 * fuzz target does; writer_main loops over it). writer_new reads the audit
 * log's head; NULL if it cannot. writer_commit commits one batch and pushes
 * it, answered, to srv->replies. */
typedef struct writer writer;
writer *writer_new(server *srv);
void writer_free(writer **wr);
void writer_commit(writer *wr, job *batch);

/* Send a finished job's reply on a ROUTER (frontend.c): the routing id and
 * the reply, or nothing if the job has no reply. 0 if sent. */
int frontend_send(void *router, job *j);

/* Run the frontend in the calling thread until SIGTERM/SIGINT and every
 * in-flight request is answered. sigfd: a signalfd for those signals.
 * Returns 0 on a clean stop. */
int frontend_run(server *srv, int sigfd);

/* Seal a put's values under data key dk into its records (worker.c). */
int put_seal(const crypto_keys *keys, job *j, const uint8_t *dk, uint64_t now);

/* Does a stored value of the put's subject authenticate under dk, header
 * and all (worker.c)? 0 or -1. */
int value_authentic(const uint8_t *dk, job *j, const char *subj,
    const char *field, const store_value *sv);

/* A subject's data key: unwrap it (checking its record's header), or make
 * a new one wrapped into sub (worker.c). */
int subject_unwrap(const crypto_keys *keys, const char *reg, const char *subj,
    const store_subject *sub, uint8_t *dk) __attribute__((warn_unused_result));
void subject_new_key(const crypto_keys *keys, const char *reg, const char *subj,
    uint64_t created_us, uint8_t *dk, store_subject *sub);

/* Is doc (len bytes) the same policy document as the stored version sp,
 * as JSON values (member order and whitespace do not matter)? */
bool policy_same_json(const store_policy *sp, const char *doc, size_t len);

/* Whether a new policy may replace the one in force, beyond being valid
 * (worker_policy.c): audit retention at least floor_s, some principal with
 * policy_admin, and (unless force) applier keeps it. -1 and why if not. */
int policy_admissible(const pol_policy *p, uint64_t floor_s,
    const char *applier, bool force, char *why, size_t whylen);

#endif
