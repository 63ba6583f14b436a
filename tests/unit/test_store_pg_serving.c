/*
 * test_store_pg_serving.c - the serving lock of a PostgreSQL store
 * (store_image.h, store_pg_node.c), on a private server (pgtmp.c):
 *   - a listener (what every serving node's writer has) holds it shared:
 *     a restore's exclusive take is refused while it lives and granted
 *     once it is closed;
 *   - while a restore holds it, a new listener is refused
 *     (STORE_UNAVAILABLE: a node does not start serving), and one made
 *     after the restore ends connects;
 *   - the table-size estimate of an image (store_pg_image_bytes) grows
 *     with the rows.
 * Skipped, saying why, when the PostgreSQL server binaries are absent.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgtmp.h"
#include "store_backend.h"
#include "store_image.h"

static pgtmp pg;
static store *st;

static void
on_note(void *arg, const char *channel, const char *payload)
{
	(void)arg;
	(void)channel;
	(void)payload;
}

static int
group_setup(void **state)
{
	char why[512], err[256];
	int rc;

	if ((rc = pgtmp_start(&pg, why, sizeof(why))) != 0) {
		pgtmp_stop(&pg);
		if (rc == 1) {
			printf("SKIP: %s\n", why);
			exit(77);
		}
		fprintf(stderr, "PostgreSQL: %s\n", why);
		return -1;
	}
	if (store_pg_open(pg.conninfo, true, &st, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_pg_open: %s\n", err);
		return -1;
	}
	return 0;
}

static int
group_teardown(void **state)
{
	store_close(&st);
	pgtmp_stop(&pg);
	return 0;
}

static void
test_listener_holds_it(void **state)
{
	const char *chans[] = {"privd_policy"};
	store_listener *l;
	store_pg_serving *sv = NULL;
	bool got = true, missed;

	assert_int_equal(store_listen(st, chans, 1, &l), 0);
	assert_true(store_listen_fd(l) >= 0);
	assert_int_equal(store_pg_serving_take(st, &got, &sv), 0);
	assert_false(got);
	assert_null(sv);
	assert_int_equal(store_listen_drain(l, on_note, NULL, &missed), 0);
	store_listen_close(&l);
	/* the server drops the session's lock when its connection ends */
	assert_int_equal(store_pg_serving_take(st, &got, &sv), 0);
	assert_true(got);
	assert_non_null(sv);
	store_pg_serving_end(&sv);
	assert_null(sv);
}

static void
test_restore_keeps_nodes_off(void **state)
{
	const char *chans[] = {"privd_policy"};
	store_listener *l;
	store_pg_serving *sv = NULL, *sv2 = NULL;
	bool got = false, missed = false;

	assert_int_equal(store_pg_serving_take(st, &got, &sv), 0);
	assert_true(got);
	/* a second restore: refused */
	assert_int_equal(store_pg_serving_take(st, &got, &sv2), 0);
	assert_false(got);
	/* a node starting: its listener is refused, so its writer does
	 * not start (privd serve's start waits: startwait.c) */
	assert_int_equal(store_listen(st, chans, 1, &l), STORE_UNAVAILABLE);
	assert_null(l);
	store_pg_serving_end(&sv);
	assert_int_equal(store_listen(st, chans, 1, &l), 0);
	assert_true(store_listen_fd(l) >= 0);
	assert_int_equal(store_listen_drain(l, on_note, NULL, &missed), 0);
	store_listen_close(&l);
}

static void
test_image_bytes(void **state)
{
	uint64_t before = store_pg_image_bytes(st), after;
	uint8_t kb[8], vb[1000];
	store_val k = {sizeof(kb), kb}, v = {sizeof(vb), vb};
	store_txn *t;

	memset(vb, 'v', sizeof(vb));
	assert_int_equal(store_txn_begin(st, 0, &t), 0);
	for (uint64_t i = 0; i < 2000; i++) {
		memcpy(kb, &i, sizeof(i));
		assert_int_equal(store_put(t, STORE_VALUES, &k, &v, 0), 0);
	}
	assert_int_equal(store_txn_commit(t), 0);
	after = store_pg_image_bytes(st);
	assert_true(after >= before + 1000000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_listener_holds_it),
	    cmocka_unit_test(test_restore_keeps_nodes_off),
	    cmocka_unit_test(test_image_bytes),
	};

	return cmocka_run_group_tests_name(
	    "unit/store_pg_serving", tests, group_setup, group_teardown);
}
