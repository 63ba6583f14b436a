/*
 * test_audit_fixture.c - a large audit log and a brute-force oracle for
 * audit queries; see test_audit_fixture.h.
 */
#define _GNU_SOURCE
#include "test_audit_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define DEC(x)       PRIVD__V1__DECISION__##x
#define ST(x)        PRIVD__V1__STATUS__##x
#define AL_TXN       6400                /* events per write transaction */
#define AL_T0        1700000000000000ull /* the first event's clock */
#define AL_MAX_PAGES 100000              /* no walk needs this many */

const uint8_t al_pseudo[AL_SUBJECTS][CRYPTO_PSEUDONYMBYTES] = {
    {0xa1, 0xa1, 0xa1}, {0xb2, 0xb2, 0xb2}, {0xc3, 0xc3, 0xc3}};

/* A deterministic draw for (seq, salt): splitmix64. */
static uint64_t
draw(uint64_t seq, uint64_t salt)
{
	uint64_t z = seq * 0x9e3779b97f4a7c15ull + salt * 0xbf58476d1ce4e5b9ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The made-up request of event seq: most events by subject 0 and alice,
 * so that their plans have more entries than one page may examine, some
 * rare ones, and ops, registers, request ids and outcomes mixed in. */
static void
invent(al_event *e, uint64_t seq, int *status)
{
	uint64_t r;

	e->seq = seq;
	r = draw(seq, 1) % 100;
	e->subject = r < 86 ? 0 : r < 95 ? 1 : r < 96 ? 2 : AL_NO_SUBJ;
	r = draw(seq, 2) % 100;
	e->principal = r < 86   ? "alice"
	               : r < 95 ? "bob"
	               : r < 99 ? "retention"
	                        : "carol";
	r = draw(seq, 3) % 1000;
	e->op = r < 600   ? "get"
	        : r < 850 ? "put"
	        : r < 950 ? "delete"
	        : r < 998 ? "policy_get"
	                  : "audit_query";
	r = draw(seq, 4) % 20;
	e->reg = r < 14 ? "customers" : r < 19 ? "staff" : "";
	e->request_id = draw(seq, 5) % 6000;
	r = draw(seq, 6) % 40;
	*status = r < 5 ? ST(DENIED) : r == 5 ? ST(INVALID) : ST(OK);
}

/* Index the log up to seq upto, in runs of AL_RUN events, as the writer
 * does. */
static void
index_upto(al_log *l, uint64_t upto)
{
	audit_ix ix;
	store_txn *txn;
	uint64_t to;

	do {
		assert_int_equal(store_txn_begin(l->st, 0, &txn), 0);
		assert_int_equal(audit_ix_load(l->st, txn, &ix), 0);
		ix.from_log = true;
		assert_int_equal(
		    audit_ix_flush(l->st, txn, &ix,
		        upto - ix.mark < AL_RUN ? upto - ix.mark : AL_RUN, &to),
		    0);
		assert_int_equal(store_txn_commit(txn), 0);
	} while (to < upto);
	l->mark = upto;
}

al_log *
al_new(size_t n)
{
	al_log *l = calloc(1, sizeof(*l));
	uint64_t clock = AL_T0, now, r;
	audit_state a;
	store_txn *txn;
	char err[256];
	size_t done = 0, i;
	al_event *e;
	int status;
	job *j;

	assert_non_null(l);
	memcpy(l->dir, AL_TMPL, sizeof(AL_TMPL));
	assert_non_null(mkdtemp(l->dir));
	assert_int_equal(store_open(l->dir, STORE_DEFAULT_MAPSIZE, true, &l->st,
	                     err, sizeof(err)),
	    0);
	assert_non_null(l->ev = calloc(n + 1, sizeof(*l->ev)));
	l->n = n;
	assert_non_null(j = job_new());
	while (done < n) {
		assert_int_equal(store_txn_begin(l->st, 0, &txn), 0);
		assert_int_equal(audit_load(l->st, txn, &a), 0);
		for (i = 0; i < AL_TXN && done < n; i++, done++) {
			e = &l->ev[a.seq + 1];
			invent(e, a.seq + 1, &status);
			privd__v1__audit_event__init(&j->ev);
			j->ev.principal = (char *)e->principal;
			j->ev.op = (char *)e->op;
			j->ev.register_ = (char *)e->reg;
			if (e->subject != AL_NO_SUBJ) {
				j->ev.subject.data =
				    (uint8_t *)al_pseudo[e->subject];
				j->ev.subject.len = CRYPTO_PSEUDONYMBYTES;
			}
			j->ev.request_id = e->request_id;
			j->ev.policy_version = 1;
			j->status = status;
			j->reason =
			    status == ST(DENIED) ? POL_DENY_NO_GRANT : 0;
			/* mostly equal times; sometimes the clock goes
			 * back, and the stored time stays level */
			r = draw(e->seq, 7) % 100;
			if (r >= 70 && r < 97)
				clock += 1 + draw(e->seq, 8) % 2000000;
			now = r >= 97 ? clock - 5000000 : clock;
			assert_int_equal(
			    audit_append(l->st, txn, &a, j, now), 0);
			assert_int_equal(a.seq, e->seq);
			e->time_us = j->ev.time_us;
			e->decision = j->ev.decision;
		}
		assert_int_equal(store_txn_commit(txn), 0);
	}
	job_free(j);
	index_upto(l, n < AL_INDEXED ? n : AL_INDEXED);
	return l;
}

void
al_free(al_log **lp)
{
	al_log *l = *lp;
	char path[sizeof(AL_TMPL) + 16];

	store_close(&l->st);
	snprintf(path, sizeof(path), "%s/data.mdb", l->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/lock.mdb", l->dir);
	unlink(path);
	assert_int_equal(rmdir(l->dir), 0);
	free(l->ev);
	free(l);
	*lp = NULL;
}

void
al_damage(al_log *l, uint64_t seq, bool short_record)
{
	/* field number 0 is not a field: no decoder accepts this */
	static const uint8_t garbage[] = {0x07, 0xff, 0xff, 0x13, 0x37};
	uint8_t kb[8], rec[AUDIT_HASHBYTES + sizeof(garbage)];
	store_val k = {8, kb}, v;
	store_txn *txn;

	assert_null(
	    privd__v1__audit_event__unpack(NULL, sizeof(garbage), garbage));
	store_be64(kb, seq);
	assert_int_equal(store_txn_begin(l->st, 0, &txn), 0);
	assert_int_equal(store_get(txn, STORE_AUDIT, &k, &v), 0);
	memcpy(rec, v.data, AUDIT_HASHBYTES); /* the hash stays */
	memcpy(rec + AUDIT_HASHBYTES, garbage, sizeof(garbage));
	v.data = rec;
	v.size = short_record ? 10 : sizeof(rec);
	assert_int_equal(store_put(txn, STORE_AUDIT, &k, &v, 0), 0);
	assert_int_equal(store_txn_commit(txn), 0);
	l->ev[seq].damaged = true;
}

void
al_delete(al_log *l, uint64_t seq)
{
	uint8_t kb[8];
	store_val k = {8, kb};
	store_txn *txn;

	store_be64(kb, seq);
	assert_int_equal(store_txn_begin(l->st, 0, &txn), 0);
	assert_int_equal(store_del(txn, STORE_AUDIT, &k), 0);
	assert_int_equal(store_txn_commit(txn), 0);
	l->ev[seq].gone = true;
}

static size_t
count(const char *const *names)
{
	size_t n = 0;

	while (n < 4 && names[n] != NULL)
		n++;
	return n;
}

void
al_request(const al_log *l, const al_query *q,
    Privd__V1__AuditQueryRequest *req, const uint8_t **pseudo)
{
	privd__v1__audit_query_request__init(req);
	req->register_ = (char *)(q->reg != NULL ? q->reg : "");
	req->principal = (char *)(q->principal != NULL ? q->principal : "");
	if (q->since_at != 0)
		req->since_us = l->ev[q->since_at].time_us + q->since_plus;
	if (q->until_at != 0)
		req->until_us = l->ev[q->until_at].time_us + q->until_plus;
	req->from_seq = q->from_seq;
	req->to_seq = q->to_seq;
	req->n_ops = count(q->ops);
	req->ops = (char **)q->ops;
	req->n_not_ops = count(q->not_ops);
	req->not_ops = (char **)q->not_ops;
	req->request_id = q->request_id;
	req->decision = q->decision;
	req->limit = q->limit;
	req->newest_first = q->newest_first;
	req->follow = q->follow;
	*pseudo = q->subject != AL_NO_SUBJ ? al_pseudo[q->subject] : NULL;
}

Privd__V1__Response *
al_page(
    al_log *l, const Privd__V1__AuditQueryRequest *req, const uint8_t *pseudo)
{
	Privd__V1__Request r = PRIVD__V1__REQUEST__INIT;
	Privd__V1__Response *resp;
	store_txn *txn;
	job *j;

	assert_non_null(j = job_new());
	r.op_case = PRIVD__V1__REQUEST__OP_AUDIT_QUERY;
	r.audit_query = (Privd__V1__AuditQueryRequest *)req;
	j->req = &r;
	assert_int_equal(store_txn_begin(l->st, STORE_RDONLY, &txn), 0);
	audit_query(l->st, txn, j, pseudo);
	store_txn_abort(txn);
	assert_true(j->has_reply);
	resp = privd__v1__response__unpack(
	    NULL, zmq_msg_size(&j->reply), zmq_msg_data(&j->reply));
	assert_non_null(resp);
	job_free(j);
	return resp;
}

static bool
listed(const char *const *names, const char *name)
{
	size_t i, n = count(names);

	for (i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* What a query's walk examines: up to the index's mark, the entries of
 * the plan's index (its subject's or principal's); past it, every event of
 * the log. Is e one of them? */
static bool
candidate(const al_log *l, const al_query *q, const al_event *e)
{
	if (e->seq > l->mark)
		return !e->gone;
	if (q->subject != AL_NO_SUBJ)
		return e->subject == q->subject; /* damaged or gone too */
	if (q->principal != NULL)
		return strcmp(e->principal, q->principal) == 0;
	return !e->gone;
}

/*
 * The time a bound of a query sees for event e. A damaged event's time is
 * unknown to privd: against a since bound (after) it has the time of the
 * next event that decodes, against an until bound that of the one before,
 * and with none there it is inside the bound. Gone events are not in the
 * log, and have no say.
 */
static bool
bound_time(const al_log *l, const al_event *e, bool after, uint64_t *t)
{
	uint64_t s = e->seq;

	while (s >= 1 && s <= l->n &&
	       (l->ev[s].damaged || (l->ev[s].gone && s != e->seq)))
		s = after ? s + 1 : s - 1;
	if (s < 1 || s > l->n)
		return false;
	*t = l->ev[s].time_us;
	return true;
}

/* The seq range a query covers: its seq bounds and its time bounds. */
static bool
in_range(
    const al_log *l, const Privd__V1__AuditQueryRequest *r, const al_event *e)
{
	uint64_t t;

	return (r->from_seq == 0 || e->seq >= r->from_seq) &&
	       (r->to_seq == 0 || e->seq <= r->to_seq) &&
	       (r->since_us == 0 || !bound_time(l, e, true, &t) ||
	           t >= r->since_us) &&
	       (r->until_us == 0 || !bound_time(l, e, false, &t) ||
	           t < r->until_us);
}

/*
 * The oracle: an event the query must answer. A damaged one is in every
 * answer whose range holds it, if the walk examines it (past the mark, or
 * named by the plan's index); a gone one in none.
 */
static bool
wanted(const al_log *l, const al_query *q,
    const Privd__V1__AuditQueryRequest *r, const al_event *e)
{
	if (e->gone || !in_range(l, r, e) || !candidate(l, q, e))
		return false;
	if (e->damaged)
		return true;
	return (q->subject == AL_NO_SUBJ || e->subject == q->subject) &&
	       (q->principal == NULL ||
	           strcmp(e->principal, q->principal) == 0) &&
	       (q->reg == NULL || strcmp(e->reg, q->reg) == 0) &&
	       (q->decision == 0 || e->decision == q->decision) &&
	       (q->request_id == 0 || e->request_id == q->request_id) &&
	       (count(q->ops) == 0 || listed(q->ops, e->op)) &&
	       !listed(q->not_ops, e->op);
}

static bool
descending(const al_query *q)
{
	return q->newest_first && !q->follow;
}

size_t
al_expect(const al_log *l, const al_query *q, uint64_t *seqs)
{
	Privd__V1__AuditQueryRequest r;
	const uint8_t *pseudo;
	size_t i, n = 0;
	uint64_t seq;

	al_request(l, q, &r, &pseudo);
	for (i = 1; i <= l->n; i++) {
		seq = descending(q) ? l->n + 1 - i : i;
		if (wanted(l, q, &r, &l->ev[seq]))
			seqs[n++] = seq;
	}
	return n;
}

/* The entries a walk of q examines, in its order. */
static size_t
candidates(const al_log *l, const al_query *q,
    const Privd__V1__AuditQueryRequest *r, uint64_t *seqs)
{
	size_t i, n = 0;
	uint64_t seq;

	for (i = 1; i <= l->n; i++) {
		seq = descending(q) ? l->n + 1 - i : i;
		if (in_range(l, r, &l->ev[seq]) && candidate(l, q, &l->ev[seq]))
			seqs[n++] = seq;
	}
	return n;
}

/* Check one record of a page against the stored event it names. */
static void
check_record(const al_log *l, const Privd__V1__AuditRecord *rec)
{
	Privd__V1__AuditEvent *ev;

	assert_true(rec->seq >= 1 && rec->seq <= l->n);
	if (rec->damaged)
		return; /* test_audit_damage.c looks at its bytes */
	assert_int_equal(rec->hash.len, AUDIT_HASHBYTES);
	ev = privd__v1__audit_event__unpack(
	    NULL, rec->event.len, rec->event.data);
	assert_non_null(ev);
	assert_int_equal(ev->seq, rec->seq);
	assert_int_equal(ev->time_us, l->ev[rec->seq].time_us);
	privd__v1__audit_event__free_unpacked(ev, NULL);
}

void
al_walk_all(al_log *l, const al_query *q, al_walk *w)
{
	Privd__V1__AuditQueryRequest r;
	Privd__V1__AuditQueryResponse *qr;
	Privd__V1__Response *resp;
	uint8_t cursor[AUDIT_CURSOR_BYTES], prev[AUDIT_CURSOR_BYTES];
	const uint8_t *pseudo;
	uint64_t *cand, c;
	size_t ncand, ci = 0, k, i, limit;

	memset(w, 0, sizeof(*w));
	assert_non_null(w->seqs = calloc(l->n + 1, sizeof(*w->seqs)));
	assert_non_null(w->damaged = calloc(l->n + 1, sizeof(*w->damaged)));
	assert_non_null(cand = calloc(l->n + 1, sizeof(*cand)));
	al_request(l, q, &r, &pseudo);
	ncand = candidates(l, q, &r, cand);
	limit = q->limit == 0 ? 100 : q->limit;
	for (;;) {
		resp = al_page(l, &r, pseudo);
		if (resp->status != ST(OK))
			fail_msg("%s: page %zu: status %d (%s)", q->name,
			    w->pages, resp->status, resp->message);
		assert_non_null(qr = resp->audit_query);
		assert_true(qr->n_records <= limit);
		for (i = 0; i < qr->n_records; i++) {
			check_record(l, qr->records[i]);
			assert_true(w->n < l->n);
			w->seqs[w->n] = qr->records[i]->seq;
			w->damaged[w->n++] = qr->records[i]->damaged;
		}
		w->pages++;
		if (qr->next_cursor.len == 0) {
			/* the end: the page examined every entry left, and
			 * a full one had no next entry in range */
			assert_true(ncand - ci <= AUDIT_QUERY_MAX_EXAMINED);
			if (qr->n_records == limit && ncand > ci)
				assert_int_equal(
				    qr->records[qr->n_records - 1]->seq,
				    cand[ncand - 1]);
			privd__v1__response__free_unpacked(resp, NULL);
			break;
		}
		assert_int_equal(qr->next_cursor.len, AUDIT_CURSOR_BYTES);
		assert_int_equal(qr->next_cursor.data[0], AUDIT_CURSOR_VERSION);
		/* the cursor is the last entry examined: the page stopped
		 * because it was full or had examined all it may */
		c = store_get_be64(qr->next_cursor.data + 1);
		for (k = ci; k < ncand && cand[k] != c; k++)
			;
		if (k == ncand)
			fail_msg("%s: page %zu: the cursor is not the next "
			         "entry to examine",
			    q->name, w->pages);
		if (qr->n_records < limit) {
			assert_int_equal(k + 1 - ci, AUDIT_QUERY_MAX_EXAMINED);
			w->short_pages++;
		}
		ci = k + 1;
		if (r.cursor.len != 0)
			assert_memory_not_equal(
			    prev, qr->next_cursor.data, AUDIT_CURSOR_BYTES);
		memcpy(cursor, qr->next_cursor.data, AUDIT_CURSOR_BYTES);
		memcpy(prev, cursor, AUDIT_CURSOR_BYTES);
		r.cursor.data = cursor;
		r.cursor.len = AUDIT_CURSOR_BYTES;
		privd__v1__response__free_unpacked(resp, NULL);
		assert_true(w->pages < AL_MAX_PAGES);
	}
	free(cand);
}

void
al_walk_free(al_walk *w)
{
	free(w->seqs);
	free(w->damaged);
	memset(w, 0, sizeof(*w));
}

void
al_check(al_log *l, const al_query *q)
{
	uint64_t *want;
	size_t n, i;
	al_walk w;

	assert_non_null(want = calloc(l->n + 1, sizeof(*want)));
	n = al_expect(l, q, want);
	al_walk_all(l, q, &w);
	for (i = 0; i < n && i < w.n; i++)
		if (w.seqs[i] != want[i])
			fail_msg("%s%s: answer %zu is event %llu, expected "
			         "%llu",
			    q->name, q->newest_first ? " (newest first)" : "",
			    i, (unsigned long long)w.seqs[i],
			    (unsigned long long)want[i]);
	if (w.n != n)
		fail_msg("%s%s: %zu events in %zu pages, expected %zu", q->name,
		    q->newest_first ? " (newest first)" : "", w.n, w.pages, n);
	for (i = 0; i < n; i++)
		assert_int_equal(w.damaged[i], l->ev[want[i]].damaged);
	if (q->sparse && w.short_pages == 0)
		fail_msg("%s: never paged past the examined bound", q->name);
	if (getenv("AL_VERBOSE") != NULL)
		print_message("%-44s %-6s %5zu events %5zu pages, %zu at the "
		              "examined bound\n",
		    q->name, descending(q) ? "newest" : "oldest", w.n, w.pages,
		    w.short_pages);
	al_walk_free(&w);
	free(want);
}

/*
 * Every plan: the log by seq range (no subject, principal or time), by time
 * range, the subject index and the principal index, each with seq and time
 * bounds, every filter, and sparse filters that make pages stop at the
 * examined bound. Callers run each oldest and newest first.
 */
const al_query al_queries[] = {
    /* the log, by seq */
    {.name = "everything", .subject = AL_NO_SUBJ, .limit = 1000},
    {.name = "seq range",
        .subject = AL_NO_SUBJ,
        .from_seq = 1000,
        .to_seq = 9000},
    {.name = "seq range, small pages",
        .subject = AL_NO_SUBJ,
        .from_seq = 12000,
        .to_seq = 12300,
        .limit = 7},
    {.name = "from_seq", .subject = AL_NO_SUBJ, .from_seq = 22000},
    {.name = "to_seq", .subject = AL_NO_SUBJ, .to_seq = 3000, .limit = 1000},
    {.name = "one seq",
        .subject = AL_NO_SUBJ,
        .from_seq = 5000,
        .to_seq = 5000,
        .limit = 1},
    {.name = "empty seq range",
        .subject = AL_NO_SUBJ,
        .from_seq = 9000,
        .to_seq = 8000},
    {.name = "past the end", .subject = AL_NO_SUBJ, .from_seq = 30000},
    {.name = "sparse by not_ops",
        .subject = AL_NO_SUBJ,
        .not_ops = {"get", "put", "delete", "policy_get"},
        .limit = 1000,
        .sparse = true},
    {.name = "sparse by request id",
        .subject = AL_NO_SUBJ,
        .request_id = 4242,
        .sparse = true},
    {.name = "request id in a seq range",
        .subject = AL_NO_SUBJ,
        .request_id = 77,
        .from_seq = 2000,
        .to_seq = 24000},
    {.name = "register and decision",
        .subject = AL_NO_SUBJ,
        .reg = "staff",
        .decision = DEC(REFUSED)},
    {.name = "ops",
        .subject = AL_NO_SUBJ,
        .ops = {"put", "delete"},
        .limit = 1000},
    {.name = "ops and not_ops",
        .subject = AL_NO_SUBJ,
        .ops = {"put", "delete"},
        .not_ops = {"delete"},
        .to_seq = 7000,
        .limit = 1000},
    /* the log, by time */
    {.name = "issue 7: time bounds and from_seq 22000",
        .subject = AL_NO_SUBJ,
        .since_at = 1,
        .until_at = AL_EVENTS,
        .until_plus = 1,
        .from_seq = 22000},
    {.name = "issue 7: time bounds and to_seq 3000",
        .subject = AL_NO_SUBJ,
        .since_at = 1,
        .until_at = AL_EVENTS,
        .until_plus = 1,
        .to_seq = 3000},
    {.name = "time range",
        .subject = AL_NO_SUBJ,
        .since_at = 5004,
        .until_at = 15002,
        .limit = 1000},
    {.name = "since, just after a time",
        .subject = AL_NO_SUBJ,
        .since_at = 20000,
        .since_plus = 1},
    {.name = "since", .subject = AL_NO_SUBJ, .since_at = 21005},
    {.name = "until", .subject = AL_NO_SUBJ, .until_at = 4002, .limit = 1000},
    {.name = "time range, sparse",
        .subject = AL_NO_SUBJ,
        .since_at = 5,
        .until_at = AL_EVENTS,
        .ops = {"audit_query"},
        .sparse = true},
    {.name = "time and seq bounds",
        .subject = AL_NO_SUBJ,
        .since_at = 3009,
        .until_at = 20000,
        .from_seq = 5000,
        .to_seq = 18000},
    {.name = "since after the last event",
        .subject = AL_NO_SUBJ,
        .since_at = AL_EVENTS,
        .since_plus = 1},
    {.name = "until the first event", .subject = AL_NO_SUBJ, .until_at = 1},
    {.name = "time range, small pages",
        .subject = AL_NO_SUBJ,
        .since_at = 7000,
        .until_at = 7403,
        .not_ops = {"get"},
        .limit = 3},
    /* the subject index */
    {.name = "subject", .subject = 0, .limit = 1000},
    {.name = "subject, sparse",
        .subject = 0,
        .ops = {"audit_query"},
        .limit = 1000,
        .sparse = true},
    {.name = "subject, sparse by request id",
        .subject = 0,
        .request_id = 4242,
        .sparse = true},
    {.name = "subject, time and from_seq",
        .subject = 1,
        .since_at = 2000,
        .until_at = 23001,
        .from_seq = 10000},
    {.name = "rare subject, small pages", .subject = 2, .limit = 7},
    {.name = "subject and principal",
        .subject = 0,
        .principal = "bob",
        .not_ops = {"get"}},
    {.name = "subject, seq range",
        .subject = 1,
        .from_seq = 3333,
        .to_seq = 4444,
        .limit = 10},
    /* the principal index */
    {.name = "principal",
        .principal = "alice",
        .subject = AL_NO_SUBJ,
        .limit = 1000},
    {.name = "principal, sparse",
        .principal = "alice",
        .subject = AL_NO_SUBJ,
        .request_id = 1234,
        .sparse = true},
    {.name = "rare principal, small pages",
        .principal = "carol",
        .subject = AL_NO_SUBJ,
        .limit = 3},
    {.name = "principal, time and to_seq",
        .principal = "bob",
        .subject = AL_NO_SUBJ,
        .until_at = 20000,
        .to_seq = 15000},
    {.name = "principal and every filter",
        .principal = "alice",
        .subject = AL_NO_SUBJ,
        .reg = "customers",
        .decision = DEC(REFUSED),
        .ops = {"get", "put"}},
    {.name = "unknown principal", .principal = "nobody", .subject = AL_NO_SUBJ},
    /* follow: seq >= from_seq, oldest first, whatever newest_first says */
    {.name = "follow",
        .subject = AL_NO_SUBJ,
        .follow = true,
        .from_seq = 20000,
        .not_ops = {"get"}},
    {.name = "follow, sparse",
        .subject = AL_NO_SUBJ,
        .follow = true,
        .not_ops = {"get", "put", "delete", "policy_get"},
        .limit = 1000,
        .sparse = true},
};
const size_t al_nqueries = sizeof(al_queries) / sizeof(al_queries[0]);
