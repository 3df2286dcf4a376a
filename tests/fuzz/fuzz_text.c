/* libFuzzer harness: the readers of human-readable bounce text.
 *
 * The input (after its first byte) is the body of a bounce-shaped
 * text/plain message: fixed headers say "mailer daemon" in one of the
 * ways the extractors recognise (src/lib/readers/), so every message
 * reaches the text extractors and the reader of a delivery-status block
 * pasted into the text (dsn.c).  The first byte picks the headers, the
 * Content-Transfer-Encoding (so broken quoted-printable and base64 reach
 * the decoders) and whether a charset is declared.
 *
 * Each line of the input also goes through bdb_address_normalize() with
 * every combination of flags: the extractors hand it whatever they cut
 * out of the text.
 *
 * Seeds: the bodies of corpus/ messages (tests/fuzz/smoke strips the
 * headers); dictionary: tests/fuzz/text.dict.
 */
#include "fuzz_common.h"

static BdbRules *rules;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fuzz_setup ();
	rules = bdb_rules_new (NULL);
	if (!rules)
		abort ();
	return 0;
}

/* Headers of the families the extractors detect by their sender. */
static const char *const senders[8] = {
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
	"Subject: Undelivered Mail Returned to Sender\n",
	"From: Mail Delivery System <Mailer-Daemon@mx.example.net>\n"
	"Subject: Mail delivery failed: returning message to sender\n"
	"X-Failed-Recipients: bob@example.net, carol@example.org\n",
	"From: postmaster@example.net\n"
	"Subject: Undeliverable: hello\n"
	"X-MS-Exchange-Message-Is-Ndr: \n",
	"From: AWS Notifications <no-reply@sns.amazonaws.com>\n"
	"Subject: AWS Notification Message\n"
	"x-amz-sns-message-id: 5f1c2a-0000\n",
	"From: news-bounces@lists.example.com\n"
	"Subject: Your message to News awaits moderator approval\n"
	"X-Mailman-Version: 2.1.39\n"
	"X-List-Administrivia: yes\n",
	"From: Courier mail server at mx.example.net <@>\n"
	"Subject: DELIVERY FAILURE: User bob not listed\n"
	"X-MIMETrack: Serialize by Router on mx/Example\n",
	"From: MAILER-DAEMON@ezweb.ne.jp\n"
	"Subject: Mail System Error - Returned Mail\n",
	"From: <>\n"
	"Return-Path: <>\n"
	"Subject: failure notice\n",
};

static const char *const encodings[4] = { "8bit", "quoted-printable", "base64", "7bit" };

static void
normalize_lines (const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	for (int lines = 0; p < end && lines < 32; lines++) {
		const char *nl = memchr (p, '\n', (size_t) (end - p));
		const char *e = nl ? nl : end;
		char *line = g_strndup (p, (gsize) (e - p));
		for (int flags = 0; flags < 8; flags++) {
			GError *error = NULL;
			char *a = bdb_address_normalize (line, (BdbAddressFlags) flags, &error);
			if (a) {
				FUZZ_CHECK (error == NULL);
				FUZZ_CHECK (g_utf8_validate (a, -1, NULL));
				FUZZ_CHECK (bdb_address_domain (a) != NULL);
				/* No control characters; a space only in a quoted local part. */
				for (const char *c = a; *c; c++)
					FUZZ_CHECK ((guchar) *c >= 0x20 && *c != 0x7f && (*c != ' ' || a[0] == '"'));
				if (flags & BDB_ADDRESS_STRICT) {
					/* What `check` and `filter` store reads back the same. */
					char *again = bdb_address_normalize (a, (BdbAddressFlags) flags, NULL);
					FUZZ_CHECK (again != NULL);
					FUZZ_CHECK (strcmp (again, a) == 0);
					g_free (again);
				}
				g_free (a);
			} else {
				FUZZ_CHECK (error != NULL && error->code == BDB_ERROR_INVALID);
				FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
				g_error_free (error);
			}
		}
		g_free (line);
		p = nl ? nl + 1 : end;
	}
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	guint8 sel = data[0];
	const char *body = (const char *) data + 1;
	size_t len = size - 1;

	GString *msg = g_string_new (senders[sel & 7]);
	g_string_append (msg, "To: alice@example.com\n"
	                      "Date: Mon, 3 Jun 2024 10:12:33 +0000\n"
	                      "Message-ID: <fuzz@mx.example.net>\n"
	                      "MIME-Version: 1.0\n");
	if (sel & 0x20)
		g_string_append (msg, "Content-Type: text/plain\n");
	else
		g_string_append (msg, "Content-Type: text/plain; charset=utf-8\n");
	g_string_append_printf (msg, "Content-Transfer-Encoding: %s\n\n", encodings[(sel >> 3) & 3]);
	g_string_append_len (msg, body, (gssize) len);

	GError *error = NULL;
	BdbReport *r = bdb_report_parse_bytes (msg->str, msg->len, NULL, &error);
	if (r) {
		fuzz_touch_report (r, rules);
		bdb_report_free (r);
	} else {
		FUZZ_CHECK (error && error->domain == BDB_ERROR);
		FUZZ_CHECK (error->code == BDB_ERROR_LIMIT || error->code == BDB_ERROR_PARSE);
		g_error_free (error);
	}
	g_string_free (msg, TRUE);

	normalize_lines (body, len);
	return 0;
}
