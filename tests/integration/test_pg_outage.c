/*
 * test_pg_outage.c - privd on PostgreSQL when the database goes away
 * (issue 12): a lost connection (every backend of privd's database
 * terminated, as a failover ends them) and a server that is down answer
 * requests UNAVAILABLE - never OK for a change that was not committed,
 * never an integrity failure - privd keeps running, and once the database
 * is back (the next transaction connects again) requests succeed, every
 * acknowledged put is readable, and the audit chain verifies.
 *
 * Runs only on the test setup "pg" (PRIVD_TEST_STORE=postgresql).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"

#define RECOVER_MS 30000 /* the database is back: a put succeeds by then */

static const char policy[] =
    H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RW
    ",\n" H_POL_AUDITOR H_POL_END;

static int
setup(void **state)
{
	static const char *const keys[] = {"svc", "auditor"};

	return h_setup(state, keys, 2, policy, NULL);
}

static int
pg_put_name(privd_client *c, const char *subject, const char *name)
{
	privd_field f = h_field("name", name);

	return privd_put(c, "customers", subject, "invoicing", &f, 1);
}

static void
pg_expect_name(privd_client *c, const char *subject, const char *name)
{
	privd_record *rec = NULL;

	assert_int_equal(
	    privd_get(c, "customers", subject, "invoicing", NULL, 0, &rec),
	    PRIVD_OK);
	assert_int_equal(rec->nfields, 1);
	assert_int_equal(rec->fields[0].len, strlen(name));
	assert_memory_equal(rec->fields[0].value, name, strlen(name));
	privd_record_free(&rec);
}

/*
 * Put until one is acknowledged (the database is back), at most
 * RECOVER_MS; every failure on the way must be UNAVAILABLE (or a
 * timeout while privd waits for the database). The milliseconds taken.
 */
static int64_t
put_until_ok(harness *h, privd_client *c, const char *subject, const char *v)
{
	int64_t t0 = h_now_ms();
	int rc;

	while ((rc = pg_put_name(c, subject, v)) != PRIVD_OK) {
		if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
			fail_msg("put while the database returns: %d (%s)", rc,
			    privd_errmsg(c));
		assert_true(h_running(h));
		if (h_now_ms() - t0 > RECOVER_MS)
			fail_msg("no put acknowledged %d ms after the database "
			         "came back",
			    RECOVER_MS);
		h_sleep_ms(50);
	}
	return h_now_ms() - t0;
}

static void
verify_audit(harness *h)
{
	privd_client *a;

	assert_int_equal(h_connect(h, "auditor", &a), 0);
	audit_verify_ok(a, NULL, NULL);
	privd_close(&a);
}

/* Every connection of privd's database ended: the next requests answer
 * UNAVAILABLE or succeed on a new connection, never anything else. */
static void
test_connections_lost(void **state)
{
	harness *h = *state;
	privd_client *c;
	int rc, i;

	assert_int_equal(h_connect(h, "svc", &c), 0);
	assert_int_equal(pg_put_name(c, "s-1", "before"), PRIVD_OK);
	for (i = 0; i < 3; i++) {
		assert_int_equal(h_store_drop_connections(h), 0);
		rc = pg_put_name(c, "s-2", "during");
		if (rc != PRIVD_OK && rc != PRIVD_EUNAVAILABLE)
			fail_msg("a put after the connections were ended: %d "
			         "(%s)",
			    rc, privd_errmsg(c));
		printf("# round %d: the first put after the connections "
		       "ended: %s\n",
		    i, rc == PRIVD_OK ? "OK" : "UNAVAILABLE");
		put_until_ok(h, c, "s-2", "during");
	}
	assert_true(h_running(h));
	pg_expect_name(c, "s-1", "before");
	pg_expect_name(c, "s-2", "during");
	assert_int_equal(h_log_count(h, 0, "integrity"), 0);
	privd_close(&c);
	verify_audit(h);
}

/* The server down: requests answer UNAVAILABLE; privd keeps running;
 * the server back: requests succeed. */
static void
test_server_down(void **state)
{
	harness *h = *state;
	privd_client *c;
	privd_record *rec = NULL;
	int64_t ms;
	int rc;

	assert_int_equal(h_connect(h, "svc", &c), 0);
	assert_int_equal(pg_put_name(c, "s-1", "before"), PRIVD_OK);
	assert_int_equal(h_store_halt(), 0);
	rc = pg_put_name(c, "s-3", "while down");
	if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
		fail_msg("a put while the database is down: %d (%s)", rc,
		    privd_errmsg(c));
	rc = privd_get(c, "customers", "s-1", "invoicing", NULL, 0, &rec);
	if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
		fail_msg("a get while the database is down: %d (%s)", rc,
		    privd_errmsg(c));
	assert_null(rec);
	assert_true(h_running(h));
	assert_int_equal(h_store_resume(), 0);
	ms = put_until_ok(h, c, "s-3", "after");
	printf("# the first put acknowledged %lld ms after the database was "
	       "started again\n",
	    (long long)ms);
	pg_expect_name(c, "s-1", "before");
	pg_expect_name(c, "s-3", "after");
	assert_true(h_running(h));
	assert_int_equal(h_log_count(h, 0, "integrity"), 0);
	privd_close(&c);
	verify_audit(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_connections_lost, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_server_down, setup, h_teardown),
	};

	if (!h_store_pg()) {
		printf("SKIP: a test of the PostgreSQL store (meson test "
		       "--setup pg)\n");
		return 77;
	}
	return cmocka_run_group_tests_name(
	    "integration/pg_outage", tests, NULL, NULL);
}
