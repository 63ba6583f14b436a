/*
 * export.c - a data subject's export (<privd/rights.h>):
 * privd_subject_export() and its free function. The document is copied
 * out of privd's answer into a buffer of the caller's, and everything
 * that held it on the way is wiped (the answer by cl_response_free()).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* The largest document privd sends (daemon/worker_export.h). */
#define EXPORT_MAX ((size_t)32 * 1024 * 1024)

int
privd_subject_export(privd_client *c, const char *reg, const char *subject,
    char **json, size_t *len)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__SubjectExportRequest se =
	    PRIVD__V1__SUBJECT_EXPORT_REQUEST__INIT;
	Privd__V1__Response *r;
	const ProtobufCBinaryData *d;
	int rc;

	if (json != NULL)
		*json = NULL;
	if (len != NULL)
		*len = 0;
	if (c == NULL || json == NULL || len == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if (reg != NULL && strlen(reg) > MAX_NAME)
		return cl_fail(c, PRIVD_EINVAL,
		    "register name is longer than %d bytes", MAX_NAME);
	if (cl_empty(subject))
		return cl_fail(c, PRIVD_EINVAL, "subject id is empty");
	if (strlen(subject) > MAX_SUBJECT)
		return cl_fail(c, PRIVD_EINVAL,
		    "subject id is longer than %d bytes", MAX_SUBJECT);
	se.register_ = (char *)(reg != NULL ? reg : "");
	se.subject = (char *)subject;
	req.op_case = PRIVD__V1__REQUEST__OP_SUBJECT_EXPORT;
	req.subject_export = &se;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_EXPORT, &r);
	if (rc != PRIVD_OK)
		return rc;
	d = &r->subject_export->json;
	/* a document is a JSON object, which is never empty and holds no
	 * NUL byte: the caller may take it as a C string */
	if (d->len == 0 || d->len > EXPORT_MAX ||
	    memchr(d->data, '\0', d->len) != NULL) {
		cl_response_free(r);
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's export is empty, larger than 32 MiB or holds a "
		    "NUL byte");
	}
	if ((*json = malloc(d->len + 1)) == NULL) {
		cl_response_free(r);
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	}
	memcpy(*json, d->data, d->len);
	(*json)[d->len] = '\0';
	*len = d->len;
	cl_response_free(r);
	return PRIVD_OK;
}

void
privd_subject_export_free(char **json, size_t len)
{
	if (json == NULL || *json == NULL)
		return;
	cl_wipe(*json, len + 1);
	free(*json);
	*json = NULL;
}
