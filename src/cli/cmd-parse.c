/* bouncedb parse: read bounce messages, print one record per recipient.
 *
 * Nothing is stored: this is the command to see what bouncedb reads in a
 * message, and what scripts and the conformance kit call.  A file that
 * cannot be read is reported and the next one is parsed; the exit status
 * then says that something failed.
 */
#include <string.h>
#include <unistd.h>
#include "cli.h"

typedef struct {
	gboolean json;
	gboolean verbose;
	gboolean no_layouts;
	char **headers;
	CliJson *out;  /* with json */
} ParseArgs;

static void
print_table_header (void)
{
	printf ("%-22s %-34s %-9s %-8s %-5s %-15s %-5s %s\n", "FILE", "RECIPIENT", "ACTION",
	        "STATUS", "REPLY", "REASON", "HARD", "DISPOSITION");
}

static void
print_table_row (const char *file, const BdbRecord *rec, const BdbVerdict *v)
{
	g_autofree char *f = cli_safe (file);
	g_autofree char *r = cli_safe (bdb_record_get (rec, BDB_FIELD_RECIPIENT));
	g_autofree char *a = cli_safe (bdb_record_get (rec, BDB_FIELD_ACTION));
	g_autofree char *s = cli_safe (bdb_record_get (rec, BDB_FIELD_STATUS));
	g_autofree char *c = cli_safe (bdb_record_get (rec, BDB_FIELD_REPLY_CODE));
	printf ("%-22s %-34s %-9s %-8s %-5s %-15s %-5s %s\n", f, r, *a ? a : "-", *s ? s : "-",
	        *c ? c : "-", bdb_reason_name (v->reason), v->hard ? "yes" : "no",
	        bdb_disposition_name (v->disposition));
}

/* Print the records of @report, read from @shown (the file's name as
 * given; @base its basename).  @msg numbers the messages of an mbox from
 * 1; 0 for a file holding one message. */
static void
print_report (const ParseArgs *args, const BdbRules *rules, BdbReport *report,
              const char *shown, const char *base, guint msg)
{
	guint n = bdb_report_n_records (report);
	if (n == 0 && args->verbose) {
		const char *problem = bdb_report_problem (report);
		g_autofree char *safe = cli_safe (shown);
		if (msg)
			fprintf (stderr, "bouncedb: parse: '%s' (message %u): %s\n", safe, msg,
			         problem ? problem : "not a bounce report");
		else
			fprintf (stderr, "bouncedb: parse: '%s': %s\n", safe, problem ? problem : "not a bounce report");
	}
	g_autofree char *row_name = msg ? g_strdup_printf ("%s:%u", base, msg) : g_strdup (base);
	for (guint i = 0; i < n; i++) {
		const BdbRecord *rec = bdb_report_get_record (report, i);
		BdbVerdict v;
		bdb_classify (rules, rec, &v);
		if (args->json) {
			CliJson *j = args->out;
			cli_json_begin_object (j);
			cli_record_members (j, rec, &v, base);
			if (msg)
				cli_json_member_int (j, "msg", msg);
			if (bdb_record_tied_by (rec))
				cli_json_member_string (j, "tied_by", bdb_record_tied_by (rec));
			if (args->headers && *args->headers) {
				cli_json_member (j, "headers");
				cli_json_begin_object (j);
				for (char **h = args->headers; *h; h++) {
					const char *val = bdb_report_header (report, *h);
					cli_json_member_string (j, *h, val);  /* null when absent */
				}
				cli_json_end_object (j);
			}
			cli_json_end_object (j);
			cli_json_print (j, stdout);
		} else {
			print_table_row (row_name, rec, &v);
		}
	}
}

/* Does the regular file @path start as an mbox does ("From ")? */
static gboolean
is_mbox (const char *path)
{
	char head[5];
	FILE *f = fopen (path, "rb");
	if (!f)
		return FALSE;
	gboolean yes = fread (head, 1, sizeof head, f) == sizeof head && memcmp (head, "From ", 5) == 0 &&
	               g_file_test (path, G_FILE_TEST_IS_REGULAR);
	fclose (f);
	return yes;
}

/* Every message of the mbox @path; a message that cannot be parsed is
 * reported and the next one read. */
static int
parse_mbox (Cli *cli, const ParseArgs *args, const BdbRules *rules,
            const BdbParseOptions *opts, const char *path)
{
	GError *error = NULL;
	g_autoptr (BdbMbox) mbox = bdb_mbox_open (path, &error);
	if (!mbox)
		return cli_fail (cli, path, &error);
	g_autofree char *base = g_path_get_basename (path);
	const char *data;
	gsize len;
	guint msg = 0;
	int status = EX_OK;
	while (bdb_mbox_next (mbox, &data, &len, &error)) {
		msg++;
		BdbReport *report = bdb_report_parse_bytes (data, len, opts, &error);
		if (!report) {
			g_autofree char *what = g_strdup_printf ("%s (message %u)", path, msg);
			int rc = cli_fail (cli, what, &error);
			if (status == EX_OK)
				status = rc;
			continue;
		}
		print_report (args, rules, report, path, base, msg);
		bdb_report_free (report);
	}
	if (error) {
		int rc = cli_fail (cli, path, &error);
		if (status == EX_OK)
			status = rc;
	}
	return status;
}

static int
parse_one (Cli *cli, const ParseArgs *args, const BdbRules *rules,
           const BdbParseOptions *opts, const char *path)
{
	GError *error = NULL;
	BdbReport *report;
	const char *shown = strcmp (path, "-") == 0 ? "-" : path;

	if (strcmp (path, "-") == 0)
		report = bdb_report_parse_fd (STDIN_FILENO, "-", opts, &error);
	else if (is_mbox (path))
		return parse_mbox (cli, args, rules, opts, path);
	else
		report = bdb_report_parse_file (path, opts, &error);
	if (!report) {
		return cli_fail (cli, shown, &error);
	}

	g_autofree char *base = strcmp (path, "-") == 0 ? g_strdup ("-") : g_path_get_basename (path);
	print_report (args, rules, report, shown, base, 0);
	bdb_report_free (report);
	return EX_OK;
}

int
cmd_parse (Cli *cli, int argc, char **argv)
{
	ParseArgs args = { 0 };
	GOptionEntry entries[] = {
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &args.json, "Print JSON Lines, one object per recipient", NULL },
		{ "header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &args.headers,
		  "Also report this header of the original message (repeatable)", "NAME" },
		{ "verbose", 'v', 0, G_OPTION_ARG_NONE, &args.verbose, "Say why a file gave no records", NULL },
		{ "no-layouts", 0, 0, G_OPTION_ARG_NONE, &args.no_layouts,
		  "Read with the standard reports and the general reader only, without the MTA-family layouts", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Each FILE holds one message, or is an mbox of messages; '-' reads one\n"
	                            "message from standard input.\n"
	                            "Nothing is stored.  Files that are not bounces give no records.\n"
	                            "\n"
	                            "Examples:\n"
	                            "  bouncedb parse ~/Maildir/.bounces/new/*\n"
	                            "  bouncedb parse --json -H X-Campaign-ID - < bounce.eml | jq .reason",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc < 2) {
		cli_warn (cli, "no input; give FILE... or - for standard input");
		return EX_USAGE;
	}

	GError *error = NULL;
	g_autoptr (BdbRules) rules = cli_rules (cli, &error);
	if (!rules) {
		return cli_fail (cli, NULL, &error);
	}
	BdbParseOptions opts;
	char **keep = cli_parse_options_from_config (cli, &opts);
	/* --header names join the configured ones. */
	g_autoptr (GPtrArray) names = g_ptr_array_new ();
	for (char **h = keep; h && *h; h++)
		g_ptr_array_add (names, *h);
	for (char **h = args.headers; h && *h; h++)
		g_ptr_array_add (names, *h);
	g_ptr_array_add (names, NULL);
	opts.keep_headers = (const char *const *) names->pdata;
	if (args.no_layouts)
		opts.readers = BDB_READERS_NO_LAYOUTS;

	if (!args.json && isatty (STDOUT_FILENO))
		print_table_header ();
	g_autoptr (CliJson) out = cli_json_new ();
	args.out = out;
	for (int i = 1; i < argc; i++) {
		int rc = parse_one (cli, &args, rules, &opts, argv[i]);
		if (rc != EX_OK && status == EX_OK)
			status = rc;
	}
	g_strfreev (keep);
	g_strfreev (args.headers);
	return cli_finish (cli, status);
}
