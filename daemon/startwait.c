/*
 * startwait.c - privd serve's start on a database store that is not
 * answering yet (issue 12).
 *
 * DESIGN. A node of a cluster starts with its host, and its database may
 * not be there yet: PostgreSQL still starting, or Patroni still electing
 * a primary (every server a standby meanwhile). privd serve used to stop
 * at once then. Now, before it opens a PostgreSQL store, it waits until
 * a read-write server answers the store's connection string - libpq's
 * own connection and pg_is_in_recovery(), nothing of privd's schema -
 * at most store-wait seconds (config.c; STARTWAIT_DEFAULT_S). It logs
 * when it starts waiting, then every 10 s, and when the database
 * answers. Only then is the store opened and read (main.c's
 * open_datadir); if that fails while the database does not answer (it
 * went away between the probe and the open), privd waits again within
 * the same bound. A privd restore under way on the database (it holds
 * the serving lock: store_pg_node.c) counts as not answering: a node
 * does not start serving a database whose tables are being replaced,
 * and its listener refuses the lock if the restore began after the
 * probe. A failure while the database answers is not its
 * absence (another master key, a schema of another privd, a damaged
 * store) and ends the start at once, as before, with open's own message.
 * Past the bound privd exits (status 1) saying so and naming the
 * setting: systemd's Restart=on-failure then tries again later.
 *
 * Nothing listens while privd waits, and READY=1 goes to systemd only
 * once every endpoint listens (frontend.c), after all this: a unit
 * ordered after privd waits too. TimeoutStartSec (5 min in
 * contrib/systemd/privd.service) must exceed store-wait plus the audit
 * index's catch-up; systemd's watchdog counts only from READY=1. A
 * SIGTERM while waiting ends privd at once (nothing is open yet).
 *
 * The connection string is never logged (it may hold a password); what
 * is logged of libpq's reason is its first line, as store_pg.c does.
 */
#include "startwait.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clock.h"
#include "datadir.h"
#include "log.h"

#ifdef PRIVD_HAVE_PG
#include <libpq-fe.h>

#include "store_pg.h"
#endif

#define PROBE_TIMEOUT_S "5"         /* libpq's connect_timeout per probe */
#define LOG_EVERY_US    10000000ULL /* while waiting: a line every 10 s */
#define DELAY_MIN_MS    100
#define DELAY_MAX_MS    2000

enum { PROBE_UP = 0, PROBE_DOWN = 1 };

#ifdef PRIVD_HAVE_PG
/* The first line of libpq's message into why. */
static void
first_line(char *why, size_t len, const char *msg)
{
	size_t n = strcspn(msg, "\n");

	if (n == 0) {
		snprintf(why, len, "no answer");
		return;
	}
	snprintf(why, len, "%.*s", (int)n, msg);
}

/*
 * May a node serve the database now? Not while a privd restore holds the
 * serving lock exclusive (store_pg_node.c): the restore replaces every
 * table and ends by checking that nobody wrote meanwhile. The probe's
 * shared hold ends with its connection.
 */
static int
serving_free(PGconn *c, char *why, size_t len)
{
	char sql[64];
	PGresult *r;
	int rc = PROBE_DOWN;

	snprintf(sql, sizeof(sql), "SELECT pg_try_advisory_lock_shared(%lld)",
	    (long long)STORE_PG_LOCK_SERVING);
	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
		first_line(why, len, PQerrorMessage(c));
	else if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		snprintf(why, len, "a privd restore is under way on it");
	else
		rc = PROBE_UP;
	PQclear(r);
	return rc;
}

/*
 * Does a read-write server answer spec now? PROBE_UP, or PROBE_DOWN with
 * libpq's reason (or "a standby") in why. The user's connect_timeout, if
 * the spec sets one, wins over ours (a later setting overrides).
 */
static int
probe(const char *spec, char *why, size_t len)
{
	const char *kw[] = {"connect_timeout", "dbname", NULL};
	const char *val[] = {PROBE_TIMEOUT_S, spec, NULL};
	PGresult *r;
	PGconn *c;
	int rc = PROBE_DOWN;

	if ((c = PQconnectdbParams(kw, val, 1)) == NULL) {
		snprintf(why, len, "out of memory");
		return PROBE_DOWN;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		first_line(why, len, PQerrorMessage(c));
	} else {
		r = PQexec(c, "SELECT pg_is_in_recovery()");
		if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1)
			first_line(why, len, PQerrorMessage(c));
		else if (strcmp(PQgetvalue(r, 0, 0), "t") == 0)
			snprintf(why, len,
			    "the server is a standby: no primary yet");
		else
			rc = serving_free(c, why, len);
		PQclear(r);
	}
	PQfinish(c);
	return rc;
}
#else
static int
probe(const char *spec, char *why, size_t len)
{
	(void)spec;
	(void)why;
	(void)len;
	return PROBE_UP; /* no PostgreSQL here: the open says so */
}
#endif

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Wait until the database answers or the monotonic clock reaches
 * deadline (µs). 0 once it answers, -1 at the deadline (logged). */
static int
wait_db(const char *spec, uint64_t t0, uint64_t deadline, unsigned wait_s)
{
	char why[256];
	uint64_t now, next_log = 0, left_ms;
	unsigned delay = DELAY_MIN_MS;
	bool waited = false;

	for (;;) {
		if (probe(spec, why, sizeof(why)) == PROBE_UP) {
			if (waited)
				log_info("the store's database answers after "
				         "%llu s of waiting",
				    (unsigned long long)((clock_mono_us() -
				                             t0) /
				                         1000000));
			return 0;
		}
		now = clock_mono_us();
		if (now >= deadline) {
			log_err("the store's database did not answer within "
			        "%u s (store-wait; last: %s): privd does not "
			        "start",
			    wait_s, why);
			return -1;
		}
		if (!waited || now >= next_log) {
			log_warn("the store's database does not answer (%s): "
			         "waiting for it, at most %llu s more "
			         "(store-wait)",
			    why,
			    (unsigned long long)((deadline - now + 999999) /
			                         1000000));
			next_log = now + LOG_EVERY_US;
			waited = true;
		}
		left_ms = (deadline - now) / 1000;
		sleep_ms(left_ms < delay ? (unsigned)left_ms + 1 : delay);
		delay = delay * 2 > DELAY_MAX_MS ? DELAY_MAX_MS : delay * 2;
	}
}

int
startwait_open(const char *dir, unsigned wait_s, int (*open)(void *),
    void (*undo)(void *), void *arg)
{
	char spec[DATADIR_MAX_SPEC], why[256];
	uint64_t t0, deadline;
	int rc = -1, answered_fail = 0;

	if (datadir_store_spec(dir, spec, sizeof(spec)) != 0)
		return -1;
	if (!datadir_spec_is_pg(spec) || wait_s == 0) {
		sodium_memzero(spec, sizeof(spec));
		return open(arg);
	}
	t0 = clock_mono_us();
	deadline = t0 + (uint64_t)wait_s * 1000000;
	for (;;) {
		if (wait_db(spec, t0, deadline, wait_s) != 0)
			break;
		if (open(arg) == 0) {
			rc = 0;
			break;
		}
		undo(arg);
		/* the database answers: the open failed for a reason of its
		 * own, which it has logged, and waiting would not mend it;
		 * unless the database went and came back meanwhile, which one
		 * more open tells */
		if (probe(spec, why, sizeof(why)) == PROBE_UP) {
			if (answered_fail++ > 0)
				break;
			continue;
		}
		answered_fail = 0;
		log_warn("the store's database went away, or became busy, "
		         "while privd started (%s): waiting for it again",
		    why);
	}
	sodium_memzero(spec, sizeof(spec));
	return rc;
}
