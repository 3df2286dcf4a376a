/* Writing JSON, a line at a time (json.c).  Calls follow the document:
 * begin an object, name a member, give its value, end the object; the
 * writer puts the commas.  Nothing is checked: a caller that names a
 * member outside an object writes invalid JSON. */
#ifndef BOUNCEDB_CLI_JSON_H
#define BOUNCEDB_CLI_JSON_H

#include <stdio.h>
#include <glib.h>

typedef struct _BdbJson BdbJson;

BdbJson *bdb_json_new (void);
void bdb_json_free (BdbJson *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbJson, bdb_json_free)

void bdb_json_begin_object (BdbJson *j);
void bdb_json_end_object (BdbJson *j);
void bdb_json_begin_array (BdbJson *j);
void bdb_json_end_array (BdbJson *j);
void bdb_json_member (BdbJson *j, const char *name);
/* A string (any bytes: see json.c), or null for NULL. */
void bdb_json_string (BdbJson *j, const char *s);
void bdb_json_int (BdbJson *j, gint64 v);
void bdb_json_double (BdbJson *j, double v);
void bdb_json_bool (BdbJson *j, gboolean v);
void bdb_json_null (BdbJson *j);
void bdb_json_member_string (BdbJson *j, const char *name, const char *value);
void bdb_json_member_int (BdbJson *j, const char *name, gint64 value);
void bdb_json_member_bool (BdbJson *j, const char *name, gboolean value);
void bdb_json_member_double (BdbJson *j, const char *name, double value);

/* Write what was built and a newline to @out; the writer is empty again. */
void bdb_json_print (BdbJson *j, FILE *out);
/* @s as a JSON string literal, quotes included.  g_free(). */
char *bdb_json_quote (const char *s);

#endif
