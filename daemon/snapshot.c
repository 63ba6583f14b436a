/*
 * snapshot.c - reference-counted policy snapshots.
 */
#include "snapshot.h"

#include <stdlib.h>

snapshot *
snapshot_new(pol_policy *pol, uint64_t version)
{
	snapshot *s;

	if ((s = malloc(sizeof(*s))) == NULL)
		return NULL;
	s->pol = pol;
	s->version = version;
	atomic_init(&s->refs, 1);
	return s;
}

snapshot *
snapshot_acquire(snapshot_cell *c)
{
	snapshot *s;

	pthread_mutex_lock(&c->mu);
	s = c->cur;
	atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&c->mu);
	return s;
}

void
snapshot_release(snapshot **sp)
{
	snapshot *s;

	if (sp == NULL || (s = *sp) == NULL)
		return;
	*sp = NULL;
	if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) {
		pol_free(&s->pol);
		free(s);
	}
}

void
snapshot_cell_init(snapshot_cell *c, snapshot *first)
{
	pthread_mutex_init(&c->mu, NULL);
	c->cur = first;
}

void
snapshot_cell_swap(snapshot_cell *c, snapshot *s)
{
	snapshot *old;

	pthread_mutex_lock(&c->mu);
	old = c->cur;
	c->cur = s;
	pthread_mutex_unlock(&c->mu);
	snapshot_release(&old);
}

void
snapshot_cell_destroy(snapshot_cell *c)
{
	snapshot_release(&c->cur);
	pthread_mutex_destroy(&c->mu);
}
