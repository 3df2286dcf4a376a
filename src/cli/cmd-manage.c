/* bouncedb add / remove: suppress by hand, or lift a suppression.
 *
 * A removal is remembered (a tombstone with its time), so a bounce report
 * older than the removal, arriving late, cannot bring the address back.
 * Without an '@' the argument is a domain.
 */
#include <string.h>
#include "cli.h"

static char *
normalize_key (Cli *cli, const char *arg, GError **error)
{
	if (strchr (arg, '@'))
		return cli_normalize_input (cli, arg, error);
	g_autofree char *probe = g_strconcat ("x@", arg, NULL);
	g_autofree char *norm = cli_normalize_input (cli, probe, error);
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
run (Cli *cli, Manage *m, int argc, char **argv)
{
	GError *error = NULL;
	m->keys = g_ptr_array_new_with_free_func (g_free);
	for (int i = 1; i < argc; i++) {
		char *key = normalize_key (cli, argv[i], &error);
		if (!key) {
			g_autofree char *safe = cli_safe (argv[i]);
			cli_warn (cli, "'%s' is not a valid address or domain: %s", safe, error->message);
			g_error_free (error);
			g_ptr_array_unref (m->keys);
			return EX_DATAERR;
		}
		g_ptr_array_add (m->keys, key);
	}
	if (!cli_policy (cli, &m->policy, &error)) {
		cli_error (cli, cli->config_path, error);
		g_error_free (error);
		g_ptr_array_unref (m->keys);
		return EX_CONFIG;
	}
	int status = cli_open (cli);
	if (status != EX_OK) {
		/* cli_open() said why */
	} else if (!bdb_store_write (cli->store, apply, m, &error)) {
		status = cli_fail (cli, cli_db_path (cli), &error);
	} else if (m->remove) {
		fprintf (stderr, "bouncedb: remove: %u of %u were suppressed; removal remembered\n",
		         m->changed, m->keys->len);
	}
	g_ptr_array_unref (m->keys);
	return cli_finish (cli, status);
}

int
cmd_add (Cli *cli, int argc, char **argv)
{
	g_autofree char *reason = NULL, *note = NULL, *expires = NULL;
	GOptionEntry entries[] = {
		{ "reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "Why (a reason name, manual, or unsubscribed)", "REASON" },
		{ "note", 'N', 0, G_OPTION_ARG_STRING, &note, "A note kept with the suppression", "TEXT" },
		{ "expires", 'e', 0, G_OPTION_ARG_STRING, &expires, "When it ends (2027-01-01, 90d, @SECONDS; default never)", "T" },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Examples:\n"
	                            "  bouncedb add --reason manual --note 'asked by phone' bob@example.com\n"
	                            "  bouncedb add --reason hostunknown --expires 90d dead-domain.example",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc < 2 || !reason) {
		cli_warn (cli, "give --reason REASON and at least one ADDRESS");
		return EX_USAGE;
	}
	if (!cli_suppression_reason_known (reason)) {
		cli_warn (cli, "unknown reason '%s' (see bouncedb(1) for the list)", reason);
		return EX_USAGE;
	}
	Manage m = { 0 };
	m.reason = reason;
	m.note = note;
	m.now = cli_now ();
	if (expires && !cli_parse_time (expires, m.now, +1, &m.expires)) {
		cli_warn (cli, "bad time '%s'", expires);
		return EX_USAGE;
	}
	return run (cli, &m, argc, argv);
}

int
cmd_remove (Cli *cli, int argc, char **argv)
{
	GOptionEntry entries[] = {
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Reports dated before the removal will not suppress the address again.\n"
	                            "\n"
	                            "Example:\n  bouncedb remove bob@example.com",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc < 2) {
		cli_warn (cli, "give at least one ADDRESS");
		return EX_USAGE;
	}
	Manage m = { 0 };
	m.remove = TRUE;
	m.now = cli_now ();
	return run (cli, &m, argc, argv);
}
