/*
 * test_datadir.c - what privd keeps in its data directory: no value or
 * subject id in plaintext, on disk or in its log; the layout privd init
 * makes, and no second init over it; privd serve refuses a master key that
 * others may read, that has the wrong size or is missing, and a second
 * privd serve on the same directory, which leaves the first serving.
 *
 * Every test gets its own temporary directory and privd (h_setup_default).
 */
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

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define REG     "customers"
#define PURPOSE "invoicing"

/* Distinctive values that must never appear in plaintext. */
#define CANARY_SUBJECT "subj-CANARY-93f1c0d7"
#define CANARY_NAME    "Zyxwvut Canarysson"
#define CANARY_EMAIL   "canary.q7w3x9@example.org"
#define CANARY_NOTES   "CANARY-NOTES-5d1e8f2a is a distinctive note"
static const uint8_t canary_blob[] = {'B', 'L', 'O', 'B', 0x00, 0x17, 0x42,
    0x99, 'c', 'a', 'n', 'a', 'r', 'y', 0x00, 0x7f};

static const h_needle canaries[] = {
    {CANARY_SUBJECT, sizeof(CANARY_SUBJECT) - 1, "subject id"},
    {CANARY_NAME, sizeof(CANARY_NAME) - 1, "name value"},
    {CANARY_EMAIL, sizeof(CANARY_EMAIL) - 1, "email value"},
    {CANARY_NOTES, sizeof(CANARY_NOTES) - 1, "notes value"},
    {canary_blob, sizeof(canary_blob), "blob value"},
};

static void
put_canaries(harness *h)
{
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", CANARY_NAME),
	    h_field("email", CANARY_EMAIL), h_field("notes", CANARY_NOTES),
	    {"blob", canary_blob, sizeof(canary_blob)}};
	privd_record *rec;

	put_ok(c, CANARY_SUBJECT, f, 4);
	/* Read it back so the test knows privd really has it. */
	rec = get_ok(c, CANARY_SUBJECT, NULL, 0);
	assert_int_equal(rec->nfields, 4);
	assert_field_str(rec, "email", CANARY_EMAIL);
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_no_plaintext_on_disk(void **state)
{
	harness *h = *state;

	put_canaries(h);
	stop_clean(h);
	assert_int_equal(h_scan_dir(h->data_dir, canaries,
	                     sizeof(canaries) / sizeof(canaries[0])),
	    0);
}

static void
test_no_plaintext_in_log(void **state)
{
	harness *h = *state;
	privd_client *c;
	privd_field bad[] = {h_field("email", "not-an-email")};
	privd_field unknown[] = {h_field("shoe_size", "42")};
	const char *unknown_name[] = {"shoe_size"};
	privd_record *rec = NULL;

	put_canaries(h);
	/* Refused requests name the subject too: they must not log it. */
	c = client(h, "svc");
	assert_int_equal(
	    privd_put(c, REG, CANARY_SUBJECT, PURPOSE, bad, 1), PRIVD_EINVAL);
	assert_int_equal(privd_put(c, REG, CANARY_SUBJECT, PURPOSE, unknown, 1),
	    PRIVD_EDENIED);
	assert_int_equal(
	    privd_get(c, REG, CANARY_SUBJECT, PURPOSE, unknown_name, 1, &rec),
	    PRIVD_EDENIED);
	assert_int_equal(
	    privd_delete(c, REG, CANARY_SUBJECT, PURPOSE, NULL, 0, NULL),
	    PRIVD_OK);
	privd_close(&c);
	stop_clean(h);
	assert_int_equal(h_scan_file(h->log, canaries,
	                     sizeof(canaries) / sizeof(canaries[0])),
	    0);
}

static void
test_init_layout(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 32];
	struct stat st;
	uint8_t *buf;
	size_t len;

	assert_int_equal(stat(h->data_dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);

	snprintf(path, sizeof(path), "%s/master.key", h->data_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 32);
	assert_int_equal(st.st_mode & 07777, 0600);

	snprintf(path, sizeof(path), "%s/data.mdb", h->data_dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/lock.mdb", h->data_dir);
	assert_int_equal(stat(path, &st), 0);

	snprintf(path, sizeof(path), "%s/server.pub", h->data_dir);
	assert_int_equal(h_read_file(path, &buf, &len), 0);
	assert_true(len >= PRIVD_KEY_Z85_LEN - 1);
	assert_memory_equal(buf, h->server_key, PRIVD_KEY_Z85_LEN - 1);
	assert_true(
	    len == PRIVD_KEY_Z85_LEN - 1 || buf[PRIVD_KEY_Z85_LEN - 1] == '\n');
	free(buf);
}

static void
test_init_refuses_existing_store(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Before Reinit")};
	char key_path[H_PATH_MAX + 32], pub_path[H_PATH_MAX + 32];
	uint8_t *key0, *key1, *pub0, *pub1;
	size_t key0_len, key1_len, pub0_len, pub1_len;
	privd_record *rec;
	h_result res;

	put_ok(c, "kept", f, 1);
	privd_close(&c);
	stop_clean(h);

	snprintf(key_path, sizeof(key_path), "%s/master.key", h->data_dir);
	snprintf(pub_path, sizeof(pub_path), "%s/server.pub", h->data_dir);
	assert_int_equal(h_read_file(key_path, &key0, &key0_len), 0);
	assert_int_equal(h_read_file(pub_path, &pub0, &pub0_len), 0);

	{
		const char *args[] = {"init", "--data-dir", h->data_dir,
		    "--policy", h->policy, NULL};
		assert_int_equal(
		    h_run_privd(h, args, H_RUN_TIMEOUT_MS, &res), 0);
	}
	assert_false(res.timed_out);
	assert_true(WIFEXITED(res.wstatus));
	assert_int_equal(WEXITSTATUS(res.wstatus), 1);
	assert_true(strlen(res.err) > 0);

	/* Nothing was replaced. */
	assert_int_equal(h_read_file(key_path, &key1, &key1_len), 0);
	assert_int_equal(h_read_file(pub_path, &pub1, &pub1_len), 0);
	assert_int_equal(key0_len, key1_len);
	assert_memory_equal(key0, key1, key0_len);
	assert_int_equal(pub0_len, pub1_len);
	assert_memory_equal(pub0, pub1, pub0_len);
	free(key0);
	free(key1);
	free(pub0);
	free(pub1);

	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "svc");
	rec = get_ok(c, "kept", NULL, 0);
	assert_field_str(rec, "name", "Before Reinit");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_serve_refuses_group_readable_key(void **state)
{
	harness *h = *state;
	char key_path[H_PATH_MAX + 32];

	stop_clean(h);
	snprintf(key_path, sizeof(key_path), "%s/master.key", h->data_dir);
	assert_int_equal(chmod(key_path, 0640), 0);
	serve_refused(h, NULL, NULL);
	/* The mode was the only problem. */
	assert_int_equal(chmod(key_path, 0600), 0);
	assert_int_equal(h_start(h, NULL), 0);
}

static void
test_serve_refuses_wrong_size_key(void **state)
{
	harness *h = *state;
	char key_path[H_PATH_MAX + 32];
	uint8_t *key, longer[33];
	size_t len;

	stop_clean(h);
	snprintf(key_path, sizeof(key_path), "%s/master.key", h->data_dir);
	assert_int_equal(h_read_file(key_path, &key, &len), 0);
	assert_int_equal(len, 32);

	memcpy(longer, key, 32);
	longer[32] = 0x5a;
	assert_int_equal(h_write_file(key_path, longer, 33, 0600), 0);
	serve_refused(h, NULL, NULL);

	assert_int_equal(h_write_file(key_path, key, 31, 0600), 0);
	serve_refused(h, NULL, NULL);

	assert_int_equal(h_write_file(key_path, key, 0, 0600), 0);
	serve_refused(h, NULL, NULL);

	assert_int_equal(h_write_file(key_path, key, 32, 0600), 0);
	free(key);
	assert_int_equal(h_start(h, NULL), 0);
}

static void
test_serve_refuses_missing_key(void **state)
{
	harness *h = *state;
	char key_path[H_PATH_MAX + 32], moved[H_PATH_MAX + 32];

	stop_clean(h);
	snprintf(key_path, sizeof(key_path), "%s/master.key", h->data_dir);
	snprintf(moved, sizeof(moved), "%s/master.key.moved", h->root);
	assert_int_equal(rename(key_path, moved), 0);
	serve_refused(h, NULL, NULL);
	assert_int_equal(rename(moved, key_path), 0);
	assert_int_equal(h_start(h, NULL), 0);
}

static void
test_second_serve_refused_first_keeps_serving(void **state)
{
	harness *h = *state;
	const char *args[] = {
	    "serve", "--data-dir", h->data_dir, "--listen", h->endpoint, NULL};
	privd_field f[] = {h_field("name", "Still Served")};
	privd_client *c;
	privd_record *rec;
	h_result res;

	assert_int_equal(h_run_privd(h, args, H_RUN_TIMEOUT_MS, &res), 0);
	if (res.timed_out)
		fail_msg("a second privd serve ran on the same data dir");
	assert_true(WIFEXITED(res.wstatus));
	assert_int_not_equal(WEXITSTATUS(res.wstatus), 0);

	assert_true(h_running(h));
	/* A new connection: the second instance must not have taken over or
	 * removed the first one's socket. */
	c = client(h, "svc");
	put_ok(c, "after-second", f, 1);
	rec = get_ok(c, "after-second", NULL, 0);
	assert_field_str(rec, "name", "Still Served");
	privd_record_free(&rec);
	privd_close(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup_default, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_no_plaintext_on_disk),
	    T(test_no_plaintext_in_log),
	    T(test_init_layout),
	    T(test_init_refuses_existing_store),
	    T(test_serve_refuses_group_readable_key),
	    T(test_serve_refuses_wrong_size_key),
	    T(test_serve_refuses_missing_key),
	    T(test_second_serve_refused_first_keeps_serving),
	};

	return cmocka_run_group_tests_name(
	    "integration/datadir", tests, NULL, NULL);
}
