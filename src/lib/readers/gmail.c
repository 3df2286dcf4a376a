/* Gmail's plain-text notices from before it sent multipart/report (and
 * the look-alikes that copy them): the failed address alone on an
 * indented line under "Delivery to the following recipient failed
 * permanently:" (or "... has been delayed:"), the reason below under
 * "Technical details of permanent failure:", with the remote server's
 * reply after "The error that the other server returned was:".
 */
#include "layout.h"

static const char *const headings[] = {
	"to the following recipient failed",
	"to the following recipients failed",
	"to the following recipient has been delayed",
	"to the following recipients have been delayed",
	"to the following recipient was delayed",
};

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	(void) report;
	return view->bounce_shaped && bdb_view_has_any_nocase (view, headings, G_N_ELEMENTS (headings));
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	const char *from = bdb_notice_after (&n, n.text, headings, G_N_ELEMENTS (headings));
	return bdb_layout_list (&n, from, BDB_LIST_DETAILS | BDB_LIST_BARE) > 0;
}

const BdbExtractor bdb_extractor_gmail = { "gmail", detect, extract };
