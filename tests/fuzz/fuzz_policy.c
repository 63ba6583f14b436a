/*
 * fuzz_policy.c - libFuzzer target for pol_parse.
 *
 * A policy comes from an admin over the wire, so the parser must survive
 * anything. Besides not crashing, check the contract: on failure *out is NULL
 * and the error has a JSON path; on success every lookup finds what it
 * indexes, every decision over the result works, a policy has no
 * differences from itself, and every value check on the input returns
 * cleanly.
 *
 * Seed corpus: tests/fuzz/corpus/policy/ (the example policy, edge cases,
 * and policies at the caps that fit in -max_len).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decide one read, write and delete of every purpose of every register for
 * every principal: walks all of the parsed structure. */
static void
exercise(const pol_policy *p, const uint8_t *data, size_t size)
{
	size_t i, j, k;
	unsigned op;

	for (i = 0; i < p->nprincipals; i++) {
		const pol_principal *pr = &p->principals[i];

		if (pol_principal_by_key(p, pr->key) != pr ||
		    pol_principal_by_name(p, pr->name) != pr)
			abort();
		for (j = 0; j < p->nregisters; j++) {
			const pol_register *r = &p->registers[j];

			for (k = 0; k < r->npurposes; k++) {
				for (op = POL_OP_READ; op <= POL_OP_DELETE;
				     op <<= 1) {
					pol_request req = {.principal = pr,
					    .reg = r->name,
					    .purpose = r->purposes[k].name,
					    .op = op};
					pol_decision d;

					pol_decide(p, &req, &d);
					if (d.reason != POL_ALLOW &&
					    d.message[0] == '\0')
						abort();
				}
			}
		}
	}
	for (j = 0; j < p->nregisters; j++) {
		const pol_register *r = &p->registers[j];

		if (pol_register_find(p, r->name) != r)
			abort();
		for (k = 0; k < r->npurposes; k++)
			if (pol_purpose_find(r, r->purposes[k].name) !=
			    &r->purposes[k])
				abort();
		for (k = 0; k < r->nfields; k++) {
			if (pol_field_find(r, r->fields[k].name) !=
			        &r->fields[k] ||
			    r->fields[k].index != k)
				abort();
			pol_value_check(&r->fields[k], data, size, NULL, 0);
		}
	}
	if (pol_diff(p, p, NULL, NULL) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pol_policy *p = NULL;
	pol_error err;

	if (pol_parse((const char *)data, size, &p, &err) == 0) {
		exercise(p, data, size);
		pol_free(&p);
	} else if (p != NULL || err.path[0] != '$' || err.reason[0] == '\0') {
		abort();
	}
	pol_contains_hetu(data, size);
	return 0;
}
