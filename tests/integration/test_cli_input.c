/*
 * test_cli_input.c - values off the command line (issue 11), against a
 * real privd: `privctl put` stores FIELD=- (stdin, less one final
 * newline) and FIELD=@FILE (the file's bytes exactly) as they are; a
 * record that `get --json` printed, with "subject" added, goes back with
 * `put --from-json FILE` and reads back the same, bytes and all; a value
 * that cannot be read, or a record put cannot take, is refused before
 * anything is sent (no request, so no audit event).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "checks.h"
#include "harness.h"
#include "test_cli_common.h"

static cli_result res;

/* A file in the harness's directory with the len bytes of data; its
 * path (static, one of four). */
static const char *
file_with(harness *h, const char *name, const void *data, size_t len)
{
	static char path[4][H_PATH_MAX + 32];
	static int next;
	char *p = path[next++ % 4];

	snprintf(p, H_PATH_MAX + 32, "%s/%s", h->root, name);
	assert_int_equal(h_write_file(p, data, len, 0600), 0);
	return p;
}

/* The number of audit events privd holds now. */
static uint64_t
audit_count(harness *h)
{
	privd_client *c = client(h, "auditor");
	uint64_t first = 0, last = 0;
	privd_audit_checkpoint *ck = NULL;
	size_t n = 0;

	expect_rc(c,
	    privd_audit_checkpoints(
	        c, 0, 0, &ck, &n, &first, &last, NULL, NULL),
	    PRIVD_OK, "audit checkpoints");
	privd_free(ck);
	privd_close(&c);
	return last;
}

/* FIELD=- and FIELD=@FILE store exactly what they say. */
static void
test_put_stdin_and_files(void **state)
{
	static const uint8_t blob[] = {0, 1, 2, '\n', 0xfe, 0xff, '\n'};
	static const char notes[] = "first line\nsecond line\n";
	static const char *const get[] = {
	    "get", "customers", "c-1", "--purpose", "invoicing", NULL};
	harness *h = *state;
	char barg[H_PATH_MAX + 48], narg[H_PATH_MAX + 48];
	const char *args[] = {"put", "customers", "c-1", "--purpose",
	    "invoicing", "name=-", barg, narg, NULL};
	static const char *const at[] = {"put", "customers", "c-1b",
	    "--purpose", "invoicing", "name=@@ada", NULL};
	cli_cmd c = {
	    .key = "svc", .args = args, .in = "Ada Lovelace\n", .inlen = 13};
	privd_client *svc;
	privd_record *rec;

	snprintf(barg, sizeof(barg), "blob=@%s",
	    file_with(h, "blob.bin", blob, sizeof(blob)));
	snprintf(narg, sizeof(narg), "notes=@%s",
	    file_with(h, "notes.txt", notes, strlen(notes)));
	cli_run(h, &c, &res);
	if (res.code != 0)
		fail_msg("put: exit %d: %s", res.code, res.err);
	assert_string_equal(res.out, "wrote 3 field(s)\n");
	cli_expect(h, "svc", at, &res, 0, "put name=@@ada");

	svc = client(h, "svc");
	rec = get_ok(svc, "c-1", NULL, 0);
	assert_field_str(rec, "name", "Ada Lovelace");
	assert_field(rec, "blob", blob, sizeof(blob));
	assert_field_str(rec, "notes", notes);
	privd_record_free(&rec);
	/* "@@" is a literal '@' (not a file) */
	rec = get_ok(svc, "c-1b", NULL, 0);
	assert_field_str(rec, "name", "@ada");
	privd_record_free(&rec);
	privd_close(&svc);

	/* what get prints does not come from the command line */
	cli_expect(h, "svc", get, &res, 0, "get");
	assert_non_null(strstr(res.out, "name: Ada Lovelace\n"));
}

/* get --json's record, with "subject" added, goes back as it is. */
static void
test_put_from_json_roundtrip(void **state)
{
	static const uint8_t blob[] = {0, 0xff, 'x', '\n'};
	static const char *const get[] = {"get", "customers", "c-2",
	    "--purpose", "invoicing", "--json", NULL};
	static const char *const get3[] = {"get", "customers", "c-3",
	    "--purpose", "invoicing", "--json", NULL};
	harness *h = *state;
	privd_field f[] = {h_field("name", "Grace Hopper"),
	    {"blob", blob, sizeof(blob)}, h_field("notes", "two\nlines")};
	const char *put[] = {"put", "customers", "--purpose", "invoicing",
	    "--from-json", NULL, NULL};
	static char out2[sizeof(res.out)];
	privd_client *svc = client(h, "svc");
	json_t *doc;
	char *text;

	put_ok(svc, "c-2", f, 3);
	privd_close(&svc);
	cli_expect(h, "svc", get, &res, 0, "get --json");
	snprintf(out2, sizeof(out2), "%s", res.out);
	assert_non_null(doc = json_loads(res.out, 0, NULL));
	json_object_set_new(doc, "subject", json_string("c-3"));
	assert_non_null(text = json_dumps(doc, 0));
	json_decref(doc);
	put[5] = file_with(h, "rec.json", text, strlen(text));
	free(text);
	cli_expect(h, "svc", put, &res, 0, "put --from-json");
	assert_string_equal(res.out, "wrote 3 field(s)\n");
	cli_expect(h, "svc", get3, &res, 0, "get --json of the copy");
	assert_string_equal(res.out, out2);

	/* from stdin, with the subject on the command line */
	{
		static const char rec[] = "{\"fields\": {\"name\": \"Ada\"}}";
		const char *args[] = {"put", "customers", "c-4", "--purpose",
		    "invoicing", "--from-json", "-", "--json", NULL};
		cli_cmd c = {.key = "svc",
		    .args = args,
		    .in = rec,
		    .inlen = sizeof(rec) - 1};

		cli_run(h, &c, &res);
		assert_int_equal(res.code, 0);
		assert_string_equal(res.out, "{\"written\":1}\n");
	}
}

/* Refused before anything is sent: no request reaches privd. */
static void
test_refused_before_sending(void **state)
{
	static const char *const nofile[] = {"put", "customers", "c-5",
	    "--purpose", "invoicing", "name=@/nonexistent/file", NULL};
	static const char *const empty[] = {"put", "customers", "c-5",
	    "--purpose", "invoicing", "name=-", NULL};
	static const char *const twice[] = {"put", "customers", "c-5",
	    "--purpose", "invoicing", "name=a", "name=@@b", NULL};
	harness *h = *state;
	const char *badjson[] = {"put", "customers", "c-5", "--purpose",
	    "invoicing", "--from-json", NULL, NULL};
	cli_cmd c = {.key = "svc", .args = empty};
	uint64_t before = audit_count(h), after;

	cli_expect(h, "svc", nofile, &res, 1, "a file that is not there");
	/* counted from 1 after "privctl", --endpoint E --key K
	 * --server-key S first */
	assert_non_null(strstr(res.err, "argument 12"));
	cli_run(h, &c, &res);
	assert_int_equal(res.code, 2);
	assert_non_null(strstr(res.err, "nothing on stdin"));
	cli_expect(h, "svc", twice, &res, 2, "a field twice");
	badjson[6] =
	    file_with(h, "bad.json", "{\"fields\": {\"name\": 7}}", 23);
	cli_expect(h, "svc", badjson, &res, 5, "a value that is a number");
	badjson[6] =
	    file_with(h, "bad.json", "{\"fields\": {\"name\": \"Ada", 24);
	cli_expect(h, "svc", badjson, &res, 5, "not JSON");
	/* jansson's message would quote the text: not shown */
	assert_null(strstr(res.err, "Ada"));
	/* the auditor's own query is the only event since */
	after = audit_count(h);
	assert_int_equal(after, before + 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_put_stdin_and_files, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_put_from_json_roundtrip, cli_setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_refused_before_sending, cli_setup, h_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
