/* bouncedb explain: why each recipient of a bounce got its verdict.
 *
 * Shows the fields classification read, the rule that decided (its id,
 * where it is written and its text), what of the record made each of its
 * conditions hold (the words that matched) and the resulting verdict, so an
 * operator can answer "why was this address suppressed?" and write an
 * override rule when bouncedb is wrong.
 */
#include <string.h>
#include <unistd.h>
#include "cli.h"

static void
line (const char *label, const char *value)
{
	if (!value || !*value)
		return;
	g_autofree char *safe = cli_safe (value);
	printf ("  %-15s %s\n", label, safe);
}

static void
explain_record (const BdbRules *rules, const BdbRecord *rec, const BdbVerdict *v)
{
	const char *status = bdb_record_get (rec, BDB_FIELD_STATUS);
	const char *dsn = bdb_record_get (rec, BDB_FIELD_DSN_STATUS);
	g_autofree char *safe_rcpt = cli_safe (bdb_record_get (rec, BDB_FIELD_RECIPIENT));

	printf ("%s\n", safe_rcpt);
	line ("kind", bdb_record_get (rec, BDB_FIELD_KIND));
	line ("read by", bdb_record_get (rec, BDB_FIELD_EXTRACTOR));
	line ("source", bdb_record_get (rec, BDB_FIELD_RECIPIENT_SOURCE));
	line ("tied by", bdb_record_tied_by (rec));
	/* The envelope named somebody else: the report's own fields win, but
	 * an operator should see it (a forwarded address, or a forgery). */
	const char *verp = bdb_record_get (rec, BDB_FIELD_VERP_RECIPIENT);
	const char *rcpt = bdb_record_get (rec, BDB_FIELD_RECIPIENT);
	const char *orcpt = bdb_record_get (rec, BDB_FIELD_ORIGINAL_RECIPIENT);
	g_autofree char *norcpt = orcpt ? bdb_address_normalize (orcpt, BDB_ADDRESS_UNICODE_DOMAIN, NULL) : NULL;
	if (verp && g_strcmp0 (verp, rcpt) != 0 && g_strcmp0 (verp, norcpt) != 0) {
		g_autofree char *s = g_strdup_printf ("%s (the report's own recipient is used)", verp);
		line ("verp mismatch", s);
	}
	line ("action", bdb_record_get (rec, BDB_FIELD_ACTION));
	if (status && dsn && strcmp (status, dsn) != 0) {
		g_autofree char *s = g_strdup_printf ("%s (Status: %s, refined by the diagnostic)", status, dsn);
		line ("status", s);
	} else {
		line ("status", status);
	}
	line ("reply code", bdb_record_get (rec, BDB_FIELD_REPLY_CODE));
	line ("smtp command", bdb_record_get (rec, BDB_FIELD_SMTP_COMMAND));
	line ("diagnostic", bdb_record_get (rec, BDB_FIELD_DIAGNOSTIC));
	line ("remote mta", bdb_record_get (rec, BDB_FIELD_REMOTE_MTA));
	line ("feedback type", bdb_record_get (rec, BDB_FIELD_FEEDBACK_TYPE));
	if (v->rule) {
		g_autofree char *by = g_strdup_printf ("rule %s (%s), reading %s", bdb_rule_id (v->rule),
		                                       bdb_rule_origin (v->rule), bdb_field_name (v->evidence));
		line ("decided by", by);
		line ("rule text", bdb_rule_text (v->rule));
		g_autofree char *matched = bdb_classify_evidence (rules, rec, v);
		line ("matched", matched);
	} else {
		line ("decided by", "no rule matched: undefined");
	}
	g_autofree char *verdict = g_strdup_printf ("reason=%s hard=%s disposition=%s scope=%s",
	                                            bdb_reason_name (v->reason), v->hard ? "yes" : "no",
	                                            bdb_disposition_name (v->disposition),
	                                            bdb_scope_name (v->scope));
	line ("verdict", verdict);
}

int
cmd_explain (Cli *cli, int argc, char **argv)
{
	gboolean json = FALSE, no_layouts = FALSE;
	GOptionEntry entries[] = {
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON Lines (records with rule and evidence)", NULL },
		{ "no-layouts", 0, 0, G_OPTION_ARG_NONE, &no_layouts,
		  "Read with the standard reports and the general reader only, without the MTA-family layouts", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Example:\n"
	                            "  bouncedb explain ~/Maildir/.bounces/cur/1700000000.M1P2.host:2,S\n"
	                            "\n"
	                            "To change a verdict, write a rule with the same id in the file named by\n"
	                            "[classify] rules_file in bouncedb.conf (see bouncedb.conf(5)).",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	g_autoptr (CliJson) out = cli_json_new ();
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
	if (no_layouts)
		opts.readers = BDB_READERS_NO_LAYOUTS;
	for (int i = 1; i < argc; i++) {
		const char *path = argv[i];
		gboolean is_stdin = strcmp (path, "-") == 0;
		BdbReport *report = is_stdin ? bdb_report_parse_fd (STDIN_FILENO, "-", &opts, &error)
		                             : bdb_report_parse_file (path, &opts, &error);
		if (!report) {
			cli_error (cli, path, error);
			if (status == EX_OK)
				status = cli_exit_code (error);
			g_clear_error (&error);
			continue;
		}
		g_autofree char *base = is_stdin ? g_strdup ("-") : g_path_get_basename (path);
		g_autofree char *safe_path = cli_safe (path);
		if (!json)
			printf ("%s%s:\n", i > 1 ? "\n" : "", safe_path);
		guint n = bdb_report_n_records (report);
		if (n == 0 && !json) {
			const char *problem = bdb_report_problem (report);
			printf ("  no recipient: %s\n", problem ? problem : "not a bounce report");
		}
		for (guint k = 0; k < n; k++) {
			const BdbRecord *rec = bdb_report_get_record (report, k);
			BdbVerdict v;
			bdb_classify (rules, rec, &v);
			if (json) {
				cli_json_begin_object (out);
				cli_record_members (out, rec, &v, base);
				if (bdb_record_tied_by (rec))
					cli_json_member_string (out, "tied_by", bdb_record_tied_by (rec));
				if (v.rule) {
					cli_json_member_string (out, "rule_origin", bdb_rule_origin (v.rule));
					cli_json_member_string (out, "rule_text", bdb_rule_text (v.rule));
					g_autofree char *matched = bdb_classify_evidence (rules, rec, &v);
					cli_json_member_string (out, "rule_matched", matched);
				}
				cli_json_end_object (out);
				cli_json_print (out, stdout);
			} else {
				if (k)
					printf ("\n");
				explain_record (rules, rec, &v);
			}
		}
		bdb_report_free (report);
	}
	g_strfreev (keep);
	return cli_finish (cli, status);
}
