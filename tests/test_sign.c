/* Signed envelope senders and forged-bounce protection. */
#include <string.h>
#include "testutil.h"

static const char *keys = "# two keys: k2 signs, k1 still verifies\n"
                          "k2 second-secret-of-enough-length\n"
                          "k1 first-secret-of-enough-length\n";

static void
test_sign_and_verify (void **state)
{
	GError *error = NULL;
	g_autoptr (BdbSigner) s = bdb_signer_new (keys, &error);
	assert_non_null (s);
	g_autofree char *env = bdb_sign_envelope (s, "bounces@lists.example.org", "alice@example.com", 20400, &error);
	assert_non_null (env);
	assert_true (g_str_has_prefix (env, "bounces+k2.20400."));
	assert_true (g_str_has_suffix (env, "@lists.example.org"));

	assert_int_equal (bdb_verify_envelope (s, env, "alice@example.com", 20401, 7), BDB_TOKEN_VALID);
	assert_int_equal (bdb_verify_envelope (s, env, "Alice@Example.com", 20401, 7), BDB_TOKEN_VALID);
	/* Replayed for another recipient. */
	assert_int_equal (bdb_verify_envelope (s, env, "bob@example.com", 20401, 7), BDB_TOKEN_BAD_MAC);
	/* Too old, or from the future. */
	assert_int_equal (bdb_verify_envelope (s, env, "alice@example.com", 20408, 7), BDB_TOKEN_EXPIRED);
	assert_int_equal (bdb_verify_envelope (s, env, "alice@example.com", 20390, 7), BDB_TOKEN_EXPIRED);
	/* No token, a broken one, a forged MAC, an unknown key. */
	assert_int_equal (bdb_verify_envelope (s, "bounces@lists.example.org", "alice@example.com", 20401, 7),
	                  BDB_TOKEN_MISSING);
	assert_int_equal (bdb_verify_envelope (s, "bounces+tag@lists.example.org", "alice@example.com", 20401, 7),
	                  BDB_TOKEN_MISSING);
	g_autofree char *forged = g_strdup (env);
	char *mac = strrchr (forged, '@') - 12;  /* the MAC is the last 12 hex digits of the local part */
	mac[0] = mac[0] == '0' ? '1' : '0';
	assert_int_equal (bdb_verify_envelope (s, forged, "alice@example.com", 20401, 7), BDB_TOKEN_BAD_MAC);
	assert_int_equal (bdb_verify_envelope (s, "bounces+k9.20400.000000000000@lists.example.org",
	                                       "alice@example.com", 20401, 7), BDB_TOKEN_UNKNOWN_KEY);

	/* Rotation: a token of the old key still verifies. */
	g_autoptr (BdbSigner) old = bdb_signer_new ("k1 first-secret-of-enough-length\n", NULL);
	g_autofree char *env1 = bdb_sign_envelope (old, "bounces@lists.example.org", "alice@example.com", 20400, NULL);
	assert_int_equal (bdb_verify_envelope (s, env1, "alice@example.com", 20400, 7), BDB_TOKEN_VALID);
}

static void
test_bad_key_files (void **state)
{
	GError *error = NULL;
	assert_null (bdb_signer_new ("", &error));
	g_clear_error (&error);
	assert_null (bdb_signer_new ("k1 short\n", &error));
	assert_non_null (strstr (error->message, "line 1"));
	g_clear_error (&error);
	assert_null (bdb_signer_new ("K1 uppercase-id-is-refused-here\n", &error));
	g_clear_error (&error);
	assert_null (bdb_signer_new ("k1 secret-number-one-long-enough\nk1 secret-number-two-long-enough\n", &error));
	assert_non_null (strstr (error->message, "twice"));
	g_clear_error (&error);
}

/* A report delivered to @to about @rcpt, and whether the policy lets it
 * suppress @rcpt. */
typedef struct {
	BdbPolicy policy;
	BdbReport *report;
	BdbVerdict verdict;
	BdbApplyStats stats;
} Run;

static gboolean
apply_cb (BdbTxn *txn, gpointer data, GError **error)
{
	Run *r = data;
	return bdb_policy_apply (&r->policy, txn, r->report, &r->verdict, 20401 * 86400, &r->stats, error);
}

static gboolean
suppresses (BdbSigner *signer, const char *to, const char *rcpt, const char *id)
{
	g_autofree char *dir = test_tmpdir ();
	g_autofree char *msg = g_strdup_printf (
		"From: MAILER-DAEMON@mx.example.net\nTo: %s\nSubject: Undelivered Mail Returned to Sender\n"
		"Date: Mon, 10 Nov 2025 10:00:00 +0000\nMessage-ID: <%s@mx.example.net>\nMIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
		"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
		"Final-Recipient: rfc822; %s\nAction: failed\nStatus: 5.1.1\n\n--B--\n", to, id, rcpt);
	g_autoptr (BdbRules) rules = bdb_rules_new (NULL);
	BdbStore *store = bdb_store_open (dir, NULL, NULL);
	Run r = { 0 };
	bdb_policy_init (&r.policy);
	r.policy.verifier = signer;
	r.report = test_parse (msg);
	bdb_classify (rules, bdb_report_get_record (r.report, 0), &r.verdict);
	assert_true (bdb_store_write (store, apply_cb, &r, NULL));
	BdbTxn *txn = bdb_store_read (store, NULL);
	gboolean sup = FALSE;
	g_autofree char *key = g_ascii_strdown (rcpt, -1);
	assert_true (bdb_txn_is_suppressed (txn, key, 20401 * 86400, &sup, NULL, NULL));
	bdb_txn_abort (txn);
	bdb_store_close (store);
	bdb_report_free (r.report);
	test_rmtree (dir);
	assert_int_equal (r.stats.forged, sup ? 0 : 1);
	return sup;
}

static void
test_policy_refuses_forged_reports (void **state)
{
	g_autoptr (BdbSigner) s = bdb_signer_new (keys, NULL);
	g_autofree char *env = bdb_sign_envelope (s, "bounces@lists.example.org", "alice@example.com", 20400, NULL);
	assert_true (suppresses (s, env, "alice@example.com", "a"));
	/* Forged: sent to the plain bounce address. */
	assert_false (suppresses (s, "bounces@lists.example.org", "alice@example.com", "b"));
	/* Replayed: alice's genuine token naming bob. */
	assert_false (suppresses (s, env, "bob@example.com", "c"));
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_sign_and_verify),
		cmocka_unit_test (test_bad_key_files),
		cmocka_unit_test (test_policy_refuses_forged_reports),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
