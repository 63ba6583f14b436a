/*
 * server.c - the privd under test; see server.h.
 *
 * The policy is the example's (policy/examples/aktiivitieto.json, or
 * --policy): the bench replaces the keys of two of its principals with
 * key pairs of its own and leaves the rest of the document as it is, so
 * privd decides every request under the real example policy. crm (read
 * and write of customers for orders) makes the load; auditor (role
 * auditor) asks the audit queries and counts the log's events; acis
 * (writes of the acis register) and dpo (role policy_admin) serve the
 * sweep phase, and are optional.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "harness.h"
#include "server.h"

/* Skip JSON white space. */
static const char *
ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return p;
}

/*
 * Replace the value of "key" in principal name's object with
 * "@KEY:name@" (what h_policy_write() fills in). A plain text edit, not a
 * JSON rewrite, so the document stays byte for byte the example's
 * elsewhere. Returns a new string (caller frees) or NULL.
 */
static char *
subst_key(const char *doc, const char *name)
{
	char pat[64], *out;
	const char *p, *q, *v, *end;
	size_t n;

	if ((p = strstr(doc, "\"principals\"")) == NULL)
		return NULL;
	snprintf(pat, sizeof(pat), "\"%s\"", name);
	for (p = strstr(p, pat); p != NULL; p = strstr(p + 1, pat)) {
		q = ws(p + strlen(pat));
		if (*q != ':')
			continue;
		q = ws(q + 1);
		if (*q == '{')
			break;
	}
	if (p == NULL || (q = strstr(q, "\"key\"")) == NULL)
		return NULL;
	v = ws(q + 5);
	if (*v != ':')
		return NULL;
	v = ws(v + 1);
	if (*v != '"' || (end = strchr(v + 1, '"')) == NULL)
		return NULL;
	n = strlen(doc) + strlen(name) + 16;
	if ((out = malloc(n)) == NULL)
		return NULL;
	snprintf(
	    out, n, "%.*s\"@KEY:%s@\"%s", (int)(v - doc), doc, name, end + 1);
	return out;
}

static char *
read_text(const char *path)
{
	uint8_t *buf;
	size_t len;
	char *s;

	if (h_read_file(path, &buf, &len) != 0)
		return NULL;
	if ((s = realloc(buf, len + 1)) == NULL) {
		free(buf);
		return NULL;
	}
	s[len] = '\0';
	return s;
}

/*
 * Give principal name a key of the bench's if the policy has it with a
 * key: *doc is replaced by the edited text. Returns the key, or NULL
 * (nothing changed) if the policy has no such principal.
 */
static const h_key *
optional_key(harness *h, char **doc, const char *name)
{
	const h_key *k;
	char *t;

	if ((t = subst_key(*doc, name)) == NULL)
		return NULL;
	if ((k = h_key_new(h, name)) == NULL) {
		free(t);
		return NULL;
	}
	free(*doc);
	*doc = t;
	return k;
}

int
server_start(bench_server *s, const char *policy_path, bool tcp,
    const char *const *serve_extra, bool test_clock, const char *store_spec)
{
	const h_key *crm, *aud, *acis, *adm;
	char *doc = NULL, *t1 = NULL, *t2 = NULL;
	harness *h;
	int port;

	memset(s, 0, sizeof(*s));
	if ((h = h_new()) == NULL)
		return -1;
	s->h = h;
	snprintf(s->root, sizeof(s->root), "%s", h->root);
	if ((crm = h_key_new(h, "crm")) == NULL ||
	    (aud = h_key_new(h, "auditor")) == NULL)
		goto fail;
	if ((doc = read_text(policy_path)) == NULL) {
		fprintf(stderr, "privd-bench: cannot read the policy %s\n",
		    policy_path);
		goto fail;
	}
	if ((t1 = subst_key(doc, "crm")) == NULL ||
	    (t2 = subst_key(t1, "auditor")) == NULL) {
		fprintf(stderr,
		    "privd-bench: the policy %s has no principals crm and "
		    "auditor with a key\n",
		    policy_path);
		goto fail;
	}
	acis = optional_key(h, &t2, "acis");
	adm = optional_key(h, &t2, "dpo");
	if (store_spec != NULL) {
		/* the spec may hold a password: never printed here */
		s->init_extra[0] = "--store";
		s->init_extra[1] = store_spec;
		s->init_extra[2] = NULL;
		h->init_extra = s->init_extra;
	}
	if (h_policy_write(h, t2) != 0 || h_init(h, NULL) != 0)
		goto fail;
	if (test_clock && h_clock_set(h, 0) != 0)
		goto fail;
	if (tcp) {
		if ((port = bench_free_tcp_port()) < 0)
			goto fail;
		snprintf(h->endpoint, sizeof(h->endpoint), "tcp://127.0.0.1:%d",
		    port);
	}
	if (h_start(h, serve_extra) != 0)
		goto fail;
	free(doc);
	free(t1);
	free(t2);
	snprintf(s->endpoint, sizeof(s->endpoint), "%s", h->endpoint);
	snprintf(s->server_key, sizeof(s->server_key), "%s", h->server_key);
	snprintf(s->pub, sizeof(s->pub), "%s", crm->pub);
	snprintf(s->sec, sizeof(s->sec), "%s", crm->sec);
	snprintf(s->aud_pub, sizeof(s->aud_pub), "%s", aud->pub);
	snprintf(s->aud_sec, sizeof(s->aud_sec), "%s", aud->sec);
	s->has_auditor = true;
	if (acis != NULL) {
		snprintf(s->acis_pub, sizeof(s->acis_pub), "%s", acis->pub);
		snprintf(s->acis_sec, sizeof(s->acis_sec), "%s", acis->sec);
		s->has_acis = true;
	}
	if (adm != NULL) {
		snprintf(s->adm_pub, sizeof(s->adm_pub), "%s", adm->pub);
		snprintf(s->adm_sec, sizeof(s->adm_sec), "%s", adm->sec);
		s->has_admin = true;
	}
	s->pid = h->pid;
	snprintf(s->data_dir, sizeof(s->data_dir), "%s", h->data_dir);
	return 0;
fail:
	free(doc);
	free(t1);
	free(t2);
	fprintf(stderr, "privd-bench: cannot start privd\n");
	server_stop(s);
	return -1;
}

int
server_clock_set(bench_server *s, int64_t offset_s)
{
	if (s->h == NULL || h_clock_set(s->h, offset_s) != 0)
		return -1;
	h_clock_wait();
	return 0;
}

/* A server key given as Z85 text or as a file holding it. */
static int
load_server_key(const char *arg, char *out)
{
	char *text;
	const char *p;
	size_t n = 0;

	if (strlen(arg) == BENCH_KEY_LEN - 1 && access(arg, F_OK) != 0) {
		memcpy(out, arg, BENCH_KEY_LEN);
		return 0;
	}
	if ((text = read_text(arg)) == NULL)
		return -1;
	p = ws(text);
	while (p[n] != '\0' && p[n] != '\n' && p[n] != ' ')
		n++;
	if (n != BENCH_KEY_LEN - 1) {
		free(text);
		return -1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	free(text);
	return 0;
}

int
server_external(bench_server *s, const char *endpoint, const char *server_key,
    const char *key_file, const char *auditor_file, pid_t pid,
    const char *data_dir)
{
	char why[160];

	memset(s, 0, sizeof(*s));
	snprintf(s->endpoint, sizeof(s->endpoint), "%s", endpoint);
	if (server_key == NULL || load_server_key(server_key, s->server_key)) {
		fprintf(stderr, "privd-bench: --endpoint needs --server-key "
		                "(privd's public key, or a file holding it)\n");
		return -1;
	}
	if (key_file == NULL || privd_keypair_load_err(key_file, s->pub, s->sec,
	                            why, sizeof(why))) {
		fprintf(stderr,
		    "privd-bench: --endpoint needs --key, the key pair "
		    "file of a principal that may read and write customers "
		    "for %s%s%s\n",
		    BENCH_PURPOSE, key_file ? ": " : "", key_file ? why : "");
		return -1;
	}
	if (auditor_file != NULL) {
		if (privd_keypair_load_err(auditor_file, s->aud_pub, s->aud_sec,
		        why, sizeof(why)) != 0) {
			fprintf(
			    stderr, "privd-bench: --auditor-key: %s\n", why);
			return -1;
		}
		s->has_auditor = true;
	}
	s->pid = pid;
	if (data_dir != NULL)
		snprintf(s->data_dir, sizeof(s->data_dir), "%s", data_dir);
	return 0;
}

void
server_stop(bench_server *s)
{
	harness *h = s->h;

	s->h = NULL;
	s->pid = 0;
	h_destroy(&h);
}

bool
server_alive(bench_server *s)
{
	if (s->h != NULL)
		return h_running(s->h);
	return s->pid <= 0 || kill(s->pid, 0) == 0 || errno == EPERM;
}

int
server_version(bench_server *s, char *out, size_t len)
{
	privd_client *c = NULL;
	privd_pong pong;
	int rc;

	if (privd_connect(&c, s->endpoint, s->server_key, s->pub, s->sec) !=
	    PRIVD_OK)
		return -1;
	privd_set_timeout(c, 30000);
	rc = privd_ping(c, &pong);
	privd_close(&c);
	if (rc != PRIVD_OK)
		return -1;
	snprintf(out, len, "%s", pong.server_version);
	return 0;
}

int
server_last_seq(bench_server *s, uint64_t *seq)
{
	privd_client *c = NULL;
	privd_audit_checkpoint *ck = NULL;
	size_t n = 0;
	int rc;

	if (!s->has_auditor || privd_connect(&c, s->endpoint, s->server_key,
	                           s->aud_pub, s->aud_sec) != PRIVD_OK)
		return -1;
	privd_set_timeout(c, 60000);
	/* from UINT64_MAX: no checkpoints, only the bounds of the log */
	rc = privd_audit_checkpoints(
	    c, UINT64_MAX, 0, &ck, &n, NULL, seq, NULL, NULL);
	privd_free(ck);
	if (rc != PRIVD_OK)
		fprintf(stderr, "privd-bench: AuditCheckpoints: %s: %s\n",
		    privd_strerror(rc), privd_errmsg(c));
	privd_close(&c);
	return rc == PRIVD_OK ? 0 : -1;
}

void
server_store_size(
    const bench_server *s, long long *file_bytes, long long *used_bytes)
{
	char path[BENCH_PATH_MAX + 16];
	MDB_env *env = NULL;
	MDB_envinfo info;
	MDB_stat st;
	struct stat sb;

	*file_bytes = *used_bytes = -1;
	if (s->data_dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/data.mdb", s->data_dir);
	if (stat(path, &sb) != 0)
		return; /* not an LMDB store */
	*file_bytes = (long long)sb.st_size;
	if (mdb_env_create(&env) != 0)
		return;
	if (mdb_env_open(env, s->data_dir, MDB_RDONLY, 0600) == 0 &&
	    mdb_env_info(env, &info) == 0 && mdb_env_stat(env, &st) == 0)
		*used_bytes = (long long)(info.me_last_pgno + 1) * st.ms_psize;
	mdb_env_close(env);
}

void
server_dump_log(const bench_server *s)
{
	if (s->h != NULL)
		h_dump_log(s->h, 30);
}
