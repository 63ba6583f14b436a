/*
 * substate.c - subject states and the erasure journal (substate.h).
 */
#include "substate.h"

#include <stdio.h>
#include <string.h>

#define SS_FORMAT 1
#define SS_PLAINMAX (1 + POL_MAX_PURPOSES * (1 + POL_MAX_NAME))

int
substate_get(store *st, MDB_txn *txn, const crypto_keys *k,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], subj_state *out)
{
	uint8_t plain[SS_PLAINMAX];
	MDB_val key = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
	const uint8_t *p;
	size_t len, off, n;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = mdb_get(txn, st->subj_state, &key, &v)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	p = v.mv_data;
	if (v.mv_size < 1 + CRYPTO_SEAL_OVERHEAD + 1 || p[0] != SS_FORMAT ||
	    (len = v.mv_size - 1 - CRYPTO_SEAL_OVERHEAD) > sizeof(plain) ||
	    crypto_bound_open(k, "subject-state", sid, CRYPTO_SUBJECT_IDBYTES,
	        p + 1, v.mv_size - 1, plain) != 0)
		return MDB_CORRUPTED;
	out->restricted = plain[0] != 0;
	for (off = 1; off < len; off += 1 + n) {
		n = plain[off];
		if (n == 0 || n > POL_MAX_NAME || off + 1 + n > len ||
		    out->nobjections == POL_MAX_PURPOSES) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(out->objections[out->nobjections], plain + off + 1, n);
		out->objections[out->nobjections++][n] = '\0';
	}
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
substate_put(store *st, MDB_txn *txn, const crypto_keys *k,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const subj_state *s)
{
	uint8_t plain[SS_PLAINMAX], *p;
	MDB_val key = {CRYPTO_SUBJECT_IDBYTES, (void *)sid}, v;
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
	v.mv_size = 1 + len + CRYPTO_SEAL_OVERHEAD;
	if ((rc = mdb_put(txn, st->subj_state, &key, &v, MDB_RESERVE)) == 0) {
		p = v.mv_data;
		p[0] = SS_FORMAT;
		crypto_bound_seal(k, "subject-state", sid,
		    CRYPTO_SUBJECT_IDBYTES, plain, len, p + 1);
	}
	sodium_memzero(plain, sizeof(plain));
	return rc;
}

int
substate_del(store *st, MDB_txn *txn, const uint8_t sid[CRYPTO_SUBJECT_IDBYTES])
{
	MDB_val key = {CRYPTO_SUBJECT_IDBYTES, (void *)sid};
	int rc;

	rc = mdb_del(txn, st->subj_state, &key, NULL);
	return rc == MDB_NOTFOUND ? 0 : rc;
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
substate_count(store *st, MDB_txn *txn, uint64_t *n)
{
	MDB_stat ms;
	int rc;

	if ((rc = mdb_stat(txn, st->subj_state, &ms)) != 0)
		return rc;
	*n = ms.ms_entries;
	return 0;
}

int
journal_append(store *st, MDB_txn *txn, uint64_t t, int kind,
    const uint8_t sid[CRYPTO_SUBJECT_IDBYTES], const char *reg,
    const char *const *fields, size_t n)
{
	uint8_t kb[8], *p;
	MDB_cursor *c;
	MDB_val k = {8, kb}, v;
	uint64_t seq = 1;
	size_t len, i, rl = strlen(reg);
	int rc;

	if ((rc = mdb_cursor_open(txn, st->erasures, &c)) != 0)
		return rc;
	rc = mdb_cursor_get(c, &k, &v, MDB_LAST);
	if (rc == 0 && k.mv_size == 8)
		seq = store_get_be64(k.mv_data) + 1;
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return rc;
	len = 1 + 8 + 1 + CRYPTO_SUBJECT_IDBYTES + 1 + rl + 2;
	for (i = 0; i < n; i++)
		len += 1 + strlen(fields[i]);
	store_be64(kb, seq);
	k.mv_size = 8;
	k.mv_data = kb;
	v.mv_size = len;
	if ((rc = mdb_put(txn, st->erasures, &k, &v, MDB_RESERVE | MDB_APPEND)) !=
	    0)
		return rc;
	p = v.mv_data;
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
