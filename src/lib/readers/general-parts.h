/* The parts of the general reader (general.c), and what they share: the
 * notice being read, and the ties found in it.  Not installed.
 *
 * Layering: general.c (the reader: whether a message is a notice, whose
 * addresses are ours, the records) calls structure.c (listings,
 * transcripts, X.400 forms: evidence that spans lines) and evidence.c
 * (what an address's own line and its neighbours say, and the helpers
 * both use); structure.c calls evidence.c; nothing calls up. */
#ifndef BOUNCEDB_GENERAL_PARTS_H
#define BOUNCEDB_GENERAL_PARTS_H

#include "notice.h"
#include "region.h"

#define BDB_GENERAL_WINDOW 400       /* bytes of a line looked at on each side of an address */
#define BDB_GENERAL_BLOCK_LINES 4    /* lines under an address that may say why it failed */
#define BDB_GENERAL_LIST_SKIP 6      /* lines between a heading and its first item */
#define BDB_GENERAL_DIAG_LIMIT 2048

/* What tied an address to a failure, weakest first: of two ties of one
 * address, the stronger gives its record. */
typedef enum {
	BDB_TIE_HEADER = 1,   /* X-Failed-Recipients */
	BDB_TIE_PHRASE,       /* an error phrase or code on its line or near it */
	BDB_TIE_ORIGINAL,     /* "originally addressed to" */
	BDB_TIE_LISTING,      /* an item under a listing heading */
	BDB_TIE_X400,         /* an X.400 recipient form */
	BDB_TIE_TRANSCRIPT,   /* RCPT TO answered by a failure */
} BdbTieKind;

typedef struct {
	gsize pos;            /* where the address is in the text */
	char *addr;           /* as found (decoded for X.400), owned */
	BdbTieKind kind;
	char *evidence;       /* what tied it, for explain; owned */
	GString *diag;        /* the text tied to it */
	const char *command;  /* "RCPT" or "DATA" for a transcript; static */
} BdbTie;

/* The notice being read. */
typedef struct {
	const BdbMessageView *view;
	BdbReport *report;
	BdbRegion region;
	GPtrArray *ours;      /* lowercased addresses, owned */
	char *site;           /* the reporting system's domain (last two labels), or NULL */
	GArray *ties;         /* BdbTie */
} BdbGeneral;

/* Clear function of the ties array. */
void bdb_tie_clear (gpointer data);

static inline const char *
bdb_rline_end (const BdbRegionLine *l)
{
	return l->p + l->len;
}

/* The offset of @p in the region's text. */
static inline gsize
bdb_general_off (const BdbGeneral *g, const char *p)
{
	return (gsize) (p - g->region.text);
}

/* ---- evidence.c ------------------------------------------------------------ */

/* Append the line [@p, @p + @len), trimmed, to a diagnostic (up to its limit). */
void bdb_general_append (GString *s, const char *p, gsize len);
/* Only separators (" :;<\"'(=[", tab) in [@a, @b), at most @max of them. */
gboolean bdb_general_only_separators (const char *a, const char *b, gsize max);
/* A phrase of @kind that ends just before @a0 on line @i: only
 * separators (and an "rfc822;" address type) between, at most @gap, and a
 * word boundary before it.  NULL when none. */
const BdbMatch *bdb_general_phrase_before (const BdbGeneral *g, guint i, const char *a0,
                                           BdbPhraseKind kind, gsize gap);
/* Can the occurrence [@a0, @a1) on line @i be a failed recipient at all:
 * not on a header line of the returned message, not in a URL, not after a
 * word naming a sender or a message id? */
gboolean bdb_general_candidate (const BdbGeneral *g, guint i, const char *a0, const char *a1);
/* A new tie of @len bytes at @a0 (the address as found), at text offset
 * @pos.  Borrowed from g->ties: valid until the next tie is added. */
BdbTie *bdb_general_add_tie (BdbGeneral *g, gsize pos, const char *a0, gsize len, BdbTieKind kind);
/* Set the tie's evidence: "@what: <the line>". */
void bdb_general_set_evidence (BdbTie *t, const char *what, const char *p, gsize len);
/* Does [@p, @end) hold an enhanced status code of class 4 or 5, or a
 * 4xx/5xx reply code where replies are quoted? */
gboolean bdb_general_has_failure_code (const char *p, const char *end);
/* A failure or delay phrase on line @i within text offsets [@from, @to),
 * or NULL; when none and @code is given, *@code says whether a failure
 * code stands there. */
const BdbMatch *bdb_general_failure_words (const BdbGeneral *g, guint i, gsize from, gsize to,
                                           gboolean *code);
/* The line after the lines under line @i that belong to it. */
guint bdb_general_block_end (const BdbGeneral *g, guint i);
/* Diagnostics: line @i and the lines under it (then the reason after
 * them); the paragraph of line @i (returning the line after it); the first
 * line of the notice that says why delivery failed. */
void bdb_general_line_diag (const BdbGeneral *g, guint i, GString *diag);
/* The same with only a window of line @i around the address [@a0, @a1)
 * (BDB_GENERAL_WINDOW bytes each way): a long line says many things. */
void bdb_general_window_diag (const BdbGeneral *g, guint i, const char *a0, const char *a1,
                              GString *diag);
guint bdb_general_paragraph_diag (const BdbGeneral *g, guint i, GString *diag);
void bdb_general_notice_diag (const BdbGeneral *g, GString *diag);
/* When @diag holds no code: the paragraph at line @from (after at most
 * one blank line) if it has a code or the words of a failure and does
 * not start with an address. */
void bdb_general_reason_after (const BdbGeneral *g, guint from, GString *diag);
/* Tie the occurrence [@a0, @a1) on line @i by what its line and its
 * neighbours say (originally addressed to, an error phrase or code, a
 * field among fields, a bare address under or over a failure). */
void bdb_general_tie_occurrence (BdbGeneral *g, guint i, const char *a0, const char *a1);

/* ---- structure.c ----------------------------------------------------------- */

/* Is line @i a heading over a list of failed addresses? */
gboolean bdb_general_is_heading (const BdbGeneral *g, guint i);
/* Tie the items of the list under heading line @h; returns the line
 * where the list stopped. */
guint bdb_general_tie_listing (BdbGeneral *g, guint h);
/* Tie the recipients an SMTP transcript shows refused. */
void bdb_general_tie_transcript (BdbGeneral *g);
/* Tie the recipients of X.400 forms ("dda:SMTP=", "/RFC-822="). */
void bdb_general_tie_x400 (BdbGeneral *g);

#endif
