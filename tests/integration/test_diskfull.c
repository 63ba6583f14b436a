/*
 * test_diskfull.c - a full disk is a condition a client can retry after
 * (issue 7): writes and audited reads that cannot be committed are answered
 * UNAVAILABLE "the store's disk is full", each answer with its audit event
 * (status UNAVAILABLE, decision failed) - never INTERNAL, never an answer
 * without an event; privd logs the full disk once per episode and logs
 * when service resumes; once there is room, writes work again, the audit
 * log verifies and privd restarts cleanly.
 *
 * Two ways to fill the disk: a real small file system (a tmpfs mounted on
 * the data directory; needs root and permission to mount, skipped with the
 * reason otherwise), grown afterwards; and RLIMIT_FSIZE on privd serve,
 * which needs no root, where deleting data makes room.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"

#define REG       "customers"
#define INV       "invoicing"
#define VALUE_LEN (60 * 1024)
#define MAX_PUTS  2000
#define MAX_CALLS 4096
#define FULL_MSG  "disk is full" /* in privd's log line */
#define S_OK      1
#define S_UNAVAIL 8

static const char POLICY[] = H_POL_CONTROLLER
    " \"registers\": {\"customers\": {\n"
    "   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n"
    "   \"fields\": {\"blob\": {\"category\": \"other\", \"type\": "
    "\"bytes\"}}}},\n" H_POL_PRINCIPALS H_POL_SVC_RWD ",\n" H_POL_AUDITOR
    ",\n  \"operator\": {\"key\": \"@KEY:operator@\", \"roles\": "
    "[\"operator\"]}" H_POL_END;

static const char *const keys[] = {"svc", "auditor", "operator"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Every request svc made, and how privd answered it. */
typedef struct calls {
	struct {
		uint64_t id;
		int rc;
		char op[8];
	} c[MAX_CALLS];
	size_t n;
} calls;

static calls log_of_calls;

static void
note(privd_client *c, const char *op, int rc)
{
	calls *l = &log_of_calls;

	assert_true(l->n < MAX_CALLS);
	l->c[l->n].id = privd_last_request_id(c);
	l->c[l->n].rc = rc;
	snprintf(l->c[l->n].op, sizeof(l->c[l->n].op), "%s", op);
	l->n++;
}

static void
value_of(int i, uint8_t *v)
{
	memset(v, 'a' + i % 26, VALUE_LEN);
	snprintf((char *)v, 16, "value %d", i);
}

static int
put(privd_client *c, int i)
{
	static uint8_t v[VALUE_LEN];
	privd_field f = {"blob", v, VALUE_LEN};
	char subj[32];
	int rc;

	value_of(i, v);
	snprintf(subj, sizeof(subj), "fill-%d", i);
	rc = privd_put(c, REG, subj, INV, &f, 1);
	note(c, "put", rc);
	return rc;
}

/* A get of fill-i: OK with its value, or UNAVAILABLE. */
static int
get(privd_client *c, int i)
{
	static uint8_t v[VALUE_LEN];
	privd_record *r = NULL;
	char subj[32];
	int rc;

	snprintf(subj, sizeof(subj), "fill-%d", i);
	rc = privd_get(c, REG, subj, INV, NULL, 0, &r);
	note(c, "get", rc);
	if (rc == PRIVD_OK) {
		const privd_field *f = privd_record_field(r, "blob");

		value_of(i, v);
		assert_non_null(f);
		assert_int_equal(f->len, VALUE_LEN);
		assert_memory_equal(f->value, v, VALUE_LEN);
		privd_record_free(&r);
	}
	return rc;
}

/* A refusal for a full disk: UNAVAILABLE, saying so. */
static void
expect_full(privd_client *c, int rc, const char *what)
{
	if (rc != PRIVD_EUNAVAILABLE)
		fail_msg("%s on a full disk: %s (%s), expected UNAVAILABLE",
		    what, privd_strerror(rc), privd_errmsg(c));
	if (strstr(privd_errmsg(c), "the store's disk is full") == NULL)
		fail_msg(
		    "%s on a full disk: message \"%s\"", what, privd_errmsg(c));
}

/* privd said "disk is full" once so far. A failure here is kept for the
 * end of the test, so that everything else is checked too. */
static char deferred[256];

static void
once_per_episode(harness *h)
{
	int n = h_log_count(h, 0, FULL_MSG);

	if (n != 1 && deferred[0] == '\0')
		snprintf(deferred, sizeof(deferred),
		    "\"%s\" logged %d times in one episode", FULL_MSG, n);
}

/*
 * Put large values until privd refuses one; then more puts and gets while
 * the disk is full. Returns the number of the first refused put.
 */
static int
fill(harness *h, privd_client *c)
{
	int i, rc = PRIVD_OK;

	for (i = 0; i < MAX_PUTS; i++) {
		if ((rc = put(c, i)) != PRIVD_OK)
			break;
	}
	if (i == MAX_PUTS)
		fail_msg("%d puts of %d bytes and the disk is not full",
		    MAX_PUTS, VALUE_LEN);
	print_message("the disk filled after %d puts\n", i);
	assert_true(i > 0);
	expect_full(c, rc, "the first refused put");
	for (int k = 1; k <= 5; k++) {
		expect_full(c, put(c, i + k), "a later put");
		rc = get(c, k - 1);
		if (rc != PRIVD_OK)
			expect_full(c, rc, "a get");
	}
	once_per_episode(h);
	return i;
}

/* After room was made: a put works (within a deadline), and privd logs
 * that it serves again, after its "disk is full" line. */
static void
expect_recovered(harness *h, privd_client *c, int first)
{
	static const char *const resumed[] = {
	    "room again", "resum", "no longer full", "serving normally"};
	int64_t deadline = h_now_ms() + 10000;
	uint8_t *buf;
	size_t len, n = 0;
	const char *full;
	int rc;

	while ((rc = put(c, first)) != PRIVD_OK) {
		expect_full(c, rc, "a put after making room");
		if (h_now_ms() > deadline)
			fail_msg("writes still refused 10 s after making room");
		h_sleep_ms(100);
	}
	assert_int_equal(get(c, first), PRIVD_OK);
	assert_int_equal(h_read_file(h->log, &buf, &len), 0);
	full = strstr((const char *)buf, FULL_MSG);
	assert_non_null(full);
	for (size_t i = 0; i < sizeof(resumed) / sizeof(resumed[0]); i++)
		if (strstr(full, resumed[i]) != NULL)
			n++;
	free(buf);
	if (n == 0)
		fail_msg("privd did not log that service resumed");
	once_per_episode(h);
}

/*
 * Every answer svc got has exactly one audit event of svc with its request
 * id: OK for OK, UNAVAILABLE with decision failed for UNAVAILABLE (and a
 * get refused so discloses no fields); no event at all is INTERNAL. Then
 * the log verifies.
 */
static void
audit_agrees(harness *h)
{
	privd_client *a = client(h, "auditor");
	const calls *l = &log_of_calls;
	privd_audit_filter q = {.limit = 1000};
	privd_audit_page *p = NULL;
	uint8_t *cur = NULL;
	size_t curlen = 0, *seen = calloc(l->n, sizeof(size_t));

	assert_non_null(seen);
	do {
		expect_rc(a, privd_audit_query(a, &q, cur, curlen, &p),
		    PRIVD_OK, "audit query");
		for (size_t i = 0; i < p->n; i++) {
			const privd_audit_event *e = &p->events[i];

			if (e->status == 9)
				fail_msg("event %llu (%s) is INTERNAL",
				    (unsigned long long)e->seq, e->op);
			if (strcmp(e->principal, "svc") != 0)
				continue;
			for (size_t k = 0; k < l->n; k++) {
				if (l->c[k].id != e->request_id)
					continue;
				seen[k]++;
				assert_string_equal(e->op, l->c[k].op);
				if (l->c[k].rc == PRIVD_OK) {
					assert_int_equal(e->status, S_OK);
				} else {
					assert_int_equal(e->status, S_UNAVAIL);
					assert_int_equal(
					    e->decision, PRIVD_DECISION_FAILED);
					/* nothing was disclosed */
					if (strcmp(e->op, "get") == 0)
						assert_int_equal(e->nfields, 0);
				}
			}
		}
		free(cur);
		cur = NULL;
		curlen = 0;
		if (p->cursor != NULL) {
			cur = malloc(p->cursorlen);
			assert_non_null(cur);
			memcpy(cur, p->cursor, curlen = p->cursorlen);
		}
		privd_audit_page_free(&p);
	} while (cur != NULL);
	for (size_t k = 0; k < l->n; k++)
		if (seen[k] != 1)
			fail_msg("the %s answered %s (call %zu) has %zu events",
			    l->c[k].op, privd_strerror(l->c[k].rc), k, seen[k]);
	free(seen);
	audit_verify_ok(a, NULL, NULL);
	privd_close(&a);
}

/* The end of every test: the log agrees and verifies, the refused put
 * left nothing, and privd restarts cleanly with the data. */
static void
finish(harness *h, int first)
{
	privd_client *c = client(h, "svc");
	privd_record *r = NULL;
	char subj[32];

	snprintf(subj, sizeof(subj), "fill-%d", first + 1);
	expect_rc(c, privd_get(c, REG, subj, INV, NULL, 0, &r), PRIVD_ENOTFOUND,
	    "a refused put's subject");
	privd_close(&c);
	audit_agrees(h);
	assert_int_equal(h_restart(h), 0);
	c = client(h, "svc");
	assert_int_equal(get(c, first), PRIVD_OK);
	privd_close(&c);
	audit_agrees(h);
	if (deferred[0] != '\0')
		fail_msg("%s", deferred);
}

/* ---- a real full file system ---------------------------------------- */

static char mounted[H_PATH_MAX];

static int
setup_tmpfs(void **state)
{
	harness *h = h_new();

	memset(&log_of_calls, 0, sizeof(log_of_calls));
	deferred[0] = '\0';
	*state = NULL;
	if (h == NULL)
		return -1;
	*state = h;
	if (mkdir(h->data_dir, 0700) != 0)
		return -1;
	if (mount("tmpfs", h->data_dir, "tmpfs", MS_NOSUID | MS_NODEV,
	        "size=8m,mode=0700") != 0) {
		/* not root, or a container that may not mount: the test
		 * skips itself and says so */
		fprintf(stderr, "test_diskfull: cannot mount a tmpfs (%s)\n",
		    strerror(errno));
		return 0;
	}
	snprintf(mounted, sizeof(mounted), "%s", h->data_dir);
	for (size_t i = 0; i < NKEYS; i++)
		if (h_key_new(h, keys[i]) == NULL)
			return -1;
	if (h_policy_write(h, POLICY) != 0 || h_init(h, NULL) != 0 ||
	    h_start(h, NULL) != 0) {
		h_dump_log(h, 40);
		return -1;
	}
	return 0;
}

/* Stop privd, unmount the tmpfs (whatever happened), remove the rest. */
static int
teardown_tmpfs(void **state)
{
	harness *h = *state;

	if (h != NULL && h->pid > 0)
		h_stop(h, H_STOP_TIMEOUT_MS, NULL);
	if (mounted[0] != '\0') {
		if (umount2(mounted, 0) != 0 &&
		    umount2(mounted, MNT_DETACH) != 0)
			fprintf(stderr, "test_diskfull: umount %s: %s\n",
			    mounted, strerror(errno));
		mounted[0] = '\0';
	}
	return h_teardown(state);
}

static void
test_full_tmpfs(void **state)
{
	harness *h = *state;
	privd_client *c;
	int first;

	if (mounted[0] == '\0') {
		print_message("skipped: cannot mount a tmpfs for the data "
		              "directory (needs root and mount permission)\n");
		skip();
	}
	c = client(h, "svc");
	first = fill(h, c);
	/* make room: the file system grows */
	assert_int_equal(
	    mount("tmpfs", h->data_dir, "tmpfs",
	        MS_REMOUNT | MS_NOSUID | MS_NODEV, "size=64m,mode=0700"),
	    0);
	expect_recovered(h, c, first);
	privd_close(&c);
	finish(h, first);
}

/* ---- RLIMIT_FSIZE ---------------------------------------------------- */

static int
setup_fsize(void **state)
{
	static const h_opts o = {.fsize_limit = 4u << 20};

	memset(&log_of_calls, 0, sizeof(log_of_calls));
	deferred[0] = '\0';
	return h_setup_opt(state, keys, NKEYS, POLICY, NULL, &o);
}

static void
test_file_size_limit(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "svc");
	int64_t deadline;
	int first, rc, k = 0;
	char subj[32];

	first = fill(h, c);
	/* make room: delete the oldest subjects (a delete may itself be
	 * refused while nothing is free yet) */
	deadline = h_now_ms() + 20000;
	while (k < 10) {
		snprintf(subj, sizeof(subj), "fill-%d", 10 + k);
		rc = privd_delete(c, REG, subj, INV, NULL, 0, NULL);
		note(c, "delete", rc);
		if (rc == PRIVD_OK) {
			k++;
			continue;
		}
		expect_full(c, rc, "a delete");
		if (h_now_ms() > deadline)
			fail_msg("no delete got through in 20 s");
		h_sleep_ms(100);
	}
	expect_recovered(h, c, first);
	privd_close(&c);
	finish(h, first);
}

/*
 * A backup that would not fit beside the store on its file system (here
 * an 8 MiB tmpfs: the copy needs about 1.25 times the store and 256 MiB to
 * spare) is refused at its start, UNAVAILABLE, leaving nothing behind, and
 * privd goes on serving.
 */
static void
test_backup_no_room(void **state)
{
	harness *h = *state;
	privd_client *c, *svc;
	privd_backup_info info;
	char path[H_PATH_MAX + 16];
	struct stat sb;

	if (mounted[0] == '\0') {
		print_message("skipped: cannot mount a tmpfs for the data "
		              "directory (needs root and mount permission)\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/b.bak", h->root);
	c = client(h, "operator");
	expect_rc(c, privd_backup(c, path, NULL, NULL, &info),
	    PRIVD_EUNAVAILABLE, "a backup on a full file system");
	assert_non_null(strstr(privd_errmsg(c), "not enough free space"));
	privd_close(&c);
	assert_int_equal(stat(path, &sb), -1);
	svc = client(h, "svc");
	put1(svc, REG, "after-backup", INV, "blob", "x");
	privd_close(&svc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_full_tmpfs, setup_tmpfs, teardown_tmpfs),
	    cmocka_unit_test_setup_teardown(
	        test_backup_no_room, setup_tmpfs, teardown_tmpfs),
	    cmocka_unit_test_setup_teardown(
	        test_file_size_limit, setup_fsize, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/diskfull", tests, NULL, NULL);
}
