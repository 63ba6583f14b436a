/*
 * test_rights_export.c - the export of everything about a data subject
 * (issue 10, second part: SubjectExport, privd_subject_export, privctl
 * subject export) under the example policy
 * (policy/examples/aktiivitieto.json): a person stored in both registers
 * gets every stored field with its value, type, category, source,
 * purpose, legal basis, times and retention; the document validates
 * against docs/subject-export.schema.json (validate_export.py); after a
 * scripted series of accesses by several principals, refused and
 * rejected ones among them, the recipients are exactly the allowed ones,
 * with their times, as the audit log has them; restriction, objections
 * and legal holds appear (a hold's reason does not); retention's actions
 * are listed apart; a damaged value is listed as damaged, without a
 * value, and the rest is exported; an unknown subject is NOT_FOUND and
 * audited; a principal without the role subject_rights is DENIED; an
 * export is itself an audit event; privctl writes the document to a 0600
 * file.
 *
 * A real privd on the test clock, sweeping only when asked
 * (ret_setup_example). The documents are read with jansson.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <lmdb.h>

#include "export_common.h"

#define SUBJ        "subj-export-5b81"
#define OTHER       "subj-export-other-2c4e"
#define UNKNOWN     "subj-export-nobody-77aa"
#define HOLD_REASON "court case 12/2026 canary-7f3e"

/* Documents the schema must refuse. */
static void
mut_member(json_t *d)
{
	json_object_set_new(d, "extra", json_true());
}

static void
mut_damaged_value(json_t *d)
{
	json_t *f = json_array_get(
	    json_object_get(
	        json_array_get(json_object_get(d, "registers"), 0), "fields"),
	    0);

	json_object_set_new(f, "damaged", json_true());
}

static void
mut_time(json_t *d)
{
	json_object_set_new(
	    d, "generated_at", json_string("2026-01-01T00:00:00Z"));
}

static void
mut_no_registers(json_t *d)
{
	json_object_del(d, "registers");
}

static void
mut_retention(json_t *d)
{
	json_t *f = json_array_get(
	    json_object_get(
	        json_array_get(json_object_get(d, "registers"), 0), "fields"),
	    0);

	json_object_set_new(
	    json_object_get(f, "retention"), "action", json_string("shred"));
}

/* Every field of both registers, with their policy facts and values, as
 * put_cust and put_acis wrote them; no relationship end, no state. */
static void
test_export_everything(void **state)
{
	harness *h = *state;
	privd_client *dpo;
	json_t *doc, *cust, *acis, *ctl;
	int64_t rel, coll;

	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	put_cust(h, OTHER, false);
	doc = export_ok(h, NULL, SUBJ);
	expect_str(doc, "format", "privd-subject-export");
	assert_int_equal(
	    json_integer_value(json_object_get(doc, "format_version")), 1);
	expect_str(doc, "subject", SUBJ);
	ctl = json_object_get(doc, "controller");
	expect_str(ctl, "name", "Suomen Aktiivitieto Oy");
	expect_str(ctl, "business_id", "1106062-3");
	dpo = client(h, RIGHTS);
	assert_int_equal(
	    json_integer_value(json_object_get(doc, "policy_version")),
	    policy_in_force(dpo));
	privd_close(&dpo);
	assert_true(llabs(time_of(json_object_get(doc, "generated_at")) -
	                  (int64_t)h_clock_us(h)) < 60 * US_PER_S);
	invalid(h, doc, mut_member, "an undocumented member");
	invalid(h, doc, mut_damaged_value, "a damaged field with a value");
	invalid(h, doc, mut_time, "a time without microseconds");
	invalid(h, doc, mut_no_registers, "no registers");
	invalid(h, doc, mut_retention, "an unknown retention action");
	/* by name, and nothing of the other subject */
	assert_int_equal(json_array_size(json_object_get(doc, "registers")), 2);
	expect_str(json_array_get(json_object_get(doc, "registers"), 0),
	    "register", ACIS);
	cust = reg_of(doc, CUST);
	acis = reg_of(doc, ACIS);
	expect_field_names(cust, CUST_ALL);
	expect_field_names(acis, ACIS_ALL);
	expect_field(cust, "name", "Kaisa Asiakas", "string", "identity",
	    "subject", CR, "contract");
	expect_field(cust, "email", "kaisa.asiakas@example.fi", "email",
	    "contact", "subject", CR, "contract");
	expect_field(cust, "phone", "+358 40 765 4321", "phone", "contact",
	    "subject", CR, "contract");
	expect_field(cust, "organisation", "Esimerkki Oy", "string",
	    "organisation", "third_party_registers", CR, "contract");
	expect_field(cust, "position", "purchasing manager", "string",
	    "organisation", "subject", CR, "contract");
	expect_field(cust, "organisation_address",
	    "Mannerheimintie 1, Helsinki", "text", "organisation",
	    "third_party_registers", CR, "contract");
	expect_field(cust, "customer_type", "company", "string",
	    "classification", "controller", CR, "contract");
	expect_field(cust, "classification", "key account", "string",
	    "classification", "controller", CR, "contract");
	expect_field(cust, "feedback_score", "8", "integer", "feedback",
	    "subject", CR, "contract");
	expect_field(cust, "feedback_text", "Quick delivery, friendly service",
	    "text", "feedback", "subject", CR, "contract");
	expect_field(cust, "billing_details",
	    "Invoices by e-invoice, net 14 days", "text", "billing", "subject",
	    CR, "contract");
	expect_field(acis, "name", "Vastaaja Virtanen", "string", "identity",
	    "reseller", ST_P, "legitimate_interest");
	expect_field(acis, "email", "vastaaja@example.fi", "email", "contact",
	    "reseller", ST_P, "legitimate_interest");
	expect_field(acis, "feedback_score", "4", "integer", "feedback",
	    "subject", ST_P, "legitimate_interest");
	expect_field(acis, "customer_type", "consumer", "string",
	    "classification", "reseller", ST_P, "legitimate_interest");
	/* the subject's state, none yet */
	assert_true(json_is_false(json_object_get(cust, "restricted")));
	assert_int_equal(
	    json_array_size(json_object_get(cust, "objections")), 0);
	assert_true(json_is_null(json_object_get(cust, "relationship_end")));
	assert_true(json_is_null(json_object_get(cust, "contract_end")));
	assert_int_equal(
	    json_array_size(json_object_get(cust, "legal_holds")), 0);
	/* retention: customers' rules count from the relationship's end,
	 * which has not come; acis anonymises 24 months after collection */
	expect_retention(cust, "name", NULL, NULL, 0, NULL, 0);
	expect_retention(
	    cust, "billing_details", NULL, NULL, 0, "bookkeeping", 0);
	coll = collected_of(acis, "name");
	expect_retention(acis, "name", "anonymize-24m", "anonymize",
	    add_months(coll, 24), NULL, 0);
	json_decref(doc);

	/* the relationship ends: a year to deletion, six to bookkeeping's */
	rel = (int64_t)h_clock_us(h);
	end_rel(h, SUBJ, rel);
	doc = export_ok(h, NULL, SUBJ);
	cust = reg_of(doc, CUST);
	assert_int_equal(
	    time_of(json_object_get(cust, "relationship_end")), rel);
	expect_retention(cust, "email", "after-customership", "delete",
	    add_months(rel, 12), NULL, 0);
	expect_retention(cust, "billing_details", "after-customership",
	    "delete", add_months(rel, 72), "bookkeeping", add_months(rel, 72));
	json_decref(doc);

	/* one register */
	doc = export_ok(h, ACIS, SUBJ);
	assert_int_equal(json_array_size(json_object_get(doc, "registers")), 1);
	expect_field_names(reg_of(doc, ACIS), ACIS_ALL);
	json_decref(doc);
}

/* Does the audit event e go into the recipients? */
static bool
is_recipient(const privd_audit_event *e)
{
	return e->decision == PRIVD_DECISION_ALLOWED &&
	       (e->status == 1 || e->status == 6) &&
	       (strcmp(e->op, "get") == 0 || strcmp(e->op, "put") == 0 ||
	           strcmp(e->op, "delete") == 0);
}

static const char *
op_name(const char *op)
{
	if (strcmp(op, "get") == 0)
		return "read";
	if (strcmp(op, "put") == 0)
		return "write";
	return op;
}

/* The recipients are exactly the allowed and carried out accesses of the
 * audit log, with their seqs, times, principals, purposes and fields. */
static void
expect_recipients(harness *h, const json_t *doc, const char *subject)
{
	const json_t *list = json_object_get(doc, "recipients");
	const json_t *r, *fl;
	evlist l;
	size_t i, n = 0, k;

	subject_events(h, subject, &l);
	for (i = 0; i < l.n; i++) {
		const privd_audit_event *e = l.ev[i];

		if (!is_recipient(e))
			continue;
		if (n >= json_array_size(list))
			fail_msg(
			    "event %s is not among the recipients", ev_str(e));
		r = json_array_get(list, n++);
		assert_int_equal(
		    json_integer_value(json_object_get(r, "seq")), e->seq);
		assert_int_equal(
		    time_of(json_object_get(r, "time")), e->time_us);
		expect_str(r, "principal", e->principal);
		expect_str(r, "operation", op_name(e->op));
		expect_str(r, "register", e->reg);
		expect_str(r, "purpose", e->purpose);
		fl = json_object_get(r, "fields");
		assert_int_equal(json_array_size(fl), e->nfields);
		for (k = 0; k < e->nfields; k++)
			assert_string_equal(
			    json_string_value(json_array_get(fl, k)),
			    e->fields[k]);
	}
	evlist_free(&l);
	assert_int_equal(json_array_size(list), n);
	assert_int_equal(
	    json_integer_value(json_object_get(doc, "recipients_omitted")), 0);
}

/* How many recipients are principal's operation op. */
static size_t
count_recipients(const json_t *doc, const char *principal, const char *op)
{
	const json_t *r;
	size_t i, n = 0;

	json_array_foreach(json_object_get(doc, "recipients"), i, r) n +=
	    strcmp(str_of(r, "principal"), principal) == 0 &&
	    strcmp(str_of(r, "operation"), op) == 0;
	return n;
}

/* Several principals read, write and delete, and are refused or rejected:
 * the recipients are the allowed accesses only, as the log has them. */
static void
test_export_recipients(void **state)
{
	harness *h = *state;
	privd_client *c;
	json_t *doc;
	evlist l;
	size_t refused;

	put_cust(h, SUBJ, true);   /* crm write */
	put_acis(h, SUBJ);         /* acis write */
	put_cust(h, OTHER, false); /* not SUBJ's */
	expect_get(h, "billing", CUST, "invoicing", SUBJ, PRIVD_OK, 0);
	expect_get(h, "acis", ACIS, CXM, SUBJ, PRIVD_OK, 0);
	expect_get(h, "crm", CUST, "contacting", SUBJ, PRIVD_OK, 0);
	expect_get(h, "crm", CUST, CR, OTHER, PRIVD_OK, 0); /* not SUBJ's */
	expect_del(h, "crm", CUST, CR, SUBJ, "classification", PRIVD_OK, 0);
	/* refused: statistical purpose, region, no grant, field not granted */
	expect_get(
	    h, "reporting", CUST, "reporting", SUBJ, PRIVD_EDENIED, R_NO_GRANT);
	expect_get(
	    h, "support_contractor", ACIS, CXM, SUBJ, PRIVD_EDENIED, R_REGION);
	expect_get(
	    h, "crm", CUST, "invoicing", SUBJ, PRIVD_EDENIED, R_NO_GRANT);
	expect_put(h, "billing", CUST, "invoicing", SUBJ, "phone", "+358 1",
	    PRIVD_EDENIED, 7);
	/* rejected: not an email address */
	c = client(h, "crm");
	{
		privd_field f = h_field("email", "not an address");

		expect_rc(c, privd_put(c, CUST, SUBJ, CR, &f, 1), PRIVD_EINVAL,
		    "invalid put");
	}
	privd_close(&c);

	doc = export_ok(h, NULL, SUBJ);
	expect_recipients(h, doc, SUBJ);
	assert_int_equal(
	    json_array_size(json_object_get(doc, "recipients")), 6);
	assert_int_equal(count_recipients(doc, "crm", "write"), 1);
	assert_int_equal(count_recipients(doc, "acis", "write"), 1);
	assert_int_equal(count_recipients(doc, "billing", "read"), 1);
	assert_int_equal(count_recipients(doc, "acis", "read"), 1);
	assert_int_equal(count_recipients(doc, "crm", "read"), 1);
	assert_int_equal(count_recipients(doc, "crm", "delete"), 1);
	assert_int_equal(count_recipients(doc, "reporting", "read"), 0);
	assert_int_equal(
	    count_recipients(doc, "support_contractor", "read"), 0);
	/* the refusals are in the log, just not among the recipients */
	subject_events(h, SUBJ, &l);
	refused = count_events(&l, "get", NULL, NULL, PRIVD_DECISION_REFUSED, 3,
	              R_NO_GRANT) +
	          count_events(&l, "get", NULL, NULL, PRIVD_DECISION_REFUSED, 3,
	              R_REGION);
	evlist_free(&l);
	assert_int_equal(refused, 3);
	assert_int_equal(
	    json_array_size(json_object_get(doc, "privd_actions")), 0);
	assert_int_equal(
	    json_array_size(json_object_get(doc, "rights_requests")), 0);
	json_decref(doc);

	/* one register: its recipients only */
	doc = export_ok(h, ACIS, SUBJ);
	assert_int_equal(
	    json_array_size(json_object_get(doc, "recipients")), 2);
	assert_int_equal(count_recipients(doc, "acis", "write"), 1);
	assert_int_equal(count_recipients(doc, "acis", "read"), 1);
	json_decref(doc);
}

/* The rights request of list entry i: operation, register, purpose. */
static void
expect_request(const json_t *doc, size_t i, const char *op, const char *reg,
    const char *purpose, const char *status)
{
	const json_t *r =
	    json_array_get(json_object_get(doc, "rights_requests"), i);

	assert_non_null(r);
	expect_str(r, "principal", RIGHTS);
	expect_str(r, "operation", op);
	expect_str(r, "register", reg);
	expect_str(r, "purpose", purpose);
	expect_str(r, "status", status);
}

/* Restriction, objections and legal holds appear; a hold's reason does
 * not; the rights requests are listed. */
static void
test_export_rights_state(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;
	uint64_t until = h_clock_us(h) + 30 * US_PER_DAY;
	json_t *doc, *cust, *acis, *hold;
	char *text;

	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	restrict_ok(h, CUST, SUBJ, true, true);
	object_ok(h, CUST, SUBJ, "marketing", true, true);
	object_ok(h, ACIS, SUBJ, ST_P, true, true);
	r = hold_set(h, RIGHTS, CUST, SUBJ, HOLD_REASON, 0);
	expect_status(r, ST(OK), 0, "hold on the subject");
	privd__v1__response__free_unpacked(r, NULL);
	r = hold_set(h, RIGHTS, ACIS, NULL, HOLD_REASON, until);
	expect_status(r, ST(OK), 0, "hold on acis");
	privd__v1__response__free_unpacked(r, NULL);

	doc = export_ok(h, NULL, SUBJ);
	text = json_dumps(doc, 0);
	assert_null(strstr(text, "canary-7f3e"));
	free(text);
	cust = reg_of(doc, CUST);
	acis = reg_of(doc, ACIS);
	assert_true(json_is_true(json_object_get(cust, "restricted")));
	assert_true(json_is_false(json_object_get(acis, "restricted")));
	assert_int_equal(
	    json_array_size(json_object_get(cust, "objections")), 1);
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(cust, "objections"), 0)),
	    "marketing");
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(acis, "objections"), 0)),
	    ST_P);
	assert_int_equal(
	    json_array_size(json_object_get(cust, "legal_holds")), 1);
	hold = json_array_get(json_object_get(cust, "legal_holds"), 0);
	expect_str(hold, "scope", "subject");
	assert_true(json_is_null(json_object_get(hold, "until")));
	assert_true(llabs(time_of(json_object_get(hold, "set_at")) -
	                  (int64_t)h_clock_us(h)) < 60 * US_PER_S);
	hold = json_array_get(json_object_get(acis, "legal_holds"), 0);
	expect_str(hold, "scope", "register");
	assert_int_equal(time_of(json_object_get(hold, "until")), until);
	/* the requests, oldest first */
	assert_int_equal(
	    json_array_size(json_object_get(doc, "rights_requests")), 3);
	expect_request(doc, 0, "subject_restrict", CUST, NULL, "ok");
	expect_request(doc, 1, "subject_object", CUST, "marketing", "ok");
	expect_request(doc, 2, "subject_object", ACIS, ST_P, "ok");
	json_decref(doc);

	/* a lift and a withdrawal are requests of their own kind */
	restrict_ok(h, CUST, SUBJ, false, true);
	object_ok(h, ACIS, SUBJ, ST_P, false, true);
	doc = export_ok(h, NULL, SUBJ);
	assert_int_equal(
	    json_array_size(json_object_get(doc, "rights_requests")), 6);
	expect_request(doc, 4, "subject_restrict_lift", CUST, NULL, "ok");
	expect_request(doc, 5, "subject_object_withdraw", ACIS, ST_P, "ok");
	json_decref(doc);
}

/* Retention's actions are listed apart, with their rule. */
static void
test_export_retention_actions(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;
	json_t *doc, *cust, *a;
	size_t i, nfields = 0;
	int64_t rel;

	put_cust(h, SUBJ, true);
	rel = (int64_t)h_clock_us(h);
	end_rel(h, SUBJ, rel);
	clock_to(h, add_months(rel, 12) + US_PER_DAY);
	r = sweep(h);
	privd__v1__response__free_unpacked(r, NULL);
	/* bookkeeping keeps billing_details: the subject stays */
	doc = export_ok(h, NULL, SUBJ);
	cust = reg_of(doc, CUST);
	expect_field_names(cust, "billing_details");
	assert_true(json_array_size(json_object_get(doc, "privd_actions")) > 0);
	json_array_foreach(json_object_get(doc, "privd_actions"), i, a)
	{
		expect_str(a, "operation", "retention_delete");
		expect_str(a, "register", CUST);
		expect_str(a, "rule", "after-customership");
		assert_null(json_object_get(a, "principal"));
		nfields += json_array_size(json_object_get(a, "fields"));
	}
	/* every field but billing_details */
	assert_int_equal(nfields, 10);
	/* not a recipient: nobody was given the data */
	assert_int_equal(count_recipients(doc, "retention", "delete"), 0);
	json_decref(doc);
}

/* Corrupt the stored value of one field (its key ends with the name),
 * with privd stopped. */
static void
corrupt_value(harness *h, const char *field)
{
	size_t fl = strlen(field);
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *c;
	MDB_val k, v, v2;
	int rc, n = 0;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 32), 0);
	assert_int_equal(mdb_env_open(env, h->data_dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "values", 0, &dbi), 0);
	assert_int_equal(mdb_cursor_open(txn, dbi, &c), 0);
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		uint8_t *copy;

		if (k.mv_size != 32 + fl ||
		    memcmp((uint8_t *)k.mv_data + 32, field, fl) != 0)
			continue;
		assert_non_null(copy = malloc(v.mv_size));
		memcpy(copy, v.mv_data, v.mv_size);
		copy[v.mv_size - 1] ^= 0x01;
		v2.mv_size = v.mv_size;
		v2.mv_data = copy;
		assert_int_equal(mdb_cursor_put(c, &k, &v2, MDB_CURRENT), 0);
		free(copy);
		n++;
	}
	mdb_cursor_close(c);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	assert_int_equal(n, 1);
}

/* A damaged value is listed as damaged, without a value; the rest is
 * exported. */
static void
test_export_damaged(void **state)
{
	harness *h = *state;
	json_t *doc, *cust, *f;

	if (h_store_pg()) {
		printf("# skipped on PostgreSQL: it damages a record in the "
		       "LMDB file\n");
		skip();
	}
	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	stop_clean(h);
	corrupt_value(h, "phone"); /* only customers has SUBJ's phone */
	assert_int_equal(h_start(h, ret_serve_args), 0);
	doc = export_ok(h, NULL, SUBJ);
	cust = reg_of(doc, CUST);
	expect_field_names(cust, CUST_ALL);
	f = field_of(cust, "phone");
	assert_true(json_is_true(json_object_get(f, "damaged")));
	assert_null(json_object_get(f, "value"));
	assert_null(json_object_get(f, "collected"));
	expect_str(f, "type", "phone");
	expect_field(cust, "email", "kaisa.asiakas@example.fi", "email",
	    "contact", "subject", CR, "contract");
	expect_field_names(reg_of(doc, ACIS), ACIS_ALL);
	json_decref(doc);
}

/* NOT_FOUND for a subject stored nowhere (or not in the register named),
 * audited; DENIED for an undeclared register and without the role. */
static void
test_export_refusals(void **state)
{
	harness *h = *state;

	put_acis(h, SUBJ);
	assert_null(export_as(h, RIGHTS, NULL, UNKNOWN, PRIVD_ENOTFOUND, 0));
	expect_events(h, UNKNOWN, "subject_export", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, 4, 0, 1);
	assert_null(export_as(h, RIGHTS, CUST, SUBJ, PRIVD_ENOTFOUND, 0));
	expect_events(h, SUBJ, "subject_export", CUST, RIGHTS,
	    PRIVD_DECISION_ALLOWED, 4, 0, 1);
	assert_null(export_as(
	    h, RIGHTS, "nosuch", SUBJ, PRIVD_EDENIED, R_UNKNOWN_REGISTER));
	expect_events(h, SUBJ, "subject_export", NULL, RIGHTS,
	    PRIVD_DECISION_REFUSED, 3, R_UNKNOWN_REGISTER, 1);
	/* no role: the service that stores the data, and the auditor */
	assert_null(
	    export_as(h, "acis", NULL, SUBJ, PRIVD_EDENIED, R_ROLE_REQUIRED));
	assert_null(export_as(
	    h, "auditor", NULL, SUBJ, PRIVD_EDENIED, R_ROLE_REQUIRED));
	expect_events(h, SUBJ, "subject_export", NULL, "acis",
	    PRIVD_DECISION_REFUSED, 3, R_ROLE_REQUIRED, 1);
	expect_events(h, SUBJ, "subject_export", NULL, "auditor",
	    PRIVD_DECISION_REFUSED, 3, R_ROLE_REQUIRED, 1);
}

/* An export is an audit event (by pseudonym, with the register named),
 * and the next export lists it among the rights requests. */
static void
test_export_audited(void **state)
{
	harness *h = *state;
	json_t *doc;

	put_acis(h, SUBJ);
	json_decref(export_ok(h, NULL, SUBJ));
	expect_events(h, SUBJ, "subject_export", NULL, RIGHTS,
	    PRIVD_DECISION_ALLOWED, 1, 0, 1);
	json_decref(export_ok(h, ACIS, SUBJ));
	expect_events(h, SUBJ, "subject_export", ACIS, RIGHTS,
	    PRIVD_DECISION_ALLOWED, 1, 0, 1);
	doc = export_ok(h, NULL, SUBJ);
	assert_int_equal(
	    json_array_size(json_object_get(doc, "rights_requests")), 2);
	expect_request(doc, 0, "subject_export", NULL, NULL, "ok");
	expect_request(doc, 1, "subject_export", ACIS, NULL, "ok");
	json_decref(doc);
}

/* privctl subject export: a 0600 file, the document privd made; stdout
 * without --out; the exit codes of its refusals. */
static void
test_cli_export(void **state)
{
	harness *h = *state;
	char path[H_PATH_MAX + 16];
	uint8_t *buf = NULL;
	size_t len = 0;
	struct stat sb;
	json_error_t err;
	json_t *doc;
	h_result r;

	put_cust(h, SUBJ, true);
	put_acis(h, SUBJ);
	snprintf(path, sizeof(path), "%s/person.json", h->root);
	{
		const char *args[] = {"subject", "export", SUBJ, "--out", path,
		    "--timeout", "60000", NULL};

		privctl_expect(h, RIGHTS, args, &r, 0, "export to a file");
	}
	assert_non_null(strstr(r.out, "wrote the export"));
	assert_null(strstr(r.out, SUBJ));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(h_read_file(path, &buf, &len), 0);
	validate(h, (const char *)buf, len);
	assert_non_null(doc = json_loadb((const char *)buf, len, 0, &err));
	free(buf);
	expect_field_names(reg_of(doc, CUST), CUST_ALL);
	expect_field(reg_of(doc, ACIS), "name", "Vastaaja Virtanen", "string",
	    "identity", "reseller", ST_P, "legitimate_interest");
	json_decref(doc);
	{
		const char *args[] = {
		    "subject", "export", SUBJ, "--register", ACIS, NULL};

		privctl_expect(h, RIGHTS, args, &r, 0, "export to stdout");
	}
	assert_true(
	    strncmp(r.out, "{\"format\":\"privd-subject-export\"", 31) == 0);
	{
		const char *args[] = {"subject", "export", UNKNOWN, NULL};

		privctl_expect(h, RIGHTS, args, &r, 4, "export of nobody");
	}
	{
		const char *args[] = {"subject", "export", SUBJ, NULL};

		privctl_expect(
		    h, "crm", args, &r, 3, "export without the role");
	}
	{
		const char *args[] = {"subject", "export", SUBJ, "--register",
		    CUST, "--register", ACIS, NULL};

		privctl_expect(h, RIGHTS, args, &r, 2, "two registers");
	}
	assert_null(strstr(r.err, SUBJ));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_export_everything, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_export_recipients, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_export_rights_state, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_export_retention_actions, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_export_damaged, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_export_refusals, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_export_audited, ret_setup_example, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_cli_export, ret_setup_example, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
