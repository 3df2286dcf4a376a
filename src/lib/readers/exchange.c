/* Microsoft Exchange and Microsoft 365 notices without a delivery-status
 * part.
 *
 * Exchange 5.5 to 2003 list the recipients under "did not reach the
 * following recipient(s):" or "The following recipient(s) cannot be
 * reached:", each as "addr on DATE" with the reason and "<host #5.1.1>"
 * or "MSEXCH:IMS:..." indented below.  Exchange 2007 and later, and
 * Microsoft 365, repeat each address under "Diagnostic information for
 * administrators:" with the remote server's words on the next line
 * ("#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##", "Remote Server
 * returned '550 ...'"); when that section is left out, the section for
 * people names them as "Display Name (a@b)".  The newest Microsoft 365
 * layout says "Your
 * message to a@b couldn't be delivered." and "Reported error: ...".
 * The original's headers, which repeat the addresses, follow "Original
 * message headers:" and are never read.
 */
#include "layout.h"

static const char *const admin[] = {
	"Diagnostic information for administrators",
};

static const char *const lists[] = {
	"did not reach the following recipient(s)",
	"following recipient(s) cannot be reached",
	"following recipients cannot be reached",
	"Delivery has failed to these recipients or groups",
};

static const BdbLabel labels[] = {
	{ "Your message to ", FALSE },
	{ "did not reach the following recipient:", FALSE },
};

static const char *const reasons[] = {
	"Reported error:",
};

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	(void) report;
	if (!view->bounce_shaped)
		return FALSE;
	if (bdb_view_header (view, "X-MS-Exchange-Message-Is-Ndr") ||
	    bdb_view_header (view, "X-MS-Embedded-Report"))
		return TRUE;
	const char *mailer = bdb_view_header (view, "X-Mailer");
	if (mailer && bdb_text_find_nocase (mailer, "Internet Mail Service"))
		return TRUE;
	if (bdb_view_has (view, admin[0]) || bdb_view_has_nocase (view, "did not reach the following recipient"))
		return TRUE;
	return bdb_view_has_any (view, lists + 1, G_N_ELEMENTS (lists) - 1) ||
	       bdb_view_has (view, "couldn't be delivered");
}

/* Exchange 2007/2010's section for people: "Display Name (a@b)" or
 * "a@b<mailto:a@b>" on a line, the explanation on the lines below. */
static guint
display_lines (BdbNotice *n, const char *from)
{
	guint count = 0;
	const char *cursor = from, *a0 = NULL, *a1 = NULL;
	g_autoptr (GString) diag = g_string_new (NULL);
	BdbLine line;
	while (bdb_text_next_line (&cursor, n->end, &line)) {
		if (bdb_line_starts (&line, NULL, admin[0]))
			break;
		const char *end = line.p + line.len, *s, *e, *after;
		while (end > line.p && g_ascii_isspace (end[-1]))
			end--;
		gboolean head = FALSE;
		if (end > line.p && end[-1] == ')') {
			const char *open = end - 1;
			while (open > line.p && *open != '(')
				open--;
			head = *open == '(' && bdb_text_address_at (open + 1, end - 1, &e) && e == end - 1;
			s = open + 1;
		} else if (bdb_text_leading_address (line.p, end, &s, &e, &after)) {
			head = after == end || (end - after > 8 && g_ascii_strncasecmp (after, "<mailto:", 8) == 0);
		}
		if (head) {
			if (a0 && bdb_notice_add (n, a0, (gsize) (a1 - a0), diag->str, (gssize) diag->len, "text"))
				count++;
			a0 = s;
			a1 = e;
			g_string_truncate (diag, 0);
		} else if (a0 && !bdb_line_is_blank (&line) && diag->len < 2048) {
			if (diag->len)
				g_string_append_c (diag, '\n');
			g_string_append_len (diag, line.p, (gssize) line.len);
		} else if (a0 && bdb_line_is_blank (&line) && diag->len) {
			if (bdb_notice_add (n, a0, (gsize) (a1 - a0), diag->str, (gssize) diag->len, "text"))
				count++;
			a0 = NULL;
		}
	}
	if (a0 && bdb_notice_add (n, a0, (gsize) (a1 - a0), diag->len ? diag->str : NULL, (gssize) diag->len, "text"))
		count++;
	return count;
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	const char *from = bdb_notice_after (&n, n.text, admin, G_N_ELEMENTS (admin));
	if (from && bdb_layout_list (&n, from, BDB_LIST_BARE) > 0)
		return TRUE;
	from = bdb_notice_after (&n, n.text, lists, G_N_ELEMENTS (lists));
	if (from && bdb_layout_list (&n, from, 0) > 0)
		return TRUE;
	if (from && display_lines (&n, from) > 0)
		return TRUE;
	return bdb_layout_labels (&n, n.text, labels, G_N_ELEMENTS (labels), reasons, G_N_ELEMENTS (reasons)) > 0;
}

const BdbExtractor bdb_extractor_exchange = { "exchange", detect, extract };
