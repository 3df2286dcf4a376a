/* bouncedb: the command table.
 *
 * One static table of subcommands; help is generated from it, names are
 * matched exactly, and each subcommand parses its own options.  Global
 * options (--config, --db, --version, --help) come before the subcommand
 * name; --config and --db are accepted after it too.  A row says what the
 * command needs from the database; cli_open() opens it so, and main
 * closes it.
 *
 * This file makes two programs.  `bouncedb` (BDB_CLI_FRONT) runs the
 * query commands itself and links only GLib, LMDB and libidn2: a list
 * manager runs `bouncedb check` per address, and loading GMime with GIO
 * and GPGME would be most of its time.  For the commands that read mail
 * or apply policy, and for filter (a list of mailboxes is GMime's to
 * read; one process per list, its start-up is nothing), it executes
 * `bouncedb-full` (every command, linked with everything) with the same
 * arguments.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

#ifdef BDB_CLI_FRONT
#define FULL(func) NULL  /* run by bouncedb-full */
#else
#define FULL(func) func
#endif

/* name, function, positional arguments, summary, database, flags */
static const CliCommand commands[] = {
	{ "parse", FULL (cmd_parse), "FILE... | -", "Read bounce messages and print one record per recipient.", CLI_STORE_NONE, 0 },
	{ "explain", FULL (cmd_explain), "FILE... | -", "Show, for each recipient, the evidence and the rule that decided its verdict.", CLI_STORE_NONE, 0 },
	{ "ingest", FULL (cmd_ingest), "< MESSAGE", "Store the bounce read from standard input (for MTA pipe delivery).", CLI_STORE_WRITE, CLI_PIPE },
	{ "sweep", FULL (cmd_sweep), "[MAILDIR...]", "Store every bounce of Maildirs and mboxes in the database.", CLI_STORE_WRITE, 0 },
	{ "check", cmd_check, "ADDRESS...", "May these addresses be mailed? (exit 1 if one is suppressed)", CLI_STORE_READ, 0 },
	{ "filter", FULL (cmd_filter), "< LIST", "Keep only the addresses of a list that may be mailed.", CLI_STORE_READ, 0 },
	{ "show", cmd_show, "ADDRESS | DOMAIN", "Show everything known about an address or a domain.", CLI_STORE_READ, 0 },
	{ "list", cmd_list, "", "List suppressions (text, JSON Lines or CSV).", CLI_STORE_READ, 0 },
	{ "stats", cmd_stats, "", "Summarise bounces: reasons, domains, codes, and our own problems.", CLI_STORE_READ, 0 },
	{ "events", cmd_events, "", "Print the change feed: every change, numbered, as it commits (--follow).", CLI_STORE_READ, 0 },
	{ "publish", FULL (cmd_publish), "", "Send this database's own changes to a log (a Redis stream, kcat) for other hosts.", CLI_STORE_WRITE, 0 },
	{ "apply", FULL (cmd_apply), "[FILE | -]", "Merge changes other databases published (events --json, a Redis stream).", CLI_STORE_WRITE, 0 },
	{ "hooks", cmd_hooks, "[run]", "Run the configured hooks for new changes (run), or show how far each has got.", CLI_STORE_READ, 0 },
	{ "export", cmd_export, "", "Export the suppression list (CSV or JSON Lines).", CLI_STORE_READ, 0 },
	{ "import", FULL (cmd_import), "FILE | -", "Merge a suppression list (ours or an ESP's export) into the database.", CLI_STORE_WRITE, 0 },
	{ "add", FULL (cmd_add), "ADDRESS|DOMAIN...", "Suppress addresses (or domains) by hand.", CLI_STORE_WRITE, 0 },
	{ "remove", FULL (cmd_remove), "ADDRESS|DOMAIN...", "Lift suppressions and clear soft counters; remember the removal.", CLI_STORE_WRITE, 0 },
	{ "prune", FULL (cmd_prune), "", "Drop expired suppressions, stale counters, old fingerprints and events.", CLI_STORE_WRITE, 0 },
	{ "serve", FULL (cmd_serve), "", "Answer Postfix (socketmap, policy service) and applications (HTTP/JSON, metrics).", CLI_STORE_READ, 0 },
	{ "sign", cmd_sign, "RECIPIENT...", "Print the signed envelope sender to use for each recipient.", CLI_STORE_NONE, 0 },
	{ "config", FULL (cmd_config), "check [FILE] | keys", "Check a configuration file, or list the keys bouncedb knows.", CLI_STORE_NONE, CLI_OWN_CONFIG },
};

#ifdef BDB_CLI_FRONT
/* Where bouncedb-full is: beside this program (a build tree), in the
 * libexec directory relative to it (an installation, wherever its prefix
 * went), else where it was installed to.  g_free(). */
static char *
full_program (void)
{
	char self[PATH_MAX];
	ssize_t n = readlink ("/proc/self/exe", self, sizeof self - 1);
	if (n > 0) {
		self[n] = '\0';
		g_autofree char *dir = g_path_get_dirname (self);
		char *beside = g_build_filename (dir, "bouncedb-full", NULL);
		if (access (beside, X_OK) == 0)
			return beside;
		g_free (beside);
		char *relative = g_build_filename (dir, "..", BDB_LIBEXECDIR_RELATIVE, "bouncedb-full", NULL);
		if (access (relative, X_OK) == 0)
			return relative;
		g_free (relative);
	}
	return g_build_filename (BDB_LIBEXECDIR, "bouncedb-full", NULL);
}

/* Run @cmd in bouncedb-full with all our arguments; returns only on
 * failure. */
static int
run_full (const CliCommand *cmd, char **argv)
{
	g_autofree char *path = full_program ();
	execv (path, argv);
	fprintf (stderr, "bouncedb: %s: cannot run %s: %s\n", cmd->name, path, g_strerror (errno));
	return cmd->flags & CLI_PIPE ? EX_TEMPFAIL : EX_UNAVAILABLE;
}
#endif

static void
usage (FILE *out)
{
	fprintf (out,
	         "Usage: bouncedb [--config FILE] [--db DIR] COMMAND [OPTIONS] [ARGS]\n"
	         "\n"
	         "Turn a bounce mailbox into a suppression list.\n"
	         "\n"
	         "Commands:\n");
	for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
		fprintf (out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf (out,
	         "\n"
	         "Global options:\n"
	         "  -c, --config FILE  read FILE instead of the default configuration\n"
	         "  -d, --db DIR       the database directory (also accepted after COMMAND)\n"
	         "  -V, --version      print the version and exit\n"
	         "  -h, --help         print this help and exit\n"
	         "\n"
	         "Run 'bouncedb help COMMAND' (or 'bouncedb COMMAND --help') for a command's\n"
	         "options and examples.\n"
	         "Exit codes follow sysexits(3); see bouncedb(1).\n");
}

static const CliCommand *
find_command (const char *name)
{
	for (gsize k = 0; k < G_N_ELEMENTS (commands); k++)
		if (strcmp (commands[k].name, name) == 0)
			return &commands[k];
	return NULL;
}

/* An option with a value, as "-x VALUE", "--long VALUE" or "--long=VALUE":
 * the value, and *@i moved past it; NULL when argv[*@i] is not it. */
static const char *
option_value (int argc, char **argv, int *i, const char *shrt, const char *lng)
{
	const char *a = argv[*i];
	gsize n = strlen (lng);
	if ((strcmp (a, shrt) == 0 || strcmp (a, lng) == 0) && *i + 1 < argc)
		return argv[++*i];
	if (strncmp (a, lng, n) == 0 && a[n] == '=')
		return a + n + 1;
	return NULL;
}

/* --config FILE given after the command name: the configuration is read
 * before the command parses its options, so look for it now (up to "--"). */
static const char *
config_after_command (int argc, char **argv, int first)
{
	const char *found = NULL;
	for (int i = first; i < argc && strcmp (argv[i], "--") != 0; i++) {
		const char *v = option_value (argc, argv, &i, "-c", "--config");
		if (v)
			found = v;
	}
	return found;
}

static int
finish (Cli *cli, int status)
{
	cli_close (cli);
	bdb_signer_free (cli->signer);
	if (cli->config)
		g_key_file_unref (cli->config);
	g_free (cli->config_path);
	g_free (cli->db_option);
	g_free (cli->db_dir);
	g_strfreev (cli->campaign_headers);
	g_strfreev (cli->verp_bases);
	return status;
}

/* Started with standard input, output or error closed (some cron set-ups
 * and daemons do that), the next file opened takes the free number: the
 * database's data file became fd 2, and the next warning was written into
 * it.  So each closed one of 0-2 gets /dev/null first, before anything
 * opens a file; where there is no /dev/null, the root directory, which
 * reads and writes nothing. */
static void
cli_guard_std_fds (void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl (fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* The lowest free number is @fd: the ones below are open. */
		int n = open ("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
		if (n < 0)
			n = open ("/", O_RDONLY | O_DIRECTORY);
		if (n < 0)
			_exit (EX_OSERR);
		if (n != fd) {
			dup2 (n, fd);
			close (n);
		}
	}
}

int
main (int argc, char **argv)
{
	cli_guard_std_fds ();
	/* The character set only: bouncedb speaks English, and its numbers
	 * are read by programs too.  Loading every category of a locale took
	 * a tenth of a `check`. */
	setlocale (LC_CTYPE, "");
	Cli cli = { 0 };
	const char *config_path = NULL, *db = NULL;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v;
		if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0) {
			usage (stdout);
			return cli_finish (&cli, EX_OK);
		} else if (strcmp (a, "-V") == 0 || strcmp (a, "--version") == 0) {
			printf ("bouncedb %s\n", BDB_VERSION_STRING);
			return cli_finish (&cli, EX_OK);
		} else if ((v = option_value (argc, argv, &i, "-c", "--config"))) {
			config_path = v;
		} else if ((v = option_value (argc, argv, &i, "-d", "--db"))) {
			db = v;
		} else {
			fprintf (stderr, "bouncedb: unknown option '%s' before the command; "
			         "see 'bouncedb --help'\n", a);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		usage (stderr);
		return EX_USAGE;
	}
	const char *name = argv[i];
	if (strcmp (name, "help") == 0) {
		if (i + 1 >= argc) {
			usage (stdout);
			return cli_finish (&cli, EX_OK);
		}
		/* "bouncedb help CMD" is "bouncedb CMD --help". */
		if (!find_command (argv[i + 1])) {
			fprintf (stderr, "bouncedb: '%s' is not a command; see 'bouncedb --help'\n", argv[i + 1]);
			return EX_USAGE;
		}
		argv[i] = argv[i + 1];
		argv[i + 1] = (char *) "--help";
		name = argv[i];
	}
	const CliCommand *cmd = find_command (name);
	if (!cmd) {
		fprintf (stderr, "bouncedb: '%s' is not a command; see 'bouncedb --help'\n", name);
		return EX_USAGE;
	}
	cli.cmd = cmd;
	cli.command = cmd->name;
#ifdef BDB_CLI_FRONT
	if (!cmd->run)
		return run_full (cmd, argv);
#endif

	const char *late = config_after_command (argc, argv, i + 1);
	if (late)
		config_path = late;
	cli.db_option = g_strdup (db);
	if (cmd->flags & CLI_OWN_CONFIG) {
		cli.config = g_key_file_new ();
		cli.config_path = g_strdup (config_path);
		return finish (&cli, cmd->run (&cli, argc - i, argv + i));
	}
	GError *error = NULL;
	if (!cli_load_config (&cli, config_path, &error)) {
		cli_error (&cli, cli.config_path ? cli.config_path : config_path, error);
		int code = cmd->flags & CLI_PIPE ? EX_TEMPFAIL
		         : error->domain == BDB_ERROR ? cli_exit_code (error) : EX_CONFIG;
		g_error_free (error);
		return finish (&cli, code);
	}
	return finish (&cli, cmd->run (&cli, argc - i, argv + i));
}
