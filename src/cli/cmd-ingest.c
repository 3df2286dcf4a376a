/* bouncedb ingest: one message from standard input, for pipe delivery
 * (procmail, Sieve's vnd.dovecot.pipe, a Postfix pipe transport).
 *
 * The exit status is the contract with the MTA: 0 when the message was
 * stored or kept, 75 (EX_TEMPFAIL) for any local failure, so the MTA keeps
 * the message and retries.  Postfix turns any other non-zero status into
 * a permanent failure, which would bounce a bounce.  What becomes of the
 * message is the library's decision (bdb_policy_outcome()), the one sweep
 * takes too: messages that are not bounces, cannot be read, teach nothing
 * or cannot be stored because of what they say (a retry would fail the
 * same way, for days) are kept in a Maildir (--keep, default
 * DB/quarantine) so nothing is lost.  Nothing printed here starts with a
 * status code: pipe(8) would read it as the delivery status.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "postfix-transport.h"  /* generated from contrib/postfix/master.cf */

typedef struct {
	const BdbPolicy *policy;
	const BdbReport *report;
	const BdbVerdict *verdicts;
	gint64 arrival;
	BdbApplyStats stats;
} IngestWrite;

static gboolean
write_report (BdbTxn *txn, gpointer data, GError **error)
{
	IngestWrite *w = data;
	memset (&w->stats, 0, sizeof w->stats);  /* re-run after a map resize */
	return bdb_policy_apply (w->policy, txn, w->report, w->verdicts, w->arrival, &w->stats, error);
}

/* Read all of stdin, at most @limit bytes; *@over is set when there is
 * more (the rest is still unread). */
static GByteArray *
read_input (gsize limit, gboolean *over, GError **error)
{
	GByteArray *buf = g_byte_array_new ();
	char chunk[65536];
	*over = FALSE;
	for (;;) {
		gsize want = MIN (sizeof chunk, limit + 1 - MIN (limit + 1, buf->len));
		if (want == 0) {
			*over = TRUE;
			return buf;
		}
		ssize_t n = read (STDIN_FILENO, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "reading standard input: %s", g_strerror (errno));
			g_byte_array_unref (buf);
			return NULL;
		}
		if (n == 0)
			return buf;
		g_byte_array_append (buf, (const guint8 *) chunk, (guint) n);
	}
}

/* A forged report is kept as evidence, not whole: its headers and first
 * recipients say who sent it, and an attacker sending a thousand
 * recipients per report must not fill the disk with copies. */
#define FORGED_COPY_BYTES (64 * 1024)

/* At most FORGED_COPY_BYTES of @buf, cut at a line end, behind a header
 * that says so. */
static GByteArray *
forged_copy (const GByteArray *buf)
{
	if (buf->len <= FORGED_COPY_BYTES)
		return g_byte_array_ref ((GByteArray *) buf);
	gsize n = FORGED_COPY_BYTES;
	while (n > 0 && buf->data[n - 1] != '\n')
		n--;
	if (n == 0)
		n = FORGED_COPY_BYTES;
	GByteArray *copy = g_byte_array_new ();
	g_autofree char *note = g_strdup_printf ("X-Bouncedb-Cut: forged report, the first %" G_GSIZE_FORMAT
	                                         " of %u bytes kept\n", n, buf->len);
	g_byte_array_append (copy, (const guint8 *) note, (guint) strlen (note));
	g_byte_array_append (copy, buf->data, (guint) n);
	return copy;
}

static int
keep (Cli *cli, const char *dir, const GByteArray *buf, gboolean stream_rest,
      const char *why, gboolean quiet)
{
	GError *error = NULL;
	g_autofree char *path = NULL;
	gboolean ok = stream_rest
	              ? bdb_maildir_deliver_stream (dir, (const char *) buf->data, buf->len, STDIN_FILENO, &path, &error)
	              : bdb_maildir_deliver (dir, (const char *) buf->data, buf->len, &path, &error);
	if (!ok) {
		return cli_fail (cli, dir, &error);
	}
	if (!quiet)
		cli_warn (cli, "kept in %s: %s", path, why);
	return EX_OK;
}

int
cmd_ingest (Cli *cli, int argc, char **argv)
{
	g_autofree char *keep_opt = NULL;
	gboolean quiet = FALSE;
	GOptionEntry entries[] = {
		{ "keep", 'k', 0, G_OPTION_ARG_FILENAME, &keep_opt,
		  "Maildir for messages that are not bounces or cannot be read (default: DB/quarantine)", "MAILDIR" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Say nothing about kept messages", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Exit status: 0 when the message was stored or kept, 75 (EX_TEMPFAIL) when\n"
	                            "anything local failed: the MTA then keeps the message and tries again.\n"
	                            "\n"
	                            "Example:\n"
	                            "  bouncedb ingest --db /var/lib/bouncedb < bounce.eml\n"
	                            "\n"
	                            "A procmail recipe (contrib/procmail/bouncedb.rc) pipes to it:\n"
	                            "  | bouncedb ingest --db /var/lib/bouncedb\n"
	                            "A Postfix transport in master.cf (contrib/postfix/master.cf):"
	                            BDB_POSTFIX_TRANSPORT,
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc > 1) {
		cli_warn (cli, "takes no arguments; the message comes on standard input");
		return EX_TEMPFAIL;
	}

	const char *db = cli_db_path (cli);
	g_autofree char *conf_keep = g_key_file_get_string (cli->config, "ingest", "keep", NULL);
	g_autofree char *keep_dir = keep_opt ? g_strdup (keep_opt)
	                          : conf_keep ? g_strdup (conf_keep)
	                          : g_build_filename (db, "quarantine", NULL);
	GError *error = NULL;

	BdbParseOptions opts;
	/* opts.keep_headers borrows these names: they live as long as opts. */
	g_auto (GStrv) keep_headers G_GNUC_UNUSED = cli_parse_options_from_config (cli, &opts);
	gboolean over = FALSE;
	g_autoptr (GByteArray) buf = read_input (opts.max_message_size, &over, &error);
	if (!buf) {
		return cli_fail (cli, NULL, &error);
	}
	if (over) {
		g_autofree char *why = g_strdup_printf ("larger than max_message_size (%" G_GSIZE_FORMAT " bytes)",
		                                        opts.max_message_size);
		return cli_finish (cli, keep (cli, keep_dir, buf, TRUE, why, quiet));
	}
	gint64 arrival = cli_now ();
	g_autoptr (BdbReport) report = bdb_report_parse_bytes ((const char *) buf->data, buf->len, &opts, &error);
	g_autofree char *why = NULL;
	BdbOutcome outcome = bdb_policy_outcome (report, error, NULL, NULL, &why);
	if (outcome == BDB_OUTCOME_RETRY)
		return cli_fail (cli, NULL, &error);
	g_clear_error (&error);
	if (outcome != BDB_OUTCOME_STORED)  /* not a bounce, or unreadable */
		return cli_finish (cli, keep (cli, keep_dir, buf, FALSE, why, quiet));

	guint n = bdb_report_n_records (report);
	g_autoptr (BdbRules) rules = cli_rules (cli, &error);
	BdbPolicy policy;
	if (!rules || !cli_policy (cli, &policy, &error)) {
		return cli_fail (cli, cli->config_path, &error);
	}
	g_autofree BdbVerdict *verdicts = g_new0 (BdbVerdict, n);
	for (guint i = 0; i < n; i++)
		bdb_classify (rules, bdb_report_get_record (report, i), &verdicts[i]);

	if ((status = cli_open (cli)) != EX_OK)
		return status;
	IngestWrite w = { &policy, report, verdicts, arrival, { 0 } };
	gboolean applied = bdb_store_write (cli->store, write_report, &w, &error);
	g_clear_pointer (&why, g_free);
	outcome = bdb_policy_outcome (report, NULL, applied ? &w.stats : NULL, error, &why);
	switch (outcome) {
	case BDB_OUTCOME_STORED:
		status = EX_OK;
		break;
	case BDB_OUTCOME_RETRY:
		status = cli_fail (cli, db, &error);
		break;
	default: {
		/* Forged, no usable recipient, or a record the database cannot
		 * take: the same on every retry, so kept here, exit 0. */
		g_clear_error (&error);
		g_autoptr (GByteArray) copy = applied && w.stats.forged ? forged_copy (buf) : g_byte_array_ref (buf);
		status = keep (cli, keep_dir, copy, FALSE, why, quiet);
		break;
	}
	}
	/* Nothing goes to stdout: the MTA may log it. */
	return status;
}
