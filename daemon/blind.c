/*
 * blind.c - the blind index of lookup values; see blind.h.
 */
#include "blind.h"

#include <sodium.h>
#include <string.h>

static const char tag_domain[] = "privd-blind-v1";

/* E.164 as people's numbers are written: separators dropped, 00 or + for
 * the international prefix, a leading 0 the Finnish trunk prefix (the
 * controller's country: DESIGN.md section 7). */
static int
norm_phone(const uint8_t *v, size_t len, uint8_t *out)
{
	uint8_t d[BLIND_NORM_MAX];
	size_t i, n = 0, o = 0;
	bool plus = len > 0 && v[0] == '+';

	for (i = plus ? 1 : 0; i < len; i++) {
		if (v[i] >= '0' && v[i] <= '9') {
			if (n == 32)
				return -1;
			d[n++] = v[i];
		} else if (v[i] != ' ' && v[i] != '-' && v[i] != '(' &&
		           v[i] != ')' && v[i] != '.')
			return -1;
	}
	if (n == 0)
		return -1;
	out[o++] = '+';
	i = 0;
	if (!plus) {
		if (n >= 2 && d[0] == '0' && d[1] == '0') {
			i = 2;
		} else if (d[0] == '0') {
			memcpy(out + o, "358", 3);
			o += 3;
			i = 1;
		}
	}
	if (i == n)
		return -1;
	memcpy(out + o, d + i, n - i);
	return (int)(o + n - i);
}

int
blind_normalise(const pol_field *f, const uint8_t *v, size_t len, uint8_t *out)
{
	size_t i;

	switch (f->type) {
	case POL_FT_PHONE:
		return norm_phone(v, len, out);
	case POL_FT_EMAIL:
		/* case-folded whole: people write either part in any case,
		 * and no mail system we know of tells local parts apart by
		 * case */
		if (len > BLIND_NORM_MAX)
			return -1;
		for (i = 0; i < len; i++)
			out[i] = (v[i] >= 'A' && v[i] <= 'Z')
			             ? (uint8_t)(v[i] - 'A' + 'a')
			             : v[i];
		return (int)len;
	default:
		if (len > BLIND_NORM_MAX)
			return -1;
		memcpy(out, v, len);
		return (int)len;
	}
}

int
blind_tag(const crypto_keys *k, const pol_field *f, const uint8_t *v,
    size_t len, uint8_t tag[BLIND_TAGBYTES])
{
	crypto_generichash_state h;
	uint8_t norm[BLIND_NORM_MAX];
	int n;

	crypto_generichash_init(&h, k->blind, sizeof(k->blind), BLIND_TAGBYTES);
	crypto_generichash_update(
	    &h, (const uint8_t *)tag_domain, sizeof(tag_domain));
	crypto_generichash_update(
	    &h, (const uint8_t *)f->name, strlen(f->name) + 1);
	if (f->type != POL_FT_EMAIL && f->type != POL_FT_PHONE) {
		/* compared as they are: no copy, no limit */
		crypto_generichash_update(&h, v, len);
	} else if ((n = blind_normalise(f, v, len, norm)) < 0) {
		sodium_memzero(&h, sizeof(h));
		return -1;
	} else {
		crypto_generichash_update(&h, norm, (size_t)n);
	}
	crypto_generichash_final(&h, tag, BLIND_TAGBYTES);
	sodium_memzero(norm, sizeof(norm));
	sodium_memzero(&h, sizeof(h));
	return 0;
}

/* sid || field */
static size_t
of_key(uint8_t *key, const uint8_t *sid, const char *field)
{
	size_t fl = strlen(field);

	memcpy(key, sid, CRYPTO_SUBJECT_IDBYTES);
	memcpy(key + CRYPTO_SUBJECT_IDBYTES, field, fl);
	return CRYPTO_SUBJECT_IDBYTES + fl;
}

/* tag || sid || field */
static size_t
entry_key(uint8_t *key, const uint8_t *tag, const uint8_t *sid,
    const uint8_t *field, size_t fl)
{
	memcpy(key, tag, BLIND_TAGBYTES);
	memcpy(key + BLIND_TAGBYTES, sid, CRYPTO_SUBJECT_IDBYTES);
	memcpy(key + BLIND_TAGBYTES + CRYPTO_SUBJECT_IDBYTES, field, fl);
	return BLIND_TAGBYTES + CRYPTO_SUBJECT_IDBYTES + fl;
}

#define ENTRY_KEYMAX (BLIND_TAGBYTES + CRYPTO_SUBJECT_IDBYTES + POL_MAX_NAME)

int
blind_put(store *st, store_txn *txn, const uint8_t tag[BLIND_TAGBYTES],
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *reg,
    const char *field)
{
	uint8_t ok[STORE_VALUE_KEYMAX], ek[ENTRY_KEYMAX], rec[2 + POL_MAX_NAME];
	size_t fl = strlen(field), rl = strlen(reg);
	store_val k, v;
	int rc;

	k.size = of_key(ok, sid, field);
	k.data = ok;
	rc = store_get(txn, STORE_BLIND_OF, &k, &v);
	if (rc == 0 && v.size == BLIND_TAGBYTES) {
		if (memcmp(v.data, tag, BLIND_TAGBYTES) == 0)
			return 0; /* the same value again */
		k.size = entry_key(ek, v.data, sid, (const uint8_t *)field, fl);
		k.data = ek;
		if ((rc = store_del(txn, STORE_BLIND, &k)) != 0 &&
		    rc != STORE_NOTFOUND)
			return rc;
	} else if (rc != 0 && rc != STORE_NOTFOUND) {
		return rc;
	}
	k.size = of_key(ok, sid, field);
	k.data = ok;
	v.size = BLIND_TAGBYTES;
	v.data = (void *)tag;
	if ((rc = store_put(txn, STORE_BLIND_OF, &k, &v, 0)) != 0)
		return rc;
	rec[0] = 1; /* format */
	rec[1] = (uint8_t)rl;
	memcpy(rec + 2, reg, rl);
	k.size = entry_key(ek, tag, sid, (const uint8_t *)field, fl);
	k.data = ek;
	v.size = 2 + rl;
	v.data = rec;
	return store_put(txn, STORE_BLIND, &k, &v, 0);
}

int
blind_del(store *st, store_txn *txn, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES],
    const char *field)
{
	uint8_t ok[STORE_VALUE_KEYMAX], ek[ENTRY_KEYMAX];
	store_val k, v;
	int rc;

	k.size = of_key(ok, sid, field);
	k.data = ok;
	if ((rc = store_get(txn, STORE_BLIND_OF, &k, &v)) != 0)
		return rc == STORE_NOTFOUND ? 0 : rc;
	if (v.size == BLIND_TAGBYTES) {
		k.size = entry_key(
		    ek, v.data, sid, (const uint8_t *)field, strlen(field));
		k.data = ek;
		if ((rc = store_del(txn, STORE_BLIND, &k)) != 0 &&
		    rc != STORE_NOTFOUND)
			return rc;
	}
	k.size = of_key(ok, sid, field);
	k.data = ok;
	rc = store_del(txn, STORE_BLIND_OF, &k);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
blind_del_subject(
    store *st, store_txn *txn, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES])
{
	uint8_t ek[ENTRY_KEYMAX];
	store_cur *c;
	store_val k = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v, e;
	size_t fl;
	int rc;

	if ((rc = store_cur_open(txn, STORE_BLIND_OF, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_SET_RANGE);
	while (rc == 0 && k.size > CRYPTO_SUBJECT_IDBYTES &&
	       memcmp(k.data, sid, CRYPTO_SUBJECT_IDBYTES) == 0) {
		fl = k.size - CRYPTO_SUBJECT_IDBYTES;
		if (v.size == BLIND_TAGBYTES && fl <= POL_MAX_NAME) {
			e.size = entry_key(ek, v.data, sid,
			    (const uint8_t *)k.data + CRYPTO_SUBJECT_IDBYTES,
			    fl);
			e.data = ek;
			if ((rc = store_del(txn, STORE_BLIND, &e)) != 0 &&
			    rc != STORE_NOTFOUND)
				break;
		}
		if ((rc = store_cur_del(c)) != 0)
			break;
		/* after a delete, STORE_NEXT yields the item that followed */
		rc = store_cur_get(c, &k, &v, STORE_NEXT);
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
blind_find(store *st, store_txn *txn, const uint8_t tag[BLIND_TAGBYTES],
    int (*fn)(void *arg, const blind_match *m), void *arg)
{
	store_cur *c;
	store_val k = {BLIND_TAGBYTES, (void *)tag}, v;
	blind_match m;
	const uint8_t *p;
	int rc;

	if ((rc = store_cur_open(txn, STORE_BLIND, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_SET_RANGE);
	while (rc == 0 && k.size >= BLIND_TAGBYTES &&
	       memcmp(k.data, tag, BLIND_TAGBYTES) == 0) {
		p = v.data;
		if (k.size > BLIND_TAGBYTES + CRYPTO_SUBJECT_IDBYTES &&
		    v.size >= 3 && p[0] == 1 && p[1] > 0 &&
		    (size_t)p[1] + 2 == v.size) {
			m.sid = (const uint8_t *)k.data + BLIND_TAGBYTES;
			m.field = (const char *)m.sid + CRYPTO_SUBJECT_IDBYTES;
			m.fieldlen =
			    k.size - BLIND_TAGBYTES - CRYPTO_SUBJECT_IDBYTES;
			m.reg = (const char *)p + 2;
			m.reglen = p[1];
			if ((rc = fn(arg, &m)) != 0)
				break;
		}
		rc = store_cur_get(c, &k, &v, STORE_NEXT);
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}
