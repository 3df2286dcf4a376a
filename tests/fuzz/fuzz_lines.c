/* libFuzzer harness: the library pieces behind `filter`, `import` and
 * user rules files.
 *
 * `filter` and `import` read their lines in src/cli (cmd-filter.c,
 * cmd-import.c); what they hand to the library is fuzzed here:
 *   - the whole input as a rules file (bdb_rules_add_text), on top of the
 *     built-in rules, as [classify] rules_file does;
 *   - each line as a delimited row (',' or tab): the first cell through
 *     bdb_address_normalize() with BDB_ADDRESS_STRICT, as filter, check
 *     and import do; the next cells (action, status, reply code,
 *     diagnostic) through bdb_classify_fields(), as import does for an
 *     ESP's suppression list, with the rules just read when the input
 *     was accepted as rules, else with the built-in ones.
 *
 * Seeds: src/lib/rules.txt, tests/classify_cases.tsv and small CSVs
 * (tests/fuzz/smoke); dictionary: tests/fuzz/lines.dict.
 */
#include "fuzz_common.h"

static BdbRules *builtin;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
	(void) argc;
	(void) argv;
	fuzz_setup ();
	builtin = bdb_rules_new (NULL);
	if (!builtin)
		abort ();
	return 0;
}

static void
check_address (const char *cell)
{
	static const BdbAddressFlags extra[] = {
		0, BDB_ADDRESS_KEEP_LOCAL_CASE, BDB_ADDRESS_UNICODE_DOMAIN,
		BDB_ADDRESS_KEEP_LOCAL_CASE | BDB_ADDRESS_UNICODE_DOMAIN,
	};
	for (gsize i = 0; i < G_N_ELEMENTS (extra); i++) {
		BdbAddressFlags flags = BDB_ADDRESS_STRICT | extra[i];
		GError *error = NULL;
		char *a = bdb_address_normalize (cell, flags, &error);
		if (!a) {
			FUZZ_CHECK (error != NULL && error->code == BDB_ERROR_INVALID);
			g_error_free (error);
			continue;
		}
		FUZZ_CHECK (g_utf8_validate (a, -1, NULL));
		FUZZ_CHECK (bdb_address_domain (a) != NULL);
		/* No control characters; a space only in a quoted local part. */
		for (const char *c = a; *c; c++)
			FUZZ_CHECK ((guchar) *c >= 0x20 && *c != 0x7f && (*c != ' ' || a[0] == '"'));
		char *again = bdb_address_normalize (a, flags, NULL);
		FUZZ_CHECK (again != NULL && strcmp (again, a) == 0);
		g_free (again);
		g_free (a);
	}
}

static void
classify_row (const BdbRules *rules, BdbKind kind, char **cells, guint n)
{
	BdbVerdict v;
	bdb_classify_fields (rules, kind, n > 1 ? cells[1] : NULL, n > 2 ? cells[2] : NULL,
	                     n > 3 ? cells[3] : NULL, n > 4 ? cells[4] : NULL, &v);
	fuzz_touch_verdict (&v);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	const char *text = (const char *) data;

	/* Rules read from the input are added to the built-in ones, as a
	 * user's rules file is; a copy of the built-ins for every input would
	 * cost more than all the rest, so the set that accepted them is used
	 * for this input and rebuilt afterwards (most inputs are refused, and
	 * a refused text adds nothing). */
	BdbRules *user = NULL;
	GError *error = NULL;
	if (bdb_rules_add_text (builtin, "fuzz", text, (gssize) size, &error)) {
		FUZZ_CHECK (error == NULL);
		user = g_steal_pointer (&builtin);
	} else {
		FUZZ_CHECK (error != NULL && error->code == BDB_ERROR_INVALID);
		FUZZ_CHECK (g_str_has_prefix (error->message, "fuzz:"));
		g_error_free (error);
	}

	const char *p = text, *end = text + size;
	for (guint lines = 0; p < end && lines < 64; lines++) {
		const char *nl = memchr (p, '\n', (size_t) (end - p));
		const char *e = nl ? nl : end;
		char *line = g_strndup (p, (gsize) (e - p));
		char **cells = g_strsplit_set (line, ",\t", 5);
		guint n = g_strv_length (cells);
		if (n > 0)
			check_address (cells[0]);
		classify_row (user ? user : builtin, (BdbKind) (lines % 4), cells, n);
		g_strfreev (cells);
		g_free (line);
		p = nl ? nl + 1 : end;
	}
	if (user) {
		bdb_rules_free (user);
		builtin = bdb_rules_new (NULL);
		FUZZ_CHECK (builtin != NULL);
	}
	return 0;
}
