/* Header-style field blocks ("Name: value", folded, blank-line separated),
 * the syntax of message/delivery-status and message/feedback-report.
 * Not installed. */
#ifndef BOUNCEDB_FIELDS_H
#define BOUNCEDB_FIELDS_H

#include <glib.h>

typedef struct {
	const char *name;   /* NULL marks a blank line (a group boundary) */
	const char *value;  /* unfolded, trimmed; "" when empty */
} BdbStatusField;

typedef struct {
	GArray *fields;       /* BdbStatusField, in order */
	GStringChunk *chunk;  /* owns names and values */
} BdbFieldList;

typedef enum {
	/* Text cut out of a human-readable part: stop at a MIME boundary or
	 * the headers of the returned message. */
	BDB_FIELDS_STOP_AT_MIME = 1 << 0,
} BdbFieldsFlags;

/* Split @len bytes of @text into fields.  Lines that are not "Name: value"
 * and not indented are taken as continuations of the field before them:
 * real MTAs fold long diagnostics without indenting them.  CR, LF and CRLF
 * line ends are all accepted.  Free with bdb_field_list_free(). */
BdbFieldList *bdb_field_list_parse (const char *text, gsize len, BdbFieldsFlags flags);
void bdb_field_list_free (BdbFieldList *list);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BdbFieldList, bdb_field_list_free)

/* The value after an RFC 3464 type ("dns; mx.example" -> "mx.example"),
 * pointing into @value.  @type_out, when not NULL, gets the type (up to
 * 31 bytes) or "". */
const char *bdb_field_untype (const char *value, char type_out[32]);

#endif
