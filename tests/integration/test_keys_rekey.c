/*
 * test_keys_rekey.c - `privd rekey`: a new master key for a stopped privd.
 *
 * 1. With clients connected through the restart (keys_common.h): every
 *    kind of record sealed under the master key's subkeys reads the same
 *    afterwards - values behind wrapped data keys, the sweeper's subject
 *    ids (a relationship end acted on later), a hold and its reason,
 *    anonymous records (an aggregate), a restriction and an objection -
 *    and the old master key, kept as master.key.old-*, no longer opens
 *    the store; the rekey is one audit event, and the log still verifies
 *    from the pinned key. A second rekey works the same way.
 * 2. Interrupted at each step it can be (PRIVD_TEST_REKEY_STOP: after the
 *    new key file is written, after the commit, after the old key is
 *    linked aside), a second run finishes or starts over, and says which;
 *    privd refuses to start in between, saying to run it again; with a
 *    key file changed meanwhile, it refuses and says what to put back.
 * 3. PostgreSQL (meson test --setup pg; every case runs there): a second
 *    node still holding the old master key is refused after the rekey,
 *    harmlessly, and serves once given the new one.
 *
 * The example policy on the test clock (retention_common.h,
 * rights_common.h).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "keys_common.h"
#include "retention_views.h"
#include "rights_common.h"

#define LOAD_TIMEOUT_MS 3000
#define WAIT_MS         60000
#define SR_P            "sales_reporting"
#define REASON          "rekey-test-litigation"

/* What the store holds before the rekey, to find again after it. */
typedef struct seen {
	char alice[512], carol[512];
	uint64_t anon_count;
	uint8_t audit_pk[32];
	int64_t t0;
} seen;

static uint8_t *
read_key(harness *h, const char *name, size_t *len)
{
	char path[H_PATH_MAX + 300];
	uint8_t *buf = NULL;

	snprintf(path, sizeof(path), "%s/%s", h->data_dir, name);
	if (h_read_file(path, &buf, len) != 0)
		return NULL;
	return buf;
}

/* The master.key.old-* files of the data directory (their count; the
 * name of the newest, which sorts last, into newest). */
static int
old_keys(harness *h, char *newest, size_t size)
{
	struct dirent *e;
	DIR *d;
	int n = 0;

	assert_non_null(d = opendir(h->data_dir));
	newest[0] = '\0';
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "master.key.old-", 15) == 0) {
			n++;
			if (strcmp(e->d_name, newest) > 0)
				snprintf(newest, size, "%s", e->d_name);
		}
	closedir(d);
	return n;
}

static bool
exists(harness *h, const char *name)
{
	char path[H_PATH_MAX + 300];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", h->data_dir, name);
	return lstat(path, &st) == 0;
}

static uint64_t
anon_records(harness *h)
{
	Privd__V1__Response *r =
	    aggregate_ok(h, "reporting", SR_P, ACIS, "customer_type", NULL);
	const Privd__V1__AggregateGroup *g = agg_group(r, "");
	uint64_t n;

	assert_non_null(g);
	n = g->count;
	privd__v1__response__free_unpacked(r, NULL);
	return n;
}

static void
expect_hold(harness *h)
{
	Privd__V1__Response *r = hold_list(h, RIGHTS, CUST);

	expect_status(r, PRIVD__V1__STATUS__OK, 0, "hold list");
	assert_int_equal(r->hold_list->n_holds, 1);
	assert_string_equal(r->hold_list->holds[0]->subject, "bob");
	assert_string_equal(r->hold_list->holds[0]->reason, REASON);
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * Every kind of sealed record: acis subjects anonymised by a sweep
 * (anonymous records), customers alice (relationship ended: the sweeper's
 * subject id) and bob (held, restricted), acis subject carol (objected to
 * cx_management).
 */
static void
populate(harness *h, seen *s)
{
	Privd__V1__Response *r;
	privd_client *a;
	char subj[32];
	int i;

	s->t0 = (int64_t)h_clock_us(h);
	for (i = 0; i < 5; i++) {
		snprintf(subj, sizeof(subj), "anon-%d", i);
		put_acis(h, subj);
	}
	clock_to(h, add_months(s->t0, 25));
	privd__v1__response__free_unpacked(sweep(h), NULL);
	put_cust(h, "alice", true);
	put_cust(h, "bob", false);
	put_acis(h, "carol");
	end_rel(h, "alice", h_clock_us(h));
	r = hold_set(h, RIGHTS, CUST, "bob", REASON, 0);
	expect_status(r, PRIVD__V1__STATUS__OK, 0, "hold set");
	privd__v1__response__free_unpacked(r, NULL);
	restrict_ok(h, CUST, "bob", true, true);
	object_ok(h, ACIS, "carol", CXM, true, true);

	fields_of(h, "crm", CUST, CR, "alice", s->alice, sizeof(s->alice));
	fields_of(h, "acis", ACIS, ST_P, "carol", s->carol, sizeof(s->carol));
	s->anon_count = anon_records(h);
	assert_true(s->anon_count >= 5);
	a = client(h, "auditor");
	expect_rc(a, privd_audit_pubkey(a, s->audit_pk), PRIVD_OK, "pubkey");
	privd_close(&a);
}

/* Everything populate() stored reads as it did. */
static void
expect_same(harness *h, const seen *s)
{
	privd_client *a = client(h, "auditor");
	uint8_t pk[32];
	char why[200];
	uint64_t bad = 0;
	int rc;

	expect_fields(h, "crm", CUST, CR, "alice", s->alice);
	expect_fields(h, "acis", ACIS, ST_P, "carol", s->carol);
	assert_int_equal(anon_records(h), s->anon_count);
	expect_hold(h);
	expect_get(h, "crm", CUST, CR, "bob", PRIVD_EDENIED, R_RESTRICTED);
	expect_get(h, "acis", ACIS, CXM, "carol", PRIVD_EDENIED, R_OBJECTED);
	/* the signing key did not change, and the log verifies from it */
	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	assert_memory_equal(pk, s->audit_pk, 32);
	rc = privd_audit_verify(
	    a, 0, 0, s->audit_pk, &bad, why, sizeof(why), NULL);
	if (rc != PRIVD_OK)
		fail_msg("audit verify: %s at %llu: %s", privd_strerror(rc),
		    (unsigned long long)bad, why);
	privd_close(&a);
}

/* `privd rekey` (with PRIVD_TEST_REKEY_STOP=stop unless NULL). */
static void
rekey(harness *h, const char *stop, int code, h_result *r)
{
	char env[64];

	snprintf(env, sizeof(env), "PRIVD_TEST_REKEY_STOP=%s",
	    stop != NULL ? stop : "");
	run_expect(h,
	    (const char *[]){"/usr/bin/env", env, h->privd_bin, "rekey",
	        "--data-dir", h->data_dir, NULL},
	    r, code, stop != NULL ? stop : "privd rekey");
}

/* The rekey events of the log. */
static size_t
rekey_events(harness *h)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter q = {0};
	privd_audit_page *pg = NULL;
	size_t i, n = 0;

	q.principal = "privd";
	q.limit = 100;
	expect_rc(a, privd_audit_query(a, &q, NULL, 0, &pg), PRIVD_OK,
	    "events of privd");
	for (i = 0; i < pg->n; i++)
		if (strcmp(pg->events[i].op, "rekey") == 0) {
			assert_int_equal(pg->events[i].nfields, 2);
			assert_int_equal(
			    strncmp(pg->events[i].fields[0], "subjects=", 9),
			    0);
			n++;
		}
	privd_audit_page_free(&pg);
	privd_close(&a);
	return n;
}

static void
test_rekey_with_clients(void **state)
{
	harness *h = *state;
	uint8_t *before, *after, *old;
	size_t blen, alen, olen;
	char oldname[256], path[H_PATH_MAX + 64];
	h_result r;
	k_load l;
	seen s;

	populate(h, &s);
	assert_non_null(before = read_key(h, "master.key", &blen));
	k_load_start(&l, h, "crm", CUST, CR, "name", "load-", LOAD_TIMEOUT_MS);
	k_load_wait(&l, 40, WAIT_MS);

	/* not while privd runs */
	rekey(h, NULL, 1, &r);
	assert_non_null(strstr(r.err, "privd is running"));

	k_load_down(&l);
	stop_clean(h);
	rekey(h, NULL, 0, &r);
	assert_non_null(strstr(r.out, "master key replaced; the old one is "));
	assert_non_null(strstr(r.err, "keep the old key while you keep"));
	assert_int_equal(h_start(h, ret_serve_args), 0);
	k_load_up(&l);
	k_load_wait(&l, 40, WAIT_MS);
	k_load_finish(&l);

	/* a new master key; the old one kept beside it, nothing else */
	assert_non_null(after = read_key(h, "master.key", &alen));
	assert_int_equal(alen, 32);
	assert_memory_not_equal(before, after, 32);
	assert_int_equal(old_keys(h, oldname, sizeof(oldname)), 1);
	assert_non_null(old = read_key(h, oldname, &olen));
	assert_int_equal(olen, 32);
	assert_memory_equal(old, before, 32);
	assert_false(exists(h, "master.key.new"));
	expect_same(h, &s);
	assert_int_equal(rekey_events(h), 1);

	/* the sweeper's subject id opens under the new key: alice's
	 * relationship end is acted on a year later (billing kept) */
	clock_to(h, add_months((int64_t)h_clock_us(h), 13));
	privd__v1__response__free_unpacked(sweep(h), NULL);
	expect_fields(h, "crm", CUST, CR, "alice", "billing_details");

	/* the old key opens nothing: privd refuses to start with it */
	stop_clean(h);
	snprintf(path, sizeof(path), "%s/master.key", h->data_dir);
	assert_int_equal(h_write_file(path, before, 32, 0600), 0);
	serve_refused(h, "do not open with", &r);
	assert_int_equal(h_write_file(path, after, 32, 0600), 0);

	/* a second rekey, from a consistent state, is another rekey */
	rekey(h, NULL, 0, &r);
	assert_int_equal(old_keys(h, oldname, sizeof(oldname)), 2);
	assert_int_equal(h_start(h, ret_serve_args), 0);
	expect_fields(h, "acis", ACIS, ST_P, "carol", s.carol);
	assert_int_equal(anon_records(h), s.anon_count);
	expect_hold(h);
	expect_get(h, "crm", CUST, CR, "bob", PRIVD_EDENIED, R_RESTRICTED);
	assert_int_equal(rekey_events(h), 2);
	free(before);
	free(after);
	free(old);
}

/*
 * Interrupted after step `stop`: what the directory holds, that privd
 * refuses or serves as it must meanwhile, and that a second run finishes
 * (or starts over) with everything readable.
 */
static void
interrupted(harness *h, const seen *s, const char *stop, bool committed)
{
	uint8_t *before, *pending, *after;
	size_t len;
	char oldname[256];
	int olds;
	h_result r;

	stop_clean(h);
	assert_non_null(before = read_key(h, "master.key", &len));
	olds = old_keys(h, oldname, sizeof(oldname));
	rekey(h, stop, 3, &r);
	assert_true(exists(h, "master.key.new"));
	assert_non_null(pending = read_key(h, "master.key.new", &len));
	assert_non_null(after = read_key(h, "master.key", &len));
	assert_memory_equal(after, before, 32); /* not replaced yet */
	free(after);
	if (committed) {
		serve_refused(h, "run it again", &r);
	} else {
		/* the store is as it was: privd serves it */
		assert_int_equal(h_start(h, ret_serve_args), 0);
		expect_hold(h);
		stop_clean(h);
	}

	rekey(h, NULL, 0, &r);
	assert_non_null(
	    strstr(r.err, committed ? "finishing that" : "starting over"));
	assert_false(exists(h, "master.key.new"));
	assert_non_null(after = read_key(h, "master.key", &len));
	assert_memory_not_equal(after, before, 32);
	if (committed)
		assert_memory_equal(after, pending, 32);
	else
		assert_memory_not_equal(after, pending, 32);
	assert_int_equal(old_keys(h, oldname, sizeof(oldname)), olds + 1);
	free(before);
	free(pending);
	free(after);
	assert_int_equal(h_start(h, ret_serve_args), 0);
	expect_same(h, s);
}

static void
test_rekey_interrupted(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 300], moved[H_PATH_MAX + 64];
	uint8_t junk[32];
	h_result r;
	seen s;

	populate(h, &s);
	interrupted(h, &s, "key-written", false);
	interrupted(h, &s, "committed", true);
	interrupted(h, &s, "linked", true);
	assert_int_equal(rekey_events(h), 3);

	/* committed, then master.key.new replaced: neither key opens the
	 * store; the run refuses and says what to put back; with the key
	 * back, it finishes */
	stop_clean(h);
	rekey(h, "committed", 3, &r);
	snprintf(path, sizeof(path), "%s/master.key.new", h->data_dir);
	snprintf(moved, sizeof(moved), "%s/kept.key", h->root);
	assert_int_equal(rename(path, moved), 0);
	randombytes_buf(junk, sizeof(junk));
	assert_int_equal(h_write_file(path, junk, 32, 0600), 0);
	rekey(h, NULL, 1, &r);
	assert_non_null(strstr(r.err, "neither"));
	assert_non_null(
	    strstr(r.err, "Put the key the store is sealed under back"));
	assert_int_equal(rename(moved, path), 0);
	rekey(h, NULL, 0, &r);
	assert_non_null(strstr(r.err, "finishing that"));
	assert_int_equal(h_start(h, ret_serve_args), 0);
	expect_same(h, &s);
}

/*
 * PostgreSQL: a second node, its data directory copied from the first
 * before the rekey (so with the old master.key, and DIR/store naming the
 * same database), is refused when started after the rekey, and its
 * attempt changes nothing; with the new master.key copied in, it serves
 * the same store. On LMDB a copied directory is a store of its own, not
 * a second node: nothing to test there.
 */
static void
test_rekey_second_node(void **state)
{
	harness *h = *state, *b;
	char path[H_PATH_MAX + 64], oldname[256];
	uint8_t *key;
	size_t len;
	h_result r;
	seen s;

	if (!h_store_pg()) {
		print_message("skipped: on LMDB a copied data directory is "
		              "another store, not a second node\n");
		skip();
	}
	populate(h, &s);
	stop_clean(h);
	assert_non_null(b = h_new());
	assert_int_equal(h_node_copy(h, b), 0);

	/* the rekey on the first node; the second still has the old key */
	rekey(h, NULL, 0, &r);
	serve_refused(b, "do not open with", &r);
	assert_non_null(strstr(r.err, "run it again"));

	/* its attempt changed nothing: the first node serves as before */
	assert_int_equal(h_start(h, ret_serve_args), 0);
	expect_same(h, &s);
	assert_int_equal(rekey_events(h), 1);

	/* the procedure: the new master.key copied to the second node */
	assert_non_null(key = read_key(h, "master.key", &len));
	assert_int_equal(len, 32);
	snprintf(path, sizeof(path), "%s/master.key", b->data_dir);
	assert_int_equal(h_write_file(path, key, len, 0600), 0);
	free(key);
	assert_int_equal(old_keys(b, oldname, sizeof(oldname)), 0);
	/* the nodes share the test clock, as real nodes share the time */
	assert_int_equal(h_clock_set(b, h->clock_offset_s), 0);
	if (h_start(b, ret_serve_args) != 0) {
		h_dump_log(b, 30);
		fail_msg("the second node does not start with the new key");
	}
	expect_hold(b);
	expect_get(b, "crm", CUST, CR, "bob", PRIVD_EDENIED, R_RESTRICTED);
	assert_int_equal(rekey_events(b), 1);
	h_destroy(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_rekey_with_clients, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rekey_interrupted, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_rekey_second_node, ret_setup_example, h_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
