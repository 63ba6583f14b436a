/*
 * cmd_policy.c - the policy commands: show, check, apply, history, diff.
 * check validates a file offline with the policy model privd runs
 * (policy/); diff compares two policies with it (pol_diff), whether they
 * come from privd's versions or from a file.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "privctl.h"

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

int
cmd_policy_show(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_policy_version v;
	json_error_t je;
	json_t *doc, *out;
	char *text = NULL, at[32];
	size_t len;
	int rc;

	rc = privd_policy_get_version(c, o->version_a, &v, &text);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	iso_time(v.applied_at_us, at);
	if (o->json) {
		/* the document as an object, so a script needs no second parse
		 */
		doc = json_loads(text, 0, &je);
		privd_free(text);
		if (doc == NULL)
			return report_local(o, PRIVD_EPROTO,
			    "policy version %llu is not valid JSON",
			    (unsigned long long)v.version);
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

/*
 * What an apply did: the version in force, or that the policy was
 * unchanged; and how many stored subjects privd re-plans because the
 * new version makes their fields fall due differently (said only when
 * there are some: most policy changes touch no retention rule). With
 * --json {"version", "unchanged", "replan_subjects"}. Returns 0 or the
 * exit code of a failure.
 */
int
print_apply(const struct opts *o, const privd_apply_result *a)
{
	if (o->json)
		return json_print(json_pack("{s:o, s:b, s:o}", "version",
		    json_u64(a->version), "unchanged", a->unchanged,
		    "replan_subjects", json_u64(a->replan_subjects)));
	if (a->unchanged)
		printf("policy unchanged: version %llu stays in force\n",
		    (unsigned long long)a->version);
	else if (a->replan_subjects == 0)
		printf("policy version %llu in force\n",
		    (unsigned long long)a->version);
	else
		printf("policy version %llu in force; %llu subject%s "
		       "re-planned in the background\n",
		    (unsigned long long)a->version,
		    (unsigned long long)a->replan_subjects,
		    a->replan_subjects == 1 ? "" : "s");
	return 0;
}

int
cmd_policy_apply(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_apply_result a;
	int rc;

	rc = privd_policy_apply_ex(c, o->replaces_version, o->policy,
	    o->force ? PRIVD_APPLY_FORCE : 0, &a);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	return print_apply(o, &a);
}

int
cmd_policy_history(
    const struct opts *o, privd_client *c, char **args, int nargs)
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
		e = json_pack("{s:{s:s, s:n, s:s, s:s, s:s}}", "error",
		    "status", "invalid", "reason", "file", path, "path",
		    err.path, "message", err.reason);
		if (e == NULL) /* a file name that is not UTF-8 */
			e = json_error("invalid", err.reason);
		json_print(e);
	} else
		fprintf(stderr, "%s: %s: %s\n", path, err.path, err.reason);
	return EXIT_INVALID;
}

/* policy check FILE: offline, no connection settings needed. */
int
cmd_policy_check(struct opts *o, char **args, int nargs)
{
	const char *path = args[0];
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

/*
 * policy apply: validate offline first, so an invalid file never reaches
 * privd (nor its audit log). The document stays in o->policy for the
 * command (main.c frees it).
 */
int
policy_apply_check(struct opts *o, char **args, int nargs)
{
	size_t len, nreg, nprin;
	char *end;
	int rc;

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
	if ((rc = policy_read(o, args[0], &o->policy, &len)) != 0)
		return rc;
	return policy_validate(o, args[0], o->policy, len, &nreg, &nprin);
}

/* A version number on the command line: digits only, not 0. */
static int
is_version(const char *s, uint64_t *v)
{
	return strspn(s, "0123456789") == strlen(s) && parse_u64(s, v) == 0 &&
	       *v != 0;
}

/* policy show [N] */
int
policy_show_check(struct opts *o, char **args, int nargs)
{
	if (nargs == 1 && !is_version(args[0], &o->version_a))
		return usage_error("policy show takes a version number (1, 2, "
		                   "...; see 'privctl policy history')");
	return 0;
}

/*
 * policy diff [A] [B|FILE]: which two policies (see the command's help).
 * An argument of digits only is a version number, anything else a file,
 * which is read and validated here, before anything is asked of privd.
 */
int
policy_diff_check(struct opts *o, char **args, int nargs)
{
	size_t len, nreg, nprin;
	uint64_t v;
	int rc, i;

	/* digits only is a version, so "0" is a bad one, not a file name */
	for (i = 0; i < nargs; i++)
		if (strspn(args[i], "0123456789") == strlen(args[i]) &&
		    !is_version(args[i], &v))
			return usage_error("policy diff: a version number is "
			                   "1, 2, ... (see 'privctl policy "
			                   "history'); a file named so is "
			                   "./NAME");
	if (nargs == 2 && !is_version(args[0], &o->version_a))
		return usage_error(
		    "policy diff A B|FILE: A is a version number "
		    "(1, 2, ...; see 'privctl policy history')");
	if (nargs == 1 && is_version(args[0], &v))
		o->version_a = v;
	else if (nargs >= 1 && is_version(args[nargs - 1], &v))
		o->version_b = v;
	else if (nargs >= 1)
		o->file = args[nargs - 1];
	if (o->file == NULL)
		return 0;
	if ((rc = policy_read(o, o->file, &o->policy, &len)) != 0)
		return rc;
	return policy_validate(o, o->file, o->policy, len, &nreg, &nprin);
}

/* One side of a diff: a stored version, or the file on the command line. */
struct side {
	privd_policy_version v; /* v.version 0: the file */
	const char *file;
	pol_policy *pol;
};

/*
 * Fetch version (0: the one in force) and parse it into s. Returns 0 or
 * the exit code after reporting. A stored version that the policy model
 * of this privctl refuses is reported as invalid (exit 5).
 */
static int
side_fetch(
    const struct opts *o, privd_client *c, uint64_t version, struct side *s)
{
	pol_error err;
	char *text = NULL;
	int rc;

	if ((rc = privd_policy_get_version(c, version, &s->v, &text)) !=
	    PRIVD_OK)
		return report_call(o, c, rc);
	rc = pol_parse(text, strlen(text), &s->pol, &err);
	privd_free(text);
	if (rc != 0)
		return report_local(o, PRIVD_EINVAL,
		    "policy version %llu does not parse here: %s: %s",
		    (unsigned long long)s->v.version, err.path, err.reason);
	return 0;
}

/* The file side, validated by policy_diff_check(). */
static int
side_file(const struct opts *o, struct side *s)
{
	pol_error err;

	s->file = o->file;
	if (pol_parse(o->policy, strlen(o->policy), &s->pol, &err) != 0)
		return report_local(o, PRIVD_EINVAL, "%s: %s: %s", o->file,
		    err.path, err.reason);
	return 0;
}

/* A side as JSON ({"version", "applied_by", "applied_at", "file"}, null
 * what a file or a version has not) and as words ("version 3", or the
 * file name). */
static json_t *
side_json(const struct side *s)
{
	json_t *v;

	if (s->file != NULL)
		return json_pack("{s:s, s:n, s:n, s:n}", "file", s->file,
		    "version", "applied_by", "applied_at");
	if ((v = json_version(&s->v)) != NULL &&
	    json_object_set_new(v, "file", json_null()) != 0) {
		json_decref(v);
		return NULL;
	}
	return v;
}

static const char *
side_name(const struct side *s, char buf[32])
{
	if (s->file != NULL)
		return s->file;
	snprintf(buf, 32, "version %llu", (unsigned long long)s->v.version);
	return buf;
}

/* What pol_diff() reports goes to stdout as it comes, or into a list. */
struct diff_out {
	json_t *list; /* --json: the differences; NULL otherwise */
	int failed;   /* a JSON object could not be made */
};

static void
diff_line(void *arg, pol_change change, const char *what, const char *detail)
{
	struct diff_out *d = arg;
	const char *word = change == POL_ADDED     ? "added"
	                   : change == POL_REMOVED ? "removed"
	                                           : "changed";

	if (d->list == NULL) {
		printf("%c %s%s%s\n", (char)change, safe(what),
		    *detail ? ": " : "", safe(detail));
		return;
	}
	if (json_array_append_new(
	        d->list, json_pack("{s:s, s:s, s:s}", "change", word, "what",
	                     safe(what), "detail", safe(detail))) != 0)
		d->failed = 1;
}

/*
 * policy diff: the two policies are compared in terms of what they mean
 * (pol_diff), one line per difference, "+ principal crm", "~ field
 * customers.email: type string -> email". The exit status is 0 whether or
 * not they differ: privctl's 1 already means that something failed.
 */
int
cmd_policy_diff(const struct opts *o, privd_client *c, char **args, int nargs)
{
	struct side a = {0}, b = {0};
	struct diff_out d = {0};
	char na[32], nb[32];
	json_t *out;
	size_t n;
	int rc;

	if (nargs == 0) {
		/* what the last apply changed */
		if ((rc = side_fetch(o, c, 0, &b)) != 0)
			goto done;
		if (b.v.version <= 1) {
			rc = report_local(o, PRIVD_ENOTFOUND,
			    "policy version %llu has no version before it",
			    (unsigned long long)b.v.version);
			goto done;
		}
		rc = side_fetch(o, c, b.v.version - 1, &a);
	} else {
		/* A, else the version in force; then B, FILE, or in force */
		if ((rc = side_fetch(o, c, o->version_a, &a)) != 0)
			goto done;
		if (o->file != NULL)
			rc = side_file(o, &b);
		else
			rc = side_fetch(o, c, o->version_b, &b);
	}
	if (rc != 0)
		goto done;
	if (o->json && (d.list = json_array()) == NULL) {
		rc = report_local(o, PRIVD_ENOMEM, "out of memory");
		goto done;
	}
	if (!o->json)
		printf("%s -> %s:\n", side_name(&a, na), side_name(&b, nb));
	n = pol_diff(a.pol, b.pol, diff_line, &d);
	if (o->json) {
		out = json_pack("{s:o, s:o, s:o, s:o}", "from", side_json(&a),
		    "to", side_json(&b), "differences", d.list, "count",
		    json_u64(n));
		d.list = NULL; /* out owns it, or it is gone */
		rc = d.failed ? report_local(o, PRIVD_ENOMEM, "out of memory")
		              : json_print(out);
		if (d.failed)
			json_decref(out);
	} else if (n == 0) {
		printf("no differences\n");
	} else {
		printf("%zu difference%s\n", n, n == 1 ? "" : "s");
	}
done:
	json_decref(d.list);
	pol_free(&a.pol);
	pol_free(&b.pol);
	return rc;
}
