/*
 * test_durability.c - a kill -9 under load loses nothing acknowledged
 * (issue 8): several clients put, overwrite and delete as fast as privd
 * answers; privd is killed with SIGKILL in the middle of that, several
 * times over, and restarted on the same data directory. Every acknowledged
 * request must then have happened: each acknowledged put reads back with
 * exactly its values (or those of a later request of the same client on
 * that subject that was in flight at the kill), each acknowledged delete
 * stays deleted, the whole audit log verifies against the signing key
 * pinned before the first kill, and the audit log holds the event of
 * each acknowledged request (a sample, found by a query by subject).
 *
 * A request in flight at the kill may or may not have happened: a client
 * has at most one in flight, so the check allows the state before it and
 * the state after it for that subject, and nothing else.
 *
 * Sizes (environment, for slower builds): PRIVD_IT_DUR_ACKS acknowledged
 * requests per round before the kill (default 2000), PRIVD_IT_DUR_ROUNDS
 * kills (default 3).
 *
 * Worker threads never call cmocka assertions (they are not thread-safe):
 * they record what happened, and the main thread asserts after joining them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"

#define REG "customers"
#define INV "invoicing"

/* Register customers with three fields, svc may read, write and delete
 * them, and an auditor. */
static const char POLICY[] = H_POL_CONTROLLER
    " \"registers\": {\"customers\": {\n"
    "   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n"
    "   \"fields\": {\n"
    "     \"name\": {\"category\": \"identity\", \"type\": \"string\"},\n"
    "     \"email\": {\"category\": \"contact\", \"type\": \"email\"},\n"
    "     \"notes\": {\"category\": \"feedback\", \"type\": "
    "\"text\"}}}},\n" H_POL_PRINCIPALS H_POL_SVC_RWD
    ",\n" H_POL_AUDITOR H_POL_END;

#define NTHREADS 6
/* A client's deadline per call. The one in flight at the kill waits all of
 * it (libprivd cannot tell a dead privd from a slow one), so the load's is
 * short, but long enough for a slow build on a busy machine. */
#define CALL_MS      10000
#define LOAD_CALL_MS 3000
#define LOAD_WAIT_MS 120000
#define AUDIT_SAMPLE 24 /* acknowledged requests looked up per round */

/* What a request did to its subject, and the states a subject can be in. */
enum { OP_PUT1, OP_PUT2, OP_DEL };
enum { S_ABSENT, S_V1, S_V2 };

typedef struct dop {
	uint32_t subj; /* index of the subject in its thread's round */
	uint8_t kind;  /* OP_* */
	bool acked;    /* privd answered OK */
	uint64_t rid;  /* request id, to find its audit event */
} dop;

typedef struct dworker {
	int round, id;
	privd_client *c;
	dop *ops; /* in the order sent; at most one not acked, the last */
	size_t nops, cap;
	int fail_rc;             /* what stopped the thread */
	bool failed_before_kill; /* it came before the kill */
} dworker;

static atomic_int kill_sent;
static atomic_int acked_total;

static int
env_int(const char *name, int def, int min)
{
	const char *s = getenv(name);
	int v;

	if (s == NULL || *s == '\0')
		return def;
	v = atoi(s);
	return v < min ? min : v;
}

static void
subject_of(char *buf, size_t len, int round, int t, uint32_t i)
{
	snprintf(buf, len, "dur-%d-%d-%u", round, t, i);
}

/* The three values of a version (1 or 2) of a subject. */
typedef struct dvals {
	char name[64], email[64], notes[96];
} dvals;

static void
values_of(dvals *v, int round, int t, uint32_t i, int version)
{
	snprintf(v->name, sizeof(v->name), "Person %d-%d-%u v%d", round, t, i,
	    version);
	snprintf(v->email, sizeof(v->email), "p%d.%d.%u.v%d@example.fi", round,
	    t, i, version);
	snprintf(v->notes, sizeof(v->notes),
	    "round %d, thread %d, entry %u, version %d", round, t, i, version);
}

/* One request of w; false once the thread must stop. */
static bool
send_op(dworker *w, uint32_t subj, int kind)
{
	char subject[48];
	dop *op;
	int rc;

	if (w->nops == w->cap)
		return false;
	subject_of(subject, sizeof(subject), w->round, w->id, subj);
	op = &w->ops[w->nops++];
	op->subj = subj;
	op->kind = (uint8_t)kind;
	if (kind == OP_DEL) {
		rc = privd_delete(w->c, REG, subject, INV, NULL, 0, NULL);
	} else {
		dvals v;

		values_of(&v, w->round, w->id, subj, kind == OP_PUT1 ? 1 : 2);
		privd_field f[] = {h_field("name", v.name),
		    h_field("email", v.email), h_field("notes", v.notes)};
		rc = privd_put(w->c, REG, subject, INV, f, 3);
	}
	op->rid = privd_last_request_id(w->c);
	if (rc != PRIVD_OK) {
		/* Read the flag after the call failed: if it is still
		 * clear, the failure came before the kill. */
		w->failed_before_kill = atomic_load(&kill_sent) == 0;
		w->fail_rc = rc;
		return false;
	}
	op->acked = true;
	atomic_fetch_add(&acked_total, 1);
	return true;
}

/*
 * Each thread puts new subjects one after another; thread 0 also deletes
 * the subject before every third one, thread 1 overwrites it with its
 * second version.
 */
static void *
dworker_run(void *arg)
{
	dworker *w = arg;

	for (uint32_t i = 0;; i++) {
		if (!send_op(w, i, OP_PUT1))
			break;
		if (i % 3 != 2 || w->id > 1)
			continue;
		if (!send_op(w, i - 1, w->id == 0 ? OP_DEL : OP_PUT2))
			break;
	}
	return NULL;
}

/* One round: load, kill when acks acknowledged requests have come back,
 * join the threads (whose calls then fail) and check none failed before. */
static void
load_and_kill(harness *h, dworker *w, int round, int acks)
{
	pthread_t th[NTHREADS];
	int64_t deadline = h_now_ms() + LOAD_WAIT_MS;
	int total = 0;

	atomic_store(&kill_sent, 0);
	atomic_store(&acked_total, 0);
	for (int t = 0; t < NTHREADS; t++) {
		memset(&w[t], 0, sizeof(w[t]));
		w[t].round = round;
		w[t].id = t;
		/* no thread gets more than acks before the kill, and some
		 * in flight meanwhile */
		w[t].cap = 2 * (size_t)acks + 64;
		w[t].ops = calloc(w[t].cap, sizeof(dop));
		assert_non_null(w[t].ops);
		assert_int_equal(h_connect(h, "svc", &w[t].c), PRIVD_OK);
		privd_set_timeout(w[t].c, LOAD_CALL_MS);
	}
	for (int t = 0; t < NTHREADS; t++)
		assert_int_equal(
		    pthread_create(&th[t], NULL, dworker_run, &w[t]), 0);
	/* a count of answers, not a time, so a slow build kills as late */
	while (atomic_load(&acked_total) < acks && h_now_ms() < deadline &&
	       h_running(h))
		h_sleep_ms(2);
	atomic_store(&kill_sent, 1);
	if (!h_running(h))
		fail_msg("round %d: privd died under the load (wait status "
		         "%d)",
		    round, h->last_wstatus);
	assert_int_equal(h_kill(h), 0);
	for (int t = 0; t < NTHREADS; t++) {
		pthread_join(th[t], NULL);
		privd_close(&w[t].c);
	}
	for (int t = 0; t < NTHREADS; t++) {
		if (w[t].failed_before_kill)
			fail_msg("round %d, thread %d: a request failed before "
			         "the kill: %s",
			    round, t, privd_strerror(w[t].fail_rc));
		total += (int)w[t].nops;
	}
	if (atomic_load(&acked_total) < acks)
		fail_msg("round %d: only %d of %d requests acknowledged in "
		         "%d ms",
		    round, atomic_load(&acked_total), acks, LOAD_WAIT_MS);
	fprintf(stderr, "# round %d: killed after %d acknowledged of %d sent\n",
	    round, atomic_load(&acked_total), total);
}

/* What a subject of a thread must hold: state after every acknowledged
 * request, alt (or -1) if the one in flight at the kill happened; touched
 * is false if the thread sent nothing for it. */
typedef struct dexpect {
	int8_t state, alt;
	bool touched;
} dexpect;

/* The expectations of every subject of w (calloc'd; the caller frees). */

static dexpect *
expected_states(const dworker *w)
{
	uint32_t nsubj = 0;
	dexpect *e;

	for (size_t k = 0; k < w->nops; k++)
		if (w->ops[k].subj + 1 > nsubj)
			nsubj = w->ops[k].subj + 1;
	e = calloc(nsubj + 1, sizeof(*e));
	assert_non_null(e);
	for (uint32_t i = 0; i <= nsubj; i++)
		e[i].alt = -1;
	for (size_t k = 0; k < w->nops; k++) {
		const dop *op = &w->ops[k];
		int8_t s = op->kind == OP_PUT1   ? S_V1
		           : op->kind == OP_PUT2 ? S_V2
		                                 : S_ABSENT;

		e[op->subj].touched = true;
		if (op->acked)
			e[op->subj].state = s;
		else
			e[op->subj].alt = s;
	}
	return e;
}

/* The state a subject reads back in: S_ABSENT, S_V1, S_V2, or -1 (and why
 * in a failure) if it holds anything else. */
static int
read_state(
    privd_client *c, int round, int t, uint32_t i, char *why, size_t wlen)
{
	char subject[48];
	privd_record *rec = NULL;
	int rc, found = -1;

	subject_of(subject, sizeof(subject), round, t, i);
	rc = privd_get(c, REG, subject, INV, NULL, 0, &rec);
	if (rc == PRIVD_ENOTFOUND)
		return S_ABSENT;
	if (rc != PRIVD_OK) {
		snprintf(why, wlen, "get: %s (%s)", privd_strerror(rc),
		    privd_errmsg(c));
		return -1;
	}
	for (int version = 1; version <= 2 && found < 0; version++) {
		const privd_field *n, *e, *o;
		dvals v;

		values_of(&v, round, t, i, version);
		n = privd_record_field(rec, "name");
		e = privd_record_field(rec, "email");
		o = privd_record_field(rec, "notes");
		if (rec->nfields == 3 && n != NULL && e != NULL && o != NULL &&
		    n->len == strlen(v.name) &&
		    memcmp(n->value, v.name, n->len) == 0 &&
		    e->len == strlen(v.email) &&
		    memcmp(e->value, v.email, e->len) == 0 &&
		    o->len == strlen(v.notes) &&
		    memcmp(o->value, v.notes, o->len) == 0)
			found = version == 1 ? S_V1 : S_V2;
	}
	if (found < 0)
		snprintf(why, wlen, "%zu fields, not the values of any put",
		    rec->nfields);
	privd_record_free(&rec);
	return found;
}

static const char *const state_name[] = {"absent", "version 1", "version 2"};

/* Every subject of w (every step-th of them) reads back as expected. */
static void
check_data(privd_client *c, const dworker *w, uint32_t step)
{
	dexpect *e = expected_states(w);
	uint32_t nsubj = 0;
	char why[160];

	for (size_t k = 0; k < w->nops; k++)
		if (w->ops[k].subj + 1 > nsubj)
			nsubj = w->ops[k].subj + 1;
	for (uint32_t i = 0; i < nsubj; i += step) {
		int got;

		if (!e[i].touched)
			continue;
		why[0] = '\0';
		got = read_state(c, w->round, w->id, i, why, sizeof(why));
		if (got == e[i].state || (e[i].alt >= 0 && got == e[i].alt))
			continue;
		fail_msg("round %d, thread %d, subject %u: %s, expected %s%s%s",
		    w->round, w->id, i, got < 0 ? why : state_name[got],
		    state_name[e[i].state], e[i].alt >= 0 ? " or " : "",
		    e[i].alt >= 0 ? state_name[e[i].alt] : "");
	}
	free(e);
}

/* The audit event of acknowledged request op is among its subject's
 * events, as privd reported the request: allowed and OK. */
static void
check_event(privd_client *a, const dworker *w, const dop *op)
{
	static const char *const queries[] = {"audit_query"};
	privd_audit_filter f = {0};
	char subject[48];
	const char *want = op->kind == OP_DEL ? "delete" : "put";
	size_t i, found = 0;
	evlist l;

	subject_of(subject, sizeof(subject), w->round, w->id, op->subj);
	f.subject = subject;
	f.not_ops = queries;
	f.nnot_ops = 1;
	f.limit = 1000;
	collect(a, &f, &l);
	for (i = 0; i < l.n; i++) {
		if (i > 0)
			assert_true(l.ev[i]->seq > l.ev[i - 1]->seq);
		if (l.ev[i]->request_id != op->rid)
			continue;
		found++;
		if (strcmp(l.ev[i]->op, want) != 0 ||
		    strcmp(l.ev[i]->principal, "svc") != 0 ||
		    l.ev[i]->decision != PRIVD_DECISION_ALLOWED ||
		    l.ev[i]->status != 1 || !l.ev[i]->has_subject)
			fail_msg("round %d, thread %d, subject %u: event %s "
			         "for an acknowledged %s",
			    w->round, w->id, op->subj, ev_str(l.ev[i]), want);
	}
	if (found != 1)
		fail_msg("round %d, thread %d, subject %u: %zu events of the "
		         "acknowledged %s among its %zu events",
		    w->round, w->id, op->subj, found, want, l.n);
	evlist_free(&l);
}

/* A sample of w's acknowledged requests, spread over the round. */
static void
check_events(privd_client *a, const dworker *w, size_t nsample)
{
	size_t step = w->nops / (nsample + 1);

	if (step == 0)
		step = 1;
	for (size_t k = step / 2; k < w->nops && nsample > 0; k += step) {
		if (!w->ops[k].acked)
			continue;
		check_event(a, w, &w->ops[k]);
		nsample--;
	}
}

static void
test_kill_under_load_loses_nothing_acknowledged(void **state)
{
	harness *h = *state;
	int acks = env_int("PRIVD_IT_DUR_ACKS", 2000, 50);
	int rounds = env_int("PRIVD_IT_DUR_ROUNDS", 3, 1);
	dworker(*w)[NTHREADS] = calloc((size_t)rounds, sizeof(*w));
	privd_client *c, *a;
	uint64_t checked = 0;
	uint8_t pk[32];

	assert_non_null(w);
	/* the key is pinned before any kill: a restart must not change it,
	 * and the log must verify against it */
	a = client(h, "auditor");
	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	privd_close(&a);

	for (int r = 0; r < rounds; r++) {
		int64_t t0 = h_now_ms(), t1, t2;

		load_and_kill(h, w[r], r, acks);
		assert_int_equal(h_start(h, NULL), 0);
		t1 = h_now_ms();

		c = client(h, "svc");
		privd_set_timeout(c, CALL_MS);
		for (int t = 0; t < NTHREADS; t++)
			check_data(c, &w[r][t], 1);
		/* what earlier kills left must survive this one too */
		for (int p = 0; p < r; p++)
			for (int t = 0; t < NTHREADS; t++)
				check_data(c, &w[p][t], 7);
		privd_close(&c);
		t2 = h_now_ms();

		a = client(h, "auditor");
		privd_set_timeout(a, 30000);
		audit_verify_ok(a, pk, &checked);
		assert_true(checked >= (uint64_t)acks * (uint64_t)(r + 1));
		for (int t = 0; t < NTHREADS; t++)
			check_events(a, &w[r][t], AUDIT_SAMPLE / NTHREADS);
		privd_close(&a);
		fprintf(stderr,
		    "# round %d: load, kill and restart %lld ms, data read "
		    "back in %lld ms, audit log (%llu events) in %lld ms\n",
		    r, (long long)(t1 - t0), (long long)(t2 - t1),
		    (unsigned long long)checked, (long long)(h_now_ms() - t2));
	}
	for (int r = 0; r < rounds; r++)
		for (int t = 0; t < NTHREADS; t++)
			free(w[r][t].ops);
	free(w);
}

static int
setup(void **state)
{
	static const char *const keys[] = {"svc", "auditor"};

	return h_setup(state, keys, 2, POLICY, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_kill_under_load_loses_nothing_acknowledged, setup,
	        h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/durability", tests, NULL, NULL);
}
