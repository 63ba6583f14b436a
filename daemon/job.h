/*
 * job.h - one request on its way through privd, and the queues that carry it.
 *
 * A job is born in the frontend (routing id, principal, request frame),
 * decoded, decided and prepared by a worker, committed by the writer, and
 * answered and recycled by the frontend. Exactly one thread owns a job at a
 * time: whoever took it from a queue. Jobs are recycled by the frontend, so
 * their arenas and buffers are reused and the steady-state request path does
 * not allocate for decoding.
 */
#ifndef PRIVD_JOB_H
#define PRIVD_JOB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <zmq.h>

#include "crypto.h"
#include "policy.h"
#include "privd.pb-c.h"
#include "store.h"

typedef struct snapshot snapshot;

typedef enum job_kind {
	JOB_ANSWERED = 0, /* the reply is packed; nothing to change */
	JOB_PUT,          /* values to write */
	JOB_DELETE,       /* fields or a subject to delete */
	JOB_POLICY,       /* a new policy version to store and swap in */
	JOB_PRUNE,        /* audit pruning: report, or confirm the clock */
	JOB_RELEND,       /* a subject's relationship end (or its undoing) */
	JOB_CONTRACT,     /* a register's contract end (or its undoing) */
	JOB_HOLD_SET,     /* a legal hold to set or replace */
	JOB_HOLD_LIFT,    /* a legal hold to lift */
	JOB_SWEEP,        /* a retention sweep to run (writer.c) */
	JOB_RESTRICT,     /* a subject's restriction, on or off */
	JOB_OBJECT,       /* a subject's objection to a purpose, on or off */
	JOB_ERASE,        /* a subject's erasure across registers */
} job_kind;

/* A bump allocator for protobuf-c: one request's decoded message lives in
 * it. It is reset, not freed, between requests: its first chunk is kept,
 * overflow chunks are freed, and everything used is wiped (it held values).
 * An arena with a limit refuses to hold more than that many bytes, so a
 * small frame that decodes into a huge message fails instead of eating
 * memory. */
typedef struct arena_chunk {
	struct arena_chunk *next;
	size_t cap, used;
	uint8_t data[];
} arena_chunk;

typedef struct arena {
	arena_chunk *first; /* kept across requests */
	arena_chunk *cur;   /* where allocations go now */
	size_t total;       /* bytes in chunks beyond the first */
	size_t limit;       /* 0: no limit */
} arena;

void *arena_alloc(arena *a, size_t n);
void arena_reset(arena *a);
void arena_free(arena *a);
/* A ProtobufCAllocator that allocates from a (allocator_data = arena). */
extern const ProtobufCAllocator arena_pb_allocator;

/* One value of a put: where its plaintext is (in the decoded request) and
 * its finished record (header + sealed value) ready for the store. The
 * header is bound into the seal, so the record's "collected" time is fixed
 * before sealing: created_us is the stored field's first write time, taken
 * from a record the worker authenticated, or 0 if the field was not stored
 * when the worker looked (the writer checks it again and reseals if it
 * changed). */
typedef struct job_value {
	const char *field;
	const uint8_t *plain;
	size_t plainlen;
	uint64_t created_us;
	/* the stored record the worker authenticated and took created_us
	 * from (store_value_id), for the writer to recognise it */
	bool had_old;
	uint8_t old_id[STORE_VALUE_IDBYTES];
	uint8_t *rec; /* in job->recbuf */
	size_t reclen;
	size_t hdrlen;
	/* a `lookup` field: its blind-index tag (blind.h) */
	bool lookup;
	uint8_t tag[32];
} job_value;

typedef struct job {
	struct job *next;

	/* frontend */
	uint8_t rid[256]; /* ROUTER routing id of the peer */
	size_t ridlen;
	char principal[POL_MAX_NAME + 1]; /* ZAP User-Id */
	uint8_t key[POL_KEY_BYTES];       /* the peer's CURVE public key */
	bool has_key;
	zmq_msg_t frame;    /* the request as received; wiped when cleared */
	size_t frame_bytes; /* its size, for the frontend's in-flight budget */
	bool multipart;     /* the peer sent more than one frame */
	bool follow;        /* an audit follow poll (its auditing is limited) */
	bool no_event;      /* writer: a follow poll already covered by an
	                       audit_follow event of this minute */
	uint64_t grace_us;  /* the deadline-grace setting, for decode */

	/* decode: the request's deadline_ms plus the grace, in wall-clock
	 * microseconds; 0: none (or too far to matter). A change is not
	 * carried out after it (job_expired). */
	uint64_t deadline_us;

	/* worker */
	arena ar;
	Privd__V1__Request *req; /* decoded, in ar */
	snapshot *snap;
	job_kind kind;
	uint64_t request_id;
	const pol_register *reg;
	const char *purpose;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	store_subject subject; /* the data key the values were sealed with */
	bool new_key;          /* the worker created that key */
	job_value *values;     /* in ar */
	size_t nvalues;
	uint8_t *recbuf; /* records of all values; reused */
	size_t reccap;
	/* JOB_POLICY: the new policy, parsed, validated and already wrapped in
	 * its snapshot, so that nothing can fail between the commit and the
	 * swap; the writer gives it its version. */
	snapshot *newsnap;
	uint64_t policy_version; /* JOB_POLICY: the version it became */
	bool policy_same;        /* JOB_POLICY: equal to the version replaced */
	bool policy_refused; /* JOB_POLICY: not admissible; why in message */

	/* the request's audit event: the worker fills in who, what, which
	 * subject; the writer adds seq, time and outcome (audit.c) */
	Privd__V1__AuditEvent ev;
	uint8_t pseudo[CRYPTO_PSEUDONYMBYTES];

	/* writer */
	int status; /* Privd__V1__Status */
	int reason; /* pol_reason */
	char message[256];
	uint32_t count; /* fields written or deleted */
	uint64_t at_us; /* JOB_RELEND, JOB_CONTRACT: the end recorded */
	bool replaced;  /* JOB_HOLD_SET: a hold was replaced */
	/* JOB_DELETE answered RETAINED: what was kept (in ar) */
	Privd__V1__Retained **retained;
	size_t nretained;
	/* JOB_SWEEP: the sweep it ran, when done; a preview's answer is
	 * packed by the worker */
	struct sweep *sweep;
	/* JOB_ERASE: the registers to erase the subject from and its sid in
	 * each (in ar); what the erasure did there */
	const pol_register **eregs;
	uint8_t (*esids)[CRYPTO_SUBJECT_IDBYTES];
	size_t neregs;
	Privd__V1__ErasedRegister **erased;
	size_t nerased;
	Privd__V1__AuditPruneResponse prune; /* JOB_PRUNE: the state after it */

	/* The packed reply, a whole ZeroMQ message built before anything is
	 * sent, so that a ROUTER message is sent whole or not at all. Its
	 * buffer is wiped when freed (it may hold values). */
	zmq_msg_t reply;
	bool has_reply;
} job;

job *job_new(void);
/* Drop everything request-specific, keep buffers for reuse. */
void job_clear(job *j);
void job_free(job *j);

/*
 * Pack the reply of a finished job: request id, status, reason and message
 * from the job, payload from the caller (NULL for none), into j->reply.
 * On allocation failure the job has no reply and the frontend answers
 * nothing (the client times out).
 */
void job_pack(job *j, Privd__V1__Response *resp);
/* Drop the job's reply: the frontend then answers nothing (for a request
 * whose outcome could not be made durable). */
void job_drop_reply(job *j);
/*
 * Has the job's deadline passed? It is compared with the system's wall
 * clock (CLOCK_REALTIME), the one the client's deadline was read from,
 * never with clock.h's privd clock, which a test may shift by days.
 */
bool job_late(const job *j);
/* If job_late(j), fail it with status EXPIRED (an answer with an audit
 * event like any other) and return true: the caller must not carry it
 * out. */
bool job_expired(job *j);
/* Finish a job with status OK and the caller's payload. */
void job_ok(job *j, Privd__V1__Response *resp);
/* Finish a job with an error status and message (no payload). */
void job_fail(job *j, int status, int reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A FIFO of jobs with a lock and a condition variable; optional eventfd that
 * is written on every push (for the frontend's poll loop). */
typedef struct jobq {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	job *head, *tail;
	size_t len;
	bool closed;
	int efd; /* -1 if none */
} jobq;

int jobq_init(jobq *q, bool with_eventfd);
void jobq_destroy(jobq *q);
/* Append a list of jobs (linked by next, NULL-terminated). */
void jobq_push(jobq *q, job *first);
/* Wait for jobs; take up to max of them as a list. NULL once closed and
 * empty. */
job *jobq_take(jobq *q, size_t max);
/* Like jobq_take, but gives up at deadline (CLOCK_MONOTONIC, so that a
 * step of the wall clock does not move it) and returns NULL; *closed tells
 * a closed queue from a timeout. */
job *jobq_take_until(
    jobq *q, size_t max, const struct timespec *deadline, bool *closed);
/* How many jobs wait in the queue, now. */
size_t jobq_waiting(jobq *q);
/* Take everything without waiting (after the eventfd fired). */
job *jobq_take_nowait(jobq *q);
void jobq_close(jobq *q);

#endif
