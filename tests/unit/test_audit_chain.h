/*
 * test_audit_chain.h - the fixture and helpers shared by test_audit.c (the
 * chain and tampering with it) and test_audit_prune.c (pruning): a real
 * LMDB store in a temporary directory, events written by daemon/audit.c,
 * the chain copied out and checked with client/auditverify.c as the
 * auditor does, and raw access to the databases.
 */
#ifndef TEST_AUDIT_CHAIN_H
#define TEST_AUDIT_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "audit_index.h"
#include "auditverify.h"

#define SEC      1000000u /* microseconds */
#define TMPL     "/tmp/privd-test-audit-XXXXXX"
#define ST(x)    PRIVD__V1__STATUS__##x
#define DEC(x)   PRIVD__V1__DECISION__##x
#define NO_EVERY 0 /* append_at: never checkpoint */

/*
 * Events alternate between two subjects; every tenth names none. main()
 * fills in pseudo before running the tests.
 */
extern uint8_t pseudo[2][CRYPTO_PSEUDONYMBYTES];
extern const char *const principals[3];

typedef struct fixture {
	char dir[sizeof(TMPL)];
	store *st;
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
} fixture;

/* One stored record, copied out of the read transaction. */
typedef struct rec {
	uint64_t seq; /* from the key */
	uint8_t hash[AUDIT_HASHBYTES];
	uint8_t *ev;
	size_t len;
} rec;

/* What an auditor gets: the events kept and every stored checkpoint. */
typedef struct chain {
	rec *recs;
	size_t nrecs;
	av_checkpoint *ckpts;
	size_t nckpts;
} chain;

/* The seqs the index lists under a key (kind and body), oldest first. */
typedef struct seqlist {
	uint64_t s[64];
	size_t n;
} seqlist;

/* cmocka group fixtures: a fresh store and signing key for each test. */
int setup(void **state);
int teardown(void **state);

bool has_subject(uint64_t seq);
const char *principal_of(uint64_t seq);
int status_of(uint64_t seq);

/*
 * Append n events in one write transaction, starting from the head that
 * audit_load reads. times[i] is the `now` of the i-th event (NULL: its seq
 * in seconds); a checkpoint is signed after every event whose seq is a
 * multiple of every (0: never). Returns the head after the commit.
 */
audit_state append_at(
    fixture *f, size_t n, const uint64_t *times, unsigned every);
/* The head as audit_load reads it in a read transaction. */
audit_state load(fixture *f);

/* Copy every record and checkpoint out of a read transaction. */
void chain_read(fixture *f, chain *c);
void chain_free(chain *c);
/* The stored checkpoint at seq, or NULL. */
const av_checkpoint *chain_ckpt(const chain *c, uint64_t seq);
/*
 * Verify the chain as the auditor does: from `from` (whose previous hash is
 * prev) over every record kept, against every checkpoint, up to the newest
 * record. Returns av_finish's result; *v says where and why it failed.
 */
int chain_verify(const chain *c, uint64_t from, const uint8_t *prev,
    const uint8_t *pk, av_state *v);
/* Read and verify the whole chain from seq 1. */
int verify_all(fixture *f, av_state *v);
/* The event a record holds; free with ..._free_unpacked. */
Privd__V1__AuditEvent *decode(const rec *r);

/* Tampering and pruning: a write transaction on the raw databases. */
store_txn *wbegin(fixture *f);
void wcommit(store_txn *txn);
/* Entries in dbi, from a read transaction. */
size_t db_count(fixture *f, store_tbl dbi);
/* The seqs the index lists under key, from a read transaction. */
void ix_list(fixture *f, const uint8_t *key, size_t klen, seqlist *l);

#endif
