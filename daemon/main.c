/*
 * main.c - the privd program: `privd init` and `privd serve` (the other
 * commands: commands.h, restore.h).
 *
 * init creates a data directory: master key, the store (LMDB in the
 * directory, or PostgreSQL: --store, datadir.h), the server's CURVE key
 * pair and the audit signing key (both sealed under the master key), and
 * the first policy. serve opens it, starts the threads of server.h and runs
 * the frontend until SIGTERM/SIGINT.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "audit_index.h"
#include "audit_retain.h"
#include "backup.h"
#include "clock.h"
#include "commands.h"
#include "config.h"
#include "datadir.h"
#include "log.h"
#include "notify.h"
#include "rekey.h"
#include "restore.h"
#include "server.h"
#include "startwait.h"
#include "substate.h"

#define META_CURVE_PUBLIC "curve_public"
#define META_SIGN_PUBLIC  "audit_sign_public"

void
usage(FILE *f)
{
	fprintf(f,
	    "usage: privd init --data-dir DIR [--store SPEC] --policy FILE "
	    "[--audit-retention-min DURATION]\n"
	    "       privd serve --data-dir DIR [--store SPEC] "
	    "[--listen ENDPOINT]... [--workers N]\n"
	    "                   [--max-request BYTES] [--map-size BYTES] "
	    "[--log-level LEVEL]\n"
	    "                   [--audit-checkpoint-every N] "
	    "[--retention-interval SECONDS]\n"
	    "                   [--clock-behind-ok] [--store-wait SECONDS] "
	    "[--deadline-grace MS]\n"
	    "                   [--config FILE] [--check]\n"
	    "       privd policy set --data-dir DIR [--force] FILE\n"
	    "       privd pubkey --data-dir DIR\n"
	    "       privd restore --data-dir DIR [--store SPEC] --from FILE "
	    "[--journal FILE]\n"
	    "       privd audit rotate-key --data-dir DIR\n"
	    "       privd rekey --data-dir DIR\n"
	    "       privd server-key next|rotate|show --data-dir DIR\n"
	    "       privd --version | --help\n"
	    "\n"
	    "init        create DIR with a new master key, keys and the "
	    "policy as version 1;\n"
	    "            prints the server's public key (Z85). The audit "
	    "log is kept at\n"
	    "            least DURATION (default 1 year) whatever the "
	    "policy says.\n"
	    "            --store SPEC: the store in lmdb:DIR2 or a "
	    "PostgreSQL database\n"
	    "            (postgresql://... or host=...); DIR keeps the "
	    "master key and SPEC\n"
	    "            (DIR/store); any command takes --store SPEC too\n"
	    "serve       serve DIR until SIGTERM/SIGINT; default endpoint "
	    "ipc://DIR/privd.sock\n"
	    "            --config FILE: the same settings as \"key = value\" "
	    "lines (privd(8));\n"
	    "            an option overrides its line. --check: print the "
	    "settings, exit\n"
	    "policy set  with privd stopped, make FILE the policy in force "
	    "(the recovery\n"
	    "            path when no admin can apply one); audited as "
	    "principal privd\n"
	    "pubkey      print the server's public key (Z85)\n"
	    "restore     with privd stopped (every node of a database "
	    "store), replace DIR's\n"
	    "            store (LMDB or PostgreSQL) by the backup FILE, "
	    "applying\n"
	    "            again the erasures made since (from DIR's store, "
	    "or the journal\n"
	    "            FILE that `privctl erasures export` wrote)\n"
	    "audit rotate-key\n"
	    "            with privd stopped, make a new audit signing key, "
	    "announced in the\n"
	    "            log and signed by the old one; prints the new "
	    "public key (hex)\n"
	    "rekey       with privd stopped, replace the master key; the "
	    "old one is kept as\n"
	    "            DIR/master.key.old-TIME until you remove it. If "
	    "it stops, run it again\n"
	    "server-key next\n"
	    "            (privd may run) make the server's next key pair, "
	    "write its public key\n"
	    "            to DIR/server.next.pub and print it (Z85); again: "
	    "replace it\n"
	    "server-key rotate\n"
	    "            with privd stopped, make the next key the server "
	    "key (server.pub)\n"
	    "server-key show\n"
	    "            print the server key and, on a second line, the "
	    "next key if any\n");
}

static int
write_pubkey_file(const char *dir, const char *z85)
{
	char path[PATH_MAX];
	FILE *f;

	if (datadir_path(path, sizeof(path), dir, "server.pub") != 0)
		return -1;
	if ((f = fopen(path, "we")) == NULL || fprintf(f, "%s\n", z85) < 0 ||
	    fclose(f) != 0) {
		log_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Refuse to init over anything that looks like a store. */
static int
check_fresh_dir(const char *dir)
{
	static const char *const files[] = {
	    "master.key", "data.mdb", "lock.mdb", DATADIR_STORE_FILE};
	char path[PATH_MAX];
	struct stat st;
	size_t i;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_err("cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_err("%s is not a directory", dir);
		return -1;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if (datadir_path(path, sizeof(path), dir, files[i]) != 0)
			return -1;
		if (lstat(path, &st) == 0) {
			log_err("%s already holds a privd store (%s); "
			        "refusing to overwrite it",
			    dir, files[i]);
			return -1;
		}
	}
	if (chmod(dir, 0700) != 0) {
		log_err("cannot chmod %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Generate the daemon's own key pairs and store them sealed. */
static int
init_keys(store *st, store_txn *txn, const crypto_keys *keys, char *z85)
{
	uint8_t cpub[crypto_box_PUBLICKEYBYTES],
	    spub[crypto_sign_PUBLICKEYBYTES];
	uint8_t *csec, *ssec;
	uint8_t sealed[crypto_sign_SECRETKEYBYTES + CRYPTO_SEAL_OVERHEAD];
	int rc = -1;

	csec = sodium_malloc(crypto_box_SECRETKEYBYTES);
	ssec = sodium_malloc(crypto_sign_SECRETKEYBYTES);
	if (csec == NULL || ssec == NULL)
		goto out;
	/* CURVE keys are Curve25519 key pairs, as crypto_box makes them. */
	crypto_box_keypair(cpub, csec);
	crypto_sign_keypair(spub, ssec);
	if (store_format_put(st, txn) ||
	    store_meta_put(st, txn, META_CURVE_PUBLIC, cpub, sizeof(cpub)) ||
	    store_meta_put(st, txn, META_SIGN_PUBLIC, spub, sizeof(spub)))
		goto out;
	crypto_secret_seal(
	    keys, META_CURVE_SECRET, csec, crypto_box_SECRETKEYBYTES, sealed);
	if (store_meta_put(st, txn, META_CURVE_SECRET, sealed,
	        crypto_box_SECRETKEYBYTES + CRYPTO_SEAL_OVERHEAD))
		goto out;
	crypto_secret_seal(
	    keys, META_SIGN_SECRET, ssec, crypto_sign_SECRETKEYBYTES, sealed);
	if (store_meta_put(st, txn, META_SIGN_SECRET, sealed, sizeof(sealed)))
		goto out;
	zmq_z85_encode(z85, cpub, sizeof(cpub));
	rc = 0;
out:
	sodium_free(csec);
	sodium_free(ssec);
	return rc;
}

/*
 * The policy given to init: its audit retention must respect the floor
 * being set, like every later version. A policy without an admin is
 * accepted (a store can be run without changes over the wire), with a
 * warning: `privd policy set` is then the only way to change it.
 */
static int
init_policy_check(const pol_policy *pol, uint64_t floor_s)
{
	char why[200];

	if ((uint64_t)pol->audit_retention_s < floor_s) {
		log_err("policy: $.audit.retention is shorter than the "
		        "floor of %llu days (--audit-retention-min)",
		    (unsigned long long)(floor_s / 86400));
		return -1;
	}
	if (policy_admissible(pol, floor_s, NULL, true, why, sizeof(why)) != 0)
		log_warn("no principal of the policy has the role "
		         "policy_admin: only `privd policy set` can change it");
	return 0;
}

/*
 * In a write transaction of a store being initialised: whether it already
 * holds a privd store (0: fresh; -1 said). On PostgreSQL, init's schema
 * is made IF NOT EXISTS, so this is what refuses a second init; the
 * writers' lock the transaction took makes two inits at once take turns,
 * and the second then sees the first's format row.
 */
static int
check_fresh_store(store *st, store_txn *txn, const char *dir)
{
	store_val v;
	int rc;

	if ((rc = store_meta_get(st, txn, "format", &v)) == STORE_NOTFOUND)
		return 0;
	if (rc != 0) {
		log_err("cannot read the store: %s", store_strerror(rc));
		return -1;
	}
	log_err("the store already holds a privd store; a further node needs "
	        "no init: put a copy of the first node's master.key in %s "
	        "and run privd serve --data-dir %s --store ... (privd(8))",
	    dir, dir);
	return -1;
}

static int
cmd_init(int argc, char **argv)
{
	const char *dir = NULL, *policy = NULL, *floor = "1 year", *spec = NULL;
	char keypath[PATH_MAX], z85[41], *json = NULL, lspec[PATH_MAX + 8];
	crypto_keys *keys = NULL;
	pol_policy *pol = NULL;
	store *st = NULL;
	store_txn *txn = NULL;
	char err[256];
	int64_t floor_s;
	size_t len;
	int i, lockfd = -1, rc = 1;

	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			policy = argv[++i];
		else if (strcmp(argv[i], "--audit-retention-min") == 0 &&
		         i + 1 < argc)
			floor = argv[++i];
		else if (strcmp(argv[i], "--store") == 0 && i + 1 < argc &&
		         *argv[i + 1] != '\0')
			spec = argv[++i];
		else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL || policy == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (pol_duration_parse(floor, &floor_s) != 0) {
		log_err("--audit-retention-min needs a duration such as "
		        "\"1 year\" or \"400 days\"");
		return EXIT_USAGE;
	}
	if ((pol = datadir_load_policy(policy, &json, &len)) == NULL)
		return 1;
	if (init_policy_check(pol, (uint64_t)floor_s) != 0)
		goto out;
	if (check_fresh_dir(dir) != 0 || (lockfd = datadir_lock(dir)) < 0 ||
	    datadir_path(keypath, sizeof(keypath), dir, "master.key") != 0)
		goto out;
	if (crypto_keys_create(keypath, &keys, err, sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	if (spec == NULL) {
		snprintf(lspec, sizeof(lspec), "lmdb:%s", dir);
		spec = lspec;
	}
	/* err never holds the spec (it may hold a password): store.h */
	if (store_open_spec(spec, STORE_DEFAULT_MAPSIZE, true, &st, err,
	        sizeof(err)) != 0) {
		log_err("%s", err);
		goto undo;
	}
	if (store_txn_begin(st, 0, &txn) != 0 ||
	    check_fresh_store(st, txn, dir) != 0 ||
	    init_keys(st, txn, keys, z85) != 0 ||
	    retain_floor_put(st, txn, (uint64_t)floor_s) != 0 ||
	    store_policy_put(
	        st, txn, 1, clock_wall_us(), "privd init", json, len) != 0) {
		log_err("cannot initialise the store");
		if (txn != NULL)
			store_txn_abort(txn);
		goto undo;
	}
	if (store_txn_commit(txn) != 0) {
		log_err("cannot commit the new store");
		goto undo;
	}
	/* the later commands in dir find the store by this file */
	if (spec != lspec && datadir_store_record(dir, spec) != 0)
		goto out;
	if (write_pubkey_file(dir, z85) != 0)
		goto out;
	if (spec != lspec && datadir_spec_is_pg(spec))
		log_info("initialised the PostgreSQL store with policy "
		         "version 1; %s holds this node's master key",
		    dir);
	else
		log_info("initialised %s with policy version 1", dir);
	printf("%s\n", z85);
	rc = 0;
	goto out;
undo:
	/* Leave no half-made store behind: init can simply be run again. */
	store_close(&st);
	unlink(keypath);
	if (datadir_path(keypath, sizeof(keypath), dir, "data.mdb") == 0)
		unlink(keypath);
	if (datadir_path(keypath, sizeof(keypath), dir, "lock.mdb") == 0)
		unlink(keypath);
	if (datadir_path(keypath, sizeof(keypath), dir, DATADIR_STORE_FILE) ==
	    0)
		unlink(keypath);
out:
	store_close(&st);
	crypto_keys_free(&keys);
	pol_free(&pol);
	free(json);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

/*
 * Open an initialised data directory: master key (with its permission
 * checks), store (in the format this privd reads), the server's CURVE
 * secret and the audit signing key, the policy in force, the audit
 * retention floor; and check the wall clock against the newest event.
 */
static int
open_datadir(server *srv)
{
	store_policy sp;
	pol_policy *pol;
	pol_error perr;
	snapshot *snap;
	audit_state head;
	audit_retain keep;
	store_txn *txn;
	char err[320];
	uint64_t indexed, states;
	int rc;

	if (datadir_open(
	        srv->cfg.datadir, srv->cfg.mapsize, &srv->keys, &srv->st) != 0)
		return -1;
	/* events of a `privd server-key next` made while privd ran */
	if (server_key_at_start(srv->st, srv->keys, srv->cfg.datadir) != 0)
		return -1;
	/* the index is complete before anything is served (audit_index.h) */
	if ((rc = audit_ix_catch_up(srv->st, &indexed)) != 0) {
		log_err("cannot index the audit log: %s", store_strerror(rc));
		return -1;
	}
	if (indexed > 0)
		log_info("audit index: %llu events indexed from the log",
		    (unsigned long long)indexed);
	if ((rc = store_txn_begin(srv->st, STORE_RDONLY, &txn)) != 0) {
		log_err("%s", store_strerror(rc));
		return -1;
	}
	rc = -1;
	if (datadir_secret(srv->st, txn, srv->keys, META_CURVE_SECRET,
	        srv->curve_secret, crypto_box_SECRETKEYBYTES) != 0) {
		log_err("the server key does not open with this master "
		        "key (wrong master.key, or a damaged store)");
		goto out;
	}
	crypto_scalarmult_base(srv->curve_public, srv->curve_secret);
	if (datadir_secret(srv->st, txn, srv->keys, META_SIGN_SECRET,
	        srv->sign_sk, crypto_sign_SECRETKEYBYTES) != 0) {
		log_err("the audit signing key does not open "
		        "(damaged store)");
		goto out;
	}
	crypto_sign_ed25519_sk_to_pk(srv->sign_pk, srv->sign_sk);
	if (audit_load(srv->st, txn, &head) != 0 ||
	    retain_load(srv->st, txn, &keep) != 0) {
		log_err("the audit log's head cannot be read "
		        "(damaged store)");
		goto out;
	}
	srv->audit_floor_s = keep.floor_s;
	if (substate_count(srv->st, txn, &states) != 0) {
		log_err("the data subjects' states cannot be "
		        "read (damaged store)");
		goto out;
	}
	atomic_store(&srv->subj_states, states > 0);
	if (retain_start_check(head.time_us, clock_wall_us(),
	        srv->cfg.clock_behind_ok, &srv->start_jump_s, err,
	        sizeof(err)) != 0) {
		log_err("%s", err);
		goto out;
	}
	if (store_policy_latest(srv->st, txn, &sp) != 0) {
		log_err("the store holds no policy");
		goto out;
	}
	if (pol_parse(sp.json, sp.len, &pol, &perr) != 0) {
		log_err("stored policy version %llu: %s: %s",
		    (unsigned long long)sp.version, perr.path, perr.reason);
		goto out;
	}
	if ((snap = snapshot_new(pol, sp.version)) == NULL) {
		pol_free(&pol);
		goto out;
	}
	snapshot_cell_init(&srv->policy, snap);
	log_info(
	    "policy version %llu in force", (unsigned long long)sp.version);
	rc = 0;
out:
	store_txn_abort(txn);
	return rc;
}

/* open_datadir for startwait_open, and what it undoes after a failure
 * before the next try (a database that went away part way). */
static int
open_datadir_cb(void *arg)
{
	server *srv = arg;

	/* the writer's first reads (the audit log's head, the other nodes'
	 * notifications) too: a database that goes away between the open
	 * and the writer's start is waited for like one that was not there */
	if (open_datadir(srv) != 0)
		return -1;
	if ((srv->writer = writer_new(srv)) == NULL)
		return -1;
	return 0;
}

static void
open_datadir_undo(void *arg)
{
	server *srv = arg;

	writer_free(&srv->writer);
	if (srv->policy.cur != NULL) { /* open_datadir's last step */
		snapshot_cell_destroy(&srv->policy);
		memset(&srv->policy, 0, sizeof(srv->policy));
	}
	store_close(&srv->st);
	crypto_keys_free(&srv->keys);
}

/*
 * Backups: what a privd that stopped during one left in DATADIR/backup is
 * removed (nobody can end it any more, and it holds sealed personal
 * data); then the control the workers start backups with.
 */
static int
start_backups(server *srv)
{
	size_t removed;

	if (backup_clean_dir(srv->cfg.datadir, &removed) != 0) {
		log_err("cannot clean %s/%s: %s", srv->cfg.datadir, BACKUP_DIR,
		    strerror(errno));
		return -1;
	}
	if (removed > 0)
		log_info("removed %zu file(s) of unfinished backups", removed);
	if (restore_clean_tmp(srv->cfg.datadir) > 0)
		log_info("removed what an unfinished restore left in %s",
		    srv->cfg.datadir);
	if ((srv->backup = backup_ctl_new(srv->st, srv->cfg.datadir)) == NULL) {
		log_err("out of memory");
		return -1;
	}
	return 0;
}

static int
cmd_pubkey(int argc, char **argv)
{
	char path[PATH_MAX], line[64];
	FILE *f;

	if (argc != 4 || strcmp(argv[2], "--data-dir") != 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (datadir_path(path, sizeof(path), argv[3], "server.pub") != 0)
		return 1;
	if ((f = fopen(path, "re")) == NULL ||
	    fgets(line, sizeof(line), f) == NULL) {
		log_err("cannot read %s", path);
		if (f != NULL)
			fclose(f);
		return 1;
	}
	fclose(f);
	fputs(line, stdout);
	return 0;
}

static int
cmd_serve(int argc, char **argv)
{
	static char deflisten[PATH_MAX + 16];
	const struct rlimit nocore = {0, 0};
	server srv;
	pthread_t writer_thread, *workers = NULL;
	serve_config conf;
	char absdir[PATH_MAX];
	sigset_t sigs;
	int w, started = 0, lockfd = -1, sigfd = -1, rc = 1;
	bool writer_started = false;

	/* every line, the start-up errors too, in the log's format */
	log_set_style(LOG_STYLE_DAEMON);
	memset(&srv, 0, sizeof(srv));
	if ((rc = serve_config_load(argc, argv, 2, &conf)) != 0) {
		serve_config_free(&conf);
		return rc;
	}
	rc = 1;
	srv.cfg = conf.srv;
	if (conf.store != NULL)
		datadir_set_store(conf.store);
	log_set_level(conf.log_level);
	if (conf.check) {
		serve_config_print(&conf, stdout);
		serve_config_free(&conf);
		return 0;
	}
	if (srv.cfg.nlisten == 0) {
		if (realpath(srv.cfg.datadir, absdir) == NULL) {
			log_err("%s: %s", srv.cfg.datadir, strerror(errno));
			goto out;
		}
		if (datadir_path(absdir + strlen(absdir),
		        sizeof(absdir) - strlen(absdir), "",
		        "privd.sock") != 0) {
			rc = EXIT_USAGE;
			goto out;
		}
		snprintf(deflisten, sizeof(deflisten), "ipc://%.*s",
		    (int)(sizeof(deflisten) - 7), absdir);
		srv.cfg.listen[srv.cfg.nlisten++] = deflisten;
	}

	/* A core dump would hold keys and values in the clear. */
	setrlimit(RLIMIT_CORE, &nocore);
	notify_init();
	if (clock_init())
		log_warn("PRIVD_TEST_CLOCK_FILE is set: this privd's clock is "
		         "shifted as that file says. For tests only.");
	if ((lockfd = datadir_lock(srv.cfg.datadir)) < 0)
		goto out;
	if ((srv.curve_secret = sodium_malloc(32)) == NULL ||
	    (srv.sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		fatal("out of secure memory");
	/* a PostgreSQL store: wait for its database first (startwait.c) */
	if (startwait_open(srv.cfg.datadir, conf.store_wait_s, open_datadir_cb,
	        open_datadir_undo, &srv) != 0 ||
	    start_backups(&srv) != 0)
		goto out;

	/* Signals: delivered to the frontend's poll through a signalfd; every
	 * thread inherits the blocked mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit shows as EFBIG, a full disk: not a reason to die */
	signal(SIGXFSZ, SIG_IGN);
	if ((sigfd = signalfd(-1, &sigs, SFD_CLOEXEC)) < 0)
		fatal("signalfd: %s", strerror(errno));

	if (jobq_init(&srv.work, false) != 0 ||
	    jobq_init(&srv.commit, false) != 0 ||
	    jobq_init(&srv.replies, true) != 0)
		fatal("cannot create queues: %s", strerror(errno));
	if (pthread_create(&writer_thread, NULL, writer_main, &srv) != 0)
		fatal("cannot start the writer thread");
	writer_started = true;
	if ((workers = calloc(srv.cfg.workers, sizeof(*workers))) == NULL)
		fatal("out of memory");
	for (w = 0; w < srv.cfg.workers; w++) {
		if (pthread_create(&workers[w], NULL, worker_main, &srv) != 0)
			fatal("cannot start worker threads");
		started++;
	}

	rc = frontend_run(&srv, sigfd) == 0 ? 0 : 1;

	/* Every request the frontend took has been answered; stop the
	 * pipeline from the front. */
	jobq_close(&srv.work);
	for (w = 0; w < started; w++)
		pthread_join(workers[w], NULL);
	/* no request can reach a backup now: stop one under way, remove
	 * its file */
	backup_ctl_free(&srv.backup);
	jobq_close(&srv.commit);
	if (writer_started)
		pthread_join(writer_thread, NULL);
	jobq_destroy(&srv.work);
	jobq_destroy(&srv.commit);
	jobq_destroy(&srv.replies);
	snapshot_cell_destroy(&srv.policy);
	log_info("stopped");
out:
	free(workers);
	if (sigfd >= 0)
		close(sigfd);
	backup_ctl_free(&srv.backup);
	writer_free(&srv.writer); /* made, but its thread never started */
	store_close(&srv.st);
	crypto_keys_free(&srv.keys);
	sodium_free(srv.curve_secret);
	sodium_free(srv.sign_sk);
	if (lockfd >= 0)
		close(lockfd);
	serve_config_free(&conf);
	return rc;
}

/*
 * `--store SPEC` for the commands that open a data directory's store
 * (policy set, audit rotate-key, server-key, pubkey, rekey, restore):
 * taken out of argv here, so that each command parses what it always
 * did, and handed to datadir_open. init and serve read it themselves.
 */
static int
take_store_arg(int *argc, char **argv)
{
	int i, j;

	for (i = 2; i < *argc; i++) {
		if (strcmp(argv[i], "--store") != 0)
			continue;
		if (i + 1 >= *argc || *argv[i + 1] == '\0') {
			usage(stderr);
			return -1;
		}
		datadir_set_store(argv[i + 1]);
		for (j = i; j + 2 <= *argc; j++)
			argv[j] = argv[j + 2];
		*argc -= 2;
		i--;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	/* privd's commands report as a command line tool; privd serve logs
	 * as a daemon (log.h) */
	log_set_style(LOG_STYLE_PLAIN);
	if (sodium_init() < 0) {
		log_err("cannot initialise libsodium");
		return 1;
	}
	umask(077);
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc, argv);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc, argv);
	if (take_store_arg(&argc, argv) != 0)
		return EXIT_USAGE;
	if (strcmp(argv[1], "pubkey") == 0)
		return cmd_pubkey(argc, argv);
	if (strcmp(argv[1], "restore") == 0)
		return cmd_restore(argc, argv);
	if (strcmp(argv[1], "policy") == 0 && argc > 2 &&
	    strcmp(argv[2], "set") == 0)
		return cmd_policy_set(argc, argv);
	if (strcmp(argv[1], "audit") == 0 && argc > 2 &&
	    strcmp(argv[2], "rotate-key") == 0)
		return cmd_audit_rotate_key(argc, argv);
	if (strcmp(argv[1], "rekey") == 0)
		return cmd_rekey(argc, argv);
	if (strcmp(argv[1], "server-key") == 0)
		return cmd_server_key(argc, argv);
	if (strcmp(argv[1], "--version") == 0) {
		printf("privd %s\n", PRIVD_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	usage(stderr);
	return EXIT_USAGE;
}
