/* The library's one error domain; see include/bouncedb/error.h. */
#include <bouncedb/error.h>

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
