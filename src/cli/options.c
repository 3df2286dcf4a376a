/* Command lines and the database a command asked for.
 *
 * Every command parses its options here, so the usage line (from the
 * command table), the shared options (--config, --db), "--" and the
 * messages are the same everywhere; and opens the database through
 * cli_open(), as its row of the table says, so "no database" and
 * "permission denied" read the same in every command.
 */
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

/* The command's entries followed by the shared ones.  g_free(). */
static GOptionEntry *
with_shared_entries (Cli *cli, const GOptionEntry *entries, char **config_ignored)
{
	gsize n = 0;
	while (entries && entries[n].long_name)
		n++;
	GOptionEntry *all = g_new0 (GOptionEntry, n + 4);
	if (n)
		memcpy (all, entries, n * sizeof *all);
	/* main read --config before the configuration was loaded; here it is
	 * only accepted and shown. */
	all[n++] = (GOptionEntry) { "config", 'c', 0, G_OPTION_ARG_FILENAME, config_ignored,
	                            "Read this configuration file (as before the command)", "FILE" };
	if (cli->cmd->store != CLI_STORE_NONE)
		all[n++] = (GOptionEntry) { "db", 'd', 0, G_OPTION_ARG_FILENAME, &cli->db_option,
		                            "Database directory (default: see bouncedb(1), FILES)", "DIR" };
	if (cli->cmd->store == CLI_STORE_WRITE)
		all[n++] = (GOptionEntry) { "force", 0, 0, G_OPTION_ARG_NONE, &cli->force,
		                            "As root, write to a database another user owns", NULL };
	return all;
}

int
cli_parse_options (Cli *cli, const char *description, GOptionEntry *entries, int *argc, char ***argv)
{
	int usage = cli->cmd->flags & CLI_PIPE ? EX_TEMPFAIL : EX_USAGE;
	g_autofree char *config_ignored = NULL;
	g_autofree GOptionEntry *all = with_shared_entries (cli, entries, &config_ignored);
	/* GLib prints "Usage: PRGNAME [OPTION…] PARAMS". */
	g_autofree char *prgname = g_strdup_printf ("bouncedb %s", cli->cmd->name);
	g_set_prgname (prgname);
	GOptionContext *ctx = g_option_context_new (cli->cmd->params);
	g_option_context_set_summary (ctx, cli->cmd->summary);
	if (description)
		g_option_context_set_description (ctx, description);
	g_option_context_add_main_entries (ctx, all, NULL);
	g_option_context_set_help_enabled (ctx, TRUE);
	GError *error = NULL;
	gboolean ok = g_option_context_parse (ctx, argc, argv, &error);
	g_option_context_free (ctx);
	if (!ok) {
		fprintf (stderr, "bouncedb: %s: %s\n", cli->command, error->message);
		fprintf (stderr, "Run 'bouncedb %s --help' for usage.\n", cli->command);
		g_error_free (error);
		return usage;
	}
	/* GLib keeps a "--" when an argument after it starts with '-' (or
	 * options surround it): it still only ends the options. */
	for (int i = 1; i < *argc; i++) {
		if (strcmp ((*argv)[i], "--") == 0) {
			memmove (*argv + i, *argv + i + 1, (gsize) (*argc - i) * sizeof (char *));
			(*argc)--;
			break;
		}
	}
	return EX_OK;
}

/* root writing to a database another user owns would leave files that
 * user cannot open (a compacted data.mdb, lock files, the quarantine), and
 * lock them out of their own database: refuse, unless told.  FALSE with
 * the reason printed. */
static gboolean
owner_may_write (Cli *cli, const char *dir)
{
	struct stat st;
	if (cli->force || geteuid () != 0 || stat (dir, &st) != 0 || st.st_uid == 0)
		return TRUE;
	struct passwd *pw = getpwuid (st.st_uid);
	g_autofree char *owner = pw ? g_strdup (pw->pw_name) : g_strdup_printf ("%u", (unsigned) st.st_uid);
	g_autofree char *safe_dir = cli_safe (dir);
	cli_warn (cli, "'%s': the database belongs to %s, and root would leave files %s cannot open; "
	          "run as %s (runuser -u %s -- bouncedb ...), or give --force", safe_dir, owner, owner,
	          owner, owner);
	return FALSE;
}

int
cli_open (Cli *cli)
{
	if (cli->cmd->store == CLI_STORE_NONE || cli->store)
		return EX_OK;
	const char *dir = cli_db_path (cli);
	gboolean read_only = cli->cmd->store == CLI_STORE_READ;
	if (!read_only && !owner_may_write (cli, dir))
		return cli->cmd->flags & CLI_PIPE ? EX_TEMPFAIL : EX_NOPERM;
	GError *error = NULL;
	cli->store = cli_open_store (cli, dir, read_only, &error);
	if (cli->store && read_only)
		cli->txn = bdb_store_read (cli->store, &error);
	if (error) {
		if (g_error_matches (error, BDB_ERROR, BDB_ERROR_NOT_FOUND))
			cli_warn (cli, "no database in '%s' (run a sweep or ingest first, or give --db DIR)", dir);
		else
			cli_error (cli, dir, error);
		int status = cli->cmd->flags & CLI_PIPE ? EX_TEMPFAIL : cli_exit_code (error);
		g_error_free (error);
		cli_close (cli);
		return status;
	}
	return EX_OK;
}

void
cli_close (Cli *cli)
{
	g_clear_pointer (&cli->txn, bdb_txn_abort);
	g_clear_pointer (&cli->store, bdb_store_close);
}
