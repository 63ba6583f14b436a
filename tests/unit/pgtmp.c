/*
 * pgtmp.c - a private PostgreSQL server for a test (pgtmp.h). Adapted
 * from bench/pg_server.c, which stays the benchmark's own: no signal
 * handling (meson's timeout kills the test, and PR_SET_PDEATHSIG takes
 * the server with it), a unix socket only, settings for speed rather
 * than durability (fsync off: a test's data is thrown away).
 */
#define _GNU_SOURCE /* nftw */
#include "pgtmp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

static const char settings[] = "\n# pgtmp: a test's throwaway server\n"
                               "fsync = off\n"
                               "full_page_writes = off\n"
                               "listen_addresses = ''\n"
                               "port = 5432\n"
                               "max_connections = 40\n"
                               "shared_buffers = 32MB\n"
                               "jit = off\n"
                               "log_min_messages = warning\n";

static bool
executable(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, X_OK) == 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static int
find(pgtmp *p, char *why, size_t len)
{
	const char *env = getenv("PRIVD_TEST_PG_BINDIR");
	struct passwd *pw;
	struct dirent *de;
	DIR *d;
	long best = -1, v;
	char *end, cand[64];

	if (env != NULL && *env != '\0') {
		snprintf(p->bindir, sizeof(p->bindir), "%s", env);
	} else if ((d = opendir("/usr/lib/postgresql")) != NULL) {
		while ((de = readdir(d)) != NULL) {
			v = strtol(de->d_name, &end, 10);
			if (end == de->d_name || *end != '\0' || v <= best)
				continue;
			snprintf(cand, sizeof(cand),
			    "/usr/lib/postgresql/%ld/bin", v);
			if (executable(cand, "postgres") &&
			    executable(cand, "initdb")) {
				best = v;
				snprintf(
				    p->bindir, sizeof(p->bindir), "%s", cand);
			}
		}
		closedir(d);
	}
	if (p->bindir[0] == '\0' || !executable(p->bindir, "postgres") ||
	    !executable(p->bindir, "initdb")) {
		snprintf(why, len,
		    "PostgreSQL server binaries not found (scripts/deps.sh "
		    "test installs Debian's postgresql; or set "
		    "PRIVD_TEST_PG_BINDIR)");
		return 1;
	}
	if (geteuid() == 0) {
		if ((pw = getpwnam("postgres")) == NULL || pw->pw_uid == 0) {
			snprintf(why, len,
			    "running as root and there is no 'postgres' user "
			    "to run PostgreSQL as");
			return 1;
		}
		p->drop = true;
		p->uid = pw->pw_uid;
		p->gid = pw->pw_gid;
	}
	return 0;
}

/* Forks argv[0] as the server's user with output appended to logpath;
 * the child dies with us. Only async-signal-safe calls after fork. */
static pid_t
spawn(const pgtmp *p, char *const argv[], const char *logpath)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	setsid();
	if (p->drop && (setgroups(1, &p->gid) != 0 || setgid(p->gid) != 0 ||
	                   setuid(p->uid) != 0))
		_exit(126);
	prctl(PR_SET_PDEATHSIG, SIGQUIT);
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0 ||
	    dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	close(fd);
	if ((fd = open("/dev/null", O_RDONLY)) >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (chdir(p->dir) != 0)
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

static int
run_initdb(pgtmp *p, char *why, size_t len)
{
	char prog[300], data[160], log[160];
	char *argv[] = {prog, "-D", data, "-U", "postgres", "--auth=trust",
	    "--encoding=UTF8", "--locale=C", "--no-sync", NULL};
	int st;
	pid_t pid;
	FILE *f;

	snprintf(prog, sizeof(prog), "%s/initdb", p->bindir);
	snprintf(data, sizeof(data), "%s/data", p->dir);
	snprintf(log, sizeof(log), "%s/initdb.log", p->dir);
	if ((pid = spawn(p, argv, log)) < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(
		    why, len, "initdb failed (status %d; see %s)", st, log);
		return -1;
	}
	snprintf(log, sizeof(log), "%s/data/postgresql.conf", p->dir);
	if ((f = fopen(log, "a")) == NULL) {
		snprintf(why, len, "postgresql.conf: %s", strerror(errno));
		return -1;
	}
	fputs(settings, f);
	fprintf(f, "unix_socket_directories = '%s'\n", p->dir);
	if (fclose(f) != 0) {
		snprintf(why, len, "cannot write postgresql.conf");
		return -1;
	}
	return 0;
}

/* Makes p's directory and conninfo (p->bindir and the user are set). */
static int
make_dir(pgtmp *p, char *why, size_t len)
{
	/* /tmp: the postgres user must reach it, and the socket's path
	 * must fit sun_path */
	snprintf(p->dir, sizeof(p->dir), "/tmp/privd-test-pg.XXXXXX");
	if (mkdtemp(p->dir) == NULL) {
		snprintf(why, len, "mkdtemp: %s", strerror(errno));
		p->dir[0] = '\0';
		return -1;
	}
	if (p->drop && chown(p->dir, p->uid, p->gid) != 0) {
		snprintf(why, len, "chown: %s", strerror(errno));
		return -1;
	}
	snprintf(p->conninfo, sizeof(p->conninfo),
	    "host=%s port=5432 dbname=postgres user=postgres", p->dir);
	return 0;
}

/* Starts the postmaster and waits (60 s at most) until it answers. */
int
pgtmp_restart(pgtmp *p, char *why, size_t len)
{
	char prog[300], data[160], log[160];
	char *argv[] = {prog, "-D", data, NULL};
	const char *kw[] = {"host", "port", "dbname", "user", NULL};
	const char *val[] = {p->dir, "5432", "postgres", "postgres", NULL};
	int64_t deadline = now_ms() + 60000;
	int st;

	snprintf(prog, sizeof(prog), "%s/postgres", p->bindir);
	snprintf(data, sizeof(data), "%s/data", p->dir);
	snprintf(log, sizeof(log), "%s/server.log", p->dir);
	if ((p->pid = spawn(p, argv, log)) < 0) {
		p->pid = 0;
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		if (PQpingParams(kw, val, 0) == PQPING_OK)
			return 0;
		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->pid = 0;
			snprintf(why, len,
			    "postgres exited at start-up (see %s)", log);
			return -1;
		}
		if (now_ms() > deadline) {
			snprintf(why, len, "postgres did not start in 60 s");
			return -1;
		}
		sleep_ms(20);
	}
}

int
pgtmp_start(pgtmp *p, char *why, size_t len)
{
	int rc;

	memset(p, 0, sizeof(*p));
	if ((rc = find(p, why, len)) != 0)
		return rc;
	if (make_dir(p, why, len) != 0)
		return -1;
	if (run_initdb(p, why, len) != 0)
		return -1;
	return pgtmp_restart(p, why, len);
}

/*
 * A streaming replica of primary (pg_basebackup -R: standby.signal and
 * primary_conninfo over primary's socket), on a socket of its own, and
 * started. Returns 0 or -1 with why; pgtmp_stop it in every case.
 */
int
pgtmp_standby(const pgtmp *primary, pgtmp *p, char *why, size_t len)
{
	char prog[300], data[160], log[160], conf[160];
	char *argv[] = {prog, "-D", data, "-h", (char *)primary->dir, "-p",
	    "5432", "-U", "postgres", "-R", "-X", "stream", "--no-sync", NULL};
	int st;
	pid_t pid;
	FILE *f;

	memset(p, 0, sizeof(*p));
	memcpy(p->bindir, primary->bindir, sizeof(p->bindir));
	p->drop = primary->drop;
	p->uid = primary->uid;
	p->gid = primary->gid;
	if (make_dir(p, why, len) != 0)
		return -1;
	snprintf(prog, sizeof(prog), "%s/pg_basebackup", p->bindir);
	snprintf(data, sizeof(data), "%s/data", p->dir);
	snprintf(log, sizeof(log), "%s/basebackup.log", p->dir);
	if ((pid = spawn(p, argv, log)) < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(why, len, "pg_basebackup failed (status %d; see %s)",
		    st, log);
		return -1;
	}
	/* the copied postgresql.conf names the primary's socket directory:
	 * a later line wins */
	snprintf(conf, sizeof(conf), "%s/data/postgresql.conf", p->dir);
	if ((f = fopen(conf, "a")) == NULL) {
		snprintf(why, len, "postgresql.conf: %s", strerror(errno));
		return -1;
	}
	fprintf(f, "unix_socket_directories = '%s'\n", p->dir);
	if (fclose(f) != 0) {
		snprintf(why, len, "cannot write postgresql.conf");
		return -1;
	}
	return pgtmp_restart(p, why, len);
}

/* Waits for the postmaster for up to ms; true once it is gone. */
static bool
reaped(pgtmp *p, int ms)
{
	int64_t deadline = now_ms() + ms;
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(p->pid, &st, WNOHANG);
		if (r == p->pid || (r < 0 && errno == ECHILD))
			return true;
		if (now_ms() > deadline)
			return false;
		sleep_ms(10);
	}
}

int
pgtmp_halt(pgtmp *p)
{
	if (p->pid <= 0)
		return 0;
	kill(p->pid, SIGINT); /* fast shutdown */
	if (!reaped(p, 30000)) {
		kill(p->pid, SIGKILL);
		reaped(p, 5000);
	}
	p->pid = 0;
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

void
pgtmp_stop(pgtmp *p)
{
	pgtmp_halt(p);
	if (p->dir[0] != '\0' &&
	    nftw(p->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
		fprintf(stderr, "pgtmp: cannot remove %s: %s\n", p->dir,
		    strerror(errno));
	p->dir[0] = '\0';
}
