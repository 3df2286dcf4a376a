/* The store: record layouts, tables, the writer lock, map growth. */
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <lmdb.h>
#include "testutil.h"

typedef struct {
	char *dir;
	BdbStore *store;
} Fixture;

static int
setup (void **state)
{
	Fixture *f = g_new0 (Fixture, 1);
	f->dir = test_tmpdir ();
	GError *error = NULL;
	f->store = bdb_store_open (f->dir, NULL, &error);
	if (!f->store) {
		fprintf (stderr, "open: %s\n", error->message);
		return -1;
	}
	*state = f;
	return 0;
}

static int
teardown (void **state)
{
	Fixture *f = *state;
	bdb_store_close (f->store);
	test_rmtree (f->dir);
	g_free (f->dir);
	g_free (f);
	return 0;
}

static gboolean
put_one (BdbTxn *txn, gpointer data, GError **error)
{
	return bdb_txn_put_suppression (txn, BDB_TABLE_ADDRESS, data, error);
}

static void
test_suppression_round_trip (void **state)
{
	Fixture *f = *state;
	g_autoptr (BdbSuppression) s = bdb_suppression_new ("ann@example.com");
	s->kind = BDB_SUPPRESSION_COMPLAINT;
	s->reason = g_strdup ("feedback");
	s->source = g_strdup ("arf");
	s->status = g_strdup ("5.1.1");
	s->reply_code = g_strdup ("550");
	s->diagnostic = g_strdup ("550 5.1.1 ünknown üser");
	s->rule = g_strdup ("arf");
	s->reporting_mta = g_strdup ("mx.example.net");
	s->remote_mta = NULL;
	s->report_message_id = g_strdup ("r1@example.net");
	s->original_message_id = g_strdup ("o1@example.org");
	s->note = g_strdup ("a note");
	s->first_seen = 1700000000;
	s->last_seen = 1700003600;
	s->expires = 1800000000;
	s->count = 3;
	GError *error = NULL;
	assert_true (bdb_store_write (f->store, put_one, s, &error));

	BdbTxn *txn = bdb_store_read (f->store, &error);
	assert_non_null (txn);
	BdbSuppression *got = NULL;
	assert_true (bdb_txn_get_suppression (txn, BDB_TABLE_ADDRESS, "ann@example.com", &got, &error));
	assert_non_null (got);
	assert_int_equal (got->state, BDB_STATE_SUPPRESSED);
	assert_int_equal (got->kind, BDB_SUPPRESSION_COMPLAINT);
	assert_string_equal (got->reason, "feedback");
	assert_string_equal (got->diagnostic, "550 5.1.1 ünknown üser");
	assert_null (got->remote_mta);
	assert_string_equal (got->note, "a note");
	assert_int_equal (got->first_seen, 1700000000);
	assert_int_equal (got->last_seen, 1700003600);
	assert_int_equal (got->expires, 1800000000);
	assert_int_equal (got->count, 3);
	bdb_suppression_free (got);

	/* Absent keys are not errors. */
	assert_true (bdb_txn_get_suppression (txn, BDB_TABLE_ADDRESS, "nobody@example.com", &got, &error));
	assert_null (got);

	/* The fast path honours expiry. */
	gboolean sup;
	assert_true (bdb_txn_is_suppressed (txn, "ann@example.com", 1700000000, &sup, NULL, &error));
	assert_true (sup);
	assert_true (bdb_txn_is_suppressed (txn, "ann@example.com", 1800000001, &sup, NULL, &error));
	assert_false (sup);
	bdb_txn_abort (txn);
}

static gboolean
put_domain (BdbTxn *txn, gpointer data, GError **error)
{
	g_autoptr (BdbSuppression) d = bdb_suppression_new ("dead.example");
	d->kind = BDB_SUPPRESSION_DOMAIN;
	d->reason = g_strdup ("hostunknown");
	return bdb_txn_put_suppression (txn, BDB_TABLE_DOMAIN, d, error);
}

static void
test_domain_suppression_covers_addresses (void **state)
{
	Fixture *f = *state;
	GError *error = NULL;
	assert_true (bdb_store_write (f->store, put_domain, NULL, &error));
	BdbTxn *txn = bdb_store_read (f->store, &error);
	gboolean sup;
	BdbSuppression *hit = NULL;
	assert_true (bdb_txn_is_suppressed (txn, "anyone@dead.example", 1, &sup, &hit, &error));
	assert_true (sup);
	assert_string_equal (hit->key, "dead.example");
	bdb_suppression_free (hit);
	assert_true (bdb_txn_is_suppressed (txn, "anyone@alive.example", 1, &sup, NULL, &error));
	assert_false (sup);
	bdb_txn_abort (txn);
}

static gboolean
events_and_counters (BdbTxn *txn, gpointer data, GError **error)
{
	for (int i = 0; i < 30; i++) {
		BdbEvent e = { 0 };
		e.time = 1700000000 + i;
		g_strlcpy (e.reason, "mailboxfull", sizeof e.reason);
		g_strlcpy (e.disposition, "soft", sizeof e.disposition);
		g_autofree char *long_diag = i == 29 ? g_strnfill (2000, 'x') : NULL;
		e.diagnostic = long_diag;
		gboolean ok = bdb_txn_add_event (txn, "bob@example.com", &e, 20, error);
		if (!ok)
			return FALSE;
	}
	BdbEvent other = { .time = 5 };
	if (!bdb_txn_add_event (txn, "bobby@example.com", &other, 20, error))
		return FALSE;
	BdbSoftCounter c = { 0 };
	c.n_days = 2;
	c.days[0] = 19000;
	c.days[1] = 19003;
	c.last_seen = 19003 * 86400;
	g_strlcpy (c.last_reason, "mailboxfull", sizeof c.last_reason);
	guint8 fp[32] = { 1, 2, 3 };
	return bdb_txn_put_soft (txn, "bob@example.com", &c, error) &&
	       bdb_txn_mark_seen (txn, fp, 1700000000, error) &&
	       bdb_txn_tally_add (txn, "sender|example.com|blocked", 2, 10, error) &&
	       bdb_txn_tally_add (txn, "sender|example.com|blocked", 3, 5, error) &&
	       bdb_txn_tally_add (txn, "sender|example.net|blocked", 1, 5, error);
}

typedef struct {
	guint n;
	gint64 first, last;
	gsize last_diag_len;
} EventCount;

static gboolean
count_event (const char *address, const BdbEvent *e, gpointer data)
{
	EventCount *c = data;
	if (c->n++ == 0)
		c->first = e->time;
	c->last = e->time;
	c->last_diag_len = e->diagnostic ? strlen (e->diagnostic) : 0;
	return TRUE;
}

static gboolean
sum_tally (const char *name, guint64 count, gint64 last, gpointer data)
{
	guint64 *sum = data;
	*sum += count;
	return TRUE;
}

static void
test_events_counters_seen_tally (void **state)
{
	Fixture *f = *state;
	GError *error = NULL;
	assert_true (bdb_store_write (f->store, events_and_counters, NULL, &error));
	BdbTxn *txn = bdb_store_read (f->store, &error);

	/* Only the newest 20 events are kept, oldest first; a prefix of one
	 * address does not leak into another ("bob" vs "bobby"). */
	EventCount ec = { 0 };
	assert_true (bdb_txn_foreach_event (txn, "bob@example.com", count_event, &ec, &error));
	assert_int_equal (ec.n, 20);
	assert_int_equal (ec.first, 1700000010);
	assert_int_equal (ec.last, 1700000029);
	assert_int_equal (ec.last_diag_len, 512);  /* long diagnostics are cut */

	BdbSoftCounter c;
	gboolean found;
	assert_true (bdb_txn_get_soft (txn, "bob@example.com", &c, &found, &error));
	assert_true (found);
	assert_int_equal (c.n_days, 2);
	assert_int_equal (c.days[1], 19003);
	assert_string_equal (c.last_reason, "mailboxfull");

	guint8 fp[32] = { 1, 2, 3 }, other[32] = { 9 };
	gboolean seen;
	assert_true (bdb_txn_seen (txn, fp, &seen, &error));
	assert_true (seen);
	assert_true (bdb_txn_seen (txn, other, &seen, &error));
	assert_false (seen);

	guint64 sum = 0;
	assert_true (bdb_txn_foreach_tally (txn, "sender|example.com|", sum_tally, &sum, &error));
	assert_int_equal (sum, 5);
	bdb_txn_abort (txn);
}

/* Keys made from what a message says are bounded: a tally name or an
 * address in an event key too long for LMDB (511 bytes) takes a hashed
 * form instead of failing the write on every retry (issue 18). */
typedef struct {
	GPtrArray *names;
	guint64 sum;
	gint64 first, last;
} TallySeen;

static gboolean
see_tally (const char *name, guint64 count, gint64 first, gint64 last, gpointer data)
{
	TallySeen *t = data;
	g_ptr_array_add (t->names, g_strdup (name));
	t->sum += count;
	t->first = first;
	t->last = last;
	return TRUE;
}

static char *
long_name (char fill, gsize len)
{
	g_autofree char *tail = g_strnfill (len - strlen ("hostunknown|d.example|"), fill);
	return g_strconcat ("hostunknown|d.example|", tail, NULL);
}

static gboolean
long_keys (BdbTxn *txn, gpointer data, GError **error)
{
	g_autofree char *a = long_name ('a', 520), *a2 = long_name ('a', 600), *b = long_name ('b', 5000);
	g_autofree char *addr = g_strnfill (600, 'x');
	BdbEvent e = { .time = 7 };
	g_strlcpy (e.disposition, "suppress", sizeof e.disposition);
	return bdb_txn_tally_add (txn, a, 1, 20, error) &&
	       bdb_txn_tally_add (txn, a, 1, 10, error) &&   /* the same long name: one counter */
	       bdb_txn_tally_add (txn, a2, 1, 30, error) &&  /* shares its first 446 bytes with a */
	       bdb_txn_tally_add (txn, b, 1, 40, error) &&
	       bdb_txn_tally_add (txn, "hostunknown|d.example|short@d.example", 1, 50, error) &&
	       bdb_txn_add_event (txn, addr, &e, 20, error) &&
	       bdb_txn_add_event (txn, addr, &e, 20, error);
}

static gboolean
drop_long_keys (BdbTxn *txn, gpointer data, GError **error)
{
	g_autofree char *b = long_name ('b', 5000);
	g_autofree char *addr = g_strnfill (600, 'x');
	return bdb_txn_delete_tally (txn, b, error) && bdb_txn_delete_events (txn, addr, error);
}

static void
test_bounded_keys (void **state)
{
	Fixture *f = *state;
	GError *error = NULL;
	if (!bdb_store_write (f->store, long_keys, NULL, &error))
		fail_msg ("long keys: %s", error->message);
	BdbTxn *txn = bdb_store_read (f->store, &error);
	TallySeen t = { g_ptr_array_new_with_free_func (g_free), 0, 0, 0 };
	assert_true (bdb_txn_foreach_tally_span (txn, "hostunknown|d.example|", see_tally, &t, &error));
	assert_int_equal (t.names->len, 4);  /* a, a2, b, short */
	assert_int_equal (t.sum, 5);
	guint hashed = 0;
	for (guint i = 0; i < t.names->len; i++) {
		const char *n = t.names->pdata[i];
		assert_true (strlen (n) <= 511);
		const char *hash = strrchr (n, '#');
		if (hash) {
			hashed++;
			assert_int_equal (strlen (hash + 1), 64);
		}
	}
	assert_int_equal (hashed, 3);
	/* The short one, last in name order: first and last times. */
	assert_int_equal (t.first, 50);
	assert_int_equal (t.last, 50);
	g_ptr_array_unref (t.names);
	EventCount ec = { 0 };
	g_autofree char *addr = g_strnfill (600, 'x');
	assert_true (bdb_txn_foreach_event (txn, addr, count_event, &ec, &error));
	assert_int_equal (ec.n, 2);
	bdb_txn_abort (txn);

	assert_true (bdb_store_write (f->store, drop_long_keys, NULL, &error));
	txn = bdb_store_read (f->store, &error);
	t = (TallySeen) { g_ptr_array_new_with_free_func (g_free), 0, 0, 0 };
	assert_true (bdb_txn_foreach_tally_span (txn, "hostunknown|d.example|", see_tally, &t, &error));
	assert_int_equal (t.names->len, 3);
	g_ptr_array_unref (t.names);
	ec = (EventCount) { 0 };
	assert_true (bdb_txn_foreach_event (txn, addr, count_event, &ec, &error));
	assert_int_equal (ec.n, 0);
	bdb_txn_abort (txn);
}

/* A tally remembers the earliest and the latest time it was added to. */
static gboolean
tally_times (BdbTxn *txn, gpointer data, GError **error)
{
	return bdb_txn_tally_add (txn, "t|x", 1, 300, error) &&
	       bdb_txn_tally_add (txn, "t|x", 1, 100, error) &&
	       bdb_txn_tally_add (txn, "t|x", 1, 200, error);
}

static void
test_tally_first_and_last (void **state)
{
	Fixture *f = *state;
	assert_true (bdb_store_write (f->store, tally_times, NULL, NULL));
	BdbTxn *txn = bdb_store_read (f->store, NULL);
	TallySeen t = { g_ptr_array_new_with_free_func (g_free), 0, 0, 0 };
	assert_true (bdb_txn_foreach_tally_span (txn, "t|", see_tally, &t, NULL));
	assert_int_equal (t.sum, 3);
	assert_int_equal (t.first, 100);
	assert_int_equal (t.last, 300);
	g_ptr_array_unref (t.names);
	bdb_txn_abort (txn);
}

static gboolean
fill_map (BdbTxn *txn, gpointer data, GError **error)
{
	guint *n = data;
	for (guint i = 0; i < *n; i++) {
		g_autofree char *key = g_strdup_printf ("user%06u@example.com", i);
		g_autoptr (BdbSuppression) s = bdb_suppression_new (key);
		s->diagnostic = g_strnfill (400, 'd');
		if (!bdb_txn_put_suppression (txn, BDB_TABLE_ADDRESS, s, error))
			return FALSE;
	}
	return TRUE;
}

static void
test_map_grows_then_fills (void **state)
{
	g_autofree char *dir = test_tmpdir ();
	BdbStoreOptions opts;
	bdb_store_options_init (&opts);
	opts.map_size = 256 << 10;
	opts.map_size_max = 4 << 20;
	GError *error = NULL;
	BdbStore *s = bdb_store_open (dir, &opts, &error);
	assert_non_null (s);

	/* ~1 MB of records (twice that with the change feed's copies): the
	 * map must grow past 256 KiB, transparently. */
	guint n = 2000;
	assert_true (bdb_store_write (s, fill_map, &n, &error));
	assert_true (bdb_store_map_size (s) > opts.map_size);

	/* ~8 MB cannot fit under a 4 MiB limit: a clear "database full". */
	n = 8000;
	assert_false (bdb_store_write (s, fill_map, &n, &error));
	assert_int_equal (error->code, BDB_ERROR_DB_FULL);
	assert_non_null (strstr (error->message, "database full"));
	g_clear_error (&error);

	/* Nothing of the failed transaction is visible. */
	BdbTxn *txn = bdb_store_read (s, &error);
	guint64 count;
	assert_true (bdb_txn_count (txn, BDB_TABLE_ADDRESS, &count, &error));
	assert_int_equal (count, 2000);
	bdb_txn_abort (txn);
	bdb_store_close (s);
	test_rmtree (dir);
}

static gboolean
noop (BdbTxn *txn, gpointer data, GError **error)
{
	return TRUE;
}

static void
test_busy_writer_times_out (void **state)
{
	g_autofree char *dir = test_tmpdir ();
	BdbStoreOptions opts;
	bdb_store_options_init (&opts);
	opts.lock_timeout_ms = 150;
	GError *error = NULL;
	BdbStore *s = bdb_store_open (dir, &opts, &error);
	assert_non_null (s);

	/* Another writer holds the lock (a second open file description). */
	g_autofree char *lock = g_build_filename (dir, "bouncedb.lock", NULL);
	int fd = open (lock, O_RDWR);
	assert_true (fd >= 0);
	assert_int_equal (flock (fd, LOCK_EX), 0);
	assert_false (bdb_store_write (s, noop, NULL, &error));
	assert_int_equal (error->code, BDB_ERROR_DB_BUSY);
	g_clear_error (&error);
	flock (fd, LOCK_UN);
	close (fd);
	assert_true (bdb_store_write (s, noop, NULL, &error));
	bdb_store_close (s);
	test_rmtree (dir);
}

static gboolean
put_n (BdbTxn *txn, gpointer data, GError **error)
{
	const char *prefix = data;
	for (int i = 0; i < 50; i++) {
		g_autofree char *key = g_strdup_printf ("%s%d@example.com", prefix, i);
		g_autoptr (BdbSuppression) s = bdb_suppression_new (key);
		s->state = BDB_STATE_SUPPRESSED;
		s->kind = BDB_SUPPRESSION_MANUAL;
		s->reason = g_strdup ("manual");
		if (!bdb_txn_put_suppression (txn, BDB_TABLE_ADDRESS, s, error))
			return FALSE;
	}
	return TRUE;
}

static guint64
count_addresses (BdbStore *s)
{
	GError *error = NULL;
	guint64 n = 0;
	BdbTxn *txn = bdb_store_read (s, &error);
	assert_non_null (txn);
	assert_true (bdb_txn_count (txn, BDB_TABLE_ADDRESS, &n, &error));
	bdb_txn_abort (txn);
	return n;
}

/* Compaction swaps data.mdb: never while another environment has it open
 * (it would then read another, often empty, database), and the store that
 * compacted stays usable. */
static void
test_compact_only_when_alone (void **state)
{
	g_autofree char *dir = test_tmpdir ();
	BdbStoreOptions opts, ro;
	bdb_store_options_init (&opts);
	opts.lock_timeout_ms = 100;
	ro = opts;
	ro.read_only = TRUE;
	GError *error = NULL;
	BdbStore *s = bdb_store_open (dir, &opts, &error);
	assert_non_null (s);
	/* Several commits, so that the transaction id's parity is whatever
	 * it happens to be: the bug depended on it. */
	assert_true (bdb_store_write (s, put_n, "a", &error));
	assert_true (bdb_store_write (s, put_n, "b", &error));
	assert_true (bdb_store_write (s, put_n, "c", &error));

	BdbStore *reader = bdb_store_open (dir, &ro, &error);
	assert_non_null (reader);
	assert_false (bdb_store_compact (s, &error));
	assert_int_equal (error->code, BDB_ERROR_DB_BUSY);
	assert_non_null (strstr (error->message, "another process has the database open"));
	g_clear_error (&error);
	assert_int_equal (count_addresses (reader), 150);
	assert_int_equal (count_addresses (s), 150);
	/* The refused compaction left the writer's shared hold in place. */
	assert_true (bdb_store_write (s, put_n, "d", &error));
	assert_int_equal (count_addresses (reader), 200);
	bdb_store_close (reader);

	assert_true (bdb_store_compact (s, &error));
	g_autofree char *tmp = g_build_filename (dir, "data.mdb.compact", NULL);
	assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
	/* The compacting store goes on working, and so does a new opener. */
	assert_int_equal (count_addresses (s), 200);
	assert_true (bdb_store_write (s, put_n, "e", &error));
	reader = bdb_store_open (dir, &ro, &error);
	assert_non_null (reader);
	assert_int_equal (count_addresses (reader), 250);

	/* While compaction holds the database, an opener waits, then gives up
	 * busy rather than open a file about to be replaced. */
	g_autofree char *users = g_build_filename (dir, "bouncedb.open", NULL);
	int fd = open (users, O_RDONLY);
	assert_true (fd >= 0);
	bdb_store_close (reader);
	bdb_store_close (s);
	assert_int_equal (flock (fd, LOCK_EX | LOCK_NB), 0);
	assert_null (bdb_store_open (dir, &ro, &error));
	assert_int_equal (error->code, BDB_ERROR_DB_BUSY);
	g_clear_error (&error);
	close (fd);
	s = bdb_store_open (dir, &opts, &error);
	assert_non_null (s);
	assert_int_equal (count_addresses (s), 250);
	bdb_store_close (s);
	test_rmtree (dir);
}

static gboolean
cursor_and_prune (BdbTxn *txn, gpointer data, GError **error)
{
	return bdb_txn_set_cursor (txn, "hook-a", 3, error) &&
	       bdb_txn_prune_changes (txn, G_MAXINT64, 3, data, error);
}

typedef struct {
	GString *log;
	guint64 last;
	gboolean gap;
} FeedLog;

static gboolean
log_change (const BdbChange *c, gpointer data)
{
	FeedLog *f = data;
	if (c->seq != f->last + 1)
		f->gap = TRUE;
	f->last = c->seq;
	g_string_append_printf (f->log, "%" G_GUINT64_FORMAT " %s %s %s %s %s|", c->seq, c->table, c->change, c->key,
	                        c->disposition ? c->disposition : "-", c->campaign ? c->campaign : "-");
	if (c->suppression)
		g_string_append_printf (f->log, "count=%u|", c->suppression->count);
	if (c->soft)
		g_string_append_printf (f->log, "days=%u|", c->soft->n_days);
	return TRUE;
}

static gboolean
feed_writes (BdbTxn *txn, gpointer data, GError **error)
{
	static const guint8 fp[32] = { 1, 2, 3 };
	BdbChangeContext ctx = { 1795000000, "suppress", "<r1@mx>", "june", "<news.example.org>", fp, NULL, 0 };
	bdb_txn_set_change (txn, &ctx);
	g_autoptr (BdbSuppression) s = bdb_suppression_new ("gone@example.com");
	s->state = BDB_STATE_SUPPRESSED;
	s->kind = BDB_SUPPRESSION_HARD;
	s->count = 1;
	BdbSoftCounter c = { .n_days = 1, .days = { 20774 }, .last_seen = 1795000000, .last_reason = "mailboxfull" };
	if (!bdb_txn_put_suppression (txn, BDB_TABLE_ADDRESS, s, error))
		return FALSE;
	s->count = 2;
	if (!bdb_txn_put_suppression (txn, BDB_TABLE_ADDRESS, s, error) ||
	    !bdb_txn_put_soft (txn, "full@example.com", &c, error) ||
	    !bdb_txn_delete_soft (txn, "full@example.com", error) ||
	    !bdb_txn_delete_soft (txn, "never@example.com", error) ||   /* nothing: no change */
	    !bdb_txn_tally_add (txn, "sender|example.net|blocked", 1, 1795000000, error))
		return FALSE;
	bdb_txn_set_change (txn, NULL);
	s->state = BDB_STATE_REMOVED;
	return bdb_txn_put_suppression (txn, BDB_TABLE_ADDRESS, s, error);
}

/* Every change to a suppression, soft counter or tally has one entry in
 * the feed, numbered without gaps; a transaction that is not committed
 * takes its numbers with it. */
static void
test_change_feed (void **state)
{
	Fixture *f = *state;
	GError *error = NULL;
	assert_true (bdb_store_rehearse (f->store, feed_writes, NULL, &error));
	assert_true (bdb_store_write (f->store, feed_writes, NULL, &error));
	BdbTxn *txn = bdb_store_read (f->store, &error);
	FeedLog fl = { g_string_new (NULL), 0, FALSE };
	assert_true (bdb_txn_foreach_change (txn, 0, log_change, &fl, &error));
	assert_string_equal (fl.log->str,
	                     "1 address suppressed gone@example.com suppress june|count=1|"
	                     "2 address confirmed gone@example.com suppress june|count=2|"
	                     "3 soft soft full@example.com suppress june|days=1|"
	                     "4 soft cleared full@example.com suppress june|"
	                     "5 tally sender sender|example.net|blocked suppress june|"
	                     "6 address removed gone@example.com - -|count=2|");
	assert_false (fl.gap);
	guint64 last;
	assert_true (bdb_txn_last_change (txn, &last, &error));
	assert_int_equal (last, 6);
	/* From a sequence number on. */
	g_string_truncate (fl.log, 0);
	fl.last = 4;
	assert_true (bdb_txn_foreach_change (txn, 4, log_change, &fl, &error));
	assert_true (g_str_has_prefix (fl.log->str, "5 tally"));
	bdb_txn_abort (txn);

	/* Pruning by age keeps what a consumer has not taken yet. */
	guint64 removed;
	assert_true (bdb_store_write (f->store, cursor_and_prune, &removed, &error));
	assert_int_equal (removed, 3);
	txn = bdb_store_read (f->store, &error);
	g_string_truncate (fl.log, 0);
	fl.last = 3;
	assert_true (bdb_txn_foreach_change (txn, 0, log_change, &fl, &error));
	assert_true (g_str_has_prefix (fl.log->str, "4 soft cleared"));
	guint64 cur;
	assert_true (bdb_txn_get_cursor (txn, "hook-a", &cur, &error));
	assert_int_equal (cur, 3);
	bdb_txn_abort (txn);
	g_string_free (fl.log, TRUE);

	/* A database has an id of its own, kept across opens. */
	g_autofree char *id = g_strdup (bdb_store_id (f->store));
	assert_int_equal (strlen (id), 32);
	bdb_store_close (f->store);
	f->store = bdb_store_open (f->dir, NULL, &error);
	assert_string_equal (bdb_store_id (f->store), id);
	g_autofree char *other = test_tmpdir ();
	BdbStore *o = bdb_store_open (other, NULL, &error);
	assert_string_not_equal (bdb_store_id (o), id);
	bdb_store_close (o);
	test_rmtree (other);
}

static gboolean
hook_state_writes (BdbTxn *txn, gpointer data, GError **error)
{
	BdbCursorState st = { 2, 7, 1795000100, 1795000000, 1795000160, (char *) "exit 1: 503 busy" };
	return bdb_txn_set_cursor (txn, "hook/a", 6, error) &&
	       bdb_txn_set_cursor (txn, "hook/b", 9, error) &&
	       bdb_txn_set_cursor_state (txn, "hook/a", &st, error);
}

static gboolean
hook_forget (BdbTxn *txn, gpointer data, GError **error)
{
	return bdb_txn_delete_cursor (txn, data, error);
}

static gboolean
count_cursor (const char *name, guint64 seq, gpointer data)
{
	g_string_append_printf (data, "%s=%" G_GUINT64_FORMAT " ", name, seq);
	return TRUE;
}

/* A retrying consumer's state lives beside its cursor; forgetting the
 * consumer drops both, and nothing else. */
static void
test_cursor_state (void **state)
{
	Fixture *f = *state;
	GError *error = NULL;
	assert_true (bdb_store_write (f->store, hook_state_writes, NULL, &error));
	BdbTxn *txn = bdb_store_read (f->store, &error);
	BdbCursorState st;
	gboolean found;
	assert_true (bdb_txn_get_cursor_state (txn, "hook/a", &st, &found, &error));
	assert_true (found);
	assert_int_equal (st.failures, 2);
	assert_int_equal (st.failed_seq, 7);
	assert_int_equal (st.last_attempt, 1795000100);
	assert_int_equal (st.last_success, 1795000000);
	assert_int_equal (st.next_attempt, 1795000160);
	assert_string_equal (st.last_error, "exit 1: 503 busy");
	bdb_cursor_state_clear (&st);
	assert_true (bdb_txn_get_cursor_state (txn, "hook/b", &st, &found, &error));
	assert_false (found);
	assert_null (st.last_error);
	/* The state is not a cursor. */
	GString *names = g_string_new (NULL);
	assert_true (bdb_txn_foreach_cursor (txn, count_cursor, names, &error));
	assert_string_equal (names->str, "hook/a=6 hook/b=9 ");
	bdb_txn_abort (txn);

	assert_true (bdb_store_write (f->store, hook_forget, (gpointer) "hook/a", &error));
	txn = bdb_store_read (f->store, &error);
	g_string_truncate (names, 0);
	assert_true (bdb_txn_foreach_cursor (txn, count_cursor, names, &error));
	assert_string_equal (names->str, "hook/b=9 ");
	assert_true (bdb_txn_get_cursor_state (txn, "hook/a", &st, &found, &error));
	assert_false (found);
	bdb_txn_abort (txn);
	g_string_free (names, TRUE);
}

static void
test_read_only_and_versions (void **state)
{
	g_autofree char *dir = test_tmpdir ();
	g_autofree char *absent = g_build_filename (dir, "absent", NULL);
	BdbStoreOptions ro;
	bdb_store_options_init (&ro);
	ro.read_only = TRUE;
	GError *error = NULL;
	assert_null (bdb_store_open (absent, &ro, &error));
	assert_int_equal (error->code, BDB_ERROR_NOT_FOUND);
	g_clear_error (&error);
	assert_false (g_file_test (absent, G_FILE_TEST_EXISTS));

	/* A database written by a newer bouncedb is refused, not misread. */
	BdbStore *s = bdb_store_open (dir, NULL, &error);
	assert_non_null (s);
	bdb_store_close (s);
	MDB_env *env;
	MDB_txn *t;
	MDB_dbi dbi;
	assert_int_equal (mdb_env_create (&env), 0);
	mdb_env_set_maxdbs (env, 16);
	assert_int_equal (mdb_env_open (env, dir, 0, 0600), 0);
	assert_int_equal (mdb_txn_begin (env, NULL, 0, &t), 0);
	assert_int_equal (mdb_dbi_open (t, "meta", 0, &dbi), 0);
	MDB_val k = { 6, "schema" }, v = { 2, "99" };
	assert_int_equal (mdb_put (t, dbi, &k, &v, 0), 0);
	/* And a suppression record of a future layout. */
	MDB_dbi adbi;
	assert_int_equal (mdb_dbi_open (t, "address", 0, &adbi), 0);
	guint8 rec[] = { 7, 1, 1, 0 };
	MDB_val ak = { 13, "x@example.com" }, av = { sizeof rec, rec };
	assert_int_equal (mdb_put (t, adbi, &ak, &av, 0), 0);
	assert_int_equal (mdb_txn_commit (t), 0);
	mdb_env_close (env);

	assert_null (bdb_store_open (dir, NULL, &error));
	assert_int_equal (error->code, BDB_ERROR_DB_VERSION);
	g_clear_error (&error);
	test_rmtree (dir);
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown (test_suppression_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown (test_domain_suppression_covers_addresses, setup, teardown),
		cmocka_unit_test_setup_teardown (test_events_counters_seen_tally, setup, teardown),
		cmocka_unit_test_setup_teardown (test_bounded_keys, setup, teardown),
		cmocka_unit_test_setup_teardown (test_tally_first_and_last, setup, teardown),
		cmocka_unit_test (test_map_grows_then_fills),
		cmocka_unit_test (test_busy_writer_times_out),
		cmocka_unit_test (test_read_only_and_versions),
		cmocka_unit_test (test_compact_only_when_alone),
		cmocka_unit_test_setup_teardown (test_change_feed, setup, teardown),
		cmocka_unit_test_setup_teardown (test_cursor_state, setup, teardown),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
