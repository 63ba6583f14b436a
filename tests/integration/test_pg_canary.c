/*
 * test_pg_canary.c - PostgreSQL never sees a value, a subject id or a
 * lookup value (issue 12, Tests, second bullet).
 *
 * The workload of the rights canary test (test_rights_canary.c) under the
 * example policy, on privd's PostgreSQL store: a person in both registers
 * with distinctive values, lookups by email and phone, restriction and
 * objection, an erasure, a person who keeps billing_details, a lookup and
 * an erasure of people never stored. Then every table of the database is
 * dumped with pg_dump (plain SQL: a bytea is written as hex) and searched,
 * with the server's log (log_statement = all for this database, so every
 * statement and its parameters are there) and privd's log, for every
 * canary value, subject id and lookup value, as text and as hex, and also
 * the forms privd normalises a lookup value to. None may be found; the
 * dump must hold privd's tables and the log privd's statements (so the
 * search looked where the data is).
 *
 * Runs only on the test setup "pg" (PRIVD_TEST_STORE=postgresql); on
 * LMDB, test_rights_canary searches the files.
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

#include "retention_views.h"
#include "rights_common.h"

#define SUBJ_ERASED  "subj-PGCANARY-ERASED-7c1e40"
#define SUBJ_KEPT    "subj-PGCANARY-KEPT-19b3a2"
#define SUBJ_UNKNOWN "subj-PGCANARY-UNKNOWN-e05d77"

#define C_NAME     "Wilhelmiina Pgcanarylund"
#define C_EMAIL    "Wilhelmiina.Q7z4@Example.fi"
#define C_EMAIL_LC "wilhelmiina.q7z4@example.fi"
#define C_PHONE    "+358 40 555 0199"
#define C_PHONE_D  "358405550199"
#define C_ORG      "PGCANARY-ORG-5a1f Oy"
#define C_POSITION "PGCANARY-POSITION-c03e head of tasting"
#define C_FEEDBACK "PGCANARY-FEEDBACK-e7d2 the tea was cold"
#define C_BILL     "PGCANARY-BILL-61fa0b e-invoice 003798765432"
#define A_NAME     "Wilhelmiina Pgcanarylund-Acis"
#define A_EMAIL    "wilhelmiina.acis.r5t1@example.fi"
#define A_FEEDBACK "PGCANARY-ACIS-FEEDBACK-3b77 slow replies"
#define K_NAME     "PGCANARY-Kept Person-0d9e"
#define K_BILL     "PGCANARY-KEPT-BILL-a8c4d1 net 14"
#define U_EMAIL    "nobody.pgcanary.x1@example.fi"

static const char *const canaries[][2] = {
    {SUBJ_ERASED, "subject id (erased)"},
    {SUBJ_KEPT, "subject id (kept)"},
    {SUBJ_UNKNOWN, "subject id (never stored)"},
    {C_NAME, "name"},
    {C_EMAIL, "email (lookup value)"},
    {C_EMAIL_LC, "email, normalised"},
    {C_PHONE, "phone (lookup value)"},
    {C_PHONE_D, "phone, digits"},
    {C_ORG, "organisation"},
    {C_POSITION, "position"},
    {C_FEEDBACK, "feedback_text"},
    {C_BILL, "billing_details"},
    {A_NAME, "name (acis)"},
    {A_EMAIL, "email (acis)"},
    {A_FEEDBACK, "feedback_text (acis)"},
    {K_NAME, "name (kept)"},
    {K_BILL, "billing_details (kept)"},
    {U_EMAIL, "lookup value of nobody"},
};
#define NCANARIES (sizeof(canaries) / sizeof(canaries[0]))

static void
put_canary(harness *h)
{
	privd_client *c = client(h, "crm");
	privd_field cf[] = {h_field("name", C_NAME), h_field("email", C_EMAIL),
	    h_field("phone", C_PHONE), h_field("organisation", C_ORG),
	    h_field("position", C_POSITION),
	    h_field("feedback_text", C_FEEDBACK),
	    h_field("billing_details", C_BILL)};
	privd_field af[] = {h_field("name", A_NAME), h_field("email", A_EMAIL),
	    h_field("feedback_text", A_FEEDBACK),
	    h_field("feedback_score", "2")};
	privd_field kf[] = {
	    h_field("name", K_NAME), h_field("billing_details", K_BILL)};

	expect_rc(
	    c, privd_put(c, CUST, SUBJ_ERASED, CR, cf, 7), PRIVD_OK, "crm put");
	expect_rc(
	    c, privd_put(c, CUST, SUBJ_KEPT, CR, kf, 2), PRIVD_OK, "crm put");
	privd_close(&c);
	c = client(h, "acis");
	expect_rc(c, privd_put(c, ACIS, SUBJ_ERASED, ST_P, af, 4), PRIVD_OK,
	    "acis put");
	privd_close(&c);
}

/* Look field = value up as the rights principal; n matches. */
static void
lookup_n(harness *h, const char *field, const char *value, size_t want)
{
	privd_client *c = client(h, RIGHTS);
	privd_match *m = NULL;
	size_t n = 0;

	expect_rc(c,
	    privd_subject_lookup(c, field, value, strlen(value), &m, &n),
	    PRIVD_OK, "lookup");
	assert_int_equal(n, want);
	privd_matches_free(&m, n);
	privd_close(&c);
}

static void
hex(const char *s, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[(unsigned char)s[i] >> 4];
		out[2 * i + 1] = digits[(unsigned char)s[i] & 15];
	}
	out[2 * n] = '\0';
}

/* pg_dump of the store's database into path (plain SQL). */
static void
dump_db(harness *h, const char *path)
{
	char prog[512];
	const char *argv[] = {
	    prog, "--no-owner", "-f", path, "-d", h->store_spec, NULL};
	h_result res;

	assert_non_null(h_store_bindir());
	snprintf(prog, sizeof(prog), "%s/pg_dump", h_store_bindir());
	assert_int_equal(h_run(h, argv, 60000, &res), 0);
	if (res.timed_out || !WIFEXITED(res.wstatus) ||
	    WEXITSTATUS(res.wstatus) != 0)
		fail_msg("pg_dump failed: %s", res.err);
}

static bool
file_has(const char *path, const char *s)
{
	uint8_t *buf;
	size_t len, n = strlen(s);
	bool found = false;

	assert_int_equal(h_read_file(path, &buf, &len), 0);
	for (size_t i = 0; i + n <= len && !found; i++)
		found = memcmp(buf + i, s, n) == 0;
	free(buf);
	return found;
}

static void
test_nothing_in_the_clear(void **state)
{
	harness *h = *state;
	static const char *const both[] = {ACIS, CUST};
	h_needle nd[2 * NCANARIES];
	static char hexes[NCANARIES][2 * 64 + 1];
	char dump[H_PATH_MAX + 16], log[H_PATH_MAX + 16];
	Privd__V1__Response *r;
	size_t i, n = 0;

	put_canary(h);
	lookup_n(h, "email", C_EMAIL, 1);
	lookup_n(h, "phone", C_PHONE, 1);
	lookup_n(h, "email", U_EMAIL, 0);
	expect_fields(h, "crm", CUST, CR, SUBJ_ERASED,
	    "billing_details,email,feedback_text,name,organisation,phone,"
	    "position");
	restrict_ok(h, ACIS, SUBJ_ERASED, true, true);
	object_ok(h, CUST, SUBJ_ERASED, "marketing", true, true);
	end_rel(h, SUBJ_ERASED, add_months((int64_t)h_clock_us(h), -84));
	r = erase_raw(h, RIGHTS, SUBJ_ERASED, NULL, 0);
	expect_erase_answer(r, ST(OK), both, 2);
	privd__v1__response__free_unpacked(r, NULL);
	r = erase_raw(h, RIGHTS, SUBJ_UNKNOWN, NULL, 0);
	expect_status(r, ST(NOT_FOUND), 0, "erase an unknown subject");
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "crm", CUST, CR, SUBJ_KEPT, "billing_details,name");
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);

	for (i = 0; i < NCANARIES; i++) {
		assert_true(strlen(canaries[i][0]) <= 64);
		hex(canaries[i][0], hexes[i]);
		nd[n++] = (h_needle){
		    canaries[i][0], strlen(canaries[i][0]), canaries[i][1]};
		nd[n++] = (h_needle){hexes[i], strlen(hexes[i]), "as hex"};
	}
	snprintf(dump, sizeof(dump), "%s/pg_dump.sql", h->root);
	dump_db(h, dump);
	snprintf(log, sizeof(log), "%s/server.log", h_store_server_dir());
	/* the search looks where the data is */
	assert_true(file_has(dump, "COPY public.privd_values"));
	assert_true(file_has(dump, "COPY public.privd_audit"));
	assert_true(file_has(log, "privd_values"));
	/* and a bytea's bytes are found as hex: the stored policy (kept as
	 * its JSON text) names the purpose */
	{
		char want[2 * sizeof("\"" CR "\"")];

		hex("\"" CR "\"", want);
		assert_true(file_has(dump, want));
	}
	assert_int_equal(h_scan_file(dump, nd, n), 0);
	assert_int_equal(h_scan_file(log, nd, n), 0);
	assert_int_equal(h_scan_file(h->log, nd, n), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_nothing_in_the_clear, ret_setup_example, h_teardown),
	};

	if (!h_store_pg()) {
		printf("SKIP: a test of the PostgreSQL store (meson test "
		       "--setup pg); on LMDB, rights_canary searches the "
		       "files\n");
		return 77;
	}
	/* every statement of this test's database, with its parameters */
	setenv("PRIVD_TEST_PG_LOG_ALL", "1", 1);
	return cmocka_run_group_tests_name(
	    "integration/pg_canary", tests, NULL, NULL);
}
