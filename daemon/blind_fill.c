/*
 * blind_fill.c - index the lookup values of a store made before the blind
 * index (blind.h), once, when privd starts on it.
 *
 * A store is marked "blind_index" in meta when every lookup value in it is
 * indexed: at init, and here when the fill is done. Without the mark (a
 * store from before the index, or a policy change that made a field a
 * lookup field, or no longer one, or changed its type: blind_reset
 * empties the index then), every subject that has a retention record
 * (which holds its subject id, sealed: retstore.h) has its lookup fields
 * opened and indexed under the policy in force, FILL_STEP subjects per
 * write transaction of the writer, between batches of requests; meta
 * "blind_fill_at" holds where the next step begins, so a restart goes on
 * from there (an entry already there is left as it is). Until the mark is
 * set, lookups answer UNAVAILABLE. Subjects from before retention records
 * (retention_records, writer.c) are indexed when next written.
 */
#include <errno.h>
#include <string.h>

#include "blind.h"
#include "log.h"
#include "retstore.h"
#include "snapshot.h"
#include "worker.h"

#define FILL_STEP 256

/* Index the lookup fields of one subject; 1 if something was indexed, 0
 * if not, or a store error. A damaged record is skipped (and counted). */
static int
fill_subject(store *st, store_txn *txn, const crypto_keys *k,
    const pol_register *r, const uint8_t *sid, unsigned *damaged)
{
	uint8_t dk[CRYPTO_KEYBYTES], tag[BLIND_TAGBYTES], *m = NULL;
	store_subject sub;
	store_value sv;
	ret_sub rs;
	size_t i, mlen;
	int rc, done = 0;

	memset(&rs, 0, sizeof(rs));
	rc = ret_sub_get(st, txn, k, r->name, sid, &rs);
	if (rc == STORE_CORRUPTED) {
		(*damaged)++;
		return 0;
	}
	if (rc != 0)
		return rc == STORE_NOTFOUND ? 0 : rc;
	if ((rc = store_subject_get(st, txn, sid, &sub)) != 0) {
		sodium_memzero(&rs, sizeof(rs));
		return rc == STORE_NOTFOUND ? 0 : rc;
	}
	if (subject_unwrap(k, r->name, rs.subject, &sub, dk) != 0) {
		(*damaged)++;
		rc = 0;
		goto out;
	}
	for (i = 0; i < r->nfields; i++) {
		const pol_field *f = &r->fields[i];

		if (!f->lookup)
			continue;
		rc = store_value_get(st, txn, sid, f->name, &sv);
		if (rc == STORE_NOTFOUND)
			continue;
		if (rc == STORE_CORRUPTED ||
		    sv.sealedlen < CRYPTO_SEAL_OVERHEAD) {
			(*damaged)++;
			continue;
		}
		if (rc != 0)
			goto out;
		mlen = sv.sealedlen - CRYPTO_SEAL_OVERHEAD;
		if ((m = sodium_malloc(mlen ? mlen : 1)) == NULL) {
			rc = ENOMEM;
			goto out;
		}
		if (crypto_value_open(dk, r->name, (const uint8_t *)rs.subject,
		        rs.subjlen, f->name, sv.hdr, sv.hdrlen, sv.sealed,
		        sv.sealedlen, m) != 0) {
			(*damaged)++;
		} else if (blind_tag(k, f, m, mlen, tag) == 0) {
			if ((rc = blind_put(
			         st, txn, tag, sid, r->name, f->name)) != 0)
				goto out;
			done = 1;
		}
		sodium_free(m);
		m = NULL;
	}
	rc = done;
out:
	if (m != NULL)
		sodium_free(m);
	sodium_memzero(dk, sizeof(dk));
	sodium_memzero(&rs, sizeof(rs));
	return rc;
}

int
blind_fill_step(store *st, store_txn *txn, const crypto_keys *k,
    const pol_policy *pol, uint64_t *subjects, unsigned *damaged, bool *done)
{
	uint8_t resume[RET_SUB_KEYMAX];
	size_t resumelen = 0, n;
	store_cur *c = NULL;
	store_val key, v;
	char reg[POL_MAX_NAME + 1];
	const pol_register *r;
	const uint8_t *p;
	int rc;

	*done = false;
	rc = store_meta_get(st, txn, "blind_fill_at", &v);
	if (rc == 0 && v.size > 0 && v.size <= sizeof(resume)) {
		memcpy(resume, v.data, v.size);
		resumelen = v.size;
	} else if (rc != 0 && rc != STORE_NOTFOUND) {
		return rc;
	}
	if ((rc = store_cur_open(txn, STORE_RET_SUB, &c)) != 0)
		return rc;
	key.size = resumelen;
	key.data = resume;
	rc = resumelen == 0 ? store_cur_get(c, &key, &v, STORE_FIRST)
	                    : store_cur_get(c, &key, &v, STORE_SET_RANGE);
	if (rc == 0 && resumelen > 0 && key.size == resumelen &&
	    memcmp(key.data, resume, resumelen) == 0)
		rc = store_cur_get(c, &key, &v, STORE_NEXT);
	for (n = 0; rc == 0 && n < FILL_STEP; n++) {
		p = key.data;
		if (key.size > 1 &&
		    key.size == 1u + p[0] + CRYPTO_SUBJECT_IDBYTES &&
		    p[0] <= POL_MAX_NAME) {
			memcpy(reg, p + 1, p[0]);
			reg[p[0]] = '\0';
			if ((r = pol_register_find(pol, reg)) != NULL) {
				rc = fill_subject(
				    st, txn, k, r, p + 1 + p[0], damaged);
				if (rc < 0 || rc > 1)
					goto out;
				*subjects += (uint64_t)rc;
			}
		}
		memcpy(resume, key.data, key.size);
		resumelen = key.size;
		rc = store_cur_get(c, &key, &v, STORE_NEXT);
	}
	store_cur_close(c);
	c = NULL;
	if (rc == STORE_NOTFOUND) {
		*done = true;
		rc = store_meta_del(st, txn, "blind_fill_at");
		if (rc == 0 || rc == STORE_NOTFOUND)
			rc = store_meta_put_u64(st, txn, "blind_index", 1);
		return rc;
	}
	if (rc != 0)
		return rc;
	return store_meta_put(st, txn, "blind_fill_at", resume, resumelen);
out:
	if (c != NULL)
		store_cur_close(c);
	return rc;
}

int
blind_ready(store *st, store_txn *txn, bool *ready)
{
	uint64_t mark = 0;
	int rc;

	rc = store_meta_get_u64(st, txn, "blind_index", 0, &mark);
	*ready = mark != 0;
	return rc;
}

int
blind_reset(store *st, store_txn *txn)
{
	int rc;

	if ((rc = store_drop(txn, STORE_BLIND)) != 0 ||
	    (rc = store_drop(txn, STORE_BLIND_OF)) != 0)
		return rc;
	rc = store_meta_del(st, txn, "blind_fill_at");
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	return store_meta_put_u64(st, txn, "blind_index", 0);
}

bool
blind_policy_changed(const pol_policy *a, const pol_policy *b)
{
	const pol_register *ra, *rb;
	const pol_field *fa, *fb;
	size_t i, k;

	/* every lookup field of a: the same in b; and b has no other */
	for (i = 0; i < a->nregisters; i++) {
		ra = &a->registers[i];
		rb = pol_register_find(b, ra->name);
		for (k = 0; k < ra->nfields; k++) {
			fa = &ra->fields[k];
			fb = rb != NULL ? pol_field_find(rb, fa->name) : NULL;
			if (fa->lookup &&
			    (fb == NULL || !fb->lookup || fb->type != fa->type))
				return true;
		}
	}
	for (i = 0; i < b->nregisters; i++) {
		rb = &b->registers[i];
		ra = pol_register_find(a, rb->name);
		for (k = 0; k < rb->nfields; k++) {
			fb = &rb->fields[k];
			fa = ra != NULL ? pol_field_find(ra, fb->name) : NULL;
			if (fb->lookup && (fa == NULL || !fa->lookup))
				return true;
		}
	}
	return false;
}
