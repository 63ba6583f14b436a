/*
 * audit_common.c - what the audit tests share (see audit_common.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "audit_common.h"
#include "harness.h"

const char POLICY[] = POL_HEAD POL_BODY;

const char *const serve_args[] = {"--audit-checkpoint-every", CKPTS, NULL};

int
setup_args(void **state, const char *policy, const char *const *args)
{
	static const char *const names[] = {"svc", "auditor", "admin"};

	return h_setup(
	    state, names, sizeof(names) / sizeof(names[0]), policy, args);
}

int
setup(void **state)
{
	return setup_args(state, POLICY, serve_args);
}
