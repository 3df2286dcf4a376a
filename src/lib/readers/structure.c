/* Evidence that spans lines: a list of addresses under a heading, an
 * SMTP transcript, the X.400 forms of a recipient; see general-parts.h.
 */
#include <string.h>
#include "general-parts.h"

/* RFC 2156 writes characters X.400 cannot carry as "(a)" for '@', "(p)"
 * for '%', "(b)" for '!', "(q)" for '"', "(u)" for '_', "(l)" and "(r)"
 * for parentheses.  The address of an "RFC-822=" or "SMTP=" attribute,
 * decoded, up to ';', '/' or a space; NULL when it is none. */
static char *
x400_address (const char *p, const char *end)
{
	static const char escapes[][2] = {
		{ 'a', '@' }, { 'p', '%' }, { 'b', '!' }, { 'q', '"' }, { 'u', '_' }, { 'l', '(' }, { 'r', ')' },
	};
	GString *out = g_string_new (NULL);
	while (p < end && *p != ';' && *p != '/' && !g_ascii_isspace (*p) && *p != '>' && out->len < 256) {
		gboolean done = FALSE;
		if (*p == '(' && end - p >= 3 && p[2] == ')') {
			for (gsize k = 0; k < G_N_ELEMENTS (escapes) && !done; k++) {
				if (g_ascii_tolower (p[1]) == escapes[k][0]) {
					g_string_append_c (out, escapes[k][1]);
					p += 3;
					done = TRUE;
				}
			}
		}
		if (!done)
			g_string_append_c (out, *p++);
	}
	const char *s, *e;
	if (!bdb_text_find_address (out->str, out->str + out->len, &s, &e) || s != out->str ||
	    e != out->str + out->len) {
		g_string_free (out, TRUE);
		return NULL;
	}
	return g_string_free (out, FALSE);
}

void
bdb_general_tie_x400 (BdbGeneral *g)
{
	static const char *const attrs[] = { "rfc-822=", "rfc822=", "smtp=" };
	const char *low = g->region.low;
	gsize len = (gsize) (g->region.end - g->region.text);
	for (gsize k = 0; k < G_N_ELEMENTS (attrs); k++) {
		gsize n = strlen (attrs[k]);
		for (const char *hit = low; (hit = memmem (hit, len - (gsize) (hit - low), attrs[k], n)); hit += n) {
			gsize at = (gsize) (hit - low);
			/* "SMTP=" is an attribute after ':' or ';' ("dda:SMTP="), or
			 * the start of a word; "RFC-822=" after '/' or a word start. */
			if (at > 0 && (g_ascii_isalnum (low[at - 1]) || low[at - 1] == '-'))
				continue;
			const char *p = g->region.text + at + n;
			char *addr = x400_address (p, g->region.end);
			if (!addr)
				continue;
			guint i = bdb_region_line_at (&g->region, at);
			if (bdb_general_phrase_before (g, i, g->region.text + at, BDB_PHRASE_SENDER, 24)) {
				g_free (addr);
				continue;
			}
			BdbTie *t = bdb_general_add_tie (g, at, addr, strlen (addr), BDB_TIE_X400);
			g_free (addr);
			const BdbRegionLine *l = bdb_region_line (&g->region, i);
			bdb_general_set_evidence (t, "X.400 recipient", l->p, l->len);
			bdb_general_paragraph_diag (g, i, t->diag);
		}
	}
}

/* Is line @i a heading over a list of failed addresses: a listing phrase,
 * or an error phrase on a line that ends with ':' or is set bdb_general_off with
 * dashes ("----- The following addresses had permanent fatal errors -----",
 * "Unknown user:")? */
gboolean
bdb_general_is_heading (const BdbGeneral *g, guint i)
{
	const BdbRegionLine *l = bdb_region_line (&g->region, i);
	if (l->blank || l->header != BDB_HEADER_NONE)
		return FALSE;
	gsize s = bdb_general_off (g, l->p), e = s + l->len;
	if (bdb_region_find (&g->region, i, BDB_PHRASE_LISTING, s, e))
		return TRUE;
	const char *end = bdb_rline_end (l);
	while (end > l->p && g_ascii_isspace (end[-1]))
		end--;
	if (end == l->p || (end[-1] != ':' && end[-1] != '-' && end[-1] != '='))
		return FALSE;
	if (bdb_general_failure_words (g, i, s, e, NULL))
		return TRUE;
	/* "An error has occurred while attempting to deliver a message for
	 * the following list of recipients:": the words of a heading may
	 * begin on the lines before its colon. */
	for (guint k = i; k > 0 && i - k < 2; k--) {
		const BdbRegionLine *p = bdb_region_line (&g->region, k - 1);
		if (p->blank || p->header != BDB_HEADER_NONE)
			break;
		gsize ps = bdb_general_off (g, p->p);
		if (bdb_general_failure_words (g, k - 1, ps, ps + p->len, NULL))
			return TRUE;
	}
	return FALSE;
}

/* The address an item line starts with: after a bullet or bracket
 * (bdb_text_leading_address()), or after a short display name
 * ("Bob Baker <bob@example.org>", "Bob Baker (bob@example.org)"). */
static gboolean
item_address (const BdbRegionLine *l, const char **a0, const char **a1, const char **rest)
{
	const char *end = bdb_rline_end (l);
	if (bdb_text_leading_address (l->p, end, a0, a1, rest))
		return TRUE;
	const char *s, *e;
	if (!bdb_text_find_address (l->p, end, &s, &e) || s - l->p > 64 || s == l->p)
		return FALSE;
	const char *q = s;
	while (q > l->p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '<' || q[-1] == '"'))
		q--;
	const char *name = l->p;
	while (name < q && (*name == ' ' || *name == '\t'))
		name++;
	if (q > name && q[-1] == ':') {
		/* A labelled item: "Recipient: <a@b>", "Failed address: a@b";
		 * not a header of the returned message ("To: a@b"). */
		for (const char *c = name; c < q - 1; c++)
			if (!g_ascii_isalpha (*c) && *c != ' ' && *c != '-' && (guchar) *c < 0x80)
				return FALSE;
		if (q - 1 - name > 32 || bdb_region_header_kind (name, q) > BDB_HEADER_OTHER)
			return FALSE;
	} else {
		/* A display name: "Bob Baker <bob@example.org>", "Bob Baker
		 * (bob@example.org)"; a few words, not a sentence. */
		char open = s[-1];
		if (open != '<' && open != '(')
			return FALSE;
		guint spaces = 0;
		for (const char *c = name; c < s - 1; c++) {
			if (strchr (":@<(,;!?", *c))
				return FALSE;
			spaces += *c == ' ' && c[1] != ' ' && c[1] != '<' && c[1] != '(';
		}
		if (spaces > 3)
			return FALSE;
	}
	*a0 = s;
	*a1 = e;
	*rest = e < end && (*e == '>' || *e == ')') ? e + 1 : e;
	return TRUE;
}

/* A line holding nothing but a local part ("\tbob.baker"): under a
 * listing heading, a mail system naming its own users without their
 * domain (AOL's screen names, old campus systems).  The address is the
 * local part at the reporting system's domain; NULL when the line is no
 * such item or that domain is unknown. */
static char *
local_item (const BdbGeneral *g, const BdbRegionLine *l)
{
	const char *from = g->report->v[BDB_FIELD_REPORT_FROM];
	const char *at = from ? strrchr (from, '@') : NULL;
	if (!at || l->indent == 0)
		return NULL;
	const char *p = l->p, *end = bdb_rline_end (l);
	while (p < end && g_ascii_isspace (*p))
		p++;
	while (end > p && g_ascii_isspace (end[-1]))
		end--;
	if (end == p || end - p > 64 || *p == '.' || end[-1] == '.')
		return NULL;
	for (const char *c = p; c < end; c++)
		if (!g_ascii_isalnum (*c) && !strchr ("._-+", *c))
			return NULL;
	return g_strdup_printf ("%.*s%s", (int) (end - p), p, at);
}

/* The list under heading line @h; returns the line where it stopped. */
guint
bdb_general_tie_listing (BdbGeneral *g, guint h)
{
	const BdbRegionLine *head = bdb_region_line (&g->region, h);
	/* "could not be delivered to: a@b" on the heading's own line. */
	const char *p = head->p, *end = bdb_rline_end (head), *a0, *a1;
	gsize lst = bdb_general_off (g, head->p);
	const BdbMatch *lm = bdb_region_find (&g->region, h, BDB_PHRASE_LISTING, lst, lst + head->len);
	gboolean strong = lm != NULL;
	if (!lm)
		lm = bdb_region_find (&g->region, h, BDB_PHRASE_FAILURE, lst, lst + head->len);
	if (lm)
		p = g->region.text + lm->end;
	while (p < end && bdb_text_find_address (p, end, &a0, &a1)) {
		if (bdb_general_candidate (g, h, a0, a1)) {
			BdbTie *t = bdb_general_add_tie (g, bdb_general_off (g, a0), a0, (gsize) (a1 - a0), BDB_TIE_LISTING);
			bdb_general_set_evidence (t, "listing header", head->p, head->len);
			bdb_general_line_diag (g, h, t->diag);
		}
		p = a1;
	}

	guint items = 0, skipped = 0, first_indent = 0;
	gboolean blank = FALSE, local_list = FALSE;
	BdbTie *last = NULL;
	guint j = h + 1;
	g_autoptr (GString) details = g_string_new (NULL);
	guint first_tie = g->ties->len;
	for (; j < g->region.lines->len; j++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, j);
		if (l->blank) {
			blank = TRUE;
			continue;
		}
		/* The next heading ends the list; a line indented under an item
		 * continues it, whatever it says. */
		if ((items == 0 || l->indent <= first_indent) && bdb_general_is_heading (g, j) &&
		    !item_address (l, &a0, &a1, &p))
			break;
		const char *rest;
		if ((items == 0 || !blank || l->indent <= first_indent + 2) && l->header == BDB_HEADER_NONE &&
		    item_address (l, &a0, &a1, &rest)) {
			if (items == 0)
				first_indent = l->indent;
			items++;
			blank = FALSE;
			last = NULL;
			if (!bdb_general_candidate (g, j, a0, a1))
				continue;
			last = bdb_general_add_tie (g, bdb_general_off (g, a0), a0, (gsize) (a1 - a0), BDB_TIE_LISTING);
			bdb_general_set_evidence (last, "listing header", head->p, head->len);
			bdb_general_append (last->diag, rest, (gsize) (bdb_rline_end (l) - rest));
			continue;
		}
		if ((items == 0 ? skipped == 0 : local_list) && strong) {
			g_autofree char *local = local_item (g, l);
			if (local) {
				first_indent = l->indent;
				items++;
				blank = FALSE;
				last = bdb_general_add_tie (g, bdb_general_off (g, l->p), local, strlen (local), BDB_TIE_LISTING);
				bdb_general_set_evidence (last, "listing header (a local part, at the reporting system's domain)",
				              head->p, head->len);
				local_list = TRUE;
				continue;
			}
		}
		if (items == 0) {
			if (++skipped > BDB_GENERAL_LIST_SKIP)
				break;
			continue;
		}
		if (blank && l->indent <= first_indent) {
			/* The text after the list: the reason of items without
			 * words of their own. */
			for (guint k = j; k < g->region.lines->len && k < j + BDB_GENERAL_BLOCK_LINES; k++) {
				const BdbRegionLine *d = bdb_region_line (&g->region, k);
				if (d->blank)
					break;
				bdb_general_append (details, d->p, d->len);
			}
			break;
		}
		if (last)
			bdb_general_append (last->diag, l->p, l->len);
		blank = FALSE;
	}
	for (guint k = first_tie; k < g->ties->len; k++) {
		BdbTie *t = &g_array_index (g->ties, BdbTie, k);
		if (t->diag->len == 0)
			g_string_append (t->diag, details->len ? details->str : "");
		if (t->diag->len == 0)
			bdb_general_append (t->diag, head->p, head->len);
	}
	return j;
}

/* Past the speaker marks a transcript line may start with: ">>> ",
 * "<<< ", "C: ", "S: ", "Sent <<< ", "Received >>> ". */
static const char *
skip_speaker (const char *p, const char *end)
{
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '<' || *p == '>'))
			p++;
		if (end - p >= 2 && strchr ("CSRcsr", *p) && p[1] == ':')
			p += 2;
		else if (end - p >= 5 && g_ascii_strncasecmp (p, "sent ", 5) == 0)
			p += 5;
		else if (end - p >= 9 && g_ascii_strncasecmp (p, "received ", 9) == 0)
			p += 9;
		else
			return p;
	}
}

/* The class digit of the reply a transcript line starts with ("<<< 550
 * ...", "S: 250 OK", "550-5.1.1 ..."), or 0. */
static char
reply_class (const BdbRegionLine *l)
{
	const char *end = bdb_rline_end (l), *p = skip_speaker (l->p, end);
	if (end - p >= 3 && (p[0] == '2' || p[0] == '3' || p[0] == '4' || p[0] == '5') &&
	    g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]) && (end - p == 3 || p[3] == ' ' || p[3] == '-'))
		return p[0];
	return 0;
}

/* The command a transcript line sends ("RCPT", "MAIL", "DATA"), or NULL. */
static const char *
command (const BdbRegionLine *l)
{
	static const char *const commands[] = { "RCPT", "MAIL", "DATA", "RSET", "QUIT", "EHLO", "HELO", "BDAT" };
	const char *end = bdb_rline_end (l), *p = skip_speaker (l->p, end);
	for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
		if (end - p >= 4 && g_ascii_strncasecmp (p, commands[i], 4) == 0 &&
		    (end - p == 4 || !g_ascii_isalpha (p[4])))
			return commands[i];
	return NULL;
}

/* Append line @i and the lines after it up to the next command, blank
 * line or BDB_GENERAL_BLOCK_LINES lines: a command with its reply. */
static void
exchange_diag (const BdbGeneral *g, guint i, GString *diag)
{
	bdb_general_append (diag, bdb_region_line (&g->region, i)->p, bdb_region_line (&g->region, i)->len);
	for (guint k = i + 1; k < g->region.lines->len && k <= i + BDB_GENERAL_BLOCK_LINES; k++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, k);
		if (l->blank || command (l))
			break;
		bdb_general_append (diag, l->p, l->len);
	}
}

/* One RCPT TO of a transcript: its line and its address. */
typedef struct {
	guint line;
	const char *a0, *a1;
} Rcpt;

static void
tie_rcpt (BdbGeneral *g, const Rcpt *r, const char *what, guint reply_line, const char *cmd)
{
	BdbTie *t = bdb_general_add_tie (g, bdb_general_off (g, r->a0), r->a0, (gsize) (r->a1 - r->a0),
	                                 BDB_TIE_TRANSCRIPT);
	const BdbRegionLine *l = bdb_region_line (&g->region, reply_line);
	bdb_general_set_evidence (t, what, l->p, l->len);
	if (reply_line == r->line) {
		exchange_diag (g, r->line, t->diag);
	} else {
		if (strcmp (cmd, "RCPT") == 0)
			bdb_general_append (t->diag, bdb_region_line (&g->region, r->line)->p,
			                    bdb_region_line (&g->region, r->line)->len);
		exchange_diag (g, reply_line, t->diag);
	}
	t->command = cmd;
}

void
bdb_general_tie_transcript (BdbGeneral *g)
{
	g_autoptr (GArray) accepted = g_array_new (FALSE, FALSE, sizeof (Rcpt));  /* answered 2xx */
	Rcpt waiting = { G_MAXUINT, NULL, NULL };  /* the RCPT waiting for its reply */
	gboolean data = FALSE;
	for (guint i = 0; i < g->region.lines->len; i++) {
		const BdbRegionLine *l = bdb_region_line (&g->region, i);
		if (l->blank)
			continue;
		gsize s = bdb_general_off (g, l->p);
		const char *end = bdb_rline_end (l), *a0, *a1;
		const BdbMatch *m = bdb_region_find (&g->region, i, BDB_PHRASE_RCPT, s, s + l->len);
		if (m && bdb_text_find_address (g->region.text + m->end, end, &a0, &a1) &&
		    bdb_general_only_separators (g->region.text + m->end, a0, 6) &&
		    bdb_general_candidate (g, i, a0, a1)) {
			waiting = (Rcpt) { i, a0, a1 };
			/* The reply on the same line: "after RCPT TO:<a@b>: 550 ...". */
			if (bdb_general_has_failure_code (a1, end)) {
				tie_rcpt (g, &waiting, "transcript", i, "RCPT");
				waiting.line = G_MAXUINT;
			}
			continue;
		}
		const char *cmd = command (l);
		if (cmd) {
			if (strcmp (cmd, "MAIL") == 0 || strcmp (cmd, "RSET") == 0)
				g_array_set_size (accepted, 0);
			data = strcmp (cmd, "DATA") == 0 || strcmp (cmd, "BDAT") == 0;
			waiting.line = G_MAXUINT;
			continue;
		}
		char klass = reply_class (l);
		if (!klass)
			continue;
		if (waiting.line != G_MAXUINT) {
			if (klass == '2')
				g_array_append_val (accepted, waiting);
			else if (klass != '3')
				tie_rcpt (g, &waiting, "transcript", i, "RCPT");
			waiting.line = G_MAXUINT;
		} else if (data && (klass == '4' || klass == '5')) {
			/* Refused at DATA: every recipient accepted before it. */
			for (guint k = 0; k < accepted->len; k++)
				tie_rcpt (g, &g_array_index (accepted, Rcpt, k), "transcript, refused at DATA", i, "DATA");
			g_array_set_size (accepted, 0);
			data = FALSE;
		}
	}
}
