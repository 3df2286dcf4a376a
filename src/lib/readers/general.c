/* The general reader: failure notices of any system, read from the
 * structure and the vocabulary every notice shares, after the standard
 * reports and the MTA-family layouts have found nobody.
 *
 * A notice written for people names the failed recipients somewhere in
 * the text its system wrote (the region: region.h), among other addresses
 * (the sender, a help desk, the postmaster, a link, a message id).  An
 * address becomes a record only when evidence ties it to a failure, and
 * the record says which evidence did (bdb_record_tied_by()):
 *
 *   transcript   "RCPT TO:<addr>" answered by a 4xx/5xx reply, or
 *                accepted and then refused at DATA;
 *   x400         an X.400 form naming the recipient of a non-delivery
 *                ("dda:SMTP=addr", "/RFC-822=addr/", RFC 2156 escapes);
 *   listing      a heading over a list of addresses ("the following
 *                recipients", "folgende Empfänger"), the address first on
 *                its line under it, or after it on the heading's line;
 *   original     "originally addressed to <addr>", "Final-Recipient:";
 *   phrase       an error phrase, an enhanced status code or a 4xx/5xx
 *                reply code on the address's line or on the lines under
 *                it ("<addr>: user unknown", "... to <addr> could not be
 *                delivered", "<addr>:" then "550 5.1.1 ...");
 *   header       X-Failed-Recipients.
 *
 * Never an address of ours (the bounce's From and To, the addresses it
 * was delivered to, the original's From and Return-Path), of the mail
 * system (mailer-daemon, the reporting domain's postmaster), in a URL or a
 * message id, after a word naming a sender ("from", "Absender"), on a
 * header line of the returned message, or on a line telling whom to
 * contact (unless a stronger tie than a phrase names it).  The region
 * ends where the returned message starts, so an address that only the
 * returned message holds is never read.
 *
 * Runs only on messages that present themselves as failure notices
 * (shape.c), or whose subject says so and whose text holds the words of
 * one.  Linear in the length of the text: each line is looked at a
 * bounded number of times, and each address only within a window.
 */
#include <string.h>
#include <bouncedb/address.h>
#include "general-parts.h"

static void
add_ours (BdbGeneral *g, const char *addr)
{
	if (addr && *addr)
		g_ptr_array_add (g->ours, g_ascii_strdown (addr, -1));
}

static char *
header_address (const BdbMessageView *view, const char *name)
{
	const char *raw = bdb_view_header (view, name);
	const char *s, *e;
	if (!raw || !bdb_text_find_address (raw, raw + strlen (raw), &s, &e))
		return NULL;
	return g_ascii_strdown (s, e - s);
}

/* The last two labels of @domain ("mx1.mail.example.com" -> "example.com"). */
static char *
site_of (const char *domain)
{
	if (!domain)
		return NULL;
	const char *last = strrchr (domain, '.');
	if (!last)
		return NULL;
	const char *p = last;
	while (p > domain && p[-1] != '.')
		p--;
	return g_ascii_strdown (p, -1);
}

static void
collect_ours (BdbGeneral *g)
{
	const BdbReport *r = g->report;
	g->ours = g_ptr_array_new_with_free_func (g_free);
	/* The addresses the bounce was sent to.  Not X-Original-To: the
	 * DragonFly Mail Agent writes the failed recipient there
	 * (doc/VIOLATIONS.md), and when it is the bounce's own address the
	 * To or Delivered-To says so too. */
	static const char *const delivered[] = { "To", "Delivered-To", "Envelope-To" };
	for (gsize i = 0; i < G_N_ELEMENTS (delivered); i++) {
		char *a = header_address (g->view, delivered[i]);
		add_ours (g, a);
		g_free (a);
	}
	add_ours (g, r->v[BDB_FIELD_REPORT_FROM]);
	add_ours (g, r->v[BDB_FIELD_ORIGINAL_FROM]);
	add_ours (g, r->v[BDB_FIELD_ORIGINAL_MAIL_FROM]);
	const char *rp = bdb_view_original_header (g->view, "Return-Path");
	const char *s, *e;
	if (rp && bdb_text_find_address (rp, rp + strlen (rp), &s, &e)) {
		g_autofree char *a = g_strndup (s, (gsize) (e - s));
		add_ours (g, a);
	}
	const char *from = r->v[BDB_FIELD_REPORT_FROM];
	const char *at = from ? strrchr (from, '@') : NULL;
	g->site = at ? site_of (at + 1) : NULL;
}

/* The mail system's own mailboxes: never the failed recipient of our
 * mail.  The postmaster of another domain may be (a report about mail to
 * it), that of the reporting system is not. */
static gboolean
is_system (const BdbGeneral *g, const char *addr)
{
	static const char *const locals[] = {
		"mailer-daemon@", "mailer_daemon@", "mail-daemon@", "maildaemon@", "mdaemon@",
	};
	for (gsize i = 0; i < G_N_ELEMENTS (locals); i++)
		if (g_ascii_strncasecmp (addr, locals[i], strlen (locals[i])) == 0)
			return TRUE;
	if (g_ascii_strncasecmp (addr, "postmaster@", 11) == 0 && g->site) {
		g_autofree char *site = site_of (addr + 11);
		return !site || g_ascii_strcasecmp (site, g->site) == 0;
	}
	return FALSE;
}

static gboolean
is_ours (const BdbGeneral *g, const char *addr)
{
	for (guint i = 0; i < g->ours->len; i++)
		if (g_ascii_strcasecmp (g->ours->pdata[i], addr) == 0)
			return TRUE;
	return is_system (g, addr);
}

static void
tie_occurrences (BdbGeneral *g)
{
	guint next_list = 0;
	for (guint i = 0; i < g->region.lines->len; i++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, i);
		if (l->blank)
			continue;
		if (i >= next_list && bdb_general_is_heading (g, i))
			next_list = bdb_general_tie_listing (g, i);
		const char *p = l->p, *end = bdb_rline_end (l), *a0, *a1;
		while (p < end && bdb_text_find_address (p, end, &a0, &a1)) {
			/* "dda:SMTP=a@b" is read by bdb_general_tie_x400(). */
			if (a1 - a0 > 5 && g_ascii_strncasecmp (a0, "smtp=", 5) == 0) {
				p = a1;
				continue;
			}
			if (bdb_general_candidate (g, i, a0, a1))
				bdb_general_tie_occurrence (g, i, a0, a1);
			p = a1;
		}
	}
}

static void
tie_failed_recipients_header (BdbGeneral *g)
{
	const char *h = bdb_view_header (g->view, "X-Failed-Recipients");
	if (!h)
		return;
	g_autoptr (GString) diag = g_string_new (NULL);
	bdb_general_notice_diag (g, diag);
	const char *p = h, *end = h + strlen (h), *a0, *a1;
	while (bdb_text_find_address (p, end, &a0, &a1)) {
		/* After every tie of the text: sorted last, used when the text
		 * names the address nowhere it could be tied. */
		BdbTie *t = bdb_general_add_tie (g, G_MAXSIZE, a0, (gsize) (a1 - a0), BDB_TIE_HEADER);
		t->evidence = g_strdup ("X-Failed-Recipients header");
		g_string_assign (t->diag, diag->str);
		p = a1;
	}
}

/* Local parts of automated senders: a message from one of them is no
 * person's mail, whatever its subject. */
static const char *const automated_locals[] = {
	"no-reply", "noreply", "do-not-reply", "donotreply", "do_not_reply", "no_reply",
};

/* Is the message a failure notice, for this reader?  A bounce by its
 * headers or structure (shape.c); or a message whose text holds the
 * words of a failure notice and whose subject says it is one, or that no
 * person sent: a null envelope sender, an empty From ("<>"), an
 * automated sender's address. */
static gboolean
looks_like_notice (const BdbGeneral *g)
{
	const BdbMessageView *view = g->view;
	/* A JSON document (an SNS notification) is data for its own reader,
	 * not the words of a notice. */
	const char *first = g->region.text;
	while (first < g->region.end && g_ascii_isspace (*first))
		first++;
	if (first < g->region.end && *first == '{')
		return FALSE;
	if (view->bounce_shaped)
		return TRUE;
	gboolean words = FALSE;
	for (guint m = 0; m < g->region.matches->len && !words; m++) {
		BdbPhraseKind k = bdb_phrase (bdb_region_match (&g->region, m)->phrase)->kind;
		words = k == BDB_PHRASE_FAILURE || k == BDB_PHRASE_LISTING;
	}
	if (!words)
		return FALSE;
	if (view->bounce_subject || view->null_sender)
		return TRUE;
	const char *from = g->report->v[BDB_FIELD_REPORT_FROM];
	if (!from) {
		const char *raw = bdb_view_header (view, "From");
		return raw && strstr (raw, "<>");
	}
	for (gsize i = 0; i < G_N_ELEMENTS (automated_locals); i++) {
		gsize n = strlen (automated_locals[i]);
		if (g_ascii_strncasecmp (from, automated_locals[i], n) == 0 && from[n] == '@')
			return TRUE;
	}
	return FALSE;
}

static gint
by_position (gconstpointer a, gconstpointer b)
{
	const BdbTie *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos ? 1 : 0;
}

/* One record per address, from its strongest tie, in the order of the
 * text. */
static guint
add_records (BdbGeneral *g)
{
	g_array_sort (g->ties, by_position);
	g_autoptr (GHashTable) best = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	for (guint i = 0; i < g->ties->len; i++) {
		BdbTie *t = &g_array_index (g->ties, BdbTie, i);
		g_autofree char *norm = bdb_address_normalize (t->addr, BDB_ADDRESS_UNICODE_DOMAIN, NULL);
		if (!norm || !strchr (norm, '@') || is_ours (g, norm))
			continue;
		gpointer prev;
		if (g_hash_table_lookup_extended (best, norm, NULL, &prev)) {
			BdbTie *p = &g_array_index (g->ties, BdbTie, GPOINTER_TO_UINT (prev));
			if (t->kind > p->kind)
				g_hash_table_insert (best, g_strdup (norm), GUINT_TO_POINTER (i));
		} else {
			g_hash_table_insert (best, g_steal_pointer (&norm), GUINT_TO_POINTER (i));
		}
	}
	g_auto (BdbNotice) n;
	bdb_notice_init (&n, g->view, g->report);
	n.end = g->region.end;
	n.action = bdb_notice_is_success (g->region.text, g->region.end) ? "delivered"
	         : bdb_notice_is_warning (g->view, g->report, g->region.text, g->region.end) ? "delayed"
	         : "failed";
	guint count = 0;
	for (guint i = 0; i < g->ties->len; i++) {
		BdbTie *t = &g_array_index (g->ties, BdbTie, i);
		g_autofree char *norm = bdb_address_normalize (t->addr, BDB_ADDRESS_UNICODE_DOMAIN, NULL);
		gpointer chosen;
		if (!norm || !g_hash_table_lookup_extended (best, norm, NULL, &chosen) ||
		    GPOINTER_TO_UINT (chosen) != i)
			continue;
		BdbRecord *rec = bdb_notice_add (&n, norm, strlen (norm), t->diag->len ? t->diag->str : NULL,
		                                 (gssize) t->diag->len, "text");
		if (!rec)
			continue;
		count++;
		rec->tied_by = bdb_report_intern (g->report, t->evidence, -1);
		if (t->command && !rec->v[BDB_FIELD_SMTP_COMMAND])
			bdb_record_set (rec, BDB_FIELD_SMTP_COMMAND, t->command, -1);
	}
	return count;
}

gboolean
bdb_read_general (const BdbMessageView *view, BdbReport *report)
{
	if (!view->text || view->text->len == 0)
		return FALSE;
	BdbGeneral g = { 0 };
	g.view = view;
	g.report = report;
	bdb_region_init (&g.region, view->text->str, view->text->str + view->text->len);
	gboolean found = FALSE;
	if (g.region.lines->len && looks_like_notice (&g)) {
		collect_ours (&g);
		g.ties = g_array_new (FALSE, FALSE, sizeof (BdbTie));
		g_array_set_clear_func (g.ties, bdb_tie_clear);
		bdb_general_tie_transcript (&g);
		bdb_general_tie_x400 (&g);
		tie_occurrences (&g);
		/* The header only when the text ties nobody: Exim writes it with
		 * the list, and the list says more (its own addresses, their
		 * errors). */
		if (g.ties->len == 0)
			tie_failed_recipients_header (&g);
		found = add_records (&g) > 0;
		if (found)
			bdb_report_set (report, BDB_FIELD_EXTRACTOR, "general", -1);
		else
			g_ptr_array_set_size (report->records, 0);
		g_array_unref (g.ties);
		g_ptr_array_unref (g.ours);
		g_free (g.site);
	}
	bdb_region_clear (&g.region);
	return found;
}
