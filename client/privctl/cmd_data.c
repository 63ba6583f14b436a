/*
 * cmd_data.c - the data commands: ping, put, get, delete.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privctl.h"

int
cmd_ping(const struct opts *o, privd_client *c, char **args, int nargs)
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

/* get and delete: the data commands need a purpose. */
int
data_check(struct opts *o, char **args, int nargs)
{
	if (o->purpose == NULL || *o->purpose == '\0')
		return usage_error("put, get and delete need --purpose P");
	return 0;
}

/*
 * put: also read every value now (input.c: FIELD=VALUE, FIELD=@FILE,
 * FIELD=- and --from-json), so that a mistake costs no request. No
 * argument is echoed: they hold personal data.
 */
int
put_check(struct opts *o, char **args, int nargs)
{
	int rc;

	if ((rc = data_check(o, args, nargs)) != 0)
		return rc;
	return put_input_read(o, args, nargs);
}

/* put: what put_check() read into o->put. */
int
cmd_put(const struct opts *o, privd_client *c, char **args, int nargs)
{
	const struct put_input *p = o->put;
	int rc;

	(void)nargs;
	rc = privd_put(c, args[0], p->subject, o->purpose, p->f, p->n);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(
		    json_pack("{s:o}", "written", json_u64(p->n)));
	printf("wrote %zu field(s)\n", p->n);
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

int
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

/* A time as JSON: ISO 8601 UTC, or null for 0 (none). */
static json_t *
json_when(uint64_t us)
{
	char at[40];

	if (us == 0)
		return json_null();
	iso_time(us, at);
	return json_string(at);
}

/* The fields a delete (or an erasure) kept, as JSON: [{"field", "rule",
 * "until", "until_us", "hold_reason"}]. NULL if out of memory. */
json_t *
json_retained(const privd_retained *kept, size_t n)
{
	json_t *a, *e;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		e = json_pack("{s:s, s:o, s:o, s:o, s:o}", "field",
		    safe(kept[i].field), "rule",
		    *kept[i].rule ? json_string(safe(kept[i].rule))
		                  : json_null(),
		    "until", json_when(kept[i].until_us), "until_us",
		    json_us(kept[i].until_us), "hold_reason",
		    *kept[i].rule ? json_null()
		                  : json_string(safe(kept[i].hold_reason)));
		if (json_array_append_new(a, e) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

/*
 * One line per field a delete (or an erasure) kept, and why, after
 * indent: "kept F: rule R, until T", "kept F: rule R (its period has not
 * started yet)", "kept F: legal hold "REASON", until lifted" or ", until
 * T".
 */
void
print_retained(const char *indent, const privd_retained *k)
{
	char at[40];

	iso_time(k->until_us, at);
	if (*k->rule && k->until_us != 0)
		printf("%skept %s: rule %s, until %s\n", indent, safe(k->field),
		    safe(k->rule), at);
	else if (*k->rule)
		printf("%skept %s: rule %s (its period has not started "
		       "yet)\n",
		    indent, safe(k->field), safe(k->rule));
	else if (k->until_us != 0)
		printf("%skept %s: legal hold \"%s\", until %s\n", indent,
		    safe(k->field), safe(k->hold_reason), at);
	else
		printf("%skept %s: legal hold \"%s\", until lifted\n", indent,
		    safe(k->field), safe(k->hold_reason));
}

/*
 * What a delete removed and, when privd kept fields (RETAINED), which and
 * why: one line each, or with --json the one object {"deleted",
 * "retained"}. Returns 0, or 1 if the JSON could not be printed.
 */
int
print_delete(const struct opts *o, uint32_t deleted, const privd_retained *kept,
    size_t nkept)
{
	size_t i;

	if (o->json)
		return json_print(
		    json_pack("{s:I, s:o}", "deleted", (json_int_t)deleted,
		        "retained", json_retained(kept, nkept)));
	printf("deleted %lu field(s)\n", (unsigned long)deleted);
	for (i = 0; i < nkept; i++)
		print_retained("", &kept[i]);
	return 0;
}

/*
 * delete: print_delete() on stdout; when privd kept fields, privd's
 * message on stderr (not with --json: the object says it all) and exit 6.
 */
int
cmd_delete(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_retained *kept = NULL;
	size_t nkept = 0;
	uint32_t n = 0;
	int rc, prc;

	rc = privd_delete_ex(c, args[0], args[1], o->purpose,
	    (const char *const *)args + 2, (size_t)nargs - 2, &n, &kept,
	    &nkept);
	if (rc != PRIVD_OK && rc != PRIVD_ERETAINED)
		return report_call(o, c, rc);
	prc = print_delete(o, n, kept, nkept);
	privd_free(kept);
	if (prc != 0)
		return prc;
	/* the report first, then why it exits 6, also into one pipe */
	if (rc == PRIVD_ERETAINED && !o->json) {
		fflush(stdout);
		return report_call(o, c, rc);
	}
	return exit_code(rc);
}
