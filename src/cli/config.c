/* Configuration: one GKeyFile, read by the CLI only (the library takes
 * plain structs).  bouncedb.conf(5) documents every key. */
#include <string.h>
#include "cli.h"

static char *
default_config_path (void)
{
	const char *env = g_getenv ("BOUNCEDB_CONFIG");
	if (env && *env)
		return g_strdup (env);
	char *user = g_build_filename (g_get_user_config_dir (), "bouncedb", "bouncedb.conf", NULL);
	if (g_file_test (user, G_FILE_TEST_EXISTS))
		return user;
	g_free (user);
	if (g_file_test ("/etc/bouncedb.conf", G_FILE_TEST_EXISTS))
		return g_strdup ("/etc/bouncedb.conf");
	return NULL;
}

gboolean
bdb_cli_load_config (BdbCli *cli, const char *path, GError **error)
{
	cli->config = g_key_file_new ();
	cli->config_path = path ? g_strdup (path) : default_config_path ();
	if (!cli->config_path)
		return TRUE;
	GError *e = NULL;
	if (!g_key_file_load_from_file (cli->config, cli->config_path, G_KEY_FILE_NONE, &e)) {
		if (g_error_matches (e, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_set_error (error, BDB_ERROR, BDB_ERROR_NOT_FOUND, "no such configuration file");
		else if (e->domain == G_FILE_ERROR)
			g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "%s", e->message);
		else
			g_set_error (error, G_KEY_FILE_ERROR, e->code, "%s", e->message);
		g_error_free (e);
		return FALSE;
	}
	return TRUE;
}

BdbRules *
bdb_cli_rules (BdbCli *cli, GError **error)
{
	BdbRules *rules = bdb_rules_new (error);
	if (!rules)
		return NULL;
	g_autofree char *file = g_key_file_get_string (cli->config, "classify", "rules_file", NULL);
	if (file && *file && !bdb_rules_add_file (rules, file, error)) {
		bdb_rules_free (rules);
		return NULL;
	}
	return rules;
}

static guint64
get_size (GKeyFile *kf, const char *group, const char *key, guint64 fallback)
{
	g_autofree char *v = g_key_file_get_string (kf, group, key, NULL);
	if (!v)
		return fallback;
	char *end;
	guint64 n = g_ascii_strtoull (v, &end, 10);
	switch (g_ascii_tolower (*end)) {
	case 'k': n <<= 10; break;
	case 'm': n <<= 20; break;
	case 'g': n <<= 30; break;
	default: break;
	}
	return n ? n : fallback;
}

char **
bdb_cli_parse_options_from_config (BdbCli *cli, BdbParseOptions *opts)
{
	bdb_parse_options_init (opts);
	GKeyFile *kf = cli->config;
	opts->max_message_size = get_size (kf, "limits", "max_message_size", opts->max_message_size);
	opts->max_recipients = (guint) get_size (kf, "limits", "max_recipients", opts->max_recipients);
	opts->max_depth = (guint) get_size (kf, "limits", "max_depth", opts->max_depth);
	opts->max_header_size = get_size (kf, "limits", "max_header_size", opts->max_header_size);
	opts->max_part_size = get_size (kf, "limits", "max_part_size", opts->max_part_size);
	char **keep = g_key_file_get_string_list (kf, "parse", "keep_headers", NULL, NULL);
	opts->keep_headers = (const char *const *) keep;
	return keep;
}
