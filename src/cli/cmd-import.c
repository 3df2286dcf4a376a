/* bouncedb import: merge a suppression list into the database.
 *
 * Accepts bouncedb's own exports (CSV and JSON Lines, versioned headers)
 * and the suppression exports people bring from ESPs: a CSV whose header
 * names an email/address column (and optionally reason, code, error,
 * status, date columns) covers Mailgun (address,code,error,created_at),
 * SendGrid (email,created,reason,status), Postmark (EmailAddress,
 * SuppressionReason,Origin,CreatedAt) and Amazon SES (EmailAddress,Reason,
 * LastUpdateTime, or the JSON of `aws sesv2 list-suppressed-destinations`).
 *
 * The whole file is checked first; a bad row is an error naming its line
 * and nothing is imported.  Then everything is merged in ONE transaction
 * (newest last-seen wins, counts merge as the larger), so importing the
 * same file twice changes nothing.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "cli.h"

typedef enum { FMT_CSV, FMT_BOUNCEDB_CSV, FMT_BOUNCEDB_JSONL, FMT_SES_JSON } Format;

typedef struct {
	Cli *cli;
	BdbRules *rules;
	BdbPolicy policy;
	const char *path;
	Format format;
	char *default_reason;
	gint64 now;
	/* CSV column positions (-1 absent) */
	int c_addr, c_reason, c_code, c_error, c_status, c_date, c_table;
	GPtrArray *header;       /* bouncedb CSV: column names */
	/* results */
	GPtrArray *entries;      /* BdbSuppression *, during the write pass */
	guint64 rows, skipped;
} Import;

/* ---- CSV (RFC 4180: quoted fields may hold commas, quotes and newlines) */

static GPtrArray *
csv_record (FILE *in, guint64 *lineno, gboolean *eof)
{
	GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
	GString *f = g_string_new (NULL);
	gboolean quoted = FALSE, any = FALSE;
	int c;
	*eof = FALSE;
	while ((c = fgetc (in)) != EOF) {
		any = TRUE;
		if (quoted) {
			if (c == '"') {
				int d = fgetc (in);
				if (d == '"') {
					g_string_append_c (f, '"');
				} else {
					quoted = FALSE;
					if (d != EOF)
						ungetc (d, in);
				}
			} else {
				if (c == '\n')
					(*lineno)++;
				g_string_append_c (f, (char) c);
			}
			continue;
		}
		if (c == '"' && f->len == 0) {
			quoted = TRUE;
		} else if (c == ',') {
			g_ptr_array_add (fields, g_string_free (f, FALSE));
			f = g_string_new (NULL);
		} else if (c == '\n') {
			(*lineno)++;
			break;
		} else if (c != '\r') {
			g_string_append_c (f, (char) c);
		}
	}
	if (!any) {
		*eof = TRUE;
		g_string_free (f, TRUE);
		g_ptr_array_unref (fields);
		return NULL;
	}
	g_ptr_array_add (fields, g_string_free (f, FALSE));
	return fields;
}

static const char *
field (GPtrArray *rec, int col)
{
	if (col < 0 || (guint) col >= rec->len)
		return NULL;
	char *v = rec->pdata[col];
	g_strstrip (v);
	return *v ? v : NULL;
}

static int
find_column (GPtrArray *header, const char *const *names)
{
	for (guint i = 0; i < header->len; i++) {
		g_autofree char *h = g_ascii_strdown (g_strstrip ((char *) header->pdata[i]), -1);
		/* "Email Address", "email_address", "EmailAddress" are one name. */
		GString *k = g_string_new (NULL);
		for (const char *p = h; *p; p++)
			if (g_ascii_isalnum (*p))
				g_string_append_c (k, *p);
		for (const char *const *n = names; *n; n++) {
			if (strcmp (k->str, *n) == 0) {
				g_string_free (k, TRUE);
				return (int) i;
			}
		}
		g_string_free (k, TRUE);
	}
	return -1;
}

/* ---- values ---- */

static gboolean
parse_when (const char *text, gint64 *out)
{
	if (!text || !*text) {
		*out = 0;
		return TRUE;
	}
	char *end;
	gint64 v = g_ascii_strtoll (text, &end, 10);
	if (*end == '\0' && end != text) {
		*out = v > 100000000000 ? v / 1000 : v;  /* milliseconds in some exports */
		return TRUE;
	}
	if (cli_parse_time (text, 0, -1, out))
		return TRUE;
	*out = bdb_parse_date (text);  /* RFC 2822 dates */
	return *out > 0;
}

/* An ESP's reason (or an error text) in bouncedb's vocabulary. */
static char *
map_reason (Import *im, const char *reason, const char *code, const char *error, const char *status)
{
	static const struct {
		const char *word;
		const char *reason;
	} words[] = {
		{ "bounce", "userunknown" }, { "bounced", "userunknown" }, { "hardbounce", "userunknown" },
		{ "hard_bounce", "userunknown" }, { "hard bounce", "userunknown" }, { "permanent", "userunknown" },
		{ "invalid", "userunknown" }, { "invalid email", "userunknown" },
		{ "complaint", "feedback" }, { "spamcomplaint", "feedback" }, { "spam complaint", "feedback" },
		{ "spam_report", "feedback" }, { "spamreport", "feedback" }, { "spam report", "feedback" },
		{ "abuse", "feedback" }, { "spam", "feedback" },
		{ "unsubscribe", "unsubscribed" }, { "unsubscribed", "unsubscribed" },
		{ "global_unsubscribe", "unsubscribed" }, { "group_unsubscribe", "unsubscribed" },
		{ "manualsuppression", "manual" }, { "manual", "manual" },
	};
	if (reason) {
		BdbReason r;
		g_autofree char *low = g_ascii_strdown (reason, -1);
		if (bdb_reason_from_name (low, &r))
			return g_strdup (bdb_reason_name (r));
		for (gsize i = 0; i < G_N_ELEMENTS (words); i++)
			if (strcmp (low, words[i].word) == 0)
				return g_strdup (words[i].reason);
	}
	/* Free text (SendGrid's reason, Mailgun's error): classify it as the
	 * diagnostic of a failed delivery. */
	const char *text = error ? error : reason;
	if (text || code || status) {
		BdbVerdict v;
		bdb_classify_fields (im->rules, BDB_KIND_DSN, "failed", status, code, text, &v);
		if (v.reason != BDB_REASON_UNDEFINED && v.reason != BDB_REASON_ONHOLD)
			return g_strdup (bdb_reason_name (v.reason));
	}
	return g_strdup (im->default_reason);
}

static gboolean
row_error (Import *im, guint64 line, GError **error, const char *fmt, ...) G_GNUC_PRINTF (4, 5);

static gboolean
row_error (Import *im, guint64 line, GError **error, const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	g_autofree char *msg = g_strdup_vprintf (fmt, ap);
	va_end (ap);
	g_set_error (error, BDB_ERROR, BDB_ERROR_INVALID, "line %" G_GUINT64_FORMAT ": %s", line, msg);
	return FALSE;
}

/* One suppression from a CSV record. */
static BdbSuppression *
from_csv (Import *im, GPtrArray *rec, guint64 line, BdbTable *table, GError **error)
{
	if (im->format == FMT_BOUNCEDB_CSV) {
		g_autoptr (BdbSuppression) s = NULL;
		const char *vals[32] = { 0 };
		for (guint i = 0; i < im->header->len && i < G_N_ELEMENTS (vals); i++)
			vals[i] = field (rec, (int) i);
#define COL(name) (find_column (im->header, (const char *const[]) { name, NULL }))
		const char *tname = vals[COL ("table")];
		*table = tname && strcmp (tname, "domain") == 0 ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS;
		const char *key = vals[COL ("key")];
		if (!key) {
			row_error (im, line, error, "no key");
			return NULL;
		}
		s = bdb_suppression_new (key);
		const char *state = vals[COL ("state")];
		s->state = state && strcmp (state, "removed") == 0 ? BDB_STATE_REMOVED : BDB_STATE_SUPPRESSED;
		const char *kind = vals[COL ("kind")];
		if (kind && !bdb_suppression_kind_from_name (kind, &s->kind)) {
			row_error (im, line, error, "unknown kind '%s'", kind);
			return NULL;
		}
		s->reason = g_strdup (vals[COL ("reason")]);
		s->source = g_strdup (vals[COL ("source")]);
		s->status = g_strdup (vals[COL ("status")]);
		s->reply_code = g_strdup (vals[COL ("replycode")]);
		s->diagnostic = g_strdup (vals[COL ("diagnostic")]);
		s->rule = g_strdup (vals[COL ("rule")]);
		s->reporting_mta = g_strdup (vals[COL ("reportingmta")]);
		s->remote_mta = g_strdup (vals[COL ("remotemta")]);
		s->report_message_id = g_strdup (vals[COL ("reportmessageid")]);
		s->original_message_id = g_strdup (vals[COL ("originalmessageid")]);
		s->note = g_strdup (vals[COL ("note")]);
		if (!parse_when (vals[COL ("firstseen")], &s->first_seen) ||
		    !parse_when (vals[COL ("lastseen")], &s->last_seen) ||
		    !parse_when (vals[COL ("expires")], &s->expires) ||
		    !parse_when (vals[COL ("removedat")], &s->removed_at)) {
			row_error (im, line, error, "a time cannot be read");
			return NULL;
		}
		const char *count = vals[COL ("count")];
		s->count = count ? (guint32) g_ascii_strtoull (count, NULL, 10) : 1;
#undef COL
		return g_steal_pointer (&s);
	}
	*table = BDB_TABLE_ADDRESS;
	const char *raw = field (rec, im->c_addr);
	if (!raw) {
		row_error (im, line, error, "no address in column %d", im->c_addr + 1);
		return NULL;
	}
	GError *e = NULL;
	g_autofree char *addr = cli_normalize_input (im->cli, raw, &e);
	if (!addr) {
		g_autofree char *safe = cli_safe (raw);
		row_error (im, line, error, "'%s' is not a valid address: %s", safe, e->message);
		g_error_free (e);
		return NULL;
	}
	gint64 when;
	const char *date = field (rec, im->c_date);
	if (!parse_when (date, &when)) {
		g_autofree char *safe = cli_safe (date);
		row_error (im, line, error, "'%s' is not a date", safe);
		return NULL;
	}
	if (!when)
		when = im->now;
	BdbSuppression *s = bdb_suppression_new (addr);
	s->kind = BDB_SUPPRESSION_IMPORTED;
	s->source = g_strdup ("import");
	s->reason = map_reason (im, field (rec, im->c_reason), field (rec, im->c_code),
	                        field (rec, im->c_error), field (rec, im->c_status));
	const char *diag = field (rec, im->c_error);
	s->diagnostic = g_strdup (diag ? diag : field (rec, im->c_reason));
	s->reply_code = g_strdup (field (rec, im->c_code));
	s->status = g_strdup (field (rec, im->c_status));
	s->first_seen = s->last_seen = when;
	s->count = 1;
	g_autofree char *base = g_path_get_basename (im->path);
	s->note = g_strdup_printf ("imported from %s", base);
	return s;
}

static BdbSuppression *
from_json_object (Import *im, JsonObject *o, guint64 line, BdbTable *table, gboolean *is_soft,
                  BdbSoftCounter *soft, char **soft_addr, GError **error)
{
	*is_soft = FALSE;
	*table = BDB_TABLE_ADDRESS;
	const char *type = json_object_get_string_member_with_default (o, "type", "suppression");
	if (strcmp (type, "soft") == 0) {
		*is_soft = TRUE;
		memset (soft, 0, sizeof *soft);
		JsonArray *days = json_object_has_member (o, "days") ? json_object_get_array_member (o, "days") : NULL;
		for (guint i = 0; days && i < json_array_get_length (days) && i < BDB_SOFT_MAX_DAYS; i++)
			soft->days[soft->n_days++] = (guint32) json_array_get_int_element (days, i);
		soft->last_seen = json_object_get_int_member_with_default (o, "last_seen", 0);
		g_strlcpy (soft->last_reason, json_object_get_string_member_with_default (o, "last_reason", ""),
		           sizeof soft->last_reason);
		const char *a = json_object_get_string_member_with_default (o, "address", NULL);
		if (!a) {
			row_error (im, line, error, "soft counter without an address");
			return NULL;
		}
		*soft_addr = g_strdup (a);
		return NULL;
	}
	const char *key = json_object_get_string_member_with_default (o, "address", NULL);
	if (!key) {
		key = json_object_get_string_member_with_default (o, "domain", NULL);
		*table = BDB_TABLE_DOMAIN;
	}
	if (!key) {
		row_error (im, line, error, "no address or domain");
		return NULL;
	}
	g_autoptr (BdbSuppression) s = bdb_suppression_new (key);
	const char *state = json_object_get_string_member_with_default (o, "state", "suppressed");
	s->state = strcmp (state, "removed") == 0 ? BDB_STATE_REMOVED : BDB_STATE_SUPPRESSED;
	const char *kind = json_object_get_string_member_with_default (o, "kind", "imported");
	if (!bdb_suppression_kind_from_name (kind, &s->kind)) {
		row_error (im, line, error, "unknown kind '%s'", kind);
		return NULL;
	}
#define S(name) g_strdup (json_object_get_string_member_with_default (o, name, NULL))
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
	static const char *const times[] = { "first_seen", "last_seen", "expires", "removed_at" };
	gint64 *slots[] = { &s->first_seen, &s->last_seen, &s->expires, &s->removed_at };
	for (gsize i = 0; i < G_N_ELEMENTS (times); i++) {
		const char *t = json_object_get_string_member_with_default (o, times[i], NULL);
		if (!parse_when (t, slots[i])) {
			row_error (im, line, error, "%s cannot be read", times[i]);
			return NULL;
		}
	}
	s->count = (guint32) json_object_get_int_member_with_default (o, "count", 1);
	return g_steal_pointer (&s);
}

/* ---- the two passes ---- */

typedef gboolean (*EntryFunc) (Import *im, BdbTable table, BdbSuppression *s, const char *soft_addr,
                               const BdbSoftCounter *soft, gpointer data, GError **error);

static gboolean
read_entries (Import *im, EntryFunc fn, gpointer data, GError **error)
{
	FILE *in = g_fopen (im->path, "r");
	if (!in) {
		g_set_error (error, BDB_ERROR, errno == ENOENT ? BDB_ERROR_NOT_FOUND : BDB_ERROR_IO,
		             "cannot open: %s", g_strerror (errno));
		return FALSE;
	}
	gboolean ok = TRUE;
	guint64 line = 0;
	im->rows = 0;
	if (im->format == FMT_BOUNCEDB_JSONL || im->format == FMT_SES_JSON) {
		g_autoptr (JsonParser) parser = json_parser_new ();
		if (im->format == FMT_SES_JSON) {
			GError *e = NULL;
			fclose (in);
			in = NULL;
			if (!json_parser_load_from_file (parser, im->path, &e)) {
				g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "not JSON: %s", e->message);
				g_error_free (e);
				return FALSE;
			}
			JsonObject *root = json_node_get_object (json_parser_get_root (parser));
			JsonArray *list = json_object_get_array_member (root, "SuppressedDestinationSummaries");
			for (guint i = 0; ok && i < json_array_get_length (list); i++) {
				JsonObject *o = json_array_get_object_element (list, i);
				const char *a = o ? json_object_get_string_member_with_default (o, "EmailAddress", NULL) : NULL;
				g_autofree char *addr = a ? cli_normalize_input (im->cli, a, NULL) : NULL;
				if (!addr) {
					ok = row_error (im, i + 1, error, "entry %u has no valid EmailAddress", i + 1);
					break;
				}
				gint64 when = 0;
				parse_when (json_object_get_string_member_with_default (o, "LastUpdateTime", NULL), &when);
				BdbSuppression *s = bdb_suppression_new (addr);
				s->kind = BDB_SUPPRESSION_IMPORTED;
				s->source = g_strdup ("import");
				s->reason = map_reason (im, json_object_get_string_member_with_default (o, "Reason", NULL),
				                        NULL, NULL, NULL);
				s->first_seen = s->last_seen = when ? when : im->now;
				s->count = 1;
				s->note = g_strdup ("imported from Amazon SES");
				im->rows++;
				ok = fn (im, BDB_TABLE_ADDRESS, s, NULL, NULL, data, error);
			}
			return ok;
		}
		char *buf = NULL;
		size_t cap = 0;
		ssize_t n;
		while (ok && (n = getline (&buf, &cap, in)) >= 0) {
			line++;
			if (line == 1 || n <= 1)
				continue;  /* the versioned header; blank lines */
			GError *e = NULL;
			if (!json_parser_load_from_data (parser, buf, n, &e) ||
			    !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
				ok = row_error (im, line, error, "not a JSON object%s%s", e ? ": " : "", e ? e->message : "");
				g_clear_error (&e);
				break;
			}
			BdbTable table;
			gboolean is_soft;
			BdbSoftCounter soft;
			g_autofree char *soft_addr = NULL;
			BdbSuppression *s = from_json_object (im, json_node_get_object (json_parser_get_root (parser)),
			                                      line, &table, &is_soft, &soft, &soft_addr, error);
			if (!s && !is_soft) {
				ok = FALSE;
				break;
			}
			im->rows++;
			ok = fn (im, table, s, soft_addr, is_soft ? &soft : NULL, data, error);
		}
		free (buf);
		fclose (in);
		return ok;
	}

	gboolean eof, header_done = FALSE;
	GPtrArray *rec;
	while (ok && (rec = csv_record (in, &line, &eof))) {
		guint64 start = line;
		const char *first = rec->pdata[0];
		if ((rec->len == 1 && !*first) || first[0] == '#' || !header_done) {
			/* Blank lines, comments, and the header row (read by
			 * detect_format()). */
			if (rec->len > 1 || (*first && first[0] != '#'))
				header_done = TRUE;
			g_ptr_array_unref (rec);
			continue;
		}
		BdbTable table;
		BdbSuppression *s = from_csv (im, rec, start, &table, error);
		g_ptr_array_unref (rec);
		if (!s) {
			ok = FALSE;
			break;
		}
		im->rows++;
		ok = fn (im, table, s, NULL, NULL, data, error);
	}
	fclose (in);
	return ok;
}

/* Pass 1: every row valid? */
static gboolean
check_entry (Import *im, BdbTable table, BdbSuppression *s, const char *soft_addr,
             const BdbSoftCounter *soft, gpointer data, GError **error)
{
	bdb_suppression_free (s);
	return TRUE;
}

typedef struct {
	Import *im;
	BdbTxn *txn;
	guint64 written;
} Writer;

static gboolean
write_entry (Import *im, BdbTable table, BdbSuppression *s, const char *soft_addr,
             const BdbSoftCounter *soft, gpointer data, GError **error)
{
	Writer *w = data;
	gboolean ok;
	if (soft) {
		ok = bdb_txn_put_soft (w->txn, soft_addr, soft, error);
	} else {
		ok = bdb_policy_merge (&im->policy, w->txn, table, s, error);
		bdb_suppression_free (s);
	}
	w->written++;
	return ok;
}

static gboolean
write_all (BdbTxn *txn, gpointer data, GError **error)
{
	Writer *w = data;
	w->txn = txn;
	w->written = 0;  /* re-run after a map resize */
	return read_entries (w->im, write_entry, w, error);
}

static gboolean
detect_format (Import *im, GError **error)
{
	FILE *in = g_fopen (im->path, "r");
	if (!in) {
		g_set_error (error, BDB_ERROR, errno == ENOENT ? BDB_ERROR_NOT_FOUND : BDB_ERROR_IO,
		             "cannot open: %s", g_strerror (errno));
		return FALSE;
	}
	char first[4096] = "";
	if (!fgets (first, sizeof first, in))
		first[0] = '\0';
	fclose (in);
	if (g_str_has_prefix (first, "{\"bouncedb_export\":")) {
		im->format = FMT_BOUNCEDB_JSONL;
		return TRUE;
	}
	if (first[0] == '{' || first[0] == '[') {
		im->format = FMT_SES_JSON;
		return TRUE;
	}
	im->format = g_str_has_prefix (first, "# bouncedb export v") ? FMT_BOUNCEDB_CSV : FMT_CSV;
	if (im->format == FMT_BOUNCEDB_CSV && !g_str_has_prefix (first, "# bouncedb export v1 ")) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_VERSION, "line 1: export written by a newer bouncedb");
		return FALSE;
	}
	/* The header row: the first line that is not a comment. */
	in = g_fopen (im->path, "r");
	guint64 line = 0;
	gboolean eof;
	GPtrArray *hdr = NULL;
	while ((hdr = csv_record (in, &line, &eof))) {
		if (((char *) hdr->pdata[0])[0] != '#')
			break;
		g_ptr_array_unref (hdr);
	}
	fclose (in);
	if (!hdr) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "empty file");
		return FALSE;
	}
	im->header = hdr;
	/* bouncedb's own CSV export is known by its header row. */
	if (cli_csv_is_suppression_header (hdr))
		im->format = FMT_BOUNCEDB_CSV;
	if (im->format == FMT_BOUNCEDB_CSV)
		return TRUE;
	im->c_addr = find_column (hdr, (const char *const[]) {
		"email", "emailaddress", "address", "recipient", "mail", "emailid", "to", NULL });
	im->c_reason = find_column (hdr, (const char *const[]) {
		"reason", "suppressionreason", "type", "bouncetype", NULL });
	im->c_code = find_column (hdr, (const char *const[]) { "code", "replycode", "smtpcode", NULL });
	im->c_error = find_column (hdr, (const char *const[]) {
		"error", "diagnostic", "description", "details", "message", NULL });
	im->c_status = find_column (hdr, (const char *const[]) { "status", "enhancedstatus", NULL });
	im->c_date = find_column (hdr, (const char *const[]) {
		"createdat", "created", "date", "timestamp", "lastupdatetime", "lastupdatedtimestamp",
		"lastseen", "bouncedat", "time", NULL });
	if (im->c_addr < 0) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE,
		             "line 1: no email/address column in the header");
		return FALSE;
	}
	return TRUE;
}

int
cmd_import (Cli *cli, int argc, char **argv)
{
	g_autofree char *reason = NULL;
	gboolean dry_run = FALSE;
	GOptionEntry entries[] = {
		{ "reason", 'r', 0, G_OPTION_ARG_STRING, &reason,
		  "Reason for rows that give none (default: undefined; e.g. feedback for a complaints list)", "REASON" },
		{ "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run, "Check the file only", NULL },
		{ NULL },
	};
	int status = cli_parse_options (cli, "FILE is a bouncedb export (CSV or JSON Lines) or an ESP's suppression\n"
	                            "export: any CSV whose header names an email or address column, such as\n"
	                            "Mailgun (address,code,error,created_at), SendGrid (email,created,reason,status),\n"
	                            "Postmark (EmailAddress,SuppressionReason,...), Amazon SES (CSV or the JSON of\n"
	                            "'aws sesv2 list-suppressed-destinations').  A bad row stops the import with\n"
	                            "its line number; nothing is imported then.  Importing twice is harmless.\n"
	                            "\n"
	                            "Examples:\n"
	                            "  bouncedb import backup.jsonl\n"
	                            "  bouncedb import --reason feedback mailgun-complaints.csv",
	                                entries, &argc, &argv);
	if (status != EX_OK)
		return status;
	if (argc != 2) {
		cli_warn (cli, "give one FILE (or - for standard input)");
		return EX_USAGE;
	}
	Import im = { 0 };
	im.cli = cli;
	im.now = cli_now ();
	im.c_addr = im.c_reason = im.c_code = im.c_error = im.c_status = im.c_date = im.c_table = -1;
	im.default_reason = g_strdup (reason ? reason : "undefined");
	GError *error = NULL;
	g_autofree char *tmp = NULL;
	im.path = argv[1];
	if (strcmp (argv[1], "-") == 0) {
		/* Two passes need a file: keep standard input in a temporary one. */
		int fd = g_file_open_tmp ("bouncedb-import-XXXXXX", &tmp, NULL);
		char buf[65536];
		ssize_t n;
		while (fd >= 0 && (n = read (STDIN_FILENO, buf, sizeof buf)) > 0)
			if (write (fd, buf, (size_t) n) != n)
				break;
		if (fd >= 0)
			close (fd);
		im.path = tmp;
	}
	im.rules = cli_rules (cli, &error);
	if (!im.rules || !cli_policy (cli, &im.policy, &error) || !detect_format (&im, &error) ||
	    !read_entries (&im, check_entry, NULL, &error)) {
		status = cli_fail (cli, argv[1], &error);
		goto out;
	}
	guint64 rows = im.rows;
	if (!dry_run) {
		Writer w = { &im, NULL, 0 };
		if ((status = cli_open (cli)) != EX_OK)
			goto out;
		if (!bdb_store_write (cli->store, write_all, &w, &error)) {
			status = cli_fail (cli, argv[1], &error);
			goto out;
		}
	}
	fprintf (stderr, "bouncedb: import: %" G_GUINT64_FORMAT " entries %s from '%s'\n", rows,
	         dry_run ? "checked" : "merged", argv[1]);
out:
	if (im.header)
		g_ptr_array_unref (im.header);
	bdb_rules_free (im.rules);
	g_free (im.default_reason);
	if (tmp)
		g_unlink (tmp);
	return cli_finish (cli, status);
}
