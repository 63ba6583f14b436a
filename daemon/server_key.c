/*
 * server_key.c - rotating the server's CURVE key: the next key in the
 * store, its audit events and the key files, for `privd server-key
 * next|rotate|show` (server_key_cmd.c, the command line) and for `privd
 * serve` at start (server_key_at_start, commands.h).
 *
 * DESIGN. privd cannot serve two CURVE keys at once (one ROUTER per
 * endpoint, one key per ROUTER), so it publishes its next key ahead and
 * restarts onto it; clients hold both keys and take whichever completes
 * the handshake (client/serverkey.c). In steps:
 *   - `next` (privd may be serving) makes a key pair, keeps its secret in
 *     meta and writes DIR/server.next.pub; running it again replaces a
 *     next key that was not promoted yet;
 *   - `rotate` (privd stopped: it takes the data directory's lock, as
 *     rekey does) promotes the next key to current in one transaction and
 *     rewrites server.pub; server.next.pub goes.
 *
 * The next secret is sealed under a key derived from the current CURVE
 * secret (BLAKE2b keyed by it), itself sealed under the master key: so it
 * opens with what opens the current key and with nothing else, and it
 * stays openable across a `privd rekey` (which re-seals the current
 * secret and knows nothing of this one) while the old master key opens it
 * no more than it opens the current key. At `rotate` it is sealed under
 * the master key as the current secret is.
 *
 * Running beside privd serve. `next` does not take the lock: it opens the
 * store as a second process (LMDB serialises write transactions across
 * processes, so its one short transaction waits for privd's writer, if
 * at all, and privd's wait for it). What it must not do is append to the
 * audit log: the serving writer keeps the chain's head in memory
 * (writer.c) and would append over it. So an event made while privd runs
 * is queued in meta (META_EVENTS) and written to the log, with the time
 * the key was made in a field, by the next thing that holds the lock:
 * `privd serve` at start, before the writer reads the head, or `rotate`,
 * before its own event. With privd stopped, `next` takes the lock and
 * writes its event at once. If privd grew the map meanwhile, the first
 * transaction says STORE_MAP_RESIZED and is begun again on the new size;
 * `next` never grows the map itself (privd's writer owns that).
 *
 * The transaction checks that the master key it loaded still opens the
 * current CURVE secret, so a `privd rekey` that committed while `next`
 * waited makes `next` fail (run it again) rather than store a key sealed
 * under a retired one. Do not run `next` during `privd restore`, which
 * replaces the store's file under it.
 *
 * The files (server.pub, server.next.pub) follow the store: each command
 * rewrites them from what it committed, and privd serve at start from the
 * store, so an interruption between the commit and the files heals.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "audit.h"
#include "clock.h"
#include "commands.h"
#include "datadir.h"
#include "log.h"
#include "server_key.h"

#define ST(x) PRIVD__V1__STATUS__##x

/* The current public key beside its sealed secret (main.c's init). */
#define META_CURRENT_PUBLIC "curve_public"
/* The next key: public key, and secret sealed as the DESIGN says. */
#define META_NEXT_PUBLIC "curve_next_public"
#define META_NEXT_SECRET "curve_next_secret"
/* Audit events waiting for the log (made while privd served). */
#define META_EVENTS "server_key_events"

#define OP_NEXT   "server_key_next"
#define OP_ROTATE "server_key_rotate"

#define WRAP_LABEL "privd server key next v1"
#define SEALED_NEXT                                                            \
	(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + SK_KEYLEN +            \
	    crypto_aead_xchacha20poly1305_ietf_ABYTES)

/* A queued event: kind(1) time_us(8, big-endian) current(32) next(32)
 * replaced(32, zeros: none). */
#define EV_NEXT  1
#define EV_BYTES (1 + 8 + 3 * SK_KEYLEN)
#define GROW_MAX 8 /* map growths of an offline transaction */

static const uint8_t zero_key[SK_KEYLEN];

void
sk_z85(char out[SK_Z85LEN + 1], const uint8_t key[SK_KEYLEN])
{
	zmq_z85_encode(out, key, SK_KEYLEN);
}

/*
 * Begin a transaction on a store another process (privd serve) may be
 * growing: its growth shows here as STORE_MAP_RESIZED, after which the
 * environment takes the new size and the transaction is begun again.
 */
static int
txn_begin(store *st, unsigned flags, store_txn **txn)
{
	int rc = store_txn_begin(st, flags, txn);

	if (rc == STORE_MAP_RESIZED && (rc = store_map_adopt(st)) == 0)
		rc = store_txn_begin(st, flags, txn);
	return rc;
}

/*
 * Open the data directory beside a privd that may be serving it: the map
 * is taken at the size the store's meta page records (privd's, or
 * smaller while a growth of privd's is not committed yet), never the
 * default this process would ask for. A larger map here would let this
 * process's commit place pages beyond privd's map, and privd, which
 * expects to be the only writer, would then meet STORE_MAP_RESIZED.
 */
int
sk_open_beside(sk *s)
{
	int rc;

	if (datadir_open(s->dir, STORE_MIN_MAPSIZE, &s->keys, &s->st) != 0)
		return -1;
	if ((rc = store_map_adopt(s->st)) != 0) {
		log_err("cannot size the store's map: %s", store_strerror(rc));
		return -1;
	}
	return 0;
}

/* The wrapping key of the next secret, BLAKE2b keyed by the current
 * secret (see the DESIGN above), into secure memory; and the data its
 * seal binds: both public keys. NULL if out of memory. */
static uint8_t *
wrap_key(const uint8_t *cur_sec, const uint8_t *next_pub,
    const uint8_t *cur_pub, uint8_t ad[2 * SK_KEYLEN])
{
	uint8_t *wk;

	if ((wk = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES)) ==
	    NULL)
		return NULL;
	crypto_generichash(wk, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
	    (const uint8_t *)WRAP_LABEL, sizeof(WRAP_LABEL) - 1, cur_sec,
	    SK_KEYLEN);
	memcpy(ad, next_pub, SK_KEYLEN);
	memcpy(ad + SK_KEYLEN, cur_pub, SK_KEYLEN);
	return wk;
}

/* Seal next_sec into out (SEALED_NEXT bytes), bound to both public keys. */
static int
next_seal(uint8_t *out, const uint8_t *next_sec, const uint8_t *next_pub,
    const uint8_t *cur_sec, const uint8_t *cur_pub)
{
	uint8_t ad[2 * SK_KEYLEN], *wk;

	if ((wk = wrap_key(cur_sec, next_pub, cur_pub, ad)) == NULL)
		return ENOMEM;
	randombytes_buf(out, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
	    out + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, NULL, next_sec,
	    SK_KEYLEN, ad, sizeof(ad), NULL, out, wk);
	sodium_free(wk);
	return 0;
}

/* Open the sealed next secret into next_sec: 0, or -1 if it does not open
 * (or does not belong to next_pub). */
static int
next_open(uint8_t *next_sec, const uint8_t *sealed, size_t len,
    const uint8_t *next_pub, const uint8_t *cur_sec, const uint8_t *cur_pub)
{
	uint8_t ad[2 * SK_KEYLEN], *wk, pub[SK_KEYLEN];
	int rc;

	if (len != SEALED_NEXT ||
	    (wk = wrap_key(cur_sec, next_pub, cur_pub, ad)) == NULL)
		return -1;
	rc = crypto_aead_xchacha20poly1305_ietf_decrypt(next_sec, NULL, NULL,
	    sealed + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
	    len - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, ad, sizeof(ad),
	    sealed, wk);
	sodium_free(wk);
	if (rc != 0)
		return -1;
	crypto_scalarmult_base(pub, next_sec);
	return sodium_memcmp(pub, next_pub, SK_KEYLEN) == 0 ? 0 : -1;
}

/* The current secret (into cur_sec, secure memory) and public key; -1 if
 * the master key does not open it. */
static int
current_key(sk *s, store_txn *txn, uint8_t *cur_sec, uint8_t cur_pub[SK_KEYLEN])
{
	if (datadir_secret(s->st, txn, s->keys, META_CURVE_SECRET, cur_sec,
	        crypto_box_SECRETKEYBYTES) != 0)
		return -1;
	crypto_scalarmult_base(cur_pub, cur_sec);
	return 0;
}

/* The next public key into pub: 0, STORE_NOTFOUND, or an error. */
static int
next_public(sk *s, store_txn *txn, uint8_t pub[SK_KEYLEN])
{
	store_val v;
	int rc;

	if ((rc = store_meta_get(s->st, txn, META_NEXT_PUBLIC, &v)) != 0)
		return rc;
	if (v.size != SK_KEYLEN)
		return STORE_CORRUPTED;
	memcpy(pub, v.data, SK_KEYLEN);
	return 0;
}

/* A field "name=<z85 of key>" into buf. */
static char *
key_field(char *buf, size_t len, const char *name, const uint8_t *key)
{
	char z[SK_Z85LEN + 1];

	sk_z85(z, key);
	snprintf(buf, len, "%s=%s", name, z);
	return buf;
}

/* Append one event of principal privd with the given fields. */
static int
append(sk *s, store_txn *txn, audit_state *a, const char *op, char **fields,
    size_t n)
{
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	store_policy sp;

	ev.principal = AUDIT_KEY_PRINCIPAL;
	ev.op = (char *)op;
	ev.fields = fields;
	ev.n_fields = n;
	ev.status = ST(OK);
	if (store_policy_latest(s->st, txn, &sp) == 0)
		ev.policy_version = sp.version;
	return audit_append_event(s->st, txn, a, &ev, clock_wall_us());
}

/* The event of a next key: current=, next=, replaced= (if it replaced
 * one) and, for an event written after the fact, made= (UTC). */
static int
append_next(sk *s, store_txn *txn, audit_state *a, const uint8_t *cur,
    const uint8_t *next, const uint8_t *replaced, uint64_t made_us)
{
	char f[4][64], *fields[4];
	size_t n = 0;
	time_t t;
	struct tm tm;

	fields[n] = key_field(f[n], sizeof(f[n]), "current", cur);
	n++;
	fields[n] = key_field(f[n], sizeof(f[n]), "next", next);
	n++;
	if (sodium_memcmp(replaced, zero_key, SK_KEYLEN) != 0) {
		fields[n] = key_field(f[n], sizeof(f[n]), "replaced", replaced);
		n++;
	}
	if (made_us != 0) {
		t = (time_t)(made_us / 1000000);
		gmtime_r(&t, &tm);
		strftime(f[n], sizeof(f[n]), "made=%Y-%m-%dT%H:%M:%SZ", &tm);
		fields[n] = f[n];
		n++;
	}
	return append(s, txn, a, OP_NEXT, fields, n);
}

/*
 * Write the queued events to the log (the caller holds the lock) and
 * drop the queue; *n receives how many there were.
 */
static int
flush_events(sk *s, store_txn *txn, audit_state *a, size_t *n)
{
	const uint8_t *r;
	store_val v;
	size_t i;
	int rc;

	*n = 0;
	if ((rc = store_meta_get(s->st, txn, META_EVENTS, &v)) ==
	    STORE_NOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if (v.size % EV_BYTES != 0)
		return STORE_CORRUPTED;
	for (i = 0; i < v.size / EV_BYTES; i++) {
		r = (const uint8_t *)v.data + i * EV_BYTES;
		if (r[0] != EV_NEXT)
			return STORE_CORRUPTED;
		if ((rc = append_next(s, txn, a, r + 9, r + 9 + SK_KEYLEN,
		         r + 9 + 2 * SK_KEYLEN, store_get_be64(r + 1))) != 0)
			return rc;
	}
	*n = i;
	return store_meta_del(s->st, txn, META_EVENTS);
}

/* Queue the event of a next key for the log (privd serves). */
static int
queue_event(sk *s, store_txn *txn, const sk_out *o)
{
	uint8_t *buf, *r;
	store_val v = {0, NULL};
	int rc;

	rc = store_meta_get(s->st, txn, META_EVENTS, &v);
	if (rc != 0 && rc != STORE_NOTFOUND)
		return rc;
	if (rc == STORE_NOTFOUND)
		v.size = 0;
	if (v.size % EV_BYTES != 0)
		return STORE_CORRUPTED;
	if (v.size / EV_BYTES >= SK_EV_MAX)
		return EOVERFLOW;
	if ((buf = malloc(v.size + EV_BYTES)) == NULL)
		return ENOMEM;
	if (v.size > 0)
		memcpy(buf, v.data, v.size);
	r = buf + v.size;
	r[0] = EV_NEXT;
	store_be64(r + 1, clock_wall_us());
	memcpy(r + 9, o->current, SK_KEYLEN);
	memcpy(r + 9 + SK_KEYLEN, o->next, SK_KEYLEN);
	memcpy(r + 9 + 2 * SK_KEYLEN, o->replaced, SK_KEYLEN);
	rc = store_meta_put(s->st, txn, META_EVENTS, buf, v.size + EV_BYTES);
	free(buf);
	return rc;
}

/* Sign the head with the audit signing key (an offline command's last
 * word, as rekey's). */
static int
sign_head(sk *s, store_txn *txn, audit_state *a)
{
	uint8_t *sign_sk;
	int rc;

	if ((sign_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return ENOMEM;
	if (datadir_secret(s->st, txn, s->keys, META_SIGN_SECRET, sign_sk,
	        crypto_sign_SECRETKEYBYTES) != 0)
		rc = STORE_CORRUPTED;
	else
		rc = audit_checkpoint(s->st, txn, a, sign_sk);
	sodium_free(sign_sk);
	return rc;
}

/*
 * `next` in the write transaction txn: a new key pair, its secret sealed,
 * and its event either in the log (offline) or queued.
 */
int
sk_next_txn(sk *s, store_txn *txn, sk_out *o)
{
	uint8_t sealed[SEALED_NEXT], *cur_sec, *next_sec;
	audit_state a;
	int rc;

	memset(o, 0, sizeof(*o));
	cur_sec = sodium_malloc(SK_KEYLEN);
	next_sec = sodium_malloc(SK_KEYLEN);
	if (cur_sec == NULL || next_sec == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if (current_key(s, txn, cur_sec, o->current) != 0) {
		rc = -1;
		goto out;
	}
	rc = next_public(s, txn, o->replaced);
	if (rc != 0 && rc != STORE_NOTFOUND)
		goto out;
	o->had_next = rc == 0;
	crypto_box_keypair(o->next, next_sec);
	if ((rc = next_seal(sealed, next_sec, o->next, cur_sec, o->current)) !=
	        0 ||
	    (rc = store_meta_put(
	         s->st, txn, META_NEXT_SECRET, sealed, sizeof(sealed))) != 0 ||
	    (rc = store_meta_put(
	         s->st, txn, META_NEXT_PUBLIC, o->next, SK_KEYLEN)) != 0)
		goto out;
	if (!s->offline) {
		o->queued = true;
		rc = queue_event(s, txn, o);
		goto out;
	}
	if ((rc = audit_load(s->st, txn, &a)) != 0 ||
	    (rc = flush_events(s, txn, &a, &o->flushed)) != 0 ||
	    (rc = append_next(
	         s, txn, &a, o->current, o->next, o->replaced, 0)) != 0)
		goto out;
	rc = sign_head(s, txn, &a);
out:
	sodium_free(cur_sec);
	sodium_free(next_sec);
	return rc;
}

/*
 * `rotate` in the write transaction txn (offline): the queued events, the
 * next secret sealed under the master key as the current one, the next
 * key's meta gone, the rotation's event, a checkpoint.
 */
int
sk_rotate_txn(sk *s, store_txn *txn, sk_out *o)
{
	uint8_t sealed[SK_KEYLEN + CRYPTO_SEAL_OVERHEAD], *cur_sec, *next_sec;
	char f[2][64], *fields[2];
	audit_state a;
	store_val v;
	int rc;

	memset(o, 0, sizeof(*o));
	cur_sec = sodium_malloc(SK_KEYLEN);
	next_sec = sodium_malloc(SK_KEYLEN);
	if (cur_sec == NULL || next_sec == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if ((rc = audit_load(s->st, txn, &a)) != 0 ||
	    (rc = flush_events(s, txn, &a, &o->flushed)) != 0)
		goto out;
	if (current_key(s, txn, cur_sec, o->current) != 0) {
		rc = -1;
		goto out;
	}
	if ((rc = next_public(s, txn, o->next)) == STORE_NOTFOUND) {
		rc = SK_NONEXT;
		goto out;
	}
	if (rc != 0 ||
	    (rc = store_meta_get(s->st, txn, META_NEXT_SECRET, &v)) != 0)
		goto out;
	if (next_open(next_sec, v.data, v.size, o->next, cur_sec, o->current) !=
	    0) {
		rc = STORE_CORRUPTED;
		goto out;
	}
	o->had_next = true;
	crypto_secret_seal(
	    s->keys, META_CURVE_SECRET, next_sec, SK_KEYLEN, sealed);
	fields[0] = key_field(f[0], sizeof(f[0]), "from", o->current);
	fields[1] = key_field(f[1], sizeof(f[1]), "to", o->next);
	if ((rc = store_meta_put(
	         s->st, txn, META_CURVE_SECRET, sealed, sizeof(sealed))) != 0 ||
	    (rc = store_meta_put(
	         s->st, txn, META_CURRENT_PUBLIC, o->next, SK_KEYLEN)) != 0 ||
	    (rc = store_meta_del(s->st, txn, META_NEXT_SECRET)) != 0 ||
	    (rc = store_meta_del(s->st, txn, META_NEXT_PUBLIC)) != 0 ||
	    (rc = append(s, txn, &a, OP_ROTATE, fields, 2)) != 0)
		goto out;
	rc = sign_head(s, txn, &a);
out:
	sodium_free(cur_sec);
	sodium_free(next_sec);
	return rc;
}

/*
 * Run fn in one write transaction; offline, a full map is grown and the
 * transaction run again (nothing else has one open). Returns fn's or
 * LMDB's code.
 */
int
sk_in_write_txn(sk *s, int (*fn)(sk *, store_txn *, sk_out *), sk_out *o)
{
	store_txn *txn;
	int rc, tries;

	for (tries = 0;; tries++) {
		if ((rc = txn_begin(s->st, 0, &txn)) != 0)
			return rc;
		if ((rc = fn(s, txn, o)) == 0)
			rc = store_txn_commit(txn);
		else
			store_txn_abort(txn);
		if (rc == STORE_MAP_FULL && s->offline && tries < GROW_MAX &&
		    store_grow(s->st) == 0)
			continue;
		return rc;
	}
}

/* Write a key file (the Z85 key and a newline) through a temporary file
 * renamed over it, so a reader never sees half a key. */
static int
write_key_file(const char *dir, const char *name, const uint8_t *key)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], line[SK_Z85LEN + 2];
	int fd, ok;

	sk_z85(line, key);
	line[SK_Z85LEN] = '\n';
	if (datadir_path(path, sizeof(path), dir, name) != 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) <
	    0) {
		log_err("cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	ok = write(fd, line, SK_Z85LEN + 1) == SK_Z85LEN + 1 && fsync(fd) == 0;
	if (close(fd) != 0 || !ok || rename(tmp, path) != 0) {
		log_err("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* What the store holds now (server_key.h). */
int
sk_read_state(sk *s, sk_state *k)
{
	store_txn *txn;
	store_val v;
	int rc;

	if ((rc = txn_begin(s->st, STORE_RDONLY, &txn)) != 0) {
		log_err("cannot read the store: %s", store_strerror(rc));
		return -1;
	}
	if ((rc = store_meta_get(s->st, txn, META_CURRENT_PUBLIC, &v)) == 0 &&
	    v.size == SK_KEYLEN)
		memcpy(k->cur, v.data, SK_KEYLEN);
	else
		rc = -1;
	k->have_next = next_public(s, txn, k->next) == 0;
	k->queued = store_meta_get(s->st, txn, META_EVENTS, &v) == 0
	                ? v.size / EV_BYTES
	                : 0;
	store_txn_abort(txn);
	if (rc != 0)
		log_err("the store holds no server key (damaged store)");
	return rc != 0 ? -1 : 0;
}

/* Make server.pub and server.next.pub say what the store holds now: the
 * current key, and the next one or no file. */
int
sk_sync_files(sk *s)
{
	char path[PATH_MAX];
	sk_state k;

	if (sk_read_state(s, &k) != 0 ||
	    write_key_file(s->dir, SK_FILE_CURRENT, k.cur) != 0 ||
	    (k.have_next && write_key_file(s->dir, SK_FILE_NEXT, k.next) != 0))
		return -1;
	if (!k.have_next &&
	    (datadir_path(path, sizeof(path), s->dir, SK_FILE_NEXT) != 0 ||
	        (unlink(path) != 0 && errno != ENOENT))) {
		log_err("cannot remove %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int
server_key_at_start(store *st, crypto_keys *keys, const char *dir)
{
	sk s = {.dir = dir, .st = st, .keys = keys, .lockfd = -1};
	store_txn *txn;
	store_val v;
	audit_state a;
	size_t n = 0;
	uint8_t next[SK_KEYLEN];
	int rc, have_next;

	s.offline = true; /* serve holds the lock; its writer is not up yet */
	if ((rc = txn_begin(st, 0, &txn)) != 0)
		goto fail;
	if ((rc = store_meta_get(st, txn, META_EVENTS, &v)) == 0 &&
	    ((rc = audit_load(st, txn, &a)) != 0 ||
	        (rc = flush_events(&s, txn, &a, &n)) != 0 ||
	        (rc = sign_head(&s, txn, &a)) != 0)) {
		store_txn_abort(txn);
		goto fail;
	}
	if (rc != 0 && rc != STORE_NOTFOUND) {
		store_txn_abort(txn);
		goto fail;
	}
	have_next = next_public(&s, txn, next) == 0;
	if (n == 0)
		store_txn_abort(txn);
	else if ((rc = store_txn_commit(txn)) != 0)
		goto fail;
	if (n > 0)
		log_info("server key: %zu event(s) of next keys made while "
		         "privd ran written to the audit log",
		    n);
	if (have_next)
		log_info("server key: a next key is ready (privd server-key "
		         "show); privd serves the current one until `privd "
		         "server-key rotate`");
	if (sk_sync_files(&s) != 0)
		log_warn("server key: %s or %s does not match the store",
		    SK_FILE_CURRENT, SK_FILE_NEXT);
	return 0;
fail:
	log_err("server key: cannot write the queued audit events: %s",
	    rc == STORE_CORRUPTED ? "damaged store" : store_strerror(rc));
	return -1;
}
