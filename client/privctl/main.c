/*
 * privctl: command-line client of privd, built on libprivd. It also links
 * the policy model (policy/), only to validate policy files offline with
 * the same code privd runs; it talks to privd through libprivd alone.
 *
 * main.c: the global options, the command line and the connection; the
 * commands live in cmd_<group>.c, output and exit codes in output.c.
 *
 * Human output by default, one JSON object on stdout with --json. Exit codes
 * are stable (DESIGN.md section 8) so that scripts can branch on them:
 * 0 ok, 1 anything else, 2 usage, 3 denied, 4 not found, 5 invalid input,
 * 6 retained or conflict, 7 the audit log does not verify. Error messages never
 * contain a subject id or a value: they are built from privd's messages (which
 * never do either) and from command-line positions, never from the arguments
 * themselves.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "privctl.h"

#ifndef PRIVD_VERSION
#define PRIVD_VERSION "unknown"
#endif

const char *const audit_opt_names[] = {"--subject", "--register", "--principal",
    "--since", "--until", "--op", "--denied", "--newest", "--limit", "--from",
    "--to", "--pubkey", "-f", "-n"};

static const char usage_text[] =
    "usage: privctl [options] COMMAND [ARGS...]\n"
    "\n"
    "privctl talks to privd, the privacy-enforcing storage daemon, over\n"
    "ZeroMQ with CURVE. privd knows the caller by its key pair and decides\n"
    "every request against its policy; every request is audited.\n"
    "\n"
    "Commands:\n"
    "  keygen [--out FILE]\n"
    "      Generate a new CURVE key pair for a client. With --out, write the\n"
    "      key pair file FILE (mode 0600; an existing FILE is never\n"
    "      overwritten) and print the public key, which is what the policy\n"
    "      names. Without --out, print the key pair file to stdout.\n"
    "      Needs no connection to privd.\n"
    "  ping\n"
    "      Check that privd answers and knows this key: prints the server\n"
    "      version, the principal name the policy gives this key and the\n"
    "      policy version in force.\n"
    "  put REGISTER SUBJECT --purpose P FIELD=VALUE...\n"
    "      Store fields of a subject, all or none. VALUE is taken literally\n"
    "      (everything after the first '='; may be empty).\n"
    "  get REGISTER SUBJECT --purpose P [FIELD...]\n"
    "      Read the named fields, or every stored field this key may read.\n"
    "      Prints 'name: value' lines; a value that is not printable UTF-8\n"
    "      text is shown as 'base64:...'. Fields not stored are omitted.\n"
    "  delete REGISTER SUBJECT --purpose P [FIELD...]\n"
    "      Delete the named fields; with no FIELD, delete the whole subject\n"
    "      and its data key. Prints the number of stored fields removed.\n"
    "  policy show\n"
    "      Print the version of the policy in force, who applied it and when\n"
    "      (UTC), then its JSON document. Needs role policy_admin.\n"
    "  policy check FILE\n"
    "      Validate a policy file offline, with the same code as privd:\n"
    "      prints 'FILE: ok (N registers, M principals)' or\n"
    "      'FILE: <JSON path>: <reason>' (exit 5). Needs no connection.\n"
    "  policy apply FILE --replaces N\n"
    "      Validate FILE as 'policy check' does (nothing is sent if it is\n"
    "      invalid), then make it the policy in force in place of version N,\n"
    "      the version 'privctl policy show' prints. If another version is\n"
    "      in force by then, nothing changes and the exit status is 6: show\n"
    "      the policy again, merge, and retry. Needs role policy_admin.\n"
    "  policy history\n"
    "      List every policy version, oldest first: version, time applied\n"
    "      (UTC) and who applied it. Needs role policy_admin.\n"
    "  audit query [--subject [R/]S] [--register R] [--principal P]\n"
    "              [--since T]\n"
    "              [--until T] [--op OP]... [--denied] [--newest] [--limit N]\n"
    "      List the audit events that match every criterion given, oldest\n"
    "      first (--newest: newest first), walking every page; --limit N\n"
    "      stops after N events. --subject takes a subject id (privd finds\n"
    "      its pseudonym), in every register, or REGISTER/SUBJECT for one\n"
    "      register (with --register, the id is taken as it is, '/' and\n"
    "      all); T is ISO 8601 UTC (2026-11-27T10:00:00Z, or\n"
    "      2026-11-27 for midnight) or Unix seconds, --since including it\n"
    "      and --until not; --op may be repeated; --denied: only requests\n"
    "      the policy refused. One line per event: seq, time (UTC),\n"
    "      principal, operation, register, subject pseudonym (first 12 hex\n"
    "      digits), fields, purpose, decision, status[/reason], '-' for\n"
    "      none. Needs role auditor, like every audit command.\n"
    "  audit tail [-f] [-n N]\n"
    "      The last N events (default 20), oldest first. With -f, go on\n"
    "      printing new events as they come (polling every 500 ms) until\n"
    "      interrupted; the polling queries themselves are not shown.\n"
    "  audit verify [--from N] [--to N] [--pubkey HEX|FILE]\n"
    "      Verify, here on the client, the hash chain of the events from\n"
    "      --from to --to (default: every event kept) and privd's signed\n"
    "      checkpoints:\n"
    "      prints 'audit log verifies: events A..B, K signed checkpoints',\n"
    "      or 'audit log does NOT verify at event N: <why>' and exits 7.\n"
    "      --pubkey is the signing key as 64 hex digits or a file holding\n"
    "      them, as exported once with 'audit pubkey --out'; without it\n"
    "      the key is asked from privd, which proves much less.\n"
    "  audit export [--from N] [--to N]\n"
    "      Every event of the range (default: all, up to the newest when\n"
    "      the export starts) as JSON lines, the objects of 'audit query\n"
    "      --json', streamed page by page.\n"
    "  audit pubkey [--out FILE]\n"
    "      Print privd's audit signing key (Ed25519) as 64 hex digits;\n"
    "      with --out, also write it to FILE (never overwriting).\n"
    "\n"
    "Options (before or after the command):\n"
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
    "  --timeout MS       give up after MS milliseconds (default 5000)\n"
    "  --json             print one JSON object on stdout, errors included:\n"
    "                       ping   {\"server_version\", \"principal\",\n"
    "                               \"policy_version\"}\n"
    "                       put    {\"written\": N}\n"
    "                       get    {\"fields\": {\"name\": \"value\" or\n"
    "                               {\"base64\": \"...\"}}}\n"
    "                       delete {\"deleted\": N}\n"
    "                       policy show     {\"version\", \"applied_by\",\n"
    "                                        \"applied_at\", \"policy\": "
    "{...}}\n"
    "                       policy check    {\"file\", \"registers\", "
    "\"principals\"}\n"
    "                       policy apply    {\"version\": N}\n"
    "                       policy history  {\"versions\": [{\"version\",\n"
    "                                        \"applied_by\", "
    "\"applied_at\"}]}\n"
    "                       audit query, tail, export: one object per\n"
    "                               line: {\"seq\", \"time\", \"time_us\",\n"
    "                               \"principal\", \"op\", \"register\",\n"
    "                               \"subject\" (hex or null), \"fields\",\n"
    "                               \"purpose\", \"decision\", \"reason\",\n"
    "                               \"status\", \"policy_version\",\n"
    "                               \"request_id\" (a string), \"hash\"}\n"
    "                       audit verify    {\"verified\": true, \"from\",\n"
    "                                        \"to\", \"events\", "
    "\"checkpoints\"}\n"
    "                                       or {\"verified\": false,\n"
    "                                        \"bad_seq\", \"why\"}\n"
    "                       audit pubkey    {\"public_key\", \"file\"}\n"
    "                       error  {\"error\": {\"status\", \"reason\",\n"
    "                               \"message\"}}\n"
    "  -h, --help         show this help\n"
    "  --version          show privctl's version\n"
    "  --                 end of options (for a SUBJECT starting with '-')\n"
    "\n"
    "Exit status:\n"
    "  0 success            4 not found\n"
    "  1 any other failure  5 invalid input or policy, request too large\n"
    "  2 usage error          or bad key\n"
    "  3 denied by policy   6 data retained (legal minimum or hold) or a\n"
    "                         conflict (policy apply: stale --replaces)\n"
    "                       7 the audit log does not verify\n"
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
 * Connect with the settings from options and environment, then run one
 * data command. Missing settings are usage errors; a bad key is invalid
 * input (exit 5).
 */
int
run_connected(struct opts *o, const char *cmd, char **args, int nargs)
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
	if (strcmp(cmd, "ping") != 0 && strcmp(cmd, "policy") != 0 &&
	    strcmp(cmd, "audit") != 0 &&
	    (o->purpose == NULL || *o->purpose == '\0'))
		return usage_error("%s needs --purpose", cmd);

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

	if (strcmp(cmd, "ping") == 0)
		rc = cmd_ping(o, c);
	else if (strcmp(cmd, "audit") == 0)
		rc = cmd_audit(o, c, args[0]);
	else if (strcmp(cmd, "policy") == 0 && strcmp(args[0], "show") == 0)
		rc = cmd_policy_show(o, c);
	else if (strcmp(cmd, "policy") == 0 && strcmp(args[0], "apply") == 0)
		rc = cmd_policy_apply(o, c);
	else if (strcmp(cmd, "policy") == 0)
		rc = cmd_policy_history(o, c);
	else if (strcmp(cmd, "put") == 0)
		rc = cmd_put(o, c, args, nargs);
	else if (strcmp(cmd, "get") == 0)
		rc = cmd_get(o, c, args, nargs);
	else
		rc = cmd_delete(o, c, args, nargs);
	privd_close(&c);
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

enum {
	OPT_ENDPOINT = 256,
	OPT_KEY,
	OPT_SERVER_KEY,
	OPT_TIMEOUT,
	OPT_JSON,
	OPT_VERSION,
	OPT_PURPOSE,
	OPT_OUT,
	OPT_REPLACES,
	OPT_SUBJECT,
	OPT_REGISTER,
	OPT_PRINCIPAL,
	OPT_SINCE,
	OPT_UNTIL,
	OPT_OP,
	OPT_DENIED,
	OPT_NEWEST,
	OPT_LIMIT,
	OPT_FROM,
	OPT_TO,
	OPT_PUBKEY,
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
	    {"key", required_argument, NULL, OPT_KEY},
	    {"server-key", required_argument, NULL, OPT_SERVER_KEY},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"purpose", required_argument, NULL, OPT_PURPOSE},
	    {"out", required_argument, NULL, OPT_OUT},
	    {"replaces", required_argument, NULL, OPT_REPLACES},
	    {"subject", required_argument, NULL, OPT_SUBJECT},
	    {"register", required_argument, NULL, OPT_REGISTER},
	    {"principal", required_argument, NULL, OPT_PRINCIPAL},
	    {"since", required_argument, NULL, OPT_SINCE},
	    {"until", required_argument, NULL, OPT_UNTIL},
	    {"op", required_argument, NULL, OPT_OP},
	    {"denied", no_argument, NULL, OPT_DENIED},
	    {"newest", no_argument, NULL, OPT_NEWEST},
	    {"limit", required_argument, NULL, OPT_LIMIT},
	    {"from", required_argument, NULL, OPT_FROM},
	    {"to", required_argument, NULL, OPT_TO},
	    {"pubkey", required_argument, NULL, OPT_PUBKEY},
	    {NULL, 0, NULL, 0},
	};
	/* static: still reachable (not a leak) on every way out of main */
	static char **orig;
	struct opts o = {0};
	const char *cmd, *eq;
	char *end;
	long v;
	int ch, nargs, i, before, at;

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
	/*
	 * GNU getopt permutes, so options may follow the command too. Its own
	 * messages would echo what was typed, which may be a subject id:
	 * errors name the position instead (':' first: a missing value is
	 * told apart from an unknown option).
	 */
	opterr = 0;
	before = optind;
	while ((ch = getopt_long(argc, argv, ":hfn:", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_ENDPOINT:
			o.endpoint = optarg;
			break;
		case OPT_KEY:
			o.keyfile = optarg;
			break;
		case OPT_SERVER_KEY:
			o.server_key = optarg;
			break;
		case OPT_TIMEOUT:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno != 0 || end == optarg || *end != '\0' ||
			    v <= 0 || v > INT_MAX)
				return usage_error("--timeout needs a positive "
				                   "number of milliseconds");
			o.timeout_ms = (int)v;
			break;
		case OPT_JSON:
			o.json = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("privctl %s\n", PRIVD_VERSION);
			return 0;
		case OPT_PURPOSE:
			o.purpose = optarg;
			break;
		case OPT_OUT:
			o.out = optarg;
			break;
		case OPT_REPLACES:
			o.replaces = optarg;
			break;
		case OPT_SUBJECT:
			o.subject = optarg;
			o.audit_opts |= AO_SUBJECT;
			break;
		case OPT_REGISTER:
			o.reg = optarg;
			o.audit_opts |= AO_REGISTER;
			break;
		case OPT_PRINCIPAL:
			o.principal = optarg;
			o.audit_opts |= AO_PRINCIPAL;
			break;
		case OPT_SINCE:
			o.since = optarg;
			o.audit_opts |= AO_SINCE;
			break;
		case OPT_UNTIL:
			o.until = optarg;
			o.audit_opts |= AO_UNTIL;
			break;
		case OPT_OP:
			if (o.nops == AUDIT_MAX_OPS)
				return usage_error(
				    "at most %d --op options", AUDIT_MAX_OPS);
			o.ops[o.nops++] = optarg;
			o.audit_opts |= AO_OP;
			break;
		case OPT_DENIED:
			o.denied = 1;
			o.audit_opts |= AO_DENIED;
			break;
		case OPT_NEWEST:
			o.newest = 1;
			o.audit_opts |= AO_NEWEST;
			break;
		case OPT_LIMIT:
			o.limit = optarg;
			o.audit_opts |= AO_LIMIT;
			break;
		case OPT_FROM:
			o.from = optarg;
			o.audit_opts |= AO_FROM;
			break;
		case OPT_TO:
			o.to = optarg;
			o.audit_opts |= AO_TO;
			break;
		case OPT_PUBKEY:
			o.pubkey = optarg;
			o.audit_opts |= AO_PUBKEY;
			break;
		case 'f':
			o.follow = 1;
			o.audit_opts |= AO_FOLLOW;
			break;
		case 'n':
			o.count = optarg;
			o.audit_opts |= AO_COUNT;
			break;
		case ':':
			return usage_error(
			    "option at argument %d needs a value",
			    bad_option_at(argv, before));
		default:
			at = bad_option_at(argv, before);
			/* a known option given a "=VALUE" it does not take */
			if (optopt != 0 && strncmp(argv[at], "--", 2) == 0)
				return usage_error(
				    "option at argument %d takes no value", at);
			return usage_error("unknown option at argument %d", at);
		}
		before = optind;
	}
	if (optind >= argc)
		return usage_error("no command given");
	cmd = argv[optind];
	nargs = argc - optind - 1;

	if (strcmp(cmd, "audit") == 0)
		return finish(audit_main(&o, argv + optind + 1, nargs));
	if (o.audit_opts != 0)
		return usage_error("%s is only for audit commands",
		    audit_opt_names[__builtin_ctz(o.audit_opts)]);
	if (strcmp(cmd, "keygen") == 0) {
		if (nargs != 0 || o.purpose != NULL)
			return usage_error(
			    "usage: privctl keygen [--out FILE]");
		return finish(cmd_keygen(&o));
	}
	if (strcmp(cmd, "ping") != 0 && strcmp(cmd, "put") != 0 &&
	    strcmp(cmd, "get") != 0 && strcmp(cmd, "delete") != 0 &&
	    strcmp(cmd, "policy") != 0)
		return usage_error("unknown command at argument %d",
		    position_of(orig, argc, cmd));
	if (o.out != NULL)
		return usage_error("--out is only for keygen and audit pubkey");
	if (strcmp(cmd, "policy") == 0)
		return finish(policy_main(&o, argv + optind + 1, nargs));
	if (o.replaces != NULL)
		return usage_error("--replaces is only for policy apply");
	if (strcmp(cmd, "ping") == 0 && (nargs != 0 || o.purpose != NULL))
		return usage_error("usage: privctl ping");
	if (strcmp(cmd, "put") == 0 && nargs < 3)
		return usage_error("usage: privctl put REGISTER SUBJECT "
		                   "--purpose P FIELD=VALUE...");
	/* never echo the argument: it may hold personal data */
	for (i = 2; strcmp(cmd, "put") == 0 && i < nargs; i++) {
		eq = strchr(argv[optind + 1 + i], '=');
		if (eq == NULL || eq == argv[optind + 1 + i])
			return usage_error(
			    "put: argument %d is not FIELD=VALUE", i + 1);
	}
	if (strcmp(cmd, "get") == 0 && nargs < 2)
		return usage_error("usage: privctl get REGISTER SUBJECT "
		                   "--purpose P [FIELD...]");
	if (strcmp(cmd, "delete") == 0 && nargs < 2)
		return usage_error("usage: privctl delete REGISTER SUBJECT "
		                   "--purpose P [FIELD...]");
	return finish(run_connected(&o, cmd, argv + optind + 1, nargs));
}
