/*
 * policyset.c - `privd policy set`: make a policy document the policy in
 * force while privd is stopped.
 *
 * The recovery path when nobody can apply a policy over the wire any more
 * (no principal left with policy_admin, or every admin's key lost). It
 * needs what privd itself needs - the data directory and its master key -
 * so it is for whoever runs privd. It keeps every promise of a change over
 * the wire: the document is validated completely, the store's audit
 * retention floor holds, every version is kept, and the change is one
 * audit event (principal "privd", op policy_apply) in the same transaction,
 * covered at once by a signed checkpoint.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "audit_retain.h"
#include "clock.h"
#include "commands.h"
#include "datadir.h"
#include "server.h"
#include "writer_nodes.h"

#define ST(x)          PRIVD__V1__STATUS__##x
#define MAX_GROW_TRIES 8
#define SET_PRINCIPAL  "privd"
#define SET_UNCHANGED  1 /* set_txn: the document is the one in force */

typedef struct set_args {
	const char *json;
	size_t len;
	const pol_policy *pol;
	bool force;
	const crypto_keys *keys;
	uint8_t *sign_sk;
	uint64_t version; /* out: the version in force afterwards */
	char why[240];    /* out: why it was refused */
} set_args;

/* One audit event for the change, and a checkpoint that covers it. */
static int
audit_set(store *st, store_txn *txn, set_args *sa, uint64_t replaced)
{
	audit_state a;
	job *j;
	int rc;

	if ((j = job_new()) == NULL)
		return ENOMEM;
	j->ev.principal = SET_PRINCIPAL;
	j->ev.op = "policy_apply";
	j->ev.policy_version = replaced;
	j->status = ST(OK);
	if ((rc = audit_load(st, txn, &a)) == 0 &&
	    (rc = audit_append(st, txn, &a, j, clock_wall_us())) == 0)
		rc = audit_checkpoint(st, txn, &a, sa->sign_sk);
	job_free(j);
	return rc;
}

/* The change in one write transaction: 0 (stored), SET_UNCHANGED, -1
 * (refused: sa->why), or a store error. */
static int
set_txn(store *st, store_txn *txn, set_args *sa)
{
	audit_retain keep;
	store_policy cur;
	char why[200];
	int rc;

	if ((rc = datadir_secret(st, txn, sa->keys, META_SIGN_SECRET,
	         sa->sign_sk, crypto_sign_SECRETKEYBYTES)) != 0) {
		snprintf(sa->why, sizeof(sa->why),
		    "the audit signing key does not open (damaged store)");
		return -1;
	}
	if ((rc = retain_load(st, txn, &keep)) != 0 ||
	    (rc = store_policy_latest(st, txn, &cur)) != 0)
		return rc;
	if (policy_same_json(&cur, sa->json, sa->len)) {
		sa->version = cur.version;
		rc = audit_set(st, txn, sa, cur.version);
		return rc != 0 ? rc : SET_UNCHANGED;
	}
	/* the floor always holds; a policy without an admin only with
	 * --force (this command can always change it again) */
	if ((uint64_t)sa->pol->audit_retention_s < keep.floor_s) {
		snprintf(sa->why, sizeof(sa->why),
		    "$.audit.retention: shorter than this store's floor of "
		    "%llu days",
		    (unsigned long long)(keep.floor_s / 86400));
		return -1;
	}
	if (!sa->force && policy_admissible(sa->pol, keep.floor_s, NULL, true,
	                      why, sizeof(why)) != 0) {
		snprintf(sa->why, sizeof(sa->why),
		    "%s (--force to set it anyway)", why);
		return -1;
	}
	sa->version = cur.version + 1;
	if ((rc = store_policy_put(st, txn, sa->version, clock_wall_us(),
	         SET_PRINCIPAL, sa->json, sa->len)) != 0 ||
	    (rc = writer_nodes_policy_stored(txn, sa->version)) != 0)
		return rc;
	return audit_set(st, txn, sa, cur.version);
}

/* Run set_txn, growing the map if it is full (no other transaction is
 * open: privd is stopped, and the lock says so). */
static int
set_commit(store *st, set_args *sa)
{
	store_txn *txn;
	int rc, tries;

	for (tries = 0;; tries++) {
		if ((rc = store_txn_begin(st, 0, &txn)) != 0)
			return rc;
		rc = set_txn(st, txn, sa);
		if (rc == 0 || rc == SET_UNCHANGED) {
			int crc = store_txn_commit(txn);

			if (crc != 0)
				rc = crc;
		} else {
			store_txn_abort(txn);
		}
		if (rc == STORE_MAP_FULL && tries < MAX_GROW_TRIES &&
		    store_grow(st) == 0)
			continue;
		return rc;
	}
}

int
cmd_policy_set(int argc, char **argv)
{
	const char *dir = NULL, *file = NULL;
	set_args sa = {0};
	crypto_keys *keys = NULL;
	pol_policy *pol = NULL;
	store *st = NULL;
	char *json = NULL;
	int i, lockfd = -1, rc, ret = 1;

	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(argv[i], "--force") == 0)
			sa.force = true;
		else if (file == NULL && argv[i][0] != '-')
			file = argv[i];
		else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (dir == NULL || file == NULL) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if ((pol = datadir_load_policy(file, &json, &sa.len)) == NULL)
		return 1;
	/* the lock also says that privd is not running */
	if ((lockfd = datadir_lock(dir)) < 0 ||
	    datadir_open(dir, STORE_DEFAULT_MAPSIZE, &keys, &st) != 0)
		goto out;
	if ((sa.sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL) {
		fprintf(stderr, "privd: out of secure memory\n");
		goto out;
	}
	clock_init();
	sa.json = json;
	sa.pol = pol;
	sa.keys = keys;
	rc = set_commit(st, &sa);
	if (rc == SET_UNCHANGED) {
		printf("policy unchanged: version %llu stays in force\n",
		    (unsigned long long)sa.version);
		ret = 0;
	} else if (rc == 0) {
		printf("policy version %llu stored; it is in force when privd "
		       "starts\n",
		    (unsigned long long)sa.version);
		ret = 0;
	} else if (rc == -1) {
		fprintf(stderr, "privd: policy %s refused: %s\n", file, sa.why);
	} else {
		fprintf(stderr, "privd: cannot store the policy: %s\n",
		    store_strerror(rc));
	}
out:
	if (sa.sign_sk != NULL)
		sodium_free(sa.sign_sk);
	store_close(&st);
	crypto_keys_free(&keys);
	pol_free(&pol);
	free(json);
	if (lockfd >= 0)
		close(lockfd);
	return ret;
}
