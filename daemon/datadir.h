/*
 * datadir.h - the data directory made by `privd init`, for the commands of
 * the privd program (main.c, policyset.c). Errors are printed on stderr,
 * prefixed "privd: ", for the operator running the command.
 */
#ifndef PRIVD_DATADIR_H
#define PRIVD_DATADIR_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "policy.h"
#include "store.h"

#define DATADIR_MAX_POLICY (4 * 1024 * 1024) /* bytes in a policy file */

/* The names of the daemon's sealed secrets in meta. */
#define META_CURVE_SECRET "curve_secret"
#define META_SIGN_SECRET  "audit_sign_secret"
/* The stable keys after a rekey (crypto.h, rekey.c). */
#define META_KEYRING "keyring"

/* dir/name into buf (len bytes); -1 if it does not fit. */
int datadir_path(char *buf, size_t len, const char *dir, const char *name);

/* Take the store's lock file, so that one privd at a time owns dir.
 * Returns the descriptor (keep it open while working) or -1. */
int datadir_lock(const char *dir);
/* The same, saying busy ("refusing to start") when privd holds it. */
int datadir_lock_for(const char *dir, const char *busy);

/* Read a whole file of at most max bytes, NUL-terminated; malloc'd. */
char *datadir_read_file(const char *path, size_t max, size_t *len);

/* Read and parse a policy file, reporting errors the way `privctl policy
 * check` does: file, JSON path, reason. *json (malloc'd) holds its text. */
pol_policy *datadir_load_policy(const char *path, char **json, size_t *len);

/* Open the master key (with its permission and owner checks) and the
 * store, and check the store's format. 0, or -1 (said on stderr). */
int datadir_open(
    const char *dir, size_t mapsize, crypto_keys **keys, store **st);

/* Adopt the store's keyring, if it has one, into keys (crypto.h): 0, or
 * -1 if it does not open under keys' master key. datadir_open does it. */
int datadir_keyring(store *st, store_txn *txn, crypto_keys *keys);

/* Open the daemon secret name (len bytes) sealed in meta into out. */
int datadir_secret(store *st, store_txn *txn, const crypto_keys *keys,
    const char *name, uint8_t *out, size_t len);

#endif
