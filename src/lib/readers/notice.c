/* The notice of a text bounce and what the MTA families share in reading
 * it: which addresses are never a failed recipient, how a recipient and
 * its diagnostic become a record, whether the notice reports a failure, a
 * delay or a delivery.  See notice.h.
 */
#include <string.h>
#include <bouncedb/address.h>
#include "notice.h"

/* ---- the notice --------------------------------------------------------- */

static char *
header_address (const BdbMessageView *view, const char *name)
{
	const char *raw = g_mime_object_get_header (GMIME_OBJECT (view->message), name);
	if (!raw)
		return NULL;
	const char *s, *e;
	if (!bdb_text_find_address (raw, raw + strlen (raw), &s, &e))
		return NULL;
	return g_ascii_strdown (s, e - s);
}

void
bdb_notice_init (BdbNotice *n, const BdbMessageView *view, BdbReport *report)
{
	memset (n, 0, sizeof *n);
	n->view = view;
	n->report = report;
	n->text = view->text->str;
	n->end = bdb_text_notice_end (n->text, n->text + view->text->len);
	n->action = bdb_notice_is_success (n->text, n->end) ? "delivered"
	          : bdb_notice_is_warning (view, report, n->text, n->end) ? "delayed" : "failed";
	n->ours[0] = header_address (view, "To");
	n->ours[1] = g_strdup (report->v[BDB_FIELD_REPORT_FROM]);
	n->ours[2] = g_strdup (report->v[BDB_FIELD_ORIGINAL_FROM]);
}

void
bdb_notice_clear (BdbNotice *n)
{
	for (gsize i = 0; i < G_N_ELEMENTS (n->ours); i++)
		g_clear_pointer (&n->ours[i], g_free);
	g_clear_pointer (&n->added, g_hash_table_unref);
}

gboolean
bdb_notice_is_ours (const BdbNotice *n, const char *addr, gsize len)
{
	for (gsize i = 0; i < G_N_ELEMENTS (n->ours); i++)
		if (n->ours[i] && strlen (n->ours[i]) == len && g_ascii_strncasecmp (n->ours[i], addr, len) == 0)
			return TRUE;
	return FALSE;
}

/* Local parts of the mail system's own mailboxes: a bounce never reports
 * them as the failed recipient of our mail. */
static gboolean
is_daemon (const char *addr)
{
	static const char *const locals[] = {
		"mailer-daemon@", "mailer_daemon@", "mail-daemon@", "maildaemon@",
	};
	for (gsize i = 0; i < G_N_ELEMENTS (locals); i++)
		if (g_str_has_prefix (addr, locals[i]))
			return TRUE;
	return FALSE;
}

/* "554: delivery error ..." (Yahoo), "550: <a@b>: User unknown": a reply
 * code the finders do not take for one, at the start of an error line. */
static gboolean
leading_reply (const char *diag, gsize len, char out[4])
{
	const char *p = diag, *end = diag + len;
	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 4 && (p[0] == '4' || p[0] == '5') && p[1] >= '0' && p[1] <= '5' &&
		    g_ascii_isdigit (p[2]) && p[3] == ':' && (end - p == 4 || !g_ascii_isdigit (p[4]))) {
			memcpy (out, p, 3);
			out[3] = '\0';
			return TRUE;
		}
		const char *nl = memchr (p, '\n', (gsize) (end - p));
		if (!nl)
			break;
		p = nl + 1;
	}
	return FALSE;
}

BdbRecord *
bdb_notice_add (BdbNotice *n, const char *addr, gsize addr_len,
                const char *diag, gssize diag_len, const char *source)
{
	g_autofree char *raw = g_strndup (addr, addr_len);
	g_autofree char *norm = bdb_address_normalize (raw, BDB_ADDRESS_UNICODE_DOMAIN, NULL);
	if (!norm || !strchr (norm, '@') || is_daemon (norm) || bdb_notice_is_ours (n, norm, strlen (norm)))
		return NULL;
	if (diag && diag_len < 0)
		diag_len = (gssize) strlen (diag);

	BdbReport *report = n->report;
	/* The records this notice added, by recipient: a notice may name
	 * thousands, and looking each up in turn would cost their square. */
	if (!n->added) {
		n->added = g_hash_table_new (g_str_hash, g_str_equal);
		for (guint i = 0; i < report->records->len; i++) {
			BdbRecord *r = report->records->pdata[i];
			if (r->v[BDB_FIELD_RECIPIENT])
				g_hash_table_insert (n->added, (gpointer) r->v[BDB_FIELD_RECIPIENT], r);
		}
	}
	BdbRecord *rec = g_hash_table_lookup (n->added, norm);
	if (rec) {
		if (rec->v[BDB_FIELD_DIAGNOSTIC] || !diag)
			return rec;
	} else {
		rec = bdb_report_add_record (report);
		if (!rec)
			return NULL;
		bdb_record_set_recipient (rec, norm, source);
		bdb_record_set (rec, BDB_FIELD_ACTION, n->action, -1);
		if (rec->v[BDB_FIELD_RECIPIENT])
			g_hash_table_insert (n->added, (gpointer) rec->v[BDB_FIELD_RECIPIENT], rec);
	}
	if (diag) {
		bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, diag, diag_len);
		rec->context = rec->v[BDB_FIELD_DIAGNOSTIC];
		char reply[4];
		if (leading_reply (diag, (gsize) diag_len, reply))
			bdb_record_set (rec, BDB_FIELD_REPLY_CODE, reply, -1);
	}
	return rec;
}

guint
bdb_notice_add_each (BdbNotice *n, const GPtrArray *bounds, const GString *diag)
{
	guint count = 0;
	for (guint i = 0; i + 1 < bounds->len; i += 2) {
		const char *a0 = bounds->pdata[i], *a1 = bounds->pdata[i + 1];
		if (bdb_notice_add (n, a0, (gsize) (a1 - a0), diag->len ? diag->str : NULL, (gssize) diag->len, "text"))
			count++;
	}
	return count;
}

/* Success notices in the layouts of failures (Postfix's "Successful Mail
 * Delivery Report" without its DSN part, Exchange's "Delivered:"): their
 * records must never read as failures. */
gboolean
bdb_notice_is_success (const char *text, const char *end)
{
	static const char *const phrases[] = {
		"was successfully delivered", "has been delivered to the following",
		"delivery to the following recipients succeeded",
	};
	for (gsize i = 0; i < G_N_ELEMENTS (phrases); i++)
		if (bdb_text_find_nocase_n (text, end, phrases[i]))
			return TRUE;
	return FALSE;
}

gboolean
bdb_notice_is_warning (const BdbMessageView *view, const BdbReport *report,
                       const char *text, const char *end)
{
	static const char *const phrases[] = {
		"warning message only", "this is a warning only", "has not yet been delivered",
		"has been delayed", "have been delayed", "will keep trying", "still trying",
		"delivery attempts will continue", "will be retried", "is being retried",
		"still being retried", "will continue to try",
	};
	static const char *const subjects[] = {
		"warning:", "(delay)", "delayed mail", "delivery delayed", "delivery status notification (delay",
	};
	(void) view;
	for (gsize i = 0; i < G_N_ELEMENTS (phrases); i++)
		if (bdb_text_find_nocase_n (text, end, phrases[i]))
			return TRUE;
	const char *subject = report->v[BDB_FIELD_REPORT_SUBJECT];
	if (subject)
		for (gsize i = 0; i < G_N_ELEMENTS (subjects); i++)
			if (bdb_text_find_nocase (subject, subjects[i]))
				return TRUE;
	return FALSE;
}

