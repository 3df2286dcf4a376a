/* Reading back suppressions, soft counters and changes from the JSON that
 * export and events write (state-json.c).  For the commands that link
 * json-glib (bouncedb-full). */
#ifndef BOUNCEDB_CLI_STATE_JSON_H
#define BOUNCEDB_CLI_STATE_JSON_H

#include <json-glib/json-glib.h>
#include "cli.h"

/* A suppression from its JSON object; NULL with *@why (g_free) when it
 * cannot be read.  *@table: address or domain, by the key's member. */
BdbSuppression *cli_suppression_from_json (JsonObject *o, BdbTable *table, char **why);
/* A soft counter and its address (g_free). */
gboolean cli_soft_from_json (JsonObject *o, BdbSoftCounter *c, char **address, char **why);

/* A change read from `events --json`, with what it points to. */
typedef struct {
	BdbChange change;
	BdbSuppression *suppression;
	BdbSoftCounter soft;
	char *key;
	char *origin;
	GStringChunk *strings;
} CliChangeRead;

/* Fill @r from one line's object: the change, with its origin set to the
 * database that made it (the line's origin, else its database) and the
 * origin's sequence number.  FALSE with *@why when it cannot be read.
 * Clear with cli_change_read_clear(). */
gboolean cli_change_from_json (JsonObject *o, CliChangeRead *r, char **why);
void cli_change_read_clear (CliChangeRead *r);

#endif
