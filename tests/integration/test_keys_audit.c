/*
 * test_keys_audit.c - `privd audit rotate-key` with clients connected: a
 * service keeps writing and reading through the restart onto the new key
 * and fails only while privd is away; an auditor's handle made before the
 * rotation verifies the whole log afterwards from the first key it pinned
 * (libprivd and privctl), following the rotation event; the new key alone
 * does not verify what the old one signed; a second rotation is followed
 * too, and a verifier that pins nothing follows them from privd's key.
 * The command refuses to run while privd does.
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

#include <cmocka.h>
#include <sodium.h>

#include "audit_common.h"
#include "checks.h"
#include "harness.h"
#include "keys_common.h"

#define LOAD_TIMEOUT_MS 3000 /* each call of the clients */
#define WAIT_MS         60000

/* `privd audit rotate-key` on the stopped privd: the new key from its
 * stdout. */
static void
rotate_offline(harness *h, uint8_t new_pk[32])
{
	h_result r;
	size_t n;

	run_expect(h,
	    (const char *[]){h->privd_bin, "audit", "rotate-key", "--data-dir",
	        h->data_dir, NULL},
	    &r, 0, "privd audit rotate-key");
	assert_int_equal(strlen(r.out), 65);
	assert_int_equal(
	    sodium_hex2bin(new_pk, 32, r.out, 64, NULL, &n, NULL), 0);
	assert_int_equal(n, 32);
	assert_non_null(strstr(r.err, "signed by the old key"));
}

/* The rotation events of the log, oldest first: their seqs, and the keys
 * they name. */
static size_t
rotations(privd_client *a, uint64_t *seqs, uint8_t (*from)[32],
    uint8_t (*to)[32], size_t max)
{
	privd_audit_filter q = {0};
	privd_audit_page *pg = NULL;
	size_t i, n = 0, len;

	q.principal = "privd";
	q.limit = 100;
	expect_rc(a, privd_audit_query(a, &q, NULL, 0, &pg), PRIVD_OK,
	    "query the events of principal privd");
	assert_null(pg->cursor);
	for (i = 0; i < pg->n; i++) {
		const privd_audit_event *e = &pg->events[i];

		if (strcmp(e->op, "audit_key_rotate") != 0)
			continue;
		assert_true(n < max);
		assert_int_equal(e->nfields, 2);
		assert_int_equal(strncmp(e->fields[0], "from=", 5), 0);
		assert_int_equal(strncmp(e->fields[1], "to=", 3), 0);
		assert_int_equal(sodium_hex2bin(from[n], 32, e->fields[0] + 5,
		                     64, NULL, &len, NULL),
		    0);
		assert_int_equal(sodium_hex2bin(to[n], 32, e->fields[1] + 3, 64,
		                     NULL, &len, NULL),
		    0);
		assert_int_equal(e->status, 1);
		seqs[n++] = e->seq;
	}
	privd_audit_page_free(&pg);
	return n;
}

static void
expect_verifies(
    privd_client *a, uint64_t from, const uint8_t *pk, const char *what)
{
	char why[200];
	uint64_t bad = 0, checked = 0;
	int rc;

	rc = privd_audit_verify(
	    a, from, 0, pk, &bad, why, sizeof(why), &checked);
	if (rc != PRIVD_OK)
		fail_msg("%s: %s (at %llu: %s)", what, privd_strerror(rc),
		    (unsigned long long)bad, why);
	assert_true(checked > 0);
}

static void
test_audit_rotate_with_clients(void **state)
{
	harness *h = *state;
	privd_client *a = client(h, "auditor"), *svc;
	uint8_t first[32], second[32], third[32], pk[32];
	uint8_t from[4][32], to[4][32];
	char hex[65], pkfile[H_PATH_MAX + 16], why[200];
	uint64_t seqs[4], bad = 0;
	h_result r;
	k_load l;

	expect_rc(a, privd_audit_pubkey(a, first), PRIVD_OK, "pubkey");
	sodium_bin2hex(hex, sizeof(hex), first, sizeof(first));
	snprintf(pkfile, sizeof(pkfile), "%s/first.pub", h->root);
	assert_int_equal(h_write_file(pkfile, hex, 64, 0644), 0);

	k_load_start(&l, h, "svc", CUST, INV, "name", "rot", LOAD_TIMEOUT_MS);
	k_load_wait(&l, 40, WAIT_MS);

	/* not while privd runs: it holds the key */
	run_expect(h,
	    (const char *[]){h->privd_bin, "audit", "rotate-key", "--data-dir",
	        h->data_dir, NULL},
	    &r, 1, "privd audit rotate-key while privd runs");
	assert_non_null(strstr(r.err, "privd is running"));

	/* the switch-over: stop, rotate, start */
	k_load_down(&l);
	stop_clean(h);
	rotate_offline(h, second);
	assert_int_equal(h_start(h, serve_args), 0);
	k_load_up(&l);
	k_load_wait(&l, 40, WAIT_MS);
	k_load_finish(&l);

	/* the auditor's handle, made before, sees the new key */
	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey after");
	assert_memory_equal(pk, second, 32);
	assert_memory_not_equal(pk, first, 32);
	assert_int_equal(rotations(a, seqs, from, to, 4), 1);
	assert_memory_equal(from[0], first, 32);
	assert_memory_equal(to[0], second, 32);

	/* from the pinned first key, the whole log, through the rotation;
	 * from the new key, what follows the rotation */
	expect_verifies(a, 0, first, "verify from the first key");
	expect_verifies(a, seqs[0] + 1, second, "verify after the rotation");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "verify", "--pubkey", pkfile, NULL}, &r,
	    0, "privctl audit verify --pubkey FIRST");
	/* the new key alone does not vouch for what the old one signed */
	assert_int_equal(
	    privd_audit_verify(a, 0, 0, second, &bad, why, sizeof(why), NULL),
	    PRIVD_ETAMPERED);
	assert_true(bad > 0 && bad <= seqs[0]);
	/* pinning nothing: the keys from the log, ending at privd's */
	expect_verifies(a, 0, NULL, "verify without a pinned key");

	/* a second rotation, and the chain of keys goes on */
	stop_clean(h);
	rotate_offline(h, third);
	assert_int_equal(h_start(h, serve_args), 0);
	svc = client(h, "svc");
	put_name(svc, "after", "x");
	privd_close(&svc);
	assert_int_equal(rotations(a, seqs, from, to, 4), 2);
	assert_memory_equal(from[1], second, 32);
	assert_memory_equal(to[1], third, 32);
	assert_true(seqs[1] > seqs[0]);
	expect_verifies(a, 0, first, "verify two rotations from the first key");
	expect_verifies(a, 0, NULL, "verify two rotations without a key");
	expect_verifies(
	    a, seqs[0] + 1, second, "verify from the second key's start");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "verify", "--pubkey", pkfile, NULL}, &r,
	    0, "privctl audit verify --pubkey FIRST, two rotations");
	privd_close(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_audit_rotate_with_clients, setup, h_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
