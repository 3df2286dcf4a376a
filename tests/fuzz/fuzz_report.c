/* libFuzzer harness: the whole report parser on one message.
 *
 * The input is a message as it would arrive at the bounce address.  It is
 * parsed with the default limits (plus one kept header, so that path runs
 * too); a refusal must be one of the two documented input errors, and a
 * report must keep every promise of report.h: each record classified with
 * the built-in rules, every field read back.
 *
 * Seeds: corpus/ (tests/fuzz/smoke builds the seed directory); dictionary:
 * tests/fuzz/mime.dict.
 */
#include "fuzz_common.h"

static BdbRules *rules;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fuzz_setup ();
	rules = bdb_rules_new (NULL);
	if (!rules)
		abort ();
	return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	static const char *const keep[] = { "X-Campaign-ID", NULL };
	BdbParseOptions opts;
	bdb_parse_options_init (&opts);
	opts.keep_headers = keep;

	GError *error = NULL;
	BdbReport *r = bdb_report_parse_bytes ((const char *) data, size, &opts, &error);
	if (!r) {
		FUZZ_CHECK (error != NULL);
		FUZZ_CHECK (error->domain == BDB_ERROR);
		FUZZ_CHECK (error->code == BDB_ERROR_LIMIT || error->code == BDB_ERROR_PARSE);
		FUZZ_CHECK (error->message && *error->message);
		g_error_free (error);
		return 0;
	}
	FUZZ_CHECK (error == NULL);
	fuzz_touch_report (r, rules);
	bdb_report_free (r);
	return 0;
}
