/*
 * test_store_select.c - which store privd's commands open (issue 12):
 * `privd init --store SPEC` records SPEC in DIR/store (0600) and every
 * later command on DIR follows it; an explicit lmdb: store outside the
 * data directory; DIR/store readable by others refused. On the test
 * setup "pg" also: a second init on a database that holds a store is
 * refused and leaves nothing behind, a second node is a directory with a
 * copy of master.key (server-key show and serve --check with --store),
 * rekey and restore run there, and no connection string is ever printed;
 * privd's online backup works there (libprivd's privd_backup makes the
 * file; test_restore_pg and the backup tests do the rest).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"

#define SEL_PATH (2 * H_PATH_MAX + 64)

static const char policy[] =
    H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RW H_POL_END;

static int
setup(void **state)
{
	harness *h = h_new();

	if (h == NULL || h_key_new(h, "svc") == NULL ||
	    h_policy_write(h, policy) != 0) {
		h_destroy(&h);
		return -1;
	}
	*state = h;
	return 0;
}

static int
teardown(void **state)
{
	harness *h = *state;

	h_destroy(&h);
	return 0;
}

/* privd args...: its exit status; res filled. */
static int
privd(harness *h, const char *const *args, h_result *res)
{
	assert_int_equal(h_run_privd(h, args, H_RUN_TIMEOUT_MS, res), 0);
	assert_false(res->timed_out);
	assert_true(WIFEXITED(res->wstatus));
	return WEXITSTATUS(res->wstatus);
}

static void
path(char *buf, const char *dir, const char *name)
{
	if (snprintf(buf, SEL_PATH, "%.*s/%s", H_PATH_MAX, dir, name) >=
	    SEL_PATH)
		fail_msg("path too long");
}

/* An LMDB store outside the data directory: DIR keeps the master key
 * and DIR/store; serve follows it. */
static void
test_lmdb_elsewhere(void **state)
{
	harness *h = *state;
	char spec[SEL_PATH], p[SEL_PATH], sdir[SEL_PATH];
	const char *const args[] = {"init", "--data-dir", h->data_dir,
	    "--store", spec, "--policy", h->policy, NULL};
	privd_client *c;
	privd_field f = h_field("name", "Elsewhere");
	privd_record *rec = NULL;
	h_result res;
	struct stat st;
	uint8_t *text;
	size_t len;

	path(sdir, h->root, "lmdbstore");
	assert_int_equal(mkdir(sdir, 0700), 0);
	snprintf(spec, sizeof(spec), "lmdb:%.*s", H_PATH_MAX, sdir);
	assert_int_equal(privd(h, args, &res), 0);
	memcpy(h->server_key, res.out, PRIVD_KEY_Z85_LEN - 1);
	h->server_key[PRIVD_KEY_Z85_LEN - 1] = '\0';
	path(p, sdir, "data.mdb");
	assert_int_equal(stat(p, &st), 0);
	path(p, h->data_dir, "data.mdb");
	assert_int_not_equal(stat(p, &st), 0);
	path(p, h->data_dir, "store");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(h_read_file(p, &text, &len), 0);
	assert_int_equal(len, strlen(spec) + 1);
	assert_memory_equal(text, spec, strlen(spec));
	free(text);

	assert_int_equal(h_start(h, NULL), 0);
	assert_int_equal(h_connect(h, "svc", &c), 0);
	assert_int_equal(
	    privd_put(c, "customers", "s-1", "invoicing", &f, 1), PRIVD_OK);
	assert_int_equal(
	    privd_get(c, "customers", "s-1", "invoicing", NULL, 0, &rec),
	    PRIVD_OK);
	privd_record_free(&rec);
	privd_close(&c);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);

	/* DIR/store readable by others: refused, naming the file */
	assert_int_equal(chmod(p, 0644), 0);
	{
		const char *const show[] = {
		    "server-key", "show", "--data-dir", h->data_dir, NULL};

		assert_int_equal(privd(h, show, &res), 1);
		assert_non_null(strstr(res.err, "0600"));
		assert_null(strstr(res.err, sdir));
	}
}

/* PostgreSQL: a second init refused; a second node; rekey runs, restore
 * runs (and refuses a missing file); the spec never printed. */
static void
test_pg_nodes(void **state)
{
	harness *h = *state;
	char d2[SEL_PATH], p[SEL_PATH], q[SEL_PATH];
	const char *const init2[] = {"init", "--data-dir", d2, "--store",
	    h->store_spec, "--policy", h->policy, NULL};
	const char *const show[] = {"server-key", "show", "--data-dir", d2,
	    "--store", h->store_spec, NULL};
	const char *const check[] = {"serve", "--data-dir", d2, "--store",
	    h->store_spec, "--check", NULL};
	const char *const rekey[] = {"rekey", "--data-dir", h->data_dir, NULL};
	const char *const restore[] = {"restore", "--data-dir", h->data_dir,
	    "--from", "/nonexistent", NULL};
	h_result res;
	struct stat st;
	uint8_t *key;
	size_t len;

	if (!h_store_pg()) {
		printf("# skipped: a second node needs a database store (it "
		       "runs on the test setup pg)\n");
		skip();
	}
	assert_int_equal(h_init(h, NULL), 0);
	path(d2, h->root, "node2");
	assert_int_equal(privd(h, init2, &res), 1);
	assert_non_null(strstr(res.err, "already holds a privd store"));
	assert_null(strstr(res.err, "dbname="));
	path(p, d2, "master.key");
	assert_int_not_equal(stat(p, &st), 0);
	path(q, d2, "store");
	assert_int_not_equal(stat(q, &st), 0);

	/* the second node: a copy of master.key */
	path(q, h->data_dir, "master.key");
	assert_int_equal(h_read_file(q, &key, &len), 0);
	assert_int_equal(h_write_file(p, key, len, 0600), 0);
	free(key);
	assert_int_equal(privd(h, show, &res), 0);
	assert_memory_equal(res.out, h->server_key, PRIVD_KEY_Z85_LEN - 1);
	assert_null(strstr(res.err, "dbname="));
	assert_int_equal(privd(h, check, &res), 0);
	assert_null(strstr(res.out, "dbname="));
	assert_non_null(strstr(res.out, "not shown"));

	/* rekey works there (test_keys_rekey); it never prints the spec */
	assert_int_equal(privd(h, rekey, &res), 0);
	assert_null(strstr(res.err, "dbname="));
	assert_null(strstr(res.out, "dbname="));
	assert_int_equal(privd(h, restore, &res), 1);
	assert_non_null(strstr(res.err, "cannot open /nonexistent"));
	assert_null(strstr(res.err, "dbname="));
	/* privd's own lines (not the harness's banners) */
	{
		uint8_t *log;
		char *line, *next;

		assert_int_equal(h_read_file(h->log, &log, &len), 0);
		log = realloc(log, len + 1);
		assert_non_null(log);
		log[len] = '\0';
		for (line = (char *)log; line != NULL; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = '\0';
			if (strncmp(line, "=== harness:", 12) != 0 &&
			    strstr(line, "dbname=") != NULL)
				fail_msg("privd printed the spec: %s", line);
		}
		free(log);
	}
}

/* PostgreSQL: privd's backup (the same LMDB image file as on LMDB) is
 * made through libprivd, privd going on serving. */
static void
test_pg_backup(void **state)
{
	static const char pol[] =
	    H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RW
	    ",\n"
	    "  \"operator\": {\"key\": \"@KEY:operator@\", \"roles\": "
	    "[\"operator\"]}" H_POL_END;
	harness *h = *state;
	char file[SEL_PATH];
	privd_backup_info info;
	privd_client *c;
	struct stat st;

	if (!h_store_pg()) {
		printf("# skipped: LMDB's backups are the backup tests' (it "
		       "runs on the test setup pg)\n");
		skip();
	}
	assert_non_null(h_key_new(h, "operator"));
	assert_int_equal(h_policy_write(h, pol), 0);
	assert_int_equal(h_init(h, NULL), 0);
	assert_int_equal(h_start(h, NULL), 0);
	assert_int_equal(h_connect(h, "operator", &c), 0);
	path(file, h->root, "backup.privd");
	assert_int_equal(privd_backup(c, file, NULL, NULL, &info), PRIVD_OK);
	assert_int_equal(stat(file, &st), 0);
	assert_true(st.st_size > 0);
	privd_close(&c);
	assert_true(h_running(h));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_lmdb_elsewhere, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pg_nodes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pg_backup, setup, teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/store_select", tests, NULL, NULL);
}
