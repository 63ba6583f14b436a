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
