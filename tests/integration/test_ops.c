/*
 * test_ops.c - privd as an operator runs it (issue 7):
 * - SIGHUP no longer kills privd without its final checkpoint: it keeps
 *   serving, and a later SIGTERM exits 0 with the head of the audit log
 *   signed;
 * - nobody can fill the disk with privd's log: refusals of unknown client
 *   keys (ZAP), failed handshakes (a wrong server key) and per-request
 *   denials log at most about one line per cause and second, with a count,
 *   and never key material.
 *
 * Each test has its own privd.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <lmdb.h>
#include <zmq.h>

#include "checks.h"
#include "harness.h"

#define REG "customers"
#define INV "invoicing"

/* How long and how hard the floods go: at least FLOOD connections or
 * requests, over at least FLOOD_MS (so the limiter's window turns). */
#define FLOOD    200
#define FLOOD_MS 1500

/* What a flooding client's socket reports once privd turned it away. */
#define TURNED_AWAY                                                            \
	(ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |                                     \
	    ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                              \
	    ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_DISCONNECTED)

static int
setup(void **state)
{
	static const char *const keys[] = {"svc", "stranger"};

	/* "stranger" has a key pair but is not in the policy */
	return h_setup(state, keys, 2, h_policy_default, NULL);
}

static void
serves(harness *h, const char *subject)
{
	privd_client *c = client(h, "svc");
	privd_record *r = NULL;

	put_name(c, subject, "Signal Person");
	expect_rc(
	    c, privd_get(c, REG, subject, INV, NULL, 0, &r), PRIVD_OK, "get");
	privd_record_free(&r);
	privd_close(&c);
}

/* The last key (a big-endian seq) of a database of the stopped store. */
static uint64_t
last_seq(harness *h, const char *db)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v;
	uint64_t seq = 0;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 16), 0);
	assert_int_equal(mdb_env_open(env, h->data_dir, MDB_RDONLY, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	assert_int_equal(mdb_cursor_get(c, &k, &v, MDB_LAST), 0);
	assert_int_equal(k.mv_size, 8);
	for (int i = 0; i < 8; i++)
		seq = (seq << 8) | ((const uint8_t *)k.mv_data)[i];
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return seq;
}

static void
test_sighup_keeps_serving(void **state)
{
	harness *h = *state;

	serves(h, "before-hup");
	for (int i = 0; i < 2; i++) {
		assert_int_equal(kill(h->pid, SIGHUP), 0);
		/* answered after the signal arrived: it was handled */
		serves(h, "after-hup");
		if (!h_running(h))
			fail_msg("privd ended on SIGHUP (wait status %d)",
			    h->last_wstatus);
	}
	stop_clean(h);
	/* the final checkpoint signed the head */
	assert_int_equal(last_seq(h, "audit_ckpt"), last_seq(h, "audit"));
	assert_int_equal(h_start(h, NULL), 0);
	serves(h, "after-restart");
}

/*
 * Connect as keyname trusting server_key (NULL: the right one) over and
 * over, each time until privd turns the socket away, for at least FLOOD
 * times and FLOOD_MS. Returns how many were turned away; *ms receives how
 * long it took.
 */
static int
flood_connections(
    harness *h, const char *keyname, const char *server_key, int64_t *ms)
{
	int64_t t0 = h_now_ms();
	int n = 0, away = 0;

	while (n < FLOOD || h_now_ms() - t0 < FLOOD_MS) {
		h_dealer d;

		assert_int_equal(
		    h_dealer_open(h, keyname, server_key, true, &d), 0);
		if (h_dealer_wait_event(&d, TURNED_AWAY, 2000) > 0)
			away++;
		h_dealer_close(&d);
		if (++n >= 20 * FLOOD)
			break;
	}
	*ms = h_now_ms() - t0;
	print_message("%d connections in %lld ms, %d turned away\n", n,
	    (long long)*ms, away);
	return away;
}

/* The log since mark, after a flood of ms milliseconds, has at least one
 * line with needle and at most about one a second, one of them with a
 * count of those left out, and none of the texts in secrets. */
static void
expect_limited(harness *h, size_t mark, const char *needle, int64_t ms,
    const char *const *secrets, size_t nsecrets)
{
	int n = h_log_wait(h, mark, needle, 1, 5000);
	int max = (int)(ms / 1000) + 2;
	uint8_t *buf;
	size_t len;
	bool counted = false;

	if (n < 1)
		fail_msg("privd logged nothing with \"%s\"", needle);
	if (n > max)
		fail_msg(
		    "%d log lines with \"%s\" (at most %d)", n, needle, max);
	assert_int_equal(h_read_file(h->log, &buf, &len), 0);
	for (char *line = (char *)buf + mark; *line != '\0';) {
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (strstr(line, needle) != NULL &&
		    (strstr(line, "more") != NULL ||
		        strstr(line, "times") != NULL ||
		        strstr(line, "repeated") != NULL))
			counted = true;
		for (size_t i = 0; i < nsecrets; i++)
			if (strstr(line, secrets[i]) != NULL)
				fail_msg("key material in the log: %s", line);
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	free(buf);
	if (!counted)
		fail_msg(
		    "no line with \"%s\" says how many were left out", needle);
}

static void
test_zap_refusals_rate_limited(void **state)
{
	harness *h = *state;
	const h_key *s = h_key_get(h, "stranger");
	const char *const secrets[] = {s->pub, s->sec};
	size_t mark = h_log_size(h);
	int64_t ms;

	assert_true(flood_connections(h, "stranger", NULL, &ms) >= FLOOD / 2);
	expect_limited(h, mark, "refused", ms, secrets, 2);
	serves(h, "after-zap-flood");
}

static void
test_failed_handshakes_logged_rate_limited(void **state)
{
	harness *h = *state;
	const h_key *s = h_key_get(h, "svc");
	char wrong_pub[PRIVD_KEY_Z85_LEN], wrong_sec[PRIVD_KEY_Z85_LEN];
	size_t mark = h_log_size(h);

	assert_int_equal(zmq_curve_keypair(wrong_pub, wrong_sec), 0);
	{
		const char *const secrets[] = {
		    s->pub, s->sec, wrong_pub, wrong_sec, h->server_key};

		int64_t ms;

		assert_true(
		    flood_connections(h, "svc", wrong_pub, &ms) >= FLOOD / 2);
		expect_limited(h, mark, "handshake", ms, secrets, 5);
	}
	serves(h, "after-handshake-flood");
}

/* Requests the policy denies are audited, not logged line by line. */
static void
test_denials_do_not_flood_the_log(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f = h_field("name", "Denied Person");
	int64_t t0 = h_now_ms();
	size_t mark = h_log_size(h);
	int n = 0, lines;

	while (n < FLOOD || h_now_ms() - t0 < FLOOD_MS) {
		expect_rc(c, privd_put(c, "suppliers", "d", INV, &f, 1),
		    PRIVD_EDENIED, "put to an unknown register");
		expect_rc(c, privd_put(c, REG, "d", "marketing", &f, 1),
		    PRIVD_EDENIED, "put for an ungranted purpose");
		if (++n >= 20 * FLOOD)
			break;
	}
	privd_close(&c);
	lines = h_log_count(h, mark, "");
	if (lines > 10)
		fail_msg("%d denied requests logged %d lines", 2 * n, lines);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_sighup_keeps_serving),
	    T(test_zap_refusals_rate_limited),
	    T(test_failed_handshakes_logged_rate_limited),
	    T(test_denials_do_not_flood_the_log),
	};

	return cmocka_run_group_tests_name(
	    "integration/ops", tests, NULL, NULL);
}
