/*
 * backupfmt.h - the file format of a privd backup (issue 10, README
 * "Backup and restore").
 *
 * A backup is the compacted LMDB image of the store (what
 * mdb_env_copyfd2(MDB_CP_COMPACT) writes: values still sealed, the
 * master key never in it, only the daemon keys wrapped under it),
 * followed by a fixed trailer:
 *
 *   0   magic "PRIVDBK1"
 *   8   u32 backup format (1)
 *   12  u32 store format (STORE_FORMAT of the image)
 *   16  u64 time_us        when the copy's snapshot was taken
 *   24  u64 image_bytes    length of the image before the trailer
 *   32  u64 journal_head   last erasure journal seq in the image (0: none)
 *   40  u64 audit_head     last audit seq in the image
 *   48  32  audit_hash     the chain hash after audit_head
 *   80  32  digest         BLAKE2b-256(BACKUP_DIGEST_DOMAIN and its NUL ||
 *                          image || trailer bytes 0..80)
 *
 * Integers are big-endian. The digest catches a truncated or damaged file
 * before anything is replaced; it is not a signature (a backup is as
 * trusted as the place it is kept; its contents authenticate under the
 * master key when restored).
 */
#ifndef PRIVD_BACKUPFMT_H
#define PRIVD_BACKUPFMT_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_MAGIC         "PRIVDBK1"
#define BACKUP_FORMAT        1
#define BACKUP_TRAILER_BYTES 112
#define BACKUP_DIGEST_AT     80
#define BACKUP_HASHBYTES     32
/* The digest's domain, hashed first (with its NUL). */
#define BACKUP_DIGEST_DOMAIN "privd-backup-v1"

typedef struct backup_info {
	uint32_t store_format;
	uint64_t time_us;
	uint64_t image_bytes;
	uint64_t journal_head;
	uint64_t audit_head;
	uint8_t audit_hash[BACKUP_HASHBYTES];
	uint8_t digest[BACKUP_HASHBYTES];
} backup_info;

/* The trailer of bi (digest as it is in bi). */
void backup_trailer_encode(
    const backup_info *bi, uint8_t out[BACKUP_TRAILER_BYTES]);
/* Decode a trailer: 0, or -1 if it is not one of this format. */
int backup_trailer_decode(
    const uint8_t in[BACKUP_TRAILER_BYTES], backup_info *bi);

/* The digest, streamed: init, then the image's bytes in order, then final
 * with the trailer (its first BACKUP_DIGEST_AT bytes are hashed). */
void backup_digest_init(crypto_generichash_state *h);
void backup_digest_update(crypto_generichash_state *h, const void *p, size_t n);
void backup_digest_final(crypto_generichash_state *h,
    const uint8_t trailer[BACKUP_TRAILER_BYTES], uint8_t out[BACKUP_HASHBYTES]);

/*
 * Check the backup file open on fd from its start: its size matches its
 * trailer and its digest matches its bytes. 0 with *bi, or -1 with a
 * message for the operator in err ("truncated", "not a privd backup",
 * "damaged").
 */
int backup_check_fd(int fd, backup_info *bi, char *err, size_t errlen);

#endif
