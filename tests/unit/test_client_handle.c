/*
 * test_client_handle.c - libprivd's handle, against a CURVE server of the
 * test's own that answers pings (or, on request, does not answer), so that
 * a right and a wrong key are told apart by a real handshake: reading a
 * server key file (privd_server_key_load), connecting from key files as
 * privctl does (privd_connect_keyfile), replacing a handle's server key
 * (privd_set_server_key, privd_set_server_key_file), the setters' checks
 * (privd_set_timeout, privd_set_max_request), and a handle across fork():
 * refused in the child, working on in the parent, and no descriptor of
 * it left to a program the child execs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <zmq.h>

#include "privd.pb-c.h"
#include <privd/client.h>

/* A temporary directory of key files, and a CURVE server answering pings. */
struct env {
	char dir[64];
	char spub[PRIVD_KEY_Z85_LEN], ssec[PRIVD_KEY_Z85_LEN];
	char cpub[PRIVD_KEY_Z85_LEN], csec[PRIVD_KEY_Z85_LEN];
	char other[PRIVD_KEY_Z85_LEN]; /* a public key nobody serves */
	char server_file[128], key_file[128], other_file[128];
	void *ctx, *router;
	pthread_t thread;
	char endpoint[64];
	volatile int silent; /* the server reads requests but answers none */
};

/* Write text to dir/name with mode; the path into path (128 bytes). */
static void
write_file(const struct env *e, const char *name, const char *text, mode_t mode,
    char *path)
{
	int fd;

	snprintf(path, 128, "%s/%s", e->dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

/* The server's loop: every request gets an OK ping answer. */
static void *
serve(void *arg)
{
	struct env *e = arg;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__PingResponse p = PRIVD__V1__PING_RESPONSE__INIT;
	Privd__V1__Request *req;
	zmq_msg_t id, body;
	uint8_t buf[256];
	size_t len;

	r.status = PRIVD__V1__STATUS__OK;
	r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_PING;
	r.ping = &p;
	p.server_version = "test";
	p.principal = "svc";
	for (;;) {
		zmq_msg_init(&id);
		zmq_msg_init(&body);
		if (zmq_msg_recv(&id, e->router, 0) < 0 ||
		    zmq_msg_recv(&body, e->router, 0) < 0) {
			zmq_msg_close(&id);
			zmq_msg_close(&body);
			break;
		}
		req = privd__v1__request__unpack(
		    NULL, zmq_msg_size(&body), zmq_msg_data(&body));
		zmq_msg_close(&body);
		if (req == NULL) {
			zmq_msg_close(&id);
			continue;
		}
		r.request_id = req->request_id;
		privd__v1__request__free_unpacked(req, NULL);
		if (e->silent) {
			zmq_msg_close(&id);
			continue;
		}
		len = privd__v1__response__pack(&r, buf);
		zmq_msg_send(&id, e->router, ZMQ_SNDMORE);
		zmq_send(e->router, buf, len, 0);
	}
	zmq_close(e->router);
	return NULL;
}

static int
setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	char text[256], sec[PRIVD_KEY_Z85_LEN];
	int one = 1, zero = 0;
	size_t len;

	if (e == NULL)
		return -1;
	snprintf(e->dir, sizeof(e->dir), "/tmp/privd-keys-XXXXXX");
	if (mkdtemp(e->dir) == NULL ||
	    privd_keygen(e->spub, e->ssec) != PRIVD_OK ||
	    privd_keygen(e->cpub, e->csec) != PRIVD_OK ||
	    privd_keygen(e->other, sec) != PRIVD_OK)
		return -1;
	/* as privd init writes server.pub, and privctl keygen a key pair */
	snprintf(text, sizeof(text), "%s\n", e->spub);
	write_file(e, "server.pub", text, 0644, e->server_file);
	snprintf(text, sizeof(text), "%s\n", e->other);
	write_file(e, "other.pub", text, 0644, e->other_file);
	snprintf(text, sizeof(text),
	    "# privd client key pair (privctl keygen). Keep it secret.\n"
	    "public-key = %s\nsecret-key = %s\n",
	    e->cpub, e->csec);
	write_file(e, "svc.key", text, 0600, e->key_file);

	e->ctx = zmq_ctx_new();
	e->router = zmq_socket(e->ctx, ZMQ_ROUTER);
	len = sizeof(e->endpoint);
	if (zmq_setsockopt(e->router, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(e->router, ZMQ_CURVE_SERVER, &one, sizeof(one)) !=
	        0 ||
	    zmq_setsockopt(e->router, ZMQ_CURVE_SECRETKEY, e->ssec, 40) != 0 ||
	    zmq_bind(e->router, "tcp://127.0.0.1:*") != 0 ||
	    zmq_getsockopt(e->router, ZMQ_LAST_ENDPOINT, e->endpoint, &len) !=
	        0 ||
	    pthread_create(&e->thread, NULL, serve, e) != 0)
		return -1;
	*state = e;
	return 0;
}

static int
teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];

	zmq_ctx_shutdown(e->ctx);
	pthread_join(e->thread, NULL);
	zmq_ctx_term(e->ctx);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

/*
 * A server key file as `privd init` writes it, or with comments and blank
 * lines first, or as a key pair file's public-key line: the key comes out;
 * its mode does not matter (the key is public).
 */
static void
test_server_key_load_forms(void **state)
{
	struct env *e = *state;
	char key[PRIVD_KEY_Z85_LEN], why[128], path[128], text[256];

	memset(key, 0, sizeof(key));
	assert_int_equal(
	    privd_server_key_load(e->server_file, key, why, sizeof(why)),
	    PRIVD_OK);
	assert_string_equal(key, e->spub);
	assert_string_equal(why, "");

	snprintf(text, sizeof(text),
	    "# privd's key, from privd pubkey\n\n   \t\n  %s  \r\n"
	    "not a key: not read\n",
	    e->spub);
	write_file(e, "commented.pub", text, 0600, path);
	memset(key, 0, sizeof(key));
	assert_int_equal(privd_server_key_load(path, key, NULL, 0), PRIVD_OK);
	assert_string_equal(key, e->spub);

	snprintf(text, sizeof(text), "public-key = %s\n", e->spub);
	write_file(e, "pair.pub", text, 0640, path);
	memset(key, 0, sizeof(key));
	assert_int_equal(privd_server_key_load(path, key, NULL, 0), PRIVD_OK);
	assert_string_equal(key, e->spub);

	/* no newline at the end */
	write_file(e, "bare.pub", e->spub, 0444, path);
	memset(key, 0, sizeof(key));
	assert_int_equal(privd_server_key_load(path, key, NULL, 0), PRIVD_OK);
	assert_string_equal(key, e->spub);
}

/* '=' is a Z85 character: a bare key holding one is still a bare key. */
static void
test_server_key_with_equals_sign(void **state)
{
	struct env *e = *state;
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	char key[PRIVD_KEY_Z85_LEN], path[128], text[64];
	int i;

	for (i = 0; i < 10000; i++) {
		assert_int_equal(privd_keygen(pub, sec), PRIVD_OK);
		if (strchr(pub, '=') != NULL)
			break;
	}
	assert_non_null(strchr(pub, '='));
	snprintf(text, sizeof(text), "%s\n", pub);
	write_file(e, "equals.pub", text, 0644, path);
	assert_int_equal(privd_server_key_load(path, key, NULL, 0), PRIVD_OK);
	assert_string_equal(key, pub);
}

/* Expect privd_server_key_load(path) to fail with PRIVD_EKEY saying want,
 * and leave the output as it was. */
static void
expect_bad(const char *path, const char *want)
{
	char key[PRIVD_KEY_Z85_LEN], why[128];

	memset(key, 'x', sizeof(key));
	assert_int_equal(
	    privd_server_key_load(path, key, why, sizeof(why)), PRIVD_EKEY);
	assert_non_null(strstr(why, want));
	assert_int_equal(key[0], 'x');
	assert_int_equal(key[PRIVD_KEY_Z85_LEN - 1], 'x');
}

/*
 * Files that hold no server key fail with PRIVD_EKEY and say why, never
 * quoting the file (its first line might be anything, a secret too).
 */
static void
test_server_key_load_bad(void **state)
{
	struct env *e = *state;
	char path[128], big[5000];
	char key[PRIVD_KEY_Z85_LEN], why[128];

	snprintf(path, sizeof(path), "%s/missing.pub", e->dir);
	expect_bad(path, strerror(ENOENT));
	expect_bad(e->dir, "not a regular file");
	write_file(e, "empty.pub", "# only a comment\n\n", 0644, path);
	expect_bad(path, "no key in the file");
	write_file(e, "short.pub", "SECRETMARKER-too-short\n", 0644, path);
	expect_bad(path, "not a 40-character Z85 key");
	write_file(e, "named.pub", "secret-key = SECRETMARKER\n", 0644, path);
	expect_bad(path, "neither a key nor public-key = KEY");
	write_file(e, "badpub.pub", "public-key = SECRETMARKER\n", 0644, path);
	expect_bad(path, "public-key is not a 40-character Z85 key");

	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	write_file(e, "big.pub", big, 0644, path);
	expect_bad(path, "too large");

	/* a NUL byte: written by hand */
	snprintf(path, sizeof(path), "%s/nul.pub", e->dir);
	{
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, e->spub, 40), 40);
		assert_int_equal(write(fd, "\0\n", 2), 2);
		close(fd);
	}
	expect_bad(path, "NUL byte");

	/* never the file's text in why */
	write_file(e, "quote.pub", "SECRETMARKER\n", 0644, path);
	assert_int_equal(
	    privd_server_key_load(path, key, why, sizeof(why)), PRIVD_EKEY);
	assert_null(strstr(why, "SECRETMARKER"));

	/* NULL arguments; a why of one byte is still a string */
	assert_int_equal(
	    privd_server_key_load(NULL, key, why, sizeof(why)), PRIVD_EKEY);
	assert_int_equal(
	    privd_server_key_load(e->server_file, NULL, NULL, 0), PRIVD_EKEY);
	assert_int_equal(privd_server_key_load(path, key, why, 1), PRIVD_EKEY);
	assert_string_equal(why, "");
}

/*
 * privd_connect_keyfile() takes privd's key from a file or inline and the
 * caller's pair from its file, and the handle it makes talks to privd.
 */
static void
test_connect_keyfile(void **state)
{
	struct env *e = *state;
	privd_client *c = NULL;
	privd_pong pong;
	char why[160];

	assert_int_equal(privd_connect_keyfile(&c, e->endpoint, e->server_file,
	                     e->key_file, why, sizeof(why)),
	    PRIVD_OK);
	assert_non_null(c);
	assert_string_equal(why, "");
	assert_int_equal(privd_ping(c, &pong), PRIVD_OK);
	assert_string_equal(pong.principal, "svc");
	privd_close(&c);
	assert_null(c);

	/* the server key inline, why NULL */
	assert_int_equal(privd_connect_keyfile(
	                     &c, e->endpoint, e->spub, e->key_file, NULL, 0),
	    PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	privd_close(&c);
}

/* Expect privd_connect_keyfile() to fail with status, *out NULL, and a why
 * that holds want and not avoid (NULL: no check). */
static void
expect_connect(const char *endpoint, const char *server_key,
    const char *key_file, int status, const char *want, const char *avoid)
{
	privd_client *c = (privd_client *)&c; /* not NULL: must be reset */
	char why[160];

	assert_int_equal(privd_connect_keyfile(&c, endpoint, server_key,
	                     key_file, why, sizeof(why)),
	    status);
	assert_null(c);
	assert_non_null(strstr(why, want));
	if (avoid != NULL)
		assert_null(strstr(why, avoid));
}

/* Each way privd_connect_keyfile() can fail, and what why says. */
static void
test_connect_keyfile_bad(void **state)
{
	struct env *e = *state;
	char path[128], text[256], missing[128], nokey[48];

	expect_connect("udp://x", e->server_file, e->key_file, PRIVD_EINVAL,
	    "neither ipc://PATH nor tcp://HOST:PORT", "udp");
	expect_connect(NULL, e->server_file, e->key_file, PRIVD_EINVAL,
	    "no endpoint given", NULL);
	expect_connect("tcp://a:1,,tcp://b:2", e->server_file, e->key_file,
	    PRIVD_EINVAL, "endpoint 2 of 3 is empty", "tcp://");
	expect_connect(e->endpoint, NULL, e->key_file, PRIVD_EKEY,
	    "no server key given", NULL);
	expect_connect(e->endpoint, e->server_file, "", PRIVD_EKEY,
	    "no key pair file given", NULL);

	/* neither a file nor a key: not quoted back (a mistyped key?) */
	memcpy(nokey, e->spub, 39);
	strcpy(nokey + 39, "~~");
	expect_connect(e->endpoint, nokey, e->key_file, PRIVD_EKEY,
	    "neither an existing file nor a 40-character Z85 key", nokey);

	/* a server key file that holds none: named, with the problem */
	write_file(e, "bad.pub", "nonsense\n", 0644, path);
	expect_connect(
	    e->endpoint, path, e->key_file, PRIVD_EKEY, path, "nonsense");
	expect_connect(e->endpoint, path, e->key_file, PRIVD_EKEY,
	    "not a 40-character Z85 key", NULL);

	/* the key pair file: missing, open to others, from two pairs */
	snprintf(missing, sizeof(missing), "%s/missing.key", e->dir);
	expect_connect(e->endpoint, e->server_file, missing, PRIVD_EKEY,
	    "key pair file", NULL);
	expect_connect(e->endpoint, e->server_file, missing, PRIVD_EKEY,
	    strerror(ENOENT), NULL);
	snprintf(text, sizeof(text), "public-key = %s\nsecret-key = %s\n",
	    e->cpub, e->csec);
	write_file(e, "open.key", text, 0644, path);
	expect_connect(e->endpoint, e->server_file, path, PRIVD_EKEY,
	    "chmod 600", e->csec);
	snprintf(text, sizeof(text), "public-key = %s\nsecret-key = %s\n",
	    e->other, e->csec);
	write_file(e, "mixed.key", text, 0600, path);
	expect_connect(e->endpoint, e->server_file, path, PRIVD_EKEY,
	    "does not belong", e->csec);

	/* out NULL */
	assert_int_equal(privd_connect_keyfile(NULL, e->endpoint,
	                     e->server_file, e->key_file, NULL, 0),
	    PRIVD_EINVAL);
}

/*
 * A handle made with the wrong server key fails its handshake; given the
 * right key it works at the next call, without a new handle. A bad key
 * given later is refused and the key in force stays; a file's key
 * replaces it as an inline one does.
 */
static void
test_set_server_key(void **state)
{
	struct env *e = *state;
	privd_client *c = NULL;
	char missing[128];

	assert_int_equal(
	    privd_connect(&c, e->endpoint, e->other, e->cpub, e->csec),
	    PRIVD_OK);
	assert_int_equal(privd_set_timeout(c, 20000), PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_EHANDSHAKE);

	assert_int_equal(privd_set_server_key(c, e->spub), PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);

	/* refused: the key in force stays, so does the connection */
	assert_int_equal(privd_set_server_key(c, "not a key"), PRIVD_EKEY);
	assert_non_null(strstr(privd_errmsg(c), "Z85"));
	assert_int_equal(privd_set_server_key(c, NULL), PRIVD_EKEY);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);

	/* from a file: the wrong key, then the right one */
	assert_int_equal(privd_set_server_key_file(c, e->other_file), PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_EHANDSHAKE);
	assert_int_equal(
	    privd_set_server_key_file(c, e->server_file), PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);

	/* a file without a key: named in the message, nothing changes */
	snprintf(missing, sizeof(missing), "%s/missing.pub", e->dir);
	assert_int_equal(privd_set_server_key_file(c, missing), PRIVD_EKEY);
	assert_non_null(strstr(privd_errmsg(c), missing));
	assert_non_null(strstr(privd_errmsg(c), strerror(ENOENT)));
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	assert_int_equal(privd_set_server_key_file(c, ""), PRIVD_EINVAL);
	assert_int_equal(privd_set_server_key_file(c, NULL), PRIVD_EINVAL);

	assert_int_equal(privd_set_server_key(NULL, e->spub), PRIVD_EINVAL);
	assert_int_equal(
	    privd_set_server_key_file(NULL, e->server_file), PRIVD_EINVAL);
	privd_close(&c);
}

/*
 * A bad timeout or size limit is refused with a message, and the one in
 * force stays: the timeout shows in the message of a call privd does not
 * answer, the limit in that of a request over it (sent to nobody).
 */
static void
test_setters(void **state)
{
	struct env *e = *state;
	privd_client *c = NULL;
	privd_field f = {"email", (const uint8_t *)"x@example.fi", 12};

	assert_int_equal(
	    privd_connect(&c, e->endpoint, e->spub, e->cpub, e->csec),
	    PRIVD_OK);
	assert_int_equal(privd_set_timeout(c, 300), PRIVD_OK);
	assert_int_equal(privd_set_timeout(c, 0), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "at least 1 ms"));
	assert_int_equal(privd_set_timeout(c, -5), PRIVD_EINVAL);
	assert_int_equal(privd_set_timeout(NULL, 100), PRIVD_EINVAL);
	e->silent = 1;
	assert_int_equal(privd_ping(c, NULL), PRIVD_ETIMEOUT);
	assert_non_null(strstr(privd_errmsg(c), "within 300 ms"));
	e->silent = 0;

	assert_int_equal(privd_set_max_request(c, 10), PRIVD_OK);
	assert_int_equal(privd_set_max_request(c, 0), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "at least 1"));
	assert_int_equal(privd_set_max_request(NULL, 10), PRIVD_EINVAL);
	assert_int_equal(
	    privd_put(c, "customers", "c-1", "p", &f, 1), PRIVD_ETOOBIG);
	assert_non_null(strstr(privd_errmsg(c), "limit of 10 bytes"));
	assert_int_equal(
	    privd_set_max_request(c, PRIVD_DEFAULT_MAX_REQUEST), PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	privd_close(&c);
}

/*
 * In a child after fork() a handle of the parent's is refused and its
 * close frees only the handle (the test's child exits through _exit(), as
 * such a child should); the parent's handle works on as before.
 */
static void
test_fork_child_refused(void **state)
{
	struct env *e = *state;
	privd_client *c = NULL;
	pid_t pid;
	int st;

	assert_int_equal(
	    privd_connect(&c, e->endpoint, e->spub, e->cpub, e->csec),
	    PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int bad = 0;

		bad |= privd_ping(c, NULL) != PRIVD_EINVAL;
		bad |= strstr(privd_errmsg(c), "another process") == NULL;
		bad |= privd_set_server_key(c, e->spub) != PRIVD_EINVAL;
		bad |= privd_set_timeout(c, 100) != PRIVD_EINVAL;
		bad |= privd_set_max_request(c, 100) != PRIVD_EINVAL;
		privd_close(&c);
		bad |= c != NULL;
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	privd_close(&c);
}

/* The descriptors open now, as a bitmap of the first 1024. */
static void
open_fds(unsigned char set[128])
{
	struct dirent *d;
	DIR *dir;
	int fd;

	memset(set, 0, 128);
	dir = opendir("/proc/self/fd");
	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		fd = atoi(d->d_name);
		if (d->d_name[0] == '.' || fd == dirfd(dir) || fd >= 1024)
			continue;
		set[fd / 8] |= 1u << (fd % 8);
	}
	closedir(dir);
}

/*
 * Every descriptor a handle opens (libzmq's context, its I/O thread's
 * poller and signalers, the connection to privd, the monitor) is
 * close-on-exec, so a program a child execs inherits none of them: the
 * descriptors that appear with a connected handle are listed and each
 * checked, a mark that they are about what the handle opened and nothing
 * else of the process's.
 */
static void
test_fds_close_on_exec(void **state)
{
	struct env *e = *state;
	unsigned char before[128], after[128];
	privd_client *c = NULL;
	int fd, n = 0;

	open_fds(before);
	assert_int_equal(
	    privd_connect(&c, e->endpoint, e->spub, e->cpub, e->csec),
	    PRIVD_OK);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	open_fds(after);
	for (fd = 0; fd < 1024; fd++) {
		if (!(after[fd / 8] & (1u << (fd % 8))) ||
		    (before[fd / 8] & (1u << (fd % 8))))
			continue;
		n++;
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	/* at least the context's, the I/O thread's and the connection */
	assert_true(n >= 3);
	privd_close(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_server_key_load_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_server_key_with_equals_sign, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_server_key_load_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_connect_keyfile, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_connect_keyfile_bad, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_set_server_key, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_setters, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_fork_child_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_fds_close_on_exec, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
