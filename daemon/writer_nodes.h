/*
 * writer_nodes.h - the writer's side of several privd nodes on one store
 * (writer_nodes.c has the design). Included by the writer's files and by
 * whatever stores a policy version (the channel).
 */
#ifndef PRIVD_WRITER_NODES_H
#define PRIVD_WRITER_NODES_H

#include <stdbool.h>
#include <stdint.h>

#include "writer_internal.h"

/* The channel a transaction that stores a policy version notifies, with
 * the version number (decimal) as its payload. */
#define NODES_POLICY_CHANNEL "privd_policy"
/* How often the writer drains its listener, and compares the store's
 * generation (and tries for the sweeper lease). */
#define NODES_TICK_US 100000ULL
#define NODES_GEN_US  1000000ULL

/* At the writer's start: listen, if the store has other nodes. 0 or an
 * errno value (ENOMEM). */
int writer_nodes_start(writer *wr);
void writer_nodes_stop(writer *wr);

/* Right after a write transaction's begin: if another node committed
 * since this one did, re-read what the writer caches (0 or a store
 * error: the transaction fails). */
int writer_nodes_sync(writer *wr, store_txn *txn);

/* In a committing transaction that stored policy version v: tell the
 * other nodes at commit. */
int writer_nodes_policy_stored(store_txn *txn, uint64_t v);

/* Between batches: drain the listener, compare the generation, load a
 * new policy. Returns the monotonic time of the next tick (UINT64_MAX:
 * one node, never). */
uint64_t writer_nodes_tick(writer *wr);

/* May this node run the timer's sweeps and the re-planning (it holds, or
 * just took, the sweeper lease)? Always on a store of one node. */
bool writer_nodes_sweeper(writer *wr);

/* Did the last try for the lease find another node holding it (then that
 * node re-plans, and this one need not keep asking)? */
bool writer_nodes_other_sweeps(const writer *wr);

/* The re-planning is done (nothing waits): a node without a sweep timer
 * lets the lease go. */
void writer_nodes_replanned(writer *wr);

/* The latest stored policy version, read from the one in force on
 * (usually one record, not a batch of documents). */
int writer_nodes_policy_latest(writer *wr, store_txn *txn, store_policy *out);

/* How many times the writer re-read its caches (tests, logs). */
uint64_t writer_nodes_resyncs(const writer *wr);

#endif
