/*
 * test_audit_index.c - audit queries by subject, by principal and by time
 * are exact at every moment (issue 8), whatever privd does behind the log
 * to keep its indexes:
 * - under write load: writers keep adding events while an auditor queries
 *   the subjects and the principal of a writer that paused at a known
 *   count: every event of it, none twice, in seq order, and newest_first
 *   the reverse;
 * - after kill -9: the answers right after the restart are as exact, by
 *   subject, principal and time window;
 * - after pruning: the answers hold exactly the events kept.
 *
 * Every request a writer makes is one event of its subject and its
 * principal, and a writer's handle sends one request at a time, so the
 * request ids it saw, in order, are those events in seq order. An
 * auditor's query by subject is itself an event of that subject, one per
 * page: the checks leave those out (not_ops audit_query), except the last
 * check of each subject, which expects them too.
 *
 * Sizes (environment, for slower builds): PRIVD_IT_AIX_ROUNDS and
 * PRIVD_IT_AIX_BATCH, the pauses of each of the 4 writers and the
 * requests between them (default 8 x 1000: 32000 events, so that privd
 * brings its indexes up to date many times); PRIVD_IT_AIX_PHASE, the
 * requests of each of the 3 phases before the kill (default 1500);
 * PRIVD_IT_AIX_OLD and PRIVD_IT_AIX_FRESH, the events pruned and kept
 * (default 10000 and 8000: several bulk writes of the index).
 *
 * Worker threads never call cmocka assertions: they record what happened,
 * and the main thread asserts.
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
#include <time.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"

#define REG "customers"
#define INV "invoicing"

#define WGRANT                                                                 \
	"\"region\": \"FI\", \"grants\": [{\"register\": \"customers\", "      \
	"\"purposes\": [\"invoicing\"], \"fields\": [\"*\"], \"ops\": "        \
	"[\"read\", \"write\", \"delete\"]}]}"
#define WRITER(n) "  \"" n "\": {\"key\": \"@KEY:" n "@\", " WGRANT ",\n"
#define POL_REGS                                                               \
	" \"registers\": {\"customers\": {\n"                                  \
	"   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n" \
	"   \"fields\": {\n"                                                   \
	"     \"name\": {\"category\": \"identity\", \"type\": \"string\"},\n" \
	"     \"email\": {\"category\": \"contact\", \"type\": "               \
	"\"email\"}}}},\n"
#define POL_PRINCIPALS                                                         \
	H_POL_PRINCIPALS WRITER("w0") WRITER("w1") WRITER("w2") WRITER("w3")   \
	    WRITER("noise") H_POL_AUDITOR H_POL_END

static const char POLICY[] = H_POL_CONTROLLER POL_REGS POL_PRINCIPALS;
/* The same keeping the log an hour, for pruning on the test clock. */
static const char POLICY_HOUR[] = H_POL_CONTROLLER
    " \"audit\": {\"retention\": \"1 hour\"},\n" POL_REGS POL_PRINCIPALS;

/* The auditor is the first key: the harness's readiness pings are its
 * own, not a writer's. */
static const char *const keys[] = {"auditor", "w0", "w1", "w2", "w3", "noise"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

#define NWRITERS 4
#define NSUBJ    8     /* subjects per writer */
#define CALL_MS  10000 /* a client's deadline per call */
/* and the noise's: its call in flight at the kill waits all of it */
#define NOISE_CALL_MS 3000
#define WAIT_MS       120000

static const char *const not_queries[] = {"audit_query"};

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

/* ---- request ids ------------------------------------------------------ */

typedef struct idlist {
	uint64_t *v;
	size_t n, cap;
} idlist;

static void
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

static void
id_free(idlist *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/*
 * Every page of a query, as collect() does, into l; the request id of each
 * page (an event itself) is added to pages (may be NULL).
 */
static void
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

/*
 * l holds exactly the events of the request ids want[0..n) (in reverse
 * order if desc), each once, in strictly rising seq order (falling if
 * desc), and of principal (unless NULL); with a subject, all share one
 * pseudonym. Fails the test, saying what, if not.
 */
static void
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

/* Run f, all pages, and expect exactly want[0..n) (expect_ids, in the
 * order f asks for); the pages' request ids go to pages (may be NULL). */
static void
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

static void
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

typedef struct writer {
	int id;
	char key[8];        /* its principal */
	const char *prefix; /* of its subjects' ids */
	privd_client *c;
	uint64_t rng;
	idlist subj[NSUBJ]; /* its requests, by subject */
	idlist full[NSUBJ]; /* and the auditor's queries of the subject */
	idlist all;         /* all its requests */
	int rounds, batch, nsubj;
	size_t kept[NSUBJ + 1]; /* what pruning keeps: subj[s] from kept[s],
	                           all from kept[NSUBJ] */
	/* under mu */
	bool paused; /* waits for the auditor to let it go on */
	bool done;
	int fail_rc; /* what privd answered that it should not have */
	/* the request that failed, on subject pending_s */
	uint64_t pending;
	int pending_s;
	bool failed_before_kill;
} writer;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static void
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

static void
writer_free(writer *w)
{
	privd_close(&w->c);
	for (int s = 0; s < NSUBJ; s++) {
		id_free(&w->subj[s]);
		id_free(&w->full[s]);
	}
	id_free(&w->all);
}

/* n requests of w on its subjects 0..nsubj-1; 0, or what privd answered
 * wrongly. */
static int
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

/* Rounds of batch requests, pausing after each until the auditor has
 * looked. */
static void *
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

/* ---- checks ----------------------------------------------------------- */

/*
 * Subject s of w by subject: its requests in order (the auditor's queries
 * left out), oldest or newest first, limit per page. The pages' events go
 * to w->full[s].
 */
static void
check_subject(privd_client *a, writer *w, int s, bool desc, uint32_t limit)
{
	privd_audit_filter f = {0};
	char subject[32], what[96];
	idlist pages = {0};

	subject_of(subject, sizeof(subject), w->prefix, w->id, s);
	f.subject = subject;
	f.not_ops = not_queries;
	f.nnot_ops = 1;
	f.newest_first = desc;
	f.limit = limit;
	snprintf(what, sizeof(what), "%s subject %d after %zu requests%s",
	    w->key, s, w->subj[s].n, desc ? ", newest first" : "");
	query_expect(a, &f, w->subj[s].v, w->subj[s].n, w->key, &pages, what);
	for (size_t i = 0; i < pages.n; i++)
		id_add(&w->full[s], pages.v[i]);
	id_free(&pages);
}

/*
 * The same with the auditor's queries of the subject: all of them before
 * this one, then maybe some of this one's own earlier pages (privd may
 * answer a page with the events committed since the query began).
 */
static void
check_subject_full(privd_client *a, writer *w, int s)
{
	privd_audit_filter f = {0};
	char subject[32], what[96];
	idlist pages = {0};
	size_t n = w->full[s].n, extra;
	evlist l;

	subject_of(subject, sizeof(subject), w->prefix, w->id, s);
	f.subject = subject;
	f.limit = 500;
	collect_pages(a, &f, &l, &pages);
	snprintf(
	    what, sizeof(what), "%s subject %d with the queries", w->key, s);
	extra = l.n > n ? l.n - n : 0;
	if (extra > pages.n)
		fail_msg("%s: %zu events, expected %zu and at most %zu of "
		         "its own pages",
		    what, l.n, n, pages.n);
	for (size_t i = 0; i < extra; i++)
		id_add(&w->full[s], pages.v[i]);
	expect_ids(&l, w->full[s].v, w->full[s].n, false, NULL, true, what);
	for (size_t i = extra; i < pages.n; i++)
		id_add(&w->full[s], pages.v[i]);
	id_free(&pages);
	evlist_free(&l);
}

/* Principal of w: all its requests, oldest or newest first. */
static void
check_principal(privd_client *a, const writer *w, bool desc)
{
	privd_audit_filter f = {0};
	char what[96];

	f.principal = w->key;
	f.newest_first = desc;
	f.limit = 1000;
	snprintf(what, sizeof(what), "principal %s after %zu requests%s",
	    w->key, w->all.n, desc ? ", newest first" : "");
	query_expect(a, &f, w->all.v, w->all.n, w->key, NULL, what);
}

/* What the auditor checks of a paused writer, round r: every subject at
 * one of three page sizes, one newest first, and its principal. */
static void
check_paused(privd_client *a, writer *w, int r)
{
	static const uint32_t limits[] = {1000, 97, 7};

	for (int s = 0; s < NSUBJ; s++)
		check_subject(a, w, s, false, limits[(s + r) % 3]);
	check_subject(a, w, r % NSUBJ, true, 250);
	check_principal(a, w, false);
}

/* ---- under write load --------------------------------------------------- */

/* Wait until w pauses (its lists are still while it waits on mu's
 * condition); fails the test if it failed or does not. */
static void
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

static void
test_query_exact_under_write_load(void **state)
{
	harness *h = *state;
	int rounds = env_int("PRIVD_IT_AIX_ROUNDS", 8, 1);
	int batch = env_int("PRIVD_IT_AIX_BATCH", 1000, 10);
	privd_client *a = client(h, "auditor");
	writer *w = calloc(NWRITERS, sizeof(*w));
	pthread_t th[NWRITERS];
	int64_t t0 = h_now_ms();
	uint64_t last;

	assert_non_null(w);
	privd_set_timeout(a, CALL_MS);
	for (int i = 0; i < NWRITERS; i++) {
		writer_init(&w[i], h, keys[1 + i], i, "ix");
		w[i].rounds = rounds;
		w[i].batch = batch;
	}
	for (int i = 0; i < NWRITERS; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, writer_run, &w[i]), 0);

	/* the auditor looks at each writer when it pauses, while the others
	 * go on writing */
	for (int r = 1; r <= rounds; r++) {
		for (int i = 0; i < NWRITERS; i++) {
			wait_paused(&w[i]);
			check_paused(a, &w[i], r);
			pthread_mutex_lock(&mu);
			w[i].paused = false;
			pthread_cond_broadcast(&cv);
			pthread_mutex_unlock(&mu);
		}
	}
	for (int i = 0; i < NWRITERS; i++)
		pthread_join(th[i], NULL);

	/* and everything once more, at rest */
	last = head(a);
	if (last < (uint64_t)NWRITERS * rounds * batch)
		fail_msg(
		    "only %llu events in the log", (unsigned long long)last);
	for (int i = 0; i < NWRITERS; i++) {
		for (int s = 0; s < NSUBJ; s++) {
			check_subject(a, &w[i], s, false, 1000);
			check_subject(a, &w[i], s, true, 1000);
			check_subject_full(a, &w[i], s);
		}
		check_principal(a, &w[i], false);
		check_principal(a, &w[i], true);
	}
	audit_verify_ok(a, NULL, NULL);
	fprintf(stderr, "# %d checks of paused writers, %llu events, %lld ms\n",
	    rounds * NWRITERS, (unsigned long long)last,
	    (long long)(h_now_ms() - t0));
	for (int i = 0; i < NWRITERS; i++)
		writer_free(&w[i]);
	free(w);
	privd_close(&a);
}

/* ---- after kill -9 ---------------------------------------------------- */

#define NOISE_SUBJ 4

static atomic_int noise_acked, noise_stopped, kill_sent;

/* The requests of principal noise on subjects of its own, from a thread,
 * until privd goes away: the kill comes in the middle of them. */
static void *
noise_run(void *arg)
{
	writer *w = arg;

	while ((w->fail_rc = writer_batch(w, 1, NOISE_SUBJ)) == 0)
		atomic_fetch_add(&noise_acked, 1);
	w->failed_before_kill = atomic_load(&kill_sent) == 0;
	atomic_store(&noise_stopped, 1);
	return NULL;
}

/* privd's clock now, once it has moved past it: what came before has a
 * time <= the value returned, what comes after a greater one. */
static uint64_t
time_mark(const harness *h)
{
	uint64_t t = h_clock_us(h);

	while (h_clock_us(h) <= t)
		;
	return t;
}

/* The events of noise n, of its subject s (-1: all): the acknowledged
 * ones, in order, and maybe the one in flight at the kill, last. */
static void
check_noise(privd_client *a, const writer *n, int s)
{
	const idlist *want = s >= 0 ? &n->subj[s] : &n->all;
	privd_audit_filter f = {0};
	char subject[32];
	evlist l;
	bool plus;

	f.limit = 1000;
	f.not_ops = not_queries;
	f.nnot_ops = 1;
	if (s >= 0) {
		subject_of(subject, sizeof(subject), n->prefix, n->id, s);
		f.subject = subject;
	} else {
		f.principal = n->key;
	}
	collect_pages(a, &f, &l, NULL);
	/* the request in flight may have been committed */
	plus = l.n == want->n + 1 && (s < 0 || s == n->pending_s) &&
	       l.ev[want->n]->request_id == n->pending;
	if (plus)
		l.n--;
	expect_ids(&l, want->v, want->n, false, n->key, s >= 0,
	    s >= 0 ? "noise subject after the kill" : "noise after the kill");
	if (plus)
		l.n++;
	evlist_free(&l);
}

/*
 * Three phases of requests by w0 on a few subjects, each in a time window
 * of its own, with noise's requests going on all along; privd is killed in
 * the middle of noise's requests and restarted. Its first answers are
 * exact: by subject, by principal, and by time window.
 */
static void
test_index_catches_up_after_kill(void **state)
{
	harness *h = *state;
	int phase = env_int("PRIVD_IT_AIX_PHASE", 1500, 10);
	size_t at[4][NSUBJ + 1]; /* per phase start: subj[s].n, all.n */
	uint64_t t[4];           /* time marks between the phases */
	privd_audit_filter f = {0};
	privd_client *a;
	pthread_t th;
	writer w, n;
	char subject[32], what[96];
	int64_t deadline, t0 = h_now_ms(), t1;
	int base;

	writer_init(&w, h, "w0", 0, "ku");
	writer_init(&n, h, "noise", 0, "kn");
	privd_set_timeout(n.c, NOISE_CALL_MS);
	atomic_store(&kill_sent, 0);
	atomic_store(&noise_acked, 0);
	atomic_store(&noise_stopped, 0);
	assert_int_equal(pthread_create(&th, NULL, noise_run, &n), 0);

	for (int p = 0; p < 4; p++) {
		t[p] = time_mark(h);
		for (int s = 0; s < NSUBJ; s++)
			at[p][s] = w.subj[s].n;
		at[p][NSUBJ] = w.all.n;
		if (p < 3 && writer_batch(&w, phase, 3) != 0)
			fail_msg("phase %d: privd answered wrongly", p);
	}
	/* the kill comes while noise's requests go on */
	base = atomic_load(&noise_acked);
	deadline = h_now_ms() + WAIT_MS;
	while (atomic_load(&noise_acked) < base + 200 &&
	       !atomic_load(&noise_stopped) && h_now_ms() < deadline)
		h_sleep_ms(2);
	atomic_store(&kill_sent, 1);
	assert_int_equal(h_kill(h), 0);
	pthread_join(th, NULL);
	if (n.failed_before_kill)
		fail_msg("noise: privd answered %s before the kill",
		    privd_strerror(n.fail_rc));
	assert_true(atomic_load(&noise_acked) >= base + 200);

	t1 = h_now_ms();
	assert_int_equal(h_start(h, NULL), 0);
	a = client(h, "auditor");
	privd_set_timeout(a, CALL_MS);

	/* first everything (no time bounds), then each phase's time window,
	 * and the last two together; some newest first */
	for (int c = 0; c < 6; c++) {
		static const int8_t from[] = {0, 0, 0, 1, 2, 1};
		int p0 = from[c], p1 = c < 2 ? 3 : c == 5 ? 3 : p0 + 1;

		memset(&f, 0, sizeof(f));
		f.since_us = c < 2 ? 0 : t[p0] + 1;
		f.until_us = c < 2 ? 0 : t[p1] + 1;
		f.limit = c == 1 ? 300 : 1000;
		f.newest_first = c == 1 || c == 3;
		f.principal = "w0";
		snprintf(what, sizeof(what), "w0, phases %d to %d%s", p0,
		    p1 - 1, c < 2 ? "" : " by time");
		query_expect(a, &f, w.all.v + at[p0][NSUBJ],
		    at[p1][NSUBJ] - at[p0][NSUBJ], "w0", NULL, what);
		f.principal = NULL;
		f.not_ops = not_queries;
		f.nnot_ops = 1;
		for (int s = 0; s < 3; s++) {
			subject_of(subject, sizeof(subject), "ku", 0, s);
			f.subject = subject;
			snprintf(what, sizeof(what),
			    "subject %d, phases %d to %d%s", s, p0, p1 - 1,
			    c < 2 ? "" : " by time");
			query_expect(a, &f, w.subj[s].v + at[p0][s],
			    at[p1][s] - at[p0][s], "w0", NULL, what);
		}
	}

	/* noise, with the request in flight at the kill or without it */
	for (int s = -1; s < NOISE_SUBJ; s++)
		check_noise(a, &n, s);
	audit_verify_ok(a, NULL, NULL);
	fprintf(stderr,
	    "# %zu requests in 3 phases and %d of noise in %lld ms; killed, "
	    "restarted and checked in %lld ms\n",
	    w.all.n, atomic_load(&noise_acked), (long long)(t1 - t0),
	    (long long)(h_now_ms() - t1));

	privd_close(&a);
	writer_free(&w);
	writer_free(&n);
}

/* ---- pruning ------------------------------------------------------------ */

/* The oldest event kept. */
static uint64_t
first_kept(privd_client *a)
{
	privd_audit_checkpoint *ck = NULL;
	uint64_t first = 0;
	size_t n = 0;

	expect_rc(a,
	    privd_audit_checkpoints(a, 0, 0, &ck, &n, &first, NULL, NULL, NULL),
	    PRIVD_OK, "checkpoints");
	privd_free(ck);
	return first;
}

/* w's requests from w->kept on, and none before, by subject and by
 * principal. */
static void
check_kept(privd_client *a, const writer *w, const char *when)
{
	size_t k = w->kept[NSUBJ];
	privd_audit_filter f = {0};
	char subject[32], what[96];

	f.limit = 1000;
	f.principal = w->key;
	for (int desc = 0; desc < 2; desc++) {
		f.newest_first = desc;
		snprintf(what, sizeof(what), "%s %s%s", w->key, when,
		    desc ? ", newest first" : "");
		query_expect(
		    a, &f, w->all.v + k, w->all.n - k, w->key, NULL, what);
	}
	memset(&f, 0, sizeof(f));
	f.limit = 200;
	f.not_ops = not_queries;
	f.nnot_ops = 1;
	for (int s = 0; s < NSUBJ; s++) {
		subject_of(subject, sizeof(subject), w->prefix, w->id, s);
		f.subject = subject;
		f.newest_first = s % 2;
		snprintf(
		    what, sizeof(what), "%s subject %d %s", w->key, s, when);
		query_expect(a, &f, w->subj[s].v + w->kept[s],
		    w->subj[s].n - w->kept[s], w->key, NULL, what);
	}
}

/* A thread: one batch of w->batch requests on subjects 0..w->nsubj-1. */
static void *
batch_run(void *arg)
{
	writer *w = arg;

	w->fail_rc = writer_batch(w, w->batch, w->nsubj);
	return NULL;
}

/* n requests of the writers, together, on their subjects 0..nsubj-1. */
static void
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

/*
 * Events made by the writers on eight subjects each; two hours pass for
 * privd, which keeps its log for an hour; then more events on half the
 * subjects, enough that the index's bulk write that holds the oldest
 * events kept also holds older ones and is not the last. A restart prunes
 * the old events: queries answer exactly what is kept, the other half
 * none, and so after a kill -9 as well.
 */
static void
test_pruned_log_queries_exact(void **state)
{
	harness *h = *state;
	int old = env_int("PRIVD_IT_AIX_OLD", 10000, 40);
	int fresh = env_int("PRIVD_IT_AIX_FRESH", 8000, 40);
	privd_client *a = client(h, "auditor");
	writer *w = calloc(NWRITERS, sizeof(*w));
	uint64_t old_last, first;
	int64_t deadline, t0 = h_now_ms();
	uint8_t pk[32];

	assert_non_null(w);
	privd_set_timeout(a, CALL_MS);
	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	for (int i = 0; i < NWRITERS; i++)
		writer_init(&w[i], h, keys[1 + i], i, "pr");
	run_batches(w, old, NSUBJ);
	for (int i = 0; i < NWRITERS; i++) {
		for (int s = 0; s < NSUBJ; s++)
			w[i].kept[s] = w[i].subj[s].n;
		w[i].kept[NSUBJ] = w[i].all.n;
	}
	old_last = head(a);
	/* signed at the old time: pruning goes up to a checkpoint */
	if (audit_wait_signed(a, old_last, 10000) < 0)
		fail_msg("event %llu not signed within 10 s",
		    (unsigned long long)old_last);

	assert_int_equal(h_clock_set(h, 2 * 3600), 0);
	h_clock_wait();
	run_batches(w, fresh, NSUBJ / 2);

	/* pruning runs at start, a chunk at a time */
	assert_int_equal(h_restart(h), 0);
	deadline = h_now_ms() + WAIT_MS;
	while ((first = first_kept(a)) <= old_last) {
		if (h_now_ms() > deadline)
			fail_msg("events up to %llu not pruned (oldest kept: "
			         "%llu)",
			    (unsigned long long)old_last,
			    (unsigned long long)first);
		h_sleep_ms(20);
	}
	for (int i = 0; i < NWRITERS; i++)
		check_kept(a, &w[i], "after pruning");
	audit_verify_ok(a, pk, NULL);

	assert_int_equal(h_kill(h), 0);
	assert_int_equal(h_start(h, NULL), 0);
	for (int i = 0; i < NWRITERS; i++)
		check_kept(a, &w[i], "after pruning and a kill");
	audit_verify_ok(a, pk, NULL);
	fprintf(stderr, "# pruned up to %llu, %d old and %d fresh, %lld ms\n",
	    (unsigned long long)first - 1, old, fresh,
	    (long long)(h_now_ms() - t0));
	for (int i = 0; i < NWRITERS; i++)
		writer_free(&w[i]);
	free(w);
	privd_close(&a);
}

static int
setup(void **state)
{
	return h_setup(state, keys, NKEYS, POLICY, NULL);
}

/* A retention floor of a second, and the log kept an hour, on the test
 * clock. */
static int
setup_hour(void **state)
{
	static const char *const init[] = {
	    "--audit-retention-min", "1 second", NULL};
	static const h_opts o = {.init_args = init, .test_clock = true};

	return h_setup_opt(state, keys, NKEYS, POLICY_HOUR, NULL, &o);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_query_exact_under_write_load, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_index_catches_up_after_kill, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pruned_log_queries_exact, setup_hour, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/audit_index", tests, NULL, NULL);
}
