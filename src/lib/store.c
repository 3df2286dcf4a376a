/* The suppression database on LMDB.
 *
 * Why it looks like this:
 * - One environment, named tables, values in versioned byte layouts
 *   (codec.h, doc/store-format.md): a newer bouncedb can read old data and
 *   an older one refuses new data instead of misreading it.
 * - Writers take a lock file with a timeout before LMDB's own writer
 *   mutex, which has none: a pipe delivery must give up (exit 75) rather
 *   than hang when a long sweep holds the database.
 * - A write is a function run in a transaction.  When the map fills, the
 *   transaction is aborted, the map doubled (no transaction is active
 *   then, as lmdb.h requires) and the function run again, up to a limit.
 * - LMDB errors are translated to BdbErrorCode here and nowhere else.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lmdb.h>

#include <bouncedb/error.h>
#include <bouncedb/store.h>
#include "codec.h"

#define SCHEMA_VERSION 1
#define RECORD_VERSION 1

typedef enum {
	T_ADDRESS = 0, T_DOMAIN, T_SOFT, T_EVENTS, T_SEEN, T_TALLY, T_META, T_COUNT
} Table;

static const char *const table_names[T_COUNT] = {
	[T_ADDRESS] = "address", [T_DOMAIN] = "domain", [T_SOFT] = "soft",
	[T_EVENTS] = "events", [T_SEEN] = "seen", [T_TALLY] = "tally", [T_META] = "meta",
};

struct _BdbStore {
	MDB_env *env;
	MDB_dbi dbi[T_COUNT];
	gboolean present[T_COUNT];  /* FALSE: table absent in a read-only store */
	char *path;
	BdbStoreOptions opts;
	int lock_fd;                /* bouncedb.lock: held exclusive by the one writer */
	int users_fd;               /* bouncedb.open: held shared while the env is open */
};

struct _BdbTxn {
	BdbStore *store;
	MDB_txn *txn;
	gboolean map_full;          /* a put hit MDB_MAP_FULL: grow and retry */
	guint32 event_seq;
};

/* ---- errors ------------------------------------------------------------ */

static void
set_mdb_error (GError **error, int rc, const char *what)
{
	BdbErrorCode code;
	const char *msg = mdb_strerror (rc);
	switch (rc) {
	case MDB_MAP_FULL:
		code = BDB_ERROR_DB_FULL;
		msg = "database full";
		break;
	case ENOSPC:
	case EDQUOT:
		code = BDB_ERROR_DB_FULL;
		msg = "no space left on the device";
		break;
	case EACCES:
	case EPERM:
	case EROFS:
		code = BDB_ERROR_PERMISSION;
		break;
	case ENOENT:
		code = BDB_ERROR_NOT_FOUND;
		break;
	case MDB_VERSION_MISMATCH:
	case MDB_INVALID:
		code = BDB_ERROR_DB_VERSION;
		break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
		code = BDB_ERROR_DB_CORRUPT;
		break;
	case MDB_READERS_FULL:
	case EAGAIN:
		code = BDB_ERROR_DB_BUSY;
		break;
	case ENOMEM:
		code = BDB_ERROR_DB;
		msg = "out of memory";
		break;
	default:
		code = BDB_ERROR_DB;
		break;
	}
	g_set_error (error, BDB_ERROR, code, "%s: %s", what, msg);
}

static gboolean
check (BdbTxn *txn, int rc, const char *what, GError **error)
{
	if (rc == 0)
		return TRUE;
	if (rc == MDB_MAP_FULL && txn)
		txn->map_full = TRUE;
	set_mdb_error (error, rc, what);
	return FALSE;
}

/* ---- opening ----------------------------------------------------------- */

void
bdb_store_options_init (BdbStoreOptions *opts)
{
	memset (opts, 0, sizeof *opts);
	opts->map_size = 64ull << 20;
	opts->map_size_max = 16ull << 30;
	opts->lock_timeout_ms = 10000;
	opts->dir_mode = 0700;
	opts->file_mode = 0600;
}

static int
put_meta (MDB_txn *t, MDB_dbi dbi, const char *key, const char *value)
{
	MDB_val k = { strlen (key), (void *) key }, v = { strlen (value), (void *) value };
	return mdb_put (t, dbi, &k, &v, 0);
}

/* Open the tables; in a writable store create what is missing and stamp
 * the schema version, in a read-only one note what is absent. */
static gboolean
open_tables (BdbStore *s, GError **error)
{
	MDB_txn *t;
	int rc = mdb_txn_begin (s->env, NULL, s->opts.read_only ? MDB_RDONLY : 0, &t);
	if (rc)
		return check (NULL, rc, "cannot start a transaction", error);
	for (int i = 0; i < T_COUNT; i++) {
		rc = mdb_dbi_open (t, table_names[i], s->opts.read_only ? 0 : MDB_CREATE, &s->dbi[i]);
		if (rc == MDB_NOTFOUND && s->opts.read_only)
			continue;
		if (rc) {
			mdb_txn_abort (t);
			return check (NULL, rc, "cannot open table", error);
		}
		s->present[i] = TRUE;
	}
	if (s->present[T_META]) {
		MDB_val k = { 6, (void *) "schema" }, v;
		rc = mdb_get (t, s->dbi[T_META], &k, &v);
		if (rc == 0) {
			g_autofree char *ver = g_strndup (v.mv_data, v.mv_size);
			if (atoi (ver) > SCHEMA_VERSION) {
				mdb_txn_abort (t);
				g_set_error (error, BDB_ERROR, BDB_ERROR_DB_VERSION,
				             "database schema %s is newer than this bouncedb understands (%d)",
				             ver, SCHEMA_VERSION);
				return FALSE;
			}
		} else if (rc == MDB_NOTFOUND && !s->opts.read_only) {
			char now[32];
			g_snprintf (now, sizeof now, "%" G_GINT64_FORMAT, (gint64) time (NULL));
			rc = put_meta (t, s->dbi[T_META], "schema", G_STRINGIFY (SCHEMA_VERSION));
			if (!rc)
				rc = put_meta (t, s->dbi[T_META], "created", now);
			if (rc) {
				mdb_txn_abort (t);
				return check (NULL, rc, "cannot write the schema version", error);
			}
		}
	}
	/* Committed even when read-only: dbi handles opened in a transaction
	 * that is aborted are discarded with it. */
	rc = mdb_txn_commit (t);
	return check (NULL, rc, "cannot initialise the database", error);
}

/* flock(@fd, @op) with LOCK_NB, retried with a growing sleep for up to
 * @timeout_ms.  FALSE with errno EWOULDBLOCK when the time ran out. */
static gboolean
flock_wait (int fd, int op, guint timeout_ms)
{
	guint waited = 0, step = 1;
	for (;;) {
		if (flock (fd, op | LOCK_NB) == 0)
			return TRUE;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return FALSE;
		if (waited >= timeout_ms) {
			errno = EWOULDBLOCK;
			return FALSE;
		}
		g_usleep (step * 1000);
		waited += step;
		step = MIN (step * 2, 50u);
	}
}

static gboolean
lock_writer (BdbStore *s, GError **error)
{
	if (flock_wait (s->lock_fd, LOCK_EX, s->opts.lock_timeout_ms))
		return TRUE;
	if (errno == EWOULDBLOCK)
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_BUSY,
		             "database busy: another writer held it for %u ms", s->opts.lock_timeout_ms);
	else
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB, "cannot lock the database: %s",
		             g_strerror (errno));
	return FALSE;
}

static void
unlock_writer (BdbStore *s)
{
	flock (s->lock_fd, LOCK_UN);
}

/* Every process holds bouncedb.open shared for as long as its environment
 * is open; only `prune --compact` takes it exclusive, so a compacted file
 * is never swapped under an environment that maps the old one (LMDB's lock
 * file would then pick the wrong meta page: an empty database).  A
 * read-only opener that can neither open nor create the file (another
 * user's database that no bouncedb of this version has written yet) goes
 * without. */
static gboolean
join_users (BdbStore *s, GError **error)
{
	g_autofree char *path = g_build_filename (s->path, "bouncedb.open", NULL);
	mdb_mode_t mode = (mdb_mode_t) (s->opts.file_mode ? s->opts.file_mode : 0600);
	/* flock needs no write access: a reader never creates the file, and
	 * nobody is locked out by a copy another user created. */
	s->users_fd = open (path, O_RDONLY | O_CLOEXEC);
	if (s->users_fd < 0 && errno == ENOENT && !s->opts.read_only)
		s->users_fd = open (path, O_RDONLY | O_CREAT | O_CLOEXEC, mode);
	if (s->users_fd < 0) {
		int e = errno;
		if (s->opts.read_only)
			return TRUE;
		g_set_error (error, BDB_ERROR, e == EACCES || e == EPERM || e == EROFS ? BDB_ERROR_PERMISSION : BDB_ERROR_IO,
		             "cannot open %s: %s", path, g_strerror (e));
		return FALSE;
	}
	if (flock_wait (s->users_fd, LOCK_SH, s->opts.lock_timeout_ms))
		return TRUE;
	if (errno == EWOULDBLOCK)
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_BUSY,
		             "database busy: being compacted for more than %u ms", s->opts.lock_timeout_ms);
	else
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB, "cannot lock the database: %s", g_strerror (errno));
	return FALSE;
}

/* Create and open the LMDB environment of @s and its tables. */
static gboolean
open_env (BdbStore *s, GError **error)
{
	int rc = mdb_env_create (&s->env);
	if (!rc)
		rc = mdb_env_set_maxdbs (s->env, T_COUNT + 2);
	if (!rc)
		rc = mdb_env_set_maxreaders (s->env, 254);
	if (!rc)
		rc = mdb_env_set_mapsize (s->env, s->opts.map_size);
	if (rc)
		return check (NULL, rc, "cannot set up the database", error);
	/* MDB_NOTLS: read transactions are not tied to a thread, so parsing
	 * threads and the writer can share the environment. */
	unsigned flags = MDB_NOTLS | (s->opts.read_only ? MDB_RDONLY : 0);
	mdb_mode_t mode = (mdb_mode_t) (s->opts.file_mode ? s->opts.file_mode : 0600);
	rc = mdb_env_open (s->env, s->path, flags, mode);
	if ((rc == EACCES || rc == EROFS) && s->opts.read_only) {
		/* A read-only directory (another user's, a read-only mount): no
		 * lock file can be written, read without one. */
		mdb_env_close (s->env);
		s->env = NULL;
		if (!(rc = mdb_env_create (&s->env)) && !(rc = mdb_env_set_maxdbs (s->env, T_COUNT + 2)))
			rc = mdb_env_open (s->env, s->path, flags | MDB_NOLOCK, mode);
	}
	if (rc)
		return check (NULL, rc, "cannot open the database", error);
	int dead = 0;
	mdb_reader_check (s->env, &dead);
	return TRUE;
}

BdbStore *
bdb_store_open (const char *dir, const BdbStoreOptions *opts, GError **error)
{
	BdbStore *s = g_new0 (BdbStore, 1);
	if (opts)
		s->opts = *opts;
	else
		bdb_store_options_init (&s->opts);
	if (!s->opts.map_size)
		s->opts.map_size = 64ull << 20;
	if (s->opts.map_size_max < s->opts.map_size)
		s->opts.map_size_max = s->opts.map_size;
	s->path = g_strdup (dir);
	s->lock_fd = -1;
	s->users_fd = -1;

	if (s->opts.read_only) {
		g_autofree char *data = g_build_filename (dir, "data.mdb", NULL);
		if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || !g_file_test (data, G_FILE_TEST_EXISTS)) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_NOT_FOUND, "no database here");
			bdb_store_close (s);
			return NULL;
		}
	} else if (g_mkdir_with_parents (dir, (int) (s->opts.dir_mode ? s->opts.dir_mode : 0700)) != 0) {
		int e = errno;
		g_set_error (error, BDB_ERROR, e == EACCES || e == EPERM || e == EROFS ? BDB_ERROR_PERMISSION : BDB_ERROR_IO,
		             "cannot create the database directory: %s", g_strerror (e));
		bdb_store_close (s);
		return NULL;
	}

	if (!join_users (s, error) || !open_env (s, error)) {
		bdb_store_close (s);
		return NULL;
	}

	if (!s->opts.read_only) {
		g_autofree char *lock = g_build_filename (dir, "bouncedb.lock", NULL);
		mdb_mode_t mode = (mdb_mode_t) (s->opts.file_mode ? s->opts.file_mode : 0600);
		s->lock_fd = open (lock, O_RDWR | O_CREAT | O_CLOEXEC, mode);
		if (s->lock_fd < 0) {
			int e = errno;
			g_set_error (error, BDB_ERROR, e == EACCES || e == EROFS ? BDB_ERROR_PERMISSION : BDB_ERROR_IO,
			             "cannot open the lock file: %s", g_strerror (e));
			bdb_store_close (s);
			return NULL;
		}
		if (!lock_writer (s, error)) {
			bdb_store_close (s);
			return NULL;
		}
	}
	gboolean ok = open_tables (s, error);
	if (!s->opts.read_only)
		unlock_writer (s);
	if (!ok) {
		bdb_store_close (s);
		return NULL;
	}
	return s;
}

void
bdb_store_close (BdbStore *store)
{
	if (!store)
		return;
	if (store->env)
		mdb_env_close (store->env);
	if (store->lock_fd >= 0)
		close (store->lock_fd);
	if (store->users_fd >= 0)
		close (store->users_fd);
	g_free (store->path);
	g_free (store);
}

const char *
bdb_store_path (const BdbStore *store)
{
	return store->path;
}

guint64
bdb_store_map_size (const BdbStore *store)
{
	MDB_envinfo info;
	mdb_env_info (store->env, &info);
	return info.me_mapsize;
}

/* ---- transactions ------------------------------------------------------ */

static int
txn_begin (BdbStore *s, unsigned flags, MDB_txn **t)
{
	int rc = mdb_txn_begin (s->env, NULL, flags, t);
	if (rc == MDB_MAP_RESIZED) {
		/* Another process grew the map: adopt its size. */
		mdb_env_set_mapsize (s->env, 0);
		rc = mdb_txn_begin (s->env, NULL, flags, t);
	}
	return rc;
}

BdbTxn *
bdb_store_read (BdbStore *store, GError **error)
{
	MDB_txn *t;
	int rc = txn_begin (store, MDB_RDONLY, &t);
	if (rc == MDB_READERS_FULL) {
		int dead = 0;
		mdb_reader_check (store->env, &dead);
		rc = txn_begin (store, MDB_RDONLY, &t);
	}
	if (rc) {
		set_mdb_error (error, rc, "cannot read the database");
		return NULL;
	}
	BdbTxn *txn = g_new0 (BdbTxn, 1);
	txn->store = store;
	txn->txn = t;
	return txn;
}

void
bdb_txn_abort (BdbTxn *txn)
{
	if (!txn)
		return;
	if (txn->txn)
		mdb_txn_abort (txn->txn);
	g_free (txn);
}

static gboolean
grow_map (BdbStore *s, GError **error)
{
	guint64 cur = bdb_store_map_size (s);
	if (cur >= s->opts.map_size_max) {
		guint64 max = s->opts.map_size_max;
		gboolean mib = max >= (1u << 20);
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_FULL,
		             "database full: the map reached its limit of %" G_GUINT64_FORMAT " %s"
		             " (raise database.map_size_max)", mib ? max >> 20 : max >> 10, mib ? "MiB" : "KiB");
		return FALSE;
	}
	guint64 next = MIN (cur * 2, s->opts.map_size_max);
	int rc = mdb_env_set_mapsize (s->env, next);
	return check (NULL, rc, "cannot grow the database map", error);
}

static gboolean
run_write (BdbStore *store, BdbWriteFunc fn, gpointer data, gboolean commit, GError **error);

/* After `prune --compact` replaced data.mdb, an environment opened before
 * would write into the old, unlinked file: refuse, so the caller retries
 * (a pipe delivery exits 75 and the MTA tries again). */
static gboolean
still_current (BdbStore *store, GError **error)
{
	int fd;
	struct stat mine, now;
	g_autofree char *path = g_build_filename (store->path, "data.mdb", NULL);
	if (mdb_env_get_fd (store->env, &fd) != 0 || fstat (fd, &mine) != 0 || stat (path, &now) != 0)
		return TRUE;  /* nothing to compare: let LMDB report real trouble */
	if (mine.st_ino == now.st_ino && mine.st_dev == now.st_dev)
		return TRUE;
	g_set_error (error, BDB_ERROR, BDB_ERROR_DB_BUSY,
	             "the database was compacted while open; try again");
	return FALSE;
}

gboolean
bdb_store_write (BdbStore *store, BdbWriteFunc fn, gpointer data, GError **error)
{
	return run_write (store, fn, data, TRUE, error);
}

gboolean
bdb_store_rehearse (BdbStore *store, BdbWriteFunc fn, gpointer data, GError **error)
{
	return run_write (store, fn, data, FALSE, error);
}

static gboolean
run_write (BdbStore *store, BdbWriteFunc fn, gpointer data, gboolean commit, GError **error)
{
	if (store->opts.read_only) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PERMISSION, "database opened read-only");
		return FALSE;
	}
	for (;;) {
		if (!lock_writer (store, error))
			return FALSE;
		if (!still_current (store, error)) {
			unlock_writer (store);
			return FALSE;
		}
		MDB_txn *t;
		int rc = txn_begin (store, 0, &t);
		if (rc) {
			unlock_writer (store);
			set_mdb_error (error, rc, "cannot start a write transaction");
			return FALSE;
		}
		BdbTxn txn = { store, t, FALSE, 0 };
		GError *err = NULL;
		gboolean ok = fn (&txn, data, &err);
		if (ok && !commit) {
			mdb_txn_abort (t);
			unlock_writer (store);
			return TRUE;
		}
		if (ok) {
			rc = mdb_txn_commit (t);
			if (rc == MDB_MAP_FULL)
				txn.map_full = TRUE;
			else if (rc) {
				unlock_writer (store);
				set_mdb_error (error, rc, "cannot commit");
				return FALSE;
			} else {
				unlock_writer (store);
				return TRUE;
			}
		} else {
			mdb_txn_abort (t);
		}
		if (!txn.map_full) {
			unlock_writer (store);
			g_propagate_error (error, err);
			return FALSE;
		}
		g_clear_error (&err);
		gboolean grown = grow_map (store, error);
		unlock_writer (store);
		if (!grown)
			return FALSE;
	}
}

/* ---- low-level get/put --------------------------------------------------- */

static gboolean
get (BdbTxn *txn, Table t, const void *key, gsize klen, MDB_val *val, gboolean *found,
     GError **error)
{
	*found = FALSE;
	if (!txn->store->present[t])
		return TRUE;
	if (klen == 0 || klen > 511)  /* LMDB's default key limit */
		return TRUE;
	MDB_val k = { klen, (void *) key };
	int rc = mdb_get (txn->txn, txn->store->dbi[t], &k, val);
	if (rc == MDB_NOTFOUND)
		return TRUE;
	if (!check (txn, rc, "read failed", error))
		return FALSE;
	*found = TRUE;
	return TRUE;
}

static gboolean
put (BdbTxn *txn, Table t, const void *key, gsize klen, const GByteArray *value, GError **error)
{
	if (klen == 0 || klen > 511) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "key of %" G_GSIZE_FORMAT " bytes is too long", klen);
		return FALSE;
	}
	MDB_val k = { klen, (void *) key }, v = { value->len, value->data };
	return check (txn, mdb_put (txn->txn, txn->store->dbi[t], &k, &v, 0), "write failed", error);
}

static gboolean
del (BdbTxn *txn, Table t, const void *key, gsize klen, GError **error)
{
	if (!txn->store->present[t] || klen == 0 || klen > 511)
		return TRUE;
	MDB_val k = { klen, (void *) key };
	int rc = mdb_del (txn->txn, txn->store->dbi[t], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return TRUE;
	return check (txn, rc, "delete failed", error);
}

static gboolean
corrupt (GError **error, const char *what, guint8 version)
{
	if (version > RECORD_VERSION)
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_VERSION,
		             "%s record version %u is newer than this bouncedb understands", what, version);
	else
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_CORRUPT, "%s record cannot be decoded", what);
	return FALSE;
}

/* ---- suppressions ---------------------------------------------------------- */

static const char *const kind_names[] = {
	[BDB_SUPPRESSION_HARD] = "hard", [BDB_SUPPRESSION_COMPLAINT] = "complaint",
	[BDB_SUPPRESSION_INACTIVE] = "inactive", [BDB_SUPPRESSION_MANUAL] = "manual",
	[BDB_SUPPRESSION_IMPORTED] = "imported", [BDB_SUPPRESSION_DOMAIN] = "domain",
};

const char *
bdb_suppression_kind_name (BdbSuppressionKind kind)
{
	return (guint) kind < G_N_ELEMENTS (kind_names) && kind_names[kind] ? kind_names[kind] : "unknown";
}

gboolean
bdb_suppression_kind_from_name (const char *name, BdbSuppressionKind *kind)
{
	for (guint i = 1; i < G_N_ELEMENTS (kind_names); i++) {
		if (g_ascii_strcasecmp (name, kind_names[i]) == 0) {
			*kind = (BdbSuppressionKind) i;
			return TRUE;
		}
	}
	return FALSE;
}

BdbSuppression *
bdb_suppression_new (const char *key)
{
	BdbSuppression *s = g_new0 (BdbSuppression, 1);
	s->key = g_strdup (key);
	s->state = BDB_STATE_SUPPRESSED;
	s->kind = BDB_SUPPRESSION_HARD;
	return s;
}

void
bdb_suppression_free (BdbSuppression *s)
{
	if (!s)
		return;
	g_free (s->key);
	g_free (s->reason);
	g_free (s->source);
	g_free (s->status);
	g_free (s->reply_code);
	g_free (s->diagnostic);
	g_free (s->rule);
	g_free (s->reporting_mta);
	g_free (s->remote_mta);
	g_free (s->report_message_id);
	g_free (s->original_message_id);
	g_free (s->note);
	g_free (s);
}

BdbSuppression *
bdb_suppression_copy (const BdbSuppression *s)
{
	BdbSuppression *c = g_new0 (BdbSuppression, 1);
	*c = *s;
	c->key = g_strdup (s->key);
	c->reason = g_strdup (s->reason);
	c->source = g_strdup (s->source);
	c->status = g_strdup (s->status);
	c->reply_code = g_strdup (s->reply_code);
	c->diagnostic = g_strdup (s->diagnostic);
	c->rule = g_strdup (s->rule);
	c->reporting_mta = g_strdup (s->reporting_mta);
	c->remote_mta = g_strdup (s->remote_mta);
	c->report_message_id = g_strdup (s->report_message_id);
	c->original_message_id = g_strdup (s->original_message_id);
	c->note = g_strdup (s->note);
	return c;
}

gboolean
bdb_suppression_active (const BdbSuppression *s, gint64 now)
{
	return s->state == BDB_STATE_SUPPRESSED && (s->expires == 0 || s->expires > now);
}

/* Layout v1 (doc/store-format.md): version, state, kind, 0, first_seen,
 * last_seen, expires, removed_at (i64), count (u32), then strings. */
#define SUPP_EXPIRES_OFFSET (4 + 8 + 8)

static void
encode_suppression (BdbWriter *w, const BdbSuppression *s)
{
	bdb_put_u8 (w, RECORD_VERSION);
	bdb_put_u8 (w, (guint8) s->state);
	bdb_put_u8 (w, (guint8) s->kind);
	bdb_put_u8 (w, 0);
	bdb_put_u64 (w, (guint64) s->first_seen);
	bdb_put_u64 (w, (guint64) s->last_seen);
	bdb_put_u64 (w, (guint64) s->expires);
	bdb_put_u64 (w, (guint64) s->removed_at);
	bdb_put_u32 (w, s->count);
	bdb_put_str (w, s->reason);
	bdb_put_str (w, s->source);
	bdb_put_str (w, s->status);
	bdb_put_str (w, s->reply_code);
	bdb_put_str (w, s->diagnostic);
	bdb_put_str (w, s->rule);
	bdb_put_str (w, s->reporting_mta);
	bdb_put_str (w, s->remote_mta);
	bdb_put_str (w, s->report_message_id);
	bdb_put_str (w, s->original_message_id);
	bdb_put_str (w, s->note);
}

static BdbSuppression *
decode_suppression (const char *key, gsize klen, const MDB_val *v, GError **error)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	if (version != RECORD_VERSION) {
		corrupt (error, "suppression", version);
		return NULL;
	}
	BdbSuppression *s = g_new0 (BdbSuppression, 1);
	s->key = g_strndup (key, klen);
	s->state = (BdbState) bdb_get_u8 (&r);
	s->kind = (BdbSuppressionKind) bdb_get_u8 (&r);
	bdb_get_u8 (&r);
	s->first_seen = (gint64) bdb_get_u64 (&r);
	s->last_seen = (gint64) bdb_get_u64 (&r);
	s->expires = (gint64) bdb_get_u64 (&r);
	s->removed_at = (gint64) bdb_get_u64 (&r);
	s->count = bdb_get_u32 (&r);
	s->reason = bdb_get_str (&r);
	s->source = bdb_get_str (&r);
	s->status = bdb_get_str (&r);
	s->reply_code = bdb_get_str (&r);
	s->diagnostic = bdb_get_str (&r);
	s->rule = bdb_get_str (&r);
	s->reporting_mta = bdb_get_str (&r);
	s->remote_mta = bdb_get_str (&r);
	s->report_message_id = bdb_get_str (&r);
	s->original_message_id = bdb_get_str (&r);
	s->note = bdb_get_str (&r);
	if (r.bad) {
		bdb_suppression_free (s);
		corrupt (error, "suppression", version);
		return NULL;
	}
	return s;
}

static Table
table_of (BdbTable t)
{
	return t == BDB_TABLE_DOMAIN ? T_DOMAIN : T_ADDRESS;
}

gboolean
bdb_txn_get_suppression (BdbTxn *txn, BdbTable table, const char *key, BdbSuppression **out,
                         GError **error)
{
	MDB_val v;
	gboolean found;
	*out = NULL;
	if (!get (txn, table_of (table), key, strlen (key), &v, &found, error))
		return FALSE;
	if (!found)
		return TRUE;
	*out = decode_suppression (key, strlen (key), &v, error);
	return *out != NULL;
}

gboolean
bdb_txn_put_suppression (BdbTxn *txn, BdbTable table, const BdbSuppression *s, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	encode_suppression (&w, s);
	gboolean ok = put (txn, table_of (table), s->key, strlen (s->key), w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_delete_suppression (BdbTxn *txn, BdbTable table, const char *key, GError **error)
{
	return del (txn, table_of (table), key, strlen (key), error);
}

gboolean
bdb_txn_foreach_suppression (BdbTxn *txn, BdbTable table, const char *from,
                             BdbSuppressionFunc fn, gpointer data, GError **error)
{
	Table t = table_of (table);
	if (!txn->store->present[t])
		return TRUE;
	MDB_cursor *c;
	if (!check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[t], &c), "cursor", error))
		return FALSE;
	MDB_val k = { from ? strlen (from) : 0, (void *) from }, v;
	int rc = mdb_cursor_get (c, &k, &v, from && *from ? MDB_SET_RANGE : MDB_FIRST);
	gboolean ok = TRUE;
	while (rc == 0) {
		BdbSuppression *s = decode_suppression (k.mv_data, k.mv_size, &v, error);
		if (!s) {
			ok = FALSE;
			break;
		}
		gboolean more = fn (s, data);
		bdb_suppression_free (s);
		if (!more)
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	if (ok && rc != 0 && rc != MDB_NOTFOUND)
		ok = check (txn, rc, "cursor", error);
	mdb_cursor_close (c);
	return ok;
}

gboolean
bdb_txn_count (BdbTxn *txn, BdbTable table, guint64 *count, GError **error)
{
	Table t = table_of (table);
	*count = 0;
	if (!txn->store->present[t])
		return TRUE;
	MDB_stat st;
	if (!check (txn, mdb_stat (txn->txn, txn->store->dbi[t], &st), "stat", error))
		return FALSE;
	*count = st.ms_entries;
	return TRUE;
}

/* Active without decoding the strings: state and expiry are at fixed
 * offsets of layout v1. */
static gboolean
value_active (const MDB_val *v, gint64 now, gboolean *active, GError **error)
{
	const guint8 *p = v->mv_data;
	if (v->mv_size < SUPP_EXPIRES_OFFSET + 8 || p[0] != RECORD_VERSION)
		return corrupt (error, "suppression", v->mv_size ? p[0] : 0);
	BdbReader r;
	bdb_reader_init (&r, p + SUPP_EXPIRES_OFFSET, 8);
	gint64 expires = (gint64) bdb_get_u64 (&r);
	*active = p[1] == BDB_STATE_SUPPRESSED && (expires == 0 || expires > now);
	return TRUE;
}

gboolean
bdb_txn_is_suppressed (BdbTxn *txn, const char *address, gint64 now, gboolean *suppressed,
                       BdbSuppression **hit, GError **error)
{
	MDB_val v;
	gboolean found, active = FALSE;
	*suppressed = FALSE;
	if (hit)
		*hit = NULL;
	gsize n = strlen (address);
	if (!get (txn, T_ADDRESS, address, n, &v, &found, error))
		return FALSE;
	if (found) {
		if (!value_active (&v, now, &active, error))
			return FALSE;
		if (active) {
			*suppressed = TRUE;
			if (hit)
				*hit = decode_suppression (address, n, &v, error);
			return !hit || *hit;
		}
	}
	const char *at = strrchr (address, '@');
	if (!at)
		return TRUE;
	const char *domain = at + 1;
	if (!get (txn, T_DOMAIN, domain, strlen (domain), &v, &found, error))
		return FALSE;
	if (!found)
		return TRUE;
	if (!value_active (&v, now, &active, error))
		return FALSE;
	if (active) {
		*suppressed = TRUE;
		if (hit)
			*hit = decode_suppression (domain, strlen (domain), &v, error);
		return !hit || *hit;
	}
	return TRUE;
}

/* ---- soft counters ------------------------------------------------------- */

static gboolean
decode_soft (const MDB_val *v, BdbSoftCounter *c, GError **error)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	if (version != RECORD_VERSION)
		return corrupt (error, "soft counter", version);
	memset (c, 0, sizeof *c);
	guint8 n_days = bdb_get_u8 (&r);  /* MIN() would read it twice */
	c->n_days = MIN (n_days, BDB_SOFT_MAX_DAYS);
	c->last_seen = (gint64) bdb_get_u64 (&r);
	bdb_get_str_into (&r, c->last_reason, sizeof c->last_reason);
	for (guint i = 0; i < c->n_days; i++)
		c->days[i] = bdb_get_u32 (&r);
	if (r.bad)
		return corrupt (error, "soft counter", version);
	return TRUE;
}

gboolean
bdb_txn_get_soft (BdbTxn *txn, const char *address, BdbSoftCounter *out, gboolean *found,
                  GError **error)
{
	MDB_val v;
	if (!get (txn, T_SOFT, address, strlen (address), &v, found, error))
		return FALSE;
	if (!*found)
		return TRUE;
	return decode_soft (&v, out, error);
}

gboolean
bdb_txn_put_soft (BdbTxn *txn, const char *address, const BdbSoftCounter *c, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	guint n = MIN (c->n_days, BDB_SOFT_MAX_DAYS);
	bdb_put_u8 (&w, RECORD_VERSION);
	bdb_put_u8 (&w, (guint8) n);
	bdb_put_u64 (&w, (guint64) c->last_seen);
	bdb_put_str (&w, c->last_reason);
	for (guint i = 0; i < n; i++)
		bdb_put_u32 (&w, c->days[i]);
	gboolean ok = put (txn, T_SOFT, address, strlen (address), w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_delete_soft (BdbTxn *txn, const char *address, GError **error)
{
	return del (txn, T_SOFT, address, strlen (address), error);
}

gboolean
bdb_txn_foreach_soft (BdbTxn *txn, BdbSoftFunc fn, gpointer data, GError **error)
{
	if (!txn->store->present[T_SOFT])
		return TRUE;
	MDB_cursor *c;
	if (!check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_SOFT], &c), "cursor", error))
		return FALSE;
	MDB_val k, v;
	gboolean ok = TRUE;
	int rc = mdb_cursor_get (c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		BdbSoftCounter sc;
		if (!decode_soft (&v, &sc, error)) {
			ok = FALSE;
			break;
		}
		g_autofree char *addr = g_strndup (k.mv_data, k.mv_size);
		if (!fn (addr, &sc, data))
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return ok;
}

/* ---- events ---------------------------------------------------------------- */

/* Key: address, NUL, time (u64 BE), sequence (u32 BE). */
static GByteArray *
event_key (const char *address, gint64 time, guint32 seq)
{
	BdbWriter w;
	bdb_writer_init (&w);
	g_byte_array_append (w.buf, (const guint8 *) address, (guint) strlen (address) + 1);
	bdb_put_u64 (&w, (guint64) time);
	bdb_put_u32 (&w, seq);
	return w.buf;
}

void
bdb_event_clear (BdbEvent *e)
{
	g_free (e->rule);
	g_free (e->diagnostic);
	g_free (e->report_message_id);
	memset (e, 0, sizeof *e);
}

static gboolean
decode_event (const MDB_val *v, BdbEvent *e, GError **error)
{
	BdbReader r;
	bdb_reader_init (&r, v->mv_data, v->mv_size);
	guint8 version = bdb_get_u8 (&r);
	if (version != RECORD_VERSION)
		return corrupt (error, "event", version);
	memset (e, 0, sizeof *e);
	e->time = (gint64) bdb_get_u64 (&r);
	bdb_get_str_into (&r, e->disposition, sizeof e->disposition);
	bdb_get_str_into (&r, e->reason, sizeof e->reason);
	bdb_get_str_into (&r, e->kind, sizeof e->kind);
	bdb_get_str_into (&r, e->status, sizeof e->status);
	bdb_get_str_into (&r, e->reply_code, sizeof e->reply_code);
	e->rule = bdb_get_str (&r);
	e->diagnostic = bdb_get_str (&r);
	e->report_message_id = bdb_get_str (&r);
	if (r.bad) {
		bdb_event_clear (e);
		return corrupt (error, "event", version);
	}
	return TRUE;
}

/* After mdb_cursor_del() the cursor sits on the next item; read it.  Past
 * the last item LMDB answers EINVAL or MDB_NOTFOUND: both mean the end. */
static int
cursor_after_delete (MDB_cursor *c, MDB_val *k, MDB_val *v)
{
	int rc = mdb_cursor_get (c, k, v, MDB_GET_CURRENT);
	return rc == EINVAL ? MDB_NOTFOUND : rc;
}

/* Cursor positioned on the first event of @address (key prefix). */
static int
first_event (MDB_cursor *c, const char *address, MDB_val *k, MDB_val *v)
{
	gsize n = strlen (address) + 1;
	k->mv_size = n;
	k->mv_data = (void *) address;
	int rc = mdb_cursor_get (c, k, v, MDB_SET_RANGE);
	if (rc == 0 && (k->mv_size < n || memcmp (k->mv_data, address, n) != 0))
		rc = MDB_NOTFOUND;
	return rc;
}

gboolean
bdb_txn_add_event (BdbTxn *txn, const char *address, const BdbEvent *e, guint keep, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	bdb_put_u8 (&w, RECORD_VERSION);
	bdb_put_u64 (&w, (guint64) e->time);
	bdb_put_str (&w, e->disposition);
	bdb_put_str (&w, e->reason);
	bdb_put_str (&w, e->kind);
	bdb_put_str (&w, e->status);
	bdb_put_str (&w, e->reply_code);
	bdb_put_str (&w, e->rule);
	if (e->diagnostic && strlen (e->diagnostic) > 512) {
		/* Keep the start of a long diagnostic, on a UTF-8 boundary. */
		gsize n = 512;
		while (n > 0 && ((guchar) e->diagnostic[n] & 0xC0) == 0x80)
			n--;
		g_autofree char *cut = g_strndup (e->diagnostic, n);
		bdb_put_str (&w, cut);
	} else {
		bdb_put_str (&w, e->diagnostic);
	}
	bdb_put_str (&w, e->report_message_id);

	gboolean ok = FALSE;
	for (guint attempt = 0; attempt < 1000; attempt++) {
		GByteArray *key = event_key (address, e->time, txn->event_seq++);
		if (key->len > 511) {
			g_byte_array_unref (key);
			g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "address too long for the event table");
			bdb_writer_clear (&w);
			return FALSE;
		}
		MDB_val k = { key->len, key->data }, v = { w.buf->len, w.buf->data };
		int rc = mdb_put (txn->txn, txn->store->dbi[T_EVENTS], &k, &v, MDB_NOOVERWRITE);
		g_byte_array_unref (key);
		if (rc == MDB_KEYEXIST)
			continue;
		ok = check (txn, rc, "write failed", error);
		break;
	}
	bdb_writer_clear (&w);
	if (!ok || keep == 0)
		return ok;

	/* Keep only the newest @keep events of this address. */
	MDB_cursor *c;
	if (!check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_EVENTS], &c), "cursor", error))
		return FALSE;
	MDB_val k, v;
	guint n = 0;
	int rc = first_event (c, address, &k, &v);
	gsize plen = strlen (address) + 1;
	while (rc == 0) {
		n++;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
		if (rc == 0 && (k.mv_size < plen || memcmp (k.mv_data, address, plen) != 0))
			break;
	}
	rc = first_event (c, address, &k, &v);
	while (rc == 0 && n > keep) {
		rc = mdb_cursor_del (c, 0);
		if (rc)
			break;
		n--;
		rc = cursor_after_delete (c, &k, &v);
		if (rc == 0 && (k.mv_size < plen || memcmp (k.mv_data, address, plen) != 0))
			break;
	}
	mdb_cursor_close (c);
	return rc == 0 || rc == MDB_NOTFOUND || check (txn, rc, "pruning events", error);
}

gboolean
bdb_txn_foreach_event (BdbTxn *txn, const char *address, BdbEventFunc fn, gpointer data,
                       GError **error)
{
	if (!txn->store->present[T_EVENTS])
		return TRUE;
	MDB_cursor *c;
	if (!check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_EVENTS], &c), "cursor", error))
		return FALSE;
	MDB_val k, v;
	int rc = address ? first_event (c, address, &k, &v) : mdb_cursor_get (c, &k, &v, MDB_FIRST);
	gsize plen = address ? strlen (address) + 1 : 0;
	gboolean ok = TRUE;
	while (rc == 0) {
		if (address && (k.mv_size < plen || memcmp (k.mv_data, address, plen) != 0))
			break;
		const char *nul = memchr (k.mv_data, '\0', k.mv_size);
		if (!nul) {
			ok = corrupt (error, "event key", RECORD_VERSION);
			break;
		}
		BdbEvent e;
		if (!decode_event (&v, &e, error)) {
			ok = FALSE;
			break;
		}
		gboolean more = fn (k.mv_data, &e, data);
		bdb_event_clear (&e);
		if (!more)
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return ok;
}

gboolean
bdb_txn_prune_events (BdbTxn *txn, gint64 before, guint64 *removed, GError **error)
{
	*removed = 0;
	if (!txn->store->present[T_EVENTS])
		return TRUE;
	MDB_cursor *c;
	if (!check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_EVENTS], &c), "cursor", error))
		return FALSE;
	MDB_val k, v;
	int rc = mdb_cursor_get (c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		const char *nul = memchr (k.mv_data, '\0', k.mv_size);
		gint64 t = G_MAXINT64;
		if (nul && (gsize) (nul - (const char *) k.mv_data) + 1 + 8 <= k.mv_size) {
			BdbReader r;
			bdb_reader_init (&r, nul + 1, 8);
			t = (gint64) bdb_get_u64 (&r);
		}
		if (t < before) {
			rc = mdb_cursor_del (c, 0);
			if (rc)
				break;
			(*removed)++;
			rc = cursor_after_delete (c, &k, &v);
			continue;
		}
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return rc == MDB_NOTFOUND || check (txn, rc, "pruning events", error);
}

gboolean
bdb_txn_delete_events (BdbTxn *txn, const char *address, GError **error)
{
	if (!txn->store->present[T_EVENTS])
		return TRUE;
	MDB_cursor *c;
	if (!check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_EVENTS], &c), "cursor", error))
		return FALSE;
	MDB_val k, v;
	gsize plen = strlen (address) + 1;
	int rc = first_event (c, address, &k, &v);
	while (rc == 0) {
		rc = mdb_cursor_del (c, 0);
		if (rc)
			break;
		rc = cursor_after_delete (c, &k, &v);
		if (rc == 0 && (k.mv_size < plen || memcmp (k.mv_data, address, plen) != 0))
			rc = MDB_NOTFOUND;
	}
	mdb_cursor_close (c);
	return rc == MDB_NOTFOUND || check (txn, rc, "deleting events", error);
}

/* ---- processed messages ---------------------------------------------------- */

gboolean
bdb_txn_seen (BdbTxn *txn, const guint8 fingerprint[32], gboolean *seen, GError **error)
{
	MDB_val v;
	return get (txn, T_SEEN, fingerprint, 32, &v, seen, error);
}

gboolean
bdb_txn_mark_seen (BdbTxn *txn, const guint8 fingerprint[32], gint64 when, GError **error)
{
	BdbWriter w;
	bdb_writer_init (&w);
	bdb_put_u8 (&w, RECORD_VERSION);
	bdb_put_u64 (&w, (guint64) when);
	gboolean ok = put (txn, T_SEEN, fingerprint, 32, w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_prune_seen (BdbTxn *txn, gint64 before, guint64 *removed, GError **error)
{
	*removed = 0;
	if (!txn->store->present[T_SEEN])
		return TRUE;
	MDB_cursor *c;
	if (!check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_SEEN], &c), "cursor", error))
		return FALSE;
	MDB_val k, v;
	int rc = mdb_cursor_get (c, &k, &v, MDB_FIRST);
	while (rc == 0) {
		BdbReader r;
		bdb_reader_init (&r, v.mv_data, v.mv_size);
		bdb_get_u8 (&r);
		gint64 when = (gint64) bdb_get_u64 (&r);
		if (!r.bad && when < before) {
			rc = mdb_cursor_del (c, 0);
			if (rc)
				break;
			(*removed)++;
			rc = cursor_after_delete (c, &k, &v);
			continue;
		}
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return rc == MDB_NOTFOUND || check (txn, rc, "pruning fingerprints", error);
}

/* ---- tallies ------------------------------------------------------------------- */

gboolean
bdb_txn_tally_add (BdbTxn *txn, const char *name, gint64 n, gint64 when, GError **error)
{
	MDB_val v;
	gboolean found;
	guint64 count = 0;
	gint64 last = 0;
	if (!get (txn, T_TALLY, name, strlen (name), &v, &found, error))
		return FALSE;
	if (found) {
		BdbReader r;
		bdb_reader_init (&r, v.mv_data, v.mv_size);
		guint8 version = bdb_get_u8 (&r);
		count = bdb_get_u64 (&r);
		last = (gint64) bdb_get_u64 (&r);
		if (r.bad || version != RECORD_VERSION)
			return corrupt (error, "tally", version);
	}
	BdbWriter w;
	bdb_writer_init (&w);
	bdb_put_u8 (&w, RECORD_VERSION);
	bdb_put_u64 (&w, (guint64) ((gint64) count + n < 0 ? 0 : (gint64) count + n));
	bdb_put_u64 (&w, (guint64) MAX (last, when));
	gboolean ok = put (txn, T_TALLY, name, strlen (name), w.buf, error);
	bdb_writer_clear (&w);
	return ok;
}

gboolean
bdb_txn_foreach_tally (BdbTxn *txn, const char *prefix, BdbTallyFunc fn, gpointer data,
                       GError **error)
{
	if (!txn->store->present[T_TALLY])
		return TRUE;
	MDB_cursor *c;
	if (!check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[T_TALLY], &c), "cursor", error))
		return FALSE;
	gsize plen = prefix ? strlen (prefix) : 0;
	MDB_val k = { plen, (void *) prefix }, v;
	int rc = mdb_cursor_get (c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	gboolean ok = TRUE;
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp (k.mv_data, prefix, plen) != 0))
			break;
		BdbReader r;
		bdb_reader_init (&r, v.mv_data, v.mv_size);
		guint8 version = bdb_get_u8 (&r);
		guint64 count = bdb_get_u64 (&r);
		gint64 last = (gint64) bdb_get_u64 (&r);
		if (r.bad || version != RECORD_VERSION) {
			ok = corrupt (error, "tally", version);
			break;
		}
		g_autofree char *name = g_strndup (k.mv_data, k.mv_size);
		if (!fn (name, count, last, data))
			break;
		rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
	}
	mdb_cursor_close (c);
	return ok;
}

gboolean
bdb_txn_delete_tally (BdbTxn *txn, const char *name, GError **error)
{
	return del (txn, T_TALLY, name, strlen (name), error);
}

/* Rewrite the database without its free pages.  Only when no other
 * process has it open: LMDB's lock file describes the file that every open
 * environment maps, and a file swapped under it reads as another (often
 * empty) database.  So the compaction takes bouncedb.open exclusive (every
 * opener holds it shared), writes the copy, closes its own environment,
 * renames the copy over data.mdb and opens it again before letting
 * anybody in. */
gboolean
bdb_store_compact (BdbStore *store, GError **error)
{
	if (store->opts.read_only) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PERMISSION, "database opened read-only");
		return FALSE;
	}
	if (store->users_fd < 0 || !store->env) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB, "database not open");
		return FALSE;
	}
	/* Converting a flock is not atomic: when it fails, the shared lock
	 * may be gone too, so it is taken again. */
	if (!flock_wait (store->users_fd, LOCK_EX, store->opts.lock_timeout_ms)) {
		int e = errno;
		flock_wait (store->users_fd, LOCK_SH, G_MAXUINT);
		if (e == EWOULDBLOCK)
			g_set_error (error, BDB_ERROR, BDB_ERROR_DB_BUSY,
			             "cannot compact: another process has the database open "
			             "(a sweep, filter, ingest or serve); try again when it is idle");
		else
			g_set_error (error, BDB_ERROR, BDB_ERROR_DB, "cannot lock the database: %s", g_strerror (e));
		return FALSE;
	}
	gboolean ok = FALSE;
	g_autofree char *data = g_build_filename (store->path, "data.mdb", NULL);
	g_autofree char *tmp = g_build_filename (store->path, "data.mdb.compact", NULL);
	if (!lock_writer (store, error))
		goto out;
	unlink (tmp);
	int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, store->opts.file_mode ? store->opts.file_mode : 0600);
	if (fd < 0) {
		int e = errno;
		g_set_error (error, BDB_ERROR, e == ENOSPC || e == EDQUOT ? BDB_ERROR_DB_FULL : BDB_ERROR_IO,
		             "cannot create %s: %s", tmp, g_strerror (e));
	} else {
		int rc = mdb_env_copyfd2 (store->env, fd, MDB_CP_COMPACT);
		if (rc)
			check (NULL, rc, "compacting copy failed", error);
		else if (fsync (fd) != 0)
			g_set_error (error, BDB_ERROR, errno == ENOSPC ? BDB_ERROR_DB_FULL : BDB_ERROR_IO,
			             "cannot sync %s: %s", tmp, g_strerror (errno));
		else
			ok = TRUE;
		close (fd);
	}
	if (ok) {
		/* Nobody else has the environment open: once ours is closed, the
		 * next mdb_env_open is the first and rebuilds lock.mdb from the
		 * new file's meta pages. */
		mdb_env_close (store->env);
		store->env = NULL;
		if (rename (tmp, data) != 0) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "cannot replace %s: %s", data, g_strerror (errno));
			ok = FALSE;
		} else {
			int dfd = open (store->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd >= 0) {
				fsync (dfd);
				close (dfd);
			}
		}
		if (!open_env (store, ok ? error : NULL) || !open_tables (store, ok ? error : NULL))
			ok = FALSE;
	}
	if (!ok)
		unlink (tmp);
	unlock_writer (store);
out:
	flock_wait (store->users_fd, LOCK_SH, G_MAXUINT);
	return ok;
}
