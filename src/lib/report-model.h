/* The report model: BdbReport and BdbRecord, and the builders the readers
 * fill them with.  Not installed.
 *
 * Layers of the parse side, each calling only those below it:
 *   parse.c     public entry points, I/O, GMime, the reader table
 *   readers/    one file per format: turn a view into records
 *   view.c      the MIME walk: what a reader reads (view.h)
 *   report.c    this model; limits.c, diag.c, fields.c, text.c beside it
 */
#ifndef BOUNCEDB_REPORT_MODEL_H
#define BOUNCEDB_REPORT_MODEL_H

#include <bouncedb/report.h>

struct _BdbRecord {
	const char *v[BDB_FIELD_COUNT];  /* interned in the report; NULL = absent */
	BdbReport *report;
	/* What the human-readable part says about this recipient (interned):
	 * read for what the status part leaves out, never output. */
	const char *context;
	/* What tied the recipient to a failure (bdb_record_tied_by()),
	 * interned; NULL for a standard report. */
	const char *tied_by;
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

BdbReport *bdb_report_new (void);

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

#endif
