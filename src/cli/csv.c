/* Suppressions as CSV: one writer, one set of columns, for `list --format
 * csv` and `export --format csv`, so that a file of either reads the same
 * (and imports back).  RFC 4180: a field holding a comma, a quote or a
 * line break is quoted, its quotes doubled; the first line is the header
 * and nothing comes before it (a "#" line breaks csv.DictReader and
 * spreadsheets).  Each cell goes through cli_csv_cell() (output.c), which
 * escapes control characters and invalid bytes as text output does.
 */
#include <string.h>
#include "cli.h"

static const char *const columns[] = {
	"table", "key", "state", "kind", "reason", "source", "status", "reply_code", "diagnostic",
	"rule", "reporting_mta", "remote_mta", "report_message_id", "original_message_id", "note",
	"first_seen", "last_seen", "expires", "removed_at", "count",
};

void
cli_csv_suppression_header (FILE *out)
{
	for (gsize i = 0; i < G_N_ELEMENTS (columns); i++)
		cli_csv_cell (out, columns[i], i + 1 == G_N_ELEMENTS (columns));
}

gboolean
cli_csv_is_suppression_header (GPtrArray *fields)
{
	if (fields->len != G_N_ELEMENTS (columns))
		return FALSE;
	for (guint i = 0; i < fields->len; i++)
		if (strcmp (fields->pdata[i], columns[i]) != 0)
			return FALSE;
	return TRUE;
}

void
cli_csv_suppression (FILE *out, const BdbSuppression *s, BdbTable table)
{
	/* Times in ISO 8601 UTC; empty when there is none (never expires...). */
	g_autofree char *first = s->first_seen ? cli_format_time (s->first_seen) : NULL;
	g_autofree char *last = s->last_seen ? cli_format_time (s->last_seen) : NULL;
	g_autofree char *exp = s->expires ? cli_format_time (s->expires) : NULL;
	g_autofree char *rem = s->removed_at ? cli_format_time (s->removed_at) : NULL;
	g_autofree char *count = g_strdup_printf ("%u", s->count);
	const char *const cells[G_N_ELEMENTS (columns)] = {
		table == BDB_TABLE_DOMAIN ? "domain" : "address", s->key,
		s->state == BDB_STATE_REMOVED ? "removed" : "suppressed", bdb_suppression_kind_name (s->kind),
		s->reason, s->source, s->status, s->reply_code, s->diagnostic, s->rule, s->reporting_mta,
		s->remote_mta, s->report_message_id, s->original_message_id, s->note,
		first, last, exp, rem, count,
	};
	for (gsize i = 0; i < G_N_ELEMENTS (cells); i++)
		cli_csv_cell (out, cells[i], i + 1 == G_N_ELEMENTS (cells));
}
