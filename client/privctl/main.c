/*
 * privctl: command-line client of privd, built on libprivd. It also links
 * the policy model (policy/), only to validate policy files offline with
 * the same code privd runs; it talks to privd through libprivd alone.
 *
 * main.c: the global options, one table of commands (each with its usage
 * text, the options it takes and what it runs), and the connection. The
 * commands live in cmd_<group>.c, output and exit codes in output.c.
 *
 * Human output by default, one JSON object on stdout with --json. Exit codes
 * are stable (DESIGN.md section 8) so that scripts can branch on them:
 * 0 ok, 1 anything else, 2 usage, 3 denied, 4 not found, 5 invalid input,
 * 6 retained or conflict, 7 the audit log does not verify, 8 the CURVE
 * handshake fails (wrong server key). Error messages
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

/* One command: where it sits, what it says about itself, what it runs. */
struct command {
	const char *group;      /* "policy", "audit", or NULL (top level) */
	const char *name;       /* "show", "ping", ... */
	const char *synopsis;   /* its arguments and options, one line */
	const char *help;       /* what it does, lines indented by 6 */
	unsigned opts;          /* the O_* options it takes */
	int min_args, max_args; /* arguments after its name (-1: no limit) */
	cmd_check_fn check;     /* before anything else; may be NULL */
	cmd_check_fn local;     /* a command without a connection, or */
	cmd_remote_fn remote;   /* one on a connection */
};

#define AUDIT_FILTER_OPTS                                                      \
	(O_SUBJECT | O_REGISTER | O_PRINCIPAL | O_SINCE | O_UNTIL | O_OP |     \
	    O_NOT_OP | O_REQUEST_ID | O_DENIED | O_NEWEST | O_LIMIT)

static const struct command commands[] = {
    {NULL, "keygen", "[--out FILE]",
        "Generate a new CURVE key pair for a client. With --out, write the\n"
        "key pair file FILE (mode 0600; an existing FILE is never\n"
        "overwritten) and print the public key, which is what the policy\n"
        "names. Without --out, print the key pair file to stdout. Needs no\n"
        "connection to privd.\n"
        "--json: {\"public_key\", \"file\"}, or without --out\n"
        "{\"public_key\", \"secret_key\"}\n",
        O_OUT, 0, 0, NULL, cmd_keygen, NULL},
    {NULL, "ping", "",
        "Check that privd answers and knows this key: prints the server\n"
        "version, the principal name the policy gives this key and the\n"
        "policy version in force.\n"
        "--json: {\"server_version\", \"principal\", \"policy_version\"}\n",
        0, 0, 0, NULL, NULL, cmd_ping},
    {NULL, "put", "REGISTER SUBJECT --purpose P FIELD=VALUE...",
        "Store fields of a subject, all or none. VALUE is taken literally\n"
        "(everything after the first '='; may be empty).\n"
        "--json: {\"written\": N}\n",
        O_PURPOSE, 3, -1, put_check, NULL, cmd_put},
    {NULL, "get", "REGISTER SUBJECT --purpose P [FIELD...]",
        "Read the named fields, or every stored field this key may read.\n"
        "Prints 'name: value' lines; a value that is not printable UTF-8\n"
        "text is shown as 'base64:...'. Fields not stored are omitted.\n"
        "--json: {\"fields\": {\"name\": \"value\" or {\"base64\":\n"
        "\"...\"}}}\n",
        O_PURPOSE, 2, -1, data_check, NULL, cmd_get},
    {NULL, "delete", "REGISTER SUBJECT --purpose P [FIELD...]",
        "Delete the named fields; with no FIELD, delete the whole subject\n"
        "and its data key. Prints the number of stored fields removed.\n"
        "--json: {\"deleted\": N}\n",
        O_PURPOSE, 2, -1, data_check, NULL, cmd_delete},
    {"policy", "show", "[N]",
        "Print policy version N (default: the version in force), who\n"
        "applied it and when (UTC), then its JSON document exactly as\n"
        "applied. Needs role policy_admin, like every policy command but\n"
        "check.\n"
        "--json: {\"version\", \"applied_by\", \"applied_at\", \"policy\":\n"
        "{...}}\n",
        0, 0, 1, policy_show_check, NULL, cmd_policy_show},
    {"policy", "check", "FILE",
        "Validate a policy file offline, with the same code as privd:\n"
        "prints 'FILE: ok (N registers, M principals)' or 'FILE: <JSON\n"
        "path>: <reason>' (exit 5). Needs no connection.\n"
        "--json: {\"file\", \"registers\", \"principals\"}\n",
        0, 1, 1, NULL, cmd_policy_check, NULL},
    {"policy", "apply", "FILE --replaces N [--force]",
        "Validate FILE as 'policy check' does (nothing is sent if it is\n"
        "invalid), then make it the policy in force in place of version N,\n"
        "the version 'privctl policy show' prints. If another version is in\n"
        "force by then, nothing changes and the exit status is 6: show the\n"
        "policy again, merge, and retry. A document equal to the one in\n"
        "force (as JSON: order and spacing aside) makes no new version:\n"
        "prints 'policy unchanged: version N stays in force'. privd refuses\n"
        "(exit 5) a policy that leaves no principal with the role\n"
        "policy_admin, and one that takes that role from you, unless\n"
        "--force.\n"
        "--json: {\"version\": N, \"unchanged\": true|false}\n",
        O_REPLACES | O_FORCE, 1, 1, policy_apply_check, NULL, cmd_policy_apply},
    {"policy", "history", "",
        "List every policy version, oldest first: version, time applied\n"
        "(UTC) and who applied it.\n"
        "--json: {\"versions\": [{\"version\", \"applied_by\",\n"
        "\"applied_at\"}]}\n",
        0, 0, 0, NULL, NULL, cmd_policy_history},
    {"policy", "diff", "[A] [B|FILE]",
        "What changes from one policy to another, in the policy's own\n"
        "terms, one line per difference: '+' added, '-' removed, '~'\n"
        "changed, then what (register, field, purpose, retention rule,\n"
        "transfer, principal, grant, ...) and how, e.g. '~ field\n"
        "customers.email: type string -> email'; then the number of\n"
        "differences, or 'no differences'. With no argument: the version\n"
        "before the one in force -> the version in force (what the last\n"
        "apply changed). 'diff A': version A -> the version in force. 'diff\n"
        "FILE': the version in force -> FILE (what applying FILE would\n"
        "change; FILE is validated first). 'diff A B', 'diff A FILE': A ->\n"
        "B or FILE. An argument of digits only is a version number,\n"
        "anything else a file (./3 for a file named 3). The exit status is\n"
        "0 whether or not they differ.\n"
        "--json: {\"from\": {\"version\", \"applied_by\", \"applied_at\"}\n"
        "or {\"file\"}, \"to\": the same, \"differences\": [{\"change\":\n"
        "\"added\"|\"removed\"|\"changed\", \"what\", \"detail\"}],\n"
        "\"count\": N}\n",
        0, 0, 2, policy_diff_check, NULL, cmd_policy_diff},
    {"audit", "query",
        "[--subject [R/]S] [--register R] [--principal P] [--since T] "
        "[--until T] [--op OP]... [--not-op OP]... [--request-id ID] "
        "[--denied] [--newest] [--limit N]",
        "List the audit events that match every criterion given, oldest\n"
        "first (--newest: newest first), walking every page; --limit N\n"
        "stops after N events. --subject takes a subject id (privd finds\n"
        "its pseudonym), in every register, or REGISTER/SUBJECT for one\n"
        "register (with --register, the id is taken as it is, '/' and all);\n"
        "T is ISO 8601 UTC (2026-11-27T10:00:00Z, or 2026-11-27 for\n"
        "midnight) or Unix seconds, --since including it and --until not;\n"
        "--op OP: only these operations, --not-op OP: not these (both\n"
        "repeatable; e.g. --not-op audit_query leaves out the auditors' own\n"
        "queries); OP is one of ping, put, get, delete, policy_get,\n"
        "policy_apply, policy_history, audit_query, audit_follow,\n"
        "audit_checkpoints, audit_pubkey, audit_prune, invalid;\n"
        "--request-id ID: only the events of that request (a client's\n"
        "request id, 'request_id' in --json); --denied: only requests the\n"
        "policy refused.\n"
        "One line per event: seq, time (UTC), principal, operation,\n"
        "register, subject pseudonym (first 12 hex digits), fields,\n"
        "purpose, decision, status[/reason], '-' for none. An event privd\n"
        "cannot decode is the line 'SEQ damaged: ...', and the exit status\n"
        "is then 7 (run 'audit verify'). Needs role auditor, like every\n"
        "audit command but prune.\n"
        "--json: one object per line: {\"seq\", \"time\", \"time_us\",\n"
        "\"principal\", \"op\", \"register\", \"subject\" (hex or null),\n"
        "\"fields\", \"purpose\", \"decision\", \"reason\", \"status\",\n"
        "\"policy_version\", \"request_id\" (a string), \"hash\"}, or for a\n"
        "damaged event {\"seq\", \"damaged\": true}\n",
        AUDIT_FILTER_OPTS, 0, 0, audit_check, NULL, cmd_audit_query},
    {"audit", "tail", "[-f] [-n N] [--not-op OP]...",
        "The last N events (default 20), oldest first. With -f, go on\n"
        "printing new events as they come (polling every 500 ms) until\n"
        "interrupted; its own polls are not shown (privd audits them as one\n"
        "audit_follow event a minute at most). --not-op leaves operations\n"
        "out, as in 'audit query'; damaged events too are shown as there\n"
        "(exit 7 at the end).\n"
        "--json: the objects of 'audit query --json'\n",
        O_FOLLOW | O_COUNT | O_NOT_OP, 0, 0, audit_check, NULL, cmd_audit_tail},
    {"audit", "verify", "[--from N] [--to N] [--pubkey HEX|FILE]",
        "Verify, here on the client, the hash chain of the events from\n"
        "--from to --to (default: every event kept) and privd's signed\n"
        "checkpoints: prints 'audit log verifies: events A..B, K signed\n"
        "checkpoints', or 'audit log does NOT verify at event N: <why>' and\n"
        "exits 7 (why: an event changed, missing, out of place, or damaged:\n"
        "privd cannot decode it). --pubkey is the signing key as 64 hex\n"
        "digits or a file holding them, as exported once with 'audit pubkey\n"
        "--out'; without it the key is asked from privd, which proves much\n"
        "less.\n"
        "--json: {\"verified\": true, \"from\", \"to\", \"events\",\n"
        "\"checkpoints\"} or {\"verified\": false, \"bad_seq\", \"why\"}\n",
        O_FROM | O_TO | O_PUBKEY, 0, 0, audit_check, NULL, cmd_audit_verify},
    {"audit", "export", "[--from N] [--to N]",
        "Every event of the range (default: all, up to the newest when the\n"
        "export starts) as JSON lines, the objects of 'audit query --json',\n"
        "streamed page by page. A damaged event is {\"seq\", \"damaged\":\n"
        "true}, and the exit status is then 7.\n",
        O_FROM | O_TO, 0, 0, audit_check, NULL, cmd_audit_export},
    {"audit", "pubkey", "[--out FILE]",
        "Print privd's audit signing key (Ed25519) as 64 hex digits; with\n"
        "--out, also write it to FILE (never overwriting).\n"
        "--json: {\"public_key\", \"file\"}\n",
        O_OUT, 0, 0, audit_check, NULL, cmd_audit_pubkey},
    {"audit", "prune", "[--confirm]",
        "Show the state of audit pruning. privd deletes events older than\n"
        "the audit retention, but pauses when its clock jumps forward by\n"
        "more than a day, so that a wrong clock cannot erase evidence.\n"
        "Prints whether pruning is paused (since when, by what clock jump),\n"
        "the retention in force and its floor, the oldest event kept, and\n"
        "privd's clock. --confirm says that privd's clock is right: pruning\n"
        "resumes. Needs role policy_admin.\n"
        "--json: {\"paused\", \"paused_at\" (null if never paused; after\n"
        "--confirm, when the pause it lifted began), \"clock_jump_s\",\n"
        "\"retention_s\", \"floor_s\", \"now\", \"oldest_seq\",\n"
        "\"oldest_time\" (null if none), \"confirmed\"}\n",
        O_CONFIRM, 0, 0, NULL, NULL, cmd_audit_prune},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char help_head[] =
    "usage: privctl [options] COMMAND [ARGS...]\n"
    "\n"
    "privctl talks to privd, the privacy-enforcing storage daemon, over\n"
    "ZeroMQ with CURVE. privd knows the caller by its key pair and decides\n"
    "every request against its policy; every request is audited.\n"
    "'privctl COMMAND --help' shows one command (or a group's commands).\n"
    "\n"
    "Commands:\n";

static const char help_tail[] =
    "\n"
    "Options (before or after the command; the options of one command\n"
    "are described with it):\n"
    "  --endpoint EP      privd's endpoint, ipc:///path or tcp://host:port\n"
    "                     (default: $PRIVD_ENDPOINT)\n"
    "  --key FILE         this client's key pair file, as written by\n"
    "                     'privctl keygen --out' (default: $PRIVD_KEY)\n"
    "  --server-key KEY   privd's public key: 40-character Z85 text, or a\n"
    "                     file whose first line holds it, e.g.\n"
    "                     DATA_DIR/server.pub (default: $PRIVD_SERVER_KEY)\n"
    "  --purpose P        the purpose of processing; required by put, get\n"
    "                     and delete, and checked against the policy\n"
    "  --out FILE         keygen: the key pair file to create; audit\n"
    "                     pubkey: the file to write the key to\n"
    "  --replaces N       policy apply: the version in force being replaced\n"
    "  --force            policy apply: even if it takes the role\n"
    "                     policy_admin from this key\n"
    "  --timeout MS       give up after MS milliseconds (default 5000)\n"
    "  --json             print one JSON object on stdout (its shape is\n"
    "                     given with each command), errors included:\n"
    "                     {\"error\": {\"status\", \"reason\", \"message\"}}\n"
    "  -h, --help         show this help; after a command, that command's\n"
    "                     (privctl audit query --help), after a group\n"
    "                     its commands' (privctl policy --help)\n"
    "  --version          show privctl's version\n"
    "  --                 end of options (for a SUBJECT starting with '-')\n"
    "\n"
    "Exit status:\n"
    "  0 success            4 not found\n"
    "  1 any other failure  5 invalid input or policy, request too large\n"
    "  2 usage error          or bad key\n"
    "  3 denied by policy   6 data retained (legal minimum or hold) or a\n"
    "                         conflict (policy apply: stale --replaces)\n"
    "                       7 the audit log does not verify, or an\n"
    "                         audit command printed a damaged event\n"
    "                       8 privd's endpoint answers, but the CURVE\n"
    "                         handshake fails: the server key is\n"
    "                         probably wrong\n"
    "\n"
    "Errors go to stderr as 'privctl: <error>: <privd's message>', or to\n"
    "stdout as JSON with --json. They never show subject ids or values.\n";

/* A decimal number without sign or blanks, into *v; -1 if not one. */
int
parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

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
		for (i = 0; i < NCOMMANDS; i++)
			if (commands[i].group != NULL &&
			    strcmp(commands[i].group, group) == 0)
				print_command(&commands[i]);
	} else {
		fputs(help_head, stdout);
		for (i = 0; i < NCOMMANDS; i++)
			print_command(&commands[i]);
		fputs(help_tail, stdout);
		return 0;
	}
	fputs("\nOptions, --json errors and exit status: privctl --help\n",
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
	for (i = 0; i < NCOMMANDS; i++) {
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
	for (i = 0; i < NCOMMANDS; i++)
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
	char skey[PRIVD_KEY_Z85_LEN], why[160];
	privd_client *c = NULL;
	int rc;

	if (o->endpoint == NULL)
		o->endpoint = getenv("PRIVD_ENDPOINT");
	if (o->keyfile == NULL)
		o->keyfile = getenv("PRIVD_KEY");
	if (o->server_key == NULL)
		o->server_key = getenv("PRIVD_SERVER_KEY");
	if (o->endpoint == NULL || *o->endpoint == '\0')
		return usage_error("no endpoint: use --endpoint or set "
		                   "PRIVD_ENDPOINT");
	if (o->keyfile == NULL || *o->keyfile == '\0')
		return usage_error("no key pair file: use --key or set "
		                   "PRIVD_KEY");
	if (o->server_key == NULL || *o->server_key == '\0')
		return usage_error("no server key: use --server-key or set "
		                   "PRIVD_SERVER_KEY");

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
	unsigned bad;
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
 * The position on the command line of argument arg (argv is permuted by
 * then), from the pointers as given (orig); 0 if not found.
 */
static int
position_of(char *const *orig, int argc, const char *arg)
{
	int i;

	for (i = 1; i < argc; i++)
		if (orig[i] == arg)
			return i;
	return 0;
}

/*
 * Every option: its name as typed, whether it takes a value, its O_* bit,
 * and the string in struct opts that receives its value (NOVAL: none, or
 * handled in take_option()). Long options are handed to getopt_long() from
 * here, so this table is the only list of them.
 */
#define OFF(member) offsetof(struct opts, member)
#define NOVAL       ((size_t)-1)

static const struct optdef {
	const char *name;
	int has_arg;
	unsigned bit;
	size_t off;
} optdefs[] = {
    {"--endpoint", 1, O_ENDPOINT, OFF(endpoint)},
    {"--key", 1, O_KEY, OFF(keyfile)},
    {"--server-key", 1, O_SERVER_KEY, OFF(server_key)},
    {"--timeout", 1, O_TIMEOUT, OFF(timeout)},
    {"--json", 0, O_JSON, NOVAL},
    {"--help", 0, O_HELP, NOVAL},
    {"-h", 0, O_HELP, NOVAL},
    {"--version", 0, O_VERSION, NOVAL},
    {"--purpose", 1, O_PURPOSE, OFF(purpose)},
    {"--out", 1, O_OUT, OFF(out)},
    {"--replaces", 1, O_REPLACES, OFF(replaces)},
    {"--subject", 1, O_SUBJECT, OFF(subject)},
    {"--register", 1, O_REGISTER, OFF(reg)},
    {"--principal", 1, O_PRINCIPAL, OFF(principal)},
    {"--since", 1, O_SINCE, OFF(since)},
    {"--until", 1, O_UNTIL, OFF(until)},
    {"--op", 1, O_OP, NOVAL},
    {"--denied", 0, O_DENIED, NOVAL},
    {"--newest", 0, O_NEWEST, NOVAL},
    {"--limit", 1, O_LIMIT, OFF(limit)},
    {"--from", 1, O_FROM, OFF(from)},
    {"--to", 1, O_TO, OFF(to)},
    {"--pubkey", 1, O_PUBKEY, OFF(pubkey)},
    {"-f", 0, O_FOLLOW, NOVAL},
    {"-n", 1, O_COUNT, OFF(count)},
    {"--not-op", 1, O_NOT_OP, NOVAL},
    {"--request-id", 1, O_REQUEST_ID, OFF(request_id)},
    {"--confirm", 0, O_CONFIRM, NOVAL},
    {"--force", 0, O_FORCE, NOVAL},
};

#define NOPTDEFS (sizeof(optdefs) / sizeof(optdefs[0]))

const char *
opt_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < NOPTDEFS; i++)
		if (optdefs[i].bit & bit)
			return optdefs[i].name;
	return "an option";
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
	char *end;
	int ch, before, at, rc;
	long v;

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
	if (o->timeout != NULL) {
		errno = 0;
		v = strtol(o->timeout, &end, 10);
		if (errno != 0 || end == o->timeout || *end != '\0' || v <= 0 ||
		    v > INT_MAX)
			return usage_error("--timeout needs a positive "
			                   "number of milliseconds");
		o->timeout_ms = (int)v;
	}
	o->json = (o->given & O_JSON) != 0;
	o->denied = (o->given & O_DENIED) != 0;
	o->newest = (o->given & O_NEWEST) != 0;
	o->follow = (o->given & O_FOLLOW) != 0;
	o->confirm = (o->given & O_CONFIRM) != 0;
	o->force = (o->given & O_FORCE) != 0;
	return 0;
}

int
main(int argc, char **argv)
{
	/* static: still reachable (not a leak) on every way out of main */
	static char **orig;
	const struct command *cmd;
	struct opts o = {0};
	const char *group;
	int nargs, used, rc;
	char **args;

	if (sodium_init() < 0) {
		fputs("privctl: cannot initialise libsodium\n", stderr);
		return 1;
	}
	/* where each argument was given, for errors that name a position */
	if ((orig = malloc(((size_t)argc + 1) * sizeof(*orig))) == NULL) {
		fputs("privctl: out of memory\n", stderr);
		return 1;
	}
	memcpy(orig, argv, ((size_t)argc + 1) * sizeof(*orig));
	if ((rc = parse_options(&o, argc, argv)) != 0)
		return rc;
	args = argv + optind;
	nargs = argc - optind;
	cmd = find_command(args, nargs, &group, &used);
	if (o.given & O_HELP)
		return finish(print_help(cmd, group));
	if (o.given & O_VERSION) {
		printf("privctl %s\n", PRIVD_VERSION);
		return finish(0);
	}
	if (nargs == 0)
		return usage_error("no command given");
	if (cmd == NULL && group != NULL)
		return group_usage(group);
	if (cmd == NULL)
		return usage_error("unknown command at argument %d",
		    position_of(orig, argc, args[0]));
	return finish(run_command(cmd, &o, args + used, nargs - used));
}
