/*
 * test_audit_index_crash.c - audit queries by subject, by principal and by
 * time are exact right after privd comes back (issue 8), whatever state
 * its indexes were left in:
 * - after kill -9: the answers right after the restart are as exact, by
 *   subject, principal and time window;
 * - after pruning: the answers hold exactly the events kept, and so after
 *   a kill -9 as well.
 * Under write load: test_audit_index.c; what the two share:
 * audit_index_common.h.
 *
 * Sizes (environment, for slower builds): PRIVD_IT_AIX_PHASE, the
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

#include <cmocka.h>

#include "audit_index_common.h"
#include "auditlog.h"
#include "checks.h"
#include "harness.h"

/* The audit index tests' policy keeping the log an hour, for pruning on
 * the test clock. */
static const char POLICY_HOUR[] = H_POL_CONTROLLER
    " \"audit\": {\"retention\": \"1 hour\"},\n" POL_REGS POL_PRINCIPALS;

/* ---- after kill -9 ---------------------------------------------------- */

#define NOISE_SUBJ 4 /* noise's subjects */
/* noise's deadline per call: its call in flight at the kill waits all of
 * it */
#define NOISE_CALL_MS 3000

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
	        test_index_catches_up_after_kill, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pruned_log_queries_exact, setup_hour, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/audit_index_crash", tests, NULL, NULL);
}
