/* A JSON writer for the command line's output.
 *
 * Output only: a list manager reads a line per record, and building a
 * json-glib tree per record cost more than the record (an eighth of
 * `parse --json`) and loading json-glib (with GIO) cost `check` most of
 * its start-up.  Strings are written as valid UTF-8 whatever they hold:
 * invalid sequences become U+FFFD, control characters and the line and
 * paragraph separators are escaped.
 */
#include <math.h>
#include <string.h>
#include "json.h"

struct _CliJson {
	GString *out;
	gboolean need_comma;  /* a value was written at this level */
};

CliJson *
cli_json_new (void)
{
	CliJson *j = g_new0 (CliJson, 1);
	j->out = g_string_sized_new (1024);
	return j;
}

void
cli_json_free (CliJson *j)
{
	if (!j)
		return;
	g_string_free (j->out, TRUE);
	g_free (j);
}

static void
comma (CliJson *j)
{
	if (j->need_comma)
		g_string_append_c (j->out, ',');
}

static void
append_escaped (GString *out, const char *s, gssize len)
{
	const char *p = s, *end = s + (len < 0 ? (gssize) strlen (s) : len);
	g_string_append_c (out, '"');
	while (p < end) {
		/* Runs of plain ASCII are copied at once. */
		const char *q = p;
		while (q < end && (guchar) *q >= 0x20 && (guchar) *q < 0x80 && *q != '"' && *q != '\\')
			q++;
		g_string_append_len (out, p, q - p);
		if (q == end)
			break;
		p = q;
		guchar c = (guchar) *p;
		if (c < 0x80) {
			static const char *const named[] = { ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n",
			                                     ['\r'] = "\\r", ['\t'] = "\\t" };
			if (c == '"')
				g_string_append (out, "\\\"");
			else if (c == '\\')
				g_string_append (out, "\\\\");
			else if (c < G_N_ELEMENTS (named) && named[c])
				g_string_append (out, named[c]);
			else
				g_string_append_printf (out, "\\u%04x", c);
			p++;
			continue;
		}
		gunichar u = g_utf8_get_char_validated (p, end - p);
		if (u == (gunichar) -1 || u == (gunichar) -2) {
			g_string_append (out, "\xef\xbf\xbd");  /* U+FFFD */
			p++;
			continue;
		}
		const char *next = g_utf8_next_char (p);
		if (u == 0x2028 || u == 0x2029 || (u >= 0x80 && u < 0xa0))
			g_string_append_printf (out, "\\u%04x", u);  /* separators, C1 controls */
		else
			g_string_append_len (out, p, next - p);
		p = next;
	}
	g_string_append_c (out, '"');
}

static void
open_bracket (CliJson *j, char c)
{
	comma (j);
	g_string_append_c (j->out, c);
	j->need_comma = FALSE;
}

static void
close_bracket (CliJson *j, char c)
{
	g_string_append_c (j->out, c);
	j->need_comma = TRUE;
}

void
cli_json_begin_object (CliJson *j)
{
	open_bracket (j, '{');
}

void
cli_json_end_object (CliJson *j)
{
	close_bracket (j, '}');
}

void
cli_json_begin_array (CliJson *j)
{
	open_bracket (j, '[');
}

void
cli_json_end_array (CliJson *j)
{
	close_bracket (j, ']');
}

void
cli_json_member (CliJson *j, const char *name)
{
	comma (j);
	append_escaped (j->out, name, -1);
	g_string_append_c (j->out, ':');
	j->need_comma = FALSE;
}

void
cli_json_string (CliJson *j, const char *s)
{
	if (!s) {
		cli_json_null (j);
		return;
	}
	comma (j);
	append_escaped (j->out, s, -1);
	j->need_comma = TRUE;
}

void
cli_json_int (CliJson *j, gint64 v)
{
	comma (j);
	g_string_append_printf (j->out, "%" G_GINT64_FORMAT, v);
	j->need_comma = TRUE;
}

void
cli_json_double (CliJson *j, double v)
{
	comma (j);
	if (!isfinite (v)) {
		g_string_append (j->out, "null");  /* JSON has no NaN nor infinity */
	} else {
		char buf[G_ASCII_DTOSTR_BUF_SIZE];
		g_string_append (j->out, g_ascii_dtostr (buf, sizeof buf, v));
	}
	j->need_comma = TRUE;
}

void
cli_json_bool (CliJson *j, gboolean v)
{
	comma (j);
	g_string_append (j->out, v ? "true" : "false");
	j->need_comma = TRUE;
}

void
cli_json_null (CliJson *j)
{
	comma (j);
	g_string_append (j->out, "null");
	j->need_comma = TRUE;
}

void
cli_json_print (CliJson *j, FILE *out)
{
	g_string_append_c (j->out, '\n');
	fwrite (j->out->str, 1, j->out->len, out);
	g_string_truncate (j->out, 0);
	j->need_comma = FALSE;
}

void
cli_json_move (CliJson *j, GString *to)
{
	g_string_append_len (to, j->out->str, (gssize) j->out->len);
	g_string_append_c (to, '\n');
	g_string_truncate (j->out, 0);
	j->need_comma = FALSE;
}

char *
cli_json_quote (const char *s)
{
	GString *out = g_string_new (NULL);
	append_escaped (out, s ? s : "", -1);
	return g_string_free (out, FALSE);
}

void
cli_json_member_string (CliJson *j, const char *name, const char *value)
{
	cli_json_member (j, name);
	cli_json_string (j, value);
}

void
cli_json_member_int (CliJson *j, const char *name, gint64 value)
{
	cli_json_member (j, name);
	cli_json_int (j, value);
}

void
cli_json_member_bool (CliJson *j, const char *name, gboolean value)
{
	cli_json_member (j, name);
	cli_json_bool (j, value);
}

void
cli_json_member_double (CliJson *j, const char *name, double value)
{
	cli_json_member (j, name);
	cli_json_double (j, value);
}
