/*
 * test_audit_privctl.c - privctl's audit commands against a real privd:
 * query (human and JSON, by each criterion), tail and tail -f, export,
 * pubkey, verify, their usage errors and exit codes.
 *
 * The test has its own privd with the audit tests' policy
 * (audit_common.h).
 */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
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
#include <sodium.h>

#include "audit_common.h"
#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

/* ---- privctl ---------------------------------------------------------------
 */

static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Deadlines of `audit tail -f`: to make its first query, to print. */
#define FOLLOW_TIMEOUT_MS 10000
#define FOLLOW_POLL_MS    50
#define FOLLOW_MAX_IDS    1024

static int
id_in(const uint64_t *ids, size_t n, uint64_t id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/*
 * The seq of the first audit_query by the auditor after mark that is not
 * one of ids (the test's own queries), or 0. Every query this makes is
 * added to ids.
 */
static uint64_t
foreign_query_after(privd_client *a, uint64_t mark, uint64_t *ids, size_t *nids)
{
	privd_audit_filter f = {0};
	privd_audit_page *pg = NULL, *next;
	uint64_t found = 0;
	size_t i;

	f.from_seq = mark + 1;
	do {
		next = NULL;
		expect_rc(a,
		    privd_audit_query(a, &f, pg ? pg->cursor : NULL,
		        pg ? pg->cursorlen : 0, &next),
		    PRIVD_OK, "audit query");
		assert_true(*nids < FOLLOW_MAX_IDS);
		ids[(*nids)++] = privd_last_request_id(a);
		privd_audit_page_free(&pg);
		pg = next;
		for (i = 0; i < pg->n && found == 0; i++)
			if (strcmp(pg->events[i].principal, "auditor") == 0 &&
			    strcmp(pg->events[i].op, "audit_query") == 0 &&
			    !id_in(ids, *nids, pg->events[i].request_id))
				found = pg->events[i].seq;
	} while (found == 0 && pg->cursor != NULL);
	privd_audit_page_free(&pg);
	return found;
}

/*
 * Read from fd into out (NUL-terminated, *len bytes so far) until a whole
 * line containing needle has arrived (needle NULL: until end of file) or
 * deadline (h_now_ms()) passes. Returns 1 when it came, 0 otherwise.
 */
static int
read_until(int fd, char *out, size_t size, size_t *len, const char *needle,
    int64_t deadline)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	const char *at;
	int64_t left;
	ssize_t got;

	for (;;) {
		if (needle != NULL && (at = strstr(out, needle)) != NULL &&
		    strchr(at, '\n') != NULL)
			return 1;
		left = deadline - h_now_ms();
		if (left <= 0 || *len >= size - 1)
			return 0;
		if (poll(&pfd, 1, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (pfd.revents == 0)
			continue;
		got = read(fd, out + *len, size - 1 - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return 0;
		if (got == 0)
			return needle == NULL;
		*len += (size_t)got;
		out[*len] = '\0';
	}
}

/* The line of out (whole lines only) that starts with seq, or NULL. */
static const char *
line_of(const char *out, uint64_t seq)
{
	char want[32];
	int n = snprintf(want, sizeof(want), "%llu ", (unsigned long long)seq);
	const char *line, *nl;

	for (line = out; (nl = strchr(line, '\n')) != NULL; line = nl + 1)
		if (strncmp(line, want, (size_t)n) == 0)
			return line;
	return NULL;
}

/*
 * Run `privctl audit tail -f -n 0` in the background, make one event,
 * interrupt it: exit 0, and it printed the new events but none of its own
 * polling queries.
 *
 * Nothing is timed: the test learns that privctl has read where the log
 * ends from the log itself (privctl's first audit_query event), makes the
 * event, and reads privctl's output until the event shows. The test's own
 * polling queries are new events too, so privctl prints them; they are
 * told apart by their request ids.
 */
static void
tail_follow(harness *h, privd_client *svc, privd_client *a)
{
	static uint64_t mine[FOLLOW_MAX_IDS];
	const privd_audit_event *e;
	privd_audit_filter f = {0};
	uint64_t mark, started = 0, put_seq = 0, prev = 0;
	unsigned long long seq;
	char out[8192];
	const char *line, *nl, *what, *at;
	size_t len = 0, nmine = 0, i, nput = 0;
	int64_t deadline;
	int fd, st;
	pid_t pid;
	evlist l;

	mark = head(a);
	mine[nmine++] = privd_last_request_id(a);
	out[0] = '\0';
	pid = h_privctl_start(h, "auditor",
	    (const char *[]){"audit", "tail", "-f", "-n", "0", NULL}, &fd);
	assert_true(pid > 0);

	/* its first query is in the log: it knows where the log ends */
	deadline = h_now_ms() + FOLLOW_TIMEOUT_MS;
	while ((started = foreign_query_after(a, mark, mine, &nmine)) == 0) {
		if (h_privctl_wait(h, 0, &st) == 0)
			fail_msg("tail -f ended early with wait status %d", st);
		if (h_now_ms() >= deadline)
			fail_msg("tail -f made no query within %d ms",
			    FOLLOW_TIMEOUT_MS);
		h_sleep_ms(FOLLOW_POLL_MS);
	}

	put1(svc, CUST, "followed", INV, "name", "Followed");
	if (!read_until(fd, out, sizeof(out), &len, " svc put customers ",
	        h_now_ms() + FOLLOW_TIMEOUT_MS))
		fail_msg("tail -f did not print the put within %d ms:\n%s",
		    FOLLOW_TIMEOUT_MS, out);

	assert_int_equal(kill(pid, SIGINT), 0);
	deadline = h_now_ms() + FOLLOW_TIMEOUT_MS;
	if (!read_until(fd, out, sizeof(out), &len, NULL, deadline))
		fail_msg("tail -f did not end within %d ms of SIGINT:\n%s",
		    FOLLOW_TIMEOUT_MS, out);
	close(fd);
	if (h_privctl_wait(h, (int)(deadline - h_now_ms()), &st) != 0)
		fail_msg("tail -f did not exit within %d ms of SIGINT",
		    FOLLOW_TIMEOUT_MS);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("tail -f ended with wait status %d: %s", st, out);

	/* What happened after the mark, to hold the output against. */
	f.from_seq = mark + 1;
	collect(a, &f, &l);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.ev[i]->principal, "svc") == 0) {
			expect_event(l.ev[i], "svc", "put", CUST, INV,
			    (const char *const[]){"name", NULL},
			    PRIVD_DECISION_ALLOWED, S_OK, 0);
			put_seq = l.ev[i]->seq;
			nput++;
		}
	assert_int_equal(nput, 1);
	assert_true(put_seq > started);

	/*
	 * Every line is a new event, in order, once: the put or one of the
	 * test's own queries; none of privctl's own, nothing from before it
	 * started. The put and every query of the test's made after privctl's
	 * first one are there (the test's queries from before that may or may
	 * not be, depending on where privctl's first query read the log).
	 */
	for (line = out; *line != '\0'; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl == NULL || sscanf(line, "%llu ", &seq) != 1 ||
		    seq <= prev || seq <= mark)
			fail_msg("tail -f printed:\n%s", out);
		prev = seq;
		for (i = 0; i < l.n && l.ev[i]->seq != seq; i++)
			;
		if (i == l.n)
			fail_msg("tail -f printed #%llu, not in the log:\n%s",
			    seq, out);
		e = l.ev[i];
		what = NULL;
		if (seq == put_seq)
			what = " svc put customers ";
		else if (strcmp(e->principal, "auditor") == 0 &&
		         strcmp(e->op, "audit_query") == 0 &&
		         id_in(mine, nmine, e->request_id))
			what = " auditor audit_query ";
		if (what == NULL)
			fail_msg("tail -f printed %s (its own query?):\n%s",
			    ev_str(e), out);
		else if ((at = strstr(line, what)) == NULL || at > nl)
			fail_msg("tail -f printed #%llu as:\n%s", seq, out);
	}
	for (i = 0; i < l.n; i++) {
		e = l.ev[i];
		if ((e->seq == put_seq ||
		        (e->seq > started &&
		            id_in(mine, nmine, e->request_id))) &&
		    line_of(out, e->seq) == NULL)
			fail_msg(
			    "tail -f did not print %s:\n%s", ev_str(e), out);
	}
	evlist_free(&l);
}

static void
test_privctl_audit_commands(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	char key[H_PATH_MAX + 16], pkfile[H_PATH_MAX + 16], hex[65];
	char cmd[4 * H_PATH_MAX + 256], pseudo[65], expect[128];
	h_result *r = malloc(sizeof(*r));
	privd_audit_checkpoint *ck = NULL;
	privd_audit_filter f = {0};
	const char *line;
	uint64_t last;
	uint8_t pk[32];
	size_t n;
	evlist l;

	assert_non_null(r);
	assert_int_equal(h_key_file(h, "auditor", key, sizeof(key)), 0);
	put1(svc, CUST, "cli-1", INV, "name", "Cli One");
	put1(svc, NEWS, "cli-1", MKT, "topic", "cycling");
	put1(svc, CUST, "cli-2", INV, "name", "Cli Two");
	f.subject = "cli-1";
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	sodium_bin2hex(pseudo, sizeof(pseudo), l.ev[0]->subject, 32);
	evlist_free(&l);

	/* query --subject --json: one object per line */
	privctl_expect(h, "auditor",
	    (const char *[]){
	        "audit", "query", "--subject", "cli-1", "--json", NULL},
	    r, 0, "audit query --json");
	/* the two puts, and the library's query by subject above */
	assert_int_equal(count_lines(r->out), 3);
	for (line = r->out; *line; line = strchr(line, '\n') + 1) {
		assert_true(strncmp(line, "{\"seq\":", 7) == 0);
		snprintf(expect, sizeof(expect), "\"subject\":\"%s\"", pseudo);
		assert_non_null(strstr(line, expect));
	}
	assert_non_null(strstr(r->out, "\"op\":\"put\",\"register\":"
	                               "\"newsletter\""));
	assert_non_null(strstr(r->out, "\"fields\":[\"topic\"]"));
	assert_non_null(strstr(r->out, "\"decision\":\"allowed\""));
	assert_non_null(strstr(r->out, "\"status\":\"ok\""));
	assert_null(strstr(r->out, "cli-1"));

	/* the human form */
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--subject", "cli-1",
	        "--register", CUST, "--op", "put", NULL},
	    r, 0, "audit query");
	assert_int_equal(count_lines(r->out), 1);
	snprintf(expect, sizeof(expect),
	    "Z svc put customers %.12s name invoicing allowed ok\n", pseudo);
	assert_non_null(strstr(r->out, expect));

	/* --subject REGISTER/SUBJECT: the same, without --register */
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--subject", CUST "/cli-1",
	        "--op", "put", NULL},
	    r, 0, "audit query --subject R/S");
	assert_int_equal(count_lines(r->out), 1);
	assert_non_null(strstr(r->out, expect));

	/* --denied, a time window, --newest --limit */
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--denied", NULL}, r, 0,
	    "audit query --denied");
	assert_string_equal(r->out, "");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--since", "2000-01-01",
	        "--until", "2000-01-02T00:00:00Z", NULL},
	    r, 0, "audit query in 2000");
	assert_string_equal(r->out, "");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--since", "946684800",
	        "--newest", "--limit", "2", NULL},
	    r, 0, "audit query --newest --limit 2");
	assert_int_equal(count_lines(r->out), 2);
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--since", "soon", NULL}, r, 2,
	    "a bad time");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "query", "--since", "2026-02-30", NULL},
	    r, 2, "a date that does not exist");

	/* tail -n 3: the last three, oldest first */
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "tail", "-n", "3", NULL}, r, 0,
	    "audit tail -n 3");
	assert_int_equal(count_lines(r->out), 3);
	{
		unsigned long long s1, s2, s3;
		const char *l2 = strchr(r->out, '\n') + 1;
		const char *l3 = strchr(l2, '\n') + 1;

		assert_int_equal(sscanf(r->out, "%llu", &s1), 1);
		assert_int_equal(sscanf(l2, "%llu", &s2), 1);
		assert_int_equal(sscanf(l3, "%llu", &s3), 1);
		assert_true(s1 + 1 == s2 && s2 + 1 == s3);
	}

	/* export: one line per event, up to the newest when it starts */
	expect_rc(a,
	    privd_audit_checkpoints(a, 0, 0, &ck, &n, NULL, &last, NULL, NULL),
	    PRIVD_OK, "checkpoints");
	privd_free(ck);
	snprintf(cmd, sizeof(cmd),
	    "'%s' --endpoint '%s' --key '%s' --server-key '%s' audit export "
	    "| wc -l",
	    h->privctl_bin, h->endpoint, key, h->server_key);
	run_expect(h, (const char *[]){"/bin/sh", "-c", cmd, NULL}, r, 0,
	    "audit export | wc -l");
	/* everything up to and including the checkpoints call above */
	assert_int_equal(strtoull(r->out, NULL, 10), last + 1);
	privctl_expect(h, "auditor",
	    (const char *[]){
	        "audit", "export", "--from", "2", "--to", "4", NULL},
	    r, 0, "audit export --from 2 --to 4");
	assert_int_equal(count_lines(r->out), 3);
	assert_true(strncmp(r->out, "{\"seq\":2,", 9) == 0);

	/* pubkey, as the library sees it; --out writes it once */
	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	privctl_expect(h, "auditor", (const char *[]){"audit", "pubkey", NULL},
	    r, 0, "audit pubkey");
	snprintf(expect, sizeof(expect), "%s\n", hex);
	assert_string_equal(r->out, expect);
	snprintf(pkfile, sizeof(pkfile), "%s/audit.pub", h->root);
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "pubkey", "--out", pkfile, NULL}, r, 0,
	    "audit pubkey --out");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "pubkey", "--out", pkfile, NULL}, r, 1,
	    "audit pubkey --out over an existing file");

	/* verify: with the pinned key file, and in JSON */
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "verify", "--pubkey", pkfile, NULL}, r, 0,
	    "audit verify");
	assert_true(strncmp(r->out, "audit log verifies: events 1..", 30) == 0);
	assert_non_null(strstr(r->out, " signed checkpoint"));
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "verify", "--json", "--from", "3",
	        "--pubkey", hex, NULL},
	    r, 0, "audit verify --json");
	assert_true(
	    strncmp(r->out, "{\"verified\":true,\"from\":3,\"to\":", 30) == 0);
	privctl_expect(h, "auditor", (const char *[]){"audit", "verify", NULL},
	    r, 0, "audit verify without a pinned key");
	assert_non_null(strstr(r->err, "pubkey --out"));

	/* usage errors cost no request */
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "tail", "--subject", "x", NULL}, r, 2,
	    "tail --subject");
	privctl_expect(h, "auditor",
	    (const char *[]){"audit", "frobnicate", NULL}, r, 2,
	    "unknown audit command");
	privctl_expect(h, "auditor", (const char *[]){"ping", "--newest", NULL},
	    r, 2, "ping --newest");

	/* a service may not read the log: exit 3 */
	privctl_expect(h, "svc", (const char *[]){"audit", "tail", NULL}, r, 3,
	    "tail as svc");
	assert_non_null(strstr(r->err, "role_required"));

	tail_follow(h, svc, a);
	free(r);
	privd_close(&a);
	privd_close(&svc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_privctl_audit_commands, setup, h_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name(
	    "integration/audit_privctl", tests, NULL, NULL);
}
