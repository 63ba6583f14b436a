/*
 * test_retention_sweep.c - the sweeper (issue 9): what a preview as of T
 * says is what a sweep at T does, and the audit log names exactly that; a
 * subject left with nothing is gone; privd sweeps by itself on its timer
 * (--retention-interval); a sweep reads about as many due-index entries as
 * are due, not every stored field.
 *
 * The tests' own policy (RET_POLICY: customers with bookkeeping,
 * after-customership and notes-90d) on a real privd on the test clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retention_common.h"

#define ALL4 "billing_details,email,name,notes"

/* How long the timer test waits for privd's own sweeps, at most. */
#define SELF_SWEEP_TIMEOUT_MS 30000

/* Number of subjects whose notes are in the due index but not due. */
#define NOT_DUE_SUBJECTS 100

/* svc ends subject's relationship at at_us; OK. */
static void
end_at(harness *h, const char *subject, int64_t at_us)
{
	Privd__V1__Response *r =
	    rel_end(h, "svc", CUST, subject, (uint64_t)at_us, false);

	expect_status(r, ST(OK), 0, "relationship end");
	assert_int_equal(r->relationship_end->at_us, (uint64_t)at_us);
	privd__v1__response__free_unpacked(r, NULL);
}

/* rights holds subject until lifted. */
static void
hold(harness *h, const char *subject)
{
	Privd__V1__Response *r =
	    hold_set(h, "rights", CUST, subject, "pending complaint", 0);

	expect_status(r, ST(OK), 0, "hold set");
	privd__v1__response__free_unpacked(r, NULL);
}

/* The events of admin's op (retention_run, retention_preview) from
 * from_seq on. */
static size_t
admin_events(harness *h, const char *op, uint64_t from_seq)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};
	const char *ops[] = {op};
	evlist l;
	size_t n, i;

	f.principal = "admin";
	f.from_seq = from_seq;
	f.ops = ops;
	f.nops = 1;
	collect(a, &f, &l);
	n = l.n;
	for (i = 0; i < n; i++) {
		assert_int_equal(l.ev[i]->decision, PRIVD_DECISION_ALLOWED);
		assert_int_equal(l.ev[i]->status, ST(OK));
	}
	evlist_free(&l);
	privd_close(&a);
	return n;
}

/*
 * Subjects due for different rules at T = now + 100 days, one held, one
 * whose every field is due: a preview as of now and as of T, which change
 * nothing; then the clock at T and a sweep, whose counts are the
 * preview's, whose audit events name exactly those fields, and which
 * leaves exactly what the rules keep.
 */
static void
test_preview_equals_sweep(void **state)
{
	harness *h = *state;
	static const char *const plain[] = {"s-a", "s-b", "s-c"};
	const char *const ops[] = {"retention_delete"};
	const char *const ac[] = {"after-customership"};
	const char *const n90[] = {"notes-90d"};
	const char *const ended_f[] = {"email,name,notes"};
	const char *const gone_f[] = {ALL4};
	const char *const notes_f[] = {"notes"};
	Privd__V1__Response *now_p, *t_p, *run;
	int64_t now, t;
	uint64_t from, first;
	size_t i;

	put_customer(h, "s-ended"); /* ended 2 years ago */
	put_customer(h, "s-gone");  /* ended 7 years ago */
	put_customer(h, "s-later"); /* ended 200 days ago */
	put_customer(h, "s-held");
	for (i = 0; i < 3; i++)
		put_customer(h, plain[i]);
	now = (int64_t)h_clock_us(h);
	t = now + 100 * US_PER_DAY;
	end_at(h, "s-ended", add_months(now, -24));
	/* (two days earlier: its billing_details falls due apart from
	 * s-ended's fields, see test_one_event_per_subject_and_rule) */
	end_at(h, "s-gone", add_months(now, -84) - 2 * US_PER_DAY);
	end_at(h, "s-later", now - 200 * US_PER_DAY);
	hold(h, "s-held");

	/* now: what the relationship ends made due; the notes are 90
	 * days away */
	first = audit_head(h) + 1;
	now_p = preview(h, 0);
	expect_count(now_p, CUST, "after-customership", 7, 2, 0);
	expect_count(now_p, CUST, "notes-90d", 0, 0, 0);
	expect_count(now_p, CUST, "bookkeeping", 0, 0, 0);
	/* as of T: the notes too, s-held's kept by its hold; s-later's
	 * end is a year old only at day 165 */
	t_p = preview(h, (uint64_t)t);
	expect_count(t_p, CUST, "after-customership", 7, 2, 0);
	expect_count(t_p, CUST, "notes-90d", 4, 4, 1);
	/* a preview changes nothing */
	expect_cust(h, "s-ended", ALL4);
	expect_cust(h, "s-gone", ALL4);
	expect_cust(h, "s-a", ALL4);
	expect_ret_events(h, NULL, CUST, 0, NULL, NULL, NULL);
	assert_int_equal(admin_events(h, "retention_preview", first), 2);

	/* the sweep at T does what the preview as of T said */
	clock_to(h, t);
	from = audit_head(h) + 1;
	run = sweep(h);
	expect_same_counts(t_p, run);
	assert_true(run->retention_run->as_of_us >= (uint64_t)t);
	expect_run_events(h, from, run);
	assert_int_equal(admin_events(h, "retention_run", first), 1);

	/* field for field */
	expect_ret_events(h, "s-ended", CUST, 1, ops, ac, ended_f);
	expect_ret_events(h, "s-gone", CUST, 1, ops, ac, gone_f);
	expect_ret_events(h, "s-later", CUST, 1, ops, n90, notes_f);
	expect_ret_events(h, "s-held", CUST, 0, NULL, NULL, NULL);
	for (i = 0; i < 3; i++)
		expect_ret_events(h, plain[i], CUST, 1, ops, n90, notes_f);
	expect_cust(h, "s-ended", "billing_details");
	expect_cust(h, "s-gone", "NOT_FOUND");
	expect_cust(h, "s-later", "billing_details,email,name");
	expect_cust(h, "s-held", ALL4);
	for (i = 0; i < 3; i++)
		expect_cust(h, plain[i], "billing_details,email,name");
	/* nobody reads what went: not even a reader of every field */
	expect_fields(h, "reader", CUST, INV, "s-gone", "NOT_FOUND");
	expect_fields(h, "reader", CUST, INV, "s-ended", "billing_details");

	privd__v1__response__free_unpacked(now_p, NULL);
	privd__v1__response__free_unpacked(t_p, NULL);
	privd__v1__response__free_unpacked(run, NULL);
	privctl_verify_ok(h);
}

/*
 * One sweep, one audit event per subject and rule: a subject whose
 * fields under one rule fell due at different times (name, email and
 * notes a year after its relationship ended, billing_details only 6
 * years after it), with another subject's fields due in between, is
 * still one event naming all four.
 */
static void
test_one_event_per_subject_and_rule(void **state)
{
	harness *h = *state;
	const char *const ops[] = {"retention_delete"};
	const char *const ac[] = {"after-customership"};
	const char *const gone_f[] = {ALL4};
	const char *const mid_f[] = {"email,name,notes"};
	Privd__V1__Response *r;
	int64_t now;
	uint64_t from;

	put_customer(h, "s-gone");
	put_customer(h, "s-mid");
	now = (int64_t)h_clock_us(h);
	/* due: s-gone's 3 at now - 6 years, s-mid's 3 at now - 2 years,
	 * s-gone's billing_details at now - 1 year */
	end_at(h, "s-gone", add_months(now, -84));
	end_at(h, "s-mid", add_months(now, -36));
	from = audit_head(h) + 1;
	r = sweep(h);
	expect_count(r, CUST, "after-customership", 7, 2, 0);
	expect_ret_events(h, "s-mid", CUST, 1, ops, ac, mid_f);
	expect_ret_events(h, "s-gone", CUST, 1, ops, ac, gone_f);
	expect_run_events(h, from, r);
	privd__v1__response__free_unpacked(r, NULL);
	expect_cust(h, "s-gone", "NOT_FOUND");
}

/* Poll (with a deadline, not a sleep to wait out) until svc reads want
 * of subject. */
static void
wait_fields(harness *h, const char *subject, const char *want)
{
	int64_t deadline = h_now_ms() + SELF_SWEEP_TIMEOUT_MS;
	char got[512];

	for (;;) {
		fields_of(h, "svc", CUST, INV, subject, got, sizeof(got));
		if (strcmp(got, want) == 0)
			return;
		if (h_now_ms() > deadline)
			fail_msg("privd did not sweep by itself within %d ms: "
			         "[%s] is left, expected [%s]",
			    SELF_SWEEP_TIMEOUT_MS, got, want);
		h_sleep_ms(100);
	}
}

/* privd started with --retention-interval 1 sweeps by itself: what is
 * due when it starts, and what falls due as its clock moves. */
static int
setup_interval(void **state)
{
	static const char *const args[] = {"--retention-interval", "1", NULL};

	return ret_setup_args(state, args);
}

static void
test_sweeps_by_itself(void **state)
{
	harness *h = *state;
	const char *const ops[] = {"retention_delete", "retention_delete"};
	const char *const ac[] = {"after-customership", "notes-90d"};
	const char *const f[] = {"email,name,notes"};
	const char *const later_f[] = {"email,name", "notes"};
	int64_t now;

	put_customer(h, "s-due");
	put_customer(h, "s-later");
	put_customer(h, "s-active");
	now = (int64_t)h_clock_us(h);
	end_at(h, "s-due", add_months(now, -24));
	end_at(h, "s-later", now - 200 * US_PER_DAY);

	wait_fields(h, "s-due", "billing_details");
	expect_ret_events(h, "s-due", CUST, 1, ops, ac, f);
	expect_cust(h, "s-later", ALL4);

	/* 200 days on, s-later's relationship ended more than a year ago,
	 * and everyone's notes are past 90 days (s-later's notes fell due
	 * under notes-90d first) */
	clock_to(h, now + 200 * US_PER_DAY);
	wait_fields(h, "s-later", "billing_details");
	wait_fields(h, "s-active", "billing_details,email,name");
	expect_ret_events(h, "s-later", CUST, 2, ops, ac, later_f);
	expect_ret_events(h, "s-due", CUST, 1, ops, ac, f);
	privctl_verify_ok(h);
}

/*
 * Cost proportional to what is due: with NOT_DUE_SUBJECTS notes in the
 * due index (due in 90 days) and 3 fields due, a sweep reads about 3
 * entries, not every one (privd may read a few more, e.g. the first one
 * not due, which tells it to stop).
 */
static void
test_sweep_reads_what_is_due(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	Privd__V1__Response *r;
	char subject[32];
	int i;

	for (i = 0; i < NOT_DUE_SUBJECTS; i++) {
		privd_field f[] = {
		    h_field("name", "Not Due"), h_field("notes", "not due")};

		snprintf(subject, sizeof(subject), "s-%03d", i);
		put_ok(c, subject, f, 2);
	}
	privd_close(&c);
	put_customer(h, "s-due");
	end_at(h, "s-due", add_months((int64_t)h_clock_us(h), -24));

	r = sweep(h);
	expect_count(r, CUST, "after-customership", 3, 1, 0);
	print_message("a sweep of 3 due fields among %d stored examined "
	              "%llu due-index entries\n",
	    2 * NOT_DUE_SUBJECTS + 4,
	    (unsigned long long)r->retention_run->examined);
	assert_true(r->retention_run->examined >= 3);
	if (r->retention_run->examined > 3 + 8)
		fail_msg("a sweep of 3 due fields read %llu due-index entries",
		    (unsigned long long)r->retention_run->examined);
	privd__v1__response__free_unpacked(r, NULL);

	/* and a preview as far as the notes' due time reads them all */
	r = preview(h, h_clock_us(h) + 91 * US_PER_DAY);
	expect_count(
	    r, CUST, "notes-90d", NOT_DUE_SUBJECTS, NOT_DUE_SUBJECTS, 0);
	assert_true(r->retention_run->examined >= NOT_DUE_SUBJECTS);
	privd__v1__response__free_unpacked(r, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_preview_equals_sweep, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_one_event_per_subject_and_rule, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sweeps_by_itself, setup_interval, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_sweep_reads_what_is_due, ret_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/retention_sweep", tests, NULL, NULL);
}
