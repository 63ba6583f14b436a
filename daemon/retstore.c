/*
 * retstore.c - the retention records of retstore.h.
 */
#include "retstore.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUB_HDR  (1 + 1 + 8)
#define HOLD_HDR (1 + 8 + 8)
#define HOLD_PLAINMAX                                                          \
	(1 + CRYPTO_MAX_NAME + 2 + CRYPTO_MAX_SUBJECT + 2 + RET_REASON_MAX)

/* What a record's seal binds: its key and its header, so that a sealed
 * part moved to another record, or a header edited (a relationship end, a
 * hold's end), does not open. */
#define BIND_MAX (RET_SUB_KEYMAX + 32)
static size_t
bind_of(uint8_t *out, const uint8_t *key, size_t klen, const uint8_t *hdr,
    size_t hlen)
{
	memcpy(out, key, klen);
	memcpy(out + klen, hdr, hlen);
	return klen + hlen;
}

static size_t
put_name(uint8_t *p, const char *name)
{
	size_t n = strlen(name);

	p[0] = (uint8_t)n;
	memcpy(p + 1, name, n);
	return 1 + n;
}

size_t
ret_sub_key(
    uint8_t *key, const char *reg, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES])
{
	size_t n = put_name(key, reg);

	memcpy(key + n, sid, CRYPTO_SUBJECT_IDBYTES);
	return n + CRYPTO_SUBJECT_IDBYTES;
}

int
ret_sub_get(store *st, store_txn *txn, const crypto_keys *k, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], ret_sub *out)
{
	uint8_t key[RET_SUB_KEYMAX], bind[BIND_MAX];
	store_val kv, v;
	const uint8_t *p;
	size_t clen, n;
	int rc;

	kv.size = ret_sub_key(key, reg, sid);
	kv.data = key;
	if ((rc = store_get(txn, STORE_RET_SUB, &kv, &v)) != 0)
		return rc;
	p = v.data;
	if (v.size < SUB_HDR + CRYPTO_SEAL_OVERHEAD + 1 || p[0] != RET_FORMAT)
		return STORE_CORRUPTED;
	clen = v.size - SUB_HDR;
	if (clen - CRYPTO_SEAL_OVERHEAD > CRYPTO_MAX_SUBJECT)
		return STORE_CORRUPTED;
	out->flags = p[1];
	out->rel_end_us = store_get_be64(p + 2);
	out->subjlen = clen - CRYPTO_SEAL_OVERHEAD;
	n = bind_of(bind, key, kv.size, p, SUB_HDR);
	if (crypto_bound_open(k, "subject-id", bind, n, p + SUB_HDR, clen,
	        (uint8_t *)out->subject) != 0)
		return STORE_CORRUPTED;
	out->subject[out->subjlen] = '\0';
	return 0;
}

int
ret_sub_put(store *st, store_txn *txn, const crypto_keys *k, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const ret_sub *rs)
{
	uint8_t key[RET_SUB_KEYMAX], bind[BIND_MAX], *p;
	store_val kv, v;
	size_t n;
	int rc;

	kv.size = ret_sub_key(key, reg, sid);
	kv.data = key;
	v.size = SUB_HDR + rs->subjlen + CRYPTO_SEAL_OVERHEAD;
	if ((rc = store_put(txn, STORE_RET_SUB, &kv, &v, STORE_RESERVE)) != 0)
		return rc;
	p = v.data;
	p[0] = RET_FORMAT;
	p[1] = rs->flags;
	store_be64(p + 2, rs->rel_end_us);
	n = bind_of(bind, key, kv.size, p, SUB_HDR);
	crypto_bound_seal(k, "subject-id", bind, n,
	    (const uint8_t *)rs->subject, rs->subjlen, p + SUB_HDR);
	return 0;
}

int
ret_sub_del(store *st, store_txn *txn, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES])
{
	uint8_t key[RET_SUB_KEYMAX];
	store_val kv;
	int rc;

	kv.size = ret_sub_key(key, reg, sid);
	kv.data = key;
	rc = store_del(txn, STORE_RET_SUB, &kv);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

static size_t
plan_key(uint8_t *key, const uint8_t *sid, const char *field)
{
	size_t n = strlen(field);

	memcpy(key, sid, CRYPTO_SUBJECT_IDBYTES);
	memcpy(key + CRYPTO_SUBJECT_IDBYTES, field, n);
	return CRYPTO_SUBJECT_IDBYTES + n;
}

int
ret_plan_get(store *st, store_txn *txn,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field, uint64_t *due)
{
	uint8_t key[RET_PLAN_KEYMAX];
	store_val k = {plan_key(key, sid, field), key}, v;
	int rc;

	*due = RET_NEVER;
	if ((rc = store_get(txn, STORE_RET_PLAN, &k, &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.size != 8)
		return STORE_CORRUPTED;
	*due = store_get_be64(v.data);
	return 0;
}

static int
due_del(
    store *st, store_txn *txn, uint64_t due, const uint8_t *pk, size_t pklen)
{
	uint8_t key[RET_DUE_KEYMAX];
	store_val k = {8 + pklen, key};
	int rc;

	store_be64(key, due);
	memcpy(key + 8, pk, pklen);
	rc = store_del(txn, STORE_RET_DUE, &k);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
ret_plan_set(store *st, store_txn *txn, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *field, uint64_t due)
{
	uint8_t pk[RET_PLAN_KEYMAX], dk[RET_DUE_KEYMAX], db[8], rb[1 + 64];
	store_val k, v;
	uint64_t old;
	size_t pklen = plan_key(pk, sid, field);
	int rc;

	if ((rc = ret_plan_get(st, txn, sid, field, &old)) != 0)
		return rc;
	if (old == due)
		return 0;
	if (old != RET_NEVER && (rc = due_del(st, txn, old, pk, pklen)) != 0)
		return rc;
	k.size = pklen;
	k.data = pk;
	if (due == RET_NEVER) {
		rc = store_del(txn, STORE_RET_PLAN, &k);
		return rc == STORE_NOTFOUND ? 0 : rc;
	}
	store_be64(db, due);
	v.size = 8;
	v.data = db;
	if ((rc = store_put(txn, STORE_RET_PLAN, &k, &v, 0)) != 0)
		return rc;
	memcpy(dk, db, 8);
	memcpy(dk + 8, pk, pklen);
	k.size = 8 + pklen;
	k.data = dk;
	v.size = put_name(rb, reg);
	v.data = rb;
	return store_put(txn, STORE_RET_DUE, &k, &v, 0);
}

int
ret_plan_drop_subject(
    store *st, store_txn *txn, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES])
{
	store_cur *c;
	store_val k, v;
	int rc;

	if ((rc = store_cur_open(txn, STORE_RET_PLAN, &c)) != 0)
		return rc;
	for (;;) {
		k.size = CRYPTO_SUBJECT_IDBYTES;
		k.data = (void *)sid;
		if ((rc = store_cur_get(c, &k, &v, STORE_SET_RANGE)) != 0)
			break;
		if (k.size < CRYPTO_SUBJECT_IDBYTES ||
		    memcmp(k.data, sid, CRYPTO_SUBJECT_IDBYTES) != 0)
			break;
		if (v.size != 8) {
			rc = STORE_CORRUPTED;
			break;
		}
		if ((rc = due_del(st, txn, store_get_be64(v.data), k.data,
		         k.size)) != 0 ||
		    (rc = store_cur_del(c)) != 0)
			break;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

static int
get_name(const uint8_t *p, size_t len, char *out, size_t *used)
{
	if (len < 1 || p[0] == 0 || p[0] > CRYPTO_MAX_NAME ||
	    (size_t)p[0] + 1 > len)
		return -1;
	memcpy(out, p + 1, p[0]);
	out[p[0]] = '\0';
	*used = 1 + (size_t)p[0];
	return 0;
}

int
ret_due_decode(const store_val *k, const store_val *v, ret_due *out)
{
	const uint8_t *p = k->data;
	size_t flen, used;

	if (k->size <= 8 + CRYPTO_SUBJECT_IDBYTES || k->size > RET_DUE_KEYMAX)
		return -1;
	out->due_us = store_get_be64(p);
	out->sid = p + 8;
	flen = k->size - 8 - CRYPTO_SUBJECT_IDBYTES;
	memcpy(out->field, p + 8 + CRYPTO_SUBJECT_IDBYTES, flen);
	out->field[flen] = '\0';
	if (get_name(v->data, v->size, out->reg, &used) != 0 || used != v->size)
		return -1;
	return 0;
}

int
ret_reg_get(store *st, store_txn *txn, const char *reg, uint64_t *end_us,
    uint8_t *flags)
{
	store_val k = {strlen(reg), (void *)reg}, v;
	const uint8_t *p;
	int rc;

	*end_us = 0;
	*flags = 0;
	if ((rc = store_get(txn, STORE_RET_REG, &k, &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	p = v.data;
	if (v.size != 10 || p[0] != RET_FORMAT)
		return STORE_CORRUPTED;
	*flags = p[1];
	*end_us = store_get_be64(p + 2);
	return 0;
}

int
ret_reg_put(
    store *st, store_txn *txn, const char *reg, uint64_t end_us, uint8_t flags)
{
	uint8_t rec[10] = {RET_FORMAT, flags};
	store_val k = {strlen(reg), (void *)reg}, v = {sizeof(rec), rec};

	store_be64(rec + 2, end_us);
	return store_put(txn, STORE_RET_REG, &k, &v, 0);
}

size_t
ret_hold_key(uint8_t *key, const char *reg, const uint8_t *sid)
{
	size_t n = put_name(key, reg);

	if (sid == NULL)
		return n;
	memcpy(key + n, sid, CRYPTO_SUBJECT_IDBYTES);
	return n + CRYPTO_SUBJECT_IDBYTES;
}

int
ret_hold_decode(const crypto_keys *k, const store_val *key,
    const store_val *val, ret_hold *out)
{
	uint8_t plain[HOLD_PLAINMAX], bind[BIND_MAX];
	const uint8_t *p = val->data, *q;
	size_t used, clen, plen, n, off;

	memset(out, 0, sizeof(*out));
	if (get_name(key->data, key->size, out->reg, &used) != 0)
		return -1;
	if (key->size == used + CRYPTO_SUBJECT_IDBYTES) {
		out->has_sid = true;
		memcpy(out->sid, (const uint8_t *)key->data + used,
		    CRYPTO_SUBJECT_IDBYTES);
	} else if (key->size != used)
		return -1;
	if (val->size < HOLD_HDR + CRYPTO_SEAL_OVERHEAD || p[0] != RET_FORMAT)
		return -1;
	clen = val->size - HOLD_HDR;
	plen = clen - CRYPTO_SEAL_OVERHEAD;
	if (plen > sizeof(plain) || key->size > RET_HOLD_KEYMAX)
		return -1;
	n = bind_of(bind, key->data, key->size, p, HOLD_HDR);
	if (crypto_bound_open(k, "hold", bind, n, p + HOLD_HDR, clen, plain) !=
	    0)
		return -1;
	out->set_at_us = store_get_be64(p + 1);
	out->until_us = store_get_be64(p + 9);
	q = plain;
	if (plen < 1 || (n = q[0]) > CRYPTO_MAX_NAME || 1 + n + 2 > plen)
		goto bad;
	memcpy(out->by, q + 1, n);
	off = 1 + n;
	n = (size_t)q[off] << 8 | q[off + 1];
	off += 2;
	if (n > CRYPTO_MAX_SUBJECT || off + n + 2 > plen)
		goto bad;
	memcpy(out->subject, q + off, n);
	off += n;
	n = (size_t)q[off] << 8 | q[off + 1];
	off += 2;
	if (n > RET_REASON_MAX || off + n != plen)
		goto bad;
	memcpy(out->reason, q + off, n);
	sodium_memzero(plain, sizeof(plain));
	return 0;
bad:
	sodium_memzero(plain, sizeof(plain));
	return -1;
}

int
ret_hold_get(store *st, store_txn *txn, const crypto_keys *k, const char *reg,
    const uint8_t *sid, ret_hold *out)
{
	uint8_t key[RET_HOLD_KEYMAX];
	store_val kv = {ret_hold_key(key, reg, sid), key}, v;
	int rc;

	if ((rc = store_get(txn, STORE_HOLDS, &kv, &v)) != 0)
		return rc;
	return ret_hold_decode(k, &kv, &v, out) == 0 ? 0 : STORE_CORRUPTED;
}

int
ret_hold_put(store *st, store_txn *txn, const crypto_keys *k, const ret_hold *h)
{
	uint8_t key[RET_HOLD_KEYMAX], plain[HOLD_PLAINMAX], bind[BIND_MAX], *p;
	store_val kv = {ret_hold_key(key, h->reg, h->has_sid ? h->sid : NULL),
	              key},
	          v;
	size_t n, off;
	int rc;

	n = strlen(h->by);
	plain[0] = (uint8_t)n;
	memcpy(plain + 1, h->by, n);
	off = 1 + n;
	n = strlen(h->subject);
	plain[off++] = (uint8_t)(n >> 8);
	plain[off++] = (uint8_t)n;
	memcpy(plain + off, h->subject, n);
	off += n;
	n = strlen(h->reason);
	plain[off++] = (uint8_t)(n >> 8);
	plain[off++] = (uint8_t)n;
	memcpy(plain + off, h->reason, n);
	off += n;
	v.size = HOLD_HDR + off + CRYPTO_SEAL_OVERHEAD;
	if ((rc = store_put(txn, STORE_HOLDS, &kv, &v, STORE_RESERVE)) == 0) {
		p = v.data;
		p[0] = RET_FORMAT;
		store_be64(p + 1, h->set_at_us);
		store_be64(p + 9, h->until_us);
		n = bind_of(bind, key, kv.size, p, HOLD_HDR);
		crypto_bound_seal(k, "hold", bind, n, plain, off, p + HOLD_HDR);
	}
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
ret_hold_del(store *st, store_txn *txn, const char *reg, const uint8_t *sid)
{
	uint8_t key[RET_HOLD_KEYMAX];
	store_val kv = {ret_hold_key(key, reg, sid), key};

	return store_del(txn, STORE_HOLDS, &kv);
}

int
ret_hold_find(store *st, store_txn *txn, const crypto_keys *k, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], uint64_t t, bool *held,
    ret_hold *out)
{
	ret_hold h;
	int rc, i;

	*held = false;
	for (i = 0; i < 2; i++) {
		rc = ret_hold_get(st, txn, k, reg, i == 0 ? sid : NULL, &h);
		if (rc == STORE_NOTFOUND)
			continue;
		if (rc == STORE_CORRUPTED) {
			/* a hold that does not authenticate still holds:
			 * when in doubt, keep */
			memset(out, 0, sizeof(*out));
			snprintf(out->reg, sizeof(out->reg), "%s", reg);
			snprintf(out->reason, sizeof(out->reason),
			    "a legal hold whose record is damaged");
			*held = true;
			return 0;
		}
		if (rc != 0)
			return rc;
		if (!ret_hold_active(&h, t))
			continue;
		if (!*held || h.until_us == 0 ||
		    (out->until_us != 0 && h.until_us > out->until_us)) {
			*out = h;
			*held = true;
		}
	}
	sodium_memzero(&h, sizeof(h));
	return 0;
}

#define ANON_HDR (1 + 8)

int
ret_anon_put(store *st, store_txn *txn, const crypto_keys *k, const char *reg,
    uint64_t month_us, const uint8_t *plain, size_t len)
{
	uint8_t key[RET_ANON_KEYMAX], *p;
	store_val kv, v;
	size_t n = put_name(key, reg);
	int rc;

	randombytes_buf(key + n, RET_ANON_IDBYTES);
	kv.size = n + RET_ANON_IDBYTES;
	kv.data = key;
	v.size = ANON_HDR + len + CRYPTO_SEAL_OVERHEAD;
	if ((rc = store_put(txn, STORE_ANON, &kv, &v,
	         STORE_RESERVE | STORE_NOOVERWRITE)) != 0)
		return rc;
	p = v.data;
	p[0] = RET_FORMAT;
	store_be64(p + 1, month_us);
	crypto_anon_seal(k, reg, key + n, RET_ANON_IDBYTES, p, ANON_HDR, plain,
	    len, p + ANON_HDR);
	return 0;
}

int
ret_anon_open(const crypto_keys *k, const store_val *key, const store_val *val,
    uint8_t **plain, size_t *len, uint64_t *month_us)
{
	char reg[CRYPTO_MAX_NAME + 1];
	const uint8_t *p = val->data;
	size_t used, clen;
	uint8_t *m;

	*plain = NULL;
	if (get_name(key->data, key->size, reg, &used) != 0 ||
	    key->size != used + RET_ANON_IDBYTES ||
	    val->size < ANON_HDR + CRYPTO_SEAL_OVERHEAD || p[0] != RET_FORMAT)
		return -1;
	clen = val->size - ANON_HDR;
	if ((m = malloc(clen - CRYPTO_SEAL_OVERHEAD + 1)) == NULL)
		return -1;
	if (crypto_anon_open(k, reg, (const uint8_t *)key->data + used,
	        RET_ANON_IDBYTES, p, ANON_HDR, p + ANON_HDR, clen, m) != 0) {
		free(m);
		return -1;
	}
	*plain = m;
	*len = clen - CRYPTO_SEAL_OVERHEAD;
	*month_us = store_get_be64(p + 1);
	return 0;
}

const uint8_t *
ret_anon_field(const uint8_t *plain, size_t len, const char *name, size_t *vlen)
{
	size_t off = 0, nl, want = strlen(name), vl;

	while (off < len) {
		nl = plain[off];
		if (off + 1 + nl + 4 > len)
			return NULL;
		vl = (size_t)plain[off + 1 + nl] << 24 |
		     (size_t)plain[off + 2 + nl] << 16 |
		     (size_t)plain[off + 3 + nl] << 8 | plain[off + 4 + nl];
		if (off + 5 + nl + vl > len)
			return NULL;
		if (nl == want && memcmp(plain + off + 1, name, nl) == 0) {
			*vlen = vl;
			return plain + off + 5 + nl;
		}
		off += 5 + nl + vl;
	}
	return NULL;
}

int
ret_anon_drop(store *st, store_txn *txn, const char *reg, size_t max, size_t *n,
    bool *more)
{
	uint8_t pre[1 + CRYPTO_MAX_NAME];
	size_t plen = put_name(pre, reg);
	store_cur *c;
	store_val k, v;
	int rc;

	*n = 0;
	*more = false;
	if ((rc = store_cur_open(txn, STORE_ANON, &c)) != 0)
		return rc;
	for (;;) {
		k.size = plen;
		k.data = pre;
		if ((rc = store_cur_get(c, &k, &v, STORE_SET_RANGE)) != 0)
			break;
		if (k.size != plen + RET_ANON_IDBYTES ||
		    memcmp(k.data, pre, plen) != 0)
			break;
		if (*n == max) {
			*more = true;
			break;
		}
		if ((rc = store_cur_del(c)) != 0)
			break;
		(*n)++;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

uint64_t
ret_month_of(uint64_t t_us)
{
	time_t t = (time_t)(t_us / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return 0;
	tm.tm_mday = 1;
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	return (uint64_t)timegm(&tm) * 1000000;
}

int
ret_hold_expire(store *st, store_txn *txn, uint64_t t, size_t *n)
{
	uint8_t pos[RET_HOLD_KEYMAX + 1];
	size_t poslen = 0;
	store_cur *c;
	store_val k, v;
	const uint8_t *p;
	uint64_t until;
	int rc;

	*n = 0;
	if ((rc = store_cur_open(txn, STORE_HOLDS, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_SET_RANGE)) {
		if (k.size > RET_HOLD_KEYMAX) {
			/* not privd's: past it */
			rc = store_cur_get(c, &k, &v, STORE_NEXT);
			if (rc != 0)
				break;
		}
		p = v.data;
		if (k.size <= RET_HOLD_KEYMAX && v.size >= HOLD_HDR &&
		    p[0] == RET_FORMAT &&
		    (until = store_get_be64(p + 9)) != 0 && until <= t) {
			memcpy(pos, k.data, k.size);
			poslen = k.size;
			if ((rc = store_del(txn, STORE_HOLDS, &k)) != 0)
				break;
			(*n)++;
		} else if (k.size <= RET_HOLD_KEYMAX) {
			memcpy(pos, k.data, k.size);
			poslen = k.size;
			pos[poslen++] = 0; /* past it */
		}
		k.size = poslen;
		k.data = pos;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}
