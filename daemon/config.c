/*
 * config.c - privd serve's settings from its flags and its --config file
 * (config.h): one table of settings, read by both, so that every flag has
 * its key in the file, with the same bounds and the same messages.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "commands.h"
#include "datadir.h"
#include "log.h"
#include "startwait.h"
#include "store.h"

#define CONFIG_MAX_BYTES (64 * 1024) /* larger is not a privd.conf */

enum kind { K_INT, K_STRING, K_LISTEN, K_LEVEL, K_BOOL };

/* A setting: its key in the file (the flag is "--" key), what it holds,
 * and for numbers the bounds and default (0: computed at start). */
typedef struct setting {
	const char *key;
	enum kind kind;
	long long min, max, def;
	const char *what;
} setting;

enum {
	S_DATA_DIR,
	S_STORE,
	S_LISTEN,
	S_WORKERS,
	S_MAX_REQUEST,
	S_MAP_SIZE,
	S_LOG_LEVEL,
	S_CKPT_EVERY,
	S_RETENTION_INTERVAL,
	S_CLOCK_BEHIND_OK,
	S_DEADLINE_GRACE,
	S_STORE_WAIT,
	S_N
};

static const setting settings[S_N] = {
    [S_DATA_DIR] = {"data-dir", K_STRING, 0, 0, 0, NULL},
    [S_STORE] = {"store", K_STRING, 0, 0, 0, NULL},
    [S_LISTEN] = {"listen", K_LISTEN, 0, 0, 0, NULL},
    [S_WORKERS] = {"workers", K_INT, 1, 256, 0,
        "worker threads (default: cores)"},
    [S_MAX_REQUEST] = {"max-request", K_INT, 1024, 64LL << 20,
        SERVER_DEFAULT_MAX_REQUEST, "largest request frame in bytes"},
    [S_MAP_SIZE] = {"map-size", K_INT, STORE_MIN_MAPSIZE, 1LL << 40,
        STORE_DEFAULT_MAPSIZE, "initial LMDB map size in bytes"},
    [S_LOG_LEVEL] = {"log-level", K_LEVEL, 0, 0, LOG_INFO, NULL},
    [S_CKPT_EVERY] = {"audit-checkpoint-every", K_INT, 1, 1000000,
        AUDIT_DEFAULT_CKPT_EVERY, "audit events between signed checkpoints"},
    [S_RETENTION_INTERVAL] = {"retention-interval", K_INT, 0, 7LL * 86400, 60,
        "seconds between retention sweeps (0: only on demand)"},
    [S_CLOCK_BEHIND_OK] = {"clock-behind-ok", K_BOOL, 0, 0, 0, NULL},
    /* 0 by default: any grace lets a change land that much after its
     * client gave up on it; an attempt lasts seconds, so ordinary NTP
     * skew expires nothing early without one */
    [S_DEADLINE_GRACE] = {"deadline-grace", K_INT, 0, 60000, 0,
        "milliseconds a request's deadline is stretched for clock skew"},
    [S_STORE_WAIT] = {"store-wait", K_INT, 0, STARTWAIT_MAX_S,
        STARTWAIT_DEFAULT_S,
        "seconds to wait at start for a PostgreSQL store's database (0: "
        "none)"},
};

/* The settings one source (the flags, or the file) gives. */
typedef struct values {
	bool set[S_N];
	int line[S_N]; /* in the file: where it was set */
	long long num[S_N];
	const char *str[S_N];
	const char *listen[SERVER_MAX_LISTEN];
	size_t nlisten;
} values;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static int
setting_find(const char *key)
{
	int s;

	for (s = 0; s < S_N; s++)
		if (strcmp(key, settings[s].key) == 0)
			return s;
	return -1;
}

/*
 * Set setting s of v from text val. where names the source in messages:
 * "--workers" for a flag, "FILE:LINE: workers" for the file. -1 (after
 * saying why) for a bad value.
 */
static int
value_set(values *v, int s, const char *val, const char *where)
{
	const setting *st = &settings[s];
	char *end;
	long long n;
	int i;

	switch (st->kind) {
	case K_INT:
		errno = 0;
		n = strtoll(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0' || n < st->min ||
		    n > st->max) {
			log_err("%s must be an integer in %lld..%lld (%s)",
			    where, st->min, st->max, st->what);
			return -1;
		}
		v->num[s] = n;
		break;
	case K_STRING:
		if (*val == '\0') {
			log_err("%s must not be empty", where);
			return -1;
		}
		v->str[s] = val;
		break;
	case K_LISTEN:
		if (v->nlisten == SERVER_MAX_LISTEN) {
			log_err("%s: at most %d endpoints", where,
			    SERVER_MAX_LISTEN);
			return -1;
		}
		v->listen[v->nlisten++] = val;
		break;
	case K_LEVEL:
		for (i = 0; i <= LOG_DEBUG; i++)
			if (strcmp(val, level_names[i]) == 0)
				break;
		if (i > LOG_DEBUG) {
			log_err("%s must be error, warn, info or debug", where);
			return -1;
		}
		v->num[s] = i;
		break;
	case K_BOOL:
		if (strcmp(val, "yes") == 0 || strcmp(val, "true") == 0)
			v->num[s] = 1;
		else if (strcmp(val, "no") == 0 || strcmp(val, "false") == 0)
			v->num[s] = 0;
		else {
			log_err("%s must be yes or no", where);
			return -1;
		}
		break;
	}
	v->set[s] = true;
	return 0;
}

/* Trim blanks (and a CR) from both ends of s, in place. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * Parse the file's text (NUL-terminated, cut into lines in place) into
 * v. -1 (after naming the file and line) at the first error.
 */
static int
parse_file(const char *path, char *text, size_t len, values *v)
{
	char where[512], *line, *next, *eq, *key, *val;
	int lineno = 0, s;

	if (strlen(text) != len) {
		log_err("%s: not a text file (a NUL byte)", path);
		return -1;
	}
	for (line = text; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			log_err(
			    "%s:%d: not a \"key = value\" line", path, lineno);
			return -1;
		}
		*eq = '\0';
		key = trim(line);
		val = trim(eq + 1);
		if ((s = setting_find(key)) < 0) {
			log_err(
			    "%s:%d: unknown setting \"%s\"", path, lineno, key);
			return -1;
		}
		if (v->set[s] && settings[s].kind != K_LISTEN) {
			log_err("%s:%d: %s is set again (first on line %d)",
			    path, lineno, key, v->line[s]);
			return -1;
		}
		if (*val == '\0') {
			log_err("%s:%d: %s has no value", path, lineno, key);
			return -1;
		}
		snprintf(where, sizeof(where), "%s:%d: %s", path, lineno, key);
		if (value_set(v, s, val, where) != 0)
			return -1;
		v->line[s] = lineno;
	}
	return 0;
}

/* Read and parse the file into v; its text (kept: v points into it) goes
 * to *text. */
static int
load_file(const char *path, values *v, char **text)
{
	struct stat st;
	size_t len;

	if (stat(path, &st) != 0) {
		log_err("--config %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("--config %s: not a regular file", path);
		return -1;
	}
	if ((*text = datadir_read_file(path, CONFIG_MAX_BYTES, &len)) == NULL)
		return -1;
	return parse_file(path, *text, len, v);
}

/*
 * The flags, as privd serve has always read them: "--key value" for
 * every setting but --clock-behind-ok; a flag given again overrides
 * (--listen adds). --config FILE once; --check.
 */
static int
parse_flags(int argc, char **argv, int first, values *v, const char **config,
    bool *check)
{
	int i, s;

	*config = NULL;
	for (i = first; i < argc; i++) {
		const char *a = argv[i],
		           *arg = i + 1 < argc ? argv[i + 1] : NULL;

		if (strncmp(a, "--", 2) != 0) {
			usage(stderr);
			return -1;
		}
		if (strcmp(a, "--config") == 0 && arg != NULL &&
		    *config == NULL) {
			*config = arg;
			i++;
			continue;
		}
		if (strcmp(a, "--check") == 0) {
			*check = true;
			continue;
		}
		if ((s = setting_find(a + 2)) < 0) {
			usage(stderr);
			return -1;
		}
		if (settings[s].kind == K_BOOL) {
			v->num[s] = 1;
			v->set[s] = true;
			continue;
		}
		if (arg == NULL) {
			usage(stderr);
			return -1;
		}
		if (value_set(v, s, arg, a) != 0) {
			if (settings[s].kind == K_LEVEL)
				usage(stderr);
			return -1;
		}
		i++;
	}
	return 0;
}

/* Setting s: the flag's, else the file's, else the default. */
static long long
pick_num(const values *fl, const values *fv, int s)
{
	if (fl->set[s])
		return fl->num[s];
	if (fv->set[s])
		return fv->num[s];
	return settings[s].def;
}

int
serve_config_load(int argc, char **argv, int first, serve_config *c)
{
	values fl, fv;
	const char *config;
	const values *lv;
	long ncpu;
	size_t i;

	memset(c, 0, sizeof(*c));
	memset(&fl, 0, sizeof(fl));
	memset(&fv, 0, sizeof(fv));
	if (parse_flags(argc, argv, first, &fl, &config, &c->check) != 0)
		return EXIT_USAGE;
	if (config != NULL && load_file(config, &fv, &c->text) != 0)
		return EXIT_USAGE;

	c->srv.datadir =
	    fl.set[S_DATA_DIR] ? fl.str[S_DATA_DIR] : fv.str[S_DATA_DIR];
	if (c->srv.datadir == NULL) {
		if (config != NULL)
			log_err("no data directory: neither --data-dir nor "
			        "data-dir in %s",
			    config);
		else
			usage(stderr);
		return EXIT_USAGE;
	}
	c->store = fl.set[S_STORE] ? fl.str[S_STORE] : fv.str[S_STORE];
	lv = fl.nlisten > 0 ? &fl : &fv;
	for (i = 0; i < lv->nlisten; i++)
		c->srv.listen[i] = lv->listen[i];
	c->srv.nlisten = lv->nlisten;
	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (fl.set[S_WORKERS] || fv.set[S_WORKERS])
		c->srv.workers = (int)pick_num(&fl, &fv, S_WORKERS);
	else
		c->srv.workers = ncpu < 1 ? 1 : ncpu > 256 ? 256 : (int)ncpu;
	c->srv.max_request = (size_t)pick_num(&fl, &fv, S_MAX_REQUEST);
	c->srv.mapsize = (size_t)pick_num(&fl, &fv, S_MAP_SIZE);
	c->srv.ckpt_every = (uint64_t)pick_num(&fl, &fv, S_CKPT_EVERY);
	c->srv.retention_interval_s =
	    (uint64_t)pick_num(&fl, &fv, S_RETENTION_INTERVAL);
	c->srv.clock_behind_ok = pick_num(&fl, &fv, S_CLOCK_BEHIND_OK) != 0;
	c->srv.deadline_grace_ms =
	    (uint64_t)pick_num(&fl, &fv, S_DEADLINE_GRACE);
	c->log_level = (int)pick_num(&fl, &fv, S_LOG_LEVEL);
	c->store_wait_s = (unsigned)pick_num(&fl, &fv, S_STORE_WAIT);
	return 0;
}

void
serve_config_free(serve_config *c)
{
	free(c->text);
	c->text = NULL;
}

void
serve_config_print(const serve_config *c, FILE *f)
{
	const server_config *sc = &c->srv;
	size_t i;

	fprintf(f, "data-dir = %s\n", sc->datadir);
	/* a connection string may hold a password: never printed */
	if (c->store == NULL)
		fprintf(f, "# store: none given, %s/%s or lmdb:DATA-DIR\n",
		    sc->datadir, DATADIR_STORE_FILE);
	else if (datadir_spec_is_pg(c->store))
		fprintf(f, "# store = (a PostgreSQL connection string, not "
		           "shown: it may hold a password)\n");
	else
		fprintf(f, "store = %s\n", c->store);
	for (i = 0; i < sc->nlisten; i++)
		fprintf(f, "listen = %s\n", sc->listen[i]);
	if (sc->nlisten == 0)
		fprintf(f, "# listen: none given, ipc://DATA-DIR/privd.sock\n");
	fprintf(f, "workers = %d\n", sc->workers);
	fprintf(f, "max-request = %zu\n", sc->max_request);
	fprintf(f, "map-size = %zu\n", sc->mapsize);
	fprintf(f, "log-level = %s\n", level_names[c->log_level]);
	fprintf(f, "audit-checkpoint-every = %llu\n",
	    (unsigned long long)sc->ckpt_every);
	fprintf(f, "retention-interval = %llu\n",
	    (unsigned long long)sc->retention_interval_s);
	fprintf(
	    f, "clock-behind-ok = %s\n", sc->clock_behind_ok ? "yes" : "no");
	fprintf(f, "deadline-grace = %llu\n",
	    (unsigned long long)sc->deadline_grace_ms);
	fprintf(f, "store-wait = %u\n", c->store_wait_s);
}
