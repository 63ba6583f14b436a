/*
 * test_privctl_complete.c - what privctl answers bash completion
 * (client/privctl/complete.c, `privctl __complete CWORD -- WORD...`):
 * command names and groups (never the hidden ones), a group's commands,
 * a command's options, what each argument is as its synopsis says
 * (register, purpose, field, put's FIELD= and FIELD=@FILE, files), the
 * values of options (formats, operations, endpoints, files), and nothing
 * for a subject id; from the tables in commands.c, so every command is
 * covered.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "privctl.h"

/* What `__complete CWORD -- WORD...` prints for the line's words (the
 * last one being completed), malloc'd. */
static char *
complete(const char *line)
{
	char *args[64], *copy, *w, cword[16], *out;
	FILE *f = tmpfile();
	struct opts o = {0};
	int n = 2, saved;
	long len;

	assert_non_null(f);
	assert_non_null(copy = strdup(line));
	args[1] = "privctl";
	for (w = strtok(copy, " "); w != NULL && n < 63; w = strtok(NULL, " "))
		args[n++] = strcmp(w, "''") == 0 ? "" : w;
	snprintf(cword, sizeof(cword), "%d", n - 2);
	args[0] = cword;
	fflush(stdout);
	saved = dup(1);
	assert_true(dup2(fileno(f), 1) >= 0);
	assert_int_equal(cmd_complete(&o, args, n), 0);
	fflush(stdout);
	assert_true(dup2(saved, 1) >= 0);
	close(saved);
	len = ftell(f);
	out = calloc(1, (size_t)len + 1);
	rewind(f);
	assert_int_equal(fread(out, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	free(copy);
	return out;
}

/* The candidates for line are exactly want ("a\nb\n"); '' is an empty
 * word. */
static void
expect(const char *line, const char *want)
{
	char *got = complete(line);

	if (strcmp(got, want) != 0)
		fail_msg("%s:\n%s\nnot:\n%s", line, got, want);
	free(got);
}

/* Does what line gets hold the line l? */
static void
expect_has(const char *line, const char *l)
{
	char *got = complete(line), want[128];

	snprintf(want, sizeof(want), "\n%s\n", l);
	if (strncmp(got, want + 1, strlen(want + 1)) != 0 &&
	    strstr(got, want) == NULL)
		fail_msg("%s: no %s in\n%s", line, l, got);
	free(got);
}

static void
test_commands(void **state)
{
	char *all;

	(void)state;
	all = complete("''");
	assert_non_null(strstr(all, "keygen\n"));
	assert_non_null(strstr(all, "audit\n"));
	assert_non_null(strstr(all, "relationship-end\n"));
	/* a group once, hidden commands never */
	assert_null(strstr(strstr(all, "audit\n") + 1, "\naudit\n"));
	assert_null(strstr(all, "__"));
	free(all);
	expect("au", "audit\n");
	expect("audit v", "verify\n");
	expect("subject e", "erase\nexport\n");
	expect("nosuchgroup ''", "");
}

static void
test_options(void **state)
{
	(void)state;
	expect("audit query --n", "--newest\n--not-op\n");
	expect("put --from", "--from-json\n");
	/* global options go with every command */
	expect("ping --for", "--format\n");
	/* not another command's */
	expect("ping --purp", "");
	expect("--format ''", "json\ntable\n");
	expect("--format=t", "--format=table\n");
	expect("audit tail --not-op subject_er", "subject_erase\n");
	expect("--endpoint ''", "ipc://\ntcp://\n@nospace\n");
	expect("--key ''", "@files \n");
	expect("put --from-json ''", "@files \n");
}

/* Each argument as its command's synopsis says. */
static void
test_arguments(void **state)
{
	(void)state;
	expect("get ''", "@policy register - -\n");
	/* the subject id: nothing */
	expect("get customers ''", "");
	expect("get customers c-1 ''", "@policy field customers -\n");
	expect(
	    "get customers c-1 --purpose ''", "@policy purpose customers -\n");
	expect(
	    "--purpose x get customers c-1 n", "@policy field customers -\n");
	expect("put customers c-1 na", "@policy field customers =\n@nospace\n");
	expect("put customers c-1 name=@no", "@files name=@\n");
	/* a literal '@' and a plain value: nothing */
	expect("put customers c-1 name=@@x", "");
	expect("put customers c-1 name=x", "");
	expect(
	    "subject object customers c-1 ''", "@policy purpose customers -\n");
	expect("subject erase c-1 --register ''", "@policy register - -\n");
	expect("report acis ''", "@policy field acis -\n");
	expect("policy check ''", "@files \n");
	expect("backup ''", "@files \n");
	expect("hold list ''", "@policy register - -\n");
	expect("subject lookup --field ''", "@policy field - -\n");
	/* past the last argument: nothing */
	expect("ping ''", "");
	/* after "--": arguments, not options */
	expect("get -- --x ''", "");
	expect_has("audit query --op ''", "ping");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_commands),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
