/*
 * backupfmt.c - the backup file's trailer and digest; see backupfmt.h.
 */
#include "backupfmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

void
backup_trailer_encode(const backup_info *bi, uint8_t out[BACKUP_TRAILER_BYTES])
{
	memcpy(out, BACKUP_MAGIC, 8);
	put32(out + 8, BACKUP_FORMAT);
	put32(out + 12, bi->store_format);
	store_be64(out + 16, bi->time_us);
	store_be64(out + 24, bi->image_bytes);
	store_be64(out + 32, bi->journal_head);
	store_be64(out + 40, bi->audit_head);
	memcpy(out + 48, bi->audit_hash, BACKUP_HASHBYTES);
	memcpy(out + BACKUP_DIGEST_AT, bi->digest, BACKUP_HASHBYTES);
}

int
backup_trailer_decode(const uint8_t in[BACKUP_TRAILER_BYTES], backup_info *bi)
{
	if (memcmp(in, BACKUP_MAGIC, 8) != 0 || get32(in + 8) != BACKUP_FORMAT)
		return -1;
	bi->store_format = get32(in + 12);
	bi->time_us = store_get_be64(in + 16);
	bi->image_bytes = store_get_be64(in + 24);
	bi->journal_head = store_get_be64(in + 32);
	bi->audit_head = store_get_be64(in + 40);
	memcpy(bi->audit_hash, in + 48, BACKUP_HASHBYTES);
	memcpy(bi->digest, in + BACKUP_DIGEST_AT, BACKUP_HASHBYTES);
	return 0;
}

static const char digest_domain[] = BACKUP_DIGEST_DOMAIN;

void
backup_digest_init(crypto_generichash_state *h)
{
	crypto_generichash_init(h, NULL, 0, BACKUP_HASHBYTES);
	crypto_generichash_update(
	    h, (const uint8_t *)digest_domain, sizeof(digest_domain));
}

void
backup_digest_update(crypto_generichash_state *h, const void *p, size_t n)
{
	crypto_generichash_update(h, p, n);
}

void
backup_digest_final(crypto_generichash_state *h,
    const uint8_t trailer[BACKUP_TRAILER_BYTES], uint8_t out[BACKUP_HASHBYTES])
{
	crypto_generichash_update(h, trailer, BACKUP_DIGEST_AT);
	crypto_generichash_final(h, out, BACKUP_HASHBYTES);
}

static int
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

int
backup_check_fd(int fd, backup_info *bi, char *err, size_t errlen)
{
	uint8_t tr[BACKUP_TRAILER_BYTES], buf[1 << 16], d[BACKUP_HASHBYTES];
	crypto_generichash_state h;
	struct stat sb;
	uint64_t left;
	off_t at;
	ssize_t n;

	if (fstat(fd, &sb) == -1)
		return fail(err, errlen, strerror(errno));
	if (sb.st_size < BACKUP_TRAILER_BYTES)
		return fail(err, errlen,
		    "not a privd backup (too short to hold its trailer)");
	at = sb.st_size - BACKUP_TRAILER_BYTES;
	if (pread(fd, tr, sizeof(tr), at) != (ssize_t)sizeof(tr))
		return fail(err, errlen, "cannot read the backup's trailer");
	if (backup_trailer_decode(tr, bi) != 0)
		return fail(err, errlen,
		    "not a privd backup, or truncated (no trailer at its end)");
	if (bi->image_bytes != (uint64_t)at)
		return fail(err, errlen,
		    "truncated or damaged backup (its size does not match "
		    "its trailer)");
	backup_digest_init(&h);
	if (lseek(fd, 0, SEEK_SET) == -1)
		return fail(err, errlen, strerror(errno));
	for (left = bi->image_bytes; left > 0; left -= (uint64_t)n) {
		n = read(fd, buf, left < sizeof(buf) ? left : sizeof(buf));
		if (n == -1 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			return fail(err, errlen, "cannot read the backup");
		backup_digest_update(&h, buf, (size_t)n);
	}
	backup_digest_final(&h, tr, d);
	if (sodium_memcmp(d, bi->digest, sizeof(d)) != 0)
		return fail(err, errlen,
		    "damaged backup (its digest does not match its contents)");
	return 0;
}
