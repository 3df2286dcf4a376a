/* bouncedb sign: the envelope sender a list manager uses for a recipient,
 * signed so that only genuine bounces can suppress it (sign.h). */
#include <string.h>
#include "cli.h"

int
bdb_cmd_sign (BdbCli *cli, int argc, char **argv)
{
	g_autofree char *key_file = NULL, *base = NULL, *date = NULL;
	GOptionEntry entries[] = {
		{ "key-file", 'k', 0, G_OPTION_ARG_FILENAME, &key_file, "Keys (default: [verify] key_file)", "FILE" },
		{ "base", 'b', 0, G_OPTION_ARG_STRING, &base,
		  "The bounce address to sign (default: [verify] base)", "ADDRESS" },
		{ "date", 0, 0, G_OPTION_ARG_STRING, &date, "Sign for this day (default: today)", "T" },
		{ NULL },
	};
	if (!bdb_cli_parse_options (cli, "RECIPIENT...",
	                            "Print the signed envelope sender to use for each recipient.",
	                            "With [verify] enabled = true in bouncedb.conf, a report can suppress an\n"
	                            "address only when it comes back to an envelope sender signed for that\n"
	                            "address within [verify] max_age_days (7).  The key file holds lines\n"
	                            "\"KEYID SECRET\"; the first key signs, all verify (rotation).\n"
	                            "\n"
	                            "Example:\n"
	                            "  bouncedb sign --base bounces@lists.example.org alice@example.com\n"
	                            "  -> bounces+k1.20415.3f1c0a9b2e7d@lists.example.org",
	                            entries, &argc, &argv))
		return EX_USAGE;
	if (argc < 2) {
		bdb_cli_warn (cli, "give at least one RECIPIENT");
		return EX_USAGE;
	}
	g_autofree char *conf_base = g_key_file_get_string (cli->config, "verify", "base", NULL);
	const char *b = base ? base : conf_base;
	if (!b) {
		bdb_cli_warn (cli, "give --base ADDRESS or set [verify] base");
		return EX_USAGE;
	}
	GError *error = NULL;
	BdbSigner *signer = bdb_cli_signer (cli, key_file, &error);
	if (!signer) {
		bdb_cli_error (cli, key_file, error);
		int code = bdb_exit_code (error);
		g_error_free (error);
		return code;
	}
	gint64 now = bdb_cli_now (), when = now;
	if (date && !bdb_cli_parse_time (date, now, -1, &when)) {
		bdb_cli_warn (cli, "bad time '%s'", date);
		return EX_USAGE;
	}
	int status = EX_OK;
	for (int i = 1; i < argc; i++) {
		g_autofree char *rcpt = bdb_cli_normalize_input (cli, argv[i], &error);
		g_autofree char *signed_addr = rcpt ? bdb_sign_envelope (signer, b, rcpt, when / 86400, &error) : NULL;
		if (!signed_addr) {
			g_autofree char *safe = bdb_cli_safe (argv[i]);
			bdb_cli_warn (cli, "'%s': %s", safe, error->message);
			g_clear_error (&error);
			status = EX_DATAERR;
			continue;
		}
		printf ("%s\n", signed_addr);
	}
	return bdb_cli_finish (cli, status);
}
