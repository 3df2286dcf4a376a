/* The general reader of failure notices (issue 15) and its parts: the
 * phrase matcher and the phrase tables, the folded text, the notice
 * region, HTML as text, and, for each message of corpus/general/, the
 * evidence that ties its recipients.  Every sentence here is our own; none
 * is from a conformance kit. */
#include <string.h>
#include "testutil.h"
#include "html.h"
#include "text.h"
#include "readers/matcher.h"
#include "readers/phrases.h"
#include "readers/region.h"

/* ---- the matcher ------------------------------------------------------------ */

/* Every occurrence of every phrase, the slow way, as "start:end:phrase;". */
static char *
naive (const char *const *phrases, guint n, const char *text)
{
	GString *out = g_string_new (NULL);
	gsize len = strlen (text);
	for (gsize end = 1; end <= len; end++)
		for (guint k = 0; k < n; k++) {
			gsize m = strlen (phrases[k]);
			if (m <= end && memcmp (text + end - m, phrases[k], m) == 0)
				g_string_append_printf (out, "%zu:%zu:%u;", end - m, end, k);
		}
	return g_string_free (out, FALSE);
}

static char *
scanned (const BdbMatcher *m, const char *text)
{
	g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (BdbMatch));
	bdb_matcher_scan (m, text, strlen (text), found);
	GString *out = g_string_new (NULL);
	/* Same order as naive(): by end, then by phrase index. */
	for (guint i = 0; i < found->len; i++) {
		for (guint j = i + 1; j < found->len; j++) {
			BdbMatch *a = &g_array_index (found, BdbMatch, i), *b = &g_array_index (found, BdbMatch, j);
			if (b->end < a->end || (b->end == a->end && b->phrase < a->phrase)) {
				BdbMatch t = *a;
				*a = *b;
				*b = t;
			}
		}
		BdbMatch *x = &g_array_index (found, BdbMatch, i);
		g_string_append_printf (out, "%zu:%zu:%u;", x->start, x->end, x->phrase);
	}
	return g_string_free (out, FALSE);
}

static void
test_matcher_finds_what_naive_search_finds (void **state)
{
	(void) state;
	/* Overlapping, nested and repeated phrases, over a small alphabet so
	 * that they occur often. */
	static const char *const phrases[] = { "ab", "abc", "bca", "c", "cab", "aaa", "ba", "abcab" };
	BdbMatcher *m = bdb_matcher_new (phrases, G_N_ELEMENTS (phrases));
	GRand *rand = g_rand_new_with_seed (15);
	for (int round = 0; round < 300; round++) {
		char text[64];
		gint n = g_rand_int_range (rand, 0, (gint) sizeof text);
		for (gint i = 0; i < n; i++)
			text[i] = "abc"[g_rand_int_range (rand, 0, 3)];
		text[n] = '\0';
		g_autofree char *want = naive (phrases, G_N_ELEMENTS (phrases), text);
		g_autofree char *got = scanned (m, text);
		assert_string_equal (got, want);
	}
	g_rand_free (rand);
	bdb_matcher_free (m);
}

static void
test_phrases_are_folded_and_distinct (void **state)
{
	(void) state;
	g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
	for (guint i = 0; i < bdb_phrases_count (); i++) {
		const BdbPhrase *p = bdb_phrase (i);
		assert_true (p->text[0] != '\0');
		g_autofree char *folded = bdb_phrases_fold (p->text, strlen (p->text));
		if (strcmp (folded, p->text) != 0)
			fail_msg ("phrase \"%s\" is not lower case", p->text);
		if (g_hash_table_contains (seen, p->text))
			fail_msg ("phrase \"%s\" is listed twice", p->text);
		g_hash_table_add (seen, (gpointer) p->text);
		assert_non_null (p->family);
		assert_int_equal (strlen (p->lang), 2);
	}
	assert_null (bdb_phrase (bdb_phrases_count ()));
}

static void
test_fold_keeps_offsets (void **state)
{
	(void) state;
	static const char *const cases[][2] = {
		{ "User UNKNOWN at Example.ORG", "user unknown at example.org" },
		{ "НЕ МОЖЕТ БЫТЬ ДОСТАВЛЕНО", "не может быть доставлено" },
		{ "Empfänger UNBEKANNT: Ölbaum", "empfänger unbekannt: ölbaum" },
		{ "配信できませんでした ABC", "配信できませんでした abc" },
		/* 'İ' lowers to two characters: it stays, so offsets hold. */
		{ "İSTANBUL", "İstanbul" },
		/* Invalid UTF-8 is left as it is. */
		{ "A\xff\xfe" "B", "a\xff\xfe" "b" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *f = bdb_phrases_fold (cases[i][0], strlen (cases[i][0]));
		assert_int_equal (strlen (f), strlen (cases[i][0]));
		assert_string_equal (f, cases[i][1]);
	}
}

/* ---- the region ------------------------------------------------------------- */

static char *
region_of (const char *text)
{
	BdbRegion r;
	bdb_region_init (&r, text, text + strlen (text));
	char *s = g_strndup (r.text, (gsize) (r.end - r.text));
	bdb_region_clear (&r);
	return s;
}

static void
test_region_ends_where_the_returned_message_starts (void **state)
{
	(void) state;
	/* A marker in another language. */
	g_autofree char *a = region_of ("Nachricht nicht zugestellt.\n\nkai@example.org: unbekannt\n"
	                                "--- Ursprüngliche Nachricht ---\nAn: lea@example.org\n");
	assert_string_equal (a, "Nachricht nicht zugestellt.\n\nkai@example.org: unbekannt\n");
	/* A block of header lines with one a message has, quoted. */
	g_autofree char *b = region_of ("Failed: kai@example.org\n\n> From: a@example.com\n"
	                                "> To: lea@example.org\n> Message-ID: <x@example.com>\n> Subject: hi\n");
	assert_string_equal (b, "Failed: kai@example.org\n\n");
	/* A summary of the message (To, Subject, Sent) is the notice's own. */
	g_autofree char *c = region_of ("Your message\n\nTo: kai@example.org\nSubject: hi\nSent: today\n\n"
	                                "did not reach the following recipient(s):\n\nkai@example.org\n");
	assert_string_equal (c, "Your message\n\nTo: kai@example.org\nSubject: hi\nSent: today\n\n"
	                        "did not reach the following recipient(s):\n\nkai@example.org\n");
	/* A label of the notice before a header block counts as its text. */
	g_autofree char *d = region_of ("Failed: kai@example.org\nReceived: by mx.example.org\n"
	                                "From: a@example.com\nTo: kai@example.org\n");
	assert_string_equal (d, "Failed: kai@example.org\n");
}

/* ---- HTML as text ----------------------------------------------------------- */

static void
test_html_as_text (void **state)
{
	(void) state;
	static const char *const cases[][2] = {
		{ "<p>Your message to <b>kai@example.org</b> failed.</p>", "Your message to kai@example.org failed.\n" },
		{ "&lt;kai&#64;example.org&gt;&nbsp;&amp;&#x41;&bogus; &#0; &", "<kai@example.org> &A&bogus; &#0; &" },
		{ "<head><title>x</title><style>p{}</style></head><body>a<br>b<br/>c</body>", "a\nb\nc\n" },
		{ "one<!-- a <b> comment -->two<script>var x = '<p>';</script>three", "onetwothree" },
		{ "<table><tr><td>To:</td><td>kai@example.org</td></tr></table>",  " To: kai@example.org\n" },
		{ "line one\r\nline two<", "line one\nline two" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		g_autofree char *t = bdb_html_to_text (cases[i][0], strlen (cases[i][0]));
		assert_string_equal (t, cases[i][1]);
	}
}

/* ---- addresses in running text ---------------------------------------------- */

static void
test_address_ends_at_cjk_punctuation (void **state)
{
	(void) state;
	static const char *const cases[][2] = {
		{ "宛先 kai@example.jp、lea@example.jp", "kai@example.jp" },
		{ "kai@example.jp您好，", "kai@example.jp" },
		{ "kai@example.org（不存在）", "kai@example.org" },
		/* A domain with letters beyond ASCII stays whole. */
		{ "kai@bücher.example: unbekannt", "kai@bücher.example" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cases); i++) {
		const char *s, *e, *text = cases[i][0];
		assert_true (bdb_text_find_address (text, text + strlen (text), &s, &e));
		g_autofree char *got = g_strndup (s, (gsize) (e - s));
		assert_string_equal (got, cases[i][1]);
	}
}

/* ---- the reader, on corpus/general/ ----------------------------------------- */

/* What ties each recipient of each message: the recipient and the start
 * of its evidence, in record order. */
static const struct {
	const char *file;
	const char *rows;  /* "recipient=evidence-prefix;..." */
} evidence[] = {
	{ "phrase-before-address", "zoe.marsh@example.net=no such user:;" },
	{ "phrase-after-address", "ivo.petrov@example.org=mailbox full:;" },
	{ "phrase-around-address", "lea.fontaine@example.net=not delivered:;" },
	{ "code-on-next-line", "kai.berg@example.org=status code:;" },
	{ "bare-address-under-reason", "yuki.sato@mobile.example.net=account disabled:;" },
	{ "failed-recipients-header", "una.ward@example.org=X-Failed-Recipients header;" },
	{ "originally-addressed-to", "pat.quinn@example.org=originally addressed to:;" },
	{ "transcript-rcpt", "nils.aberg@example.org=transcript:;" },
	{ "transcript-data", "pia.lund@example.org=transcript, refused at DATA:;"
	                     "rui.costa@example.org=transcript, refused at DATA:;" },
	{ "x400-dda", "ruth.klein@example.org=X.400 recipient:;" },
	{ "x400-rfc822-escapes", "tom_baker@example.org=X.400 recipient:;" },
	{ "listing-english", "ana.reyes@example.net=listing header:;ben.okoye@example.org=listing header:;" },
	{ "listing-german", "jonas.keller@example.org=listing header:;" },
	{ "listing-french", "chloe.martin@example.net=listing header:;" },
	{ "listing-spanish", "lucia.ortega@example.org=listing header:;" },
	{ "listing-italian", "marco.rossi@example.net=listing header:;" },
	{ "listing-portuguese", "joao.silva@example.com=listing header:;" },
	{ "listing-dutch", "sanne.devries@example.org=listing header:;" },
	{ "listing-polish", "kasia.nowak@example.net=listing header:;" },
	{ "listing-russian", "ivan.sokolov@example.org=listing header:;" },
	{ "listing-japanese", "taro.yamada@example.jp=listing header:;" },
	{ "listing-chinese", "wang.fang@example.com=listing header:;" },
	{ "local-part-listing", "dolphin77@members.example.net=listing header (a local part;"
	                        "starfish.blue@members.example.net=listing header (a local part;" },
	{ "delayed-warning", "zane.holt@example.org=listing header:;" },
	{ "automated-sender-no-subject", "quentin.ray@example.org=no such user:;" },
	{ "html-only", "hugo.lange@example.org=not delivered:;ines.roth@example.net=not delivered:;" },
	{ "not-contacts-links-ids", "vera.lind@example.org=listing header:;" },
	{ "only-in-returned-message", "" },
	{ "not-summary-and-sender", "mira.vogel@example.org=no such user:;" },
};

static void
test_general_corpus_evidence (void **state)
{
	const gsize i = (gsize) *state;
	g_autofree char *path = g_strdup_printf ("%s/general/%s.eml", CORPUS_DIR, evidence[i].file);
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.readers = BDB_READERS_NO_LAYOUTS;
	GError *error = NULL;
	BdbReport *r = bdb_report_parse_file (path, &opts, &error);
	assert_non_null (r);
	GString *got = g_string_new (NULL);
	char **want = g_strsplit (evidence[i].rows, ";", -1);
	guint k = 0;
	for (guint n = 0; n < bdb_report_n_records (r); n++) {
		const BdbRecord *rec = bdb_report_get_record (r, n);
		const char *rcpt = bdb_record_get (rec, BDB_FIELD_RECIPIENT);
		const char *ev = bdb_record_tied_by (rec);
		g_string_append_printf (got, "%s=%s;", rcpt, ev ? ev : "(none)");
		const char *eq = want[k] ? strchr (want[k], '=') : NULL;
		if (!eq || strncmp (want[k], rcpt, (gsize) (eq - want[k])) != 0 || !ev ||
		    !g_str_has_prefix (ev, eq + 1) ||
		    g_strcmp0 (bdb_record_get (rec, BDB_FIELD_EXTRACTOR), "general") != 0)
			k = 1000;
		else
			k++;
	}
	gboolean same = k != 1000 && (!want[k] || !*want[k]);
	if (!same)
		print_error ("%s: want %s\n got %s\n", evidence[i].file, evidence[i].rows, got->str);
	g_strfreev (want);
	g_string_free (got, TRUE);
	bdb_report_free (r);
	if (!same)
		fail ();
}

int
main (void)
{
	struct CMUnitTest tests[G_N_ELEMENTS (evidence) + 6];
	gsize n = 0;
	tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_matcher_finds_what_naive_search_finds);
	tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_phrases_are_folded_and_distinct);
	tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_fold_keeps_offsets);
	tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_region_ends_where_the_returned_message_starts);
	tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_html_as_text);
	tests[n++] = (struct CMUnitTest) cmocka_unit_test (test_address_ends_at_cjk_punctuation);
	for (gsize i = 0; i < G_N_ELEMENTS (evidence); i++)
		tests[n++] = (struct CMUnitTest) { evidence[i].file, test_general_corpus_evidence, NULL, NULL,
		                                   (void *) i };
	return _cmocka_run_group_tests ("general", tests, n, NULL, NULL);
}
