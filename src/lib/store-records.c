/* The suppression database: suppressions (address and domain tables) and
 * soft-bounce counters, in the layouts of doc/store-format.md.  check and
 * filter come through bdb_txn_is_suppressed(), which decodes nothing it
 * does not need. */
#include <string.h>
#include "store-private.h"

/* ---- suppressions ---------------------------------------------------------- */

static const char *const kind_names[] = {
	[BDB_SUPPRESSION_HARD] = "hard", [BDB_SUPPRESSION_COMPLAINT] = "complaint",
	[BDB_SUPPRESSION_INACTIVE] = "inactive", [BDB_SUPPRESSION_MANUAL] = "manual",
	[BDB_SUPPRESSION_IMPORTED] = "imported", [BDB_SUPPRESSION_DOMAIN] = "domain",
};

const char *
bdb_suppression_kind_name (BdbSuppressionKind kind)
{
	return (guint) kind < G_N_ELEMENTS (kind_names) && kind_names[kind] ? kind_names[kind] : "unknown";
}

gboolean
bdb_suppression_kind_from_name (const char *name, BdbSuppressionKind *kind)
{
	for (guint i = 1; i < G_N_ELEMENTS (kind_names); i++) {
		if (g_ascii_strcasecmp (name, kind_names[i]) == 0) {
			*kind = (BdbSuppressionKind) i;
			return TRUE;
		}
	}
	return FALSE;
}

BdbSuppression *
bdb_suppression_new (const char *key)
{
	BdbSuppression *s = g_new0 (BdbSuppression, 1);
	s->key = g_strdup (key);
	s->state = BDB_STATE_SUPPRESSED;
	s->kind = BDB_SUPPRESSION_HARD;
	return s;
}

void
bdb_suppression_free (BdbSuppression *s)
{
	if (!s)
		return;
	g_free (s->key);
	g_free (s->reason);
	g_free (s->source);
	g_free (s->status);
	g_free (s->reply_code);
	g_free (s->diagnostic);
	g_free (s->rule);
	g_free (s->reporting_mta);
	g_free (s->remote_mta);
	g_free (s->report_message_id);
	g_free (s->original_message_id);
	g_free (s->note);
	g_free (s);
}

BdbSuppression *
bdb_suppression_copy (const BdbSuppression *s)
{
	BdbSuppression *c = g_new0 (BdbSuppression, 1);
	*c = *s;
	c->key = g_strdup (s->key);
	c->reason = g_strdup (s->reason);
	c->source = g_strdup (s->source);
	c->status = g_strdup (s->status);
	c->reply_code = g_strdup (s->reply_code);
	c->diagnostic = g_strdup (s->diagnostic);
	c->rule = g_strdup (s->rule);
	c->reporting_mta = g_strdup (s->reporting_mta);
	c->remote_mta = g_strdup (s->remote_mta);
	c->report_message_id = g_strdup (s->report_message_id);
	c->original_message_id = g_strdup (s->original_message_id);
	c->note = g_strdup (s->note);
	return c;
}

gboolean
bdb_suppression_active (const BdbSuppression *s, gint64 now)
{
	return s->state == BDB_STATE_SUPPRESSED && (s->expires == 0 || s->expires > now);
}

/* Layout v1 (doc/store-format.md): version, state, kind, 0, first_seen,
 * last_seen, expires, removed_at (i64), count (u32), then strings. */
#define SUPP_EXPIRES_OFFSET (4 + 8 + 8)

static void
encode_suppression (BdbWriter *w, const BdbSuppression *s)
{
	bdb_put_u8 (w, RECORD_VERSION);
	bdb_put_u8 (w, (guint8) s->state);
	bdb_put_u8 (w, (guint8) s->kind);
	bdb_put_u8 (w, 0);
	bdb_put_u64 (w, (guint64) s->first_seen);
	bdb_put_u64 (w, (guint64) s->last_seen);
	bdb_put_u64 (w, (guint64) s->expires);
	bdb_put_u64 (w, (guint64) s->removed_at);
	bdb_put_u32 (w, s->count);
	bdb_put_str (w, s->reason);
	bdb_put_str (w, s->source);
	bdb_put_str (w, s->status);
	bdb_put_str (w, s->reply_code);
	bdb_put_str (w, s->diagnostic);
	bdb_put_str (w, s->rule);
	bdb_put_str (w, s->reporting_mta);
	bdb_put_str (w, s->remote_mta);
	bdb_put_str (w, s->report_message_id);
	bdb_put_str (w, s->original_message_id);
	bdb_put_str (w, s->note);
}

static BdbSuppression *
decode_suppression (const char *key, gsize klen, const MDB_val *v, GError **error)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	if (version != RECORD_VERSION) {
		store_corrupt (error, "suppression", version);
		return NULL;
	}
	BdbSuppression *s = g_new0 (BdbSuppression, 1);
	s->key = g_strndup (key, klen);
	s->state = (BdbState) bdb_get_u8 (&r);
	s->kind = (BdbSuppressionKind) bdb_get_u8 (&r);
	bdb_get_u8 (&r);
	s->first_seen = (gint64) bdb_get_u64 (&r);
	s->last_seen = (gint64) bdb_get_u64 (&r);
	s->expires = (gint64) bdb_get_u64 (&r);
	s->removed_at = (gint64) bdb_get_u64 (&r);
	s->count = bdb_get_u32 (&r);
	s->reason = bdb_get_str (&r);
	s->source = bdb_get_str (&r);
	s->status = bdb_get_str (&r);
	s->reply_code = bdb_get_str (&r);
	s->diagnostic = bdb_get_str (&r);
	s->rule = bdb_get_str (&r);
	s->reporting_mta = bdb_get_str (&r);
	s->remote_mta = bdb_get_str (&r);
	s->report_message_id = bdb_get_str (&r);
	s->original_message_id = bdb_get_str (&r);
	s->note = bdb_get_str (&r);
	if (r.bad) {
		bdb_suppression_free (s);
		store_corrupt (error, "suppression", version);
		return NULL;
	}
	return s;
}

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
	*out = decode_suppression (key, strlen (key), &v, error);
	return *out != NULL;
}

gboolean
bdb_txn_put_suppression (BdbTxn *txn, BdbTable table, const BdbSuppression *s, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	encode_suppression (&w, s);
	gboolean ok = store_put (txn, table_of (table), s->key, strlen (s->key), w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_delete_suppression (BdbTxn *txn, BdbTable table, const char *key, GError **error)
{
	return store_del (txn, table_of (table), key, strlen (key), error);
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
		BdbSuppression *s = decode_suppression (k.mv_data, k.mv_size, &v, error);
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
				*hit = decode_suppression (address, n, &v, error);
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
			*hit = decode_suppression (domain, strlen (domain), &v, error);
		return !hit || *hit;
	}
	return TRUE;
}

/* ---- soft counters ------------------------------------------------------- */

static gboolean
decode_soft (const MDB_val *v, BdbSoftCounter *c, GError **error)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	if (version != RECORD_VERSION)
		return store_corrupt (error, "soft counter", version);
	memset (c, 0, sizeof *c);
	guint8 n_days = bdb_get_u8 (&r);  /* MIN() would read it twice */
	c->n_days = MIN (n_days, BDB_SOFT_MAX_DAYS);
	c->last_seen = (gint64) bdb_get_u64 (&r);
	bdb_get_str_into (&r, c->last_reason, sizeof c->last_reason);
	for (guint i = 0; i < c->n_days; i++)
		c->days[i] = bdb_get_u32 (&r);
	if (r.bad)
		return store_corrupt (error, "soft counter", version);
	return TRUE;
}

gboolean
bdb_txn_get_soft (BdbTxn *txn, const char *address, BdbSoftCounter *out, gboolean *found,
                  GError **error)
{
	MDB_val v;
	if (!store_get (txn, T_SOFT, address, strlen (address), &v, found, error))
		return FALSE;
	if (!*found)
		return TRUE;
	return decode_soft (&v, out, error);
}

gboolean
bdb_txn_put_soft (BdbTxn *txn, const char *address, const BdbSoftCounter *c, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	guint n = MIN (c->n_days, BDB_SOFT_MAX_DAYS);
	bdb_put_u8 (&w, RECORD_VERSION);
	bdb_put_u8 (&w, (guint8) n);
	bdb_put_u64 (&w, (guint64) c->last_seen);
	bdb_put_str (&w, c->last_reason);
	for (guint i = 0; i < n; i++)
		bdb_put_u32 (&w, c->days[i]);
	gboolean ok = store_put (txn, T_SOFT, address, strlen (address), w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_delete_soft (BdbTxn *txn, const char *address, GError **error)
{
	return store_del (txn, T_SOFT, address, strlen (address), error);
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
		if (!decode_soft (&v, &sc, error)) {
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

