/*
 * worker_export.c - SubjectExport (issue 10): not yet built.
 */
#include "worker.h"

void
do_subject_export(worker *w, job *j)
{
	(void)w;
	job_fail(j, ST(INTERNAL), 0, "subject export is not built yet");
}
