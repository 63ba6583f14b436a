/*
 * worker_backup.c - online backups and the erasure journal's export
 * (issue 10): not yet built.
 */
#include "worker.h"

void
do_backup_start(worker *w, job *j)
{
	(void)w;
	job_fail(j, ST(INTERNAL), 0, "backups are not built yet");
}

void
do_backup_read(worker *w, job *j)
{
	(void)w;
	job_fail(j, ST(INTERNAL), 0, "backups are not built yet");
}

void
do_backup_end(worker *w, job *j)
{
	(void)w;
	job_fail(j, ST(INTERNAL), 0, "backups are not built yet");
}

void
do_erasures_export(worker *w, job *j)
{
	(void)w;
	job_fail(
	    j, ST(INTERNAL), 0, "the erasure journal export is not built yet");
}
