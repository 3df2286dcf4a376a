/* What the general reader (src/lib/readers/general.c) costs per megabyte
 * of notice region, and whether that cost grows with the region's length.
 *
 *   bench/build/bench-general-cost [--shape NAME] [--once] [MB...]   (default: 1 2 5 10)
 *
 * A message's text is at most 256 KiB when it comes through the view; here
 * the reader is handed a text of the given size directly, in four shapes
 * that stress its parts: "prose" (notice sentences, a failure phrase and
 * an address on every other line), "list" (one listing heading over
 * hundreds of thousands of items), "line" (the whole region one line, an
 * address every 40 bytes: the windows around each address), "dialogue" (an
 * SMTP transcript of RCPT/250 pairs refused at DATA).  Prints, for each
 * shape and size, the best of three runs in milliseconds and ms per MB;
 * linear cost keeps ms/MB flat.  Never run as a test (bench/README.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gmime/gmime.h>
#include "view.h"
#include "readers/readers.h"

static void
fill (GString *s, const char *shape, gsize size)
{
	guint n = 0;
	if (strcmp (shape, "list") == 0)
		g_string_append (s, "Your message could not be delivered to the following recipients:\n\n");
	if (strcmp (shape, "dialogue") == 0)
		g_string_append (s, "The dialogue with mx.example.org was:\n>>> MAIL FROM:<alice@example.com>\n<<< 250 ok\n");
	while (s->len < size) {
		n++;
		if (strcmp (shape, "prose") == 0)
			g_string_append_printf (s, "Your message to user%u@example.org could not be delivered.\n"
			                           "The server said: 550 5.1.1 mailbox unavailable.\n", n);
		else if (strcmp (shape, "list") == 0)
			g_string_append_printf (s, "   user%u@example.org\n", n);
		else if (strcmp (shape, "line") == 0)
			g_string_append_printf (s, "failed user%u@example.org, ", n);
		else
			g_string_append_printf (s, ">>> RCPT TO:<user%u@example.org>\n<<< 250 2.1.5 ok\n", n);
	}
	if (strcmp (shape, "dialogue") == 0)
		g_string_append (s, ">>> DATA\n<<< 354 go on\n<<< 554 5.7.1 refused\n");
}

static int reps = 3;

static double
run (GMimeMessage *msg, const BdbParseOptions *opts, GString *text)
{
	double best = 1e30;
	for (int rep = 0; rep < reps; rep++) {
		BdbReport *report = bdb_report_new ();
		report->max_recipients = G_MAXUINT;
		BdbMessageView view = { 0 };
		view.message = msg;
		view.opts = opts;
		view.text = text;
		view.bounce_shaped = TRUE;
		gint64 t0 = g_get_monotonic_time ();
		bdb_read_general (&view, report);
		gint64 t1 = g_get_monotonic_time ();
		bdb_report_free (report);
		best = MIN (best, (double) (t1 - t0) / 1000.0);
	}
	return best;
}

int
main (int argc, char **argv)
{
	g_mime_init ();
	static const char head[] = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
	                           "To: alice@example.com\nSubject: Returned mail\n\n";
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer (head, sizeof head - 1);
	GMimeParser *parser = g_mime_parser_new_with_stream (stream);
	GMimeMessage *msg = g_mime_parser_construct_message (parser, NULL);
	g_object_unref (parser);
	g_object_unref (stream);
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);

	const char *only = NULL;
	if (argc > 2 && strcmp (argv[1], "--shape") == 0) {
		only = argv[2];
		argc -= 2;
		argv += 2;
	}
	/* --once: one run each, for valgrind --tool=callgrind, whose
	 * instruction counts no other load on the machine disturbs. */
	if (argc > 1 && strcmp (argv[1], "--once") == 0) {
		reps = 1;
		argc--;
		argv++;
	}
	static const double defaults[] = { 1, 2, 5, 10 };
	int n = argc > 1 ? argc - 1 : (int) G_N_ELEMENTS (defaults);
	static const char *const shapes[] = { "prose", "list", "line", "dialogue" };
	printf ("%-9s %6s %10s %8s\n", "shape", "MB", "ms", "ms/MB");
	for (gsize s = 0; s < G_N_ELEMENTS (shapes); s++) {
		if (only && strcmp (only, shapes[s]) != 0)
			continue;
		for (int i = 0; i < n; i++) {
			double mb = argc > 1 ? g_ascii_strtod (argv[i + 1], NULL) : defaults[i];
			GString *text = g_string_new (NULL);
			fill (text, shapes[s], (gsize) (mb * 1024 * 1024));
			double ms = run (msg, &opts, text);
			printf ("%-9s %6.1f %10.1f %8.1f\n", shapes[s], mb, ms, ms / mb);
			fflush (stdout);
			g_string_free (text, TRUE);
		}
	}
	g_object_unref (msg);
	return 0;
}
