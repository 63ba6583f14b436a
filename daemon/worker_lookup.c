/*
 * worker_lookup.c - SubjectLookup through the blind index (issue 10): not
 * yet built.
 */
#include "worker.h"

void
do_subject_lookup(worker *w, job *j)
{
	(void)w;
	job_fail(j, ST(INTERNAL), 0, "subject lookup is not built yet");
}
