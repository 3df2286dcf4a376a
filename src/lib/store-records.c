/* The suppression database: suppressions (address and domain tables) and
 * soft-bounce counters, in the layouts of doc/store-format.md.  check and
 * filter come through bdb_txn_is_suppressed(), which decodes nothing it
 * does not need. */
#include <string.h>
#include "store-private.h"

/* ---- suppressions ---------------------------------------------------------- */

static Table
table_of (BdbTable t)
{
	return t == BDB_TABLE_DOMAIN ? T_DOMAIN : T_ADDRESS;
}

gboolean
bdb_txn_get_suppression (BdbTxn *txn, BdbTable table, const char *key, BdbSuppression **out,
                         GError **error)
{
	MDB_val v;
	gboolean found;
	*out = NULL;
	if (!store_get (txn, table_of (table), key, strlen (key), &v, &found, error))
		return FALSE;
	if (!found)
		return TRUE;
	*out = store_decode_suppression (key, strlen (key), &v, error);
	return *out != NULL;
}

gboolean
bdb_txn_put_suppression (BdbTxn *txn, BdbTable table, const BdbSuppression *s, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	BdbSuppression stamped = *s;  /* shallow: only encoded */
	if (!store_feed_reserve (txn, &stamped.seq, &stamped.changed_at, error)) {
		bdb_writer_clear (&w);
		return FALSE;
	}
	store_encode_suppression (&w, &stamped);
	gboolean ok = store_put_followed_as (txn, table_of (table), s->key, strlen (s->key), w.buf,
	                                     stamped.seq, stamped.changed_at, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_delete_suppression (BdbTxn *txn, BdbTable table, const char *key, GError **error)
{
	return store_del_followed (txn, table_of (table), key, strlen (key), error);
}

gboolean
bdb_txn_foreach_suppression (BdbTxn *txn, BdbTable table, const char *from,
                             BdbSuppressionFunc fn, gpointer data, GError **error)
{
	Table t = table_of (table);
	if (!txn->store->present[t])
		return TRUE;
	MDB_cursor *c;
	if (!store_check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[t], &c), "cursor", error))
		return FALSE;
	MDB_val k = { from ? strlen (from) : 0, (void *) from }, v;
	int rc = mdb_cursor_get (c, &k, &v, from && *from ? MDB_SET_RANGE : MDB_FIRST);
	gboolean ok = TRUE;
	while (rc == 0) {
		BdbSuppression *s = store_decode_suppression (k.mv_data, k.mv_size, &v, error);
		if (!s) {
			ok = FALSE;
			break;
		}
		gboolean more = fn (s, data);
		bdb_suppression_free (s);
		if (!more)
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	if (ok && rc != 0 && rc != MDB_NOTFOUND)
		ok = store_check (txn, rc, "cursor", error);
	mdb_cursor_close (c);
	return ok;
}

gboolean
bdb_txn_count (BdbTxn *txn, BdbTable table, guint64 *count, GError **error)
{
	Table t = table_of (table);
	*count = 0;
	if (!txn->store->present[t])
		return TRUE;
	MDB_stat st;
	if (!store_check (txn, mdb_stat (txn->txn, txn->store->dbi[t], &st), "stat", error))
		return FALSE;
	*count = st.ms_entries;
	return TRUE;
}

/* Active without decoding the strings: state and expiry are at fixed
 * offsets of layout v1. */
static gboolean
value_active (const MDB_val *v, gint64 now, gboolean *active, GError **error)
{
	const guint8 *p = v->mv_data;
	if (v->mv_size < SUPP_EXPIRES_OFFSET + 8 || p[0] != RECORD_VERSION)
		return store_corrupt (error, "suppression", v->mv_size ? p[0] : 0);
	BdbReader r;
	bdb_reader_init (&r, p + SUPP_EXPIRES_OFFSET, 8);
	gint64 expires = (gint64) bdb_get_u64 (&r);
	*active = p[1] == BDB_STATE_SUPPRESSED && (expires == 0 || expires > now);
	return TRUE;
}

gboolean
bdb_txn_is_suppressed (BdbTxn *txn, const char *address, gint64 now, gboolean *suppressed,
                       BdbSuppression **hit, GError **error)
{
	MDB_val v;
	gboolean found, active = FALSE;
	*suppressed = FALSE;
	if (hit)
		*hit = NULL;
	gsize n = strlen (address);
	if (!store_get (txn, T_ADDRESS, address, n, &v, &found, error))
		return FALSE;
	if (found) {
		if (!value_active (&v, now, &active, error))
			return FALSE;
		if (active) {
			*suppressed = TRUE;
			if (hit)
				*hit = store_decode_suppression (address, n, &v, error);
			return !hit || *hit;
		}
	}
	const char *at = strrchr (address, '@');
	if (!at)
		return TRUE;
	const char *domain = at + 1;
	if (!store_get (txn, T_DOMAIN, domain, strlen (domain), &v, &found, error))
		return FALSE;
	if (!found)
		return TRUE;
	if (!value_active (&v, now, &active, error))
		return FALSE;
	if (active) {
		*suppressed = TRUE;
		if (hit)
			*hit = store_decode_suppression (domain, strlen (domain), &v, error);
		return !hit || *hit;
	}
	return TRUE;
}

/* ---- soft counters ------------------------------------------------------- */

gboolean
bdb_txn_get_soft (BdbTxn *txn, const char *address, BdbSoftCounter *out, gboolean *found,
                  GError **error)
{
	MDB_val v;
	if (!store_get (txn, T_SOFT, address, strlen (address), &v, found, error))
		return FALSE;
	if (!*found)
		return TRUE;
	return store_decode_soft (&v, out, error);
}

gboolean
bdb_txn_put_soft (BdbTxn *txn, const char *address, const BdbSoftCounter *c, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	BdbSoftCounter stamped = *c;
	if (!store_feed_reserve (txn, &stamped.seq, &stamped.changed_at, error)) {
		bdb_writer_clear (&w);
		return FALSE;
	}
	store_encode_soft (&w, &stamped);
	gboolean ok = store_put_followed_as (txn, T_SOFT, address, strlen (address), w.buf,
	                                     stamped.seq, stamped.changed_at, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_clear_soft (BdbTxn *txn, const char *address, guint32 day, GError **error)
{
	BdbSoftCounter c;
	gboolean found;
	if (!bdb_txn_get_soft (txn, address, &c, &found, error))
		return FALSE;
	if (!found || c.cleared_day >= day)
		return TRUE;
	guint k = 0;
	for (guint i = 0; i < c.n_days; i++)
		if (c.days[i] > day)
			c.days[k++] = c.days[i];
	c.n_days = k;
	c.cleared_day = day;
	return bdb_txn_put_soft (txn, address, &c, error);
}

gboolean
bdb_txn_delete_soft (BdbTxn *txn, const char *address, GError **error)
{
	return store_del_followed (txn, T_SOFT, address, strlen (address), error);
}

gboolean
bdb_txn_foreach_soft (BdbTxn *txn, BdbSoftFunc fn, gpointer data, GError **error)
{
	if (!txn->store->present[T_SOFT])
		return TRUE;
	MDB_cursor *c;
	if (!store_check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_SOFT], &c), "cursor", error))
		return FALSE;
	MDB_val k, v;
	gboolean ok = TRUE;
	int rc = mdb_cursor_get (c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		BdbSoftCounter sc;
		if (!store_decode_soft (&v, &sc, error)) {
			ok = FALSE;
			break;
		}
		g_autofree char *addr = g_strndup (k.mv_data, k.mv_size);
		if (!fn (addr, &sc, data))
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return ok;
}

