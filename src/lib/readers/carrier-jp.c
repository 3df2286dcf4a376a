/* Japanese mobile carriers (au/KDDI and EZweb, NTT docomo, SoftBank) and
 * Japanese-language notices in general.
 *
 * Their notices are short, in ISO-2022-JP (decoded before we read them),
 * often with an English line saying what happened.  The address comes in
 * a field ("宛先: a@b" with "理由: ..." for the reason; "Could not be
 * delivered to: <a@b>"; "Recipient: <a@b>") or alone on a line in angle
 * brackets, with the reason in the notice's other lines.  The carriers'
 * own bounce senders are evidence enough; other senders must look like
 * a bounce.
 */
#include <string.h>
#include "layout.h"

static const char *const carrier_domains[] = {
	"ezweb.ne.jp", "au.com", "dion.ne.jp", "docomo.ne.jp", "softbank.ne.jp",
	"vodafone.ne.jp", "i.softbank.jp", "disney.ne.jp", "emnet.ne.jp", "pdx.ne.jp",
	"willcom.com",
};

static const BdbLabel labels[] = {
	{ "宛先:", FALSE },
	{ "宛先 :", FALSE },
	{ "Could not be delivered to:", FALSE },
	{ "Recipient:", FALSE },
};

static const char *const reasons[] = {
	"理由:", "理由 :",
};

/* Is the bounce from a carrier's domain or one of its hosts? */
static gboolean
carrier_sender (const BdbReport *report)
{
	const char *from = report->v[BDB_FIELD_REPORT_FROM];
	const char *at = from ? strchr (from, '@') : NULL;
	if (!at)
		return FALSE;
	gsize n = strlen (at + 1);
	for (gsize i = 0; i < G_N_ELEMENTS (carrier_domains); i++) {
		gsize m = strlen (carrier_domains[i]);
		if (n < m)
			continue;
		const char *tail = at + 1 + n - m;
		if (g_ascii_strcasecmp (tail, carrier_domains[i]) == 0 && (n == m || tail[-1] == '.'))
			return TRUE;
	}
	return FALSE;
}

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	if (view->bounce_shaped && (bdb_view_has (view, "宛先") || bdb_view_has (view, "Could not be delivered to:")))
		return TRUE;
	return carrier_sender (report) &&
	       (bdb_view_has (view, "Could not be delivered to:") || bdb_view_has (view, "recipients") ||
	        bdb_view_has (view, "宛先") || bdb_view_has (view, "account is disabled"));
}

/* Addresses alone on their lines in angle brackets; the reason is the
 * rest of the notice. */
static guint
lone_addresses (BdbNotice *n)
{
	g_autoptr (GString) diag = g_string_new (NULL);
	g_autoptr (GPtrArray) addrs = g_ptr_array_new ();
	const char *cursor = n->text;
	BdbLine line;
	while (bdb_text_next_line (&cursor, n->end, &line)) {
		gsize skip = bdb_line_skip (&line);
		const char *p = line.p + skip, *end = line.p + line.len, *a0, *a1, *after;
		if (p < end && *p == '<' && bdb_text_leading_address (p, end, &a0, &a1, &after)) {
			while (after < end && g_ascii_isspace (*after))
				after++;
			if (after == end) {
				g_ptr_array_add (addrs, (gpointer) a0);
				g_ptr_array_add (addrs, (gpointer) a1);
				continue;
			}
		}
		if (line.len > skip && diag->len < 2048) {
			if (diag->len)
				g_string_append_c (diag, '\n');
			g_string_append_len (diag, p, end - p);
		}
	}
	return bdb_notice_add_each (n, addrs, diag);
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	if (bdb_layout_labels (&n, n.text, labels, G_N_ELEMENTS (labels), reasons, G_N_ELEMENTS (reasons)) > 0)
		return TRUE;
	return carrier_sender (report) && lone_addresses (&n) > 0;
}

const BdbExtractor bdb_extractor_carrier_jp = { "carrier-jp", detect, extract };
