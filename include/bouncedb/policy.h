/* bouncedb: what a classified report does to the database.
 *
 * The policy is plain data, filled by the caller (the CLI reads it from
 * bouncedb.conf): thresholds, windows and expiries.  Applying a report is
 * one call inside a write transaction; it is idempotent (a message applied
 * once is recognised by its fingerprint) and it never lets a bounce older
 * than a manual removal suppress the address again.
 */
#ifndef BOUNCEDB_POLICY_H
#define BOUNCEDB_POLICY_H

#include <glib.h>
#include <bouncedb/version.h>
#include <bouncedb/report.h>
#include <bouncedb/classify.h>
#include <bouncedb/store.h>
#include <bouncedb/sign.h>

G_BEGIN_DECLS

typedef struct {
	guint soft_threshold;      /* soft bounces (one per day) that make an address inactive (5) */
	guint soft_window_days;    /* counted over this many days; older ones go stale (30) */
	guint soft_span_days;      /* ... and only once they span at least this many days (3) */
	guint domain_threshold;    /* distinct hostunknown recipients that suppress a domain (3; 0 off) */
	gint64 expiry[BDB_REASON_COUNT]; /* seconds a suppression for this reason lasts; 0 = never */
	gint64 inactive_expiry;    /* seconds an "inactive" suppression lasts (180 days) */
	gint64 domain_expiry;      /* seconds a domain suppression lasts (90 days) */
	gboolean keep_local_case;  /* do not lowercase local parts */
	guint events_per_address;  /* history kept per address (20) */
	/* Forged-bounce protection (sign.h): when set, a record suppresses or
	 * counts only for the one address a token among the report's envelope
	 * senders is signed for (at most token_max_age_days old): its
	 * Original-Recipient or, failing that, its Final-Recipient.  Every
	 * other address it names gets a "forged" event and nothing else, and a
	 * domain is suppressed only after domain_threshold distinct signed
	 * recipients (a null MX no longer suffices alone).  Borrowed. */
	const BdbSigner *verifier;
	guint token_max_age_days;  /* (7) */
	/* Headers of the returned message that name its campaign, first found
	 * wins, for the change feed (else its Feedback-ID).  NULL-terminated,
	 * borrowed; NULL: none.  They must be among the parse options'
	 * keep_headers to be seen. */
	const char *const *campaign_headers;
} BdbPolicy;

/* The defaults: complaints and userunknown never expire. */
BDB_API void bdb_policy_init (BdbPolicy *policy);

/* What applying reports did, added up by bdb_policy_apply(). */
typedef struct {
	guint messages;            /* reports applied */
	guint duplicates;          /* reports already applied before (skipped) */
	guint records;
	guint suppressed;          /* addresses newly suppressed (hard, complaint, inactive) */
	guint confirmed;           /* existing suppressions seen again */
	guint complaints;
	guint soft;                /* soft bounces counted */
	guint inactive;            /* addresses suppressed by the soft threshold */
	guint sender;              /* our own problems, tallied per domain */
	guint success;
	guint delays;
	guint ignored;
	guint invalid;             /* records whose address could not be normalised */
	guint stale;               /* records older than a manual removal */
	guint domains;             /* domains newly suppressed */
	guint forged;              /* records refused: no valid signed envelope sender */
	guint repeated;            /* records not applied: another record of the same report
	                            * named the same address (a report counts once per address) */
} BdbApplyStats;

/* Add @from's counts to @to's. */
BDB_API void bdb_apply_stats_add (BdbApplyStats *to, const BdbApplyStats *from);

/* ---- what becomes of a message ----
 *
 * The one decision every command that reads mail takes (sweep, ingest),
 * so that they agree.  The safe answer wins: a message is only ever
 * marked processed (or deleted, if the caller was told to) when what it
 * said is in the database; a message nothing could be learned from is
 * kept for a person; a local failure leaves it where it is. */
typedef enum {
	BDB_OUTCOME_STORED = 0,    /* applied, now or before: mark it processed as told */
	BDB_OUTCOME_NOT_BOUNCE,    /* no report and nothing wrong: keep it (read once), never delete */
	BDB_OUTCOME_QUARANTINE,    /* unreadable, refused, or nothing learned from it: keep it apart */
	BDB_OUTCOME_RETRY,         /* a local failure: leave it as it is, read it again later */
	BDB_OUTCOME_VANISHED,      /* gone before it could be read (someone else took it) */
} BdbOutcome;

/* The outcome for one message: @report as read (NULL when reading failed
 * with @read_error), what applying it did (@applied; NULL when it was not
 * applied) or why applying it failed (@apply_error).  A failure that
 * comes from the message itself (BDB_ERROR_INVALID, _LIMIT, _PARSE,
 * _FORGED: it would fail again on every retry) quarantines it; any other
 * is local (disk, database, lock) and leaves it for a retry.  A report
 * whose every record was refused (no usable address, not signed) taught
 * nothing and is quarantined, as is one with a problem (bdb_report_problem).
 * *@why (may be NULL) gets a short reason for a kept or left message, or
 * NULL for a stored one; g_free() it. */
BDB_API BdbOutcome bdb_policy_outcome (const BdbReport *report, const GError *read_error,
                                       const BdbApplyStats *applied, const GError *apply_error,
                                       char **why);
/* A short English name for @outcome ("stored", "quarantine", ...).  Static:
 * not to be freed. */
BDB_API const char *bdb_outcome_name (BdbOutcome outcome);

/* A run's summary: messages by outcome, and what the stored ones did. */
typedef struct {
	guint64 messages;          /* every message met, whatever became of it */
	guint64 reports;           /* of which bounce reports (records found) */
	guint64 stored;            /* BDB_OUTCOME_STORED (applied now, or seen before) */
	guint64 not_bounces;       /* BDB_OUTCOME_NOT_BOUNCE */
	guint64 quarantined;       /* BDB_OUTCOME_QUARANTINE */
	guint64 left;              /* BDB_OUTCOME_RETRY: untouched, for the next run */
	guint64 vanished;          /* BDB_OUTCOME_VANISHED */
	BdbApplyStats applied;     /* added up over the messages applied */
} BdbOutcomeCounts;

/* Count one message: its @outcome, whether it was a @report, and what
 * applying it did (@applied, may be NULL), whatever the outcome: a message
 * quarantined for its forged records may have had genuine ones applied. */
BDB_API void bdb_outcome_count (BdbOutcomeCounts *counts, BdbOutcome outcome, gboolean report,
                                const BdbApplyStats *applied);

/* The address a record is kept under: Original-Recipient when it is a
 * valid address (what was sent to, before forwarding), else the
 * recipient; normalised.  NULL with @error (BDB_ERROR_INVALID) when
 * neither is usable.  g_free() it. */
BDB_API char *bdb_policy_record_address (const BdbPolicy *policy, const BdbRecord *record,
                                         GError **error);

/* Apply @report, whose records have the verdicts @verdicts (same order),
 * in @txn.  @arrival is when the message arrived; report dates after it
 * are not trusted.  Returns FALSE only on a database error. */
BDB_API gboolean bdb_policy_apply (const BdbPolicy *policy, BdbTxn *txn, const BdbReport *report,
                                   const BdbVerdict *verdicts, gint64 arrival,
                                   BdbApplyStats *stats, GError **error);

/* Suppress @address by hand (source "manual"); @expires 0 = never. */
BDB_API gboolean bdb_policy_add (const BdbPolicy *policy, BdbTxn *txn, const char *address,
                                 const char *reason, const char *note, gint64 expires,
                                 gint64 now, GError **error);
/* Lift any suppression of @address (or of a domain, when @address has no
 * '@'), clear its soft counter, and remember the removal so that older
 * reports cannot bring it back.  *@was_suppressed tells whether it was. */
BDB_API gboolean bdb_policy_remove (const BdbPolicy *policy, BdbTxn *txn, const char *address,
                                    gint64 now, gboolean *was_suppressed, GError **error);
/* ---- merging what other databases know (merge.c, doc/scale-out.md) ---- */

/* Join @other into @into: the later evidence wins whole (then the larger
 * count, then the fields' bytes); the latest removal is kept; the entry is
 * suppressed when its evidence is later than that removal.  Commutative,
 * associative, idempotent.  @into keeps its key, seq and changed_at. */
BDB_API void bdb_suppression_join (BdbSuppression *into, const BdbSuppression *other);
/* Same state, evidence and key (seq and changed_at aside). */
BDB_API gboolean bdb_suppression_equal (const BdbSuppression *a, const BdbSuppression *b);
/* Join two soft counters: the union of their days after the later
 * clearing mark, within @window_days of the newest (0: no window), the 64
 * newest; the last reason of the later last_seen.  Commutative,
 * associative, idempotent. */
BDB_API void bdb_soft_join (BdbSoftCounter *into, const BdbSoftCounter *other, guint window_days);
/* Take a change another database made (read from its feed): join its new
 * state with ours; tallies keep the larger count.  Deletions are not
 * taken (each database prunes its own).  *@changed tells whether the
 * database changed (the same change twice changes nothing). */
BDB_API gboolean bdb_policy_apply_change (const BdbPolicy *policy, BdbTxn *txn, const BdbChange *change,
                                          gboolean *changed, GError **error);

/* Merge an imported entry: bdb_suppression_join() with what the database
 * has.  Idempotent. */
BDB_API gboolean bdb_policy_merge (const BdbPolicy *policy, BdbTxn *txn, BdbTable table,
                                   const BdbSuppression *incoming, GError **error);

/* ---- messages left where they are read ----
 *
 * sweep --processed keep leaves stored messages in the Maildir, so the
 * next sweep reads them again and must know them.  Their fingerprints are
 * kept for as long as the messages can be read: each keep sweep refreshes
 * the fingerprint of every stored message it meets, and notes that it ran;
 * bdb_policy_prune() forgets a kept fingerprint only when it was not met
 * for the fingerprint retention counted back from the newest keep sweep
 * (not from now: when sweeps stop, nothing is forgotten).  Every Maildir
 * swept with keep must therefore be swept more often than that retention. */

/* The message of @report, stored, stays where it was read (at @now). */
BDB_API gboolean bdb_policy_keep (BdbTxn *txn, const BdbReport *report, gint64 now,
                                  GError **error);
/* A sweep that keeps messages ran at @now (after its last batch). */
BDB_API gboolean bdb_policy_keep_sweep (BdbTxn *txn, gint64 now, GError **error);

/* ---- forgetting what has served its time ---- */

/* How long prune keeps what it may forget, in seconds. */
typedef struct {
	gint64 events;             /* events (365 days) */
	gint64 fingerprints;       /* fingerprints of applied messages (90 days: longer
	                            * than any MTA retries); kept ones: see above */
	gint64 removals;           /* remembered manual removals (365 days) */
	gint64 feed;               /* changes of the feed every cursor has passed (90 days) */
	/* Cursors that hold the feed back whether or not they exist yet (a
	 * hook that has not run has taken nothing).  NULL-terminated,
	 * borrowed; NULL: only the cursors the database holds. */
	const char *const *feed_holders;
} BdbRetention;

BDB_API void bdb_retention_init (BdbRetention *retention);

/* What bdb_policy_prune() forgot. */
typedef struct {
	guint64 expired;           /* suppressions past their expiry (address and domain) */
	guint64 removals;          /* remembered removals past their retention */
	guint64 soft;              /* soft counters whose days all left the soft window */
	guint64 fingerprints;
	guint64 events;
	guint64 feed;              /* changes of the feed */
} BdbPruneStats;

/* Forget, in @txn, as of @now: expired suppressions, removals older than
 * their retention, soft counters whose newest day is soft_window_days old,
 * fingerprints, events and changes of the feed (those every cursor has
 * passed) older than their retention.  *@stats is set. */
BDB_API gboolean bdb_policy_prune (const BdbPolicy *policy, const BdbRetention *retention,
                                   BdbTxn *txn, gint64 now, BdbPruneStats *stats, GError **error);

G_END_DECLS

#endif
