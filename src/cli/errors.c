/* The one place where an error becomes a message and an exit status.
 *
 * Exit statuses follow sysexits(3) so that MTAs and scripts understand
 * them; the README and bouncedb(1) publish the table.  A command run by an
 * MTA (ingest) turns every local failure into 75, so the MTA retries.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include "cli.h"

int
cli_exit_code (const GError *error)
{
	if (!error)
		return EX_OK;
	if (error->domain == G_OPTION_ERROR)
		return EX_USAGE;
	if (error->domain == G_KEY_FILE_ERROR)
		return EX_CONFIG;
	if (error->domain != BDB_ERROR)
		return EX_SOFTWARE;
	switch ((BdbErrorCode) error->code) {
	case BDB_ERROR_NOT_FOUND: return EX_NOINPUT;
	case BDB_ERROR_IO: return EX_IOERR;
	case BDB_ERROR_PERMISSION: return EX_NOPERM;
	case BDB_ERROR_INVALID: return EX_DATAERR;
	case BDB_ERROR_PARSE: return EX_DATAERR;
	case BDB_ERROR_LIMIT: return EX_DATAERR;
	case BDB_ERROR_FORGED: return EX_DATAERR;
	case BDB_ERROR_DB_FULL: return EX_CANTCREAT;
	case BDB_ERROR_DB_BUSY: return EX_TEMPFAIL;
	case BDB_ERROR_DB_VERSION: return EX_CONFIG;
	case BDB_ERROR_DB_CORRUPT: return EX_DATAERR;
	case BDB_ERROR_DB: return EX_IOERR;
	case BDB_ERROR_FAILED: return EX_SOFTWARE;
	}
	return EX_SOFTWARE;
}

void
cli_error (const Cli *cli, const char *what, const GError *error)
{
	g_autofree char *safe_what = what ? cli_safe (what) : NULL;
	g_autofree char *safe_msg = cli_safe (error->message);
	cli_progress_hide ();
	if (safe_what)
		fprintf (stderr, "bouncedb: %s%s'%s': %s\n", cli->command ? cli->command : "",
		         cli->command ? ": " : "", safe_what, safe_msg);
	else
		fprintf (stderr, "bouncedb: %s%s%s\n", cli->command ? cli->command : "",
		         cli->command ? ": " : "", safe_msg);
	cli_progress_show ();
}

void
cli_warn (const Cli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	g_autofree char *msg = g_strdup_vprintf (fmt, ap);
	va_end (ap);
	cli_progress_hide ();
	fprintf (stderr, "bouncedb: %s%s%s\n", cli->command ? cli->command : "",
	         cli->command ? ": " : "", msg);
	cli_progress_show ();
}

int
cli_finish (const Cli *cli, int status)
{
	if (fflush (stdout) != 0 || ferror (stdout)) {
		/* A closed pipe downstream is the reader's choice, not our error. */
		if (errno == EPIPE)
			return status;
		fprintf (stderr, "bouncedb: %s%swriting output failed: %s\n",
		         cli->command ? cli->command : "", cli->command ? ": " : "", g_strerror (errno));
		return status == EX_OK ? EX_IOERR : status;
	}
	return status;
}

int
cli_fail (Cli *cli, const char *what, GError **error)
{
	cli_error (cli, what, *error);
	int code = cli->cmd && (cli->cmd->flags & CLI_PIPE) ? EX_TEMPFAIL : cli_exit_code (*error);
	g_clear_error (error);
	return code;
}
