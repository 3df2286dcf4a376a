/* Auto-replies (RFC 3834 and the vacation notices that predate it).
 *
 * An auto-reply proves the recipient's mailbox works, so it must never be
 * mistaken for a bounce: it becomes one "vacation" record for the address
 * that answered, which the policy ignores.  Bounces carry
 * "Auto-Submitted: auto-replied" too (Postfix sets it), so a message from
 * a mailer daemon or with a bounce's subject is never taken for one.
 */
#include <string.h>
#include "readers.h"
#include "../text.h"

static const char *const subject_prefixes[] = {
	"auto:", "automatic reply", "auto reply", "auto-reply", "autoreply",
	"auto response", "auto-response", "autoresponse", "out of office",
	"out of the office", "away from", "on vacation", "vacation", "abwesenheit",
	"automatische antwort", "réponse automatique", "respuesta automática",
	"risposta automatica", "automatisch antwoord", "自動応答", "自動返信",
};

static gboolean
header_is_set (GMimeObject *obj, const char *name)
{
	const char *v = g_mime_object_get_header (obj, name);
	return v && *v && g_ascii_strncasecmp (v, "no", 2) != 0;
}

gboolean
bdb_read_autoreply (const BdbMessageView *view, BdbReport *report)
{
	GMimeObject *obj = GMIME_OBJECT (view->message);
	const char *from = report->v[BDB_FIELD_REPORT_FROM];
	const char *subject = report->v[BDB_FIELD_REPORT_SUBJECT];
	g_autofree char *subj = bdb_text_strdown (subject ? subject : "");

	if (!from || view->daemon_sender || view->bounce_subject || view->status_part)
		return FALSE;

	const char *as = g_mime_object_get_header (obj, "Auto-Submitted");
	const char *prec = g_mime_object_get_header (obj, "Precedence");
	while (as && g_ascii_isspace (*as))
		as++;
	gboolean auto_reply =
		(as && g_ascii_strncasecmp (as, "auto-replied", 12) == 0) ||
		header_is_set (obj, "X-Autoreply") || header_is_set (obj, "X-Autorespond") ||
		header_is_set (obj, "X-Auto-Reply") ||
		(prec && g_ascii_strncasecmp (prec, "auto_reply", 10) == 0);
	gboolean auto_subject = FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS (subject_prefixes) && !auto_subject; i++)
		auto_subject = g_str_has_prefix (subj, subject_prefixes[i]) ||
		               (strlen (subject_prefixes[i]) > 8 && strstr (subj, subject_prefixes[i]));
	if (!auto_reply && !auto_subject)
		return FALSE;

	BdbRecord *rec = bdb_report_add_record (report);
	if (!rec)
		return FALSE;
	bdb_record_set_recipient (rec, from, "from");
	/* The first line of the notice says why. */
	if (view->text) {
		gsize n;
		const char *s = bdb_text_first_line (view->text->str, &n);
		bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, s, (gssize) n);
	}
	bdb_report_set (report, BDB_FIELD_EXTRACTOR, "rfc3834", -1);
	return TRUE;
}
