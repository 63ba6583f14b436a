/*
 * audit_follow.c - the auditing of follow polls; see audit_follow.h.
 */
#include "audit_follow.h"

#include <stdio.h>
#include <string.h>

/* The slot of a principal; with take, the oldest one is given to it if it
 * has none. NULL if it has none and take is false. */
static follow_slot *
follow_slot_of(follow_marks *fm, const char *principal, bool take)
{
	follow_slot *s, *oldest = &fm->slot[0];

	for (s = fm->slot; s < fm->slot + FOLLOW_SLOTS; s++) {
		if (strcmp(s->principal, principal) == 0)
			return s;
		if (s->at_mono_us < oldest->at_mono_us)
			oldest = s;
	}
	if (!take)
		return NULL;
	snprintf(oldest->principal, sizeof(oldest->principal), "%s", principal);
	oldest->at_mono_us = 0;
	return oldest;
}

void
follow_decide(follow_marks *fm, job *batch, uint64_t mono)
{
	const follow_slot *s;
	job *j, *k;

	for (j = batch; j != NULL; j = j->next) {
		if (!j->follow)
			continue;
		j->ev.op = "audit_follow";
		s = follow_slot_of(fm, j->principal, false);
		j->no_event = s != NULL && s->at_mono_us != 0 &&
		              mono - s->at_mono_us < FOLLOW_EVERY_US;
		/* one event for the polls of one principal in this batch */
		for (k = batch; k != j && !j->no_event; k = k->next)
			if (k->follow && !k->no_event &&
			    strcmp(k->principal, j->principal) == 0)
				j->no_event = true;
	}
}

void
follow_remember(follow_marks *fm, job *batch, uint64_t mono)
{
	job *j;

	for (j = batch; j != NULL; j = j->next)
		if (j->follow && !j->no_event)
			follow_slot_of(fm, j->principal, true)->at_mono_us =
			    mono;
}
