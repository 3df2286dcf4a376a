/* qmail's bounce format (QSBMF) and the notices written in its image
 * (old Yahoo!, "Message from <host>. Unable to deliver message to the
 * following address(es).").
 *
 * QSBMF is a paragraph per recipient: "<addr>:" on its own line, then
 * the error, the paragraph ending at a blank line; "--- Below this line
 * is a copy of the message." ends the notice.  qmail tags its own
 * errors with an enhanced code, "(#5.1.1)", and quotes the remote
 * server after "Remote host said:", having said at which step of the
 * session it was refused ("... does not like recipient.").
 */
#include <string.h>
#include "layout.h"

static const char *const intros[] = {
	"This is the qmail",   /* qmail-send, qmail-ldap, ... */
	"I'm afraid I wasn't able to deliver your message",
	"we were unable to deliver your message to the following address",
	"Unable to deliver message to the following address",
	"unable to deliver your message to the following addresses",
	"your mail was not delivered to the following address",
	"Your message to the following addresses",
};

/* qmail-remote says at which step of the session the remote server
 * refused; the reply it quotes does not. */
static const struct {
	const char *phrase;
	const char *command;
} steps[] = {
	{ " but greeting failed", "HELO" },
	{ " but my name was rejected", "EHLO" },
	{ " but sender was rejected", "MAIL" },
	{ " does not like recipient", "RCPT" },
	{ " failed on DATA command", "DATA" },
	{ " failed after I sent the message", "DATA" },
	{ "most progress was RCPT TO response", "RCPT" },
	{ "most progress was MAIL FROM response", "MAIL" },
	{ "most progress was DATA response", "DATA" },
};

static void
set_commands (BdbReport *report)
{
	for (guint i = 0; i < report->records->len; i++) {
		BdbRecord *rec = report->records->pdata[i];
		const char *diag = rec->v[BDB_FIELD_DIAGNOSTIC];
		for (gsize j = 0; diag && j < G_N_ELEMENTS (steps) && !rec->v[BDB_FIELD_SMTP_COMMAND]; j++)
			if (strstr (diag, steps[j].phrase))
				bdb_record_set (rec, BDB_FIELD_SMTP_COMMAND, steps[j].command, -1);
	}
}

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	(void) report;
	return view->bounce_shaped && bdb_view_has_any_nocase (view, intros, G_N_ELEMENTS (intros));
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	const char *from = bdb_notice_after (&n, n.text, intros, G_N_ELEMENTS (intros));
	if (bdb_layout_paragraphs (&n, from) == 0)
		return FALSE;
	set_commands (report);
	return TRUE;
}

const BdbExtractor bdb_extractor_qmail = { "qmail", detect, extract };
