/*
 * error.c - status codes and the last error of a handle: what a failed
 * call says (privd_strerror, privd_errmsg, privd_reason); the names of
 * deny reasons and of audit events' statuses and decisions; the library's
 * version.
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
	case PRIVD_EINDOUBT:
		return "failed-unknown: the request may or may not have been "
		       "applied; read back before repeating";
	case PRIVD_EEXPIRED:
		return "privd got the request after its deadline and did not "
		       "carry it out (are the clocks in step?)";
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

/* The header's constants are the wire's numbers: a drift fails the build. */
_Static_assert(
    PRIVD_REASON_NONE == PRIVD__V1__DENY_REASON__DENY_NONE &&
        PRIVD_REASON_OTHER == PRIVD__V1__DENY_REASON__DENY_OTHER &&
        PRIVD_REASON_UNKNOWN_PRINCIPAL ==
            PRIVD__V1__DENY_REASON__DENY_UNKNOWN_PRINCIPAL &&
        PRIVD_REASON_UNKNOWN_REGISTER ==
            PRIVD__V1__DENY_REASON__DENY_UNKNOWN_REGISTER &&
        PRIVD_REASON_UNKNOWN_FIELD ==
            PRIVD__V1__DENY_REASON__DENY_UNKNOWN_FIELD &&
        PRIVD_REASON_UNKNOWN_PURPOSE ==
            PRIVD__V1__DENY_REASON__DENY_UNKNOWN_PURPOSE &&
        PRIVD_REASON_NO_GRANT == PRIVD__V1__DENY_REASON__DENY_NO_GRANT &&
        PRIVD_REASON_FIELD_NOT_GRANTED ==
            PRIVD__V1__DENY_REASON__DENY_FIELD_NOT_GRANTED &&
        PRIVD_REASON_REGION == PRIVD__V1__DENY_REASON__DENY_REGION &&
        PRIVD_REASON_RESTRICTED == PRIVD__V1__DENY_REASON__DENY_RESTRICTED &&
        PRIVD_REASON_OBJECTED == PRIVD__V1__DENY_REASON__DENY_OBJECTED &&
        PRIVD_REASON_ROLE_REQUIRED ==
            PRIVD__V1__DENY_REASON__DENY_ROLE_REQUIRED,
    "PRIVD_REASON_* differ from privd.v1.DenyReason");
_Static_assert(
    PRIVD_AUDIT_STATUS_UNSPECIFIED == PRIVD__V1__STATUS__STATUS_UNSPECIFIED &&
        PRIVD_AUDIT_STATUS_OK == PRIVD__V1__STATUS__OK &&
        PRIVD_AUDIT_STATUS_INVALID == PRIVD__V1__STATUS__INVALID &&
        PRIVD_AUDIT_STATUS_DENIED == PRIVD__V1__STATUS__DENIED &&
        PRIVD_AUDIT_STATUS_NOT_FOUND == PRIVD__V1__STATUS__NOT_FOUND &&
        PRIVD_AUDIT_STATUS_CONFLICT == PRIVD__V1__STATUS__CONFLICT &&
        PRIVD_AUDIT_STATUS_RETAINED == PRIVD__V1__STATUS__RETAINED &&
        PRIVD_AUDIT_STATUS_TOO_LARGE == PRIVD__V1__STATUS__TOO_LARGE &&
        PRIVD_AUDIT_STATUS_UNAVAILABLE == PRIVD__V1__STATUS__UNAVAILABLE &&
        PRIVD_AUDIT_STATUS_INTERNAL == PRIVD__V1__STATUS__INTERNAL &&
        PRIVD_AUDIT_STATUS_EXPIRED == PRIVD__V1__STATUS__EXPIRED,
    "PRIVD_AUDIT_STATUS_* differ from privd.v1.Status");

/* Names as privd.proto spells them, without the prefix, and as privctl
 * prints them. */
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

const char *
privd_audit_status_name(int status)
{
	static const char *const names[] = {"unspecified", "ok", "invalid",
	    "denied", "not_found", "conflict", "retained", "too_large",
	    "unavailable", "internal", "expired"};

	if (status < 0 || (size_t)status >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[status];
}

const char *
privd_audit_decision_name(int decision)
{
	static const char *const names[] = {
	    "unspecified", "allowed", "refused", "rejected", "failed"};

	if (decision < 0 ||
	    (size_t)decision >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[decision];
}

/*
 * The version of the library that runs, which may be newer than the
 * header a program was built with. meson.build passes its version of the
 * library in LIBPRIVD_MAJOR etc.: the header, the shared object's name
 * and libprivd.pc cannot disagree without the build failing here.
 */
#ifdef LIBPRIVD_MAJOR /* (not when a test compiles this file itself) */
_Static_assert(PRIVD_VERSION_MAJOR == LIBPRIVD_MAJOR &&
                   PRIVD_VERSION_MINOR == LIBPRIVD_MINOR &&
                   PRIVD_VERSION_PATCH == LIBPRIVD_PATCH,
    "PRIVD_VERSION_* in <privd/client.h> differ from meson.build's "
    "libprivd_version");
#endif

#define STR_(x) #x
#define STR(x)  STR_(x)

const char *
privd_version(int *major, int *minor, int *patch)
{
	if (major != NULL)
		*major = PRIVD_VERSION_MAJOR;
	if (minor != NULL)
		*minor = PRIVD_VERSION_MINOR;
	if (patch != NULL)
		*patch = PRIVD_VERSION_PATCH;
	return STR(PRIVD_VERSION_MAJOR) "." STR(PRIVD_VERSION_MINOR) "." STR(
	    PRIVD_VERSION_PATCH);
}
