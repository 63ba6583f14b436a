/*
 * substate.c - subject states and the erasure journal (substate.h).
 */
#include "substate.h"

#include "retstore.h"

#include <stdio.h>
#include <string.h>

#define SS_FORMAT   1
#define SS_PLAINMAX (1 + POL_MAX_PURPOSES * (1 + POL_MAX_NAME))

int
substate_get(store *st, store_txn *txn, const crypto_keys *k,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], subj_state *out)
{
	uint8_t plain[SS_PLAINMAX];
	store_val key = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	const uint8_t *p;
	size_t len, off, n;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_get(txn, STORE_SUBJ_STATE, &key, &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	p = v.data;
	if (v.size < 1 + CRYPTO_SEAL_OVERHEAD + 1 || p[0] != SS_FORMAT ||
	    (len = v.size - 1 - CRYPTO_SEAL_OVERHEAD) > sizeof(plain) ||
	    crypto_bound_open(k, "subject-state", sid, CRYPTO_SUBJECT_IDBYTES,
	        p + 1, v.size - 1, plain) != 0)
		return STORE_CORRUPTED;
	out->restricted = plain[0] != 0;
	for (off = 1; off < len; off += 1 + n) {
		n = plain[off];
		if (n == 0 || n > POL_MAX_NAME || off + 1 + n > len ||
		    out->nobjections == POL_MAX_PURPOSES) {
			rc = STORE_CORRUPTED;
			break;
		}
		memcpy(out->objections[out->nobjections], plain + off + 1, n);
		out->objections[out->nobjections++][n] = '\0';
	}
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
substate_put(store *st, store_txn *txn, const crypto_keys *k,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const subj_state *s)
{
	uint8_t plain[SS_PLAINMAX], *p;
	store_val key = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	size_t len = 1, i, n;
	int rc;

	if (!s->restricted && s->nobjections == 0)
		return substate_del(st, txn, sid);
	plain[0] = s->restricted;
	for (i = 0; i < s->nobjections; i++) {
		n = strlen(s->objections[i]);
		plain[len] = (uint8_t)n;
		memcpy(plain + len + 1, s->objections[i], n);
		len += 1 + n;
	}
	v.size = 1 + len + CRYPTO_SEAL_OVERHEAD;
	if ((rc = store_put(txn, STORE_SUBJ_STATE, &key, &v, STORE_RESERVE)) ==
	    0) {
		p = v.data;
		p[0] = SS_FORMAT;
		crypto_bound_seal(k, "subject-state", sid,
		    CRYPTO_SUBJECT_IDBYTES, plain, len, p + 1);
	}
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
substate_del(
    store *st, store_txn *txn, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES])
{
	store_val key = {CRYPTO_SUBJECT_IDBYTES, (void *)sid};
	int rc;

	rc = store_del(txn, STORE_SUBJ_STATE, &key);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

bool
substate_objects(const subj_state *s, const char *purpose)
{
	size_t i;

	for (i = 0; i < s->nobjections; i++)
		if (strcmp(s->objections[i], purpose) == 0)
			return true;
	return false;
}

bool
substate_object(subj_state *s, const char *purpose, bool on)
{
	size_t i;

	for (i = 0; i < s->nobjections; i++)
		if (strcmp(s->objections[i], purpose) == 0)
			break;
	if (on) {
		if (i < s->nobjections || s->nobjections == POL_MAX_PURPOSES)
			return false;
		snprintf(s->objections[s->nobjections++],
		    sizeof(s->objections[0]), "%s", purpose);
		return true;
	}
	if (i == s->nobjections)
		return false;
	memmove(s->objections[i], s->objections[i + 1],
	    (s->nobjections - i - 1) * sizeof(s->objections[0]));
	s->nobjections--;
	return true;
}

void
substate_decide(
    const subj_state *s, const pol_register *r, pol_subject_state *out)
{
	const pol_purpose *pu;
	size_t i;

	out->restricted = s->restricted;
	out->objected = 0;
	for (i = 0; i < s->nobjections; i++)
		if ((pu = pol_purpose_find(r, s->objections[i])) != NULL)
			out->objected |= UINT64_C(1) << pu->index;
}

int
substate_count(store *st, store_txn *txn, uint64_t *n)
{
	return store_count(txn, STORE_SUBJ_STATE, n);
}

int
journal_append(store *st, store_txn *txn, uint64_t t, int kind,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *reg,
    const char *const *fields, size_t n)
{
	uint8_t kb[8], *p;
	store_cur *c;
	store_val k = {8, kb}, v;
	uint64_t seq = 1;
	size_t len, i, rl = strlen(reg);
	int rc;

	if ((rc = store_cur_open(txn, STORE_ERASURES, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_LAST);
	if (rc == 0 && k.size == 8)
		seq = store_get_be64(k.data) + 1;
	store_cur_close(c);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	len = 1 + 8 + 1 + CRYPTO_SUBJECT_IDBYTES + 1 + rl + 2;
	for (i = 0; i < n; i++)
		len += 1 + strlen(fields[i]);
	store_be64(kb, seq);
	k.size = 8;
	k.data = kb;
	v.size = len;
	if ((rc = store_put(txn, STORE_ERASURES, &k, &v,
	         STORE_RESERVE | STORE_APPEND)) != 0)
		return rc;
	p = v.data;
	*p++ = 1; /* format */
	store_be64(p, t);
	p += 8;
	*p++ = (uint8_t)kind;
	memcpy(p, sid, CRYPTO_SUBJECT_IDBYTES);
	p += CRYPTO_SUBJECT_IDBYTES;
	*p++ = (uint8_t)rl;
	memcpy(p, reg, rl);
	p += rl;
	*p++ = (uint8_t)(n >> 8);
	*p++ = (uint8_t)n;
	for (i = 0; i < n; i++) {
		size_t fl = strlen(fields[i]);

		*p++ = (uint8_t)fl;
		memcpy(p, fields[i], fl);
		p += fl;
	}
	return 0;
}

const char *
journal_kind_name(int kind)
{
	switch (kind) {
	case JOURNAL_ERASE:
		return "erase";
	case JOURNAL_DELETE:
		return "delete";
	case JOURNAL_RETENTION:
		return "retention";
	case JOURNAL_RESTRICTED:
		return "restricted";
	case JOURNAL_STATE:
		return "state";
	}
	return NULL;
}

int
journal_decode(const store_val *k, const store_val *v, journal_entry *out)
{
	const uint8_t *p = v->data, *end = p + v->size;
	size_t rl, fl, i;

	if (k->size != 8 || v->size < 1 + 8 + 1 + CRYPTO_SUBJECT_IDBYTES + 1 ||
	    p[0] != 1)
		return STORE_CORRUPTED;
	out->seq = store_get_be64(k->data);
	out->time_us = store_get_be64(p + 1);
	out->kind = p[9];
	if (journal_kind_name(out->kind) == NULL)
		return STORE_CORRUPTED;
	out->sid = p + 10;
	p += 10 + CRYPTO_SUBJECT_IDBYTES;
	rl = *p++;
	if (rl == 0 || rl > POL_MAX_NAME || (size_t)(end - p) < rl + 2)
		return STORE_CORRUPTED;
	memcpy(out->reg, p, rl);
	out->reg[rl] = '\0';
	p += rl;
	out->nfields = (size_t)p[0] << 8 | p[1];
	p += 2;
	if (out->nfields > POL_MAX_FIELDS)
		return STORE_CORRUPTED;
	for (i = 0; i < out->nfields; i++) {
		if (p >= end || (fl = *p++) == 0 || fl > POL_MAX_NAME ||
		    (size_t)(end - p) < fl)
			return STORE_CORRUPTED;
		memcpy(out->fields[i], p, fl);
		out->fields[i][fl] = '\0';
		p += fl;
	}
	return p == end ? 0 : STORE_CORRUPTED;
}

int
journal_head(store *st, store_txn *txn, uint64_t *seq)
{
	store_cur *c;
	store_val k, v;
	int rc;

	*seq = 0;
	if ((rc = store_cur_open(txn, STORE_ERASURES, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_LAST);
	if (rc == 0 && k.size == 8)
		*seq = store_get_be64(k.data);
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

int
store_forget(store *st, store_txn *txn, const char *reg,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *const *fields,
    size_t n)
{
	unsigned gone;
	size_t i;
	int rc;

	if (n == 0) {
		rc = store_subject_delete(st, txn, sid, &gone);
		if ((rc != 0 && rc != STORE_NOTFOUND) ||
		    (rc = ret_plan_drop_subject(st, txn, sid)) != 0 ||
		    (rc = ret_sub_del(st, txn, reg, sid)) != 0 ||
		    (rc = substate_del(st, txn, sid)) != 0)
			return rc;
		return 0;
	}
	for (i = 0; i < n; i++)
		if ((rc = store_value_del(st, txn, sid, fields[i])) != 0 ||
		    (rc = ret_plan_set(
		         st, txn, reg, sid, fields[i], RET_NEVER)) != 0)
			return rc;
	return 0;
}
