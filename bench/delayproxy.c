/*
 * delayproxy.c - a TCP proxy with a fixed one-way delay; see delayproxy.h.
 *
 * DESIGN: one thread, one ppoll loop (nanosecond timeouts; the thread's
 * timer slack is set to 1 us, or the kernel's default 50 us would blur a
 * 250 us delay). Each connection has two directions; a direction is a
 * queue of chunks, each stamped with when it is due (read time + delay),
 * written to the other side in order once due and the socket takes it.
 * A direction stops reading while it queues more than DP_QUEUE_MAX bytes,
 * so a slow reader slows its writer as TCP would. An end of file is
 * passed on (shutdown SHUT_WR) once the queue before it is written; a
 * connection closes when both directions did, or on any error.
 *
 * The protocol watch (dp_stats) parses message frames only: the type
 * byte and length of each message, the start of Parse and Query bodies
 * (to find the lock statement) and ReadyForQuery's status. Whatever it
 * cannot follow (an SSL or GSS session, a frame that makes no sense)
 * turns the watch off for that connection; forwarding never depends on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "delayproxy.h"

#define DP_MAX_CONNS  256
#define DP_CHUNK      65536
#define DP_QUEUE_MAX  (8u << 20)
#define DP_SAMPLES    (1u << 17)
#define DP_LOCK_TEXT  "pg_advisory_xact_lock"
#define DP_PREFIX_LEN 96 /* of a Parse, Bind or Query body: its names */
#define DP_NAMED      4  /* prepared statements of the lock, a connection */

typedef struct chunk {
	struct chunk *next;
	uint64_t due_ns;
	size_t len, off;
	bool lock;          /* holds a write transaction's lock statement */
	uint64_t lock_base; /* answers to syncs sent before it */
	unsigned char data[];
} chunk;

/* One direction's frame parser (the protocol watch). */
typedef struct parser {
	bool typed;           /* past the start-up messages */
	bool body;            /* in a message's body (its header is read) */
	unsigned char hdr[8]; /* type + length, or start-up length + code */
	size_t nhdr;
	uint32_t left; /* body bytes still to come */
	unsigned char type;
	char prefix[DP_PREFIX_LEN + 1]; /* Parse, Bind, Query: the start */
	size_t nprefix;
} parser;

typedef struct dir {
	chunk *head, *tail;
	size_t queued;
	bool eof;     /* the reading side ended */
	bool shut;    /* passed on to the writing side */
	bool blocked; /* the writing side said EAGAIN */
	parser ps;
} dir;

typedef struct conn {
	int fd[2]; /* client, server; dir[i] reads fd[i], writes fd[!i] */
	dir d[2];
	bool watch;      /* the protocol watch follows this connection */
	uint64_t syncs;  /* messages sent that a ReadyForQuery answers */
	uint64_t zseq;   /* ReadyForQuery received */
	unsigned single; /* one-byte answers (SSL, GSS requests) to come */
	/* names of statements prepared with the lock's text: a Bind of one
	 * runs it (an unnamed Parse is run by the Bind after it) */
	char named[DP_NAMED][DP_PREFIX_LEN + 1];
	int nnamed;
	/* the write transaction under way */
	bool wt;
	uint64_t wt_start_ns, wt_base, wt_rts;
} conn;

struct delayproxy {
	pthread_t thread;
	bool started;
	int lfd, wake[2];
	int port;
	struct sockaddr_storage up;
	socklen_t uplen;
	atomic_uint delay_us;
	conn *c[DP_MAX_CONNS];
	uint64_t last_end_ns; /* of the latest write transaction */
	pthread_mutex_t mu;   /* guards the figures below */
	dp_stats st;
	uint64_t reset_ns;
	uint32_t *samples; /* hold times in us */
	size_t nsamples;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint32_t
be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

static int
nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ? -1 : 0;
}

/* ---- the protocol watch ------------------------------------------------ */

/* A write transaction of c ended at t: its lock's wait and hold. */
static void
wt_end(delayproxy *p, conn *c, uint64_t t)
{
	uint64_t grant =
	    c->wt_start_ns > p->last_end_ns ? c->wt_start_ns : p->last_end_ns;
	double hold, wait;

	if (grant > t)
		grant = t;
	hold = (double)(t - grant) / 1000.0;
	wait = (double)(grant - c->wt_start_ns) / 1000.0;
	p->last_end_ns = t;
	c->wt = false;
	pthread_mutex_lock(&p->mu);
	p->st.wtxns++;
	p->st.wrts += c->wt_rts;
	p->st.hold_us_sum += hold;
	p->st.wait_us_sum += wait;
	if (p->nsamples < DP_SAMPLES)
		p->samples[p->nsamples++] =
		    hold > 4e9 ? 4000000000u : (uint32_t)hold;
	pthread_mutex_unlock(&p->mu);
}

/* A whole message header (or start-up frame start) is in ps->hdr. */
static void
up_header(conn *c, parser *ps)
{
	if (!ps->typed) {
		uint32_t len = be32(ps->hdr), code = be32(ps->hdr + 4);

		if (len < 8) {
			c->watch = false;
			return;
		}
		ps->left = len - 8;
		ps->type = 0;
		if (code == 80877103u || code == 80877104u) /* SSL, GSS */
			c->single++;
		else if (code == 196608u) { /* protocol 3.0: start-up */
			c->syncs++; /* answered by ReadyForQuery after auth */
			ps->typed = true;
		}
		return;
	}
	if (be32(ps->hdr + 1) < 4) {
		c->watch = false;
		return;
	}
	ps->type = ps->hdr[0];
	ps->left = be32(ps->hdr + 1) - 4;
	ps->nprefix = 0;
	if (ps->type == 'S' || ps->type == 'Q')
		c->syncs++; /* each answered by one ReadyForQuery */
}

/* The first NUL-terminated string of the body's prefix from off, or
 * NULL if the prefix ends first. */
static const char *
prefix_str(const parser *ps, size_t off)
{
	if (off >= ps->nprefix ||
	    memchr(ps->prefix + off, '\0', ps->nprefix - off) == NULL)
		return NULL;
	return ps->prefix + off;
}

/*
 * A whole Parse, Bind or Query message: does it run the lock statement?
 * Query: its text holds it. Parse: an unnamed statement with it (libpq's
 * PQsendQueryParams: Parse, Bind, Execute); a named one is remembered.
 * Bind: of a remembered statement (PQsendQueryPrepared).
 */
static bool
up_runs_lock(conn *c, parser *ps)
{
	const char *name, *q;

	ps->prefix[ps->nprefix] = '\0';
	if (ps->type == 'Q')
		return strstr(ps->prefix, DP_LOCK_TEXT) != NULL;
	if ((name = prefix_str(ps, 0)) == NULL)
		return false;
	if (ps->type == 'P') {
		q = ps->prefix + strlen(name) + 1;
		if (q > ps->prefix + ps->nprefix || !strstr(q, DP_LOCK_TEXT))
			return false;
		if (name[0] == '\0')
			return true;
		if (c->nnamed < DP_NAMED)
			strcpy(c->named[c->nnamed++], name);
		return false;
	}
	/* Bind: the portal's name, then the statement's */
	if ((name = prefix_str(ps, strlen(name) + 1)) == NULL ||
	    name[0] == '\0')
		return false;
	for (int k = 0; k < c->nnamed; k++)
		if (strcmp(c->named[k], name) == 0)
			return true;
	return false;
}

/* Bytes from the client; marks ch when it holds the lock statement. */
static void
watch_up(conn *c, chunk *ch)
{
	parser *ps = &c->d[0].ps;
	size_t i = 0, n;

	while (c->watch && i < ch->len) {
		if (!ps->body) {
			ps->hdr[ps->nhdr++] = ch->data[i++];
			if (ps->nhdr < (ps->typed ? 5u : 8u))
				continue;
			up_header(c, ps);
			ps->body = true;
			ps->nhdr = 0;
		} else {
			n = ch->len - i < ps->left ? ch->len - i : ps->left;
			if ((ps->type == 'P' || ps->type == 'Q' ||
			        ps->type == 'B') &&
			    ps->nprefix < DP_PREFIX_LEN) {
				size_t k = DP_PREFIX_LEN - ps->nprefix;

				k = k < n ? k : n;
				memcpy(
				    ps->prefix + ps->nprefix, ch->data + i, k);
				ps->nprefix += k;
			}
			i += n;
			ps->left -= (uint32_t)n;
		}
		if (ps->body && ps->left == 0) { /* a whole message */
			if ((ps->type == 'P' || ps->type == 'Q' ||
			        ps->type == 'B') &&
			    up_runs_lock(c, ps) && !ch->lock) {
				ch->lock = true;
				/* answers up to here are before the lock;
				 * a Query's own answer is its end */
				ch->lock_base =
				    c->syncs - (ps->type == 'Q' ? 1 : 0);
			}
			ps->body = false;
			ps->type = 0;
		}
	}
}

/* Bytes from the server, read at t: ReadyForQuery ends transactions. */
static void
watch_down(
    delayproxy *p, conn *c, const unsigned char *b, size_t len, uint64_t t)
{
	parser *ps = &c->d[1].ps;
	size_t i = 0, n;

	while (c->watch && i < len) {
		if (c->single > 0) { /* 'N': go on unencrypted */
			if (b[i] == 'S' || b[i] == 'G')
				c->watch = false;
			c->single--;
			i++;
			continue;
		}
		if (!ps->body) {
			ps->hdr[ps->nhdr++] = b[i++];
			if (ps->nhdr < 5)
				continue;
			if (be32(ps->hdr + 1) < 4) {
				c->watch = false;
				break;
			}
			ps->type = ps->hdr[0];
			ps->left = be32(ps->hdr + 1) - 4;
			ps->body = true;
			ps->nhdr = 0;
		} else {
			n = len - i < ps->left ? len - i : ps->left;
			/* ReadyForQuery's body is its status, one byte */
			if (ps->type == 'Z' && n > 0) {
				c->zseq++;
				pthread_mutex_lock(&p->mu);
				p->st.rts++;
				pthread_mutex_unlock(&p->mu);
				if (c->wt && c->zseq > c->wt_base) {
					c->wt_rts++;
					if (b[i] == 'I')
						wt_end(p, c, t);
				}
			}
			i += n;
			ps->left -= (uint32_t)n;
		}
		if (ps->body && ps->left == 0)
			ps->body = false;
	}
}

/* ---- forwarding --------------------------------------------------------- */

static void
conn_close(delayproxy *p, int k)
{
	conn *c = p->c[k];

	for (int i = 0; i < 2; i++) {
		chunk *ch = c->d[i].head, *next;

		for (; ch != NULL; ch = next) {
			next = ch->next;
			free(ch);
		}
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	}
	free(c);
	p->c[k] = NULL;
}

static void
accept_one(delayproxy *p)
{
	int cfd, sfd, one = 1, k;
	conn *c;

	if ((cfd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK)) < 0)
		return;
	for (k = 0; k < DP_MAX_CONNS && p->c[k] != NULL; k++)
		;
	sfd = socket(p->up.ss_family, SOCK_STREAM, 0);
	/* a blocking connect: to loopback or a unix socket, it is quick */
	if (k == DP_MAX_CONNS || sfd < 0 ||
	    connect(sfd, (struct sockaddr *)&p->up, p->uplen) != 0 ||
	    nonblock(sfd) != 0 || (c = calloc(1, sizeof(*c))) == NULL) {
		close(cfd);
		if (sfd >= 0)
			close(sfd);
		return;
	}
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (p->up.ss_family == AF_INET)
		setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd[0] = cfd;
	c->fd[1] = sfd;
	c->watch = true;
	p->c[k] = c;
	pthread_mutex_lock(&p->mu);
	p->st.conns++;
	pthread_mutex_unlock(&p->mu);
}

/* Read what fd[i] has into a chunk of d[i]; -1 on an error. */
static int
read_side(delayproxy *p, conn *c, int i, uint64_t t)
{
	dir *d = &c->d[i];
	chunk *ch = malloc(sizeof(*ch) + DP_CHUNK);
	ssize_t n;

	if (ch == NULL)
		return -1;
	n = read(c->fd[i], ch->data, DP_CHUNK);
	if (n <= 0) {
		free(ch);
		if (n == 0) {
			d->eof = true;
			return 0;
		}
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	}
	ch->next = NULL;
	ch->len = (size_t)n;
	ch->off = 0;
	ch->lock = false;
	ch->due_ns = t + (uint64_t)atomic_load(&p->delay_us) * 1000u;
	if (i == 0)
		watch_up(c, ch);
	else
		watch_down(p, c, ch->data, ch->len, t);
	if (d->tail != NULL)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->queued += ch->len;
	pthread_mutex_lock(&p->mu);
	if (i == 0)
		p->st.bytes_up += (uint64_t)n;
	else
		p->st.bytes_down += (uint64_t)n;
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Write the chunks of d[i] that are due; -1 on an error. */
static int
flush_side(conn *c, int i, uint64_t t)
{
	dir *d = &c->d[i];
	chunk *ch;
	ssize_t n;

	d->blocked = false;
	while ((ch = d->head) != NULL && ch->due_ns <= t) {
		n = send(c->fd[!i], ch->data + ch->off, ch->len - ch->off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN) {
				d->blocked = true;
				return 0;
			}
			return errno == EINTR ? 0 : -1;
		}
		if (ch->off == 0 && ch->lock && c->watch) {
			/* the lock statement reaches the server */
			c->wt = true;
			c->wt_start_ns = t;
			c->wt_base = ch->lock_base;
			c->wt_rts = 0;
		}
		ch->off += (size_t)n;
		if (ch->off < ch->len)
			continue;
		d->head = ch->next;
		if (d->head == NULL)
			d->tail = NULL;
		d->queued -= ch->len;
		free(ch);
	}
	if (d->head == NULL && d->eof && !d->shut) {
		shutdown(c->fd[!i], SHUT_WR);
		d->shut = true;
	}
	return 0;
}

static void *
loop(void *arg)
{
	delayproxy *p = arg;
	struct pollfd pf[2 + 2 * DP_MAX_CONNS];
	int where[2 + 2 * DP_MAX_CONNS];

	prctl(PR_SET_TIMERSLACK, 1000UL); /* ns */
	for (;;) {
		uint64_t t = now_ns(), next = UINT64_MAX;
		struct timespec ts, *tsp = NULL;
		nfds_t n = 2;

		for (int k = 0; k < DP_MAX_CONNS; k++) {
			conn *c = p->c[k];

			if (c == NULL)
				continue;
			if (flush_side(c, 0, t) != 0 ||
			    flush_side(c, 1, t) != 0 ||
			    (c->d[0].shut && c->d[1].shut)) {
				conn_close(p, k);
				continue;
			}
			for (int i = 0; i < 2; i++) {
				dir *d = &c->d[i];
				short ev = 0;

				if (!d->eof && d->queued < DP_QUEUE_MAX)
					ev |= POLLIN;
				if (c->d[!i].blocked)
					ev |= POLLOUT;
				else if (c->d[!i].head != NULL &&
				         c->d[!i].head->due_ns < next)
					next = c->d[!i].head->due_ns;
				/* nothing asked: not even POLLHUP, which a
				 * half-closed socket would report at once */
				pf[n].fd = ev != 0 ? c->fd[i] : -1;
				pf[n].events = ev;
				pf[n].revents = 0;
				where[n++] = k * 2 + i;
			}
		}
		pf[0].fd = p->lfd;
		pf[0].events = POLLIN;
		pf[1].fd = p->wake[0];
		pf[1].events = POLLIN;
		pf[0].revents = pf[1].revents = 0;
		if (next != UINT64_MAX) {
			uint64_t w = next > t ? next - t : 0;

			ts.tv_sec = (time_t)(w / 1000000000u);
			ts.tv_nsec = (long)(w % 1000000000u);
			tsp = &ts;
		}
		if (ppoll(pf, n, tsp, NULL) < 0 && errno != EINTR)
			break;
		if (pf[1].revents != 0)
			break; /* dp_stop */
		t = now_ns();
		for (nfds_t j = 2; j < n; j++) {
			int k = where[j] / 2, i = where[j] % 2;
			conn *c = p->c[k];

			if (c == NULL || pf[j].revents == 0)
				continue;
			if ((pf[j].revents & (POLLIN | POLLHUP | POLLERR)) &&
			    !c->d[i].eof && read_side(p, c, i, t) != 0)
				conn_close(p, k);
		}
		if (pf[0].revents & POLLIN)
			accept_one(p);
	}
	for (int k = 0; k < DP_MAX_CONNS; k++)
		if (p->c[k] != NULL)
			conn_close(p, k);
	return NULL;
}

/* ---- the interface ------------------------------------------------------ */

static int
parse_upstream(delayproxy *p, const char *up, char *why, size_t len)
{
	memset(&p->up, 0, sizeof(p->up));
	if (up[0] == '/') {
		struct sockaddr_un *u = (struct sockaddr_un *)&p->up;

		if (strlen(up) >= sizeof(u->sun_path)) {
			snprintf(why, len, "the socket path is too long");
			return -1;
		}
		u->sun_family = AF_UNIX;
		strcpy(u->sun_path, up);
		p->uplen = sizeof(*u);
		return 0;
	}
	{
		struct sockaddr_in *a = (struct sockaddr_in *)&p->up;
		const char *colon = strrchr(up, ':');
		char *end;
		long port = colon != NULL ? strtol(colon + 1, &end, 10) : 0;

		if (colon == NULL || strncmp(up, "127.0.0.1", 9) != 0 ||
		    colon != up + 9 || *end != '\0' || port < 1 ||
		    port > 65535) {
			snprintf(why, len,
			    "upstream: a socket path or 127.0.0.1:PORT");
			return -1;
		}
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		p->uplen = sizeof(*a);
	}
	return 0;
}

int
dp_start(delayproxy **out, const char *upstream, unsigned one_way_us, char *why,
    size_t len)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	delayproxy *p;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->samples = calloc(DP_SAMPLES, sizeof(uint32_t))) == NULL) {
		free(p);
		snprintf(why, len, "out of memory");
		return -1;
	}
	p->lfd = p->wake[0] = p->wake[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	atomic_init(&p->delay_us, one_way_us);
	p->reset_ns = now_ns();
	*out = p;
	if (parse_upstream(p, upstream, why, len) != 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((p->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
	    bind(p->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(p->lfd, 64) != 0 ||
	    getsockname(p->lfd, (struct sockaddr *)&a, &alen) != 0 ||
	    pipe2(p->wake, O_CLOEXEC) != 0) {
		snprintf(why, len, "cannot listen: %s", strerror(errno));
		return -1;
	}
	p->port = ntohs(a.sin_port);
	if (pthread_create(&p->thread, NULL, loop, p) != 0) {
		snprintf(why, len, "cannot start its thread");
		return -1;
	}
	p->started = true;
	return 0;
}

int
dp_port(const delayproxy *p)
{
	return p->port;
}

void
dp_set_delay(delayproxy *p, unsigned one_way_us)
{
	atomic_store(&p->delay_us, one_way_us);
}

void
dp_stats_reset(delayproxy *p)
{
	pthread_mutex_lock(&p->mu);
	memset(&p->st, 0, sizeof(p->st));
	p->nsamples = 0;
	p->reset_ns = now_ns();
	pthread_mutex_unlock(&p->mu);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
dp_stats_get(delayproxy *p, dp_stats *out)
{
	uint32_t *copy = NULL;
	size_t n;

	pthread_mutex_lock(&p->mu);
	*out = p->st;
	out->seconds = (double)(now_ns() - p->reset_ns) / 1e9;
	n = p->nsamples;
	if (n > 0 && (copy = malloc(n * sizeof(*copy))) != NULL)
		memcpy(copy, p->samples, n * sizeof(*copy));
	pthread_mutex_unlock(&p->mu);
	out->hold_p50_us = out->hold_p99_us = 0;
	if (copy != NULL) {
		qsort(copy, n, sizeof(*copy), cmp_u32);
		out->hold_p50_us = copy[(size_t)((double)(n - 1) * 0.50)];
		out->hold_p99_us = copy[(size_t)((double)(n - 1) * 0.99)];
		free(copy);
	}
}

void
dp_stop(delayproxy **pp)
{
	delayproxy *p = *pp;

	*pp = NULL;
	if (p == NULL)
		return;
	if (p->started) {
		(void)!write(p->wake[1], "x", 1);
		pthread_join(p->thread, NULL);
	}
	if (p->lfd >= 0)
		close(p->lfd);
	for (int i = 0; i < 2; i++)
		if (p->wake[i] >= 0)
			close(p->wake[i]);
	pthread_mutex_destroy(&p->mu);
	free(p->samples);
	free(p);
}
