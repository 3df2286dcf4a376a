/* Output of attacker-controlled text.
 *
 * Diagnostics, subjects and addresses come from whoever sent the bounce.
 * On a terminal they could carry escape sequences, so text output shows
 * every control character and invalid byte as an escape.  JSON output is
 * valid for any input: json-glib escapes control characters, and invalid
 * UTF-8 (report strings never have it; imported values may) is replaced
 * here.  The CSV writers (cmd-list.c, cmd-export.c) quote as RFC 4180
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
bdb_cli_print_json (FILE *out, JsonNode *node)
{
	g_autoptr (JsonGenerator) gen = json_generator_new ();
	json_generator_set_root (gen, node);
	gsize len = 0;
	g_autofree char *text = json_generator_to_data (gen, &len);
	/* json-glib escapes control characters but copies invalid UTF-8 into
	 * the string literals it is in; a value from an old database or an
	 * imported Latin-1 file would make the line invalid JSON. */
	if (!g_utf8_validate (text, (gssize) len, NULL)) {
		char *valid = g_utf8_make_valid (text, (gssize) len);
		g_free (text);
		text = valid;
		len = strlen (text);
	}
	fwrite (text, 1, len, out);
	fputc ('\n', out);
}

JsonNode *
bdb_cli_record_json (const BdbRecord *record, const BdbVerdict *verdict, const char *file)
{
	const BdbReport *report = bdb_record_report (record);
	g_autoptr (JsonBuilder) b = json_builder_new ();

	json_builder_begin_object (b);
	if (file) {
		json_builder_set_member_name (b, "file");
		json_builder_add_string_value (b, file);
	}
	for (guint f = 0; f < BDB_FIELD_COUNT; f++) {
		const char *v = bdb_record_get (record, (BdbField) f);
		json_builder_set_member_name (b, bdb_field_name ((BdbField) f));
		json_builder_add_string_value (b, v ? v : "");
	}
	if (verdict) {
		json_builder_set_member_name (b, "reason");
		json_builder_add_string_value (b, bdb_reason_name (verdict->reason));
		json_builder_set_member_name (b, "hard");
		json_builder_add_boolean_value (b, verdict->hard);
		json_builder_set_member_name (b, "disposition");
		json_builder_add_string_value (b, bdb_disposition_name (verdict->disposition));
		json_builder_set_member_name (b, "scope");
		json_builder_add_string_value (b, bdb_scope_name (verdict->scope));
		json_builder_set_member_name (b, "rule");
		json_builder_add_string_value (b, verdict->rule ? bdb_rule_id (verdict->rule) : "");
		json_builder_set_member_name (b, "evidence");
		json_builder_add_string_value (b, bdb_field_name (verdict->evidence));
	}
	const char *name, *value;
	if (bdb_report_get_extension (report, 0, &name, &value)) {
		json_builder_set_member_name (b, "extensions");
		json_builder_begin_object (b);
		for (guint i = 0; bdb_report_get_extension (report, i, &name, &value); i++) {
			json_builder_set_member_name (b, name);
			json_builder_add_string_value (b, value);
		}
		json_builder_end_object (b);
	}
	json_builder_end_object (b);
	return json_builder_get_root (b);
}

char *
bdb_cli_json_string (const char *s)
{
	g_autofree char *valid = g_utf8_make_valid (s ? s : "", -1);
	JsonNode *n = json_node_init_string (json_node_alloc (), valid);
	char *out = json_to_string (n, FALSE);
	json_node_unref (n);
	return out;
}
