/*
 * input.c - values that need not be on the command line, where every
 * local user can read them in the process list and the shell keeps them
 * in its history: put's FIELD=@FILE (the file's bytes), FIELD=- (stdin)
 * and --from-json FILE (a whole record: the fields and, if wanted, the
 * subject id). What is read holds personal data: it is read with read(2)
 * into buffers of privctl's own (no stdio copy), a buffer that grows is
 * wiped before it is freed, and everything is wiped when put is done.
 * No message here repeats a value, a subject id or a field name: they
 * name arguments by their position.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "privctl.h"

/* Wipe n bytes at p and free p. NULL-safe. */
void
wipe_free(void *p, size_t n)
{
	if (p == NULL)
		return;
	sodium_memzero(p, n);
	free(p);
}

/*
 * Read fd to its end into a new buffer, NUL-terminated (the NUL not
 * counted in *len), of at most max bytes. A buffer outgrown is wiped
 * before it is freed, so no copy of what was read is left behind.
 * Returns 0, or -1 with errno set (EFBIG: more than max bytes); *out is
 * then NULL.
 */
int
read_all(int fd, size_t max, uint8_t **out, size_t *len)
{
	uint8_t *buf, *grown, more;
	size_t cap = 4096, n = 0;
	struct stat sb;
	ssize_t r;

	*out = NULL;
	*len = 0;
	/* a regular file says how large it is: one buffer, no copies */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode)) {
		if ((uint64_t)sb.st_size > max) {
			errno = EFBIG;
			return -1;
		}
		cap = (size_t)sb.st_size + 1;
	} else if (cap > max)
		cap = max + 1;
	if ((buf = malloc(cap)) == NULL)
		return -1;
	for (;;) {
		if (n + 1 == cap) {
			/* full: is there more? (a file read as big as it
			 * said it is needs no second buffer) */
			r = read(fd, &more, 1);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				wipe_free(buf, n);
				return -1;
			}
			if (r == 0)
				break;
			if (n + 1 > max) {
				wipe_free(buf, n);
				sodium_memzero(&more, 1);
				errno = EFBIG;
				return -1;
			}
			cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			if ((grown = malloc(cap)) == NULL) {
				wipe_free(buf, n);
				sodium_memzero(&more, 1);
				return -1;
			}
			memcpy(grown, buf, n);
			wipe_free(buf, n);
			buf = grown;
			buf[n++] = more;
			sodium_memzero(&more, 1);
			continue;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			wipe_free(buf, n);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* read_all() of the file at path. */
int
read_path(const char *path, size_t max, uint8_t **out, size_t *len)
{
	int fd, rc, err;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	rc = read_all(fd, max, out, len);
	err = errno;
	close(fd);
	errno = err;
	return rc;
}

/*
 * Say why a value or record could not be read (what: "argument 4",
 * "--from-json"), as an I/O failure, or as input too large (exit 5).
 */
static int
read_failed(const struct opts *o, const char *what, int err)
{
	if (err == EFBIG)
		return report_local(o, PRIVD_ETOOBIG,
		    "put: %s: more than %d MiB", what, INPUT_MAX >> 20);
	return report_io(o, "put: %s: cannot read it: %s", what, strerror(err));
}

/*
 * Read stdin for what (a field's value or --from-json): to its end. On a
 * terminal, say first what is being read and how to end it. An empty
 * stdin is refused: a script run without its input (from cron, with
 * stdin /dev/null) must not store empty values.
 */
static int
read_stdin(const struct opts *o, const char *what, uint8_t **buf, size_t *len)
{
	if (isatty(STDIN_FILENO))
		fprintf(stderr,
		    "privctl: reading %s from the terminal; end it with "
		    "Ctrl-D\n",
		    what);
	if (read_all(STDIN_FILENO, INPUT_MAX, buf, len) != 0)
		return read_failed(o, what, errno);
	if (*len == 0) {
		free(*buf);
		*buf = NULL;
		return usage_error("put: %s: nothing on stdin", what);
	}
	return 0;
}

/*
 * The value of argument i (FIELD=VALUE, VALUE at v) into field f: "-"
 * all of stdin less one final newline (what echo adds), "@FILE" the
 * bytes of FILE exactly, "@@TEXT" the text "@TEXT", anything else the
 * text itself. What is read is kept in p->owned[k] for wiping.
 */
static int
arg_value(const struct opts *o, struct put_input *p, size_t k, int pos,
    const char *v, int *stdin_used)
{
	char what[48];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	snprintf(what, sizeof(what), "the value of argument %d", pos);
	if (strcmp(v, "-") == 0) {
		if (*stdin_used)
			return usage_error("put: stdin can be read once: "
			                   "argument %d is the second '-'",
			    pos);
		*stdin_used = 1;
		if ((rc = read_stdin(o, what, &buf, &len)) != 0)
			return rc;
		if (buf[len - 1] == '\n')
			buf[--len] = '\0';
	} else if (v[0] == '@' && v[1] == '@') {
		p->f[k].value = (const uint8_t *)v + 1;
		p->f[k].len = strlen(v + 1);
		return 0;
	} else if (v[0] == '@') {
		if (v[1] == '\0')
			return usage_error(
			    "put: argument %d: '@' needs a file name", pos);
		if (read_path(v + 1, INPUT_MAX, &buf, &len) != 0)
			return read_failed(o, what, errno);
	} else {
		p->f[k].value = (const uint8_t *)v;
		p->f[k].len = strlen(v);
		return 0;
	}
	p->owned[k] = buf;
	p->ownlen[k] = len;
	p->f[k].value = buf;
	p->f[k].len = len;
	return 0;
}

/*
 * Field k of the --from-json document (its i-th member, from 1), name
 * and value: a string is its UTF-8 bytes, {"base64": "..."} the bytes it
 * encodes (what `get --json` prints for a value that is not text).
 */
static int
json_value_in(const struct opts *o, struct put_input *p, size_t k, size_t i,
    const char *name, json_t *v)
{
	const char *b64;
	size_t n, len;
	uint8_t *buf;

	p->f[k].name = name;
	if (json_is_string(v)) {
		p->f[k].value = (const uint8_t *)json_string_value(v);
		p->f[k].len = json_string_length(v);
		return 0;
	}
	if (!json_is_object(v) || json_object_size(v) != 1 ||
	    !json_is_string(json_object_get(v, "base64")))
		return report_local(o, PRIVD_EINVAL,
		    "--from-json: field %zu is neither a string nor "
		    "{\"base64\": \"...\"}",
		    i);
	b64 = json_string_value(json_object_get(v, "base64"));
	n = json_string_length(json_object_get(v, "base64"));
	if ((buf = malloc(n / 4 * 3 + 3)) == NULL)
		return report_local(o, PRIVD_ENOMEM, "out of memory");
	if (sodium_base642bin(buf, n / 4 * 3 + 3, b64, n, NULL, &len, NULL,
	        sodium_base64_VARIANT_ORIGINAL) != 0) {
		wipe_free(buf, n / 4 * 3 + 3);
		return report_local(o, PRIVD_EINVAL,
		    "--from-json: field %zu: the base64 is not valid", i);
	}
	p->owned[k] = buf;
	p->ownlen[k] = n / 4 * 3 + 3;
	p->f[k].value = buf;
	p->f[k].len = len;
	return 0;
}

/*
 * Read --from-json FILE ("-": stdin) into p->doc: a JSON object
 * {"fields": {NAME: VALUE, ...}} with, if the record says whose it is,
 * "subject": "ID". Nothing else may be in it. The document is what
 * `get --json` prints, so a record read can be written back as it is.
 */
static int
load_record(const struct opts *o, struct put_input *p, int *stdin_used)
{
	json_error_t je;
	json_t *fields, *subject;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if (strcmp(o->from_json, "-") == 0) {
		*stdin_used = 1;
		if ((rc = read_stdin(o, "--from-json", &buf, &len)) != 0)
			return rc;
	} else if (read_path(o->from_json, INPUT_MAX, &buf, &len) != 0)
		return read_failed(o, "--from-json", errno);
	/* jansson's own error text may quote the document: not shown */
	p->doc = json_loadb((const char *)buf, len,
	    JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	wipe_free(buf, len);
	if (p->doc == NULL)
		return report_local(o, PRIVD_EINVAL,
		    "--from-json: not valid JSON (line %d, column %d)", je.line,
		    je.column);
	fields = json_object_get(p->doc, "fields");
	subject = json_object_get(p->doc, "subject");
	if (!json_is_object(p->doc) || !json_is_object(fields))
		return report_local(o, PRIVD_EINVAL,
		    "--from-json: not an object {\"fields\": {...}}");
	if (json_object_size(p->doc) != 1 + (subject != NULL))
		return report_local(o, PRIVD_EINVAL,
		    "--from-json: an object holds \"fields\" and "
		    "\"subject\" only");
	if (subject != NULL &&
	    (!json_is_string(subject) || json_string_length(subject) == 0 ||
	        strlen(json_string_value(subject)) !=
	            json_string_length(subject)))
		return report_local(o, PRIVD_EINVAL,
		    "--from-json: \"subject\" is not a subject id");
	if (subject != NULL)
		p->subject = json_string_value(subject);
	return 0;
}

/* Is field k's name one of the k before it? */
static int
repeated(const struct put_input *p, size_t k)
{
	size_t j;

	for (j = 0; j < k; j++)
		if (strcmp(p->f[j].name, p->f[k].name) == 0)
			return 1;
	return 0;
}

/*
 * put REGISTER [SUBJECT] [FIELD=VALUE...] [--from-json FILE]: read every
 * value now, before anything is sent, into o->put. SUBJECT is the
 * argument after REGISTER unless the --from-json document names the
 * subject: then every argument after REGISTER is a FIELD=VALUE. A field
 * may be given once; there must be one at least. Returns 0 or the exit
 * code after saying why.
 */
int
put_input_read(struct opts *o, char **args, int nargs)
{
	struct put_input *p;
	size_t k = 0, nf, i, njson = 0, keylen;
	int first, idx, at, stdin_used = 0, rc;
	const char *name;
	json_t *v, *fields = NULL;
	char *eq;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return report_local(o, PRIVD_ENOMEM, "out of memory");
	o->put = p;
	if (o->from_json != NULL && (rc = load_record(o, p, &stdin_used)) != 0)
		return rc;
	if (p->doc != NULL) {
		fields = json_object_get(p->doc, "fields");
		njson = json_object_size(fields);
	}
	first = p->subject != NULL ? 1 : 2;
	if (p->subject == NULL) {
		if (nargs < 2)
			return usage_error("put: no SUBJECT (after REGISTER, "
			                   "or \"subject\" in --from-json)");
		p->subject = args[1];
	}
	nf = (size_t)(nargs - first) + njson;
	if (nf == 0)
		return usage_error("put: no FIELD=VALUE and no --from-json");
	p->f = calloc(nf, sizeof(*p->f));
	p->owned = calloc(nf, sizeof(*p->owned));
	p->ownlen = calloc(nf, sizeof(*p->ownlen));
	if (p->f == NULL || p->owned == NULL || p->ownlen == NULL)
		return report_local(o, PRIVD_ENOMEM, "out of memory");
	p->n = nf; /* for put_input_free(), whatever happens next */
	i = 0;
	json_object_keylen_foreach(fields, name, keylen, v)
	{
		i++;
		if (*name == '\0' || strlen(name) != keylen)
			return report_local(o, PRIVD_EINVAL,
			    "--from-json: field %zu has no name, or a NUL in "
			    "it",
			    i);
		if ((rc = json_value_in(o, p, k, i, name, v)) != 0)
			return rc;
		k++;
	}
	for (idx = first; idx < nargs; idx++) {
		/* where it was on the command line, for messages */
		at = arg_position(args[idx], idx + 1);
		/* split in place: argv is ours to modify */
		eq = strchr(args[idx], '=');
		if (eq == NULL || eq == args[idx])
			return usage_error(
			    "put: argument %d is not FIELD=VALUE%s", at,
			    first == 1 ? " (the subject is --from-json's)"
			               : "");
		*eq = '\0';
		p->f[k].name = args[idx];
		if (repeated(p, k))
			return usage_error("put: the field of argument %d is "
			                   "given twice",
			    at);
		if (stdin_used && strcmp(eq + 1, "-") == 0 &&
		    o->from_json != NULL && strcmp(o->from_json, "-") == 0)
			return usage_error("put: stdin can be read once: "
			                   "--from-json - and argument %d",
			    at);
		if ((rc = arg_value(o, p, k, at, eq + 1, &stdin_used)) != 0)
			return rc;
		k++;
	}
	return 0;
}

/* Wipe what put read, free it and set *pp to NULL. NULL-safe. The
 * document's memory is wiped by the allocator main() gives jansson. */
void
put_input_free(struct put_input **pp)
{
	struct put_input *p = *pp;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; p->owned != NULL && i < p->n; i++)
		wipe_free(p->owned[i], p->ownlen[i]);
	free(p->owned);
	free(p->ownlen);
	free(p->f);
	json_decref(p->doc);
	free(p);
	*pp = NULL;
}
