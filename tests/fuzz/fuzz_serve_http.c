/* libFuzzer harness: serve's HTTP handlers (serve_http_answer in
 * src/cli/serve-http.c), what libsoup hands them: a method, a path and a
 * query as sent (percent-encoded), and a body.
 *
 * The input is "METHOD-BYTE PATH \n QUERY \n BODY": the first byte picks
 * the method (GET, POST, HEAD, PUT), the next lines the path and the query
 * (an empty query line is no query), the rest is the body.  Checked: the
 * status is one the endpoints use; JSON replies are one valid JSON value
 * per line (json-glib reads them back); a 405 names what is allowed.
 */
#include <json-glib/json-glib.h>
#include "fuzz_serve.h"

static void
check_json_lines (const GString *body)
{
	g_auto (GStrv) lines = g_strsplit (body->str, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		if (!*lines[i])
			continue;
		g_autoptr (JsonParser) parser = json_parser_new ();
		FUZZ_CHECK (json_parser_load_from_data (parser, lines[i], -1, NULL));
	}
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT" };
	if (size < 1)
		return 0;
	const char *method = methods[data[0] % G_N_ELEMENTS (methods)];
	const char *p = (const char *) data + 1, *end = (const char *) data + size;
	const char *nl1 = memchr (p, '\n', (gsize) (end - p));
	g_autofree char *path = g_strndup (p, nl1 ? (gsize) (nl1 - p) : (gsize) (end - p));
	g_autofree char *query = NULL;
	const char *body = NULL;
	gsize len = 0;
	if (nl1) {
		const char *q = nl1 + 1;
		const char *nl2 = memchr (q, '\n', (gsize) (end - q));
		query = g_strndup (q, nl2 ? (gsize) (nl2 - q) : (gsize) (end - q));
		if (nl2) {
			body = nl2 + 1;
			len = (gsize) (end - body);
		}
	}
	/* libsoup hands over strings (cut at a NUL here); a path starts with /. */
	if (path[0] != '/')
		return 0;
	ServeHttpReply r = { 0 };
	r.body = g_string_new (NULL);
	serve_http_answer (&fuzz_sv, method, path, query && *query ? query : NULL, body, len, &r);
	static const guint statuses[] = { 200, 400, 404, 405, 500, 503 };
	gboolean known = FALSE;
	for (gsize i = 0; i < G_N_ELEMENTS (statuses); i++)
		known |= r.status == statuses[i];
	FUZZ_CHECK (known);
	FUZZ_CHECK (r.content_type != NULL);
	FUZZ_CHECK ((r.status == 405) == (r.allow != NULL));
	if (g_str_has_prefix (r.content_type, "application/json"))
		check_json_lines (r.body);
	g_string_free (r.body, TRUE);
	return 0;
}
