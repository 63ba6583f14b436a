/*
 * auditverify.h - verify privd's audit chain on the auditor's side.
 *
 * Pure code (libsodium for BLAKE2b and Ed25519, protobuf-c to read the
 * events): it trusts nothing privd says except what the chain and the
 * checkpoint signatures prove against a signing key the auditor holds.
 *
 * Feed records in order with av_record(), then call av_finish(). The first
 * sequence number that does not verify, and why, end up in the verifier.
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
	uint8_t pk[AV_PKBYTES];
	uint8_t prev[AV_HASHBYTES]; /* hash of the event before next_seq */
	uint64_t next_seq;          /* the seq the next record must have */
	uint64_t last_time;
	const av_checkpoint *ckpts; /* sorted by seq; not owned */
	size_t nckpts, ci;          /* ci: next checkpoint to meet */
	uint64_t checked;           /* events verified */
	size_t ckpts_ok;            /* checkpoints verified */
	uint64_t bad_seq;           /* first seq that does not verify; 0 */
	char why[160];
} av_state;

/* True if the checkpoint's signature is valid under pk. */
bool av_checkpoint_valid(const av_checkpoint *c, const uint8_t pk[AV_PKBYTES]);

/*
 * Start verifying at from_seq (>= 1), whose previous hash is prev (32 zero
 * bytes for seq 1; a verified checkpoint's hash after pruning; else the
 * stored hash of event from_seq - 1). Checkpoints with seq < from_seq are
 * skipped. Checkpoints whose signature does not verify fail at their seq.
 */
void av_init(av_state *v, uint64_t from_seq, const uint8_t prev[AV_HASHBYTES],
    const av_checkpoint *ckpts, size_t nckpts, const uint8_t pk[AV_PKBYTES]);

/*
 * Verify the next record (the event's bytes and its stored hash). Returns 0,
 * or -1 once something does not verify (then and after: v->bad_seq, v->why).
 * *seq_out (may be NULL) receives the event's seq.
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
