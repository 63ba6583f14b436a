/*
 * test_store.c - a real privd stores, returns and deletes data, keeps it
 * across restarts, and refuses what the policy does not declare. What it
 * keeps on disk is test_datadir.c's.
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

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define REG     "customers"
#define PURPOSE "invoicing"

static void
assert_not_found(
    privd_client *c, const char *subject, const char *const *names, size_t n)
{
	privd_record *rec = NULL;

	assert_int_equal(privd_get(c, REG, subject, PURPOSE, names, n, &rec),
	    PRIVD_ENOTFOUND);
	assert_null(rec);
}

static void
test_put_get_single_field(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Matti Meikäläinen")};
	const char *names[] = {"name"};
	privd_record *rec;

	put_ok(c, "cust-1", f, 1);
	rec = get_ok(c, "cust-1", names, 1);
	assert_int_equal(rec->nfields, 1);
	assert_field_str(rec, "name", "Matti Meikäläinen");
	privd_record_free(&rec);
	assert_null(rec);
	privd_close(&c);
	assert_null(c);
}

static void
test_put_get_several_fields(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Maija Virtanen"),
	    h_field("email", "maija.virtanen@example.fi"),
	    h_field("notes", "Prefers paper invoices.")};
	const char *names[] = {"name", "email", "notes"};
	privd_record *rec;

	put_ok(c, "cust-2", f, 3);
	rec = get_ok(c, "cust-2", names, 3);
	assert_int_equal(rec->nfields, 3);
	assert_field_str(rec, "name", "Maija Virtanen");
	assert_field_str(rec, "email", "maija.virtanen@example.fi");
	assert_field_str(rec, "notes", "Prefers paper invoices.");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_get_named_fields(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Liisa Korhonen"),
	    h_field("email", "liisa@example.fi"), h_field("notes", "VIP")};
	const char *two[] = {"email", "notes"};
	const char *with_unstored[] = {"name", "blob"};
	privd_record *rec;

	put_ok(c, "cust-3", f, 3);

	rec = get_ok(c, "cust-3", two, 2);
	assert_int_equal(rec->nfields, 2);
	assert_field_str(rec, "email", "liisa@example.fi");
	assert_field_str(rec, "notes", "VIP");
	assert_null(privd_record_field(rec, "name"));
	privd_record_free(&rec);

	/* A named field that is not stored is simply absent. */
	rec = get_ok(c, "cust-3", with_unstored, 2);
	assert_int_equal(rec->nfields, 1);
	assert_field_str(rec, "name", "Liisa Korhonen");
	assert_null(privd_record_field(rec, "blob"));
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_get_all_fields(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	static const uint8_t blob[] = {0xde, 0xad, 0xbe, 0xef};
	privd_field f[] = {h_field("name", "Pekka Nieminen"),
	    h_field("email", "pekka@example.fi"),
	    h_field("notes", "Met at fair"), {"blob", blob, sizeof(blob)}};
	privd_record *rec;

	put_ok(c, "cust-4", f, 4);
	rec = get_ok(c, "cust-4", NULL, 0);
	assert_int_equal(rec->nfields, 4);
	assert_field_str(rec, "name", "Pekka Nieminen");
	assert_field_str(rec, "email", "pekka@example.fi");
	assert_field_str(rec, "notes", "Met at fair");
	assert_field(rec, "blob", blob, sizeof(blob));
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_put_replaces_only_named_fields(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field first[] = {
	    h_field("name", "Old Name"), h_field("email", "keep@example.fi")};
	privd_field second[] = {h_field("name", "New Name")};
	privd_record *rec;

	put_ok(c, "cust-5", first, 2);
	put_ok(c, "cust-5", second, 1);
	rec = get_ok(c, "cust-5", NULL, 0);
	assert_int_equal(rec->nfields, 2);
	assert_field_str(rec, "name", "New Name");
	assert_field_str(rec, "email", "keep@example.fi");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_delete_one_field_then_get(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Anna Laine"),
	    h_field("email", "anna@example.fi"), h_field("notes", "n")};
	const char *del[] = {"email"};
	uint32_t deleted = 99;
	privd_record *rec;

	put_ok(c, "cust-6", f, 3);
	assert_int_equal(
	    privd_delete(c, REG, "cust-6", PURPOSE, del, 1, &deleted),
	    PRIVD_OK);
	assert_int_equal(deleted, 1);

	rec = get_ok(c, "cust-6", NULL, 0);
	assert_int_equal(rec->nfields, 2);
	assert_null(privd_record_field(rec, "email"));
	assert_field_str(rec, "name", "Anna Laine");
	assert_field_str(rec, "notes", "n");
	privd_record_free(&rec);

	/* The subject still exists; the deleted field is just absent. */
	rec = get_ok(c, "cust-6", del, 1);
	assert_int_equal(rec->nfields, 0);
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_delete_subject_then_not_found(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Erkki Esimerkki"),
	    h_field("email", "erkki@example.fi")};
	const char *names[] = {"name"};
	uint32_t deleted = 99;

	put_ok(c, "cust-7", f, 2);
	assert_int_equal(
	    privd_delete(c, REG, "cust-7", PURPOSE, NULL, 0, &deleted),
	    PRIVD_OK);
	assert_int_equal(deleted, 2);

	assert_not_found(c, "cust-7", NULL, 0);
	assert_not_found(c, "cust-7", names, 1);
	assert_int_equal(privd_delete(c, REG, "cust-7", PURPOSE, NULL, 0, NULL),
	    PRIVD_ENOTFOUND);
	privd_close(&c);
}

static void
test_get_unknown_subject_not_found(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");

	assert_not_found(c, "never-written", NULL, 0);
	privd_close(&c);
}

static void
test_data_survives_restart(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	char subject[32], name[32];
	privd_record *rec;

	for (int i = 0; i < 20; i++) {
		snprintf(subject, sizeof(subject), "persist-%d", i);
		snprintf(name, sizeof(name), "Person %d", i);
		privd_field f[] = {h_field("name", name)};
		put_ok(c, subject, f, 1);
	}
	privd_close(&c);

	assert_int_equal(h_restart(h), 0);

	c = client(h, "svc");
	for (int i = 0; i < 20; i++) {
		snprintf(subject, sizeof(subject), "persist-%d", i);
		snprintf(name, sizeof(name), "Person %d", i);
		rec = get_ok(c, subject, NULL, 0);
		assert_int_equal(rec->nfields, 1);
		assert_field_str(rec, "name", name);
		privd_record_free(&rec);
	}
	privd_close(&c);
}

static void
test_client_reconnects_after_restart(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	int rc;

	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	assert_int_equal(h_restart(h), 0);
	/* client.h: "the next call works again once privd is back". */
	rc = privd_ping(c, NULL);
	if (rc != PRIVD_OK)
		fail_msg("ping on the old handle after restart: %s",
		    privd_strerror(rc));
	privd_close(&c);
}

/*
 * While privd is down, every call ends by its deadline with UNAVAILABLE or
 * TIMEOUT instead of hanging; once privd is back, the same handle works,
 * and a request that failed while it was down was not carried out later.
 */
static void
test_client_deadline_while_privd_down(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_record *r = NULL;
	privd_field f = h_field("name", "Written While Down");
	int64_t t0, took;
	int rc, i;

	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	privd_set_timeout(c, 500);
	for (i = 0; i < 3; i++) {
		t0 = h_now_ms();
		rc = i == 0 ? privd_put(c, REG, "down-1", PURPOSE, &f, 1)
		            : privd_get(c, REG, "down-1", PURPOSE, NULL, 0, &r);
		took = h_now_ms() - t0;
		if (rc != PRIVD_EUNAVAILABLE && rc != PRIVD_ETIMEOUT)
			fail_msg("call %d while privd is down: %s", i,
			    privd_strerror(rc));
		if (took > 1500)
			fail_msg("call %d took %lld ms with a 500 ms deadline",
			    i, (long long)took);
	}
	assert_int_equal(h_start(h, NULL), 0);
	privd_set_timeout(c, 5000);
	assert_int_equal(privd_ping(c, NULL), PRIVD_OK);
	/* the put that failed was not queued and sent behind our back */
	assert_int_equal(
	    privd_get(c, REG, "down-1", PURPOSE, NULL, 0, &r), PRIVD_ENOTFOUND);
	privd_close(&c);
}
static void
test_unknown_register_denied(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Someone")};
	privd_record *rec = NULL;

	assert_int_equal(
	    privd_put(c, "suppliers", "sup-1", PURPOSE, f, 1), PRIVD_EDENIED);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_REGISTER);
	assert_string_equal(
	    privd_reason_name(privd_reason(c)), "unknown_register");

	assert_int_equal(
	    privd_get(c, "suppliers", "sup-1", PURPOSE, NULL, 0, &rec),
	    PRIVD_EDENIED);
	assert_null(rec);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_REGISTER);
	privd_close(&c);
}

static void
test_unknown_field_denied(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {
	    h_field("name", "Partly Known"), h_field("shoe_size", "42")};
	const char *names[] = {"shoe_size"};
	privd_record *rec = NULL;

	assert_int_equal(
	    privd_put(c, REG, "cust-uf", PURPOSE, f, 2), PRIVD_EDENIED);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_FIELD);
	assert_string_equal(
	    privd_reason_name(privd_reason(c)), "unknown_field");
	/* All or nothing: the known field was not written either. */
	assert_not_found(c, "cust-uf", NULL, 0);

	put_ok(c, "cust-uf", f, 1);
	assert_int_equal(privd_get(c, REG, "cust-uf", PURPOSE, names, 1, &rec),
	    PRIVD_EDENIED);
	assert_null(rec);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_UNKNOWN_FIELD);
	privd_close(&c);
}

static void
test_ungranted_purpose_denied(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field f[] = {h_field("name", "Not For Marketing")};

	/* "marketing" is declared by the register but not granted to svc. */
	assert_int_equal(
	    privd_put(c, REG, "cust-mk", "marketing", f, 1), PRIVD_EDENIED);
	assert_int_equal(
	    privd_reason(c), PRIVD__V1__DENY_REASON__DENY_NO_GRANT);
	assert_not_found(c, "cust-mk", NULL, 0);
	privd_close(&c);
}

static void
test_invalid_value_stores_nothing(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	privd_field bad[] = {
	    h_field("name", "New Name"), h_field("email", "not-an-email")};
	privd_field old[] = {h_field("name", "Old Name")};
	privd_record *rec;

	/* A new subject: nothing at all is created. The error names the
	 * field and the rule, never the value or the subject id. */
	assert_int_equal(
	    privd_put(c, REG, "cust-inv", PURPOSE, bad, 2), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "email"));
	assert_non_null(strstr(privd_errmsg(c), "not an email address"));
	assert_null(strstr(privd_errmsg(c), "not-an-email"));
	assert_null(strstr(privd_errmsg(c), "cust-inv"));
	assert_not_found(c, "cust-inv", NULL, 0);

	/* A Finnish identity code in free text is refused the same way. */
	bad[1] = h_field("notes", "asiakkaan hetu on 131052-308T.");
	assert_int_equal(
	    privd_put(c, REG, "cust-inv", PURPOSE, bad, 2), PRIVD_EINVAL);
	assert_non_null(strstr(privd_errmsg(c), "identity code"));
	assert_null(strstr(privd_errmsg(c), "131052"));
	assert_not_found(c, "cust-inv", NULL, 0);
	bad[1] = h_field("email", "not-an-email");

	/* An existing subject: the valid field in the same put is not
	 * written either. */
	put_ok(c, "cust-inv", old, 1);
	assert_int_equal(
	    privd_put(c, REG, "cust-inv", PURPOSE, bad, 2), PRIVD_EINVAL);
	rec = get_ok(c, "cust-inv", NULL, 0);
	assert_int_equal(rec->nfields, 1);
	assert_field_str(rec, "name", "Old Name");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_bytes_field_binary_safe(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	uint8_t v[260];
	privd_record *rec;
	const char *names[] = {"blob"};

	/* NULs first, last and in the middle, and every byte value. */
	v[0] = 0;
	v[1] = 0;
	for (int i = 0; i < 256; i++)
		v[2 + i] = (uint8_t)i;
	v[258] = 0xff;
	v[259] = 0;
	privd_field f[] = {{"blob", v, sizeof(v)}};

	put_ok(c, "cust-bin", f, 1);
	rec = get_ok(c, "cust-bin", names, 1);
	assert_int_equal(rec->nfields, 1);
	assert_field(rec, "blob", v, sizeof(v));
	privd_record_free(&rec);
	privd_close(&c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup_default, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_put_get_single_field),
	    T(test_put_get_several_fields),
	    T(test_get_named_fields),
	    T(test_get_all_fields),
	    T(test_put_replaces_only_named_fields),
	    T(test_delete_one_field_then_get),
	    T(test_delete_subject_then_not_found),
	    T(test_get_unknown_subject_not_found),
	    T(test_data_survives_restart),
	    T(test_client_reconnects_after_restart),
	    T(test_client_deadline_while_privd_down),
	    T(test_unknown_register_denied),
	    T(test_unknown_field_denied),
	    T(test_ungranted_purpose_denied),
	    T(test_invalid_value_stores_nothing),
	    T(test_bytes_field_binary_safe),
	};

	return cmocka_run_group_tests_name(
	    "integration/store", tests, NULL, NULL);
}
