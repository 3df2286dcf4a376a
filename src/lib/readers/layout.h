/* The layouts text bounces share, whatever MTA wrote them.  Not installed.
 *
 * Each reads the notice from a starting point (usually just past an
 * MTA's fixed introduction) to the notice's end and adds records through
 * bdb_notice_add().  They return how many recipients they added.
 */
#ifndef BOUNCEDB_LAYOUT_H
#define BOUNCEDB_LAYOUT_H

#include "notice.h"

/* Where the text after the first line containing one of @phrases
 * (case-insensitive) starts, within the notice; NULL when none does. */
const char *bdb_notice_after (const BdbNotice *n, const char *from,
                              const char *const *phrases, gsize n_phrases);

/* Paragraphs headed "<addr>:" (qmail's QSBMF, Postfix, Courier, Yahoo,
 * OpenSMTPD): the head line may go on with the error ("<a@b>: host x
 * said: 550 ..."), the paragraph ends at a blank line or the next head. */
guint bdb_layout_paragraphs (BdbNotice *n, const char *from);

typedef enum {
	/* Items without words of their own get the text after the list
	 * ("Technical details of permanent failure: ...", "because: ..."). */
	BDB_LIST_DETAILS = 1 << 0,
	/* Only lines holding nothing but the address are items (with an
	 * optional "<mailto:...>" or " on DATE"). */
	BDB_LIST_BARE = 1 << 1,
} BdbListFlags;

/* A list of failed addresses, one per line, after a heading ("The
 * following recipient(s) cannot be reached:"): each item's error is the
 * rest of its line and the lines under it.  Lines before the first item
 * are skipped (at most a few). */
guint bdb_layout_list (BdbNotice *n, const char *from, BdbListFlags flags);

typedef struct {
	const char *label;   /* what precedes the address ("Recipient:") */
	gboolean says_why;   /* the label is itself the error ("Unknown user:") */
} BdbLabel;

/* "Label: addr" lines.  The error is a reason field in the label's block
 * ("Reason: ...", "because: ..."; the @reasons labels), else the label's
 * block itself (the label line and what follows up to the next label). */
guint bdb_layout_labels (BdbNotice *n, const char *from, const BdbLabel *labels, gsize n_labels,
                         const char *const *reasons, gsize n_reasons);

/* An SMTP session transcript (Sendmail, Courier, InterScan): "NNN
 * <addr>... error" lines, and ">>> RCPT TO:<addr>" followed by the
 * server's "<<< NNN ..." reply. */
guint bdb_layout_transcript (BdbNotice *n, const char *from);

#endif
