/*
 * test_cli_complete.c - bash completion (contrib/bash-completion/privctl)
 * in a real bash, against a real privd: commands, a command's options and
 * their values come from privctl; registers, purposes and put's FIELD=
 * from the policy in force with a policy_admin key, fetched once and
 * kept (one policy_get audited for several completions); put's
 * FIELD=@FILE completes file names; a key without the role gets no
 * policy names and no error on the terminal. With bash-completion
 * installed, the same again through its word splitting.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"
#include "test_cli_common.h"

#define BASH_COMPLETION "/usr/share/bash-completion/bash_completion"

/* The number of policy_get events in the audit log. */
static size_t
policy_gets(harness *h)
{
	static const char *const ops[] = {"policy_get"};
	privd_client *c = client(h, "auditor");
	privd_audit_filter f = {.ops = ops, .nops = 1, .limit = 1000};
	privd_audit_page *pg = NULL;
	size_t n;

	expect_rc(
	    c, privd_audit_query(c, &f, NULL, 0, &pg), PRIVD_OK, "audit query");
	n = pg->n;
	privd_audit_page_free(&pg);
	privd_close(&c);
	return n;
}

/*
 * Run the lines of body in bash after sourcing the completion (and
 * bash-completion first if with_bc), with c LINE defined to complete
 * LINE (the cursor at its end) and print "[LINE]" then each candidate,
 * '|'-separated; as keyname's privctl (PRIVD_* set, no config file).
 */
static void
run_bash(harness *h, const char *keyname, bool with_bc, const char *body,
    h_result *r)
{
	char path[H_PATH_MAX + 32], *text;
	const char *argv[] = {"/bin/bash", path, NULL};
	const char *completion = getenv("PRIVCTL_COMPLETION");
	int n;

	assert_non_null(completion);
	snprintf(path, sizeof(path), "%s/complete.sh", h->root);
	n = asprintf(&text,
	    "export PRIVD_ENDPOINT='%s' PRIVD_SERVER_KEY='%s' PRIVD_KEY='%s'\n"
	    "export PRIVCTL_CONFIG= HOME='%s'\n"
	    "%s"
	    "source '%s'\n"
	    "P='%s'\n"
	    "COMP_WORDBREAKS=$' \\t\\n\"\\'><=;|&(:'\n"
	    "c() {\n"
	    "  COMP_LINE=\"$P $1\"; COMP_POINT=${#COMP_LINE}\n"
	    "  COMP_WORDS=($COMP_LINE); COMP_CWORD=${#COMP_WORDS[@]}\n"
	    "  [[ $COMP_LINE == *' ' ]] || ((COMP_CWORD--))\n"
	    "  COMPREPLY=(); _privctl\n"
	    "  printf '%%s|' \"[$1]\" \"${COMPREPLY[@]}\"; echo\n"
	    "}\n"
	    "%s",
	    h->endpoint, h->server_key, cli_key_file(h, keyname), h->root,
	    with_bc ? "source " BASH_COMPLETION "\n" : "", completion,
	    h->privctl_bin, body);
	assert_true(n > 0);
	assert_int_equal(h_write_file(path, text, (size_t)n, 0600), 0);
	free(text);
	assert_int_equal(h_run(h, argv, 30000, r), 0);
	if (!WIFEXITED(r->wstatus) || WEXITSTATUS(r->wstatus) != 0)
		fail_msg("bash: %s\n%s", r->out, r->err);
}

/* Does r's output hold the line want? */
static void
expect_line(const h_result *r, const char *want)
{
	char line[2 * H_PATH_MAX + 80];

	snprintf(line, sizeof(line), "%s\n", want);
	if (strstr(r->out, line) == NULL)
		fail_msg("no line %s in:\n%s", want, r->out);
}

static void
completions(void **state, bool with_bc)
{
	harness *h = *state;
	char body[2048], want[2 * H_PATH_MAX + 64];
	h_result r;
	size_t before;

	/* a file for FIELD=@FILE */
	snprintf(body, sizeof(body), "%s/notes.txt", h->root);
	assert_int_equal(h_write_file(body, "x", 1, 0600), 0);
	before = policy_gets(h);
	snprintf(body, sizeof(body),
	    "c 'audit v'\n"
	    "c 'audit query --n'\n"
	    "c '--format '\n"
	    "c 'put '\n"
	    "c 'put customers c-1 na'\n"
	    "c 'get customers c-1 --purpose '\n"
	    "c 'put customers c-1 notes=@%s/no'\n",
	    h->root);
	run_bash(h, "admin", with_bc, body, &r);
	expect_line(&r, "[audit v]|verify|");
	expect_line(&r, "[audit query --n]|--newest|--not-op|");
	expect_line(&r, "[--format ]|json|table|");
	expect_line(&r, "[put ]|customers|");
	/* the part after '=' is readline's word: "name=" whole here */
	expect_line(&r, "[put customers c-1 na]|name=|");
	expect_line(&r, "[get customers c-1 --purpose ]|invoicing|marketing|");
	snprintf(want, sizeof(want),
	    "[put customers c-1 notes=@%s/no]|@%s/notes.txt|", h->root,
	    h->root);
	expect_line(&r, want);
	/* four completions with policy names, one fetch */
	assert_int_equal(policy_gets(h), before + 1);
	assert_string_equal(r.err, "");

	/* no policy_admin: no names, and nothing on the terminal */
	run_bash(h, "svc", with_bc, "c 'put '\nc 'pi'\n", &r);
	expect_line(&r, "[put ]|");
	expect_line(&r, "[pi]|ping|");
	assert_string_equal(r.err, "");
}

static void
test_completion(void **state)
{
	completions(state, false);
}

static void
test_completion_bash_completion(void **state)
{
	if (access(BASH_COMPLETION, R_OK) != 0) {
		fprintf(stderr,
		    "skipped: bash-completion is not installed "
		    "(" BASH_COMPLETION "), so the script's use of its "
		    "word splitting is not exercised here\n");
		skip();
	}
	completions(state, true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_completion, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_completion_bash_completion, cli_setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
