/* bouncedb add / remove: suppress by hand, or lift a suppression.
 *
 * A removal is remembered (a tombstone with its time), so a bounce report
 * older than the removal, arriving late, cannot bring the address back.
 * Without an '@' the argument is a domain.
 */
#include <string.h>
#include "cli.h"

static char *
normalize_key (BdbCli *cli, const char *arg, GError **error)
{
	if (strchr (arg, '@'))
		return bdb_cli_normalize_input (cli, arg, error);
	g_autofree char *probe = g_strconcat ("x@", arg, NULL);
	g_autofree char *norm = bdb_cli_normalize_input (cli, probe, error);
	return norm ? g_strdup (bdb_address_domain (norm)) : NULL;
}

typedef struct {
	BdbPolicy policy;
	GPtrArray *keys;
	const char *reason;
	const char *note;
	gint64 expires, now;
	guint changed;
	gboolean remove;
} Manage;

static gboolean
apply (BdbTxn *txn, gpointer data, GError **error)
{
	Manage *m = data;
	m->changed = 0;
	for (guint i = 0; i < m->keys->len; i++) {
		const char *key = m->keys->pdata[i];
		if (m->remove) {
			gboolean was;
			if (!bdb_policy_remove (&m->policy, txn, key, m->now, &was, error))
				return FALSE;
			m->changed += was;
		} else {
			if (!bdb_policy_add (&m->policy, txn, key, m->reason, m->note, m->expires, m->now, error))
				return FALSE;
			m->changed++;
		}
	}
	return TRUE;
}

static int
run (BdbCli *cli, Manage *m, const char *db_opt, int argc, char **argv)
{
	GError *error = NULL;
	m->keys = g_ptr_array_new_with_free_func (g_free);
	for (int i = 1; i < argc; i++) {
		char *key = normalize_key (cli, argv[i], &error);
		if (!key) {
			g_autofree char *safe = bdb_cli_safe (argv[i]);
			bdb_cli_warn (cli, "'%s' is not a valid address or domain: %s", safe, error->message);
			g_error_free (error);
			g_ptr_array_unref (m->keys);
			return EX_DATAERR;
		}
		g_ptr_array_add (m->keys, key);
	}
	int status = EX_OK;
	if (!bdb_cli_policy (cli, &m->policy, &error)) {
		bdb_cli_error (cli, cli->config_path, error);
		g_error_free (error);
		g_ptr_array_unref (m->keys);
		return EX_CONFIG;
	}
	g_autofree char *db = bdb_cli_db_dir (cli, db_opt);
	g_autoptr (BdbStore) store = bdb_cli_open_store (cli, db, FALSE, &error);
	if (!store || !bdb_store_write (store, apply, m, &error)) {
		bdb_cli_error (cli, db, error);
		status = bdb_exit_code (error);
		g_error_free (error);
	} else if (m->remove) {
		fprintf (stderr, "bouncedb: remove: %u of %u were suppressed; removal remembered\n",
		         m->changed, m->keys->len);
	}
	g_ptr_array_unref (m->keys);
	return bdb_cli_finish (cli, status);
}

int
bdb_cmd_add (BdbCli *cli, int argc, char **argv)
{
	g_autofree char *db_opt = NULL, *reason = NULL, *note = NULL, *expires = NULL;
	GOptionEntry entries[] = {
		{ "db", 'd', 0, G_OPTION_ARG_FILENAME, &db_opt, "Database directory", "DIR" },
		{ "reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "Why (a reason name, manual, or unsubscribed)", "REASON" },
		{ "note", 'N', 0, G_OPTION_ARG_STRING, &note, "A note kept with the suppression", "TEXT" },
		{ "expires", 'e', 0, G_OPTION_ARG_STRING, &expires, "When it ends (2027-01-01, 90d, @SECONDS; default never)", "T" },
		{ NULL },
	};
	if (!bdb_cli_parse_options (cli, "ADDRESS|DOMAIN...", "Suppress addresses (or domains) by hand.",
	                            "Examples:\n"
	                            "  bouncedb add --reason manual --note 'asked by phone' bob@example.com\n"
	                            "  bouncedb add --reason hostunknown --expires 90d dead-domain.example",
	                            entries, &argc, &argv))
		return EX_USAGE;
	if (argc < 2 || !reason) {
		bdb_cli_warn (cli, "give --reason REASON and at least one ADDRESS");
		return EX_USAGE;
	}
	BdbReason r;
	if (!bdb_reason_from_name (reason, &r) && strcmp (reason, "manual") != 0 &&
	    strcmp (reason, "unsubscribed") != 0) {
		bdb_cli_warn (cli, "unknown reason '%s' (see bouncedb(1) for the list)", reason);
		return EX_USAGE;
	}
	Manage m = { 0 };
	m.reason = reason;
	m.note = note;
	m.now = bdb_cli_now ();
	if (expires && !bdb_cli_parse_time (expires, m.now, +1, &m.expires)) {
		bdb_cli_warn (cli, "bad time '%s'", expires);
		return EX_USAGE;
	}
	return run (cli, &m, db_opt, argc, argv);
}

int
bdb_cmd_remove (BdbCli *cli, int argc, char **argv)
{
	g_autofree char *db_opt = NULL;
	GOptionEntry entries[] = {
		{ "db", 'd', 0, G_OPTION_ARG_FILENAME, &db_opt, "Database directory", "DIR" },
		{ NULL },
	};
	if (!bdb_cli_parse_options (cli, "ADDRESS|DOMAIN...",
	                            "Lift suppressions and clear soft counters; remember the removal.",
	                            "Reports dated before the removal will not suppress the address again.\n"
	                            "\n"
	                            "Example:\n  bouncedb remove bob@example.com",
	                            entries, &argc, &argv))
		return EX_USAGE;
	if (argc < 2) {
		bdb_cli_warn (cli, "give at least one ADDRESS");
		return EX_USAGE;
	}
	Manage m = { 0 };
	m.remove = TRUE;
	m.now = bdb_cli_now ();
	return run (cli, &m, db_opt, argc, argv);
}
