/*
 * restore_journal.c - the erasure journal a restore applies again: read
 * from the replaced store, or from the file `privctl erasures export`
 * wrote; see restore.h.
 *
 * The file is JSON lines: first
 *   {"privd_erasure_journal":1,"head":N,"after":A,"exported_at":"..."}
 * then one entry per line, oldest first:
 *   {"seq":N,"time_us":N,"kind":"erase|delete|retention",
 *    "subject_hash":"<64 hex>","register":"R","fields":["f",...]}
 * A restore trusts nothing in it it can check: every line is parsed
 * completely, and the first one that is not right stops the restore
 * (named by its number) before anything is changed. rst_load_journal
 * chooses between the replaced store's journal and the file.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restore.h"
#include "substate.h"

#define JOURNAL_FILE_VERSION 1
#define LINE_MAX_BYTES       (64 * 1024) /* 256 fields of 64 bytes fit */

void
rst_journal_free(rst_journal *j)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		free(j->e[i].fields);
	free(j->e);
	memset(j, 0, sizeof(*j));
}

/* A new entry at the end of j, zeroed; NULL when out of memory. */
static rst_entry *
push(rst_journal *j)
{
	rst_entry *e;

	if (j->n == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 64;

		if ((e = realloc(j->e, cap * sizeof(*e))) == NULL)
			return NULL;
		j->e = e;
		j->cap = cap;
	}
	e = &j->e[j->n++];
	memset(e, 0, sizeof(*e));
	return e;
}

/* A journal entry's fields, copied. */
static int
set_fields(rst_entry *e, size_t n)
{
	if (n > 0 && (e->fields = calloc(n, sizeof(*e->fields))) == NULL)
		return -1;
	e->nfields = n;
	return 0;
}

int
rst_journal_from_store(store *st, store_txn *txn, uint64_t after,
    rst_journal *j, char *err, size_t errlen)
{
	journal_entry *je;
	rst_entry *e;
	store_cur *c;
	store_val k, v;
	uint8_t kb[8];
	size_t i;
	int rc;

	if ((rc = journal_head(st, txn, &j->head)) != 0) {
		snprintf(err, errlen,
		    "cannot read the erasure journal of the store in the data "
		    "directory: %s",
		    store_strerror(rc));
		return -1;
	}
	if ((je = malloc(sizeof(*je))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((rc = store_cur_open(txn, STORE_ERASURES, &c)) != 0) {
		free(je);
		snprintf(err, errlen, "%s", store_strerror(rc));
		return -1;
	}
	store_be64(kb, after + 1);
	k.size = sizeof(kb);
	k.data = kb;
	for (rc = store_cur_get(c, &k, &v, STORE_SET_RANGE); rc == 0;
	     rc = store_cur_get(c, &k, &v, STORE_NEXT)) {
		if (journal_decode(&k, &v, je) != 0) {
			snprintf(err, errlen,
			    "the erasure journal's record %llu is damaged: "
			    "restore it from a journal file (--journal) that "
			    "holds it",
			    (unsigned long long)(k.size == 8
			                             ? store_get_be64(k.data)
			                             : 0));
			rc = -1;
			break;
		}
		if ((e = push(j)) == NULL || set_fields(e, je->nfields) != 0) {
			snprintf(err, errlen, "out of memory");
			rc = -1;
			break;
		}
		e->seq = je->seq;
		e->time_us = je->time_us;
		e->kind = je->kind;
		memcpy(e->sid, je->sid, sizeof(e->sid));
		memcpy(e->reg, je->reg, sizeof(e->reg));
		for (i = 0; i < je->nfields; i++)
			memcpy(
			    e->fields[i], je->fields[i], sizeof(e->fields[i]));
	}
	store_cur_close(c);
	free(je);
	if (rc == STORE_NOTFOUND)
		return 0;
	if (rc > 0 || rc < -1)
		snprintf(err, errlen, "cannot read the erasure journal: %s",
		    store_strerror(rc));
	return -1;
}

/* A name of the journal (register, field): 1..POL_MAX_NAME bytes. */
static int
name_of(json_t *v, char *out)
{
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return -1;
	s = json_string_value(v);
	n = json_string_length(v);
	if (n == 0 || n > POL_MAX_NAME || strlen(s) != n)
		return -1;
	memcpy(out, s, n + 1);
	return 0;
}

/* A non-negative integer member. */
static int
u64_of(json_t *o, const char *name, uint64_t *out)
{
	json_t *v = json_object_get(o, name);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

static int
kind_of(json_t *v)
{
	static const int kinds[] = {JOURNAL_ERASE, JOURNAL_DELETE,
	    JOURNAL_RETENTION, JOURNAL_RESTRICTED, JOURNAL_STATE};
	size_t i;

	if (!json_is_string(v))
		return -1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(json_string_value(v), journal_kind_name(kinds[i])) ==
		    0)
			return kinds[i];
	return -1;
}

/* Parse one entry line into e: NULL, or what is wrong with it. */
static const char *
parse_entry(json_t *o, rst_entry *e)
{
	json_t *v = json_object_get(o, "subject_hash"), *f;
	size_t i, n;

	if (!json_is_object(o))
		return "not a JSON object";
	if (u64_of(o, "seq", &e->seq) != 0 || e->seq == 0)
		return "seq must be a positive integer";
	if (u64_of(o, "time_us", &e->time_us) != 0)
		return "time_us must be a non-negative integer";
	if ((e->kind = kind_of(json_object_get(o, "kind"))) < 0)
		return "kind must be \"erase\", \"delete\", \"retention\", "
		       "\"restricted\" or \"state\"";
	if (!json_is_string(v) ||
	    json_string_length(v) != 2 * CRYPTO_SUBJECT_IDBYTES ||
	    sodium_hex2bin(e->sid, sizeof(e->sid), json_string_value(v),
	        json_string_length(v), NULL, &n, NULL) != 0 ||
	    n != sizeof(e->sid))
		return "subject_hash must be 64 hex digits";
	if (name_of(json_object_get(o, "register"), e->reg) != 0)
		return "register must be a name of 1..64 bytes";
	f = json_object_get(o, "fields");
	if (!json_is_array(f) || json_array_size(f) > POL_MAX_FIELDS)
		return "fields must be an array of at most 256 names";
	if (set_fields(e, json_array_size(f)) != 0)
		return "out of memory";
	for (i = 0; i < e->nfields; i++)
		if (name_of(json_array_get(f, i), e->fields[i]) != 0)
			return "fields must be names of 1..64 bytes";
	return NULL;
}

/* The first line: the journal file's header. NULL, or what is wrong. */
static const char *
parse_header(json_t *o, uint64_t *head, uint64_t *after)
{
	uint64_t version;

	if (!json_is_object(o) ||
	    u64_of(o, "privd_erasure_journal", &version) != 0)
		return "not a privd erasure journal (no "
		       "\"privd_erasure_journal\" header)";
	if (version != JOURNAL_FILE_VERSION)
		return "a version of the journal file this privd does not "
		       "read";
	if (u64_of(o, "head", head) != 0 || u64_of(o, "after", after) != 0)
		return "the header needs head and after (integers)";
	return NULL;
}

int
rst_journal_from_file(
    const char *path, uint64_t after, rst_journal *j, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	uint64_t fafter = 0, last = 0;
	const char *why = NULL;
	json_error_t jerr;
	rst_entry tmp, *e;
	ssize_t len;
	json_t *o;
	FILE *f;
	int rc = -1;

	if ((f = fopen(path, "re")) == NULL) {
		snprintf(
		    err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		while (
		    len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 && lineno > 1)
			continue; /* a blank line at the end */
		if (len > LINE_MAX_BYTES) {
			why = "longer than any entry";
			break;
		}
		o = json_loadb(
		    line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
		if (o == NULL) {
			why = "not JSON";
			break;
		}
		if (lineno == 1) {
			why = parse_header(o, &j->head, &fafter);
			json_decref(o);
			if (why != NULL)
				break;
			continue;
		}
		memset(&tmp, 0, sizeof(tmp));
		why = parse_entry(o, &tmp);
		json_decref(o);
		if (why == NULL && tmp.seq <= last)
			why = "seq is not after the line before's";
		if (why == NULL && tmp.seq > j->head)
			why = "seq is past the head the header gives";
		if (why != NULL) {
			free(tmp.fields);
			break;
		}
		last = tmp.seq;
		if (tmp.seq <= after) {
			free(tmp.fields); /* in the backup already */
			continue;
		}
		if ((e = push(j)) == NULL) {
			free(tmp.fields);
			why = "out of memory";
			break;
		}
		*e = tmp;
	}
	if (why != NULL)
		snprintf(err, errlen, "%s line %zu: %s", path, lineno, why);
	else if (ferror(f))
		snprintf(
		    err, errlen, "cannot read %s: %s", path, strerror(errno));
	else if (lineno == 0)
		snprintf(err, errlen, "%s is empty: not a journal file", path);
	else if (last != j->head && last != 0)
		snprintf(err, errlen,
		    "%s ends at seq %llu, but its header says its head is "
		    "%llu: the file is truncated",
		    path, (unsigned long long)last,
		    (unsigned long long)j->head);
	else if (fafter > after && j->head > after)
		snprintf(err, errlen,
		    "%s holds the journal after seq %llu only; this backup "
		    "needs it from seq %llu on (export with --after %llu or "
		    "less)",
		    path, (unsigned long long)fafter,
		    (unsigned long long)(after + 1), (unsigned long long)after);
	else
		rc = 0;
	free(line);
	fclose(f);
	return rc;
}

int
rst_journal_check(
    const rst_journal *j, uint64_t after, char *err, size_t errlen)
{
	uint64_t want = after + 1;
	size_t i;

	if (j->head < after) {
		snprintf(err, errlen,
		    "the erasure journal ends at seq %llu, before the "
		    "backup's (%llu): the store or journal is older than the "
		    "backup",
		    (unsigned long long)j->head, (unsigned long long)after);
		return -1;
	}
	for (i = 0; i < j->n; i++, want++) {
		if (j->e[i].seq != want) {
			snprintf(err, errlen,
			    "the erasure journal has a gap: seq %llu follows "
			    "%llu (the entries between are missing)",
			    (unsigned long long)j->e[i].seq,
			    (unsigned long long)(want - 1));
			return -1;
		}
	}
	if (want - 1 != j->head) {
		snprintf(err, errlen,
		    "the erasure journal's entries end at seq %llu, before "
		    "its head %llu",
		    (unsigned long long)(want - 1),
		    (unsigned long long)j->head);
		return -1;
	}
	return 0;
}

/* Do two journal entries (of the same seq) record the same deletion? */
static bool
same_entry(const rst_entry *a, const rst_entry *b)
{
	size_t i;

	if (a->seq != b->seq || a->kind != b->kind ||
	    memcmp(a->sid, b->sid, sizeof(a->sid)) != 0 ||
	    strcmp(a->reg, b->reg) != 0 || a->nfields != b->nfields)
		return false;
	for (i = 0; i < a->nfields; i++)
		if (strcmp(a->fields[i], b->fields[i]) != 0)
			return false;
	return true;
}

/*
 * The journal to apply again, checked to reach back to the backup: the
 * replaced store's, the file's (--journal), or, with both, the longer of
 * the two once they agree where they overlap. Both are read whenever both
 * exist: a file exported before the last erasures must not hide them
 * while the store that recorded them is at hand (its audit events, copied
 * below, would say the person was erased while the data came back).
 */
int
rst_load_journal(rst *r)
{
	uint64_t after = r->bi.journal_head;
	rst_journal fj;
	size_t i, n;

	memset(&fj, 0, sizeof(fj));
	r->jsource = r->jpath;
	if (!r->has_old && r->jpath == NULL)
		return rst_refuse(r,
		    "%s holds no store to read the erasure journal from: give "
		    "the journal exported before it was lost with --journal "
		    "FILE (privctl erasures export)",
		    r->db ? "the database" : r->dir);
	if (r->has_old) {
		if (rst_journal_from_store(r->old, r->otxn, after, &r->j,
		        r->why, sizeof(r->why)) != 0)
			return -1;
		r->jsource = "the replaced store";
		if (r->j.head < after && r->jpath == NULL)
			return rst_refuse(r,
			    "the store in %s is older than the backup: its "
			    "erasure journal ends at seq %llu, the backup's at "
			    "%llu; restore a backup older than it, or give the "
			    "journal with --journal",
			    r->dir, (unsigned long long)r->j.head,
			    (unsigned long long)after);
		if (r->jpath == NULL)
			return rst_journal_check(
			    &r->j, after, r->why, sizeof(r->why));
		if (r->j.head < after || rst_journal_check(&r->j, after, r->why,
		                             sizeof(r->why)) != 0) {
			/* an older or damaged store: the file alone */
			rst_journal_free(&r->j);
			r->has_old_journal = false;
		} else {
			r->has_old_journal = true;
		}
	}
	if (rst_journal_from_file(
	        r->jpath, after, &fj, r->why, sizeof(r->why)) != 0 ||
	    rst_journal_check(&fj, after, r->why, sizeof(r->why)) != 0) {
		rst_journal_free(&fj);
		return -1;
	}
	if (!r->has_old_journal) {
		rst_journal_free(&r->j);
		r->j = fj;
		r->jsource = r->jpath;
		return 0;
	}
	n = r->j.n < fj.n ? r->j.n : fj.n;
	for (i = 0; i < n; i++)
		if (!same_entry(&r->j.e[i], &fj.e[i])) {
			rst_journal_free(&fj);
			return rst_refuse(r,
			    "the journal in %s and the erasure journal of the "
			    "store in %s differ at seq %llu: they are not of "
			    "the same store",
			    r->jpath, r->dir,
			    (unsigned long long)r->j.e[i].seq);
		}
	if (fj.head > r->j.head) {
		rst_journal_free(&r->j);
		r->j = fj;
		r->jsource = r->jpath;
	} else {
		rst_journal_free(&fj);
		r->jsource = fj.head == r->j.head
		                 ? "the replaced store (the same as the file)"
		                 : "the replaced store (it goes further than "
		                   "the file)";
	}
	return 0;
}
