/* bouncedb prune: forget what has served its time.
 *
 * Expired suppressions, remembered removals older than their retention,
 * soft counters whose days all fell out of the window, fingerprints of
 * messages older than any MTA would retry, and old events.  --compact then
 * rewrites the database without its free pages.
 */
#include <string.h>
#include "cli.h"

typedef struct {
	BdbPolicy policy;
	gint64 now, tombstone_before, seen_before, events_before, feed_before;
	guint64 feed;
	guint64 expired, tombstones, soft, seen, events;
	GPtrArray *doomed;   /* keys to delete, per table */
	GPtrArray *hooks;    /* CliHook: they hold the feed back too */
} Prune;

static gboolean
pick_suppression (const BdbSuppression *s, gpointer data)
{
	Prune *p = data;
	if (s->state == BDB_STATE_REMOVED) {
		if (s->removed_at < p->tombstone_before) {
			g_ptr_array_add (p->doomed, g_strdup (s->key));
			p->tombstones++;
		}
	} else if (s->expires && s->expires <= p->now) {
		g_ptr_array_add (p->doomed, g_strdup (s->key));
		p->expired++;
	}
	return TRUE;
}

static gboolean
pick_soft (const char *address, const BdbSoftCounter *c, gpointer data)
{
	Prune *p = data;
	guint32 today = (guint32) (p->now / 86400);
	guint32 newest = c->n_days ? c->days[c->n_days - 1] : 0;
	if (newest + p->policy.soft_window_days <= today) {
		g_ptr_array_add (p->doomed, g_strdup (address));
		p->soft++;
	}
	return TRUE;
}

static gboolean
lowest_cursor (const char *name, guint64 seq, gpointer data)
{
	guint64 *low = data;
	*low = MIN (*low, seq);
	return TRUE;
}

/* Changes after the lowest cursor are kept, and a configured hook that
 * has not run yet (no cursor) keeps them all: it has taken nothing. */
static gboolean
prune_feed (Prune *p, BdbTxn *txn, GError **error)
{
	guint64 low = G_MAXUINT64;
	if (!bdb_txn_foreach_cursor (txn, lowest_cursor, &low, error))
		return FALSE;
	for (guint i = 0; i < p->hooks->len; i++) {
		guint64 seq;
		if (!bdb_txn_get_cursor (txn, ((CliHook *) p->hooks->pdata[i])->cursor, &seq, error))
			return FALSE;
		low = MIN (low, seq);
	}
	return bdb_txn_prune_changes (txn, p->feed_before, low, &p->feed, error);
}

static gboolean
prune_all (BdbTxn *txn, gpointer data, GError **error)
{
	Prune *p = data;
	p->expired = p->tombstones = p->soft = p->seen = p->events = 0;
	const BdbTable tables[] = { BDB_TABLE_ADDRESS, BDB_TABLE_DOMAIN };
	for (gsize t = 0; t < G_N_ELEMENTS (tables); t++) {
		g_ptr_array_set_size (p->doomed, 0);
		if (!bdb_txn_foreach_suppression (txn, tables[t], NULL, pick_suppression, p, error))
			return FALSE;
		for (guint i = 0; i < p->doomed->len; i++)
			if (!bdb_txn_delete_suppression (txn, tables[t], p->doomed->pdata[i], error))
				return FALSE;
	}
	g_ptr_array_set_size (p->doomed, 0);
	if (!bdb_txn_foreach_soft (txn, pick_soft, p, error))
		return FALSE;
	for (guint i = 0; i < p->doomed->len; i++)
		if (!bdb_txn_delete_soft (txn, p->doomed->pdata[i], error))
			return FALSE;
	return bdb_txn_prune_seen (txn, p->seen_before, &p->seen, error) &&
	       bdb_txn_prune_events (txn, p->events_before, &p->events, error) &&
	       prune_feed (p, txn, error);
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
		{ NULL },
	};
	int status = cli_parse_options (cli, "Example (a daily cron job):\n  bouncedb prune && bouncedb prune --compact   # weekly",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	Prune p = { 0 };
	p.now = cli_now ();
	GError *error = NULL;
	gint64 ev = 365 * 86400, se = 90 * 86400, rm = 365 * 86400, fd = 90 * 86400;
	if ((events && !cli_parse_duration (events, &ev)) || (seen && !cli_parse_duration (seen, &se)) ||
	    (removals && !cli_parse_duration (removals, &rm)) || (feed && !cli_parse_duration (feed, &fd))) {
		cli_warn (cli, "ages look like 365d, 12w or 90d");
		return EX_USAGE;
	}
	p.events_before = p.now - ev;
	p.feed_before = p.now - fd;
	p.seen_before = p.now - se;
	p.tombstone_before = p.now - rm;
	if (!cli_policy (cli, &p.policy, &error) || !(p.hooks = cli_hooks (cli, &error))) {
		cli_error (cli, cli->config_path, error);
		g_error_free (error);
		return EX_CONFIG;
	}
	if ((status = cli_open (cli)) != EX_OK) {
		g_ptr_array_unref (p.hooks);
		return status;
	}
	BdbStore *store = cli->store;
	const char *db = cli_db_path (cli);
	p.doomed = g_ptr_array_new_with_free_func (g_free);
	if (!bdb_store_write (store, prune_all, &p, &error)) {
		status = cli_fail (cli, db, &error);
		g_ptr_array_unref (p.doomed);
		g_ptr_array_unref (p.hooks);
		return cli_finish (cli, status);
	}
	/* The pruning is committed whether or not the compaction can run
	 * (it needs the database to itself): report both. */
	gboolean compacted = compact && bdb_store_compact (store, &error);
	if (json) {
		printf ("{\"expired\":%" G_GUINT64_FORMAT ",\"removals\":%" G_GUINT64_FORMAT ",\"soft\":%" G_GUINT64_FORMAT
		        ",\"fingerprints\":%" G_GUINT64_FORMAT ",\"events\":%" G_GUINT64_FORMAT ",\"feed\":%" G_GUINT64_FORMAT ",\"compacted\":%s}\n",
		        p.expired, p.tombstones, p.soft, p.seen, p.events, p.feed, compacted ? "true" : "false");
	} else {
		printf ("pruned %" G_GUINT64_FORMAT " expired suppressions, %" G_GUINT64_FORMAT " old removals, %"
		        G_GUINT64_FORMAT " stale soft counters, %" G_GUINT64_FORMAT " fingerprints, %" G_GUINT64_FORMAT
		        " events, %" G_GUINT64_FORMAT " changes%s\n", p.expired, p.tombstones, p.soft, p.seen, p.events, p.feed, compacted ? "; compacted" : "");
	}
	if (compact && !compacted) {
		fflush (stdout);
		status = cli_fail (cli, db, &error);
	}
	g_ptr_array_unref (p.doomed);
	g_ptr_array_unref (p.hooks);
	return cli_finish (cli, status);
}
