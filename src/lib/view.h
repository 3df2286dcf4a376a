/* The message as the readers see it: the parts that matter to a report,
 * found by one walk over GMime's tree, and the text a person would read.
 * Not installed.
 *
 * Layering: above the report model (it fills the per-message fields and
 * the returned original's headers), below the readers. */
#ifndef BOUNCEDB_VIEW_H
#define BOUNCEDB_VIEW_H

#include <gmime/gmime.h>
#include "report-model.h"
#include "fields.h"

/* What the walker found in a message, handed to the readers. */
typedef struct {
	GMimeMessage *message;         /* the report itself */
	GMimeObject *status_part;      /* message/delivery-status or equivalent */
	GMimeObject *feedback_part;    /* message/feedback-report */
	GMimeObject *original;         /* message/rfc822, text/rfc822-headers, ... */
	BdbFieldList *original_headers;  /* its header block, owned; or NULL */
	gboolean multipart_report;     /* top level is multipart/report */
	const char *report_type;       /* its report-type parameter as written, or NULL */
	GString *text;                 /* human-readable text parts, UTF-8, bounded */
	const BdbParseOptions *opts;
	/* The message says it is a bounce: a delivery-status part, a mailer
	 * daemon as sender, X-Failed-Recipients, or a null sender with a
	 * bounce's subject.  Heuristic readers only run on such messages, so
	 * that a person quoting a bounce never suppresses anyone. */
	gboolean bounce_shaped;
	gboolean null_sender;          /* Return-Path: <> */
	gboolean daemon_sender;        /* From a mailer daemon or postmaster */
	gboolean bounce_subject;       /* "Undelivered Mail Returned to Sender" ... */
} BdbMessageView;

/* Walk @msg (borrowed; it must outlive @view) into @view and read the
 * message's own headers and the returned original's into @report.  FALSE
 * with @error when a limit of @opts is exceeded.  Clear @view with
 * bdb_view_clear() in any case. */
gboolean bdb_view_init (BdbMessageView *view, GMimeMessage *msg, const BdbParseOptions *opts,
                        BdbReport *report, GError **error);
void bdb_view_clear (BdbMessageView *view);

/* Make GMime keep attached messages (message/rfc822, global, news) as
 * plain parts: only their headers are read.  Once, at GMime start-up. */
void bdb_view_register_types (void);

/* A header of the returned original as written (unfolded, not decoded),
 * or NULL.  Borrowed from @view. */
const char *bdb_view_original_header (const BdbMessageView *view, const char *name);

/* Decoded content of a leaf part, at most @limit bytes (more is cut off).
 * Returns a new GByteArray, NUL-terminated past its length. */
GByteArray *bdb_part_content (GMimeObject *part, gsize limit);

/* Fill the bounce_shaped evidence of @view (shape.c). */
void bdb_message_view_shape (BdbMessageView *view, const BdbReport *report);

/* Cheap evidence, for readers deciding whether a message is theirs. */
/* @needle (exact case) in the first 16 KiB of the text. */
gboolean bdb_view_has (const BdbMessageView *view, const char *needle);
/* The same, ASCII case-insensitive. */
gboolean bdb_view_has_nocase (const BdbMessageView *view, const char *needle);
/* Any of the @n needles, exact case or ASCII case-insensitive. */
gboolean bdb_view_has_any (const BdbMessageView *view, const char *const *needles, gsize n);
gboolean bdb_view_has_any_nocase (const BdbMessageView *view, const char *const *needles, gsize n);
/* A header of the report message itself, raw, or NULL. */
const char *bdb_view_header (const BdbMessageView *view, const char *name);
/* Does the report's From address end with @suffix (lowercase)? */
gboolean bdb_view_from_ends (const BdbReport *report, const char *suffix);

#endif
