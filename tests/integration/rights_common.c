/*
 * rights_common.c - what the data subject rights tests share (see
 * rights_common.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rights_common.h"

/* ---- the requests, raw ----------------------------------------------- */

Privd__V1__Response *
restrict_raw(
    harness *h, const char *key, const char *reg, const char *subject, bool on)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectRestrictRequest sr =
	    PRIVD__V1__SUBJECT_RESTRICT_REQUEST__INIT;

	sr.register_ = (char *)reg;
	sr.subject = (char *)subject;
	sr.on = on;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_RESTRICT;
	req.subject_restrict = &sr;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
object_raw(harness *h, const char *key, const char *reg, const char *subject,
    const char *purpose, bool on)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectObjectRequest so =
	    PRIVD__V1__SUBJECT_OBJECT_REQUEST__INIT;

	so.register_ = (char *)reg;
	so.subject = (char *)subject;
	so.purpose = (char *)purpose;
	so.on = on;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_OBJECT;
	req.subject_object = &so;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
erase_raw(harness *h, const char *key, const char *subject,
    const char *const *regs, size_t n)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectEraseRequest se =
	    PRIVD__V1__SUBJECT_ERASE_REQUEST__INIT;

	se.subject = (char *)subject;
	se.registers = (char **)regs;
	se.n_registers = n;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_ERASE;
	req.subject_erase = &se;
	return raw_call(h, key, &req);
}

/* An OK answer to a restriction or objection carries its payload, whose
 * `changed` must be as given. */
static void
expect_changed(
    const Privd__V1__Response *r, bool object, bool changed, const char *what)
{
	bool got;

	expect_status(r, ST(OK), 0, what);
	if (object) {
		assert_int_equal(r->payload_case,
		    PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_OBJECT);
		got = r->subject_object->changed;
	} else {
		assert_int_equal(r->payload_case,
		    PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_RESTRICT);
		got = r->subject_restrict->changed;
	}
	if (got != changed)
		fail_msg("%s: changed=%d, expected %d", what, (int)got,
		    (int)changed);
}

void
restrict_ok(
    harness *h, const char *reg, const char *subject, bool on, bool changed)
{
	Privd__V1__Response *r = restrict_raw(h, RIGHTS, reg, subject, on);

	expect_changed(r, false, changed, on ? "restrict" : "lift");
	privd__v1__response__free_unpacked(r, NULL);
}

void
object_ok(harness *h, const char *reg, const char *subject, const char *purpose,
    bool on, bool changed)
{
	Privd__V1__Response *r =
	    object_raw(h, RIGHTS, reg, subject, purpose, on);

	expect_changed(r, true, changed, on ? "object" : "withdraw");
	privd__v1__response__free_unpacked(r, NULL);
}

/* A refused or failed answer carries no payload, and its message no
 * subject id (checked by the caller's needle, if any). */
static void
expect_refusal(
    const Privd__V1__Response *r, int st, int reason, const char *what)
{
	expect_status(r, st, reason, what);
	if (st != ST(OK))
		assert_int_equal(
		    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD__NOT_SET);
}

void
restrict_expect(harness *h, const char *key, const char *reg,
    const char *subject, bool on, int st, int reason, const char *what)
{
	Privd__V1__Response *r = restrict_raw(h, key, reg, subject, on);

	expect_refusal(r, st, reason, what);
	privd__v1__response__free_unpacked(r, NULL);
}

void
object_expect(harness *h, const char *key, const char *reg, const char *subject,
    const char *purpose, bool on, int st, int reason, const char *what)
{
	Privd__V1__Response *r = object_raw(h, key, reg, subject, purpose, on);

	expect_refusal(r, st, reason, what);
	privd__v1__response__free_unpacked(r, NULL);
}

const Privd__V1__ErasedRegister *
erased_of(const Privd__V1__Response *r, const char *reg)
{
	size_t i;

	if (r->payload_case != PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_ERASE)
		return NULL;
	for (i = 0; i < r->subject_erase->n_registers; i++)
		if (strcmp(r->subject_erase->registers[i]->register_, reg) == 0)
			return r->subject_erase->registers[i];
	return NULL;
}

void
expect_erase_answer(
    const Privd__V1__Response *r, int st, const char *const *regs, size_t n)
{
	const Privd__V1__SubjectEraseResponse *e;
	size_t i;

	expect_status(r, st, 0, "erase");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_ERASE);
	e = r->subject_erase;
	if (e->n_registers != n)
		fail_msg("erase: %zu registers in the answer, expected %zu",
		    e->n_registers, n);
	for (i = 0; i < n; i++)
		if (strcmp(e->registers[i]->register_, regs[i]) != 0)
			fail_msg("erase: register %zu of the answer is %s, "
			         "expected %s",
			    i, e->registers[i]->register_, regs[i]);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void
expect_erased(const Privd__V1__ErasedRegister *e, const char *deleted,
    size_t n_kept, bool key_destroyed)
{
	const char **names;
	char got[1024];
	size_t used = 0, i;

	assert_non_null(e);
	assert_non_null(names = calloc(e->n_deleted + 1, sizeof(*names)));
	for (i = 0; i < e->n_deleted; i++)
		names[i] = e->deleted[i];
	qsort(names, e->n_deleted, sizeof(*names), cmp_str);
	got[0] = '\0';
	for (i = 0; i < e->n_deleted; i++) {
		int k = snprintf(got + used, sizeof(got) - used, "%s%s",
		    i > 0 ? "," : "", names[i]);

		assert_true(k > 0 && (size_t)k < sizeof(got) - used);
		used += (size_t)k;
	}
	free(names);
	if (strcmp(got, deleted) != 0)
		fail_msg("erase in %s deleted [%s], expected [%s]",
		    e->register_, got, deleted);
	if (e->n_kept != n_kept)
		fail_msg("erase in %s kept %zu fields, expected %zu",
		    e->register_, e->n_kept, n_kept);
	if (e->key_destroyed != key_destroyed)
		fail_msg("erase in %s: key_destroyed %d, expected %d",
		    e->register_, (int)e->key_destroyed, (int)key_destroyed);
}

const Privd__V1__Retained *
kept_of(const Privd__V1__ErasedRegister *e, const char *field)
{
	size_t i;

	for (i = 0; i < e->n_kept; i++)
		if (strcmp(e->kept[i]->field, field) == 0)
			return e->kept[i];
	return NULL;
}

/* ---- data requests whose outcome the test names ----------------------- */

/* rc (and the reason and message of a denial) as the test expects. */
static void
expect_outcome(privd_client *c, int got, int rc, int reason,
    const char *purpose, const char *what)
{
	if (got != rc)
		fail_msg("%s: expected %s, got %s (reason %s: \"%s\")", what,
		    privd_strerror(rc), privd_strerror(got),
		    privd_reason_name(privd_reason(c)), privd_errmsg(c));
	if (rc != PRIVD_EDENIED)
		return;
	expect_denied(c, got, reason, what);
	if (reason == R_RESTRICTED &&
	    strstr(privd_errmsg(c),
	        "processing restricted by the data subject") == NULL)
		fail_msg("%s: restricted, but the message says \"%s\"", what,
		    privd_errmsg(c));
	if (reason == R_OBJECTED && strstr(privd_errmsg(c), purpose) == NULL)
		fail_msg("%s: objected, but the message does not name %s: "
		         "\"%s\"",
		    what, purpose, privd_errmsg(c));
}

void
expect_get(harness *h, const char *key, const char *reg, const char *purpose,
    const char *subject, int rc, int reason)
{
	privd_client *c = client(h, key);
	privd_record *rec = NULL;
	char what[160];
	int got;

	snprintf(what, sizeof(what), "%s: get %s for %s", key, reg, purpose);
	got = privd_get(c, reg, subject, purpose, NULL, 0, &rec);
	expect_outcome(c, got, rc, reason, purpose, what);
	if (got == PRIVD_OK)
		assert_true(rec->nfields > 0);
	else
		assert_null(rec);
	privd_record_free(&rec);
	privd_close(&c);
}

void
expect_put(harness *h, const char *key, const char *reg, const char *purpose,
    const char *subject, const char *field, const char *value, int rc,
    int reason)
{
	privd_client *c = client(h, key);
	privd_field f = h_field(field, value);
	char what[160];

	snprintf(what, sizeof(what), "%s: put %s.%s for %s", key, reg, field,
	    purpose);
	expect_outcome(c, privd_put(c, reg, subject, purpose, &f, 1), rc,
	    reason, purpose, what);
	privd_close(&c);
}

void
expect_del(harness *h, const char *key, const char *reg, const char *purpose,
    const char *subject, const char *field, int rc, int reason)
{
	Privd__V1__Response *r;
	const char *const names[] = {field};
	char what[160];
	int st;

	/* raw: a delete's RETAINED answer and reason are the test's */
	snprintf(what, sizeof(what), "%s: delete %s.%s for %s", key, reg, field,
	    purpose);
	r = del_raw(h, key, reg, subject, purpose, names, 1);
	switch (rc) {
	case PRIVD_OK:
		st = ST(OK);
		break;
	case PRIVD_EDENIED:
		st = ST(DENIED);
		break;
	case PRIVD_ENOTFOUND:
		st = ST(NOT_FOUND);
		break;
	default:
		fail_msg("%s: no such expectation", what);
		return;
	}
	expect_status(r, st, reason, what);
	if (reason == R_RESTRICTED &&
	    strstr(r->message, "processing restricted by the data subject") ==
	        NULL)
		fail_msg("%s: restricted, but the message says \"%s\"", what,
		    r->message);
	privd__v1__response__free_unpacked(r, NULL);
}

/* ---- the example policy's data ---------------------------------------- */

void
put_cust(harness *h, const char *subject, bool billing)
{
	privd_client *c = client(h, "crm");
	privd_field f[] = {h_field("name", "Kaisa Asiakas"),
	    h_field("email", "kaisa.asiakas@example.fi"),
	    h_field("phone", "+358 40 765 4321"),
	    h_field("organisation", "Esimerkki Oy"),
	    h_field("position", "purchasing manager"),
	    h_field("organisation_address", "Mannerheimintie 1, Helsinki"),
	    h_field("customer_type", "company"),
	    h_field("classification", "key account"),
	    h_field("feedback_score", "8"),
	    h_field("feedback_text", "Quick delivery, friendly service"),
	    h_field("billing_details", "Invoices by e-invoice, net 14 days")};
	size_t n = sizeof(f) / sizeof(f[0]) - (billing ? 0 : 1);

	expect_rc(
	    c, privd_put(c, CUST, subject, CR, f, n), PRIVD_OK, "crm put");
	privd_close(&c);
}

void
put_acis(harness *h, const char *subject)
{
	privd_client *c = client(h, "acis");
	privd_field f[] = {h_field("name", "Vastaaja Virtanen"),
	    h_field("email", "vastaaja@example.fi"),
	    h_field("feedback_score", "4"),
	    h_field("customer_type", "consumer")};

	expect_rc(
	    c, privd_put(c, ACIS, subject, ST_P, f, 4), PRIVD_OK, "acis put");
	privd_close(&c);
}

void
end_rel(harness *h, const char *subject, int64_t at_us)
{
	Privd__V1__Response *r =
	    rel_end(h, "crm", CUST, subject, (uint64_t)at_us, false);

	expect_status(r, ST(OK), 0, "relationship end");
	privd__v1__response__free_unpacked(r, NULL);
}

/* ---- the audit events of a subject ------------------------------------ */

void
subject_events(harness *h, const char *subject, evlist *l)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};

	memset(l, 0, sizeof(*l));
	f.subject = subject;
	collect(a, &f, l);
	privd_close(&a);
}

size_t
count_events(const evlist *l, const char *op, const char *reg,
    const char *principal, int decision, int status, int reason)
{
	const privd_audit_event *first = NULL;
	size_t n = 0, i;

	for (i = 0; i < l->n; i++) {
		const privd_audit_event *e = l->ev[i];

		/* a query by subject finds only that subject's events, all
		 * under one pseudonym */
		if (e->has_subject) {
			if (first == NULL)
				first = e;
			else if (memcmp(first->subject, e->subject, 32) != 0)
				fail_msg("events %s and %s of one subject "
				         "have different pseudonyms",
				    ev_str(first), ev_str(e));
		}
		if (strcmp(e->op, op) != 0 ||
		    (reg != NULL && strcmp(e->reg, reg) != 0) ||
		    (principal != NULL &&
		        strcmp(e->principal, principal) != 0) ||
		    e->decision != decision || e->status != status ||
		    (decision == PRIVD_DECISION_REFUSED && e->reason != reason))
			continue;
		if (!e->has_subject)
			fail_msg("event %s has no pseudonym", ev_str(e));
		n++;
	}
	return n;
}

void
expect_events(harness *h, const char *subject, const char *op, const char *reg,
    const char *principal, int decision, int status, int reason, size_t n)
{
	evlist l;
	size_t got, i;

	subject_events(h, subject, &l);
	got = count_events(&l, op, reg, principal, decision, status, reason);
	if (got != n)
		for (i = 0; i < l.n; i++)
			print_message("event %s\n", ev_str(l.ev[i]));
	/* freed before a failure, which does not come back */
	evlist_free(&l);
	if (got != n)
		fail_msg("%zu %s events (%s, decision %d, status %d, reason "
		         "%d) of the subject, expected %zu",
		    got, op, reg != NULL ? reg : "any register", decision,
		    status, reason, n);
}
