/* Reading back what export and events write: a suppression or a soft
 * counter as a JSON object (query.c writes them), and a change of the feed
 * (cmd-events.c).  One reader, so that what goes out comes back whole. */
#include <string.h>
#include "state-json.h"

static gboolean
when (JsonObject *o, const char *name, gint64 *out, char **why)
{
	*out = 0;
	JsonNode *n = json_object_get_member (o, name);
	if (!n || JSON_NODE_HOLDS_NULL (n))
		return TRUE;
	if (JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_INT64) {
		*out = json_node_get_int (n);
		return TRUE;
	}
	const char *t = JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
	                ? json_node_get_string (n) : NULL;
	if (t && (cli_parse_time (t, 0, -1, out) || (*out = bdb_parse_date (t)) > 0))
		return TRUE;
	*why = g_strdup_printf ("%s cannot be read", name);
	return FALSE;
}

static const char *
str (JsonObject *o, const char *name)
{
	JsonNode *n = json_object_get_member (o, name);
	return n && JSON_NODE_HOLDS_VALUE (n) && json_node_get_value_type (n) == G_TYPE_STRING
	       ? json_node_get_string (n) : NULL;
}

BdbSuppression *
cli_suppression_from_json (JsonObject *o, BdbTable *table, char **why)
{
	*table = BDB_TABLE_ADDRESS;
	const char *key = str (o, "address");
	if (!key) {
		key = str (o, "domain");
		*table = BDB_TABLE_DOMAIN;
	}
	if (!key) {
		*why = g_strdup ("no address or domain");
		return NULL;
	}
	g_autoptr (BdbSuppression) s = bdb_suppression_new (key);
	const char *state = str (o, "state");
	s->state = state && strcmp (state, "removed") == 0 ? BDB_STATE_REMOVED : BDB_STATE_SUPPRESSED;
	const char *kind = str (o, "kind");
	if (!kind)
		kind = "imported";
	if (!bdb_suppression_kind_from_name (kind, &s->kind)) {
		*why = g_strdup_printf ("unknown kind '%s'", kind);
		return NULL;
	}
#define S(name) g_strdup (str (o, name))
	s->reason = S ("reason");
	s->source = S ("source");
	s->status = S ("status");
	s->reply_code = S ("reply_code");
	s->diagnostic = S ("diagnostic");
	s->rule = S ("rule");
	s->reporting_mta = S ("reporting_mta");
	s->remote_mta = S ("remote_mta");
	s->report_message_id = S ("report_message_id");
	s->original_message_id = S ("original_message_id");
	s->note = S ("note");
#undef S
	if (!when (o, "first_seen", &s->first_seen, why) || !when (o, "last_seen", &s->last_seen, why) ||
	    !when (o, "expires", &s->expires, why) || !when (o, "removed_at", &s->removed_at, why))
		return NULL;
	s->count = (guint32) json_object_get_int_member_with_default (o, "count", 1);
	return g_steal_pointer (&s);
}

gboolean
cli_soft_from_json (JsonObject *o, BdbSoftCounter *c, char **address, char **why)
{
	memset (c, 0, sizeof *c);
	const char *a = str (o, "address");
	if (!a) {
		*why = g_strdup ("soft counter without an address");
		return FALSE;
	}
	JsonNode *dn = json_object_get_member (o, "days");
	JsonArray *days = dn && JSON_NODE_HOLDS_ARRAY (dn) ? json_node_get_array (dn) : NULL;
	for (guint i = 0; days && i < json_array_get_length (days) && c->n_days < BDB_SOFT_MAX_DAYS; i++)
		c->days[c->n_days++] = (guint32) json_array_get_int_element (days, i);
	c->last_seen = json_object_get_int_member_with_default (o, "last_seen", 0);
	c->cleared_day = (guint32) json_object_get_int_member_with_default (o, "cleared_day", 0);
	const char *r = str (o, "last_reason");
	g_strlcpy (c->last_reason, r ? r : "", sizeof c->last_reason);
	*address = g_strdup (a);
	return TRUE;
}

void
cli_change_read_clear (CliChangeRead *r)
{
	g_clear_pointer (&r->suppression, bdb_suppression_free);
	g_clear_pointer (&r->key, g_free);
	g_clear_pointer (&r->origin, g_free);
	g_clear_pointer (&r->strings, g_string_chunk_free);
	memset (&r->change, 0, sizeof r->change);
}

static gboolean
hex32 (const char *s, guint8 out[32])
{
	if (!s || strlen (s) != 64)
		return FALSE;
	for (int i = 0; i < 32; i++) {
		int hi = g_ascii_xdigit_value (s[2 * i]), lo = g_ascii_xdigit_value (s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return FALSE;
		out[i] = (guint8) (hi << 4 | lo);
	}
	return TRUE;
}

gboolean
cli_change_from_json (JsonObject *o, CliChangeRead *r, char **why)
{
	cli_change_read_clear (r);
	r->strings = g_string_chunk_new (256);
	BdbChange *c = &r->change;
	const char *table = str (o, "table");
	static const char *const tables[] = { "address", "domain", "soft", "tally" };
	for (gsize i = 0; table && i < G_N_ELEMENTS (tables); i++)
		if (strcmp (table, tables[i]) == 0)
			c->table = tables[i];
	if (!c->table) {
		*why = g_strdup ("no table, or one that is not address, domain, soft or tally");
		return FALSE;
	}
	gint64 seq = json_object_get_int_member_with_default (o, "seq", 0);
	if (seq <= 0) {
		*why = g_strdup ("no sequence number");
		return FALSE;
	}
	c->seq = (guint64) seq;
	if (!when (o, "time", &c->time, why))
		return FALSE;
	/* The database the change happened in: its origin when it was
	 * applied there from elsewhere, else the one that numbered it. */
	const char *origin = str (o, "origin");
	const char *database = str (o, "database");
	if (origin) {
		r->origin = g_strdup (origin);
		c->origin_seq = (guint64) json_object_get_int_member_with_default (o, "origin_seq", 0);
	} else if (database) {
		r->origin = g_strdup (database);
		c->origin_seq = c->seq;
	} else {
		*why = g_strdup ("no database or origin: which database made this change?");
		return FALSE;
	}
	c->origin = r->origin;
#define KEEP(member) g_string_chunk_insert_const (r->strings, str (o, member) ? str (o, member) : "")
	c->change = KEEP ("change");
	c->disposition = str (o, "disposition") ? KEEP ("disposition") : NULL;
	c->report_message_id = str (o, "report_message_id") ? KEEP ("report_message_id") : NULL;
	c->campaign = str (o, "campaign") ? KEEP ("campaign") : NULL;
	c->list_id = str (o, "list_id") ? KEEP ("list_id") : NULL;
#undef KEEP
	c->has_fingerprint = hex32 (str (o, "fingerprint"), c->fingerprint);
	const char *key = str (o, strcmp (c->table, "domain") == 0 ? "domain" : strcmp (c->table, "tally") == 0 ? "name" : "address");
	if (!key) {
		*why = g_strdup ("no key");
		return FALSE;
	}
	r->key = g_strdup (key);
	c->key = r->key;
	JsonNode *sn = json_object_get_member (o, "state");
	if (!sn || JSON_NODE_HOLDS_NULL (sn)) {
		c->deleted = TRUE;
		return TRUE;
	}
	if (!JSON_NODE_HOLDS_OBJECT (sn)) {
		*why = g_strdup ("state is not an object");
		return FALSE;
	}
	JsonObject *so = json_node_get_object (sn);
	if (strcmp (c->table, "soft") == 0) {
		g_autofree char *addr = NULL;
		if (!cli_soft_from_json (so, &r->soft, &addr, why))
			return FALSE;
		c->soft = &r->soft;
	} else if (strcmp (c->table, "tally") == 0) {
		c->tally_count = (guint64) json_object_get_int_member_with_default (so, "count", 0);
		c->tally_last = json_object_get_int_member_with_default (so, "last", 0);
	} else {
		BdbTable t;
		r->suppression = cli_suppression_from_json (so, &t, why);
		if (!r->suppression)
			return FALSE;
		c->suppression = r->suppression;
	}
	return TRUE;
}
