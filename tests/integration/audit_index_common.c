/*
 * audit_index_common.c - what the audit index tests share (see
 * audit_index_common.h): policy and set-up, id lists, queries checked
 * against them, the writers and their threads.
 *
 * DESIGN: writer_run and batch_run run on threads of their own, one per
 * writer; each touches only its writer (its client, lists and results)
 * and, for the pause, mu and cv, and never calls a cmocka assertion. The
 * rest runs on the test's main thread, which reads a writer's lists only
 * while it is paused or joined.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "audit_index_common.h"
#include "auditlog.h"
#include "checks.h"
#include "harness.h"

const char POLICY[] = H_POL_CONTROLLER POL_REGS POL_PRINCIPALS;

const char *const keys[NKEYS] = {"auditor", "w0", "w1", "w2", "w3", "noise"};

const char *const not_queries[] = {"audit_query"};

pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

int
env_int(const char *name, int def, int min)
{
	const char *s = getenv(name);
	int v;

	if (s == NULL || *s == '\0')
		return def;
	v = atoi(s);
	return v < min ? min : v;
}

int
setup(void **state)
{
	return h_setup(state, keys, NKEYS, POLICY, NULL);
}

/* ---- request ids ------------------------------------------------------ */

void
id_add(idlist *l, uint64_t id)
{
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 256 : 2 * l->cap;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (l->v == NULL)
			abort(); /* threads cannot fail the test */
	}
	l->v[l->n++] = id;
}

void
id_free(idlist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void
collect_pages(
    privd_client *a, const privd_audit_filter *f, evlist *l, idlist *pages)
{
	privd_audit_page *pg = NULL, *prev = NULL;
	int rc;

	memset(l, 0, sizeof(*l));
	for (;;) {
		rc = privd_audit_query(a, f, prev ? prev->cursor : NULL,
		    prev ? prev->cursorlen : 0, &pg);
		expect_rc(a, rc, PRIVD_OK, "audit query");
		if (pages != NULL)
			id_add(pages, privd_last_request_id(a));
		assert_true(++l->npagesread < 100000);
		if (f->limit != 0)
			assert_true(pg->n <= f->limit);
		l->pages =
		    realloc(l->pages, (l->npages + 1) * sizeof(*l->pages));
		l->ev = realloc(l->ev, (l->n + pg->n + 1) * sizeof(*l->ev));
		assert_non_null(l->pages);
		assert_non_null(l->ev);
		l->pages[l->npages++] = pg;
		for (size_t i = 0; i < pg->n; i++)
			l->ev[l->n++] = &pg->events[i];
		if (pg->cursor == NULL)
			break;
		if (prev != NULL && pg->cursorlen == prev->cursorlen &&
		    memcmp(pg->cursor, prev->cursor, pg->cursorlen) == 0)
			fail_msg("privd handed back the cursor it was sent");
		prev = pg;
	}
}

void
expect_ids(const evlist *l, const uint64_t *want, size_t n, bool desc,
    const char *principal, bool subject, const char *what)
{
	for (size_t i = 0; i < l->n && i < n; i++) {
		const privd_audit_event *e = l->ev[i];
		uint64_t id = want[desc ? n - 1 - i : i];

		if (e->request_id != id)
			fail_msg("%s: event %zu of %zu is %s, not request %llu "
			         "(%zu expected)",
			    what, i, l->n, ev_str(e), (unsigned long long)id,
			    n);
		if (i > 0 && (desc ? e->seq >= l->ev[i - 1]->seq
		                   : e->seq <= l->ev[i - 1]->seq))
			fail_msg("%s: event %zu out of seq order: %s", what, i,
			    ev_str(e));
		if (principal != NULL && strcmp(e->principal, principal) != 0)
			fail_msg("%s: %s", what, ev_str(e));
		if (subject &&
		    (!e->has_subject || memcmp(e->subject, l->ev[0]->subject,
		                            sizeof(e->subject)) != 0))
			fail_msg(
			    "%s: event %s of another subject", what, ev_str(e));
	}
	if (l->n != n)
		fail_msg("%s: %zu events, expected %zu", what, l->n, n);
}

void
query_expect(privd_client *a, const privd_audit_filter *f, const uint64_t *want,
    size_t n, const char *principal, idlist *pages, const char *what)
{
	evlist l;

	collect_pages(a, f, &l, pages);
	expect_ids(&l, want, n, f->newest_first, principal,
	    f->subject != NULL && f->subject[0] != '\0', what);
	evlist_free(&l);
}

/* ---- writers ---------------------------------------------------------- */

void
subject_of(char *buf, size_t len, const char *prefix, int w, int s)
{
	snprintf(buf, len, "%s-%d-%d", prefix, w, s);
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * One request on subject, picked by r: a put, a get, a get privd denies
 * (a purpose the register does not have), or a delete of a field or of
 * the subject. Each is one event of the subject. 0 if privd answered as
 * it should, else what it answered.
 */
static int
one_request(privd_client *c, const char *subject, uint64_t r)
{
	static const char *const email[] = {"email"};
	privd_field f[] = {h_field("name", "Index Person"),
	    h_field("email", "index@example.fi")};
	privd_record *rec = NULL;
	unsigned k = (unsigned)(r % 10);
	int rc;

	if (k < 4) {
		rc = privd_put(c, REG, subject, INV, f, r % 2 + 1);
		return rc == PRIVD_OK ? 0 : rc;
	}
	if (k == 7) {
		rc = privd_get(c, REG, subject, "marketing", NULL, 0, &rec);
		privd_record_free(&rec);
		return rc == PRIVD_EDENIED ? 0 : rc;
	}
	if (k < 7)
		rc = privd_get(c, REG, subject, INV, NULL, 0, &rec);
	else
		rc = privd_delete(
		    c, REG, subject, INV, k == 8 ? email : NULL, k == 8, NULL);
	privd_record_free(&rec);
	return rc == PRIVD_OK || rc == PRIVD_ENOTFOUND ? 0 : rc;
}

void
writer_init(writer *w, harness *h, const char *key, int id, const char *prefix)
{
	memset(w, 0, sizeof(*w));
	w->id = id;
	w->prefix = prefix;
	snprintf(w->key, sizeof(w->key), "%s", key);
	w->rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1);
	assert_int_equal(h_connect(h, w->key, &w->c), PRIVD_OK);
	privd_set_timeout(w->c, CALL_MS);
}

void
writer_free(writer *w)
{
	privd_close(&w->c);
	for (int s = 0; s < NSUBJ; s++) {
		id_free(&w->subj[s]);
		id_free(&w->full[s]);
	}
	id_free(&w->all);
}

int
writer_batch(writer *w, int n, int nsubj)
{
	char subject[32];
	uint64_t id, r;
	int s, rc;

	for (int i = 0; i < n; i++) {
		r = rnd(&w->rng);
		s = (int)((r >> 32) % (uint64_t)nsubj);
		subject_of(subject, sizeof(subject), w->prefix, w->id, s);
		rc = one_request(w->c, subject, r);
		if (rc != 0) {
			w->pending = privd_last_request_id(w->c);
			w->pending_s = s;
			return rc;
		}
		id = privd_last_request_id(w->c);
		id_add(&w->subj[s], id);
		id_add(&w->full[s], id);
		id_add(&w->all, id);
	}
	return 0;
}

/* ---- writer threads --------------------------------------------------- */

void *
writer_run(void *arg)
{
	writer *w = arg;
	int rc = 0;

	for (int r = 0; r < w->rounds && rc == 0; r++) {
		rc = writer_batch(w, w->batch, NSUBJ);
		pthread_mutex_lock(&mu);
		w->fail_rc = rc;
		w->paused = rc == 0;
		pthread_cond_broadcast(&cv);
		while (w->paused)
			pthread_cond_wait(&cv, &mu);
		pthread_mutex_unlock(&mu);
	}
	pthread_mutex_lock(&mu);
	w->done = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	return NULL;
}

void
wait_paused(writer *w)
{
	struct timespec ts;
	bool paused;
	int rc = 0, fail_rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_MS / 1000;
	pthread_mutex_lock(&mu);
	while (!w->paused && !w->done && rc == 0)
		rc = pthread_cond_timedwait(&cv, &mu, &ts);
	paused = w->paused;
	fail_rc = w->fail_rc;
	pthread_mutex_unlock(&mu);
	if (fail_rc != 0)
		fail_msg(
		    "%s: privd answered %s", w->key, privd_strerror(fail_rc));
	if (!paused)
		fail_msg("%s made no progress in %d ms", w->key, WAIT_MS);
}

/* A thread: one batch of w->batch requests on subjects 0..w->nsubj-1. */
static void *
batch_run(void *arg)
{
	writer *w = arg;

	w->fail_rc = writer_batch(w, w->batch, w->nsubj);
	return NULL;
}

void
run_batches(writer *w, int n, int nsubj)
{
	pthread_t th[NWRITERS];

	for (int i = 0; i < NWRITERS; i++) {
		w[i].batch = n / NWRITERS;
		w[i].nsubj = nsubj;
		assert_int_equal(
		    pthread_create(&th[i], NULL, batch_run, &w[i]), 0);
	}
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < NWRITERS; i++)
		if (w[i].fail_rc != 0)
			fail_msg("%s: privd answered %s", w[i].key,
			    privd_strerror(w[i].fail_rc));
}
