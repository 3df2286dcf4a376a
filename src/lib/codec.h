/* Versioned byte records: big-endian integers and length-prefixed strings,
 * read with a sticky error so a decoder checks once at the end.  The
 * layouts built from these are documented in doc/store-format.md.
 * Not installed. */
#ifndef BOUNCEDB_CODEC_H
#define BOUNCEDB_CODEC_H

#include <glib.h>

typedef struct {
	GByteArray *buf;
} BdbWriter;

void bdb_writer_init (BdbWriter *w);
void bdb_writer_clear (BdbWriter *w);
void bdb_put_u8 (BdbWriter *w, guint8 v);
void bdb_put_u16 (BdbWriter *w, guint16 v);
void bdb_put_u32 (BdbWriter *w, guint32 v);
void bdb_put_u64 (BdbWriter *w, guint64 v);
/* u16 length then bytes; NULL is written as length 0xFFFF.  Longer strings
 * are cut at 65534 bytes on a UTF-8 boundary. */
void bdb_put_str (BdbWriter *w, const char *s);

typedef struct {
	const guint8 *p;
	const guint8 *end;
	gboolean bad;   /* sticky: set on the first read past the end */
} BdbReader;

void bdb_reader_init (BdbReader *r, const void *data, gsize len);
guint8 bdb_get_u8 (BdbReader *r);
guint16 bdb_get_u16 (BdbReader *r);
guint32 bdb_get_u32 (BdbReader *r);
guint64 bdb_get_u64 (BdbReader *r);
/* A new string (g_free) or NULL for a NULL string or a bad read. */
char *bdb_get_str (BdbReader *r);
/* Copy into @out (size @size), truncating; "" for NULL. */
void bdb_get_str_into (BdbReader *r, char *out, gsize size);

#endif
