/* Writing JSON, a line at a time (json.c).  Calls follow the document:
 * begin an object, name a member, give its value, end the object; the
 * writer puts the commas.  Nothing is checked: a caller that names a
 * member outside an object writes invalid JSON. */
#ifndef BOUNCEDB_CLI_JSON_H
#define BOUNCEDB_CLI_JSON_H

#include <stdio.h>
#include <glib.h>

typedef struct _CliJson CliJson;

CliJson *cli_json_new (void);
void cli_json_free (CliJson *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliJson, cli_json_free)

void cli_json_begin_object (CliJson *j);
void cli_json_end_object (CliJson *j);
void cli_json_begin_array (CliJson *j);
void cli_json_end_array (CliJson *j);
void cli_json_member (CliJson *j, const char *name);
/* A string (any bytes: see json.c), or null for NULL. */
void cli_json_string (CliJson *j, const char *s);
void cli_json_int (CliJson *j, gint64 v);
void cli_json_double (CliJson *j, double v);
void cli_json_bool (CliJson *j, gboolean v);
void cli_json_null (CliJson *j);
void cli_json_member_string (CliJson *j, const char *name, const char *value);
void cli_json_member_int (CliJson *j, const char *name, gint64 value);
void cli_json_member_bool (CliJson *j, const char *name, gboolean value);
void cli_json_member_double (CliJson *j, const char *name, double value);

/* Write what was built and a newline to @out; the writer is empty again. */
void cli_json_print (CliJson *j, FILE *out);
/* The same, appended to @to (a server's reply). */
void cli_json_move (CliJson *j, GString *to);
/* @s as a JSON string literal, quotes included.  g_free(). */
char *cli_json_quote (const char *s);

#endif
