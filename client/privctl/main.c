/*
 * privctl: command-line client of privd, built on libprivd. It also links
 * the policy model (policy/), only to validate policy files offline with
 * the same code privd runs; it talks to privd through libprivd alone.
 *
 * main.c: the command line (options from commands.c's table), the order
 * in which privctl settles what it needs (options, then config.c's
 * settings, then the command's check, then the command), help, and the
 * connection. The commands live in cmd_<group>.c, output and exit codes
 * in output.c.
 *
 * Lines for people by default (--format table), one JSON object on stdout
 * with --format json (--json, PRIVCTL_FORMAT), errors included. Exit codes
 * are stable (DESIGN.md section 8) so that scripts can branch on them:
 * 0 ok, 1 anything else, 2 usage, 3 denied, 4 not found, 5 invalid input,
 * 6 retained or conflict, 7 the audit log does not verify, 8 the CURVE
 * handshake fails (wrong server key), 9 in doubt (with several endpoints,
 * a node took a change and did not answer: it may or may not have been
 * carried out). Error messages
 * never contain a subject id or a value: they are built from privd's
 * messages (which never do either) and from command-line positions, never
 * from the arguments themselves.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "privctl.h"

#ifndef PRIVD_VERSION
#define PRIVD_VERSION "unknown"
#endif

/* Help text is wrapped to this many columns. */
#define HELP_COLS 78

/*
 * Print text word by word from column col, wrapping at HELP_COLS onto
 * lines indented by indent, then a newline. Each word is preceded by a
 * blank, except the first of a continuation line.
 */
static void
print_wrapped(const char *text, size_t col, size_t indent)
{
	int fresh = 0; /* at the start of a continuation line */
	size_t n;

	for (;;) {
		text += strspn(text, " ");
		if (*text == '\0')
			break;
		n = strcspn(text, " ");
		if (!fresh && col > indent && col + 1 + n > HELP_COLS) {
			printf("\n%*s", (int)indent, "");
			col = indent;
			fresh = 1;
		}
		if (!fresh) {
			putchar(' ');
			col++;
		}
		fresh = 0;
		fwrite(text, 1, n, stdout);
		col += n;
		text += n;
	}
	putchar('\n');
}

/* Print text with every line indented by 6 columns. */
static void
print_indented(const char *text)
{
	size_t n;

	while (*text != '\0') {
		n = strcspn(text, "\n");
		printf("      %.*s\n", (int)n, text);
		text += n + (text[n] == '\n');
	}
}

/* A command's full name ("policy show") into buf. */
static const char *
full_name(const struct command *cmd, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s%s", cmd->group ? cmd->group : "",
	    cmd->group ? " " : "", cmd->name);
	return buf;
}

/* One command in the help: its synopsis, then what it does. */
static void
print_command(const struct command *cmd)
{
	char name[64];

	printf("  %s", full_name(cmd, name, sizeof(name)));
	print_wrapped(cmd->synopsis, 2 + strlen(name), 6 + strlen(name));
	print_indented(cmd->help);
}

/*
 * --help: everything with no command (or an unknown one), one command
 * alone, or every command of a group.
 */
static int
print_help(const struct command *cmd, const char *group)
{
	static const char usage[] = "usage: privctl [options]";
	char name[64];
	size_t i;

	if (cmd != NULL) {
		printf("%s %s", usage, full_name(cmd, name, sizeof(name)));
		print_wrapped(cmd->synopsis, sizeof(usage) + strlen(name), 8);
		print_indented(cmd->help);
	} else if (group != NULL) {
		printf("%s %s COMMAND [ARGS...]\n\n%s commands:\n", usage,
		    group, group);
		for (i = 0; i < ncommands; i++)
			if (commands[i].group != NULL &&
			    strcmp(commands[i].group, group) == 0)
				print_command(&commands[i]);
	} else {
		fputs(help_head, stdout);
		for (i = 0; i < ncommands; i++)
			if (strncmp(commands[i].name, "__", 2) != 0)
				print_command(&commands[i]);
		fputs(help_tail, stdout);
		return 0;
	}
	fputs("\nOptions, the config file, --format json errors and exit "
	      "status:\nprivctl --help\n",
	    stdout);
	return 0;
}

/*
 * Find the command that args name: a top-level command, or a group and one
 * of its commands. *group is set when args[0] names a group. *used
 * receives how many of args name the command.
 */
static const struct command *
find_command(char **args, int nargs, const char **group, int *used)
{
	size_t i;

	*group = NULL;
	*used = 0;
	if (nargs < 1)
		return NULL;
	for (i = 0; i < ncommands; i++) {
		if (commands[i].group == NULL) {
			if (strcmp(commands[i].name, args[0]) == 0) {
				*used = 1;
				return &commands[i];
			}
			continue;
		}
		if (strcmp(commands[i].group, args[0]) != 0)
			continue;
		*group = commands[i].group;
		if (nargs > 1 && strcmp(commands[i].name, args[1]) == 0) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/* A usage error for a group without one of its commands. */
static int
group_usage(const char *group)
{
	char list[256];
	size_t i, n = 0;

	list[0] = '\0';
	for (i = 0; i < ncommands; i++)
		if (commands[i].group != NULL &&
		    strcmp(commands[i].group, group) == 0 && n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n,
			    "%s%s", n ? " | " : "", commands[i].name);
	return usage_error("usage: privctl %s %s", group, list);
}

/*
 * Connect with the settings from options and environment, then run one
 * command on the connection. Missing settings are usage errors; a bad key
 * is invalid input (exit 5).
 */
static int
run_connected(struct opts *o, cmd_remote_fn fn, char **args, int nargs)
{
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	char skey[PRIVD_SERVER_KEYS_LEN], why[160], epwhy[160];
	privd_client *c = NULL;
	int rc;

	/* settings_resolve() took them from the environment and the config
	 * file if not given */
	if (o->endpoint == NULL || *o->endpoint == '\0')
		return usage_error(
		    "no endpoint: use --endpoint, set "
		    "PRIVD_ENDPOINT or put endpoint in the config "
		    "file (see 'privctl config')");
	if (o->keyfile == NULL || *o->keyfile == '\0')
		return usage_error(
		    "no key pair file: use --key, set PRIVD_KEY "
		    "or put key in the config file (see 'privctl "
		    "config')");
	if (o->server_key == NULL || *o->server_key == '\0')
		return usage_error("no server key: use --server-key, set "
		                   "PRIVD_SERVER_KEY or put server-key in the "
		                   "config file (see 'privctl config')");

	/* one endpoint or a list of privd nodes; a bad one is a usage error
	 * that says what is wrong (by position: it is not echoed) */
	if (privd_endpoints_check(o->endpoint, epwhy, sizeof(epwhy)) !=
	    PRIVD_OK)
		return usage_error("bad endpoint: %s (expected ipc:///path or "
		                   "tcp://host:port, or a comma-separated list "
		                   "of them)",
		    epwhy);
	if (server_key_resolve(o, o->server_key, skey) != 0)
		return EXIT_INVALID;
	rc = privd_keypair_load_err(o->keyfile, pub, sec, why, sizeof(why));
	if (rc != PRIVD_OK)
		return report_local(o, rc, "%s: %s", o->keyfile, why);
	rc = privd_connect(&c, o->endpoint, skey, pub, sec);
	sodium_memzero(sec, sizeof(sec));
	if (rc == PRIVD_EINVAL)
		return usage_error("bad endpoint (expected ipc:///path or "
		                   "tcp://host:port)");
	if (rc != PRIVD_OK)
		return report_local(o, rc, "cannot set up the connection");
	if (o->timeout_ms > 0)
		privd_set_timeout(c, o->timeout_ms);
	rc = fn(o, c, args, nargs);
	privd_close(&c);
	return rc;
}

/*
 * Run a command found on the command line with the arguments after its
 * name: its arguments and options first, then its check, then the
 * command itself.
 */
static int
run_command(const struct command *cmd, struct opts *o, char **args, int nargs)
{
	char name[64];
	optbits bad;
	int rc;

	full_name(cmd, name, sizeof(name));
	if ((bad = o->given & ~(cmd->opts | O_GLOBAL)) != 0)
		return usage_error(
		    "%s is not an option of %s", opt_name(bad & -bad), name);
	if (nargs < cmd->min_args ||
	    (cmd->max_args >= 0 && nargs > cmd->max_args))
		return usage_error("usage: privctl %s%s%s", name,
		    *cmd->synopsis ? " " : "", cmd->synopsis);
	if (cmd->check != NULL)
		rc = cmd->check(o, args, nargs);
	else
		rc = 0;
	if (rc == 0 && cmd->local != NULL)
		rc = cmd->local(o, args, nargs);
	else if (rc == 0)
		rc = run_connected(o, cmd->remote, args, nargs);
	/* a check may have read a policy file, valid or not */
	free(o->policy);
	o->policy = NULL;
	/* put: the values read */
	put_input_free(&o->put);
	/* subject lookup: the value looked for */
	if (o->lookup_value != NULL) {
		explicit_bzero(o->lookup_value, o->lookup_len);
		free(o->lookup_value);
		o->lookup_value = NULL;
	}
	return rc;
}

/* Make sure the output really left (a full disk or a closed pipe is a
 * failure a script must see); returns the exit code. */
static int
finish(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "privctl: cannot write output: %s\n",
		    strerror(errno));
		if (rc == 0)
			rc = 1;
	}
	return rc;
}

/*
 * The position on the command line (1: the first argument) of the element
 * at which getopt_long() just failed; before is optind before that call.
 * GNU getopt only moves elements it has passed, so the element is still
 * where the user put it: argv[optind] if the call stopped inside a group
 * of short options ("-fx"), which it does not leave, else argv[optind - 1],
 * unless that is a non-option the call skipped to reach the element.
 */
static int
bad_option_at(char **argv, int before)
{
	const char *prev;

	if (optind == before)
		return optind;
	prev = argv[optind - 1];
	if (prev[0] != '-' || prev[1] == '\0')
		return optind;
	return optind - 1;
}

/*
 * Take one option, optdefs[i], with its value arg (NULL if it takes
 * none). Returns 0, or the exit code of a usage error.
 */
static int
take_option(struct opts *o, size_t i, char *arg)
{
	const struct optdef *d = &optdefs[i];

	o->given |= d->bit;
	if (d->off != NOVAL)
		*(const char **)((char *)o + d->off) = arg;
	/* --json is --format json: the last of them counts */
	if (d->bit == O_JSON)
		o->format = "json";
	if (d->bit == O_OP) {
		if (o->nops == AUDIT_MAX_OPS)
			return usage_error(
			    "at most %d --op options", AUDIT_MAX_OPS);
		o->ops[o->nops++] = arg;
	}
	if (d->bit == O_NOT_OP) {
		if (o->nnot_ops == AUDIT_MAX_OPS)
			return usage_error(
			    "at most %d --not-op options", AUDIT_MAX_OPS);
		o->not_ops[o->nnot_ops++] = arg;
	}
	/* subject erase takes every one; the other commands the last */
	if (d->bit == O_REGISTER) {
		if (o->nregs == SUBJECT_MAX_REGISTERS)
			return usage_error("at most %d --register options",
			    SUBJECT_MAX_REGISTERS);
		o->regs[o->nregs++] = arg;
	}
	return 0;
}

/*
 * Parse the command line into o. getopt_long() gets its long options from
 * optdefs, each returning 256 + its index there; short options return
 * their letter. Returns 0, or the exit code of a usage error.
 */
static int
parse_options(struct opts *o, int argc, char **argv)
{
	struct option longopts[NOPTDEFS + 1];
	char shortopts[2 * NOPTDEFS + 2] = ":";
	size_t i, nl = 0, ns = 1;
	int ch, before, at, rc;

	for (i = 0; i < NOPTDEFS; i++) {
		if (optdefs[i].name[1] == '-') {
			longopts[nl++] = (struct option){optdefs[i].name + 2,
			    optdefs[i].has_arg ? required_argument
			                       : no_argument,
			    NULL, 256 + (int)i};
		} else {
			shortopts[ns++] = optdefs[i].name[1];
			if (optdefs[i].has_arg)
				shortopts[ns++] = ':';
		}
	}
	longopts[nl] = (struct option){NULL, 0, NULL, 0};
	shortopts[ns] = '\0';
	/*
	 * GNU getopt permutes, so options may follow the command too. Its own
	 * messages would echo what was typed, which may be a subject id:
	 * errors name the position instead (':' first: a missing value is
	 * told apart from an unknown option).
	 */
	opterr = 0;
	before = optind;
	while (
	    (ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (ch == ':')
			return usage_error(
			    "option at argument %d needs a value",
			    bad_option_at(argv, before));
		if (ch == '?') {
			at = bad_option_at(argv, before);
			/* a known option given a "=VALUE" it does not take */
			if (optopt != 0 && strncmp(argv[at], "--", 2) == 0)
				return usage_error(
				    "option at argument %d takes no value", at);
			return usage_error("unknown option at argument %d", at);
		}
		if (ch >= 256)
			i = (size_t)(ch - 256);
		else
			for (i = 0; i < NOPTDEFS; i++)
				if (optdefs[i].name[1] == ch)
					break;
		if (i < NOPTDEFS && (rc = take_option(o, i, optarg)) != 0)
			return rc;
		before = optind;
	}
	if (o->timeout != NULL &&
	    parse_timeout(o->timeout, &o->timeout_ms) != 0)
		return usage_error("--timeout needs a positive "
		                   "number of milliseconds");
	if (o->format != NULL && strcmp(o->format, "json") != 0 &&
	    strcmp(o->format, "table") != 0)
		return usage_error("--format takes json or table");
	o->json = o->format != NULL && strcmp(o->format, "json") == 0;
	o->denied = (o->given & O_DENIED) != 0;
	o->newest = (o->given & O_NEWEST) != 0;
	o->follow = (o->given & O_FOLLOW) != 0;
	o->confirm = (o->given & O_CONFIRM) != 0;
	o->force = (o->given & O_FORCE) != 0;
	o->undo = (o->given & O_UNDO) != 0;
	o->lift = (o->given & O_LIFT) != 0;
	o->withdraw = (o->given & O_WITHDRAW) != 0;
	return 0;
}

/*
 * Whether errors are JSON before the options are parsed, so that a
 * mistake in them is reported in the format asked for: --json or
 * --format json (the last given) before "--", else PRIVCTL_FORMAT. The
 * config file's format counts from settings_resolve() on.
 */
static void
early_format(int argc, char **argv)
{
	const char *f = getenv("PRIVCTL_FORMAT");
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--json") == 0)
			f = "json";
		else if (strncmp(argv[i], "--format=", 9) == 0)
			f = argv[i] + 9;
		else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc)
			f = argv[++i];
	}
	output_json_errors(f != NULL && strcmp(f, "json") == 0);
}

int
main(int argc, char **argv)
{
	const struct command *cmd;
	struct opts o = {0};
	const char *group;
	int nargs, used, rc;
	char **args;

	if (sodium_init() < 0) {
		fputs("privctl: cannot initialise libsodium\n", stderr);
		return 1;
	}
	json_wipe_alloc();
	/* where each argument was given, for errors that name a position */
	if (args_keep(argc, argv) != 0) {
		fputs("privctl: out of memory\n", stderr);
		return 1;
	}
	early_format(argc, argv);
	if ((rc = parse_options(&o, argc, argv)) != 0)
		return finish(rc);
	args = argv + optind;
	nargs = argc - optind;
	cmd = find_command(args, nargs, &group, &used);
	if (o.given & O_HELP)
		return finish(print_help(cmd, group));
	if (o.given & O_VERSION) {
		printf("privctl %s\n", PRIVD_VERSION);
		return finish(0);
	}
	/* bash completion's words: whatever the settings (a broken config
	 * file must not break completion, nor print on the terminal) */
	if (cmd != NULL && cmd->local == cmd_complete)
		return finish(cmd_complete(&o, args + used, nargs - used));
	/* the settings: options, then the environment, then the file */
	if ((rc = config_load(&o)) == 0 && (rc = settings_resolve(&o)) == 0) {
		if (nargs == 0)
			rc = usage_error("no command given");
		else if (cmd == NULL && group != NULL)
			rc = group_usage(group);
		else if (cmd == NULL)
			rc = usage_error("unknown command at argument %d",
			    arg_position(args[0], 0));
		else
			rc = run_command(cmd, &o, args + used, nargs - used);
	}
	config_free(&o.cfg);
	return finish(rc);
}
