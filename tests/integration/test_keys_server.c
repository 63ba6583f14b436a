/*
 * test_keys_server.c - rotating privd's CURVE key with clients connected:
 * `privd server-key next` while privd serves, clients given both keys,
 * `privd server-key rotate` with privd stopped, privd started again. The
 * clients' requests go on through the restart and fail only while privd
 * is away (the switch-over time is printed); a client holding only the
 * old key then fails with PRIVD_EHANDSHAKE, one given only the new key
 * works; the audit log has the events (the one made while privd ran
 * written at the rotation, with the time the key was made) and verifies.
 * Also: `next` with privd stopped logs at once, a `privd rekey` between
 * `next` and `rotate`, `show`, the files, and the bad input of the
 * commands, of server key files and of the API.
 *
 * The audit tests' policy and set-up (audit_common.h); the load of
 * clients: keys_common.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "audit_common.h"
#include "checks.h"
#include "harness.h"
#include "keys_common.h"

#define LOAD_TIMEOUT_MS 3000 /* each call of the clients */
#define WAIT_MS         60000
#define NLOADS          3

/* `privd server-key SUB --data-dir DIR`, expecting exit code; r gets the
 * output. */
static void
server_key(harness *h, const char *sub, int code, h_result *r)
{
	char what[64];

	snprintf(what, sizeof(what), "privd server-key %s", sub);
	run_expect(h,
	    (const char *[]){h->privd_bin, "server-key", sub, "--data-dir",
	        h->data_dir, NULL},
	    r, code, what);
}

/* The key a command printed: one Z85 line. */
static void
printed_key(const h_result *r, char key[PRIVD_KEY_Z85_LEN])
{
	assert_int_equal(strlen(r->out), PRIVD_KEY_Z85_LEN);
	assert_int_equal(r->out[PRIVD_KEY_Z85_LEN - 1], '\n');
	memcpy(key, r->out, PRIVD_KEY_Z85_LEN - 1);
	key[PRIVD_KEY_Z85_LEN - 1] = '\0';
}

/* The file DIR/name holds key and a newline (key NULL: no such file). */
static void
expect_key_file(harness *h, const char *name, const char *key)
{
	char path[H_PATH_MAX + 32];
	uint8_t *buf = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", h->data_dir, name);
	if (key == NULL) {
		assert_int_not_equal(access(path, F_OK), 0);
		return;
	}
	assert_int_equal(h_read_file(path, &buf, &len), 0);
	assert_int_equal(len, PRIVD_KEY_Z85_LEN);
	assert_memory_equal(buf, key, PRIVD_KEY_Z85_LEN - 1);
	assert_int_equal(buf[PRIVD_KEY_Z85_LEN - 1], '\n');
	free(buf);
}

/* The events of op (principal privd) in the log, oldest first, copied
 * into evs (at most max); returns how many. Fields joined by ' '. */
typedef struct sk_event {
	uint64_t seq;
	char fields[512];
} sk_event;

static size_t
events(privd_client *a, const char *op, sk_event *evs, size_t max)
{
	privd_audit_filter q = {0};
	privd_audit_page *pg = NULL;
	const char *ops[1] = {op};
	size_t i, j, n = 0;

	q.principal = "privd";
	q.ops = ops;
	q.nops = 1;
	q.limit = 100;
	expect_rc(a, privd_audit_query(a, &q, NULL, 0, &pg), PRIVD_OK,
	    "query privd's key events");
	for (i = 0; i < pg->n && n < max; i++, n++) {
		const privd_audit_event *e = &pg->events[i];

		assert_string_equal(e->op, op);
		assert_int_equal(e->status, 1);
		evs[n].seq = e->seq;
		evs[n].fields[0] = '\0';
		for (j = 0; j < e->nfields; j++) {
			strncat(evs[n].fields, e->fields[j],
			    sizeof(evs[n].fields) - strlen(evs[n].fields) - 2);
			strcat(evs[n].fields, " ");
		}
	}
	privd_audit_page_free(&pg);
	return n;
}

/* f (an event's fields, ' '-joined) holds "name=key ". */
static void
expect_field(const char *f, const char *name, const char *key)
{
	char want[128];

	snprintf(want, sizeof(want), "%s=%s ", name, key);
	if (strstr(f, want) == NULL)
		fail_msg("fields \"%s\" lack \"%s\"", f, want);
}

static void
expect_verifies(privd_client *a, const char *what)
{
	char why[200];
	uint64_t bad = 0, checked = 0;
	int rc;

	rc =
	    privd_audit_verify(a, 0, 0, NULL, &bad, why, sizeof(why), &checked);
	if (rc != PRIVD_OK)
		fail_msg("%s: %s (at %llu: %s)", what, privd_strerror(rc),
		    (unsigned long long)bad, why);
	assert_true(checked > 0);
}

static void
test_rotate_with_clients(void **state)
{
	harness *h = *state;
	char old[PRIVD_KEY_Z85_LEN], next[PRIVD_KEY_Z85_LEN];
	char first_next[PRIVD_KEY_Z85_LEN], both[PRIVD_SERVER_KEYS_LEN];
	char keyfile[H_PATH_MAX + 32], svcfile[H_PATH_MAX + 32], text[128];
	privd_client *a, *only_old, *only_new, *probe;
	privd_pong pong;
	sk_event ev[4];
	k_load l[NLOADS];
	long long started, ready, t0;
	h_result r;
	int i;

	snprintf(old, sizeof(old), "%s", h->server_key);
	a = client(h, "auditor");
	only_old = client_as(h, "svc", old, LOAD_TIMEOUT_MS);
	expect_rc(only_old, privd_ping(only_old, &pong), PRIVD_OK, "ping");

	/* next while privd serves, twice: the second replaces the first */
	server_key(h, "next", 0, &r);
	printed_key(&r, first_next);
	assert_non_null(strstr(r.err, "written to the log when privd next"));
	server_key(h, "next", 0, &r);
	printed_key(&r, next);
	assert_non_null(strstr(r.err, "replaced"));
	assert_string_not_equal(next, first_next);
	assert_string_not_equal(next, old);
	/* the auditor's handle learns the next key while connected */
	{
		const char *ks[2] = {old, next};

		expect_rc(a, privd_set_server_keys(a, ks, 2), PRIVD_OK,
		    "the auditor takes both keys");
	}
	/* and a handle that will sit idle through the restart */
	probe = client_as(h, "svc", old, LOAD_TIMEOUT_MS);
	expect_key_file(h, "server.pub", old);
	expect_key_file(h, "server.next.pub", next);
	server_key(h, "show", 0, &r);
	snprintf(text, sizeof(text), "%s\n%s\n", old, next);
	assert_string_equal(r.out, text);
	assert_non_null(strstr(r.err, "2 audit event(s)"));
	/* the running privd's log is not written behind its back */
	assert_int_equal(events(a, "server_key_next", ev, 4), 0);
	/* nor is the key rotated under it */
	server_key(h, "rotate", 1, &r);
	assert_non_null(strstr(r.err, "privd is running"));

	/* the clients: privd's key and its next one, as a file holds them */
	snprintf(keyfile, sizeof(keyfile), "%s/clients.pub", h->root);
	snprintf(text, sizeof(text),
	    "# privd's key, then its next key\n%s\n%s\n", old, next);
	assert_int_equal(h_write_file(keyfile, text, strlen(text), 0644), 0);
	{
		char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN], why[128];
		size_t n = 0;

		assert_int_equal(
		    privd_server_keys_load(keyfile, keys, &n, why, sizeof(why)),
		    PRIVD_OK);
		assert_int_equal(n, 2);
		snprintf(both, sizeof(both), "%s,%s", keys[0], keys[1]);
	}
	for (i = 0; i < NLOADS; i++) {
		/* the load keeps the prefix: a string of the program's */
		static const char *const prefix[NLOADS] = {
		    "sk0-", "sk1-", "sk2-"};

		k_load_start_keys(&l[i], h, both, "svc", CUST, INV, "name",
		    prefix[i], LOAD_TIMEOUT_MS);
	}
	for (i = 0; i < NLOADS; i++)
		k_load_wait(&l[i], 20, WAIT_MS);
	snprintf(text, sizeof(text), "%s,%s", old, next);
	expect_rc(probe, privd_set_server_key(probe, text), PRIVD_OK,
	    "the probe takes both keys");
	expect_rc(probe, privd_ping(probe, &pong), PRIVD_OK, "probe ping");

	/* the switch-over: stop, rotate, start on the new key */
	for (i = 0; i < NLOADS; i++)
		k_load_down(&l[i]);
	stop_clean(h);
	server_key(h, "rotate", 0, &r);
	assert_string_equal(
	    r.out, (snprintf(text, sizeof(text), "%s\n", next), text));
	expect_key_file(h, "server.pub", next);
	expect_key_file(h, "server.next.pub", NULL);
	snprintf(h->server_key, sizeof(h->server_key), "%s", next);
	started = h_now_ms();
	for (i = 0; i < NLOADS; i++)
		k_load_starting(&l[i]);
	assert_int_equal(h_start(h, serve_args), 0);
	ready = h_now_ms();
	for (i = 0; i < NLOADS; i++)
		k_load_up(&l[i]);
	/* the key switch alone: an idle handle's first call, on the old key
	 * first, goes through one failed handshake and then the next key */
	t0 = h_now_ms();
	expect_rc(probe, privd_ping(probe, &pong), PRIVD_OK,
	    "probe ping after the rotation");
	fprintf(stderr,
	    "an idle handle holding both keys: its first call after the "
	    "rotation took %lld ms (a failed handshake on the old key, then "
	    "the new one)\n",
	    h_now_ms() - t0);
	privd_close(&probe);
	for (i = 0; i < NLOADS; i++)
		k_load_wait(&l[i], 20, WAIT_MS);
	for (i = 0; i < NLOADS; i++) {
		long long first = atomic_load(&l[i].first_ok_ms);

		fprintf(stderr,
		    "client %d: first request OK %lld ms after the new privd "
		    "was started (%lld ms after it answered the harness; a "
		    "request lost as privd stopped waits out its %d ms "
		    "deadline first)\n",
		    i, first - started, first - ready, LOAD_TIMEOUT_MS);
		k_load_finish(&l[i]);
	}

	/* the old key alone: the handshake error; the new key alone works */
	expect_rc(only_old, privd_ping(only_old, &pong), PRIVD_EHANDSHAKE,
	    "ping with the old key after the rotation");
	assert_non_null(strstr(privd_errmsg(only_old), "handshake"));
	only_new = client_as(h, "svc", next, LOAD_TIMEOUT_MS);
	expect_rc(only_new, privd_ping(only_new, &pong), PRIVD_OK,
	    "ping with the new key");
	put_name(only_new, "after-rotation", "x");
	privd_close(&only_new);
	privd_close(&only_old);
	/* the key file with both keys, through a handle made from it */
	assert_int_equal(h_key_file(h, "svc", svcfile, sizeof(svcfile)), 0);
	assert_int_equal(privd_connect_keyfile(
	                     &only_new, h->endpoint, keyfile, svcfile, NULL, 0),
	    PRIVD_OK);
	expect_rc(only_new, privd_ping(only_new, &pong), PRIVD_OK,
	    "ping, both keys from a file");
	privd_close(&only_new);

	/* the log: both next events (written at the rotation, with the time
	 * each key was made), then the rotation; and it verifies */
	assert_int_equal(events(a, "server_key_next", ev, 4), 2);
	expect_field(ev[0].fields, "current", old);
	expect_field(ev[0].fields, "next", first_next);
	assert_null(strstr(ev[0].fields, "replaced="));
	assert_non_null(strstr(ev[0].fields, "made=20"));
	expect_field(ev[1].fields, "next", next);
	expect_field(ev[1].fields, "replaced", first_next);
	assert_int_equal(events(a, "server_key_rotate", ev + 2, 2), 1);
	expect_field(ev[2].fields, "from", old);
	expect_field(ev[2].fields, "to", next);
	assert_true(ev[2].seq > ev[1].seq);
	expect_verifies(a, "verify after the rotation");
	privctl_expect(h, "auditor", (const char *[]){"audit", "verify", NULL},
	    &r, 0, "privctl audit verify");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--op", "server_key_rotate",
	        "--op", "server_key_next", NULL},
	    &r, 0, "privctl audit query --op server_key_*");
	assert_non_null(strstr(r.out, "server_key_rotate"));
	privd_close(&a);
}

/* With privd stopped, `next` writes its event at once; privd serve then
 * writes the queued ones at start; rotate refuses without a next key, and
 * works after a rekey. */
static void
test_next_offline_and_at_start(void **state)
{
	harness *h = *state;
	char k1[PRIVD_KEY_Z85_LEN], k2[PRIVD_KEY_Z85_LEN], text[128];
	privd_client *a;
	sk_event ev[4];
	h_result r;

	stop_clean(h);
	server_key(h, "rotate", 1, &r);
	assert_non_null(strstr(r.err, "no next server key"));
	server_key(h, "show", 0, &r);
	snprintf(text, sizeof(text), "%s\n", h->server_key);
	assert_string_equal(r.out, text);
	assert_non_null(strstr(r.err, "no next key"));
	server_key(h, "next", 0, &r);
	printed_key(&r, k1);
	assert_null(strstr(r.err, "when privd next starts"));
	assert_int_equal(h_start(h, serve_args), 0);
	a = client(h, "auditor");
	assert_int_equal(events(a, "server_key_next", ev, 4), 1);
	expect_field(ev[0].fields, "next", k1);
	assert_null(strstr(ev[0].fields, "made="));

	/* made while privd runs: written when privd starts again */
	server_key(h, "next", 0, &r);
	printed_key(&r, k2);
	assert_int_equal(events(a, "server_key_next", ev, 4), 1);
	stop_clean(h);
	assert_int_equal(h_start(h, serve_args), 0);
	assert_int_equal(events(a, "server_key_next", ev, 4), 2);
	expect_field(ev[1].fields, "next", k2);
	expect_field(ev[1].fields, "replaced", k1);
	assert_non_null(strstr(ev[1].fields, "made="));
	expect_key_file(h, "server.next.pub", k2);
	expect_verifies(a, "verify, events written at start");
	privd_close(&a);

	/* a new master key between next and rotate: the next key still
	 * opens (it is sealed under the current CURVE secret, which rekey
	 * re-seals) */
	stop_clean(h);
	run_expect(h,
	    (const char *[]){
	        h->privd_bin, "rekey", "--data-dir", h->data_dir, NULL},
	    &r, 0, "privd rekey");
	server_key(h, "rotate", 0, &r);
	snprintf(text, sizeof(text), "%s\n", k2);
	assert_string_equal(r.out, text);
	snprintf(h->server_key, sizeof(h->server_key), "%s", k2);
	assert_int_equal(h_start(h, serve_args), 0);
	a = client(h, "auditor");
	assert_int_equal(events(a, "server_key_rotate", ev, 4), 1);
	expect_field(ev[0].fields, "to", k2);
	expect_verifies(a, "verify after rekey and rotate");
	privd_close(&a);

	/* usage */
	run_expect(h,
	    (const char *[]){h->privd_bin, "server-key", "promote",
	        "--data-dir", h->data_dir, NULL},
	    &r, 2, "privd server-key promote");
	run_expect(h,
	    (const char *[]){h->privd_bin, "server-key", "next", NULL}, &r, 2,
	    "privd server-key next without --data-dir");
}

/* Server key files and key lists that are not right: clear errors. */
static void
test_bad_keys(void **state)
{
	harness *h = *state;
	char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN], why[128];
	char path[H_PATH_MAX + 32], text[256], list[200];
	const char *svc = h_key_get(h, "svc")->pub;
	const char *k3[3];
	privd_client *c;
	size_t n;
	h_result r;
	const char *why_bad[] = {"line 2 is not a 40-character Z85 key",
	    "line 3: a third key (the file holds privd's key and at most its "
	    "next key)",
	    "no key in the file", "line 2 is not a 40-character Z85 key"};
	size_t i;

	snprintf(path, sizeof(path), "%s/bad.pub", h->root);
	for (i = 0; i < sizeof(why_bad) / sizeof(why_bad[0]); i++) {
		if (i == 0)
			snprintf(text, sizeof(text), "%s\nnot a key\n",
			    h->server_key);
		else if (i == 1)
			snprintf(text, sizeof(text), "%s\n%s\n%s\n",
			    h->server_key, svc, svc);
		else if (i == 2)
			snprintf(text, sizeof(text), "# nothing\n\n");
		else
			snprintf(text, sizeof(text), "%s\npublic-key = %s\n",
			    h->server_key, svc);
		assert_int_equal(
		    h_write_file(path, text, strlen(text), 0644), 0);
		n = 9;
		assert_int_equal(
		    privd_server_keys_load(path, keys, &n, why, sizeof(why)),
		    PRIVD_EKEY);
		assert_string_equal(why, why_bad[i]);
		assert_int_equal(n, 9);
		/* the key itself is never quoted */
		assert_null(strstr(why, h->server_key));
	}
	/* a key pair file: its public key, the rest not read as keys */
	assert_int_equal(h_key_file(h, "svc", path, sizeof(path)), 0);
	assert_int_equal(
	    privd_server_keys_load(path, keys, &n, why, sizeof(why)), PRIVD_OK);
	assert_int_equal(n, 1);
	assert_string_equal(keys[0], svc);

	/* the API */
	c = client(h, "svc");
	k3[0] = k3[1] = k3[2] = h->server_key;
	assert_int_equal(privd_set_server_keys(c, k3, 3), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "one or two server keys"));
	assert_int_equal(privd_set_server_keys(c, k3, 0), PRIVD_EINVAL);
	k3[1] = "not a key";
	assert_int_equal(privd_set_server_keys(c, k3, 2), PRIVD_EKEY);
	assert_string_equal(
	    privd_errmsg(c), "server key 2 of 2 is not a 40-character Z85 key");
	snprintf(list, sizeof(list), "%s,%s,%s", h->server_key, svc, svc);
	assert_int_equal(privd_set_server_key(c, list), PRIVD_EKEY);
	snprintf(list, sizeof(list), "%s,", h->server_key);
	assert_int_equal(privd_set_server_key(c, list), PRIVD_EKEY);
	/* the old keys stay in force */
	put_name(c, "still", "works");
	/* a wrong key beside the right one: the right one is found */
	k3[0] = svc;
	k3[1] = h->server_key;
	expect_rc(c, privd_set_server_keys(c, k3, 2), PRIVD_OK, "two keys");
	put_name(c, "second", "key");
	privd_close(&c);
	snprintf(list, sizeof(list), "%s,%s,%s", h->server_key, svc, svc);
	assert_int_equal(
	    privd_connect(&c, h->endpoint, list, svc, svc), PRIVD_EKEY);

	/* two wrong keys: the handshake error, after each failed */
	snprintf(list, sizeof(list), "%s,%s", svc, h_key_get(h, "admin")->pub);
	c = client_as(h, "svc", list, 5000);
	assert_int_equal(privd_ping(c, NULL), PRIVD_EHANDSHAKE);
	assert_non_null(strstr(privd_errmsg(c), "each server key"));
	privd_close(&c);

	/* privctl: a second key that is garbage, three keys */
	snprintf(list, sizeof(list), "%s,garbage", h->server_key);
	assert_int_equal(
	    h_privctl(h, "svc", list, (const char *[]){"ping", NULL},
	        H_RUN_TIMEOUT_MS, &r),
	    0);
	expect_exit(&r, 5, "privctl with a garbage second key");
	assert_non_null(strstr(r.err, "--server-key is neither"));
	snprintf(path, sizeof(path), "%s/bad.pub", h->root);
	snprintf(text, sizeof(text), "%s\n%s\n%s\n", h->server_key, svc, svc);
	assert_int_equal(h_write_file(path, text, strlen(text), 0644), 0);
	assert_int_equal(
	    h_privctl(h, "svc", path, (const char *[]){"ping", NULL},
	        H_RUN_TIMEOUT_MS, &r),
	    0);
	expect_exit(&r, 5, "privctl with three keys in the file");
	assert_non_null(strstr(r.err, "third key"));
	/* and two good ones, inline and in a file */
	snprintf(list, sizeof(list), "%s,%s", svc, h->server_key);
	assert_int_equal(
	    h_privctl(h, "svc", list, (const char *[]){"ping", NULL},
	        H_RUN_TIMEOUT_MS, &r),
	    0);
	expect_exit(&r, 0, "privctl with two keys, the second right");
	snprintf(text, sizeof(text), "%s\n%s\n", svc, h->server_key);
	assert_int_equal(h_write_file(path, text, strlen(text), 0644), 0);
	assert_int_equal(
	    h_privctl(h, "svc", path, (const char *[]){"ping", NULL},
	        H_RUN_TIMEOUT_MS, &r),
	    0);
	expect_exit(&r, 0, "privctl with a two-key file");

	/* the config file's server-key, and PRIVD_SERVER_KEY, as a pair */
	{
		char cfg[H_PATH_MAX + 32], keyfile[H_PATH_MAX + 32];
		char envcfg[H_PATH_MAX + 48], envkey[200], conf[1024];

		assert_int_equal(
		    h_key_file(h, "svc", keyfile, sizeof(keyfile)), 0);
		snprintf(cfg, sizeof(cfg), "%s/privctl.conf", h->root);
		snprintf(conf, sizeof(conf),
		    "endpoint = %s\nkey = %s\nserver-key = %s,%s\n",
		    h->endpoint, keyfile, svc, h->server_key);
		assert_int_equal(
		    h_write_file(cfg, conf, strlen(conf), 0600), 0);
		snprintf(envcfg, sizeof(envcfg), "PRIVCTL_CONFIG=%s", cfg);
		run_expect(h,
		    (const char *[]){
		        "/usr/bin/env", envcfg, h->privctl_bin, "ping", NULL},
		    &r, 0, "privctl, server-key = WRONG,RIGHT in its config");
		snprintf(envkey, sizeof(envkey), "PRIVD_SERVER_KEY=%s,%s",
		    h->server_key, svc);
		run_expect(h,
		    (const char *[]){"/usr/bin/env", envcfg, envkey,
		        h->privctl_bin, "ping", NULL},
		    &r, 0, "privctl, PRIVD_SERVER_KEY=RIGHT,WRONG");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_rotate_with_clients, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_next_offline_and_at_start, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_keys, setup, h_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
