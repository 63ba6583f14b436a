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
replan_count(store *st, MDB_txn *txn, const char *reg, uint64_t *n)
{
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	size_t plen = prefix(pre, reg);
	MDB_cursor *c;
	MDB_val k = {plen, pre}, v;
	int rc;

	*n = 0;
	if ((rc = mdb_cursor_open(txn, st->ret_sub, &c)) != 0)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (k.mv_size < plen || memcmp(k.mv_data, pre, plen) != 0)
			break;
		(*n)++;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

int
replan_queue(store *st, MDB_txn *txn, const char *reg)
{
	uint8_t buf[POL_MAX_REGISTERS * (1 + POL_MAX_NAME)];
	size_t len = 0, off, n;
	MDB_val v;
	int rc;

	rc = store_meta_get(st, txn, "replan", &v);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	if (rc == 0) {
		if (v.mv_size > sizeof(buf))
			return MDB_CORRUPTED;
		memcpy(buf, v.mv_data, v.mv_size);
		len = v.mv_size;
	}
	for (off = 0; off < len; off += 1 + n) {
		n = buf[off];
		if (off + 1 + n > len)
			return MDB_CORRUPTED;
		if (n == strlen(reg) && memcmp(buf + off + 1, reg, n) == 0)
			return 0; /* waiting already */
	}
	if (len + 1 + strlen(reg) > sizeof(buf))
		return MDB_CORRUPTED;
	len += prefix(buf + len, reg);
	return store_meta_put(st, txn, "replan", buf, len);
}

int
replan_pending(store *st, MDB_txn *txn, bool *pending)
{
	MDB_val v;
	int rc;

	rc = store_meta_get(st, txn, "replan", &v);
	*pending = rc == 0 && v.mv_size > 0;
	return rc == MDB_NOTFOUND ? 0 : rc;
}

/* The first register waiting, done: off the list. */
static int
dequeue(store *st, MDB_txn *txn, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;
	uint8_t buf[POL_MAX_REGISTERS * (1 + POL_MAX_NAME)];
	size_t first = 1 + (size_t)p[0];

	if (first > v->mv_size || v->mv_size > sizeof(buf))
		return MDB_CORRUPTED;
	memcpy(buf, p + first, v->mv_size - first);
	return store_meta_put(st, txn, "replan", buf, v->mv_size - first);
}

int
replan_step(store *st, MDB_txn *txn, const crypto_keys *k,
    const pol_policy *pol, replan_pos *pos, bool *more)
{
	char name[POL_MAX_NAME + 1];
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	const pol_register *r;
	MDB_cursor *c;
	MDB_val v, key, d;
	ret_sub rs;
	size_t plen, done = 0;
	uint64_t end;
	uint8_t flags;
	unsigned nf;
	int rc;

	*more = false;
	if ((rc = store_meta_get(st, txn, "replan", &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.mv_size == 0)
		return 0;
	*more = true; /* until the list is found empty */
	plen = 1 + (size_t)((const uint8_t *)v.mv_data)[0];
	if (plen > v.mv_size || plen > sizeof(pre))
		return MDB_CORRUPTED;
	memcpy(pre, v.mv_data, plen);
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
	if ((rc = mdb_cursor_open(txn, st->ret_sub, &c)) != 0)
		return rc;
	for (;;) {
		if (done == REPLAN_STEP_SUBJECTS) {
			mdb_cursor_close(c);
			return 0;
		}
		key.mv_size = pos->len;
		key.mv_data = pos->key;
		rc = mdb_cursor_get(c, &key, &d, MDB_SET_RANGE);
		/* keys privd did not write (of another length): over them */
		while (rc == 0 && key.mv_size >= plen &&
		       memcmp(key.mv_data, pre, plen) == 0 &&
		       key.mv_size != plen + CRYPTO_SUBJECT_IDBYTES)
			rc = mdb_cursor_get(c, &key, &d, MDB_NEXT);
		if (rc == 0 && (key.mv_size != plen + CRYPTO_SUBJECT_IDBYTES ||
		                   memcmp(key.mv_data, pre, plen) != 0))
			rc = MDB_NOTFOUND;
		if (rc != 0)
			break;
		memcpy(pos->key, key.mv_data, key.mv_size);
		pos->len = key.mv_size;
		rc = ret_sub_get(st, txn, k, name, pos->key + plen, &rs);
		if (rc != 0 && rc != MDB_CORRUPTED)
			break;
		rc = retplan_subject(st, txn, r, pos->key + plen,
		    rc == 0 ? rs.rel_end_us : 0, end, &nf);
		sodium_memzero(&rs, sizeof(rs));
		if (rc != 0)
			break;
		pos->key[pos->len++] = 0; /* past this subject */
		done++;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc;
finished:
	pos->len = 0;
	if ((rc = store_meta_get(st, txn, "replan", &v)) != 0 ||
	    (rc = dequeue(st, txn, &v)) != 0)
		return rc;
	return replan_pending(st, txn, more);
}
