/* The report reader: the finders over diagnostic text, the field-block
 * parser and the shapes of delivery-status parts seen in real mail. */
#include <string.h>
#include "testutil.h"
#include "diag.h"
#include "fields.h"
#include "fields.h"

static void
test_enhanced_code (void **state)
{
	static const struct {
		const char *text;
		const char *code;
	} cases[] = {
		{ "550 5.1.1 <a@example.com>: user unknown", "5.1.1" },
		{ "#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##", "5.1.1" },
		{ "(#5.1.1 - chkusr)", "5.1.1" },
		{ "550 5.7.606 Access denied, banned sending IP", "5.7.606" },
		{ "host mx[10.5.1.1] said: 550 no such user", NULL },
		{ "version 5.1.10.2 released", NULL },
		{ "452-4.2.2 The email account is over quota", "4.2.2" },
		{ "timeout after 30.0.1 seconds", NULL },
		{ "3.1.1 is not a status", NULL },
		{ "", NULL },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		char out[16];
		gboolean found = bdb_find_enhanced_code (cases[i].text, out);
		if (cases[i].code) {
			if (!found)
				fail_msg ("'%s': no code found, want %s", cases[i].text, cases[i].code);
			assert_string_equal (out, cases[i].code);
		} else if (found) {
			fail_msg ("'%s': found %s, want none", cases[i].text, out);
		}
	}
}

static void
test_reply_code (void **state)
{
	static const struct {
		const char *text;
		const char *code;
	} cases[] = {
		{ "host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@b>: User unknown", "550" },
		{ "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound'", "550" },
		{ "421-4.7.0 Try again later", "421" },
		{ "550-5.1.1 The email account that you tried to reach does not exist", "550" },
		{ "connect to mx.example.com[192.0.2.1]:25: Connection timed out", NULL },
		{ "message of 5000 bytes exceeds 250 recipients", NULL },
		{ "554 delivery error: dd This user doesn't have an account", "554" },
		{ "ERROR_CODE :550, ERROR_CODE :Requested action not taken", "550" },
		{ "<<< 552 Message size exceeds fixed limit", "552" },
		{ "error 600 is not a reply", NULL },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		char out[4];
		gboolean found = bdb_find_reply_code (cases[i].text, out);
		if (cases[i].code) {
			if (!found)
				fail_msg ("'%s': no reply found, want %s", cases[i].text, cases[i].code);
			assert_string_equal (out, cases[i].code);
		} else if (found) {
			fail_msg ("'%s': found %s, want none", cases[i].text, out);
		}
	}
}

/* The command a failure answered: the MTA's own words, or the order of a
 * transcript (folded into one line, as a record's context is). */
static void
test_smtp_command (void **state)
{
	static const struct {
		const char *text;
		const char *command;
	} cases[] = {
		{ "host mx.example.org[192.0.2.7] said: 550 5.1.1 No such mailbox (in reply to RCPT TO command)", "RCPT" },
		{ "SMTP error from remote mail server after pipelined RCPT TO:<ann@example.org>: 550 no mailbox", "RCPT" },
		{ "SMTP error from remote mail server after pipelined end of data: 554 rejected", "DATA" },
		{ "Remote host said: 550 5.1.1 <ann@example.org>... no such mailbox [RCPT_TO]", "RCPT" },
		{ "The error that the other server returned was: 550 550 unknown recipient (state 18).", "DATA" },
		{ "The error that the other server returned was: 550 550 5.1.1 unknown recipient (state 14).", "RCPT" },
		{ "Connected to 192.0.2.7 but sender was rejected. Remote host said: 553 go away", "MAIL" },
		{ "192.0.2.7 failed after I sent the message. Remote host said: 554 content refused", "DATA" },
		{ "SMTP error from remote server for TEXT command, host: mx.example.org reason: 550 refused", "DATA" },
		/* Sendmail: the last command before the first negative reply. */
		{ "... while talking to mx.example.org.: >>> MAIL From:<me@example.net> <<< 250 ok "
		  ">>> RCPT To:<ann@example.org> <<< 550 no such mailbox", "RCPT" },
		{ "... while talking to mx.example.org.: >>> DATA <<< 550 mailbox gone "
		  "554 5.0.0 Service unavailable", "DATA" },
		/* Pipelining: the RCPT's refusal arrives after ">>> DATA"; the DATA's
		 * own reply says no recipient was taken (RFC 2920). */
		{ "... while talking to mx.example.org.: >>> DATA <<< 550 mailbox gone "
		  "550 5.1.1 <ann@example.org>... User unknown <<< 503 5.5.1 need RCPT command", "RCPT" },
		{ "... while talking to mx.example.org.: >>> DATA <<< 550 mailbox gone "
		  "<<< 554 5.5.1 Error: no valid recipients", "RCPT" },
		/* InterScan's arrows point the other way. */
		{ "Sent <<< RCPT TO:<ann@example.org> Received >>> 550 5.1.1 unknown", "RCPT" },
		{ "550 5.1.1 <ann@example.org>... no such mailbox", NULL },
		{ "", NULL },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		const char *got = bdb_find_smtp_command (cases[i].text);
		if (g_strcmp0 (got, cases[i].command) != 0)
			fail_msg ("'%s': command %s, want %s", cases[i].text, got ? got : "(none)",
			          cases[i].command ? cases[i].command : "(none)");
	}
}

static void
test_status_valid (void **state)
{
	assert_true (bdb_status_is_valid ("5.1.1"));
	assert_true (bdb_status_is_valid ("4.7.650"));
	assert_true (bdb_status_is_valid ("2.0.0"));
	assert_false (bdb_status_is_valid ("3.1.1"));
	assert_false (bdb_status_is_valid ("5.1"));
	assert_false (bdb_status_is_valid ("5.1.1.1"));
	assert_false (bdb_status_is_valid ("5.1234.1"));
	assert_false (bdb_status_is_valid ("5.1.1 "));
	assert_false (bdb_status_is_valid (NULL));
}

static void
test_field_list_line_ends (void **state)
{
	static const char *const texts[] = {
		"Final-Recipient: rfc822; a@example.com\nStatus: 5.1.1\n\nAction: failed\n",
		"Final-Recipient: rfc822; a@example.com\r\nStatus: 5.1.1\r\n\r\nAction: failed\r\n",
		"Final-Recipient: rfc822; a@example.com\rStatus: 5.1.1\r\rAction: failed\r",
	};
	for (gsize i = 0; i < G_N_ELEMENTS (texts); i++) {
		g_autoptr (BdbFieldList) l = bdb_field_list_parse (texts[i], strlen (texts[i]), 0);
		assert_int_equal (l->fields->len, 4);
		BdbStatusField *f = (BdbStatusField *) l->fields->data;
		assert_string_equal (f[0].name, "Final-Recipient");
		assert_string_equal (f[0].value, "rfc822; a@example.com");
		assert_string_equal (f[1].value, "5.1.1");
		assert_null (f[2].name);  /* the blank line */
		assert_string_equal (f[3].name, "Action");
	}
}

static void
test_field_list_folding (void **state)
{
	const char *text =
		"Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to\n"
		"    reach does not exist.\n"
		"550 5.1.1 unindented continuation\n"
		"Status: 5.1.1\n";
	g_autoptr (BdbFieldList) l = bdb_field_list_parse (text, strlen (text), 0);
	assert_int_equal (l->fields->len, 2);
	BdbStatusField *f = (BdbStatusField *) l->fields->data;
	assert_string_equal (f[0].value,
	                     "smtp; 550-5.1.1 The email account that you tried to reach does not exist. "
	                     "550 5.1.1 unindented continuation");
}

static void
test_untype (void **state)
{
	char type[32];
	assert_string_equal (bdb_field_untype ("dns; mx.example.com", type), "mx.example.com");
	assert_string_equal (type, "dns");
	assert_string_equal (bdb_field_untype ("mx.example.com", type), "mx.example.com");
	assert_string_equal (type, "");
	/* A ';' inside prose is not a type separator. */
	assert_string_equal (bdb_field_untype ("550 user unknown; sorry", type), "550 user unknown; sorry");
}

/* Recipients of a parsed DSN, joined with spaces. */
static char *
recipients (const BdbReport *r)
{
	GString *s = g_string_new (NULL);
	for (guint i = 0; i < bdb_report_n_records (r); i++) {
		if (i)
			g_string_append_c (s, ' ');
		g_string_append (s, bdb_record_get (bdb_report_get_record (r, i), BDB_FIELD_RECIPIENT));
	}
	return g_string_free (s, FALSE);
}

static void
check_dsn (const char *const *fields, const char *want_rcpts)
{
	g_autofree char *msg = test_dsn_message (fields);
	g_autoptr (BdbReport) r = test_parse (msg);
	g_autofree char *got = recipients (r);
	assert_string_equal (got, want_rcpts);
}

static void
test_dsn_blocks (void **state)
{
	/* Standard: blank lines between blocks. */
	check_dsn ((const char *const[]) {
		"Final-Recipient: rfc822; a@example.com", "Action: failed", "Status: 5.1.1", "",
		"Final-Recipient: rfc822; b@example.com", "Action: failed", "Status: 5.1.1", NULL },
		"a@example.com b@example.com");
	/* No blank lines, Original-Recipient first. */
	check_dsn ((const char *const[]) {
		"Original-Recipient: rfc822; a@example.com", "Final-Recipient: rfc822; a@example.com",
		"Action: failed", "Status: 5.1.1",
		"Original-Recipient: rfc822; b@example.com", "Final-Recipient: rfc822; b@example.com",
		"Action: failed", "Status: 5.1.1", NULL },
		"a@example.com b@example.com");
	/* No blank lines, Final first, second block without Original. */
	check_dsn ((const char *const[]) {
		"Final-Recipient: rfc822; a@example.com", "Action: failed", "Status: 5.1.1",
		"Original-Recipient: rfc822; b@example.com", "Final-Recipient: rfc822; b@example.com",
		"Action: failed", NULL },
		"a@example.com b@example.com");
	/* Action and Status before the recipient fields (Sun Messaging Server). */
	check_dsn ((const char *const[]) {
		"Action: failed", "Status: 5.0.0", "Original-recipient: rfc822;a@example.com",
		"Final-recipient: rfc822;a@example.com", "", "Action: failed", "Status: 5.0.0",
		"Original-recipient: rfc822;b@example.com", "Final-recipient: rfc822;b@example.com", NULL },
		"a@example.com b@example.com");
	/* Missing Final-Recipient: Original-Recipient stands in. */
	check_dsn ((const char *const[]) {
		"Original-Recipient: rfc822; Orig@Example.com", "Action: failed", "Status: 5.1.1", NULL },
		"orig@example.com");
}

static void
test_dsn_fields (void **state)
{
	g_autofree char *msg = test_dsn_message ((const char *const[]) {
		"Original-Recipient: rfc822;user+2Btag@example.com",
		"Final-Recipient: rfc822; User@Example.com",
		"Action: Failed (bad destination)",
		"Status: 5.0.0 (permanent failure)",
		"Remote-MTA: dns; mx.example.com",
		"Diagnostic-Code: smtp; 550 5.1.1 <user@example.com>: Recipient address",
		"    rejected: User unknown in local recipient table",
		"Last-Attempt-Date: Mon, 2 Nov 2026 09:59:00 +0000",
		NULL });
	g_autoptr (BdbReport) r = test_parse (msg);
	assert_int_equal (bdb_report_kind (r), BDB_KIND_DSN);
	assert_int_equal (bdb_report_n_records (r), 1);
	const BdbRecord *rec = bdb_report_get_record (r, 0);
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_RECIPIENT), "user@example.com");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_ORIGINAL_RECIPIENT), "user+tag@example.com");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_ACTION), "failed");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_DSN_STATUS), "5.0.0");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_STATUS), "5.1.1");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_REPLY_CODE), "550");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_DIAGNOSTIC_TYPE), "SMTP");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_DIAGNOSTIC),
	                     "550 5.1.1 <user@example.com>: Recipient address rejected: User unknown in local recipient table");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_REMOTE_MTA), "mx.example.com");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_REPORTING_MTA), "mx.example.net");
	assert_string_equal (bdb_record_get (rec, BDB_FIELD_MESSAGE_ID), "dsn-1@mx.example.net");
	/* The event time comes from Last-Attempt-Date, not the report's Date. */
	assert_int_equal (bdb_record_time (rec), 1793613540);
}

static void
test_dsn_without_recipient_is_a_problem (void **state)
{
	g_autofree char *msg = test_dsn_message ((const char *const[]) {
		"Arrival-Date: Mon, 2 Nov 2026 09:59:00 +0000", NULL });
	g_autoptr (BdbReport) r = test_parse (msg);
	assert_int_equal (bdb_report_n_records (r), 0);
	assert_int_equal (bdb_report_kind (r), BDB_KIND_NONE);
	assert_non_null (bdb_report_problem (r));
}

static void
test_ordinary_mail (void **state)
{
	g_autoptr (BdbReport) r = test_parse (
		"From: Alice <alice@example.com>\n"
		"To: bob@example.org\n"
		"Subject: Lunch?\n"
		"Message-ID: <lunch@example.com>\n"
		"\n"
		"Final-Recipient: is a field name I like.\n");
	assert_int_equal (bdb_report_kind (r), BDB_KIND_NONE);
	assert_int_equal (bdb_report_n_records (r), 0);
	assert_null (bdb_report_problem (r));
}

static void
test_limits (void **state)
{
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	GError *error = NULL;

	/* Too many recipients. */
	opts.max_recipients = 2;
	g_autofree char *msg = test_dsn_message ((const char *const[]) {
		"Final-Recipient: rfc822; a@example.com", "Action: failed", "",
		"Final-Recipient: rfc822; b@example.com", "Action: failed", "",
		"Final-Recipient: rfc822; c@example.com", "Action: failed", NULL });
	BdbReport *r = bdb_report_parse_bytes (msg, strlen (msg), &opts, &error);
	assert_null (r);
	assert_int_equal (error->code, BDB_ERROR_LIMIT);
	g_clear_error (&error);

	/* Too big. */
	bdb_parse_options_init (&opts);
	opts.max_message_size = 100;
	r = bdb_report_parse_bytes (msg, strlen (msg), &opts, &error);
	assert_null (r);
	assert_int_equal (error->code, BDB_ERROR_LIMIT);
	g_clear_error (&error);

	/* Too deep. */
	bdb_parse_options_init (&opts);
	opts.max_depth = 3;
	GString *deep = g_string_new ("From: a@example.com\nMIME-Version: 1.0\n");
	for (int i = 0; i < 6; i++)
		g_string_append_printf (deep, "Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n", i, i);
	g_string_append (deep, "Content-Type: text/plain\n\nhi\n");
	r = bdb_report_parse_bytes (deep->str, deep->len, &opts, &error);
	assert_null (r);
	assert_int_equal (error->code, BDB_ERROR_LIMIT);
	g_clear_error (&error);
	g_string_free (deep, TRUE);
}

/* The returned original's From and To: the first address, lowercased,
 * whatever shape the field has (the plain shapes take a short cut past
 * GMime's list parser; the others must give what it gives). */
static void
test_original_addresses (void **state)
{
	static const struct {
		const char *value, *want;
	} cases[] = {
		{ "Bob@Example.COM", "bob@example.com" },
		{ "  Bob Smith <Bob.Smith@Example.com>  ", "bob.smith@example.com" },
		{ "=?utf-8?q?B=C3=B6b?= <bob@example.com>", "bob@example.com" },
		{ "<bob@example.com>", "bob@example.com" },
		{ "\"Smith, Bob\" <bob@example.com>, ann@example.org", "bob@example.com" },
		{ "bob@example.com (Bob Smith)", "bob@example.com" },
		{ "Team: bob@example.com, ann@example.org;", "bob@example.com" },
		{ "ann@example.org, bob@example.com", "ann@example.org" },
		{ "bob@xn--bcher-kva.example", "bob@b\u00fccher.example" },
		/* GMime decodes only a lowercase ACE prefix. */
		{ "Bob <bob@XN--bcher-kva.example>", "bob@xn--bcher-kva.example" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *msg = g_strdup_printf (
			"From: MAILER-DAEMON@mx.example.net\nTo: list@example.org\n"
			"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
			"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
			"--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
			"Final-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 5.1.1\n\n"
			"--B\nContent-Type: message/rfc822\n\nFrom: %s\nTo: %s\nSubject: hello\n\nbody\n--B--\n",
			cases[i].value, cases[i].value);
		g_autoptr (BdbReport) r = test_parse (msg);
		assert_string_equal (bdb_report_get (r, BDB_FIELD_ORIGINAL_FROM), cases[i].want);
		assert_string_equal (bdb_report_get (r, BDB_FIELD_ORIGINAL_TO), cases[i].want);
	}
}

static void
test_fingerprint (void **state)
{
	const char *fields[] = { "Final-Recipient: rfc822; a@example.com", "Action: failed", NULL };
	g_autofree char *msg = test_dsn_message (fields);
	g_autofree char *redelivered = g_strconcat ("Received: from relay.example.net by mx.example.org;"
	                                            " Mon, 2 Nov 2026 10:01:00 +0000\n"
	                                            "Delivered-To: bounces@example.org\n", msg, NULL);
	const char *other_fields[] = { "Final-Recipient: rfc822; b@example.com", "Action: failed", NULL };
	g_autofree char *other = test_dsn_message (other_fields);

	g_autoptr (BdbReport) a = test_parse (msg);
	g_autoptr (BdbReport) b = test_parse (redelivered);
	g_autoptr (BdbReport) c = test_parse (other);
	assert_memory_equal (bdb_report_fingerprint (a), bdb_report_fingerprint (b), 32);
	assert_memory_not_equal (bdb_report_fingerprint (a), bdb_report_fingerprint (c), 32);
}

int
main (void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_enhanced_code),
		cmocka_unit_test (test_reply_code),
		cmocka_unit_test (test_smtp_command),
		cmocka_unit_test (test_status_valid),
		cmocka_unit_test (test_field_list_line_ends),
		cmocka_unit_test (test_field_list_folding),
		cmocka_unit_test (test_untype),
		cmocka_unit_test (test_dsn_blocks),
		cmocka_unit_test (test_dsn_fields),
		cmocka_unit_test (test_dsn_without_recipient_is_a_problem),
		cmocka_unit_test (test_ordinary_mail),
		cmocka_unit_test (test_limits),
		cmocka_unit_test (test_original_addresses),
		cmocka_unit_test (test_fingerprint),
	};
	return cmocka_run_group_tests (tests, NULL, NULL);
}
