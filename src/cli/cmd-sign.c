/* bouncedb sign: the envelope sender a list manager uses for a recipient,
 * signed so that only genuine bounces can suppress it (sign.h). */
#include <string.h>
#include "cli.h"

int
cmd_sign (Cli *cli, int argc, char **argv)
{
	g_autofree char *key_file = NULL, *base = NULL, *date = NULL;
	gboolean verp = FALSE;
	GOptionEntry entries[] = {
		{ "verp", 0, 0, G_OPTION_ARG_NONE, &verp,
		  "Write the recipient into the address too (VERP): bounces+alice=example.com+TOKEN@...", NULL },
		{ "key-file", 0, 0, G_OPTION_ARG_FILENAME, &key_file, "Keys (default: [verify] key_file)", "FILE" },
		{ "base", 'b', 0, G_OPTION_ARG_STRING, &base,
		  "The bounce address to sign (default: [verify] base)", "ADDRESS" },
		{ "date", 0, 0, G_OPTION_ARG_STRING, &date, "Sign for this day (default: today)", "T" },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "With [verify] enabled = true in bouncedb.conf, a report can suppress an\n"
	                            "address only when it comes back to an envelope sender signed for that\n"
	                            "address within [verify] max_age_days (7).  The key file holds lines\n"
	                            "\"KEYID SECRET\"; the first key signs, all verify (rotation).\n"
	                            "\n"
	                            "Examples (the comments are what they print):\n"
	                            "  bouncedb sign --base bounces@lists.example.org alice@example.com\n"
	                            "      # bounces+k1.20415.3f1c0a9b2e7d@lists.example.org\n"
	                            "  bouncedb sign --verp --base bounces@lists.example.org alice@example.com\n"
	                            "      # bounces+alice=example.com+k1.20415.3f1c0a9b2e7d@lists.example.org",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc < 2) {
		cli_warn (cli, "give at least one RECIPIENT");
		return EX_USAGE;
	}
	g_autofree char *conf_base = g_key_file_get_string (cli->config, "verify", "base", NULL);
	const char *b = base ? base : conf_base;
	if (!b) {
		cli_warn (cli, "give --base ADDRESS or set [verify] base");
		return EX_USAGE;
	}
	GError *error = NULL;
	BdbSigner *signer = cli_signer (cli, key_file, &error);
	if (!signer) {
		return cli_fail (cli, key_file, &error);
	}
	gint64 now = cli_now (), when = now;
	if (date && !cli_parse_time (date, now, -1, &when)) {
		cli_warn (cli, "bad time '%s'", date);
		return EX_USAGE;
	}
	for (int i = 1; i < argc; i++) {
		g_autofree char *rcpt = cli_normalize_input (cli, argv[i], &error);
		g_autofree char *signed_addr = !rcpt ? NULL
		                               : verp ? bdb_sign_envelope_verp (signer, b, rcpt, when / 86400, &error)
		                               : bdb_sign_envelope (signer, b, rcpt, when / 86400, &error);
		if (!signed_addr) {
			g_autofree char *safe = cli_safe (argv[i]);
			cli_warn (cli, "'%s': %s", safe, error->message);
			g_clear_error (&error);
			status = EX_DATAERR;
			continue;
		}
		printf ("%s\n", signed_addr);
	}
	return cli_finish (cli, status);
}
