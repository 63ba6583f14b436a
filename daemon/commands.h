/*
 * commands.h - the commands of the privd program that live outside main.c.
 */
#ifndef PRIVD_COMMANDS_H
#define PRIVD_COMMANDS_H

#include <stdio.h>

#define EXIT_USAGE 2

/* Print privd's usage text (main.c). */
void usage(FILE *f);

/* `privd policy set --data-dir DIR [--force] FILE` (policyset.c). */
int cmd_policy_set(int argc, char **argv);

struct store;
struct crypto_keys;

/* `privd server-key next|rotate|show --data-dir DIR` (server_key.c). */
int cmd_server_key(int argc, char **argv);

/* privd serve at start, before its writer reads the audit log's head
 * (server_key.c): write the audit events of next server keys made while
 * privd ran, and make DIR/server.pub and server.next.pub match the
 * store. 0, or -1 (said on stderr). */
int server_key_at_start(
    struct store *st, struct crypto_keys *keys, const char *dir);

#endif
