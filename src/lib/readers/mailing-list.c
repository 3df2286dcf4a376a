/* Mailing-list managers refusing a post: Mailman, Google Groups, fml.
 *
 * The failed recipient is the list's own address: Mailman writes "Your
 * message to LIST@host was rejected" (a held post, "awaits moderator
 * approval", is no failure), fml "You are not a member of this mailing
 * list <LIST@host>", Google Groups names the group in X-Failed-Recipients
 * and explains in the sender's language.  Addresses of owners and help
 * desks in the text are never records.  The list manager's own headers
 * are the evidence: such notices need not come from a mailer daemon.
 */
#include <string.h>
#include "layout.h"

/* Google Groups words its refusal in the sender's language, always the
 * same template; this is its English text, recorded so that the rules
 * can read what the notice says whatever language it came in. */
#define GOOGLE_GROUPS_TEMPLATE \
	"Google Groups: the group you tried to contact may not exist, or you may " \
	"not have permission to post messages to the group."

/* Mailman marks every list post with X-Mailman-Version; its own notices
 * also carry X-List-Administrivia or come from the list's -owner or
 * -bounces address. */
static gboolean
is_mailman (const BdbMessageView *view, const BdbReport *report)
{
	if (!bdb_view_header (view, "X-Mailman-Version"))
		return FALSE;
	const char *from = report->v[BDB_FIELD_REPORT_FROM];
	const char *at = from ? strchr (from, '@') : NULL;
	return bdb_view_header (view, "X-List-Administrivia") ||
	       (at && ((at - from > 6 && strncmp (at - 6, "-owner", 6) == 0) ||
	               (at - from > 8 && strncmp (at - 8, "-bounces", 8) == 0)));
}

static gboolean
is_fml (const BdbMessageView *view)
{
	const char *s = bdb_view_header (view, "X-MLServer");
	return s && bdb_text_find_nocase (s, "fml");
}

/* Google's mailer daemon, X-Failed-Recipients and the Groups help link
 * (the only words of the notice that do not depend on the language). */
static gboolean
is_google_groups (const BdbMessageView *view, const BdbReport *report)
{
	(void) report;
	if (!view->daemon_sender || !bdb_view_header (view, "X-Failed-Recipients") ||
	    !bdb_view_has (view, "https://groups.google."))
		return FALSE;
	/* In the notice itself, not in a returned message that links there. */
	const char *text = view->text->str;
	const char *end = bdb_text_notice_end (text, text + view->text->len);
	return bdb_text_find_nocase_n (text, end, "https://groups.google.") != NULL;
}

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	return is_mailman (view, report) || is_fml (view) || is_google_groups (view, report);
}

static const BdbLabel mailman_labels[] = {
	{ "Your message to ", FALSE },
};

static const BdbLabel fml_labels[] = {
	{ "not a member of this mailing list", FALSE },
};

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	if (is_google_groups (view, report)) {
		const char *h = bdb_view_header (view, "X-Failed-Recipients");
		const char *p = h, *end = h + strlen (h), *a0, *a1;
		guint count = 0;
		while (bdb_text_find_address (p, end, &a0, &a1)) {
			if (bdb_notice_add (&n, a0, (gsize) (a1 - a0), GOOGLE_GROUPS_TEMPLATE, -1, "x-failed-recipients"))
				count++;
			p = a1;
		}
		return count > 0;
	}
	if (is_fml (view))
		return bdb_layout_labels (&n, n.text, fml_labels, G_N_ELEMENTS (fml_labels), NULL, 0) > 0;
	/* Mailman: only refusals; a post held for approval is still alive. */
	if (bdb_view_has_nocase (view, "awaits moderator approval") ||
	    bdb_view_has_nocase (view, "held for moderation"))
		return FALSE;
	if (!bdb_view_has_nocase (view, "rejected") && !bdb_view_has_nocase (view, "discarded"))
		return FALSE;
	return bdb_layout_labels (&n, n.text, mailman_labels, G_N_ELEMENTS (mailman_labels), NULL, 0) > 0;
}

const BdbExtractor bdb_extractor_mailinglist = { "mailinglist", detect, extract };
