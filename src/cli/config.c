/* Configuration: one GKeyFile, read by the CLI only (the library takes
 * plain structs).  bouncedb.conf(5) documents every key. */
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

char *
cli_default_config_path (void)
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

/* GKeyFile keeps the blanks at the end of a value: "5 " would not be a
 * number to cli_config_uint(), and the default would apply in silence. */
static void
trim_values (GKeyFile *kf)
{
	g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);
	for (char **g = groups; *g; g++) {
		g_auto (GStrv) keys = g_key_file_get_keys (kf, *g, NULL, NULL);
		for (char **k = keys; k && *k; k++) {
			g_autofree char *v = g_key_file_get_value (kf, *g, *k, NULL);
			if (v && *v && g_ascii_isspace (v[strlen (v) - 1]))
				g_key_file_set_value (kf, *g, *k, g_strchomp (v));
		}
	}
}

gboolean
cli_config_read (GKeyFile *kf, const char *path, GPtrArray **problems, GError **error)
{
	g_autofree char *text = NULL;
	GError *e = NULL;
	*problems = NULL;
	if (!g_file_get_contents (path, &text, NULL, &e)) {
		if (g_error_matches (e, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			g_set_error (error, BDB_ERROR, BDB_ERROR_NOT_FOUND, "no such configuration file");
		else if (g_error_matches (e, G_FILE_ERROR, G_FILE_ERROR_ACCES))
			g_set_error (error, BDB_ERROR, BDB_ERROR_PERMISSION, "%s", e->message);
		else
			g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "%s", e->message);
		g_error_free (e);
		return FALSE;
	}
	if (!g_key_file_load_from_data (kf, text, (gsize) -1, G_KEY_FILE_NONE, &e)) {
		/* GKeyFile does not say where: the scan does. */
		*problems = cli_config_problems (NULL, text);
		if (!(*problems)->len)
			g_ptr_array_add (*problems, g_strdup (e->message));
		g_error_free (e);
		return TRUE;
	}
	trim_values (kf);
	*problems = cli_config_problems (kf, text);
	return TRUE;
}

gboolean
cli_load_config (Cli *cli, const char *path, GError **error)
{
	cli->config = g_key_file_new ();
	cli->config_path = path ? g_strdup (path) : cli_default_config_path ();
	cli->input_flags = BDB_ADDRESS_STRICT;
	if (!cli->config_path)
		return TRUE;
	g_autoptr (GPtrArray) problems = NULL;
	if (!cli_config_read (cli->config, cli->config_path, &problems, error))
		return FALSE;
	if (problems->len) {
		/* A mistake in the configuration is never a default applied in
		 * silence (bouncedb.conf(5)). */
		if (problems->len == 1)
			g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "%s",
			             (char *) problems->pdata[0]);
		else
			g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			             "%s (and %u more: run 'bouncedb config check')", (char *) problems->pdata[0],
			             problems->len - 1);
		return FALSE;
	}
	/* Read once: filter normalises a million lines. */
	if (g_key_file_get_boolean (cli->config, "policy", "keep_local_case", NULL))
		cli->input_flags |= BDB_ADDRESS_KEEP_LOCAL_CASE;
	return TRUE;
}

guint64
cli_config_size (GKeyFile *kf, const char *group, const char *key, guint64 fallback)
{
	g_autofree char *v = g_key_file_get_string (kf, group, key, NULL);
	if (!v)
		return fallback;
	char *end;
	guint64 n = g_ascii_strtoull (v, &end, 10);
	guint shift = 0;
	switch (g_ascii_tolower (*end)) {
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	default: break;
	}
	/* Too large to say is as good as no limit: the largest there is. */
	n = n > (G_MAXUINT64 >> shift) ? G_MAXUINT64 : n << shift;
	return n ? n : fallback;
}

static char *
resolve_db_dir (Cli *cli)
{
	if (cli->db_option && *cli->db_option)
		return g_strdup (cli->db_option);
	const char *env = g_getenv ("BOUNCEDB_DB");
	if (env && *env)
		return g_strdup (env);
	char *conf = g_key_file_get_string (cli->config, "database", "path", NULL);
	if (conf && *conf)
		return conf;
	g_free (conf);
	if (geteuid () == 0)
		return g_strdup ("/var/lib/bouncedb");
	return g_build_filename (g_get_user_data_dir (), "bouncedb", NULL);
}

const char *
cli_db_path (Cli *cli)
{
	if (!cli->db_dir)
		cli->db_dir = resolve_db_dir (cli);
	return cli->db_dir;
}

char *
cli_config_string (GKeyFile *kf, const char *group, const char *key, const char *fallback)
{
	char *v = g_key_file_get_string (kf, group, key, NULL);
	return v ? v : g_strdup (fallback);
}

guint
cli_config_uint (GKeyFile *kf, const char *group, const char *key, guint fallback)
{
	g_autofree char *v = g_key_file_get_string (kf, group, key, NULL);
	if (!v)
		return fallback;
	char *end;
	guint64 n = g_ascii_strtoull (v, &end, 10);
	return *end == '\0' && n <= G_MAXUINT ? (guint) n : fallback;
}

BdbSigner *
cli_signer (Cli *cli, const char *path, GError **error)
{
	if (cli->signer)
		return cli->signer;
	g_autofree char *conf = g_key_file_get_string (cli->config, "verify", "key_file", NULL);
	const char *file = path ? path : conf;
	if (!file) {
		g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
		             "no key file: give --key-file or set [verify] key_file");
		return NULL;
	}
	/* Like ssh with a private key: a key others may read (or a group may
	 * change) signs for whoever reads it, so it is refused.  A group may
	 * read it (0640: the list manager's group runs `sign`). */
	struct stat st;
	if (stat (file, &st) == 0 && (st.st_mode & (S_IRWXO | S_IWGRP))) {
		g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
		             "key file %s: mode %04o lets %s; it must be private "
		             "(chmod 600, or 640 for a group that signs)", file, (unsigned) (st.st_mode & 07777),
		             st.st_mode & S_IRWXO ? "other users read it" : "its group change it");
		return NULL;
	}
	g_autofree char *text = NULL;
	GError *e = NULL;
	if (!g_file_get_contents (file, &text, NULL, &e)) {
		g_set_error (error, BDB_ERROR, g_error_matches (e, G_FILE_ERROR, G_FILE_ERROR_NOENT)
		             ? BDB_ERROR_NOT_FOUND : BDB_ERROR_IO, "key file %s: %s", file, e->message);
		g_error_free (e);
		return NULL;
	}
	cli->signer = bdb_signer_new (text, &e);
	if (!cli->signer) {
		g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE, "key file %s: %s",
		             file, e->message);
		g_error_free (e);
	}
	return cli->signer;
}

BdbStore *
cli_open_store (Cli *cli, const char *dir, gboolean read_only, GError **error)
{
	BdbStoreOptions opts;
	bdb_store_options_init (&opts);
	opts.read_only = read_only;
	GKeyFile *kf = cli->config;
	opts.map_size = cli_config_size (kf, "database", "map_size", opts.map_size);
	opts.map_size_max = cli_config_size (kf, "database", "map_size_max", opts.map_size_max);
	opts.lock_timeout_ms = cli_config_uint (kf, "database", "lock_timeout_ms", opts.lock_timeout_ms);
	/* [database] group: readers in that group (a list manager, serve) may
	 * read; a writable open gives the files to it. */
	g_autofree char *group = g_key_file_get_string (kf, "database", "group", NULL);
	if (group && *group && !read_only) {
		struct group *gr = getgrnam (group);
		if (!gr) {
			g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
			             "[database] group: no group '%s'", group);
			return NULL;
		}
		opts.group = gr->gr_gid;
		opts.dir_mode = 0750;
		opts.file_mode = 0640;
	}
	return bdb_store_open (dir, &opts, error);
}
