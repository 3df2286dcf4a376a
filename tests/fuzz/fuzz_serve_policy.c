/* libFuzzer harness: serve's policy delegation side (serve_policy_input
 * in src/cli/serve-proto.c), the bytes a client sends on one connection,
 * in pieces (see fuzz_serve_socketmap.c).  Checked: every reply is
 * "action=...\n\n" with a one-line action; a request read in part is
 * kept across pieces and freed at the end.
 */
#include "fuzz_serve.h"

static gboolean
reader (GByteArray *in, GString *out, char **problem, gpointer state)
{
	return serve_policy_input (&fuzz_sv, state, in, out, problem);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	GString *out = g_string_new (NULL);
	ServePolicy st = { 0 };
	fuzz_feed (data, size, reader, &st, out);
	serve_policy_clear (&st);
	const char *p = out->str, *end = out->str + out->len;
	while (p < end) {
		FUZZ_CHECK (g_str_has_prefix (p, "action="));
		const char *nl = memchr (p, '\n', (gsize) (end - p));
		FUZZ_CHECK (nl && nl + 1 < end && nl[1] == '\n');
		FUZZ_CHECK (!memchr (p, '\r', (gsize) (nl - p)));
		p = nl + 2;
	}
	g_string_free (out, TRUE);
	return 0;
}
