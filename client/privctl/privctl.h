/*
 * privctl.h - what the files of privctl share.
 *
 * main.c parses the command line and connects; output.c prints results and
 * errors and owns the exit codes; cmd_<group>.c run the commands of one
 * group (data, policy, audit, keys).
 */
#ifndef PRIVCTL_H
#define PRIVCTL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <privd/client.h>

/* Exit codes, stable (DESIGN.md section 8); 1 is anything else. */
#define EXIT_USAGE     2
#define EXIT_DENIED    3
#define EXIT_NOTFOUND  4
#define EXIT_INVALID   5
#define EXIT_KEPT      6
#define EXIT_TAMPERED  7
#define EXIT_HANDSHAKE 8

/* Audit commands: events per page asked for, and tail -f's poll interval. */
#define AUDIT_PAGE   1000
#define TAIL_POLL_MS 500
#define TAIL_DEFAULT 20
#define TAIL_MAX     1000000
/* Request ids of tail -f's own recent queries: enough for the catch-up of
 * tail -n TAIL_MAX (a query per 1000 events) and then some. */
#define TAIL_OWN_IDS  (TAIL_MAX / 1000 + 64)
#define AUDIT_MAX_OPS 32

/* Largest policy file privctl reads; privd's request limit is smaller. */
#define POLICY_FILE_MAX (16 * 1024 * 1024)

/*
 * Every option, as a bit of opts.given. The global ones (O_GLOBAL) go with
 * every command; each command names the others it takes (main.c).
 */
enum {
	O_ENDPOINT = 1u << 0,
	O_KEY = 1u << 1,
	O_SERVER_KEY = 1u << 2,
	O_TIMEOUT = 1u << 3,
	O_JSON = 1u << 4,
	O_HELP = 1u << 5,
	O_VERSION = 1u << 6,
	O_PURPOSE = 1u << 7,
	O_OUT = 1u << 8,
	O_REPLACES = 1u << 9,
	O_SUBJECT = 1u << 10,
	O_REGISTER = 1u << 11,
	O_PRINCIPAL = 1u << 12,
	O_SINCE = 1u << 13,
	O_UNTIL = 1u << 14,
	O_OP = 1u << 15,
	O_DENIED = 1u << 16,
	O_NEWEST = 1u << 17,
	O_LIMIT = 1u << 18,
	O_FROM = 1u << 19,
	O_TO = 1u << 20,
	O_PUBKEY = 1u << 21,
	O_FOLLOW = 1u << 22,
	O_COUNT = 1u << 23,
	O_NOT_OP = 1u << 24,
	O_REQUEST_ID = 1u << 25,
	O_CONFIRM = 1u << 26,
	O_FORCE = 1u << 27,
};

#define O_GLOBAL                                                               \
	(O_ENDPOINT | O_KEY | O_SERVER_KEY | O_TIMEOUT | O_JSON | O_HELP |     \
	    O_VERSION)

/* Settings from the command line and the environment. */
struct opts {
	const char *endpoint;
	const char *keyfile;
	const char *server_key;
	const char *purpose;
	const char *out;
	const char *replaces; /* policy apply: the version replaced, as text */
	const char *timeout;
	int timeout_ms;
	int json;
	unsigned given; /* O_* bits of the options given */
	/* policy apply: the validated document and the version it replaces */
	char *policy;
	uint64_t replaces_version;
	/* audit: options as given (checked by audit_check), then parsed */
	const char *subject, *reg, *principal, *since, *until, *limit;
	const char *from, *to, *pubkey, *count, *request_id;
	const char *ops[AUDIT_MAX_OPS], *not_ops[AUDIT_MAX_OPS];
	size_t nops, nnot_ops;
	int denied, newest, follow, confirm, force;
	/* policy show N, policy diff A B|FILE: versions (0: none given) and
	 * the file; o->policy holds the file's validated document */
	uint64_t version_a, version_b;
	const char *file;
	privd_audit_filter filter;
	uint64_t total; /* query --limit / tail -n: events to print */
	uint64_t from_seq, to_seq;
	uint8_t pk[32];
	int have_pk;
};

/*
 * What a command runs. A check parses and checks the arguments and
 * options before anything else happens, so that a mistake costs no
 * request (and no audit event); a local command needs no connection; a
 * remote one runs on a connection made by main.c. Each returns 0 or the
 * exit code, after printing what went wrong.
 */
typedef int (*cmd_check_fn)(struct opts *o, char **args, int nargs);
typedef int (*cmd_remote_fn)(
    const struct opts *o, privd_client *c, char **args, int nargs);

/* main.c: the name of (the lowest) O_* option bit, e.g. "--subject". */
const char *opt_name(unsigned bit);

/* main.c: a decimal number without sign or blanks, into *v; -1 if not one. */
int parse_u64(const char *s, uint64_t *v);

/* output.c */
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int exit_code(int status);
int json_print(json_t *v);
json_t *json_error(const char *status, const char *message);
json_t *json_u64(uint64_t v);
int report(const struct opts *o, int status, const char *message, int reason);
int report_call(const struct opts *o, privd_client *c, int status);
int report_local(const struct opts *o, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int report_io(const struct opts *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int printable_utf8(const uint8_t *v, size_t len);
const char *safe(const char *s);
char *base64(const uint8_t *v, size_t len);
void iso_time(uint64_t us, char buf[32]);
void iso_time_us(uint64_t us, char buf[40]);
const char *duration(uint64_t secs, char buf[48]);
int write_all(int fd, const char *p, size_t n);

/* cmd_keys.c */
int cmd_keygen(struct opts *o, char **args, int nargs);
int server_key_resolve(
    const struct opts *o, const char *arg, char key[PRIVD_KEY_Z85_LEN]);

/* cmd_data.c */
int data_check(struct opts *o, char **args, int nargs);
int put_check(struct opts *o, char **args, int nargs);
int cmd_ping(const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_put(const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_get(const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_delete(const struct opts *o, privd_client *c, char **args, int nargs);

/* cmd_policy.c */
int cmd_policy_check(struct opts *o, char **args, int nargs);
int policy_show_check(struct opts *o, char **args, int nargs);
int policy_apply_check(struct opts *o, char **args, int nargs);
int policy_diff_check(struct opts *o, char **args, int nargs);
int cmd_policy_show(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_policy_apply(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_policy_history(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_policy_diff(
    const struct opts *o, privd_client *c, char **args, int nargs);

/* cmd_audit.c */
int audit_check(struct opts *o, char **args, int nargs);
int cmd_audit_query(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_audit_tail(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_audit_export(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_audit_prune(
    const struct opts *o, privd_client *c, char **args, int nargs);

/* cmd_verify.c */
int pubkey_resolve(struct opts *o, const char *arg);
int cmd_audit_verify(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_audit_pubkey(
    const struct opts *o, privd_client *c, char **args, int nargs);

#endif
