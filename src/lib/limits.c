/* Limits on hostile input, on the raw bytes; see limits.h. */
#include <stdarg.h>
#include <string.h>
#include <bouncedb/error.h>
#include "limits-private.h"

void
bdb_parse_options_init (BdbParseOptions *opts)
{
	memset (opts, 0, sizeof *opts);
	opts->max_message_size = DEFAULT_MAX_MESSAGE_SIZE;
	opts->max_recipients = DEFAULT_MAX_RECIPIENTS;
	opts->max_depth = DEFAULT_MAX_DEPTH;
	opts->max_header_size = DEFAULT_MAX_HEADER_SIZE;
	opts->max_part_size = DEFAULT_MAX_PART_SIZE;
	opts->max_line_length = DEFAULT_MAX_LINE_LENGTH;
	opts->max_headers = DEFAULT_MAX_HEADERS;
	opts->max_parts = DEFAULT_MAX_PARTS;
	opts->max_address_bytes = DEFAULT_MAX_ADDRESS_BYTES;
}

/* Missing or zero options take their defaults. */
BdbParseOptions
bdb_limits_effective (const BdbParseOptions *given)
{
	BdbParseOptions o;
	bdb_parse_options_init (&o);
	if (given) {
		if (given->max_message_size)
			o.max_message_size = given->max_message_size;
		if (given->max_recipients)
			o.max_recipients = given->max_recipients;
		if (given->max_depth)
			o.max_depth = given->max_depth;
		if (given->max_header_size)
			o.max_header_size = given->max_header_size;
		if (given->max_part_size)
			o.max_part_size = given->max_part_size;
		if (given->max_line_length)
			o.max_line_length = given->max_line_length;
		if (given->max_headers)
			o.max_headers = given->max_headers;
		if (given->max_parts)
			o.max_parts = given->max_parts;
		if (given->max_address_bytes)
			o.max_address_bytes = given->max_address_bytes;
		o.keep_headers = given->keep_headers;
		o.verp_bases = given->verp_bases;
		o.readers = given->readers;
	}
	return o;
}



static void G_GNUC_PRINTF (2, 3)
scan_fail (BdbScan *sc, const char *fmt, ...)
{
	va_list ap;
	va_start (ap, fmt);
	g_autofree char *msg = g_strdup_vprintf (fmt, ap);
	va_end (ap);
	if (!sc->error)
		g_set_error_literal (&sc->error, BDB_ERROR, BDB_ERROR_LIMIT, msg);
}

static gboolean
type_token_is (const char **p, const char *want)
{
	const char *s = *p;
	while (**p && (guchar) **p > ' ' && (guchar) **p < 0x7f && !strchr ("()<>@,;:\\\"/[]?=", **p))
		(*p)++;
	gsize n = (gsize) (*p - s);
	return n == strlen (want) && g_ascii_strncasecmp (s, want, n) == 0;
}

/* Does the collected Content-Type value say @type/@subtype? */
static gboolean
type_is_value (const char *v, const char *type, const char *subtype)
{
	while (*v == ' ')
		v++;
	if (!type_token_is (&v, type))
		return FALSE;
	while (*v == ' ')
		v++;
	if (*v++ != '/')
		return FALSE;
	while (*v == ' ')
		v++;
	return type_token_is (&v, subtype);
}

static void
scan_check_type (BdbScan *sc)
{
	static const char *const headers_types[][2] = {
		{ "message", "rfc822" }, { "message", "global" }, { "message", "news" },
		{ "text", "rfc822-headers" }, { "message", "rfc822-headers" },
		{ "message", "global-headers" },
	};
	sc->type[sc->type_len] = '\0';
	for (gsize i = 0; i < G_N_ELEMENTS (headers_types); i++)
		if (type_is_value (sc->type, headers_types[i][0], headers_types[i][1]))
			sc->body_is_header = TRUE;
	if (type_is_value (sc->type, "multipart", "digest"))
		sc->digest = TRUE;
}

static void
scan_type_byte (BdbScan *sc, char c)
{
	if (sc->comment) {
		if (sc->escape)
			sc->escape = FALSE;
		else if (c == '\\')
			sc->escape = TRUE;
		else if (c == '(')
			sc->comment++;
		else if (c == ')')
			sc->comment--;
		return;
	}
	if (c == '(') {
		sc->comment = 1;
	} else if (c == ' ' || c == '\t' || c == '\r') {
		if (sc->type_len && sc->type[sc->type_len - 1] != ' ' && sc->type_len + 1 < sizeof sc->type)
			sc->type[sc->type_len++] = ' ';
	} else if (sc->type_len + 1 < sizeof sc->type) {
		sc->type[sc->type_len++] = c;
	}
}

/* GMime parses these fields of the message's own headers into address
 * lists, in time that grows with the square of a hostile value's length
 * ("x,x,x..." or '"x","x",...': 8 KB cost 0.2 s, 16 KB 0.9 s, 160 KB
 * 34 s): their size is limited (max_address_bytes).  An attached message
 * is a plain part to GMime (init_gmime()) and we read only the first
 * element of its lists (first_list_element()): nothing to limit there. */
static gboolean
is_address_field (const char *name)
{
	static const char *const names[] = { "from", "to", "cc", "bcc", "sender", "reply-to" };
	for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
		if (strcmp (name, names[i]) == 0)
			return TRUE;
	return FALSE;
}

static void
scan_address_byte (BdbScan *sc)
{
	if (++sc->address_bytes > sc->opts->max_address_bytes)
		scan_fail (sc, "the address fields (From, To, Cc, ...) are larger than %" G_GSIZE_FORMAT
		           " bytes (max_address_bytes)", sc->opts->max_address_bytes);
}

/* The field name is read: is it one we follow? */
static void
scan_field_starts (BdbScan *sc)
{
	sc->name[sc->name_len] = '\0';
	sc->state = LINE_VALUE;
	sc->in_address = sc->top_headers && is_address_field (sc->name);
	if (strcmp (sc->name, "content-type") == 0) {
		sc->in_type = TRUE;
		sc->type_len = 0;
		sc->comment = 0;
		sc->escape = FALSE;
	}
}

/* One byte of a header block's line (not the LF). */
static void
scan_header_byte (BdbScan *sc, char c)
{
	switch (sc->state) {
	case LINE_START:
		if (c == ' ' || c == '\t') {
			/* A continuation line: it goes on with the field before. */
			sc->state = LINE_VALUE;
			if (sc->in_type)
				scan_type_byte (sc, ' ');
			if (sc->in_address)
				scan_address_byte (sc);
			return;
		}
		sc->in_type = FALSE;
		sc->in_address = FALSE;
		sc->state = LINE_NAME;
		sc->name_len = 0;
		sc->name_done = FALSE;
		/* fall through */
	case LINE_NAME:
		if (c == ':')
			scan_field_starts (sc);
		else if (c == ' ' || c == '\t')
			sc->name_done = TRUE;  /* "Content-Type :" */
		else if (sc->name_done || sc->name_len + 1 >= sizeof sc->name)
			sc->state = LINE_OTHER;  /* not a field we follow */
		else
			sc->name[sc->name_len++] = g_ascii_tolower (c);
		return;
	case LINE_VALUE:
		if (sc->in_type)
			scan_type_byte (sc, c);
		if (sc->in_address)
			scan_address_byte (sc);
		return;
	case LINE_OTHER:
		return;
	}
}

static void
scan_new_block (BdbScan *sc, gboolean in_header, gboolean after_dashes)
{
	sc->in_header = in_header;
	sc->after_dashes = after_dashes;
	sc->top_headers = FALSE;
	sc->body_is_header = FALSE;
	sc->block_bytes = 0;
	sc->in_type = FALSE;
	sc->in_address = FALSE;
}

static void
scan_line_end (BdbScan *sc)
{
	const BdbParseOptions *o = sc->opts;
	gsize len = sc->line_len - (sc->line_len && sc->last == '\r' ? 1 : 0);
	gboolean dashes = sc->line_len >= 2 && sc->first[0] == '-' && sc->first[1] == '-';

	if (dashes && ++sc->parts > o->max_parts)
		scan_fail (sc, "more than %u MIME parts (lines starting with \"--\"; max_parts)", o->max_parts);
	if (sc->in_header) {
		if (len == 0) {
			/* The end of a header block; is the body headers too? */
			scan_new_block (sc, sc->body_is_header || (sc->digest && sc->after_dashes), FALSE);
		} else {
			/* A continuation line adds to its field, not a field. */
			gboolean field = sc->first[0] != ' ' && sc->first[0] != '\t';
			if (field && ++sc->headers > o->max_headers)
				scan_fail (sc, "more than %u header fields (max_headers)", o->max_headers);
			if (++sc->block_bytes > o->max_header_size)
				scan_fail (sc, "a header block is larger than %" G_GSIZE_FORMAT " bytes (max_header_size)",
				           o->max_header_size);
			if (sc->in_type)
				scan_check_type (sc);
		}
	} else if (dashes) {
		scan_new_block (sc, TRUE, TRUE);
	}
	sc->line_len = 0;
	sc->state = LINE_START;
}

/* Past its first bytes, the rest of a header line matters only by its
 * length when it is not a field the scan follows (most are: Received,
 * DKIM-Signature, Subject...). */
static gboolean
scan_skippable (const BdbScan *sc)
{
	return sc->state == LINE_OTHER || (sc->state == LINE_VALUE && !sc->in_type && !sc->in_address);
}

/* Take the rest of such a line up to its LF (not included) at once: the
 * same counts, and the same first limit exceeded, as byte by byte. */
static const char *
scan_rest_of_line (BdbScan *sc, const char *p, const char *end)
{
	const BdbParseOptions *o = sc->opts;
	const char *nl = memchr (p, '\n', (gsize) (end - p));
	gsize k = (gsize) ((nl ? nl : end) - p);  /* > 0: *p is not the LF */
	/* The byte at which each limit would first be passed (1-based). */
	gsize line_at = o->max_line_length >= sc->line_len ? o->max_line_length - sc->line_len + 1 : 1;
	gsize block_at = o->max_header_size >= sc->block_bytes ? o->max_header_size - sc->block_bytes + 1 : 1;
	if (line_at <= k && line_at <= block_at)
		scan_fail (sc, "a header line is longer than %" G_GSIZE_FORMAT " bytes (max_line_length)",
		           o->max_line_length);
	else if (block_at <= k)
		scan_fail (sc, "a header block is larger than %" G_GSIZE_FORMAT " bytes (max_header_size)",
		           o->max_header_size);
	sc->line_len += k;
	sc->block_bytes += k;
	sc->last = p[k - 1];
	return p + k;
}

void
bdb_scan_feed (BdbScan *sc, const char *p, gsize n)
{
	const BdbParseOptions *o = sc->opts;
	const char *end = p + n;
	while (p < end && !sc->error) {
		if (!sc->in_header) {
			/* A body line: only its first two bytes matter. */
			const char *nl = memchr (p, '\n', (gsize) (end - p));
			const char *stop = nl ? nl : end;
			const char *q = p;
			for (; q < stop && sc->line_len < 2; q++)
				sc->first[sc->line_len++] = *q;
			sc->line_len += (gsize) (stop - q);
			if (stop > p)
				sc->last = stop[-1];
			if (!nl)
				return;
			scan_line_end (sc);
			p = nl + 1;
			continue;
		}
		if (sc->line_len >= 2 && *p != '\n' && scan_skippable (sc)) {
			p = scan_rest_of_line (sc, p, end);
			continue;
		}
		char c = *p++;
		if (c == '\n') {
			scan_line_end (sc);
			continue;
		}
		if (sc->line_len < 2)
			sc->first[sc->line_len] = c;
		sc->line_len++;
		sc->last = c;
		if (sc->line_len > o->max_line_length)
			scan_fail (sc, "a header line is longer than %" G_GSIZE_FORMAT " bytes (max_line_length)",
			           o->max_line_length);
		if (++sc->block_bytes > o->max_header_size)
			scan_fail (sc, "a header block is larger than %" G_GSIZE_FORMAT " bytes (max_header_size)",
			           o->max_header_size);
		scan_header_byte (sc, c);
	}
}

void
bdb_scan_init (BdbScan *sc, const BdbParseOptions *o)
{
	memset (sc, 0, sizeof *sc);
	sc->opts = o;
	sc->in_header = TRUE;  /* the message's own headers */
	sc->top_headers = TRUE;
	sc->state = LINE_START;
}

/* After the last chunk: FALSE with @error set (BDB_ERROR_LIMIT, naming
 * the limit) when the message exceeds one. */
gboolean
bdb_scan_finish (BdbScan *sc, GError **error)
{
	if (!sc->error && sc->line_len)
		scan_line_end (sc);
	if (sc->error) {
		g_propagate_error (error, sc->error);
		sc->error = NULL;
		return FALSE;
	}
	return TRUE;
}


gboolean
bdb_limits_too_large (guint64 len, const BdbParseOptions *o, GError **error)
{
	/* (GMime's streams count in guint: 4 GiB is the end whatever the
	 * configuration says.) */
	if (len <= o->max_message_size && len <= G_MAXUINT)
		return FALSE;
	g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
	             "message of %" G_GUINT64_FORMAT " bytes is larger than %" G_GSIZE_FORMAT
	             " bytes (max_message_size)", len, o->max_message_size);
	return TRUE;
}

