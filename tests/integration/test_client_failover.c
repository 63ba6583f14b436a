/*
 * test_client_failover.c - libprivd and privctl given several endpoints
 * fail over between privd nodes on their own; reads are re-sent, a change
 * in flight is reported as PRIVD_EINDOUBT (issue 12).
 *
 * Two privd nodes, A and B, that share the server key and the master key:
 * A's data directory is made by privd init and copied, stopped, to B.
 * That makes two independent stores with the same keys - a real cluster's
 * nodes share one store (PostgreSQL); what is tested here is the client's
 * side, which cannot tell the difference. The data the tests read is put
 * on both nodes, each through a handle of its own, as a shared store
 * would have it.
 *
 * Nothing is timed for pass or fail: a call given a deadline cannot take
 * longer (client.h), so a call that succeeds has failed over in time.
 * The tests print how long the switch took. Hung nodes are SIGSTOPped
 * (they keep their connections and accept new ones, but never answer),
 * dead ones SIGKILLed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

/* The deadline of the two-endpoint handles: each attempt gets at most half
 * of it while the other node is untried. */
#define TIMEOUT_MS 2000
/* How long a returning node may take to get its calls back (it is set
 * aside for a back-off of 1 s, then probed; see client/endpoints.c). */
#define RETURN_WAIT_MS 15000

/* The two nodes; the state of each test. */
struct pair {
	harness *a, *b;
	char list[2 * H_PATH_MAX + 2]; /* "A,B" */
};

static int
setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->a = h_new()) == NULL || (p->b = h_new()) == NULL)
		goto bad;
	if (h_key_new(p->a, "svc") == NULL ||
	    h_policy_write(p->a, h_policy_default) != 0 ||
	    h_init(p->a, NULL) != 0)
		goto bad;
	/* B: a copy of A's stopped directory, A's keys */
	if (h_node_copy(p->a, p->b) != 0)
		goto bad;
	/* on PostgreSQL, B gets a copy of A's database (harness.h) */
	if (h_store_pg() && h_store_clone(p->a, p->b) != 0)
		goto bad;
	if (h_start(p->a, NULL) != 0 || h_start(p->b, NULL) != 0)
		goto bad;
	snprintf(
	    p->list, sizeof(p->list), "%s,%s", p->a->endpoint, p->b->endpoint);
	*state = p;
	return 0;
bad:
	if (p != NULL) {
		h_destroy(&p->a);
		h_destroy(&p->b);
		free(p);
	}
	return -1;
}

static int
teardown(void **state)
{
	struct pair *p = *state;

	if (p == NULL)
		return 0;
	/* a stopped node would only die of h_stop's SIGKILL, late */
	if (p->a->pid > 0)
		kill(p->a->pid, SIGCONT);
	if (p->b->pid > 0)
		kill(p->b->pid, SIGCONT);
	h_teardown((void **)&p->a);
	h_teardown((void **)&p->b);
	free(p);
	*state = NULL;
	return 0;
}

/* A handle on both nodes (A first) as svc. */
static privd_client *
both(struct pair *p)
{
	const h_key *k = h_key_get(p->a, "svc");
	privd_client *c = NULL;
	int rc;

	rc = privd_connect(&c, p->list, p->a->server_key, k->pub, k->sec);
	if (rc != PRIVD_OK)
		fail_msg(
		    "privd_connect with two endpoints: %s", privd_strerror(rc));
	expect_rc(c, privd_set_timeout(c, TIMEOUT_MS), PRIVD_OK, "timeout");
	return c;
}

/* Put subject's name on both nodes, as a shared store would hold it. */
static void
put_both(struct pair *p, const char *subject, const char *name)
{
	privd_client *c;

	c = client(p->a, "svc");
	put_name(c, subject, name);
	privd_close(&c);
	c = client(p->b, "svc");
	put_name(c, subject, name);
	privd_close(&c);
}

/* A get of subject's name through c that must be OK and say name. */
static void
get_name_ok(privd_client *c, const char *subject, const char *name)
{
	privd_record *rec = get_ok(c, subject, NULL, 0);

	assert_field_str(rec, "name", name);
	privd_record_free(&rec);
}

/* c's calls go to h's node first. */
static void
expect_node(privd_client *c, const harness *h, const char *what)
{
	if (strcmp(privd_endpoint(c), h->endpoint) != 0)
		fail_msg("%s: calls go to %s, not %s", what, privd_endpoint(c),
		    h->endpoint);
}

/* ---- the endpoint list ------------------------------------------------ */

/* A bad list is refused by privd_connect() and privd_endpoints_check(),
 * which says what is wrong by position. */
static void
expect_bad_list(const char *list, const char *why_part)
{
	char why[200];
	privd_client *c = NULL;
	const char *k = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

	assert_int_equal(
	    privd_endpoints_check(list, why, sizeof(why)), PRIVD_EINVAL);
	if (strstr(why, why_part) == NULL)
		fail_msg("list \"%s\": \"%s\" does not say \"%s\"",
		    list != NULL ? list : "(null)", why, why_part);
	/* the why never quotes the list */
	if (list != NULL && strlen(list) > 6 && strstr(why, list) != NULL)
		fail_msg("the why quotes the list: %s", why);
	assert_int_equal(privd_connect(&c, list, k, k, k), PRIVD_EINVAL);
	assert_null(c);
}

static void
test_endpoint_lists(void **state)
{
	char many[17 * 24 + 1], why[200];
	size_t i, n = 0;

	(void)state;
	expect_bad_list(NULL, "no endpoint");
	expect_bad_list("", "no endpoint");
	expect_bad_list("  ", "no endpoint");
	expect_bad_list("tcp://a:1,,tcp://b:1", "endpoint 2 of 3 is empty");
	expect_bad_list("tcp://a:1,", "endpoint 2 of 2 is empty");
	expect_bad_list(",tcp://a:1", "endpoint 1 of 2 is empty");
	expect_bad_list("tcp://a:1, ,tcp://b:1", "endpoint 2 of 3 is empty");
	expect_bad_list("tcp://a:1,http://b:1", "endpoint 2 of 2 is neither");
	expect_bad_list("garbage", "endpoint 1 of 1 is neither");
	expect_bad_list("tcp://", "neither");
	expect_bad_list("ipc://", "neither");
	expect_bad_list("tcp://host", "needs HOST:PORT");
	expect_bad_list("tcp://:7700", "needs HOST:PORT");
	expect_bad_list("tcp://a b:7700", "host holds a character");
	expect_bad_list("tcp://a;b:7700", "host holds a character");
	expect_bad_list("tcp://a:0", "port is not a number");
	expect_bad_list("tcp://a:65536", "port is not a number");
	expect_bad_list("tcp://a:77x0", "port is not a number");
	expect_bad_list("tcp://a:", "port is not a number");
	expect_bad_list("ipc:///x\ty", "control character");
	expect_bad_list(
	    "tcp://a:1,tcp://b:1, tcp://a:1", "endpoint 3 repeats endpoint 1");
	for (i = 0; i < 17; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
		    "%stcp://h:%zu", i ? "," : "", 7700 + i);
	expect_bad_list(many, "17 endpoints in the list; at most 16");

	/* the good ones: blanks around items, IPv6, up to 16 */
	many[strlen(many) - strlen(",tcp://h:7716")] = '\0';
	assert_int_equal(
	    privd_endpoints_check(many, why, sizeof(why)), PRIVD_OK);
	assert_int_equal(privd_endpoints_check(" tcp://a:7700 ,\ttcp://"
	                                       "[::1]:7700 , ipc:///run/p",
	                     why, sizeof(why)),
	    PRIVD_OK);
	assert_int_equal(
	    privd_endpoints_check("tcp://127.0.0.1:7700", NULL, 0), PRIVD_OK);
	assert_string_equal(privd_strerror(PRIVD_EINDOUBT),
	    "failed-unknown: the request may or may not have been applied; "
	    "read back before repeating");
	assert_string_equal(privd_endpoint(NULL), "");
}

/* ---- failover ----------------------------------------------------------- */

/*
 * A node that takes requests and never answers, for a privctl run (a new
 * process, whose handshake with a SIGSTOPped privd could not complete):
 * a CURVE ROUTER with a key pair of its own, whose handshakes libzmq's
 * I/O thread completes while nobody reads what arrives.
 */
struct black_hole {
	void *ctx, *sock;
	char endpoint[H_PATH_MAX + 16];
	char pub[PRIVD_KEY_Z85_LEN];
};

static void
black_hole_open(struct pair *p, struct black_hole *bh)
{
	char sec[PRIVD_KEY_Z85_LEN];
	int one = 1, zero = 0;

	assert_int_equal(zmq_curve_keypair(bh->pub, sec), 0);
	snprintf(
	    bh->endpoint, sizeof(bh->endpoint), "ipc://%s/hole", p->a->root);
	assert_non_null(bh->ctx = zmq_ctx_new());
	assert_non_null(bh->sock = zmq_socket(bh->ctx, ZMQ_ROUTER));
	assert_int_equal(
	    zmq_setsockopt(bh->sock, ZMQ_LINGER, &zero, sizeof(zero)), 0);
	assert_int_equal(
	    zmq_setsockopt(bh->sock, ZMQ_CURVE_SERVER, &one, sizeof(one)), 0);
	assert_int_equal(
	    zmq_setsockopt(bh->sock, ZMQ_CURVE_SECRETKEY, sec, 40), 0);
	assert_int_equal(zmq_bind(bh->sock, bh->endpoint), 0);
}

static void
black_hole_close(struct black_hole *bh)
{
	if (bh->sock != NULL)
		zmq_close(bh->sock);
	zmq_ctx_term(bh->ctx);
}

/*
 * A black hole that dies as a request arrives: a thread takes the first
 * request and closes the socket, as a node killed with the request in
 * flight drops the connection.
 */
static void *
black_hole_die(void *arg)
{
	struct black_hole *bh = arg;
	zmq_msg_t m;

	zmq_msg_init(&m);
	zmq_msg_recv(&m, bh->sock, 0);
	zmq_msg_close(&m);
	zmq_close(bh->sock);
	bh->sock = NULL;
	return NULL;
}

/* kill -9 A: gets and pings go on at B, at once (a refused connection is
 * given up without waiting). */
static void
test_kill_a_reads_go_on(void **state)
{
	struct pair *p = *state;
	privd_client *c = both(p);
	privd_pong pong;
	int64_t t0;

	put_both(p, "c-1", "Ada");
	get_name_ok(c, "c-1", "Ada");
	expect_node(c, p->a, "before the kill");

	assert_int_equal(h_kill(p->a), 0);
	t0 = h_now_ms();
	get_name_ok(c, "c-1", "Ada");
	printf("# kill -9 A: the next get answered by B after %lld ms\n",
	    (long long)(h_now_ms() - t0));
	expect_node(c, p->b, "after the kill");
	t0 = h_now_ms();
	expect_rc(c, privd_ping(c, &pong), PRIVD_OK, "ping after the kill");
	get_name_ok(c, "c-1", "Ada");
	printf("# then a ping and a get on B: %lld ms\n",
	    (long long)(h_now_ms() - t0));
	privd_close(&c);

	/* a new handle whose first node is dead goes to B all the same */
	c = both(p);
	t0 = h_now_ms();
	expect_rc(c, privd_ping(c, &pong), PRIVD_OK, "ping, new handle");
	printf("# a new handle with A dead: first ping in %lld ms\n",
	    (long long)(h_now_ms() - t0));
	expect_node(c, p->b, "new handle");
	privd_close(&c);
}

/* A hangs (SIGSTOP) with a get in flight: the get is re-sent to B once
 * its attempt's time is up, and later calls go to B without waiting. */
static void
test_hung_a_get_is_resent(void **state)
{
	struct pair *p = *state;
	privd_client *c = both(p);
	int64_t t0;

	put_both(p, "c-2", "Grace");
	get_name_ok(c, "c-2", "Grace");
	expect_node(c, p->a, "before the stop");

	assert_int_equal(kill(p->a->pid, SIGSTOP), 0);
	t0 = h_now_ms();
	get_name_ok(c, "c-2", "Grace");
	printf("# A hung: the get in flight answered by B after %lld ms "
	       "(its attempt had %d ms)\n",
	    (long long)(h_now_ms() - t0), TIMEOUT_MS / 2);
	expect_node(c, p->b, "after the stop");
	t0 = h_now_ms();
	get_name_ok(c, "c-2", "Grace");
	printf("# the next get, on B: %lld ms\n", (long long)(h_now_ms() - t0));
	expect_node(c, p->b, "still B while A hangs");
	privd_close(&c);
	assert_int_equal(kill(p->a->pid, SIGCONT), 0);
}

/* A hangs with a put in flight: the put is not re-sent, and fails with
 * PRIVD_EINDOUBT; the handle goes on with B. */
static void
test_hung_a_put_is_in_doubt(void **state)
{
	struct pair *p = *state;
	privd_client *c = both(p), *ca;
	privd_field f = h_field("name", "Barbara");
	privd_record *rec = NULL;
	int rc;

	put_both(p, "c-3", "Ada");
	get_name_ok(c, "c-3", "Ada");
	expect_node(c, p->a, "before the stop");

	assert_int_equal(kill(p->a->pid, SIGSTOP), 0);
	rc = privd_put(c, "customers", "c-3", "invoicing", &f, 1);
	expect_rc(c, rc, PRIVD_EINDOUBT, "put in flight on a hung node");
	printf("# in doubt: %s\n", privd_errmsg(c));
	assert_non_null(strstr(privd_errmsg(c), "took the put request"));
	assert_non_null(strstr(privd_errmsg(c), p->b->endpoint));
	expect_node(c, p->b, "after the put");
	/* not re-sent: B still has the old value */
	get_name_ok(c, "c-3", "Ada");

	/* A wakes up after the put's deadline, which the request carried:
	 * A does not apply it (test_deadline.c has the whole story) */
	assert_int_equal(kill(p->a->pid, SIGCONT), 0);
	ca = client(p->a, "svc");
	rc = privd_get(ca, "customers", "c-3", "invoicing", NULL, 0, &rec);
	expect_rc(ca, rc, PRIVD_OK, "read back on A");
	assert_field_str(rec, "name", "Ada");
	privd_record_free(&rec);
	privd_close(&ca);
	privd_close(&c);
}

/* A put whose node refuses the connection was never sent: it goes to B
 * and is carried out there, not reported in doubt. */
static void
test_unsent_put_moves_on(void **state)
{
	struct pair *p = *state;
	privd_client *c = both(p);
	privd_field f = h_field("name", "Linus");

	assert_int_equal(h_kill(p->a), 0);
	expect_rc(c, privd_put(c, "customers", "c-4", "invoicing", &f, 1),
	    PRIVD_OK, "put with A dead");
	expect_node(c, p->b, "after the put");
	get_name_ok(c, "c-4", "Linus");
	privd_close(&c);
}

/* A node that dies with a request in flight drops the connection: the
 * client notices at once (not at the attempt's deadline); a get goes on
 * to B, a put is in doubt. The dying node is an in-process one that
 * closes its socket as the request arrives (a privd killed at the right
 * moment cannot be arranged deterministically). */
static void
test_node_dies_in_flight(void **state)
{
	struct pair *p = *state;
	const h_key *k = h_key_get(p->a, "svc");
	char list[2 * H_PATH_MAX + 16];
	privd_field f = h_field("name", "Barbara");
	struct black_hole bh;
	privd_client *c = NULL;
	pthread_t t;
	int64_t t0, took;
	int rc, i;

	black_hole_open(p, &bh);
	snprintf(list, sizeof(list), "%s,%s", bh.endpoint, p->b->endpoint);
	for (i = 0; i < 2; i++) {
		/* the black hole's key: B's handshake fails, so the get that
		 * goes on to B ends with PRIVD_EHANDSHAKE - what matters is
		 * that it went on, quickly, and the put did not */
		assert_int_equal(
		    privd_connect(&c, list, bh.pub, k->pub, k->sec), PRIVD_OK);
		expect_rc(c, privd_set_timeout(c, 20000), PRIVD_OK, "timeout");
		assert_int_equal(
		    pthread_create(&t, NULL, black_hole_die, &bh), 0);
		t0 = h_now_ms();
		if (i == 0) {
			rc = privd_ping(c, NULL);
			took = h_now_ms() - t0;
			printf("# ping in flight, node dies: %s after %lld ms "
			       "(%s)\n",
			    privd_strerror(rc), (long long)took,
			    privd_errmsg(c));
			assert_int_equal(rc, PRIVD_EHANDSHAKE);
			/* it went on to B */
			assert_non_null(
			    strstr(privd_errmsg(c), p->b->endpoint));
		} else {
			rc = privd_put(
			    c, "customers", "c-8", "invoicing", &f, 1);
			took = h_now_ms() - t0;
			printf("# put in flight, node dies: %s after %lld ms "
			       "(%s)\n",
			    privd_strerror(rc), (long long)took,
			    privd_errmsg(c));
			expect_rc(c, rc, PRIVD_EINDOUBT, "put, node dies");
		}
		pthread_join(t, NULL);
		/* 20 s / 2 per attempt: a call that waited for its deadline
		 * would have taken 10 s */
		assert_true(took < 10000);
		privd_close(&c);
		black_hole_close(&bh);
		if (i == 0)
			black_hole_open(p, &bh);
	}
}

/*
 * A node that answers UNAVAILABLE, as privd on a PostgreSQL store answers
 * a batch whose commit the database did not confirm (the change may have
 * landed): a thread takes the first request and answers it UNAVAILABLE,
 * with its request id.
 */
static void *
black_hole_unavailable(void *arg)
{
	struct black_hole *bh = arg;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__Request *req;
	zmq_msg_t id, body;
	uint8_t out[256];
	size_t n;

	zmq_msg_init(&id);
	zmq_msg_init(&body);
	if (zmq_msg_recv(&id, bh->sock, 0) >= 0 &&
	    zmq_msg_recv(&body, bh->sock, 0) >= 0 &&
	    (req = privd__v1__request__unpack(
	         NULL, zmq_msg_size(&body), zmq_msg_data(&body))) != NULL) {
		resp.request_id = req->request_id;
		resp.status = PRIVD__V1__STATUS__UNAVAILABLE;
		resp.message = "the database server is unavailable";
		n = privd__v1__response__pack(&resp, out);
		zmq_send(bh->sock, zmq_msg_data(&id), zmq_msg_size(&id),
		    ZMQ_SNDMORE);
		zmq_send(bh->sock, out, n, 0);
		privd__v1__request__free_unpacked(req, NULL);
	}
	zmq_msg_close(&id);
	zmq_msg_close(&body);
	return NULL;
}

/* A change answered UNAVAILABLE is in doubt, not sent again to the next
 * node: on a PostgreSQL store that answer may follow a commit that landed
 * (cluster_privd once saw such a put applied on both nodes). A read
 * answered UNAVAILABLE goes on. */
static void
test_unavailable_put_is_in_doubt(void **state)
{
	struct pair *p = *state;
	const h_key *k = h_key_get(p->a, "svc");
	char list[2 * H_PATH_MAX + 16];
	privd_field f = h_field("name", "Cecilia");
	struct black_hole bh;
	privd_client *c = NULL;
	pthread_t t;
	int rc, i;

	for (i = 0; i < 2; i++) {
		black_hole_open(p, &bh);
		snprintf(
		    list, sizeof(list), "%s,%s", bh.endpoint, p->b->endpoint);
		/* the black hole's key, so that a request that went on to B
		 * fails its handshake there: what matters is where it went */
		assert_int_equal(
		    privd_connect(&c, list, bh.pub, k->pub, k->sec), PRIVD_OK);
		expect_rc(c, privd_set_timeout(c, 20000), PRIVD_OK, "timeout");
		assert_int_equal(
		    pthread_create(&t, NULL, black_hole_unavailable, &bh), 0);
		if (i == 0) {
			rc = privd_put(
			    c, "customers", "c-9", "invoicing", &f, 1);
			printf("# put answered UNAVAILABLE: %s (%s)\n",
			    privd_strerror(rc), privd_errmsg(c));
			expect_rc(c, rc, PRIVD_EINDOUBT, "put, UNAVAILABLE");
			assert_non_null(strstr(privd_errmsg(c), "UNAVAILABLE"));
		} else {
			rc = privd_ping(c, NULL);
			printf("# ping answered UNAVAILABLE: %s (%s)\n",
			    privd_strerror(rc), privd_errmsg(c));
			/* it went on to B (whose handshake fails: bh's key) */
			assert_int_equal(rc, PRIVD_EHANDSHAKE);
			assert_non_null(
			    strstr(privd_errmsg(c), p->b->endpoint));
		}
		pthread_join(t, NULL);
		privd_close(&c);
		black_hole_close(&bh);
	}
}

/* A comes back: the handle keeps working throughout and its calls return
 * to A, the first node of the list. */
static void
test_a_comes_back(void **state)
{
	struct pair *p = *state;
	privd_client *c = both(p);
	int64_t t0, deadline;
	unsigned calls = 0;

	put_both(p, "c-5", "Ada");
	assert_int_equal(h_kill(p->a), 0);
	get_name_ok(c, "c-5", "Ada");
	expect_node(c, p->b, "A dead");

	assert_int_equal(h_start(p->a, NULL), 0);
	t0 = h_now_ms();
	deadline = t0 + RETURN_WAIT_MS;
	while (strcmp(privd_endpoint(c), p->a->endpoint) != 0) {
		if (h_now_ms() > deadline)
			fail_msg("calls did not return to A within %d ms",
			    RETURN_WAIT_MS);
		get_name_ok(c, "c-5", "Ada");
		calls++;
		h_sleep_ms(20);
	}
	printf("# A back: calls return to A after %lld ms (%u gets, all "
	       "answered)\n",
	    (long long)(h_now_ms() - t0), calls);
	get_name_ok(c, "c-5", "Ada");
	expect_node(c, p->a, "A back");
	privd_close(&c);
}

/* Both nodes dead: a call fails as a call to one dead privd does, after
 * trying each, and says so. */
static void
test_all_dead(void **state)
{
	struct pair *p = *state;
	privd_client *c = both(p);
	int rc;

	assert_int_equal(h_kill(p->a), 0);
	assert_int_equal(h_kill(p->b), 0);
	rc = privd_ping(c, NULL);
	expect_rc(c, rc, PRIVD_EUNAVAILABLE, "ping with both dead");
	assert_non_null(strstr(privd_errmsg(c), "every endpoint was tried"));
	/* a put was never sent anywhere: not in doubt */
	{
		privd_field f = h_field("name", "X");

		rc = privd_put(c, "customers", "c-6", "invoicing", &f, 1);
		expect_rc(c, rc, PRIVD_EUNAVAILABLE, "put with both dead");
	}
	privd_close(&c);
}

/* ---- privctl --------------------------------------------------------- */

/* privctl as svc trusting server_key, with PRIVD_ENDPOINT set to list:
 * its output into r. */
static void
privctl_env(struct pair *p, const char *list, const char *server_key,
    const char *const *args, h_result *r)
{
	char keyfile[H_PATH_MAX];
	const char *argv[24];
	size_t n = 0;

	assert_int_equal(h_key_file(p->a, "svc", keyfile, sizeof(keyfile)), 0);
	argv[n++] = p->a->privctl_bin;
	argv[n++] = "--key";
	argv[n++] = keyfile;
	argv[n++] = "--server-key";
	argv[n++] = server_key;
	argv[n++] = "--timeout";
	argv[n++] = "2000";
	while (*args != NULL && n < sizeof(argv) / sizeof(argv[0]) - 1)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(setenv("PRIVD_ENDPOINT", list, 1), 0);
	assert_int_equal(h_run(p->a, argv, H_RUN_TIMEOUT_MS, r), 0);
	unsetenv("PRIVD_ENDPOINT");
}

static void
test_privctl(void **state)
{
	static const char *const ping[] = {"ping", NULL};
	static const char *const get[] = {
	    "get", "customers", "c-7", "--purpose", "invoicing", NULL};
	static const char *const put[] = {"put", "customers", "c-7",
	    "--purpose", "invoicing", "name=Hedy", NULL};
	static const char *const put_json[] = {"put", "customers", "c-7",
	    "--purpose", "invoicing", "name=Hedy", "--json", NULL};
	struct pair *p = *state;
	const char *sk = p->a->server_key;
	char list[sizeof(p->list) + H_PATH_MAX + 16];
	struct black_hole bh;
	h_result r;

	put_both(p, "c-7", "Ada");
	privctl_env(p, p->list, sk, ping, &r);
	expect_exit(&r, 0, "privctl ping, two endpoints");

	/* a bad list: a usage error that says what is wrong, not the list */
	snprintf(list, sizeof(list), "%s,,%s", p->a->endpoint, p->b->endpoint);
	privctl_env(p, list, sk, ping, &r);
	expect_exit(&r, 2, "privctl with an empty item");
	assert_non_null(strstr(r.err, "endpoint 2 of 3 is empty"));
	assert_null(strstr(r.err, p->a->endpoint));

	/* the same from a config file, saying which line */
	{
		static const char bad_cfg[] =
		    "# two nodes, one comma too many\n"
		    "endpoint = tcp://127.0.0.1:7701,,tcp://127.0.0.1:7702\n";
		char cfg[H_PATH_MAX + 16];

		snprintf(cfg, sizeof(cfg), "%s/privctl.conf", p->a->root);
		assert_int_equal(
		    h_write_file(cfg, bad_cfg, sizeof(bad_cfg) - 1, 0600), 0);
		assert_int_equal(setenv("PRIVCTL_CONFIG", cfg, 1), 0);
		privctl_env(p, p->list, sk, ping, &r);
		assert_int_equal(setenv("PRIVCTL_CONFIG", "", 1), 0);
		expect_exit(&r, 2, "privctl with a bad list in its config");
		assert_non_null(
		    strstr(r.err, "line 2: endpoint 2 of 3 is empty"));
	}

	/* A dead: reads and an unsent put go on at B */
	assert_int_equal(h_kill(p->a), 0);
	privctl_env(p, p->list, sk, get, &r);
	expect_exit(&r, 0, "privctl get, A dead");
	assert_non_null(strstr(r.out, "Ada"));
	privctl_env(p, p->list, sk, put, &r);
	expect_exit(&r, 0, "privctl put, A dead");

	/* a node that takes the put and never answers: in doubt, exit code
	 * 9, text and JSON */
	black_hole_open(p, &bh);
	snprintf(list, sizeof(list), "%s,%s", bh.endpoint, p->b->endpoint);
	privctl_env(p, list, bh.pub, put, &r);
	expect_exit(&r, 9, "privctl put, the node never answers");
	assert_non_null(strstr(r.err, "failed-unknown"));
	assert_non_null(strstr(r.err, "read back"));
	privctl_env(p, list, bh.pub, put_json, &r);
	expect_exit(&r, 9, "privctl put --json, the node never answers");
	assert_non_null(strstr(r.out, "\"status\":\"in_doubt\""));
	black_hole_close(&bh);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_endpoint_lists),
	    T(test_kill_a_reads_go_on),
	    T(test_hung_a_get_is_resent),
	    T(test_hung_a_put_is_in_doubt),
	    T(test_unsent_put_moves_on),
	    T(test_node_dies_in_flight),
	    T(test_unavailable_put_is_in_doubt),
	    T(test_a_comes_back),
	    T(test_all_dead),
	    T(test_privctl),
	};

	return cmocka_run_group_tests_name(
	    "integration/client_failover", tests, NULL, NULL);
}
