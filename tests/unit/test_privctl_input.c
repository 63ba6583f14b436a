/*
 * test_privctl_input.c - put's values off the command line
 * (client/privctl/input.c): read_all() reads a pipe to its end within
 * its limit; put_input_read() takes FIELD=VALUE literally, FIELD=@FILE as
 * the file's bytes, FIELD=@@TEXT as "@TEXT", FIELD=- from stdin less one
 * final newline, and --from-json's record (with or without the subject,
 * base64 values), refusing what it cannot take before anything is sent.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

#include "privctl.h"

/* A temporary directory for the files the tests read. */
static char dir[64];

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/privctl-input-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write len bytes to dir/name; its path into path. */
static void
write_file(const char *name, const void *data, size_t len, char path[128])
{
	int fd;

	snprintf(path, 128, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Make stdin read the bytes of data (through a file: no writer to
 * block). */
static void
stdin_from(const void *data, size_t len)
{
	char path[128];
	int fd;

	write_file("stdin", data, len, path);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_true(dup2(fd, STDIN_FILENO) == STDIN_FILENO);
	close(fd);
}

/* put_input_read() of args (a copy: it splits them in place). */
static int
put_read(struct opts *o, const char *const *args, int nargs, char **copy)
{
	int i;

	for (i = 0; i < nargs; i++)
		assert_non_null(copy[i] = strdup(args[i]));
	return put_input_read(o, copy, nargs);
}

static void
free_args(char **copy, int nargs)
{
	int i;

	for (i = 0; i < nargs; i++)
		free(copy[i]);
}

/* Field k of what put read is name with the len bytes of value. */
static void
expect_field(const struct put_input *p, size_t k, const char *name,
    const void *value, size_t len)
{
	assert_true(k < p->n);
	assert_string_equal(p->f[k].name, name);
	assert_int_equal(p->f[k].len, len);
	assert_memory_equal(p->f[k].value, value, len);
}

/* A pipe larger than the first buffer is read whole; past the limit it
 * is EFBIG. */
static void
test_read_all_pipe(void **state)
{
	static uint8_t big[100000];
	uint8_t *buf = NULL;
	size_t len = 0, i;
	int fds[2];

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	write_file("big", big, sizeof(big), (char[128]){0});
	/* through a pipe: no size known in advance */
	assert_int_equal(pipe(fds), 0);
	if (fork() == 0) {
		close(fds[0]);
		_exit(write(fds[1], big, sizeof(big)) == (ssize_t)sizeof(big)
		          ? 0
		          : 1);
	}
	close(fds[1]);
	assert_int_equal(read_all(fds[0], sizeof(big), &buf, &len), 0);
	close(fds[0]);
	assert_true(wait(NULL) > 0);
	assert_int_equal(len, sizeof(big));
	assert_memory_equal(buf, big, sizeof(big));
	assert_int_equal(buf[len], 0);
	wipe_free(buf, len);

	assert_int_equal(pipe(fds), 0);
	if (fork() == 0) {
		close(fds[0]);
		_exit(write(fds[1], big, sizeof(big)) == (ssize_t)sizeof(big)
		          ? 0
		          : 1);
	}
	close(fds[1]);
	errno = 0;
	assert_int_equal(read_all(fds[0], sizeof(big) - 1, &buf, &len), -1);
	assert_int_equal(errno, EFBIG);
	assert_null(buf);
	close(fds[0]);
	assert_true(wait(NULL) > 0);
}

/* A regular file: read whole, or refused from its size alone. */
static void
test_read_path(void **state)
{
	char path[128];
	uint8_t *buf = NULL;
	size_t len = 0;

	(void)state;
	write_file("f", "abc\n", 4, path);
	assert_int_equal(read_path(path, 4, &buf, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "abc\n", 4);
	wipe_free(buf, len);
	errno = 0;
	assert_int_equal(read_path(path, 3, &buf, &len), -1);
	assert_int_equal(errno, EFBIG);
	write_file("empty", "", 0, path);
	assert_int_equal(read_path(path, 3, &buf, &len), 0);
	assert_int_equal(len, 0);
	free(buf);
}

/* Literal, @FILE (bytes exactly, newline and NUL kept), @@TEXT and -
 * (stdin less one final newline). */
static void
test_put_values(void **state)
{
	static const uint8_t bin[] = {'a', 0, '\n', 0xff, '\n'};
	char path[128], arg[160], *copy[8];
	const char *args[8];
	struct opts o = {0};

	(void)state;
	write_file("bin", bin, sizeof(bin), path);
	snprintf(arg, sizeof(arg), "blob=@%s", path);
	stdin_from("Ada L\n\n", 7);
	args[0] = "customers";
	args[1] = "c-1";
	args[2] = "name=Ada";
	args[3] = arg;
	args[4] = "handle=@@ada";
	args[5] = "notes=-";
	args[6] = "empty=";
	assert_int_equal(put_read(&o, args, 7, copy), 0);
	assert_string_equal(o.put->subject, "c-1");
	assert_int_equal(o.put->n, 5);
	expect_field(o.put, 0, "name", "Ada", 3);
	expect_field(o.put, 1, "blob", bin, sizeof(bin));
	expect_field(o.put, 2, "handle", "@ada", 4);
	expect_field(o.put, 3, "notes", "Ada L\n", 6);
	expect_field(o.put, 4, "empty", "", 0);
	put_input_free(&o.put);
	assert_null(o.put);
	free_args(copy, 7);
}

/* What put refuses: no field, a field twice, stdin twice or empty, a
 * file that cannot be read, an argument that is not FIELD=VALUE. */
static void
test_put_refused(void **state)
{
	static const char *const none[] = {"customers", "c-1"};
	static const char *const twice[] = {"customers", "c-1", "a=1", "a=2"};
	static const char *const dash2[] = {"customers", "c-1", "a=-", "b=-"};
	static const char *const dash[] = {"customers", "c-1", "a=-"};
	static const char *const nofile[] = {
	    "customers", "c-1", "a=@/nonexistent/x"};
	static const char *const noeq[] = {"customers", "c-1", "a"};
	static const char *const at[] = {"customers", "c-1", "a=@"};
	static const char *const nosubj[] = {"customers"};
	struct opts o = {0};
	char *copy[8];

	(void)state;
	assert_int_equal(put_read(&o, none, 2, copy), EXIT_USAGE);
	put_input_free(&o.put);
	free_args(copy, 2);
	assert_int_equal(put_read(&o, twice, 4, copy), EXIT_USAGE);
	put_input_free(&o.put);
	free_args(copy, 4);
	stdin_from("x", 1);
	assert_int_equal(put_read(&o, dash2, 4, copy), EXIT_USAGE);
	put_input_free(&o.put);
	free_args(copy, 4);
	stdin_from("", 0);
	assert_int_equal(put_read(&o, dash, 3, copy), EXIT_USAGE);
	put_input_free(&o.put);
	free_args(copy, 3);
	assert_int_equal(put_read(&o, nofile, 3, copy), 1);
	put_input_free(&o.put);
	free_args(copy, 3);
	assert_int_equal(put_read(&o, noeq, 3, copy), EXIT_USAGE);
	put_input_free(&o.put);
	free_args(copy, 3);
	assert_int_equal(put_read(&o, at, 3, copy), EXIT_USAGE);
	put_input_free(&o.put);
	free_args(copy, 3);
	assert_int_equal(put_read(&o, nosubj, 1, copy), EXIT_USAGE);
	put_input_free(&o.put);
	free_args(copy, 1);
}

/* --from-json: the record get --json prints, with the subject or not,
 * and more fields on the command line. */
static void
test_put_from_json(void **state)
{
	static const char rec[] =
	    "{\"subject\": \"c-9\", \"fields\": {\"name\": \"Ada\", "
	    "\"blob\": {\"base64\": \"AAH/\"}, \"nul\": \"a\\u0000b\"}}";
	static const char nosubj[] = "{\"fields\": {\"name\": \"Ada\"}}";
	static const uint8_t blob[] = {0, 1, 0xff};
	const char *args[4] = {"customers", "notes=x"};
	struct opts o = {0};
	char path[128], *copy[4];

	(void)state;
	write_file("rec.json", rec, strlen(rec), path);
	o.from_json = path;
	assert_int_equal(put_read(&o, args, 2, copy), 0);
	assert_string_equal(o.put->subject, "c-9");
	assert_int_equal(o.put->n, 4);
	expect_field(o.put, 0, "name", "Ada", 3);
	expect_field(o.put, 1, "blob", blob, sizeof(blob));
	expect_field(o.put, 2, "nul", "a\0b", 3);
	expect_field(o.put, 3, "notes", "x", 1);
	put_input_free(&o.put);
	free_args(copy, 2);

	/* no subject in it: the argument after REGISTER is */
	write_file("nosubj.json", nosubj, strlen(nosubj), path);
	args[1] = "c-1";
	assert_int_equal(put_read(&o, args, 2, copy), 0);
	assert_string_equal(o.put->subject, "c-1");
	assert_int_equal(o.put->n, 1);
	expect_field(o.put, 0, "name", "Ada", 3);
	put_input_free(&o.put);
	free_args(copy, 2);

	/* from stdin */
	stdin_from(rec, strlen(rec));
	o.from_json = "-";
	assert_int_equal(put_read(&o, args, 1, copy), 0);
	assert_string_equal(o.put->subject, "c-9");
	assert_int_equal(o.put->n, 3);
	put_input_free(&o.put);
	free_args(copy, 1);
}

/* A document put cannot take is invalid input (exit 5), whatever is
 * wrong with it. */
static void
test_put_json_refused(void **state)
{
	static const char *const bad[] = {
	    "not json",
	    "[1]",
	    "{\"fields\": 1}",
	    "{\"fields\": {\"a\": 1}}",
	    "{\"fields\": {\"a\": {\"base64\": \"!!\"}}}",
	    "{\"fields\": {\"a\": {\"base64\": \"AA==\", \"x\": 1}}}",
	    "{\"fields\": {\"\": \"x\"}}",
	    "{\"fields\": {\"a\": \"x\"}, \"register\": \"r\"}",
	    "{\"fields\": {\"a\": \"x\"}, \"subject\": 3}",
	    "{\"fields\": {\"a\": \"x\"}, \"subject\": \"\"}",
	    "{\"fields\": {\"a\": \"x\", \"a\": \"y\"}}",
	};
	const char *args[2] = {"customers", "c-1"};
	struct opts o = {0};
	char path[128], *copy[2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file("bad.json", bad[i], strlen(bad[i]), path);
		o.from_json = path;
		if (put_read(&o, args, 2, copy) != EXIT_INVALID)
			fail_msg("taken: %s", bad[i]);
		put_input_free(&o.put);
		free_args(copy, 2);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_all_pipe),
	    cmocka_unit_test(test_read_path),
	    cmocka_unit_test(test_put_values),
	    cmocka_unit_test(test_put_refused),
	    cmocka_unit_test(test_put_from_json),
	    cmocka_unit_test(test_put_json_refused),
	};

	json_wipe_alloc();
	return cmocka_run_group_tests(tests, setup, teardown);
}
