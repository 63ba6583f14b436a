/*
 * snapshot.h - the policy in force, shared by reference count.
 *
 * A snapshot is an immutable parsed policy and its version. Workers acquire
 * the current one at the start of a request and release it when the request
 * is answered, so a request is decided and audited under one version even if
 * a policy change swaps in a new snapshot meanwhile.
 */
#ifndef PRIVD_SNAPSHOT_H
#define PRIVD_SNAPSHOT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "policy.h"

typedef struct snapshot {
	pol_policy *pol;
	uint64_t version;
	atomic_uint refs;
} snapshot;

/* The slot holding the current snapshot. */
typedef struct snapshot_cell {
	pthread_mutex_t mu;
	snapshot *cur;
} snapshot_cell;

/* A new snapshot owning pol, with one reference (the caller's). */
snapshot *snapshot_new(pol_policy *pol, uint64_t version);
/* Take a reference to the current snapshot. */
snapshot *snapshot_acquire(snapshot_cell *c);
/* Drop a reference; the last one frees the policy. NULL-safe; sets *s NULL. */
void snapshot_release(snapshot **s);

void snapshot_cell_init(snapshot_cell *c, snapshot *first);
/* Make s current (the cell takes over the caller's reference). */
void snapshot_cell_swap(snapshot_cell *c, snapshot *s);
void snapshot_cell_destroy(snapshot_cell *c);

#endif
