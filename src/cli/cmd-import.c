/* bouncedb import: merge a suppression list into the database.
 *
 * The shapes read, each known by its keys or its header, never by a
 * guess from the first character:
 *   bouncedb's export        CSV (by its header row) and JSON Lines
 *   Amazon SES               `aws sesv2 list-suppressed-destinations` JSON,
 *                            event records (SNS or Firehose, one per line),
 *                            the bulk suppression format (JSON Lines, or
 *                            headerless "address,BOUNCE" CSV lines)
 *   Postmark                 the bounces API's JSON, the suppressions dump
 *   SendGrid                 the suppression lists' JSON (bounces, blocks,
 *                            spam reports, invalid emails, unsubscribes)
 *   Mailgun                  the suppression lists' JSON (items/paging)
 *   any CSV                  whose header names an email or address column
 *                            (comma, semicolon or tab), or a headerless list
 * An unknown shape, or a file of which no entry could be read, is an error
 * saying what was expected: never "0 entries merged".
 *
 * What an ESP says an entry is decides whether it is a suppression: a
 * permanent bounce, a complaint, an opt-out or a manual suppression is; a
 * temporary (soft) failure is not, and is skipped and counted, since one
 * soft bounce says nothing about the address (bouncedb's own threshold
 * needs several, over days).  The reason comes from the ESP's words, else
 * from classifying its diagnostic.
 *
 * The whole file is checked first; a bad entry is an error naming its line
 * and nothing is imported.  Then everything is merged in ONE transaction
 * (newest last-seen wins, counts merge as the larger), so importing the
 * same file twice changes nothing.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "import.h"

/* ---- the two passes ---- */

static gboolean
check_entry (Import *im, BdbTable table, BdbSuppression *s, const char *soft_addr,
             const BdbSoftCounter *soft, GError **error)
{
	bdb_suppression_free (s);
	return TRUE;
}

static gboolean
write_entry (Import *im, BdbTable table, BdbSuppression *s, const char *soft_addr,
             const BdbSoftCounter *soft, GError **error)
{
	BdbTxn *txn = im->sink_data;
	gboolean ok;
	if (soft) {
		ok = bdb_txn_put_soft (txn, soft_addr, soft, error);
	} else {
		ok = bdb_policy_merge (&im->policy, txn, table, s, error);
		bdb_suppression_free (s);
	}
	return ok;
}

static gboolean
read_all (Import *im, ImportSink sink, gpointer data, GError **error)
{
	im->sink = sink;
	im->sink_data = data;
	im->entries = im->soft = im->other = 0;  /* again after a map resize */
	return im->read (im, error);
}

static gboolean
write_all (BdbTxn *txn, gpointer data, GError **error)
{
	return read_all (data, write_entry, txn, error);
}

/* Which shape: JSON by its keys, else CSV by its header. */
static gboolean
detect (Import *im, GError **error)
{
	FILE *in = g_fopen (im->path, "r");
	if (!in) {
		g_set_error (error, BDB_ERROR, errno == ENOENT ? BDB_ERROR_NOT_FOUND : BDB_ERROR_IO,
		             "cannot open: %s", g_strerror (errno));
		return FALSE;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	/* The first line that is not blank. */
	while ((n = getline (&line, &cap, in)) >= 0 && !*g_strstrip (line))
		;
	fclose (in);
	g_autofree char *first = n >= 0 ? line : (free (line), NULL);
	if (!first) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "empty file: no entries");
		return FALSE;
	}
	const char *p = g_str_has_prefix (first, "\xef\xbb\xbf") ? first + 3 : first;
	if (*p == '{' || *p == '[')
		return import_json_detect (im, error);
	return import_csv_detect (im, p, error);
}

int
cmd_import (Cli *cli, int argc, char **argv)
{
	g_autofree char *reason = NULL;
	gboolean dry_run = FALSE;
	GOptionEntry entries[] = {
		{ "reason", 'r', 0, G_OPTION_ARG_STRING, &reason,
		  "Reason for entries that give none, such as feedback for a list of complaints", "REASON" },
		{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Check the file only", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "FILE is a bouncedb export (CSV or JSON Lines) or an ESP's: Amazon SES\n"
	                            "('aws sesv2 list-suppressed-destinations' JSON, event records, the bulk\n"
	                            "suppression format), Postmark (bounces or suppressions JSON), SendGrid and\n"
	                            "Mailgun (suppression lists' JSON), or a CSV whose header names an email or\n"
	                            "address column (comma, semicolon or tab).  Temporary (soft) failures are\n"
	                            "skipped and counted.  A bad entry stops the import with its line; nothing\n"
	                            "is imported then.  Importing twice is harmless.\n"
	                            "\n"
	                            "Examples:\n"
	                            "  bouncedb import backup.jsonl\n"
	                            "  bouncedb import --reason feedback mailgun-complaints.csv",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc != 2) {
		cli_warn (cli, "give one FILE (or - for standard input)");
		return EX_USAGE;
	}
	if (reason && !cli_suppression_reason_known (reason)) {
		cli_warn (cli, "unknown reason '%s' (see bouncedb(1), REASONS)", reason);
		return EX_USAGE;
	}
	Import im = { 0 };
	im.cli = cli;
	im.now = cli_now ();
	im.c_addr = im.c_reason = im.c_type = im.c_code = im.c_error = im.c_status = im.c_date = -1;
	im.default_reason = reason;
	GError *error = NULL;
	g_autofree char *tmp = NULL, *safe = NULL;
	im.path = argv[1];
	if (strcmp (argv[1], "-") == 0) {
		/* Two passes need a file: keep standard input in a temporary one.
		 * All of it, or nothing is imported: a full disk must not import
		 * the first part of a list (and a cut line as an address). */
		int fd = g_file_open_tmp ("bouncedb-import-XXXXXX", &tmp, &error);
		gboolean copied = fd >= 0;
		char buf[65536];
		ssize_t n;
		int e = 0;
		while (copied && (n = read (STDIN_FILENO, buf, sizeof buf)) != 0) {
			if (n < 0 && errno == EINTR)
				continue;
			for (ssize_t off = 0, w; copied && n > 0 && off < n; off += w) {
				if ((w = write (fd, buf + off, (size_t) (n - off))) < 0) {
					w = 0;
					if (errno != EINTR)
						copied = FALSE;
				}
			}
			if (n < 0 || !copied) {
				e = errno;
				copied = FALSE;
			}
		}
		if (fd >= 0 && close (fd) != 0 && copied) {
			e = errno;
			copied = FALSE;
		}
		if (!copied) {
			g_autofree char *why = g_strdup (error ? error->message : g_strerror (e ? e : EIO));
			g_clear_error (&error);
			g_set_error (&error, BDB_ERROR, BDB_ERROR_IO, "cannot keep standard input in a temporary file: %s", why);
			if (tmp)
				g_unlink (tmp);
			return cli_finish (cli, cli_fail (cli, argv[1], &error));
		}
		im.path = tmp;
	}
	g_autofree char *base = g_path_get_basename (argv[1]);
	im.note = g_strdup_printf ("imported from %s", base);
	im.rules = cli_rules (cli, &error);
	if (!im.rules || !cli_policy (cli, &im.policy, &error) || !detect (&im, &error) ||
	    !read_all (&im, check_entry, NULL, &error)) {
		status = cli_fail (cli, argv[1], &error);
		goto out;
	}
	if (!im.entries && !im.soft && !im.other && !im.own) {
		cli_warn (cli, "'%s': no entries in this %s", argv[1], im.shape);
		status = EX_DATAERR;
		goto out;
	}
	guint64 merged = im.entries, soft = im.soft, other = im.other;
	if (!dry_run) {
		if ((status = cli_open (cli)) != EX_OK)
			goto out;
		if (!bdb_store_write (cli->store, write_all, &im, &error)) {
			status = cli_fail (cli, argv[1], &error);
			goto out;
		}
	}
	safe = cli_safe (argv[1]);
	fprintf (stderr, "bouncedb: import: %" G_GUINT64_FORMAT " entries %s from '%s' (%s)", merged,
	         dry_run ? "checked" : "merged", safe, im.shape);
	if (soft)
		fprintf (stderr, "; %" G_GUINT64_FORMAT " temporary failures skipped", soft);
	if (other)
		fprintf (stderr, "; %" G_GUINT64_FORMAT " records that are no failure skipped", other);
	fputc ('\n', stderr);
out:
	if (im.header)
		g_ptr_array_unref (im.header);
	bdb_rules_free (im.rules);
	g_free (im.note);
	if (tmp)
		g_unlink (tmp);
	return cli_finish (cli, status);
}
