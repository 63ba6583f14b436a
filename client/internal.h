/*
 * internal.h - what the files of libprivd share; not installed.
 *
 * handle.c makes, sets and closes the handle; conn.c owns its socket and
 * carries one request at a time (cl_call); wire.c has its request ids and the
 * (wiped) buffers of what it sends and receives; endpoints.c keeps the list of
 * privd nodes a handle may use and decides when a call moves to the next one;
 * error.c keeps the handle's last error and the names of codes; keyfile.c
 * decodes keys, reads key files and connects from them; serverkey.c
 * keeps privd's key and its next one and switches between them
 * (serverkey.h); data.c, policy.c, audit.c, retention.c, rights.c and
 * verify.c build requests and copy answers out. Names here start with
 * cl_: the version script keeps them out of the library's exported
 * symbols.
 */
#ifndef PRIVD_CLIENT_INTERNAL_H
#define PRIVD_CLIENT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "privd.pb-c.h"
#include <privd/client.h>

/* Limits of the protocol (proto/privd.proto), checked before sending so that
 * an obviously bad request costs no round trip. */
#define MAX_SUBJECT 256
#define MAX_FIELDS  256
#define MAX_VALUE   (64 * 1024)
#define MAX_NAME    64 /* register, purpose, field, principal names */
#define MAX_OPS     32 /* operations in one audit query */

/* Audit: events per page privd sends at most, and checkpoints per call. */
#define AUDIT_PAGE_MAX  1000
#define AUDIT_CKPTS_MAX 10000

/* Retention: the longest hold reason; holds, counts and aggregate groups
 * in one answer (far more than privd sends, but a bound on what a hostile
 * privd can make the client copy). */
#define MAX_REASON   256
#define RET_LIST_MAX 1000000
/* 2000-01-01T00:00:00Z: privd refuses retention times before it */
#define RET_MIN_TIME_US 946684800000000ULL

/* Registers in one erasure report: far more than a policy declares (16),
 * but a bound on what a hostile privd can make the client copy. */
#define ERASE_REGISTERS_MAX 1000

/* Policy versions in one history answer: far more than privd will ever
 * hold, but a bound on what a hostile privd can make the client copy. */
#define POLICY_VERSIONS_MAX 1000000

/* Largest reply accepted: a legitimate one is at most about 17 MiB (256
 * fields of 64 KiB, or the largest policy document privd accepts). */
#define REPLY_MAX ((int64_t)64 * 1024 * 1024)

#define KEY_BYTES   32
#define Z85_CHARS   40
#define KEYFILE_MAX 4096

/* One privd node of a handle's endpoint list (endpoints.c). */
struct cl_node {
	char *endpoint;
	int64_t retry_at; /* set aside until then (cl_now_ms()), 0: not */
	uint32_t fails;   /* failures in a row, for the back-off */
};

struct privd_client {
	pid_t pid; /* the process that made it: see cl_same_process() */
	void *ctx;
	void *sock;      /* DEALER; NULL until the next call after a failure */
	void *mon;       /* PAIR for sock's handshake events, or NULL */
	int auth_failed; /* the monitor's last word was an auth failure */
	int hs_failed;   /* handshakes failed in a row (not auth), see conn.c */
	int reached;     /* sock has had a TCP/IPC connection (monitor) */
	int refused;     /* connection attempts failed before any was made */
	unsigned gen;    /* names the monitor endpoint of each new socket */
	const char *endpoint; /* the node in use: nodes[cur].endpoint */
	/* the endpoint list and the choice of node (endpoints.c) */
	struct cl_node *nodes;
	size_t nnodes;
	size_t cur;        /* the node calls go to first */
	uint32_t tried;    /* nodes tried in the current call (bits) */
	void *probe;       /* DEALER to an earlier node coming back, or NULL */
	size_t probe_node; /* its node */
	int64_t probe_until; /* given up as failed if not ready by then */
	uint8_t probe_key[KEY_BYTES];  /* the server key it was opened with */
	uint8_t server_key[KEY_BYTES]; /* the one sock uses (serverkey.c) */
	/* privd's key and its next one, and which is in use (serverkey.c) */
	uint8_t server_keys[PRIVD_SERVER_KEYS_MAX][KEY_BYTES];
	unsigned nserver_keys, server_key_in_use;
	unsigned key_fails; /* handshakes failed in a row, every key */
	uint8_t public_key[KEY_BYTES];
	uint8_t secret_key[KEY_BYTES];
	int timeout_ms;
	size_t max_request;
	uint64_t next_id;
	uint64_t last_id; /* id of the last request sent */
	int reason;
	char errmsg[256];
	/* scratch for privd_put, reused across calls */
	Privd__V1__Field *fbuf;
	Privd__V1__Field **fptr;
	size_t fcap;
};

/* Monotonic milliseconds, for deadlines that survive clock changes. */
static inline int64_t
cl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Overwrite secrets so that the compiler cannot drop the stores. */
static inline void
cl_wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

/* Copy src into a fixed buffer, truncated and NUL-terminated. */
static inline void
cl_copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

/* Is s NULL or empty? */
static inline int
cl_empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/*
 * Is this the process that made c? A child after fork() has a copy of the
 * handle but not libzmq's I/O thread behind it: calls there fail, and
 * privd_close() frees only the handle's own memory (see handle.c).
 */
static inline int
cl_same_process(const privd_client *c)
{
	return c->pid == getpid();
}

/* The message of a call refused because !cl_same_process(). */
#define cl_other_process                                                       \
	"this handle was made by another process: after fork(), connect anew"

/* error.c: record a local failure's explanation; returns status for tail
 * calls. */
int cl_fail(privd_client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* error.c: keep privd's message (made printable UTF-8) for privd_errmsg(). */
void cl_set_server_message(privd_client *c, const char *msg);

/* error.c: forget the outcome of the previous call. */
void cl_reset_error(privd_client *c);

/* keyfile.c: decode a Z85 CURVE key into 32 bytes; 0 or -1. */
int cl_z85_key_decode(uint8_t out[KEY_BYTES], const char *text);

/* keyfile.c: is text a Z85 key (40 characters that decode)? 1 or 0. */
int cl_is_z85_key(const char *text);

/*
 * conn.c: carry one request and wait for its answer. payload is the
 * response payload an OK answer must carry. On PRIVD_OK *out is the
 * response, owned by the caller (privd__v1__response__free_unpacked).
 * Any other status has set the handle's message (and reason for
 * PRIVD_EDENIED).
 */
int cl_call(privd_client *c, Privd__V1__Request *req,
    Privd__V1__Response__PayloadCase payload, Privd__V1__Response **out);

/*
 * conn.c: cl_call(), and an answer with status keep (a PRIVD_E* code) that
 * carries payload is handed back in *out too, with that status returned
 * (a RETAINED delete lists what it kept). keep PRIVD_OK: cl_call().
 */
int cl_call_keep(privd_client *c, Privd__V1__Request *req,
    Privd__V1__Response__PayloadCase payload, int keep,
    Privd__V1__Response **out);

/* wire.c: free a response of cl_call(), wiping all it held. */
void cl_response_free(Privd__V1__Response *r);

/* wire.c: unpack a reply frame with an allocator that wipes what it
 * frees (cl_response_free); NULL if it does not decode. */
Privd__V1__Response *cl_response_unpack(size_t len, const uint8_t *data);

/* wire.c: libzmq's free function of a packed request buffer (malloc'd):
 * wipes and frees it; hint is its length. */
void cl_req_free(void *data, void *hint);

/* wire.c: wipe a received frame (a zmq_msg_t *) and close it. */
void cl_msg_wipe_close(void *msg);

/* wire.c: a starting request id that differs between handles and
 * processes (not a secret). */
uint64_t cl_random_id(void);

/* wire.c: a deadline on the monotonic clock (cl_now_ms()) as the wall-clock
 * time a request carries to privd (Request.deadline_ms: milliseconds since
 * the Unix epoch); a deadline already past is now. Each attempt carries
 * its own end: privd does not carry a request out after it, when the call
 * may have moved on to another node or reported a change in doubt. */
uint64_t cl_wall_deadline_ms(int64_t deadline);

/* conn.c: a new DEALER with the handle's keys and socket options, not
 * yet connected (for endpoints.c's probe); a status. */
int cl_dealer_new(privd_client *c, void **out);

/* conn.c: close the handle's socket and its monitor (the next call opens
 * a fresh one). */
void cl_sock_close(privd_client *c);
/* Open the handle's socket to the node in use (conn.c). */
int cl_sock_open(privd_client *c);

/*
 * endpoints.c: parse a comma-separated endpoint list (blanks around each
 * item ignored) into *out, *n entries (free with cl_ep_free() once in a
 * handle). PRIVD_OK, PRIVD_EINVAL (why, whylen bytes, may be NULL, says
 * what is wrong, naming positions in the list, never its text) or
 * PRIVD_ENOMEM.
 */
int cl_ep_parse(const char *list, struct cl_node **out, size_t *n, char *why,
    size_t whylen);

/* endpoints.c: free the node list and close the probe socket. */
void cl_ep_free(privd_client *c);

/* endpoints.c: at the start of a call carrying req: choose the node it
 * goes to first (perhaps back to an earlier node whose probe is ready). */
void cl_ep_begin(privd_client *c, const Privd__V1__Request *req);

/* endpoints.c: the deadline of an attempt on the node in use, within the
 * call's deadline (its share of the time left); marks the node tried. */
int64_t cl_ep_deadline(privd_client *c, int64_t deadline);

/*
 * endpoints.c: after an attempt on the node in use ended with *rc (sent:
 * whether the request may have reached privd): 1 to try again on the
 * node now in use, 0 to end the call with *rc (which may have become
 * PRIVD_EINDOUBT, with its message). Also moves the handle to another
 * node for later calls when this one failed.
 */
int cl_ep_failover(
    privd_client *c, const Privd__V1__Request *req, int sent, int *rc);

/* audit.c: send one audit query; the answer is checked to hold at most a
 * page of records, each with a 32-byte hash. */
int cl_audit_query_call(privd_client *c, const privd_audit_filter *q,
    const uint8_t *cursor, size_t cursorlen, Privd__V1__Response **out);

#endif
