/* Finding many phrases in one pass: an Aho-Corasick automaton over
 * bytes, built once from a table and then shared, read-only, by every
 * thread.  Not installed.
 *
 * The general reader asks of every line of a notice whether it holds one
 * of a few hundred phrases (phrases.c); searching for each phrase in turn
 * would cost the region's length times the number of phrases.  The
 * automaton reads each byte once, whatever the number of phrases, so the
 * cost of a notice is linear in its length (bench/README.md). */
#ifndef BOUNCEDB_MATCHER_H
#define BOUNCEDB_MATCHER_H

#include <glib.h>

typedef struct _BdbMatcher BdbMatcher;

/* One phrase found: bytes [start, end) of the text, and the index of the
 * phrase in the table the matcher was built from. */
typedef struct {
	gsize start, end;
	guint phrase;
} BdbMatch;

/* Build a matcher for the @n NUL-terminated, non-empty @phrases (bytes,
 * compared exactly: give them in the case the text is searched in).
 * Free with bdb_matcher_free(). */
BdbMatcher *bdb_matcher_new (const char *const *phrases, guint n);
void bdb_matcher_free (BdbMatcher *m);

/* Append to @out (a GArray of BdbMatch) every occurrence of every phrase
 * in [@text, @text + @len), in the order of their ends; overlapping and
 * nested occurrences included.  Offsets are from @text. */
void bdb_matcher_scan (const BdbMatcher *m, const char *text, gsize len, GArray *out);

#endif
