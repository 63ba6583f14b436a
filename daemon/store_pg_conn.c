/*
 * store_pg_conn.c - the PostgreSQL backend's connections: dialling,
 * the pipeline (queueing statements, reading their results in order,
 * mapping errors), prepared statements, and the pool of read
 * connections. store_pg.c has the design.
 *
 * DESIGN: a connection is used by one transaction at a time (the writer
 * holds its own under wmu; a read transaction owns the one it took from
 * the pool until it ends), so nothing here locks except the pool.
 */
#include "store_pg.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define PEND_STMT 0
#define PEND_PREP 1
#define PEND_SYNC 2

#define PREP_NONE 0
#define PREP_SENT 1 /* queued; usable by statements queued after it */
#define PREP_OK   2

#define OID_BYTEA       17
#define OID_INT8        20
#define OID_TEXT        25
#define OID_BYTEA_ARRAY 1001

#define POOL_MAX         32    /* idle read connections kept */
#define IDLE_TXN_TIMEOUT "60s" /* a silent writer loses its lock */

static const struct {
	const char *sql;
	const char *params; /* b: bytea, t: text, l: int8 */
} qs[Q_NQ] = {
    [Q_GET] = {"SELECT v FROM @ WHERE k = $1", "b"},
    [Q_PUT] = {"INSERT INTO @ (k, v) VALUES ($1, $2) ON CONFLICT (k) DO "
               "UPDATE SET v = excluded.v",
        "bb"},
    /* The CTE's INSERT is invisible to the outer SELECT (one snapshot):
     * a row comes back only if the key was there before. */
    [Q_PUTNEW] = {"WITH ins AS (INSERT INTO @ (k, v) VALUES ($1, $2) ON "
                  "CONFLICT (k) DO NOTHING RETURNING 1) SELECT v FROM @ "
                  "WHERE k = $1 AND NOT EXISTS (SELECT 1 FROM ins)",
        "bb"},
    /* Queued, so its failure must be an error: a key that does not sort
     * after every key gets a NULL value, refused by NOT NULL (23502).
     * Compared with the last key (a backward index scan), not EXISTS (k
     * >= $1), which a generic plan ran as a scan of the whole table. */
    [Q_APPEND] = {"INSERT INTO @ (k, v) VALUES ($1, CASE WHEN "
                  "(SELECT k FROM @ ORDER BY k DESC LIMIT 1) >= $1 "
                  "THEN NULL ELSE $2::bytea END)",
        "bb"},
    [Q_DEL] = {"DELETE FROM @ WHERE k = $1", "b"},
    [Q_DROP] = {"DELETE FROM @", ""},
    [Q_COUNT] = {"SELECT count(*) FROM @", ""},
    [Q_FIRST] = {"SELECT k, v FROM @ ORDER BY k LIMIT $1", "l"},
    [Q_LAST] = {"SELECT k, v FROM @ ORDER BY k DESC LIMIT $1", "l"},
    [Q_GE] = {"SELECT k, v FROM @ WHERE k >= $1 ORDER BY k LIMIT $2", "bl"},
    [Q_GT] = {"SELECT k, v FROM @ WHERE k > $1 ORDER BY k LIMIT $2", "bl"},
    [Q_LT] = {"SELECT k, v FROM @ WHERE k < $1 ORDER BY k DESC LIMIT $2", "bl"},
    /* store_pg_node.c's. Only a writer holding the writers' lock runs
     * Q_GEN, so the row read is the row updated: the previous
     * generation and the node that committed it come back. */
    [Q_GEN] = {"WITH old AS (SELECT gen, node FROM privd_gen) UPDATE "
               "privd_gen SET gen = old.gen + 1, node = $1 FROM old "
               "RETURNING old.gen, old.node",
        "b"},
    [Q_GENREAD] = {"SELECT gen FROM privd_gen", ""},
    [Q_NOTIFY] = {"SELECT pg_notify($1, $2)", "tt"},
    /* a: a bytea[] in binary format (store_pg_cursor.c builds it);
     * never prepared (pg_exec) */
    [Q_GETMANY] = {"SELECT k, v FROM @ WHERE k = ANY($1)", "a"},
    [Q_GETONE] = {"SELECT k, v FROM @ WHERE k = $1", "b"},
};

static log_limit connect_limit, sqlstate_limit;

/* Notices (IF NOT EXISTS, ROLLBACK outside a transaction) are expected
 * and would otherwise go to stderr unformatted. */
static void
no_notices(void *arg, const char *msg)
{
}

/* Writes "privd_<name>" into buf. */
void
pg_table_name(char *buf, size_t len, store_tbl tb)
{
	snprintf(buf, len, "privd_%s", store_tbl_name(tb));
}

/* Writes sql with every "@" replaced by the table's name. */
static int
fill_sql(char *buf, size_t len, const char *sql, store_tbl tb)
{
	char name[64];
	size_t n = 0, nl;

	pg_table_name(name, sizeof(name), tb);
	nl = strlen(name);
	for (; *sql != '\0'; sql++) {
		if (*sql == '@') {
			if (n + nl >= len)
				return -1;
			memcpy(buf + n, name, nl);
			n += nl;
		} else {
			if (n + 1 >= len)
				return -1;
			buf[n++] = *sql;
		}
	}
	buf[n] = '\0';
	return 0;
}

/* The first line of libpq's connection error, for the operator: it names
 * hosts, ports and users, never a password or a statement's values. */
static void
conn_error(PGconn *pc, char *buf, size_t len)
{
	const char *m = pc != NULL ? PQerrorMessage(pc) : "out of memory";
	size_t n = strcspn(m, "\n");

	snprintf(buf, len, "%.*s", (int)n, *m != '\0' ? m : "unknown error");
}

/*
 * Connects with the store's conninfo. Defaults that a conninfo may
 * override come before it in the keyword list (libpq processes keywords
 * in order, the last one wins): a bounded connect, and keepalives and
 * a TCP user timeout so a primary that vanishes without a reset is
 * noticed in about ten seconds rather than never.
 */
PGconn *
pg_dial(pg_store *s, bool writer, char *err, size_t errlen)
{
	const char *kw[] = {"connect_timeout", "keepalives", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
	    "dbname", "fallback_application_name", NULL};
	const char *val[] = {
	    "10", "1", "5", "2", "3", "10000", s->conninfo, "privd", NULL};
	PGconn *pc = PQconnectdbParams(kw, val, 1);
	PGresult *r;

	if (pc == NULL || PQstatus(pc) != CONNECTION_OK) {
		conn_error(pc, err, errlen);
		PQfinish(pc);
		return NULL;
	}
	PQsetNoticeProcessor(pc, no_notices, NULL);
	/* A writer that stops talking while it holds the writers' lock (a
	 * stopped or stuck node) would hold every node's writes; after
	 * IDLE_TXN_TIMEOUT of silence inside its transaction the server
	 * ends the transaction and the connection, and the lock is free.
	 * A writer's transaction never waits that long between statements.
	 * An operator's own setting (options=-c ... in the conninfo, or the
	 * role's) is left alone. */
	r = PQexec(pc, writer ? "SET synchronous_commit = on; SELECT "
	                        "set_config('idle_in_transaction_session_"
	                        "timeout', '" IDLE_TXN_TIMEOUT "', false) "
	                        "WHERE current_setting('idle_in_transaction_"
	                        "session_timeout') = '0'"
	                      : "SET synchronous_commit = on");
	if (PQresultStatus(r) !=
	    (writer ? PGRES_TUPLES_OK : PGRES_COMMAND_OK)) {
		snprintf(err, errlen, "cannot set the session's parameters");
		PQclear(r);
		PQfinish(pc);
		return NULL;
	}
	PQclear(r);
	return pc;
}

/* A connection in pipeline mode, or NULL (logged, rate-limited). */
pg_conn *
pg_conn_new(pg_store *s, bool writer)
{
	char err[256];
	pg_conn *c;
	PGconn *pc;

	if ((pc = pg_dial(s, writer, err, sizeof(err))) == NULL) {
		log_limited(&connect_limit, LOG_WARN,
		    "store: cannot connect to PostgreSQL: %s", err);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    PQenterPipelineMode(pc) != 1) {
		free(c);
		PQfinish(pc);
		return NULL;
	}
	c->pc = pc;
	c->keep = -1;
	return c;
}

void
pg_conn_free(pg_conn *c)
{
	if (c == NULL)
		return;
	PQclear(c->kept);
	PQfinish(c->pc);
	free(c);
}

/* The result of the statement queued last is to be kept in c->kept when
 * it is read (by whichever wait reads it), not dropped. */
void
pg_keep_last(pg_conn *c)
{
	c->keep = c->npend - 1;
}

/* Maps a failed result to a code; marks the connection broken when it
 * cannot be used again. Logs only the SQLSTATE. */
static int
map_error(pg_conn *c, const PGresult *r)
{
	const char *st =
	    r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	if (PQstatus(c->pc) != CONNECTION_OK || st == NULL ||
	    strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0 ||
	    strcmp(st, "25006") == 0 || strcmp(st, "25P03") == 0 ||
	    strcmp(st, "53300") == 0 || strcmp(st, "57014") == 0) {
		/* gone, shutting down, no longer the primary, silent too
		 * long inside a transaction, full, or a statement cancelled
		 * (a statement_timeout, an administrator's
		 * pg_cancel_backend): nothing is damaged, and a fresh
		 * connection is the simplest state to go on from */
		c->broken = true;
		return STORE_UNAVAILABLE;
	}
	if (strncmp(st, "40", 2) == 0 || strcmp(st, "55P03") == 0)
		return STORE_CONFLICT;
	if (strcmp(st, "23505") == 0 || strcmp(st, "23502") == 0)
		return STORE_KEYEXIST; /* only STORE_APPEND can cause these */
	if (strcmp(st, "53100") == 0)
		return ENOSPC;
	if (strcmp(st, "53200") == 0)
		return ENOMEM;
	if (strncmp(st, "XX", 2) == 0)
		return STORE_CORRUPTED;
	log_limited(&sqlstate_limit, LOG_WARN,
	    "store: PostgreSQL statement failed, SQLSTATE %s", st);
	return EIO;
}

static int
push(pg_conn *c, int kind, store_tbl tb, enum pg_q q)
{
	struct pg_pend *p;

	if (c->npend >= PG_MAXPEND) { /* callers wait long before this */
		c->broken = true;
		return -1;
	}
	p = &c->pend[c->npend++];

	p->kind = (uint8_t)kind;
	p->tb = (uint8_t)tb;
	p->q = (uint8_t)q;
	p->quiet = false;
	p->pf = -1;
	if (kind == PEND_SYNC)
		c->unsynced = 0;
	else
		c->unsynced++;
	return c->npend - 1;
}

static int
send_sync(pg_conn *c)
{
	if (PQpipelineSync(c->pc) != 1) {
		c->broken = true;
		return STORE_UNAVAILABLE;
	}
	push(c, PEND_SYNC, 0, 0);
	return 0;
}

/*
 * Sends a sync (if anything is unsynced) and reads every queued result
 * in order. The result of item `want` (or -1) goes to *out, the caller's
 * to free. Returns the first error of an item that is not quiet.
 */
int
pg_conn_wait(pg_conn *c, int want, PGresult **out)
{
	int first = 0, rc, i;
	PGresult *r, *nul;
	ExecStatusType st;

	if (out != NULL)
		*out = NULL;
	if (c->broken)
		return STORE_UNAVAILABLE;
	if (c->unsynced > 0 && (rc = send_sync(c)) != 0)
		return rc;
	for (i = 0; i < c->npend; i++) {
		struct pg_pend *p = &c->pend[i];

		if ((r = PQgetResult(c->pc)) == NULL) {
			c->broken = true;
			break;
		}
		st = PQresultStatus(r);
		if (p->kind == PEND_SYNC) {
			PQclear(r);
			if (st != PGRES_PIPELINE_SYNC) {
				c->broken = true;
				break;
			}
			continue;
		}
		if ((nul = PQgetResult(c->pc)) != NULL) { /* out of step */
			PQclear(nul);
			PQclear(r);
			c->broken = true;
			break;
		}
		rc = 0;
		if (st == PGRES_FATAL_ERROR)
			rc = map_error(c, r);
		else if (st == PGRES_PIPELINE_ABORTED)
			rc = EIO; /* an earlier item's error is the one */
		else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
			rc = EIO;
		if (p->kind == PEND_PREP)
			c->prep[p->tb][p->q] = rc == 0 ? PREP_OK : PREP_NONE;
		if (rc != 0 && !p->quiet && first == 0)
			first = rc;
		if (i == want && rc == 0 && out != NULL) {
			*out = r;
		} else if (i == c->keep && rc == 0) {
			PQclear(c->kept);
			c->kept = r;
		} else if (p->pf >= 0 && !p->quiet && c->pft != NULL) {
			pg_pf_fill(c->pft, (store_tbl)p->tb, p->pf,
			    rc == 0 ? r : NULL);
			if (rc != 0)
				PQclear(r);
		} else {
			PQclear(r);
		}
		if (c->broken)
			break;
	}
	c->npend = 0;
	c->unsynced = 0;
	c->keep = -1;
	if (c->broken)
		return STORE_UNAVAILABLE;
	return first;
}

/* Queues a statement with no parameters, outside the prepared ones;
 * *idx (if not NULL) receives its place in the queue. */
int
pg_send_plain(pg_conn *c, const char *sql, int *idx)
{
	int rc;

	if (c->broken)
		return STORE_UNAVAILABLE;
	if (c->npend >= PG_MAXPEND - 3 && (rc = pg_conn_wait(c, -1, NULL)) != 0)
		return rc;
	if (PQsendQueryParams(c->pc, sql, 0, NULL, NULL, NULL, NULL, 1) != 1) {
		c->broken = true;
		return STORE_UNAVAILABLE;
	}
	rc = push(c, PEND_STMT, 0, 0);
	if (idx != NULL)
		*idx = rc;
	return 0;
}

/* Ends the open transaction with sql (COMMIT or ROLLBACK) without
 * waiting: its result is read, quietly, by the connection's next user.
 * The sync before it lets it run even after an error in the queue. */
void
pg_end_quietly(pg_conn *c, const char *sql)
{
	if (c->broken || (c->unsynced > 0 && send_sync(c) != 0) ||
	    pg_send_plain(c, sql, NULL) != 0 || send_sync(c) != 0)
		c->broken = true;
	for (int i = 0; i < c->npend; i++)
		c->pend[i].quiet = true;
}

/*
 * Whether an idle connection (nothing outstanding) still looks usable:
 * reads what the socket has to say without waiting. A server that
 * stopped, failed over or ended the session (pg_terminate_backend) has
 * sent an error and closed it; a peer gone silent shows once the
 * keepalives give up (pg_dial: about ten seconds).
 */
bool
pg_pc_alive(PGconn *pc)
{
	struct pollfd pfd;

	if (pc == NULL || PQstatus(pc) != CONNECTION_OK)
		return false;
	/* a few rounds: a server going away sends an error, then EOF */
	for (int i = 0; i < 4; i++) {
		pfd.fd = PQsocket(pc);
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (pfd.fd < 0 || poll(&pfd, 1, 0) < 0)
			return false;
		if (pfd.revents == 0)
			break;
		if (PQconsumeInput(pc) != 1 || PQstatus(pc) != CONNECTION_OK)
			return false;
	}
	return true;
}

/*
 * Before a connection is used again (a begin, a renew): reads what the
 * server sent since (the quiet results of the last transaction's end),
 * and, with nothing outstanding, whether the socket has something to
 * say: a server that stopped or failed over has closed it, and finding
 * that now makes the caller connect again instead of failing its first
 * read. Returns false if the connection is unusable.
 */
bool
pg_conn_alive(pg_conn *c)
{
	if (c->broken)
		return false;
	if (c->npend > 0)
		(void)pg_conn_wait(c, -1, NULL); /* all quiet: only breakage */
	if (c->broken || !pg_pc_alive(c->pc))
		c->broken = true;
	return !c->broken;
}

/*
 * Queues statement q on table tb, preparing it on this connection first
 * if it never was. a, b: bytea parameters; lim: the int8 one, where the
 * statement has it. With res == NULL the statement is only queued (its
 * error, if any, comes from a later wait); else waits and returns its
 * result in *res, kept by the transaction until it ends.
 */
int
pg_exec(pg_txn *t, enum pg_q q, store_tbl tb, const store_val *a,
    const store_val *b, int64_t lim, PGresult **res)
{
	pg_conn *c = t->c;
	const char *vals[2];
	int lens[2], fmts[2] = {1, 1}, np = 0, idx, rc;
	Oid types[2];
	uint8_t be[8];
	char name[32], sql[512];
	const char *pp;

	if (res != NULL)
		*res = NULL;
	if (c->broken)
		return t->err = STORE_UNAVAILABLE;
	if (c->npend >= PG_MAXPEND - 3 && (rc = pg_conn_wait(c, -1, NULL)) != 0)
		return t->err = rc;
	for (pp = qs[q].params; *pp != '\0'; pp++, np++) {
		const store_val *v = np == 0 ? a : b;

		if (*pp == 'b' || *pp == 't' || *pp == 'a') {
			/* text in binary format is its bytes */
			types[np] = *pp == 'b'   ? OID_BYTEA
			            : *pp == 't' ? OID_TEXT
			                         : OID_BYTEA_ARRAY;
			vals[np] = v->size > 0 ? v->data : "";
			lens[np] = (int)v->size;
		} else {
			for (int i = 7; i >= 0; i--, lim >>= 8)
				be[i] = (uint8_t)lim;
			types[np] = OID_INT8;
			vals[np] = (const char *)be;
			lens[np] = 8;
		}
	}
	if (q == Q_GETMANY) {
		/* Planned at every run, never prepared: a prepared plan made
		 * while the table was small (a new store) stays a sequential
		 * scan for ANY($1) as the table grows (seen: 90 ms a run at
		 * 100,000 values), where k = $1 always takes the primary key.
		 * One such statement per table and batch: planning is cheap
		 * beside the round trips it saves. */
		if (fill_sql(sql, sizeof(sql), qs[q].sql, tb) != 0)
			return t->err = EINVAL;
		if (PQsendQueryParams(
		        c->pc, sql, np, types, vals, lens, fmts, 1) != 1) {
			c->broken = true;
			return t->err = STORE_UNAVAILABLE;
		}
		goto sent;
	}
	snprintf(name, sizeof(name), "privd_%d_%d", (int)tb, (int)q);
	if (c->prep[tb][q] == PREP_NONE) {
		if (fill_sql(sql, sizeof(sql), qs[q].sql, tb) != 0)
			return t->err = EINVAL;
		if (PQsendPrepare(c->pc, name, sql, np, types) != 1) {
			c->broken = true;
			return t->err = STORE_UNAVAILABLE;
		}
		push(c, PEND_PREP, tb, q);
		c->prep[tb][q] = PREP_SENT;
	}
	if (PQsendQueryPrepared(c->pc, name, np, vals, lens, fmts, 1) != 1) {
		c->broken = true;
		return t->err = STORE_UNAVAILABLE;
	}
sent:
	idx = push(c, PEND_STMT, tb, q);
	if (res == NULL)
		return 0;
	if ((rc = pg_conn_wait(c, idx, res)) != 0)
		return t->err = rc;
	if (*res == NULL) /* cannot happen: an answer or an error */
		return t->err = EIO;
	return pg_keep_res(t, *res);
}

/* Keeps r until the transaction ends (or frees it and fails). */
int
pg_keep_res(pg_txn *t, PGresult *r)
{
	if (t->nres == t->capres) {
		size_t n = t->capres ? t->capres * 2 : 16;
		PGresult **p = realloc(t->res, n * sizeof(*p));

		if (p == NULL) {
			PQclear(r);
			return t->err = ENOMEM;
		}
		t->res = p;
		t->capres = n;
	}
	t->res[t->nres++] = r;
	return 0;
}

/* A copy of p that lives until the transaction ends, or NULL. */
void *
pg_keep_copy(pg_txn *t, const void *p, size_t n)
{
	void *m;

	if (t->nblobs == t->capblobs) {
		size_t cap = t->capblobs ? t->capblobs * 2 : 8;
		void **b = realloc(t->blobs, cap * sizeof(*b));

		if (b == NULL)
			return NULL;
		t->blobs = b;
		t->capblobs = cap;
	}
	if ((m = malloc(n > 0 ? n : 1)) == NULL)
		return NULL;
	if (n > 0)
		memcpy(m, p, n);
	t->blobs[t->nblobs++] = m;
	return m;
}

/* Returns a read connection to the pool, or closes it. A broken one
 * empties the pool: its siblings went to the same server. */
void
pg_pool_put(pg_store *s, pg_conn *c)
{
	pg_conn *old = NULL, *n;

	if (c == NULL)
		return;
	pthread_mutex_lock(&s->pmu);
	if (c->broken) {
		old = s->idle;
		s->idle = NULL;
		s->nidle = 0;
	} else if (s->nidle < POOL_MAX) {
		c->next = s->idle;
		s->idle = c;
		s->nidle++;
		c = NULL;
	}
	pthread_mutex_unlock(&s->pmu);
	pg_conn_free(c);
	for (; old != NULL; old = n) {
		n = old->next;
		pg_conn_free(old);
	}
}

/* A live idle connection, or a new one, or NULL. */
pg_conn *
pg_pool_get(pg_store *s)
{
	pg_conn *c;

	for (;;) {
		pthread_mutex_lock(&s->pmu);
		if ((c = s->idle) != NULL) {
			s->idle = c->next;
			s->nidle--;
		}
		pthread_mutex_unlock(&s->pmu);
		if (c == NULL)
			return pg_conn_new(s, false);
		if (pg_conn_alive(c))
			return c;
		pg_conn_free(c);
	}
}
