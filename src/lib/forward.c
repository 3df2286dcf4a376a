/* Delivery reports that a person forwarded; see forward.h.
 *
 * People pass bounces on in three ways: the mail client attaches the
 * bounce whole (message/rfc822), quotes it with "> " under a "Begin
 * forwarded message:" line, or pastes it inline under "---------- Forwarded
 * message ---------" (in the client's language).  Quoted and inline
 * forwards keep the bounce's header block (From, Date or Sent, Subject,
 * To) and its text; the message is rebuilt from them, so that the readers
 * see it as the bounce it was: from a mailer daemon, with a bounce's
 * subject and words.  Whether it is a delivery report is for the readers
 * to say, exactly as for a bounce that arrived by itself; parse.c asks
 * only of messages that are not bounces themselves, so the returned
 * original of an ordinary bounce is never taken for one.
 */
#include <string.h>
#include <bouncedb/address.h>
#include "forward.h"
#include "text.h"

#define HEADER_LINES_MAX 24

/* Lines that introduce a forwarded message, compared (ASCII case
 * insensitively) after leading spaces and decoration. */
static const char *const markers[] = {
	"forwarded message", "forwarded by", "begin forwarded message", "original message",
	"weitergeleitete nachricht", "ursprüngliche nachricht", "message transféré",
	"message transfere", "message d'origine", "mensaje reenviado", "mensaje original",
	"messaggio inoltrato", "messaggio originale", "mensagem encaminhada", "mensagem original",
	"doorgestuurd bericht", "oorspronkelijk bericht", "przekazana wiadomość",
	"wiadomość przekazana", "пересылаемое сообщение", "исходное сообщение",
	"転送されたメッセージ", "元のメッセージ", "转发的邮件", "轉寄的郵件",
};

const char *
bdb_forward_kind_name (BdbForwardKind kind)
{
	static const char *const names[] = {
		[BDB_FORWARD_NONE] = "not forwarded",
		[BDB_FORWARD_ATTACHED] = "forwarded as an attached message (message/rfc822)",
		[BDB_FORWARD_QUOTED] = "forwarded quoted with \"> \"",
		[BDB_FORWARD_INLINE] = "forwarded inline, under a \"forwarded message\" line",
	};
	return (guint) kind < G_N_ELEMENTS (names) ? names[kind] : names[0];
}

/* One line of the text, with one level of "> " quoting taken off. */
typedef struct {
	const char *p;     /* the line without its quote */
	gsize len;
	gboolean quoted;
} Line;

static Line
dequote (const BdbLine *l)
{
	Line d = { l->p, l->len, FALSE };
	if (d.len && d.p[0] == '>') {
		d.quoted = TRUE;
		d.p++;
		d.len--;
		if (d.len && d.p[0] == ' ') {
			d.p++;
			d.len--;
		}
	}
	return d;
}

/* The header field name a line starts with ("From", "*Sent:*" from a
 * client's HTML, "Date"), lowercased into @name; FALSE when none. */
static gboolean
field_name (const Line *l, char name[32], const char **value)
{
	const char *p = l->p, *end = l->p + l->len;
	while (p < end && (*p == ' ' || *p == '*'))
		p++;
	gsize n = 0;
	while (p < end && (g_ascii_isalnum (*p) || *p == '-') && n < 31)
		name[n++] = g_ascii_tolower (*p++);
	name[n] = '\0';
	while (p < end && *p == '*')
		p++;
	if (n == 0 || p >= end || *p != ':')
		return FALSE;
	p++;
	while (p < end && *p == '*')
		p++;
	*value = p;
	return TRUE;
}

static gboolean
is_marker (const Line *l)
{
	const char *p = l->p, *end = l->p + l->len;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '-' || *p == '=' || *p == '_' || *p == '*'))
		p++;
	for (gsize i = 0; i < G_N_ELEMENTS (markers); i++) {
		gsize n = strlen (markers[i]);
		if ((gsize) (end - p) >= n && g_ascii_strncasecmp (p, markers[i], n) == 0)
			return TRUE;
	}
	return FALSE;
}

/* The names a forwarded header block is made of; "sent" is Outlook's
 * "Date". */
static const char *
kept_name (const char *name)
{
	static const char *const kept[] = { "from", "to", "cc", "subject", "date", "reply-to",
	                                    "x-failed-recipients", "auto-submitted", "return-path" };
	if (strcmp (name, "sent") == 0)
		return "Date";
	for (gsize i = 0; i < G_N_ELEMENTS (kept); i++)
		if (strcmp (name, kept[i]) == 0)
			return kept[i];
	return NULL;
}

/* Rebuild the message whose header block starts at @cursor (a From line,
 * quoted when @quoted): its kept fields, then its text, up to the end of
 * the quote (quoted) or of @end (inline).  NULL when the block has no
 * Subject, Date or To after its From. */
static GBytes *
rebuild (const char *cursor, const char *end, gboolean quoted)
{
	GString *out = g_string_new (NULL);
	BdbLine raw;
	guint fields = 0, lines = 0;
	gboolean more = FALSE;
	/* The header block, up to its first blank line. */
	while (bdb_text_next_line (&cursor, end, &raw) && lines++ < HEADER_LINES_MAX) {
		Line l = dequote (&raw);
		if (quoted && !l.quoted)
			break;
		if (bdb_line_is_blank (&(BdbLine) { l.p, l.len }))
			break;
		char name[32];
		const char *value;
		if (!field_name (&l, name, &value)) {
			/* A folded field goes on indented; anything else ends it. */
			if (l.len && (l.p[0] == ' ' || l.p[0] == '\t') && out->len) {
				g_string_append (out, " ");
				g_string_append_len (out, l.p, (gssize) l.len);
				continue;
			}
			break;
		}
		const char *k = kept_name (name);
		if (!k)
			continue;
		if (out->len)
			g_string_append_c (out, '\n');
		g_string_append_printf (out, "%c%s:", g_ascii_toupper (k[0]), k + 1);
		g_string_append_len (out, value, (gssize) (l.p + l.len - value));
		fields++;
		more |= strcmp (name, "from") != 0;
	}
	if (fields < 2 || !more) {
		g_string_free (out, TRUE);
		return NULL;
	}
	g_string_append (out, "\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n");
	/* The text. */
	while (bdb_text_next_line (&cursor, end, &raw)) {
		Line l = dequote (&raw);
		if (quoted && !l.quoted && !bdb_line_is_blank (&raw))
			break;
		g_string_append_len (out, l.p, (gssize) l.len);
		g_string_append_c (out, '\n');
	}
	gsize len = out->len;
	return g_bytes_new_take (g_string_free (out, FALSE), len);
}

/* A forwarded header block in the text: a From line, quoted or under a
 * forward marker line (blank lines between allowed). */
static GBytes *
forwarded_in_text (const char *text, const char *end, BdbForwardKind *kind)
{
	const char *cursor = text;
	gboolean marker = FALSE;
	BdbLine raw;
	while (TRUE) {
		const char *at = cursor;
		if (!bdb_text_next_line (&cursor, end, &raw))
			break;
		Line l = dequote (&raw);
		if (bdb_line_is_blank (&(BdbLine) { l.p, l.len }))
			continue;
		char name[32];
		const char *value;
		if ((marker || l.quoted) && field_name (&l, name, &value) && strcmp (name, "from") == 0) {
			GBytes *b = rebuild (at, end, l.quoted);
			if (b) {
				*kind = l.quoted ? BDB_FORWARD_QUOTED : BDB_FORWARD_INLINE;
				return b;
			}
		}
		marker = is_marker (&l);
	}
	return NULL;
}

GBytes *
bdb_forwarded_message (const BdbMessageView *view, BdbForwardKind *kind)
{
	*kind = BDB_FORWARD_NONE;
	GMimeObject *orig = view->original;
	if (orig && GMIME_IS_PART (orig)) {
		GMimeContentType *ct = g_mime_object_get_content_type (orig);
		if (g_mime_content_type_is_type (ct, "message", "rfc822") ||
		    g_mime_content_type_is_type (ct, "message", "global")) {
			GByteArray *a = bdb_part_content (orig, view->opts->max_part_size);
			*kind = BDB_FORWARD_ATTACHED;
			return g_byte_array_free_to_bytes (a);
		}
	}
	if (view->text && view->text->len)
		return forwarded_in_text (view->text->str, view->text->str + view->text->len, kind);
	return NULL;
}

/* ---- records -------------------------------------------------------------- */

/* What the inner report says of the bounced message replaces what the
 * outer one read from its attachment (the bounce itself). */
static const BdbField message_fields[] = {
	BDB_FIELD_REPORTING_MTA, BDB_FIELD_RECEIVED_FROM_MTA, BDB_FIELD_ARRIVAL_DATE,
	BDB_FIELD_ENVELOPE_ID, BDB_FIELD_ORIGINAL_MAIL_FROM, BDB_FIELD_ORIGINAL_MESSAGE_ID,
	BDB_FIELD_ORIGINAL_FROM, BDB_FIELD_ORIGINAL_TO, BDB_FIELD_SUBJECT, BDB_FIELD_ORIGINAL_DATE,
	BDB_FIELD_LIST_ID, BDB_FIELD_FEEDBACK_ID, BDB_FIELD_VERP_RECIPIENT,
};

static gboolean
is_forwarder (const BdbReport *report, const BdbMessageView *view, const char *rcpt)
{
	if (!rcpt)
		return TRUE;
	if (g_strcmp0 (report->v[BDB_FIELD_REPORT_FROM], rcpt) == 0)
		return TRUE;
	const char *to = g_mime_object_get_header (GMIME_OBJECT (view->message), "To");
	const char *s, *e;
	return to && bdb_text_find_address (to, to + strlen (to), &s, &e) &&
	       (gsize) (e - s) == strlen (rcpt) && g_ascii_strncasecmp (s, rcpt, (gsize) (e - s)) == 0;
}

guint
bdb_report_adopt_forwarded (BdbReport *report, BdbReport *inner, BdbForwardKind kind,
                            const BdbMessageView *view)
{
	guint moved = 0;
	const char *how = bdb_forward_kind_name (kind);
	for (guint i = 0; i < inner->records->len; i++) {
		const BdbRecord *src = inner->records->pdata[i];
		if (is_forwarder (report, view, src->v[BDB_FIELD_RECIPIENT]))
			continue;
		BdbRecord *rec = bdb_report_add_record (report);
		if (!rec)
			break;
		for (guint f = 0; f < BDB_FIELD_COUNT; f++)
			if (bdb_field_is_per_recipient ((BdbField) f))
				bdb_record_set (rec, (BdbField) f, src->v[f], -1);
		rec->context = bdb_report_intern (report, src->context, -1);
		g_autofree char *evidence = src->tied_by ? g_strdup_printf ("%s; %s", how, src->tied_by)
		                                          : g_strdup (how);
		rec->tied_by = bdb_report_intern (report, evidence, -1);
		moved++;
	}
	if (!moved)
		return 0;
	for (gsize i = 0; i < G_N_ELEMENTS (message_fields); i++)
		bdb_report_set (report, message_fields[i], inner->v[message_fields[i]], -1);
	g_autofree char *reader = g_strdup_printf ("forwarded:%s",
	                                           inner->v[BDB_FIELD_EXTRACTOR] ? inner->v[BDB_FIELD_EXTRACTOR] : "");
	bdb_report_set (report, BDB_FIELD_EXTRACTOR, reader, -1);
	for (guint i = 0; i < inner->senders->len; i++)
		g_ptr_array_add (report->senders, (gpointer) bdb_report_intern (report, inner->senders->pdata[i], -1));
	for (guint i = 0; i + 1 < inner->extensions->len; i += 2)
		bdb_report_add_extension (report, inner->extensions->pdata[i], inner->extensions->pdata[i + 1]);
	report->kind = inner->kind;
	g_ptr_array_set_size (inner->records, 0);
	return moved;
}
