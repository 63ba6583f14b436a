/*
 * cmd_keys.c - keys on the command line: `privctl keygen` and the server
 * key given with --server-key.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "privctl.h"

/* Does s look like a Z85 key (40 characters of the Z85 alphabet)? Whether
 * it decodes is checked by privd_connect(). */
static int
is_z85_key(const char *s)
{
	static const char z85[] =
	    "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

	return strlen(s) == PRIVD_KEY_Z85_LEN - 1 &&
	       strspn(s, z85) == PRIVD_KEY_Z85_LEN - 1;
}

/*
 * Resolve --server-key: an existing file wins (its first non-comment line is
 * the key, bare or as "public-key = KEY"); otherwise the argument must be
 * the key itself. Public key material only, so no mode check.
 */
int
server_key_resolve(
    const struct opts *o, const char *arg, char key[PRIVD_KEY_Z85_LEN])
{
	char line[256], *s = NULL, *e;
	FILE *f;
	int found = 0;

	if (access(arg, F_OK) != 0) {
		if (!is_z85_key(arg))
			return report_local(o, PRIVD_EKEY,
			    "--server-key is neither a Z85 key nor a file");
		memcpy(key, arg, PRIVD_KEY_Z85_LEN);
		return 0;
	}
	if ((f = fopen(arg, "r")) == NULL)
		return report_local(
		    o, PRIVD_EKEY, "%s: %s", arg, strerror(errno));
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
			continue;
		if (strncmp(s, "public-key", 10) == 0 &&
		    (e = strchr(s, '=')) != NULL)
			s = e + 1 + strspn(e + 1, " \t");
		e = s + strcspn(s, " \t\r\n");
		*e = '\0';
		found = 1;
	}
	fclose(f);
	if (!found || !is_z85_key(s))
		return report_local(o, PRIVD_EKEY,
		    "%s: first line is not a Z85 server key", arg);
	memcpy(key, s, PRIVD_KEY_Z85_LEN);
	return 0;
}

/*
 * keygen: the secret key goes either to a new 0600 file (created with
 * O_EXCL so an existing key is never clobbered) or to stdout when the
 * operator asked for that; every buffer here that held it is wiped on
 * every path. What privctl cannot wipe is stdio's buffer of stdout, which
 * holds the key on its way to the terminal or pipe it was asked to reach.
 */
int
cmd_keygen(struct opts *o, char **args, int nargs)
{
	char pub[PRIVD_KEY_Z85_LEN], sec[PRIVD_KEY_Z85_LEN], text[256];
	int fd, rc, n;

	if ((rc = privd_keygen(pub, sec)) != PRIVD_OK) {
		sodium_memzero(sec, sizeof(sec));
		return report_local(o, rc, "libzmq has no CURVE support");
	}
	if (o->out == NULL && o->json) {
		/*
		 * jansson copies the key once, into memory privctl does not
		 * own. Make all of jansson's memory sodium's, which
		 * sodium_free() wipes: nothing has used jansson yet in this
		 * process, and keygen ends it.
		 */
		json_set_alloc_funcs(sodium_malloc, sodium_free);
		rc = json_print(json_pack("{s:s, s:s, s:n}", "public_key", pub,
		    "secret_key", sec, "file"));
		sodium_memzero(sec, sizeof(sec));
		return rc;
	}
	n = snprintf(text, sizeof(text),
	    "# privd client key pair (privctl keygen). Keep it secret.\n"
	    "public-key = %s\nsecret-key = %s\n",
	    pub, sec);
	sodium_memzero(sec, sizeof(sec));
	if (o->out == NULL) {
		rc = fputs(text, stdout) == EOF ? 1 : 0;
		sodium_memzero(text, sizeof(text));
		return rc;
	}
	fd = open(
	    o->out, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	rc = 0;
	if (fd < 0)
		rc = report_io(o, "%s: %s%s", o->out, strerror(errno),
		    errno == EEXIST ? " (refusing to overwrite)" : "");
	else if (fchmod(fd, 0600) != 0 || write_all(fd, text, (size_t)n) != 0 ||
	         fsync(fd) != 0) {
		rc = report_io(o, "%s: %s", o->out, strerror(errno));
		unlink(o->out);
	}
	if (fd >= 0 && close(fd) != 0 && rc == 0) {
		rc = report_io(o, "%s: %s", o->out, strerror(errno));
		unlink(o->out);
	}
	sodium_memzero(text, sizeof(text));
	if (rc != 0)
		return rc;
	if (o->json)
		return json_print(json_pack("{s:s, s:n, s:s}", "public_key",
		    pub, "secret_key", "file", o->out));
	printf("%s\n", pub);
	return 0;
}
