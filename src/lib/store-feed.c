/* The change feed: every change to a suppression, a soft counter or a
 * tally, numbered in commit order (store.h).
 *
 * Why here, under the store's own writes (store_put_followed()), and not
 * where the policy decides: so that every committed change has exactly one entry, whoever
 * makes it (a report, `add`, `import`, `prune`, a replicated change), with
 * no second place to forget.  The writer only says what the changes are
 * for (bdb_txn_set_change()).  LMDB has one writer at a time, so numbers
 * taken inside the transaction are gapless and ordered: an aborted
 * transaction takes its numbers with it.
 *
 * Key: the sequence number, u64 big-endian.  Value (doc/store-format.md):
 * u8 version, i64 time, u8 table, u8 deleted, str change, str disposition,
 * str report_message_id, str campaign, str list_id, u8 has_fingerprint,
 * [32 bytes], str origin, u64 origin_seq, str key, u32 length and the
 * bytes of the new state (the table's own record; empty when deleted).
 */
#include <string.h>
#include "store-private.h"

#define FEED_VERSION 1

static const char *const feed_tables[T_COUNT] = {
	[T_ADDRESS] = "address", [T_DOMAIN] = "domain", [T_SOFT] = "soft", [T_TALLY] = "tally",
};

void
bdb_txn_set_change (BdbTxn *txn, const BdbChangeContext *ctx)
{
	if (ctx)
		txn->change = *ctx;
	else
		memset (&txn->change, 0, sizeof txn->change);
}

/* ---- sequence numbers and cursors, in the meta table ------------------ */

static gboolean
meta_get_u64 (BdbTxn *txn, const char *key, guint64 *out, GError **error)
{
	MDB_val v;
	gboolean found;
	*out = 0;
	if (!store_get (txn, T_META, key, strlen (key), &v, &found, error))
		return FALSE;
	if (found) {
		g_autofree char *text = g_strndup (v.mv_data, v.mv_size);
		*out = g_ascii_strtoull (text, NULL, 10);
	}
	return TRUE;
}

static gboolean
meta_put_u64 (BdbTxn *txn, const char *key, guint64 value, GError **error)
{
	char text[24];
	g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT, value);
	GByteArray buf = { (guint8 *) text, (guint) strlen (text) };
	return store_put (txn, T_META, key, strlen (key), &buf, error);
}

static gboolean
next_seq (BdbTxn *txn, guint64 *seq, GError **error)
{
	if (!txn->feed_seq_known) {
		if (!meta_get_u64 (txn, "feed_seq", &txn->feed_seq, error))
			return FALSE;
		txn->feed_seq_known = TRUE;
	}
	*seq = ++txn->feed_seq;
	return meta_put_u64 (txn, "feed_seq", txn->feed_seq, error);
}

gboolean
bdb_txn_last_change (BdbTxn *txn, guint64 *seq, GError **error)
{
	if (txn->feed_seq_known) {
		*seq = txn->feed_seq;
		return TRUE;
	}
	return meta_get_u64 (txn, "feed_seq", seq, error);
}

#define CURSOR_PREFIX "cursor/"

gboolean
bdb_txn_get_cursor (BdbTxn *txn, const char *name, guint64 *seq, GError **error)
{
	g_autofree char *key = g_strconcat (CURSOR_PREFIX, name, NULL);
	return meta_get_u64 (txn, key, seq, error);
}

gboolean
bdb_txn_set_cursor (BdbTxn *txn, const char *name, guint64 seq, GError **error)
{
	g_autofree char *key = g_strconcat (CURSOR_PREFIX, name, NULL);
	return meta_put_u64 (txn, key, seq, error);
}

gboolean
bdb_txn_foreach_cursor (BdbTxn *txn, BdbCursorFunc fn, gpointer data, GError **error)
{
	if (!txn->store->present[T_META])
		return TRUE;
	MDB_cursor *c;
	if (!store_check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_META], &c), "cursor", error))
		return FALSE;
	gsize plen = strlen (CURSOR_PREFIX);
	MDB_val k = { plen, (void *) CURSOR_PREFIX }, v;
	int rc = mdb_cursor_get (c, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size > plen && memcmp (k.mv_data, CURSOR_PREFIX, plen) == 0) {
		g_autofree char *name = g_strndup ((const char *) k.mv_data + plen, k.mv_size - plen);
		g_autofree char *text = g_strndup (v.mv_data, v.mv_size);
		if (!fn (name, g_ascii_strtoull (text, NULL, 10), data))
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return rc == 0 || rc == MDB_NOTFOUND || store_check (txn, rc, "reading cursors", error);
}

#define STATE_PREFIX "cursor-state/"
#define STATE_VERSION 1

gboolean
bdb_txn_delete_cursor (BdbTxn *txn, const char *name, GError **error)
{
	g_autofree char *key = g_strconcat (CURSOR_PREFIX, name, NULL);
	g_autofree char *state = g_strconcat (STATE_PREFIX, name, NULL);
	return store_del (txn, T_META, key, strlen (key), error) &&
	       store_del (txn, T_META, state, strlen (state), error);
}

void
bdb_cursor_state_clear (BdbCursorState *st)
{
	g_clear_pointer (&st->last_error, g_free);
}

/* meta "cursor-state/NAME": u8 version, u32 failures, u64 failed_seq,
 * i64 last_attempt, i64 last_success, i64 next_attempt, str last_error. */
gboolean
bdb_txn_get_cursor_state (BdbTxn *txn, const char *name, BdbCursorState *out, gboolean *found,
                          GError **error)
{
	g_autofree char *key = g_strconcat (STATE_PREFIX, name, NULL);
	MDB_val v;
	memset (out, 0, sizeof *out);
	if (!store_get (txn, T_META, key, strlen (key), &v, found, error))
		return FALSE;
	if (!*found)
		return TRUE;
	BdbReader r;
	bdb_reader_init (&r, v.mv_data, v.mv_size);
	guint8 version = bdb_get_u8 (&r);
	out->failures = bdb_get_u32 (&r);
	out->failed_seq = bdb_get_u64 (&r);
	out->last_attempt = (gint64) bdb_get_u64 (&r);
	out->last_success = (gint64) bdb_get_u64 (&r);
	out->next_attempt = (gint64) bdb_get_u64 (&r);
	out->last_error = bdb_get_str (&r);
	if (r.bad || version != STATE_VERSION) {
		bdb_cursor_state_clear (out);
		return store_corrupt (error, "cursor state", version);
	}
	return TRUE;
}

gboolean
bdb_txn_set_cursor_state (BdbTxn *txn, const char *name, const BdbCursorState *st, GError **error)
{
	g_autofree char *key = g_strconcat (STATE_PREFIX, name, NULL);
	BdbWriter w;
	bdb_writer_init (&w);
	bdb_put_u8 (&w, STATE_VERSION);
	bdb_put_u32 (&w, st->failures);
	bdb_put_u64 (&w, st->failed_seq);
	bdb_put_u64 (&w, (guint64) st->last_attempt);
	bdb_put_u64 (&w, (guint64) st->last_success);
	bdb_put_u64 (&w, (guint64) st->next_attempt);
	bdb_put_str (&w, st->last_error);
	gboolean ok = store_put (txn, T_META, key, strlen (key), w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

static gboolean
lowest_cursor (const char *name, guint64 seq, gpointer data)
{
	guint64 *low = data;
	*low = MIN (*low, seq);
	return TRUE;
}

gboolean
bdb_txn_prune_feed (BdbTxn *txn, gint64 before, guint64 *removed, GError **error)
{
	guint64 low = G_MAXUINT64;
	return bdb_txn_foreach_cursor (txn, lowest_cursor, &low, error) &&
	       bdb_txn_prune_changes (txn, before, low, removed, error);
}

/* ---- appending -------------------------------------------------------- */

/* Bytes 1 and 2 of a suppression record: its state and kind. */
static gboolean
suppression_head (const guint8 *p, gsize n, guint8 *state, guint8 *kind)
{
	if (n < 3 || p[0] != RECORD_VERSION)
		return FALSE;
	*state = p[1];
	*kind = p[2];
	return TRUE;
}

/* What a change is called, from what the key held before and holds now. */
static const char *
change_name (Table t, const void *key, gsize klen, const MDB_val *old, const GByteArray *value)
{
	if (t == T_SOFT)
		return value ? "soft" : "cleared";
	if (t == T_TALLY) {
		if (!value)
			return "deleted";
		return klen > 7 && memcmp (key, "sender|", 7) == 0 ? "sender" : "tally";
	}
	if (!value)
		return "deleted";
	guint8 state, kind, old_state = 0, old_kind = 0;
	if (!suppression_head (value->data, value->len, &state, &kind))
		return "changed";
	if (state == BDB_STATE_REMOVED)
		return "removed";
	gboolean was = old && suppression_head (old->mv_data, old->mv_size, &old_state, &old_kind) &&
	               old_state == BDB_STATE_SUPPRESSED;
	if (was && old_kind == kind)
		return "confirmed";
	switch ((BdbSuppressionKind) kind) {
	case BDB_SUPPRESSION_HARD:
	case BDB_SUPPRESSION_DOMAIN:
		return "suppressed";
	case BDB_SUPPRESSION_COMPLAINT:
		return "complaint";
	case BDB_SUPPRESSION_INACTIVE:
		return "inactive";
	case BDB_SUPPRESSION_MANUAL:
		return "added";
	case BDB_SUPPRESSION_IMPORTED:
		return "imported";
	}
	return "changed";
}

gboolean
store_feed_reserve (BdbTxn *txn, guint64 *seq, gint64 *time, GError **error)
{
	const BdbChangeContext *ctx = &txn->change;
	*time = ctx->time > 0 ? ctx->time : g_get_real_time () / G_USEC_PER_SEC;
	return next_seq (txn, seq, error);
}

static gboolean
append (BdbTxn *txn, Table t, const void *key, gsize klen, const MDB_val *old,
        const GByteArray *value, guint64 seq, gint64 when, GError **error)
{
	const BdbChangeContext *ctx = &txn->change;
	g_autofree char *keystr = g_strndup (key, klen);

	BdbWriter w;
	bdb_writer_init (&w);
	bdb_put_u8 (&w, FEED_VERSION);
	bdb_put_u64 (&w, (guint64) when);
	bdb_put_u8 (&w, (guint8) t);
	bdb_put_u8 (&w, value ? 0 : 1);
	bdb_put_str (&w, change_name (t, key, klen, old, value));
	bdb_put_str (&w, ctx->disposition);
	bdb_put_str (&w, ctx->report_message_id);
	bdb_put_str (&w, ctx->campaign);
	bdb_put_str (&w, ctx->list_id);
	bdb_put_u8 (&w, ctx->fingerprint ? 1 : 0);
	if (ctx->fingerprint)
		g_byte_array_append (w.buf, ctx->fingerprint, 32);
	bdb_put_str (&w, ctx->origin);
	bdb_put_u64 (&w, ctx->origin_seq);
	bdb_put_str (&w, keystr);
	bdb_put_u32 (&w, value ? value->len : 0);
	if (value)
		g_byte_array_append (w.buf, value->data, value->len);

	guint8 kbuf[8];
	for (int i = 0; i < 8; i++)
		kbuf[i] = (guint8) (seq >> (56 - 8 * i));
	MDB_val k = { sizeof kbuf, kbuf }, v = { w.buf->len, w.buf->data };
	gboolean ok = store_check (txn, mdb_put (txn->txn, txn->store->dbi[T_FEED], &k, &v, MDB_APPEND),
	                           "writing the change feed", error);
	bdb_writer_clear (&w);
	return ok;
}

/* LMDB's pointer to what the key held is good only until the write. */
gboolean
store_put_followed_as (BdbTxn *txn, Table t, const void *key, gsize klen, const GByteArray *value,
                       guint64 seq, gint64 time, GError **error)
{
	MDB_val old;
	gboolean found;
	return store_get (txn, t, key, klen, &old, &found, error) &&
	       append (txn, t, key, klen, found ? &old : NULL, value, seq, time, error) &&
	       store_put (txn, t, key, klen, value, error);
}

gboolean
store_put_followed (BdbTxn *txn, Table t, const void *key, gsize klen, const GByteArray *value,
                    GError **error)
{
	guint64 seq;
	gint64 time;
	return store_feed_reserve (txn, &seq, &time, error) &&
	       store_put_followed_as (txn, t, key, klen, value, seq, time, error);
}

gboolean
store_del_followed (BdbTxn *txn, Table t, const void *key, gsize klen, GError **error)
{
	MDB_val old;
	gboolean found;
	guint64 seq;
	gint64 time;
	if (!store_get (txn, t, key, klen, &old, &found, error))
		return FALSE;
	return !found || (store_feed_reserve (txn, &seq, &time, error) &&
	                  append (txn, t, key, klen, &old, NULL, seq, time, error) &&
	                  store_del (txn, t, key, klen, error));
}

/* ---- reading ---------------------------------------------------------- */

static guint64
key_seq (const MDB_val *k)
{
	guint64 seq = 0;
	const guint8 *p = k->mv_data;
	for (gsize i = 0; i < k->mv_size && i < 8; i++)
		seq = (seq << 8) | p[i];
	return seq;
}

/* Decode one entry and hand it to @fn; FALSE with @error when it cannot
 * be read, *@more FALSE when @fn wants no more. */
static gboolean
deliver (const MDB_val *k, const MDB_val *v, BdbChangeFunc fn, gpointer data, gboolean *more,
         GError **error)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	if (version != FEED_VERSION)
		return store_corrupt (error, "change", version);
	BdbChange c = { 0 };
	c.seq = key_seq (k);
	c.time = (gint64) bdb_get_u64 (&r);
	guint8 table = bdb_get_u8 (&r);
	c.deleted = bdb_get_u8 (&r) != 0;
	g_autofree char *change = bdb_get_str (&r);
	g_autofree char *disposition = bdb_get_str (&r);
	g_autofree char *mid = bdb_get_str (&r);
	g_autofree char *campaign = bdb_get_str (&r);
	g_autofree char *list_id = bdb_get_str (&r);
	c.has_fingerprint = bdb_get_u8 (&r) != 0;
	if (c.has_fingerprint) {
		for (int i = 0; i < 32; i++)
			c.fingerprint[i] = bdb_get_u8 (&r);
	}
	g_autofree char *origin = bdb_get_str (&r);
	c.origin_seq = bdb_get_u64 (&r);
	g_autofree char *key = bdb_get_str (&r);
	guint32 len = bdb_get_u32 (&r);
	if (r.bad || table >= T_COUNT || !feed_tables[table] || !key || (gsize) (r.end - r.p) < len)
		return store_corrupt (error, "change", version);
	c.table = feed_tables[table];
	c.change = change;
	c.key = key;
	c.disposition = disposition;
	c.report_message_id = mid;
	c.campaign = campaign;
	c.list_id = list_id;
	c.origin = origin;
	MDB_val state = { len, (void *) r.p };
	g_autoptr (BdbSuppression) s = NULL;
	BdbSoftCounter soft;
	if (!c.deleted) {
		if (table == T_ADDRESS || table == T_DOMAIN) {
			s = store_decode_suppression (key, strlen (key), &state, error);
			if (!s)
				return FALSE;
			c.suppression = s;
		} else if (table == T_SOFT) {
			if (!store_decode_soft (&state, &soft, error))
				return FALSE;
			c.soft = &soft;
		} else {
			BdbReader t;
			bdb_reader_init (&t, state.mv_data, state.mv_size);
			guint8 tv = bdb_get_u8 (&t);
			c.tally_count = bdb_get_u64 (&t);
			c.tally_last = (gint64) bdb_get_u64 (&t);
			if (t.bad || tv != RECORD_VERSION)
				return store_corrupt (error, "tally", tv);
		}
	}
	*more = fn (&c, data);
	return TRUE;
}

gboolean
bdb_txn_foreach_change (BdbTxn *txn, guint64 after, BdbChangeFunc fn, gpointer data, GError **error)
{
	if (!txn->store->present[T_FEED])
		return TRUE;
	MDB_cursor *c;
	if (!store_check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_FEED], &c), "cursor", error))
		return FALSE;
	guint8 kbuf[8];
	guint64 from = after + 1;
	for (int i = 0; i < 8; i++)
		kbuf[i] = (guint8) (from >> (56 - 8 * i));
	MDB_val k = { sizeof kbuf, kbuf }, v;
	int rc = mdb_cursor_get (c, &k, &v, MDB_SET_RANGE);
	gboolean ok = TRUE, more = TRUE;
	while (rc == 0 && more) {
		if (!(ok = deliver (&k, &v, fn, data, &more, error)))
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	if (ok && rc != 0 && rc != MDB_NOTFOUND)
		ok = store_check (txn, rc, "reading the change feed", error);
	mdb_cursor_close (c);
	return ok;
}

typedef struct {
	gint64 before;
	guint64 keep_after;
} PruneFeed;

static StoreVerdict
change_prunable (const MDB_val *k, const MDB_val *v, gpointer data)
{
	const PruneFeed *p = data;
	if (key_seq (k) > p->keep_after)
		return STORE_STOP;  /* in order: all later ones are kept too */
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	bdb_get_u8 (&r);
	gint64 t = (gint64) bdb_get_u64 (&r);
	/* Numbers grow with time (near enough): the first young one ends it. */
	return r.bad || t < p->before ? STORE_DELETE : STORE_STOP;
}

gboolean
bdb_txn_prune_changes (BdbTxn *txn, gint64 before, guint64 keep_after, guint64 *removed, GError **error)
{
	PruneFeed p = { before, keep_after };
	return store_delete_where (txn, T_FEED, NULL, 0, change_prunable, &p, removed,
	                           "pruning the change feed", error);
}
