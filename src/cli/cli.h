/* The bouncedb command line: shared pieces of the subcommands. */
#ifndef BOUNCEDB_CLI_H
#define BOUNCEDB_CLI_H

#include <stdio.h>
#include <sysexits.h>
#include "json.h"
#include <bouncedb/bouncedb.h>

typedef struct _Cli Cli;
typedef int (*CliCommandFunc) (Cli *cli, int argc, char **argv);

/* What a command needs from the database: cli_open() opens it so. */
typedef enum {
	CLI_STORE_NONE = 0,
	CLI_STORE_READ,      /* a read-only store and one read transaction */
	CLI_STORE_WRITE,     /* a writable store */
} CliStoreUse;

typedef enum {
	/* Called by an MTA: every local failure is a temporary one (75), or
	 * Postfix would bounce the bounce. */
	CLI_PIPE = 1 << 0,
	/* Reads the configuration itself (config check): main only resolves
	 * which file --config names, into cli->config_path. */
	CLI_OWN_CONFIG = 1 << 1,
} CliCommandFlags;

/* One row of the command table (main.c). */
typedef struct {
	const char *name;
	CliCommandFunc run;
	const char *params;          /* positional arguments, for the usage line */
	const char *summary;
	CliStoreUse store;
	CliCommandFlags flags;
} CliCommand;

/* What every subcommand gets: the resolved configuration, and the
 * database once cli_open() opened it (main closes it). */
struct _Cli {
	const CliCommand *cmd;
	const char *command;        /* cmd->name, for messages */
	char *config_path;          /* the config file read, or NULL */
	GKeyFile *config;           /* never NULL (empty when there is no file) */
	BdbSigner *signer;          /* [verify] keys once loaded, or NULL */
	BdbAddressFlags input_flags; /* for addresses given by the user */
	char *db_option;            /* --db, before or after the command name */
	gboolean force;             /* --force: root may write another user's database */
	char *db_dir;               /* resolved by cli_db_path() */
	BdbStore *store;
	BdbTxn *txn;                /* with CLI_STORE_READ */
	char **campaign_headers;    /* [feed] campaign_headers, once read */
	char **verp_bases;          /* [verify] base, once read (for parsing) */
};

/* ---- errors.c: the one place an error becomes an exit status ---- */

/* sysexits(3) status for a library error. */
int cli_exit_code (const GError *error);
/* Print "bouncedb: CMD: 'what': message" to stderr.  @what may be NULL. */
void cli_error (const Cli *cli, const char *what, const GError *error);
/* cli_error(), then clear *@error and return its exit status (75 for a
 * command an MTA runs). */
int cli_fail (Cli *cli, const char *what, GError **error);
void cli_warn (const Cli *cli, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
/* Flush stdout and turn a write error (EPIPE, ENOSPC) into EX_IOERR. */
int cli_finish (const Cli *cli, int status);

/* ---- options.c: command lines ---- */

/* Parse a command's options: @entries plus the shared --config and (for
 * commands that use the database) --db.  The usage line and summary come
 * from the command table; @description is the text after the options
 * (examples).  A "--" left in argv is removed.  Returns EX_OK, or prints
 * the error with a hint and returns EX_USAGE (75 for a pipe command). */
int cli_parse_options (Cli *cli, const char *description, GOptionEntry *entries,
                       int *argc, char ***argv);
/* Open the database as the command table says: CLI_STORE_READ opens it
 * read-only and starts cli->txn, CLI_STORE_WRITE opens it for writing
 * (creating it).  On failure prints why, naming the directory ("no
 * database", "permission denied") and returns the exit status. */
int cli_open (Cli *cli);
/* Abort cli->txn and close cli->store (main does, after the command). */
void cli_close (Cli *cli);

/* ---- output.c: safe output of attacker-controlled text ---- */

/* A copy of @s fit for a terminal or a text table: control characters,
 * ESC and invalid UTF-8 are shown as \xHH escapes, never passed through. */
char *cli_safe (const char *s);
/* One CSV field of @s (NULL: empty) and its separator (a newline when
 * @last): control characters and invalid bytes escaped as cli_safe()
 * does (a backslash stays one), quoted when it holds a comma or a quote. */
void cli_csv_cell (FILE *out, const char *s, gboolean last);
/* @s, or NULL when it is NULL or empty: what JSON output writes as null
 * (an unknown value is null in every JSON output, never ""). */
const char *cli_or_null (const char *s);
/* record-json.c: the members of one record's JSON object (and its
 * verdict's); the caller begins and ends the object.  @file may be NULL. */
void cli_record_members (CliJson *b, const BdbRecord *record, const BdbVerdict *verdict,
                             const char *file);

/* ---- csv.c: suppressions as CSV (list and export) ---- */

/* The header line, and one suppression: the same columns for both commands. */
void cli_csv_suppression_header (FILE *out);
void cli_csv_suppression (FILE *out, const BdbSuppression *s, BdbTable table);
/* Is @fields (char *) that header? */
gboolean cli_csv_is_suppression_header (GPtrArray *fields);

/* ---- config.c; config-mail.c for rules, limits and policy ---- */

/* Load the configuration: --config FILE, else $BOUNCEDB_CONFIG, else
 * $XDG_CONFIG_HOME/bouncedb/bouncedb.conf, else /etc/bouncedb.conf.  A
 * missing default file is not an error; a missing named one is, and so is
 * every problem cli_config_problems() finds (G_KEY_FILE_ERROR: EX_CONFIG). */
gboolean cli_load_config (Cli *cli, const char *path, GError **error);
/* The configuration file to read when none is named (NULL: none).  g_free(). */
char *cli_default_config_path (void);
/* Read @path into @kf; FALSE with @error when it cannot be read at all.
 * Otherwise *@problems (free with g_ptr_array_unref) holds what is wrong
 * with it, one "line N: ..." message each, and is empty when nothing is. */
gboolean cli_config_read (GKeyFile *kf, const char *path, GPtrArray **problems, GError **error);

/* config-keys.c: the sections and keys bouncedb knows (a table per
 * section).  The problems of @kf, loaded from @text: unknown sections and
 * keys (with a suggestion for a near miss), values of the wrong type, keys
 * set twice, lines that are no key, section or comment (only these when
 * @kf is NULL). */
GPtrArray *cli_config_problems (GKeyFile *kf, const char *text);
/* Every key: "section<TAB>key<TAB>type<TAB>default" per line. */
void cli_config_print_keys (FILE *out);
/* The classification rules: built-in plus [classify] rules_file. */
BdbRules *cli_rules (Cli *cli, GError **error);
/* Parse limits from [limits] and [parse] keep_headers into @opts, and the
 * VERP base from [verify] base; the returned strv (free with g_strfreev)
 * backs opts->keep_headers, @cli the rest. */
char **cli_parse_options_from_config (Cli *cli, BdbParseOptions *opts);

/* A size ("64k", "2m") or a count, and a plain number, from the config. */
guint64 cli_config_size (GKeyFile *kf, const char *group, const char *key, guint64 fallback);
guint cli_config_uint (GKeyFile *kf, const char *group, const char *key, guint fallback);
/* A string from the config, else a copy of @fallback (may be NULL).  g_free(). */
char *cli_config_string (GKeyFile *kf, const char *group, const char *key, const char *fallback);

/* The database directory: --db, else $BOUNCEDB_DB, else [database] path,
 * else /var/lib/bouncedb for root and $XDG_DATA_HOME/bouncedb otherwise.
 * Borrowed from @cli. */
const char *cli_db_path (Cli *cli);
/* Open the store at @dir with the [database] settings. */
BdbStore *cli_open_store (Cli *cli, const char *dir, gboolean read_only, GError **error);
/* The signing keys of [verify] key_file (or @path): owned by @cli. */
BdbSigner *cli_signer (Cli *cli, const char *path, GError **error);
/* The headers that name a returned message's campaign ([feed]
 * campaign_headers; X-Campaign-ID and the like by default).  Owned by @cli. */
const char *const *cli_campaign_headers (Cli *cli);
/* The policy from [policy], [expiry] and [verify]. */
gboolean cli_policy (Cli *cli, BdbPolicy *policy, GError **error);

/* ---- when.c: times and durations ---- */

/* "30d", "12h", "never"... into seconds (0 = never). */
gboolean cli_parse_duration (const char *text, gint64 *seconds);
/* The current time, or $BOUNCEDB_NOW (seconds) when set. */
gint64 cli_now (void);
/* ISO 8601 UTC ("2026-11-23T10:00:00Z"), or "-" for 0.  g_free(). */
char *cli_format_time (gint64 t);
/* A time given by a person: 2026-11-01, an ISO 8601 date and time,
 * @SECONDS, or a duration ("30d") counted from @now in @direction (-1
 * into the past, +1 into the future). */
gboolean cli_parse_time (const char *text, gint64 now, gint64 direction, gint64 *out);

/* ---- query.c: addresses and suppressions of the query commands ---- */

/* A reason a suppression may carry: a classification reason (bouncedb(1),
 * REASONS), or "manual" or "unsubscribed", which add and import give. */
gboolean cli_suppression_reason_known (const char *name);
/* An address typed by a person or read from a list (strict form). */
char *cli_normalize_input (Cli *cli, const char *text, GError **error);
/* The members of a soft counter's JSON object (as export writes them). */
void cli_soft_members (CliJson *b, const char *address, const BdbSoftCounter *c);
/* "seq" and "changed_at": where a suppression or counter stands in this
 * database's change feed (not exported: another database numbers its own). */
void cli_local_members (CliJson *b, guint64 seq, gint64 changed_at);
/* check's answer for one address as a JSON object, the one `check --json`
 * and serve's /v1/check write: the address as @given, the @address looked
 * up, the state and, when there is one, the suppression @hit. */
void cli_check_json (CliJson *b, const char *given, const char *address, gboolean suppressed,
                     const BdbSuppression *hit);
/* The members of a suppression's JSON object. */
void cli_suppression_members (CliJson *b, const BdbSuppression *s, BdbTable table);

/* ---- watch.c: waiting for the next commit of the database ---- */
typedef struct {
	int fd;
} CliWatch;
/* Watch the database in @db_dir; SIGINT and SIGTERM end cli_watch_wait(). */
void cli_watch_init (CliWatch *w, const char *db_dir);
/* Until a commit (or a few seconds); FALSE once a signal asked to stop. */
gboolean cli_watch_wait (CliWatch *w);
/* The same, waiting at most @timeout_ms (a hook's next attempt). */
gboolean cli_watch_wait_ms (CliWatch *w, int timeout_ms);
/* Has a signal asked to stop? */
gboolean cli_watch_stopping (void);
void cli_watch_clear (CliWatch *w);
/* How long a follower waits at most before it looks anyway. */
#define CLI_WATCH_FALLBACK_MS 5000

/* What `show` says about one address or domain (query.c). */
typedef struct {
	const char *key;             /* borrowed */
	gboolean is_domain;
	gboolean suppressed;         /* now, directly or through the domain */
	BdbSuppression *own, *dom;   /* owned; NULL when absent */
	BdbSoftCounter soft;
	gboolean have_soft;
} CliShow;
/* An address, or a domain when @text has no '@', normalised; g_free(). */
char *cli_show_key (BdbAddressFlags flags, const char *text, gboolean *is_domain, GError **error);
/* Look @key up; free with cli_show_clear(). */
gboolean cli_show_load (BdbTxn *txn, const char *key, gboolean is_domain, gint64 now,
                        CliShow *show, GError **error);
void cli_show_clear (CliShow *show);
/* The JSON object of `show --json`.  FALSE when the events could not be
 * read: the object is complete all the same, without them. */
gboolean cli_show_json (CliJson *b, BdbTxn *txn, const CliShow *show, GError **error);

/* ---- progress.c: a progress bar on a terminal ---- */
typedef struct _CliProgress CliProgress;
/* NULL (and every call a no-op) unless stderr is a terminal. */
CliProgress *cli_progress_new (const char *label, guint64 total);
void cli_progress_update (CliProgress *p, guint64 done);
void cli_progress_free (CliProgress *p);
/* Erase the bar before other text goes to stderr, and draw it again after
 * (cli_warn() and cli_error() do). */
void cli_progress_hide (void);
void cli_progress_show (void);

/* ---- hook-config.c: [hooks] ---- */
/* One hook of [hooks] (NAME.command, NAME.dispositions, NAME.changes,
 * NAME.timeout).  Every string owned. */
typedef struct {
	char *name;
	char *cursor;               /* its cursor in the database: "hook/NAME" */
	char *command;              /* run with /bin/sh -c */
	char **dispositions;        /* NULL: every change, whatever it was for */
	char **changes;             /* NULL: every kind of change */
	guint timeout_ms;           /* (60 s) */
} CliHook;

void cli_hook_free (CliHook *h);
/* 1-64 of a-z, 0-9, '-' and '_' (it names a lock file too). */
gboolean cli_hook_name_valid (const char *name);
/* The hooks of [hooks] in the order of the file (CliHook *, owned), or
 * NULL with a G_KEY_FILE_ERROR naming the key that is wrong. */
GPtrArray *cli_hooks (Cli *cli, GError **error);
/* Does @h hear of @c (its filters)? */
gboolean cli_hook_wants (const CliHook *h, const BdbChange *c);

/* ---- spawn.c: running a hook's command ---- */
typedef struct {
	int status;                 /* as waitpid() gives it */
	gboolean timed_out;         /* killed for taking longer than allowed */
	GString *output;            /* the end of its standard error */
} CliRun;
/* Run "/bin/sh -c @command" with @input (@len bytes) on its standard
 * input, our standard output as its own, @env (NULL-terminated name, value, name, value...) added to the
 * environment, killing its process group after @timeout_ms.  FALSE with
 * @error only when it could not be run at all.  cli_run_clear() after. */
gboolean cli_run_command (const char *command, const char *input, gsize len, const char *const *env,
                          guint timeout_ms, CliRun *run, GError **error);
void cli_run_clear (CliRun *run);
/* "exit 3: the last line it wrote", "timed out after 60 s"...  g_free(). */
char *cli_run_describe (const CliRun *run, guint timeout_ms);
/* TRUE when it exited 0 in time. */
gboolean cli_run_ok (const CliRun *run);

/* ---- subcommands ---- */
int cmd_parse (Cli *cli, int argc, char **argv);
int cmd_explain (Cli *cli, int argc, char **argv);
int cmd_ingest (Cli *cli, int argc, char **argv);
int cmd_sweep (Cli *cli, int argc, char **argv);
int cmd_check (Cli *cli, int argc, char **argv);
int cmd_show (Cli *cli, int argc, char **argv);
int cmd_filter (Cli *cli, int argc, char **argv);
int cmd_list (Cli *cli, int argc, char **argv);
int cmd_stats (Cli *cli, int argc, char **argv);
int cmd_export (Cli *cli, int argc, char **argv);
int cmd_import (Cli *cli, int argc, char **argv);
int cmd_add (Cli *cli, int argc, char **argv);
int cmd_remove (Cli *cli, int argc, char **argv);
int cmd_prune (Cli *cli, int argc, char **argv);
int cmd_sign (Cli *cli, int argc, char **argv);
int cmd_events (Cli *cli, int argc, char **argv);
int cmd_apply (Cli *cli, int argc, char **argv);
int cmd_publish (Cli *cli, int argc, char **argv);
int cmd_serve (Cli *cli, int argc, char **argv);
int cmd_hooks (Cli *cli, int argc, char **argv);
int cmd_config (Cli *cli, int argc, char **argv);

/* cmd-events.c: the members of a change's JSON object (events, hooks):
 * @database is the id of the database that numbered it. */
void cli_change_members (CliJson *b, const BdbChange *c, const char *database);

#endif
