/*
 * test_client_erasures.c - libprivd's erasure journal calls
 * (privd_erasures_export(), privd_erasures_export_file(),
 * <privd/backup.h>) against the fake privd of fake_privd.c: what they
 * send, what they make of answers good and malformed, and the journal
 * file they write page by page (split from test_client_backup.c, whose
 * subject is the backup itself).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "fake_privd.h"
#include <privd/backup.h>

#define T_SNAP 1985126400000000ULL /* 2032-11-27T00:00:00Z */

/* Journal entries of the fake's answers. */
#define NENT 2600
static Privd__V1__ErasureEntry ent[NENT];
static Privd__V1__ErasureEntry *entp[NENT];
static uint8_t hashes[NENT][32];
static char *two_fields[] = {"email", "phone"};

static void
entries_init(void)
{
	size_t i;

	for (i = 0; i < NENT; i++) {
		ent[i] =
		    (Privd__V1__ErasureEntry)PRIVD__V1__ERASURE_ENTRY__INIT;
		ent[i].seq = i + 1;
		ent[i].time_us = T_SNAP + i;
		ent[i].kind = i % 3 == 0   ? "erase"
		              : i % 3 == 1 ? "delete"
		                           : "retention";
		memset(hashes[i], (int)(i & 0xff), 32);
		hashes[i][0] = 0xab;
		ent[i].subject_hash.data = hashes[i];
		ent[i].subject_hash.len = 32;
		ent[i].register_ = i % 2 ? "acis" : "customers";
		if (i % 3 == 1) {
			ent[i].fields = two_fields;
			ent[i].n_fields = 2;
		}
		entp[i] = &ent[i];
	}
}

/*
 * ErasuresExport: after and limit go as given; entries come back in
 * order, fields named or none for a whole subject; head and more.
 */
static void
test_erasures_page(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__ErasuresExportResponse ee =
	    PRIVD__V1__ERASURES_EXPORT_RESPONSE__INIT;
	privd_erasure_page *p = (privd_erasure_page *)1;

	entries_init();
	ANSWER(r, ERASURES_EXPORT, erasures_export, &ee);
	ee.entries = entp + 10;
	ee.n_entries = 3;
	ee.head = 99;
	ee.more = 1;
	f->answer = &r;
	assert_int_equal(privd_erasures_export(f->c, 10, 3, &p), PRIVD_OK);
	assert_int_equal(
	    f->last->op_case, PRIVD__V1__REQUEST__OP_ERASURES_EXPORT);
	assert_int_equal(f->last->erasures_export->after, 10);
	assert_int_equal(f->last->erasures_export->limit, 3);
	assert_int_equal(p->nentries, 3);
	assert_int_equal(p->head, 99);
	assert_true(p->more);
	assert_int_equal(p->entries[0].seq, 11);
	assert_int_equal(p->entries[0].time_us, T_SNAP + 10);
	assert_string_equal(p->entries[0].kind, "delete");
	assert_string_equal(p->entries[0].reg, "customers");
	assert_memory_equal(p->entries[0].subject_hash, hashes[10], 32);
	assert_int_equal(p->entries[0].nfields, 2);
	assert_string_equal(p->entries[0].fields[0], "email");
	assert_string_equal(p->entries[0].fields[1], "phone");
	assert_string_equal(p->entries[1].kind, "retention");
	assert_string_equal(p->entries[1].reg, "acis");
	assert_null(p->entries[1].fields);
	assert_int_equal(p->entries[1].nfields, 0);
	assert_string_equal(p->entries[2].kind, "erase");
	privd_erasure_page_free(&p);
	assert_null(p);
	privd_erasure_page_free(&p);
	privd_erasure_page_free(NULL);

	/* none: an empty page; limit 0 is privd's default (1000) */
	ee.n_entries = 0;
	ee.more = 0;
	assert_int_equal(privd_erasures_export(f->c, 0, 0, &p), PRIVD_OK);
	assert_int_equal(f->last->erasures_export->limit, 0);
	assert_int_equal(p->nentries, 0);
	assert_null(p->entries);
	privd_erasure_page_free(&p);

	/* refused: the status, and *out NULL */
	r.status = PRIVD__V1__STATUS__DENIED;
	r.reason = PRIVD__V1__DENY_REASON__DENY_ROLE_REQUIRED;
	p = (privd_erasure_page *)1;
	assert_int_equal(privd_erasures_export(f->c, 0, 0, &p), PRIVD_EDENIED);
	assert_null(p);
	assert_int_equal(privd_reason(f->c), 11);
	r.status = PRIVD__V1__STATUS__INTERNAL;
	r.reason = 0;
	r.message = "journal entry 7 is damaged";
	assert_int_equal(
	    privd_erasures_export(f->c, 0, 0, &p), PRIVD_EINTERNAL);
	assert_string_equal(privd_errmsg(f->c), "journal entry 7 is damaged");

	/* the library's own refusals cost no request */
	f->last->erasures_export->after = 12345;
	assert_int_equal(
	    privd_erasures_export(f->c, 0, 10001, &p), PRIVD_EINVAL);
	assert_int_equal(f->last->erasures_export->after, 12345);
	assert_int_equal(privd_erasures_export(f->c, 0, 0, NULL), PRIVD_EINVAL);
	assert_int_equal(privd_erasures_export(NULL, 0, 0, &p), PRIVD_EINVAL);
	f->answer = NULL;
}

/* Answers that break the protocol, each refused with *out NULL. */
static void
test_erasures_malformed(void **state)
{
	struct fake *f = *state;
	Privd__V1__Response r = PRIVD__V1__RESPONSE__INIT;
	Privd__V1__ErasuresExportResponse ee =
	    PRIVD__V1__ERASURES_EXPORT_RESPONSE__INIT;
	Privd__V1__ErasureEntry bad;
	Privd__V1__ErasureEntry *list[2];
	char *bad_fields[] = {"email", "e\"vil"};
	privd_erasure_page *p;

	entries_init();
	ANSWER(r, ERASURES_EXPORT, erasures_export, &ee);
	f->answer = &r;
	ee.head = 100;
	ee.entries = list;
	ee.n_entries = 2;
	list[0] = &ent[0];
	list[1] = &bad;

#define REFUSED(what)                                                          \
	do {                                                                   \
		p = (privd_erasure_page *)1;                                   \
		assert_int_equal(                                              \
		    privd_erasures_export(f->c, 0, 0, &p), PRIVD_EPROTO);      \
		assert_null(p);                                                \
		assert_non_null(strstr(privd_errmsg(f->c), what));             \
	} while (0)

	bad = ent[1];
	bad.kind = "shred";
	REFUSED("kind");
	bad = ent[1];
	bad.subject_hash.len = 31;
	REFUSED("hash");
	bad = ent[1];
	bad.register_ = "";
	REFUSED("register");
	bad.register_ = "cust\"omers";
	REFUSED("register");
	bad.register_ =
	    "a123456789b123456789c123456789d123456789e123456789f123456789g1234";
	REFUSED("register");
	bad = ent[1];
	bad.fields = bad_fields;
	bad.n_fields = 2;
	REFUSED("field");
	/* out of order, not after after, past head */
	bad = ent[0];
	REFUSED("order");
	bad = ent[1];
	bad.seq = 101;
	REFUSED("order");
	list[0] = &ent[0];
	ee.n_entries = 1;
	p = NULL;
	assert_int_equal(privd_erasures_export(f->c, 1, 0, &p), PRIVD_EPROTO);
	assert_null(p);
	/* more than asked for; more with nothing */
	ee.entries = entp;
	ee.n_entries = 4;
	p = (privd_erasure_page *)1;
	assert_int_equal(privd_erasures_export(f->c, 0, 3, &p), PRIVD_EPROTO);
	assert_null(p);
	assert_non_null(strstr(privd_errmsg(f->c), "more journal entries"));
	ee.n_entries = 0;
	ee.more = 1;
	REFUSED("progress");
	/* a register name of 64 bytes is fine */
	ee.more = 0;
	ee.entries = list;
	ee.n_entries = 2;
	bad = ent[1];
	bad.register_ =
	    "a123456789b123456789c123456789d123456789e123456789f123456789g123";
	assert_int_equal(privd_erasures_export(f->c, 0, 0, &p), PRIVD_OK);
	assert_int_equal(strlen(p->entries[1].reg), 64);
	privd_erasure_page_free(&p);
	f->answer = NULL;
#undef REFUSED
}

/*
 * The fake's journal: entries from after, at most limit (or 1000), up to
 * head at the first request and up to len at the later ones (the journal
 * grew meanwhile), with the faults set by the test.
 */
struct jsrv {
	uint64_t head;      /* the journal's head at the first request */
	uint64_t len;       /* and at the later ones (up to NENT) */
	uint64_t skip;      /* leave this seq out (0: none) */
	uint64_t stop;      /* serve nothing past it, head all the same */
	uint64_t head_back; /* at the second page, say this head */
	int calls;
	uint64_t afters[16];
	uint32_t limits[16];
	Privd__V1__Response r;
	Privd__V1__ErasuresExportResponse ee;
	Privd__V1__ErasureEntry *list[1000];
};

static Privd__V1__Response *
jsrv_respond(struct fake *f, const Privd__V1__Request *req)
{
	struct jsrv *j = f->respond_arg;
	uint64_t after = req->erasures_export->after, s, top;
	uint32_t limit = req->erasures_export->limit;
	size_t n = 0;

	if (j->calls < 16) {
		j->afters[j->calls] = after;
		j->limits[j->calls] = limit;
	}
	j->calls++;
	j->r = (Privd__V1__Response)PRIVD__V1__RESPONSE__INIT;
	j->ee = (Privd__V1__ErasuresExportResponse)
	    PRIVD__V1__ERASURES_EXPORT_RESPONSE__INIT;
	ANSWER(j->r, ERASURES_EXPORT, erasures_export, &j->ee);
	if (limit == 0 || limit > 1000)
		limit = 1000;
	top = j->calls == 1 ? j->head : j->len;
	j->ee.head = j->calls == 2 && j->head_back ? j->head_back : top;
	if (j->stop != 0 && j->stop < top)
		top = j->stop;
	for (s = after + 1; s <= top && n < limit; s++)
		if (s != j->skip)
			j->list[n++] = &ent[s - 1];
	j->ee.entries = j->list;
	j->ee.n_entries = n;
	j->ee.more = n > 0 && j->list[n - 1]->seq < top;
	return &j->r;
}

/* Export into memory; the text in *text (free it). */
static int
export_text(
    struct fake *f, uint64_t after, char **text, uint64_t *n, uint64_t *head)
{
	size_t len;
	FILE *fp = open_memstream(text, &len);
	int rc;

	assert_non_null(fp);
	rc = privd_erasures_export_file(f->c, after, fp, n, head);
	fclose(fp);
	return rc;
}

/* The line of entry seq, as the journal file has it. */
static void
entry_line(uint64_t seq, char *buf, size_t size)
{
	const Privd__V1__ErasureEntry *e = &ent[seq - 1];
	char hex[65];

	sodium_bin2hex(hex, sizeof(hex), e->subject_hash.data, 32);
	snprintf(buf, size,
	    "{\"seq\":%llu,\"time_us\":%llu,\"kind\":\"%s\",\"subject_hash\":"
	    "\"%s\",\"register\":\"%s\",\"fields\":[%s]}\n",
	    (unsigned long long)seq, (unsigned long long)e->time_us, e->kind,
	    hex, e->register_, e->n_fields ? "\"email\",\"phone\"" : "");
}

/*
 * The journal file: its first line, then every entry after after up to
 * the head privd said first, one line each, fetched 1000 at a time from
 * where the last page ended; entries past that head are left out.
 */
static void
test_erasures_file(void **state)
{
	struct fake *f = *state;
	struct jsrv j = {.head = 2500, .len = 2600};
	static const char first[] = "{\"privd_erasure_journal\":1,"
	                            "\"head\":2500,\"after\":0,"
	                            "\"exported_at\":\"";
	char *text, *line, want[400];
	uint64_t n, head, s;

	entries_init();
	f->respond = jsrv_respond;
	f->respond_arg = &j;
	assert_int_equal(export_text(f, 0, &text, &n, &head), PRIVD_OK);
	assert_int_equal(n, 2500);
	assert_int_equal(head, 2500);
	assert_int_equal(j.calls, 3);
	assert_int_equal(j.afters[0], 0);
	assert_int_equal(j.afters[1], 1000);
	assert_int_equal(j.afters[2], 2000);
	assert_int_equal(j.limits[0], 1000);
	assert_int_equal(strncmp(text, first, strlen(first)), 0);
	/* "exported_at":"YYYY-MM-DDTHH:MM:SSZ"} */
	line = strchr(text, '\n') + 1;
	assert_int_equal(line - text, strlen(first) + 20 + 3);
	assert_memory_equal(line - 4, "Z\"}\n", 4);
	for (s = 1; s <= 2500; s++) {
		entry_line(s, want, sizeof(want));
		assert_int_equal(strncmp(line, want, strlen(want)), 0);
		line += strlen(want);
	}
	assert_string_equal(line, "");
	free(text);

	/* after 2400: 100 entries, one page; after the head: none */
	j.calls = 0;
	assert_int_equal(export_text(f, 2400, &text, &n, &head), PRIVD_OK);
	assert_int_equal(n, 100);
	assert_int_equal(j.calls, 1);
	assert_non_null(strstr(text, "\"head\":2500,\"after\":2400,"));
	entry_line(2401, want, sizeof(want));
	assert_non_null(strstr(text, want));
	free(text);
	j.calls = 0;
	assert_int_equal(export_text(f, 2500, &text, &n, &head), PRIVD_OK);
	assert_int_equal(n, 0);
	assert_int_equal(head, 2500);
	assert_int_equal(strchr(text, '\n')[1], '\0');
	free(text);

	/* a gap: refused, naming the seq missing */
	j.skip = 1500;
	j.calls = 0;
	assert_int_equal(export_text(f, 0, &text, &n, &head), PRIVD_EPROTO);
	assert_non_null(strstr(privd_errmsg(f->c), "skips seq 1500"));
	assert_int_equal(n, 0);
	free(text);
	j.skip = 1;
	j.calls = 0;
	assert_int_equal(export_text(f, 0, &text, &n, &head), PRIVD_EPROTO);
	free(text);
	j.skip = 0;
	/* the journal ends before the head it said */
	j.stop = 2400;
	j.calls = 0;
	assert_int_equal(export_text(f, 0, &text, &n, &head), PRIVD_EPROTO);
	assert_non_null(strstr(privd_errmsg(f->c), "before its head"));
	free(text);
	j.stop = 0;
	/* the head goes back */
	j.calls = 0;
	j.head_back = 2499;
	assert_int_equal(export_text(f, 0, &text, &n, &head), PRIVD_EPROTO);
	assert_non_null(strstr(privd_errmsg(f->c), "went back"));
	free(text);
	j.head_back = 0;
	assert_int_equal(
	    privd_erasures_export_file(f->c, 0, NULL, &n, &head), PRIVD_EINVAL);
	f->respond = NULL;
	f->respond_arg = NULL;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_erasures_page, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_erasures_malformed, fake_setup, fake_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_erasures_file, fake_setup, fake_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
