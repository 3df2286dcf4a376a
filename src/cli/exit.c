/* The one place where an error becomes a message and an exit status.
 *
 * Exit statuses follow sysexits(3) so that MTAs and scripts understand
 * them; the README and bouncedb(1) publish the table.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include "cli.h"

int
bdb_exit_code (const GError *error)
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
bdb_cli_error (const BdbCli *cli, const char *what, const GError *error)
{
	g_autofree char *safe_what = what ? bdb_cli_safe (what) : NULL;
	g_autofree char *safe_msg = bdb_cli_safe (error->message);
	if (safe_what)
		fprintf (stderr, "bouncedb: %s%s'%s': %s\n", cli->command ? cli->command : "",
		         cli->command ? ": " : "", safe_what, safe_msg);
	else
		fprintf (stderr, "bouncedb: %s%s%s\n", cli->command ? cli->command : "",
		         cli->command ? ": " : "", safe_msg);
}

void
bdb_cli_warn (const BdbCli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	g_autofree char *msg = g_strdup_vprintf (fmt, ap);
	va_end (ap);
	fprintf (stderr, "bouncedb: %s%s%s\n", cli->command ? cli->command : "",
	         cli->command ? ": " : "", msg);
}

int
bdb_cli_finish (const BdbCli *cli, int status)
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

gboolean
bdb_cli_parse_options (BdbCli *cli, const char *params, const char *summary,
                       const char *description, GOptionEntry *entries, int *argc, char ***argv)
{
	g_autofree char *p = g_strdup_printf ("%s %s", cli->command, params ? params : "");
	GOptionContext *ctx = g_option_context_new (p);
	g_option_context_set_summary (ctx, summary);
	if (description)
		g_option_context_set_description (ctx, description);
	g_option_context_add_main_entries (ctx, entries, NULL);
	g_option_context_set_help_enabled (ctx, TRUE);
	GError *error = NULL;
	gboolean ok = g_option_context_parse (ctx, argc, argv, &error);
	if (!ok) {
		fprintf (stderr, "bouncedb: %s: %s\n", cli->command, error->message);
		fprintf (stderr, "Run 'bouncedb %s --help' for usage.\n", cli->command);
		g_error_free (error);
	}
	g_option_context_free (ctx);
	return ok;
}
