/* The last resort for bounces of no family we know (IMail, MailEnable,
 * DragonFly, Apache James, hosting providers' home-grown notices): the
 * address in a labelled field, an "<addr>:" paragraph, a list under a
 * heading, or X-Failed-Recipients.
 *
 * Only for messages that present themselves as bounces, and only
 * addresses in those positions: an address anywhere else in the notice
 * is never taken for the failed recipient.
 */
#include <string.h>
#include "layout.h"

static const BdbLabel labels[] = {
	/* The label says why. */
	{ "Unknown user:", TRUE },
	{ "User unknown:", TRUE },
	{ "No such user:", TRUE },
	{ "Invalid final delivery userid:", TRUE },
	{ "Mailbox full:", TRUE },
	/* The reason is elsewhere. */
	{ "error delivering your mail to", FALSE },
	{ "undeliverable to ", FALSE },
	{ "Delivery failed:", FALSE },
	{ "Delivery to the following recipient failed:", FALSE },
	{ "Unable to deliver message to", FALSE },
	{ "Could not be delivered to:", FALSE },
	{ "could not deliver mail to", FALSE },
	{ "did not reach the following recipient", FALSE },
	{ "recipients returned permanent errors:", FALSE },
	{ "target mail address:", FALSE },
	{ "Failed recipient:", FALSE },
	{ "Your message to:", FALSE },
	{ "Recipient:", FALSE },
	/* Apache James lists the envelope under "Message details:". */
	{ "RCPT TO:", FALSE },
};

static const char *const reasons[] = {
	"Reason:", "because:", "Reported error:", "Error message below:", "Error:", "Diagnostic:",
};

/* Headings over a list of failed addresses, one per line. */
static const char *const headings[] = {
	"unable to deliver your message to the following address",
	"could not be delivered to the following recipient",
	"could not deliver your message to the following recipient",
	"following recipients did not receive this message",
	"following recipient(s) could not be reached",
	"following addresses were not delivered",
};

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	(void) report;
	return view->bounce_shaped;
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	if (bdb_layout_labels (&n, n.text, labels, G_N_ELEMENTS (labels), reasons, G_N_ELEMENTS (reasons)) > 0)
		return TRUE;
	if (bdb_layout_paragraphs (&n, n.text) > 0)
		return TRUE;
	const char *list = bdb_notice_after (&n, n.text, headings, G_N_ELEMENTS (headings));
	if (list && bdb_layout_list (&n, list, BDB_LIST_DETAILS | BDB_LIST_BARE) > 0)
		return TRUE;

	/* X-Failed-Recipients (Exim, Gmail and others add it): the header
	 * names the failed addresses; the notice is the only reason. */
	const char *h = bdb_view_header (view, "X-Failed-Recipients");
	if (!h)
		return FALSE;
	g_autoptr (GString) diag = g_string_new (NULL);
	const char *cursor = n.text;
	BdbLine line;
	while (bdb_text_next_line (&cursor, n.end, &line) && diag->len < 2048) {
		gsize skip = bdb_line_skip (&line);
		if (line.len > skip) {
			if (diag->len)
				g_string_append_c (diag, '\n');
			g_string_append_len (diag, line.p + skip, (gssize) (line.len - skip));
		}
	}
	guint count = 0;
	const char *p = h, *end = h + strlen (h), *a0, *a1;
	while (bdb_text_find_address (p, end, &a0, &a1)) {
		if (bdb_notice_add (&n, a0, (gsize) (a1 - a0), diag->len ? diag->str : NULL, (gssize) diag->len,
		                    "x-failed-recipients"))
			count++;
		p = a1;
	}
	return count > 0;
}

const BdbExtractor bdb_extractor_generic = { "generic", detect, extract };
