/*
 * libprivd: the privd client library (see <privd/client.h>).
 *
 * DESIGN
 * Runs in the caller's thread; a handle is used by one thread at a time.
 * Each handle owns its ZeroMQ context, so handles share nothing and libzmq's
 * I/O thread of one handle never waits on another.
 *
 * One call = one request frame out, one reply frame back, on a DEALER socket
 * with ZMQ_IMMEDIATE (a request is only queued on a connection whose CURVE
 * handshake has completed, so it is never buffered for a privd that is not
 * there). On a deadline the socket is closed and a fresh one is opened by the
 * next call ("lazy pirate"): a request that timed out is never delivered
 * late to a privd that comes back.
 *
 * Unknown client keys: privd's ZAP handler refuses them during the handshake,
 * which a DEALER only sees as "never writable". A socket monitor reports
 * ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, so a refused key fails fast with
 * PRIVD_EDENIED instead of waiting out the deadline. The monitor is attached
 * from the moment a socket is opened until its first request has been sent:
 * that window sees every handshake of the socket, and the monitor queue
 * cannot grow while the handle sits idle afterwards.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

#include "auditverify.h"
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

/* Policy versions in one history answer: far more than privd will ever
 * hold, but a bound on what a hostile privd can make the client copy. */
#define POLICY_VERSIONS_MAX 1000000

/* Largest reply accepted: a legitimate one is at most about 17 MiB (256
 * fields of 64 KiB, or the largest policy document privd accepts). */
#define REPLY_MAX ((int64_t)64 * 1024 * 1024)

#define KEY_BYTES   32
#define Z85_CHARS   40
#define KEYFILE_MAX 4096

/* Reconnect back-off of a handle's socket, in milliseconds. */
#define RECONNECT_IVL     100
#define RECONNECT_IVL_MAX 1000

/* The handshake outcomes the monitor reports; nothing else, so that the
 * monitor queue holds at most one event per connection attempt. */
#define MON_EVENTS                                                             \
	(ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)

struct privd_client {
	void *ctx;
	void *sock;      /* DEALER; NULL until the next call after a failure */
	void *mon;       /* PAIR for sock's handshake events, or NULL */
	int auth_failed; /* the monitor's last word was an auth failure */
	unsigned gen;    /* names the monitor endpoint of each new socket */
	char *endpoint;
	uint8_t server_key[KEY_BYTES];
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

static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/* Overwrite secrets so that the compiler cannot drop the stores. */
static void
wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;

	while (n--)
		*v++ = 0;
}

/*
 * Decode a Z85 CURVE key into 32 bytes. Checks the alphabet itself before
 * handing the text to libzmq so that no garbage reaches its decoder.
 * Returns 0 or -1.
 */
static int
z85_key_decode(uint8_t out[KEY_BYTES], const char *text)
{
	size_t i;

	if (text == NULL || strlen(text) != Z85_CHARS)
		return -1;
	for (i = 0; i < Z85_CHARS; i++)
		if (strchr(z85_chars, text[i]) == NULL)
			return -1;
	return zmq_z85_decode(out, text) == NULL ? -1 : 0;
}

/* Monotonic milliseconds, for deadlines that survive clock changes. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A starting request id that differs between handles and processes, so that
 * ids in privd's audit log are not all small numbers from every client.
 * Not a secret: /dev/urandom if possible, else the clock and an address.
 */
static uint64_t
random_id(void)
{
	uint64_t v = 0;
	ssize_t r = -1;
	int fd;

	fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		r = read(fd, &v, sizeof(v));
		close(fd);
	}
	if (r != (ssize_t)sizeof(v))
		v = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)(uintptr_t)&v ^ (uint64_t)getpid() << 32;
	return v;
}

/* Record a local failure's explanation; returns status for tail calls. */
static int fail(privd_client *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(privd_client *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return status;
}

/*
 * The length of the printable character that starts s[0..n) (n > 0) as
 * well-formed UTF-8, or 0 if none does: a C0 or C1 control, DEL, a stray
 * or truncated byte, an overlong form, a surrogate or a code point past
 * U+10FFFF.
 */
static size_t
utf8_printable(const unsigned char *s, size_t n)
{
	size_t len, k;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp <= 0x9f || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Keep privd's message for privd_errmsg(). Callers print it, as text or in
 * JSON (which must be valid UTF-8), so it is made printable UTF-8: each
 * byte that is not part of a printable character becomes '?', and a cut
 * at the buffer's end never splits a character.
 */
static void
set_server_message(privd_client *c, const char *msg)
{
	const unsigned char *s = (const unsigned char *)(msg ? msg : "");
	size_t n = strlen((const char *)s), i = 0, o = 0, k;

	while (i < n) {
		k = utf8_printable(s + i, n - i);
		if (o + (k > 0 ? k : 1) >= sizeof(c->errmsg))
			break;
		if (k == 0) {
			c->errmsg[o++] = '?';
			i++;
		} else {
			memcpy(c->errmsg + o, s + i, k);
			o += k;
			i += k;
		}
	}
	c->errmsg[o] = '\0';
}

/*
 * Stop the monitor of the current socket and close its PAIR. Stopping first
 * matters: libzmq sends events with a blocking send, and an event sent to a
 * closed PAIR would hang the context's I/O thread.
 */
static void
mon_stop(privd_client *c)
{
	if (c->mon == NULL)
		return;
	if (c->sock != NULL)
		zmq_socket_monitor(c->sock, NULL, 0);
	zmq_close(c->mon);
	c->mon = NULL;
}

/* Close the socket (dropping anything unsent) and its monitor. */
static void
sock_close(privd_client *c)
{
	if (c->sock != NULL)
		zmq_socket_monitor(c->sock, NULL, 0);
	mon_stop(c);
	if (c->sock != NULL) {
		zmq_close(c->sock);
		c->sock = NULL;
	}
	c->auth_failed = 0;
}

/* Map a libzmq errno from socket set-up to a status. */
static int
zmq_status(int err)
{
	if (err == ENOMEM)
		return PRIVD_ENOMEM;
	if (err == EINVAL || err == EPROTONOSUPPORT || err == ENOCOMPATPROTO)
		return PRIVD_EINVAL;
	return PRIVD_EINTERNAL;
}

/*
 * Open a fresh DEALER with the handle's keys, attach the handshake monitor
 * and start connecting. The monitor is attached before zmq_connect() so it
 * sees the first handshake. Returns a status; on failure nothing is left
 * open.
 */
static int
sock_open(privd_client *c)
{
	char monep[64];
	int zero = 0, one = 1, ivl = RECONNECT_IVL, ivlmax = RECONNECT_IVL_MAX;
	int64_t maxmsg = REPLY_MAX;
	int e;

	c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
	if (c->sock == NULL)
		goto err;
	if (zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_IMMEDIATE, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) !=
	        0 ||
	    zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) !=
	        0 ||
	    zmq_setsockopt(
	        c->sock, ZMQ_RECONNECT_IVL_MAX, &ivlmax, sizeof(ivlmax)) != 0 ||
	    zmq_setsockopt(
	        c->sock, ZMQ_CURVE_SERVERKEY, c->server_key, KEY_BYTES) != 0 ||
	    zmq_setsockopt(
	        c->sock, ZMQ_CURVE_PUBLICKEY, c->public_key, KEY_BYTES) != 0 ||
	    zmq_setsockopt(
	        c->sock, ZMQ_CURVE_SECRETKEY, c->secret_key, KEY_BYTES) != 0)
		goto err;

	/* inproc names are per context, and the context is the handle's */
	snprintf(monep, sizeof(monep), "inproc://privd-monitor-%u", c->gen++);
	if (zmq_socket_monitor(c->sock, monep, MON_EVENTS) != 0)
		goto err;
	c->mon = zmq_socket(c->ctx, ZMQ_PAIR);
	if (c->mon == NULL)
		goto err;
	/* unbounded queue: a full one would block libzmq's I/O thread */
	if (zmq_setsockopt(c->mon, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(c->mon, ZMQ_RCVHWM, &zero, sizeof(zero)) != 0 ||
	    zmq_connect(c->mon, monep) != 0)
		goto err;
	c->auth_failed = 0;

	if (zmq_connect(c->sock, c->endpoint) != 0)
		goto err;
	return PRIVD_OK;

err:
	e = errno;
	sock_close(c);
	return fail(c, zmq_status(e), "cannot open a socket to privd: %s",
	    zmq_strerror(e));
}

/*
 * Read every queued monitor event and remember whether the last handshake
 * outcome was an authentication failure. Events are two frames (v1 format):
 * 16-bit event and 32-bit value, then the endpoint.
 */
static void
mon_drain(privd_client *c)
{
	zmq_msg_t m;
	uint16_t ev;
	int more;
	size_t len;

	zmq_msg_init(&m);
	while (c->mon != NULL && zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) >= 0) {
		len = zmq_msg_size(&m);
		more = zmq_msg_more(&m);
		if (len >= sizeof(ev)) {
			memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
			if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
				c->auth_failed = 1;
			else if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
				c->auth_failed = 0;
		}
		/* skip the endpoint frame */
		while (more && zmq_msg_recv(&m, c->mon, ZMQ_DONTWAIT) >= 0)
			more = zmq_msg_more(&m);
	}
	zmq_msg_close(&m);
}

/* Is the socket ready to take a request right now? */
static int
sock_writable(privd_client *c)
{
	int ev = 0;
	size_t len = sizeof(ev);

	if (zmq_getsockopt(c->sock, ZMQ_EVENTS, &ev, &len) != 0)
		return 0;
	return (ev & ZMQ_POLLOUT) != 0;
}

/* Milliseconds left until deadline, never negative. */
static long
remaining(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left > 0 ? (long)left : 0;
}

/*
 * Wait until the socket has a connection with a completed handshake, or the
 * monitor reports that privd refused our key, or the deadline passes.
 */
static int
wait_writable(privd_client *c, int64_t deadline)
{
	zmq_pollitem_t it[2];
	long left;
	int rc, n;

	for (;;) {
		it[0] = (zmq_pollitem_t){c->sock, 0, ZMQ_POLLOUT, 0};
		n = 1;
		if (c->mon != NULL) {
			it[1] = (zmq_pollitem_t){c->mon, 0, ZMQ_POLLIN, 0};
			n = 2;
		}
		left = remaining(deadline);
		rc = zmq_poll(it, n, left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return fail(c, PRIVD_EINTERNAL, "zmq_poll: %s",
			    zmq_strerror(errno));
		}
		if (it[0].revents & ZMQ_POLLOUT)
			return PRIVD_OK;
		if (n == 2 && (it[1].revents & ZMQ_POLLIN)) {
			mon_drain(c);
			if (c->auth_failed) {
				c->reason =
				    PRIVD__V1__DENY_REASON__DENY_UNKNOWN_PRINCIPAL;
				return fail(c, PRIVD_EDENIED,
				    "privd refused this client key");
			}
		}
		if (left == 0)
			return fail(
			    c, PRIVD_EUNAVAILABLE, "privd is not reachable");
	}
}

/*
 * Wait for the reply to request id. Replies with another id are late answers
 * to calls that timed out earlier; they are dropped. On success *out is the
 * unpacked response (free with privd__v1__response__free_unpacked).
 */
static int
wait_reply(
    privd_client *c, uint64_t id, int64_t deadline, Privd__V1__Response **out)
{
	Privd__V1__Response *r;
	zmq_pollitem_t it;
	zmq_msg_t m;
	long left;
	int rc, more;

	for (;;) {
		it = (zmq_pollitem_t){c->sock, 0, ZMQ_POLLIN, 0};
		left = remaining(deadline);
		rc = zmq_poll(&it, 1, left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return fail(c, PRIVD_EINTERNAL, "zmq_poll: %s",
			    zmq_strerror(errno));
		}
		if (rc == 0) {
			if (left == 0)
				return fail(c, PRIVD_ETIMEOUT,
				    "no answer from privd within %d ms",
				    c->timeout_ms);
			continue;
		}
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			continue;
		}
		more = zmq_msg_more(&m);
		if (more) {
			/* privd answers in one frame; this is not a reply */
			while (more &&
			       zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) >= 0)
				more = zmq_msg_more(&m);
			zmq_msg_close(&m);
			continue;
		}
		r = privd__v1__response__unpack(
		    NULL, zmq_msg_size(&m), zmq_msg_data(&m));
		zmq_msg_close(&m);
		if (r == NULL)
			return fail(c, PRIVD_EPROTO,
			    "privd's answer could not be decoded");
		if (r->request_id != id) {
			privd__v1__response__free_unpacked(r, NULL);
			continue;
		}
		*out = r;
		return PRIVD_OK;
	}
}

/* Map a wire status to a PRIVD_E* code; unknown values are protocol errors. */
static int
map_status(Privd__V1__Status s)
{
	switch (s) {
	case PRIVD__V1__STATUS__OK:
		return PRIVD_OK;
	case PRIVD__V1__STATUS__INVALID:
		return PRIVD_EINVAL;
	case PRIVD__V1__STATUS__DENIED:
		return PRIVD_EDENIED;
	case PRIVD__V1__STATUS__NOT_FOUND:
		return PRIVD_ENOTFOUND;
	case PRIVD__V1__STATUS__CONFLICT:
		return PRIVD_ECONFLICT;
	case PRIVD__V1__STATUS__RETAINED:
		return PRIVD_ERETAINED;
	case PRIVD__V1__STATUS__TOO_LARGE:
		return PRIVD_ETOOBIG;
	case PRIVD__V1__STATUS__UNAVAILABLE:
		return PRIVD_EUNAVAILABLE;
	case PRIVD__V1__STATUS__INTERNAL:
		return PRIVD_EINTERNAL;
	default:
		return PRIVD_EPROTO;
	}
}

/*
 * Carry one request: give it an id, pack it straight into a ZeroMQ message
 * (no intermediate buffer), send it once the connection is ready, and wait
 * for its reply. payload is the response payload an OK answer must carry.
 * On PRIVD_OK *out is the response, owned by the caller. Any other status
 * has set the handle's message (and reason for PRIVD_EDENIED).
 */
static int
call(privd_client *c, Privd__V1__Request *req,
    Privd__V1__Response__PayloadCase payload, Privd__V1__Response **out)
{
	Privd__V1__Response *r = NULL;
	zmq_msg_t m;
	int64_t deadline;
	size_t len;
	int rc;

	*out = NULL;
	/* the id is part of the packed size (a varint): set it first */
	req->request_id = c->next_id++;
	if (c->next_id == 0)
		c->next_id = 1;
	len = privd__v1__request__get_packed_size(req);
	if (len > c->max_request)
		return fail(c, PRIVD_ETOOBIG,
		    "request of %zu bytes exceeds the limit of %zu bytes", len,
		    c->max_request);
	deadline = now_ms() + c->timeout_ms;

	/*
	 * A socket without its monitor that cannot send right now lost its
	 * connection since its first request: start over with a fresh,
	 * monitored socket so a refused key is reported, not waited out.
	 */
	if (c->sock != NULL && c->mon == NULL && !sock_writable(c))
		sock_close(c);
	if (c->sock == NULL && (rc = sock_open(c)) != PRIVD_OK)
		return rc;

	if (zmq_msg_init_size(&m, len) != 0)
		return fail(c, PRIVD_ENOMEM, "out of memory");
	if (privd__v1__request__pack(req, zmq_msg_data(&m)) != len) {
		zmq_msg_close(&m);
		return fail(c, PRIVD_EINTERNAL, "request packing failed");
	}

	for (;;) {
		rc = wait_writable(c, deadline);
		if (rc != PRIVD_OK) {
			zmq_msg_close(&m);
			sock_close(c);
			return rc;
		}
		if (zmq_msg_send(&m, c->sock, ZMQ_DONTWAIT) >= 0) {
			c->last_id = req->request_id;
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			rc = fail(c, PRIVD_EINTERNAL, "zmq_msg_send: %s",
			    zmq_strerror(errno));
			zmq_msg_close(&m);
			sock_close(c);
			return rc;
		}
	}
	zmq_msg_close(&m);
	mon_stop(c);

	rc = wait_reply(c, req->request_id, deadline, &r);
	if (rc != PRIVD_OK) {
		/* the request may still be in flight: drop this socket */
		sock_close(c);
		return rc;
	}

	rc = map_status(r->status);
	if (rc != PRIVD_OK) {
		if (rc == PRIVD_EPROTO)
			fail(c, rc, "privd's answer has an unknown status (%d)",
			    (int)r->status);
		else
			set_server_message(c, r->message);
		if (rc == PRIVD_EDENIED)
			c->reason = (int)r->reason;
		privd__v1__response__free_unpacked(r, NULL);
		return rc;
	}
	if (r->payload_case != payload) {
		privd__v1__response__free_unpacked(r, NULL);
		return fail(c, PRIVD_EPROTO,
		    "privd's answer does not match the request");
	}
	*out = r;
	return PRIVD_OK;
}

/* Forget the outcome of the previous call. */
static void
reset_error(privd_client *c)
{
	c->errmsg[0] = '\0';
	c->reason = 0;
}

/*
 * Local checks shared by the data calls: catch what privd would refuse
 * anyway before spending a round trip (and an audit event) on it.
 */
static int
check_target(
    privd_client *c, const char *reg, const char *subject, const char *purpose)
{
	if (reg == NULL || *reg == '\0')
		return fail(c, PRIVD_EINVAL, "register name is empty");
	if (subject == NULL || *subject == '\0')
		return fail(c, PRIVD_EINVAL, "subject id is empty");
	if (strlen(subject) > MAX_SUBJECT)
		return fail(c, PRIVD_EINVAL,
		    "subject id is longer than %d bytes", MAX_SUBJECT);
	if (purpose == NULL || *purpose == '\0')
		return fail(c, PRIVD_EINVAL, "purpose is empty");
	return PRIVD_OK;
}

/* Check a list of n field names (for get and delete). */
static int
check_names(privd_client *c, const char *const *names, size_t n)
{
	size_t i;

	if (n > MAX_FIELDS)
		return fail(c, PRIVD_EINVAL, "more than %d fields", MAX_FIELDS);
	if (n > 0 && names == NULL)
		return fail(c, PRIVD_EINVAL, "field name list is NULL");
	for (i = 0; i < n; i++)
		if (names[i] == NULL || *names[i] == '\0')
			return fail(
			    c, PRIVD_EINVAL, "field name %zu is empty", i + 1);
	return PRIVD_OK;
}

int
privd_keygen(
    char public_key[PRIVD_KEY_Z85_LEN], char secret_key[PRIVD_KEY_Z85_LEN])
{
	if (public_key == NULL || secret_key == NULL)
		return PRIVD_EINVAL;
	if (zmq_curve_keypair(public_key, secret_key) != 0)
		return PRIVD_EINTERNAL;
	return PRIVD_OK;
}

/* Copy a bounded explanation for privd_keypair_load_err(). */
static int
key_fail(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return PRIVD_EKEY;
}

/* Strip leading and trailing blanks in place; returns the new start. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Take one key line's value: once only, and a valid Z85 key. */
static int
key_take(char *dst, int *seen, const char *val, const char *what, char *why,
    size_t whylen)
{
	uint8_t raw[KEY_BYTES];
	char msg[64];
	int bad;

	if ((*seen)++) {
		snprintf(msg, sizeof(msg), "%s appears twice", what);
		return key_fail(why, whylen, msg);
	}
	bad = z85_key_decode(raw, val) != 0;
	wipe(raw, sizeof(raw));
	if (bad) {
		snprintf(
		    msg, sizeof(msg), "%s is not a 40-character Z85 key", what);
		return key_fail(why, whylen, msg);
	}
	memcpy(dst, val, PRIVD_KEY_Z85_LEN);
	return PRIVD_OK;
}

/*
 * Parse a key pair file's text (modified in place). Each key must appear
 * exactly once and decode as a 32-byte Z85 key; the public key must belong
 * to the secret key, which catches a file pasted together from two pairs.
 */
static int
keyfile_parse(char *text, char *pub, char *sec, char *why, size_t whylen)
{
	char *line, *next, *eq, *name, *val, derived[PRIVD_KEY_Z85_LEN];
	int havepub = 0, havesec = 0, rc = PRIVD_OK;

	for (line = text; line != NULL && rc == PRIVD_OK; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			rc = key_fail(why, whylen, "line without '='");
			break;
		}
		*eq = '\0';
		name = trim(line);
		val = trim(eq + 1);
		if (strcmp(name, "public-key") == 0) {
			rc = key_take(
			    pub, &havepub, val, "public-key", why, whylen);
		} else if (strcmp(name, "secret-key") == 0) {
			rc = key_take(
			    sec, &havesec, val, "secret-key", why, whylen);
		} else
			rc = key_fail(why, whylen, "unknown setting");
	}
	if (rc == PRIVD_OK && (!havepub || !havesec))
		rc = key_fail(why, whylen,
		    !havepub ? "no public-key line" : "no secret-key line");
	if (rc == PRIVD_OK &&
	    (zmq_curve_public(derived, sec) != 0 || strcmp(derived, pub) != 0))
		rc = key_fail(
		    why, whylen, "public-key does not belong to secret-key");
	wipe(derived, sizeof(derived));
	return rc;
}

int
privd_keypair_load_err(const char *path, char public_key[PRIVD_KEY_Z85_LEN],
    char secret_key[PRIVD_KEY_Z85_LEN], char *why, size_t whylen)
{
	char buf[KEYFILE_MAX + 1];
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	struct stat st;
	ssize_t r;
	size_t len = 0;
	int fd, rc;

	if (why != NULL && whylen > 0)
		*why = '\0';
	if (path == NULL || public_key == NULL || secret_key == NULL)
		return key_fail(why, whylen, "no key file given");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return key_fail(why, whylen, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return key_fail(why, whylen, "not a regular file");
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		return key_fail(why, whylen,
		    "file is accessible by group or other (chmod 600)");
	}
	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	if (len > KEYFILE_MAX) {
		wipe(buf, sizeof(buf));
		return key_fail(why, whylen, "file is too large");
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL)
		rc = key_fail(why, whylen, "file contains a NUL byte");
	else
		rc = keyfile_parse(buf, pub, sec, why, whylen);
	if (rc == PRIVD_OK) {
		memcpy(public_key, pub, PRIVD_KEY_Z85_LEN);
		memcpy(secret_key, sec, PRIVD_KEY_Z85_LEN);
	}
	wipe(buf, sizeof(buf));
	wipe(sec, sizeof(sec));
	return rc;
}

int
privd_keypair_load(const char *path, char public_key[PRIVD_KEY_Z85_LEN],
    char secret_key[PRIVD_KEY_Z85_LEN])
{
	return privd_keypair_load_err(path, public_key, secret_key, NULL, 0);
}

int
privd_connect(privd_client **out, const char *endpoint, const char *server_key,
    const char *public_key, const char *secret_key)
{
	privd_client *c;
	char derived[PRIVD_KEY_Z85_LEN];
	int rc, mismatch;

	if (out == NULL)
		return PRIVD_EINVAL;
	*out = NULL;
	if (endpoint == NULL ||
	    (strncmp(endpoint, "ipc://", 6) != 0 &&
	        strncmp(endpoint, "tcp://", 6) != 0) ||
	    endpoint[6] == '\0')
		return PRIVD_EINVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PRIVD_ENOMEM;
	if (z85_key_decode(c->server_key, server_key) != 0 ||
	    z85_key_decode(c->public_key, public_key) != 0 ||
	    z85_key_decode(c->secret_key, secret_key) != 0) {
		rc = PRIVD_EKEY;
		goto bad;
	}
	/* a key pair that does not match would only show as "refused" */
	mismatch = zmq_curve_public(derived, secret_key) != 0 ||
	           strcmp(derived, public_key) != 0;
	wipe(derived, sizeof(derived));
	if (mismatch) {
		rc = PRIVD_EKEY;
		goto bad;
	}
	if ((c->endpoint = strdup(endpoint)) == NULL) {
		rc = PRIVD_ENOMEM;
		goto bad;
	}
	if ((c->ctx = zmq_ctx_new()) == NULL) {
		rc = errno == ENOMEM ? PRIVD_ENOMEM : PRIVD_EINTERNAL;
		goto bad;
	}
	zmq_ctx_set(c->ctx, ZMQ_BLOCKY, 0);
	c->timeout_ms = PRIVD_DEFAULT_TIMEOUT_MS;
	c->max_request = PRIVD_DEFAULT_MAX_REQUEST;
	c->next_id = random_id();
	if (c->next_id == 0)
		c->next_id = 1;
	/* start the handshake now so that the first call finds it done */
	if ((rc = sock_open(c)) != PRIVD_OK)
		goto bad;
	*out = c;
	return PRIVD_OK;

bad:
	privd_close(&c);
	return rc;
}

void
privd_close(privd_client **cp)
{
	privd_client *c;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	sock_close(c);
	if (c->ctx != NULL)
		while (zmq_ctx_term(c->ctx) != 0 && errno == EINTR)
			;
	free(c->endpoint);
	free(c->fbuf);
	free(c->fptr);
	wipe(c, sizeof(*c));
	free(c);
	*cp = NULL;
}

void
privd_set_timeout(privd_client *c, int timeout_ms)
{
	if (c != NULL && timeout_ms > 0)
		c->timeout_ms = timeout_ms;
}

void
privd_set_max_request(privd_client *c, size_t bytes)
{
	if (c != NULL && bytes > 0)
		c->max_request = bytes;
}

/* Copy src into a fixed buffer, truncated and NUL-terminated. */
static void
copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

int
privd_ping(privd_client *c, privd_pong *pong)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PingRequest ping = PRIVD__V1__PING_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (c == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	req.op_case = PRIVD__V1__REQUEST__OP_PING;
	req.ping = &ping;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_PING, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (pong != NULL) {
		copy_str(pong->server_version, sizeof(pong->server_version),
		    r->ping->server_version);
		copy_str(pong->principal, sizeof(pong->principal),
		    r->ping->principal);
		pong->policy_version = r->ping->policy_version;
	}
	privd__v1__response__free_unpacked(r, NULL);
	return PRIVD_OK;
}

/* Make the handle's put scratch hold n fields. */
static int
fields_reserve(privd_client *c, size_t n)
{
	Privd__V1__Field *fb;
	Privd__V1__Field **fp;

	if (n <= c->fcap)
		return PRIVD_OK;
	fb = realloc(c->fbuf, n * sizeof(*fb));
	if (fb == NULL)
		return fail(c, PRIVD_ENOMEM, "out of memory");
	c->fbuf = fb;
	fp = realloc(c->fptr, n * sizeof(*fp));
	if (fp == NULL)
		return fail(c, PRIVD_ENOMEM, "out of memory");
	c->fptr = fp;
	c->fcap = n;
	return PRIVD_OK;
}

int
privd_put(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const privd_field *fields, size_t n)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	static const Privd__V1__Field init = PRIVD__V1__FIELD__INIT;
	Privd__V1__Response *r;
	size_t i;
	int rc;

	if (c == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	if ((rc = check_target(c, reg, subject, purpose)) != PRIVD_OK)
		return rc;
	if (n == 0 || fields == NULL)
		return fail(c, PRIVD_EINVAL, "no fields to write");
	if (n > MAX_FIELDS)
		return fail(c, PRIVD_EINVAL, "more than %d fields", MAX_FIELDS);
	for (i = 0; i < n; i++) {
		if (fields[i].name == NULL || *fields[i].name == '\0')
			return fail(
			    c, PRIVD_EINVAL, "field name %zu is empty", i + 1);
		if (fields[i].len > MAX_VALUE)
			return fail(c, PRIVD_EINVAL,
			    "value of field %s is larger than %d bytes",
			    fields[i].name, MAX_VALUE);
		if (fields[i].value == NULL && fields[i].len > 0)
			return fail(c, PRIVD_EINVAL,
			    "value of field %s is NULL", fields[i].name);
	}
	if ((rc = fields_reserve(c, n)) != PRIVD_OK)
		return rc;
	/* the wire structs point into the caller's memory: no copies */
	for (i = 0; i < n; i++) {
		c->fbuf[i] = init;
		c->fbuf[i].name = (char *)fields[i].name;
		c->fbuf[i].value.data = (uint8_t *)fields[i].value;
		c->fbuf[i].value.len = fields[i].len;
		c->fptr[i] = &c->fbuf[i];
	}
	put.register_ = (char *)reg;
	put.subject = (char *)subject;
	put.n_fields = n;
	put.fields = c->fptr;
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_PUT;
	req.put = &put;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_PUT, &r);
	if (rc != PRIVD_OK)
		return rc;
	privd__v1__response__free_unpacked(r, NULL);
	return PRIVD_OK;
}

/* A record and its field array in one allocation; the flexible array member
 * gives the fields their proper alignment. Names and values follow. */
struct record_block {
	privd_record rec;
	privd_field f[];
};

/*
 * Copy a GetResponse into one caller-owned block, so that a record is freed
 * with one free() and can be handed to another thread as plain memory.
 */
static int
record_build(
    privd_client *c, const Privd__V1__GetResponse *g, privd_record **out)
{
	struct record_block *b;
	size_t i, j, total, nl;
	char *p;

	if (g->n_fields > MAX_FIELDS)
		return fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d fields", MAX_FIELDS);
	total = sizeof(*b) + g->n_fields * sizeof(privd_field);
	for (i = 0; i < g->n_fields; i++) {
		/* protobuf-c gives "" for a name privd did not send */
		if (g->fields[i] == NULL || g->fields[i]->name == NULL ||
		    *g->fields[i]->name == '\0')
			return fail(c, PRIVD_EPROTO,
			    "privd's answer has a field without a name");
		/* privd_record_field() would only ever find the first */
		for (j = 0; j < i; j++)
			if (strcmp(g->fields[i]->name, g->fields[j]->name) == 0)
				return fail(c, PRIVD_EPROTO,
				    "privd's answer has a field twice");
		total += strlen(g->fields[i]->name) + 1 +
		         g->fields[i]->value.len + 1;
	}
	if ((b = malloc(total)) == NULL)
		return fail(c, PRIVD_ENOMEM, "out of memory");
	b->rec.nfields = g->n_fields;
	b->rec.fields = b->f;
	p = (char *)&b->f[g->n_fields];
	for (i = 0; i < g->n_fields; i++) {
		const Privd__V1__Field *src = g->fields[i];

		nl = strlen(src->name) + 1;
		memcpy(p, src->name, nl);
		b->f[i].name = p;
		p += nl;
		if (src->value.len > 0)
			memcpy(p, src->value.data, src->value.len);
		p[src->value.len] = '\0';
		b->f[i].value = (const uint8_t *)p;
		b->f[i].len = src->value.len;
		p += src->value.len + 1;
	}
	*out = &b->rec;
	return PRIVD_OK;
}

int
privd_get(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, privd_record **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__GetRequest get = PRIVD__V1__GET_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (c == NULL || out == NULL)
		return PRIVD_EINVAL;
	*out = NULL;
	reset_error(c);
	if ((rc = check_target(c, reg, subject, purpose)) != PRIVD_OK ||
	    (rc = check_names(c, names, n)) != PRIVD_OK)
		return rc;
	get.register_ = (char *)reg;
	get.subject = (char *)subject;
	get.n_fields = n;
	get.fields = (char **)names;
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_GET;
	req.get = &get;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_GET, &r);
	if (rc != PRIVD_OK)
		return rc;
	rc = record_build(c, r->get, out);
	privd__v1__response__free_unpacked(r, NULL);
	return rc;
}

int
privd_delete(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, uint32_t *deleted)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__DeleteRequest del = PRIVD__V1__DELETE_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (deleted != NULL)
		*deleted = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	if ((rc = check_target(c, reg, subject, purpose)) != PRIVD_OK ||
	    (rc = check_names(c, names, n)) != PRIVD_OK)
		return rc;
	del.register_ = (char *)reg;
	del.subject = (char *)subject;
	del.n_fields = n;
	del.fields = (char **)names;
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_DELETE;
	req.delete_ = &del;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_DELETE, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (deleted != NULL)
		*deleted = r->delete_->deleted;
	privd__v1__response__free_unpacked(r, NULL);
	return PRIVD_OK;
}

/* Copy a wire PolicyVersion; a missing one is a protocol error. */
static int
version_copy(privd_client *c, const Privd__V1__PolicyVersion *src,
    privd_policy_version *dst)
{
	if (src == NULL)
		return fail(
		    c, PRIVD_EPROTO, "privd's answer has no policy version");
	dst->version = src->version;
	copy_str(dst->applied_by, sizeof(dst->applied_by), src->applied_by);
	dst->applied_at_us = src->applied_at_us;
	return PRIVD_OK;
}

int
privd_policy_get(privd_client *c, privd_policy_version *version, char **json)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyGetRequest pg = PRIVD__V1__POLICY_GET_REQUEST__INIT;
	privd_policy_version v;
	Privd__V1__Response *r;
	int rc;

	if (json != NULL)
		*json = NULL;
	if (c == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_GET;
	req.policy_get = &pg;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_GET, &r);
	if (rc != PRIVD_OK)
		return rc;
	rc = version_copy(c, r->policy_get->version, &v);
	if (rc == PRIVD_OK && json != NULL) {
		*json = strdup(r->policy_get->policy_json != NULL
		                   ? r->policy_get->policy_json
		                   : "");
		if (*json == NULL)
			rc = fail(c, PRIVD_ENOMEM, "out of memory");
	}
	if (rc == PRIVD_OK && version != NULL)
		*version = v;
	privd__v1__response__free_unpacked(r, NULL);
	return rc;
}

int
privd_policy_apply(privd_client *c, uint64_t replaces_version, const char *json,
    uint64_t *new_version)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyApplyRequest pa =
	    PRIVD__V1__POLICY_APPLY_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (new_version != NULL)
		*new_version = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	if (replaces_version == 0)
		return fail(c, PRIVD_EINVAL,
		    "replaces_version must name the version in force");
	if (json == NULL || *json == '\0')
		return fail(c, PRIVD_EINVAL, "the policy document is empty");
	pa.replaces_version = replaces_version;
	pa.policy_json = (char *)json;
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_APPLY;
	req.policy_apply = &pa;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_APPLY, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (new_version != NULL)
		*new_version = r->policy_apply->version;
	privd__v1__response__free_unpacked(r, NULL);
	return PRIVD_OK;
}

int
privd_policy_history(
    privd_client *c, privd_policy_version **versions, size_t *n)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyHistoryRequest ph =
	    PRIVD__V1__POLICY_HISTORY_REQUEST__INIT;
	const Privd__V1__PolicyHistoryResponse *h;
	privd_policy_version *out;
	Privd__V1__Response *r;
	size_t i;
	int rc;

	if (versions != NULL)
		*versions = NULL;
	if (n != NULL)
		*n = 0;
	if (c == NULL || versions == NULL || n == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_HISTORY;
	req.policy_history = &ph;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_HISTORY, &r);
	if (rc != PRIVD_OK)
		return rc;
	h = r->policy_history;
	if (h->n_versions > POLICY_VERSIONS_MAX) {
		privd__v1__response__free_unpacked(r, NULL);
		return fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d policy versions",
		    POLICY_VERSIONS_MAX);
	}
	/* one element even for an empty list, so that success is never NULL */
	out = calloc(h->n_versions > 0 ? h->n_versions : 1, sizeof(*out));
	if (out == NULL)
		rc = fail(c, PRIVD_ENOMEM, "out of memory");
	for (i = 0; rc == PRIVD_OK && i < h->n_versions; i++)
		rc = version_copy(c, h->versions[i], &out[i]);
	privd__v1__response__free_unpacked(r, NULL);
	if (rc != PRIVD_OK) {
		free(out);
		return rc;
	}
	*versions = out;
	*n = i;
	return PRIVD_OK;
}

/* Is s NULL or empty? */
static int
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/*
 * Send one audit query and return privd's answer, checked to hold at most
 * a page of records, each with a 32-byte hash. The request structs point
 * into q and cursor: no copies.
 */
static int
audit_query_call(privd_client *c, const privd_audit_filter *q,
    const uint8_t *cursor, size_t cursorlen, Privd__V1__Response **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditQueryRequest aq = PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;
	const Privd__V1__AuditQueryResponse *qr;
	size_t i;
	int rc;

	*out = NULL;
	if (q != NULL) {
		if (!empty(q->subject) && strlen(q->subject) > MAX_SUBJECT)
			return fail(c, PRIVD_EINVAL,
			    "subject id is longer than %d bytes", MAX_SUBJECT);
		if ((!empty(q->reg) && strlen(q->reg) > MAX_NAME) ||
		    (!empty(q->principal) && strlen(q->principal) > MAX_NAME))
			return fail(c, PRIVD_EINVAL,
			    "names are at most %d bytes", MAX_NAME);
		if (q->nops > MAX_OPS || (q->nops > 0 && q->ops == NULL))
			return fail(c, PRIVD_EINVAL,
			    "at most %d operations, in a list", MAX_OPS);
		for (i = 0; i < q->nops; i++)
			if (empty(q->ops[i]) || strlen(q->ops[i]) > MAX_NAME)
				return fail(c, PRIVD_EINVAL,
				    "operation name %zu is empty or too long",
				    i + 1);
		if (q->decision < PRIVD_DECISION_ANY ||
		    q->decision > PRIVD_DECISION_FAILED)
			return fail(c, PRIVD_EINVAL, "unknown decision %d",
			    q->decision);
		if (q->limit > AUDIT_PAGE_MAX)
			return fail(c, PRIVD_EINVAL,
			    "at most %d events per page", AUDIT_PAGE_MAX);
		aq.subject = (char *)(q->subject ? q->subject : "");
		aq.register_ = (char *)(q->reg ? q->reg : "");
		aq.principal = (char *)(q->principal ? q->principal : "");
		aq.since_us = q->since_us;
		aq.until_us = q->until_us;
		aq.n_ops = q->nops;
		aq.ops = (char **)q->ops;
		aq.decision = (Privd__V1__Decision)q->decision;
		aq.newest_first = q->newest_first != 0;
		aq.limit = q->limit;
		aq.from_seq = q->from_seq;
		aq.to_seq = q->to_seq;
	}
	if (cursorlen > 0 && cursor == NULL)
		return fail(c, PRIVD_EINVAL, "cursor is NULL");
	aq.cursor.data = (uint8_t *)cursor;
	aq.cursor.len = cursorlen;
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_QUERY;
	req.audit_query = &aq;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_QUERY, out);
	if (rc != PRIVD_OK)
		return rc;
	qr = (*out)->audit_query;
	if (qr->n_records > AUDIT_PAGE_MAX)
		rc = fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d audit records",
		    AUDIT_PAGE_MAX);
	for (i = 0; rc == PRIVD_OK && i < qr->n_records; i++)
		if (qr->records[i] == NULL ||
		    qr->records[i]->hash.len != AV_HASHBYTES)
			rc = fail(c, PRIVD_EPROTO,
			    "privd's answer has an audit record without its "
			    "hash");
	if (rc != PRIVD_OK) {
		privd__v1__response__free_unpacked(*out, NULL);
		*out = NULL;
	}
	return rc;
}

/* A page and its events in one allocation; the field name pointers, the
 * events' bytes, the field names and the cursor follow. */
struct page_block {
	privd_audit_page page;
	privd_audit_event ev[];
};

/*
 * Copy an audit query answer into one caller-owned block, decoding each
 * event for its fields while keeping its bytes exactly as stored (the
 * chain hash covers them).
 */
static int
page_build(privd_client *c, const Privd__V1__AuditQueryResponse *qr,
    privd_audit_page **out)
{
	Privd__V1__AuditEvent **evs;
	const Privd__V1__AuditRecord *rec;
	struct page_block *b = NULL;
	privd_audit_event *e;
	size_t i, k, n = qr->n_records, nf = 0, bytes = 0, total;
	char **fp, *p;
	int rc = PRIVD_OK;

	if ((evs = calloc(n ? n : 1, sizeof(*evs))) == NULL)
		return fail(c, PRIVD_ENOMEM, "out of memory");
	/* audit_query_call() checked the number of records and their hashes */
	for (i = 0; i < n && rc == PRIVD_OK; i++) {
		rec = qr->records[i];
		evs[i] = privd__v1__audit_event__unpack(
		    NULL, rec->event.len, rec->event.data);
		if (evs[i] == NULL) {
			rc = fail(c, PRIVD_EPROTO,
			    "an audit event in privd's answer does not decode");
			break;
		}
		if (evs[i]->subject.len != 0 &&
		    evs[i]->subject.len != sizeof(b->ev[0].subject)) {
			rc = fail(c, PRIVD_EPROTO,
			    "an audit event in privd's answer has a malformed "
			    "subject pseudonym");
			break;
		}
		nf += evs[i]->n_fields;
		bytes += rec->event.len;
		for (k = 0; k < evs[i]->n_fields; k++)
			bytes += strlen(evs[i]->fields[k]) + 1;
	}
	if (rc != PRIVD_OK)
		goto out;
	total = sizeof(*b) + n * sizeof(b->ev[0]) + nf * sizeof(char *) +
	        bytes + qr->next_cursor.len;
	if ((b = calloc(1, total)) == NULL) {
		rc = fail(c, PRIVD_ENOMEM, "out of memory");
		goto out;
	}
	b->page.events = b->ev;
	b->page.n = n;
	fp = (char **)&b->ev[n];
	p = (char *)&fp[nf];
	for (i = 0; i < n; i++) {
		rec = qr->records[i];
		e = &b->ev[i];
		e->seq = evs[i]->seq;
		e->time_us = evs[i]->time_us;
		e->policy_version = evs[i]->policy_version;
		e->request_id = evs[i]->request_id;
		copy_str(e->principal, sizeof(e->principal), evs[i]->principal);
		copy_str(e->op, sizeof(e->op), evs[i]->op);
		copy_str(e->reg, sizeof(e->reg), evs[i]->register_);
		copy_str(e->purpose, sizeof(e->purpose), evs[i]->purpose);
		if (evs[i]->subject.len == sizeof(e->subject)) {
			memcpy(e->subject, evs[i]->subject.data,
			    sizeof(e->subject));
			e->has_subject = 1;
		}
		e->fields = fp;
		e->nfields = evs[i]->n_fields;
		for (k = 0; k < evs[i]->n_fields; k++) {
			size_t len = strlen(evs[i]->fields[k]) + 1;

			memcpy(p, evs[i]->fields[k], len);
			*fp++ = p;
			p += len;
		}
		e->decision = (int)evs[i]->decision;
		e->reason = (int)evs[i]->reason;
		e->status = (int)evs[i]->status;
		if (rec->event.len > 0)
			memcpy(p, rec->event.data, rec->event.len);
		e->raw = (const uint8_t *)p;
		e->rawlen = rec->event.len;
		p += rec->event.len;
		memcpy(e->hash, rec->hash.data, sizeof(e->hash));
	}
	if (qr->next_cursor.len > 0) {
		memcpy(p, qr->next_cursor.data, qr->next_cursor.len);
		b->page.cursor = (uint8_t *)p;
		b->page.cursorlen = qr->next_cursor.len;
	}
	*out = &b->page;
out:
	for (i = 0; i < n; i++)
		if (evs[i] != NULL)
			privd__v1__audit_event__free_unpacked(evs[i], NULL);
	free(evs);
	return rc;
}

int
privd_audit_query(privd_client *c, const privd_audit_filter *q,
    const uint8_t *cursor, size_t cursorlen, privd_audit_page **out)
{
	Privd__V1__Response *r;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || out == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	if ((rc = audit_query_call(c, q, cursor, cursorlen, &r)) != PRIVD_OK)
		return rc;
	rc = page_build(c, r->audit_query, out);
	privd__v1__response__free_unpacked(r, NULL);
	return rc;
}

void
privd_audit_page_free(privd_audit_page **p)
{
	if (p == NULL || *p == NULL)
		return;
	/* the page is the start of its block (page_build) */
	free(*p);
	*p = NULL;
}

int
privd_audit_pubkey(privd_client *c, uint8_t pk[32])
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditPubkeyRequest ap =
	    PRIVD__V1__AUDIT_PUBKEY_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (c == NULL || pk == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_PUBKEY;
	req.audit_pubkey = &ap;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_PUBKEY, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (r->audit_pubkey->public_key.len != AV_PKBYTES)
		rc = fail(c, PRIVD_EPROTO,
		    "privd's audit signing key is not %d bytes", AV_PKBYTES);
	else
		memcpy(pk, r->audit_pubkey->public_key.data, AV_PKBYTES);
	privd__v1__response__free_unpacked(r, NULL);
	return rc;
}

/* Copy a wire checkpoint; a malformed one is a protocol error. */
static int
ckpt_copy(privd_client *c, const Privd__V1__AuditCheckpoint *src,
    privd_audit_checkpoint *dst)
{
	if (src == NULL || src->hash.len != sizeof(dst->hash) ||
	    src->signature.len != sizeof(dst->sig))
		return fail(c, PRIVD_EPROTO,
		    "privd's answer has a malformed audit checkpoint");
	dst->seq = src->seq;
	dst->time_us = src->time_us;
	memcpy(dst->hash, src->hash.data, sizeof(dst->hash));
	memcpy(dst->sig, src->signature.data, sizeof(dst->sig));
	return PRIVD_OK;
}

int
privd_audit_checkpoints(privd_client *c, uint64_t from_seq, uint64_t to_seq,
    privd_audit_checkpoint **ckpts, size_t *n, uint64_t *first_seq,
    uint64_t *last_seq, privd_audit_checkpoint *prune_base, int *has_prune_base)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditCheckpointsRequest ac =
	    PRIVD__V1__AUDIT_CHECKPOINTS_REQUEST__INIT;
	const Privd__V1__AuditCheckpointsResponse *cr;
	privd_audit_checkpoint *list, base;
	Privd__V1__Response *r;
	size_t i;
	int rc;

	if (ckpts != NULL)
		*ckpts = NULL;
	if (n != NULL)
		*n = 0;
	if (first_seq != NULL)
		*first_seq = 0;
	if (last_seq != NULL)
		*last_seq = 0;
	if (has_prune_base != NULL)
		*has_prune_base = 0;
	if (c == NULL || ckpts == NULL || n == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	ac.from_seq = from_seq;
	ac.to_seq = to_seq;
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_CHECKPOINTS;
	req.audit_checkpoints = &ac;
	rc = call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_CHECKPOINTS, &r);
	if (rc != PRIVD_OK)
		return rc;
	cr = r->audit_checkpoints;
	if (cr->n_checkpoints > AUDIT_CKPTS_MAX) {
		privd__v1__response__free_unpacked(r, NULL);
		return fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d checkpoints",
		    AUDIT_CKPTS_MAX);
	}
	/* one element even for an empty list, so that success is never NULL */
	list = calloc(cr->n_checkpoints ? cr->n_checkpoints : 1, sizeof(*list));
	if (list == NULL)
		rc = fail(c, PRIVD_ENOMEM, "out of memory");
	for (i = 0; rc == PRIVD_OK && i < cr->n_checkpoints; i++)
		rc = ckpt_copy(c, cr->checkpoints[i], &list[i]);
	if (rc == PRIVD_OK && cr->prune_checkpoint != NULL)
		rc = ckpt_copy(c, cr->prune_checkpoint, &base);
	if (rc != PRIVD_OK) {
		free(list);
		privd__v1__response__free_unpacked(r, NULL);
		return rc;
	}
	if (cr->prune_checkpoint != NULL) {
		if (prune_base != NULL)
			*prune_base = base;
		if (has_prune_base != NULL)
			*has_prune_base = 1;
	}
	if (first_seq != NULL)
		*first_seq = cr->first_seq;
	if (last_seq != NULL)
		*last_seq = cr->last_seq;
	*ckpts = list;
	*n = cr->n_checkpoints;
	privd__v1__response__free_unpacked(r, NULL);
	return PRIVD_OK;
}

/* Order checkpoints by seq, as the verifier meets them. */
static int
ckpt_cmp(const void *a, const void *b)
{
	const av_checkpoint *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Does a list of checkpoints that privd sent for [from, hi] keep to it, in
 * strictly increasing seq? A list that does not could make a caller that
 * pages through them ask for the same ones forever.
 */
static int
ckpts_in_order(
    const privd_audit_checkpoint *p, size_t n, uint64_t from, uint64_t hi)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i].seq < from || p[i].seq > hi ||
		    (i > 0 && p[i].seq <= p[i - 1].seq))
			return 0;
	return 1;
}

/*
 * Every checkpoint in [from_seq, to_seq] as the verifier wants them, in as
 * many calls as privd's per-call limit needs. The first call also gives the
 * range of events kept and the prune base; later calls end at *last_seq so
 * that checkpoints signed meanwhile do not look like missing events. Each
 * call must start after the previous one's last checkpoint and keep to the
 * range asked for, so the calls end and the list holds at most one
 * checkpoint per event of the range.
 */
static int
audit_ckpts_all(privd_client *c, uint64_t from_seq, uint64_t to_seq,
    av_checkpoint **out, size_t *nout, uint64_t *first_seq, uint64_t *last_seq,
    privd_audit_checkpoint *base, int *has_base)
{
	privd_audit_checkpoint *part = NULL;
	av_checkpoint *all = NULL, *grown;
	size_t n = 0, np, i;
	uint64_t from = from_seq, first, last, end = to_seq, hi;
	int rc, first_call = 1;

	*out = NULL;
	*nout = 0;
	for (;;) {
		rc = privd_audit_checkpoints(c, from, end, &part, &np, &first,
		    &last, first_call ? base : NULL,
		    first_call ? has_base : NULL);
		if (rc != PRIVD_OK)
			break;
		/* end 0 asks for every checkpoint: one past the newest event
		 * is for the verifier to judge (events cut off the end) */
		hi = end != 0 ? end : UINT64_MAX;
		if (!ckpts_in_order(part, np, from, hi) ||
		    (np > 0 && n + np - 1 > hi - from_seq)) {
			rc = fail(c, PRIVD_EPROTO,
			    "privd's answer does not make progress");
			break;
		}
		if (first_call) {
			*first_seq = first;
			*last_seq = last;
			if (end == 0)
				end = last > 0 ? last : 1;
			first_call = 0;
		}
		grown = np ? realloc(all, (n + np) * sizeof(*all)) : all;
		if (np > 0 && grown == NULL) {
			rc = fail(c, PRIVD_ENOMEM, "out of memory");
			break;
		}
		all = grown;
		for (i = 0; i < np; i++) {
			all[n].seq = part[i].seq;
			all[n].time_us = part[i].time_us;
			memcpy(all[n].hash, part[i].hash, AV_HASHBYTES);
			memcpy(all[n].sig, part[i].sig, AV_SIGBYTES);
			n++;
		}
		if (np < AUDIT_CKPTS_MAX || part[np - 1].seq >= end)
			break;
		from = part[np - 1].seq + 1;
		privd_free(part);
		part = NULL;
	}
	privd_free(part);
	if (rc != PRIVD_OK) {
		free(all);
		return rc;
	}
	/* privd sends them in order; a verifier does not rely on it */
	if (n > 1)
		qsort(all, n, sizeof(*all), ckpt_cmp);
	*out = all;
	*nout = n;
	return PRIVD_OK;
}

/* The first sequence number of the range that the verifier could not
 * account for: say so, and return PRIVD_ETAMPERED. */
static int tampered(privd_client *c, uint64_t seq, uint64_t *bad_seq, char *why,
    size_t whylen, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
tampered(privd_client *c, uint64_t seq, uint64_t *bad_seq, char *why,
    size_t whylen, const char *fmt, ...)
{
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (bad_seq != NULL)
		*bad_seq = seq;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return fail(c, PRIVD_ETAMPERED,
	    "the audit log does not verify at event %llu: %s",
	    (unsigned long long)seq, msg);
}

/*
 * Where verification starts and the chain hash before it (see
 * privd_audit_verify() in the header). Returns PRIVD_OK with *start and
 * prev set, PRIVD_ETAMPERED, or a transport status.
 */
static int
verify_start(privd_client *c, uint64_t from_seq, uint64_t first_seq,
    const av_checkpoint *ck, size_t nck, const privd_audit_checkpoint *base,
    int has_base, const uint8_t *pk, uint64_t *start, uint8_t *prev,
    uint64_t *bad_seq, char *why, size_t whylen)
{
	privd_audit_filter q = {0};
	privd_audit_page *pg = NULL;
	av_checkpoint b;
	uint64_t lost;
	size_t i;
	int rc;

	if (from_seq == 0)
		from_seq = 1;
	if (first_seq > 1 && from_seq <= first_seq) {
		/* pruned: the kept chain starts from a signed checkpoint */
		if (!has_base || base->seq != first_seq - 1) {
			for (lost = from_seq, i = 0; i < nck; i++)
				if (ck[i].seq < first_seq && ck[i].seq >= lost)
					lost = ck[i].seq + 1;
			return tampered(c, lost, bad_seq, why, whylen,
			    "events %llu to %llu are missing, and no signed "
			    "checkpoint ends them",
			    (unsigned long long)lost,
			    (unsigned long long)(first_seq - 1));
		}
		b.seq = base->seq;
		b.time_us = base->time_us;
		memcpy(b.hash, base->hash, AV_HASHBYTES);
		memcpy(b.sig, base->sig, AV_SIGBYTES);
		if (!av_checkpoint_valid(&b, pk))
			return tampered(c, b.seq, bad_seq, why, whylen,
			    "the checkpoint at event %llu, where the kept "
			    "events start, has an invalid signature",
			    (unsigned long long)b.seq);
		*start = first_seq;
		memcpy(prev, b.hash, AV_HASHBYTES);
		return PRIVD_OK;
	}
	if (from_seq == 1) {
		*start = 1;
		memset(prev, 0, AV_HASHBYTES);
		return PRIVD_OK;
	}
	/* mid-log: the stored hash of the event before the range */
	q.from_seq = q.to_seq = from_seq - 1;
	q.limit = 1;
	if ((rc = privd_audit_query(c, &q, NULL, 0, &pg)) != PRIVD_OK)
		return rc;
	if (pg->n != 1 || pg->events[0].seq != from_seq - 1) {
		privd_audit_page_free(&pg);
		return tampered(c, from_seq - 1, bad_seq, why, whylen,
		    "event %llu, before the range, is missing",
		    (unsigned long long)(from_seq - 1));
	}
	*start = from_seq;
	memcpy(prev, pg->events[0].hash, AV_HASHBYTES);
	privd_audit_page_free(&pg);
	return PRIVD_OK;
}

int
privd_audit_verify(privd_client *c, uint64_t from_seq, uint64_t to_seq,
    const uint8_t pk[32], uint64_t *bad_seq, char *why, size_t whylen,
    uint64_t *checked)
{
	privd_audit_filter q = {0};
	privd_audit_checkpoint base;
	Privd__V1__Response *r = NULL;
	const Privd__V1__AuditQueryResponse *qr;
	const Privd__V1__AuditRecord *rec;
	uint8_t key[AV_PKBYTES], prev[AV_HASHBYTES];
	uint8_t *cursor = NULL, *nc;
	size_t cursorlen = 0, nck = 0, i;
	uint64_t first_seq = 0, last_seq = 0, start = 0, end, fin, seq;
	av_checkpoint *ck = NULL;
	av_state *v = NULL;
	int rc, has_base = 0;

	if (bad_seq != NULL)
		*bad_seq = 0;
	if (why != NULL && whylen > 0)
		*why = '\0';
	if (checked != NULL)
		*checked = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	reset_error(c);
	if (to_seq != 0 && from_seq > to_seq)
		return fail(c, PRIVD_EINVAL, "from_seq is after to_seq");
	if (sodium_init() < 0)
		return fail(c, PRIVD_EINTERNAL, "libsodium cannot start");
	if (pk == NULL) {
		if ((rc = privd_audit_pubkey(c, key)) != PRIVD_OK)
			return rc;
	} else {
		memcpy(key, pk, AV_PKBYTES);
	}
	rc = audit_ckpts_all(c, from_seq, to_seq, &ck, &nck, &first_seq,
	    &last_seq, &base, &has_base);
	if (rc != PRIVD_OK)
		return rc;
	if (last_seq == 0)
		goto done; /* nothing kept (yet): nothing to verify */
	/*
	 * The range ends at the newest event as of the checkpoint listing
	 * (later ones include this call's own queries), or at a checkpoint
	 * beyond it: a signed checkpoint names events that must be there.
	 */
	end = to_seq != 0 && to_seq < last_seq ? to_seq : last_seq;
	fin = end;
	for (i = 0; i < nck; i++)
		if (ck[i].seq > fin)
			fin = ck[i].seq;
	if ((from_seq > 1 ? from_seq : 1) > fin)
		goto done; /* the range starts after the newest event */
	rc = verify_start(c, from_seq, first_seq, ck, nck, &base, has_base, key,
	    &start, prev, bad_seq, why, whylen);
	if (rc != PRIVD_OK || start > fin)
		goto done;
	if ((v = malloc(sizeof(*v))) == NULL) {
		rc = fail(c, PRIVD_ENOMEM, "out of memory");
		goto done;
	}
	av_init(v, start, prev, ck, nck, key);
	q.from_seq = start;
	q.to_seq = fin;
	q.limit = AUDIT_PAGE_MAX;
	for (;;) {
		rc = audit_query_call(c, &q, cursor, cursorlen, &r);
		if (rc != PRIVD_OK)
			goto done;
		qr = r->audit_query;
		/*
		 * Each record verified is the next seq (av_record), so pages
		 * that carry records advance; a page without any must at
		 * least move the cursor, or privd would be asked the same
		 * question forever.
		 */
		if (cursor != NULL && qr->next_cursor.len == cursorlen &&
		    memcmp(qr->next_cursor.data, cursor, cursorlen) == 0) {
			rc = fail(c, PRIVD_EPROTO,
			    "privd's answer does not make progress");
			goto done;
		}
		for (i = 0; i < qr->n_records && v->bad_seq == 0; i++) {
			rec = qr->records[i];
			if (av_record(v, rec->event.data, rec->event.len,
			        rec->hash.data, rec->hash.len, &seq) == 0 &&
			    seq > fin) {
				/* more records than the range holds */
				rc = fail(c, PRIVD_EPROTO,
				    "privd's answer goes past the range asked "
				    "for");
				goto done;
			}
		}
		free(cursor);
		cursor = NULL;
		cursorlen = qr->next_cursor.len;
		if (cursorlen > 0 && v->bad_seq == 0) {
			if ((nc = malloc(cursorlen)) == NULL) {
				rc = fail(c, PRIVD_ENOMEM, "out of memory");
				goto done;
			}
			memcpy(nc, qr->next_cursor.data, cursorlen);
			cursor = nc;
		}
		privd__v1__response__free_unpacked(r, NULL);
		r = NULL;
		if (cursor == NULL)
			break;
	}
	if (av_finish(v, fin) != 0)
		rc =
		    tampered(c, v->bad_seq, bad_seq, why, whylen, "%s", v->why);
	if (checked != NULL)
		*checked = v->checked;
done:
	if (r != NULL)
		privd__v1__response__free_unpacked(r, NULL);
	free(cursor);
	free(ck);
	free(v);
	return rc;
}

uint64_t
privd_last_request_id(const privd_client *c)
{
	return c != NULL ? c->last_id : 0;
}

void
privd_free(void *p)
{
	free(p);
}

void
privd_record_free(privd_record **r)
{
	if (r == NULL || *r == NULL)
		return;
	/* the record is the start of its block (record_build) */
	free(*r);
	*r = NULL;
}

const privd_field *
privd_record_field(const privd_record *r, const char *name)
{
	size_t i;

	if (r == NULL || name == NULL)
		return NULL;
	for (i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	return NULL;
}

const char *
privd_strerror(int status)
{
	switch (status) {
	case PRIVD_OK:
		return "success";
	case PRIVD_EINVAL:
		return "invalid argument or value";
	case PRIVD_EDENIED:
		return "denied by policy";
	case PRIVD_ENOTFOUND:
		return "not found";
	case PRIVD_ECONFLICT:
		return "conflict";
	case PRIVD_ERETAINED:
		return "data retained by a legal minimum or hold";
	case PRIVD_ETOOBIG:
		return "request too large";
	case PRIVD_EUNAVAILABLE:
		return "privd unavailable";
	case PRIVD_ETIMEOUT:
		return "timed out";
	case PRIVD_EPROTO:
		return "protocol error";
	case PRIVD_EINTERNAL:
		return "internal error";
	case PRIVD_ENOMEM:
		return "out of memory";
	case PRIVD_EKEY:
		return "bad key or key file";
	case PRIVD_ETAMPERED:
		return "the audit log does not verify";
	default:
		return "unknown status";
	}
}

const char *
privd_errmsg(const privd_client *c)
{
	return c != NULL ? c->errmsg : "";
}

int
privd_reason(const privd_client *c)
{
	return c != NULL ? c->reason : 0;
}

const char *
privd_reason_name(int reason)
{
	static const char *const names[] = {"none", "other",
	    "unknown_principal", "unknown_register", "unknown_field",
	    "unknown_purpose", "no_grant", "field_not_granted", "region",
	    "restricted", "objected", "role_required"};

	if (reason < 0 || (size_t)reason >= sizeof(names) / sizeof(names[0]))
		return "other";
	return names[reason];
}
