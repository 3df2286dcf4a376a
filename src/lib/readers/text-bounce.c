/* The text reader: bounces written for people, read by the first MTA
 * family that recognises the notice (notice.h).
 *
 * Order matters: families with evidence of their own (a JSON
 * notification, a list manager's headers) come first, then the MTA
 * families recognised by their fixed wording.  The first family that finds
 * a recipient wins; one that recognises its family but finds nobody lets
 * the next one try.  The generic layouts (generic.c: a labelled field, an
 * "<addr>:" paragraph, a list, X-Failed-Recipients) come after the general
 * reader (parse.c's table), which reads the same notices with evidence
 * and more care; they are the last resort.
 */
#include "notice.h"

static const BdbExtractor *const extractors[] = {
	&bdb_extractor_ses,
	&bdb_extractor_mailinglist,
	&bdb_extractor_exchange,
	&bdb_extractor_notes,
	&bdb_extractor_gmail,
	&bdb_extractor_qmail,
	&bdb_extractor_postfix,
	&bdb_extractor_exim,
	&bdb_extractor_sendmail,
	&bdb_extractor_gateway,
	&bdb_extractor_carrier_jp,
	NULL
};

static const BdbExtractor *const fallback[] = {
	&bdb_extractor_generic,
	NULL
};

static gboolean
read_with (const BdbExtractor *const *table, const BdbMessageView *view, BdbReport *report)
{
	if (!view->text || view->text->len == 0 || view->opts->readers == BDB_READERS_NO_LAYOUTS)
		return FALSE;
	for (gsize i = 0; table[i]; i++) {
		if (!table[i]->detect (view, report))
			continue;
		if (table[i]->extract (view, report)) {
			bdb_report_set (report, BDB_FIELD_EXTRACTOR, table[i]->name, -1);
			return TRUE;
		}
		/* Nothing usable: leave no half-read records to the next one. */
		g_ptr_array_set_size (report->records, 0);
	}
	return FALSE;
}

gboolean
bdb_read_text_bounce (const BdbMessageView *view, BdbReport *report)
{
	return read_with (extractors, view, report);
}

gboolean
bdb_read_text_fallback (const BdbMessageView *view, BdbReport *report)
{
	return read_with (fallback, view, report);
}

BdbReport *
bdb_read_text_records (const BdbMessageView *view, const BdbReport *report)
{
	static const BdbField copied[] = {
		BDB_FIELD_REPORT_FROM, BDB_FIELD_REPORT_SUBJECT, BDB_FIELD_ORIGINAL_FROM,
	};
	BdbReport *scratch = bdb_report_new ();
	for (gsize i = 0; i < G_N_ELEMENTS (copied); i++)
		bdb_report_set (scratch, copied[i], report->v[copied[i]], -1);
	for (guint i = 0; i < report->senders->len; i++)
		g_ptr_array_add (scratch->senders, (gpointer) bdb_report_intern (scratch, report->senders->pdata[i], -1));
	if (bdb_read_text_bounce (view, scratch) || bdb_read_general (view, scratch) ||
	    bdb_read_text_fallback (view, scratch))
		return scratch;
	bdb_report_free (scratch);
	return NULL;
}

