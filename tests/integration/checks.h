/*
 * checks.h - cmocka assertions shared by the integration tests. Unlike the
 * harness (which only returns errors, for use in setup and teardown), these
 * fail the running test.
 */
#ifndef PRIVD_TEST_CHECKS_H
#define PRIVD_TEST_CHECKS_H

#include "harness.h"

/* A client for the key registered under name; fails the test if it
 * cannot be made. */
static inline privd_client *
client(harness *h, const char *name)
{
	privd_client *c = NULL;

	assert_int_equal(h_connect(h, name, &c), PRIVD_OK);
	return c;
}

/* Fail with privd's message unless rc is want. */
static inline void
expect_rc(privd_client *c, int rc, int want, const char *what)
{
	if (rc != want)
		fail_msg("%s: expected %s, got %s (%s, reason %s)", what,
		    privd_strerror(want), privd_strerror(rc), privd_errmsg(c),
		    privd_reason_name(privd_reason(c)));
}

#endif
