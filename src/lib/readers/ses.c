/* Amazon SES bounce and delivery notifications, as JSON: sent by email
 * directly ("notification" email feedback) or wrapped by SNS, whose
 * envelope carries the SES notification as a JSON string in "Message".
 *
 * Only bounce.bouncedRecipients[] failed (with their own action, status
 * and diagnosticCode) and delivery.recipients[] were delivered;
 * mail.destination and mail.commonHeaders list everyone the message was
 * sent to and are never read.  Complaints are feedback, not bounces, and
 * give no record here.
 *
 * The JSON reader below is deliberately small: objects, arrays, strings
 * (with \u escapes and the raw line breaks SNS leaves in long values),
 * and the other scalars kept as text.  The library does not link a JSON
 * library for this one format.
 */
#include <string.h>
#include "notice.h"
#include "../diag.h"

typedef enum { J_SCALAR, J_STRING, J_ARRAY, J_OBJECT } JType;

typedef struct {
	JType type;
	const char *text;      /* J_STRING, J_SCALAR: in the parser's chunk */
	GPtrArray *items;      /* J_ARRAY: values; J_OBJECT: key, value, ... */
} JVal;

typedef struct {
	const char *p, *end;
	GStringChunk *chunk;
	GPtrArray *all;        /* every JVal, for freeing */
	guint depth;
} JParser;

static void
jval_free (gpointer data)
{
	JVal *v = data;
	if (v->items)
		g_ptr_array_unref (v->items);
	g_free (v);
}

static JVal *
jval_new (JParser *jp, JType type)
{
	JVal *v = g_new0 (JVal, 1);
	v->type = type;
	if (type == J_ARRAY || type == J_OBJECT)
		v->items = g_ptr_array_new ();
	g_ptr_array_add (jp->all, v);
	return v;
}

static void
skip_ws (JParser *jp)
{
	while (jp->p < jp->end && g_ascii_isspace (*jp->p))
		jp->p++;
}

static gboolean
hex4 (const char *p, const char *end, gunichar *out)
{
	if (end - p < 4)
		return FALSE;
	*out = 0;
	for (int i = 0; i < 4; i++) {
		int d = g_ascii_xdigit_value (p[i]);
		if (d < 0)
			return FALSE;
		*out = (*out << 4) | (gunichar) d;
	}
	return TRUE;
}

static const char *
parse_string (JParser *jp)
{
	g_autoptr (GString) s = g_string_new (NULL);
	jp->p++;  /* the opening quote */
	while (jp->p < jp->end && *jp->p != '"') {
		char c = *jp->p++;
		if (c != '\\') {
			g_string_append_c (s, c);
			continue;
		}
		if (jp->p >= jp->end)
			return NULL;
		c = *jp->p++;
		switch (c) {
		case 'n': g_string_append_c (s, '\n'); break;
		case 't': g_string_append_c (s, '\t'); break;
		case 'r': g_string_append_c (s, '\r'); break;
		case 'b': case 'f': g_string_append_c (s, ' '); break;
		case 'u': {
			gunichar u;
			if (!hex4 (jp->p, jp->end, &u))
				return NULL;
			jp->p += 4;
			if (u >= 0xD800 && u < 0xDC00 && jp->end - jp->p >= 6 && jp->p[0] == '\\' && jp->p[1] == 'u') {
				gunichar lo;
				if (hex4 (jp->p + 2, jp->end, &lo) && lo >= 0xDC00 && lo < 0xE000) {
					u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
					jp->p += 6;
				}
			}
			if (g_unichar_validate (u))
				g_string_append_unichar (s, u);
			break;
		}
		default: g_string_append_c (s, c); break;
		}
	}
	if (jp->p >= jp->end)
		return NULL;
	jp->p++;
	return g_string_chunk_insert_len (jp->chunk, s->str, (gssize) s->len);
}

static JVal *
parse_value (JParser *jp)
{
	skip_ws (jp);
	if (jp->p >= jp->end || jp->depth > 64)
		return NULL;
	char c = *jp->p;
	if (c == '"') {
		const char *s = parse_string (jp);
		if (!s)
			return NULL;
		JVal *v = jval_new (jp, J_STRING);
		v->text = s;
		return v;
	}
	if (c == '{' || c == '[') {
		JVal *v = jval_new (jp, c == '{' ? J_OBJECT : J_ARRAY);
		char close = c == '{' ? '}' : ']';
		jp->p++;
		jp->depth++;
		skip_ws (jp);
		if (jp->p < jp->end && *jp->p == close) {
			jp->p++;
			jp->depth--;
			return v;
		}
		for (;;) {
			if (c == '{') {
				skip_ws (jp);
				if (jp->p >= jp->end || *jp->p != '"')
					return NULL;
				JVal *key = parse_value (jp);
				skip_ws (jp);
				if (!key || jp->p >= jp->end || *jp->p != ':')
					return NULL;
				jp->p++;
				g_ptr_array_add (v->items, key);
			}
			JVal *item = parse_value (jp);
			if (!item)
				return NULL;
			g_ptr_array_add (v->items, item);
			skip_ws (jp);
			if (jp->p < jp->end && *jp->p == ',') {
				jp->p++;
				continue;
			}
			if (jp->p < jp->end && *jp->p == close) {
				jp->p++;
				jp->depth--;
				return v;
			}
			return NULL;
		}
	}
	const char *start = jp->p;
	while (jp->p < jp->end && (g_ascii_isalnum (*jp->p) || *jp->p == '.' || *jp->p == '-' || *jp->p == '+'))
		jp->p++;
	if (jp->p == start)
		return NULL;
	JVal *v = jval_new (jp, J_SCALAR);
	v->text = g_string_chunk_insert_len (jp->chunk, start, jp->p - start);
	return v;
}

static JVal *
member (const JVal *obj, const char *key)
{
	if (!obj || obj->type != J_OBJECT)
		return NULL;
	for (guint i = 0; i + 1 < obj->items->len; i += 2) {
		const JVal *k = obj->items->pdata[i];
		if (strcmp (k->text, key) == 0)
			return obj->items->pdata[i + 1];
	}
	return NULL;
}

static const char *
string_member (const JVal *obj, const char *key)
{
	const JVal *v = member (obj, key);
	return v && v->type == J_STRING ? v->text : NULL;
}

static JVal *
parse (JParser *jp, const char *text, gsize len)
{
	jp->p = text;
	jp->end = text + len;
	jp->depth = 0;
	return parse_value (jp);
}

/* ---- the notification --------------------------------------------------- */

static const char *
json_start (const BdbMessageView *view)
{
	const char *p = view->text->str;
	while (*p && g_ascii_isspace (*p))
		p++;
	return *p == '{' ? p : NULL;
}

static gboolean
detect (const BdbMessageView *view, const BdbReport *report)
{
	gboolean sender = bdb_view_header (view, "x-amz-sns-message-id") ||
	                  bdb_view_from_ends (report, "@sns.amazonaws.com") ||
	                  bdb_view_from_ends (report, ".amazonses.com") ||
	                  bdb_view_from_ends (report, "@amazonses.com");
	return sender && json_start (view) && bdb_view_has (view, "notificationType");
}

static void
add_recipient (BdbNotice *n, const char *addr, const char *action, const char *status,
               const char *diag, const char *remote)
{
	if (!addr)
		return;
	const char *d = diag;
	char type[32] = "";
	/* "smtp; 550 5.1.1 ...": the type is the Diagnostic-Code's. */
	const char *semi = d ? strchr (d, ';') : NULL;
	if (semi && semi - d < (gssize) sizeof type && semi - d <= 12) {
		memcpy (type, d, (gsize) (semi - d));
		type[semi - d] = '\0';
		d = semi + 1;
	}
	BdbRecord *rec = bdb_notice_add (n, addr, strlen (addr), d, -1, "ses");
	if (!rec)
		return;
	if (action)
		bdb_record_set (rec, BDB_FIELD_ACTION, action, -1);
	if (status && bdb_status_is_valid (status))
		bdb_record_set (rec, BDB_FIELD_DSN_STATUS, status, -1);
	if (type[0]) {
		g_autofree char *up = g_ascii_strup (g_strstrip (type), -1);
		bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC_TYPE, up, -1);
	}
	bdb_record_set (rec, BDB_FIELD_REMOTE_MTA, remote, -1);
}

static const char *
or_empty (const char *s)
{
	return s ? s : "";
}

static gboolean
extract (const BdbMessageView *view, BdbReport *report)
{
	const char *start = json_start (view);
	if (!start)
		return FALSE;
	JParser jp = { .chunk = g_string_chunk_new (1024), .all = g_ptr_array_new_with_free_func (jval_free) };
	JVal *root = parse (&jp, start, view->text->len - (gsize) (start - view->text->str));
	/* SNS wraps the notification in an envelope, as a string. */
	const char *wrapped = string_member (root, "Message");
	if (wrapped && g_strcmp0 (string_member (root, "Type"), "Notification") == 0)
		root = parse (&jp, wrapped, strlen (wrapped));

	g_auto (BdbNotice) n;
	bdb_notice_init (&n, view, report);
	const char *type = string_member (root, "notificationType");
	if (!type)
		type = string_member (root, "eventType");
	if (g_strcmp0 (type, "Bounce") == 0) {
		const JVal *bounce = member (root, "bounce");
		const JVal *list = member (bounce, "bouncedRecipients");
		const char *remote = string_member (bounce, "remoteMtaIp");
		const char *bounce_type = string_member (bounce, "bounceType");
		g_autofree char *summary = g_strdup_printf ("%s %s", or_empty (bounce_type),
		                                           or_empty (string_member (bounce, "bounceSubType")));
		for (guint i = 0; list && list->type == J_ARRAY && i < list->items->len; i++) {
			const JVal *r = list->items->pdata[i];
			const char *diag = string_member (r, "diagnosticCode");
			add_recipient (&n, string_member (r, "emailAddress"), string_member (r, "action") ? string_member (r, "action") : "failed",
			               string_member (r, "status"), diag ? diag : summary, remote);
		}
	} else if (g_strcmp0 (type, "Delivery") == 0) {
		const JVal *delivery = member (root, "delivery");
		const JVal *list = member (delivery, "recipients");
		const char *response = string_member (delivery, "smtpResponse");
		for (guint i = 0; list && list->type == J_ARRAY && i < list->items->len; i++) {
			const JVal *r = list->items->pdata[i];
			if (r->type == J_STRING)
				add_recipient (&n, r->text, "delivered", NULL, response,
				               string_member (delivery, "remoteMtaIp"));
		}
	}
	g_ptr_array_unref (jp.all);
	g_string_chunk_free (jp.chunk);
	return report->records->len > 0;
}

const BdbExtractor bdb_extractor_ses = { "amazonses", detect, extract };
