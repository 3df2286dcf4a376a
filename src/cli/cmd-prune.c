/* bouncedb prune: forget what has served its time.
 *
 * Expired suppressions, remembered removals older than their retention,
 * soft counters whose days all fell out of the window, fingerprints of
 * messages older than any MTA would retry (those of messages a sweep
 * keeps in place only when no sweep has met them for as long), and old
 * events: the decisions are the library's (bdb_policy_prune()), this
 * command reads the retentions and prints what went.  --compact then
 * rewrites the database without its free pages.
 */
#include <string.h>
#include "cli.h"

typedef struct {
	BdbPolicy policy;
	BdbRetention retention;
	gint64 now;
	BdbPruneStats stats;
} Prune;

static gboolean
prune_all (BdbTxn *txn, gpointer data, GError **error)
{
	Prune *p = data;
	return bdb_policy_prune (&p->policy, &p->retention, txn, p->now, &p->stats, error);
}

int
cmd_prune (Cli *cli, int argc, char **argv)
{
	g_autofree char *events = NULL, *seen = NULL, *removals = NULL, *feed = NULL;
	gboolean compact = FALSE, json = FALSE;
	GOptionEntry entries[] = {
		{ "events", 0, 0, G_OPTION_ARG_STRING, &events, "Drop events older than this (default 365d)", "AGE" },
		{ "fingerprints", 0, 0, G_OPTION_ARG_STRING, &seen,
		  "Forget processed messages older than this (default 90d; longer than any MTA retries)", "AGE" },
		{ "removals", 0, 0, G_OPTION_ARG_STRING, &removals, "Forget removals older than this (default 365d)", "AGE" },
		{ "feed", 0, 0, G_OPTION_ARG_STRING, &feed,
		  "Drop changes of the feed older than this that every hook and publisher has taken (default 90d)", "AGE" },
		{ "compact", 0, 0, G_OPTION_ARG_NONE, &compact, "Then rewrite the database compactly", NULL },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print the counts as JSON", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Examples:\n"
	                            "  bouncedb prune              # daily, from cron or a systemd timer\n"
	                            "  bouncedb prune --compact    # now and then: the file shrinks",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	Prune p = { 0 };
	p.now = cli_now ();
	bdb_retention_init (&p.retention);
	GError *error = NULL;
	if ((events && !cli_parse_duration (events, &p.retention.events)) ||
	    (seen && !cli_parse_duration (seen, &p.retention.fingerprints)) ||
	    (removals && !cli_parse_duration (removals, &p.retention.removals)) ||
	    (feed && !cli_parse_duration (feed, &p.retention.feed))) {
		cli_warn (cli, "ages look like 365d, 12w or 90d");
		return EX_USAGE;
	}
	g_autoptr (GPtrArray) hooks = NULL;
	if (!cli_policy (cli, &p.policy, &error) || !(hooks = cli_hooks (cli, &error))) {
		cli_error (cli, cli->config_path, error);
		g_error_free (error);
		return EX_CONFIG;
	}
	/* A configured hook holds the feed back even before its first run
	 * (it has no cursor yet: it has taken nothing). */
	g_autoptr (GPtrArray) holders = g_ptr_array_new ();
	for (guint i = 0; i < hooks->len; i++)
		g_ptr_array_add (holders, ((CliHook *) hooks->pdata[i])->cursor);
	g_ptr_array_add (holders, NULL);
	p.retention.feed_holders = (const char *const *) holders->pdata;
	if ((status = cli_open (cli)) != EX_OK)
		return status;
	BdbStore *store = cli->store;
	const char *db = cli_db_path (cli);
	if (!bdb_store_write (store, prune_all, &p, &error))
		return cli_finish (cli, cli_fail (cli, db, &error));
	/* The pruning is committed whether or not the compaction can run
	 * (it needs the database to itself): report both. */
	gboolean compacted = compact && bdb_store_compact (store, &error);
	const BdbPruneStats *st = &p.stats;
	if (json) {
		printf ("{\"expired\":%" G_GUINT64_FORMAT ",\"removals\":%" G_GUINT64_FORMAT ",\"soft\":%" G_GUINT64_FORMAT
		        ",\"fingerprints\":%" G_GUINT64_FORMAT ",\"events\":%" G_GUINT64_FORMAT ",\"feed\":%" G_GUINT64_FORMAT
		        ",\"compacted\":%s}\n", st->expired, st->removals, st->soft, st->fingerprints, st->events, st->feed,
		        compacted ? "true" : "false");
	} else {
		printf ("pruned %" G_GUINT64_FORMAT " expired suppressions, %" G_GUINT64_FORMAT " old removals, %"
		        G_GUINT64_FORMAT " stale soft counters, %" G_GUINT64_FORMAT " fingerprints, %" G_GUINT64_FORMAT
		        " events, %" G_GUINT64_FORMAT " changes%s\n", st->expired, st->removals, st->soft, st->fingerprints,
		        st->events, st->feed, compacted ? "; compacted" : "");
	}
	if (compact && !compacted) {
		fflush (stdout);
		status = cli_fail (cli, db, &error);
	}
	return cli_finish (cli, status);
}
