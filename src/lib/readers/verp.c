/* The reader of last resort for a bounce that came back to a VERP
 * address: when no reader could read a recipient out of it (a notice
 * whose text names nobody, "your message could not be delivered"), the
 * address it came back to says who it was for (the view decoded it into
 * BDB_FIELD_VERP_RECIPIENT, verp.h).
 *
 * Only a message that says it is a bounce (view.h, bounce_shaped): a
 * person's reply or an auto-reply sent to the VERP address must not be
 * taken for a failure.  The record's source is "verp", which explain
 * shows; the first line of the notice with a status or an SMTP reply in it
 * is its diagnostic, which classification reads as for any record.  When a reader did name a recipient,
 * this one is not reached: the report's own fields win, and explain shows
 * a recipient that differs from the VERP one.
 */
#include <string.h>
#include "readers.h"
#include "../diag.h"

#define CONTEXT_MAX 4096

/* The first line of the notice with an SMTP reply or a status code in it
 * ("550 5.1.1 mailbox unavailable"): its diagnostic. */
static void
set_diagnostic (BdbRecord *rec, const char *text, gsize len)
{
	const char *end = text + len;
	for (const char *p = text; p < end;) {
		const char *nl = memchr (p, '\n', (gsize) (end - p));
		const char *stop = nl ? nl : end;
		g_autofree char *line = g_strndup (p, (gsize) (stop - p));
		char code[16];
		if (bdb_find_enhanced_code (line, code) || bdb_find_reply_code (line, code)) {
			bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, line, -1);
			return;
		}
		p = nl ? nl + 1 : end;
	}
}

gboolean
bdb_read_verp (const BdbMessageView *view, BdbReport *report)
{
	const char *rcpt = report->v[BDB_FIELD_VERP_RECIPIENT];
	if (!rcpt || !view->bounce_shaped)
		return FALSE;
	BdbRecord *rec = bdb_report_add_record (report);
	if (!rec || !bdb_record_set_recipient (rec, rcpt, "verp"))
		return FALSE;
	bdb_record_set (rec, BDB_FIELD_ACTION, "failed", -1);
	if (view->text && view->text->len) {
		gsize n = MIN (view->text->len, CONTEXT_MAX);
		rec->context = bdb_report_intern (report, view->text->str, (gssize) n);
		set_diagnostic (rec, view->text->str, n);
	}
	bdb_report_set (report, BDB_FIELD_EXTRACTOR, "verp", -1);
	return TRUE;
}
