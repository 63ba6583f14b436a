/*
 * worker_export.h - what the files of a subject export share
 * (worker_export.c: the request and the registers' data;
 * worker_export_audit.c: who used the data, from the audit log;
 * worker_export_json.c: the JSON writer). Internal to the workers. The
 * document's schema is docs/subject-export.schema.json.
 */
#ifndef PRIVD_WORKER_EXPORT_H
#define PRIVD_WORKER_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "worker.h"

/* The largest document privd answers with: libprivd takes replies of up
 * to 64 MiB, and this leaves room for the rest of the reply. */
#define EXPORT_MAX_BYTES (32u * 1024 * 1024)
/* Events listed at most in each of the document's lists of the audit
 * log's events (the most recent ones; the rest are counted). */
#define EXPORT_MAX_RECIPIENTS 100000
#define EXPORT_MAX_ACTIONS    100000
#define EXPORT_MAX_REQUESTS   100000
#define EXPORT_FORMAT_VERSION 1
#define EXPORT_MAX_DEPTH      8 /* nesting of the document */

/*
 * A JSON document being written: a growing buffer that is wiped whenever
 * it is moved or freed (it holds values). Past limit bytes it stops
 * storing and only counts (total), so that the caller can tell how large
 * the document would have been, and where it grew. Commas go in by
 * themselves: jb_key() before a member, nothing before an item.
 */
typedef struct jbuf {
	char *p;
	size_t len, cap;
	size_t total; /* bytes of the document so far, stored or not */
	size_t limit;
	bool nomem;
	bool after_key;
	int depth;
	size_t count[EXPORT_MAX_DEPTH]; /* members or items so far */
} jbuf;

void jb_init(jbuf *b, size_t limit);
/* Wipe and free. */
void jb_free(jbuf *b);
/* Past its limit (or out of memory): the document is not all there. */
static inline bool
jb_over(const jbuf *b)
{
	return b->total > b->limit;
}
void jb_obj(jbuf *b);
void jb_obj_end(jbuf *b);
void jb_arr(jbuf *b);
void jb_arr_end(jbuf *b);
void jb_key(jbuf *b, const char *name);
/* A string: s is n bytes of valid UTF-8 (jb_cstr: NUL-terminated; NULL
 * writes null). */
void jb_str(jbuf *b, const char *s, size_t n);
void jb_cstr(jbuf *b, const char *s);
void jb_base64(jbuf *b, const uint8_t *v, size_t n);
void jb_u64(jbuf *b, uint64_t v);
void jb_bool(jbuf *b, bool v);
void jb_null(jbuf *b);
/* A time, microseconds since the epoch, as RFC 3339 UTC with
 * microseconds ("2026-11-27T10:00:00.000000Z"); jb_time0: 0 is null. */
void jb_time(jbuf *b, uint64_t us);
void jb_time0(jbuf *b, uint64_t us);
/* Append another document (one finished JSON value: a list) as the
 * next value, its bytes as they are. */
void jb_append(jbuf *b, const jbuf *src);
/* Is v (n bytes) valid UTF-8? */
bool export_utf8(const uint8_t *v, size_t n);

/* One register of an export: where the subject is stored. */
typedef struct export_reg {
	const pol_register *r;
	uint8_t sid[CRYPTO_SUBJECT_IDBYTES];
	size_t bytes; /* of the document about it, for a TOO_LARGE answer */
} export_reg;

/* One export under way. */
typedef struct export
{
	worker *w;
	job *j;
	const char *subject;
	size_t slen;
	uint64_t now;
	export_reg regs[POL_MAX_REGISTERS];
	size_t nregs;
	jbuf doc;
}
export;

/*
 * Write the lists of what the audit log says about the subject (by its
 * pseudonym, j->pseudo) into the document: recipients, privd's own
 * actions and the subject's requests, each of the exported registers
 * only, and the count of events that could not be read
 * (worker_export_audit.c). 0, or a store error or ENOMEM.
 */
int export_audit(export *ex, store_txn *txn);

#endif
