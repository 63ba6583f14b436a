/*
 * harness.c - run a real privd for integration tests (see harness.h).
 *
 * DESIGN: everything here runs on the test's main thread. Children are
 * started with fork+exec; between the two the child only makes
 * async-signal-safe calls, because the test process may already have other
 * threads (ZeroMQ I/O threads of open clients). Waiting for a child uses a
 * pidfd where the kernel has one, so no wait is a fixed sleep.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

const char h_policy_default[] =
    "{\"controller\": {\"name\": \"Test Oy\", \"business_id\": "
    "\"1234567-8\"},\n"
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
    "     \"blob\": {\"category\": \"other\", \"type\": \"bytes\"}}}},\n"
    " \"principals\": {\"svc\": {\"key\": \"@KEY:svc@\", \"region\": \"FI\",\n"
    "   \"grants\": [{\"register\": \"customers\", \"purposes\": "
    "[\"invoicing\"], \"fields\": [\"*\"], \"ops\": [\"read\", \"write\", "
    "\"delete\"]}]}}}\n";

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

int64_t
h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
h_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Wait for child pid to end, at most timeout_ms. Returns 0 and fills
 * *wstatus once it is reaped, -1 on timeout (the child is left alone).
 */
static int
wait_pid(pid_t pid, int timeout_ms, int *wstatus)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	int pfd = pidfd_open(pid, 0);
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid) {
			if (pfd >= 0)
				close(pfd);
			if (wstatus != NULL)
				*wstatus = st;
			return 0;
		}
		if (r == -1 && errno != EINTR) {
			fprintf(stderr, "harness: waitpid(%d): %s\n", (int)pid,
			    strerror(errno));
			if (pfd >= 0)
				close(pfd);
			return -1;
		}
		int64_t left = deadline - h_now_ms();
		if (left <= 0)
			break;
		if (pfd >= 0) {
			struct pollfd p = {.fd = pfd, .events = POLLIN};
			poll(&p, 1, (int)left);
		} else {
			/* No pidfd on this kernel: poll waitpid. */
			h_sleep_ms(left < 5 ? (int)left : 5);
		}
	}
	if (pfd >= 0)
		close(pfd);
	return -1;
}

static void
kill_and_reap(pid_t pid, int *wstatus)
{
	kill(pid, SIGKILL);
	if (wait_pid(pid, 5000, wstatus) != 0)
		fprintf(stderr, "harness: pid %d survived SIGKILL\n", (int)pid);
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
	/* The ipc socket lives in the temporary directory and ipc paths are
	 * limited to about 107 bytes: use /tmp if $TMPDIR is too deep. */
	if (tmp == NULL || *tmp == '\0' || strlen(tmp) > 64)
		tmp = "/tmp";

	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->pid = -1;
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
h_write_file(const char *path, const void *buf, size_t len, int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	const uint8_t *p = buf;

	if (fd < 0) {
		fprintf(
		    stderr, "harness: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fprintf(stderr, "harness: write %s: %s\n", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0)
		return -1;
	return 0;
}

int
h_read_file(const char *path, uint8_t **buf, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, n = 0;
	uint8_t *b;

	*buf = NULL;
	*len = 0;
	if (fd < 0)
		return -1;
	b = malloc(cap + 1);
	if (b == NULL) {
		close(fd);
		return -1;
	}
	for (;;) {
		if (n == cap) {
			uint8_t *nb = realloc(b, cap * 2 + 1);
			if (nb == NULL) {
				free(b);
				close(fd);
				return -1;
			}
			b = nb;
			cap *= 2;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(b);
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
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

static int
log_open(const harness *h)
{
	int fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);

	if (fd < 0)
		fprintf(
		    stderr, "harness: open %s: %s\n", h->log, strerror(errno));
	return fd;
}

/* Append one line naming the command, so the log shows which run said
 * what. */
static void
log_banner(const harness *h, const char *const *argv)
{
	int fd = log_open(h);
	char line[1024];
	size_t n = 0;

	if (fd < 0)
		return;
	n += (size_t)snprintf(line, sizeof(line), "=== harness:");
	for (size_t i = 0; argv[i] != NULL && n < sizeof(line) - 2; i++)
		n += (size_t)snprintf(
		    line + n, sizeof(line) - n, " %s", argv[i]);
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (write(fd, line, n) < 0) {
		/* the banner is only a diagnostic */
	}
	close(fd);
}

/*
 * fork+exec argv with the given stdout and stderr (stdin from /dev/null),
 * with the test clock and file size limit of h (may be NULL). Returns the
 * child's pid or -1.
 */
static pid_t
spawn_env(const harness *h, const char *const *argv, int out_fd, int err_fd)
{
	extern char **environ;
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t parent = getpid();
	pid_t pid;
	char clockvar[H_PATH_MAX + 32];
	char **envp = environ, **own = NULL;
	size_t n = 0;
	struct rlimit fsize;

	/* the environment is built before fork: the child only execs */
	if (h != NULL && h->clock_on) {
		while (environ[n] != NULL)
			n++;
		if ((own = calloc(n + 2, sizeof(*own))) == NULL) {
			if (null_fd >= 0)
				close(null_fd);
			return -1;
		}
		memcpy(own, environ, n * sizeof(*own));
		snprintf(clockvar, sizeof(clockvar), "PRIVD_TEST_CLOCK_FILE=%s",
		    h->clock_file);
		own[n] = clockvar;
		envp = own;
	}

	if (null_fd < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "harness: fork: %s\n", strerror(errno));
		close(null_fd);
		free(own);
		return -1;
	}
	if (pid == 0) {
		struct sigaction sa;
		sigset_t none;

		/* Die with the test, so nothing outlives a crashed test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGPIPE, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 ||
		    dup2(err_fd, 2) < 0)
			_exit(127);
		close_range(3, ~0U, 0);
		if (h != NULL && h->fsize_limit != 0) {
			fsize.rlim_cur = fsize.rlim_max = h->fsize_limit;
			if (setrlimit(RLIMIT_FSIZE, &fsize) != 0)
				_exit(127);
		}
		execve(argv[0], (char *const *)argv, envp);
		_exit(127);
	}
	close(null_fd);
	free(own);
	return pid;
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
h_run(harness *h, const char *const *argv, int timeout_ms, h_result *res)
{
	int out_p[2], err_p[2];
	size_t out_n = 0, err_n = 0;
	int64_t deadline = h_now_ms() + timeout_ms;
	int log_fd;
	pid_t pid;
	bool out_open = true, err_open = true;

	memset(res, 0, sizeof(*res));
	if (pipe2(out_p, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(err_p, O_CLOEXEC) != 0) {
		close(out_p[0]);
		close(out_p[1]);
		return -1;
	}
	log_banner(h, argv);
	pid = spawn_env(h, argv, out_p[1], err_p[1]);
	close(out_p[1]);
	close(err_p[1]);
	if (pid < 0) {
		close(out_p[0]);
		close(err_p[0]);
		return -1;
	}
	log_fd = log_open(h);
	while (out_open || err_open) {
		struct pollfd p[2] = {
		    {.fd = out_open ? out_p[0] : -1, .events = POLLIN},
		    {.fd = err_open ? err_p[0] : -1, .events = POLLIN}};
		int64_t left = deadline - h_now_ms();
		char tmp[4096];

		if (left <= 0)
			break;
		if (poll(p, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || p[i].revents == 0)
				continue;
			ssize_t r = read(p[i].fd, tmp, sizeof(tmp));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (i == 0)
					out_open = false;
				else
					err_open = false;
				continue;
			}
			char *dst = i == 0 ? res->out : res->err;
			size_t *dn = i == 0 ? &out_n : &err_n;
			size_t cap = sizeof(res->out) - 1;
			size_t take = (size_t)r;
			if (take > cap - *dn)
				take = cap - *dn;
			memcpy(dst + *dn, tmp, take);
			*dn += take;
			dst[*dn] = '\0';
			if (i == 1 && log_fd >= 0 &&
			    write(log_fd, tmp, (size_t)r) < 0) {
				/* the log is only a diagnostic */
			}
		}
	}
	close(out_p[0]);
	close(err_p[0]);
	if (log_fd >= 0)
		close(log_fd);
	int64_t left = deadline - h_now_ms();
	if (wait_pid(pid, left > 0 ? (int)left : 0, &res->wstatus) != 0) {
		res->timed_out = true;
		kill_and_reap(pid, &res->wstatus);
	}
	return 0;
}

int
h_run_privd(harness *h, const char *const *args, int timeout_ms, h_result *res)
{
	const char *argv[32];
	size_t n = 0;

	argv[n++] = h->privd_bin;
	for (size_t i = 0; args[i] != NULL; i++) {
		if (n >= sizeof(argv) / sizeof(argv[0]) - 1)
			return -1;
		argv[n++] = args[i];
	}
	argv[n] = NULL;
	return h_run(h, argv, timeout_ms, res);
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

	log_banner(h, argv);
	log_fd = log_open(h);
	if (log_fd < 0)
		return -1;
	h->pid = spawn_env(h, argv, log_fd, log_fd);
	close(log_fd);
	if (h->pid < 0)
		return -1;
	if (h_wait_ready(h, H_READY_TIMEOUT_MS) != 0) {
		if (h->pid > 0) {
			kill_and_reap(h->pid, &h->last_wstatus);
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
	if (wait_pid(h->pid, timeout_ms, &st) != 0) {
		fprintf(stderr,
		    "harness: privd ignored SIGTERM for %d ms; "
		    "killing it\n",
		    timeout_ms);
		kill_and_reap(h->pid, &st);
		rc = -1;
	}
	h->pid = -1;
	h->last_wstatus = st;
	if (wstatus != NULL)
		*wstatus = st;
	return rc;
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

void
h_dump_log(const harness *h, int max_lines)
{
	uint8_t *buf;
	size_t len;
	size_t start;
	int lines = 0;

	if (h_read_file(h->log, &buf, &len) != 0) {
		fprintf(stderr, "privd-log| (no log)\n");
		return;
	}
	start = len;
	while (start > 0) {
		if (buf[start - 1] == '\n' && start != len &&
		    ++lines >= max_lines)
			break;
		start--;
	}
	fprintf(stderr, "privd-log| --- last %d lines of %s ---\n", max_lines,
	    h->log);
	for (char *line = (char *)buf + start; *line != '\0';) {
		char *nl = strchr(line, '\n');
		int n = nl != NULL ? (int)(nl - line) : (int)strlen(line);
		fprintf(stderr, "privd-log| %.*s\n", n, line);
		line += n + (nl != NULL ? 1 : 0);
	}
	free(buf);
}

int
h_scan_file(const char *path, const h_needle *needles, size_t n)
{
	enum { CHUNK = 1 << 20 };
	size_t maxlen = 0, keep = 0;
	uint8_t *buf;
	bool *hit;
	int fd, hits = 0;

	for (size_t i = 0; i < n; i++) {
		if (needles[i].len > maxlen)
			maxlen = needles[i].len;
	}
	if (maxlen == 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(
		    stderr, "harness: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(CHUNK + maxlen);
	hit = calloc(n, sizeof(*hit));
	if (buf == NULL || hit == NULL) {
		free(buf);
		free(hit);
		close(fd);
		return -1;
	}
	/* Read in chunks (LMDB files may be large and sparse), carrying the
	 * last maxlen-1 bytes over so a needle across a boundary is found. */
	for (;;) {
		ssize_t r = read(fd, buf + keep, CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fprintf(stderr, "harness: read %s: %s\n", path,
			    strerror(errno));
			hits = -1;
			break;
		}
		if (r == 0)
			break;
		size_t have = keep + (size_t)r;
		for (size_t i = 0; i < n; i++) {
			if (!hit[i] && needles[i].len > 0 &&
			    memmem(buf, have, needles[i].data,
			        needles[i].len) != NULL) {
				hit[i] = true;
				hits++;
				fprintf(stderr, "harness: %s found in %s\n",
				    needles[i].label, path);
			}
		}
		keep = have < maxlen - 1 ? have : maxlen - 1;
		memmove(buf, buf + have - keep, keep);
	}
	close(fd);
	free(buf);
	free(hit);
	return hits;
}

/* nftw has no user pointer: the scan's arguments live here. */
static const h_needle *scan_needles;
static size_t scan_n;
static int scan_hits;
static int scan_files;

static int
scan_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	int r;

	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	scan_files++;
	r = h_scan_file(path, scan_needles, scan_n);
	if (r < 0)
		return -1;
	scan_hits += r;
	return 0;
}

int
h_scan_dir(const char *dir, const h_needle *needles, size_t n)
{
	scan_needles = needles;
	scan_n = n;
	scan_hits = 0;
	scan_files = 0;
	if (nftw(dir, scan_entry, 16, FTW_PHYS) != 0)
		return -1;
	if (scan_files == 0) {
		fprintf(stderr, "harness: no files under %s\n", dir);
		return -1;
	}
	return scan_hits;
}

int
h_dealer_open(harness *h, const char *keyname, const char *server_key,
    bool monitor, h_dealer *d)
{
	const h_key *k = h_key_get(h, keyname);
	int zero = 0, sndtimeo = 5000;
	static unsigned mon_seq;

	memset(d, 0, sizeof(*d));
	if (k == NULL)
		return -1;
	if (server_key == NULL)
		server_key = h->server_key;
	d->ctx = zmq_ctx_new();
	if (d->ctx == NULL)
		return -1;
	d->sock = zmq_socket(d->ctx, ZMQ_DEALER);
	if (d->sock == NULL)
		goto fail;
	if (zmq_setsockopt(d->sock, ZMQ_LINGER, &zero, sizeof(zero)) != 0 ||
	    zmq_setsockopt(
	        d->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof(sndtimeo)) != 0 ||
	    zmq_setsockopt(d->sock, ZMQ_CURVE_SERVERKEY, server_key,
	        strlen(server_key) + 1) != 0 ||
	    zmq_setsockopt(d->sock, ZMQ_CURVE_PUBLICKEY, k->pub,
	        strlen(k->pub) + 1) != 0 ||
	    zmq_setsockopt(
	        d->sock, ZMQ_CURVE_SECRETKEY, k->sec, strlen(k->sec) + 1) != 0)
		goto fail;
	if (monitor) {
		char addr[64];
		snprintf(addr, sizeof(addr), "inproc://h-mon-%u", mon_seq++);
		if (zmq_socket_monitor(d->sock, addr, ZMQ_EVENT_ALL) != 0)
			goto fail;
		d->mon = zmq_socket(d->ctx, ZMQ_PAIR);
		if (d->mon == NULL ||
		    zmq_setsockopt(d->mon, ZMQ_LINGER, &zero, sizeof(zero)) !=
		        0 ||
		    zmq_connect(d->mon, addr) != 0)
			goto fail;
	}
	if (zmq_connect(d->sock, h->endpoint) != 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "harness: dealer: %s\n", zmq_strerror(zmq_errno()));
	h_dealer_close(d);
	return -1;
}

void
h_dealer_close(h_dealer *d)
{
	if (d->sock != NULL && d->mon != NULL)
		zmq_socket_monitor(d->sock, NULL, 0);
	if (d->mon != NULL)
		zmq_close(d->mon);
	if (d->sock != NULL)
		zmq_close(d->sock);
	if (d->ctx != NULL)
		zmq_ctx_term(d->ctx);
	memset(d, 0, sizeof(*d));
}

int
h_dealer_send(
    h_dealer *d, const void *const *parts, const size_t *lens, size_t nparts)
{
	for (size_t i = 0; i < nparts; i++) {
		int flags = i + 1 < nparts ? ZMQ_SNDMORE : 0;
		if (zmq_send(d->sock, parts[i], lens[i], flags) < 0) {
			fprintf(stderr, "harness: zmq_send: %s\n",
			    zmq_strerror(zmq_errno()));
			return -1;
		}
	}
	return 0;
}

int
h_dealer_recv(
    h_dealer *d, int timeout_ms, uint8_t **buf, size_t *len, size_t *nframes)
{
	zmq_pollitem_t it = {.socket = d->sock, .events = ZMQ_POLLIN};
	int64_t deadline = h_now_ms() + timeout_ms;
	zmq_msg_t msg;
	size_t frames = 0;
	int more;
	size_t more_len = sizeof(more);

	*buf = NULL;
	*len = 0;
	*nframes = 0;
	for (;;) {
		int64_t left = deadline - h_now_ms();
		if (left < 0)
			left = 0;
		int r = zmq_poll(&it, 1, (long)left);
		if (r < 0 && zmq_errno() == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r > 0)
			break;
		if (left == 0)
			return -1;
	}
	do {
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, d->sock, 0) < 0) {
			zmq_msg_close(&msg);
			free(*buf);
			*buf = NULL;
			return -1;
		}
		if (frames == 0) {
			*len = zmq_msg_size(&msg);
			*buf = malloc(*len + 1);
			if (*buf == NULL) {
				zmq_msg_close(&msg);
				return -1;
			}
			memcpy(*buf, zmq_msg_data(&msg), *len);
		}
		frames++;
		zmq_msg_close(&msg);
		zmq_getsockopt(d->sock, ZMQ_RCVMORE, &more, &more_len);
	} while (more);
	*nframes = frames;
	return 0;
}

int
h_dealer_wait_event(h_dealer *d, int mask, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;

	if (d->mon == NULL)
		return -1;
	for (;;) {
		zmq_pollitem_t it = {.socket = d->mon, .events = ZMQ_POLLIN};
		int64_t left = deadline - h_now_ms();
		zmq_msg_t msg;
		uint16_t ev = 0;
		int more;
		size_t more_len = sizeof(more);

		if (left <= 0)
			return -1;
		if (zmq_poll(&it, 1, (long)left) <= 0)
			continue;
		/* Frame 1: 16-bit event, 32-bit value; frame 2: endpoint. */
		zmq_msg_init(&msg);
		if (zmq_msg_recv(&msg, d->mon, 0) < 0) {
			zmq_msg_close(&msg);
			return -1;
		}
		if (zmq_msg_size(&msg) >= 2)
			memcpy(&ev, zmq_msg_data(&msg), sizeof(ev));
		zmq_msg_close(&msg);
		zmq_getsockopt(d->mon, ZMQ_RCVMORE, &more, &more_len);
		while (more) {
			zmq_msg_init(&msg);
			zmq_msg_recv(&msg, d->mon, 0);
			zmq_msg_close(&msg);
			zmq_getsockopt(d->mon, ZMQ_RCVMORE, &more, &more_len);
		}
		if ((ev & mask) != 0)
			return ev;
	}
}

Privd__V1__Response *
h_dealer_call(h_dealer *d, const Privd__V1__Request *req, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	size_t len = privd__v1__request__get_packed_size(req), n, frames;
	uint8_t *buf = malloc(len > 0 ? len : 1), *reply;
	const void *parts[1];
	Privd__V1__Response *resp;

	if (buf == NULL)
		return NULL;
	privd__v1__request__pack(req, buf);
	parts[0] = buf;
	if (h_dealer_send(d, parts, &len, 1) != 0) {
		free(buf);
		return NULL;
	}
	free(buf);
	for (;;) {
		int64_t left = deadline - h_now_ms();

		if (h_dealer_recv(d, left > 0 ? (int)left : 0, &reply, &n,
		        &frames) != 0) {
			fprintf(stderr,
			    "harness: no reply to request %llu within "
			    "%d ms\n",
			    (unsigned long long)req->request_id, timeout_ms);
			return NULL;
		}
		resp = privd__v1__response__unpack(NULL, n, reply);
		free(reply);
		if (resp == NULL) {
			fprintf(stderr, "harness: a reply is not a Response\n");
			return NULL;
		}
		if (resp->request_id == req->request_id)
			return resp;
		privd__v1__response__free_unpacked(resp, NULL);
	}
}

size_t
h_log_size(const harness *h)
{
	struct stat st;

	return stat(h->log, &st) == 0 ? (size_t)st.st_size : 0;
}

int
h_log_count(const harness *h, size_t from, const char *needle)
{
	uint8_t *buf;
	size_t len;
	int count = 0;

	if (h_read_file(h->log, &buf, &len) != 0)
		return 0;
	for (char *line = (char *)buf + (from < len ? from : len);
	     *line != '\0';) {
		char *nl = strchr(line, '\n');

		if (nl != NULL)
			*nl = '\0';
		if (strstr(line, needle) != NULL)
			count++;
		if (nl == NULL)
			break;
		line = nl + 1;
	}
	free(buf);
	return count;
}

int
h_log_wait(
    const harness *h, size_t from, const char *needle, int n, int timeout_ms)
{
	int64_t deadline = h_now_ms() + timeout_ms;
	int found;

	while (
	    (found = h_log_count(h, from, needle)) < n && h_now_ms() < deadline)
		h_sleep_ms(20);
	return found;
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
