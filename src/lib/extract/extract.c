/* The table of text extractors; see extract.h.  Order matters: the most
 * specific families come first, the generic readers last. */
#include "extract.h"

static const BdbExtractor *const extractors[] = {
	NULL
};

gboolean
bdb_extract_text_bounce (const BdbMessageView *view, BdbReport *report)
{
	for (gsize i = 0; extractors[i]; i++) {
		if (!extractors[i]->detect (view, report))
			continue;
		if (extractors[i]->extract (view, report)) {
			bdb_report_set (report, BDB_FIELD_EXTRACTOR, extractors[i]->name, -1);
			return TRUE;
		}
	}
	return FALSE;
}
