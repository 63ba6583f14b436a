/*
 * data.c - the data calls: put, get and delete of a subject's fields, the
 * records they hand out, and what a RETAINED delete kept.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * Local checks shared by the data calls: catch what privd would refuse
 * anyway before spending a round trip (and an audit event) on it.
 */
static int
check_target(
    privd_client *c, const char *reg, const char *subject, const char *purpose)
{
	if (reg == NULL || *reg == '\0')
		return cl_fail(c, PRIVD_EINVAL, "register name is empty");
	if (subject == NULL || *subject == '\0')
		return cl_fail(c, PRIVD_EINVAL, "subject id is empty");
	if (strlen(subject) > MAX_SUBJECT)
		return cl_fail(c, PRIVD_EINVAL,
		    "subject id is longer than %d bytes", MAX_SUBJECT);
	if (purpose == NULL || *purpose == '\0')
		return cl_fail(c, PRIVD_EINVAL, "purpose is empty");
	return PRIVD_OK;
}

/* Check a list of n field names (for get and delete). */
static int
check_names(privd_client *c, const char *const *names, size_t n)
{
	size_t i;

	if (n > MAX_FIELDS)
		return cl_fail(
		    c, PRIVD_EINVAL, "more than %d fields", MAX_FIELDS);
	if (n > 0 && names == NULL)
		return cl_fail(c, PRIVD_EINVAL, "field name list is NULL");
	for (i = 0; i < n; i++)
		if (names[i] == NULL || *names[i] == '\0')
			return cl_fail(
			    c, PRIVD_EINVAL, "field name %zu is empty", i + 1);
	return PRIVD_OK;
}

/*
 * How a message names field i (from 1) of the caller's: by its name when
 * that could be a policy name ([A-Za-z0-9_.-], at most MAX_NAME bytes),
 * else by position. A "name" is whatever the caller passed, and one that
 * swapped names and values passes personal data there, which
 * privd_errmsg() must never hold.
 */
static const char *
field_label(const char *name, size_t i, char *buf, size_t size)
{
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz"
	                        "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	if (n > 0 && n <= MAX_NAME && name[n] == '\0')
		snprintf(buf, size, "%zu (%s)", i, name);
	else
		snprintf(buf, size, "%zu", i);
	return buf;
}

/* Make the handle's put scratch hold n fields. */
static int
fields_reserve(privd_client *c, size_t n)
{
	Privd__V1__Field *fb;
	Privd__V1__Field **fp;

	if (n <= c->fcap)
		return PRIVD_OK;
	fb = realloc(c->fbuf, n * sizeof(*fb));
	if (fb == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	c->fbuf = fb;
	fp = realloc(c->fptr, n * sizeof(*fp));
	if (fp == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	c->fptr = fp;
	c->fcap = n;
	return PRIVD_OK;
}

int
privd_put(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const privd_field *fields, size_t n)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__PutRequest put = PRIVD__V1__PUT_REQUEST__INIT;
	static const Privd__V1__Field init = PRIVD__V1__FIELD__INIT;
	Privd__V1__Response *r;
	char label[MAX_NAME + 32];
	size_t i;
	int rc;

	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_target(c, reg, subject, purpose)) != PRIVD_OK)
		return rc;
	if (n == 0 || fields == NULL)
		return cl_fail(c, PRIVD_EINVAL, "no fields to write");
	if (n > MAX_FIELDS)
		return cl_fail(
		    c, PRIVD_EINVAL, "more than %d fields", MAX_FIELDS);
	for (i = 0; i < n; i++) {
		if (fields[i].name == NULL || *fields[i].name == '\0')
			return cl_fail(
			    c, PRIVD_EINVAL, "field name %zu is empty", i + 1);
		if (fields[i].len > MAX_VALUE)
			return cl_fail(c, PRIVD_EINVAL,
			    "value of field %s is larger than %d bytes",
			    field_label(
			        fields[i].name, i + 1, label, sizeof(label)),
			    MAX_VALUE);
		if (fields[i].value == NULL && fields[i].len > 0)
			return cl_fail(c, PRIVD_EINVAL,
			    "value of field %s is NULL",
			    field_label(
			        fields[i].name, i + 1, label, sizeof(label)));
	}
	if ((rc = fields_reserve(c, n)) != PRIVD_OK)
		return rc;
	/* the wire structs point into the caller's memory: no copies */
	for (i = 0; i < n; i++) {
		c->fbuf[i] = init;
		c->fbuf[i].name = (char *)fields[i].name;
		c->fbuf[i].value.data = (uint8_t *)fields[i].value;
		c->fbuf[i].value.len = fields[i].len;
		c->fptr[i] = &c->fbuf[i];
	}
	put.register_ = (char *)reg;
	put.subject = (char *)subject;
	put.n_fields = n;
	put.fields = c->fptr;
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_PUT;
	req.put = &put;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_PUT, &r);
	if (rc != PRIVD_OK)
		return rc;
	cl_response_free(r);
	return PRIVD_OK;
}

/* A record and its field array in one allocation; the flexible array member
 * gives the fields their proper alignment. Names and values follow. */
struct record_block {
	size_t size; /* of the whole block, to wipe it */
	privd_record rec;
	privd_field f[];
};

/*
 * Copy a GetResponse into one caller-owned block, so that a record is freed
 * with one free() and can be handed to another thread as plain memory.
 */
static int
record_build(
    privd_client *c, const Privd__V1__GetResponse *g, privd_record **out)
{
	struct record_block *b;
	size_t i, j, total, nl;
	char *p;

	if (g->n_fields > MAX_FIELDS)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d fields", MAX_FIELDS);
	total = sizeof(*b) + g->n_fields * sizeof(privd_field);
	for (i = 0; i < g->n_fields; i++) {
		/* protobuf-c gives "" for a name privd did not send */
		if (g->fields[i] == NULL || g->fields[i]->name == NULL ||
		    *g->fields[i]->name == '\0')
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has a field without a name");
		/* privd_record_field() would only ever find the first */
		for (j = 0; j < i; j++)
			if (strcmp(g->fields[i]->name, g->fields[j]->name) == 0)
				return cl_fail(c, PRIVD_EPROTO,
				    "privd's answer has a field twice");
		total += strlen(g->fields[i]->name) + 1 +
		         g->fields[i]->value.len + 1;
	}
	if ((b = malloc(total)) == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	b->size = total;
	b->rec.nfields = g->n_fields;
	b->rec.fields = b->f;
	p = (char *)&b->f[g->n_fields];
	for (i = 0; i < g->n_fields; i++) {
		const Privd__V1__Field *src = g->fields[i];

		nl = strlen(src->name) + 1;
		memcpy(p, src->name, nl);
		b->f[i].name = p;
		p += nl;
		if (src->value.len > 0)
			memcpy(p, src->value.data, src->value.len);
		p[src->value.len] = '\0';
		b->f[i].value = (const uint8_t *)p;
		b->f[i].len = src->value.len;
		p += src->value.len + 1;
	}
	*out = &b->rec;
	return PRIVD_OK;
}

int
privd_get(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, privd_record **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__GetRequest get = PRIVD__V1__GET_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (c == NULL || out == NULL)
		return PRIVD_EINVAL;
	*out = NULL;
	cl_reset_error(c);
	if ((rc = check_target(c, reg, subject, purpose)) != PRIVD_OK ||
	    (rc = check_names(c, names, n)) != PRIVD_OK)
		return rc;
	get.register_ = (char *)reg;
	get.subject = (char *)subject;
	get.n_fields = n;
	get.fields = (char **)names;
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_GET;
	req.get = &get;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_GET, &r);
	if (rc != PRIVD_OK)
		return rc;
	rc = record_build(c, r->get, out);
	cl_response_free(r);
	return rc;
}

/*
 * Copy the fields a RETAINED delete kept into a caller-owned array (NULL
 * for none). Names are cut to fit, as everywhere else in the library.
 */
static int
retained_copy(privd_client *c, const Privd__V1__DeleteResponse *d,
    privd_retained **kept, size_t *nkept)
{
	privd_retained *list;
	const Privd__V1__Retained *src;
	size_t i;

	if (d->n_retained == 0)
		return PRIVD_OK;
	if (d->n_retained > MAX_FIELDS)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer keeps more than %d fields", MAX_FIELDS);
	if ((list = calloc(d->n_retained, sizeof(*list))) == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	for (i = 0; i < d->n_retained; i++) {
		if ((src = d->retained[i]) == NULL) {
			free(list);
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has an empty retained field");
		}
		cl_copy_str(list[i].field, sizeof(list[i].field), src->field);
		cl_copy_str(list[i].rule, sizeof(list[i].rule), src->rule);
		list[i].until_us = src->until_us;
		cl_copy_str(list[i].hold_reason, sizeof(list[i].hold_reason),
		    src->hold_reason);
	}
	*kept = list;
	*nkept = d->n_retained;
	return PRIVD_OK;
}

int
privd_delete_ex(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, uint32_t *deleted,
    privd_retained **kept, size_t *nkept)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__DeleteRequest del = PRIVD__V1__DELETE_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc, rc2;

	if (deleted != NULL)
		*deleted = 0;
	if (kept != NULL)
		*kept = NULL;
	if (nkept != NULL)
		*nkept = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((kept == NULL) != (nkept == NULL))
		return cl_fail(c, PRIVD_EINVAL, "kept and nkept go together");
	if ((rc = check_target(c, reg, subject, purpose)) != PRIVD_OK ||
	    (rc = check_names(c, names, n)) != PRIVD_OK)
		return rc;
	del.register_ = (char *)reg;
	del.subject = (char *)subject;
	del.n_fields = n;
	del.fields = (char **)names;
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_DELETE;
	req.delete_ = &del;
	/* a RETAINED answer deleted what it could and says what it kept */
	rc = cl_call_keep(
	    c, &req, PRIVD__V1__RESPONSE__PAYLOAD_DELETE, PRIVD_ERETAINED, &r);
	if (r == NULL)
		return rc;
	if (deleted != NULL)
		*deleted = r->delete_->deleted;
	if (rc == PRIVD_ERETAINED && kept != NULL &&
	    (rc2 = retained_copy(c, r->delete_, kept, nkept)) != PRIVD_OK) {
		if (deleted != NULL)
			*deleted = 0;
		rc = rc2;
	}
	cl_response_free(r);
	return rc;
}

int
privd_delete(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *const *names, size_t n, uint32_t *deleted)
{
	return privd_delete_ex(
	    c, reg, subject, purpose, names, n, deleted, NULL, NULL);
}

void
privd_record_free(privd_record **r)
{
	struct record_block *b;

	if (r == NULL || *r == NULL)
		return;
	/* the record is in its block (record_build), which holds values */
	b = (struct record_block *)((char *)*r -
	                            offsetof(struct record_block, rec));
	cl_wipe(b, b->size);
	free(b);
	*r = NULL;
}

const privd_field *
privd_record_field(const privd_record *r, const char *name)
{
	size_t i;

	if (r == NULL || name == NULL)
		return NULL;
	for (i = 0; i < r->nfields; i++)
		if (strcmp(r->fields[i].name, name) == 0)
			return &r->fields[i];
	return NULL;
}
