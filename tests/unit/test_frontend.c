/*
 * test_frontend.c - a reply goes to its own peer, whole or not at all
 * (daemon/frontend.c frontend_send, daemon/job.c job_pack).
 *
 * A real ROUTER and two DEALERs over inproc (no CURVE: that is not what is
 * tested here). Building a reply can fail (out of memory); the test makes
 * it fail with -Wl,--wrap=zmq_msg_init_data, and checks that the peer of
 * the failed reply gets nothing and the next reply reaches its own peer
 * alone. Before the fix, the routing id went out with SNDMORE before the
 * body was built, so the next reply's frames reached the first peer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "server.h"

static int fail_next_init_data;

int __real_zmq_msg_init_data(
    zmq_msg_t *m, void *data, size_t size, zmq_free_fn *ffn, void *hint);
int __wrap_zmq_msg_init_data(
    zmq_msg_t *m, void *data, size_t size, zmq_free_fn *ffn, void *hint);

int
__wrap_zmq_msg_init_data(
    zmq_msg_t *m, void *data, size_t size, zmq_free_fn *ffn, void *hint)
{
	if (fail_next_init_data) {
		fail_next_init_data = 0;
		errno = ENOMEM;
		return -1;
	}
	return __real_zmq_msg_init_data(m, data, size, ffn, hint);
}

/* Wait up to ms for a message on s; returns its frame count (0: none). */
static int
recv_frames(void *s, int ms, char *first, size_t firstlen)
{
	zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
	zmq_msg_t m;
	int n = 0, more;

	if (zmq_poll(&it, 1, ms) <= 0)
		return 0;
	zmq_msg_init(&m);
	do {
		assert_true(zmq_msg_recv(&m, s, 0) >= 0);
		if (n == 0 && first != NULL) {
			size_t k = zmq_msg_size(&m) < firstlen - 1
			               ? zmq_msg_size(&m)
			               : firstlen - 1;
			memcpy(first, zmq_msg_data(&m), k);
			first[k] = '\0';
		}
		n++;
		more = zmq_msg_more(&m);
	} while (more);
	zmq_msg_close(&m);
	return n;
}

static job *
reply_for(const char *rid, const char *msg)
{
	job *j = job_new();

	assert_non_null(j);
	memcpy(j->rid, rid, strlen(rid));
	j->ridlen = strlen(rid);
	job_fail(j, PRIVD__V1__STATUS__INVALID, 0, "%s", msg);
	return j;
}

static void
test_failed_reply_sends_nothing_and_next_reaches_its_peer(void **state)
{
	void *ctx = zmq_ctx_new(), *router, *d1, *d2;
	char first[64];
	int zero = 0;
	job *a, *b;

	router = zmq_socket(ctx, ZMQ_ROUTER);
	d1 = zmq_socket(ctx, ZMQ_DEALER);
	d2 = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(d1, ZMQ_ROUTING_ID, "peer-1", 6);
	zmq_setsockopt(d2, ZMQ_ROUTING_ID, "peer-2", 6);
	zmq_setsockopt(d1, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(d2, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(router, ZMQ_LINGER, &zero, sizeof(zero));
	assert_int_equal(zmq_bind(router, "inproc://test-frontend"), 0);
	assert_int_equal(zmq_connect(d1, "inproc://test-frontend"), 0);
	assert_int_equal(zmq_connect(d2, "inproc://test-frontend"), 0);
	/* a message from each, so the ROUTER knows both peers */
	assert_int_equal(zmq_send(d1, "hi", 2, 0), 2);
	assert_int_equal(zmq_send(d2, "hi", 2, 0), 2);
	assert_int_equal(recv_frames(router, 1000, NULL, 0), 2);
	assert_int_equal(recv_frames(router, 1000, NULL, 0), 2);

	fail_next_init_data = 1;
	a = reply_for("peer-1", "for peer 1");
	assert_false(a->has_reply); /* building it failed */
	b = reply_for("peer-2", "for peer 2");
	assert_true(b->has_reply);

	assert_int_equal(frontend_send(router, a), -1);
	assert_int_equal(frontend_send(router, b), 0);
	assert_int_equal(recv_frames(d2, 1000, first, sizeof(first)), 1);
	assert_non_null(memmem(first, sizeof(first), "peer 2", 6));
	assert_int_equal(recv_frames(d1, 200, NULL, 0), 0);

	job_free(a);
	job_free(b);
	zmq_close(d1);
	zmq_close(d2);
	zmq_close(router);
	zmq_ctx_term(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_failed_reply_sends_nothing_and_next_reaches_its_peer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
