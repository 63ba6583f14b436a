/*
 * test_job.c - the request arena of daemon/job.c: bump allocation across
 * chunks, the per-request limit that bounds decoding, and reset.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "job.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arena_allocates_across_chunks),
	    cmocka_unit_test(test_arena_limit_refuses),
	    cmocka_unit_test(test_arena_reset_reuses_and_wipes),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
