/*
 * store_pg_node.c - what several privd nodes on one PostgreSQL database
 * need of the store beyond store_kv.h: a generation that tells a writer
 * another node wrote, notifications sent at commit, and leases (one
 * node at a time does a job). store_pg.h declares them; store_pg.c has
 * the backend's design.
 *
 * DESIGN, the generation: privd_gen has one row (gen, node). Every write
 * transaction, right after it takes the writers' lock, advances gen and
 * writes its store's node id (random, made at open) into node, and the
 * same statement returns the row as it was (Q_GEN, pipelined with BEGIN
 * and the lock: no extra round trip). The row as it was says who
 * committed the last write transaction of the cluster: if it is this
 * store with the generation this store last committed, nothing was
 * written by anyone else since, and what the writer keeps in memory (the
 * audit chain's head, ...) is current. Anything else (another node id, a
 * generation that moved, or no commit of ours known yet) means re-read.
 * The store learns "last committed" only from a COMMIT that answered:
 * a transaction that aborts rolls its update back and changes nothing;
 * a commit that failed or whose answer was lost makes the next
 * transaction re-read. The node id (not the generation alone) also
 * catches a generation lost in a failover and reused by another node.
 * A reader's check "anything written since G?" reads gen (store_pg_gen).
 * Cost: one row updated per write transaction, about 20 us of server
 * time (a one-put transaction on a unix socket: ~95 us -> ~117 us).
 *
 * Notifications: pg_notify queued in the write transaction, delivered
 * by the server at commit to every session that LISTENs, in commit
 * order, and never for a transaction that did not commit. A listener
 * has its own connection (not in pipeline mode, not pooled); one lost
 * (a failover, a restart) is connected again at the next drain, and the
 * caller is told that it may have missed some.
 *
 * Leases: pg_try_advisory_lock, session level, on a connection of
 * the lease's own to the primary (a standby grants locks of its own),
 * so that the lease lives exactly as long as that connection: a node
 * that stops, crashes or loses its connection loses the lease, and any
 * node's next take gets it. After a failover every session lock of the
 * old primary is gone; a node whose connection to it is not yet seen
 * dead may believe it still holds the lease while another takes it on
 * the new primary. So a lease chooses who does a job and must not be
 * what makes the job correct: a sweep step must be a write transaction
 * (under the writers' lock) that re-reads what is due, so that two
 * sweepers for a moment still do each thing once.
 *
 * The serving lock (store_image.h): a listener is a serving node's
 * (writer_nodes.c), so its connection also holds LOCK_SERVING shared,
 * taken before its LISTENs (the connection's last statement stays its
 * LISTEN, which tools look for), for as long as it lives: every node
 * that serves and is connected to the primary shows in pg_locks. `privd
 * restore` takes it exclusive, without waiting, on a connection of its
 * own: it cannot while a node serves, and while it holds it a starting
 * node's listener is refused (and retried at each drain), so the node
 * says a restore is under way. A node whose listener is between
 * connections (a failover) holds no lock for that moment: the restore's
 * check is as good as the primary's view of who is connected.
 */
#include "store_pg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_image.h"

#define MAX_CHANNELS 8
#define MAX_PAYLOAD  7999 /* the server's limit is 8000 with the NUL */
#define LOCK_SERVING STORE_PG_LOCK_SERVING

struct store_pg_listener {
	struct store_listener base; /* store_backend.h's head */
	pg_store *s;
	PGconn *pc; /* NULL while disconnected */
	char chan[MAX_CHANNELS][64];
	size_t nchan;
	bool missed;  /* connected anew since the last successful drain */
	bool restore; /* the last connect was refused: a restore under way */
};

static log_limit node_limit;

/* ---- the generation -------------------------------------------------- */

/* Queues the generation's update (right after the lock); its result is
 * kept on the connection for pg_gen_take. */
int
pg_gen_send(pg_txn *t)
{
	pg_store *s = (pg_store *)t->base.s;
	store_val node = {sizeof(s->node), s->node};
	int rc;

	t->gen_have = false;
	PQclear(t->c->kept);
	t->c->kept = NULL;
	if ((rc = pg_exec(t, Q_GEN, STORE_META, &node, NULL, 0, NULL)) != 0)
		return rc;
	pg_keep_last(t->c);
	return 0;
}

static uint64_t
be64_at(const char *p)
{
	uint64_t n = 0;

	for (int i = 0; i < 8; i++)
		n = (n << 8) | (uint8_t)p[i];
	return n;
}

/* Reads the update's result, once its answer is in. */
int
pg_gen_take(pg_txn *t)
{
	pg_store *s = (pg_store *)t->base.s;
	PGresult *r = t->c->kept;
	uint64_t prev;

	if (t->gen_have)
		return 0;
	if (r == NULL)
		return EAGAIN; /* not read yet */
	t->c->kept = NULL;
	if (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 8) {
		PQclear(r);
		return t->err = EIO; /* the row is gone: a damaged schema */
	}
	prev = be64_at(PQgetvalue(r, 0, 0));
	t->moved = !s->last_known || prev != s->last_gen ||
	           PQgetisnull(r, 0, 1) ||
	           PQgetlength(r, 0, 1) != (int)sizeof(s->node) ||
	           memcmp(PQgetvalue(r, 0, 1), s->node, sizeof(s->node)) != 0;
	t->gen = prev + 1;
	t->gen_have = true;
	PQclear(r);
	return 0;
}

/* After a write transaction's COMMIT (ok: it answered COMMIT) or a
 * failed one: what the store knows of its last commit. */
void
pg_gen_committed(pg_txn *t, bool ok)
{
	pg_store *s = (pg_store *)t->base.s;

	if (ok && pg_gen_take(t) == 0) {
		s->last_gen = t->gen;
		s->last_known = true;
	} else {
		s->last_known = false;
	}
}

int
store_pg_txn_gen(store_txn *tx, uint64_t *gen, bool *moved)
{
	pg_txn *t = PGT(tx);
	PGresult *r;
	int rc;

	if (moved != NULL)
		*moved = false;
	if ((rc = pg_begin_call(t)) != 0)
		return rc;
	if (t->rdonly) {
		if ((rc = pg_exec(
		         t, Q_GENREAD, STORE_META, NULL, NULL, 0, &r)) != 0)
			return rc;
		if (PQntuples(r) != 1 || PQgetlength(r, 0, 0) != 8)
			return t->err = EIO;
		*gen = be64_at(PQgetvalue(r, 0, 0));
		return 0;
	}
	if (!t->gen_have && t->c->kept == NULL &&
	    (rc = pg_conn_wait(t->c, -1, NULL)) != 0)
		return t->err = rc;
	if ((rc = pg_gen_take(t)) != 0)
		return t->err = rc == EAGAIN ? EIO : rc;
	*gen = t->gen;
	if (moved != NULL)
		*moved = t->moved;
	return 0;
}

int
store_pg_gen(store *s, uint64_t *gen)
{
	store_txn *t;
	int rc;

	if ((rc = s->ops->txn_begin(s, STORE_RDONLY, &t)) != 0)
		return rc;
	rc = store_pg_txn_gen(t, gen, NULL);
	s->ops->txn_abort(t);
	return rc;
}

/* ---- notifications --------------------------------------------------- */

/* A channel name needs no quoting and is never folded: [a-z0-9_]. */
static bool
channel_ok(const char *c)
{
	size_t n = c != NULL ? strlen(c) : 0;

	if (n == 0 || n > 63)
		return false;
	return strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

int
store_pg_notify(store_txn *tx, const char *channel, const char *payload)
{
	pg_txn *t = PGT(tx);
	store_val c, p;
	int rc;

	if ((rc = pg_begin_call(t)) != 0)
		return rc;
	if (t->rdonly)
		return EACCES;
	if (payload == NULL)
		payload = "";
	if (!channel_ok(channel) || strlen(payload) > MAX_PAYLOAD)
		return EINVAL;
	c.size = strlen(channel);
	c.data = (void *)channel;
	p.size = strlen(payload);
	p.data = (void *)payload;
	return pg_exec(t, Q_NOTIFY, STORE_META, &c, &p, 0, NULL);
}

/* Connects and LISTENs; false (logged, rate-limited) if it cannot. */
static bool
listen_connect(store_pg_listener *l)
{
	char err[256], sql[80];
	PGresult *r;

	PQfinish(l->pc);
	l->missed = true;
	l->restore = false;
	if ((l->pc = pg_dial(l->s, false, err, sizeof(err))) == NULL) {
		log_limited(&node_limit, LOG_WARN,
		    "store: cannot connect to PostgreSQL to listen: %s", err);
		return false;
	}
	/* this node serves (the header); a restore holding the lock
	 * exclusive refuses it until it ends */
	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock_shared(%lld)",
	    (long long)LOCK_SERVING);
	r = PQexec(l->pc, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
	    PQgetvalue(r, 0, 0)[0] != 't') {
		if (PQresultStatus(r) == PGRES_TUPLES_OK) {
			l->restore = true;
			log_limited(&node_limit, LOG_WARN,
			    "store: a privd restore is under way on the "
			    "database; waiting for it to end");
		} else
			log_limited(&node_limit, LOG_WARN,
			    "store: cannot take the serving lock");
		PQclear(r);
		PQfinish(l->pc);
		l->pc = NULL;
		return false;
	}
	PQclear(r);
	for (size_t i = 0; i < l->nchan; i++) {
		snprintf(sql, sizeof(sql), "LISTEN %s", l->chan[i]);
		r = PQexec(l->pc, sql);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			/* LISTEN on a standby fails: not the primary */
			log_limited(&node_limit, LOG_WARN,
			    "store: cannot listen for notifications");
			PQclear(r);
			PQfinish(l->pc);
			l->pc = NULL;
			return false;
		}
		PQclear(r);
	}
	return true;
}

int
store_pg_listen(
    store *s, const char *const *channels, size_t n, store_pg_listener **out)
{
	store_pg_listener *l;

	*out = NULL;
	if (n == 0 || n > MAX_CHANNELS)
		return EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!channel_ok(channels[i]))
			return EINVAL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ENOMEM;
	l->base.ops = s->ops;
	l->base.s = s;
	l->s = (pg_store *)s;
	for (size_t i = 0; i < n; i++)
		snprintf(l->chan[i], sizeof(l->chan[i]), "%s", channels[i]);
	l->nchan = n;
	(void)listen_connect(l); /* or at the first drain */
	if (l->restore) {
		/* a node does not start serving during a restore: its start
		 * waits (startwait.c) and tries again */
		free(l);
		return STORE_UNAVAILABLE;
	}
	l->missed = false; /* the caller loads what it needs now */
	if (l->pc == NULL)
		l->missed = true;
	*out = l;
	return 0;
}

int
store_pg_listen_fd(const store_pg_listener *l)
{
	return l->pc != NULL ? PQsocket(l->pc) : -1;
}

int
store_pg_listen_drain(
    store_pg_listener *l, store_pg_notify_fn *fn, void *arg, bool *missed)
{
	PGnotify *n;
	bool ok;

	*missed = l->missed;
	if (l->pc == NULL && !listen_connect(l)) {
		*missed = true;
		return STORE_UNAVAILABLE;
	}
	/* everything the socket has (pg_pc_alive reads until it is dry,
	 * so that no notification waits in libpq with nothing to poll) */
	ok = PQconsumeInput(l->pc) == 1 && pg_pc_alive(l->pc);
	/* what arrived before a loss still counts */
	while ((n = PQnotifies(l->pc)) != NULL) {
		fn(arg, n->relname, n->extra);
		PQfreemem(n);
	}
	if (!ok) {
		/* a restart or a failover: the new primary may be up */
		if (!listen_connect(l)) {
			*missed = true;
			return STORE_UNAVAILABLE;
		}
	}
	*missed = *missed || l->missed;
	l->missed = false;
	return 0;
}

void
store_pg_listen_close(store_pg_listener *l)
{
	if (l == NULL)
		return;
	PQfinish(l->pc);
	free(l);
}

/* The listener's ops (store_backend.h): the head is its first member. */
int
pg_op_listen(
    store *s, const char *const *channels, size_t n, store_listener **out)
{
	store_pg_listener *l;
	int rc;

	rc = store_pg_listen(s, channels, n, &l);
	*out = rc == 0 ? &l->base : NULL;
	return rc;
}

int
pg_op_listen_fd(const store_listener *l)
{
	return store_pg_listen_fd((const store_pg_listener *)l);
}

int
pg_op_listen_drain(
    store_listener *l, store_notify_fn *fn, void *arg, bool *missed)
{
	return store_pg_listen_drain((store_pg_listener *)l, fn, arg, missed);
}

void
pg_op_listen_close(store_listener *l)
{
	store_pg_listen_close((store_pg_listener *)l);
}

/* ---- leases ---------------------------------------------------------- */

int
store_pg_lease_take(store *st, int which, bool *got)
{
	pg_store *s = (pg_store *)st;
	char err[256], sql[96];
	PGresult *r;
	int rc = 0;

	*got = false;
	if (which < 0 || which >= STORE_PG_NLEASES)
		return EINVAL;
	pthread_mutex_lock(&s->lmu);
	if (s->lease[which] != NULL && !pg_pc_alive(s->lease[which])) {
		PQfinish(s->lease[which]); /* and the lease with it */
		s->lease[which] = NULL;
		s->leased[which] = false;
	}
	if (s->leased[which]) {
		*got = true;
		goto out;
	}
	if (s->lease[which] == NULL &&
	    (s->lease[which] = pg_dial(s, false, err, sizeof(err))) == NULL) {
		log_limited(&node_limit, LOG_WARN,
		    "store: cannot connect to PostgreSQL for a lease: %s", err);
		rc = STORE_UNAVAILABLE;
		goto out;
	}
	/* A standby grants advisory locks too, its own: only the
	 * primary's count (no row from a standby). */
	snprintf(sql, sizeof(sql),
	    "SELECT pg_try_advisory_lock(%lld) WHERE NOT pg_is_in_recovery()",
	    (long long)(STORE_PG_LOCK_WRITER + 1 + which));
	r = PQexec(s->lease[which], sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		/* not got: the connection stays for the next try */
		s->leased[which] = *got = PQgetvalue(r, 0, 0)[0] == 't';
	} else {
		PQfinish(s->lease[which]);
		s->lease[which] = NULL;
		rc = STORE_UNAVAILABLE;
	}
	PQclear(r);
out:
	pthread_mutex_unlock(&s->lmu);
	return rc;
}

bool
store_pg_lease_held(store *st, int which)
{
	pg_store *s = (pg_store *)st;
	bool held;

	if (which < 0 || which >= STORE_PG_NLEASES)
		return false;
	pthread_mutex_lock(&s->lmu);
	if (s->leased[which] && !pg_pc_alive(s->lease[which])) {
		PQfinish(s->lease[which]);
		s->lease[which] = NULL;
		s->leased[which] = false;
	}
	held = s->leased[which];
	pthread_mutex_unlock(&s->lmu);
	return held;
}

/* Ends the lease's connection: the server drops its session locks. */
void
store_pg_lease_release(store *st, int which)
{
	pg_store *s = (pg_store *)st;

	if (which < 0 || which >= STORE_PG_NLEASES)
		return;
	pthread_mutex_lock(&s->lmu);
	PQfinish(s->lease[which]);
	s->lease[which] = NULL;
	s->leased[which] = false;
	pthread_mutex_unlock(&s->lmu);
}

void
pg_leases_close(pg_store *s)
{
	for (int i = 0; i < STORE_PG_NLEASES; i++)
		store_pg_lease_release(&s->base, i);
}

/* ---- backups and restore (store_image.h) ------------------------------ */

uint64_t
store_pg_image_bytes(store *st)
{
	pg_store *s = (pg_store *)st;
	char err[256];
	uint64_t n = 0;
	PGconn *pc;
	PGresult *r;

	if ((pc = pg_dial(s, false, err, sizeof(err))) == NULL)
		return 0;
	/* the heap and TOAST of privd's tables (their indexes are not in
	 * an image): about what the image holds, rather more */
	r = PQexec(pc, "SELECT coalesce(sum(pg_table_size(c.oid)), 0) "
	               "FROM pg_catalog.pg_class c WHERE c.relkind = 'r' "
	               "AND c.relnamespace = current_schema()::regnamespace "
	               "AND c.relname LIKE 'privd\\_%'");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		n = strtoull(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(pc);
	return n;
}

struct store_pg_serving {
	PGconn *pc; /* holds LOCK_SERVING exclusive while it lives */
};

int
store_pg_serving_take(store *st, bool *got, store_pg_serving **out)
{
	pg_store *s = (pg_store *)st;
	store_pg_serving *sv;
	char err[256], sql[96];
	PGresult *r;
	int rc = 0;

	*got = false;
	*out = NULL;
	if ((sv = calloc(1, sizeof(*sv))) == NULL)
		return ENOMEM;
	if ((sv->pc = pg_dial(s, false, err, sizeof(err))) == NULL) {
		free(sv);
		return STORE_UNAVAILABLE;
	}
	/* a standby's locks are its own: the primary's only */
	snprintf(sql, sizeof(sql),
	    "SELECT pg_try_advisory_lock(%lld) WHERE NOT pg_is_in_recovery()",
	    (long long)LOCK_SERVING);
	r = PQexec(sv->pc, sql);
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		*got = PQgetvalue(r, 0, 0)[0] == 't';
	else if (PQresultStatus(r) != PGRES_TUPLES_OK)
		rc = STORE_UNAVAILABLE;
	/* no row: a standby, not taken (the caller says so) */
	PQclear(r);
	if (rc != 0 || !*got) {
		PQfinish(sv->pc);
		free(sv);
		return rc;
	}
	*out = sv;
	return 0;
}

void
store_pg_serving_end(store_pg_serving **p)
{
	if (p == NULL || *p == NULL)
		return;
	PQfinish((*p)->pc); /* the server drops the session's lock */
	free(*p);
	*p = NULL;
}
