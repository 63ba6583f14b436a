/*
 * cmd_verify.c - the audit commands that prove the log: verify (the hash
 * chain and the signed checkpoints, checked here on the client) and pubkey
 * (the key that signs the checkpoints, to be pinned once).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "privctl.h"

/* 64 hex digits into 32 bytes; -1 if s is not exactly that. */
static int
hex_key(const char *s, size_t len, uint8_t pk[32])
{
	size_t n;

	if (len != 64 || strspn(s, "0123456789abcdefABCDEF") < 64)
		return -1;
	return sodium_hex2bin(pk, 32, s, 64, NULL, &n, NULL) == 0 && n == 32
	           ? 0
	           : -1;
}

/*
 * Resolve --pubkey: 64 hex digits, or a file whose first non-comment line
 * holds them (as `audit pubkey --out` writes it). Public material: no mode
 * check. Returns 0, or reports and returns the exit code.
 */
int
pubkey_resolve(struct opts *o, const char *arg)
{
	char line[256], *s = NULL;
	FILE *f;
	int found = 0;

	if (hex_key(arg, strlen(arg), o->pk) == 0) {
		o->have_pk = 1;
		return 0;
	}
	if ((f = fopen(arg, "r")) == NULL)
		return report_local(o, PRIVD_EKEY,
		    "--pubkey is neither 64 hex digits nor a readable file");
	while (!found && fgets(line, sizeof(line), f) != NULL) {
		s = line + strspn(line, " \t");
		if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
			continue;
		found = 1;
	}
	fclose(f);
	if (!found || hex_key(s, strcspn(s, " \t\r\n"), o->pk) != 0)
		return report_local(o, PRIVD_EKEY,
		    "%s: first line is not a 64-hex-digit key", arg);
	o->have_pk = 1;
	return 0;
}

/*
 * What verify says as JSON, every member always there: {"verified",
 * "from", "to" (null: no events in the range), "events", "checkpoints"
 * (as far as it got), "bad_seq", "why" (null when it verifies)}.
 */
static json_t *
verify_json(int ok, uint64_t a, uint64_t b, uint64_t events, uint64_t ckpts,
    uint64_t bad, const char *why)
{
	return json_pack("{s:b, s:o, s:o, s:o, s:o, s:o, s:o}", "verified", ok,
	    "from", json_us(a), "to", json_us(b), "events", json_u64(events),
	    "checkpoints", json_u64(ckpts), "bad_seq", json_us(bad), "why",
	    why != NULL ? json_string(why) : json_null());
}

int
cmd_audit_verify(const struct opts *o, privd_client *c, char **args, int nargs)
{
	privd_audit_checkpoint *ck = NULL;
	uint64_t first, last, a, b, bad = 0, checked = 0, k = 0;
	size_t n = 0, i;
	char why[200], range[64];
	struct progress p;
	int rc;

	if (!o->have_pk)
		fputs("privctl: note: checking signatures with the key privd "
		      "reports now; pin it once with 'privctl audit pubkey "
		      "--out FILE' and pass --pubkey FILE\n",
		    stderr);
	/* fix the range first, so the report names exactly what was checked
	 */
	rc = privd_audit_checkpoints(
	    c, o->from_seq, o->to_seq, &ck, &n, &first, &last, NULL, NULL);
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	b = o->to_seq != 0 && o->to_seq < last ? o->to_seq : last;
	a = o->from_seq > 1 ? o->from_seq : 1;
	if (first > 1 && a <= first)
		a = first;
	for (i = 0; i < n; i++)
		if (ck[i].seq >= a && ck[i].seq <= b)
			k++;
	privd_free(ck);
	/* an empty log, or --from past its newest event: nothing to check */
	if (b == 0 || o->from_seq > b) {
		if (o->json)
			return json_print(verify_json(1, 0, 0, 0, 0, 0, NULL));
		printf("audit log verifies: %s\n",
		    b == 0 ? "it holds no events"
		           : "no events kept in that range");
		return 0;
	}
	/* one call: how long it has been at it is all there is to show */
	snprintf(range, sizeof(range), "events %llu..%llu",
	    (unsigned long long)a, (unsigned long long)b);
	progress_wait_begin(&p, "audit verify", range);
	rc = privd_audit_verify(c, o->from_seq, b, o->have_pk ? o->pk : NULL,
	    &bad, why, sizeof(why), &checked);
	progress_wait_end(&p);
	if (rc == PRIVD_ETAMPERED) {
		if (o->json)
			json_print(verify_json(0, a, b, checked, k, bad, why));
		else
			printf("audit log does NOT verify at event %llu: %s\n",
			    (unsigned long long)bad, why);
		return EXIT_TAMPERED;
	}
	if (rc != PRIVD_OK)
		return report_call(o, c, rc);
	if (o->json)
		return json_print(verify_json(1, a, b, checked, k, 0, NULL));
	if (checked == 0)
		printf("audit log verifies: no events kept in that range\n");
	else
		printf("audit log verifies: events %llu..%llu, %llu signed "
		       "checkpoint%s\n",
		    (unsigned long long)a, (unsigned long long)b,
		    (unsigned long long)k, k == 1 ? "" : "s");
	return 0;
}

/*
 * pubkey: the key is public, but a pinned copy must not be replaced
 * behind the auditor's back, so --out never overwrites.
 */
int
cmd_audit_pubkey(const struct opts *o, privd_client *c, char **args, int nargs)
{
	uint8_t pk[32];
	char hex[65], line[66];
	int fd, rc;

	if ((rc = privd_audit_pubkey(c, pk)) != PRIVD_OK)
		return report_call(o, c, rc);
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	if (o->out != NULL) {
		snprintf(line, sizeof(line), "%s\n", hex);
		fd = open(o->out,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0)
			return report_io(o, "%s: %s%s", o->out, strerror(errno),
			    errno == EEXIST ? " (refusing to overwrite)" : "");
		rc = write_all(fd, line, strlen(line)) != 0 || fsync(fd) != 0;
		if (close(fd) != 0 || rc) {
			rc = report_io(o, "%s: %s", o->out, strerror(errno));
			unlink(o->out);
			return rc;
		}
	}
	if (o->json)
		return json_print(
		    json_pack("{s:s, s:o}", "public_key", hex, "file",
		        o->out != NULL ? json_string(o->out) : json_null()));
	printf("%s\n", hex);
	return 0;
}
