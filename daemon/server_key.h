/*
 * server_key.h - what the two files of the server key rotation share
 * (not a module's interface: commands.h has that). server_key.c keeps
 * the next key in the store, its audit events and the key files;
 * server_key_cmd.c is `privd server-key next|rotate|show`.
 */
#ifndef PRIVD_SERVER_KEY_H
#define PRIVD_SERVER_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "store.h"

#define SK_KEYLEN 32 /* a CURVE key */
#define SK_Z85LEN 40 /* its Z85 text */

#define SK_FILE_CURRENT "server.pub"
#define SK_FILE_NEXT    "server.next.pub"

#define SK_EV_MAX 100  /* events queued at most; then start privd */
#define SK_NONEXT (-2) /* sk_rotate_txn: there is no next key */

/* One command's data directory and what it opened. */
typedef struct sk {
	const char *dir;
	store *st;
	crypto_keys *keys;
	int lockfd;   /* the data directory's lock, or -1 (privd serves) */
	bool offline; /* we hold the lock: the audit log is ours to append */
} sk;

/* What a transaction did, for the messages after it. */
typedef struct sk_out {
	uint8_t current[SK_KEYLEN], next[SK_KEYLEN], replaced[SK_KEYLEN];
	bool had_next, queued;
	size_t flushed; /* queued events written to the log */
} sk_out;

/* What the store holds now, in a read transaction of its own: the
 * current key, the next one (*have_next) and the queued events. */
typedef struct sk_state {
	uint8_t cur[SK_KEYLEN], next[SK_KEYLEN];
	bool have_next;
	size_t queued;
} sk_state;

/* key as Z85 text (out: SK_Z85LEN + 1 bytes). */
void sk_z85(char out[SK_Z85LEN + 1], const uint8_t key[SK_KEYLEN]);

/* Open the data directory beside a privd that may be serving it (the map
 * sized as the store records it): 0, or -1 (said on stderr). */
int sk_open_beside(sk *s);

/*
 * The transactions: `next` (a new key pair, its secret sealed, its audit
 * event in the log if s->offline, else queued) and `rotate` (offline:
 * the queued events, the next key made current, its event). 0, -1 (the
 * master key does not open the current key), SK_NONEXT, EOVERFLOW (too
 * many queued events), ENOMEM, STORE_CORRUPTED or an LMDB error.
 */
int sk_next_txn(sk *s, store_txn *txn, sk_out *o);
int sk_rotate_txn(sk *s, store_txn *txn, sk_out *o);

/* Run fn in one write transaction (growing a full map if s->offline);
 * fn's or LMDB's code. */
int sk_in_write_txn(sk *s, int (*fn)(sk *, store_txn *, sk_out *), sk_out *o);

/* What the store holds now: 0, or -1 (said on stderr). */
int sk_read_state(sk *s, sk_state *k);

/* Make server.pub and server.next.pub match the store: 0, or -1. */
int sk_sync_files(sk *s);

#endif
