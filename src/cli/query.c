/* Pieces shared by the query commands: addresses typed by people,
 * suppressions as JSON. */
#include <string.h>
#include "cli.h"

gboolean
cli_suppression_reason_known (const char *name)
{
	BdbReason r;
	return name && (bdb_reason_from_name (name, &r) || strcmp (name, "manual") == 0 ||
	                strcmp (name, "unsubscribed") == 0);
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
cli_check_json (CliJson *b, const char *given, const char *address, gboolean suppressed,
                const BdbSuppression *hit)
{
	cli_json_begin_object (b);
	cli_json_member_string (b, "address", given);
	cli_json_member_string (b, "normalized", address);
	cli_json_member_string (b, "state", suppressed ? "suppressed" : "ok");
	if (hit) {
		cli_json_member (b, "suppression");
		cli_json_begin_object (b);
		cli_suppression_members (b, hit, strcmp (hit->key, address) != 0 ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS);
		cli_json_end_object (b);
	}
	cli_json_end_object (b);
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
	cli_json_member_string (b, "last_reason", cli_or_null (c->last_reason));
	cli_json_member_int (b, "cleared_day", c->cleared_day);
}

/* ---- show: one address or domain, for `show` and serve's /v1/address ---- */

char *
cli_show_key (BdbAddressFlags flags, const char *text, gboolean *is_domain, GError **error)
{
	*is_domain = strchr (text, '@') == NULL;
	if (!*is_domain)
		return bdb_address_normalize (text, flags, error);
	g_autofree char *probe = g_strconcat ("x@", text, NULL);
	g_autofree char *norm = bdb_address_normalize (probe, flags, error);
	return norm ? g_strdup (bdb_address_domain (norm)) : NULL;
}

gboolean
cli_show_load (BdbTxn *txn, const char *key, gboolean is_domain, gint64 now, CliShow *show,
               GError **error)
{
	memset (show, 0, sizeof *show);
	show->key = key;
	show->is_domain = is_domain;
	const char *domain = is_domain ? key : bdb_address_domain (key);
	if (!bdb_txn_get_suppression (txn, is_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS, key,
	                              &show->own, error) ||
	    (!is_domain && !bdb_txn_get_suppression (txn, BDB_TABLE_DOMAIN, domain, &show->dom, error)) ||
	    (!is_domain && !bdb_txn_get_soft (txn, key, &show->soft, &show->have_soft, error))) {
		cli_show_clear (show);
		return FALSE;
	}
	show->suppressed = (show->own && bdb_suppression_active (show->own, now)) ||
	                   (show->dom && bdb_suppression_active (show->dom, now));
	return TRUE;
}

void
cli_show_clear (CliShow *show)
{
	g_clear_pointer (&show->own, bdb_suppression_free);
	g_clear_pointer (&show->dom, bdb_suppression_free);
}

static gboolean
event_json (const char *address, const BdbEvent *e, gpointer data)
{
	CliJson *b = data;
	cli_json_begin_object (b);
	g_autofree char *t = cli_format_time (e->time);
	cli_json_member_string (b, "time", t);
#define STR(k, v) cli_json_member_string (b, k, cli_or_null (v))
	STR ("disposition", e->disposition);
	STR ("reason", e->reason);
	STR ("kind", e->kind);
	STR ("status", e->status);
	STR ("reply_code", e->reply_code);
	STR ("rule", e->rule);
	STR ("diagnostic", e->diagnostic);
	STR ("report_message_id", e->report_message_id);
#undef STR
	cli_json_end_object (b);
	return TRUE;
}

static void
suppression_or_null (CliJson *b, const char *name, const BdbSuppression *s, BdbTable table)
{
	cli_json_member (b, name);
	if (!s) {
		cli_json_null (b);
		return;
	}
	cli_json_begin_object (b);
	cli_suppression_members (b, s, table);
	cli_local_members (b, s->seq, s->changed_at);
	cli_json_end_object (b);
}

gboolean
cli_show_json (CliJson *b, BdbTxn *txn, const CliShow *show, GError **error)
{
	gboolean ok = TRUE;
	cli_json_begin_object (b);
	cli_json_member_string (b, show->is_domain ? "domain" : "address", show->key);
	cli_json_member_string (b, "state", show->suppressed ? "suppressed" : "ok");
	suppression_or_null (b, "suppression", show->own,
	                     show->is_domain ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS);
	if (!show->is_domain) {
		suppression_or_null (b, "domain_suppression", show->dom, BDB_TABLE_DOMAIN);
		cli_json_member (b, "soft_counter");
		if (show->have_soft) {
			const BdbSoftCounter *soft = &show->soft;
			cli_json_begin_object (b);
			cli_json_member (b, "days");
			cli_json_begin_array (b);
			for (guint i = 0; i < soft->n_days; i++) {
				g_autofree char *d = cli_format_time ((gint64) soft->days[i] * 86400);
				d[10] = '\0';
				cli_json_string (b, d);
			}
			cli_json_end_array (b);
			cli_json_member_string (b, "last_reason", cli_or_null (soft->last_reason));
			g_autofree char *ls = soft->last_seen ? cli_format_time (soft->last_seen) : NULL;
			cli_json_member_string (b, "last_seen", ls);
			cli_local_members (b, soft->seq, soft->changed_at);
			cli_json_end_object (b);
		} else {
			cli_json_null (b);
		}
		cli_json_member (b, "events");
		cli_json_begin_array (b);
		ok = bdb_txn_foreach_event (txn, show->key, event_json, b, error);
		cli_json_end_array (b);
	}
	cli_json_end_object (b);
	return ok;
}
