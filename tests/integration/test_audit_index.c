/*
 * test_audit_index.c - audit queries by subject and by principal are exact
 * under write load (issue 8), whatever privd does behind the log to keep
 * its indexes: writers keep adding events while an auditor queries the
 * subjects and the principal of a writer that paused at a known count:
 * every event of it, none twice, in seq order, and newest_first the
 * reverse. After kill -9 and after pruning: test_audit_index_crash.c; what
 * the two share: audit_index_common.h.
 *
 * An auditor's query by subject is itself an event of that subject, one
 * per page: the checks leave those out (not_ops audit_query), except the
 * last check of each subject, which expects them too.
 *
 * Sizes (environment, for slower builds): PRIVD_IT_AIX_ROUNDS and
 * PRIVD_IT_AIX_BATCH, the pauses of each of the 4 writers and the
 * requests between them (default 8 x 1000: 32000 events, so that privd
 * brings its indexes up to date many times).
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

#include <cmocka.h>

#include "audit_index_common.h"
#include "auditlog.h"
#include "checks.h"
#include "harness.h"

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

/*
 * Four writers in rounds; at each writer's pause the auditor checks it
 * (check_paused) while the other three go on writing; at the end, with all
 * at rest, every subject and principal of each once more.
 */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_query_exact_under_write_load, setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/audit_index_load", tests, NULL, NULL);
}
