/*
 * checks.h - cmocka assertions shared by the integration tests (checks.c).
 * Unlike the harness (which only returns errors, for use in setup and
 * teardown), these fail the running test.
 */
#ifndef PRIVD_TEST_CHECKS_H
#define PRIVD_TEST_CHECKS_H

#include "harness.h"

/* A client for the key registered under name; fails the test if it
 * cannot be made. */
privd_client *client(harness *h, const char *name);

/* Fail with privd's message unless rc is want. */
void expect_rc(privd_client *c, int rc, int want, const char *what);

/* A put of one text field, field = value, that must be OK. */
void put1(privd_client *c, const char *reg, const char *subject,
    const char *purpose, const char *field, const char *value);

/* The same in register customers for purpose invoicing: field name. */
void put_name(privd_client *c, const char *subject, const char *name);

#endif /* PRIVD_TEST_CHECKS_H */
