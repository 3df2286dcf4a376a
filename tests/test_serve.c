/* bouncedb serve's protocol code (src/cli/serve-*.c), without sockets:
 * the replies do not depend on how the bytes are cut into pieces, a
 * request beyond a limit ends the connection, the configured actions are
 * expanded and marked, and a compaction makes serve let the database go.
 * The whole server, with real clients and Postfix: tests/cli/t-serve*.sh. */
#include "testutil.h"
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "serve.h"

#define NOW 1795000000

static gint64
fixed_now (void)
{
	return NOW;
}

static gboolean
fill (BdbTxn *txn, gpointer data, GError **error)
{
	static const struct {
		const char *key, *reason;
		BdbSuppressionKind kind;
	} rows[] = {
		{ "bob@example.net", "userunknown", BDB_SUPPRESSION_HARD },
		{ "carol@example.net", "feedback", BDB_SUPPRESSION_COMPLAINT },
		{ "dave@example.net", "mailboxfull\n", BDB_SUPPRESSION_INACTIVE },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (rows); i++) {
		g_autoptr (BdbSuppression) s = bdb_suppression_new (rows[i].key);
		s->state = BDB_STATE_SUPPRESSED;
		s->kind = rows[i].kind;
		s->reason = g_strdup (rows[i].reason);
		s->first_seen = s->last_seen = 1793000000;  /* 2026-10-26 */
		if (!bdb_txn_put_suppression (txn, BDB_TABLE_ADDRESS, s, error))
			return FALSE;
	}
	return TRUE;
}

typedef struct {
	char *dir;
	ServeConfig config;
	Serve sv;
} Fixture;

static int
setup (void **state)
{
	Fixture *f = g_new0 (Fixture, 1);
	f->dir = test_tmpdir ();
	BdbStoreOptions opts;
	bdb_store_options_init (&opts);
	g_autoptr (BdbStore) store = bdb_store_open (f->dir, &opts, NULL);
	assert_non_null (store);
	assert_true (bdb_store_write (store, fill, NULL, NULL));
	f->config.db_dir = g_strdup (f->dir);
	bdb_store_options_init (&f->config.store);
	f->config.store.read_only = TRUE;
	f->config.address_flags = BDB_ADDRESS_STRICT;
	f->config.access[SERVE_ACTION_SUPPRESSED] = g_strdup ("550 5.1.1 <{address}>: {reason} since {since}");
	f->config.access[SERVE_ACTION_INACTIVE] = g_strdup ("");
	f->config.access[SERVE_ACTION_COMPLAINT] = g_strdup ("REJECT complained [bouncedb]");
	for (int i = 0; i < SERVE_N_ACTIONS; i++)
		f->config.transport[i] = g_strdup ("discard:{kind}");
	f->config.max_line_length = 100;
	f->config.max_attributes = 5;
	f->config.metrics_interval = 60;
	serve_init (&f->sv, &f->config);
	f->sv.now = fixed_now;
	*state = f;
	return 0;
}

static int
teardown (void **state)
{
	Fixture *f = *state;
	serve_clear (&f->sv);
	serve_config_clear (&f->config);
	test_rmtree (f->dir);
	g_free (f->dir);
	g_free (f);
	return 0;
}

typedef gboolean (*Reader) (Serve *sv, GByteArray *in, GString *out, char **problem, gpointer state);

static gboolean
socketmap_reader (Serve *sv, GByteArray *in, GString *out, char **problem, gpointer state)
{
	return serve_socketmap_input (sv, in, out, problem);
}

static gboolean
policy_reader (Serve *sv, GByteArray *in, GString *out, char **problem, gpointer state)
{
	return serve_policy_input (sv, state, in, out, problem);
}

/* Feed @input to @reader in pieces of @piece bytes, as a socket may
 * deliver it; the replies, and whether the connection stayed open, in
 * *@ok. */
static char *
feed (Serve *sv, const char *input, gsize piece, Reader reader, gpointer state, gboolean *ok)
{
	GByteArray *in = g_byte_array_new ();
	GString *out = g_string_new (NULL);
	*ok = TRUE;
	for (gsize off = 0, n = strlen (input); off < n && *ok; off += piece) {
		g_byte_array_append (in, (const guint8 *) input + off, (guint) MIN (piece, n - off));
		char *problem = NULL;
		*ok = reader (sv, in, out, &problem, state);
		assert_true (*ok == (problem == NULL));
		g_free (problem);
	}
	g_byte_array_unref (in);
	return g_string_free (out, FALSE);
}

static char *
socketmap (Serve *sv, const char *input, gsize piece, gboolean *ok)
{
	return feed (sv, input, piece, socketmap_reader, NULL, ok);
}

static void
test_socketmap_pieces (void **state)
{
	Fixture *f = *state;
	const char *input = "22:access bob@example.net,24:access alice@example.net,"
	                    "25:transport bob@example.net,18:access example.net,"
	                    "23:access dave@example.net,24:access carol@example.net,";
	const char *want = "71:OK 550 5.1.1 <bob@example.net>: userunknown since 2026-10-26 [bouncedb],"
	                   "9:NOTFOUND ,"
	                   "15:OK discard:hard,"
	                   "9:NOTFOUND ,"
	                   "9:NOTFOUND ,"
	                   "31:OK REJECT complained [bouncedb],";
	for (gsize piece = 1; piece <= strlen (input); piece++) {
		gboolean ok;
		g_autofree char *got = socketmap (&f->sv, input, piece, &ok);
		assert_true (ok);
		assert_string_equal (got, want);
	}
	assert_int_equal (f->sv.lookups[SERVE_SOCKETMAP][SERVE_ANSWER_SUPPRESSED] % 4, 0);
}

static void
test_socketmap_errors (void **state)
{
	Fixture *f = *state;
	static const char *const bad[] = {
		"x:access bob@example.net,", "22:access bob@example.net;", ":,",
		"101:", "99999999999999999999999:",
	};
	for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
		gboolean ok;
		g_autofree char *got = socketmap (&f->sv, bad[i], 1000, &ok);
		assert_false (ok);
		assert_non_null (strstr (got, ":PERM "));
	}
	/* A bad map name is answered, and the connection goes on. */
	gboolean ok;
	g_autofree char *got = socketmap (&f->sv, "5:x y z,", 1000, &ok);
	assert_true (ok);
	assert_true (g_str_has_prefix (got, "59:PERM unknown map"));
}

static void
test_policy (void **state)
{
	Fixture *f = *state;
	const char *input = "request=smtpd_access_policy\r\nprotocol_state=RCPT\nrecipient=Bob@Example.NET\n\n"
	                    "request=smtpd_access_policy\nrecipient=alice@example.net\n\n"
	                    "request=junk\nrecipient=bob@example.net\n\n";
	const char *want = "action=550 5.1.1 <bob@example.net>: userunknown since 2026-10-26 [bouncedb]\n\n"
	                   "action=DUNNO\n\naction=DUNNO\n\n";
	for (gsize piece = 1; piece <= strlen (input); piece += 3) {
		ServePolicy st = { 0 };
		gboolean ok;
		g_autofree char *got = feed (&f->sv, input, piece, policy_reader, &st, &ok);
		assert_true (ok);
		assert_string_equal (got, want);
		serve_policy_clear (&st);
	}
	/* Too many attributes, a line too long, no '=': refused, and closed. */
	g_autofree char *long_line = g_strdup_printf ("recipient=%0200d\n\n", 0);
	const char *const bad[] = { "a=1\nb=2\nc=3\nd=4\ne=5\nf=6\n\n", long_line, "novalue\n\n" };
	for (gsize i = 0; i < G_N_ELEMENTS (bad); i++) {
		ServePolicy st = { 0 };
		gboolean ok;
		g_autofree char *got = feed (&f->sv, bad[i], 1000, policy_reader, &st, &ok);
		assert_false (ok);
		assert_true (g_str_has_prefix (got, "action=DEFER_IF_PERMIT 4.3.0 bouncedb: "));
		serve_policy_clear (&st);
	}
}

/* A reason with a newline (an imported row) cannot break a reply. */
static void
test_action_text (void **state)
{
	Fixture *f = *state;
	BdbSuppression *s = bdb_suppression_new ("x@example.net");
	s->kind = BDB_SUPPRESSION_MANUAL;
	s->reason = g_strdup ("bad\r\nreason");
	s->first_seen = 1793000000;
	g_autofree char *a = serve_action (&f->sv, f->config.access, "x@example.net", s);
	assert_string_equal (a, "550 5.1.1 <x@example.net>: bad??reason since 2026-10-26 [bouncedb]");
	g_free (s->reason);
	s->reason = g_strdup ("feedback");
	g_autofree char *c = serve_action (&f->sv, f->config.access, "x@example.net", s);
	assert_string_equal (c, "REJECT complained [bouncedb]");
	bdb_suppression_free (s);
}

static void
test_http (void **state)
{
	Fixture *f = *state;
	ServeHttpReply r = { 0 };
	r.body = g_string_new (NULL);
	serve_http_answer (&f->sv, "GET", "/v1/check", "address=bob%40example.net", NULL, 0, &r);
	assert_int_equal (r.status, 200);
	assert_non_null (strstr (r.body->str, "\"state\":\"suppressed\""));
	serve_http_answer (&f->sv, "GET", "/v1/check", "address=%zz", NULL, 0, &r);
	assert_int_equal (r.status, 400);
	serve_http_answer (&f->sv, "GET", "/v1/check", NULL, NULL, 0, &r);
	assert_int_equal (r.status, 400);
	serve_http_answer (&f->sv, "POST", "/v1/check", NULL, NULL, 0, &r);
	assert_int_equal (r.status, 405);
	assert_string_equal (r.allow, "GET, HEAD");
	const char *list = "alice@example.net\r\nbob@example.net\n\nnonsense\n zed@example.org \n";
	serve_http_answer (&f->sv, "POST", "/v1/filter", NULL, list, strlen (list), &r);
	assert_int_equal (r.status, 200);
	assert_string_equal (r.body->str, "alice@example.net\n zed@example.org \n");
	serve_http_answer (&f->sv, "POST", "/v1/filter", "suppressed=1", list, strlen (list), &r);
	assert_string_equal (r.body->str, "bob@example.net\tuserunknown\n");
	serve_http_answer (&f->sv, "GET", "/v1/address/carol%40example.net", NULL, NULL, 0, &r);
	assert_int_equal (r.status, 200);
	assert_non_null (strstr (r.body->str, "\"reason\":\"feedback\""));
	serve_http_answer (&f->sv, "GET", "/nothing", NULL, NULL, 0, &r);
	assert_int_equal (r.status, 404);
	serve_http_answer (&f->sv, "GET", "/metrics", NULL, NULL, 0, &r);
	assert_int_equal (r.status, 200);
	assert_non_null (strstr (r.body->str, "bouncedb_suppressions{kind=\"hard\",reason=\"userunknown\"} 1\n"));
	/* A newline in a label value is escaped. */
	assert_non_null (strstr (r.body->str, "reason=\"mailboxfull\\n\"} 1\n"));
	g_string_free (r.body, TRUE);
}

/* While a compaction waits (bouncedb.compact locked), serve lets the
 * database go and answers busy; afterwards it opens it again. */
static void
test_compaction_request (void **state)
{
	Fixture *f = *state;
	GError *error = NULL;
	BdbTxn *txn = serve_read (&f->sv, &error);
	assert_non_null (txn);
	bdb_txn_abort (txn);
	assert_false (serve_release (&f->sv, FALSE));
	g_autofree char *request = g_build_filename (f->dir, "bouncedb.compact", NULL);
	int fd = open (request, O_RDONLY | O_CREAT, 0600);
	assert_true (fd >= 0);
	assert_false (bdb_store_compaction_pending (f->dir));  /* not locked: nobody asks */
	assert_int_equal (flock (fd, LOCK_EX), 0);
	assert_true (bdb_store_compaction_pending (f->dir));
	assert_true (serve_release (&f->sv, FALSE));
	assert_null (serve_read (&f->sv, &error));
	assert_true (g_error_matches (error, BDB_ERROR, BDB_ERROR_DB_BUSY));
	g_clear_error (&error);
	char *addr = NULL;
	BdbSuppression *hit = NULL;
	assert_int_equal (serve_lookup (&f->sv, SERVE_SOCKETMAP, NULL, "bob@example.net", &addr, &hit, &error),
	                  SERVE_ANSWER_BUSY);
	g_clear_error (&error);
	g_free (addr);
	close (fd);
	assert_int_equal (serve_lookup (&f->sv, SERVE_SOCKETMAP, NULL, "bob@example.net", &addr, &hit, &error),
	                  SERVE_ANSWER_SUPPRESSED);
	g_free (addr);
	bdb_suppression_free (hit);
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown (test_socketmap_pieces, setup, teardown),
		cmocka_unit_test_setup_teardown (test_socketmap_errors, setup, teardown),
		cmocka_unit_test_setup_teardown (test_policy, setup, teardown),
		cmocka_unit_test_setup_teardown (test_action_text, setup, teardown),
		cmocka_unit_test_setup_teardown (test_http, setup, teardown),
		cmocka_unit_test_setup_teardown (test_compaction_request, setup, teardown),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
