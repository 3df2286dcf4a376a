/* Maildir and mbox reading, and safe delivery of kept messages.
 *
 * Practices from mblaze's minc/mdeliver and OpenSMTPD's maildir delivery:
 * rename(2) is the only way a message moves, a new file is written to
 * tmp/ and fsync()ed before it appears in new/, the directory is fsync()ed
 * after the rename, dotfiles are never messages, and d_type may be
 * DT_UNKNOWN (some file systems), in which case lstat() decides.  Symlinks
 * are skipped: a message must not lead the reader out of the Maildir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <bouncedb/error.h>
#include <bouncedb/mailbox.h>
#include "error-private.h"

static void
set_errno (GError **error, int err, const char *what, const char *path)
{
	bdb_set_errno_error (error, err, "%s '%s'", what, path);
}

gboolean
bdb_maildir_create (const char *maildir, guint mode, GError **error)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	if (g_mkdir_with_parents (maildir, (int) mode) != 0) {
		set_errno (error, errno, "cannot create", maildir);
		return FALSE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS (subs); i++) {
		g_autofree char *d = g_build_filename (maildir, subs[i], NULL);
		if (mkdir (d, mode) != 0 && errno != EEXIST) {
			set_errno (error, errno, "cannot create", d);
			return FALSE;
		}
	}
	return TRUE;
}

static gboolean
fsync_dir (const char *dir, GError **error)
{
	int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		set_errno (error, errno, "cannot open", dir);
		return FALSE;
	}
	int rc = fsync (fd);
	int e = errno;
	close (fd);
	if (rc != 0 && e != EINVAL) {  /* some file systems cannot sync directories */
		set_errno (error, e, "cannot sync", dir);
		return FALSE;
	}
	return TRUE;
}

/* A Maildir file name unique on this host: time.MusecPpidQn.host */
static char *
unique_name (void)
{
	static guint counter;
	struct timeval tv;
	gettimeofday (&tv, NULL);
	char host[256] = "localhost";
	gethostname (host, sizeof host - 1);
	GString *h = g_string_new (NULL);
	for (const char *p = host; *p; p++) {
		if (*p == '/')
			g_string_append (h, "\\057");
		else if (*p == ':')
			g_string_append (h, "\\072");
		else
			g_string_append_c (h, *p);
	}
	char *name = g_strdup_printf ("%ld.M%ldP%dQ%u.%s", (long) tv.tv_sec, (long) tv.tv_usec,
	                              (int) getpid (), ++counter, h->str);
	g_string_free (h, TRUE);
	return name;
}

static gboolean
write_all (int fd, const char *data, gsize len, const char *path, GError **error)
{
	while (len > 0) {
		ssize_t n = write (fd, data, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_errno (error, errno, "cannot write", path);
			return FALSE;
		}
		data += n;
		len -= (gsize) n;
	}
	return TRUE;
}

/* tmp/ -> fsync -> new/, filling the file with @fill. */
typedef gboolean (*FillFunc) (int fd, const char *path, gpointer data, GError **error);

static gboolean
deliver_with (const char *maildir, FillFunc fill, gpointer data, char **path_out, GError **error)
{
	if (!bdb_maildir_create (maildir, 0700, error))
		return FALSE;
	g_autofree char *name = unique_name ();
	g_autofree char *tmp = g_build_filename (maildir, "tmp", name, NULL);
	g_autofree char *dst = g_build_filename (maildir, "new", name, NULL);
	int fd = open (tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		set_errno (error, errno, "cannot create", tmp);
		return FALSE;
	}
	gboolean ok = fill (fd, tmp, data, error);
	if (ok && fsync (fd) != 0) {
		set_errno (error, errno, "cannot sync", tmp);
		ok = FALSE;
	}
	if (close (fd) != 0 && ok) {
		set_errno (error, errno, "cannot close", tmp);
		ok = FALSE;
	}
	if (ok && rename (tmp, dst) != 0) {
		set_errno (error, errno, "cannot move into new/", tmp);
		ok = FALSE;
	}
	if (!ok) {
		unlink (tmp);
		return FALSE;
	}
	g_autofree char *newdir = g_build_filename (maildir, "new", NULL);
	if (!fsync_dir (newdir, error))
		return FALSE;
	if (path_out)
		*path_out = g_steal_pointer (&dst);
	return TRUE;
}

typedef struct {
	const char *data;
	gsize len;
	int fd;
} FillData;

static gboolean
fill_bytes (int fd, const char *path, gpointer data, GError **error)
{
	FillData *f = data;
	return write_all (fd, f->data, f->len, path, error);
}

gboolean
bdb_maildir_deliver (const char *maildir, const char *data, gsize len, char **path_out,
                     GError **error)
{
	FillData f = { data, len, -1 };
	return deliver_with (maildir, fill_bytes, &f, path_out, error);
}

static gboolean
fill_stream (int fd, const char *path, gpointer data, GError **error)
{
	FillData *f = data;
	if (!write_all (fd, f->data, f->len, path, error))
		return FALSE;
	char buf[65536];
	for (;;) {
		ssize_t n = read (f->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_errno (error, errno, "cannot read", "input");
			return FALSE;
		}
		if (n == 0)
			return TRUE;
		if (!write_all (fd, buf, (gsize) n, path, error))
			return FALSE;
	}
}

gboolean
bdb_maildir_deliver_stream (const char *maildir, const char *prefix, gsize prefix_len, int fd,
                            char **path_out, GError **error)
{
	FillData f = { prefix, prefix_len, fd };
	return deliver_with (maildir, fill_stream, &f, path_out, error);
}

/* ---- scanning ---------------------------------------------------------- */

void
bdb_maildir_entry_free (BdbMaildirEntry *e)
{
	if (!e)
		return;
	g_free (e->path);
	g_free (e->name);
	g_free (e);
}

struct _BdbMaildirScan {
	char *maildir;
	DIR *dir;
	gboolean in_new;  /* reading new/ (else cur/) */
	char *dirpath;
};

/* The info part of a Maildir name ("...:2,FS") has the S flag. */
static gboolean
name_seen (const char *name)
{
	const char *info = strstr (name, ":2,");
	return info && strchr (info + 3, 'S') != NULL;
}

static gboolean
open_sub (BdbMaildirScan *s, gboolean new_dir, GError **error)
{
	g_free (s->dirpath);
	s->dirpath = g_build_filename (s->maildir, new_dir ? "new" : "cur", NULL);
	s->in_new = new_dir;
	s->dir = opendir (s->dirpath);
	if (!s->dir) {
		set_errno (error, errno, "cannot read", s->dirpath);
		return FALSE;
	}
	return TRUE;
}

BdbMaildirScan *
bdb_maildir_scan_new (const char *maildir, GError **error)
{
	g_autofree char *cur = g_build_filename (maildir, "cur", NULL);
	g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);
	if (!g_file_test (new_dir, G_FILE_TEST_IS_DIR) || !g_file_test (cur, G_FILE_TEST_IS_DIR)) {
		g_set_error (error, BDB_ERROR, g_file_test (maildir, G_FILE_TEST_EXISTS) ? BDB_ERROR_INVALID : BDB_ERROR_NOT_FOUND,
		             "'%s' is not a Maildir (no new/ and cur/)", maildir);
		return NULL;
	}
	BdbMaildirScan *s = g_new0 (BdbMaildirScan, 1);
	s->maildir = g_strdup (maildir);
	if (!open_sub (s, TRUE, error)) {
		bdb_maildir_scan_free (s);
		return NULL;
	}
	return s;
}

BdbMaildirEntry *
bdb_maildir_scan_next (BdbMaildirScan *s, GError **error)
{
	while (s->dir) {
		errno = 0;
		struct dirent *d = readdir (s->dir);
		if (!d) {
			int e = errno;
			closedir (s->dir);
			s->dir = NULL;
			if (e) {
				set_errno (error, e, "cannot read", s->dirpath);
				return NULL;
			}
			if (s->in_new && !open_sub (s, FALSE, error))
				return NULL;
			continue;
		}
		if (d->d_name[0] == '.')
			continue;
		if (!s->in_new && name_seen (d->d_name))
			continue;
		if (d->d_type != DT_REG && d->d_type != DT_UNKNOWN)
			continue;  /* directories, symlinks, devices */
		g_autofree char *path = g_build_filename (s->dirpath, d->d_name, NULL);
		struct stat st;
		if (lstat (path, &st) != 0)
			continue;  /* vanished since readdir(): someone else took it */
		if (!S_ISREG (st.st_mode))
			continue;
		BdbMaildirEntry *e = g_new0 (BdbMaildirEntry, 1);
		e->path = g_steal_pointer (&path);
		e->name = g_strdup (d->d_name);
		e->in_new = s->in_new;
		e->mtime = st.st_mtime;
		return e;
	}
	return NULL;
}

guint64
bdb_maildir_count (const char *maildir)
{
	guint64 n = 0;
	for (int i = 0; i < 2; i++) {
		g_autofree char *dir = g_build_filename (maildir, i == 0 ? "new" : "cur", NULL);
		DIR *d = opendir (dir);
		if (!d)
			continue;
		struct dirent *e;
		while ((e = readdir (d)))
			if (e->d_name[0] != '.' && (i == 0 || !name_seen (e->d_name)) &&
			    (e->d_type == DT_REG || e->d_type == DT_UNKNOWN))
				n++;
		closedir (d);
	}
	return n;
}

void
bdb_maildir_scan_free (BdbMaildirScan *s)
{
	if (!s)
		return;
	if (s->dir)
		closedir (s->dir);
	g_free (s->dirpath);
	g_free (s->maildir);
	g_free (s);
}

gboolean
bdb_maildir_mark_seen (const BdbMaildirEntry *e, GError **error)
{
	/* The directory holding new/ and cur/. */
	g_autofree char *sub = g_path_get_dirname (e->path);
	g_autofree char *maildir = g_path_get_dirname (sub);
	GString *name = g_string_new (e->name);
	char *info = strstr (name->str, ":2,");
	if (!info) {
		g_string_append (name, ":2,S");
	} else if (!strchr (info + 3, 'S')) {
		/* Flags stay in ASCII order, as the Maildir specification asks. */
		gsize pos = (gsize) (info + 3 - name->str);
		while (pos < name->len && name->str[pos] < 'S')
			pos++;
		g_string_insert_c (name, (gssize) pos, 'S');
	}
	g_autofree char *dst = g_build_filename (maildir, "cur", name->str, NULL);
	g_string_free (name, TRUE);
	if (rename (e->path, dst) != 0) {
		set_errno (error, errno, "cannot mark as processed", e->path);
		return FALSE;
	}
	return TRUE;
}

gboolean
bdb_maildir_move (const BdbMaildirEntry *e, const char *dest, GError **error)
{
	if (!bdb_maildir_create (dest, 0700, error))
		return FALSE;
	g_autofree char *dst = g_build_filename (dest, "new", e->name, NULL);
	if (rename (e->path, dst) == 0)
		return TRUE;
	if (errno != EXDEV) {
		set_errno (error, errno, "cannot move", e->path);
		return FALSE;
	}
	/* Another file system: copy safely, then remove the original. */
	g_autofree char *data = NULL;
	gsize len = 0;
	GError *io = NULL;
	if (!g_file_get_contents (e->path, &data, &len, &io)) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "%s", io->message);
		g_error_free (io);
		return FALSE;
	}
	if (!bdb_maildir_deliver (dest, data, len, NULL, error))
		return FALSE;
	if (unlink (e->path) != 0) {
		set_errno (error, errno, "cannot remove", e->path);
		return FALSE;
	}
	return TRUE;
}

/* ---- mbox -------------------------------------------------------------- */

struct _BdbMbox {
	char *path;
	char *map;
	gsize size;
	gsize pos;
	GByteArray *buf;
};

BdbMbox *
bdb_mbox_open (const char *path, GError **error)
{
	int fd = open (path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		set_errno (error, errno, "cannot open", path);
		return NULL;
	}
	struct stat st;
	if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode)) {
		close (fd);
		g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "'%s' is not a file", path);
		return NULL;
	}
	BdbMbox *m = g_new0 (BdbMbox, 1);
	m->path = g_strdup (path);
	m->size = (gsize) st.st_size;
	m->buf = g_byte_array_new ();
	if (m->size) {
		m->map = mmap (NULL, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m->map == MAP_FAILED) {
			int e = errno;
			close (fd);
			m->map = NULL;
			bdb_mbox_close (m);
			set_errno (error, e, "cannot map", path);
			return NULL;
		}
	}
	close (fd);
	if (m->size && strncmp (m->map, "From ", MIN (m->size, 5)) != 0) {
		bdb_mbox_close (m);
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "'%s' is not an mbox (no \"From \" line)", path);
		return NULL;
	}
	return m;
}

/* Is the line at @line a separator: "From SENDER DATE", the date with its
 * time ("From MAILER-DAEMON Mon Jun 17 10:00:00 2024")?  A line of a
 * message's text that starts with "From " and was not escaped ("From the
 * team: ...", in a returned message) has no sender followed by a time. */
static gboolean
separator_at (const BdbMbox *m, gsize line)
{
	if (line + 5 > m->size || memcmp (m->map + line, "From ", 5) != 0)
		return FALSE;
	const char *p = m->map + line + 5, *end = m->map + m->size;
	const char *nl = memchr (p, '\n', (gsize) (end - p));
	if (nl)
		end = nl;
	if (p >= end || *p == ' ')
		return FALSE;
	while (p < end && *p != ' ')
		p++;
	for (; p + 5 <= end; p++)
		if (g_ascii_isdigit (p[0]) && g_ascii_isdigit (p[1]) && p[2] == ':' &&
		    g_ascii_isdigit (p[3]) && g_ascii_isdigit (p[4]))
			return TRUE;
	return FALSE;
}

/* Start of the next "From " separator line at or after @from, or size. */
static gsize
next_separator (const BdbMbox *m, gsize from)
{
	gsize p = from;
	while (p < m->size) {
		const char *nl = memchr (m->map + p, '\n', m->size - p);
		if (!nl)
			return m->size;
		gsize line = (gsize) (nl - m->map) + 1;
		if (separator_at (m, line))
			return line;
		p = line;
	}
	return m->size;
}

gboolean
bdb_mbox_next (BdbMbox *m, const char **data, gsize *len, GError **error)
{
	if (m->pos >= m->size)
		return FALSE;
	/* Skip the separator line itself. */
	const char *nl = memchr (m->map + m->pos, '\n', m->size - m->pos);
	gsize start = nl ? (gsize) (nl - m->map) + 1 : m->size;
	gsize end = next_separator (m, start);
	m->pos = end;

	/* Unescape mboxrd ">From " quoting line by line. */
	g_byte_array_set_size (m->buf, 0);
	gsize p = start;
	while (p < end) {
		const char *e = memchr (m->map + p, '\n', end - p);
		gsize lend = e ? (gsize) (e - m->map) + 1 : end;
		gsize q = p;
		while (q < lend && m->map[q] == '>')
			q++;
		if (q > p && lend - q >= 5 && memcmp (m->map + q, "From ", 5) == 0)
			p++;
		g_byte_array_append (m->buf, (const guint8 *) m->map + p, (guint) (lend - p));
		p = lend;
	}
	/* The blank line before the next separator belongs to the format. */
	if (m->buf->len && m->buf->data[m->buf->len - 1] == '\n' && end < m->size)
		g_byte_array_set_size (m->buf, m->buf->len - 1);
	*data = (const char *) m->buf->data;
	*len = m->buf->len;
	return TRUE;
}

void
bdb_mbox_close (BdbMbox *m)
{
	if (!m)
		return;
	if (m->map)
		munmap (m->map, m->size);
	g_byte_array_unref (m->buf);
	g_free (m->path);
	g_free (m);
}
