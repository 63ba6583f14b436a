/*
 * test_audit_fixture.h - a large audit log in a real LMDB store, written by
 * daemon/audit.c (audit_append with synthetic jobs), a copy of every event
 * on the side, and the tools to compare daemon/audit_query.c's answers with
 * a brute-force filter over that copy. Shared by test_audit_query.c and
 * test_audit_damage.c.
 */
#ifndef TEST_AUDIT_FIXTURE_H
#define TEST_AUDIT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "audit_index.h"

#define AL_TMPL     "/tmp/privd-test-auditq-XXXXXX"
#define AL_EVENTS   25600 /* more than AUDIT_QUERY_MAX_EXAMINED */
#define AL_SUBJECTS 3
#define AL_NO_SUBJ  (-1)

/* What the test knows of one stored event. */
typedef struct al_event {
	uint64_t seq;
	uint64_t time_us; /* as stored: never before the previous one */
	int subject;      /* index into al_pseudo, or AL_NO_SUBJ */
	const char *principal;
	const char *op;
	const char *reg;
	uint64_t request_id;
	int decision;
	bool damaged; /* the test wrote bytes over it that do not decode */
	bool gone;    /* the test deleted it from the log, not its index */
} al_event;

typedef struct al_log {
	char dir[sizeof(AL_TMPL)];
	store *st;
	al_event *ev; /* ev[seq] for seq 1..n; ev[0] unused */
	size_t n;
	uint64_t mark; /* the index covers 1..mark, the log alone the rest */
} al_log;

extern const uint8_t al_pseudo[AL_SUBJECTS][CRYPTO_PSEUDONYMBYTES];

/* A store with n events (a mix of subjects, principals, operations,
 * registers, request ids, decisions, and times with many equal ones),
 * indexed (audit_index.h) in runs of AL_RUN up to AL_INDEXED, so that
 * queries walk both the index and the log past its mark. */
#define AL_RUN     8192
#define AL_INDEXED 20000
al_log *al_new(size_t n);
void al_free(al_log **l);

/* Damage a stored event: garbage that does not decode (short == false) or
 * a record too short to hold a hash; or delete it from the log but keep
 * its index entries (as if pruned while a query walks the index). */
void al_damage(al_log *l, uint64_t seq, bool short_record);
void al_delete(al_log *l, uint64_t seq);

/*
 * A query as the tests write it. subject is an index into al_pseudo or
 * AL_NO_SUBJ; since_at / until_at, when not 0, set since_us / until_us to
 * the time of that seq (plus the *_plus microseconds); ops and not_ops end
 * at the first NULL.
 */
typedef struct al_query {
	const char *name;
	int subject;
	const char *principal;
	const char *reg;
	uint64_t since_at, until_at;
	int64_t since_plus, until_plus;
	uint64_t from_seq, to_seq;
	const char *ops[4];
	const char *not_ops[4];
	uint64_t request_id;
	int decision;
	uint32_t limit;
	bool newest_first;
	bool follow;
	bool sparse; /* must page past the examined bound */
} al_query;

/* The request for an al_query (its strings point into q), and the
 * pseudonym to pass, or NULL. */
void al_request(const al_log *l, const al_query *q,
    Privd__V1__AuditQueryRequest *req, const uint8_t **pseudo);

/* One page: audit_query() on a job in its own read transaction. Returns the
 * decoded reply (free with privd__v1__response__free_unpacked). */
Privd__V1__Response *al_page(
    al_log *l, const Privd__V1__AuditQueryRequest *req, const uint8_t *pseudo);

/* The seqs a query must answer, in its order: brute force over l->ev. */
size_t al_expect(const al_log *l, const al_query *q, uint64_t *seqs);

/* What walking every page of a query gave. */
typedef struct al_walk {
	uint64_t *seqs; /* in the order the pages gave them */
	bool *damaged;
	size_t n;
	size_t pages;
	size_t short_pages; /* fewer than limit records, and a cursor */
} al_walk;

/*
 * Walk every page of q, following cursors. Checks every page: OK, at most
 * limit records, each with its seq (and, unless damaged, a 32-byte hash and
 * an event of that seq), every cursor new, and every page with a cursor
 * stopped for a reason: it is full or it examined AUDIT_QUERY_MAX_EXAMINED
 * entries (counted on the side, from the plan the query must use).
 */
void al_walk_all(al_log *l, const al_query *q, al_walk *w);
void al_walk_free(al_walk *w);

/* al_walk_all, then: exactly al_expect's seqs in its order (so no
 * duplicates), damaged exactly where the test damaged, and a sparse query
 * did page past the examined bound. */
void al_check(al_log *l, const al_query *q);

/* The queries every log is checked with: every plan, both directions. */
extern const al_query al_queries[];
extern const size_t al_nqueries;

#endif
