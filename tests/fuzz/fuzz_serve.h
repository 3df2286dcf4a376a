/* What the serve harnesses share: a small database made once per process
 * (in a temporary directory, removed at exit) and a Serve over it, as
 * cmd-serve.c sets one up, with the clock pinned.  The protocol code is
 * src/cli/serve-*.c, compiled into the harness (tests/fuzz/CMakeLists.txt).
 */
#ifndef BOUNCEDB_FUZZ_SERVE_H
#define BOUNCEDB_FUZZ_SERVE_H

#include <glib/gstdio.h>
#include "fuzz_common.h"
#include "serve.h"

#define FUZZ_NOW 1795000000

static Serve fuzz_sv;
static ServeConfig fuzz_config;
static char *fuzz_dir;

static gint64
fuzz_now (void)
{
	return FUZZ_NOW;
}

static gboolean
fuzz_fill (BdbTxn *txn, gpointer data, GError **error)
{
	static const struct {
		BdbTable table;
		const char *key, *reason;
		BdbSuppressionKind kind;
	} rows[] = {
		{ BDB_TABLE_ADDRESS, "bob@example.net", "userunknown", BDB_SUPPRESSION_HARD },
		{ BDB_TABLE_ADDRESS, "carol@example.net", "feedback", BDB_SUPPRESSION_COMPLAINT },
		{ BDB_TABLE_ADDRESS, "dave@example.net", "mailboxfull", BDB_SUPPRESSION_INACTIVE },
		{ BDB_TABLE_DOMAIN, "dead.example", "hostunknown", BDB_SUPPRESSION_DOMAIN },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (rows); i++) {
		g_autoptr (BdbSuppression) s = bdb_suppression_new (rows[i].key);
		s->state = BDB_STATE_SUPPRESSED;
		s->kind = rows[i].kind;
		s->reason = g_strdup (rows[i].reason);
		s->first_seen = s->last_seen = FUZZ_NOW - 86400;
		s->count = 1;
		if (!bdb_txn_put_suppression (txn, rows[i].table, s, error))
			return FALSE;
	}
	BdbEvent e = { .time = FUZZ_NOW - 3600 };
	g_strlcpy (e.disposition, "sender", sizeof e.disposition);
	g_strlcpy (e.reason, "blocked", sizeof e.reason);
	return bdb_txn_add_event (txn, "eve@example.org", &e, 20, error) &&
	       bdb_txn_tally_add (txn, "sender|example.org|blocked", 3, FUZZ_NOW, error);
}

static void
fuzz_cleanup (void)
{
	serve_clear (&fuzz_sv);
	const char *names[] = { "data.mdb", "lock.mdb", "bouncedb.lock", "bouncedb.open", NULL };
	for (int i = 0; names[i]; i++) {
		g_autofree char *p = g_build_filename (fuzz_dir, names[i], NULL);
		g_unlink (p);
	}
	g_rmdir (fuzz_dir);
}

static void
fuzz_serve_setup (void)
{
	fuzz_setup ();
	fuzz_dir = g_dir_make_tmp ("bouncedb-fuzz-XXXXXX", NULL);
	if (!fuzz_dir)
		abort ();
	BdbStoreOptions opts;
	bdb_store_options_init (&opts);
	GError *error = NULL;
	BdbStore *store = bdb_store_open (fuzz_dir, &opts, &error);
	if (!store || !bdb_store_write (store, fuzz_fill, NULL, &error)) {
		fprintf (stderr, "fuzz: cannot make the database: %s\n", error->message);
		abort ();
	}
	bdb_store_close (store);
	atexit (fuzz_cleanup);

	fuzz_config.db_dir = g_strdup (fuzz_dir);
	bdb_store_options_init (&fuzz_config.store);
	fuzz_config.store.read_only = TRUE;
	fuzz_config.address_flags = BDB_ADDRESS_STRICT;
	for (int i = 0; i < SERVE_N_ACTIONS; i++) {
		fuzz_config.access[i] = g_strdup ("550 5.1.1 <{address}>: suppressed ({reason} since {since}) {kind} {");
		fuzz_config.transport[i] = g_strdup (i == SERVE_ACTION_INACTIVE ? "" : "error:5.1.1 {address}");
	}
	fuzz_config.max_request_size = 1 << 20;
	fuzz_config.max_line_length = 600;
	fuzz_config.max_attributes = 100;
	fuzz_config.max_connections = 10;
	fuzz_config.idle_timeout = 10;
	fuzz_config.metrics_interval = 0;
	serve_init (&fuzz_sv, &fuzz_config);
	fuzz_sv.now = fuzz_now;
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fuzz_serve_setup ();
	return 0;
}

/* The lengths of the pieces an input arrives in, from its first byte:
 * the protocols must give the same answers whatever the pieces. */
static inline gsize
fuzz_piece (guint8 selector, gsize i)
{
	gsize base = (gsize) (selector & 0x0f) + 1;
	return (selector & 0x80) ? base + (i % 7) : base * 64;
}

/* One connection's reader: take what is complete in @in, reply in @out. */
typedef gboolean (*FuzzReader) (GByteArray *in, GString *out, char **problem, gpointer state);

/* Feed the input after its selector byte to @reader piece by piece, as a
 * socket would, until it is all read or the reader refuses (the
 * connection would be closed).  The replies are in @out. */
static inline void
fuzz_feed (const uint8_t *data, size_t size, FuzzReader reader, gpointer state, GString *out)
{
	if (size < 1)
		return;
	guint8 selector = data[0];
	data++;
	size--;
	GByteArray *in = g_byte_array_new ();
	for (gsize off = 0, i = 0; off < size; i++) {
		gsize n = MIN (fuzz_piece (selector, i), size - off);
		g_byte_array_append (in, data + off, (guint) n);
		off += n;
		char *problem = NULL;
		gboolean ok = reader (in, out, &problem, state);
		FUZZ_CHECK (ok == (problem == NULL));
		g_free (problem);
		if (!ok)
			break;
	}
	g_byte_array_unref (in);
}

#endif
