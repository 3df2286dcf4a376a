/* What a diagnostic says: the finders of codes in prose, and the final
 * status of a record.  Not installed.
 *
 * Layering: beside the report model; used by the readers, the dispatcher
 * (parse.c, to finish records) and the classifier, which needs only the
 * finders and so no GMime. */
#ifndef BOUNCEDB_DIAG_H
#define BOUNCEDB_DIAG_H

#include <bouncedb/report.h>

/* An RFC 3463 code: class 2, 4 or 5, then 1-3 digits, a dot, 1-3 digits. */
gboolean bdb_status_is_valid (const char *code);
/* The finders write into caller buffers (no allocation). */
gboolean bdb_find_enhanced_code (const char *text, char out[16]);
gboolean bdb_find_reply_code (const char *text, char out[4]);
/* The SMTP command a text says failed ("RCPT"), or NULL.  Static. */
const char *bdb_find_smtp_command (const char *text);
/* Does the transcript in @text show RCPT and DATA pipelined (RFC 2920):
 * after ">>> DATA", a reply saying no recipient was taken ("503 ... need
 * RCPT", "554 no valid recipients")?  Then every refusal logged after
 * ">>> DATA" answered a RCPT. */
gboolean bdb_transcript_pipelined (const char *text);

/* Derive STATUS, REPLY_CODE and SMTP_COMMAND of @record from its
 * DSN_STATUS and DIAGNOSTIC (whose repeated continuation codes are
 * dropped).  Done once, after a reader has finished. */
void bdb_diag_finish_record (BdbRecord *record);

#endif
