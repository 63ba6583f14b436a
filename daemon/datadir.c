/*
 * datadir.c - the data directory made by `privd init`: paths, the lock,
 * policy files, and opening the keys and the store; see datadir.h.
 */
#include "datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "log.h"

int
datadir_path(char *buf, size_t len, const char *dir, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= len) {
		log_err("path too long: %s/%s", dir, name);
		return -1;
	}
	return 0;
}

int
datadir_lock(const char *dir)
{
	return datadir_lock_for(dir, "refusing to start");
}

/* Take the store's lock file, so that one privd at a time owns DIR.
 * Returns the descriptor (kept open while running) or -1. */
int
datadir_lock_for(const char *dir, const char *busy)
{
	char path[PATH_MAX];
	int fd;

	if (datadir_path(path, sizeof(path), dir, "privd.lock") != 0)
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		log_err("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			log_err("privd is running on %s: %s", dir, busy);
		else
			log_err("cannot lock %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

char *
datadir_read_file(const char *path, size_t max, size_t *len)
{
	FILE *f;
	char *buf;
	size_t n;

	if ((f = fopen(path, "re")) == NULL) {
		log_err("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(max + 1)) == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		log_err("%s is larger than %zu bytes", path, max);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* Parse a policy document, reporting errors the way `privctl policy check`
 * does: file, JSON path, reason. */
pol_policy *
datadir_load_policy(const char *path, char **json, size_t *len)
{
	pol_policy *pol;
	pol_error err;

	if ((*json = datadir_read_file(path, DATADIR_MAX_POLICY, len)) == NULL)
		return NULL;
	if (pol_parse(*json, *len, &pol, &err) != 0) {
		log_err("policy %s: %s: %s", path, err.path, err.reason);
		free(*json);
		*json = NULL;
		return NULL;
	}
	return pol;
}

int
datadir_open(const char *dir, size_t mapsize, crypto_keys **keys, store **st)
{
	char path[PATH_MAX], err[PATH_MAX + 160];
	store_txn *txn;
	int rc;

	*keys = NULL;
	*st = NULL;
	if (datadir_path(path, sizeof(path), dir, "master.key") != 0)
		return -1;
	if (crypto_keys_load(path, keys, err, sizeof(err)) != 0 ||
	    store_open(dir, mapsize, false, st, err, sizeof(err)) != 0)
		goto fail;
	if ((rc = store_txn_begin((*st), STORE_RDONLY, &txn)) != 0) {
		snprintf(err, sizeof(err), "%s", store_strerror(rc));
		goto fail;
	}
	rc = store_format_check(*st, txn, err, sizeof(err));
	if (rc == 0 && (rc = datadir_keyring(*st, txn, *keys)) != 0)
		snprintf(err, sizeof(err),
		    "the store's keys do not open with %s's master.key "
		    "(another master key; after an interrupted `privd "
		    "rekey`, run it again)",
		    dir);
	store_txn_abort(txn);
	if (rc == 0)
		return 0;
fail:
	log_err("%s", err);
	store_close(st);
	crypto_keys_free(keys);
	return -1;
}

int
datadir_keyring(store *st, store_txn *txn, crypto_keys *keys)
{
	store_val v;
	int rc;

	if ((rc = store_meta_get(st, txn, META_KEYRING, &v)) == STORE_NOTFOUND)
		return 0; /* never rekeyed: every key derives from master.key */
	if (rc != 0)
		return -1;
	return crypto_keyring_adopt(keys, v.data, v.size);
}

int
datadir_secret(store *st, store_txn *txn, const crypto_keys *keys,
    const char *name, uint8_t *out, size_t len)
{
	store_val v;

	return store_meta_get(st, txn, name, &v) != 0 ||
	               v.size != len + CRYPTO_SEAL_OVERHEAD ||
	               crypto_secret_open(keys, name, v.data, v.size, out) != 0
	           ? -1
	           : 0;
}
