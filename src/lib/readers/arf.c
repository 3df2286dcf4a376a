/* RFC 5965 feedback (ARF) reports: a recipient complained.
 *
 * The complaining recipient is Original-Rcpt-To (one record per field, as
 * some providers batch them), else the returned original's To.  Providers
 * that redact the address leave neither; such a report names nobody and
 * is kept for a human rather than guessed at.
 */
#include <string.h>
#include <bouncedb/address.h>
#include "../fields.h"
#include "readers.h"
#include "../text.h"

static const struct {
	const char *name;
	BdbField field;
} arf_fields[] = {
	{ "Feedback-Type", BDB_FIELD_FEEDBACK_TYPE },
	{ "User-Agent", BDB_FIELD_USER_AGENT },
	{ "Arrival-Date", BDB_FIELD_ARRIVAL_DATE },
	{ "Received-Date", BDB_FIELD_ARRIVAL_DATE },
	{ "Source-IP", BDB_FIELD_SOURCE_IP },
	{ "Reported-Domain", BDB_FIELD_REPORTED_DOMAIN },
	{ "Reporting-MTA", BDB_FIELD_REPORTING_MTA },
};

/* The X-HmXmrOriginalRecipient of a message attached to a Microsoft JMRP
 * complaint (Outlook.com, Hotmail), or NULL.  Borrowed from the message. */
static const char *
jmrp_recipient (const BdbMessageView *view)
{
	return bdb_view_original_header (view, "X-HmXmrOriginalRecipient");
}

gboolean
bdb_read_feedback_report (const BdbMessageView *view, BdbReport *report)
{
	gboolean declared = view->report_type &&
	                    g_ascii_strcasecmp (view->report_type, "feedback-report") == 0;
	const char *jmrp = jmrp_recipient (view);
	if (!view->feedback_part && !declared && !jmrp)
		return FALSE;

	g_autoptr (GPtrArray) rcpts = g_ptr_array_new ();
	if (jmrp && !view->feedback_part) {
		/* Microsoft's Junk Mail Reporting Program: no ARF part; the
		 * complaining recipient is named in the attached message. */
		g_ptr_array_add (rcpts, (gpointer) jmrp);
		bdb_report_set (report, BDB_FIELD_FEEDBACK_TYPE, "abuse", -1);
	}
	g_autoptr (BdbFieldList) list = NULL;
	if (view->feedback_part) {
		g_autoptr (GByteArray) body = bdb_part_content (view->feedback_part, view->opts->max_part_size);
		list = bdb_field_list_parse ((const char *) body->data, body->len, 0);
		for (guint i = 0; i < list->fields->len; i++) {
			const BdbStatusField *f = &g_array_index (list->fields, BdbStatusField, i);
			if (!f->name)
				continue;
			if (g_ascii_strcasecmp (f->name, "Original-Rcpt-To") == 0) {
				g_ptr_array_add (rcpts, (gpointer) f->value);
				continue;
			}
			if (g_ascii_strcasecmp (f->name, "Original-Mail-From") == 0) {
				g_autofree char *a = bdb_address_normalize (f->value, BDB_ADDRESS_UNICODE_DOMAIN, NULL);
				bdb_report_set (report, BDB_FIELD_ORIGINAL_MAIL_FROM, a ? a : f->value, -1);
				continue;
			}
			gboolean known = FALSE;
			for (gsize k = 0; k < G_N_ELEMENTS (arf_fields); k++) {
				if (g_ascii_strcasecmp (f->name, arf_fields[k].name) == 0) {
					known = TRUE;
					if (!report->v[arf_fields[k].field]) {
						const char *v = arf_fields[k].field == BDB_FIELD_REPORTING_MTA
						                ? bdb_field_untype (f->value, NULL) : f->value;
						bdb_report_set (report, arf_fields[k].field, v, -1);
					}
				}
			}
			if (!known)
				bdb_report_add_extension (report, f->name, f->value);
		}
		if (report->v[BDB_FIELD_FEEDBACK_TYPE]) {
			g_autofree char *t = g_ascii_strdown (report->v[BDB_FIELD_FEEDBACK_TYPE], -1);
			bdb_report_set (report, BDB_FIELD_FEEDBACK_TYPE, t, -1);
		}
	}

	/* The human-readable part describes the complaint; keep its first
	 * line as the diagnostic. */
	const char *summary = NULL;
	gsize summary_len = 0;
	if (view->text && view->text->len)
		summary = bdb_text_first_line (view->text->str, &summary_len);

	for (guint i = 0; i < rcpts->len; i++) {
		BdbRecord *rec = bdb_report_add_record (report);
		if (!rec)
			break;
		bdb_record_set_recipient (rec, rcpts->pdata[i], "original-rcpt-to");
		bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, summary, (gssize) summary_len);
	}
	if (rcpts->len == 0 && report->v[BDB_FIELD_ORIGINAL_TO]) {
		BdbRecord *rec = bdb_report_add_record (report);
		if (rec) {
			bdb_record_set_recipient (rec, report->v[BDB_FIELD_ORIGINAL_TO], "original-to");
			bdb_record_set (rec, BDB_FIELD_DIAGNOSTIC, summary, (gssize) summary_len);
		}
	}
	bdb_report_set (report, BDB_FIELD_EXTRACTOR, "arf", -1);
	if (report->records->len == 0)
		bdb_report_set_problem (report, "feedback report names no recipient (redacted?)");
	return TRUE;
}
