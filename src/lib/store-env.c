/* The suppression database on LMDB: the environment.
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
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "store-private.h"
#include "error-private.h"

static const char *const table_names[T_COUNT] = {
	[T_ADDRESS] = "address", [T_DOMAIN] = "domain", [T_SOFT] = "soft",
	[T_EVENTS] = "events", [T_SEEN] = "seen", [T_TALLY] = "tally", [T_META] = "meta",
	[T_FEED] = "feed",
};

/* ---- errors ------------------------------------------------------------ */

void
store_set_mdb_error (GError **error, int rc, const char *what)
{
	BdbErrorCode code;
	const char *msg = mdb_strerror (rc);
	switch (rc) {
	case MDB_MAP_FULL:
		code = BDB_ERROR_DB_FULL;
		msg = "database full";
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
	case MDB_BAD_VALSIZE:
		/* A key or value LMDB cannot hold: it came from what one message
		 * said, and would fail the same way on every retry. */
		code = BDB_ERROR_INVALID;
		break;
	case ENOMEM:
		code = BDB_ERROR_DB;
		msg = "out of memory";
		break;
	default:
		/* LMDB's own codes are negative; the rest are errno values. */
		if (rc > 0) {
			bdb_set_errno_error (error, rc, "%s", what);
			return;
		}
		code = BDB_ERROR_DB;
		break;
	}
	g_set_error (error, BDB_ERROR, code, "%s: %s", what, msg);
}

gboolean
store_check (BdbTxn *txn, int rc, const char *what, GError **error)
{
	if (rc == 0)
		return TRUE;
	if (rc == MDB_MAP_FULL && txn)
		txn->map_full = TRUE;
	store_set_mdb_error (error, rc, what);
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
	opts->group = -1;
}

static int
put_meta (MDB_txn *t, MDB_dbi dbi, const char *key, const char *value)
{
	MDB_val k = { strlen (key), (void *) key }, v = { strlen (value), (void *) value };
	return mdb_put (t, dbi, &k, &v, 0);
}

/* The database's id (meta "id"), made at the first writable open: 128
 * random bits, so that two databases never take each other's changes for
 * their own. */
static gboolean
read_id (BdbStore *s, MDB_txn *t, GError **error)
{
	MDB_val k = { 2, (void *) "id" }, v;
	int rc = mdb_get (t, s->dbi[T_META], &k, &v);
	if (rc == 0) {
		g_strlcpy (s->id, v.mv_data, MIN (v.mv_size + 1, sizeof s->id));
		return TRUE;
	}
	if (rc != MDB_NOTFOUND)
		return store_check (NULL, rc, "cannot read the database id", error);
	if (s->opts.read_only)
		return TRUE;
	g_snprintf (s->id, sizeof s->id, "%08x%08x%08x%08x", g_random_int (), g_random_int (),
	            g_random_int (), g_random_int ());
	rc = put_meta (t, s->dbi[T_META], "id", s->id);
	return rc == 0 || store_check (NULL, rc, "cannot write the database id", error);
}

const char *
bdb_store_id (const BdbStore *store)
{
	return store->id;
}

/* Open the tables; in a writable store create what is missing and stamp
 * the schema version, in a read-only one note what is absent. */
static gboolean
open_tables (BdbStore *s, GError **error)
{
	MDB_txn *t;
	int rc = mdb_txn_begin (s->env, NULL, s->opts.read_only ? MDB_RDONLY : 0, &t);
	if (rc)
		return store_check (NULL, rc, "cannot start a transaction", error);
	for (int i = 0; i < T_COUNT; i++) {
		rc = mdb_dbi_open (t, table_names[i], s->opts.read_only ? 0 : MDB_CREATE, &s->dbi[i]);
		if (rc == MDB_NOTFOUND && s->opts.read_only)
			continue;
		if (rc) {
			mdb_txn_abort (t);
			return store_check (NULL, rc, "cannot open table", error);
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
			/* An older schema is a subset: say that it is this one now. */
			if (atoi (ver) < SCHEMA_VERSION && !s->opts.read_only &&
			    (rc = put_meta (t, s->dbi[T_META], "schema", G_STRINGIFY (SCHEMA_VERSION)))) {
				mdb_txn_abort (t);
				return store_check (NULL, rc, "cannot write the schema version", error);
			}
		} else if (rc == MDB_NOTFOUND && !s->opts.read_only) {
			char now[32];
			g_snprintf (now, sizeof now, "%" G_GINT64_FORMAT, (gint64) time (NULL));
			rc = put_meta (t, s->dbi[T_META], "schema", G_STRINGIFY (SCHEMA_VERSION));
			if (!rc)
				rc = put_meta (t, s->dbi[T_META], "created", now);
			if (rc) {
				mdb_txn_abort (t);
				return store_check (NULL, rc, "cannot write the schema version", error);
			}
		}
	}
	if (s->present[T_META] && !read_id (s, t, error)) {
		mdb_txn_abort (t);
		return FALSE;
	}
	/* Committed even when read-only: dbi handles opened in a transaction
	 * that is aborted are discarded with it. */
	rc = mdb_txn_commit (t);
	return store_check (NULL, rc, "cannot initialise the database", error);
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
		bdb_set_errno_error (error, e, "cannot open %s", path);
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
		return store_check (NULL, rc, "cannot set up the database", error);
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
		return store_check (NULL, rc, "cannot open the database", error);
	int dead = 0;
	mdb_reader_check (s->env, &dead);
	return TRUE;
}

/* Give the database to opts.group: the directory and files readable by
 * it, lock.mdb (LMDB's reader table, which every reader writes) and
 * bouncedb.open (flocked by every opener) group-writable.  Run by every
 * writable open, so a database made private before follows the setting.
 * The writers' lock stays the owner's. */
static gboolean
share_with_group (BdbStore *s, GError **error)
{
	static const struct {
		const char *name;
		mode_t mode;
	} files[] = {
		{ ".", 0750 | 02000 }, { "data.mdb", 0640 }, { "lock.mdb", 0660 },
		{ "bouncedb.open", 0640 }, { "bouncedb.compact", 0640 },
	};
	gid_t gid = (gid_t) s->opts.group;
	for (gsize i = 0; i < G_N_ELEMENTS (files); i++) {
		g_autofree char *path = g_build_filename (s->path, files[i].name, NULL);
		if ((chown (path, (uid_t) -1, gid) != 0 || chmod (path, files[i].mode) != 0) && errno != ENOENT) {
			bdb_set_errno_error (error, errno, "cannot give %s to group %" G_GINT64_FORMAT,
			                     path, s->opts.group);
			return FALSE;
		}
	}
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
		/* "No database" only when there is none: a directory we may not
		 * enter is a permission problem, and must not read as empty. */
		g_autofree char *data = g_build_filename (dir, "data.mdb", NULL);
		struct stat st;
		if (stat (data, &st) != 0) {
			int e = errno;
			if (e == ENOENT || e == ENOTDIR)
				g_set_error (error, BDB_ERROR, BDB_ERROR_NOT_FOUND, "no database here");
			else
				bdb_set_errno_error (error, e, "cannot read the database");
			bdb_store_close (s);
			return NULL;
		}
		if (access (data, R_OK) != 0) {
			bdb_set_errno_error (error, errno, "cannot read the database");
			bdb_store_close (s);
			return NULL;
		}
	} else if (g_mkdir_with_parents (dir, (int) (s->opts.dir_mode ? s->opts.dir_mode : 0700)) != 0) {
		int e = errno;
		bdb_set_errno_error (error, e, "cannot create the database directory");
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
			bdb_set_errno_error (error, e, "cannot open the lock file");
			bdb_store_close (s);
			return NULL;
		}
		if (!lock_writer (s, error)) {
			bdb_store_close (s);
			return NULL;
		}
	}
	gboolean ok = open_tables (s, error);
	if (ok && !s->opts.read_only && s->opts.group >= 0)
		ok = share_with_group (s, error);
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

guint64
bdb_store_used_size (const BdbStore *store)
{
	MDB_envinfo info;
	MDB_stat st;
	if (mdb_env_info (store->env, &info) != 0 || mdb_env_stat (store->env, &st) != 0)
		return 0;
	return (guint64) (info.me_last_pgno + 1) * st.ms_psize;
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
		store_set_mdb_error (error, rc, "cannot read the database");
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
	return store_check (NULL, rc, "cannot grow the database map", error);
}

static gboolean
run_write (BdbStore *store, BdbWriteFunc fn, gpointer data, gboolean commit, GError **error);

/* LMDB reports a short write as EIO, and a write that fills the disk is
 * short: a commit that failed with EIO on a file system with no room left
 * failed for the room (ENOSPC: "database full", exit 73), not for the
 * device. */
static int
commit_errno (const BdbStore *store, int rc)
{
	struct statvfs fs;
	if (rc == EIO && statvfs (store->path, &fs) == 0 &&
	    (guint64) fs.f_bavail * fs.f_frsize < 64 * 1024)
		return ENOSPC;
	return rc;
}

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
			store_set_mdb_error (error, rc, "cannot start a write transaction");
			return FALSE;
		}
		BdbTxn txn = { .store = store, .txn = t };
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
				store_set_mdb_error (error, commit_errno (store, rc), "cannot commit");
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

char *
store_bounded_name (const char *name, gsize max)
{
	gsize n = strlen (name);
	if (n <= max)
		return g_strdup (name);
	gsize keep = max - 65;
	while (keep > 0 && ((guchar) name[keep] & 0xC0) == 0x80)
		keep--;
	g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, name, (gssize) n);
	return g_strdup_printf ("%.*s#%s", (int) keep, name, hash);
}

gboolean
store_get (BdbTxn *txn, Table t, const void *key, gsize klen, MDB_val *val, gboolean *found,
     GError **error)
{
	*found = FALSE;
	if (!txn->store->present[t])
		return TRUE;
	if (klen == 0 || klen > STORE_MAX_KEY)
		return TRUE;
	MDB_val k = { klen, (void *) key };
	int rc = mdb_get (txn->txn, txn->store->dbi[t], &k, val);
	if (rc == MDB_NOTFOUND)
		return TRUE;
	if (!store_check (txn, rc, "read failed", error))
		return FALSE;
	*found = TRUE;
	return TRUE;
}

gboolean
store_put (BdbTxn *txn, Table t, const void *key, gsize klen, const GByteArray *value, GError **error)
{
	if (klen == 0 || klen > STORE_MAX_KEY) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "key of %" G_GSIZE_FORMAT " bytes is too long", klen);
		return FALSE;
	}
	MDB_val k = { klen, (void *) key }, v = { value->len, value->data };
	return store_check (txn, mdb_put (txn->txn, txn->store->dbi[t], &k, &v, 0), "write failed", error);
}

gboolean
store_del (BdbTxn *txn, Table t, const void *key, gsize klen, GError **error)
{
	if (!txn->store->present[t] || klen == 0 || klen > STORE_MAX_KEY)
		return TRUE;
	MDB_val k = { klen, (void *) key };
	int rc = mdb_del (txn->txn, txn->store->dbi[t], &k, NULL);
	if (rc == MDB_NOTFOUND)
		return TRUE;
	return store_check (txn, rc, "delete failed", error);
}

gboolean
store_delete_where (BdbTxn *txn, Table t, const void *prefix, gsize plen, StoreWalkFunc fn,
                    gpointer data, guint64 *removed, const char *what, GError **error)
{
	if (removed)
		*removed = 0;
	if (!txn->store->present[t])
		return TRUE;
	MDB_cursor *c;
	if (!store_check (txn, mdb_cursor_open (txn->txn, txn->store->dbi[t], &c), "cursor", error))
		return FALSE;
	MDB_val k = { plen, (void *) prefix }, v;
	int rc = mdb_cursor_get (c, &k, &v, plen ? MDB_SET_RANGE : MDB_FIRST);
	while (rc == 0) {
		if (plen && (k.mv_size < plen || memcmp (k.mv_data, prefix, plen) != 0))
			break;
		StoreVerdict verdict = fn (&k, &v, data);
		if (verdict == STORE_STOP)
			break;
		if (verdict == STORE_KEEP) {
			rc = mdb_cursor_get (c, &k, &v, MDB_NEXT);
			continue;
		}
		if ((rc = mdb_cursor_del (c, 0)) != 0)
			break;
		if (removed)
			(*removed)++;
		/* After mdb_cursor_del() the cursor sits on the next item; past
		 * the last one LMDB answers EINVAL or MDB_NOTFOUND: the end. */
		rc = mdb_cursor_get (c, &k, &v, MDB_GET_CURRENT);
		if (rc == EINVAL)
			rc = MDB_NOTFOUND;
	}
	mdb_cursor_close (c);
	return rc == 0 || rc == MDB_NOTFOUND || store_check (txn, rc, what, error);
}

gboolean
store_corrupt (GError **error, const char *what, guint8 version)
{
	if (version > RECORD_VERSION)
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_VERSION,
		             "%s record version %u is newer than this bouncedb understands", what, version);
	else
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_CORRUPT, "%s record cannot be decoded", what);
	return FALSE;
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
	/* Tell long-running readers (serve) to let go: bouncedb.compact,
	 * locked for as long as this runs (a file left by a crash is not
	 * locked, and so asks nothing). */
	g_autofree char *request = g_build_filename (store->path, "bouncedb.compact", NULL);
	int request_fd = open (request, O_RDONLY | O_CREAT | O_CLOEXEC,
	                       store->opts.file_mode ? store->opts.file_mode : 0600);
	if (request_fd >= 0 && flock (request_fd, LOCK_EX | LOCK_NB) != 0) {
		close (request_fd);  /* another compaction asks already */
		request_fd = -1;
	}
	/* Converting a flock is not atomic: when it fails, the shared lock
	 * may be gone too, so it is taken again. */
	if (!flock_wait (store->users_fd, LOCK_EX, store->opts.lock_timeout_ms)) {
		int e = errno;
		if (request_fd >= 0)
			close (request_fd);
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
	struct stat old;
	if (fd < 0) {
		int e = errno;
		bdb_set_errno_error (error, e, "cannot create %s", tmp);
	} else if (stat (data, &old) == 0 &&
	           ((fchown (fd, old.st_uid, old.st_gid) != 0 && errno != EPERM) ||
	            fchmod (fd, old.st_mode & 07777) != 0)) {
		/* The copy replaces data.mdb: it keeps its owner, group and mode
		 * (root compacting another user's database must not lock them
		 * out of it). */
		bdb_set_errno_error (error, errno, "cannot give %s the owner and mode of %s", tmp, data);
		close (fd);
	} else {
		int rc = mdb_env_copyfd2 (store->env, fd, MDB_CP_COMPACT);
		if (rc)
			store_check (NULL, rc, "compacting copy failed", error);
		else if (fsync (fd) != 0)
			bdb_set_errno_error (error, errno, "cannot sync %s", tmp);
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
			bdb_set_errno_error (error, errno, "cannot replace %s", data);
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
	if (request_fd >= 0)
		close (request_fd);
	return ok;
}

gboolean
bdb_store_compaction_pending (const char *dir)
{
	g_autofree char *request = g_build_filename (dir, "bouncedb.compact", NULL);
	int fd = open (request, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FALSE;
	gboolean pending = flock (fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	close (fd);
	return pending;
}
