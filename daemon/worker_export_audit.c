/*
 * worker_export_audit.c - what the audit log says about the subject of an
 * export: who was given or changed its data (recipients), what privd's
 * retention did to it, and the requests made about it under the data
 * subject rights. See worker_export.h and docs/subject-export.schema.json.
 *
 * The subject's events are found by its pseudonym (audit_subject_walk),
 * which is the same in every register. Each list holds at most its
 * EXPORT_MAX_* most recent events: a first walk counts what each list
 * would hold, a second writes them, passing over the oldest that do not
 * fit. Both walk the one read transaction, so they see the same log.
 */
#include <errno.h>
#include <string.h>

#include "audit.h"
#include "worker_export.h"

typedef enum ev_list {
	L_NONE = -1,
	L_RECIPIENTS = 0, /* get, put, delete allowed and carried out */
	L_ACTIONS,        /* retention's deletions and anonymisations */
	L_REQUESTS,       /* subject_restrict, _object, _erase, _export */
	L_COUNT
} ev_list;

static const size_t list_max[L_COUNT] = {
    EXPORT_MAX_RECIPIENTS, EXPORT_MAX_ACTIONS, EXPORT_MAX_REQUESTS};
static const char *const list_name[L_COUNT] = {
    "recipients", "privd_actions", "rights_requests"};

typedef struct audit_walk {
	export *ex;
	bool writing;            /* second walk */
	uint64_t seen[L_COUNT];  /* events of each list so far */
	uint64_t total[L_COUNT]; /* of the first walk */
	uint64_t unreadable;     /* events that do not decode */
	jbuf side[L_COUNT];      /* the lists after the first */
} audit_walk;

static bool
is_op(const char *op, const char *const *ops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(op, ops[i]) == 0)
			return true;
	return false;
}

/* The exported register an event names, or NULL. */
static export_reg *
reg_of(export *ex, const char *name)
{
	size_t i;

	for (i = 0; i < ex->nregs; i++)
		if (strcmp(ex->regs[i].r->name, name) == 0)
			return &ex->regs[i];
	return NULL;
}

/*
 * Which list an event goes to. Recipients: a get, put or delete that
 * the policy allowed and privd carried out (OK, or RETAINED: a delete
 * that deleted all but what a rule or hold kept), in an exported
 * register; refused and rejected requests disclosed nothing. privd's
 * actions: retention's, carried out. Requests: the data subject rights
 * requests that were allowed, whatever came of them, in an exported
 * register or in none (an erasure of several registers names none).
 */
static ev_list
list_of(export *ex, const Privd__V1__AuditEvent *ev)
{
	static const char *const data_ops[] = {"get", "put", "delete"};
	static const char *const ret_ops[] = {
	    "retention_delete", "retention_anonymize", "contract_end_purge"};
	static const char *const rights_ops[] = {"subject_restrict",
	    "subject_restrict_lift", "subject_object",
	    "subject_object_withdraw", "subject_erase", "subject_export"};
	bool mine = reg_of(ex, ev->register_) != NULL;
	bool done = ev->status == PRIVD__V1__STATUS__OK ||
	            ev->status == PRIVD__V1__STATUS__RETAINED;

	if (ev->decision != PRIVD__V1__DECISION__ALLOWED)
		return L_NONE;
	if (strcmp(ev->principal, "retention") == 0)
		return mine && done && is_op(ev->op, ret_ops, 3) ? L_ACTIONS
		                                                 : L_NONE;
	if (is_op(ev->op, data_ops, 3))
		return mine && done ? L_RECIPIENTS : L_NONE;
	if (is_op(ev->op, rights_ops, 6) && (mine || ev->register_[0] == '\0'))
		return L_REQUESTS;
	return L_NONE;
}

static const char *
operation(const char *op)
{
	if (strcmp(op, "get") == 0)
		return "read";
	if (strcmp(op, "put") == 0)
		return "write";
	return op; /* "delete", and the other lists' own names */
}

/* The status of a request, as its name in privd.proto, lower case. */
static const char *
status_name(int st)
{
	static const char *const names[] = {"unspecified", "ok", "invalid",
	    "denied", "not_found", "conflict", "retained", "too_large",
	    "unavailable", "internal", "expired"};

	if (st < 0 || (size_t)st >= sizeof(names) / sizeof(names[0]))
		return "unspecified";
	return names[st];
}

static void
fields(jbuf *b, const Privd__V1__AuditEvent *ev)
{
	size_t i;

	jb_key(b, "fields");
	jb_arr(b);
	for (i = 0; i < ev->n_fields; i++)
		jb_cstr(b, ev->fields[i]);
	jb_arr_end(b);
}

/* One event of list l into b. */
static void
write_event(jbuf *b, ev_list l, uint64_t seq, const Privd__V1__AuditEvent *ev)
{
	jb_obj(b);
	jb_key(b, "time");
	jb_time(b, ev->time_us);
	jb_key(b, "seq");
	jb_u64(b, seq);
	if (l != L_ACTIONS) {
		jb_key(b, "principal");
		jb_cstr(b, ev->principal);
	}
	jb_key(b, "operation");
	jb_cstr(b, operation(ev->op));
	jb_key(b, "register");
	if (ev->register_[0] == '\0')
		jb_null(b);
	else
		jb_cstr(b, ev->register_);
	switch (l) {
	case L_RECIPIENTS:
		jb_key(b, "purpose");
		jb_cstr(b, ev->purpose);
		fields(b, ev);
		break;
	case L_ACTIONS:
		jb_key(b, "rule");
		if (ev->rule[0] == '\0')
			jb_null(b);
		else
			jb_cstr(b, ev->rule);
		fields(b, ev);
		break;
	default:
		jb_key(b, "purpose");
		if (ev->purpose[0] == '\0')
			jb_null(b);
		else
			jb_cstr(b, ev->purpose);
		jb_key(b, "status");
		jb_cstr(b, status_name((int)ev->status));
		break;
	}
	jb_obj_end(b);
}

static int
visit(void *arg, uint64_t seq, const Privd__V1__AuditEvent *ev)
{
	audit_walk *aw = arg;
	export *ex = aw->ex;
	export_reg *er;
	ev_list l;
	jbuf *b;
	size_t before;

	if (ev == NULL) {
		if (!aw->writing)
			aw->unreadable++;
		return 0;
	}
	if ((l = list_of(ex, ev)) == L_NONE)
		return 0;
	if (!aw->writing) {
		aw->total[l]++;
		return 0;
	}
	/* the oldest of a long list are left out */
	if (aw->seen[l]++ + list_max[l] < aw->total[l])
		return 0;
	b = l == L_RECIPIENTS ? &ex->doc : &aw->side[l];
	before = b->total;
	write_event(b, l, seq, ev);
	if ((er = reg_of(ex, ev->register_)) != NULL)
		er->bytes += b->total - before;
	return b->nomem ? ENOMEM : 0;
}

static uint64_t
omitted(const audit_walk *aw, ev_list l)
{
	return aw->total[l] > list_max[l] ? aw->total[l] - list_max[l] : 0;
}

int
export_audit(export *ex, store_txn *txn)
{
	store *st = ex->w->srv->st;
	char key[40];
	audit_walk aw;
	int rc, l;

	memset(&aw, 0, sizeof(aw));
	aw.ex = ex;
	for (l = 0; l < L_COUNT; l++) {
		jb_init(&aw.side[l], EXPORT_MAX_BYTES);
		jb_arr(&aw.side[l]);
	}
	rc = audit_subject_walk(st, txn, ex->j->pseudo, visit, &aw);
	if (rc != 0)
		goto out;
	aw.writing = true;
	jb_key(&ex->doc, list_name[L_RECIPIENTS]);
	jb_arr(&ex->doc);
	if ((rc = audit_subject_walk(st, txn, ex->j->pseudo, visit, &aw)) != 0)
		goto out;
	jb_arr_end(&ex->doc);
	for (l = 0; l < L_COUNT; l++) {
		if (l != L_RECIPIENTS) {
			jb_arr_end(&aw.side[l]);
			jb_key(&ex->doc, list_name[l]);
			jb_append(&ex->doc, &aw.side[l]);
		}
		snprintf(key, sizeof(key), "%s_omitted", list_name[l]);
		jb_key(&ex->doc, key);
		jb_u64(&ex->doc, omitted(&aw, l));
	}
	jb_key(&ex->doc, "unreadable_audit_events");
	jb_u64(&ex->doc, aw.unreadable);
	rc = ex->doc.nomem ? ENOMEM : 0;
out:
	for (l = 0; l < L_COUNT; l++)
		jb_free(&aw.side[l]);
	return rc;
}
