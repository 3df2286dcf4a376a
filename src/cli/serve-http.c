/* bouncedb serve: the HTTP/JSON endpoints, one request in, one reply out.
 *
 *   GET  /v1/check?address=A     what `check --json` says about A
 *   POST /v1/filter              a list in (one address a line), the
 *                                mailable lines out; ?format=jsonl for
 *                                JSON Lines, ?suppressed=1 for the others
 *   GET  /v1/address/A           what `show --json` says (A may be a domain)
 *   GET  /metrics                Prometheus text format
 *
 * libsoup (cmd-serve.c) reads the request and writes the reply; this file
 * decides it, so that the fuzzer can call it directly.  Read-only: the
 * only methods are GET, HEAD (answered by libsoup without the body) and
 * POST for the filter.  Whatever is malformed (bad percent-encoding, a
 * missing parameter, an invalid address) is a 400 with a JSON error.
 */
#include <string.h>
#include "serve.h"

static void
reply_json (ServeHttpReply *r, guint status)
{
	r->status = status;
	r->content_type = "application/json";
}

static void
error_reply (ServeHttpReply *r, guint status, const char *message)
{
	g_string_truncate (r->body, 0);
	reply_json (r, status);
	g_autoptr (CliJson) b = cli_json_new ();
	cli_json_begin_object (b);
	cli_json_member_string (b, "error", message);
	cli_json_end_object (b);
	cli_json_move (b, r->body);
}

/* The error of a lookup that did not reach an answer. */
static void
db_error_reply (ServeHttpReply *r, const GError *error)
{
	gboolean busy = g_error_matches (error, BDB_ERROR, BDB_ERROR_DB_BUSY);
	error_reply (r, busy ? 503 : 500, error->message);
}

static gboolean
method_is (const char *method, const char *a, const char *b)
{
	return strcmp (method, a) == 0 || (b && strcmp (method, b) == 0);
}

/* The parameters of @query (none when NULL); FALSE with a 400 reply when
 * it is not well-formed. */
static gboolean
parse_query (const char *query, GHashTable **params, ServeHttpReply *r)
{
	GError *error = NULL;
	*params = query ? g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, &error) : NULL;
	if (!error)
		return TRUE;
	error_reply (r, 400, error->message);
	g_error_free (error);
	return FALSE;
}

static void
check (Serve *sv, const char *query, ServeHttpReply *r)
{
	GError *error = NULL;
	GHashTable *params;
	if (!parse_query (query, &params, r))
		return;
	const char *text = params ? g_hash_table_lookup (params, "address") : NULL;
	if (!text) {
		error_reply (r, 400, "give ?address=ADDRESS");
	} else {
		g_autofree char *address = NULL;
		g_autoptr (BdbSuppression) hit = NULL;
		ServeAnswer a = serve_lookup (sv, SERVE_HTTP, NULL, text, &address, &hit, &error);
		if (a == SERVE_ANSWER_INVALID) {
			error_reply (r, 400, error->message);
		} else if (a == SERVE_ANSWER_BUSY || a == SERVE_ANSWER_ERROR) {
			db_error_reply (r, error);
		} else {
			g_autoptr (CliJson) b = cli_json_new ();
			cli_check_json (b, text, address, hit != NULL, hit);
			cli_json_move (b, r->body);
			reply_json (r, 200);
		}
		g_clear_error (&error);
	}
	if (params)
		g_hash_table_unref (params);
}

static gboolean
truthy (const char *v)
{
	return v && (strcmp (v, "1") == 0 || strcmp (v, "true") == 0 || strcmp (v, "yes") == 0);
}

/* The lines of @body that may be mailed (or the suppressed ones), in
 * @r->body; FALSE with the reply set when the database fails. */
static gboolean
filter_lines (Serve *sv, BdbTxn *txn, const char *body, gsize len, gboolean jsonl,
              gboolean suppressed_mode, ServeHttpReply *r)
{
	GError *error = NULL;
	g_autoptr (CliJson) b = jsonl ? cli_json_new () : NULL;
	const char *p = body ? body : "", *end = p + (body ? len : 0);
	while (p < end) {
		const char *nl = memchr (p, '\n', (gsize) (end - p));
		const char *e = nl ? nl : end;
		gsize n = (gsize) (e - p);
		const char *line = p;
		p = nl ? nl + 1 : end;
		if (n && line[n - 1] == '\r')
			n--;
		/* Blank lines, lines beyond the limit and lines without an
		 * address are dropped, as `filter` drops them. */
		if (n == 0 || n > sv->config->max_line_length || memchr (line, '\0', n))
			continue;
		g_autofree char *text = g_strndup (line, n);
		g_autofree char *address = NULL;
		g_autoptr (BdbSuppression) hit = NULL;
		ServeAnswer a = serve_lookup (sv, SERVE_HTTP, txn, g_strstrip (text), &address, &hit, &error);
		if (a == SERVE_ANSWER_INVALID) {
			g_clear_error (&error);
			continue;
		}
		if (a != SERVE_ANSWER_OK && a != SERVE_ANSWER_SUPPRESSED) {
			db_error_reply (r, error);
			g_clear_error (&error);
			return FALSE;
		}
		if ((a == SERVE_ANSWER_SUPPRESSED) != suppressed_mode)
			continue;
		if (b) {
			cli_json_begin_object (b);
			cli_json_member_string (b, "address", address);
			cli_json_member_string (b, "state", hit ? "suppressed" : "ok");
			if (hit)
				cli_json_member_string (b, "reason", hit->reason ? hit->reason : "");
			cli_json_end_object (b);
			cli_json_move (b, r->body);
		} else {
			/* The line as given, as `filter` writes it. */
			g_string_append_len (r->body, line, (gssize) n);
			if (hit)
				g_string_append_printf (r->body, "\t%s", hit->reason ? hit->reason : "suppressed");
			g_string_append_c (r->body, '\n');
		}
	}
	return TRUE;
}

static void
filter (Serve *sv, const char *query, const char *body, gsize len, ServeHttpReply *r)
{
	GError *error = NULL;
	GHashTable *params;
	if (!parse_query (query, &params, r))
		return;
	const char *format = params ? g_hash_table_lookup (params, "format") : NULL;
	gboolean suppressed_mode = truthy (params ? g_hash_table_lookup (params, "suppressed") : NULL);
	gboolean jsonl = format && strcmp (format, "jsonl") == 0;
	BdbTxn *txn = NULL;
	if (format && !jsonl && strcmp (format, "lines") != 0) {
		error_reply (r, 400, "format is lines or jsonl");
	} else if (!(txn = serve_read (sv, &error))) {
		/* (One snapshot for the whole list, as `filter` reads it; ended
		 * with the request.) */
		db_error_reply (r, error);
		g_clear_error (&error);
	} else if (filter_lines (sv, txn, body, len, jsonl, suppressed_mode, r)) {
		r->status = 200;
		r->content_type = jsonl ? "application/jsonl" : "text/plain; charset=utf-8";
	}
	bdb_txn_abort (txn);
	if (params)
		g_hash_table_unref (params);
}

static void
address (Serve *sv, const char *escaped, ServeHttpReply *r)
{
	g_autofree char *text = g_uri_unescape_string (escaped, "/");
	GError *error = NULL;
	if (!text || !*text) {
		error_reply (r, 400, "give /v1/address/ADDRESS (percent-encoded) or /v1/address/DOMAIN");
		return;
	}
	gboolean is_domain;
	g_autofree char *key = cli_show_key (sv->config->address_flags, text, &is_domain, &error);
	if (!key) {
		sv->lookups[SERVE_HTTP][SERVE_ANSWER_INVALID]++;
		error_reply (r, 400, error->message);
		g_error_free (error);
		return;
	}
	BdbTxn *txn = serve_read (sv, &error);
	CliShow show;
	if (!txn || !cli_show_load (txn, key, is_domain, sv->now (), &show, &error)) {
		sv->lookups[SERVE_HTTP][g_error_matches (error, BDB_ERROR, BDB_ERROR_DB_BUSY)
		                        ? SERVE_ANSWER_BUSY : SERVE_ANSWER_ERROR]++;
		db_error_reply (r, error);
		g_error_free (error);
		bdb_txn_abort (txn);
		return;
	}
	sv->lookups[SERVE_HTTP][show.suppressed ? SERVE_ANSWER_SUPPRESSED : SERVE_ANSWER_OK]++;
	g_autoptr (CliJson) b = cli_json_new ();
	gboolean ok = cli_show_json (b, txn, &show, &error);
	bdb_txn_abort (txn);
	cli_show_clear (&show);
	if (!ok) {
		db_error_reply (r, error);
		g_error_free (error);
		return;
	}
	cli_json_move (b, r->body);
	reply_json (r, 200);
}

void
serve_http_answer (Serve *sv, const char *method, const char *path, const char *query,
                   const char *body, gsize len, ServeHttpReply *r)
{
	sv->requests[SERVE_HTTP]++;
	r->status = 0;
	r->allow = NULL;
	r->content_type = "application/json";
	g_string_truncate (r->body, 0);
	if (strcmp (path, "/v1/check") == 0) {
		if (method_is (method, "GET", "HEAD"))
			check (sv, query, r);
		else
			r->allow = "GET, HEAD";
	} else if (strcmp (path, "/v1/filter") == 0) {
		if (method_is (method, "POST", NULL))
			filter (sv, query, body, len, r);
		else
			r->allow = "POST";
	} else if (g_str_has_prefix (path, "/v1/address/")) {
		if (method_is (method, "GET", "HEAD"))
			address (sv, path + strlen ("/v1/address/"), r);
		else
			r->allow = "GET, HEAD";
	} else if (strcmp (path, "/metrics") == 0) {
		if (method_is (method, "GET", "HEAD")) {
			serve_metrics (sv, r->body);
			r->status = 200;
			r->content_type = "text/plain; version=0.0.4; charset=utf-8";
		} else {
			r->allow = "GET, HEAD";
		}
	} else {
		error_reply (r, 404, "no such endpoint: /v1/check, /v1/filter, /v1/address/ADDRESS, /metrics");
		return;
	}
	if (r->allow)
		error_reply (r, 405, "method not allowed");
}
