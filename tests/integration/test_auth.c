/*
 * test_auth.c - only keys named in the policy get answers from privd, and
 * only a client that trusts privd's real key talks to it.
 *
 * Each test has its own privd with the default policy (principal "svc") and
 * a second key pair, "stranger", that the policy does not name.
 *
 * A refusal must be told apart from a privd that is gone: privd's ZAP
 * handler refuses an unknown key during the CURVE handshake, which libprivd
 * sees through its socket monitor and reports at once as PRIVD_EDENIED
 * (reason unknown_principal), long before the call's deadline; a dead privd
 * would give PRIVD_EUNAVAILABLE at the deadline instead. After every
 * rejection the test also checks that privd still runs and serves svc.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zmq.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define REG     "customers"
#define PURPOSE "invoicing"
/* Deadline of the calls privd should refuse, and how soon the refusal must
 * come: well before the deadline, so that running into it cannot pass. */
#define REJECT_TIMEOUT_MS 3000
#define REJECT_WITHIN_MS  2000
/* How long a raw DEALER waits for a reply that must not come. */
#define NO_ANSWER_TIMEOUT_MS 1000
/* Deadline of calls whose handshake cannot complete (wrong server key):
 * libprivd ends them early, once the failure is clear, with EHANDSHAKE. */
#define HANDSHAKE_TIMEOUT_MS 10000

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

/*
 * A call by a key the policy does not name, started at t0 (h_now_ms()) and
 * ended with rc: privd refused the key in the handshake, and libprivd said
 * so well before the call's deadline.
 */
static void
assert_refused(privd_client *c, int rc, int64_t t0, const char *what)
{
	int64_t took = h_now_ms() - t0;

	if (rc != PRIVD_EDENIED)
		fail_msg("%s: expected %s, got %s (%s) after %lld ms", what,
		    privd_strerror(PRIVD_EDENIED), privd_strerror(rc),
		    privd_errmsg(c), (long long)took);
	if (privd_reason(c) != PRIVD__V1__DENY_REASON__DENY_UNKNOWN_PRINCIPAL)
		fail_msg("%s: denied with reason %d (%s), expected "
		         "unknown_principal",
		    what, privd_reason(c), privd_reason_name(privd_reason(c)));
	if (took >= REJECT_WITHIN_MS)
		fail_msg("%s: the refusal took %lld ms (deadline %d ms), "
		         "expected under %d ms",
		    what, (long long)took, REJECT_TIMEOUT_MS, REJECT_WITHIN_MS);
}

/* A call whose CURVE handshake cannot complete: no answer by its deadline.
 * (A refused key would be PRIVD_EDENIED: that is not what happened.) */
/* A wrong server key is told apart from a stopped privd (issue 7). */
static void
assert_no_handshake(privd_client *c, int rc, const char *what)
{
	if (rc != PRIVD_EHANDSHAKE)
		fail_msg("%s: expected %s, got %s (%s)", what,
		    privd_strerror(PRIVD_EHANDSHAKE), privd_strerror(rc),
		    privd_errmsg(c));
}

/* privd still runs and answers the principal of the policy. */
static void
assert_serves_svc(harness *h)
{
	privd_client *c = NULL;
	privd_pong pong;
	int rc;

	assert_true(h_running(h));
	assert_int_equal(h_connect(h, "svc", &c), PRIVD_OK);
	memset(&pong, 0, sizeof(pong));
	rc = privd_ping(c, &pong);
	if (rc != PRIVD_OK)
		fail_msg("svc ping after the rejection: %s (%s)",
		    privd_strerror(rc), privd_errmsg(c));
	assert_string_equal(pong.principal, "svc");
	privd_close(&c);
}

static void
test_unknown_key_ping_gets_no_answer(void **state)
{
	harness *h = *state;
	privd_client *c =
	    client_as(h, "stranger", h->server_key, REJECT_TIMEOUT_MS);
	privd_pong pong;
	int64_t t0;
	int rc;

	memset(&pong, 0, sizeof(pong));
	t0 = h_now_ms();
	rc = privd_ping(c, &pong);
	assert_refused(c, rc, t0, "ping");
	/* nothing of an answer reached the caller */
	assert_string_equal(pong.principal, "");
	assert_string_equal(pong.server_version, "");
	privd_close(&c);
	assert_serves_svc(h);
}

static void
test_unknown_key_cannot_read_or_write(void **state)
{
	harness *h = *state;
	privd_client *svc = NULL, *c;
	privd_field f[] = {h_field("name", "Only For Svc")};
	privd_field hijack[] = {h_field("name", "Hijacked")};
	privd_record *rec = NULL;
	int64_t t0;
	int rc;

	assert_int_equal(h_connect(h, "svc", &svc), PRIVD_OK);
	assert_int_equal(
	    privd_put(svc, REG, "private-1", PURPOSE, f, 1), PRIVD_OK);

	c = client_as(h, "stranger", h->server_key, REJECT_TIMEOUT_MS);
	t0 = h_now_ms();
	rc = privd_get(c, REG, "private-1", PURPOSE, NULL, 0, &rec);
	assert_refused(c, rc, t0, "get");
	assert_null(rec);
	t0 = h_now_ms();
	rc = privd_put(c, REG, "private-1", PURPOSE, hijack, 1);
	assert_refused(c, rc, t0, "put");
	privd_close(&c);
	assert_serves_svc(h);

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

	/* Without libprivd in between: privd refuses the key in the
	 * handshake (the monitor sees it, so privd was there to refuse), and
	 * nothing at all comes back. */
	assert_int_equal(h_dealer_open(h, "stranger", NULL, true, &d), 0);
	{
		const void *parts[] = {frame};
		size_t lens[] = {len};
		assert_int_equal(h_dealer_send(&d, parts, lens, 1), 0);
	}
	assert_int_equal(
	    h_dealer_wait_event(&d,
	        ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_SUCCEEDED,
	        REJECT_WITHIN_MS),
	    ZMQ_EVENT_HANDSHAKE_FAILED_AUTH);
	assert_int_equal(h_dealer_recv(&d, NO_ANSWER_TIMEOUT_MS, &reply,
	                     &reply_len, &nframes),
	    -1);
	assert_null(reply);
	h_dealer_close(&d);
	assert_serves_svc(h);
}

static void
test_wrong_server_key_is_a_failed_handshake(void **state)
{
	harness *h = *state;
	char other_pub[PRIVD_KEY_Z85_LEN], other_sec[PRIVD_KEY_Z85_LEN];
	privd_client *c;
	privd_record *rec = NULL;

	/* svc's own (authorised) key pair, but it trusts another server. */
	assert_int_equal(privd_keygen(other_pub, other_sec), PRIVD_OK);
	assert_string_not_equal(other_pub, h->server_key);
	c = client_as(h, "svc", other_pub, HANDSHAKE_TIMEOUT_MS);
	assert_no_handshake(c, privd_ping(c, NULL), "ping");
	assert_no_handshake(
	    c, privd_get(c, REG, "anyone", PURPOSE, NULL, 0, &rec), "get");
	assert_null(rec);
	privd_close(&c);
	assert_serves_svc(h);
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
	int64_t t0;
	int rc;

	c = client_as(h, "stranger", h->server_key, REJECT_TIMEOUT_MS);
	t0 = h_now_ms();
	rc = privd_ping(c, NULL);
	assert_refused(c, rc, t0, "stranger ping");
	privd_close(&c);
	assert_int_equal(privd_keygen(other_pub, other_sec), PRIVD_OK);
	c = client_as(h, "svc", other_pub, HANDSHAKE_TIMEOUT_MS);
	assert_no_handshake(c, privd_ping(c, NULL), "wrong server key ping");
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
	    T(test_wrong_server_key_is_a_failed_handshake),
	    T(test_valid_client_works_after_rejections),
	};

	return cmocka_run_group_tests_name(
	    "integration/auth", tests, NULL, NULL);
}
