/*
 * cmd_subject.c - the data subject rights commands: subject restrict
 * (and --lift), subject object (and --withdraw), and subject erase with
 * its report, register by register, of what was deleted, what was kept
 * and why, and whether the data key was destroyed; subject lookup. A
 * subject id is never printed back, except by lookup, which is what it is
 * for: what the others print names registers, purposes and fields only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privctl.h"

/*
 * subject erase: every --register names a register (none: all of them).
 * A register given twice is asked for once: privd's report lists each
 * register once, and the repeat was surely not meant as anything else.
 */
int
erase_check(struct opts *o, char **args, int nargs)
{
	size_t i, j, n = 0;

	for (i = 0; i < o->nregs; i++) {
		if (*o->regs[i] == '\0')
			return usage_error("--register needs a register name");
		for (j = 0; j < n; j++)
			if (strcmp(o->regs[j], o->regs[i]) == 0)
				break;
		if (j == n)
			o->regs[n++] = o->regs[i];
	}
	o->nregs = n;
	return 0;
}

/*
 * What subject restrict did: a line saying the state the subject is in
 * now and whether this changed it, or with --json {"register",
 * "restricted", "changed"}. on is the state asked for.
 */
int
print_restrict(const struct opts *o, const char *reg, int on, int changed)
{
	if (o->json)
		return json_print(json_pack("{s:s, s:b, s:b}", "register",
		    safe(reg), "restricted", on, "changed", changed));
	if (on && changed)
		printf("processing of the subject restricted in register %s\n",
		    safe(reg));
	else if (on)
		printf("processing of the subject was already restricted in "
		       "register %s\n",
		    safe(reg));
	else if (changed)
		printf("restriction of the subject lifted in register %s\n",
		    safe(reg));
	else
		printf("the subject was not restricted in register %s\n",
		    safe(reg));
	return 0;
}

/*
 * What subject object did, as print_restrict() says it: with --json
 * {"register", "purpose", "objected", "changed"}.
 */
int
print_object(const struct opts *o, const char *reg, const char *purpose, int on,
    int changed)
{
	if (o->json)
		return json_print(json_pack("{s:s, s:s, s:b, s:b}", "register",
		    safe(reg), "purpose", safe(purpose), "objected", on,
		    "changed", changed));
	if (on && changed)
		printf("objection to purpose %s recorded in register %s\n",
		    safe(purpose), safe(reg));
	else if (on)
		printf("objection to purpose %s was already recorded in "
		       "register %s\n",
		    safe(purpose), safe(reg));
	else if (changed)
		printf("objection to purpose %s withdrawn in register %s\n",
		    safe(purpose), safe(reg));
	else
		printf("there was no objection to purpose %s in register %s\n",
		    safe(purpose), safe(reg));
	return 0;
}

/* subject restrict: args are REGISTER SUBJECT. */
int
cmd_subject_restrict(
    const struct opts *o, privd_client *c, char **args, int nargs)
{
	int changed = 0, rc;

	rc = privd_subject_restrict(c, args[0], args[1], !o->lift, &changed);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	return print_restrict(o, args[0], !o->lift, changed);
}

/* subject object: args are REGISTER SUBJECT PURPOSE. */
int
cmd_subject_object(
    const struct opts *o, privd_client *c, char **args, int nargs)
{
	int changed = 0, rc;

	rc = privd_subject_object(
	    c, args[0], args[1], args[2], !o->withdraw, &changed);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	return print_object(o, args[0], args[2], !o->withdraw, changed);
}

/* The names of the fields deleted, as a JSON array; NULL if out of
 * memory. */
static json_t *
json_names(char *const *names, size_t n)
{
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (json_array_append_new(a, json_string(safe(names[i]))) !=
		    0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

/* An erasure report as JSON: {"registers": [{"register", "deleted",
 * "retained", "key_destroyed"}]}; NULL if out of memory. */
static json_t *
json_erasure(const privd_erasure *e)
{
	const privd_erased_register *r;
	json_t *a;
	size_t i;

	if ((a = json_array()) == NULL)
		return NULL;
	for (i = 0; i < e->nregisters; i++) {
		r = &e->registers[i];
		if (json_array_append_new(
		        a, json_pack("{s:s, s:o, s:o, s:b}", "register",
		               safe(r->reg), "deleted",
		               json_names(r->deleted, r->ndeleted), "retained",
		               json_retained(r->kept, r->nkept),
		               "key_destroyed", r->key_destroyed)) != 0) {
			json_decref(a);
			return NULL;
		}
	}
	return json_pack("{s:o}", "registers", a);
}

/*
 * What an erasure did, register by register: "register R: deleted N
 * field(s): a, b", then indented one line per field kept and why (as
 * delete says it), then whether the data key was destroyed or stays with
 * the fields kept. With --json, json_erasure(). Returns 0 or the exit
 * code of a failure.
 */
int
print_erasure(const struct opts *o, const privd_erasure *e)
{
	const privd_erased_register *r;
	size_t i, j;

	if (o->json)
		return json_print(json_erasure(e));
	for (i = 0; i < e->nregisters; i++) {
		r = &e->registers[i];
		printf("register %s: deleted %zu field(s)%s", safe(r->reg),
		    r->ndeleted, r->ndeleted > 0 ? ":" : "");
		for (j = 0; j < r->ndeleted; j++)
			printf("%s %s", j > 0 ? "," : "", safe(r->deleted[j]));
		putchar('\n');
		for (j = 0; j < r->nkept; j++)
			print_retained("  ", &r->kept[j]);
		if (r->key_destroyed)
			printf("  data key destroyed: nothing of the subject "
			       "is left\n");
		else
			printf("  data key kept: the subject stays with the "
			       "fields kept\n");
	}
	return 0;
}

/*
 * subject erase: args are SUBJECT. print_erasure() on stdout; when privd
 * kept fields, privd's message on stderr (not with --json: the object
 * says it all) and exit 6, as delete does.
 */
int
cmd_subject_erase(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_erasure *e = NULL;
	int rc, prc;

	rc = privd_subject_erase(c, args[0], o->regs, o->nregs, &e);
	if (rc != PRIVD_OK && rc != PRIVD_ERETAINED)
		return report_call(o, c, rc);
	prc = print_erasure(o, e);
	privd_erasure_free(&e);
	if (prc != 0)
		return prc;
	/* the report first, then why it exits 6, also into one pipe */
	if (rc == PRIVD_ERETAINED && !o->json) {
		fflush(stdout);
		return report_call(o, c, rc);
	}
	return exit_code(rc);
}

/* The first line of stdin, without its newline, into a malloc'd buffer;
 * NULL (said) if there is none. */
static char *
stdin_line(size_t *len)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if ((n = getline(&line, &cap, stdin)) <= 0) {
		free(line);
		usage_error("no value on stdin");
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*len = (size_t)n;
	return line;
}

/*
 * subject lookup: exactly one of --email VALUE, --phone VALUE, --field
 * NAME with VALUE as the argument. VALUE "-": the first line of stdin.
 */
int
lookup_check(struct opts *o, char **args, int nargs)
{
	const char *v = NULL;
	int n = (o->email != NULL) + (o->phone != NULL) + (o->field != NULL);

	if (n != 1)
		return usage_error(
		    "subject lookup takes one of --email, --phone, --field");
	if (o->email != NULL) {
		o->lookup_field = "email";
		v = o->email;
	} else if (o->phone != NULL) {
		o->lookup_field = "phone";
		v = o->phone;
	} else {
		o->lookup_field = o->field;
		if (nargs != 1)
			return usage_error("--field NAME needs the VALUE to "
			                   "look for as its argument");
		v = args[0];
	}
	if (o->field == NULL && nargs != 0)
		return usage_error("--email and --phone take the value itself");
	if (*o->lookup_field == '\0')
		return usage_error("--field needs a field name");
	if (strcmp(v, "-") == 0) {
		if ((o->lookup_value = stdin_line(&o->lookup_len)) == NULL)
			return 2;
	} else {
		if ((o->lookup_value = strdup(v)) == NULL)
			return usage_error("out of memory");
		o->lookup_len = strlen(v);
	}
	if (o->lookup_len == 0)
		return usage_error("the value to look for is empty");
	return 0;
}

/* subject lookup: 'REGISTER SUBJECT' per match, or with --json
 * {"matches": [{"register", "subject"}]}. */
int
cmd_subject_lookup(
    const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_match *m = NULL;
	json_t *a;
	size_t i, n = 0;
	int rc;

	(void)args;
	(void)nargs;
	rc = privd_subject_lookup(
	    c, o->lookup_field, o->lookup_value, o->lookup_len, &m, &n);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json) {
		if ((a = json_array()) != NULL)
			for (i = 0; i < n; i++)
				json_array_append_new(
				    a, json_pack("{s:s, s:s}", "register",
				           safe(m[i].reg), "subject",
				           safe(m[i].subject)));
		rc = json_print(
		    a != NULL ? json_pack("{s:o}", "matches", a) : NULL);
	} else {
		for (i = 0; i < n; i++)
			printf("%s %s\n", safe(m[i].reg), safe(m[i].subject));
		rc = 0;
	}
	privd_matches_free(&m, n);
	return rc;
}
