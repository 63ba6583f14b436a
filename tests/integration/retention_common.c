/*
 * retention_common.c - what the retention tests share (see
 * retention_common.h).
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

#include "retention_common.h"

const char *ret_admin = "admin";

const char *const ret_serve_args[] = {"--retention-interval", "0", NULL};

int
ret_setup_args(void **state, const char *const *serve_args)
{
	static const char *const keys[] = {
	    "svc", "acis", "reader", "admin", "rights", "auditor"};
	static const h_opts o = {.test_clock = true};

	ret_admin = "admin";
	return h_setup_opt(state, keys, sizeof(keys) / sizeof(keys[0]),
	    RET_POLICY, serve_args != NULL ? serve_args : ret_serve_args, &o);
}

void
ret_restart(harness *h)
{
	stop_clean(h);
	assert_int_equal(h_start(h, ret_serve_args), 0);
}

int
ret_setup(void **state)
{
	return ret_setup_args(state, NULL);
}

/*
 * Turn every principal's "key": "<Z85>" of the example into "@KEY:name@",
 * name being the principal the key belongs to (the key is the first member
 * of each principal's object), as test_policy_example.c does. A malloc'd
 * template; *count receives the number of keys replaced. NULL if the
 * document is not laid out so.
 */
static char *
example_template(const char *doc, size_t *count)
{
	size_t size = strlen(doc) + H_MAX_KEYS * 64 + 1, used = 0;
	const char *p = doc, *k, *q, *name_end, *name;
	char *out = malloc(size);
	int n;

	*count = 0;
	if (out == NULL)
		return NULL;
	while ((k = strstr(p, "\"key\"")) != NULL) {
		/* back from "key" over '{', ':' to the principal's name */
		for (q = k - 1; q > doc && strchr(" \t\r\n", *q); q--)
			;
		if (*q-- != '{')
			goto bad;
		for (; q > doc && strchr(" \t\r\n", *q); q--)
			;
		if (*q-- != ':')
			goto bad;
		for (; q > doc && strchr(" \t\r\n", *q); q--)
			;
		if (*q != '"')
			goto bad;
		name_end = q;
		for (name = q - 1; name > doc && name[-1] != '"'; name--)
			;
		/* forward to the key's value: "key" ws : ws "<40 chars>" */
		q = k + 5 + strspn(k + 5, " \t");
		if (*q++ != ':')
			goto bad;
		q += strspn(q, " \t");
		if (*q != '"' || strlen(q) < 42 || q[41] != '"')
			goto bad;
		n = snprintf(out + used, size - used, "%.*s\"@KEY:%.*s@\"",
		    (int)(q - p), p, (int)(name_end - name), name);
		if (n < 0 || (size_t)n >= size - used)
			goto bad;
		used += (size_t)n;
		p = q + 42;
		(*count)++;
	}
	if (strlen(p) >= size - used)
		goto bad;
	strcpy(out + used, p);
	return out;
bad:
	free(out);
	return NULL;
}

int
ret_setup_example(void **state)
{
	static const char *const keys[] = {"crm", "billing", "reporting",
	    "acis", "auditor", "dpo", "support_contractor"};
	static const h_opts o = {.test_clock = true};
	const char *path = getenv("POLICY_EXAMPLE");
	uint8_t *doc = NULL;
	size_t len, count;
	char *tmpl;
	int rc;

	ret_admin = "dpo";
	if (path == NULL || h_read_file(path, &doc, &len) != 0) {
		fprintf(stderr, "cannot read the example policy (set "
		                "POLICY_EXAMPLE; meson test does)\n");
		return -1;
	}
	tmpl = example_template((const char *)doc, &count);
	free(doc);
	if (tmpl == NULL || count != sizeof(keys) / sizeof(keys[0])) {
		fprintf(stderr, "the example policy's principals are not "
		                "the ones this test knows\n");
		free(tmpl);
		return -1;
	}
	rc = h_setup_opt(
	    state, keys, sizeof(keys) / sizeof(keys[0]), tmpl, NULL, &o);
	free(tmpl);
	return rc;
}

/* ---- time ------------------------------------------------------------ */

int64_t
add_months(int64_t t_us, int n)
{
	static const int dm[] = {
	    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	time_t s = (time_t)(t_us / US_PER_S);
	int64_t frac = t_us % US_PER_S, total;
	struct tm tm;
	int y, m, dim;

	/* an independent count of the calendar (gmtime/timegm), not
	 * privd's, so that the test checks privd's arithmetic */
	assert_non_null(gmtime_r(&s, &tm));
	total = (int64_t)(tm.tm_year + 1900) * 12 + tm.tm_mon + n;
	y = (int)(total / 12);
	m = (int)(total % 12);
	dim = dm[m];
	if (m == 1 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		dim = 29;
	tm.tm_year = y - 1900;
	tm.tm_mon = m;
	if (tm.tm_mday > dim)
		tm.tm_mday = dim;
	return (int64_t)timegm(&tm) * US_PER_S + frac;
}

void
clock_to(harness *h, int64_t t_us)
{
	int64_t real = (int64_t)h_clock_us(h) -
	               (h->clock_on ? h->clock_offset_s * US_PER_S : 0);
	int64_t off = (t_us - real + US_PER_S - 1) / US_PER_S;

	/* only forward: see the header */
	assert_true(!h->clock_on || off >= h->clock_offset_s);
	assert_int_equal(h_clock_set(h, off), 0);
	h_clock_wait();
	assert_true((int64_t)h_clock_us(h) >= t_us);
}

/* ---- data ------------------------------------------------------------ */

void
put_customer(harness *h, const char *subject)
{
	privd_client *c = client(h, "svc");
	char name[300], email[300], notes[300], bill[300];
	privd_field f[4];

	snprintf(name, sizeof(name), "name-%s", subject);
	snprintf(email, sizeof(email), "%s@example.org", subject);
	snprintf(notes, sizeof(notes), "notes-%s", subject);
	snprintf(bill, sizeof(bill), "billing_details-%s", subject);
	f[0] = h_field("name", name);
	f[1] = h_field("email", email);
	f[2] = h_field("notes", notes);
	f[3] = h_field("billing_details", bill);
	put_ok(c, subject, f, 4);
	privd_close(&c);
}

void
fields_of(harness *h, const char *key, const char *reg, const char *purpose,
    const char *subject, char *out, size_t size)
{
	privd_client *c = client(h, key);
	privd_record *rec = NULL;
	size_t used = 0, i;
	int rc;

	out[0] = '\0';
	rc = privd_get(c, reg, subject, purpose, NULL, 0, &rec);
	if (rc == PRIVD_ENOTFOUND) {
		snprintf(out, size, "NOT_FOUND");
		privd_close(&c);
		return;
	}
	expect_rc(c, rc, PRIVD_OK, "get");
	/* privd sends the fields sorted by name */
	for (i = 0; i < rec->nfields; i++) {
		int n = snprintf(out + used, size - used, "%s%s",
		    i > 0 ? "," : "", rec->fields[i].name);
		assert_true(n > 0 && (size_t)n < size - used);
		used += (size_t)n;
	}
	privd_record_free(&rec);
	privd_close(&c);
}

void
expect_fields(harness *h, const char *key, const char *reg, const char *purpose,
    const char *subject, const char *want)
{
	char got[512];

	fields_of(h, key, reg, purpose, subject, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg(
		    "%s reads in %s: [%s], expected [%s]", key, reg, got, want);
}

void
expect_cust(harness *h, const char *subject, const char *want)
{
	expect_fields(h, "svc", CUST, INV, subject, want);
}

/* ---- the retention requests, raw -------------------------------------- */

void
expect_status(
    const Privd__V1__Response *r, int st, int reason, const char *what)
{
	if ((int)r->status != st ||
	    (st == ST(DENIED) && reason != 0 && (int)r->reason != reason))
		fail_msg("%s: expected status %d reason %d, got status %d "
		         "reason %d (\"%s\")",
		    what, st, reason, (int)r->status, (int)r->reason,
		    r->message);
}

Privd__V1__Response *
rel_end(harness *h, const char *key, const char *reg, const char *subject,
    uint64_t at_us, bool now)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__RelationshipEndRequest re =
	    PRIVD__V1__RELATIONSHIP_END_REQUEST__INIT;

	re.register_ = (char *)reg;
	re.subject = (char *)subject;
	re.at_us = at_us;
	re.now = now;
	req.op_case = PRIVD__V1__REQUEST__OP_RELATIONSHIP_END;
	req.relationship_end = &re;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
contract_end(
    harness *h, const char *key, const char *reg, uint64_t at_us, bool now)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__ContractEndRequest ce =
	    PRIVD__V1__CONTRACT_END_REQUEST__INIT;

	ce.register_ = (char *)reg;
	ce.at_us = at_us;
	ce.now = now;
	req.op_case = PRIVD__V1__REQUEST__OP_CONTRACT_END;
	req.contract_end = &ce;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
hold_set(harness *h, const char *key, const char *reg, const char *subject,
    const char *reason, uint64_t until_us)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__HoldSetRequest hs = PRIVD__V1__HOLD_SET_REQUEST__INIT;

	hs.register_ = (char *)reg;
	hs.subject = (char *)(subject != NULL ? subject : "");
	hs.reason = (char *)reason;
	hs.until_us = until_us;
	req.op_case = PRIVD__V1__REQUEST__OP_HOLD_SET;
	req.hold_set = &hs;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
hold_lift(harness *h, const char *key, const char *reg, const char *subject)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__HoldLiftRequest hl = PRIVD__V1__HOLD_LIFT_REQUEST__INIT;

	hl.register_ = (char *)reg;
	hl.subject = (char *)(subject != NULL ? subject : "");
	req.op_case = PRIVD__V1__REQUEST__OP_HOLD_LIFT;
	req.hold_lift = &hl;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
hold_list(harness *h, const char *key, const char *reg)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__HoldListRequest hl = PRIVD__V1__HOLD_LIST_REQUEST__INIT;

	hl.register_ = (char *)(reg != NULL ? reg : "");
	req.op_case = PRIVD__V1__REQUEST__OP_HOLD_LIST;
	req.hold_list = &hl;
	return raw_call(h, key, &req);
}

Privd__V1__Response *
ret_run(harness *h, const char *key, bool preview, uint64_t as_of_us,
    const char *reg, uint32_t limit)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__RetentionRunRequest rr =
	    PRIVD__V1__RETENTION_RUN_REQUEST__INIT;

	rr.preview = preview;
	rr.as_of_us = as_of_us;
	rr.register_ = (char *)(reg != NULL ? reg : "");
	rr.limit = limit;
	req.op_case = PRIVD__V1__REQUEST__OP_RETENTION_RUN;
	req.retention_run = &rr;
	return raw_call(h, key, &req);
}

/* A run or preview as admin that must be OK and carry its answer. */
static Privd__V1__Response *
run_ok(harness *h, bool preview, uint64_t as_of_us)
{
	Privd__V1__Response *r =
	    ret_run(h, ret_admin, preview, as_of_us, NULL, 0);

	expect_status(r, ST(OK), 0, preview ? "preview" : "sweep");
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN);
	assert_false(r->retention_run->more);
	return r;
}

Privd__V1__Response *
sweep(harness *h)
{
	return run_ok(h, false, 0);
}

Privd__V1__Response *
preview(harness *h, uint64_t as_of_us)
{
	Privd__V1__Response *r = run_ok(h, true, as_of_us);

	if (as_of_us != 0)
		assert_int_equal(r->retention_run->as_of_us, as_of_us);
	return r;
}

Privd__V1__Response *
del_raw(harness *h, const char *key, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__DeleteRequest dr = PRIVD__V1__DELETE_REQUEST__INIT;

	dr.register_ = (char *)reg;
	dr.subject = (char *)subject;
	dr.fields = (char **)names;
	dr.n_fields = n;
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_DELETE;
	req.delete_ = &dr;
	return raw_call(h, key, &req);
}

const Privd__V1__Retained *
retained_of(const Privd__V1__Response *r, const char *field)
{
	size_t i;

	if (r->payload_case != PRIVD__V1__RESPONSE__PAYLOAD_DELETE)
		return NULL;
	for (i = 0; i < r->delete_->n_retained; i++)
		if (strcmp(r->delete_->retained[i]->field, field) == 0)
			return r->delete_->retained[i];
	return NULL;
}

const Privd__V1__RetentionCount *
count_of(const Privd__V1__Response *r, const char *reg, const char *rule)
{
	const Privd__V1__RetentionRunResponse *rr = r->retention_run;
	size_t i;

	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN);
	for (i = 0; i < rr->n_counts; i++)
		if (strcmp(rr->counts[i]->register_, reg) == 0 &&
		    strcmp(rr->counts[i]->rule, rule) == 0)
			return rr->counts[i];
	return NULL;
}

void
expect_count(const Privd__V1__Response *r, const char *reg, const char *rule,
    uint64_t fields, uint64_t subjects, uint64_t held)
{
	const Privd__V1__RetentionCount *c = count_of(r, reg, rule);
	uint64_t f = c ? c->fields : 0, s = c ? c->subjects : 0,
	         k = c ? c->held : 0;

	if (f != fields || s != subjects || k != held)
		fail_msg("%s/%s: %llu fields, %llu subjects, %llu held; "
		         "expected %llu, %llu, %llu",
		    reg, rule, (unsigned long long)f, (unsigned long long)s,
		    (unsigned long long)k, (unsigned long long)fields,
		    (unsigned long long)subjects, (unsigned long long)held);
}

static bool
count_empty(const Privd__V1__RetentionCount *c)
{
	return c->fields == 0 && c->subjects == 0 && c->held == 0;
}

/* Every non-empty count of a is in b, the same. */
static void
counts_in(const Privd__V1__Response *a, const Privd__V1__Response *b,
    const char *an, const char *bn)
{
	const Privd__V1__RetentionRunResponse *ra = a->retention_run,
	                                      *rb = b->retention_run;
	size_t i, j;

	for (i = 0; i < ra->n_counts; i++) {
		const Privd__V1__RetentionCount *x = ra->counts[i], *y = NULL;

		if (count_empty(x))
			continue;
		for (j = 0; j < rb->n_counts; j++)
			if (strcmp(rb->counts[j]->register_, x->register_) ==
			        0 &&
			    strcmp(rb->counts[j]->rule, x->rule) == 0 &&
			    strcmp(rb->counts[j]->action, x->action) == 0)
				y = rb->counts[j];
		if (y == NULL || y->fields != x->fields ||
		    y->subjects != x->subjects || y->held != x->held)
			fail_msg(
			    "%s says %s/%s/%s: %llu fields, %llu subjects, "
			    "%llu held; %s says %llu, %llu, %llu",
			    an, x->register_, x->rule, x->action,
			    (unsigned long long)x->fields,
			    (unsigned long long)x->subjects,
			    (unsigned long long)x->held, bn,
			    (unsigned long long)(y ? y->fields : 0),
			    (unsigned long long)(y ? y->subjects : 0),
			    (unsigned long long)(y ? y->held : 0));
	}
}

void
expect_same_counts(const Privd__V1__Response *a, const Privd__V1__Response *b)
{
	assert_int_equal(
	    a->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN);
	assert_int_equal(
	    b->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN);
	counts_in(a, b, "the preview", "the sweep");
	counts_in(b, a, "the sweep", "the preview");
}

/* ---- retention events in the audit log -------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The event's fields, sorted, comma-separated, into out. */
static void
fields_str(const privd_audit_event *e, char *out, size_t size)
{
	const char **names = calloc(e->nfields + 1, sizeof(*names));
	size_t used = 0, i;

	assert_non_null(names);
	for (i = 0; i < e->nfields; i++)
		names[i] = e->fields[i];
	qsort(names, e->nfields, sizeof(*names), cmp_str);
	out[0] = '\0';
	for (i = 0; i < e->nfields; i++) {
		int n = snprintf(out + used, size - used, "%s%s",
		    i > 0 ? "," : "", names[i]);
		assert_true(n > 0 && (size_t)n < size - used);
		used += (size_t)n;
	}
	free(names);
}

void
ret_events(harness *h, const char *subject, uint64_t from_seq, ret_evs *out)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};
	size_t i;

	memset(out, 0, sizeof(*out));
	f.principal = "retention";
	f.subject = subject;
	f.from_seq = from_seq;
	collect(a, &f, &out->l);
	privd_close(&a);
	out->n = out->l.n;
	out->ev = calloc(out->n + 1, sizeof(*out->ev));
	assert_non_null(out->ev);
	for (i = 0; i < out->n; i++) {
		const privd_audit_event *e = out->l.ev[i];
		Privd__V1__AuditEvent *pe;

		out->ev[i].e = e;
		assert_false(e->damaged);
		/* the rule is not in libprivd's event yet: the raw bytes
		 * are the serialised privd.v1.AuditEvent */
		pe = privd__v1__audit_event__unpack(NULL, e->rawlen, e->raw);
		assert_non_null(pe);
		snprintf(
		    out->ev[i].rule, sizeof(out->ev[i].rule), "%s", pe->rule);
		privd__v1__audit_event__free_unpacked(pe, NULL);
		fields_str(e, out->ev[i].fields, sizeof(out->ev[i].fields));
	}
}

void
ret_evs_free(ret_evs *v)
{
	evlist_free(&v->l);
	free(v->ev);
	memset(v, 0, sizeof(*v));
}

void
expect_ret_events(harness *h, const char *subject, const char *reg, size_t n,
    const char *const *ops, const char *const *rules, const char *const *fields)
{
	ret_evs v;
	bool *used;
	size_t i, j;

	ret_events(h, subject, 0, &v);
	for (i = 0; i < v.n; i++)
		print_message("retention event %s rule=%s fields=[%s]\n",
		    ev_str(v.ev[i].e), v.ev[i].rule, v.ev[i].fields);
	if (v.n != n)
		fail_msg("%zu retention events of the subject, expected %zu",
		    v.n, n);
	assert_non_null(used = calloc(n + 1, sizeof(*used)));
	/* the order of one sweep's actions is privd's: match each expected
	 * event to one of those found */
	for (i = 0; i < n; i++) {
		for (j = 0; j < v.n; j++) {
			const privd_audit_event *e = v.ev[j].e;

			if (!used[j] && strcmp(e->op, ops[i]) == 0 &&
			    strcmp(e->reg, reg) == 0 &&
			    strcmp(v.ev[j].rule, rules[i]) == 0 &&
			    strcmp(v.ev[j].fields, fields[i]) == 0)
				break;
		}
		if (j == v.n)
			fail_msg("no retention event %s %s rule=%s fields=[%s] "
			         "of the subject",
			    ops[i], reg, rules[i], fields[i]);
		used[j] = true;
		assert_string_equal(v.ev[j].e->principal, "retention");
		assert_int_equal(v.ev[j].e->decision, PRIVD_DECISION_ALLOWED);
		assert_int_equal(v.ev[j].e->status, ST(OK));
		assert_true(v.ev[j].e->has_subject);
	}
	free(used);
	ret_evs_free(&v);
}

/* The audit op of a retention action. */
static const char *
op_of_action(const char *action)
{
	if (strcmp(action, "delete") == 0)
		return "retention_delete";
	if (strcmp(action, "anonymize") == 0)
		return "retention_anonymize";
	return action; /* contract_end_purge */
}

void
expect_run_events(harness *h, uint64_t from_seq, const Privd__V1__Response *r)
{
	const Privd__V1__RetentionRunResponse *rr = r->retention_run;
	uint64_t total = 0;
	ret_evs v;
	size_t i, j, k;

	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN);
	ret_events(h, NULL, from_seq, &v);
	for (i = 0; i < rr->n_counts; i++) {
		const Privd__V1__RetentionCount *c = rr->counts[i];
		uint64_t nev = 0, nfields = 0;

		for (j = 0; j < v.n; j++) {
			if (strcmp(v.ev[j].e->reg, c->register_) != 0 ||
			    strcmp(v.ev[j].rule, c->rule) != 0)
				continue;
			nev++;
			nfields += v.ev[j].e->nfields;
			if (strcmp(v.ev[j].e->op, op_of_action(c->action)) != 0)
				fail_msg("%s/%s: action %s, event op %s",
				    c->register_, c->rule, c->action,
				    v.ev[j].e->op);
			/* one event per subject and rule */
			for (k = 0; k < j; k++)
				if (strcmp(v.ev[k].e->reg, c->register_) == 0 &&
				    strcmp(v.ev[k].rule, c->rule) == 0 &&
				    memcmp(v.ev[k].e->subject,
				        v.ev[j].e->subject, 32) == 0)
					fail_msg("two events of one subject "
					         "for %s/%s",
					    c->register_, c->rule);
		}
		if (nev != c->subjects || nfields != c->fields)
			fail_msg("%s/%s: the sweep says %llu fields of %llu "
			         "subjects, the audit log %llu fields in "
			         "%llu events",
			    c->register_, c->rule,
			    (unsigned long long)c->fields,
			    (unsigned long long)c->subjects,
			    (unsigned long long)nfields,
			    (unsigned long long)nev);
		total += nev;
	}
	if (total != v.n)
		fail_msg("%zu retention events, of which %llu are in the "
		         "sweep's counts",
		    v.n, (unsigned long long)total);
	ret_evs_free(&v);
}

uint64_t
audit_head(harness *h)
{
	privd_client *a = client(h, "auditor");
	uint64_t seq = head(a);

	privd_close(&a);
	return seq;
}

void
privctl_verify_ok(harness *h)
{
	h_result r;

	privctl_expect(h, "auditor", (const char *[]){"audit", "verify", NULL},
	    &r, 0, "privctl audit verify");
	assert_non_null(strstr(r.out, "audit log verifies"));
}
