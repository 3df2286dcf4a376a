/* Security gateways and content filters that refuse a message on the
 * recipient's side and write their own notice: Barracuda, Trend Micro
 * InterScan, McAfee, MessageLabs (Symantec), Mimecast, SurfControl,
 * MailFoundry, m-FILTER, Proofpoint-style "Mail Protection" services.
 *
 * They name the recipient in a field ("Recipient:", "Your message to:",
 * "Unable to deliver message to <a@b>") and say why in another
 * ("Reason: ..."), or show the SMTP dialogue ("Sent <<< RCPT TO:<a@b>",
 * "Received >>> 550 ...").  m-FILTER puts the address alone on a line
 * and the server's reply under "-------server message".
 */
#include <string.h>
#include "layout.h"

static const char *const vendors[] = {
	"InterScan", "Trend Micro", "Barracuda", "Spam Firewall", "McAfee", "MessageLabs",
	"Symantec", "Mimecast", "SurfControl", "MailFoundry", "m-FILTER", "Proofpoint",
	"Mail Protection", "Email Security", "MailMarshal", "Sophos", "IronPort",
};

static const BdbLabel labels[] = {
	{ "Your message to:", FALSE },
	{ "Recipient:", FALSE },
	{ "Recipients:", FALSE },
	{ "Unable to deliver message to", FALSE },
	{ "Original recipient:", FALSE },
	{ "intended recipient:", FALSE },
	{ "message could not be delivered to", FALSE },
};

static const char *const reasons[] = {
	"Reason:", "Details:", "error:",
};

static gboolean
mentions_vendor (const char *s)
{
	for (gsize i = 0; s && i < G_N_ELEMENTS (vendors); i++)
		if (bdb_text_find_nocase (s, vendors[i]))
			return TRUE;
	return FALSE;
}

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	(void) report;
	if (!view->bounce_shaped)
		return FALSE;
	if (mentions_vendor (bdb_view_header (view, "From")) || mentions_vendor (bdb_view_header (view, "X-Mailer")))
		return TRUE;
	return bdb_view_has_any (view, vendors, G_N_ELEMENTS (vendors));
}

/* m-FILTER: the address alone on a line, then "-------server message"
 * and "-------SMTP command" sections. */
static guint
server_message (BdbNotice *n)
{
	const char *sm = bdb_text_find_nocase_n (n->text, n->end, "-------server message");
	if (!sm)
		return 0;
	const char *a0 = NULL, *a1 = NULL, *cursor = n->text;
	BdbLine line;
	while (bdb_text_next_line (&cursor, sm, &line)) {
		const char *end = line.p + line.len, *s, *e, *after;
		if (bdb_text_leading_address (line.p, end, &s, &e, &after) && after == end) {
			a0 = s;
			a1 = e;
		}
	}
	if (!a0)
		return 0;
	g_autoptr (GString) diag = g_string_new (NULL);
	const char *command = NULL;
	gboolean in_command = FALSE;
	cursor = sm;
	bdb_text_next_line (&cursor, n->end, &line);
	while (bdb_text_next_line (&cursor, n->end, &line)) {
		if (bdb_line_is_blank (&line))
			continue;
		if (bdb_line_starts (&line, NULL, "-------SMTP command")) {
			in_command = TRUE;
			continue;
		}
		if (bdb_line_starts (&line, NULL, "-------"))
			break;
		if (in_command) {
			static const char *const commands[] = { "RCPT", "MAIL", "DATA", "EHLO", "HELO" };
			for (gsize i = 0; i < G_N_ELEMENTS (commands) && !command; i++)
				if (bdb_line_starts (&line, NULL, commands[i]))
					command = commands[i];
		} else if (diag->len < 2048) {
			if (diag->len)
				g_string_append_c (diag, '\n');
			g_string_append_len (diag, line.p, (gssize) line.len);
		}
	}
	BdbRecord *rec = bdb_notice_add (n, a0, (gsize) (a1 - a0), diag->str, (gssize) diag->len, "text");
	if (rec && command)
		bdb_record_set (rec, BDB_FIELD_SMTP_COMMAND, command, -1);
	return rec ? 1 : 0;
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	if (server_message (&n) > 0)
		return TRUE;
	if (bdb_layout_transcript (&n, n.text) > 0)
		return TRUE;
	return bdb_layout_labels (&n, n.text, labels, G_N_ELEMENTS (labels), reasons, G_N_ELEMENTS (reasons)) > 0;
}

const BdbExtractor bdb_extractor_gateway = { "gateway", detect, extract };
