/* bouncedb: the one error vocabulary of the library.
 *
 * Every library function that can fail takes a GError ** as its last
 * argument and sets an error in BDB_ERROR with one of the codes below.
 * Foreign codes (errno, LMDB, GMime) are translated once, where they are
 * met, so callers only ever see these.  The CLI maps each code to a
 * sysexits(3) status in one place (src/cli/errors.c).
 */
#ifndef BOUNCEDB_ERROR_H
#define BOUNCEDB_ERROR_H

#include <glib.h>
#include <bouncedb/version.h>

G_BEGIN_DECLS

#define BDB_ERROR (bdb_error_quark ())

typedef enum {
	BDB_ERROR_FAILED = 0,   /* internal error: a bug, not an input problem */
	BDB_ERROR_NOT_FOUND,    /* a named file or directory does not exist */
	BDB_ERROR_IO,           /* reading or writing a file failed */
	BDB_ERROR_PERMISSION,   /* not allowed to read/write a file */
	BDB_ERROR_INVALID,      /* a bad argument or value (address, date, rule) */
	BDB_ERROR_PARSE,        /* input that cannot be read as what it claims to be */
	BDB_ERROR_LIMIT,        /* input beyond a configured limit (size, depth, count) */
	BDB_ERROR_FORGED,       /* a report failed forged-bounce verification */
	BDB_ERROR_DB_FULL,      /* database map or disk full */
	BDB_ERROR_DB_BUSY,      /* database locked by another process past the timeout */
	BDB_ERROR_DB_VERSION,   /* database or record written by an incompatible version */
	BDB_ERROR_DB_CORRUPT,   /* a stored value that cannot be decoded */
	BDB_ERROR_DB,           /* any other database failure */
} BdbErrorCode;

BDB_API GQuark bdb_error_quark (void);

/* A short English name for @code ("io", "db-full", ...), for logs.
 * Returns a static string. */
BDB_API const char *bdb_error_code_name (BdbErrorCode code);

G_END_DECLS

#endif
