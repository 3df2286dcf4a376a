/* The readers: one per format, each turning the view of a message into
 * records through the report model's builders.  Not installed.
 *
 * Layering: above the view and the model, below parse.c, whose reader
 * table calls them in order.  A reader never calls parse.c; the text
 * reader (text-bounce.c) has its own table of MTA families (notice.h),
 * and the delivery-status reader borrows its reading of the notice to fill
 * in what a broken report lacks. */
#ifndef BOUNCEDB_READERS_H
#define BOUNCEDB_READERS_H

#include "../view.h"

/* TRUE when the reader recognised its format and filled records (or set
 * a problem) in @report. */
typedef gboolean (*BdbReadFunc) (const BdbMessageView *view, BdbReport *report);

/* One row of parse.c's reader table. */
typedef struct {
	const char *name;
	BdbKind kind;          /* what the report is when this reader took it */
	BdbReadFunc read;
} BdbReportReader;

gboolean bdb_read_delivery_status (const BdbMessageView *view, BdbReport *report);  /* dsn.c */
gboolean bdb_read_feedback_report (const BdbMessageView *view, BdbReport *report);  /* arf.c */
gboolean bdb_read_text_bounce (const BdbMessageView *view, BdbReport *report);      /* text-bounce.c */
gboolean bdb_read_general (const BdbMessageView *view, BdbReport *report);         /* general.c */
gboolean bdb_read_text_fallback (const BdbMessageView *view, BdbReport *report);   /* text-bounce.c */
gboolean bdb_read_unsubscribe (const BdbMessageView *view, BdbReport *report);      /* unsubscribe.c */
gboolean bdb_read_autoreply (const BdbMessageView *view, BdbReport *report);        /* autoreply.c */
gboolean bdb_read_verp (const BdbMessageView *view, BdbReport *report);             /* verp.c */

/* The records the text reader (or, when it finds none, the general
 * reader, then the generic layouts) finds in @view, in a scratch report (for the delivery-status
 * reader to fill in what a broken status part lacks); @report lends the
 * per-message fields the readers read.  NULL when none.  Free with
 * bdb_report_free(). */
BdbReport *bdb_read_text_records (const BdbMessageView *view, const BdbReport *report);

#endif
