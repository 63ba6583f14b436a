/*
 * load.c - the load generator: C clients speaking privd's wire protocol
 * directly (a ZeroMQ DEALER with CURVE per client, one frame per request,
 * no delimiter frame: privd's ROUTER takes the routing id and one frame),
 * each keeping `inflight` requests in flight and matching replies by
 * request_id.
 *
 * Every reply is checked: status OK, the payload of its operation, and for
 * a GET exactly the fields asked for (those the bench stores, sorted by
 * name) with the values the bench wrote. The first error stops every
 * client from sending more; the replies still in flight are checked and
 * counted, then the run ends and its result names the first error.
 *
 * DESIGN: one thread per client, each with its own ZeroMQ context (as
 * separate client processes would have) and its own histogram; they share
 * only the run's atomic counters and the first error (under a mutex). The
 * main thread waits, calls the spec's hooks, and merges the histograms.
 * A request id is (the client's sequence number << 8) | its slot, so a
 * reply finds its slot without a search.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "bench.h"
#include "privd.pb-c.h"

#define REPLY_TIMEOUT_NS  (30ull * 1000000000u) /* no reply at all: fail */
#define WARMUP_TIMEOUT_MS 15000
#define POLL_MS           100

#define ST_OK PRIVD__V1__STATUS__OK

enum { OPK_GET, OPK_PUT, OPK_FILL, OPK_AUDITQ, OPK_PING, OPK_ECHO, OPK_RELEND };

typedef struct shared {
	const load_spec *s;
	pthread_barrier_t ready, go;
	_Atomic uint64_t next; /* counted runs: requests claimed */
	_Atomic uint64_t done; /* replies checked, every client */
	atomic_bool failed;
	atomic_bool abort_now; /* the server is gone: stop waiting at once */
	atomic_int finished;
	uint64_t deadline_ns; /* written before the 'go' barrier */
	pthread_mutex_t errlock;
	char first_error[256];
} shared;

typedef struct slot {
	uint64_t id; /* request id in flight */
	uint64_t t_ns;
	uint64_t subject;
	uint8_t op;
	uint8_t variant;
} slot;

typedef struct client {
	shared *sh;
	int index;
	pthread_t thr;
	void *ctx, *sock;
	slot slots[BENCH_MAX_INFLIGHT];
	int freel[BENCH_MAX_INFLIGHT];
	int nfree;
	uint64_t seq, rng;
	hist h;
	uint64_t done, errors;
	uint64_t last_reply_ns, end_ns;
	uint8_t *buf;
	size_t cap;
	/* LOAD_GET/MIXED: the stored fields asked for, in reply order */
	int expect[FLD_N];
	size_t nexpect;
} client;

static uint64_t
rnd(client *c)
{
	/* xorshift64* */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 2685821657736338717ull;
}

/* Count an error; the first one of the run is kept for the report. */
static void fail(client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
fail(client *c, const char *fmt, ...)
{
	shared *sh = c->sh;
	va_list ap;

	c->errors++;
	atomic_store(&sh->failed, true);
	pthread_mutex_lock(&sh->errlock);
	if (sh->first_error[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(sh->first_error, sizeof(sh->first_error), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&sh->errlock);
}

static const char *
status_name(int st)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &privd__v1__status__descriptor, st);

	return v != NULL ? v->name : "?";
}

static const char *
reason_name(int r)
{
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &privd__v1__deny_reason__descriptor, r);

	return v != NULL ? v->name : "?";
}

static int
ensure_buf(client *c, size_t len)
{
	uint8_t *p;

	if (len <= c->cap)
		return 0;
	if ((p = realloc(c->buf, len)) == NULL)
		return -1;
	c->buf = p;
	c->cap = len;
	return 0;
}

/*
 * Pack the request of slot si into c->buf; returns its length, 0 on
 * failure. Strings live on this stack frame only until packed.
 */
static size_t
pack_request(client *c, const slot *sl)
{
	const load_spec *s = c->sh->s;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__GetRequest get = PRIVD__V1__GET_REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	Privd__V1__AuditQueryRequest aq = PRIVD__V1__AUDIT_QUERY_REQUEST__INIT;
	Privd__V1__PingRequest ping = PRIVD__V1__PING_REQUEST__INIT;
	Privd__V1__RelationshipEndRequest re =
	    PRIVD__V1__RELATIONSHIP_END_REQUEST__INIT;
	Privd__V1__Field fv[FLD_N], *fp[FLD_N];
	char *reg = (char *)(s->reg != NULL ? s->reg : BENCH_REGISTER);
	char vals[FLD_N][BENCH_VALUE_MAX], subj[32];
	static const int put_fields[] = {FLD_PHONE, FLD_ORG, FLD_POSITION};
	size_t n = 0, len;

	req.request_id = sl->id;
	req.purpose = (char *)(s->purpose != NULL ? s->purpose : BENCH_PURPOSE);
	bench_subject(sl->subject, subj, sizeof(subj));
	switch (sl->op) {
	case OPK_GET:
		get.register_ = reg;
		get.subject = subj;
		get.fields = (char **)s->get_fields;
		get.n_fields = s->nget;
		req.op_case = PRIVD__V1__REQUEST__OP_GET;
		req.get = &get;
		break;
	case OPK_PUT:
	case OPK_FILL:
		for (size_t i = 0; i < (sl->op == OPK_FILL ? FLD_N : 3); i++) {
			int f = sl->op == OPK_FILL ? (int)i : put_fields[i];
			size_t vl = bench_value(f, sl->subject, sl->variant,
			    vals[n], sizeof(vals[n]));

			privd__v1__field__init(&fv[n]);
			fv[n].name = (char *)bench_field_names[f];
			fv[n].value.data = (uint8_t *)vals[n];
			fv[n].value.len = vl;
			fp[n] = &fv[n];
			n++;
		}
		put.register_ = reg;
		put.subject = subj;
		put.fields = fp;
		put.n_fields = n;
		req.op_case = PRIVD__V1__REQUEST__OP_PUT;
		req.put = &put;
		break;
	case OPK_AUDITQ:
		aq.subject = subj;
		req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_QUERY;
		req.audit_query = &aq;
		break;
	case OPK_RELEND:
		re.register_ = reg;
		re.subject = subj;
		re.now = true;
		req.op_case = PRIVD__V1__REQUEST__OP_RELATIONSHIP_END;
		req.relationship_end = &re;
		break;
	default:
		req.op_case = PRIVD__V1__REQUEST__OP_PING;
		req.ping = &ping;
		break;
	}
	len = privd__v1__request__get_packed_size(&req);
	if (ensure_buf(c, len) != 0)
		return 0;
	return privd__v1__request__pack(&req, c->buf);
}

static int
send_slot(client *c, int si)
{
	slot *sl = &c->slots[si];
	const load_spec *s = c->sh->s;
	size_t len;

	sl->id = (++c->seq << 8) | (uint64_t)si;
	if (sl->op == OPK_ECHO) {
		if (ensure_buf(c, s->echo_req) != 0)
			return -1;
		memset(c->buf, 0, s->echo_req);
		memcpy(c->buf, &sl->id, sizeof(sl->id));
		len = s->echo_req;
	} else if ((len = pack_request(c, sl)) == 0) {
		return -1;
	}
	sl->t_ns = bench_now_ns();
	while (zmq_send(c->sock, c->buf, len, 0) < 0) {
		if (zmq_errno() != EINTR || bench_interrupted)
			return -1;
	}
	return 0;
}

/* Check a GET reply against what the bench stored for the subject. */
static int
check_get(client *c, const slot *sl, const Privd__V1__GetResponse *g)
{
	char want[BENCH_VALUE_MAX];
	size_t wl;

	if (g->n_fields != c->nexpect) {
		fail(c, "GET: %zu fields in the reply, %zu expected",
		    g->n_fields, c->nexpect);
		return -1;
	}
	for (size_t i = 0; i < c->nexpect; i++) {
		int f = c->expect[i];
		const Privd__V1__Field *fld = g->fields[i];
		bool ok = false;

		if (strcmp(fld->name, bench_field_names[f]) != 0) {
			fail(c,
			    "GET: field %s in the reply where %s was "
			    "expected",
			    fld->name, bench_field_names[f]);
			return -1;
		}
		for (int v = 0; v <= (bench_field_varies(f) ? 1 : 0); v++) {
			wl = bench_value(f, sl->subject, v, want, sizeof(want));
			if (wl == fld->value.len &&
			    memcmp(want, fld->value.data, wl) == 0)
				ok = true;
		}
		if (!ok) {
			fail(c,
			    "GET: field %s has a value the bench did not "
			    "write",
			    fld->name);
			return -1;
		}
	}
	return 0;
}

/* Check one reply; record its latency. Returns -1 if it ends the run
 * (a reply the client cannot match to a request). */
static int
on_reply(client *c, const uint8_t *data, size_t len, uint64_t now)
{
	const load_spec *s = c->sh->s;
	Privd__V1__Response *r = NULL;
	uint64_t id;
	slot *sl;
	int si, rc = 0;

	if (s->kind == LOAD_ECHO) {
		if (len < sizeof(id)) {
			fail(c, "echo: a reply of %zu bytes", len);
			return -1;
		}
		memcpy(&id, data, sizeof(id));
	} else {
		if ((r = privd__v1__response__unpack(NULL, len, data)) ==
		    NULL) {
			fail(c, "protocol: a reply is not a Response");
			return -1;
		}
		id = r->request_id;
	}
	si = (int)(id & 0xff);
	if (si >= s->inflight || c->slots[si].id != id || id == 0) {
		fail(c, "protocol: a reply to no request in flight");
		rc = -1;
		goto out;
	}
	sl = &c->slots[si];
	sl->id = 0;
	c->freel[c->nfree++] = si;
	if (r != NULL && r->status != ST_OK) {
		fail(c, "status %s%s%s: %s", status_name(r->status),
		    r->reason ? " reason " : "",
		    r->reason ? reason_name(r->reason) : "", r->message);
		goto out;
	}
	switch (sl->op) {
	case OPK_ECHO:
		if (len != s->echo_reply)
			fail(c, "echo: a reply of %zu bytes, %zu expected", len,
			    s->echo_reply);
		break;
	case OPK_GET:
		if (r->payload_case != PRIVD__V1__RESPONSE__PAYLOAD_GET)
			fail(c, "GET: the reply has no GetResponse");
		else if (check_get(c, sl, r->get) != 0)
			goto out;
		break;
	case OPK_PUT:
	case OPK_FILL:
		if (r->payload_case != PRIVD__V1__RESPONSE__PAYLOAD_PUT ||
		    r->put->written != (sl->op == OPK_FILL ? FLD_N : 3))
			fail(c, "PUT: the reply does not say every field was "
			        "written");
		break;
	case OPK_RELEND:
		/* every field of a filled subject counts from the end */
		if (r->payload_case !=
		        PRIVD__V1__RESPONSE__PAYLOAD_RELATIONSHIP_END ||
		    r->relationship_end->at_us == 0 ||
		    r->relationship_end->fields != FLD_N)
			fail(c, "RelationshipEnd: the reply does not say the "
			        "end was recorded for every field");
		break;
	case OPK_AUDITQ:
		if (r->payload_case !=
		    PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_QUERY) {
			fail(c, "AuditQuery: the reply has no "
			        "AuditQueryResponse");
			break;
		}
		for (size_t i = 0; i < r->audit_query->n_records; i++)
			if (r->audit_query->records[i]->damaged) {
				fail(c, "AuditQuery: a damaged record");
				goto out;
			}
		/* every subject was written: its events exist, so a page
		 * holds some or says where to go on */
		if (r->audit_query->n_records == 0 &&
		    r->audit_query->next_cursor.len == 0)
			fail(c, "AuditQuery: no event of a subject the bench "
			        "wrote");
		break;
	default:
		if (r->payload_case != PRIVD__V1__RESPONSE__PAYLOAD_PING)
			fail(c, "ping: the reply has no PingResponse");
		break;
	}
	hist_add(&c->h, now - sl->t_ns);
	c->done++;
	atomic_fetch_add_explicit(&c->sh->done, 1, memory_order_relaxed);
out:
	if (r != NULL)
		privd__v1__response__free_unpacked(r, NULL);
	return rc;
}

/* Receive every waiting reply. Returns -1 when the run must end. */
static int
drain(client *c)
{
	zmq_msg_t m;
	uint64_t now;
	int rc;

	for (;;) {
		zmq_msg_init(&m);
		rc = zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT);
		if (rc < 0) {
			int e = zmq_errno();
			zmq_msg_close(&m);
			if (e == EAGAIN)
				return 0;
			if (e == EINTR && !bench_interrupted)
				continue;
			fail(c, "zmq_msg_recv: %s", zmq_strerror(e));
			return -1;
		}
		now = bench_now_ns();
		c->last_reply_ns = now;
		if (zmq_msg_more(&m)) {
			zmq_msg_close(&m);
			fail(c, "protocol: a reply of more than one frame");
			return -1;
		}
		rc = on_reply(c, zmq_msg_data(&m), zmq_msg_size(&m), now);
		zmq_msg_close(&m);
		if (rc != 0)
			return -1;
	}
}

/* The next request to send, or false when this client is done. */
static bool
next_op(client *c, slot *sl)
{
	shared *sh = c->sh;
	const load_spec *s = sh->s;
	uint64_t claim = 0;

	if (atomic_load(&sh->failed) || bench_interrupted)
		return false;
	if (s->seconds > 0) {
		/* a stop ends a client's run once it has a reply */
		if (bench_now_ns() >= sh->deadline_ns ||
		    (s->stop != NULL && c->done > 0 && atomic_load(s->stop)))
			return false;
	} else if ((claim = atomic_fetch_add(&sh->next, 1)) >= s->count) {
		return false;
	}
	sl->subject = s->nsubjects > 0 ? rnd(c) % s->nsubjects : 0;
	sl->variant = (uint8_t)(c->seq & 1);
	switch (s->kind) {
	case LOAD_GET:
		sl->op = OPK_GET;
		break;
	case LOAD_PUT:
		sl->op = OPK_PUT;
		break;
	case LOAD_MIXED:
		sl->op = rnd(c) % 10 == 0 ? OPK_PUT : OPK_GET;
		break;
	case LOAD_FILL:
	case LOAD_RELEND:
		sl->op = s->kind == LOAD_FILL ? OPK_FILL : OPK_RELEND;
		sl->subject = s->first + claim;
		sl->variant = 0;
		break;
	case LOAD_AUDITQ:
		sl->op = OPK_AUDITQ;
		break;
	case LOAD_ECHO:
		sl->op = OPK_ECHO;
		break;
	}
	return true;
}

static int
client_open(client *c)
{
	const load_spec *s = c->sh->s;
	int zero = 0, sndtimeo = 5000;

	if ((c->ctx = zmq_ctx_new()) == NULL ||
	    (c->sock = zmq_socket(c->ctx, ZMQ_DEALER)) == NULL)
		return -1;
	if (zmq_setsockopt(c->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(
	        c->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo)) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, s->server_key,
	        strlen(s->server_key) + 1) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, s->pub,
	        strlen(s->pub) + 1) != 0 ||
	    zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, s->sec,
	        strlen(s->sec) + 1) != 0 ||
	    zmq_connect(c->sock, s->endpoint2 != NULL && c->index % 2 == 1
	                             ? s->endpoint2
	                             : s->endpoint) != 0)
		return -1;
	return 0;
}

/* One request (a ping, or an echo frame) and its reply, before the timed
 * part: the CURVE handshake is done by then. */
static int
warm_up(client *c)
{
	zmq_pollitem_t it = {.socket = c->sock, .events = ZMQ_POLLIN};
	uint64_t deadline = bench_now_ns() + WARMUP_TIMEOUT_MS * 1000000ull;
	int si = c->freel[--c->nfree];

	c->slots[si].op = c->sh->s->kind == LOAD_ECHO ? OPK_ECHO : OPK_PING;
	if (send_slot(c, si) != 0) {
		fail(c, "cannot send: %s", zmq_strerror(zmq_errno()));
		return -1;
	}
	while (c->nfree < c->sh->s->inflight) {
		uint64_t now = bench_now_ns();
		if (now >= deadline || bench_interrupted) {
			fail(c,
			    "timeout: no reply to the first request "
			    "within %d ms",
			    WARMUP_TIMEOUT_MS);
			return -1;
		}
		if (zmq_poll(&it, 1, POLL_MS) > 0 && drain(c) != 0)
			return -1;
	}
	/* the warm-up is not part of the figures */
	hist_reset(&c->h);
	c->done = 0;
	atomic_store(&c->sh->done, 0);
	return 0;
}

static void *
client_main(void *arg)
{
	client *c = arg;
	shared *sh = c->sh;
	const load_spec *s = sh->s;
	zmq_pollitem_t it;
	bool issuing = true;
	int ok;

	for (int i = 0; i < s->inflight; i++)
		c->freel[c->nfree++] = s->inflight - 1 - i;
	ok = client_open(c) == 0;
	if (!ok)
		fail(c, "cannot connect: %s", zmq_strerror(zmq_errno()));
	if (ok && warm_up(c) != 0)
		ok = 0;
	pthread_barrier_wait(&sh->ready);
	pthread_barrier_wait(&sh->go);
	c->last_reply_ns = bench_now_ns();
	it.socket = c->sock;
	it.events = ZMQ_POLLIN;
	while (ok) {
		slot next;

		while (issuing && c->nfree > 0) {
			int si;

			if (!next_op(c, &next)) {
				issuing = false;
				break;
			}
			si = c->freel[--c->nfree];
			c->slots[si] = next;
			if (send_slot(c, si) != 0) {
				c->slots[si].id = 0;
				c->freel[c->nfree++] = si;
				fail(c, "cannot send: %s",
				    zmq_strerror(zmq_errno()));
				issuing = false;
			}
		}
		if (c->nfree == s->inflight && !issuing)
			break;
		if (c->nfree == s->inflight)
			continue;
		if (bench_interrupted || atomic_load(&sh->abort_now))
			break;
		if (zmq_poll(&it, 1, POLL_MS) > 0) {
			if (drain(c) != 0)
				break;
		} else if (bench_now_ns() - c->last_reply_ns >
		           REPLY_TIMEOUT_NS) {
			fail(c, "timeout: no reply for %llu s",
			    (unsigned long long)(REPLY_TIMEOUT_NS /
			                         1000000000u));
			break;
		}
		if (atomic_load(&sh->failed))
			issuing = false;
	}
	c->end_ns = bench_now_ns();
	if (c->sock != NULL)
		zmq_close(c->sock);
	if (c->ctx != NULL)
		zmq_ctx_term(c->ctx);
	c->sock = c->ctx = NULL;
	atomic_fetch_add(&sh->finished, 1);
	return NULL;
}

/* The stored fields a GET asks for, in the order of the reply (privd
 * sorts by name); fields the bench does not store are not in it. */
static size_t
expected_fields(const load_spec *s, int *out)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nget; i++) {
		int f = bench_field_index(s->get_fields[i]);
		bool dup = false;

		for (size_t k = 0; k < n; k++)
			dup = dup || out[k] == f;
		if (f >= 0 && !dup)
			out[n++] = f;
	}
	for (size_t i = 1; i < n; i++)
		for (size_t k = i;
		     k > 0 && strcmp(bench_field_names[out[k - 1]],
		                  bench_field_names[out[k]]) > 0;
		     k--) {
			int t = out[k];
			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return n;
}

int
load_run(const load_spec *s, load_result *r)
{
	shared sh;
	client *cs;
	hist all;
	uint64_t start, end = 0, last_tick = 0;
	int i, started = 0;

	memset(r, 0, sizeof(*r));
	if (s->clients < 1 || s->clients > BENCH_MAX_CLIENTS ||
	    s->inflight < 1 || s->inflight > BENCH_MAX_INFLIGHT) {
		snprintf(r->first_error, sizeof(r->first_error),
		    "clients must be 1..%d and in flight 1..%d",
		    BENCH_MAX_CLIENTS, BENCH_MAX_INFLIGHT);
		return -1;
	}
	memset(&sh, 0, sizeof(sh));
	sh.s = s;
	pthread_mutex_init(&sh.errlock, NULL);
	pthread_barrier_init(&sh.ready, NULL, (unsigned)s->clients + 1);
	pthread_barrier_init(&sh.go, NULL, (unsigned)s->clients + 1);
	if ((cs = calloc((size_t)s->clients, sizeof(*cs))) == NULL ||
	    hist_init(&all) != 0) {
		free(cs);
		snprintf(
		    r->first_error, sizeof(r->first_error), "out of memory");
		return -1;
	}
	for (i = 0; i < s->clients; i++) {
		cs[i].sh = &sh;
		cs[i].index = i;
		cs[i].rng = (s->seed + 1) * 0x9E3779B97F4A7C15ull ^
		            ((uint64_t)i + 1) * 0xBF58476D1CE4E5B9ull;
		if (cs[i].rng == 0)
			cs[i].rng = 1;
		cs[i].nexpect = expected_fields(s, cs[i].expect);
		if (hist_init(&cs[i].h) != 0 ||
		    pthread_create(&cs[i].thr, NULL, client_main, &cs[i]) != 0)
			break;
		started++;
	}
	if (started < s->clients) {
		/* cannot happen short of memory: release those waiting */
		fprintf(stderr, "privd-bench: cannot start client threads\n");
		exit(2);
	}
	pthread_barrier_wait(&sh.ready);
	if (s->at_start != NULL)
		s->at_start(s->arg);
	start = bench_now_ns();
	sh.deadline_ns = start + (uint64_t)(s->seconds * 1e9);
	pthread_barrier_wait(&sh.go);
	while (atomic_load(&sh.finished) < s->clients) {
		struct timespec ts = {0, 10 * 1000000};
		uint64_t now;

		nanosleep(&ts, NULL);
		now = bench_now_ns();
		if (s->tick != NULL && now - last_tick >= 200000000u) {
			last_tick = now;
			if (!s->tick(s->arg, atomic_load(&sh.done)) &&
			    !atomic_load(&sh.failed)) {
				pthread_mutex_lock(&sh.errlock);
				if (sh.first_error[0] == '\0')
					snprintf(sh.first_error,
					    sizeof(sh.first_error),
					    "the server is gone");
				pthread_mutex_unlock(&sh.errlock);
				atomic_store(&sh.failed, true);
				atomic_store(&sh.abort_now, true);
				r->errors++;
			}
		}
	}
	for (i = 0; i < s->clients; i++) {
		pthread_join(cs[i].thr, NULL);
		if (cs[i].end_ns > end)
			end = cs[i].end_ns;
	}
	if (s->at_end != NULL)
		s->at_end(s->arg);
	for (i = 0; i < s->clients; i++) {
		hist_merge(&all, &cs[i].h);
		r->requests += cs[i].done;
		r->errors += cs[i].errors;
		hist_free(&cs[i].h);
		free(cs[i].buf);
	}
	r->seconds = end > start ? (double)(end - start) / 1e9 : 0;
	r->p50_us = hist_quantile_us(&all, 0.50);
	r->p99_us = hist_quantile_us(&all, 0.99);
	r->p999_us = hist_quantile_us(&all, 0.999);
	r->max_us = (double)all.max / 1000.0;
	if (bench_interrupted && sh.first_error[0] == '\0')
		snprintf(sh.first_error, sizeof(sh.first_error), "interrupted");
	memcpy(r->first_error, sh.first_error, sizeof(r->first_error));
	if (bench_interrupted && r->errors == 0)
		r->errors = 1;
	hist_free(&all);
	free(cs);
	pthread_barrier_destroy(&sh.ready);
	pthread_barrier_destroy(&sh.go);
	pthread_mutex_destroy(&sh.errlock);
	return 0;
}

void
load_get_sizes(const char *const *fields, size_t n, size_t *req, size_t *reply)
{
	Privd__V1__Request rq = PRIVD__V1__REQUEST__INIT;
	Privd__V1__GetRequest get = PRIVD__V1__GET_REQUEST__INIT;
	Privd__V1__Response rs = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__GetResponse gr = PRIVD__V1__GET_RESPONSE__INIT;
	Privd__V1__Field fv[FLD_N], *fp[FLD_N];
	char vals[FLD_N][BENCH_VALUE_MAX], subj[32];
	uint64_t subject = 54321, id = (1000000ull << 8) | 7;
	size_t k = 0;

	bench_subject(subject, subj, sizeof(subj));
	rq.request_id = id;
	rq.purpose = BENCH_PURPOSE;
	get.register_ = BENCH_REGISTER;
	get.subject = subj;
	get.fields = (char **)fields;
	get.n_fields = n;
	rq.op_case = PRIVD__V1__REQUEST__OP_GET;
	rq.get = &get;
	*req = privd__v1__request__get_packed_size(&rq);
	for (size_t i = 0; i < n && k < FLD_N; i++) {
		int f = bench_field_index(fields[i]);
		if (f < 0)
			continue;
		privd__v1__field__init(&fv[k]);
		fv[k].name = (char *)bench_field_names[f];
		fv[k].value.len =
		    bench_value(f, subject, 0, vals[k], sizeof(vals[k]));
		fv[k].value.data = (uint8_t *)vals[k];
		fp[k] = &fv[k];
		k++;
	}
	gr.fields = fp;
	gr.n_fields = k;
	rs.request_id = id;
	rs.status = ST_OK;
	rs.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_GET;
	rs.get = &gr;
	*reply = privd__v1__response__get_packed_size(&rs);
}
