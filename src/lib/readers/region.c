/* The notice region; see region.h.
 *
 * One pass folds the text (bdb_phrases_fold()) and runs the phrase
 * matcher over it; one pass splits it into lines and notes which lines
 * look like header fields; one pass finds where the returned message
 * starts.  The arrays are then cut there, so that nothing the general
 * reader looks at lies in the returned message.
 */
#include <string.h>
#include "region.h"

/* Headers only a message has: three header lines with one of these are
 * the returned message's header, not the notice's summary of it ("To:",
 * "Subject:", "Sent:"). */
static const char *const transport_names[] = {
	"received", "return-path", "message-id", "mime-version", "content-type",
	"content-transfer-encoding", "dkim-signature", "domainkey-signature", "x-mailer",
	"user-agent", "delivered-to", "authentication-results", "arc-seal", "list-unsubscribe",
	"x-originating-ip", "x-ms-exchange-organization-authas", "thread-index", "references",
	"in-reply-to", "x-mimeole", "x-priority", "x-msmail-priority", "precedence",
};

/* Names of address fields, in English and as mail clients and notices
 * translate them in a summary of the message ("Von:", "À :", "Para:",
 * "Aan:", "Od:", "Кому:", "差出人:"): their addresses are the message's
 * sender and recipients, not the failed ones.  Not "宛先" and "收件人"
 * (destination, recipient): Japanese and Chinese notices label the failed
 * address with them. */
static const char *const address_names[] = {
	"from", "to", "cc", "bcc", "sender", "reply-to", "resent-from", "resent-to",
	"x-original-to", "envelope-to", "errors-to", "von", "an", "de", "à", "para", "da", "a",
	"van", "aan", "od", "do", "от", "кому", "差出人", "发件人",
};

static const char *const text_names[] = {
	"subject", "date", "sent", "thema", "betreff", "objet", "asunto", "oggetto", "assunto",
	"onderwerp", "temat", "тема", "datum", "gesendet", "envoyé", "enviado", "fecha", "inviato",
	"data", "verzonden", "wysłano", "дата", "件名", "日付", "主题", "日期",
};

static gboolean
name_in (const char *name, gsize n, const char *const *names, gsize count)
{
	for (gsize i = 0; i < count; i++)
		if (strlen (names[i]) == n && g_ascii_strncasecmp (name, names[i], n) == 0)
			return TRUE;
	return FALSE;
}

/* A name with letters beyond ASCII ("À", "Кому"), compared folded. */
static gboolean
name_in_folded (const char *name, gsize n, const char *const *names, gsize count)
{
	g_autofree char *low = bdb_phrases_fold (name, n);
	return name_in (low, n, names, count);
}

BdbHeaderKind
bdb_region_header_kind (const char *p, const char *end)
{
	if (p < end && *p == '>') {
		while (p < end && (*p == '>' || *p == ' '))
			p++;
	}
	const char *name = p;
	gboolean wide = FALSE;
	while (p < end && (g_ascii_isalnum (*p) || *p == '-' || *p == '_' || (guchar) *p >= 0x80)) {
		if (end - p >= 3 && memcmp (p, "\xef\xbc\x9a", 3) == 0)
			break;  /* the fullwidth colon of CJK text */
		wide |= (guchar) *p >= 0x80;
		p++;
	}
	gsize n = (gsize) (p - name);
	/* French puts a space before the colon ("À : ..."); CJK a wide colon. */
	const char *colon = p;
	if (colon < end && *colon == ' ' && colon + 1 < end && colon[1] == ':')
		colon++;
	if (wide && end - p >= 3 && memcmp (p, "\xef\xbc\x9a", 3) == 0)
		colon = p;
	else if (colon >= end || *colon != ':')
		return BDB_HEADER_NONE;
	/* A field name is a word; beyond ASCII, a short one ("Кому", "宛先"),
	 * not a sentence that ends with a colon. */
	if (n == 0 || n > 64 || (wide && n > 16))
		return BDB_HEADER_NONE;
	if (wide) {
		if (name_in_folded (name, n, address_names, G_N_ELEMENTS (address_names)))
			return BDB_HEADER_ADDRESS;
		if (name_in_folded (name, n, text_names, G_N_ELEMENTS (text_names)))
			return BDB_HEADER_TEXT;
		return BDB_HEADER_OTHER;
	}
	p = colon;
	/* "http://..." at the start of a line is no header. */
	if (p + 1 < end && p[1] == '/')
		return BDB_HEADER_NONE;
	if (name_in (name, n, transport_names, G_N_ELEMENTS (transport_names)))
		return BDB_HEADER_TRANSPORT;
	if (name_in (name, n, address_names, G_N_ELEMENTS (address_names)))
		return BDB_HEADER_ADDRESS;
	if (name_in (name, n, text_names, G_N_ELEMENTS (text_names)))
		return BDB_HEADER_TEXT;
	if (n >= 2 && g_ascii_strncasecmp (name, "x-", 2) == 0)
		return BDB_HEADER_EXTENSION;
	return BDB_HEADER_OTHER;
}

/* Decoration a marker line may start with: "----- Original message -----",
 * "| Original message", "*** ...", "> ". */
static const char *
skip_decoration (const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '-' || *p == '=' || *p == '_' ||
	                   *p == '*' || *p == '|' || *p == '>' || *p == '#' || *p == '['))
		p++;
	return p;
}

static void
split_lines (BdbRegion *r)
{
	const char *cursor = r->text;
	BdbLine line;
	while (bdb_text_next_line (&cursor, r->end, &line)) {
		BdbRegionLine l = { line.p, line.len, bdb_line_indent (&line), bdb_line_is_blank (&line),
		                    BDB_HEADER_NONE, 0, 0 };
		if (!l.blank)
			l.header = bdb_region_header_kind (line.p + bdb_line_skip (&line), line.p + line.len);
		/* Indented, a field of the message ("  To: a@b" in a summary of
		 * it) is still one; any other label is the text of its block. */
		if (l.indent > 0 && (l.header == BDB_HEADER_OTHER || l.header == BDB_HEADER_EXTENSION))
			l.header = BDB_HEADER_NONE;
		g_array_append_val (r->lines, l);
	}
}

static gint
by_start (gconstpointer a, gconstpointer b)
{
	const BdbMatch *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return x->end < y->end ? -1 : x->end > y->end ? 1 : 0;
}

static void
assign_matches (BdbRegion *r)
{
	guint m = 0;
	for (guint i = 0; i < r->lines->len; i++) {
		BdbRegionLine *l = &g_array_index (r->lines, BdbRegionLine, i);
		gsize start = (gsize) (l->p - r->text), stop = start + l->len;
		while (m < r->matches->len && bdb_region_match (r, m)->start < start)
			m++;
		l->m0 = m;
		while (m < r->matches->len && bdb_region_match (r, m)->start < stop)
			m++;
		l->m1 = m;
	}
}

/* The first line where the returned message starts, or lines->len. */
static guint
copy_start (const BdbRegion *r)
{
	guint run = 0, run_start = 0;
	gboolean run_transport = FALSE, seen_text = FALSE;
	for (guint i = 0; i < r->lines->len; i++) {
		const BdbRegionLine *l = bdb_region_line (r, i);
		if (l->blank) {
			run = 0;
			run_transport = FALSE;
			continue;
		}
		/* A marker phrase at the start of the line. */
		const char *s = skip_decoration (l->p, l->p + l->len);
		gsize at = (gsize) (s - r->text);
		for (guint m = l->m0; m < l->m1 && seen_text; m++) {
			const BdbMatch *match = bdb_region_match (r, m);
			if (match->start == at && bdb_phrase (match->phrase)->kind == BDB_PHRASE_COPY)
				return i;
		}
		/* A block of header lines, one of them a message's own. */
		gboolean quoted = l->p[0] == '>';
		BdbHeaderKind h = l->indent == 0 || quoted ? bdb_region_header_kind (l->p, l->p + l->len)
		                                           : BDB_HEADER_NONE;
		if (h != BDB_HEADER_NONE && h != BDB_HEADER_OTHER) {
			if (run == 0)
				run_start = i;
			run++;
			run_transport |= h == BDB_HEADER_TRANSPORT;
			if (run >= 3 && run_transport && seen_text)
				return run_start;
		} else if (run && (h == BDB_HEADER_OTHER || l->indent > 0 || quoted)) {
			/* Inside a block, any field ("Received-SPF:") and a folded
			 * line continue it. */
		} else {
			run = 0;
			run_transport = FALSE;
		}
		/* Text of the notice, a label of its own ("Failed: a@b") included,
		 * stands before the returned message. */
		if (run == 0)
			seen_text = TRUE;
	}
	return r->lines->len;
}

void
bdb_region_init (BdbRegion *r, const char *text, const char *text_end)
{
	memset (r, 0, sizeof *r);
	r->text = text;
	r->end = bdb_text_notice_end (text, text_end);
	gsize len = (gsize) (r->end - r->text);
	r->low = bdb_phrases_fold (text, len);
	r->lines = g_array_new (FALSE, FALSE, sizeof (BdbRegionLine));
	r->matches = g_array_new (FALSE, FALSE, sizeof (BdbMatch));
	bdb_matcher_scan (bdb_phrases_matcher (), r->low, len, r->matches);
	g_array_sort (r->matches, by_start);
	split_lines (r);
	assign_matches (r);

	guint cut = copy_start (r);
	if (cut < r->lines->len) {
		const BdbRegionLine *l = bdb_region_line (r, cut);
		r->end = l->p;
		gsize stop = (gsize) (r->end - r->text);
		guint m = l->m0;
		while (m > 0 && bdb_region_match (r, m - 1)->end > stop)
			m--;
		g_array_set_size (r->matches, m);
		g_array_set_size (r->lines, cut);
		for (guint i = 0; i < r->lines->len; i++) {
			BdbRegionLine *x = &g_array_index (r->lines, BdbRegionLine, i);
			x->m1 = MIN (x->m1, m);
			x->m0 = MIN (x->m0, x->m1);
		}
	}
}

void
bdb_region_clear (BdbRegion *r)
{
	g_free (r->low);
	if (r->lines)
		g_array_unref (r->lines);
	if (r->matches)
		g_array_unref (r->matches);
	memset (r, 0, sizeof *r);
}

guint
bdb_region_line_at (const BdbRegion *r, gsize off)
{
	guint lo = 0, hi = r->lines->len;
	while (hi - lo > 1) {
		guint mid = lo + (hi - lo) / 2;
		if ((gsize) (bdb_region_line (r, mid)->p - r->text) <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

guint
bdb_region_first_match (const BdbRegion *r, guint i, gsize from)
{
	const BdbRegionLine *l = bdb_region_line (r, i);
	guint lo = l->m0, hi = l->m1;
	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		if (bdb_region_match (r, mid)->start < from)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const BdbMatch *
bdb_region_find (const BdbRegion *r, guint i, BdbPhraseKind kind, gsize from, gsize to)
{
	const BdbRegionLine *l = bdb_region_line (r, i);
	for (guint m = bdb_region_first_match (r, i, from); m < l->m1; m++) {
		const BdbMatch *match = bdb_region_match (r, m);
		if (match->start >= to)
			break;
		if (match->end <= to && bdb_phrase (match->phrase)->kind == kind)
			return match;
	}
	return NULL;
}
