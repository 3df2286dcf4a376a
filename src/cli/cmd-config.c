/* bouncedb config: check a configuration file, list the keys bouncedb
 * knows.
 *
 * Every command refuses a configuration with a mistake in it, but says
 * only the first one; `config check` says all of them, and then also
 * loads what the file names (the rules file, the key file) and builds
 * the policy, as the commands that read mail would.  It reads the file
 * itself (the command table's CLI_OWN_CONFIG): a file that main could not
 * load is the one to be checked.
 */
#include <grp.h>
#include <string.h>
#include "cli.h"

static int
check (Cli *cli, const char *path)
{
	g_autofree char *fallback = path ? NULL : cli_default_config_path ();
	if (!path)
		path = fallback;
	if (!path) {
		printf ("no configuration file: every key has its default\n");
		return EX_OK;
	}
	GError *error = NULL;
	g_autoptr (GPtrArray) problems = NULL;
	if (!cli_config_read (cli->config, path, &problems, &error))
		return cli_fail (cli, path, &error);
	g_autofree char *safe = cli_safe (path);
	for (guint i = 0; i < problems->len; i++)
		fprintf (stderr, "bouncedb: config: '%s': %s\n", safe, (char *) problems->pdata[i]);
	if (problems->len)
		return EX_CONFIG;

	/* What the keys name must load too (cli_rules() names the file). */
	if (path != cli->config_path) {
		g_free (cli->config_path);
		cli->config_path = g_strdup (path);
	}
	g_autoptr (BdbRules) rules = cli_rules (cli, &error);
	BdbPolicy policy;
	if (!rules || !cli_policy (cli, &policy, &error))
		return cli_fail (cli, path, &error);
	g_autofree char *key_file = g_key_file_get_string (cli->config, "verify", "key_file", NULL);
	if (key_file && !cli_signer (cli, NULL, &error))
		return cli_fail (cli, path, &error);
	/* What the commands refuse beyond the key table: the hooks' settings
	 * (hooks, prune) and groups that do not exist (every writer: ingest
	 * would exit 75 until the file is fixed; serve would not start). */
	g_autoptr (GPtrArray) hooks = cli_hooks (cli, &error);
	if (!hooks)
		return cli_fail (cli, path, &error);
	static const char *const groups[][2] = { { "database", "group" }, { "serve", "socket_group" } };
	for (gsize i = 0; i < G_N_ELEMENTS (groups); i++) {
		g_autofree char *group = g_key_file_get_string (cli->config, groups[i][0], groups[i][1], NULL);
		if (group && *group && !getgrnam (group)) {
			g_set_error (&error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "[%s] %s: no group '%s'",
			             groups[i][0], groups[i][1], group);
			return cli_fail (cli, path, &error);
		}
	}
	printf ("%s: ok\n", safe);
	return EX_OK;
}

int
cmd_config (Cli *cli, int argc, char **argv)
{
	int status = cli_parse_options (cli, "check [FILE]  Check FILE (default: the configuration bouncedb would read):\n"
	                            "              every section, key and value, then the rules file and the key\n"
	                            "              file it names.  Exit 0 when it is fine, 78 when not.\n"
	                            "keys          List every section and key, with the type of its value and\n"
	                            "              its default (bouncedb.conf(5) explains each).\n"
	                            "\n"
	                            "Examples:\n"
	                            "  bouncedb config check /etc/bouncedb.conf\n"
	                            "  bouncedb config keys",
	                                NULL, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc >= 2 && strcmp (argv[1], "check") == 0 && argc <= 3)
		status = check (cli, argc == 3 ? argv[2] : cli->config_path);
	else if (argc == 2 && strcmp (argv[1], "keys") == 0)
		cli_config_print_keys (stdout);
	else {
		cli_warn (cli, "give 'check [FILE]' or 'keys'");
		return EX_USAGE;
	}
	return cli_finish (cli, status);
}
