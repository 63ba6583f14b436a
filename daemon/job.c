/*
 * job.c - jobs, their arenas, and the queues between privd's threads.
 */
#include "job.h"
#include "sweep.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "snapshot.h"

#define ARENA_FIRST (16 * 1024) /* the chunk every job keeps */
#define ARENA_CHUNK (64 * 1024) /* overflow chunks, at least */
#define ARENA_ALIGN 8

static arena_chunk *
chunk_new(size_t cap)
{
	arena_chunk *c;

	if ((c = malloc(sizeof(*c) + cap)) == NULL)
		return NULL;
	c->next = NULL;
	c->cap = cap;
	c->used = 0;
	return c;
}

void *
arena_alloc(arena *a, size_t n)
{
	arena_chunk *c;
	size_t off, cap;

	if (a->first == NULL) {
		if ((a->first = chunk_new(ARENA_FIRST)) == NULL)
			return NULL;
		a->cur = a->first;
	}
	c = a->cur;
	off = (c->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (off <= c->cap && n <= c->cap - off) {
		c->used = off + n;
		return c->data + off;
	}
	cap = n > ARENA_CHUNK ? n : ARENA_CHUNK;
	if (a->limit != 0 && a->total + cap > a->limit)
		return NULL;
	if ((c = chunk_new(cap)) == NULL)
		return NULL;
	a->total += cap;
	a->cur->next = c;
	a->cur = c;
	c->used = n;
	return c->data;
}

void
arena_reset(arena *a)
{
	arena_chunk *c, *next;

	if (a->first == NULL)
		return;
	for (c = a->first->next; c != NULL; c = next) {
		next = c->next;
		sodium_memzero(c->data, c->used);
		free(c);
	}
	sodium_memzero(a->first->data, a->first->used);
	a->first->used = 0;
	a->first->next = NULL;
	a->cur = a->first;
	a->total = 0;
	a->limit = 0;
}

void
arena_free(arena *a)
{
	arena_reset(a);
	free(a->first);
	memset(a, 0, sizeof(*a));
}

static void *
pb_arena_alloc(void *data, size_t n)
{
	return arena_alloc(data, n);
}

static void
pb_arena_free(void *data, void *p)
{
	/* freed with the arena */
}

const ProtobufCAllocator arena_pb_allocator = {
    .alloc = pb_arena_alloc,
    .free = pb_arena_free,
    .allocator_data = NULL,
};

job *
job_new(void)
{
	job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	zmq_msg_init(&j->frame);
	zmq_msg_init(&j->reply);
	privd__v1__audit_event__init(&j->ev);
	return j;
}

/* Drop the received frame; it may hold values, so wipe it first (the
 * message's buffer is ours alone once received). */
static void
frame_drop(zmq_msg_t *m)
{
	if (zmq_msg_size(m) > 0)
		sodium_memzero(zmq_msg_data(m), zmq_msg_size(m));
	zmq_msg_close(m);
	zmq_msg_init(m);
}

/* Drop an unsent reply (closing the message wipes and frees its buffer). */
static void
reply_drop(job *j)
{
	zmq_msg_close(&j->reply);
	zmq_msg_init(&j->reply);
	j->has_reply = false;
}

void
job_clear(job *j)
{
	frame_drop(&j->frame);
	snapshot_release(&j->snap);
	snapshot_release(&j->newsnap);
	j->policy_version = 0;
	j->policy_same = false;
	j->policy_refused = false;
	arena_reset(&j->ar);
	reply_drop(j);
	j->req = NULL;
	j->request_id = 0; /* a request that cannot be decoded has none */
	j->values = NULL;
	j->nvalues = 0;
	j->reg = NULL;
	j->purpose = NULL;
	j->kind = JOB_ANSWERED;
	j->status = 0;
	j->reason = 0;
	j->message[0] = '\0';
	j->count = 0;
	j->at_us = 0;
	j->replaced = false;
	j->retained = NULL;
	j->nretained = 0;
	sweep_free(&j->sweep);
	j->eregs = NULL;
	j->esids = NULL;
	j->neregs = 0;
	j->erased = NULL;
	j->nerased = 0;
	j->new_key = false;
	j->has_key = false;
	privd__v1__audit_event__init(&j->ev);
	j->multipart = false;
	j->follow = false;
	j->no_event = false;
	j->grace_us = 0;
	j->deadline_us = 0;
	j->next = NULL;
	if (j->reccap > 64 * 1024) { /* do not pin a huge request's buffer */
		sodium_memzero(j->recbuf, j->reccap);
		free(j->recbuf);
		j->recbuf = NULL;
		j->reccap = 0;
	}
}

void
job_free(job *j)
{
	if (j == NULL)
		return;
	job_clear(j);
	zmq_msg_close(&j->frame);
	zmq_msg_close(&j->reply);
	arena_free(&j->ar);
	if (j->recbuf != NULL)
		sodium_memzero(j->recbuf, j->reccap);
	free(j->recbuf);
	free(j);
}

/* Free a reply buffer: it may hold values. hint is its size. */
static void
reply_free(void *data, void *hint)
{
	sodium_memzero(data, (size_t)(uintptr_t)hint);
	free(data);
}

void
job_pack(job *j, Privd__V1__Response *resp)
{
	Privd__V1__Response empty = PRIVD__V1__RESPONSE__INIT;
	uint8_t *buf;
	size_t n;

	if (resp == NULL)
		resp = &empty;
	resp->request_id = j->request_id;
	resp->status = j->status;
	resp->reason = j->reason;
	resp->message = j->message;
	reply_drop(j);
	n = privd__v1__response__get_packed_size(resp);
	if ((buf = malloc(n ? n : 1)) == NULL)
		return;
	n = privd__v1__response__pack(resp, buf);
	if (zmq_msg_init_data(
	        &j->reply, buf, n, reply_free, (void *)(uintptr_t)n) != 0) {
		reply_free(buf, (void *)(uintptr_t)n);
		zmq_msg_init(&j->reply);
		return;
	}
	j->has_reply = true;
}

void
job_drop_reply(job *j)
{
	reply_drop(j);
}

void
job_ok(job *j, Privd__V1__Response *resp)
{
	j->status = PRIVD__V1__STATUS__OK;
	job_pack(j, resp);
}

void
job_fail(job *j, int status, int reason, const char *fmt, ...)
{
	va_list ap;

	j->kind = JOB_ANSWERED;
	j->status = status;
	j->reason = reason;
	va_start(ap, fmt);
	vsnprintf(j->message, sizeof(j->message), fmt, ap);
	va_end(ap);
	job_pack(j, NULL);
}

bool
job_late(const job *j)
{
	struct timespec ts;

	if (j->deadline_us == 0)
		return false;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000 >
	       j->deadline_us;
}

bool
job_expired(job *j)
{
	if (!job_late(j))
		return false;
	/* never the deadline itself in the message: only that it passed */
	job_fail(j, PRIVD__V1__STATUS__EXPIRED, 0,
	    "the request's deadline passed before privd could carry it "
	    "out: it had no effect (if this is unexpected, check that the "
	    "client's and privd's clocks are synchronised)");
	return true;
}

int
jobq_init(jobq *q, bool with_eventfd)
{
	pthread_condattr_t ca;

	memset(q, 0, sizeof(*q));
	q->efd = -1;
	if (with_eventfd &&
	    (q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		return -1;
	pthread_mutex_init(&q->mu, NULL);
	/* timed waits count on the monotonic clock (jobq_take_until) */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cv, &ca);
	pthread_condattr_destroy(&ca);
	return 0;
}

void
jobq_destroy(jobq *q)
{
	job *j, *next;

	for (j = q->head; j != NULL; j = next) {
		next = j->next;
		job_free(j);
	}
	if (q->efd >= 0)
		close(q->efd);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
}

void
jobq_push(jobq *q, job *first)
{
	job *last;
	size_t n = 1;
	uint64_t one = 1;

	if (first == NULL)
		return;
	for (last = first; last->next != NULL; last = last->next)
		n++;
	pthread_mutex_lock(&q->mu);
	if (q->tail != NULL)
		q->tail->next = first;
	else
		q->head = first;
	q->tail = last;
	q->len += n;
	pthread_cond_signal(&q->cv);
	pthread_mutex_unlock(&q->mu);
	if (q->efd >= 0 && write(q->efd, &one, sizeof(one)) < 0) {
		/* counter full: the reader is already due to wake */
	}
}

/* Detach up to max jobs from the head; caller holds q->mu. */
static job *
take_locked(jobq *q, size_t max)
{
	job *first = q->head, *last = first;
	size_t n = 1;

	if (first == NULL)
		return NULL;
	while (n < max && last->next != NULL) {
		last = last->next;
		n++;
	}
	q->head = last->next;
	if (q->head == NULL)
		q->tail = NULL;
	last->next = NULL;
	q->len -= n;
	if (q->head != NULL)
		pthread_cond_signal(&q->cv); /* more for another taker */
	return first;
}

job *
jobq_take(jobq *q, size_t max)
{
	job *j;

	pthread_mutex_lock(&q->mu);
	while (q->head == NULL && !q->closed)
		pthread_cond_wait(&q->cv, &q->mu);
	j = take_locked(q, max);
	pthread_mutex_unlock(&q->mu);
	return j;
}

job *
jobq_take_until(
    jobq *q, size_t max, const struct timespec *deadline, bool *closed)
{
	job *j;

	pthread_mutex_lock(&q->mu);
	while (q->head == NULL && !q->closed)
		if (pthread_cond_timedwait(&q->cv, &q->mu, deadline) != 0)
			break;
	j = take_locked(q, max);
	*closed = q->closed && j == NULL;
	pthread_mutex_unlock(&q->mu);
	return j;
}

size_t
jobq_waiting(jobq *q)
{
	size_t n;

	pthread_mutex_lock(&q->mu);
	n = q->len;
	pthread_mutex_unlock(&q->mu);
	return n;
}

job *
jobq_take_nowait(jobq *q)
{
	uint64_t v;
	job *j;

	if (q->efd >= 0 && read(q->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing signalled, but look anyway */
	}
	pthread_mutex_lock(&q->mu);
	j = take_locked(q, SIZE_MAX);
	pthread_mutex_unlock(&q->mu);
	return j;
}

void
jobq_close(jobq *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->cv);
	pthread_mutex_unlock(&q->mu);
}
