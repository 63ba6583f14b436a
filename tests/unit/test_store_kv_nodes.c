/*
 * test_store_kv_nodes.c - the PostgreSQL backend's multi-node hooks
 * (daemon/store_pg_node.c), with two stores on the private server of
 * test_store_kv.c standing for two privd nodes: the generation that
 * tells a writer another node wrote (and never lets an aborted or
 * failed transaction make it believe it is up to date; a writer asking
 * waits for the lock and learns of the holder's commit), notifications
 * delivered at commit and only then, to a listener that reconnects and
 * says it may have missed some, and a lease that one node holds at a
 * time and another takes over when the holder stops or its connection
 * dies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store_pg.h"
#include "test_store_kv.h"

#define DEADLINE_MS 20000

static store *nb; /* node B; st is node A */

static int
open_b(void **state)
{
	char err[256];

	if (clear_all(state) != 0)
		return -1;
	if (store_pg_open(pg.conninfo, false, &nb, err, sizeof(err)) != 0) {
		fprintf(stderr, "node B: %s\n", err);
		return -1;
	}
	return 0;
}

static int
close_b(void **state)
{
	store_close(&nb);
	return 0;
}

/* A write transaction of s and its generation. */
static store_txn *
wgen(store *s, uint64_t *gen, bool *moved)
{
	store_txn *t;

	assert_int_equal(store_txn_begin(s, 0, &t), 0);
	assert_int_equal(store_pg_txn_gen(t, gen, moved), 0);
	return t;
}

/* The generation of a write transaction of s that commits at once. */
static bool
moved_on(store *s, uint64_t *gen)
{
	bool moved;
	store_txn *t = wgen(s, gen, &moved);

	assert_int_equal(store_txn_commit(t), 0);
	return moved;
}

static uint64_t
gen_now(store *s)
{
	uint64_t g;

	assert_int_equal(store_pg_gen(s, &g), 0);
	return g;
}

/*
 * Every write transaction advances the generation by one; a writer is
 * told "moved" exactly when something other than its own last commit
 * came before: its first transaction, another node's commit, its own
 * failed commit. An aborted transaction changes nothing: neither the
 * generation nor what the node believes, so a node told "moved" that
 * aborts is told again.
 */
static void
test_generation(void **state)
{
	uint64_t g, g2, g3;
	bool moved;
	store_txn *t;
	store_val k, v;
	store *fresh;
	char err[256];

	assert_int_equal(
	    store_pg_open(pg.conninfo, false, &fresh, err, sizeof(err)), 0);
	assert_true(moved_on(fresh, &g)); /* the first since open */
	assert_false(moved_on(fresh, &g2));
	assert_int_equal(g2, g + 1);
	store_close(&fresh);
	assert_true(moved_on(st, &g)); /* fresh wrote */
	assert_false(moved_on(st, &g2));
	assert_int_equal(g2, g + 1);

	t = wgen(st, &g3, &moved); /* aborted: rolled back */
	assert_false(moved);
	store_txn_abort(t);
	assert_false(moved_on(st, &g3));
	assert_int_equal(g3, g2 + 1);

	put_on(nb, "b", "1", 0); /* node B writes */
	assert_true(moved_on(st, &g));
	assert_int_equal(g, g3 + 2);
	assert_false(moved_on(st, &g));

	put_on(nb, "b", "2", 0);
	t = wgen(st, &g, &moved);
	assert_true(moved);
	store_txn_abort(t); /* told, re-read, aborted: */
	t = wgen(st, &g2, &moved);
	assert_true(moved); /* told again */
	assert_int_equal(g2, g);
	assert_int_equal(store_txn_commit(t), 0);
	assert_false(moved_on(st, &g));

	/* a commit that fails (STORE_APPEND below a key, found at COMMIT) */
	put_on(st, "z", "1", 0);
	assert_false(moved_on(st, &g));
	assert_int_equal(store_txn_begin(st, 0, &t), 0);
	k = sv("a");
	v = sv("x");
	assert_int_equal(store_put(t, STORE_META, &k, &v, STORE_APPEND), 0);
	assert_int_equal(store_txn_commit(t), STORE_KEYEXIST);
	assert_true(moved_on(st, &g2));
	assert_int_equal(g2, g + 1); /* it did not commit */

	/* asked after a read (which read the generation's answer too), and
	 * not asked at all: the commit counts the same */
	assert_int_equal(store_txn_begin(st, 0, &t), 0);
	expect(t, STORE_META, "z", "1");
	assert_int_equal(store_pg_txn_gen(t, &g, &moved), 0);
	assert_false(moved);
	assert_int_equal(g, g2 + 1);
	assert_int_equal(store_txn_commit(t), 0);
	put_on(st, "y", "1", 0);
	assert_false(moved_on(st, &g3));
	assert_int_equal(g3, g + 2);

	/* B's view: moved, by A's commits */
	assert_true(moved_on(nb, &g));
	assert_false(moved_on(nb, &g2));
}

/*
 * The readers' side: the generation now, from any node, and that of a
 * read transaction's snapshot, which a later commit does not change.
 */
static void
test_generation_read(void **state)
{
	uint64_t g, g2, g3;
	store_txn *r;
	bool moved = true;

	g = gen_now(nb);
	assert_int_equal(gen_now(st), g);
	assert_int_equal(gen_now(nb), g); /* reading advances nothing */
	put_on(st, "a", "1", 0);
	assert_int_equal(gen_now(nb), g + 1);

	r = rbegin();
	assert_int_equal(store_pg_txn_gen(r, &g2, &moved), 0);
	assert_false(moved);
	assert_int_equal(g2, g + 1);
	put_on(nb, "a", "2", 0);
	assert_int_equal(store_pg_txn_gen(r, &g3, NULL), 0);
	assert_int_equal(g3, g2); /* the snapshot's */
	expect(r, STORE_META, "a", "1");
	store_txn_abort(r);
	assert_int_equal(gen_now(st), g + 2);
}

struct waiter {
	store *s;
	int rc;
	uint64_t gen;
	bool moved;
};

/* Node B's writer asks its generation, which waits for the lock. */
static void *
gen_waiter(void *arg)
{
	struct waiter *w = arg;
	store_txn *t;

	if ((w->rc = store_txn_begin(w->s, 0, &t)) != 0)
		return NULL;
	if ((w->rc = store_pg_txn_gen(t, &w->gen, &w->moved)) == 0)
		w->rc = store_txn_commit(t);
	else
		store_txn_abort(t);
	return NULL;
}

/*
 * Node B asks its generation while node A's write transaction holds the
 * writers' lock: B waits, and once A commits B is told A's commit came
 * before its own, with the generation after A's. B had just written
 * itself before A, so "moved" is A's doing.
 */
static void
test_generation_waits(void **state)
{
	struct waiter w = {nb, -1, 0, false};
	uint64_t ga, gb;
	bool moved;
	pthread_t th;
	store_txn *t;

	(void)moved_on(nb, &gb); /* B commits last */
	t = wgen(st, &ga, &moved);
	assert_true(moved); /* B wrote */
	assert_int_equal(ga, gb + 1);
	put(t, STORE_META, "a", "1");
	assert_int_equal(pthread_create(&th, NULL, gen_waiter, &w), 0);
	wait_for(pg.dir,
	    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
	    "NOT granted",
	    "1");
	assert_int_equal(store_txn_commit(t), 0);
	pthread_join(th, NULL);
	assert_int_equal(w.rc, 0);
	assert_true(w.moved);
	assert_int_equal(w.gen, ga + 1);
	assert_false(moved_on(nb, &gb));
	assert_int_equal(gb, ga + 2);
}

/* ---- notifications --------------------------------------------------- */

#define MAXGOT 16

struct got {
	int n;
	char chan[MAXGOT][64];
	char payload[MAXGOT][64];
};

static void
on_note(void *arg, const char *channel, const char *payload)
{
	struct got *g = arg;

	if (g->n < MAXGOT) {
		snprintf(g->chan[g->n], sizeof(g->chan[0]), "%s", channel);
		snprintf(
		    g->payload[g->n], sizeof(g->payload[0]), "%s", payload);
	}
	g->n++;
}

/* Drains l (polling its socket, or every 10 ms without one) until
 * g holds n notifications, or until a drain says missed when
 * until_missed; then returns what the last drain said of missed. */
static bool
drain_until(store_pg_listener *l, struct got *g, int n, bool until_missed)
{
	int64_t deadline = now_ms() + DEADLINE_MS;
	bool missed = false;
	struct pollfd pfd;

	for (;;) {
		pfd.fd = store_pg_listen_fd(l);
		pfd.events = POLLIN;
		if (pfd.fd >= 0)
			(void)poll(&pfd, 1, 10);
		else
			sleep_ms(10);
		(void)store_pg_listen_drain(l, on_note, g, &missed);
		if (until_missed ? missed : g->n >= n)
			return missed;
		if (now_ms() > deadline)
			fail_msg("%d notifications of %d, missed %d", g->n, n,
			    missed);
	}
}

static void
notify_on(store *s, const char *payload, bool commit)
{
	store_txn *t;

	assert_int_equal(store_txn_begin(s, 0, &t), 0);
	put(t, STORE_POLICY, "p", payload);
	assert_int_equal(store_pg_notify(t, "privd_policy", payload), 0);
	if (commit)
		assert_int_equal(store_txn_commit(t), 0);
	else
		store_txn_abort(t);
}

/*
 * Node A's write transaction queues a notification; node B's listener
 * gets it when A commits, never before and never if A aborts (the
 * server delivers in commit order: what comes first shows what was not
 * sent). Bad channels and payloads are refused.
 */
static void
test_notify(void **state)
{
	const char *chans[] = {"privd_policy", "privd_other"};
	store_pg_listener *l;
	struct got g = {0};
	store_txn *t;
	bool missed = true;
	char big[8001];

	assert_int_equal(store_pg_listen(nb, chans, 2, &l), 0);
	assert_true(store_pg_listen_fd(l) >= 0);
	assert_int_equal(store_pg_listen_drain(l, on_note, &g, &missed), 0);
	assert_false(missed);
	assert_int_equal(g.n, 0);

	notify_on(st, "v1", false);
	notify_on(st, "v2", true);
	drain_until(l, &g, 1, false);
	assert_string_equal(g.chan[0], "privd_policy");
	assert_string_equal(g.payload[0], "v2");

	/* queued and run (the get waits for it) but not committed: a
	 * notification sent afterwards by someone else arrives first */
	assert_int_equal(store_txn_begin(st, 0, &t), 0);
	assert_int_equal(store_pg_notify(t, "privd_policy", "v3"), 0);
	expect(t, STORE_POLICY, "p", "v2");
	sql1("postgres", "NOTIFY privd_other, 'marker'");
	drain_until(l, &g, 2, false);
	assert_string_equal(g.chan[1], "privd_other");
	assert_string_equal(g.payload[1], "marker");
	assert_int_equal(store_txn_commit(t), 0);
	drain_until(l, &g, 3, false);
	assert_string_equal(g.payload[2], "v3");

	assert_int_equal(store_txn_begin(st, 0, &t), 0);
	assert_int_equal(store_pg_notify(t, "Privd", "x"), EINVAL);
	assert_int_equal(store_pg_notify(t, "", "x"), EINVAL);
	assert_int_equal(store_pg_notify(t, "a;b", "x"), EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(store_pg_notify(t, "privd_policy", big), EINVAL);
	big[7999] = '\0'; /* the largest */
	assert_int_equal(store_pg_notify(t, "privd_policy", big), 0);
	assert_int_equal(store_pg_notify(t, "privd_policy", NULL), 0);
	assert_int_equal(store_txn_commit(t), 0);
	drain_until(l, &g, 5, false);
	assert_int_equal(strlen(g.payload[3]), 63); /* truncated copy */
	assert_string_equal(g.payload[4], "");
	t = rbegin();
	assert_int_equal(store_pg_notify(t, "privd_policy", "x"), EACCES);
	store_txn_abort(t);
	store_pg_listen_close(l);

	chans[1] = "Bad";
	assert_int_equal(store_pg_listen(nb, chans, 2, &l), EINVAL);
	assert_null(l);
	assert_int_equal(store_pg_listen(nb, chans, 0, &l), EINVAL);
}

/*
 * The listener's connection ends (pg_terminate_backend, as a failover
 * or an operator would): the next drain connects again, says it may
 * have missed notifications, and later ones arrive. The server stops:
 * drains fail and say missed, with no socket to poll; it starts again:
 * a drain connects, says missed, and notifications arrive again.
 */
static void
test_listener_reconnects(void **state)
{
	const char *chans[] = {"privd_policy"};
	store_pg_listener *l;
	struct got g = {0};
	bool missed = false;
	char why[256];

	assert_int_equal(store_pg_listen(nb, chans, 1, &l), 0);
	assert_string_equal(
	    sql1("postgres", "SELECT count(pg_terminate_backend(pid)) FROM "
	                     "pg_stat_activity WHERE query LIKE 'LISTEN%'"),
	    "1");
	assert_true(drain_until(l, &g, 0, true));
	assert_int_equal(store_pg_listen_drain(l, on_note, &g, &missed), 0);
	assert_false(missed); /* said once */
	notify_on(st, "after-kill", true);
	drain_until(l, &g, 1, false);
	assert_string_equal(g.payload[0], "after-kill");

	assert_int_equal(pgtmp_halt(&pg), 0);
	assert_int_equal(
	    store_pg_listen_drain(l, on_note, &g, &missed), STORE_UNAVAILABLE);
	assert_true(missed);
	assert_int_equal(store_pg_listen_fd(l), -1);
	assert_int_equal(
	    store_pg_listen_drain(l, on_note, &g, &missed), STORE_UNAVAILABLE);
	assert_true(missed);
	assert_int_equal(pgtmp_restart(&pg, why, sizeof(why)), 0);
	assert_int_equal(store_pg_listen_drain(l, on_note, &g, &missed), 0);
	assert_true(missed);
	assert_true(store_pg_listen_fd(l) >= 0);
	notify_on(st, "after-restart", true);
	drain_until(l, &g, 2, false);
	assert_string_equal(g.payload[1], "after-restart");
	store_pg_listen_close(l);
}

/* ---- leases ---------------------------------------------------------- */

static bool
take(store *s)
{
	bool got;

	assert_int_equal(
	    store_pg_lease_take(s, STORE_PG_LEASE_SWEEPER, &got), 0);
	return got;
}

/* Takes until it gets it: the server frees a session's locks as the
 * session's backend exits, a moment after its connection closed. */
static void
take_soon(store *s)
{
	int64_t deadline = now_ms() + DEADLINE_MS;

	while (!take(s)) {
		if (now_ms() > deadline)
			fail_msg("the lease was never free");
		sleep_ms(10);
	}
}

/* The sweeper's lock: (classid, objid) of STORE_PG_LOCK_WRITER + 1. */
#define LEASE_WHERE                                                            \
	"locktype = 'advisory' AND granted AND objsubid = 1 AND "              \
	"classid::bigint * 4294967296 + objid::bigint = "

/*
 * One node at a time holds the sweeper's lease; the holder takes it
 * again at will; the lease is not the writers' lock (both nodes write
 * meanwhile). The holder's connection is terminated: it sees it has
 * lost the lease, and the other node takes it. The holder releases it,
 * or its store closes (a node stopping): the other node takes it.
 */
static void
test_lease(void **state)
{
	char sql[256];
	store *a;
	char err[256];
	int64_t deadline;
	bool got;

	assert_int_equal(
	    store_pg_open(pg.conninfo, false, &a, err, sizeof(err)), 0);
	assert_false(store_pg_lease_held(a, STORE_PG_LEASE_SWEEPER));
	assert_true(take(a));
	assert_true(take(a));
	assert_false(take(nb));
	assert_false(take(nb));
	assert_true(store_pg_lease_held(a, STORE_PG_LEASE_SWEEPER));
	assert_false(store_pg_lease_held(nb, STORE_PG_LEASE_SWEEPER));
	put_on(a, "a", "1", 0);
	put_on(nb, "b", "1", 0);

	snprintf(sql, sizeof(sql),
	    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE "
	    "%s%lld",
	    LEASE_WHERE, (long long)(STORE_PG_LOCK_WRITER + 1));
	assert_string_equal(sql1("postgres", sql), "1");
	for (deadline = now_ms() + DEADLINE_MS;
	     store_pg_lease_held(a, STORE_PG_LEASE_SWEEPER);)
		if (now_ms() > deadline)
			fail_msg("the holder never saw its connection end");
		else
			sleep_ms(10);
	take_soon(nb);
	assert_true(store_pg_lease_held(nb, STORE_PG_LEASE_SWEEPER));
	assert_false(take(a));

	store_pg_lease_release(nb, STORE_PG_LEASE_SWEEPER);
	assert_false(store_pg_lease_held(nb, STORE_PG_LEASE_SWEEPER));
	take_soon(a);
	assert_false(take(nb));
	store_close(&a); /* the node stops */
	take_soon(nb);
	store_pg_lease_release(nb, STORE_PG_LEASE_SWEEPER);

	assert_int_equal(store_pg_lease_take(nb, -1, &got), EINVAL);
	assert_int_equal(
	    store_pg_lease_take(nb, STORE_PG_NLEASES, &got), EINVAL);
	assert_false(store_pg_lease_held(nb, STORE_PG_NLEASES));
	store_pg_lease_release(nb, STORE_PG_NLEASES); /* nothing */
}

/*
 * Around test_store_kv_pg.c's failover (a primary stops, its streaming
 * replica is promoted; a and b use the multi-host conninfo): a's
 * listener, connected to the old primary, connects to the new one and
 * says it may have missed notifications, and gets the next one; b held
 * the sweeper's lease on the old primary: it sees it has lost it, and
 * a takes it on the new primary.
 */
static store_pg_listener *fl;

/* A store on the replica alone: its leases and listener are unavailable
 * (a standby's locks are its own; it cannot LISTEN). */
void
failover_nodes_standby(store *s)
{
	const char *chans[] = {"privd_policy"};
	store_pg_listener *l;
	struct got g = {0};
	bool got = true, missed = false;

	assert_int_equal(store_pg_lease_take(s, STORE_PG_LEASE_SWEEPER, &got),
	    STORE_UNAVAILABLE);
	assert_false(got);
	assert_false(store_pg_lease_held(s, STORE_PG_LEASE_SWEEPER));
	assert_int_equal(store_pg_listen(s, chans, 1, &l), 0);
	assert_int_equal(store_pg_listen_fd(l), -1);
	assert_int_equal(
	    store_pg_listen_drain(l, on_note, &g, &missed), STORE_UNAVAILABLE);
	assert_true(missed);
	store_pg_listen_close(l);
}

void
failover_nodes_before(store *a, store *b)
{
	const char *chans[] = {"privd_policy"};
	struct got g = {0};
	bool missed = true;

	assert_int_equal(store_pg_listen(a, chans, 1, &fl), 0);
	assert_int_equal(store_pg_listen_drain(fl, on_note, &g, &missed), 0);
	assert_false(missed);
	assert_true(take(b));
	assert_false(take(a));
}

void
failover_nodes_after(store *a, store *b)
{
	int64_t deadline = now_ms() + DEADLINE_MS;
	struct got g = {0};

	assert_true(drain_until(fl, &g, 0, true));
	notify_on(a, "after-failover", true);
	drain_until(fl, &g, 1, false);
	assert_string_equal(g.payload[0], "after-failover");
	store_pg_listen_close(fl);

	while (store_pg_lease_held(b, STORE_PG_LEASE_SWEEPER))
		if (now_ms() > deadline)
			fail_msg("the holder never saw its connection end");
		else
			sleep_ms(10);
	assert_true(take(a));
	assert_false(take(b));
	store_pg_lease_release(a, STORE_PG_LEASE_SWEEPER);
}

static const struct CMUnitTest nodes[] = {
    cmocka_unit_test_setup_teardown(test_generation, open_b, close_b),
    cmocka_unit_test_setup_teardown(test_generation_read, open_b, close_b),
    cmocka_unit_test_setup_teardown(test_generation_waits, open_b, close_b),
    cmocka_unit_test_setup_teardown(test_notify, open_b, close_b),
    cmocka_unit_test_setup_teardown(test_lease, open_b, close_b),
    /* stops and starts the server */
    cmocka_unit_test_setup_teardown(test_listener_reconnects, open_b, close_b),
};

int
run_pg_nodes(void)
{
	return _cmocka_run_group_tests("postgresql-nodes", nodes,
	    sizeof(nodes) / sizeof(nodes[0]), group_open, group_close);
}
