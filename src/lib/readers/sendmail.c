/* Sendmail without a delivery-status part (V5 and V8 set up without
 * DSN), and notices in its image (Active!hunter, Smail's "Failed
 * addresses follow").
 *
 * Sendmail lists the addresses under "----- The following addresses had
 * permanent fatal errors -----" with "(reason: 550 ...)" below each, and
 * then the transcript: "... while talking to host:", ">>> RCPT To:<a@b>",
 * "<<< 550 5.1.1 <a@b>... User unknown", and its own result line "550
 * <a@b>... User unknown".  The transcript is read first: it carries the
 * remote server's words; the list adds whom the transcript leaves out.
 */
#include "layout.h"

static const char *const transcripts[] = {
	"Transcript of session follows",
};

static const char *const lists[] = {
	"following addresses had permanent fatal errors",
	"following addresses had transient non-fatal errors",
	"following addresses had delivery errors",
	"Failed addresses follow:",
};

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	(void) report;
	if (!view->bounce_shaped)
		return FALSE;
	return bdb_view_has_nocase (view, transcripts[0]) ||
	       bdb_view_has_any_nocase (view, lists, G_N_ELEMENTS (lists));
}

/* Records in the order the notice first names their addresses (the
 * transcript, read first, may name them in another order). */
static void
order_as_named (BdbNotice *n)
{
	GPtrArray *records = n->report->records;
	g_autofree gsize *pos = g_new (gsize, records->len);
	for (guint i = 0; i < records->len; i++) {
		const BdbRecord *rec = records->pdata[i];
		const char *hit = bdb_text_find_nocase_n (n->text, n->end, rec->v[BDB_FIELD_RECIPIENT]);
		pos[i] = hit ? (gsize) (hit - n->text) : G_MAXSIZE;
	}
	/* Insertion sort: a handful of records, and stable. */
	for (guint i = 1; i < records->len; i++) {
		for (guint j = i; j > 0 && pos[j - 1] > pos[j]; j--) {
			gpointer t = records->pdata[j];
			records->pdata[j] = records->pdata[j - 1];
			records->pdata[j - 1] = t;
			gsize p = pos[j];
			pos[j] = pos[j - 1];
			pos[j - 1] = p;
		}
	}
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	guint count = 0;
	const char *t = bdb_notice_after (&n, n.text, transcripts, G_N_ELEMENTS (transcripts));
	if (t)
		count += bdb_layout_transcript (&n, t);
	const char *l = bdb_notice_after (&n, n.text, lists, G_N_ELEMENTS (lists));
	if (l)
		count += bdb_layout_list (&n, l, BDB_LIST_DETAILS);
	order_as_named (&n);
	return count > 0;
}

const BdbExtractor bdb_extractor_sendmail = { "sendmail", detect, extract };
