/* Does a message present itself as a bounce?
 *
 * Only the sender, the headers and the MIME structure count, never the
 * body: anyone can write "Final-Recipient:" or "User unknown" in a mail
 * to a list, and the heuristic readers must not turn that into a
 * suppression.  A subject alone is not enough either ("Undeliverable: 3
 * parcels" from a courier, "Fwd: Undelivered Mail" from a colleague).
 */
#include <string.h>
#include "view.h"
#include "text.h"

static const char *const daemon_locals[] = {
	"mailer-daemon", "mailerdaemon", "mail-daemon", "maildaemon", "postmaster",
	"mdaemon", "mail.daemon", "bounce", "bounces", "mailer", "nobody",
};

static const char *const daemon_names[] = {
	"mail delivery", "mailer-daemon", "mailer daemon", "postmaster", "mail server",
	"microsoft outlook", "microsoftexchange", "mail administrator", "delivery subsystem",
};

static const char *const bounce_subjects[] = {
	"undeliver", "undelivered", "returned mail", "return mail", "delivery status",
	"delivery failure", "delivery failed", "failure notice", "mail delivery",
	"delivery notification", "delivery report", "non remis", "nondeliver", "non-deliver",
	"not delivered", "could not be delivered", "couldn't be delivered", "mail system error",
	"could not send message", "delayed mail", "delivery delayed", "delivery problem",
	"returned to sender", "permanent error", "delivery has failed", "unzustellbar",
	"non recapitabile", "no se puede entregar", "配信", "不達", "エラー",
};

static gboolean
has_any (const char *hay, const char *const *needles, gsize n)
{
	for (gsize i = 0; i < n; i++)
		if (strstr (hay, needles[i]))
			return TRUE;
	return FALSE;
}

void
bdb_message_view_shape (BdbMessageView *view, const BdbReport *report)
{
	GMimeObject *obj = GMIME_OBJECT (view->message);

	const char *rp = g_mime_object_get_header (obj, "Return-Path");
	if (rp) {
		while (*rp == ' ' || *rp == '\t')
			rp++;
		view->null_sender = strncmp (rp, "<>", 2) == 0;
	}

	const char *from = report->v[BDB_FIELD_REPORT_FROM];
	const char *raw_from = g_mime_object_get_header (obj, "From");
	if (from) {
		const char *at = strchr (from, '@');
		gsize n = at ? (gsize) (at - from) : strlen (from);
		for (gsize i = 0; i < G_N_ELEMENTS (daemon_locals) && !view->daemon_sender; i++)
			view->daemon_sender = strlen (daemon_locals[i]) == n &&
			                      g_ascii_strncasecmp (from, daemon_locals[i], n) == 0;
	}
	if (!view->daemon_sender && raw_from) {
		g_autofree char *lower = bdb_text_strdown (raw_from);
		view->daemon_sender = has_any (lower, daemon_names, G_N_ELEMENTS (daemon_names)) ||
		                      strstr (lower, "<@>") != NULL;
	}

	const char *subject = report->v[BDB_FIELD_REPORT_SUBJECT];
	if (subject) {
		g_autofree char *s = bdb_text_strdown (subject);
		gboolean reply = g_str_has_prefix (s, "re:") || g_str_has_prefix (s, "fwd:") ||
		                 g_str_has_prefix (s, "fw:") || g_str_has_prefix (s, "aw:") ||
		                 g_str_has_prefix (s, "wg:") || g_str_has_prefix (s, "tr:");
		view->bounce_subject = !reply && has_any (s, bounce_subjects, G_N_ELEMENTS (bounce_subjects));
	}

	gboolean ds_report = view->multipart_report &&
	                     (!view->report_type || g_ascii_strcasecmp (view->report_type, "delivery-status") == 0);
	view->bounce_shaped = view->status_part || ds_report || view->daemon_sender ||
	                      g_mime_object_get_header (obj, "X-Failed-Recipients") ||
	                      g_mime_object_get_header (obj, "X-MS-Exchange-Message-Is-Ndr") ||
	                      (view->null_sender && view->bounce_subject);
}
