/*
 * pgstore.c - the store the integration suite runs privd on (harness.h,
 * "Store"): LMDB in the data directory, or, with
 * PRIVD_TEST_STORE=postgresql (meson test --setup pg), a private
 * PostgreSQL server per test process (tests/unit/pgtmp.c: initdb in a
 * temporary directory, a unix socket only) and a fresh database for every
 * privd init the harness runs.
 *
 * DESIGN: the server starts at the first h_init that needs it and stops
 * at exit (and dies with the test: pgtmp's PR_SET_PDEATHSIG). privd init
 * records the conninfo in the data directory (DIR/store, datadir.h), so
 * privd serve and every other command the tests run find the database by
 * themselves, and a copied data directory names the same database: two
 * privd nodes on one store, as a real cluster runs them.
 */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PRIVD_TEST_HAVE_PG
#include <libpq-fe.h>

#include "pgtmp.h"

static pgtmp server;
static bool started;
static unsigned ndb;

static void
pg_stop_at_exit(void)
{
	pgtmp_stop(&server);
}
#endif

bool
h_store_pg(void)
{
	const char *s = getenv("PRIVD_TEST_STORE");

	return s != NULL && strcmp(s, "postgresql") == 0;
}

void
h_store_check(void)
{
	const char *why = getenv("PRIVD_TEST_LMDB_ONLY");

	if (!h_store_pg())
		return;
#ifndef PRIVD_TEST_HAVE_PG
	printf("SKIP: PRIVD_TEST_STORE=postgresql, but the tests were built "
	       "without libpq\n");
	exit(77);
#endif
	if (why != NULL && *why != '\0') {
		printf("SKIP on PostgreSQL: %s\n", why);
		fflush(stdout);
		exit(77);
	}
}

#ifdef PRIVD_TEST_HAVE_PG
/* Runs sql on the server's "postgres" database: 0 or -1 (said). */
static int
admin(const char *sql)
{
	PGconn *c = PQconnectdb(server.conninfo);
	PGresult *r;
	int rc = -1;

	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "harness: cannot connect to the test "
		                "PostgreSQL\n");
		PQfinish(c);
		return -1;
	}
	r = PQexec(c, sql);
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		rc = 0;
	else
		fprintf(stderr, "harness: %s: %s", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}
#endif

int
h_store_new(char *spec, size_t len, bool log_all)
{
#ifdef PRIVD_TEST_HAVE_PG
	char why[512], sql[128], db[32];
	int rc;

	if (!started) {
		if ((rc = pgtmp_start(&server, why, sizeof(why))) != 0) {
			pgtmp_stop(&server);
			if (rc == 1) {
				printf("SKIP: %s\n", why);
				fflush(stdout);
				exit(77);
			}
			fprintf(stderr, "harness: PostgreSQL: %s\n", why);
			return -1;
		}
		started = true;
		atexit(pg_stop_at_exit);
	}
	snprintf(db, sizeof(db), "privd_%u", ++ndb);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db);
	if (admin(sql) != 0)
		return -1;
	/* for the plaintext test: every statement, with its parameters */
	snprintf(sql, sizeof(sql),
	    "ALTER DATABASE %s SET log_statement = 'all'", db);
	if (log_all && admin(sql) != 0)
		return -1;
	if (snprintf(spec, len, "host=%s port=5432 dbname=%s user=postgres",
	        server.dir, db) >= (int)len)
		return -1;
	return 0;
#else
	(void)spec;
	(void)len;
	(void)log_all;
	fprintf(stderr, "harness: built without libpq\n");
	return -1;
#endif
}

const char *
h_store_server_dir(void)
{
#ifdef PRIVD_TEST_HAVE_PG
	return started ? server.dir : NULL;
#else
	return NULL;
#endif
}

const char *
h_store_bindir(void)
{
#ifdef PRIVD_TEST_HAVE_PG
	return started ? server.bindir : NULL;
#else
	return NULL;
#endif
}
