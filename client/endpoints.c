/*
 * endpoints.c - a handle's list of privd nodes: parsing the endpoint list,
 * choosing the node a call goes to, and deciding, when a node fails in
 * the middle of a call, whether the request moves on to the next node
 * (see "Several endpoints" in <privd/client.h>).
 *
 * DESIGN
 *
 * Several privd nodes serve one store (issue 12: stateless nodes over a
 * PostgreSQL cluster), so any node can answer any request, and all of them
 * have the same CURVE key. A handle keeps one socket, to one node: the
 * node in use, c->cur (c->endpoint is its endpoint). conn.c carries a
 * request to that node (one "attempt"); when the attempt fails for a
 * reason that is the node's and not the request's, cl_ep_failover()
 * decides what happens next.
 *
 * Which failures move on. A node that cannot be reached (connection
 * refused: conn.c's monitor sees the connection attempt fail; no
 * connection with a completed handshake within the attempt's time; the
 * CURVE handshake failing), that takes a request and does not answer
 * within the attempt's time (or loses the connection before answering),
 * or that answers UNAVAILABLE (stopping or overloaded, when the request
 * had no effect; or, on a PostgreSQL store, a commit the database did not
 * confirm, which may have landed).
 * Every other outcome is privd's answer (or the client's own failure) and
 * ends the call as it is: a denial, a conflict, a malformed request are
 * the same on every node.
 *
 * Whether the request moves with it. A request that was never sent (no
 * connection) goes to the next node, whatever it is. One that was sent
 * and not answered, or answered UNAVAILABLE (privd cannot say which of
 * the two UNAVAILABLEs it was), goes on only if
 * repeating it cannot change anything: ops[] below says which, from
 * proto/privd.proto. Reads are safe (a read repeated is audited twice,
 * with the same request id: that is what happened). A change is not: it
 * fails with PRIVD_EINDOUBT, since the node may have applied it before it
 * stopped answering, and only the caller can read back and decide. A few
 * operations are bound to the node that began them (a backup lives in
 * that node's directory): they never move, and fail with the attempt's
 * own status.
 *
 * Time. A call still waits at most the handle's timeout in all. Each
 * attempt gets an equal share of the time left: the time left divided by
 * the number of nodes still worth trying in this call - this one and
 * those not yet tried and not set aside (below). With one endpoint that
 * is the whole timeout, as before; with two and the default 5 s, a node
 * that takes a request and never answers is given up after 2.5 s, and the
 * second node has the rest; while one of the two is set aside, the other
 * has the whole timeout (a slow answer is not cut short for a node known
 * to be down; the node set aside is still tried, with what time is left,
 * if the other fails). A refused or dropped connection is given up at
 * once, so a node that is down (not hung) costs a few milliseconds.
 *
 * Node order. Calls go to the first node of the list that works. A node
 * that fails is set aside for a back-off (1 s, doubling with each failure
 * in a row, at most 32 s) and the handle moves to the next node in list
 * order that is not set aside (or, if all are, to the one whose back-off
 * ends first). Within one call each node is tried at most once, those not
 * set aside first, in list order. Once the back-off of a node earlier in
 * the list than the one in use has passed, the handle connects to it in
 * the background (a probe socket; calls carry on meanwhile) and moves back
 * to it at the first call after its handshake completes; a probe that has
 * no completed handshake after PROBE_MS counts as another failure. So a
 * hung node (SIGSTOP: it accepts connections but never completes a
 * handshake) never delays a call after its first failure, and a node that
 * comes back takes its calls back within about a second of its return
 * (libzmq retries a connection every 100 ms to 1 s). The calls of a
 * backup after its start stay on their node: they never move back either.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "internal.h"

/* Back-off of a failed node: BACKOFF_MS << (failures in a row - 1), at
 * most BACKOFF_MS << BACKOFF_SHIFT_MAX. */
#define BACKOFF_MS        1000
#define BACKOFF_SHIFT_MAX 5

/* How long a probe socket may take to complete its handshake. */
#define PROBE_MS 2000

/* The longest endpoint in a list, and the longest list. */
#define ENDPOINT_MAX 255
#define LIST_MAX     (PRIVD_ENDPOINTS_MAX * (ENDPOINT_MAX + 2))

/* What a request may do when its node fails after it was sent. */
enum redo {
	REDO_NEVER, /* a change: fails with PRIVD_EINDOUBT */
	REDO_ANY,   /* a read: sent again to the next node */
	REDO_NODE,  /* bound to its node: never moves, not even unsent */
};

/* A request that is a read only when one of its flags says so. */
static int
retention_preview(const Privd__V1__Request *r)
{
	return r->retention_run != NULL && r->retention_run->preview;
}

static int
prune_report(const Privd__V1__Request *r)
{
	return r->audit_prune != NULL && !r->audit_prune->confirm;
}

/*
 * Every operation of proto/privd.proto and what it may do when its node
 * fails (the list <privd/client.h> gives under "Several endpoints"). An
 * entry with read_if is REDO_ANY when read_if says the request only
 * reads, else redo. An operation not listed (a newer protocol's) is
 * REDO_NEVER.
 */
static const struct op_redo {
	Privd__V1__Request__OpCase op;
	const char *name; /* for messages */
	enum redo redo;
	int (*read_if)(const Privd__V1__Request *);
} ops[] = {
    {PRIVD__V1__REQUEST__OP_PING, "ping", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_PUT, "put", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_GET, "get", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_DELETE, "delete", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_POLICY_GET, "policy get", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_POLICY_APPLY, "policy apply", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_POLICY_HISTORY, "policy history", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_AUDIT_QUERY, "audit query", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_AUDIT_CHECKPOINTS, "audit checkpoints", REDO_ANY,
        NULL},
    {PRIVD__V1__REQUEST__OP_AUDIT_PUBKEY, "audit pubkey", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_AUDIT_PRUNE, "audit prune", REDO_NEVER,
        prune_report},
    {PRIVD__V1__REQUEST__OP_RELATIONSHIP_END, "relationship end", REDO_NEVER,
        NULL},
    {PRIVD__V1__REQUEST__OP_CONTRACT_END, "contract end", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_HOLD_SET, "hold set", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_HOLD_LIFT, "hold lift", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_HOLD_LIST, "hold list", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_RETENTION_RUN, "retention run", REDO_NEVER,
        retention_preview},
    {PRIVD__V1__REQUEST__OP_AGGREGATE, "aggregate", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_SUBJECT_RESTRICT, "subject restrict", REDO_NEVER,
        NULL},
    {PRIVD__V1__REQUEST__OP_SUBJECT_OBJECT, "subject object", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_SUBJECT_ERASE, "subject erase", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_SUBJECT_LOOKUP, "subject lookup", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_SUBJECT_EXPORT, "subject export", REDO_ANY, NULL},
    {PRIVD__V1__REQUEST__OP_BACKUP_START, "backup start", REDO_NEVER, NULL},
    {PRIVD__V1__REQUEST__OP_BACKUP_READ, "backup read", REDO_NODE, NULL},
    {PRIVD__V1__REQUEST__OP_BACKUP_END, "backup end", REDO_NODE, NULL},
    {PRIVD__V1__REQUEST__OP_ERASURES_EXPORT, "erasures export", REDO_ANY, NULL},
};

static const struct op_redo *
op_find(const Privd__V1__Request *r)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == r->op_case)
			return &ops[i];
	return NULL;
}

static enum redo
op_redo(const Privd__V1__Request *r)
{
	const struct op_redo *o = op_find(r);

	if (o == NULL)
		return REDO_NEVER;
	if (o->read_if != NULL && o->read_if(r))
		return REDO_ANY;
	return o->redo;
}

/* Say what is wrong in why (whylen bytes, may be NULL); returns
 * PRIVD_EINVAL. Messages name positions in the list, never its text. */
static int bad(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return PRIVD_EINVAL;
}

/* Is c a character of a host name or address (IPv6 in brackets, with a
 * zone after '%') in tcp://HOST:PORT? */
static int
host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
	       c == ':' || c == '[' || c == ']' || c == '%';
}

/*
 * Check one endpoint, s[0..len): ipc://PATH (a path of printable
 * characters) or tcp://HOST:PORT (HOST a name or address, PORT 1..65535).
 * libzmq checks the rest at connect time, but only for the node in use:
 * an endpoint later in the list must not wait for a failover to be found
 * wrong. i and n (1-based position and count) are for why.
 */
static int
endpoint_check(
    const char *s, size_t len, size_t i, size_t n, char *why, size_t whylen)
{
	size_t k, colon, port = 0;

	if (len > ENDPOINT_MAX)
		return bad(why, whylen,
		    "endpoint %zu of %zu is longer than 255 characters", i, n);
	if (len > 6 && memcmp(s, "ipc://", 6) == 0) {
		for (k = 6; k < len; k++)
			if ((unsigned char)s[k] < 0x20 || s[k] == 0x7f)
				return bad(why, whylen,
				    "endpoint %zu of %zu: the ipc:// path "
				    "holds a "
				    "control character",
				    i, n);
		return PRIVD_OK;
	}
	if (len <= 6 || memcmp(s, "tcp://", 6) != 0)
		return bad(why, whylen,
		    "endpoint %zu of %zu is neither ipc://PATH nor "
		    "tcp://HOST:PORT",
		    i, n);
	for (colon = len; colon > 6 && s[colon - 1] != ':'; colon--)
		;
	if (colon == 6 || colon == 7)
		return bad(why, whylen,
		    "endpoint %zu of %zu: tcp:// needs HOST:PORT", i, n);
	for (k = 6; k < colon - 1; k++)
		if (!host_char(s[k]))
			return bad(why, whylen,
			    "endpoint %zu of %zu: the host holds a character "
			    "a host name or address cannot have",
			    i, n);
	if (colon == len || len - colon > 5)
		return bad(why, whylen,
		    "endpoint %zu of %zu: the port is not a number from 1 "
		    "to 65535",
		    i, n);
	for (k = colon; k < len; k++) {
		if (s[k] < '0' || s[k] > '9')
			return bad(why, whylen,
			    "endpoint %zu of %zu: the port is not a number "
			    "from 1 to 65535",
			    i, n);
		port = port * 10 + (size_t)(s[k] - '0');
	}
	if (port < 1 || port > 65535)
		return bad(why, whylen,
		    "endpoint %zu of %zu: the port is not a number from 1 "
		    "to 65535",
		    i, n);
	return PRIVD_OK;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Walk the items of list: for the k-th (0-based), *start and *len are
 * its text without blanks around it. Returns the number of items
 * (commas + 1).
 */
static size_t
item(const char *list, size_t k, const char **start, size_t *len)
{
	const char *p = list, *e;
	size_t n = 0;

	for (;;) {
		e = p + strcspn(p, ",");
		if (n == k) {
			while (p < e && is_blank(*p))
				p++;
			while (e > p && is_blank(e[-1]))
				e--;
			*start = p;
			*len = (size_t)(e - p);
		}
		n++;
		p += strcspn(p, ",");
		if (*p == '\0')
			return n;
		p++;
	}
}

int
cl_ep_parse(const char *list, struct cl_node **out, size_t *nout, char *why,
    size_t whylen)
{
	struct cl_node *nodes;
	const char *s, *t;
	size_t n, i, j, len, tlen;
	int rc;

	*out = NULL;
	*nout = 0;
	if (why != NULL && whylen > 0)
		why[0] = '\0';
	if (list == NULL || list[strspn(list, " \t")] == '\0')
		return bad(why, whylen, "no endpoint given");
	if (strlen(list) > LIST_MAX)
		return bad(why, whylen,
		    "the endpoint list is longer than %d characters", LIST_MAX);
	n = item(list, 0, &s, &len);
	if (n > PRIVD_ENDPOINTS_MAX)
		return bad(why, whylen, "%zu endpoints in the list; at most %d",
		    n, PRIVD_ENDPOINTS_MAX);
	for (i = 0; i < n; i++) {
		item(list, i, &s, &len);
		if (len == 0)
			return bad(why, whylen,
			    "endpoint %zu of %zu is empty (two commas in a "
			    "row, "
			    "or one at an end?)",
			    i + 1, n);
		if ((rc = endpoint_check(s, len, i + 1, n, why, whylen)) !=
		    PRIVD_OK)
			return rc;
		for (j = 0; j < i; j++) {
			item(list, j, &t, &tlen);
			if (tlen == len && memcmp(s, t, len) == 0)
				return bad(why, whylen,
				    "endpoint %zu repeats endpoint %zu", i + 1,
				    j + 1);
		}
	}
	if ((nodes = calloc(n, sizeof(*nodes))) == NULL)
		return PRIVD_ENOMEM;
	for (i = 0; i < n; i++) {
		item(list, i, &s, &len);
		if ((nodes[i].endpoint = strndup(s, len)) == NULL) {
			while (i-- > 0)
				free(nodes[i].endpoint);
			free(nodes);
			return PRIVD_ENOMEM;
		}
	}
	*out = nodes;
	*nout = n;
	return PRIVD_OK;
}

int
privd_endpoints_check(const char *list, char *why, size_t whylen)
{
	struct cl_node *nodes;
	size_t n, i;
	int rc;

	rc = cl_ep_parse(list, &nodes, &n, why, whylen);
	if (rc == PRIVD_ENOMEM && why != NULL && whylen > 0)
		snprintf(why, whylen, "out of memory");
	for (i = 0; i < n; i++)
		free(nodes[i].endpoint);
	free(nodes);
	return rc;
}

const char *
privd_endpoint(const privd_client *c)
{
	return c != NULL && c->endpoint != NULL ? c->endpoint : "";
}

static void
probe_close(privd_client *c)
{
	if (c->probe != NULL) {
		zmq_close(c->probe);
		c->probe = NULL;
	}
}

void
cl_ep_free(privd_client *c)
{
	size_t i;

	if (cl_same_process(c))
		probe_close(c);
	for (i = 0; i < c->nnodes; i++)
		free(c->nodes[i].endpoint);
	free(c->nodes);
	c->nodes = NULL;
	c->nnodes = 0;
	c->endpoint = NULL;
}

/* Make node i the one calls go to. The socket to the old one is closed. */
static void
use_node(privd_client *c, size_t i)
{
	if (i == c->cur)
		return;
	cl_sock_close(c);
	c->cur = i;
	c->endpoint = c->nodes[i].endpoint;
}

/* Set node i aside for its back-off. */
static void
node_failed(privd_client *c, size_t i, int64_t now)
{
	struct cl_node *nd = &c->nodes[i];
	unsigned shift;

	if (nd->fails < UINT32_MAX)
		nd->fails++;
	shift = nd->fails - 1 < BACKOFF_SHIFT_MAX ? nd->fails - 1
	                                          : BACKOFF_SHIFT_MAX;
	nd->retry_at = now + ((int64_t)BACKOFF_MS << shift);
}

/*
 * The node to go to next: the first in list order that is not set aside
 * and, if untried is set, not yet tried in this call; failing that, the
 * untried one (any one, if !untried) whose back-off ends first. n of the
 * list if there is none.
 */
static size_t
next_node(const privd_client *c, int64_t now, int untried)
{
	size_t i, best = c->nnodes;

	for (i = 0; i < c->nnodes; i++) {
		if (i == c->cur || (untried && (c->tried >> i & 1)))
			continue;
		if (c->nodes[i].retry_at <= now)
			return i;
		if (best == c->nnodes ||
		    c->nodes[i].retry_at < c->nodes[best].retry_at)
			best = i;
	}
	return best;
}

/* Open the probe socket to node i (see the top of this file). Failing to
 * make one only means no probe this time. */
static void
probe_open(privd_client *c, size_t i, int64_t now)
{
	void *s;

	if (cl_dealer_new(c, &s) != PRIVD_OK)
		return;
	if (zmq_connect(s, c->nodes[i].endpoint) != 0) {
		zmq_close(s);
		node_failed(c, i, now);
		return;
	}
	c->probe = s;
	c->probe_node = i;
	c->probe_until = now + PROBE_MS;
	memcpy(c->probe_key, c->server_key, KEY_BYTES);
}

/* Does s have a connection whose handshake has completed? (With
 * ZMQ_IMMEDIATE, that is when it can take a message.) */
static int
dealer_ready(void *s)
{
	int ev = 0;
	size_t len = sizeof(ev);

	return zmq_getsockopt(s, ZMQ_EVENTS, &ev, &len) == 0 &&
	       (ev & ZMQ_POLLOUT) != 0;
}

/*
 * At the start of a call: if the probe to an earlier node has completed
 * its handshake, its socket becomes the handle's and calls go to that
 * node again; a probe too slow counts as a failure of its node. Without
 * a probe, open one to the first earlier node whose back-off has passed.
 * Nothing of this for a request bound to its node.
 */
void
cl_ep_begin(privd_client *c, const Privd__V1__Request *req)
{
	int64_t now;
	size_t i;

	c->tried = 0;
	/* a request bound to its node (a backup's) stays where it is */
	if (c->nnodes < 2 || op_redo(req) == REDO_NODE)
		return;
	now = cl_now_ms();
	if (c->probe != NULL) {
		if (c->probe_node >= c->cur ||
		    memcmp(c->probe_key, c->server_key, KEY_BYTES) != 0) {
			/* moved there meanwhile, or a new server key */
			probe_close(c);
		} else if (dealer_ready(c->probe)) {
			use_node(c, c->probe_node);
			c->sock = c->probe;
			c->probe = NULL;
			c->nodes[c->cur].fails = 0;
			c->nodes[c->cur].retry_at = 0;
		} else if (now >= c->probe_until) {
			probe_close(c);
			node_failed(c, c->probe_node, now);
		}
	}
	if (c->probe != NULL)
		return;
	for (i = 0; i < c->cur; i++)
		if (c->nodes[i].retry_at <= now) {
			probe_open(c, i, now);
			break;
		}
}

/* The attempt on the node in use gets the time left divided by the
 * nodes still worth trying in this call: itself, and those not yet tried
 * and not set aside. */
int64_t
cl_ep_deadline(privd_client *c, int64_t deadline)
{
	size_t i, left = 0;
	int64_t now = cl_now_ms();

	c->tried |= (uint32_t)1 << c->cur;
	for (i = 0; i < c->nnodes; i++)
		if (!(c->tried >> i & 1) && c->nodes[i].retry_at <= now)
			left++;
	if (left == 0 || deadline <= now)
		return deadline;
	return now + (deadline - now) / (int64_t)(left + 1);
}

/* Append text to the handle's message, if it fits. */
static void
msg_append(privd_client *c, const char *text)
{
	size_t n = strlen(c->errmsg);

	if (n + strlen(text) < sizeof(c->errmsg))
		memcpy(c->errmsg + n, text, strlen(text) + 1);
}

/*
 * After an attempt on the node in use (see the top of this file): a
 * success clears the node's failures; an answer ends the call as it is;
 * a failure of the node sets it aside and picks the next node, to which
 * the request moves if it was never sent or only reads (1: try again).
 * A change that was sent ends the call with PRIVD_EINDOUBT, a request
 * bound to its node or the last node's failure with the attempt's own
 * status (0); either way later calls go to the next node.
 */
int
cl_ep_failover(
    privd_client *c, const Privd__V1__Request *req, int sent, int *rc)
{
	const struct op_redo *o;
	const char *failed;
	enum redo redo;
	int64_t now;
	size_t next;

	if (c->nnodes < 2)
		return 0;
	if (*rc == PRIVD_OK) {
		c->nodes[c->cur].fails = 0;
		c->nodes[c->cur].retry_at = 0;
		return 0;
	}
	/* only the node's failures move on; answers end the call */
	if (*rc != PRIVD_EUNAVAILABLE && *rc != PRIVD_ETIMEOUT &&
	    *rc != PRIVD_EHANDSHAKE)
		return 0;
	now = cl_now_ms();
	node_failed(c, c->cur, now);
	failed = c->endpoint;
	redo = op_redo(req);
	next = next_node(c, now, 1);

	if (sent && redo == REDO_NEVER) {
		/* later calls go elsewhere; this one is the caller's to
		 * settle */
		if (next == c->nnodes)
			next = next_node(c, now, 0);
		o = op_find(req);
		if (sent == 2)
			*rc = cl_fail(c, PRIVD_EINDOUBT,
			    "privd at %s answered the %s request UNAVAILABLE: "
			    "it may or may not have been applied (read back "
			    "before repeating it); later calls go to %s",
			    failed, o != NULL ? o->name : "change",
			    c->nodes[next].endpoint);
		else
			*rc = cl_fail(c, PRIVD_EINDOUBT,
			    "privd at %s took the %s request and did not "
			    "answer it (in time, or before dropping the "
			    "connection); later calls go to %s",
			    failed, o != NULL ? o->name : "change",
			    c->nodes[next].endpoint);
		use_node(c, next);
		return 0;
	}
	if (redo == REDO_NODE || next == c->nnodes) {
		/* the call ends with this attempt's status; later calls go
		 * to the next node */
		if (redo != REDO_NODE && c->tried != 0 &&
		    (c->tried & (c->tried - 1)) != 0)
			msg_append(c, " (every endpoint was tried)");
		if (next == c->nnodes)
			next = next_node(c, now, 0);
		if (next < c->nnodes)
			use_node(c, next);
		return 0;
	}
	use_node(c, next);
	return 1;
}
