/*
 * test_retention_acis.c - the ACIS register of the example policy
 * (policy/examples/aktiivitieto.json) anonymised as the notice says
 * (issue 9): rule anonymize-24m takes every field 24 months after it was
 * collected; the identifying ones (name, email) are dropped, the others
 * (feedback_score, customer_type) go into anonymous records of the
 * register, so that the reporting principal's aggregates for the
 * statistical purpose sales_reporting still count the feedback, with the
 * same count and mean, while no get by the old subject id finds anything
 * and no group smaller than reporting.min_group (5) is shown, nor one
 * whose showing would leave a smaller one as the difference from the
 * total (complementary suppression). The reporting principal's
 * statistical purpose reads aggregates only: its get is refused before
 * and after the anonymisation alike.
 *
 * A real privd on the test clock (time moves with h_clock_set, never by
 * sleeping), sweeping only when asked; the retention requests and
 * Aggregate are spoken raw (retention_common.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retention_views.h"

#define ACIS  "acis"
#define ST_P  "satisfaction_tracking" /* acis's purposes */
#define CXM_P "cx_management"
#define SR_P  "sales_reporting" /* reporting's, statistical */
#define RULE  "anonymize-24m"
#define SCORE "feedback_score"
#define CTYPE "customer_type"
#define FOUR  "customer_type,email,feedback_score,name"

/* acis puts fields of subject (n of them) for satisfaction_tracking. */
static void
put_fields(harness *h, const char *subject, const privd_field *f, size_t n)
{
	privd_client *c = client(h, "acis");

	expect_rc(
	    c, privd_put(c, ACIS, subject, ST_P, f, n), PRIVD_OK, "acis put");
	privd_close(&c);
}

/* A respondent: name and email (identifying), feedback_score and
 * customer_type. */
static void
put_respondent(
    harness *h, const char *subject, const char *score, const char *type)
{
	char name[64], email[64];
	privd_field f[4];

	snprintf(name, sizeof(name), "Vastaaja %s", subject);
	snprintf(email, sizeof(email), "%s@example.fi", subject);
	f[0] = h_field("name", name);
	f[1] = h_field("email", email);
	f[2] = h_field(SCORE, score);
	f[3] = h_field(CTYPE, type);
	put_fields(h, subject, f, 4);
}

/* The reporting principal reads no single subject, live or anonymised:
 * its purpose, sales_reporting, is statistical, so a get of every field
 * it may read, or of feedback_score, is DENIED (no_grant) whatever is
 * stored. */
static void
reporting_refused(harness *h, const char *subject)
{
	static const char *const score[] = {SCORE};
	privd_client *c = client(h, "reporting");
	privd_record *rec = NULL;
	int i;

	for (i = 0; i < 2; i++) {
		expect_denied(c,
		    privd_get(c, ACIS, subject, SR_P, i == 0 ? NULL : score,
		        (size_t)i, &rec),
		    R_NO_GRANT, "reporting get");
		assert_null(rec);
		if (strstr(privd_errmsg(c), "purpose " SR_P " is statistical: "
		                            "it reads aggregates only") == NULL)
			fail_msg("reporting get: %s", privd_errmsg(c));
	}
	privd_close(&c);
}

/* Nobody who may read the register finds subject any more: acis for each
 * of its purposes, all fields or feedback_score by name (the reporting
 * principal, refused as before); a delete finds nothing either. */
static void
gone_for_everyone(harness *h, const char *subject)
{
	static const char *const score[] = {SCORE};
	privd_client *c = client(h, "acis");
	privd_record *rec = NULL;
	Privd__V1__Response *r;

	expect_fields(h, "acis", ACIS, ST_P, subject, "NOT_FOUND");
	expect_fields(h, "acis", ACIS, CXM_P, subject, "NOT_FOUND");
	reporting_refused(h, subject);
	expect_rc(c, privd_get(c, ACIS, subject, ST_P, score, 1, &rec),
	    PRIVD_ENOTFOUND, "get feedback_score of an anonymised subject");
	assert_null(rec);
	privd_close(&c);
	r = del_raw(h, "acis", ACIS, subject, ST_P, NULL, 0);
	expect_status(r, ST(NOT_FOUND), 0, "delete an anonymised subject");
	privd__v1__response__free_unpacked(r, NULL);
}

/* A sweep that must count n fields of s subjects (h held) under
 * anonymize-24m, as an anonymisation, and nothing else; what the preview
 * just before said, and one audit event per subject. */
static void
sweep_anonymises(harness *h, uint64_t n, uint64_t s, uint64_t held)
{
	Privd__V1__Response *pv = preview(h, 0), *r;
	const Privd__V1__RetentionCount *c;
	uint64_t from = audit_head(h) + 1;

	r = sweep(h);
	expect_same_counts(pv, r);
	expect_count(r, ACIS, RULE, n, s, held);
	if ((c = count_of(r, ACIS, RULE)) != NULL)
		assert_string_equal(c->action, "anonymize");
	expect_count(r, ACIS, "contract-end", 0, 0, 0);
	expect_run_events(h, from, r);
	privd__v1__response__free_unpacked(pv, NULL);
	privd__v1__response__free_unpacked(r, NULL);
}

/* The feedback of the 15 respondents by customer type: company 6 (sum
 * 49, 6..10), public 5 (sum 30, 4..8), consumer 4 (sum 21, 2..10): 15,
 * sum 100, 2..10 in all. */
static const struct {
	const char *score, *type;
} people[] = {{"9", "company"}, {"8", "company"}, {"10", "company"},
    {"7", "company"}, {"9", "company"}, {"6", "company"}, {"5", "public"},
    {"7", "public"}, {"6", "public"}, {"8", "public"}, {"4", "public"},
    {"3", "consumer"}, {"10", "consumer"}, {"2", "consumer"},
    {"6", "consumer"}};
#define NPEOPLE (sizeof(people) / sizeof(people[0]))

/*
 * The aggregates of the 15 (and extra, a 16th consumer with score 4): by
 * customer type and over all of them (15, sum 100, 2..10; 16, sum 104).
 * Of the 15, the group of 4 consumers is suppressed (under 5). Showing
 * company (6, sum 49) and public (5, sum 30) beside the total would give
 * the consumers away: 15 - 6 - 5 = 4 records, 100 - 49 - 30 = 21 their
 * sum. So complementary suppression takes the smallest shown group,
 * public, too: 4 + 5 = 9 records hidden, not fewer than 5; company
 * shown, and 15 - 6 = 9 is public and consumer together. With the 16th,
 * 6, 5 and 5: no group under 5, nothing suppressed, all three shown.
 */
static void
expect_feedback(harness *h, bool extra)
{
	Privd__V1__Response *r;

	r = aggregate_ok(h, "reporting", SR_P, ACIS, SCORE, CTYPE);
	if (extra) {
		expect_agg(r, 3, 0, 0, 5, true);
		expect_group(r, "consumer", 5, 25, 2, 10);
		expect_group(r, "public", 5, 30, 4, 8);
	} else {
		/* the group of 4 is suppressed, and public with it */
		expect_agg(r, 1, 2, 9, 5, true);
		assert_null(agg_group(r, "consumer"));
		assert_null(agg_group(r, "public"));
	}
	expect_group(r, "company", 6, 49, 6, 10);
	privd__v1__response__free_unpacked(r, NULL);

	r = aggregate_ok(h, "reporting", SR_P, ACIS, SCORE, NULL);
	expect_agg(r, 1, 0, 0, 5, true);
	if (extra)
		expect_group(r, "", 16, 104, 2, 10);
	else
		expect_group(r, "", 15, 100, 2, 10);
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * Feedback collected 25 months ago: the sweep anonymises every field of
 * the 15 respondents (one retention_anonymize event each, rule
 * anonymize-24m, under the subject's pseudonym); no get by an old subject
 * id finds anything (acis's: NOT_FOUND; the reporting principal's:
 * DENIED, as before the anonymisation, its purpose being statistical);
 * the aggregates are what they were (count, sum, mean, min, max, by
 * customer type and in all), the group of 4 still suppressed; a new live
 * respondent counts with the anonymous records; the anonymous records
 * outlive a restart; the audit log verifies.
 */
static void
test_anonymised_feedback_still_counts(void **state)
{
	harness *h = *state;
	const char *const ops[] = {"retention_anonymize"};
	const char *const rules[] = {RULE};
	const char *const fields[] = {FOUR};
	char subj[NPEOPLE][16];
	Privd__V1__Response *r;
	int64_t t0;
	size_t i;

	t0 = (int64_t)h_clock_us(h);
	for (i = 0; i < NPEOPLE; i++) {
		snprintf(subj[i], sizeof(subj[i]), "resp-%02zu", i);
		put_respondent(h, subj[i], people[i].score, people[i].type);
	}
	expect_feedback(h, false);
	/* nor is a live respondent readable for sales_reporting */
	reporting_refused(h, subj[0]);

	/* a day before 24 months: nothing is due */
	clock_to(h, add_months(t0, 24) - US_PER_DAY);
	r = sweep(h);
	expect_count(r, ACIS, RULE, 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	expect_fields(h, "acis", ACIS, ST_P, subj[0], FOUR);

	clock_to(h, add_months(t0, 25));
	sweep_anonymises(h, 4 * NPEOPLE, NPEOPLE, 0);
	for (i = 0; i < NPEOPLE; i++) {
		gone_for_everyone(h, subj[i]);
		expect_ret_events(h, subj[i], ACIS, 1, ops, rules, fields);
	}
	/* the feedback still counts, as before */
	expect_feedback(h, false);
	/* nothing is left to anonymise */
	r = sweep(h);
	expect_count(r, ACIS, RULE, 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);

	/* live subjects and anonymous records together */
	put_respondent(h, "resp-new", "4", "consumer");
	expect_feedback(h, true);
	ret_restart(h);
	expect_feedback(h, true);
	privctl_verify_ok(h);
}

/*
 * Fields collected at different times fall due apart: name, email and
 * customer_type (collected first) are anonymised at 24 months while the
 * subject keeps feedback_score (collected two months later), which is
 * anonymised in turn two months on; then the subject is gone. The two
 * anonymous records are not linked: the feedback's record has no
 * customer type, so it counts among the records without one.
 */
static void
test_fields_anonymised_apart(void **state)
{
	harness *h = *state;
	const char *const ops[] = {
	    "retention_anonymize", "retention_anonymize"};
	const char *const rules[] = {RULE, RULE};
	const char *const fields[] = {"customer_type,email,name", SCORE};
	static const char *const scores[] = {"1", "5", "3", "4", "2"};
	char subj[5][16], email[64];
	Privd__V1__Response *r;
	int64_t t0;
	size_t i;

	t0 = (int64_t)h_clock_us(h);
	for (i = 0; i < 5; i++) {
		snprintf(subj[i], sizeof(subj[i]), "split-%zu", i);
		snprintf(email, sizeof(email), "%s@example.fi", subj[i]);
		privd_field f[] = {h_field("name", "Vastaaja"),
		    h_field("email", email), h_field(CTYPE, "company")};
		put_fields(h, subj[i], f, 3);
	}
	clock_to(h, add_months(t0, 2));
	for (i = 0; i < 5; i++) {
		privd_field f[] = {h_field(SCORE, scores[i])};
		put_fields(h, subj[i], f, 1);
	}

	clock_to(h, add_months(t0, 25));
	sweep_anonymises(h, 15, 5, 0);
	for (i = 0; i < 5; i++)
		expect_fields(h, "acis", ACIS, ST_P, subj[i], SCORE);
	/* the customer types in anonymous records, the scores live */
	r = aggregate_ok(h, "reporting", SR_P, ACIS, CTYPE, NULL);
	expect_agg(r, 1, 0, 0, 5, false);
	expect_group(r, "", 5, 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	r = aggregate_ok(h, "reporting", SR_P, ACIS, SCORE, CTYPE);
	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, NULL, 5, 15, 1, 5);
	privd__v1__response__free_unpacked(r, NULL);

	clock_to(h, add_months(t0, 27));
	sweep_anonymises(h, 5, 5, 0);
	for (i = 0; i < 5; i++) {
		gone_for_everyone(h, subj[i]);
		expect_ret_events(h, subj[i], ACIS, 2, ops, rules, fields);
	}
	r = aggregate_ok(h, "reporting", SR_P, ACIS, SCORE, CTYPE);
	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, NULL, 5, 15, 1, 5);
	privd__v1__response__free_unpacked(r, NULL);
	r = aggregate_ok(h, "reporting", SR_P, ACIS, SCORE, NULL);
	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, "", 5, 15, 1, 5);
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * A legal hold keeps its subject from anonymisation (counted as held,
 * every field still readable, its feedback counted live) until the hold
 * expires; the next sweep then anonymises it.
 */
static void
test_hold_keeps_from_anonymisation(void **state)
{
	harness *h = *state;
	static const char *const scores[] = {"7", "8", "9", "6", "10"};
	char subj[5][16];
	Privd__V1__Response *r;
	int64_t t0, until;
	size_t i;

	t0 = (int64_t)h_clock_us(h);
	for (i = 0; i < 5; i++) {
		snprintf(subj[i], sizeof(subj[i]), "held-%zu", i);
		put_respondent(h, subj[i], scores[i], "company");
	}
	until = add_months(t0, 25) + 10 * US_PER_DAY;
	clock_to(h, add_months(t0, 14));
	r = hold_set(
	    h, "dpo", ACIS, subj[0], "complaint 2026/4", (uint64_t)until);
	expect_status(r, ST(OK), 0, "hold");
	privd__v1__response__free_unpacked(r, NULL);

	clock_to(h, add_months(t0, 25));
	sweep_anonymises(h, 16, 4, 4);
	expect_fields(h, "acis", ACIS, ST_P, subj[0], FOUR);
	for (i = 1; i < 5; i++)
		gone_for_everyone(h, subj[i]);
	r = aggregate_ok(h, "reporting", SR_P, ACIS, SCORE, CTYPE);
	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, "company", 5, 40, 6, 10);
	privd__v1__response__free_unpacked(r, NULL);

	clock_to(h, until + US_PER_S);
	sweep_anonymises(h, 4, 1, 0);
	gone_for_everyone(h, subj[0]);
	r = aggregate_ok(h, "reporting", SR_P, ACIS, SCORE, CTYPE);
	expect_group(r, "company", 5, 40, 6, 10);
	privd__v1__response__free_unpacked(r, NULL);
}

/* The canary respondent: its id, identifying values, and feedback. */
#define C_SUBJ  "resp-CANARY-ANON-5c1d77"
#define C_NAME  "Hieronymus Canarykallio"
#define C_EMAIL "canary.anon.w9t4@example.fi"
#define C_TEXT  "CANARY-FEEDBACK-qzxv the survey app kept crashing"
#define C_SCORE "73914682"
#define C_TYPE  "CANARY-TYPE-lumikko"

static const h_needle needles[] = {
    {C_SUBJ, sizeof(C_SUBJ) - 1, "subject id"},
    {C_NAME, sizeof(C_NAME) - 1, "name (dropped)"},
    {C_EMAIL, sizeof(C_EMAIL) - 1, "email (dropped)"},
    {C_TEXT, sizeof(C_TEXT) - 1, "feedback_text (anonymous record)"},
    {C_SCORE, sizeof(C_SCORE) - 1, "feedback_score (anonymous record)"},
    {C_TYPE, sizeof(C_TYPE) - 1, "customer_type (anonymous record)"},
};
#define NNEEDLES (sizeof(needles) / sizeof(needles[0]))

/*
 * After the anonymisation, a sweep and a compaction, the canary
 * respondent's identifying values and id are found in no file of the data
 * directory, of the compacted store or of privd's log, and the values kept
 * in its anonymous record are not there in the clear either; the record
 * still counts (suppressed: a group of one).
 */
static void
test_anonymised_values_nowhere(void **state)
{
	harness *h = *state;
	privd_field f[] = {h_field("name", C_NAME), h_field("email", C_EMAIL),
	    h_field(SCORE, C_SCORE), h_field(CTYPE, C_TYPE),
	    h_field("feedback_text", C_TEXT)};
	const char *const ops[] = {"retention_anonymize"};
	const char *const rules[] = {RULE};
	const char *const fields[] = {
	    "customer_type,email,feedback_score,feedback_text,name"};
	char copy[H_PATH_MAX + 16];
	Privd__V1__Response *r;
	int64_t t0;

	if (h_store_pg()) {
		printf(
		    "# skipped on PostgreSQL: it searches the LMDB files "
		    "and a compacted copy (pg_canary searches PostgreSQL)\n");
		skip();
	}
	t0 = (int64_t)h_clock_us(h);
	put_fields(h, C_SUBJ, f, sizeof(f) / sizeof(f[0]));
	expect_fields(h, "acis", ACIS, ST_P, C_SUBJ,
	    "customer_type,email,feedback_score,feedback_text,name");
	clock_to(h, add_months(t0, 25));
	sweep_anonymises(h, 5, 1, 0);
	gone_for_everyone(h, C_SUBJ);
	expect_ret_events(h, C_SUBJ, ACIS, 1, ops, rules, fields);
	r = aggregate_ok(h, "reporting", SR_P, ACIS, SCORE, CTYPE);
	expect_agg(r, 0, 1, 1, 5, true);
	privd__v1__response__free_unpacked(r, NULL);
	r = aggregate_ok(h, "reporting", SR_P, ACIS, "feedback_text", NULL);
	expect_agg(r, 0, 1, 1, 5, false);
	privd__v1__response__free_unpacked(r, NULL);

	stop_clean(h);
	compact_store(h, copy, sizeof(copy));
	assert_int_equal(h_scan_dir(h->data_dir, needles, NNEEDLES), 0);
	assert_int_equal(h_scan_dir(copy, needles, NNEEDLES), 0);
	assert_int_equal(h_scan_file(h->log, needles, NNEEDLES), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_anonymised_feedback_still_counts, ret_setup_example,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_fields_anonymised_apart, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(test_hold_keeps_from_anonymisation,
	        ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_anonymised_values_nowhere, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/retention_acis", tests, NULL, NULL);
}
