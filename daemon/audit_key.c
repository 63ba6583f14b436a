/*
 * audit_key.c - rotating the audit signing key; see audit.h.
 *
 * The rotation is one write transaction: a new Ed25519 key pair, one audit
 * event naming the old and the new public key, a checkpoint at that event
 * signed by the old key, and the new secret key sealed in meta in place of
 * the old one. The old key's last signature thus binds the new key through
 * the chain hash, and an auditor who pinned the first key follows every
 * rotation from it (client/auditverify.c). Nothing else signs in between:
 * the transaction either did all of it or none.
 *
 * It runs with privd stopped (`privd audit rotate-key`, daemon/rekey.c's
 * command), because the running writer holds the signing key and this
 * command takes the data directory's lock; clients reconnect when privd
 * starts again with the new key (README: the switch-over is the restart).
 */
#include <errno.h>
#include <string.h>

#include "audit.h"
#include "datadir.h"

#define ST(x) PRIVD__V1__STATUS__##x

/* The public key beside the sealed secret (main.c writes it at init). */
#define META_SIGN_PUBLIC_NAME "audit_sign_public"

int
audit_key_rotate(store *st, store_txn *txn, const crypto_keys *keys,
    const uint8_t *old_sk, uint64_t now, uint8_t new_pk[32], uint64_t *seq)
{
	Privd__V1__AuditEvent ev = PRIVD__V1__AUDIT_EVENT__INIT;
	uint8_t old_pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sealed[crypto_sign_SECRETKEYBYTES + CRYPTO_SEAL_OVERHEAD];
	char from[sizeof(AUDIT_KEY_FROM) + 64], to[sizeof(AUDIT_KEY_TO) + 64];
	char *fields[2] = {from, to};
	store_policy sp;
	audit_state a;
	uint8_t *new_sk;
	int rc;

	if ((new_sk = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return ENOMEM;
	crypto_sign_keypair(new_pk, new_sk);
	crypto_sign_ed25519_sk_to_pk(old_pk, old_sk);
	memcpy(from, AUDIT_KEY_FROM, sizeof(AUDIT_KEY_FROM) - 1);
	sodium_bin2hex(
	    from + sizeof(AUDIT_KEY_FROM) - 1, 65, old_pk, sizeof(old_pk));
	memcpy(to, AUDIT_KEY_TO, sizeof(AUDIT_KEY_TO) - 1);
	sodium_bin2hex(to + sizeof(AUDIT_KEY_TO) - 1, 65, new_pk, 32);
	ev.principal = AUDIT_KEY_PRINCIPAL;
	ev.op = AUDIT_OP_KEY_ROTATE;
	ev.fields = fields;
	ev.n_fields = 2;
	ev.status = ST(OK);
	if (store_policy_latest(st, txn, &sp) == 0)
		ev.policy_version = sp.version;
	/* the event, then the old key's last signature over it */
	if ((rc = audit_load(st, txn, &a)) != 0 ||
	    (rc = audit_append_event(st, txn, &a, &ev, now)) != 0 ||
	    (rc = audit_checkpoint(st, txn, &a, old_sk)) != 0)
		goto out;
	crypto_secret_seal(
	    keys, META_SIGN_SECRET, new_sk, crypto_sign_SECRETKEYBYTES, sealed);
	if ((rc = store_meta_put(
	         st, txn, META_SIGN_SECRET, sealed, sizeof(sealed))) != 0 ||
	    (rc = store_meta_put(st, txn, META_SIGN_PUBLIC_NAME, new_pk, 32)) !=
	        0)
		goto out;
	*seq = a.seq;
out:
	sodium_free(new_sk);
	return rc;
}
