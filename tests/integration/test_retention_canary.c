/*
 * test_retention_canary.c - what the sweeper deleted is visible nowhere
 * (issue 9): distinctive values written before a sweep, and the subject
 * ids and a hold's reason, are found in no file of the data directory,
 * of a compacted copy of the store (what `mdb_copy -c` makes: free pages
 * dropped), or of privd's log; and no principal reads what went.
 *
 * The store is compacted with liblmdb's mdb_env_copy2(MDB_CP_COMPACT),
 * the call behind `mdb_copy -c` (the mdb_copy tool is not installed
 * everywhere the tests run), with privd stopped.
 *
 * The tests' own policy (RET_POLICY) on a real privd on the test clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <lmdb.h>

#include "retention_common.h"

/* A subject whose relationship ended 2 years ago (all but billing goes),
 * one whose ended 7 years ago (all of it goes), one kept, held. */
#define SUBJ_SWEPT "subj-CANARY-SWEPT-7d41e0"
#define SUBJ_GONE  "subj-CANARY-GONE-2a6f93"
#define SUBJ_KEPT  "subj-CANARY-KEPT-c4d2e9"

#define SWEPT_NAME  "Quintessa Canarywright"
#define SWEPT_EMAIL "canary.x7q2@example.org"
#define SWEPT_NOTES "CANARY-NOTE-b81f4c said the delivery was late"
#define SWEPT_BILL  "CANARY-BILL-3e9a05 e-invoice"
#define GONE_NAME   "Bartholomew Canarysson"
#define GONE_EMAIL  "canary.gone.k3v8@example.org"
#define GONE_NOTES  "CANARY-NOTE-GONE-55d0a1"
#define GONE_BILL   "CANARY-BILL-GONE-0c7e42"
#define HOLD_REASON "CANARY-HOLD-REASON-91ab6f court case"

static const h_needle needles[] = {
    {SUBJ_SWEPT, sizeof(SUBJ_SWEPT) - 1, "subject id (swept)"},
    {SUBJ_GONE, sizeof(SUBJ_GONE) - 1, "subject id (gone)"},
    {SUBJ_KEPT, sizeof(SUBJ_KEPT) - 1, "subject id (kept)"},
    {SWEPT_NAME, sizeof(SWEPT_NAME) - 1, "deleted name"},
    {SWEPT_EMAIL, sizeof(SWEPT_EMAIL) - 1, "deleted email"},
    {SWEPT_NOTES, sizeof(SWEPT_NOTES) - 1, "deleted notes"},
    {SWEPT_BILL, sizeof(SWEPT_BILL) - 1, "kept billing_details"},
    {GONE_NAME, sizeof(GONE_NAME) - 1, "deleted name (gone)"},
    {GONE_EMAIL, sizeof(GONE_EMAIL) - 1, "deleted email (gone)"},
    {GONE_NOTES, sizeof(GONE_NOTES) - 1, "deleted notes (gone)"},
    {GONE_BILL, sizeof(GONE_BILL) - 1, "deleted billing_details (gone)"},
    {HOLD_REASON, sizeof(HOLD_REASON) - 1, "hold reason"},
};
#define NNEEDLES (sizeof(needles) / sizeof(needles[0]))

static void
put4(harness *h, const char *subject, const char *name, const char *email,
    const char *notes, const char *bill)
{
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", name), h_field("email", email),
	    h_field("notes", notes), h_field("billing_details", bill)};
	privd_record *rec;

	put_ok(c, subject, f, 4);
	/* read back, so the test knows privd has it */
	rec = get_ok(c, subject, NULL, 0);
	assert_int_equal(rec->nfields, 4);
	assert_field_str(rec, "notes", notes);
	privd_record_free(&rec);
	privd_close(&c);
}

static void
end_at(harness *h, const char *subject, int64_t at_us)
{
	Privd__V1__Response *r =
	    rel_end(h, "svc", CUST, subject, (uint64_t)at_us, false);

	expect_status(r, ST(OK), 0, "relationship end");
	privd__v1__response__free_unpacked(r, NULL);
}

/* Compact the stopped privd's store into root/compact, as `mdb_copy -c
 * DATA root/compact` does; its path into out. */
static void
compact(harness *h, char *out, size_t size)
{
	MDB_env *env = NULL;
	int rc;

	snprintf(out, size, "%s/compact", h->root);
	assert_int_equal(mkdir(out, 0700), 0);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 64), 0);
	rc = mdb_env_open(env, h->data_dir, MDB_RDONLY, 0600);
	if (rc != 0)
		fail_msg("open the store: %s", mdb_strerror(rc));
	rc = mdb_env_copy2(env, out, MDB_CP_COMPACT);
	if (rc != 0)
		fail_msg("compact the store: %s", mdb_strerror(rc));
	mdb_env_close(env);
}

static void
test_deleted_values_nowhere(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;
	char copy[H_PATH_MAX + 16];
	int64_t now;

	put4(h, SUBJ_SWEPT, SWEPT_NAME, SWEPT_EMAIL, SWEPT_NOTES, SWEPT_BILL);
	put4(h, SUBJ_GONE, GONE_NAME, GONE_EMAIL, GONE_NOTES, GONE_BILL);
	put_customer(h, SUBJ_KEPT);
	now = (int64_t)h_clock_us(h);
	end_at(h, SUBJ_SWEPT, add_months(now, -24));
	/* (two days earlier: its billing_details falls due apart from
	 * SUBJ_SWEPT's fields; test_retention_sweep.c checks the events of
	 * fields due at different times) */
	end_at(h, SUBJ_GONE, add_months(now, -84) - 2 * US_PER_DAY);
	end_at(h, SUBJ_KEPT, add_months(now, -84));
	r = hold_set(h, "rights", CUST, SUBJ_KEPT, HOLD_REASON, 0);
	expect_status(r, ST(OK), 0, "hold");
	privd__v1__response__free_unpacked(r, NULL);

	r = sweep(h);
	expect_count(r, CUST, "after-customership", 7, 2, 4);
	privd__v1__response__free_unpacked(r, NULL);

	/* nobody reads what went */
	expect_cust(h, SUBJ_SWEPT, "billing_details");
	expect_cust(h, SUBJ_GONE, "NOT_FOUND");
	expect_fields(h, "reader", CUST, INV, SUBJ_SWEPT, "billing_details");
	expect_fields(h, "reader", CUST, INV, SUBJ_GONE, "NOT_FOUND");
	expect_cust(h, SUBJ_KEPT, "billing_details,email,name,notes");
	/* the audit log is asked by subject id: privd must not write it
	 * down either */
	{
		const char *const ops[] = {"retention_delete"};
		const char *const rules[] = {"after-customership"};
		const char *const f[] = {"billing_details,email,name,notes"};

		expect_ret_events(h, SUBJ_GONE, CUST, 1, ops, rules, f);
	}

	stop_clean(h);
	compact(h, copy, sizeof(copy));
	assert_int_equal(h_scan_dir(h->data_dir, needles, NNEEDLES), 0);
	assert_int_equal(h_scan_dir(copy, needles, NNEEDLES), 0);
	assert_int_equal(h_scan_file(h->log, needles, NNEEDLES), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_deleted_values_nowhere, ret_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/retention_canary", tests, NULL, NULL);
}
