/*
 * test_policy_example.c - the example policy shipped with privd
 * (policy/examples/aktiivitieto.json) under a real privd: it starts with
 * it, its out-of-EEA support contractor is denied by region, and its dpo
 * administers the policy.
 *
 * The test makes its own privd, with a key for each of the example's
 * principals in place of the example's keys.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

/* privd.v1.DenyReason value the test expects. */
#define R_REGION 8

/*
 * Where policy/examples/aktiivitieto.json is: $POLICY_EXAMPLE, else found
 * from this file's path, which meson gives relative to the build directory
 * (three levels above this executable).
 */
static void
example_path(char *out, size_t size)
{
	const char *env = getenv("POLICY_EXAMPLE");
	char exe[PATH_MAX], src[2 * PATH_MAX], *slash;
	ssize_t n;
	int i;

	if (env != NULL) {
		snprintf(out, size, "%s", env);
		return;
	}
	if (__FILE__[0] == '/')
		snprintf(src, sizeof(src), "%s", __FILE__);
	else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		assert_true(n > 0);
		exe[n] = '\0';
		for (i = 0; i < 3; i++) /* executable, integration, tests */
			if ((slash = strrchr(exe, '/')) != NULL)
				*slash = '\0';
		snprintf(src, sizeof(src), "%s/%s", exe, __FILE__);
	}
	for (i = 0; i < 3; i++) /* this file, integration, tests */
		if ((slash = strrchr(src, '/')) != NULL)
			*slash = '\0';
	if ((size_t)snprintf(
	        out, size, "%s/policy/examples/aktiivitieto.json", src) >= size)
		fail_msg("path of the example policy is too long");
}

/*
 * Turn every principal's "key": "<Z85>" of the example into "@KEY:name@",
 * name being the principal the key belongs to (the key is the first member
 * of each principal's object). Returns the count of keys replaced.
 */
static size_t
example_template(const char *doc, char *out, size_t size)
{
	const char *p = doc, *k, *q, *name_end, *name;
	size_t used = 0, count = 0;
	int n;

	while ((k = strstr(p, "\"key\"")) != NULL) {
		/* back from "key" over '{', ':' to the principal's name */
		for (q = k - 1; q > doc && strchr(" \t\r\n", *q); q--)
			;
		assert_true(*q == '{');
		for (q--; q > doc && strchr(" \t\r\n", *q); q--)
			;
		assert_true(*q == ':');
		for (q--; q > doc && strchr(" \t\r\n", *q); q--)
			;
		assert_true(*q == '"');
		name_end = q;
		for (name = q - 1; name > doc && name[-1] != '"'; name--)
			;
		/* forward to the key's value: "key" ws : ws "<40 chars>" */
		q = k + 5 + strspn(k + 5, " \t");
		assert_true(*q == ':');
		q++;
		q += strspn(q, " \t");
		assert_true(*q == '"' && q[41] == '"');
		n = snprintf(out + used, size - used, "%.*s\"@KEY:%.*s@\"",
		    (int)(q - p), p, (int)(name_end - name), name);
		assert_true(n >= 0 && (size_t)n < size - used);
		used += (size_t)n;
		p = q + 42;
		count++;
	}
	assert_true(strlen(p) < size - used);
	strcpy(out + used, p);
	return count;
}

/* The example's own out-of-EEA contractor, under the example's rules. */
static void
test_example_support_contractor_denied_by_region(void **state)
{
	static const char *const names[] = {"crm", "billing", "reporting",
	    "acis", "auditor", "dpo", "support_contractor"};
	char path[PATH_MAX], *tmpl;
	privd_client *acis = NULL, *ctr = NULL, *dpo = NULL;
	privd_field f[] = {h_field("feedback_score", "9")};
	privd_record *rec = NULL;
	privd_policy_version v;
	uint8_t *doc = NULL;
	size_t len, i;
	harness *h;

	(void)state;
	example_path(path, sizeof(path));
	if (h_read_file(path, &doc, &len) != 0)
		fail_msg("cannot read %s (set POLICY_EXAMPLE)", path);
	assert_non_null(tmpl = malloc(len + 7 * 64 + 1));
	assert_int_equal(
	    example_template((char *)doc, tmpl, len + 7 * 64 + 1), 7);
	free(doc);

	assert_non_null(h = h_new());
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_non_null(h_key_new(h, names[i]));
	if (h_policy_write(h, tmpl) != 0 || h_init(h, NULL) != 0 ||
	    h_start(h, NULL) != 0) {
		h_dump_log(h, 40);
		h_destroy(&h);
		fail_msg("privd did not start with the example policy");
	}
	free(tmpl);

	assert_int_equal(h_connect(h, "acis", &acis), PRIVD_OK);
	assert_int_equal(h_connect(h, "support_contractor", &ctr), PRIVD_OK);
	expect_rc(acis, privd_put(acis, "acis", "r-1", "cx_management", f, 1),
	    PRIVD_OK, "acis put");
	expect_denied(ctr,
	    privd_get(ctr, "acis", "r-1", "cx_management", NULL, 0, &rec),
	    R_REGION, "support_contractor get");
	assert_null(rec);

	/* the example's dpo administers the policy */
	assert_int_equal(h_connect(h, "dpo", &dpo), PRIVD_OK);
	expect_rc(dpo, privd_policy_get(dpo, &v, NULL), PRIVD_OK, "dpo get");
	assert_int_equal(v.version, 1);

	privd_close(&dpo);
	privd_close(&ctr);
	privd_close(&acis);
	h_stop(h, H_STOP_TIMEOUT_MS, NULL);
	h_destroy(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_example_support_contractor_denied_by_region),
	};

	return cmocka_run_group_tests_name(
	    "integration/policy_example", tests, NULL, NULL);
}
