/*
 * error.c - status codes and the last error of a handle: what a failed
 * call says (privd_strerror, privd_errmsg, privd_reason).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Record a local failure's explanation; returns status for tail calls. */
int
cl_fail(privd_client *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	return status;
}

/*
 * The length of the printable character that starts s[0..n) (n > 0) as
 * well-formed UTF-8, or 0 if none does: a C0 or C1 control, DEL, a stray
 * or truncated byte, an overlong form, a surrogate or a code point past
 * U+10FFFF.
 */
static size_t
utf8_printable(const unsigned char *s, size_t n)
{
	size_t len, k;
	uint32_t cp, min;

	if (s[0] < 0x80)
		return s[0] >= 0x20 && s[0] != 0x7f ? 1 : 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < min || cp <= 0x9f || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/*
 * Keep privd's message for privd_errmsg(). Callers print it, as text or in
 * JSON (which must be valid UTF-8), so it is made printable UTF-8: each
 * byte that is not part of a printable character becomes '?', and a cut
 * at the buffer's end never splits a character.
 */
void
cl_set_server_message(privd_client *c, const char *msg)
{
	const unsigned char *s = (const unsigned char *)(msg ? msg : "");
	size_t n = strlen((const char *)s), i = 0, o = 0, k;

	while (i < n) {
		k = utf8_printable(s + i, n - i);
		if (o + (k > 0 ? k : 1) >= sizeof(c->errmsg))
			break;
		if (k == 0) {
			c->errmsg[o++] = '?';
			i++;
		} else {
			memcpy(c->errmsg + o, s + i, k);
			o += k;
			i += k;
		}
	}
	c->errmsg[o] = '\0';
}

/* Forget the outcome of the previous call. */
void
cl_reset_error(privd_client *c)
{
	c->errmsg[0] = '\0';
	c->reason = 0;
}

const char *
privd_strerror(int status)
{
	switch (status) {
	case PRIVD_OK:
		return "success";
	case PRIVD_EINVAL:
		return "invalid argument or value";
	case PRIVD_EDENIED:
		return "denied by policy";
	case PRIVD_ENOTFOUND:
		return "not found";
	case PRIVD_ECONFLICT:
		return "conflict";
	case PRIVD_ERETAINED:
		return "data retained by a legal minimum or hold";
	case PRIVD_ETOOBIG:
		return "request too large";
	case PRIVD_EUNAVAILABLE:
		return "privd unavailable";
	case PRIVD_ETIMEOUT:
		return "timed out";
	case PRIVD_EPROTO:
		return "protocol error";
	case PRIVD_EINTERNAL:
		return "internal error";
	case PRIVD_ENOMEM:
		return "out of memory";
	case PRIVD_EKEY:
		return "bad key or key file";
	case PRIVD_ETAMPERED:
		return "the audit log does not verify";
	case PRIVD_EHANDSHAKE:
		return "CURVE handshake with privd failed (wrong server key?)";
	default:
		return "unknown status";
	}
}

const char *
privd_errmsg(const privd_client *c)
{
	return c != NULL ? c->errmsg : "";
}

int
privd_reason(const privd_client *c)
{
	return c != NULL ? c->reason : 0;
}

const char *
privd_reason_name(int reason)
{
	static const char *const names[] = {"none", "other",
	    "unknown_principal", "unknown_register", "unknown_field",
	    "unknown_purpose", "no_grant", "field_not_granted", "region",
	    "restricted", "objected", "role_required"};

	if (reason < 0 || (size_t)reason >= sizeof(names) / sizeof(names[0]))
		return "other";
	return names[reason];
}
