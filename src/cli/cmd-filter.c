/* bouncedb filter: the bulk path list managers use.
 *
 *   bouncedb filter < list.txt > sendable.txt
 *
 * Streams a list (one address per line, or a column of delimited lines)
 * from stdin and writes the lines that may be mailed, in input order, in
 * constant memory, from one consistent snapshot of the database (a sweep
 * running meanwhile is not seen half-way).  An address may be written as
 * a mailbox, as `mailman members` prints them ("Bob Person
 * <bob@example.net>", quoted names, comments): the line is kept as it is
 * and the address inside is checked.  With --suppressed it writes the
 * suppressed lines instead, with their reason (a tab and the reason; for
 * delimited lines, one more field, the header extended to match).  --json
 * writes an object per line instead.  Malformed lines are reported on
 * stderr with their line number and, by default, dropped; with --invalid
 * pass they are written, except one holding a suppressed address
 * somewhere: no suppressed address goes through unchecked.
 *
 * Runs in bouncedb-full: GMime reads the mailboxes.  A plain address
 * never reaches it (the strict reading comes first), so plain lists cost
 * what they did in the front program.
 */
#include <string.h>
#include "cli.h"

/* Column @col (1-based) of a delimited line into @out, unquoting "a,b"
 * fields; FALSE when the line has fewer columns. */
static gboolean
csv_field (const char *line, char delim, guint col, GString *out)
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
	g_string_truncate (out, 0);
	if (*p == '"') {
		for (p++; *p; p++) {
			if (*p == '"') {
				if (p[1] != '"')
					break;
				p++;
			}
			g_string_append_c (out, *p);
		}
	} else {
		const char *end = strchr (p, delim);
		g_string_append_len (out, p, end ? end - p : (gssize) strlen (p));
	}
	return TRUE;
}

/* One more field for a delimited line, quoted as RFC 4180 says when it
 * must be. */
static void
put_field (char delim, const char *s)
{
	fputc (delim, stdout);
	if (!strchr (s, delim) && !strpbrk (s, "\"\r\n")) {
		fputs (s, stdout);
		return;
	}
	fputc ('"', stdout);
	for (; *s; s++) {
		if (*s == '"')
			fputc ('"', stdout);
		fputc (*s, stdout);
	}
	fputc ('"', stdout);
}

typedef struct {
	Cli *cli;
	BdbTxn *txn;
	gint64 now;
	gboolean suppressed_mode, pass_invalid, json, quiet;
	guint column;
	char delim;
	CliJson *out;
	guint64 malformed;
} Filter;

/* The address of @text: an addr-spec, else a mailbox.  g_free(). */
static char *
address_of (Filter *f, const char *text)
{
	char *addr = cli_normalize_input (f->cli, text, NULL);
	if (!addr && strpbrk (text, "<(\""))
		addr = bdb_address_from_mailbox (text, f->cli->input_flags, NULL);
	return addr;
}

static void
write_line (Filter *f, guint64 lineno, const char *line, const char *addr, const char *state,
            const BdbSuppression *hit)
{
	if (f->json) {
		CliJson *b = f->out;
		cli_json_begin_object (b);
		cli_json_member_int (b, "line", (gint64) lineno);
		cli_json_member_string (b, "input", line);
		cli_json_member_string (b, "address", addr);
		cli_json_member_string (b, "state", state);
		if (hit) {
			cli_json_member (b, "suppression");
			cli_json_begin_object (b);
			cli_suppression_members (b, hit, strcmp (hit->key, addr) == 0 ? BDB_TABLE_ADDRESS : BDB_TABLE_DOMAIN);
			cli_json_end_object (b);
		}
		cli_json_end_object (b);
		cli_json_print (b, stdout);
		return;
	}
	fputs (line, stdout);
	if (f->suppressed_mode) {
		const char *reason = hit && hit->reason ? hit->reason : "suppressed";
		if (f->column)
			put_field (f->delim, reason);
		else
			fprintf (stdout, "\t%s", reason);
	}
	fputc ('\n', stdout);
}

/* Of a line that holds no one valid address: every word with an '@'
 * that is an address, checked; the first suppressed one (g_free()), or
 * NULL when none is.  FALSE on a database error. */
static gboolean
suppressed_inside (Filter *f, const char *text, char **found, GError **error)
{
	g_auto (GStrv) words = g_strsplit_set (text, " \t,;<>()\"'[]", -1);
	*found = NULL;
	for (char **w = words; *w && !*found; w++) {
		if (!strchr (*w, '@'))
			continue;
		g_autofree char *addr = cli_normalize_input (f->cli, *w, NULL);
		gboolean sup = FALSE;
		if (addr && !bdb_txn_is_suppressed (f->txn, addr, f->now, &sup, NULL, error))
			return FALSE;
		if (sup)
			*found = g_steal_pointer (&addr);
	}
	return TRUE;
}

/* One line of the list; FALSE on a database error (reported). */
static gboolean
filter_line (Filter *f, guint64 lineno, const char *line, GString *field, int *status)
{
	const char *text = line;
	if (f->column)
		text = csv_field (line, f->delim, f->column, field) ? field->str : NULL;
	if (text && !*text && !f->column)
		return TRUE;  /* blank lines in a plain list */
	g_autofree char *addr = text ? address_of (f, text) : NULL;
	gboolean invalid = addr == NULL;
	GError *error = NULL;
	/* Passed through unread, unless an address in it is suppressed. */
	if (invalid && f->pass_invalid && !suppressed_inside (f, text ? text : line, &addr, &error)) {
		*status = cli_fail (f->cli, NULL, &error);
		return FALSE;
	}
	gboolean sup = FALSE;
	BdbSuppression *hit = NULL;
	/* The suppression is decoded only when it is written. */
	BdbSuppression **want = f->suppressed_mode || f->json ? &hit : NULL;
	if (addr && !bdb_txn_is_suppressed (f->txn, addr, f->now, &sup, want, &error)) {
		*status = cli_fail (f->cli, addr, &error);
		return FALSE;
	}
	if (invalid) {
		f->malformed++;
		if (!f->quiet) {
			g_autofree char *safe = cli_safe (line);
			g_autofree char *inside = sup ? cli_safe (addr) : NULL;
			cli_warn (f->cli, "line %" G_GUINT64_FORMAT ": no valid address in '%s'%s%s%s", lineno, safe,
			          sup ? "; '" : "", sup ? inside : "",
			          sup ? "' in it is suppressed (dropped)" : f->pass_invalid ? " (passed through)" : " (dropped)");
		}
	}
	if (invalid && !sup) {
		if (f->pass_invalid && !f->suppressed_mode)
			write_line (f, lineno, line, NULL, "invalid", NULL);
	} else if (sup == f->suppressed_mode) {
		write_line (f, lineno, line, addr, sup ? "suppressed" : "ok", hit);
	}
	bdb_suppression_free (hit);
	return TRUE;
}

int
cmd_filter (Cli *cli, int argc, char **argv)
{
	g_autofree char *delim_opt = NULL, *invalid = NULL;
	gboolean header = FALSE;
	gint column = 0;
	Filter f = { 0 };
	f.cli = cli;
	GOptionEntry entries[] = {
		{ "suppressed", 's', 0, G_OPTION_ARG_NONE, &f.suppressed_mode,
		  "Write the suppressed lines instead, with the reason (a tab and the reason, or one more column)", NULL },
		{ "column", 0, 0, G_OPTION_ARG_INT, &column, "The address is in this column (1-based) of delimited lines", "N" },
		{ "delimiter", 't', 0, G_OPTION_ARG_STRING, &delim_opt, "Column delimiter (default ',')", "C" },
		{ "header", 0, 0, G_OPTION_ARG_NONE, &header, "The first line is a header: pass it through", NULL },
		{ "invalid", 'i', 0, G_OPTION_ARG_STRING, &invalid,
		  "Lines without a valid address: drop (default) or pass (unless a suppressed address is in them)", "drop|pass" },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &f.json, "One JSON object per line written", NULL },
		{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &f.quiet, "Do not report malformed lines", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "A line is an address, or a mailbox such as 'Bob Person <bob@example.net>'\n"
	                            "(the output of 'mailman members'); the line is written as it came.\n"
	                            "\n"
	                            "Examples:\n"
	                            "  bouncedb filter < list.txt > sendable.txt\n"
	                            "  bouncedb filter --column 2 --header < members.csv > sendable.csv\n"
	                            "  bouncedb filter --suppressed < list.txt      # what was removed, and why\n"
	                            "  mailman members announce | bouncedb filter --json",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc > 1) {
		cli_warn (cli, "reads the list from standard input; no arguments");
		return EX_USAGE;
	}
	f.delim = ',';
	if (delim_opt) {
		if (strcmp (delim_opt, "\\t") == 0 || strcmp (delim_opt, "tab") == 0)
			f.delim = '\t';
		else if (strlen (delim_opt) == 1)
			f.delim = delim_opt[0];
		else {
			cli_warn (cli, "--delimiter takes one character");
			return EX_USAGE;
		}
		if (!column)
			column = 1;
	}
	if (invalid && strcmp (invalid, "pass") == 0)
		f.pass_invalid = TRUE;
	else if (invalid && strcmp (invalid, "drop") != 0) {
		cli_warn (cli, "--invalid takes drop or pass");
		return EX_USAGE;
	}
	if (column < 0) {
		cli_warn (cli, "--column must be positive");
		return EX_USAGE;
	}
	f.column = (guint) column;

	if ((status = cli_open (cli)) != EX_OK)
		return status;
	f.txn = cli->txn;
	f.now = cli_now ();
	g_autoptr (CliJson) out = cli_json_new ();
	f.out = out;
	static char inbuf[1 << 16], outbuf[1 << 16];
	setvbuf (stdin, inbuf, _IOFBF, sizeof inbuf);
	setvbuf (stdout, outbuf, _IOFBF, sizeof outbuf);

	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	guint64 lineno = 0;
	g_autoptr (GString) field = g_string_new (NULL);
	while ((len = getline (&line, &cap, stdin)) >= 0) {
		lineno++;
		gboolean crlf = len >= 2 && line[len - 2] == '\r';
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (crlf)
			line[--len] = '\0';
		if (lineno == 1 && header) {
			if (f.json)
				continue;  /* the objects name their fields */
			fputs (line, stdout);
			if (f.suppressed_mode && f.column)
				put_field (f.delim, "suppression_reason");
			fputc ('\n', stdout);
			continue;
		}
		if (!filter_line (&f, lineno, line, field, &status))
			break;
	}
	free (line);
	if (ferror (stdin)) {
		cli_warn (cli, "reading standard input failed");
		status = EX_IOERR;
	}
	/* Malformed lines were reported; they are not an error of the run. */
	if (f.malformed && !f.quiet)
		cli_warn (cli, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " lines had no valid address",
		          f.malformed, lineno);
	return cli_finish (cli, status);
}
