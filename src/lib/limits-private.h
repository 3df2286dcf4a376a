/* Limits on hostile input, checked on the raw bytes before GMime builds
 * anything, and the parse options that set them.  Not installed.
 *
 * Layering: the bottom of the parse side, below the report model; called
 * by parse.c. */
#ifndef BOUNCEDB_LIMITS_PRIVATE_H
#define BOUNCEDB_LIMITS_PRIVATE_H

#include <bouncedb/report.h>

#define DEFAULT_MAX_MESSAGE_SIZE (64u << 20)
#define DEFAULT_MAX_RECIPIENTS 1000u
#define DEFAULT_MAX_DEPTH 16u
#define DEFAULT_MAX_HEADER_SIZE (1u << 20)
#define DEFAULT_MAX_PART_SIZE (4u << 20)
#define DEFAULT_MAX_LINE_LENGTH (64u << 10)
#define DEFAULT_MAX_HEADERS 10000u
#define DEFAULT_MAX_PARTS 1000u
#define DEFAULT_MAX_ADDRESS_BYTES (8u << 10)

/* @given with every missing or zero option set to its default. */
BdbParseOptions bdb_limits_effective (const BdbParseOptions *given);
/* FALSE; or TRUE with @error when @len is over max_message_size. */
gboolean bdb_limits_too_large (guint64 len, const BdbParseOptions *o, GError **error);

/* GMime turns every header field into an object and every part into a
 * few: a message of tiny headers or empty parts would cost a hundred
 * times its size, and deep nesting as much time.  So the limits on
 * headers and parts are checked here, in one pass over the bytes before
 * GMime sees them, and generously: every block that GMime may read as
 * headers is counted (the message's; the block after each line starting
 * with "--", which may be a boundary; the body of a part whose
 * Content-Type is an attached message or a headers part, and of every
 * part once a multipart/digest is declared, whose untyped parts are
 * messages), every line of such a block that is not blank or indented as
 * a field, and every "--" line as a part.  Lines end at LF, as GMime's. */
typedef struct {
	const BdbParseOptions *opts;
	GError *error;
	guint headers, parts;
	gboolean digest;          /* a multipart/digest was declared */
	/* the block being read */
	gboolean in_header;       /* it is read as headers */
	gboolean after_dashes;    /* it follows a "--" line: a part's headers */
	gboolean top_headers;     /* it is the message's own header block */
	gboolean body_is_header;  /* its Content-Type makes the next block headers */
	gsize block_bytes;
	/* the line being read */
	gsize line_len;
	char first[2];            /* its first bytes */
	char last;                /* its last byte */
	enum { LINE_START, LINE_NAME, LINE_VALUE, LINE_OTHER } state;
	char name[16];            /* its field name, lowercased (if short) */
	guint name_len;
	gboolean name_done;       /* spaces after the name: only ':' may follow */
	gboolean in_address;      /* the line is, or continues, an address field */
	gsize address_bytes;      /* in the top header's address fields so far */
	gboolean in_type;         /* the line is, or continues, a Content-Type field */
	char type[64];            /* its value: comments out, spaces collapsed */
	gsize type_len;
	guint comment;            /* nesting of (comments) in it */
	gboolean escape;
} BdbScan;

void bdb_scan_init (BdbScan *sc, const BdbParseOptions *o);
/* Feed the next @n bytes; sc->error is set once a limit is exceeded. */
void bdb_scan_feed (BdbScan *sc, const char *p, gsize n);
/* TRUE when no limit was exceeded; else FALSE with the limit's error. */
gboolean bdb_scan_finish (BdbScan *sc, GError **error);

#endif
