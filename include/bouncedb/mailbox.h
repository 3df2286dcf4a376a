/* bouncedb: reading Maildirs and mboxes, and keeping messages safely.
 *
 * Maildir the careful way: only rename(2) moves messages, dotfiles and
 * tmp/ are never read, symlinks are not followed, a file that vanished
 * between readdir() and open() is skipped, and a delivered copy is
 * written to tmp/, fsync()ed and renamed into new/.  Scanning streams the
 * directory, so memory does not grow with the number of messages.
 */
#ifndef BOUNCEDB_MAILBOX_H
#define BOUNCEDB_MAILBOX_H

#include <glib.h>
#include <bouncedb/version.h>

G_BEGIN_DECLS

/* Create @maildir with tmp/, new/ and cur/ (mode @mode) when missing. */
BDB_API gboolean bdb_maildir_create (const char *maildir, guint mode, GError **error);

/* Deliver @len bytes as a new message into @maildir (created if needed):
 * tmp/, fsync, rename into new/, fsync the directory.  *@path_out (may be
 * NULL) gets the new file's path (g_free). */
BDB_API gboolean bdb_maildir_deliver (const char *maildir, const char *data, gsize len,
                                      char **path_out, GError **error);

/* Copy what @fd still has to read into a new message of @maildir, with
 * @prefix (already read bytes) first: for messages too big to hold. */
BDB_API gboolean bdb_maildir_deliver_stream (const char *maildir, const char *prefix, gsize prefix_len,
                                             int fd, char **path_out, GError **error);

/* One message found in a Maildir. */
typedef struct {
	char *path;      /* full path */
	char *name;      /* file name */
	gboolean in_new; /* in new/ (else cur/) */
	gint64 mtime;    /* delivery time, seconds since the epoch */
} BdbMaildirEntry;

BDB_API void bdb_maildir_entry_free (BdbMaildirEntry *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbMaildirEntry, bdb_maildir_entry_free)

typedef struct _BdbMaildirScan BdbMaildirScan;

/* Start reading @maildir: messages of new/, then those of cur/ not yet
 * marked seen (no S flag).  BDB_ERROR_NOT_FOUND when it is not a Maildir. */
BDB_API BdbMaildirScan *bdb_maildir_scan_new (const char *maildir, GError **error);
/* The next message, or NULL at the end (or on error, with @error set).
 * Free the entry with bdb_maildir_entry_free(). */
BDB_API BdbMaildirEntry *bdb_maildir_scan_next (BdbMaildirScan *scan, GError **error);
/* Number of messages a scan would return (a separate pass, for progress). */
BDB_API guint64 bdb_maildir_count (const char *maildir);
BDB_API void bdb_maildir_scan_free (BdbMaildirScan *scan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbMaildirScan, bdb_maildir_scan_free)

/* Mark @e processed: rename into cur/ with the S (seen) flag. */
BDB_API gboolean bdb_maildir_mark_seen (const BdbMaildirEntry *e, GError **error);
/* Move @e into the Maildir @dest (created if needed), keeping its name. */
BDB_API gboolean bdb_maildir_move (const BdbMaildirEntry *e, const char *dest, GError **error);

/* Reading an mbox (mboxrd: ">From " lines are unescaped). */
typedef struct _BdbMbox BdbMbox;
BDB_API BdbMbox *bdb_mbox_open (const char *path, GError **error);
/* The next message.  *@data is owned by the mbox and valid until the next
 * call.  Returns FALSE at the end (with @error unset) or on error. */
BDB_API gboolean bdb_mbox_next (BdbMbox *mbox, const char **data, gsize *len, GError **error);
BDB_API void bdb_mbox_close (BdbMbox *mbox);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbMbox, bdb_mbox_close)

G_END_DECLS

#endif
