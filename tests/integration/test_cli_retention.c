/*
 * test_cli_retention.c - the retention commands of privctl (issue 9),
 * end to end against a real privd on the test clock, as privctl(1) and
 * README's privctl section describe them: relationship-end (--at, --undo),
 * a delete that keeps fields (what was kept, exit 6), hold set|list|lift,
 * register contract-end; each with its bad input, a clear message and the
 * documented exit code (2 usage, 3 denied, 4 not found, 5 invalid, 6
 * retained or a conflict). retention preview|run and report are in
 * test_cli_report.c.
 *
 * The example policy (policy/examples/aktiivitieto.json): crm manages
 * customers, acis the ACIS register, dpo is policy_admin and
 * subject_rights, reporting reads aggregates.
 */
#define _GNU_SOURCE
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
 * relationship-end: --at DATE (printed back, with the fields re-planned),
 * --undo, now by privd's clock, --json; refused: a date before 2000 or
 * more than a year ahead (5), --at with --undo or a date privctl cannot
 * read (2), a subject not stored (4), an unknown register or a principal
 * without a write grant (3). None of it changes the recorded end.
 */
static void
test_relationship_end(void **state)
{
	harness *h = *state;
	char day[16], iso[32], line[128], far[16];
	int64_t now, at;
	uint64_t t1, t2;
	h_result r;
	const char *p;

	put_customer3(h, "c-1");
	now = (int64_t)h_clock_us(h);
	at = midnight(add_months(now, -24));
	date_of(at, day);
	iso_of(at, iso);
	PC(h, "crm", 0, &r, "relationship-end", CUST, "c-1", "--at", day);
	snprintf(line, sizeof(line),
	    "relationship ended at %s; 3 field(s) re-planned", iso);
	expect_line(r.out, line);

	PC(h, "crm", 0, &r, "relationship-end", CUST, "c-1", "--undo");
	expect_line(r.out, "relationship end undone; 3 field(s) re-planned");

	/* now, by privd's clock, as JSON */
	t1 = h_clock_us(h);
	PC(h, "crm", 0, &r, "relationship-end", CUST, "c-1", "--json");
	t2 = h_clock_us(h);
	assert_non_null(p = strstr(r.out, "\"at_us\":"));
	{
		unsigned long long v = strtoull(p + 8, NULL, 10);

		assert_true(v >= t1 && v <= t2);
	}
	assert_non_null(strstr(r.out, "\"fields\":3"));
	assert_non_null(strstr(r.out, "\"at\":\""));
	PC(h, "crm", 0, &r, "relationship-end", CUST, "c-1", "--at", day,
	    "--json");
	snprintf(line, sizeof(line), "\"at_us\":%lld", (long long)at);
	assert_non_null(strstr(r.out, line));

	/* bad input */
	PC(h, "crm", 5, &r, "relationship-end", CUST, "c-1", "--at",
	    "1999-12-31");
	expect_why(&r, "invalid", "c-1");
	date_of(add_months(now, 13), far);
	PC(h, "crm", 5, &r, "relationship-end", CUST, "c-1", "--at", far);
	expect_why(&r, "invalid", "c-1");
	PC(h, "crm", 2, &r, "relationship-end", CUST, "c-1", "--at",
	    "yesterday");
	expect_why(&r, "--at", "c-1");
	PC(h, "crm", 2, &r, "relationship-end", CUST, "c-1", "--at", day,
	    "--undo");
	expect_why(&r, "--undo", "c-1");
	PC(h, "crm", 2, &r, "relationship-end", CUST);
	expect_why(&r, "usage", NULL);
	PC(h, "crm", 4, &r, "relationship-end", CUST, "c-unknown-77");
	expect_why(&r, "not found", "c-unknown-77");
	PC(h, "crm", 3, &r, "relationship-end", "no-such-register", "c-1");
	expect_why(&r, "unknown_register", "c-1");
	PC(h, "reporting", 3, &r, "relationship-end", CUST, "c-1");
	expect_why(&r, "denied", "c-1");
	PC(h, "dpo", 3, &r, "relationship-end", CUST, "c-1");
	expect_why(&r, "denied", "c-1");
	/* 2001 is Unix seconds: in 1970, before 2000; the error as JSON */
	PC(h, "crm", 5, &r, "relationship-end", CUST, "c-1", "--at", "2001",
	    "--json");
	assert_true(strncmp(r.out, "{\"error\":{", 10) == 0);
	assert_non_null(strstr(r.out, "\"status\":\"invalid\""));

	/* the end recorded last stands: a delete keeps billing_details
	 * until 6 years after it */
	iso_of(add_months(at, 72), iso);
	PC(h, "crm", 6, &r, "delete", CUST, "c-1", "billing_details",
	    "--purpose", CR);
	snprintf(line, sizeof(line),
	    "kept billing_details: rule bookkeeping, until %s", iso);
	expect_line(r.out, line);
}

/*
 * delete: what it removed, then one line per field kept and why, and exit
 * 6 with privd's message on stderr: a field under "bookkeeping" before the
 * relationship ended (its period has not started), after (until the
 * date), a field under a hold (its reason); --json; a delete keeping
 * nothing exits 0; bad input.
 */
static void
test_delete_prints_what_was_kept(void **state)
{
	harness *h = *state;
	char day[16], iso[32], line[160];
	privd_record *rec = NULL;
	privd_client *c;
	int64_t at;
	h_result r;

	put_customer3(h, "c-1");
	PC(h, "crm", 6, &r, "delete", CUST, "c-1", "--purpose", CR);
	assert_string_equal(r.out,
	    "deleted 2 field(s)\n"
	    "kept billing_details: rule bookkeeping (its period has not "
	    "started yet)\n");
	assert_true(strncmp(r.err, "privctl: ", 9) == 0);
	assert_null(strstr(r.err, "c-1"));
	c = client(h, "crm");
	expect_rc(c, privd_get(c, CUST, "c-1", CR, NULL, 0, &rec), PRIVD_OK,
	    "get what was kept");
	assert_int_equal(rec->nfields, 1);
	assert_string_equal(rec->fields[0].name, "billing_details");
	privd_record_free(&rec);
	privd_close(&c);

	at = midnight(add_months((int64_t)h_clock_us(h), -24));
	date_of(at, day);
	PC(h, "crm", 0, &r, "relationship-end", CUST, "c-1", "--at", day);
	iso_of(add_months(at, 72), iso);
	PC(h, "crm", 6, &r, "delete", CUST, "c-1", "billing_details",
	    "--purpose", CR);
	snprintf(line, sizeof(line),
	    "deleted 0 field(s)\nkept billing_details: rule bookkeeping, "
	    "until %s\n",
	    iso);
	assert_string_equal(r.out, line);
	PC(h, "crm", 6, &r, "delete", CUST, "c-1", "--purpose", CR, "--json");
	snprintf(line, sizeof(line),
	    "{\"deleted\":0,\"retained\":[{\"field\":\"billing_details\","
	    "\"rule\":\"bookkeeping\",\"until\":\"%s\",\"until_us\":%lld,"
	    "\"hold_reason\":null}]}\n",
	    iso, (long long)add_months(at, 72));
	assert_string_equal(r.out, line);
	assert_string_equal(r.err, "");

	/* a hold */
	put_customer3(h, "c-2");
	PC(h, "dpo", 0, &r, "hold", "set", CUST, "c-2", "--reason",
	    "case 2026/17");
	PC(h, "crm", 6, &r, "delete", CUST, "c-2", "name", "email", "--purpose",
	    CR);
	/* (in some order) */
	assert_int_equal(nlines(r.out), 3);
	assert_true(strncmp(r.out, "deleted 0 field(s)\n", 19) == 0);
	expect_line(r.out, "kept email: legal hold \"case 2026/17\", until "
	                   "lifted");
	expect_line(
	    r.out, "kept name: legal hold \"case 2026/17\", until lifted");

	/* nothing kept: exit 0 */
	put_customer3(h, "c-3");
	PC(h, "crm", 0, &r, "delete", CUST, "c-3", "name", "email", "--purpose",
	    CR);
	assert_string_equal(r.out, "deleted 2 field(s)\n");

	/* bad input */
	PC(h, "crm", 2, &r, "delete", CUST, "c-3", "name");
	expect_why(&r, "--purpose", "c-3");
	PC(h, "crm", 4, &r, "delete", CUST, "c-unknown-77", "--purpose", CR);
	expect_why(&r, "not found", "c-unknown-77");
	PC(h, "billing", 3, &r, "delete", CUST, "c-1", "--purpose",
	    "invoicing");
	expect_why(&r, "denied", "c-1");
}

/*
 * hold set (on a subject, replaced, on a whole register until a date),
 * hold list (every register or one, by register then time set, --json),
 * hold lift (a subject's, the register's; twice: 4), and bad input: no or
 * an empty reason or subject (2), a reason too long or an end in the past
 * (5), an undeclared register or a principal without the role (3).
 */
static void
test_holds(void **state)
{
	harness *h = *state;
	char until_day[16], until_iso[32], line[256], want[256], set[32];
	char reason[300];
	int64_t until, now;
	h_result r;

	now = (int64_t)h_clock_us(h);
	PC(h, "dpo", 0, &r, "hold", "set", CUST, "c-1", "--reason",
	    "case 2026/17");
	assert_string_equal(r.out, "hold set on a subject of register "
	                           "customers, until lifted\n");
	PC(h, "dpo", 0, &r, "hold", "set", CUST, "c-1", "--reason",
	    "case 2026/17", "--json");
	assert_string_equal(r.out, "{\"replaced\":true}\n");
	until = midnight(now) + 30 * US_PER_DAY;
	date_of(until, until_day);
	iso_of(until, until_iso);
	PC(h, "dpo", 0, &r, "hold", "set", ACIS, "--reason", "client audit",
	    "--until", until_day);
	snprintf(want, sizeof(want),
	    "hold set on the whole register acis, until %s\n", until_iso);
	assert_string_equal(r.out, want);

	/* acis's first: by register */
	PC(h, "dpo", 0, &r, "hold", "list");
	assert_int_equal(nlines(r.out), 2);
	assert_true(strncmp(r.out, "acis * ", 7) == 0);
	line_of(r.out, "acis * ", line, sizeof(line));
	assert_int_equal(sscanf(line, "acis * %*s %31s", set), 1);
	snprintf(want, sizeof(want), "acis * %s %s dpo client audit", until_iso,
	    set);
	assert_string_equal(line, want);
	assert_true(set[0] >= '2' && strlen(set) >= 20);
	line_of(r.out, "customers c-1 - ", line, sizeof(line));
	assert_non_null(strstr(line, " dpo case 2026/17"));
	PC(h, "dpo", 0, &r, "hold", "list", CUST);
	assert_int_equal(nlines(r.out), 1);
	assert_true(strncmp(r.out, "customers c-1 - ", 16) == 0);
	PC(h, "dpo", 0, &r, "hold", "list", "--json");
	assert_non_null(strstr(r.out, "\"subject\":null"));
	assert_non_null(strstr(r.out, "\"subject\":\"c-1\""));
	assert_non_null(strstr(r.out, "\"reason\":\"client audit\""));
	assert_non_null(strstr(r.out, "\"until\":null"));
	assert_non_null(strstr(r.out, "\"set_by\":\"dpo\""));

	/* bad input, and nothing changes */
	PC(h, "dpo", 2, &r, "hold", "set", CUST, "c-2");
	expect_why(&r, "--reason", "c-2");
	PC(h, "dpo", 2, &r, "hold", "set", CUST, "c-2", "--reason", "");
	expect_why(&r, "--reason", "c-2");
	PC(h, "dpo", 2, &r, "hold", "set", CUST, "", "--reason", "x");
	expect_why(&r, "SUBJECT", NULL);
	PC(h, "dpo", 2, &r, "hold", "set", CUST, "c-2", "--reason", "x",
	    "--until", "soon");
	expect_why(&r, "--until", "c-2");
	memset(reason, 'r', 257);
	reason[257] = '\0';
	PC(h, "dpo", 5, &r, "hold", "set", CUST, "c-2", "--reason", reason);
	expect_why(&r, "invalid", "c-2");
	PC(h, "dpo", 5, &r, "hold", "set", CUST, "c-2", "--reason", "x",
	    "--until", "2001-01-01");
	expect_why(&r, "invalid", "c-2");
	PC(h, "dpo", 3, &r, "hold", "set", "no-such-register", "--reason", "x");
	expect_why(&r, "unknown_register", NULL);
	PC(h, "crm", 3, &r, "hold", "set", CUST, "c-2", "--reason", "x");
	expect_why(&r, "role_required", "c-2");
	PC(h, "crm", 3, &r, "hold", "list");
	expect_why(&r, "role_required", NULL);
	PC(h, "crm", 3, &r, "hold", "lift", CUST, "c-1");
	expect_why(&r, "role_required", "c-1");
	PC(h, "dpo", 0, &r, "hold", "list");
	assert_int_equal(nlines(r.out), 2);

	/* lift */
	PC(h, "dpo", 0, &r, "hold", "lift", CUST, "c-1");
	assert_string_equal(r.out, "hold lifted\n");
	PC(h, "dpo", 4, &r, "hold", "lift", CUST, "c-1");
	expect_why(&r, "not found", "c-1");
	PC(h, "dpo", 0, &r, "hold", "lift", ACIS, "--json");
	assert_string_equal(r.out, "{\"lifted\":true}\n");
	PC(h, "dpo", 0, &r, "hold", "list");
	assert_string_equal(r.out, "no holds in force\n");
	PC(h, "dpo", 0, &r, "hold", "list", "--json");
	assert_string_equal(r.out, "{\"holds\":[]}\n");
}

/* acis puts a respondent's name with privctl; the exit code. */
static int
cli_put_acis(harness *h, const char *subject, h_result *r)
{
	const char *const args[] = {"put", ACIS, subject, "--purpose",
	    "satisfaction_tracking", "name=Aino Vastaaja", NULL};

	assert_int_equal(
	    h_privctl(h, "acis", NULL, args, H_RUN_TIMEOUT_MS, r), 0);
	return exit_status(r);
}

/*
 * register contract-end: --at a date ahead (printed back; writes go on
 * until then), --undo, now (writes refused from then on, exit 6 naming
 * the register), --json; the purge, previewed and run, counting 0
 * anonymous records; the undo refused once the purge began (6); bad
 * input: not a policy_admin or an unknown register (3), a date before
 * 2000 or more than a year ahead (5), --at with --undo, no register (2).
 */
static void
test_contract_end(void **state)
{
	harness *h = *state;
	char day[16], iso[32], want[160], far[16];
	int64_t now, at;
	h_result r;

	assert_int_equal(cli_put_acis(h, "resp-1", &r), 0);
	now = (int64_t)h_clock_us(h);
	at = midnight(now) + 10 * US_PER_DAY;
	date_of(at, day);
	iso_of(at, iso);
	PC(h, "dpo", 0, &r, "register", "contract-end", ACIS, "--at", day);
	snprintf(want, sizeof(want),
	    "contract of register acis ended at %s: writes to it are refused "
	    "from then on\n",
	    iso);
	assert_string_equal(r.out, want);
	assert_int_equal(cli_put_acis(h, "resp-2", &r), 0);
	PC(h, "dpo", 0, &r, "register", "contract-end", ACIS, "--undo");
	assert_string_equal(r.out, "contract end of register acis undone\n");

	/* bad input */
	PC(h, "crm", 3, &r, "register", "contract-end", ACIS);
	expect_why(&r, "role_required", NULL);
	PC(h, "dpo", 3, &r, "register", "contract-end", "no-such-register");
	expect_why(&r, "unknown_register", NULL);
	PC(h, "dpo", 5, &r, "register", "contract-end", ACIS, "--at",
	    "1999-01-01");
	expect_why(&r, "invalid", NULL);
	date_of(add_months(now, 13), far);
	PC(h, "dpo", 5, &r, "register", "contract-end", ACIS, "--at", far);
	expect_why(&r, "invalid", NULL);
	PC(h, "dpo", 2, &r, "register", "contract-end", ACIS, "--at", day,
	    "--undo");
	expect_why(&r, "--undo", NULL);
	PC(h, "dpo", 2, &r, "register", "contract-end");
	expect_why(&r, "usage", NULL);
	assert_int_equal(cli_put_acis(h, "resp-3", &r), 0);

	/* now */
	PC(h, "dpo", 0, &r, "register", "contract-end", ACIS, "--json");
	assert_true(
	    strncmp(r.out, "{\"register\":\"acis\",\"at\":\"", 25) == 0);
	assert_non_null(strstr(r.out, "\"at_us\":"));
	assert_int_equal(cli_put_acis(h, "resp-4", &r), 6);
	expect_why(&r, ACIS, "resp-4");
	assert_int_equal(cli_put_acis(h, "resp-1", &r), 6);

	/* purged (rule contract-end: 0 days), the end stays; the purge
	 * destroys no anonymous record (none was made): 0, in the JSON and
	 * in the table, where another action would say "-" */
	clock_to(h, (int64_t)h_clock_us(h) + US_PER_S);
	PC(h, "dpo", 0, &r, "retention", "preview", "--json");
	assert_non_null(strstr(r.out,
	    "\"counts\":[{\"register\":\"acis\",\"rule\":\"contract-end\","
	    "\"action\":\"contract_end_purge\",\"fields\":3,\"subjects\":3,"
	    "\"held\":0,\"anonymous_records\":0}]"));
	PC(h, "dpo", 0, &r, "retention", "run");
	expect_run_line(
	    r.out, ACIS, "contract-end", "contract_end_purge", 3, 3, 0);
	line_of(r.out, "acis ", want, sizeof(want));
	{
		char anon[16];

		assert_int_equal(
		    sscanf(want, "%*s %*s %*s %*s %*s %*s %15s", anon), 1);
		assert_string_equal(anon, "0");
	}
	PC(h, "dpo", 6, &r, "register", "contract-end", ACIS, "--undo");
	expect_why(&r, "conflict", NULL);
	PC(h, "acis", 4, &r, "get", ACIS, "resp-1", "--purpose",
	    "satisfaction_tracking");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_relationship_end, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(test_delete_prints_what_was_kept,
	        ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_holds, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_contract_end, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/cli_retention", tests, NULL, NULL);
}
