/*
 * dealer.c - a raw ZeroMQ DEALER with CURVE, for tests that speak the wire
 * protocol without libprivd (see harness.h).
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

int
h_dealer_open(harness *h, const char *keyname, const char *server_key,
    bool monitor, h_dealer *d)
{
	const h_key *k = h_key_get(h, keyname);
	int zero = 0, sndtimeo = 5000;
	static unsigned mon_seq;

	memset(d, 0, sizeof(*d));
	if (k == NULL)
		return -1;
	if (server_key == NULL)
		server_key = h->server_key;
	d->ctx = zmq_ctx_new();
	if (d->ctx == NULL)
		return -1;
	d->sock = zmq_socket(d->ctx, ZMQ_DEALER);
	if (d->sock == NULL)
		goto fail;
	if (zmq_setsockopt(d->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(
	        d->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo)) != 0 ||
	    zmq_setsockopt(d->sock, ZMQ_CURVE_SERVERKEY, server_key,
	        strlen(server_key) + 1) != 0 ||
	    zmq_setsockopt(d->sock, ZMQ_CURVE_PUBLICKEY, k->pub,
	        strlen(k->pub) + 1) != 0 ||
	    zmq_setsockopt(
	        d->sock, ZMQ_CURVE_SECRETKEY, k->sec, strlen(k->sec) + 1) != 0)
		goto fail;
	if (monitor) {
		char addr[64];
		snprintf(addr, sizeof(addr), "inproc://h-mon-%u", mon_seq++);
		if (zmq_socket_monitor(d->sock, addr, ZMQ_EVENT_ALL) != 0)
			goto fail;
		d->mon = zmq_socket(d->ctx, ZMQ_PAIR);
		if (d->mon == NULL ||
		    zmq_setsockopt(d->mon, ZMQ_LINGER, &zero, sizeof(zero)) !=
		        0 ||
		    zmq_connect(d->mon, addr) != 0)
			goto fail;
	}
	if (zmq_connect(d->sock, h->endpoint) != 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "harness: dealer: %s\n", zmq_strerror(zmq_errno()));
	h_dealer_close(d);
	return -1;
}

void
h_dealer_close(h_dealer *d)
{
	if (d->sock != NULL && d->mon != NULL)
		zmq_socket_monitor(d->sock, NULL, 0);
	if (d->mon != NULL)
		zmq_close(d->mon);
	if (d->sock != NULL)
		zmq_close(d->sock);
	if (d->ctx != NULL)
		zmq_ctx_term(d->ctx);
	memset(d, 0, sizeof(*d));
}

int
h_dealer_send(
    h_dealer *d, const void *const *parts, const size_t *lens, size_t nparts)
{
	for (size_t i = 0; i < nparts; i++) {
		int flags = i + 1 < nparts ? ZMQ_SNDMORE : 0;
		if (zmq_send(d->sock, parts[i], lens[i], flags) < 0) {
			fprintf(stderr, "harness: zmq_send: %s\n",
			    zmq_strerror(zmq_errno()));
			return -1;
		}
	}
	return 0;
}

int
h_dealer_recv(
    h_dealer *d, int timeout_ms, uint8_t **buf, size_t *len, size_t *nframes)
{
	zmq_pollitem_t it = {.socket = d->sock, .events = ZMQ_POLLIN};
	int64_t deadline = h_now_ms() + timeout_ms;
	zmq_msg_t msg;
	size_t frames = 0;
	int more;
	size_t more_len = sizeof(more);

	*buf = NULL;
	*len = 0;
	*nframes = 0;
	for (;;) {
		int64_t left = deadline - h_now_ms();
		if (left < 0)
			left = 0;
		int r = zmq_poll(&it, 1, (long)left);
		if (r < 0 && zmq_errno() == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			break;
		if (left == 0)
			return -1;
	}
	do {
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, d->sock, 0) < 0) {
			zmq_msg_close(&msg);
			free(*buf);
			*buf = NULL;
			return -1;
		}
		if (frames == 0) {
			*len = zmq_msg_size(&msg);
			*buf = malloc(*len + 1);
			if (*buf == NULL) {
				zmq_msg_close(&msg);
				return -1;
			}
			memcpy(*buf, zmq_msg_data(&msg), *len);
		}
		frames++;
		zmq_msg_close(&msg);
		zmq_getsockopt(d->sock, ZMQ_RCVMORE, &more, &more_len);
	} while (more);
	*nframes = frames;
	return 0;
}

int
h_dealer_wait_event(h_dealer *d, int mask, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;

	if (d->mon == NULL)
		return -1;
	for (;;) {
		zmq_pollitem_t it = {.socket = d->mon, .events = ZMQ_POLLIN};
		int64_t left = deadline - h_now_ms();
		zmq_msg_t msg;
		uint16_t ev = 0;
		int more;
		size_t more_len = sizeof(more);

		if (left <= 0)
			return -1;
		if (zmq_poll(&it, 1, (long)left) <= 0)
			continue;
		/* Frame 1: 16-bit event, 32-bit value; frame 2: endpoint. */
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, d->mon, 0) < 0) {
			zmq_msg_close(&msg);
			return -1;
		}
		if (zmq_msg_size(&msg) >= 2)
			memcpy(&ev, zmq_msg_data(&msg), sizeof(ev));
		zmq_msg_close(&msg);
		zmq_getsockopt(d->mon, ZMQ_RCVMORE, &more, &more_len);
		while (more) {
			zmq_msg_init(&msg);
			zmq_msg_recv(&msg, d->mon, 0);
			zmq_msg_close(&msg);
			zmq_getsockopt(d->mon, ZMQ_RCVMORE, &more, &more_len);
		}
		if ((ev & mask) != 0)
			return ev;
	}
}

Privd__V1__Response *
h_dealer_call(h_dealer *d, const Privd__V1__Request *req, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	size_t len = privd__v1__request__get_packed_size(req), n, frames;
	uint8_t *buf = malloc(len > 0 ? len : 1), *reply;
	const void *parts[1];
	Privd__V1__Response *resp;

	if (buf == NULL)
		return NULL;
	privd__v1__request__pack(req, buf);
	parts[0] = buf;
	if (h_dealer_send(d, parts, &len, 1) != 0) {
		free(buf);
		return NULL;
	}
	free(buf);
	for (;;) {
		int64_t left = deadline - h_now_ms();

		if (h_dealer_recv(d, left > 0 ? (int)left : 0, &reply, &n,
		        &frames) != 0) {
			fprintf(stderr,
			    "harness: no reply to request %llu within "
			    "%d ms\n",
			    (unsigned long long)req->request_id, timeout_ms);
			return NULL;
		}
		resp = privd__v1__response__unpack(NULL, n, reply);
		free(reply);
		if (resp == NULL) {
			fprintf(stderr, "harness: a reply is not a Response\n");
			return NULL;
		}
		if (resp->request_id == req->request_id)
			return resp;
		privd__v1__response__free_unpacked(resp, NULL);
	}
}
