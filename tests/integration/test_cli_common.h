/*
 * test_cli_common.h - running privctl as a shell does, for the tests of
 * issue 11's "privctl that fits a shell" (test_cli_input.c,
 * test_cli_config.c, test_cli_format.c, test_cli_progress.c,
 * test_cli_complete.c): with stdin given, an environment of the test's
 * own (HOME a fresh directory, no PRIVD_* or PRIVCTL_* variables unless
 * the test sets them), and stderr on a pseudo-terminal when the test
 * asks. The harness (harness.h) runs privd.
 */
#ifndef PRIVD_TEST_CLI_COMMON_H
#define PRIVD_TEST_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "harness.h"

/*
 * The policy of these tests: register customers as in h_policy_default
 * (purposes invoicing and marketing; fields name, email, notes, blob),
 * principal svc granted read, write and delete of every field for
 * invoicing, admin with the role policy_admin, dpo with the role
 * subject_rights, auditor with the role auditor.
 */
extern const char cli_policy[];

/* A harness with keys svc, admin, auditor and dpo, cli_policy, privd
 * serving:
 * a cmocka setup; h_teardown() ends it. */
int cli_setup(void **state);

/* How to run privctl. */
typedef struct cli_cmd {
	/* the key (by its harness name) given with --key, --endpoint and
	 * --server-key on the command line; NULL: none of these flags */
	const char *key;
	const char *const *args; /* privctl's arguments, NULL-terminated */
	const char *const *env;  /* "NAME=VALUE" set, "NAME" unset; NULL */
	const void *in;          /* stdin (NULL: /dev/null) */
	size_t inlen;
	bool tty; /* stderr on a pseudo-terminal */
} cli_cmd;

/* What a privctl run did. */
typedef struct cli_result {
	int code; /* its exit code; -1 if it did not exit */
	bool timed_out;
	char out[1 << 20]; /* stdout, NUL-terminated, cut if longer */
	char err[16384];   /* stderr (or the terminal's output) */
} cli_result;

/*
 * Run privctl (PRIVCTL_BIN) as c says, within 30 s, into *r (static
 * storage is fine: it is large). The child's HOME is root/home, made
 * once. Fails the test if privctl cannot be started.
 */
void cli_run(harness *h, const cli_cmd *c, cli_result *r);

/* cli_run() of args as key, and expect exit code; shows the output when
 * not. */
void cli_expect(harness *h, const char *key, const char *const *args,
    cli_result *r, int code, const char *what);

/* The harness's privd's server key file (root/server.pub), written once. */
const char *cli_server_pub(harness *h);

/* The key file of name (root/<name>.key, h_key_file). */
const char *cli_key_file(harness *h, const char *name);

#endif /* PRIVD_TEST_CLI_COMMON_H */
