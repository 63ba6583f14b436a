/*
 * auditverify.h - verify privd's audit chain on the auditor's side.
 *
 * Pure code (libsodium for BLAKE2b and Ed25519, protobuf-c to read the
 * events): it trusts nothing privd says except what the chain and the
 * checkpoint signatures prove against a signing key the auditor holds.
 *
 * Feed records in order with av_record(), then call av_finish(). The first
 * sequence number that does not verify, and why, end up in the verifier.
 *
 * The signing key can be rotated (`privd audit rotate-key`): the rotation
 * is one event of principal "privd", op "audit_key_rotate", whose fields
 * are "from=HEX" and "to=HEX" (the old and the new Ed25519 public key, 64
 * hex digits each), and a checkpoint at that very event signed by the old
 * key binds the new one through the chain hash. The verifier starts from
 * the key in force at the start of the range and follows each rotation it
 * meets: checkpoints up to and including the rotation's seq are checked
 * against the old key, later ones against the new key.
 */
#ifndef PRIVD_AUDITVERIFY_H
#define PRIVD_AUDITVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AV_HASHBYTES 32
#define AV_SIGBYTES  64
#define AV_PKBYTES   32

/* A signed checkpoint, as privd.v1.AuditCheckpoint carries it. */
typedef struct av_checkpoint {
	uint64_t seq;
	uint64_t time_us;
	uint8_t hash[AV_HASHBYTES];
	uint8_t sig[AV_SIGBYTES];
} av_checkpoint;

typedef struct av_state {
	uint8_t pk[AV_PKBYTES];     /* the key in force at next_seq */
	uint8_t prev[AV_HASHBYTES]; /* hash of the event before next_seq */
	uint64_t next_seq;          /* the seq the next record must have */
	uint64_t last_time;
	const av_checkpoint *ckpts; /* sorted by seq; not owned */
	size_t nckpts, ci;          /* ci: next checkpoint to meet */
	uint64_t checked;           /* events verified */
	size_t ckpts_ok;            /* checkpoints verified */
	size_t rotations;           /* key rotations followed */
	uint64_t bad_seq;           /* first seq that does not verify; 0 */
	char why[160];
} av_state;

/* True if the checkpoint's signature is valid under pk. */
bool av_checkpoint_valid(const av_checkpoint *c, const uint8_t pk[AV_PKBYTES]);

/*
 * Is the event (len bytes, as stored) a rotation of the signing key? 1 if
 * it is one, with the old and the new public key in from and to (either
 * may be NULL) and its seq in *seq (may be NULL); 0 if it is another
 * event; -1 if it does not decode, or is a rotation whose keys are not
 * two well-formed public keys.
 */
int av_key_rotation(const uint8_t *event, size_t len, uint8_t from[AV_PKBYTES],
    uint8_t to[AV_PKBYTES], uint64_t *seq);

/*
 * Start verifying at from_seq (>= 1), whose previous hash is prev (32 zero
 * bytes for seq 1; a verified checkpoint's hash after pruning; else the
 * stored hash of event from_seq - 1). Checkpoints with seq < from_seq are
 * skipped. Checkpoints whose signature does not verify fail at their seq.
 * pk is the signing key in force at from_seq.
 */
void av_init(av_state *v, uint64_t from_seq, const uint8_t prev[AV_HASHBYTES],
    const av_checkpoint *ckpts, size_t nckpts, const uint8_t pk[AV_PKBYTES]);

/*
 * Verify the next record (the event's bytes and its stored hash). Returns 0,
 * or -1 once something does not verify (then and after: v->bad_seq, v->why).
 * *seq_out (may be NULL) receives the event's seq. A rotation of the
 * signing key must start from the key in force and be covered by a
 * checkpoint at its own seq, or it fails there.
 */
int av_record(av_state *v, const uint8_t *event, size_t len,
    const uint8_t *hash, size_t hashlen, uint64_t *seq_out);

/*
 * The next record is one privd marked damaged (it cannot decode it), stored
 * under seq. Verification cannot go past it: if it is the event expected
 * next, it fails at seq as damaged; otherwise an event before it is
 * missing, or it is out of place. Returns -1.
 */
int av_damaged(av_state *v, uint64_t seq);

/*
 * End of the range: the records must have reached last_seq, and every
 * checkpoint given to av_init must have been met (one beyond the last record
 * proves that events are missing), so pass only the checkpoints of the range
 * being verified. Returns 0 if everything verified, -1 otherwise.
 */
int av_finish(av_state *v, uint64_t last_seq);

#endif
