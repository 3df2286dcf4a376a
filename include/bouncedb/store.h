/* bouncedb: the suppression database.
 *
 * One LMDB environment (a directory) holds every table: address and domain
 * suppressions, soft-bounce counters, a short event history per address,
 * the fingerprints of processed messages, per-domain tallies of our own
 * (sender-side) problems, and meta.  Values are versioned byte records
 * (doc/store-format.md), never raw structs.
 *
 * Writers are serialised by a lock file with a timeout (BDB_ERROR_DB_BUSY
 * past it), so a pipe delivery never hangs; readers never block and see a
 * consistent snapshot.  Writes go through bdb_store_write(), which grows
 * the map and re-runs the transaction when it fills up.
 */
#ifndef BOUNCEDB_STORE_H
#define BOUNCEDB_STORE_H

#include <glib.h>
#include <bouncedb/version.h>

G_BEGIN_DECLS

typedef struct _BdbStore BdbStore;
typedef struct _BdbTxn BdbTxn;

typedef struct {
	guint64 map_size;       /* initial map size in bytes (64 MiB) */
	guint64 map_size_max;   /* growth limit; past it BDB_ERROR_DB_FULL (16 GiB) */
	guint lock_timeout_ms;  /* how long a writer waits for the lock (10 s) */
	gboolean read_only;     /* open for reading only; never creates the database */
	guint dir_mode;         /* mode of a new database directory (0700) */
	guint file_mode;        /* mode of new database files (0600) */
	gint64 group;           /* -1 (default): private to the owner.  A group id:
	                         * a writable open gives the directory and files
	                         * to this group, readable (0750/0640), and
	                         * LMDB's lock.mdb group-writable (0660), which
	                         * LMDB readers need for their reader slot */
} BdbStoreOptions;

BDB_API void bdb_store_options_init (BdbStoreOptions *opts);

/* Open (creating unless read-only) the database in directory @dir.  Errors:
 * BDB_ERROR_NOT_FOUND (read-only and absent), BDB_ERROR_PERMISSION,
 * BDB_ERROR_DB_VERSION (written by a newer bouncedb), BDB_ERROR_DB.
 * Free with bdb_store_close(). */
BDB_API BdbStore *bdb_store_open (const char *dir, const BdbStoreOptions *opts, GError **error);
BDB_API void bdb_store_close (BdbStore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbStore, bdb_store_close)
/* The directory the store lives in.  Borrowed. */
BDB_API const char *bdb_store_path (const BdbStore *store);
/* Current and maximum map size, in bytes. */
BDB_API guint64 bdb_store_map_size (const BdbStore *store);
/* Bytes of the map in use (the pages written so far, free ones included). */
BDB_API guint64 bdb_store_used_size (const BdbStore *store);

/* ---- transactions ---- */

/* A read transaction: a consistent snapshot.  End it with bdb_txn_abort(). */
BDB_API BdbTxn *bdb_store_read (BdbStore *store, GError **error);

/* Run @fn in a write transaction and commit it durably.  When the map is
 * full, the transaction is aborted, the map grown and @fn run again from
 * the start: @fn must touch nothing outside the transaction (or reset it
 * itself on each run).  Returns FALSE with @error from @fn, or with
 * BDB_ERROR_DB_FULL past map_size_max, BDB_ERROR_DB_BUSY past the lock
 * timeout. */
typedef gboolean (*BdbWriteFunc) (BdbTxn *txn, gpointer data, GError **error);
BDB_API gboolean bdb_store_write (BdbStore *store, BdbWriteFunc fn, gpointer data, GError **error);
/* The same, but the transaction is always aborted: what would happen
 * (--dry-run).  @fn sees its own writes. */
BDB_API gboolean bdb_store_rehearse (BdbStore *store, BdbWriteFunc fn, gpointer data, GError **error);

BDB_API void bdb_txn_abort (BdbTxn *txn);

/* ---- suppressions ---- */

typedef enum {
	BDB_TABLE_ADDRESS = 0,  /* key: a normalised address */
	BDB_TABLE_DOMAIN,       /* key: a domain (ASCII, lowercase) */
} BdbTable;

typedef enum {
	BDB_STATE_SUPPRESSED = 1,
	BDB_STATE_REMOVED,      /* a remembered manual removal (tombstone) */
} BdbState;

/* Why an entry is suppressed: the kind of evidence, apart from the
 * classification reason. */
typedef enum {
	BDB_SUPPRESSION_HARD = 1,    /* a hard bounce */
	BDB_SUPPRESSION_COMPLAINT,   /* an ARF complaint */
	BDB_SUPPRESSION_INACTIVE,    /* too many soft bounces over too long */
	BDB_SUPPRESSION_MANUAL,      /* bouncedb add */
	BDB_SUPPRESSION_IMPORTED,    /* bouncedb import */
	BDB_SUPPRESSION_DOMAIN,      /* a domain that takes no mail */
} BdbSuppressionKind;

/* One suppression (or tombstone) with its evidence.  A plain value: every
 * string is owned by the struct (NULL when unknown) and freed by
 * bdb_suppression_free(). */
typedef struct {
	char *key;                   /* address or domain */
	BdbState state;
	BdbSuppressionKind kind;
	char *reason;                /* reason name: "userunknown", "feedback", ... */
	char *source;                /* dsn, arf, manual, import */
	char *status;
	char *reply_code;
	char *diagnostic;
	char *rule;                  /* id of the classification rule that decided */
	char *reporting_mta;
	char *remote_mta;
	char *report_message_id;
	char *original_message_id;
	char *note;
	gint64 first_seen;           /* seconds since the epoch */
	gint64 last_seen;
	gint64 expires;              /* 0: never */
	gint64 removed_at;           /* for BDB_STATE_REMOVED */
	guint32 count;               /* reports that confirmed it */
	/* Set by the store when it is written: the change feed's number for
	 * this change and when it was made (0 for entries of older versions). */
	guint64 seq;
	gint64 changed_at;
} BdbSuppression;

BDB_API BdbSuppression *bdb_suppression_new (const char *key);
BDB_API BdbSuppression *bdb_suppression_copy (const BdbSuppression *s);
BDB_API void bdb_suppression_free (BdbSuppression *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbSuppression, bdb_suppression_free)
BDB_API const char *bdb_suppression_kind_name (BdbSuppressionKind kind);
BDB_API gboolean bdb_suppression_kind_from_name (const char *name, BdbSuppressionKind *kind);
/* TRUE when @s suppresses mail at time @now (suppressed and not expired). */
BDB_API gboolean bdb_suppression_active (const BdbSuppression *s, gint64 now);

/* Look @key up in @table.  Returns TRUE and sets *@out (owned by the
 * caller) when found, TRUE with *@out NULL when absent, FALSE on error. */
BDB_API gboolean bdb_txn_get_suppression (BdbTxn *txn, BdbTable table, const char *key,
                                          BdbSuppression **out, GError **error);
BDB_API gboolean bdb_txn_put_suppression (BdbTxn *txn, BdbTable table,
                                          const BdbSuppression *s, GError **error);
/* Returns TRUE whether or not @key was present. */
BDB_API gboolean bdb_txn_delete_suppression (BdbTxn *txn, BdbTable table, const char *key,
                                             GError **error);
/* Call @fn for every entry of @table in key order, starting at @from (NULL:
 * the first).  @fn returns FALSE to stop.  The suppression is borrowed for
 * the call only. */
typedef gboolean (*BdbSuppressionFunc) (const BdbSuppression *s, gpointer data);
BDB_API gboolean bdb_txn_foreach_suppression (BdbTxn *txn, BdbTable table, const char *from,
                                              BdbSuppressionFunc fn, gpointer data, GError **error);
/* Number of entries in @table. */
BDB_API gboolean bdb_txn_count (BdbTxn *txn, BdbTable table, guint64 *count, GError **error);

/* Fast path for check/filter: is @address (already normalised) suppressed,
 * directly or through its domain, at time @now?  Decodes nothing unless it
 * must.  *@hit gets the deciding table's entry when @hit is not NULL. */
BDB_API gboolean bdb_txn_is_suppressed (BdbTxn *txn, const char *address, gint64 now,
                                        gboolean *suppressed, BdbSuppression **hit,
                                        GError **error);

/* ---- soft-bounce counters ---- */

#define BDB_SOFT_MAX_DAYS 64

/* The days (since the epoch, UTC) on which an address soft-bounced, oldest
 * first, at most one per day and at most BDB_SOFT_MAX_DAYS. */
typedef struct {
	guint n_days;
	guint32 days[BDB_SOFT_MAX_DAYS];
	gint64 last_seen;
	char last_reason[32];
	guint64 seq;                 /* set by the store, as for suppressions */
	gint64 changed_at;
	/* Days up to this one were cleared (by a success, a suppression, a
	 * removal): they never count again, here or when counters from other
	 * databases are merged.  0: never cleared. */
	guint32 cleared_day;
} BdbSoftCounter;

/* TRUE with *@found FALSE when there is no counter. */
BDB_API gboolean bdb_txn_get_soft (BdbTxn *txn, const char *address, BdbSoftCounter *out,
                                   gboolean *found, GError **error);
BDB_API gboolean bdb_txn_put_soft (BdbTxn *txn, const char *address, const BdbSoftCounter *c,
                                   GError **error);
BDB_API gboolean bdb_txn_delete_soft (BdbTxn *txn, const char *address, GError **error);
/* Clear the counter of @address up to @day (it keeps the mark, so that
 * older soft bounces merged from elsewhere stay cleared); nothing when
 * there is no counter. */
BDB_API gboolean bdb_txn_clear_soft (BdbTxn *txn, const char *address, guint32 day, GError **error);
typedef gboolean (*BdbSoftFunc) (const char *address, const BdbSoftCounter *c, gpointer data);
BDB_API gboolean bdb_txn_foreach_soft (BdbTxn *txn, BdbSoftFunc fn, gpointer data, GError **error);

/* ---- events: a short history per address ---- */

/* One event.  The strings behind the pointers are borrowed, never owned
 * by the struct: the caller's own while bdb_txn_add_event() runs, the
 * store's for the call of a BdbEventFunc. */
typedef struct {
	gint64 time;
	char disposition[16];
	char reason[32];
	char kind[16];              /* dsn, arf, autoreply, manual, import */
	char status[16];
	char reply_code[4];
	const char *rule;           /* may be NULL */
	const char *diagnostic;     /* may be NULL; stored cut to 512 bytes */
	const char *report_message_id; /* may be NULL */
} BdbEvent;

/* Append an event for @address; keeps at most @keep events per address
 * (the oldest go).  @keep 0 keeps all.  An address longer than 254 bytes
 * (which bdb_address_normalize() never returns) is kept, looked up and
 * handed back in a bounded form (doc/store-format.md). */
BDB_API gboolean bdb_txn_add_event (BdbTxn *txn, const char *address, const BdbEvent *e,
                                    guint keep, GError **error);
/* Events of one address, oldest first, or of all addresses (address NULL)
 * in key order.  The event is borrowed for the call. */
typedef gboolean (*BdbEventFunc) (const char *address, const BdbEvent *e, gpointer data);
BDB_API gboolean bdb_txn_foreach_event (BdbTxn *txn, const char *address, BdbEventFunc fn,
                                        gpointer data, GError **error);
/* Remove events older than @before; returns the number removed. */
BDB_API gboolean bdb_txn_prune_events (BdbTxn *txn, gint64 before, guint64 *removed,
                                       GError **error);
BDB_API gboolean bdb_txn_delete_events (BdbTxn *txn, const char *address, GError **error);

/* ---- processed messages ---- */

/* TRUE with *@seen set: has the message with this fingerprint been applied? */
BDB_API gboolean bdb_txn_seen (BdbTxn *txn, const guint8 fingerprint[32], gboolean *seen,
                               GError **error);
/* Remember the message as applied at @when. */
BDB_API gboolean bdb_txn_mark_seen (BdbTxn *txn, const guint8 fingerprint[32], gint64 when,
                                    GError **error);
/* The same, for a message left where it was read (sweep --processed keep),
 * which can be read again: @when is when it was last seen there. */
BDB_API gboolean bdb_txn_mark_kept (BdbTxn *txn, const guint8 fingerprint[32], gint64 when,
                                    GError **error);
/* Every fingerprint, with when it was marked and whether it is kept.  The
 * fingerprint is borrowed for the call. */
typedef gboolean (*BdbSeenFunc) (const guint8 *fingerprint, gint64 when, gboolean kept,
                                 gpointer data);
BDB_API gboolean bdb_txn_foreach_seen (BdbTxn *txn, BdbSeenFunc fn, gpointer data, GError **error);
/* Forget fingerprints marked before @before, kept ones before @kept_before
 * (bdb_policy_prune() decides both). */
BDB_API gboolean bdb_txn_prune_seen (BdbTxn *txn, gint64 before, gint64 kept_before,
                                     guint64 *removed, GError **error);

/* ---- meta: the database's own facts, text by name ---- */

/* *@value (g_free) gets the value of @key, or NULL when there is none. */
BDB_API gboolean bdb_txn_get_meta (BdbTxn *txn, const char *key, char **value, GError **error);
BDB_API gboolean bdb_txn_put_meta (BdbTxn *txn, const char *key, const char *value,
                                   GError **error);

/* ---- counters keyed by text: per-domain tallies ---- */

/* Add @n to the counter @name (e.g.
 * "hostunknown|example.com|user@example.com"), remembering the earliest
 * and the latest @when.  A name longer than 511 bytes is kept in a bounded
 * form (its start, '#', a SHA-256: doc/store-format.md), which is the name
 * bdb_txn_foreach_tally() gives back and which its first 446 bytes still
 * select. */
BDB_API gboolean bdb_txn_tally_add (BdbTxn *txn, const char *name, gint64 n, gint64 when,
                                    GError **error);
/* The counter @name (0 and 0 when absent), and setting it outright (its
 * earliest time stays this database's own). */
BDB_API gboolean bdb_txn_get_tally (BdbTxn *txn, const char *name, guint64 *count, gint64 *last,
                                    GError **error);
BDB_API gboolean bdb_txn_set_tally (BdbTxn *txn, const char *name, guint64 count, gint64 last,
                                    GError **error);
/* Counters whose name starts with @prefix, in name order. */
typedef gboolean (*BdbTallyFunc) (const char *name, guint64 count, gint64 last, gpointer data);
BDB_API gboolean bdb_txn_foreach_tally (BdbTxn *txn, const char *prefix, BdbTallyFunc fn,
                                        gpointer data, GError **error);
/* The same, with the earliest time added too. */
typedef gboolean (*BdbTallySpanFunc) (const char *name, guint64 count, gint64 first, gint64 last,
                                      gpointer data);
BDB_API gboolean bdb_txn_foreach_tally_span (BdbTxn *txn, const char *prefix, BdbTallySpanFunc fn,
                                             gpointer data, GError **error);
BDB_API gboolean bdb_txn_delete_tally (BdbTxn *txn, const char *name, GError **error);

/* ---- the change feed ---------------------------------------------------- */

/* Every change to a suppression, a soft counter or a tally is recorded, in
 * the transaction that makes it, as one entry of the feed: its sequence
 * number (per database, from 1, without gaps, in commit order), the time,
 * the key and its new state.  What the changes are made for is told by
 * the writer with bdb_txn_set_change(); the feed is what hooks, list
 * managers and other hosts read (doc/store-format.md, doc/scale-out.md). */
typedef struct {
	gint64 time;                  /* when the change is made (ingest time); 0: now */
	const char *disposition;      /* suppress, complaint, soft, sender, success,
	                               * manual, import, ... (for hooks' filters) */
	const char *report_message_id;
	const char *campaign;         /* the returned message's campaign, or NULL */
	const char *list_id;          /* its List-Id, or NULL */
	const guint8 *fingerprint;    /* the report's (32 bytes), or NULL */
	const char *origin;           /* the database a replicated change came
	                               * from (bdb_store_id()); NULL: this one */
	guint64 origin_seq;           /* its sequence number there */
} BdbChangeContext;

/* The changes @txn makes from now on are made for @ctx (copied; its
 * strings are borrowed until the next call or the end of the
 * transaction); NULL: no context. */
BDB_API void bdb_txn_set_change (BdbTxn *txn, const BdbChangeContext *ctx);

/* One entry of the feed, as read back.  Every pointer is borrowed for the
 * duration of the callback; strings are NULL when unknown. */
typedef struct {
	guint64 seq;
	gint64 time;
	const char *table;            /* "address", "domain", "soft" or "tally" */
	const char *change;           /* suppressed, complaint, inactive, added,
	                               * imported, confirmed, removed, deleted,
	                               * soft, cleared, sender, tally */
	const char *key;
	const char *disposition;
	const char *report_message_id;
	const char *campaign;
	const char *list_id;
	const char *origin;
	guint64 origin_seq;
	gboolean has_fingerprint;
	guint8 fingerprint[32];
	gboolean deleted;             /* the key no longer holds anything */
	const BdbSuppression *suppression;  /* the new state (address, domain) */
	const BdbSoftCounter *soft;         /* the new state (soft) */
	guint64 tally_count;                /* the new state (tally) */
	gint64 tally_last;
} BdbChange;

typedef gboolean (*BdbChangeFunc) (const BdbChange *change, gpointer data);
/* Call @fn for every change with a sequence number above @after, in
 * order, until it returns FALSE. */
BDB_API gboolean bdb_txn_foreach_change (BdbTxn *txn, guint64 after, BdbChangeFunc fn,
                                         gpointer data, GError **error);
/* The sequence number of the last change (0: none yet). */
BDB_API gboolean bdb_txn_last_change (BdbTxn *txn, guint64 *seq, GError **error);
/* Drop changes older than @before, except those above @keep_after (not
 * yet taken by every consumer).  *@removed counts them. */
BDB_API gboolean bdb_txn_prune_changes (BdbTxn *txn, gint64 before, guint64 keep_after,
                                        guint64 *removed, GError **error);

/* bdb_txn_prune_changes() keeping every change that some cursor (below)
 * has not passed yet. */
BDB_API gboolean bdb_txn_prune_feed (BdbTxn *txn, gint64 before, guint64 *removed, GError **error);

/* Cursors: how far a consumer of the feed (a hook, a publisher) has
 * taken it, by name.  0 when it has taken nothing. */
BDB_API gboolean bdb_txn_get_cursor (BdbTxn *txn, const char *name, guint64 *seq, GError **error);
BDB_API gboolean bdb_txn_set_cursor (BdbTxn *txn, const char *name, guint64 seq, GError **error);
typedef gboolean (*BdbCursorFunc) (const char *name, guint64 seq, gpointer data);
BDB_API gboolean bdb_txn_foreach_cursor (BdbTxn *txn, BdbCursorFunc fn, gpointer data, GError **error);
/* Forget the consumer @name: its cursor and its state (below), so that
 * what it held back can be pruned.  TRUE whether or not it was known. */
BDB_API gboolean bdb_txn_delete_cursor (BdbTxn *txn, const char *name, GError **error);

/* What a consumer that retries (a hook) last met, kept beside its cursor
 * so that the cursor and the state of the attempt that moved it commit
 * together.  last_error is owned: clear with bdb_cursor_state_clear(). */
typedef struct {
	guint32 failures;          /* attempts failed in a row; 0 once one works */
	guint64 failed_seq;        /* the change the last failure was on */
	gint64 last_attempt;       /* when the last attempt ended (0: never) */
	gint64 last_success;       /* when a change was last taken */
	gint64 next_attempt;       /* no attempt before this (0: at once) */
	char *last_error;          /* what the last failure said, or NULL */
} BdbCursorState;

BDB_API void bdb_cursor_state_clear (BdbCursorState *st);
/* TRUE with *@found FALSE (and @out zeroed) when there is none. */
BDB_API gboolean bdb_txn_get_cursor_state (BdbTxn *txn, const char *name, BdbCursorState *out,
                                           gboolean *found, GError **error);
BDB_API gboolean bdb_txn_set_cursor_state (BdbTxn *txn, const char *name, const BdbCursorState *st,
                                           GError **error);

/* The database's id: random, made when it was created, the same in every
 * copy of its files.  Borrowed; "" for a database too old to have one
 * opened read-only. */
BDB_API const char *bdb_store_id (const BdbStore *store);

/* Rewrite the database compactly: a copy without free pages is written
 * next to it, synced, and renamed over it.  Only when no other process has
 * the database open (every open store holds bouncedb.open shared; this
 * takes it exclusive, waiting up to lock_timeout_ms): otherwise
 * BDB_ERROR_DB_BUSY and nothing changes.  @store stays usable. */
BDB_API gboolean bdb_store_compact (BdbStore *store, GError **error);
/* Is a compaction of the database in @dir waiting for the others to close
 * it?  bdb_store_compact() says so (bouncedb.compact, locked while it
 * runs) before it waits: a long-running reader (serve) that polls this
 * closes its store and opens it again once it is FALSE. */
BDB_API gboolean bdb_store_compaction_pending (const char *dir);

G_END_DECLS

#endif
