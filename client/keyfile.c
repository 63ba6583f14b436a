/*
 * keyfile.c - CURVE keys: generating a pair, decoding Z85, reading the key
 * pair files that `privctl keygen` writes and the server key files that
 * `privd init` writes (server.pub), and the calls that take keys from
 * those files (privd_connect_keyfile, privd_set_server_key_file) on top of
 * conn.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "internal.h"
#include "serverkey.h"

static const char z85_chars[] =
    "0123456789abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

/*
 * Decode a Z85 CURVE key into 32 bytes. Checks the alphabet itself before
 * handing the text to libzmq so that no garbage reaches its decoder.
 * Returns 0 or -1.
 */
int
cl_z85_key_decode(uint8_t out[KEY_BYTES], const char *text)
{
	size_t i;

	if (text == NULL || strlen(text) != Z85_CHARS)
		return -1;
	for (i = 0; i < Z85_CHARS; i++)
		if (strchr(z85_chars, text[i]) == NULL)
			return -1;
	return zmq_z85_decode(out, text) == NULL ? -1 : 0;
}

int
privd_keygen(
    char public_key[PRIVD_KEY_Z85_LEN], char secret_key[PRIVD_KEY_Z85_LEN])
{
	if (public_key == NULL || secret_key == NULL)
		return PRIVD_EINVAL;
	if (zmq_curve_keypair(public_key, secret_key) != 0)
		return PRIVD_EINTERNAL;
	return PRIVD_OK;
}

/* Copy a bounded explanation for privd_keypair_load_err(). */
static int
key_fail(char *why, size_t whylen, const char *msg)
{
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", msg);
	return PRIVD_EKEY;
}

/* Strip leading and trailing blanks in place; returns the new start. */
static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* Take one key line's value: once only, and a valid Z85 key. */
static int
key_take(char *dst, int *seen, const char *val, const char *what, char *why,
    size_t whylen)
{
	uint8_t raw[KEY_BYTES];
	char msg[64];
	int bad;

	if ((*seen)++) {
		snprintf(msg, sizeof(msg), "%s appears twice", what);
		return key_fail(why, whylen, msg);
	}
	bad = cl_z85_key_decode(raw, val) != 0;
	cl_wipe(raw, sizeof(raw));
	if (bad) {
		snprintf(
		    msg, sizeof(msg), "%s is not a 40-character Z85 key", what);
		return key_fail(why, whylen, msg);
	}
	memcpy(dst, val, PRIVD_KEY_Z85_LEN);
	return PRIVD_OK;
}

/*
 * Parse a key pair file's text (modified in place). Each key must appear
 * exactly once and decode as a 32-byte Z85 key; the public key must belong
 * to the secret key, which catches a file pasted together from two pairs.
 */
static int
keyfile_parse(char *text, char *pub, char *sec, char *why, size_t whylen)
{
	char *line, *next, *eq, *name, *val, derived[PRIVD_KEY_Z85_LEN];
	int havepub = 0, havesec = 0, rc = PRIVD_OK;

	for (line = text; line != NULL && rc == PRIVD_OK; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			rc = key_fail(why, whylen, "line without '='");
			break;
		}
		*eq = '\0';
		name = trim(line);
		val = trim(eq + 1);
		if (strcmp(name, "public-key") == 0) {
			rc = key_take(
			    pub, &havepub, val, "public-key", why, whylen);
		} else if (strcmp(name, "secret-key") == 0) {
			rc = key_take(
			    sec, &havesec, val, "secret-key", why, whylen);
		} else
			rc = key_fail(why, whylen, "unknown setting");
	}
	if (rc == PRIVD_OK && (!havepub || !havesec))
		rc = key_fail(why, whylen,
		    !havepub ? "no public-key line" : "no secret-key line");
	if (rc == PRIVD_OK &&
	    (zmq_curve_public(derived, sec) != 0 || strcmp(derived, pub) != 0))
		rc = key_fail(
		    why, whylen, "public-key does not belong to secret-key");
	cl_wipe(derived, sizeof(derived));
	return rc;
}

/*
 * Read a small key file into buf (bufsize bytes, NUL-terminated there) and
 * check what a key file must be: a regular file, at most KEYFILE_MAX
 * bytes, without NUL bytes, and with secret set, accessible by its owner
 * alone. The caller wipes buf, which may hold a secret key, on every path.
 */
static int
keyfile_read(const char *path, int secret, char *buf, size_t bufsize, char *why,
    size_t whylen)
{
	struct stat st;
	ssize_t r;
	size_t len = 0;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return key_fail(why, whylen, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return key_fail(why, whylen, "not a regular file");
	}
	if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
		close(fd);
		return key_fail(why, whylen,
		    "file is accessible by group or other (chmod 600)");
	}
	while (len < bufsize - 1) {
		r = read(fd, buf + len, bufsize - 1 - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	if (len > KEYFILE_MAX)
		return key_fail(why, whylen, "file is too large");
	if (memchr(buf, '\0', len) != NULL)
		return key_fail(why, whylen, "file contains a NUL byte");
	return PRIVD_OK;
}

int
privd_keypair_load_err(const char *path, char public_key[PRIVD_KEY_Z85_LEN],
    char secret_key[PRIVD_KEY_Z85_LEN], char *why, size_t whylen)
{
	char buf[KEYFILE_MAX + 2];
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN];
	int rc;

	if (why != NULL && whylen > 0)
		*why = '\0';
	if (path == NULL || public_key == NULL || secret_key == NULL)
		return key_fail(why, whylen, "no key file given");
	rc = keyfile_read(path, 1, buf, sizeof(buf), why, whylen);
	if (rc == PRIVD_OK)
		rc = keyfile_parse(buf, pub, sec, why, whylen);
	if (rc == PRIVD_OK) {
		memcpy(public_key, pub, PRIVD_KEY_Z85_LEN);
		memcpy(secret_key, sec, PRIVD_KEY_Z85_LEN);
	}
	cl_wipe(buf, sizeof(buf));
	cl_wipe(sec, sizeof(sec));
	return rc;
}

int
privd_keypair_load(const char *path, char public_key[PRIVD_KEY_Z85_LEN],
    char secret_key[PRIVD_KEY_Z85_LEN])
{
	return privd_keypair_load_err(path, public_key, secret_key, NULL, 0);
}

/*
 * Parse a server key file's text (modified in place) into keys, *n of
 * them. Blank lines and '#' lines are skipped. The first key line is the
 * key, bare (as `privd init` writes server.pub) or as "public-key = KEY"
 * (a key pair file's public half: then nothing else of the file is read
 * as keys). After a bare key, a second bare key is the next key (`privd
 * server-key next`, DIR/server.next.pub); anything else is refused, a
 * third key too. With max 1 the first key ends the file (what
 * privd_server_key_load() always did: the rest is not read).
 */
static int
server_keys_parse(char *text,
    char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN], size_t max, size_t *n,
    char *why, size_t whylen)
{
	char *line, *next, *eq, msg[96];
	uint8_t raw[KEY_BYTES];
	int lineno = 0;

	*n = 0;
	for (line = text; line != NULL; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		line = trim(line);
		if (*line == '\0' || *line == '#')
			continue;
		/* '=' is a Z85 character: a bare key is tried first */
		if (cl_z85_key_decode(raw, line) == 0) {
			if (*n == PRIVD_SERVER_KEYS_MAX) {
				snprintf(msg, sizeof(msg),
				    "line %d: a third key (the file holds "
				    "privd's key and at most its next key)",
				    lineno);
				return key_fail(why, whylen, msg);
			}
			memcpy(keys[(*n)++], line, PRIVD_KEY_Z85_LEN);
			if (*n == max && max < PRIVD_SERVER_KEYS_MAX)
				return PRIVD_OK; /* the rest is not read */
			continue;
		}
		if (*n > 0) {
			snprintf(msg, sizeof(msg),
			    "line %d is not a 40-character Z85 key", lineno);
			return key_fail(why, whylen, msg);
		}
		if ((eq = strchr(line, '=')) == NULL)
			return key_fail(why, whylen,
			    "first line is not a 40-character Z85 key");
		*eq = '\0';
		if (strcmp(trim(line), "public-key") != 0)
			return key_fail(why, whylen,
			    "first line is neither a key nor public-key = KEY");
		line = trim(eq + 1);
		if (cl_z85_key_decode(raw, line) != 0)
			return key_fail(why, whylen,
			    "public-key is not a 40-character Z85 key");
		memcpy(keys[(*n)++], line, PRIVD_KEY_Z85_LEN);
		return PRIVD_OK;
	}
	if (*n == 0)
		return key_fail(why, whylen, "no key in the file");
	return PRIVD_OK;
}

/* Read the keys (at most max) of a server key file into keys. */
static int
server_keys_read(const char *path,
    char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN], size_t max, size_t *n,
    char *why, size_t whylen)
{
	char buf[KEYFILE_MAX + 2], k[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN];
	size_t got = 0;
	int rc;

	if (why != NULL && whylen > 0)
		*why = '\0';
	if (path == NULL || keys == NULL || n == NULL)
		return key_fail(why, whylen, "no server key file given");
	if ((rc = keyfile_read(path, 0, buf, sizeof(buf), why, whylen)) !=
	        PRIVD_OK ||
	    (rc = server_keys_parse(buf, k, max, &got, why, whylen)) !=
	        PRIVD_OK)
		return rc;
	memcpy(keys, k, got * PRIVD_KEY_Z85_LEN);
	*n = got;
	return PRIVD_OK;
}

int
privd_server_keys_load(const char *path,
    char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN], size_t *n, char *why,
    size_t whylen)
{
	return server_keys_read(
	    path, keys, PRIVD_SERVER_KEYS_MAX, n, why, whylen);
}

/* The first key line of a server key file; the rest is not read. */
int
privd_server_key_load(const char *path, char server_key[PRIVD_KEY_Z85_LEN],
    char *why, size_t whylen)
{
	char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN];
	size_t n;
	int rc;

	if (server_key == NULL)
		return key_fail(why, whylen, "no server key file given");
	rc = server_keys_read(path, keys, 1, &n, why, whylen);
	if (rc == PRIVD_OK)
		memcpy(server_key, keys[0], PRIVD_KEY_Z85_LEN);
	return rc;
}

/*
 * Is text a Z85 key (40 characters that decode to 32 bytes)? For the
 * arguments that take either a key or the name of a file holding one.
 */
int
cl_is_z85_key(const char *text)
{
	uint8_t raw[KEY_BYTES];

	return cl_z85_key_decode(raw, text) == 0;
}

int
privd_set_server_key_file(privd_client *c, const char *path)
{
	char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN], why[128];
	const char *k[PRIVD_SERVER_KEYS_MAX];
	size_t n, i;
	int rc;

	if (c == NULL)
		return PRIVD_EINVAL;
	if (cl_empty(path))
		return cl_fail(c, PRIVD_EINVAL, "no server key file given");
	rc = privd_server_keys_load(path, keys, &n, why, sizeof(why));
	if (rc != PRIVD_OK)
		return cl_fail(c, rc, "server key file %s: %s", path, why);
	for (i = 0; i < n; i++)
		k[i] = keys[i];
	return privd_set_server_keys(c, k, n);
}

/* The keys of a server key file as privd_connect() takes them: one key,
 * or "CURRENT,NEXT" (text: PRIVD_SERVER_KEYS_LEN bytes). */
static int
server_keys_file_text(const char *path, char *text, char *why, size_t whylen)
{
	char keys[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN];
	size_t n;
	int rc;

	rc = privd_server_keys_load(path, keys, &n, why, whylen);
	if (rc == PRIVD_OK)
		snprintf(text, PRIVD_SERVER_KEYS_LEN, "%s%s%s", keys[0],
		    n > 1 ? "," : "", n > 1 ? keys[1] : "");
	return rc;
}

/* Copy a bounded explanation for privd_connect_keyfile(). */
static int connect_fail(char *why, size_t whylen, int status, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
connect_fail(char *why, size_t whylen, int status, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whylen > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whylen, fmt, ap);
		va_end(ap);
	}
	return status;
}

/*
 * privd_connect() with the keys read from files, saying why when it fails.
 * server_key is read as privctl reads --server-key and PRIVD_SERVER_KEY:
 * an existing file wins, else it must be the key itself; so a service can
 * pass privctl's three variables through as they are. A key given inline
 * that does not parse is never quoted back (it may be a mistyped key);
 * file names are.
 */
int
privd_connect_keyfile(privd_client **out, const char *endpoint,
    const char *server_key, const char *key_file, char *why, size_t whylen)
{
	uint8_t raw[PRIVD_SERVER_KEYS_MAX][KEY_BYTES];
	size_t n;
	char skey[PRIVD_SERVER_KEYS_LEN], pub[PRIVD_KEY_Z85_LEN];
	char sec[PRIVD_KEY_Z85_LEN], msg[128];
	int rc;

	if (why != NULL && whylen > 0)
		*why = '\0';
	if (out == NULL)
		return connect_fail(why, whylen, PRIVD_EINVAL, "out is NULL");
	*out = NULL;
	if (cl_empty(server_key))
		return connect_fail(
		    why, whylen, PRIVD_EKEY, "no server key given");
	if (cl_empty(key_file))
		return connect_fail(
		    why, whylen, PRIVD_EKEY, "no key pair file given");

	if (access(server_key, F_OK) == 0) {
		rc = server_keys_file_text(server_key, skey, msg, sizeof(msg));
		if (rc != PRIVD_OK)
			return connect_fail(why, whylen, rc,
			    "server key file %s: %s", server_key, msg);
	} else if (cl_server_keys_parse(server_key, raw, &n) == 0) {
		snprintf(skey, sizeof(skey), "%s", server_key);
	} else
		return connect_fail(why, whylen, PRIVD_EKEY,
		    "the server key is neither an existing file nor a "
		    "40-character Z85 key (or two, privd's key and its next "
		    "key, separated by a comma)");

	rc = privd_keypair_load_err(key_file, pub, sec, msg, sizeof(msg));
	if (rc != PRIVD_OK) {
		cl_wipe(sec, sizeof(sec));
		return connect_fail(
		    why, whylen, rc, "key pair file %s: %s", key_file, msg);
	}
	rc = privd_connect(out, endpoint, skey, pub, sec);
	cl_wipe(sec, sizeof(sec));
	if (rc == PRIVD_EINVAL) {
		if (privd_endpoints_check(endpoint, msg, sizeof(msg)) !=
		    PRIVD_OK)
			return connect_fail(why, whylen, rc, "%s", msg);
		return connect_fail(why, whylen, rc,
		    "the endpoint must be ipc://PATH or tcp://HOST:PORT");
	}
	if (rc == PRIVD_ENOMEM)
		return connect_fail(why, whylen, rc, "out of memory");
	if (rc == PRIVD_EKEY)
		return connect_fail(why, whylen, rc, "a key does not decode");
	if (rc != PRIVD_OK)
		return connect_fail(why, whylen, rc,
		    "cannot set up a ZeroMQ context and socket");
	return PRIVD_OK;
}
