/* Changes through a Redis (or Valkey) stream (redis.c). */
#ifndef BOUNCEDB_CLI_REDIS_H
#define BOUNCEDB_CLI_REDIS_H

#include "cli.h"

/* XADD each of @lines (a change's JSON) to @stream as field "event",
 * pipelined; FALSE with @error when any was refused. */
gboolean cli_redis_publish (const char *url, const char *stream, GPtrArray *lines, GError **error);

/* Commit the changes in the batch (and empty it); FALSE with @error. */
typedef gboolean (*CliRedisBatchFunc) (gpointer data, GError **error);
/* Read @stream as @consumer of @group (created when missing), adding each
 * entry's change to @lines and calling @commit per batch; entries are
 * acknowledged after their commit, and at start the consumer's pending
 * ones are read first.  With @follow wait for more; else stop when none
 * is left.  Returns the exit status (after printing any error). */
int cli_redis_apply (Cli *cli, const char *url, const char *stream, const char *group, const char *consumer,
                     gboolean follow, CliRedisBatchFunc commit, GPtrArray *lines, gpointer data);

#endif
