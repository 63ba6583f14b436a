/*
 * checks.c - cmocka assertions shared by the integration tests (see
 * checks.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"

privd_client *
client(harness *h, const char *name)
{
	privd_client *c = NULL;

	assert_int_equal(h_connect(h, name, &c), PRIVD_OK);
	assert_non_null(c);
	return c;
}

privd_client *
client_as(harness *h, const char *key, const char *server_key, int timeout_ms)
{
	const h_key *k = h_key_get(h, key);
	privd_client *c = NULL;

	assert_non_null(k);
	assert_int_equal(
	    privd_connect(&c, h->endpoint, server_key, k->pub, k->sec),
	    PRIVD_OK);
	privd_set_timeout(c, timeout_ms);
	return c;
}

void
expect_rc(privd_client *c, int rc, int want, const char *what)
{
	if (rc != want)
		fail_msg("%s: expected %s, got %s (%s, reason %s)", what,
		    privd_strerror(want), privd_strerror(rc), privd_errmsg(c),
		    privd_reason_name(privd_reason(c)));
}

void
expect_denied(privd_client *c, int rc, int reason, const char *what)
{
	expect_rc(c, rc, PRIVD_EDENIED, what);
	if (privd_reason(c) != reason)
		fail_msg("%s: expected reason %s, got %s (%s)", what,
		    privd_reason_name(reason),
		    privd_reason_name(privd_reason(c)), privd_errmsg(c));
}

void
put1(privd_client *c, const char *reg, const char *subject, const char *purpose,
    const char *field, const char *value)
{
	privd_field f = h_field(field, value);

	expect_rc(
	    c, privd_put(c, reg, subject, purpose, &f, 1), PRIVD_OK, "put");
}

void
put_name(privd_client *c, const char *subject, const char *name)
{
	put1(c, "customers", subject, "invoicing", "name", name);
}

void
assert_field(
    const privd_record *rec, const char *name, const void *v, size_t len)
{
	const privd_field *f = privd_record_field(rec, name);

	if (f == NULL)
		fail_msg("field %s missing from the record", name);
	assert_int_equal(f->len, len);
	assert_memory_equal(f->value, v, len);
	/* client.h: every value is also NUL-terminated. */
	assert_int_equal(f->value[len], '\0');
}

void
assert_field_str(const privd_record *rec, const char *name, const char *v)
{
	assert_field(rec, name, v, strlen(v));
}

void
put_ok(
    privd_client *c, const char *subject, const privd_field *fields, size_t n)
{
	int rc = privd_put(c, "customers", subject, "invoicing", fields, n);

	if (rc != PRIVD_OK)
		fail_msg("put: %s (%s)", privd_strerror(rc), privd_errmsg(c));
}

privd_record *
get_ok(privd_client *c, const char *subject, const char *const *names, size_t n)
{
	privd_record *rec = NULL;
	int rc =
	    privd_get(c, "customers", subject, "invoicing", names, n, &rec);

	if (rc != PRIVD_OK)
		fail_msg("get: %s (%s)", privd_strerror(rc), privd_errmsg(c));
	assert_non_null(rec);
	return rec;
}

int
exit_status(const h_result *res)
{
	return WIFEXITED(res->wstatus) ? WEXITSTATUS(res->wstatus) : -1;
}

void
expect_exit(const h_result *r, int code, const char *what)
{
	if (r->timed_out || !WIFEXITED(r->wstatus) ||
	    WEXITSTATUS(r->wstatus) != code)
		fail_msg("%s: expected exit %d, got wait status %d%s\n"
		         "stdout: %s\nstderr: %s",
		    what, code, r->wstatus, r->timed_out ? " (timed out)" : "",
		    r->out, r->err);
}

void
privctl_expect(harness *h, const char *key, const char *const *args,
    h_result *r, int code, const char *what)
{
	assert_int_equal(h_privctl(h, key, NULL, args, H_RUN_TIMEOUT_MS, r), 0);
	expect_exit(r, code, what);
}

void
run_expect(harness *h, const char *const *argv, h_result *r, int code,
    const char *what)
{
	assert_int_equal(h_run(h, argv, H_RUN_TIMEOUT_MS, r), 0);
	expect_exit(r, code, what);
}

void
stop_clean(harness *h)
{
	int st = -1;

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, &st), 0);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

void
serve_refused(harness *h, const char *needle, h_result *res)
{
	const char *args[] = {
	    "serve", "--data-dir", h->data_dir, "--listen", h->endpoint, NULL};
	h_result local;

	if (res == NULL)
		res = &local;
	assert_int_equal(h_run_privd(h, args, H_RUN_TIMEOUT_MS, res), 0);
	if (res->timed_out)
		fail_msg("privd serve started instead of refusing (%s)",
		    needle != NULL ? needle : "");
	assert_true(WIFEXITED(res->wstatus));
	assert_int_equal(WEXITSTATUS(res->wstatus), 1);
	assert_true(strlen(res->err) > 0);
	if (needle != NULL && strstr(res->err, needle) == NULL)
		fail_msg("no \"%s\" in: %s", needle, res->err);
}

char *
policy_text(harness *h, const char *tmpl)
{
	uint8_t *buf = NULL;
	size_t len;

	assert_int_equal(h_policy_write(h, tmpl), 0);
	assert_int_equal(h_read_file(h->policy, &buf, &len), 0);
	return (char *)buf;
}

char *
policy_file(
    harness *h, const char *tmpl, const char *name, char *path, size_t size)
{
	char *text = policy_text(h, tmpl);

	snprintf(path, size, "%s/%s", h->root, name);
	assert_int_equal(h_write_file(path, text, strlen(text), 0644), 0);
	return text;
}

uint64_t
policy_in_force(privd_client *admin)
{
	privd_policy_version v;

	expect_rc(
	    admin, privd_policy_get(admin, &v, NULL), PRIVD_OK, "policy get");
	return v.version;
}

Privd__V1__Response *
raw_call(harness *h, const char *key, Privd__V1__Request *req)
{
	static uint64_t next_id = 5000;
	Privd__V1__Response *resp;
	h_dealer d;

	req->request_id = next_id++;
	assert_int_equal(h_dealer_open(h, key, NULL, false, &d), 0);
	resp = h_dealer_call(&d, req, RAW_CALL_TIMEOUT_MS);
	h_dealer_close(&d);
	if (resp == NULL)
		fail_msg("no answer from privd");
	return resp;
}
