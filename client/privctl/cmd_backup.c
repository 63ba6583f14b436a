/*
 * cmd_backup.c - backups and the erasure journal: `backup FILE`, which
 * fetches a backup privd makes into FILE (showing its progress on a
 * terminal), and `erasures export`, which writes the erasure journal in
 * the file format `privd restore --journal` reads. Nothing printed here
 * holds a value or a subject id: a backup's values are sealed, and the
 * journal names subjects by privd's keyed hash only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "privctl.h"

/* The progress line is redrawn at most this often (seconds). */
#define PROGRESS_EVERY 0.2

/* The signal that interrupted a backup (SIGINT, SIGTERM), or 0. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = sig;
}

/* Seconds on the monotonic clock. */
static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * FILE, which a command is about to create: refused if it exists, unless
 * force and it is a regular file (a directory or a device is never
 * replaced). Returns 0 or the exit code, after saying why.
 */
static int
new_file_check(struct opts *o, const char *path, int force)
{
	struct stat sb;

	if (*path == '\0')
		return usage_error("the file name is empty");
	if (lstat(path, &sb) != 0)
		return errno == ENOENT
		           ? 0
		           : report_io(o, "%s: %s", path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return report_io(
		    o, "%s: exists and is not a regular file", path);
	if (!force)
		return report_io(o, "%s: exists (--force replaces it)", path);
	return 0;
}

/* backup FILE [--force] */
int
backup_check(struct opts *o, char **args, int nargs)
{
	(void)nargs;
	return new_file_check(o, args[0], o->force);
}

/* erasures export [--after SEQ] [--out FILE]: FILE is replaced, as
 * subject export replaces its own (a newer export of the journal holds
 * all an older one did), but never a directory or a device. */
int
erasures_check(struct opts *o, char **args, int nargs)
{
	(void)args;
	(void)nargs;
	if (o->after != NULL && parse_u64(o->after, &o->after_seq) != 0)
		return usage_error("--after needs a journal seq (0 or more)");
	return o->out != NULL ? new_file_check(o, o->out, 1) : 0;
}

/* A size as one reads it: "512 B", "1.5 KiB", "3.2 GiB". */
const char *
human_bytes(uint64_t n, char buf[32])
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	size_t u = 0;

	if (n < 1024) {
		snprintf(buf, 32, "%llu B", (unsigned long long)n);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, 32, "%.1f %s", v, units[u]);
	return buf;
}

/*
 * The progress line of a backup, secs into its phase: what is done of
 * what (privd's estimate while it copies: "about"), the rate, and the time
 * left at that rate once it can be told (after a second, with a total).
 */
void
progress_line(char *buf, size_t size, int phase, uint64_t done, uint64_t total,
    double secs)
{
	char d[32], t[32], r[32], eta[48];
	const char *what =
	    phase == PRIVD_BACKUP_COPYING ? "privd copies" : "receiving";
	double rate = secs > 0 ? (double)done / secs : 0;
	size_t n;

	if (total == 0)
		n = (size_t)snprintf(
		    buf, size, "%s: %s", what, human_bytes(done, d));
	else if (phase == PRIVD_BACKUP_COPYING)
		n = (size_t)snprintf(buf, size, "%s: %s of about %s", what,
		    human_bytes(done, d), human_bytes(total, t));
	else
		n = (size_t)snprintf(buf, size, "%s: %s of %s (%d%%)", what,
		    human_bytes(done, d), human_bytes(total, t),
		    (int)(done >= total ? 100
		                        : (double)done * 100 / (double)total));
	if (n >= size || secs < 1)
		return;
	n += (size_t)snprintf(
	    buf + n, size - n, ", %s/s", human_bytes((uint64_t)rate, r));
	if (n >= size || total <= done || rate < 1)
		return;
	snprintf(buf + n, size - n, ", %s left",
	    duration((uint64_t)((double)(total - done) / rate + 0.5), eta));
}

/* What a backup's progress callback keeps between calls. */
struct bprog {
	int tty;     /* stderr is a terminal: draw the line */
	int phase;   /* the phase drawn last (0: none yet) */
	int drawn;   /* a line is on the screen */
	double t0;   /* when the phase began */
	double last; /* when the line was drawn last */
};

/* The progress callback of privd_backup(): stop once interrupted, else
 * redraw the line now and then. */
static int
backup_progress(void *arg, int phase, uint64_t done, uint64_t total)
{
	struct bprog *p = arg;
	char line[160];
	double now;

	if (interrupted)
		return 1;
	if (!p->tty)
		return 0;
	now = mono();
	if (phase != p->phase) {
		p->phase = phase;
		p->t0 = now;
	} else if (now - p->last < PROGRESS_EVERY && done < total)
		return 0;
	p->last = now;
	progress_line(line, sizeof(line), phase, done, total, now - p->t0);
	/* \033[K: what a longer line before left is cleared */
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	p->drawn = 1;
	return 0;
}

/*
 * The summary of a backup made: where, how big, how long it took, and
 * what the restore will need of it (its snapshot time, journal head and
 * audit head).
 */
int
print_backup(const struct opts *o, const char *path, const privd_backup_info *b,
    double secs)
{
	char size[32], at[32], hash[2 * sizeof(b->audit_hash) + 1];

	iso_time(b->time_us, at);
	sodium_bin2hex(
	    hash, sizeof(hash), b->audit_hash, sizeof(b->audit_hash));
	if (o->json)
		return json_print(
		    json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:s, s:i, s:I}",
		        "file", path, "size", json_u64(b->size), "time", at,
		        "time_us", json_u64(b->time_us), "journal_head",
		        json_u64(b->journal_head), "audit_head",
		        json_u64(b->audit_head), "audit_hash", hash,
		        "store_format", (int)b->store_format, "milliseconds",
		        (json_int_t)(secs * 1000 + 0.5)));
	printf("backup written to %s: %s (%llu bytes) in %.1f s\n", path,
	    human_bytes(b->size, size), (unsigned long long)b->size, secs);
	printf(
	    "snapshot taken %s; erasure journal head %llu; audit head %llu\n",
	    at, (unsigned long long)b->journal_head,
	    (unsigned long long)b->audit_head);
	return 0;
}

/* Catch SIGINT and SIGTERM into interrupted (no SA_RESTART: a sleep
 * between polls ends early), keeping the old actions in old[2]. A signal
 * privctl was started ignoring (nohup) stays ignored. */
static void
catch_signals(struct sigaction old[2])
{
	static const int sigs[2] = {SIGINT, SIGTERM};
	struct sigaction sa;
	int i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 2; i++) {
		sigaction(sigs[i], NULL, &old[i]);
		if (old[i].sa_handler != SIG_IGN)
			sigaction(sigs[i], &sa, NULL);
	}
}

static void
restore_signals(const struct sigaction old[2])
{
	sigaction(SIGINT, &old[0], NULL);
	sigaction(SIGTERM, &old[1], NULL);
}

/*
 * backup FILE: privd_backup() does the work (FILE.part, the checks, the
 * rename, BackupEnd). An interrupt stops it at the next progress call,
 * which leaves nothing behind; then privctl dies of the signal, as a
 * shell expects of an interrupted command.
 */
int
cmd_backup(const struct opts *o, privd_client *c, char **args, int nargs)
{
	struct bprog p = {.tty = isatty(STDERR_FILENO)};
	struct sigaction old[2];
	privd_backup_info info;
	double t0 = mono();
	int rc, sig;

	(void)nargs;
	interrupted = 0;
	catch_signals(old);
	rc = privd_backup(c, args[0], backup_progress, &p, &info);
	if (p.drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	restore_signals(old);
	if ((sig = interrupted) != 0) {
		report_io(o, "interrupted: the backup was abandoned, nothing "
		             "written");
		fflush(stdout);
		raise(sig);
		return 1;
	}
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	return print_backup(o, args[0], &info, mono() - t0);
}

/*
 * erasures export: the journal file, to stdout or to --out FILE. A file
 * is written as FILE.part (0600: the pseudonyms are privd's, but they
 * are still about people) and renamed once complete and synced, so that
 * FILE is never a journal cut short.
 */
int
cmd_erasures_export(
    const struct opts *o, privd_client *c, char **args, int nargs)
{
	uint64_t n = 0, head = 0;
	char *part = NULL;
	FILE *f = stdout;
	int fd, rc;

	(void)args;
	(void)nargs;
	if (o->out != NULL) {
		if ((part = malloc(strlen(o->out) + sizeof(".part"))) == NULL)
			return report_local(o, PRIVD_ENOMEM, "out of memory");
		sprintf(part, "%s.part", o->out);
		fd = open(part,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 || fchmod(fd, 0600) != 0 ||
		    (f = fdopen(fd, "w")) == NULL) {
			rc = report_io(o, "%s: %s", part, strerror(errno));
			if (fd >= 0) {
				close(fd);
				unlink(part);
			}
			free(part);
			return rc;
		}
	}
	rc = privd_erasures_export_file(c, o->after_seq, f, &n, &head);
	if (part == NULL)
		return rc != PRIVD_OK ? report_call(o, c, rc) : 0;
	if (rc != PRIVD_OK)
		rc = report_call(o, c, rc);
	else if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = report_io(o, "%s: %s", part, strerror(errno));
	if (fclose(f) != 0 && rc == 0)
		rc = report_io(o, "%s: %s", part, strerror(errno));
	if (rc == 0 && rename(part, o->out) != 0)
		rc = report_io(o, "%s: %s", o->out, strerror(errno));
	if (rc != 0)
		unlink(part);
	free(part);
	if (rc != 0)
		return rc;
	if (o->json)
		return json_print(json_pack("{s:s, s:o, s:o, s:o}", "file",
		    o->out, "after", json_u64(o->after_seq), "head",
		    json_u64(head), "entries", json_u64(n)));
	printf("%llu erasure journal entr%s after seq %llu, up to head %llu, "
	       "written to %s\n",
	    (unsigned long long)n, n == 1 ? "y" : "ies",
	    (unsigned long long)o->after_seq, (unsigned long long)head, o->out);
	return 0;
}
