/*
 * datadir.h - the data directory made by `privd init`, for the commands of
 * the privd program (main.c, policyset.c). Errors are printed on stderr,
 * prefixed "privd: ", for the operator running the command.
 */
#ifndef PRIVD_DATADIR_H
#define PRIVD_DATADIR_H

#include <stdbool.h>
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

/*
 * Which store a data directory's commands open (DESIGN): the --store
 * argument given to this privd command (datadir_set_store), else the
 * spec `privd init --store` recorded in DIR/store (DATADIR_STORE_FILE,
 * 0600: a connection string may hold a password), else LMDB in DIR. So a
 * node of a PostgreSQL store keeps in its directory the master key, the
 * lock, server.pub and that file, and every command (serve, policy set,
 * audit rotate-key, server-key) finds the database by itself. A spec may
 * hold a password: it is never logged nor put into an error message.
 */
#define DATADIR_STORE_FILE "store"
#define DATADIR_MAX_SPEC   4096
void datadir_set_store(const char *spec);
/* The spec for dir into buf: 0, or -1 (said on stderr). */
int datadir_store_spec(const char *dir, char *buf, size_t len);
/* Whether spec names a PostgreSQL store (store.c's rule). */
bool datadir_spec_is_pg(const char *spec);
/* Record spec in dir/store (0600) for the later commands: 0 or -1. */
int datadir_store_record(const char *dir, const char *spec);

/* Open the master key (with its permission and owner checks) and the
 * store (datadir_store_spec), and check the store's format. 0, or -1
 * (said on stderr). */
int datadir_open(
    const char *dir, size_t mapsize, crypto_keys **keys, store **st);

/* Adopt the store's keyring, if it has one, into keys (crypto.h): 0, or
 * -1 if it does not open under keys' master key. datadir_open does it. */
int datadir_keyring(store *st, store_txn *txn, crypto_keys *keys);

/* Open the daemon secret name (len bytes) sealed in meta into out. */
int datadir_secret(store *st, store_txn *txn, const crypto_keys *keys,
    const char *name, uint8_t *out, size_t len);

#endif
