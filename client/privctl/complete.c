/*
 * complete.c - what bash completion (contrib/bash-completion/privctl)
 * asks privctl, so that the script knows nothing of privctl's commands
 * and options: they come from the tables in commands.c, and what a
 * command's arguments are from its synopsis there.
 *
 * `privctl __complete CWORD -- WORD...`: the words of the command line
 * (WORD 0 is privctl itself) and the index of the one being completed;
 * prints the candidates for it, one a line, starting with what is typed,
 * and what only the shell can do as lines starting with '@':
 *   @files PREFIX            file names (after PREFIX: put's "name=@")
 *   @policy KIND REGISTER SUFFIX
 *                            names from the policy: KIND register,
 *                            purpose or field, of REGISTER ("-": any),
 *                            SUFFIX ("-": none) after each ("=": put)
 *   @nospace                 no blank after the word (FIELD=, ipc://)
 * `privctl __complete-policy`: the names of the policy in force, as
 * "register R", "purpose R P" and "field R F" lines; it needs a key with
 * the role policy_admin, and the script keeps them a few minutes.
 * Subject ids and values are never offered. Neither command prints an
 * error: completion must not write on the user's terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "privctl.h"

/* What a word is, for completion. */
enum kind {
	K_NONE,
	K_REGISTER,
	K_PURPOSE,
	K_FIELD,
	K_FIELD_VALUE, /* put's FIELD=VALUE */
	K_FILE,
	K_FORMAT,
	K_OP,
	K_ENDPOINT,
};

/* The most arguments a synopsis names. */
#define MAX_POS 8

/* What the value of an option is. */
static enum kind
opt_kind(optbits bit)
{
	if (bit &
	    (O_KEY | O_SERVER_KEY | O_OUT | O_CONFIG | O_FROM_JSON | O_PUBKEY))
		return K_FILE;
	if (bit & O_REGISTER)
		return K_REGISTER;
	if (bit & O_PURPOSE)
		return K_PURPOSE;
	if (bit & (O_FIELD | O_GROUP_BY))
		return K_FIELD;
	if (bit & O_FORMAT)
		return K_FORMAT;
	if (bit & (O_OP | O_NOT_OP))
		return K_OP;
	if (bit & O_ENDPOINT)
		return K_ENDPOINT;
	return K_NONE;
}

/* The option named by the n bytes at w ("--key", or "--key=..."), or
 * NULL. */
static const struct optdef *
find_optn(const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (w[i] == '=')
			n = i;
	for (i = 0; i < NOPTDEFS; i++)
		if (strlen(optdefs[i].name) == n &&
		    strncmp(optdefs[i].name, w, n) == 0)
			return &optdefs[i];
	return NULL;
}

/* The option the word w names, or NULL. */
static const struct optdef *
find_opt(const char *w)
{
	return find_optn(w, strlen(w));
}

/* What the placeholder p (n bytes) of a synopsis stands for: a FILE
 * among its alternatives ("B|FILE") makes it a file; else its first
 * alternative says. */
static enum kind
placeholder_kind(const char *p, size_t n)
{
	size_t k, alt;

	for (k = 0; k < n; k += alt + 1) {
		alt = strcspn(p + k, "|");
		if (alt > n - k)
			alt = n - k;
		if (alt == 4 && strncmp(p + k, "FILE", 4) == 0)
			return K_FILE;
	}
	alt = strcspn(p, "|");
	if (alt > n)
		alt = n;
	if (alt > 6 && strncmp(p, "FIELD=", 6) == 0)
		return K_FIELD_VALUE;
	if (alt == 8 && strncmp(p, "REGISTER", 8) == 0)
		return K_REGISTER;
	if (alt == 7 && strncmp(p, "PURPOSE", 7) == 0)
		return K_PURPOSE;
	if (alt == 5 && strncmp(p, "FIELD", 5) == 0)
		return K_FIELD;
	return K_NONE;
}

/*
 * The arguments of cmd, from its synopsis: the kind of each (at most
 * MAX_POS) into kinds; returns how many, and *repeat is set when the last
 * may repeat ("FIELD..."). Options and their values are skipped ("--from
 * N", "[--subject [R/]S]"); brackets and alternatives between options
 * ("|") do not count.
 */
static size_t
synopsis_args(const struct command *cmd, enum kind kinds[MAX_POS], int *repeat)
{
	const char *s = cmd->synopsis, *t;
	const struct optdef *d;
	size_t n = 0, len, toklen;
	int skip = 0;

	*repeat = 0;
	while (*s != '\0') {
		s += strspn(s, " ");
		toklen = len = strcspn(s, " ");
		if (len == 0)
			break;
		t = s;
		s += len;
		while (len > 0 && *t == '[') {
			t++;
			len--;
		}
		while (len > 0 && (t[len - 1] == ']' || t[len - 1] == '.'))
			len--;
		if (len == 0 || (len == 1 && *t == '|'))
			continue;
		if (skip) {
			skip = 0;
			continue;
		}
		if (*t == '-') {
			d = find_optn(t, len);
			skip = d != NULL && d->has_arg;
			continue;
		}
		if (n == MAX_POS)
			break;
		kinds[n++] = placeholder_kind(t, len);
		/* "FIELD...", "[FIELD...]": the last may repeat */
		*repeat = (toklen >= 3 && strncmp(s - 3, "...", 3) == 0) ||
		          (toklen >= 4 && strncmp(s - 4, "...]", 4) == 0);
	}
	return n;
}

/* Print w if it starts with what is typed. */
static void
offer(const char *w, const char *cur)
{
	if (strncmp(w, cur, strlen(cur)) == 0)
		printf("%s\n", w);
}

/* The command names: top-level commands and groups (each once), or the
 * commands of group. Hidden ones ("__...") are not offered. */
static void
offer_commands(const char *group, const char *cur)
{
	size_t i, j;

	for (i = 0; i < ncommands; i++) {
		const struct command *c = &commands[i];

		if (strncmp(c->name, "__", 2) == 0)
			continue;
		if (group != NULL) {
			if (c->group != NULL && strcmp(c->group, group) == 0)
				offer(c->name, cur);
			continue;
		}
		if (c->group == NULL) {
			offer(c->name, cur);
			continue;
		}
		for (j = 0; j < i; j++)
			if (commands[j].group != NULL &&
			    strcmp(commands[j].group, c->group) == 0)
				break;
		if (j == i)
			offer(c->group, cur);
	}
}

/* The options cmd takes (NULL: the global ones), long ones only. */
static void
offer_options(const struct command *cmd, const char *cur)
{
	optbits take = O_GLOBAL | (cmd != NULL ? cmd->opts : 0);
	size_t i;

	for (i = 0; i < NOPTDEFS; i++)
		if ((optdefs[i].bit & take) && optdefs[i].name[1] == '-')
			offer(optdefs[i].name, cur);
}

/* What to offer for a word of kind k, after prefix (what precedes the
 * part completed in the same word: "--format=", "name="); reg is the
 * register the line names, or NULL. */
static void
offer_kind(enum kind k, const char *prefix, const char *cur, const char *reg)
{
	char w[128];
	size_t i;

	switch (k) {
	case K_FILE:
		printf("@files %s\n", prefix);
		break;
	case K_REGISTER:
		printf("@policy register - -\n");
		break;
	case K_PURPOSE:
	case K_FIELD:
		printf("@policy %s %s -\n",
		    k == K_PURPOSE ? "purpose" : "field",
		    reg != NULL ? reg : "-");
		break;
	case K_FIELD_VALUE:
		/* FIELD= first; after "FIELD=@", a file */
		if (strchr(cur, '=') == NULL) {
			printf("@policy field %s =\n@nospace\n",
			    reg != NULL ? reg : "-");
			break;
		}
		i = (size_t)(strchr(cur, '=') - cur) + 1;
		if (cur[i] == '@' && cur[i + 1] != '@' && i + 1 < sizeof(w)) {
			snprintf(w, sizeof(w), "%.*s@", (int)i, cur);
			printf("@files %s\n", w);
		}
		break;
	case K_FORMAT:
		for (i = 0; i < 2; i++) {
			snprintf(w, sizeof(w), "%s%s", prefix,
			    i == 0 ? "json" : "table");
			offer(w, cur);
		}
		break;
	case K_OP:
		for (i = 0; op_names[i] != NULL; i++) {
			snprintf(w, sizeof(w), "%s%s", prefix, op_names[i]);
			offer(w, cur);
		}
		break;
	case K_ENDPOINT:
		snprintf(w, sizeof(w), "%sipc://", prefix);
		offer(w, cur);
		snprintf(w, sizeof(w), "%stcp://", prefix);
		offer(w, cur);
		printf("@nospace\n");
		break;
	default:
		break;
	}
}

/* The command that the positional words pos[0..npos) name, and how many
 * of them do (*used); NULL if none (yet). */
static const struct command *
named_command(char **pos, size_t npos, size_t *used)
{
	size_t i;

	*used = 0;
	for (i = 0; npos > 0 && i < ncommands; i++) {
		if (commands[i].group == NULL &&
		    strcmp(commands[i].name, pos[0]) == 0) {
			*used = 1;
			return &commands[i];
		}
		if (commands[i].group != NULL && npos > 1 &&
		    strcmp(commands[i].group, pos[0]) == 0 &&
		    strcmp(commands[i].name, pos[1]) == 0) {
			*used = 2;
			return &commands[i];
		}
	}
	return NULL;
}

/* Is w the name of a group of commands? */
static int
is_group(const char *w)
{
	size_t i;

	for (i = 0; i < ncommands; i++)
		if (commands[i].group != NULL &&
		    strcmp(commands[i].group, w) == 0)
			return 1;
	return 0;
}

/*
 * __complete CWORD WORD...: print what may come at word CWORD of the
 * line WORD... (see the top of this file). A line privctl cannot make
 * sense of gets nothing offered, not an error.
 */
int
cmd_complete(struct opts *o, char **args, int nargs)
{
	char *pos[64], *reg = NULL, **words = args + 1;
	const struct optdef *d, *pending = NULL;
	const struct command *cmd;
	enum kind kinds[MAX_POS];
	size_t npos = 0, used, nk, a;
	int cword, nwords = nargs - 1, i, endopts = 0, repeat;
	uint64_t v;
	const char *cur, *eq;

	(void)o;
	if (parse_u64(args[0], &v) != 0 || v < 1 || v > (uint64_t)nwords)
		return 0;
	cword = (int)v;
	cur = cword < nwords ? words[cword] : "";
	for (i = 1; i < cword; i++) {
		if (!endopts && strcmp(words[i], "--") == 0) {
			endopts = 1;
			continue;
		}
		if (!endopts && words[i][0] == '-' && words[i][1] != '\0') {
			d = find_opt(words[i]);
			eq = strchr(words[i], '=');
			if (d != NULL && d->has_arg && eq == NULL) {
				if (i + 1 == cword)
					pending = d;
				else if (d->bit == O_REGISTER)
					reg = words[i + 1];
				i++;
			} else if (d != NULL && d->bit == O_REGISTER)
				reg = (char *)eq + 1;
			continue;
		}
		if (npos < sizeof(pos) / sizeof(pos[0]))
			pos[npos++] = words[i];
	}
	cmd = named_command(pos, npos, &used);
	/* the register the line names, for purposes and fields */
	if (cmd != NULL && (nk = synopsis_args(cmd, kinds, &repeat)) > 0)
		for (a = 0; a < nk && used + a < npos; a++)
			if (kinds[a] == K_REGISTER)
				reg = pos[used + a];
	if (pending != NULL) {
		offer_kind(opt_kind(pending->bit), "", cur, reg);
		return 0;
	}
	if (!endopts && cur[0] == '-' && cur[1] != '\0') {
		if ((eq = strchr(cur, '=')) != NULL) {
			/* --option=VALUE in one word */
			char prefix[64];

			if ((d = find_opt(cur)) != NULL && d->has_arg &&
			    (size_t)(eq - cur) + 2 <= sizeof(prefix)) {
				snprintf(prefix, sizeof(prefix), "%.*s",
				    (int)(eq - cur) + 1, cur);
				offer_kind(opt_kind(d->bit), prefix, cur, reg);
			}
			return 0;
		}
		offer_options(cmd, cur);
		return 0;
	}
	if (npos == 0) {
		offer_commands(NULL, cur);
		return 0;
	}
	if (cmd == NULL) {
		if (npos == 1 && is_group(pos[0]))
			offer_commands(pos[0], cur);
		return 0;
	}
	nk = synopsis_args(cmd, kinds, &repeat);
	a = npos - used;
	if (a < nk)
		offer_kind(kinds[a], "", cur, reg);
	else if (nk > 0 && repeat)
		offer_kind(kinds[nk - 1], "", cur, reg);
	return 0;
}

/* One name of the policy, if it is one a shell can take as a word. */
static void
print_name(const char *what, const char *reg, const char *name)
{
	if (reg != NULL && strpbrk(reg, " \t\r\n") != NULL)
		return;
	if (*name == '\0' || strpbrk(name, " \t\r\n") != NULL ||
	    !printable_utf8((const uint8_t *)name, strlen(name)))
		return;
	if (reg != NULL)
		printf("%s %s %s\n", what, reg, name);
	else
		printf("%s %s\n", what, name);
}

/*
 * __complete-policy: the registers, purposes and fields of the policy in
 * force. Nothing (and exit 1) when privd says no: completion offers
 * nothing then.
 */
int
cmd_complete_policy(
    const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_policy_version v;
	json_t *doc, *regs, *r, *m, *x;
	const char *rn, *name;
	char *text = NULL;

	(void)o;
	(void)args;
	(void)nargs;
	if (privd_policy_get_version(c, 0, &v, &text) != PRIVD_OK)
		return 1;
	doc = json_loads(text, 0, NULL);
	privd_free(text);
	regs = json_object_get(doc, "registers");
	json_object_foreach(regs, rn, r)
	{
		print_name("register", NULL, rn);
		m = json_object_get(r, "purposes");
		json_object_foreach(m, name, x) print_name("purpose", rn, name);
		m = json_object_get(r, "fields");
		json_object_foreach(m, name, x) print_name("field", rn, name);
	}
	json_decref(doc);
	return 0;
}
