/* Reading human-readable bounce text: shared by the DSN reader (to fill
 * what a report lacks) and the text extractors.  Not installed.
 *
 * Everything here works on [start, end) ranges of the message's text and
 * allocates nothing unless it says so. */
#ifndef BOUNCEDB_TEXT_H
#define BOUNCEDB_TEXT_H

#include <glib.h>

/* The paragraph of @text that mentions @address (case-insensitively):
 * from the start of the line holding it to the next blank line, at most
 * @limit bytes.  NULL when the address does not occur.  g_free() it. */
char *bdb_text_paragraph_with (const char *text, const char *address, gsize limit);

/* @s in lower case; g_free() it.  ASCII text is lowered the ASCII way,
 * whatever the locale: in a Turkish one g_utf8_strdown() makes 'I' a
 * dotless 'ı', and neither an address's key, nor a signature, nor whether
 * "MAILER-DAEMON" is recognised may depend on the locale of the process. */
char *bdb_text_strdown (const char *s);

/* The first line of @text with something on it (leading blank space and
 * blank lines skipped), without its line end: a pointer into @text and its
 * length in *@len (0 when @text is blank). */
const char *bdb_text_first_line (const char *text, gsize *len);

/* Case-insensitive (ASCII) substring search; NULL when absent. */
const char *bdb_text_find_nocase (const char *haystack, const char *needle);

/* The same within [p, end). */
const char *bdb_text_find_nocase_n (const char *p, const char *end, const char *needle);

/* Append the line [@p, @p + @len) to @s, without its surrounding blank
 * space, after a newline when @s is not empty; nothing once @s holds
 * @limit bytes, and at most @limit bytes of the line. */
void bdb_text_append_line (GString *s, const char *p, gsize len, gsize limit);

/* ---- lines ------------------------------------------------------------- */

/* One line of text, without its line end (LF, CRLF or CR). */
typedef struct {
	const char *p;
	gsize len;
} BdbLine;

/* The line starting at *@cursor (< @end); moves *@cursor past its line
 * end.  FALSE when *@cursor has reached @end. */
gboolean bdb_text_next_line (const char **cursor, const char *end, BdbLine *line);

/* Leading spaces of a line (a tab counts 8); the line's text after them
 * is at line->p + bdb_line_skip(). */
guint bdb_line_indent (const BdbLine *line);
gsize bdb_line_skip (const BdbLine *line);
gboolean bdb_line_is_blank (const BdbLine *line);
/* Does the line, after leading spaces and @strip characters, start with
 * @prefix (ASCII case-insensitive)? */
gboolean bdb_line_starts (const BdbLine *line, const char *strip, const char *prefix);

/* Where the copy of the returned message starts in the notice text
 * @text: a marker line ("--- Below this line is a copy of the message.",
 * "----- Unsent message follows -----", "Original message headers:" ...)
 * or the first Received:/Return-Path: line at the start of a line.
 * @end when there is none. */
const char *bdb_text_notice_end (const char *text, const char *end);

/* ---- addresses --------------------------------------------------------- */

/* The mail address that starts exactly at @p (bare: local@domain, the
 * domain with at least one dot): on success sets *@stop past it. */
gboolean bdb_text_address_at (const char *p, const char *end, const char **stop);

/* The first mail address in [@p, @end): sets *@start and *@stop. */
gboolean bdb_text_find_address (const char *p, const char *end,
                                const char **start, const char **stop);

/* An address at the start of a list item: after spaces, an optional
 * bullet ("*", "-", ">>>"), an optional "<", '"', "[SMTP:" or "mailto:".
 * Sets *@start, *@stop (the address) and *@after (past a closing bracket
 * or quote). */
gboolean bdb_text_leading_address (const char *p, const char *end, const char **start,
                                   const char **stop, const char **after);

#endif
