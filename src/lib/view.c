/* The view: one walk over GMime's tree that notes the parts a report is
 * made of (the machine-readable status or feedback part, the returned
 * original, the human-readable text), the text decoded to UTF-8, and the
 * headers of the message and of the original it returns.  Readers read
 * the view; none of them walks MIME itself.
 *
 * Parts are read through decoded streams, as far as needed, never decoded
 * whole: a 100 MB attachment costs what its first kilobytes cost.
 */
#include <errno.h>
#include <iconv.h>
#include <string.h>

#include <bouncedb/address.h>
#include <bouncedb/error.h>
#include "view.h"
#include "verp.h"
#include "limits-private.h"
#include "text.h"
#include "html.h"

#define TEXT_LIMIT (256u << 10)   /* human-readable text kept for readers */


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
 * (bdb_view_register_types()), whose headers read_original() reads. */
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
			char *t = bdb_html_to_text (s, strlen (s));
			g_free (s);
			s = t;
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


/* The first envelope address the bounce came back to that is a VERP
 * address names its recipient (verp.h). */
static void
read_verp (BdbReport *report, const BdbParseOptions *opts)
{
	for (guint i = 0; i < report->senders->len; i++) {
		g_autofree char *rcpt = bdb_verp_decode (report->senders->pdata[i], opts->verp_bases);
		if (rcpt) {
			bdb_report_set (report, BDB_FIELD_VERP_RECIPIENT, rcpt, -1);
			return;
		}
	}
}

void
bdb_view_register_types (void)
{
	for (gsize i = 0; i < G_N_ELEMENTS (attached_subtypes); i++)
		g_mime_object_register_type ("message", attached_subtypes[i], GMIME_TYPE_PART);
}

gboolean
bdb_view_init (BdbMessageView *view, GMimeMessage *msg, const BdbParseOptions *opts,
               BdbReport *report, GError **error)
{
	Walk w = { 0 };
	w.view.message = msg;
	w.view.opts = opts;
	w.text_parts = g_ptr_array_new ();
	w.orphan_text = g_string_new (NULL);
	read_top_headers (msg, report);
	GMimeObject *top = g_mime_message_get_mime_part (msg);
	if (top)
		walk (&w, top, 0, FALSE, 0);
	if (!w.error)
		check_part_size (w.view.status_part, "delivery-status", opts->max_part_size, &w.error);
	if (!w.error)
		check_part_size (w.view.feedback_part, "feedback-report", opts->max_part_size, &w.error);
	if (!w.error) {
		collect_text (&w);
		read_original (&w.view, report);
		read_verp (report, opts);
		bdb_message_view_shape (&w.view, report);
	}
	g_ptr_array_unref (w.text_parts);
	g_string_free (w.orphan_text, TRUE);
	*view = w.view;
	if (w.error) {
		g_propagate_error (error, w.error);
		return FALSE;
	}
	return TRUE;
}

void
bdb_view_clear (BdbMessageView *view)
{
	if (view->text)
		g_string_free (view->text, TRUE);
	g_clear_pointer (&view->original_headers, bdb_field_list_free);
	memset (view, 0, sizeof *view);
}

/* ---- evidence ----------------------------------------------------------- */

#define EVIDENCE_SPAN 16384

gboolean
bdb_view_has (const BdbMessageView *view, const char *needle)
{
	if (!view->text)
		return FALSE;
	return memmem (view->text->str, MIN (view->text->len, EVIDENCE_SPAN), needle, strlen (needle)) != NULL;
}

gboolean
bdb_view_has_nocase (const BdbMessageView *view, const char *needle)
{
	if (!view->text)
		return FALSE;
	const char *s = view->text->str;
	return bdb_text_find_nocase_n (s, s + MIN (view->text->len, EVIDENCE_SPAN), needle) != NULL;
}

gboolean
bdb_view_has_any (const BdbMessageView *view, const char *const *needles, gsize n)
{
	for (gsize i = 0; i < n; i++)
		if (bdb_view_has (view, needles[i]))
			return TRUE;
	return FALSE;
}

gboolean
bdb_view_has_any_nocase (const BdbMessageView *view, const char *const *needles, gsize n)
{
	for (gsize i = 0; i < n; i++)
		if (bdb_view_has_nocase (view, needles[i]))
			return TRUE;
	return FALSE;
}

const char *
bdb_view_header (const BdbMessageView *view, const char *name)
{
	return g_mime_object_get_header (GMIME_OBJECT (view->message), name);
}

gboolean
bdb_view_from_ends (const BdbReport *report, const char *suffix)
{
	const char *from = report->v[BDB_FIELD_REPORT_FROM];
	if (!from)
		return FALSE;
	gsize n = strlen (from), m = strlen (suffix);
	return n >= m && g_ascii_strcasecmp (from + n - m, suffix) == 0;
}
