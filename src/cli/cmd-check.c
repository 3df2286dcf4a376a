/* bouncedb check: may I send to these addresses?
 *
 * One line per address: the address, its state (ok, suppressed,
 * invalid), the reason and since when.  Exit 0 when every address may be
 * mailed, 1 when at least one is suppressed, 65 when one is not a valid
 * address (and none suppressed); other statuses are errors (bouncedb(1)).
 */
#include <string.h>
#include "cli.h"

int
bdb_cmd_check (BdbCli *cli, int argc, char **argv)
{
	g_autofree char *db_opt = NULL;
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{ "db", 'd', 0, G_OPTION_ARG_FILENAME, &db_opt, "Database directory", "DIR" },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &json, "One JSON object per address", NULL },
		{ NULL },
	};
	if (!bdb_cli_parse_options (cli, "ADDRESS...", "May these addresses be mailed?",
	                            "Exit status: 0 all may be mailed, 1 at least one is suppressed (directly\n"
	                            "or through its domain), 65 an address is not valid; other codes are errors.\n"
	                            "\n"
	                            "Examples:\n"
	                            "  bouncedb check alice@example.com\n"
	                            "  bouncedb check bob@example.com >/dev/null && send-to bob@example.com",
	                            entries, &argc, &argv))
		return EX_USAGE;
	if (argc < 2) {
		bdb_cli_warn (cli, "give at least one ADDRESS");
		return EX_USAGE;
	}
	int status = EX_OK;
	g_autoptr (BdbStore) store = bdb_cli_open_for_reading (cli, db_opt, NULL, &status);
	if (!store)
		return status;
	BdbTxn *txn = bdb_cli_read_txn (cli, store, &status);
	if (!txn)
		return status;
	GError *error = NULL;
	gint64 now = bdb_cli_now ();
	gboolean any_suppressed = FALSE, any_invalid = FALSE;
	for (int i = 1; i < argc; i++) {
		g_autofree char *addr = bdb_cli_normalize_input (cli, argv[i], &error);
		g_autofree char *shown = bdb_cli_safe (addr ? addr : argv[i]);
		if (!addr) {
			any_invalid = TRUE;
			g_autofree char *why = bdb_cli_safe (error->message);
			if (json) {
				g_autofree char *ja = bdb_json_quote (argv[i]);
				g_autofree char *je = bdb_json_quote (error->message);
				printf ("{\"address\":%s,\"state\":\"invalid\",\"error\":%s}\n", ja, je);
			} else
				printf ("%s\tinvalid\t%s\t-\n", shown, why);
			g_clear_error (&error);
			continue;
		}
		gboolean sup;
		BdbSuppression *hit = NULL;
		if (!bdb_txn_is_suppressed (txn, addr, now, &sup, &hit, &error)) {
			bdb_cli_error (cli, addr, error);
			status = bdb_exit_code (error);
			g_clear_error (&error);
			break;
		}
		any_suppressed |= sup;
		g_autofree char *since = hit ? bdb_cli_format_time (hit->first_seen) : g_strdup ("-");
		gboolean by_domain = hit && strcmp (hit->key, addr) != 0;
		if (json) {
			g_autoptr (BdbJson) b = bdb_json_new ();
			bdb_json_begin_object (b);
			bdb_json_member_string (b, "address", addr);
			bdb_json_member_string (b, "state", sup ? "suppressed" : "ok");
			if (hit) {
				bdb_json_member (b, "suppression");
				bdb_json_begin_object (b);
				bdb_cli_suppression_members (b, hit, by_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS);
				bdb_json_end_object (b);
			}
			bdb_json_end_object (b);
			bdb_json_print (b, stdout);
		} else {
			g_autofree char *reason = bdb_cli_safe (hit && hit->reason ? hit->reason : "-");
			printf ("%s\t%s\t%s%s\t%s\n", shown, sup ? "suppressed" : "ok", reason,
			        by_domain ? " (domain)" : "", since);
		}
		bdb_suppression_free (hit);
	}
	bdb_txn_abort (txn);
	if (status == EX_OK)
		status = any_suppressed ? 1 : any_invalid ? EX_DATAERR : EX_OK;
	return bdb_cli_finish (cli, status);
}
