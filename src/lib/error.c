/* The library's one error domain; see include/bouncedb/error.h. */
#include <errno.h>
#include <stdarg.h>
#include "error-private.h"

G_DEFINE_QUARK (bouncedb-error-quark, bdb_error)

const char *
bdb_error_code_name (BdbErrorCode code)
{
	static const char *const names[] = {
		[BDB_ERROR_FAILED] = "internal",
		[BDB_ERROR_NOT_FOUND] = "not-found",
		[BDB_ERROR_IO] = "io",
		[BDB_ERROR_PERMISSION] = "permission",
		[BDB_ERROR_INVALID] = "invalid",
		[BDB_ERROR_PARSE] = "parse",
		[BDB_ERROR_LIMIT] = "limit",
		[BDB_ERROR_FORGED] = "forged",
		[BDB_ERROR_DB_FULL] = "db-full",
		[BDB_ERROR_DB_BUSY] = "db-busy",
		[BDB_ERROR_DB_VERSION] = "db-version",
		[BDB_ERROR_DB_CORRUPT] = "db-corrupt",
		[BDB_ERROR_DB] = "db",
	};
	if ((guint) code < G_N_ELEMENTS (names) && names[code])
		return names[code];
	return "unknown";
}

BdbErrorCode
bdb_errno_code (int err)
{
	switch (err) {
	case ENOENT:
	case ENOTDIR:
		return BDB_ERROR_NOT_FOUND;
	case EACCES:
	case EPERM:
	case EROFS:
		return BDB_ERROR_PERMISSION;
	case ENOSPC:
	case EDQUOT:
		return BDB_ERROR_DB_FULL;
	default:
		return BDB_ERROR_IO;
	}
}

void
bdb_set_errno_error (GError **error, int err, const char *format, ...)
{
	va_list ap;
	va_start (ap, format);
	g_autofree char *what = g_strdup_vprintf (format, ap);
	va_end (ap);
	const char *why = err == ENOSPC || err == EDQUOT ? "no space left on the device" : g_strerror (err);
	g_set_error (error, BDB_ERROR, bdb_errno_code (err), "%s: %s", what, why);
}
