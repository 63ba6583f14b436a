/*
 * store.c - the backend-neutral half of the store: store_kv.h's calls
 * dispatched to the backend (store_backend.h), the choice of backend,
 * and the codes' names.
 *
 * DESIGN (issue 12): privd's subsystems speak store_kv.h only; the
 * backend behind it is picked when the store is opened and is found
 * again from every object it hands out (the head of store_backend.h).
 * The dispatch is an indirect call and no copy: a backend returns
 * values that live until its transaction ends, and codes that are
 * LMDB's numbers or errno values, so the LMDB backend adds nothing to a
 * request but that call.
 */
#include "store.h"
#include "store_backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const tbl_names[STORE_NTABLES] = {
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
	return (unsigned)tb < STORE_NTABLES ? tbl_names[tb] : "?";
}

/* Not per store: a code names the same condition in every backend. */
const char *
store_strerror(int rc)
{
	switch (rc) {
	case STORE_UNAVAILABLE:
		return "the database server is unavailable";
	case STORE_CONFLICT:
		return "the transaction lost a serialisation race";
	default:
		/* LMDB's names its own codes and errno values alike */
		return store_lmdb_strerror(rc);
	}
}

int
store_open(const char *dir, size_t mapsize, bool create, store **out, char *err,
    size_t errlen)
{
	return store_lmdb_open(dir, mapsize, create, out, err, errlen);
}

static bool
is_pg_spec(const char *spec)
{
	return strncmp(spec, "postgresql://", 13) == 0 ||
	       strncmp(spec, "postgres://", 11) == 0 ||
	       strchr(spec, '=') != NULL;
}

int
store_open_spec(const char *spec, size_t mapsize, bool create, store **out,
    char *err, size_t errlen)
{
	*out = NULL;
	if (strncmp(spec, "lmdb:", 5) == 0)
		return store_lmdb_open(
		    spec + 5, mapsize, create, out, err, errlen);
	if (is_pg_spec(spec)) {
#ifdef PRIVD_HAVE_PG
		return store_pg_open(spec, create, out, err, errlen);
#else
		snprintf(err, errlen,
		    "this privd was built without PostgreSQL support");
		return -1;
#endif
	}
	return store_lmdb_open(spec, mapsize, create, out, err, errlen);
}

void
store_close(store **sp)
{
	if (sp == NULL || *sp == NULL)
		return;
	(*sp)->ops->close(*sp);
	*sp = NULL;
}

const char *
store_backend(const store *s)
{
	return s->ops->name;
}

int
store_copy(store *s, int fd)
{
	return s->ops->copy != NULL ? s->ops->copy(s, fd) : ENOTSUP;
}

int
store_set_meta_sync(store *s, bool on)
{
	return s->ops->meta_sync != NULL ? s->ops->meta_sync(s, on) : ENOTSUP;
}

int
store_sync(store *s)
{
	return s->ops->sync != NULL ? s->ops->sync(s) : 0;
}

int
store_grow(store *s)
{
	return s->ops->grow != NULL ? s->ops->grow(s) : 0;
}

bool
store_want_map(store *s, size_t bytes, int timeout_ms)
{
	return s->ops->want_map != NULL ? s->ops->want_map(s, bytes, timeout_ms)
	                                : true;
}

void
store_grow_wanted(store *s)
{
	if (s->ops->grow_wanted != NULL)
		s->ops->grow_wanted(s);
}

size_t
store_used_bytes(store *s)
{
	return s->ops->used_bytes != NULL ? s->ops->used_bytes(s) : 0;
}

bool
store_disk_full(store *s, int rc)
{
	return s->ops->disk_full != NULL ? s->ops->disk_full(s, rc) : false;
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
