/*
 * test_privctl_output.c - privctl's pure output helpers (client/privctl/
 * output.c): how a duration reads to an admin; and what the retention
 * commands print (cmd_retention.c, cmd_data.c, cmd_audit.c, and policy
 * apply's re-plan in cmd_policy.c) and the subject commands
 * (cmd_subject.c) for answers made up here, as text and as JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "privctl.h"

static void
expect_duration(uint64_t secs, const char *want)
{
	char buf[48];

	assert_string_equal(duration(secs, buf), want);
}

/* Exact values read as they are. */
static void
test_duration_exact(void **state)
{
	(void)state;
	expect_duration(0, "0 s");
	expect_duration(45, "45 s");
	expect_duration(60, "1 min");
	expect_duration(3 * 3600 + 20 * 60, "3 h 20 min");
	expect_duration(86400, "1 day");
	expect_duration(86400 + 2 * 3600, "1 day 2 h");
	expect_duration(3 * 86400, "3 days");
	expect_duration(1825 * 86400ULL, "1825 days");
}

/*
 * A value is rounded to the last unit shown, not cut: privd measures a
 * clock jump of 3 days as 259199 s or 259200 s (whole seconds of a
 * difference of two clocks), and "2 days 23 h" would be off by an hour.
 */
static void
test_duration_rounds(void **state)
{
	(void)state;
	expect_duration(3 * 86400 - 1, "3 days");
	expect_duration(3 * 86400 + 1, "3 days");
	expect_duration(86400 + 2 * 3600 + 29 * 60, "1 day 2 h");
	expect_duration(86400 + 2 * 3600 + 31 * 60, "1 day 3 h");
	expect_duration(86400 - 1, "1 day");
	expect_duration(2 * 3600 - 1, "2 h 0 min");
	expect_duration(3600 + 29, "1 h 0 min");
	expect_duration(3600 + 31, "1 h 1 min");
	expect_duration(3600 - 1, "1 h 0 min");
	expect_duration(2 * 60 - 1, "2 min");
	expect_duration(60 + 29, "1 min");
	expect_duration(59, "59 s");
	/* no wrap-around at the top */
	expect_duration(UINT64_MAX, "213503982334601 days 7 h");
}

/*
 * Capturing stdout: begin() points file descriptor 1 at a temporary file,
 * end() puts it back and returns what was written (malloc'd).
 */
static FILE *cap_file;
static int cap_saved = -1;

static void
begin(void)
{
	fflush(stdout);
	cap_file = tmpfile();
	assert_non_null(cap_file);
	cap_saved = dup(1);
	assert_true(cap_saved >= 0);
	assert_true(dup2(fileno(cap_file), 1) >= 0);
}

static char *
end(void)
{
	long len;
	char *s;

	fflush(stdout);
	assert_true(dup2(cap_saved, 1) >= 0);
	close(cap_saved);
	len = ftell(cap_file);
	assert_true(len >= 0);
	s = calloc(1, (size_t)len + 1);
	assert_non_null(s);
	rewind(cap_file);
	assert_int_equal(fread(s, 1, (size_t)len, cap_file), (size_t)len);
	fclose(cap_file);
	return s;
}

/* 2026-11-27T10:00:00Z and 2032-11-27T00:00:00Z, in microseconds. */
#define T_NOW   1795773600000000ULL
#define T_LATER 1985126400000000ULL

static const privd_retention_count counts[] = {
    {"acis", "identifying-24m", "anonymize", 12, 4, 0, 0},
    {"customers", "bookkeeping", "delete", 3, 3, 1, 0},
    {"leads", "contract", "contract_end_purge", 20, 10, 0, 1234567890},
};

/*
 * retention run and preview: a heading that says which it was and as of
 * when, one aligned line per register and rule under a header, what was
 * examined, and a sweep stopped at its limit says so. The anonymous
 * records a contract-end purge destroys have a column, '-' for the other
 * actions.
 */
static void
test_sweep_text(void **state)
{
	privd_retention_report r = {
	    T_NOW, 17, 1, (privd_retention_count *)counts, 2};
	privd_retention_count purge[2] = {counts[0], counts[2]};
	struct opts o = {0};
	char *out;

	(void)state;
	begin();
	assert_int_equal(print_sweep(&o, &r, 0, 15), 0);
	out = end();
	assert_string_equal(out,
	    "sweep as of 2026-11-27T10:00:00Z\n"
	    "register   rule             action     fields  subjects  held  "
	    "anonymous\n"
	    "acis       identifying-24m  anonymize      12         4     0  "
	    "        -\n"
	    "customers  bookkeeping      delete          3         3     1  "
	    "        -\n"
	    "examined 17 due-index entries\n"
	    "stopped after 15 field action(s): more is due (run again)\n");
	free(out);

	/* a purge: its count (0 too), and the column widens */
	r.counts = purge;
	r.more = 0;
	begin();
	assert_int_equal(print_sweep(&o, &r, 1, 0), 0);
	out = end();
	assert_string_equal(out,
	    "preview as of 2026-11-27T10:00:00Z (nothing changed)\n"
	    "register  rule             action              fields  subjects  "
	    "held   anonymous\n"
	    "acis      identifying-24m  anonymize               12         4  "
	    "   0           -\n"
	    "leads     contract         contract_end_purge      20        10  "
	    "   0  1234567890\n"
	    "examined 17 due-index entries\n");
	free(out);
	purge[1].anonymous_records = 0;
	begin();
	assert_int_equal(print_sweep(&o, &r, 1, 0), 0);
	out = end();
	assert_non_null(strstr(out,
	    "leads     contract         contract_end_purge      20        10  "
	    "   0          0\n"));
	free(out);
	r.counts = (privd_retention_count *)counts;

	r.ncounts = 0;
	r.more = 0;
	begin();
	assert_int_equal(print_sweep(&o, &r, 1, 0), 0);
	out = end();
	assert_string_equal(out,
	    "preview as of 2026-11-27T10:00:00Z (nothing changed)\n"
	    "nothing would be done\n"
	    "examined 17 due-index entries\n");
	free(out);
}

static void
test_sweep_json(void **state)
{
	privd_retention_report r = {
	    T_NOW, 17, 0, (privd_retention_count *)counts, 3};
	struct opts o = {0};
	char *out;

	(void)state;
	o.json = 1;
	begin();
	assert_int_equal(print_sweep(&o, &r, 1, 0), 0);
	out = end();
	assert_string_equal(out,
	    "{\"preview\":true,\"as_of\":\"2026-11-27T10:00:00Z\","
	    "\"as_of_us\":1795773600000000,\"examined\":17,\"more\":false,"
	    "\"counts\":[{\"register\":\"acis\",\"rule\":\"identifying-24m\","
	    "\"action\":\"anonymize\",\"fields\":12,\"subjects\":4,"
	    "\"held\":0,\"anonymous_records\":0},{\"register\":"
	    "\"customers\",\"rule\":\"bookkeeping\",\"action\":\"delete\","
	    "\"fields\":3,\"subjects\":3,\"held\":1,\"anonymous_records\":0},"
	    "{\"register\":\"leads\",\"rule\":\"contract\",\"action\":"
	    "\"contract_end_purge\",\"fields\":20,\"subjects\":10,"
	    "\"held\":0,\"anonymous_records\":1234567890}]}\n");
	free(out);
}

/*
 * hold list: a register hold shows '*' for its subject, a hold until
 * lifted '-' for its end; a subject id that is not printable is base64.
 */
static void
test_holds(void **state)
{
	privd_hold h[3] = {
	    {"acis", "", "contract dispute 2026/3", 0, T_NOW, "dpo"},
	    {"customers", "c-42", "litigation", T_LATER, T_NOW, "dpo"},
	    {"customers", "\x01\x02", "x", 0, T_NOW, "admin"},
	};
	struct opts o = {0};
	char *out;

	(void)state;
	begin();
	assert_int_equal(print_holds(&o, h, 3), 0);
	out = end();
	assert_string_equal(out,
	    "acis * - 2026-11-27T10:00:00Z dpo contract dispute 2026/3\n"
	    "customers c-42 2032-11-27T00:00:00Z 2026-11-27T10:00:00Z dpo "
	    "litigation\n"
	    "customers base64:AQI= - 2026-11-27T10:00:00Z admin x\n");
	free(out);

	begin();
	assert_int_equal(print_holds(&o, h, 0), 0);
	out = end();
	assert_string_equal(out, "no holds in force\n");
	free(out);

	o.json = 1;
	begin();
	assert_int_equal(print_holds(&o, h, 2), 0);
	out = end();
	assert_string_equal(out,
	    "{\"holds\":[{\"register\":\"acis\",\"subject\":null,"
	    "\"reason\":\"contract dispute 2026/3\",\"until\":null,"
	    "\"until_us\":null,\"set_at\":\"2026-11-27T10:00:00Z\","
	    "\"set_at_us\":1795773600000000,\"set_by\":\"dpo\"},"
	    "{\"register\":\"customers\",\"subject\":\"c-42\","
	    "\"reason\":\"litigation\",\"until\":\"2032-11-27T00:00:00Z\","
	    "\"until_us\":1985126400000000,\"set_at\":"
	    "\"2026-11-27T10:00:00Z\",\"set_at_us\":1795773600000000,"
	    "\"set_by\":\"dpo\"}]}\n");
	free(out);
}

/*
 * report: groups by value, the records without one as "(none)", a value
 * that is not printable as base64; without --group-by one group "(all)".
 * An integer field has sum, mean, min and max (test_aggregate_counts: a
 * field of another type has none).
 */
static void
test_aggregate(void **state)
{
	privd_aggregate_group g[3] = {
	    {(const uint8_t *)"north", 5, 0, 12, 48, 4.0, 1, 5},
	    {(const uint8_t *)"\xff", 1, 0, 5, -10, -2.0, -4, 0},
	    {(const uint8_t *)"", 0, 1, 6, 18, 3.0, 2, 4},
	};
	privd_aggregate_result r = {g, 3, 2, 7, 5, 1};
	struct opts o = {0};
	char *out;

	(void)state;
	begin();
	assert_int_equal(
	    print_aggregate(&o, "acis", "feedback_score", "region", &r), 0);
	out = end();
	assert_string_equal(out,
	    "acis.feedback_score by region (groups of fewer than 5 subjects "
	    "suppressed)\n"
	    "group        count  sum   mean  min  max\n"
	    "north           12   48   4.00    1    5\n"
	    "base64:/w==      5  -10  -2.00   -4    0\n"
	    "(none)           6   18   3.00    2    4\n"
	    "suppressed: 2 group(s), 7 record(s)\n");
	free(out);

	r.ngroups = 1;
	g[0].keylen = 0;
	begin();
	assert_int_equal(
	    print_aggregate(&o, "acis", "feedback_score", NULL, &r), 0);
	out = end();
	assert_string_equal(out,
	    "acis.feedback_score (groups of fewer than 5 subjects "
	    "suppressed)\n"
	    "group  count  sum  mean  min  max\n"
	    "(all)     12   48  4.00    1    5\n"
	    "suppressed: 2 group(s), 7 record(s)\n");
	free(out);

	g[0].keylen = 5;
	r.ngroups = 3;
	o.json = 1;
	begin();
	assert_int_equal(
	    print_aggregate(&o, "acis", "feedback_score", "region", &r), 0);
	out = end();
	assert_string_equal(out,
	    "{\"register\":\"acis\",\"field\":\"feedback_score\","
	    "\"group_by\":\"region\",\"integer\":true,\"min_group\":5,"
	    "\"groups\":["
	    "{\"key\":\"north\",\"missing\":false,\"count\":12,\"sum\":48,"
	    "\"mean\":4.0,\"min\":1,\"max\":5},"
	    "{\"key\":{\"base64\":\"/w==\"},\"missing\":false,\"count\":5,"
	    "\"sum\":-10,\"mean\":-2.0,\"min\":-4,\"max\":0},"
	    "{\"key\":null,\"missing\":true,\"count\":6,\"sum\":18,"
	    "\"mean\":3.0,\"min\":2,\"max\":4}],"
	    "\"suppressed_groups\":2,\"suppressed_records\":7}\n");
	free(out);
}

/*
 * report of a field that is no integer: only counts, as text (no sum,
 * mean, min or max columns) and as JSON (no such members), and the JSON
 * says integer false.
 */
static void
test_aggregate_counts(void **state)
{
	privd_aggregate_group g[2] = {
	    {(const uint8_t *)"north", 5, 0, 12, 0, 0.0, 0, 0},
	    {(const uint8_t *)"", 0, 1, 123456, 0, 0.0, 0, 0},
	};
	privd_aggregate_result r = {g, 2, 1, 3, 5, 0};
	struct opts o = {0};
	char *out;

	(void)state;
	begin();
	assert_int_equal(
	    print_aggregate(&o, "acis", "region", "region", &r), 0);
	out = end();
	assert_string_equal(out,
	    "acis.region by region (groups of fewer than 5 subjects "
	    "suppressed)\n"
	    "group    count\n"
	    "north       12\n"
	    "(none)  123456\n"
	    "suppressed: 1 group(s), 3 record(s)\n");
	free(out);

	/* nothing shown: no header either */
	r.ngroups = 0;
	begin();
	assert_int_equal(print_aggregate(&o, "acis", "region", NULL, &r), 0);
	out = end();
	assert_string_equal(out,
	    "acis.region (groups of fewer than 5 subjects suppressed)\n"
	    "suppressed: 1 group(s), 3 record(s)\n");
	free(out);

	r.ngroups = 2;
	o.json = 1;
	begin();
	assert_int_equal(
	    print_aggregate(&o, "acis", "region", "region", &r), 0);
	out = end();
	assert_string_equal(out,
	    "{\"register\":\"acis\",\"field\":\"region\","
	    "\"group_by\":\"region\",\"integer\":false,\"min_group\":5,"
	    "\"groups\":[{\"key\":\"north\",\"missing\":false,"
	    "\"count\":12},{\"key\":null,\"missing\":true,"
	    "\"count\":123456}],\"suppressed_groups\":1,"
	    "\"suppressed_records\":3}\n");
	free(out);
}

/*
 * delete: what was removed, then one line per field kept and why: a rule
 * until a date, a rule whose period has not started (until 0), a hold
 * until lifted or until a date.
 */
static void
test_delete_retained(void **state)
{
	privd_retained k[4] = {
	    {"billing_details", "bookkeeping", T_LATER, ""},
	    {"iban", "bookkeeping", 0, ""},
	    {"email", "", 0, "litigation 2026/17"},
	    {"name", "", T_LATER, "audit"},
	};
	struct opts o = {0};
	char *out;

	(void)state;
	begin();
	assert_int_equal(print_delete(&o, 3, k, 4), 0);
	out = end();
	assert_string_equal(out,
	    "deleted 3 field(s)\n"
	    "kept billing_details: rule bookkeeping, until "
	    "2032-11-27T00:00:00Z\n"
	    "kept iban: rule bookkeeping (its period has not started yet)\n"
	    "kept email: legal hold \"litigation 2026/17\", until lifted\n"
	    "kept name: legal hold \"audit\", until 2032-11-27T00:00:00Z\n");
	free(out);

	begin();
	assert_int_equal(print_delete(&o, 2, NULL, 0), 0);
	out = end();
	assert_string_equal(out, "deleted 2 field(s)\n");
	free(out);

	o.json = 1;
	begin();
	assert_int_equal(print_delete(&o, 3, k, 3), 0);
	out = end();
	assert_string_equal(out,
	    "{\"deleted\":3,\"retained\":["
	    "{\"field\":\"billing_details\",\"rule\":\"bookkeeping\","
	    "\"until\":\"2032-11-27T00:00:00Z\","
	    "\"until_us\":1985126400000000,\"hold_reason\":null},"
	    "{\"field\":\"iban\",\"rule\":\"bookkeeping\",\"until\":null,"
	    "\"until_us\":null,\"hold_reason\":null},"
	    "{\"field\":\"email\",\"rule\":null,\"until\":null,"
	    "\"until_us\":null,\"hold_reason\":\"litigation 2026/17\"}]}\n");
	free(out);
}

/* audit: a retention action's line ends with its rule; JSON has "rule"
 * (null for any other event). */
static void
test_audit_rule(void **state)
{
	static char *fields[] = {"email", "name"};
	privd_audit_event e = {0};
	struct opts o = {0};
	char *out;

	(void)state;
	e.seq = 42;
	e.time_us = T_NOW;
	strcpy(e.principal, "retention");
	strcpy(e.op, "retention_delete");
	strcpy(e.reg, "customers");
	strcpy(e.rule, "relationship-1y");
	e.fields = fields;
	e.nfields = 2;
	e.decision = PRIVD_DECISION_ALLOWED;
	e.status = 1;
	begin();
	assert_int_equal(print_event(&o, &e, 0), 0);
	e.rule[0] = '\0';
	strcpy(e.op, "get");
	assert_int_equal(print_event(&o, &e, 0), 0);
	out = end();
	assert_string_equal(out,
	    "42 2026-11-27T10:00:00.000000Z retention retention_delete "
	    "customers - email,name - allowed ok rule=relationship-1y\n"
	    "42 2026-11-27T10:00:00.000000Z retention get customers - "
	    "email,name - allowed ok\n");
	free(out);

	strcpy(e.rule, "relationship-1y");
	begin();
	assert_int_equal(print_event(&o, &e, 1), 0);
	out = end();
	assert_non_null(strstr(out, "\"rule\":\"relationship-1y\""));
	free(out);
	e.rule[0] = '\0';
	begin();
	assert_int_equal(print_event(&o, &e, 1), 0);
	out = end();
	assert_non_null(strstr(out, "\"rule\":null"));
	free(out);
}

/*
 * policy apply: the version in force, or unchanged; the subjects privd
 * re-plans only when there are some (one is "subject"); --json always
 * has replan_subjects.
 */
static void
test_policy_apply(void **state)
{
	privd_apply_result a = {4, 0, 0};
	struct opts o = {0};
	char *out;

	(void)state;
	begin();
	assert_int_equal(print_apply(&o, &a), 0);
	out = end();
	assert_string_equal(out, "policy version 4 in force\n");
	free(out);

	a.replan_subjects = 1200;
	begin();
	assert_int_equal(print_apply(&o, &a), 0);
	out = end();
	assert_string_equal(out, "policy version 4 in force; 1200 subjects "
	                         "re-planned in the background\n");
	free(out);

	a.replan_subjects = 1;
	begin();
	assert_int_equal(print_apply(&o, &a), 0);
	out = end();
	assert_string_equal(out, "policy version 4 in force; 1 subject "
	                         "re-planned in the background\n");
	free(out);

	a = (privd_apply_result){3, 1, 0};
	begin();
	assert_int_equal(print_apply(&o, &a), 0);
	out = end();
	assert_string_equal(
	    out, "policy unchanged: version 3 stays in force\n");
	free(out);

	o.json = 1;
	begin();
	assert_int_equal(print_apply(&o, &a), 0);
	out = end();
	assert_string_equal(
	    out, "{\"version\":3,\"unchanged\":true,\"replan_subjects\":0}\n");
	free(out);

	a = (privd_apply_result){4, 0, UINT64_MAX};
	begin();
	assert_int_equal(print_apply(&o, &a), 0);
	out = end();
	assert_string_equal(out,
	    "{\"version\":4,\"unchanged\":false,"
	    "\"replan_subjects\":\"18446744073709551615\"}\n");
	free(out);
}

/*
 * subject restrict and object: one line saying the state the subject is
 * in now and whether this changed it; --json the same as members. The
 * subject id is never printed.
 */
static void
test_restrict_object(void **state)
{
	struct opts o = {0};
	char *out;

	(void)state;
	begin();
	assert_int_equal(print_restrict(&o, "customers", 1, 1), 0);
	assert_int_equal(print_restrict(&o, "customers", 1, 0), 0);
	assert_int_equal(print_restrict(&o, "customers", 0, 1), 0);
	assert_int_equal(print_restrict(&o, "customers", 0, 0), 0);
	assert_int_equal(print_object(&o, "customers", "marketing", 1, 1), 0);
	assert_int_equal(print_object(&o, "customers", "marketing", 1, 0), 0);
	assert_int_equal(print_object(&o, "customers", "marketing", 0, 1), 0);
	assert_int_equal(print_object(&o, "customers", "marketing", 0, 0), 0);
	out = end();
	assert_string_equal(out,
	    "processing of the subject restricted in register customers\n"
	    "processing of the subject was already restricted in register "
	    "customers\n"
	    "restriction of the subject lifted in register customers\n"
	    "the subject was not restricted in register customers\n"
	    "objection to purpose marketing recorded in register customers\n"
	    "objection to purpose marketing was already recorded in register "
	    "customers\n"
	    "objection to purpose marketing withdrawn in register customers\n"
	    "there was no objection to purpose marketing in register "
	    "customers\n");
	free(out);

	o.json = 1;
	begin();
	assert_int_equal(print_restrict(&o, "customers", 0, 1), 0);
	assert_int_equal(print_object(&o, "acis", "cx_management", 1, 0), 0);
	out = end();
	assert_string_equal(out,
	    "{\"register\":\"customers\",\"restricted\":false,"
	    "\"changed\":true}\n"
	    "{\"register\":\"acis\",\"purpose\":\"cx_management\","
	    "\"objected\":true,\"changed\":false}\n");
	free(out);
}

/*
 * subject erase: per register what was deleted, each field kept and why
 * (as delete says it, indented), and whether the data key was destroyed;
 * --json {"registers": [...]}, "retained" as delete has it.
 */
static void
test_erasure(void **state)
{
	static char *acis_deleted[] = {"email", "feedback_text", "name"};
	static char *cust_deleted[] = {"email", "name"};
	privd_retained k[2] = {
	    {"billing_details", "bookkeeping", 0, ""},
	    {"phone", "", T_LATER, "litigation 2026/17"},
	};
	privd_erased_register r[3] = {
	    {"acis", acis_deleted, 3, NULL, 0, 1},
	    {"customers", cust_deleted, 2, k, 2, 0},
	    {"leads", NULL, 0, k, 1, 0},
	};
	privd_erasure e = {r, 3};
	struct opts o = {0};
	char *out;

	(void)state;
	begin();
	assert_int_equal(print_erasure(&o, &e), 0);
	out = end();
	assert_string_equal(out,
	    "register acis: deleted 3 field(s): email, feedback_text, name\n"
	    "  data key destroyed: nothing of the subject is left\n"
	    "register customers: deleted 2 field(s): email, name\n"
	    "  kept billing_details: rule bookkeeping (its period has not "
	    "started yet)\n"
	    "  kept phone: legal hold \"litigation 2026/17\", until "
	    "2032-11-27T00:00:00Z\n"
	    "  data key kept: the subject stays with the fields kept\n"
	    "register leads: deleted 0 field(s)\n"
	    "  kept billing_details: rule bookkeeping (its period has not "
	    "started yet)\n"
	    "  data key kept: the subject stays with the fields kept\n");
	free(out);

	o.json = 1;
	e.nregisters = 2;
	begin();
	assert_int_equal(print_erasure(&o, &e), 0);
	out = end();
	assert_string_equal(out,
	    "{\"registers\":[{\"register\":\"acis\",\"deleted\":[\"email\","
	    "\"feedback_text\",\"name\"],\"retained\":[],"
	    "\"key_destroyed\":true},{\"register\":\"customers\","
	    "\"deleted\":[\"email\",\"name\"],\"retained\":["
	    "{\"field\":\"billing_details\",\"rule\":\"bookkeeping\","
	    "\"until\":null,\"until_us\":null,\"hold_reason\":null},"
	    "{\"field\":\"phone\",\"rule\":null,"
	    "\"until\":\"2032-11-27T00:00:00Z\","
	    "\"until_us\":1985126400000000,"
	    "\"hold_reason\":\"litigation 2026/17\"}],"
	    "\"key_destroyed\":false}]}\n");
	free(out);

	/* a report of no register (privd said RETAINED, and nothing more) */
	e.nregisters = 0;
	e.registers = NULL;
	begin();
	assert_int_equal(print_erasure(&o, &e), 0);
	o.json = 0;
	assert_int_equal(print_erasure(&o, &e), 0);
	out = end();
	assert_string_equal(out, "{\"registers\":[]}\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration_exact),
	    cmocka_unit_test(test_duration_rounds),
	    cmocka_unit_test(test_sweep_text),
	    cmocka_unit_test(test_sweep_json),
	    cmocka_unit_test(test_holds),
	    cmocka_unit_test(test_aggregate),
	    cmocka_unit_test(test_aggregate_counts),
	    cmocka_unit_test(test_delete_retained),
	    cmocka_unit_test(test_audit_rule),
	    cmocka_unit_test(test_policy_apply),
	    cmocka_unit_test(test_restrict_object),
	    cmocka_unit_test(test_erasure),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
