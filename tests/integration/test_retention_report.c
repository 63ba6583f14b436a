/*
 * test_retention_report.c - Aggregate, reporting over live subjects and
 * anonymous records (issue 9), on a policy of its own: who may ask
 * (a statistical purpose, a read grant on the field and on the group_by
 * field), what is refused (group_by an identifying field or the field
 * itself, unknown and empty names), what the answer holds (count only for
 * a non-integer field; the records with the field; the records without a
 * group_by value as the missing group, last; groups under
 * reporting.min_group, 5 by default, suppressed, and then the smallest
 * shown group too while what is suppressed is fewer records than the
 * minimum: complementary suppression; nothing for a register with no
 * data), that a statistical purpose reads aggregates only (its get, put
 * and delete refused even with grants for them), and that after a
 * contract-end purge nothing is counted, anonymous records included.
 *
 * A real privd on the test clock, sweeping only when asked; Aggregate is
 * spoken raw (retention_common.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "retention_views.h"

/*
 * Register survey: purposes ops (not statistical) and stats
 * (statistical); fields name (identifying), score (integer), segment,
 * comment (text), region; every field anonymised a year after it was
 * collected (anon-1y) and purged at contract end. Register empty: score
 * only, never written. Principals: writer (read and write of survey for
 * ops, of empty for stats), reporter (read of survey for stats, all but
 * region; of empty for stats), analyst (read, write and delete of every
 * field of survey for stats: grants that a statistical purpose does not
 * honour for single subjects), admin (policy_admin), auditor. MIN is the
 * policy's reporting section (empty: none, the default 5).
 */
#define REPORT_POLICY(MIN)                                                     \
	H_POL_CONTROLLER MIN                                                   \
	    " \"registers\": {\n"                                              \
	    "  \"survey\": {\n"                                                \
	    "   \"purposes\": {\"ops\": {\"legal_basis\": \"contract\"},\n"    \
	    "    \"stats\": {\"legal_basis\": \"legitimate_interest\", "       \
	    "\"statistical\": true}},\n"                                       \
	    "   \"fields\": {\n"                                               \
	    "    \"name\": {\"category\": \"identity\", \"type\": "            \
	    "\"string\", \"identifying\": true},\n"                            \
	    "    \"score\": {\"category\": \"feedback\", \"type\": "           \
	    "\"integer\"},\n"                                                  \
	    "    \"segment\": {\"category\": \"classification\", \"type\": "   \
	    "\"string\"},\n"                                                   \
	    "    \"comment\": {\"category\": \"feedback\", \"type\": "         \
	    "\"text\"},\n"                                                     \
	    "    \"region\": {\"category\": \"classification\", \"type\": "    \
	    "\"string\"}},\n"                                                  \
	    "   \"retention\": [\n"                                            \
	    "    {\"id\": \"anon-1y\", \"categories\": [\"*\"], \"from\": "    \
	    "\"collected\", \"after\": \"1 year\", \"action\": "               \
	    "\"anonymize\"},\n"                                                \
	    "    {\"id\": \"contract-end\", \"categories\": [\"*\"], "         \
	    "\"from\": \"contract_end\", \"after\": \"0 days\", \"action\": "  \
	    "\"delete\"}]},\n"                                                 \
	    "  \"empty\": {\n"                                                 \
	    "   \"purposes\": {\"stats\": {\"legal_basis\": "                  \
	    "\"legitimate_interest\", \"statistical\": true}},\n"              \
	    "   \"fields\": {\"score\": {\"category\": \"feedback\", "         \
	    "\"type\": \"integer\"}}}},\n"                                     \
	    " \"principals\": {\n"                                             \
	    "  \"writer\": {\"key\": \"@KEY:writer@\", \"grants\": [\n"        \
	    "   {\"register\": \"survey\", \"purposes\": [\"ops\"], "          \
	    "\"fields\": [\"*\"], \"ops\": [\"read\", \"write\"]},\n"          \
	    "   {\"register\": \"empty\", \"purposes\": [\"stats\"], "         \
	    "\"fields\": [\"*\"], \"ops\": [\"read\"]}]},\n"                   \
	    "  \"reporter\": {\"key\": \"@KEY:reporter@\", \"grants\": [\n"    \
	    "   {\"register\": \"survey\", \"purposes\": [\"stats\"], "        \
	    "\"fields\": [\"name\", \"score\", \"segment\", \"comment\"], "    \
	    "\"ops\": [\"read\"]},\n"                                          \
	    "   {\"register\": \"empty\", \"purposes\": [\"stats\"], "         \
	    "\"fields\": [\"*\"], \"ops\": [\"read\"]}]},\n"                   \
	    "  \"analyst\": {\"key\": \"@KEY:analyst@\", \"grants\": [\n"      \
	    "   {\"register\": \"survey\", \"purposes\": [\"stats\"], "        \
	    "\"fields\": [\"*\"], \"ops\": [\"read\", \"write\", "             \
	    "\"delete\"]}]},\n"                                                \
	    "  \"admin\": {\"key\": \"@KEY:admin@\", \"roles\": "              \
	    "[\"policy_admin\"]},\n"                                           \
	    "  \"auditor\": {\"key\": \"@KEY:auditor@\", \"roles\": "          \
	    "[\"auditor\"]}}}\n"

#define SURVEY "survey"

static int
setup(void **state)
{
	static const char *const keys[] = {
	    "writer", "reporter", "analyst", "admin", "auditor"};
	static const h_opts o = {.test_clock = true};

	ret_admin = "admin";
	return h_setup_opt(state, keys, sizeof(keys) / sizeof(keys[0]),
	    REPORT_POLICY(""), ret_serve_args, &o);
}

/* writer puts subject's fields: score, segment, comment (NULL: not
 * written) and a name. */
static void
put_row(harness *h, const char *subject, const char *score, const char *segment,
    const char *comment)
{
	privd_client *c = client(h, "writer");
	privd_field f[4];
	size_t n = 0;

	f[n++] = h_field("name", "Vastaaja");
	if (score != NULL)
		f[n++] = h_field("score", score);
	if (segment != NULL)
		f[n++] = h_field("segment", segment);
	if (comment != NULL)
		f[n++] = h_field("comment", comment);
	expect_rc(c, privd_put(c, SURVEY, subject, "ops", f, n), PRIVD_OK,
	    "writer put");
	privd_close(&c);
}

/* An Aggregate that must fail with status st (and reason, for DENIED). */
static void
agg_refused(harness *h, const char *key, const char *purpose, const char *reg,
    const char *field, const char *group_by, int st, int reason,
    const char *what)
{
	Privd__V1__Response *r =
	    aggregate(h, key, purpose, reg, field, group_by);

	expect_status(r, st, reason, what);
	assert_int_not_equal(
	    r->payload_case, PRIVD__V1__RESPONSE__PAYLOAD_AGGREGATE);
	assert_true(r->message != NULL && r->message[0] != '\0');
	privd__v1__response__free_unpacked(r, NULL);
}

/* The rows of test_aggregate_groups: 5 with score (1..5, sum 15),
 * segment a and a comment, 2 with score (10, 20) and segment b, 6 with a
 * score (-3..100, sum 107) and no segment, 3 with segment a and no score,
 * 1 with only a comment (and the name every row has). No two groups by
 * segment are the same size, so which one complementary suppression
 * takes never depends on how privd breaks a tie. */
static void
put_rows(harness *h)
{
	static const char *const a[] = {"1", "2", "3", "4", "5"};
	static const char *const none[] = {"-3", "0", "7", "100", "4", "-1"};
	char s[16];
	size_t i;

	for (i = 0; i < 5; i++) {
		snprintf(s, sizeof(s), "a-%zu", i);
		put_row(h, s, a[i], "a", "fine");
	}
	for (i = 0; i < 6; i++) {
		snprintf(s, sizeof(s), "n-%zu", i);
		put_row(h, s, none[i], NULL, NULL);
	}
	put_row(h, "b-0", "10", "b", NULL);
	put_row(h, "b-1", "20", "b", NULL);
	for (i = 0; i < 3; i++) {
		snprintf(s, sizeof(s), "x-%zu", i);
		put_row(h, s, NULL, "a", NULL);
	}
	put_row(h, "c-0", NULL, NULL, "fine");
}

/*
 * Refused: a purpose that is not statistical (DENIED, even with a read
 * grant for it), a purpose without a grant, a field or a group_by field
 * outside the grant (DENIED), group_by an identifying field that is
 * granted, or the field itself (INVALID), unknown register, purpose,
 * field or group_by field (DENIED), empty register, purpose or field
 * (INVALID), a principal with no grant. Each is one aggregate event,
 * refused, with no subject; and the data's aggregates are what they were.
 */
static void
test_aggregate_refused(void **state)
{
	harness *h = *state;
	privd_client *a;
	privd_audit_filter f = {0};
	static const char *const agg[] = {"aggregate"};
	Privd__V1__Response *r;
	evlist l = {0};
	size_t i, refused = 0;

	put_rows(h);
	agg_refused(h, "writer", "ops", SURVEY, "score", NULL, ST(DENIED), 0,
	    "a purpose that is not statistical");
	agg_refused(h, "writer", "ops", SURVEY, "score", "segment", ST(DENIED),
	    0, "a purpose that is not statistical, grouped");
	agg_refused(h, "reporter", "ops", SURVEY, "score", NULL, ST(DENIED),
	    R_NO_GRANT, "no grant for the purpose");
	agg_refused(h, "reporter", "stats", SURVEY, "region", NULL, ST(DENIED),
	    R_FIELD_NOT_GRANTED, "the field is not granted");
	agg_refused(h, "reporter", "stats", SURVEY, "score", "region",
	    ST(DENIED), R_FIELD_NOT_GRANTED, "group_by is not granted");
	agg_refused(h, "reporter", "stats", SURVEY, "score", "name",
	    ST(INVALID), 0, "group_by an identifying field");
	agg_refused(h, "reporter", "stats", SURVEY, "score", "score",
	    ST(INVALID), 0, "group_by the field itself");
	agg_refused(h, "reporter", "stats", "no-such-register", "score", NULL,
	    ST(DENIED), R_UNKNOWN_REGISTER, "unknown register");
	agg_refused(h, "reporter", "no-such-purpose", SURVEY, "score", NULL,
	    ST(DENIED), R_UNKNOWN_PURPOSE, "unknown purpose");
	agg_refused(h, "reporter", "stats", SURVEY, "no-such-field", NULL,
	    ST(DENIED), R_UNKNOWN_FIELD, "unknown field");
	agg_refused(h, "reporter", "stats", SURVEY, "score", "no-such-field",
	    ST(DENIED), R_UNKNOWN_FIELD, "unknown group_by field");
	agg_refused(h, "reporter", "stats", "", "score", NULL, ST(INVALID), 0,
	    "empty register");
	agg_refused(h, "reporter", "stats", SURVEY, "", NULL, ST(INVALID), 0,
	    "empty field");
	agg_refused(h, "reporter", "", SURVEY, "score", NULL, ST(INVALID), 0,
	    "empty purpose");
	agg_refused(h, "admin", "stats", SURVEY, "score", NULL, ST(DENIED), 0,
	    "a principal without grants");

	/* one event each, refused or rejected, none naming a subject */
	a = client(h, "auditor");
	f.ops = agg;
	f.nops = 1;
	collect(a, &f, &l);
	privd_close(&a);
	assert_int_equal(l.n, 15);
	for (i = 0; i < l.n; i++) {
		assert_false(l.ev[i]->has_subject);
		assert_int_not_equal(l.ev[i]->decision, PRIVD_DECISION_ALLOWED);
		assert_int_not_equal(l.ev[i]->status, ST(OK));
		if (l.ev[i]->decision == PRIVD_DECISION_REFUSED)
			refused++;
	}
	assert_int_equal(refused, 10);
	evlist_free(&l);

	/* what may be asked still answers */
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", NULL);
	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, "", 13, 152, -3, 100);
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * What the answers hold: an integer field counted only where it is
 * stored, with its sum, mean, min and max; grouped, the records without a
 * segment as the missing group, and the group of 2 suppressed, and with
 * it the smallest group shown (complementary suppression, whether that
 * is a segment or the missing group, down to no group at all); a text or
 * string field counted only (integer false, no statistics); a register
 * with no data answers no group; a policy with reporting.min_group 2
 * shows the group of 2, and the missing group last.
 */
static void
test_aggregate_groups(void **state)
{
	harness *h = *state;
	privd_client *admin;
	Privd__V1__Response *r;
	uint64_t v = 0;
	char *doc;

	put_rows(h);
	/* score by segment: a 5, b 2, missing 6 (13 in all, sum 152). b is
	 * under 5: suppressed. Shown beside a and the missing group, the
	 * total would give b away: 13 - 5 - 6 = 2 records, sum 152 - 15 -
	 * 107 = 30. So the smallest shown group, a, goes too: 2 + 5 = 7
	 * suppressed records, not fewer than 5, and 13 - 6 = 7 is a and b
	 * together */
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", "segment");
	expect_agg(r, 1, 2, 7, 5, true);
	expect_group(r, NULL, 6, 107, -3, 100);
	assert_null(agg_group(r, "a"));
	assert_null(agg_group(r, "b"));
	privd__v1__response__free_unpacked(r, NULL);

	/* a string, a text field: counts only */
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "segment", NULL);
	expect_agg(r, 1, 0, 0, 5, false);
	expect_group(r, "", 10, 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	/* comment: 6 in all, a 5 and missing 1; shown, a would leave the
	 * one record without a segment as 6 - 5: both suppressed, nothing
	 * shown */
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "comment", NULL);
	expect_agg(r, 1, 0, 0, 5, false);
	expect_group(r, "", 6, 0, 0, 0);
	privd__v1__response__free_unpacked(r, NULL);
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "comment", "segment");
	expect_agg(r, 0, 2, 6, 5, false);
	privd__v1__response__free_unpacked(r, NULL);
	/* an identifying field may be counted, not grouped by: a 8, b 2,
	 * missing 7 (17); b suppressed, then the smaller shown group, the
	 * missing one (7 < 8): 2 + 7 = 9 suppressed, a shown */
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "name", "segment");
	expect_agg(r, 1, 2, 9, 5, false);
	expect_group(r, "a", 8, 0, 0, 0);
	assert_null(agg_group(r, NULL));
	privd__v1__response__free_unpacked(r, NULL);

	/* no data at all */
	r = aggregate_ok(h, "reporter", "stats", "empty", "score", NULL);
	expect_agg(r, 0, 0, 0, 5, true);
	privd__v1__response__free_unpacked(r, NULL);
	r = aggregate_ok(h, "writer", "stats", "empty", "score", NULL);
	expect_agg(r, 0, 0, 0, 5, true);
	privd__v1__response__free_unpacked(r, NULL);

	/* the policy's own minimum */
	admin = client(h, "admin");
	doc = policy_text(h, REPORT_POLICY(" \"reporting\": {\"min_group\": "
	                                   "2},\n"));
	expect_rc(admin, privd_policy_apply(admin, 1, doc, &v), PRIVD_OK,
	    "apply min_group 2");
	free(doc);
	privd_close(&admin);
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", "segment");
	expect_agg(r, 3, 0, 0, 2, true);
	expect_group(r, "a", 5, 15, 1, 5);
	expect_group(r, "b", 2, 30, 10, 20);
	expect_group(r, NULL, 6, 107, -3, 100);
	privd__v1__response__free_unpacked(r, NULL);
}

/* The rows of survey, subjects prefix-0..n-1 with score i+1, segment a. */
static void
put_scores(harness *h, const char *prefix, size_t n)
{
	char s[32], v[24];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(s, sizeof(s), "%s-%zu", prefix, i);
		snprintf(v, sizeof(v), "%zu", i + 1);
		put_row(h, s, v, "a", NULL);
	}
}

/*
 * Anonymised records count with live ones until the contract ends; the
 * purge destroys both (the sweep counts the anonymous records), and the
 * aggregates count nothing, grouped or not.
 */
static void
test_aggregate_after_purge(void **state)
{
	harness *h = *state;
	const Privd__V1__RetentionCount *c;
	Privd__V1__Response *r;
	uint64_t from;
	ret_evs v;
	size_t i, anon_events = 0;
	int64_t t0;

	t0 = (int64_t)h_clock_us(h);
	put_scores(h, "old", 6);
	clock_to(h, add_months(t0, 13));
	r = sweep(h);
	expect_count(r, SURVEY, "anon-1y", 18, 6, 0);
	assert_string_equal(
	    count_of(r, SURVEY, "anon-1y")->action, "anonymize");
	privd__v1__response__free_unpacked(r, NULL);
	put_scores(h, "new", 5);
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", "segment");
	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, "a", 11, 36, 1, 6);
	privd__v1__response__free_unpacked(r, NULL);

	r = contract_end(h, "admin", SURVEY, 0, true);
	expect_status(r, ST(OK), 0, "contract end");
	privd__v1__response__free_unpacked(r, NULL);
	clock_to(h, (int64_t)h_clock_us(h) + US_PER_S);
	from = audit_head(h) + 1;
	r = sweep(h);
	expect_count(r, SURVEY, "contract-end", 15, 5, 0);
	c = count_of(r, SURVEY, "contract-end");
	assert_string_equal(c->action, "contract_end_purge");
	assert_int_equal(c->anonymous_records, 6);
	privd__v1__response__free_unpacked(r, NULL);
	/* one event per subject, and the anonymous records' own, which
	 * names no subject */
	ret_events(h, NULL, from, &v);
	for (i = 0; i < v.n; i++) {
		assert_string_equal(v.ev[i].e->op, "contract_end_purge");
		assert_string_equal(v.ev[i].rule, "contract-end");
		if (!v.ev[i].e->has_subject) {
			anon_events++;
			assert_int_equal(v.ev[i].e->nfields, 0);
		}
	}
	assert_int_equal(anon_events, 1);
	assert_int_equal(v.n, 5 + 1);
	ret_evs_free(&v);

	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", "segment");
	expect_agg(r, 0, 0, 0, 5, true);
	privd__v1__response__free_unpacked(r, NULL);
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", NULL);
	expect_agg(r, 0, 0, 0, 5, true);
	privd__v1__response__free_unpacked(r, NULL);
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "name", NULL);
	expect_agg(r, 0, 0, 0, 5, false);
	privd__v1__response__free_unpacked(r, NULL);
	/* and a later sweep finds nothing more to purge */
	r = sweep(h);
	c = count_of(r, SURVEY, "contract-end");
	assert_true(c == NULL || (c->fields == 0 && c->anonymous_records == 0));
	privd__v1__response__free_unpacked(r, NULL);
	privctl_verify_ok(h);
}

/* Subjects seg-from..seg-(to-1) of survey, each with segment seg and
 * score i + 1 (and a name). */
static void
put_group(harness *h, const char *seg, size_t from, size_t to)
{
	char s[32], v[24];
	size_t i;

	for (i = from; i < to; i++) {
		snprintf(s, sizeof(s), "%s-%zu", seg, i);
		snprintf(v, sizeof(v), "%zu", i + 1);
		put_row(h, s, v, seg, NULL);
	}
}

/* score over survey, ungrouped: one group of n records, sum, 1..max. */
static void
expect_total(harness *h, uint64_t n, int64_t sum, int64_t max)
{
	Privd__V1__Response *r =
	    aggregate_ok(h, "reporter", "stats", SURVEY, "score", NULL);

	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, "", n, sum, 1, max);
	privd__v1__response__free_unpacked(r, NULL);
}

/*
 * Complementary suppression, where it acts and where it does not (the
 * minimum is 5; a group of n has scores 1..n, sum n(n+1)/2):
 *  1. p 7 (sum 28), q 5 (15), r 3 (6): 15 records, sum 49. r is under 5
 *     and suppressed. With p and q shown, the ungrouped total would
 *     give r away: 15 - 7 - 5 = 3 records, 49 - 28 - 15 = 6 their sum.
 *     So the smallest shown group, q, is suppressed too: 3 + 5 = 8
 *     records hidden, not fewer than 5; only p shown, and 15 - 7 = 8 is
 *     q and r together.
 *  2. Two more in r (r 5, sum 15; 17, sum 58): no group under 5,
 *     nothing suppressed, nothing to complement: p, q, r shown.
 *  3. s 3 (sum 6) and t 2 (sum 3) added (22, sum 67): both suppressed,
 *     3 + 2 = 5 records, as many as the minimum, not fewer: nothing more
 *     is suppressed, p, q, r shown, and 22 - 7 - 5 - 5 = 5 is s and t
 *     together.
 */
static void
test_aggregate_complementary(void **state)
{
	harness *h = *state;
	Privd__V1__Response *r;

	put_group(h, "p", 0, 7);
	put_group(h, "q", 0, 5);
	put_group(h, "r", 0, 3);
	expect_total(h, 15, 49, 7);
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", "segment");
	expect_agg(r, 1, 2, 8, 5, true);
	expect_group(r, "p", 7, 28, 1, 7);
	assert_null(agg_group(r, "q"));
	assert_null(agg_group(r, "r"));
	privd__v1__response__free_unpacked(r, NULL);

	put_group(h, "r", 3, 5);
	expect_total(h, 17, 58, 7);
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", "segment");
	expect_agg(r, 3, 0, 0, 5, true);
	expect_group(r, "p", 7, 28, 1, 7);
	expect_group(r, "q", 5, 15, 1, 5);
	expect_group(r, "r", 5, 15, 1, 5);
	privd__v1__response__free_unpacked(r, NULL);

	put_group(h, "s", 0, 3);
	put_group(h, "t", 0, 2);
	expect_total(h, 22, 67, 7);
	r = aggregate_ok(h, "reporter", "stats", SURVEY, "score", "segment");
	expect_agg(r, 3, 2, 5, 5, true);
	expect_group(r, "p", 7, 28, 1, 7);
	expect_group(r, "q", 5, 15, 1, 5);
	expect_group(r, "r", 5, 15, 1, 5);
	assert_null(agg_group(r, "s"));
	assert_null(agg_group(r, "t"));
	privd__v1__response__free_unpacked(r, NULL);
}

/* A data request for the statistical purpose stats, refused as such:
 * DENIED, no_grant, and privd's message says why without the subject. */
static void
expect_statistical(privd_client *c, int rc, const char *what)
{
	expect_denied(c, rc, R_NO_GRANT, what);
	if (strstr(privd_errmsg(c),
	        "purpose stats is statistical: it reads aggregates only") ==
	    NULL)
		fail_msg("%s: message [%s]", what, privd_errmsg(c));
}

/*
 * A statistical purpose reads aggregates only: analyst, with read, write
 * and delete grants on every field of survey for stats, is refused (DENIED,
 * no_grant) a get of all fields and of one, a put to an existing subject
 * and to a new one, and a delete of a field and of the whole subject.
 * Nothing changed: the data reads back for ops as it was written, the new
 * subject does not exist, and analyst's aggregate for stats, which it may
 * ask, counts what it did before. Each request is one audit event,
 * refused with no_grant, naming the register, the purpose, the subject
 * (its pseudonym) and the fields the request named.
 */
static void
test_statistical_reads_aggregates_only(void **state)
{
	harness *h = *state;
	static const char *const score[] = {"score"};
	static const struct {
		const char *op;
		const char *field; /* NULL: none named */
	} want[] = {{"get", NULL}, {"get", "score"}, {"put", "score"},
	    {"put", "score"}, {"delete", "score"}, {"delete", NULL}};
	privd_field f = h_field("score", "99");
	privd_audit_filter q = {0};
	privd_record *rec = NULL;
	privd_client *c;
	Privd__V1__Response *r;
	uint32_t deleted = 0;
	char s[16], v[16];
	evlist l = {0};
	uint64_t from, seq[6];
	size_t i;

	put_scores(h, "s", 5);
	from = audit_head(h) + 1;
	c = client(h, "analyst");
	expect_statistical(c,
	    privd_get(c, SURVEY, "s-0", "stats", NULL, 0, &rec),
	    "get all fields");
	assert_null(rec);
	expect_statistical(c,
	    privd_get(c, SURVEY, "s-0", "stats", score, 1, &rec), "get score");
	assert_null(rec);
	expect_statistical(
	    c, privd_put(c, SURVEY, "s-0", "stats", &f, 1), "put to a subject");
	expect_statistical(c, privd_put(c, SURVEY, "s-new", "stats", &f, 1),
	    "put to a new subject");
	expect_statistical(c,
	    privd_delete(c, SURVEY, "s-1", "stats", score, 1, &deleted),
	    "delete a field");
	expect_statistical(c,
	    privd_delete(c, SURVEY, "s-2", "stats", NULL, 0, &deleted),
	    "delete a subject");
	assert_int_equal(deleted, 0);
	privd_close(&c);

	/* nothing changed: as put_scores wrote it */
	for (i = 0; i < 5; i++) {
		snprintf(s, sizeof(s), "s-%zu", i);
		snprintf(v, sizeof(v), "%zu", i + 1);
		expect_fields(
		    h, "writer", SURVEY, "ops", s, "name,score,segment");
		c = client(h, "writer");
		expect_rc(c, privd_get(c, SURVEY, s, "ops", score, 1, &rec),
		    PRIVD_OK, "writer get score");
		assert_field_str(rec, "score", v);
		privd_record_free(&rec);
		privd_close(&c);
	}
	expect_fields(h, "writer", SURVEY, "ops", "s-new", "NOT_FOUND");

	/* one refusal each, in order */
	c = client(h, "auditor");
	q.principal = "analyst";
	q.from_seq = from;
	collect(c, &q, &l);
	assert_int_equal(l.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < l.n; i++) {
		const char *fl[] = {want[i].field, NULL};

		expect_event(l.ev[i], "analyst", want[i].op, SURVEY, "stats",
		    fl, PRIVD_DECISION_REFUSED, ST(DENIED), R_NO_GRANT);
		assert_true(l.ev[i]->has_subject);
		seq[i] = l.ev[i]->seq;
	}
	evlist_free(&l);
	/* under the subjects' pseudonyms: s-0's are its two gets and a put */
	q.subject = "s-0";
	collect(c, &q, &l);
	assert_int_equal(l.n, 3);
	for (i = 0; i < l.n; i++)
		assert_int_equal(l.ev[i]->seq, seq[i]);
	evlist_free(&l);
	q.subject = "s-2";
	collect(c, &q, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.ev[0]->seq, seq[5]);
	evlist_free(&l);
	privd_close(&c);

	/* what a statistical purpose is for still answers, as before */
	r = aggregate_ok(h, "analyst", "stats", SURVEY, "score", NULL);
	expect_agg(r, 1, 0, 0, 5, true);
	expect_group(r, "", 5, 15, 1, 5);
	privd__v1__response__free_unpacked(r, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_aggregate_refused, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_aggregate_groups, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_aggregate_after_purge, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_aggregate_complementary, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_statistical_reads_aggregates_only, setup, h_teardown),
	};

	return cmocka_run_group_tests_name(
	    "integration/retention_report", tests, NULL, NULL);
}
