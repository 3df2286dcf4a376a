/* bouncedb: the command table.
 *
 * One static table of subcommands; help is generated from it, names are
 * matched exactly, and each subcommand parses its own options.  Global
 * options (--config, --version, --help) come before the subcommand name.
 */
#include <locale.h>
#include <string.h>
#include "cli.h"

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
	{ "parse", bdb_cmd_parse, "read bounce messages and print one record per recipient" , 0 },
	{ "explain", bdb_cmd_explain, "show the evidence and the rule behind each recipient's verdict" , 0 },
	{ "ingest", bdb_cmd_ingest, "store one bounce from standard input (MTA pipe delivery)", CMD_PIPE },
	{ "sweep", bdb_cmd_sweep, "store every bounce of Maildirs and mboxes" , 0 },
	{ "check", bdb_cmd_check, "may these addresses be mailed? (exit 1 if one is suppressed)" , 0 },
	{ "filter", bdb_cmd_filter, "keep only the mailable addresses of a list read from stdin" , 0 },
	{ "show", bdb_cmd_show, "everything known about an address or domain" , 0 },
	{ "list", bdb_cmd_list, "list suppressions (text, JSON Lines or CSV)" , 0 },
	{ "stats", bdb_cmd_stats, "bounces by reason, domain, code; our own problems per domain" , 0 },
	{ "export", bdb_cmd_export, "export the suppression list (CSV or JSON Lines)" , 0 },
	{ "import", bdb_cmd_import, "merge a suppression list (ours or an ESP's export)" , 0 },
	{ "add", bdb_cmd_add, "suppress addresses or domains by hand" , 0 },
	{ "remove", bdb_cmd_remove, "lift suppressions; the removal is remembered" , 0 },
	{ "prune", bdb_cmd_prune, "drop expired entries, stale counters, old history; --compact" , 0 },
	{ "sign", bdb_cmd_sign, "the signed envelope sender to use for a recipient (forged-bounce protection)" , 0 },
};

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
	setlocale (LC_ALL, "");
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
