/*
 * audit_key_cmd.c - `privd audit rotate-key` (rekey.h): the command line
 * around the rotation of the audit signing key (audit_key.c), for a
 * stopped privd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "clock.h"
#include "commands.h"
#include "datadir.h"
#include "rekey.h"

#define MAX_GROW_TRIES 8

/*
 * `privd audit rotate-key`: the rotation of audit.h in one write
 * transaction, growing the map if it is full (privd is stopped: the lock
 * says so, and nothing else has a transaction open).
 */
static int
rotate_commit(store *st, const crypto_keys *keys, uint8_t *sign_sk,
    uint8_t new_pk[32], uint64_t *seq)
{
	store_txn *txn;
	int rc, tries;

	for (tries = 0;; tries++) {
		if ((rc = store_txn_begin(st, 0, &txn)) != 0)
			return rc;
		if (datadir_secret(st, txn, keys, META_SIGN_SECRET, sign_sk,
		        crypto_sign_SECRETKEYBYTES) != 0) {
			store_txn_abort(txn);
			return -1;
		}
		rc = audit_key_rotate(
		    st, txn, keys, sign_sk, clock_wall_us(), new_pk, seq);
		if (rc == 0)
			rc = store_txn_commit(txn);
		else
			store_txn_abort(txn);
		if (rc == STORE_MAP_FULL && tries < MAX_GROW_TRIES &&
		    store_grow(st) == 0)
			continue;
		return rc;
	}
}

int
cmd_audit_rotate_key(int argc, char **argv)
{
	const char *dir = NULL;
	crypto_keys *keys = NULL;
	store *st = NULL;
	uint8_t *sign_sk = NULL, new_pk[32];
	char hex[65];
	uint64_t seq = 0;
	int i, lockfd = -1, rc, ret = 1;

	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	/* the lock also says that privd is not running */
	if ((lockfd = datadir_lock_for(dir, "stop it before rotating keys")) <
	        0 ||
	    datadir_open(dir, STORE_DEFAULT_MAPSIZE, &keys, &st) != 0)
		goto out;
	if ((sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		fprintf(stderr, "privd: out of secure memory\n");
		goto out;
	}
	clock_init();
	rc = rotate_commit(st, keys, sign_sk, new_pk, &seq);
	if (rc == -1) {
		fprintf(stderr, "privd: the audit signing key does not open "
		                "(damaged store)\n");
	} else if (rc != 0) {
		fprintf(stderr,
		    "privd: cannot rotate the audit signing key: "
		    "%s\n",
		    store_strerror(rc));
	} else {
		sodium_bin2hex(hex, sizeof(hex), new_pk, sizeof(new_pk));
		fprintf(stderr,
		    "privd: audit signing key rotated at event %llu, signed "
		    "by the old key; privd signs with the new key when it "
		    "starts\n",
		    (unsigned long long)seq);
		printf("%s\n", hex);
		ret = 0;
	}
out:
	if (sign_sk != NULL)
		sodium_free(sign_sk);
	store_close(&st);
	crypto_keys_free(&keys);
	if (lockfd >= 0)
		close(lockfd);
	return ret;
}
