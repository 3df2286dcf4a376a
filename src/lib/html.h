/* The text of an HTML part, as a person would read it.  Not installed.
 *
 * Layering: beside text.c, below the view, which uses it for a message
 * whose only human-readable part is text/html. */
#ifndef BOUNCEDB_HTML_H
#define BOUNCEDB_HTML_H

#include <glib.h>

/* The text of the UTF-8 HTML @html (@len bytes): tags dropped, the
 * content of <script>, <style> and <head> dropped, a line break for each
 * element that starts a block (p, div, br, li, tr, h1-h6, table ...),
 * character references decoded (&lt; &amp; &nbsp; &#64; &#x40; ...).
 * Inline elements (b, span, a, font) leave no break, so "Your message to
 * <b>bob@example.org</b> failed" stays one line; line ends of the source
 * stay too.  One pass; g_free(). */
char *bdb_html_to_text (const char *html, gsize len);

#endif
