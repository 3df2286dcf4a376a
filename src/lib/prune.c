/* Forgetting what has served its time: the prune decisions (policy.h).
 *
 * Expired suppressions go (they no longer suppress anything); a
 * remembered removal goes after its retention (a report older than that
 * cannot arrive any more); a soft counter goes once its newest day has
 * left the soft window (a new soft bounce would start it afresh anyway);
 * events go after their retention, and so do the feed's changes once every
 * cursor (hook, publisher) has passed them.  Fingerprints go after their
 * retention too, except those of messages a sweep leaves in place
 * (--processed keep), which can be read again at any time: they go only
 * when no keep sweep has met their message for that long, counted back
 * from the newest keep sweep, so that a pause in sweeping forgets nothing.
 */
#include <string.h>
#include <bouncedb/policy.h>

#define DAY (24 * 60 * 60)
/* Meta key: when the newest sweep that keeps messages ran. */
#define META_KEEP_SWEEP "keep_sweep"

void
bdb_retention_init (BdbRetention *r)
{
	r->events = 365 * (gint64) DAY;
	r->fingerprints = 90 * (gint64) DAY;
	r->removals = 365 * (gint64) DAY;
	r->feed = 90 * (gint64) DAY;
	r->feed_holders = NULL;
}

gboolean
bdb_policy_keep (BdbTxn *txn, const BdbReport *report, gint64 now, GError **error)
{
	return bdb_txn_mark_kept (txn, bdb_report_fingerprint (report), now, error);
}

static gboolean
get_keep_sweep (BdbTxn *txn, gint64 *when, GError **error)
{
	g_autofree char *text = NULL;
	*when = 0;
	if (!bdb_txn_get_meta (txn, META_KEEP_SWEEP, &text, error))
		return FALSE;
	if (text)
		*when = g_ascii_strtoll (text, NULL, 10);
	return TRUE;
}

gboolean
bdb_policy_keep_sweep (BdbTxn *txn, gint64 now, GError **error)
{
	gint64 before;
	if (!get_keep_sweep (txn, &before, error))
		return FALSE;
	if (before >= now)
		return TRUE;
	char text[32];
	g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, now);
	return bdb_txn_put_meta (txn, META_KEEP_SWEEP, text, error);
}

typedef struct {
	gint64 now, removed_before;
	guint32 today, window;
	BdbPruneStats *stats;
	GPtrArray *doomed;         /* keys to delete */
} Prune;

static gboolean
pick_suppression (const BdbSuppression *s, gpointer data)
{
	Prune *p = data;
	if (s->state == BDB_STATE_REMOVED) {
		if (s->removed_at < p->removed_before) {
			g_ptr_array_add (p->doomed, g_strdup (s->key));
			p->stats->removals++;
		}
	} else if (s->expires && s->expires <= p->now) {
		g_ptr_array_add (p->doomed, g_strdup (s->key));
		p->stats->expired++;
	}
	return TRUE;
}

static gboolean
pick_soft (const char *address, const BdbSoftCounter *c, gpointer data)
{
	Prune *p = data;
	/* A counter a success emptied keeps its mark while a late soft
	 * bounce from before the success could still count. */
	guint32 newest = MAX (c->n_days ? c->days[c->n_days - 1] : 0, c->cleared_day);
	if ((gint64) newest + p->window <= p->today) {
		g_ptr_array_add (p->doomed, g_strdup (address));
		p->stats->soft++;
	}
	return TRUE;
}

static gboolean
newest_kept (const guint8 *fingerprint, gint64 when, gboolean kept, gpointer data)
{
	gint64 *newest = data;
	if (kept)
		*newest = MAX (*newest, when);
	return TRUE;
}

static gboolean
lowest_cursor (const char *name, guint64 seq, gpointer data)
{
	guint64 *low = data;
	*low = MIN (*low, seq);
	return TRUE;
}

/* Changes after the lowest cursor are kept, those of the database and
 * the holders the caller names (0 for one that has none yet). */
static gboolean
prune_feed (BdbTxn *txn, const BdbRetention *retention, gint64 now, guint64 *removed, GError **error)
{
	guint64 low = G_MAXUINT64;
	if (!bdb_txn_foreach_cursor (txn, lowest_cursor, &low, error))
		return FALSE;
	for (const char *const *h = retention->feed_holders; h && *h; h++) {
		guint64 seq;
		if (!bdb_txn_get_cursor (txn, *h, &seq, error))
			return FALSE;
		low = MIN (low, seq);
	}
	return bdb_txn_prune_changes (txn, now - retention->feed, low, removed, error);
}

gboolean
bdb_policy_prune (const BdbPolicy *policy, const BdbRetention *retention, BdbTxn *txn,
                  gint64 now, BdbPruneStats *stats, GError **error)
{
	memset (stats, 0, sizeof *stats);
	g_autoptr (GPtrArray) doomed = g_ptr_array_new_with_free_func (g_free);
	Prune p = { now, now - retention->removals, (guint32) (now / DAY),
	            policy->soft_window_days ? policy->soft_window_days : 30, stats, doomed };

	const BdbTable tables[] = { BDB_TABLE_ADDRESS, BDB_TABLE_DOMAIN };
	for (gsize t = 0; t < G_N_ELEMENTS (tables); t++) {
		g_ptr_array_set_size (doomed, 0);
		if (!bdb_txn_foreach_suppression (txn, tables[t], NULL, pick_suppression, &p, error))
			return FALSE;
		for (guint i = 0; i < doomed->len; i++)
			if (!bdb_txn_delete_suppression (txn, tables[t], doomed->pdata[i], error))
				return FALSE;
	}
	g_ptr_array_set_size (doomed, 0);
	if (!bdb_txn_foreach_soft (txn, pick_soft, &p, error))
		return FALSE;
	for (guint i = 0; i < doomed->len; i++)
		if (!bdb_txn_delete_soft (txn, doomed->pdata[i], error))
			return FALSE;

	/* Kept fingerprints are measured from the newest keep sweep. */
	gint64 keep_sweep;
	if (!get_keep_sweep (txn, &keep_sweep, error) ||
	    !bdb_txn_foreach_seen (txn, newest_kept, &keep_sweep, error))
		return FALSE;
	gint64 kept_before = keep_sweep ? MIN (keep_sweep, now) - retention->fingerprints : G_MININT64;
	return bdb_txn_prune_seen (txn, now - retention->fingerprints, kept_before, &stats->fingerprints, error) &&
	       bdb_txn_prune_events (txn, now - retention->events, &stats->events, error) &&
	       prune_feed (txn, retention, now, &stats->feed, error);
}
