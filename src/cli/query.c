/* Pieces shared by the query commands: times in and out, addresses typed
 * by people, suppressions as JSON. */
#include <string.h>
#include "cli.h"

char *
cli_format_time (gint64 t)
{
	if (t <= 0)
		return g_strdup ("-");
	g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (t);
	return dt ? g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("-");
}

gboolean
cli_parse_time (const char *text, gint64 now, gint64 direction, gint64 *out)
{
	if (!text || !*text)
		return FALSE;
	if (text[0] == '@') {
		char *end;
		gint64 v = g_ascii_strtoll (text + 1, &end, 10);
		if (*end || end == text + 1)
			return FALSE;
		*out = v;
		return TRUE;
	}
	gint64 secs;
	if (g_ascii_isdigit (text[0]) && cli_parse_duration (text, &secs) && !strchr (text, '-')) {
		*out = now + direction * secs;
		return TRUE;
	}
	/* 2026-11-01, 2026-11-01T10:00:00Z, 2026-11-01 10:00:00+01:00 */
	g_autofree char *iso = NULL;
	if (strlen (text) == 10)
		iso = g_strconcat (text, "T00:00:00Z", NULL);
	else
		iso = g_strdelimit (g_strdup (text), " ", 'T');
	g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
	g_autoptr (GDateTime) dt = g_date_time_new_from_iso8601 (iso, utc);
	if (!dt)
		return FALSE;
	*out = g_date_time_to_unix (dt);
	return TRUE;
}

char *
cli_normalize_input (Cli *cli, const char *text, GError **error)
{
	return bdb_address_normalize (text, cli->input_flags, error);
}

static void
add_str (CliJson *b, const char *name, const char *v)
{
	cli_json_member (b, name);
	if (v)
		cli_json_string (b, v);
	else
		cli_json_null (b);
}

static void
add_time (CliJson *b, const char *name, gint64 t)
{
	cli_json_member (b, name);
	if (t > 0) {
		g_autofree char *s = cli_format_time (t);
		cli_json_string (b, s);
	} else {
		cli_json_null (b);
	}
}

void
cli_suppression_members (CliJson *b, const BdbSuppression *s, BdbTable table)
{
	add_str (b, table == BDB_TABLE_DOMAIN ? "domain" : "address", s->key);
	add_str (b, "state", s->state == BDB_STATE_SUPPRESSED ? "suppressed" : "removed");
	add_str (b, "kind", bdb_suppression_kind_name (s->kind));
	add_str (b, "reason", s->reason);
	add_str (b, "source", s->source);
	add_str (b, "status", s->status);
	add_str (b, "reply_code", s->reply_code);
	add_str (b, "diagnostic", s->diagnostic);
	add_str (b, "rule", s->rule);
	add_str (b, "reporting_mta", s->reporting_mta);
	add_str (b, "remote_mta", s->remote_mta);
	add_str (b, "report_message_id", s->report_message_id);
	add_str (b, "original_message_id", s->original_message_id);
	add_str (b, "note", s->note);
	add_time (b, "first_seen", s->first_seen);
	add_time (b, "last_seen", s->last_seen);
	add_time (b, "expires", s->expires);
	add_time (b, "removed_at", s->removed_at);
	cli_json_member_int (b, "count", s->count);
}

void
cli_local_members (CliJson *b, guint64 seq, gint64 changed_at)
{
	if (seq)
		cli_json_member_int (b, "seq", (gint64) seq);
	else {
		cli_json_member (b, "seq");
		cli_json_null (b);
	}
	add_time (b, "changed_at", changed_at);
}

void
cli_soft_members (CliJson *b, const char *address, const BdbSoftCounter *c)
{
	cli_json_member_string (b, "address", address);
	cli_json_member (b, "days");
	cli_json_begin_array (b);
	for (guint i = 0; i < c->n_days; i++)
		cli_json_int (b, c->days[i]);
	cli_json_end_array (b);
	cli_json_member_int (b, "last_seen", c->last_seen);
	cli_json_member_string (b, "last_reason", c->last_reason);
	cli_json_member_int (b, "cleared_day", c->cleared_day);
}
