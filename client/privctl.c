/*
 * privctl: command-line client of privd, built on libprivd. It also links
 * the policy model (policy/), only to validate policy files offline with
 * the same code privd runs; it talks to privd through libprivd alone.
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
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include <privd/client.h>

#include "policy.h"

#ifndef PRIVD_VERSION
#define PRIVD_VERSION "unknown"
#endif

#define EXIT_USAGE    2
#define EXIT_DENIED   3
#define EXIT_NOTFOUND 4
#define EXIT_INVALID  5
#define EXIT_KEPT     6
#define EXIT_TAMPERED 7

/* Audit commands: events per page asked for, and tail -f's poll interval. */
#define AUDIT_PAGE    1000
#define TAIL_POLL_MS  500
#define TAIL_DEFAULT  20
#define TAIL_MAX      1000000
#define TAIL_OWN_IDS  64 /* request ids of tail -f's own recent queries */
#define AUDIT_MAX_OPS 32

/* Largest policy file privctl reads; privd's request limit is smaller. */
#define POLICY_FILE_MAX (16 * 1024 * 1024)

/* Settings from the command line and the environment. */
struct opts {
	const char *endpoint;
	const char *keyfile;
	const char *server_key;
	const char *purpose;
	const char *out;
	const char *replaces; /* policy apply: the version replaced, as text */
	int timeout_ms;
	int json;
	/* policy apply: the validated document and the version it replaces */
	char *policy;
	uint64_t replaces_version;
	/* audit: options as given (checked by audit_main), then parsed */
	unsigned audit_opts; /* AO_* bits of the audit options given */
	const char *subject, *reg, *principal, *since, *until, *limit;
	const char *from, *to, *pubkey, *count;
	const char *ops[AUDIT_MAX_OPS];
	size_t nops;
	int denied, newest, follow;
	privd_audit_filter filter;
	uint64_t total; /* query --limit / tail -n: events to print */
	uint64_t from_seq, to_seq;
	uint8_t pk[32];
	int have_pk;
};

/* The audit options, as bits of opts.audit_opts, and their names. */
enum {
	AO_SUBJECT = 1u << 0,
	AO_REGISTER = 1u << 1,
	AO_PRINCIPAL = 1u << 2,
	AO_SINCE = 1u << 3,
	AO_UNTIL = 1u << 4,
	AO_OP = 1u << 5,
	AO_DENIED = 1u << 6,
	AO_NEWEST = 1u << 7,
	AO_LIMIT = 1u << 8,
	AO_FROM = 1u << 9,
	AO_TO = 1u << 10,
	AO_PUBKEY = 1u << 11,
	AO_FOLLOW = 1u << 12,
	AO_COUNT = 1u << 13,
};

static const char *const audit_opt_names[] = {"--subject", "--register",
    "--principal", "--since", "--until", "--op", "--denied", "--newest",
    "--limit", "--from", "--to", "--pubkey", "-f", "-n"};

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

/* Print a usage error and the hint; returns the usage exit code. */
static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("privctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'privctl --help' for more information.\n", stderr);
	return EXIT_USAGE;
}

/* The stable exit code of a libprivd status. */
static int
exit_code(int status)
{
	switch (status) {
	case PRIVD_OK:
		return 0;
	case PRIVD_EDENIED:
		return EXIT_DENIED;
	case PRIVD_ENOTFOUND:
		return EXIT_NOTFOUND;
	case PRIVD_EINVAL:
	case PRIVD_ETOOBIG:
	case PRIVD_EKEY:
		return EXIT_INVALID;
	case PRIVD_ERETAINED:
	case PRIVD_ECONFLICT:
		return EXIT_KEPT;
	case PRIVD_ETAMPERED:
		return EXIT_TAMPERED;
	default:
		return 1;
	}
}

/* Short machine-readable name of a status, for JSON errors. */
static const char *
status_name(int status)
{
	static const char *const names[] = {"ok", "invalid", "denied",
	    "not_found", "conflict", "retained", "too_large", "unavailable",
	    "timeout", "protocol", "internal", "no_memory", "bad_key",
	    "tampered"};

	if (status < 0 || (size_t)status >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[status];
}

/* Write a JSON value and a newline to stdout; takes the reference.
 * Returns an exit code: 0, or 1 if the value could not be built or written. */
static int
json_print(json_t *v)
{
	int rc = 0;

	if (v == NULL || json_dumpf(v, stdout, JSON_COMPACT) != 0) {
		fputs("privctl: cannot format JSON output\n", stderr);
		rc = 1;
	} else
		fputc('\n', stdout);
	json_decref(v);
	return rc;
}

/*
 * An error's JSON object {"status", "message"}. A message that is not
 * valid UTF-8 (say, a file name from the command line) cannot be a JSON
 * string: then the object says so instead, so that an error object is
 * printed all the same. NULL only if out of memory.
 */
static json_t *
json_error(const char *status, const char *message)
{
	json_t *err;

	err = json_pack("{s:s, s:s}", "status", status, "message", message);
	if (err == NULL)
		err = json_pack("{s:s, s:s}", "status", status, "message",
		    "(the message is not valid UTF-8)");
	return err;
}

/*
 * Report a failed call: JSON on stdout with --json, else one line on
 * stderr. message is privd's or the library's explanation (may be empty);
 * reason is the deny reason for PRIVD_EDENIED. Returns the exit code.
 */
static int
report(const struct opts *o, int status, const char *message, int reason)
{
	json_t *err;

	if (message == NULL)
		message = "";
	if (o->json) {
		err = json_error(status_name(status), message);
		if (err != NULL && status == PRIVD_EDENIED)
			json_object_set_new(err, "reason",
			    json_string(privd_reason_name(reason)));
		json_print(json_pack("{s:o}", "error", err));
	} else if (status == PRIVD_EDENIED)
		fprintf(stderr, "privctl: %s: %s%s(%s)\n",
		    privd_strerror(status), message, *message ? " " : "",
		    privd_reason_name(reason));
	else if (*message)
		fprintf(stderr, "privctl: %s: %s\n", privd_strerror(status),
		    message);
	else
		fprintf(stderr, "privctl: %s\n", privd_strerror(status));
	return exit_code(status);
}

/* Report the failure of the last call on c. */
static int
report_call(const struct opts *o, privd_client *c, int status)
{
	return report(o, status, privd_errmsg(c), privd_reason(c));
}

/* Report a local failure with a formatted explanation. */
static int report_local(const struct opts *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
report_local(const struct opts *o, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return report(o, status, msg, 0);
}

/*
 * Report a local I/O failure (keygen's file): not a libprivd status, so it
 * is shown without one, as status "io" in JSON. Exit code 1.
 */
static int report_io(const struct opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
report_io(const struct opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->json)
		json_print(json_pack("{s:o}", "error", json_error("io", msg)));
	else
		fprintf(stderr, "privctl: %s\n", msg);
	return 1;
}

/*
 * Is v[0..len) printable UTF-8 text: well-formed (no overlongs, surrogates
 * or code points past U+10FFFF) and free of C0/C1 controls and DEL? Only
 * such values are printed as they are; anything else could garble a
 * terminal or be ambiguous, and is shown as base64.
 */
static int
printable_utf8(const uint8_t *v, size_t len)
{
	size_t i = 0, n, k;
	uint32_t cp, min;

	while (i < len) {
		uint8_t b = v[i];

		if (b < 0x80) {
			if (b < 0x20 || b == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf) {
			n = 1, cp = b & 0x1f, min = 0x80;
		} else if (b >= 0xe0 && b <= 0xef) {
			n = 2, cp = b & 0x0f, min = 0x800;
		} else if (b >= 0xf0 && b <= 0xf4) {
			n = 3, cp = b & 0x07, min = 0x10000;
		} else
			return 0;
		if (len - i - 1 < n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((v[i + k] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (v[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* A name from privd, safe to print: "?" if it is not printable text. */
static const char *
safe(const char *s)
{
	return printable_utf8((const uint8_t *)s, strlen(s)) ? s : "?";
}

/* Base64 (standard alphabet, padded) of v; malloc'd, NULL if out of memory. */
static char *
base64(const uint8_t *v, size_t len)
{
	size_t n =
	    sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(n);

	if (s != NULL)
		sodium_bin2base64(s, n, v, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* Does s look like a Z85 key (40 characters of the Z85 alphabet)? Whether
 * it decodes is checked by privd_connect(). */
static int
is_z85_key(const char *s)
{
	static const char z85[] =
	    "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

	return strlen(s) == PRIVD_KEY_Z85_LEN - 1 &&
	       strspn(s, z85) == PRIVD_KEY_Z85_LEN - 1;
}

/*
 * Resolve --server-key: an existing file wins (its first non-comment line is
 * the key, bare or as "public-key = KEY"); otherwise the argument must be
 * the key itself. Public key material only, so no mode check.
 */
static int
server_key_resolve(
    const struct opts *o, const char *arg, char key[PRIVD_KEY_Z85_LEN])
{
	char line[256], *s = NULL, *e;
	FILE *f;
	int found = 0;

	if (access(arg, F_OK) != 0) {
		if (!is_z85_key(arg))
			return report_local(o, PRIVD_EKEY,
			    "--server-key is neither a Z85 key nor a file");
		memcpy(key, arg, PRIVD_KEY_Z85_LEN);
		return 0;
	}
	if ((f = fopen(arg, "r")) == NULL)
		return report_local(
		    o, PRIVD_EKEY, "%s: %s", arg, strerror(errno));
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
			continue;
		if (strncmp(s, "public-key", 10) == 0 &&
		    (e = strchr(s, '=')) != NULL)
			s = e + 1 + strspn(e + 1, " \t");
		e = s + strcspn(s, " \t\r\n");
		*e = '\0';
		found = 1;
	}
	fclose(f);
	if (!found || !is_z85_key(s))
		return report_local(o, PRIVD_EKEY,
		    "%s: first line is not a Z85 server key", arg);
	memcpy(key, s, PRIVD_KEY_Z85_LEN);
	return 0;
}

/* Write the whole buffer to fd; returns 0 or -1 with errno set. */
static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * keygen: the secret key goes either to a new 0600 file (created with
 * O_EXCL so an existing key is never clobbered) or to stdout when the
 * operator asked for that; every buffer here that held it is wiped on
 * every path. What privctl cannot wipe is stdio's buffer of stdout, which
 * holds the key on its way to the terminal or pipe it was asked to reach.
 */
static int
cmd_keygen(const struct opts *o)
{
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN], text[256];
	int fd, rc, n;

	if ((rc = privd_keygen(pub, sec)) != PRIVD_OK) {
		sodium_memzero(sec, sizeof(sec));
		return report_local(o, rc, "libzmq has no CURVE support");
	}
	if (o->out == NULL && o->json) {
		/*
		 * jansson copies the key once, into memory privctl does not
		 * own. Make all of jansson's memory sodium's, which
		 * sodium_free() wipes: nothing has used jansson yet in this
		 * process, and keygen ends it.
		 */
		json_set_alloc_funcs(sodium_malloc, sodium_free);
		rc = json_print(json_pack(
		    "{s:s, s:s}", "public_key", pub, "secret_key", sec));
		sodium_memzero(sec, sizeof(sec));
		return rc;
	}
	n = snprintf(text, sizeof(text),
	    "# privd client key pair (privctl keygen). Keep it secret.\n"
	    "public-key = %s\nsecret-key = %s\n",
	    pub, sec);
	sodium_memzero(sec, sizeof(sec));
	if (o->out == NULL) {
		rc = fputs(text, stdout) == EOF ? 1 : 0;
		sodium_memzero(text, sizeof(text));
		return rc;
	}
	fd = open(
	    o->out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	rc = 0;
	if (fd < 0)
		rc = report_io(o, "%s: %s%s", o->out, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite)" : "");
	else if (fchmod(fd, 0600) != 0 || write_all(fd, text, (size_t)n) != 0 ||
	         fsync(fd) != 0) {
		rc = report_io(o, "%s: %s", o->out, strerror(errno));
		unlink(o->out);
	}
	if (fd >= 0 && close(fd) != 0 && rc == 0) {
		rc = report_io(o, "%s: %s", o->out, strerror(errno));
		unlink(o->out);
	}
	sodium_memzero(text, sizeof(text));
	if (rc != 0)
		return rc;
	if (o->json)
		return json_print(
		    json_pack("{s:s, s:s}", "public_key", pub, "file", o->out));
	printf("%s\n", pub);
	return 0;
}

static int
cmd_ping(const struct opts *o, privd_client *c)
{
	privd_pong p;
	int rc;

	if ((rc = privd_ping(c, &p)) != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack("{s:s, s:s, s:I}", "server_version",
		    safe(p.server_version), "principal", safe(p.principal),
		    "policy_version", (json_int_t)p.policy_version));
	printf("privd %s, you are \"%s\", policy version %llu\n",
	    safe(p.server_version), safe(p.principal),
	    (unsigned long long)p.policy_version);
	return 0;
}

/* put: args are REGISTER SUBJECT FIELD=VALUE... */
static int
cmd_put(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_field *f;
	char *eq;
	int i, rc;

	if ((f = calloc((size_t)nargs - 2, sizeof(*f))) == NULL)
		return report_local(o, PRIVD_ENOMEM, "out of memory");
	for (i = 2; i < nargs; i++) {
		/* checked by main(); split in place: argv is ours to modify */
		eq = strchr(args[i], '=');
		*eq = '\0';
		f[i - 2].name = args[i];
		f[i - 2].value = (const uint8_t *)(eq + 1);
		f[i - 2].len = strlen(eq + 1);
	}
	rc = privd_put(c, args[0], args[1], o->purpose, f, (size_t)nargs - 2);
	free(f);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack("{s:i}", "written", nargs - 2));
	printf("wrote %d field(s)\n", nargs - 2);
	return 0;
}

/* One field of a get answer as JSON: a string, or {"base64": ...}. */
static json_t *
json_value(const privd_field *f)
{
	json_t *v;
	char *b;

	if (printable_utf8(f->value, f->len))
		return json_stringn((const char *)f->value, f->len);
	if ((b = base64(f->value, f->len)) == NULL)
		return NULL;
	v = json_pack("{s:s}", "base64", b);
	free(b);
	return v;
}

static int
print_record(const struct opts *o, const privd_record *r)
{
	json_t *fields;
	char *b;
	size_t i;

	if (o->json) {
		fields = json_object();
		for (i = 0; fields != NULL && i < r->nfields; i++)
			if (json_object_set_new(fields, r->fields[i].name,
			        json_value(&r->fields[i])) != 0) {
				json_decref(fields);
				return report_local(o, PRIVD_EPROTO,
				    "cannot express field %zu as JSON", i + 1);
			}
		return json_print(json_pack("{s:o*}", "fields", fields));
	}
	for (i = 0; i < r->nfields; i++) {
		const privd_field *f = &r->fields[i];

		if (!printable_utf8((const uint8_t *)f->name, strlen(f->name)))
			return report_local(o, PRIVD_EPROTO,
			    "field %zu has an unprintable name", i + 1);
		if (printable_utf8(f->value, f->len)) {
			printf("%s: %s\n", f->name, (const char *)f->value);
			continue;
		}
		if ((b = base64(f->value, f->len)) == NULL)
			return report_local(o, PRIVD_ENOMEM, "out of memory");
		printf("%s: base64:%s\n", f->name, b);
		free(b);
	}
	return 0;
}

static int
cmd_get(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_record *r = NULL;
	int rc;

	rc = privd_get(c, args[0], args[1], o->purpose,
	    (const char *const *)args + 2, (size_t)nargs - 2, &r);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	rc = print_record(o, r);
	privd_record_free(&r);
	return rc;
}

static int
cmd_delete(const struct opts *o, privd_client *c, char **args, int nargs)
{
	uint32_t n = 0;
	int rc;

	rc = privd_delete(c, args[0], args[1], o->purpose,
	    (const char *const *)args + 2, (size_t)nargs - 2, &n);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack("{s:I}", "deleted", (json_int_t)n));
	printf("deleted %lu field(s)\n", (unsigned long)n);
	return 0;
}

/* ISO 8601 UTC time, to the second, of microseconds since the epoch. */
static void
iso_time(uint64_t us, char buf[32])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "?");
}

/* A principal name from privd, safe to print ("?" if it is not text). */
static const char *
who(const privd_policy_version *v)
{
	return printable_utf8(
	           (const uint8_t *)v->applied_by, strlen(v->applied_by))
	           ? v->applied_by
	           : "?";
}

/* One policy version as a JSON object; NULL if out of memory. */
static json_t *
json_version(const privd_policy_version *v)
{
	char at[32];

	iso_time(v->applied_at_us, at);
	return json_pack("{s:I, s:s, s:s}", "version", (json_int_t)v->version,
	    "applied_by", who(v), "applied_at", at);
}

static int
cmd_policy_show(const struct opts *o, privd_client *c)
{
	privd_policy_version v;
	json_error_t je;
	json_t *doc, *out;
	char *text = NULL, at[32];
	size_t len;
	int rc;

	if ((rc = privd_policy_get(c, &v, &text)) != PRIVD_OK)
		return report_call(o, c, rc);
	iso_time(v.applied_at_us, at);
	if (o->json) {
		/* the document as an object, so a script needs no second parse
		 */
		doc = json_loads(text, 0, &je);
		privd_free(text);
		if (doc == NULL)
			return report_local(o, PRIVD_EPROTO,
			    "the policy in force is not valid JSON");
		if ((out = json_version(&v)) == NULL ||
		    json_object_set_new(out, "policy", doc) != 0) {
			json_decref(out);
			return report_local(o, PRIVD_ENOMEM, "out of memory");
		}
		return json_print(out);
	}
	printf("version %llu, applied by %s at %s\n",
	    (unsigned long long)v.version, who(&v), at);
	len = strlen(text);
	fputs(text, stdout);
	if (len == 0 || text[len - 1] != '\n')
		fputc('\n', stdout);
	privd_free(text);
	return 0;
}

static int
cmd_policy_apply(const struct opts *o, privd_client *c)
{
	uint64_t v = 0;
	int rc;

	rc = privd_policy_apply(c, o->replaces_version, o->policy, &v);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack("{s:I}", "version", (json_int_t)v));
	printf("policy version %llu in force\n", (unsigned long long)v);
	return 0;
}

static int
cmd_policy_history(const struct opts *o, privd_client *c)
{
	privd_policy_version *v = NULL;
	json_t *list;
	char at[32];
	size_t n = 0, i;
	int rc;

	if ((rc = privd_policy_history(c, &v, &n)) != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json) {
		list = json_array();
		for (i = 0; list != NULL && i < n; i++)
			if (json_array_append_new(list, json_version(&v[i])) !=
			    0) {
				json_decref(list);
				list = NULL;
			}
		privd_free(v);
		if (list == NULL)
			return report_local(o, PRIVD_ENOMEM, "out of memory");
		return json_print(json_pack("{s:o}", "versions", list));
	}
	for (i = 0; i < n; i++) {
		iso_time(v[i].applied_at_us, at);
		printf("%-4llu %s %s\n", (unsigned long long)v[i].version, at,
		    who(&v[i]));
	}
	privd_free(v);
	return 0;
}

/*
 * Read a policy file whole, as privd will receive it. On success returns 0
 * and *text is malloc'd and NUL-terminated, and *len its length; it may
 * still contain a NUL byte, which policy_validate() refuses. Otherwise
 * returns the exit code after reporting.
 */
static int
policy_read(const struct opts *o, const char *path, char **text, size_t *len)
{
	char *buf = NULL, *nb;
	size_t n = 0, cap = 0, r;
	FILE *f;
	int err;

	*text = NULL;
	if ((f = fopen(path, "r")) == NULL)
		return report_io(o, "%s: %s", path, strerror(errno));
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64 * 1024;
			if ((nb = realloc(buf, cap + 1)) == NULL) {
				free(buf);
				fclose(f);
				return report_local(
				    o, PRIVD_ENOMEM, "out of memory");
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
		if (r == 0 || n > POLICY_FILE_MAX)
			break;
	}
	err = ferror(f) ? errno : 0;
	fclose(f);
	if (err != 0) {
		free(buf);
		return report_io(o, "%s: %s", path, strerror(err));
	}
	if (n > POLICY_FILE_MAX) {
		free(buf);
		return report_local(o, PRIVD_EINVAL, "%s: larger than %d bytes",
		    path, POLICY_FILE_MAX);
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

/*
 * Validate a policy document with pol_parse(), the code privd itself runs
 * on every apply, so that a file that passes here is what privd accepts.
 * A failure is reported as "FILE: <JSON path>: <reason>" on stderr (or as
 * a JSON error) and returns EXIT_INVALID; on success *nreg and *nprin
 * receive the counts and 0 is returned.
 */
static int
policy_validate(const struct opts *o, const char *path, const char *text,
    size_t len, size_t *nreg, size_t *nprin)
{
	pol_policy *p = NULL;
	pol_error err;
	json_t *e;

	if (memchr(text, '\0', len) != NULL) {
		snprintf(err.path, sizeof(err.path), "$");
		snprintf(err.reason, sizeof(err.reason), "contains a NUL byte");
	} else if (pol_parse(text, len, &p, &err) == 0) {
		*nreg = p->nregisters;
		*nprin = p->nprincipals;
		pol_free(&p);
		return 0;
	}
	if (o->json) {
		e = json_pack("{s:s, s:s, s:s, s:s}", "status", "invalid",
		    "file", path, "path", err.path, "message", err.reason);
		if (e == NULL) /* a file name that is not UTF-8 */
			e = json_error("invalid", err.reason);
		json_print(json_pack("{s:o}", "error", e));
	} else
		fprintf(stderr, "%s: %s: %s\n", path, err.path, err.reason);
	return EXIT_INVALID;
}

/* policy check FILE: offline, no connection settings needed. */
static int
cmd_policy_check(const struct opts *o, const char *path)
{
	size_t len, nreg, nprin;
	char *text;
	int rc;

	if ((rc = policy_read(o, path, &text, &len)) != 0)
		return rc;
	rc = policy_validate(o, path, text, len, &nreg, &nprin);
	free(text);
	if (rc != 0)
		return rc;
	if (o->json)
		return json_print(
		    json_pack("{s:s, s:I, s:I}", "file", path, "registers",
		        (json_int_t)nreg, "principals", (json_int_t)nprin));
	printf("%s: ok (%zu register%s, %zu principal%s)\n", path, nreg,
	    nreg == 1 ? "" : "s", nprin, nprin == 1 ? "" : "s");
	return 0;
}

/* ---- audit commands ---------------------------------------------------- */

/* A decimal number without sign or blanks, into *v; -1 if not one. */
static int
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
 * A time on the command line: ISO 8601 UTC ("2026-11-27T10:00:00Z" or the
 * date "2026-11-27", midnight), or Unix seconds. Microseconds into *us;
 * -1 if it is none of those or not a real date.
 */
static int
parse_time(const char *s, uint64_t *us)
{
	struct tm tm, check;
	uint64_t secs;
	time_t t;
	int n = 0, len = (int)strlen(s);

	if (strspn(s, "0123456789") == (size_t)len) {
		if (parse_u64(s, &secs) != 0 || secs > UINT64_MAX / 1000000u)
			return -1;
		*us = secs * 1000000u;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	        &n) != 3 ||
	    n != 10)
		return -1;
	if (len > 10 && (sscanf(s + 10, "T%2d:%2d:%2dZ%n", &tm.tm_hour,
	                     &tm.tm_min, &tm.tm_sec, &n) != 3 ||
	                    n != len - 10 || len != 20))
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	check = tm;
	if (tm.tm_year < 70 || (t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* timegm normalises 2026-02-30 into March: refuse what moved */
	if (tm.tm_mday != check.tm_mday || tm.tm_mon != check.tm_mon ||
	    tm.tm_hour != check.tm_hour || tm.tm_min != check.tm_min ||
	    tm.tm_sec != check.tm_sec)
		return -1;
	*us = (uint64_t)t * 1000000u;
	return 0;
}

/* 64 hex digits into 32 bytes; -1 if s is not exactly that. */
static int
hex_key(const char *s, size_t len, uint8_t pk[32])
{
	size_t n;

	if (len != 64 || strspn(s, "0123456789abcdefABCDEF") < 64)
		return -1;
	return sodium_hex2bin(pk, 32, s, 64, NULL, &n, NULL) == 0 && n == 32
	           ? 0
	           : -1;
}

/*
 * Resolve --pubkey: 64 hex digits, or a file whose first non-comment line
 * holds them (as `audit pubkey --out` writes it). Public material: no mode
 * check. Returns 0, or reports and returns the exit code.
 */
static int
pubkey_resolve(struct opts *o, const char *arg)
{
	char line[256], *s = NULL;
	FILE *f;
	int found = 0;

	if (hex_key(arg, strlen(arg), o->pk) == 0) {
		o->have_pk = 1;
		return 0;
	}
	if ((f = fopen(arg, "r")) == NULL)
		return report_local(o, PRIVD_EKEY,
		    "--pubkey is neither 64 hex digits nor a readable file");
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
			continue;
		found = 1;
	}
	fclose(f);
	if (!found || hex_key(s, strcspn(s, " \t\r\n"), o->pk) != 0)
		return report_local(o, PRIVD_EKEY,
		    "%s: first line is not a 64-hex-digit key", arg);
	o->have_pk = 1;
	return 0;
}

/* Names of an event's decision and of its reply's privd.v1.Status. */
static const char *
decision_name(int d)
{
	static const char *const names[] = {
	    "unspecified", "allowed", "refused", "rejected", "failed"};

	if (d < 0 || (size_t)d >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[d];
}

static const char *
wire_status_name(int st)
{
	static const char *const names[] = {"unspecified", "ok", "invalid",
	    "denied", "not_found", "conflict", "retained", "too_large",
	    "unavailable", "internal"};

	if (st < 0 || (size_t)st >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[st];
}

/* ISO 8601 UTC time with microseconds ("2026-11-27T10:00:00.123456Z"). */
static void
iso_time_us(uint64_t us, char buf[40])
{
	char sec[32];

	iso_time(us, sec);
	if (strlen(sec) == 20)
		snprintf(
		    buf, 40, "%.19s.%06uZ", sec, (unsigned)(us % 1000000u));
	else
		snprintf(buf, 40, "%s", sec);
}

/*
 * A 64-bit unsigned number from privd as JSON: a number while it fits
 * json_int_t, else its decimal digits as a string (as request_id always
 * is) rather than a negative number. NULL if out of memory.
 */
static json_t *
json_u64(uint64_t v)
{
	char digits[24];

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
	return json_string(digits);
}

/* One audit event as a JSON object; NULL if out of memory. */
static json_t *
json_event(const privd_audit_event *e)
{
	char at[40], hash[65], subj[65], rid[24];
	json_t *o, *fields;
	size_t i;

	iso_time_us(e->time_us, at);
	sodium_bin2hex(hash, sizeof(hash), e->hash, sizeof(e->hash));
	if (e->has_subject)
		sodium_bin2hex(
		    subj, sizeof(subj), e->subject, sizeof(e->subject));
	/* request ids are 64-bit: more than a JSON number holds exactly */
	snprintf(rid, sizeof(rid), "%llu", (unsigned long long)e->request_id);
	if ((fields = json_array()) == NULL)
		return NULL;
	for (i = 0; i < e->nfields; i++)
		if (json_array_append_new(
		        fields, json_string(safe(e->fields[i]))) != 0) {
			json_decref(fields);
			return NULL;
		}
	o = json_pack("{s:o, s:s, s:o, s:s, s:s, s:s, s:o*, s:o, s:s, s:s, "
	              "s:o*, s:s, s:o, s:s, s:s}",
	    "seq", json_u64(e->seq), "time", at, "time_us",
	    json_u64(e->time_us), "principal", safe(e->principal), "op",
	    safe(e->op), "register", safe(e->reg), "subject",
	    e->has_subject ? json_string(subj) : json_null(), "fields", fields,
	    "purpose", safe(e->purpose), "decision", decision_name(e->decision),
	    "reason",
	    e->reason != 0 ? json_string(privd_reason_name(e->reason))
	                   : json_null(),
	    "status", wire_status_name(e->status), "policy_version",
	    json_u64(e->policy_version), "request_id", rid, "hash", hash);
	return o;
}

/*
 * Print one event: a JSON line with --json (and always for export), else
 * "seq time principal op register subject fields purpose decision
 * status[/reason]" with '-' for what the event does not have.
 */
static int
print_event(const struct opts *o, const privd_audit_event *e, int as_json)
{
	char at[40], subj[13], fields[1024];
	size_t i, n = 0;

	if (as_json)
		return json_print(json_event(e));
	iso_time_us(e->time_us, at);
	if (e->has_subject)
		sodium_bin2hex(subj, sizeof(subj), e->subject, 6);
	fields[0] = '\0';
	for (i = 0; i < e->nfields && n < sizeof(fields); i++)
		n += (size_t)snprintf(fields + n, sizeof(fields) - n, "%s%s",
		    i ? "," : "", safe(e->fields[i]));
	printf("%llu %s %s %s %s %s %s %s %s %s%s%s\n",
	    (unsigned long long)e->seq, at,
	    *e->principal ? safe(e->principal) : "-",
	    *e->op ? safe(e->op) : "-", *e->reg ? safe(e->reg) : "-",
	    e->has_subject ? subj : "-", *fields ? fields : "-",
	    *e->purpose ? safe(e->purpose) : "-", decision_name(e->decision),
	    wire_status_name(e->status), e->reason ? "/" : "",
	    e->reason ? privd_reason_name(e->reason) : "");
	return 0;
}

/*
 * Did privd answer with the very cursor it was sent? Asking again would
 * then bring the same page forever. (Pages without events but with a new
 * cursor are fine: privd bounds the work of one page.)
 */
static int
same_cursor(const privd_audit_page *sent, const privd_audit_page *got)
{
	return sent != NULL && sent->cursor != NULL && got->cursor != NULL &&
	       got->cursorlen == sent->cursorlen &&
	       memcmp(got->cursor, sent->cursor, got->cursorlen) == 0;
}

/* Report that privd's pages do not make progress; returns the exit code. */
static int
report_no_progress(const struct opts *o)
{
	return report_local(
	    o, PRIVD_EPROTO, "privd's answer does not make progress");
}

/*
 * Ask for the page after prev (the first page if prev is NULL) into *out.
 * Returns 0, or the exit code after reporting privd's error or a cursor
 * that does not move (*out is then NULL). Every audit command walks its
 * pages with this, so none of them can be kept going forever.
 */
static int
next_page(const struct opts *o, privd_client *c, const privd_audit_filter *f,
    const privd_audit_page *prev, privd_audit_page **out)
{
	int rc;

	*out = NULL;
	rc = privd_audit_query(
	    c, f, prev ? prev->cursor : NULL, prev ? prev->cursorlen : 0, out);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (same_cursor(prev, *out)) {
		privd_audit_page_free(out);
		return report_no_progress(o);
	}
	return 0;
}

/*
 * Walk every page of a query, printing each event, until there is no
 * cursor or max events (0: no limit) are printed. With ordered (oldest
 * first by seq range, as export asks), every event must be in
 * [f->from_seq, f->to_seq] and after the one before it, so that the walk
 * ends however privd answers.
 */
static int
audit_walk(const struct opts *o, privd_client *c, const privd_audit_filter *f,
    uint64_t max, int as_json, int ordered)
{
	privd_audit_page *pg = NULL, *next;
	uint64_t printed = 0, seq, prev = 0;
	size_t i;
	int rc;

	if ((rc = next_page(o, c, f, NULL, &pg)) != 0)
		return rc;
	for (;;) {
		for (i = 0; i < pg->n && (max == 0 || printed < max); i++) {
			seq = pg->events[i].seq;
			if (ordered &&
			    ((printed > 0 && seq <= prev) ||
			        seq < f->from_seq ||
			        (f->to_seq != 0 && seq > f->to_seq))) {
				rc = report_no_progress(o);
				goto out;
			}
			if ((rc = print_event(o, &pg->events[i], as_json)) != 0)
				goto out;
			prev = seq;
			printed++;
		}
		fflush(stdout);
		if (pg->cursor == NULL || (max != 0 && printed >= max))
			break;
		if ((rc = next_page(o, c, f, pg, &next)) != 0)
			goto out;
		privd_audit_page_free(&pg);
		pg = next;
	}
	rc = 0;
out:
	privd_audit_page_free(&pg);
	return rc;
}

static int
cmd_audit_query(const struct opts *o, privd_client *c)
{
	privd_audit_filter f = o->filter;

	f.limit = o->total != 0 && o->total < AUDIT_PAGE ? (uint32_t)o->total
	                                                 : AUDIT_PAGE;
	return audit_walk(o, c, &f, o->total, o->json, 0);
}

/* The newest event's seq (0 if none), bounded by to_seq (0: none). */
static int
audit_head(
    const struct opts *o, privd_client *c, uint64_t to_seq, uint64_t *head)
{
	privd_audit_filter f = {0};
	privd_audit_page *pg = NULL;
	int rc;

	f.newest_first = 1;
	f.limit = 1;
	f.to_seq = to_seq;
	*head = 0;
	/* a page may come back empty with a cursor: follow it */
	if ((rc = next_page(o, c, &f, NULL, &pg)) != 0)
		return rc;
	while (pg->n == 0 && pg->cursor != NULL) {
		privd_audit_page *next;

		rc = next_page(o, c, &f, pg, &next);
		privd_audit_page_free(&pg);
		if (rc != 0)
			return rc;
		pg = next;
	}
	if (pg->n > 0)
		*head = pg->events[0].seq;
	privd_audit_page_free(&pg);
	return 0;
}

static int
cmd_audit_export(const struct opts *o, privd_client *c)
{
	privd_audit_filter f = {0};
	uint64_t head;
	int rc;

	/* up to the newest event as the export starts, so that the export's
	 * own queries do not keep it going */
	if ((rc = audit_head(o, c, o->to_seq, &head)) != 0)
		return rc;
	if (head == 0 || head < o->from_seq)
		return 0;
	f.from_seq = o->from_seq;
	f.to_seq = head;
	f.limit = AUDIT_PAGE;
	return audit_walk(o, c, &f, 0, 1, 1);
}

static volatile sig_atomic_t tail_stop;

static void
on_stop_signal(int sig)
{
	(void)sig;
	tail_stop = 1;
}

/* Remember the id of one of tail -f's own queries. */
static void
own_add(uint64_t *ids, size_t *next, uint64_t id)
{
	ids[*next % TAIL_OWN_IDS] = id;
	(*next)++;
}

static int
own_has(const uint64_t *ids, const privd_audit_event *e)
{
	size_t i;

	if (strcmp(e->op, "audit_query") != 0)
		return 0;
	for (i = 0; i < TAIL_OWN_IDS; i++)
		if (ids[i] != 0 && ids[i] == e->request_id)
			return 1;
	return 0;
}

/*
 * tail: the last N events, newest first from privd, printed oldest first;
 * with -f, then poll for events after the last one until SIGINT or
 * SIGTERM. Its own polling queries would otherwise fill the output: they
 * are recognised by their request ids and not shown.
 */
static int
cmd_audit_tail(const struct opts *o, privd_client *c)
{
	privd_audit_filter f = {0};
	privd_audit_page **pages = NULL, **np, *pg = NULL, *spare = NULL;
	const privd_audit_page *prev = NULL;
	uint64_t want = o->count ? o->total : TAIL_DEFAULT, got = 0, last = 0;
	uint64_t own[TAIL_OWN_IDS] = {0};
	size_t npages = 0, nown = 0, i, k, take;
	struct sigaction sa;
	struct timespec ts;
	int rc = 0;

	f.newest_first = 1;
	f.limit = want > 0 && want < AUDIT_PAGE ? (uint32_t)want : AUDIT_PAGE;
	if (want == 0)
		f.limit = 1; /* only to learn where the log ends */
	for (;;) {
		rc = next_page(o, c, &f, prev, &pg);
		own_add(own, &nown, privd_last_request_id(c));
		if (rc != 0)
			goto out;
		/* a page without events is kept only for its cursor */
		privd_audit_page_free(&spare);
		prev = pg;
		if (pg->n == 0) {
			spare = pg;
		} else if ((np = realloc(pages, (npages + 1) * sizeof(*np))) ==
		           NULL) {
			privd_audit_page_free(&pg);
			rc = report_local(o, PRIVD_ENOMEM, "out of memory");
			goto out;
		} else {
			pages = np;
			pages[npages++] = pg;
		}
		if (pg->n > 0 && last == 0)
			last = pg->events[0].seq;
		got += pg->n;
		if (pg->cursor == NULL || (want > 0 ? got >= want : last != 0))
			break;
	}
	privd_audit_page_free(&spare);
	/* oldest first: the pages backwards, each page backwards */
	for (got = 0, i = 0; i < npages; i++) {
		take = pages[i]->n;
		if (take > want - got)
			take = (size_t)(want - got);
		pages[i]->n = take; /* the rest is older than asked */
		got += take;
	}
	for (i = npages; i-- > 0 && rc == 0;)
		for (k = pages[i]->n; k-- > 0 && rc == 0;)
			rc = print_event(o, &pages[i]->events[k], o->json);
	fflush(stdout);
	if (rc != 0 || !o->follow)
		goto out;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: wake the sleep */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&f, 0, sizeof(f));
	f.limit = AUDIT_PAGE;
	while (!tail_stop) {
		ts.tv_sec = TAIL_POLL_MS / 1000;
		ts.tv_nsec = (long)(TAIL_POLL_MS % 1000) * 1000000L;
		while (!tail_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		if (tail_stop)
			break;
		f.from_seq = last + 1;
		pg = NULL;
		do {
			privd_audit_page *next = NULL;

			rc = next_page(o, c, &f, pg, &next);
			own_add(own, &nown, privd_last_request_id(c));
			privd_audit_page_free(&pg);
			if (rc != 0)
				goto out;
			pg = next;
			for (k = 0; k < pg->n && rc == 0; k++) {
				if (pg->events[k].seq > last)
					last = pg->events[k].seq;
				if (!own_has(own, &pg->events[k]))
					rc = print_event(
					    o, &pg->events[k], o->json);
			}
			fflush(stdout);
		} while (rc == 0 && pg->cursor != NULL && !tail_stop);
		privd_audit_page_free(&pg);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	privd_audit_page_free(&spare);
	for (i = 0; i < npages; i++)
		privd_audit_page_free(&pages[i]);
	free(pages);
	return rc;
}

static int
cmd_audit_verify(const struct opts *o, privd_client *c)
{
	privd_audit_checkpoint *ck = NULL;
	uint64_t first, last, a, b, bad = 0, checked = 0, k = 0;
	size_t n = 0, i;
	char why[200];
	int rc;

	if (!o->have_pk)
		fputs("privctl: note: checking signatures with the key privd "
		      "reports now; pin it once with 'privctl audit pubkey "
		      "--out FILE' and pass --pubkey FILE\n",
		    stderr);
	/* fix the range first, so the report names exactly what was checked
	 */
	rc = privd_audit_checkpoints(
	    c, o->from_seq, o->to_seq, &ck, &n, &first, &last, NULL, NULL);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	b = o->to_seq != 0 && o->to_seq < last ? o->to_seq : last;
	a = o->from_seq > 1 ? o->from_seq : 1;
	if (first > 1 && a <= first)
		a = first;
	for (i = 0; i < n; i++)
		if (ck[i].seq >= a && ck[i].seq <= b)
			k++;
	privd_free(ck);
	/* an empty log, or --from past its newest event: nothing to check */
	if (b == 0 || o->from_seq > b) {
		if (o->json)
			return json_print(json_pack("{s:b, s:I, s:I}",
			    "verified", 1, "events", (json_int_t)0,
			    "checkpoints", (json_int_t)0));
		printf("audit log verifies: %s\n",
		    b == 0 ? "it holds no events"
		           : "no events kept in that range");
		return 0;
	}
	rc = privd_audit_verify(c, o->from_seq, b, o->have_pk ? o->pk : NULL,
	    &bad, why, sizeof(why), &checked);
	if (rc == PRIVD_ETAMPERED) {
		if (o->json)
			json_print(json_pack("{s:b, s:o, s:s}", "verified", 0,
			    "bad_seq", json_u64(bad), "why", why));
		else
			printf("audit log does NOT verify at event %llu: %s\n",
			    (unsigned long long)bad, why);
		return EXIT_TAMPERED;
	}
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack("{s:b, s:o, s:o, s:o, s:o}",
		    "verified", 1, "from", json_u64(a), "to", json_u64(b),
		    "events", json_u64(checked), "checkpoints", json_u64(k)));
	if (checked == 0)
		printf("audit log verifies: no events kept in that range\n");
	else
		printf("audit log verifies: events %llu..%llu, %llu signed "
		       "checkpoint%s\n",
		    (unsigned long long)a, (unsigned long long)b,
		    (unsigned long long)k, k == 1 ? "" : "s");
	return 0;
}

/*
 * pubkey: the key is public, but a pinned copy must not be replaced
 * behind the auditor's back, so --out never overwrites.
 */
static int
cmd_audit_pubkey(const struct opts *o, privd_client *c)
{
	uint8_t pk[32];
	char hex[65], line[66];
	int fd, rc;

	if ((rc = privd_audit_pubkey(c, pk)) != PRIVD_OK)
		return report_call(o, c, rc);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	if (o->out != NULL) {
		snprintf(line, sizeof(line), "%s\n", hex);
		fd = open(o->out,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return report_io(o, "%s: %s%s", o->out, strerror(errno),
			    errno == EEXIST ? " (refusing to overwrite)" : "");
		rc = write_all(fd, line, strlen(line)) != 0 || fsync(fd) != 0;
		if (close(fd) != 0 || rc) {
			rc = report_io(o, "%s: %s", o->out, strerror(errno));
			unlink(o->out);
			return rc;
		}
	}
	if (o->json)
		return json_print(o->out != NULL
		                      ? json_pack("{s:s, s:s}", "public_key",
		                            hex, "file", o->out)
		                      : json_pack("{s:s}", "public_key", hex));
	printf("%s\n", hex);
	return 0;
}

/* Run an audit subcommand (checked by audit_main) on a connection. */
static int
cmd_audit(const struct opts *o, privd_client *c, const char *sub)
{
	if (strcmp(sub, "query") == 0)
		return cmd_audit_query(o, c);
	if (strcmp(sub, "tail") == 0)
		return cmd_audit_tail(o, c);
	if (strcmp(sub, "verify") == 0)
		return cmd_audit_verify(o, c);
	if (strcmp(sub, "export") == 0)
		return cmd_audit_export(o, c);
	return cmd_audit_pubkey(o, c);
}

/*
 * Connect with the settings from options and environment, then run one
 * data command. Missing settings are usage errors; a bad key is invalid
 * input (exit 5).
 */
static int
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
 * The policy commands: check runs offline; apply validates offline first,
 * so an invalid file never reaches privd (nor its audit log), then connects
 * like show and history.
 */
static int
policy_main(struct opts *o, char **args, int nargs)
{
	static const char usage[] = "usage: privctl policy show | check FILE | "
	                            "apply FILE --replaces N | history";
	const char *sub = nargs > 0 ? args[0] : "";
	size_t len, nreg, nprin;
	char *end;
	int rc;

	if (strcmp(sub, "show") != 0 && strcmp(sub, "check") != 0 &&
	    strcmp(sub, "apply") != 0 && strcmp(sub, "history") != 0)
		return usage_error("%s", usage);
	if (o->purpose != NULL)
		return usage_error("--purpose is not for policy commands");
	if (o->replaces != NULL && strcmp(sub, "apply") != 0)
		return usage_error("--replaces is only for policy apply");
	if ((strcmp(sub, "show") == 0 || strcmp(sub, "history") == 0) &&
	    nargs != 1)
		return usage_error("usage: privctl policy %s", sub);
	if (strcmp(sub, "check") == 0) {
		if (nargs != 2)
			return usage_error("usage: privctl policy check FILE");
		return cmd_policy_check(o, args[1]);
	}
	if (strcmp(sub, "apply") == 0) {
		if (nargs != 2)
			return usage_error("usage: privctl policy apply FILE "
			                   "--replaces N");
		if (o->replaces == NULL)
			return usage_error(
			    "policy apply needs --replaces N, the version in "
			    "force that FILE replaces (see 'privctl policy "
			    "show')");
		errno = 0;
		o->replaces_version = strtoull(o->replaces, &end, 10);
		if (errno != 0 || end == o->replaces || *end != '\0' ||
		    *o->replaces < '0' || *o->replaces > '9' ||
		    o->replaces_version == 0)
			return usage_error(
			    "--replaces needs a version number, as shown by "
			    "'privctl policy show'");
		if ((rc = policy_read(o, args[1], &o->policy, &len)) != 0)
			return rc;
		rc = policy_validate(o, args[1], o->policy, len, &nreg, &nprin);
		if (rc == 0)
			rc = run_connected(o, "policy", args, nargs);
		free(o->policy);
		o->policy = NULL;
		return rc;
	}
	return run_connected(o, "policy", args, nargs);
}

/*
 * The audit commands: check which options each one takes and parse them
 * before connecting, so that a mistyped time or number costs no request
 * (and no audit event).
 */
static int
audit_main(struct opts *o, char **args, int nargs)
{
	static const char usage[] =
	    "usage: privctl audit query [--subject [R/]S] [--register R] "
	    "[--principal P] [--since T] [--until T] [--op OP]... [--denied] "
	    "[--newest] [--limit N] | tail [-f] [-n N] | verify [--from N] "
	    "[--to N] [--pubkey HEX|FILE] | export [--from N] [--to N] | "
	    "pubkey [--out FILE]";
	static const struct {
		const char *name;
		unsigned opts;
	} subs[] = {
	    {"query", AO_SUBJECT | AO_REGISTER | AO_PRINCIPAL | AO_SINCE |
	                  AO_UNTIL | AO_OP | AO_DENIED | AO_NEWEST | AO_LIMIT},
	    {"tail", AO_FOLLOW | AO_COUNT},
	    {"verify", AO_FROM | AO_TO | AO_PUBKEY},
	    {"export", AO_FROM | AO_TO},
	    {"pubkey", 0},
	};
	const char *sub = nargs > 0 ? args[0] : "";
	static char regbuf[65];
	const char *slash;
	privd_audit_filter *f = &o->filter;
	unsigned allowed = 0, bad;
	size_t i;
	int found = 0, rc;

	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(sub, subs[i].name) == 0) {
			allowed = subs[i].opts;
			found = 1;
		}
	if (!found)
		return usage_error("%s", usage);
	if (nargs != 1)
		return usage_error("audit %s takes no arguments, only options "
		                   "(a subject goes with --subject)",
		    sub);
	if (o->purpose != NULL)
		return usage_error("--purpose is not for audit commands");
	if (o->out != NULL && strcmp(sub, "pubkey") != 0)
		return usage_error("--out is only for keygen and audit pubkey");
	if ((bad = o->audit_opts & ~allowed) != 0)
		return usage_error("%s is not an option of audit %s",
		    audit_opt_names[__builtin_ctz(bad)], sub);
	f->subject = o->subject;
	f->reg = o->reg;
	f->principal = o->principal;
	f->ops = o->ops;
	f->nops = o->nops;
	f->decision = o->denied ? PRIVD_DECISION_REFUSED : PRIVD_DECISION_ANY;
	f->newest_first = o->newest;
	if (o->subject != NULL && *o->subject == '\0')
		return usage_error("--subject needs a subject id");
	/* --subject REGISTER/SUBJECT names both (the first '/' splits them);
	 * with --register, --subject is the subject id as it is. */
	if (o->subject != NULL && o->reg == NULL &&
	    (slash = strchr(o->subject, '/')) != NULL) {
		size_t rl = (size_t)(slash - o->subject);

		if (rl == 0 || rl >= sizeof(regbuf) || slash[1] == '\0')
			return usage_error("--subject REGISTER/SUBJECT needs a "
			                   "register name and a subject id");
		memcpy(regbuf, o->subject, rl);
		regbuf[rl] = '\0';
		f->reg = regbuf;
		f->subject = slash + 1;
	}
	if (o->since != NULL && parse_time(o->since, &f->since_us) != 0)
		return usage_error(
		    "--since needs a time: 2026-11-27T10:00:00Z, "
		    "2026-11-27 or Unix seconds");
	if (o->until != NULL && parse_time(o->until, &f->until_us) != 0)
		return usage_error(
		    "--until needs a time: 2026-11-27T10:00:00Z, "
		    "2026-11-27 or Unix seconds");
	if (o->limit != NULL &&
	    (parse_u64(o->limit, &o->total) != 0 || o->total == 0))
		return usage_error("--limit needs a positive number of events");
	if (o->count != NULL &&
	    (parse_u64(o->count, &o->total) != 0 || o->total > TAIL_MAX))
		return usage_error(
		    "-n needs a number of events (0..%d)", TAIL_MAX);
	if (o->from != NULL &&
	    (parse_u64(o->from, &o->from_seq) != 0 || o->from_seq == 0))
		return usage_error("--from needs an event number (1, 2, ...)");
	if (o->to != NULL &&
	    (parse_u64(o->to, &o->to_seq) != 0 || o->to_seq == 0))
		return usage_error("--to needs an event number (1, 2, ...)");
	if (o->to_seq != 0 && o->from_seq > o->to_seq)
		return usage_error("--from is after --to");
	if (o->pubkey != NULL && (rc = pubkey_resolve(o, o->pubkey)) != 0)
		return rc;
	return run_connected(o, "audit", args, nargs);
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
