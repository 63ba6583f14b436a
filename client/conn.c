/*
 * conn.c - libprivd's connection: the handle's socket, deadlines and the
 * call loop (see <privd/client.h>; the handle's life and settings are
 * handle.c's).
 *
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
 * Handshake diagnostics. A DEALER whose CURVE handshake cannot complete is
 * only "never writable", whatever the cause; a socket monitor tells the
 * causes apart so that a call fails fast and says which:
 * - privd's ZAP handler refuses an unknown client key: the monitor reports
 *   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, and the call fails at once with
 *   PRIVD_EDENIED (privd has said so; nothing transient about it);
 * - a wrong server key: the connection is accepted, then privd cannot open
 *   our HELLO and drops it; the monitor reports
 *   ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL (a peer that is not CURVE at all:
 *   _PROTOCOL), and libzmq reconnects every 100-200 ms. One such failure
 *   can be transient (privd stopping in the middle of a handshake), so the
 *   call fails with PRIVD_EHANDSHAKE once HS_FAILS_MAX handshakes in a row
 *   have failed, with none succeeding between (about 0.3-0.5 s). A deadline
 *   that comes first gives PRIVD_EUNAVAILABLE, saying that a handshake
 *   failed;
 * - a stopped privd: no connection at all, so no handshake event; the call
 *   waits for privd until its deadline, then PRIVD_EUNAVAILABLE.
 * The monitor is attached from the moment a socket is opened until its
 * first request has been sent: that window sees every handshake of the
 * socket, and the monitor queue cannot grow while the handle sits idle
 * afterwards. (Before a socket's first request it can: a few events per
 * failed connection attempt, drained by the next call.)
 *
 * Several endpoints (endpoints.c). A call goes to one node at a time: the
 * loop in cl_call_keep() makes an attempt (call_once) on the node in use
 * and asks cl_ep_failover() whether to try the next one. For such a
 * handle an attempt also gives up early when its node is plainly gone:
 * a connection attempt refused before any connection was made (the
 * monitor's ZMQ_EVENT_CONNECT_RETRIED), or, after sending, a connection
 * lost (the socket stops being writable: with ZMQ_IMMEDIATE it has no
 * peer any more) - the answer cannot come then. A handle with one
 * endpoint waits for its privd as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "internal.h"
#include "serverkey.h"

/* Reconnect back-off of a handle's socket, in milliseconds. */
#define RECONNECT_IVL     100
#define RECONNECT_IVL_MAX 1000

/* The handshake outcomes the monitor reports, and whether a connection
 * was made or refused; nothing else, so that the monitor queue holds at
 * most a few events per connection attempt. */
#define MON_EVENTS                                                             \
	(ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |     \
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                             \
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_CONNECTED |        \
	    ZMQ_EVENT_CONNECT_RETRIED)

/* With several endpoints, how often a wait for an answer looks whether
 * the connection is still there, in milliseconds. */
#define LOST_POLL_MS 50

/* Failed handshakes in a row that make a call give up (see above). */
#define HS_FAILS_MAX 3

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
	c->hs_failed = 0;
	c->reached = 0;
	c->refused = 0;
}

void
cl_sock_close(privd_client *c)
{
	sock_close(c);
}

static int sock_open(privd_client *c);

int
cl_sock_open(privd_client *c)
{
	return sock_open(c);
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
 * A new DEALER with the handle's keys and options, not connected: the
 * handle's socket (sock_open) and endpoints.c's probe, which may become
 * the handle's socket, are made alike. A status; errno tells more.
 */
static int
dealer_new(privd_client *c, void **out)
{
	int zero = 0, one = 1, ivl = RECONNECT_IVL, ivlmax = RECONNECT_IVL_MAX;
	int64_t maxmsg = REPLY_MAX;
	void *s;
	int e;

	*out = s = zmq_socket(c->ctx, ZMQ_DEALER);
	if (s == NULL)
		return zmq_status(errno);
	if (zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(s, ZMQ_IMMEDIATE, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) != 0 ||
	    zmq_setsockopt(s, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) != 0 ||
	    zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &ivlmax, sizeof(ivlmax)) !=
	        0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, c->server_key, KEY_BYTES) !=
	        0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, c->public_key, KEY_BYTES) !=
	        0 ||
	    zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, c->secret_key, KEY_BYTES) !=
	        0) {
		e = errno;
		zmq_close(s);
		*out = NULL;
		errno = e;
		return zmq_status(e);
	}
	return PRIVD_OK;
}

int
cl_dealer_new(privd_client *c, void **out)
{
	return dealer_new(c, out);
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
	int zero = 0;
	int e;

	if (dealer_new(c, &c->sock) != PRIVD_OK)
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
	c->hs_failed = 0;
	c->reached = 0;
	c->refused = 0;

	if (zmq_connect(c->sock, c->endpoint) != 0)
		goto err;
	return PRIVD_OK;

err:
	e = errno;
	sock_close(c);
	return cl_fail(c, zmq_status(e), "cannot open a socket to privd: %s",
	    zmq_strerror(e));
}

/*
 * Read every queued monitor event and remember whether the last handshake
 * outcome was an authentication failure, and how many handshakes in a row
 * failed otherwise. Events are two frames (v1 format): 16-bit event and
 * 32-bit value, then the endpoint.
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
			if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH) {
				c->auth_failed = 1;
			} else if (ev == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
				c->auth_failed = 0;
				c->hs_failed = 0;
			} else if (ev == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL ||
			           ev == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
				c->auth_failed = 0;
				c->hs_failed++;
			} else if (ev == ZMQ_EVENT_CONNECTED) {
				c->reached = 1;
			} else if (ev == ZMQ_EVENT_CONNECT_RETRIED &&
			           !c->reached) {
				/* (after a connection: a reconnect) */
				c->refused++;
			}
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
	int64_t left = deadline - cl_now_ms();

	return left > 0 ? (long)left : 0;
}

/*
 * Wait until the socket has a connection with a completed handshake, or the
 * monitor reports that privd refused our key or that handshakes keep
 * failing (see the top of this file), or the deadline passes.
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
			return cl_fail(c, PRIVD_EINTERNAL, "zmq_poll: %s",
			    zmq_strerror(errno));
		}
		if (it[0].revents & ZMQ_POLLOUT) {
			cl_server_key_ok(c);
			return PRIVD_OK;
		}
		if (n == 2 && (it[1].revents & ZMQ_POLLIN)) {
			mon_drain(c);
			if (c->auth_failed) {
				c->reason =
				    PRIVD__V1__DENY_REASON__DENY_UNKNOWN_PRINCIPAL;
				return cl_fail(c, PRIVD_EDENIED,
				    "privd refused this client key");
			}
			/* privd's other key, on a fresh socket (serverkey.c) */
			if (c->hs_failed > 0 &&
			    (rc = cl_server_key_switch(c)) != 0) {
				if (rc < 0)
					return PRIVD_EHANDSHAKE;
				sock_close(c);
				if ((rc = sock_open(c)) != PRIVD_OK)
					return rc;
				continue;
			}
			if (c->hs_failed >= HS_FAILS_MAX)
				return cl_fail(c, PRIVD_EHANDSHAKE,
				    "connected to %s but the CURVE handshake "
				    "failed: the server key is probably wrong",
				    c->endpoint);
			if (c->refused > 0 && c->nnodes > 1)
				return cl_fail(c, PRIVD_EUNAVAILABLE,
				    "privd is not reachable at %s (connection "
				    "refused)",
				    c->endpoint);
		}
		if (left == 0 && c->hs_failed > 0)
			return cl_fail(c, PRIVD_EUNAVAILABLE,
			    "privd is not reachable at %s (a CURVE handshake "
			    "failed: is the server key right?)",
			    c->endpoint);
		if (left == 0)
			return cl_fail(c, PRIVD_EUNAVAILABLE,
			    "privd is not reachable at %s", c->endpoint);
	}
}

/*
 * Wait for the reply to request id. Replies with another id are late answers
 * to calls that timed out earlier; they are dropped. On success *out is the
 * unpacked response (free with cl_response_free()). Every frame is wiped
 * before it is closed, the ones dropped too: a late answer to a get holds
 * values.
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
		if (c->nnodes > 1 && left > LOST_POLL_MS)
			left = LOST_POLL_MS;
		rc = zmq_poll(&it, 1, left);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			return cl_fail(c, PRIVD_EINTERNAL, "zmq_poll: %s",
			    zmq_strerror(errno));
		}
		if (rc == 0) {
			if (remaining(deadline) == 0)
				return cl_fail(c, PRIVD_ETIMEOUT,
				    "no answer from privd within %d ms",
				    c->timeout_ms);
			if (c->nnodes > 1 && !sock_writable(c))
				return cl_fail(c, PRIVD_ETIMEOUT,
				    "privd at %s dropped the connection before "
				    "answering",
				    c->endpoint);
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
			while (more) {
				cl_msg_wipe_close(&m);
				zmq_msg_init(&m);
				if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0)
					break;
				more = zmq_msg_more(&m);
			}
			cl_msg_wipe_close(&m);
			continue;
		}
		r = cl_response_unpack(zmq_msg_size(&m), zmq_msg_data(&m));
		cl_msg_wipe_close(&m);
		if (r == NULL)
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer could not be decoded");
		if (r->request_id != id) {
			cl_response_free(r);
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
	case PRIVD__V1__STATUS__EXPIRED:
		return PRIVD_EEXPIRED;
	default:
		return PRIVD_EPROTO;
	}
}

/*
 * One attempt at carrying req (its id set) to the node in use: pack it
 * into a buffer that becomes the ZeroMQ message (no copy; wiped when
 * libzmq frees it), send it once the connection is ready, and wait for
 * its reply until deadline. *sent says whether the request may have
 * reached privd. On PRIVD_OK *r is the reply, whatever its status. A
 * failure has closed the socket and set the handle's message.
 */
static int
call_once(privd_client *c, Privd__V1__Request *req, int64_t deadline, int *sent,
    Privd__V1__Response **r)
{
	zmq_msg_t m;
	uint8_t *buf;
	size_t len;
	int rc;

	*sent = 0;
	/* never carried out after the attempt's end (internal.h) */
	req->deadline_ms = cl_wall_deadline_ms(deadline);
	len = privd__v1__request__get_packed_size(req);
	/*
	 * A socket without its monitor that cannot send right now lost its
	 * connection since its first request: start over with a fresh,
	 * monitored socket so a refused key is reported, not waited out.
	 */
	if (c->sock != NULL && c->mon == NULL && !sock_writable(c))
		sock_close(c);
	if (c->sock == NULL && (rc = sock_open(c)) != PRIVD_OK)
		return rc;

	/* our buffer, so that it is wiped when libzmq is done with it */
	if ((buf = malloc(len)) == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	if (privd__v1__request__pack(req, buf) != len) {
		cl_req_free(buf, (void *)(uintptr_t)len);
		return cl_fail(c, PRIVD_EINTERNAL, "request packing failed");
	}
	if (zmq_msg_init_data(
	        &m, buf, len, cl_req_free, (void *)(uintptr_t)len) != 0) {
		cl_req_free(buf, (void *)(uintptr_t)len);
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
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
			rc = cl_fail(c, PRIVD_EINTERNAL, "zmq_msg_send: %s",
			    zmq_strerror(errno));
			zmq_msg_close(&m);
			sock_close(c);
			return rc;
		}
	}
	zmq_msg_close(&m);
	mon_stop(c);
	*sent = 1;

	rc = wait_reply(c, req->request_id, deadline, r);
	if (rc != PRIVD_OK) {
		/* the request may still be in flight: drop this socket */
		sock_close(c);
		return rc;
	}
	/* UNAVAILABLE: privd stopping or overloaded (no effect), or on a
	 * PostgreSQL store a commit the database did not confirm (it may
	 * have landed): with several endpoints another node may take a
	 * read, and a change is in doubt (*sent 2: answered; endpoints.c) */
	if (c->nnodes > 1 && (*r)->status == PRIVD__V1__STATUS__UNAVAILABLE) {
		cl_set_server_message(c, (*r)->message);
		cl_response_free(*r);
		*r = NULL;
		sock_close(c);
		*sent = 2;
		return PRIVD_EUNAVAILABLE;
	}
	return PRIVD_OK;
}

/*
 * Carry one request: give it an id and make attempts on the handle's
 * nodes (endpoints.c says which and how many) until one answers or the
 * call's deadline passes. payload is the response payload an OK answer
 * must carry. On PRIVD_OK *out is the response, owned by the caller. Any
 * other status has set the handle's message (and reason for
 * PRIVD_EDENIED). keep is a failure status (or PRIVD_OK for none) whose
 * answer carries a payload too, as a RETAINED delete says what it kept:
 * an answer with that status and payload is returned in *out as well.
 */
int
cl_call_keep(privd_client *c, Privd__V1__Request *req,
    Privd__V1__Response__PayloadCase payload, int keep,
    Privd__V1__Response **out)
{
	Privd__V1__Response *r = NULL;
	int64_t deadline;
	size_t len;
	int rc, sent;

	*out = NULL;
	if (!cl_same_process(c))
		return cl_fail(c, PRIVD_EINVAL, "%s", cl_other_process);
	/* the id and the deadline are part of the packed size (varints):
	 * set them first (each attempt sets its own deadline, as long) */
	req->request_id = c->next_id++;
	if (c->next_id == 0)
		c->next_id = 1;
	deadline = cl_now_ms() + c->timeout_ms;
	req->deadline_ms = cl_wall_deadline_ms(deadline);
	len = privd__v1__request__get_packed_size(req);
	if (len > c->max_request)
		return cl_fail(c, PRIVD_ETOOBIG,
		    "request of %zu bytes exceeds the limit of %zu bytes", len,
		    c->max_request);

	cl_ep_begin(c, req);
	do
		rc = call_once(c, req, cl_ep_deadline(c, deadline), &sent, &r);
	while (cl_ep_failover(c, req, sent, &rc));
	if (rc != PRIVD_OK)
		return rc;

	rc = map_status(r->status);
	if (rc != PRIVD_OK) {
		if (rc == PRIVD_EPROTO)
			cl_fail(c, rc,
			    "privd's answer has an unknown status (%d)",
			    (int)r->status);
		else
			cl_set_server_message(c, r->message);
		if (rc == PRIVD_EDENIED)
			c->reason = (int)r->reason;
		if (rc == keep && keep != PRIVD_OK &&
		    r->payload_case == payload)
			*out = r;
		else
			cl_response_free(r);
		return rc;
	}
	if (r->payload_case != payload) {
		cl_response_free(r);
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer does not match the request");
	}
	*out = r;
	return PRIVD_OK;
}

int
cl_call(privd_client *c, Privd__V1__Request *req,
    Privd__V1__Response__PayloadCase payload, Privd__V1__Response **out)
{
	return cl_call_keep(c, req, payload, PRIVD_OK, out);
}
