/* The notice region of a failure notice, read once for the general
 * reader: the text the reporting system wrote, cut where the returned
 * message starts, in lines, with every phrase of phrases.c found in it.
 * Not installed.
 *
 * Where the returned message starts: what bdb_text_notice_end() finds
 * (the families' markers, a Received:/Return-Path: line after a blank
 * line), a line that starts with a "returned message follows" phrase in
 * any language of phrases.c, or a block of three or more header lines of
 * which one is a header only a message has (Received, Message-ID,
 * MIME-Version ...), quoted with "> " or not.  Everything is linear in
 * the length of the text. */
#ifndef BOUNCEDB_REGION_H
#define BOUNCEDB_REGION_H

#include "phrases.h"
#include "../text.h"

/* Header-like lines ("Name: value" at the start of a line). */
typedef enum {
	BDB_HEADER_NONE = 0,
	BDB_HEADER_OTHER,      /* a name that is not one of the below: a label ("Reason:") */
	BDB_HEADER_EXTENSION,  /* X-...: a message's, or a notice's own */
	BDB_HEADER_ADDRESS,    /* From, To, Cc, Sender, Reply-To ... of a message */
	BDB_HEADER_TEXT,       /* Subject, Date, Sent: words of the original */
	BDB_HEADER_TRANSPORT,  /* Received, Message-ID, MIME-Version ...: only a message has them */
} BdbHeaderKind;

typedef struct {
	const char *p;        /* the line, in the text, without its end */
	gsize len;
	guint indent;
	gboolean blank;
	BdbHeaderKind header;
	guint m0, m1;         /* its phrases: region->matches[m0, m1) */
} BdbRegionLine;

typedef struct {
	const char *text;     /* where the notice starts */
	const char *end;      /* where the returned message starts */
	char *low;            /* folded copy of [text, end), same offsets; owned */
	GArray *lines;        /* BdbRegionLine */
	GArray *matches;      /* BdbMatch in [text, end), by start */
} BdbRegion;

/* Read the region of [@text, @text_end). */
void bdb_region_init (BdbRegion *r, const char *text, const char *text_end);
void bdb_region_clear (BdbRegion *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BdbRegion, bdb_region_clear)

static inline const BdbRegionLine *
bdb_region_line (const BdbRegion *r, guint i)
{
	return &g_array_index (r->lines, BdbRegionLine, i);
}

static inline const BdbMatch *
bdb_region_match (const BdbRegion *r, guint i)
{
	return &g_array_index (r->matches, BdbMatch, i);
}

/* The line holding offset @off of the text (binary search). */
guint bdb_region_line_at (const BdbRegion *r, gsize off);

/* The index of the first match of line @i that starts at or after text
 * offset @from (line->m1 when none): a line may be long and full of
 * phrases, a window of it is not. */
guint bdb_region_first_match (const BdbRegion *r, guint i, gsize from);

/* Does line @i hold a phrase of @kind within bytes [@from, @to) of the
 * text (offsets from r->text)?  Returns the first such match or NULL. */
const BdbMatch *bdb_region_find (const BdbRegion *r, guint i, BdbPhraseKind kind, gsize from, gsize to);

/* Is the text at [@p, @end) a header field start ("Name:" with a name of
 * letters, digits and '-'), after an optional "> " quote?  Sets its kind. */
BdbHeaderKind bdb_region_header_kind (const char *p, const char *end);

#endif
