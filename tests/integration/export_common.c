/*
 * export_common.c - what the subject export's tests share (see
 * export_common.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "export_common.h"

#define PY "/usr/bin/python3"

/* Parse an RFC 3339 time as privd writes it into microseconds. */
int64_t
time_of(const json_t *v)
{
	const char *s = json_string_value(v);
	struct tm tm;
	unsigned us;

	if (s == NULL)
		fail_msg("a time is not a string");
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%6uZ", &tm.tm_year, &tm.tm_mon,
	        &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &us) != 7 ||
	    strlen(s) != 27)
		fail_msg("not a time as privd writes it: %s", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * US_PER_S + us;
}

/* Run validate_export.py on the document: its exit status, and its
 * stderr in r. */
int
run_validator(harness *h, const char *doc, size_t len, h_result *r)
{
	const char *schema = getenv("EXPORT_SCHEMA");
	const char *script = getenv("EXPORT_VALIDATOR");
	char path[H_PATH_MAX + 16];

	assert_non_null(schema);
	assert_non_null(script);
	if (access(PY, X_OK) != 0)
		fail_msg("%s is needed to validate the export", PY);
	snprintf(path, sizeof(path), "%s/export.json", h->root);
	assert_int_equal(h_write_file(path, doc, len, 0600), 0);
	{
		const char *argv[] = {PY, script, schema, path, NULL};

		assert_int_equal(h_run(h, argv, 60000, r), 0);
	}
	if (getenv("EXPORT_KEEP") == NULL)
		unlink(path);
	return exit_status(r);
}

/* The document must pass validate_export.py against the schema. */
void
validate(harness *h, const char *doc, size_t len)
{
	h_result r;

	if (run_validator(h, doc, len, &r) != 0)
		fail_msg("the export does not validate against the schema:\n%s",
		    r.err);
}

/* The document, changed by mutate, must fail validation: the schema is
 * strict enough to catch it. */
void
invalid(
    harness *h, const json_t *doc, void (*mutate)(json_t *), const char *what)
{
	json_t *copy = json_deep_copy(doc);
	h_result r;
	char *text;

	mutate(copy);
	assert_non_null(text = json_dumps(copy, 0));
	if (run_validator(h, text, strlen(text), &r) != 1)
		fail_msg("a document with %s validates (or the validator "
		         "failed):\n%s",
		    what, r.err);
	free(text);
	json_decref(copy);
}

/* An export as key (reg NULL: every register): libprivd's rc must be
 * want; on success the document, validated and parsed. */
json_t *
export_as(harness *h, const char *key, const char *reg, const char *subject,
    int want, int reason)
{
	privd_client *c = client(h, key);
	json_error_t err;
	json_t *doc = NULL;
	char *text = NULL;
	size_t len = 0;
	int rc;

	privd_set_timeout(c, 60000);
	rc = privd_subject_export(c, reg, subject, &text, &len);
	if (want == PRIVD_EDENIED)
		expect_denied(c, rc, reason, "export");
	else
		expect_rc(c, rc, want, "export");
	if (rc == PRIVD_OK) {
		assert_non_null(text);
		assert_int_equal(strlen(text), len);
		validate(h, text, len);
		doc = json_loadb(text, len, 0, &err);
		if (doc == NULL)
			fail_msg("the export is not JSON: %s", err.text);
		privd_subject_export_free(&text, len);
		assert_null(text);
	} else {
		assert_null(text);
		assert_int_equal(len, 0);
	}
	privd_close(&c);
	return doc;
}

json_t *
export_ok(harness *h, const char *reg, const char *subject)
{
	return export_as(h, RIGHTS, reg, subject, PRIVD_OK, 0);
}

json_t *
reg_of(const json_t *doc, const char *name)
{
	const json_t *regs = json_object_get(doc, "registers");
	json_t *r;
	size_t i;

	json_array_foreach(regs, i,
	    r) if (strcmp(json_string_value(json_object_get(r, "register")),
	               name) == 0) return r;
	fail_msg("register %s is not in the export", name);
	return NULL;
}

json_t *
field_of(const json_t *reg, const char *name)
{
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(reg, "fields"), i,
	    f) if (strcmp(json_string_value(json_object_get(f, "name")),
	               name) == 0) return f;
	fail_msg("field %s is not in the export", name);
	return NULL;
}

const char *
str_of(const json_t *o, const char *member)
{
	const json_t *v = json_object_get(o, member);

	if (!json_is_string(v))
		fail_msg("member %s is not a string", member);
	return json_string_value(v);
}

void
expect_str(const json_t *o, const char *member, const char *want)
{
	const json_t *v = json_object_get(o, member);

	if (want == NULL) {
		if (!json_is_null(v))
			fail_msg("member %s is not null", member);
		return;
	}
	if (strcmp(str_of(o, member), want) != 0)
		fail_msg("member %s is \"%s\", expected \"%s\"", member,
		    str_of(o, member), want);
}

/* The names of a register's fields, comma-separated, in document order
 * (which must be sorted: the checks below compare with sorted lists). */
void
expect_field_names(const json_t *reg, const char *want)
{
	char got[1024] = "";
	json_t *f;
	size_t i;

	json_array_foreach(json_object_get(reg, "fields"), i, f)
	{
		if (i > 0)
			strcat(got, ",");
		strcat(got, str_of(f, "name"));
	}
	if (strcmp(got, want) != 0)
		fail_msg("fields [%s], expected [%s]", got, want);
}

/* A stored field: value, policy facts, purpose and legal basis. */
void
expect_field(const json_t *reg, const char *name, const char *value,
    const char *type, const char *category, const char *source,
    const char *purpose, const char *basis)
{
	const json_t *f = field_of(reg, name);

	expect_str(f, "value", value);
	assert_null(json_object_get(f, "encoding"));
	assert_null(json_object_get(f, "damaged"));
	expect_str(f, "type", type);
	expect_str(f, "category", category);
	expect_str(f, "source", source);
	expect_str(f, "purpose", purpose);
	expect_str(f, "legal_basis", basis);
	assert_true(time_of(json_object_get(f, "collected")) > 0);
	assert_int_equal(time_of(json_object_get(f, "collected")),
	    time_of(json_object_get(f, "updated")));
}

/* A field's retention: rule and action (NULL: none), due (0: null),
 * minimum's rule (NULL: none) and until (0: null). */
void
expect_retention(const json_t *reg, const char *name, const char *rule,
    const char *action, int64_t due, const char *min_rule, int64_t min_until)
{
	const json_t *r = json_object_get(field_of(reg, name), "retention");
	const json_t *m = json_object_get(r, "minimum");

	expect_str(r, "rule", rule);
	expect_str(r, "action", action);
	if (due == 0)
		assert_true(json_is_null(json_object_get(r, "due")));
	else
		assert_int_equal(time_of(json_object_get(r, "due")), due);
	if (min_rule == NULL) {
		assert_true(json_is_null(m));
		return;
	}
	expect_str(m, "rule", min_rule);
	if (min_until == 0)
		assert_true(json_is_null(json_object_get(m, "until")));
	else
		assert_int_equal(
		    time_of(json_object_get(m, "until")), min_until);
}

int64_t
collected_of(const json_t *reg, const char *name)
{
	return time_of(json_object_get(field_of(reg, name), "collected"));
}
