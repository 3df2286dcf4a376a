/* Versioned byte records; see codec.h. */
#include <string.h>
#include "codec.h"

#define STR_NULL 0xFFFFu
#define STR_MAX 0xFFFEu

void
bdb_writer_init (BdbWriter *w)
{
	w->buf = g_byte_array_sized_new (128);
}

void
bdb_writer_clear (BdbWriter *w)
{
	if (w->buf)
		g_byte_array_unref (w->buf);
	w->buf = NULL;
}

void
bdb_put_u8 (BdbWriter *w, guint8 v)
{
	g_byte_array_append (w->buf, &v, 1);
}

void
bdb_put_u16 (BdbWriter *w, guint16 v)
{
	guint8 b[2] = { (guint8) (v >> 8), (guint8) v };
	g_byte_array_append (w->buf, b, 2);
}

void
bdb_put_u32 (BdbWriter *w, guint32 v)
{
	guint8 b[4] = { (guint8) (v >> 24), (guint8) (v >> 16), (guint8) (v >> 8), (guint8) v };
	g_byte_array_append (w->buf, b, 4);
}

void
bdb_put_u64 (BdbWriter *w, guint64 v)
{
	bdb_put_u32 (w, (guint32) (v >> 32));
	bdb_put_u32 (w, (guint32) v);
}

void
bdb_put_str (BdbWriter *w, const char *s)
{
	if (!s) {
		bdb_put_u16 (w, STR_NULL);
		return;
	}
	gsize n = strlen (s);
	if (n > STR_MAX) {
		n = STR_MAX;
		while (n > 0 && ((guchar) s[n] & 0xC0) == 0x80)
			n--;
	}
	bdb_put_u16 (w, (guint16) n);
	g_byte_array_append (w->buf, (const guint8 *) s, (guint) n);
}

void
bdb_reader_init (BdbReader *r, const void *data, gsize len)
{
	r->p = data;
	r->end = r->p + len;
	r->bad = FALSE;
}

static gboolean
have (BdbReader *r, gsize n)
{
	if (r->bad || (gsize) (r->end - r->p) < n) {
		r->bad = TRUE;
		return FALSE;
	}
	return TRUE;
}

guint8
bdb_get_u8 (BdbReader *r)
{
	if (!have (r, 1))
		return 0;
	return *r->p++;
}

guint16
bdb_get_u16 (BdbReader *r)
{
	if (!have (r, 2))
		return 0;
	guint16 v = (guint16) ((r->p[0] << 8) | r->p[1]);
	r->p += 2;
	return v;
}

guint32
bdb_get_u32 (BdbReader *r)
{
	if (!have (r, 4))
		return 0;
	guint32 v = ((guint32) r->p[0] << 24) | ((guint32) r->p[1] << 16) |
	            ((guint32) r->p[2] << 8) | (guint32) r->p[3];
	r->p += 4;
	return v;
}

guint64
bdb_get_u64 (BdbReader *r)
{
	guint64 hi = bdb_get_u32 (r);
	return (hi << 32) | bdb_get_u32 (r);
}

char *
bdb_get_str (BdbReader *r)
{
	guint16 n = bdb_get_u16 (r);
	if (r->bad || n == STR_NULL)
		return NULL;
	if (!have (r, n))
		return NULL;
	char *s = g_strndup ((const char *) r->p, n);
	r->p += n;
	return s;
}

void
bdb_get_str_into (BdbReader *r, char *out, gsize size)
{
	guint16 n = bdb_get_u16 (r);
	out[0] = '\0';
	if (r->bad || n == STR_NULL || !have (r, n))
		return;
	gsize k = MIN ((gsize) n, size - 1);
	memcpy (out, r->p, k);
	out[k] = '\0';
	r->p += n;
}
