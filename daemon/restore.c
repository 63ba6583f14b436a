/*
 * restore.c - `privd restore --data-dir DIR --from FILE [--journal FILE]`:
 * put a backup in place of the store of a stopped privd; see restore.h.
 *
 * Nothing in DIR changes until everything that can be checked has been:
 * the backup's trailer and digest, its format, that DIR's master key opens
 * its daemon keys, that the erasure journal reaches back to the backup
 * without a gap. The backup is made into a store in DIR/restore.tmp, the
 * journal's deletions made since the backup are applied to it again (with
 * store_forget, as they were made), its audit log continues the replaced
 * store's if that one continued the backup's, and one audit event records
 * the restore - all in one write transaction. Only then is it swapped in:
 * the replaced data file is linked to data.mdb.replaced-<time> first and
 * the restored one renamed over data.mdb, so DIR never lacks a data.mdb.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "backupfmt.h"
#include "clock.h"
#include "commands.h"
#include "datadir.h"
#include "restore.h"
#include "store_image.h"
#include "substate.h"

#define ST(x)          PRIVD__V1__STATUS__##x
#define TMP_DIR        "restore.tmp"
#define MAX_GROW_TRIES 8
#define COPY_BUF       (1u << 20)

int
rst_refuse(rst *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	return -1;
}

static int
fsync_path(const char *path)
{
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	if (fsync(fd) != 0)
		rc = -1;
	close(fd);
	return rc;
}

/* Remove what an earlier restore left in DIR/restore.tmp (it stopped
 * before its swap). */
void
rst_clean_tmp(const char *tmp)
{
	static const char *const names[] = {"data.mdb", "lock.mdb"};
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (snprintf(path, sizeof(path), "%s/%s", tmp, names[i]) <
		    (int)sizeof(path))
			unlink(path);
	rmdir(tmp);
}

/* The work directories of replaced stores' images (restore_db.c) that a
 * restore stopped during left in DIR: removed, 1 if any was there. */
static int
clean_image_work(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	size_t n;
	DIR *d;
	int found = 0;

	if ((d = opendir(dir)) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (strncmp(de->d_name, "store.replaced-", 15) != 0 || n < 6 ||
		    strcmp(de->d_name + n - 6, ".mdb.d") != 0 ||
		    datadir_path(path, sizeof(path), dir, de->d_name) != 0)
			continue;
		(void)store_image_clean(path);
		found = 1;
	}
	closedir(d);
	return found;
}

int
restore_clean_tmp(const char *dir)
{
	char tmp[PATH_MAX];
	struct stat sb;
	int found = clean_image_work(dir);

	if (datadir_path(tmp, sizeof(tmp), dir, TMP_DIR) != 0)
		return -1;
	if (lstat(tmp, &sb) != 0)
		return found;
	rst_clean_tmp(tmp);
	return 1;
}

/* Copy the backup's image (its first image_bytes bytes) to
 * tmp/data.mdb, and make it durable. */
int
rst_copy_image(rst *r, int in)
{
	char path[PATH_MAX];
	uint64_t left = r->bi.image_bytes;
	uint8_t *buf;
	ssize_t n, w;
	off_t at = 0;
	int out, rc = -1;

	if (datadir_path(path, sizeof(path), r->tmp, "data.mdb") != 0)
		return rst_refuse(r, "path too long");
	if ((buf = malloc(COPY_BUF)) == NULL)
		return rst_refuse(r, "out of memory");
	if ((out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) <
	    0) {
		free(buf);
		return rst_refuse(
		    r, "cannot create %s: %s", path, strerror(errno));
	}
	while (left > 0) {
		n = pread(in, buf, left < COPY_BUF ? left : COPY_BUF, at);
		if (n <= 0) {
			if (n < 0 && errno == EINTR)
				continue;
			rst_refuse(r, "cannot read %s: %s", r->from,
			    n < 0 ? strerror(errno) : "it got shorter");
			goto out;
		}
		for (w = 0; w < n;) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				rst_refuse(r, "cannot write %s: %s", path,
				    strerror(errno));
				goto out;
			}
			w += k;
		}
		at += n;
		left -= (uint64_t)n;
	}
	if (fsync(out) != 0) {
		rst_refuse(r, "cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(out);
	free(buf);
	return rc;
}

/*
 * Open the restored store and check it: its format, its daemon keys under
 * DIR's master key, and that its heads are the ones its trailer names (a
 * file whose digest matches but whose image says otherwise was not made
 * by privd).
 */
int
rst_open_restored(rst *r)
{
	uint8_t *curve;
	audit_state a;
	store_txn *txn;
	uint64_t jh;
	char err[300];
	int rc = -1;

	if (store_open(r->tmp, STORE_DEFAULT_MAPSIZE, false, &r->st, err,
	        sizeof(err)) != 0)
		return rst_refuse(
		    r, "the backup does not open as a store: %s", err);
	if (store_txn_begin(r->st, STORE_RDONLY, &txn) != 0)
		return rst_refuse(r, "the backup does not open as a store");
	if ((curve = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL) {
		rst_refuse(r, "out of secure memory");
		goto out;
	}
	if (store_format_check(r->st, txn, err, sizeof(err)) != 0) {
		rst_refuse(r, "the backup's store: %s", err);
	} else if (datadir_secret(r->st, txn, r->keys, META_CURVE_SECRET, curve,
	               crypto_box_SECRETKEYBYTES) != 0 ||
	           datadir_secret(r->st, txn, r->keys, META_SIGN_SECRET,
	               r->sign_sk, crypto_sign_SECRETKEYBYTES) != 0) {
		rst_refuse(r,
		    "the backup was made under another master key than "
		    "%s's (a backup of another privd), or its keys are "
		    "damaged",
		    r->dir);
	} else if (audit_load(r->st, txn, &a) != 0 ||
	           journal_head(r->st, txn, &jh) != 0 ||
	           a.seq != r->bi.audit_head ||
	           sodium_memcmp(a.hash, r->bi.audit_hash, sizeof(a.hash)) !=
	               0 ||
	           jh != r->bi.journal_head) {
		rst_refuse(r, "the backup's store does not match its trailer "
		              "(audit or erasure journal head): not a backup "
		              "privd made");
	} else {
		rc = 0;
	}
	sodium_free(curve);
out:
	store_txn_abort(txn);
	return rc;
}

/* Open the store in DIR read-only, if there is one: the erasure journal
 * and the audit log that went on after the backup. */
static int
open_old(rst *r)
{
	char path[PATH_MAX];
	struct stat sb;
	int rc;

	if (datadir_path(path, sizeof(path), r->dir, "data.mdb") != 0)
		return -1;
	if (stat(path, &sb) != 0) {
		if (errno != ENOENT)
			return rst_refuse(r, "%s: %s", path, strerror(errno));
		return 0;
	}
	if ((rc = store_open_image(r->dir, false, &r->old)) != 0 ||
	    (rc = store_txn_begin(r->old, STORE_RDONLY, &r->otxn)) != 0) {
		r->otxn = NULL;
		store_close(&r->old);
		return rst_refuse(r,
		    "the store in %s does not open (%s): give the erasure "
		    "journal with --journal, and move its data.mdb away",
		    r->dir, store_strerror(rc));
	}
	r->has_old = true;
	return 0;
}

static void
close_old(rst *r)
{
	if (r->otxn != NULL)
		store_txn_abort(r->otxn);
	r->otxn = NULL;
	store_close(&r->old);
}

/* A data subject's restriction and objections as a journal entry left
 * them (the objections are its fields). */
static int
state_again(rst *r, store_txn *txn, const rst_entry *e)
{
	subj_state ss;
	size_t i;
	int rc;

	memset(&ss, 0, sizeof(ss));
	ss.restricted = e->kind == JOURNAL_RESTRICTED;
	for (i = 0; i < e->nfields && i < POL_MAX_PURPOSES; i++)
		snprintf(ss.objections[ss.nobjections++],
		    sizeof(ss.objections[0]), "%s", e->fields[i]);
	rc = substate_put(r->st, txn, r->keys, e->sid, &ss);
	sodium_memzero(&ss, sizeof(ss));
	return rc;
}

/* Apply the journal again: every deletion, and its record in the
 * restored store's own journal (the same seq: it continues the backup's
 * without a gap). */
static int
reapply(rst *r, store_txn *txn)
{
	const char *names[POL_MAX_FIELDS];
	rst_entry *e;
	size_t i, f;
	int rc;

	memset(r->nkind, 0, sizeof(r->nkind));
	for (i = 0; i < r->j.n; i++) {
		e = &r->j.e[i];
		for (f = 0; f < e->nfields; f++)
			names[f] = e->fields[f];
		if (e->kind == JOURNAL_RESTRICTED || e->kind == JOURNAL_STATE)
			rc = state_again(r, txn, e);
		else
			rc = store_forget(
			    r->st, txn, e->reg, e->sid, names, e->nfields);
		if (rc != 0 ||
		    (rc = journal_append(r->st, txn, e->time_us, e->kind,
		         e->sid, e->reg, names, e->nfields)) != 0)
			return rc;
		if (e->kind > 0 && e->kind < JOURNAL_KINDS)
			r->nkind[e->kind]++;
	}
	return 0;
}

/* Copy the records of dbi `from` (old store) after seq into `to`. */
static int
copy_after(store_txn *otxn, store_tbl from, store_txn *txn, store_tbl to,
    uint64_t seq, uint64_t *n)
{
	store_cur *c;
	store_val k, v;
	uint8_t kb[8];
	int rc;

	*n = 0;
	if ((rc = store_cur_open(otxn, from, &c)) != 0)
		return rc;
	store_be64(kb, seq + 1);
	k.size = sizeof(kb);
	k.data = kb;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if ((rc = store_put(txn, to, &k, &v, STORE_APPEND)) != 0)
			break;
		(*n)++;
	}
	store_cur_close(c);
	return rc == STORE_NOTFOUND ? 0 : rc;
}

/* The replaced store's meta record name, copied as it is (absent: left
 * as the backup has it). */
static int
carry_meta(rst *r, store_txn *txn, const char *name)
{
	store_val k = {strlen(name), (void *)name}, v;
	int rc;

	if ((rc = store_get(r->otxn, STORE_META, &k, &v)) != 0)
		return rc == STORE_NOTFOUND ? 0 : rc;
	return store_put(txn, STORE_META, &k, &v, 0);
}

/*
 * The audit log: if the replaced store's log continued the backup's (its
 * event at the backup's head has the backup's chain hash), its later
 * events and checkpoints are copied, so the log goes on unbroken; else it
 * goes on from the backup's head.
 */
static int
continue_audit(rst *r, store_txn *txn)
{
	uint64_t seq = r->bi.audit_head, nck;
	uint8_t kb[8];
	store_val k = {8, kb}, v;
	int rc;

	r->continues = false;
	r->ncopied = 0;
	if (!r->has_old)
		return 0;
	if (seq == 0) {
		/* the backup holds no event: both chains begin from nothing */
		store_be64(kb, 1);
		if ((rc = store_get(r->otxn, STORE_AUDIT, &k, &v)) != 0)
			return rc == STORE_NOTFOUND ? 0 : rc;
	} else {
		store_be64(kb, seq);
		if ((rc = store_get(r->otxn, STORE_AUDIT, &k, &v)) != 0)
			return rc == STORE_NOTFOUND ? 0 : rc;
		if (v.size < AUDIT_HASHBYTES ||
		    sodium_memcmp(v.data, r->bi.audit_hash, AUDIT_HASHBYTES) !=
		        0)
			return 0;
	}
	if ((rc = copy_after(r->otxn, STORE_AUDIT, txn, STORE_AUDIT, seq,
	         &r->ncopied)) != 0 ||
	    (rc = copy_after(r->otxn, STORE_AUDIT_CKPT, txn, STORE_AUDIT_CKPT,
	         seq, &nck)) != 0)
		return rc;
	/* the log goes on under the key that signs its last events: a
	 * rotation after the backup (privd audit rotate-key) is among them,
	 * so the replaced store's signing key (sealed under the same master
	 * key) replaces the backup's */
	if ((rc = carry_meta(r, txn, META_SIGN_SECRET)) != 0 ||
	    (rc = carry_meta(r, txn, "audit_sign_public")) != 0 ||
	    (rc = datadir_secret(r->st, txn, r->keys, META_SIGN_SECRET,
	         r->sign_sk, crypto_sign_SECRETKEYBYTES)) != 0)
		return rc;
	r->continues = true;
	return 0;
}

/* The restore's own event, and a checkpoint that covers it. */
static int
audit_restore(rst *r, store_txn *txn)
{
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	char name[NAME_MAX + 1], count[48], *fields[2], *copy;
	store_policy sp;
	uint64_t n = r->j.n;
	int rc;

	if ((copy = strdup(r->from)) == NULL)
		return ENOMEM;
	snprintf(name, sizeof(name), "%s", basename(copy));
	free(copy);
	snprintf(count, sizeof(count), "reapplied=%llu", (unsigned long long)n);
	fields[0] = name;
	fields[1] = count;
	ev.principal = "privd";
	ev.op = "restore";
	ev.fields = fields;
	ev.n_fields = 2;
	ev.status = ST(OK);
	if (store_policy_latest(r->st, txn, &sp) == 0)
		ev.policy_version = sp.version;
	if ((rc = audit_load(r->st, txn, &r->head)) != 0 ||
	    (rc = audit_append_event(
	         r->st, txn, &r->head, &ev, clock_wall_us())) != 0)
		return rc;
	return audit_checkpoint(r->st, txn, &r->head, r->sign_sk);
}

/* Everything the restored store gets, in one write transaction, growing
 * the map if it is full (nothing else has the store open). */
int
rst_apply(rst *r)
{
	store_txn *txn;
	int rc, tries;

	for (tries = 0;; tries++) {
		if ((rc = store_txn_begin(r->st, 0, &txn)) != 0)
			return rc;
		if ((rc = reapply(r, txn)) == 0 &&
		    (rc = continue_audit(r, txn)) == 0 &&
		    (rc = audit_restore(r, txn)) == 0)
			rc = store_txn_commit(txn);
		else
			store_txn_abort(txn);
		if (rc == STORE_MAP_FULL && tries < MAX_GROW_TRIES &&
		    store_grow(r->st) == 0)
			continue;
		return rc;
	}
}

/* A UTC time, RFC 3339 (compact: for a file name). */
void
rst_utc(uint64_t us, char *out, size_t len, bool compact)
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	gmtime_r(&t, &tm);
	if (compact)
		strftime(out, len, "%Y%m%dT%H%M%SZ", &tm);
	else
		strftime(out, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * Put the restored data file in place. The replaced one is linked to
 * data.mdb.replaced-<time> first, then the restored one renamed over
 * data.mdb: at every moment DIR has a data.mdb, the old or the new. The
 * lock file (its reader table and map size were the replaced file's) is
 * removed, and the directory made durable.
 */
static int
swap_in(rst *r)
{
	char cur[PATH_MAX], neu[PATH_MAX], lock[PATH_MAX], stamp[32];

	if (datadir_path(cur, sizeof(cur), r->dir, "data.mdb") != 0 ||
	    datadir_path(neu, sizeof(neu), r->tmp, "data.mdb") != 0 ||
	    datadir_path(lock, sizeof(lock), r->dir, "lock.mdb") != 0)
		return rst_refuse(r, "path too long");
	r->kept[0] = '\0';
	if (r->has_old) {
		rst_utc(clock_wall_us(), stamp, sizeof(stamp), true);
		if (snprintf(r->kept, sizeof(r->kept), "%s.replaced-%s", cur,
		        stamp) >= (int)sizeof(r->kept))
			return rst_refuse(r, "path too long");
		if (link(cur, r->kept) != 0)
			return rst_refuse(r, "cannot keep %s as %s: %s", cur,
			    r->kept, strerror(errno));
		chmod(r->kept, 0600);
	}
	if (rename(neu, cur) != 0) {
		if (r->kept[0] != '\0')
			unlink(r->kept);
		return rst_refuse(r, "cannot move the restored store to %s: %s",
		    cur, strerror(errno));
	}
	unlink(lock);
	if (fsync_path(r->dir) != 0)
		fprintf(stderr, "privd: warning: cannot fsync %s: %s\n", r->dir,
		    strerror(errno));
	rst_clean_tmp(r->tmp);
	return 0;
}

void
rst_report(const rst *r)
{
	char when[32];

	rst_utc(r->bi.time_us, when, sizeof(when), false);
	if (r->db)
		printf("restored the database store of %s from %s (%llu "
		       "records)\n",
		    r->dir, r->from, (unsigned long long)r->db_rows);
	else
		printf("restored %s from %s\n", r->dir, r->from);
	printf("  backup taken %s: audit head %llu, erasure journal head "
	       "%llu\n",
	    when, (unsigned long long)r->bi.audit_head,
	    (unsigned long long)r->bi.journal_head);
	if (r->j.n == 0)
		printf("  re-applied no erasure journal entry (none after the "
		       "backup)\n");
	else
		printf("  re-applied %zu erasure journal entries (seq "
		       "%llu..%llu) from %s: erase %llu, delete %llu, "
		       "retention %llu\n",
		    r->j.n, (unsigned long long)r->j.e[0].seq,
		    (unsigned long long)r->j.e[r->j.n - 1].seq, r->jsource,
		    (unsigned long long)r->nkind[JOURNAL_ERASE],
		    (unsigned long long)r->nkind[JOURNAL_DELETE],
		    (unsigned long long)r->nkind[JOURNAL_RETENTION]);
	if (r->nkind[JOURNAL_RESTRICTED] + r->nkind[JOURNAL_STATE] > 0)
		printf("  set again %llu restriction and objection states of "
		       "data subjects from the journal\n",
		    (unsigned long long)(r->nkind[JOURNAL_RESTRICTED] +
		                         r->nkind[JOURNAL_STATE]));
	if (r->continues)
		printf("  audit log: continues the replaced store's (its %llu "
		       "events after the backup kept); the restore is event "
		       "%llu\n",
		    (unsigned long long)r->ncopied,
		    (unsigned long long)r->head.seq);
	else
		printf("  audit log: continues from the backup's head (%llu); "
		       "events the replaced store logged after it are not in "
		       "it; the restore is event %llu\n",
		    (unsigned long long)r->bi.audit_head,
		    (unsigned long long)r->head.seq);
	if (r->kept[0] != '\0')
		printf("  the replaced store is kept as %s: it holds personal "
		       "data (sealed under the master key); remove it once the "
		       "restored store is checked\n",
		    r->kept);
	/* what the journal does not carry, said where the operator looks */
	printf("  not restored: what was written after %s other than "
	       "deletions, restrictions and objections - values and "
	       "rectifications, legal holds, relationship and contract "
	       "ends, policy versions; set the legal holds again (privctl "
	       "audit query --since %s --op hold_set --op hold_lift lists "
	       "them)\n",
	    when, when);
}

static int
parse_args(rst *r, int argc, char **argv)
{
	int i;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			r->dir = argv[++i];
		else if (strcmp(argv[i], "--from") == 0 && i + 1 < argc)
			r->from = argv[++i];
		else if (strcmp(argv[i], "--journal") == 0 && i + 1 < argc)
			r->jpath = argv[++i];
		else
			return -1;
	}
	return r->dir == NULL || r->from == NULL ? -1 : 0;
}

int
rst_check_backup(rst *r, int fd)
{
	char path[PATH_MAX], err[200];

	if (backup_check_fd(fd, &r->bi, err, sizeof(err)) != 0)
		return rst_refuse(r, "%s: %s", r->from, err);
	if (r->bi.store_format != STORE_FORMAT)
		return rst_refuse(r,
		    "%s holds a store in format %u; this privd reads format %u",
		    r->from, (unsigned)r->bi.store_format,
		    (unsigned)STORE_FORMAT);
	if (datadir_path(path, sizeof(path), r->dir, "master.key") != 0)
		return rst_refuse(r, "path too long");
	if (crypto_keys_load(path, &r->keys, err, sizeof(err)) != 0)
		return rst_refuse(r, "%s", err);
	if ((r->sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return rst_refuse(r, "out of secure memory");
	if (datadir_path(r->tmp, sizeof(r->tmp), r->dir, TMP_DIR) != 0)
		return rst_refuse(r, "path too long");
	rst_clean_tmp(r->tmp);
	if (mkdir(r->tmp, 0700) != 0)
		return rst_refuse(
		    r, "cannot create %s: %s", r->tmp, strerror(errno));
	return 0;
}

/* Everything up to the swap; -1 with r->why if refused. */
static int
prepare(rst *r, int fd)
{
	int rc;

	if (rst_check_backup(r, fd) != 0 || rst_copy_image(r, fd) != 0 ||
	    rst_open_restored(r) != 0 || open_old(r) != 0 ||
	    rst_load_journal(r) != 0)
		return -1;
	if ((rc = rst_apply(r)) != 0)
		return rst_refuse(r, "cannot write the restored store: %s",
		    store_strerror(rc));
	return 0;
}

/* Is the LMDB store spec names the one in dir (whose data.mdb the
 * restore swaps)? An LMDB store elsewhere (init --store lmdb:DIR2) is
 * not restored in place: it is refused rather than left as it was. */
static bool
lmdb_in_dir(const char *dir, const char *spec)
{
	char a[PATH_MAX], b[PATH_MAX];
	const char *sdir = strncmp(spec, "lmdb:", 5) == 0 ? spec + 5 : spec;

	if (realpath(dir, a) == NULL || realpath(sdir, b) == NULL)
		return strcmp(dir, sdir) == 0;
	return strcmp(a, b) == 0;
}

int
cmd_restore(int argc, char **argv)
{
	char spec[DATADIR_MAX_SPEC];
	rst r;
	int lockfd, fd = -1, ret = 1;

	memset(&r, 0, sizeof(r));
	if (parse_args(&r, argc, argv) != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((lockfd = datadir_lock_for(
	         r.dir, "stop it before a restore; nothing was changed")) < 0)
		return 1;
	clock_init();
	if ((fd = open(r.from, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr,
		    "privd: cannot open %s: %s; nothing was "
		    "changed\n",
		    r.from, strerror(errno));
		goto out;
	}
	/* --store, DIR/store, or LMDB in DIR (datadir.h) */
	if (datadir_store_spec(r.dir, spec, sizeof(spec)) != 0)
		goto out;
	if (datadir_spec_is_pg(spec)) {
		r.db = true;
		ret = rst_into_db(&r, fd, spec) == 0 ? 0 : 1;
		sodium_memzero(spec, sizeof(spec));
		if (ret != 0)
			fprintf(stderr, "privd: restore refused: %s\n", r.why);
		else
			rst_report(&r);
		goto out;
	}
	if (!lmdb_in_dir(r.dir, spec)) {
		fprintf(stderr,
		    "privd: restore refused: the store of %s is LMDB in "
		    "another directory (%s names it); a restore replaces "
		    "%s/data.mdb: give --store lmdb:%s, or restore with the "
		    "store's directory as --data-dir (with master.key in it); "
		    "nothing was changed\n",
		    r.dir, DATADIR_STORE_FILE, r.dir, r.dir);
		goto out;
	}
	sodium_memzero(spec, sizeof(spec));
	if (prepare(&r, fd) != 0) {
		fprintf(stderr,
		    "privd: restore refused: %s; nothing in %s was "
		    "changed\n",
		    r.why, r.dir);
		close_old(&r);
		store_close(&r.st);
		if (r.tmp[0] != '\0')
			rst_clean_tmp(r.tmp);
		goto out;
	}
	close_old(&r);
	store_close(&r.st);
	if (swap_in(&r) != 0) {
		fprintf(stderr,
		    "privd: restore failed: %s; %s still holds the "
		    "store it held\n",
		    r.why, r.dir);
		rst_clean_tmp(r.tmp);
		goto out;
	}
	rst_report(&r);
	ret = 0;
out:
	rst_journal_free(&r.j);
	if (r.sign_sk != NULL)
		sodium_free(r.sign_sk);
	crypto_keys_free(&r.keys);
	if (fd >= 0)
		close(fd);
	close(lockfd);
	return ret;
}
