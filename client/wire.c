/*
 * wire.c - what a call of libprivd puts on the wire and takes off it,
 * apart from the socket (conn.c): the request ids, the buffer of a packed
 * request, the frames received and the unpacked replies, each wiped when
 * it is freed.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "internal.h"

/*
 * Wiping. Requests carry subject ids and values, a get's reply carries
 * values: every buffer of ours that held one is wiped before it is freed.
 * The packed request lives in a buffer that libzmq frees through
 * cl_req_free() once it has been sent (or dropped); each received frame is
 * wiped before it is closed; every unpacked reply is allocated through
 * reply_alloc, whose free wipes what it frees. What libzmq's CURVE code
 * copies internally while it encrypts and decrypts is beyond our reach.
 */

/* Room before each block of reply_alloc for its size, aligned for any
 * type protobuf-c puts there. */
#define BLOCK_HEAD _Alignof(max_align_t)

static void *
reply_block_alloc(void *data, size_t size)
{
	unsigned char *b;

	(void)data;
	if (size > SIZE_MAX - BLOCK_HEAD ||
	    (b = malloc(BLOCK_HEAD + size)) == NULL)
		return NULL;
	memcpy(b, &size, sizeof(size));
	return b + BLOCK_HEAD;
}

static void
reply_block_free(void *data, void *p)
{
	unsigned char *b;
	size_t size;

	(void)data;
	if (p == NULL)
		return;
	b = (unsigned char *)p - BLOCK_HEAD;
	memcpy(&size, b, sizeof(size));
	cl_wipe(p, size);
	free(b);
}

static ProtobufCAllocator reply_alloc = {
    reply_block_alloc, reply_block_free, NULL};

Privd__V1__Response *
cl_response_unpack(size_t len, const uint8_t *data)
{
	return privd__v1__response__unpack(&reply_alloc, len, data);
}

void
cl_response_free(Privd__V1__Response *r)
{
	if (r != NULL)
		privd__v1__response__free_unpacked(r, &reply_alloc);
}

/* libzmq's free function of a packed request: hint is its length. */
void
cl_req_free(void *data, void *hint)
{
	cl_wipe(data, (size_t)(uintptr_t)hint);
	free(data);
}

/* Wipe a received frame and close it. */
void
cl_msg_wipe_close(void *msg)
{
	zmq_msg_t *m = msg;

	cl_wipe(zmq_msg_data(m), zmq_msg_size(m));
	zmq_msg_close(m);
}

/*
 * A starting request id that differs between handles and processes, so that
 * ids in privd's audit log are not all small numbers from every client.
 * Not a secret: /dev/urandom if possible, else the clock and an address.
 */
uint64_t
cl_random_id(void)
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

/*
 * The wall clock says when the deadline falls for privd, which compares it
 * with its own wall clock: the clocks of different hosts agree (NTP) where
 * their monotonic clocks do not. The attempt itself is timed on the
 * monotonic clock, so a step of the wall clock during a call moves only
 * what privd is told, never how long the client waits.
 */
uint64_t
cl_wall_deadline_ms(int64_t deadline)
{
	struct timespec ts;
	int64_t left = deadline - cl_now_ms();

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000 +
	       (uint64_t)(left > 0 ? left : 0);
}
