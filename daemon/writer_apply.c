/*
 * writer_apply.c - what each kind of job changes in the writer's
 * transaction (puts, policies, prune confirmations; deletes and the
 * retention operations are writer_retention.c), what takes
 * effect after the commit, and the replies of the jobs the writer
 * finishes. The group commit around them is writer.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit_retain.h"
#include "blind.h"
#include "log.h"
#include "replan.h"
#include "server.h"
#include "worker.h"
#include "writer_internal.h"
#include "writer_nodes.h"

#define ST(x) PRIVD__V1__STATUS__##x

/*
 * The worker sealed the values under the subject key it saw, with the
 * first-write times it read from records it authenticated. If the key
 * changed since (another put created the subject first, or a delete removed
 * it), or a field's stored record did (it was deleted, or written by another
 * put), seal them again: never store a value under a key that is not the
 * subject's, never bring back the key of a deleted subject, and never take
 * a first-write time from a record that was not authenticated. A record is
 * the one the worker saw if its id (store_value_id) is the same; any other
 * is authenticated here, which is rare.
 */
static int
put_reconcile(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	server *srv = wr->srv;
	const char *subj = j->req->put->subject;
	uint8_t id[STORE_VALUE_IDBYTES];
	store_subject cur;
	store_value sv;
	bool reseal = false, have_key = false;
	job_value *jv;
	size_t i;
	int rc;

	rc = store_subject_get(srv->st, txn, j->sid, &cur);
	if (rc == STORE_NOTFOUND) {
		if (!j->new_key) {
			subject_new_key(srv->keys, j->reg->name, subj, now,
			    wr->dk, &j->subject);
			j->new_key = true;
			for (i = 0; i < j->nvalues; i++)
				j->values[i].created_us = 0;
			if (put_seal(srv->keys, j, wr->dk, now) != 0)
				goto nomem;
		}
		return store_subject_put(srv->st, txn, j->sid, &j->subject);
	}
	if (rc != 0)
		goto damaged;
	if (memcmp(cur.wrapped, j->subject.wrapped, sizeof(cur.wrapped)) != 0 ||
	    cur.created_us != j->subject.created_us) {
		j->subject = cur;
		j->new_key = false;
		reseal = true;
	}
	for (i = 0; i < j->nvalues; i++) {
		jv = &j->values[i];
		rc = store_value_get(srv->st, txn, j->sid, jv->field, &sv);
		if (rc == STORE_NOTFOUND) {
			reseal = reseal || jv->created_us != 0;
			jv->created_us = 0;
			jv->had_old = false;
			continue;
		}
		if (rc != 0)
			goto damaged;
		store_value_id(&sv, id);
		if (jv->had_old &&
		    sodium_memcmp(id, jv->old_id, sizeof(id)) == 0)
			continue; /* the record the worker authenticated */
		if (!have_key) {
			if (subject_unwrap(srv->keys, j->reg->name, subj,
			        &j->subject, wr->dk) != 0)
				goto damaged;
			have_key = true;
		}
		if (value_authentic(wr->dk, j, subj, jv->field, &sv) != 0)
			goto damaged;
		reseal = reseal || jv->created_us != sv.created_us;
		jv->created_us = sv.created_us;
		jv->had_old = true;
		memcpy(jv->old_id, id, sizeof(id));
	}
	if (!reseal)
		return 0;
	if (!have_key && subject_unwrap(srv->keys, j->reg->name, subj,
	                     &j->subject, wr->dk) != 0)
		goto damaged;
	if (put_seal(srv->keys, j, wr->dk, now) != 0)
		goto nomem;
	return 0;
damaged:
	log_err("register %s: a stored subject key or value does not "
	        "authenticate",
	    j->reg->name);
	job_fail(j, ST(INTERNAL), 0, "stored data failed an integrity check");
	return JOB_FAILED;
nomem:
	job_fail(j, ST(INTERNAL), 0, "out of memory");
	return JOB_FAILED;
}

/* Keys to read ahead in one table, in one store_prefetch (PostgreSQL:
 * one statement for them all). Room for n keys of up to max bytes. */
typedef struct ahead {
	store_val *k;
	uint8_t *buf;
	size_t n, cap, max;
} ahead;

static int
ahead_init(ahead *a, size_t cap, size_t max)
{
	a->n = 0;
	a->cap = cap;
	a->max = max;
	a->k = calloc(cap ? cap : 1, sizeof(*a->k));
	a->buf = malloc((cap ? cap : 1) * max);
	return a->k != NULL && a->buf != NULL ? 0 : ENOMEM;
}

/* Room for the next key (max bytes), or NULL. */
static uint8_t *
ahead_room(ahead *a)
{
	return a->n < a->cap ? a->buf + a->n * a->max : NULL;
}

static void
ahead_add(ahead *a, const void *key, size_t len)
{
	uint8_t *p = ahead_room(a);

	if (p == NULL || len > a->max)
		return;
	if (p != key)
		memcpy(p, key, len);
	a->k[a->n].size = len;
	a->k[a->n].data = p;
	a->n++;
}

static int
ahead_send(store_txn *txn, store_tbl tb, ahead *a)
{
	int rc = a->n > 0 ? store_prefetch(txn, tb, a->k, a->n) : 0;

	free(a->k);
	free(a->buf);
	a->k = NULL;
	a->buf = NULL;
	return rc;
}

/*
 * A lookup field whose value changes deletes its old index entry
 * (blind_put), and the delete's answer (was it there?) would cost a round
 * trip each: read ahead whether it is there, from the tags read ahead
 * before. The entry's key is blind.c's entry_key, tag || sid || field
 * (were they to differ, only the round trips would come back).
 */
static int
ahead_entries(store_txn *txn, job *batch, size_t nlookups)
{
	uint8_t key[STORE_VALUE_KEYMAX], *p;
	store_val k, v;
	ahead en;
	size_t i;
	job *j;
	int rc;

	if (ahead_init(&en, nlookups, BLIND_TAGBYTES + STORE_VALUE_KEYMAX) !=
	    0) {
		(void)ahead_send(txn, STORE_BLIND, &en);
		return 0; /* a hint */
	}
	for (j = batch; j != NULL; j = j->next) {
		if (j->kind != JOB_PUT || j->reg == NULL)
			continue;
		for (i = 0; i < j->nvalues; i++) {
			if (!j->values[i].lookup)
				continue;
			k.size =
			    store_value_key(key, j->sid, j->values[i].field);
			k.data = key;
			rc = store_get(txn, STORE_BLIND_OF, &k, &v);
			if (rc == STORE_NOTFOUND)
				continue;
			if (rc != 0) {
				(void)ahead_send(txn, STORE_BLIND, &en);
				return rc;
			}
			if (v.size != BLIND_TAGBYTES ||
			    memcmp(v.data, j->values[i].tag, BLIND_TAGBYTES) ==
			        0 ||
			    (p = ahead_room(&en)) == NULL)
				continue; /* blind_put deletes nothing */
			memcpy(p, v.data, BLIND_TAGBYTES);
			memcpy(p + BLIND_TAGBYTES, key, k.size);
			ahead_add(&en, p, BLIND_TAGBYTES + k.size);
		}
	}
	return ahead_send(txn, STORE_BLIND, &en);
}

/*
 * Before a batch is applied: read ahead what its puts will read, so that
 * on a database store the reads of the whole batch take one round trip
 * or two, not several a put, while the writers' lock is held, and one
 * statement a table (store_kv.h's store_prefetch; on LMDB, where a get
 * is a lookup in memory, nothing). A put reads its register's contract
 * end (ret_put_check), its subject (put_reconcile), each field's record
 * (put_reconcile), a lookup field's tag (blind_put) and a planned field's
 * plan (ret_put_plan): the last three have the record's key (subject id
 * || field name); then a changed lookup value's old index entry
 * (ahead_entries). The rest it reads, rarely, on its own. A hint: out
 * of memory reads nothing ahead.
 */
int
writer_prefetch(writer *wr, store_txn *txn, job *batch)
{
	enum { A_REG, A_SUBJ, A_VAL, A_BLIND, A_PLAN, A_N };
	static const store_tbl tbs[A_N] = {STORE_RET_REG, STORE_SUBJECTS,
	    STORE_VALUES, STORE_BLIND_OF, STORE_RET_PLAN};
	uint8_t key[STORE_VALUE_KEYMAX];
	const pol_field *f;
	ahead a[A_N];
	size_t i, n, njobs = 0, nvals = 0, nlookups = 0;
	job *j;
	int rc = 0, sent, x, ok = 1;

	if (!store_reads_ahead(wr->srv->st))
		return 0;
	for (j = batch; j != NULL; j = j->next) {
		if (j->kind != JOB_PUT || j->reg == NULL)
			continue;
		njobs++;
		nvals += j->nvalues;
	}
	if (njobs == 0)
		return 0;
	for (x = 0; x < A_N; x++)
		if (ahead_init(&a[x], x <= A_SUBJ ? njobs : nvals,
		        x == A_REG ? POL_MAX_NAME : STORE_VALUE_KEYMAX) != 0)
			ok = 0;
	for (j = batch; ok && j != NULL; j = j->next) {
		if (j->kind != JOB_PUT || j->reg == NULL)
			continue;
		ahead_add(&a[A_REG], j->reg->name, strlen(j->reg->name));
		ahead_add(&a[A_SUBJ], j->sid, CRYPTO_SUBJECT_IDBYTES);
		for (i = 0; i < j->nvalues; i++) {
			n = store_value_key(key, j->sid, j->values[i].field);
			ahead_add(&a[A_VAL], key, n);
			if (j->values[i].lookup) {
				ahead_add(&a[A_BLIND], key, n);
				nlookups++;
			}
			f = pol_field_find(j->reg, j->values[i].field);
			if (f != NULL && pol_field_planned(j->reg, f))
				ahead_add(&a[A_PLAN], key, n);
		}
	}
	for (x = 0; x < A_N; x++) {
		if (!ok)
			a[x].n = 0; /* only freed */
		if ((sent = ahead_send(txn, tbs[x], &a[x])) != 0 && rc == 0)
			rc = sent;
	}
	if (rc != 0 || nlookups == 0)
		return rc;
	return ahead_entries(txn, batch, nlookups);
}

static int
apply_put(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	store *st = wr->srv->st;
	uint8_t key[STORE_VALUE_KEYMAX];
	store_val k, v;
	size_t i;
	int rc;

	if ((rc = ret_put_check(wr, txn, j, now)) != 0)
		return rc;
	rc = put_reconcile(wr, txn, j, now);
	sodium_memzero(wr->dk, CRYPTO_KEYBYTES);
	if (rc != 0)
		return rc;
	for (i = 0; i < j->nvalues; i++) {
		k.size = store_value_key(key, j->sid, j->values[i].field);
		k.data = key;
		v.size = j->values[i].reclen;
		v.data = j->values[i].rec;
		if ((rc = store_put(txn, STORE_VALUES, &k, &v, 0)) != 0)
			return rc;
		if (j->values[i].lookup &&
		    (rc = blind_put(st, txn, j->values[i].tag, j->sid,
		         j->reg->name, j->values[i].field)) != 0)
			return rc;
	}
	if ((rc = ret_put_plan(wr, txn, j, now)) != 0)
		return rc;
	j->count = (uint32_t)j->nvalues;
	j->status = ST(OK);
	return 0;
}

/*
 * Store a new policy version if the one it replaces is still in force. The
 * swap to the new snapshot happens only after the commit (after_commit). A
 * document the worker found equal to the version it replaces stores
 * nothing: if that version is still in force, it stays.
 */
static int
apply_policy(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	Privd__V1__PolicyApplyRequest *pa = j->req->policy_apply;
	store *st = wr->srv->st;
	store_policy cur;
	snapshot *old;
	uint32_t set;
	size_t i;
	int rc;

	if ((rc = writer_nodes_policy_latest(wr, txn, &cur)) != 0)
		return rc;
	if (cur.version != pa->replaces_version) {
		job_fail(j, ST(CONFLICT), 0,
		    "policy version %llu is in force, not %llu: "
		    "get it, merge, and apply again",
		    (unsigned long long)cur.version,
		    (unsigned long long)pa->replaces_version);
		return JOB_FAILED;
	}
	if (j->policy_same) {
		j->policy_version = cur.version;
		j->status = ST(OK);
		return 0;
	}
	if (j->policy_refused) {
		char why[sizeof(j->message)];

		memcpy(why, j->message, sizeof(why));
		job_fail(j, ST(INVALID), 0, "%s", why);
		return JOB_FAILED;
	}
	j->policy_version = cur.version + 1;
	if ((rc = store_policy_put(st, txn, j->policy_version, now,
	         j->principal, pa->policy_json, strlen(pa->policy_json))) != 0)
		return rc;
	/* what falls due differently is re-planned behind it (replan.h) */
	old = snapshot_acquire(&wr->srv->policy);
	set = replan_registers(old->pol, j->newsnap->pol);
	snapshot_release(&old);
	for (i = 0; i < j->newsnap->pol->nregisters && i < 32 && rc == 0; i++)
		if (set & (1u << i))
			rc = replan_queue(
			    st, txn, j->newsnap->pol->registers[i].name);
	if (rc != 0)
		return rc;
	/* a field made lookup or no longer, or a lookup field's type
	 * changed: the index is built again from the values (blind.h) */
	old = snapshot_acquire(&wr->srv->policy);
	if (blind_policy_changed(old->pol, j->newsnap->pol)) {
		rc = blind_reset(st, txn);
		wr->blind_filling = true;
	}
	snapshot_release(&old);
	if (rc != 0)
		return rc;
	j->status = ST(OK);
	return 0;
}

/* The state of audit pruning, as an AuditPruneResponse in the job. */
static int
prune_report(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	snapshot *snap = snapshot_acquire(&wr->srv->policy);
	int rc;

	rc = retain_report(wr->srv->st, txn, &wr->keep,
	    snap->pol->audit_retention_s, now, &j->prune);
	snapshot_release(&snap);
	return rc;
}

/*
 * audit_prune: report, and with confirm lift a pause. The lifted pause is
 * copied into wr->keep only after the commit (after_commit), so an aborted
 * attempt changes nothing.
 */
static int
apply_prune(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	int rc;

	if (j->req->audit_prune->confirm && wr->keep.hold_at_us != 0 &&
	    (rc = retain_hold_clear(wr->srv->st, txn)) != 0)
		return rc;
	if ((rc = prune_report(wr, txn, j, now)) != 0)
		return rc;
	if (j->req->audit_prune->confirm)
		j->prune.paused = false;
	j->status = ST(OK);
	return 0;
}

void
writer_after_commit(writer *wr, job *batch)
{
	job *j;

	for (j = batch; j != NULL; j = j->next) {
		if (j->status != ST(OK))
			continue;
		rights_after_commit(wr, j);
		if (j->kind == JOB_POLICY && j->newsnap != NULL) {
			/* re-plan from the start of the register: subjects
			 * already done were planned under the old version */
			wr->replan_more = true;
			wr->replan.len = 0;
			j->newsnap->version = j->policy_version;
			snapshot_cell_swap(&wr->srv->policy, j->newsnap);
			j->newsnap = NULL; /* the cell owns it now */
			log_info("policy version %llu applied by %s",
			    (unsigned long long)j->policy_version,
			    j->principal);
		} else if (j->kind == JOB_PRUNE &&
		           j->req->audit_prune->confirm &&
		           wr->keep.hold_at_us != 0) {
			wr->keep.hold_at_us = 0;
			wr->keep.hold_jump_s = 0;
			wr->next_prune = 0; /* prune now */
			log_info("audit: %s confirmed the clock; pruning "
			         "resumes",
			    j->principal);
		}
	}
}

void
writer_pack_result(job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__PutResponse put = PRIVD__V1__PUT_RESPONSE__INIT;
	Privd__V1__DeleteResponse del = PRIVD__V1__DELETE_RESPONSE__INIT;
	Privd__V1__PolicyApplyResponse pol =
	    PRIVD__V1__POLICY_APPLY_RESPONSE__INIT;
	Privd__V1__RetentionRunResponse rr =
	    PRIVD__V1__RETENTION_RUN_RESPONSE__INIT;

	if (j->status != ST(OK) &&
	    !(j->status == ST(RETAINED) &&
	        (j->kind == JOB_DELETE || j->kind == JOB_ERASE))) {
		job_pack(j, NULL);
		return;
	}
	switch (j->kind) {
	case JOB_RELEND:
	case JOB_CONTRACT:
	case JOB_HOLD_SET:
	case JOB_HOLD_LIFT:
		ret_pack(j);
		return;
	case JOB_RESTRICT:
	case JOB_OBJECT:
	case JOB_ERASE:
		rights_pack(j);
		return;
	case JOB_PUT:
		put.written = j->count;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_PUT;
		resp.put = &put;
		break;
	case JOB_POLICY:
		pol.version = j->policy_version;
		pol.unchanged = j->policy_same;
		pol.replan_subjects = j->policy_same ? 0 : j->at_us;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_POLICY_APPLY;
		resp.policy_apply = &pol;
		break;
	case JOB_SWEEP:
		if (j->sweep == NULL || sweep_response(j, j->sweep, &rr) != 0) {
			job_fail(j, ST(INTERNAL), 0, "out of memory");
			job_pack(j, NULL);
			return;
		}
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_RETENTION_RUN;
		resp.retention_run = &rr;
		break;
	case JOB_PRUNE:
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_PRUNE;
		resp.audit_prune = &j->prune;
		break;
	default:
		del.deleted = j->count;
		del.retained = j->retained;
		del.n_retained = j->nretained;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_DELETE;
		resp.delete_ = &del;
		break;
	}
	job_pack(j, &resp);
}

int
writer_apply(writer *wr, store_txn *txn, job *j, uint64_t now)
{
	switch (j->kind) {
	case JOB_PUT:
		return apply_put(wr, txn, j, now);
	case JOB_DELETE:
		return ret_delete(wr, txn, j, now);
	case JOB_RELEND:
	case JOB_CONTRACT:
	case JOB_HOLD_SET:
	case JOB_HOLD_LIFT:
		return ret_apply(wr, txn, j, now);
	case JOB_RESTRICT:
	case JOB_OBJECT:
	case JOB_ERASE:
		return rights_apply(wr, txn, j, now);
	case JOB_POLICY:
		return apply_policy(wr, txn, j, now);
	case JOB_PRUNE:
		return apply_prune(wr, txn, j, now);
	default:
		return 0; /* answered already: only its event */
	}
}
