/*
 * cmd_audit.c - the audit commands that read the log: query, tail,
 * export, and prune, which reports (and resumes) the pruning of old
 * events. Verify and pubkey are in cmd_verify.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "privctl.h"

/* The operation names privd records, for --op and --not-op (and their
 * completion). */
const char *const op_names[] = {"ping", "put", "get", "delete", "policy_get",
    "policy_apply", "policy_history", "audit_query", "audit_follow",
    "audit_checkpoints", "audit_pubkey", "audit_prune", "relationship_end",
    "contract_end", "hold_set", "hold_lift", "hold_list", "retention_run",
    "retention_preview", "aggregate", "subject_restrict",
    "subject_restrict_lift", "subject_object", "subject_object_withdraw",
    "subject_erase", "subject_lookup", "subject_export", "backup_start",
    "backup_read", "backup_end", "erasures_export", "invalid",
    "retention_delete", "retention_anonymize", "contract_end_purge", "restore",
    "audit_key_rotate", "rekey", "server_key_next", "server_key_rotate", NULL};

#define NOP_NAMES (sizeof(op_names) / sizeof(op_names[0]) - 1)

/* Damaged events printed by this command: it exits 7 if there were any. */
static uint64_t damaged_seen;

/* Names of an event's decision and of its reply's privd.v1.Status. */
static const char *
decision_name(int d)
{
	static const char *const names[] = {
	    "unspecified", "allowed", "refused", "rejected", "failed"};

	if (d < 0 || (size_t)d >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[d];
}

static const char *
wire_status_name(int st)
{
	static const char *const names[] = {"unspecified", "ok", "invalid",
	    "denied", "not_found", "conflict", "retained", "too_large",
	    "unavailable", "internal", "expired"};

	if (st < 0 || (size_t)st >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[st];
}
/* One audit event as a JSON object; NULL if out of memory. */
static json_t *
json_event(const privd_audit_event *e)
{
	char at[40], hash[65], subj[65], rid[24];
	json_t *o, *fields;
	size_t i;

	iso_time_us(e->time_us, at);
	sodium_bin2hex(hash, sizeof(hash), e->hash, sizeof(e->hash));
	if (e->has_subject)
		sodium_bin2hex(
		    subj, sizeof(subj), e->subject, sizeof(e->subject));
	/* request ids are 64-bit: more than a JSON number holds exactly */
	snprintf(rid, sizeof(rid), "%llu", (unsigned long long)e->request_id);
	if ((fields = json_array()) == NULL)
		return NULL;
	for (i = 0; i < e->nfields; i++)
		if (json_array_append_new(
		        fields, json_string(safe(e->fields[i]))) != 0) {
			json_decref(fields);
			return NULL;
		}
	o = json_pack("{s:o, s:s, s:o, s:o, s:o, s:o, s:o*, s:o, s:o, s:s, "
	              "s:o*, s:s, s:o, s:s, s:o*, s:s}",
	    "seq", json_u64(e->seq), "time", at, "time_us",
	    json_u64(e->time_us), "principal", json_name(e->principal), "op",
	    json_name(e->op), "register", json_name(e->reg), "subject",
	    e->has_subject ? json_string(subj) : json_null(), "fields", fields,
	    "purpose", json_name(e->purpose), "decision",
	    decision_name(e->decision), "reason",
	    e->reason != 0 ? json_string(privd_reason_name(e->reason))
	                   : json_null(),
	    "status", wire_status_name(e->status), "policy_version",
	    json_u64(e->policy_version), "request_id", rid, "rule",
	    *e->rule ? json_string(safe(e->rule)) : json_null(), "hash", hash);
	return o;
}

/*
 * Print one event: a JSON line with --json (and always for export), else
 * "seq time principal op register subject fields purpose decision
 * status[/reason]" with '-' for what the event does not have, and
 * " rule=ID" for a retention action. A damaged
 * event (privd cannot decode it) has only its seq: "seq damaged: ...", or
 * {"seq", "damaged": true}; it is counted for damaged_end().
 */
int
print_event(const struct opts *o, const privd_audit_event *e, int as_json)
{
	char at[40], subj[13], fields[1024];
	size_t i, n = 0;

	if (e->damaged) {
		damaged_seen++;
		if (as_json)
			return json_print(json_pack("{s:o, s:b}", "seq",
			    json_u64(e->seq), "damaged", 1));
		printf("%llu damaged: privd cannot decode this stored event\n",
		    (unsigned long long)e->seq);
		return 0;
	}
	if (as_json)
		return json_print(json_event(e));
	iso_time_us(e->time_us, at);
	if (e->has_subject)
		sodium_bin2hex(subj, sizeof(subj), e->subject, 6);
	fields[0] = '\0';
	for (i = 0; i < e->nfields && n < sizeof(fields); i++)
		n += (size_t)snprintf(fields + n, sizeof(fields) - n, "%s%s",
		    i ? "," : "", safe(e->fields[i]));
	printf("%llu %s %s %s %s %s %s %s %s %s%s%s%s%s\n",
	    (unsigned long long)e->seq, at,
	    *e->principal ? safe(e->principal) : "-",
	    *e->op ? safe(e->op) : "-", *e->reg ? safe(e->reg) : "-",
	    e->has_subject ? subj : "-", *fields ? fields : "-",
	    *e->purpose ? safe(e->purpose) : "-", decision_name(e->decision),
	    wire_status_name(e->status), e->reason ? "/" : "",
	    e->reason ? privd_reason_name(e->reason) : "",
	    *e->rule ? " rule=" : "", *e->rule ? safe(e->rule) : "");
	return 0;
}

/*
 * The end of a command that printed events: if any was damaged, say so
 * (the lines already show which) and exit 7 unless something else failed.
 */
static int
damaged_end(const struct opts *o, int rc)
{
	if (damaged_seen == 0 || rc != 0)
		return rc;
	if (!o->json)
		fprintf(stderr,
		    "privctl: %llu damaged event%s: privd cannot decode %s "
		    "(see 'privctl audit verify')\n",
		    (unsigned long long)damaged_seen,
		    damaged_seen == 1 ? "" : "s",
		    damaged_seen == 1 ? "it" : "them");
	return EXIT_TAMPERED;
}

/*
 * Did privd answer with the very cursor it was sent? Asking again would
 * then bring the same page forever. (Pages without events but with a new
 * cursor are fine: privd bounds the work of one page.)
 */
static int
same_cursor(const privd_audit_page *sent, const privd_audit_page *got)
{
	return sent != NULL && sent->cursor != NULL && got->cursor != NULL &&
	       got->cursorlen == sent->cursorlen &&
	       memcmp(got->cursor, sent->cursor, got->cursorlen) == 0;
}

/* Report that privd's pages do not make progress; returns the exit code. */
static int
report_no_progress(const struct opts *o)
{
	return report_local(
	    o, PRIVD_EPROTO, "privd's answer does not make progress");
}

/*
 * Ask for the page after prev (the first page if prev is NULL) into *out.
 * Returns 0, or the exit code after reporting privd's error or a cursor
 * that does not move (*out is then NULL). Every audit command walks its
 * pages with this, so none of them can be kept going forever.
 */
static int
next_page(const struct opts *o, privd_client *c, const privd_audit_filter *f,
    const privd_audit_page *prev, privd_audit_page **out)
{
	int rc;

	*out = NULL;
	rc = privd_audit_query(
	    c, f, prev ? prev->cursor : NULL, prev ? prev->cursorlen : 0, out);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (same_cursor(prev, *out)) {
		privd_audit_page_free(out);
		return report_no_progress(o);
	}
	return 0;
}

/*
 * Walk every page of a query, printing each event, until there is no
 * cursor or max events (0: no limit) are printed. With ordered (oldest
 * first by seq range, as export asks), every event must be in
 * [f->from_seq, f->to_seq] and after the one before it, so that the walk
 * ends however privd answers.
 */
static int
audit_walk(const struct opts *o, privd_client *c, const privd_audit_filter *f,
    uint64_t max, int as_json, int ordered, struct progress *prog)
{
	privd_audit_page *pg = NULL, *next;
	uint64_t printed = 0, seq, prev = 0;
	size_t i;
	int rc;

	if ((rc = next_page(o, c, f, NULL, &pg)) != 0)
		return rc;
	for (;;) {
		for (i = 0; i < pg->n && (max == 0 || printed < max); i++) {
			seq = pg->events[i].seq;
			if (ordered &&
			    ((printed > 0 && seq <= prev) ||
			        seq < f->from_seq ||
			        (f->to_seq != 0 && seq > f->to_seq))) {
				rc = report_no_progress(o);
				goto out;
			}
			if ((rc = print_event(o, &pg->events[i], as_json)) != 0)
				goto out;
			prev = seq;
			printed++;
		}
		fflush(stdout);
		/* ordered: how far through the range the walk is */
		if (prog != NULL && printed > 0)
			progress_update(prog, prev - f->from_seq + 1);
		if (pg->cursor == NULL || (max != 0 && printed >= max))
			break;
		if ((rc = next_page(o, c, f, pg, &next)) != 0)
			goto out;
		privd_audit_page_free(&pg);
		pg = next;
	}
	rc = 0;
out:
	privd_audit_page_free(&pg);
	return rc;
}

int
cmd_audit_query(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_audit_filter f = o->filter;

	f.limit = o->total != 0 && o->total < AUDIT_PAGE ? (uint32_t)o->total
	                                                 : AUDIT_PAGE;
	return damaged_end(o, audit_walk(o, c, &f, o->total, o->json, 0, NULL));
}

/* The newest event's seq (0 if none), bounded by to_seq (0: none). */
static int
audit_head(
    const struct opts *o, privd_client *c, uint64_t to_seq, uint64_t *head)
{
	privd_audit_filter f = {0};
	privd_audit_page *pg = NULL;
	int rc;

	f.newest_first = 1;
	f.limit = 1;
	f.to_seq = to_seq;
	*head = 0;
	/* a page may come back empty with a cursor: follow it */
	if ((rc = next_page(o, c, &f, NULL, &pg)) != 0)
		return rc;
	while (pg->n == 0 && pg->cursor != NULL) {
		privd_audit_page *next;

		rc = next_page(o, c, &f, pg, &next);
		privd_audit_page_free(&pg);
		if (rc != 0)
			return rc;
		pg = next;
	}
	if (pg->n > 0)
		*head = pg->events[0].seq;
	privd_audit_page_free(&pg);
	return 0;
}

int
cmd_audit_export(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_audit_filter f = {0};
	struct progress p;
	uint64_t head;
	int rc;

	/* up to the newest event as the export starts, so that the export's
	 * own queries do not keep it going */
	if ((rc = audit_head(o, c, o->to_seq, &head)) != 0)
		return rc;
	if (head == 0 || head < o->from_seq)
		return 0;
	f.from_seq = o->from_seq > 0 ? o->from_seq : 1;
	f.to_seq = head;
	f.limit = AUDIT_PAGE;
	/* by seq: events pruned before the first kept count as done */
	progress_begin(&p, "audit export", "events", head - f.from_seq + 1, 1);
	rc = audit_walk(o, c, &f, 0, 1, 1, &p);
	progress_end(&p);
	return damaged_end(o, rc);
}

static volatile sig_atomic_t tail_stop;

static void
on_stop_signal(int sig)
{
	(void)sig;
	tail_stop = 1;
}

/* Remember the id of one of tail -f's own queries. */
static void
own_add(uint64_t *ids, size_t *next, uint64_t id)
{
	ids[*next % TAIL_OWN_IDS] = id;
	(*next)++;
}

/* Is e one of tail -f's own queries, or the audit_follow event of one of
 * its polls? */
static int
own_has(const uint64_t *ids, const privd_audit_event *e)
{
	size_t i;

	if (strcmp(e->op, "audit_query") != 0 &&
	    strcmp(e->op, "audit_follow") != 0)
		return 0;
	for (i = 0; i < TAIL_OWN_IDS; i++)
		if (ids[i] != 0 && ids[i] == e->request_id)
			return 1;
	return 0;
}

/*
 * tail: the last N events, newest first from privd, printed oldest first;
 * with -f, then poll for events after the last one until SIGINT or
 * SIGTERM. The polls are follow queries, which privd audits with at most
 * one audit_follow event a minute (not one audit_query each). Its own
 * queries and that event would still show: they are recognised by their
 * request ids and not shown.
 */
int
cmd_audit_tail(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_audit_filter f = {0};
	privd_audit_page **pages = NULL, **np, *pg = NULL, *spare = NULL;
	const privd_audit_page *prev = NULL;
	uint64_t want = o->count ? o->total : TAIL_DEFAULT, got = 0, last = 0;
	uint64_t own[TAIL_OWN_IDS] = {0};
	size_t npages = 0, nown = 0, i, k, take;
	struct sigaction sa;
	struct timespec ts;
	int rc = 0;

	f.newest_first = 1;
	f.not_ops = o->not_ops;
	f.nnot_ops = o->nnot_ops;
	f.limit = want > 0 && want < AUDIT_PAGE ? (uint32_t)want : AUDIT_PAGE;
	if (want == 0)
		f.limit = 1; /* only to learn where the log ends */
	for (;;) {
		rc = next_page(o, c, &f, prev, &pg);
		own_add(own, &nown, privd_last_request_id(c));
		if (rc != 0)
			goto out;
		/* a page without events is kept only for its cursor */
		privd_audit_page_free(&spare);
		prev = pg;
		if (pg->n == 0) {
			spare = pg;
		} else if ((np = realloc(pages, (npages + 1) * sizeof(*np))) ==
		           NULL) {
			privd_audit_page_free(&pg);
			rc = report_local(o, PRIVD_ENOMEM, "out of memory");
			goto out;
		} else {
			pages = np;
			pages[npages++] = pg;
		}
		if (pg->n > 0 && last == 0)
			last = pg->events[0].seq;
		got += pg->n;
		if (pg->cursor == NULL || (want > 0 ? got >= want : last != 0))
			break;
	}
	privd_audit_page_free(&spare);
	/* oldest first: the pages backwards, each page backwards */
	for (got = 0, i = 0; i < npages; i++) {
		take = pages[i]->n;
		if (take > want - got)
			take = (size_t)(want - got);
		pages[i]->n = take; /* the rest is older than asked */
		got += take;
	}
	for (i = npages; i-- > 0 && rc == 0;)
		for (k = pages[i]->n; k-- > 0 && rc == 0;)
			rc = print_event(o, &pages[i]->events[k], o->json);
	fflush(stdout);
	if (rc != 0 || !o->follow)
		goto out;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal; /* no SA_RESTART: wake the sleep */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	memset(&f, 0, sizeof(f));
	f.follow = 1;
	f.not_ops = o->not_ops;
	f.nnot_ops = o->nnot_ops;
	f.limit = AUDIT_PAGE;
	while (!tail_stop) {
		ts.tv_sec = TAIL_POLL_MS / 1000;
		ts.tv_nsec = (long)(TAIL_POLL_MS % 1000) * 1000000L;
		while (!tail_stop && nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		if (tail_stop)
			break;
		f.from_seq = last + 1;
		pg = NULL;
		do {
			privd_audit_page *next = NULL;

			rc = next_page(o, c, &f, pg, &next);
			own_add(own, &nown, privd_last_request_id(c));
			privd_audit_page_free(&pg);
			if (rc != 0)
				goto out;
			pg = next;
			for (k = 0; k < pg->n && rc == 0; k++) {
				if (pg->events[k].seq > last)
					last = pg->events[k].seq;
				if (!own_has(own, &pg->events[k]))
					rc = print_event(
					    o, &pg->events[k], o->json);
			}
			fflush(stdout);
		} while (rc == 0 && pg->cursor != NULL && !tail_stop);
		privd_audit_page_free(&pg);
		if (rc != 0)
			goto out;
	}
	rc = 0;
out:
	privd_audit_page_free(&spare);
	for (i = 0; i < npages; i++)
		privd_audit_page_free(&pages[i]);
	free(pages);
	return damaged_end(o, rc);
}

/* A time as JSON: ISO 8601 UTC, or null for 0 (none). */
static json_t *
json_time(uint64_t us)
{
	char at[32];

	if (us == 0)
		return json_null();
	iso_time(us, at);
	return json_string(at);
}

/*
 * prune: how privd prunes the audit log, and with --confirm, resume a
 * pruning that a clock jump paused. privd answers with the state after
 * the confirmation, so one request does both.
 */
int
cmd_audit_prune(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_audit_prune_status st;
	char at[32], d1[48], d2[48];
	int rc;

	if ((rc = privd_audit_prune(c, o->confirm, &st)) != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(json_pack(
		    "{s:b, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "paused",
		    st.paused, "paused_at", json_time(st.paused_at_us),
		    "clock_jump_s", json_u64(st.clock_jump_s), "retention_s",
		    json_u64(st.retention_s), "floor_s", json_u64(st.floor_s),
		    "now", json_time(st.now_us), "oldest_seq",
		    json_us(st.oldest_seq), "oldest_time",
		    json_time(st.oldest_time_us), "confirmed", o->confirm));
	if (o->confirm && st.paused_at_us != 0 && !st.paused) {
		iso_time(st.paused_at_us, at);
		printf("confirmed: privd's clock is right; pruning resumes "
		       "(paused since %s after a jump of %s)\n",
		    at, duration(st.clock_jump_s, d1));
	} else if (o->confirm) {
		printf("confirmed: privd's clock is right\n");
	}
	if (st.paused) {
		iso_time(st.paused_at_us, at);
		printf("audit pruning: paused since %s: privd's clock jumped "
		       "%s forward\n",
		    at, duration(st.clock_jump_s, d1));
	} else {
		printf("audit pruning: running\n");
	}
	printf("retention: %s (floor %s)\n", duration(st.retention_s, d1),
	    duration(st.floor_s, d2));
	if (st.oldest_seq == 0) {
		printf("oldest event kept: none\n");
	} else {
		iso_time(st.oldest_time_us, at);
		printf("oldest event kept: %llu (%s)\n",
		    (unsigned long long)st.oldest_seq, at);
	}
	iso_time(st.now_us, at);
	printf("privd's clock: %s\n", at);
	if (st.paused)
		printf("If that clock is right: privctl audit prune "
		       "--confirm\n");
	return 0;
}

/* Are all n names operations privd records? */
static int
known_ops(const char *const *names, size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		for (k = 0; k < NOP_NAMES; k++)
			if (strcmp(names[i], op_names[k]) == 0)
				break;
		if (k == NOP_NAMES)
			return 0;
	}
	return 1;
}

/* The operation names, for a usage error: "ping, put, ...". */
static const char *
op_list(void)
{
	static char list[1024];
	size_t k, n = 0;

	for (k = 0; k < NOP_NAMES; k++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s",
		    k ? ", " : "", op_names[k]);
	return list;
}

/*
 * The audit commands: parse their options (main.c has checked which each
 * one takes) before connecting, so that a mistyped time or number costs no
 * request (and no audit event).
 */
int
audit_check(struct opts *o, char **args, int nargs)
{
	static char regbuf[65];
	const char *slash;
	privd_audit_filter *f = &o->filter;
	int rc;

	f->subject = o->subject;
	f->reg = o->reg;
	f->principal = o->principal;
	f->ops = o->ops;
	f->nops = o->nops;
	f->not_ops = o->not_ops;
	f->nnot_ops = o->nnot_ops;
	if (!known_ops(o->ops, o->nops) || !known_ops(o->not_ops, o->nnot_ops))
		return usage_error("--op and --not-op take an operation name: "
		                   "%s",
		    op_list());
	if (o->request_id != NULL &&
	    (parse_u64(o->request_id, &f->request_id) != 0 ||
	        f->request_id == 0))
		return usage_error(
		    "--request-id needs a request id (a positive "
		    "number, 'request_id' in --json output)");
	f->decision = o->denied ? PRIVD_DECISION_REFUSED : PRIVD_DECISION_ANY;
	f->newest_first = o->newest;
	if (o->subject != NULL && *o->subject == '\0')
		return usage_error("--subject needs a subject id");
	/* --subject REGISTER/SUBJECT names both (the first '/' splits them);
	 * with --register, --subject is the subject id as it is. */
	if (o->subject != NULL && o->reg == NULL &&
	    (slash = strchr(o->subject, '/')) != NULL) {
		size_t rl = (size_t)(slash - o->subject);

		if (rl == 0 || rl >= sizeof(regbuf) || slash[1] == '\0')
			return usage_error("--subject REGISTER/SUBJECT needs a "
			                   "register name and a subject id");
		memcpy(regbuf, o->subject, rl);
		regbuf[rl] = '\0';
		f->reg = regbuf;
		f->subject = slash + 1;
	}
	if (o->since != NULL && parse_time(o->since, &f->since_us) != 0)
		return usage_error("--since needs a time: " TIME_FORMS);
	if (o->until != NULL && parse_time(o->until, &f->until_us) != 0)
		return usage_error("--until needs a time: " TIME_FORMS);
	if (o->limit != NULL &&
	    (parse_u64(o->limit, &o->total) != 0 || o->total == 0))
		return usage_error("--limit needs a positive number of events");
	if (o->count != NULL &&
	    (parse_u64(o->count, &o->total) != 0 || o->total > TAIL_MAX))
		return usage_error(
		    "-n needs a number of events (0..%d)", TAIL_MAX);
	if (o->from != NULL &&
	    (parse_u64(o->from, &o->from_seq) != 0 || o->from_seq == 0))
		return usage_error("--from needs an event number (1, 2, ...)");
	if (o->to != NULL &&
	    (parse_u64(o->to, &o->to_seq) != 0 || o->to_seq == 0))
		return usage_error("--to needs an event number (1, 2, ...)");
	if (o->to_seq != 0 && o->from_seq > o->to_seq)
		return usage_error("--from is after --to");
	if (o->pubkey != NULL && (rc = pubkey_resolve(o, o->pubkey)) != 0)
		return rc;
	return 0;
}
