/* libFuzzer harness: serve's socketmap side (serve_socketmap_input in
 * src/cli/serve-proto.c), the bytes a client sends on one connection.
 *
 * The input (after a selector byte that cuts it into pieces, as a socket
 * would deliver it) is fed to the reader piece by piece over a small real
 * database.  Checked: the reply stream is a sequence of netstrings, each
 * "OK ...", "NOTFOUND ", "TEMP ..." or "PERM ..."; a reply is a single
 * line; after a protocol error (FALSE) nothing more is read, as the
 * connection is closed.  Seeds: tests/fuzz/smoke; dictionary:
 * serve.dict.
 */
#include "fuzz_serve.h"

static void
check_replies (const GString *out)
{
	const char *p = out->str, *end = out->str + out->len;
	while (p < end) {
		char *colon;
		guint64 n = g_ascii_strtoull (p, &colon, 10);
		FUZZ_CHECK (colon > p && *colon == ':');
		FUZZ_CHECK ((gsize) (end - colon) >= n + 2);
		const char *r = colon + 1;
		FUZZ_CHECK (r[n] == ',');
		FUZZ_CHECK (g_str_has_prefix (r, "OK ") || g_str_has_prefix (r, "NOTFOUND ") ||
		            g_str_has_prefix (r, "TEMP ") || g_str_has_prefix (r, "PERM "));
		FUZZ_CHECK (!memchr (r, '\n', n) && !memchr (r, '\r', n));
		p = r + n + 1;
	}
}

static gboolean
reader (GByteArray *in, GString *out, char **problem, gpointer state)
{
	return serve_socketmap_input (&fuzz_sv, in, out, problem);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	GString *out = g_string_new (NULL);
	fuzz_feed (data, size, reader, NULL, out);
	check_replies (out);
	g_string_free (out, TRUE);
	return 0;
}
