/*
 * worker.c - decode, decide, read, prepare.
 *
 * DESIGN: N worker threads, each looping over the work queue. A worker owns
 * the job it took until it pushes it to the writer. It may touch: the job,
 * the current policy snapshot (acquire/release), the key set (read-only),
 * and LMDB through its own read transaction. It never writes to the store
 * and never touches a ZeroMQ socket. Every job goes on to the writer, even a
 * denial or an invalid request: nothing is answered before the writer has
 * made the request's audit event durable (DESIGN.md section 2).
 *
 * Untrusted input ends here: everything in the decoded request is checked
 * before it is used, and an error reply names at most a register, purpose or
 * field, never a value or a subject id.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "blind.h"
#include "clock.h"
#include "log.h"
#include "substate.h"
#include "worker.h"

#define WORKER_TAKE 8 /* jobs a worker takes at once */

/* A name from the request: non-empty and at most POL_MAX_NAME bytes (the
 * decoder has checked that it is UTF-8 without a NUL). */
bool
name_ok(const char *s)
{
	size_t n = strnlen(s, POL_MAX_NAME + 1);

	return n > 0 && n <= POL_MAX_NAME;
}

void
ev_subject(worker *w, job *j, const char *subject, size_t len)
{
	crypto_pseudonym(
	    w->srv->keys, (const uint8_t *)subject, len, j->pseudo);
	j->ev.subject.data = j->pseudo;
	j->ev.subject.len = CRYPTO_PSEUDONYMBYTES;
}

/*
 * Name the register, purpose and fields of a request in its audit event:
 * only names the policy declares, so nothing a client typed reaches the
 * audit log unless it is a name from the policy.
 */
static void
ev_names(job *j, const pol_decision *d, char **names, size_t n)
{
	const pol_field *f;
	char **out;
	size_t i, m = 0;

	if (d->reg == NULL)
		return;
	j->ev.register_ = d->reg->name;
	if (d->purpose != NULL)
		j->ev.purpose = d->purpose->name;
	if (n == 0 || (out = arena_alloc(&j->ar, n * sizeof(*out))) == NULL)
		return;
	for (i = 0; i < n; i++)
		if ((f = pol_field_find(d->reg, names[i])) != NULL)
			out[m++] = f->name;
	j->ev.fields = out;
	j->ev.n_fields = m;
}

/* The policy's principal for this connection: the ZAP User-Id names it, and
 * its key must still be the one the peer authenticated with, so a removed or
 * re-keyed principal loses access on its very next request. */
const pol_principal *
principal_of(const job *j)
{
	const pol_principal *p;

	p = pol_principal_by_name(j->snap->pol, j->principal);
	if (p != NULL &&
	    (!j->has_key || memcmp(p->key, j->key, POL_KEY_BYTES) != 0))
		p = NULL;
	return p;
}

/*
 * Decide a data request and check its field names (each at most once).
 * Returns 0 if allowed (*d filled), or fails the job and returns -1.
 */
/*
 * What the data subject asked for (issue 10): its restriction and
 * objections in register reg, for pol_decide. Only looked up once some
 * subject has a state (srv->subj_states), so a store without any costs
 * nothing. A state that does not authenticate restricts: when in doubt,
 * process less. Returns 0 with *have set if there is one, or -1 (the job
 * failed).
 */
static int
subject_state(worker *w, job *j, const char *reg, const char *subject,
    pol_subject_state *out, bool *have)
{
	const pol_register *r;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	subj_state ss;
	size_t len;
	int rc;

	*have = false;
	if (subject == NULL || !atomic_load(&w->srv->subj_states) ||
	    (r = pol_register_find(j->snap->pol, reg)) == NULL)
		return 0;
	len = strnlen(subject, CRYPTO_MAX_SUBJECT + 1);
	if (len == 0 || len > CRYPTO_MAX_SUBJECT)
		return 0; /* check_target refused it already */
	crypto_subject_id(
	    w->srv->keys, r->name, (const uint8_t *)subject, len, sid);
	if ((rc = store_read_begin(w->srv->st, &w->rtxn)) != 0) {
		worker_store_fail(j, rc);
		return -1;
	}
	rc = substate_get(w->srv->st, w->rtxn, w->srv->keys, sid, &ss);
	store_read_end(w->srv->st, w->rtxn);
	if (rc == STORE_CORRUPTED) {
		log_err("register %s: a data subject's state does not "
		        "authenticate; treated as restricted",
		    r->name);
		memset(&ss, 0, sizeof(ss));
		ss.restricted = true;
	} else if (rc != 0) {
		worker_store_fail(j, rc);
		return -1;
	}
	substate_decide(&ss, r, out);
	*have = out->restricted || out->objected != 0;
	return 0;
}

/*
 * A database store that went away (STORE_UNAVAILABLE) is not damage: the
 * request is answered UNAVAILABLE, the client may retry (the read
 * transaction's next begin connects again, store_pg.c), and nothing is
 * logged as an integrity failure. While the database is down every
 * request comes here: the log says so at most a few lines a second.
 */
void
worker_store_fail(job *j, int rc)
{
	static log_limit lim;

	if (WORKER_STORE_GONE(rc)) {
		log_limited(&lim, LOG_WARN,
		    "the store's database is unavailable (%s): requests that "
		    "read it are answered UNAVAILABLE",
		    store_strerror(rc));
		job_fail(j, ST(UNAVAILABLE), 0,
		    "the store's database is unavailable; retry");
	} else {
		job_fail(j, ST(INTERNAL), 0, "store unavailable");
	}
}

/*
 * A read that failed part way: the database gone (worker_store_fail),
 * want of memory, or a store error that is logged with what failed. Only
 * the last is privd's own failure; none is called damage here, the
 * callers say so where a record did not decode or authenticate.
 */
void
worker_read_fail(job *j, int rc, const char *what, const char *msg)
{
	if (WORKER_STORE_GONE(rc)) {
		worker_store_fail(j, rc);
	} else if (rc == ENOMEM) {
		job_fail(j, ST(INTERNAL), 0, "out of memory");
	} else {
		log_err("%s: %s", what, store_strerror(rc));
		job_fail(j, ST(INTERNAL), 0, "%s", msg);
	}
}

int
worker_decide(worker *w, job *j, const char *reg, const char *subject,
    unsigned op, char **names, size_t n, pol_decision *d)
{
	uint64_t seen[POL_FIELD_WORDS] = {0};
	const pol_field *f;
	pol_subject_state state;
	pol_request pr;
	bool have;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!name_ok(names[i])) {
			job_fail(j, ST(INVALID), 0,
			    "field names must be 1..%d bytes", POL_MAX_NAME);
			return -1;
		}
	}
	memset(&pr, 0, sizeof(pr));
	pr.principal = principal_of(j);
	pr.reg = reg;
	pr.purpose = j->req->purpose;
	pr.op = op;
	pr.fields = (const char *const *)names;
	pr.nfields = n;
	/* first the request itself, then what the subject asked for: a
	 * principal that may not make the request learns nothing of the
	 * subject's restriction or objections */
	pol_decide(j->snap->pol, &pr, d);
	ev_names(j, d, names, n);
	if (d->reason != POL_ALLOW) {
		job_fail(j, ST(DENIED), d->reason, "%s", d->message);
		return -1;
	}
	/* a statistical purpose reads aggregates, never one person's data */
	if (d->purpose->statistical &&
	    j->req->op_case != PRIVD__V1__REQUEST__OP_AGGREGATE) {
		job_fail(j, ST(DENIED), POL_DENY_NO_GRANT,
		    "purpose %s is statistical: it reads aggregates only",
		    d->purpose->name);
		return -1;
	}
	if (subject_state(w, j, reg, subject, &state, &have) != 0)
		return -1;
	if (have) {
		pr.subject = &state;
		pol_decide(j->snap->pol, &pr, d);
		if (d->reason != POL_ALLOW) {
			job_fail(j, ST(DENIED), d->reason, "%s", d->message);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		f = pol_field_find(d->reg, names[i]);
		if (seen[f->index / 64] & (1ull << (f->index % 64))) {
			job_fail(
			    j, ST(INVALID), 0, "field %s named twice", f->name);
			return -1;
		}
		seen[f->index / 64] |= 1ull << (f->index % 64);
	}
	j->reg = d->reg;
	j->purpose = d->purpose->name;
	return 0;
}

void
do_ping(worker *w, job *j)
{
	Privd__V1__Response resp = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__PingResponse pong = PRIVD__V1__PING_RESPONSE__INIT;
	const pol_principal *p;

	if ((p = principal_of(j)) == NULL) {
		job_fail(j, ST(DENIED), POL_DENY_UNKNOWN_PRINCIPAL,
		    "this key is not a principal of the policy in force");
		return;
	}
	pong.server_version = PRIVD_VERSION;
	pong.principal = p->name;
	pong.policy_version = j->snap->version;
	resp.payload_case = PRIVD__V1__RESPONSE__PAYLOAD_PING;
	resp.ping = &pong;
	job_ok(j, &resp);
}

worker *
worker_new(server *srv)
{
	worker *w;

	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->srv = srv;
	if ((w->dk = sodium_malloc(CRYPTO_KEYBYTES)) == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

void
worker_free(worker **wp)
{
	worker *w;

	if (wp == NULL || (w = *wp) == NULL)
		return;
	if (w->rtxn != NULL)
		store_txn_abort(w->rtxn);
	sodium_free(w->dk);
	free(w);
	*wp = NULL;
}

void *
worker_main(void *arg)
{
	worker *w;
	job *batch, *j;

	if ((w = worker_new(arg)) == NULL)
		fatal("worker: out of secure memory");
	/* A few jobs at a time, handed to the writer together: one queue
	 * operation (and at most one wake-up) each way instead of one per
	 * request. Few enough that the other workers still get their share
	 * of a burst. */
	while ((batch = jobq_take(&w->srv->work, WORKER_TAKE)) != NULL) {
		for (j = batch; j != NULL; j = j->next)
			worker_handle(w, j);
		jobq_push(&w->srv->commit, batch);
	}
	worker_free(&w);
	return NULL;
}
