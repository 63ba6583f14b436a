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

#endif
