/*
 * lookup.c - privd_subject_lookup (<privd/rights.h>): find a person by a
 * lookup field's value through privd's blind index.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define LOOKUP_MAX_VALUE 1024

int
privd_subject_lookup(privd_client *c, const char *field, const void *value,
    size_t len, privd_match **out, size_t *n)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectLookupRequest lr =
	    PRIVD__V1__SUBJECT_LOOKUP_REQUEST__INIT;
	Privd__V1__SubjectLookupResponse *res;
	Privd__V1__Response *r;
	privd_match *m;
	size_t i, sl, bytes;
	char *p;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (n != NULL)
		*n = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if (out == NULL || n == NULL || value == NULL)
		return cl_fail(c, PRIVD_EINVAL, "a NULL argument");
	if (cl_empty(field) || strlen(field) > MAX_NAME)
		return cl_fail(c, PRIVD_EINVAL,
		    "field name must be 1..%d bytes", MAX_NAME);
	if (len == 0 || len > LOOKUP_MAX_VALUE)
		return cl_fail(c, PRIVD_EINVAL, "the value must be 1..%d bytes",
		    LOOKUP_MAX_VALUE);
	lr.field = (char *)field;
	lr.value.data = (uint8_t *)value;
	lr.value.len = len;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_LOOKUP;
	req.subject_lookup = &lr;
	if ((rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_LOOKUP,
	         &r)) != PRIVD_OK)
		return rc;
	res = r->subject_lookup;
	/* one block: the array, then the subject ids */
	bytes = res->n_matches * sizeof(*m);
	for (i = 0; i < res->n_matches; i++) {
		Privd__V1__SubjectMatch *sm = res->matches[i];

		if (sm == NULL || cl_empty(sm->register_) ||
		    strlen(sm->register_) > MAX_NAME || cl_empty(sm->subject) ||
		    (sl = strlen(sm->subject)) > MAX_SUBJECT) {
			cl_response_free(r);
			return cl_fail(c, PRIVD_EPROTO,
			    "privd sent a malformed lookup answer");
		}
		bytes += sl + 1;
	}
	if (res->n_matches == 0) {
		cl_response_free(r);
		return PRIVD_OK;
	}
	if ((m = calloc(1, bytes)) == NULL) {
		cl_response_free(r);
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	}
	p = (char *)(m + res->n_matches);
	for (i = 0; i < res->n_matches; i++) {
		sl = strlen(res->matches[i]->subject);
		strcpy(m[i].reg, res->matches[i]->register_);
		m[i].subject = p;
		memcpy(p, res->matches[i]->subject, sl + 1);
		p += sl + 1;
	}
	*n = res->n_matches;
	*out = m;
	cl_response_free(r);
	return PRIVD_OK;
}

void
privd_matches_free(privd_match **mp, size_t n)
{
	privd_match *m;
	size_t i;

	if (mp == NULL || (m = *mp) == NULL)
		return;
	for (i = 0; i < n; i++)
		cl_wipe(m[i].subject, strlen(m[i].subject));
	free(m);
	*mp = NULL;
}
