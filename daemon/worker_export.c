/*
 * worker_export.c - SubjectExport (issue 10): everything privd holds about
 * a person, and who used it, as one JSON document for the rights of
 * access and portability (GDPR arts. 15 and 20). Its schema is
 * docs/subject-export.schema.json; keep the two in step.
 *
 * The worker answers it: it only reads, in one read transaction, so the
 * document is one consistent moment of the store and the audit log. Per
 * register where the subject is stored (sorted by name): its restriction,
 * objections, relationship end, the register's contract end, the legal
 * holds that keep its data, and every stored field with its value opened
 * under the subject's data key, the purpose and times its record's
 * authenticated header gives, and its retention as the sweeper plans it.
 * Then the audit log's lists (worker_export_audit.c). A record that does
 * not open is listed as damaged, without a value: one bad record does not
 * keep the rest from the person.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "retplan.h"
#include "retstore.h"
#include "substate.h"
#include "worker_export.h"

static const char *const basis_names[] = {"consent", "contract",
    "legal_obligation", "vital_interests", "public_task",
    "legitimate_interest"};
static const char *const ftype_names[] = {
    "string", "text", "email", "phone", "integer", "date", "bytes"};

/* The subject, named in the audit event by pseudonym before anything else
 * is checked, as every rights request does (worker_rights.c). -1 (the job
 * failed) if it is malformed. */
static int
pseudonym(worker *w, job *j, const char *subject, size_t *len)
{
	size_t n = strnlen(subject, CRYPTO_MAX_SUBJECT + 1);

	if (n == 0 || n > CRYPTO_MAX_SUBJECT) {
		job_fail(j, ST(INVALID), 0, "subject id must be 1..%d bytes",
		    CRYPTO_MAX_SUBJECT);
		return -1;
	}
	ev_subject(w, j, subject, n);
	*len = n;
	return 0;
}

/* Is the subject stored in r? Adds it to the export if so. 0 or a store
 * error. */
static int
add_if_stored(export *ex, store_txn *txn, const pol_register *r)
{
	export_reg *er = &ex->regs[ex->nregs];
	store_subject sub;
	int rc;

	crypto_subject_id(ex->w->srv->keys, r->name,
	    (const uint8_t *)ex->subject, ex->slen, er->sid);
	rc = store_subject_get(ex->w->srv->st, txn, er->sid, &sub);
	sodium_memzero(&sub, sizeof(sub));
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc == STORE_CORRUPTED)
		rc = 0; /* stored, with a damaged key: its fields say so */
	if (rc != 0)
		return rc;
	er->r = r;
	er->bytes = 0;
	ex->nregs++;
	return 0;
}

/* The restriction and objections of the subject in a register. A state
 * that does not authenticate restricts, as it does for every request:
 * the document says so (state_damaged). */
static int
write_state(export *ex, store_txn *txn, const export_reg *er)
{
	jbuf *b = &ex->doc;
	subj_state ss;
	size_t i;
	int rc;

	rc = substate_get(ex->w->srv->st, txn, ex->w->srv->keys, er->sid, &ss);
	if (rc == STORE_CORRUPTED) {
		log_err("register %s: a data subject's state does not "
		        "authenticate",
		    er->r->name);
		memset(&ss, 0, sizeof(ss));
		ss.restricted = true;
		jb_key(b, "state_damaged");
		jb_bool(b, true);
	} else if (rc != 0) {
		return rc;
	}
	jb_key(b, "restricted");
	jb_bool(b, ss.restricted);
	jb_key(b, "objections");
	jb_arr(b);
	for (i = 0; i < ss.nobjections; i++)
		jb_cstr(b, ss.objections[i]);
	jb_arr_end(b);
	return 0;
}

/*
 * The legal holds that keep the subject's data in the register now: its
 * own and the register's. Not the reason: it is free text about a legal
 * matter, written by the controller's staff for each other, which may
 * name other people or say what disclosing would prejudice (GDPR art.
 * 15(4), art. 23); that a hold keeps the data, since and until when, is
 * what the person needs to know why it is still there.
 */
static int
write_holds(export *ex, store_txn *txn, const export_reg *er)
{
	jbuf *b = &ex->doc;
	ret_hold h;
	int i, rc = 0;

	jb_key(b, "legal_holds");
	jb_arr(b);
	for (i = 0; i < 2; i++) {
		rc = ret_hold_get(ex->w->srv->st, txn, ex->w->srv->keys,
		    er->r->name, i == 0 ? er->sid : NULL, &h);
		if (rc == STORE_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc != 0 && rc != STORE_CORRUPTED)
			break;
		if (rc == 0 && !ret_hold_active(&h, ex->now))
			continue;
		jb_obj(b);
		jb_key(b, "scope");
		jb_cstr(b, i == 0 ? "subject" : "register");
		if (rc == STORE_CORRUPTED) {
			/* it holds all the same: when in doubt, keep */
			jb_key(b, "damaged");
			jb_bool(b, true);
			rc = 0;
		} else {
			jb_key(b, "set_at");
			jb_time(b, h.set_at_us);
			jb_key(b, "until");
			jb_time0(b, h.until_us);
		}
		jb_obj_end(b);
	}
	jb_arr_end(b);
	sodium_memzero(&h, sizeof(h));
	return rc;
}

/* What the register's retention rules do with a field. */
static void
write_retention(jbuf *b, const pol_plan *p, uint64_t now)
{
	uint64_t due = retplan_due(p);

	jb_key(b, "retention");
	jb_obj(b);
	jb_key(b, "rule");
	jb_cstr(b, p->rule != NULL ? p->rule->id : NULL);
	jb_key(b, "action");
	jb_cstr(b, p->rule != NULL ? p->rule->action : NULL);
	jb_key(b, "due");
	if (due == RET_NEVER)
		jb_null(b);
	else
		jb_time(b, due);
	jb_key(b, "minimum");
	if (p->keep_rule == NULL || (p->keep_until_us != POL_NEVER &&
	                                (uint64_t)p->keep_until_us <= now)) {
		jb_null(b);
	} else {
		jb_obj(b);
		jb_key(b, "rule");
		jb_cstr(b, p->keep_rule->id);
		jb_key(b, "until");
		if (p->keep_until_us == POL_NEVER)
			jb_null(b);
		else
			jb_time(b, (uint64_t)p->keep_until_us);
		jb_obj_end(b);
	}
	jb_obj_end(b);
}

/* What one register's fields have in common while they are written. */
typedef struct reg_ctx {
	const pol_register *r;
	bool key_ok;      /* the data key unwrapped into w->dk */
	uint64_t rel_end; /* the subject's relationship end, 0: none */
	uint64_t contract_end;
} reg_ctx;

/* One stored field: name (NUL-terminated), its record rec. */
static void
write_field(export *ex, reg_ctx *rc, const char *name, const store_val *rec)
{
	const pol_field *f = pol_field_find(rc->r, name);
	const pol_purpose *pu = NULL;
	jbuf *b = &ex->doc;
	char purpose[256];
	uint8_t *plain = NULL;
	store_value sv;
	pol_plan plan;
	size_t plen = 0;
	bool ok;

	ok = rc->key_ok && store_value_decode(rec, &sv) == 0;
	if (ok) {
		plen = sv.sealedlen - CRYPTO_SEAL_OVERHEAD;
		if ((plain = malloc(plen + 1)) == NULL) {
			b->nomem = true;
			return;
		}
		ok = crypto_value_open(ex->w->dk, rc->r->name,
		         (const uint8_t *)ex->subject, ex->slen, name, sv.hdr,
		         sv.hdrlen, sv.sealed, sv.sealedlen, plain) == 0;
	}
	jb_obj(b);
	jb_key(b, "name");
	jb_cstr(b, name);
	jb_key(b, "type");
	jb_cstr(b, f != NULL ? ftype_names[f->type] : NULL);
	jb_key(b, "category");
	jb_cstr(b, f != NULL ? f->category : NULL);
	jb_key(b, "source");
	jb_cstr(b, f != NULL ? f->source : NULL);
	if (!ok) {
		if (plain != NULL) {
			sodium_memzero(plain, plen + 1);
			free(plain);
		}
		log_err("register %s: a stored value is damaged or does not "
		        "authenticate; exported as damaged",
		    rc->r->name);
		jb_key(b, "damaged");
		jb_bool(b, true);
		jb_obj_end(b);
		return;
	}
	jb_key(b, "value");
	if ((f != NULL && f->type == POL_FT_BYTES) ||
	    !export_utf8(plain, plen)) {
		jb_base64(b, plain, plen);
		jb_key(b, "encoding");
		jb_cstr(b, "base64");
	} else {
		jb_str(b, (const char *)plain, plen);
	}
	sodium_memzero(plain, plen + 1);
	free(plain);
	/* the header is authenticated with the value: its purpose is the
	 * one privd wrote, a policy name */
	memcpy(purpose, sv.purpose, sv.purposelen);
	purpose[sv.purposelen] = '\0';
	jb_key(b, "purpose");
	if (export_utf8((const uint8_t *)purpose, sv.purposelen)) {
		jb_cstr(b, purpose);
		pu = pol_purpose_find(rc->r, purpose);
	} else {
		jb_null(b);
	}
	jb_key(b, "legal_basis");
	jb_cstr(b, pu != NULL ? basis_names[pu->basis] : NULL);
	jb_key(b, "collected");
	jb_time(b, sv.created_us);
	jb_key(b, "updated");
	jb_time(b, sv.updated_us);
	if (f != NULL) {
		retplan_compute(rc->r, f, sv.created_us, sv.updated_us,
		    rc->rel_end, rc->contract_end, &plan);
		write_retention(b, &plan, ex->now);
	} else {
		jb_key(b, "retention");
		jb_null(b);
	}
	jb_obj_end(b);
}

/* Every stored field of the subject in the register, in name order. */
static int
write_fields(export *ex, store_txn *txn, reg_ctx *rc, const uint8_t *sid)
{
	char name[CRYPTO_MAX_NAME + 1];
	store_cur *c;
	store_val k, v;
	size_t klen;
	int rc2;

	jb_key(&ex->doc, "fields");
	jb_arr(&ex->doc);
	if ((rc2 = store_cur_open(txn, STORE_VALUES, &c)) != 0)
		return rc2;
	k.size = CRYPTO_SUBJECT_IDBYTES;
	k.data = (void *)sid;
	for (rc2 = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc2 == 0;
	     rc2 = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size <= CRYPTO_SUBJECT_IDBYTES ||
		    memcmp(k.data, sid, CRYPTO_SUBJECT_IDBYTES) != 0)
			break;
		klen = k.size - CRYPTO_SUBJECT_IDBYTES;
		memcpy(name, (const uint8_t *)k.data + CRYPTO_SUBJECT_IDBYTES,
		    klen > CRYPTO_MAX_NAME ? 0 : klen);
		if (klen > CRYPTO_MAX_NAME || memchr(name, '\0', klen) ||
		    !export_utf8((const uint8_t *)name, klen)) {
			/* not a key privd writes: it names no field */
			log_err("register %s: a stored value has a malformed "
			        "key; left out of an export",
			    rc->r->name);
			continue;
		}
		name[klen] = '\0';
		write_field(ex, rc, name, &v);
		if (ex->doc.nomem) {
			rc2 = ENOMEM;
			break;
		}
	}
	store_cur_close(c);
	jb_arr_end(&ex->doc);
	return rc2 == STORE_NOTFOUND ? 0 : rc2;
}

/* One register where the subject is stored. */
static int
write_register(export *ex, store_txn *txn, export_reg *er)
{
	server *srv = ex->w->srv;
	jbuf *b = &ex->doc;
	reg_ctx rc = {er->r, false, 0, 0};
	store_subject sub;
	ret_sub rs;
	uint8_t flags;
	size_t before = b->total;
	int e;

	jb_obj(b);
	jb_key(b, "register");
	jb_cstr(b, er->r->name);
	if ((e = write_state(ex, txn, er)) != 0)
		return e;
	e = ret_sub_get(srv->st, txn, srv->keys, er->r->name, er->sid, &rs);
	if (e == 0)
		rc.rel_end = rs.rel_end_us;
	else if (e != STORE_NOTFOUND && e != STORE_CORRUPTED)
		return e;
	sodium_memzero(&rs, sizeof(rs));
	jb_key(b, "relationship_end");
	jb_time0(b, rc.rel_end);
	if ((e = ret_reg_get(
	         srv->st, txn, er->r->name, &rc.contract_end, &flags)) != 0)
		return e;
	jb_key(b, "contract_end");
	jb_time0(b, rc.contract_end);
	if ((e = write_holds(ex, txn, er)) != 0)
		return e;
	e = store_subject_get(srv->st, txn, er->sid, &sub);
	if (e == 0 && subject_unwrap(srv->keys, er->r->name, ex->subject, &sub,
	                  ex->w->dk) == 0)
		rc.key_ok = true;
	else if (e != 0 && e != STORE_CORRUPTED)
		return e;
	else
		log_err("register %s: a subject key record is damaged; its "
		        "fields are exported as damaged",
		    er->r->name);
	e = write_fields(ex, txn, &rc, er->sid);
	sodium_memzero(ex->w->dk, CRYPTO_KEYBYTES);
	if (e != 0)
		return e;
	jb_obj_end(b);
	er->bytes += b->total - before;
	return 0;
}

/* The whole document, into ex->doc. 0, or a store error or ENOMEM. */
static int
write_doc(export *ex, store_txn *txn)
{
	const pol_policy *pol = ex->j->snap->pol;
	jbuf *b = &ex->doc;
	size_t i;
	int rc = 0;

	jb_obj(b);
	jb_key(b, "format");
	jb_cstr(b, "privd-subject-export");
	jb_key(b, "format_version");
	jb_u64(b, EXPORT_FORMAT_VERSION);
	jb_key(b, "generated_at");
	jb_time(b, ex->now);
	jb_key(b, "controller");
	jb_obj(b);
	jb_key(b, "name");
	jb_cstr(b, pol->controller_name);
	jb_key(b, "business_id");
	jb_cstr(b, pol->controller_business_id);
	jb_obj_end(b);
	jb_key(b, "subject");
	jb_str(b, ex->subject, ex->slen);
	jb_key(b, "policy_version");
	jb_u64(b, ex->j->snap->version);
	jb_key(b, "registers");
	jb_arr(b);
	for (i = 0; i < ex->nregs && rc == 0; i++)
		rc = write_register(ex, txn, &ex->regs[i]);
	jb_arr_end(b);
	if (rc == 0)
		rc = export_audit(ex, txn);
	jb_obj_end(b);
	if (rc == 0 && b->nomem)
		rc = ENOMEM;
	return rc;
}

/* A document past EXPORT_MAX_BYTES: which register to export alone. */
static void
too_large(export *ex)
{
	const export_reg *big = &ex->regs[0];
	size_t i;

	for (i = 1; i < ex->nregs; i++)
		if (ex->regs[i].bytes > big->bytes)
			big = &ex->regs[i];
	if (ex->nregs > 1)
		job_fail(ex->j, ST(TOO_LARGE), 0,
		    "the export would be larger than %u MiB: export one "
		    "register at a time, starting with register %s",
		    EXPORT_MAX_BYTES >> 20, big->r->name);
	else
		job_fail(ex->j, ST(TOO_LARGE), 0,
		    "the export of register %s would be larger than %u MiB",
		    big->r->name, EXPORT_MAX_BYTES >> 20);
}

void
do_subject_export(worker *w, job *j)
{
	Privd__V1__SubjectExportRequest *rq = j->req->subject_export;
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__SubjectExportResponse er =
	    PRIVD__V1__SUBJECT_EXPORT_RESPONSE__INIT;
	const pol_policy *pol = j->snap->pol;
	const pol_register *only = NULL;
	export *ex;
	size_t i, slen;
	int rc;

	if (pseudonym(w, j, rq->subject, &slen) != 0 ||
	    require_role(j, POL_ROLE_SUBJECT_RIGHTS, "subject_rights") == NULL)
		return;
	if (rq->register_[0] != '\0') {
		if (!name_ok(rq->register_)) {
			job_fail(j, ST(INVALID), 0,
			    "register name must be 1..%d bytes", POL_MAX_NAME);
			return;
		}
		if ((only = pol_register_find(pol, rq->register_)) == NULL) {
			job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_REGISTER,
			    "register %s is not declared by the policy",
			    rq->register_);
			return;
		}
		j->ev.register_ = only->name;
	}
	if ((ex = calloc(1, sizeof(*ex))) == NULL) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
		return;
	}
	ex->w = w;
	ex->j = j;
	ex->subject = rq->subject;
	ex->slen = slen;
	ex->now = clock_wall_us();
	jb_init(&ex->doc, EXPORT_MAX_BYTES);
	if ((rc = store_read_begin(w->srv->st, &w->rtxn)) != 0) {
		free(ex);
		worker_store_fail(j, rc);
		return;
	}
	/* by name: the document lists the registers so */
	for (i = 0; i < pol->nregisters && rc == 0; i++)
		if (only == NULL || pol->registers_by_name[i] == only)
			rc = add_if_stored(
			    ex, w->rtxn, pol->registers_by_name[i]);
	if (rc == 0 && ex->nregs == 0) {
		if (only != NULL)
			job_fail(j, ST(NOT_FOUND), 0,
			    "the subject is not stored in register %s",
			    only->name);
		else
			job_fail(j, ST(NOT_FOUND), 0,
			    "the subject is stored in no register");
		goto out;
	}
	if (rc == 0)
		rc = write_doc(ex, w->rtxn);
	if (rc != 0) {
		/* a database gone part way: UNAVAILABLE, never a partial
		 * document nor damage (the records read so far were fine) */
		worker_read_fail(j, rc, "subject export", "the export failed");
	} else if (jb_over(&ex->doc)) {
		too_large(ex);
	} else {
		er.json.data = (uint8_t *)ex->doc.p;
		er.json.len = ex->doc.len;
		resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_SUBJECT_EXPORT;
		resp.subject_export = &er;
		job_ok(j, &resp);
	}
out:
	store_read_end(w->srv->st, w->rtxn);
	jb_free(&ex->doc);
	free(ex);
}
