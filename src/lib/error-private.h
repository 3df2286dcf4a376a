/* errno, translated once: the library's files that meet a failing system
 * call set their errors through here, so that EROFS, ENOSPC and EPERM mean
 * the same everywhere.  Not installed. */
#ifndef BOUNCEDB_ERROR_PRIVATE_H
#define BOUNCEDB_ERROR_PRIVATE_H

#include <bouncedb/error.h>

/* ENOENT not found; EACCES, EPERM, EROFS permission; ENOSPC, EDQUOT full
 * (BDB_ERROR_DB_FULL: the disk, not only the map); else I/O. */
BdbErrorCode bdb_errno_code (int err);
/* Set @error to bdb_errno_code(@err) with "FORMAT: strerror(err)". */
void bdb_set_errno_error (GError **error, int err, const char *format, ...) G_GNUC_PRINTF (3, 4);

#endif
