/*
 * test_cli_audit.c - the audit side of issue 7 as a client sees it, through
 * libprivd and privctl, against a real privd:
 * - a follow query takes no criterion but from_seq, limit and not_ops;
 * - an unknown operation name is a usage error (exit 2), never an empty
 *   answer;
 * - `audit tail -f` polls as a follow, which privd audits with at most one
 *   audit_follow event a minute instead of one audit_query per poll;
 * - `audit prune` reports pruning and, with --confirm, resumes it after a
 *   clock jump paused it (the harness's test clock moves privd's clock).
 * What privd's audit queries answer (not_ops, request_id, damaged events)
 * is tested in test_client_auditq.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define CUST "customers"
#define INV  "invoicing"

/* Deadlines of what the tests wait for (polled, never slept out). */
#define WAIT_MS 10000
#define POLL_MS 20

static const char POLICY[] =
    H_POL_CONTROLLER H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RWD
    ",\n" H_POL_AUDITOR ",\n"
    "  \"auditor2\": {\"key\": \"@KEY:auditor2@\", \"roles\": "
    "[\"auditor\"]},\n"
    "  \"admin\": {\"key\": \"@KEY:admin@\", \"region\": \"FI\", "
    "\"roles\": [\"policy_admin\"]}" H_POL_END;

static const char *const key_names[] = {"svc", "auditor", "admin", "auditor2"};
#define NKEYS (sizeof(key_names) / sizeof(key_names[0]))

static int
setup(void **state)
{
	return h_setup(state, key_names, NKEYS, POLICY, NULL);
}

/* The same, with privd on the harness's test clock (offset 0 for now). */
static int
setup_clock(void **state)
{
	static const h_opts o = {.test_clock = true};

	return h_setup_opt(state, key_names, NKEYS, POLICY, NULL, &o);
}

static void
test_follow_takes_no_other_criterion(void **state)
{
	harness *h = *state;
	privd_client *a = client(h, "auditor");
	privd_audit_filter f = {0};
	privd_audit_page *pg = NULL;
	uint64_t before;

	before = head(a);
	f.follow = 1;
	f.principal = "svc";
	/* refused before anything is sent: no event for it */
	expect_rc(a, privd_audit_query(a, &f, NULL, 0, &pg), PRIVD_EINVAL,
	    "follow with a principal");
	assert_null(pg);
	assert_int_equal(head(a), before + 1); /* only head()'s own query */

	/* the shape tail -f uses is fine */
	memset(&f, 0, sizeof(f));
	f.follow = 1;
	f.from_seq = before;
	f.limit = 10;
	f.not_ops = (const char *const[]){"delete"};
	f.nnot_ops = 1;
	expect_rc(
	    a, privd_audit_query(a, &f, NULL, 0, &pg), PRIVD_OK, "follow poll");
	assert_true(pg->n >= 1);
	assert_int_equal(pg->events[0].seq, before);
	privd_audit_page_free(&pg);
	privd_close(&a);
}

/* ---- privctl audit query ------------------------------------------------ */

/* A usage error must not cost a request: with an endpoint where nothing
 * listens, a command that tried to connect would exit 1, not 2. */
static void
test_privctl_unknown_op_is_usage_error(void **state)
{
	harness *h = *state;
	h_result *r = malloc(sizeof(*r));
	char key[H_PATH_MAX + 16], nowhere[H_PATH_MAX + 16];
	const char *bad[][4] = {
	    {"--op", "frobnicate", NULL, NULL},
	    {"--not-op", "audit_queries", NULL, NULL},
	    {"--op", "get", "--not-op", "GET"},
	    {"--request-id", "0", NULL, NULL},
	    {"--request-id", "12x", NULL, NULL},
	};
	size_t i;

	assert_non_null(r);
	assert_int_equal(h_key_file(h, "auditor", key, sizeof(key)), 0);
	snprintf(nowhere, sizeof(nowhere), "ipc://%s/nobody", h->root);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *argv[] = {h->privctl_bin, "--endpoint", nowhere,
		    "--key", key, "--server-key", h->server_key, "--timeout",
		    "300", "audit", "query", bad[i][0], bad[i][1], bad[i][2],
		    bad[i][3], NULL};

		run_expect(h, argv, r, 2, bad[i][0]);
		if (strcmp(bad[i][0], "--request-id") != 0) {
			/* the error lists the names, never what was typed */
			assert_non_null(strstr(r->err, "audit_follow"));
			assert_non_null(strstr(r->err, "audit_prune"));
			assert_null(strstr(r->err, "frobnicate"));
		}
	}
	/* a known name with nowhere to go: it did try (exit 1) */
	{
		const char *argv[] = {h->privctl_bin, "--endpoint", nowhere,
		    "--key", key, "--server-key", h->server_key, "--timeout",
		    "300", "audit", "query", "--op", "audit_follow", NULL};

		run_expect(h, argv, r, 1, "known op, no privd");
	}
	free(r);
}

/* ---- tail -f: audited as a follow ------------------------------------ */

/* Read what fd has into buf (NUL-terminated) by the deadline; 0 on
 * timeout, end of file or a full buffer. */
static int
read_some(int fd, char *buf, size_t size, size_t *len, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int64_t left;
	ssize_t n;

	for (;;) {
		if ((left = deadline - h_now_ms()) <= 0 || *len + 1 >= size)
			return 0;
		if (poll(&p, 1, (int)left) == 1)
			break;
	}
	n = read(fd, buf + *len, size - 1 - *len);
	if (n <= 0)
		return 0;
	*len += (size_t)n;
	buf[*len] = '\0';
	return 1;
}

/* How many times needle occurs in s. */
static size_t
count_of(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

/*
 * The events of principal "auditor" (privctl's) after mark, as seen by
 * a2 (another auditor principal, so that the test's own queries are not
 * among them): how many audit_query and audit_follow events.
 */
static void
count_auditor(privd_client *a2, uint64_t mark, size_t *nquery, size_t *nfollow)
{
	privd_audit_filter f = {0};
	evlist l;
	size_t i;

	f.from_seq = mark + 1;
	f.principal = "auditor";
	collect(a2, &f, &l);
	*nquery = *nfollow = 0;
	for (i = 0; i < l.n; i++) {
		if (strcmp(l.ev[i]->op, "audit_query") == 0)
			(*nquery)++;
		else if (strcmp(l.ev[i]->op, "audit_follow") == 0)
			(*nfollow)++;
	}
	evlist_free(&l);
}

/*
 * tail -f follows three puts, each made once the one before has been
 * printed, so it has polled at least three times. Its polls are not one
 * audit_query event each: privctl's one audit_query is its first query
 * (where the log ends); its follow polls are at most one audit_follow
 * event a minute (two, should a minute turn while the test runs), which
 * it does not print. Nothing is timed: the test learns that privctl knows
 * where the log ends from the log (its first query), then puts.
 */
static void
test_privctl_tail_follow_audited_as_follow(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a2 = client(h, "auditor2");
	char out[8192], subj[16];
	uint64_t mark;
	size_t len = 0, i, nquery = 0, nfollow = 0;
	int64_t deadline;
	int fd, st;
	pid_t pid;

	mark = head(a2);
	out[0] = '\0';
	pid = h_privctl_start(h, "auditor",
	    (const char *[]){"audit", "tail", "-f", "-n", "0", NULL}, &fd);
	assert_true(pid > 0);
	deadline = h_now_ms() + WAIT_MS;
	while (count_auditor(a2, mark, &nquery, &nfollow), nquery == 0) {
		if (h_now_ms() >= deadline)
			fail_msg("tail -f made no query within %d ms", WAIT_MS);
		h_sleep_ms(POLL_MS);
	}
	for (i = 0; i < 3; i++) {
		snprintf(subj, sizeof(subj), "tf-%zu", i);
		put_name(svc, subj, "Followed");
		deadline = h_now_ms() + WAIT_MS;
		while (count_of(out, " svc put customers ") <= i)
			if (!read_some(fd, out, sizeof(out), &len, deadline))
				fail_msg("tail -f did not print put %zu:\n%s",
				    i + 1, out);
	}
	assert_int_equal(kill(pid, SIGINT), 0);
	assert_int_equal(h_privctl_wait(h, WAIT_MS, &st), 0);
	close(fd);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("tail -f ended with wait status %d:\n%s", st, out);
	/* it printed neither its own query nor its follow events */
	assert_null(strstr(out, " auditor "));

	count_auditor(a2, mark, &nquery, &nfollow);
	if (nquery != 1 || nfollow < 1 || nfollow > 2)
		fail_msg("tail -f and three polls or more were audited as %zu "
		         "audit_query and %zu audit_follow events",
		    nquery, nfollow);
	privd_close(&svc);
	privd_close(&a2);
}

/* ---- prune -------------------------------------------------------------- */

static void
test_privctl_audit_prune(void **state)
{
	harness *h = *state;
	privd_client *admin = client(h, "admin"), *a = client(h, "auditor");
	privd_audit_prune_status st;
	h_result *r = malloc(sizeof(*r));
	int64_t deadline;

	assert_non_null(r);
	/* running: nothing paused yet */
	expect_rc(admin, privd_audit_prune(admin, 0, &st), PRIVD_OK, "prune");
	assert_int_equal(st.paused, 0);
	assert_int_equal(st.paused_at_us, 0);
	assert_true(st.retention_s >= st.floor_s);
	assert_true(st.floor_s > 0);
	assert_int_equal(st.oldest_seq, 1);
	assert_true(st.now_us >= st.oldest_time_us);
	/* an auditor reads the log but may not resume deleting it */
	expect_denied(a, privd_audit_prune(a, 0, &st),
	    PRIVD__V1__DENY_REASON__DENY_ROLE_REQUIRED, "auditor");

	privctl_expect(h, "admin", (const char *[]){"audit", "prune", NULL}, r,
	    0, "prune");
	assert_non_null(strstr(r->out, "audit pruning: running\n"));
	assert_non_null(strstr(r->out, "retention: "));
	assert_non_null(strstr(r->out, "oldest event kept: 1 ("));
	assert_null(strstr(r->out, "--confirm"));
	privctl_expect(h, "auditor", (const char *[]){"audit", "prune", NULL},
	    r, 3, "prune as auditor");
	assert_non_null(strstr(r->err, "role_required"));

	/* privd's clock jumps three days forward: pruning pauses */
	assert_int_equal(h_clock_set(h, 3 * 86400), 0);
	deadline = h_now_ms() + WAIT_MS;
	for (;;) {
		expect_rc(admin, privd_audit_prune(admin, 0, &st), PRIVD_OK,
		    "prune while the clock jumps");
		if (st.paused || h_now_ms() >= deadline)
			break;
		h_sleep_ms(POLL_MS);
	}
	assert_int_equal(st.paused, 1);
	assert_true(st.paused_at_us != 0);
	assert_true(
	    st.clock_jump_s >= 2 * 86400 && st.clock_jump_s <= 4 * 86400);

	privctl_expect(h, "admin", (const char *[]){"audit", "prune", NULL}, r,
	    0, "prune, paused");
	assert_non_null(strstr(r->out, "audit pruning: paused since "));
	assert_non_null(strstr(r->out, "jumped 3 days"));
	assert_non_null(strstr(r->out, "privctl audit prune --confirm"));
	privctl_expect(h, "admin",
	    (const char *[]){"--json", "audit", "prune", NULL}, r, 0,
	    "prune --json, paused");
	assert_non_null(strstr(r->out, "\"paused\":true"));
	assert_non_null(strstr(r->out, "\"confirmed\":false"));
	assert_non_null(strstr(r->out, "\"retention_s\":"));
	assert_non_null(strstr(r->out, "\"oldest_seq\":1"));

	/* --confirm resumes it */
	privctl_expect(h, "admin",
	    (const char *[]){"--json", "audit", "prune", "--confirm", NULL}, r,
	    0, "prune --confirm");
	assert_non_null(strstr(r->out, "\"paused\":false"));
	assert_non_null(strstr(r->out, "\"confirmed\":true"));
	expect_rc(admin, privd_audit_prune(admin, 0, &st), PRIVD_OK, "after");
	assert_int_equal(st.paused, 0);
	assert_int_equal(st.paused_at_us, 0);
	privctl_expect(h, "admin", (const char *[]){"audit", "prune", NULL}, r,
	    0, "prune, resumed");
	assert_non_null(strstr(r->out, "audit pruning: running\n"));
	free(r);
	privd_close(&admin);
	privd_close(&a);
}

/* ---- help --------------------------------------------------------------- */

/* 'privctl GROUP CMD --help' shows that command alone, 'GROUP --help' the
 * group's commands; no connection is made. */
static void
test_privctl_command_help(void **state)
{
	harness *h = h_new();
	h_result *r = malloc(sizeof(*r));

	(void)state;
	assert_non_null(h);
	assert_non_null(r);
	h->privctl_bin = getenv("PRIVCTL_BIN");
	run_expect(h,
	    (const char *[]){h->privctl_bin, "audit", "query", "--help", NULL},
	    r, 0, "audit query --help");
	assert_memory_equal(r->out, "usage: privctl [options] audit query ",
	    strlen("usage: privctl [options] audit query "));
	assert_non_null(strstr(r->out, "--not-op OP"));
	assert_non_null(strstr(r->out, "--request-id ID"));
	assert_null(strstr(r->out, "audit tail"));
	assert_null(strstr(r->out, "Exit status"));

	run_expect(h,
	    (const char *[]){h->privctl_bin, "--help", "audit", "prune", NULL},
	    r, 0, "--help audit prune");
	assert_non_null(strstr(r->out, "audit prune [--confirm]\n"));
	assert_non_null(strstr(r->out, "policy_admin"));

	run_expect(h, (const char *[]){h->privctl_bin, "audit", "--help", NULL},
	    r, 0, "audit --help");
	assert_non_null(strstr(r->out, "\n  audit query "));
	assert_non_null(strstr(r->out, "\n  audit tail "));
	assert_non_null(strstr(r->out, "\n  audit prune "));
	assert_null(strstr(r->out, "\n  policy "));

	/* an option another command takes is a usage error here */
	run_expect(h,
	    (const char *[]){h->privctl_bin, "audit", "prune", "--force", NULL},
	    r, 2, "audit prune --force");
	assert_non_null(
	    strstr(r->err, "--force is not an option of audit prune"));
	free(r);
	h_destroy(&h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_follow_takes_no_other_criterion, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_unknown_op_is_usage_error, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_tail_follow_audited_as_follow, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_audit_prune, setup_clock, h_teardown),
	    cmocka_unit_test(test_privctl_command_help),
	};

	return cmocka_run_group_tests_name(
	    "integration/cli_audit", tests, NULL, NULL);
}
