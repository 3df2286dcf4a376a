/* bouncedb import: JSON, as one document or one record per line.
 *
 * Each shape is known by its keys (import.h lists them), read with
 * checked accessors: a member of the wrong type is "not there", never a
 * GLib critical.  Documents: `aws sesv2 list-suppressed-destinations`
 * (SuppressedDestinationSummaries), Postmark's bounces API (Bounces) and
 * suppressions dump (Suppressions), Mailgun's suppression lists (items),
 * SendGrid's (an array of objects with "email").  JSON Lines: bouncedb's
 * export (a "bouncedb_export" header line), Amazon SES event records
 * (eventType, or notificationType from SNS) and SES's bulk suppression
 * format ({"emailAddress": ..., "reason": "BOUNCE"}).
 */
#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include "import.h"
#include "state-json.h"

enum {
	SHAPE_OWN = 1, SHAPE_SES_EVENTS, SHAPE_SES_BULK,              /* JSON Lines */
	SHAPE_SES_LIST, SHAPE_POSTMARK_BOUNCES, SHAPE_POSTMARK_SUPPRESSIONS,
	SHAPE_MAILGUN, SHAPE_SENDGRID,                                 /* documents */
};

static const struct {
	int shape;
	const char *list;     /* the document's array member; NULL: the root is the array */
	const char *name;
} documents[] = {
	{ SHAPE_SES_LIST, "SuppressedDestinationSummaries", "Amazon SES suppression list (JSON)" },
	{ SHAPE_POSTMARK_BOUNCES, "Bounces", "Postmark bounces (JSON)" },
	{ SHAPE_POSTMARK_SUPPRESSIONS, "Suppressions", "Postmark suppressions (JSON)" },
	{ SHAPE_MAILGUN, "items", "Mailgun suppressions (JSON)" },
	{ SHAPE_SENDGRID, NULL, "SendGrid suppressions (JSON)" },
};

#define EXPECTED "expected a bouncedb export, Amazon SES (list-suppressed-destinations, event " \
	"records, bulk suppression lines), Postmark (Bounces or Suppressions), Mailgun (items) or " \
	"SendGrid (an array of objects with \"email\")"

/* ---- members, checked ---- */

static JsonNode *
member (JsonObject *o, const char *name)
{
	return o && json_object_has_member (o, name) ? json_object_get_member (o, name) : NULL;
}

/* A string member, or a number or boolean as text; NULL otherwise.  g_free(). */
static char *
text (JsonObject *o, const char *name)
{
	JsonNode *n = member (o, name);
	if (!n || !JSON_NODE_HOLDS_VALUE (n))
		return NULL;
	GType t = json_node_get_value_type (n);
	if (t == G_TYPE_STRING)
		return g_strdup (json_node_get_string (n));
	if (t == G_TYPE_INT64)
		return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (n));
	if (t == G_TYPE_DOUBLE) {
		char buf[G_ASCII_DTOSTR_BUF_SIZE];
		return g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (n)));
	}
	if (t == G_TYPE_BOOLEAN)
		return g_strdup (json_node_get_boolean (n) ? "true" : "false");
	return NULL;
}

static JsonObject *
object (JsonObject *o, const char *name)
{
	JsonNode *n = member (o, name);
	return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
array (JsonObject *o, const char *name)
{
	JsonNode *n = member (o, name);
	return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static gboolean
is_true (JsonObject *o, const char *name)
{
	g_autofree char *v = text (o, name);
	return v && strcmp (v, "true") == 0;
}

/* ---- the entries of each shape ---- */

/* "smtp; 550 5.1.1 user unknown": the diagnostic without its type. */
static const char *
without_type (const char *diag)
{
	const char *semi = diag ? strchr (diag, ';') : NULL;
	if (semi && semi - diag < 16) {
		for (semi++; *semi == ' '; semi++)
			;
		return semi;
	}
	return diag;
}

static gboolean
ses_event (Import *im, JsonObject *o, const char *where, GError **error)
{
	g_autofree char *type = text (o, "eventType");
	if (!type)
		type = text (o, "notificationType");
	gboolean bounce = g_strcmp0 (type, "Bounce") == 0, complaint = g_strcmp0 (type, "Complaint") == 0;
	if (!bounce && !complaint) {
		im->other++;  /* Delivery, Send, Open, Click... */
		return TRUE;
	}
	JsonObject *b = object (o, bounce ? "bounce" : "complaint");
	JsonArray *rcpts = array (b, bounce ? "bouncedRecipients" : "complainedRecipients");
	if (!rcpts) {
		import_error (error, where, "a %s record without %s.%s", type, bounce ? "bounce" : "complaint",
		              bounce ? "bouncedRecipients" : "complainedRecipients");
		return FALSE;
	}
	g_autofree char *when = text (b, "timestamp");
	g_autofree char *btype = text (b, "bounceType");
	g_autofree char *subtype = text (b, "bounceSubType");
	g_autofree char *feedback = text (b, "complaintFeedbackType");
	EspEntry e = { 0 };
	e.date = when;
	if (complaint)
		/* "not-spam": the recipient took it out of their spam folder. */
		e.klass = g_strcmp0 (feedback, "not-spam") == 0 ? IMPORT_OTHER : IMPORT_COMPLAINT;
	else
		e.klass = g_strcmp0 (btype, "Permanent") == 0 ? IMPORT_HARD : IMPORT_SOFT;  /* Transient, Undetermined */
	e.reason = complaint ? feedback : subtype;
	for (guint i = 0; i < json_array_get_length (rcpts); i++) {
		JsonNode *n = json_array_get_element (rcpts, i);
		JsonObject *r = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
		g_autofree char *addr = text (r, "emailAddress");
		g_autofree char *status = text (r, "status");
		g_autofree char *diag = text (r, "diagnosticCode");
		e.address = addr;
		e.status = status;
		e.text = without_type (diag);
		if (!import_esp_entry (im, where, &e, error))
			return FALSE;
	}
	return TRUE;
}

/* One entry of a document, or one line of the bulk format. */
static gboolean
esp_item (Import *im, int shape, JsonObject *o, const char *where, GError **error)
{
	EspEntry e = { 0 };
	g_autofree char *addr = NULL, *reason = NULL, *date = NULL, *status = NULL, *code = NULL, *diag = NULL;
	switch (shape) {
	case SHAPE_SES_BULK:
		addr = text (o, "emailAddress");
		reason = text (o, "reason");
		break;
	case SHAPE_SES_LIST:
		addr = text (o, "EmailAddress");
		reason = text (o, "Reason");           /* BOUNCE or COMPLAINT */
		date = text (o, "LastUpdateTime");      /* seconds, or ISO 8601 from the aws command */
		break;
	case SHAPE_POSTMARK_BOUNCES: {
		static const struct { const char *type; ImportClass klass; } types[] = {
			{ "HardBounce", IMPORT_HARD }, { "BadEmailAddress", IMPORT_HARD },
			{ "SpamComplaint", IMPORT_COMPLAINT }, { "Unsubscribe", IMPORT_UNSUBSCRIBE },
			{ "ManuallyDeactivated", IMPORT_MANUAL }, { "Subscribe", IMPORT_OTHER },
			{ "AutoResponder", IMPORT_OTHER }, { "OpenRelayTest", IMPORT_OTHER },
		};
		addr = text (o, "Email");
		reason = text (o, "Type");
		diag = text (o, "Details");
		date = text (o, "BouncedAt");
		/* The other types are temporary, unless Postmark deactivated the
		 * address for it (Inactive). */
		e.klass = is_true (o, "Inactive") ? IMPORT_HARD : IMPORT_SOFT;
		for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
			if (g_strcmp0 (reason, types[i].type) == 0)
				e.klass = types[i].klass;
		break;
	}
	case SHAPE_POSTMARK_SUPPRESSIONS:
		addr = text (o, "EmailAddress");
		reason = text (o, "SuppressionReason");  /* HardBounce, SpamComplaint, ManualSuppression */
		date = text (o, "CreatedAt");
		break;
	case SHAPE_MAILGUN:
		addr = text (o, "address");
		date = text (o, "created_at");
		code = text (o, "code");
		diag = text (o, "error");
		/* Three lists: bounces (code, error), unsubscribes (tags), complaints. */
		e.klass = code || diag ? IMPORT_HARD : member (o, "tags") || member (o, "tag") ? IMPORT_UNSUBSCRIBE
		        : IMPORT_COMPLAINT;
		break;
	case SHAPE_SENDGRID:
		addr = text (o, "email");
		date = text (o, "created");
		reason = text (o, "reason");
		status = text (o, "status");
		/* Bounces and blocks have a status (a block's is 4.x.x: temporary);
		 * invalid emails a reason; spam reports an ip; unsubscribes none. */
		e.klass = status ? IMPORT_GUESS : reason ? IMPORT_HARD : member (o, "ip") ? IMPORT_COMPLAINT
		        : IMPORT_UNSUBSCRIBE;
		if (status && status[0] == '5')
			e.klass = IMPORT_HARD;
		break;
	}
	e.address = addr;
	e.reason = reason;
	e.date = date;
	e.status = status;
	e.code = code;
	e.text = diag;
	return import_esp_entry (im, where, &e, error);
}

/* A line of bouncedb's own export, read as apply reads a change's state
 * (state-json.c), so that what export writes comes back whole. */
static gboolean
own_line (Import *im, JsonObject *o, const char *where, GError **error)
{
	g_autofree char *why = NULL;
	g_autofree char *type = text (o, "type");
	if (g_strcmp0 (type, "soft") == 0) {
		BdbSoftCounter soft;
		g_autofree char *addr = NULL;
		if (!cli_soft_from_json (o, &soft, &addr, &why)) {
			import_error (error, where, "%s", why);
			return FALSE;
		}
		return import_own_entry (im, BDB_TABLE_ADDRESS, NULL, addr, &soft, error);
	}
	BdbTable table;
	BdbSuppression *s = cli_suppression_from_json (o, &table, &why);
	if (!s) {
		import_error (error, where, "%s", why);
		return FALSE;
	}
	return import_own_entry (im, table, s, NULL, NULL, error);
}

/* ---- reading ---- */

static gboolean
read_lines (Import *im, GError **error)
{
	FILE *in = g_fopen (im->path, "r");
	if (!in) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "cannot open: %s", g_strerror (errno));
		return FALSE;
	}
	g_autoptr (JsonParser) parser = json_parser_new ();
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	guint64 line = 0;
	gboolean ok = TRUE;
	while (ok && (n = getline (&buf, &cap, in)) >= 0) {
		line++;
		char *l = g_strstrip (line == 1 && g_str_has_prefix (buf, "\xef\xbb\xbf") ? buf + 3 : buf);
		if (!*l)
			continue;
		g_autofree char *where = g_strdup_printf ("line %" G_GUINT64_FORMAT, line);
		GError *e = NULL;
		if (!json_parser_load_from_data (parser, l, -1, &e) ||
		    !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
			import_error (error, where, "not a JSON object%s%s", e ? ": " : "", e ? e->message : "");
			g_clear_error (&e);
			ok = FALSE;
			break;
		}
		JsonObject *o = json_node_get_object (json_parser_get_root (parser));
		if (im->json == SHAPE_OWN)
			ok = member (o, "bouncedb_export") || own_line (im, o, where, error);
		else if (im->json == SHAPE_SES_EVENTS)
			ok = ses_event (im, o, where, error);
		else
			ok = esp_item (im, im->json, o, where, error);
	}
	free (buf);
	fclose (in);
	return ok;
}

/* The document's list of entries, or NULL with @error. */
static JsonArray *
document_list (Import *im, JsonParser *parser, GError **error)
{
	GError *e = NULL;
	if (!json_parser_load_from_file (parser, im->path, &e)) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "not JSON: %s", e->message);
		g_error_free (e);
		return NULL;
	}
	JsonNode *root = json_parser_get_root (parser);
	for (gsize i = 0; i < G_N_ELEMENTS (documents); i++) {
		if (documents[i].shape != im->json)
			continue;
		if (!documents[i].list)
			return root && JSON_NODE_HOLDS_ARRAY (root) ? json_node_get_array (root) : NULL;
		return root && JSON_NODE_HOLDS_OBJECT (root) ? array (json_node_get_object (root), documents[i].list) : NULL;
	}
	return NULL;
}

static gboolean
read_document (Import *im, GError **error)
{
	g_autoptr (JsonParser) parser = json_parser_new ();
	JsonArray *list = document_list (im, parser, error);
	if (!list)
		return FALSE;
	for (guint i = 0; i < json_array_get_length (list); i++) {
		g_autofree char *where = g_strdup_printf ("entry %u", i + 1);
		JsonNode *n = json_array_get_element (list, i);
		if (!JSON_NODE_HOLDS_OBJECT (n)) {
			import_error (error, where, "not a JSON object");
			return FALSE;
		}
		if (!esp_item (im, im->json, json_node_get_object (n), where, error))
			return FALSE;
	}
	return TRUE;
}

/* ---- which shape ---- */

static gboolean
set_shape (Import *im, int shape, const char *name)
{
	im->json = shape;
	im->shape = name;
	im->read = shape <= SHAPE_SES_BULK ? read_lines : read_document;
	im->own = shape == SHAPE_OWN;
	return TRUE;
}

/* A JSON Lines shape, from the keys of one line's object; 0 if none. */
static int
line_shape (JsonObject *o)
{
	if (member (o, "bouncedb_export"))
		return SHAPE_OWN;
	if ((member (o, "eventType") || member (o, "notificationType")) && member (o, "mail"))
		return SHAPE_SES_EVENTS;
	if (member (o, "emailAddress") && member (o, "reason"))
		return SHAPE_SES_BULK;
	return 0;
}

static gboolean
document_shape (Import *im, JsonNode *root, GError **error)
{
	if (JSON_NODE_HOLDS_OBJECT (root)) {
		JsonObject *o = json_node_get_object (root);
		for (gsize i = 0; i < G_N_ELEMENTS (documents); i++)
			if (documents[i].list && array (o, documents[i].list))
				return set_shape (im, documents[i].shape, documents[i].name);
	} else if (JSON_NODE_HOLDS_ARRAY (root)) {
		JsonArray *a = json_node_get_array (root);
		JsonNode *first = json_array_get_length (a) ? json_array_get_element (a, 0) : NULL;
		if (!first) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "an empty JSON array: no entries");
			return FALSE;
		}
		if (JSON_NODE_HOLDS_OBJECT (first) && member (json_node_get_object (first), "email"))
			return set_shape (im, SHAPE_SENDGRID, "SendGrid suppressions (JSON)");
	}
	g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "JSON of a shape bouncedb does not know: " EXPECTED);
	return FALSE;
}

gboolean
import_json_detect (Import *im, GError **error)
{
	FILE *in = g_fopen (im->path, "r");
	if (!in) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "cannot open: %s", g_strerror (errno));
		return FALSE;
	}
	char *buf = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline (&buf, &cap, in)) >= 0 && !*g_strstrip (buf))
		;
	/* Anything after the first line? */
	int c;
	while ((c = fgetc (in)) != EOF && g_ascii_isspace (c))
		;
	gboolean more = c != EOF;
	fclose (in);
	g_autofree char *first = buf;
	const char *p = g_str_has_prefix (first, "\xef\xbb\xbf") ? first + 3 : first;
	/* A line that is a whole object by itself: JSON Lines, or a document
	 * written on one line. */
	g_autoptr (JsonParser) parser = json_parser_new ();
	if (json_parser_load_from_data (parser, p, -1, NULL)) {
		JsonNode *root = json_parser_get_root (parser);
		int shape = JSON_NODE_HOLDS_OBJECT (root) ? line_shape (json_node_get_object (root)) : 0;
		if (shape == SHAPE_OWN) {
			g_autofree char *v = text (json_node_get_object (root), "bouncedb_export");
			if (g_strcmp0 (v, "1") != 0) {
				g_set_error (error, BDB_ERROR, BDB_ERROR_DB_VERSION, "line 1: export written by a newer bouncedb");
				return FALSE;
			}
			return set_shape (im, shape, "bouncedb export (JSON Lines)");
		}
		if (shape)
			return set_shape (im, shape, shape == SHAPE_SES_EVENTS ? "Amazon SES event records (JSON Lines)"
			                                                       : "Amazon SES suppression list (JSON Lines)");
		if (more) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "JSON Lines of a shape bouncedb does not know: " EXPECTED);
			return FALSE;
		}
		return document_shape (im, root, error);
	}
	/* A document over many lines. */
	GError *e = NULL;
	if (!json_parser_load_from_file (parser, im->path, &e)) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "not JSON: %s", e->message);
		g_error_free (e);
		return FALSE;
	}
	return document_shape (im, json_parser_get_root (parser), error);
}
