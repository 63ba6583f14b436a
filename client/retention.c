/*
 * retention.c - the retention calls: relationship and contract ends,
 * legal holds, sweeps and their previews, and aggregates over live and
 * anonymous records (what retention anonymised still counts there).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * A register name: required, or (optional) NULL or "" for "every
 * register". privd refuses longer names anyway; saying so here costs no
 * round trip and no audit event.
 */
static int
check_reg(privd_client *c, const char *reg, int optional)
{
	if (cl_empty(reg))
		return optional
		           ? PRIVD_OK
		           : cl_fail(c, PRIVD_EINVAL, "register name is empty");
	if (strlen(reg) > MAX_NAME)
		return cl_fail(c, PRIVD_EINVAL,
		    "register name is longer than %d bytes", MAX_NAME);
	return PRIVD_OK;
}

/* A subject id: required, or (optional) NULL or "" for "none". */
static int
check_subject(privd_client *c, const char *subject, int optional)
{
	if (cl_empty(subject))
		return optional
		           ? PRIVD_OK
		           : cl_fail(c, PRIVD_EINVAL, "subject id is empty");
	if (strlen(subject) > MAX_SUBJECT)
		return cl_fail(c, PRIVD_EINVAL,
		    "subject id is longer than %d bytes", MAX_SUBJECT);
	return PRIVD_OK;
}

/* A time privd takes: 0 (whatever 0 means to the call) or from
 * 2000-01-01 on; what names it in a message. */
static int
check_time(privd_client *c, uint64_t us, const char *what)
{
	if (us != 0 && us < RET_MIN_TIME_US)
		return cl_fail(
		    c, PRIVD_EINVAL, "%s is before 2000-01-01", what);
	return PRIVD_OK;
}

int
privd_relationship_end(privd_client *c, const char *reg, const char *subject,
    uint64_t at_us, uint64_t *recorded_us, uint32_t *fields)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__RelationshipEndRequest re =
	    PRIVD__V1__RELATIONSHIP_END_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (recorded_us != NULL)
		*recorded_us = 0;
	if (fields != NULL)
		*fields = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_reg(c, reg, 0)) != PRIVD_OK ||
	    (rc = check_subject(c, subject, 0)) != PRIVD_OK ||
	    (at_us != PRIVD_AT_NOW &&
	        (rc = check_time(c, at_us, "the end")) != PRIVD_OK))
		return rc;
	re.register_ = (char *)reg;
	re.subject = (char *)subject;
	/* neither a time nor now: undo */
	if (at_us == PRIVD_AT_NOW)
		re.now = 1;
	else
		re.at_us = at_us;
	req.op_case = PRIVD__V1__REQUEST__OP_RELATIONSHIP_END;
	req.relationship_end = &re;
	rc =
	    cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_RELATIONSHIP_END, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (recorded_us != NULL)
		*recorded_us = r->relationship_end->at_us;
	if (fields != NULL)
		*fields = r->relationship_end->fields;
	cl_response_free(r);
	return PRIVD_OK;
}

int
privd_contract_end(
    privd_client *c, const char *reg, uint64_t at_us, uint64_t *recorded_us)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__ContractEndRequest ce =
	    PRIVD__V1__CONTRACT_END_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (recorded_us != NULL)
		*recorded_us = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_reg(c, reg, 0)) != PRIVD_OK ||
	    (at_us != PRIVD_AT_NOW &&
	        (rc = check_time(c, at_us, "the end")) != PRIVD_OK))
		return rc;
	ce.register_ = (char *)reg;
	if (at_us == PRIVD_AT_NOW)
		ce.now = 1;
	else
		ce.at_us = at_us;
	req.op_case = PRIVD__V1__REQUEST__OP_CONTRACT_END;
	req.contract_end = &ce;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_CONTRACT_END, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (recorded_us != NULL)
		*recorded_us = r->contract_end->at_us;
	cl_response_free(r);
	return PRIVD_OK;
}

int
privd_hold_set(privd_client *c, const char *reg, const char *subject,
    const char *reason, uint64_t until_us, int *replaced)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__HoldSetRequest hs = PRIVD__V1__HOLD_SET_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (replaced != NULL)
		*replaced = 0;
	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_reg(c, reg, 0)) != PRIVD_OK ||
	    (rc = check_subject(c, subject, 1)) != PRIVD_OK ||
	    (rc = check_time(c, until_us, "until")) != PRIVD_OK)
		return rc;
	if (cl_empty(reason))
		return cl_fail(c, PRIVD_EINVAL, "a hold needs a reason");
	if (strlen(reason) > MAX_REASON)
		return cl_fail(c, PRIVD_EINVAL,
		    "the reason is longer than %d bytes", MAX_REASON);
	hs.register_ = (char *)reg;
	hs.subject = (char *)(subject != NULL ? subject : "");
	hs.reason = (char *)reason;
	hs.until_us = until_us;
	req.op_case = PRIVD__V1__REQUEST__OP_HOLD_SET;
	req.hold_set = &hs;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_HOLD_SET, &r);
	if (rc != PRIVD_OK)
		return rc;
	if (replaced != NULL)
		*replaced = r->hold_set->replaced;
	cl_response_free(r);
	return PRIVD_OK;
}

int
privd_hold_lift(privd_client *c, const char *reg, const char *subject)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__HoldLiftRequest hl = PRIVD__V1__HOLD_LIFT_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (c == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_reg(c, reg, 0)) != PRIVD_OK ||
	    (rc = check_subject(c, subject, 1)) != PRIVD_OK)
		return rc;
	hl.register_ = (char *)reg;
	hl.subject = (char *)(subject != NULL ? subject : "");
	req.op_case = PRIVD__V1__REQUEST__OP_HOLD_LIFT;
	req.hold_lift = &hl;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_HOLD_LIFT, &r);
	if (rc != PRIVD_OK)
		return rc;
	cl_response_free(r);
	return PRIVD_OK;
}

/* A hold list in one block: its size (to wipe it), then the holds. */
struct hold_block {
	size_t size;
	privd_hold h[];
};

/*
 * Copy a HoldListResponse into one caller-owned block. Subject ids and
 * reasons are what privd_hold_lift() and the caller need exactly, so one
 * that does not fit is a protocol error rather than cut.
 */
static int
holds_build(
    privd_client *c, const Privd__V1__HoldListResponse *hl, privd_hold **holds)
{
	const Privd__V1__Hold *src;
	struct hold_block *b;
	privd_hold *h;
	size_t i;

	if (hl->n_holds > RET_LIST_MAX)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d holds", RET_LIST_MAX);
	for (i = 0; i < hl->n_holds; i++) {
		src = hl->holds[i];
		if (src == NULL || strlen(src->subject) > MAX_SUBJECT ||
		    strlen(src->reason) > MAX_REASON)
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has a malformed hold");
	}
	b = calloc(1, sizeof(*b) + hl->n_holds * sizeof(b->h[0]));
	if (b == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	b->size = sizeof(*b) + hl->n_holds * sizeof(b->h[0]);
	for (i = 0; i < hl->n_holds; i++) {
		src = hl->holds[i];
		h = &b->h[i];
		cl_copy_str(h->reg, sizeof(h->reg), src->register_);
		cl_copy_str(h->subject, sizeof(h->subject), src->subject);
		cl_copy_str(h->reason, sizeof(h->reason), src->reason);
		h->until_us = src->until_us;
		h->set_at_us = src->set_at_us;
		cl_copy_str(h->set_by, sizeof(h->set_by), src->set_by);
	}
	*holds = b->h;
	return PRIVD_OK;
}

int
privd_hold_list(privd_client *c, const char *reg, privd_hold **holds, size_t *n)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__HoldListRequest hl = PRIVD__V1__HOLD_LIST_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (holds != NULL)
		*holds = NULL;
	if (n != NULL)
		*n = 0;
	if (c == NULL || holds == NULL || n == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_reg(c, reg, 1)) != PRIVD_OK)
		return rc;
	hl.register_ = (char *)(reg != NULL ? reg : "");
	req.op_case = PRIVD__V1__REQUEST__OP_HOLD_LIST;
	req.hold_list = &hl;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_HOLD_LIST, &r);
	if (rc != PRIVD_OK)
		return rc;
	rc = holds_build(c, r->hold_list, holds);
	if (rc == PRIVD_OK)
		*n = r->hold_list->n_holds;
	cl_response_free(r);
	return rc;
}

void
privd_holds_free(privd_hold **holds)
{
	struct hold_block *b;

	if (holds == NULL || *holds == NULL)
		return;
	/* the holds are in their block (holds_build), with subject ids */
	b = (struct hold_block *)((char *)*holds -
	                          offsetof(struct hold_block, h));
	cl_wipe(b, b->size);
	free(b);
	*holds = NULL;
}

/* A report and its counts in one allocation. */
struct report_block {
	privd_retention_report rep;
	privd_retention_count counts[];
};

int
privd_retention_run(privd_client *c, const privd_retention_opts *opts,
    privd_retention_report **out)
{
	static const privd_retention_opts sweep_all;
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__RetentionRunRequest rr =
	    PRIVD__V1__RETENTION_RUN_REQUEST__INIT;
	const Privd__V1__RetentionRunResponse *a;
	const Privd__V1__RetentionCount *src;
	privd_retention_count *dst;
	struct report_block *b;
	Privd__V1__Response *r;
	size_t i;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || out == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if (opts == NULL)
		opts = &sweep_all;
	if ((rc = check_reg(c, opts->reg, 1)) != PRIVD_OK ||
	    (rc = check_time(c, opts->as_of_us, "as_of")) != PRIVD_OK)
		return rc;
	/* privd would ignore them: a caller who set one meant something else */
	if (!opts->preview && opts->as_of_us != 0)
		return cl_fail(c, PRIVD_EINVAL,
		    "as_of is for a preview: a sweep acts as of privd's clock");
	if (opts->preview && opts->limit != 0)
		return cl_fail(
		    c, PRIVD_EINVAL, "a limit is for a sweep, not a preview");
	rr.preview = opts->preview != 0;
	rr.as_of_us = opts->as_of_us;
	rr.register_ = (char *)(opts->reg != NULL ? opts->reg : "");
	rr.limit = opts->limit;
	req.op_case = PRIVD__V1__REQUEST__OP_RETENTION_RUN;
	req.retention_run = &rr;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN, &r);
	if (rc != PRIVD_OK)
		return rc;
	a = r->retention_run;
	if (a->n_counts > RET_LIST_MAX) {
		cl_response_free(r);
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d retention counts",
		    RET_LIST_MAX);
	}
	b = calloc(1, sizeof(*b) + a->n_counts * sizeof(b->counts[0]));
	if (b == NULL) {
		cl_response_free(r);
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	}
	b->rep.as_of_us = a->as_of_us;
	b->rep.examined = a->examined;
	b->rep.more = a->more;
	b->rep.counts = b->counts;
	b->rep.ncounts = a->n_counts;
	for (i = 0; i < a->n_counts; i++) {
		if ((src = a->counts[i]) == NULL) {
			free(b);
			cl_response_free(r);
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has an empty retention count");
		}
		dst = &b->counts[i];
		cl_copy_str(dst->reg, sizeof(dst->reg), src->register_);
		cl_copy_str(dst->rule, sizeof(dst->rule), src->rule);
		cl_copy_str(dst->action, sizeof(dst->action), src->action);
		dst->fields = src->fields;
		dst->subjects = src->subjects;
		dst->held = src->held;
		dst->anonymous_records = src->anonymous_records;
	}
	cl_response_free(r);
	*out = &b->rep;
	return PRIVD_OK;
}

void
privd_retention_report_free(privd_retention_report **r)
{
	if (r == NULL || *r == NULL)
		return;
	/* the report is the start of its block */
	free(*r);
	*r = NULL;
}

/* A result and its groups in one allocation; the keys follow. */
struct agg_block {
	size_t size; /* of the whole block, to wipe it */
	privd_aggregate_result res;
	privd_aggregate_group g[];
};

/*
 * Copy an AggregateResponse into one caller-owned block. A group key is a
 * value of a field, wiped at free like any value.
 */
static int
agg_build(privd_client *c, const Privd__V1__AggregateResponse *a,
    privd_aggregate_result **out)
{
	const Privd__V1__AggregateGroup *src;
	privd_aggregate_group *dst;
	struct agg_block *b;
	size_t i, total;
	uint8_t *p;

	if (a->n_groups > RET_LIST_MAX)
		return cl_fail(c, PRIVD_EPROTO,
		    "privd's answer has more than %d groups", RET_LIST_MAX);
	total = sizeof(*b) + a->n_groups * sizeof(b->g[0]);
	for (i = 0; i < a->n_groups; i++) {
		src = a->groups[i];
		if (src == NULL || src->key.len > MAX_VALUE ||
		    (src->missing && src->key.len != 0))
			return cl_fail(c, PRIVD_EPROTO,
			    "privd's answer has a malformed group");
		total += src->key.len + 1;
	}
	if ((b = calloc(1, total)) == NULL)
		return cl_fail(c, PRIVD_ENOMEM, "out of memory");
	b->size = total;
	b->res.groups = b->g;
	b->res.ngroups = a->n_groups;
	b->res.suppressed_groups = a->suppressed_groups;
	b->res.suppressed_records = a->suppressed_records;
	b->res.min_group = a->min_group;
	b->res.integer = a->integer;
	p = (uint8_t *)&b->g[a->n_groups];
	for (i = 0; i < a->n_groups; i++) {
		src = a->groups[i];
		dst = &b->g[i];
		if (src->key.len > 0)
			memcpy(p, src->key.data, src->key.len);
		p[src->key.len] = '\0';
		dst->key = p;
		dst->keylen = src->key.len;
		p += src->key.len + 1;
		dst->missing = src->missing;
		dst->count = src->count;
		/* statistics of a field that is no integer mean nothing:
		 * they stay 0 whatever privd sent */
		if (a->integer) {
			dst->sum = src->sum;
			dst->mean = src->mean;
			dst->min = src->min;
			dst->max = src->max;
		}
	}
	*out = &b->res;
	return PRIVD_OK;
}

int
privd_aggregate(privd_client *c, const char *purpose, const char *reg,
    const char *field, const char *group_by, privd_aggregate_result **out)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AggregateRequest ag = PRIVD__V1__AGGREGATE_REQUEST__INIT;
	Privd__V1__Response *r;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (c == NULL || out == NULL)
		return PRIVD_EINVAL;
	cl_reset_error(c);
	if ((rc = check_reg(c, reg, 0)) != PRIVD_OK)
		return rc;
	if (cl_empty(purpose))
		return cl_fail(c, PRIVD_EINVAL, "purpose is empty");
	if (cl_empty(field))
		return cl_fail(c, PRIVD_EINVAL, "field name is empty");
	if (strlen(purpose) > MAX_NAME || strlen(field) > MAX_NAME ||
	    (!cl_empty(group_by) && strlen(group_by) > MAX_NAME))
		return cl_fail(
		    c, PRIVD_EINVAL, "names are at most %d bytes", MAX_NAME);
	ag.register_ = (char *)reg;
	ag.field = (char *)field;
	ag.group_by = (char *)(group_by != NULL ? group_by : "");
	req.purpose = (char *)purpose;
	req.op_case = PRIVD__V1__REQUEST__OP_AGGREGATE;
	req.aggregate = &ag;
	rc = cl_call(c, &req, PRIVD__V1__RESPONSE__PAYLOAD_AGGREGATE, &r);
	if (rc != PRIVD_OK)
		return rc;
	rc = agg_build(c, r->aggregate, out);
	cl_response_free(r);
	return rc;
}

void
privd_aggregate_result_free(privd_aggregate_result **r)
{
	struct agg_block *b;

	if (r == NULL || *r == NULL)
		return;
	/* the result is in its block (agg_build), with the keys */
	b = (struct agg_block *)((char *)*r - offsetof(struct agg_block, res));
	cl_wipe(b, b->size);
	free(b);
	*r = NULL;
}
