/*
 * test_delayproxy.c - the benchmark's latency proxy (delayproxy.c): it
 * forwards bytes intact both ways and passes on an end of file; it
 * delivers nothing before its delay; its protocol watch counts a write
 * transaction (one that sends the writers' lock statement) with its round
 * trips and a hold of at least the round trip inside it, and no other,
 * also when the lock statement is a prepared one.
 *
 * The far end is a unix socket the test listens on itself, as the bench's
 * PostgreSQL is. Times are checked only from below (the proxy must not
 * deliver early); how late it delivers depends on the machine's load.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "delayproxy.h"

#define BIG (1u << 20) /* bytes each way in the intact test */

typedef struct fixture {
	char dir[32], path[64];
	int lfd; /* the far end's listening socket */
	delayproxy *p;
} fixture;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000;
}

static int
setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	char why[256];

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/dproxy-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/up.sock", f->dir);
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	if (dp_start(&f->p, f->path, 0, why, sizeof(why)) != 0)
		fail_msg("dp_start: %s", why);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	fixture *f = *state;

	dp_stop(&f->p);
	close(f->lfd);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A client connected through the proxy, and the far end's side of it. */
static void
connect_pair(fixture *f, int *cli, int *far)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	int one = 1;

	a.sin_port = htons((uint16_t)dp_port(f->p));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*cli = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*cli >= 0);
	assert_int_equal(connect(*cli, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(*cli, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*far = accept(f->lfd, NULL, NULL);
	assert_true(*far >= 0);
}

/* 0 or -1; for the threads too (cmocka asserts on the main one only) */
static int
write_raw(int fd, const void *buf, size_t len)
{
	const unsigned char *b = buf;

	while (len > 0) {
		ssize_t n = write(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
write_all(int fd, const void *buf, size_t len)
{
	assert_int_equal(write_raw(fd, buf, len), 0);
}

/* Reads exactly len bytes (fails on an early end). */
static void
read_all(int fd, void *buf, size_t len)
{
	unsigned char *b = buf;

	while (len > 0) {
		ssize_t n = read(fd, b, len);

		if (n < 0 && errno == EINTR)
			continue;
		assert_true(n > 0);
		b += n;
		len -= (size_t)n;
	}
}

static void
assert_eof(int fd)
{
	char c;

	assert_int_equal(read(fd, &c, 1), 0);
}

/* The far end: echoes every byte XOR 0x5a until the end of file. */
static void *
echo_far(void *arg)
{
	int fd = *(int *)arg;
	unsigned char buf[7000];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++)
			buf[i] ^= 0x5a;
		if (write_raw(fd, buf, (size_t)n) != 0)
			break;
	}
	close(fd);
	return NULL;
}

/* The client's writer: BIG bytes in pieces of varying size, then EOF. */
static void *
send_big(void *arg)
{
	int fd = *(int *)arg;
	unsigned char *buf = malloc(BIG);
	size_t off = 0, piece = 1;

	if (buf == NULL) {
		shutdown(fd, SHUT_WR); /* the reader fails on an early end */
		return NULL;
	}
	for (size_t i = 0; i < BIG; i++)
		buf[i] = (unsigned char)(i * 131 + i / 977);
	while (off < BIG) {
		size_t n = BIG - off < piece ? BIG - off : piece;

		if (write_raw(fd, buf + off, n) != 0)
			break;
		off += n;
		piece = piece * 7 % 65521 + 1;
	}
	shutdown(fd, SHUT_WR);
	free(buf);
	return NULL;
}

static void
test_forwards_intact_both_ways(void **state)
{
	fixture *f = *state;
	unsigned char *got = malloc(BIG);
	pthread_t tf, tc;
	int cli, far;
	dp_stats st;

	assert_non_null(got);
	dp_set_delay(f->p, 300); /* with a delay: chunks queue in the proxy */
	connect_pair(f, &cli, &far);
	assert_int_equal(pthread_create(&tf, NULL, echo_far, &far), 0);
	assert_int_equal(pthread_create(&tc, NULL, send_big, &cli), 0);
	read_all(cli, got, BIG);
	for (size_t i = 0; i < BIG; i++)
		if (got[i] != ((unsigned char)(i * 131 + i / 977) ^ 0x5a))
			fail_msg("byte %zu differs", i);
	/* the far end closed after our end of file: we see its end */
	assert_eof(cli);
	pthread_join(tc, NULL);
	pthread_join(tf, NULL);
	close(cli);
	dp_stats_get(f->p, &st);
	assert_int_equal(st.conns, 1);
	assert_int_equal(st.bytes_up, BIG);
	assert_int_equal(st.bytes_down, BIG);
	free(got);
}

static void
test_delays_each_direction(void **state)
{
	fixture *f = *state;
	const unsigned d = 20000; /* us, one way */
	uint64_t t0, t1, t2;
	int cli, far;
	char c = 'x';

	dp_set_delay(f->p, d);
	connect_pair(f, &cli, &far);
	for (int i = 0; i < 3; i++) {
		t0 = now_us();
		write_all(cli, &c, 1);
		read_all(far, &c, 1);
		t1 = now_us();
		write_all(far, &c, 1);
		read_all(cli, &c, 1);
		t2 = now_us();
		assert_true(t1 - t0 >= d);
		assert_true(t2 - t1 >= d);
	}
	/* an end of file comes after the data before it, and is passed on */
	write_all(cli, "abc", 3);
	shutdown(cli, SHUT_WR);
	{
		char buf[3];

		read_all(far, buf, 3);
		assert_memory_equal(buf, "abc", 3);
	}
	assert_eof(far);
	close(far);
	assert_eof(cli);
	close(cli);
}

/* ---- the protocol watch ---------------------------------------------- */

/* Appends a message of type t with body (n bytes) to buf at *len. */
static void
msg(unsigned char *buf, size_t *len, char t, const void *body, size_t n)
{
	uint32_t l = htonl((uint32_t)n + 4);

	buf[(*len)++] = (unsigned char)t;
	memcpy(buf + *len, &l, 4);
	if (n > 0) /* body may be NULL then: memcpy must not see it */
		memcpy(buf + *len + 4, body, n);
	*len += 4 + n;
}

/* A Parse of sql as statement name, no parameter types. */
static void
parse_named(unsigned char *buf, size_t *len, const char *name, const char *sql)
{
	unsigned char body[256];
	size_t n = 0;

	memcpy(body + n, name, strlen(name) + 1);
	n += strlen(name) + 1;
	memcpy(body + n, sql, strlen(sql) + 1);
	n += strlen(sql) + 1;
	body[n++] = 0;
	body[n++] = 0;
	msg(buf, len, 'P', body, n);
}

/* A Parse of sql (the unnamed statement), as PQsendQueryParams sends. */
static void
parse_msg(unsigned char *buf, size_t *len, const char *sql)
{
	parse_named(buf, len, "", sql);
}

/* Bind (no parameters) of statement name to the unnamed portal, then
 * Execute, as PQsendQueryPrepared sends. */
static void
bind_exec(unsigned char *buf, size_t *len, const char *name)
{
	unsigned char body[128];
	size_t n = 0;

	body[n++] = '\0'; /* the unnamed portal */
	memcpy(body + n, name, strlen(name) + 1);
	n += strlen(name) + 1;
	memset(body + n, 0, 6); /* no formats, parameters, result formats */
	n += 6;
	msg(buf, len, 'B', body, n);
	memset(body, 0, 5); /* the unnamed portal, no row limit */
	msg(buf, len, 'E', body, 5);
}

/* The client sends buf; the far end reads it all. */
static void
to_far(int cli, int far, const unsigned char *buf, size_t len)
{
	unsigned char got[1024];

	write_all(cli, buf, len);
	read_all(far, got, len);
	assert_memory_equal(got, buf, len);
}

/* The far end answers ReadyForQuery(status); the client reads it. */
static void
ready(int cli, int far, char status)
{
	unsigned char buf[16], got[16];
	size_t len = 0;

	msg(buf, &len, 'Z', &status, 1);
	write_all(far, buf, len);
	read_all(cli, got, len);
}

static void
test_watch_times_write_transactions(void **state)
{
	fixture *f = *state;
	const unsigned d = 5000; /* us, one way */
	unsigned char buf[512];
	size_t len = 0;
	int cli, far;
	dp_stats st;

	dp_set_delay(f->p, d);
	connect_pair(f, &cli, &far);
	/* start-up: length, protocol 3.0, user, then ReadyForQuery */
	{
		static const unsigned char su[] = {0, 0, 0, 17, 0, 3, 0, 0, 'u',
		    's', 'e', 'r', 0, 'p', 'g', 0, 0};

		to_far(cli, far, su, sizeof(su));
		ready(cli, far, 'I');
	}
	dp_stats_reset(f->p);
	/* a read transaction: no lock, not counted */
	parse_msg(buf, &len, "BEGIN ISOLATION LEVEL REPEATABLE READ");
	parse_msg(buf, &len, "SELECT v FROM t WHERE k = $1");
	msg(buf, &len, 'S', NULL, 0);
	to_far(cli, far, buf, len);
	ready(cli, far, 'T');
	len = 0;
	parse_msg(buf, &len, "COMMIT");
	msg(buf, &len, 'S', NULL, 0);
	to_far(cli, far, buf, len);
	ready(cli, far, 'I');
	/* a write transaction of two round trips */
	len = 0;
	parse_msg(buf, &len, "BEGIN ISOLATION LEVEL READ COMMITTED");
	parse_msg(buf, &len, "SELECT pg_advisory_xact_lock(42)");
	msg(buf, &len, 'S', NULL, 0);
	to_far(cli, far, buf, len);
	ready(cli, far, 'T');
	len = 0;
	parse_msg(buf, &len, "COMMIT");
	msg(buf, &len, 'S', NULL, 0);
	to_far(cli, far, buf, len);
	ready(cli, far, 'I');
	dp_stats_get(f->p, &st);
	assert_int_equal(st.wtxns, 1);
	assert_int_equal(st.wrts, 2);
	assert_int_equal(st.rts, 4); /* the read transaction's two too */
	/* held across one round trip through the proxy: two delays */
	assert_true(st.hold_us_sum >= 2.0 * d);
	assert_true(st.hold_p50_us >= 2.0 * d);
	/* nothing else held the lock */
	assert_true(st.wait_us_sum == 0);
	/* a simple Query holding the whole transaction counts too */
	len = 0;
	{
		static const char q[] =
		    "BEGIN; SELECT pg_advisory_xact_lock(42);"
		    " COMMIT";

		msg(buf, &len, 'Q', q, sizeof(q));
	}
	to_far(cli, far, buf, len);
	ready(cli, far, 'I');
	dp_stats_get(f->p, &st);
	assert_int_equal(st.wtxns, 2);
	assert_int_equal(st.wrts, 3);
	/* a statement prepared with the lock's text: its Parse alone runs
	 * nothing; each Bind of it runs the lock */
	for (int i = 0; i < 2; i++) {
		len = 0;
		parse_msg(buf, &len, "BEGIN");
		if (i == 0)
			parse_named(
			    buf, &len, "q7", "SELECT pg_advisory_xact_lock(1)");
		bind_exec(buf, &len, "q7");
		msg(buf, &len, 'S', NULL, 0);
		to_far(cli, far, buf, len);
		ready(cli, far, 'T');
		len = 0;
		parse_msg(buf, &len, "COMMIT");
		msg(buf, &len, 'S', NULL, 0);
		to_far(cli, far, buf, len);
		ready(cli, far, 'I');
	}
	/* and a Bind of another statement does not */
	len = 0;
	parse_named(buf, &len, "q8", "SELECT 1");
	bind_exec(buf, &len, "q8");
	msg(buf, &len, 'S', NULL, 0);
	to_far(cli, far, buf, len);
	ready(cli, far, 'I');
	dp_stats_get(f->p, &st);
	assert_int_equal(st.wtxns, 4);
	assert_int_equal(st.wrts, 7);
	close(cli);
	close(far);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_forwards_intact_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delays_each_direction, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_watch_times_write_transactions, setup, teardown),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
