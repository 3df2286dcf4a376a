/* bouncedb: reading one message into a report of per-recipient records.
 *
 * A BdbReport is what one message says about the delivery of an earlier
 * message: its kind (delivery status notification, abuse/feedback report,
 * auto-reply, or nothing of the sort), the per-message fields and one
 * BdbRecord per recipient.  Every string a report hands out is valid UTF-8
 * (invalid bytes replaced), owned by the report and valid until
 * bdb_report_free().
 *
 * Fields are addressed by BdbField, so that output formats, the store and
 * `explain` can walk them from one table.  A record answers for its own
 * fields and falls back to its report for per-message ones.
 */
#ifndef BOUNCEDB_REPORT_H
#define BOUNCEDB_REPORT_H

#include <glib.h>
#include <bouncedb/version.h>

G_BEGIN_DECLS

typedef struct _BdbReport BdbReport;
typedef struct _BdbRecord BdbRecord;

typedef enum {
	BDB_KIND_NONE = 0,  /* not a report: ordinary mail */
	BDB_KIND_DSN,       /* delivery status notification, standard or not */
	BDB_KIND_ARF,       /* RFC 5965 feedback (complaint) report */
	BDB_KIND_AUTOREPLY, /* RFC 3834 auto-reply, vacation notice */
} BdbKind;

typedef enum {
	/* Per recipient. */
	BDB_FIELD_RECIPIENT = 0,        /* lowercased address that failed */
	BDB_FIELD_ORIGINAL_RECIPIENT,   /* ORCPT as the sender gave it */
	BDB_FIELD_RECIPIENT_SOURCE,     /* where the address came from: final-recipient, ... */
	BDB_FIELD_ACTION,               /* failed|delayed|delivered|relayed|expanded */
	BDB_FIELD_STATUS,               /* enhanced status code, refined by the diagnostic */
	BDB_FIELD_DSN_STATUS,           /* the Status: field as given */
	BDB_FIELD_REPLY_CODE,           /* 3-digit SMTP reply found in the diagnostic */
	BDB_FIELD_DIAGNOSTIC_TYPE,      /* smtp, x-unix, ... */
	BDB_FIELD_DIAGNOSTIC,           /* the remote server's words, unfolded */
	BDB_FIELD_REMOTE_MTA,
	BDB_FIELD_LAST_ATTEMPT,
	BDB_FIELD_WILL_RETRY_UNTIL,
	BDB_FIELD_SMTP_COMMAND,         /* the SMTP command that failed, when told */
	/* Per message. */
	BDB_FIELD_KIND,                 /* dsn|arf|autoreply */
	BDB_FIELD_EXTRACTOR,            /* which reader produced the records */
	BDB_FIELD_REPORTING_MTA,
	BDB_FIELD_RECEIVED_FROM_MTA,
	BDB_FIELD_ARRIVAL_DATE,
	BDB_FIELD_ENVELOPE_ID,          /* Original-Envelope-Id (ENVID) */
	BDB_FIELD_FEEDBACK_TYPE,
	BDB_FIELD_USER_AGENT,
	BDB_FIELD_SOURCE_IP,
	BDB_FIELD_REPORTED_DOMAIN,
	BDB_FIELD_ORIGINAL_MAIL_FROM,
	BDB_FIELD_MESSAGE_ID,           /* of the report itself */
	BDB_FIELD_DATE,                 /* of the report itself */
	BDB_FIELD_REPORT_FROM,
	BDB_FIELD_REPORT_SUBJECT,
	BDB_FIELD_ORIGINAL_MESSAGE_ID,  /* of the message that bounced */
	BDB_FIELD_ORIGINAL_FROM,
	BDB_FIELD_ORIGINAL_TO,
	BDB_FIELD_SUBJECT,              /* of the message that bounced */
	BDB_FIELD_ORIGINAL_DATE,
	BDB_FIELD_LIST_ID,
	BDB_FIELD_FEEDBACK_ID,
	/* The recipient the address the bounce came back to names, when that
	 * is a VERP address (bounces+alice=example.com@lists.example.org):
	 * the recipient when the report names nobody; else only compared. */
	BDB_FIELD_VERP_RECIPIENT,
	BDB_FIELD_COUNT
} BdbField;

/* The snake_case name of @field as used in JSON ("reply_code"); static. */
BDB_API const char *bdb_field_name (BdbField field);
/* TRUE when @field is a per-recipient field. */
BDB_API gboolean bdb_field_is_per_recipient (BdbField field);

/* Limits that keep hostile input from costing unbounded memory or time.
 * A message beyond a limit is refused with BDB_ERROR_LIMIT and a message
 * naming the limit; the caller quarantines it.  Zero in any field means
 * "the default".
 *
 * The header limits are checked on the raw bytes before the MIME parser
 * sees them, on every block that may be read as headers (the message's,
 * each part's, an attached message's or headers part's), counting every
 * line that starts with "--" as a part: a header bomb (one enormous field,
 * or millions of tiny ones) or a multipart bomb is refused in one linear
 * pass, never turned into millions of objects. */
/* Which readers a parse may use (BdbParseOptions.readers). */
typedef enum {
	/* All of them: the standard reports, the MTA-family layouts, the
	 * general reader of failure notices.  The default. */
	BDB_READERS_ALL = 0,
	/* The standard reports (RFC 3464, 5965, 2369, 3834) and the general
	 * reader only, without the MTA-family layouts: to measure what the
	 * general reader finds on its own. */
	BDB_READERS_NO_LAYOUTS,
} BdbReaderSet;

typedef struct {
	gsize max_message_size;        /* bytes read from one message (64 MiB) */
	guint max_recipients;          /* records from one report (1000) */
	guint max_depth;               /* nested multipart/message levels (16) */
	gsize max_header_size;         /* bytes in one header block (1 MiB) */
	gsize max_part_size;           /* bytes decoded from one report part (4 MiB) */
	gsize max_line_length;         /* bytes in one header line (64 KiB) */
	guint max_headers;             /* header fields in the whole message (10000) */
	guint max_parts;               /* MIME parts ("--" lines) in the message (1000) */
	gsize max_address_bytes;       /* bytes of From, To, Cc, Bcc, Sender, Reply-To
	                                * in the message's own header (8 KiB) */
	/* NULL-terminated names of extra original-message headers to keep,
	 * e.g. "X-Campaign-ID"; borrowed, may be NULL. */
	const char *const *keep_headers;
	/* NULL-terminated bounce addresses ("bounces@lists.example.org") whose
	 * VERP forms name a recipient, besides any "bounces+..." and Mailman's
	 * "LIST-bounces+..."; borrowed, may be NULL. */
	const char *const *verp_bases;
	BdbReaderSet readers;          /* BDB_READERS_ALL unless a test says */
} BdbParseOptions;

/* Fill @opts with the defaults. */
BDB_API void bdb_parse_options_init (BdbParseOptions *opts);

/* Parse one message held in memory.  @data is read only during the call.
 * @opts may be NULL for the defaults.  Returns a new report (free with
 * bdb_report_free()) or NULL with @error set (BDB_ERROR_LIMIT, or
 * BDB_ERROR_PARSE for input that is not a message at all).  Ordinary mail
 * is not an error: it gives a report of kind BDB_KIND_NONE. */
BDB_API BdbReport *bdb_report_parse_bytes (const char *data, gsize len,
                                           const BdbParseOptions *opts,
                                           GError **error);

/* Parse the message in the file @path ("-" is not special here). */
BDB_API BdbReport *bdb_report_parse_file (const char *path,
                                          const BdbParseOptions *opts,
                                          GError **error);

/* Parse the message readable from @fd until end of file (stdin, a pipe).
 * @name is used in error messages only. */
BDB_API BdbReport *bdb_report_parse_fd (int fd, const char *name,
                                        const BdbParseOptions *opts,
                                        GError **error);

BDB_API void bdb_report_free (BdbReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbReport, bdb_report_free)

BDB_API BdbKind bdb_report_kind (const BdbReport *report);
BDB_API guint bdb_report_n_records (const BdbReport *report);
/* Borrowed: valid while @report lives. */
BDB_API const BdbRecord *bdb_report_get_record (const BdbReport *report, guint i);
/* A per-message field, or NULL when absent.  Borrowed. */
BDB_API const char *bdb_report_get (const BdbReport *report, BdbField field);
/* Why a message that looks like a report could not be read completely
 * ("delivery-status part names no recipient"), or NULL.  Such a message
 * is kept for a human (quarantined).  Borrowed. */
BDB_API const char *bdb_report_problem (const BdbReport *report);
/* An original-message header named in BdbParseOptions.keep_headers, or
 * NULL.  Case-insensitive name.  Borrowed. */
BDB_API const char *bdb_report_header (const BdbReport *report, const char *name);
/* Vendor fields of the report (X-Postfix-Queue-ID, ...), in order.  Returns
 * FALSE past the end.  Borrowed. */
BDB_API gboolean bdb_report_get_extension (const BdbReport *report, guint i,
                                           const char **name, const char **value);
/* Envelope senders the report points at, in order: the one it states
 * (X-Postfix-Sender, ARF Original-Mail-From), the addresses the bounce was
 * delivered to (Delivered-To, X-Original-To, Envelope-To, To) and the
 * returned original's Return-Path: where a signed envelope sender
 * (sign.h) comes back.  NULL past the end.  Borrowed. */
BDB_API const char *bdb_report_get_sender_candidate (const BdbReport *report, guint i);
/* 32-byte SHA-256 identifying the message across redeliveries (the report's
 * Message-ID, Date and body, not the headers added on the way).  Borrowed. */
BDB_API const guint8 *bdb_report_fingerprint (const BdbReport *report);

/* A field of @record, falling back to its report's per-message fields; NULL
 * when absent.  Borrowed: valid while the report lives. */
BDB_API const char *bdb_record_get (const BdbRecord *record, BdbField field);
/* What tied the recipient of @record to a failure, when a reader of
 * human-written notices found it ("listing header: The following
 * recipients could not be reached:"), or how a forwarded report was found
 * ("forwarded as an attached message (message/rfc822)"); NULL for a
 * standard report.  Not the classification's evidence (BdbVerdict), which
 * is the field a rule read.  Borrowed: valid while the report lives. */
BDB_API const char *bdb_record_tied_by (const BdbRecord *record);
/* The report @record belongs to.  Borrowed. */
BDB_API const BdbReport *bdb_record_report (const BdbRecord *record);
/* When the event happened, in seconds since the epoch: Last-Attempt-Date,
 * else Arrival-Date, else the report's Date; 0 when none is readable. */
BDB_API gint64 bdb_record_time (const BdbRecord *record);

/* Helpers shared by readers and tests. */

/* Parse an RFC 5322 date; 0 when unreadable. */
BDB_API gint64 bdb_parse_date (const char *text);

G_END_DECLS

#endif
