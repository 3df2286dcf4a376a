/* Helpers shared by the cmocka tests. */
#include <string.h>
#include "testutil.h"

char *
test_dsn_message (const char *const *fields)
{
	GString *s = g_string_new (
		"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
		"To: sender@example.org\n"
		"Subject: Undelivered Mail Returned to Sender\n"
		"Date: Mon, 2 Nov 2026 10:00:00 +0000\n"
		"Message-ID: <dsn-1@mx.example.net>\n"
		"MIME-Version: 1.0\n"
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n"
		"\n"
		"--B\n"
		"Content-Type: text/plain\n"
		"\n"
		"Delivery failed.\n"
		"\n"
		"--B\n"
		"Content-Type: message/delivery-status\n"
		"\n"
		"Reporting-MTA: dns; mx.example.net\n"
		"\n");
	for (const char *const *f = fields; *f; f++) {
		g_string_append (s, *f);
		g_string_append_c (s, '\n');
	}
	g_string_append (s, "\n--B--\n");
	return g_string_free (s, FALSE);
}

BdbReport *
test_parse (const char *text)
{
	GError *error = NULL;
	BdbReport *r = bdb_report_parse_bytes (text, strlen (text), NULL, &error);
	if (!r)
		fail_msg ("parse failed: %s", error->message);
	return r;
}
