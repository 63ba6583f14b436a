/*
 * test_auth.c - only keys named in the policy get answers from privd, and
 * only a client that trusts privd's real key talks to it.
 *
 * Each test has its own privd with the default policy (principal "svc") and
 * a second key pair, "stranger", that the policy does not name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "privd.pb-c.h"

#define REG     "customers"
#define PURPOSE "invoicing"
/* Short deadline for calls that are expected to get no answer. */
#define REJECT_TIMEOUT_MS 1000

static int
setup(void **state)
{
	harness *h;

	if (h_setup_default(state) != 0)
		return -1;
	h = *state;
	if (h_key_new(h, "stranger") == NULL) {
		h_teardown(state);
		return -1;
	}
	return 0;
}

/* A call that reached no authorised peer: privd never answered it. */
static void
assert_no_answer(int rc, const char *what)
{
	if (rc != PRIVD_EDENIED && rc != PRIVD_EUNAVAILABLE &&
	    rc != PRIVD_ETIMEOUT)
		fail_msg("%s: expected denied, unavailable or timeout, got %s",
		    what, privd_strerror(rc));
}

static privd_client *
client_as(harness *h, const char *key, const char *server_key)
{
	const h_key *k = h_key_get(h, key);
	privd_client *c = NULL;

	assert_non_null(k);
	assert_int_equal(
	    privd_connect(&c, h->endpoint, server_key, k->pub, k->sec),
	    PRIVD_OK);
	privd_set_timeout(c, REJECT_TIMEOUT_MS);
	return c;
}

static void
test_unknown_key_ping_gets_no_answer(void **state)
{
	harness *h = *state;
	privd_client *c = client_as(h, "stranger", h->server_key);
	privd_pong pong;

	memset(&pong, 0, sizeof(pong));
	assert_no_answer(privd_ping(c, &pong), "ping");
	privd_close(&c);
}

static void
test_unknown_key_cannot_read_or_write(void **state)
{
	harness *h = *state;
	privd_client *svc = NULL, *c;
	privd_field f[] = {h_field("name", "Only For Svc")};
	privd_field hijack[] = {h_field("name", "Hijacked")};
	privd_record *rec = NULL;

	assert_int_equal(h_connect(h, "svc", &svc), PRIVD_OK);
	assert_int_equal(
	    privd_put(svc, REG, "private-1", PURPOSE, f, 1), PRIVD_OK);

	c = client_as(h, "stranger", h->server_key);
	assert_no_answer(
	    privd_get(c, REG, "private-1", PURPOSE, NULL, 0, &rec), "get");
	assert_null(rec);
	assert_no_answer(
	    privd_put(c, REG, "private-1", PURPOSE, hijack, 1), "put");
	privd_close(&c);

	/* The stranger's put changed nothing. */
	assert_int_equal(
	    privd_get(svc, REG, "private-1", PURPOSE, NULL, 0, &rec), PRIVD_OK);
	assert_non_null(privd_record_field(rec, "name"));
	assert_string_equal(
	    (const char *)privd_record_field(rec, "name")->value,
	    "Only For Svc");
	privd_record_free(&rec);
	privd_close(&svc);
}

static void
test_unknown_key_raw_gets_no_reply(void **state)
{
	harness *h = *state;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PingRequest ping = PRIVD__V1__PING_REQUEST__INIT;
	uint8_t frame[64], *reply = NULL;
	size_t len, reply_len, nframes;
	h_dealer d;

	req.request_id = 4242;
	req.op_case = PRIVD__V1__REQUEST__OP_PING;
	req.ping = &ping;
	len = privd__v1__request__pack(&req, frame);

	/* Without libprivd in between: nothing at all comes back. */
	assert_int_equal(h_dealer_open(h, "stranger", NULL, false, &d), 0);
	{
		const void *parts[] = {frame};
		size_t lens[] = {len};
		assert_int_equal(h_dealer_send(&d, parts, lens, 1), 0);
	}
	assert_int_equal(
	    h_dealer_recv(&d, REJECT_TIMEOUT_MS, &reply, &reply_len, &nframes),
	    -1);
	assert_null(reply);
	h_dealer_close(&d);
}

static void
test_wrong_server_key_gets_no_answer(void **state)
{
	harness *h = *state;
	char other_pub[PRIVD_KEY_Z85_LEN], other_sec[PRIVD_KEY_Z85_LEN];
	privd_client *c;
	privd_record *rec = NULL;

	/* svc's own (authorised) key pair, but it trusts another server. */
	assert_int_equal(privd_keygen(other_pub, other_sec), PRIVD_OK);
	assert_string_not_equal(other_pub, h->server_key);
	c = client_as(h, "svc", other_pub);
	assert_no_answer(privd_ping(c, NULL), "ping");
	assert_no_answer(
	    privd_get(c, REG, "anyone", PURPOSE, NULL, 0, &rec), "get");
	assert_null(rec);
	privd_close(&c);
}

static void
test_valid_client_works_after_rejections(void **state)
{
	harness *h = *state;
	char other_pub[PRIVD_KEY_Z85_LEN], other_sec[PRIVD_KEY_Z85_LEN];
	privd_field f[] = {h_field("name", "Valid Again")};
	privd_client *c;
	privd_record *rec = NULL;
	privd_pong pong;

	c = client_as(h, "stranger", h->server_key);
	assert_no_answer(privd_ping(c, NULL), "stranger ping");
	privd_close(&c);
	assert_int_equal(privd_keygen(other_pub, other_sec), PRIVD_OK);
	c = client_as(h, "svc", other_pub);
	assert_no_answer(privd_ping(c, NULL), "wrong server key ping");
	privd_close(&c);

	assert_true(h_running(h));
	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	memset(&pong, 0, sizeof(pong));
	assert_int_equal(privd_ping(c, &pong), PRIVD_OK);
	assert_string_equal(pong.principal, "svc");
	assert_int_equal(pong.policy_version, 1);
	assert_int_equal(privd_put(c, REG, "valid-1", PURPOSE, f, 1), PRIVD_OK);
	assert_int_equal(
	    privd_get(c, REG, "valid-1", PURPOSE, NULL, 0, &rec), PRIVD_OK);
	assert_non_null(privd_record_field(rec, "name"));
	assert_string_equal(
	    (const char *)privd_record_field(rec, "name")->value,
	    "Valid Again");
	privd_record_free(&rec);
	privd_close(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_unknown_key_ping_gets_no_answer),
	    T(test_unknown_key_cannot_read_or_write),
	    T(test_unknown_key_raw_gets_no_reply),
	    T(test_wrong_server_key_gets_no_answer),
	    T(test_valid_client_works_after_rejections),
	};

	return cmocka_run_group_tests_name(
	    "integration/auth", tests, NULL, NULL);
}
