/*
 * audit_index.h - the audit log's derived indexes, kept behind the log.
 *
 * DESIGN (issue 8). The commit that answers a request appends its event and
 * chain hash and nothing else. An index entry keyed by a random pseudonym
 * would land on a leaf page of its own in every commit, and that cost grows
 * with the log and the store; so the writer collects the index entries of
 * committed events in memory and writes them in bulk, as one sorted run,
 * every AUDIT_IX_FLUSH_EVENTS events, or once the oldest entry waiting
 * has waited AUDIT_IX_IDLE_US, together with the high-water mark (the last
 * seq the index covers), in one transaction:
 *
 *   audit_ix  run(8) 'D'                      -> postings  undecodable events
 *             run(8) 'P' len(1) principal     -> postings  by principal
 *             run(8) 'S'                      -> table     by subject
 *   meta      "audit_ix_mark"                 -> be64      last seq indexed
 *
 * run (big-endian) is the first seq of the run; a run covers every seq from
 * there to the next run's first seq, or to the mark. Postings are the seqs
 * of the key's events in the run, ascending, as LEB128 varints: the first
 * minus run, then each minus the one before. The subject table is one
 * entry per event that names a subject: the first 8 bytes of its pseudonym
 * and the seq minus run (be32), sorted as bytes, so that a subject's
 * events are found by binary search; 12 bytes an event, where a key per
 * subject cost 30 (every byte saved is saved for every request). 8 bytes
 * are ample to tell a run's subjects apart; two that shared them would
 * share entries, and a query compares the whole pseudonym in every event
 * it reads, so it would only look at more events. Keys sort by run first,
 * so a flush appends at the end of the database (STORE_APPEND: full pages,
 * and no page of the older index is dirtied). A run that covers fewer
 * than AUDIT_IX_RUN_MIN seqs (flushed while quiet) is merged into the next
 * flush, so that a quiet log is not cut into many tiny runs that every
 * query would have to seek.
 *
 * A query walks the index up to the mark and the log past it
 * (audit_query.c), so its answer is exact and complete at every moment. The
 * mark is committed with the entries it covers: after a crash, privd
 * indexes the log past the mark before it serves (audit_ix_catch_up).
 * Pruning deletes the runs whose every seq is pruned; the postings of
 * pruned events in the run that remains are skipped by queries.
 *
 * Threads: the audit_ix collector belongs to the writer; audit_ix_walk runs
 * in workers, in their read transactions.
 */
#ifndef PRIVD_AUDIT_INDEX_H
#define PRIVD_AUDIT_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"
#include "store.h"

#define AUDIT_IX_FLUSH_EVENTS 8192    /* flush once this many are pending */
#define AUDIT_IX_RUN_MIN      4096    /* a shorter last run is merged */
#define AUDIT_IX_IDLE_US      1000000 /* or once the oldest waited this long */
#define AUDIT_IX_MAX_ITEMS    65536   /* pending beyond this: read the log */
#define AUDIT_IX_PSEUDOBYTES  8
#define AUDIT_IX_KEYMAX       (2 + POL_MAX_NAME) /* kind and body */
#define AUDIT_IX_MARK         "audit_ix_mark"

/* The kinds of index keys. */
#define AUDIT_IX_DAMAGED   'D'
#define AUDIT_IX_PRINCIPAL 'P'
#define AUDIT_IX_SUBJECT   'S'

/* Build the kind-and-body part of an index key; returns its length. key:
 * AUDIT_IX_KEYMAX bytes. */
size_t audit_ix_key_subject(uint8_t *key, const uint8_t *pseudo);
size_t audit_ix_key_principal(uint8_t *key, const char *name);

/* One index entry waiting for its flush. */
typedef struct audit_ix_item {
	uint64_t seq;
	uint8_t klen;
	uint8_t key[AUDIT_IX_KEYMAX];
} audit_ix_item;

/* The writer's collector: the entries of the events past the mark. */
typedef struct audit_ix {
	uint64_t mark;        /* last seq indexed, as committed */
	uint64_t last;        /* last seq collected (mark if none) */
	uint64_t since_us;    /* monotonic time of the first pending event */
	bool from_log;        /* the items miss events: read the log instead */
	audit_ix_item *items; /* the pending entries */
	size_t n, cap;
} audit_ix;

/* Read the mark (writer, at start). */
int audit_ix_load(store *st, store_txn *txn, audit_ix *ix);
void audit_ix_release(audit_ix *ix);

/* Collect the index entries of one committed event (seq, principal,
 * subject pseudonym or NULL). Events must come in seq order without gaps;
 * if they do not, the next flush reads the log instead. */
void audit_ix_add(audit_ix *ix, uint64_t seq, const char *principal,
    const uint8_t *pseudo, uint64_t mono_us);

/* Events collected and not yet flushed. */
static inline uint64_t
audit_ix_pending(const audit_ix *ix)
{
	return ix->last - ix->mark;
}

/*
 * Write what is pending as a run, and the mark, in txn. At most max events
 * are indexed (from the log, if the items cannot be used); *upto receives
 * the new mark, which audit_ix_flushed takes once the transaction has
 * committed. An aborted transaction leaves the collector as it was.
 */
int audit_ix_flush(
    store *st, store_txn *txn, audit_ix *ix, uint64_t max, uint64_t *upto);
void audit_ix_flushed(audit_ix *ix, uint64_t upto);

/* Another node wrote: the mark and the log's head as a write transaction
 * reads them (writer_nodes.c). */
void audit_ix_resync(
    audit_ix *ix, uint64_t mark, uint64_t head, uint64_t mono_us);

/* Index the whole log past the mark, in transactions of its own (before
 * privd serves). *indexed receives the number of events indexed. */
int audit_ix_catch_up(store *st, uint64_t *indexed);

/* Delete the runs that cover no seq after upto (audit_prune). */
int audit_ix_prune(store *st, store_txn *txn, uint64_t upto);

/* The mark as txn sees it. */
int audit_ix_mark(store *st, store_txn *txn, uint64_t *mark);

/*
 * Walk the seqs the index lists under key (kind and body, klen bytes), and
 * every undecodable event it lists, in [lo, hi] (hi at most the mark), in
 * seq order (desc: newest first), calling fn(arg, seq) for each. fn returns
 * 0 to go on, AUDIT_IX_STOP to stop, or an error; the walk returns 0 when
 * it reached the end of the range, and otherwise what fn returned.
 */
#define AUDIT_IX_STOP (-30000)
int audit_ix_walk(store *st, store_txn *txn, const uint8_t *key, size_t klen,
    uint64_t lo, uint64_t hi, bool desc, int (*fn)(void *, uint64_t),
    void *arg);

#endif
