/*
 * pg_run.c - one timed phase: C client threads, each with its own
 * connection in libpq pipeline mode keeping F requests in flight. Each
 * request is one prepared call followed by its own Sync, so each is its
 * own transaction (autocommit): the server commits, with the WAL flushed
 * (synchronous_commit = on), when it reaches the Sync, and only then
 * sends ReadyForQuery. A request therefore counts as done at its
 * PGRES_PIPELINE_SYNC, not at its rows (which arrive before the commit):
 * the read's audit row is durable before we take the reply, as privd's
 * audit event is before its reply.
 *
 * DESIGN: the main thread starts the clients, waits for all to connect,
 * opens the gate, joins them and merges their samples. A client touches
 * only its own struct and connection.
 */
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"

#define TEXTOID      25
#define TEXTARRAYOID 1009
#define MAX_CHECK    16       /* subjects each client re-reads after puts */
#define STALL_US     30000000 /* no reply for this long: give up */

static const char get_sql[] =
    "SELECT field, value FROM get_subject($1, hmac($2, $3, 'sha256'), $4, "
    "$5, $6)";
static const char put_sql[] =
    "SELECT put_subject($1, hmac($2, $3, 'sha256'), $4, $5, $6, $7)";
static const Oid get_types[] = {
    TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID};
static const Oid put_types[] = {
    TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTARRAYOID, TEXTARRAYOID};
static const char all_fields[] = "{name,email,phone,organisation,"
                                 "customer_type}";
static const char put_fields[] = "{name,email,phone}";

/* Clients connect, then wait here until all have and the clock starts. */
struct gate {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int arrived;
	bool open;
	int64_t deadline; /* set before open */
};

/* A request in flight: the head of the ring is the oldest. */
typedef struct slot {
	int64_t t0;
	uint32_t subject;
	bool put;
} slot;

typedef struct client {
	const pgb_server *s;
	const pgb_keys *k;
	const pgb_phase *ph;
	uint32_t nsubjects;
	struct gate *gate;
	uint64_t rng;

	uint32_t *lat; /* microseconds per completed request */
	size_t n, cap;
	uint64_t errors;
	char first_error[96]; /* names no value */
	uint32_t put_ok[MAX_CHECK];
	size_t nput_ok;
} client;

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static void
fail(client *cl, const char *what, const PGresult *r)
{
	const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	cl->errors++;
	if (cl->first_error[0] == '\0')
		snprintf(cl->first_error, sizeof(cl->first_error), "%s%s%s",
		    what, state ? ", SQLSTATE " : "", state ? state : "");
}

/* Quotes v as an element of a text[] literal. */
static size_t
array_elem(char *dst, const char *v)
{
	size_t n = 0;

	dst[n++] = '"';
	for (; *v != '\0'; v++) {
		if (*v == '"' || *v == '\\')
			dst[n++] = '\\';
		dst[n++] = *v;
	}
	dst[n++] = '"';
	return n;
}

static int
send_request(client *cl, PGconn *c, slot *sl)
{
	char id[32], vals[1024], v[128];
	const char *p[7] = {
	    cl->k->enc, id, cl->k->mac, PGB_PRINCIPAL, PGB_PURPOSE, NULL, vals};
	size_t n = 0;
	int f;

	sl->subject = (uint32_t)(rnd(&cl->rng) % cl->nsubjects);
	sl->put = cl->ph->op == PGB_PUT ||
	          (cl->ph->op == PGB_MIXED && rnd(&cl->rng) % 10 == 0);
	pgb_subject_id(sl->subject, id, sizeof(id));
	if (sl->put) {
		p[5] = put_fields;
		vals[n++] = '{';
		for (f = 0; f < PGB_NPUT_FIELDS; f++) {
			pgb_value(f, sl->subject, 1, v, sizeof(v));
			if (f > 0)
				vals[n++] = ',';
			n += array_elem(vals + n, v);
		}
		vals[n++] = '}';
		vals[n] = '\0';
	} else {
		p[5] = all_fields;
	}
	sl->t0 = pgb_now_us();
	if (!PQsendQueryPrepared(c, sl->put ? "put" : "get", sl->put ? 7 : 6, p,
	        NULL, NULL, 0) ||
	    !PQpipelineSync(c))
		return -1;
	return 0;
}

/* Checks a get's rows (every field, in order, decrypted to what the
 * register holds) or a put's count. */
static void
check_result(client *cl, const slot *sl, const PGresult *r)
{
	int i;

	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		fail(cl, sl->put ? "put failed" : "get failed", r);
		return;
	}
	if (sl->put) {
		if (PQntuples(r) != 1 ||
		    strcmp(PQgetvalue(r, 0, 0), "3") != 0) {
			fail(cl, "put did not report 3 fields", NULL);
		} else if (cl->nput_ok < MAX_CHECK) {
			cl->put_ok[cl->nput_ok++] = sl->subject;
		}
		return;
	}
	if (PQntuples(r) != PGB_NFIELDS || PQnfields(r) != 2) {
		fail(cl, "get returned the wrong number of fields", NULL);
		return;
	}
	for (i = 0; i < PGB_NFIELDS; i++) {
		if (strcmp(PQgetvalue(r, i, 0), pgb_field[i]) != 0 ||
		    PQgetisnull(r, i, 1) ||
		    !pgb_value_ok(i, sl->subject, PQgetvalue(r, i, 1))) {
			fail(cl, "get returned a value that was not stored",
			    NULL);
			return;
		}
	}
}

static int
record(client *cl, uint32_t us)
{
	uint32_t *p;

	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 4096;
		if ((p = realloc(cl->lat, cl->cap * sizeof(*p))) == NULL)
			return -1;
		cl->lat = p;
	}
	cl->lat[cl->n++] = us;
	return 0;
}

/*
 * Takes every result that has arrived. Per request libpq yields its
 * result, a NULL, then PGRES_PIPELINE_SYNC; phase says which is next for
 * the head of the ring. Returns the number of requests completed, or -1
 * if the connection broke.
 */
static int
drain(client *cl, PGconn *c, slot *ring, size_t *head, size_t *inflight,
    int *phase)
{
	size_t F = (size_t)cl->ph->inflight;
	PGresult *r;
	slot *sl;
	int done = 0;

	while (*inflight > 0 && !PQisBusy(c)) {
		sl = &ring[*head % F];
		r = PQgetResult(c);
		if (*phase == 0) {
			if (r == NULL)
				return -1;
			check_result(cl, sl, r);
			*phase = 1;
		} else if (*phase == 1) {
			if (r != NULL) { /* a second result: not ours */
				fail(cl, "unexpected extra result", NULL);
				PQclear(r);
				continue;
			}
			*phase = 2;
		} else {
			if (r == NULL ||
			    PQresultStatus(r) != PGRES_PIPELINE_SYNC) {
				PQclear(r);
				return -1;
			}
			/* errors are counted in check_result */
			if (record(cl, (uint32_t)(pgb_now_us() - sl->t0)) != 0)
				return -1;
			(*head)++;
			(*inflight)--;
			*phase = 0;
			done++;
		}
		PQclear(r);
	}
	return done;
}

/* Prepares both statements; the connection is still in normal mode. */
static int
prepare(PGconn *c)
{
	PGresult *r;
	int ok;

	r = PQprepare(c, "get", get_sql, 6, get_types);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	if (!ok)
		return -1;
	r = PQprepare(c, "put", put_sql, 7, put_types);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK;
	PQclear(r);
	return ok ? 0 : -1;
}

static void *
client_main(void *arg)
{
	client *cl = arg;
	size_t F = (size_t)cl->ph->inflight, head = 0, inflight = 0;
	slot *ring = calloc(F, sizeof(*ring));
	PGconn *c = pgb_connect(cl->s, PGB_ROLE);
	bool ready = c != NULL && ring != NULL && prepare(c) == 0 &&
	             PQsetnonblocking(c, 1) == 0 && PQenterPipelineMode(c) == 1;
	int64_t now, last, deadline;
	int phase = 0, rc, want_out = 0;
	struct pollfd pfd;

	if (!ready)
		fail(cl, "cannot connect and prepare", NULL);
	pthread_mutex_lock(&cl->gate->mu);
	cl->gate->arrived++;
	pthread_cond_broadcast(&cl->gate->cv);
	while (!cl->gate->open)
		pthread_cond_wait(&cl->gate->cv, &cl->gate->mu);
	deadline = cl->gate->deadline;
	pthread_mutex_unlock(&cl->gate->mu);
	last = pgb_now_us();
	while (ready) {
		now = pgb_now_us();
		while (!pgb_interrupted && now < deadline && inflight < F) {
			if (send_request(cl, c, &ring[(head + inflight) % F]) !=
			    0)
				goto broken;
			inflight++;
		}
		if (inflight == 0)
			break;
		if ((want_out = PQflush(c)) < 0)
			goto broken;
		pfd.fd = PQsocket(c);
		pfd.events = POLLIN | (want_out ? POLLOUT : 0);
		rc = poll(&pfd, 1, 100);
		if (rc > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP)) &&
		    !PQconsumeInput(c))
			goto broken;
		if ((rc = drain(cl, c, ring, &head, &inflight, &phase)) < 0)
			goto broken;
		if (rc > 0)
			last = pgb_now_us();
		else if (pgb_now_us() - last > STALL_US)
			goto broken;
	}
	goto out;
broken:
	/* What was in flight is lost: each an error. */
	/* Only a connection's own error: a query's may quote a value. */
	if (!pgb_interrupted && PQstatus(c) == CONNECTION_BAD)
		fprintf(stderr, "privd-bench-pg: connection failed: %s",
		    PQerrorMessage(c));
	fail(cl, "connection failed or stalled", NULL);
	cl->errors += inflight > 0 ? inflight - 1 : 0;
out:
	free(ring);
	PQfinish(c);
	return NULL;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static uint32_t
pct(const uint32_t *v, size_t n, unsigned per_mille)
{
	size_t i = n * per_mille / 1000;

	return n == 0 ? 0 : v[i < n ? i : n - 1];
}

/*
 * Runs one phase for `seconds` and fills out. Returns 0, or -1 if the
 * phase could not run at all (out is then meaningless).
 */
int
pgb_run(const pgb_server *s, const pgb_keys *k, uint32_t nsubjects,
    double seconds, const pgb_phase *ph, pgb_result *out)
{
	int nc = ph->clients, i, started = 0, rc = 0;
	struct gate gate = {
	    PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false, 0};
	pthread_t *t = calloc((size_t)nc, sizeof(*t));
	client *cl = calloc((size_t)nc, sizeof(*cl));
	int64_t start;
	uint32_t *all = NULL;
	size_t total = 0, at = 0;
	const char *why = NULL;
	PGconn *c;

	memset(out, 0, sizeof(*out));
	if (t == NULL || cl == NULL) {
		free(t);
		free(cl);
		return -1;
	}
	for (i = 0; i < nc; i++) {
		cl[i].s = s;
		cl[i].k = k;
		cl[i].ph = ph;
		cl[i].nsubjects = nsubjects;
		cl[i].gate = &gate;
		cl[i].rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1) ^
		            (uint64_t)pgb_now_us();
		if (pthread_create(&t[i], NULL, client_main, &cl[i]) != 0) {
			cl[i].errors++;
			snprintf(cl[i].first_error, sizeof(cl[i].first_error),
			    "cannot start a client thread");
			break;
		}
		started++;
	}
	pthread_mutex_lock(&gate.mu);
	while (gate.arrived < started)
		pthread_cond_wait(&gate.cv, &gate.mu);
	start = pgb_now_us();
	gate.deadline = start + (int64_t)(seconds * 1e6);
	gate.open = true;
	pthread_cond_broadcast(&gate.cv);
	pthread_mutex_unlock(&gate.mu);
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	out->seconds = (double)(pgb_now_us() - start) / 1e6;

	for (i = 0; i < nc; i++) {
		total += cl[i].n;
		out->errors += cl[i].errors;
		if (why == NULL && cl[i].first_error[0] != '\0')
			why = cl[i].first_error;
	}
	if (ph->op != PGB_GET && !pgb_interrupted &&
	    (c = pgb_connect(s, "postgres")) != NULL) {
		for (i = 0; i < nc; i++) {
			int bad =
			    pgb_check_puts(c, k, cl[i].put_ok, cl[i].nput_ok);

			out->errors += (uint64_t)bad;
			if (bad > 0 && why == NULL)
				why = "a put did not store its values";
		}
		PQfinish(c);
	}
	if (why != NULL && !pgb_interrupted)
		fprintf(stderr, "privd-bench-pg: %llu errors; first: %s\n",
		    (unsigned long long)out->errors, why);
	if ((all = malloc((total ? total : 1) * sizeof(*all))) == NULL) {
		rc = -1;
	} else {
		for (i = 0; i < nc; i++) {
			memcpy(all + at, cl[i].lat, cl[i].n * sizeof(*all));
			at += cl[i].n;
		}
		qsort(all, total, sizeof(*all), cmp_u32);
		out->requests = total;
		out->p50_us = pct(all, total, 500);
		out->p99_us = pct(all, total, 990);
		out->p999_us = pct(all, total, 999);
	}
	for (i = 0; i < nc; i++)
		free(cl[i].lat);
	free(all);
	free(cl);
	free(t);
	return rc;
}
