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
/* the layout functions are defined here: never store_lmdb.h's macros */
#ifndef PRIVD_STORE_NEUTRAL
#define PRIVD_STORE_NEUTRAL 1
#endif
#include "store.h"
#include "store_backend.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "blind.h"

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
	/* store_kv.h's codes are any backend's: their text names no
	 * backend (they are LMDB's numbers, and LMDB's own text would say
	 * "MDB_CORRUPTED: Located page was wrong type" of a malformed row
	 * in PostgreSQL) */
	switch (rc) {
	case STORE_UNAVAILABLE:
		return "the database server is unavailable";
	case STORE_CONFLICT:
		return "the transaction lost a serialisation race";
	case STORE_KEYEXIST:
		return "the key exists already";
	case STORE_NOTFOUND:
		return "no such key";
	case STORE_CORRUPTED:
		return "a stored record or page is malformed";
	case STORE_INCOMPATIBLE:
		return "a table's layout is not the one this privd expects";
	default:
		/* LMDB's own codes (map full, map resized) and errno values:
		 * LMDB names them alike */
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

bool
store_reads_ahead(const store *s)
{
	return s->ops->prefetch != NULL;
}

uint64_t
store_step_us(const store *s, uint64_t us)
{
	return s->ops->step_scale > 1 ? us * s->ops->step_scale : us;
}

int
store_copy(store *s, int fd)
{
	return s->ops->copy != NULL ? s->ops->copy(s, fd) : ENOTSUP;
}

uint64_t
store_copy_size(store *s)
{
	return s->ops->copy_size != NULL ? s->ops->copy_size(s) : 0;
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
store_map_adopt(store *s)
{
	return s->ops->map_adopt != NULL ? s->ops->map_adopt(s) : 0;
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

/*
 * Several nodes on one store: each answers, for a backend without the
 * op (LMDB: one node), what one node means (store_kv.h).
 */
int
store_txn_gen(store_txn *t, uint64_t *gen, bool *moved)
{
	if (t->ops->txn_gen != NULL)
		return t->ops->txn_gen(t, gen, moved);
	*gen = 0;
	if (moved != NULL)
		*moved = false;
	return 0;
}

int
store_gen(store *s, uint64_t *gen)
{
	if (s->ops->gen != NULL)
		return s->ops->gen(s, gen);
	*gen = 0;
	return 0;
}

int
store_notify(store_txn *t, const char *channel, const char *payload)
{
	return t->ops->notify != NULL ? t->ops->notify(t, channel, payload) : 0;
}

int
store_listen(
    store *s, const char *const *channels, size_t n, store_listener **l)
{
	*l = NULL;
	return s->ops->listen != NULL ? s->ops->listen(s, channels, n, l)
	                              : ENOTSUP;
}

int
store_listen_fd(const store_listener *l)
{
	return l->ops->listen_fd(l);
}

int
store_listen_drain(
    store_listener *l, store_notify_fn *fn, void *arg, bool *missed)
{
	return l->ops->listen_drain(l, fn, arg, missed);
}

void
store_listen_close(store_listener **lp)
{
	if (lp == NULL || *lp == NULL)
		return;
	(*lp)->ops->listen_close(*lp);
	*lp = NULL;
}

int
store_lease_take(store *s, int which, bool *got)
{
	if (s->ops->lease_take != NULL)
		return s->ops->lease_take(s, which, got);
	*got = true;
	return 0;
}

bool
store_lease_held(store *s, int which)
{
	return s->ops->lease_held != NULL ? s->ops->lease_held(s, which) : true;
}

void
store_lease_release(store *s, int which)
{
	if (s->ops->lease_release != NULL)
		s->ops->lease_release(s, which);
}

/*
 * A worker keeps one read transaction handle for its lifetime and renews it
 * per request: cheaper than begin/abort, and it holds no snapshot (so does
 * not pin old pages) between requests.
 */
int
store_read_begin(store *s, store_txn **txn)
{
	if (s->ops->read_begin != NULL)
		return s->ops->read_begin(s, txn);
	if (*txn == NULL)
		return s->ops->txn_begin(s, STORE_RDONLY, txn);
	return (*txn)->ops->txn_renew(*txn);
}

void
store_read_end(store *s, store_txn *txn)
{
	if (s->ops->read_end != NULL)
		s->ops->read_end(s, txn);
	else
		txn->ops->txn_reset(txn);
}

/*
 * The record layouts of store.h, over store_kv.h.
 */
int
store_meta_get(store *s, store_txn *txn, const char *name, store_val *v)
{
	store_val k = {strlen(name), (void *)name};

	return store_get(txn, STORE_META, &k, v);
}

int
store_meta_put(
    store *s, store_txn *txn, const char *name, const void *p, size_t len)
{
	store_val k = {strlen(name), (void *)name}, v = {len, (void *)p};

	return store_put(txn, STORE_META, &k, &v, 0);
}

int
store_meta_del(store *s, store_txn *txn, const char *name)
{
	store_val k = {strlen(name), (void *)name};

	return store_del(txn, STORE_META, &k);
}

int
store_meta_get_u64(
    store *s, store_txn *txn, const char *name, uint64_t def, uint64_t *out)
{
	store_val v;
	int rc;

	*out = def;
	if ((rc = store_meta_get(s, txn, name, &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.size != 8)
		return STORE_CORRUPTED;
	*out = store_get_be64(v.data);
	return 0;
}

int
store_meta_put_u64(store *s, store_txn *txn, const char *name, uint64_t v)
{
	uint8_t b[8];

	store_be64(b, v);
	return store_meta_put(s, txn, name, b, sizeof(b));
}

int
store_format_put(store *s, store_txn *txn)
{
	uint32_t format = STORE_FORMAT;
	int rc;

	if ((rc = store_meta_put(s, txn, "format", &format, sizeof(format))) !=
	    0)
		return rc;
	/* every subject of this store gets its retention record when it is
	 * created (retstore.h); a store without this mark may hold subjects
	 * from before, which get theirs when they are next written */
	if ((rc = store_meta_put_u64(s, txn, "retention_records", 1)) != 0)
		return rc;
	/* and every lookup value is indexed as it is written (blind.h) */
	return store_meta_put_u64(s, txn, "blind_index", 1);
}

int
store_format_check(store *s, store_txn *txn, char *err, size_t errlen)
{
	uint32_t format;
	store_val v;
	int rc;

	if ((rc = store_meta_get(s, txn, "format", &v)) != 0 ||
	    v.size != sizeof(format)) {
		snprintf(err, errlen,
		    "the store records no format version (%s): not a store "
		    "made by privd init, or a damaged one",
		    rc ? store_strerror(rc) : "wrong size");
		return -1;
	}
	memcpy(&format, v.data, sizeof(format));
	if (format != STORE_FORMAT) {
		snprintf(err, errlen,
		    "the store is in format %u; this privd (%s) reads format "
		    "%u only%s",
		    (unsigned)format, PRIVD_VERSION, (unsigned)STORE_FORMAT,
		    format < STORE_FORMAT ? " (it was made by an older privd)"
		                          : " (it was made by a newer privd)");
		return -1;
	}
	return 0;
}

int
store_policy_put(store *s, store_txn *txn, uint64_t version, uint64_t time_us,
    const char *who, const char *json, size_t len)
{
	uint8_t kb[8], *p;
	size_t wholen = strlen(who);
	store_val k = {8, kb}, v;
	int rc;

	if (wholen > 255)
		wholen = 255;
	store_be64(kb, version);
	v.size = 8 + 1 + wholen + len;
	if ((rc = store_put(txn, STORE_POLICY, &k, &v, STORE_RESERVE)) != 0)
		return rc;
	p = v.data;
	store_be64(p, time_us);
	p[8] = (uint8_t)wholen;
	memcpy(p + 9, who, wholen);
	memcpy(p + 9 + wholen, json, len);
	return 0;
}

int
store_policy_decode(const store_val *k, const store_val *v, store_policy *out)
{
	const uint8_t *p = v->data;

	if (k->size != 8 || v->size < 9 || v->size < 9u + p[8])
		return STORE_CORRUPTED;
	out->version = store_get_be64(k->data);
	out->time_us = store_get_be64(p);
	out->who = (const char *)p + 9;
	out->wholen = p[8];
	out->json = (const char *)p + 9 + p[8];
	out->len = v->size - 9 - p[8];
	return 0;
}

int
store_policy_latest(store *s, store_txn *txn, store_policy *out)
{
	store_cur *c;
	store_val k, v;
	int rc;

	if ((rc = store_cur_open(txn, STORE_POLICY, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_LAST);
	store_cur_close(c);
	if (rc != 0)
		return rc;
	return store_policy_decode(&k, &v, out);
}

int
store_policy_get(store *s, store_txn *txn, uint64_t version, store_policy *out)
{
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	int rc;

	store_be64(kb, version);
	if ((rc = store_get(txn, STORE_POLICY, &k, &v)) != 0)
		return rc;
	return store_policy_decode(&k, &v, out);
}

int
store_subject_get(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], store_subject *out)
{
	store_val k = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	const uint8_t *p;
	int rc;

	if ((rc = store_get(txn, STORE_SUBJECTS, &k, &v)) != 0)
		return rc;
	p = v.data;
	if (v.size != STORE_SUBJECT_RECBYTES || p[0] != STORE_FORMAT)
		return STORE_CORRUPTED;
	out->created_us = store_get_be64(p + 1);
	memcpy(
	    out->wrapped, p + STORE_SUBJECT_HDRBYTES, CRYPTO_WRAPPED_KEYBYTES);
	return 0;
}

void
store_subject_header(uint8_t hdr[STORE_SUBJECT_HDRBYTES], uint64_t created_us)
{
	hdr[0] = STORE_FORMAT;
	store_be64(hdr + 1, created_us);
}

int
store_subject_put(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const store_subject *sub)
{
	uint8_t rec[STORE_SUBJECT_RECBYTES];
	store_val k = {CRYPTO_SUBJECT_IDBYTES, (void *)sid},
	          v = {sizeof(rec), rec};

	store_subject_header(rec, sub->created_us);
	memcpy(rec + STORE_SUBJECT_HDRBYTES, sub->wrapped,
	    CRYPTO_WRAPPED_KEYBYTES);
	return store_put(txn, STORE_SUBJECTS, &k, &v, 0);
}

size_t
store_value_key(
    uint8_t *key, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field)
{
	size_t n = strnlen(field, CRYPTO_MAX_NAME);

	memcpy(key, sid, CRYPTO_SUBJECT_IDBYTES);
	memcpy(key + CRYPTO_SUBJECT_IDBYTES, field, n);
	return CRYPTO_SUBJECT_IDBYTES + n;
}

size_t
store_value_header(uint8_t *hdr, uint64_t created_us, uint64_t updated_us,
    const char *purpose, size_t purposelen)
{
	hdr[0] = STORE_FORMAT;
	store_be64(hdr + 1, created_us);
	store_be64(hdr + 9, updated_us);
	hdr[17] = (uint8_t)purposelen;
	memcpy(hdr + STORE_VALUE_HDRBYTES, purpose, purposelen);
	return STORE_VALUE_HDRBYTES + purposelen;
}

int
store_value_decode(const store_val *rec, store_value *out)
{
	const uint8_t *p = rec->data;
	size_t hl;

	if (rec->size < STORE_VALUE_HDRBYTES || p[0] != STORE_FORMAT)
		return -1;
	hl = STORE_VALUE_HDRBYTES + p[17];
	if (rec->size < hl + CRYPTO_SEAL_OVERHEAD)
		return -1;
	out->hdr = p;
	out->hdrlen = hl;
	out->created_us = store_get_be64(p + 1);
	out->updated_us = store_get_be64(p + 9);
	out->purpose = (const char *)p + STORE_VALUE_HDRBYTES;
	out->purposelen = p[17];
	out->sealed = p + hl;
	out->sealedlen = rec->size - hl;
	return 0;
}

void
store_value_id(const store_value *sv, uint8_t id[STORE_VALUE_IDBYTES])
{
	crypto_generichash_state h;

	crypto_generichash_init(&h, NULL, 0, STORE_VALUE_IDBYTES);
	crypto_generichash_update(&h, sv->hdr, sv->hdrlen);
	crypto_generichash_update(&h, sv->sealed, CRYPTO_NONCEBYTES);
	crypto_generichash_update(
	    &h, sv->sealed + sv->sealedlen - CRYPTO_TAGBYTES, CRYPTO_TAGBYTES);
	crypto_generichash_final(&h, id, STORE_VALUE_IDBYTES);
}

int
store_value_get(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field,
    store_value *out)
{
	uint8_t key[STORE_VALUE_KEYMAX];
	store_val k = {0, key}, v;
	int rc;

	k.size = store_value_key(key, sid, field);
	if ((rc = store_get(txn, STORE_VALUES, &k, &v)) != 0)
		return rc;
	return store_value_decode(&v, out) == 0 ? 0 : STORE_CORRUPTED;
}

int
store_subject_delete(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], unsigned *nvalues)
{
	store_val k = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	store_cur *c;
	unsigned n = 0;
	int rc;

	*nvalues = 0;
	if ((rc = store_del(txn, STORE_SUBJECTS, &k)) != 0)
		return rc;
	if ((rc = store_cur_open(txn, STORE_VALUES, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_SET_RANGE);
	while (rc == 0 && k.size >= CRYPTO_SUBJECT_IDBYTES &&
	       memcmp(k.data, sid, CRYPTO_SUBJECT_IDBYTES) == 0) {
		if ((rc = store_cur_del(c)) != 0)
			break;
		n++;
		/* after a delete, STORE_NEXT yields the item that followed */
		rc = store_cur_get(c, &k, &v, STORE_NEXT);
	}
	store_cur_close(c);
	*nvalues = n;
	if (rc != STORE_NOTFOUND && rc != 0)
		return rc;
	return blind_del_subject(s, txn, sid);
}

int
store_value_del(store *s, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field)
{
	uint8_t key[STORE_VALUE_KEYMAX];
	store_val k;
	int rc;

	k.size = store_value_key(key, sid, field);
	k.data = key;
	rc = store_del(txn, STORE_VALUES, &k);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	return blind_del(s, txn, sid, field);
}

int
store_prefetch(store_txn *t, store_tbl tb, const store_val *keys, size_t n)
{
	return t->ops->prefetch != NULL ? t->ops->prefetch(t, tb, keys, n) : 0;
}

int
store_del_any(store_txn *t, store_tbl tb, const store_val *k)
{
	int rc;

	if (t->ops->del_any != NULL)
		return t->ops->del_any(t, tb, k);
	rc = t->ops->del(t, tb, k);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

void
store_cur_stream(store_cur *c)
{
	if (c->ops->cur_stream != NULL)
		c->ops->cur_stream(c);
}
