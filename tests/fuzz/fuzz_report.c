/* libFuzzer harness: the whole report parser on one message.
 *
 * The input is a message as it would arrive at the bounce address.  It is
 * parsed with the default limits (plus one kept header, so that path runs
 * too); a refusal must be one of the two documented input errors, and a
 * report must keep every promise of report.h: each record classified with
 * the built-in rules, every field read back.
 *
 * A report is then applied to a database with the default policy, in a
 * transaction that is rolled back (bdb_store_rehearse()): applying what
 * the parser accepted must never fail because of what the message says
 * (issue 18: an over-long address made a key LMDB refused, and the
 * message blocked a pipe or a sweep forever).
 *
 * Seeds: corpus/ (tests/fuzz/smoke builds the seed directory); dictionary:
 * tests/fuzz/mime.dict.
 */
#include <glib/gstdio.h>
#include "fuzz_common.h"

static BdbRules *rules;
static BdbStore *store;
static char *store_dir;
static BdbPolicy policy;

typedef struct {
	const BdbReport *report;
	const BdbVerdict *verdicts;
	BdbApplyStats stats;
} Apply;

static gboolean
apply (BdbTxn *txn, gpointer data, GError **error)
{
	Apply *a = data;
	memset (&a->stats, 0, sizeof a->stats);
	return bdb_policy_apply (&policy, txn, a->report, a->verdicts, 1795000000, &a->stats, error);
}

static void
remove_store (void)
{
	bdb_store_close (store);
	const char *names[] = { "data.mdb", "lock.mdb", "bouncedb.lock", "bouncedb.open" };
	for (gsize i = 0; i < G_N_ELEMENTS (names); i++) {
		g_autofree char *p = g_build_filename (store_dir, names[i], NULL);
		g_unlink (p);
	}
	g_rmdir (store_dir);
	g_free (store_dir);
}

/* Apply @r and roll it back: only a full map may stop it. */
static void
fuzz_apply (const BdbReport *r)
{
	guint n = bdb_report_n_records (r);
	if (n == 0)
		return;
	BdbVerdict *verdicts = g_new0 (BdbVerdict, n);
	for (guint i = 0; i < n; i++)
		bdb_classify (rules, bdb_report_get_record (r, i), &verdicts[i]);
	Apply a = { r, verdicts, { 0 } };
	GError *error = NULL;
	gboolean ok = bdb_store_rehearse (store, apply, &a, &error);
	if (!ok && !g_error_matches (error, BDB_ERROR, BDB_ERROR_DB_FULL)) {
		fprintf (stderr, "applying the report failed: %s\n", error->message);
		FUZZ_CHECK (ok);
	}
	if (ok) {
		FUZZ_CHECK (a.stats.records == n || a.stats.duplicates == 1);
		BdbOutcome o = bdb_policy_outcome (r, NULL, &a.stats, NULL, NULL);
		FUZZ_CHECK (o == BDB_OUTCOME_STORED || o == BDB_OUTCOME_QUARANTINE);
	}
	g_clear_error (&error);
	g_free (verdicts);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fuzz_setup ();
	rules = bdb_rules_new (NULL);
	if (!rules)
		abort ();
	bdb_policy_init (&policy);
	/* /dev/shm when there is one: no disk, and nothing is committed. */
	const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();
	store_dir = g_build_filename (base, "bouncedb-fuzz-XXXXXX", NULL);
	if (!g_mkdtemp (store_dir))
		abort ();
	store = bdb_store_open (store_dir, NULL, NULL);
	if (!store)
		abort ();
	atexit (remove_store);
	return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	static const char *const keep[] = { "X-Campaign-ID", NULL };
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.keep_headers = keep;

	GError *error = NULL;
	BdbReport *r = bdb_report_parse_bytes ((const char *) data, size, &opts, &error);
	if (!r) {
		FUZZ_CHECK (error != NULL);
		FUZZ_CHECK (error->domain == BDB_ERROR);
		FUZZ_CHECK (error->code == BDB_ERROR_LIMIT || error->code == BDB_ERROR_PARSE);
		FUZZ_CHECK (error->message && *error->message);
		g_error_free (error);
		return 0;
	}
	FUZZ_CHECK (error == NULL);
	fuzz_touch_report (r, rules);
	fuzz_apply (r);
	bdb_report_free (r);
	return 0;
}
