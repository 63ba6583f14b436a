/*
 * cmd_retention.c - the retention commands: relationship-end, register
 * contract-end, hold set|lift|list, retention preview|run, and report
 * (aggregates over live and anonymous records).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privctl.h"

/* A time for people: to the second, or to the microsecond if it has a
 * fraction (a --at given with one). */
static const char *
when(uint64_t us, char buf[40])
{
	if (us % 1000000u == 0)
		iso_time(us, buf);
	else
		iso_time_us(us, buf);
	return buf;
}

/* A time as JSON: ISO 8601 UTC, or null for 0 (none). */
static json_t *
json_when(uint64_t us)
{
	char at[40];

	if (us == 0)
		return json_null();
	return json_string(when(us, at));
}

/*
 * A time option: parsed into *us. 0 would mean "none" (or "undo") to
 * privd, so it is refused here rather than sent.
 */
static int
time_option(const char *name, const char *arg, uint64_t *us)
{
	if (parse_time(arg, us) != 0)
		return usage_error("%s needs a time: " TIME_FORMS, name);
	if (*us == 0)
		return usage_error("%s needs a time after 1970-01-01", name);
	return 0;
}

/*
 * relationship-end and register contract-end: --at DATE, --undo, or
 * neither (now, by privd's clock).
 */
int
end_check(struct opts *o, char **args, int nargs)
{
	int rc;

	if (o->at != NULL && o->undo)
		return usage_error("--at and --undo exclude each other");
	if (o->undo)
		o->at_us = 0;
	else if (o->at == NULL)
		o->at_us = PRIVD_AT_NOW;
	else if ((rc = time_option("--at", o->at, &o->at_us)) != 0)
		return rc;
	return 0;
}

/*
 * hold lift (and set): an empty SUBJECT would name the whole register,
 * which is said by leaving it out, not by "".
 */
int
hold_lift_check(struct opts *o, char **args, int nargs)
{
	if (nargs > 1 && *args[1] == '\0')
		return usage_error("SUBJECT is empty; leave it out to name "
		                   "the whole register");
	return 0;
}

/* hold set: also --reason (required) and --until. */
int
hold_set_check(struct opts *o, char **args, int nargs)
{
	int rc;

	if ((rc = hold_lift_check(o, args, nargs)) != 0)
		return rc;
	if (o->reason == NULL || *o->reason == '\0')
		return usage_error("hold set needs --reason TEXT");
	o->until_us = 0;
	if (o->until != NULL &&
	    (rc = time_option("--until", o->until, &o->until_us)) != 0)
		return rc;
	return 0;
}

/* retention preview and run: --as-of DATE, --register R, --limit N. */
int
sweep_check(struct opts *o, char **args, int nargs)
{
	uint64_t v;
	int rc;

	if (o->reg != NULL && *o->reg == '\0')
		return usage_error("--register needs a register name");
	if (o->as_of != NULL &&
	    (rc = time_option("--as-of", o->as_of, &o->as_of_us)) != 0)
		return rc;
	if (o->limit != NULL &&
	    (parse_u64(o->limit, &v) != 0 || v == 0 || v > UINT32_MAX))
		return usage_error("--limit needs a number of field actions "
		                   "(1..%" PRIu32 ")",
		    UINT32_MAX);
	if (o->limit != NULL)
		o->run_limit = (uint32_t)v;
	return 0;
}

/* report: --purpose (required) and --group-by. */
int
report_check(struct opts *o, char **args, int nargs)
{
	if (o->purpose == NULL || *o->purpose == '\0')
		return usage_error("report needs --purpose P (a statistical "
		                   "purpose)");
	if (o->group_by != NULL && *o->group_by == '\0')
		return usage_error("--group-by needs a field name");
	return 0;
}

/* relationship-end: args are REGISTER SUBJECT. The subject is not echoed. */
int
cmd_relationship_end(
    const struct opts *o, privd_client *c, char **args, int nargs)
{
	uint64_t at = 0;
	uint32_t fields = 0;
	char buf[40];
	int rc;

	rc =
	    privd_relationship_end(c, args[0], args[1], o->at_us, &at, &fields);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(
		    json_pack("{s:o, s:o, s:I}", "at", json_when(at), "at_us",
		        json_us(at), "fields", (json_int_t)fields));
	if (at != 0)
		printf("relationship ended at %s; %lu field(s) re-planned\n",
		    when(at, buf), (unsigned long)fields);
	else
		printf("relationship end undone; %lu field(s) re-planned\n",
		    (unsigned long)fields);
	return 0;
}

/* register contract-end: args are REGISTER. */
int
cmd_contract_end(const struct opts *o, privd_client *c, char **args, int nargs)
{
	uint64_t at = 0;
	char buf[40];
	int rc;

	rc = privd_contract_end(c, args[0], o->at_us, &at);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack("{s:s, s:o, s:o}", "register",
		    safe(args[0]), "at", json_when(at), "at_us", json_us(at)));
	if (at != 0)
		printf("contract of register %s ended at %s: writes to it are "
		       "refused from then on\n",
		    safe(args[0]), when(at, buf));
	else
		printf("contract end of register %s undone\n", safe(args[0]));
	return 0;
}

/* hold set: args are REGISTER [SUBJECT]. The subject is not echoed. */
int
cmd_hold_set(const struct opts *o, privd_client *c, char **args, int nargs)
{
	const char *subject = nargs > 1 ? args[1] : NULL;
	int replaced = 0, rc;
	char buf[40];

	rc = privd_hold_set(
	    c, args[0], subject, o->reason, o->until_us, &replaced);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack("{s:b}", "replaced", replaced));
	printf("hold %s on %s %s, until %s\n", replaced ? "replaced" : "set",
	    subject != NULL ? "a subject of register" : "the whole register",
	    safe(args[0]),
	    o->until_us != 0 ? when(o->until_us, buf) : "lifted");
	return 0;
}

/* hold lift: args are REGISTER [SUBJECT]. */
int
cmd_hold_lift(const struct opts *o, privd_client *c, char **args, int nargs)
{
	int rc;

	rc = privd_hold_lift(c, args[0], nargs > 1 ? args[1] : NULL);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack("{s:b}", "lifted", 1));
	printf("hold lifted\n");
	return 0;
}

/* A subject id for a line: as it is if printable, else "base64:...";
 * malloc'd, NULL if out of memory. */
static char *
subject_text(const char *s)
{
	size_t len = strlen(s);
	char *b, *t;

	if (printable_utf8((const uint8_t *)s, len))
		return strdup(s);
	if ((b = base64((const uint8_t *)s, len)) == NULL)
		return NULL;
	if ((t = malloc(strlen(b) + 8)) != NULL)
		snprintf(t, strlen(b) + 8, "base64:%s", b);
	free(b);
	return t;
}

/* One hold as JSON; NULL if out of memory. */
static json_t *
json_hold(const privd_hold *h)
{
	json_t *subject;
	char *b;

	if (*h->subject == '\0')
		subject = json_null();
	else if (printable_utf8(
	             (const uint8_t *)h->subject, strlen(h->subject)))
		subject = json_string(h->subject);
	else if ((b = base64((const uint8_t *)h->subject,
	              strlen(h->subject))) != NULL) {
		subject = json_pack("{s:s}", "base64", b);
		free(b);
	} else
		return NULL;
	return json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s}", "register",
	    safe(h->reg), "subject", subject, "reason", safe(h->reason),
	    "until", json_when(h->until_us), "until_us", json_us(h->until_us),
	    "set_at", json_when(h->set_at_us), "set_at_us",
	    json_u64(h->set_at_us), "set_by", safe(h->set_by));
}

/*
 * A hold list: with --json {"holds": [...]}, else one line per hold
 * (register, subject or '*', until or '-', set at, set by, reason), or
 * "no holds in force". Returns 0 or the exit code of a failure.
 */
int
print_holds(const struct opts *o, const privd_hold *h, size_t n)
{
	char until[40], set[40], *subj;
	json_t *a;
	size_t i;

	if (o->json) {
		a = json_array();
		for (i = 0; a != NULL && i < n; i++)
			if (json_array_append_new(a, json_hold(&h[i])) != 0) {
				json_decref(a);
				a = NULL;
			}
		return json_print(json_pack("{s:o*}", "holds", a));
	}
	if (n == 0)
		printf("no holds in force\n");
	for (i = 0; i < n; i++) {
		subj = *h[i].subject ? subject_text(h[i].subject) : strdup("*");
		if (subj == NULL)
			return report_local(o, PRIVD_ENOMEM, "out of memory");
		printf("%s %s %s %s %s %s\n", safe(h[i].reg), subj,
		    h[i].until_us ? when(h[i].until_us, until) : "-",
		    when(h[i].set_at_us, set), safe(h[i].set_by),
		    safe(h[i].reason));
		free(subj);
	}
	return 0;
}

/* hold list: args are [REGISTER]. */
int
cmd_hold_list(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_hold *h = NULL;
	size_t n = 0;
	int rc;

	rc = privd_hold_list(c, nargs > 0 ? args[0] : NULL, &h, &n);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	rc = print_holds(o, h, n);
	privd_holds_free(&h);
	return rc;
}

/* The width of a decimal number. */
static int
num_width(uint64_t v)
{
	int w = 1;

	while (v >= 10) {
		v /= 10;
		w++;
	}
	return w;
}

/* Widen *w to hold n. */
static void
widen(int *w, int n)
{
	if (n > *w)
		*w = n;
}

/*
 * A count's anonymous records, for its column: only a contract-end purge
 * destroys any, so for another action "-" rather than a 0 that would read
 * as "none were made" (an anonymize makes some).
 */
static const char *
anon_text(const privd_retention_count *k, char buf[24])
{
	if (k->anonymous_records == 0 &&
	    strcmp(k->action, "contract_end_purge") != 0)
		return "-";
	snprintf(buf, 24, "%" PRIu64, k->anonymous_records);
	return buf;
}

/*
 * A retention report for people: what it was (a preview or a sweep, as
 * of when), one aligned line per register and rule, then what privd
 * examined, and whether a sweep stopped at its limit.
 */
static void
print_report_text(const privd_retention_report *r, int preview, uint32_t limit)
{
	const privd_retention_count *k;
	int wr = 8, wu = 4, wa = 6, wf = 6, ws = 8, wh = 4, wn = 9;
	char at[40], anon[24];
	size_t i;

	printf(preview ? "preview as of %s (nothing changed)\n"
	               : "sweep as of %s\n",
	    when(r->as_of_us, at));
	for (i = 0; i < r->ncounts; i++) {
		k = &r->counts[i];
		widen(&wr, (int)strlen(safe(k->reg)));
		widen(&wu, (int)strlen(safe(k->rule)));
		widen(&wa, (int)strlen(safe(k->action)));
		widen(&wf, num_width(k->fields));
		widen(&ws, num_width(k->subjects));
		widen(&wh, num_width(k->held));
		widen(&wn, (int)strlen(anon_text(k, anon)));
	}
	if (r->ncounts == 0)
		printf(
		    preview ? "nothing would be done\n" : "nothing was due\n");
	else
		printf("%-*s  %-*s  %-*s  %*s  %*s  %*s  %*s\n", wr, "register",
		    wu, "rule", wa, "action", wf, "fields", ws, "subjects", wh,
		    "held", wn, "anonymous");
	for (i = 0; i < r->ncounts; i++) {
		k = &r->counts[i];
		printf("%-*s  %-*s  %-*s  %*" PRIu64 "  %*" PRIu64 "  %*" PRIu64
		       "  %*s\n",
		    wr, safe(k->reg), wu, safe(k->rule), wa, safe(k->action),
		    wf, k->fields, ws, k->subjects, wh, k->held, wn,
		    anon_text(k, anon));
	}
	printf("examined %" PRIu64 " due-index entries\n", r->examined);
	if (r->more)
		printf("stopped after %" PRIu32 " field action(s): more is due "
		       "(run again)\n",
		    limit);
}

/* A retention report as JSON; NULL if out of memory. */
static json_t *
json_report(const privd_retention_report *r, int preview)
{
	const privd_retention_count *k;
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < r->ncounts; i++) {
		k = &r->counts[i];
		if (json_array_append_new(
		        a, json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}",
		               "register", safe(k->reg), "rule", safe(k->rule),
		               "action", safe(k->action), "fields",
		               json_u64(k->fields), "subjects",
		               json_u64(k->subjects), "held", json_u64(k->held),
		               "anonymous_records",
		               json_u64(k->anonymous_records))) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return json_pack("{s:b, s:o, s:o, s:o, s:b, s:o}", "preview", preview,
	    "as_of", json_when(r->as_of_us), "as_of_us", json_u64(r->as_of_us),
	    "examined", json_u64(r->examined), "more", r->more, "counts", a);
}

/*
 * What a retention preview or sweep did (print_report_text), or with
 * --json its object. limit is the sweep's --limit (0: none). Returns 0 or
 * the exit code of a failure.
 */
int
print_sweep(const struct opts *o, const privd_retention_report *r, int preview,
    uint32_t limit)
{
	if (o->json)
		return json_print(json_report(r, preview));
	print_report_text(r, preview, limit);
	return 0;
}

/* retention preview and run: one request, printed the same way. */
static int
sweep(const struct opts *o, privd_client *c, int preview)
{
	privd_retention_opts ro = {0};
	privd_retention_report *r = NULL;
	int rc;

	ro.preview = preview;
	ro.as_of_us = o->as_of_us;
	ro.reg = o->reg;
	ro.limit = o->run_limit;
	if ((rc = privd_retention_run(c, &ro, &r)) != PRIVD_OK)
		return report_call(o, c, rc);
	rc = print_sweep(o, r, preview, ro.limit);
	privd_retention_report_free(&r);
	return rc;
}

int
cmd_retention_preview(
    const struct opts *o, privd_client *c, char **args, int nargs)
{
	return sweep(o, c, 1);
}

int
cmd_retention_run(const struct opts *o, privd_client *c, char **args, int nargs)
{
	return sweep(o, c, 0);
}

/*
 * The text of a group's key for a line: "(all)" without --group-by,
 * "(none)" for the records without a value, the value if printable, else
 * "base64:...". malloc'd, NULL if out of memory.
 */
static char *
group_text(const privd_aggregate_group *g, int grouped)
{
	char *b, *t;
	size_t n;

	if (!grouped)
		return strdup("(all)");
	if (g->missing)
		return strdup("(none)");
	if (printable_utf8(g->key, g->keylen))
		return strdup((const char *)g->key);
	if ((b = base64(g->key, g->keylen)) == NULL)
		return NULL;
	n = strlen(b) + 8;
	if ((t = malloc(n)) != NULL)
		snprintf(t, n, "base64:%s", b);
	free(b);
	return t;
}

/* A group's key as JSON: a string, {"base64"}, or null (no --group-by,
 * or the records without a value). NULL if out of memory. */
static json_t *
json_key(const privd_aggregate_group *g, int grouped)
{
	json_t *v;
	char *b;

	if (!grouped || g->missing)
		return json_null();
	if (printable_utf8(g->key, g->keylen))
		return json_stringn((const char *)g->key, g->keylen);
	if ((b = base64(g->key, g->keylen)) == NULL)
		return NULL;
	v = json_pack("{s:s}", "base64", b);
	free(b);
	return v;
}

/* A group as JSON: its key, count and, for an integer field, its
 * statistics; NULL if out of memory. */
static json_t *
json_group(const privd_aggregate_group *g, int grouped, int integer)
{
	if (!integer)
		return json_pack("{s:o, s:b, s:o}", "key", json_key(g, grouped),
		    "missing", g->missing, "count", json_u64(g->count));
	return json_pack("{s:o, s:b, s:o, s:I, s:f, s:I, s:I}", "key",
	    json_key(g, grouped), "missing", g->missing, "count",
	    json_u64(g->count), "sum", (json_int_t)g->sum, "mean", g->mean,
	    "min", (json_int_t)g->min, "max", (json_int_t)g->max);
}

/* An aggregate as JSON; NULL if out of memory. */
static json_t *
json_aggregate(const char *reg, const char *field, const char *group_by,
    const privd_aggregate_result *r)
{
	int grouped = group_by != NULL;
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < r->ngroups; i++)
		if (json_array_append_new(a,
		        json_group(&r->groups[i], grouped, r->integer)) != 0) {
			json_decref(a);
			return NULL;
		}
	return json_pack("{s:s, s:s, s:o, s:b, s:i, s:o, s:o, s:o}", "register",
	    safe(reg), "field", safe(field), "group_by",
	    grouped ? json_string(safe(group_by)) : json_null(), "integer",
	    r->integer, "min_group", (int)r->min_group, "groups", a,
	    "suppressed_groups", json_u64(r->suppressed_groups),
	    "suppressed_records", json_u64(r->suppressed_records));
}

/*
 * An aggregate of field in register reg (grouped by group_by, or NULL):
 * with --json its object, else a heading, one aligned line per group (its
 * key and count, and for an integer field its sum, mean, min and max: a
 * field of another type has no statistics, and zeros would read as
 * figures), then what was suppressed. Returns 0 or the exit code of a
 * failure.
 */
int
print_aggregate(const struct opts *o, const char *reg, const char *field,
    const char *group_by, const privd_aggregate_result *r)
{
	const privd_aggregate_group *g;
	int grouped = group_by != NULL;
	char **keys, num[32];
	int wk = 5, wc = 5, ws = 3, wm = 4, wn = 3, wx = 3, rc = 0;
	size_t i;

	if (o->json)
		return json_print(json_aggregate(reg, field, group_by, r));
	if ((keys = calloc(r->ngroups ? r->ngroups : 1, sizeof(*keys))) == NULL)
		return report_local(o, PRIVD_ENOMEM, "out of memory");
	for (i = 0; i < r->ngroups; i++) {
		g = &r->groups[i];
		if ((keys[i] = group_text(g, grouped)) == NULL) {
			rc = report_local(o, PRIVD_ENOMEM, "out of memory");
			goto out;
		}
		widen(&wk, (int)strlen(keys[i]));
		widen(&wc, num_width(g->count));
		widen(&ws, snprintf(num, sizeof(num), "%" PRId64, g->sum));
		widen(&wm, snprintf(num, sizeof(num), "%.2f", g->mean));
		widen(&wn, snprintf(num, sizeof(num), "%" PRId64, g->min));
		widen(&wx, snprintf(num, sizeof(num), "%" PRId64, g->max));
	}
	printf("%s.%s", safe(reg), safe(field));
	if (grouped)
		printf(" by %s", safe(group_by));
	printf(" (groups of fewer than %lu subjects suppressed)\n",
	    (unsigned long)r->min_group);
	if (r->ngroups > 0 && r->integer)
		printf("%-*s  %*s  %*s  %*s  %*s  %*s\n", wk, "group", wc,
		    "count", ws, "sum", wm, "mean", wn, "min", wx, "max");
	else if (r->ngroups > 0)
		printf("%-*s  %*s\n", wk, "group", wc, "count");
	for (i = 0; i < r->ngroups; i++) {
		g = &r->groups[i];
		if (r->integer)
			printf("%-*s  %*" PRIu64 "  %*" PRId64
			       "  %*.2f  %*" PRId64 "  %*" PRId64 "\n",
			    wk, keys[i], wc, g->count, ws, g->sum, wm, g->mean,
			    wn, g->min, wx, g->max);
		else
			printf(
			    "%-*s  %*" PRIu64 "\n", wk, keys[i], wc, g->count);
	}
	printf("suppressed: %" PRIu64 " group(s), %" PRIu64 " record(s)\n",
	    r->suppressed_groups, r->suppressed_records);
out:
	for (i = 0; i < r->ngroups; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

/* report: args are REGISTER FIELD. */
int
cmd_report(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_aggregate_result *r = NULL;
	int rc;

	rc = privd_aggregate(c, o->purpose, args[0], args[1], o->group_by, &r);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	rc = print_aggregate(o, args[0], args[1], o->group_by, r);
	privd_aggregate_result_free(&r);
	return rc;
}
