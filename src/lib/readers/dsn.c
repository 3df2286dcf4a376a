/* RFC 3464 (and RFC 6533 global) delivery-status reader.
 *
 * The message/delivery-status part is a block of per-message fields
 * followed by one block per recipient.  Real reports break the format in
 * predictable ways, each handled here and listed in doc/VIOLATIONS.md:
 * recipient blocks without blank lines between them, a missing
 * Final-Recipient (Original-Recipient or X-Actual-Recipient stand in),
 * diagnostics folded without indentation, statuses with comments
 * ("5.0.0 (permanent failure)"), the part sent as text/plain or base64,
 * and the whole block pasted into the human-readable text when the MIME
 * structure itself is broken.
 */
#include <string.h>
#include <bouncedb/address.h>
#include "../fields.h"
#include "readers.h"
#include "../text.h"
#include "notice.h"
#include "../diag.h"

typedef enum {
	F_OTHER = 0,
	F_MESSAGE,         /* a per-message field */
	F_FINAL_RECIPIENT,
	F_ORIGINAL_RECIPIENT,
	F_ACTUAL_RECIPIENT,
	F_ACTION,
	F_STATUS,
	F_DIAGNOSTIC,
	F_REMOTE_MTA,
	F_LAST_ATTEMPT,
	F_WILL_RETRY,
	F_SUPPLEMENTARY,
	F_RECIPIENT_OTHER, /* per-recipient, kept nowhere special */
} FieldKind;

static const struct {
	const char *name;
	FieldKind kind;
	BdbField field;  /* for F_MESSAGE */
} field_table[] = {
	{ "Reporting-MTA", F_MESSAGE, BDB_FIELD_REPORTING_MTA },
	{ "Received-From-MTA", F_MESSAGE, BDB_FIELD_RECEIVED_FROM_MTA },
	{ "Arrival-Date", F_MESSAGE, BDB_FIELD_ARRIVAL_DATE },
	{ "Original-Envelope-Id", F_MESSAGE, BDB_FIELD_ENVELOPE_ID },
	{ "DSN-Gateway", F_MESSAGE, BDB_FIELD_COUNT },
	{ "Final-Recipient", F_FINAL_RECIPIENT, BDB_FIELD_COUNT },
	{ "Original-Recipient", F_ORIGINAL_RECIPIENT, BDB_FIELD_COUNT },
	{ "X-Actual-Recipient", F_ACTUAL_RECIPIENT, BDB_FIELD_COUNT },
	{ "Action", F_ACTION, BDB_FIELD_COUNT },
	{ "Status", F_STATUS, BDB_FIELD_COUNT },
	{ "Diagnostic-Code", F_DIAGNOSTIC, BDB_FIELD_COUNT },
	{ "Remote-MTA", F_REMOTE_MTA, BDB_FIELD_COUNT },
	{ "Last-Attempt-Date", F_LAST_ATTEMPT, BDB_FIELD_COUNT },
	{ "Will-Retry-Until", F_WILL_RETRY, BDB_FIELD_COUNT },
	{ "X-Supplementary-Info", F_SUPPLEMENTARY, BDB_FIELD_COUNT },
	{ "Final-Log-ID", F_RECIPIENT_OTHER, BDB_FIELD_COUNT },
	{ "X-Display-Name", F_RECIPIENT_OTHER, BDB_FIELD_COUNT },
};

static FieldKind
classify_field (const char *name, BdbField *field)
{
	for (gsize i = 0; i < G_N_ELEMENTS (field_table); i++) {
		if (g_ascii_strcasecmp (name, field_table[i].name) == 0) {
			*field = field_table[i].field;
			return field_table[i].kind;
		}
	}
	*field = BDB_FIELD_COUNT;
	return F_OTHER;
}

/* One recipient block as written. */
typedef struct {
	const char *v[F_RECIPIENT_OTHER + 1];
	gboolean has_body;  /* Action, Status or Diagnostic-Code seen */
	/* ... after a recipient field: the next recipient field opens a new
	 * block.  Some MTAs write Action and Status first (Sun Messaging
	 * Server), so a body alone does not end a block. */
	gboolean body_after_rcpt;
} Group;

static const char *
first_word_lower (const char *value, char *buf, gsize size)
{
	gsize i = 0;
	while (*value == ' ')
		value++;
	while (value[i] && !g_ascii_isspace (value[i]) && value[i] != '(' && value[i] != ';' && i + 1 < size) {
		buf[i] = g_ascii_tolower (value[i]);
		i++;
	}
	buf[i] = '\0';
	return buf;
}

/* Action values as MTAs spell them, mapped to RFC 3464's five. */
static const char *
normalise_action (const char *value)
{
	static const struct {
		const char *spelling;
		const char *action;
	} table[] = {
		{ "failed", "failed" }, { "failure", "failed" }, { "fail", "failed" },
		{ "delayed", "delayed" }, { "delay", "delayed" },
		{ "delivered", "delivered" }, { "relayed", "relayed" }, { "expanded", "expanded" },
		/* Not RFC 3464, seen from SendGrid: the retries ran out. */
		{ "expired", "failed" },
	};
	char buf[32];
	first_word_lower (value, buf, sizeof buf);
	for (gsize i = 0; i < G_N_ELEMENTS (table); i++)
		if (strcmp (buf, table[i].spelling) == 0)
			return table[i].action;
	return NULL;
}

static void
set_status (BdbRecord *rec, const char *value)
{
	char code[16];
	gsize i = 0;
	while (*value == ' ')
		value++;
	while (value[i] && (g_ascii_isdigit (value[i]) || value[i] == '.') && i < sizeof code - 1) {
		code[i] = value[i];
		i++;
	}
	code[i] = '\0';
	if (i && code[i - 1] == '.')
		code[--i] = '\0';
	if (bdb_status_is_valid (code))
		bdb_record_set (rec, BDB_FIELD_DSN_STATUS, code, -1);
	else if (bdb_find_enhanced_code (value, code))
		bdb_record_set (rec, BDB_FIELD_DSN_STATUS, code, -1);
}

static void
set_diagnostic (BdbRecord *rec, const char *value)
{
	char type[32];
	const char *text = bdb_field_untype (value, type);
	if (type[0]) {
		g_autofree char *up = g_ascii_strup (type, -1);
		bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC_TYPE, up, -1);
	}
	bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, text, -1);
}

static void
emit_group (const Group *g, BdbReport *report)
{
	if (!g->v[F_FINAL_RECIPIENT] && !g->v[F_ORIGINAL_RECIPIENT] &&
	    !g->v[F_ACTUAL_RECIPIENT] && !g->has_body)
		return;
	BdbRecord *rec = bdb_report_add_record (report);
	if (!rec)
		return;

	if (!bdb_record_set_recipient (rec, g->v[F_FINAL_RECIPIENT], "final-recipient") &&
	    !bdb_record_set_recipient (rec, g->v[F_ORIGINAL_RECIPIENT], "original-recipient"))
		bdb_record_set_recipient (rec, g->v[F_ACTUAL_RECIPIENT], "x-actual-recipient");
	if (g->v[F_ORIGINAL_RECIPIENT]) {
		g_autofree char *orcpt = bdb_address_normalize (g->v[F_ORIGINAL_RECIPIENT],
		                                                BDB_ADDRESS_UNICODE_DOMAIN, NULL);
		bdb_record_set (rec, BDB_FIELD_ORIGINAL_RECIPIENT,
		                orcpt ? orcpt : bdb_field_untype (g->v[F_ORIGINAL_RECIPIENT], NULL), -1);
	}
	if (g->v[F_ACTION]) {
		const char *a = normalise_action (g->v[F_ACTION]);
		char buf[32];
		bdb_record_set (rec, BDB_FIELD_ACTION,
		                a ? a : first_word_lower (g->v[F_ACTION], buf, sizeof buf), -1);
	}
	if (g->v[F_STATUS])
		set_status (rec, g->v[F_STATUS]);
	if (g->v[F_DIAGNOSTIC] && *bdb_field_untype (g->v[F_DIAGNOSTIC], NULL))
		set_diagnostic (rec, g->v[F_DIAGNOSTIC]);
	else if (g->v[F_SUPPLEMENTARY])
		/* Exchange puts the remote reply here: "<mx #5.1.1 smtp;550 ...>" */
		set_diagnostic (rec, g->v[F_SUPPLEMENTARY]);
	if (g->v[F_REMOTE_MTA])
		bdb_record_set (rec, BDB_FIELD_REMOTE_MTA, bdb_field_untype (g->v[F_REMOTE_MTA], NULL), -1);
	bdb_record_set (rec, BDB_FIELD_LAST_ATTEMPT, g->v[F_LAST_ATTEMPT], -1);
	bdb_record_set (rec, BDB_FIELD_WILL_RETRY_UNTIL, g->v[F_WILL_RETRY], -1);
}

static void
read_fields (const BdbFieldList *list, BdbReport *report)
{
	Group cur = { 0 };
	gboolean in_group = FALSE, closed = FALSE;

	for (guint i = 0; i < list->fields->len; i++) {
		const BdbStatusField *f = &g_array_index (list->fields, BdbStatusField, i);
		if (!f->name) {
			closed = TRUE;
			continue;
		}
		BdbField mfield;
		FieldKind kind = classify_field (f->name, &mfield);

		if (kind == F_MESSAGE || (kind == F_OTHER && !in_group)) {
			if (mfield != BDB_FIELD_COUNT) {
				if (!report->v[mfield])
					bdb_report_set (report, mfield,
					                mfield == BDB_FIELD_REPORTING_MTA || mfield == BDB_FIELD_RECEIVED_FROM_MTA
					                ? bdb_field_untype (f->value, NULL) : f->value, -1);
			} else if (g_ascii_strcasecmp (f->name, "X-Postfix-Sender") == 0) {
				g_autofree char *s = bdb_address_normalize (f->value, BDB_ADDRESS_UNICODE_DOMAIN, NULL);
				if (s && !report->v[BDB_FIELD_ORIGINAL_MAIL_FROM])
					bdb_report_set (report, BDB_FIELD_ORIGINAL_MAIL_FROM, s, -1);
				bdb_report_add_extension (report, f->name, f->value);
			} else if (g_ascii_strcasecmp (f->name, "X-Original-Message-ID") == 0) {
				if (!report->v[BDB_FIELD_ORIGINAL_MESSAGE_ID]) {
					g_autofree char *id = g_mime_utils_decode_message_id (f->value);
					bdb_report_set (report, BDB_FIELD_ORIGINAL_MESSAGE_ID, id ? id : f->value, -1);
				}
			} else if (kind == F_MESSAGE || g_ascii_strncasecmp (f->name, "X-", 2) == 0) {
				bdb_report_add_extension (report, f->name, f->value);
			}
			continue;
		}
		if (kind == F_OTHER)
			continue;  /* unknown per-recipient field */

		gboolean starts = kind == F_FINAL_RECIPIENT || kind == F_ORIGINAL_RECIPIENT;
		gboolean new_group;
		if (!in_group)
			new_group = TRUE;
		else if (starts)
			/* A recipient field opens a new block after a blank line, when
			 * the current block already has it, or after the block's
			 * Action/Status: blocks run together without blank lines. */
			new_group = closed || cur.v[kind] || cur.body_after_rcpt;
		else
			/* After a blank line, a lone Action/Status continues the block
			 * before it unless that block already has the field. */
			new_group = cur.v[kind] != NULL;
		if (new_group) {
			if (in_group)
				emit_group (&cur, report);
			memset (&cur, 0, sizeof cur);
			in_group = TRUE;
		}
		closed = FALSE;
		if (!cur.v[kind])
			cur.v[kind] = f->value;
		if (kind == F_ACTION || kind == F_STATUS || kind == F_DIAGNOSTIC) {
			cur.has_body = TRUE;
			cur.body_after_rcpt = cur.v[F_FINAL_RECIPIENT] || cur.v[F_ORIGINAL_RECIPIENT];
		}
	}
	if (in_group)
		emit_group (&cur, report);
}

/* The block of a session transcript ("... while talking to host:",
 * ">>> DATA", "<<< 550 ...") that names @rcpt, from blank line to blank
 * line, or NULL.  It says which command a failure answered, which the
 * paragraph naming the recipient may not (Sendmail lists the address
 * first and the dialogue below).  g_free() it. */
static char *
transcript_block_with (const char *text, const char *rcpt)
{
	const char *end = text + strlen (text), *cursor = text, *block = text;
	gboolean arrows = FALSE;
	BdbLine line;
	while (bdb_text_next_line (&cursor, end, &line)) {
		gboolean blank = bdb_line_is_blank (&line);
		arrows = arrows || bdb_line_starts (&line, "", ">>> ");
		if (!blank && cursor < end)
			continue;
		const char *stop = blank ? line.p : cursor;
		if (arrows && bdb_text_find_nocase_n (block, stop, rcpt))
			return g_strndup (block, MIN ((gsize) (stop - block), 2048));
		block = cursor;
		arrows = FALSE;
	}
	return NULL;
}

/* The human-readable part's words about each recipient become its
 * context (the SMTP command is often only there: Postfix's "(in reply to
 * RCPT TO command)"), and the diagnostic of a record that has none
 * ("postmaster@example.com: Domain does not exist": OpenSMTPD, Gmail and
 * others say there what the status part leaves out). */
static void
fill_from_text (const char *text, BdbReport *report)
{
	for (guint i = 0; i < report->records->len; i++) {
		BdbRecord *rec = report->records->pdata[i];
		const char *rcpt = rec->v[BDB_FIELD_RECIPIENT];
		if (!rcpt)
			continue;
		g_autofree char *para = bdb_text_paragraph_with (text, rcpt, 1024);
		if (!para)
			continue;
		g_autofree char *dialogue = transcript_block_with (text, rcpt);
		g_autofree char *both = dialogue && !strstr (para, dialogue) ? g_strconcat (para, "\n", dialogue, NULL) : NULL;
		rec->context = bdb_report_intern (report, both ? both : para, -1);
		if (!rec->v[BDB_FIELD_DIAGNOSTIC])
			bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, para, -1);
	}
}

/* Sendmail writes no Diagnostic-Code when a local delivery fails (a
 * program such as procmail, a local mailbox): what went wrong is only in
 * its "Transcript of session follows" section, as a reply line
 * ('554 "|/usr/bin/procmail -f-"... Service unavailable', or "<<< 550
 * ..." from a remote server).  The line may name a program rather than
 * the recipient, so it is taken only for a report about one recipient:
 * the last reply of the status's class (5xx for 5.x.x), else the last. */
static void
fill_from_transcript (const char *text, BdbReport *report)
{
	if (report->records->len != 1)
		return;
	BdbRecord *rec = report->records->pdata[0];
	if (rec->v[BDB_FIELD_DIAGNOSTIC])
		return;
	const char *mark = bdb_text_find_nocase (text, "Transcript of session follows");
	if (!mark)
		return;
	const char *status = rec->v[BDB_FIELD_DSN_STATUS];
	const char *end = bdb_text_notice_end (mark, text + strlen (text));
	const char *cursor = mark;
	BdbLine line, any = { 0 }, same_class = { 0 };
	bdb_text_next_line (&cursor, end, &line);  /* the marker itself */
	while (bdb_text_next_line (&cursor, end, &line)) {
		const char *p = line.p + bdb_line_skip (&line);
		gsize n = line.len - (gsize) (p - line.p);
		if (n >= 5 && memcmp (p, "-----", 5) == 0)
			break;  /* the next section */
		if (n >= 4 && memcmp (p, "<<< ", 4) == 0) {
			p += 4;
			n -= 4;
		}
		if (n < 5 || (p[0] != '4' && p[0] != '5') || !g_ascii_isdigit (p[1]) ||
		    !g_ascii_isdigit (p[2]) || (p[3] != ' ' && p[3] != '-'))
			continue;
		any = (BdbLine) { p, n };
		if (status && status[0] == p[0])
			same_class = any;
	}
	const BdbLine *best = same_class.p ? &same_class : &any;
	if (best->p)
		bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, best->p, (gssize) best->len);
}

/* Recipient blocks that name nobody readable ("Final-Recipient: rfc822;
 * @mx.example.org", or Action and Status with no recipient field) while
 * the human-readable part names the failed addresses: read them from the
 * text, with the text extractors.  Only when the text names exactly as
 * many new addresses as there are blocks without one, taken in order; a
 * block keeps its own Action, Status and Diagnostic-Code.  A single such
 * block in a bounce that came back to a VERP address takes the recipient
 * the address names (verp.h), before any guess from the text. */
static void
fill_missing_recipients (const BdbMessageView *view, BdbReport *report)
{
	g_autoptr (GPtrArray) missing = g_ptr_array_new ();
	for (guint i = 0; i < report->records->len; i++) {
		BdbRecord *rec = report->records->pdata[i];
		if (!rec->v[BDB_FIELD_RECIPIENT])
			g_ptr_array_add (missing, rec);
	}
	/* One block without a recipient in a bounce that came back to a VERP
	 * address: the envelope says who it was for. */
	if (missing->len == 1 && report->v[BDB_FIELD_VERP_RECIPIENT] &&
	    bdb_record_set_recipient (missing->pdata[0], report->v[BDB_FIELD_VERP_RECIPIENT], "verp"))
		return;
	if (missing->len == 0 || !view->text)
		return;
	BdbReport *scratch = bdb_read_text_records (view, report);
	if (!scratch)
		return;
	g_autoptr (GPtrArray) found = g_ptr_array_new ();
	for (guint i = 0; i < scratch->records->len; i++) {
		BdbRecord *cand = scratch->records->pdata[i];
		gboolean known = FALSE;
		for (guint j = 0; j < report->records->len && !known; j++) {
			const BdbRecord *rec = report->records->pdata[j];
			known = g_strcmp0 (rec->v[BDB_FIELD_RECIPIENT], cand->v[BDB_FIELD_RECIPIENT]) == 0;
		}
		if (!known)
			g_ptr_array_add (found, cand);
	}
	if (found->len == missing->len) {
		for (guint i = 0; i < missing->len; i++) {
			BdbRecord *rec = missing->pdata[i];
			const BdbRecord *cand = found->pdata[i];
			bdb_record_set_recipient (rec, cand->v[BDB_FIELD_RECIPIENT], "text");
			if (!rec->v[BDB_FIELD_DIAGNOSTIC])
				bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, cand->v[BDB_FIELD_DIAGNOSTIC], -1);
			if (!rec->v[BDB_FIELD_ACTION])
				bdb_record_set (rec, BDB_FIELD_ACTION, cand->v[BDB_FIELD_ACTION], -1);
		}
	}
	bdb_report_free (scratch);
}

/* The delivery-status block pasted into the text: a line that starts a
 * DSN field, followed somewhere by Action or Status. */
static const char *
find_embedded_status (const char *text)
{
	static const char *const starts[] = {
		"Reporting-MTA:", "Original-Recipient:", "Final-Recipient:",
	};
	const char *best = NULL;
	for (gsize i = 0; i < G_N_ELEMENTS (starts); i++) {
		const char *p = text;
		gsize n = strlen (starts[i]);
		while ((p = strstr (p, starts[i]))) {
			if (p == text || p[-1] == '\n' || p[-1] == '\r') {
				if (!best || p < best)
					best = p;
				break;
			}
			p += n;
		}
	}
	if (best && (strstr (best, "\nAction:") || strstr (best, "\nStatus:")))
		return best;
	return NULL;
}

gboolean
bdb_read_delivery_status (const BdbMessageView *view, BdbReport *report)
{
	g_autoptr (BdbFieldList) list = NULL;
	const char *extractor = "rfc3464";

	if (view->status_part) {
		g_autoptr (GByteArray) body = bdb_part_content (view->status_part, view->opts->max_part_size);
		list = bdb_field_list_parse ((const char *) body->data, body->len, 0);
	} else {
		/* Only in a bounce: a person may quote DSN fields in a mail. */
		const char *start = view->text && view->bounce_shaped ? find_embedded_status (view->text->str) : NULL;
		if (!start)
			return FALSE;
		list = bdb_field_list_parse (start, strlen (start), BDB_FIELDS_STOP_AT_MIME);
		extractor = "rfc3464-embedded";
	}
	read_fields (list, report);
	if (report->records->len == 0)
		return FALSE;
	fill_missing_recipients (view, report);
	/* A transcript's reply line says more than a paragraph that only
	 * names the recipient ("(expanded from: <a@b>)"). */
	if (view->text)
		fill_from_transcript (view->text->str, report);
	/* When the DSN block was read out of the text, the text has nothing
	 * more to say: its "paragraph" about a recipient is the block itself. */
	if (view->text && view->status_part)
		fill_from_text (view->text->str, report);
	bdb_report_set (report, BDB_FIELD_EXTRACTOR, extractor, -1);
	return TRUE;
}
