/* bouncedb filter: the bulk path list managers use.
 *
 *   bouncedb filter < list.txt > sendable.txt
 *
 * Streams addresses (one per line, or a column of CSV) from stdin and
 * writes the lines that may be mailed, in input order, in constant
 * memory, from one consistent snapshot of the database (a sweep running
 * meanwhile is not seen half-way).  With --suppressed it writes the
 * suppressed ones instead, each followed by a tab and the reason.
 * Malformed lines are reported on stderr with their line number and, by
 * default, dropped.
 */
#include <string.h>
#include "cli.h"

/* Column @col (1-based) of a delimited line, unquoting "a,b" fields.
 * Writes into @out (bounded). */
static gboolean
csv_field (const char *line, char delim, guint col, char *out, gsize size)
{
	guint c = 1;
	const char *p = line;
	while (c < col) {
		gboolean quoted = *p == '"';
		if (quoted) {
			p++;
			while (*p && !(*p == '"' && p[1] != '"'))
				p += *p == '"' ? 2 : 1;
			if (*p == '"')
				p++;
		}
		while (*p && *p != delim)
			p++;
		if (!*p)
			return FALSE;
		p++;
		c++;
	}
	gsize n = 0;
	if (*p == '"') {
		p++;
		while (*p && n + 1 < size) {
			if (*p == '"') {
				if (p[1] == '"') {
					out[n++] = '"';
					p += 2;
					continue;
				}
				break;
			}
			out[n++] = *p++;
		}
	} else {
		while (*p && *p != delim && n + 1 < size)
			out[n++] = *p++;
	}
	out[n] = '\0';
	return TRUE;
}

int
cmd_filter (Cli *cli, int argc, char **argv)
{
	g_autofree char *delim_opt = NULL, *invalid = NULL;
	gboolean suppressed_mode = FALSE, header = FALSE, quiet = FALSE;
	gint column = 0;
	GOptionEntry entries[] = {
		{ "suppressed", 's', 0, G_OPTION_ARG_NONE, &suppressed_mode,
		  "Write the suppressed lines (each followed by a tab and the reason) instead", NULL },
		{ "column", 0, 0, G_OPTION_ARG_INT, &column, "The address is in this column (1-based) of delimited lines", "N" },
		{ "delimiter", 't', 0, G_OPTION_ARG_STRING, &delim_opt, "Column delimiter (default ',')", "C" },
		{ "header", 0, 0, G_OPTION_ARG_NONE, &header, "The first line is a header: pass it through", NULL },
		{ "invalid", 'i', 0, G_OPTION_ARG_STRING, &invalid,
		  "Lines without a valid address: drop (default) or pass", "drop|pass" },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Do not report malformed lines", NULL },
		{ NULL },
	};
	int status = cli_parse_options (cli, "Examples:\n"
	                            "  bouncedb filter < list.txt > sendable.txt\n"
	                            "  bouncedb filter --column 2 --header < members.csv > sendable.csv\n"
	                            "  bouncedb filter --suppressed < list.txt      # what was removed, and why",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc > 1) {
		cli_warn (cli, "reads the list from standard input; no arguments");
		return EX_USAGE;
	}
	char delim = ',';
	if (delim_opt) {
		if (strcmp (delim_opt, "\\t") == 0 || strcmp (delim_opt, "tab") == 0)
			delim = '\t';
		else if (strlen (delim_opt) == 1)
			delim = delim_opt[0];
		else {
			cli_warn (cli, "--delimiter takes one character");
			return EX_USAGE;
		}
		if (!column)
			column = 1;
	}
	gboolean pass_invalid = FALSE;
	if (invalid && strcmp (invalid, "pass") == 0)
		pass_invalid = TRUE;
	else if (invalid && strcmp (invalid, "drop") != 0) {
		cli_warn (cli, "--invalid takes drop or pass");
		return EX_USAGE;
	}
	if (column < 0) {
		cli_warn (cli, "--column must be positive");
		return EX_USAGE;
	}

	if ((status = cli_open (cli)) != EX_OK)
		return status;
	BdbTxn *txn = cli->txn;
	GError *error = NULL;
	gint64 now = cli_now ();
	static char inbuf[1 << 16], outbuf[1 << 16];
	setvbuf (stdin, inbuf, _IOFBF, sizeof inbuf);
	setvbuf (stdout, outbuf, _IOFBF, sizeof outbuf);

	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	guint64 lineno = 0, malformed = 0;
	char field[1024];
	while ((len = getline (&line, &cap, stdin)) >= 0) {
		lineno++;
		gboolean crlf = len >= 2 && line[len - 2] == '\r';
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (crlf)
			line[--len] = '\0';
		if (lineno == 1 && header) {
			fputs (line, stdout);
			fputc ('\n', stdout);
			continue;
		}
		const char *text = line;
		if (column && !csv_field (line, delim, (guint) column, field, sizeof field)) {
			text = NULL;
		} else if (column) {
			text = field;
		}
		if (text && !*text && !column)
			continue;  /* blank lines in a plain list */
		g_autofree char *addr = text ? cli_normalize_input (cli, text, NULL) : NULL;
		if (!addr) {
			malformed++;
			if (!quiet) {
				g_autofree char *safe = cli_safe (line);
				cli_warn (cli, "line %" G_GUINT64_FORMAT ": no valid address in '%s'%s", lineno, safe,
				              pass_invalid ? " (passed through)" : " (dropped)");
			}
			if (pass_invalid && !suppressed_mode) {
				fputs (line, stdout);
				fputc ('\n', stdout);
			}
			continue;
		}
		gboolean sup;
		BdbSuppression *hit = NULL;
		if (!bdb_txn_is_suppressed (txn, addr, now, &sup, suppressed_mode ? &hit : NULL, &error)) {
			status = cli_fail (cli, addr, &error);
			break;
		}
		if (sup == suppressed_mode) {
			fputs (line, stdout);
			if (suppressed_mode)
				fprintf (stdout, "\t%s", hit && hit->reason ? hit->reason : "suppressed");
			fputc ('\n', stdout);
		}
		bdb_suppression_free (hit);
	}
	free (line);
	if (ferror (stdin)) {
		cli_warn (cli, "reading standard input failed");
		status = EX_IOERR;
	}
	/* Malformed lines were reported; they are not an error of the run. */
	if (malformed && !quiet)
		cli_warn (cli, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " lines had no valid address",
		              malformed, lineno);
	return cli_finish (cli, status);
}
