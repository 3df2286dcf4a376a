/* The suppression database: what it remembers besides suppressions.  A
 * short event history per address, the fingerprints of messages already
 * applied (so a retried or re-swept message counts once), tallies keyed
 * by text, and meta.  Pruning deletes through store_delete_where().
 *
 * Every key made here is bounded whatever it is given: an address in an
 * event key is at most STORE_MAX_ADDRESS bytes and a tally name at most
 * STORE_MAX_KEY, longer ones taking the hashed form of
 * store_bounded_name().  One message must not be able to make a key LMDB
 * refuses: that failure repeats on every retry. */
#include <string.h>
#include "store-private.h"

/* ---- events ---------------------------------------------------------------- */

/* The address as the events table holds it: at most STORE_MAX_ADDRESS
 * bytes, which every normalised address is.  g_free(). */
static char *
event_address (const char *address)
{
	return store_bounded_name (address, STORE_MAX_ADDRESS);
}

/* Key: address (bounded), NUL, time (u64 BE), sequence (u32 BE). */
static GByteArray *
event_key (const char *address, gint64 time, guint32 seq)
{
	BdbWriter w;
	bdb_writer_init (&w);
	g_byte_array_append (w.buf, (const guint8 *) address, (guint) strlen (address) + 1);
	bdb_put_u64 (&w, (guint64) time);
	bdb_put_u32 (&w, seq);
	return w.buf;
}

/* An event as decoded: its strings are the store's, freed here. */
static void
event_clear (BdbEvent *e)
{
	g_free ((char *) e->rule);
	g_free ((char *) e->diagnostic);
	g_free ((char *) e->report_message_id);
	memset (e, 0, sizeof *e);
}

static gboolean
decode_event (const MDB_val *v, BdbEvent *e, GError **error)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	if (version != RECORD_VERSION)
		return store_corrupt (error, "event", version);
	memset (e, 0, sizeof *e);
	e->time = (gint64) bdb_get_u64 (&r);
	bdb_get_str_into (&r, e->disposition, sizeof e->disposition);
	bdb_get_str_into (&r, e->reason, sizeof e->reason);
	bdb_get_str_into (&r, e->kind, sizeof e->kind);
	bdb_get_str_into (&r, e->status, sizeof e->status);
	bdb_get_str_into (&r, e->reply_code, sizeof e->reply_code);
	e->rule = bdb_get_str (&r);
	e->diagnostic = bdb_get_str (&r);
	e->report_message_id = bdb_get_str (&r);
	if (r.bad) {
		event_clear (e);
		return store_corrupt (error, "event", version);
	}
	return TRUE;
}

/* Cursor positioned on the first event of @address (key prefix). */
static int
first_event (MDB_cursor *c, const char *address, MDB_val *k, MDB_val *v)
{
	gsize n = strlen (address) + 1;
	k->mv_size = n;
	k->mv_data = (void *) address;
	int rc = mdb_cursor_get (c, k, v, MDB_SET_RANGE);
	if (rc == 0 && (k->mv_size < n || memcmp (k->mv_data, address, n) != 0))
		rc = MDB_NOTFOUND;
	return rc;
}

static StoreVerdict
count_entry (const MDB_val *k, const MDB_val *v, gpointer data)
{
	(*(guint64 *) data)++;
	return STORE_KEEP;
}

static StoreVerdict
delete_first (const MDB_val *k, const MDB_val *v, gpointer data)
{
	guint64 *left = data;
	if (*left == 0)
		return STORE_STOP;
	(*left)--;
	return STORE_DELETE;
}

gboolean
bdb_txn_add_event (BdbTxn *txn, const char *address_in, const BdbEvent *e, guint keep, GError **error)
{
	g_autofree char *address = event_address (address_in);
	BdbWriter w;
	bdb_writer_init (&w);
	bdb_put_u8 (&w, RECORD_VERSION);
	bdb_put_u64 (&w, (guint64) e->time);
	bdb_put_str (&w, e->disposition);
	bdb_put_str (&w, e->reason);
	bdb_put_str (&w, e->kind);
	bdb_put_str (&w, e->status);
	bdb_put_str (&w, e->reply_code);
	bdb_put_str (&w, e->rule);
	if (e->diagnostic && strlen (e->diagnostic) > 512) {
		/* Keep the start of a long diagnostic, on a UTF-8 boundary. */
		gsize n = 512;
		while (n > 0 && ((guchar) e->diagnostic[n] & 0xC0) == 0x80)
			n--;
		g_autofree char *cut = g_strndup (e->diagnostic, n);
		bdb_put_str (&w, cut);
	} else {
		bdb_put_str (&w, e->diagnostic);
	}
	bdb_put_str (&w, e->report_message_id);

	gboolean ok = FALSE;
	for (guint attempt = 0; attempt < 1000; attempt++) {
		GByteArray *key = event_key (address, e->time, txn->event_seq++);
		MDB_val k = { key->len, key->data }, v = { w.buf->len, w.buf->data };
		int rc = mdb_put (txn->txn, txn->store->dbi[T_EVENTS], &k, &v, MDB_NOOVERWRITE);
		g_byte_array_unref (key);
		if (rc == MDB_KEYEXIST)
			continue;
		ok = store_check (txn, rc, "write failed", error);
		break;
	}
	bdb_writer_clear (&w);
	if (!ok || keep == 0)
		return ok;

	/* Keep only the newest @keep events of this address: count them,
	 * then delete the oldest ones. */
	gsize plen = strlen (address) + 1;
	guint64 n = 0;
	if (!store_delete_where (txn, T_EVENTS, address, plen, count_entry, &n, NULL, "counting events", error))
		return FALSE;
	guint64 doomed = n > keep ? n - keep : 0;
	return doomed == 0 ||
	       store_delete_where (txn, T_EVENTS, address, plen, delete_first, &doomed, NULL, "pruning events", error);
}

gboolean
bdb_txn_foreach_event (BdbTxn *txn, const char *address_in, BdbEventFunc fn, gpointer data,
                       GError **error)
{
	if (!txn->store->present[T_EVENTS])
		return TRUE;
	g_autofree char *address = address_in ? event_address (address_in) : NULL;
	MDB_cursor *c;
	if (!store_check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_EVENTS], &c), "cursor", error))
		return FALSE;
	MDB_val k, v;
	int rc = address ? first_event (c, address, &k, &v) : mdb_cursor_get (c, &k, &v, MDB_FIRST);
	gsize plen = address ? strlen (address) + 1 : 0;
	gboolean ok = TRUE;
	while (rc == 0) {
		if (address && (k.mv_size < plen || memcmp (k.mv_data, address, plen) != 0))
			break;
		const char *nul = memchr (k.mv_data, '\0', k.mv_size);
		if (!nul) {
			ok = store_corrupt (error, "event key", RECORD_VERSION);
			break;
		}
		BdbEvent e;
		if (!decode_event (&v, &e, error)) {
			ok = FALSE;
			break;
		}
		gboolean more = fn (k.mv_data, &e, data);
		event_clear (&e);
		if (!more)
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return ok;
}

static StoreVerdict
event_before (const MDB_val *k, const MDB_val *v, gpointer data)
{
	const gint64 *before = data;
	const char *nul = memchr (k->mv_data, '\0', k->mv_size);
	if (!nul || (gsize) (nul - (const char *) k->mv_data) + 1 + 8 > k->mv_size)
		return STORE_KEEP;
	BdbReader r;
	bdb_reader_init (&r, nul + 1, 8);
	return (gint64) bdb_get_u64 (&r) < *before ? STORE_DELETE : STORE_KEEP;
}

gboolean
bdb_txn_prune_events (BdbTxn *txn, gint64 before, guint64 *removed, GError **error)
{
	return store_delete_where (txn, T_EVENTS, NULL, 0, event_before, &before, removed, "pruning events", error);
}

static StoreVerdict
delete_all (const MDB_val *k, const MDB_val *v, gpointer data)
{
	return STORE_DELETE;
}

gboolean
bdb_txn_delete_events (BdbTxn *txn, const char *address_in, GError **error)
{
	g_autofree char *address = event_address (address_in);
	return store_delete_where (txn, T_EVENTS, address, strlen (address) + 1, delete_all, NULL, NULL,
	                           "deleting events", error);
}

/* ---- processed messages ---------------------------------------------------- */

/* Value v1: version, when (i64), then a flags byte (SEEN_KEPT), which
 * records written before it was added lack. */
#define SEEN_KEPT 0x01

gboolean
bdb_txn_seen (BdbTxn *txn, const guint8 fingerprint[32], gboolean *seen, GError **error)
{
	MDB_val v;
	return store_get (txn, T_SEEN, fingerprint, 32, &v, seen, error);
}

static gboolean
put_seen (BdbTxn *txn, const guint8 fingerprint[32], gint64 when, guint8 flags, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	bdb_put_u8 (&w, RECORD_VERSION);
	bdb_put_u64 (&w, (guint64) when);
	bdb_put_u8 (&w, flags);
	gboolean ok = store_put (txn, T_SEEN, fingerprint, 32, w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_mark_seen (BdbTxn *txn, const guint8 fingerprint[32], gint64 when, GError **error)
{
	return put_seen (txn, fingerprint, when, 0, error);
}

gboolean
bdb_txn_mark_kept (BdbTxn *txn, const guint8 fingerprint[32], gint64 when, GError **error)
{
	return put_seen (txn, fingerprint, when, SEEN_KEPT, error);
}

/* FALSE when @v is not a seen record. */
static gboolean
decode_seen (const MDB_val *v, gint64 *when, gboolean *kept)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	*when = (gint64) bdb_get_u64 (&r);
	*kept = v->mv_size > 9 && (bdb_get_u8 (&r) & SEEN_KEPT);
	return !r.bad && version == RECORD_VERSION;
}

typedef struct {
	BdbSeenFunc fn;
	gpointer data;
	gboolean corrupt;
} SeenWalk;

static StoreVerdict
walk_seen (const MDB_val *k, const MDB_val *v, gpointer data)
{
	SeenWalk *w = data;
	gint64 when;
	gboolean kept;
	if (k->mv_size != 32 || !decode_seen (v, &when, &kept)) {
		w->corrupt = TRUE;
		return STORE_STOP;
	}
	return w->fn (k->mv_data, when, kept, w->data) ? STORE_KEEP : STORE_STOP;
}

gboolean
bdb_txn_foreach_seen (BdbTxn *txn, BdbSeenFunc fn, gpointer data, GError **error)
{
	SeenWalk w = { fn, data, FALSE };
	if (!store_delete_where (txn, T_SEEN, NULL, 0, walk_seen, &w, NULL, "reading fingerprints", error))
		return FALSE;
	return !w.corrupt || store_corrupt (error, "fingerprint", RECORD_VERSION);
}

typedef struct {
	gint64 before, kept_before;
} SeenCut;

static StoreVerdict
seen_before (const MDB_val *k, const MDB_val *v, gpointer data)
{
	const SeenCut *cut = data;
	gint64 when;
	gboolean kept;
	if (!decode_seen (v, &when, &kept))
		return STORE_KEEP;
	return when < (kept ? cut->kept_before : cut->before) ? STORE_DELETE : STORE_KEEP;
}

gboolean
bdb_txn_prune_seen (BdbTxn *txn, gint64 before, gint64 kept_before, guint64 *removed,
                    GError **error)
{
	SeenCut cut = { before, kept_before };
	return store_delete_where (txn, T_SEEN, NULL, 0, seen_before, &cut, removed,
	                           "pruning fingerprints", error);
}

/* ---- meta ------------------------------------------------------------------- */

gboolean
bdb_txn_get_meta (BdbTxn *txn, const char *key, char **value, GError **error)
{
	MDB_val v;
	gboolean found;
	*value = NULL;
	if (!store_get (txn, T_META, key, strlen (key), &v, &found, error))
		return FALSE;
	if (found)
		*value = g_strndup (v.mv_data, v.mv_size);
	return TRUE;
}

gboolean
bdb_txn_put_meta (BdbTxn *txn, const char *key, const char *value, GError **error)
{
	GByteArray *buf = g_byte_array_new ();
	g_byte_array_append (buf, (const guint8 *) value, (guint) strlen (value));
	gboolean ok = store_put (txn, T_META, key, strlen (key), buf, error);
	g_byte_array_unref (buf);
	return ok;
}

/* ---- tallies ------------------------------------------------------------------- */

/* Value v1: version, count (u64), last (i64), then first (i64), which
 * records written before it was added lack (first is then last). */
static gboolean
decode_tally (const MDB_val *v, guint64 *count, gint64 *first, gint64 *last, GError **error)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	*count = bdb_get_u64 (&r);
	*last = (gint64) bdb_get_u64 (&r);
	if (r.bad || version != RECORD_VERSION)
		return store_corrupt (error, "tally", version);
	*first = v->mv_size >= 1 + 8 + 8 + 8 ? (gint64) bdb_get_u64 (&r) : *last;
	return TRUE;
}

/* The tally stored under @name (already bounded); *@found tells whether
 * there is one (count, first and last are 0 when not). */
static gboolean
read_tally (BdbTxn *txn, const char *name, gboolean *found, guint64 *count, gint64 *first,
            gint64 *last, GError **error)
{
	MDB_val v;
	*count = 0;
	*first = *last = 0;
	if (!store_get (txn, T_TALLY, name, strlen (name), &v, found, error))
		return FALSE;
	return !*found || decode_tally (&v, count, first, last, error);
}

static gboolean
write_tally (BdbTxn *txn, const char *name, guint64 count, gint64 first, gint64 last, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	bdb_put_u8 (&w, RECORD_VERSION);
	bdb_put_u64 (&w, count);
	bdb_put_u64 (&w, (guint64) last);
	bdb_put_u64 (&w, (guint64) first);
	gboolean ok = store_put_followed (txn, T_TALLY, name, strlen (name), w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_get_tally (BdbTxn *txn, const char *name_in, guint64 *count, gint64 *last, GError **error)
{
	g_autofree char *name = store_bounded_name (name_in, STORE_MAX_KEY);
	gboolean found;
	gint64 first;
	return read_tally (txn, name, &found, count, &first, last, error);
}

gboolean
bdb_txn_set_tally (BdbTxn *txn, const char *name_in, guint64 count, gint64 last, GError **error)
{
	g_autofree char *name = store_bounded_name (name_in, STORE_MAX_KEY);
	gboolean found;
	guint64 old_count;
	gint64 first, old_last;
	if (!read_tally (txn, name, &found, &old_count, &first, &old_last, error))
		return FALSE;
	/* The earliest time is this database's own: keep it. */
	return write_tally (txn, name, count, found ? MIN (first, last) : last, last, error);
}

gboolean
bdb_txn_tally_add (BdbTxn *txn, const char *name_in, gint64 n, gint64 when, GError **error)
{
	g_autofree char *name = store_bounded_name (name_in, STORE_MAX_KEY);
	gboolean found;
	guint64 count;
	gint64 first, last;
	if (!read_tally (txn, name, &found, &count, &first, &last, error))
		return FALSE;
	gint64 sum = (gint64) count + n;
	return write_tally (txn, name, (guint64) (sum < 0 ? 0 : sum), found ? MIN (first, when) : when,
	                    found ? MAX (last, when) : when, error);
}

gboolean
bdb_txn_foreach_tally_span (BdbTxn *txn, const char *prefix, BdbTallySpanFunc fn, gpointer data,
                            GError **error)
{
	if (!txn->store->present[T_TALLY])
		return TRUE;
	MDB_cursor *c;
	if (!store_check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_TALLY], &c), "cursor", error))
		return FALSE;
	gsize plen = prefix ? strlen (prefix) : 0;
	MDB_val k = { plen, (void *) prefix }, v;
	int rc = mdb_cursor_get (c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	gboolean ok = TRUE;
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp (k.mv_data, prefix, plen) != 0))
			break;
		guint64 count = 0;
		gint64 first = 0, last = 0;
		if (!decode_tally (&v, &count, &first, &last, error)) {
			ok = FALSE;
			break;
		}
		g_autofree char *name = g_strndup (k.mv_data, k.mv_size);
		if (!fn (name, count, first, last, data))
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return ok;
}

typedef struct {
	BdbTallyFunc fn;
	gpointer data;
} TallyCall;

static gboolean
call_tally (const char *name, guint64 count, gint64 first, gint64 last, gpointer data)
{
	TallyCall *c = data;
	return c->fn (name, count, last, c->data);
}

gboolean
bdb_txn_foreach_tally (BdbTxn *txn, const char *prefix, BdbTallyFunc fn, gpointer data,
                       GError **error)
{
	TallyCall c = { fn, data };
	return bdb_txn_foreach_tally_span (txn, prefix, call_tally, &c, error);
}

gboolean
bdb_txn_delete_tally (BdbTxn *txn, const char *name_in, GError **error)
{
	g_autofree char *name = store_bounded_name (name_in, STORE_MAX_KEY);
	return store_del_followed (txn, T_TALLY, name, strlen (name), error);
}
