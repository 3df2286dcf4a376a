/* Hostile input too big to keep as files in corpus/hostile/: generated in
 * memory, each test stating the outcome.  A limit's hit is BDB_ERROR_LIMIT
 * with a message naming the limit (sweep and ingest quarantine on it);
 * everything else gives exactly the records asserted.  Where a message
 * used to cost unbounded time, the test asserts the size of the work
 * (records, parts), never a duration: ctest's timeout catches a hang.
 * Also here: the regressions found by tests/fuzz that are not messages
 * (rules text, classification of imported rows), and the promise that a
 * file and the same bytes in memory read alike.
 */
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include "testutil.h"

#define MAILER_DAEMON_HEADERS \
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n" \
	"To: bounces@example.org\n" \
	"Subject: Undelivered Mail Returned to Sender\n" \
	"Date: Mon, 2 Nov 2026 10:00:00 +0000\n" \
	"Message-ID: <hostile@mx.example.net>\n" \
	"MIME-Version: 1.0\n"

#define REPORT_START \
	MAILER_DAEMON_HEADERS \
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n" \
	"\n" \
	"--B\n" \
	"Content-Type: text/plain\n" \
	"\n" \
	"Delivery failed.\n" \
	"\n" \
	"--B\n" \
	"Content-Type: message/delivery-status\n" \
	"\n" \
	"Reporting-MTA: dns; mx.example.net\n" \
	"\n"

#define ONE_FAILED \
	"Final-Recipient: rfc822; bob@example.net\n" \
	"Action: failed\n" \
	"Status: 5.1.1\n" \
	"Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: user unknown\n"

static BdbRules *rules;

/* Parsing @msg must fail with BDB_ERROR_LIMIT naming @limit. */
static void
expect_limit (const GString *msg, const BdbParseOptions *opts, const char *limit)
{
	GError *error = NULL;
	BdbReport *r = bdb_report_parse_bytes (msg->str, msg->len, opts, &error);
	if (r) {
		bdb_report_free (r);
		fail_msg ("parsed, but %s should have refused it", limit);
	}
	assert_non_null (error);
	assert_int_equal (error->domain, BDB_ERROR);
	assert_int_equal (error->code, BDB_ERROR_LIMIT);
	if (!strstr (error->message, limit)) {
		print_error ("message: %s\n", error->message);
		g_error_free (error);
		fail_msg ("the message does not name %s", limit);
	}
	g_error_free (error);
}

/* The records of @r as "recipient action status reason" lines. */
static char *
records_of (const BdbReport *r)
{
	GString *out = g_string_new (NULL);
	for (guint i = 0; i < bdb_report_n_records (r); i++) {
		const BdbRecord *rec = bdb_report_get_record (r, i);
		BdbVerdict v;
		bdb_classify (rules, rec, &v);
		const char *a = bdb_record_get (rec, BDB_FIELD_ACTION);
		const char *s = bdb_record_get (rec, BDB_FIELD_STATUS);
		g_string_append_printf (out, "%s %s %s %s\n", bdb_record_get (rec, BDB_FIELD_RECIPIENT),
		                        a ? a : "-", s ? s : "-", bdb_reason_name (v.reason));
	}
	return g_string_free (out, FALSE);
}

static BdbReport *
parse_ok (const GString *msg, const BdbParseOptions *opts)
{
	GError *error = NULL;
	BdbReport *r = bdb_report_parse_bytes (msg->str, msg->len, opts, &error);
	if (!r) {
		print_error ("%s\n", error->message);
		g_error_free (error);
		fail_msg ("parse failed");
	}
	return r;
}

static void
expect_records (const GString *msg, const BdbParseOptions *opts, const char *want)
{
	BdbReport *r = parse_ok (msg, opts);
	char *got = records_of (r);
	gboolean same = strcmp (got, want) == 0;
	if (!same)
		print_error ("--- want\n%s--- got\n%s", want, got);
	g_free (got);
	bdb_report_free (r);
	if (!same)
		fail ();
}

/* ---- size --------------------------------------------------------------- */

/* A 100 MB attachment in the returned original.  Beyond the default
 * max_message_size (64 MiB) it is refused; with a larger limit it is read
 * (the attachment is never decoded: see doc/fuzzing.md for the memory). */
static void
test_100mb_attachment (void **state)
{
	GString *msg = g_string_new (
		MAILER_DAEMON_HEADERS
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
		"--B\nContent-Type: text/plain\n\nDelivery failed.\n\n"
		"--B\nContent-Type: message/delivery-status\n\n"
		"Reporting-MTA: dns; mx.example.net\n\n" ONE_FAILED "\n"
		"--B\nContent-Type: message/rfc822\n\n"
		"From: alice@example.com\nTo: bob@example.net\nSubject: the big one\n"
		"Content-Type: multipart/mixed; boundary=\"C\"\n\n"
		"--C\nContent-Type: text/plain\n\nsee attached\n"
		"--C\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\n");
	const char *line = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\n";
	gsize n = strlen (line);
	while (msg->len < (gsize) 100 << 20)
		g_string_append_len (msg, line, (gssize) n);
	g_string_append (msg, "--C--\n\n--B--\n");

	expect_limit (msg, NULL, "max_message_size");

	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.max_message_size = (gsize) 200 << 20;
	expect_records (msg, &opts, "bob@example.net failed 5.1.1 userunknown\n");
	g_string_free (msg, TRUE);
}

/* A 100 MB text part: only the first 256 KiB of text is decoded. */
static void
test_100mb_text_part (void **state)
{
	GString *msg = g_string_new (
		MAILER_DAEMON_HEADERS
		"Content-Type: multipart/mixed; boundary=\"B\"\n\n"
		"--B\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
		"The mail system\n\n<bob@example.net>: host mx.example.net said: 550 5.1.1 user unknown\n\n");
	const char *line = "lorem ipsum dolor sit amet =E9t=E9 consectetur adipiscing elit sed do eiusmod\n";
	gsize n = strlen (line);
	while (msg->len < (gsize) 100 << 20)
		g_string_append_len (msg, line, (gssize) n);
	g_string_append (msg, "--B--\n");
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.max_message_size = (gsize) 200 << 20;
	BdbReport *r = parse_ok (msg, &opts);
	assert_int_equal (bdb_report_n_records (r), 1);
	assert_string_equal (bdb_record_get (bdb_report_get_record (r, 0), BDB_FIELD_RECIPIENT),
	                     "bob@example.net");
	bdb_report_free (r);
	g_string_free (msg, TRUE);
}

/* A delivery-status part larger than max_part_size is refused, not cut:
 * cutting would drop the recipients past the cut without a word. */
static void
test_status_part_too_big (void **state)
{
	GString *msg = g_string_new (REPORT_START);
	for (int i = 0; i < 3000; i++)
		g_string_append_printf (msg, "X-Padding-%d: %0200d\n", i, 0);
	g_string_append (msg, "\n" ONE_FAILED "\n--B--\n");
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.max_part_size = 64 << 10;
	expect_limit (msg, &opts, "max_part_size");
	/* Within the default (4 MiB): read. */
	expect_records (msg, NULL, "bob@example.net failed 5.1.1 userunknown\n");
	g_string_free (msg, TRUE);
}

/* ---- recipients --------------------------------------------------------- */

static GString *
dsn_with_recipients (guint n)
{
	GString *msg = g_string_new (REPORT_START);
	for (guint i = 0; i < n; i++)
		g_string_append_printf (msg, "Final-Recipient: rfc822; user%u@example.net\n"
		                        "Action: failed\nStatus: 5.1.1\n\n", i);
	g_string_append (msg, "--B--\n");
	return msg;
}

static void
test_10000_recipients (void **state)
{
	GString *msg = dsn_with_recipients (10000);
	expect_limit (msg, NULL, "max_recipients");

	/* Allowed: exactly 10,000 records, the work proportional to them. */
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.max_recipients = 10000;
	BdbReport *r = parse_ok (msg, &opts);
	assert_int_equal (bdb_report_n_records (r), 10000);
	assert_string_equal (bdb_record_get (bdb_report_get_record (r, 9999), BDB_FIELD_RECIPIENT),
	                     "user9999@example.net");
	bdb_report_free (r);
	g_string_free (msg, TRUE);
}

static void
test_arf_10000_rcpt_to (void **state)
{
	GString *msg = g_string_new (
		"From: feedback@fbl.example.net\nTo: abuse@example.org\nSubject: complaint\n"
		"Date: Mon, 2 Nov 2026 10:00:00 +0000\nMessage-ID: <arf@fbl.example.net>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"B\"\n\n"
		"--B\nContent-Type: text/plain\n\nA complaint.\n\n"
		"--B\nContent-Type: message/feedback-report\n\n"
		"Feedback-Type: abuse\nUser-Agent: fbl/1.0\nVersion: 1\n");
	for (int i = 0; i < 10000; i++)
		g_string_append_printf (msg, "Original-Rcpt-To: <user%d@example.net>\n", i);
	g_string_append (msg, "\n--B\nContent-Type: text/rfc822-headers\n\n"
	                      "From: news@example.org\nTo: user0@example.net\nSubject: news\n\n--B--\n");
	expect_limit (msg, NULL, "max_recipients");
	g_string_free (msg, TRUE);
}

/* 10,000 blank-line separated groups without a field, around one
 * recipient: one record, read in time linear in the groups. */
static void
test_empty_groups (void **state)
{
	GString *msg = g_string_new (REPORT_START);
	for (int i = 0; i < 10000; i++)
		g_string_append (msg, " \n\n");
	g_string_append (msg, ONE_FAILED);
	for (int i = 0; i < 10000; i++)
		g_string_append (msg, "\n\n");
	g_string_append (msg, "--B--\n");
	expect_records (msg, NULL, "bob@example.net failed 5.1.1 userunknown\n");
	g_string_free (msg, TRUE);
}

/* A Final-Recipient of a million '<' took minutes (pick_addr_spec went
 * back to every '<'); now linear: no address, a problem to quarantine. */
static void
test_overlong_final_recipient (void **state)
{
	GString *msg = g_string_new (REPORT_START "Final-Recipient: rfc822; ");
	for (int i = 0; i < 1000000; i++)
		g_string_append_c (msg, '<');
	g_string_append (msg, "\nAction: failed\nStatus: 5.1.1\n\n--B--\n");
	BdbReport *r = parse_ok (msg, NULL);
	assert_int_equal (bdb_report_n_records (r), 0);
	assert_non_null (bdb_report_problem (r));
	bdb_report_free (r);

	/* The same with a real address at the end: found. */
	g_string_truncate (msg, strlen (REPORT_START "Final-Recipient: rfc822; ") + 500000);
	g_string_append (msg, "<bob@example.net>\nAction: failed\nStatus: 5.1.1\n\n--B--\n");
	expect_records (msg, NULL, "bob@example.net failed 5.1.1 userunknown\n");
	g_string_free (msg, TRUE);
}

/* ---- headers ------------------------------------------------------------ */

static void
test_header_bomb_count (void **state)
{
	/* 100,000 tiny header fields on the message. */
	GString *msg = g_string_new (MAILER_DAEMON_HEADERS);
	for (int i = 0; i < 100000; i++)
		g_string_append (msg, "X-A: 1\n");
	g_string_append (msg, "\nhello\n");
	expect_limit (msg, NULL, "max_headers");
	g_string_free (msg, TRUE);
}

static void
test_header_bomb_line (void **state)
{
	/* One 10 MB header line: refused at the line limit (64 KiB). */
	GString *msg = g_string_new (MAILER_DAEMON_HEADERS "X-Huge: ");
	while (msg->len < (gsize) 10 << 20)
		g_string_append (msg, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa ");
	g_string_append (msg, "\n\nhello\n");
	expect_limit (msg, NULL, "max_line_length");

	/* Folded into short lines, the field still fills the block. */
	GString *folded = g_string_new (MAILER_DAEMON_HEADERS "X-Huge: a");
	while (folded->len < (gsize) 2 << 20)
		g_string_append (folded, "\n aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	g_string_append (folded, "\n\nhello\n");
	expect_limit (folded, NULL, "max_header_size");
	g_string_free (folded, TRUE);
	g_string_free (msg, TRUE);
}

static void
test_line_length_configurable (void **state)
{
	GString *msg = g_string_new (REPORT_START ONE_FAILED "\n--B--\n");
	g_string_prepend (msg, "\n");
	for (int i = 0; i < 1000; i++)
		g_string_prepend_c (msg, 'x');
	g_string_prepend (msg, "X-Long: ");
	expect_records (msg, NULL, "bob@example.net failed 5.1.1 userunknown\n");
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.max_line_length = 512;
	expect_limit (msg, &opts, "max_line_length");
	g_string_free (msg, TRUE);
}

/* Header bombs where GMime reads headers past the message's own: a
 * part's headers, an attached message's, a headers part, a digest's
 * untyped part, a Content-Type hidden by folding and comments. */
static void
test_header_bomb_nested (void **state)
{
	static const char *const starts[] = {
		REPORT_START ONE_FAILED "\n--B\n",
		REPORT_START ONE_FAILED "\n--B\nContent-Type: message/rfc822\n\n",
		REPORT_START ONE_FAILED "\n--B\nContent-Type: text/rfc822-headers\n\n",
		MAILER_DAEMON_HEADERS "Content-Type: multipart/digest; boundary=\"B\"\n\n--B\n\n",
		REPORT_START ONE_FAILED "\n--B\nContent-Type:\n (a comment (nested) \\) )\n\tmessage /\n rfc822 ; x=1\n\n",
		MAILER_DAEMON_HEADERS "Content-Type: message/global\n\n",
	};
	for (gsize k = 0; k < G_N_ELEMENTS (starts); k++) {
		GString *msg = g_string_new (starts[k]);
		for (int i = 0; i < 20000; i++)
			g_string_append (msg, "X-A: 1\n");
		g_string_append (msg, "\nbody\n--B--\n");
		expect_limit (msg, NULL, "max_headers");
		g_string_free (msg, TRUE);
	}
}

/* GMime parses From, To, Cc, Bcc, Sender and Reply-To of the message into
 * address lists, in time that grows with the square of a hostile list
 * ("x,x,x,...": 160 KB took 34 s).  Refused past max_address_bytes.  An
 * attached message is a plain part to GMime: its lists cost nothing, and
 * a bounce returning a message sent to many people is read. */
static void
test_address_field_bomb (void **state)
{
	static const char *const units[] = { "x,", "\"x\",", "\"@\",", "(@)x,", "x:;" };
	for (gsize k = 0; k < G_N_ELEMENTS (units); k++) {
		GString *msg = g_string_new ("From: MAILER-DAEMON@mx.example.net\nTo: ");
		for (int i = 0; i < 40000; i++) {
			g_string_append (msg, units[k]);
			if (i % 100 == 99)
				g_string_append (msg, "\n ");
		}
		g_string_append (msg, "\nSubject: Undelivered Mail Returned to Sender\n\nhello\n");
		expect_limit (msg, NULL, "max_address_bytes");
		g_string_free (msg, TRUE);
	}
	/* In an attached message, far past the limit: read. */
	GString *msg = g_string_new (REPORT_START ONE_FAILED "\n--B\nContent-Type: message/rfc822\n\nTo: ");
	for (int i = 0; i < 40000; i++) {
		g_string_append (msg, "x,");
		if (i % 100 == 99)
			g_string_append (msg, "\n ");
	}
	g_string_append (msg, "\nCc: ");
	for (int i = 0; i < 600; i++)
		g_string_append_printf (msg, "User %d <user%d@example.net>, ", i, i);
	g_string_append (msg, "bob@example.net\nSubject: s\n\nbody\n--B--\n");
	expect_records (msg, NULL, "bob@example.net failed 5.1.1 userunknown\n");
	g_string_free (msg, TRUE);
	/* A quoted thread in a text part is no header, whatever its Cc says. */
	msg = g_string_new (REPORT_START ONE_FAILED "\n--B\nContent-Type: text/plain\n\n");
	for (int q = 0; q < 20; q++) {
		g_string_append (msg, "-----Original Message-----\nFrom: Ann <ann@example.org>\nCc: ");
		for (int i = 0; i < 30; i++)
			g_string_append_printf (msg, "Colleague %d <colleague%d@example.org>, ", i, i);
		g_string_append (msg, "x@example.org\nSubject: RE: plans\n\nSee below.\n\n");
	}
	g_string_append (msg, "--B--\n");
	expect_records (msg, NULL, "bob@example.net failed 5.1.1 userunknown\n");
	g_string_free (msg, TRUE);
	/* A real list of 150 recipients is fine. */
	msg = g_string_new (REPORT_START ONE_FAILED "\n--B\nContent-Type: text/rfc822-headers\n\nTo: ");
	for (int i = 0; i < 150; i++)
		g_string_append_printf (msg, "User %d <user%d@example.net>, ", i, i);
	g_string_append (msg, "bob@example.net\nSubject: s\n\n--B--\n");
	expect_records (msg, NULL, "bob@example.net failed 5.1.1 userunknown\n");
	g_string_free (msg, TRUE);
}

/* ---- structure ---------------------------------------------------------- */

static void
test_multipart_bomb (void **state)
{
	/* 100,000 empty parts: would be 100,000 GMime objects. */
	GString *msg = g_string_new (MAILER_DAEMON_HEADERS "Content-Type: multipart/mixed; boundary=\"b\"\n\n");
	for (int i = 0; i < 100000; i++)
		g_string_append (msg, "--b\n\nx\n");
	g_string_append (msg, "--b--\n");
	expect_limit (msg, NULL, "max_parts");
	g_string_free (msg, TRUE);
}

static GString *
nested_multiparts (guint depth)
{
	GString *msg = g_string_new (MAILER_DAEMON_HEADERS);
	for (guint i = 0; i < depth; i++)
		g_string_append_printf (msg, "Content-Type: multipart/mixed; boundary=\"b%u\"\n\n--b%u\n", i, i);
	g_string_append (msg, "Content-Type: text/plain\n\nhello\n");
	for (guint i = depth; i-- > 0;)
		g_string_append_printf (msg, "--b%u--\n", i);
	return msg;
}

static void
test_deep_nesting (void **state)
{
	/* 100,000 levels: refused before GMime nests them. */
	GString *msg = nested_multiparts (100000);
	expect_limit (msg, NULL, "max_parts");
	g_string_free (msg, TRUE);
	/* 20 levels: parsed, then refused past max_depth (16). */
	msg = nested_multiparts (20);
	expect_limit (msg, NULL, "max_depth");
	g_string_free (msg, TRUE);
	/* 10 levels: fine. */
	msg = nested_multiparts (10);
	BdbReport *r = parse_ok (msg, NULL);
	assert_int_equal (bdb_report_n_records (r), 0);
	bdb_report_free (r);
	g_string_free (msg, TRUE);
}

static GString *
nested_messages (guint depth)
{
	GString *msg = g_string_new (
		MAILER_DAEMON_HEADERS
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"
		"--B\nContent-Type: text/plain\n\nDelivery failed.\n\n"
		"--B\nContent-Type: message/delivery-status\n\n"
		"Reporting-MTA: dns; mx.example.net\n\n" ONE_FAILED "\n"
		"--B\nContent-Type: message/rfc822\n\n");
	for (guint i = 0; i < depth; i++)
		g_string_append_printf (msg, "Subject: level %u\nContent-Type: message/rfc822\n\n", i);
	g_string_append (msg, "Subject: innermost\n\nhello\n\n--B--\n");
	return msg;
}

static void
test_message_recursion (void **state)
{
	/* message/rfc822 in message/rfc822 ... 100,000 deep. */
	GString *msg = nested_messages (100000);
	expect_limit (msg, NULL, "max_headers");
	g_string_free (msg, TRUE);
	/* 1,000 deep: read, the report's own records only. */
	msg = nested_messages (1000);
	expect_records (msg, NULL, "bob@example.net failed 5.1.1 userunknown\n");
	g_string_free (msg, TRUE);
}

/* ---- regressions found by tests/fuzz ------------------------------------ */

/* A user rule on the MTA and a Remote-MTA cut at 512 bytes in the middle
 * of a character: GRegex (PCRE2 JIT) read past the broken UTF-8 and
 * crashed.  Found by fuzz_lines through bdb_classify_fields(). */
static void
test_classify_invalid_utf8 (void **state)
{
	g_autoptr (BdbRules) r = bdb_rules_new (NULL);
	assert_non_null (r);
	assert_true (bdb_rules_add_text (r, "test", "mta-rule blocked mta~/bl(a|o)ck.*list/\n"
	                                 "text-rule mailboxfull text~/over\\s+quota/\n", -1, NULL));
	GString *msg = g_string_new (REPORT_START "Final-Recipient: rfc822; bob@example.net\n"
	                             "Action: failed\nStatus: 5.0.0\nRemote-MTA: dns; ");
	for (int i = 0; i < 510; i++)
		g_string_append_c (msg, 'm');
	g_string_append (msg, "\xc3\xa9\xc3\xa9 blacklist\n\n--B--\n");
	BdbReport *rep = parse_ok (msg, NULL);
	assert_int_equal (bdb_report_n_records (rep), 1);
	BdbVerdict v;
	bdb_classify (r, bdb_report_get_record (rep, 0), &v);
	bdb_report_free (rep);
	g_string_free (msg, TRUE);

	/* An imported row in Latin-1. */
	bdb_classify_fields (r, BDB_KIND_DSN, "failed", "5.2.2", "552",
	                     "mailbox \xe9t\xe9 over quota \xff\xfe", &v);
	assert_int_equal (v.reason, BDB_REASON_MAILBOXFULL);
}

/* An indented line after a blank first line read before the start of the
 * line buffer.  Found by fuzz_lines (heap-buffer-overflow in rules.c). */
static void
test_rules_continuation_after_blank (void **state)
{
	g_autoptr (BdbRules) r = bdb_rules_new (NULL);
	GError *error = NULL;
	gboolean ok = bdb_rules_add_text (r, "test", "\n  text~\"x\"\n", -1, &error);
	assert_false (ok);
	assert_int_equal (error->code, BDB_ERROR_INVALID);
	g_error_free (error);
	ok = bdb_rules_add_text (r, "test", "   \n\tr1 blocked text~\"x\"\n", -1, &error);
	if (!ok)
		g_error_free (error);
}

/* A regular expression that is not UTF-8 crashed PCRE2 while compiling
 * (g_regex_new() hands it over unchecked).  Found by fuzz_lines. */
static void
test_rules_invalid_utf8 (void **state)
{
	g_autoptr (BdbRules) r = bdb_rules_new (NULL);
	GError *error = NULL;
	assert_false (bdb_rules_add_text (r, "test", "r1 blocked text~/a\xff/\n", -1, &error));
	assert_int_equal (error->code, BDB_ERROR_INVALID);
	g_clear_error (&error);
	assert_false (bdb_rules_add_text (r, "test", "define x \"\xca\xff\"\n", -1, &error));
	assert_int_equal (error->code, BDB_ERROR_INVALID);
	g_clear_error (&error);
}

/* "a@example.com.." kept one dot ("a@example.com."), a key that never
 * matches and does not read back the same.  Found by fuzz_lines. */
static void
test_address_trailing_dots (void **state)
{
	GError *error = NULL;
	char *a = bdb_address_normalize ("a@example.com..", BDB_ADDRESS_STRICT, &error);
	assert_null (a);
	assert_int_equal (error->code, BDB_ERROR_INVALID);
	g_clear_error (&error);
	a = bdb_address_normalize ("A@Example.COM.", BDB_ADDRESS_STRICT, &error);
	assert_string_equal (a, "a@example.com");
	g_free (a);
	/* IDNA turns U+3002 (ideographic full stop) into '.': the same root
	 * dot, found only after the conversion (fuzz_text). */
	a = bdb_address_normalize ("bob@e\xe5\x88\xb0\xe3\x80\x82", BDB_ADDRESS_STRICT, &error);
	assert_non_null (a);
	assert_false (g_str_has_suffix (a, "."));
	char *again = bdb_address_normalize (a, BDB_ADDRESS_STRICT, NULL);
	assert_string_equal (again, a);
	g_free (again);
	g_free (a);
	a = bdb_address_normalize ("bob@e\xe5\x88\xb0\xe3\x80\x82\xe3\x80\x82", BDB_ADDRESS_STRICT, &error);
	assert_null (a);
	g_clear_error (&error);
}

/* ---- a file reads as the same bytes in memory ---------------------------- */

static void
collect (const char *dir, GPtrArray *out)
{
	GDir *d = g_dir_open (dir, 0, NULL);
	const char *name;
	while (d && (name = g_dir_read_name (d))) {
		char *p = g_build_filename (dir, name, NULL);
		if (g_file_test (p, G_FILE_TEST_IS_DIR)) {
			collect (p, out);
			g_free (p);
		} else if (g_str_has_suffix (p, ".eml")) {
			g_ptr_array_add (out, p);
		} else {
			g_free (p);
		}
	}
	if (d)
		g_dir_close (d);
}

/* Files are read in chunks through a file stream, memory through a
 * memory stream: the two must give the same records and fingerprint. */
static void
test_file_equals_memory (void **state)
{
	g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
	collect (CORPUS_DIR, paths);
	assert_true (paths->len > 100);
	for (guint i = 0; i < paths->len; i++) {
		const char *path = paths->pdata[i];
		g_autofree char *data = NULL;
		gsize len = 0;
		assert_true (g_file_get_contents (path, &data, &len, NULL));
		GError *e1 = NULL, *e2 = NULL;
		BdbReport *a = bdb_report_parse_file (path, NULL, &e1);
		BdbReport *b = bdb_report_parse_bytes (data, len, NULL, &e2);
		if (!a || !b) {
			gboolean same = !a && !b && e1->code == e2->code;
			if (!same)
				print_error ("%s: %s / %s\n", path, e1 ? e1->message : "ok", e2 ? e2->message : "ok");
			g_clear_error (&e1);
			g_clear_error (&e2);
			bdb_report_free (a);
			bdb_report_free (b);
			assert_true (same);
			continue;
		}
		char *ra = records_of (a), *rb = records_of (b);
		gboolean same = strcmp (ra, rb) == 0 &&
		                memcmp (bdb_report_fingerprint (a), bdb_report_fingerprint (b), 32) == 0;
		if (!same)
			print_error ("%s: file and memory differ\n", path);
		g_free (ra);
		g_free (rb);
		bdb_report_free (a);
		bdb_report_free (b);
		assert_true (same);
	}
}

int
main (void)
{
	rules = bdb_rules_new (NULL);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test (test_100mb_attachment),
		cmocka_unit_test (test_100mb_text_part),
		cmocka_unit_test (test_status_part_too_big),
		cmocka_unit_test (test_10000_recipients),
		cmocka_unit_test (test_arf_10000_rcpt_to),
		cmocka_unit_test (test_empty_groups),
		cmocka_unit_test (test_overlong_final_recipient),
		cmocka_unit_test (test_header_bomb_count),
		cmocka_unit_test (test_header_bomb_line),
		cmocka_unit_test (test_line_length_configurable),
		cmocka_unit_test (test_header_bomb_nested),
		cmocka_unit_test (test_address_field_bomb),
		cmocka_unit_test (test_multipart_bomb),
		cmocka_unit_test (test_deep_nesting),
		cmocka_unit_test (test_message_recursion),
		cmocka_unit_test (test_classify_invalid_utf8),
		cmocka_unit_test (test_rules_continuation_after_blank),
		cmocka_unit_test (test_rules_invalid_utf8),
		cmocka_unit_test (test_address_trailing_dots),
		cmocka_unit_test (test_file_equals_memory),
	};
	int failed = cmocka_run_group_tests (tests, NULL, NULL);
	bdb_rules_free (rules);
	return failed;
}
