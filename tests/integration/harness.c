/*
 * harness.c - run a real privd for integration tests (see harness.h): the
 * temporary directory, its keys and policy, the test clock, privd init,
 * serve, stop and kill, and the cmocka set-ups. How children are started and
 * waited for is run.c; the raw DEALER is dealer.c; files and privd's log
 * are files.c.
 *
 * DESIGN: everything here runs on the test's main thread.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "run.h"

const char h_policy_default[] = H_POL_CONTROLLER
    " \"registers\": {\"customers\": {\n"
    "   \"transfer\": {\"allowed_regions\": [\"EEA\"]},\n"
    "   \"purposes\": {\"invoicing\": {\"legal_basis\": \"contract\"},\n"
    "                \"marketing\": {\"legal_basis\": "
    "\"legitimate_interest\", \"objectable\": true}},\n"
    "   \"fields\": {\n"
    "     \"name\": {\"category\": \"identity\", \"type\": \"string\", "
    "\"identifying\": true},\n"
    "     \"email\": {\"category\": \"contact\", \"type\": \"email\", "
    "\"identifying\": true, \"lookup\": true},\n"
    "     \"notes\": {\"category\": \"feedback\", \"type\": \"text\"},\n"
    "     \"blob\": {\"category\": \"other\", \"type\": "
    "\"bytes\"}}}},\n" H_POL_PRINCIPALS H_POL_SVC_RWD H_POL_END;

/* Harnesses not yet destroyed, for the atexit hook. */
#define H_MAX_LIVE 16
static harness *live[H_MAX_LIVE];
static bool atexit_set;

static void
h_cleanup_at_exit(void)
{
	for (size_t i = 0; i < H_MAX_LIVE; i++) {
		if (live[i] != NULL) {
			harness *h = live[i];
			h_destroy(&h);
		}
	}
}

static void
live_add(harness *h)
{
	if (!atexit_set) {
		atexit(h_cleanup_at_exit);
		atexit_set = true;
	}
	for (size_t i = 0; i < H_MAX_LIVE; i++) {
		if (live[i] == NULL) {
			live[i] = h;
			return;
		}
	}
}

static void
live_remove(harness *h)
{
	for (size_t i = 0; i < H_MAX_LIVE; i++) {
		if (live[i] == h)
			live[i] = NULL;
	}
}

static int
path_join(char *dst, const char *a, const char *b)
{
	int n = snprintf(dst, H_PATH_MAX, "%s/%s", a, b);

	if (n < 0 || n >= H_PATH_MAX) {
		fprintf(stderr, "harness: path too long: %s/%s\n", a, b);
		return -1;
	}
	return 0;
}

harness *
h_new(void)
{
	const char *bin = getenv("PRIVD_BIN");
	const char *tmp = getenv("TMPDIR");
	harness *h;

	if (bin == NULL || *bin == '\0') {
		fprintf(stderr, "harness: PRIVD_BIN is not set (run the tests "
		                "with meson test)\n");
		return NULL;
	}
	h_store_check(); /* exits 77: not a test of this store */
	/* The ipc socket lives in the temporary directory and ipc paths are
	 * limited to about 107 bytes: use /tmp if $TMPDIR is too deep. */
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 64)
		tmp = "/tmp";

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->pid = -1;
	h->bg_pid = -1;
	h->privd_bin = bin;
	h->privctl_bin = getenv("PRIVCTL_BIN");
	snprintf(h->root, sizeof(h->root), "%s/privd-it-XXXXXX", tmp);
	if (mkdtemp(h->root) == NULL) {
		fprintf(stderr, "harness: mkdtemp %s: %s\n", h->root,
		    strerror(errno));
		free(h);
		return NULL;
	}
	live_add(h);
	if (path_join(h->data_dir, h->root, "data") != 0 ||
	    path_join(h->policy, h->root, "policy.json") != 0 ||
	    path_join(h->log, h->root, "privd.log") != 0 ||
	    path_join(h->sock, h->root, "s") != 0) {
		h_destroy(&h);
		return NULL;
	}
	if (snprintf(h->endpoint, sizeof(h->endpoint), "ipc://%s", h->sock) >=
	    (int)sizeof(h->endpoint)) {
		h_destroy(&h);
		return NULL;
	}
	return h;
}

static int
rm_prepare(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	/* Tests may leave directories without permissions; make them
	 * traversable so the depth-first pass can empty them. */
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, 0700);
	return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (remove(path) != 0 && errno != ENOENT)
		fprintf(
		    stderr, "harness: remove %s: %s\n", path, strerror(errno));
	return 0;
}

void
h_destroy(harness **hp)
{
	harness *h;

	if (hp == NULL || *hp == NULL)
		return;
	h = *hp;
	*hp = NULL;
	live_remove(h);
	if (h->bg_pid > 0)
		run_kill(h->bg_pid, NULL);
	if (h->pid > 0)
		h_stop(h, H_STOP_TIMEOUT_MS, NULL);
	if (h->root[0] != '\0') {
		nftw(h->root, rm_prepare, 16, FTW_PHYS);
		nftw(h->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	}
	free(h);
}

const h_key *
h_key_new(harness *h, const char *name)
{
	h_key *k;

	if (h->nkeys >= H_MAX_KEYS || strlen(name) >= H_NAME_MAX ||
	    h_key_get(h, name) != NULL) {
		fprintf(stderr, "harness: cannot add key %s\n", name);
		return NULL;
	}
	k = &h->keys[h->nkeys];
	if (zmq_curve_keypair(k->pub, k->sec) != 0) {
		fprintf(stderr, "harness: zmq_curve_keypair: %s\n",
		    zmq_strerror(zmq_errno()));
		return NULL;
	}
	snprintf(k->name, sizeof(k->name), "%s", name);
	h->nkeys++;
	return k;
}

const h_key *
h_key_get(const harness *h, const char *name)
{
	for (size_t i = 0; i < h->nkeys; i++) {
		if (strcmp(h->keys[i].name, name) == 0)
			return &h->keys[i];
	}
	return NULL;
}

int
h_policy_write(harness *h, const char *tmpl)
{
	static const char mark[] = "@KEY:";
	size_t cap = strlen(tmpl) + H_MAX_KEYS * 64 + 1, n = 0;
	char *out = malloc(cap);
	const char *p = tmpl;
	int rc;

	if (out == NULL)
		return -1;
	while (*p != '\0') {
		const char *m = strstr(p, mark);
		size_t lit = m != NULL ? (size_t)(m - p) : strlen(p);
		const char *end;
		char name[H_NAME_MAX];
		const h_key *k;

		if (n + lit + PRIVD_KEY_Z85_LEN >= cap) {
			cap = (n + lit + PRIVD_KEY_Z85_LEN) * 2;
			char *no = realloc(out, cap);
			if (no == NULL) {
				free(out);
				return -1;
			}
			out = no;
		}
		memcpy(out + n, p, lit);
		n += lit;
		if (m == NULL)
			break;
		m += sizeof(mark) - 1;
		end = strchr(m, '@');
		if (end == NULL || (size_t)(end - m) >= sizeof(name)) {
			fprintf(stderr, "harness: bad @KEY:name@ in policy\n");
			free(out);
			return -1;
		}
		memcpy(name, m, (size_t)(end - m));
		name[end - m] = '\0';
		k = h_key_get(h, name);
		if (k == NULL) {
			fprintf(stderr,
			    "harness: policy names unknown key %s\n", name);
			free(out);
			return -1;
		}
		memcpy(out + n, k->pub, strlen(k->pub));
		n += strlen(k->pub);
		p = end + 1;
	}
	rc = h_write_file(h->policy, out, n, 0600);
	free(out);
	return rc;
}

int
h_clock_set(harness *h, int64_t offset_s)
{
	char tmp[H_PATH_MAX + 8], text[32];
	int n;

	if (snprintf(h->clock_file, sizeof(h->clock_file), "%s/clock",
	        h->root) >= (int)sizeof(h->clock_file) ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", h->clock_file) >=
	        (int)sizeof(tmp))
		return -1;
	n = snprintf(text, sizeof(text), "%lld\n", (long long)offset_s);
	/* written aside and renamed: privd never reads half a number */
	if (h_write_file(tmp, text, (size_t)n, 0600) != 0 ||
	    rename(tmp, h->clock_file) != 0)
		return -1;
	h->clock_on = true;
	h->clock_offset_s = offset_s;
	return 0;
}

void
h_clock_wait(void)
{
	h_sleep_ms(50); /* privd looks at the file every 10 ms */
}

uint64_t
h_clock_us(const harness *h)
{
	struct timespec ts;
	int64_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 +
	    (h->clock_on ? h->clock_offset_s * 1000000 : 0);
	return t > 0 ? (uint64_t)t : 0;
}

int
h_init(harness *h, h_result *res)
{
	const char *args[16] = {
	    "init", "--data-dir", h->data_dir, "--policy", h->policy, NULL};
	h_result local;
	size_t len, n = 5;

	for (size_t i = 0; h->init_extra != NULL && h->init_extra[i] != NULL;
	     i++) {
		if (n >= sizeof(args) / sizeof(args[0]) - 1)
			return -1;
		args[n++] = h->init_extra[i];
	}
	if (h_store_pg()) {
		if (n + 2 >= sizeof(args) / sizeof(args[0]) ||
		    h_store_new(h->store_spec, sizeof(h->store_spec),
		        h->pg_log_all) != 0)
			return -1;
		args[n++] = "--store";
		args[n++] = h->store_spec;
	}
	args[n] = NULL;
	if (res == NULL)
		res = &local;
	if (h_run_privd(h, args, H_RUN_TIMEOUT_MS, res) != 0)
		return -1;
	if (res->timed_out || !WIFEXITED(res->wstatus) ||
	    WEXITSTATUS(res->wstatus) != 0) {
		fprintf(stderr, "harness: privd init failed (%s %d): %s\n",
		    res->timed_out ? "timed out" : "wait status", res->wstatus,
		    res->err);
		return -1;
	}
	len = strcspn(res->out, "\r\n");
	if (len != PRIVD_KEY_Z85_LEN - 1) {
		fprintf(stderr,
		    "harness: privd init printed no Z85 key: "
		    "\"%s\"\n",
		    res->out);
		return -1;
	}
	memcpy(h->server_key, res->out, len);
	h->server_key[len] = '\0';
	return 0;
}

bool
h_running(harness *h)
{
	int st;
	pid_t r;

	if (h->pid <= 0)
		return false;
	r = waitpid(h->pid, &st, WNOHANG);
	if (r == h->pid) {
		h->last_wstatus = st;
		h->pid = -1;
		return false;
	}
	return true;
}

int
h_node_copy(harness *a, harness *b)
{
	const char *cp[] = {"/bin/cp", "-a", a->data_dir, b->data_dir, NULL};
	h_result r;

	if (h_run(a, cp, H_RUN_TIMEOUT_MS, &r) != 0 || r.timed_out ||
	    !WIFEXITED(r.wstatus) || WEXITSTATUS(r.wstatus) != 0) {
		fprintf(stderr, "cannot copy the data directory: %s\n", r.err);
		return -1;
	}
	memcpy(b->keys, a->keys, sizeof(a->keys));
	b->nkeys = a->nkeys;
	memcpy(b->server_key, a->server_key, sizeof(a->server_key));
	return 0;
}

int
h_start(harness *h, const char *const *extra)
{
	const char *argv[40];
	size_t n = 0;
	int log_fd;

	if (h->pid > 0 && h_running(h)) {
		fprintf(stderr, "harness: privd already running\n");
		return -1;
	}
	argv[n++] = h->privd_bin;
	argv[n++] = "serve";
	argv[n++] = "--data-dir";
	argv[n++] = h->data_dir;
	argv[n++] = "--listen";
	argv[n++] = h->endpoint;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		if (n >= sizeof(argv) / sizeof(argv[0]) - 1)
			return -1;
		argv[n++] = extra[i];
	}
	argv[n] = NULL;

	run_log_banner(h, argv);
	log_fd = run_log_open(h);
	if (log_fd < 0)
		return -1;
	h->pid = run_spawn(h, argv, log_fd, log_fd);
	close(log_fd);
	if (h->pid < 0)
		return -1;
	if (h_wait_ready(h, H_READY_TIMEOUT_MS) != 0) {
		if (h->pid > 0) {
			run_kill(h->pid, &h->last_wstatus);
			h->pid = -1;
		}
		h_dump_log(h, 40);
		return -1;
	}
	return 0;
}

int
h_wait_ready(harness *h, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	int rc = -1;

	if (h->nkeys == 0 || h->server_key[0] == '\0') {
		fprintf(stderr, "harness: no client key or server key\n");
		return -1;
	}
	while (h_now_ms() < deadline) {
		privd_client *c = NULL;
		int64_t t0 = h_now_ms();

		if (!h_running(h)) {
			fprintf(stderr,
			    "harness: privd exited before it "
			    "was ready (wait status %d)\n",
			    h->last_wstatus);
			return -1;
		}
		/* A fresh handle per attempt: readiness must not depend on
		 * the client's reconnection logic, which has its own test. */
		rc = h_connect(h, h->keys[0].name, &c);
		if (rc == PRIVD_OK) {
			privd_set_timeout(c, 250);
			rc = privd_ping(c, NULL);
			privd_close(&c);
		}
		if (rc == PRIVD_OK)
			return 0;
		/* Back off a little when the attempt failed fast. */
		if (h_now_ms() - t0 < 20)
			h_sleep_ms(20);
	}
	fprintf(stderr, "harness: privd not ready after %d ms (last: %s)\n",
	    timeout_ms, privd_strerror(rc));
	return -1;
}

int
h_stop(harness *h, int timeout_ms, int *wstatus)
{
	int st = 0;
	int rc = 0;

	if (h->pid <= 0 || !h_running(h)) {
		if (wstatus != NULL)
			*wstatus = h->last_wstatus;
		return -1;
	}
	kill(h->pid, SIGTERM);
	if (run_wait(h->pid, timeout_ms, &st) != 0) {
		fprintf(stderr,
		    "harness: privd ignored SIGTERM for %d ms; "
		    "killing it\n",
		    timeout_ms);
		run_kill(h->pid, &st);
		rc = -1;
	}
	h->pid = -1;
	h->last_wstatus = st;
	if (wstatus != NULL)
		*wstatus = st;
	return rc;
}

int
h_kill(harness *h)
{
	int st = 0;

	if (h->pid <= 0) {
		fprintf(stderr, "harness: h_kill: privd is not running\n");
		return -1;
	}
	if (kill(h->pid, SIGKILL) != 0) {
		fprintf(stderr, "harness: h_kill: kill: %s\n", strerror(errno));
		return -1;
	}
	if (run_wait(h->pid, H_STOP_TIMEOUT_MS, &st) != 0) {
		fprintf(stderr,
		    "harness: h_kill: privd not reaped %d ms after "
		    "SIGKILL\n",
		    H_STOP_TIMEOUT_MS);
		return -1;
	}
	h->pid = -1;
	h->last_wstatus = st;
	/* A privd that had already exited (a crash, say) is reaped here too;
	 * the caller meant to kill a running one, so that is a failure. */
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL) {
		fprintf(stderr,
		    "harness: h_kill: privd had ended by itself (wait "
		    "status %d)\n",
		    st);
		return -1;
	}
	return 0;
}

int
h_restart(harness *h)
{
	int st;

	if (h_stop(h, H_STOP_TIMEOUT_MS, &st) != 0 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0) {
		fprintf(stderr,
		    "harness: privd did not stop cleanly "
		    "(wait status %d)\n",
		    st);
		return -1;
	}
	return h_start(h, NULL);
}

int
h_connect(harness *h, const char *keyname, privd_client **out)
{
	const h_key *k = h_key_get(h, keyname);

	*out = NULL;
	if (k == NULL)
		return PRIVD_EINVAL;
	return privd_connect(out, h->endpoint, h->server_key, k->pub, k->sec);
}

int
h_setup(void **state, const char *const *keys, size_t nkeys, const char *policy,
    const char *const *serve_args)
{
	return h_setup_opt(state, keys, nkeys, policy, serve_args, NULL);
}

int
h_setup_opt(void **state, const char *const *keys, size_t nkeys,
    const char *policy, const char *const *serve_args, const h_opts *o)
{
	harness *h = h_new();
	size_t i;

	if (h == NULL)
		return -1;
	if (o != NULL) {
		h->init_extra = o->init_args;
		h->fsize_limit = o->fsize_limit;
		if (o->test_clock && h_clock_set(h, 0) != 0)
			goto bad;
	}
	for (i = 0; i < nkeys; i++)
		if (h_key_new(h, keys[i]) == NULL)
			goto bad;
	if (h_policy_write(h, policy) != 0 || h_init(h, NULL) != 0 ||
	    h_start(h, serve_args) != 0)
		goto bad;
	*state = h;
	return 0;
bad:
	h_dump_log(h, 40);
	h_destroy(&h);
	return -1;
}

int
h_setup_default(void **state)
{
	static const char *const keys[] = {"svc"};

	return h_setup(state, keys, 1, h_policy_default, NULL);
}

int
h_teardown(void **state)
{
	harness *h = *state;
	int st;

	if (h != NULL) {
		/* Stop first, so the log also shows how privd shut down. */
		if (h->pid > 0 && h_stop(h, H_STOP_TIMEOUT_MS, &st) == 0 &&
		    !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
			fprintf(stderr,
			    "harness: privd ended with wait status "
			    "%d at teardown\n",
			    st);
		h_dump_log(h, 20);
		h_destroy(&h);
	}
	*state = NULL;
	return 0;
}
