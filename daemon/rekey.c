/*
 * rekey.c - `privd rekey` (rekey.h), which replaces the master key of a
 * stopped privd. (`privd audit rotate-key` is audit_key_cmd.c.)
 *
 * What a rekey changes and keeps, and why: the DESIGN note in crypto.c.
 * In one write transaction it moves every wrapped data key to the new
 * outer layer, opens and seals again everything sealed under the secret
 * key (the daemon's CURVE and signing keys, the sweeper's subject ids,
 * holds, subject states, anonymous records), stores the keyring under the
 * new key, and records one audit event (principal privd, op rekey) under
 * a checkpoint.
 *
 * The order makes every interruption recoverable by running it again:
 *   1. write master.key.new (fsync, and the directory);
 *   2. commit the transaction: from here the store opens only under the
 *      new key;
 *   3. link master.key to master.key.old-<time of the rekey> (kept until
 *      the operator removes it), rename master.key.new over master.key,
 *      fsync the directory.
 * A run that finds master.key.new looks at which key opens the store:
 * master.key (stopped before 2: the new file was never used, it is
 * removed and the rekey starts over), master.key.new (stopped in 3: it
 * finishes 3 and stops), or neither (a key file was changed since: it
 * refuses, saying what to put back). privd serve refuses a store whose
 * keys do not open under master.key, saying to run the rekey again.
 *
 * On PostgreSQL step 2 is the database's commit (synchronous_commit on:
 * durable, on the synchronous standby too, before it returns), so the
 * order holds as on LMDB. One case is PostgreSQL's own: a connection lost
 * during the commit leaves its outcome unknown (STORE_UNAVAILABLE); the
 * run stops with master.key.new in place and the next one finds out, as
 * above. The data directory's lock says only that this node is stopped:
 * every other node of the store must be stopped too (privd.8), and is
 * refused when started again with the old master.key.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "commands.h"
#include "datadir.h"
#include "rekey.h"
#include "retstore.h"
#include "substate.h"

#define MAX_GROW_TRIES 8
#define KEY_FILE       "master.key"
#define NEW_FILE       "master.key.new"
#define OLD_PREFIX     "master.key.old-"
#define META_REKEY_US  "rekey_time_us" /* names the old key's file */
#define ANON_HDR       (1 + 8)         /* retstore.c's anonymous records */
#define ST(x)          PRIVD__V1__STATUS__##x
/* Tests only: stop (exit 3) after a step, as a crash there would. */
#define TEST_STOP_ENV "PRIVD_TEST_REKEY_STOP"

/* ---- privd rekey ------------------------------------------------------- */

typedef struct rekey {
	const char *dir;
	char keyfile[PATH_MAX], newfile[PATH_MAX], oldfile[PATH_MAX];
	store *st;
	crypto_keys *old, *new;
	uint8_t *sign_sk;
	uint64_t when_us;
	/* what the transaction did */
	uint64_t subjects, records, damaged;
} rekey;

/* Tests: stop here as a crash would, if PRIVD_TEST_REKEY_STOP says so. */
static void
test_stop(const char *step)
{
	const char *s = getenv(TEST_STOP_ENV);

	if (s != NULL && strcmp(s, step) == 0) {
		fprintf(stderr, "privd: %s=%s: stopping here (tests only)\n",
		    TEST_STOP_ENV, step);
		_exit(3);
	}
}

static int
sync_dir(const char *dir)
{
	int fd, rc;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Does key set k (loaded from a key file) open the store? Its keyring if
 * there is one, and the daemon's CURVE secret. k is adopted into the
 * keyring on success.
 */
static bool
opens(store *st, crypto_keys *k)
{
	uint8_t *curve;
	store_txn *txn;
	bool ok = false;

	if (k == NULL || store_txn_begin(st, STORE_RDONLY, &txn) != 0)
		return false;
	if ((curve = sodium_malloc(crypto_box_SECRETKEYBYTES)) != NULL) {
		ok = datadir_keyring(st, txn, k) == 0 &&
		     datadir_secret(st, txn, k, META_CURVE_SECRET, curve,
		         crypto_box_SECRETKEYBYTES) == 0;
		sodium_free(curve);
	}
	store_txn_abort(txn);
	return ok;
}

/* Load a key file quietly (a candidate): NULL if it does not load. */
static crypto_keys *
load_quiet(const char *path)
{
	crypto_keys *k = NULL;
	char err[PATH_MAX + 160];

	return crypto_keys_load(path, &k, err, sizeof(err)) == 0 ? k : NULL;
}

/* Re-seal one daemon secret of len bytes from the old keys to the new. */
static int
reseal_secret(rekey *r, store_txn *txn, const char *name, size_t len)
{
	uint8_t *plain, *sealed;
	int rc = ENOMEM;

	plain = sodium_malloc(len);
	sealed = malloc(len + CRYPTO_SEAL_OVERHEAD);
	if (plain == NULL || sealed == NULL)
		goto out;
	if (datadir_secret(r->st, txn, r->old, name, plain, len) != 0) {
		rc = STORE_CORRUPTED;
		goto out;
	}
	crypto_secret_seal(r->new, name, plain, len, sealed);
	rc = store_meta_put(
	    r->st, txn, name, sealed, len + CRYPTO_SEAL_OVERHEAD);
out:
	if (plain != NULL)
		sodium_free(plain);
	free(sealed);
	return rc;
}

/* Every wrapped data key onto the new outer layer (crypto.c), in place. */
static int
relayer_subjects(rekey *r, store_txn *txn)
{
	uint8_t rec[STORE_SUBJECT_RECBYTES];
	store_cur *c;
	store_val k, v, nv = {sizeof(rec), rec};
	int rc;

	if ((rc = store_cur_open(txn, STORE_SUBJECTS, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size != CRYPTO_SUBJECT_IDBYTES ||
		    v.size != STORE_SUBJECT_RECBYTES) {
			r->damaged++; /* opens under no key: left as it is */
			continue;
		}
		memcpy(rec, v.data, sizeof(rec));
		crypto_key_relayer(r->old, r->new, k.data, rec,
		    STORE_SUBJECT_HDRBYTES, rec + STORE_SUBJECT_HDRBYTES);
		if ((rc = store_cur_put_current(c, &k, &nv)) != 0)
			break;
		r->subjects++;
	}
	store_cur_close(c);
	sodium_memzero(rec, sizeof(rec));
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* A register's name at the start of a retention key: reglen(1) register. */
static int
key_reg(const store_val *k, char reg[CRYPTO_MAX_NAME + 1], size_t *used)
{
	const uint8_t *p = k->data;

	if (k->size < 1 || p[0] == 0 || p[0] > CRYPTO_MAX_NAME ||
	    k->size < 1u + p[0])
		return -1;
	memcpy(reg, p + 1, p[0]);
	reg[p[0]] = '\0';
	*used = 1u + p[0];
	return 0;
}

/* The sweeper's sealed subject ids (retstore.h: ret_sub). */
static int
reseal_ret_sub(rekey *r, store_txn *txn)
{
	char reg[CRYPTO_MAX_NAME + 1];
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	store_cur *c;
	store_val k, v;
	ret_sub rs;
	size_t used;
	int rc;

	if ((rc = store_cur_open(txn, STORE_RET_SUB, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (key_reg(&k, reg, &used) != 0 ||
		    k.size != used + CRYPTO_SUBJECT_IDBYTES) {
			r->damaged++;
			continue;
		}
		memcpy(sid, (uint8_t *)k.data + used, sizeof(sid));
		rc = ret_sub_get(r->st, txn, r->old, reg, sid, &rs);
		if (rc == STORE_CORRUPTED) {
			r->damaged++;
			continue;
		}
		if (rc != 0 ||
		    (rc = ret_sub_put(r->st, txn, r->new, reg, sid, &rs)) != 0)
			break;
		r->records++;
	}
	store_cur_close(c);
	sodium_memzero(&rs, sizeof(rs));
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* Legal holds (their reasons and subject ids are sealed). */
static int
reseal_holds(rekey *r, store_txn *txn)
{
	store_cur *c;
	store_val k, v;
	ret_hold h;
	int rc;

	if ((rc = store_cur_open(txn, STORE_HOLDS, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (ret_hold_decode(r->old, &k, &v, &h) != 0) {
			r->damaged++;
			continue;
		}
		if ((rc = ret_hold_put(r->st, txn, r->new, &h)) != 0)
			break;
		r->records++;
	}
	store_cur_close(c);
	sodium_memzero(&h, sizeof(h));
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* Anonymous records: opened with the old register key, sealed with the
 * new one into the same place (same size, same header and id). */
static int
reseal_anon(rekey *r, store_txn *txn)
{
	char reg[CRYPTO_MAX_NAME + 1];
	uint8_t *plain, *rec = NULL;
	store_cur *c;
	store_val k, v, nv;
	uint64_t month;
	size_t len, used;
	int rc;

	if ((rc = store_cur_open(txn, STORE_ANON, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (key_reg(&k, reg, &used) != 0 ||
		    ret_anon_open(r->old, &k, &v, &plain, &len, &month) != 0) {
			r->damaged++;
			continue;
		}
		if ((rec = malloc(v.size)) == NULL) {
			free(plain);
			rc = ENOMEM;
			break;
		}
		memcpy(rec, v.data, ANON_HDR);
		crypto_anon_seal(r->new, reg, (uint8_t *)k.data + used,
		    k.size - used, rec, ANON_HDR, plain, len, rec + ANON_HDR);
		free(plain);
		nv.size = v.size;
		nv.data = rec;
		rc = store_cur_put_current(c, &k, &nv);
		free(rec);
		if (rc != 0)
			break;
		r->records++;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* Data subjects' restrictions and objections (substate.h). */
static int
reseal_states(rekey *r, store_txn *txn)
{
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	store_cur *c;
	store_val k, v;
	subj_state ss;
	int rc;

	if ((rc = store_cur_open(txn, STORE_SUBJ_STATE, &c)) != 0)
		return rc;
	for (rc = store_cur_get(c, &k, &v, STORE_FIRST); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (k.size != sizeof(sid)) {
			r->damaged++;
			continue;
		}
		memcpy(sid, k.data, sizeof(sid));
		rc = substate_get(r->st, txn, r->old, sid, &ss);
		if (rc == STORE_CORRUPTED) {
			r->damaged++;
			continue;
		}
		if (rc != 0 ||
		    (rc = substate_put(r->st, txn, r->new, sid, &ss)) != 0)
			break;
		r->records++;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* The rekey's audit event, and a checkpoint over it (the signing key does
 * not change). */
static int
audit_rekey(rekey *r, store_txn *txn)
{
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	char subjects[48], records[48], *fields[2] = {subjects, records};
	store_policy sp;
	audit_state a;
	int rc;

	snprintf(subjects, sizeof(subjects), "subjects=%llu",
	    (unsigned long long)r->subjects);
	snprintf(records, sizeof(records), "records=%llu",
	    (unsigned long long)r->records);
	ev.principal = "privd";
	ev.op = "rekey";
	ev.fields = fields;
	ev.n_fields = 2;
	ev.status = ST(OK);
	if (store_policy_latest(r->st, txn, &sp) == 0)
		ev.policy_version = sp.version;
	if ((rc = audit_load(r->st, txn, &a)) != 0 ||
	    (rc = audit_append_event(r->st, txn, &a, &ev, r->when_us)) != 0)
		return rc;
	return audit_checkpoint(r->st, txn, &a, r->sign_sk);
}

/* Everything under the new key, in one write transaction. */
static int
rekey_txn(rekey *r, store_txn *txn)
{
	uint8_t ring[CRYPTO_KEYRING_BYTES];
	int rc;

	r->subjects = r->records = r->damaged = 0;
	if (datadir_secret(r->st, txn, r->old, META_SIGN_SECRET, r->sign_sk,
	        crypto_sign_SECRETKEYBYTES) != 0)
		return STORE_CORRUPTED;
	crypto_keyring_seal(r->new, ring);
	if ((rc = reseal_secret(
	         r, txn, META_CURVE_SECRET, crypto_box_SECRETKEYBYTES)) != 0 ||
	    (rc = reseal_secret(
	         r, txn, META_SIGN_SECRET, crypto_sign_SECRETKEYBYTES)) != 0 ||
	    (rc = relayer_subjects(r, txn)) != 0 ||
	    (rc = reseal_ret_sub(r, txn)) != 0 ||
	    (rc = reseal_holds(r, txn)) != 0 ||
	    (rc = reseal_anon(r, txn)) != 0 ||
	    (rc = reseal_states(r, txn)) != 0 ||
	    (rc = store_meta_put(
	         r->st, txn, META_KEYRING, ring, sizeof(ring))) != 0 ||
	    (rc = store_meta_put_u64(r->st, txn, META_REKEY_US, r->when_us)) !=
	        0)
		return rc;
	return audit_rekey(r, txn);
}

static int
rekey_commit(rekey *r)
{
	store_txn *txn;
	int rc, tries;

	for (tries = 0;; tries++) {
		if ((rc = store_txn_begin(r->st, 0, &txn)) != 0)
			return rc;
		if ((rc = rekey_txn(r, txn)) == 0)
			rc = store_txn_commit(txn);
		else
			store_txn_abort(txn);
		if (rc == STORE_MAP_FULL && tries < MAX_GROW_TRIES &&
		    store_grow(r->st) == 0)
			continue;
		return rc;
	}
}

/* The name of the old key's file, from the time of the rekey the store
 * records (so that a second run that finishes names it the same). */
static int
old_name(rekey *r)
{
	store_txn *txn;
	uint64_t us = 0;
	char stamp[32];
	struct tm tm;
	time_t t;
	int rc;

	if ((rc = store_txn_begin(r->st, STORE_RDONLY, &txn)) != 0)
		return -1;
	rc = store_meta_get_u64(r->st, txn, META_REKEY_US, 0, &us);
	store_txn_abort(txn);
	if (rc != 0 || us == 0)
		return -1;
	t = (time_t)(us / 1000000);
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
	/* to the microsecond: two rekeys never name their old keys alike */
	rc = snprintf(r->oldfile, sizeof(r->oldfile), "%s/%s%s.%06uZ", r->dir,
	    OLD_PREFIX, stamp, (unsigned)(us % 1000000));
	return rc < 0 || (size_t)rc >= sizeof(r->oldfile) ? -1 : 0;
}

/* Are two small files byte for byte the same? */
static bool
same_file(const char *a, const char *b)
{
	char *x, *y;
	size_t xl, yl;
	bool same;

	x = datadir_read_file(a, CRYPTO_KEYBYTES, &xl);
	y = datadir_read_file(b, CRYPTO_KEYBYTES, &yl);
	same = x != NULL && y != NULL && xl == yl && memcmp(x, y, xl) == 0;
	if (x != NULL) {
		sodium_memzero(x, xl);
		free(x);
	}
	if (y != NULL) {
		sodium_memzero(y, yl);
		free(y);
	}
	return same;
}

/* Step 3: keep the old key file, put the new one in its place. */
static int
finish(rekey *r)
{
	if (old_name(r) != 0) {
		fprintf(stderr, "privd: the store does not say when it was "
		                "rekeyed (damaged store)\n");
		return -1;
	}
	if (link(r->keyfile, r->oldfile) != 0 &&
	    !(errno == EEXIST && same_file(r->keyfile, r->oldfile))) {
		fprintf(stderr,
		    "privd: cannot keep the old master key as %s: "
		    "%s\n",
		    r->oldfile, strerror(errno));
		return -1;
	}
	test_stop("linked");
	if (rename(r->newfile, r->keyfile) != 0 || sync_dir(r->dir) != 0) {
		fprintf(stderr, "privd: cannot put %s in place of %s: %s\n",
		    r->newfile, r->keyfile, strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * A master.key.new is there: an earlier run stopped. Returns 1 if the
 * rekey must start afresh (the new file was never used, and is removed), 0
 * if it was finished here, -1 if it cannot go on (said on stderr).
 */
static int
recover(rekey *r)
{
	crypto_keys *cur = load_quiet(r->keyfile),
	            *nxt = load_quiet(r->newfile);
	int rc = -1;

	if (opens(r->st, cur)) {
		if (unlink(r->newfile) != 0 || sync_dir(r->dir) != 0) {
			fprintf(stderr, "privd: cannot remove %s: %s\n",
			    r->newfile, strerror(errno));
		} else {
			fprintf(stderr,
			    "privd: removed %s, left unused by a rekey that "
			    "stopped before its transaction; starting over\n",
			    r->newfile);
			rc = 1;
		}
	} else if (opens(r->st, nxt)) {
		fprintf(stderr,
		    "privd: the store was rekeyed to %s by a run that stopped "
		    "before putting it in place; finishing that\n",
		    r->newfile);
		if (finish(r) == 0) {
			printf("master key replaced; the old one is %s\n",
			    r->oldfile);
			rc = 0;
		}
	} else {
		fprintf(stderr,
		    "privd: neither %s nor %s opens the store in %s: a rekey "
		    "stopped and a key file was changed since. Put the key the "
		    "store is sealed under back: as %s if that was the file "
		    "replaced, else as %s (from a copy, or the newest %s* "
		    "file); then run privd rekey again\n",
		    r->keyfile, r->newfile, r->dir, r->newfile, r->keyfile,
		    OLD_PREFIX);
	}
	crypto_keys_free(&cur);
	crypto_keys_free(&nxt);
	return rc;
}

/* Steps 1 and 2, then 3. */
static int
rekey_run(rekey *r)
{
	char err[PATH_MAX + 160];
	uint8_t *master;
	int rc;

	if ((r->old = load_quiet(r->keyfile)) == NULL ||
	    !opens(r->st, r->old)) {
		crypto_keys_free(&r->old);
		if (crypto_keys_load(r->keyfile, &r->old, err, sizeof(err)) !=
		    0)
			fprintf(stderr, "privd: %s\n", err);
		else
			fprintf(stderr,
			    "privd: %s does not open the store in %s (another "
			    "master key)\n",
			    r->keyfile, r->dir);
		return -1;
	}
	if ((master = sodium_malloc(CRYPTO_KEYBYTES)) == NULL) {
		fprintf(stderr, "privd: out of secure memory\n");
		return -1;
	}
	if (crypto_master_create(r->newfile, master, err, sizeof(err)) != 0 ||
	    sync_dir(r->dir) != 0) {
		sodium_free(master);
		fprintf(stderr, "privd: %s\n", err);
		return -1;
	}
	r->new = crypto_keys_rekeyed(r->old, master);
	sodium_free(master);
	if (r->new == NULL) {
		fprintf(stderr, "privd: out of secure memory\n");
		return -1;
	}
	test_stop("key-written");
	r->when_us = clock_wall_us();
	if ((rc = rekey_commit(r)) == STORE_UNAVAILABLE) {
		/* PostgreSQL: the connection was lost, perhaps on the commit,
		 * whose outcome is then unknown; master.key.new stays, and the
		 * next run finds which key opens the store (recover) */
		fprintf(stderr,
		    "privd: cannot rekey the store: %s; the transaction may "
		    "or may not have been committed: run privd rekey again "
		    "(it finds out which, and finishes or starts over)\n",
		    store_strerror(rc));
		return -1;
	}
	if (rc != 0) {
		fprintf(stderr, "privd: cannot rekey the store: %s%s\n",
		    rc == STORE_CORRUPTED ? "a daemon key does not open"
		                          : store_strerror(rc),
		    "; nothing was changed (run it again)");
		return -1;
	}
	test_stop("committed");
	if (r->damaged > 0)
		fprintf(stderr,
		    "privd: warning: %llu damaged record(s) did not open and "
		    "were left as they were\n",
		    (unsigned long long)r->damaged);
	if (finish(r) != 0)
		return -1;
	fprintf(stderr,
	    "privd: rekeyed %s: %llu data key(s), %llu sealed record(s); "
	    "keep the old key while you keep backups made before now (a "
	    "restore of one needs it), then remove it\n",
	    r->dir, (unsigned long long)r->subjects,
	    (unsigned long long)r->records);
	printf("master key replaced; the old one is %s\n", r->oldfile);
	return 0;
}

/*
 * The data directory's store, LMDB or PostgreSQL (datadir.h), its format
 * checked. Not datadir_open: which key opens it is for rekey_run and
 * recover to find out.
 */
static int
open_store(rekey *r)
{
	char err[PATH_MAX + 160], spec[DATADIR_MAX_SPEC];
	store_txn *txn;
	int rc;

	if (datadir_store_spec(r->dir, spec, sizeof(spec)) != 0)
		return -1;
	/* err never holds spec: store_open_spec's errors do not quote it */
	rc = store_open_spec(
	    spec, STORE_DEFAULT_MAPSIZE, false, &r->st, err, sizeof(err));
	sodium_memzero(spec, sizeof(spec));
	if (rc != 0) {
		fprintf(stderr, "privd: %s\n", err);
		return -1;
	}
	if ((rc = store_txn_begin(r->st, STORE_RDONLY, &txn)) != 0) {
		fprintf(stderr, "privd: %s\n", store_strerror(rc));
		return -1;
	}
	rc = store_format_check(r->st, txn, err, sizeof(err));
	store_txn_abort(txn);
	if (rc != 0) {
		fprintf(stderr, "privd: %s\n", err);
		return -1;
	}
	return 0;
}

int
cmd_rekey(int argc, char **argv)
{
	rekey r;
	struct stat sb;
	int i, lockfd = -1, rc, ret = 1;

	memset(&r, 0, sizeof(r));
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			r.dir = argv[++i];
		else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (r.dir == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (datadir_path(r.keyfile, sizeof(r.keyfile), r.dir, KEY_FILE) != 0 ||
	    datadir_path(r.newfile, sizeof(r.newfile), r.dir, NEW_FILE) != 0)
		return 1;
	/* the lock also says that privd is not running */
	if ((lockfd = datadir_lock_for(r.dir, "stop it before rekeying")) < 0)
		return 1;
	if (open_store(&r) != 0)
		goto out;
	if ((r.sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		fprintf(stderr, "privd: out of secure memory\n");
		goto out;
	}
	if (clock_init())
		fprintf(
		    stderr, "privd: the test clock is in use (tests only)\n");
	if (getenv(TEST_STOP_ENV) != NULL && *getenv(TEST_STOP_ENV) != '\0')
		fprintf(stderr, "privd: %s is set: for tests only\n",
		    TEST_STOP_ENV);
	if (lstat(r.newfile, &sb) == 0) {
		if ((rc = recover(&r)) <= 0) {
			ret = rc == 0 ? 0 : 1;
			goto out;
		}
	}
	ret = rekey_run(&r) == 0 ? 0 : 1;
out:
	if (r.sign_sk != NULL)
		sodium_free(r.sign_sk);
	crypto_keys_free(&r.old);
	crypto_keys_free(&r.new);
	store_close(&r.st);
	close(lockfd);
	return ret;
}
