/* The store's insides, shared by its files and nothing else, lowest first:
 *   store-env.c      the environment: opening, locks, transactions, map
 *                    growth, compaction, and LMDB errors
 *   store-layout.c   the byte layouts of suppressions and soft counters
 *   store-feed.c     the change feed, which every change goes through
 *   store-records.c  suppressions and soft counters
 *   store-log.c      events, processed-message fingerprints, tallies
 * Layering: these sit on codec.h and LMDB; policy.c and the CLI use
 * store.h only.  Not installed. */
#ifndef BOUNCEDB_STORE_PRIVATE_H
#define BOUNCEDB_STORE_PRIVATE_H

#include <lmdb.h>
#include <bouncedb/error.h>
#include <bouncedb/store.h>
#include "codec.h"

/* 2: the change feed (table "feed"; meta "id", "feed_seq", "cursor/NAME").
 * A bouncedb that knows only 1 would write without feeding: it refuses. */
#define SCHEMA_VERSION 2
#define RECORD_VERSION 1
/* LMDB's default (and Debian's) maximum key size. */
#define STORE_MAX_KEY 511
/* The longest address bdb_address_normalize() returns (RFC 5321). */
#define STORE_MAX_ADDRESS 254

typedef enum {
	/* The feed stores these numbers: new tables go at the end. */
	T_ADDRESS = 0, T_DOMAIN, T_SOFT, T_EVENTS, T_SEEN, T_TALLY, T_META, T_FEED, T_COUNT
} Table;

struct _BdbStore {
	MDB_env *env;
	MDB_dbi dbi[T_COUNT];
	gboolean present[T_COUNT];  /* FALSE: table absent in a read-only store */
	char *path;
	BdbStoreOptions opts;
	int lock_fd;                /* bouncedb.lock: held exclusive by the one writer */
	int users_fd;               /* bouncedb.open: held shared while the env is open */
	char id[40];                /* meta "id": "" when absent (read-only, old) */
};

struct _BdbTxn {
	BdbStore *store;
	MDB_txn *txn;
	gboolean map_full;          /* a put hit MDB_MAP_FULL: grow and retry */
	guint32 event_seq;
	guint64 feed_seq;           /* the last change's sequence number, once read */
	gboolean feed_seq_known;
	BdbChangeContext change;    /* what the changes are made for (strings borrowed) */
};

/* store_put() and store_del() for the tables the change feed follows
 * (suppressions, soft counters, tallies): the change is appended to the
 * feed in the same transaction (store-feed.c). */
gboolean store_put_followed (BdbTxn *txn, Table t, const void *key, gsize klen,
                             const GByteArray *value, GError **error);
/* The number and time the next change will have, taken now: for a record
 * that keeps its own (store_put_followed_as()). */
gboolean store_feed_reserve (BdbTxn *txn, guint64 *seq, gint64 *time, GError **error);
gboolean store_put_followed_as (BdbTxn *txn, Table t, const void *key, gsize klen,
                                const GByteArray *value, guint64 seq, gint64 time, GError **error);
gboolean store_del_followed (BdbTxn *txn, Table t, const void *key, gsize klen, GError **error);

/* LMDB's @rc as a BdbErrorCode, "@what: message". */
void store_set_mdb_error (GError **error, int rc, const char *what);
/* TRUE when @rc is 0; else the error (and, for MDB_MAP_FULL, a note on
 * @txn that the map must grow). */
gboolean store_check (BdbTxn *txn, int rc, const char *what, GError **error);

/* @name as a key of at most @max bytes (@max > 65): @name itself when it
 * fits, else its first bytes, cut back to the start of a UTF-8 character,
 * then '#' and the 64 hexadecimal digits of the SHA-256 of all of @name
 * (doc/store-format.md, "Bounded keys").  A prefix that fits in the kept
 * part still selects the key.  g_free(). */
char *store_bounded_name (const char *name, gsize max);

/* Point lookups.  A missing table or an impossible key is "not found". */
gboolean store_get (BdbTxn *txn, Table t, const void *key, gsize klen, MDB_val *val,
                    gboolean *found, GError **error);
gboolean store_put (BdbTxn *txn, Table t, const void *key, gsize klen, const GByteArray *value,
                    GError **error);
gboolean store_del (BdbTxn *txn, Table t, const void *key, gsize klen, GError **error);
/* A record that cannot be decoded: too new (BDB_ERROR_DB_VERSION) or
 * damaged (BDB_ERROR_DB_CORRUPT).  Returns FALSE. */
gboolean store_corrupt (GError **error, const char *what, guint8 version);

/* Records of the address and domain tables, and soft counters, to and
 * from their stored bytes (store-layout.c).  The decoders return NULL /
 * FALSE with @error when the bytes cannot be read. */
void store_encode_suppression (BdbWriter *w, const BdbSuppression *s);
/* Where a suppression record keeps its expiry (state at 1, kind at 2),
 * for readers that decode nothing else (check, filter). */
#define SUPP_EXPIRES_OFFSET (4 + 8 + 8)
BdbSuppression *store_decode_suppression (const char *key, gsize klen, const MDB_val *v, GError **error);
void store_encode_soft (BdbWriter *w, const BdbSoftCounter *c);
gboolean store_decode_soft (const MDB_val *v, BdbSoftCounter *c, GError **error);

/* What store_delete_where() does with one entry. */
typedef enum {
	STORE_KEEP,
	STORE_DELETE,
	STORE_STOP,
} StoreVerdict;
typedef StoreVerdict (*StoreWalkFunc) (const MDB_val *key, const MDB_val *value, gpointer data);
/* Walk table @t from the first key starting with @prefix (@plen bytes; 0:
 * the whole table) while keys keep that prefix, deleting the entries @fn
 * condemns, until @fn says stop.  *@removed (may be NULL) counts them. */
gboolean store_delete_where (BdbTxn *txn, Table t, const void *prefix, gsize plen, StoreWalkFunc fn,
                             gpointer data, guint64 *removed, const char *what, GError **error);

#endif
