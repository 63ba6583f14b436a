/*
 * auditverify.c - the auditor's side of the audit chain; see auditverify.h.
 *
 * The chain: hash(n) = BLAKE2b-256(hash(n-1) || event(n)), hash(0) = zeros.
 * A checkpoint signs (seq, hash(seq), time) with privd's Ed25519 key; a
 * rotation event hands signing over to a new key (auditverify.h).
 */
#include "auditverify.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "privd.pb-c.h"

static const char ckpt_domain[25] = "privd-audit-checkpoint-v1";

/* The rotation event, as daemon/audit_key.c writes it (audit.h). */
#define ROTATE_PRINCIPAL "privd"
#define ROTATE_OP        "audit_key_rotate"
#define ROTATE_FROM      "from="
#define ROTATE_TO        "to="

static void
be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static int fail(av_state *v, uint64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(av_state *v, uint64_t seq, const char *fmt, ...)
{
	va_list ap;

	if (v->bad_seq != 0)
		return -1;
	v->bad_seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->why, sizeof(v->why), fmt, ap);
	va_end(ap);
	return -1;
}

bool
av_checkpoint_valid(const av_checkpoint *c, const uint8_t pk[AV_PKBYTES])
{
	uint8_t msg[sizeof(ckpt_domain) + 8 + AV_HASHBYTES + 8];

	memcpy(msg, ckpt_domain, sizeof(ckpt_domain));
	be64(msg + 25, c->seq);
	memcpy(msg + 33, c->hash, AV_HASHBYTES);
	be64(msg + 33 + AV_HASHBYTES, c->time_us);
	return crypto_sign_verify_detached(c->sig, msg, sizeof(msg), pk) == 0;
}

/* "PREFIX" followed by exactly 64 hex digits, into pk. */
static int
key_field(const char *f, const char *prefix, uint8_t pk[AV_PKBYTES])
{
	size_t plen = strlen(prefix), n;

	if (strncmp(f, prefix, plen) != 0 || strlen(f + plen) != 2 * AV_PKBYTES)
		return -1;
	return sodium_hex2bin(pk, AV_PKBYTES, f + plen, 2 * AV_PKBYTES, NULL,
	           &n, NULL) == 0 &&
	               n == AV_PKBYTES
	           ? 0
	           : -1;
}

/* The rotation test on a decoded event; see av_key_rotation(). */
static int
rotation_of(const Privd__V1__AuditEvent *ev, uint8_t from[AV_PKBYTES],
    uint8_t to[AV_PKBYTES])
{
	if (ev->op == NULL || strcmp(ev->op, ROTATE_OP) != 0 ||
	    ev->principal == NULL ||
	    strcmp(ev->principal, ROTATE_PRINCIPAL) != 0)
		return 0;
	if (ev->n_fields != 2 || key_field(ev->fields[0], ROTATE_FROM, from) ||
	    key_field(ev->fields[1], ROTATE_TO, to))
		return -1;
	return 1;
}

int
av_key_rotation(const uint8_t *event, size_t len, uint8_t from[AV_PKBYTES],
    uint8_t to[AV_PKBYTES], uint64_t *seq)
{
	Privd__V1__AuditEvent *ev;
	uint8_t f[AV_PKBYTES], t[AV_PKBYTES];
	int rc;

	if ((ev = privd__v1__audit_event__unpack(NULL, len, event)) == NULL)
		return -1;
	if (seq != NULL)
		*seq = ev->seq;
	rc = rotation_of(ev, f, t);
	privd__v1__audit_event__free_unpacked(ev, NULL);
	if (rc == 1 && from != NULL)
		memcpy(from, f, AV_PKBYTES);
	if (rc == 1 && to != NULL)
		memcpy(to, t, AV_PKBYTES);
	return rc;
}

void
av_init(av_state *v, uint64_t from_seq, const uint8_t prev[AV_HASHBYTES],
    const av_checkpoint *ckpts, size_t nckpts, const uint8_t pk[AV_PKBYTES])
{
	memset(v, 0, sizeof(*v));
	memcpy(v->pk, pk, AV_PKBYTES);
	memcpy(v->prev, prev, AV_HASHBYTES);
	v->next_seq = from_seq;
	v->ckpts = ckpts;
	v->nckpts = nckpts;
	while (v->ci < nckpts && ckpts[v->ci].seq < from_seq)
		v->ci++;
}

int
av_record(av_state *v, const uint8_t *event, size_t len, const uint8_t *hash,
    size_t hashlen, uint64_t *seq_out)
{
	Privd__V1__AuditEvent *ev;
	uint8_t h[AV_HASHBYTES];
	crypto_generichash_state st;
	uint8_t from[AV_PKBYTES], to[AV_PKBYTES];
	const av_checkpoint *c;
	uint64_t seq, t;
	size_t signed_here = 0;
	int rot;

	if (v->bad_seq != 0)
		return -1;
	if ((ev = privd__v1__audit_event__unpack(NULL, len, event)) == NULL)
		return fail(v, v->next_seq, "event %llu does not decode",
		    (unsigned long long)v->next_seq);
	seq = ev->seq;
	t = ev->time_us;
	rot = rotation_of(ev, from, to);
	privd__v1__audit_event__free_unpacked(ev, NULL);
	if (seq_out != NULL)
		*seq_out = seq;
	if (seq > v->next_seq)
		return fail(v, v->next_seq, "event %llu is missing",
		    (unsigned long long)v->next_seq);
	if (seq < v->next_seq)
		return fail(v, v->next_seq,
		    "event %llu is out of place (found event %llu there)",
		    (unsigned long long)v->next_seq, (unsigned long long)seq);
	if (t < v->last_time)
		return fail(v, seq, "event %llu goes back in time",
		    (unsigned long long)seq);
	crypto_generichash_init(&st, NULL, 0, AV_HASHBYTES);
	crypto_generichash_update(&st, v->prev, AV_HASHBYTES);
	crypto_generichash_update(&st, event, len);
	crypto_generichash_final(&st, h, AV_HASHBYTES);
	if (hashlen != AV_HASHBYTES || sodium_memcmp(h, hash, AV_HASHBYTES))
		return fail(v, seq,
		    "event %llu does not match its chain hash (changed, or "
		    "an event before it was)",
		    (unsigned long long)seq);
	if (rot < 0)
		return fail(v, seq,
		    "event %llu rotates the signing key, but its keys are not "
		    "well-formed",
		    (unsigned long long)seq);
	if (rot > 0 && sodium_memcmp(from, v->pk, AV_PKBYTES) != 0)
		return fail(v, seq,
		    "the key rotation at event %llu starts from another key "
		    "than the one in force (pin the key in force at the start "
		    "of the range)",
		    (unsigned long long)seq);
	while (v->ci < v->nckpts && v->ckpts[v->ci].seq == seq) {
		c = &v->ckpts[v->ci++];
		if (!av_checkpoint_valid(c, v->pk))
			return fail(v, seq,
			    "checkpoint at event %llu has an invalid signature",
			    (unsigned long long)seq);
		if (sodium_memcmp(c->hash, h, AV_HASHBYTES) != 0)
			return fail(v, seq,
			    "the chain at event %llu differs from its signed "
			    "checkpoint",
			    (unsigned long long)seq);
		v->ckpts_ok++;
		signed_here++;
	}
	if (rot > 0) {
		/* the old key vouches for the new one, or nobody does */
		if (signed_here == 0)
			return fail(v, seq,
			    "the key rotation at event %llu has no checkpoint "
			    "signed by the key it replaces",
			    (unsigned long long)seq);
		memcpy(v->pk, to, AV_PKBYTES);
		v->rotations++;
	}
	if (v->ci < v->nckpts && v->ckpts[v->ci].seq < seq)
		return fail(v, v->ckpts[v->ci].seq,
		    "checkpoint at event %llu names an event that is not there",
		    (unsigned long long)v->ckpts[v->ci].seq);
	memcpy(v->prev, h, AV_HASHBYTES);
	v->last_time = t;
	v->next_seq = seq + 1;
	v->checked++;
	return 0;
}

int
av_damaged(av_state *v, uint64_t seq)
{
	if (v->bad_seq != 0)
		return -1;
	if (seq > v->next_seq)
		return fail(v, v->next_seq, "event %llu is missing",
		    (unsigned long long)v->next_seq);
	if (seq < v->next_seq)
		return fail(v, v->next_seq,
		    "event %llu is out of place (found event %llu there)",
		    (unsigned long long)v->next_seq, (unsigned long long)seq);
	return fail(v, seq, "event %llu is damaged (it cannot be decoded)",
	    (unsigned long long)seq);
}

int
av_finish(av_state *v, uint64_t last_seq)
{
	if (v->bad_seq != 0)
		return -1;
	if (v->next_seq <= last_seq)
		return fail(v, v->next_seq, "event %llu is missing",
		    (unsigned long long)v->next_seq);
	/* A signed checkpoint past the last record proves events that are
	 * not there: callers pass only the checkpoints of the range. */
	if (v->ci < v->nckpts)
		return fail(v, v->ckpts[v->ci].seq,
		    "checkpoint at event %llu names an event that is not there",
		    (unsigned long long)v->ckpts[v->ci].seq);
	return 0;
}
