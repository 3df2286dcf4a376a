/* libFuzzer harness: the general reader of failure notices (issue 15).
 *
 * The input (after its first byte) is the text of a failure notice.  The
 * first byte picks how it is sent: the sender (a mailer daemon; a null
 * sender with a bounce's subject; an empty From; a person forwarding it,
 * quoted with "> " under "Begin forwarded message:" and a mailer daemon's
 * header block, so that forward.c rebuilds it), text/plain or text/html
 * (html.c), and whether the MTA-family layouts run (BDB_READERS_ALL) or
 * only the standard readers and the general reader
 * (BDB_READERS_NO_LAYOUTS), so that every input reaches the general
 * reader.
 *
 * Besides the promises fuzz_common.h checks on every report, the parts
 * are called on the raw text and their own promises checked: the fold
 * keeps every byte's offset, the matcher's matches lie in the text and
 * spell their phrase, the region is a prefix of the text cut at a line
 * start with its lines and matches in order, HTML as text is never longer
 * than the HTML.  And the reader's: a record it makes says what tied it,
 * and is never the bounce's own To or From.
 *
 * Seeds: the bodies of corpus/general/, corpus/text/ and
 * corpus/forwarded/ messages (tests/fuzz/smoke); dictionary:
 * tests/fuzz/general.dict.
 */
#include "fuzz_common.h"
#include "html.h"
#include "readers/phrases.h"
#include "readers/region.h"

static BdbRules *rules;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	rules = fuzz_setup_with_rules ();
	return 0;
}

static const char *const senders[4] = {
	"From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\nSubject: Returned mail\n",
	"From: Relay <relay@gw.example.net>\nReturn-Path: <>\nSubject: Undeliverable: hello\n",
	"From: <>\nAuto-Submitted: auto-replied\n",
	"From: Rita Person <rita@example.org>\nSubject: Fwd: look at this\n",
};

static void
check_parts (const char *text, size_t len)
{
	char *low = bdb_phrases_fold (text, len);
	FUZZ_CHECK (strlen (low) <= len);
	FUZZ_CHECK (memchr (text, '\0', len) != NULL || strlen (low) == len);

	GArray *matches = g_array_new (FALSE, FALSE, sizeof (BdbMatch));
	bdb_matcher_scan (bdb_phrases_matcher (), low, len, matches);
	for (guint i = 0; i < matches->len && i < 4096; i++) {
		const BdbMatch *m = &g_array_index (matches, BdbMatch, i);
		const BdbPhrase *p = bdb_phrase (m->phrase);
		FUZZ_CHECK (p != NULL);
		FUZZ_CHECK (m->end <= len && m->end - m->start == strlen (p->text));
		FUZZ_CHECK (memcmp (low + m->start, p->text, m->end - m->start) == 0);
	}
	g_array_unref (matches);
	g_free (low);

	BdbRegion r;
	bdb_region_init (&r, text, text + len);
	FUZZ_CHECK (r.text == text && r.end >= text && r.end <= text + len);
	FUZZ_CHECK (r.end == text || r.end == text + len || r.end[-1] == '\n' || r.end[-1] == '\r');
	const char *prev = text;
	for (guint i = 0; i < r.lines->len; i++) {
		const BdbRegionLine *l = bdb_region_line (&r, i);
		FUZZ_CHECK (l->p >= prev && l->p + l->len <= r.end);
		FUZZ_CHECK (l->m0 <= l->m1 && l->m1 <= r.matches->len);
		prev = l->p + l->len;
	}
	for (guint i = 0; i < r.matches->len; i++) {
		const BdbMatch *m = bdb_region_match (&r, i);
		FUZZ_CHECK (m->end <= (gsize) (r.end - r.text));
		FUZZ_CHECK (i == 0 || bdb_region_match (&r, i - 1)->start <= m->start);
	}
	bdb_region_clear (&r);

	char *plain = bdb_html_to_text (text, len);
	FUZZ_CHECK (strlen (plain) <= len);
	g_free (plain);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	guint8 sel = data[0];
	const char *body = (const char *) data + 1;
	size_t len = size - 1;
	guint sender = sel & 3;

	GString *msg = g_string_new (senders[sender]);
	g_string_append (msg, "To: alice@example.com\n"
	                      "Date: Mon, 3 Jun 2024 10:12:33 +0000\n"
	                      "Message-ID: <fuzz-general@mx.example.net>\n"
	                      "MIME-Version: 1.0\n");
	g_string_append_printf (msg, "Content-Type: text/%s; charset=utf-8\n\n", sel & 4 ? "html" : "plain");
	if (sender == 3) {
		/* Forwarded: the notice quoted under a mailer daemon's header block. */
		g_string_append (msg, "Please see below.\n\nBegin forwarded message:\n\n"
		                      "> From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
		                      "> Subject: Undelivered Mail Returned to Sender\n"
		                      "> To: rita@example.org\n>\n");
		const char *p = body, *end = body + len;
		while (p < end) {
			const char *nl = memchr (p, '\n', (size_t) (end - p));
			const char *e = nl ? nl + 1 : end;
			g_string_append (msg, "> ");
			g_string_append_len (msg, p, (gssize) (e - p));
			p = e;
		}
	} else {
		g_string_append_len (msg, body, (gssize) len);
	}

	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.readers = sel & 8 ? BDB_READERS_ALL : BDB_READERS_NO_LAYOUTS;
	GError *error = NULL;
	BdbReport *r = bdb_report_parse_bytes (msg->str, msg->len, &opts, &error);
	if (r) {
		fuzz_touch_report (r, rules);
		const char *extractor = bdb_report_get (r, BDB_FIELD_EXTRACTOR);
		gboolean general = extractor && strstr (extractor, "general") != NULL;
		for (guint i = 0; i < bdb_report_n_records (r); i++) {
			const BdbRecord *rec = bdb_report_get_record (r, i);
			const char *rcpt = bdb_record_get (rec, BDB_FIELD_RECIPIENT);
			fuzz_touch_string (bdb_record_tied_by (rec));
			if (general)
				FUZZ_CHECK (bdb_record_tied_by (rec) != NULL);
			/* Never the bounce's own To or From, nor the forwarder. */
			if (general) {
				FUZZ_CHECK (strcmp (rcpt, "alice@example.com") != 0);
				FUZZ_CHECK (strcmp (rcpt, "mailer-daemon@mx.example.net") != 0);
				FUZZ_CHECK (sender != 1 || strcmp (rcpt, "relay@gw.example.net") != 0);
			}
			if (sender == 3) {
				FUZZ_CHECK (strcmp (rcpt, "alice@example.com") != 0);
				FUZZ_CHECK (strcmp (rcpt, "rita@example.org") != 0);
			}
		}
		bdb_report_free (r);
	} else {
		fuzz_check_refusal (error);
	}
	g_string_free (msg, TRUE);
	check_parts (body, len);
	return 0;
}
