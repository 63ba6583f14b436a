/*
 * test_clock.c - neither configuration nor the clock can destroy the audit
 * log (issue 7):
 * - a floor on audit retention, set at init (--audit-retention-min, default
 *   1 year), that no policy goes below: refused at init, at apply and by
 *   privd policy set, naming $.audit.retention;
 * - a clock behind the newest event is refused at start, unless
 *   --clock-behind-ok, and event times never go back;
 * - a forward jump of more than a day, at start or while running, never
 *   prunes by itself: privd serves, logs the jump, reports the pause
 *   (AuditPruneRequest), keeps it across restarts, and prunes only after a
 *   policy_admin confirms;
 * - timed waits run on a monotonic clock: with the wall clock stepped back
 *   or forward, a new event is still signed within about a second.
 *
 * privd's wall clock is the test clock (h_clock_set), so days pass without
 * waiting. The prune operation is spoken raw (h_dealer_call). Each test has
 * its own privd.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "auditlog.h"
#include "checks.h"
#include "harness.h"
#include "privd.pb-c.h"

#define DAY_S 86400LL
#define REG   "customers"
#define INV   "invoicing"

#define POL_HEAD H_POL_CONTROLLER
#define POL_BODY                                                               \
	H_POL_CUSTOMERS H_POL_PRINCIPALS H_POL_SVC_RW                          \
	    ",\n" H_POL_AUDITOR ",\n"                                          \
	    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "              \
	    "[\"policy_admin\"]}" H_POL_END
#define RETENTION(d) " \"audit\": {\"retention\": \"" d "\"},\n"

static const char POL_1_SECOND[] = POL_HEAD RETENTION("1 second") POL_BODY;
static const char POL_2_SECONDS[] = POL_HEAD RETENTION("2 seconds") POL_BODY;
static const char POL_6_DAYS[] = POL_HEAD RETENTION("6 days") POL_BODY;
static const char POL_7_DAYS[] = POL_HEAD RETENTION("7 days") POL_BODY;
static const char POL_2_YEARS[] = POL_HEAD RETENTION("2 years") POL_BODY;

static const char *const keys[] = {"svc", "auditor", "admin"};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* The default floor (1 year) and a policy above it. */
static int
setup_default_floor(void **state)
{
	return h_setup(state, keys, NKEYS, POL_2_YEARS, NULL);
}

/* A floor of 1 second and a policy keeping the log 2 seconds, on the test
 * clock: days pass without waiting, and pruning is visible. */
static int
setup_short(void **state)
{
	static const char *const init[] = {
	    "--audit-retention-min", "1 second", NULL};
	static const h_opts o = {.init_args = init, .test_clock = true};

	return h_setup_opt(state, keys, NKEYS, POL_2_SECONDS, NULL, &o);
}

/* ---- helpers -------------------------------------------------------- */

/* AuditPruneRequest as key; the whole Response. */
static Privd__V1__Response *
prune(harness *h, const char *key, bool confirm)
{
	Privd__V1__Request req = PRIVD__V1__REQUEST__INIT;
	Privd__V1__AuditPruneRequest pr = PRIVD__V1__AUDIT_PRUNE_REQUEST__INIT;

	pr.confirm = confirm;
	req.op_case = PRIVD__V1__REQUEST__OP_AUDIT_PRUNE;
	req.audit_prune = &pr;
	return raw_call(h, key, &req);
}

/* An admin's prune report (confirm false); the caller frees it. */
static Privd__V1__Response *
report(harness *h)
{
	Privd__V1__Response *r = prune(h, "admin", false);

	if (r->status != ST(OK))
		fail_msg(
		    "prune report: status %d (%s)", (int)r->status, r->message);
	assert_int_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_AUDIT_PRUNE);
	return r;
}

static void
put_one(harness *h, const char *subject)
{
	privd_client *c = client(h, "svc");

	put_name(c, subject, "Clock Person");
	privd_close(&c);
}

/* The oldest and newest event kept, and the newest signed checkpoint. */
typedef struct span {
	uint64_t first, last, signed_seq;
} span;

static span
log_span(harness *h)
{
	privd_client *a = client(h, "auditor");
	privd_audit_checkpoint *ck = NULL;
	span s = {0};
	size_t n = 0;

	expect_rc(a,
	    privd_audit_checkpoints(
	        a, 0, 0, &ck, &n, &s.first, &s.last, NULL, NULL),
	    PRIVD_OK, "checkpoints");
	s.signed_seq = n > 0 ? ck[n - 1].seq : 0;
	privd_free(ck);
	privd_close(&a);
	return s;
}

/* audit_wait_signed() as the auditor: the milliseconds until a signed
 * checkpoint covered event seq, or -1 after timeout_ms. */
static int64_t
wait_signed(harness *h, uint64_t seq, int timeout_ms)
{
	privd_client *a = client(h, "auditor");
	int64_t ms = audit_wait_signed(a, seq, timeout_ms);

	privd_close(&a);
	return ms;
}

/* The whole log verifies, against the key privd gives. */
static void
verify_ok(harness *h)
{
	privd_client *a = client(h, "auditor");

	audit_verify_ok(a, NULL, NULL);
	privd_close(&a);
}

static void expect_others_denied(harness *h);

/* ---- the floor -------------------------------------------------------- */

static void
test_floor_refused_at_init(void **state)
{
	static const char *const week[] = {
	    "--audit-retention-min", "7 days", NULL};
	harness *h = h_new();
	h_result res;

	assert_non_null(h);
	for (size_t i = 0; i < NKEYS; i++)
		assert_non_null(h_key_new(h, keys[i]));
	/* default floor 1 year: "1 second" was the way to erase the log */
	assert_int_equal(h_policy_write(h, POL_1_SECOND), 0);
	assert_int_equal(h_init(h, &res), -1);
	assert_false(res.timed_out);
	assert_int_equal(exit_status(&res), 1);
	assert_non_null(strstr(res.err, "$.audit.retention"));

	/* a floor of 7 days: 6 days is under it, 7 days is not */
	h->init_extra = week;
	assert_int_equal(h_policy_write(h, POL_6_DAYS), 0);
	assert_int_equal(h_init(h, &res), -1);
	assert_non_null(strstr(res.err, "$.audit.retention"));
	assert_int_equal(h_policy_write(h, POL_7_DAYS), 0);
	if (h_init(h, &res) != 0)
		fail_msg("init at the floor: %s", res.err);
	h_destroy(&h);
}

static void
expect_apply_invalid(privd_client *c, const char *json)
{
	privd_policy_version v;

	expect_rc(c, privd_policy_get(c, &v, NULL), PRIVD_OK, "policy get");
	expect_rc(c, privd_policy_apply(c, v.version, json, NULL), PRIVD_EINVAL,
	    "apply under the floor");
	assert_non_null(strstr(privd_errmsg(c), "$.audit.retention"));
}

static void
test_floor_refused_at_apply(void **state)
{
	harness *h = *state;
	privd_client *c = client(h, "admin");
	const char *args[] = {
	    "policy", "set", "--data-dir", h->data_dir, h->policy, NULL};
	privd_policy_version v;
	char *under;
	h_result res;

	under = policy_text(h, POL_1_SECOND);
	expect_apply_invalid(c, under);
	free(under);
	/* h->policy holds it too, for privd policy set below */
	under = policy_text(h, POL_6_DAYS);
	expect_apply_invalid(c, under);
	expect_rc(c, privd_policy_get(c, &v, NULL), PRIVD_OK, "policy get");
	assert_int_equal(v.version, 1);
	privd_close(&c);

	/* nor offline: the floor holds for privd policy set too */
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	assert_int_equal(h_run_privd(h, args, H_RUN_TIMEOUT_MS, &res), 0);
	assert_int_equal(exit_status(&res), 1);
	assert_non_null(strstr(res.err, "$.audit.retention"));
	assert_int_equal(h_start(h, NULL), 0);
	c = client(h, "admin");
	expect_rc(c, privd_policy_get(c, &v, NULL), PRIVD_OK, "policy get");
	assert_int_equal(v.version, 1);
	privd_close(&c);
	free(under);
}

/* Without a jump, the report says what is in force: not paused, the
 * default floor of a year, the policy's longer retention. */
static void
test_prune_report_without_jump(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r = report(h);
	Privd__V1__AuditPruneResponse *p = r->audit_prune;
	uint64_t now = h_clock_us(h);

	assert_false(p->paused);
	assert_int_equal(p->paused_at_us, 0);
	assert_int_equal(p->clock_jump_s, 0);
	assert_int_equal(p->floor_s, 365 * DAY_S);
	assert_true(p->retention_s >= 2 * 365 * DAY_S);
	assert_true(p->now_us + 60000000 > now && p->now_us < now + 60000000);
	assert_int_equal(p->oldest_seq, 1);
	assert_true(p->oldest_time_us > 0 && p->oldest_time_us <= p->now_us);
	privd__v1__response__free_unpacked(r, NULL);
	expect_others_denied(h);
}

/* ---- a clock behind the log ------------------------------------------- */

/* Every event's time is at least the one before it. */
static void
times_never_decrease(harness *h)
{
	privd_client *a = client(h, "auditor");
	privd_audit_filter q = {.limit = 1000};
	privd_audit_page *p = NULL;
	uint64_t prev = 0;

	expect_rc(a, privd_audit_query(a, &q, NULL, 0, &p), PRIVD_OK, "query");
	assert_null(p->cursor);
	for (size_t i = 0; i < p->n; i++) {
		if (p->events[i].time_us < prev)
			fail_msg("event %llu is older than the one before",
			    (unsigned long long)p->events[i].seq);
		prev = p->events[i].time_us;
	}
	privd_audit_page_free(&p);
	privd_close(&a);
}

static void
test_clock_behind_refused_at_start(void **state)
{
	static const char *const ok[] = {"--clock-behind-ok", NULL};
	harness *h = *state;
	h_result res;

	put_one(h, "before-step");
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	assert_int_equal(h_clock_set(h, -3600), 0);

	/* its clock is an hour behind its log */
	serve_refused(h, "behind", &res);
	assert_non_null(strstr(res.err, "--clock-behind-ok"));

	assert_int_equal(h_start(h, ok), 0);
	put_one(h, "after-step");
	times_never_decrease(h);
	verify_ok(h);
}

/* ---- forward jumps ---------------------------------------------------- */

/* The report of a pause after a jump of about jump_s seconds. */
static void
expect_paused(harness *h, int64_t jump_s)
{
	Privd__V1__Response *r = report(h);
	Privd__V1__AuditPruneResponse *p = r->audit_prune;
	uint64_t now = h_clock_us(h);

	if (!p->paused)
		fail_msg("pruning is not paused after a jump of %lld s",
		    (long long)jump_s);
	assert_true(p->paused_at_us > 0 && p->paused_at_us <= now + 60000000);
	if ((int64_t)p->clock_jump_s < jump_s - 600 ||
	    (int64_t)p->clock_jump_s > jump_s + 3600)
		fail_msg("clock_jump_s %llu for a jump of %lld s",
		    (unsigned long long)p->clock_jump_s, (long long)jump_s);
	assert_int_equal(p->retention_s, 2);
	assert_int_equal(p->floor_s, 1);
	assert_true(p->now_us + 60000000 > now && p->now_us < now + 60000000);
	assert_int_equal(p->oldest_seq, 1);
	assert_true(p->oldest_time_us > 0);
	assert_true(p->oldest_time_us < now - DAY_S * 1000000);
	privd__v1__response__free_unpacked(r, NULL);
}

/* Only a policy_admin may confirm (or even look). */
static void
expect_others_denied(harness *h)
{
	static const char *const others[] = {"svc", "auditor"};

	for (size_t i = 0; i < 2; i++) {
		for (int confirm = 0; confirm < 2; confirm++) {
			Privd__V1__Response *r = prune(h, others[i], confirm);

			if (r->status != ST(DENIED))
				fail_msg("prune (confirm %d) by %s: status %d",
				    confirm, others[i], (int)r->status);
			assert_int_equal(r->reason,
			    PRIVD__V1__DENY_REASON__DENY_ROLE_REQUIRED);
			privd__v1__response__free_unpacked(r, NULL);
		}
	}
}

/* Old events (up to old_last) are all still there. */
static void
expect_kept(harness *h, uint64_t old_last)
{
	span s = log_span(h);

	if (s.first != 1)
		fail_msg("events 1..%llu were pruned while paused",
		    (unsigned long long)s.first - 1);
	assert_true(s.last > old_last);
}

/* An admin confirms: the pause ends and the old events go. */
static void
confirm_and_expect_pruned(harness *h, uint64_t old_last)
{
	Privd__V1__Response *r = prune(h, "admin", true);
	int64_t deadline = h_now_ms() + 15000;
	span s;

	if (r->status != ST(OK))
		fail_msg("confirm: status %d (%s)", (int)r->status, r->message);
	privd__v1__response__free_unpacked(r, NULL);
	r = report(h);
	assert_false(r->audit_prune->paused);
	assert_int_equal(r->audit_prune->paused_at_us, 0);
	privd__v1__response__free_unpacked(r, NULL);
	while ((s = log_span(h)).first <= old_last) {
		if (h_now_ms() > deadline)
			fail_msg("old events up to %llu not pruned after the "
			         "confirmation (oldest kept: %llu)",
			    (unsigned long long)old_last,
			    (unsigned long long)s.first);
		h_sleep_ms(50);
	}
	verify_ok(h);
}

/* svc's data is served as usual. */
static void
still_serving(harness *h, const char *subject)
{
	privd_client *c = client(h, "svc");
	privd_record *rec = NULL;

	put_one(h, subject);
	expect_rc(
	    c, privd_get(c, REG, subject, INV, NULL, 0, &rec), PRIVD_OK, "get");
	privd_record_free(&rec);
	privd_close(&c);
}

static void
test_jump_at_start_pauses_pruning(void **state)
{
	harness *h = *state;
	uint64_t old_last;
	size_t mark;

	for (int i = 0; i < 5; i++)
		put_one(h, "old");
	old_last = log_span(h).last;
	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);

	/* a weekend of downtime, or a wrong clock */
	assert_int_equal(h_clock_set(h, 2 * DAY_S), 0);
	mark = h_log_size(h);
	assert_int_equal(h_start(h, NULL), 0);
	assert_int_equal(h_log_wait(h, mark, "jump", 1, 5000), 1);
	still_serving(h, "after-jump");
	/* the start's pruning left everything (retention is 2 s) */
	expect_kept(h, old_last);
	expect_paused(h, 2 * DAY_S);
	expect_others_denied(h);
	expect_paused(h, 2 * DAY_S);

	/* the pause is kept in the store */
	assert_int_equal(h_restart(h), 0);
	expect_kept(h, old_last);
	expect_paused(h, 2 * DAY_S);

	confirm_and_expect_pruned(h, old_last);
	still_serving(h, "after-confirm");
}

static void
test_jump_while_running_pauses_pruning(void **state)
{
	harness *h = *state;
	uint64_t old_last;
	size_t mark;

	for (int i = 0; i < 5; i++)
		put_one(h, "old");
	old_last = log_span(h).last;
	assert_true(wait_signed(h, old_last, 10000) >= 0);

	mark = h_log_size(h);
	assert_int_equal(h_clock_set(h, 2 * DAY_S), 0);
	h_clock_wait();
	/* privd notices by itself; requests keep it busy meanwhile */
	for (int64_t deadline = h_now_ms() + 10000;
	     h_log_count(h, mark, "jump") == 0 && h_now_ms() < deadline;)
		still_serving(h, "during-jump");
	assert_int_equal(h_log_count(h, mark, "jump"), 1);
	expect_paused(h, 2 * DAY_S);
	expect_others_denied(h);

	/* a restart prunes what is old - unless paused */
	assert_int_equal(h_restart(h), 0);
	expect_kept(h, old_last);
	expect_paused(h, 2 * DAY_S);

	confirm_and_expect_pruned(h, old_last);
	still_serving(h, "after-confirm");
}

/* ---- timed waits ------------------------------------------------------ */

static void
expect_signed_soon(harness *h, const char *what)
{
	uint64_t seq;
	int64_t ms;

	put_one(h, what);
	seq = log_span(h).last; /* the put is at or before it */
	/* privd signs within a second; a timer on the wall clock would
	 * wait an hour longer (or fire two days early) */
	ms = wait_signed(h, seq, 5000);
	if (ms < 0)
		fail_msg("%s: event %llu not signed within 5 s", what,
		    (unsigned long long)seq);
	print_message("%s: signed within %lld ms\n", what, (long long)ms);
}

static void
test_checkpoint_timer_ignores_clock_steps(void **state)
{
	harness *h = *state;

	expect_signed_soon(h, "steady");
	assert_int_equal(h_clock_set(h, -3600), 0);
	h_clock_wait();
	expect_signed_soon(h, "an hour back");
	assert_int_equal(h_clock_set(h, 2 * DAY_S), 0);
	h_clock_wait();
	expect_signed_soon(h, "two days on");
	times_never_decrease(h);
	verify_ok(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_floor_refused_at_init),
	    cmocka_unit_test_setup_teardown(
	        test_floor_refused_at_apply, setup_default_floor, h_teardown),
	    cmocka_unit_test_setup_teardown(test_prune_report_without_jump,
	        setup_default_floor, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_clock_behind_refused_at_start, setup_short, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_jump_at_start_pauses_pruning, setup_short, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_jump_while_running_pauses_pruning, setup_short,
	        h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_checkpoint_timer_ignores_clock_steps, setup_short,
	        h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/clock", tests, NULL, NULL);
}
