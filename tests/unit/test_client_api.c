/*
 * test_client_api.c - what <privd/client.h> promises that needs no
 * privd: the version macros and privd_version(), and the names of deny
 * reasons, audit statuses, decisions and status codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privd/client.h>

/* The status codes <privd/client.h> defines, by name. */
static const struct {
	const char *name;
	int value;
} statuses[] = {
    {"PRIVD_OK", PRIVD_OK},
    {"PRIVD_EINVAL", PRIVD_EINVAL},
    {"PRIVD_EDENIED", PRIVD_EDENIED},
    {"PRIVD_ENOTFOUND", PRIVD_ENOTFOUND},
    {"PRIVD_ECONFLICT", PRIVD_ECONFLICT},
    {"PRIVD_ERETAINED", PRIVD_ERETAINED},
    {"PRIVD_ETOOBIG", PRIVD_ETOOBIG},
    {"PRIVD_EUNAVAILABLE", PRIVD_EUNAVAILABLE},
    {"PRIVD_ETIMEOUT", PRIVD_ETIMEOUT},
    {"PRIVD_EPROTO", PRIVD_EPROTO},
    {"PRIVD_EINTERNAL", PRIVD_EINTERNAL},
    {"PRIVD_ENOMEM", PRIVD_ENOMEM},
    {"PRIVD_EKEY", PRIVD_EKEY},
    {"PRIVD_ETAMPERED", PRIVD_ETAMPERED},
    {"PRIVD_EHANDSHAKE", PRIVD_EHANDSHAKE},
    {"PRIVD_EINDOUBT", PRIVD_EINDOUBT},
    {"PRIVD_EEXPIRED", PRIVD_EEXPIRED},
};
#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))

/*
 * The header's version is the library's, as privd_version() says at run
 * time and meson.build says (LIBPRIVD_VERSION): a program built with this
 * header and run with this library sees the same numbers.
 */
static void
test_version(void **state)
{
	char want[32];
	int major = -1, minor = -1, patch = -1;
	const char *s, *env = getenv("LIBPRIVD_VERSION");

	(void)state;
	s = privd_version(&major, &minor, &patch);
	assert_int_equal(major, PRIVD_VERSION_MAJOR);
	assert_int_equal(minor, PRIVD_VERSION_MINOR);
	assert_int_equal(patch, PRIVD_VERSION_PATCH);
	snprintf(want, sizeof(want), "%d.%d.%d", PRIVD_VERSION_MAJOR,
	    PRIVD_VERSION_MINOR, PRIVD_VERSION_PATCH);
	assert_string_equal(s, want);
	assert_non_null(env);
	assert_string_equal(s, env);
	assert_string_equal(privd_version(NULL, NULL, NULL), want);
	assert_int_equal(PRIVD_VERSION_FULL, PRIVD_VERSION_MAJOR * 10000 +
	                                         PRIVD_VERSION_MINOR * 100 +
	                                         PRIVD_VERSION_PATCH);
	/* what this issue added is there from 2.1.0 on */
	assert_true(PRIVD_VERSION_FULL >= PRIVD_MAKE_VERSION(2, 1, 0));
	assert_true(PRIVD_MAKE_VERSION(2, 1, 0) > PRIVD_MAKE_VERSION(2, 0, 99));
	/* the soname's number */
	assert_int_equal(PRIVD_VERSION_MAJOR, 2);
}

/* Each constant has its name; a number the library does not know has a
 * name that says so. */
static void
test_names(void **state)
{
	static const struct {
		int reason;
		const char *name;
	} reasons[] = {
	    {PRIVD_REASON_NONE, "none"},
	    {PRIVD_REASON_OTHER, "other"},
	    {PRIVD_REASON_UNKNOWN_PRINCIPAL, "unknown_principal"},
	    {PRIVD_REASON_UNKNOWN_REGISTER, "unknown_register"},
	    {PRIVD_REASON_UNKNOWN_FIELD, "unknown_field"},
	    {PRIVD_REASON_UNKNOWN_PURPOSE, "unknown_purpose"},
	    {PRIVD_REASON_NO_GRANT, "no_grant"},
	    {PRIVD_REASON_FIELD_NOT_GRANTED, "field_not_granted"},
	    {PRIVD_REASON_REGION, "region"},
	    {PRIVD_REASON_RESTRICTED, "restricted"},
	    {PRIVD_REASON_OBJECTED, "objected"},
	    {PRIVD_REASON_ROLE_REQUIRED, "role_required"},
	};
	static const struct {
		int status;
		const char *name;
	} audit[] = {
	    {PRIVD_AUDIT_STATUS_UNSPECIFIED, "unspecified"},
	    {PRIVD_AUDIT_STATUS_OK, "ok"},
	    {PRIVD_AUDIT_STATUS_INVALID, "invalid"},
	    {PRIVD_AUDIT_STATUS_DENIED, "denied"},
	    {PRIVD_AUDIT_STATUS_NOT_FOUND, "not_found"},
	    {PRIVD_AUDIT_STATUS_CONFLICT, "conflict"},
	    {PRIVD_AUDIT_STATUS_RETAINED, "retained"},
	    {PRIVD_AUDIT_STATUS_TOO_LARGE, "too_large"},
	    {PRIVD_AUDIT_STATUS_UNAVAILABLE, "unavailable"},
	    {PRIVD_AUDIT_STATUS_INTERNAL, "internal"},
	    {PRIVD_AUDIT_STATUS_EXPIRED, "expired"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++) {
		assert_int_equal(reasons[i].reason, (int)i);
		assert_string_equal(
		    privd_reason_name(reasons[i].reason), reasons[i].name);
	}
	assert_string_equal(privd_reason_name(12), "other");
	assert_string_equal(privd_reason_name(-1), "other");
	for (i = 0; i < sizeof(audit) / sizeof(audit[0]); i++) {
		assert_int_equal(audit[i].status, (int)i);
		assert_string_equal(
		    privd_audit_status_name(audit[i].status), audit[i].name);
	}
	assert_string_equal(privd_audit_status_name(11), "unknown");
	assert_string_equal(privd_audit_status_name(-1), "unknown");

	assert_string_equal(privd_audit_decision_name(0), "unspecified");
	assert_string_equal(
	    privd_audit_decision_name(PRIVD_DECISION_ALLOWED), "allowed");
	assert_string_equal(
	    privd_audit_decision_name(PRIVD_DECISION_REFUSED), "refused");
	assert_string_equal(
	    privd_audit_decision_name(PRIVD_DECISION_REJECTED), "rejected");
	assert_string_equal(
	    privd_audit_decision_name(PRIVD_DECISION_FAILED), "failed");
	assert_string_equal(privd_audit_decision_name(5), "unknown");

	for (i = 0; i < NSTATUSES; i++)
		assert_string_not_equal(
		    privd_strerror(statuses[i].value), "unknown status");
	assert_string_equal(privd_strerror((int)NSTATUSES), "unknown status");
	assert_string_equal(privd_strerror(-1), "unknown status");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
