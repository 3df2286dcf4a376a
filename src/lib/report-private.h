/* Building a BdbReport: shared by the MIME walker and every reader of a
 * report format (RFC 3464, ARF, auto-replies, the text extractors).
 * Not installed. */
#ifndef BOUNCEDB_REPORT_PRIVATE_H
#define BOUNCEDB_REPORT_PRIVATE_H

#include <gmime/gmime.h>
#include <bouncedb/report.h>
#include "fields.h"

struct _BdbRecord {
	const char *v[BDB_FIELD_COUNT];  /* interned in the report; NULL = absent */
	BdbReport *report;
	/* What the human-readable part says about this recipient (interned):
	 * read for what the status part leaves out, never output. */
	const char *context;
};

struct _BdbReport {
	BdbKind kind;
	const char *v[BDB_FIELD_COUNT];  /* per-message fields */
	GPtrArray *records;              /* BdbRecord *, owned */
	GPtrArray *extensions;           /* name, value, name, value ... interned */
	GPtrArray *headers;              /* kept original headers, same layout */
	GPtrArray *senders;              /* envelope sender candidates, interned */
	const char *problem;
	guint8 fingerprint[32];
	guint max_recipients;
	gboolean truncated;              /* records beyond max_recipients dropped */
	GStringChunk *strings;           /* owns every string above */
};

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

BdbReport *bdb_report_new (void);

/* A header of the returned original as written (unfolded, not decoded),
 * or NULL.  Borrowed from @view. */
const char *bdb_view_original_header (const BdbMessageView *view, const char *name);

/* Intern @len bytes of @s (-1: NUL-terminated) in @report: whitespace is
 * trimmed and collapsed, invalid UTF-8 and NULs replaced.  Returns NULL for
 * NULL or empty input.  The result lives as long as the report. */
const char *bdb_report_intern (BdbReport *report, const char *s, gssize len);

/* Set a per-message field (interned); an empty value clears it. */
void bdb_report_set (BdbReport *report, BdbField field, const char *s, gssize len);
void bdb_report_set_problem (BdbReport *report, const char *problem);
void bdb_report_add_extension (BdbReport *report, const char *name, const char *value);

/* Append a record; returns NULL once max_recipients is reached. */
BdbRecord *bdb_report_add_record (BdbReport *report);
void bdb_record_set (BdbRecord *record, BdbField field, const char *s, gssize len);
/* Set the recipient from what a report wrote ("rfc822; <A@B>"); returns
 * FALSE, leaving it unset, when no address can be read from @text. */
gboolean bdb_record_set_recipient (BdbRecord *record, const char *text, const char *source);
/* Remove records that ended up without a recipient. */
void bdb_report_drop_empty_records (BdbReport *report);

/* Derive STATUS, REPLY_CODE and SMTP_COMMAND of every record from its
 * DSN_STATUS and DIAGNOSTIC.  Done once after a reader has finished. */
void bdb_report_finish_records (BdbReport *report);

/* Finders over diagnostic text, shared with the text extractors.  They
 * write into caller buffers (no allocation). */
gboolean bdb_find_enhanced_code (const char *text, char out[16]);
/* The SMTP command a text says failed ("RCPT"), or NULL.  Static. */
const char *bdb_find_smtp_command (const char *text);
gboolean bdb_find_reply_code (const char *text, char out[4]);
gboolean bdb_status_is_valid (const char *code);

/* Fill the bounce_shaped evidence of @view (shape.c). */
void bdb_message_view_shape (BdbMessageView *view, const BdbReport *report);

/* Readers.  Each returns TRUE when it recognised its format and filled
 * records (or set a problem) in @report. */
gboolean bdb_read_delivery_status (const BdbMessageView *view, BdbReport *report);
gboolean bdb_read_feedback_report (const BdbMessageView *view, BdbReport *report);
gboolean bdb_read_unsubscribe (const BdbMessageView *view, BdbReport *report);
gboolean bdb_read_autoreply (const BdbMessageView *view, BdbReport *report);

/* Decoded content of a leaf part, at most @limit bytes (more is cut off).
 * Returns a new GByteArray, NUL-terminated past its length. */
GByteArray *bdb_part_content (GMimeObject *part, gsize limit);

#endif
