/*
 * config.h - the settings of `privd serve`: its flags, and the file
 * `--config FILE` names (/etc/privd/privd.conf under systemd).
 *
 * The file has one setting a line, "key = value", the keys being the
 * flags' names without "--" (data-dir, store, listen, workers, max-request,
 * map-size, log-level, audit-checkpoint-every, retention-interval,
 * clock-behind-ok = yes|no, store-wait); listen may be given several times;
 * blank lines and lines starting with '#' are ignored. An unknown key, a bad
 * value, a key given twice or a line without '=' is an error naming the
 * file and the line, and privd does not start. A flag overrides the
 * file's setting of the same name (the --listen flags, all of the file's
 * listen lines). `privd serve --check` prints the settings in force and
 * exits, so that an operator checks a changed file before restarting.
 */
#ifndef PRIVD_CONFIG_H
#define PRIVD_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "server.h"

typedef struct serve_config {
	server_config srv; /* what the server gets; its strings point into
	                      argv or into text */
	int log_level;     /* LOG_ERR..LOG_DEBUG */
	bool check;        /* --check: print the settings, do not serve */
	const char *store; /* --store / store: NULL: datadir.h's default */
	char *text;        /* the file's text (NULL: no file) */
	/* store-wait: how long privd waits at start for a PostgreSQL
	 * store's database, in seconds (startwait.h) */
	unsigned store_wait_s;
} serve_config;

/*
 * Fill c from privd serve's arguments (argv[first..argc)) and the file
 * named by --config, with the defaults for what neither sets (workers:
 * the number of cores; listen: none, the caller's default applies).
 * Returns 0, or EXIT_USAGE after saying why (a bad flag, a file that
 * cannot be read or holds an error: a restart does not fix either). Free
 * with serve_config_free() in both cases.
 */
int serve_config_load(int argc, char **argv, int first, serve_config *c);

void serve_config_free(serve_config *c);

/* Print the settings in force as the file's lines (privd serve --check):
 * every key, defaults included. */
void serve_config_print(const serve_config *c, FILE *f);

#endif
