/*
 * store_lmdb.c - the LMDB backend of store_kv.h: one environment in the
 * data directory, one named database per store table. The only file of
 * the daemon that includes <lmdb.h> (store_lmdb.h, its struct, is private
 * to it save for the benchmark's store floor).
 *
 * DESIGN: each store_kv.h call is the LMDB call of the same name (a read
 * transaction's begin and renew also check that LMDB's snapshot is not
 * newer than the commit it registered: read_settle). The
 * codes, flags, cursor operations and store_val are LMDB's own (checked
 * below at compile time), so values, keys and codes pass through without
 * a copy or a translation. A transaction is a small wrapper that carries
 * the dispatch head (store_backend.h) and the MDB_txn; a cursor likewise.
 * Cursor wrappers are kept on their transaction for reuse, so a request
 * costs no allocation beyond LMDB's own; a worker's read handle keeps its
 * wrapper for its lifetime (reset and renew, never free).
 *
 * What only LMDB has stays here behind store.h's functions, which other
 * backends answer with a neutral value: the map and its growth (maplock,
 * store_grow, store_want_map, store_map_adopt), the meta page's sync
 * (store_set_meta_sync, store_sync), the compact copy a backup is
 * (store_copy), and opening a backup image or a stopped store read-only
 * (store_open_image).
 */
#include "store_lmdb.h"
#include "store_backend.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "log.h"

#define STORE_MAXDBS     32
#define STORE_MAXREADERS 512

static int
open_dbi(MDB_txn *txn, const char *name, unsigned flags, MDB_dbi *dbi)
{
	return mdb_dbi_open(txn, name, flags, dbi);
}

/*
 * Stores written before issue 8 kept their audit indexes in "audit_idx",
 * one entry per event and index, written in the event's own commit. They
 * are dropped here; privd rebuilds the indexes it uses now (audit_ix) from
 * the log before it serves (audit_index.h).
 */
static int
drop_old_index(MDB_txn *txn)
{
	MDB_dbi dbi;
	int rc;

	if ((rc = mdb_dbi_open(txn, "audit_idx", 0, &dbi)) == MDB_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	return mdb_drop(txn, dbi, 1);
}

static const struct store_ops lmdb_ops;
static int lmdb_grow(store *s);

int
store_lmdb_open(const char *dir, size_t mapsize, bool create, store **out,
    char *err, size_t errlen)
{
	store *s;
	MDB_txn *txn = NULL;
	MDB_envinfo info;
	pthread_rwlockattr_t rwa;
	unsigned dbflags = create ? MDB_CREATE : 0;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->dir = strdup(dir)) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->ops = &lmdb_ops;
	if (mapsize < STORE_MIN_MAPSIZE)
		mapsize = STORE_MIN_MAPSIZE;
	/* glibc's default rwlock prefers readers, so workers reading without
	 * pause would keep store_grow (and the writer) waiting for good */
	pthread_rwlockattr_init(&rwa);
	pthread_rwlockattr_setkind_np(
	    &rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&s->maplock, &rwa);
	pthread_rwlockattr_destroy(&rwa);
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, STORE_MAXDBS)) != 0 ||
	    (rc = mdb_env_set_maxreaders(s->env, STORE_MAXREADERS)) != 0 ||
	    (rc = mdb_env_set_mapsize(s->env, mapsize)) != 0)
		goto fail;
	/* MDB_NOTLS: read transactions belong to workers, not threads. Both
	 * syncs stay on: an acknowledged write must survive an OS crash. The
	 * serving writer turns the meta page's sync off for a commit that
	 * another follows at once, and answers it only after that commit's
	 * flush (writer.c, meta_sync). */
	if ((rc = mdb_env_open(s->env, dir, MDB_NOTLS, 0600)) != 0)
		goto fail;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)) != 0)
		goto fail;
	if ((rc = open_dbi(txn, "meta", dbflags, &s->meta)) != 0 ||
	    (rc = open_dbi(txn, "policy", dbflags, &s->policy)) != 0 ||
	    (rc = open_dbi(txn, "subjects", dbflags, &s->subjects)) != 0 ||
	    (rc = open_dbi(txn, "values", dbflags, &s->values)) != 0 ||
	    (rc = open_dbi(txn, "audit", dbflags, &s->audit)) != 0 ||
	    (rc = open_dbi(txn, "audit_ckpt", dbflags, &s->audit_ckpt)) != 0 ||
	    (rc = open_dbi(txn, "audit_ix", MDB_CREATE, &s->audit_ix)) != 0 ||
	    (rc = open_dbi(txn, "ret_sub", MDB_CREATE, &s->ret_sub)) != 0 ||
	    (rc = open_dbi(txn, "ret_plan", MDB_CREATE, &s->ret_plan)) != 0 ||
	    (rc = open_dbi(txn, "ret_due", MDB_CREATE, &s->ret_due)) != 0 ||
	    (rc = open_dbi(txn, "ret_reg", MDB_CREATE, &s->ret_reg)) != 0 ||
	    (rc = open_dbi(txn, "holds", MDB_CREATE, &s->holds)) != 0 ||
	    (rc = open_dbi(txn, "anon", MDB_CREATE, &s->anon)) != 0 ||
	    (rc = open_dbi(txn, "subj_state", MDB_CREATE, &s->subj_state)) !=
	        0 ||
	    (rc = open_dbi(txn, "erasures", MDB_CREATE, &s->erasures)) != 0 ||
	    (rc = open_dbi(txn, "blind", MDB_CREATE, &s->blind)) != 0 ||
	    (rc = open_dbi(txn, "blind_of", MDB_CREATE, &s->blind_of)) != 0 ||
	    (rc = drop_old_index(txn)) != 0)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	mdb_env_info(s->env, &info);
	s->mapsize = info.me_mapsize;
	s->dbi[STORE_META] = s->meta;
	s->dbi[STORE_POLICY] = s->policy;
	s->dbi[STORE_SUBJECTS] = s->subjects;
	s->dbi[STORE_VALUES] = s->values;
	s->dbi[STORE_AUDIT] = s->audit;
	s->dbi[STORE_AUDIT_CKPT] = s->audit_ckpt;
	s->dbi[STORE_AUDIT_IX] = s->audit_ix;
	s->dbi[STORE_RET_SUB] = s->ret_sub;
	s->dbi[STORE_RET_PLAN] = s->ret_plan;
	s->dbi[STORE_RET_DUE] = s->ret_due;
	s->dbi[STORE_RET_REG] = s->ret_reg;
	s->dbi[STORE_HOLDS] = s->holds;
	s->dbi[STORE_ANON] = s->anon;
	s->dbi[STORE_SUBJ_STATE] = s->subj_state;
	s->dbi[STORE_ERASURES] = s->erasures;
	s->dbi[STORE_BLIND] = s->blind;
	s->dbi[STORE_BLIND_OF] = s->blind_of;
	*out = s;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (rc == MDB_NOTFOUND)
		snprintf(err, errlen, "%s does not hold a privd store", dir);
	else
		snprintf(err, errlen, "cannot open store in %s: %s", dir,
		    mdb_strerror(rc));
	if (s->env != NULL)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->maplock);
	free(s->dir);
	free(s);
	return -1;
}

static void
lmdb_close(store *s)
{
	mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->maplock);
	free(s->dir);
	free(s);
}

static bool
lmdb_want_map(store *s, size_t bytes, int timeout_ms)
{
	struct timespec ts = {0, 10 * 1000 * 1000};
	size_t have;
	int waited;

	__atomic_store_n(&s->map_wanted, bytes, __ATOMIC_RELEASE);
	for (waited = 0;; waited += 10) {
		pthread_rwlock_rdlock(&s->maplock);
		have = s->mapsize;
		pthread_rwlock_unlock(&s->maplock);
		if (have >= bytes || waited >= timeout_ms)
			return have >= bytes;
		nanosleep(&ts, NULL);
	}
}

static void
lmdb_grow_wanted(store *s)
{
	while (__atomic_load_n(&s->map_wanted, __ATOMIC_ACQUIRE) > s->mapsize)
		if (lmdb_grow(s) != 0)
			break;
}

static size_t
lmdb_used_bytes(store *s)
{
	MDB_envinfo info;
	MDB_stat ms;

	if (mdb_env_info(s->env, &info) != 0 || mdb_env_stat(s->env, &ms) != 0)
		return 0;
	return (info.me_last_pgno + 1) * (size_t)ms.ms_psize;
}

static int
lmdb_grow(store *s)
{
	size_t want = s->mapsize * 2;
	int rc;

	pthread_rwlock_wrlock(&s->maplock);
	rc = mdb_env_set_mapsize(s->env, want);
	if (rc == 0)
		s->mapsize = want;
	pthread_rwlock_unlock(&s->maplock);
	if (rc == 0)
		log_info("store map grown to %zu MiB", want >> 20);
	else
		log_err("cannot grow store map to %zu MiB: %s", want >> 20,
		    mdb_strerror(rc));
	return rc;
}

static bool
lmdb_disk_full(store *s, int rc)
{
	char path[4096];
	struct statvfs vfs;
	struct rlimit rl;
	struct stat st;

	if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG)
		return true;
	if (rc != EIO)
		return false;
	if (statvfs(s->dir, &vfs) == 0 &&
	    (uint64_t)vfs.f_bavail * vfs.f_frsize < STORE_MIN_MAPSIZE)
		return true;
	snprintf(path, sizeof(path), "%s/data.mdb", s->dir);
	return getrlimit(RLIMIT_FSIZE, &rl) == 0 &&
	       rl.rlim_cur != RLIM_INFINITY && stat(path, &st) == 0 &&
	       (uint64_t)st.st_size + STORE_MIN_MAPSIZE > rl.rlim_cur;
}

/*
 * store_kv.h over LMDB. The contract's numbers are LMDB's: check them
 * here, so that a value crosses the interface by a cast.
 */
static_assert(STORE_KEYEXIST == MDB_KEYEXIST, "codes");
static_assert(STORE_NOTFOUND == MDB_NOTFOUND, "codes");
static_assert(STORE_CORRUPTED == MDB_CORRUPTED, "codes");
static_assert(STORE_MAP_FULL == MDB_MAP_FULL, "codes");
static_assert(STORE_INCOMPATIBLE == MDB_INCOMPATIBLE, "codes");
static_assert(STORE_MAP_RESIZED == MDB_MAP_RESIZED, "codes");
static_assert(
    STORE_UNAVAILABLE < MDB_KEYEXIST || STORE_UNAVAILABLE > MDB_LAST_ERRCODE,
    "codes");
static_assert(
    STORE_CONFLICT < MDB_KEYEXIST || STORE_CONFLICT > MDB_LAST_ERRCODE,
    "codes");
static_assert(STORE_RDONLY == MDB_RDONLY, "flags");
static_assert(STORE_NOOVERWRITE == MDB_NOOVERWRITE, "flags");
static_assert(STORE_RESERVE == MDB_RESERVE, "flags");
static_assert(STORE_APPEND == MDB_APPEND, "flags");
static_assert((int)STORE_FIRST == (int)MDB_FIRST, "ops");
static_assert((int)STORE_GET_CURRENT == (int)MDB_GET_CURRENT, "ops");
static_assert((int)STORE_LAST == (int)MDB_LAST, "ops");
static_assert((int)STORE_NEXT == (int)MDB_NEXT, "ops");
static_assert((int)STORE_PREV == (int)MDB_PREV, "ops");
static_assert((int)STORE_SET_KEY == (int)MDB_SET_KEY, "ops");
static_assert((int)STORE_SET_RANGE == (int)MDB_SET_RANGE, "ops");
static_assert(sizeof(store_val) == sizeof(MDB_val), "store_val");
static_assert(
    offsetof(store_val, size) == offsetof(MDB_val, mv_size), "store_val");
static_assert(
    offsetof(store_val, data) == offsetof(MDB_val, mv_data), "store_val");

#define MV(v)  ((MDB_val *)(v))
#define CMV(v) ((MDB_val *)(uintptr_t)(v))

typedef struct lmdb_cur {
	struct store_cur base;
	MDB_cursor *mc;
	struct lmdb_cur *next; /* on the transaction's spare list */
} lmdb_cur;

typedef struct lmdb_txn {
	struct store_txn base;
	MDB_txn *mt;
	lmdb_cur *spare; /* closed cursors' wrappers, for reuse */
} lmdb_txn;

#define LT(t) ((lmdb_txn *)(t))
#define LC(c) ((lmdb_cur *)(c))

static void
lmdb_txn_free(lmdb_txn *lt)
{
	lmdb_cur *c;

	while ((c = lt->spare) != NULL) {
		lt->spare = c->next;
		free(c);
	}
	free(lt);
}

/*
 * Take the map size the store's file records: another process (privd
 * server-key next beside a serving privd, or the serving privd beside
 * it) grew the map, and LMDB says MDB_MAP_RESIZED until this process
 * adopts it. Only with no transaction of this process open: maplock
 * exclusive waits for the workers' read handles.
 */
static int
lmdb_map_adopt(store *s)
{
	MDB_envinfo info;
	int rc;

	pthread_rwlock_wrlock(&s->maplock);
	if ((rc = mdb_env_set_mapsize(s->env, 0)) == 0 &&
	    mdb_env_info(s->env, &info) == 0)
		s->mapsize = info.me_mapsize;
	pthread_rwlock_unlock(&s->maplock);
	return rc;
}

/*
 * LMDB 0.9.24 (and every 0.9 release since, up to 0.9.31) starts a read
 * transaction by publishing the last committed txnid N in its reader slot
 * and only then copying the meta page N & 1 (mdb_txn_renew0). A reader
 * delayed between the two can copy that page after the writer has
 * rewritten it for N + 2, a commit whose meta page was written but whose
 * commit has not returned yet (its meta page's O_DSYNC write may still be
 * under way, or fail). Such a read sees a commit newer than it
 * registered, not yet acknowledged, and the next read, registering N + 1,
 * goes back in time. Its pages are safe (the slot's N keeps them).
 *
 * The copy is made before this check, and meta pages only move forward:
 * if neither meta page holds a txnid past N + 1 now, page N & 1 still held
 * N when it was copied. Otherwise take a new snapshot. Each retry needs a
 * whole commit and the next one's meta write to pass in a few hundred
 * nanoseconds, so a bound only guards against a livelock; past it the
 * snapshot is still consistent, just possibly newer than acknowledged.
 * A meta page copied while the writer's pwrite() is mid-copy is not
 * caught; that window is the kernel's copy of ~100 bytes.
 */
#define SETTLE_TRIES 100

static int
read_settle(store *s, MDB_txn *mt)
{
	MDB_envinfo info;
	int rc, i;

	for (i = 0; i < SETTLE_TRIES; i++) {
		/* the meta pages are read after the snapshot's copy */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (mdb_env_info(s->env, &info) != 0 ||
		    info.me_last_txnid <= mdb_txn_id(mt) + 1)
			return 0;
		mdb_txn_reset(mt);
		if ((rc = mdb_txn_renew(mt)) != 0)
			return rc;
	}
	return 0;
}

static int
txn_begin(store *s, unsigned flags, store_txn **t, bool adopt)
{
	lmdb_txn *lt;
	int rc;

	*t = NULL;
	if ((lt = malloc(sizeof(*lt))) == NULL)
		return ENOMEM;
	lt->base.ops = &lmdb_ops;
	lt->base.s = s;
	lt->spare = NULL;
	rc = mdb_txn_begin(s->env, NULL, flags, &lt->mt);
	if (rc == MDB_MAP_RESIZED && adopt && (rc = lmdb_map_adopt(s)) == 0)
		rc = mdb_txn_begin(s->env, NULL, flags, &lt->mt);
	if (rc == 0 && (flags & MDB_RDONLY) &&
	    (rc = read_settle(s, lt->mt)) != 0)
		mdb_txn_abort(lt->mt);
	if (rc != 0) {
		free(lt);
		return rc;
	}
	*t = &lt->base;
	return 0;
}

static int
lmdb_txn_begin(store *s, unsigned flags, store_txn **t)
{
	/* a write transaction only: its thread (the writer, or a command's
	 * only thread) holds no read transaction that adopting would wait
	 * for; a read transaction reports the growth (store_map_adopt) */
	return txn_begin(s, flags, t, !(flags & MDB_RDONLY));
}

static int
lmdb_txn_commit(store_txn *t)
{
	int rc = mdb_txn_commit(LT(t)->mt);

	lmdb_txn_free(LT(t));
	return rc;
}

static void
lmdb_txn_abort(store_txn *t)
{
	mdb_txn_abort(LT(t)->mt);
	lmdb_txn_free(LT(t));
}

static void
lmdb_txn_reset(store_txn *t)
{
	mdb_txn_reset(LT(t)->mt);
}

static int
lmdb_txn_renew(store_txn *t)
{
	int rc;

	if ((rc = mdb_txn_renew(LT(t)->mt)) != 0)
		return rc;
	return read_settle(t->s, LT(t)->mt);
}

static int
lmdb_get(store_txn *t, store_tbl tb, const store_val *k, store_val *v)
{
	return mdb_get(LT(t)->mt, t->s->dbi[tb], CMV(k), MV(v));
}

static int
lmdb_put(store_txn *t, store_tbl tb, const store_val *k, store_val *v,
    unsigned flags)
{
	return mdb_put(LT(t)->mt, t->s->dbi[tb], CMV(k), MV(v), flags);
}

static int
lmdb_del(store_txn *t, store_tbl tb, const store_val *k)
{
	return mdb_del(LT(t)->mt, t->s->dbi[tb], CMV(k), NULL);
}

static int
lmdb_drop(store_txn *t, store_tbl tb)
{
	return mdb_drop(LT(t)->mt, t->s->dbi[tb], 0);
}

static int
lmdb_count(store_txn *t, store_tbl tb, uint64_t *n)
{
	MDB_stat ms;
	int rc;

	*n = 0;
	if ((rc = mdb_stat(LT(t)->mt, t->s->dbi[tb], &ms)) == 0)
		*n = ms.ms_entries;
	return rc;
}

static int
lmdb_cur_open(store_txn *t, store_tbl tb, store_cur **c)
{
	lmdb_txn *lt = LT(t);
	lmdb_cur *lc;
	int rc;

	*c = NULL;
	if ((lc = lt->spare) != NULL)
		lt->spare = lc->next;
	else if ((lc = malloc(sizeof(*lc))) == NULL)
		return ENOMEM;
	if ((rc = mdb_cursor_open(lt->mt, t->s->dbi[tb], &lc->mc)) != 0) {
		lc->next = lt->spare;
		lt->spare = lc;
		return rc;
	}
	lc->base.ops = &lmdb_ops;
	lc->base.t = t;
	*c = &lc->base;
	return 0;
}

/* A cursor is closed before its transaction ends (LMDB's rule for write
 * transactions; privd keeps it for read ones too), so its wrapper can go
 * back to the transaction. */
static void
lmdb_cur_close(store_cur *c)
{
	lmdb_txn *lt = LT(c->t);

	mdb_cursor_close(LC(c)->mc);
	LC(c)->next = lt->spare;
	lt->spare = LC(c);
}

static int
lmdb_cur_get(store_cur *c, store_val *k, store_val *v, store_op op)
{
	return mdb_cursor_get(LC(c)->mc, MV(k), MV(v), (MDB_cursor_op)op);
}

static int
lmdb_cur_put_current(store_cur *c, const store_val *k, store_val *v)
{
	return mdb_cursor_put(LC(c)->mc, CMV(k), MV(v), MDB_CURRENT);
}

static int
lmdb_cur_del(store_cur *c)
{
	return mdb_cursor_del(LC(c)->mc, 0);
}

/* A worker's read handle: under maplock shared, so that the map does not
 * grow under its snapshot (store.h). */
static int
lmdb_read_begin(store *s, store_txn **t)
{
	int rc;

	pthread_rwlock_rdlock(&s->maplock);
	/* holding maplock: a resized map is reported, not adopted */
	if (*t == NULL)
		rc = txn_begin(s, MDB_RDONLY, t, false);
	else
		rc = lmdb_txn_renew(*t);
	if (rc != 0)
		pthread_rwlock_unlock(&s->maplock);
	return rc;
}

static void
lmdb_read_end(store *s, store_txn *t)
{
	mdb_txn_reset(LT(t)->mt);
	pthread_rwlock_unlock(&s->maplock);
}

static int
lmdb_meta_sync(store *s, bool on)
{
	return mdb_env_set_flags(s->env, MDB_NOMETASYNC, on ? 0 : 1);
}

static int
lmdb_sync(store *s)
{
	return mdb_env_sync(s->env, 1);
}

/* A compact copy of the environment, as of one read transaction, under
 * maplock shared (LMDB's copy holds a read transaction of its own). */
static int
lmdb_copy(store *s, int fd)
{
	int rc;

	pthread_rwlock_rdlock(&s->maplock);
	rc = mdb_env_copyfd2(s->env, fd, MDB_CP_COMPACT);
	pthread_rwlock_unlock(&s->maplock);
	return rc;
}

/*
 * What the compacted copy will hold: the pages of every database (free
 * pages are left out), the two meta pages. An estimate for a backup's
 * progress only: the store changes while it is copied.
 */
static uint64_t
lmdb_copy_size(store *s)
{
	MDB_txn *txn;
	MDB_stat ms;
	uint64_t pages = 2, psize = 4096;
	size_t i;

	pthread_rwlock_rdlock(&s->maplock);
	if (mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn) != 0) {
		pthread_rwlock_unlock(&s->maplock);
		return 0;
	}
	/* the main database (1), which names the others, then each */
	for (i = 0; i <= STORE_NTABLES; i++) {
		if (mdb_stat(txn, i == 0 ? 1 : s->dbi[i - 1], &ms) != 0)
			continue;
		pages += ms.ms_branch_pages + ms.ms_leaf_pages +
		         ms.ms_overflow_pages;
		psize = ms.ms_psize;
	}
	mdb_txn_abort(txn);
	pthread_rwlock_unlock(&s->maplock);
	return pages * psize;
}

int
store_open_image(const char *path, bool image, store **out)
{
	static const store_tbl need[] = {
	    STORE_META, STORE_AUDIT, STORE_AUDIT_CKPT, STORE_ERASURES};
	unsigned flags =
	    image ? MDB_NOSUBDIR | MDB_RDONLY | MDB_NOLOCK : MDB_RDONLY;
	MDB_txn *txn = NULL;
	store *s;
	size_t i;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return ENOMEM;
	s->ops = &lmdb_ops;
	pthread_rwlock_init(&s->maplock, NULL);
	/* absent tables: a handle LMDB refuses (EINVAL) */
	for (i = 0; i < STORE_NTABLES; i++)
		s->dbi[i] = (MDB_dbi)-1;
	if ((rc = mdb_env_create(&s->env)) != 0 ||
	    (rc = mdb_env_set_maxdbs(s->env, STORE_MAXDBS)) != 0 ||
	    (rc = mdb_env_open(s->env, path, flags, 0600)) != 0 ||
	    (rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)) != 0)
		goto fail;
	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if ((rc = mdb_dbi_open(txn, store_tbl_name(need[i]), 0,
		         &s->dbi[need[i]])) != 0)
			goto fail;
	/* committed, the handles stay open for the environment's life */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc != 0)
		goto fail;
	*out = s;
	return 0;
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	if (s->env != NULL)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->maplock);
	free(s);
	return rc;
}

const char *
store_lmdb_strerror(int rc)
{
	return mdb_strerror(rc);
}

static const struct store_ops lmdb_ops = {
    .name = "lmdb",
    .close = lmdb_close,
    .txn_begin = lmdb_txn_begin,
    .txn_commit = lmdb_txn_commit,
    .txn_abort = lmdb_txn_abort,
    .txn_reset = lmdb_txn_reset,
    .txn_renew = lmdb_txn_renew,
    .get = lmdb_get,
    .put = lmdb_put,
    .del = lmdb_del,
    .drop = lmdb_drop,
    .count = lmdb_count,
    .cur_open = lmdb_cur_open,
    .cur_close = lmdb_cur_close,
    .cur_get = lmdb_cur_get,
    .cur_put_current = lmdb_cur_put_current,
    .cur_del = lmdb_cur_del,
    .copy = lmdb_copy,
    .copy_size = lmdb_copy_size,
    .map_adopt = lmdb_map_adopt,
    .grow = lmdb_grow,
    .want_map = lmdb_want_map,
    .grow_wanted = lmdb_grow_wanted,
    .used_bytes = lmdb_used_bytes,
    .disk_full = lmdb_disk_full,
    .read_begin = lmdb_read_begin,
    .read_end = lmdb_read_end,
    .meta_sync = lmdb_meta_sync,
    .sync = lmdb_sync,
};
