/*
 * test_example.c - libprivd as a service team meets it (issue 11): the
 * build installed into a temporary directory (`meson install --destdir`),
 * the example program client/examples/privd_example.c compiled there the
 * way the README says, `cc ... $(pkg-config --cflags --libs libprivd)`,
 * with pkg-config seeing nothing but the installed libprivd.pc (so it
 * works without the -dev packages of libzmq, libsodium and protobuf-c),
 * and run against a real privd.
 *
 * The environment (meson sets it): MESON_BUILD_ROOT and MESON (to
 * install), LIBPRIVD_PREFIX and LIBPRIVD_LIBDIR (where the install puts
 * the library), EXAMPLE_SOURCE, EXAMPLE_CC, EXAMPLE_CFLAGS (the build's
 * sanitizers: a library built with them needs a program built with them)
 * and PKG_CONFIG. Without a compiler, meson or pkg-config the test is
 * skipped (exit 77), saying which is missing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "harness.h"

/* What the group set-up made, for every test. */
static struct {
	char root[128];        /* temporary directory, removed at the end */
	char dest[160];        /* root/dest: the --destdir */
	char pcdir[540];       /* the installed libprivd.pc's directory */
	char libdir[512];      /* the installed library's directory */
	char exe[160];         /* root/privd_example, built against dest */
	char pkg_flags[1024];  /* pkg-config --cflags --libs libprivd */
	char pkg_cflags[1024]; /* pkg-config --cflags libprivd */
	char pkg_version[64];  /* pkg-config --modversion libprivd */
	char log[160];         /* root/build.log: the commands' output */
	char ldd[4096];        /* ldd of the example */
} g;

/* An environment variable meson sets; NULL (and why) if it is missing. */
static const char *
env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0') {
		fprintf(stderr, "test_example: %s is not set\n", name);
		return NULL;
	}
	return v;
}

/*
 * Run a shell command, its output appended to g.log (and, captured, to out
 * if given: at most outlen - 1 bytes, NUL-terminated, the trailing newline
 * cut). Returns its exit status, or -1 if it could not run; on a failure
 * the log is printed so that meson shows why.
 */
static int
sh(char *out, size_t outlen, const char *fmt, ...)
{
	char cmd[4096], full[4600], line[512];
	va_list ap;
	FILE *p;
	size_t n = 0, k;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "{ %s ; } 2>>'%s'", cmd, g.log);
	if (out != NULL && outlen > 0)
		*out = '\0';
	if ((p = popen(full, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), p) != NULL) {
		k = strlen(line);
		if (out != NULL && n + k < outlen) {
			memcpy(out + n, line, k + 1);
			n += k;
		}
	}
	st = pclose(p);
	if (out != NULL && n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "test_example: failed: %s\n", cmd);
		snprintf(full, sizeof(full), "tail -n 40 '%s' >&2", g.log);
		if (system(full) != 0)
			fprintf(stderr, "test_example: no log\n");
		return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
	}
	return 0;
}

/*
 * Install the build into root/dest, ask pkg-config about libprivd with
 * nothing but the installed .pc in its path, and compile the example with
 * what it said, as strictly as a careful service builds (C99, pedantic,
 * warnings as errors).
 */
static int
group_setup(void **state)
{
	const char *build = env("MESON_BUILD_ROOT"), *meson = env("MESON");
	const char *prefix = env("LIBPRIVD_PREFIX");
	const char *libdir = env("LIBPRIVD_LIBDIR");
	const char *src = env("EXAMPLE_SOURCE"), *cc = env("EXAMPLE_CC");
	const char *pkgconfig = env("PKG_CONFIG");
	const char *cflags = getenv("EXAMPLE_CFLAGS");
	char pc[1400];

	(void)state;
	if (build == NULL || meson == NULL || prefix == NULL ||
	    libdir == NULL || src == NULL || cc == NULL || pkgconfig == NULL)
		return -1;
	snprintf(g.root, sizeof(g.root), "%s/privd-example-XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(g.root) == NULL) {
		fprintf(stderr, "test_example: mkdtemp: %s\n", strerror(errno));
		return -1;
	}
	snprintf(g.dest, sizeof(g.dest), "%s/dest", g.root);
	snprintf(g.log, sizeof(g.log), "%s/build.log", g.root);
	snprintf(g.exe, sizeof(g.exe), "%s/privd_example", g.root);
	/* libdir is relative to the prefix unless meson was told otherwise */
	if (libdir[0] == '/')
		snprintf(g.libdir, sizeof(g.libdir), "%s%s", g.dest, libdir);
	else
		snprintf(g.libdir, sizeof(g.libdir), "%s%s/%s", g.dest, prefix,
		    libdir);
	snprintf(g.pcdir, sizeof(g.pcdir), "%s/pkgconfig", g.libdir);

	if (sh(NULL, 0,
	        "'%s' install -C '%s' --destdir '%s' --no-rebuild "
	        "--quiet >>'%s'",
	        meson, build, g.dest, g.log) != 0)
		return -1;
	snprintf(pc, sizeof(pc),
	    "PKG_CONFIG_LIBDIR='%s' PKG_CONFIG_PATH= "
	    "PKG_CONFIG_SYSROOT_DIR='%s' '%s'",
	    g.pcdir, g.dest, pkgconfig);
	if (sh(g.pkg_flags, sizeof(g.pkg_flags), "%s --cflags --libs libprivd",
	        pc) != 0 ||
	    sh(g.pkg_cflags, sizeof(g.pkg_cflags), "%s --cflags libprivd",
	        pc) != 0 ||
	    sh(g.pkg_version, sizeof(g.pkg_version), "%s --modversion libprivd",
	        pc) != 0)
		return -1;
	if (sh(NULL, 0,
	        "%s -std=c99 -pedantic -Wall -Wextra -Werror %s -o '%s' '%s' "
	        "%s",
	        cc, cflags != NULL ? cflags : "", g.exe, src, g.pkg_flags) != 0)
		return -1;
	if (sh(g.ldd, sizeof(g.ldd), "LD_LIBRARY_PATH='%s' ldd '%s'", g.libdir,
	        g.exe) != 0)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	char cmd[200];

	(void)state;
	if (g.root[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g.root);
		if (system(cmd) != 0)
			fprintf(
			    stderr, "test_example: cannot remove %s\n", g.root);
	}
	return 0;
}

/*
 * pkg-config answered from the installed libprivd.pc alone (the group
 * set-up would have failed otherwise, as it did when the .pc required
 * libzmq, libsodium and libprotobuf-c), with the installed directories
 * and the library alone; its version is the library's.
 */
static void
test_pkg_config_alone(void **state)
{
	char want[64], inc[1100];

	(void)state;
	snprintf(inc, sizeof(inc), "-I%s", g.dest);
	assert_non_null(strstr(g.pkg_flags, inc));
	assert_non_null(strstr(g.pkg_flags, "-lprivd"));
	assert_null(strstr(g.pkg_flags, "zmq"));
	assert_null(strstr(g.pkg_flags, "sodium"));
	assert_null(strstr(g.pkg_flags, "protobuf"));
	snprintf(want, sizeof(want), "%d.%d.%d", PRIVD_VERSION_MAJOR,
	    PRIVD_VERSION_MINOR, PRIVD_VERSION_PATCH);
	assert_string_equal(g.pkg_version, want);
	/* the example runs with the installed library, by its soname */
	snprintf(inc, sizeof(inc), "libprivd.so.%d => %s/libprivd.so.%d",
	    PRIVD_VERSION_MAJOR, g.libdir, PRIVD_VERSION_MAJOR);
	if (strstr(g.ldd, inc) == NULL)
		fail_msg("ldd does not show %s:\n%s", inc, g.ldd);
}

/*
 * Every installed header compiles as C++ too (extern "C" and nothing C
 * alone accepts), with warnings as errors: a C++ service includes them.
 */
static void
test_headers_in_cxx(void **state)
{
	const char *cxx = getenv("EXAMPLE_CXX");

	(void)state;
	if (cxx == NULL || *cxx == '\0') {
		printf(
		    "skipped: no C++ compiler (c++) to try the headers with\n");
		skip();
	}
	assert_int_equal(sh(NULL, 0,
	                     "printf '#include <privd/%%s.h>\\n' client audit "
	                     "retention rights backup | %s -fsyntax-only "
	                     "-Wall -Wextra -Werror %s -x c++ -",
	                     cxx, g.pkg_cflags),
	    0);
}

static int
setup(void **state)
{
	static const char *const keys[] = {"svc"};

	return h_setup(state, keys, 1, h_policy_default, NULL);
}

/*
 * Run the example as privctl would be run: PRIVD_ENDPOINT, the server key
 * file privd init wrote, and the key pair file. args: its arguments
 * (NULL-terminated). key_file NULL: svc's, written now.
 */
static void
run_example(
    harness *h, const char *key_file, const char *const *args, h_result *res)
{
	char ep[300], sk[300], kf[300], ll[600], path[H_PATH_MAX + 16];
	const char *argv[16];
	size_t n = 0;

	if (key_file == NULL) {
		assert_int_equal(h_key_file(h, "svc", path, sizeof(path)), 0);
		key_file = path;
	}
	snprintf(ep, sizeof(ep), "PRIVD_ENDPOINT=%s", h->endpoint);
	snprintf(sk, sizeof(sk), "PRIVD_SERVER_KEY=%s/server.pub", h->data_dir);
	snprintf(kf, sizeof(kf), "PRIVD_KEY=%s", key_file);
	snprintf(ll, sizeof(ll), "LD_LIBRARY_PATH=%s", g.libdir);
	argv[n++] = "/usr/bin/env";
	argv[n++] = ep;
	argv[n++] = sk;
	argv[n++] = kf;
	argv[n++] = ll;
	argv[n++] = g.exe;
	while (*args != NULL && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	assert_int_equal(h_run(h, argv, 30000, res), 0);
	assert_false(res->timed_out);
	assert_true(WIFEXITED(res->wstatus));
}

/*
 * The example stores a subject, reads its email back, and deletes it;
 * privd saw it all: the subject is gone afterwards.
 */
static void
test_example_runs(void **state)
{
	static const char *const args[] = {
	    "ex-1", "customers", "invoicing", NULL};
	harness *h = *state;
	privd_record *rec = NULL;
	privd_client *c;
	h_result res;

	run_example(h, NULL, args, &res);
	if (WEXITSTATUS(res.wstatus) != 0)
		fail_msg("privd_example exited %d: %s%s",
		    WEXITSTATUS(res.wstatus), res.out, res.err);
	assert_non_null(strstr(res.out, "connected as svc to privd"));
	assert_non_null(strstr(res.out, "stored name and email of ex-1"));
	assert_non_null(strstr(res.out, "email: maija@example.fi\n"));
	assert_non_null(strstr(res.out, "deleted 2 fields\n"));
	assert_string_equal(res.err, "");

	c = client(h, "svc");
	expect_rc(c,
	    privd_get(c, "customers", "ex-1", "invoicing", NULL, 0, &rec),
	    PRIVD_ENOTFOUND, "get after the example");
	privd_close(&c);
}

/*
 * What goes wrong says why, as the example prints it: a denial with its
 * reason, a key file open to others, a privd that is not there.
 */
static void
test_example_says_why(void **state)
{
	static const char *const bad_purpose[] = {
	    "ex-2", "customers", "no_such_purpose", NULL};
	static const char *const args[] = {
	    "ex-2", "customers", "invoicing", NULL};
	static const char *const usage[] = {NULL};
	harness *h = *state;
	char path[H_PATH_MAX + 16], open_key[H_PATH_MAX + 16];
	h_result res;

	run_example(h, NULL, bad_purpose, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 1);
	assert_non_null(strstr(res.err, "put: denied by policy"));
	assert_non_null(strstr(res.err, "(reason unknown_purpose)"));

	assert_int_equal(h_key_file(h, "svc", path, sizeof(path)), 0);
	snprintf(open_key, sizeof(open_key), "%s/open.key", h->root);
	assert_int_equal(rename(path, open_key), 0);
	assert_int_equal(chmod(open_key, 0644), 0);
	run_example(h, open_key, args, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 1);
	assert_non_null(strstr(res.err, "chmod 600"));
	assert_non_null(strstr(res.err, open_key));

	run_example(h, NULL, usage, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 2);

	assert_int_equal(h_stop(h, H_STOP_TIMEOUT_MS, NULL), 0);
	run_example(h, NULL, args, &res);
	assert_int_equal(WEXITSTATUS(res.wstatus), 1);
	assert_non_null(strstr(res.err, "ping: privd unavailable"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pkg_config_alone),
	    cmocka_unit_test(test_headers_in_cxx),
	    cmocka_unit_test_setup_teardown(
	        test_example_runs, setup, h_teardown),
	    cmocka_unit_test_setup_teardown(
	        test_example_says_why, setup, h_teardown),
	};
	const char *missing = NULL;

	/* what a build machine may lack: then there is nothing to test */
	if (getenv("EXAMPLE_CC") == NULL || *getenv("EXAMPLE_CC") == '\0')
		missing = "a C compiler for the example";
	else if (getenv("MESON") == NULL || *getenv("MESON") == '\0')
		missing = "meson (to install the build)";
	else if (getenv("PKG_CONFIG") == NULL || *getenv("PKG_CONFIG") == '\0')
		missing = "pkg-config";
	if (missing != NULL) {
		printf("skipped: no %s\n", missing);
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
