/* Postfix without a delivery-status part (before 2.3, or with DSN
 * turned off), and the MTAs that write the same "<addr>: error" layout:
 * OpenSMTPD's plain notices and Courier's.
 *
 * Postfix writes one paragraph per recipient, "<addr>: host x said: 550
 * ... (in reply to RCPT TO command)", continued on indented lines, and
 * "<a@b> (expanded from <c@d>): ..." for aliases, where a@b is the
 * address delivery was tried for.
 */
#include "layout.h"

static const char *const intros[] = {
	"This is the Postfix program at host",
	"This is the mail system at host",
	"please DO NOT REPLY to this e-mail",
	"running the Courier mail server",
};

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	(void) report;
	return view->bounce_shaped && bdb_view_has_any (view, intros, G_N_ELEMENTS (intros));
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	const char *from = bdb_notice_after (&n, n.text, intros, G_N_ELEMENTS (intros));
	return bdb_layout_paragraphs (&n, from) > 0;
}

const BdbExtractor bdb_extractor_postfix = { "postfix", detect, extract };
