/* Merging what several databases know, so that they converge.
 *
 * Hosts exchange the states their changes left (the change feed), not
 * instructions; a database takes a state from elsewhere by joining it with
 * its own.  Every join here is commutative, associative and idempotent, so
 * any order of the same states, each any number of times, gives the same
 * database (doc/scale-out.md has the argument):
 *
 * - A suppression (address or domain): the state with the latest evidence
 *   wins whole (last_seen, then count, then the bytes of its evidence, so
 *   that even a tie has one answer); the latest removal is kept beside it
 *   (removed_at, the largest); the entry is suppressed when that evidence
 *   is later than the removal, removed otherwise: a removal is a tombstone
 *   that wins over older evidence, and nothing resurrects it.
 * - A soft counter: the set of days it soft-bounced, merged as a set (a
 *   bounce seen by two hosts counts once), less the days up to the latest
 *   clearing mark; then the usual window and the 64 newest days.
 * - A tally: the larger count and the later time.
 *
 * The local policy makes its changes the same way (every local state is at
 * least the state before it, in the order above), so a state taken from
 * elsewhere and the local evidence meet in one function.
 */
#include <string.h>
#include <bouncedb/error.h>
#include <bouncedb/policy.h>

/* ---- suppressions ------------------------------------------------------- */

static int
cmp_str (const char *a, const char *b)
{
	return strcmp (a ? a : "", b ? b : "");
}

/* A total order on evidence: later, then more reports, then the fields. */
static int
cmp_evidence (const BdbSuppression *a, const BdbSuppression *b)
{
	if (a->last_seen != b->last_seen)
		return a->last_seen < b->last_seen ? -1 : 1;
	if (a->count != b->count)
		return a->count < b->count ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->first_seen != b->first_seen)
		return a->first_seen > b->first_seen ? -1 : 1;  /* the longer history wins */
	if (a->expires != b->expires)
		return a->expires == 0 ? 1 : b->expires == 0 ? -1 : a->expires < b->expires ? -1 : 1;
	const char *const fa[] = { a->reason, a->source, a->status, a->reply_code, a->diagnostic, a->rule,
	                           a->reporting_mta, a->remote_mta, a->report_message_id,
	                           a->original_message_id, a->note };
	const char *const fb[] = { b->reason, b->source, b->status, b->reply_code, b->diagnostic, b->rule,
	                           b->reporting_mta, b->remote_mta, b->report_message_id,
	                           b->original_message_id, b->note };
	for (gsize i = 0; i < G_N_ELEMENTS (fa); i++) {
		int c = cmp_str (fa[i], fb[i]);
		if (c)
			return c;
	}
	return 0;
}

/* @into takes @from's evidence; it keeps its own key and where it stands
 * in this database's feed. */
static void
take_fields (BdbSuppression *into, const BdbSuppression *from)
{
	BdbSuppression *copy = bdb_suppression_copy (from);
	BdbSuppression old = *into;
	*into = *copy;
	*copy = old;  /* freed below, with @into's old strings */
	char *key = into->key;
	into->key = copy->key;
	copy->key = key;
	into->seq = old.seq;
	into->changed_at = old.changed_at;
	bdb_suppression_free (copy);
}

void
bdb_suppression_join (BdbSuppression *into, const BdbSuppression *other)
{
	gint64 removed = MAX (into->removed_at, other->removed_at);
	if (cmp_evidence (other, into) > 0)
		take_fields (into, other);
	into->removed_at = removed;
	into->state = into->last_seen > removed ? BDB_STATE_SUPPRESSED : BDB_STATE_REMOVED;
}

gboolean
bdb_suppression_equal (const BdbSuppression *a, const BdbSuppression *b)
{
	return a->state == b->state && a->removed_at == b->removed_at && cmp_evidence (a, b) == 0 &&
	       cmp_str (a->key, b->key) == 0;
}

/* ---- soft counters ------------------------------------------------------ */

static int
cmp_day (gconstpointer a, gconstpointer b)
{
	guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
	return x < y ? -1 : x > y;
}

void
bdb_soft_join (BdbSoftCounter *into, const BdbSoftCounter *other, guint window_days)
{
	guint32 all[2 * BDB_SOFT_MAX_DAYS];
	guint n = 0;
	for (guint i = 0; i < into->n_days && i < BDB_SOFT_MAX_DAYS; i++)
		all[n++] = into->days[i];
	for (guint i = 0; i < other->n_days && i < BDB_SOFT_MAX_DAYS; i++)
		all[n++] = other->days[i];
	qsort (all, n, sizeof all[0], cmp_day);
	guint32 cleared = MAX (into->cleared_day, other->cleared_day);
	guint32 newest = n ? all[n - 1] : 0;
	guint32 oldest = window_days && newest >= window_days ? newest - window_days + 1 : 0;
	/* The distinct days after the clearing mark, within the window. */
	guint k = 0;
	for (guint i = 0; i < n; i++) {
		if (all[i] <= cleared || all[i] < oldest || (k && all[k - 1] == all[i]))
			continue;
		all[k++] = all[i];
	}
	guint skip = k > BDB_SOFT_MAX_DAYS ? k - BDB_SOFT_MAX_DAYS : 0;
	into->n_days = k - skip;
	memcpy (into->days, all + skip, into->n_days * sizeof all[0]);
	into->cleared_day = cleared;
	if (other->last_seen > into->last_seen ||
	    (other->last_seen == into->last_seen && strcmp (other->last_reason, into->last_reason) > 0))
		g_strlcpy (into->last_reason, other->last_reason, sizeof into->last_reason);
	into->last_seen = MAX (into->last_seen, other->last_seen);
}

/* ---- taking a change from another database ------------------------------ */

static BdbTable
table_named (const char *name)
{
	return strcmp (name, "domain") == 0 ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS;
}

gboolean
bdb_policy_apply_change (const BdbPolicy *policy, BdbTxn *txn, const BdbChange *c, gboolean *changed,
                         GError **error)
{
	*changed = FALSE;
	if (c->deleted)
		return TRUE;  /* pruning is each database's own business */
	BdbChangeContext ctx = {
		.time = c->time, .disposition = c->disposition, .report_message_id = c->report_message_id,
		.campaign = c->campaign, .list_id = c->list_id,
		.fingerprint = c->has_fingerprint ? c->fingerprint : NULL,
		.origin = c->origin, .origin_seq = c->origin_seq,
	};
	if (c->suppression) {
		BdbTable table = table_named (c->table);
		g_autoptr (BdbSuppression) cur = NULL;
		if (!bdb_txn_get_suppression (txn, table, c->key, &cur, error))
			return FALSE;
		g_autoptr (BdbSuppression) out = NULL;
		if (cur) {
			out = bdb_suppression_copy (cur);
			bdb_suppression_join (out, c->suppression);
			if (bdb_suppression_equal (out, cur))
				return TRUE;
		} else {
			out = bdb_suppression_copy (c->suppression);
			g_free (out->key);
			out->key = g_strdup (c->key);
			/* Joined with nothing: the state follows from its own times. */
			out->state = out->last_seen > out->removed_at ? BDB_STATE_SUPPRESSED : BDB_STATE_REMOVED;
		}
		bdb_txn_set_change (txn, &ctx);
		*changed = TRUE;
		gboolean ok = bdb_txn_put_suppression (txn, table, out, error);
		bdb_txn_set_change (txn, NULL);
		return ok;
	}
	if (c->soft) {
		BdbSoftCounter cur;
		gboolean found;
		if (!bdb_txn_get_soft (txn, c->key, &cur, &found, error))
			return FALSE;
		if (!found)
			memset (&cur, 0, sizeof cur);
		BdbSoftCounter out = cur;
		bdb_soft_join (&out, c->soft, policy->soft_window_days);
		if (found && out.n_days == cur.n_days && out.cleared_day == cur.cleared_day &&
		    out.last_seen == cur.last_seen && strcmp (out.last_reason, cur.last_reason) == 0 &&
		    memcmp (out.days, cur.days, out.n_days * sizeof out.days[0]) == 0)
			return TRUE;
		bdb_txn_set_change (txn, &ctx);
		*changed = TRUE;
		gboolean ok = bdb_txn_put_soft (txn, c->key, &out, error);
		bdb_txn_set_change (txn, NULL);
		return ok;
	}
	if (strcmp (c->table, "tally") == 0) {
		guint64 count = 0;
		gint64 last = 0;
		if (!bdb_txn_get_tally (txn, c->key, &count, &last, error))
			return FALSE;
		if (count >= c->tally_count && last >= c->tally_last)
			return TRUE;
		bdb_txn_set_change (txn, &ctx);
		*changed = TRUE;
		gboolean ok = bdb_txn_set_tally (txn, c->key, MAX (count, c->tally_count), MAX (last, c->tally_last),
		                                 error);
		bdb_txn_set_change (txn, NULL);
		return ok;
	}
	g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "change of table '%s' cannot be applied", c->table);
	return FALSE;
}
