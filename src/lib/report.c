/* Reading one message into a BdbReport.
 *
 * GMime parses the MIME structure; a walker notes the parts that matter to
 * a report (the machine-readable status or feedback part, the returned
 * original, the human-readable text) and the readers in dsn.c, arf.c,
 * autoreply.c and extract/ turn them into records.  The RFC 3464 reader
 * goes first: when a report is well formed, no heuristic touches it.
 *
 * Memory: the message is read (or mapped) once, GMime's parser references
 * it instead of copying (persistent stream), and everything the report
 * keeps is copied into one string chunk, so freeing a report is cheap and
 * the GMime object tree does not outlive the parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bouncedb/address.h>
#include <bouncedb/error.h>
#include "report-private.h"
#include "extract/extract.h"

#define DEFAULT_MAX_MESSAGE_SIZE (64u << 20)
#define DEFAULT_MAX_RECIPIENTS 1000u
#define DEFAULT_MAX_DEPTH 16u
#define DEFAULT_MAX_HEADER_SIZE (1u << 20)
#define DEFAULT_MAX_PART_SIZE (4u << 20)
#define TEXT_LIMIT (256u << 10)   /* human-readable text kept for extractors */

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

void
bdb_parse_options_init (BdbParseOptions *opts)
{
	memset (opts, 0, sizeof *opts);
	opts->max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
	opts->max_recipients = DEFAULT_MAX_RECIPIENTS;
	opts->max_depth = DEFAULT_MAX_DEPTH;
	opts->max_header_size = DEFAULT_MAX_HEADER_SIZE;
	opts->max_part_size = DEFAULT_MAX_PART_SIZE;
}

/* Missing or zero options take their defaults. */
static BdbParseOptions
effective_options (const BdbParseOptions *given)
{
	BdbParseOptions o;
	bdb_parse_options_init (&o);
	if (given) {
		if (given->max_message_size)
			o.max_message_size = given->max_message_size;
		if (given->max_recipients)
			o.max_recipients = given->max_recipients;
		if (given->max_depth)
			o.max_depth = given->max_depth;
		if (given->max_header_size)
			o.max_header_size = given->max_header_size;
		if (given->max_part_size)
			o.max_part_size = given->max_part_size;
		o.keep_headers = given->keep_headers;
	}
	return o;
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

/* ---- MIME walking ------------------------------------------------------ */

GByteArray *
bdb_part_content (GMimeObject *part, gsize limit)
{
	GByteArray *out = g_byte_array_new ();
	GMimeDataWrapper *content = GMIME_IS_PART (part) ? g_mime_part_get_content (GMIME_PART (part)) : NULL;

	if (content) {
		GMimeStream *src = g_mime_data_wrapper_get_stream (content);
		GMimeContentEncoding enc = g_mime_data_wrapper_get_encoding (content);
		GMimeStream *filtered = g_mime_stream_filter_new (src);
		if (enc != GMIME_CONTENT_ENCODING_DEFAULT && enc != GMIME_CONTENT_ENCODING_7BIT &&
		    enc != GMIME_CONTENT_ENCODING_8BIT && enc != GMIME_CONTENT_ENCODING_BINARY) {
			GMimeFilter *dec = g_mime_filter_basic_new (enc, FALSE);
			g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), dec);
			g_object_unref (dec);
		}
		g_mime_stream_reset (src);
		char buf[8192];
		gssize n;
		while (out->len < limit && (n = g_mime_stream_read (filtered, buf, sizeof buf)) > 0)
			g_byte_array_append (out, (const guint8 *) buf,
			                     (guint) MIN ((gsize) n, limit - out->len));
		g_object_unref (filtered);
	} else if (GMIME_IS_MESSAGE_PART (part)) {
		GMimeMessage *m = g_mime_message_part_get_message (GMIME_MESSAGE_PART (part));
		if (m) {
			char *s = g_mime_object_to_string (GMIME_OBJECT (m), NULL);
			gsize n = MIN (strlen (s), limit);
			g_byte_array_append (out, (const guint8 *) s, (guint) n);
			g_free (s);
		}
	}
	/* NUL past the end so callers may treat it as a C string. */
	guint8 nul = 0;
	g_byte_array_append (out, &nul, 1);
	out->len--;
	return out;
}

typedef struct {
	BdbMessageView view;
	GPtrArray *text_parts;   /* GMimeObject *, borrowed from the message */
	GString *orphan_text;    /* body text of multiparts without parts */
	GError *error;
} Walk;

static gboolean
type_is (GMimeContentType *ct, const char *type, const char *subtype)
{
	return g_mime_content_type_is_type (ct, type, subtype);
}

static gboolean
looks_like_status_fields (GMimeObject *part, gsize limit)
{
	g_autoptr (GByteArray) body = bdb_part_content (part, MIN (limit, (gsize) 16384));
	const char *s = (const char *) body->data;
	return strstr (s, "Final-Recipient:") || strstr (s, "Original-Recipient:") ||
	       g_strrstr (s, "final-recipient:") || strstr (s, "Reporting-MTA:");
}

static void
walk (Walk *w, GMimeObject *obj, guint depth, gboolean in_report, guint index)
{
	if (w->error)
		return;
	if (depth > w->view.opts->max_depth) {
		g_set_error (&w->error, BDB_ERROR, BDB_ERROR_LIMIT,
		             "MIME structure nested deeper than %u levels", w->view.opts->max_depth);
		return;
	}
	GMimeContentType *ct = g_mime_object_get_content_type (obj);

	if (GMIME_IS_MULTIPART (obj)) {
		gboolean report = type_is (ct, "multipart", "report");
		if (report && !w->view.multipart_report) {
			w->view.multipart_report = TRUE;
			w->view.report_type = g_mime_content_type_get_parameter (ct, "report-type");
		}
		int n = g_mime_multipart_get_count (GMIME_MULTIPART (obj));
		if (n == 0) {
			/* The boundary never occurs (misquoted, or a typo in the
			 * header): GMime keeps the whole body as the prologue. */
			const char *pro = g_mime_multipart_get_prologue (GMIME_MULTIPART (obj));
			if (pro && w->orphan_text->len < TEXT_LIMIT)
				g_string_append (w->orphan_text, pro);
		}
		for (int i = 0; i < n; i++)
			walk (w, g_mime_multipart_get_part (GMIME_MULTIPART (obj), i), depth + 1,
			      report, (guint) i);
		return;
	}
	if (GMIME_IS_MESSAGE_PART (obj)) {
		/* The returned original: read its headers, never its body. */
		if (!w->view.original)
			w->view.original = obj;
		return;
	}
	if (!GMIME_IS_PART (obj))
		return;

	if (type_is (ct, "message", "delivery-status") ||
	    type_is (ct, "message", "global-delivery-status")) {
		if (!w->view.status_part)
			w->view.status_part = obj;
	} else if (type_is (ct, "message", "feedback-report")) {
		if (!w->view.feedback_part)
			w->view.feedback_part = obj;
	} else if (type_is (ct, "text", "rfc822-headers") ||
	           type_is (ct, "message", "global-headers") ||
	           type_is (ct, "message", "rfc822-headers")) {
		if (!w->view.original)
			w->view.original = obj;
	} else if (in_report && index > 0 && !w->view.status_part &&
	           (type_is (ct, "text", "plain") || type_is (ct, "application", "octet-stream") ||
	            type_is (ct, "text", "delivery-status")) &&
	           looks_like_status_fields (obj, w->view.opts->max_part_size)) {
		/* A status part sent with the wrong type: seen from Exchange
		 * gateways and list servers (doc/VIOLATIONS.md). */
		w->view.status_part = obj;
	} else if (type_is (ct, "text", "*")) {
		if (in_report && index >= 2 && !w->view.original && type_is (ct, "text", "plain")) {
			/* Third part of a report: the original, mislabelled. */
			w->view.original = obj;
			return;
		}
		g_ptr_array_add (w->text_parts, obj);
	}
}

/* The human-readable text of the message, decoded to UTF-8: text/plain
 * parts first, text/html (tags stripped) only when there is no plain part. */
static void
collect_text (Walk *w)
{
	GString *text = g_string_new (NULL);
	gboolean have_plain = FALSE;

	for (guint i = 0; i < w->text_parts->len; i++)
		if (type_is (g_mime_object_get_content_type (w->text_parts->pdata[i]), "text", "plain"))
			have_plain = TRUE;
	for (guint i = 0; i < w->text_parts->len && text->len < TEXT_LIMIT; i++) {
		GMimeObject *part = w->text_parts->pdata[i];
		GMimeContentType *ct = g_mime_object_get_content_type (part);
		gboolean html = type_is (ct, "text", "html");
		if (have_plain && !type_is (ct, "text", "plain"))
			continue;
		if (!have_plain && !html)
			continue;
		char *s = NULL;
		if (GMIME_IS_TEXT_PART (part)) {
			GMimeTextPart *tp = GMIME_TEXT_PART (part);
			const char *cs = g_mime_content_type_get_parameter (ct, "charset");
			if (!cs) {
				/* Without a charset GMime assumes Latin-1; raw UTF-8 is
				 * the likelier truth in bounces. */
				g_autoptr (GByteArray) raw = bdb_part_content (part, TEXT_LIMIT);
				if (g_utf8_validate ((const char *) raw->data, (gssize) raw->len, NULL))
					s = g_strndup ((const char *) raw->data, raw->len);
			}
			if (!s)
				s = g_mime_text_part_get_text (tp);
		}
		if (!s)
			continue;
		if (html) {
			/* Crude but safe: drop tags, keep text; extractors only
			 * need the words. */
			char *r = s, *wp = s;
			gboolean tag = FALSE;
			for (; *r; r++) {
				if (*r == '<')
					tag = TRUE;
				else if (*r == '>') {
					tag = FALSE;
					*wp++ = '\n';
				} else if (!tag)
					*wp++ = *r;
			}
			*wp = '\0';
		}
		if (text->len)
			g_string_append_c (text, '\n');
		g_string_append_len (text, s, (gssize) MIN (strlen (s), TEXT_LIMIT));
		g_free (s);
	}
	if (w->orphan_text->len) {
		if (text->len)
			g_string_append_c (text, '\n');
		g_string_append_len (text, w->orphan_text->str, (gssize) w->orphan_text->len);
	}
	if (!g_utf8_validate (text->str, (gssize) text->len, NULL)) {
		char *valid = g_utf8_make_valid (text->str, (gssize) text->len);
		g_string_assign (text, valid);
		g_free (valid);
	}
	w->view.text = text;
}

/* First mailbox address of an address header, lowercased; NULL if none. */
static char *
first_address (InternetAddressList *list)
{
	if (!list)
		return NULL;
	int n = internet_address_list_length (list);
	for (int i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address (list, i);
		if (INTERNET_ADDRESS_IS_MAILBOX (ia)) {
			const char *a = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (ia));
			if (a && *a)
				return g_ascii_strdown (a, -1);
		} else if (INTERNET_ADDRESS_IS_GROUP (ia)) {
			char *a = first_address (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (ia)));
			if (a)
				return a;
		}
	}
	return NULL;
}

static char *
header_address (GMimeObject *obj, const char *name)
{
	const char *raw = g_mime_object_get_header (obj, name);
	if (!raw)
		return NULL;
	InternetAddressList *list = internet_address_list_parse (NULL, raw);
	char *a = first_address (list);
	if (list)
		g_object_unref (list);
	if (!a) {
		g_autofree char *n = bdb_address_normalize (raw, BDB_ADDRESS_UNICODE_DOMAIN, NULL);
		a = g_steal_pointer (&n);
	}
	return a;
}

/* Take ownership of @address (may be NULL) as a sender candidate. */
static void
add_sender (BdbReport *report, char *address)
{
	if (address)
		g_ptr_array_add (report->senders, (gpointer) bdb_report_intern (report, address, -1));
	g_free (address);
}

static void
set_decoded_header (BdbReport *report, BdbField field, GMimeObject *obj, const char *name)
{
	const char *raw = g_mime_object_get_header (obj, name);
	if (!raw)
		return;
	g_autofree char *dec = g_mime_utils_header_decode_text (NULL, raw);
	bdb_report_set (report, field, dec, -1);
}

/* Headers of the returned original, from whichever form it came in. */
static void
read_original (BdbMessageView *view, BdbReport *report)
{
	GMimeObject *obj = view->original;
	GMimeMessage *owned = NULL;

	if (!obj)
		return;
	if (GMIME_IS_MESSAGE_PART (obj)) {
		GMimeMessage *m = g_mime_message_part_get_message (GMIME_MESSAGE_PART (obj));
		if (!m)
			return;
		obj = GMIME_OBJECT (m);
	} else {
		/* text/rfc822-headers: parse the headers as a message of its own. */
		g_autoptr (GByteArray) raw = bdb_part_content (obj, view->opts->max_header_size);
		GMimeStream *st = g_mime_stream_mem_new_with_buffer ((const char *) raw->data, raw->len);
		GMimeParser *p = g_mime_parser_new_with_stream (st);
		owned = g_mime_parser_construct_message (p, NULL);
		g_object_unref (p);
		g_object_unref (st);
		if (!owned)
			return;
		obj = GMIME_OBJECT (owned);
	}

	const char *mid = g_mime_object_get_header (obj, "Message-ID");
	if (mid) {
		g_autofree char *id = g_mime_utils_decode_message_id (mid);
		bdb_report_set (report, BDB_FIELD_ORIGINAL_MESSAGE_ID, id ? id : mid, -1);
	}
	g_autofree char *from = header_address (obj, "From");
	bdb_report_set (report, BDB_FIELD_ORIGINAL_FROM, from, -1);
	g_autofree char *to = header_address (obj, "To");
	bdb_report_set (report, BDB_FIELD_ORIGINAL_TO, to, -1);
	set_decoded_header (report, BDB_FIELD_SUBJECT, obj, "Subject");
	bdb_report_set (report, BDB_FIELD_ORIGINAL_DATE, g_mime_object_get_header (obj, "Date"), -1);
	add_sender (report, header_address (obj, "Return-Path"));
	bdb_report_set (report, BDB_FIELD_LIST_ID, g_mime_object_get_header (obj, "List-Id"), -1);
	bdb_report_set (report, BDB_FIELD_FEEDBACK_ID, g_mime_object_get_header (obj, "Feedback-ID"), -1);
	if (view->opts->keep_headers) {
		for (const char *const *h = view->opts->keep_headers; *h; h++) {
			const char *v = g_mime_object_get_header (obj, *h);
			const char *iv = bdb_report_intern (report, v, -1);
			if (iv) {
				g_ptr_array_add (report->headers, (gpointer) bdb_report_intern (report, *h, -1));
				g_ptr_array_add (report->headers, (gpointer) iv);
			}
		}
	}
	if (owned)
		g_object_unref (owned);
}

static void
read_top_headers (GMimeMessage *msg, BdbReport *report)
{
	GMimeObject *obj = GMIME_OBJECT (msg);
	const char *mid = g_mime_message_get_message_id (msg);
	bdb_report_set (report, BDB_FIELD_MESSAGE_ID, mid, -1);
	bdb_report_set (report, BDB_FIELD_DATE, g_mime_object_get_header (obj, "Date"), -1);
	g_autofree char *from = header_address (obj, "From");
	bdb_report_set (report, BDB_FIELD_REPORT_FROM, from, -1);
	set_decoded_header (report, BDB_FIELD_REPORT_SUBJECT, obj, "Subject");
	/* Where a signed envelope sender comes back (sign.h). */
	static const char *const delivered[] = { "Delivered-To", "X-Original-To", "Envelope-To", "To" };
	for (gsize i = 0; i < G_N_ELEMENTS (delivered); i++)
		add_sender (report, header_address (obj, delivered[i]));
}

static void
compute_fingerprint (BdbReport *report, const char *data, gsize len)
{
	/* The body starts after the first empty line; headers added in
	 * transit (Received, Delivered-To) must not change the identity. */
	const char *body = data;
	for (gsize i = 0; i + 1 < len; i++) {
		if (data[i] == '\n' && (data[i + 1] == '\n' ||
		                        (data[i + 1] == '\r' && i + 2 < len && data[i + 2] == '\n'))) {
			body = data + i + 1;
			break;
		}
	}
	if (body == data)
		body = data + len;
	GChecksum *ck = g_checksum_new (G_CHECKSUM_SHA256);
	const char *mid = report->v[BDB_FIELD_MESSAGE_ID];
	const char *date = report->v[BDB_FIELD_DATE];
	g_checksum_update (ck, (const guchar *) (mid ? mid : ""), -1);
	g_checksum_update (ck, (const guchar *) "\n", 1);
	g_checksum_update (ck, (const guchar *) (date ? date : ""), -1);
	g_checksum_update (ck, (const guchar *) "\n", 1);
	g_checksum_update (ck, (const guchar *) body, (gssize) (data + len - body));
	gsize n = sizeof report->fingerprint;
	g_checksum_get_digest (ck, report->fingerprint, &n);
	g_checksum_free (ck);
}

static gpointer
init_gmime (gpointer unused)
{
	g_mime_init ();
	return NULL;
}

static void
ensure_gmime (void)
{
	static GOnce once = G_ONCE_INIT;
	g_once (&once, init_gmime, NULL);
}

static BdbReport *
parse_stream (GMimeStream *stream, const char *data, gsize len,
              const BdbParseOptions *given, GError **error)
{
	BdbParseOptions opts = effective_options (given);
	GMimeParser *parser = g_mime_parser_new_with_stream (stream);
	g_mime_parser_set_persist_stream (parser, TRUE);
	GMimeMessage *msg = g_mime_parser_construct_message (parser, NULL);
	g_object_unref (parser);
	if (!msg) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "not an email message");
		return NULL;
	}
	BdbReport *report = bdb_report_new ();
	report->max_recipients = opts.max_recipients;
	read_top_headers (msg, report);
	compute_fingerprint (report, data, len);

	Walk w = { 0 };
	w.view.message = msg;
	w.view.opts = &opts;
	w.text_parts = g_ptr_array_new ();
	w.orphan_text = g_string_new (NULL);
	GMimeObject *top = g_mime_message_get_mime_part (msg);
	if (top)
		walk (&w, top, 0, FALSE, 0);
	if (w.error) {
		g_propagate_error (error, w.error);
		g_ptr_array_unref (w.text_parts);
		g_string_free (w.orphan_text, TRUE);
		g_object_unref (msg);
		bdb_report_free (report);
		return NULL;
	}
	collect_text (&w);
	g_string_free (w.orphan_text, TRUE);
	read_original (&w.view, report);
	bdb_message_view_shape (&w.view, report);

	if (bdb_read_delivery_status (&w.view, report))
		report->kind = BDB_KIND_DSN;
	else if (bdb_read_feedback_report (&w.view, report))
		report->kind = BDB_KIND_ARF;
	else if (bdb_extract_text_bounce (&w.view, report))
		report->kind = BDB_KIND_DSN;
	else if (bdb_read_autoreply (&w.view, report))
		report->kind = BDB_KIND_AUTOREPLY;

	bdb_report_drop_empty_records (report);
	bdb_report_finish_records (report);
	if (report->kind != BDB_KIND_NONE && report->records->len == 0) {
		bdb_report_set_problem (report, "the report names no recipient that could be read");
		report->kind = BDB_KIND_NONE;
	} else if (report->kind == BDB_KIND_NONE && w.view.bounce_shaped) {
		bdb_report_set_problem (report, "looks like a bounce, but no recipient could be read");
	}
	if (report->truncated) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
		             "report names more than %u recipients", opts.max_recipients);
		g_string_free (w.view.text, TRUE);
		g_ptr_array_unref (w.text_parts);
		g_object_unref (msg);
		bdb_report_free (report);
		return NULL;
	}
	static const char *const kind_names[] = {
		[BDB_KIND_NONE] = NULL, [BDB_KIND_DSN] = "dsn",
		[BDB_KIND_ARF] = "arf", [BDB_KIND_AUTOREPLY] = "autoreply",
	};
	bdb_report_set (report, BDB_FIELD_KIND, kind_names[report->kind], -1);

	g_string_free (w.view.text, TRUE);
	g_ptr_array_unref (w.text_parts);
	g_object_unref (msg);
	return report;
}

static gboolean
header_block_too_big (const char *data, gsize len, gsize limit)
{
	if (len <= limit)
		return FALSE;
	/* An empty line within the first @limit bytes ends the headers. */
	const char *p = data;
	const char *end = data + limit;
	while ((p = memchr (p, '\n', (gsize) (end - p))) && p + 1 < end) {
		if (p[1] == '\n' || (p[1] == '\r' && p + 2 < end && p[2] == '\n'))
			return FALSE;
		p++;
	}
	return TRUE;
}

BdbReport *
bdb_report_parse_bytes (const char *data, gsize len, const BdbParseOptions *opts, GError **error)
{
	BdbParseOptions o = effective_options (opts);

	ensure_gmime ();
	if (len > o.max_message_size) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
		             "message of %" G_GSIZE_FORMAT " bytes is larger than the limit of %" G_GSIZE_FORMAT,
		             len, o.max_message_size);
		return NULL;
	}
	if (header_block_too_big (data, len, o.max_header_size)) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
		             "header block is larger than the limit of %" G_GSIZE_FORMAT " bytes",
		             o.max_header_size);
		return NULL;
	}
	/* Old Mac tools store mail with bare CR line ends, which GMime reads
	 * as one endless line: turn them into LF (doc/VIOLATIONS.md). */
	g_autofree char *lf = NULL;
	if (len && !memchr (data, '\n', MIN (len, (gsize) 8192)) && memchr (data, '\r', MIN (len, (gsize) 8192))) {
		lf = g_memdup2 (data, len);
		for (gsize i = 0; i < len; i++)
			if (lf[i] == '\r')
				lf[i] = '\n';
		data = lf;
	}
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer (data, len);
	BdbReport *r = parse_stream (stream, data, len, opts, error);
	g_object_unref (stream);
	return r;
}

static void
set_errno_error (GError **error, int err, const char *what)
{
	BdbErrorCode code = err == ENOENT ? BDB_ERROR_NOT_FOUND
	                  : (err == EACCES || err == EPERM) ? BDB_ERROR_PERMISSION
	                  : BDB_ERROR_IO;
	g_set_error (error, BDB_ERROR, code, "%s: %s", what, g_strerror (err));
}

BdbReport *
bdb_report_parse_fd (int fd, const char *name, const BdbParseOptions *opts, GError **error)
{
	BdbParseOptions o = effective_options (opts);
	struct stat st;

	if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode)) {
		if ((guint64) st.st_size > o.max_message_size) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
			             "message of %" G_GUINT64_FORMAT " bytes is larger than the limit of %" G_GSIZE_FORMAT,
			             (guint64) st.st_size, o.max_message_size);
			return NULL;
		}
		if (st.st_size == 0)
			return bdb_report_parse_bytes ("", 0, opts, error);
		void *map = mmap (NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED) {
			BdbReport *r = bdb_report_parse_bytes (map, (gsize) st.st_size, opts, error);
			munmap (map, (size_t) st.st_size);
			return r;
		}
	}
	/* A pipe: read up to one byte past the limit. */
	GByteArray *buf = g_byte_array_new ();
	char chunk[65536];
	for (;;) {
		ssize_t n = read (fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_errno_error (error, errno, "read failed");
			g_byte_array_unref (buf);
			return NULL;
		}
		if (n == 0)
			break;
		g_byte_array_append (buf, (const guint8 *) chunk, (guint) n);
		if (buf->len > o.max_message_size) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
			             "message is larger than the limit of %" G_GSIZE_FORMAT " bytes",
			             o.max_message_size);
			g_byte_array_unref (buf);
			return NULL;
		}
	}
	BdbReport *r = bdb_report_parse_bytes ((const char *) buf->data, buf->len, opts, error);
	g_byte_array_unref (buf);
	return r;
}

BdbReport *
bdb_report_parse_file (const char *path, const BdbParseOptions *opts, GError **error)
{
	int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_errno_error (error, errno, "cannot open");
		return NULL;
	}
	struct stat st;
	if (fstat (fd, &st) == 0 && S_ISDIR (st.st_mode)) {
		close (fd);
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "is a directory");
		return NULL;
	}
	BdbReport *r = bdb_report_parse_fd (fd, path, opts, error);
	close (fd);
	return r;
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
