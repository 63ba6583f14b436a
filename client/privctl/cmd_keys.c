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
is_z85_key(const char *s, size_t len)
{
	static const char z85[] =
	    "0123456789abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
	size_t i;

	if (len != PRIVD_KEY_Z85_LEN - 1)
		return 0;
	for (i = 0; i < len; i++)
		if (strchr(z85, s[i]) == NULL || s[i] == '\0')
			return 0;
	return 1;
}

/*
 * Resolve --server-key (or PRIVD_SERVER_KEY, or the config file's
 * server-key): an existing file wins, read as libprivd reads a server key
 * file (privd's key, and its next key on a second line:
 * privd_server_keys_load()); otherwise the argument must be the key
 * itself, or privd's key and its next key separated by a comma. keys
 * receives "KEY" or "CURRENT,NEXT", as privd_connect() takes them. Public
 * key material only, so no mode check, and a key given inline is never
 * quoted back (it may be a mistyped one).
 */
int
server_key_resolve(
    const struct opts *o, const char *arg, char keys[PRIVD_SERVER_KEYS_LEN])
{
	char k[PRIVD_SERVER_KEYS_MAX][PRIVD_KEY_Z85_LEN], why[128];
	const char *comma;
	size_t n;
	int rc;

	if (access(arg, F_OK) != 0) {
		comma = strchr(arg, ',');
		if (comma == NULL
		        ? !is_z85_key(arg, strlen(arg))
		        : !is_z85_key(arg, (size_t)(comma - arg)) ||
		              !is_z85_key(comma + 1, strlen(comma + 1)))
			return report_local(o, PRIVD_EKEY,
			    "--server-key is neither a file nor a Z85 key "
			    "(or two, privd's key and its next key, separated "
			    "by a comma)");
		snprintf(keys, PRIVD_SERVER_KEYS_LEN, "%s", arg);
		return 0;
	}
	if ((rc = privd_server_keys_load(arg, k, &n, why, sizeof(why))) !=
	    PRIVD_OK)
		return report_local(o, rc, "%s: %s", arg, why);
	snprintf(keys, PRIVD_SERVER_KEYS_LEN, "%s%s%s", k[0], n > 1 ? "," : "",
	    n > 1 ? k[1] : "");
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
