/* Header-style field blocks, read leniently: see fields.h. */
#include <string.h>
#include "fields.h"

static gsize
field_name_length (const char *line, gsize n)
{
	gsize i = 0;
	while (i < n && (g_ascii_isalnum (line[i]) || line[i] == '-' || line[i] == '_'))
		i++;
	if (i == 0 || i > 64)
		return 0;
	gsize j = i;
	while (j < n && (line[j] == ' ' || line[j] == '\t') && j - i < 2)
		j++;
	return j < n && line[j] == ':' ? i : 0;
}

static void
flush (BdbFieldList *list, GString *name, GString *value, gboolean *open)
{
	if (!*open)
		return;
	BdbStatusField f;
	g_strstrip (value->str);
	f.name = g_string_chunk_insert (list->chunk, name->str);
	f.value = g_string_chunk_insert (list->chunk, value->str);
	g_array_append_val (list->fields, f);
	*open = FALSE;
}

BdbFieldList *
bdb_field_list_parse (const char *text, gsize len, BdbFieldsFlags flags)
{
	BdbFieldList *list = g_new0 (BdbFieldList, 1);
	list->fields = g_array_new (FALSE, FALSE, sizeof (BdbStatusField));
	list->chunk = g_string_chunk_new (512);

	GString *name = g_string_new (NULL);
	GString *value = g_string_new (NULL);
	gboolean open = FALSE, last_blank = TRUE, seen_any = FALSE;
	/* (An empty GByteArray's data is NULL: no arithmetic on it.) */
	const char *p = text ? text : "", *end = text ? text + len : p;

	while (p < end) {
		const char *eol = p;
		while (eol < end && *eol != '\n' && *eol != '\r')
			eol++;
		gsize n = (gsize) (eol - p);
		const char *next = eol;
		if (next < end && *next == '\r')
			next++;
		if (next < end && *next == '\n')
			next++;

		gsize ws = 0;
		while (ws < n && (p[ws] == ' ' || p[ws] == '\t'))
			ws++;

		if (ws == n) {
			/* Blank line: a group boundary (collapsed when repeated). */
			flush (list, name, value, &open);
			if (!last_blank && seen_any) {
				BdbStatusField f = { NULL, NULL };
				g_array_append_val (list->fields, f);
			}
			last_blank = TRUE;
		} else if ((flags & BDB_FIELDS_STOP_AT_MIME) && seen_any &&
		           ((n >= 2 && p[0] == '-' && p[1] == '-') ||
		            (n >= 13 && g_ascii_strncasecmp (p, "Content-Type:", 13) == 0))) {
			break;
		} else if (ws > 0 && open) {
			g_string_append_c (value, ' ');
			g_string_append_len (value, p + ws, (gssize) (n - ws));
			last_blank = FALSE;
		} else {
			gsize nl = field_name_length (p, n);
			if (nl) {
				flush (list, name, value, &open);
				g_string_assign (name, "");
				g_string_append_len (name, p, (gssize) nl);
				const char *v = memchr (p, ':', n) + 1;
				g_string_assign (value, "");
				g_string_append_len (value, v, (gssize) (p + n - v));
				open = TRUE;
				seen_any = TRUE;
			} else if (open) {
				/* Unindented continuation (see fields.h). */
				g_string_append_c (value, ' ');
				g_string_append_len (value, p + ws, (gssize) (n - ws));
			}
			last_blank = FALSE;
		}
		p = next;
	}
	flush (list, name, value, &open);
	g_string_free (name, TRUE);
	g_string_free (value, TRUE);
	return list;
}

void
bdb_field_list_free (BdbFieldList *list)
{
	if (!list)
		return;
	g_array_unref (list->fields);
	g_string_chunk_free (list->chunk);
	g_free (list);
}

const char *
bdb_field_untype (const char *value, char type_out[32])
{
	const char *semi = strchr (value, ';');
	if (type_out)
		type_out[0] = '\0';
	if (!semi)
		return value;
	/* One token, spaces around it allowed: "dns; x", "RFC822 ;x". */
	const char *q = value;
	while (q < semi && *q == ' ')
		q++;
	const char *tok = q;
	while (q < semi && (g_ascii_isalnum (*q) || *q == '-' || *q == '_' || *q == '.'))
		q++;
	if (q == tok)
		return value;
	while (q < semi && *q == ' ')
		q++;
	if (q != semi)
		return value;
	if (type_out) {
		gsize n = MIN ((gsize) (semi - value), 31);
		memcpy (type_out, value, n);
		type_out[n] = '\0';
		g_strstrip (type_out);
	}
	semi++;
	while (*semi == ' ' || *semi == '\t')
		semi++;
	return semi;
}
