/* What an address's own line and its neighbours say about it, and the
 * helpers the general reader's parts share; see general-parts.h.
 *
 * An address is tied to a failure by an error phrase, an enhanced status
 * code or a 4xx/5xx reply on its line (within a window of it), on the
 * lines under it, in the labelled fields around it, or, for an address
 * alone on its line, in the paragraph just above or below; or by
 * "originally addressed to" just before it.  A line telling whom to
 * contact ties nothing.
 */
#include <string.h>
#include "general-parts.h"
#include "../diag.h"

void
bdb_tie_clear (gpointer data)
{
	BdbTie *t = data;
	g_free (t->addr);
	g_free (t->evidence);
	if (t->diag)
		g_string_free (t->diag, TRUE);
}

void
bdb_general_append (GString *s, const char *p, gsize len)
{
	bdb_text_append_line (s, p, len, BDB_GENERAL_DIAG_LIMIT);
}

/* Is the byte before offset @at of the folded text the end of a word? */
static gboolean
word_before (const BdbGeneral *g, gsize at)
{
	if (at == 0)
		return FALSE;
	guchar c = (guchar) g->region.low[at - 1];
	return g_ascii_isalnum (c) || c >= 0x80;
}

/* Only separators between @a and @b: "from: <", "rfc822; ", "=". */
gboolean
bdb_general_only_separators (const char *a, const char *b, gsize max)
{
	if (a > b || (gsize) (b - a) > max)
		return FALSE;
	for (const char *p = a; p < b; p++)
		if (!strchr (" \t:;<\"'(=[", *p))
			return FALSE;
	return TRUE;
}

/* Is there a phrase of @kind that ends just before @a0 on line @i (only
 * separators between, and a word boundary before it)? */
const BdbMatch *
bdb_general_phrase_before (const BdbGeneral *g, guint i, const char *a0, BdbPhraseKind kind, gsize gap)
{
	const BdbRegionLine *l = bdb_region_line (&g->region, i);
	gsize start = bdb_general_off (g, l->p), at = bdb_general_off (g, a0);
	gsize from = at > start + 64 ? at - 64 : start;
	for (guint m = bdb_region_first_match (&g->region, i, from); m < l->m1; m++) {
		const BdbMatch *match = bdb_region_match (&g->region, m);
		if (match->start >= at)
			break;
		if (bdb_phrase (match->phrase)->kind != kind)
			continue;
		const char *e = g->region.text + match->end;
		/* "Final-Recipient: rfc822; a@b": the address type may stand
		 * between a field name and its address. */
		const char *type = bdb_text_find_nocase_n (e, a0, "rfc822;");
		if (type && bdb_general_only_separators (e, type, gap))
			e = type + 7;
		gboolean cjk = (guchar) g->region.low[match->start] >= 0xe0;
		if ((cjk || !word_before (g, match->start)) && bdb_general_only_separators (e, a0, gap))
			return match;
	}
	return NULL;
}

/* Is the address at [@a0, @a1) part of a URL ("https://x/?u=a@b",
 * "http://user@host/")? */
static gboolean
in_url (const char *line, const char *a0, const char *a1, const char *end)
{
	const char *p = a0;
	while (p > line && !g_ascii_isspace (p[-1]) && p[-1] != '<' && p[-1] != '"' && a0 - p < 512)
		p--;
	for (const char *q = p; q + 3 <= a0; q++)
		if (q[0] == ':' && q[1] == '/' && q[2] == '/')
			return TRUE;
	if (a0 - p >= 4 && g_ascii_strncasecmp (p, "www.", 4) == 0)
		return TRUE;
	return a1 < end && (*a1 == '/' || *a1 == '?' || *a1 == '&');
}

/* Does the word "sender" (in any language of phrases.c) follow the
 * address ending at @a1 ("<a@b>... Sender address rejected", "<a@b>:
 * sender denied")?  Then the address is the message's sender. */
static gboolean
sender_after (const BdbGeneral *g, guint i, const char *a1)
{
	static const char *const nouns[] = {
		"sender", "absender", "expéditeur", "remitente", "mittente", "remetente", "afzender",
		"nadawca", "отправитель", "originator", "差出人", "发件人",
	};
	const BdbRegionLine *l = bdb_region_line (&g->region, i);
	gsize at = bdb_general_off (g, a1), stop = MIN (at + 12, bdb_general_off (g, bdb_rline_end (l)));
	for (guint m = bdb_region_first_match (&g->region, i, at); m < l->m1; m++) {
		const BdbMatch *match = bdb_region_match (&g->region, m);
		if (match->start >= stop)
			break;
		const BdbPhrase *p = bdb_phrase (match->phrase);
		if (p->kind != BDB_PHRASE_SENDER)
			continue;
		for (gsize k = 0; k < G_N_ELEMENTS (nouns); k++) {
			if (strcmp (p->text, nouns[k]) != 0)
				continue;
			const char *q = a1;
			while (q < g->region.text + match->start && strchr (" \t.:>\"')", *q))
				q++;
			if (q == g->region.text + match->start)
				return TRUE;
		}
	}
	return FALSE;
}

/* Can the occurrence [@a0, @a1) on line @i be a failed recipient at all? */
gboolean
bdb_general_candidate (const BdbGeneral *g, guint i, const char *a0, const char *a1)
{
	const BdbRegionLine *l = bdb_region_line (&g->region, i);
	if (l->header == BDB_HEADER_ADDRESS || l->header == BDB_HEADER_TEXT ||
	    l->header == BDB_HEADER_TRANSPORT)
		return FALSE;
	if (in_url (l->p, a0, a1, bdb_rline_end (l)))
		return FALSE;
	if (bdb_general_phrase_before (g, i, a0, BDB_PHRASE_SENDER, 4) ||
	    bdb_general_phrase_before (g, i, a0, BDB_PHRASE_ID, 4) || sender_after (g, i, a1))
		return FALSE;
	/* "... from sender" at the end of the line before, the address first
	 * on this one: a sentence wrapped between the two. */
	const char *q = l->p;
	while (q < a0 && (*q == ' ' || *q == '\t' || *q == '<'))
		q++;
	if (q != a0 || i == 0 || bdb_region_line (&g->region, i - 1)->blank)
		return TRUE;
	const BdbRegionLine *prev = bdb_region_line (&g->region, i - 1);
	gsize ps = bdb_general_off (g, prev->p), pe = ps + prev->len;
	for (guint m = bdb_region_first_match (&g->region, i - 1, pe > ps + 64 ? pe - 64 : ps); m < prev->m1; m++) {
		const BdbMatch *match = bdb_region_match (&g->region, m);
		BdbPhraseKind kind = bdb_phrase (match->phrase)->kind;
		if ((kind == BDB_PHRASE_SENDER || kind == BDB_PHRASE_ID) && !word_before (g, match->start) &&
		    bdb_general_only_separators (g->region.text + match->end, bdb_rline_end (prev), 8))
			return FALSE;
	}
	return TRUE;
}

BdbTie *
bdb_general_add_tie (BdbGeneral *g, gsize pos, const char *a0, gsize len, BdbTieKind kind)
{
	BdbTie t = { pos, g_strndup (a0, len), kind, NULL, g_string_new (NULL), NULL };
	g_array_append_val (g->ties, t);
	return &g_array_index (g->ties, BdbTie, g->ties->len - 1);
}

void
bdb_general_set_evidence (BdbTie *t, const char *what, const char *p, gsize len)
{
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	len = MIN (len, (gsize) 200);
	t->evidence = g_strdup_printf ("%s: %.*s", what, (int) len, p);
}

/* Does [@p, @end) hold a failure code: an enhanced status code of class 4
 * or 5, or a 4xx/5xx reply code where replies are quoted? */
gboolean
bdb_general_has_failure_code (const char *p, const char *end)
{
	g_autofree char *s = g_strndup (p, (gsize) (end - p));
	char code[16], reply[4];
	if (bdb_find_enhanced_code (s, code) && code[0] != '2')
		return TRUE;
	return bdb_find_reply_code (s, reply) && reply[0] != '2';
}

/* Does line @i, within [@from, @to) of the text, say a delivery failed or
 * was delayed?  Returns the match of the phrase, or NULL (a code alone
 * sets *@code). */
const BdbMatch *
bdb_general_failure_words (const BdbGeneral *g, guint i, gsize from, gsize to, gboolean *code)
{
	const BdbMatch *m = bdb_region_find (&g->region, i, BDB_PHRASE_FAILURE, from, to);
	if (!m)
		m = bdb_region_find (&g->region, i, BDB_PHRASE_DELAY, from, to);
	if (!m && code)
		*code = bdb_general_has_failure_code (g->region.text + from, g->region.text + to);
	return m;
}

/* The lines under line @i that belong to it: up to a blank line, a line
 * that starts with another address, or a header line; at most
 * BDB_GENERAL_BLOCK_LINES.  Returns the line after the block. */
guint
bdb_general_block_end (const BdbGeneral *g, guint i)
{
	guint j = i + 1;
	for (; j < g->region.lines->len && j <= i + BDB_GENERAL_BLOCK_LINES; j++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, j);
		const char *s, *e, *after;
		if (l->blank || l->header != BDB_HEADER_NONE ||
		    bdb_text_leading_address (l->p, bdb_rline_end (l), &s, &e, &after))
			break;
	}
	return j;
}

/* The diagnostic of a tie on line @i: the line and the lines under it. */
void
bdb_general_line_diag (const BdbGeneral *g, guint i, GString *diag)
{
	guint stop = bdb_general_block_end (g, i);
	for (guint j = i; j < stop; j++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, j);
		bdb_general_append (diag, l->p, l->len);
	}
	bdb_general_reason_after (g, stop, diag);
}

void
bdb_general_window_diag (const BdbGeneral *g, guint i, const char *a0, const char *a1, GString *diag)
{
	const BdbRegionLine *l = bdb_region_line (&g->region, i);
	const char *s = a0 - l->p > BDB_GENERAL_WINDOW ? a0 - BDB_GENERAL_WINDOW : l->p;
	const char *e = bdb_rline_end (l) - a1 > BDB_GENERAL_WINDOW ? a1 + BDB_GENERAL_WINDOW : bdb_rline_end (l);
	/* A window's ends are no character boundaries: the report makes the
	 * text valid UTF-8 when it keeps it. */
	bdb_general_append (diag, s, (gsize) (e - s));
	guint stop = bdb_general_block_end (g, i);
	for (guint j = i + 1; j < stop; j++) {
		const BdbRegionLine *n = bdb_region_line (&g->region, j);
		bdb_general_append (diag, n->p, n->len);
	}
	bdb_general_reason_after (g, stop, diag);
}

void
bdb_general_reason_after (const BdbGeneral *g, guint from, GString *diag)
{
	if (bdb_general_has_failure_code (diag->str, diag->str + diag->len))
		return;
	guint j = from;
	if (j < g->region.lines->len && bdb_region_line (&g->region, j)->blank)
		j++;
	guint end = j;
	gboolean says = FALSE;
	for (; end < g->region.lines->len && end < j + 2 * BDB_GENERAL_BLOCK_LINES; end++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, end);
		const char *s, *e, *after;
		if (l->blank || l->header != BDB_HEADER_NONE ||
		    bdb_text_leading_address (l->p, bdb_rline_end (l), &s, &e, &after))
			break;
		gsize at = bdb_general_off (g, l->p);
		gboolean here = FALSE;
		says |= bdb_general_failure_words (g, end, at, at + MIN (l->len, (gsize) 2 * BDB_GENERAL_WINDOW),
		                                   &here) != NULL || here;
	}
	for (guint k = j; says && k < end; k++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, k);
		bdb_general_append (diag, l->p, l->len);
	}
}

/* The paragraph holding line @i; returns the line after it. */
guint
bdb_general_paragraph_diag (const BdbGeneral *g, guint i, GString *diag)
{
	guint a = i, b = i;
	while (a > 0 && !bdb_region_line (&g->region, a - 1)->blank && i - a < 8)
		a--;
	while (b + 1 < g->region.lines->len && !bdb_region_line (&g->region, b + 1)->blank && b - i < 8)
		b++;
	for (guint j = a; j <= b; j++)
		bdb_general_append (diag, bdb_region_line (&g->region, j)->p, bdb_region_line (&g->region, j)->len);
	return b + 1;
}

/* The first line of the region that says why delivery failed, with the
 * lines under it: the diagnostic of a recipient the notice names without
 * saying why next to it. */
void
bdb_general_notice_diag (const BdbGeneral *g, GString *diag)
{
	for (guint i = 0; i < g->region.lines->len; i++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, i);
		if (l->blank || l->header != BDB_HEADER_NONE)
			continue;
		gboolean code = FALSE;
		gsize a = bdb_general_off (g, l->p);
		if (bdb_general_failure_words (g, i, a, a + l->len, &code) || code) {
			bdb_general_line_diag (g, i, diag);
			return;
		}
	}
}

/* The nearest line above and below line @i, across at most one blank
 * line: when one says why delivery failed, tie the bare address on line
 * @i to it.  TRUE when tied. */
static gboolean
bare_neighbour (BdbGeneral *g, guint i, gsize at, const char *a0, const char *a1)
{
	/* Below first: "<a@b>:" heads the lines under it. */
	for (int dir = 1; dir >= -1; dir -= 2) {
		guint blanks = 0;
		for (gint64 j = (gint64) i + dir; j >= 0 && j < (gint64) g->region.lines->len; j += dir) {
			const BdbRegionLine *n = bdb_region_line (&g->region, (guint) j);
			if (n->blank) {
				if (++blanks > 1)
					break;
				continue;
			}
			if (n->header != BDB_HEADER_NONE)
				break;
			gsize s = bdb_general_off (g, n->p), e = s + MIN (n->len, (gsize) 2 * BDB_GENERAL_WINDOW);
			if (bdb_region_find (&g->region, (guint) j, BDB_PHRASE_CONTACT, s, e))
				break;
			gboolean code = FALSE;
			const BdbMatch *m = bdb_general_failure_words (g, (guint) j, s, e, &code);
			if (m || code) {
				BdbTie *t = bdb_general_add_tie (g, at, a0, (gsize) (a1 - a0), BDB_TIE_PHRASE);
				bdb_general_set_evidence (t, m ? bdb_phrase (m->phrase)->family : "status code",
				              n->p, n->len);
				if (dir > 0)
					bdb_general_line_diag (g, (guint) j, t->diag);
				else
					bdb_general_append (t->diag, n->p, n->len);
				return TRUE;
			}
			break;
		}
	}
	return FALSE;
}

/* Is the address at @a0 the value of a labelled field: "Label: a@b",
 * a label of a few words? */
static gboolean
labelled (const BdbRegionLine *l, const char *a0)
{
	const char *q = a0;
	while (q > l->p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '<' || q[-1] == '"'))
		q--;
	if (q == l->p || q[-1] != ':' || q - l->p > 40)
		return FALSE;
	for (const char *c = l->p; c < q - 1; c++)
		if (!g_ascii_isalpha (*c) && !strchr (" \t-_", *c) && (guchar) *c < 0x80)
			return FALSE;
	return TRUE;
}

/* The labelled fields around line @i (its paragraph, at most BDB_GENERAL_BLOCK_LINES
 * each way): when one says why delivery failed, tie the address of line
 * @i to it.  TRUE when tied. */
static gboolean
field_block (BdbGeneral *g, guint i, gsize at, const char *a0, const char *a1)
{
	guint first = i, last = i;
	while (first > 0 && i - first < BDB_GENERAL_BLOCK_LINES && !bdb_region_line (&g->region, first - 1)->blank)
		first--;
	while (last + 1 < g->region.lines->len && last - i < BDB_GENERAL_BLOCK_LINES &&
	       !bdb_region_line (&g->region, last + 1)->blank)
		last++;
	for (guint j = first; j <= last; j++) {
		const BdbRegionLine *n = bdb_region_line (&g->region, j);
		const char *colon = memchr (n->p, ':', MIN (n->len, (gsize) 40));
		if (j == i || !colon || n->header != BDB_HEADER_NONE)
			continue;
		gsize s = bdb_general_off (g, colon + 1);
		gsize e = MIN (bdb_general_off (g, bdb_rline_end (n)), s + 2 * BDB_GENERAL_WINDOW);
		gboolean code = FALSE;
		const BdbMatch *m = bdb_general_failure_words (g, j, s, e, &code);
		if (m || code) {
			BdbTie *t = bdb_general_add_tie (g, at, a0, (gsize) (a1 - a0), BDB_TIE_PHRASE);
			bdb_general_set_evidence (t, m ? bdb_phrase (m->phrase)->family : "status code", n->p, n->len);
			bdb_general_append (t->diag, n->p, n->len);
			return TRUE;
		}
	}
	return FALSE;
}

/* Does a listing phrase after text offset @from on line @i ("delivered
 * to", "could not be delivered to") name another address right after it?
 * Then the failure words before it are that address's. */
static gboolean
about_another (const BdbGeneral *g, guint i, gsize from, gsize to)
{
	const BdbMatch *lm = bdb_region_find (&g->region, i, BDB_PHRASE_LISTING, from, to);
	if (!lm)
		return FALSE;
	const char *p = g->region.text + lm->end, *end = g->region.text + to, *s, *e;
	return bdb_text_find_address (p, end, &s, &e) && bdb_general_only_separators (p, s, 4);
}

/* Phrase and original ties of the occurrence [@a0, @a1) on line @i. */
void
bdb_general_tie_occurrence (BdbGeneral *g, guint i, const char *a0, const char *a1)
{
	const BdbRegionLine *l = bdb_region_line (&g->region, i);
	gsize start = bdb_general_off (g, l->p), stop = start + l->len;
	gsize at = bdb_general_off (g, a0), after = bdb_general_off (g, a1);
	gsize from = at > start + BDB_GENERAL_WINDOW ? at - BDB_GENERAL_WINDOW : start;
	gsize to = MIN (stop, after + BDB_GENERAL_WINDOW);

	const BdbMatch *orig = bdb_general_phrase_before (g, i, a0, BDB_PHRASE_ORIGINAL, 4);
	if (orig) {
		BdbTie *t = bdb_general_add_tie (g, at, a0, (gsize) (a1 - a0), BDB_TIE_ORIGINAL);
		bdb_general_set_evidence (t, "originally addressed to", l->p, l->len);
		bdb_general_reason_after (g, bdb_general_paragraph_diag (g, i, t->diag), t->diag);
		return;
	}

	/* A line telling whom to write to is no evidence of a failure. */
	if (bdb_region_find (&g->region, i, BDB_PHRASE_CONTACT, from, at))
		return;
	gboolean code = FALSE;
	const BdbMatch *m = bdb_general_failure_words (g, i, from, at, &code);
	if (!m && !code) {
		m = bdb_general_failure_words (g, i, after, to, &code);
		/* "<a> could not be delivered to <b>": the failure is <b>'s. */
		if (m && about_another (g, i, m->start, to))
			m = NULL;
	}
	if (m || code) {
		BdbTie *t = bdb_general_add_tie (g, at, a0, (gsize) (a1 - a0), BDB_TIE_PHRASE);
		if (m)
			bdb_general_set_evidence (t, bdb_phrase (m->phrase)->family, l->p, l->len);
		else
			bdb_general_set_evidence (t, "status code on its line", l->p, l->len);
		bdb_general_window_diag (g, i, a0, a1, t->diag);
		return;
	}
	/* A field among fields ("target address: a@b" beside "reject reason:
	 * Mailbox full"): the failure may be said in any of them. */
	if (labelled (l, a0) && field_block (g, i, at, a0, a1))
		return;
	/* An address alone on its line, the failure stated in the paragraph
	 * just above or below it ("The user(s) account is disabled." then,
	 * after a blank line, "<a@b>"). */
	const char *s0, *s1, *rest;
	if (bdb_text_leading_address (l->p, bdb_rline_end (l), &s0, &s1, &rest) && s0 == a0 &&
	    bdb_general_only_separators (rest, bdb_rline_end (l), 8) && bare_neighbour (g, i, at, a0, a1))
		return;
	/* The lines under it ("<a@b>:" then "Sorry, no mailbox here ..."). */
	guint stop_line = bdb_general_block_end (g, i);
	for (guint j = i + 1; j < stop_line; j++) {
		const BdbRegionLine *n = bdb_region_line (&g->region, j);
		gsize s = bdb_general_off (g, n->p), e = s + MIN (n->len, (gsize) 2 * BDB_GENERAL_WINDOW);
		if (bdb_region_find (&g->region, j, BDB_PHRASE_CONTACT, s, e))
			continue;
		code = FALSE;
		m = bdb_general_failure_words (g, j, s, e, &code);
		if (m || code) {
			BdbTie *t = bdb_general_add_tie (g, at, a0, (gsize) (a1 - a0), BDB_TIE_PHRASE);
			bdb_general_set_evidence (t, m ? bdb_phrase (m->phrase)->family : "status code under it",
			                          n->p, n->len);
			bdb_general_window_diag (g, i, a0, a1, t->diag);
			return;
		}
	}
}
