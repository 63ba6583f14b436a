/*
 * policy.c - the policy administration calls: read, apply and list the
 * versions of the policy.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* Copy a wire PolicyVersion; a missing one is a protocol error. */
static int
version_copy(privd_client *c, const Privd__V1__PolicyVersion *src,
    privd_policy_version *dst)
{
	if (src == NULL)
		return cl_fail(
		    c, PRIVD_EPROTO, "privd's answer has no policy version");
	dst->version = src->version;
	cl_copy_str(dst->applied_by, sizeof(dst->applied_by), src->applied_by);
	dst->applied_at_us = src->applied_at_us;
	return PRIVD_OK;
}

int
privd_policy_get_version(
    privd_client *c, uint64_t version, privd_policy_version *info, char **json)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyGetRequest pg = PRIVD__V1__POLICY_GET_REQUEST__INIT;
	privd_policy_version v;
	Privd__V1__Response *r;
	int rc;

	if (json != NULL)
		*json = NULL;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	pg.version = version;
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_GET;
	req.policy_get = &pg;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_GET, &r);
	if (rc != PRIVD_OK)
		return rc;
	rc = version_copy(c, r->policy_get->version, &v);
	/* an answer about another version than the one asked for would be
	 * shown as that one */
	if (rc == PRIVD_OK && version != 0 && v.version != version)
		rc = cl_fail(c, PRIVD_EPROTO,
		    "privd answered with another policy version");
	if (rc == PRIVD_OK && json != NULL) {
		*json = strdup(r->policy_get->policy_json != NULL
		                   ? r->policy_get->policy_json
		                   : "");
		if (*json == NULL)
			rc = cl_fail(c, PRIVD_ENOMEM, "out of memory");
	}
	if (rc == PRIVD_OK && info != NULL)
		*info = v;
	cl_response_free(r);
	return rc;
}

int
privd_policy_get(privd_client *c, privd_policy_version *version, char **json)
{
	return privd_policy_get_version(c, 0, version, json);
}

int
privd_policy_apply_ex(privd_client *c, uint64_t replaces_version,
    const char *json, unsigned flags, privd_apply_result *out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyApplyRequest pa =
	    PRIVD__V1__POLICY_APPLY_REQUEST__INIT;
	const Privd__V1__PolicyApplyResponse *a;
	Privd__V1__Response *r;
	int rc;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((flags & ~PRIVD_APPLY_FORCE) != 0)
		return cl_fail(c, PRIVD_EINVAL, "unknown flags 0x%x", flags);
	if (replaces_version == 0)
		return cl_fail(c, PRIVD_EINVAL,
		    "replaces_version must name the version in force");
	if (json == NULL || *json == '\0')
		return cl_fail(c, PRIVD_EINVAL, "the policy document is empty");
	pa.replaces_version = replaces_version;
	pa.policy_json = (char *)json;
	pa.force = (flags & PRIVD_APPLY_FORCE) != 0;
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_APPLY;
	req.policy_apply = &pa;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_APPLY, &r);
	if (rc != PRIVD_OK)
		return rc;
	a = r->policy_apply;
	/* unchanged keeps the version replaced; a change makes the next */
	if (a->unchanged ? a->version != replaces_version
	                 : a->version <= replaces_version)
		rc = cl_fail(c, PRIVD_EPROTO,
		    "privd's answer names an impossible policy version");
	/* and the same policy cannot make anything fall due differently */
	else if (a->unchanged && a->replan_subjects != 0)
		rc = cl_fail(c, PRIVD_EPROTO,
		    "privd's answer re-plans subjects for an unchanged policy");
	if (rc != PRIVD_OK) {
		cl_response_free(r);
		return rc;
	}
	if (out != NULL) {
		out->version = a->version;
		out->unchanged = a->unchanged;
		out->replan_subjects = a->replan_subjects;
	}
	cl_response_free(r);
	return PRIVD_OK;
}

int
privd_policy_apply_flags(privd_client *c, uint64_t replaces_version,
    const char *json, unsigned flags, uint64_t *version, int *unchanged)
{
	privd_apply_result res;
	int rc;

	rc = privd_policy_apply_ex(c, replaces_version, json, flags, &res);
	if (version != NULL)
		*version = res.version;
	if (unchanged != NULL)
		*unchanged = res.unchanged;
	return rc;
}

int
privd_policy_apply(privd_client *c, uint64_t replaces_version, const char *json,
    uint64_t *new_version)
{
	return privd_policy_apply_flags(
	    c, replaces_version, json, 0, new_version, NULL);
}

int
privd_policy_history(
    privd_client *c, privd_policy_version **versions, size_t *n)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PolicyHistoryRequest ph =
	    PRIVD__V1__POLICY_HISTORY_REQUEST__INIT;
	const Privd__V1__PolicyHistoryResponse *h;
	privd_policy_version *out;
	Privd__V1__Response *r;
	size_t i;
	int rc;

	if (versions != NULL)
		*versions = NULL;
	if (n != NULL)
		*n = 0;
	if (c == NULL || versions == NULL || n == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	req.op_case = PRIVD__V1__REQUEST__OP_POLICY_HISTORY;
	req.policy_history = &ph;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_POLICY_HISTORY, &r);
	if (rc != PRIVD_OK)
		return rc;
	h = r->policy_history;
	if (h->n_versions > POLICY_VERSIONS_MAX) {
		cl_response_free(r);
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d policy versions",
		    POLICY_VERSIONS_MAX);
	}
	/* one element even for an empty list, so that success is never NULL */
	out = calloc(h->n_versions > 0 ? h->n_versions : 1, sizeof(*out));
	if (out == NULL)
		rc = cl_fail(c, PRIVD_ENOMEM, "out of memory");
	for (i = 0; rc == PRIVD_OK && i < h->n_versions; i++)
		rc = version_copy(c, h->versions[i], &out[i]);
	cl_response_free(r);
	if (rc != PRIVD_OK) {
		free(out);
		return rc;
	}
	*versions = out;
	*n = i;
	return PRIVD_OK;
}
