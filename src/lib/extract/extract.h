/* Readers for bounces that are not RFC 3464 reports: one small extractor
 * per family of MTA, behind one interface.  Not installed. */
#ifndef BOUNCEDB_EXTRACT_H
#define BOUNCEDB_EXTRACT_H

#include "../report-private.h"

typedef struct {
	const char *name;
	/* Cheap test on headers and text: is this message of my family? */
	gboolean (*detect) (const BdbMessageView *view, const BdbReport *report);
	/* Fill records in @report; TRUE when at least one was added. */
	gboolean (*extract) (const BdbMessageView *view, BdbReport *report);
} BdbExtractor;

/* Try every extractor whose detect() accepts the message, in order; TRUE
 * when one of them produced records. */
gboolean bdb_extract_text_bounce (const BdbMessageView *view, BdbReport *report);

#endif
