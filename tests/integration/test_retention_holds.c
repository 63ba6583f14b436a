/*
 * test_retention_holds.c - legal holds (issue 9): a held subject, or
 * every subject of a held register, survives the sweeper and delete
 * requests (RETAINED, naming the hold's reason) until the hold is lifted
 * or its until passes; HoldList says what is in force; only the roles
 * subject_rights and policy_admin set, lift and list holds.
 *
 * The tests' own policy (RET_POLICY) on a real privd on the test clock;
 * expiry is the clock moved, not waited for.
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

/* A customer whose relationship ended two years ago: name, email and
 * notes are due. */
static void
put_ended(harness *h, const char *subject)
{
	Privd__V1__Response *r;

	put_customer(h, subject);
	r = rel_end(h, "svc", CUST, subject,
	    (uint64_t)add_months((int64_t)h_clock_us(h), -24), false);
	expect_status(r, ST(OK), 0, "relationship end");
	privd__v1__response__free_unpacked(r, NULL);
}

/* HoldSet that must be OK; whether it replaced a hold. */
static bool
hold_ok(harness *h, const char *key, const char *reg, const char *subject,
    const char *reason, uint64_t until_us)
{
	Privd__V1__Response *r =
	    hold_set(h, key, reg, subject, reason, until_us);
	bool replaced;

	expect_status(r, ST(OK), 0, "hold set");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_HOLD_SET);
	replaced = r->hold_set->replaced;
	privd__v1__response__free_unpacked(r, NULL);
	return replaced;
}

/* HoldLift whose status must be st. */
static void
lift(harness *h, const char *key, const char *reg, const char *subject, int st)
{
	Privd__V1__Response *r = hold_lift(h, key, reg, subject);

	expect_status(r, st, 0, "hold lift");
	privd__v1__response__free_unpacked(r, NULL);
}

/* HoldList as rights that must be OK; the caller frees it. */
static Privd__V1__Response *
list_ok(harness *h, const char *reg)
{
	Privd__V1__Response *r = hold_list(h, "rights", reg);

	expect_status(r, ST(OK), 0, "hold list");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_HOLD_LIST);
	return r;
}

static size_t
nholds(harness *h, const char *reg)
{
	Privd__V1__Response *r = list_ok(h, reg);
	size_t n = r->hold_list->n_holds;

	privd__v1__response__free_unpacked(r, NULL);
	return n;
}

/* A sweep's counts for after-customership. */
static void
sweep_expect(harness *h, uint64_t fields, uint64_t subjects, uint64_t held)
{
	Privd__V1__Response *r = sweep(h);

	expect_count(r, CUST, "after-customership", fields, subjects, held);
	privd__v1__response__free_unpacked(r, NULL);
}

/* A delete request of svc (names NULL: the whole subject) answered
 * RETAINED, deleting nothing, keeping every field asked for; those in
 * by_hold kept by a hold with reason and until_us. */
static void
delete_held(harness *h, const char *subject, const char *const *names, size_t n,
    const char *const *by_hold, size_t nheld, const char *reason,
    uint64_t until_us)
{
	Privd__V1__Response *r =
	    del_raw(h, "svc", CUST, subject, INV, names, n);
	const Privd__V1__Retained *k;
	size_t i;

	expect_status(r, ST(RETAINED), 0, "delete of a held subject");
	assert_int_equal(r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_DELETE);
	assert_int_equal(r->delete_->deleted, 0);
	assert_int_equal(r->delete_->n_retained, n > 0 ? n : 4);
	for (i = 0; i < nheld; i++) {
		assert_non_null(k = retained_of(r, by_hold[i]));
		assert_string_equal(k->rule, "");
		assert_string_equal(k->hold_reason, reason);
		assert_int_equal(k->until_us, until_us);
	}
	privd__v1__response__free_unpacked(r, NULL);
}

/* The audit events of subject's hold operation op. */
static void
expect_hold_events(harness *h, const char *subject, const char *op, size_t n,
    const char *principal)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};
	const char *ops[] = {op};
	evlist l;
	size_t i;

	f.subject = subject;
	f.ops = ops;
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, n);
	for (i = 0; i < n; i++) {
		assert_string_equal(l.ev[i]->principal, principal);
		assert_string_equal(l.ev[i]->reg, CUST);
		assert_true(l.ev[i]->has_subject);
	}
	evlist_free(&l);
	privd_close(&a);
}

/*
 * A held subject survives the sweep (counted as held), a restart, and
 * delete requests (RETAINED with the hold's reason) until the hold is
 * lifted; then the sweep takes what is due. Setting a hold twice
 * replaces it; lifting what is not held is NOT_FOUND.
 */
static void
test_hold_subject(void **state)
{
	harness *h = *state;
	const char *const name[] = {"name"};
	const char *const held3[] = {"name", "email", "notes"};
	const char *const ops[] = {"retention_delete"};
	const char *const ac[] = {"after-customership"};
	const char *const f[] = {"email,name,notes"};
	const char *reason = "litigation 17/2025 (amended)";

	put_ended(h, "s-held");
	put_ended(h, "s-free");
	assert_false(hold_ok(h, "rights", CUST, "s-held", "litigation", 0));
	assert_true(hold_ok(h, "rights", CUST, "s-held", reason, 0));
	ret_restart(h);

	sweep_expect(h, 3, 1, 3);
	expect_cust(h, "s-held", ALL4);
	expect_cust(h, "s-free", "billing_details");
	expect_ret_events(h, "s-held", CUST, 0, NULL, NULL, NULL);
	expect_ret_events(h, "s-free", CUST, 1, ops, ac, f);

	delete_held(h, "s-held", name, 1, name, 1, reason, 0);
	/* billing_details is kept by the bookkeeping minimum too: either
	 * may be named */
	delete_held(h, "s-held", NULL, 0, held3, 3, reason, 0);
	expect_cust(h, "s-held", ALL4);

	lift(h, "rights", CUST, "s-held", ST(OK));
	lift(h, "rights", CUST, "s-held", ST(NOT_FOUND));
	assert_int_equal(nholds(h, NULL), 0);
	sweep_expect(h, 3, 1, 0);
	expect_cust(h, "s-held", "billing_details");
	expect_ret_events(h, "s-held", CUST, 1, ops, ac, f);
	expect_hold_events(h, "s-held", "hold_set", 2, "rights");
	expect_hold_events(h, "s-held", "hold_lift", 2, "rights");
	privctl_verify_ok(h);
}

/* A hold with an until holds until then; past it, by privd's clock, it
 * neither holds nor is listed, and sweeps and deletes take their course. */
static void
test_hold_expires(void **state)
{
	harness *h = *state;
	const char *const name[] = {"name"};
	Privd__V1__Response *r;
	int64_t now, until;
	uint32_t deleted;

	put_ended(h, "s-ended");
	put_customer(h, "s-active");
	now = (int64_t)h_clock_us(h);
	until = now + 10 * US_PER_DAY;
	hold_ok(h, "rights", CUST, "s-ended", "until the court rules",
	    (uint64_t)until);
	hold_ok(h, "admin", CUST, "s-active", "until the court rules",
	    (uint64_t)until);
	r = list_ok(h, CUST);
	assert_int_equal(r->hold_list->n_holds, 2);
	assert_int_equal(r->hold_list->holds[0]->until_us, (uint64_t)until);
	assert_int_equal(r->hold_list->holds[1]->until_us, (uint64_t)until);
	privd__v1__response__free_unpacked(r, NULL);

	sweep_expect(h, 0, 0, 3);
	delete_held(h, "s-active", name, 1, name, 1, "until the court rules",
	    (uint64_t)until);
	expect_cust(h, "s-ended", ALL4);
	expect_cust(h, "s-active", ALL4);

	clock_to(h, until + US_PER_S);
	assert_int_equal(nholds(h, NULL), 0);
	sweep_expect(h, 3, 1, 0);
	expect_cust(h, "s-ended", "billing_details");
	{
		privd_client *c = client(h, "svc");

		expect_rc(c,
		    privd_delete(c, CUST, "s-active", INV, name, 1, &deleted),
		    PRIVD_OK, "delete after the hold expired");
		assert_int_equal(deleted, 1);
		privd_close(&c);
	}
	expect_cust(h, "s-active", "billing_details,email,notes");
}

/*
 * A hold on a whole register holds every subject of it (and of no other
 * register), against the sweep and delete requests, until lifted.
 */
static void
test_register_hold(void **state)
{
	harness *h = *state;
	const char *const held3[] = {"name", "email", "notes"};
	const char *reason = "tax audit 2025";
	Privd__V1__Response *r;

	put_ended(h, "s-1");
	put_ended(h, "s-2");
	put_customer(h, "s-3");
	assert_false(hold_ok(h, "admin", CUST, "", reason, 0));
	assert_false(hold_ok(h, "admin", "acis", NULL, "acis audit", 0));

	r = list_ok(h, CUST);
	assert_int_equal(r->hold_list->n_holds, 1);
	assert_string_equal(r->hold_list->holds[0]->register_, CUST);
	assert_string_equal(r->hold_list->holds[0]->subject, "");
	assert_string_equal(r->hold_list->holds[0]->reason, reason);
	privd__v1__response__free_unpacked(r, NULL);

	sweep_expect(h, 0, 0, 6);
	delete_held(h, "s-3", NULL, 0, held3, 3, reason, 0);
	expect_cust(h, "s-1", ALL4);
	expect_cust(h, "s-3", ALL4);

	/* the register's own hold is the one with no subject */
	lift(h, "rights", CUST, "s-1", ST(NOT_FOUND));
	lift(h, "rights", CUST, NULL, ST(OK));
	sweep_expect(h, 6, 2, 0);
	expect_cust(h, "s-1", "billing_details");
	expect_cust(h, "s-2", "billing_details");
	expect_cust(h, "s-3", ALL4);
	assert_int_equal(nholds(h, NULL), 1); /* acis's */
}

/* HoldList: what is in force, by register (name) then set time, with
 * who set it and when; for one register or every one. Eight holds set in
 * an order that neither their registers' names nor their subjects follow,
 * so that a list in any other order shows. */
static void
test_hold_list(void **state)
{
	static const struct {
		const char *reg, *subject, *reason, *by;
		bool until;
	} set[] = {
	    {CUST, "s-1", "complaint 1", "rights", false},
	    {"acis", "", "client dispute", "admin", false},
	    {CUST, "s-2", "complaint 2", "admin", true},
	    {"b2b", "", "b2b dispute", "rights", false},
	    {CUST, "s-3", "complaint 3", "rights", false},
	    {CUST, "s-4", "complaint 4", "rights", false},
	    {CUST, "s-5", "complaint 5", "rights", false},
	    {CUST, "", "tax audit", "admin", false},
	};
	/* the order HoldList gives them in: indexes into set */
	static const size_t order[] = {1, 3, 0, 2, 4, 5, 6, 7};
	harness *h = *state;
	Privd__V1__Response *r;
	const Privd__V1__Hold *x;
	uint64_t t0, t1, until, prev = 0;
	size_t i;

	t0 = h_clock_us(h);
	until = t0 + 5 * US_PER_DAY;
	for (i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		if (set[i].subject[0] != '\0')
			put_customer(h, set[i].subject);
		hold_ok(h, set[i].by, set[i].reg, set[i].subject, set[i].reason,
		    set[i].until ? until : 0);
	}
	t1 = h_clock_us(h);

	r = list_ok(h, NULL);
	for (i = 0; i < r->hold_list->n_holds; i++)
		print_message("hold %zu: %s/%s %s\n", i,
		    r->hold_list->holds[i]->register_,
		    r->hold_list->holds[i]->subject,
		    r->hold_list->holds[i]->reason);
	assert_int_equal(r->hold_list->n_holds, 8);
	for (i = 0; i < 8; i++) {
		size_t k = order[i];

		x = r->hold_list->holds[i];
		assert_string_equal(x->register_, set[k].reg);
		assert_string_equal(x->subject, set[k].subject);
		assert_string_equal(x->reason, set[k].reason);
		assert_string_equal(x->set_by, set[k].by);
		assert_int_equal(x->until_us, set[k].until ? until : 0);
		assert_true(x->set_at_us >= t0 && x->set_at_us <= t1);
		if (i > 0 && strcmp(x->register_,
		                 r->hold_list->holds[i - 1]->register_) == 0)
			assert_true(x->set_at_us >= prev);
		prev = x->set_at_us;
	}
	privd__v1__response__free_unpacked(r, NULL);

	assert_int_equal(nholds(h, CUST), 6);
	assert_int_equal(nholds(h, "acis"), 1);
	assert_int_equal(nholds(h, "b2b"), 1);
	r = hold_list(h, "admin", "no-such-register");
	expect_status(
	    r, ST(DENIED), R_UNKNOWN_REGISTER, "hold list of no register");
	privd__v1__response__free_unpacked(r, NULL);
}

/* Without the role subject_rights or policy_admin: DENIED
 * (role_required) for set, lift and list, and nothing changes. */
static void
test_hold_roles(void **state)
{
	harness *h = *state;
	static const char *const keys[] = {"svc", "reader", "auditor", "acis"};
	Privd__V1__Response *r;
	size_t i;

	put_ended(h, "s-1");
	hold_ok(h, "rights", CUST, "s-1", "kept by rights", 0);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		r = hold_set(h, keys[i], CUST, "s-1", "sneaky", 0);
		expect_status(r, ST(DENIED), R_ROLE_REQUIRED, "hold set");
		privd__v1__response__free_unpacked(r, NULL);
		r = hold_set(h, keys[i], CUST, "", "sneaky", 0);
		expect_status(r, ST(DENIED), R_ROLE_REQUIRED, "register hold");
		privd__v1__response__free_unpacked(r, NULL);
		r = hold_lift(h, keys[i], CUST, "s-1");
		expect_status(r, ST(DENIED), R_ROLE_REQUIRED, "hold lift");
		privd__v1__response__free_unpacked(r, NULL);
		r = hold_list(h, keys[i], NULL);
		expect_status(r, ST(DENIED), R_ROLE_REQUIRED, "hold list");
		privd__v1__response__free_unpacked(r, NULL);
	}
	r = list_ok(h, NULL);
	assert_int_equal(r->hold_list->n_holds, 1);
	assert_string_equal(r->hold_list->holds[0]->reason, "kept by rights");
	privd__v1__response__free_unpacked(r, NULL);
	sweep_expect(h, 0, 0, 3);
	expect_cust(h, "s-1", ALL4);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_hold_subject, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hold_expires, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_register_hold, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hold_list, ret_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hold_roles, ret_setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/retention_holds", tests, NULL, NULL);
}
