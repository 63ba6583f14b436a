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

	if (getenv("PRIVD_TEST_PG_LOG_ALL") != NULL)
		log_all = true;
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

int
h_store_halt(void)
{
#ifdef PRIVD_TEST_HAVE_PG
	return started ? pgtmp_halt(&server) : -1;
#else
	return -1;
#endif
}

int
h_store_resume(void)
{
#ifdef PRIVD_TEST_HAVE_PG
	char why[256];

	if (!started || pgtmp_restart(&server, why, sizeof(why)) != 0) {
		fprintf(
		    stderr, "harness: PostgreSQL: %s\n", started ? why : "");
		return -1;
	}
	return 0;
#else
	return -1;
#endif
}

int
h_store_drop_connections(const harness *h)
{
#ifdef PRIVD_TEST_HAVE_PG
	const char *db = strstr(h->store_spec, "dbname=");
	char sql[256];
	size_t n;

	if (!started || db == NULL)
		return -1;
	db += 7;
	n = strcspn(db, " ");
	snprintf(sql, sizeof(sql),
	    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
	    "datname = '%.*s' AND pid <> pg_backend_pid()",
	    (int)n, db);
	{
		PGconn *c = PQconnectdb(server.conninfo);
		PGresult *r = PQexec(c, sql);
		int rc = PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;

		PQclear(r);
		PQfinish(c);
		return rc;
	}
#else
	(void)h;
	return -1;
#endif
}

/*
 * to's data directory (a copy of from's, privd stopped) on a database of
 * its own: a copy of from's (CREATE DATABASE ... TEMPLATE), named in
 * to's DIR/store. Two independent stores with the same keys, as a copied
 * LMDB directory is. 0, or -1 (said).
 */
int
h_store_clone(const harness *from, harness *to)
{
#ifdef PRIVD_TEST_HAVE_PG
	const char *db = strstr(from->store_spec, "dbname=");
	char sql[160], name[32], path[H_PATH_MAX + 16];
	size_t n;

	if (!started || db == NULL)
		return -1;
	db += 7;
	n = strcspn(db, " ");
	snprintf(name, sizeof(name), "privd_%u", ++ndb);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE %.*s", name,
	    (int)n, db);
	if (admin(sql) != 0)
		return -1;
	if (snprintf(to->store_spec, sizeof(to->store_spec),
	        "host=%s port=5432 dbname=%s user=postgres", server.dir,
	        name) >= (int)sizeof(to->store_spec) ||
	    snprintf(path, sizeof(path), "%s/store", to->data_dir) >=
	        (int)sizeof(path))
		return -1;
	{
		char line[H_PATH_MAX + 2];
		int len = snprintf(line, sizeof(line), "%s\n", to->store_spec);

		return h_write_file(path, line, (size_t)len, 0600);
	}
#else
	(void)from;
	(void)to;
	return -1;
#endif
}
