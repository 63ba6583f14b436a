/*
 * test_audit.c - the audit log end to end: every request is exactly one
 * event with the right fields; queries by subject, register, principal,
 * operation, decision and time, paged in both directions; events survive a
 * SIGKILL; a changed, removed or reordered event is found by the auditor's
 * verifier (libprivd and privctl); no subject id or value reaches the audit
 * database; pruning keeps the rest verifiable; only auditors read the log;
 * privctl's audit commands.
 *
 * Each test has its own privd. The policy: a service "svc" with grants on
 * two registers, an auditor and an admin. svc is the first key, so the
 * harness's readiness pings are svc's.
 */
#define _GNU_SOURCE /* memmem */
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <lmdb.h>
#include <sodium.h>

#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define CUST  "customers"
#define NEWS  "newsletter"
#define INV   "invoicing"
#define MKT   "marketing"
#define CKPTS "5" /* --audit-checkpoint-every */

/* privd.v1.Status and DenyReason values the tests expect. */
#define S_OK        1
#define S_INVALID   2
#define S_DENIED    3
#define S_NOT_FOUND 4

#define R_UNKNOWN_PURPOSE 5
#define R_NO_GRANT        6
#define R_ROLE_REQUIRED   11

#define POL_HEAD                                                               \
	"{\"controller\": {\"name\": \"Test Oy\", \"business_id\": "           \
	"\"1234567-8\"},\n"
#define POL_BODY                                                               \
	" \"registers\": {\n"                                                  \
	"  \"customers\": {\n"                                                 \
	"   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"}},\n" \
	"   \"fields\": {\n"                                                   \
	"     \"name\": {\"category\": \"identity\", \"type\": \"string\"},\n" \
	"     \"email\": {\"category\": \"contact\", \"type\": \"email\"},\n"  \
	"     \"notes\": {\"category\": \"feedback\", \"type\": "              \
	"\"text\"}}},\n"                                                       \
	"  \"newsletter\": {\n"                                                \
	"   \"purposes\": {\"marketing\": {\"legal_basis\": \"consent\"}},\n"  \
	"   \"fields\": {\n"                                                   \
	"     \"email\": {\"category\": \"contact\", \"type\": \"email\"},\n"  \
	"     \"topic\": {\"category\": \"preference\", \"type\": "            \
	"\"string\"}}}},\n"                                                    \
	" \"principals\": {\n"                                                 \
	"  \"svc\": {\"key\": \"@KEY:svc@\", \"region\": \"FI\", \"grants\": " \
	"[\n"                                                                  \
	"    {\"register\": \"customers\", \"purposes\": [\"invoicing\"], "    \
	"\"fields\": [\"*\"], \"ops\": [\"read\", \"write\", \"delete\"]},\n"  \
	"    {\"register\": \"newsletter\", \"purposes\": [\"marketing\"], "   \
	"\"fields\": [\"*\"], \"ops\": [\"read\", \"write\", "                 \
	"\"delete\"]}]},\n"                                                    \
	"  \"auditor\": {\"key\": \"@KEY:auditor@\", \"roles\": "              \
	"[\"auditor\"]},\n"                                                    \
	"  \"admin\": {\"key\": \"@KEY:admin@\", \"region\": \"FI\", "         \
	"\"roles\": [\"policy_admin\"]}}}\n"

static const char POLICY[] = POL_HEAD POL_BODY;
static const char POLICY_SHORT_RETENTION[] =
    POL_HEAD " \"audit\": {\"retention\": \"2 seconds\"},\n" POL_BODY;

static const char *const serve_args[] = {
    "--audit-checkpoint-every", CKPTS, NULL};
/* The largest interval privd accepts: only the idle-time signer signs. */
static const char *const serve_args_no_count_ckpt[] = {
    "--audit-checkpoint-every", "1000000", NULL};

/* ---- set-up ------------------------------------------------------------ */

static int
setup_args(void **state, const char *policy, const char *const *args)
{
	static const char *const names[] = {"svc", "auditor", "admin"};

	return h_setup(
	    state, names, sizeof(names) / sizeof(names[0]), policy, args);
}

static int
setup(void **state)
{
	return setup_args(state, POLICY, serve_args);
}

/* A store whose floor lets a policy keep the log 2 seconds, on the test
 * clock, so that time passes without waiting for it. */
static int
setup_short_retention(void **state)
{
	static const char *const names[] = {"svc", "auditor", "admin"};
	static const char *const init[] = {
	    "--audit-retention-min", "1 second", NULL};
	static const h_opts o = {.init_args = init, .test_clock = true};

	return h_setup_opt(state, names, sizeof(names) / sizeof(names[0]),
	    POLICY_SHORT_RETENTION, serve_args, &o);
}

static int
setup_no_count_ckpt(void **state)
{
	return setup_args(state, POLICY, serve_args_no_count_ckpt);
}

/* Wall-clock microseconds, as privd stamps events. */
static uint64_t
wall_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Restart privd with the audit options of these tests. */
static void
restart(harness *h)
{
	int st;

	if (h_stop(h, H_STOP_TIMEOUT_MS, &st) != 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		fail_msg("privd did not stop cleanly (wait status %d)", st);
	assert_int_equal(h_start(h, serve_args), 0);
}

/* Kill privd without warning: no shutdown, no final checkpoint. */
static void
h_kill(harness *h)
{
	int st;

	assert_true(h->pid > 0);
	assert_int_equal(kill(h->pid, SIGKILL), 0);
	assert_int_equal(waitpid(h->pid, &st, 0), h->pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	h->pid = -1;
	h->last_wstatus = st;
}

static void
put1(privd_client *c, const char *reg, const char *subject, const char *purpose,
    const char *field, const char *value)
{
	privd_field f = h_field(field, value);

	expect_rc(
	    c, privd_put(c, reg, subject, purpose, &f, 1), PRIVD_OK, "put");
}

/* ---- reading the log ----------------------------------------------------- */

/* Every event of a query, all pages; the pages own the events. */
typedef struct evlist {
	privd_audit_page **pages;
	size_t npages;
	const privd_audit_event **ev;
	size_t n;
	size_t npagesread; /* pages privd answered, empty ones included */
} evlist;

static void
evlist_free(evlist *l)
{
	size_t i;

	for (i = 0; i < l->npages; i++)
		privd_audit_page_free(&l->pages[i]);
	free(l->pages);
	free(l->ev);
	memset(l, 0, sizeof(*l));
}

/* Run a query to the end, following cursors. */
static void
collect(privd_client *a, const privd_audit_filter *f, evlist *l)
{
	privd_audit_page *pg = NULL, *prev = NULL;
	size_t i;
	int rc;

	memset(l, 0, sizeof(*l));
	for (;;) {
		rc = privd_audit_query(a, f, prev ? prev->cursor : NULL,
		    prev ? prev->cursorlen : 0, &pg);
		expect_rc(a, rc, PRIVD_OK, "audit query");
		assert_non_null(pg);
		l->npagesread++;
		assert_true(l->npagesread < 100000);
		if (f != NULL && f->limit != 0)
			assert_true(pg->n <= f->limit);
		l->pages =
		    realloc(l->pages, (l->npages + 1) * sizeof(*l->pages));
		l->ev = realloc(l->ev, (l->n + pg->n + 1) * sizeof(*l->ev));
		assert_non_null(l->pages);
		assert_non_null(l->ev);
		l->pages[l->npages++] = pg;
		for (i = 0; i < pg->n; i++)
			l->ev[l->n++] = &pg->events[i];
		if (pg->cursor == NULL)
			break;
		prev = pg;
	}
}

/* A description of an event for failure messages. */
static const char *
ev_str(const privd_audit_event *e)
{
	static char buf[512];

	snprintf(buf, sizeof(buf),
	    "#%llu %s %s reg=%s purpose=%s fields=%zu decision=%d status=%d "
	    "reason=%d",
	    (unsigned long long)e->seq, e->principal, e->op, e->reg, e->purpose,
	    e->nfields, e->decision, e->status, e->reason);
	return buf;
}

static void
dump(const evlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		fprintf(stderr, "  %s\n", ev_str(l->ev[i]));
}

/*
 * Check one event. reg and purpose "" mean none; fields is a
 * NULL-terminated list in the order privd records them.
 */
static void
expect_event(const privd_audit_event *e, const char *principal, const char *op,
    const char *reg, const char *purpose, const char *const *fields,
    int decision, int status, int reason)
{
	size_t n = 0;

	while (fields != NULL && fields[n] != NULL)
		n++;
	if (strcmp(e->principal, principal) != 0 || strcmp(e->op, op) != 0 ||
	    strcmp(e->reg, reg) != 0 || strcmp(e->purpose, purpose) != 0 ||
	    e->decision != decision || e->status != status ||
	    e->reason != reason || e->nfields != n)
		fail_msg("event %s, expected %s %s reg=%s purpose=%s "
		         "fields=%zu decision=%d status=%d reason=%d",
		    ev_str(e), principal, op, reg, purpose, n, decision, status,
		    reason);
	for (n = 0; fields != NULL && fields[n] != NULL; n++)
		assert_string_equal(e->fields[n], fields[n]);
	assert_int_equal(e->policy_version, 1);
	assert_true(e->time_us > 0);
	assert_non_null(e->raw);
	assert_true(e->rawlen > 0);
}

/*
 * The events after *mark: the auditor's previous query (the one that
 * moved the mark), then want - 1 others, with consecutive seqs. Moves the
 * mark to the last one.
 */
static void
after_mark(privd_client *a, uint64_t *mark, size_t want, evlist *l)
{
	privd_audit_filter f = {0};
	size_t i;

	f.from_seq = *mark + 1;
	collect(a, &f, l);
	if (l->n != want) {
		dump(l);
		fail_msg("%zu events after #%llu, expected %zu", l->n,
		    (unsigned long long)*mark, want);
	}
	for (i = 0; i < l->n; i++)
		assert_int_equal(l->ev[i]->seq, *mark + 1 + i);
	expect_event(l->ev[0], "auditor", "audit_query", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_false(l->ev[0]->has_subject);
	assert_true(l->ev[0]->request_id != 0);
	*mark = l->ev[l->n - 1]->seq;
}

/* The newest seq in the log right now (a query, so an event of its own). */
static uint64_t
head(privd_client *a)
{
	privd_audit_filter f = {0};
	privd_audit_page *pg = NULL;
	uint64_t seq;

	f.newest_first = 1;
	f.limit = 1;
	expect_rc(a, privd_audit_query(a, &f, NULL, 0, &pg), PRIVD_OK, "head");
	assert_int_equal(pg->n, 1);
	seq = pg->events[0].seq;
	privd_audit_page_free(&pg);
	return seq;
}

/* Wait until a signed checkpoint covers event seq (privd signs the head
 * within a second); a poll with a deadline. */
static void
wait_signed(privd_client *a, uint64_t seq)
{
	privd_audit_checkpoint *ck = NULL;
	int64_t deadline = h_now_ms() + 10000;
	uint64_t signed_seq;
	size_t n;

	for (;;) {
		n = 0;
		expect_rc(a,
		    privd_audit_checkpoints(
		        a, 0, 0, &ck, &n, NULL, NULL, NULL, NULL),
		    PRIVD_OK, "checkpoints");
		signed_seq = n > 0 ? ck[n - 1].seq : 0;
		privd_free(ck);
		if (signed_seq >= seq)
			return;
		if (h_now_ms() > deadline)
			fail_msg("event %llu not signed within 10 s",
			    (unsigned long long)seq);
		h_sleep_ms(50);
	}
}

static void
verify_ok(privd_client *a, const uint8_t *pk, uint64_t *checked)
{
	char why[200] = "";
	uint64_t bad = 0;
	int rc;

	rc = privd_audit_verify(a, 0, 0, pk, &bad, why, sizeof(why), checked);
	if (rc != PRIVD_OK)
		fail_msg("verify: %s at %llu: %s (%s)", privd_strerror(rc),
		    (unsigned long long)bad, why, privd_errmsg(a));
}

/* ---- every operation is one event ------------------------------------ */

static void
test_every_operation_is_one_event(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_client *admin = client(h, "admin");
	privd_field two[] = {
	    h_field("name", "Ann Example"), h_field("email", "ann@example.fi")};
	const char *const name_notes[] = {"name", "notes"};
	const char *const email[] = {"email"};
	static const char garbage[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff"
	                              "\xff\xff\xff";
	const void *parts[] = {garbage};
	size_t lens[] = {sizeof(garbage) - 1}, nframes, rlen;
	Privd__V1__Response *resp;
	privd_policy_version pv;
	privd_record *rec = NULL;
	uint8_t pseudo[32], *reply;
	privd_audit_filter f = {0};
	h_dealer d;
	uint64_t mark = 0, rid;
	evlist l;

	/* everything so far (the harness's pings): the mark is the head */
	collect(a, NULL, &l);
	assert_true(l.n >= 1);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.ev[i]->seq, i + 1);
		assert_string_equal(l.ev[i]->op, "ping");
	}
	mark = l.ev[l.n - 1]->seq;
	evlist_free(&l);

	expect_rc(svc, privd_ping(svc, NULL), PRIVD_OK, "ping");
	rid = privd_last_request_id(svc);
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "ping", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_false(l.ev[1]->has_subject);
	assert_true(rid != 0);
	assert_int_equal(l.ev[1]->request_id, rid);
	evlist_free(&l);

	expect_rc(
	    svc, privd_put(svc, CUST, "c-1", INV, two, 2), PRIVD_OK, "put");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "put", CUST, INV,
	    (const char *[]){"name", "email", NULL}, PRIVD_DECISION_ALLOWED,
	    S_OK, 0);
	assert_true(l.ev[1]->has_subject);
	memcpy(pseudo, l.ev[1]->subject, sizeof(pseudo));
	assert_int_equal(l.ev[1]->request_id, privd_last_request_id(svc));
	evlist_free(&l);

	/* a get records the fields returned: notes is not stored */
	expect_rc(svc, privd_get(svc, CUST, "c-1", INV, name_notes, 2, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "get", CUST, INV,
	    (const char *[]){"name", NULL}, PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_true(l.ev[1]->has_subject);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	assert_int_equal(l.ev[1]->request_id, privd_last_request_id(svc));
	evlist_free(&l);

	/* get-all: every stored field, in privd's order */
	expect_rc(svc, privd_get(svc, CUST, "c-1", INV, NULL, 0, &rec),
	    PRIVD_OK, "get all");
	assert_int_equal(rec->nfields, 2);
	privd_record_free(&rec);
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "get", CUST, INV,
	    (const char *[]){"email", "name", NULL}, PRIVD_DECISION_ALLOWED,
	    S_OK, 0);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	evlist_free(&l);

	expect_rc(svc, privd_delete(svc, CUST, "c-1", INV, email, 1, NULL),
	    PRIVD_OK, "delete field");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "delete", CUST, INV,
	    (const char *[]){"email", NULL}, PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	evlist_free(&l);

	expect_rc(svc, privd_delete(svc, CUST, "c-1", INV, NULL, 0, NULL),
	    PRIVD_OK, "delete subject");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "delete", CUST, INV, NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	evlist_free(&l);

	/* denials: a purpose the register does not declare, and no grant */
	expect_rc(svc, privd_get(svc, CUST, "c-1", MKT, NULL, 0, &rec),
	    PRIVD_EDENIED, "get for an undeclared purpose");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "get", CUST, "", NULL,
	    PRIVD_DECISION_REFUSED, S_DENIED, R_UNKNOWN_PURPOSE);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	assert_int_equal(l.ev[1]->request_id, privd_last_request_id(svc));
	evlist_free(&l);

	expect_rc(admin, privd_get(admin, CUST, "c-1", INV, NULL, 0, &rec),
	    PRIVD_EDENIED, "get by admin");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "admin", "get", CUST, INV, NULL,
	    PRIVD_DECISION_REFUSED, S_DENIED, R_NO_GRANT);
	evlist_free(&l);

	/* garbage from an authenticated principal: rejected, op invalid */
	assert_int_equal(h_dealer_open(h, "svc", NULL, false, &d), 0);
	assert_int_equal(h_dealer_send(&d, parts, lens, 1), 0);
	assert_int_equal(h_dealer_recv(&d, 5000, &reply, &rlen, &nframes), 0);
	resp = privd__v1__response__unpack(NULL, rlen, reply);
	assert_non_null(resp);
	assert_int_equal(resp->status, PRIVD__V1__STATUS__INVALID);
	privd__v1__response__free_unpacked(resp, NULL);
	free(reply);
	h_dealer_close(&d);
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "invalid", "", "", NULL,
	    PRIVD_DECISION_REJECTED, S_INVALID, 0);
	assert_false(l.ev[1]->has_subject);
	evlist_free(&l);

	/* a subject that does not exist: allowed, not found */
	expect_rc(svc, privd_get(svc, CUST, "c-404", INV, NULL, 0, &rec),
	    PRIVD_ENOTFOUND, "get missing");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "svc", "get", CUST, INV, NULL,
	    PRIVD_DECISION_ALLOWED, S_NOT_FOUND, 0);
	assert_true(l.ev[1]->has_subject);
	assert_memory_not_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	evlist_free(&l);

	expect_rc(
	    admin, privd_policy_get(admin, &pv, NULL), PRIVD_OK, "policy get");
	after_mark(a, &mark, 2, &l);
	expect_event(l.ev[1], "admin", "policy_get", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_int_equal(l.ev[1]->request_id, privd_last_request_id(admin));
	evlist_free(&l);

	/* an audit query by subject names the subject's pseudonym and the
	 * register; the next query sees it */
	f.subject = "c-1";
	f.reg = CUST;
	collect(a, &f, &l);
	assert_int_equal(l.n, 7); /* put, 2 gets, 2 deletes, 2 denials */
	rid = privd_last_request_id(a);
	evlist_free(&l);
	memset(&f, 0, sizeof(f));
	f.from_seq = mark + 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0]->seq, mark + 1);
	assert_int_equal(l.ev[1]->seq, mark + 2);
	expect_event(l.ev[1], "auditor", "audit_query", CUST, "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_true(l.ev[1]->has_subject);
	assert_memory_equal(l.ev[1]->subject, pseudo, sizeof(pseudo));
	assert_int_equal(l.ev[1]->request_id, rid);
	evlist_free(&l);

	privd_close(&admin);
	privd_close(&a);
	privd_close(&svc);
}

/* ---- queries ---------------------------------------------------------- */

static void
expect_seqs_ordered(const evlist *l, int newest_first)
{
	size_t i;

	for (i = 1; i < l->n; i++)
		if (newest_first ? l->ev[i]->seq >= l->ev[i - 1]->seq
		                 : l->ev[i]->seq <= l->ev[i - 1]->seq)
			fail_msg("events out of order at %zu: #%llu after "
			         "#%llu",
			    i, (unsigned long long)l->ev[i]->seq,
			    (unsigned long long)l->ev[i - 1]->seq);
}

static void
test_query_criteria(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_client *admin = client(h, "admin");
	privd_audit_filter f = {0};
	const char *const put_del[] = {"put", "delete"};
	const char *const del[] = {"delete"};
	privd_policy_version pv;
	privd_record *rec = NULL;
	uint8_t alice[32];
	uint64_t t1, t2;
	evlist l, r;
	size_t i;

	/* alice in both registers, bob in one */
	put1(svc, CUST, "alice", INV, "name", "Alice A");
	put1(svc, NEWS, "alice", MKT, "topic", "running");
	put1(svc, CUST, "bob", INV, "name", "Bob B");
	expect_rc(svc, privd_get(svc, CUST, "alice", INV, NULL, 0, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	expect_rc(svc, privd_get(svc, NEWS, "alice", MKT, NULL, 0, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	expect_rc(svc, privd_get(svc, CUST, "bob", INV, NULL, 0, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	expect_rc(svc,
	    privd_delete(svc, NEWS, "alice", MKT,
	        (const char *const[]){"topic"}, 1, NULL),
	    PRIVD_OK, "delete");
	expect_rc(svc, privd_get(svc, CUST, "alice", MKT, NULL, 0, &rec),
	    PRIVD_EDENIED, "denied get");
	expect_rc(admin, privd_policy_get(admin, &pv, NULL), PRIVD_OK, "pg");
	expect_rc(admin, privd_get(admin, CUST, "bob", INV, NULL, 0, &rec),
	    PRIVD_EDENIED, "admin get");

	/* by subject: alice's 6 events in both registers, nothing of bob's */
	f.subject = "alice";
	collect(a, &f, &l);
	if (l.n != 6) {
		dump(&l);
		fail_msg("%zu events of alice, expected 6", l.n);
	}
	expect_seqs_ordered(&l, 0);
	memcpy(alice, l.ev[0]->subject, sizeof(alice));
	for (i = 0; i < l.n; i++) {
		assert_true(l.ev[i]->has_subject);
		assert_memory_equal(l.ev[i]->subject, alice, sizeof(alice));
		assert_string_equal(l.ev[i]->principal, "svc");
	}
	assert_string_equal(l.ev[0]->reg, CUST);
	assert_string_equal(l.ev[1]->reg, NEWS); /* same pseudonym */
	assert_string_equal(l.ev[5]->op, "get");
	assert_int_equal(l.ev[5]->decision, PRIVD_DECISION_REFUSED);

	/* newest first: the same events backwards, after the query just
	 * made, which names alice too */
	f.newest_first = 1;
	collect(a, &f, &r);
	assert_int_equal(r.n, l.n + 1);
	expect_event(r.ev[0], "auditor", "audit_query", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	assert_memory_equal(r.ev[0]->subject, alice, sizeof(alice));
	for (i = 0; i < l.n; i++)
		assert_int_equal(r.ev[i + 1]->seq, l.ev[l.n - 1 - i]->seq);
	evlist_free(&r);
	evlist_free(&l);

	/* --register narrows: put, get and delete in the newsletter */
	f.newest_first = 0;
	f.reg = NEWS;
	collect(a, &f, &l);
	assert_int_equal(l.n, 3);
	for (i = 0; i < l.n; i++) {
		assert_string_equal(l.ev[i]->reg, NEWS);
		assert_memory_equal(l.ev[i]->subject, alice, sizeof(alice));
	}
	assert_string_equal(l.ev[0]->op, "put");
	assert_string_equal(l.ev[1]->op, "get");
	assert_string_equal(l.ev[2]->op, "delete");
	evlist_free(&l);

	/* bob: his own events only */
	memset(&f, 0, sizeof(f));
	f.subject = "bob";
	collect(a, &f, &l);
	assert_int_equal(l.n, 3); /* put, get, admin's denied get */
	for (i = 0; i < l.n; i++)
		assert_memory_not_equal(l.ev[i]->subject, alice, sizeof(alice));
	evlist_free(&l);

	/* by principal */
	memset(&f, 0, sizeof(f));
	f.principal = "admin";
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ev[0]->op, "policy_get");
	assert_string_equal(l.ev[1]->op, "get");
	evlist_free(&l);

	/* by operation, one or several */
	memset(&f, 0, sizeof(f));
	f.ops = del;
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.ev[0]->op, "delete");
	evlist_free(&l);
	f.ops = put_del;
	f.nops = 2;
	collect(a, &f, &l);
	assert_int_equal(l.n, 4);
	for (i = 0; i < l.n; i++)
		assert_true(strcmp(l.ev[i]->op, "put") == 0 ||
		            strcmp(l.ev[i]->op, "delete") == 0);
	evlist_free(&l);

	/* by decision: the two refusals */
	memset(&f, 0, sizeof(f));
	f.decision = PRIVD_DECISION_REFUSED;
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ev[0]->principal, "svc");
	assert_int_equal(l.ev[0]->reason, R_UNKNOWN_PURPOSE);
	assert_string_equal(l.ev[1]->principal, "admin");
	assert_int_equal(l.ev[1]->reason, R_NO_GRANT);
	for (i = 0; i < l.n; i++) {
		assert_int_equal(l.ev[i]->decision, PRIVD_DECISION_REFUSED);
		assert_int_equal(l.ev[i]->status, S_DENIED);
	}
	evlist_free(&l);

	/* a time range around three puts, with sleeps either side */
	h_sleep_ms(20);
	t1 = wall_us();
	h_sleep_ms(20);
	put1(svc, CUST, "carol", INV, "name", "Carol C");
	put1(svc, CUST, "dave", INV, "name", "Dave D");
	put1(svc, CUST, "erin", INV, "name", "Erin E");
	h_sleep_ms(20);
	t2 = wall_us();
	h_sleep_ms(20);
	memset(&f, 0, sizeof(f));
	f.since_us = t1;
	f.until_us = t2;
	collect(a, &f, &l);
	if (l.n != 3) {
		dump(&l);
		fail_msg("%zu events in the time range, expected 3", l.n);
	}
	for (i = 0; i < l.n; i++) {
		assert_string_equal(l.ev[i]->op, "put");
		assert_true(l.ev[i]->time_us >= t1 && l.ev[i]->time_us < t2);
	}
	expect_seqs_ordered(&l, 0);
	evlist_free(&l);
	f.newest_first = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 3);
	expect_seqs_ordered(&l, 1);
	evlist_free(&l);
	/* since alone, with a principal: the same three */
	memset(&f, 0, sizeof(f));
	f.since_us = t1;
	f.principal = "svc";
	collect(a, &f, &l);
	assert_int_equal(l.n, 3);
	evlist_free(&l);
	/* until alone: the puts before t1 */
	memset(&f, 0, sizeof(f));
	f.until_us = t1;
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 3); /* alice twice, bob */
	evlist_free(&l);

	privd_close(&admin);
	privd_close(&a);
	privd_close(&svc);
}

/* ---- paging ------------------------------------------------------------- */

#define NPAGED 250

/* Page through f with limit 7 in both directions: every one of want
 * exactly once, in order. */
static void
expect_paged(
    privd_client *a, privd_audit_filter f, const uint64_t *want, size_t n)
{
	evlist l;
	size_t i;

	f.limit = 7;
	f.newest_first = 0;
	collect(a, &f, &l);
	if (l.n != n) {
		fail_msg("%zu events paged oldest first, expected %zu", l.n, n);
	}
	for (i = 0; i < n; i++)
		assert_int_equal(l.ev[i]->seq, want[i]);
	assert_true(l.npagesread >= n / 7);
	evlist_free(&l);

	f.newest_first = 1;
	collect(a, &f, &l);
	if (l.n != n)
		fail_msg("%zu events paged newest first, expected %zu", l.n, n);
	for (i = 0; i < n; i++)
		assert_int_equal(l.ev[i]->seq, want[n - 1 - i]);
	evlist_free(&l);
}

static void
test_paging_returns_every_event_once(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f = {0};
	uint64_t seqs[NPAGED], t0, t1;
	char subj[32];
	evlist l;
	size_t i;

	t0 = wall_us();
	for (i = 0; i < NPAGED; i++) {
		snprintf(subj, sizeof(subj), "p-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Page Person");
	}
	t1 = wall_us() + 1;
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	f.limit = 1000;
	collect(a, &f, &l);
	assert_int_equal(l.n, NPAGED);
	for (i = 0; i < NPAGED; i++)
		seqs[i] = l.ev[i]->seq;
	/* nothing else happened meanwhile: consecutive */
	assert_int_equal(seqs[NPAGED - 1] - seqs[0], NPAGED - 1);
	evlist_free(&l);

	/* through the principal index */
	memset(&f, 0, sizeof(f));
	f.principal = "svc";
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	expect_paged(a, f, seqs, NPAGED);
	/* through the log itself, by seq range */
	memset(&f, 0, sizeof(f));
	f.from_seq = seqs[0];
	f.to_seq = seqs[NPAGED - 1];
	expect_paged(a, f, seqs, NPAGED);
	/* through the time index */
	memset(&f, 0, sizeof(f));
	f.since_us = t0;
	f.until_us = t1;
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	expect_paged(a, f, seqs, NPAGED);

	/* a cursor from another query is refused, not misread */
	{
		privd_audit_page *pg = NULL;
		static const uint8_t junk[3] = {1, 2, 3};

		expect_rc(a, privd_audit_query(a, NULL, junk, 3, &pg),
		    PRIVD_EINVAL, "bad cursor");
		assert_null(pg);
	}
	privd_close(&a);
	privd_close(&svc);
}

/* ---- durability ---------------------------------------------------------- */

#define NDURABLE 50

static void
test_events_survive_sigkill(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f = {0};
	uint64_t ids[NDURABLE], checked = 0;
	uint8_t pk[32];
	char subj[32];
	evlist l;
	size_t i, k;

	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	for (i = 0; i < NDURABLE; i++) {
		snprintf(subj, sizeof(subj), "d-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Durable Person");
		ids[i] = privd_last_request_id(svc);
	}
	h_kill(h);
	assert_int_equal(h_start(h, serve_args), 0);

	f.principal = "svc";
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, NDURABLE);
	for (i = 0; i < NDURABLE; i++) {
		for (k = 0; k < l.n && l.ev[k]->request_id != ids[i]; k++)
			;
		if (k == l.n)
			fail_msg("the event of put %zu was lost", i);
		assert_int_equal(l.ev[k]->status, S_OK);
	}
	evlist_free(&l);
	verify_ok(a, pk, &checked);
	assert_true(checked >= NDURABLE);
	privd_close(&a);
	privd_close(&svc);
}

/* ---- tampering ------------------------------------------------------------
 */

#define NTAMPER 30

/* The store, opened directly (privd stopped). */
typedef struct rawdb {
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi audit, ckpt;
} rawdb;

static void
raw_open(harness *h, rawdb *r, unsigned txnflags)
{
	assert_int_equal(mdb_env_create(&r->env), 0);
	assert_int_equal(mdb_env_set_maxdbs(r->env, 16), 0);
	assert_int_equal(mdb_env_set_mapsize(r->env, 256u << 20), 0);
	assert_int_equal(mdb_env_open(r->env, h->data_dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(r->env, NULL, txnflags, &r->txn), 0);
	assert_int_equal(mdb_dbi_open(r->txn, "audit", 0, &r->audit), 0);
	assert_int_equal(mdb_dbi_open(r->txn, "audit_ckpt", 0, &r->ckpt), 0);
}

static void
raw_close(rawdb *r, int commit)
{
	if (commit)
		assert_int_equal(mdb_txn_commit(r->txn), 0);
	else
		mdb_txn_abort(r->txn);
	mdb_env_close(r->env);
}

static MDB_val
seq_key(uint8_t kb[8], uint64_t seq)
{
	MDB_val k = {8, kb};
	int i;

	for (i = 7; i >= 0; i--, seq >>= 8)
		kb[i] = (uint8_t)seq;
	return k;
}

static uint64_t
be64(const void *p)
{
	const uint8_t *b = p;
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v = v << 8 | b[i];
	return v;
}

/*
 * A privd with NTAMPER puts by svc, stopped. Returns the seq of a put in
 * the middle (k, with k + 1 also a put) and the pinned signing key.
 */
static uint64_t
tamper_prepare(harness *h, uint8_t pk[32])
{
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f = {0};
	uint64_t k;
	char subj[32];
	evlist l;
	size_t i;
	int st;

	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	for (i = 0; i < NTAMPER; i++) {
		snprintf(subj, sizeof(subj), "t-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Tamper Target");
	}
	f.ops = (const char *const[]){"put"};
	f.nops = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, NTAMPER);
	k = l.ev[NTAMPER / 2]->seq;
	assert_int_equal(l.ev[NTAMPER / 2 + 1]->seq, k + 1);
	evlist_free(&l);
	privd_close(&a);
	privd_close(&svc);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, &st), 0);
	return k;
}

static void
verify_tampered(harness *h, const uint8_t *pk, uint64_t k)
{
	privd_client *a = client(h, "auditor");
	char why[200] = "";
	uint64_t bad = 0, checked = 0;
	int rc;

	rc = privd_audit_verify(a, 0, 0, pk, &bad, why, sizeof(why), &checked);
	if (rc != PRIVD_ETAMPERED)
		fail_msg("verify: expected %s, got %s (%s)",
		    privd_strerror(PRIVD_ETAMPERED), privd_strerror(rc),
		    privd_errmsg(a));
	if (bad != k)
		fail_msg("verify reported event %llu (%s), expected %llu",
		    (unsigned long long)bad, why, (unsigned long long)k);
	assert_true(*why != '\0');
	assert_true(checked < k);
	/* a range that ends before the damage still verifies */
	rc = privd_audit_verify(a, 1, k - 1, pk, &bad, why, sizeof(why), NULL);
	expect_rc(a, rc, PRIVD_OK, "verify up to the event before");
	privd_close(&a);
}

static void
test_tamper_flipped_byte_detected(void **state)
{
	harness *h = *state;
	uint8_t pk[32], *buf;
	char hex[65], msg[64];
	const uint8_t *p;
	h_result *res = malloc(sizeof(*res));
	rawdb r;
	uint64_t k = tamper_prepare(h, pk);
	uint8_t kb[8];
	MDB_val key = seq_key(kb, k), v;
	size_t i;

	assert_non_null(res);
	raw_open(h, &r, 0);
	assert_int_equal(mdb_get(r.txn, r.audit, &key, &v), 0);
	/* change the principal "svc" inside the event into "svd": it still
	 * decodes, as the same seq, but its bytes are not those chained */
	assert_non_null(buf = malloc(v.mv_size));
	memcpy(buf, v.mv_data, v.mv_size);
	p = memmem(buf + 32, v.mv_size - 32, "svc", 3);
	assert_non_null(p);
	i = (size_t)(p - buf) + 2;
	buf[i] ^= 0x07;
	v.mv_data = buf;
	assert_int_equal(mdb_put(r.txn, r.audit, &key, &v, 0), 0);
	raw_close(&r, 1);
	free(buf);
	assert_int_equal(h_start(h, serve_args), 0);

	verify_tampered(h, pk, k);

	/* privctl says so too, exit 7 */
	{
		char keyfile[H_PATH_MAX + 16], text[256];
		const h_key *ak = h_key_get(h, "auditor");
		int n;

		snprintf(keyfile, sizeof(keyfile), "%s/auditor.key", h->root);
		n = snprintf(text, sizeof(text),
		    "public-key = %s\nsecret-key = %s\n", ak->pub, ak->sec);
		assert_int_equal(
		    h_write_file(keyfile, text, (size_t)n, 0600), 0);
		sodium_bin2hex(hex, sizeof(hex), pk, 32);
		assert_int_equal(
		    h_run(h,
		        (const char *[]){h->privctl_bin, "--endpoint",
		            h->endpoint, "--key", keyfile, "--server-key",
		            h->server_key, "audit", "verify", "--pubkey", hex,
		            NULL},
		        H_RUN_TIMEOUT_MS, res),
		    0);
		assert_true(WIFEXITED(res->wstatus));
		if (WEXITSTATUS(res->wstatus) != 7)
			fail_msg("privctl audit verify exited %d: %s%s",
			    WEXITSTATUS(res->wstatus), res->out, res->err);
		snprintf(msg, sizeof(msg),
		    "audit log does NOT verify at event %llu: ",
		    (unsigned long long)k);
		assert_non_null(strstr(res->out, msg));
	}
	free(res);
}

static void
test_tamper_deleted_event_detected(void **state)
{
	harness *h = *state;
	uint8_t pk[32], kb[8];
	uint64_t k = tamper_prepare(h, pk);
	MDB_val key = seq_key(kb, k);
	rawdb r;

	raw_open(h, &r, 0);
	assert_int_equal(mdb_del(r.txn, r.audit, &key, NULL), 0);
	raw_close(&r, 1);
	assert_int_equal(h_start(h, serve_args), 0);
	verify_tampered(h, pk, k);
}

static void
test_tamper_swapped_events_detected(void **state)
{
	harness *h = *state;
	uint8_t pk[32], kb[8], kb2[8], *ek, *ek1;
	uint64_t k = tamper_prepare(h, pk);
	MDB_val k1 = seq_key(kb, k), k2 = seq_key(kb2, k + 1), v, w;
	size_t nk, nk1;
	rawdb r;

	raw_open(h, &r, 0);
	assert_int_equal(mdb_get(r.txn, r.audit, &k1, &v), 0);
	nk = v.mv_size;
	assert_non_null(ek = malloc(nk));
	memcpy(ek, v.mv_data, nk);
	assert_int_equal(mdb_get(r.txn, r.audit, &k2, &v), 0);
	nk1 = v.mv_size;
	assert_non_null(ek1 = malloc(nk1));
	memcpy(ek1, v.mv_data, nk1);
	/* event k+1 (with its hash) under key k, event k under key k+1 */
	v.mv_size = nk1;
	v.mv_data = ek1;
	w.mv_size = nk;
	w.mv_data = ek;
	assert_int_equal(mdb_put(r.txn, r.audit, &k1, &v, 0), 0);
	assert_int_equal(mdb_put(r.txn, r.audit, &k2, &w, 0), 0);
	raw_close(&r, 1);
	free(ek);
	free(ek1);
	assert_int_equal(h_start(h, serve_args), 0);
	verify_tampered(h, pk, k);
}

static void
test_untouched_log_verifies_across_restarts(void **state)
{
	harness *h = *state;
	privd_client *a;
	privd_audit_checkpoint *ck = NULL;
	uint8_t pk[32];
	uint64_t checked = 0, first, last, head_seq, head_ckpt;
	size_t n, i;
	MDB_cursor *cur;
	MDB_val k, v;
	rawdb r;
	int found = 0;

	tamper_prepare(h, pk);
	/* the shutdown checkpoint covers the very last event */
	raw_open(h, &r, MDB_RDONLY);
	assert_int_equal(mdb_cursor_open(r.txn, r.audit, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0);
	head_seq = be64(k.mv_data);
	mdb_cursor_close(cur);
	assert_int_equal(mdb_cursor_open(r.txn, r.ckpt, &cur), 0);
	assert_int_equal(mdb_cursor_get(cur, &k, &v, MDB_LAST), 0);
	head_ckpt = be64(k.mv_data);
	mdb_cursor_close(cur);
	raw_close(&r, 0);
	assert_int_equal(head_ckpt, head_seq);

	assert_int_equal(h_start(h, serve_args), 0);
	a = client(h, "auditor");
	verify_ok(a, pk, &checked);
	assert_true(checked > head_seq);
	expect_rc(a,
	    privd_audit_checkpoints(
	        a, 0, 0, &ck, &n, &first, &last, NULL, NULL),
	    PRIVD_OK, "checkpoints");
	assert_int_equal(first, 1);
	assert_true(last > head_seq);
	assert_true(n >= NTAMPER / 5);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(ck[i].seq > ck[i - 1].seq);
		found |= ck[i].seq == head_seq;
	}
	assert_true(found);
	privd_free(ck);
	privd_close(&a);

	/* and again after another clean restart, and after a SIGKILL */
	restart(h);
	a = client(h, "auditor");
	verify_ok(a, pk, NULL);
	privd_close(&a);
	h_kill(h);
	assert_int_equal(h_start(h, serve_args), 0);
	a = client(h, "auditor");
	verify_ok(a, pk, NULL);
	/* verifying against privd's own word for the key works too */
	verify_ok(a, NULL, NULL);
	/* a range in the middle starts from the stored hash before it */
	expect_rc(a,
	    privd_audit_verify(
	        a, head_seq / 2, head_seq, pk, NULL, NULL, 0, &checked),
	    PRIVD_OK, "verify a range");
	assert_int_equal(checked, head_seq - head_seq / 2 + 1);
	/* a range after the newest event holds nothing to verify */
	expect_rc(a,
	    privd_audit_verify(a, 1000000, 0, pk, NULL, NULL, 0, &checked),
	    PRIVD_OK, "verify after the end");
	assert_int_equal(checked, 0);
	expect_rc(a, privd_audit_verify(a, 5, 4, pk, NULL, NULL, 0, NULL),
	    PRIVD_EINVAL, "verify an empty range");
	/* a wrong key fails at the first checkpoint */
	{
		uint8_t wrong[32];
		uint64_t bad = 0;
		char why[200];

		memcpy(wrong, pk, 32);
		wrong[0] ^= 1;
		expect_rc(a,
		    privd_audit_verify(
		        a, 0, 0, wrong, &bad, why, sizeof(why), NULL),
		    PRIVD_ETAMPERED, "verify with a wrong key");
		assert_true(bad >= 1);
	}
	privd_close(&a);
}

/* ---- no personal data in the audit database ------------------------------ */

static const char *const secrets[] = {"subj-QZXW-4711-audit",
    "subj-JKLP-0815-audit", "Valtteri Zyxwvu-Audit", "zyxwvu.audit@example.fi",
    "feedback-PLMOKN-9931"};

static void
test_no_subject_or_value_in_audit_db(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_field f1[] = {h_field("name", secrets[2]),
	    h_field("email", secrets[3]), h_field("notes", secrets[4])};
	privd_audit_filter f = {0};
	h_needle needles[sizeof(secrets) / sizeof(secrets[0])];
	char path[H_PATH_MAX + 16];
	privd_record *rec = NULL;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_dbi idx;
	rawdb r;
	size_t i, j, nrec = 0;
	evlist l;
	int st, rc;

	expect_rc(
	    svc, privd_put(svc, CUST, secrets[0], INV, f1, 3), PRIVD_OK, "put");
	put1(svc, NEWS, secrets[0], MKT, "email", secrets[3]);
	put1(svc, CUST, secrets[1], INV, "notes", secrets[4]);
	expect_rc(svc, privd_get(svc, CUST, secrets[0], INV, NULL, 0, &rec),
	    PRIVD_OK, "get");
	privd_record_free(&rec);
	expect_rc(svc, privd_get(svc, CUST, secrets[1], MKT, NULL, 0, &rec),
	    PRIVD_EDENIED, "denied get");
	f.subject = secrets[0];
	collect(a, &f, &l);
	assert_int_equal(l.n, 3);
	evlist_free(&l);
	f.subject = secrets[1];
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	evlist_free(&l);
	privd_close(&a);
	privd_close(&svc);
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, &st), 0);

	for (i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		needles[i].data = secrets[i];
		needles[i].len = strlen(secrets[i]);
		needles[i].label = secrets[i];
	}
	/* every key and value of the three audit databases */
	raw_open(h, &r, MDB_RDONLY);
	assert_int_equal(mdb_dbi_open(r.txn, "audit_idx", 0, &idx), 0);
	{
		MDB_dbi dbs[] = {r.audit, idx, r.ckpt};

		for (j = 0; j < 3; j++) {
			assert_int_equal(
			    mdb_cursor_open(r.txn, dbs[j], &cur), 0);
			for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
			     rc == 0;
			     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
				nrec++;
				for (i = 0;
				     i < sizeof(secrets) / sizeof(secrets[0]);
				     i++) {
					if (memmem(k.mv_data, k.mv_size,
					        needles[i].data,
					        needles[i].len) != NULL ||
					    memmem(v.mv_data, v.mv_size,
					        needles[i].data,
					        needles[i].len) != NULL)
						fail_msg("audit database %zu "
						         "holds \"%s\"",
						    j, secrets[i]);
				}
			}
			assert_int_equal(rc, MDB_NOTFOUND);
			mdb_cursor_close(cur);
		}
	}
	raw_close(&r, 0);
	assert_true(nrec > 10);
	/* and the file as a whole, free pages included, and the directory */
	snprintf(path, sizeof(path), "%s/data.mdb", h->data_dir);
	assert_int_equal(h_scan_file(path, needles, 5), 0);
	assert_int_equal(h_scan_dir(h->data_dir, needles, 5), 0);
}

/* ---- pruning ------------------------------------------------------------- */

static void
test_pruning_keeps_the_rest_verifiable(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_checkpoint *ck = NULL, base;
	uint64_t first, last, fresh[7], checked = 0, old_last, t_restart;
	uint64_t old_kept, old_end = 0;
	uint8_t pk[32];
	char subj[32];
	evlist l;
	size_t i, k, n;
	int has_base = 0;

	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	for (i = 0; i < 20; i++) {
		snprintf(subj, sizeof(subj), "old-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Old Event");
	}
	old_last = head(a);
	/* the old events' checkpoint is signed at the old time... */
	wait_signed(a, old_last);
	/* ...and then three seconds pass for privd */
	assert_int_equal(h_clock_set(h, 3), 0);
	h_clock_wait();
	for (i = 0; i < 7; i++) {
		snprintf(subj, sizeof(subj), "new-%zu", i);
		put1(svc, CUST, subj, INV, "name", "Fresh Event");
		fresh[i] = privd_last_request_id(svc);
	}
	/* pruning runs at start */
	t_restart = h_clock_us(h);
	restart(h);

	expect_rc(a,
	    privd_audit_checkpoints(
	        a, 0, 0, &ck, &n, &first, &last, &base, &has_base),
	    PRIVD_OK, "checkpoints");
	privd_free(ck);
	if (first <= 1)
		fail_msg("nothing was pruned (first event %llu)",
		    (unsigned long long)first);
	assert_true(has_base);
	assert_int_equal(base.seq, first - 1);

	verify_ok(a, pk, &checked);
	assert_true(checked >= last - first + 1);

	/* the old events end just before the first fresh put */
	collect(a, NULL, &l);
	assert_true(l.n > 0);
	for (k = 0; k < l.n && old_end == 0; k++)
		if (l.ev[k]->request_id == fresh[0])
			old_end = l.ev[k]->seq - 1;
	assert_true(old_end > old_last);
	/* what is gone is old: up to a checkpoint older than the cutoff */
	assert_true(base.seq <= old_end);
	assert_true(base.time_us < t_restart - 2000000u);

	/* nothing at or before the kept checkpoint; of the old events only
	 * those after it (before the cutoff's checkpoint) may stay */
	assert_int_equal(l.ev[0]->seq, first);
	for (i = 0, old_kept = 0; i < l.n; i++) {
		assert_true(l.ev[i]->seq > base.seq);
		if (l.ev[i]->time_us < t_restart - 2000000u)
			old_kept++;
	}
	if (old_kept > old_end - base.seq)
		fail_msg("%llu old events kept after the checkpoint at %llu; "
		         "the old ones ended at %llu",
		    (unsigned long long)old_kept, (unsigned long long)base.seq,
		    (unsigned long long)old_end);
	assert_true(old_kept < 20);
	/* the fresh puts are all kept */
	for (i = 0; i < 7; i++) {
		for (k = 0; k < l.n && l.ev[k]->request_id != fresh[i]; k++)
			;
		if (k == l.n)
			fail_msg("fresh put %zu was pruned", i);
	}
	evlist_free(&l);
	privd_close(&a);
	privd_close(&svc);
}

/* ---- roles -----------------------------------------------------------------
 */

static void
expect_role_required(privd_client *c, int rc, const char *what)
{
	expect_rc(c, rc, PRIVD_EDENIED, what);
	if (privd_reason(c) != R_ROLE_REQUIRED)
		fail_msg("%s: reason %s, expected role_required", what,
		    privd_reason_name(privd_reason(c)));
}

static void
test_only_auditors_read_the_log(void **state)
{
	harness *h = *state;
	const char *names[] = {"svc", "admin"};
	privd_client *c, *a = client(h, "auditor");
	privd_audit_checkpoint *ck = NULL;
	privd_audit_page *pg = NULL;
	privd_record *rec = NULL;
	uint8_t pk[32];
	size_t i, n;

	for (i = 0; i < 2; i++) {
		c = client(h, names[i]);
		expect_role_required(
		    c, privd_audit_query(c, NULL, NULL, 0, &pg), "query");
		assert_null(pg);
		expect_role_required(c, privd_audit_pubkey(c, pk), "pubkey");
		expect_role_required(c,
		    privd_audit_checkpoints(
		        c, 0, 0, &ck, &n, NULL, NULL, NULL, NULL),
		    "checkpoints");
		assert_null(ck);
		expect_role_required(c,
		    privd_audit_verify(c, 0, 0, NULL, NULL, NULL, 0, NULL),
		    "verify");
		privd_close(&c);
	}
	put1(c = client(h, "svc"), CUST, "c-9", INV, "name", "Role Test");
	privd_close(&c);
	/* the auditor reads the log, never the data */
	expect_rc(a, privd_get(a, CUST, "c-9", INV, NULL, 0, &rec),
	    PRIVD_EDENIED, "auditor get");
	assert_null(rec);
	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "auditor pubkey");
	privd_close(&a);
}

/* ---- privctl ---------------------------------------------------------------
 */

/* root/name.key, mode 0600. */
static void
key_file(harness *h, const char *name, char *out, size_t size)
{
	const h_key *k = h_key_get(h, name);
	char text[256];
	int n;

	snprintf(out, size, "%s/%s.key", h->root, name);
	n = snprintf(text, sizeof(text), "public-key = %s\nsecret-key = %s\n",
	    k->pub, k->sec);
	assert_int_equal(h_write_file(out, text, (size_t)n, 0600), 0);
}

static void
expect_exit(const h_result *r, int code, const char *what)
{
	if (r->timed_out || !WIFEXITED(r->wstatus) ||
	    WEXITSTATUS(r->wstatus) != code)
		fail_msg("%s: expected exit %d, got wait status %d%s\nstdout: "
		         "%s\nstderr: %s",
		    what, code, r->wstatus, r->timed_out ? " (timed out)" : "",
		    r->out, r->err);
}

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

/* The running `privctl audit tail -f`, if any: teardown_follow() kills it
 * when an assertion ends the test before the test does. */
static pid_t follow_pid = -1;

static void
follow_kill(void)
{
	int st;

	if (follow_pid <= 0)
		return;
	kill(follow_pid, SIGKILL);
	waitpid(follow_pid, &st, 0);
	follow_pid = -1;
}

static int
teardown_follow(void **state)
{
	follow_kill();
	return h_teardown(state);
}

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
tail_follow(harness *h, const char *keyfile, privd_client *svc, privd_client *a)
{
	const char *argv[] = {h->privctl_bin, "--endpoint", h->endpoint,
	    "--key", keyfile, "--server-key", h->server_key, "audit", "tail",
	    "-f", "-n", "0", NULL};
	static uint64_t mine[FOLLOW_MAX_IDS];
	const privd_audit_event *e;
	privd_audit_filter f = {0};
	uint64_t mark, started = 0, put_seq = 0, prev = 0;
	unsigned long long seq;
	char out[8192];
	const char *line, *nl, *what, *at;
	size_t len = 0, nmine = 0, i, nput = 0;
	int64_t deadline;
	int p[2], st;
	evlist l;

	mark = head(a);
	mine[nmine++] = privd_last_request_id(a);
	out[0] = '\0';
	assert_int_equal(pipe(p), 0);
	follow_pid = fork();
	assert_true(follow_pid >= 0);
	if (follow_pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);

	/* its first query is in the log: it knows where the log ends */
	deadline = h_now_ms() + FOLLOW_TIMEOUT_MS;
	while ((started = foreign_query_after(a, mark, mine, &nmine)) == 0) {
		if (waitpid(follow_pid, &st, WNOHANG) == follow_pid) {
			follow_pid = -1;
			fail_msg("tail -f ended early with wait status %d", st);
		}
		if (h_now_ms() >= deadline)
			fail_msg("tail -f made no query within %d ms",
			    FOLLOW_TIMEOUT_MS);
		h_sleep_ms(FOLLOW_POLL_MS);
	}

	put1(svc, CUST, "followed", INV, "name", "Followed");
	if (!read_until(p[0], out, sizeof(out), &len, " svc put customers ",
	        h_now_ms() + FOLLOW_TIMEOUT_MS))
		fail_msg("tail -f did not print the put within %d ms:\n%s",
		    FOLLOW_TIMEOUT_MS, out);

	assert_int_equal(kill(follow_pid, SIGINT), 0);
	deadline = h_now_ms() + FOLLOW_TIMEOUT_MS;
	if (!read_until(p[0], out, sizeof(out), &len, NULL, deadline))
		fail_msg("tail -f did not end within %d ms of SIGINT:\n%s",
		    FOLLOW_TIMEOUT_MS, out);
	close(p[0]);
	while (waitpid(follow_pid, &st, WNOHANG) != follow_pid) {
		if (h_now_ms() >= deadline)
			fail_msg("tail -f did not exit within %d ms of SIGINT",
			    FOLLOW_TIMEOUT_MS);
		h_sleep_ms(10);
	}
	follow_pid = -1;
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
	key_file(h, "auditor", key, sizeof(key));
	put1(svc, CUST, "cli-1", INV, "name", "Cli One");
	put1(svc, NEWS, "cli-1", MKT, "topic", "cycling");
	put1(svc, CUST, "cli-2", INV, "name", "Cli Two");
	f.subject = "cli-1";
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	sodium_bin2hex(pseudo, sizeof(pseudo), l.ev[0]->subject, 32);
	evlist_free(&l);

#define PRIVCTL(...)                                                           \
	((const char *[]){h->privctl_bin, "--endpoint", h->endpoint, "--key",  \
	    key, "--server-key", h->server_key, __VA_ARGS__, NULL})

	/* query --subject --json: one object per line */
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "query", "--subject", "cli-1", "--json"),
	        H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit query --json");
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
	assert_int_equal(h_run(h,
	                     PRIVCTL("audit", "query", "--subject", "cli-1",
	                         "--register", CUST, "--op", "put"),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit query");
	assert_int_equal(count_lines(r->out), 1);
	snprintf(expect, sizeof(expect),
	    "Z svc put customers %.12s name invoicing allowed ok\n", pseudo);
	assert_non_null(strstr(r->out, expect));

	/* --subject REGISTER/SUBJECT: the same, without --register */
	assert_int_equal(h_run(h,
	                     PRIVCTL("audit", "query", "--subject",
	                         CUST "/cli-1", "--op", "put"),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit query --subject R/S");
	assert_int_equal(count_lines(r->out), 1);
	assert_non_null(strstr(r->out, expect));

	/* --denied, a time window, --newest --limit */
	assert_int_equal(h_run(h, PRIVCTL("audit", "query", "--denied"),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit query --denied");
	assert_string_equal(r->out, "");
	assert_int_equal(h_run(h,
	                     PRIVCTL("audit", "query", "--since", "2000-01-01",
	                         "--until", "2000-01-02T00:00:00Z"),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit query in 2000");
	assert_string_equal(r->out, "");
	assert_int_equal(h_run(h,
	                     PRIVCTL("audit", "query", "--since", "946684800",
	                         "--newest", "--limit", "2"),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit query --newest --limit 2");
	assert_int_equal(count_lines(r->out), 2);
	assert_int_equal(h_run(h, PRIVCTL("audit", "query", "--since", "soon"),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 2, "a bad time");
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "query", "--since", "2026-02-30"),
	        H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 2, "a date that does not exist");

	/* tail -n 3: the last three, oldest first */
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "tail", "-n", "3"), H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit tail -n 3");
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
	assert_int_equal(h_run(h, (const char *[]){"/bin/sh", "-c", cmd, NULL},
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit export | wc -l");
	/* everything up to and including the checkpoints call above */
	assert_int_equal(strtoull(r->out, NULL, 10), last + 1);
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "export", "--from", "2", "--to", "4"),
	        H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit export --from 2 --to 4");
	assert_int_equal(count_lines(r->out), 3);
	assert_true(strncmp(r->out, "{\"seq\":2,", 9) == 0);

	/* pubkey, as the library sees it; --out writes it once */
	expect_rc(a, privd_audit_pubkey(a, pk), PRIVD_OK, "pubkey");
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "pubkey"), H_RUN_TIMEOUT_MS, r), 0);
	expect_exit(r, 0, "audit pubkey");
	snprintf(expect, sizeof(expect), "%s\n", hex);
	assert_string_equal(r->out, expect);
	snprintf(pkfile, sizeof(pkfile), "%s/audit.pub", h->root);
	assert_int_equal(h_run(h, PRIVCTL("audit", "pubkey", "--out", pkfile),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit pubkey --out");
	assert_int_equal(h_run(h, PRIVCTL("audit", "pubkey", "--out", pkfile),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 1, "audit pubkey --out over an existing file");

	/* verify: with the pinned key file, and in JSON */
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "verify", "--pubkey", pkfile),
	        H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit verify");
	assert_true(strncmp(r->out, "audit log verifies: events 1..", 30) == 0);
	assert_non_null(strstr(r->out, " signed checkpoint"));
	assert_int_equal(h_run(h,
	                     PRIVCTL("audit", "verify", "--json", "--from", "3",
	                         "--pubkey", hex),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 0, "audit verify --json");
	assert_true(
	    strncmp(r->out, "{\"verified\":true,\"from\":3,\"to\":", 30) == 0);
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "verify"), H_RUN_TIMEOUT_MS, r), 0);
	expect_exit(r, 0, "audit verify without a pinned key");
	assert_non_null(strstr(r->err, "pubkey --out"));

	/* usage errors cost no request */
	assert_int_equal(h_run(h, PRIVCTL("audit", "tail", "--subject", "x"),
	                     H_RUN_TIMEOUT_MS, r),
	    0);
	expect_exit(r, 2, "tail --subject");
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "frobnicate"), H_RUN_TIMEOUT_MS, r), 0);
	expect_exit(r, 2, "unknown audit command");
	assert_int_equal(
	    h_run(h, PRIVCTL("ping", "--newest"), H_RUN_TIMEOUT_MS, r), 0);
	expect_exit(r, 2, "ping --newest");

	/* a service may not read the log: exit 3 */
	key_file(h, "svc", key, sizeof(key));
	assert_int_equal(
	    h_run(h, PRIVCTL("audit", "tail"), H_RUN_TIMEOUT_MS, r), 0);
	expect_exit(r, 3, "tail as svc");
	assert_non_null(strstr(r->err, "role_required"));
	key_file(h, "auditor", key, sizeof(key));

	tail_follow(h, key, svc, a);
#undef PRIVCTL
	free(r);
	privd_close(&a);
	privd_close(&svc);
}

/* A time bound and a seq bound together: every criterion holds (the time
 * index walk must skip, not stop at, events before the seq bound). */
static void
test_time_and_seq_bounds_combine(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_filter f;
	evlist l;
	size_t i;
	int k;

	for (k = 0; k < 12; k++)
		expect_rc(svc, privd_ping(svc, NULL), PRIVD_OK, "ping");
	memset(&f, 0, sizeof(f));
	f.since_us = 1;
	f.from_seq = 5;
	f.to_seq = 10;
	collect(a, &f, &l);
	assert_int_equal(l.n, 6);
	for (i = 0; i < l.n; i++)
		assert_int_equal(l.ev[i]->seq, 5 + i);
	evlist_free(&l);

	memset(&f, 0, sizeof(f));
	f.until_us = wall_us() + 3600ull * 1000000;
	f.from_seq = 3;
	f.to_seq = 4;
	f.newest_first = 1;
	collect(a, &f, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.ev[0]->seq, 4);
	assert_int_equal(l.ev[1]->seq, 3);
	evlist_free(&l);
	privd_close(&a);
	privd_close(&svc);
}

/* How soon privd must have signed an idle log's newest event: it promises
 * about a second (CKPT_MAX_UNSIGNED_US in daemon/writer.c); the rest is
 * slack for sanitizer builds. And how long the test waits at most. */
#define IDLE_SIGN_MAX_MS  3000
#define IDLE_SIGN_WAIT_MS 5000
#define IDLE_POLL_MS      100

/*
 * The newest events are signed within about a second, without a shutdown,
 * when too few events came for a checkpoint by count: this privd signs by
 * count only every 1000000 events, so only the idle-time signer can sign
 * the ping. The test's own checkpoint queries are events too and keep
 * moving the head, so it waits for a checkpoint that covers the ping.
 */
static void
test_head_signed_when_idle(void **state)
{
	harness *h = *state;
	privd_client *svc = client(h, "svc"), *a = client(h, "auditor");
	privd_audit_checkpoint *ck = NULL;
	privd_audit_filter f = {0};
	uint64_t ping_seq = 0, last = 0, signed_seq = 0;
	int64_t t0, now, took = -1;
	size_t n, i;
	evlist l;

	t0 = h_now_ms();
	expect_rc(svc, privd_ping(svc, NULL), PRIVD_OK, "ping");

	/* the ping's event: the newest of svc's */
	f.from_seq = 1;
	collect(a, &f, &l);
	for (i = 0; i < l.n; i++)
		if (strcmp(l.ev[i]->principal, "svc") == 0)
			ping_seq = l.ev[i]->seq;
	assert_true(ping_seq > 0);
	for (i = 0; i < l.n && l.ev[i]->seq != ping_seq; i++)
		;
	expect_event(l.ev[i], "svc", "ping", "", "", NULL,
	    PRIVD_DECISION_ALLOWED, S_OK, 0);
	evlist_free(&l);

	for (;;) {
		n = 0;
		expect_rc(a,
		    privd_audit_checkpoints(
		        a, 0, 0, &ck, &n, NULL, &last, NULL, NULL),
		    PRIVD_OK, "checkpoints");
		now = h_now_ms();
		signed_seq = n > 0 ? ck[n - 1].seq : 0;
		privd_free(ck);
		assert_true(signed_seq <= last);
		if (signed_seq >= ping_seq) {
			took = now - t0;
			break;
		}
		if (now - t0 >= IDLE_SIGN_WAIT_MS)
			break;
		h_sleep_ms(IDLE_POLL_MS);
	}
	if (took < 0)
		fail_msg("event #%llu still unsigned after %d ms (newest "
		         "checkpoint #%llu, head #%llu)",
		    (unsigned long long)ping_seq, IDLE_SIGN_WAIT_MS,
		    (unsigned long long)signed_seq, (unsigned long long)last);
	print_message("event #%llu signed within %lld ms\n",
	    (unsigned long long)ping_seq, (long long)took);
	if (took > IDLE_SIGN_MAX_MS)
		fail_msg("event #%llu signed only after %lld ms, expected at "
		         "most %d ms",
		    (unsigned long long)ping_seq, (long long)took,
		    IDLE_SIGN_MAX_MS);
	privd_close(&a);
	privd_close(&svc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_every_operation_is_one_event, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_query_criteria, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_paging_returns_every_event_once, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_events_survive_sigkill, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tamper_flipped_byte_detected, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tamper_deleted_event_detected, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_tamper_swapped_events_detected, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_untouched_log_verifies_across_restarts, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_no_subject_or_value_in_audit_db, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_pruning_keeps_the_rest_verifiable, setup_short_retention,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_only_auditors_read_the_log, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_privctl_audit_commands, setup, teardown_follow),
	    cmocka_unit_test_setup_teardown(
	        test_time_and_seq_bounds_combine, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_head_signed_when_idle, setup_no_count_ckpt, h_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
