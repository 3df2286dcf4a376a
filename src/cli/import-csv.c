/* bouncedb import: CSV files.
 *
 * A header row names the columns: bouncedb's own export is known by its
 * exact header (csv.c), anything else by an email or address column, with
 * whatever else it names (reason or type, status, code, error, date).  The
 * delimiter is the one of comma, semicolon and tab the header uses most
 * (spreadsheets in many locales write semicolons).  Without a header, each
 * line is an address, or "address,BOUNCE" / "address,COMPLAINT" as Amazon
 * SES's bulk suppression import takes them.  A byte-order mark is skipped.
 * RFC 4180: quoted fields may hold delimiters, quotes and line breaks.
 */
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include "import.h"

static gboolean
blank (const GString *f)
{
	for (gsize i = 0; i < f->len; i++)
		if (!g_ascii_isspace (f->str[i]))
			return FALSE;
	return TRUE;
}

/* One record (its fields, char *), or NULL at the end. */
static GPtrArray *
csv_record (FILE *in, char delim, guint64 *lineno)
{
	GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
	GString *f = g_string_new (NULL);
	gboolean quoted = FALSE, any = FALSE;
	int c;
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
		if (c == '"' && blank (f)) {
			g_string_truncate (f, 0);
			quoted = TRUE;
		} else if (c == delim) {
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
		g_string_free (f, TRUE);
		g_ptr_array_unref (fields);
		return NULL;
	}
	g_ptr_array_add (fields, g_string_free (f, FALSE));
	/* A byte-order mark before the first field is no part of it. */
	if (*lineno <= 1 && g_str_has_prefix (fields->pdata[0], "\xef\xbb\xbf"))
		memmove (fields->pdata[0], (char *) fields->pdata[0] + 3, strlen ((char *) fields->pdata[0] + 3) + 1);
	return fields;
}

static const char *
field (GPtrArray *rec, int col)
{
	if (col < 0 || (guint) col >= rec->len)
		return NULL;
	char *v = g_strstrip (rec->pdata[col]);
	/* A quote before a formula's first character is export's guard
	 * against spreadsheets (cli_csv_cell()), not part of the value. */
	if (v[0] == '\'' && v[1] && strchr ("=+-@", v[1]))
		v++;
	return *v ? v : NULL;
}

/* The column named one of @names ("Email Address", "email_address" and
 * "EmailAddress" are one name), or -1. */
static int
find_column (GPtrArray *header, const char *const *names)
{
	for (guint i = 0; i < header->len; i++) {
		g_autofree char *k = import_fold (header->pdata[i]);
		for (const char *const *n = names; *n; n++)
			if (strcmp (k, *n) == 0)
				return (int) i;
	}
	return -1;
}

#define COLUMN(...) find_column (im->header, (const char *const[]) { __VA_ARGS__, NULL })

static gboolean
parse_times (BdbSuppression *s, const char *const *t)
{
	return import_parse_when (t[0], &s->first_seen) && import_parse_when (t[1], &s->last_seen) &&
	       import_parse_when (t[2], &s->expires) && import_parse_when (t[3], &s->removed_at);
}

/* A row of bouncedb's own export. */
static gboolean
own_row (Import *im, GPtrArray *rec, const char *where, GError **error)
{
#define COL(name) field (rec, COLUMN (name))
	const char *key = COL ("key");
	if (!key) {
		import_error (error, where, "no key");
		return FALSE;
	}
	g_autoptr (BdbSuppression) s = bdb_suppression_new (key);
	const char *tname = COL ("table");
	BdbTable table = tname && strcmp (tname, "domain") == 0 ? BDB_TABLE_DOMAIN : BDB_TABLE_ADDRESS;
	const char *state = COL ("state");
	s->state = state && strcmp (state, "removed") == 0 ? BDB_STATE_REMOVED : BDB_STATE_SUPPRESSED;
	const char *kind = COL ("kind");
	if (kind && !bdb_suppression_kind_from_name (kind, &s->kind)) {
		import_error (error, where, "unknown kind '%s'", kind);
		return FALSE;
	}
	s->reason = g_strdup (COL ("reason"));
	s->source = g_strdup (COL ("source"));
	s->status = g_strdup (COL ("status"));
	s->reply_code = g_strdup (COL ("replycode"));
	s->diagnostic = g_strdup (COL ("diagnostic"));
	s->rule = g_strdup (COL ("rule"));
	s->reporting_mta = g_strdup (COL ("reportingmta"));
	s->remote_mta = g_strdup (COL ("remotemta"));
	s->report_message_id = g_strdup (COL ("reportmessageid"));
	s->original_message_id = g_strdup (COL ("originalmessageid"));
	s->note = g_strdup (COL ("note"));
	const char *times[] = { COL ("firstseen"), COL ("lastseen"), COL ("expires"), COL ("removedat") };
	if (!parse_times (s, times)) {
		import_error (error, where, "a time cannot be read");
		return FALSE;
	}
	const char *count = COL ("count");
	s->count = count ? (guint32) g_ascii_strtoull (count, NULL, 10) : 1;
#undef COL
	return import_own_entry (im, table, g_steal_pointer (&s), NULL, NULL, error);
}

static gboolean
esp_row (Import *im, GPtrArray *rec, const char *where, GError **error)
{
	EspEntry e = { 0 };
	e.address = field (rec, im->c_addr);
	if (im->headerless) {
		const char *why = field (rec, 1);
		if (rec->len > 2 || (why && g_ascii_strcasecmp (why, "BOUNCE") != 0 &&
		                     g_ascii_strcasecmp (why, "COMPLAINT") != 0)) {
			import_error (error, where, "a line without a header must be ADDRESS or ADDRESS,BOUNCE|COMPLAINT");
			return FALSE;
		}
		e.reason = why;
		e.klass = why ? IMPORT_GUESS : IMPORT_UNKNOWN;
		return import_esp_entry (im, where, &e, error);
	}
	const char *type = field (rec, im->c_type), *reason = field (rec, im->c_reason);
	e.reason = type ? type : reason;
	e.text = field (rec, im->c_error);
	if (!e.text && type)
		e.text = reason;
	e.status = field (rec, im->c_status);
	e.code = field (rec, im->c_code);
	e.date = field (rec, im->c_date);
	return import_esp_entry (im, where, &e, error);
}

static gboolean
read_csv (Import *im, GError **error)
{
	FILE *in = g_fopen (im->path, "r");
	if (!in) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "cannot open: %s", g_strerror (errno));
		return FALSE;
	}
	gboolean ok = TRUE, header_seen = im->headerless;
	guint64 line = 0;
	GPtrArray *rec;
	while (ok && (rec = csv_record (in, im->delim, &line))) {
		g_autofree char *where = g_strdup_printf ("line %" G_GUINT64_FORMAT, line);
		const char *first = g_strstrip (rec->pdata[0]);
		if ((rec->len == 1 && !*first) || (!header_seen && first[0] == '#')) {
			/* blank lines; comments before the header (bouncedb 0.1) */
		} else if (!header_seen) {
			header_seen = TRUE;
		} else {
			ok = im->own ? own_row (im, rec, where, error) : esp_row (im, rec, where, error);
		}
		g_ptr_array_unref (rec);
	}
	fclose (in);
	return ok;
}

/* The delimiter @line uses most, outside quotes. */
static char
guess_delimiter (const char *line)
{
	const char cands[] = { ',', ';', '\t' };
	guint count[G_N_ELEMENTS (cands)] = { 0 };
	gboolean quoted = FALSE;
	for (const char *p = line; *p; p++) {
		if (*p == '"')
			quoted = !quoted;
		for (gsize i = 0; i < G_N_ELEMENTS (cands) && !quoted; i++)
			count[i] += *p == cands[i];
	}
	gsize best = 0;
	for (gsize i = 1; i < G_N_ELEMENTS (cands); i++)
		if (count[i] > count[best])
			best = i;
	return cands[best];
}

gboolean
import_csv_detect (Import *im, const char *first, GError **error)
{
	im->read = read_csv;
	if (g_str_has_prefix (first, "# bouncedb export v") && !g_str_has_prefix (first, "# bouncedb export v1 ")) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_DB_VERSION, "line 1: export written by a newer bouncedb");
		return FALSE;
	}
	im->delim = guess_delimiter (first);
	/* The header: the first record that is not a comment. */
	FILE *in = g_fopen (im->path, "r");
	if (!in) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "cannot open: %s", g_strerror (errno));
		return FALSE;
	}
	guint64 line = 0;
	GPtrArray *hdr;
	while ((hdr = csv_record (in, im->delim, &line))) {
		const char *f = g_strstrip (hdr->pdata[0]);
		if (*f && *f != '#')
			break;
		g_ptr_array_unref (hdr);
	}
	fclose (in);
	if (!hdr) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "no entries");
		return FALSE;
	}
	im->header = hdr;
	if (cli_csv_is_suppression_header (hdr)) {
		im->own = TRUE;
		im->shape = "bouncedb export (CSV)";
		return TRUE;
	}
	g_autofree char *probe = cli_normalize_input (im->cli, hdr->pdata[0], NULL);
	if (probe) {
		/* No header: the first line is an entry already. */
		im->headerless = TRUE;
		im->c_addr = 0;
		im->shape = hdr->len == 1 ? "list of addresses" : "Amazon SES suppression list (CSV)";
		return TRUE;
	}
	im->c_addr = COLUMN ("email", "emailaddress", "address", "recipient", "recipientemail", "mail",
	                     "emailid", "to");
	im->c_reason = COLUMN ("reason", "suppressionreason");
	im->c_type = COLUMN ("type", "bouncetype", "eventtype", "event");
	im->c_code = COLUMN ("code", "replycode", "smtpcode", "errorcode");
	im->c_error = COLUMN ("error", "diagnostic", "diagnosticcode", "description", "details", "message");
	im->c_status = COLUMN ("status", "enhancedstatus", "dsnstatus");
	im->c_date = COLUMN ("createdat", "created", "date", "timestamp", "lastupdatetime",
	                     "lastupdatedtimestamp", "lastseen", "bouncedat", "suppressedat", "time");
	if (im->c_addr < 0) {
		g_autofree char *safe = cli_safe (first);
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE,
		             "line %" G_GUINT64_FORMAT ": '%s' names no email or address column: expected a bouncedb "
		             "export, a CSV whose header names an email or address column, or lines of "
		             "ADDRESS or ADDRESS,BOUNCE|COMPLAINT", line, safe);
		return FALSE;
	}
	im->shape = im->delim == ',' ? "CSV" : im->delim == ';' ? "CSV, semicolons" : "CSV, tabs";
	return TRUE;
}
