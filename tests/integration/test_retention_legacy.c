/*
 * test_retention_legacy.c - a store written before privd kept retention
 * records (no ret_sub record per subject, no due-time index, no
 * "retention_records" mark): privd serves it, and its subjects come under
 * retention as they are touched - a write plans every stored field of the
 * subject, a relationship end works and is swept - while subjects nobody
 * touched stay as they were (privd-policy(5) CAVEATS).
 *
 * The old store is made from a new one by removing what the old privd did
 * not write, with privd stopped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lmdb.h>

#include "retention_common.h"

#define DAY_US (86400LL * 1000000)

/* Make the stopped privd's store look like one from before retention. */
static void
make_legacy(harness *h)
{
	static const char *const dbs[] = {"ret_sub", "ret_plan", "ret_due"};
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {strlen("retention_records"), "retention_records"};
	size_t i;

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, h->data_dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
		assert_int_equal(mdb_dbi_open(txn, dbs[i], 0, &dbi), 0);
		assert_int_equal(mdb_drop(txn, dbi, 1), 0);
	}
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	assert_int_equal(mdb_del(txn, dbi, &k, NULL), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(h_start(h, ret_serve_args), 0);
}

static void
test_old_subjects_come_under_retention_when_touched(void **state)
{
	harness *h = *state;
	const char *const notes[] = {"notes"};
	privd_client *c;
	privd_field f = h_field("notes", "rewritten");
	Privd__V1__Response *r;
	int64_t now;

	put_customer(h, "old-written");
	put_customer(h, "old-ended");
	put_customer(h, "old-untouched");
	make_legacy(h);
	now = (int64_t)h_clock_us(h);

	/* served as before */
	expect_cust(h, "old-untouched", "billing_details,email,name,notes");

	/* a write of one field plans all the subject's fields: notes (90
	 * days from its first write) falls due; the relationship end of
	 * another works on a subject without a retention record */
	c = client(h, "svc");
	put_ok(c, "old-written", &f, 1);
	privd_close(&c);
	r = rel_end(h, "svc", CUST, "old-ended",
	    (uint64_t)(now - 2 * 365 * DAY_US), false);
	expect_status(r, ST(OK), 0, "relationship end of an old subject");
	privd__v1__response__free_unpacked(r, NULL);

	clock_to(h, now + 100 * DAY_US);
	r = sweep(h);
	privd__v1__response__free_unpacked(r, NULL);
	/* the notes of both touched subjects went under notes-90d; the
	 * ended one lost everything but what bookkeeping keeps */
	expect_cust(h, "old-written", "billing_details,email,name");
	expect_cust(h, "old-ended", "billing_details");
	/* the untouched one has no plan yet: kept, as documented */
	expect_cust(h, "old-untouched", "billing_details,email,name,notes");
	/* and a delete of a field under the minimum answers RETAINED */
	r = del_raw(h, "svc", CUST, "old-ended", INV,
	    (const char *const[]){"billing_details"}, 1);
	expect_status(r, ST(RETAINED), 0, "billing_details of an old subject");
	privd__v1__response__free_unpacked(r, NULL);
	r = del_raw(h, "svc", CUST, "old-untouched", INV, notes, 1);
	expect_status(r, ST(OK), 0, "a field of an untouched old subject");
	privd__v1__response__free_unpacked(r, NULL);
	privctl_verify_ok(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_old_subjects_come_under_retention_when_touched, ret_setup,
	        h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
