/* Reading human-readable bounce text: shared by the DSN reader (to fill
 * what a report lacks) and the text extractors.  Not installed. */
#ifndef BOUNCEDB_TEXT_H
#define BOUNCEDB_TEXT_H

#include <glib.h>

/* The paragraph of @text that mentions @address (case-insensitively):
 * from the start of the line holding it to the next blank line, at most
 * @limit bytes.  NULL when the address does not occur.  g_free() it. */
char *bdb_text_paragraph_with (const char *text, const char *address, gsize limit);

/* Case-insensitive (ASCII) substring search; NULL when absent. */
const char *bdb_text_find_nocase (const char *haystack, const char *needle);

#endif
