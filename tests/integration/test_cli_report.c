/*
 * test_cli_report.c - privctl retention preview|run and report (issue 9),
 * end to end against a real privd on the test clock, as privctl(1)
 * describes them: what a preview as of a date would do (per register and
 * rule: action, fields, subjects, held), changing nothing; what a run did,
 * then "nothing was due"; a run stopped at --limit; report's groups,
 * before and after the ACIS anonymisation (the same lines); each with its
 * bad input, a clear message and the documented exit code.
 *
 * The example policy (policy/examples/aktiivitieto.json): crm manages
 * customers, acis the ACIS register (anonymised 24 months after
 * collection), dpo is policy_admin, reporting reads aggregates for
 * sales_reporting.
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

#define CR   "customer_relationship" /* crm's purpose with every field */
#define ACIS "acis"
#define STP  "satisfaction_tracking"
#define SR   "sales_reporting"
#define RULE "anonymize-24m"

/* acis puts a respondent: name, email, feedback_score and customer_type. */
static void
put_respondent(
    harness *h, const char *subject, const char *score, const char *type)
{
	privd_client *c = client(h, "acis");
	privd_field f[] = {h_field("name", "Aino Vastaaja"),
	    h_field("email", "aino@example.fi"),
	    h_field("feedback_score", score), h_field("customer_type", type)};

	expect_rc(c, privd_put(c, ACIS, subject, STP, f, 4), PRIVD_OK, "put");
	privd_close(&c);
}

/* crm puts name, email and billing_details of subject in customers. */
static void
put_customer3(harness *h, const char *subject)
{
	privd_client *c = client(h, "crm");
	privd_field f[] = {h_field("name", "Kaisa Asiakas"),
	    h_field("email", "kaisa@example.fi"),
	    h_field("billing_details", "e-invoice, net 14")};

	expect_rc(c, privd_put(c, CUST, subject, CR, f, 3), PRIVD_OK, "put");
	privd_close(&c);
}

/*
 * A customer whose relationship ended 2 years ago (name and email due
 * under after-customership, billing_details kept), three ACIS respondents
 * anonymised 24 months after collection. The preview now, as of a date,
 * for one register, as JSON; the run, after which the relationship end
 * cannot be undone (6); a run with nothing due; a preview
 * as of a date after 24 months, then at that date a run stopped by
 * --limit and one that finishes, which together do what the preview said.
 */
static void
test_preview_and_run(void **state)
{
	harness *h = *state;
	char day[16], iso[32], want[400];
	int64_t t0, at, when;
	h_result r;
	size_t i;

	t0 = (int64_t)h_clock_us(h);
	put_customer3(h, "c-1");
	put_customer3(h, "c-2");
	at = midnight(add_months(t0, -24));
	date_of(at, day);
	PC(h, "crm", 0, &r, "relationship-end", CUST, "c-1", "--at", day);
	for (i = 0; i < 3; i++) {
		char s[16];

		snprintf(s, sizeof(s), "resp-%zu", i);
		put_respondent(h, s, "7", "company");
	}

	PC(h, "dpo", 0, &r, "retention", "preview");
	assert_true(strncmp(r.out, "preview as of ", 14) == 0);
	assert_non_null(strstr(r.out, " (nothing changed)\n"));
	line_of(r.out, "register ", want, sizeof(want));
	{
		char a[8][16];

		assert_int_equal(
		    sscanf(want, "%15s %15s %15s %15s %15s %15s %15s %15s",
		        a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]),
		    7);
		assert_string_equal(a[1], "rule");
		assert_string_equal(a[2], "action");
		assert_string_equal(a[3], "fields");
		assert_string_equal(a[4], "subjects");
		assert_string_equal(a[5], "held");
		assert_string_equal(a[6], "anonymous");
	}
	expect_run_line(r.out, CUST, "after-customership", "delete", 2, 1, 0);
	expect_run_line(r.out, ACIS, RULE, "anonymize", 0, 0, 0);
	line_of(r.out, "examined ", want, sizeof(want));
	assert_non_null(strstr(want, " due-index entries"));
	assert_int_equal(nlines(r.out), 4);

	when = midnight(t0) + 2 * US_PER_DAY;
	date_of(when, day);
	iso_of(when, iso);
	PC(h, "dpo", 0, &r, "retention", "preview", "--as-of", day);
	snprintf(want, sizeof(want), "preview as of %s (nothing changed)", iso);
	expect_line(r.out, want);
	expect_run_line(r.out, CUST, "after-customership", "delete", 2, 1, 0);
	PC(h, "dpo", 0, &r, "retention", "preview", "--register", ACIS);
	expect_line(r.out, "nothing would be done");
	PC(h, "dpo", 0, &r, "retention", "preview", "--as-of", day, "--json");
	snprintf(want, sizeof(want),
	    "{\"preview\":true,\"as_of\":\"%s\",\"as_of_us\":%lld,", iso,
	    (long long)when);
	assert_true(strncmp(r.out, want, strlen(want)) == 0);
	/* anonymous_records in every count: 0 but for a contract-end purge */
	assert_non_null(strstr(r.out,
	    "\"counts\":[{\"register\":\"customers\",\"rule\":"
	    "\"after-customership\",\"action\":\"delete\",\"fields\":2,"
	    "\"subjects\":1,\"held\":0,\"anonymous_records\":0}]"));
	assert_non_null(strstr(r.out, "\"more\":false"));
	/* nothing changed */
	expect_fields(h, "crm", CUST, CR, "c-1", "billing_details,email,name");

	PC(h, "dpo", 0, &r, "retention", "run");
	assert_true(strncmp(r.out, "sweep as of ", 12) == 0);
	expect_run_line(r.out, CUST, "after-customership", "delete", 2, 1, 0);
	expect_fields(h, "crm", CUST, CR, "c-1", "billing_details");
	expect_fields(h, "crm", CUST, CR, "c-2", "billing_details,email,name");
	/* an end something was deleted because of stays */
	PC(h, "crm", 6, &r, "relationship-end", CUST, "c-1", "--undo");
	expect_why(&r, "conflict", "c-1");
	PC(h, "dpo", 0, &r, "retention", "run");
	expect_line(r.out, "nothing was due");
	PC(h, "dpo", 0, &r, "retention", "run", "--json");
	assert_true(strncmp(r.out, "{\"preview\":false,", 17) == 0);
	assert_non_null(strstr(r.out, "\"counts\":[]"));

	/* the respondents as of 24 months and two days (a preview may look
	 * any time ahead), and a sweep then */
	when = midnight(add_months(t0, 24)) + 2 * US_PER_DAY;
	date_of(when, day);
	PC(h, "dpo", 0, &r, "retention", "preview", "--as-of", day);
	expect_run_line(r.out, ACIS, RULE, "anonymize", 12, 3, 0);
	expect_run_line(r.out, CUST, "after-customership", "delete", 0, 0, 0);
	PC(h, "dpo", 0, &r, "retention", "preview", "--as-of", day, "--json");
	assert_non_null(strstr(r.out,
	    "\"counts\":[{\"register\":\"acis\",\"rule\":\"" RULE "\","
	    "\"action\":\"anonymize\",\"fields\":12,\"subjects\":3,"
	    "\"held\":0,\"anonymous_records\":0}]"));
	clock_to(h, when);
	PC(h, "dpo", 0, &r, "retention", "run", "--limit", "5");
	expect_line(r.out, "stopped after 5 field action(s): more is due "
	                   "(run again)");
	{
		unsigned long long f = 0, s = 0;
		char line[256];

		line_of(r.out, "acis ", line, sizeof(line));
		assert_int_equal(
		    sscanf(line, "acis %*s anonymize %llu %llu", &f, &s), 2);
		assert_int_equal(f, 5);
		PC(h, "dpo", 0, &r, "retention", "run");
		line_of(r.out, "acis ", line, sizeof(line));
		assert_int_equal(
		    sscanf(line, "acis %*s anonymize %llu", &f), 1);
		assert_int_equal(f, 12 - 5);
	}
	assert_null(strstr(r.out, "stopped after"));
	PC(h, "acis", 4, &r, "get", ACIS, "resp-0", "--purpose", STP);
	PC(h, "auditor", 0, &r, "audit", "query", "--op",
	    "retention_anonymize");
	/* one line per respondent and run, each naming the rule: the
	 * limit split one respondent's 4 fields between the two runs */
	assert_int_equal(nlines(r.out), 4);
	{
		const char *p = r.out;

		for (i = 0; (p = strstr(p, " rule=" RULE "\n")) != NULL; p++)
			i++;
		assert_int_equal(i, 4);
	}
}

/*
 * retention preview and run refused: a date privctl cannot read, --limit
 * 0 or not a number, an empty --register, an option of the other command
 * (2); a preview as of a time before 2000 (5); an
 * unknown register, a principal without the role policy_admin (3).
 */
static void
test_preview_and_run_bad_input(void **state)
{
	harness *h = *state;
	h_result r;

	PC(h, "dpo", 2, &r, "retention", "preview", "--as-of", "next-week");
	expect_why(&r, "--as-of", NULL);
	PC(h, "dpo", 2, &r, "retention", "run", "--limit", "0");
	expect_why(&r, "--limit", NULL);
	PC(h, "dpo", 2, &r, "retention", "run", "--limit", "many");
	expect_why(&r, "--limit", NULL);
	PC(h, "dpo", 2, &r, "retention", "preview", "--register", "");
	expect_why(&r, "--register", NULL);
	PC(h, "dpo", 2, &r, "retention", "run", "--as-of", "2027-01-01");
	expect_why(&r, "--as-of is not an option", NULL);
	PC(h, "dpo", 2, &r, "retention", "preview", "--limit", "5");
	expect_why(&r, "--limit is not an option", NULL);
	PC(h, "dpo", 2, &r, "retention", "sweep");
	expect_why(&r, "usage", NULL);
	PC(h, "dpo", 5, &r, "retention", "preview", "--as-of", "1999-06-30");
	expect_why(&r, "invalid", NULL);
	PC(h, "dpo", 3, &r, "retention", "preview", "--register", "nosuch");
	expect_why(&r, "unknown_register", NULL);
	PC(h, "dpo", 3, &r, "retention", "run", "--register", "nosuch");
	expect_why(&r, "unknown_register", NULL);
	PC(h, "crm", 3, &r, "retention", "preview");
	expect_why(&r, "role_required", NULL);
	PC(h, "auditor", 3, &r, "retention", "run");
	expect_why(&r, "role_required", NULL);
	PC(h, "crm", 3, &r, "retention", "run", "--json");
	assert_non_null(strstr(r.out, "{\"error\":{"));
	assert_non_null(strstr(r.out, "\"reason\":\"role_required\""));
}

/* The 15 respondents of test_retention_acis.c: company 6 (sum 49, 6..10),
 * public 5 (sum 30, 4..8), consumer 4 (sum 21): 15, sum 100, 2..10. */
static const struct {
	const char *score, *type;
} people[] = {{"9", "company"}, {"8", "company"}, {"10", "company"},
    {"7", "company"}, {"9", "company"}, {"6", "company"}, {"5", "public"},
    {"7", "public"}, {"6", "public"}, {"8", "public"}, {"4", "public"},
    {"3", "consumer"}, {"10", "consumer"}, {"2", "consumer"},
    {"6", "consumer"}};
#define NPEOPLE (sizeof(people) / sizeof(people[0]))

/* By customer type, company 6, public 5, consumer 4: the consumers are
 * suppressed (4 < 5), and public with them, or the total (15, sum 100)
 * minus company and public would be the consumers' 4 and sum 21
 * (complementary suppression): 2 groups of 9 records suppressed. */
static const char REPORT_GROUPED[] =
    "acis.feedback_score by customer_type (groups of fewer than 5 "
    "subjects suppressed)\n"
    "group    count  sum  mean  min  max\n"
    "company      6   49  8.17    6   10\n"
    "suppressed: 2 group(s), 9 record(s)\n";
static const char REPORT_ALL[] =
    "acis.feedback_score (groups of fewer than 5 subjects suppressed)\n"
    "group  count  sum  mean  min  max\n"
    "(all)     15  100  6.67    2   10\n"
    "suppressed: 0 group(s), 0 record(s)\n";

/* The reports of the 15, as text and as JSON. */
static void
expect_reports(harness *h)
{
	h_result r;

	PC(h, "reporting", 0, &r, "report", ACIS, "feedback_score",
	    "--group-by", "customer_type", "--purpose", SR);
	assert_string_equal(r.out, REPORT_GROUPED);
	PC(h, "reporting", 0, &r, "report", ACIS, "feedback_score", "--purpose",
	    SR);
	assert_string_equal(r.out, REPORT_ALL);
	PC(h, "reporting", 0, &r, "report", ACIS, "feedback_score",
	    "--group-by", "customer_type", "--purpose", SR, "--json");
	assert_string_equal(r.out,
	    "{\"register\":\"acis\",\"field\":\"feedback_score\","
	    "\"group_by\":\"customer_type\",\"integer\":true,\"min_group\":5,"
	    "\"groups\":["
	    "{\"key\":\"company\",\"missing\":false,\"count\":6,\"sum\":49,"
	    "\"mean\":8.1666666666666661,\"min\":6,\"max\":10}],"
	    "\"suppressed_groups\":2,\"suppressed_records\":9}\n");
	PC(h, "reporting", 0, &r, "report", ACIS, "feedback_score", "--purpose",
	    SR, "--json");
	assert_non_null(strstr(r.out, "\"group_by\":null"));
	assert_non_null(strstr(r.out, "{\"key\":null,\"missing\":false,"
	                              "\"count\":15,\"sum\":100,"));
}

/*
 * report: the groups of the 15 (the consumers' group of 4 suppressed,
 * and public's of 5 with it) and all of them, as text and JSON; after
 * the anonymisation at 24 months, whose run names the rule and counts,
 * the same reports, byte for byte. privctl get for sales_reporting, a
 * statistical purpose, is refused (3) before and after alike.
 */
static void
test_report(void **state)
{
	harness *h = *state;
	char s[16];
	int64_t t0;
	h_result r;
	size_t i;

	t0 = (int64_t)h_clock_us(h);
	for (i = 0; i < NPEOPLE; i++) {
		snprintf(s, sizeof(s), "resp-%02zu", i);
		put_respondent(h, s, people[i].score, people[i].type);
	}
	expect_reports(h);
	PC(h, "reporting", 3, &r, "get", ACIS, "resp-00", "--purpose", SR);
	expect_why(&r, "statistical", "resp-00");
	clock_to(h, add_months(t0, 25));
	PC(h, "dpo", 0, &r, "retention", "run");
	expect_run_line(
	    r.out, ACIS, RULE, "anonymize", 4 * NPEOPLE, NPEOPLE, 0);
	PC(h, "acis", 4, &r, "get", ACIS, "resp-00", "--purpose", STP);
	expect_why(&r, "not found", "resp-00");
	PC(h, "reporting", 3, &r, "get", ACIS, "resp-00", "--purpose", SR);
	expect_why(&r, "statistical", "resp-00");
	expect_reports(h);
}

/*
 * report refused: no --purpose, an empty --group-by, a missing FIELD (2);
 * a purpose that is not statistical, one without a grant, a field or
 * group_by field outside the grant, an unknown register or field (3);
 * group_by the field itself (5); as JSON, the error object.
 */
static void
test_report_bad_input(void **state)
{
	harness *h = *state;
	h_result r;

	put_respondent(h, "resp-1", "5", "company");
	PC(h, "reporting", 2, &r, "report", ACIS, "feedback_score");
	expect_why(&r, "--purpose", NULL);
	PC(h, "reporting", 2, &r, "report", ACIS, "feedback_score", "--purpose",
	    SR, "--group-by", "");
	expect_why(&r, "--group-by", NULL);
	PC(h, "reporting", 2, &r, "report", ACIS, "--purpose", SR);
	expect_why(&r, "usage", NULL);
	PC(h, "acis", 3, &r, "report", ACIS, "feedback_score", "--purpose",
	    STP);
	expect_why(&r, "statistical", NULL);
	PC(h, "reporting", 3, &r, "report", ACIS, "feedback_score", "--purpose",
	    STP);
	expect_why(&r, "no_grant", NULL);
	PC(h, "reporting", 3, &r, "report", ACIS, "name", "--purpose", SR);
	expect_why(&r, "field_not_granted", NULL);
	PC(h, "reporting", 3, &r, "report", ACIS, "feedback_score",
	    "--group-by", "email", "--purpose", SR);
	expect_why(&r, "field_not_granted", NULL);
	PC(h, "reporting", 3, &r, "report", "nosuch", "feedback_score",
	    "--purpose", SR);
	expect_why(&r, "unknown_register", NULL);
	PC(h, "reporting", 3, &r, "report", ACIS, "no_such_field", "--purpose",
	    SR);
	expect_why(&r, "unknown_field", NULL);
	PC(h, "reporting", 5, &r, "report", ACIS, "feedback_score",
	    "--group-by", "feedback_score", "--purpose", SR);
	expect_why(&r, "invalid", NULL);
	PC(h, "reporting", 3, &r, "report", ACIS, "feedback_score", "--purpose",
	    STP, "--json");
	assert_true(strncmp(r.out, "{\"error\":{", 10) == 0);
	assert_non_null(strstr(r.out, "\"status\":\"denied\""));
	/* a group of one is never shown */
	PC(h, "reporting", 0, &r, "report", ACIS, "feedback_score", "--purpose",
	    SR);
	expect_line(r.out, "suppressed: 1 group(s), 1 record(s)");
	assert_int_equal(nlines(r.out), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_preview_and_run, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_preview_and_run_bad_input, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_report_bad_input, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/cli_report", tests, NULL, NULL);
}
