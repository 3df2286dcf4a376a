/* The bouncedb command line: shared pieces of the subcommands. */
#ifndef BOUNCEDB_CLI_H
#define BOUNCEDB_CLI_H

#include <stdio.h>
#include <sysexits.h>
#include "json.h"
#include <bouncedb/bouncedb.h>

/* What every subcommand gets: the resolved configuration. */
typedef struct {
	const char *command;        /* subcommand name, for messages */
	char *config_path;          /* the config file read, or NULL */
	GKeyFile *config;           /* never NULL (empty when there is no file) */
	BdbSigner *signer;          /* [verify] keys once loaded, or NULL */
	BdbAddressFlags input_flags; /* for addresses given by the user */
} BdbCli;

typedef int (*BdbCommandFunc) (BdbCli *cli, int argc, char **argv);

/* ---- exit.c: the one place an error becomes an exit status ---- */

/* sysexits(3) status for a library error. */
int bdb_exit_code (const GError *error);
/* Print "bouncedb: CMD: 'what': message" to stderr.  @what may be NULL. */
void bdb_cli_error (const BdbCli *cli, const char *what, const GError *error);
void bdb_cli_warn (const BdbCli *cli, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
/* Flush stdout and turn a write error (EPIPE, ENOSPC) into EX_IOERR. */
int bdb_cli_finish (const BdbCli *cli, int status);
/* Parse options with a GOptionContext built from @entries; on error print
 * it with usage and return FALSE.  @summary is the one-line description,
 * @description the text after the options (examples). */
gboolean bdb_cli_parse_options (BdbCli *cli, const char *params, const char *summary,
                                const char *description, GOptionEntry *entries,
                                int *argc, char ***argv);

/* ---- output.c: safe output of attacker-controlled text ---- */

/* A copy of @s fit for a terminal or a text table: control characters,
 * ESC and invalid UTF-8 are shown as \xHH escapes, never passed through. */
char *bdb_cli_safe (const char *s);
/* record-json.c: the members of one record's JSON object (and its
 * verdict's); the caller begins and ends the object.  @file may be NULL. */
void bdb_cli_record_members (BdbJson *b, const BdbRecord *record, const BdbVerdict *verdict,
                             const char *file);

/* ---- config.c; config-mail.c for rules, limits and policy ---- */

/* Load the configuration: --config FILE, else $BOUNCEDB_CONFIG, else
 * $XDG_CONFIG_HOME/bouncedb/bouncedb.conf, else /etc/bouncedb.conf.  A
 * missing default file is not an error; a missing named one is. */
gboolean bdb_cli_load_config (BdbCli *cli, const char *path, GError **error);
/* The classification rules: built-in plus [classify] rules_file. */
BdbRules *bdb_cli_rules (BdbCli *cli, GError **error);
/* Parse limits from [limits] and [parse] keep_headers into @opts; the
 * returned strv (free with g_strfreev) backs opts->keep_headers. */
char **bdb_cli_parse_options_from_config (BdbCli *cli, BdbParseOptions *opts);

/* A size ("64k", "2m") or a count, and a plain number, from the config. */
guint64 bdb_cli_config_size (GKeyFile *kf, const char *group, const char *key, guint64 fallback);
guint bdb_cli_config_uint (GKeyFile *kf, const char *group, const char *key, guint fallback);

/* The database directory: --db, else $BOUNCEDB_DB, else [database] path,
 * else /var/lib/bouncedb for root and $XDG_DATA_HOME/bouncedb otherwise. */
char *bdb_cli_db_dir (BdbCli *cli, const char *option);
/* Open the store at @dir with the [database] settings. */
BdbStore *bdb_cli_open_store (BdbCli *cli, const char *dir, gboolean read_only, GError **error);
/* The signing keys of [verify] key_file (or @path): owned by @cli. */
BdbSigner *bdb_cli_signer (BdbCli *cli, const char *path, GError **error);
/* The policy from [policy], [expiry] and [verify]. */
gboolean bdb_cli_policy (BdbCli *cli, BdbPolicy *policy, GError **error);
/* "30d", "12h", "never"... into seconds (0 = never). */
gboolean bdb_cli_parse_duration (const char *text, gint64 *seconds);
/* The current time, or $BOUNCEDB_NOW (seconds) when set. */
gint64 bdb_cli_now (void);

/* ---- common.c: shared by the query commands ---- */

/* Open the database read-only; on failure print why (naming the
 * directory) and set *@status.  *@dir_out (may be NULL) gets the path. */
BdbStore *bdb_cli_open_for_reading (BdbCli *cli, const char *db_opt, char **dir_out, int *status);
/* A read transaction on @store; on failure print why and set *@status.
 * The caller aborts the transaction (bdb_txn_abort()). */
BdbTxn *bdb_cli_read_txn (BdbCli *cli, BdbStore *store, int *status);
/* ISO 8601 UTC ("2026-11-23T10:00:00Z"), or "-" for 0.  g_free(). */
char *bdb_cli_format_time (gint64 t);
/* A time given by a person: 2026-11-01, an ISO 8601 date and time,
 * @SECONDS, or a duration ("30d") counted from @now in @direction (-1
 * into the past, +1 into the future). */
gboolean bdb_cli_parse_time (const char *text, gint64 now, gint64 direction, gint64 *out);
/* An address typed by a person or read from a list (strict form). */
char *bdb_cli_normalize_input (BdbCli *cli, const char *text, GError **error);
/* The members of a suppression's JSON object. */
void bdb_cli_suppression_members (BdbJson *b, const BdbSuppression *s, BdbTable table);

/* ---- progress.c: a progress bar on a terminal ---- */
typedef struct _BdbProgress BdbProgress;
/* NULL (and every call a no-op) unless stderr is a terminal. */
BdbProgress *bdb_progress_new (const char *label, guint64 total);
void bdb_progress_update (BdbProgress *p, guint64 done);
void bdb_progress_free (BdbProgress *p);

/* ---- subcommands ---- */
int bdb_cmd_parse (BdbCli *cli, int argc, char **argv);
int bdb_cmd_explain (BdbCli *cli, int argc, char **argv);
int bdb_cmd_ingest (BdbCli *cli, int argc, char **argv);
int bdb_cmd_sweep (BdbCli *cli, int argc, char **argv);
int bdb_cmd_check (BdbCli *cli, int argc, char **argv);
int bdb_cmd_show (BdbCli *cli, int argc, char **argv);
int bdb_cmd_filter (BdbCli *cli, int argc, char **argv);
int bdb_cmd_list (BdbCli *cli, int argc, char **argv);
int bdb_cmd_stats (BdbCli *cli, int argc, char **argv);
int bdb_cmd_export (BdbCli *cli, int argc, char **argv);
int bdb_cmd_import (BdbCli *cli, int argc, char **argv);
int bdb_cmd_add (BdbCli *cli, int argc, char **argv);
int bdb_cmd_remove (BdbCli *cli, int argc, char **argv);
int bdb_cmd_prune (BdbCli *cli, int argc, char **argv);
int bdb_cmd_sign (BdbCli *cli, int argc, char **argv);

#endif
