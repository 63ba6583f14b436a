/*
 * test_client_handshake.c - a client tells a wrong server key, a stopped
 * privd and a refused client key apart, and says which (issue 7).
 *
 * libprivd watches each new socket's handshakes (client/conn.c): a client
 * key that privd's ZAP handler refuses is PRIVD_EDENIED at once; a
 * connection that privd's endpoint accepts but whose CURVE handshake fails
 * three times in a row (what a wrong server key does) is PRIVD_EHANDSHAKE,
 * long before the deadline; a privd that is not there accepts nothing and
 * is PRIVD_EUNAVAILABLE at the deadline. privctl maps them to exit codes 3,
 * 8 and 1.
 *
 * "Long before the deadline" is checked against a deadline of 20 s: a call
 * that ran into it would have taken that long and said
 * PRIVD_EUNAVAILABLE.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

/* The deadline of calls that must end early, and how early. */
#define LONG_TIMEOUT_MS 20000
#define EARLY_MS        (LONG_TIMEOUT_MS / 2)
/* The deadline of calls to a stopped privd, which they wait out. */
#define SHORT_TIMEOUT_MS 700

static int
setup(void **state)
{
	static const char *const keys[] = {"svc", "stranger"};

	return h_setup(state, keys, 2, h_policy_default, NULL);
}

/* A call that started at t0 ended with want, before half its deadline. */
static void
expect_early(privd_client *c, int rc, int want, int64_t t0, const char *what)
{
	int64_t took = h_now_ms() - t0;

	expect_rc(c, rc, want, what);
	if (took >= EARLY_MS)
		fail_msg("%s: took %lld ms of a %d ms deadline", what,
		    (long long)took, LONG_TIMEOUT_MS);
}

/* privd still answers svc. */
static void
expect_serves(harness *h)
{
	privd_client *c = client(h, "svc");

	expect_rc(c, privd_ping(c, NULL), PRIVD_OK, "svc ping");
	privd_close(&c);
}

static void
test_wrong_server_key_is_ehandshake_fast(void **state)
{
	harness *h = *state;
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	privd_record *rec = NULL;
	privd_client *c;
	int64_t t0;

	/* svc's authorised key pair, trusting a server key that is not
	 * privd's */
	assert_int_equal(privd_keygen(pub, sec), PRIVD_OK);
	c = client_as(h, "svc", pub, LONG_TIMEOUT_MS);
	t0 = h_now_ms();
	expect_early(
	    c, privd_ping(c, NULL), PRIVD_EHANDSHAKE, t0, "ping, wrong key");
	assert_non_null(strstr(privd_errmsg(c), h->endpoint));
	assert_non_null(
	    strstr(privd_errmsg(c), "the server key is probably wrong"));
	assert_string_equal(privd_strerror(PRIVD_EHANDSHAKE),
	    "CURVE handshake with privd failed (wrong server key?)");
	/* every call, not only ping; nothing was sent */
	t0 = h_now_ms();
	expect_early(c,
	    privd_get(c, "customers", "anyone", "invoicing", NULL, 0, &rec),
	    PRIVD_EHANDSHAKE, t0, "get, wrong key");
	assert_null(rec);
	privd_close(&c);
	expect_serves(h);
}

static void
test_refused_client_key_is_still_edenied(void **state)
{
	harness *h = *state;
	privd_client *c;
	int64_t t0;

	c = client_as(h, "stranger", h->server_key, LONG_TIMEOUT_MS);
	t0 = h_now_ms();
	expect_early(c, privd_ping(c, NULL), PRIVD_EDENIED, t0, "stranger");
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_PRINCIPAL);
	privd_close(&c);
	expect_serves(h);
}

static void
test_stopped_privd_is_eunavailable(void **state)
{
	harness *h = *state;
	privd_client *c;

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	c = client_as(h, "svc", h->server_key, SHORT_TIMEOUT_MS);
	expect_rc(c, privd_ping(c, NULL), PRIVD_EUNAVAILABLE, "stopped privd");
	assert_non_null(strstr(privd_errmsg(c), h->endpoint));
	/* nothing suggests a key problem when nothing answered at all */
	assert_null(strstr(privd_errmsg(c), "handshake"));
	privd_close(&c);
}

/* ---- a failed handshake or two is not fatal --------------------------- */

struct pinger {
	privd_client *c;
	int rc;
	privd_pong pong;
};

static void *
ping_thread(void *arg)
{
	struct pinger *p = arg;

	p->rc = privd_ping(p->c, &p->pong);
	return NULL;
}

/*
 * Take one connection on a listening Unix socket and drop it during the
 * greeting: to the client, a connection accepted and a handshake that
 * failed without detail, as a wrong server key looks.
 */
static void
drop_one(int ls)
{
	struct pollfd p = {.fd = ls, .events = POLLIN};
	char buf[64];
	int fd;

	assert_int_equal(poll(&p, 1, LONG_TIMEOUT_MS), 1);
	fd = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fd >= 0);
	/* the client's greeting, if it came yet; then hang up */
	p = (struct pollfd){.fd = fd, .events = POLLIN};
	if (poll(&p, 1, 1000) == 1 && read(fd, buf, sizeof(buf)) < 0) {
		/* the hang-up is what matters */
	}
	close(fd);
}

/*
 * privd's endpoint hangs up in two handshakes (privd is restarting, say),
 * then privd comes back: the call that saw both failures succeeds once
 * privd answers. One listener takes exactly two connections, then closes
 * before privd starts, so no third handshake can fail.
 */
static void
test_transient_handshake_failures_are_not_fatal(void **state)
{
	harness *h = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pinger p = {0};
	pthread_t t;
	int ls;

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	unlink(h->sock);
	assert_true(strlen(h->sock) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, h->sock);
	ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(ls >= 0);
	assert_int_equal(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(ls, 1), 0);

	p.c = client_as(h, "svc", h->server_key, LONG_TIMEOUT_MS);
	assert_int_equal(pthread_create(&t, NULL, ping_thread, &p), 0);
	drop_one(ls);
	drop_one(ls);
	close(ls);
	unlink(h->sock);
	assert_int_equal(h_start(h, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	expect_rc(p.c, p.rc, PRIVD_OK, "ping across two failed handshakes");
	assert_string_equal(p.pong.principal, "svc");
	privd_close(&p.c);
}

/* ---- privctl ------------------------------------------------------------ */

static void
test_privctl_exit_codes(void **state)
{
	harness *h = *state;
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	h_result *r = malloc(sizeof(*r));

	assert_non_null(r);
	assert_int_equal(privd_keygen(pub, sec), PRIVD_OK);

	/* wrong server key: 8, naming the endpoint, well before --timeout */
	assert_int_equal(
	    h_privctl(h, "svc", pub,
	        (const char *[]){"ping", "--timeout", "20000", NULL}, EARLY_MS,
	        r),
	    0);
	expect_exit(r, 8, "wrong server key");
	assert_non_null(strstr(r->err, "the server key is probably wrong"));
	assert_non_null(strstr(r->err, h->endpoint));
	assert_int_equal(
	    h_privctl(h, "svc", pub,
	        (const char *[]){"--json", "ping", "--timeout", "20000", NULL},
	        EARLY_MS, r),
	    0);
	expect_exit(r, 8, "wrong server key, --json");
	assert_non_null(strstr(r->out, "\"status\":\"handshake\""));

	/* refused client key: 3, denied */
	assert_int_equal(
	    h_privctl(h, "stranger", NULL,
	        (const char *[]){"ping", "--timeout", "20000", NULL}, EARLY_MS,
	        r),
	    0);
	expect_exit(r, 3, "refused client key");
	assert_non_null(strstr(r->err, "unknown_principal"));

	/* the exit code is in the help (longer than h_run keeps: grep it) */
	run_expect(h,
	    (const char *[]){"/bin/sh", "-c",
	        "\"$0\" --help | grep -q '^ *8 privd.s endpoint "
	        "answers, but the CURVE$'",
	        h->privctl_bin, NULL},
	    r, 0, "exit code 8 in --help");

	/* stopped privd: 1, unavailable */
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	assert_int_equal(h_privctl(h, "svc", NULL,
	                     (const char *[]){"ping", "--timeout", "700", NULL},
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 1, "stopped privd");
	assert_non_null(strstr(r->err, "privd unavailable"));
	free(r);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_wrong_server_key_is_ehandshake_fast),
	    T(test_refused_client_key_is_still_edenied),
	    T(test_stopped_privd_is_eunavailable),
	    T(test_transient_handshake_failures_are_not_fatal),
	    T(test_privctl_exit_codes),
	};

	return cmocka_run_group_tests_name(
	    "integration/client_handshake", tests, NULL, NULL);
}
