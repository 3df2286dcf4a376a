/* The report model: fields, builders and accessors of BdbReport and
 * BdbRecord (report-model.h).  Every string a report keeps is interned in
 * its one string chunk, whitespace collapsed and UTF-8 made valid, so a
 * report is freed in one go and its values are safe to print.
 *
 * Layering: the bottom of the parse side; it calls nothing above it. */
#include <string.h>
#include <gmime/gmime.h>  /* its RFC 5322 date parser */
#include <bouncedb/address.h>
#include "report-model.h"
#include "limits-private.h"

static const char *const field_names[BDB_FIELD_COUNT] = {
	[BDB_FIELD_RECIPIENT] = "recipient",
	[BDB_FIELD_ORIGINAL_RECIPIENT] = "original_recipient",
	[BDB_FIELD_RECIPIENT_SOURCE] = "recipient_source",
	[BDB_FIELD_ACTION] = "action",
	[BDB_FIELD_STATUS] = "status",
	[BDB_FIELD_DSN_STATUS] = "dsn_status",
	[BDB_FIELD_REPLY_CODE] = "reply_code",
	[BDB_FIELD_DIAGNOSTIC_TYPE] = "diagnostic_type",
	[BDB_FIELD_DIAGNOSTIC] = "diagnostic",
	[BDB_FIELD_REMOTE_MTA] = "remote_mta",
	[BDB_FIELD_LAST_ATTEMPT] = "last_attempt",
	[BDB_FIELD_WILL_RETRY_UNTIL] = "will_retry_until",
	[BDB_FIELD_SMTP_COMMAND] = "smtp_command",
	[BDB_FIELD_KIND] = "kind",
	[BDB_FIELD_EXTRACTOR] = "extractor",
	[BDB_FIELD_REPORTING_MTA] = "reporting_mta",
	[BDB_FIELD_RECEIVED_FROM_MTA] = "received_from_mta",
	[BDB_FIELD_ARRIVAL_DATE] = "arrival_date",
	[BDB_FIELD_ENVELOPE_ID] = "envelope_id",
	[BDB_FIELD_FEEDBACK_TYPE] = "feedback_type",
	[BDB_FIELD_USER_AGENT] = "user_agent",
	[BDB_FIELD_SOURCE_IP] = "source_ip",
	[BDB_FIELD_REPORTED_DOMAIN] = "reported_domain",
	[BDB_FIELD_ORIGINAL_MAIL_FROM] = "original_mail_from",
	[BDB_FIELD_MESSAGE_ID] = "message_id",
	[BDB_FIELD_DATE] = "date",
	[BDB_FIELD_REPORT_FROM] = "report_from",
	[BDB_FIELD_REPORT_SUBJECT] = "report_subject",
	[BDB_FIELD_ORIGINAL_MESSAGE_ID] = "original_message_id",
	[BDB_FIELD_ORIGINAL_FROM] = "original_from",
	[BDB_FIELD_ORIGINAL_TO] = "original_to",
	[BDB_FIELD_SUBJECT] = "subject",
	[BDB_FIELD_ORIGINAL_DATE] = "original_date",
	[BDB_FIELD_LIST_ID] = "list_id",
	[BDB_FIELD_FEEDBACK_ID] = "feedback_id",
	[BDB_FIELD_VERP_RECIPIENT] = "verp_recipient",
};

const char *
bdb_field_name (BdbField field)
{
	return (guint) field < BDB_FIELD_COUNT ? field_names[field] : NULL;
}

gboolean
bdb_field_is_per_recipient (BdbField field)
{
	return field <= BDB_FIELD_SMTP_COMMAND;
}

/* ---- building ---------------------------------------------------------- */

BdbReport *
bdb_report_new (void)
{
	BdbReport *r = g_new0 (BdbReport, 1);
	r->records = g_ptr_array_new_with_free_func (g_free);
	r->extensions = g_ptr_array_new ();
	r->headers = g_ptr_array_new ();
	r->senders = g_ptr_array_new ();
	r->strings = g_string_chunk_new (1024);
	r->max_recipients = DEFAULT_MAX_RECIPIENTS;
	return r;
}

void
bdb_report_free (BdbReport *report)
{
	if (!report)
		return;
	g_ptr_array_unref (report->records);
	g_ptr_array_unref (report->extensions);
	g_ptr_array_unref (report->headers);
	g_ptr_array_unref (report->senders);
	g_string_chunk_free (report->strings);
	g_free (report);
}

const char *
bdb_report_intern (BdbReport *report, const char *s, gssize len)
{
	if (!s)
		return NULL;
	gsize n = len < 0 ? strlen (s) : (gsize) len;

	/* Collapse every run of whitespace (folding included) to one space
	 * and drop NULs: values are single-line text from here on. */
	GString *buf = g_string_sized_new (n + 1);
	gboolean space = FALSE;
	for (gsize i = 0; i < n; i++) {
		char c = s[i];
		if (c == '\0')
			continue;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
			space = buf->len > 0;
			continue;
		}
		if (space) {
			g_string_append_c (buf, ' ');
			space = FALSE;
		}
		g_string_append_c (buf, c);
	}
	if (buf->len == 0) {
		g_string_free (buf, TRUE);
		return NULL;
	}
	const char *out;
	if (g_utf8_validate (buf->str, (gssize) buf->len, NULL)) {
		out = g_string_chunk_insert_len (report->strings, buf->str, (gssize) buf->len);
	} else {
		g_autofree char *valid = g_utf8_make_valid (buf->str, (gssize) buf->len);
		out = g_string_chunk_insert (report->strings, valid);
	}
	g_string_free (buf, TRUE);
	return out;
}

void
bdb_report_set (BdbReport *report, BdbField field, const char *s, gssize len)
{
	report->v[field] = bdb_report_intern (report, s, len);
}

void
bdb_report_set_problem (BdbReport *report, const char *problem)
{
	if (!report->problem)
		report->problem = bdb_report_intern (report, problem, -1);
}

void
bdb_report_add_extension (BdbReport *report, const char *name, const char *value)
{
	const char *v = bdb_report_intern (report, value, -1);
	if (!v)
		return;
	g_ptr_array_add (report->extensions, (gpointer) bdb_report_intern (report, name, -1));
	g_ptr_array_add (report->extensions, (gpointer) v);
}

BdbRecord *
bdb_report_add_record (BdbReport *report)
{
	if (report->records->len >= report->max_recipients) {
		report->truncated = TRUE;
		return NULL;
	}
	BdbRecord *rec = g_new0 (BdbRecord, 1);
	rec->report = report;
	g_ptr_array_add (report->records, rec);
	return rec;
}

void
bdb_record_set (BdbRecord *record, BdbField field, const char *s, gssize len)
{
	record->v[field] = bdb_report_intern (record->report, s, len);
}

gboolean
bdb_record_set_recipient (BdbRecord *record, const char *text, const char *source)
{
	if (!text)
		return FALSE;
	g_autofree char *addr = bdb_address_normalize (text, BDB_ADDRESS_UNICODE_DOMAIN, NULL);
	if (!addr)
		return FALSE;
	bdb_record_set (record, BDB_FIELD_RECIPIENT, addr, -1);
	bdb_record_set (record, BDB_FIELD_RECIPIENT_SOURCE, source, -1);
	return TRUE;
}

void
bdb_report_drop_empty_records (BdbReport *report)
{
	for (guint i = report->records->len; i-- > 0;) {
		BdbRecord *rec = report->records->pdata[i];
		if (!rec->v[BDB_FIELD_RECIPIENT])
			g_ptr_array_remove_index (report->records, i);
	}
}

/* ---- accessors --------------------------------------------------------- */

BdbKind
bdb_report_kind (const BdbReport *report)
{
	return report->kind;
}

guint
bdb_report_n_records (const BdbReport *report)
{
	return report->records->len;
}

const BdbRecord *
bdb_report_get_record (const BdbReport *report, guint i)
{
	return i < report->records->len ? report->records->pdata[i] : NULL;
}

const char *
bdb_report_get (const BdbReport *report, BdbField field)
{
	return (guint) field < BDB_FIELD_COUNT ? report->v[field] : NULL;
}

const char *
bdb_report_problem (const BdbReport *report)
{
	return report->problem;
}

const char *
bdb_report_header (const BdbReport *report, const char *name)
{
	for (guint i = 0; i + 1 < report->headers->len; i += 2)
		if (g_ascii_strcasecmp (report->headers->pdata[i], name) == 0)
			return report->headers->pdata[i + 1];
	return NULL;
}

gboolean
bdb_report_get_extension (const BdbReport *report, guint i, const char **name, const char **value)
{
	if (2 * i + 1 >= report->extensions->len)
		return FALSE;
	*name = report->extensions->pdata[2 * i];
	*value = report->extensions->pdata[2 * i + 1];
	return TRUE;
}

const char *
bdb_report_get_sender_candidate (const BdbReport *report, guint i)
{
	/* The envelope sender the report states (X-Postfix-Sender, ARF's
	 * Original-Mail-From) first, then the addresses the bounce went to. */
	const char *stated = report->v[BDB_FIELD_ORIGINAL_MAIL_FROM];
	if (stated) {
		if (i == 0)
			return stated;
		i--;
	}
	return i < report->senders->len ? report->senders->pdata[i] : NULL;
}

const guint8 *
bdb_report_fingerprint (const BdbReport *report)
{
	return report->fingerprint;
}

const char *
bdb_record_get (const BdbRecord *record, BdbField field)
{
	if ((guint) field >= BDB_FIELD_COUNT)
		return NULL;
	return record->v[field] ? record->v[field] : record->report->v[field];
}

const char *
bdb_record_tied_by (const BdbRecord *record)
{
	return record->tied_by;
}

const BdbReport *
bdb_record_report (const BdbRecord *record)
{
	return record->report;
}

gint64
bdb_parse_date (const char *text)
{
	if (!text || !*text)
		return 0;
	GDateTime *dt = g_mime_utils_header_decode_date (text);
	if (!dt)
		return 0;
	gint64 t = g_date_time_to_unix (dt);
	g_date_time_unref (dt);
	return t;
}

gint64
bdb_record_time (const BdbRecord *record)
{
	static const BdbField order[] = {
		BDB_FIELD_LAST_ATTEMPT, BDB_FIELD_ARRIVAL_DATE, BDB_FIELD_DATE,
	};
	for (gsize i = 0; i < G_N_ELEMENTS (order); i++) {
		gint64 t = bdb_parse_date (bdb_record_get (record, order[i]));
		if (t > 0)
			return t;
	}
	return 0;
}
