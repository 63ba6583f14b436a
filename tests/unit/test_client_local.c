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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_put_messages_never_quote_a_bad_name, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
