/*
 * test_job.c - the request arena of daemon/job.c: bump allocation across
 * chunks, the per-request limit that bounds decoding, and reset; and what a
 * recycled job forgets and wipes (request id, request frame, reply).
 *
 * Linked with -Wl,--wrap=free, so the test sees the bytes of the blocks that
 * job.c frees (__wrap_free below): a reply must be wiped before it goes.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job.h"
#include "privd.pb-c.h"

/* The block whose contents are checked when freed, and what was seen. */
static const void *watched;
static size_t watched_len;
static int watched_freed, watched_wiped;

void __real_free(void *p);
void __wrap_free(void *p);

void
__wrap_free(void *p)
{
	if (p != NULL && p == watched) {
		const uint8_t *b = p;
		size_t i;

		watched_freed++;
		watched_wiped = 1;
		for (i = 0; i < watched_len; i++)
			if (b[i] != 0)
				watched_wiped = 0;
		watched = NULL;
	}
	__real_free(p);
}

#define NBLOCKS 100
#define BLOCK   1000

static void
test_arena_allocates_across_chunks(void **state)
{
	arena a = {0};
	uint8_t *p[NBLOCKS], *big, want[BLOCK];
	uintptr_t lo, hi;
	int i, j;

	for (i = 0; i < NBLOCKS; i++) {
		p[i] = arena_alloc(&a, BLOCK);
		assert_non_null(p[i]);
		assert_int_equal((uintptr_t)p[i] % 8, 0);
		memset(p[i], i, BLOCK);
	}
	big = arena_alloc(&a, 1024 * 1024); /* bigger than a chunk */
	assert_non_null(big);
	assert_int_equal((uintptr_t)big % 8, 0);
	memset(big, 0xee, 1024 * 1024);

	/* No two blocks share an address... */
	for (i = 0; i < NBLOCKS; i++) {
		lo = (uintptr_t)p[i];
		hi = lo + BLOCK;
		for (j = 0; j < NBLOCKS; j++)
			if (j != i)
				assert_true((uintptr_t)p[j] + BLOCK <= lo ||
				            (uintptr_t)p[j] >= hi);
		assert_true(
		    (uintptr_t)big + 1024 * 1024 <= lo || (uintptr_t)big >= hi);
	}
	/* ...so every byte of every block still holds what was written to it
	 * (the first and last byte included), after all later writes. */
	for (i = 0; i < NBLOCKS; i++) {
		memset(want, i, BLOCK);
		assert_int_equal(p[i][0], (uint8_t)i);
		assert_int_equal(p[i][BLOCK - 1], (uint8_t)i);
		assert_memory_equal(p[i], want, BLOCK);
	}
	arena_free(&a);
}

/* With a limit, the arena refuses to grow past it: this is what stops a
 * small frame from decoding into a huge message. */
static void
test_arena_limit_refuses(void **state)
{
	arena a = {0};
	size_t got = 0;
	void *p;

	a.limit = 256 * 1024;
	while ((p = arena_alloc(&a, 4096)) != NULL) {
		got += 4096;
		assert_true(got <= a.limit + 64 * 1024);
	}
	assert_true(got >= 128 * 1024);
	assert_null(arena_alloc(&a, 512 * 1024));
	/* reset lifts the limit and frees the overflow */
	arena_reset(&a);
	assert_int_equal(a.limit, 0);
	assert_int_equal(a.total, 0);
	assert_non_null(arena_alloc(&a, 512 * 1024));
	arena_free(&a);
}

/* Reset keeps the first chunk (reused, wiped) and frees the others. */
static void
test_arena_reset_reuses_and_wipes(void **state)
{
	arena a = {0};
	uint8_t *p, *q;

	p = arena_alloc(&a, 64);
	memset(p, 0xAB, 64);
	assert_non_null(arena_alloc(&a, 200 * 1024));
	arena_reset(&a);
	assert_null(a.first->next);
	assert_int_equal(a.first->used, 0);
	/* the value that was there is gone */
	for (int i = 0; i < 64; i++)
		assert_int_equal(p[i], 0);
	q = arena_alloc(&a, 64);
	assert_ptr_equal(p, q);
	arena_free(&a);
	assert_null(a.first);
}

/* A recycled job has no request id: a frame that cannot be decoded must be
 * answered with 0, never with the id of the job's previous request (issue
 * 7: replies carried another client's request id). */
static void
test_clear_forgets_request_id(void **state)
{
	Privd__V1__Response *r;
	job *j = job_new();

	assert_non_null(j);
	j->request_id = 0xfeedfacecafebeefULL;
	job_fail(j, PRIVD__V1__STATUS__INVALID, 0, "first");
	job_clear(j);
	assert_int_equal(j->request_id, 0);
	assert_false(j->has_reply);
	job_fail(j, PRIVD__V1__STATUS__INVALID, 0, "second");
	assert_true(j->has_reply);
	r = privd__v1__response__unpack(
	    NULL, zmq_msg_size(&j->reply), zmq_msg_data(&j->reply));
	assert_non_null(r);
	assert_int_equal(r->request_id, 0);
	privd__v1__response__free_unpacked(r, NULL);
	job_free(j);
}

static int frame_freed, frame_wiped;

static void
check_frame_free(void *data, void *hint)
{
	const uint8_t *b = data;
	size_t i, n = (size_t)(uintptr_t)hint;

	frame_freed++;
	frame_wiped = 1;
	for (i = 0; i < n; i++)
		if (b[i] != 0)
			frame_wiped = 0;
	__real_free(data);
}

/* A request frame may hold values: it is wiped before libzmq frees it. */
static void
test_clear_wipes_request_frame(void **state)
{
	static const char secret[] = "maija@example.fi 131052-308T";
	job *j = job_new();
	uint8_t *buf = malloc(sizeof(secret));

	assert_non_null(j);
	assert_non_null(buf);
	memcpy(buf, secret, sizeof(secret));
	zmq_msg_close(&j->frame);
	assert_int_equal(
	    zmq_msg_init_data(&j->frame, buf, sizeof(secret), check_frame_free,
	        (void *)(uintptr_t)sizeof(secret)),
	    0);
	frame_freed = frame_wiped = 0;
	job_clear(j);
	assert_int_equal(frame_freed, 1);
	assert_true(frame_wiped);
	job_free(j);
}

/* A reply may hold values (a get's): an unsent one dropped by a recycled
 * job, or replaced by a second job_pack, is wiped before it is freed. */
static void
test_reply_wiped_when_dropped(void **state)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__GetResponse gr = PRIVD__V1__GET_RESPONSE__INIT;
	Privd__V1__Field f = PRIVD__V1__FIELD__INIT, *fp = &f;
	static const char value[] = "Maija Meikalainen";
	job *j = job_new();
	int round;

	assert_non_null(j);
	f.name = "name";
	f.value.data = (uint8_t *)value;
	f.value.len = sizeof(value) - 1;
	gr.n_fields = 1;
	gr.fields = &fp;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_GET;
	resp.get = &gr;
	for (round = 0; round < 2; round++) {
		job_ok(j, &resp);
		assert_true(j->has_reply);
		assert_non_null(memmem(zmq_msg_data(&j->reply),
		    zmq_msg_size(&j->reply), value, sizeof(value) - 1));
		watched = zmq_msg_data(&j->reply);
		watched_len = zmq_msg_size(&j->reply);
		watched_freed = watched_wiped = 0;
		if (round == 0)
			job_fail(j, PRIVD__V1__STATUS__INTERNAL, 0, "replaced");
		else
			job_clear(j);
		assert_int_equal(watched_freed, 1);
		assert_true(watched_wiped);
	}
	job_free(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clear_forgets_request_id),
	    cmocka_unit_test(test_clear_wipes_request_frame),
	    cmocka_unit_test(test_reply_wiped_when_dropped),
	    cmocka_unit_test(test_arena_allocates_across_chunks),
	    cmocka_unit_test(test_arena_limit_refuses),
	    cmocka_unit_test(test_arena_reset_reuses_and_wipes),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
