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
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

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

/* the --store of this command (main.c); NULL: none given */
static const char *store_override;

void
datadir_set_store(const char *spec)
{
	store_override = spec;
}

bool
datadir_spec_is_pg(const char *spec)
{
	return strncmp(spec, "postgresql://", 13) == 0 ||
	       strncmp(spec, "postgres://", 11) == 0 ||
	       (strncmp(spec, "lmdb:", 5) != 0 && strchr(spec, '=') != NULL);
}

/*
 * The spec: the override, else dir/store's first line, else "lmdb:dir".
 * Messages name the file, never what it holds (a password, maybe).
 */
int
datadir_store_spec(const char *dir, char *buf, size_t len)
{
	char path[PATH_MAX];
	struct stat sb;
	FILE *f;
	size_t n;
	int fd;

	if (store_override != NULL) {
		if (snprintf(buf, len, "%s", store_override) >= (int)len) {
			log_err("--store is too long");
			return -1;
		}
		return 0;
	}
	if (datadir_path(path, sizeof(path), dir, DATADIR_STORE_FILE) != 0)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		if (errno != ENOENT) {
			log_err("cannot open %s: %s", path, strerror(errno));
			return -1;
		}
		if (snprintf(buf, len, "lmdb:%s", dir) >= (int)len) {
			log_err("path too long: %s", dir);
			return -1;
		}
		return 0;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    (sb.st_mode & 077) != 0) {
		log_err("%s must be a regular file that only its owner can "
		        "read (mode 0600): it may hold a password",
		    path);
		close(fd);
		return -1;
	}
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		log_err("cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		log_err("%s is empty", path);
		return -1;
	}
	fclose(f);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (n == 0 || n + 1 >= len) {
		log_err("%s must hold one store spec on its first line", path);
		return -1;
	}
	return 0;
}

int
datadir_store_record(const char *dir, const char *spec)
{
	char path[PATH_MAX];
	FILE *f;
	int fd;

	if (datadir_path(path, sizeof(path), dir, DATADIR_STORE_FILE) != 0)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	        0 ||
	    (f = fdopen(fd, "w")) == NULL) {
		log_err("cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (fprintf(f, "%s\n", spec) < 0 || fflush(f) != 0 ||
	    fsync(fileno(f)) != 0) {
		log_err("cannot write %s: %s", path, strerror(errno));
		fclose(f);
		return -1;
	}
	if (fclose(f) != 0) {
		log_err("cannot write %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
datadir_open(const char *dir, size_t mapsize, crypto_keys **keys, store **st)
{
	char path[PATH_MAX], err[PATH_MAX + 160], spec[DATADIR_MAX_SPEC];
	store_txn *txn;
	int rc;

	*keys = NULL;
	*st = NULL;
	if (datadir_path(path, sizeof(path), dir, "master.key") != 0 ||
	    datadir_store_spec(dir, spec, sizeof(spec)) != 0)
		return -1;
	/* err never holds spec: store_open_spec's errors do not quote it */
	if (crypto_keys_load(path, keys, err, sizeof(err)) != 0 ||
	    store_open_spec(spec, mapsize, false, st, err, sizeof(err)) != 0) {
		sodium_memzero(spec, sizeof(spec));
		goto fail;
	}
	sodium_memzero(spec, sizeof(spec));
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
