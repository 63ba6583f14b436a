/*
 * test_client_retention.c - libprivd's retention calls on the wire,
 * against a fake privd in this process (fake_privd.c): a ROUTER with
 * CURVE on a thread that keeps the last request it decoded and answers
 * with what the test set. What each call puts into its request, and what it
 * makes of an answer (good, malformed, or RETAINED with what was kept), without
 * a real privd and whatever the daemon implements yet. Also what retention
 * added to older calls: a policy apply's subjects to re-plan.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_privd.h"

#define T1 1795773600000000ULL /* 2026-11-27T10:00:00Z */
#define T2 1985126400000000ULL /* 2032-11-27T00:00:00Z */

/*
 * RelationshipEnd: PRIVD_AT_NOW sends now and no time, a time sends the
 * time, 0 sends neither (undo); no purpose. What privd recorded comes back.
 */
static void
test_relationship_end_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__RelationshipEndResponse re =
	    PRIVD__V1__RELATIONSHIP_END_RESPONSE__INIT;
	const Privd__V1__RelationshipEndRequest *q;
	uint64_t at = 0;
	uint32_t fields = 0;

	ANSWER(r, RELATIONSHIP_END, relationship_end, &re);
	re.at_us = T1;
	re.fields = 4;
	f->answer = &r;
	assert_int_equal(privd_relationship_end(f->c, "customers", "c-1",
	                     PRIVD_AT_NOW, &at, &fields),
	    PRIVD_OK);
	assert_int_equal(at, T1);
	assert_int_equal(fields, 4);
	assert_int_equal(
	    f->last->op_case, PRIVD__V1__REQUEST__OP_RELATIONSHIP_END);
	q = f->last->relationship_end;
	assert_string_equal(q->register_, "customers");
	assert_string_equal(q->subject, "c-1");
	assert_true(q->now);
	assert_int_equal(q->at_us, 0);
	assert_string_equal(f->last->purpose, "");

	assert_int_equal(
	    privd_relationship_end(f->c, "customers", "c-1", T2, NULL, NULL),
	    PRIVD_OK);
	q = f->last->relationship_end;
	assert_false(q->now);
	assert_int_equal(q->at_us, T2);

	re.at_us = 0;
	assert_int_equal(
	    privd_relationship_end(f->c, "customers", "c-1", 0, &at, &fields),
	    PRIVD_OK);
	q = f->last->relationship_end;
	assert_false(q->now);
	assert_int_equal(q->at_us, 0);
	assert_int_equal(at, 0);

	/* a refusal: its status, privd's message, out parameters zero */
	r.status = PRIVD__V1__STATUS__NOT_FOUND;
	r.message = "no such subject";
	re.at_us = T1;
	assert_int_equal(privd_relationship_end(f->c, "customers", "c-1",
	                     PRIVD_AT_NOW, &at, &fields),
	    PRIVD_ENOTFOUND);
	assert_int_equal(at, 0);
	assert_int_equal(fields, 0);
	assert_string_equal(privd_errmsg(f->c), "no such subject");
}

/* ContractEnd: the same conventions as RelationshipEnd. */
static void
test_contract_end_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__ContractEndResponse ce =
	    PRIVD__V1__CONTRACT_END_RESPONSE__INIT;
	uint64_t at = 0;

	ANSWER(r, CONTRACT_END, contract_end, &ce);
	ce.at_us = T1;
	f->answer = &r;
	assert_int_equal(
	    privd_contract_end(f->c, "acis", PRIVD_AT_NOW, &at), PRIVD_OK);
	assert_int_equal(at, T1);
	assert_string_equal(f->last->contract_end->register_, "acis");
	assert_true(f->last->contract_end->now);
	assert_int_equal(f->last->contract_end->at_us, 0);
	assert_int_equal(privd_contract_end(f->c, "acis", T2, NULL), PRIVD_OK);
	assert_false(f->last->contract_end->now);
	assert_int_equal(f->last->contract_end->at_us, T2);
	assert_int_equal(privd_contract_end(f->c, "acis", 0, NULL), PRIVD_OK);
	assert_false(f->last->contract_end->now);
	assert_int_equal(f->last->contract_end->at_us, 0);

	/* an answer of another operation breaks the protocol */
	r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_HOLD_LIFT;
	assert_int_equal(
	    privd_contract_end(f->c, "acis", PRIVD_AT_NOW, &at), PRIVD_EPROTO);
	assert_int_equal(at, 0);
}

/* HoldSet and HoldLift: no subject is "" (the register), the reason and
 * until go as given; replaced comes back. */
static void
test_hold_set_lift_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__HoldSetResponse hs = PRIVD__V1__HOLD_SET_RESPONSE__INIT;
	Privd__V1__HoldLiftResponse hl = PRIVD__V1__HOLD_LIFT_RESPONSE__INIT;
	const Privd__V1__HoldSetRequest *q;
	int replaced = 0;

	ANSWER(r, HOLD_SET, hold_set, &hs);
	hs.replaced = 1;
	f->answer = &r;
	assert_int_equal(
	    privd_hold_set(f->c, "acis", NULL, "dispute 2026/3", 0, &replaced),
	    PRIVD_OK);
	assert_int_equal(replaced, 1);
	q = f->last->hold_set;
	assert_string_equal(q->register_, "acis");
	assert_string_equal(q->subject, "");
	assert_string_equal(q->reason, "dispute 2026/3");
	assert_int_equal(q->until_us, 0);
	hs.replaced = 0;
	assert_int_equal(privd_hold_set(f->c, "customers", "c-42", "litigation",
	                     T2, &replaced),
	    PRIVD_OK);
	assert_int_equal(replaced, 0);
	q = f->last->hold_set;
	assert_string_equal(q->subject, "c-42");
	assert_int_equal(q->until_us, T2);

	ANSWER(r, HOLD_LIFT, hold_lift, &hl);
	assert_int_equal(privd_hold_lift(f->c, "customers", "c-42"), PRIVD_OK);
	assert_string_equal(f->last->hold_lift->register_, "customers");
	assert_string_equal(f->last->hold_lift->subject, "c-42");
	assert_int_equal(privd_hold_lift(f->c, "acis", NULL), PRIVD_OK);
	assert_string_equal(f->last->hold_lift->subject, "");
	r.status = PRIVD__V1__STATUS__NOT_FOUND;
	assert_int_equal(privd_hold_lift(f->c, "acis", ""), PRIVD_ENOTFOUND);
}

/* HoldList: every register is "", holds are copied; a subject id longer
 * than privd accepts is a protocol error, not a cut id. */
static void
test_hold_list_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__HoldListResponse hl = PRIVD__V1__HOLD_LIST_RESPONSE__INIT;
	Privd__V1__Hold h1 = PRIVD__V1__HOLD__INIT, h2 = PRIVD__V1__HOLD__INIT;
	Privd__V1__Hold *hp[] = {&h1, &h2};
	char longid[258];
	privd_hold *h = NULL;
	size_t n = 9;

	h1.register_ = "acis";
	h1.reason = "dispute";
	h1.set_at_us = T1;
	h1.set_by = "dpo";
	h2.register_ = "customers";
	h2.subject = "c-42";
	h2.reason = "litigation";
	h2.until_us = T2;
	h2.set_at_us = T1;
	h2.set_by = "admin";
	hl.n_holds = 2;
	hl.holds = hp;
	ANSWER(r, HOLD_LIST, hold_list, &hl);
	f->answer = &r;
	assert_int_equal(privd_hold_list(f->c, NULL, &h, &n), PRIVD_OK);
	assert_string_equal(f->last->hold_list->register_, "");
	assert_int_equal(n, 2);
	assert_string_equal(h[0].reg, "acis");
	assert_string_equal(h[0].subject, "");
	assert_string_equal(h[0].reason, "dispute");
	assert_int_equal(h[0].until_us, 0);
	assert_int_equal(h[0].set_at_us, T1);
	assert_string_equal(h[0].set_by, "dpo");
	assert_string_equal(h[1].subject, "c-42");
	assert_int_equal(h[1].until_us, T2);
	privd_holds_free(&h);
	assert_null(h);

	/* none: an array all the same, and n 0 */
	hl.n_holds = 0;
	assert_int_equal(privd_hold_list(f->c, "acis", &h, &n), PRIVD_OK);
	assert_string_equal(f->last->hold_list->register_, "acis");
	assert_non_null(h);
	assert_int_equal(n, 0);
	privd_holds_free(&h);

	memset(longid, 'm', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	h2.subject = longid;
	hl.n_holds = 2;
	assert_int_equal(privd_hold_list(f->c, NULL, &h, &n), PRIVD_EPROTO);
	assert_null(h);
	assert_int_equal(n, 0);
}

/* RetentionRun: a preview sends its time and register, a sweep its limit;
 * the report comes back count by count, a purge's anonymous records too. */
static void
test_retention_run_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__RetentionRunResponse rr =
	    PRIVD__V1__RETENTION_RUN_RESPONSE__INIT;
	Privd__V1__RetentionCount k1 = PRIVD__V1__RETENTION_COUNT__INIT;
	Privd__V1__RetentionCount k2 = PRIVD__V1__RETENTION_COUNT__INIT;
	Privd__V1__RetentionCount *kp[] = {&k1, &k2};
	privd_retention_opts o = {1, T2, "customers", 0};
	privd_retention_report *rep = NULL;

	k1.register_ = "customers";
	k1.rule = "bookkeeping";
	k1.action = "delete";
	k1.fields = 3;
	k1.subjects = 2;
	k1.held = 1;
	k2.register_ = "customers";
	k2.rule = "contract";
	k2.action = "contract_end_purge";
	k2.fields = 10;
	k2.subjects = 2;
	k2.anonymous_records = 7;
	rr.as_of_us = T2;
	rr.examined = 14;
	rr.n_counts = 2;
	rr.counts = kp;
	ANSWER(r, RETENTION_RUN, retention_run, &rr);
	f->answer = &r;
	assert_int_equal(privd_retention_run(f->c, &o, &rep), PRIVD_OK);
	assert_true(f->last->retention_run->preview);
	assert_int_equal(f->last->retention_run->as_of_us, T2);
	assert_string_equal(f->last->retention_run->register_, "customers");
	assert_int_equal(f->last->retention_run->limit, 0);
	assert_int_equal(rep->as_of_us, T2);
	assert_int_equal(rep->examined, 14);
	assert_false(rep->more);
	assert_int_equal(rep->ncounts, 2);
	assert_string_equal(rep->counts[0].reg, "customers");
	assert_string_equal(rep->counts[0].rule, "bookkeeping");
	assert_string_equal(rep->counts[0].action, "delete");
	assert_int_equal(rep->counts[0].fields, 3);
	assert_int_equal(rep->counts[0].subjects, 2);
	assert_int_equal(rep->counts[0].held, 1);
	assert_int_equal(rep->counts[0].anonymous_records, 0);
	assert_string_equal(rep->counts[1].rule, "contract");
	assert_string_equal(rep->counts[1].action, "contract_end_purge");
	assert_int_equal(rep->counts[1].anonymous_records, 7);
	privd_retention_report_free(&rep);
	assert_null(rep);

	o = (privd_retention_opts){0, 0, NULL, 100};
	rr.more = 1;
	assert_int_equal(privd_retention_run(f->c, &o, &rep), PRIVD_OK);
	assert_false(f->last->retention_run->preview);
	assert_int_equal(f->last->retention_run->as_of_us, 0);
	assert_string_equal(f->last->retention_run->register_, "");
	assert_int_equal(f->last->retention_run->limit, 100);
	assert_true(rep->more);
	privd_retention_report_free(&rep);
}

/* Aggregate: the purpose is the request's; keys are copied as bytes and
 * NUL-terminated; the missing group has no key. Statistics come with an
 * integer field only. */
static void
test_aggregate_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__AggregateResponse ar = PRIVD__V1__AGGREGATE_RESPONSE__INIT;
	Privd__V1__AggregateGroup g1 = PRIVD__V1__AGGREGATE_GROUP__INIT;
	Privd__V1__AggregateGroup g2 = PRIVD__V1__AGGREGATE_GROUP__INIT;
	Privd__V1__AggregateGroup *gp[] = {&g1, &g2};
	static uint8_t key[] = {'n', 0, 'x'};
	privd_aggregate_result *res = NULL;

	g1.key.data = key;
	g1.key.len = sizeof(key);
	g1.count = 12;
	g1.sum = -48;
	g1.mean = -4.0;
	g1.min = -9;
	g1.max = 1;
	g2.missing = 1;
	g2.count = 6;
	ar.n_groups = 2;
	ar.groups = gp;
	ar.suppressed_groups = 2;
	ar.suppressed_records = 7;
	ar.min_group = 5;
	ar.integer = 1;
	ANSWER(r, AGGREGATE, aggregate, &ar);
	f->answer = &r;
	assert_int_equal(privd_aggregate(f->c, "sales_reporting", "acis",
	                     "feedback_score", "region", &res),
	    PRIVD_OK);
	assert_string_equal(f->last->purpose, "sales_reporting");
	assert_string_equal(f->last->aggregate->register_, "acis");
	assert_string_equal(f->last->aggregate->field, "feedback_score");
	assert_string_equal(f->last->aggregate->group_by, "region");
	assert_int_equal(res->ngroups, 2);
	assert_int_equal(res->groups[0].keylen, 3);
	assert_memory_equal(res->groups[0].key, key, 3);
	assert_int_equal(res->groups[0].key[3], 0);
	assert_false(res->groups[0].missing);
	assert_int_equal(res->groups[0].count, 12);
	assert_int_equal(res->groups[0].sum, -48);
	assert_true(res->groups[0].mean == -4.0);
	assert_int_equal(res->groups[0].min, -9);
	assert_int_equal(res->groups[0].max, 1);
	assert_true(res->groups[1].missing);
	assert_int_equal(res->groups[1].keylen, 0);
	assert_string_equal((const char *)res->groups[1].key, "");
	assert_int_equal(res->suppressed_groups, 2);
	assert_int_equal(res->suppressed_records, 7);
	assert_int_equal(res->min_group, 5);
	assert_true(res->integer);
	privd_aggregate_result_free(&res);
	assert_null(res);

	/* not an integer: counts only, whatever else privd sent */
	ar.integer = 0;
	assert_int_equal(privd_aggregate(f->c, "sales_reporting", "acis",
	                     "region", "region", &res),
	    PRIVD_OK);
	assert_false(res->integer);
	assert_int_equal(res->ngroups, 2);
	assert_int_equal(res->groups[0].count, 12);
	assert_int_equal(res->groups[0].sum, 0);
	assert_true(res->groups[0].mean == 0.0);
	assert_int_equal(res->groups[0].min, 0);
	assert_int_equal(res->groups[0].max, 0);
	assert_int_equal(res->groups[1].count, 6);
	privd_aggregate_result_free(&res);
	ar.integer = 1;

	assert_int_equal(privd_aggregate(f->c, "sales_reporting", "acis",
	                     "feedback_score", NULL, &res),
	    PRIVD_OK);
	assert_string_equal(f->last->aggregate->group_by, "");
	privd_aggregate_result_free(&res);

	/* the group of records without a value cannot have one */
	g2.key.data = key;
	g2.key.len = 1;
	assert_int_equal(privd_aggregate(f->c, "sales_reporting", "acis",
	                     "feedback_score", "region", &res),
	    PRIVD_EPROTO);
	assert_null(res);
}

/*
 * A RETAINED delete: privd_delete_ex returns PRIVD_ERETAINED with the
 * count deleted and what was kept; privd_delete the status and the count;
 * a RETAINED answer without its payload still says RETAINED.
 */
static void
test_delete_retained_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__DeleteResponse dr = PRIVD__V1__DELETE_RESPONSE__INIT;
	Privd__V1__Retained k1 = PRIVD__V1__RETAINED__INIT;
	Privd__V1__Retained k2 = PRIVD__V1__RETAINED__INIT;
	Privd__V1__Retained *kp[] = {&k1, &k2};
	const char *names[] = {"email", "billing_details", "iban"};
	privd_retained *kept = NULL;
	size_t nkept = 0;
	uint32_t deleted = 0;

	k1.field = "billing_details";
	k1.rule = "bookkeeping";
	k1.until_us = T2;
	k2.field = "iban";
	k2.hold_reason = "litigation";
	dr.deleted = 1;
	dr.n_retained = 2;
	dr.retained = kp;
	r.status = PRIVD__V1__STATUS__RETAINED;
	r.message = "2 fields kept";
	r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_DELETE;
	r.delete_ = &dr;
	f->answer = &r;
	assert_int_equal(privd_delete_ex(f->c, "customers", "c-1", "erasure",
	                     names, 3, &deleted, &kept, &nkept),
	    PRIVD_ERETAINED);
	assert_string_equal(f->last->purpose, "erasure");
	assert_int_equal(f->last->delete_->n_fields, 3);
	assert_int_equal(deleted, 1);
	assert_int_equal(nkept, 2);
	assert_string_equal(kept[0].field, "billing_details");
	assert_string_equal(kept[0].rule, "bookkeeping");
	assert_int_equal(kept[0].until_us, T2);
	assert_string_equal(kept[0].hold_reason, "");
	assert_string_equal(kept[1].field, "iban");
	assert_string_equal(kept[1].rule, "");
	assert_int_equal(kept[1].until_us, 0);
	assert_string_equal(kept[1].hold_reason, "litigation");
	assert_string_equal(privd_errmsg(f->c), "2 fields kept");
	privd_free(kept);

	deleted = 0;
	assert_int_equal(privd_delete(f->c, "customers", "c-1", "erasure", NULL,
	                     0, &deleted),
	    PRIVD_ERETAINED);
	assert_int_equal(f->last->delete_->n_fields, 0);
	assert_int_equal(deleted, 1);

	r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD__NOT_SET;
	kept = (privd_retained *)&kept;
	assert_int_equal(privd_delete_ex(f->c, "customers", "c-1", "erasure",
	                     NULL, 0, &deleted, &kept, &nkept),
	    PRIVD_ERETAINED);
	assert_null(kept);
	assert_int_equal(nkept, 0);
	assert_int_equal(deleted, 0);

	/* OK: nothing kept */
	r.status = PRIVD__V1__STATUS__OK;
	r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_DELETE;
	dr.deleted = 3;
	dr.n_retained = 0;
	assert_int_equal(privd_delete_ex(f->c, "customers", "c-1", "erasure",
	                     names, 3, &deleted, &kept, &nkept),
	    PRIVD_OK);
	assert_int_equal(deleted, 3);
	assert_null(kept);
	assert_int_equal(nkept, 0);

	/* RETAINED is kept only for a delete: elsewhere, just the status */
	r.status = PRIVD__V1__STATUS__RETAINED;
	assert_int_equal(
	    privd_hold_lift(f->c, "customers", NULL), PRIVD_ERETAINED);
}

/*
 * PolicyApply: privd_policy_apply_ex sends the version, the document and
 * force, and returns the version, unchanged and the subjects privd
 * re-plans; privd_policy_apply_flags and privd_policy_apply still answer
 * as before. An impossible answer (the same policy re-planning, a version
 * that is not the next) is a protocol error, with *out zeroed.
 */
static void
test_policy_apply_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__PolicyApplyResponse pa =
	    PRIVD__V1__POLICY_APPLY_RESPONSE__INIT;
	privd_apply_result a;
	uint64_t v = 0;
	int same = 7;

	pa.version = 4;
	pa.replan_subjects = 5000000000ULL;
	ANSWER(r, POLICY_APPLY, policy_apply, &pa);
	f->answer = &r;
	assert_int_equal(privd_policy_apply_ex(f->c, 3, "{\"controller\":1}",
	                     PRIVD_APPLY_FORCE, &a),
	    PRIVD_OK);
	assert_int_equal(f->last->op_case, PRIVD__V1__REQUEST__OP_POLICY_APPLY);
	assert_int_equal(f->last->policy_apply->replaces_version, 3);
	assert_string_equal(
	    f->last->policy_apply->policy_json, "{\"controller\":1}");
	assert_true(f->last->policy_apply->force);
	assert_string_equal(f->last->purpose, "");
	assert_int_equal(a.version, 4);
	assert_false(a.unchanged);
	assert_int_equal(a.replan_subjects, 5000000000ULL);

	/* the older calls: the same request, without the count */
	assert_int_equal(
	    privd_policy_apply_flags(f->c, 3, "{}", 0, &v, &same), PRIVD_OK);
	assert_false(f->last->policy_apply->force);
	assert_int_equal(v, 4);
	assert_int_equal(same, 0);
	v = 0;
	assert_int_equal(privd_policy_apply(f->c, 3, "{}", &v), PRIVD_OK);
	assert_int_equal(v, 4);
	assert_int_equal(
	    privd_policy_apply_ex(f->c, 3, "{}", 0, NULL), PRIVD_OK);

	/* unchanged: the version replaced, nothing re-planned */
	pa.version = 3;
	pa.unchanged = 1;
	pa.replan_subjects = 0;
	assert_int_equal(privd_policy_apply_ex(f->c, 3, "{}", 0, &a), PRIVD_OK);
	assert_int_equal(a.version, 3);
	assert_true(a.unchanged);
	assert_int_equal(a.replan_subjects, 0);
	assert_int_equal(
	    privd_policy_apply_flags(f->c, 3, "{}", 0, &v, &same), PRIVD_OK);
	assert_int_equal(v, 3);
	assert_int_equal(same, 1);

	/* impossible answers */
	pa.replan_subjects = 2;
	assert_int_equal(
	    privd_policy_apply_ex(f->c, 3, "{}", 0, &a), PRIVD_EPROTO);
	assert_non_null(strstr(privd_errmsg(f->c), "unchanged"));
	assert_int_equal(a.version, 0);
	assert_false(a.unchanged);
	assert_int_equal(a.replan_subjects, 0);
	pa.unchanged = 0;
	assert_int_equal(
	    privd_policy_apply_ex(f->c, 3, "{}", 0, &a), PRIVD_EPROTO);
	assert_int_equal(a.replan_subjects, 0);
	assert_int_equal(privd_policy_apply_flags(f->c, 3, "{}", 0, &v, &same),
	    PRIVD_EPROTO);
	assert_int_equal(v, 0);
	assert_int_equal(same, 0);

	/* a refusal: its status, *out zeroed */
	pa.version = 4;
	r.status = PRIVD__V1__STATUS__CONFLICT;
	r.message = "version 5 is in force";
	assert_int_equal(
	    privd_policy_apply_ex(f->c, 3, "{}", 0, &a), PRIVD_ECONFLICT);
	assert_int_equal(a.version, 0);
	assert_int_equal(a.replan_subjects, 0);
	assert_string_equal(privd_errmsg(f->c), "version 5 is in force");
}

/* An audit event's rule reaches privd_audit_event.rule. */
static void
test_audit_rule_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__AuditQueryResponse qr =
	    PRIVD__V1__AUDIT_QUERY_RESPONSE__INIT;
	Privd__V1__AuditRecord rec = PRIVD__V1__AUDIT_RECORD__INIT;
	Privd__V1__AuditRecord *rp[] = {&rec};
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	privd_audit_page *pg = NULL;
	static uint8_t hash[32];
	uint8_t evbuf[256];

	ev.seq = 9;
	ev.principal = "retention";
	ev.op = "retention_delete";
	ev.register_ = "customers";
	ev.rule = "relationship-1y";
	ev.decision = PRIVD__V1__DECISION__ALLOWED;
	ev.status = PRIVD__V1__STATUS__OK;
	rec.event.len = privd__v1__audit_event__pack(&ev, evbuf);
	rec.event.data = evbuf;
	rec.hash.data = hash;
	rec.hash.len = sizeof(hash);
	rec.seq = 9;
	qr.n_records = 1;
	qr.records = rp;
	ANSWER(r, AUDIT_QUERY, audit_query, &qr);
	f->answer = &r;
	assert_int_equal(privd_audit_query(f->c, NULL, NULL, 0, &pg), PRIVD_OK);
	assert_int_equal(pg->n, 1);
	assert_string_equal(pg->events[0].op, "retention_delete");
	assert_string_equal(pg->events[0].rule, "relationship-1y");
	privd_audit_page_free(&pg);

	ev.rule = "";
	rec.event.len = privd__v1__audit_event__pack(&ev, evbuf);
	assert_int_equal(privd_audit_query(f->c, NULL, NULL, 0, &pg), PRIVD_OK);
	assert_string_equal(pg->events[0].rule, "");
	privd_audit_page_free(&pg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_relationship_end_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_contract_end_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hold_set_lift_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_hold_list_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_retention_run_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_aggregate_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_delete_retained_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_audit_rule_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_policy_apply_wire, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
