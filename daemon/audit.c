/*
 * audit.c - the writer's side of the audit log: append, chain, checkpoints,
 * load and prune; see audit.h. The workers' side (queries and the
 * checkpoint listing) is audit_query.c.
 */
#include "audit.h"

#include <stdlib.h>
#include <string.h>

#include "audit_index.h"
#include "log.h"

#define ST(x)  PRIVD__V1__STATUS__##x
#define DEC(x) PRIVD__V1__DECISION__##x

static const char ckpt_domain[25] = "privd-audit-checkpoint-v1";

void
audit_ckpt_message(uint64_t seq, const uint8_t hash[AUDIT_HASHBYTES],
    uint64_t time_us, uint8_t out[AUDIT_CKPT_MSGBYTES])
{
	memcpy(out, ckpt_domain, sizeof(ckpt_domain));
	store_be64(out + 25, seq);
	memcpy(out + 33, hash, AUDIT_HASHBYTES);
	store_be64(out + 33 + AUDIT_HASHBYTES, time_us);
}

/* The oldest (STORE_FIRST) or newest (STORE_LAST) event kept. */
static int
audit_end(store *st, store_txn *txn, store_op op, uint64_t *seq, store_val *rec)
{
	store_cur *c;
	store_val k;
	int rc;

	if ((rc = store_cur_open(txn, STORE_AUDIT, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, rec, op);
	store_cur_close(c);
	if (rc != 0)
		return rc;
	if (k.size != 8)
		return STORE_CORRUPTED;
	*seq = store_get_be64(k.data);
	return 0;
}

int
audit_first(store *st, store_txn *txn, uint64_t *seq, store_val *rec)
{
	return audit_end(st, txn, STORE_FIRST, seq, rec);
}

int
audit_last(store *st, store_txn *txn, uint64_t *seq, store_val *rec)
{
	return audit_end(st, txn, STORE_LAST, seq, rec);
}

int
audit_load(store *st, store_txn *txn, audit_state *a)
{
	store_cur *c;
	store_val k, v;
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = store_cur_open(txn, STORE_AUDIT, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_LAST);
	store_cur_close(c);
	if (rc == 0) {
		Privd__V1__AuditEvent *ev;

		/* without the newest hash the chain cannot go on */
		if (k.size != 8 || v.size < AUDIT_HASHBYTES)
			return STORE_CORRUPTED;
		a->seq = store_get_be64(k.data);
		memcpy(a->hash, v.data, AUDIT_HASHBYTES);
		ev = privd__v1__audit_event__unpack(NULL,
		    v.size - AUDIT_HASHBYTES,
		    (uint8_t *)v.data + AUDIT_HASHBYTES);
		if (ev != NULL) {
			a->time_us = ev->time_us;
			privd__v1__audit_event__free_unpacked(ev, NULL);
		} else {
			/* its time is unknown: the last checkpoint's bounds
			 * it (below); the damage stays for verify to report */
			log_err("audit: the newest event (%llu) is damaged; "
			        "the chain goes on from its stored hash",
			    (unsigned long long)a->seq);
		}
	} else if (rc != STORE_NOTFOUND) {
		return rc;
	}
	if ((rc = store_cur_open(txn, STORE_AUDIT_CKPT, &c)) != 0)
		return rc;
	rc = store_cur_get(c, &k, &v, STORE_LAST);
	store_cur_close(c);
	if (rc == 0 && k.size == 8 && v.size == AUDIT_CKPT_RECBYTES) {
		a->ckpt_seq = store_get_be64(k.data);
		if (store_get_be64(v.data) > a->time_us)
			a->time_us = store_get_be64(v.data);
		if (a->seq == 0 && a->ckpt_seq > 0) {
			/* everything was pruned: continue from the checkpoint
			 */
			a->seq = a->ckpt_seq;
			memcpy(a->hash, (uint8_t *)v.data + 8, AUDIT_HASHBYTES);
		}
	} else if (rc != 0 && rc != STORE_NOTFOUND) {
		return rc;
	}
	return 0;
}

/* What the policy decided, as the reply's status tells it. */
static int
decision_of(int status)
{
	switch (status) {
	case ST(OK):
	case ST(NOT_FOUND):
	case ST(CONFLICT):
	case ST(RETAINED):
		return DEC(ALLOWED);
	case ST(DENIED):
		return DEC(REFUSED);
	case ST(INVALID):
	case ST(TOO_LARGE):
	/* not carried out because of the request itself: its deadline */
	case ST(EXPIRED):
		return DEC(REJECTED);
	default:
		return DEC(FAILED);
	}
}

/*
 * The event is packed straight into the page LMDB reserves for it, and
 * hashed there: no intermediate buffer on the write path.
 */
int
audit_append(store *st, store_txn *txn, audit_state *a, job *j, uint64_t now)
{
	j->ev.status = j->status;
	j->ev.reason = j->status == ST(DENIED) ? j->reason : 0;
	return audit_append_event(st, txn, a, &j->ev, now);
}

int
audit_append_event(store *st, store_txn *txn, audit_state *a,
    Privd__V1__AuditEvent *ev, uint64_t now)
{
	crypto_generichash_state h;
	uint8_t kb[8], *p;
	store_val k = {8, kb}, v;
	size_t n;
	int rc;

	ev->seq = a->seq + 1;
	ev->time_us = now > a->time_us ? now : a->time_us;
	ev->decision = decision_of(ev->status);
	n = privd__v1__audit_event__get_packed_size(ev);
	store_be64(kb, ev->seq);
	v.size = AUDIT_HASHBYTES + n;
	if ((rc = store_put(
	         txn, STORE_AUDIT, &k, &v, STORE_RESERVE | STORE_APPEND)) != 0)
		return rc;
	p = v.data;
	privd__v1__audit_event__pack(ev, p + AUDIT_HASHBYTES);
	crypto_generichash_init(&h, NULL, 0, AUDIT_HASHBYTES);
	crypto_generichash_update(&h, a->hash, AUDIT_HASHBYTES);
	crypto_generichash_update(&h, p + AUDIT_HASHBYTES, n);
	crypto_generichash_final(&h, p, AUDIT_HASHBYTES);
	a->seq = ev->seq;
	a->time_us = ev->time_us;
	memcpy(a->hash, p, AUDIT_HASHBYTES);
	return 0;
}

int
audit_checkpoint(
    store *st, store_txn *txn, audit_state *a, const uint8_t *sign_sk)
{
	uint8_t kb[8], rec[AUDIT_CKPT_RECBYTES], msg[AUDIT_CKPT_MSGBYTES];
	store_val k = {8, kb}, v = {sizeof(rec), rec};
	int rc;

	if (a->seq == 0 || a->seq <= a->ckpt_seq)
		return 0;
	audit_ckpt_message(a->seq, a->hash, a->time_us, msg);
	store_be64(rec, a->time_us);
	memcpy(rec + 8, a->hash, AUDIT_HASHBYTES);
	crypto_sign_detached(
	    rec + 8 + AUDIT_HASHBYTES, NULL, msg, sizeof(msg), sign_sk);
	store_be64(kb, a->seq);
	if ((rc = store_put(txn, STORE_AUDIT_CKPT, &k, &v, 0)) != 0)
		return rc;
	a->ckpt_seq = a->seq;
	return 0;
}

bool
audit_is_key_rotation(store *st, store_txn *txn, uint64_t seq)
{
	Privd__V1__AuditEvent *ev;
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	bool is;

	store_be64(kb, seq);
	if (store_get(txn, STORE_AUDIT, &k, &v) != 0 ||
	    v.size < AUDIT_HASHBYTES)
		return false;
	ev = privd__v1__audit_event__unpack(NULL, v.size - AUDIT_HASHBYTES,
	    (uint8_t *)v.data + AUDIT_HASHBYTES);
	if (ev == NULL)
		return false;
	is = strcmp(ev->op, AUDIT_OP_KEY_ROTATE) == 0 &&
	     strcmp(ev->principal, AUDIT_KEY_PRINCIPAL) == 0;
	privd__v1__audit_event__free_unpacked(ev, NULL);
	return is;
}

/*
 * The chain must stay verifiable after every call, since each runs in its
 * own transaction: events are deleted only up to a signed checkpoint C whose
 * time is before the cutoff, C itself is kept as the start of what remains,
 * and older checkpoints go with their events. To bound one call's work, C is
 * the newest such checkpoint within AUDIT_PRUNE_CHUNK events of the oldest
 * event (or the first one after it, if checkpoints are further apart).
 * A rotation of the signing key's checkpoint is never C: it is signed by
 * the old key, and the kept chain's start must be signed by the key that
 * signs what follows it, so the rotation goes with the next checkpoint.
 */
int
audit_prune(
    store *st, store_txn *txn, uint64_t cutoff_us, size_t *pruned, bool *more)
{
	store_cur *c = NULL;
	store_val k, v;
	uint64_t first, upto = 0, seq;
	size_t n = 0;
	int rc;

	*pruned = 0;
	*more = false;
	if ((rc = audit_first(st, txn, &first, &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;

	if ((rc = store_cur_open(txn, STORE_AUDIT_CKPT, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size != 8 || v.size != AUDIT_CKPT_RECBYTES ||
		    store_get_be64(v.data) >= cutoff_us)
			break;
		seq = store_get_be64(k.data);
		if (seq < first)
			continue; /* the current start, or already pruned */
		if (upto != 0 && seq - first >= AUDIT_PRUNE_CHUNK) {
			*more = true; /* the next call goes on from upto */
			break;
		}
		if (audit_is_key_rotation(st, txn, seq))
			continue;
		upto = seq;
	}
	store_cur_close(c);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	if (upto == 0)
		return 0;

	if ((rc = store_cur_open(txn, STORE_AUDIT, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST);
	     rc == 0 && store_get_be64(k.data) <= upto;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if ((rc = store_cur_del(c)) != 0)
			break;
		n++;
	}
	store_cur_close(c);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	if ((rc = audit_ix_prune(st, txn, upto)) != 0)
		return rc;

	if ((rc = store_cur_open(txn, STORE_AUDIT_CKPT, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST);
	     rc == 0 && store_get_be64(k.data) < upto;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if ((rc = store_cur_del(c)) != 0)
			break;
	}
	store_cur_close(c);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	*pruned = n;
	return 0;
}
