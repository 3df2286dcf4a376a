/* Readers for bounces that are not RFC 3464 reports: one small extractor
 * per family of MTA, behind one interface.  Not installed.
 *
 * A family's detect() looks at headers and fixed phrases only; its
 * extract() reads the notice (the human-readable text above the returned
 * message) with the layouts of layout.h and adds one record per failed
 * recipient through bdb_notice_add(), which refuses addresses that are
 * ours (the sender's, the bounce's own) and keeps each recipient once.
 */
#ifndef BOUNCEDB_NOTICE_H
#define BOUNCEDB_NOTICE_H

#include "readers.h"
#include "../text.h"

typedef struct {
	const char *name;
	/* Cheap test on headers and text: is this message of my family? */
	gboolean (*detect) (const BdbMessageView *view, const BdbReport *report);
	/* Fill records in @report; TRUE when at least one was added. */
	gboolean (*extract) (const BdbMessageView *view, BdbReport *report);
} BdbExtractor;

/* ---- what the extractors share ----------------------------------------- */

/* The notice of one message, being read. */
typedef struct {
	const BdbMessageView *view;
	BdbReport *report;
	const char *text;      /* the human-readable text (view->text) */
	const char *end;       /* where the returned message starts in it */
	const char *action;    /* "failed"; "delayed" for a warning, "delivered"
	                        * for a success notice */
	char *ours[3];         /* lowercased addresses that are never a failed
	                        * recipient: the bounce's To and From, the
	                        * original's From (owned) */
	GHashTable *added;     /* recipient (interned) -> its record, so that
	                        * each is found at once; owned, made when needed */
} BdbNotice;

void bdb_notice_init (BdbNotice *n, const BdbMessageView *view, BdbReport *report);
void bdb_notice_clear (BdbNotice *n);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BdbNotice, bdb_notice_clear)

/* Add a record for the address [@addr, @addr + @addr_len) with the
 * diagnostic @diag (@diag_len bytes, -1: NUL-terminated; may be NULL).
 * Returns NULL when the address is unreadable or ours.  A recipient
 * already reported gets the diagnostic only if it had none. */
BdbRecord *bdb_notice_add (BdbNotice *n, const char *addr, gsize addr_len,
                           const char *diag, gssize diag_len, const char *source);
/* bdb_notice_add() for each address of @bounds (start, end, start, end...
 * pointers into the text), all with the one diagnostic @diag (may be
 * empty), from the text.  Returns how many records were added. */
guint bdb_notice_add_each (BdbNotice *n, const GPtrArray *bounds, const GString *diag);

/* Is @addr (NUL-terminated, any case) one of ours? */
gboolean bdb_notice_is_ours (const BdbNotice *n, const char *addr, gsize len);

/* Does the notice report a delivery (a success notice)? */
gboolean bdb_notice_is_success (const char *text, const char *end);

/* Does the notice say the delivery is only delayed? */
gboolean bdb_notice_is_warning (const BdbMessageView *view, const BdbReport *report,
                                const char *text, const char *end);

/* The families, in text-bounce.c's order. */
extern const BdbExtractor bdb_extractor_ses;
extern const BdbExtractor bdb_extractor_mailinglist;
extern const BdbExtractor bdb_extractor_exchange;
extern const BdbExtractor bdb_extractor_notes;
extern const BdbExtractor bdb_extractor_gmail;
extern const BdbExtractor bdb_extractor_qmail;
extern const BdbExtractor bdb_extractor_postfix;
extern const BdbExtractor bdb_extractor_exim;
extern const BdbExtractor bdb_extractor_sendmail;
extern const BdbExtractor bdb_extractor_gateway;
extern const BdbExtractor bdb_extractor_carrier_jp;
extern const BdbExtractor bdb_extractor_generic;

#endif
