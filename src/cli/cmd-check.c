/* bouncedb check: may I send to these addresses?
 *
 * One line per address: the address as given, its state (ok, suppressed,
 * invalid), the reason, since when, and the normalised address that was
 * looked up (lowercased, the domain in ASCII), so that the answers can be
 * joined back to the input.  Exit 0 when every address may be mailed, 1
 * when at least one is suppressed, 65 when one is not a valid address (and
 * none suppressed); other statuses are errors (bouncedb(1)).
 */
#include <string.h>
#include "cli.h"

int
cmd_check (Cli *cli, int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "One JSON object per address", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "One line per ADDRESS: the address as given, ok, suppressed or invalid, the\n"
	                            "reason, since when, and the normalised address looked up, separated by tabs.\n"
	                            "\n"
	                            "Exit status: 0 all may be mailed, 1 at least one is suppressed (directly\n"
	                            "or through its domain), 65 an address is not valid; other codes are errors.\n"
	                            "\n"
	                            "Examples:\n"
	                            "  bouncedb check alice@example.com\n"
	                            "  bouncedb check bob@example.com >/dev/null && send-to bob@example.com",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc < 2) {
		cli_warn (cli, "give at least one ADDRESS");
		return EX_USAGE;
	}
	if ((status = cli_open (cli)) != EX_OK)
		return status;
	BdbTxn *txn = cli->txn;
	GError *error = NULL;
	gint64 now = cli_now ();
	gboolean any_suppressed = FALSE, any_invalid = FALSE;
	for (int i = 1; i < argc; i++) {
		g_autofree char *addr = cli_normalize_input (cli, argv[i], &error);
		g_autofree char *given = cli_safe (argv[i]);
		if (!addr) {
			any_invalid = TRUE;
			if (json) {
				g_autoptr (CliJson) b = cli_json_new ();
				cli_json_begin_object (b);
				cli_json_member_string (b, "address", argv[i]);
				cli_json_member_string (b, "normalized", NULL);
				cli_json_member_string (b, "state", "invalid");
				cli_json_member_string (b, "error", error->message);
				cli_json_end_object (b);
				cli_json_print (b, stdout);
			} else {
				g_autofree char *why = cli_safe (error->message);
				printf ("%s\tinvalid\t%s\t-\t-\n", given, why);
			}
			g_clear_error (&error);
			continue;
		}
		gboolean sup;
		BdbSuppression *hit = NULL;
		if (!bdb_txn_is_suppressed (txn, addr, now, &sup, &hit, &error)) {
			status = cli_fail (cli, addr, &error);
			break;
		}
		any_suppressed |= sup;
		g_autofree char *since = hit ? cli_format_time (hit->first_seen) : g_strdup ("-");
		gboolean by_domain = hit && strcmp (hit->key, addr) != 0;
		if (json) {
			g_autoptr (CliJson) b = cli_json_new ();
			cli_check_json (b, argv[i], addr, sup, hit);
			cli_json_print (b, stdout);
		} else {
			g_autofree char *reason = cli_safe (hit && hit->reason ? hit->reason : "-");
			g_autofree char *shown = cli_safe (addr);
			printf ("%s\t%s\t%s%s\t%s\t%s\n", given, sup ? "suppressed" : "ok", reason,
			        by_domain ? " (domain)" : "", since, shown);
		}
		bdb_suppression_free (hit);
	}
	if (status == EX_OK)
		status = any_suppressed ? 1 : any_invalid ? EX_DATAERR : EX_OK;
	return cli_finish (cli, status);
}
