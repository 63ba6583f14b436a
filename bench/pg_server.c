/*
 * pg_server.c - a private PostgreSQL for one benchmark run: found among
 * Debian's packages, initialised in a temporary directory, reachable on a
 * unix socket in that directory (or 127.0.0.1 on a free port), run as the
 * `postgres` system user when we are root (postgres refuses root), and
 * always stopped and removed at the end, also on SIGINT.
 *
 * DESIGN: only the main thread starts and stops the server. The signal
 * handler may run on any thread; it sets pgb_interrupted and asks the
 * running child (initdb or the postmaster) to stop, which makes every
 * blocked libpq call return with an error, so the threads notice and the
 * main thread cleans up.
 */
#define _GNU_SOURCE /* nftw */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pg.h"

volatile sig_atomic_t pgb_interrupted;
static volatile sig_atomic_t child_pid; /* initdb or postmaster, or 0 */

/*
 * The settings a careful operator would give a small machine (2 vCPUs)
 * that must not lose a committed request: written into postgresql.conf
 * so a --keep'd cluster restarts the same way. shared_buffers follows the
 * usual rule of a quarter of RAM, capped at 2 GB (it holds the whole
 * 1M-subject register and its indexes); the rest are stated here.
 */
static const char settings[] =
    "\n# privd-bench-pg: durable commits, tuned as an operator would\n"
    "fsync = on\n"
    "synchronous_commit = on\n" /* WAL flushed before the commit reply */
    "full_page_writes = on\n"
    "wal_level = replica\n" /* the default: backups stay possible */
    "commit_delay = 0\n"    /* the default; commits still share flushes */
    "max_wal_size = 4GB\n"  /* no checkpoint storm inside a phase */
    "checkpoint_timeout = 15min\n"
    "checkpoint_completion_target = 0.9\n"
    "jit = off\n" /* small statements; JIT only adds latency */
    "max_connections = 100\n"
    "log_min_messages = warning\n"
    "log_checkpoints = off\n";

static void
on_signal(int sig)
{
	pid_t pid = child_pid;

	pgb_interrupted = 1;
	if (pid > 0)
		kill(pid, SIGINT); /* fast shutdown: clients see an error */
}

void
pgb_signals_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static bool
executable(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, X_OK) == 0;
}

/*
 * Finds initdb and postgres: $PRIVD_BENCH_PG_BINDIR if set, else the
 * newest /usr/lib/postgresql/<major>/bin (Debian's layout), and the user
 * to run them as. Returns 0, or -1 with the reason in why.
 */
int
pgb_server_find(pgb_server *s, char *why, size_t len)
{
	const char *env = getenv("PRIVD_BENCH_PG_BINDIR");
	struct passwd *pw;
	struct dirent *de;
	DIR *d;
	long best = -1, v;
	char *end, cand[64];

	if (env != NULL && *env != '\0') {
		if (strlen(env) >= sizeof(s->bindir)) {
			snprintf(why, len, "PRIVD_BENCH_PG_BINDIR is too long");
			return -1;
		}
		strcpy(s->bindir, env);
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
				strcpy(s->bindir, cand);
			}
		}
		closedir(d);
	}
	if (s->bindir[0] == '\0' || !executable(s->bindir, "postgres") ||
	    !executable(s->bindir, "initdb")) {
		snprintf(why, len,
		    "PostgreSQL server binaries not found (install Debian's "
		    "postgresql package, or set PRIVD_BENCH_PG_BINDIR)");
		return -1;
	}
	if (geteuid() == 0) {
		if ((pw = getpwnam("postgres")) == NULL || pw->pw_uid == 0) {
			snprintf(why, len,
			    "running as root and there is no 'postgres' user "
			    "to "
			    "run PostgreSQL as");
			return -1;
		}
		s->drop = true;
		s->uid = pw->pw_uid;
		s->gid = pw->pw_gid;
	}
	return 0;
}

/* A port nobody listens on now; the server binds it a moment later. */
static int
free_port(char *buf, size_t len)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
		close(fd);
		return -1;
	}
	close(fd);
	snprintf(buf, len, "%u", ntohs(a.sin_port));
	return 0;
}

/*
 * Forks argv[0] (a path) as the server's user, in a session of its own
 * (a terminal's ^C reaches us, and we stop it in order), with stdout and
 * stderr appended to logpath. The child dies with us even on SIGKILL.
 * Only async-signal-safe calls run between fork and exec.
 */
static pid_t
spawn(const pgb_server *s, char *const argv[], const char *logpath)
{
	pid_t pid;
	int fd;

	if ((pid = fork()) != 0)
		return pid;
	setsid();
	if (s->drop && (setgroups(1, &s->gid) != 0 || setgid(s->gid) != 0 ||
	                   setuid(s->uid) != 0))
		_exit(126);
	prctl(PR_SET_PDEATHSIG, SIGQUIT); /* after setuid, which clears it */
	if ((fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0 ||
	    dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		_exit(126);
	close(fd);
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
	if (chdir(s->dir) != 0)
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

/* Copies the last lines of a log to stderr: start-up messages only,
 * written before any data exists. */
static void
log_tail(const char *path)
{
	char buf[2048];
	FILE *f;
	long size;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f,
	    size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0,
	    SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	fprintf(stderr, "privd-bench-pg: --- end of %s ---\n%s\n", path, buf);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Total RAM / 4, capped at 2 GB, at least 128 MB; in MB. */
static long
shared_buffers_mb(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
	long mb = pages > 0 && psz > 0
	              ? (long)((double)pages * psz / 4 / (1024 * 1024))
	              : 128;

	return mb > 2048 ? 2048 : mb < 128 ? 128 : mb;
}

static int
write_settings(pgb_server *s, char *why, size_t len)
{
	char path[192];
	FILE *f;

	snprintf(path, sizeof(path), "%s/data/postgresql.conf", s->dir);
	snprintf(s->shared_buffers, sizeof(s->shared_buffers), "%ldMB",
	    shared_buffers_mb());
	if ((f = fopen(path, "a")) == NULL) {
		snprintf(why, len, "cannot open postgresql.conf: %s",
		    strerror(errno));
		return -1;
	}
	fputs(settings, f);
	fprintf(f, "shared_buffers = %s\n", s->shared_buffers);
	fprintf(f, "unix_socket_directories = '%s'\n", s->dir);
	fprintf(f, "listen_addresses = '%s'\n", s->tcp ? "127.0.0.1" : "");
	fprintf(f, "port = %s\n", s->port);
	if (s->extra_conf != NULL)
		fputs(s->extra_conf, f);
	if (fclose(f) != 0) {
		snprintf(why, len, "cannot write postgresql.conf");
		return -1;
	}
	return 0;
}

/* Runs initdb to completion. */
static int
run_initdb(pgb_server *s, char *why, size_t len)
{
	char prog[300], data[160], log[160];
	char *argv[] = {prog, "-D", data, "-U", "postgres", "--auth=trust",
	    "--encoding=UTF8", "--locale=C", "--no-sync", NULL};
	int st;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/initdb", s->bindir);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(log, sizeof(log), "%s/initdb.log", s->dir);
	if ((pid = spawn(s, argv, log)) < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	child_pid = pid;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	child_pid = 0;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (!pgb_interrupted)
			log_tail(log);
		snprintf(why, len, "initdb failed (status %d)", st);
		return -1;
	}
	return 0;
}

/*
 * Creates the temporary directory, initialises a cluster in it, starts
 * the postmaster and waits (60 s at most) until it accepts connections.
 * Returns 0, or -1 with the reason in why; pgb_server_stop cleans up
 * either way.
 */
int
pgb_server_start(pgb_server *s, char *why, size_t len)
{
	const char *tmp = getenv("TMPDIR");
	char prog[300], data[160], log[160];
	char *argv[] = {prog, "-D", data, NULL};
	int64_t deadline;
	int st;
	pid_t pid;

	/* The socket path (dir + "/.s.PGSQL.65535") must fit sun_path. */
	if (tmp == NULL || tmp[0] != '/' || strlen(tmp) > 60 || s->drop)
		tmp = "/tmp"; /* the postgres user may not reach $TMPDIR */
	snprintf(s->dir, sizeof(s->dir), "%s/privd-bench-pg.XXXXXX", tmp);
	if (mkdtemp(s->dir) == NULL) {
		snprintf(why, len, "mkdtemp in %s: %s", tmp, strerror(errno));
		s->dir[0] = '\0';
		return -1;
	}
	if (s->drop && chown(s->dir, s->uid, s->gid) != 0) {
		snprintf(why, len, "chown of the temporary directory: %s",
		    strerror(errno));
		return -1;
	}
	if (s->tcp) {
		if (free_port(s->port, sizeof(s->port)) != 0) {
			snprintf(why, len, "no free port on 127.0.0.1");
			return -1;
		}
	} else {
		strcpy(s->port, "5432"); /* names the socket in our dir */
	}
	fprintf(stderr, "privd-bench-pg: initdb in %s\n", s->dir);
	if (run_initdb(s, why, len) != 0 || write_settings(s, why, len) != 0)
		return -1;

	snprintf(prog, sizeof(prog), "%s/postgres", s->bindir);
	snprintf(data, sizeof(data), "%s/data", s->dir);
	snprintf(log, sizeof(log), "%s/server.log", s->dir);
	if ((pid = spawn(s, argv, log)) < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	s->pid = pid;
	child_pid = pid;
	if (pgb_interrupted) /* the handler may have missed the new pid */
		kill(pid, SIGINT);
	deadline = pgb_now_us() + 60 * 1000000LL;
	for (;;) {
		const char *kw[] = {"host", "port", "user", "dbname", NULL};
		const char *val[] = {s->tcp ? "127.0.0.1" : s->dir, s->port,
		    "postgres", "postgres", NULL};

		if (PQpingParams(kw, val, 0) == PQPING_OK)
			return 0;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			s->pid = 0;
			child_pid = 0;
			if (!pgb_interrupted)
				log_tail(log);
			snprintf(why, len, "postgres exited at start-up");
			return -1;
		}
		if (pgb_interrupted || pgb_now_us() > deadline) {
			snprintf(why, len, "postgres did not start in 60 s");
			return -1;
		}
		sleep_ms(50);
	}
}

/* Opens a blocking connection as user (postgres or PGB_ROLE), or NULL
 * with the reason on stderr. */
PGconn *
pgb_connect(const pgb_server *s, const char *user)
{
	const char *kw[] = {"host", "port", "user", "dbname",
	    "application_name", "client_encoding", "sslmode", NULL};
	const char *val[] = {s->tcp ? "127.0.0.1" : s->dir, s->port, user,
	    "postgres", "privd-bench-pg", "UTF8", "disable", NULL};
	PGconn *c = PQconnectdbParams(kw, val, 0);

	if (c == NULL || PQstatus(c) != CONNECTION_OK) {
		if (!pgb_interrupted)
			fprintf(stderr, "privd-bench-pg: connect: %s",
			    c ? PQerrorMessage(c) : "out of memory\n");
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Waits for the postmaster for up to ms; true once it is gone. */
static bool
reaped(pgb_server *s, int ms)
{
	int64_t deadline = pgb_now_us() + (int64_t)ms * 1000;
	int st;
	pid_t r;

	for (;;) {
		r = waitpid(s->pid, &st, WNOHANG);
		if (r == s->pid || (r < 0 && errno == ECHILD))
			return true;
		if (pgb_now_us() > deadline)
			return false;
		sleep_ms(20);
	}
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

/*
 * Stops the postmaster (fast shutdown; immediate, then SIGKILL, if it
 * hangs) and removes the temporary directory unless keep.
 */
void
pgb_server_stop(pgb_server *s, bool keep)
{
	if (s->pid > 0) {
		kill(s->pid, SIGINT);
		if (!reaped(s, 30000)) {
			kill(s->pid, SIGQUIT);
			if (!reaped(s, 5000)) {
				kill(s->pid, SIGKILL);
				reaped(s, 5000);
			}
		}
		child_pid = 0;
		s->pid = 0;
	}
	if (s->dir[0] == '\0')
		return;
	if (keep) {
		fprintf(stderr,
		    "privd-bench-pg: kept %s (start it again with: %s%s/pg_ctl "
		    "-D %s/data -l %s/server.log start)\n",
		    s->dir, s->drop ? "runuser -u postgres -- " : "", s->bindir,
		    s->dir, s->dir);
	} else if (nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
		fprintf(stderr, "privd-bench-pg: cannot remove %s: %s\n",
		    s->dir, strerror(errno));
	}
	s->dir[0] = '\0';
}
