/*
 * floor_ipc.c - floor (a): a bare ZeroMQ ROUTER/DEALER echo with CURVE.
 *
 * A forked child binds a ROUTER as a CURVE server on the same transport
 * as privd (ipc in the bench's directory, or tcp on 127.0.0.1) and answers
 * every frame with a frame of the size of privd's GET reply, the request's
 * first 8 bytes (the load generator's request id) at its start. The
 * clients are the load generator's (LOAD_ECHO), sending frames of the size
 * of privd's GET request: the same message sizes and concurrency, and
 * nothing else, so this is what the transport alone costs.
 *
 * The child is a separate process, as privd is, so that its CPU can be
 * read from /proc the same way; it dies with the bench (PR_SET_PDEATHSIG)
 * and echo_stop() ends it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "floors.h"

static void
echo_serve(const char *endpoint, const char *sec, size_t reply_size, int fd)
{
	void *ctx = zmq_ctx_new(), *router;
	int one = 1, hwm = 100000;
	uint8_t *reply = calloc(1, reply_size > 8 ? reply_size : 8);
	zmq_msg_t id, body;

	if (ctx == NULL || reply == NULL ||
	    (router = zmq_socket(ctx, ZMQ_ROUTER)) == NULL ||
	    zmq_setsockopt(router, ZMQ_CURVE_SERVER, &one, sizeof(one)) != 0 ||
	    zmq_setsockopt(router, ZMQ_CURVE_SECRETKEY, sec, strlen(sec) + 1) !=
	        0 ||
	    zmq_setsockopt(router, ZMQ_SNDHWM, &hwm, sizeof(hwm)) != 0 ||
	    zmq_setsockopt(router, ZMQ_RCVHWM, &hwm, sizeof(hwm)) != 0 ||
	    zmq_bind(router, endpoint) != 0) {
		fprintf(stderr, "privd-bench: echo: cannot bind: %s\n",
		    zmq_strerror(zmq_errno()));
		_exit(1);
	}
	if (write(fd, "r", 1) != 1)
		_exit(1);
	close(fd);
	for (;;) {
		size_t n;

		zmq_msg_init(&id);
		zmq_msg_init(&body);
		if (zmq_msg_recv(&id, router, 0) < 0 ||
		    zmq_msg_recv(&body, router, 0) < 0)
			_exit(errno == EINTR ? 0 : 1);
		n = zmq_msg_size(&body);
		memcpy(reply, zmq_msg_data(&body), n < 8 ? n : 8);
		zmq_msg_send(&id, router, ZMQ_SNDMORE);
		zmq_send(router, reply, reply_size, 0);
		zmq_msg_close(&id);
		zmq_msg_close(&body);
	}
}

int
echo_start(echo_server *e, const char *endpoint, size_t reply_size)
{
	char sec[BENCH_KEY_LEN], c;
	pid_t parent = getpid();
	int fds[2];
	ssize_t n;

	memset(e, 0, sizeof(*e));
	e->pid = -1;
	snprintf(e->endpoint, sizeof(e->endpoint), "%s", endpoint);
	if (zmq_curve_keypair(e->server_key, sec) != 0 || pipe(fds) != 0)
		return -1;
	fflush(NULL);
	if ((e->pid = fork()) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (e->pid == 0) {
		close(fds[0]);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(1);
		signal(SIGINT, SIG_IGN); /* the bench stops it */
		signal(SIGTERM, SIG_DFL);
		echo_serve(endpoint, sec, reply_size, fds[1]);
		_exit(0);
	}
	close(fds[1]);
	do
		n = read(fds[0], &c, 1);
	while (n < 0 && errno == EINTR);
	close(fds[0]);
	if (n != 1) {
		echo_stop(e);
		return -1;
	}
	return 0;
}

void
echo_stop(echo_server *e)
{
	int st;

	if (e->pid <= 0)
		return;
	kill(e->pid, SIGKILL);
	while (waitpid(e->pid, &st, 0) < 0 && errno == EINTR)
		;
	e->pid = -1;
	if (strncmp(e->endpoint, "ipc://", 6) == 0)
		unlink(e->endpoint + 6);
}
