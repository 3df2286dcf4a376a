/* Helpers for human-readable bounce text; see text.h.
 *
 * Bounce notices are prose written for people, in any line-end
 * convention, with the returned message often pasted below them.  These
 * helpers find lines, the end of the notice and mail addresses without
 * allocating, so that the extractors can try layouts cheaply.
 */
#include <string.h>
#include "text.h"

static inline guchar
fold (char c)
{
	return (guchar) (c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
}

static gboolean
equal_nocase (const char *a, const char *b, gsize n)
{
	for (gsize i = 0; i < n; i++)
		if (fold (a[i]) != fold (b[i]))
			return FALSE;
	return TRUE;
}

/* Extractors ask dozens of these questions of every notice, so this is on
 * the hot path: both cases of the needle's first byte are looked for with
 * memchr(), which is vectorised, and only candidates are compared. */
const char *
bdb_text_find_nocase_n (const char *p, const char *end, const char *needle)
{
	gsize n = strlen (needle);
	if (n == 0)
		return p;
	if (end - p < (ptrdiff_t) n)
		return NULL;
	const char *last = end - n;  /* the last place a match can start */
	guchar lo = fold (needle[0]);
	guchar up = (guchar) g_ascii_toupper ((char) lo);
	const char *a = memchr (p, lo, (gsize) (last - p) + 1);
	const char *b = up != lo ? memchr (p, up, (gsize) (last - p) + 1) : NULL;
	while (a || b) {
		gboolean take_a = a && (!b || a < b);
		const char *q = take_a ? a : b;
		if (equal_nocase (q + 1, needle + 1, n - 1))
			return q;
		if (take_a)
			a = memchr (q + 1, lo, (gsize) (last - q));
		else
			b = memchr (q + 1, up, (gsize) (last - q));
	}
	return NULL;
}

char *
bdb_text_strdown (const char *s)
{
	for (const char *p = s; *p; p++)
		if ((guchar) *p >= 0x80)
			return g_utf8_strdown (s, -1);
	return g_ascii_strdown (s, -1);
}

const char *
bdb_text_first_line (const char *text, gsize *len)
{
	while (g_ascii_isspace (*text))
		text++;
	*len = strcspn (text, "\r\n");
	return text;
}

const char *
bdb_text_find_nocase (const char *haystack, const char *needle)
{
	return bdb_text_find_nocase_n (haystack, haystack + strlen (haystack), needle);
}

static gboolean
blank_line_at (const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\n' || *p == '\0';
}

char *
bdb_text_paragraph_with (const char *text, const char *address, gsize limit)
{
	if (!text || !address || !*address)
		return NULL;
	const char *hit = bdb_text_find_nocase (text, address);
	if (!hit)
		return NULL;
	const char *start = hit;
	while (start > text && start[-1] != '\n')
		start--;
	const char *end = hit;
	for (;;) {
		const char *nl = strchr (end, '\n');
		if (!nl) {
			end += strlen (end);
			break;
		}
		end = nl + 1;
		if (blank_line_at (end) || (gsize) (end - start) >= limit)
			break;
	}
	gsize n = MIN ((gsize) (end - start), limit);
	return g_strndup (start, n);
}

void
bdb_text_append_line (GString *s, const char *p, gsize len, gsize limit)
{
	while (len && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len && g_ascii_isspace (p[len - 1]))
		len--;
	if (!len || s->len >= limit)
		return;
	if (s->len)
		g_string_append_c (s, '\n');
	g_string_append_len (s, p, (gssize) MIN (len, limit));
}

/* ---- lines ------------------------------------------------------------- */

gboolean
bdb_text_next_line (const char **cursor, const char *end, BdbLine *line)
{
	const char *p = *cursor;
	if (p >= end)
		return FALSE;
	const char *q = p;
	while (q < end && *q != '\n' && *q != '\r')
		q++;
	line->p = p;
	line->len = (gsize) (q - p);
	if (q < end && *q == '\r')
		q++;
	if (q < end && *q == '\n')
		q++;
	*cursor = q;
	return TRUE;
}

guint
bdb_line_indent (const BdbLine *line)
{
	guint n = 0;
	for (gsize i = 0; i < line->len; i++) {
		if (line->p[i] == ' ')
			n++;
		else if (line->p[i] == '\t')
			n += 8;
		else
			break;
	}
	return n;
}

gsize
bdb_line_skip (const BdbLine *line)
{
	gsize i = 0;
	while (i < line->len && (line->p[i] == ' ' || line->p[i] == '\t'))
		i++;
	return i;
}

gboolean
bdb_line_is_blank (const BdbLine *line)
{
	for (gsize i = 0; i < line->len; i++)
		if (!g_ascii_isspace (line->p[i]))
			return FALSE;
	return TRUE;
}

gboolean
bdb_line_starts (const BdbLine *line, const char *strip, const char *prefix)
{
	gsize i = 0;
	while (i < line->len && (line->p[i] == ' ' || line->p[i] == '\t' ||
	                         (strip && line->p[i] && strchr (strip, line->p[i]))))
		i++;
	gsize n = strlen (prefix);
	return line->len - i >= n && g_ascii_strncasecmp (line->p + i, prefix, n) == 0;
}

/* A line of ten or more '-', '=' or '_' and nothing else. */
static gboolean
is_rule (const BdbLine *line)
{
	gsize n = 0;
	for (gsize i = 0; i < line->len; i++) {
		char c = line->p[i];
		if (c == '-' || c == '=' || c == '_')
			n++;
		else if (!g_ascii_isspace (c))
			return FALSE;
	}
	return n >= 10;
}

/* Lines that introduce the returned message, after leading spaces and
 * decoration ("-", "|", "=", "*").  Compared as prefixes. */
static const char *const copy_markers[] = {
	"below this line is a copy of the message",
	"enclosed is a copy of the message",
	"this is a copy of the message",
	"unsent message follows",
	"original message follows",
	"original message -",
	"original message:",
	"original message headers",
	"original message header",
	"original mail info",
	"message headers follow",
	"below is a copy of the original message",
	"the header of the original message",
	"included is a copy of the message header",
	"returned message",
	"message text follows",
	"bounced e-mail:",
	"元のメッセージ",
};

const char *
bdb_text_notice_end (const char *text, const char *end)
{
	const char *cursor = text;
	BdbLine line;
	gboolean after_blank = TRUE;
	const char *rule = NULL;  /* the line before, when it was "-----..." */
	while (bdb_text_next_line (&cursor, end, &line)) {
		if (line.len == 0 || bdb_line_is_blank (&line)) {
			after_blank = TRUE;
			rule = NULL;
			continue;
		}
		/* A header block at the start of a line, after a blank line or
		 * a rule of dashes: the message itself, pasted without a marker
		 * (au/EZweb: "----...----" then "Received: ..."). */
		if ((after_blank || rule) && line.len > 9 &&
		    (g_ascii_strncasecmp (line.p, "Received:", 9) == 0 ||
		     g_ascii_strncasecmp (line.p, "Return-Path:", 12) == 0))
			return rule ? rule : line.p;
		after_blank = FALSE;
		rule = is_rule (&line) ? line.p : NULL;
		for (gsize i = 0; i < G_N_ELEMENTS (copy_markers); i++)
			if (bdb_line_starts (&line, "-|=*", copy_markers[i]))
				return line.p;
	}
	return end;
}

/* ---- addresses --------------------------------------------------------- */

static gboolean
local_char (guchar c)
{
	return g_ascii_isalnum (c) || c >= 0x80 || strchr (".!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Stricter, for scanning left from an '@' in prose and URLs. */
static gboolean
local_char_left (guchar c)
{
	return g_ascii_isalnum (c) || c >= 0x80 || strchr ("._-+=%'~", c) != NULL;
}

static gboolean
domain_char (guchar c)
{
	return g_ascii_isalnum (c) || c >= 0x80 || c == '-' || c == '.';
}

/* CJK and fullwidth punctuation (U+3000-303F but the ideographic full
 * stop, U+FF00-FF0F but the fullwidth full stop, U+FF1A-FF20): it ends
 * a domain written in running text ("a@example.jp，" "a@example.jp、").
 * The full stops are label separators to IDNA. */
static gboolean
cjk_punctuation (const guchar *q, const char *end)
{
	if (end - (const char *) q < 3)
		return FALSE;
	if (q[0] == 0xe3 && q[1] == 0x80 && q[2] >= 0x80 && q[2] <= 0xbf)
		return q[2] != 0x82;
	if (q[0] == 0xef && q[1] == 0xbc)
		return (q[2] >= 0x80 && q[2] <= 0x8f && q[2] != 0x8e) || (q[2] >= 0x9a && q[2] <= 0xa0);
	return FALSE;
}

/* The domain at @p: sets *@stop past it (trailing dots excluded). */
static gboolean
domain_at (const char *p, const char *end, const char **stop)
{
	const char *q = p;
	while (q < end && domain_char ((guchar) *q) && !cjk_punctuation ((const guchar *) q, end))
		q++;
	/* A top-level label is all ASCII or all not: "example.jp您好" is
	 * "example.jp" followed by a greeting. */
	const char *last_dot = NULL;
	for (const char *r = p; r < q; r++)
		if (*r == '.')
			last_dot = r;
	if (last_dot && last_dot + 1 < q && (guchar) last_dot[1] < 0x80)
		for (const char *r = last_dot + 1; r < q; r++)
			if ((guchar) *r >= 0x80) {
				q = r;
				break;
			}
	while (q > p && q[-1] == '.')
		q--;
	if (q == p || *p == '.' || *p == '-')
		return FALSE;
	gboolean dot = FALSE, letter = FALSE;
	for (const char *r = p; r < q; r++) {
		if (*r == '.') {
			if (r[1] == '.')
				return FALSE;
			dot = TRUE;
			letter = FALSE;
		} else if (g_ascii_isalpha (*r) || (guchar) *r >= 0x80) {
			letter = TRUE;
		}
	}
	/* The top-level label has a letter: "10.0.0.1" is no domain. */
	if (!dot || !letter)
		return FALSE;
	*stop = q;
	return TRUE;
}

gboolean
bdb_text_address_at (const char *p, const char *end, const char **stop)
{
	const char *q = p;
	while (q < end && local_char ((guchar) *q))
		q++;
	if (q == p || q >= end || *q != '@' || *p == '.' || q[-1] == '.')
		return FALSE;
	return domain_at (q + 1, end, stop);
}

gboolean
bdb_text_find_address (const char *p, const char *end, const char **start, const char **stop)
{
	for (const char *at = p; at < end && (at = memchr (at, '@', (gsize) (end - at))); at++) {
		const char *s = at;
		while (s > p && local_char_left ((guchar) s[-1]))
			s--;
		while (s < at && (*s == '.' || *s == '\'' || *s == '='))
			s++;
		if (s == at || at[-1] == '.')
			continue;
		if (domain_at (at + 1, end, stop)) {
			*start = s;
			return TRUE;
		}
	}
	return FALSE;
}

gboolean
bdb_text_leading_address (const char *p, const char *end, const char **start,
                          const char **stop, const char **after)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	/* Bullets: "* a@b", "- a@b", "• a@b", ">>> a@b". */
	if (p < end && (*p == '*' || *p == '-' || *p == '>')) {
		while (p < end && (*p == '*' || *p == '-' || *p == '>'))
			p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	} else if (end - p >= 3 && memcmp (p, "\xe2\x80\xa2", 3) == 0) {
		p += 3;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
	}
	char close = '\0';
	if (p < end && (*p == '<' || *p == '"' || *p == '\'')) {
		close = *p == '<' ? '>' : *p;
		p++;
	} else if (end - p >= 6 && g_ascii_strncasecmp (p, "[SMTP:", 6) == 0) {
		close = ']';
		p += 6;
	}
	if (end - p >= 7 && g_ascii_strncasecmp (p, "mailto:", 7) == 0)
		p += 7;
	if (!bdb_text_address_at (p, end, stop))
		return FALSE;
	*start = p;
	const char *a = *stop;
	if (close && a < end && *a == close)
		a++;
	*after = a;
	return TRUE;
}
