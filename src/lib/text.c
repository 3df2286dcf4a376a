/* Helpers for human-readable bounce text; see text.h. */
#include <string.h>
#include "text.h"

const char *
bdb_text_find_nocase (const char *haystack, const char *needle)
{
	gsize n = strlen (needle);
	if (n == 0)
		return haystack;
	for (const char *p = haystack; *p; p++)
		if (g_ascii_strncasecmp (p, needle, n) == 0)
			return p;
	return NULL;
}

static gboolean
blank_line_at (const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	return *p == '\n' || *p == '\0';
}

char *
bdb_text_paragraph_with (const char *text, const char *address, gsize limit)
{
	if (!text || !address || !*address)
		return NULL;
	const char *hit = bdb_text_find_nocase (text, address);
	if (!hit)
		return NULL;
	const char *start = hit;
	while (start > text && start[-1] != '\n')
		start--;
	const char *end = hit;
	for (;;) {
		const char *nl = strchr (end, '\n');
		if (!nl) {
			end += strlen (end);
			break;
		}
		end = nl + 1;
		if (blank_line_at (end) || (gsize) (end - start) >= limit)
			break;
	}
	gsize n = MIN ((gsize) (end - start), limit);
	return g_strndup (start, n);
}
