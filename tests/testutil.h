/* Helpers shared by the cmocka tests. */
#ifndef BOUNCEDB_TESTUTIL_H
#define BOUNCEDB_TESTUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <bouncedb/bouncedb.h>

/* A minimal multipart/report DSN with one recipient block made of
 * @fields (each "Name: value", NULL-terminated).  Free with g_free(). */
char *test_dsn_message (const char *const *fields);

/* The same with the report's Message-ID and Date given. */
char *test_dsn_message_at (const char *message_id, const char *date, const char *const *fields);

/* A fresh temporary directory (removed by test_rmtree()). */
char *test_tmpdir (void);
void test_rmtree (const char *dir);

/* Parse @text as a message; fails the test on error. */
BdbReport *test_parse (const char *text);

#endif
