/* Classification: the case table (tests/classify_cases.tsv), the reason
 * vocabulary and the rules language. */
#include <string.h>
#include "testutil.h"
#include "rules-private.h"

static BdbRules *rules;

static int
setup (void **state)
{
	GError *error = NULL;
	rules = bdb_rules_new (&error);
	if (!rules) {
		fprintf (stderr, "built-in rules: %s\n", error->message);
		return -1;
	}
	return 0;
}

static int
teardown (void **state)
{
	bdb_rules_free (rules);
	return 0;
}

/* Classify one synthetic DSN built from a case's fields. */
static void
classify_case (const char *action, const char *status, const char *diag, BdbVerdict *v,
               BdbReport **report_out)
{
	g_autofree char *a = g_strdup_printf ("Action: %s", action);
	g_autofree char *s = strcmp (status, "-") ? g_strdup_printf ("Status: %s", status) : NULL;
	g_autofree char *d = strcmp (diag, "-") ? g_strdup_printf ("Diagnostic-Code: smtp; %s", diag) : NULL;
	const char *fields[5] = { "Final-Recipient: rfc822; rcpt@example.com", a, NULL, NULL, NULL };
	int n = 2;
	if (s)
		fields[n++] = s;
	if (d)
		fields[n++] = d;
	g_autofree char *msg = test_dsn_message (fields);
	BdbReport *r = test_parse (msg);
	assert_int_equal (bdb_report_n_records (r), 1);
	bdb_classify (rules, bdb_report_get_record (r, 0), v);
	*report_out = r;
}

static void
test_case_table (void **state)
{
	g_autofree char *path = g_build_filename (TESTS_DIR, "classify_cases.tsv", NULL);
	g_autofree char *text = NULL;
	GError *error = NULL;
	if (!g_file_get_contents (path, &text, NULL, &error))
		fail_msg ("%s", error->message);

	char **lines = g_strsplit (text, "\n", -1);
	guint cases = 0, failures = 0;
	for (guint i = 0; lines[i]; i++) {
		const char *line = lines[i];
		if (!*line || *line == '#')
			continue;
		char **col = g_strsplit (line, "\t", -1);
		if (g_strv_length (col) != 6)
			fail_msg ("%s:%u: want 6 tab-separated columns, got %u", path, i + 1, g_strv_length (col));
		BdbReason want_reason;
		BdbDisposition want_disp;
		if (!bdb_reason_from_name (col[3], &want_reason))
			fail_msg ("%s:%u: unknown reason '%s'", path, i + 1, col[3]);
		if (!bdb_disposition_from_name (col[4], &want_disp))
			fail_msg ("%s:%u: unknown disposition '%s'", path, i + 1, col[4]);
		gboolean want_hard = strcmp (col[5], "yes") == 0;

		BdbVerdict v;
		BdbReport *r;
		classify_case (col[0], col[1], col[2], &v, &r);
		cases++;
		if (v.reason != want_reason || v.disposition != want_disp || v.hard != want_hard) {
			failures++;
			fprintf (stderr, "%s:%u: %s %s \"%s\"\n    got %s/%s/%s by rule %s, want %s/%s/%s\n",
			         path, i + 1, col[0], col[1], col[2], bdb_reason_name (v.reason),
			         bdb_disposition_name (v.disposition), v.hard ? "hard" : "soft",
			         v.rule ? bdb_rule_id (v.rule) : "(none)", col[3], col[4],
			         want_hard ? "hard" : "soft");
		}
		bdb_report_free (r);
		g_strfreev (col);
	}
	g_strfreev (lines);
	fprintf (stderr, "classify_cases.tsv: %u cases, %u failures\n", cases, failures);
	assert_true (cases >= 150);
	assert_int_equal (failures, 0);
}

static void
test_vocabulary (void **state)
{
	/* Every reason has one distinct name that maps back to it. */
	g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
	for (guint i = 0; i < BDB_REASON_COUNT; i++) {
		const char *name = bdb_reason_name ((BdbReason) i);
		assert_non_null (name);
		assert_false (g_hash_table_contains (seen, name));
		g_hash_table_add (seen, (gpointer) name);
		BdbReason back;
		assert_true (bdb_reason_from_name (name, &back));
		assert_int_equal (back, i);
	}
	for (guint i = 0; i < BDB_DISPOSITION_COUNT; i++) {
		BdbDisposition d;
		assert_true (bdb_disposition_from_name (bdb_disposition_name ((BdbDisposition) i), &d));
		assert_int_equal (d, i);
	}
	for (guint i = 0; i < BDB_SCOPE_COUNT; i++) {
		BdbScope s;
		assert_true (bdb_scope_from_name (bdb_scope_name ((BdbScope) i), &s));
		assert_int_equal (s, i);
	}
	BdbReason r;
	assert_false (bdb_reason_from_name ("nosuchreason", &r));
}

static void
expect_rules_error (const char *text, const char *fragment)
{
	g_autoptr (BdbRules) r = bdb_rules_new (NULL);
	GError *error = NULL;
	assert_false (bdb_rules_add_text (r, "user.rules", text, -1, &error));
	assert_non_null (error);
	if (!strstr (error->message, fragment))
		fail_msg ("error '%s' does not mention '%s'", error->message, fragment);
	g_error_free (error);
}

static void
test_rules_language_errors (void **state)
{
	expect_rules_error ("x1 nosuch status=5.1.1\n", "user.rules:1: unknown reason 'nosuch'");
	expect_rules_error ("# c\n\nx1 blocked colour=red\n", "user.rules:3: unknown condition 'colour'");
	expect_rules_error ("x1 blocked text~\"open\n", "unterminated string");
	expect_rules_error ("x1 blocked text~/a(/\n", "bad regular expression");
	expect_rules_error ("x1 blocked status=5.x.1\n", "bad status pattern");
	expect_rules_error ("x1 blocked status=5.1.1\nx1 spamdetected text~\"s\"\n", "used twice");
	expect_rules_error ("x1 blocked text=\"a\"\n", "takes ~");
	expect_rules_error ("x/1 blocked text~\"a\"\n", "bad rule id");
	/* Found by fuzzing: PCRE read past invalid UTF-8 in a pattern. */
	expect_rules_error ("# ok\nmy-rule mailboxfull status=0.2.2 text~\"quota\",/over\\s\xff\xffuota/\n",
	                    "user.rules:2: not valid UTF-8");
	expect_rules_error ("x1 blocked text~\"\xc3\"\n", "user.rules:1: not valid UTF-8");
}

/* The prefilter of regular expressions: a run every match contains, or
 * nothing when none is certain. */
static void
test_regex_needs (void **state)
{
	static const struct {
		const char *pattern, *needs;
	} cases[] = {
		{ "mailbox .{0,60}does not exist", "does not exist" },
		{ "\\bspf\\b.{0,40}\\b(fail|softfail)", "spf" },
		{ "unknown address(?!\\s+error)", "unknown address" },
		{ "\\bnon-?existent (user|recipient|address)", "existent " },
		{ "<[^>]*> (not found|does not exist)", NULL },
		{ "\\[bl2[0-9]\\]", "bl2" },
		{ "#bl[0-9]{3,}", "#bl" },
		{ "Reputation", "reputation" },
		{ "spam|virus", NULL },
		{ "\\S", NULL },
		{ "colou?r blind", "r blind" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *got = bdb_rules_regex_needs (cases[i].pattern);
		if (g_strcmp0 (got, cases[i].needs) != 0)
			fail_msg ("/%s/: needs '%s', want '%s'", cases[i].pattern, got ? got : "(nothing)",
			          cases[i].needs ? cases[i].needs : "(nothing)");
	}
}

/* A failed DSN for @rcpt with diagnostic @diag; free with bdb_report_free(). */
static BdbReport *
failed_dsn_for (const char *rcpt, const char *diag)
{
	g_autofree char *f = g_strdup_printf ("Final-Recipient: rfc822; %s", rcpt);
	g_autofree char *d = g_strdup_printf ("Diagnostic-Code: smtp; %s", diag);
	g_autofree char *msg = test_dsn_message ((const char *const[]) { f, "Action: failed", d, NULL });
	return test_parse (msg);
}

/* The rules can read the recipient: its domain (rcpt~) and whether the
 * diagnostic names it (quotes=rcpt); explain shows what made each
 * condition of the deciding rule hold. */
static void
test_recipient_conditions_and_evidence (void **state)
{
	g_autoptr (BdbRules) r = bdb_rules_new (NULL);
	GError *error = NULL;
	assert_true (bdb_rules_add_text (r, "user.rules",
	                                 "ours-unnamed  filtered  rcpt~\"@example.org\" !quotes=rcpt text~/gone|absent/\n"
	                                 "ours-named    suspend   rcpt~\"@example.org\" quotes=rcpt\n", -1, &error));
	static const struct {
		const char *rcpt, *diag, *rule, *evidence;
	} cases[] = {
		{ "ann@example.org", "550 mailbox absent", "ours-unnamed", "rcpt~\"@example.org\"; !quotes=rcpt; text~\"absent\"" },
		{ "ann@example.org", "550 <ann@example.org> is gone", "ours-named", "rcpt~\"@example.org\"; quotes=rcpt" },
		{ "ann@example.com", "550 5.1.1 mailbox absent", "userunknown-511", "status=5.1.1" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (BdbReport) rep = failed_dsn_for (cases[i].rcpt, cases[i].diag);
		BdbVerdict v;
		bdb_classify (r, bdb_report_get_record (rep, 0), &v);
		assert_string_equal (bdb_rule_id (v.rule), cases[i].rule);
		g_autofree char *evidence = bdb_classify_evidence (r, bdb_report_get_record (rep, 0), &v);
		assert_string_equal (evidence, cases[i].evidence);
	}
}

/* Japanese mobile carriers answer "user unknown" for their recipients'
 * reception filters: after DATA or without the address it is filtered,
 * at RCPT naming the address a dead mailbox (issue 16). */
static void
test_jp_carriers (void **state)
{
	static const struct {
		const char *rcpt, *diag;
		BdbReason reason;
	} cases[] = {
		{ "hanako@docomo.ne.jp", "550 Unknown user", BDB_REASON_FILTERED },
		{ "hanako@ezweb.ne.jp", "host lsean.ezweb.ne.jp[192.0.2.40] said: 550 5.1.1 unknown recipient", BDB_REASON_FILTERED },
		{ "hanako@i.softbank.jp", "host mx.softbank.example[192.0.2.41] said: 550 <hanako@i.softbank.jp>: "
		  "User unknown (in reply to end of DATA command)", BDB_REASON_FILTERED },
		{ "hanako@au.com", "host msmx.au.example[192.0.2.42] said: 550 <hanako@au.com>: User unknown "
		  "(in reply to RCPT TO command)", BDB_REASON_USERUNKNOWN },
		{ "hanako@docomo.ne.jp", "550 <hanako@docomo.ne.jp>: no such user", BDB_REASON_USERUNKNOWN },
		/* Other domains: the words are believed. */
		{ "hanako@example.jp", "550 Unknown user", BDB_REASON_USERUNKNOWN },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autoptr (BdbReport) rep = failed_dsn_for (cases[i].rcpt, cases[i].diag);
		BdbVerdict v;
		bdb_classify (rules, bdb_report_get_record (rep, 0), &v);
		if (v.reason != cases[i].reason)
			fail_msg ("%s \"%s\": %s by %s, want %s", cases[i].rcpt, cases[i].diag, bdb_reason_name (v.reason),
			          bdb_rule_id (v.rule), bdb_reason_name (cases[i].reason));
		assert_int_equal (v.hard, cases[i].reason == BDB_REASON_USERUNKNOWN);
	}
}

/* A local delivery agent's own report ("Diagnostic-Code: X-Unix; 75"):
 * its program failed, whatever number it gave. */
static void
test_local_agent_report (void **state)
{
	g_autofree char *msg = test_dsn_message ((const char *const[]) {
		"Final-Recipient: rfc822; kim@example.org", "Action: failed", "Status: 5.0.0",
		"Diagnostic-Code: X-Unix; 75", NULL });
	g_autoptr (BdbReport) rep = test_parse (msg);
	BdbVerdict v;
	bdb_classify (rules, bdb_report_get_record (rep, 0), &v);
	assert_int_equal (v.reason, BDB_REASON_MAILERERROR);
	assert_false (v.hard);
}

/* A Sendmail notice without a delivery-status part whose transcript shows
 * RCPT and DATA pipelined (RFC 2920): the 550 logged after ">>> DATA"
 * answered RCPT, as DATA's own "503 ... need RCPT" says (issue 16).  Not
 * pipelined, the same 550 answered DATA. */
static void
test_pipelined_text_transcript (void **state)
{
	static const char *const tails[] = { "<<< 503 5.5.1 Error: need RCPT command\n", "" };
	static const BdbReason want[] = { BDB_REASON_USERUNKNOWN, BDB_REASON_FILTERED };
	for (gsize i = 0; i < G_N_ELEMENTS (tails); i++) {
		g_autofree char *msg = g_strdup_printf (
			"From: Mail Delivery Subsystem <MAILER-DAEMON@mx.example.net>\n"
			"To: me@example.net\n"
			"Subject: Returned mail: see transcript for details\n\n"
			"The original message was received at Mon, 1 Jan 2024 10:00:00 +0000\n\n"
			"   ----- The following addresses had permanent fatal errors -----\n"
			"<ann@example.org>\n\n"
			"   ----- Transcript of session follows -----\n"
			"... while talking to mx.example.org.:\n"
			">>> DATA\n"
			"<<< 550 no mailbox by that name\n"
			"550 <ann@example.org>... User unknown\n%s\n", tails[i]);
		g_autoptr (BdbReport) rep = test_parse (msg);
		assert_int_equal (bdb_report_n_records (rep), 1);
		const BdbRecord *rec = bdb_report_get_record (rep, 0);
		BdbVerdict v;
		bdb_classify (rules, rec, &v);
		if (v.reason != want[i])
			fail_msg ("case %zu: %s by %s (command %s), want %s", i, bdb_reason_name (v.reason),
			          bdb_rule_id (v.rule), bdb_record_get (rec, BDB_FIELD_SMTP_COMMAND),
			          bdb_reason_name (want[i]));
	}
}

static void
test_user_rules_override (void **state)
{
	g_autoptr (BdbRules) r = bdb_rules_new (NULL);
	GError *error = NULL;
	/* A user rule that is consulted first, and one that replaces the
	 * built-in rule for 5.1.1 by id. */
	assert_true (bdb_rules_add_text (r, "user.rules",
	                                 "our-relay   norelaying  mta~\"smarthost.example.net\"\n"
	                                 "userunknown-511 filtered status=5.1.1\n", -1, &error));
	g_autofree char *msg = test_dsn_message ((const char *const[]) {
		"Final-Recipient: rfc822; a@example.com", "Action: failed", "Status: 5.1.1",
		"Remote-MTA: dns; mx.example.com", NULL });
	g_autoptr (BdbReport) rep = test_parse (msg);
	BdbVerdict v;
	bdb_classify (r, bdb_report_get_record (rep, 0), &v);
	assert_int_equal (v.reason, BDB_REASON_FILTERED);
	assert_string_equal (bdb_rule_id (v.rule), "userunknown-511");
	assert_string_equal (bdb_rule_origin (v.rule), "user.rules:2");
	assert_false (v.hard);

	g_autofree char *msg2 = test_dsn_message ((const char *const[]) {
		"Final-Recipient: rfc822; a@example.com", "Action: failed", "Status: 5.1.1",
		"Remote-MTA: dns; smarthost.example.net", NULL });
	g_autoptr (BdbReport) rep2 = test_parse (msg2);
	bdb_classify (r, bdb_report_get_record (rep2, 0), &v);
	assert_int_equal (v.reason, BDB_REASON_NORELAYING);
	assert_int_equal (v.evidence, BDB_FIELD_REMOTE_MTA);
	assert_int_equal (v.disposition, BDB_DISPOSITION_SENDER);
}

static void
test_verdict_evidence (void **state)
{
	BdbVerdict v;
	BdbReport *r;
	classify_case ("failed", "5.0.0", "550 5.7.1 Message rejected per DMARC policy", &v, &r);
	assert_int_equal (v.reason, BDB_REASON_AUTHFAILURE);
	assert_int_equal (v.evidence, BDB_FIELD_DIAGNOSTIC);
	assert_int_equal (v.scope, BDB_SCOPE_SENDER);
	assert_non_null (bdb_rule_text (v.rule));
	assert_true (g_str_has_prefix (bdb_rule_origin (v.rule), "builtin:"));
	bdb_report_free (r);

	classify_case ("failed", "5.1.1", "-", &v, &r);
	assert_int_equal (v.reason, BDB_REASON_USERUNKNOWN);
	assert_int_equal (v.evidence, BDB_FIELD_STATUS);
	assert_true (v.hard);
	assert_int_equal (v.disposition, BDB_DISPOSITION_SUPPRESS);
	bdb_report_free (r);

	/* A delayed report is never a bounce, whatever it says. */
	classify_case ("delayed", "4.1.1", "450 4.1.1 user unknown", &v, &r);
	assert_false (v.hard);
	assert_int_equal (v.disposition, BDB_DISPOSITION_DELAY);
	bdb_report_free (r);
}

/* Postfix's notices about refusals by `bouncedb serve`: the transport
 * map's error: (X-Postfix) and a relay's report of serve's 550 at RCPT.
 * The reason stays; nothing is held against the address. */
static void
test_refusal_by_serve (void **state)
{
	static const char *const diagnostics[] = {
		"<bob@example.net>: suppressed (userunknown since 2026-11-01) [bouncedb]",
		"host mx.example.org[192.0.2.1] said: 550 5.1.1 <bob@example.net>: Recipient address "
		"rejected: <bob@example.net>: suppressed (userunknown since 2026-11-01) [bouncedb] "
		"(in reply to RCPT TO command)",
		"550 5.7.1 bob@example.net complained (feedback) [BOUNCEDB]",
	};
	for (gsize i = 0; i < G_N_ELEMENTS (diagnostics); i++) {
		BdbVerdict v;
		BdbReport *r;
		classify_case ("failed", "5.1.1", diagnostics[i], &v, &r);
		assert_int_equal (v.disposition, BDB_DISPOSITION_IGNORE);
		assert_false (v.hard);
		bdb_report_free (r);
	}
	/* The same words without the marker are a bounce as before. */
	BdbVerdict v;
	BdbReport *r;
	classify_case ("failed", "5.1.1", "550 5.1.1 <bob@example.net>: suppressed (userunknown)", &v, &r);
	assert_int_equal (v.disposition, BDB_DISPOSITION_SUPPRESS);
	bdb_report_free (r);
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_vocabulary),
		cmocka_unit_test (test_rules_language_errors),
		cmocka_unit_test (test_regex_needs),
		cmocka_unit_test (test_user_rules_override),
		cmocka_unit_test (test_verdict_evidence),
		cmocka_unit_test (test_recipient_conditions_and_evidence),
		cmocka_unit_test (test_jp_carriers),
		cmocka_unit_test (test_local_agent_report),
		cmocka_unit_test (test_pipelined_text_transcript),
		cmocka_unit_test (test_refusal_by_serve),
		cmocka_unit_test (test_case_table),
	};
	return cmocka_run_group_tests (tests, setup, teardown);
}
