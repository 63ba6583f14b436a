/*
 * privd_example.c - a complete program on libprivd: a service stores a
 * customer's name and email address in privd, reads the email address
 * back, and deletes the customer again.
 *
 * Build it against an installed libprivd:
 *
 *   cc -o privd_example privd_example.c $(pkg-config --cflags --libs libprivd)
 *
 * and run it with the three settings privctl takes, from the environment:
 *
 *   PRIVD_ENDPOINT=tcp://127.0.0.1:7700 \
 *   PRIVD_SERVER_KEY=var/demo/data/server.pub \
 *   PRIVD_KEY=var/demo/keys/crm.key \
 *   ./privd_example c-1001
 *
 * Usage: privd_example SUBJECT [REGISTER PURPOSE]. REGISTER and PURPOSE
 * default to those of the crm principal of the example policy
 * (policy/examples/aktiivitieto.json: customers, customer_relationship),
 * whose key needs read, write and delete on the fields name and email.
 * Exit status: 0 when every step worked, 1 otherwise (the reason on
 * stderr), 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <privd/client.h>

/* privd_connect_keyfile() and privd_version() came with libprivd 2.1. */
#if PRIVD_VERSION_FULL < PRIVD_MAKE_VERSION(2, 1, 0)
#error "this example needs libprivd 2.1 or later"
#endif

/* Say why a call failed: the status, privd's explanation (which never
 * holds personal data), and for a denial the policy's reason. */
static int
failed(privd_client *c, const char *what, int rc)
{
	fprintf(stderr, "privd_example: %s: %s", what, privd_strerror(rc));
	if (*privd_errmsg(c) != '\0')
		fprintf(stderr, ": %s", privd_errmsg(c));
	if (rc == PRIVD_EDENIED)
		fprintf(
		    stderr, " (reason %s)", privd_reason_name(privd_reason(c)));
	fputc('\n', stderr);
	return 1;
}

/* A text value as a field: the value is bytes, its length says how many. */
static privd_field
text_field(const char *name, const char *value)
{
	privd_field f;

	f.name = name;
	f.value = (const uint8_t *)value;
	f.len = strlen(value);
	return f;
}

/* Store, read back and delete one subject; 0 or 1. */
static int
run(privd_client *c, const char *subject, const char *reg, const char *purpose)
{
	static const char *const want[] = {"email"};
	privd_field fields[2];
	privd_record *rec = NULL;
	const privd_field *email;
	privd_retained *kept = NULL;
	size_t nkept = 0, i;
	uint32_t deleted = 0;
	privd_pong pong;
	int rc;

	/* who privd takes us for, under which policy version */
	if ((rc = privd_ping(c, &pong)) != PRIVD_OK)
		return failed(c, "ping", rc);
	printf("connected as %s to privd %s (policy version %llu, libprivd "
	       "%s)\n",
	    pong.principal, pong.server_version,
	    (unsigned long long)pong.policy_version,
	    privd_version(NULL, NULL, NULL));

	/* a put stores all of its fields or none */
	fields[0] = text_field("name", "Maija Meikäläinen");
	fields[1] = text_field("email", "maija@example.fi");
	rc = privd_put(c, reg, subject, purpose, fields, 2);
	if (rc != PRIVD_OK)
		return failed(c, "put", rc);
	printf("stored name and email of %s in %s\n", subject, reg);

	/* a get returns the fields asked for that are stored */
	rc = privd_get(c, reg, subject, purpose, want, 1, &rec);
	if (rc != PRIVD_OK)
		return failed(c, "get", rc);
	email = privd_record_field(rec, "email");
	if (email == NULL) {
		fprintf(stderr, "privd_example: get: no email stored\n");
		privd_record_free(&rec);
		return 1;
	}
	/* values are bytes of len, also NUL-terminated for printing */
	printf("email: %s\n", (const char *)email->value);
	privd_record_free(&rec); /* wipes the values before freeing them */

	/* the whole subject (no field names): its data key goes too, unless
	 * a retention minimum or a legal hold keeps something */
	rc = privd_delete_ex(
	    c, reg, subject, purpose, NULL, 0, &deleted, &kept, &nkept);
	if (rc != PRIVD_OK && rc != PRIVD_ERETAINED)
		return failed(c, "delete", rc);
	printf("deleted %u fields\n", (unsigned)deleted);
	for (i = 0; i < nkept; i++)
		printf("kept %s: %s\n", kept[i].field,
		    kept[i].rule[0] != '\0' ? kept[i].rule
		                            : kept[i].hold_reason);
	privd_free(kept);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *endpoint = getenv("PRIVD_ENDPOINT");
	const char *server_key = getenv("PRIVD_SERVER_KEY");
	const char *key_file = getenv("PRIVD_KEY");
	const char *reg = "customers", *purpose = "customer_relationship";
	privd_client *c = NULL;
	char why[256];
	int rc;

	if (argc != 2 && argc != 4) {
		fprintf(stderr,
		    "usage: privd_example SUBJECT [REGISTER PURPOSE]\n");
		return 2;
	}
	if (argc == 4) {
		reg = argv[2];
		purpose = argv[3];
	}
	if (endpoint == NULL || server_key == NULL || key_file == NULL) {
		fprintf(stderr, "privd_example: set PRIVD_ENDPOINT, "
		                "PRIVD_SERVER_KEY and PRIVD_KEY\n");
		return 2;
	}

	/* Connecting is lazy: this fails only for bad settings or key files,
	 * never because privd is down (the first call tells that). */
	rc = privd_connect_keyfile(
	    &c, endpoint, server_key, key_file, why, sizeof(why));
	if (rc != PRIVD_OK) {
		fprintf(
		    stderr, "privd_example: %s: %s\n", privd_strerror(rc), why);
		return 1;
	}
	/* every call waits at most this long for privd */
	rc = privd_set_timeout(c, 3000);
	if (rc == PRIVD_OK)
		rc = run(c, argv[1], reg, purpose);
	else
		rc = failed(c, "set timeout", rc);
	privd_close(&c); /* wipes the keys the handle held */
	return rc;
}
