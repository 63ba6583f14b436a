/*
 * output.c - how privctl speaks: human lines or one JSON object on stdout,
 * errors on stderr (or as JSON), and the stable exit codes of libprivd's
 * statuses. Nothing printed here ever holds a subject id or a value: it
 * comes from privd's messages (which never do) or from positions on the
 * command line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "policy.h"
#include "privctl.h"

/* Errors as JSON on stdout (the output format is json), else text on
 * stderr: set by main() as soon as it knows the format. */
static int errors_json;

void
output_json_errors(int on)
{
	errors_json = on;
}

/*
 * Print a usage error and the hint, or with the json format the error
 * object {"error": {"status": "usage", "reason": null, "message"}} on
 * stdout; returns the usage exit code.
 */
int
usage_error(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (errors_json) {
		json_print(json_error("usage", msg));
		return EXIT_USAGE;
	}
	fprintf(stderr,
	    "privctl: %s\nTry 'privctl --help' for more information.\n", msg);
	return EXIT_USAGE;
}

/*
 * jansson's memory, wiped when it is freed: JSON that privctl reads or
 * prints holds values and subject ids (put --from-json, get --json). The
 * size is kept in front of each block, which stays aligned for anything.
 */
static void *
json_wipe_malloc(size_t n)
{
	max_align_t *p;

	if (n > SIZE_MAX - sizeof(*p) || (p = malloc(sizeof(*p) + n)) == NULL)
		return NULL;
	*(size_t *)p = n;
	return p + 1;
}

static void
json_wipe_free(void *q)
{
	max_align_t *p;

	if (q == NULL)
		return;
	p = (max_align_t *)q - 1;
	sodium_memzero(q, *(size_t *)p);
	free(p);
}

/* Give jansson json_wipe_malloc(): before privctl uses jansson at all. */
void
json_wipe_alloc(void)
{
	json_set_alloc_funcs(json_wipe_malloc, json_wipe_free);
}

/* The stable exit code of a libprivd status. */
int
exit_code(int status)
{
	switch (status) {
	case PRIVD_OK:
		return 0;
	case PRIVD_EDENIED:
		return EXIT_DENIED;
	case PRIVD_ENOTFOUND:
		return EXIT_NOTFOUND;
	case PRIVD_EINVAL:
	case PRIVD_ETOOBIG:
	case PRIVD_EKEY:
		return EXIT_INVALID;
	case PRIVD_ERETAINED:
	case PRIVD_ECONFLICT:
		return EXIT_KEPT;
	case PRIVD_ETAMPERED:
		return EXIT_TAMPERED;
	case PRIVD_EHANDSHAKE:
		return EXIT_HANDSHAKE;
	case PRIVD_EINDOUBT:
		return EXIT_INDOUBT;
	default:
		return 1;
	}
}

/* Short machine-readable name of a status, for JSON errors. */
static const char *
status_name(int status)
{
	static const char *const names[] = {"ok", "invalid", "denied",
	    "not_found", "conflict", "retained", "too_large", "unavailable",
	    "timeout", "protocol", "internal", "no_memory", "bad_key",
	    "tampered", "handshake", "in_doubt", "expired"};

	if (status < 0 || (size_t)status >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[status];
}

/* Write a JSON value and a newline to stdout; takes the reference.
 * Returns an exit code: 0, or 1 if the value could not be built or written. */
int
json_print(json_t *v)
{
	int rc = 0;

	if (v == NULL || json_dumpf(v, stdout, JSON_COMPACT) != 0) {
		fputs("privctl: cannot format JSON output\n", stderr);
		rc = 1;
	} else
		fputc('\n', stdout);
	json_decref(v);
	return rc;
}

/*
 * An error's JSON object {"error": {"status", "reason", "message"}},
 * reason null (report() sets it for a denial). A message that is not
 * valid UTF-8 (say, a file name from the command line) cannot be a JSON
 * string: then the object says so instead, so that an error object is
 * printed all the same. NULL only if out of memory.
 */
json_t *
json_error(const char *status, const char *message)
{
	json_t *err;

	err = json_pack(
	    "{s:s, s:n, s:s}", "status", status, "reason", "message", message);
	if (err == NULL)
		err = json_pack("{s:s, s:n, s:s}", "status", status, "reason",
		    "message", "(the message is not valid UTF-8)");
	return err != NULL ? json_pack("{s:o}", "error", err) : NULL;
}

/*
 * Report a failed call: JSON on stdout with --json, else one line on
 * stderr. message is privd's or the library's explanation (may be empty);
 * reason is the deny reason for PRIVD_EDENIED. Returns the exit code.
 */
int
report(const struct opts *o, int status, const char *message, int reason)
{
	json_t *err;

	if (message == NULL)
		message = "";
	if (o->json) {
		err = json_error(status_name(status), message);
		if (err != NULL && status == PRIVD_EDENIED)
			json_object_set_new(json_object_get(err, "error"),
			    "reason", json_string(privd_reason_name(reason)));
		json_print(err);
	} else if (status == PRIVD_EDENIED)
		fprintf(stderr, "privctl: %s: %s%s(%s)\n",
		    privd_strerror(status), message, *message ? " " : "",
		    privd_reason_name(reason));
	else if (*message)
		fprintf(stderr, "privctl: %s: %s\n", privd_strerror(status),
		    message);
	else
		fprintf(stderr, "privctl: %s\n", privd_strerror(status));
	return exit_code(status);
}

/* Report the failure of the last call on c. */
int
report_call(const struct opts *o, privd_client *c, int status)
{
	return report(o, status, privd_errmsg(c), privd_reason(c));
}

/* Report a local failure with a formatted explanation. */
int
report_local(const struct opts *o, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return report(o, status, msg, 0);
}

/*
 * Report a local I/O failure (keygen's file): not a libprivd status, so it
 * is shown without one, as status "io" in JSON. Exit code 1.
 */
int
report_io(const struct opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o->json)
		json_print(json_error("io", msg));
	else
		fprintf(stderr, "privctl: %s\n", msg);
	return 1;
}

/*
 * Is v[0..len) printable UTF-8 text: well-formed (no overlongs, surrogates
 * or code points past U+10FFFF) and free of C0/C1 controls and DEL? Only
 * such values are printed as they are; anything else could garble a
 * terminal or be ambiguous, and is shown as base64.
 */
int
printable_utf8(const uint8_t *v, size_t len)
{
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		if ((n = pol_utf8_char(v + i, len - i, &cp)) == 0 ||
		    cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		i += n;
	}
	return 1;
}

/* A name from privd, safe to print: "?" if it is not printable text. */
const char *
safe(const char *s)
{
	return printable_utf8((const uint8_t *)s, strlen(s)) ? s : "?";
}

/* Base64 (standard alphabet, padded) of v; malloc'd, NULL if out of memory. */
char *
base64(const uint8_t *v, size_t len)
{
	size_t n =
	    sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(n);

	if (s != NULL)
		sodium_bin2base64(s, n, v, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

/* Write the whole buffer to fd; returns 0 or -1 with errno set. */
int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* ISO 8601 UTC time, to the second, of microseconds since the epoch. */
void
iso_time(uint64_t us, char buf[32])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "?");
}

/* ISO 8601 UTC time with microseconds ("2026-11-27T10:00:00.123456Z"). */
void
iso_time_us(uint64_t us, char buf[40])
{
	char sec[32];

	iso_time(us, sec);
	if (strlen(sec) == 20)
		snprintf(
		    buf, 40, "%.19s.%06uZ", sec, (unsigned)(us % 1000000u));
	else
		snprintf(buf, 40, "%s", sec);
}

/*
 * A duration as an admin reads it: "730 days", "1 day 2 h", "3 h 20 min",
 * "45 s". It is rounded to the last unit shown, not cut: privd measures a
 * clock jump of 3 days as 259199 s as often as 259200 s, and "2 days 23 h"
 * would be an hour off.
 */
const char *
duration(uint64_t secs, char buf[48])
{
	uint64_t d, h, m;

	if (secs >= 86400 && secs <= UINT64_MAX - 1800)
		secs = (secs + 1800) / 3600 * 3600;
	else if (secs >= 60 && secs < 86400)
		secs = (secs + 30) / 60 * 60;
	d = secs / 86400;
	h = secs % 86400 / 3600;
	m = secs % 3600 / 60;
	if (d > 0 && h > 0)
		snprintf(buf, 48, "%llu day%s %llu h", (unsigned long long)d,
		    d == 1 ? "" : "s", (unsigned long long)h);
	else if (d > 0)
		snprintf(buf, 48, "%llu day%s", (unsigned long long)d,
		    d == 1 ? "" : "s");
	else if (h > 0)
		snprintf(buf, 48, "%llu h %llu min", (unsigned long long)h,
		    (unsigned long long)m);
	else if (m > 0)
		snprintf(buf, 48, "%llu min", (unsigned long long)m);
	else
		snprintf(buf, 48, "%llu s", (unsigned long long)secs);
	return buf;
}

/*
 * Absent values in JSON are null, never "" or 0 or a missing member: a
 * name privd left empty (safe() applied to one that is not), and a time
 * in microseconds that is 0 ("none"), as json_when() of the same time.
 * NULL only if out of memory.
 */
json_t *
json_name(const char *s)
{
	return *s != '\0' ? json_string(safe(s)) : json_null();
}

json_t *
json_us(uint64_t us)
{
	return us != 0 ? json_u64(us) : json_null();
}

/*
 * A 64-bit unsigned number from privd as JSON: a number while it fits
 * json_int_t, else its decimal digits as a string (as request_id always
 * is) rather than a negative number. NULL if out of memory.
 */
json_t *
json_u64(uint64_t v)
{
	char digits[24];

	if (v <= (uint64_t)INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(digits, sizeof(digits), "%llu", (unsigned long long)v);
	return json_string(digits);
}
