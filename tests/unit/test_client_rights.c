/*
 * test_client_rights.c - libprivd's data subject rights calls
 * (<privd/rights.h>) on the wire, against the fake privd of
 * fake_privd.c: what restrict, object and erase put into their requests,
 * and what they make of an answer: good, refused, RETAINED with what was
 * kept, or one that breaks the protocol.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_privd.h"

#define T2 1985126400000000ULL /* 2032-11-27T00:00:00Z */

/*
 * SubjectRestrict: register, subject and on go as given, without a
 * purpose; changed comes back. A refusal leaves changed 0 and says why.
 */
static void
test_restrict_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__SubjectRestrictResponse sr =
	    PRIVD__V1__SUBJECT_RESTRICT_RESPONSE__INIT;
	int changed = 0;

	ANSWER(r, SUBJECT_RESTRICT, subject_restrict, &sr);
	sr.changed = 1;
	f->answer = &r;
	assert_int_equal(
	    privd_subject_restrict(f->c, "customers", "c-1", 1, &changed),
	    PRIVD_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(
	    f->last->op_case, PRIVD__V1__REQUEST__OP_SUBJECT_RESTRICT);
	assert_string_equal(f->last->subject_restrict->register_, "customers");
	assert_string_equal(f->last->subject_restrict->subject, "c-1");
	assert_true(f->last->subject_restrict->on);
	assert_string_equal(f->last->purpose, "");

	/* any nonzero on is on; 0 lifts; changed may be NULL */
	assert_int_equal(
	    privd_subject_restrict(f->c, "customers", "c-1", 7, NULL),
	    PRIVD_OK);
	assert_true(f->last->subject_restrict->on);
	sr.changed = 0;
	changed = 9;
	assert_int_equal(
	    privd_subject_restrict(f->c, "acis", "a-2", 0, &changed), PRIVD_OK);
	assert_false(f->last->subject_restrict->on);
	assert_string_equal(f->last->subject_restrict->register_, "acis");
	assert_int_equal(changed, 0);

	/* refused: the status, the reason, changed 0 */
	sr.changed = 1;
	r.status = PRIVD__V1__STATUS__DENIED;
	r.reason = PRIVD__V1__DENY_REASON__DENY_ROLE_REQUIRED;
	r.message = "needs the role subject_rights";
	changed = 9;
	assert_int_equal(
	    privd_subject_restrict(f->c, "customers", "c-1", 1, &changed),
	    PRIVD_EDENIED);
	assert_int_equal(changed, 0);
	assert_int_equal(privd_reason(f->c), 11);
	assert_string_equal(
	    privd_reason_name(privd_reason(f->c)), "role_required");
	r.status = PRIVD__V1__STATUS__NOT_FOUND;
	r.reason = 0;
	assert_int_equal(
	    privd_subject_restrict(f->c, "customers", "c-1", 1, &changed),
	    PRIVD_ENOTFOUND);

	/* an answer of another operation breaks the protocol */
	r.status = PRIVD__V1__STATUS__OK;
	r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_OBJECT;
	assert_int_equal(
	    privd_subject_restrict(f->c, "customers", "c-1", 1, &changed),
	    PRIVD_EPROTO);
	assert_int_equal(changed, 0);
}

/*
 * SubjectObject: the purpose objected to is the operation's, and the
 * request has none; privd's refusal of a purpose that is not objectable
 * reaches the caller with its message.
 */
static void
test_object_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__SubjectObjectResponse so =
	    PRIVD__V1__SUBJECT_OBJECT_RESPONSE__INIT;
	const Privd__V1__SubjectObjectRequest *q;
	int changed = 0;

	ANSWER(r, SUBJECT_OBJECT, subject_object, &so);
	so.changed = 1;
	f->answer = &r;
	assert_int_equal(privd_subject_object(f->c, "customers", "c-1",
	                     "marketing", 1, &changed),
	    PRIVD_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(
	    f->last->op_case, PRIVD__V1__REQUEST__OP_SUBJECT_OBJECT);
	q = f->last->subject_object;
	assert_string_equal(q->register_, "customers");
	assert_string_equal(q->subject, "c-1");
	assert_string_equal(q->purpose, "marketing");
	assert_true(q->on);
	assert_string_equal(f->last->purpose, "");

	so.changed = 0;
	changed = 9;
	assert_int_equal(privd_subject_object(f->c, "customers", "c-1",
	                     "marketing", 0, &changed),
	    PRIVD_OK);
	assert_false(f->last->subject_object->on);
	assert_int_equal(changed, 0);

	r.status = PRIVD__V1__STATUS__INVALID;
	r.message = "purpose invoicing is not objectable";
	so.changed = 1;
	changed = 9;
	assert_int_equal(privd_subject_object(f->c, "customers", "c-1",
	                     "invoicing", 1, &changed),
	    PRIVD_EINVAL);
	assert_int_equal(changed, 0);
	assert_string_equal(
	    privd_errmsg(f->c), "purpose invoicing is not objectable");
	r.status = PRIVD__V1__STATUS__DENIED;
	r.reason = PRIVD__V1__DENY_REASON__DENY_UNKNOWN_PURPOSE;
	assert_int_equal(privd_subject_object(
	                     f->c, "customers", "c-1", "astrology", 1, NULL),
	    PRIVD_EDENIED);
	assert_string_equal(
	    privd_reason_name(privd_reason(f->c)), "unknown_purpose");
}

/*
 * A service sees a restriction or an objection only as the reason of a
 * denial: the names the library gives reasons 9 and 10.
 */
static void
test_denial_reasons(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	privd_record *rec = NULL;

	r.status = PRIVD__V1__STATUS__DENIED;
	r.reason = PRIVD__V1__DENY_REASON__DENY_RESTRICTED;
	r.message = "processing restricted by the data subject";
	f->answer = &r;
	assert_int_equal(
	    privd_get(f->c, "customers", "c-1", "marketing", NULL, 0, &rec),
	    PRIVD_EDENIED);
	assert_null(rec);
	assert_int_equal(privd_reason(f->c), 9);
	assert_string_equal(privd_reason_name(9), "restricted");
	r.reason = PRIVD__V1__DENY_REASON__DENY_OBJECTED;
	assert_int_equal(
	    privd_get(f->c, "customers", "c-1", "marketing", NULL, 0, &rec),
	    PRIVD_EDENIED);
	assert_int_equal(privd_reason(f->c), 10);
	assert_string_equal(privd_reason_name(10), "objected");
}

/* The answer of an erasure that kept billing_details in customers and
 * erased the subject from acis. */
struct erase_answer {
	Privd__V1__Response r;
	Privd__V1__SubjectEraseResponse se;
	Privd__V1__ErasedRegister acis, cust;
	Privd__V1__ErasedRegister *regs[2];
	Privd__V1__Retained k1, k2;
	Privd__V1__Retained *kept[2];
	char *acis_deleted[3], *cust_deleted[2];
};

static void
erase_answer_init(struct erase_answer *a)
{
	static const Privd__V1__Response r0 = PRIVD__V1__RESPONSE__INIT;
	static const Privd__V1__SubjectEraseResponse se0 =
	    PRIVD__V1__SUBJECT_ERASE_RESPONSE__INIT;
	static const Privd__V1__ErasedRegister er0 =
	    PRIVD__V1__ERASED_REGISTER__INIT;
	static const Privd__V1__Retained k0 = PRIVD__V1__RETAINED__INIT;

	a->r = r0;
	a->se = se0;
	a->acis = a->cust = er0;
	a->k1 = a->k2 = k0;
	a->acis_deleted[0] = "email";
	a->acis_deleted[1] = "feedback_text";
	a->acis_deleted[2] = "name";
	a->acis.register_ = "acis";
	a->acis.n_deleted = 3;
	a->acis.deleted = a->acis_deleted;
	a->acis.key_destroyed = 1;
	a->cust_deleted[0] = "email";
	a->cust_deleted[1] = "name";
	a->cust.register_ = "customers";
	a->cust.n_deleted = 2;
	a->cust.deleted = a->cust_deleted;
	a->k1.field = "billing_details";
	a->k1.rule = "bookkeeping";
	a->k2.field = "phone";
	a->k2.hold_reason = "litigation";
	a->k2.until_us = T2;
	a->kept[0] = &a->k1;
	a->kept[1] = &a->k2;
	a->cust.n_kept = 2;
	a->cust.kept = a->kept;
	a->regs[0] = &a->acis;
	a->regs[1] = &a->cust;
	a->se.n_registers = 2;
	a->se.registers = a->regs;
	a->r.status = PRIVD__V1__STATUS__RETAINED;
	a->r.message = "1 register kept fields";
	a->r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_ERASE;
	a->r.subject_erase = &a->se;
}

/*
 * SubjectErase: no register asks for every one; RETAINED comes back with
 * the report, register by register: names deleted, fields kept with rule
 * or hold and date, key destroyed where nothing was kept.
 */
static void
test_erase_retained_wire(void **state)
{
	struct fake *f = *state;
	struct erase_answer a;
	const privd_erased_register *er;
	privd_erasure *e = NULL;

	erase_answer_init(&a);
	f->answer = &a.r;
	assert_int_equal(
	    privd_subject_erase(f->c, "c-1", NULL, 0, &e), PRIVD_ERETAINED);
	assert_int_equal(
	    f->last->op_case, PRIVD__V1__REQUEST__OP_SUBJECT_ERASE);
	assert_string_equal(f->last->subject_erase->subject, "c-1");
	assert_int_equal(f->last->subject_erase->n_registers, 0);
	assert_string_equal(f->last->purpose, "");
	assert_string_equal(privd_errmsg(f->c), "1 register kept fields");
	assert_non_null(e);
	assert_int_equal(e->nregisters, 2);
	er = &e->registers[0];
	assert_string_equal(er->reg, "acis");
	assert_int_equal(er->ndeleted, 3);
	assert_string_equal(er->deleted[0], "email");
	assert_string_equal(er->deleted[1], "feedback_text");
	assert_string_equal(er->deleted[2], "name");
	assert_int_equal(er->nkept, 0);
	assert_null(er->kept);
	assert_true(er->key_destroyed);
	er = &e->registers[1];
	assert_string_equal(er->reg, "customers");
	assert_int_equal(er->ndeleted, 2);
	assert_string_equal(er->deleted[0], "email");
	assert_string_equal(er->deleted[1], "name");
	assert_int_equal(er->nkept, 2);
	assert_string_equal(er->kept[0].field, "billing_details");
	assert_string_equal(er->kept[0].rule, "bookkeeping");
	assert_int_equal(er->kept[0].until_us, 0);
	assert_string_equal(er->kept[0].hold_reason, "");
	assert_string_equal(er->kept[1].field, "phone");
	assert_string_equal(er->kept[1].rule, "");
	assert_int_equal(er->kept[1].until_us, T2);
	assert_string_equal(er->kept[1].hold_reason, "litigation");
	assert_false(er->key_destroyed);
	privd_erasure_free(&e);
	assert_null(e);
	privd_erasure_free(&e);
	privd_erasure_free(NULL);

	/* RETAINED without a report: the status, and a report of nothing */
	a.r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD__NOT_SET;
	assert_int_equal(
	    privd_subject_erase(f->c, "c-1", NULL, 0, &e), PRIVD_ERETAINED);
	assert_non_null(e);
	assert_int_equal(e->nregisters, 0);
	assert_null(e->registers);
	privd_erasure_free(&e);
}

/*
 * OK: nothing kept anywhere. Named registers are sent in order; a
 * register where nothing was stored is not in the report. A refusal
 * leaves *out NULL.
 */
static void
test_erase_ok_wire(void **state)
{
	struct fake *f = *state;
	const char *regs[] = {"acis", "customers"};
	struct erase_answer a;
	privd_erasure *e = NULL;

	erase_answer_init(&a);
	a.r.status = PRIVD__V1__STATUS__OK;
	a.r.message = "";
	a.se.n_registers = 1;
	f->answer = &a.r;
	assert_int_equal(
	    privd_subject_erase(f->c, "c-1", regs, 2, &e), PRIVD_OK);
	assert_int_equal(f->last->subject_erase->n_registers, 2);
	assert_string_equal(f->last->subject_erase->registers[0], "acis");
	assert_string_equal(f->last->subject_erase->registers[1], "customers");
	assert_int_equal(e->nregisters, 1);
	assert_string_equal(e->registers[0].reg, "acis");
	assert_true(e->registers[0].key_destroyed);
	privd_erasure_free(&e);

	/* a register where nothing was deleted: no names */
	a.acis.n_deleted = 0;
	assert_int_equal(
	    privd_subject_erase(f->c, "c-1", regs, 1, &e), PRIVD_OK);
	assert_int_equal(f->last->subject_erase->n_registers, 1);
	assert_int_equal(e->registers[0].ndeleted, 0);
	assert_null(e->registers[0].deleted);
	privd_erasure_free(&e);

	e = (privd_erasure *)&e;
	a.r.status = PRIVD__V1__STATUS__NOT_FOUND;
	a.r.message = "no such subject";
	assert_int_equal(
	    privd_subject_erase(f->c, "c-1", NULL, 0, &e), PRIVD_ENOTFOUND);
	assert_null(e);
	assert_string_equal(privd_errmsg(f->c), "no such subject");
	a.r.status = PRIVD__V1__STATUS__DENIED;
	a.r.reason = PRIVD__V1__DENY_REASON__DENY_UNKNOWN_REGISTER;
	assert_int_equal(
	    privd_subject_erase(f->c, "c-1", regs, 2, &e), PRIVD_EDENIED);
	assert_null(e);
	assert_string_equal(
	    privd_reason_name(privd_reason(f->c)), "unknown_register");
}

/* An erasure answer that breaks the protocol: PRIVD_EPROTO, *out NULL. */
static void
expect_bad(struct fake *f, const char *const *regs, size_t n, const char *why)
{
	privd_erasure *e = (privd_erasure *)&e;

	assert_int_equal(
	    privd_subject_erase(f->c, "c-1", regs, n, &e), PRIVD_EPROTO);
	assert_null(e);
	if (strstr(privd_errmsg(f->c), why) == NULL)
		fail_msg(
		    "message '%s' does not say '%s'", privd_errmsg(f->c), why);
}

/*
 * What the caller could not make sense of is refused, not passed on: a
 * register twice or one not asked for, too many fields, a field without
 * a name, a key destroyed under fields kept, fields kept under OK.
 */
static void
test_erase_bad_answers(void **state)
{
	struct fake *f = *state;
	const char *acis[] = {"acis"};
	static char *many[257];
	privd_erasure *e = NULL;
	struct erase_answer a;
	char longname[66];
	size_t i;

	erase_answer_init(&a);
	f->answer = &a.r;
	expect_bad(f, acis, 1, "not asked for");

	a.regs[1] = &a.acis;
	expect_bad(f, NULL, 0, "twice");
	a.regs[1] = &a.cust;

	a.cust.register_ = "";
	expect_bad(f, NULL, 0, "without a name");
	memset(longname, 'r', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	a.cust.register_ = longname;
	expect_bad(f, NULL, 0, "without a name");
	a.cust.register_ = "customers";

	for (i = 0; i < 257; i++)
		many[i] = "email";
	a.acis.deleted = many;
	a.acis.n_deleted = 257;
	expect_bad(f, NULL, 0, "more than 256 fields");
	a.acis.deleted = a.acis_deleted;
	a.acis.n_deleted = 3;

	a.acis_deleted[1] = "";
	expect_bad(f, NULL, 0, "malformed field name");
	a.acis_deleted[1] = longname;
	expect_bad(f, NULL, 0, "malformed field name");
	a.acis_deleted[1] = "feedback_text";

	a.k2.field = "";
	expect_bad(f, NULL, 0, "kept without a name");
	a.k2.field = "phone";

	a.cust.key_destroyed = 1;
	expect_bad(f, NULL, 0, "destroys a key");
	a.cust.key_destroyed = 0;

	a.r.status = PRIVD__V1__STATUS__OK;
	expect_bad(f, NULL, 0, "status is OK");

	/* and the answer made right again is taken */
	a.r.status = PRIVD__V1__STATUS__RETAINED;
	assert_int_equal(
	    privd_subject_erase(f->c, "c-1", NULL, 0, &e), PRIVD_ERETAINED);
	assert_int_equal(e->nregisters, 2);
	privd_erasure_free(&e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_restrict_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_object_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_denial_reasons, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_erase_retained_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_erase_ok_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_erase_bad_answers, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
