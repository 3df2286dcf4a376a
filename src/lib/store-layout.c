/* The byte layouts of the records the store keeps (doc/store-format.md),
 * and the value types they hold: suppressions and soft counters.  Below
 * the tables that store them and the feed that copies them. */
#include <string.h>
#include "store-private.h"

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

void
store_encode_suppression (BdbWriter *w, const BdbSuppression *s)
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
	/* Appended to layout 1: readers that stop at the note ignore them. */
	bdb_put_u64 (w, s->seq);
	bdb_put_u64 (w, (guint64) s->changed_at);
}

BdbSuppression *
store_decode_suppression (const char *key, gsize klen, const MDB_val *v, GError **error)
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
	if (!r.bad && r.p < r.end) {
		s->seq = bdb_get_u64 (&r);
		s->changed_at = (gint64) bdb_get_u64 (&r);
	}
	if (r.bad) {
		bdb_suppression_free (s);
		store_corrupt (error, "suppression", version);
		return NULL;
	}
	return s;
}

/* ---- soft counters ---- */

void
store_encode_soft (BdbWriter *w, const BdbSoftCounter *c)
{
	guint n = MIN (c->n_days, BDB_SOFT_MAX_DAYS);
	bdb_put_u8 (w, RECORD_VERSION);
	bdb_put_u8 (w, (guint8) n);
	bdb_put_u64 (w, (guint64) c->last_seen);
	bdb_put_str (w, c->last_reason);
	for (guint i = 0; i < n; i++)
		bdb_put_u32 (w, c->days[i]);
	bdb_put_u64 (w, c->seq);
	bdb_put_u64 (w, (guint64) c->changed_at);
	bdb_put_u32 (w, c->cleared_day);
}

gboolean
store_decode_soft (const MDB_val *v, BdbSoftCounter *c, GError **error)
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
	if (!r.bad && r.p < r.end) {
		c->seq = bdb_get_u64 (&r);
		c->changed_at = (gint64) bdb_get_u64 (&r);
		if (r.p < r.end)
			c->cleared_day = bdb_get_u32 (&r);
	}
	if (r.bad)
		return store_corrupt (error, "soft counter", version);
	return TRUE;
}

