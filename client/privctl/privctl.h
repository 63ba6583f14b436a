/*
 * privctl.h - what the files of privctl share.
 *
 * main.c parses the command line and connects; commands.c is the table of
 * commands and their help; args.c reads numbers and times; config.c the
 * config file and where each setting comes from; input.c values read from
 * files and stdin (put's FIELD=@FILE, FIELD=- and --from-json); output.c
 * prints results and errors in the output format and owns the exit codes;
 * progress.c shows long work on a terminal; complete.c answers bash
 * completion; cmd_<group>.c run the commands of one group (data, policy,
 * audit, verify, keys, retention, subject, backup).
 */
#ifndef PRIVCTL_H
#define PRIVCTL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include <privd/backup.h>
#include <privd/client.h>

/* Exit codes, stable (DESIGN.md section 8); 1 is anything else. */
#define EXIT_USAGE     2
#define EXIT_DENIED    3
#define EXIT_NOTFOUND  4
#define EXIT_INVALID   5
#define EXIT_KEPT      6
#define EXIT_TAMPERED  7
#define EXIT_HANDSHAKE 8
#define EXIT_INDOUBT   9

/* Audit commands: events per page asked for, and tail -f's poll interval. */
#define AUDIT_PAGE   1000
#define TAIL_POLL_MS 500
#define TAIL_DEFAULT 20
#define TAIL_MAX     1000000
/* Request ids of tail -f's own recent queries: enough for the catch-up of
 * tail -n TAIL_MAX (a query per 1000 events) and then some. */
#define TAIL_OWN_IDS  (TAIL_MAX / 1000 + 64)
#define AUDIT_MAX_OPS 32

/* subject erase: --register options taken (a policy declares at most 16
 * registers). */
#define SUBJECT_MAX_REGISTERS 64

/* Largest policy file privctl reads; privd's request limit is smaller. */
#define POLICY_FILE_MAX (16 * 1024 * 1024)

/*
 * Every option, as a bit of opts.given. The global ones (O_GLOBAL) go with
 * every command; each command names the others it takes (commands.c).
 * 64 bits: there are more than 32 options.
 */
typedef uint64_t optbits;
#define O_ENDPOINT   ((optbits)1 << 0)
#define O_KEY        ((optbits)1 << 1)
#define O_SERVER_KEY ((optbits)1 << 2)
#define O_TIMEOUT    ((optbits)1 << 3)
#define O_JSON       ((optbits)1 << 4)
#define O_HELP       ((optbits)1 << 5)
#define O_VERSION    ((optbits)1 << 6)
#define O_PURPOSE    ((optbits)1 << 7)
#define O_OUT        ((optbits)1 << 8)
#define O_REPLACES   ((optbits)1 << 9)
#define O_SUBJECT    ((optbits)1 << 10)
#define O_REGISTER   ((optbits)1 << 11)
#define O_PRINCIPAL  ((optbits)1 << 12)
#define O_SINCE      ((optbits)1 << 13)
#define O_UNTIL      ((optbits)1 << 14)
#define O_OP         ((optbits)1 << 15)
#define O_DENIED     ((optbits)1 << 16)
#define O_NEWEST     ((optbits)1 << 17)
#define O_LIMIT      ((optbits)1 << 18)
#define O_FROM       ((optbits)1 << 19)
#define O_TO         ((optbits)1 << 20)
#define O_PUBKEY     ((optbits)1 << 21)
#define O_FOLLOW     ((optbits)1 << 22)
#define O_COUNT      ((optbits)1 << 23)
#define O_NOT_OP     ((optbits)1 << 24)
#define O_REQUEST_ID ((optbits)1 << 25)
#define O_CONFIRM    ((optbits)1 << 26)
#define O_FORCE      ((optbits)1 << 27)
#define O_AT         ((optbits)1 << 28)
#define O_UNDO       ((optbits)1 << 29)
#define O_REASON     ((optbits)1 << 30)
#define O_AS_OF      ((optbits)1 << 31)
#define O_GROUP_BY   ((optbits)1 << 32)
#define O_LIFT       ((optbits)1 << 33)
#define O_WITHDRAW   ((optbits)1 << 34)
#define O_AFTER      ((optbits)1 << 35)
#define O_FORMAT     ((optbits)1 << 36)
#define O_FROM_JSON  ((optbits)1 << 37)
#define O_CONFIG     ((optbits)1 << 38)
#define O_EMAIL      ((optbits)1 << 40)
#define O_PHONE      ((optbits)1 << 41)
#define O_FIELD      ((optbits)1 << 42)

#define O_GLOBAL                                                               \
	(O_ENDPOINT | O_KEY | O_SERVER_KEY | O_TIMEOUT | O_JSON | O_HELP |     \
	    O_VERSION | O_FORMAT | O_CONFIG)

/* The largest file (or stdin) privctl reads a value or a record from;
 * privd's request limit (1 MiB by default) is smaller. */
#define INPUT_MAX (16 * 1024 * 1024)

struct config;

/*
 * What put stores, as put_check() read it (input.c): the subject (from the
 * command line or the --from-json document) and the fields, whose values
 * are the command line's, or buffers read from files and stdin, or the
 * document's; put_input_free() wipes what was read.
 */
struct put_input {
	const char *subject;
	privd_field *f;
	size_t n;
	uint8_t **owned; /* per field: the buffer read for it, or NULL */
	size_t *ownlen;  /* and its size */
	json_t *doc;     /* the --from-json document, or NULL */
};

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
	int json;           /* the output format is json (else table) */
	const char *format; /* --format as given (--json: "json") */
	const char *config; /* --config FILE */
	struct config *cfg; /* the config file read (config.c), or NULL */
	optbits given;      /* O_* bits of the options given */
	/* put: --from-json FILE, and what put_check() read (input.c) */
	const char *from_json;
	struct put_input *put;
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
	/* retention: options as given (checked by the command's check in
	 * cmd_retention.c), then parsed; until_us also from o->until */
	const char *at, *reason, *as_of, *group_by;
	int undo;
	uint64_t at_us, until_us, as_of_us;
	uint32_t run_limit;
	/* subject: every --register given, in order (o->reg is the last),
	 * then (erase_check) without repeats; --lift, --withdraw */
	const char *regs[SUBJECT_MAX_REGISTERS];
	size_t nregs;
	int lift, withdraw;
	/* subject lookup: --email, --phone or --field NAME with VALUE; the
	 * field and value to send (lookup_check; "-" read from stdin) */
	const char *email, *phone, *field;
	const char *lookup_field;
	char *lookup_value;
	size_t lookup_len;
	/* erasures export: --after as given, then parsed (0: none) */
	const char *after;
	uint64_t after_seq;
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

/* One command: where it sits, what it says about itself, what it runs. */
struct command {
	const char *group;      /* "policy", "audit", or NULL (top level) */
	const char *name;       /* "show", "ping", ... */
	const char *synopsis;   /* its arguments and options, one line */
	const char *help;       /* what it does, lines indented by 6 */
	optbits opts;           /* the O_* options it takes */
	int min_args, max_args; /* arguments after its name (-1: no limit) */
	cmd_check_fn check;     /* before anything else; may be NULL */
	cmd_check_fn local;     /* a command without a connection, or */
	cmd_remote_fn remote;   /* one on a connection */
};

/* commands.c: every command, and the text around them in --help. */
extern const struct command commands[];
extern const size_t ncommands;
extern const char help_head[], help_tail[];

/* commands.c: every option as typed ("--key", "-o"), whether it takes a
 * value, its O_* bit, and where struct opts keeps its value (NOVAL: not
 * kept there). */
#define NOVAL ((size_t)-1)
struct optdef {
	const char *name;
	int has_arg;
	optbits bit;
	size_t off;
};
#define NOPTDEFS 44 /* checked where the table is */
extern const struct optdef optdefs[NOPTDEFS];

/* commands.c: the name of (the lowest) O_* option bit, e.g. "--subject". */
const char *opt_name(optbits bit);

/* args.c: where each argument was given; arg_position() says where arg
 * (an element of argv) was, counting from 1 after "privctl". */
int args_keep(int argc, char **argv);
int arg_position(const char *arg, int fallback);

/* args.c: a timeout, a positive number of milliseconds; -1 if not one. */
int parse_timeout(const char *s, int *ms);

/* args.c: a decimal number without sign or blanks, into *v; -1 if not one. */
int parse_u64(const char *s, uint64_t *v);

/*
 * args.c: a time on the command line, into microseconds since the epoch:
 * Unix seconds (digits only), a date YYYY-MM-DD (midnight UTC), or an
 * RFC 3339 time YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). -1 if it is
 * none of those, not a real date and time, or before 1970.
 */
int parse_time(const char *s, uint64_t *us);
#define TIME_FORMS                                                             \
	"YYYY-MM-DD, an RFC 3339 time (2026-11-27T10:00:00Z, "                 \
	"2026-11-27T12:00:00+02:00) or Unix seconds"

/* output.c */
void output_json_errors(int on);
void json_wipe_alloc(void);
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int exit_code(int status);
int json_print(json_t *v);
json_t *json_error(const char *status, const char *message);
json_t *json_u64(uint64_t v);
json_t *json_name(const char *s);
json_t *json_us(uint64_t us);
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

/* config.c */
int config_load(struct opts *o);
int settings_resolve(struct opts *o);
void config_free(struct config **c);
int cmd_config(struct opts *o, char **args, int nargs);

/* complete.c: bash completion's questions (hidden commands) */
int cmd_complete(struct opts *o, char **args, int nargs);
int cmd_complete_policy(
    const struct opts *o, privd_client *c, char **args, int nargs);

/* input.c */
int read_all(int fd, size_t max, uint8_t **out, size_t *len);
int read_path(const char *path, size_t max, uint8_t **out, size_t *len);
void wipe_free(void *p, size_t len);
int put_input_read(struct opts *o, char **args, int nargs);
void put_input_free(struct put_input **p);

/* progress.c: a count (progress_begin, _update, _end) or a wait
 * (progress_wait_begin, _wait_end) on stderr, if it is a terminal. */
struct progress {
	int on;           /* drawn: stderr is a terminal */
	int drawn;        /* a line is on the screen */
	const char *what; /* "audit export" */
	const char *unit; /* "events" */
	uint64_t total;   /* 0: not known */
	double t0, last;  /* when it began, when it was drawn last */
	/* a wait's ticker thread and what it shows */
	char detail[96];
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int ticking, stop;
};
void progress_begin(struct progress *p, const char *what, const char *unit,
    uint64_t total, int stream);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);
void progress_wait_begin(
    struct progress *p, const char *what, const char *detail);
void progress_wait_end(struct progress *p);
void progress_count_line(char *buf, size_t size, const char *what,
    const char *unit, uint64_t done, uint64_t total, double secs);
void progress_wait_line(
    char *buf, size_t size, const char *what, const char *detail, double secs);

/* cmd_keys.c */
int cmd_keygen(struct opts *o, char **args, int nargs);
int server_key_resolve(
    const struct opts *o, const char *arg, char keys[PRIVD_SERVER_KEYS_LEN]);

/* cmd_data.c */
int data_check(struct opts *o, char **args, int nargs);
int put_check(struct opts *o, char **args, int nargs);
int cmd_ping(const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_put(const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_get(const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_delete(const struct opts *o, privd_client *c, char **args, int nargs);
int print_delete(const struct opts *o, uint32_t deleted,
    const privd_retained *kept, size_t nkept);
void print_retained(const char *indent, const privd_retained *k);
json_t *json_retained(const privd_retained *kept, size_t n);

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
int print_apply(const struct opts *o, const privd_apply_result *a);

/* cmd_audit.c: the operation names privd records, NULL-terminated */
extern const char *const op_names[];
int audit_check(struct opts *o, char **args, int nargs);
int cmd_audit_query(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_audit_tail(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_audit_export(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_audit_prune(
    const struct opts *o, privd_client *c, char **args, int nargs);
int print_event(const struct opts *o, const privd_audit_event *e, int as_json);

/* cmd_retention.c */
int end_check(struct opts *o, char **args, int nargs);
int hold_set_check(struct opts *o, char **args, int nargs);
int hold_lift_check(struct opts *o, char **args, int nargs);
int sweep_check(struct opts *o, char **args, int nargs);
int report_check(struct opts *o, char **args, int nargs);
int cmd_relationship_end(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_contract_end(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_hold_set(const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_hold_lift(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_hold_list(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_retention_preview(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_retention_run(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_report(const struct opts *o, privd_client *c, char **args, int nargs);
int print_holds(const struct opts *o, const privd_hold *h, size_t n);
int print_sweep(const struct opts *o, const privd_retention_report *r,
    int preview, uint32_t limit);
int print_aggregate(const struct opts *o, const char *reg, const char *field,
    const char *group_by, const privd_aggregate_result *r);

/* cmd_subject.c */
int erase_check(struct opts *o, char **args, int nargs);
int cmd_subject_restrict(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_subject_object(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_subject_erase(
    const struct opts *o, privd_client *c, char **args, int nargs);
int print_restrict(const struct opts *o, const char *reg, int on, int changed);
int print_object(const struct opts *o, const char *reg, const char *purpose,
    int on, int changed);
int print_erasure(const struct opts *o, const privd_erasure *e);
int lookup_check(struct opts *o, char **args, int nargs);

/* cmd_export.c */
int export_check(struct opts *o, char **args, int nargs);
int cmd_subject_export(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_subject_lookup(
    const struct opts *o, privd_client *c, char **args, int nargs);

/* cmd_backup.c */
int backup_check(struct opts *o, char **args, int nargs);
int erasures_check(struct opts *o, char **args, int nargs);
int cmd_backup(const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_erasures_export(
    const struct opts *o, privd_client *c, char **args, int nargs);
const char *human_bytes(uint64_t n, char buf[32]);
void progress_line(char *buf, size_t size, int phase, uint64_t done,
    uint64_t total, double secs);
int print_backup(const struct opts *o, const char *path,
    const privd_backup_info *b, double secs);

/* cmd_verify.c */
int pubkey_resolve(struct opts *o, const char *arg);
int cmd_audit_verify(
    const struct opts *o, privd_client *c, char **args, int nargs);
int cmd_audit_pubkey(
    const struct opts *o, privd_client *c, char **args, int nargs);

#endif
