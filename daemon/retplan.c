/*
 * retplan.c - due times and what keeps a field (retplan.h).
 */
#include "retplan.h"

#include <string.h>

void
retplan_compute(const pol_register *r, const pol_field *f,
    uint64_t collected_us, uint64_t updated_us, uint64_t rel_end_us,
    uint64_t contract_end_us, pol_plan *out)
{
	pol_field_times t;
	pol_plan full;

	t.collected_us = (int64_t)collected_us;
	t.updated_us = (int64_t)updated_us;
	t.relationship_end_us = (int64_t)rel_end_us;
	t.contract_end_us = 0; /* actions from it: a purge, not a plan */
	pol_retention_plan(r, f, &t, out);
	if (contract_end_us == 0)
		return;
	/* but a minimum counting from it holds the field like any other */
	t.contract_end_us = (int64_t)contract_end_us;
	pol_retention_plan(r, f, &t, &full);
	out->keep_until_us = full.keep_until_us;
	out->keep_rule = full.keep_rule;
	if (out->rule != NULL && out->keep_until_us > out->due_us)
		out->due_us = out->keep_until_us;
}

uint64_t
retplan_due(const pol_plan *p)
{
	if (p->rule == NULL || p->due_us == POL_NEVER || p->due_us < 0)
		return RET_NEVER;
	return (uint64_t)p->due_us;
}

int
retplan_subject(store *st, store_txn *txn, const pol_register *r,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], uint64_t rel_end_us,
    uint64_t contract_end_us, unsigned *n)
{
	char name[CRYPTO_MAX_NAME + 1];
	const pol_field *f;
	store_value sv;
	pol_plan plan;
	store_cur *c;
	store_val k, v;
	uint64_t old;
	size_t flen;
	int rc;

	*n = 0;
	if ((rc = store_cur_open(txn, STORE_VALUES, &c)) != 0)
		return rc;
	k.size = CRYPTO_SUBJECT_IDBYTES;
	k.data = (void *)sid;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size <= CRYPTO_SUBJECT_IDBYTES ||
		    memcmp(k.data, sid, CRYPTO_SUBJECT_IDBYTES) != 0)
			break;
		flen = k.size - CRYPTO_SUBJECT_IDBYTES;
		if (flen > CRYPTO_MAX_NAME)
			continue;
		memcpy(name, (const uint8_t *)k.data + CRYPTO_SUBJECT_IDBYTES,
		    flen);
		name[flen] = '\0';
		if ((f = pol_field_find(r, name)) == NULL ||
		    store_value_decode(&v, &sv) != 0) {
			/* no longer declared, or damaged: no plan */
			if ((rc = ret_plan_set(
			         st, txn, r->name, sid, name, RET_NEVER)) != 0)
				break;
			continue;
		}
		retplan_compute(r, f, sv.created_us, sv.updated_us, rel_end_us,
		    contract_end_us, &plan);
		/* the cursor is on values; the plan lives elsewhere */
		if ((rc = ret_plan_get(st, txn, sid, f->name, &old)) != 0)
			break;
		if (old == retplan_due(&plan))
			continue;
		if ((rc = ret_plan_set(st, txn, r->name, sid, f->name,
		         retplan_due(&plan))) != 0)
			break;
		(*n)++;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
retplan_has_values(store *st, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], bool *any)
{
	store_cur *c;
	store_val k = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	int rc;

	*any = false;
	if ((rc = store_cur_open(txn, STORE_VALUES, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_SET_RANGE);
	if (rc == 0)
		*any = k.size > CRYPTO_SUBJECT_IDBYTES &&
		       memcmp(k.data, sid, CRYPTO_SUBJECT_IDBYTES) == 0;
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

bool
retplan_kept(const pol_plan *p, const ret_hold *hold, bool held, uint64_t now,
    retplan_keep *out)
{
	memset(out, 0, sizeof(*out));
	if (held) {
		out->reason = hold->reason;
		out->until_us = hold->until_us;
		return true;
	}
	if (p->keep_rule != NULL && (p->keep_until_us == POL_NEVER ||
	                                (uint64_t)p->keep_until_us > now)) {
		out->rule = p->keep_rule->id;
		out->until_us = p->keep_until_us == POL_NEVER
		                    ? 0
		                    : (uint64_t)p->keep_until_us;
		return true;
	}
	return false;
}
