/*
 * store_pg.c - store_kv.h over PostgreSQL (libpq): transactions, reads
 * and writes, and the schema. Connections and the pipeline are in
 * store_pg_conn.c, cursors in store_pg_cursor.c.
 *
 * DESIGN: each store table is a PostgreSQL table privd_<name> (k bytea
 * primary key, v bytea not null), privd_schema holds the schema's
 * version, and privd_gen the generation of the last write transaction
 * (store_pg_node.c, which also has the notifications and the leases).
 * bytea compares bytewise, shorter first on a common prefix, whatever
 * the database's collation: LMDB's default order, so cursors walk the
 * same keys in the same order on both backends.
 *
 * Connections: the writer has its own (a write transaction holds wmu for
 * its life; store_kv.h allows one write transaction at a time); a read
 * transaction takes one from a small pool and keeps it until it ends
 * (a worker's long-lived handle keeps it across reset and renew). Every
 * connection is in libpq's pipeline mode: a statement whose result the
 * caller does not need before its next call (BEGIN, the lock, puts
 * without NOOVERWRITE, drop, COMMIT of a read) is only queued; a call
 * that needs an answer sends a sync and reads every queued result in
 * order. So a write transaction of puts costs one round trip, at COMMIT;
 * a get, a del (its answer says whether the key was there), a put with
 * NOOVERWRITE and a cursor's fetch each cost one (store_del_any's
 * delete is only queued). A caller that knows
 * which keys it will get reads them ahead (store_prefetch,
 * store_pg_cursor.c): one round trip for all, then gets, and dels of
 * those keys, are answered from memory (the writer's batch of puts). A queued
 * statement's error is kept and returned by the next call that waits (and by
 * every call after it): after an error the transaction is dead, as an LMDB
 * transaction is after a failed write. So a put with STORE_APPEND whose
 * key does not sort last fails (STORE_KEYEXIST) at that later call or at
 * commit rather than at the put, and nothing of the transaction lands.
 *
 * Write transactions: BEGIN (READ COMMITTED), then
 * pg_advisory_xact_lock(STORE_PG_LOCK_WRITER), so the writers of all
 * privd nodes on the database take turns and each sees everything the
 * previous one committed (READ COMMITTED takes a snapshot per statement,
 * all after the lock; REPEATABLE READ would take its snapshot at the
 * lock statement, before the wait). Then, queued with them, the
 * generation's update (store_pg_node.c: who committed last, so the
 * writer knows whether another node wrote). COMMIT runs with
 * synchronous_commit on, set on every connection: with Patroni's
 * synchronous_mode, a commit privd acknowledges is on two servers. A connection
 * lost while COMMIT is on its way leaves the outcome unknown; the commit says
 * STORE_UNAVAILABLE. A writer silent for 60 s inside its transaction
 * loses it (store_pg_conn.c), so a stuck node frees the lock.
 *
 * Read transactions: BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
 * PostgreSQL takes the snapshot at the first statement, so the snapshot
 * is that of the first read, and every read of the transaction sees it.
 *
 * Values handed out (get, cursors) point into the PGresult they came in
 * (binary format: a bytea is its bytes); the transaction keeps every
 * result until it ends. Nothing is copied on the way.
 *
 * Failures: a lost connection, a server shutting down, or a primary that
 * became a standby (read-only transaction errors) give STORE_UNAVAILABLE
 * and close the connection; the next begin connects again, and libpq's
 * multi-host conninfo with target_session_attrs=read-write finds the new
 * primary. A serialisation failure or deadlock gives STORE_CONFLICT.
 * libpq's messages about a statement can quote its parameters (keyed
 * hashes and sealed values here): they are never logged nor copied into
 * an error; only the SQLSTATE is logged, for codes with no mapping.
 */
#include "store_pg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const struct store_ops pg_ops;

/* Frees what the transaction handed out. */
static void
free_kept(pg_txn *t)
{
	for (size_t i = 0; i < t->nres; i++)
		PQclear(t->res[i]);
	t->nres = 0;
	for (size_t i = 0; i < t->nblobs; i++)
		free(t->blobs[i]);
	t->nblobs = 0;
	if (t->rsv.on) {
		free(t->rsv.k);
		free(t->rsv.v);
		t->rsv.on = false;
	}
}

/* Sends a STORE_RESERVE put whose bytes the caller has now written. */
static int
flush_reserved(pg_txn *t)
{
	store_val k = {t->rsv.klen, t->rsv.k}, v = {t->rsv.vlen, t->rsv.v};
	int rc;

	t->rsv.on = false;
	rc = pg_exec(t, t->rsv.flags & STORE_APPEND ? Q_APPEND : Q_PUT,
	    t->rsv.tb, &k, &v, 0, NULL);
	free(t->rsv.k);
	free(t->rsv.v);
	return rc;
}

/* What every call on a transaction does first: the transaction's error
 * if it has one, else sending a reserved put. */
int
pg_begin_call(pg_txn *t)
{
	if (t->err != 0)
		return t->err;
	if (!t->live)
		return t->err = EINVAL; /* reset and not renewed */
	if (t->rsv.on)
		return flush_reserved(t);
	return 0;
}

static int
send_begin(pg_txn *t)
{
	char lock[96];
	int rc;

	t->err = 0;
	if (t->rdonly) {
		rc = pg_send_plain(t->c,
		    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", NULL);
	} else {
		snprintf(lock, sizeof(lock),
		    "SELECT pg_advisory_xact_lock(%lld)",
		    (long long)STORE_PG_LOCK_WRITER);
		if ((rc = pg_send_plain(t->c,
		         "BEGIN ISOLATION LEVEL READ COMMITTED", NULL)) == 0)
			rc = pg_send_plain(t->c, lock, NULL);
	}
	if (rc != 0)
		return rc;
	t->live = true;
	return t->rdonly ? 0 : pg_gen_send(t); /* after the lock */
}

static int
store_pg_txn_begin(store *st, unsigned flags, store_txn **out)
{
	pg_store *s = (pg_store *)st;
	pg_txn *t;
	int rc;

	*out = NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ENOMEM;
	t->base.ops = &pg_ops;
	t->base.s = st;
	t->rdonly = (flags & STORE_RDONLY) != 0;
	if (t->rdonly) {
		t->c = pg_pool_get(s);
	} else {
		pthread_mutex_lock(&s->wmu);
		if (s->w != NULL && !pg_conn_alive(s->w)) {
			pg_conn_free(s->w);
			s->w = NULL;
		}
		if (s->w == NULL)
			s->w = pg_conn_new(s, true);
		t->c = s->w;
	}
	if (t->c == NULL) {
		rc = STORE_UNAVAILABLE;
		goto fail;
	}
	if ((rc = send_begin(t)) != 0)
		goto fail;
	*out = &t->base;
	return 0;
fail:
	if (t->rdonly) {
		if (t->c != NULL)
			pg_pool_put(s, t->c);
	} else {
		pthread_mutex_unlock(&s->wmu);
	}
	free(t);
	return rc;
}

/* Ends the transaction's use of its connection and frees it. */
static void
txn_free(pg_txn *t)
{
	pg_store *s = (pg_store *)t->base.s;

	pg_cur_end_txn(t, true);
	pg_pf_end(t);
	free_kept(t);
	if (t->rdonly) {
		pg_pool_put(s, t->c);
	} else {
		pthread_mutex_unlock(&s->wmu);
	}
	free(t->res);
	free(t->blobs);
	free(t);
}

static void
store_pg_txn_abort(store_txn *tx)
{
	pg_txn *t = PGT(tx);

	if (t->live)
		pg_end_quietly(t->c, "ROLLBACK");
	txn_free(t);
}

/*
 * A write transaction commits and waits for COMMIT's answer (with
 * synchronous_commit on: on the synchronous standby too). A connection
 * lost on the way leaves the outcome unknown: STORE_UNAVAILABLE. A read
 * transaction only queues its COMMIT.
 */
static int
store_pg_txn_commit(store_txn *tx)
{
	pg_txn *t = PGT(tx);
	PGresult *r = NULL;
	int rc, idx;

	if (t->rdonly) {
		if (t->live)
			pg_end_quietly(t->c, "COMMIT");
		txn_free(t);
		return 0;
	}
	if ((rc = pg_begin_call(t)) != 0) {
		pg_gen_committed(t, false);
		store_pg_txn_abort(tx);
		return rc;
	}
	if ((rc = pg_send_plain(t->c, "COMMIT", &idx)) == 0 &&
	    (rc = pg_conn_wait(t->c, idx, &r)) == 0 &&
	    (r == NULL || strcmp(PQcmdStatus(r), "COMMIT") != 0))
		rc = EIO; /* COMMIT of a failed transaction says ROLLBACK */
	PQclear(r);
	if (rc != 0)
		pg_end_quietly(t->c, "ROLLBACK"); /* harmless if it is over */
	pg_gen_committed(t, rc == 0);
	txn_free(t);
	return rc;
}

static void
store_pg_txn_reset(store_txn *tx)
{
	pg_txn *t = PGT(tx);

	if (t->live)
		pg_end_quietly(t->c, "COMMIT");
	t->live = false;
	pg_cur_end_txn(t, false);
	pg_pf_end(t);
	free_kept(t);
}

/* A new snapshot on the same handle; a lost connection is replaced. */
static int
store_pg_txn_renew(store_txn *tx)
{
	pg_txn *t = PGT(tx);
	pg_store *s = (pg_store *)tx->s;

	if (t->live)
		return EINVAL;
	if (t->c == NULL || !pg_conn_alive(t->c)) {
		pg_conn_free(t->c);
		if ((t->c = pg_conn_new(s, false)) == NULL) {
			/* keep a handle that a later renew can retry on */
			if ((t->c = calloc(1, sizeof(*t->c))) != NULL)
				t->c->broken = true;
			return STORE_UNAVAILABLE;
		}
	}
	return send_begin(t);
}

static int
check_key(const store_val *k)
{
	return k == NULL || k->size == 0 || k->size > INT32_MAX ? EINVAL : 0;
}

static int
store_pg_get(store_txn *tx, store_tbl tb, const store_val *k, store_val *v)
{
	pg_txn *t = PGT(tx);
	PGresult *r;
	int rc;

	if ((rc = pg_begin_call(t)) != 0 || (rc = check_key(k)) != 0)
		return rc;
	if ((rc = pg_pf_get(t, tb, k, v)) != PF_ASK) /* read ahead */
		return rc;
	if ((rc = pg_exec(t, Q_GET, tb, k, NULL, 0, &r)) != 0)
		return rc;
	if (PQntuples(r) == 0) {
		pg_pf_note(t, tb, k, NULL);
		return STORE_NOTFOUND;
	}
	v->size = (size_t)PQgetlength(r, 0, 0);
	v->data = PQgetvalue(r, 0, 0);
	pg_pf_note(t, tb, k, v);
	return 0;
}

/*
 * A put is queued, except with STORE_NOOVERWRITE, whose answer (and the
 * present value, as LMDB gives it) is needed now. STORE_RESERVE hands
 * out a buffer and sends the put at the transaction's next call.
 */
static int
store_pg_put(store_txn *tx, store_tbl tb, const store_val *k, store_val *v,
    unsigned flags)
{
	pg_txn *t = PGT(tx);
	PGresult *r;
	int rc;

	if ((rc = pg_begin_call(t)) != 0 || (rc = check_key(k)) != 0)
		return rc;
	if (t->rdonly)
		return EACCES; /* as LMDB */
	if (v->size > INT32_MAX)
		return EINVAL;
	t->wgen[tb]++;
	if (flags & STORE_NOOVERWRITE) {
		/* with RESERVE: nothing is written yet, the put comes later */
		if ((rc = pg_exec(t, flags & STORE_RESERVE ? Q_GET : Q_PUTNEW,
		         tb, k, flags & STORE_RESERVE ? NULL : v, 0, &r)) != 0)
			return rc;
		if (PQntuples(r) > 0) {
			v->size = (size_t)PQgetlength(r, 0, 0);
			v->data = PQgetvalue(r, 0, 0);
			return STORE_KEYEXIST;
		}
		if (!(flags & STORE_RESERVE)) {
			pg_pf_wrote(t, tb, k, v, false);
			return 0;
		}
	}
	if (flags & STORE_RESERVE) {
		if ((t->rsv.k = malloc(k->size)) == NULL ||
		    (t->rsv.v = malloc(v->size > 0 ? v->size : 1)) == NULL) {
			free(t->rsv.k);
			return t->err = ENOMEM;
		}
		memcpy(t->rsv.k, k->data, k->size);
		t->rsv.klen = k->size;
		t->rsv.vlen = v->size;
		t->rsv.tb = tb;
		t->rsv.flags = flags;
		t->rsv.on = true;
		v->data = t->rsv.v;
		pg_pf_wrote(t, tb, k, NULL, true); /* the bytes come later */
		return 0;
	}
	if ((rc = pg_exec(t, flags & STORE_APPEND ? Q_APPEND : Q_PUT, tb, k, v,
	         0, NULL)) != 0)
		return rc;
	/* an APPEND may fail (its key not the last), which shows later and
	 * fails the transaction: until then its key is unknown here, so a
	 * get waits for the server as it would without the read-ahead */
	pg_pf_wrote(t, tb, k, v, (flags & STORE_APPEND) != 0);
	return 0;
}

static int
store_pg_del(store_txn *tx, store_tbl tb, const store_val *k)
{
	pg_txn *t = PGT(tx);
	PGresult *r;
	int rc, there;

	if ((rc = pg_begin_call(t)) != 0 || (rc = check_key(k)) != 0)
		return rc;
	if (t->rdonly)
		return EACCES;
	t->wgen[tb]++;
	if ((there = pg_pf_present(t, tb, k)) < 0 && t->err != 0)
		return t->err;
	if (there >= 0) {
		/* read ahead: the answer is known, the delete only queued */
		if ((rc = pg_exec(t, Q_DEL, tb, k, NULL, 0, NULL)) != 0)
			return rc;
		pg_pf_wrote(t, tb, k, NULL, false);
		return there ? 0 : STORE_NOTFOUND;
	}
	if ((rc = pg_exec(t, Q_DEL, tb, k, NULL, 0, &r)) != 0)
		return rc;
	pg_pf_wrote(t, tb, k, NULL, false);
	return strcmp(PQcmdTuples(r), "0") == 0 ? STORE_NOTFOUND : 0;
}

/* Only queued: nobody waits for whether the key was there. */
static int
store_pg_del_any(store_txn *tx, store_tbl tb, const store_val *k)
{
	pg_txn *t = PGT(tx);
	int rc;

	if ((rc = pg_begin_call(t)) != 0 || (rc = check_key(k)) != 0)
		return rc;
	if (t->rdonly)
		return EACCES;
	t->wgen[tb]++;
	if ((rc = pg_exec(t, Q_DEL, tb, k, NULL, 0, NULL)) != 0)
		return rc;
	pg_pf_wrote(t, tb, k, NULL, false);
	return 0;
}

/* DELETE, not TRUNCATE: TRUNCATE is not MVCC-safe (a concurrent read
 * transaction of another node would see the table empty) and takes a
 * lock that waits for every reader. */
static int
store_pg_drop(store_txn *tx, store_tbl tb)
{
	pg_txn *t = PGT(tx);
	int rc;

	if ((rc = pg_begin_call(t)) != 0)
		return rc;
	if (t->rdonly)
		return EACCES;
	t->wgen[tb]++;
	pg_pf_table(t, tb);
	return pg_exec(t, Q_DROP, tb, NULL, NULL, 0, NULL);
}

static int
store_pg_count(store_txn *tx, store_tbl tb, uint64_t *n)
{
	pg_txn *t = PGT(tx);
	const uint8_t *p;
	PGresult *r;
	int rc;

	if ((rc = pg_begin_call(t)) != 0 ||
	    (rc = pg_exec(t, Q_COUNT, tb, NULL, NULL, 0, &r)) != 0)
		return rc;
	if (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 8)
		return t->err = EIO;
	p = (const uint8_t *)PQgetvalue(r, 0, 0);
	*n = 0;
	for (int i = 0; i < 8; i++)
		*n = (*n << 8) | p[i];
	return 0;
}

static bool
store_pg_disk_full(store *s, int rc)
{
	return rc == ENOSPC;
}

static void
store_pg_close(store *st)
{
	pg_store *s = (pg_store *)st;
	pg_conn *c;

	if (s == NULL)
		return;
	while ((c = s->idle) != NULL) {
		s->idle = c->next;
		pg_conn_free(c);
	}
	pg_conn_free(s->w);
	pg_leases_close(s);
	pthread_mutex_destroy(&s->wmu);
	pthread_mutex_destroy(&s->pmu);
	pthread_mutex_destroy(&s->lmu);
	if (s->conninfo != NULL) {
		explicit_bzero(s->conninfo, strlen(s->conninfo));
		free(s->conninfo);
	}
	free(s);
}

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .step_scale = 50,
    .close = store_pg_close,
    .txn_begin = store_pg_txn_begin,
    .txn_commit = store_pg_txn_commit,
    .txn_abort = store_pg_txn_abort,
    .txn_reset = store_pg_txn_reset,
    .txn_renew = store_pg_txn_renew,
    .get = store_pg_get,
    .put = store_pg_put,
    .del = store_pg_del,
    .drop = store_pg_drop,
    .count = store_pg_count,
    .cur_open = store_pg_cur_open,
    .cur_close = store_pg_cur_close,
    .cur_get = store_pg_cur_get,
    .cur_put_current = store_pg_cur_put_current,
    .cur_del = store_pg_cur_del,
    .disk_full = store_pg_disk_full,
    .prefetch = store_pg_prefetch,
    .del_any = store_pg_del_any,
    .cur_stream = store_pg_cur_stream,
    /* several nodes (store_pg_node.c) */
    .txn_gen = store_pg_txn_gen,
    .gen = store_pg_gen,
    .notify = store_pg_notify,
    .listen = pg_op_listen,
    .listen_fd = pg_op_listen_fd,
    .listen_drain = pg_op_listen_drain,
    .listen_close = pg_op_listen_close,
    .lease_take = store_pg_lease_take,
    .lease_held = store_pg_lease_held,
    .lease_release = store_pg_lease_release,
};

/* Runs sql (no pipeline) and returns its result, or NULL with err. */
static PGresult *
run(PGconn *pc, const char *sql, ExecStatusType want, const char *what,
    char *err, size_t errlen)
{
	PGresult *r = PQexec(pc, sql);

	if (PQresultStatus(r) == want)
		return r;
	if (r != NULL && PQresultErrorField(r, PG_DIAG_SQLSTATE) != NULL &&
	    strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42P01") == 0)
		snprintf(err, errlen,
		    "the database holds no privd store (privd init creates "
		    "one)");
	else if (r != NULL && PQresultErrorField(r, PG_DIAG_SQLSTATE) != NULL)
		snprintf(err, errlen, "cannot %s: SQLSTATE %s", what,
		    PQresultErrorField(r, PG_DIAG_SQLSTATE));
	else
		snprintf(err, errlen, "cannot %s: the connection failed", what);
	PQclear(r);
	return NULL;
}

/*
 * Creates the tables that are missing and the version row, in one
 * transaction under the writers' lock (two nodes may run init at once).
 */
static int
schema_create(PGconn *pc, char *err, size_t errlen)
{
	char sql[4096], name[64];
	size_t n;
	PGresult *r;

	n = (size_t)snprintf(sql, sizeof(sql),
	    "BEGIN; SELECT pg_advisory_xact_lock(%lld); "
	    "CREATE TABLE IF NOT EXISTS privd_schema (one boolean PRIMARY KEY "
	    "DEFAULT true CHECK (one), version integer NOT NULL); ",
	    (long long)STORE_PG_LOCK_WRITER);
	for (int tb = 0; tb < STORE_NTABLES && n < sizeof(sql); tb++) {
		pg_table_name(name, sizeof(name), (store_tbl)tb);
		n += (size_t)snprintf(sql + n, sizeof(sql) - n,
		    "CREATE TABLE IF NOT EXISTS %s (k bytea PRIMARY KEY, "
		    "v bytea NOT NULL); ",
		    name);
	}
	/* the generation (store_pg_node.c): node is the last writer's */
	if (n < sizeof(sql))
		n += (size_t)snprintf(sql + n, sizeof(sql) - n,
		    "CREATE TABLE IF NOT EXISTS privd_gen (one boolean PRIMARY "
		    "KEY DEFAULT true CHECK (one), gen bigint NOT NULL, node "
		    "bytea); INSERT INTO privd_gen (gen) VALUES (0) ON "
		    "CONFLICT "
		    "DO NOTHING; "
		    "INSERT INTO privd_schema (version) VALUES (%d) "
		    "ON CONFLICT DO NOTHING; COMMIT",
		    STORE_PG_SCHEMA);
	if (n >= sizeof(sql)) {
		snprintf(err, errlen, "schema statement too long");
		return -1;
	}
	if ((r = run(pc, sql, PGRES_COMMAND_OK, "create the schema", err,
	         errlen)) == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* Checks the version row and that every table is there. */
static int
schema_check(PGconn *pc, char *err, size_t errlen)
{
	char sql[2048], name[64];
	size_t n;
	PGresult *r;
	long v, tables;

	if ((r = run(pc, "SELECT version FROM privd_schema", PGRES_TUPLES_OK,
	         "read the schema version", err, errlen)) == NULL)
		return -1;
	v = PQntuples(r) == 1 ? strtol(PQgetvalue(r, 0, 0), NULL, 10) : -1;
	PQclear(r);
	if (v != STORE_PG_SCHEMA) {
		snprintf(err, errlen,
		    "the database's privd schema is version %ld; this privd "
		    "reads version %d",
		    v, STORE_PG_SCHEMA);
		return -1;
	}
	n = (size_t)snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = "
	    "current_schema() AND tablename IN (");
	for (int tb = 0; tb < STORE_NTABLES && n < sizeof(sql); tb++) {
		pg_table_name(name, sizeof(name), (store_tbl)tb);
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "%s'%s'",
		    tb > 0 ? ", " : "", name);
	}
	if (n < sizeof(sql))
		n += (size_t)snprintf(
		    sql + n, sizeof(sql) - n, ", 'privd_gen')");
	if (n >= sizeof(sql)) {
		snprintf(err, errlen, "schema statement too long");
		return -1;
	}
	if ((r = run(pc, sql, PGRES_TUPLES_OK, "list the tables", err,
	         errlen)) == NULL)
		return -1;
	tables = strtol(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	if (tables != STORE_NTABLES + 1) {
		snprintf(err, errlen,
		    "the database's privd schema lacks %ld of its %d tables",
		    STORE_NTABLES + 1 - tables, STORE_NTABLES + 1);
		return -1;
	}
	return 0;
}

/*
 * Opens the store in the database conninfo names (create: make the
 * schema first). The first connection becomes the writer's. err never
 * holds the conninfo (it may hold a password) nor a statement's values.
 */
int
store_pg_open(
    const char *conninfo, bool create, store **out, char *err, size_t errlen)
{
	PQconninfoOption *opts;
	pg_store *s;
	PGconn *pc;
	char why[256];

	*out = NULL;
	if ((opts = PQconninfoParse(conninfo, NULL)) == NULL) {
		snprintf(err, errlen, "invalid PostgreSQL connection string");
		return -1;
	}
	PQconninfoFree(opts);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->conninfo = strdup(conninfo)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->base.ops = &pg_ops;
	pthread_mutex_init(&s->wmu, NULL);
	pthread_mutex_init(&s->pmu, NULL);
	pthread_mutex_init(&s->lmu, NULL);
	/* names this store's commits in privd_gen: unique, not secret */
	if (getrandom(s->node, sizeof(s->node), 0) != sizeof(s->node)) {
		snprintf(err, errlen, "cannot make a node id");
		goto fail;
	}
	if ((pc = pg_dial(s, true, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "cannot connect to PostgreSQL: %s", why);
		goto fail;
	}
	if ((create && schema_create(pc, err, errlen) != 0) ||
	    schema_check(pc, err, errlen) != 0) {
		PQfinish(pc);
		goto fail;
	}
	if ((s->w = calloc(1, sizeof(*s->w))) == NULL ||
	    PQenterPipelineMode(pc) != 1) {
		PQfinish(pc);
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->w->pc = pc;
	s->w->keep = -1;
	*out = &s->base;
	return 0;
fail:
	store_pg_close(&s->base);
	return -1;
}
