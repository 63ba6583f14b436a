/*
 * config.c - privctl's settings and where each comes from: an option on
 * the command line, else the environment, else the config file, else the
 * default. The config file (--config FILE, else $PRIVCTL_CONFIG, else
 * $XDG_CONFIG_HOME/privctl/config or ~/.config/privctl/config) gives a
 * user or a service account its endpoint, key file and server key (and
 * timeout and output format) without exporting variables:
 *
 *   # privctl config
 *   endpoint = ipc:///run/privd/privd.sock
 *   # or the nodes of a cluster: endpoint = tcp://a:7700,tcp://b:7700
 *   key = svc.key                 # no: comments are whole lines only
 *   server-key = /var/lib/privd/server.pub
 *
 * One "name = value" a line, blanks around both ignored; lines starting
 * with '#' and empty lines skipped ('#' is a Z85 character, so there are
 * no comments after a value). A relative key or server-key file is taken
 * from the config file's directory, "~/" from $HOME. An unknown name, a
 * bad value or a name set twice is an error naming the line. Like ssh,
 * privctl refuses a config file that someone else could have written:
 * it says where to connect and whom to trust.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privctl.h"

/* Largest config file read; a real one is a few lines. */
#define CONFIG_MAX (64 * 1024)

/* The settings: the config file's name, the environment variable, the
 * options that give it on the command line, whether it is a file. */
enum { CF_ENDPOINT, CF_KEY, CF_SERVER_KEY, CF_TIMEOUT, CF_FORMAT, CF_N };

static const struct cfdef {
	const char *name;
	const char *env; /* NULL: none */
	optbits opt;
	int file; /* a file name, resolved from the config file's directory */
} cfdefs[CF_N] = {
    {"endpoint", "PRIVD_ENDPOINT", O_ENDPOINT, 0},
    {"key", "PRIVD_KEY", O_KEY, 1},
    {"server-key", "PRIVD_SERVER_KEY", O_SERVER_KEY, 1},
    {"timeout", NULL, O_TIMEOUT, 0},
    {"format", "PRIVCTL_FORMAT", O_FORMAT | O_JSON, 0},
};

/* Where a setting in force came from. */
enum { FROM_NONE, FROM_OPTION, FROM_ENV, FROM_FILE, FROM_DEFAULT };

struct config {
	char *path;           /* the file read; NULL: none */
	char *value[CF_N];    /* as the file gives it (files resolved) */
	int line[CF_N];       /* its line; 0: not in the file */
	int from[CF_N];       /* FROM_* of the setting in force */
	const char *in[CF_N]; /* the setting in force (NULL: none) */
};

/*
 * The config file privctl reads, into path (size bytes): 0, 1 if there
 * is none to read (PRIVCTL_CONFIG empty: none wanted; no HOME), -1 if
 * its name is too long. *named is set when it was named (--config,
 * PRIVCTL_CONFIG): then it must exist.
 */
static int
config_path(const struct opts *o, char *path, size_t size, int *named)
{
	const char *env = getenv("PRIVCTL_CONFIG"), *home, *xdg;
	int n;

	*named = 1;
	if (o->config != NULL)
		n = snprintf(path, size, "%s", o->config);
	else if (env != NULL && *env == '\0')
		return 1;
	else if (env != NULL)
		n = snprintf(path, size, "%s", env);
	else {
		*named = 0;
		xdg = getenv("XDG_CONFIG_HOME");
		home = getenv("HOME");
		if (xdg != NULL && *xdg == '/')
			n = snprintf(path, size, "%s/privctl/config", xdg);
		else if (home != NULL && *home != '\0')
			n = snprintf(
			    path, size, "%s/.config/privctl/config", home);
		else
			return 1;
	}
	return n >= 0 && (size_t)n < size ? 0 : -1;
}

/* s without the blanks around it (in place). */
static char *
trim(char *s)
{
	char *e;

	s += strspn(s, " \t");
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/*
 * A file named in the config file, as privctl opens it: "~/..." under
 * $HOME, a relative name in the config file's directory. malloc'd; NULL
 * if out of memory or "~/" without HOME.
 */
static char *
config_file_name(const char *cfpath, const char *v)
{
	const char *home, *slash;
	char *out;
	size_t n;

	if (v[0] == '~' && v[1] == '/') {
		if ((home = getenv("HOME")) == NULL || *home == '\0')
			return NULL;
		n = strlen(home) + strlen(v);
		if ((out = malloc(n)) != NULL)
			snprintf(out, n, "%s%s", home, v + 1);
		return out;
	}
	if (v[0] == '/' || (slash = strrchr(cfpath, '/')) == NULL)
		return strdup(v);
	n = (size_t)(slash - cfpath) + 1 + strlen(v) + 1;
	if ((out = malloc(n)) != NULL)
		snprintf(out, n, "%.*s/%s", (int)(slash - cfpath), cfpath, v);
	return out;
}

/* One line of the config file: "name = value" into c. Returns 0 or the
 * exit code after saying what is wrong with the line. */
static int
config_line(struct config *c, int lineno, char *line)
{
	char *eq, *name, *v, *file, why[160];
	int i, ms;

	line = trim(line);
	if (*line == '\0' || *line == '#')
		return 0;
	if ((eq = strchr(line, '=')) == NULL)
		return usage_error(
		    "%s: line %d is not 'name = value'", c->path, lineno);
	*eq = '\0';
	name = trim(line);
	v = trim(eq + 1);
	for (i = 0; i < CF_N; i++)
		if (strcmp(name, cfdefs[i].name) == 0)
			break;
	if (i == CF_N)
		return usage_error(
		    "%s: line %d: unknown setting (known: "
		    "endpoint, key, server-key, timeout, format)",
		    c->path, lineno);
	if (c->line[i] != 0)
		return usage_error("%s: line %d: %s is set on line %d already",
		    c->path, lineno, cfdefs[i].name, c->line[i]);
	if (*v == '\0')
		return usage_error("%s: line %d: %s has no value", c->path,
		    lineno, cfdefs[i].name);
	if (i == CF_TIMEOUT && parse_timeout(v, &ms) != 0)
		return usage_error("%s: line %d: timeout is a positive number "
		                   "of milliseconds",
		    c->path, lineno);
	if (i == CF_ENDPOINT &&
	    privd_endpoints_check(v, why, sizeof(why)) != PRIVD_OK)
		return usage_error("%s: line %d: %s", c->path, lineno, why);
	if (i == CF_FORMAT && strcmp(v, "json") != 0 && strcmp(v, "table") != 0)
		return usage_error(
		    "%s: line %d: format is json or table", c->path, lineno);
	c->line[i] = lineno;
	if (!cfdefs[i].file)
		c->value[i] = strdup(v);
	else if ((file = config_file_name(c->path, v)) == NULL)
		return usage_error("%s: line %d: %s: ~/ needs HOME", c->path,
		    lineno, cfdefs[i].name);
	/* a server key may be the key itself, not a file */
	else if (i == CF_SERVER_KEY && access(file, F_OK) != 0) {
		free(file);
		c->value[i] = strdup(v);
	} else
		c->value[i] = file;
	if (c->value[i] == NULL)
		return usage_error("out of memory");
	return 0;
}

/*
 * Read the config file at c->path (fd open on it): a regular file of
 * ours (or root's), not writable by group or others, of at most
 * CONFIG_MAX bytes, without NUL bytes; then each of its lines.
 */
static int
config_read(struct config *c, int fd)
{
	struct stat sb;
	uint8_t *buf = NULL;
	size_t len = 0;
	char *line, *next;
	int lineno = 0, rc = 0;

	if (fstat(fd, &sb) != 0)
		return usage_error("%s: %s", c->path, strerror(errno));
	if (!S_ISREG(sb.st_mode))
		return usage_error("%s: not a regular file", c->path);
	if (sb.st_uid != geteuid() && sb.st_uid != 0)
		return usage_error("%s: owned by another user: privctl does "
		                   "not trust its settings",
		    c->path);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return usage_error("%s: writable by group or others: privctl "
		                   "does not trust its settings (chmod go-w)",
		    c->path);
	if (read_all(fd, CONFIG_MAX, &buf, &len) != 0)
		return usage_error("%s: %s", c->path,
		    errno == EFBIG ? "larger than 64 KiB" : strerror(errno));
	if (memchr(buf, '\0', len) != NULL)
		rc = usage_error("%s: holds a NUL byte", c->path);
	for (line = (char *)buf; rc == 0 && line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (next == NULL && *line == '\0')
			break;
		rc = config_line(c, ++lineno, line);
	}
	free(buf);
	return rc;
}

/*
 * Find and read the config file into o->cfg (allocated even when there
 * is no file, to record where settings come from). A file named by
 * --config or PRIVCTL_CONFIG must be there; the default one need not.
 * Returns 0 or the exit code after saying what is wrong.
 */
int
config_load(struct opts *o)
{
	char path[PATH_MAX];
	struct config *c;
	int named, fd, rc;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return usage_error("out of memory");
	o->cfg = c;
	if ((rc = config_path(o, path, sizeof(path), &named)) > 0)
		return 0;
	if (rc < 0)
		return usage_error("the config file's name is too long");
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT && !named)
			return 0;
		return usage_error("%s: %s", path, strerror(errno));
	}
	if ((c->path = strdup(path)) == NULL)
		rc = usage_error("out of memory");
	else
		rc = config_read(c, fd);
	close(fd);
	return rc;
}

void
config_free(struct config **cp)
{
	struct config *c = *cp;
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < CF_N; i++)
		free(c->value[i]);
	free(c->path);
	free(c);
	*cp = NULL;
}

/* The value of setting i: as an option (*opt), else from the
 * environment (unless empty), else from the config file; NULL if none. */
static const char *
pick(struct config *c, int i, const struct opts *o, const char *opt)
{
	const char *v;

	if ((o->given & cfdefs[i].opt) != 0 && opt != NULL) {
		c->from[i] = FROM_OPTION;
		return c->in[i] = opt;
	}
	if (cfdefs[i].env != NULL && (v = getenv(cfdefs[i].env)) != NULL &&
	    *v != '\0') {
		c->from[i] = FROM_ENV;
		return c->in[i] = v;
	}
	if (c->value[i] != NULL) {
		c->from[i] = FROM_FILE;
		return c->in[i] = c->value[i];
	}
	c->from[i] = FROM_NONE;
	return c->in[i] = NULL;
}

/*
 * Settle every setting of o: endpoint, key file, server key, timeout and
 * output format, each from its option, else its environment variable,
 * else the config file (config_load() first), else its default. Errors
 * become JSON from here on if the format is json. Returns 0 or the exit
 * code of a bad PRIVCTL_FORMAT.
 */
int
settings_resolve(struct opts *o)
{
	struct config *c = o->cfg;
	const char *f;

	o->endpoint = pick(c, CF_ENDPOINT, o, o->endpoint);
	o->keyfile = pick(c, CF_KEY, o, o->keyfile);
	o->server_key = pick(c, CF_SERVER_KEY, o, o->server_key);
	if (pick(c, CF_TIMEOUT, o, o->timeout) == NULL) {
		c->from[CF_TIMEOUT] = FROM_DEFAULT;
		c->in[CF_TIMEOUT] = "5000";
	} else if (c->from[CF_TIMEOUT] == FROM_FILE)
		parse_timeout(c->value[CF_TIMEOUT], &o->timeout_ms);
	if ((f = pick(c, CF_FORMAT, o, o->format)) == NULL) {
		c->from[CF_FORMAT] = FROM_DEFAULT;
		f = c->in[CF_FORMAT] = "table";
	}
	o->json = strcmp(f, "json") == 0;
	output_json_errors(o->json);
	if (!o->json && strcmp(f, "table") != 0)
		return usage_error("PRIVCTL_FORMAT is json or table");
	return 0;
}

/* Where setting i in force came from, for people. */
static const char *
from_text(const struct config *c, int i, char *buf, size_t size)
{
	switch (c->from[i]) {
	case FROM_OPTION:
		snprintf(buf, size, "option --%s",
		    i == CF_FORMAT ? "format or --json" : cfdefs[i].name);
		break;
	case FROM_ENV:
		snprintf(buf, size, "environment %s", cfdefs[i].env);
		break;
	case FROM_FILE:
		snprintf(buf, size, "%s, line %d", c->path, c->line[i]);
		break;
	case FROM_DEFAULT:
		snprintf(buf, size, "default");
		break;
	default:
		snprintf(buf, size, "not set");
	}
	return buf;
}

/*
 * config: the settings in force and where each comes from, or with
 * --json {"file": F or null, "settings": [{"name", "value" (null: not
 * set), "source": "option"|"environment"|"file"|"default"|null, "line"
 * (null unless from the file)}]}. The key file is named, never read.
 */
int
cmd_config(struct opts *o, char **args, int nargs)
{
	static const char *const src[] = {
	    NULL, "option", "environment", "file", "default"};
	const struct config *c = o->cfg;
	json_t *a, *e;
	char from[PATH_MAX + 32];
	int i;

	(void)args;
	(void)nargs;
	if (!o->json) {
		printf("config file: %s\n", c->path != NULL ? c->path : "none");
		for (i = 0; i < CF_N; i++)
			printf("%-11s %s (%s)\n", cfdefs[i].name,
			    c->in[i] != NULL ? c->in[i] : "-",
			    from_text(c, i, from, sizeof(from)));
		return 0;
	}
	if ((a = json_array()) == NULL)
		return report_local(o, PRIVD_ENOMEM, "out of memory");
	for (i = 0; i < CF_N; i++) {
		e = json_pack("{s:s, s:o, s:o, s:o}", "name", cfdefs[i].name,
		    "value", c->in[i] ? json_string(c->in[i]) : json_null(),
		    "source",
		    src[c->from[i]] ? json_string(src[c->from[i]])
		                    : json_null(),
		    "line",
		    c->from[i] == FROM_FILE ? json_integer(c->line[i])
		                            : json_null());
		if (json_array_append_new(a, e) != 0) {
			json_decref(a);
			return report_local(o, PRIVD_ENOMEM, "out of memory");
		}
	}
	return json_print(json_pack("{s:o, s:o}", "file",
	    c->path ? json_string(c->path) : json_null(), "settings", a));
}
