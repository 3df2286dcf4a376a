/* Delivery reports that a person forwarded: the message inside a
 * forwarding message, found for parse.c to read as a report of its own.
 * Not installed.
 *
 * Layering: above the view (it reads the forwarding message's view) and
 * the report model (it moves records between reports), below parse.c,
 * which parses the message found and runs its readers on it. */
#ifndef BOUNCEDB_FORWARD_H
#define BOUNCEDB_FORWARD_H

#include "view.h"

typedef enum {
	BDB_FORWARD_NONE = 0,
	BDB_FORWARD_ATTACHED,   /* attached as message/rfc822 */
	BDB_FORWARD_QUOTED,     /* quoted with "> ", its header block first */
	BDB_FORWARD_INLINE,     /* under a "Forwarded message" line, its header block first */
} BdbForwardKind;

/* The message that the (non-bounce) message of @view forwards, as bytes
 * to parse: an attached message, or a quoted or inline one rebuilt from
 * its header block and its text.  NULL when there is none; *@kind says how
 * it was forwarded.  Free with g_bytes_unref(). */
GBytes *bdb_forwarded_message (const BdbMessageView *view, BdbForwardKind *kind);

/* How a message was forwarded, in words ("forwarded as an attached
 * message"); static. */
const char *bdb_forward_kind_name (BdbForwardKind kind);

/* Move the records of @inner (the report read from the forwarded message)
 * into @report (the forwarding message's), with what the inner report
 * says of the bounced message, its envelope senders and its reader; never
 * a record for the forwarding message's own From or To.  @inner is left
 * empty.  Returns the number of records moved. */
guint bdb_report_adopt_forwarded (BdbReport *report, BdbReport *inner, BdbForwardKind kind,
                                  const BdbMessageView *view);

#endif
