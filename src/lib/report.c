/* Reading one message into a BdbReport.
 *
 * GMime parses the MIME structure; a walker notes the parts that matter to
 * a report (the machine-readable status or feedback part, the returned
 * original, the human-readable text) and the readers in dsn.c, arf.c,
 * autoreply.c and extract/ turn them into records.  The RFC 3464 reader
 * goes first: when a report is well formed, no heuristic touches it.
 *
 * Memory: GMime's parser references the message instead of copying it
 * (persistent stream: a buffer in memory, or a file read in place), and
 * everything the report keeps is copied into one string chunk, so freeing
 * a report is cheap and the GMime object tree does not outlive the parse.
 * Hostile input: the limits of BdbParseOptions are checked on the raw
 * bytes before GMime builds anything (see "limits checked on the raw
 * bytes"), and every part is read only as far as it is needed.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <nettle/sha2.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bouncedb/address.h>
#include <bouncedb/error.h>
#include "report-private.h"
#include "error-private.h"
#include "extract/extract.h"

#define DEFAULT_MAX_MESSAGE_SIZE (64u << 20)
#define DEFAULT_MAX_RECIPIENTS 1000u
#define DEFAULT_MAX_DEPTH 16u
#define DEFAULT_MAX_HEADER_SIZE (1u << 20)
#define DEFAULT_MAX_PART_SIZE (4u << 20)
#define DEFAULT_MAX_LINE_LENGTH (64u << 10)
#define DEFAULT_MAX_HEADERS 10000u
#define DEFAULT_MAX_PARTS 1000u
#define DEFAULT_MAX_ADDRESS_BYTES (8u << 10)
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
	opts->max_line_length = DEFAULT_MAX_LINE_LENGTH;
	opts->max_headers = DEFAULT_MAX_HEADERS;
	opts->max_parts = DEFAULT_MAX_PARTS;
	opts->max_address_bytes = DEFAULT_MAX_ADDRESS_BYTES;
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
		if (given->max_line_length)
			o.max_line_length = given->max_line_length;
		if (given->max_headers)
			o.max_headers = given->max_headers;
		if (given->max_parts)
			o.max_parts = given->max_parts;
		if (given->max_address_bytes)
			o.max_address_bytes = given->max_address_bytes;
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

/* The content of a leaf part with its transfer encoding undone, as a
 * stream read from the start; NULL when @part has no content.  Unref it.
 * Parts are read through this, as far as needed, never decoded whole. */
static GMimeStream *
decoded_stream (GMimeObject *part)
{
	GMimeDataWrapper *content = GMIME_IS_PART (part) ? g_mime_part_get_content (GMIME_PART (part)) : NULL;
	if (!content)
		return NULL;
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
	return filtered;
}

GByteArray *
bdb_part_content (GMimeObject *part, gsize limit)
{
	GByteArray *out = g_byte_array_new ();
	GMimeStream *filtered = decoded_stream (part);

	if (filtered) {
		char buf[8192];
		gssize n;
		while (out->len < limit && (n = g_mime_stream_read (filtered, buf, sizeof buf)) > 0)
			g_byte_array_append (out, (const guint8 *) buf,
			                     (guint) MIN ((gsize) n, limit - out->len));
		g_object_unref (filtered);
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

/* message/SUBTYPE of an attached message: a plain part to GMime
 * (init_gmime()), whose headers read_original() reads. */
static const char *const attached_subtypes[] = { "rfc822", "global", "news" };

static gboolean
is_attached_message (GMimeContentType *ct)
{
	for (gsize i = 0; i < G_N_ELEMENTS (attached_subtypes); i++)
		if (type_is (ct, "message", attached_subtypes[i]))
			return TRUE;
	return FALSE;
}

static void
walk (Walk *w, GMimeObject *obj, guint depth, gboolean in_report, guint index)
{
	if (w->error)
		return;
	if (depth > w->view.opts->max_depth) {
		g_set_error (&w->error, BDB_ERROR, BDB_ERROR_LIMIT,
		             "MIME structure nested deeper than %u levels (max_depth)",
		             w->view.opts->max_depth);
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
				g_string_append_len (w->orphan_text, pro,
				                     (gssize) strnlen (pro, TEXT_LIMIT - w->orphan_text->len));
		}
		for (int i = 0; i < n; i++)
			walk (w, g_mime_multipart_get_part (GMIME_MULTIPART (obj), i), depth + 1,
			      report, (guint) i);
		return;
	}
	if (is_attached_message (ct)) {
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

/* A report part that decodes to more than @limit bytes is refused: read
 * only in part, it would drop the recipients past the cut silently. */
static void
check_part_size (GMimeObject *part, const char *what, gsize limit, GError **error)
{
	if (!part || !GMIME_IS_PART (part))
		return;
	GMimeStream *filtered = decoded_stream (part);
	if (!filtered)
		return;
	char buf[8192];
	gssize n;
	gsize total = 0;
	while (total <= limit && (n = g_mime_stream_read (filtered, buf, sizeof buf)) > 0)
		total += (gsize) n;
	g_object_unref (filtered);
	if (total > limit)
		g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
		             "the %s part is larger than %" G_GSIZE_FORMAT " bytes (max_part_size)",
		             what, limit);
}

/* The text of a text part converted to UTF-8, at most @limit bytes of it
 * (the end may be a replaced partial character): what
 * g_mime_text_part_get_text() gives, without decoding all of a 100 MB
 * part to keep its first 256 KiB. */
/* glibc loads a converter module (ISO-2022-JP, ISO-8859-1, ...) in
 * iconv_open() and unloads it a little after the last iconv_close():
 * converting each message's text on its own costs a dlopen() and a
 * dlclose() now and then, and every unmapping stops all threads for a TLB
 * flush (a tenth of a sweep's time on a Japanese-heavy mailbox).  One
 * descriptor kept open per charset met keeps its module loaded. */
static void
keep_converter_loaded (const char *charset)
{
	static GMutex lock;
	static GHashTable *kept;  /* iconv name -> descriptor, for the process's life */
	const char *name = g_mime_charset_iconv_name (charset);
	if (!name || g_ascii_strcasecmp (name, "UTF-8") == 0)
		return;
	g_mutex_lock (&lock);
	if (!kept)
		kept = g_hash_table_new (g_str_hash, g_str_equal);
	if (g_hash_table_size (kept) < 64 && !g_hash_table_contains (kept, name)) {
		iconv_t cd = iconv_open ("UTF-8", name);
		g_hash_table_insert (kept, g_strdup (name), cd);
	}
	g_mutex_unlock (&lock);
}

static char *
part_text (GMimeObject *part, const char *charset, gsize limit)
{
	GMimeStream *filtered = decoded_stream (part);
	if (!filtered)
		return NULL;
	if (charset)
		keep_converter_loaded (charset);
	/* As GMime does: no charset, or one iconv does not know, leaves the
	 * bytes as they are (invalid UTF-8 is replaced below). */
	GMimeFilter *cs = charset ? g_mime_filter_charset_new (charset, "utf-8") : NULL;
	if (cs) {
		g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), cs);
		g_object_unref (cs);
	}
	GString *out = g_string_new (NULL);
	char buf[8192];
	gssize n;
	while (out->len < limit && (n = g_mime_stream_read (filtered, buf, sizeof buf)) > 0)
		g_string_append_len (out, buf, (gssize) MIN ((gsize) n, limit - out->len));
	g_object_unref (filtered);
	if (!g_utf8_validate (out->str, (gssize) out->len, NULL)) {
		char *valid = g_utf8_make_valid (out->str, (gssize) out->len);
		g_string_free (out, TRUE);
		return valid;
	}
	return g_string_free (out, FALSE);
}

/* Does a quoted-printable part encode a NUL ("=00")?  Scans the encoded
 * bytes, without decoding or copying them. */
static gboolean
qp_has_nul (GMimeObject *part)
{
	GMimeDataWrapper *content = g_mime_part_get_content (GMIME_PART (part));
	if (!content || g_mime_data_wrapper_get_encoding (content) != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
		return FALSE;
	GMimeStream *st = g_mime_data_wrapper_get_stream (content);
	char buf[4096 + 2];
	gsize carry = 0;
	gssize n;
	gboolean found = FALSE;
	g_mime_stream_reset (st);
	while (!found && (n = g_mime_stream_read (st, buf + carry, 4096)) > 0) {
		gsize len = carry + (gsize) n;
		for (gsize i = 0; i + 2 < len && !found; i++)
			found = buf[i] == '=' && buf[i + 1] == '0' && buf[i + 2] == '0';
		carry = MIN (len, (gsize) 2);
		memmove (buf, buf + len - carry, carry);
	}
	g_mime_stream_reset (st);
	return found;
}

/* Exchange writes "=00" in quoted-printable links; it decodes to a NUL,
 * where GMime's text ends and the rest of the notice would be lost: read
 * the part again with NULs as spaces.  Returns @s or its replacement. */
static char *
text_past_nul (GMimeObject *part, const char *charset, char *s)
{
	if (!qp_has_nul (part))
		return s;
	g_autoptr (GByteArray) raw = bdb_part_content (part, TEXT_LIMIT);
	for (guint i = 0; i < raw->len; i++)
		if (raw->data[i] == '\0')
			raw->data[i] = ' ';
	char *conv = g_convert_with_fallback ((const char *) raw->data, (gssize) raw->len, "UTF-8",
	                                      charset ? g_mime_charset_iconv_name (charset) : "ISO-8859-1",
	                                      "?", NULL, NULL, NULL);
	if (!conv)
		return s;
	g_free (s);
	return conv;
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
			const char *cs = g_mime_content_type_get_parameter (ct, "charset");
			if (!cs) {
				/* Without a charset GMime assumes Latin-1; raw UTF-8 is
				 * the likelier truth in bounces. */
				g_autoptr (GByteArray) raw = bdb_part_content (part, TEXT_LIMIT);
				if (g_utf8_validate ((const char *) raw->data, (gssize) raw->len, NULL))
					s = g_strndup ((const char *) raw->data, raw->len);
			}
			if (!s)
				s = part_text (part, cs, TEXT_LIMIT);
			if (s)
				s = text_past_nul (part, cs, s);
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

/* The first element of an address list: up to the first comma outside
 * quotes, comments, angle brackets and a group, at most 4 KiB.  Only the
 * first address is wanted, and GMime's list parser takes time growing
 * with the square of a hostile list's length (see is_address_field()). */
static char *
first_list_element (const char *raw)
{
	const gsize cap = 4096;
	gsize i = 0;
	guint comment = 0;
	gboolean quoted = FALSE, angle = FALSE, group = FALSE;
	for (; raw[i] && i < cap; i++) {
		char c = raw[i];
		if ((quoted || comment) && c == '\\' && raw[i + 1]) {
			i++;
		} else if (quoted) {
			quoted = c != '"';
		} else if (comment) {
			comment += c == '(' ? 1 : c == ')' ? -1 : 0;
		} else if (c == '"') {
			quoted = TRUE;
		} else if (c == '(') {
			comment = 1;
		} else if (c == '<') {
			angle = TRUE;
		} else if (c == '>') {
			angle = FALSE;
		} else if (c == ':' && !angle) {
			group = TRUE;
		} else if (c == ';' && !angle) {
			group = FALSE;
		} else if (c == ',' && !angle && !group) {
			break;
		}
	}
	return g_strndup (raw, MIN (i, cap));
}

/* Is [@p, @end) a plain addr-spec: one '@' between runs of characters
 * that need no quoting or interpretation? */
static gboolean
is_plain_addr_spec (const char *p, const char *end)
{
	const char *at = NULL;
	for (const char *q = p; q < end; q++) {
		unsigned char c = (unsigned char) *q;
		if (c == '@') {
			if (at)
				return FALSE;
			at = q;
		} else if (c <= ' ' || c >= 0x7f || strchr ("\"(),:;<>[]\\", c)) {
			return FALSE;
		}
	}
	if (!at || at == p || at + 1 == end)
		return FALSE;
	/* GMime shows an IDNA domain ("xn--...") in Unicode: its path. */
	for (const char *q = at + 1; q + 4 <= end; q++)
		if (g_ascii_strncasecmp (q, "xn--", 4) == 0)
			return FALSE;
	return TRUE;
}

/* The address of the common shapes, "local@domain" and "Name
 * <local@domain>" (a name without quotes, comments or other specials),
 * lowercased; NULL for anything else.  What GMime's list parser gives
 * for them, without building and freeing a list of GObjects, which cost
 * 6% of parsing a typical bounce (callgrind). */
static char *
plain_address (const char *v)
{
	while (g_ascii_isspace (*v))
		v++;
	const char *end = v + strlen (v);
	while (end > v && g_ascii_isspace (end[-1]))
		end--;
	if (end > v && end[-1] == '>') {
		const char *lt = end - 1;
		while (lt > v && *lt != '<')
			lt--;
		if (*lt != '<')
			return NULL;
		for (const char *q = v; q < lt; q++)
			if (strchr ("\"(),:;<>[]\\@", *q))
				return NULL;
		v = lt + 1;
		end--;
	}
	return is_plain_addr_spec (v, end) ? g_ascii_strdown (v, end - v) : NULL;
}

/* The first address of a header value (an address list), or NULL. */
static char *
value_address (const char *raw)
{
	if (!raw)
		return NULL;
	g_autofree char *first = first_list_element (raw);
	char *plain = plain_address (first);
	if (plain)
		return plain;
	InternetAddressList *list = internet_address_list_parse (NULL, first);
	char *a = first_address (list);
	if (list)
		g_object_unref (list);
	if (!a) {
		g_autofree char *n = bdb_address_normalize (raw, BDB_ADDRESS_UNICODE_DOMAIN, NULL);
		a = g_steal_pointer (&n);
	}
	return a;
}

static char *
header_address (GMimeObject *obj, const char *name)
{
	return value_address (g_mime_object_get_header (obj, name));
}

/* Take ownership of @address (may be NULL) as a sender candidate. */
static void
add_sender (BdbReport *report, char *address)
{
	if (address)
		g_ptr_array_add (report->senders, (gpointer) bdb_report_intern (report, address, -1));
	g_free (address);
}

/* A header value with its RFC 2047 encoded words decoded, or NULL. */
static char *
decoded (const char *raw)
{
	return raw ? g_mime_utils_header_decode_text (NULL, raw) : NULL;
}

/* The length of the header block at the start of @s (its last line's
 * LF included), or -1 when no empty line ends it within @len bytes.  The
 * search starts at @from, where the previous search gave up. */
static gssize
headers_end (const char *s, gsize len, gsize from)
{
	if (from == 0 && len && (s[0] == '\n' || (len > 1 && s[0] == '\r' && s[1] == '\n')))
		return 0;
	const char *end = s + len;
	for (const char *nl = memchr (s + from, '\n', len - from); nl;
	     nl = memchr (nl + 1, '\n', (gsize) (end - nl - 1))) {
		const char *q = nl + 1;
		if (q < end && *q == '\r')
			q++;
		if (q < end && *q == '\n')
			return nl + 1 - s;
	}
	return -1;
}

/* The header block a part starts with, up to its first empty line (or
 * @limit bytes): all of a text/rfc822-headers part, the headers of an
 * attached message, never its body. */
static GByteArray *
header_block (GMimeObject *part, gsize limit)
{
	GByteArray *out = g_byte_array_new ();
	GMimeStream *filtered = decoded_stream (part);
	if (!filtered)
		return out;
	char buf[4096];
	gssize n;
	while (out->len < limit && (n = g_mime_stream_read (filtered, buf, sizeof buf)) > 0) {
		gsize before = out->len;
		g_byte_array_append (out, (const guint8 *) buf, (guint) MIN ((gsize) n, limit - out->len));
		gssize at = headers_end ((const char *) out->data, out->len, before >= 2 ? before - 2 : 0);
		if (at >= 0) {
			g_byte_array_set_size (out, (guint) at);
			break;
		}
	}
	g_object_unref (filtered);
	return out;
}

const char *
bdb_view_original_header (const BdbMessageView *view, const char *name)
{
	if (!view->original_headers)
		return NULL;
	GArray *fields = view->original_headers->fields;
	for (guint i = 0; i < fields->len; i++) {
		const BdbStatusField *f = &g_array_index (fields, BdbStatusField, i);
		if (!f->name)
			break;  /* the empty line: the body starts */
		if (g_ascii_strcasecmp (f->name, name) == 0)
			return f->value;
	}
	return NULL;
}

/* Headers of the returned original, from whichever form it came in: read
 * as fields from its header block, decoded as GMime decodes them. */
static void
read_original (BdbMessageView *view, BdbReport *report)
{
	if (!view->original)
		return;
	g_autoptr (GByteArray) block = header_block (view->original, view->opts->max_header_size);
	view->original_headers = bdb_field_list_parse ((const char *) block->data, block->len, 0);

	const char *mid = bdb_view_original_header (view, "Message-ID");
	if (mid) {
		g_autofree char *id = g_mime_utils_decode_message_id (mid);
		bdb_report_set (report, BDB_FIELD_ORIGINAL_MESSAGE_ID, id ? id : mid, -1);
	}
	static const struct {
		BdbField field;
		const char *name;
	} text[] = {
		{ BDB_FIELD_SUBJECT, "Subject" },
		{ BDB_FIELD_ORIGINAL_DATE, "Date" },
		{ BDB_FIELD_LIST_ID, "List-Id" },
		{ BDB_FIELD_FEEDBACK_ID, "Feedback-ID" },
	};
	for (gsize i = 0; i < G_N_ELEMENTS (text); i++) {
		g_autofree char *dec = decoded (bdb_view_original_header (view, text[i].name));
		bdb_report_set (report, text[i].field, dec, -1);
	}
	g_autofree char *from = value_address (bdb_view_original_header (view, "From"));
	bdb_report_set (report, BDB_FIELD_ORIGINAL_FROM, from, -1);
	g_autofree char *to = value_address (bdb_view_original_header (view, "To"));
	bdb_report_set (report, BDB_FIELD_ORIGINAL_TO, to, -1);
	add_sender (report, value_address (bdb_view_original_header (view, "Return-Path")));
	if (view->opts->keep_headers) {
		for (const char *const *h = view->opts->keep_headers; *h; h++) {
			g_autofree char *dec = decoded (bdb_view_original_header (view, *h));
			const char *iv = bdb_report_intern (report, dec, -1);
			if (iv) {
				g_ptr_array_add (report->headers, (gpointer) bdb_report_intern (report, *h, -1));
				g_ptr_array_add (report->headers, (gpointer) iv);
			}
		}
	}
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
	g_autofree char *subject = decoded (g_mime_object_get_header (obj, "Subject"));
	bdb_report_set (report, BDB_FIELD_REPORT_SUBJECT, subject, -1);
	/* Where a signed envelope sender comes back (sign.h). */
	static const char *const delivered[] = { "Delivered-To", "X-Original-To", "Envelope-To", "To" };
	for (gsize i = 0; i < G_N_ELEMENTS (delivered); i++)
		add_sender (report, header_address (obj, delivered[i]));
}

/* Where the bytes of the message are: in memory, or in a regular file
 * read with pread(2), so that a large message is never held whole. */
typedef struct {
	const char *data;
	gsize len;
	int fd;  /* when data is NULL */
} Source;

/* The body starts after the first empty line (a "\n\n" or "\n\r\n"; the
 * body includes that line): headers added in transit (Received,
 * Delivered-To) must not change the identity.  Fed in chunks. */
typedef struct {
	struct sha256_ctx ck;
	gboolean in_body;
	char prev1, prev2;  /* the last two bytes before the body */
} Fingerprint;

static void
fingerprint_feed (Fingerprint *fp, const char *p, gsize n)
{
	for (gsize k = 0; k < n && !fp->in_body; k++) {
		char c = p[k];
		if (c == '\n' && (fp->prev1 == '\n' || (fp->prev1 == '\r' && fp->prev2 == '\n'))) {
			fp->in_body = TRUE;
			if (fp->prev1 == '\r')
				sha256_update (&fp->ck, 1, (const uint8_t *) "\r");
			p += k;
			n -= k;
			break;
		}
		fp->prev2 = fp->prev1;
		fp->prev1 = c;
	}
	if (fp->in_body)
		sha256_update (&fp->ck, n, (const uint8_t *) p);
}

static void
compute_fingerprint (BdbReport *report, const Source *src)
{
	Fingerprint fp = { .in_body = FALSE };
	sha256_init (&fp.ck);
	const char *mid = report->v[BDB_FIELD_MESSAGE_ID];
	const char *date = report->v[BDB_FIELD_DATE];
	mid = mid ? mid : "";
	date = date ? date : "";
	sha256_update (&fp.ck, strlen (mid), (const uint8_t *) mid);
	sha256_update (&fp.ck, 1, (const uint8_t *) "\n");
	sha256_update (&fp.ck, strlen (date), (const uint8_t *) date);
	sha256_update (&fp.ck, 1, (const uint8_t *) "\n");
	if (src->data) {
		fingerprint_feed (&fp, src->data, src->len);
	} else {
		/* The file was read twice already; a read error here would
		 * only shorten what is hashed. */
		char buf[65536];
		off_t off = 0;
		for (;;) {
			ssize_t n = pread (src->fd, buf, sizeof buf, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			fingerprint_feed (&fp, buf, (gsize) n);
			off += n;
		}
	}
	G_STATIC_ASSERT (sizeof report->fingerprint == SHA256_DIGEST_SIZE);
	sha256_digest (&fp.ck, SHA256_DIGEST_SIZE, report->fingerprint);
}

static gpointer
init_gmime (gpointer unused)
{
	g_mime_init ();
	/* A report needs only the headers of the message it returns.  GMime
	 * would parse an attached message whole (every part of a newsletter,
	 * each header an object: a fifth of parsing a typical bounce); as a
	 * plain part it stays bytes that read_original() reads the headers
	 * of.  This is GMime's process-wide type table (report.h). */
	for (gsize i = 0; i < G_N_ELEMENTS (attached_subtypes); i++)
		g_mime_object_register_type ("message", attached_subtypes[i], GMIME_TYPE_PART);
	return NULL;
}

static void
ensure_gmime (void)
{
	static GOnce once = G_ONCE_INIT;
	g_once (&once, init_gmime, NULL);
}

/* Parse @stream with @parser when given (a reused one, see ThreadReader),
 * else with a parser of its own. */
static BdbReport *
parse_stream (GMimeStream *stream, GMimeParser *reused, const Source *src,
              const BdbParseOptions *given, GError **error)
{
	BdbParseOptions opts = effective_options (given);
	GMimeParser *parser = reused ? reused : g_mime_parser_new ();
	g_mime_parser_init_with_stream (parser, stream);
	g_mime_parser_set_persist_stream (parser, TRUE);
	g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *msg = g_mime_parser_construct_message (parser, NULL);
	if (!reused)
		g_object_unref (parser);
	if (!msg) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "not an email message");
		return NULL;
	}
	BdbReport *report = bdb_report_new ();
	report->max_recipients = opts.max_recipients;
	read_top_headers (msg, report);
	compute_fingerprint (report, src);

	Walk w = { 0 };
	w.view.message = msg;
	w.view.opts = &opts;
	w.text_parts = g_ptr_array_new ();
	w.orphan_text = g_string_new (NULL);
	GMimeObject *top = g_mime_message_get_mime_part (msg);
	if (top)
		walk (&w, top, 0, FALSE, 0);
	if (!w.error)
		check_part_size (w.view.status_part, "delivery-status", opts.max_part_size, &w.error);
	if (!w.error)
		check_part_size (w.view.feedback_part, "feedback-report", opts.max_part_size, &w.error);
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
	else if (bdb_read_unsubscribe (&w.view, report))
		report->kind = BDB_KIND_ARF;
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
		             "report names more than %u recipients (max_recipients)", opts.max_recipients);
		g_string_free (w.view.text, TRUE);
		g_ptr_array_unref (w.text_parts);
		g_clear_pointer (&w.view.original_headers, bdb_field_list_free);
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
	g_clear_pointer (&w.view.original_headers, bdb_field_list_free);
	g_object_unref (msg);
	return report;
}

/* ---- limits checked on the raw bytes ----------------------------------- */

/* GMime turns every header field into an object and every part into a
 * few: a message of tiny headers or empty parts would cost a hundred
 * times its size, and deep nesting as much time.  So the limits on
 * headers and parts are checked here, in one pass over the bytes before
 * GMime sees them, and generously: every block that GMime may read as
 * headers is counted (the message's; the block after each line starting
 * with "--", which may be a boundary; the body of a part whose
 * Content-Type is an attached message or a headers part, and of every
 * part once a multipart/digest is declared, whose untyped parts are
 * messages), every line of such a block that is not blank or indented as
 * a field, and every "--" line as a part.  Lines end at LF, as GMime's. */
typedef struct {
	const BdbParseOptions *opts;
	GError *error;
	guint headers, parts;
	gboolean digest;          /* a multipart/digest was declared */
	/* the block being read */
	gboolean in_header;       /* it is read as headers */
	gboolean after_dashes;    /* it follows a "--" line: a part's headers */
	gboolean top_headers;     /* it is the message's own header block */
	gboolean body_is_header;  /* its Content-Type makes the next block headers */
	gsize block_bytes;
	/* the line being read */
	gsize line_len;
	char first[2];            /* its first bytes */
	char last;                /* its last byte */
	enum { LINE_START, LINE_NAME, LINE_VALUE, LINE_OTHER } state;
	char name[16];            /* its field name, lowercased (if short) */
	guint name_len;
	gboolean name_done;       /* spaces after the name: only ':' may follow */
	gboolean in_address;      /* the line is, or continues, an address field */
	gsize address_bytes;      /* in the top header's address fields so far */
	gboolean in_type;         /* the line is, or continues, a Content-Type field */
	char type[64];            /* its value: comments out, spaces collapsed */
	gsize type_len;
	guint comment;            /* nesting of (comments) in it */
	gboolean escape;
} Scan;

static void G_GNUC_PRINTF (2, 3)
scan_fail (Scan *sc, const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	g_autofree char *msg = g_strdup_vprintf (fmt, ap);
	va_end (ap);
	if (!sc->error)
		g_set_error_literal (&sc->error, BDB_ERROR, BDB_ERROR_LIMIT, msg);
}

static gboolean
type_token_is (const char **p, const char *want)
{
	const char *s = *p;
	while (**p && (guchar) **p > ' ' && (guchar) **p < 0x7f && !strchr ("()<>@,;:\\\"/[]?=", **p))
		(*p)++;
	gsize n = (gsize) (*p - s);
	return n == strlen (want) && g_ascii_strncasecmp (s, want, n) == 0;
}

/* Does the collected Content-Type value say @type/@subtype? */
static gboolean
type_is_value (const char *v, const char *type, const char *subtype)
{
	while (*v == ' ')
		v++;
	if (!type_token_is (&v, type))
		return FALSE;
	while (*v == ' ')
		v++;
	if (*v++ != '/')
		return FALSE;
	while (*v == ' ')
		v++;
	return type_token_is (&v, subtype);
}

static void
scan_check_type (Scan *sc)
{
	static const char *const headers_types[][2] = {
		{ "message", "rfc822" }, { "message", "global" }, { "message", "news" },
		{ "text", "rfc822-headers" }, { "message", "rfc822-headers" },
		{ "message", "global-headers" },
	};
	sc->type[sc->type_len] = '\0';
	for (gsize i = 0; i < G_N_ELEMENTS (headers_types); i++)
		if (type_is_value (sc->type, headers_types[i][0], headers_types[i][1]))
			sc->body_is_header = TRUE;
	if (type_is_value (sc->type, "multipart", "digest"))
		sc->digest = TRUE;
}

static void
scan_type_byte (Scan *sc, char c)
{
	if (sc->comment) {
		if (sc->escape)
			sc->escape = FALSE;
		else if (c == '\\')
			sc->escape = TRUE;
		else if (c == '(')
			sc->comment++;
		else if (c == ')')
			sc->comment--;
		return;
	}
	if (c == '(') {
		sc->comment = 1;
	} else if (c == ' ' || c == '\t' || c == '\r') {
		if (sc->type_len && sc->type[sc->type_len - 1] != ' ' && sc->type_len + 1 < sizeof sc->type)
			sc->type[sc->type_len++] = ' ';
	} else if (sc->type_len + 1 < sizeof sc->type) {
		sc->type[sc->type_len++] = c;
	}
}

/* GMime parses these fields of the message's own headers into address
 * lists, in time that grows with the square of a hostile value's length
 * ("x,x,x..." or '"x","x",...': 8 KB cost 0.2 s, 16 KB 0.9 s, 160 KB
 * 34 s): their size is limited (max_address_bytes).  An attached message
 * is a plain part to GMime (init_gmime()) and we read only the first
 * element of its lists (first_list_element()): nothing to limit there. */
static gboolean
is_address_field (const char *name)
{
	static const char *const names[] = { "from", "to", "cc", "bcc", "sender", "reply-to" };
	for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
		if (strcmp (name, names[i]) == 0)
			return TRUE;
	return FALSE;
}

static void
scan_address_byte (Scan *sc)
{
	if (++sc->address_bytes > sc->opts->max_address_bytes)
		scan_fail (sc, "the address fields (From, To, Cc, ...) are larger than %" G_GSIZE_FORMAT
		           " bytes (max_address_bytes)", sc->opts->max_address_bytes);
}

/* The field name is read: is it one we follow? */
static void
scan_field_starts (Scan *sc)
{
	sc->name[sc->name_len] = '\0';
	sc->state = LINE_VALUE;
	sc->in_address = sc->top_headers && is_address_field (sc->name);
	if (strcmp (sc->name, "content-type") == 0) {
		sc->in_type = TRUE;
		sc->type_len = 0;
		sc->comment = 0;
		sc->escape = FALSE;
	}
}

/* One byte of a header block's line (not the LF). */
static void
scan_header_byte (Scan *sc, char c)
{
	switch (sc->state) {
	case LINE_START:
		if (c == ' ' || c == '\t') {
			/* A continuation line: it goes on with the field before. */
			sc->state = LINE_VALUE;
			if (sc->in_type)
				scan_type_byte (sc, ' ');
			if (sc->in_address)
				scan_address_byte (sc);
			return;
		}
		sc->in_type = FALSE;
		sc->in_address = FALSE;
		sc->state = LINE_NAME;
		sc->name_len = 0;
		sc->name_done = FALSE;
		/* fall through */
	case LINE_NAME:
		if (c == ':')
			scan_field_starts (sc);
		else if (c == ' ' || c == '\t')
			sc->name_done = TRUE;  /* "Content-Type :" */
		else if (sc->name_done || sc->name_len + 1 >= sizeof sc->name)
			sc->state = LINE_OTHER;  /* not a field we follow */
		else
			sc->name[sc->name_len++] = g_ascii_tolower (c);
		return;
	case LINE_VALUE:
		if (sc->in_type)
			scan_type_byte (sc, c);
		if (sc->in_address)
			scan_address_byte (sc);
		return;
	case LINE_OTHER:
		return;
	}
}

static void
scan_new_block (Scan *sc, gboolean in_header, gboolean after_dashes)
{
	sc->in_header = in_header;
	sc->after_dashes = after_dashes;
	sc->top_headers = FALSE;
	sc->body_is_header = FALSE;
	sc->block_bytes = 0;
	sc->in_type = FALSE;
	sc->in_address = FALSE;
}

static void
scan_line_end (Scan *sc)
{
	const BdbParseOptions *o = sc->opts;
	gsize len = sc->line_len - (sc->line_len && sc->last == '\r' ? 1 : 0);
	gboolean dashes = sc->line_len >= 2 && sc->first[0] == '-' && sc->first[1] == '-';

	if (dashes && ++sc->parts > o->max_parts)
		scan_fail (sc, "more than %u MIME parts (lines starting with \"--\"; max_parts)", o->max_parts);
	if (sc->in_header) {
		if (len == 0) {
			/* The end of a header block; is the body headers too? */
			scan_new_block (sc, sc->body_is_header || (sc->digest && sc->after_dashes), FALSE);
		} else {
			/* A continuation line adds to its field, not a field. */
			gboolean field = sc->first[0] != ' ' && sc->first[0] != '\t';
			if (field && ++sc->headers > o->max_headers)
				scan_fail (sc, "more than %u header fields (max_headers)", o->max_headers);
			if (++sc->block_bytes > o->max_header_size)
				scan_fail (sc, "a header block is larger than %" G_GSIZE_FORMAT " bytes (max_header_size)",
				           o->max_header_size);
			if (sc->in_type)
				scan_check_type (sc);
		}
	} else if (dashes) {
		scan_new_block (sc, TRUE, TRUE);
	}
	sc->line_len = 0;
	sc->state = LINE_START;
}

/* Past its first bytes, the rest of a header line matters only by its
 * length when it is not a field the scan follows (most are: Received,
 * DKIM-Signature, Subject...). */
static gboolean
scan_skippable (const Scan *sc)
{
	return sc->state == LINE_OTHER || (sc->state == LINE_VALUE && !sc->in_type && !sc->in_address);
}

/* Take the rest of such a line up to its LF (not included) at once: the
 * same counts, and the same first limit exceeded, as byte by byte. */
static const char *
scan_rest_of_line (Scan *sc, const char *p, const char *end)
{
	const BdbParseOptions *o = sc->opts;
	const char *nl = memchr (p, '\n', (gsize) (end - p));
	gsize k = (gsize) ((nl ? nl : end) - p);  /* > 0: *p is not the LF */
	/* The byte at which each limit would first be passed (1-based). */
	gsize line_at = o->max_line_length >= sc->line_len ? o->max_line_length - sc->line_len + 1 : 1;
	gsize block_at = o->max_header_size >= sc->block_bytes ? o->max_header_size - sc->block_bytes + 1 : 1;
	if (line_at <= k && line_at <= block_at)
		scan_fail (sc, "a header line is longer than %" G_GSIZE_FORMAT " bytes (max_line_length)",
		           o->max_line_length);
	else if (block_at <= k)
		scan_fail (sc, "a header block is larger than %" G_GSIZE_FORMAT " bytes (max_header_size)",
		           o->max_header_size);
	sc->line_len += k;
	sc->block_bytes += k;
	sc->last = p[k - 1];
	return p + k;
}

static void
scan_feed (Scan *sc, const char *p, gsize n)
{
	const BdbParseOptions *o = sc->opts;
	const char *end = p + n;
	while (p < end && !sc->error) {
		if (!sc->in_header) {
			/* A body line: only its first two bytes matter. */
			const char *nl = memchr (p, '\n', (gsize) (end - p));
			const char *stop = nl ? nl : end;
			const char *q = p;
			for (; q < stop && sc->line_len < 2; q++)
				sc->first[sc->line_len++] = *q;
			sc->line_len += (gsize) (stop - q);
			if (stop > p)
				sc->last = stop[-1];
			if (!nl)
				return;
			scan_line_end (sc);
			p = nl + 1;
			continue;
		}
		if (sc->line_len >= 2 && *p != '\n' && scan_skippable (sc)) {
			p = scan_rest_of_line (sc, p, end);
			continue;
		}
		char c = *p++;
		if (c == '\n') {
			scan_line_end (sc);
			continue;
		}
		if (sc->line_len < 2)
			sc->first[sc->line_len] = c;
		sc->line_len++;
		sc->last = c;
		if (sc->line_len > o->max_line_length)
			scan_fail (sc, "a header line is longer than %" G_GSIZE_FORMAT " bytes (max_line_length)",
			           o->max_line_length);
		if (++sc->block_bytes > o->max_header_size)
			scan_fail (sc, "a header block is larger than %" G_GSIZE_FORMAT " bytes (max_header_size)",
			           o->max_header_size);
		scan_header_byte (sc, c);
	}
}

static void
scan_init (Scan *sc, const BdbParseOptions *o)
{
	memset (sc, 0, sizeof *sc);
	sc->opts = o;
	sc->in_header = TRUE;  /* the message's own headers */
	sc->top_headers = TRUE;
	sc->state = LINE_START;
}

/* After the last chunk: FALSE with @error set (BDB_ERROR_LIMIT, naming
 * the limit) when the message exceeds one. */
static gboolean
scan_finish (Scan *sc, GError **error)
{
	if (!sc->error && sc->line_len)
		scan_line_end (sc);
	if (sc->error) {
		g_propagate_error (error, sc->error);
		sc->error = NULL;
		return FALSE;
	}
	return TRUE;
}


static gboolean
too_large (guint64 len, const BdbParseOptions *o, GError **error)
{
	/* (GMime's streams count in guint: 4 GiB is the end whatever the
	 * configuration says.) */
	if (len <= o->max_message_size && len <= G_MAXUINT)
		return FALSE;
	g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
	             "message of %" G_GUINT64_FORMAT " bytes is larger than %" G_GSIZE_FORMAT
	             " bytes (max_message_size)", len, o->max_message_size);
	return TRUE;
}

/* Old Mac tools store mail with bare CR line ends, which GMime reads as
 * one endless line: such a message (no LF in its first 8 KiB) is read
 * with CRs turned into LFs (doc/VIOLATIONS.md). */
static gboolean
cr_line_ends (const char *data, gsize len)
{
	gsize n = MIN (len, (gsize) 8192);
	return len && !memchr (data, '\n', n) && memchr (data, '\r', n);
}

/* The limits, then GMime, on a message in memory (@data stays valid and
 * unchanged until this returns); @stream reads @data. */
static BdbReport *
parse_buffer (const char *data, gsize len, GMimeStream *stream, GMimeParser *parser,
              const BdbParseOptions *o, const BdbParseOptions *opts, GError **error)
{
	Scan sc;
	scan_init (&sc, o);
	scan_feed (&sc, data, len);
	if (!scan_finish (&sc, error))
		return NULL;
	Source src = { data, len, -1 };
	return parse_stream (stream, parser, &src, opts, error);
}

static void
lf_for_cr (char *data, gsize len)
{
	for (char *p = memchr (data, '\r', len); p; p = memchr (p, '\r', len - (gsize) (p - data)))
		*p = '\n';
}

BdbReport *
bdb_report_parse_bytes (const char *data, gsize len, const BdbParseOptions *opts, GError **error)
{
	BdbParseOptions o = effective_options (opts);

	ensure_gmime ();
	if (too_large (len, &o, error))
		return NULL;
	g_autofree char *lf = NULL;
	if (cr_line_ends (data, len)) {
		lf = g_memdup2 (data, len);
		lf_for_cr (lf, len);
		data = lf;
	}
	/* g_mime_stream_mem_new_with_buffer() would copy the message: lend
	 * it instead (GMime only reads it; nothing of the stream outlives
	 * parse_stream()), so memory is the caller's buffer, not twice it. */
	GByteArray *lent = g_byte_array_new_take ((guint8 *) data, len);
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array (lent);
	g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
	BdbReport *r = parse_buffer (data, len, stream, NULL, &o, opts, error);
	g_object_unref (stream);
	g_byte_array_free (lent, FALSE);  /* the bytes stay the caller's */
	return r;
}

/* The usual bounce is a few kilobytes.  Such a file is read whole, with
 * one read, into a buffer its thread keeps, and parsed by a GMime parser
 * its thread keeps: reading once instead of three times (limits, GMime,
 * fingerprint) saves the system calls, and a new parser costs an eighth
 * of parsing a small message (bench/README.md).  Larger files take the
 * streaming path, so a thread never keeps more than WHOLE_READ_MAX. */
#define WHOLE_READ_MAX (1u << 20)

typedef struct {
	GByteArray *buf;
	GMimeStream *stream;  /* reads buf, owns it */
	GMimeParser *parser;  /* holds a reference on stream between parses */
} ThreadReader;

static void
thread_reader_free (gpointer data)
{
	ThreadReader *tr = data;
	g_object_unref (tr->parser);
	g_object_unref (tr->stream);
	g_free (tr);
}

static GPrivate thread_reader_key = G_PRIVATE_INIT (thread_reader_free);

static ThreadReader *
thread_reader (void)
{
	ThreadReader *tr = g_private_get (&thread_reader_key);
	if (!tr) {
		tr = g_new0 (ThreadReader, 1);
		tr->buf = g_byte_array_sized_new (64u << 10);
		tr->stream = g_mime_stream_mem_new_with_byte_array (tr->buf);
		tr->parser = g_mime_parser_new ();
		g_private_set (&thread_reader_key, tr);
	}
	return tr;
}

static BdbReport *
parse_small_file (int fd, gsize size, const BdbParseOptions *opts, const BdbParseOptions *o,
                  GError **error)
{
	ThreadReader *tr = thread_reader ();
	g_byte_array_set_size (tr->buf, (guint) size);
	gsize got = 0;
	while (got < size) {
		ssize_t n = pread (fd, tr->buf->data + got, size - got, (off_t) got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bdb_set_errno_error (error, errno, "read failed");
			return NULL;
		}
		if (n == 0)
			break;  /* shortened since fstat(): parse what is there */
		got += (gsize) n;
	}
	g_byte_array_set_size (tr->buf, (guint) got);
	char *data = (char *) tr->buf->data;
	if (cr_line_ends (data, got))
		lf_for_cr (data, got);
	g_mime_stream_reset (tr->stream);
	return parse_buffer (data, got, tr->stream, tr->parser, o, opts, error);
}

/* Read all of @fd (a pipe) into memory, at most one byte past the limit. */
static BdbReport *
parse_pipe (int fd, const BdbParseOptions *opts, const BdbParseOptions *o, GError **error)
{
	GByteArray *buf = g_byte_array_new ();
	char chunk[65536];
	for (;;) {
		ssize_t n = read (fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bdb_set_errno_error (error, errno, "read failed");
			g_byte_array_unref (buf);
			return NULL;
		}
		if (n == 0)
			break;
		g_byte_array_append (buf, (const guint8 *) chunk, (guint) n);
		if (buf->len > o->max_message_size) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
			             "message is larger than %" G_GSIZE_FORMAT " bytes (max_message_size)",
			             o->max_message_size);
			g_byte_array_unref (buf);
			return NULL;
		}
	}
	BdbReport *r = bdb_report_parse_bytes ((const char *) buf->data, buf->len, opts, error);
	g_byte_array_unref (buf);
	return r;
}

/* A regular file is never held whole: the limits are checked reading it
 * in chunks, GMime reads it through a file stream and keeps offsets, not
 * copies, and the fingerprint is computed reading it once more.  Memory
 * follows what is parsed (headers, the report's parts, 256 KiB of text),
 * not what is attached. */
static BdbReport *
parse_regular (int fd, gsize size, const BdbParseOptions *opts, const BdbParseOptions *o,
               GError **error)
{
	Scan sc;
	scan_init (&sc, o);
	char *chunk = g_malloc (65536);
	off_t off = 0;
	gboolean first = TRUE;
	for (;;) {
		ssize_t n = pread (fd, chunk, 65536, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bdb_set_errno_error (error, errno, "read failed");
			g_free (chunk);
			return NULL;
		}
		if (n == 0)
			break;
		if (first && cr_line_ends (chunk, (gsize) n)) {
			/* Rare and old: read it into memory, CRs turned. */
			g_free (chunk);
			g_autofree char *all = g_malloc (size ? size : 1);
			gsize got = 0;
			while (got < size) {
				ssize_t m = pread (fd, all + got, size - got, (off_t) got);
				if (m < 0 && errno == EINTR)
					continue;
				if (m <= 0)
					break;
				got += (gsize) m;
			}
			return bdb_report_parse_bytes (all, got, opts, error);
		}
		first = FALSE;
		scan_feed (&sc, chunk, (gsize) n);
		off += n;
		if (sc.error || (guint64) off > o->max_message_size)
			break;
	}
	g_free (chunk);
	if (too_large ((guint64) off, o, error) || !scan_finish (&sc, error)) {
		g_clear_error (&sc.error);
		return NULL;
	}
	int dup_fd = dup (fd);
	if (dup_fd < 0) {
		bdb_set_errno_error (error, errno, "cannot duplicate the file descriptor");
		return NULL;
	}
	GMimeStream *stream = g_mime_stream_fs_new (dup_fd);  /* owns dup_fd */
	Source src = { NULL, 0, fd };
	BdbReport *r = parse_stream (stream, NULL, &src, opts, error);
	g_object_unref (stream);
	return r;
}

/* @st: what fstat() said of @fd, or NULL when it failed. */
static BdbReport *
parse_fd_stat (int fd, const struct stat *st, const BdbParseOptions *opts, GError **error)
{
	BdbParseOptions o = effective_options (opts);

	ensure_gmime ();
	if (st && S_ISREG (st->st_mode)) {
		if (too_large ((guint64) st->st_size, &o, error))
			return NULL;
		if (st->st_size == 0)
			return bdb_report_parse_bytes ("", 0, opts, error);
		if (st->st_size <= WHOLE_READ_MAX)
			return parse_small_file (fd, (gsize) st->st_size, opts, &o, error);
		if (lseek (fd, 0, SEEK_SET) == 0)
			return parse_regular (fd, (gsize) st->st_size, opts, &o, error);
	}
	return parse_pipe (fd, opts, &o, error);
}

BdbReport *
bdb_report_parse_fd (int fd, const char *name, const BdbParseOptions *opts, GError **error)
{
	struct stat st;
	return parse_fd_stat (fd, fstat (fd, &st) == 0 ? &st : NULL, opts, error);
}

BdbReport *
bdb_report_parse_file (const char *path, const BdbParseOptions *opts, GError **error)
{
	int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		bdb_set_errno_error (error, errno, "cannot open");
		return NULL;
	}
	struct stat st;
	gboolean known = fstat (fd, &st) == 0;
	if (known && S_ISDIR (st.st_mode)) {
		close (fd);
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "is a directory");
		return NULL;
	}
	BdbReport *r = parse_fd_stat (fd, known ? &st : NULL, opts, error);
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
