/*
 * frontend.c - the ZeroMQ side of privd.
 *
 * DESIGN: runs in the main thread, and is the only thread that touches a
 * ZeroMQ socket. It owns one ROUTER socket (CURVE server, bound to every
 * --listen endpoint) and the ZAP handler socket. Incoming requests become
 * jobs on the work queue; finished jobs come back on the reply queue (its
 * eventfd wakes the poll) and are sent to their peer. It never blocks on a
 * peer: sends are non-blocking and a ROUTER drops what a gone or stalled
 * peer cannot take. It stops reading new requests when SERVER_MAX_INFLIGHT
 * requests or SERVER_MAX_INFLIGHT_BYTES of them are in flight, which pushes
 * back on clients through ZeroMQ's queues.
 *
 * ZAP (RFC 27): a CURVE client whose public key is not a principal of the
 * policy in force is refused during the handshake, before it can send
 * anything. An accepted connection carries the principal's name as User-Id
 * and its key as the X-Key property; workers check both against the policy
 * on every request. A monitor on the ROUTER reports handshakes that fail
 * before ZAP is asked (typically a client with the wrong server key); they
 * are logged, like refusals, at most once a second per cause.
 *
 * Signals: SIGTERM and SIGINT stop privd (after answering every request
 * taken); SIGHUP is logged and otherwise ignored, since privd has nothing to
 * re-read and logs to stderr, which it never re-opens.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "notify.h"
#include "server.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MON_ENDPOINT "inproc://privd-router-monitor"
#define MON_EVENTS                                                             \
	(ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                                 \
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
#define RECV_BURST         256 /* requests read per poll round */
#define FREELIST_MAX       1024
#define SHUTDOWN_LINGER_MS 2000

typedef struct frontend {
	server *srv;
	void *ctx;
	void *router;
	void *zap;
	void *mon; /* PAIR receiving the ROUTER's handshake failures */
	size_t inflight;
	size_t inflight_bytes; /* request frames taken and not answered */
	job *freelist;
	size_t nfree;
	bool stopping;
} frontend;

/* Enough taken for now: reading stops, and ZeroMQ's queues push back on
 * the clients, until replies go out. Both the number of requests and their
 * bytes count, so a few large requests cannot fill memory either. */
static bool
full(const frontend *fe)
{
	return fe->inflight >= SERVER_MAX_INFLIGHT ||
	       fe->inflight_bytes >= SERVER_MAX_INFLIGHT_BYTES;
}

static job *
job_get(frontend *fe)
{
	job *j;

	if ((j = fe->freelist) != NULL) {
		fe->freelist = j->next;
		fe->nfree--;
		j->next = NULL;
		return j;
	}
	return job_new();
}

static void
job_put(frontend *fe, job *j)
{
	job_clear(j);
	if (fe->nfree >= FREELIST_MAX) {
		job_free(j);
		return;
	}
	j->next = fe->freelist;
	fe->freelist = j;
	fe->nfree++;
}

/* Receive one frame into a fresh message; returns its size or -1. */
static int
recv_frame(void *sock, zmq_msg_t *m, int flags)
{
	zmq_msg_init(m);
	if (zmq_msg_recv(m, sock, flags) < 0) {
		zmq_msg_close(m);
		return -1;
	}
	return (int)zmq_msg_size(m);
}

static bool
frame_is(zmq_msg_t *m, const char *s)
{
	size_t n = strlen(s);

	return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

/*
 * Answer one ZAP request. Only the CURVE mechanism with a 32-byte key is
 * acceptable; the key must name a principal of the policy in force.
 */
static void
zap_handle(frontend *fe)
{
	zmq_msg_t f[8];
	size_t nf = 0, i;
	const pol_principal *p = NULL;
	snapshot *snap = NULL;
	uint8_t meta[1 + 5 + 4 + 41];
	char z85[41];
	zmq_msg_t extra;
	int more = 0;
	size_t morelen = sizeof(more);

	do {
		if (nf < 8) {
			if (recv_frame(fe->zap, &f[nf], 0) < 0)
				break;
			nf++;
		} else if (recv_frame(fe->zap, &extra, 0) >= 0) {
			zmq_msg_close(&extra); /* more than ZAP defines */
		}
		zmq_getsockopt(fe->zap, ZMQ_RCVMORE, &more, &morelen);
	} while (more);
	if (nf < 7)
		goto reply;
	if (frame_is(&f[0], "1.0") && frame_is(&f[5], "CURVE") &&
	    zmq_msg_size(&f[6]) == POL_KEY_BYTES) {
		snap = snapshot_acquire(&fe->srv->policy);
		p = pol_principal_by_key(snap->pol, zmq_msg_data(&f[6]));
	}
reply:
	if (nf >= 2) {
		zmq_send(fe->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(fe->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]),
		    ZMQ_SNDMORE);
	} else {
		zmq_send(fe->zap, "1.0", 3, ZMQ_SNDMORE);
		zmq_send(fe->zap, "", 0, ZMQ_SNDMORE);
	}
	if (p != NULL) {
		zmq_z85_encode(z85, zmq_msg_data(&f[6]), POL_KEY_BYTES);
		meta[0] = 5;
		memcpy(meta + 1, "X-Key", 5);
		meta[6] = meta[7] = meta[8] = 0;
		meta[9] = 40;
		memcpy(meta + 10, z85, 40);
		zmq_send(fe->zap, "200", 3, ZMQ_SNDMORE);
		zmq_send(fe->zap, "OK", 2, ZMQ_SNDMORE);
		zmq_send(fe->zap, p->name, strlen(p->name), ZMQ_SNDMORE);
		zmq_send(fe->zap, meta, 50, 0);
		log_debug("accepted a connection for principal %s", p->name);
	} else {
		static log_limit lim;

		zmq_send(fe->zap, "400", 3, ZMQ_SNDMORE);
		zmq_send(fe->zap, "unknown client key", 18, ZMQ_SNDMORE);
		zmq_send(fe->zap, "", 0, ZMQ_SNDMORE);
		zmq_send(fe->zap, "", 0, 0);
		log_limited(&lim, LOG_WARN,
		    "refused a connection: client key is not a principal of "
		    "the policy");
	}
	snapshot_release(&snap);
	for (i = 0; i < nf; i++)
		zmq_msg_close(&f[i]);
}

/*
 * Read one request from the ROUTER into a job: routing id, the request
 * frame (kept as a zmq_msg_t, no copy), and who sent it. Returns NULL when
 * nothing is waiting.
 */
static job *
recv_request(frontend *fe)
{
	zmq_msg_t id, extra;
	const char *user, *key;
	job *j;
	int more;
	size_t morelen = sizeof(more);

	if (recv_frame(fe->router, &id, ZMQ_DONTWAIT) < 0)
		return NULL;
	zmq_getsockopt(fe->router, ZMQ_RCVMORE, &more, &morelen);
	if (!more) {
		/* a ROUTER always adds the routing id to a message; without
		 * a message after it there is nothing to answer */
		zmq_msg_close(&id);
		return NULL;
	}
	if ((j = job_get(fe)) == NULL) {
		/* out of memory: drop the message, the client times out */
		zmq_msg_close(&id);
		do {
			if (recv_frame(fe->router, &extra, 0) < 0)
				break;
			zmq_msg_close(&extra);
			zmq_getsockopt(
			    fe->router, ZMQ_RCVMORE, &more, &morelen);
		} while (more);
		return NULL;
	}
	j->ridlen = zmq_msg_size(&id);
	if (j->ridlen > sizeof(j->rid))
		j->ridlen = sizeof(j->rid); /* cannot happen: ids are <= 255 */
	memcpy(j->rid, zmq_msg_data(&id), j->ridlen);
	zmq_msg_close(&id);
	zmq_msg_close(&j->frame);
	if (recv_frame(fe->router, &j->frame, 0) < 0) {
		zmq_msg_init(&j->frame);
		j->multipart = true; /* cannot happen: answer INVALID */
	}
	user = zmq_msg_gets(&j->frame, "User-Id");
	key = zmq_msg_gets(&j->frame, "X-Key");
	if (user != NULL)
		snprintf(j->principal, sizeof(j->principal), "%s", user);
	else
		j->principal[0] = '\0';
	j->has_key = key != NULL && strlen(key) == 40 &&
	             zmq_z85_decode(j->key, key) != NULL;
	zmq_getsockopt(fe->router, ZMQ_RCVMORE, &more, &morelen);
	while (more) {
		j->multipart = true;
		if (recv_frame(fe->router, &extra, 0) < 0)
			break;
		zmq_msg_close(&extra);
		zmq_getsockopt(fe->router, ZMQ_RCVMORE, &more, &morelen);
	}
	return j;
}

/*
 * Send a finished job's reply to its peer, never blocking. The reply is a
 * whole message built before anything is sent (job_pack), so the routing
 * id goes out only with a body to follow: a ROUTER message is sent whole or
 * not at all, and no frame of one reply can reach another peer. A ROUTER
 * without ROUTER_MANDATORY drops what a gone or stalled peer cannot take
 * instead of failing. Returns 0 if the reply was handed to ZeroMQ.
 */
int
frontend_send(void *router, job *j)
{
	if (!j->has_reply)
		return -1;
	if (zmq_send(router, j->rid, j->ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
		return -1;
	while (zmq_msg_send(&j->reply, router, ZMQ_DONTWAIT) < 0) {
		if (zmq_errno() == EINTR)
			continue;
		/* cannot happen (see above); should it, end the message here
		 * with an empty frame, to its own peer, so that the next reply
		 * does not continue it */
		log_err("cannot send a reply: %s", zmq_strerror(zmq_errno()));
		zmq_send(router, "", 0, ZMQ_DONTWAIT);
		return -1;
	}
	j->has_reply = false; /* ZeroMQ owns and frees (wipes) it now */
	return 0;
}

/* Send a finished job's reply and recycle the job. */
static void
send_reply(frontend *fe, job *j)
{
	frontend_send(fe->router, j);
	fe->inflight--;
	fe->inflight_bytes -= j->frame_bytes;
	job_put(fe, j);
}

/* Log the handshake failures the ROUTER's monitor reported (v1 events: a
 * frame with the 16-bit event and 32-bit value, then the endpoint). */
static void
mon_drain(frontend *fe)
{
	static log_limit lim;
	zmq_msg_t m;
	uint16_t ev;
	int more;

	zmq_msg_init(&m);
	while (zmq_msg_recv(&m, fe->mon, ZMQ_DONTWAIT) >= 0) {
		more = zmq_msg_more(&m);
		if (zmq_msg_size(&m) >= sizeof(ev)) {
			memcpy(&ev, zmq_msg_data(&m), sizeof(ev));
			if (ev & MON_EVENTS)
				log_limited(&lim, LOG_WARN,
				    "a client's CURVE handshake failed (it "
				    "may have the wrong server key, or not "
				    "speak privd's protocol)");
		}
		while (more && zmq_msg_recv(&m, fe->mon, ZMQ_DONTWAIT) >= 0)
			more = zmq_msg_more(&m);
	}
	zmq_msg_close(&m);
}

/*
 * Refuse, before anything is bound, an ipc:// endpoint whose path does not
 * fit a unix socket address (107 bytes on Linux). libzmq would say only
 * "File name too long", and the usual cause is the default endpoint,
 * ipc://DIR/privd.sock, under a deep data directory: say so, and how to fix
 * it. The wildcard path "*" (libzmq picks a short one) always fits.
 */
static int
check_endpoints(const server *srv)
{
	const size_t max = sizeof(((struct sockaddr_un *)0)->sun_path) - 1;
	const char *path;
	size_t i, len;
	int rc = 0;

	for (i = 0; i < srv->cfg.nlisten; i++) {
		if (strncmp(srv->cfg.listen[i], "ipc://", 6) != 0)
			continue;
		path = srv->cfg.listen[i] + 6;
		if ((len = strlen(path)) <= max || strcmp(path, "*") == 0)
			continue;
		log_err(
		    "cannot listen on %s: its path is %zu bytes, and a unix "
		    "socket's path holds at most %zu; give --listen a "
		    "shorter ipc:// path (such as "
		    "ipc:///run/privd/privd.sock) or, for the default "
		    "endpoint DIR/privd.sock, move the data directory to a "
		    "shorter path",
		    srv->cfg.listen[i], len, max);
		rc = -1;
	}
	return rc;
}

static int
setup_router(frontend *fe)
{
	server *srv = fe->srv;
	int zero = 0, one = 1, hwm = 100000, linger = SHUTDOWN_LINGER_MS;
	/* ZMQ_MAXMSGSIZE counts the encrypted message; a request up to the
	 * limit is read and answered, one a little over it too (TOO_LARGE) */
	int64_t maxmsg = (int64_t)(srv->cfg.max_request + SERVER_FRAME_SLACK +
	                           SERVER_CURVE_OVERHEAD);
	size_t i;

	fe->router = zmq_socket(fe->ctx, ZMQ_ROUTER);
	if (fe->router == NULL ||
	    zmq_setsockopt(fe->router, ZMQ_CURVE_SERVER, &one, sizeof(one)) ||
	    zmq_setsockopt(
	        fe->router, ZMQ_CURVE_SECRETKEY, srv->curve_secret, 32) ||
	    zmq_setsockopt(fe->router, ZMQ_ZAP_DOMAIN, "privd", 5) ||
	    zmq_setsockopt(
	        fe->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) ||
	    zmq_setsockopt(fe->router, ZMQ_SNDHWM, &hwm, sizeof(hwm)) ||
	    zmq_setsockopt(fe->router, ZMQ_RCVHWM, &hwm, sizeof(hwm)) ||
	    zmq_setsockopt(fe->router, ZMQ_LINGER, &linger, sizeof(linger))) {
		log_err("cannot set up the ROUTER socket: %s",
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	/* the monitor's queue is unbounded: a full one would block libzmq's
	 * I/O thread; the poll loop drains it on every round */
	if (zmq_socket_monitor(fe->router, MON_ENDPOINT, MON_EVENTS) != 0 ||
	    (fe->mon = zmq_socket(fe->ctx, ZMQ_PAIR)) == NULL ||
	    zmq_setsockopt(fe->mon, ZMQ_RCVHWM, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(fe->mon, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_connect(fe->mon, MON_ENDPOINT) != 0) {
		log_err("cannot monitor the ROUTER socket: %s",
		    zmq_strerror(zmq_errno()));
		return -1;
	}
	for (i = 0; i < srv->cfg.nlisten; i++) {
		if (zmq_bind(fe->router, srv->cfg.listen[i]) != 0) {
			log_err("cannot listen on %s: %s", srv->cfg.listen[i],
			    zmq_strerror(zmq_errno()));
			return -1;
		}
		log_info("listening on %s", srv->cfg.listen[i]);
	}
	return 0;
}

int
frontend_run(server *srv, int sigfd)
{
	frontend fe = {.srv = srv};
	zmq_pollitem_t items[5];
	struct signalfd_siginfo si;
	job *batch, *last, *j, *next;
	int rc = 0, n, burst;

	if (check_endpoints(srv) != 0)
		return -1;
	fe.ctx = zmq_ctx_new();
	/* ZAP must be bound before the ROUTER binds, or early handshakes
	 * would go unauthenticated. */
	fe.zap = zmq_socket(fe.ctx, ZMQ_REP);
	if (fe.zap == NULL || zmq_bind(fe.zap, ZAP_ENDPOINT) != 0) {
		log_err("cannot bind the ZAP handler: %s",
		    zmq_strerror(zmq_errno()));
		rc = -1;
		goto out;
	}
	if (setup_router(&fe) != 0) {
		rc = -1;
		goto out;
	}
	log_info("privd %s ready: %d workers, max request %zu bytes",
	    PRIVD_VERSION, srv->cfg.workers, srv->cfg.max_request);
	/* every endpoint listens: a unit ordered after privd may connect */
	notify_ready();
	for (;;) {
		memset(items, 0, sizeof(items));
		items[0].socket = fe.zap;
		items[0].events = ZMQ_POLLIN;
		items[1].fd = srv->replies.efd;
		items[1].events = ZMQ_POLLIN;
		items[2].fd = sigfd;
		items[2].events = ZMQ_POLLIN;
		items[3].socket = fe.router;
		items[3].events = !fe.stopping && !full(&fe) ? ZMQ_POLLIN : 0;
		items[4].socket = fe.mon;
		items[4].events = ZMQ_POLLIN;
		/* the watchdog (notify.h) is fed from this loop: a frontend
		 * that stops turning stops it */
		n = zmq_poll(items, 5, notify_watchdog());
		if (n < 0) {
			if (zmq_errno() == EINTR)
				continue;
			log_err("poll: %s", zmq_strerror(zmq_errno()));
			rc = -1;
			break;
		}
		if (items[2].revents & ZMQ_POLLIN &&
		    read(sigfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGHUP)
				log_info("SIGHUP: nothing to re-read (privd "
				         "logs to stderr); ignored");
			else if (!fe.stopping) {
				log_info("signal %u: stopping, %zu requests "
				         "in flight",
				    si.ssi_signo, fe.inflight);
				fe.stopping = true;
				notify_stopping();
			}
		}
		if (items[4].revents & ZMQ_POLLIN)
			mon_drain(&fe);
		if (items[0].revents & ZMQ_POLLIN)
			zap_handle(&fe);
		if (items[1].revents & ZMQ_POLLIN) {
			for (j = jobq_take_nowait(&srv->replies); j != NULL;
			     j = next) {
				next = j->next;
				send_reply(&fe, j);
			}
		}
		if (items[3].revents & ZMQ_POLLIN) {
			/* Hand a burst of requests to the workers with one
			 * queue operation. */
			batch = last = NULL;
			for (burst = 0; burst < RECV_BURST && !full(&fe);
			     burst++) {
				if ((j = recv_request(&fe)) == NULL)
					break;
				fe.inflight++;
				j->frame_bytes = zmq_msg_size(&j->frame);
				j->grace_us = srv->cfg.deadline_grace_ms * 1000;
				fe.inflight_bytes += j->frame_bytes;
				if (last != NULL)
					last->next = j;
				else
					batch = j;
				last = j;
			}
			jobq_push(&srv->work, batch);
		}
		if (fe.stopping && fe.inflight == 0)
			break;
	}
out:
	if (fe.router != NULL)
		zmq_socket_monitor(fe.router, NULL, 0);
	if (fe.mon != NULL)
		zmq_close(fe.mon);
	if (fe.router != NULL)
		zmq_close(fe.router); /* lingers to flush the last replies */
	if (fe.zap != NULL)
		zmq_close(fe.zap);
	zmq_ctx_term(fe.ctx);
	while ((j = fe.freelist) != NULL) {
		fe.freelist = j->next;
		job_free(j);
	}
	return rc;
}
