/*
 * pgtmp.h - a private PostgreSQL server for one test: found among
 * Debian's packages, initialised in a temporary directory, reachable only
 * on a unix socket in that directory, run as the `postgres` system user
 * when we are root (postgres refuses root), stopped and removed at the
 * end. The reusable part of bench/pg_server.c, for tests.
 */
#ifndef PRIVD_TEST_PGTMP_H
#define PRIVD_TEST_PGTMP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct pgtmp {
	char bindir[256]; /* initdb and postgres live here */
	char dir[128];    /* temporary directory: data, socket, logs */
	char conninfo[256];
	bool drop; /* run the server as uid/gid (we are root) */
	uid_t uid;
	gid_t gid;
	pid_t pid; /* the postmaster; 0 when not running */
} pgtmp;

/*
 * Finds the binaries ($PRIVD_TEST_PG_BINDIR, else the newest
 * /usr/lib/postgresql/<major>/bin), runs initdb in a new temporary
 * directory and starts the server. conninfo then names its socket and
 * the database "postgres". Returns 0; 1 if PostgreSQL is not installed
 * (the reason in why: the caller skips); -1 on a failure (why). Call
 * pgtmp_stop in every case.
 */
int pgtmp_start(pgtmp *p, char *why, size_t len);
/* Stops the server (fast shutdown); pgtmp_restart starts it again on the
 * same directory. 0 or -1 with why. */
int pgtmp_halt(pgtmp *p);
int pgtmp_restart(pgtmp *p, char *why, size_t len);
/* A streaming replica of primary, started (pg_basebackup -R). 0 or -1
 * with why; pgtmp_stop it in every case. */
int pgtmp_standby(const pgtmp *primary, pgtmp *p, char *why, size_t len);
/* Stops the server if it runs and removes the directory. */
void pgtmp_stop(pgtmp *p);

#endif
