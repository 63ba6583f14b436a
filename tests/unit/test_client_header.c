/*
 * test_client_header.c - the public headers read as text
 * (PRIVD_HEADER_DIR) against the library that runs (LIBPRIVD_PATH), as
 * lmdb.h and zmq.h would pass: every function declared is exported and
 * every function exported is declared, and every function that returns a
 * status lists its errors ("Errors:"), naming only real status codes and
 * not trailing off in "...".
 */
#include <ctype.h>
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <privd/client.h>

/* The headers, as installed under <privd/...>. */
static const char *const headers[] = {
    "client.h", "audit.h", "retention.h", "rights.h", "backup.h"};
#define NHEADERS (sizeof(headers) / sizeof(headers[0]))

/* The status codes <privd/client.h> defines, by name. */
static const struct {
	const char *name;
	int value;
} statuses[] = {
    {"PRIVD_OK", PRIVD_OK},
    {"PRIVD_EINVAL", PRIVD_EINVAL},
    {"PRIVD_EDENIED", PRIVD_EDENIED},
    {"PRIVD_ENOTFOUND", PRIVD_ENOTFOUND},
    {"PRIVD_ECONFLICT", PRIVD_ECONFLICT},
    {"PRIVD_ERETAINED", PRIVD_ERETAINED},
    {"PRIVD_ETOOBIG", PRIVD_ETOOBIG},
    {"PRIVD_EUNAVAILABLE", PRIVD_EUNAVAILABLE},
    {"PRIVD_ETIMEOUT", PRIVD_ETIMEOUT},
    {"PRIVD_EPROTO", PRIVD_EPROTO},
    {"PRIVD_EINTERNAL", PRIVD_EINTERNAL},
    {"PRIVD_ENOMEM", PRIVD_ENOMEM},
    {"PRIVD_EKEY", PRIVD_EKEY},
    {"PRIVD_ETAMPERED", PRIVD_ETAMPERED},
    {"PRIVD_EHANDSHAKE", PRIVD_EHANDSHAKE},
};
#define NSTATUSES (sizeof(statuses) / sizeof(statuses[0]))

/*
 * Functions that return int but not a status: they need no error list.
 * privd_reason() returns a deny reason.
 */
static const char *const not_status[] = {"privd_reason"};

/* A header's text, NUL-terminated, owned by the caller. */
static char *
read_header(const char *name)
{
	const char *dir = getenv("PRIVD_HEADER_DIR");
	char path[512];
	FILE *f;
	char *text;
	long n;

	assert_non_null(dir);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	text = malloc((size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* One function declared in a header: its name, whether it returns int,
 * and the comment just above it (pointers into the header's text). */
struct decl {
	char name[64];
	int returns_int;
	const char *doc, *doc_end;
	const char *header;
};

#define MAX_DECLS 256

/*
 * The functions a header declares: each line at column 0 that starts a
 * declaration of a privd_ function, with the comment that ends on the
 * line before (the house style puts one above every function, a group's
 * comment above a group's first function).
 */
static size_t
parse_decls(const char *header, const char *text, struct decl *d, size_t max)
{
	const char *line, *p, *q, *end;
	size_t n = 0, len;

	for (line = text; *line != '\0'; line = (p = strchr(line, '\n')) != NULL
	                                            ? p + 1
	                                            : line + strlen(line)) {
		if (isspace((unsigned char)*line) || *line == '#' ||
		    *line == '/' || *line == '*' || *line == '}' ||
		    strncmp(line, "typedef", 7) == 0 ||
		    strncmp(line, "extern", 6) == 0)
			continue;
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		/* the name is the identifier just before the first '(' */
		if ((q = strchr(line, '(')) == NULL || q > end)
			continue;
		for (p = q; p > line &&
		            (isalnum((unsigned char)p[-1]) || p[-1] == '_');
		     p--)
			;
		if (strncmp(p, "privd_", 6) != 0)
			continue;
		assert_true(n < max);
		len = (size_t)(q - p);
		assert_true(len < sizeof(d[n].name));
		memcpy(d[n].name, p, len);
		d[n].name[len] = '\0';
		d[n].returns_int = strncmp(line, "int ", 4) == 0;
		d[n].header = header;
		/* the comment that closes on the line before, if any */
		d[n].doc = d[n].doc_end = NULL;
		if (line - text >= 4 && strncmp(line - 4, " */\n", 4) == 0) {
			d[n].doc_end = line - 1;
			for (q = line - 4; q > text; q--)
				if (q[0] == '/' && q[1] == '*')
					break;
			d[n].doc = q;
		} else if (line - text >= 3 &&
		           strncmp(line - 3, "*/\n", 3) == 0) {
			d[n].doc_end = line - 1;
			for (q = line - 3; q > text; q--)
				if (q[0] == '/' && q[1] == '*')
					break;
			d[n].doc = q;
		}
		n++;
	}
	return n;
}

/* Does [s, e) contain needle? */
static const char *
find_in(const char *s, const char *e, const char *needle)
{
	size_t n = strlen(needle);

	for (; s + n <= e; s++)
		if (memcmp(s, needle, n) == 0)
			return s;
	return NULL;
}

/*
 * Check one function's errors: its comment has "Errors:" (or says it
 * cannot fail), every PRIVD_E* name in it is a status that exists, and the
 * list does not trail off in "...".
 */
/* Say what is wrong with the headers; returns 1, to count problems. */
static int
problem(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

static int
check_errors(const struct decl *d)
{
	const char *err, *p;
	size_t i, k, len;
	char name[32];
	int found, bad = 0;

	for (i = 0; i < sizeof(not_status) / sizeof(not_status[0]); i++)
		if (strcmp(d->name, not_status[i]) == 0)
			return 0;
	if (d->doc == NULL)
		return problem(
		    "%s (%s): no comment above it", d->name, d->header);
	err = find_in(d->doc, d->doc_end, "Errors:");
	if (err == NULL)
		err = find_in(d->doc, d->doc_end, "errors:");
	if (err == NULL && find_in(d->doc, d->doc_end, "Cannot fail") == NULL)
		return problem(
		    "%s (%s): no list of errors", d->name, d->header);
	if (err == NULL)
		return 0;
	if (find_in(err, d->doc_end, "...") != NULL)
		bad += problem(
		    "%s (%s): its error list has \"...\"", d->name, d->header);
	for (p = err; (p = find_in(p, d->doc_end, "PRIVD_E")) != NULL;
	     p += len) {
		for (len = 0; isalnum((unsigned char)p[len]) || p[len] == '_';
		     len++)
			;
		assert_true(len < sizeof(name));
		memcpy(name, p, len);
		name[len] = '\0';
		found = 0;
		for (k = 0; k < NSTATUSES; k++)
			found |= strcmp(name, statuses[k].name) == 0;
		if (!found)
			bad += problem("%s (%s): its errors name %s, which is "
			               "no status",
			    d->name, d->header, name);
	}
	return bad;
}

/*
 * Every function declared: exported by the library that runs (a function
 * declared but not exported would fail to link in a program), with its
 * errors listed. Every privd_ function the library exports: declared (the
 * version script exports privd_[a-z]*: nothing else may leak).
 */
static void
test_headers_match_library(void **state)
{
	static struct decl d[MAX_DECLS];
	char *text[NHEADERS], cmd[600], line[256], sym[128], type;
	const char *lib = getenv("LIBPRIVD_PATH");
	size_t n = 0, i, k;
	FILE *nm;
	void *dl;
	int found, nsyms = 0, bad = 0;

	(void)state;
	for (i = 0; i < NHEADERS; i++) {
		text[i] = read_header(headers[i]);
		n += parse_decls(headers[i], text[i], d + n, MAX_DECLS - n);
	}
	assert_true(n > 50); /* a parse that finds too few would check little */
	assert_non_null(lib);
	dl = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL)
		fail_msg("dlopen %s: %s", lib, dlerror());
	for (i = 0; i < n; i++) {
		for (k = 0; k < i; k++)
			if (strcmp(d[i].name, d[k].name) == 0)
				fail_msg("%s is declared twice", d[i].name);
		if (dlsym(dl, d[i].name) == NULL)
			fail_msg("%s (%s) is declared but not exported",
			    d[i].name, d[i].header);
		if (d[i].returns_int)
			bad += check_errors(&d[i]);
	}
	if (bad > 0)
		fail_msg("%d problems with the headers' error lists", bad);

	dlclose(dl);
	snprintf(cmd, sizeof(cmd), "nm -D --defined-only '%s'", lib);
	nm = popen(cmd, "r");
	assert_non_null(nm);
	while (fgets(line, sizeof(line), nm) != NULL) {
		if (sscanf(line, "%*s %c %127s", &type, sym) != 2 ||
		    (type != 'T' && type != 'D' && type != 'B' && type != 'R'))
			continue;
		if (strncmp(sym, "privd_", 6) != 0)
			fail_msg("the library exports %s", sym);
		nsyms++;
		found = 0;
		for (i = 0; i < n; i++)
			found |= strcmp(sym, d[i].name) == 0;
		if (!found)
			fail_msg("%s is exported but declared nowhere", sym);
	}
	assert_int_equal(pclose(nm), 0);
	assert_int_equal(nsyms, (int)n);
	for (i = 0; i < NHEADERS; i++)
		free(text[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_headers_match_library),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
