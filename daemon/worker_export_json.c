/*
 * worker_export_json.c - the JSON writer of a subject export (see
 * worker_export.h). Small and strict: it writes only what the export
 * hands it, strings it is told are UTF-8, and wipes every byte it lets
 * go, since the document holds a person's values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker_export.h"

void
jb_init(jbuf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

void
jb_free(jbuf *b)
{
	if (b->p != NULL)
		sodium_memzero(b->p, b->cap);
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Grow to hold n more bytes: a new buffer, the old one wiped. */
static bool
grow(jbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	while (cap - b->len < n)
		cap *= 2;
	if ((p = malloc(cap)) == NULL) {
		b->nomem = true;
		return false;
	}
	if (b->p != NULL) {
		memcpy(p, b->p, b->len);
		sodium_memzero(b->p, b->cap);
		free(b->p);
	}
	b->p = p;
	b->cap = cap;
	return true;
}

/* Every byte goes through here: counted always, stored while it fits. */
static void
put(jbuf *b, const void *s, size_t n)
{
	b->total += n;
	if (n == 0 || b->total > b->limit || b->nomem)
		return;
	if (b->cap - b->len < n && !grow(b, n))
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
putc1(jbuf *b, char c)
{
	put(b, &c, 1);
}

/* Before a value: a comma if it is not its container's first. */
static void
sep(jbuf *b)
{
	if (b->after_key) {
		b->after_key = false;
		return;
	}
	if (b->depth > 0 && b->count[b->depth - 1]++ > 0)
		putc1(b, ',');
}

static void
open_c(jbuf *b, char c)
{
	sep(b);
	putc1(b, c);
	/* deeper than the export nests is a bug: keep the output valid */
	if (b->depth < EXPORT_MAX_DEPTH)
		b->count[b->depth] = 0;
	b->depth++;
}

static void
close_c(jbuf *b, char c)
{
	b->depth--;
	putc1(b, c);
}

void
jb_obj(jbuf *b)
{
	open_c(b, '{');
}

void
jb_obj_end(jbuf *b)
{
	close_c(b, '}');
}

void
jb_arr(jbuf *b)
{
	open_c(b, '[');
}

void
jb_arr_end(jbuf *b)
{
	close_c(b, ']');
}

/* A quoted string with JSON's escapes; s is UTF-8, copied as it is. */
static void
quoted(jbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char e[6] = {'\\', 'u', '0', '0', 0, 0};
	size_t i, run = 0;
	unsigned char c;

	putc1(b, '"');
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		put(b, s + run, i - run);
		run = i + 1;
		switch (c) {
		case '"':
			put(b, "\\\"", 2);
			break;
		case '\\':
			put(b, "\\\\", 2);
			break;
		case '\n':
			put(b, "\\n", 2);
			break;
		case '\r':
			put(b, "\\r", 2);
			break;
		case '\t':
			put(b, "\\t", 2);
			break;
		default:
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			put(b, e, sizeof(e));
		}
	}
	put(b, s + run, n - run);
	putc1(b, '"');
}

void
jb_key(jbuf *b, const char *name)
{
	sep(b);
	quoted(b, name, strlen(name));
	putc1(b, ':');
	b->after_key = true;
}

void
jb_str(jbuf *b, const char *s, size_t n)
{
	sep(b);
	quoted(b, s, n);
}

void
jb_cstr(jbuf *b, const char *s)
{
	if (s == NULL)
		jb_null(b);
	else
		jb_str(b, s, strlen(s));
}

void
jb_base64(jbuf *b, const uint8_t *v, size_t n)
{
	const int variant = sodium_base64_VARIANT_ORIGINAL;
	size_t cap = sodium_base64_ENCODED_LEN(n, variant);
	char *t;

	sep(b);
	if ((t = malloc(cap)) == NULL) {
		b->nomem = true;
		return;
	}
	sodium_bin2base64(t, cap, v, n, variant);
	putc1(b, '"');
	put(b, t, cap - 1);
	putc1(b, '"');
	sodium_memzero(t, cap);
	free(t);
}

void
jb_u64(jbuf *b, uint64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "%llu", (unsigned long long)v);

	sep(b);
	put(b, t, (size_t)n);
}

void
jb_bool(jbuf *b, bool v)
{
	sep(b);
	if (v)
		put(b, "true", 4);
	else
		put(b, "false", 5);
}

void
jb_null(jbuf *b)
{
	sep(b);
	put(b, "null", 4);
}

void
jb_time(jbuf *b, uint64_t us)
{
	time_t s = (time_t)(us / 1000000);
	struct tm tm;
	char t[40];
	int n;

	if (gmtime_r(&s, &tm) == NULL) {
		jb_null(b); /* not a time (the schema allows no null here,
		               but privd's times are all far from that) */
		return;
	}
	n = snprintf(t, sizeof(t), "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, (unsigned)(us % 1000000));
	jb_str(b, t, (size_t)n);
}

void
jb_time0(jbuf *b, uint64_t us)
{
	if (us == 0)
		jb_null(b);
	else
		jb_time(b, us);
}

void
jb_append(jbuf *b, const jbuf *src)
{
	sep(b);
	if (src->nomem)
		b->nomem = true;
	if (jb_over(src)) {
		/* what src would have held still counts */
		b->total += src->total;
		return;
	}
	put(b, src->p, src->len);
}

bool
export_utf8(const uint8_t *v, size_t n)
{
	uint32_t cp;
	size_t k;

	while (n > 0) {
		if ((k = pol_utf8_char(v, n, &cp)) == 0)
			return false;
		v += k;
		n -= k;
	}
	return true;
}
