/* bouncedb serve: the database as a long-running reader sees it, and the
 * answers.
 *
 * Why it looks like this:
 * - A read transaction per request (or per HTTP filter body), never one
 *   kept: LMDB keeps every page a reader may still see, so a long-lived
 *   snapshot would grow the file without bound and hide the commits of
 *   every sweep and ingest since.  Beginning one costs a microsecond.
 * - The environment itself is kept open, but let go when a compaction
 *   asks (bouncedb.compact, bdb_store_compaction_pending(), polled by a
 *   timer in cmd-serve.c): `prune --compact` needs the database to itself
 *   (doc/store-format.md).  Until it is done, lookups answer "busy" (a
 *   temporary failure to Postfix, 503 over HTTP); the next one after it
 *   opens the environment again.
 * - The metrics that need a scan of the database are computed at most once
 *   per metrics_interval: a scrape every 15 s must not walk a million
 *   suppressions each time.
 */
#include <string.h>
#include <sys/stat.h>
#include "serve.h"

void
serve_config_clear (ServeConfig *config)
{
	g_free (config->db_dir);
	for (int i = 0; i < SERVE_N_ACTIONS; i++) {
		g_free (config->access[i]);
		g_free (config->transport[i]);
	}
	memset (config, 0, sizeof *config);
}

void
serve_init (Serve *sv, const ServeConfig *config)
{
	memset (sv, 0, sizeof *sv);
	sv->config = config;
	sv->now = cli_now;
	sv->started = cli_now ();
}

void
serve_clear (Serve *sv)
{
	g_clear_pointer (&sv->store, bdb_store_close);
	if (sv->db_metrics)
		g_string_free (sv->db_metrics, TRUE);
	sv->db_metrics = NULL;
}

BdbTxn *
serve_read (Serve *sv, GError **error)
{
	if (!sv->store) {
		if (bdb_store_compaction_pending (sv->config->db_dir)) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_DB_BUSY, "database busy: being compacted");
			return NULL;
		}
		sv->store = bdb_store_open (sv->config->db_dir, &sv->config->store, error);
		if (!sv->store)
			return NULL;
		sv->reopened++;
	}
	return bdb_store_read (sv->store, error);
}

gboolean
serve_release (Serve *sv, gboolean force)
{
	if (!sv->store || (!force && !bdb_store_compaction_pending (sv->config->db_dir)))
		return FALSE;
	g_clear_pointer (&sv->store, bdb_store_close);
	return TRUE;
}

ServeAnswer
serve_lookup (Serve *sv, ServeProtocol proto, BdbTxn *txn, const char *text, char **address,
              BdbSuppression **hit, GError **error)
{
	ServeAnswer answer;
	*address = NULL;
	*hit = NULL;
	*address = bdb_address_normalize (text, sv->config->address_flags, error);
	if (!*address) {
		answer = SERVE_ANSWER_INVALID;
		goto out;
	}
	BdbTxn *own = txn ? NULL : serve_read (sv, error);
	if (!txn && !own) {
		answer = g_error_matches (*error, BDB_ERROR, BDB_ERROR_DB_BUSY) ? SERVE_ANSWER_BUSY
		                                                                  : SERVE_ANSWER_ERROR;
		goto out;
	}
	gboolean suppressed = FALSE;
	gboolean ok = bdb_txn_is_suppressed (txn ? txn : own, *address, sv->now (), &suppressed, hit, error);
	bdb_txn_abort (own);
	if (!ok)
		answer = SERVE_ANSWER_ERROR;
	else
		answer = suppressed ? SERVE_ANSWER_SUPPRESSED : SERVE_ANSWER_OK;
	if (!suppressed)
		g_clear_pointer (hit, bdb_suppression_free);
out:
	sv->lookups[proto][answer]++;
	return answer;
}

/* An action that puts text in a refusal Postfix may report back. */
static gboolean
refuses (const char *action)
{
	static const char *const words[] = {
		"REJECT", "DEFER", "DEFER_IF_PERMIT", "DEFER_IF_REJECT", "error:", "retry:",
	};
	if (g_ascii_isdigit (action[0]))
		return action[0] == '4' || action[0] == '5';
	for (gsize i = 0; i < G_N_ELEMENTS (words); i++) {
		gsize n = strlen (words[i]);
		if (g_ascii_strncasecmp (action, words[i], n) == 0 &&
		    (action[n] == '\0' || action[n] == ' ' || words[i][n - 1] == ':'))
			return TRUE;
	}
	return FALSE;
}

char *
serve_action (const Serve *sv, char *const templates[SERVE_N_ACTIONS], const char *address,
              const BdbSuppression *hit)
{
	ServeActionKind k = hit->kind == BDB_SUPPRESSION_INACTIVE ? SERVE_ACTION_INACTIVE
	                  : hit->kind == BDB_SUPPRESSION_COMPLAINT ||
	                    g_strcmp0 (hit->reason, bdb_reason_name (BDB_REASON_FEEDBACK)) == 0
	                  ? SERVE_ACTION_COMPLAINT
	                  : SERVE_ACTION_SUPPRESSED;
	const char *t = templates[k] ? templates[k] : "";
	g_autofree char *since = cli_format_time (hit->first_seen);
	if (strlen (since) > 10)
		since[10] = '\0';  /* the day is enough in a reply */
	GString *out = g_string_new (NULL);
	for (const char *p = t; *p; p++) {
		const char *v = NULL;
		gsize n = 0;
		if (*p == '{') {
			static const char *const names[] = { "{address}", "{reason}", "{since}", "{kind}" };
			for (gsize i = 0; i < G_N_ELEMENTS (names) && !v; i++) {
				n = strlen (names[i]);
				if (strncmp (p, names[i], n) == 0) {
					v = i == 0 ? address : i == 1 ? (hit->reason ? hit->reason : "suppressed")
					  : i == 2 ? since : bdb_suppression_kind_name (hit->kind);
				}
			}
		}
		if (!v) {
			g_string_append_c (out, *p);
			continue;
		}
		/* A reply is one line of printable text, whatever the database
		 * holds (a reason imported from an ESP's list). */
		for (const char *c = v; *c; c++)
			g_string_append_c (out, (guchar) *c < 0x20 || *c == 0x7f ? '?' : *c);
		p += n - 1;
	}
	if (out->len && refuses (out->str) && !strstr (out->str, SERVE_MARKER))
		g_string_append (out, " " SERVE_MARKER);
	return g_string_free (out, FALSE);
}

/* ---- metrics --------------------------------------------------------- */

static const char *const protocol_names[SERVE_N_PROTOCOLS] = {
	[SERVE_SOCKETMAP] = "socketmap", [SERVE_POLICY] = "policy", [SERVE_HTTP] = "http",
};
static const char *const answer_names[SERVE_N_ANSWERS] = {
	[SERVE_ANSWER_OK] = "ok", [SERVE_ANSWER_SUPPRESSED] = "suppressed",
	[SERVE_ANSWER_INVALID] = "invalid", [SERVE_ANSWER_BUSY] = "busy", [SERVE_ANSWER_ERROR] = "error",
};

/* A label value as the text format wants it: valid UTF-8, with \\, " and
 * newlines escaped. */
static void
label (GString *out, const char *name, const char *value)
{
	g_autofree char *valid = g_utf8_make_valid (value ? value : "", -1);
	g_string_append_printf (out, "%s=\"", name);
	for (const char *c = valid; *c; c++) {
		if (*c == '\\' || *c == '"')
			g_string_append_c (out, '\\');
		if (*c == '\n')
			g_string_append (out, "\\n");
		else
			g_string_append_c (out, *c);
	}
	g_string_append_c (out, '"');
}

static void
family (GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

typedef struct {
	gint64 now, since;
	GHashTable *suppressions;  /* "kind\treason" -> count */
	GHashTable *events;        /* "reason\tdisposition" -> count */
	guint64 removed, soft;
	GString *sender;           /* the sender-side samples, written as met */
} Scan;

static void
bump (GHashTable *t, const char *a, const char *b)
{
	g_autofree char *key = g_strconcat (a ? a : "", "\t", b ? b : "", NULL);
	gpointer v = g_hash_table_lookup (t, key);
	g_hash_table_replace (t, g_steal_pointer (&key), GSIZE_TO_POINTER (GPOINTER_TO_SIZE (v) + 1));
}

static gboolean
scan_suppression (const BdbSuppression *s, gpointer data)
{
	Scan *sc = data;
	if (s->state == BDB_STATE_REMOVED)
		sc->removed++;
	else if (bdb_suppression_active (s, sc->now))
		bump (sc->suppressions, bdb_suppression_kind_name (s->kind), s->reason ? s->reason : "");
	return TRUE;
}

static gboolean
scan_soft (const char *address, const BdbSoftCounter *c, gpointer data)
{
	((Scan *) data)->soft++;
	return TRUE;
}

static gboolean
scan_event (const char *address, const BdbEvent *e, gpointer data)
{
	Scan *sc = data;
	if (e->time >= sc->since)
		bump (sc->events, e->reason, e->disposition);
	return TRUE;
}

static gboolean
scan_tally (const char *name, guint64 count, gint64 last, gpointer data)
{
	Scan *sc = data;
	/* sender|DOMAIN|REASON */
	const char *domain = name + strlen ("sender|");
	const char *bar = strrchr (domain, '|');
	if (!bar)
		return TRUE;
	g_autofree char *d = g_strndup (domain, (gsize) (bar - domain));
	g_string_append (sc->sender, "bouncedb_sender_incidents_total{");
	label (sc->sender, "domain", d);
	g_string_append_c (sc->sender, ',');
	label (sc->sender, "reason", bar + 1);
	g_string_append_printf (sc->sender, "} %" G_GUINT64_FORMAT "\n", count);
	return TRUE;
}

static void
pairs (GString *out, const char *metric, GHashTable *t, const char *l1, const char *l2)
{
	g_autoptr (GList) keys = g_hash_table_get_keys (t);
	keys = g_list_sort (keys, (GCompareFunc) strcmp);
	for (GList *k = keys; k; k = k->next) {
		const char *key = k->data;
		const char *tab = strchr (key, '\t');
		g_autofree char *a = g_strndup (key, (gsize) (tab - key));
		g_string_append_printf (out, "%s{", metric);
		label (out, l1, a);
		g_string_append_c (out, ',');
		label (out, l2, tab + 1);
		g_string_append_printf (out, "} %" G_GSIZE_FORMAT "\n",
		                        GPOINTER_TO_SIZE (g_hash_table_lookup (t, key)));
	}
}

/* The part of /metrics that reads the whole database. */
static void
scan_database (Serve *sv, GString *out)
{
	GError *error = NULL;
	Scan sc = { 0 };
	sc.now = sv->now ();
	sc.since = sc.now - 86400;
	sc.suppressions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	sc.events = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
	sc.sender = g_string_new (NULL);
	BdbTxn *txn = serve_read (sv, &error);
	gboolean ok = txn &&
		bdb_txn_foreach_suppression (txn, BDB_TABLE_ADDRESS, NULL, scan_suppression, &sc, &error) &&
		bdb_txn_foreach_suppression (txn, BDB_TABLE_DOMAIN, NULL, scan_suppression, &sc, &error) &&
		bdb_txn_foreach_soft (txn, scan_soft, &sc, &error) &&
		bdb_txn_foreach_event (txn, NULL, scan_event, &sc, &error) &&
		bdb_txn_foreach_tally (txn, "sender|", scan_tally, &sc, &error);
	family (out, "bouncedb_database_up", "gauge", "1 when the last scan of the database succeeded");
	g_string_append_printf (out, "bouncedb_database_up %d\n", ok ? 1 : 0);
	if (ok) {
		family (out, "bouncedb_suppressions", "gauge",
		        "Suppressions in force, by kind (hard, complaint, inactive, manual, imported, domain) and reason");
		pairs (out, "bouncedb_suppressions", sc.suppressions, "kind", "reason");
		family (out, "bouncedb_removals", "gauge", "Remembered removals (bouncedb remove)");
		g_string_append_printf (out, "bouncedb_removals %" G_GUINT64_FORMAT "\n", sc.removed);
		family (out, "bouncedb_soft_counters", "gauge", "Addresses with a soft-bounce counter");
		g_string_append_printf (out, "bouncedb_soft_counters %" G_GUINT64_FORMAT "\n", sc.soft);
		family (out, "bouncedb_events_last_day", "gauge",
		        "Events of the last 24 hours in the history, by reason and disposition");
		pairs (out, "bouncedb_events_last_day", sc.events, "reason", "disposition");
		family (out, "bouncedb_sender_incidents_total", "counter",
		        "Sender-side incidents (our own problems) by receiving domain and reason");
		g_string_append (out, sc.sender->str);
		family (out, "bouncedb_map_bytes", "gauge", "Size of the LMDB map");
		g_string_append_printf (out, "bouncedb_map_bytes %" G_GUINT64_FORMAT "\n",
		                        bdb_store_map_size (sv->store));
		family (out, "bouncedb_map_used_bytes", "gauge", "Bytes of the map in use");
		g_string_append_printf (out, "bouncedb_map_used_bytes %" G_GUINT64_FORMAT "\n",
		                        bdb_store_used_size (sv->store));
	}
	g_autofree char *data = g_build_filename (sv->config->db_dir, "data.mdb", NULL);
	struct stat st;
	if (stat (data, &st) == 0) {
		family (out, "bouncedb_database_bytes", "gauge", "Size of data.mdb");
		g_string_append_printf (out, "bouncedb_database_bytes %" G_GINT64_FORMAT "\n", (gint64) st.st_size);
		family (out, "bouncedb_last_write_timestamp_seconds", "gauge",
		        "When a sweep, ingest or other writer last committed (data.mdb's modification time)");
		g_string_append_printf (out, "bouncedb_last_write_timestamp_seconds %" G_GINT64_FORMAT "\n",
		                        (gint64) st.st_mtime);
	}
	bdb_txn_abort (txn);
	g_clear_error (&error);
	g_hash_table_unref (sc.suppressions);
	g_hash_table_unref (sc.events);
	g_string_free (sc.sender, TRUE);
}

void
serve_metrics (Serve *sv, GString *out)
{
	gint64 mono = g_get_monotonic_time ();
	if (!sv->db_metrics || mono - sv->db_metrics_at >= sv->config->metrics_interval * G_USEC_PER_SEC) {
		if (!sv->db_metrics)
			sv->db_metrics = g_string_new (NULL);
		g_string_truncate (sv->db_metrics, 0);
		scan_database (sv, sv->db_metrics);
		sv->db_metrics_at = g_get_monotonic_time ();
		sv->db_metrics_seconds = (double) (sv->db_metrics_at - mono) / G_USEC_PER_SEC;
	}
	family (out, "bouncedb_lookups_total", "counter", "Addresses looked up, by protocol and answer");
	for (int p = 0; p < SERVE_N_PROTOCOLS; p++)
		for (int a = 0; a < SERVE_N_ANSWERS; a++)
			g_string_append_printf (out, "bouncedb_lookups_total{protocol=\"%s\",answer=\"%s\"} %"
			                        G_GUINT64_FORMAT "\n", protocol_names[p], answer_names[a],
			                        sv->lookups[p][a]);
	family (out, "bouncedb_requests_total", "counter", "Requests answered, by protocol");
	for (int p = 0; p < SERVE_N_PROTOCOLS; p++)
		g_string_append_printf (out, "bouncedb_requests_total{protocol=\"%s\"} %" G_GUINT64_FORMAT "\n",
		                        protocol_names[p], sv->requests[p]);
	family (out, "bouncedb_protocol_errors_total", "counter",
	        "Malformed or oversized requests (the connection is closed), by protocol");
	for (int p = 0; p < SERVE_N_PROTOCOLS; p++)
		g_string_append_printf (out, "bouncedb_protocol_errors_total{protocol=\"%s\"} %" G_GUINT64_FORMAT "\n",
		                        protocol_names[p], sv->protocol_errors[p]);
	family (out, "bouncedb_connections_accepted_total", "counter", "Connections accepted, by protocol");
	for (int p = 0; p < SERVE_N_PROTOCOLS; p++)
		g_string_append_printf (out, "bouncedb_connections_accepted_total{protocol=\"%s\"} %"
		                        G_GUINT64_FORMAT "\n", protocol_names[p], sv->accepted[p]);
	family (out, "bouncedb_connections_refused_total", "counter", "Connections closed at once: max_connections reached");
	g_string_append_printf (out, "bouncedb_connections_refused_total %" G_GUINT64_FORMAT "\n", sv->refused);
	family (out, "bouncedb_connections", "gauge", "Open connections");
	g_string_append_printf (out, "bouncedb_connections %u\n", sv->connections);
	family (out, "bouncedb_environment_opens_total", "counter",
	        "Times the database was opened (again after a compaction or SIGHUP)");
	g_string_append_printf (out, "bouncedb_environment_opens_total %" G_GUINT64_FORMAT "\n", sv->reopened);
	family (out, "bouncedb_serve_start_time_seconds", "gauge", "When serve started");
	g_string_append_printf (out, "bouncedb_serve_start_time_seconds %" G_GINT64_FORMAT "\n", sv->started);
	family (out, "bouncedb_database_scan_seconds", "gauge", "How long the last scan of the database took");
	g_string_append_printf (out, "bouncedb_database_scan_seconds %.6f\n", sv->db_metrics_seconds);
	g_string_append (out, sv->db_metrics->str);
}
