/* Unsubscribe requests sent by mail (RFC 2369 List-Unsubscribe mailto).
 *
 * A mail client's "Unsubscribe" button writes to the list's
 * List-Unsubscribe address, usually with the URL's "subject=unsubscribe";
 * Apple Mail marks its request "X-Apple-Unsubscribe: true" (and
 * "Auto-Submitted: auto-replied", so it must be read before the
 * auto-replies).  The sender asks to be mailed no more: one "opt-out"
 * feedback record for the From address, a complaint to the policy, like an
 * ARF report of that type.  Anything less certain (a person writing
 * "please take me off your list" under another subject) is left alone.
 */
#include <string.h>
#include "readers.h"
#include "../text.h"

/* Is @subject "unsubscribe", give or take case and spaces? */
static gboolean
subject_is_unsubscribe (const char *subject)
{
	static const char word[] = "unsubscribe";

	if (!subject)
		return FALSE;
	while (g_ascii_isspace (*subject))
		subject++;
	if (g_ascii_strncasecmp (subject, word, sizeof word - 1) != 0)
		return FALSE;
	for (subject += sizeof word - 1; *subject; subject++)
		if (!g_ascii_isspace (*subject))
			return FALSE;
	return TRUE;
}

gboolean
bdb_read_unsubscribe (const BdbMessageView *view, BdbReport *report)
{
	GMimeObject *obj = GMIME_OBJECT (view->message);
	const char *from = report->v[BDB_FIELD_REPORT_FROM];

	if (!from || view->daemon_sender || view->status_part || view->feedback_part)
		return FALSE;
	const char *apple = g_mime_object_get_header (obj, "X-Apple-Unsubscribe");
	while (apple && g_ascii_isspace (*apple))
		apple++;
	if (!(apple && g_ascii_strncasecmp (apple, "true", 4) == 0) &&
	    !subject_is_unsubscribe (report->v[BDB_FIELD_REPORT_SUBJECT]))
		return FALSE;

	BdbRecord *rec = bdb_report_add_record (report);
	if (!rec)
		return FALSE;
	bdb_record_set_recipient (rec, from, "from");
	bdb_report_set (report, BDB_FIELD_FEEDBACK_TYPE, "opt-out", -1);
	/* The request's first line, when it has one, says who sent it. */
	gsize n = 0;
	const char *first = view->text ? bdb_text_first_line (view->text->str, &n) : NULL;
	if (n)
		bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, first, (gssize) n);
	bdb_report_set (report, BDB_FIELD_EXTRACTOR, "rfc2369-unsubscribe", -1);
	return TRUE;
}
