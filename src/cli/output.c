/* Output of attacker-controlled text.
 *
 * Diagnostics, subjects and addresses come from whoever sent the bounce.
 * On a terminal they could carry escape sequences, so text output shows
 * every control character and invalid byte as an escape.  JSON output is
 * valid for any input (json.c).  CSV output (list --csv, export --format
 * csv) goes through cli_csv_cell(): escaped the same way, then quoted as
 * RFC 4180 says.
 */
#include <string.h>
#include "cli.h"

/* @s with every control character, C1 control, bidirectional override
 * and invalid byte shown as an escape; with @backslash, '\\' too, so that
 * the escapes are unambiguous. */
static char *
escape_text (const char *s, gboolean backslash)
{
	if (!s)
		return g_strdup ("");
	GString *out = g_string_sized_new (strlen (s));
	const char *p = s;
	while (*p) {
		gunichar c = g_utf8_get_char_validated (p, -1);
		if (c == (gunichar) -1 || c == (gunichar) -2) {
			g_string_append_printf (out, "\\x%02X", (guchar) *p);
			p++;
			continue;
		}
		const char *next = g_utf8_next_char (p);
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 ||
		    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)) {
			/* C0, DEL, C1 and the bidirectional overrides. */
			if (c == '\t')
				g_string_append (out, "\\t");
			else if (c < 0x100)
				g_string_append_printf (out, "\\x%02X", c);
			else
				g_string_append_printf (out, "\\u%04X", c);
		} else if (c == '\\' && backslash) {
			g_string_append (out, "\\\\");
		} else {
			g_string_append_len (out, p, next - p);
		}
		p = next;
	}
	return g_string_free (out, FALSE);
}

char *
cli_safe (const char *s)
{
	return escape_text (s, TRUE);
}

void
cli_csv_cell (FILE *out, const char *s, gboolean last)
{
	/* Control characters escaped as in text output (a spreadsheet or a
	 * terminal showing the file must not act on them), invalid UTF-8
	 * too; a backslash stays itself.  A cell a spreadsheet would take for
	 * a formula (=, +, - or @ first: "=HYPERLINK(...)" in a diagnostic)
	 * starts with a quote, which import takes off again. */
	g_autofree char *safe = escape_text (s, FALSE);
	gboolean formula = safe[0] && strchr ("=+-@", safe[0]);
	if (strpbrk (safe, ",\"")) {
		fputc ('"', out);
		if (formula)
			fputc ('\'', out);
		for (const char *p = safe; *p; p++) {
			if (*p == '"')
				fputc ('"', out);
			fputc (*p, out);
		}
		fputc ('"', out);
	} else {
		if (formula)
			fputc ('\'', out);
		fputs (safe, out);
	}
	fputc (last ? '\n' : ',', out);
}

const char *
cli_or_null (const char *s)
{
	return s && *s ? s : NULL;
}
