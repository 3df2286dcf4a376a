/* A record (and its verdict) as members of a JSON object: the one shape
 * parse --json and explain --json print.  Every field is present; what
 * the report does not say is null, never "" (as in every JSON output).  Apart from output.c because it
 * reads records, which only the mail-reading commands link. */
#include "cli.h"

void
cli_record_members (CliJson *b, const BdbRecord *record, const BdbVerdict *verdict, const char *file)
{
	const BdbReport *report = bdb_record_report (record);
	if (file)
		cli_json_member_string (b, "file", file);
	for (guint f = 0; f < BDB_FIELD_COUNT; f++) {
		const char *v = bdb_record_get (record, (BdbField) f);
		cli_json_member_string (b, bdb_field_name ((BdbField) f), cli_or_null (v));
	}
	if (verdict) {
		cli_json_member_string (b, "reason", bdb_reason_name (verdict->reason));
		cli_json_member_bool (b, "hard", verdict->hard);
		cli_json_member_string (b, "disposition", bdb_disposition_name (verdict->disposition));
		cli_json_member_string (b, "scope", bdb_scope_name (verdict->scope));
		cli_json_member_string (b, "rule", verdict->rule ? bdb_rule_id (verdict->rule) : NULL);
		cli_json_member_string (b, "evidence", bdb_field_name (verdict->evidence));
	}
	const char *name, *value;
	if (bdb_report_get_extension (report, 0, &name, &value)) {
		cli_json_member (b, "extensions");
		cli_json_begin_object (b);
		for (guint i = 0; bdb_report_get_extension (report, i, &name, &value); i++) {
			/* A field a report repeats: its first value (JSON names are unique). */
			gboolean seen = FALSE;
			const char *n2, *v2;
			for (guint k = 0; k < i && !seen && bdb_report_get_extension (report, k, &n2, &v2); k++)
				seen = g_ascii_strcasecmp (n2, name) == 0;
			if (!seen)
				cli_json_member_string (b, name, value);
		}
		cli_json_end_object (b);
	}
}
