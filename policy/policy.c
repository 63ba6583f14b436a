/*
 * policy.c - parse and validate a policy document into a pol_policy.
 *
 * The document comes from a policy admin and is checked completely before
 * anything uses it: every key is known, every type is right, every name that
 * refers to something refers to something declared. The first problem found
 * is reported with its JSON path; error text names schema keys and policy
 * names only, never other values from the document.
 *
 * The counts are capped (POL_MAX_* in policy.h) and every cross-reference is
 * resolved through the sorted indexes of index.c, so validation costs what
 * the document is long.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "internal.h"

static const char *const basis_names[] = {"consent", "contract",
    "legal_obligation", "vital_interests", "public_task", "legitimate_interest",
    NULL};

static const char *const ftype_names[] = {
    "string", "text", "email", "phone", "integer", "date", "bytes", NULL};

static const char *const op_names[] = {"read", "write", "delete", NULL};
static const char *const role_names[] = {
    "auditor", "policy_admin", "subject_rights", "operator", NULL};
static const char *const from_names[] = {
    "collected", "updated", "relationship_end", "contract_end", NULL};
static const char *const action_names[] = {"delete", "anonymize", NULL};

/* Allowed keys of each object in the schema. */
static const char *const root_keys[] = {"controller", "regions", "audit",
    "reporting", "registers", "principals", NULL};
static const char *const controller_keys[] = {"name", "business_id", NULL};
static const char *const audit_keys[] = {"retention", NULL};
static const char *const reporting_keys[] = {"min_group", NULL};
static const char *const register_keys[] = {
    "description", "transfer", "purposes", "fields", "retention", NULL};
static const char *const purpose_keys[] = {"legal_basis", "objectable",
    "allowed_when_restricted", "statistical", "description", NULL};
static const char *const field_keys[] = {"category", "type", "identifying",
    "lookup", "source", "allow_identity_code", "description", NULL};
static const char *const retention_keys[] = {
    "id", "categories", "from", "after", "action", "keep_at_least", NULL};
static const char *const principal_keys[] = {
    "key", "region", "roles", "description", "grants", NULL};
static const char *const grant_keys[] = {
    "register", "purposes", "fields", "ops", NULL};

static int
parse_purposes(struct ctx *c, const char *rpath, json_t *jr, pol_register *r)
{
	char path[PATHLEN], sub[PATHLEN];
	json_t *obj, *jp;
	const char *name, *desc;
	int basis;

	if (pj_get(c, rpath, jr, "purposes", W_OBJ, true, &obj) == -1)
		return -1;
	pj_path_key(path, rpath, "purposes");
	if (json_object_size(obj) == 0)
		return pj_fail(c, path, "at least one purpose is required");
	if (json_object_size(obj) > POL_MAX_PURPOSES)
		return pj_fail(
		    c, path, "more than %d purposes", POL_MAX_PURPOSES);
	if ((r->purposes = calloc(
	         json_object_size(obj), sizeof(*r->purposes))) == NULL)
		return pj_fail(c, path, "out of memory");
	json_object_foreach(obj, name, jp)
	{
		pol_purpose *pu = &r->purposes[r->npurposes];

		if (!pol_name_valid(name))
			return pj_fail(c, path, "invalid purpose name");
		pj_path_key(sub, path, name);
		if (!json_is_object(jp))
			return pj_fail(c, sub, "expected an object");
		if (pj_sdup(c, sub, name, &pu->name) == -1)
			return -1;
		pu->index = (uint8_t)r->npurposes++;
		if (pj_check_keys(c, sub, jp, purpose_keys) == -1 ||
		    pj_get_enum(c, sub, jp, "legal_basis", true, basis_names,
		        "legal basis", &basis) == -1 ||
		    pj_get_bool(c, sub, jp, "objectable", &pu->objectable) ==
		        -1 ||
		    pj_get_bool(c, sub, jp, "allowed_when_restricted",
		        &pu->allowed_when_restricted) == -1 ||
		    pj_get_bool(c, sub, jp, "statistical", &pu->statistical) ==
		        -1 ||
		    pj_get_str(c, sub, jp, "description", false, &desc) == -1 ||
		    pj_sdup(c, sub, desc, &pu->description) == -1)
			return -1;
		pu->basis = (pol_basis)basis;
	}
	return 0;
}

static int
parse_fields(struct ctx *c, const char *rpath, json_t *jr, pol_register *r)
{
	char path[PATHLEN], sub[PATHLEN];
	json_t *obj, *jf;
	const char *name, *s;
	int type;

	if (pj_get(c, rpath, jr, "fields", W_OBJ, true, &obj) == -1)
		return -1;
	pj_path_key(path, rpath, "fields");
	if (json_object_size(obj) == 0)
		return pj_fail(c, path, "at least one field is required");
	if (json_object_size(obj) > POL_MAX_FIELDS)
		return pj_fail(c, path, "more than %d fields", POL_MAX_FIELDS);
	if ((r->fields = calloc(json_object_size(obj), sizeof(*r->fields))) ==
	    NULL)
		return pj_fail(c, path, "out of memory");
	json_object_foreach(obj, name, jf)
	{
		pol_field *f = &r->fields[r->nfields];

		if (!pol_name_valid(name))
			return pj_fail(c, path, "invalid field name");
		pj_path_key(sub, path, name);
		if (!json_is_object(jf))
			return pj_fail(c, sub, "expected an object");
		if (pj_sdup(c, sub, name, &f->name) == -1)
			return -1;
		f->index = (uint16_t)r->nfields++;
		if (pj_check_keys(c, sub, jf, field_keys) == -1 ||
		    pj_get_name(c, sub, jf, "category", true, &s) == -1 ||
		    pj_sdup(c, sub, s, &f->category) == -1 ||
		    pj_get_enum(c, sub, jf, "type", true, ftype_names, "type",
		        &type) == -1 ||
		    pj_get_bool(c, sub, jf, "identifying", &f->identifying) ==
		        -1 ||
		    pj_get_bool(c, sub, jf, "lookup", &f->lookup) == -1 ||
		    pj_get_bool(c, sub, jf, "allow_identity_code",
		        &f->allow_identity_code) == -1 ||
		    pj_get_name(c, sub, jf, "source", false, &s) == -1 ||
		    pj_sdup(c, sub, s, &f->source) == -1 ||
		    pj_get_str(c, sub, jf, "description", false, &s) == -1 ||
		    pj_sdup(c, sub, s, &f->description) == -1)
			return -1;
		f->type = (pol_ftype)type;
	}
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The register's field categories, sorted, so that each category a rule
 * names is found by binary search. */
struct cats {
	const char **v;
	size_t n;
};

static bool
category_used(const struct cats *cs, const char *cat)
{
	return bsearch(&cat, cs->v, cs->n, sizeof(*cs->v), cmp_str) != NULL;
}

/*
 * One retention rule. A rule either deletes/anonymises after a time, or
 * guarantees a minimum keep (a statutory obligation), or both; a category the
 * register does not use is almost certainly a typo that would leave data
 * unmanaged, so it is refused. "after" may be zero (the notice's "anonymised
 * immediately": due at the start event itself); a zero minimum would keep
 * nothing, so keep_at_least may not.
 */
static int
parse_rule(struct ctx *c, const char *path, json_t *jt, const struct cats *cs,
    pol_retention *rt)
{
	char sub[PATHLEN];
	json_t *cats, *v;
	const char *s;
	size_t i;
	int from, action;

	if (!json_is_object(jt))
		return pj_fail(c, path, "expected an object");
	if (pj_check_keys(c, path, jt, retention_keys) == -1 ||
	    pj_get_name(c, path, jt, "id", true, &s) == -1 ||
	    pj_sdup(c, path, s, &rt->id) == -1 ||
	    pj_get_list(c, path, jt, "categories", true, &cats) == -1)
		return -1;
	pj_path_key(sub, path, "categories");
	if (json_array_size(cats) > POL_MAX_RULE_CATEGORIES)
		return pj_fail(
		    c, sub, "more than %d categories", POL_MAX_RULE_CATEGORIES);
	if ((rt->categories = calloc(
	         json_array_size(cats), sizeof(*rt->categories))) == NULL)
		return pj_fail(c, sub, "out of memory");
	json_array_foreach(cats, i, v)
	{
		s = json_string_value(v);
		if (strcmp(s, "*") != 0) {
			if (!pol_name_valid(s))
				return pj_fail_idx(
				    c, sub, i, "not a valid name");
			if (!category_used(cs, s))
				return pj_fail_idx(c, sub, i,
				    "no field of the register has category "
				    "\"%s\"",
				    s);
		}
		if (pj_sdup(c, sub, s, &rt->categories[rt->ncategories]) == -1)
			return -1;
		rt->ncategories++;
	}
	if (pj_get_enum(c, path, jt, "from", true, from_names, "start event",
	        &from) == -1 ||
	    pj_sdup(c, path, from_names[from], &rt->from) == -1 ||
	    pj_get_duration(c, path, jt, "after", true, &rt->after_s) == -1 ||
	    pj_get_enum(c, path, jt, "action", false, action_names, "action",
	        &action) == -1 ||
	    pj_get_duration(
	        c, path, jt, "keep_at_least", false, &rt->keep_least_s) == -1)
		return -1;
	/* the same strings again, as the calendar counts them; they parsed
	 * as durations, so they parse as spans */
	if (rt->after_s >= 0 &&
	    pol_span_parse(json_string_value(json_object_get(jt, "after")),
	        &rt->after) != 0)
		return pj_fail(c, path, "\"after\": not a duration");
	if (rt->keep_least_s >= 0 &&
	    pol_span_parse(
	        json_string_value(json_object_get(jt, "keep_at_least")),
	        &rt->keep_least) != 0)
		return pj_fail(c, path, "\"keep_at_least\": not a duration");
	if ((rt->after_s >= 0) != (action >= 0)) {
		pj_path_key(sub, path, rt->after_s >= 0 ? "action" : "after");
		return pj_fail(
		    c, sub, "\"after\" and \"action\" must be given together");
	}
	if (rt->after_s < 0 && rt->keep_least_s < 0)
		return pj_fail(c, path,
		    "a rule needs \"after\" and \"action\", or "
		    "\"keep_at_least\"");
	if (action >= 0 &&
	    pj_sdup(c, path, action_names[action], &rt->action) == -1)
		return -1;
	return 0;
}

/* By id, then by position in the document. */
static int
cmp_rule(const void *a, const void *b)
{
	const pol_retention *x = *(const pol_retention *const *)a;
	const pol_retention *y = *(const pol_retention *const *)b;
	int d = strcmp(x->id, y->id);

	return d != 0 ? d : (x > y) - (x < y);
}

/*
 * Two rules with one id would be indistinguishable in the audit log and in
 * a policy diff. Of all rules that repeat an earlier rule's id, the one
 * written first is reported.
 */
static int
check_rule_ids(struct ctx *c, const char *path, const pol_register *r)
{
	const pol_retention **v, *dup = NULL;
	char el[PATHLEN], sub[PATHLEN];
	size_t i;

	if (r->nretention < 2)
		return 0;
	if ((v = calloc(r->nretention, sizeof(*v))) == NULL)
		return pj_fail(c, path, "out of memory");
	for (i = 0; i < r->nretention; i++)
		v[i] = &r->retention[i];
	qsort(v, r->nretention, sizeof(*v), cmp_rule);
	/* Equal ids sort in document order, so a run's second rule is its
	 * first repeat. */
	for (i = 1; i < r->nretention; i++)
		if (strcmp(v[i - 1]->id, v[i]->id) == 0 &&
		    (dup == NULL || v[i] < dup))
			dup = v[i];
	free(v);
	if (dup == NULL)
		return 0;
	pj_path_idx(el, path, (size_t)(dup - r->retention));
	pj_path_key(sub, el, "id");
	return pj_fail(c, sub, "duplicate retention id \"%s\"", dup->id);
}

static int
parse_retention(struct ctx *c, const char *rpath, json_t *jr, pol_register *r)
{
	char path[PATHLEN], el[PATHLEN];
	struct cats cs = {NULL, 0};
	json_t *arr, *jt;
	size_t i;
	int rc = -1;

	if (pj_get(c, rpath, jr, "retention", W_ARR, false, &arr) == -1)
		return -1;
	if (arr == NULL || json_array_size(arr) == 0)
		return 0;
	pj_path_key(path, rpath, "retention");
	if (json_array_size(arr) > POL_MAX_RETENTION)
		return pj_fail(
		    c, path, "more than %d rules", POL_MAX_RETENTION);
	if ((r->retention = calloc(
	         json_array_size(arr), sizeof(*r->retention))) == NULL ||
	    (cs.v = calloc(r->nfields, sizeof(*cs.v))) == NULL) {
		free(cs.v);
		return pj_fail(c, path, "out of memory");
	}
	for (i = 0; i < r->nfields; i++)
		cs.v[cs.n++] = r->fields[i].category;
	qsort(cs.v, cs.n, sizeof(*cs.v), cmp_str);
	json_array_foreach(arr, i, jt)
	{
		pol_retention *rt = &r->retention[i];

		rt->after_s = rt->keep_least_s = -1;
		rt->after.n = rt->keep_least.n = -1;
		pj_path_idx(el, path, i);
		/* Count it first so pol_free sees its allocations. */
		r->nretention = i + 1;
		if (parse_rule(c, el, jt, &cs, rt) == -1)
			goto out;
	}
	rc = check_rule_ids(c, path, r);
out:
	free(cs.v);
	return rc;
}

static int
parse_register(struct ctx *c, const char *name, json_t *jr, pol_register *r)
{
	char path[PATHLEN];
	const char *desc;

	pj_path_key(path, "$.registers", name);
	if (!json_is_object(jr))
		return pj_fail(c, path, "expected an object");
	if (pj_sdup(c, path, name, &r->name) == -1 ||
	    pj_check_keys(c, path, jr, register_keys) == -1 ||
	    pj_get_str(c, path, jr, "description", false, &desc) == -1 ||
	    pj_sdup(c, path, desc, &r->description) == -1 ||
	    pj_transfer_parse(c, path, jr, r) == -1 ||
	    parse_purposes(c, path, jr, r) == -1 ||
	    parse_fields(c, path, jr, r) == -1 ||
	    pj_index_register(c, path, r) == -1 ||
	    parse_retention(c, path, jr, r) == -1)
		return -1;
	return 0;
}

static int
parse_registers(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj, *jr;
	const char *name;

	if (pj_get(c, "$", root, "registers", W_OBJ, true, &obj) == -1)
		return -1;
	if (json_object_size(obj) == 0)
		return pj_fail(
		    c, "$.registers", "at least one register is required");
	if (json_object_size(obj) > POL_MAX_REGISTERS)
		return pj_fail(c, "$.registers", "more than %d registers",
		    POL_MAX_REGISTERS);
	if ((p->registers = calloc(
	         json_object_size(obj), sizeof(*p->registers))) == NULL)
		return pj_fail(c, "$.registers", "out of memory");
	json_object_foreach(obj, name, jr)
	{
		if (!pol_name_valid(name))
			return pj_fail(
			    c, "$.registers", "invalid register name");
		if (parse_register(
		        c, name, jr, &p->registers[p->nregisters++]) == -1)
			return -1;
	}
	return pj_index_registers(c, p);
}

/* The set of a register's n fields, a word at a time. */
static void
all_fields(uint64_t set[POL_FIELD_WORDS], size_t n)
{
	size_t w;

	for (w = 0; w < POL_FIELD_WORDS && n > 0; w++) {
		set[w] = n >= 64 ? UINT64_MAX : (UINT64_C(1) << n) - 1;
		n -= n >= 64 ? 64 : n;
	}
}

/*
 * One grant: (register, purposes, fields, ops) resolved to bit sets against
 * the register, so that deciding a request is a few mask tests.
 */
static int
parse_grant(struct ctx *c, const char *path, json_t *jg, const pol_policy *p,
    pol_grant *g)
{
	char sub[PATHLEN];
	json_t *list, *v;
	const char *s;
	const pol_purpose *pu;
	const pol_field *f;
	size_t i;
	int k;

	if (!json_is_object(jg))
		return pj_fail(c, path, "expected an object");
	if (pj_check_keys(c, path, jg, grant_keys) == -1 ||
	    pj_get_str(c, path, jg, "register", true, &s) == -1)
		return -1;
	if ((g->reg = pol_register_find(p, s)) == NULL) {
		pj_path_key(sub, path, "register");
		if (pol_name_valid(s))
			return pj_fail(c, sub, "unknown register \"%s\"", s);
		return pj_fail(c, sub, "unknown register");
	}

	if (pj_get_list(c, path, jg, "purposes", true, &list) == -1)
		return -1;
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		if ((pu = pol_purpose_find(g->reg, s)) == NULL) {
			if (pol_name_valid(s))
				return pj_fail_entry(c, path, "purposes", i,
				    "unknown purpose \"%s\" in register \"%s\"",
				    s, g->reg->name);
			return pj_fail_entry(
			    c, path, "purposes", i, "unknown purpose");
		}
		g->purposes |= UINT64_C(1) << pu->index;
	}

	if (pj_get_list(c, path, jg, "fields", true, &list) == -1)
		return -1;
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		if (strcmp(s, "*") == 0) {
			if (json_array_size(list) != 1)
				return pj_fail_entry(c, path, "fields", i,
				    "\"*\" must be the only entry");
			all_fields(g->fields, g->reg->nfields);
		} else if ((f = pol_field_find(g->reg, s)) != NULL) {
			pol_fieldset_add(g->fields, f->index);
		} else if (pol_name_valid(s)) {
			return pj_fail_entry(c, path, "fields", i,
			    "unknown field \"%s\" in register \"%s\"", s,
			    g->reg->name);
		} else {
			return pj_fail_entry(
			    c, path, "fields", i, "unknown field");
		}
	}

	if (pj_get_list(c, path, jg, "ops", true, &list) == -1)
		return -1;
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		if ((k = pj_lookup(op_names, s)) < 0) {
			if (pol_name_valid(s))
				return pj_fail_entry(c, path, "ops", i,
				    "unknown operation \"%s\"", s);
			return pj_fail_entry(
			    c, path, "ops", i, "unknown operation");
		}
		g->ops |= 1u << k;
	}
	return 0;
}

static int
parse_principal(struct ctx *c, const char *name, json_t *jp, pol_policy *p,
    pol_principal *pr)
{
	char path[PATHLEN], sub[PATHLEN], el[PATHLEN];
	json_t *list, *v;
	const char *s;
	size_t i;
	int k;

	pj_path_key(path, "$.principals", name);
	if (!json_is_object(jp))
		return pj_fail(c, path, "expected an object");
	if (pj_sdup(c, path, name, &pr->name) == -1 ||
	    pj_check_keys(c, path, jp, principal_keys) == -1 ||
	    pj_get_str(c, path, jp, "description", false, &s) == -1 ||
	    pj_sdup(c, path, s, &pr->description) == -1 ||
	    pj_get_str(c, path, jp, "key", true, &s) == -1)
		return -1;
	pj_path_key(sub, path, "key");
	/* Keys shared by two principals are refused by pj_index_principals,
	 * once every key is known. */
	if (!pj_z85_key(s, pr->key))
		return pj_fail(c, sub,
		    "not a Z85-encoded CURVE public key (40 characters)");

	if (pj_get_str(c, path, jp, "region", false, &s) == -1)
		return -1;
	if (s != NULL) {
		pj_path_key(sub, path, "region");
		if (pol_country_bit(s) < 0)
			return pj_fail(
			    c, sub, "not an ISO 3166-1 alpha-2 country code");
		memcpy(pr->region, s, 3);
	}

	if (pj_get_list(c, path, jp, "roles", false, &list) == -1)
		return -1;
	json_array_foreach(list, i, v)
	{
		s = json_string_value(v);
		if ((k = pj_lookup(role_names, s)) < 0) {
			if (pol_name_valid(s))
				return pj_fail_entry(c, path, "roles", i,
				    "unknown role \"%s\"", s);
			return pj_fail_entry(
			    c, path, "roles", i, "unknown role");
		}
		pr->roles |= 1u << k;
	}

	if (pj_get(c, path, jp, "grants", W_ARR, false, &list) == -1)
		return -1;
	if (list == NULL || json_array_size(list) == 0)
		return 0;
	pj_path_key(sub, path, "grants");
	if (json_array_size(list) > POL_MAX_GRANTS)
		return pj_fail(c, sub, "more than %d grants", POL_MAX_GRANTS);
	if ((c->ngrants += json_array_size(list)) > POL_MAX_GRANTS_TOTAL)
		return pj_fail(c, sub, "more than %d grants in the policy",
		    POL_MAX_GRANTS_TOTAL);
	if ((pr->grants = calloc(json_array_size(list), sizeof(*pr->grants))) ==
	    NULL)
		return pj_fail(c, sub, "out of memory");
	json_array_foreach(list, i, v)
	{
		pj_path_idx(el, sub, i);
		if (parse_grant(c, el, v, p, &pr->grants[pr->ngrants++]) == -1)
			return -1;
	}
	return 0;
}

static int
parse_principals(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj, *jp;
	const char *name;

	if (pj_get(c, "$", root, "principals", W_OBJ, true, &obj) == -1)
		return -1;
	if (json_object_size(obj) > POL_MAX_PRINCIPALS)
		return pj_fail(c, "$.principals", "more than %d principals",
		    POL_MAX_PRINCIPALS);
	if (json_object_size(obj) > 0 &&
	    (p->principals = calloc(
	         json_object_size(obj), sizeof(*p->principals))) == NULL)
		return pj_fail(c, "$.principals", "out of memory");
	json_object_foreach(obj, name, jp)
	{
		if (!pol_name_valid(name))
			return pj_fail(
			    c, "$.principals", "invalid principal name");
		if (parse_principal(
		        c, name, jp, p, &p->principals[p->nprincipals++]) == -1)
			return -1;
	}
	return pj_index_principals(c, p);
}

static int
parse_controller(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj;
	const char *name, *id;

	if (pj_get(c, "$", root, "controller", W_OBJ, true, &obj) == -1 ||
	    pj_check_keys(c, "$.controller", obj, controller_keys) == -1 ||
	    pj_get_str(c, "$.controller", obj, "name", true, &name) == -1 ||
	    pj_get_str(c, "$.controller", obj, "business_id", true, &id) == -1)
		return -1;
	if (*name == '\0')
		return pj_fail(c, "$.controller.name", "must not be empty");
	if (*id == '\0')
		return pj_fail(
		    c, "$.controller.business_id", "must not be empty");
	if (pj_sdup(c, "$.controller", name, &p->controller_name) == -1 ||
	    pj_sdup(c, "$.controller", id, &p->controller_business_id) == -1)
		return -1;
	return 0;
}

static int
parse_audit(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj;
	int64_t secs;

	p->audit_retention_s = 5 * 365 * 86400LL;
	if (pj_get(c, "$", root, "audit", W_OBJ, false, &obj) == -1)
		return -1;
	if (obj == NULL)
		return 0;
	if (pj_check_keys(c, "$.audit", obj, audit_keys) == -1 ||
	    pj_get_duration(c, "$.audit", obj, "retention", false, &secs) == -1)
		return -1;
	if (secs >= 0)
		p->audit_retention_s = secs;
	return 0;
}

/*
 * Reporting settings. min_group is the k of k-anonymous reporting: a group
 * of fewer subjects is never shown. 1 would show single records' values,
 * so the floor is 2; the ceiling keeps a typo (50000) from suppressing
 * every group of every report.
 */
static int
parse_reporting(struct ctx *c, json_t *root, pol_policy *p)
{
	json_t *obj, *v;
	json_int_t k;

	p->min_group = POL_DEFAULT_MIN_GROUP;
	if (pj_get(c, "$", root, "reporting", W_OBJ, false, &obj) == -1)
		return -1;
	if (obj == NULL)
		return 0;
	if (pj_check_keys(c, "$.reporting", obj, reporting_keys) == -1)
		return -1;
	if ((v = json_object_get(obj, "min_group")) == NULL)
		return 0;
	if (!json_is_integer(v))
		return pj_fail(
		    c, "$.reporting.min_group", "expected an integer");
	k = json_integer_value(v);
	if (k < POL_MIN_MIN_GROUP || k > POL_MAX_MIN_GROUP)
		return pj_fail(c, "$.reporting.min_group",
		    "must be from %d to %d", POL_MIN_MIN_GROUP,
		    POL_MAX_MIN_GROUP);
	p->min_group = (unsigned)k;
	return 0;
}

int
pol_parse(const char *json, size_t len, pol_policy **out, pol_error *err)
{
	struct ctx c = {
	    .err = err, .regions = NULL, .nregions = 0, .ngrants = 0};
	json_error_t je;
	json_t *root;
	pol_policy *p;
	int rc = -1;

	if (err != NULL)
		memset(err, 0, sizeof(*err));
	if (out == NULL)
		return pj_fail(&c, "$", "no output pointer");
	*out = NULL;
	if (json == NULL)
		return pj_fail(&c, "$", "no document");
	if ((root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je)) == NULL)
		return pj_fail_json(&c, &je);
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		json_decref(root);
		return pj_fail(&c, "$", "out of memory");
	}
	if (!json_is_object(root))
		pj_fail(&c, "$", "expected an object");
	else if (pj_check_keys(&c, "$", root, root_keys) == 0 &&
	         parse_controller(&c, root, p) == 0 &&
	         pj_regions_parse(&c, root) == 0 &&
	         parse_audit(&c, root, p) == 0 &&
	         parse_reporting(&c, root, p) == 0 &&
	         parse_registers(&c, root, p) == 0 &&
	         parse_principals(&c, root, p) == 0)
		rc = 0;
	pj_regions_free(&c);
	json_decref(root);
	if (rc == -1)
		pol_free(&p);
	*out = p;
	return rc;
}

/* Free everything pol_parse allocated; also used on a half-built policy, so
 * every count covers exactly the entries that may hold allocations. */
void
pol_free(pol_policy **pp)
{
	pol_policy *p;
	size_t i, j, k;

	if (pp == NULL || (p = *pp) == NULL)
		return;
	for (i = 0; i < p->nregisters; i++) {
		pol_register *r = &p->registers[i];

		free(r->name);
		free(r->description);
		for (j = 0; j < r->nfields; j++) {
			free(r->fields[j].name);
			free(r->fields[j].category);
			free(r->fields[j].source);
			free(r->fields[j].description);
		}
		free(r->fields);
		free(r->fields_by_name);
		for (j = 0; j < r->npurposes; j++) {
			free(r->purposes[j].name);
			free(r->purposes[j].description);
		}
		free(r->purposes);
		free(r->purposes_by_name);
		for (j = 0; j < r->nallowed_countries; j++)
			free(r->allowed_countries[j]);
		free(r->allowed_countries);
		for (j = 0; j < r->nretention; j++) {
			pol_retention *rt = &r->retention[j];

			free(rt->id);
			for (k = 0; k < rt->ncategories; k++)
				free(rt->categories[k]);
			free(rt->categories);
			free(rt->from);
			free(rt->action);
		}
		free(r->retention);
	}
	free(p->registers);
	free(p->registers_by_name);
	for (i = 0; i < p->nprincipals; i++) {
		free(p->principals[i].name);
		free(p->principals[i].description);
		free(p->principals[i].grants);
	}
	free(p->principals);
	free(p->principals_by_name);
	free(p->principals_by_key);
	free(p->controller_name);
	free(p->controller_business_id);
	free(p);
	*pp = NULL;
}
