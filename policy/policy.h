/*
 * policy.h - the privd policy model: parse and validate a policy document,
 * and decide requests against it.
 *
 * Pure code: no I/O, no threads, no globals. A parsed policy (pol_policy) is
 * immutable once pol_parse() returns it, so any number of threads may read it
 * at once; the daemon shares one snapshot between its workers and counts
 * references to it itself.
 *
 * The JSON schema is documented in README.md ("Policy format").
 */
#ifndef PRIVD_POLICY_H
#define PRIVD_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define POL_KEY_BYTES      32 /* CURVE public key, raw */
#define POL_MAX_NAME       64 /* bytes in any name (register, field, ...) */
#define POL_MAX_DURATION_S (1000LL * 365 * 86400) /* the longest duration */
/* reporting.min_group: below 2 a group could be one person's value */
#define POL_MIN_MIN_GROUP     2
#define POL_MAX_MIN_GROUP     1000
#define POL_DEFAULT_MIN_GROUP 5

/*
 * Caps on the counts in a policy. Validation costs what the document is long
 * (every step is linear, or n log n where it sorts); the caps bound what one
 * policy can ask of the daemon (its memory, the work of each request) and
 * the size of a policy with every count at its cap, which validates in well
 * under 100 ms (bench/policy_bench.c prints the figure). Each is far above
 * what a controller needs: the example policy has 2 registers of 11 fields
 * and 10 purposes, 7 principals and 2 grants at most.
 */
/* Grants and decisions hold fields and purposes as 64-bit words. */
#define POL_MAX_FIELDS   256 /* fields per register */
#define POL_MAX_PURPOSES 64  /* purposes per register */
/* A register is the data set of one privacy notice; 16 registers are 4096
 * fields. */
#define POL_MAX_REGISTERS 16
/* Every client key is a principal, a person's own key included. */
#define POL_MAX_PRINCIPALS 1024
/* pol_decide scans the principal's grants on every request; the total
 * keeps a policy at every cap small enough to validate quickly. */
#define POL_MAX_GRANTS       64   /* per principal */
#define POL_MAX_GRANTS_TOTAL 4096 /* in the whole policy */
/* A region is a list of countries: 249 ISO 3166-1 codes are assigned. */
#define POL_MAX_REGIONS          64
#define POL_MAX_REGION_COUNTRIES 250 /* entries of one region */
#define POL_MAX_ALLOWED_REGIONS  64  /* entries of one transfer rule */
/* Retention weighs each rule of a register against each stored value. */
#define POL_MAX_RETENTION 64 /* rules per register */
/* A rule names categories of its register's fields, at most one per field. */
#define POL_MAX_RULE_CATEGORIES POL_MAX_FIELDS

#define POL_FIELD_WORDS   (POL_MAX_FIELDS / 64)
#define POL_COUNTRY_WORDS ((26 * 26 + 63) / 64) /* a bit per AA..ZZ */

typedef enum pol_ftype {
	POL_FT_STRING = 0,
	POL_FT_TEXT,
	POL_FT_EMAIL,
	POL_FT_PHONE,
	POL_FT_INTEGER,
	POL_FT_DATE,
	POL_FT_BYTES,
} pol_ftype;

typedef enum pol_basis {
	POL_BASIS_CONSENT = 0,
	POL_BASIS_CONTRACT,
	POL_BASIS_LEGAL_OBLIGATION,
	POL_BASIS_VITAL_INTERESTS,
	POL_BASIS_PUBLIC_TASK,
	POL_BASIS_LEGITIMATE_INTEREST,
} pol_basis;

/* Operations a grant may allow (bit flags). */
enum {
	POL_OP_READ = 1u << 0,
	POL_OP_WRITE = 1u << 1,
	POL_OP_DELETE = 1u << 2,
};

/* Roles (bit flags). A role never gives access to data. */
enum {
	POL_ROLE_AUDITOR = 1u << 0,
	POL_ROLE_POLICY_ADMIN = 1u << 1,
	POL_ROLE_SUBJECT_RIGHTS = 1u << 2,
	POL_ROLE_OPERATOR = 1u << 3, /* backups, the erasure journal */
};

/* Why a request was denied; values equal privd.v1.DenyReason on the wire. */
typedef enum pol_reason {
	POL_ALLOW = 0,
	POL_DENY_OTHER = 1,
	POL_DENY_UNKNOWN_PRINCIPAL = 2,
	POL_DENY_UNKNOWN_REGISTER = 3,
	POL_DENY_UNKNOWN_FIELD = 4,
	POL_DENY_UNKNOWN_PURPOSE = 5,
	POL_DENY_NO_GRANT = 6,
	POL_DENY_FIELD_NOT_GRANTED = 7,
	POL_DENY_REGION = 8,
	POL_DENY_RESTRICTED = 9,
	POL_DENY_OBJECTED = 10,
	POL_DENY_ROLE_REQUIRED = 11,
} pol_reason;

typedef struct pol_field {
	char *name;
	char *category;
	char *source;      /* NULL if not declared */
	char *description; /* free text, NULL if none; never print it */
	pol_ftype type;
	bool identifying;
	bool lookup;
	bool allow_identity_code;
	uint16_t index; /* position in pol_register.fields */
} pol_field;

typedef struct pol_purpose {
	char *name;
	char *description; /* free text, NULL if none; never print it */
	pol_basis basis;
	bool objectable;
	bool allowed_when_restricted;
	/* Reporting: the purpose reads aggregates over live subjects and
	 * anonymous records (Aggregate), groups of fewer than
	 * pol_policy.min_group subjects suppressed. */
	bool statistical;
	uint8_t index; /* position in pol_register.purposes */
} pol_purpose;

/*
 * A length of time as a retention rule counts it (retention.c): seconds
 * (second, minute, hour, day, week), or calendar months (month; year = 12
 * months), which pol_time_add counts on the calendar, a month end
 * clamping to the shorter month's end. n < 0: not set. n == 0 (a rule's
 * "after": "0 days") is zero in any unit and has months false.
 */
typedef struct pol_span {
	int64_t n;
	bool months;
} pol_span;

typedef struct pol_retention {
	char *id;
	char **categories; /* "*" matches every category */
	size_t ncategories;
	char *from; /* collected | updated | relationship_end | contract_end */
	/* -1 if not set (months as 30 days, years 365); after_s may be 0,
	 * "anonymised immediately"; keep_least_s never is */
	int64_t after_s;
	int64_t keep_least_s;
	pol_span after; /* the same lengths, as the calendar counts them */
	pol_span keep_least;
	char *action; /* "delete" | "anonymize" | NULL */
} pol_retention;

typedef struct pol_register {
	char *name;
	char *description; /* free text, NULL if none; never print it */
	pol_field *fields; /* in document order: field i has index i */
	size_t nfields;
	pol_purpose *purposes; /* in document order: purpose i has index i */
	size_t npurposes;
	/* The transfer rule expanded to country codes, sorted and unique;
	 * NULL = no transfer rule. countries has the same codes as bits
	 * (pol_country_bit). */
	char **allowed_countries;
	size_t nallowed_countries;
	uint64_t countries[POL_COUNTRY_WORDS];
	pol_retention *retention;
	size_t nretention;
	/* Lookup indexes, built by pol_parse: fields and purposes sorted by
	 * name. Use pol_field_find and pol_purpose_find. */
	const pol_field **fields_by_name;
	const pol_purpose **purposes_by_name;
} pol_register;

typedef struct pol_grant {
	const pol_register *reg;
	uint64_t purposes;                /* bit i = reg->purposes[i] */
	uint64_t fields[POL_FIELD_WORDS]; /* bit i = reg->fields[i] */
	unsigned ops;                     /* POL_OP_* */
} pol_grant;

typedef struct pol_principal {
	char *name;
	char *description; /* free text, NULL if none; never print it */
	uint8_t key[POL_KEY_BYTES];
	char region[3]; /* ISO 3166-1 alpha-2, "" if not declared */
	unsigned roles; /* POL_ROLE_* */
	pol_grant *grants;
	size_t ngrants;
} pol_principal;

typedef struct pol_policy {
	char *controller_name;
	char *controller_business_id;
	pol_register *registers;
	size_t nregisters;
	pol_principal *principals;
	size_t nprincipals;
	int64_t audit_retention_s; /* default 5 years */
	/* reporting.min_group: an Aggregate group with fewer subjects is
	 * suppressed; 2..POL_MAX_MIN_GROUP, default POL_DEFAULT_MIN_GROUP */
	unsigned min_group;
	/* Lookup indexes, built by pol_parse: registers sorted by name,
	 * principals by name and by key. Use the pol_*_find functions. */
	const pol_register **registers_by_name;
	const pol_principal **principals_by_name;
	const pol_principal **principals_by_key;
} pol_policy;

/* A parse or validation failure: where (a JSON path such as
 * "$.registers.customers.fields.email.type") and why. */
typedef struct pol_error {
	char path[256];
	char reason[256];
} pol_error;

/*
 * Parse and completely validate a policy document. On success *out is a new
 * policy owned by the caller (free with pol_free) and 0 is returned. On
 * failure returns -1, *out is NULL and *err (if not NULL) says where and why.
 * Error text never contains a value from the document other than names and
 * keys' JSON paths.
 */
int pol_parse(const char *json, size_t len, pol_policy **out, pol_error *err);

/* Free a policy and set *p to NULL. NULL-safe. */
void pol_free(pol_policy **p);

/* Lookups; the returned pointers live as long as the policy. NULL if absent.
 * Each is a binary search (O(log n)): they run on every connection and
 * request. */
const pol_register *pol_register_find(const pol_policy *p, const char *name);
const pol_field *pol_field_find(const pol_register *r, const char *name);
const pol_purpose *pol_purpose_find(const pol_register *r, const char *name);
const pol_principal *pol_principal_by_key(
    const pol_policy *p, const uint8_t key[POL_KEY_BYTES]);
const pol_principal *pol_principal_by_name(
    const pol_policy *p, const char *name);

/* The subject's processing state, as recorded by subject-rights operations. */
typedef struct pol_subject_state {
	bool restricted;
	uint64_t objected; /* bit i = objection to reg->purposes[i] */
} pol_subject_state;

/* One data request to decide. */
typedef struct pol_request {
	const pol_principal *principal; /* NULL if unknown */
	const char *reg;                /* register name */
	const char *purpose;
	unsigned op;                      /* exactly one POL_OP_* */
	const char *const *fields;        /* field names touched; may be NULL */
	size_t nfields;                   /* 0 = all fields (read/delete) */
	const pol_subject_state *subject; /* NULL = no restrictions recorded */
} pol_request;

typedef struct pol_decision {
	pol_reason reason; /* POL_ALLOW or a denial */
	const pol_register *reg;
	const pol_purpose *purpose;
	/* Fields the request may touch: for a request naming fields, exactly
	 * those; for a read of "all fields", the fields the grants allow. */
	uint64_t fields[POL_FIELD_WORDS];
	/* For a denial, a short explanation naming what was refused (a
	 * register, purpose or field name; never a value or subject id). */
	char message[160];
} pol_decision;

/*
 * Decide a data request. Never fails: every outcome is a decision. A request
 * is allowed only if the principal is known, the register and purpose are
 * declared, the principal has a grant for (register, purpose, op) covering
 * every field touched, its region is allowed by the register's transfer rule,
 * and the subject's state does not forbid the purpose.
 */
void pol_decide(const pol_policy *p, const pol_request *req, pol_decision *d);

/* Name of a reason code, e.g. "no_grant"; "allow" for POL_ALLOW. */
const char *pol_reason_name(pol_reason r);

/* True if s is a valid policy name: [A-Za-z0-9_.-]{1,POL_MAX_NAME}. Use it
 * before quoting a name that came from a client in a message or a log. */
bool pol_name_valid(const char *s);

/*
 * Parse a duration such as "30 days" or "1 year": a positive integer, one
 * space, and a unit (second, minute, hour, day, week, month = 30 days,
 * year = 365 days; singular or plural). Returns 0 and the length in seconds
 * in *out, or -1 if s is not such a duration or overflows int64.
 */
int pol_duration_parse(const char *s, int64_t *out);

/*
 * Retention (retention.c). A duration as a retention rule counts it:
 * "24 months" is calendar months, not 720 days. The grammar and bounds of
 * pol_duration_parse, except that a zero length ("0 days", "0 months"; the
 * digit 0 alone) is accepted: only a rule's "after" may be zero, which the
 * policy parser decides. 0, or -1 if s is not such a duration.
 */
int pol_span_parse(const char *s, pol_span *out);

/* t_us (microseconds since the epoch, UTC) plus span s, on the calendar
 * for months: 31 January plus one month is the last day of February. 0,
 * or -1 if the result would not fit. */
int pol_time_add(int64_t t_us, const pol_span *s, int64_t *out);

/* What is known of one stored field: its first and last write, and the
 * ends of its subject's relationship and of its register's contract (0:
 * not ended; a rule counting from an event that has not happened cannot
 * start). Microseconds since the epoch. */
typedef struct pol_field_times {
	int64_t collected_us;
	int64_t updated_us;
	int64_t relationship_end_us;
	int64_t contract_end_us;
} pol_field_times;

/* When a field falls due, and why. */
#define POL_NEVER INT64_MAX
typedef struct pol_plan {
	int64_t due_us; /* when it is acted on; POL_NEVER: kept for now */
	const pol_retention *rule; /* the rule that acts then, or NULL */
	/* The end of the longest keep_at_least minimum that covers the
	 * field (POL_NEVER while one has not started), 0 if none does; the
	 * rule behind it. */
	int64_t keep_until_us;
	const pol_retention *keep_rule;
} pol_plan;

/*
 * Plan one field of register r under its retention rules. A rule covers
 * the field if one of its categories is the field's or "*". The field is
 * due at the earliest time a covering rule with an action gives (counted
 * from its start event, if that has happened, "0 days" giving the event's
 * own time; at equal times a delete before an anonymisation, then the rule
 * first in the document), but never before every keep_at_least minimum
 * that covers it has passed: a minimum whose start event has not happened
 * holds it for now. No due rule: kept.
 */
void pol_retention_plan(const pol_register *r, const pol_field *f,
    const pol_field_times *t, pol_plan *out);

/*
 * Whether some retention rule of r counts from the start event from
 * ("collected", "updated", "relationship_end" or "contract_end", spelled
 * as pol_retention.from): a rule with an action, or a keep_at_least
 * minimum. When it is false, recording that event for the register (a
 * relationship end, a contract end, a write's time) changes no plan of
 * any of its fields. False for any other string, and for NULL.
 */
bool pol_retention_from_used(const pol_register *r, const char *from);

/*
 * Whether some retention rule of r with an action (delete or anonymize)
 * covers field f, so that the field can fall due once that rule's start
 * event happens. A field covered by no rule, or only by keep_at_least
 * minimums, is kept: pol_retention_plan gives it POL_NEVER whatever the
 * times, and it needs no place in a due-time index.
 */
bool pol_field_planned(const pol_register *r, const pol_field *f);

/* Field sets (pol_grant.fields, pol_decision.fields): bit i = field index i. */
static inline bool
pol_fieldset_has(const uint64_t set[POL_FIELD_WORDS], size_t i)
{
	return i < POL_MAX_FIELDS && (set[i / 64] >> (i % 64)) & 1;
}

static inline void
pol_fieldset_add(uint64_t set[POL_FIELD_WORDS], size_t i)
{
	if (i < POL_MAX_FIELDS)
		set[i / 64] |= UINT64_C(1) << (i % 64);
}

/* Bit of a country code (two uppercase ASCII letters) in
 * pol_register.countries; -1 if cc is not of that shape. */
static inline int
pol_country_bit(const char *cc)
{
	if (cc == NULL || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' ||
	    cc[1] > 'Z' || cc[2] != '\0')
		return -1;
	return (cc[0] - 'A') * 26 + (cc[1] - 'A');
}

/*
 * Check a value against the field's type before it is written. Returns 0 if
 * it is acceptable; otherwise -1 and a reason in why (never quoting the
 * value), e.g. "not an integer" or "contains a personal identity code".
 * Every string-typed value (string, text, email, phone) is searched for an
 * identity code first, unless the field allows one, so a value holding one
 * is refused for that reason whatever else is wrong with it.
 */
int pol_value_check(
    const pol_field *f, const uint8_t *v, size_t len, char *why, size_t whylen);

/* True if s contains a Finnish personal identity code (HETU) with a valid
 * check character: any century sign, individual number 002-999 (900-999
 * are temporary codes), upper or lower case, not inside a longer run of
 * ASCII letters and digits. Exposed for tests. */
bool pol_contains_hetu(const uint8_t *s, size_t len);

/* The length of the well-formed UTF-8 character that starts s[0..len)
 * (its code point in *cp), or 0 if none does: a stray or truncated byte,
 * an overlong form, a surrogate, a code point past U+10FFFF. The one
 * UTF-8 decoder of privd's values and of its request strings. */
size_t pol_utf8_char(const uint8_t *s, size_t len, uint32_t *cp);

/* One difference between two policies. */
typedef enum pol_change {
	POL_ADDED = '+',
	POL_REMOVED = '-',
	POL_CHANGED = '~',
} pol_change;

/* Called once per difference. what names the thing in the policy's own
 * terms, e.g. "register customers", "field customers.email", "purpose
 * customers.marketing", "retention customers.feedback-24m", "transfer
 * customers", "principal crm", "grant crm[0]" (or a better stable name for
 * a grant), "audit retention", "reporting", "controller"; detail says what
 * changed in words, e.g. "type string -> email", "ops read -> read,
 * write", "fields name, email -> name, email, phone", "" when nothing more
 * is useful. Both strings are valid only during the call. */
typedef void (*pol_diff_fn)(
    void *arg, pol_change change, const char *what, const char *detail);

/* Compare policy a (old) with b (new), calling fn for every difference in
 * a stable order (controller, audit, reporting, registers with their
 * transfer, purposes, fields and retention rules, then principals with
 * their key, region, roles and grants). Returns the number of differences,
 * 0 when the two policies mean the same thing (whatever the document's
 * order or whitespace). A key change is reported without printing either
 * key. */
size_t pol_diff(
    const pol_policy *a, const pol_policy *b, pol_diff_fn fn, void *arg);

#endif /* PRIVD_POLICY_H */
