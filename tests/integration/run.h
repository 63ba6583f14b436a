/*
 * run.h - what harness.c uses of run.c to start privd serve and stop it;
 * tests use harness.h.
 */
#ifndef PRIVD_TEST_RUN_H
#define PRIVD_TEST_RUN_H

#include <sys/types.h>

#include "harness.h"

/* Wait at most timeout_ms for child pid to end: 0 once it is reaped, with
 * its wait status in *wstatus (may be NULL), -1 on timeout. */
int run_wait(pid_t pid, int timeout_ms, int *wstatus);

/* SIGKILL child pid and reap it. */
void run_kill(pid_t pid, int *wstatus);

/* h->log opened for appending, or -1 (and why on stderr). */
int run_log_open(const harness *h);

/* Append a line naming the command argv to h->log. */
void run_log_banner(const harness *h, const char *const *argv);

/* fork+exec argv (stdin from /dev/null) with h's test clock and file size
 * limit (h may be NULL); the child's pid, or -1. */
pid_t run_spawn(
    const harness *h, const char *const *argv, int out_fd, int err_fd);

#endif /* PRIVD_TEST_RUN_H */
