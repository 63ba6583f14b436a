/*
 * server_key_cmd.c - `privd server-key next|rotate|show --data-dir DIR`:
 * the command line over server_key.c (whose DESIGN comment says how the
 * rotation works and why `next` may run beside a serving privd).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "clock.h"
#include "commands.h"
#include "datadir.h"
#include "log.h"
#include "server_key.h"

/* Try the data directory's lock without waiting: true if we hold it
 * (privd is not running), false if someone does. */
static bool
try_lock(sk *s)
{
	char path[PATH_MAX];

	if (datadir_path(path, sizeof(path), s->dir, "privd.lock") != 0 ||
	    (s->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return false;
	if (flock(s->lockfd, LOCK_EX | LOCK_NB) == 0)
		return true;
	close(s->lockfd);
	s->lockfd = -1;
	return false;
}

static void
sk_close(sk *s)
{
	store_close(&s->st);
	crypto_keys_free(&s->keys);
	if (s->lockfd >= 0)
		close(s->lockfd);
	s->lockfd = -1;
}

/* Say why a transaction failed, on stderr. */
static void
txn_failed(const char *what, int rc)
{
	if (rc == -1)
		log_err("%s: the server key does not open with this master key "
		        "(a `privd rekey` meanwhile? run it again)",
		    what);
	else if (rc == EOVERFLOW)
		log_err("%s: %d next keys were made while privd ran and their "
		        "audit events wait for privd's next start: restart "
		        "privd first",
		    what, SK_EV_MAX);
	else if (rc == STORE_MAP_FULL)
		log_err("%s: the store is full; privd grows it as it needs: "
		        "try again",
		    what);
	else if (rc == STORE_CORRUPTED)
		log_err("%s: the store's server keys are damaged", what);
	else if (rc == ENOMEM)
		log_err("%s: out of memory", what);
	else
		log_err("%s: %s", what, store_strerror(rc));
}

static int
cmd_next(sk *s)
{
	char z[SK_Z85LEN + 1];
	sk_out o;
	int rc;

	s->offline = try_lock(s);
	if (sk_open_beside(s) != 0)
		return 1;
	if ((rc = sk_in_write_txn(s, sk_next_txn, &o)) != 0) {
		txn_failed("cannot make a next server key", rc);
		return 1;
	}
	sk_z85(z, o.next);
	if (o.had_next)
		log_info("the next server key that was not promoted yet is "
		         "replaced: give clients the new one");
	if (o.queued)
		log_info("privd is running: the audit event of the new key is "
		         "written to the log when privd next starts (or at "
		         "`privd server-key rotate`)");
	if (sk_sync_files(s) != 0) {
		log_err("the next key is stored, but its file is not written: "
		        "`privd server-key show` prints it");
		return 1;
	}
	log_info("next server key made and written to %s/%s; give it to "
	         "every client beside the current key, then, with privd "
	         "stopped, `privd server-key rotate`",
	    s->dir, SK_FILE_NEXT);
	printf("%s\n", z);
	return 0;
}

static int
cmd_rotate(sk *s)
{
	char z[SK_Z85LEN + 1];
	sk_out o;
	int rc;

	/* the lock also says that privd is not running */
	if ((s->lockfd = datadir_lock_for(
	         s->dir, "stop it before rotating its key")) < 0)
		return 1;
	s->offline = true;
	if (datadir_open(s->dir, STORE_DEFAULT_MAPSIZE, &s->keys, &s->st) != 0)
		return 1;
	rc = sk_in_write_txn(s, sk_rotate_txn, &o);
	if (rc == SK_NONEXT) {
		/* an interrupted rotation leaves the files behind the store */
		sk_sync_files(s);
		log_err("there is no next server key to rotate to: make one "
		        "with `privd server-key next` and give it to the "
		        "clients first");
		return 1;
	}
	if (rc == STORE_CORRUPTED) {
		log_err("the next server key does not open (damaged store): "
		        "make another with `privd server-key next`");
		return 1;
	}
	if (rc != 0) {
		txn_failed("cannot rotate the server key", rc);
		return 1;
	}
	if (sk_sync_files(s) != 0) {
		log_err("the key is rotated in the store, but %s is not "
		        "rewritten: `privd serve` rewrites it at start",
		    SK_FILE_CURRENT);
		return 1;
	}
	sk_z85(z, o.next);
	log_info("server key rotated; privd serves the new key when it "
	         "starts, and clients that hold it switch at once");
	printf("%s\n", z);
	return 0;
}

static int
cmd_show(sk *s)
{
	char z[SK_Z85LEN + 1];
	sk_state k;

	if (sk_open_beside(s) != 0 || sk_read_state(s, &k) != 0)
		return 1;
	sk_z85(z, k.cur);
	printf("%s\n", z);
	if (k.have_next) {
		sk_z85(z, k.next);
		printf("%s\n", z);
	} else
		log_info("no next key (make one with `privd server-key next`)");
	if (k.queued > 0)
		log_info("%zu audit event(s) of next keys wait for privd's "
		         "next start",
		    k.queued);
	return 0;
}

int
cmd_server_key(int argc, char **argv)
{
	sk s = {.lockfd = -1};
	const char *sub = argc > 2 ? argv[2] : "";
	int i, rc;

	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			s.dir = argv[++i];
		else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (s.dir == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	clock_init();
	if (strcmp(sub, "next") == 0)
		rc = cmd_next(&s);
	else if (strcmp(sub, "rotate") == 0)
		rc = cmd_rotate(&s);
	else if (strcmp(sub, "show") == 0)
		rc = cmd_show(&s);
	else {
		usage(stderr);
		rc = EXIT_USAGE;
	}
	sk_close(&s);
	return rc;
}
