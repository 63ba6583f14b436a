/*
 * test_retention.c - retention durations on the calendar, and when a
 * stored field falls due under the example policy's rules (policy/
 * retention.c, issue 9). Expected dates come from libc's timegm, an
 * implementation independent of the one tested.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "policy.h"

#define US 1000000LL

/* Microseconds since the epoch of a UTC date and time, by timegm. */
static int64_t
at(int y, int mo, int d, int h, int mi)
{
	struct tm tm = {.tm_year = y - 1900,
	    .tm_mon = mo - 1,
	    .tm_mday = d,
	    .tm_hour = h,
	    .tm_min = mi};

	return (int64_t)timegm(&tm) * US;
}

static pol_span
span(const char *s)
{
	pol_span sp;

	if (pol_span_parse(s, &sp) != 0)
		fail_msg("\"%s\" does not parse", s);
	return sp;
}

static int64_t
plus(int64_t t, const char *s)
{
	pol_span sp = span(s);
	int64_t out;

	assert_int_equal(pol_time_add(t, &sp, &out), 0);
	return out;
}

/* 1. Spans: months and years on the calendar, the rest in seconds; the
 * grammar and bounds are those of every duration in the policy, and zero
 * (the digit 0 alone) is a span, the same in every unit. */
static void
test_span_parse(void **state)
{
	static const char *const bad[] = {"24 monthz", "-1 days", "1  day", "",
	    "month", "1001 years", "12", "00 days", "0days", "-0 days",
	    "0  days", "0 fortnights", "0", "+0 days"};
	pol_span sp;
	size_t i;

	sp = span("24 months");
	assert_true(sp.months);
	assert_int_equal(sp.n, 24);
	sp = span("6 years");
	assert_true(sp.months);
	assert_int_equal(sp.n, 72);
	sp = span("1 year");
	assert_int_equal(sp.n, 12);
	sp = span("1 month");
	assert_int_equal(sp.n, 1);
	sp = span("30 days");
	assert_false(sp.months);
	assert_int_equal(sp.n, 30 * 86400);
	sp = span("2 weeks");
	assert_int_equal(sp.n, 14 * 86400);
	sp = span("90 seconds");
	assert_int_equal(sp.n, 90);
	sp = span("0 days");
	assert_false(sp.months);
	assert_int_equal(sp.n, 0);
	sp = span("0 months");
	assert_false(sp.months); /* zero months is zero days */
	assert_int_equal(sp.n, 0);
	sp = span("0 year");
	assert_int_equal(sp.n, 0);
	sp = span("0 seconds");
	assert_int_equal(sp.n, 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pol_span_parse(bad[i], &sp), -1);
}

/* 2. Adding months clamps a month end, keeps the time of day, and knows
 * leap years; seconds are seconds. */
static void
test_calendar(void **state)
{
	pol_span sp;
	int64_t out;

	assert_int_equal(
	    plus(at(2024, 1, 31, 10, 30), "1 month"), at(2024, 2, 29, 10, 30));
	assert_int_equal(
	    plus(at(2023, 1, 31, 0, 0), "1 month"), at(2023, 2, 28, 0, 0));
	assert_int_equal(
	    plus(at(2023, 3, 31, 23, 59), "1 month"), at(2023, 4, 30, 23, 59));
	assert_int_equal(
	    plus(at(2023, 12, 15, 8, 0), "1 month"), at(2024, 1, 15, 8, 0));
	assert_int_equal(
	    plus(at(2024, 2, 29, 12, 0), "1 year"), at(2025, 2, 28, 12, 0));
	assert_int_equal(
	    plus(at(2024, 2, 29, 12, 0), "4 years"), at(2028, 2, 29, 12, 0));
	assert_int_equal(
	    plus(at(2022, 1, 31, 6, 0), "24 months"), at(2024, 1, 31, 6, 0));
	assert_int_equal(
	    plus(at(2020, 5, 17, 0, 0), "6 years"), at(2026, 5, 17, 0, 0));
	assert_int_equal(
	    plus(at(2099, 11, 30, 0, 0), "3 months"), at(2100, 2, 28, 0, 0));
	assert_int_equal(
	    plus(at(1999, 11, 30, 0, 0), "3 months"), at(2000, 2, 29, 0, 0));
	assert_int_equal(plus(at(2024, 3, 30, 1, 0), "30 days"),
	    at(2024, 3, 30, 1, 0) + 30 * 86400 * US);
	/* microseconds survive */
	assert_int_equal(plus(at(2024, 1, 31, 0, 0) + 123456, "1 month"),
	    at(2024, 2, 29, 0, 0) + 123456);
	/* zero is the time itself, also at a month end */
	assert_int_equal(plus(at(2024, 1, 31, 10, 30) + 7, "0 days"),
	    at(2024, 1, 31, 10, 30) + 7);
	sp.n = 0;
	sp.months = true; /* not what pol_span_parse makes, but the same */
	assert_int_equal(pol_time_add(at(2024, 1, 31, 9, 0), &sp, &out), 0);
	assert_int_equal(out, at(2024, 1, 31, 9, 0));
	/* the epoch and the longest span */
	assert_int_equal(plus(0, "1000 years"), at(2970, 1, 1, 0, 0));
	/* a time before the epoch, or an unset span, is refused */
	sp = span("1 day");
	assert_int_equal(pol_time_add(-1, &sp, &out), -1);
	sp.n = -1;
	assert_int_equal(pol_time_add(0, &sp, &out), -1);
}

static pol_policy *
example(void)
{
	const char *path = getenv("POLICY_EXAMPLE");
	pol_policy *p = NULL;
	pol_error err;
	char *json = NULL;
	size_t len = 0;
	FILE *fp;

	if (path == NULL)
		path = "policy/examples/aktiivitieto.json";
	if ((fp = fopen(path, "r")) == NULL)
		fail_msg("cannot read %s (set POLICY_EXAMPLE)", path);
	assert_int_not_equal(getdelim(&json, &len, '\0', fp), -1);
	fclose(fp);
	if (pol_parse(json, strlen(json), &p, &err) != 0)
		fail_msg(
		    "the example does not parse: %s: %s", err.path, err.reason);
	free(json);
	return p;
}

static void
plan(const pol_policy *p, const char *reg, const char *field,
    const pol_field_times *t, pol_plan *out)
{
	const pol_register *r = pol_register_find(p, reg);
	const pol_field *f;

	assert_non_null(r);
	assert_non_null(f = pol_field_find(r, field));
	pol_retention_plan(r, f, t, out);
}

/*
 * 3. The customer register: kept for the relationship, deleted a year
 * after it ends; billing details kept at least six years from that end
 * (bookkeeping), then deleted.
 */
static void
test_customers(void **state)
{
	pol_policy *p = example();
	pol_field_times t = {.collected_us = at(2019, 6, 1, 9, 0),
	    .updated_us = at(2021, 2, 3, 9, 0)};
	pol_plan pl;

	/* a customer: nothing is due */
	plan(p, "customers", "name", &t, &pl);
	assert_int_equal(pl.due_us, POL_NEVER);
	assert_null(pl.rule);
	assert_int_equal(pl.keep_until_us, 0);
	plan(p, "customers", "billing_details", &t, &pl);
	assert_int_equal(pl.due_us, POL_NEVER);
	assert_int_equal(pl.keep_until_us, POL_NEVER); /* not started */
	assert_string_equal(pl.keep_rule->id, "bookkeeping");

	/* the relationship ended on 15 March 2024 */
	t.relationship_end_us = at(2024, 3, 15, 14, 0);
	plan(p, "customers", "name", &t, &pl);
	assert_int_equal(pl.due_us, at(2025, 3, 15, 14, 0));
	assert_string_equal(pl.rule->id, "after-customership");
	assert_string_equal(pl.rule->action, "delete");
	plan(p, "customers", "feedback_score", &t, &pl);
	assert_int_equal(pl.due_us, at(2025, 3, 15, 14, 0));
	plan(p, "customers", "billing_details", &t, &pl);
	assert_int_equal(pl.due_us, at(2030, 3, 15, 14, 0));
	assert_string_equal(pl.rule->id, "after-customership");
	assert_int_equal(pl.keep_until_us, at(2030, 3, 15, 14, 0));
	assert_string_equal(pl.keep_rule->id, "bookkeeping");
	pol_free(&p);
}

/*
 * 4. ACIS: every field anonymised 24 months after it was collected (the
 * identifying ones dropped then, the rest kept anonymously); the whole
 * register deleted when the processing contract ends, which comes first
 * if it is earlier.
 */
static void
test_acis(void **state)
{
	static const char *const fields[] = {"name", "email", "phone",
	    "organisation", "position", "feedback_score", "feedback_text"};
	pol_policy *p = example();
	pol_field_times t = {.collected_us = at(2022, 1, 31, 12, 0),
	    .updated_us = at(2023, 5, 2, 12, 0)};
	pol_plan pl;
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		plan(p, "acis", fields[i], &t, &pl);
		assert_int_equal(pl.due_us, at(2024, 1, 31, 12, 0));
		assert_string_equal(pl.rule->id, "anonymize-24m");
		assert_string_equal(pl.rule->action, "anonymize");
		assert_null(pl.keep_rule);
	}

	/* the contract ended: due that very moment */
	t.contract_end_us = at(2023, 6, 1, 0, 0) + 1;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		plan(p, "acis", fields[i], &t, &pl);
		assert_int_equal(pl.due_us, at(2023, 6, 1, 0, 0) + 1);
		assert_string_equal(pl.rule->id, "contract-end");
		assert_string_equal(pl.rule->action, "delete");
	}

	/* a contract that ends after the anonymisation is due */
	t.contract_end_us = at(2025, 1, 1, 0, 0);
	plan(p, "acis", "feedback_text", &t, &pl);
	assert_int_equal(pl.due_us, at(2024, 1, 31, 12, 0));
	assert_string_equal(pl.rule->id, "anonymize-24m");
	pol_free(&p);
}

/*
 * 5. The worked example of privd-policy(5) and the README, from the
 * notice: a customer whose relationship ended on 31 March 2025 loses
 * everything but billing on 31 March 2026, billing on 31 March 2031; ACIS
 * feedback collected on 31 January 2024 is anonymised on 31 January 2026.
 */
static void
test_worked_example(void **state)
{
	pol_policy *p = example();
	pol_field_times t = {.collected_us = at(2021, 9, 14, 8, 0),
	    .updated_us = at(2024, 11, 5, 16, 20),
	    .relationship_end_us = at(2025, 3, 31, 0, 0)};
	const pol_register *r = pol_register_find(p, "customers");
	pol_plan pl;
	size_t i;

	for (i = 0; i < r->nfields; i++) {
		pol_retention_plan(r, &r->fields[i], &t, &pl);
		if (strcmp(r->fields[i].name, "billing_details") == 0) {
			assert_int_equal(pl.due_us, at(2031, 3, 31, 0, 0));
			assert_int_equal(
			    pl.keep_until_us, at(2031, 3, 31, 0, 0));
			assert_string_equal(pl.keep_rule->id, "bookkeeping");
		} else {
			assert_int_equal(pl.due_us, at(2026, 3, 31, 0, 0));
			assert_null(pl.keep_rule);
		}
		assert_string_equal(pl.rule->id, "after-customership");
	}

	t.collected_us = t.updated_us = at(2024, 1, 31, 0, 0);
	t.relationship_end_us = 0;
	plan(p, "acis", "feedback_score", &t, &pl);
	assert_int_equal(pl.due_us, at(2026, 1, 31, 0, 0));
	assert_string_equal(pl.rule->action, "anonymize");
	pol_free(&p);
}

#define POLICY_HEAD                                                            \
	"{\"controller\": {\"name\": \"T\", \"business_id\": \"1234567-8\"},"  \
	" \"registers\": {\"r\": {\"purposes\": {\"p\": {\"legal_basis\": "    \
	"\"contract\"}}, \"fields\": {\"a\": {\"category\": \"x\", \"type\": " \
	"\"string\"}, \"b\": {\"category\": \"y\", \"type\": \"string\"}}, "   \
	"\"retention\": ["
#define POLICY_TAIL                                                            \
	"]}}, \"principals\": {\"adm\": {\"key\": "                            \
	"\"Z5S6TQd88k8U69fn3uyMw4vi9V7q443bd6oOR5gc\", \"roles\": "            \
	"[\"policy_admin\"]}}}"

static pol_policy *
rules(const char *r)
{
	char doc[2048];
	pol_policy *p = NULL;
	pol_error err;

	snprintf(doc, sizeof(doc), "%s%s%s", POLICY_HEAD, r, POLICY_TAIL);
	if (pol_parse(doc, strlen(doc), &p, &err) != 0)
		fail_msg("%s: %s", err.path, err.reason);
	return p;
}

/*
 * 6. Several rules: the earliest action wins; at the same time a delete
 * before an anonymisation, then the rule first in the document; every
 * minimum holds, the longest decides; a rule on other categories does not
 * count.
 */
static void
test_several_rules(void **state)
{
	pol_field_times t = {.collected_us = at(2020, 1, 10, 0, 0),
	    .updated_us = at(2021, 1, 10, 0, 0)};
	pol_policy *p;
	pol_plan pl;

	p = rules("{\"id\": \"anon\", \"categories\": [\"*\"], \"from\": "
	          "\"collected\", \"after\": \"12 months\", \"action\": "
	          "\"anonymize\"},"
	          "{\"id\": \"del\", \"categories\": [\"x\"], \"from\": "
	          "\"collected\", \"after\": \"1 year\", \"action\": "
	          "\"delete\"},"
	          "{\"id\": \"del2\", \"categories\": [\"x\"], \"from\": "
	          "\"collected\", \"after\": \"1 year\", \"action\": "
	          "\"delete\"},"
	          "{\"id\": \"late\", \"categories\": [\"*\"], \"from\": "
	          "\"updated\", \"after\": \"1 day\", \"action\": \"delete\"}");
	plan(p, "r", "a", &t, &pl);
	assert_int_equal(pl.due_us, at(2021, 1, 10, 0, 0));
	assert_string_equal(pl.rule->id, "del");
	plan(p, "r", "b", &t, &pl);
	assert_string_equal(pl.rule->id, "anon");
	pol_free(&p);

	p = rules("{\"id\": \"del\", \"categories\": [\"*\"], \"from\": "
	          "\"collected\", \"after\": \"30 days\", \"action\": "
	          "\"delete\"},"
	          "{\"id\": \"min1\", \"categories\": [\"x\"], \"from\": "
	          "\"collected\", \"keep_at_least\": \"2 years\"},"
	          "{\"id\": \"min2\", \"categories\": [\"x\"], \"from\": "
	          "\"updated\", \"keep_at_least\": \"18 months\"},"
	          "{\"id\": \"min3\", \"categories\": [\"y\"], \"from\": "
	          "\"relationship_end\", \"keep_at_least\": \"1 day\"}");
	plan(p, "r", "a", &t, &pl);
	assert_int_equal(pl.due_us, at(2022, 7, 10, 0, 0));
	assert_string_equal(pl.rule->id, "del");
	assert_string_equal(pl.keep_rule->id, "min2");
	/* b: a minimum from an end that has not come holds it */
	plan(p, "r", "b", &t, &pl);
	assert_int_equal(pl.due_us, POL_NEVER);
	assert_string_equal(pl.keep_rule->id, "min3");
	t.relationship_end_us = at(2020, 1, 20, 0, 0);
	plan(p, "r", "b", &t, &pl);
	assert_int_equal(pl.due_us, at(2020, 2, 9, 0, 0));
	pol_free(&p);
}

/*
 * 7. A zero "after" (the notice's "anonymised immediately") is due at its
 * start event itself, or never while that has not happened; it still
 * waits for a minimum, and at equal times a delete still wins.
 */
static void
test_zero_after(void **state)
{
	pol_field_times t = {.collected_us = at(2024, 1, 31, 9, 0),
	    .updated_us = at(2024, 2, 29, 9, 0)};
	const pol_register *r;
	pol_policy *p;
	pol_plan pl;

	p = rules("{\"id\": \"now\", \"categories\": [\"x\"], \"from\": "
	          "\"collected\", \"after\": \"0 days\", \"action\": "
	          "\"anonymize\"},"
	          "{\"id\": \"end\", \"categories\": [\"*\"], \"from\": "
	          "\"relationship_end\", \"after\": \"0 months\", "
	          "\"action\": \"delete\"},"
	          "{\"id\": \"min\", \"categories\": [\"y\"], \"from\": "
	          "\"updated\", \"keep_at_least\": \"1 month\"}");
	r = pol_register_find(p, "r");
	assert_int_equal(r->retention[0].after_s, 0);
	assert_int_equal(r->retention[0].after.n, 0);
	assert_int_equal(r->retention[1].after_s, 0);
	assert_false(r->retention[1].after.months);

	plan(p, "r", "a", &t, &pl);
	assert_int_equal(pl.due_us, at(2024, 1, 31, 9, 0));
	assert_string_equal(pl.rule->id, "now");
	/* b: its relationship has not ended */
	plan(p, "r", "b", &t, &pl);
	assert_int_equal(pl.due_us, POL_NEVER);
	assert_null(pl.rule);
	assert_int_equal(pl.keep_until_us, at(2024, 3, 29, 9, 0));

	/* it ends: b is due at once, but not before its minimum */
	t.relationship_end_us = at(2024, 3, 1, 0, 0);
	plan(p, "r", "b", &t, &pl);
	assert_int_equal(pl.due_us, at(2024, 3, 29, 9, 0));
	assert_string_equal(pl.rule->id, "end");
	t.relationship_end_us = at(2024, 4, 2, 0, 0);
	plan(p, "r", "b", &t, &pl);
	assert_int_equal(pl.due_us, at(2024, 4, 2, 0, 0));
	/* at the same moment as "now", a delete before an anonymisation */
	t.relationship_end_us = t.collected_us;
	plan(p, "r", "a", &t, &pl);
	assert_int_equal(pl.due_us, at(2024, 1, 31, 9, 0));
	assert_string_equal(pl.rule->id, "end");

	/* a field never written has not been collected */
	t.collected_us = t.updated_us = t.relationship_end_us = 0;
	plan(p, "r", "a", &t, &pl);
	assert_int_equal(pl.due_us, POL_NEVER);
	pol_free(&p);
}

/*
 * 8. Which start events a register's rules count from, and which fields a
 * rule with an action covers, so the daemon knows what an event re-plans
 * and which fields can ever fall due.
 */
static void
test_helpers(void **state)
{
	static const char *const events[] = {
	    "collected", "updated", "relationship_end", "contract_end"};
	const bool cust_uses[] = {false, false, true, false};
	const bool acis_uses[] = {true, false, false, true};
	pol_policy *p = example();
	const pol_register *cust = pol_register_find(p, "customers");
	const pol_register *acis = pol_register_find(p, "acis");
	const pol_register *r;
	size_t i;

	for (i = 0; i < 4; i++) {
		assert_int_equal(
		    pol_retention_from_used(cust, events[i]), cust_uses[i]);
		assert_int_equal(
		    pol_retention_from_used(acis, events[i]), acis_uses[i]);
	}
	assert_false(pol_retention_from_used(cust, "birth"));
	assert_false(pol_retention_from_used(cust, ""));
	assert_false(pol_retention_from_used(cust, NULL));
	assert_false(pol_retention_from_used(NULL, "collected"));
	/* a rule on "*" plans every field */
	for (i = 0; i < cust->nfields; i++)
		assert_true(pol_field_planned(cust, &cust->fields[i]));
	for (i = 0; i < acis->nfields; i++)
		assert_true(pol_field_planned(acis, &acis->fields[i]));
	assert_false(pol_field_planned(NULL, &cust->fields[0]));
	assert_false(pol_field_planned(cust, NULL));
	pol_free(&p);

	/* a minimum alone counts from its event but plans nothing */
	p = rules("{\"id\": \"min\", \"categories\": [\"x\"], \"from\": "
	          "\"updated\", \"keep_at_least\": \"1 year\"},"
	          "{\"id\": \"del\", \"categories\": [\"y\"], \"from\": "
	          "\"contract_end\", \"after\": \"0 days\", \"action\": "
	          "\"delete\"}");
	r = pol_register_find(p, "r");
	assert_true(pol_retention_from_used(r, "updated"));
	assert_true(pol_retention_from_used(r, "contract_end"));
	assert_false(pol_retention_from_used(r, "collected"));
	assert_false(pol_retention_from_used(r, "relationship_end"));
	assert_false(pol_field_planned(r, pol_field_find(r, "a")));
	assert_true(pol_field_planned(r, pol_field_find(r, "b")));
	pol_free(&p);

	/* no rules at all */
	p = rules("");
	r = pol_register_find(p, "r");
	for (i = 0; i < 4; i++)
		assert_false(pol_retention_from_used(r, events[i]));
	assert_false(pol_field_planned(r, pol_field_find(r, "a")));
	pol_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_span_parse),
	    cmocka_unit_test(test_calendar),
	    cmocka_unit_test(test_customers),
	    cmocka_unit_test(test_acis),
	    cmocka_unit_test(test_several_rules),
	    cmocka_unit_test(test_zero_after),
	    cmocka_unit_test(test_helpers),
	    cmocka_unit_test(test_worked_example),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
