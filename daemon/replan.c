/*
 * replan.c - re-planning after a policy change (replan.h).
 *
 * meta "replan": the registers waiting, each as len(1) name.
 */
#include "replan.h"

#include <string.h>

#include "retplan.h"

static bool
span_eq(const pol_span *a, const pol_span *b)
{
	return a->n == b->n && a->months == b->months;
}

static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
rule_eq(const pol_retention *a, const pol_retention *b)
{
	size_t i;

	if (!str_eq(a->id, b->id) || !str_eq(a->from, b->from) ||
	    !str_eq(a->action, b->action) || !span_eq(&a->after, &b->after) ||
	    !span_eq(&a->keep_least, &b->keep_least) ||
	    a->ncategories != b->ncategories)
		return false;
	for (i = 0; i < a->ncategories; i++)
		if (strcmp(a->categories[i], b->categories[i]) != 0)
			return false;
	return true;
}

bool
replan_changed(const pol_register *o, const pol_register *n)
{
	const pol_field *f;
	size_t i;

	if (o == NULL)
		return n->nretention > 0;
	if (o->nretention != n->nretention)
		return true;
	for (i = 0; i < n->nretention; i++)
		if (!rule_eq(&o->retention[i], &n->retention[i]))
			return true;
	if (n->nretention == 0)
		return false;
	/* a field that changed category, or is new, may be covered
	 * differently (a field that went away keeps no plan: the sweeper
	 * drops it when it meets it) */
	for (i = 0; i < n->nfields; i++) {
		f = pol_field_find(o, n->fields[i].name);
		if (f == NULL ||
		    strcmp(f->category, n->fields[i].category) != 0)
			return true;
	}
	return false;
}

uint32_t
replan_registers(const pol_policy *o, const pol_policy *n)
{
	uint32_t set = 0;
	size_t i;

	for (i = 0; i < n->nregisters && i < 32; i++)
		if (replan_changed(pol_register_find(o, n->registers[i].name),
		        &n->registers[i]))
			set |= 1u << i;
	return set;
}

static size_t
prefix(uint8_t *p, const char *reg)
{
	size_t n = strlen(reg);

	p[0] = (uint8_t)n;
	memcpy(p + 1, reg, n);
	return n + 1;
}

int
replan_count(store *st, store_txn *txn, const char *reg, uint64_t *n)
{
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	size_t plen = prefix(pre, reg);
	store_cur *c;
	store_val k = {plen, pre}, v;
	int rc;

	*n = 0;
	if ((rc = store_cur_open(txn, STORE_RET_SUB, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size < plen || memcmp(k.data, pre, plen) != 0)
			break;
		(*n)++;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
replan_queue(store *st, store_txn *txn, const char *reg)
{
	uint8_t buf[POL_MAX_REGISTERS * (1 + POL_MAX_NAME)];
	size_t len = 0, off, n;
	store_val v;
	int rc;

	rc = store_meta_get(st, txn, "replan", &v);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	if (rc == 0) {
		if (v.size > sizeof(buf))
			return STORE_CORRUPTED;
		memcpy(buf, v.data, v.size);
		len = v.size;
	}
	for (off = 0; off < len; off += 1 + n) {
		n = buf[off];
		if (off + 1 + n > len)
			return STORE_CORRUPTED;
		if (n == strlen(reg) && memcmp(buf + off + 1, reg, n) == 0)
			return 0; /* waiting already */
	}
	if (len + 1 + strlen(reg) > sizeof(buf))
		return STORE_CORRUPTED;
	len += prefix(buf + len, reg);
	return store_meta_put(st, txn, "replan", buf, len);
}

int
replan_pending(store *st, store_txn *txn, bool *pending)
{
	store_val v;
	int rc;

	rc = store_meta_get(st, txn, "replan", &v);
	*pending = rc == 0 && v.size > 0;
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* The first register waiting, done: off the list. */
static int
dequeue(store *st, store_txn *txn, const store_val *v)
{
	const uint8_t *p = v->data;
	uint8_t buf[POL_MAX_REGISTERS * (1 + POL_MAX_NAME)];
	size_t first = 1 + (size_t)p[0];

	if (first > v->size || v->size > sizeof(buf))
		return STORE_CORRUPTED;
	memcpy(buf, p + first, v->size - first);
	return store_meta_put(st, txn, "replan", buf, v->size - first);
}

int
replan_step(store *st, store_txn *txn, const crypto_keys *k,
    const pol_policy *pol, replan_pos *pos, bool *more)
{
	char name[POL_MAX_NAME + 1];
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	const pol_register *r;
	store_cur *c;
	store_val v, key, d;
	ret_sub rs;
	size_t plen, done = 0;
	uint64_t end;
	uint8_t flags;
	unsigned nf;
	int rc;

	*more = false;
	if ((rc = store_meta_get(st, txn, "replan", &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.size == 0)
		return 0;
	*more = true; /* until the list is found empty */
	plen = 1 + (size_t)((const uint8_t *)v.data)[0];
	if (plen > v.size || plen > sizeof(pre))
		return STORE_CORRUPTED;
	memcpy(pre, v.data, plen);
	memcpy(name, pre + 1, plen - 1);
	name[plen - 1] = '\0';
	if ((r = pol_register_find(pol, name)) == NULL)
		goto finished; /* no longer declared */
	if ((rc = ret_reg_get(st, txn, name, &end, &flags)) != 0)
		return rc;
	if (pos->len < plen || memcmp(pos->key, pre, plen) != 0) {
		memcpy(pos->key, pre, plen);
		pos->len = plen;
	}
	if ((rc = store_cur_open(txn, STORE_RET_SUB, &c)) != 0)
		return rc;
	for (;;) {
		if (done == REPLAN_STEP_SUBJECTS) {
			store_cur_close(c);
			return 0;
		}
		key.size = pos->len;
		key.data = pos->key;
		rc = store_cur_get(c, &key, &d, STORE_SET_RANGE);
		/* keys privd did not write (of another length): over them */
		while (rc == 0 && key.size >= plen &&
		       memcmp(key.data, pre, plen) == 0 &&
		       key.size != plen + CRYPTO_SUBJECT_IDBYTES)
			rc = store_cur_get(c, &key, &d, STORE_NEXT);
		if (rc == 0 && (key.size != plen + CRYPTO_SUBJECT_IDBYTES ||
		                   memcmp(key.data, pre, plen) != 0))
			rc = STORE_NOTFOUND;
		if (rc != 0)
			break;
		memcpy(pos->key, key.data, key.size);
		pos->len = key.size;
		rc = ret_sub_get(st, txn, k, name, pos->key + plen, &rs);
		if (rc != 0 && rc != STORE_CORRUPTED)
			break;
		rc = retplan_subject(st, txn, r, pos->key + plen,
		    rc == 0 ? rs.rel_end_us : 0, end, &nf);
		sodium_memzero(&rs, sizeof(rs));
		if (rc != 0)
			break;
		pos->key[pos->len++] = 0; /* past this subject */
		done++;
	}
	store_cur_close(c);
	if (rc != STORE_NOTFOUND)
		return rc;
finished:
	pos->len = 0;
	if ((rc = store_meta_get(st, txn, "replan", &v)) != 0 ||
	    (rc = dequeue(st, txn, &v)) != 0)
		return rc;
	return replan_pending(st, txn, more);
}
