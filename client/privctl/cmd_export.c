/*
 * cmd_export.c - subject export: everything privd holds about a person,
 * and who used it, as privd's JSON document (docs/subject-export.schema.json),
 * to a file or to stdout. The document holds the person's data and id:
 * a file gets mode 0600 and appears whole or not at all (written to a
 * temporary name beside it, synced, renamed); nothing else privctl
 * prints names the subject.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privctl.h"

/* subject export: at most one --register (an export is of one register
 * or of all of them). */
int
export_check(struct opts *o, char **args, int nargs)
{
	if (o->nregs > 1)
		return usage_error("subject export takes at most one "
		                   "--register (none: every register)");
	if (o->nregs == 1 && *o->regs[0] == '\0')
		return usage_error("--register needs a register name");
	if (o->out != NULL && *o->out == '\0')
		return usage_error("--out needs a file name");
	return 0;
}

/* Sync the directory that holds path, so that a rename in it lasts. */
static int
sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -1;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/*
 * Write doc (n bytes) to path: into a new file path.XXXXXX (mode 0600,
 * mkstemp's), synced, then renamed over path. On failure nothing is left
 * but what was at path before. Returns 0, or the exit code after saying
 * why.
 */
static int
write_file(const struct opts *o, const char *path, const char *doc, size_t n)
{
	char tmp[PATH_MAX];
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return report_io(o, "%s: file name too long", path);
	if ((fd = mkstemp(tmp)) < 0)
		return report_io(o, "%s: %s", path, strerror(errno));
	if (fchmod(fd, 0600) != 0 || write_all(fd, doc, n) != 0 ||
	    write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) {
		err = errno;
		close(fd);
		unlink(tmp);
		return report_io(o, "%s: %s", path, strerror(err));
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		err = errno;
		unlink(tmp);
		return report_io(o, "%s: %s", path, strerror(err));
	}
	if (sync_dir_of(path) != 0)
		return report_io(o,
		    "%s: written, but its directory could not "
		    "be synced: %s",
		    path, strerror(errno));
	return 0;
}

/*
 * subject export: args are SUBJECT. Without --out the document goes to
 * stdout as it is (one line), whatever --json says: it is JSON. With
 * --out it goes to the file, and privctl says where and how large, or
 * with --json {"file", "bytes"}.
 */
int
cmd_subject_export(
    const struct opts *o, privd_client *c, char **args, int nargs)
{
	const char *reg = o->nregs == 1 ? o->regs[0] : NULL;
	struct progress p;
	char *doc = NULL;
	size_t n = 0;
	int rc;

	/* one call: how long privd has been at it is all there is to show */
	progress_wait_begin(&p, "subject export", "waiting for privd");
	rc = privd_subject_export(c, reg, args[0], &doc, &n);
	progress_wait_end(&p);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->out == NULL) {
		rc = write_all(STDOUT_FILENO, doc, n) != 0 ||
		     write_all(STDOUT_FILENO, "\n", 1) != 0;
		privd_subject_export_free(&doc, n);
		return rc ? report_io(o, "stdout: %s", strerror(errno)) : 0;
	}
	rc = write_file(o, o->out, doc, n);
	privd_subject_export_free(&doc, n);
	if (rc != 0)
		return rc;
	if (o->json)
		return json_print(json_pack(
		    "{s:s, s:o}", "file", o->out, "bytes", json_u64(n + 1)));
	printf("wrote the export (%zu bytes) to %s\n", n + 1, o->out);
	return 0;
}
