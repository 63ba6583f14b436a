/*
 * pg.h - privd-bench-pg, the PostgreSQL alternative privd is compared
 * against (issue 8, item (c)): shared declarations of pg.c (command line
 * and output), pg_server.c (a private PostgreSQL in a temporary
 * directory), pg_data.c (the customers register: values, schema, load)
 * and pg_run.c (the timed phases over libpq pipeline mode).
 */
#ifndef PRIVD_BENCH_PG_H
#define PRIVD_BENCH_PG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <libpq-fe.h>

#define PGB_NFIELDS     5 /* fields of a customer, in pgb_field order */
#define PGB_NPUT_FIELDS 3 /* a put writes the first three of them */
#define PGB_PRINCIPAL   "svc"
#define PGB_PURPOSE     "invoicing"
#define PGB_ROLE        "svc" /* the login role requests run as */

/*
 * pgcrypto's OpenPGP options for every stored value. AES-256 with a fresh
 * random salt and IV per value and the MDC integrity check; s2k-mode=1
 * (salted, one hash) because the key is 256 random bits, so the password
 * stretching of the default mode 3 would only burn CPU on every field.
 */
#define PGB_PGP_OPTS "cipher-algo=aes256, s2k-mode=1"

extern const char *const pgb_field[PGB_NFIELDS];

/* Set by SIGINT, SIGTERM or SIGHUP; everything stops and cleans up. */
extern volatile sig_atomic_t pgb_interrupted;

/* A private PostgreSQL server and how to reach it. */
typedef struct pgb_server {
	char bindir[256]; /* initdb and postgres live here */
	char dir[128];    /* temporary directory: data, socket, logs */
	char port[8];
	bool tcp;  /* 127.0.0.1 instead of the unix socket in dir */
	bool drop; /* run the server as uid/gid (we are root) */
	uid_t uid;
	gid_t gid;
	pid_t pid; /* the postmaster; 0 when not running */
	char shared_buffers[16];
	/* more postgresql.conf lines (privd-bench's pg_store.c), or NULL */
	const char *extra_conf;
} pgb_server;

/* The two secrets of a run: random, held by the client only, sent with
 * every request and never stored in the database. */
typedef struct pgb_keys {
	char enc[65]; /* pgp_sym_encrypt password, 64 hex digits */
	char mac[65]; /* hmac key for subject pseudonyms, 64 hex digits */
} pgb_keys;

/* One timed phase: op, clients x requests in flight. */
enum { PGB_GET, PGB_PUT, PGB_MIXED };
typedef struct pgb_phase {
	int op;
	int clients;
	int inflight;
} pgb_phase;

/* What a phase measured. */
typedef struct pgb_result {
	uint64_t requests;
	uint64_t errors;
	double seconds;
	uint32_t p50_us, p99_us, p999_us;
} pgb_result;

/* pg_server.c */
void pgb_signals_init(void);
int pgb_server_find(pgb_server *s, char *why, size_t len);
int pgb_server_start(pgb_server *s, char *why, size_t len);
void pgb_server_stop(pgb_server *s, bool keep);
PGconn *pgb_connect(const pgb_server *s, const char *user);

/* pg_data.c */
void pgb_subject_id(uint32_t subject, char *buf, size_t len);
void pgb_value(int field, uint32_t subject, int gen, char *buf, size_t len);
bool pgb_value_ok(int field, uint32_t subject, const char *got);
int pgb_schema(PGconn *c, bool *no_pgcrypto);
int pgb_load(const pgb_server *s, const pgb_keys *k, uint32_t nsubjects);
int pgb_check_puts(
    PGconn *c, const pgb_keys *k, const uint32_t *subjects, size_t n);

/* pg_run.c */
int pgb_run(const pgb_server *s, const pgb_keys *k, uint32_t nsubjects,
    double seconds, const pgb_phase *ph, pgb_result *out);

/* pg.c */
int64_t pgb_now_us(void);

#endif
