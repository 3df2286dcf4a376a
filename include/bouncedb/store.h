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
} BdbSoftCounter;

/* TRUE with *@found FALSE when there is no counter. */
BDB_API gboolean bdb_txn_get_soft (BdbTxn *txn, const char *address, BdbSoftCounter *out,
                                   gboolean *found, GError **error);
BDB_API gboolean bdb_txn_put_soft (BdbTxn *txn, const char *address, const BdbSoftCounter *c,
                                   GError **error);
BDB_API gboolean bdb_txn_delete_soft (BdbTxn *txn, const char *address, GError **error);
typedef gboolean (*BdbSoftFunc) (const char *address, const BdbSoftCounter *c, gpointer data);
BDB_API gboolean bdb_txn_foreach_soft (BdbTxn *txn, BdbSoftFunc fn, gpointer data, GError **error);

/* ---- events: a short history per address ---- */

typedef struct {
	gint64 time;
	char disposition[16];
	char reason[32];
	char kind[16];              /* dsn, arf, autoreply, manual, import */
	char status[16];
	char reply_code[4];
	char *rule;                 /* owned; may be NULL */
	char *diagnostic;           /* owned, truncated; may be NULL */
	char *report_message_id;    /* owned; may be NULL */
} BdbEvent;

BDB_API void bdb_event_clear (BdbEvent *e);
/* Append an event for @address; keeps at most @keep events per address
 * (the oldest go).  @keep 0 keeps all. */
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
BDB_API gboolean bdb_txn_mark_seen (BdbTxn *txn, const guint8 fingerprint[32], gint64 when,
                                    GError **error);
BDB_API gboolean bdb_txn_prune_seen (BdbTxn *txn, gint64 before, guint64 *removed, GError **error);

/* ---- counters keyed by text: per-domain tallies ---- */

/* Add @n to the counter @name (e.g. "sender|example.com|blocked",
 * "hostunknown|example.com|user@example.com"). */
BDB_API gboolean bdb_txn_tally_add (BdbTxn *txn, const char *name, gint64 n, gint64 when,
                                    GError **error);
/* Counters whose name starts with @prefix, in name order. */
typedef gboolean (*BdbTallyFunc) (const char *name, guint64 count, gint64 last, gpointer data);
BDB_API gboolean bdb_txn_foreach_tally (BdbTxn *txn, const char *prefix, BdbTallyFunc fn,
                                        gpointer data, GError **error);
BDB_API gboolean bdb_txn_delete_tally (BdbTxn *txn, const char *name, GError **error);

/* Rewrite the database compactly: a copy without free pages is written
 * next to it, synced, and renamed over it.  Only when no other process has
 * the database open (every open store holds bouncedb.open shared; this
 * takes it exclusive, waiting up to lock_timeout_ms): otherwise
 * BDB_ERROR_DB_BUSY and nothing changes.  @store stays usable. */
BDB_API gboolean bdb_store_compact (BdbStore *store, GError **error);

G_END_DECLS

#endif
