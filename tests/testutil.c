/* Helpers shared by the cmocka tests. */
#include <string.h>
#include <glib/gstdio.h>
#include "testutil.h"

char *
test_dsn_message (const char *const *fields)
{
	return test_dsn_message_at ("dsn-1@mx.example.net", "Mon, 2 Nov 2026 10:00:00 +0000", fields);
}

char *
test_dsn_message_at (const char *message_id, const char *date, const char *const *fields)
{
	GString *s = g_string_new (NULL);
	g_string_append_printf (s,
		"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
		"To: sender@example.org\n"
		"Subject: Undelivered Mail Returned to Sender\n"
		"Date: %s\n"
		"Message-ID: <%s>\n", date, message_id);
	g_string_append (s,
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

char *
test_tmpdir (void)
{
	GError *error = NULL;
	char *d = g_dir_make_tmp ("bouncedb-test-XXXXXX", &error);
	if (!d)
		fail_msg ("%s", error->message);
	return d;
}

void
test_rmtree (const char *dir)
{
	GDir *d = g_dir_open (dir, 0, NULL);
	const char *n;
	while (d && (n = g_dir_read_name (d))) {
		char *p = g_build_filename (dir, n, NULL);
		if (g_file_test (p, G_FILE_TEST_IS_DIR) && !g_file_test (p, G_FILE_TEST_IS_SYMLINK))
			test_rmtree (p);
		else
			g_unlink (p);
		g_free (p);
	}
	if (d)
		g_dir_close (d);
	g_rmdir (dir);
}
