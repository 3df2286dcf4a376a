/* The suppression policy: what classified reports do to the database. */
#include <string.h>
#include "testutil.h"

#define DAY 86400
#define T0 1793613540  /* Mon, 2 Nov 2026 09:59:00 +0000 */

typedef struct {
	char *dir;
	BdbStore *store;
	BdbRules *rules;
	BdbPolicy policy;
	BdbApplyStats stats;
	/* for the write callback */
	BdbReport *report;
	BdbVerdict *verdicts;
	gint64 arrival;
} Fixture;

static int
setup (void **state)
{
	Fixture *f = g_new0 (Fixture, 1);
	f->dir = test_tmpdir ();
	f->store = bdb_store_open (f->dir, NULL, NULL);
	f->rules = bdb_rules_new (NULL);
	bdb_policy_init (&f->policy);
	*state = f;
	return f->store && f->rules ? 0 : -1;
}

static int
teardown (void **state)
{
	Fixture *f = *state;
	bdb_store_close (f->store);
	bdb_rules_free (f->rules);
	test_rmtree (f->dir);
	g_free (f->dir);
	g_free (f);
	return 0;
}

static gboolean
apply_cb (BdbTxn *txn, gpointer data, GError **error)
{
	Fixture *f = data;
	return bdb_policy_apply (&f->policy, txn, f->report, f->verdicts, f->arrival, &f->stats, error);
}

static void apply_message (Fixture *f, const char *msg, gint64 arrival);

/* Apply a DSN dated @when with @fields, sent back to envelope sender @to
 * (NULL: an unsigned one); @id makes the message distinct. */
static void
apply_dsn_to (Fixture *f, const char *to, const char *id, gint64 when, const char *const *fields)
{
	g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (when);
	g_autofree char *date = g_date_time_format (dt, "%a, %d %b %Y %H:%M:%S +0000");
	g_autofree char *msg = test_dsn_message_at (id, date, fields);
	if (to) {
		g_autofree char *header = g_strdup_printf ("To: %s\n", to);
		char *at = strstr (msg, "To: sender@example.org\n");
		assert_non_null (at);
		g_autofree char *signed_msg = g_strdup_printf ("%.*s%s%s", (int) (at - msg), msg, header,
		                                               at + strlen ("To: sender@example.org\n"));
		g_free (msg);
		msg = g_steal_pointer (&signed_msg);
	}
	apply_message (f, msg, when + 60);
}

/* Parse, classify and apply the message @msg arriving at @arrival. */
static void
apply_message (Fixture *f, const char *msg, gint64 arrival)
{
	f->report = test_parse (msg);
	guint n = bdb_report_n_records (f->report);
	f->verdicts = g_new0 (BdbVerdict, n);
	for (guint i = 0; i < n; i++)
		bdb_classify (f->rules, bdb_report_get_record (f->report, i), &f->verdicts[i]);
	f->arrival = arrival;
	GError *error = NULL;
	if (!bdb_store_write (f->store, apply_cb, f, &error))
		fail_msg ("apply: %s", error->message);
	bdb_report_free (f->report);
	g_free (f->verdicts);
}

static void
apply_dsn (Fixture *f, const char *id, gint64 when, const char *const *fields)
{
	apply_dsn_to (f, NULL, id, when, fields);
}

static BdbSuppression *
lookup (Fixture *f, BdbTable table, const char *key)
{
	BdbTxn *txn = bdb_store_read (f->store, NULL);
	BdbSuppression *s = NULL;
	assert_true (bdb_txn_get_suppression (txn, table, key, &s, NULL));
	bdb_txn_abort (txn);
	return s;
}

static gboolean
suppressed_at (Fixture *f, const char *addr, gint64 now)
{
	BdbTxn *txn = bdb_store_read (f->store, NULL);
	gboolean sup = FALSE;
	assert_true (bdb_txn_is_suppressed (txn, addr, now, &sup, NULL, NULL));
	bdb_txn_abort (txn);
	return sup;
}

/* The days @addr's soft counter holds, or -1 when it has none. */
static int
soft_days (Fixture *f, const char *addr)
{
	BdbTxn *txn = bdb_store_read (f->store, NULL);
	BdbSoftCounter c;
	gboolean found;
	assert_true (bdb_txn_get_soft (txn, addr, &c, &found, NULL));
	bdb_txn_abort (txn);
	return found ? (int) c.n_days : -1;
}

#define HARD(addr) (const char *const[]) { "Final-Recipient: rfc822; " addr, "Action: failed", \
	"Status: 5.1.1", "Diagnostic-Code: smtp; 550 5.1.1 <" addr ">: Recipient address rejected: User unknown", NULL }
#define SOFT(addr) (const char *const[]) { "Final-Recipient: rfc822; " addr, "Action: failed", \
	"Status: 5.2.2", "Diagnostic-Code: smtp; 552 5.2.2 Mailbox full", NULL }

static void
test_hard_bounce_suppresses_once (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "a1@x", T0, HARD ("Gone@Example.COM"));
	assert_int_equal (f->stats.suppressed, 1);
	g_autoptr (BdbSuppression) s = lookup (f, BDB_TABLE_ADDRESS, "gone@example.com");
	assert_non_null (s);
	assert_int_equal (s->kind, BDB_SUPPRESSION_HARD);
	assert_string_equal (s->reason, "userunknown");
	assert_string_equal (s->status, "5.1.1");
	assert_string_equal (s->reply_code, "550");
	assert_string_equal (s->rule, "userunknown-511");
	assert_string_equal (s->report_message_id, "a1@x");
	assert_string_equal (s->source, "dsn");
	assert_int_equal (s->expires, 0);  /* userunknown never expires by default */

	/* The same message again (an MTA retry): counted once. */
	apply_dsn (f, "a1@x", T0, HARD ("Gone@Example.COM"));
	assert_int_equal (f->stats.duplicates, 1);
	bdb_suppression_free (s);
	s = lookup (f, BDB_TABLE_ADDRESS, "gone@example.com");
	assert_int_equal (s->count, 1);

	/* Another report confirms it. */
	apply_dsn (f, "a2@x", T0 + DAY, HARD ("gone@example.com"));
	bdb_suppression_free (s);
	s = lookup (f, BDB_TABLE_ADDRESS, "gone@example.com");
	assert_int_equal (s->count, 2);
	assert_int_equal (s->first_seen, T0);
	assert_int_equal (s->last_seen, T0 + DAY);
	assert_int_equal (f->stats.confirmed, 1);
}

static void
test_soft_bounces_need_days_and_span (void **state)
{
	Fixture *f = *state;
	f->policy.soft_threshold = 3;
	f->policy.soft_span_days = 3;
	/* Three on one day count once. */
	for (int i = 0; i < 3; i++) {
		g_autofree char *id = g_strdup_printf ("s%d@x", i);
		apply_dsn (f, id, T0 + i * 60, SOFT ("full@example.com"));
	}
	assert_false (suppressed_at (f, "full@example.com", T0 + DAY));
	/* Day 2 and 3: three days counted, but spanning 2 days only. */
	apply_dsn (f, "s10@x", T0 + 1 * DAY, SOFT ("full@example.com"));
	apply_dsn (f, "s11@x", T0 + 2 * DAY, SOFT ("full@example.com"));
	assert_false (suppressed_at (f, "full@example.com", T0 + 3 * DAY));
	/* Day 4: the span reaches 3 days: inactive. */
	apply_dsn (f, "s12@x", T0 + 3 * DAY, SOFT ("full@example.com"));
	assert_true (suppressed_at (f, "full@example.com", T0 + 4 * DAY));
	g_autoptr (BdbSuppression) s = lookup (f, BDB_TABLE_ADDRESS, "full@example.com");
	assert_int_equal (s->kind, BDB_SUPPRESSION_INACTIVE);
	assert_string_equal (s->reason, "mailboxfull");
	assert_non_null (strstr (s->note, "soft bounces"));
	/* Inactive suppressions expire (180 days by default). */
	assert_int_equal (s->expires, T0 + 3 * DAY + 180 * DAY);
	assert_false (suppressed_at (f, "full@example.com", T0 + 200 * DAY));
}

static void
test_stale_soft_counter_resets (void **state)
{
	Fixture *f = *state;
	f->policy.soft_threshold = 3;
	f->policy.soft_span_days = 1;
	f->policy.soft_window_days = 30;
	apply_dsn (f, "w1@x", T0, SOFT ("old@example.com"));
	apply_dsn (f, "w2@x", T0 + DAY, SOFT ("old@example.com"));
	/* Sixty days later the two old bounces are out of the window. */
	apply_dsn (f, "w3@x", T0 + 60 * DAY, SOFT ("old@example.com"));
	assert_false (suppressed_at (f, "old@example.com", T0 + 61 * DAY));
	assert_int_equal (soft_days (f, "old@example.com"), 1);
}

static void
test_sender_side_never_counts (void **state)
{
	Fixture *f = *state;
	f->policy.soft_threshold = 1;
	f->policy.soft_span_days = 0;
	for (int i = 0; i < 5; i++) {
		g_autofree char *id = g_strdup_printf ("d%d@x", i);
		apply_dsn (f, id, T0 + i * DAY, (const char *const[]) {
			"Final-Recipient: rfc822; good@gmail.example", "Action: failed", "Status: 5.7.26",
			"Diagnostic-Code: smtp; 550-5.7.26 Unauthenticated email from example.org is not accepted due to domain's DMARC policy", NULL });
	}
	assert_false (suppressed_at (f, "good@gmail.example", T0 + 10 * DAY));
	assert_int_equal (f->stats.sender, 5);
	assert_int_equal (soft_days (f, "good@gmail.example"), -1);
}

static void
test_success_clears_soft_counter (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "c1@x", T0, SOFT ("back@example.com"));
	apply_dsn (f, "c2@x", T0 + DAY, (const char *const[]) {
		"Final-Recipient: rfc822; back@example.com", "Action: delivered", "Status: 2.0.0", NULL });
	assert_int_equal (f->stats.success, 1);
	BdbTxn *txn = bdb_store_read (f->store, NULL);
	BdbSoftCounter c;
	gboolean found;
	assert_true (bdb_txn_get_soft (txn, "back@example.com", &c, &found, NULL));
	/* Empty, with the mark that keeps older soft bounces out, also those
	 * another database will send (merge.c). */
	assert_true (found);
	assert_int_equal (c.n_days, 0);
	assert_int_equal (c.cleared_day, (T0 + DAY) / DAY);
	bdb_txn_abort (txn);

	/* A soft bounce dated before the success, arriving late: not counted. */
	apply_dsn (f, "c3@x", T0 - DAY, SOFT ("back@example.com"));
	assert_int_equal (soft_days (f, "back@example.com"), 0);
}

static gboolean
remove_cb (BdbTxn *txn, gpointer data, GError **error)
{
	Fixture *f = data;
	gboolean was;
	return bdb_policy_remove (&f->policy, txn, "gone@example.com", f->arrival, &was, error) && was;
}

static void
test_removal_is_remembered (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "r1@x", T0, HARD ("gone@example.com"));
	f->arrival = T0 + 10 * DAY;
	GError *error = NULL;
	assert_true (bdb_store_write (f->store, remove_cb, f, &error));
	assert_false (suppressed_at (f, "gone@example.com", T0 + 10 * DAY));

	/* A report from before the removal, arriving late, changes nothing. */
	apply_dsn (f, "r2@x", T0 + 5 * DAY, HARD ("gone@example.com"));
	assert_int_equal (f->stats.stale, 1);
	assert_false (suppressed_at (f, "gone@example.com", T0 + 11 * DAY));

	/* A newer one suppresses again. */
	apply_dsn (f, "r3@x", T0 + 12 * DAY, HARD ("gone@example.com"));
	assert_true (suppressed_at (f, "gone@example.com", T0 + 13 * DAY));
}

static void
test_domain_after_distinct_hostunknown (void **state)
{
	Fixture *f = *state;
	f->policy.domain_threshold = 3;
	const char *users[] = { "a", "b", "b", "c" };
	for (guint i = 0; i < G_N_ELEMENTS (users); i++) {
		g_autofree char *id = g_strdup_printf ("h%u@x", i);
		g_autofree char *rcpt = g_strdup_printf ("Final-Recipient: rfc822; %s@gone.example", users[i]);
		apply_dsn (f, id, T0 + i, (const char *const[]) {
			rcpt, "Action: failed", "Status: 5.1.2",
			"Diagnostic-Code: smtp; 550 5.1.2 Host unknown (Name server: gone.example: host not found)", NULL });
		g_autoptr (BdbSuppression) d = lookup (f, BDB_TABLE_DOMAIN, "gone.example");
		/* a, b, b: two distinct recipients, no domain yet; c makes three. */
		if (i < 3)
			assert_null (d);
		else
			assert_non_null (d);
	}
	assert_true (suppressed_at (f, "newcomer@gone.example", T0 + DAY));
	g_autoptr (BdbSuppression) d = lookup (f, BDB_TABLE_DOMAIN, "gone.example");
	assert_int_equal (d->kind, BDB_SUPPRESSION_DOMAIN);
	assert_int_equal (d->expires, T0 + 3 + 90 * DAY);
}

static void
test_null_mx_suppresses_domain_at_once (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "n1@x", T0, (const char *const[]) {
		"Final-Recipient: rfc822; x@nullmx.example", "Action: failed", "Status: 5.1.10",
		"Diagnostic-Code: smtp; 556 5.1.10 Recipient address rejected: Domain nullmx.example does not accept mail (nullMX)", NULL });
	assert_int_equal (f->stats.domains, 1);
	assert_true (suppressed_at (f, "y@nullmx.example", T0 + 1));
}

static void
test_future_dates_are_not_trusted (void **state)
{
	Fixture *f = *state;
	/* The report claims a date a year after it arrived. */
	g_autofree char *msg = test_dsn_message_at ("f1@x", "Mon, 2 Nov 2027 10:00:00 +0000", HARD ("late@example.com"));
	f->report = test_parse (msg);
	f->verdicts = g_new0 (BdbVerdict, 1);
	bdb_classify (f->rules, bdb_report_get_record (f->report, 0), &f->verdicts[0]);
	f->arrival = T0;
	assert_true (bdb_store_write (f->store, apply_cb, f, NULL));
	bdb_report_free (f->report);
	g_free (f->verdicts);
	g_autoptr (BdbSuppression) s = lookup (f, BDB_TABLE_ADDRESS, "late@example.com");
	assert_int_equal (s->first_seen, T0);
}

static void
test_original_recipient_is_the_key (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "o1@x", T0, (const char *const[]) {
		"Original-Recipient: rfc822;list+2Bsub@example.org",
		"Final-Recipient: rfc822; internal-user@mailhost.example.org",
		"Action: failed", "Status: 5.1.1", NULL });
	assert_true (suppressed_at (f, "list+sub@example.org", T0 + 1));
	assert_false (suppressed_at (f, "internal-user@mailhost.example.org", T0 + 1));
}

/* With [verify], a token vouches for the one recipient it was signed for.
 * A subscriber who signs with their own token and names somebody else in
 * Original-Recipient must not suppress them (nor two hundred of them). */
typedef struct {
	const char *disposition;
	gboolean found;
} EventMatch;

static gboolean
match_event (const char *address, const BdbEvent *e, gpointer data)
{
	EventMatch *m = data;
	if (strcmp (e->disposition, m->disposition) == 0)
		m->found = TRUE;
	return TRUE;
}

static gboolean
has_event (Fixture *f, const char *addr, const char *disposition)
{
	BdbTxn *txn = bdb_store_read (f->store, NULL);
	EventMatch m = { disposition, FALSE };
	assert_true (bdb_txn_foreach_event (txn, addr, match_event, &m, NULL));
	bdb_txn_abort (txn);
	return m.found;
}

static char *
sign_for (const BdbSigner *signer, const char *rcpt)
{
	return bdb_sign_envelope (signer, "bounces@lists.example.org", rcpt, T0 / DAY, NULL);
}

static void
test_token_covers_only_its_recipient (void **state)
{
	Fixture *f = *state;
	g_autoptr (BdbSigner) signer = bdb_signer_new ("k1 a-secret-that-is-long-enough-for-hmac\n", NULL);
	assert_non_null (signer);
	f->policy.verifier = signer;
	g_autofree char *mallory = sign_for (signer, "mallory@example.net");
	g_autofree char *alice = sign_for (signer, "alice@example.com");

	/* Mallory's own token, a victim in Original-Recipient. */
	apply_dsn_to (f, mallory, "f1@x", T0, (const char *const[]) {
		"Original-Recipient: rfc822; victim@example.com",
		"Final-Recipient: rfc822; mallory@example.net",
		"Action: failed", "Status: 5.1.1",
		"Diagnostic-Code: smtp; 550 5.1.1 User unknown", NULL });
	assert_false (suppressed_at (f, "victim@example.com", T0 + 1));
	assert_true (has_event (f, "victim@example.com", "forged"));
	assert_int_equal (f->stats.forged, 1);
	/* The report is genuine for the recipient the token names. */
	assert_true (suppressed_at (f, "mallory@example.net", T0 + 1));

	/* Two hundred victims in one report, each behind Mallory's address. */
	GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
	for (int i = 0; i < 200; i++) {
		if (i)
			g_ptr_array_add (fields, g_strdup (""));
		g_ptr_array_add (fields, g_strdup_printf ("Original-Recipient: rfc822; v%d@example.com", i));
		g_ptr_array_add (fields, g_strdup ("Final-Recipient: rfc822; mallory@example.net"));
		g_ptr_array_add (fields, g_strdup ("Action: failed"));
		g_ptr_array_add (fields, g_strdup ("Status: 5.1.1"));
	}
	g_ptr_array_add (fields, NULL);
	memset (&f->stats, 0, sizeof f->stats);
	apply_dsn_to (f, mallory, "f2@x", T0, (const char *const *) fields->pdata);
	g_ptr_array_unref (fields);
	assert_int_equal (f->stats.records, 200);
	assert_int_equal (f->stats.forged, 200);
	assert_int_equal (f->stats.suppressed, 0);
	for (int i = 0; i < 200; i += 37) {
		g_autofree char *v = g_strdup_printf ("v%d@example.com", i);
		assert_false (suppressed_at (f, v, T0 + 1));
	}

	/* Alice's token, a report about Bob: nobody. */
	memset (&f->stats, 0, sizeof f->stats);
	apply_dsn_to (f, alice, "f3@x", T0, HARD ("bob@example.com"));
	assert_false (suppressed_at (f, "bob@example.com", T0 + 1));
	assert_false (suppressed_at (f, "alice@example.com", T0 + 1));
	assert_int_equal (f->stats.forged, 1);

	/* Genuine forwarding: the list sent to alice (signed), her mail went
	 * on to another mailbox that is gone.  Alice is suppressed, the
	 * mailbox behind her is not touched. */
	apply_dsn_to (f, alice, "g1@x", T0, (const char *const[]) {
		"Original-Recipient: rfc822; Alice@Example.com",
		"Final-Recipient: rfc822; alice.smith@mailhost.example.com",
		"Action: failed", "Status: 5.1.1", NULL });
	assert_true (suppressed_at (f, "alice@example.com", T0 + 1));
	assert_false (suppressed_at (f, "alice.smith@mailhost.example.com", T0 + 1));
}

/* The same holds for complaints: ARF's Original-Mail-From is where the
 * token travels, Original-Rcpt-To names who complained. */
static void
test_signed_complaint_covers_only_its_recipient (void **state)
{
	Fixture *f = *state;
	g_autoptr (BdbSigner) signer = bdb_signer_new ("k1 a-secret-that-is-long-enough-for-hmac\n", NULL);
	f->policy.verifier = signer;
	const char *rcpts[] = { "victim@example.com", "mallory@example.net" };
	g_autofree char *mallory = sign_for (signer, "mallory@example.net");
	for (guint i = 0; i < G_N_ELEMENTS (rcpts); i++) {
		g_autofree char *msg = g_strdup_printf (
			"From: feedback@fbl.example.net\n"
			"To: fbl@lists.example.org\n"
			"Subject: complaint\n"
			"Date: Mon, 2 Nov 2026 10:00:00 +0000\n"
			"Message-ID: <arf%u@fbl.example.net>\n"
			"MIME-Version: 1.0\n"
			"Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"\n\n"
			"--B\nContent-Type: text/plain\n\nA complaint.\n\n"
			"--B\nContent-Type: message/feedback-report\n\n"
			"Feedback-Type: abuse\nUser-Agent: fbl/1\nVersion: 1\n"
			"Original-Mail-From: <%s>\nOriginal-Rcpt-To: <%s>\n\n"
			"--B--\n", i, mallory, rcpts[i]);
		apply_message (f, msg, T0 + 60);
	}
	assert_false (suppressed_at (f, "victim@example.com", T0 + 120));
	assert_true (has_event (f, "victim@example.com", "forged"));
	assert_true (suppressed_at (f, "mallory@example.net", T0 + 120));
}

/* A token vouches for a recipient, not for its domain: one signed null-MX
 * report does not suppress the whole domain. */
static void
test_signed_null_mx_needs_the_threshold (void **state)
{
	Fixture *f = *state;
	g_autoptr (BdbSigner) signer = bdb_signer_new ("k1 a-secret-that-is-long-enough-for-hmac\n", NULL);
	f->policy.verifier = signer;
	f->policy.domain_threshold = 2;
	const char *users[] = { "a@bigmail.example", "b@bigmail.example" };
	for (guint i = 0; i < G_N_ELEMENTS (users); i++) {
		g_autofree char *env = sign_for (signer, users[i]);
		g_autofree char *id = g_strdup_printf ("nm%u@x", i);
		g_autofree char *rcpt = g_strdup_printf ("Final-Recipient: rfc822; %s", users[i]);
		apply_dsn_to (f, env, id, T0, (const char *const[]) {
			rcpt, "Action: failed", "Status: 5.1.10",
			"Diagnostic-Code: smtp; 556 5.1.10 Domain bigmail.example does not accept mail (nullMX)", NULL });
		assert_true (suppressed_at (f, users[i], T0 + 1));
		assert_true (suppressed_at (f, "someone.else@bigmail.example", T0 + 1) == (i == 1));
	}
}

static gboolean
merge_cb (BdbTxn *txn, gpointer data, GError **error)
{
	Fixture *f = data;
	g_autoptr (BdbSuppression) in = bdb_suppression_new ("imp@example.com");
	in->kind = BDB_SUPPRESSION_IMPORTED;
	in->reason = g_strdup ("userunknown");
	in->first_seen = T0 - DAY;
	in->last_seen = T0 + DAY;
	in->count = 4;
	return bdb_policy_merge (&f->policy, txn, BDB_TABLE_ADDRESS, in, error);
}

static void
test_merge_is_idempotent (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "m1@x", T0, HARD ("imp@example.com"));
	assert_true (bdb_store_write (f->store, merge_cb, f, NULL));
	assert_true (bdb_store_write (f->store, merge_cb, f, NULL));
	g_autoptr (BdbSuppression) s = lookup (f, BDB_TABLE_ADDRESS, "imp@example.com");
	assert_int_equal (s->count, 4);             /* the larger, not the sum */
	assert_int_equal (s->first_seen, T0 - DAY);
	assert_int_equal (s->last_seen, T0 + DAY);  /* the newer entry won */
	assert_int_equal (s->kind, BDB_SUPPRESSION_IMPORTED);
}

/* One report is one piece of evidence: five back-dated soft bounces for
 * one address in one report counted five days and made the address
 * inactive at once, defeating soft_span_days (issue 18).  Of the records
 * naming one address, the strongest counts. */
static void
test_one_report_counts_once (void **state)
{
	Fixture *f = *state;
	GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
	for (int i = 0; i < 5; i++) {
		g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (T0 - i * DAY);
		g_autofree char *date = g_date_time_format (dt, "%a, %d %b %Y %H:%M:%S +0000");
		if (i)
			g_ptr_array_add (fields, g_strdup (""));
		g_ptr_array_add (fields, g_strdup ("Final-Recipient: rfc822; full@example.com"));
		g_ptr_array_add (fields, g_strdup ("Action: failed"));
		g_ptr_array_add (fields, g_strdup ("Status: 4.2.2"));
		g_ptr_array_add (fields, g_strdup ("Diagnostic-Code: smtp; 452 4.2.2 Mailbox full"));
		g_ptr_array_add (fields, g_strdup_printf ("Last-Attempt-Date: %s", date));
	}
	g_ptr_array_add (fields, NULL);
	apply_dsn (f, "five@x", T0, (const char *const *) fields->pdata);
	g_ptr_array_unref (fields);
	assert_int_equal (f->stats.records, 5);
	assert_int_equal (f->stats.repeated, 4);
	assert_int_equal (f->stats.soft, 1);
	assert_false (suppressed_at (f, "full@example.com", T0 + 1));
	assert_int_equal (soft_days (f, "full@example.com"), 1);

	/* A soft and a hard record for one address: the hard one counts. */
	apply_dsn (f, "mixed@x", T0, (const char *const[]) {
		"Final-Recipient: rfc822; mixed@example.com", "Action: failed", "Status: 4.2.2",
		"Diagnostic-Code: smtp; 452 4.2.2 Mailbox full", "",
		"Final-Recipient: rfc822; Mixed@Example.com", "Action: failed", "Status: 5.1.1",
		"Diagnostic-Code: smtp; 550 5.1.1 User unknown", NULL });
	assert_true (suppressed_at (f, "mixed@example.com", T0 + 1));
	g_autoptr (BdbSuppression) s = lookup (f, BDB_TABLE_ADDRESS, "mixed@example.com");
	assert_int_equal (s->count, 1);
}

/* The database reports leave does not depend on the order they arrive in
 * (concurrent ingests and a sweep apply them in any order): the domain
 * row's count, times, expiry and evidence included.  Before, a recipient
 * seen twice counted or not depending on when the threshold was crossed
 * (a count 11 or 10), and the last report applied won at equal times. */
static gboolean
dump_row (const BdbSuppression *s, gpointer data)
{
	g_string_append_printf (data, "%s|%d|%d|%s|%s|%s|%s|%s|%s|%s|%s|%" G_GINT64_FORMAT "|%" G_GINT64_FORMAT
	                        "|%" G_GINT64_FORMAT "|%u\n", s->key, s->state, s->kind, s->reason, s->source,
	                        s->status, s->diagnostic, s->rule, s->report_message_id, s->note,
	                        s->reply_code, s->first_seen, s->last_seen, s->expires, s->count);
	return TRUE;
}

static char *
dump_store (Fixture *f)
{
	GString *out = g_string_new (NULL);
	BdbTxn *txn = bdb_store_read (f->store, NULL);
	assert_true (bdb_txn_foreach_suppression (txn, BDB_TABLE_ADDRESS, NULL, dump_row, out, NULL));
	assert_true (bdb_txn_foreach_suppression (txn, BDB_TABLE_DOMAIN, NULL, dump_row, out, NULL));
	bdb_txn_abort (txn);
	return g_string_free (out, FALSE);
}

typedef struct {
	const char *id;
	const char *rcpt;
	gint64 when;
	const char *diag;
} Report;

static void
test_order_independent (void **state)
{
	static const Report reports[] = {
		{ "h1@x", "a@dead.example", T0, "550 5.1.2 Host unknown (Name server: dead.example: host not found)" },
		{ "h2@x", "b@dead.example", T0 + DAY, "550 5.1.2 Host unknown (dead.example: no such domain)" },
		{ "h3@x", "a@dead.example", T0 + 2 * DAY, "550 5.1.2 Host unknown (Name server: dead.example: NXDOMAIN)" },
		{ "h4@x", "c@dead.example", T0 + DAY, "550 5.1.2 Host unknown (dead.example: host not found)" },
		{ "h5@x", "d@dead.example", T0 + 2 * DAY, "550 5.1.2 Host unknown (Name server: host not found)" },
		{ "u1@x", "x@alive.example", T0, "550 5.1.1 User unknown (first wording)" },
		{ "u2@x", "x@alive.example", T0, "550 5.1.1 User unknown (second wording)" },
	};
	static const guint orders[][G_N_ELEMENTS (reports)] = {
		{ 0, 1, 2, 3, 4, 5, 6 },
		{ 6, 5, 4, 3, 2, 1, 0 },
		{ 2, 0, 4, 1, 6, 3, 5 },
		{ 3, 4, 0, 2, 1, 5, 6 },
		{ 1, 2, 3, 0, 5, 6, 4 },
		{ 4, 3, 1, 6, 0, 2, 5 },
	};
	g_autofree char *first = NULL;
	for (gsize o = 0; o < G_N_ELEMENTS (orders); o++) {
		Fixture *f;
		assert_int_equal (setup ((void **) &f), 0);
		f->policy.domain_threshold = 3;
		for (gsize i = 0; i < G_N_ELEMENTS (reports); i++) {
			const Report *r = &reports[orders[o][i]];
			g_autofree char *rcpt = g_strdup_printf ("Final-Recipient: rfc822; %s", r->rcpt);
			g_autofree char *diag = g_strdup_printf ("Diagnostic-Code: smtp; %s", r->diag);
			const char *status = strstr (r->diag, "5.1.2") ? "Status: 5.1.2" : "Status: 5.1.1";
			apply_dsn (f, r->id, r->when, (const char *const[]) { rcpt, "Action: failed", status, diag, NULL });
		}
		char *dump = dump_store (f);
		if (!first)
			first = dump;
		else {
			if (strcmp (first, dump) != 0)
				fail_msg ("order %zu gives\n%s\nwhere the first gave\n%s", o, dump, first);
			g_free (dump);
		}
		teardown ((void **) &f);
	}
	/* And what they give: four distinct recipients, five records. */
	assert_non_null (strstr (first, "dead.example|1|6|hostunknown|"));
	assert_non_null (strstr (first, "|4 distinct recipients failed with hostunknown|"));
	assert_non_null (strstr (first, "|5\n"));
}

/* ---- prune: what is forgotten, and when ---- */

typedef struct {
	Fixture *f;
	BdbRetention retention;
	gint64 now;
	BdbPruneStats stats;
} PruneRun;

static gboolean
prune_cb (BdbTxn *txn, gpointer data, GError **error)
{
	PruneRun *r = data;
	return bdb_policy_prune (&r->f->policy, &r->retention, txn, r->now, &r->stats, error);
}

static BdbPruneStats
prune_at (Fixture *f, gint64 now)
{
	PruneRun r = { f, { 0 }, now, { 0 } };
	bdb_retention_init (&r.retention);
	GError *error = NULL;
	if (!bdb_store_write (f->store, prune_cb, &r, &error))
		fail_msg ("prune: %s", error->message);
	return r.stats;
}

typedef struct {
	const char *address;
	gint64 when, expires, removed_at;
} Entry;

static gboolean
put_entries (BdbTxn *txn, gpointer data, GError **error)
{
	for (const Entry *e = data; e->address; e++) {
		g_autoptr (BdbSuppression) s = bdb_suppression_new (e->address);
		s->first_seen = s->last_seen = e->when;
		s->expires = e->expires;
		if (e->removed_at) {
			s->state = BDB_STATE_REMOVED;
			s->removed_at = e->removed_at;
		}
		BdbTable t = strchr (e->address, '@') ? BDB_TABLE_ADDRESS : BDB_TABLE_DOMAIN;
		if (!bdb_txn_put_suppression (txn, t, s, error))
			return FALSE;
	}
	return TRUE;
}

static void
test_prune_suppressions (void **state)
{
	Fixture *f = *state;
	gint64 now = T0 + 400 * DAY;
	const Entry entries[] = {
		{ "expired@example.com", T0, now, 0 },           /* expires now: gone */
		{ "later@example.com", T0, now + 1, 0 },         /* not yet */
		{ "never@example.com", T0, 0, 0 },               /* never expires */
		{ "old-removal@example.com", T0, 0, now - 366 * DAY },
		{ "new-removal@example.com", T0, 0, now - 364 * DAY },
		{ "expired.example", T0, now - 1, 0 },           /* a domain */
		{ NULL, 0, 0, 0 },
	};
	assert_true (bdb_store_write (f->store, put_entries, (gpointer) entries, NULL));
	BdbPruneStats st = prune_at (f, now);
	assert_int_equal (st.expired, 2);
	assert_int_equal (st.removals, 1);
	g_autoptr (BdbSuppression) a = lookup (f, BDB_TABLE_ADDRESS, "expired@example.com");
	g_autoptr (BdbSuppression) b = lookup (f, BDB_TABLE_ADDRESS, "later@example.com");
	g_autoptr (BdbSuppression) c = lookup (f, BDB_TABLE_ADDRESS, "never@example.com");
	g_autoptr (BdbSuppression) d = lookup (f, BDB_TABLE_ADDRESS, "old-removal@example.com");
	g_autoptr (BdbSuppression) e = lookup (f, BDB_TABLE_ADDRESS, "new-removal@example.com");
	g_autoptr (BdbSuppression) g = lookup (f, BDB_TABLE_DOMAIN, "expired.example");
	assert_null (a);
	assert_non_null (b);
	assert_non_null (c);
	assert_null (d);
	assert_non_null (e);
	assert_null (g);
}

static void
test_prune_soft_window (void **state)
{
	Fixture *f = *state;
	f->policy.soft_window_days = 30;
	apply_dsn (f, "p1@x", T0, SOFT ("stale@example.com"));
	apply_dsn (f, "p2@x", T0 + 10 * DAY, SOFT ("fresh@example.com"));
	/* stale's newest day is 30 days old: its window is over. */
	BdbPruneStats st = prune_at (f, T0 + 30 * DAY);
	assert_int_equal (st.soft, 1);
	assert_int_equal (soft_days (f, "stale@example.com"), -1);
	assert_true (soft_days (f, "fresh@example.com") > 0);
}

/* A counter a success emptied is kept while its mark matters: pruned at
 * once, a soft bounce from before the success arriving late counted. */
static void
test_prune_keeps_the_cleared_mark (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "k1@x", T0, SOFT ("back@example.com"));
	apply_dsn (f, "k2@x", T0 + DAY, (const char *const[]) {
		"Final-Recipient: rfc822; back@example.com", "Action: delivered", "Status: 2.0.0", NULL });
	assert_int_equal (prune_at (f, T0 + 2 * DAY).soft, 0);
	apply_dsn (f, "k3@x", T0 - DAY, SOFT ("back@example.com"));
	assert_int_equal (soft_days (f, "back@example.com"), 0);
	/* A soft window after the success, the mark goes. */
	assert_int_equal (prune_at (f, T0 + 31 * DAY).soft, 1);
	assert_int_equal (soft_days (f, "back@example.com"), -1);
}

static void
test_prune_events_and_fingerprints (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "e1@x", T0, HARD ("a@example.com"));
	apply_dsn (f, "e2@x", T0 + 300 * DAY, HARD ("b@example.com"));
	/* At T0 + 366 days: the first event is over a year old, the first
	 * fingerprint over 90 days, the second one too. */
	BdbPruneStats st = prune_at (f, T0 + 366 * DAY);
	assert_int_equal (st.events, 1);
	assert_int_equal (st.fingerprints, 1);
	assert_true (has_event (f, "b@example.com", "suppress"));
	assert_false (has_event (f, "a@example.com", "suppress"));
	/* The suppressions themselves stay. */
	assert_true (suppressed_at (f, "a@example.com", T0 + 366 * DAY));
}

/* A message left in place (sweep --processed keep) keeps its fingerprint
 * while sweeps meet it, and while they pause: otherwise it is read and
 * counted again (issue 18: a soft count went 2, 4, 6). */
typedef struct {
	Fixture *f;
	const char *id;
	gint64 now;
} Keep;

static gboolean
keep_cb (BdbTxn *txn, gpointer data, GError **error)
{
	Keep *k = data;
	/* The message apply_dsn() made for T0. */
	g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (T0);
	g_autofree char *date = g_date_time_format (dt, "%a, %d %b %Y %H:%M:%S +0000");
	g_autofree char *msg = test_dsn_message_at (k->id, date, SOFT ("kept@example.com"));
	g_autoptr (BdbReport) r = test_parse (msg);
	return bdb_policy_keep (txn, r, k->now, error) && bdb_policy_keep_sweep (txn, k->now, error);
}

static gboolean
keep_sweep_cb (BdbTxn *txn, gpointer data, GError **error)
{
	Keep *k = data;
	return bdb_policy_keep_sweep (txn, k->now, error);
}

static void
keep_at (Fixture *f, const char *id, gint64 now)
{
	Keep k = { f, id, now };
	assert_true (bdb_store_write (f->store, id ? keep_cb : keep_sweep_cb, &k, NULL));
}

static void
test_prune_keeps_kept_fingerprints (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "k1@x", T0, SOFT ("kept@example.com"));
	apply_dsn (f, "n1@x", T0, SOFT ("moved@example.com"));   /* marked processed: not kept */
	keep_at (f, "k1@x", T0);
	/* Sweeps paused; a prune 200 days on forgets only the other one. */
	BdbPruneStats st = prune_at (f, T0 + 200 * DAY);
	assert_int_equal (st.fingerprints, 1);
	apply_dsn (f, "k1@x", T0, SOFT ("kept@example.com"));
	assert_int_equal (f->stats.duplicates, 1);
	/* A keep sweep meets it again: refreshed. */
	keep_at (f, "k1@x", T0 + 200 * DAY);
	st = prune_at (f, T0 + 280 * DAY);
	assert_int_equal (st.fingerprints, 0);
	/* The message is gone from the Maildir: keep sweeps go on without
	 * meeting it, and 90 days after the last sighting it is forgotten. */
	keep_at (f, NULL, T0 + 285 * DAY);
	st = prune_at (f, T0 + 286 * DAY);
	assert_int_equal (st.fingerprints, 0);
	keep_at (f, NULL, T0 + 291 * DAY);
	st = prune_at (f, T0 + 292 * DAY);
	assert_int_equal (st.fingerprints, 1);
}

/* ---- what becomes of a message: the decision sweep and ingest share ---- */

static BdbOutcome
outcome_of (const BdbReport *r, const GError *read_error, const BdbApplyStats *st,
            const GError *apply_error, const char *why_contains)
{
	g_autofree char *why = NULL;
	BdbOutcome o = bdb_policy_outcome (r, read_error, st, apply_error, &why);
	if (why_contains) {
		assert_non_null (why);
		if (!strstr (why, why_contains))
			fail_msg ("why '%s' does not say '%s'", why, why_contains);
	}
	if (o == BDB_OUTCOME_STORED)
		assert_null (why);
	return o;
}

static void
test_outcome (void **state)
{
	g_autoptr (GError) gone = g_error_new (BDB_ERROR, BDB_ERROR_NOT_FOUND, "vanished");
	g_autoptr (GError) big = g_error_new (BDB_ERROR, BDB_ERROR_LIMIT, "too big");
	g_autoptr (GError) io = g_error_new (BDB_ERROR, BDB_ERROR_IO, "read error");
	g_autoptr (GError) invalid = g_error_new (BDB_ERROR, BDB_ERROR_INVALID, "key too long");
	g_autoptr (GError) full = g_error_new (BDB_ERROR, BDB_ERROR_DB_FULL, "no space");
	g_autoptr (GError) busy = g_error_new (BDB_ERROR, BDB_ERROR_DB_BUSY, "busy");

	/* Not read. */
	assert_int_equal (outcome_of (NULL, gone, NULL, NULL, NULL), BDB_OUTCOME_VANISHED);
	assert_int_equal (outcome_of (NULL, big, NULL, NULL, "too big"), BDB_OUTCOME_QUARANTINE);
	assert_int_equal (outcome_of (NULL, io, NULL, NULL, "read error"), BDB_OUTCOME_RETRY);
	assert_int_equal (outcome_of (NULL, NULL, NULL, NULL, NULL), BDB_OUTCOME_RETRY);

	/* Read, no records. */
	g_autoptr (BdbReport) plain = test_parse ("From: a@example.com\nTo: b@example.org\nSubject: hi\n\nhello\n");
	assert_int_equal (outcome_of (plain, NULL, NULL, NULL, "not a bounce"), BDB_OUTCOME_NOT_BOUNCE);

	/* Read, with records. */
	g_autofree char *msg = test_dsn_message (HARD ("gone@example.com"));
	g_autoptr (BdbReport) r = test_parse (msg);
	BdbApplyStats st = { .messages = 1, .records = 1, .suppressed = 1 };
	assert_int_equal (outcome_of (r, NULL, &st, NULL, NULL), BDB_OUTCOME_STORED);
	assert_int_equal (outcome_of (r, NULL, NULL, NULL, NULL), BDB_OUTCOME_STORED);  /* a dry run */
	BdbApplyStats dup = { .duplicates = 1 };
	assert_int_equal (outcome_of (r, NULL, &dup, NULL, NULL), BDB_OUTCOME_STORED);
	/* Nothing learned: every record refused. */
	BdbApplyStats none = { .messages = 1, .records = 2, .invalid = 2 };
	assert_int_equal (outcome_of (r, NULL, &none, NULL, "no recipient"), BDB_OUTCOME_QUARANTINE);
	BdbApplyStats forged = { .messages = 1, .records = 2, .forged = 1, .suppressed = 1 };
	assert_int_equal (outcome_of (r, NULL, &forged, NULL, "signed"), BDB_OUTCOME_QUARANTINE);
	/* Failures: the message's own (it would fail on every retry) or local. */
	assert_int_equal (outcome_of (r, NULL, NULL, invalid, "cannot be stored"), BDB_OUTCOME_QUARANTINE);
	assert_int_equal (outcome_of (r, NULL, NULL, full, "no space"), BDB_OUTCOME_RETRY);
	assert_int_equal (outcome_of (r, NULL, NULL, busy, "busy"), BDB_OUTCOME_RETRY);
	assert_string_equal (bdb_outcome_name (BDB_OUTCOME_QUARANTINE), "quarantine");
}

/* The summary of a run adds up. */
static void
test_outcome_counts (void **state)
{
	BdbOutcomeCounts c = { 0 };
	BdbApplyStats a = { .messages = 1, .records = 3, .suppressed = 2, .soft = 1 };
	BdbApplyStats b = { .messages = 1, .records = 2, .forged = 2 };
	bdb_outcome_count (&c, BDB_OUTCOME_STORED, TRUE, &a);
	bdb_outcome_count (&c, BDB_OUTCOME_STORED, TRUE, &a);
	bdb_outcome_count (&c, BDB_OUTCOME_QUARANTINE, TRUE, &b);
	bdb_outcome_count (&c, BDB_OUTCOME_NOT_BOUNCE, FALSE, NULL);
	bdb_outcome_count (&c, BDB_OUTCOME_RETRY, TRUE, NULL);
	bdb_outcome_count (&c, BDB_OUTCOME_VANISHED, FALSE, NULL);
	assert_int_equal (c.messages, 6);
	assert_int_equal (c.reports, 4);
	assert_int_equal (c.stored, 2);
	assert_int_equal (c.quarantined, 1);
	assert_int_equal (c.not_bounces, 1);
	assert_int_equal (c.left, 1);
	assert_int_equal (c.vanished, 1);
	assert_int_equal (c.applied.messages, 3);
	assert_int_equal (c.applied.records, 8);
	assert_int_equal (c.applied.suppressed, 4);
	assert_int_equal (c.applied.soft, 2);
	assert_int_equal (c.applied.forged, 2);
}

/* A report that taught nothing is not remembered as applied: read again,
 * it is kept again instead of passing for stored. */
static void
test_nothing_learned_is_not_seen (void **state)
{
	Fixture *f = *state;
	apply_dsn (f, "inv1@x", T0, (const char *const[]) {
		"Final-Recipient: rfc822; bob@\xe2\x98\x83.example", "Action: failed", "Status: 5.1.1", NULL });
	assert_int_equal (f->stats.invalid, 1);
	memset (&f->stats, 0, sizeof f->stats);
	apply_dsn (f, "inv1@x", T0, (const char *const[]) {
		"Final-Recipient: rfc822; bob@\xe2\x98\x83.example", "Action: failed", "Status: 5.1.1", NULL });
	assert_int_equal (f->stats.duplicates, 0);
	assert_int_equal (f->stats.invalid, 1);
}

int
main (void)
{
#define T(fn) cmocka_unit_test_setup_teardown (fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T (test_hard_bounce_suppresses_once),
		T (test_soft_bounces_need_days_and_span),
		T (test_stale_soft_counter_resets),
		T (test_sender_side_never_counts),
		T (test_success_clears_soft_counter),
		T (test_removal_is_remembered),
		T (test_domain_after_distinct_hostunknown),
		T (test_null_mx_suppresses_domain_at_once),
		T (test_future_dates_are_not_trusted),
		T (test_original_recipient_is_the_key),
		T (test_token_covers_only_its_recipient),
		T (test_signed_null_mx_needs_the_threshold),
		T (test_signed_complaint_covers_only_its_recipient),
		T (test_merge_is_idempotent),
		T (test_one_report_counts_once),
		cmocka_unit_test (test_order_independent),
		T (test_prune_suppressions),
		T (test_prune_soft_window),
		T (test_prune_keeps_the_cleared_mark),
		T (test_prune_events_and_fingerprints),
		T (test_prune_keeps_kept_fingerprints),
		cmocka_unit_test (test_outcome),
		cmocka_unit_test (test_outcome_counts),
		T (test_nothing_learned_is_not_seen),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
