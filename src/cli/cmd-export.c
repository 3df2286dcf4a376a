/* bouncedb export: the suppression list, losslessly, for backups, other
 * systems and `bouncedb import`.
 *
 * JSON Lines starts with a versioned header object; CSV with its header
 * row, whose columns are the version (csv.c), and nothing before it, so
 * that csv.DictReader and spreadsheets read it.  CSV holds the suppressions
 * (address and domain tables, remembered removals included); JSON Lines
 * also holds the soft-bounce counters, so export | import is a lossless
 * round trip.  With -o the file is written safely: a temporary file with
 * an unguessable name, created exclusively with the database's file mode,
 * fsync, then rename.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "cli.h"

#define EXPORT_VERSION 1

typedef struct {
	FILE *out;
	gboolean csv;
	BdbTable table;
	guint64 rows;
} Export;

static gboolean
export_one (const BdbSuppression *s, gpointer data)
{
	Export *e = data;
	e->rows++;
	if (!e->csv) {
		g_autoptr (CliJson) b = cli_json_new ();
		cli_json_begin_object (b);
		cli_json_member_string (b, "type", "suppression");
		cli_suppression_members (b, s, e->table);
		cli_json_end_object (b);
		cli_json_print (b, e->out);
		return TRUE;
	}
	cli_csv_suppression (e->out, s, e->table);
	return TRUE;
}

static gboolean
export_soft (const char *address, const BdbSoftCounter *c, gpointer data)
{
	Export *e = data;
	e->rows++;
	g_autoptr (CliJson) b = cli_json_new ();
	cli_json_begin_object (b);
	cli_json_member_string (b, "type", "soft");
	cli_soft_members (b, address, c);
	cli_json_end_object (b);
	cli_json_print (b, e->out);
	return TRUE;
}

/* A new file beside @output for the export: a name nobody can guess
 * (mkstemp), created only if it does not exist (O_EXCL: a link planted
 * there is not followed), with the database's own file mode, whatever the
 * umask: an export holds what the database holds.  *@tmp gets its name. */
static FILE *
open_output (Cli *cli, const char *output, char **tmp)
{
	g_autofree char *data = g_build_filename (cli_db_path (cli), "data.mdb", NULL);
	struct stat st;
	mode_t mode = stat (data, &st) == 0 ? st.st_mode & 0666 : 0600;
	*tmp = g_strdup_printf ("%s.XXXXXX", output);
	int fd = g_mkstemp_full (*tmp, O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0 || fchmod (fd, mode) != 0) {
		cli_warn (cli, "cannot create '%s': %s", *tmp, g_strerror (errno));
		if (fd >= 0) {
			close (fd);
			g_unlink (*tmp);
		}
		return NULL;
	}
	FILE *out = fdopen (fd, "w");
	if (!out) {
		cli_warn (cli, "cannot write '%s': %s", *tmp, g_strerror (errno));
		close (fd);
		g_unlink (*tmp);
	}
	return out;
}

int
cmd_export (Cli *cli, int argc, char **argv)
{
	g_autofree char *format = NULL, *output = NULL;
	gboolean header_comment = FALSE;
	GOptionEntry entries[] = {
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format, "csv or jsonl (default jsonl: includes soft counters)", "FORMAT" },
		{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE (safely: tmp, fsync, rename)", "FILE" },
		{ "header-comment", 0, 0, G_OPTION_ARG_NONE, &header_comment,
		  "CSV: start with a '# bouncedb export v1 TIME' line (bouncedb 0.1's format)", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Examples:\n"
	                            "  bouncedb export -o backup.jsonl\n"
	                            "  bouncedb export --format csv > suppressions.csv",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	gboolean csv = format && strcmp (format, "csv") == 0;
	if (format && !csv && strcmp (format, "jsonl") != 0) {
		cli_warn (cli, "--format takes csv or jsonl");
		return EX_USAGE;
	}
	if (header_comment && !csv) {
		cli_warn (cli, "--header-comment goes with --format csv (JSON Lines starts with its header object)");
		return EX_USAGE;
	}
	if ((status = cli_open (cli)) != EX_OK)
		return status;

	FILE *out = stdout;
	g_autofree char *tmp = NULL;
	if (output && !(out = open_output (cli, output, &tmp)))
		return EX_CANTCREAT;
	errno = 0;  /* a failed write's errno, for the end (a full disk) */
	GError *error = NULL;
	BdbTxn *txn = cli->txn;
	Export e = { out, csv, BDB_TABLE_ADDRESS, 0 };
	g_autofree char *now = cli_format_time (cli_now ());
	if (csv) {
		/* The header row is the version: a later format has other columns. */
		if (header_comment)
			fprintf (out, "# bouncedb export v%d %s\n", EXPORT_VERSION, now);
		cli_csv_suppression_header (out);
	} else {
		fprintf (out, "{\"bouncedb_export\":%d,\"created\":\"%s\"}\n", EXPORT_VERSION, now);
	}
	gboolean ok = bdb_txn_foreach_suppression (txn, BDB_TABLE_ADDRESS, NULL, export_one, &e, &error);
	e.table = BDB_TABLE_DOMAIN;
	if (ok)
		ok = bdb_txn_foreach_suppression (txn, BDB_TABLE_DOMAIN, NULL, export_one, &e, &error);
	if (ok && !csv)
		ok = bdb_txn_foreach_soft (txn, export_soft, &e, &error);
	if (!ok)
		status = cli_fail (cli, cli_db_path (cli), &error);
	if (output) {
		/* The first failure's errno, before a later call changes it.  A
		 * write that failed earlier left only the stream's error flag, and
		 * errno as it set it (ENOSPC) unless something set it since. */
		int failed = 0;
		int earlier = errno;
		if (fflush (out) != 0)
			failed = errno;
		else if (ferror (out))
			failed = earlier ? earlier : EIO;
		else if (fsync (fileno (out)) != 0)
			failed = errno;
		if (fclose (out) != 0 && !failed)
			failed = errno;
		if (failed || status != EX_OK) {
			if (failed)
				cli_warn (cli, "writing '%s' failed: %s", tmp, g_strerror (failed));
			g_unlink (tmp);
			return status != EX_OK ? status : EX_IOERR;
		}
		if (g_rename (tmp, output) != 0) {
			cli_warn (cli, "cannot rename '%s' to '%s': %s", tmp, output, g_strerror (errno));
			g_unlink (tmp);
			return EX_CANTCREAT;
		}
		return status;
	}
	return cli_finish (cli, status);
}
