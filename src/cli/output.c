/* Output of attacker-controlled text.
 *
 * Diagnostics, subjects and addresses come from whoever sent the bounce.
 * On a terminal they could carry escape sequences, so text output shows
 * every control character and invalid byte as an escape.  JSON output is
 * valid for any input (json.c).  The CSV writers (cmd-list.c, cmd-export.c) quote as RFC 4180
 * says and replace invalid UTF-8 too.
 */
#include <string.h>
#include "cli.h"

char *
bdb_cli_safe (const char *s)
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
		} else if (c == '\\') {
			g_string_append (out, "\\\\");
		} else {
			g_string_append_len (out, p, next - p);
		}
		p = next;
	}
	return g_string_free (out, FALSE);
}

void
bdb_cli_record_members (BdbJson *b, const BdbRecord *record, const BdbVerdict *verdict, const char *file)
{
	const BdbReport *report = bdb_record_report (record);
	if (file)
		bdb_json_member_string (b, "file", file);
	for (guint f = 0; f < BDB_FIELD_COUNT; f++) {
		const char *v = bdb_record_get (record, (BdbField) f);
		bdb_json_member_string (b, bdb_field_name ((BdbField) f), v ? v : "");
	}
	if (verdict) {
		bdb_json_member_string (b, "reason", bdb_reason_name (verdict->reason));
		bdb_json_member_bool (b, "hard", verdict->hard);
		bdb_json_member_string (b, "disposition", bdb_disposition_name (verdict->disposition));
		bdb_json_member_string (b, "scope", bdb_scope_name (verdict->scope));
		bdb_json_member_string (b, "rule", verdict->rule ? bdb_rule_id (verdict->rule) : "");
		bdb_json_member_string (b, "evidence", bdb_field_name (verdict->evidence));
	}
	const char *name, *value;
	if (bdb_report_get_extension (report, 0, &name, &value)) {
		bdb_json_member (b, "extensions");
		bdb_json_begin_object (b);
		for (guint i = 0; bdb_report_get_extension (report, i, &name, &value); i++) {
			/* A field a report repeats: its first value (JSON names are unique). */
			gboolean seen = FALSE;
			const char *n2, *v2;
			for (guint k = 0; k < i && !seen && bdb_report_get_extension (report, k, &n2, &v2); k++)
				seen = g_ascii_strcasecmp (n2, name) == 0;
			if (!seen)
				bdb_json_member_string (b, name, value);
		}
		bdb_json_end_object (b);
	}
}
