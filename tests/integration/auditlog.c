/*
 * auditlog.c - privd's audit log as a test reads it (see auditlog.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"

void
evlist_free(evlist *l)
{
	size_t i;

	for (i = 0; i < l->npages; i++)
		privd_audit_page_free(&l->pages[i]);
	free(l->pages);
	free(l->ev);
	memset(l, 0, sizeof(*l));
}

void
collect(privd_client *a, const privd_audit_filter *f, evlist *l)
{
	privd_audit_page *pg = NULL, *prev = NULL;
	size_t i;
	int rc;

	memset(l, 0, sizeof(*l));
	for (;;) {
		rc = privd_audit_query(a, f, prev ? prev->cursor : NULL,
		    prev ? prev->cursorlen : 0, &pg);
		expect_rc(a, rc, PRIVD_OK, "audit query");
		assert_non_null(pg);
		l->npagesread++;
		assert_true(l->npagesread < 100000);
		if (f != NULL && f->limit != 0)
			assert_true(pg->n <= f->limit);
		l->pages =
		    realloc(l->pages, (l->npages + 1) * sizeof(*l->pages));
		l->ev = realloc(l->ev, (l->n + pg->n + 1) * sizeof(*l->ev));
		assert_non_null(l->pages);
		assert_non_null(l->ev);
		l->pages[l->npages++] = pg;
		for (i = 0; i < pg->n; i++)
			l->ev[l->n++] = &pg->events[i];
		if (pg->cursor == NULL)
			break;
		prev = pg;
	}
}

const char *
ev_str(const privd_audit_event *e)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
	    "#%llu %s %s reg=%s purpose=%s fields=%zu decision=%d status=%d "
	    "reason=%d",
	    (unsigned long long)e->seq, e->principal, e->op, e->reg, e->purpose,
	    e->nfields, e->decision, e->status, e->reason);
	return buf;
}

void
expect_event(const privd_audit_event *e, const char *principal, const char *op,
    const char *reg, const char *purpose, const char *const *fields,
    int decision, int status, int reason)
{
	size_t n = 0;

	while (fields != NULL && fields[n] != NULL)
		n++;
	if (strcmp(e->principal, principal) != 0 || strcmp(e->op, op) != 0 ||
	    strcmp(e->reg, reg) != 0 || strcmp(e->purpose, purpose) != 0 ||
	    e->decision != decision || e->status != status ||
	    e->reason != reason || e->nfields != n)
		fail_msg("event %s, expected %s %s reg=%s purpose=%s "
		         "fields=%zu decision=%d status=%d reason=%d",
		    ev_str(e), principal, op, reg, purpose, n, decision, status,
		    reason);
	for (n = 0; fields != NULL && fields[n] != NULL; n++)
		assert_string_equal(e->fields[n], fields[n]);
	assert_int_equal(e->policy_version, 1);
	assert_true(e->time_us > 0);
	assert_non_null(e->raw);
	assert_true(e->rawlen > 0);
}

uint64_t
head(privd_client *a)
{
	privd_audit_filter f = {0};
	privd_audit_page *pg = NULL;
	uint64_t seq;

	f.newest_first = 1;
	f.limit = 1;
	expect_rc(a, privd_audit_query(a, &f, NULL, 0, &pg), PRIVD_OK, "head");
	assert_int_equal(pg->n, 1);
	seq = pg->events[0].seq;
	privd_audit_page_free(&pg);
	return seq;
}

void
audit_verify_ok(privd_client *a, const uint8_t *pk, uint64_t *checked)
{
	char why[200] = "";
	uint64_t bad = 0;
	int rc;

	rc = privd_audit_verify(a, 0, 0, pk, &bad, why, sizeof(why), checked);
	if (rc != PRIVD_OK)
		fail_msg("audit verify: %s at %llu: %s (%s)",
		    privd_strerror(rc), (unsigned long long)bad, why,
		    privd_errmsg(a));
}

int64_t
audit_wait_signed(privd_client *a, uint64_t seq, int timeout_ms)
{
	privd_audit_checkpoint *ck = NULL;
	int64_t t0 = h_now_ms();
	uint64_t signed_seq;
	size_t n;

	for (;;) {
		n = 0;
		expect_rc(a,
		    privd_audit_checkpoints(
		        a, 0, 0, &ck, &n, NULL, NULL, NULL, NULL),
		    PRIVD_OK, "checkpoints");
		signed_seq = n > 0 ? ck[n - 1].seq : 0;
		privd_free(ck);
		if (signed_seq >= seq)
			return h_now_ms() - t0;
		if (h_now_ms() - t0 > timeout_ms)
			return -1;
		h_sleep_ms(50);
	}
}
