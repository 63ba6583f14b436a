/*
 * test_audit_index_model.h - an audit log in a real LMDB store (written by
 * daemon/audit.c) and the test's own model of it: what each event names,
 * how the test expects it indexed, which runs the index should hold. The
 * walks of daemon/audit_index.c are checked against lists built from the
 * model alone. Used by test_audit_index.c.
 */
#ifndef TEST_AUDIT_INDEX_MODEL_H
#define TEST_AUDIT_INDEX_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "audit_index.h"

#define IXT_TMPL        "/tmp/privd-test-auditix-XXXXXX"
#define BIG             UINT64_MAX
#define NPRINC          6
#define P_NONE          (NPRINC - 1) /* ixt_princ[P_NONE] is "" */
#define NPSEUDO         5
#define S_NONE          NPSEUDO
#define MAXRUNS         64
#define MAXKEYS         16
#define PSEUDO_KEYBYTES 8     /* of a pseudonym, in a subject key */
#define CATCH_UP_RUN    65536 /* audit_ix_catch_up's transactions */

/*
 * Principals: names of 1 and 64 (POL_MAX_NAME) bytes, names that share
 * their first bytes, and "" (an event without one). Pseudonyms: 1 shares
 * its first 7 bytes with 0 (a key of its own), 2 its first 8 (the key of
 * 0: a subject key holds the first 8 bytes of the pseudonym); 3 and 4 sort
 * first and last.
 */
extern const char *ixt_princ[NPRINC];
extern char ixt_name64[POL_MAX_NAME + 1];
extern uint8_t ixt_pseudo[NPSEUDO][CRYPTO_PSEUDONYMBYTES];
void ixt_init(void);

/* What the test knows of one event, and how it expects it indexed. */
typedef struct mev {
	uint8_t p, s; /* index into ixt_princ, ixt_pseudo (or P_NONE, S_NONE) */
	bool dmg;     /* garbage over its record in the log */
	bool gone;    /* deleted from the log */
	bool ixdmg;   /* indexed as undecodable ('D') */
	bool ixskip;  /* not indexed at all (gone when the log was read) */
} mev;

typedef struct fixture {
	char dir[sizeof(IXT_TMPL)];
	store *st;
	void (*gen)(uint64_t, mev *); /* what a new event names */
	mev *ev;                      /* ev[seq] for 1..n */
	uint64_t n, mark;
	uint64_t runs[MAXRUNS]; /* the runs the index should hold */
	size_t nruns;
} fixture;

typedef struct seqlist {
	uint64_t *s;
	size_t n, cap;
} seqlist;

/* A walk's callback (ixt_walk): collects up to budget seqs, then returns
 * stop; calls counts its calls. */
typedef struct sink {
	seqlist l;
	size_t calls, budget;
	int stop;
} sink;

typedef struct keyset {
	uint8_t k[MAXKEYS][AUDIT_IX_KEYMAX];
	size_t len[MAXKEYS], n;
} keyset;

/* The collector, all of it that a flush may not change. */
typedef struct ix_copy {
	audit_ix ix;
	audit_ix_item *items;
} ix_copy;

uint64_t ixt_draw(uint64_t seq, uint64_t salt);
void ixt_gen_mix(uint64_t seq, mev *e);
void ixt_gen_bare(uint64_t seq, mev *e); /* names nothing */
void ixt_push(seqlist *l, uint64_t s);

/* cmocka setup and teardown: an empty store, events from ixt_gen_mix. */
int ixt_setup(void **state);
int ixt_teardown(void **state);

store_txn *ixt_wbegin(fixture *f);
void ixt_wcommit(store_txn *txn);

/* The log: append n events in one transaction; damage one (garbage, or a
 * record shorter than a hash), delete one. */
void ixt_append(fixture *f, uint64_t n);
void ixt_damage(fixture *f, uint64_t seq, bool short_record);
void ixt_delete_event(fixture *f, uint64_t seq);

/* The model of a flush that indexed up to to, and of a prune. */
void ixt_model_indexed(fixture *f, uint64_t to, bool from_log);
void ixt_model_pruned(fixture *f, uint64_t upto);

/* The database: its runs and mark are the model's; its bytes (of the runs
 * from run from on); forget it all. */
void ixt_check_runs(fixture *f);
void ixt_dump_from(fixture *f, uint64_t from, seqlist *d);
void ixt_dump(fixture *f, seqlist *d);
void ixt_same_dump(const seqlist *a, const seqlist *b);
void ixt_reset(fixture *f);

/* The collector: load it, give it events [from, to] as the writer does,
 * flush it (the test says whether it expects the flush to read the log,
 * and the mark it expects), or flush from the log, or catch up. */
void ixt_load(fixture *f, audit_ix *ix);
void ixt_feed(fixture *f, audit_ix *ix, uint64_t from, uint64_t to);
void ixt_flush(
    fixture *f, audit_ix *ix, uint64_t max, bool from_log, uint64_t want);
void ixt_log_flush(fixture *f, uint64_t max, uint64_t want);
void ixt_catch_up(fixture *f, uint64_t want);
void ixt_save(const audit_ix *ix, ix_copy *c);
void ixt_same(const audit_ix *ix, ix_copy *c);

/* Keys as audit_index.h lays them out; every key, and some of nobody. */
size_t ixt_key_p(uint8_t *key, const char *name);
size_t ixt_key_s(uint8_t *key, const uint8_t *pseudo);
void ixt_all_keys(keyset *ks);

/* What a walk of key over [lo, hi] must list, by the model. */
void ixt_expect(const fixture *f, const uint8_t *key, size_t klen, uint64_t lo,
    uint64_t hi, bool desc, seqlist *out);
/* audit_ix_walk into k, in txn (NULL: a read transaction of its own). */
int ixt_walk(fixture *f, store_txn *txn, const uint8_t *key, size_t klen,
    uint64_t lo, uint64_t hi, bool desc, sink *k);
void ixt_same_list(const seqlist *got, const seqlist *want, uint64_t lo,
    uint64_t hi, bool desc);
/* Walks against the model: one (in txn, or its own); every key over the
 * whole log and a range; key over every pair of edges (run edges, the
 * mark, past it), both ways. */
void ixt_check_in(fixture *f, store_txn *txn, const uint8_t *key, size_t klen,
    uint64_t lo, uint64_t hi, bool desc);
void ixt_check(fixture *f, const uint8_t *key, size_t klen, uint64_t lo,
    uint64_t hi, bool desc);
void ixt_check_all(fixture *f);
void ixt_check_edges(fixture *f, const uint8_t *key, size_t klen);
/* The stored postings of key in every run are the model's. */
void ixt_check_postings(fixture *f, const uint8_t *key, size_t klen);

/* Raw entries in txn: run || key -> val, or a key of klen bytes. */
void ixt_put_raw(fixture *f, store_txn *txn, uint64_t run, const uint8_t *key,
    size_t klen, const uint8_t *val, size_t vlen);
void ixt_put_short(fixture *f, store_txn *txn, const uint8_t *key, size_t klen);

#endif
