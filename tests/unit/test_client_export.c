/*
 * test_client_export.c - libprivd's privd_subject_export() on the wire,
 * against the fake privd of fake_privd.c: what it puts into its request
 * (the register, or none for every register, and the subject), what it
 * refuses before sending, and what it makes of an answer: the document
 * as a NUL-terminated copy, a refusal, or an answer that breaks the
 * protocol (empty, a NUL byte inside, another operation's payload).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_privd.h"

#define DOC "{\"format\":\"privd-subject-export\",\"format_version\":1}"

static void
test_export_wire(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__SubjectExportResponse er =
	    PRIVD__V1__SUBJECT_EXPORT_RESPONSE__INIT;
	char *json = NULL;
	size_t len = 0;

	er.json.data = (uint8_t *)DOC;
	er.json.len = strlen(DOC);
	ANSWER(r, SUBJECT_EXPORT, subject_export, &er);
	f->answer = &r;
	assert_int_equal(
	    privd_subject_export(f->c, "customers", "c-1", &json, &len),
	    PRIVD_OK);
	assert_int_equal(
	    f->last->op_case, PRIVD__V1__REQUEST__OP_SUBJECT_EXPORT);
	assert_string_equal(f->last->subject_export->register_, "customers");
	assert_string_equal(f->last->subject_export->subject, "c-1");
	assert_string_equal(f->last->purpose, "");
	assert_int_equal(len, strlen(DOC));
	assert_string_equal(json, DOC);
	privd_subject_export_free(&json, len);
	assert_null(json);
	privd_subject_export_free(&json, len); /* NULL-safe */
	privd_subject_export_free(NULL, 0);

	/* NULL or "": every register */
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "c-2", &json, &len), PRIVD_OK);
	assert_string_equal(f->last->subject_export->register_, "");
	privd_subject_export_free(&json, len);
	assert_int_equal(
	    privd_subject_export(f->c, "", "c-2", &json, &len), PRIVD_OK);
	assert_string_equal(f->last->subject_export->register_, "");
	privd_subject_export_free(&json, len);
}

/* What the library refuses before sending: nothing reaches privd. */
static void
test_export_local(void **state)
{
	struct fake *f = *state;
	char subj[258], reg[66], *json = (char *)"x";
	size_t len = 7;

	memset(subj, 's', 257);
	subj[257] = '\0';
	memset(reg, 'r', 65);
	reg[65] = '\0';
	assert_int_equal(
	    privd_subject_export(NULL, NULL, "c", &json, &len), PRIVD_EINVAL);
	assert_null(json);
	assert_int_equal(len, 0);
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "c", NULL, &len), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "c", &json, NULL), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "", &json, &len), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_export(f->c, NULL, NULL, &json, &len), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_export(f->c, NULL, subj, &json, &len), PRIVD_EINVAL);
	assert_int_equal(
	    privd_subject_export(f->c, reg, "c", &json, &len), PRIVD_EINVAL);
	assert_null(f->last);
	assert_null(json);
}

/* Refusals and broken answers: no document, and why. */
static void
test_export_bad_answers(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__SubjectExportResponse er =
	    PRIVD__V1__SUBJECT_EXPORT_RESPONSE__INIT;
	static const char nul[] = "{\"a\":1}\0{}";
	char *json = NULL;
	size_t len = 0;

	ANSWER(r, SUBJECT_EXPORT, subject_export, &er);
	f->answer = &r;
	/* empty */
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "c", &json, &len), PRIVD_EPROTO);
	assert_null(json);
	assert_int_equal(len, 0);
	/* a NUL byte inside */
	er.json.data = (uint8_t *)nul;
	er.json.len = sizeof(nul) - 1;
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "c", &json, &len), PRIVD_EPROTO);
	assert_null(json);
	/* another operation's payload */
	r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_OBJECT;
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "c", &json, &len), PRIVD_EPROTO);
	assert_null(json);
	/* refusals */
	r.payload_case = PRIVD__V1__RESPONSE__PAYLOAD__NOT_SET;
	r.status = PRIVD__V1__STATUS__NOT_FOUND;
	r.message = "the subject is stored in no register";
	assert_int_equal(privd_subject_export(f->c, NULL, "c", &json, &len),
	    PRIVD_ENOTFOUND);
	assert_null(json);
	r.status = PRIVD__V1__STATUS__TOO_LARGE;
	r.message = "export one register at a time, starting with register "
	            "customers";
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "c", &json, &len), PRIVD_ETOOBIG);
	assert_non_null(strstr(privd_errmsg(f->c), "register customers"));
	r.status = PRIVD__V1__STATUS__DENIED;
	r.reason = PRIVD__V1__DENY_REASON__DENY_ROLE_REQUIRED;
	assert_int_equal(
	    privd_subject_export(f->c, NULL, "c", &json, &len), PRIVD_EDENIED);
	assert_int_equal(privd_reason(f->c), 11);
	assert_null(json);
	assert_int_equal(len, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_export_wire, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_export_local, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_export_bad_answers, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
