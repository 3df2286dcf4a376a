/* bouncedb list: the suppressions, filtered, as a table, JSON Lines or CSV. */
#include <string.h>
#include "cli.h"

typedef struct {
	Cli *cli;
	const char *reason, *domain, *scope, *kind;  /* borrowed from the options */
	gint64 since, until, now;
	gboolean all, json, csv;
	BdbTable table;
	guint64 shown;
} ListArgs;

static gboolean
show_one (const BdbSuppression *s, gpointer data)
{
	ListArgs *a = data;
	if (!a->all && !bdb_suppression_active (s, a->now))
		return TRUE;
	if (a->reason && g_strcmp0 (s->reason, a->reason) != 0)
		return TRUE;
	if (a->kind && strcmp (bdb_suppression_kind_name (s->kind), a->kind) != 0)
		return TRUE;
	/* --since is about this database: when the entry last changed here
	 * (a bounce dated 2024 swept today is new), else, for entries from
	 * before the change feed, its evidence. */
	if (a->since && (s->changed_at ? s->changed_at : s->last_seen) < a->since)
		return TRUE;
	if (a->until && s->first_seen > a->until)
		return TRUE;
	if (a->domain) {
		const char *d = a->table == BDB_TABLE_DOMAIN ? s->key : bdb_address_domain (s->key);
		if (!d || g_ascii_strcasecmp (d, a->domain) != 0)
			return TRUE;
	}
	if (a->scope && a->table == BDB_TABLE_DOMAIN && strcmp (a->scope, "domain") != 0)
		return TRUE;
	if (a->scope && a->table == BDB_TABLE_ADDRESS) {
		BdbReason r;
		BdbScope want, got = BDB_SCOPE_RECIPIENT;
		if (bdb_scope_from_name (a->scope, &want) && s->reason && bdb_reason_from_name (s->reason, &r)) {
			/* The scope of the reason, as classification defines it. */
			got = (r == BDB_REASON_HOSTUNKNOWN || r == BDB_REASON_NOTACCEPT) ? BDB_SCOPE_DOMAIN : BDB_SCOPE_RECIPIENT;
		}
		if (got != want)
			return TRUE;
	}
	a->shown++;
	g_autofree char *first = cli_format_time (s->first_seen);
	g_autofree char *exp = s->expires ? cli_format_time (s->expires) : g_strdup ("never");
	const char *state = s->state == BDB_STATE_REMOVED ? "removed" : "suppressed";
	if (a->json) {
		g_autoptr (CliJson) b = cli_json_new ();
		cli_json_begin_object (b);
		cli_suppression_members (b, s, a->table);
		cli_local_members (b, s->seq, s->changed_at);
		cli_json_end_object (b);
		cli_json_print (b, stdout);
	} else if (a->csv) {
		cli_csv_suppression (stdout, s, a->table);
	} else {
		g_autofree char *key = cli_safe (s->key);
		g_autofree char *reason = cli_safe (s->reason ? s->reason : "-");
		g_autofree char *st = cli_safe (s->status ? s->status : "-");
		printf ("%-40s %-10s %-9s %-15s %-8s %s  %s\n", key, state, bdb_suppression_kind_name (s->kind),
		        reason, st, first, exp);
	}
	return TRUE;
}

int
cmd_list (Cli *cli, int argc, char **argv)
{
	g_autofree char *since = NULL, *until = NULL;
	g_autofree char *reason = NULL, *domain = NULL, *kind = NULL, *scope = NULL, *format = NULL;
	ListArgs a = { 0 };
	a.cli = cli;
	gboolean domains_only = FALSE;
	GOptionEntry entries[] = {
		{ "reason", 'r', 0, G_OPTION_ARG_STRING, &reason, "Only this reason (userunknown, feedback, ...)", "REASON" },
		{ "domain", 'D', 0, G_OPTION_ARG_STRING, &domain, "Only addresses at this domain", "DOMAIN" },
		{ "kind", 0, 0, G_OPTION_ARG_STRING, &kind, "Only this kind: hard, complaint, inactive, manual, imported, domain", "KIND" },
		{ "scope", 'S', 0, G_OPTION_ARG_STRING, &scope, "Only this scope: recipient or domain", "SCOPE" },
		{ "since", 0, 0, G_OPTION_ARG_STRING, &since, "Changed here on or after T (2026-11-01, 30d, @SECONDS)", "T" },
		{ "until", 0, 0, G_OPTION_ARG_STRING, &until, "First seen on or before T", "T" },
		{ "domains", 0, 0, G_OPTION_ARG_NONE, &domains_only, "List domain suppressions only", NULL },
		{ "all", 'a', 0, G_OPTION_ARG_NONE, &a.all, "Include expired entries and remembered removals", NULL },
		{ "format", 0, 0, G_OPTION_ARG_STRING, &format,
		  "text (the default), jsonl (JSON Lines) or csv (the columns of export --format csv)", "FORMAT" },
		{ "json", 'j', 0, G_OPTION_ARG_NONE, &a.json, "The same as --format jsonl", NULL },
		{ "csv", 0, 0, G_OPTION_ARG_NONE, &a.csv, "The same as --format csv", NULL },
		G_OPTION_ENTRY_NULL,
	};
	int status = cli_parse_options (cli, "Examples:\n"
	                            "  bouncedb list --reason userunknown --since 7d\n"
	                            "  bouncedb list --domain example.com --format jsonl\n"
	                            "  bouncedb list --kind complaint --format csv > complaints.csv\n"
	                            "  bouncedb list --domains",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (format && strcmp (format, "text") == 0 && (a.csv || a.json)) {
		cli_warn (cli, "give one format");
		return EX_USAGE;
	}
	if (format && strcmp (format, "csv") == 0)
		a.csv = TRUE;
	else if (format && strcmp (format, "jsonl") == 0)
		a.json = TRUE;
	else if (format && strcmp (format, "text") != 0) {
		cli_warn (cli, "--format takes text, jsonl or csv");
		return EX_USAGE;
	}
	if (a.csv && a.json) {
		cli_warn (cli, "give one format");
		return EX_USAGE;
	}
	a.reason = reason;
	a.domain = domain;
	a.kind = kind;
	a.scope = scope;
	a.now = cli_now ();
	if ((since && !cli_parse_time (since, a.now, -1, &a.since)) ||
	    (until && !cli_parse_time (until, a.now, -1, &a.until))) {
		cli_warn (cli, "bad time '%s' (want 2026-11-01, an ISO 8601 time, 30d or @SECONDS)",
		              since && !a.since ? since : until);
		status = EX_USAGE;
	}
	if (a.reason && !cli_suppression_reason_known (a.reason)) {
		cli_warn (cli, "unknown reason '%s' (see bouncedb(1), REASONS)", a.reason);
		status = EX_USAGE;
	}
	BdbSuppressionKind k;
	if (a.kind && !bdb_suppression_kind_from_name (a.kind, &k)) {
		cli_warn (cli, "unknown kind '%s'", a.kind);
		status = EX_USAGE;
	}
	BdbScope sc;
	if (a.scope && !bdb_scope_from_name (a.scope, &sc)) {
		cli_warn (cli, "unknown scope '%s'", a.scope);
		status = EX_USAGE;
	}
	if (status != EX_OK)
		return status;
	if ((status = cli_open (cli)) != EX_OK)
		return status;
	GError *error = NULL;
	BdbTxn *txn = cli->txn;
	if (a.csv)
		cli_csv_suppression_header (stdout);
	const BdbTable tables[] = { BDB_TABLE_ADDRESS, BDB_TABLE_DOMAIN };
	for (gsize i = 0; i < G_N_ELEMENTS (tables); i++) {
		if (domains_only && tables[i] != BDB_TABLE_DOMAIN)
			continue;
		a.table = tables[i];
		if (!bdb_txn_foreach_suppression (txn, tables[i], NULL, show_one, &a, &error))
			break;
	}
	if (error)
		status = cli_fail (cli, cli_db_path (cli), &error);
	return cli_finish (cli, status);
}
