/*
 * test_store_kv_pg.c - the PostgreSQL backend's own cases, on the
 * private server of test_store_kv.c: a server that goes away and comes
 * back, the schema check at open, two privd nodes' writers taking turns
 * on one database, a silent writer losing its lock, a lock wait given
 * up as STORE_CONFLICT, and a failover to a promoted streaming replica
 * through a multi-host connection string.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "store_pg.h"
#include "test_store_kv.h"

#define POLL_DEADLINE_MS 20000

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
sleep_ms(int ms)
{
	struct timespec ts = {0, (long)ms * 1000000};

	nanosleep(&ts, NULL);
}

static void
quiet(void *arg, const char *msg)
{
}

/* Runs sql on its own connection to database db of the server whose
 * socket is in dir; the first field of the first row, or "" (a static
 * buffer). */
static const char *
sql_at(const char *dir, const char *db, const char *sql)
{
	static char out[64];
	char ci[300];
	PGconn *c;
	PGresult *r;

	snprintf(ci, sizeof(ci), "host=%s port=5432 dbname=%s user=postgres",
	    dir, db);
	c = PQconnectdb(ci);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PQsetNoticeProcessor(c, quiet, NULL); /* IF EXISTS says "skipping" */
	r = PQexec(c, sql);
	assert_true(PQresultStatus(r) == PGRES_COMMAND_OK ||
	            PQresultStatus(r) == PGRES_TUPLES_OK);
	out[0] = '\0';
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
		snprintf(out, sizeof(out), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return out;
}

const char *
sql1(const char *db, const char *sql)
{
	return sql_at(pg.dir, db, sql);
}

/* Polls sql on the server in dir until it answers want (a deadline, not
 * a sleep: replication and lock waits take what they take). */
void
wait_for(const char *dir, const char *sql, const char *want)
{
	int64_t deadline = now_ms() + POLL_DEADLINE_MS;
	const char *got;

	while (strcmp(got = sql_at(dir, "postgres", sql), want) != 0) {
		if (now_ms() > deadline)
			fail_msg("\"%s\" answered \"%s\", not \"%s\"", sql, got,
			    want);
		sleep_ms(10);
	}
}

/*
 * The server stops: a transaction fails with STORE_UNAVAILABLE (at
 * begin, or at its first read). It starts again: the next begin, of a
 * write and of a read, works at once (the stale connections are found
 * and replaced, none fails a request).
 */
static void
test_server_goes_away(void **state)
{
	char why[256];
	store_txn *t, *r;
	store_val k = sv("a"), v;
	int rc;

	t = wbegin();
	put(t, STORE_META, "a", "1");
	assert_int_equal(store_txn_commit(t), 0);
	r = rbegin(); /* a worker's long-lived handle */
	expect(r, STORE_META, "a", "1");
	store_txn_reset(r);

	assert_int_equal(pgtmp_halt(&pg), 0);
	if ((rc = store_txn_begin(st, 0, &t)) == 0) {
		rc = store_get(t, STORE_META, &k, &v);
		store_txn_abort(t);
	}
	assert_int_equal(rc, STORE_UNAVAILABLE);
	if ((rc = store_txn_renew(r)) == 0) {
		rc = store_get(r, STORE_META, &k, &v);
		store_txn_reset(r);
	}
	assert_int_equal(rc, STORE_UNAVAILABLE);

	assert_int_equal(pgtmp_restart(&pg, why, sizeof(why)), 0);
	t = wbegin();
	put(t, STORE_META, "a", "2");
	assert_int_equal(store_txn_commit(t), 0);
	assert_int_equal(store_txn_renew(r), 0);
	expect(r, STORE_META, "a", "2");
	store_txn_abort(r);
	r = rbegin();
	expect(r, STORE_META, "a", "2");
	store_txn_abort(r);
}

static void
expect_open_error(const char *conninfo, bool create, const char *want)
{
	char err[256];
	store *s = NULL;

	assert_int_equal(
	    store_pg_open(conninfo, create, &s, err, sizeof(err)), -1);
	assert_null(s);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" does not say \"%s\"", err, want);
	assert_null(strstr(err, "hunter2"));
}

/* open checks the schema; its errors never hold the password. */
static void
test_schema_check(void **state)
{
	char ci[300], err[256];
	store *s;

	sql1("postgres", "DROP DATABASE IF EXISTS privd_other");
	sql1("postgres", "CREATE DATABASE privd_other");
	snprintf(ci, sizeof(ci),
	    "host=%s port=5432 dbname=privd_other user=postgres "
	    "password=hunter2",
	    pg.dir);
	expect_open_error(ci, false, "holds no privd store");
	assert_int_equal(store_pg_open(ci, true, &s, err, sizeof(err)), 0);
	store_close(&s);
	assert_int_equal(store_pg_open(ci, true, &s, err, sizeof(err)), 0);
	store_close(&s); /* init twice: the schema is there, nothing lost */
	assert_int_equal(store_pg_open(ci, false, &s, err, sizeof(err)), 0);
	store_close(&s);

	sql1("privd_other", "UPDATE privd_schema SET version = 99");
	expect_open_error(ci, false, "version 99");
	sql1("privd_other", "UPDATE privd_schema SET version = 1");
	sql1("privd_other", "DROP TABLE privd_blind_of");
	expect_open_error(ci, false, "lacks 1 of its");

	expect_open_error("host=x password=hunter2 nonsense", false,
	    "invalid PostgreSQL connection string");
	expect_open_error("host=/nonexistent/dir password=hunter2", false,
	    "cannot connect to PostgreSQL");
	sql1("postgres", "DROP DATABASE privd_other");
}

struct node_b {
	store *s;
	int rc;
	char seen[16];
	atomic_bool done;
};

/* Node B's writer: its first read waits for node A's transaction. */
static void *
node_b(void *arg)
{
	struct node_b *b = arg;
	store_txn *t;
	store_val k = sv("x"), v, k2 = sv("y"), v2 = sv("B");

	if ((b->rc = store_txn_begin(b->s, 0, &t)) != 0)
		return NULL;
	if ((b->rc = store_get(t, STORE_META, &k, &v)) == 0)
		snprintf(b->seen, sizeof(b->seen), "%.*s", (int)v.size,
		    (char *)v.data);
	else if (b->rc == STORE_NOTFOUND)
		b->rc = 0; /* seen stays "" */
	if (b->rc == 0 && (b->rc = store_put(t, STORE_META, &k2, &v2, 0)) == 0)
		b->rc = store_txn_commit(t);
	else
		store_txn_abort(t);
	atomic_store(&b->done, true);
	return NULL;
}

/*
 * Two privd nodes on one database: node B's write transaction waits for
 * node A's (the writers' advisory lock) and then sees what A committed,
 * so the nodes' writes form one sequence (one audit log).
 */
static void
test_writers_take_turns(void **state)
{
	struct node_b b = {0};
	char err[256];
	store_txn *t;
	pthread_t th;

	assert_int_equal(
	    store_pg_open(pg.conninfo, false, &b.s, err, sizeof(err)), 0);
	t = wbegin();
	put(t, STORE_META, "x", "A");
	expect(t, STORE_META, "x", "A"); /* A now holds the lock */
	assert_int_equal(pthread_create(&th, NULL, node_b, &b), 0);
	/* until B waits for the lock */
	wait_for(pg.dir,
	    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND "
	    "NOT granted",
	    "1");
	assert_int_equal(store_txn_commit(t), 0);
	pthread_join(th, NULL);
	assert_int_equal(b.rc, 0);
	assert_string_equal(b.seen, "A");
	store_close(&b.s);

	t = rbegin();
	expect(t, STORE_META, "y", "B");
	store_txn_abort(t);
}

/*
 * A write transaction that gives up waiting for the writers' lock
 * (lock_timeout, here from the conninfo) fails with STORE_CONFLICT: try
 * again. The transaction holding the lock is not disturbed.
 */
static void
test_lock_timeout_is_conflict(void **state)
{
	char ci[400], err[256];
	store *b;
	store_txn *t;

	snprintf(
	    ci, sizeof(ci), "%s options='-c lock_timeout=200'", pg.conninfo);
	assert_int_equal(store_pg_open(ci, false, &b, err, sizeof(err)), 0);
	t = wbegin();
	put(t, STORE_META, "x", "A");
	expect(t, STORE_META, "x", "A"); /* holds the lock */
	put_on(b, "y", "B", STORE_CONFLICT);
	assert_int_equal(store_txn_commit(t), 0);
	put_on(b, "y", "B", 0); /* and once the lock is free, it works */
	store_close(&b);
	t = rbegin();
	expect(t, STORE_META, "x", "A");
	expect(t, STORE_META, "y", "B");
	store_txn_abort(t);
}

/*
 * A node whose writer stops talking inside its transaction (stopped,
 * stuck) does not hold the other nodes' writes for good: the server
 * ends its silent transaction (idle_in_transaction_session_timeout; the
 * writer sets 60 s unless the conninfo says otherwise, as here), the
 * other node's writer goes on, nothing of the silent one lands, and its
 * next transaction works on a new connection.
 */
static void
test_silent_writer_loses_lock(void **state)
{
	struct node_b b = {0};
	char ci[400], err[256];
	store *a;
	store_txn *t;
	pthread_t th;
	int64_t deadline;

	snprintf(ci, sizeof(ci),
	    "%s options='-c idle_in_transaction_session_timeout=300'",
	    pg.conninfo);
	assert_int_equal(store_pg_open(ci, false, &a, err, sizeof(err)), 0);
	assert_int_equal(store_txn_begin(a, 0, &t), 0);
	put(t, STORE_META, "x", "A");
	expect(t, STORE_META, "x", "A"); /* A holds the lock, then is silent */

	b.s = st;
	assert_int_equal(pthread_create(&th, NULL, node_b, &b), 0);
	for (deadline = now_ms() + POLL_DEADLINE_MS;
	     !atomic_load(&b.done) && now_ms() < deadline;)
		sleep_ms(10);
	assert_true(atomic_load(&b.done));
	pthread_join(th, NULL);
	assert_int_equal(b.rc, 0);
	assert_string_equal(b.seen, ""); /* A's put never committed */

	assert_int_equal(store_txn_commit(t), STORE_UNAVAILABLE);
	put_on(a, "z", "1", 0);
	store_close(&a);
	t = rbegin();
	expect(t, STORE_META, "x", NULL);
	expect(t, STORE_META, "y", "B");
	expect(t, STORE_META, "z", "1");
	store_txn_abort(t);
}

void
put_on(store *s, const char *k, const char *v, int want)
{
	store_txn *t;
	store_val kk = sv(k), vv = sv(v);
	int rc;

	if ((rc = store_txn_begin(s, 0, &t)) == 0) {
		if ((rc = store_put(t, STORE_META, &kk, &vv, 0)) == 0)
			rc = store_txn_commit(t);
		else
			store_txn_abort(t);
	}
	assert_int_equal(rc, want);
}

static void
get_on(store *s, const char *k, const char *want)
{
	store_txn *t;

	assert_int_equal(store_txn_begin(s, STORE_RDONLY, &t), 0);
	expect(t, STORE_META, k, want);
	store_txn_abort(t);
}

/* Writes the URI of both servers, the standby first, into buf: unix
 * socket directories are hosts, percent-encoded. */
static void
uri_of(char *buf, size_t len, const char *first, const char *second)
{
	char h[2][160];
	const char *src[2] = {first, second};

	for (int i = 0; i < 2; i++) {
		size_t n = 0;

		for (const char *p = src[i]; *p != '\0' && n + 4 < sizeof(h[i]);
		     p++) {
			if (*p == '/') {
				memcpy(h[i] + n, "%2F", 3);
				n += 3;
			} else {
				h[i][n++] = *p;
			}
		}
		h[i][n] = '\0';
	}
	snprintf(buf, len,
	    "postgresql://%s:5432,%s:5432/postgres?user=postgres&"
	    "target_session_attrs=read-write",
	    h[0], h[1]);
}

/*
 * A primary and its streaming replica. On the replica alone a store
 * reads and its writes fail with STORE_UNAVAILABLE (a demoted primary
 * looks the same), and so do its leases and its listener. With both in a
 * multi-host conninfo and target_session_attrs=read-write (key=value and URI
 * forms), the store writes to the primary whichever host comes first; when the
 * primary stops and the replica is promoted, the next write transaction
 * connects to the new primary and commits, and the multi-node hooks
 * follow (test_store_kv_nodes.c). Last of the cases: it stops
 * the fixture's server and starts it again afterwards (as a second,
 * separate primary).
 */
static pgtmp sb; /* the replica */

static void
test_failover(void **state)
{
	char why[256], ci[600], err[256];
	store *s = NULL, *s2 = NULL;

	put_on(st, "before", "1", 0);
	if (pgtmp_standby(&pg, &sb, why, sizeof(why)) != 0)
		fail_msg("standby: %s", why);
	wait_for(sb.dir, "SELECT pg_is_in_recovery()", "t");

	assert_int_equal(
	    store_pg_open(sb.conninfo, false, &s, err, sizeof(err)), 0);
	wait_for(sb.dir,
	    "SELECT count(*) FROM privd_meta WHERE k = 'before'::bytea", "1");
	get_on(s, "before", "1");
	put_on(s, "on-standby", "x", STORE_UNAVAILABLE);
	failover_nodes_standby(s);
	store_close(&s);

	snprintf(ci, sizeof(ci),
	    "host=%s,%s port=5432,5432 dbname=postgres user=postgres "
	    "target_session_attrs=read-write",
	    sb.dir, pg.dir);
	assert_int_equal(store_pg_open(ci, false, &s, err, sizeof(err)), 0);
	put_on(s, "multi", "1", 0);
	uri_of(ci, sizeof(ci), sb.dir, pg.dir);
	assert_int_equal(store_pg_open(ci, false, &s2, err, sizeof(err)), 0);
	put_on(s2, "uri", "1", 0);
	get_on(st, "multi", "1"); /* on the primary */
	get_on(st, "uri", "1");
	wait_for(sb.dir,
	    "SELECT count(*) FROM privd_meta WHERE k IN ('multi'::bytea, "
	    "'uri'::bytea)",
	    "2");

	failover_nodes_before(s, s2);
	assert_int_equal(pgtmp_halt(&pg), 0);
	wait_for(sb.dir, "SELECT pg_promote()", "t");
	put_on(s, "after", "2", 0); /* connects to the new primary */
	failover_nodes_after(s, s2);
	get_on(s, "multi", "1");
	get_on(s, "after", "2");
	get_on(s2, "after", "2");
	store_close(&s);
	store_close(&s2);
}

/* Also after a failure: the replica goes, the fixture's server is back. */
static int
failover_teardown(void **state)
{
	char why[256];

	pgtmp_stop(&sb);
	if (pg.pid == 0 && pgtmp_restart(&pg, why, sizeof(why)) != 0) {
		fprintf(stderr, "restart: %s\n", why);
		return -1;
	}
	return 0;
}

/* The results a transaction holds (store_pg.h's pg_txn): what a walk
 * keeps in memory. */
static size_t
results_held(store_txn *t)
{
	size_t n = 0;

	for (size_t i = 0; i < PGT(t)->nres; i++)
		n += PGT(t)->res[i] != NULL;
	return n;
}

/* A streaming cursor's walk across a table holds a batch or two, where
 * a plain one holds every batch it fetched until the transaction ends. */
static void
test_stream_frees_batches(void **state)
{
	store_txn *t;
	store_cur *c;
	store_val k, v;
	size_t plain;
	int rc;

	fill(STORE_AUDIT, 3000);
	for (int stream = 0; stream <= 1; stream++) {
		t = rbegin();
		assert_int_equal(store_cur_open(t, STORE_AUDIT, &c), 0);
		if (stream)
			store_cur_stream(c);
		for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
		     rc = store_cur_get(c, &k, &v, STORE_NEXT))
			;
		assert_int_equal(rc, STORE_NOTFOUND);
		if (!stream) {
			plain = results_held(t);
			assert_true(plain >= 3000 / 256);
		} else {
			assert_true(results_held(t) <= 3);
		}
		store_cur_close(c);
		store_txn_abort(t);
	}
}

static const struct CMUnitTest pg_own[] = {
    cmocka_unit_test_setup(test_server_goes_away, clear_all),
    cmocka_unit_test_setup(test_schema_check, clear_all),
    cmocka_unit_test_setup(test_writers_take_turns, clear_all),
    cmocka_unit_test_setup(test_silent_writer_loses_lock, clear_all),
    cmocka_unit_test_setup(test_lock_timeout_is_conflict, clear_all),
    cmocka_unit_test_setup(test_stream_frees_batches, clear_all),
    /* the last */
    cmocka_unit_test_setup_teardown(
        test_failover, clear_all, failover_teardown),
};

int
run_pg_own(void)
{
	return _cmocka_run_group_tests("postgresql-own", pg_own,
	    sizeof(pg_own) / sizeof(pg_own[0]), group_open, group_close);
}
