/* Layouts shared by text bounces; see layout.h.
 *
 * MTAs differ in wording far more than in layout.  Almost every notice
 * ties a failed address to its error in one of four ways: a paragraph
 * headed by the address ("<a@b>:"), a list of addresses under a heading
 * with the error under each, a labelled field ("Recipient: a@b" with
 * "Reason: ..."), or an SMTP transcript.  Only addresses in those
 * positions become records: an address elsewhere in the notice (a help
 * desk, the sender, a quoted line) never does.
 */
#include <string.h>
#include "layout.h"
#include "../diag.h"

#define DIAG_LIMIT 2048

const char *
bdb_notice_after (const BdbNotice *n, const char *from, const char *const *phrases, gsize n_phrases)
{
	const char *best = NULL;
	if (!from || from >= n->end)
		return NULL;
	for (gsize i = 0; i < n_phrases; i++) {
		const char *hit = bdb_text_find_nocase_n (from, best ? best : n->end, phrases[i]);
		if (hit && (!best || hit < best))
			best = hit;
	}
	if (!best)
		return NULL;
	const char *cursor = best;
	BdbLine line;
	bdb_text_next_line (&cursor, n->end, &line);
	return cursor;
}

static void
append_line (GString *s, const char *p, gsize len)
{
	bdb_text_append_line (s, p, len, DIAG_LIMIT);
}

static void
add (BdbNotice *n, const char *a0, const char *a1, const GString *diag, const char *source, guint *count)
{
	if (bdb_notice_add (n, a0, (gsize) (a1 - a0), diag && diag->len ? diag->str : NULL,
	                    diag ? (gssize) diag->len : 0, source))
		(*count)++;
}

/* ---- paragraphs --------------------------------------------------------- */

/* "<a@b>:", "a@b: text", "\"a@b\":", "<a@b> (expanded from <c@d>): text". */
static gboolean
paragraph_head (const BdbLine *line, const char **a0, const char **a1, const char **rest)
{
	const char *end = line->p + line->len;
	const char *p = line->p + bdb_line_skip (line);
	const char *after;
	if (p < end && *p != '<' && *p != '"' && !g_ascii_isalnum (*p))
		return FALSE;
	if (!bdb_text_leading_address (p, end, a0, a1, &after))
		return FALSE;
	while (after < end && *after == ' ')
		after++;
	if (after < end && *after == '(') {
		const char *close = memchr (after, ')', (gsize) (end - after));
		if (!close)
			return FALSE;
		after = close + 1;
		while (after < end && *after == ' ')
			after++;
	}
	if (after >= end || *after != ':')
		return FALSE;
	*rest = after + 1;
	return TRUE;
}

guint
bdb_layout_paragraphs (BdbNotice *n, const char *from)
{
	guint count = 0;
	const char *cursor = from, *a0 = NULL, *a1 = NULL;
	guint head_indent = 0;
	g_autoptr (GString) diag = g_string_new (NULL);
	BdbLine line;

	while (cursor && bdb_text_next_line (&cursor, n->end, &line)) {
		const char *h0, *h1, *rest;
		/* Lines indented under a head continue it, whatever they say
		 * ("    <a@b>: User unknown" in a wrapped Postfix reply). */
		gboolean continued = a0 && !bdb_line_is_blank (&line) && bdb_line_indent (&line) > head_indent;
		if (!continued && paragraph_head (&line, &h0, &h1, &rest)) {
			if (a0)
				add (n, a0, a1, diag, "text", &count);
			a0 = h0;
			a1 = h1;
			head_indent = bdb_line_indent (&line);
			g_string_truncate (diag, 0);
			append_line (diag, rest, (gsize) (line.p + line.len - rest));
		} else if (a0) {
			if (bdb_line_is_blank (&line)) {
				add (n, a0, a1, diag, "text", &count);
				a0 = NULL;
			} else {
				append_line (diag, line.p, line.len);
			}
		}
	}
	if (a0)
		add (n, a0, a1, diag, "text", &count);
	return count;
}

/* ---- lists -------------------------------------------------------------- */

typedef struct {
	const char *a0, *a1;
	GString *diag;
} Item;

static void
item_clear (gpointer data)
{
	Item *it = data;
	g_string_free (it->diag, TRUE);
}

/* What follows the address on an item line, minus what only repeats or
 * dates it: "<mailto:a@b>", "<a@b>", " on 6/10/2024 11:00 AM". */
static const char *
item_rest (const char *after, const char *end)
{
	for (;;) {
		while (after < end && (*after == ' ' || *after == '\t' || *after == ':'))
			after++;
		if (after < end && *after == '<') {
			const char *close = memchr (after, '>', (gsize) (end - after));
			const char *s, *e;
			if (close && bdb_text_find_address (after, close, &s, &e)) {
				after = close + 1;
				continue;
			}
		}
		break;
	}
	if (end - after >= 3 && g_ascii_strncasecmp (after, "on ", 3) == 0)
		return end;
	return after;
}

static gboolean
list_item (const BdbLine *line, BdbListFlags flags, const char **a0, const char **a1, const char **rest)
{
	const char *end = line->p + line->len;
	const char *after;
	if (!bdb_text_leading_address (line->p, end, a0, a1, &after))
		return FALSE;
	*rest = item_rest (after, end);
	if ((flags & BDB_LIST_BARE) && *rest < end)
		return FALSE;
	return TRUE;
}

guint
bdb_layout_list (BdbNotice *n, const char *from, BdbListFlags flags)
{
	if (!from)
		return 0;
	g_autoptr (GArray) items = g_array_new (FALSE, TRUE, sizeof (Item));
	g_array_set_clear_func (items, item_clear);
	const char *cursor = from, *details = NULL;
	guint skipped = 0, first_indent = 0;
	gboolean blank = FALSE;
	BdbLine line;

	while (bdb_text_next_line (&cursor, n->end, &line)) {
		const char *a0, *a1, *rest;
		if (bdb_line_is_blank (&line)) {
			blank = TRUE;
			continue;
		}
		guint indent = bdb_line_indent (&line);
		if ((items->len == 0 || !blank || indent <= first_indent + 2) &&
		    list_item (&line, flags, &a0, &a1, &rest)) {
			if (items->len == 0)
				first_indent = indent;
			Item it = { a0, a1, g_string_new (NULL) };
			append_line (it.diag, rest, (gsize) (line.p + line.len - rest));
			g_array_append_val (items, it);
			blank = FALSE;
			continue;
		}
		if (items->len == 0) {
			/* "Generating server: ..." between the heading and the list. */
			if (++skipped > 6)
				return 0;
			continue;
		}
		if (blank && indent <= first_indent) {
			details = line.p;
			break;
		}
		append_line (g_array_index (items, Item, items->len - 1).diag, line.p, line.len);
		blank = FALSE;
	}

	guint count = 0;
	g_autoptr (GString) shared = g_string_new (NULL);
	if (details && (flags & BDB_LIST_DETAILS)) {
		const char *c = details;
		while (bdb_text_next_line (&c, n->end, &line) && shared->len < DIAG_LIMIT)
			append_line (shared, line.p, line.len);
	}
	for (guint i = 0; i < items->len; i++) {
		Item *it = &g_array_index (items, Item, i);
		add (n, it->a0, it->a1, it->diag->len ? it->diag : shared, "text", &count);
	}
	return count;
}

/* ---- labels ------------------------------------------------------------- */

typedef struct {
	const char *line;      /* start of the line holding the label */
	const char *label;     /* the label in it */
	const char *a0, *a1;   /* the address */
	gboolean says_why;
	gsize label_len;
} Hit;

/* The address after a label: on the same line, or alone on the next
 * non-blank line when the label ends its line ("was not delivered to:"). */
static gboolean
labelled_address (const BdbNotice *n, const char *p, const char *line_end,
                  const char **a0, const char **a1)
{
	const char *after;
	while (p < line_end && (*p == ':' || *p == ' ' || *p == '\t'))
		p++;
	if (bdb_text_leading_address (p, line_end, a0, a1, &after))
		return TRUE;
	for (const char *q = p; q < line_end; q++)
		if (!g_ascii_isspace (*q))
			return FALSE;
	const char *cursor = line_end;
	BdbLine next;
	while (bdb_text_next_line (&cursor, n->end, &next)) {
		if (bdb_line_is_blank (&next))
			continue;
		const char *end = next.p + next.len;
		return bdb_text_leading_address (next.p, end, a0, a1, &after) && item_rest (after, end) == end;
	}
	return FALSE;
}

/* A reason field ("Reason: ...") within [p, end): its value and the lines
 * indented under it, or the lines below it when it ends its line. */
static gboolean
reason_field (const char *p, const char *end, const char *const *reasons, gsize n_reasons, GString *out)
{
	BdbLine line;
	const char *cursor = p;
	while (bdb_text_next_line (&cursor, end, &line)) {
		const char *line_end = line.p + line.len;
		for (gsize i = 0; i < n_reasons; i++) {
			const char *hit = bdb_text_find_nocase_n (line.p, line_end, reasons[i]);
			if (!hit)
				continue;
			const char *v = hit + strlen (reasons[i]);
			append_line (out, v, (gsize) (line_end - v));
			gboolean inline_value = out->len > 0;
			guint base = bdb_line_indent (&line);
			BdbLine next;
			while (bdb_text_next_line (&cursor, end, &next) && out->len < DIAG_LIMIT) {
				if (bdb_line_is_blank (&next)) {
					if (out->len)
						break;
					continue;
				}
				if (inline_value && bdb_line_indent (&next) <= base)
					break;
				append_line (out, next.p, next.len);
			}
			return out->len > 0;
		}
	}
	return FALSE;
}

guint
bdb_layout_labels (BdbNotice *n, const char *from, const BdbLabel *labels, gsize n_labels,
                   const char *const *reasons, gsize n_reasons)
{
	g_autoptr (GArray) hits = g_array_new (FALSE, TRUE, sizeof (Hit));
	const char *cursor = from;
	BdbLine line;

	while (cursor && bdb_text_next_line (&cursor, n->end, &line)) {
		const char *line_end = line.p + line.len;
		for (gsize i = 0; i < n_labels; i++) {
			const char *hit = bdb_text_find_nocase_n (line.p, line_end, labels[i].label);
			if (!hit)
				continue;
			Hit h = { line.p, hit, NULL, NULL, labels[i].says_why, strlen (labels[i].label) };
			if (labelled_address (n, hit + h.label_len, line_end, &h.a0, &h.a1)) {
				g_array_append_val (hits, h);
				break;
			}
		}
	}

	guint count = 0;
	g_autoptr (GString) diag = g_string_new (NULL);
	for (guint i = 0; i < hits->len; i++) {
		Hit *h = &g_array_index (hits, Hit, i);
		const char *block_end = i + 1 < hits->len ? g_array_index (hits, Hit, i + 1).line : n->end;
		g_string_truncate (diag, 0);
		if (h->says_why) {
			const char *e = h->a1;
			while (e < n->end && *e != '\n' && *e != '\r')
				e++;
			append_line (diag, h->label, (gsize) (e - h->label));
		} else if (!reason_field (h->line, block_end, reasons, n_reasons, diag) &&
		           !(hits->len == 1 && reason_field (from, n->end, reasons, n_reasons, diag))) {
			const char *c = h->label;
			while (bdb_text_next_line (&c, block_end, &line) && diag->len < DIAG_LIMIT)
				append_line (diag, line.p, line.len);
		}
		add (n, h->a0, h->a1, diag, "text", &count);
	}
	return count;
}

/* ---- transcripts -------------------------------------------------------- */

static const char *
skip_token (const char *p, const char *end, gboolean (*ok) (gchar))
{
	const char *q = p;
	while (q < end && ok (*q))
		q++;
	return q;
}

static gboolean
code_char (gchar c)
{
	return g_ascii_isdigit (c) || c == '.';
}

/* Sendmail's per-recipient result: "550 5.1.1 <a@b>... User unknown",
 * "<a@b>... Deferred: Connection timed out". */
static gboolean
final_line (const char *p, const char *end, const char **a0, const char **a1)
{
	const char *q = skip_token (p, end, code_char);
	if (q > p) {
		if (q >= end || *q != ' ')
			return FALSE;
		p = q + 1;
		q = skip_token (p, end, code_char);
		if (q > p && q < end && *q == ' ')
			p = q + 1;
	}
	if (p < end && *p == '<')
		p++;
	if (!bdb_text_address_at (p, end, a1))
		return FALSE;
	*a0 = p;
	q = *a1;
	if (q < end && *q == '>')
		q++;
	return end - q >= 3 && memcmp (q, "...", 3) == 0;
}

/* InterScan's dialogue: "Sent <<< RCPT TO:<a@b>", "Received >>> 550 ...". */
static gboolean
arrowed (const char *s, const char *end, const char *word)
{
	gsize n = strlen (word);
	return (gsize) (end - s) >= n + 3 && g_ascii_strncasecmp (s, word, n) == 0 &&
	       (memcmp (s + n, "<<<", 3) == 0 || memcmp (s + n, ">>>", 3) == 0);
}

/* The command of a ">>> MAIL From:<...>" line, in the kit's words. */
static const char *
command_of (const char *p, const char *end)
{
	static const char *const commands[] = { "RCPT", "MAIL", "DATA", "EHLO", "HELO", "QUIT" };
	while (p < end && (*p == ' ' || *p == '>' || *p == '<'))
		p++;
	for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
		if (end - p >= 4 && g_ascii_strncasecmp (p, commands[i], 4) == 0)
			return commands[i];
	return NULL;
}

/* One recipient's part of the transcript, with the command it answered;
 * the record joins @block, the records of this "while talking to" block. */
static void
add_answer (BdbNotice *n, const char *a0, const char *a1, const GString *pending,
            const char *command, guint *count, GPtrArray *block)
{
	BdbRecord *rec = bdb_notice_add (n, a0, (gsize) (a1 - a0), pending->str, (gssize) pending->len, "text");
	if (!rec)
		return;
	(*count)++;
	if (command && !rec->v[BDB_FIELD_SMTP_COMMAND])
		bdb_record_set (rec, BDB_FIELD_SMTP_COMMAND, command, -1);
	g_ptr_array_add (block, rec);
}

/* A block that pipelined RCPT and DATA: a refusal logged after ">>> DATA"
 * answered a RCPT (issue 16), when DATA's own reply, logged later, says no
 * recipient was taken. */
static void
end_block (const char *start, const char *end, GPtrArray *block)
{
	if (block->len && start && end > start) {
		g_autofree char *text = g_strndup (start, (gsize) (end - start));
		if (bdb_transcript_pipelined (text)) {
			for (guint i = 0; i < block->len; i++) {
				BdbRecord *rec = block->pdata[i];
				if (g_strcmp0 (rec->v[BDB_FIELD_SMTP_COMMAND], "DATA") == 0)
					bdb_record_set (rec, BDB_FIELD_SMTP_COMMAND, "RCPT", -1);
			}
		}
	}
	g_ptr_array_set_size (block, 0);
}

guint
bdb_layout_transcript (BdbNotice *n, const char *from)
{
	guint count = 0;
	g_autoptr (GString) pending = g_string_new (NULL);
	g_autoptr (GPtrArray) block = g_ptr_array_new ();
	const char *cursor = from, *r0 = NULL, *r1 = NULL, *command = NULL, *block_start = from;
	gboolean replied = FALSE;
	BdbLine line;

	while (cursor && bdb_text_next_line (&cursor, n->end, &line)) {
		const char *end = line.p + line.len;
		const char *s = line.p + bdb_line_skip (&line);
		const char *a0, *a1;
		gboolean sent = (end - s >= 3 && memcmp (s, ">>>", 3) == 0) || arrowed (s, end, "Sent ");
		gboolean reply = (end - s >= 3 && memcmp (s, "<<<", 3) == 0) || arrowed (s, end, "Received ");
		if (sent) {
			/* A new command: the previous RCPT's reply is complete. */
			if (r0 && replied)
				add_answer (n, r0, r1, pending, command, &count, block);
			g_string_truncate (pending, 0);
			r0 = NULL;
			replied = FALSE;
			command = command_of (s[0] == '>' ? s + 3 : s + 8, end);
			const char *rcpt = bdb_text_find_nocase_n (s, end, "RCPT TO:");
			if (rcpt && bdb_text_find_address (rcpt, end, &a0, &a1)) {
				r0 = a0;
				r1 = a1;
			}
			append_line (pending, s, (gsize) (end - s));
		} else if (reply) {
			append_line (pending, s, (gsize) (end - s));
			replied = TRUE;
		} else if (final_line (s, end, &a0, &a1)) {
			if (r0 && replied && (a1 - a0 != r1 - r0 || g_ascii_strncasecmp (a0, r0, (gsize) (a1 - a0)) != 0)) {
				/* The reply belonged to the RCPT before: its own record. */
				add_answer (n, r0, r1, pending, command, &count, block);
				g_string_truncate (pending, 0);
			}
			append_line (pending, s, (gsize) (end - s));
			add_answer (n, a0, a1, pending, command, &count, block);
			g_string_truncate (pending, 0);
			r0 = NULL;
			replied = FALSE;
			command = NULL;
		} else if (bdb_text_find_nocase_n (s, end, "while talking to")) {
			end_block (block_start, line.p, block);
			block_start = line.p;
			g_string_truncate (pending, 0);
			r0 = NULL;
			replied = FALSE;
			command = NULL;
		} else if (!bdb_line_is_blank (&line) && pending->len) {
			append_line (pending, s, (gsize) (end - s));
		}
	}
	if (r0 && replied)
		add_answer (n, r0, r1, pending, command, &count, block);
	end_block (block_start, n->end, block);
	return count;
}
