/* Lotus Notes and Domino.
 *
 * Domino: "Your message ... was not delivered to:" with the address on
 * its own line, then "because:" and the reason.  Older Notes SMTP
 * gateways: a "------- Failure Reasons --------" section holding the
 * reason and the address, closed by "------- Returned Message --------".
 */
#include "layout.h"

static const char *const domino[] = {
	"was not delivered to:",
};

static const char *const reasons_section[] = {
	"Failure Reasons",
};

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	if (!view->bounce_shaped)
		return FALSE;
	const char *subject = report->v[BDB_FIELD_REPORT_SUBJECT];
	return bdb_view_header (view, "X-MIMETrack") || bdb_view_has (view, domino[0]) ||
	       bdb_view_has (view, reasons_section[0]) ||
	       (subject && g_str_has_prefix (subject, "DELIVERY FAILURE:"));
}

/* The Failure Reasons section: addresses alone on their lines, the other
 * lines are the reason. */
static guint
failure_reasons (BdbNotice *n, const char *from)
{
	g_autoptr (GString) diag = g_string_new (NULL);
	g_autoptr (GPtrArray) addrs = g_ptr_array_new ();
	const char *cursor = from;
	BdbLine line;
	while (bdb_text_next_line (&cursor, n->end, &line)) {
		const char *end = line.p + line.len, *a0, *a1, *after;
		if (bdb_text_leading_address (line.p, end, &a0, &a1, &after)) {
			while (after < end && g_ascii_isspace (*after))
				after++;
			if (after == end) {
				g_ptr_array_add (addrs, (gpointer) a0);
				g_ptr_array_add (addrs, (gpointer) a1);
				continue;
			}
		}
		gsize skip = bdb_line_skip (&line);
		if (line.len > skip && diag->len < 2048) {
			if (diag->len)
				g_string_append_c (diag, '\n');
			g_string_append_len (diag, line.p + skip, (gssize) (line.len - skip));
		}
	}
	return bdb_notice_add_each (n, addrs, diag);
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	const char *from = bdb_notice_after (&n, n.text, domino, G_N_ELEMENTS (domino));
	if (from && bdb_layout_list (&n, from, BDB_LIST_DETAILS | BDB_LIST_BARE) > 0)
		return TRUE;
	from = bdb_notice_after (&n, n.text, reasons_section, G_N_ELEMENTS (reasons_section));
	return from && failure_reasons (&n, from) > 0;
}

const BdbExtractor bdb_extractor_notes = { "notes", detect, extract };
