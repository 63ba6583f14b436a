/*
 * decide.c - judge one data request against a parsed policy.
 *
 * Runs on the daemon's request path for every read, write and delete, so it
 * allocates nothing and does a few binary searches (register, purpose,
 * fields), a scan of the principal's grants (at most POL_MAX_GRANTS) and
 * mask tests.
 * Names that came from the client are quoted in messages only when they are
 * valid policy names; anything else could be junk or personal data.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"

static const char *const reason_names[] = {
    [POL_ALLOW] = "allow",
    [POL_DENY_OTHER] = "other",
    [POL_DENY_UNKNOWN_PRINCIPAL] = "unknown_principal",
    [POL_DENY_UNKNOWN_REGISTER] = "unknown_register",
    [POL_DENY_UNKNOWN_FIELD] = "unknown_field",
    [POL_DENY_UNKNOWN_PURPOSE] = "unknown_purpose",
    [POL_DENY_NO_GRANT] = "no_grant",
    [POL_DENY_FIELD_NOT_GRANTED] = "field_not_granted",
    [POL_DENY_REGION] = "region",
    [POL_DENY_RESTRICTED] = "restricted",
    [POL_DENY_OBJECTED] = "objected",
    [POL_DENY_ROLE_REQUIRED] = "role_required",
};

const char *
pol_reason_name(pol_reason r)
{
	if ((unsigned)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "other";
	return reason_names[r];
}

static const char *
op_name(unsigned op)
{
	switch (op) {
	case POL_OP_READ:
		return "read";
	case POL_OP_WRITE:
		return "write";
	case POL_OP_DELETE:
		return "delete";
	}
	return "?";
}

/* A client-supplied name, fit to appear in a message. */
static const char *
quote(const char *s)
{
	return pol_name_valid(s) ? s : "(invalid name)";
}

static void deny(pol_decision *d, pol_reason r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Record a denial. Whatever was resolved so far (register, purpose) stays in
 * the decision for the audit record; the field set does not, since nothing
 * may be touched. */
static void
deny(pol_decision *d, pol_reason r, const char *fmt, ...)
{
	va_list ap;

	d->reason = r;
	memset(d->fields, 0, sizeof(d->fields));
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof(d->message), fmt, ap);
	va_end(ap);
}

/* One bit test: the transfer rule is a bit set of country codes. */
static bool
region_allowed(const pol_register *r, const pol_principal *pr)
{
	int b;

	if (r->allowed_countries == NULL)
		return true;
	if ((b = pol_country_bit(pr->region)) < 0)
		return false;
	return (r->countries[b / 64] >> (b % 64)) & 1;
}

static bool
subset(const uint64_t a[POL_FIELD_WORDS], const uint64_t b[POL_FIELD_WORDS])
{
	size_t w;

	for (w = 0; w < POL_FIELD_WORDS; w++)
		if (a[w] & ~b[w])
			return false;
	return true;
}

/*
 * The rules are checked in a fixed order so that the reason a caller sees is
 * stable: first what the request names (is it declared at all), then where the
 * principal is, then what it is granted, and last what the data subject has
 * asked for. Grants are unioned: two grants for the same register, purpose and
 * operation together cover the fields of both.
 */
void
pol_decide(const pol_policy *p, const pol_request *req, pol_decision *d)
{
	const pol_principal *pr;
	const pol_register *r;
	const pol_purpose *pu;
	const pol_field *f;
	uint64_t granted[POL_FIELD_WORDS] = {0};
	bool any = false;
	size_t i, w;

	memset(d, 0, sizeof(*d));
	if (p == NULL || req == NULL) {
		deny(d, POL_DENY_OTHER, "no policy or no request");
		return;
	}
	if ((pr = req->principal) == NULL) {
		deny(d, POL_DENY_UNKNOWN_PRINCIPAL, "unknown principal");
		return;
	}
	if ((r = pol_register_find(p, req->reg)) == NULL) {
		deny(d, POL_DENY_UNKNOWN_REGISTER, "unknown register %s",
		    quote(req->reg));
		return;
	}
	d->reg = r;
	if ((pu = pol_purpose_find(r, req->purpose)) == NULL) {
		deny(d, POL_DENY_UNKNOWN_PURPOSE,
		    "unknown purpose %s for register %s", quote(req->purpose),
		    r->name);
		return;
	}
	d->purpose = pu;
	if (req->nfields > 0 && req->fields == NULL) {
		deny(d, POL_DENY_OTHER, "field list missing");
		return;
	}
	for (i = 0; i < req->nfields; i++) {
		if ((f = pol_field_find(r, req->fields[i])) == NULL) {
			deny(d, POL_DENY_UNKNOWN_FIELD,
			    "unknown field %s in register %s",
			    quote(req->fields[i]), r->name);
			return;
		}
		pol_fieldset_add(d->fields, f->index);
	}
	if (!region_allowed(r, pr)) {
		deny(d, POL_DENY_REGION,
		    "principal %s: region %s not allowed for register %s",
		    pr->name, pr->region[0] != '\0' ? pr->region : "(none)",
		    r->name);
		return;
	}
	if (req->op != POL_OP_READ && req->op != POL_OP_WRITE &&
	    req->op != POL_OP_DELETE) {
		deny(d, POL_DENY_OTHER, "invalid operation");
		return;
	}

	for (i = 0; i < pr->ngrants; i++) {
		const pol_grant *g = &pr->grants[i];

		if (g->reg != r ||
		    !(g->purposes & (UINT64_C(1) << pu->index)) ||
		    !(g->ops & req->op))
			continue;
		any = true;
		for (w = 0; w < POL_FIELD_WORDS; w++)
			granted[w] |= g->fields[w];
	}
	if (!any) {
		deny(d, POL_DENY_NO_GRANT,
		    "no grant for register %s, purpose %s, operation %s",
		    r->name, pu->name, op_name(req->op));
		return;
	}

	if (req->nfields == 0) {
		/* "All fields": a read gets what it is granted; a write or a
		 * whole-subject delete must be granted every field, since it
		 * affects every field. */
		for (i = 0; i < r->nfields; i++) {
			if (req->op == POL_OP_READ) {
				if (pol_fieldset_has(granted, i))
					pol_fieldset_add(d->fields, i);
			} else if (!pol_fieldset_has(granted, i)) {
				deny(d, POL_DENY_FIELD_NOT_GRANTED,
				    "field %s of register %s not granted for "
				    "%s",
				    r->fields[i].name, r->name,
				    op_name(req->op));
				return;
			} else {
				pol_fieldset_add(d->fields, i);
			}
		}
	} else if (!subset(d->fields, granted)) {
		/* Walk the request's own list so the message names the first
		 * field the caller asked for that is not granted. */
		for (i = 0; i < req->nfields; i++) {
			f = pol_field_find(r, req->fields[i]);
			if (!pol_fieldset_has(granted, f->index)) {
				deny(d, POL_DENY_FIELD_NOT_GRANTED,
				    "field %s of register %s not granted for "
				    "%s",
				    f->name, r->name, op_name(req->op));
				return;
			}
		}
	}

	if (req->subject != NULL) {
		if (req->subject->restricted && !pu->allowed_when_restricted) {
			deny(d, POL_DENY_RESTRICTED,
			    "processing restricted by the data subject; "
			    "purpose %s not allowed",
			    pu->name);
			return;
		}
		if (req->subject->objected & (UINT64_C(1) << pu->index)) {
			deny(d, POL_DENY_OBJECTED,
			    "data subject objected to purpose %s", pu->name);
			return;
		}
	}
	d->reason = POL_ALLOW;
	d->message[0] = '\0';
}
