/*
 * store_kv_shim.c - TRANSITIONAL, test-only: store_kv.h's dispatch
 * (store_get(t, ...) -> t->ops->get(t, ...)), store_tbl_name and
 * store_strerror, for a tree where daemon/store.c does not have them yet
 * (branch h-storepg before the helper storeapi's work is merged).
 * tests/unit/meson.build compiles it only while daemon/store_lmdb.c does
 * not exist; once it does, daemon/store.c answers these and this file
 * can be deleted.
 */
#include <string.h>

#include "store_backend.h"

static const char *const names[STORE_NTABLES] = {
    [STORE_META] = "meta",
    [STORE_POLICY] = "policy",
    [STORE_SUBJECTS] = "subjects",
    [STORE_VALUES] = "values",
    [STORE_AUDIT] = "audit",
    [STORE_AUDIT_CKPT] = "audit_ckpt",
    [STORE_AUDIT_IX] = "audit_ix",
    [STORE_RET_SUB] = "ret_sub",
    [STORE_RET_PLAN] = "ret_plan",
    [STORE_RET_DUE] = "ret_due",
    [STORE_RET_REG] = "ret_reg",
    [STORE_HOLDS] = "holds",
    [STORE_ANON] = "anon",
    [STORE_SUBJ_STATE] = "subj_state",
    [STORE_ERASURES] = "erasures",
    [STORE_BLIND] = "blind",
    [STORE_BLIND_OF] = "blind_of",
};

const char *
store_tbl_name(store_tbl tb)
{
	return (unsigned)tb < STORE_NTABLES ? names[tb] : "?";
}

const char *
store_strerror(int rc)
{
	switch (rc) {
	case STORE_KEYEXIST:
		return "the key exists";
	case STORE_NOTFOUND:
		return "no such key";
	case STORE_CORRUPTED:
		return "the store is corrupted";
	case STORE_UNAVAILABLE:
		return "the database server is unavailable";
	case STORE_CONFLICT:
		return "the transaction lost a serialisation race; retry";
	default:
		return rc > 0 ? strerror(rc) : "store error";
	}
}

void
store_close(store **s)
{
	if (s != NULL && *s != NULL)
		(*s)->ops->close(*s);
	if (s != NULL)
		*s = NULL;
}

int
store_txn_begin(store *s, unsigned flags, store_txn **t)
{
	return s->ops->txn_begin(s, flags, t);
}

int
store_txn_commit(store_txn *t)
{
	return t->ops->txn_commit(t);
}

void
store_txn_abort(store_txn *t)
{
	t->ops->txn_abort(t);
}

void
store_txn_reset(store_txn *t)
{
	t->ops->txn_reset(t);
}

int
store_txn_renew(store_txn *t)
{
	return t->ops->txn_renew(t);
}

int
store_get(store_txn *t, store_tbl tb, const store_val *k, store_val *v)
{
	return t->ops->get(t, tb, k, v);
}

int
store_put(store_txn *t, store_tbl tb, const store_val *k, store_val *v,
    unsigned flags)
{
	return t->ops->put(t, tb, k, v, flags);
}

int
store_del(store_txn *t, store_tbl tb, const store_val *k)
{
	return t->ops->del(t, tb, k);
}

int
store_drop(store_txn *t, store_tbl tb)
{
	return t->ops->drop(t, tb);
}

int
store_count(store_txn *t, store_tbl tb, uint64_t *n)
{
	return t->ops->count(t, tb, n);
}

int
store_cur_open(store_txn *t, store_tbl tb, store_cur **c)
{
	return t->ops->cur_open(t, tb, c);
}

void
store_cur_close(store_cur *c)
{
	if (c != NULL)
		c->ops->cur_close(c);
}

int
store_cur_get(store_cur *c, store_val *k, store_val *v, store_op op)
{
	return c->ops->cur_get(c, k, v, op);
}

int
store_cur_put_current(store_cur *c, const store_val *k, store_val *v)
{
	return c->ops->cur_put_current(c, k, v);
}

int
store_cur_del(store_cur *c)
{
	return c->ops->cur_del(c);
}
