/*
 * test_client_local.c - what libprivd decides on its own, before anything
 * is sent: no privd runs (connecting is lazy, and these calls fail before
 * the first request).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privd/client.h>

/* A handle to an endpoint where nothing listens. */
static int
setup(void **state)
{
	char spub[PRIVD_KEY_Z85_LEN], ssec[PRIVD_KEY_Z85_LEN];
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	privd_client *c = NULL;

	if (privd_keygen(spub, ssec) != PRIVD_OK ||
	    privd_keygen(pub, sec) != PRIVD_OK ||
	    privd_connect(&c, "ipc:///nonexistent/privd-test.sock", spub, pub,
	        sec) != PRIVD_OK)
		return -1;
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	privd_client *c = *state;

	privd_close(&c);
	return 0;
}

/*
 * privd_errmsg() never contains personal data (client.h). A field "name"
 * is whatever the caller passed, and a caller that mixed up names and
 * values passes personal data there: the library's own messages name a
 * field only when its name could be a policy name, else by position.
 */
static void
test_put_messages_never_quote_a_bad_name(void **state)
{
	privd_client *c = *state;
	static uint8_t big[64 * 1024 + 1];
	privd_field f[2] = {
	    {"email", (const uint8_t *)"x", 1},
	    {"maija.meikalainen@example.fi", big, sizeof(big)},
	};

	assert_int_equal(
	    privd_put(c, "customers", "c-1", "p", f, 2), PRIVD_EINVAL);
	assert_null(strstr(privd_errmsg(c), "maija"));
	assert_non_null(strstr(privd_errmsg(c), "field 2"));

	f[1].value = NULL;
	f[1].len = 3;
	assert_int_equal(
	    privd_put(c, "customers", "c-1", "p", f, 2), PRIVD_EINVAL);
	assert_null(strstr(privd_errmsg(c), "maija"));
	assert_non_null(strstr(privd_errmsg(c), "field 2"));

	/* a name that could be a policy name is still named */
	f[1].name = "feedback_text";
	f[1].value = big;
	f[1].len = sizeof(big);
	assert_int_equal(
	    privd_put(c, "customers", "c-1", "p", f, 2), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "feedback_text"));
}

/* 2000-01-01T00:00:00Z: privd refuses retention times before it. */
#define Y2K_US 946684800000000ULL

/* Nothing was sent: every check below fails before the first request. */
static void
assert_nothing_sent(privd_client *c)
{
	assert_int_equal(privd_last_request_id(c), 0);
}

/*
 * relationship_end and contract_end: a register, a subject of 1..256
 * bytes, a time from 2000 on (0: undo, PRIVD_AT_NOW: now). Out
 * parameters are zero after a failure, and a message never quotes the
 * subject id.
 */
static void
test_ends_local_checks(void **state)
{
	privd_client *c = *state;
	char subject[258];
	uint64_t at = 7;
	uint32_t fields = 7;

	memset(subject, 'm', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	assert_int_equal(privd_relationship_end(NULL, "customers", "c-1",
	                     PRIVD_AT_NOW, &at, &fields),
	    PRIVD_EINVAL);
	assert_int_equal(at, 0);
	assert_int_equal(fields, 0);
	at = fields = 7;
	assert_int_equal(
	    privd_relationship_end(c, "", "c-1", PRIVD_AT_NOW, &at, &fields),
	    PRIVD_EINVAL);
	assert_int_equal(at, 0);
	assert_int_equal(fields, 0);
	assert_int_equal(
	    privd_relationship_end(c, NULL, "c-1", PRIVD_AT_NOW, NULL, NULL),
	    PRIVD_EINVAL);
	assert_int_equal(privd_relationship_end(
	                     c, "customers", "", PRIVD_AT_NOW, NULL, NULL),
	    PRIVD_EINVAL);
	assert_int_equal(privd_relationship_end(
	                     c, "customers", subject, PRIVD_AT_NOW, NULL, NULL),
	    PRIVD_EINVAL);
	assert_null(strstr(privd_errmsg(c), "mmm"));
	assert_int_equal(
	    privd_relationship_end(c, "customers", "c-1", 1, NULL, NULL),
	    PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "2000-01-01"));
	assert_int_equal(privd_relationship_end(
	                     c, "customers", "c-1", Y2K_US - 1, NULL, NULL),
	    PRIVD_EINVAL);

	at = 7;
	assert_int_equal(
	    privd_contract_end(NULL, "acis", PRIVD_AT_NOW, &at), PRIVD_EINVAL);
	assert_int_equal(at, 0);
	assert_int_equal(
	    privd_contract_end(c, "", PRIVD_AT_NOW, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_contract_end(c, "acis", Y2K_US - 1, NULL), PRIVD_EINVAL);
	memset(subject, 'r', 65);
	subject[65] = '\0';
	assert_int_equal(
	    privd_contract_end(c, subject, PRIVD_AT_NOW, NULL), PRIVD_EINVAL);
	assert_nothing_sent(c);
}

/* Holds: a register, a reason of 1..256 bytes, an until from 2000 on (or
 * 0), a subject of at most 256 bytes (NULL or "": the register). */
static void
test_holds_local_checks(void **state)
{
	privd_client *c = *state;
	char reason[258], subject[258];
	privd_hold *h = (privd_hold *)&h;
	size_t n = 9;
	int replaced = 7;

	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	memset(subject, 'm', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	assert_int_equal(
	    privd_hold_set(NULL, "customers", NULL, "why", 0, &replaced),
	    PRIVD_EINVAL);
	assert_int_equal(replaced, 0);
	assert_int_equal(
	    privd_hold_set(c, "", NULL, "why", 0, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_hold_set(c, "customers", NULL, NULL, 0, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_hold_set(c, "customers", NULL, "", 0, NULL), PRIVD_EINVAL);
	assert_int_equal(privd_hold_set(c, "customers", NULL, reason, 0, NULL),
	    PRIVD_EINVAL);
	assert_null(strstr(privd_errmsg(c), "xxx"));
	assert_int_equal(
	    privd_hold_set(c, "customers", subject, "why", 0, NULL),
	    PRIVD_EINVAL);
	assert_null(strstr(privd_errmsg(c), "mmm"));
	assert_int_equal(
	    privd_hold_set(c, "customers", "c-1", "why", Y2K_US - 1, NULL),
	    PRIVD_EINVAL);

	assert_int_equal(
	    privd_hold_lift(NULL, "customers", NULL), PRIVD_EINVAL);
	assert_int_equal(privd_hold_lift(c, "", "c-1"), PRIVD_EINVAL);
	assert_int_equal(
	    privd_hold_lift(c, "customers", subject), PRIVD_EINVAL);

	assert_int_equal(privd_hold_list(c, NULL, NULL, &n), PRIVD_EINVAL);
	assert_int_equal(n, 0);
	assert_int_equal(privd_hold_list(c, NULL, &h, NULL), PRIVD_EINVAL);
	assert_null(h);
	memset(subject, 'r', 65);
	subject[65] = '\0';
	assert_int_equal(privd_hold_list(c, subject, &h, &n), PRIVD_EINVAL);
	privd_holds_free(NULL);
	privd_holds_free(&h);
	assert_nothing_sent(c);
}

/* retention_run: as_of only with a preview, a limit only without one. */
static void
test_retention_run_local_checks(void **state)
{
	privd_client *c = *state;
	privd_retention_opts o = {0};
	privd_retention_report *r = (privd_retention_report *)&r;

	assert_int_equal(privd_retention_run(c, &o, NULL), PRIVD_EINVAL);
	assert_int_equal(privd_retention_run(NULL, &o, &r), PRIVD_EINVAL);
	assert_null(r);
	o.as_of_us = Y2K_US;
	assert_int_equal(privd_retention_run(c, &o, &r), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "preview"));
	o.preview = 1;
	o.limit = 10;
	assert_int_equal(privd_retention_run(c, &o, &r), PRIVD_EINVAL);
	o.limit = 0;
	o.as_of_us = Y2K_US - 1;
	assert_int_equal(privd_retention_run(c, &o, &r), PRIVD_EINVAL);
	o.as_of_us = 0;
	o.reg = "a-register-name-far-longer-than-the-sixty-four-bytes-a-name-"
	        "may-have";
	assert_int_equal(privd_retention_run(c, &o, &r), PRIVD_EINVAL);
	assert_null(r);
	privd_retention_report_free(NULL);
	privd_retention_report_free(&r);
	assert_nothing_sent(c);
}

/* aggregate: a purpose, a register and a field, names of at most 64
 * bytes; group_by optional. */
static void
test_aggregate_local_checks(void **state)
{
	privd_client *c = *state;
	privd_aggregate_result *r = (privd_aggregate_result *)&r;
	const char *longname = "a-field-name-far-longer-than-the-sixty-four-"
	                       "bytes-a-name-may-have";

	assert_int_equal(
	    privd_aggregate(c, "stats", "acis", "score", NULL, NULL),
	    PRIVD_EINVAL);
	assert_int_equal(
	    privd_aggregate(NULL, "stats", "acis", "score", NULL, &r),
	    PRIVD_EINVAL);
	assert_null(r);
	assert_int_equal(
	    privd_aggregate(c, NULL, "acis", "score", NULL, &r), PRIVD_EINVAL);
	assert_int_equal(
	    privd_aggregate(c, "stats", "", "score", NULL, &r), PRIVD_EINVAL);
	assert_int_equal(
	    privd_aggregate(c, "stats", "acis", "", NULL, &r), PRIVD_EINVAL);
	assert_int_equal(
	    privd_aggregate(c, "stats", "acis", longname, NULL, &r),
	    PRIVD_EINVAL);
	assert_int_equal(
	    privd_aggregate(c, "stats", "acis", "score", longname, &r),
	    PRIVD_EINVAL);
	assert_null(r);
	privd_aggregate_result_free(NULL);
	privd_aggregate_result_free(&r);
	assert_nothing_sent(c);
}

/* delete_ex: kept and nkept go together; every out parameter is zero
 * after a failure. */
static void
test_delete_ex_local_checks(void **state)
{
	privd_client *c = *state;
	privd_retained *kept = (privd_retained *)&kept;
	size_t nkept = 9;
	uint32_t deleted = 9;

	assert_int_equal(privd_delete_ex(c, "customers", "c-1", "p", NULL, 0,
	                     &deleted, &kept, NULL),
	    PRIVD_EINVAL);
	assert_null(kept);
	assert_int_equal(deleted, 0);
	assert_int_equal(privd_delete_ex(c, "customers", "c-1", "p", NULL, 0,
	                     NULL, NULL, &nkept),
	    PRIVD_EINVAL);
	assert_int_equal(nkept, 0);
	kept = (privd_retained *)&kept;
	nkept = deleted = 9;
	assert_int_equal(privd_delete_ex(c, "customers", "", "p", NULL, 0,
	                     &deleted, &kept, &nkept),
	    PRIVD_EINVAL);
	assert_null(kept);
	assert_int_equal(nkept, 0);
	assert_int_equal(deleted, 0);
	assert_int_equal(privd_delete_ex(c, "customers", "c-1", "", NULL, 0,
	                     NULL, &kept, &nkept),
	    PRIVD_EINVAL);
	assert_nothing_sent(c);
}

/*
 * The rights calls: a register of 1..64 bytes, a subject of 1..256, a
 * purpose of 1..64 for an objection; for an erasure, register names of
 * 1..64 bytes and a list whenever a count is given. Out parameters are
 * zero (or NULL) after a failure, and no message quotes the subject id.
 */
static void
test_rights_local_checks(void **state)
{
	privd_client *c = *state;
	const char *regs[] = {"customers", "", "acis"};
	privd_erasure *e = (privd_erasure *)&e;
	char subject[258], name[66];
	int changed = 7;

	memset(subject, 'm', sizeof(subject) - 1);
	subject[sizeof(subject) - 1] = '\0';
	memset(name, 'r', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';

	assert_int_equal(
	    privd_subject_restrict(NULL, "customers", "c-1", 1, &changed),
	    PRIVD_EINVAL);
	assert_int_equal(changed, 0);
	changed = 7;
	assert_int_equal(
	    privd_subject_restrict(c, "", "c-1", 1, &changed), PRIVD_EINVAL);
	assert_int_equal(changed, 0);
	assert_int_equal(
	    privd_subject_restrict(c, NULL, "c-1", 0, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_restrict(c, name, "c-1", 0, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_restrict(c, "customers", "", 1, NULL), PRIVD_EINVAL);
	assert_int_equal(privd_subject_restrict(c, "customers", NULL, 1, NULL),
	    PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_restrict(c, "customers", subject, 1, NULL),
	    PRIVD_EINVAL);
	assert_null(strstr(privd_errmsg(c), "mmm"));

	changed = 7;
	assert_int_equal(privd_subject_object(NULL, "customers", "c-1",
	                     "marketing", 1, &changed),
	    PRIVD_EINVAL);
	assert_int_equal(changed, 0);
	assert_int_equal(
	    privd_subject_object(c, "", "c-1", "marketing", 1, NULL),
	    PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_object(c, "customers", subject, "marketing", 1, NULL),
	    PRIVD_EINVAL);
	assert_null(strstr(privd_errmsg(c), "mmm"));
	changed = 7;
	assert_int_equal(
	    privd_subject_object(c, "customers", "c-1", "", 1, &changed),
	    PRIVD_EINVAL);
	assert_int_equal(changed, 0);
	assert_non_null(strstr(privd_errmsg(c), "purpose"));
	assert_int_equal(
	    privd_subject_object(c, "customers", "c-1", NULL, 0, NULL),
	    PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_object(c, "customers", "c-1", name, 1, NULL),
	    PRIVD_EINVAL);

	assert_int_equal(
	    privd_subject_erase(NULL, "c-1", NULL, 0, &e), PRIVD_EINVAL);
	assert_null(e);
	assert_int_equal(
	    privd_subject_erase(c, "c-1", NULL, 0, NULL), PRIVD_EINVAL);
	e = (privd_erasure *)&e;
	assert_int_equal(privd_subject_erase(c, "", NULL, 0, &e), PRIVD_EINVAL);
	assert_null(e);
	assert_int_equal(
	    privd_subject_erase(c, NULL, NULL, 0, &e), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_erase(c, subject, NULL, 0, &e), PRIVD_EINVAL);
	assert_null(strstr(privd_errmsg(c), "mmm"));
	assert_int_equal(
	    privd_subject_erase(c, "c-1", NULL, 2, &e), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_erase(c, "c-1", regs, 3, &e), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "register name 2"));
	regs[1] = name;
	assert_int_equal(
	    privd_subject_erase(c, "c-1", regs, 3, &e), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "register name 2"));
	regs[1] = NULL;
	assert_int_equal(
	    privd_subject_erase(c, "c-1", regs, 3, &e), PRIVD_EINVAL);
	assert_null(e);
	assert_nothing_sent(c);
}

/*
 * privd_policy_apply_ex: c, flags, the version replaced and the document
 * are checked first; *out is zeroed after a failure, and may be NULL.
 */
static void
test_policy_apply_ex_local_checks(void **state)
{
	privd_client *c = *state;
	privd_apply_result a;

	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(
	    privd_policy_apply_ex(NULL, 1, "{}", 0, &a), PRIVD_EINVAL);
	assert_int_equal(a.version, 0);
	assert_int_equal(a.unchanged, 0);
	assert_int_equal(a.replan_subjects, 0);
	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(
	    privd_policy_apply_ex(c, 1, "{}", 0x2, &a), PRIVD_EINVAL);
	assert_int_equal(a.replan_subjects, 0);
	assert_int_equal(
	    privd_policy_apply_ex(c, 0, "{}", 0, &a), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "replaces_version"));
	assert_int_equal(
	    privd_policy_apply_ex(c, 1, "", 0, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_policy_apply_ex(c, 1, NULL, PRIVD_APPLY_FORCE, NULL),
	    PRIVD_EINVAL);
	assert_nothing_sent(c);
}

/*
 * What passes the checks is sent: now, undo (0), a hold until lifted on a
 * whole register, a sweep of everything (opts NULL), a list of every
 * register, and the rights calls. With nothing listening, each ends unavailable
 * at its deadline.
 */
static void
test_valid_arguments_are_sent(void **state)
{
	privd_client *c = *state;
	privd_retention_report *r = NULL;
	privd_erasure *e = NULL;
	privd_hold *h = NULL;
	size_t n = 0;

	privd_set_timeout(c, 20);
	assert_int_equal(privd_relationship_end(
	                     c, "customers", "c-1", PRIVD_AT_NOW, NULL, NULL),
	    PRIVD_EUNAVAILABLE);
	assert_int_equal(
	    privd_relationship_end(c, "customers", "c-1", 0, NULL, NULL),
	    PRIVD_EUNAVAILABLE);
	assert_int_equal(
	    privd_contract_end(c, "acis", Y2K_US, NULL), PRIVD_EUNAVAILABLE);
	assert_int_equal(
	    privd_hold_set(c, "acis", "", "contract dispute", 0, NULL),
	    PRIVD_EUNAVAILABLE);
	assert_int_equal(privd_hold_lift(c, "acis", NULL), PRIVD_EUNAVAILABLE);
	assert_int_equal(privd_hold_list(c, NULL, &h, &n), PRIVD_EUNAVAILABLE);
	assert_null(h);
	assert_int_equal(privd_retention_run(c, NULL, &r), PRIVD_EUNAVAILABLE);
	assert_null(r);
	/* the rights calls: lift, withdraw, an erasure of every register */
	assert_int_equal(privd_subject_restrict(c, "customers", "c-1", 0, NULL),
	    PRIVD_EUNAVAILABLE);
	assert_int_equal(
	    privd_subject_object(c, "customers", "c-1", "marketing", 0, NULL),
	    PRIVD_EUNAVAILABLE);
	assert_int_equal(
	    privd_subject_erase(c, "c-1", NULL, 0, &e), PRIVD_EUNAVAILABLE);
	assert_null(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_put_messages_never_quote_a_bad_name, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_ends_local_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_holds_local_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_retention_run_local_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_aggregate_local_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delete_ex_local_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_policy_apply_ex_local_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rights_local_checks, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_valid_arguments_are_sent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
