/* bouncedb: the command table.
 *
 * One static table of subcommands; help is generated from it, names are
 * matched exactly, and each subcommand parses its own options.  Global
 * options (--config, --version, --help) come before the subcommand name.
 *
 * This file makes two programs.  `bouncedb` (BDB_CLI_FRONT) runs the
 * query commands itself and links only GLib, LMDB and libidn2: a list
 * manager runs `bouncedb check` per address, and loading GMime with GIO
 * and GPGME would be most of its time.  For the commands that read mail
 * or apply policy it executes `bouncedb-full` (every command, linked with
 * everything) with the same arguments.
 */
#include <errno.h>
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

typedef enum {
	/* Called by an MTA: every failure before the command runs is a
	 * temporary one (75), or Postfix would bounce the bounce. */
	CMD_PIPE = 1 << 0,
} CommandFlags;

typedef struct {
	const char *name;
	BdbCommandFunc run;
	const char *summary;
	CommandFlags flags;
} BdbCommand;

static const BdbCommand commands[] = {
	{ "parse", FULL (bdb_cmd_parse), "read bounce messages and print one record per recipient" , 0 },
	{ "explain", FULL (bdb_cmd_explain), "show the evidence and the rule behind each recipient's verdict" , 0 },
	{ "ingest", FULL (bdb_cmd_ingest), "store one bounce from standard input (MTA pipe delivery)", CMD_PIPE },
	{ "sweep", FULL (bdb_cmd_sweep), "store every bounce of Maildirs and mboxes" , 0 },
	{ "check", bdb_cmd_check, "may these addresses be mailed? (exit 1 if one is suppressed)" , 0 },
	{ "filter", bdb_cmd_filter, "keep only the mailable addresses of a list read from stdin" , 0 },
	{ "show", bdb_cmd_show, "everything known about an address or domain" , 0 },
	{ "list", bdb_cmd_list, "list suppressions (text, JSON Lines or CSV)" , 0 },
	{ "stats", bdb_cmd_stats, "bounces by reason, domain, code; our own problems per domain" , 0 },
	{ "export", bdb_cmd_export, "export the suppression list (CSV or JSON Lines)" , 0 },
	{ "import", FULL (bdb_cmd_import), "merge a suppression list (ours or an ESP's export)" , 0 },
	{ "add", FULL (bdb_cmd_add), "suppress addresses or domains by hand" , 0 },
	{ "remove", FULL (bdb_cmd_remove), "lift suppressions; the removal is remembered" , 0 },
	{ "prune", FULL (bdb_cmd_prune), "drop expired entries, stale counters, old history; --compact" , 0 },
	{ "sign", bdb_cmd_sign, "the signed envelope sender to use for a recipient (forged-bounce protection)" , 0 },
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
run_full (const BdbCommand *cmd, char **argv)
{
	g_autofree char *path = full_program ();
	execv (path, argv);
	fprintf (stderr, "bouncedb: %s: cannot run %s: %s\n", cmd->name, path, g_strerror (errno));
	return cmd->flags & CMD_PIPE ? EX_TEMPFAIL : EX_UNAVAILABLE;
}
#endif

static void
usage (FILE *out)
{
	fprintf (out,
	         "Usage: bouncedb [--config FILE] COMMAND [OPTIONS] [ARGS]\n"
	         "\n"
	         "Turn a bounce mailbox into a suppression list.\n"
	         "\n"
	         "Commands:\n");
	for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
		fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf (out,
	         "\n"
	         "Global options:\n"
	         "  -c, --config FILE  read FILE instead of the default configuration\n"
	         "  -V, --version      print the version and exit\n"
	         "  -h, --help         print this help and exit\n"
	         "\n"
	         "Run 'bouncedb COMMAND --help' for a command's options and examples.\n"
	         "Exit codes follow sysexits(3); see bouncedb(1).\n");
}

int
main (int argc, char **argv)
{
	/* The character set only: bouncedb speaks English, and its numbers
	 * are read by programs too.  Loading every category of a locale took
	 * a tenth of a `check`. */
	setlocale (LC_CTYPE, "");
	BdbCli cli = { 0 };
	const char *config_path = NULL;
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];
		if (strcmp (a, "-h") == 0 || strcmp (a, "--help") == 0) {
			usage (stdout);
			return bdb_cli_finish (&cli, EX_OK);
		} else if (strcmp (a, "-V") == 0 || strcmp (a, "--version") == 0) {
			printf ("bouncedb %s\n", BDB_VERSION_STRING);
			return bdb_cli_finish (&cli, EX_OK);
		} else if ((strcmp (a, "-c") == 0 || strcmp (a, "--config") == 0) && i + 1 < argc) {
			config_path = argv[++i];
		} else if (g_str_has_prefix (a, "--config=")) {
			config_path = a + strlen ("--config=");
		} else {
			fprintf (stderr, "bouncedb: unknown option '%s'\n\n", a);
			usage (stderr);
			return EX_USAGE;
		}
	}
	if (i >= argc) {
		usage (stderr);
		return EX_USAGE;
	}
	const char *name = argv[i];
	const BdbCommand *cmd = NULL;
	for (gsize k = 0; k < G_N_ELEMENTS (commands); k++)
		if (strcmp (commands[k].name, name) == 0)
			cmd = &commands[k];
	if (strcmp (name, "help") == 0) {
		usage (stdout);
		return bdb_cli_finish (&cli, EX_OK);
	}
	if (!cmd) {
		fprintf (stderr, "bouncedb: '%s' is not a command; see 'bouncedb --help'\n", name);
		return EX_USAGE;
	}
	cli.command = cmd->name;
#ifdef BDB_CLI_FRONT
	if (!cmd->run)
		return run_full (cmd, argv);
#endif

	GError *error = NULL;
	if (!bdb_cli_load_config (&cli, config_path, &error)) {
		bdb_cli_error (&cli, cli.config_path ? cli.config_path : config_path, error);
		int code = cmd->flags & CMD_PIPE ? EX_TEMPFAIL
		         : error->domain == BDB_ERROR ? bdb_exit_code (error) : EX_CONFIG;
		g_error_free (error);
		g_key_file_unref (cli.config);
		g_free (cli.config_path);
		return code;
	}
	int status = cmd->run (&cli, argc - i, argv + i);
	bdb_signer_free (cli.signer);
	g_key_file_unref (cli.config);
	g_free (cli.config_path);
	return status;
}
