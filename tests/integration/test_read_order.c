/*
 * test_read_order.c - what a client reads after a write, under load:
 * its own acknowledged put is what its next get returns, and a value that
 * another client's put had acknowledged before a get began is never
 * missed; a client's successive gets of one value never go back to an
 * older one.
 *
 * Why: LMDB 0.9's read transactions can copy a meta page the writer is
 * rewriting for a later commit than they registered (store_lmdb.c,
 * read_settle), so a read could see a commit not yet acknowledged and
 * the next one an older commit. The store's read snapshot is renewed per
 * request by privd's workers; this is what a client sees of it.
 *
 * Worker threads never call cmocka assertions: they record, and the main
 * thread asserts after joining them.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"

#define REG     "customers"
#define PURPOSE "invoicing"

#define OWN_THREADS 4   /* put then get, each its own subject */
#define OWN_ROUNDS  150 /* puts of each */
#define MONO_READS  4   /* readers of the counter */
#define MONO_PUTS   300 /* the counter's puts */

typedef struct tally {
	int fails;    /* a request failed */
	int first_rc; /* the first failure's code */
	int stale;    /* read an older value than it must */
	int back;     /* read an older value than the read before */
	int torn;     /* a value that was never written */
	unsigned long reads;
} tally;

static void
failed(tally *t, int rc)
{
	if (t->fails++ == 0)
		t->first_rc = rc;
}

static int
put_n(privd_client *c, const char *subject, unsigned long n)
{
	char v[32];

	snprintf(v, sizeof(v), "%lu", n);
	privd_field f[] = {{"notes", (const uint8_t *)v, strlen(v)}};
	return privd_put(c, REG, subject, PURPOSE, f, 1);
}

/* The subject's counter: 0 if absent, -1 (torn) if not a number we
 * wrote. */
static int
get_n(privd_client *c, const char *subject, long *n)
{
	privd_record *rec = NULL;
	const privd_field *f;
	char buf[32];
	char *end;
	int rc;

	*n = 0;
	rc = privd_get(c, REG, subject, PURPOSE, NULL, 0, &rec);
	if (rc == PRIVD_ENOTFOUND)
		return PRIVD_OK;
	if (rc != PRIVD_OK)
		return rc;
	f = privd_record_field(rec, "notes");
	if (f == NULL || f->len == 0 || f->len >= sizeof(buf))
		*n = -1;
	else {
		memcpy(buf, f->value, f->len);
		buf[f->len] = '\0';
		*n = strtol(buf, &end, 10);
		if (*end != '\0' || *n <= 0)
			*n = -1;
	}
	privd_record_free(&rec);
	return PRIVD_OK;
}

/* ---- a client's own put, then its get -------------------------------- */

typedef struct own {
	int id;
	privd_client *c;
	pthread_barrier_t *start;
	tally t;
} own;

static void *
own_run(void *arg)
{
	own *o = arg;
	char subject[32];
	long n;
	int rc;

	snprintf(subject, sizeof(subject), "own-%d", o->id);
	pthread_barrier_wait(o->start);
	for (unsigned long i = 1; i <= OWN_ROUNDS; i++) {
		if ((rc = put_n(o->c, subject, i)) != PRIVD_OK) {
			failed(&o->t, rc);
			continue;
		}
		if ((rc = get_n(o->c, subject, &n)) != PRIVD_OK) {
			failed(&o->t, rc);
			continue;
		}
		o->t.reads++;
		if (n < 0)
			o->t.torn++;
		else if ((unsigned long)n != i)
			o->t.stale++;
	}
	return NULL;
}

static void
check(const char *who, int i, const tally *t)
{
	if (t->fails != 0)
		fail_msg("%s %d: %d requests failed, first: %s", who, i,
		    t->fails, privd_strerror(t->first_rc));
	if (t->torn != 0)
		fail_msg("%s %d: %d reads of a value never written", who, i,
		    t->torn);
	if (t->stale != 0)
		fail_msg("%s %d: %d reads older than an acknowledged put", who,
		    i, t->stale);
	if (t->back != 0)
		fail_msg("%s %d: %d reads older than the read before", who, i,
		    t->back);
}

/*
 * Clients each put a new value of their own subject and get it at once,
 * all at the same time, so that every get's read snapshot is taken while
 * the writer commits the others' puts: every get returns the put just
 * acknowledged.
 */
static void
test_own_put_then_get(void **state)
{
	harness *h = *state;
	own o[OWN_THREADS];
	pthread_t th[OWN_THREADS];
	pthread_barrier_t start;

	assert_int_equal(pthread_barrier_init(&start, NULL, OWN_THREADS), 0);
	memset(o, 0, sizeof(o));
	for (int i = 0; i < OWN_THREADS; i++) {
		o[i].id = i;
		o[i].start = &start;
		assert_int_equal(h_connect(h, "svc", &o[i].c), PRIVD_OK);
	}
	for (int i = 0; i < OWN_THREADS; i++)
		assert_int_equal(
		    pthread_create(&th[i], NULL, own_run, &o[i]), 0);
	for (int i = 0; i < OWN_THREADS; i++) {
		pthread_join(th[i], NULL);
		privd_close(&o[i].c);
	}
	pthread_barrier_destroy(&start);
	for (int i = 0; i < OWN_THREADS; i++) {
		check("client", i, &o[i].t);
		assert_int_equal(o[i].t.reads, OWN_ROUNDS);
	}
}

/* ---- one writer, several readers of its counter ---------------------- */

typedef struct mono {
	privd_client *c;
	atomic_ulong *acked; /* the writer's last acknowledged value */
	atomic_bool *stop;
	tally t;
} mono;

static void *
mono_read(void *arg)
{
	mono *m = arg;
	long n, last = 0;
	unsigned long before;
	int rc;

	while (!atomic_load(m->stop)) {
		before = atomic_load(m->acked);
		if ((rc = get_n(m->c, "counter", &n)) != PRIVD_OK) {
			failed(&m->t, rc);
			continue;
		}
		m->t.reads++;
		if (n < 0) {
			m->t.torn++;
			continue;
		}
		if ((unsigned long)n < before)
			m->t.stale++;
		if (n < last)
			m->t.back++;
		last = n;
	}
	return NULL;
}

/*
 * One client counts up a subject's value, put after put; others read it
 * meanwhile. A get begun after a put was acknowledged returns that value
 * or a later one, and each reader's values never go down.
 */
static void
test_reads_never_go_back(void **state)
{
	harness *h = *state;
	mono m[MONO_READS];
	pthread_t th[MONO_READS];
	atomic_ulong acked = 0;
	atomic_bool stop = false;
	privd_client *w;
	tally wt = {0};

	assert_int_equal(h_connect(h, "svc", &w), PRIVD_OK);
	memset(m, 0, sizeof(m));
	for (int i = 0; i < MONO_READS; i++) {
		m[i].acked = &acked;
		m[i].stop = &stop;
		assert_int_equal(h_connect(h, "svc", &m[i].c), PRIVD_OK);
		assert_int_equal(
		    pthread_create(&th[i], NULL, mono_read, &m[i]), 0);
	}
	for (unsigned long i = 1; i <= MONO_PUTS; i++) {
		int rc = put_n(w, "counter", i);

		if (rc != PRIVD_OK)
			failed(&wt, rc);
		else
			atomic_store(&acked, i);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < MONO_READS; i++) {
		pthread_join(th[i], NULL);
		privd_close(&m[i].c);
	}
	privd_close(&w);
	check("writer", 0, &wt);
	for (int i = 0; i < MONO_READS; i++) {
		check("reader", i, &m[i].t);
		assert_true(m[i].t.reads > 0);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, h_setup_default, h_teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_own_put_then_get),
	    T(test_reads_never_go_back),
	};

	return cmocka_run_group_tests_name(
	    "integration/read_order", tests, NULL, NULL);
}
