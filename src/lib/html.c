/* The text of an HTML part; see html.h.
 *
 * Notices sent as HTML only (Microsoft 365 without a plain part, web mail
 * providers, gateways) put the failed address inside inline markup
 * ("<b>bob@example.org</b>", "&lt;bob@example.org&gt;") and the failure in
 * the same sentence.  Breaking a line at every tag, as the view did, cut
 * the sentence apart; undecoded references hid the brackets and the '@'
 * ("bob&#64;example.org").  Not a full HTML parser: what a reader of
 * notices needs, in one pass over the bytes, never more output than input.
 */
#include <string.h>
#include "html.h"

/* Elements that start a block: a line break before and after. */
static const char *const blocks[] = {
	"p", "div", "br", "li", "ul", "ol", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
	"hr", "blockquote", "pre", "dd", "dt", "dl", "section", "article", "header", "footer",
	"title", "center", "address", "body", "html", "form", "fieldset", "tbody", "thead",
};

/* Elements whose content is no text for people. */
static const char *const hidden[] = { "script", "style", "head" };

static gboolean
name_is (const char *name, gsize n, const char *const *list, gsize count)
{
	for (gsize i = 0; i < count; i++)
		if (strlen (list[i]) == n && g_ascii_strncasecmp (name, list[i], n) == 0)
			return TRUE;
	return FALSE;
}

static const struct {
	const char *name;
	gunichar c;
} entities[] = {
	{ "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' }, { "apos", '\'' },
	{ "nbsp", ' ' }, { "ensp", ' ' }, { "emsp", ' ' }, { "thinsp", ' ' }, { "shy", 0 },
	{ "ndash", 0x2013 }, { "mdash", 0x2014 }, { "hellip", 0x2026 }, { "copy", 0xa9 },
	{ "laquo", 0xab }, { "raquo", 0xbb }, { "rsquo", 0x2019 }, { "lsquo", 0x2018 },
	{ "rdquo", 0x201d }, { "ldquo", 0x201c }, { "commat", '@' }, { "period", '.' },
};

/* The character reference at @p ('&'), decoded into @out: the number of
 * bytes it takes in the HTML, or 0 when it is none. */
static gsize
reference (const char *p, const char *end, GString *out)
{
	const char *semi = memchr (p, ';', (gsize) MIN (end - p, 12));
	if (!semi || semi == p + 1)
		return 0;
	gunichar c = 0;
	gboolean known = FALSE;
	if (p[1] == '#') {
		const char *q = p + 2;
		gboolean hex = q < semi && (*q == 'x' || *q == 'X');
		q += hex;
		if (q == semi)
			return 0;
		for (; q < semi; q++) {
			int d = hex ? g_ascii_xdigit_value (*q) : g_ascii_digit_value (*q);
			if (d < 0 || c > 0x10ffff)
				return 0;
			c = c * (hex ? 16 : 10) + (gunichar) d;
		}
		known = g_unichar_validate (c) && c != 0;
	} else {
		for (gsize i = 0; i < G_N_ELEMENTS (entities) && !known; i++) {
			gsize n = strlen (entities[i].name);
			if ((gsize) (semi - p - 1) == n && strncmp (p + 1, entities[i].name, n) == 0) {
				c = entities[i].c;
				known = TRUE;
			}
		}
	}
	if (!known)
		return 0;
	if (c) {
		char buf[6];
		g_string_append_len (out, buf, g_unichar_to_utf8 (c, buf));
	}
	return (gsize) (semi - p) + 1;
}

static void
line_break (GString *out)
{
	if (out->len && out->str[out->len - 1] != '\n')
		g_string_append_c (out, '\n');
}

char *
bdb_html_to_text (const char *html, gsize len)
{
	GString *out = g_string_sized_new (len / 2 + 1);
	const char *p = html, *end = html + len;
	const char *hide_until = NULL;  /* the element whose content is hidden */
	gsize hide_len = 0;
	while (p < end) {
		if (*p == '<') {
			const char *close = memchr (p, '>', (gsize) (end - p));
			if (!close)
				break;
			if (end - p >= 4 && memcmp (p, "<!--", 4) == 0) {
				const char *c = p + 4;
				while (c + 3 <= end && memcmp (c, "-->", 3) != 0)
					c++;
				p = c + 3 <= end ? c + 3 : end;
				continue;
			}
			const char *name = p + 1;
			gboolean closing = name < close && *name == '/';
			name += closing;
			const char *ne = name;
			while (ne < close && (g_ascii_isalnum (*ne)))
				ne++;
			gsize n = (gsize) (ne - name);
			if (hide_until) {
				if (closing && n == hide_len && g_ascii_strncasecmp (name, hide_until, n) == 0)
					hide_until = NULL;
			} else if (!closing && name_is (name, n, hidden, G_N_ELEMENTS (hidden)) && close[-1] != '/') {
				hide_until = name;
				hide_len = n;
			} else if (name_is (name, n, blocks, G_N_ELEMENTS (blocks))) {
				line_break (out);
			} else if (!closing && n == 2 && g_ascii_strncasecmp (name, "td", 2) == 0) {
				g_string_append_c (out, ' ');
			}
			p = close + 1;
			continue;
		}
		if (hide_until) {
			p++;
			continue;
		}
		if (*p == '&') {
			gsize used = reference (p, end, out);
			if (used) {
				p += used;
				continue;
			}
		}
		/* Line ends of the source stay: notices are often text put into
		 * HTML line by line, and their layouts are in the lines. */
		if (*p == '\r') {
			p++;
			continue;
		}
		g_string_append_c (out, *p++);
	}
	return g_string_free (out, FALSE);
}
