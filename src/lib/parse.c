/* Reading one message into a BdbReport: the public entry points.
 *
 * Bytes come from memory, a regular file (read in place, never whole) or
 * a pipe; the limits are checked on them (limits.c) before GMime builds
 * its tree; the view (view.c) notes what a reader needs; the reader table
 * below picks the reader; the records are finished (diag.c) and the
 * message's fingerprint computed.
 *
 * Memory: GMime's parser references the message instead of copying it
 * (persistent stream: a buffer in memory, or a file read in place), and
 * everything the report keeps is copied into one string chunk, so freeing
 * a report is cheap and the GMime object tree does not outlive the parse.
 */
#include <errno.h>
#include <fcntl.h>
#include <nettle/sha2.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bouncedb/error.h>
#include "error-private.h"
#include "diag.h"
#include "limits-private.h"
#include "view.h"
#include "forward.h"
#include "readers/readers.h"

/* Where the bytes of the message are: in memory, or in a regular file
 * read with pread(2), so that a large message is never held whole. */
typedef struct {
	const char *data;
	gsize len;
	int fd;  /* when data is NULL */
} Source;

/* The body starts after the first empty line (a "\n\n" or "\n\r\n"; the
 * body includes that line): headers added in transit (Received,
 * Delivered-To) must not change the identity.  Fed in chunks. */
typedef struct {
	struct sha256_ctx ck;
	gboolean in_body;
	char prev1, prev2;  /* the last two bytes before the body */
} Fingerprint;

static void
fingerprint_feed (Fingerprint *fp, const char *p, gsize n)
{
	for (gsize k = 0; k < n && !fp->in_body; k++) {
		char c = p[k];
		if (c == '\n' && (fp->prev1 == '\n' || (fp->prev1 == '\r' && fp->prev2 == '\n'))) {
			fp->in_body = TRUE;
			if (fp->prev1 == '\r')
				sha256_update (&fp->ck, 1, (const uint8_t *) "\r");
			p += k;
			n -= k;
			break;
		}
		fp->prev2 = fp->prev1;
		fp->prev1 = c;
	}
	if (fp->in_body)
		sha256_update (&fp->ck, n, (const uint8_t *) p);
}

static void
compute_fingerprint (BdbReport *report, const Source *src)
{
	Fingerprint fp = { .in_body = FALSE };
	sha256_init (&fp.ck);
	const char *mid = report->v[BDB_FIELD_MESSAGE_ID];
	const char *date = report->v[BDB_FIELD_DATE];
	mid = mid ? mid : "";
	date = date ? date : "";
	sha256_update (&fp.ck, strlen (mid), (const uint8_t *) mid);
	sha256_update (&fp.ck, 1, (const uint8_t *) "\n");
	sha256_update (&fp.ck, strlen (date), (const uint8_t *) date);
	sha256_update (&fp.ck, 1, (const uint8_t *) "\n");
	if (src->data) {
		fingerprint_feed (&fp, src->data, src->len);
	} else {
		/* The file was read twice already; a read error here would
		 * only shorten what is hashed. */
		char buf[65536];
		off_t off = 0;
		for (;;) {
			ssize_t n = pread (src->fd, buf, sizeof buf, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			fingerprint_feed (&fp, buf, (gsize) n);
			off += n;
		}
	}
	G_STATIC_ASSERT (sizeof report->fingerprint == SHA256_DIGEST_SIZE);
	sha256_digest (&fp.ck, SHA256_DIGEST_SIZE, report->fingerprint);
}

static gpointer
init_gmime (gpointer unused)
{
	g_mime_init ();
	/* A report needs only the headers of the message it returns.  GMime
	 * would parse an attached message whole (every part of a newsletter,
	 * each header an object: a fifth of parsing a typical bounce); as a
	 * plain part it stays bytes that the view reads the headers of.  This
	 * is GMime's process-wide type table (report.h). */
	bdb_view_register_types ();
	return NULL;
}

static void
ensure_gmime (void)
{
	static GOnce once = G_ONCE_INIT;
	g_once (&once, init_gmime, NULL);
}

/* The readers, in order: the standard reports first (a well-formed
 * report is never read by a heuristic), then the bounces written for
 * people (by the layouts of the MTA families, then by the general reader
 * of failure notices, then by the generic layouts as a last resort), then
 * the messages that are not bounces but say something about a recipient.
 * The first reader that recognises its format wins.
 * BDB_READERS_NO_LAYOUTS leaves the layouts out (text-bounce.c). */
static const BdbReportReader readers[] = {
	{ "delivery-status", BDB_KIND_DSN, bdb_read_delivery_status },
	{ "feedback-report", BDB_KIND_ARF, bdb_read_feedback_report },
	{ "text-bounce", BDB_KIND_DSN, bdb_read_text_bounce },
	{ "general", BDB_KIND_DSN, bdb_read_general },
	{ "text-fallback", BDB_KIND_DSN, bdb_read_text_fallback },
	{ "unsubscribe", BDB_KIND_ARF, bdb_read_unsubscribe },
	{ "autoreply", BDB_KIND_AUTOREPLY, bdb_read_autoreply },
	{ "verp", BDB_KIND_DSN, bdb_read_verp },
};

static void
finish_records (BdbReport *report)
{
	for (guint i = 0; i < report->records->len; i++)
		bdb_diag_finish_record (report->records->pdata[i]);
}

static BdbReport *parse_memory (const char *data, gsize len, const BdbParseOptions *opts,
                                guint depth, GError **error);

/* A message that is not a bounce itself but forwards one (a person
 * passing a bounce on): read the forwarded message as a report of its
 * own, and keep its records when it is a delivery report.  Only at the
 * top level: a forward of a forward is left to a person. */
static void
read_forwarded (const BdbMessageView *view, BdbReport *report, const BdbParseOptions *opts)
{
	BdbForwardKind how;
	g_autoptr (GBytes) inner = bdb_forwarded_message (view, &how);
	if (!inner)
		return;
	gsize len;
	const char *data = g_bytes_get_data (inner, &len);
	GError *error = NULL;
	BdbReport *r = parse_memory (data ? data : "", len, opts, 1, &error);
	g_clear_error (&error);
	if (r && r->kind == BDB_KIND_DSN)
		bdb_report_adopt_forwarded (report, r, how, view);
	bdb_report_free (r);
}

/* Parse @stream with @parser when given (a reused one, see ThreadReader),
 * else with a parser of its own.  @depth is 0 for the message itself, 1
 * for a message it forwards. */
static BdbReport *
parse_stream (GMimeStream *stream, GMimeParser *reused, const Source *src,
              const BdbParseOptions *given, guint depth, GError **error)
{
	BdbParseOptions opts = bdb_limits_effective (given);
	GMimeParser *parser = reused ? reused : g_mime_parser_new ();
	g_mime_parser_init_with_stream (parser, stream);
	g_mime_parser_set_persist_stream (parser, TRUE);
	g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
	GMimeMessage *msg = g_mime_parser_construct_message (parser, NULL);
	if (!reused)
		g_object_unref (parser);
	if (!msg) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_PARSE, "not an email message");
		return NULL;
	}
	BdbReport *report = bdb_report_new ();
	report->max_recipients = opts.max_recipients;
	BdbMessageView view;
	if (!bdb_view_init (&view, msg, &opts, report, error)) {
		bdb_view_clear (&view);
		g_object_unref (msg);
		bdb_report_free (report);
		return NULL;
	}
	compute_fingerprint (report, src);

	for (gsize i = 0; i < G_N_ELEMENTS (readers); i++) {
		if (readers[i].read (&view, report)) {
			report->kind = readers[i].kind;
			break;
		}
	}
	if (report->kind == BDB_KIND_NONE && !view.bounce_shaped && depth == 0)
		read_forwarded (&view, report, &opts);
	bdb_report_drop_empty_records (report);
	finish_records (report);
	if (report->kind != BDB_KIND_NONE && report->records->len == 0) {
		bdb_report_set_problem (report, "the report names no recipient that could be read");
		report->kind = BDB_KIND_NONE;
	} else if (report->kind == BDB_KIND_NONE && view.bounce_shaped) {
		bdb_report_set_problem (report, "looks like a bounce, but no recipient could be read");
	}
	bdb_view_clear (&view);
	g_object_unref (msg);
	if (report->truncated) {
		g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
		             "report names more than %u recipients (max_recipients)", opts.max_recipients);
		bdb_report_free (report);
		return NULL;
	}
	static const char *const kind_names[] = {
		[BDB_KIND_NONE] = NULL, [BDB_KIND_DSN] = "dsn",
		[BDB_KIND_ARF] = "arf", [BDB_KIND_AUTOREPLY] = "autoreply",
	};
	bdb_report_set (report, BDB_FIELD_KIND, kind_names[report->kind], -1);
	return report;
}

/* Old Mac tools store mail with bare CR line ends, which GMime reads as
 * one endless line: such a message (no LF in its first 8 KiB) is read
 * with CRs turned into LFs (doc/VIOLATIONS.md). */
static gboolean
cr_line_ends (const char *data, gsize len)
{
	gsize n = MIN (len, (gsize) 8192);
	return len && !memchr (data, '\n', n) && memchr (data, '\r', n);
}

/* The limits, then GMime, on a message in memory (@data stays valid and
 * unchanged until this returns); @stream reads @data. */
static BdbReport *
parse_buffer (const char *data, gsize len, GMimeStream *stream, GMimeParser *parser,
              const BdbParseOptions *o, const BdbParseOptions *opts, guint depth, GError **error)
{
	BdbScan sc;
	bdb_scan_init (&sc, o);
	bdb_scan_feed (&sc, data, len);
	if (!bdb_scan_finish (&sc, error))
		return NULL;
	Source src = { data, len, -1 };
	return parse_stream (stream, parser, &src, opts, depth, error);
}

static void
lf_for_cr (char *data, gsize len)
{
	for (char *p = memchr (data, '\r', len); p; p = memchr (p, '\r', len - (gsize) (p - data)))
		*p = '\n';
}

static BdbReport *
parse_memory (const char *data, gsize len, const BdbParseOptions *opts, guint depth, GError **error)
{
	BdbParseOptions o = bdb_limits_effective (opts);

	ensure_gmime ();
	if (bdb_limits_too_large (len, &o, error))
		return NULL;
	g_autofree char *lf = NULL;
	if (cr_line_ends (data, len)) {
		lf = g_memdup2 (data, len);
		lf_for_cr (lf, len);
		data = lf;
	}
	/* g_mime_stream_mem_new_with_buffer() would copy the message: lend
	 * it instead (GMime only reads it; nothing of the stream outlives
	 * parse_stream()), so memory is the caller's buffer, not twice it. */
	GByteArray *lent = g_byte_array_new_take ((guint8 *) data, len);
	GMimeStream *stream = g_mime_stream_mem_new_with_byte_array (lent);
	g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (stream), FALSE);
	BdbReport *r = parse_buffer (data, len, stream, NULL, &o, opts, depth, error);
	g_object_unref (stream);
	g_byte_array_free (lent, FALSE);  /* the bytes stay the caller's */
	return r;
}

BdbReport *
bdb_report_parse_bytes (const char *data, gsize len, const BdbParseOptions *opts, GError **error)
{
	return parse_memory (data, len, opts, 0, error);
}

/* The usual bounce is a few kilobytes.  Such a file is read whole, with
 * one read, into a buffer its thread keeps, and parsed by a GMime parser
 * its thread keeps: reading once instead of three times (limits, GMime,
 * fingerprint) saves the system calls, and a new parser costs an eighth
 * of parsing a small message (bench/README.md).  Larger files take the
 * streaming path, so a thread never keeps more than WHOLE_READ_MAX. */
#define WHOLE_READ_MAX (1u << 20)

typedef struct {
	GByteArray *buf;
	GMimeStream *stream;  /* reads buf, owns it */
	GMimeParser *parser;  /* holds a reference on stream between parses */
} ThreadReader;

static void
thread_reader_free (gpointer data)
{
	ThreadReader *tr = data;
	g_object_unref (tr->parser);
	g_object_unref (tr->stream);
	g_free (tr);
}

static GPrivate thread_reader_key = G_PRIVATE_INIT (thread_reader_free);

static ThreadReader *
thread_reader (void)
{
	ThreadReader *tr = g_private_get (&thread_reader_key);
	if (!tr) {
		tr = g_new0 (ThreadReader, 1);
		tr->buf = g_byte_array_sized_new (64u << 10);
		tr->stream = g_mime_stream_mem_new_with_byte_array (tr->buf);
		tr->parser = g_mime_parser_new ();
		g_private_set (&thread_reader_key, tr);
	}
	return tr;
}

static BdbReport *
parse_small_file (int fd, gsize size, const BdbParseOptions *opts, const BdbParseOptions *o,
                  GError **error)
{
	ThreadReader *tr = thread_reader ();
	g_byte_array_set_size (tr->buf, (guint) size);
	gsize got = 0;
	while (got < size) {
		ssize_t n = pread (fd, tr->buf->data + got, size - got, (off_t) got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bdb_set_errno_error (error, errno, "read failed");
			return NULL;
		}
		if (n == 0)
			break;  /* shortened since fstat(): parse what is there */
		got += (gsize) n;
	}
	g_byte_array_set_size (tr->buf, (guint) got);
	char *data = (char *) tr->buf->data;
	if (cr_line_ends (data, got))
		lf_for_cr (data, got);
	g_mime_stream_reset (tr->stream);
	return parse_buffer (data, got, tr->stream, tr->parser, o, opts, 0, error);
}

/* Read all of @fd (a pipe) into memory, at most one byte past the limit. */
static BdbReport *
parse_pipe (int fd, const BdbParseOptions *opts, const BdbParseOptions *o, GError **error)
{
	GByteArray *buf = g_byte_array_new ();
	char chunk[65536];
	for (;;) {
		ssize_t n = read (fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bdb_set_errno_error (error, errno, "read failed");
			g_byte_array_unref (buf);
			return NULL;
		}
		if (n == 0)
			break;
		g_byte_array_append (buf, (const guint8 *) chunk, (guint) n);
		if (buf->len > o->max_message_size) {
			g_set_error (error, BDB_ERROR, BDB_ERROR_LIMIT,
			             "message is larger than %" G_GSIZE_FORMAT " bytes (max_message_size)",
			             o->max_message_size);
			g_byte_array_unref (buf);
			return NULL;
		}
	}
	BdbReport *r = bdb_report_parse_bytes ((const char *) buf->data, buf->len, opts, error);
	g_byte_array_unref (buf);
	return r;
}

/* A regular file is never held whole: the limits are checked reading it
 * in chunks, GMime reads it through a file stream and keeps offsets, not
 * copies, and the fingerprint is computed reading it once more.  Memory
 * follows what is parsed (headers, the report's parts, 256 KiB of text),
 * not what is attached. */
static BdbReport *
parse_regular (int fd, gsize size, const BdbParseOptions *opts, const BdbParseOptions *o,
               GError **error)
{
	BdbScan sc;
	bdb_scan_init (&sc, o);
	char *chunk = g_malloc (65536);
	off_t off = 0;
	gboolean first = TRUE;
	for (;;) {
		ssize_t n = pread (fd, chunk, 65536, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			bdb_set_errno_error (error, errno, "read failed");
			g_free (chunk);
			return NULL;
		}
		if (n == 0)
			break;
		if (first && cr_line_ends (chunk, (gsize) n)) {
			/* Rare and old: read it into memory, CRs turned. */
			g_free (chunk);
			g_autofree char *all = g_malloc (size ? size : 1);
			gsize got = 0;
			while (got < size) {
				ssize_t m = pread (fd, all + got, size - got, (off_t) got);
				if (m < 0 && errno == EINTR)
					continue;
				if (m <= 0)
					break;
				got += (gsize) m;
			}
			return bdb_report_parse_bytes (all, got, opts, error);
		}
		first = FALSE;
		bdb_scan_feed (&sc, chunk, (gsize) n);
		off += n;
		if (sc.error || (guint64) off > o->max_message_size)
			break;
	}
	g_free (chunk);
	if (bdb_limits_too_large ((guint64) off, o, error) || !bdb_scan_finish (&sc, error)) {
		g_clear_error (&sc.error);
		return NULL;
	}
	int dup_fd = dup (fd);
	if (dup_fd < 0) {
		bdb_set_errno_error (error, errno, "cannot duplicate the file descriptor");
		return NULL;
	}
	GMimeStream *stream = g_mime_stream_fs_new (dup_fd);  /* owns dup_fd */
	Source src = { NULL, 0, fd };
	BdbReport *r = parse_stream (stream, NULL, &src, opts, 0, error);
	g_object_unref (stream);
	return r;
}

/* @st: what fstat() said of @fd, or NULL when it failed. */
static BdbReport *
parse_fd_stat (int fd, const struct stat *st, const BdbParseOptions *opts, GError **error)
{
	BdbParseOptions o = bdb_limits_effective (opts);

	ensure_gmime ();
	if (st && S_ISREG (st->st_mode)) {
		if (bdb_limits_too_large ((guint64) st->st_size, &o, error))
			return NULL;
		if (st->st_size == 0)
			return bdb_report_parse_bytes ("", 0, opts, error);
		if (st->st_size <= WHOLE_READ_MAX)
			return parse_small_file (fd, (gsize) st->st_size, opts, &o, error);
		if (lseek (fd, 0, SEEK_SET) == 0)
			return parse_regular (fd, (gsize) st->st_size, opts, &o, error);
	}
	return parse_pipe (fd, opts, &o, error);
}

BdbReport *
bdb_report_parse_fd (int fd, const char *name, const BdbParseOptions *opts, GError **error)
{
	struct stat st;
	GError *err = NULL;
	BdbReport *r = parse_fd_stat (fd, fstat (fd, &st) == 0 ? &st : NULL, opts, &err);
	/* A failure to read names the input; what the message says does not. */
	if (err && name && (err->code == BDB_ERROR_IO || err->code == BDB_ERROR_PERMISSION))
		g_prefix_error (&err, "%s: ", name);
	if (err)
		g_propagate_error (error, err);
	return r;
}

BdbReport *
bdb_report_parse_file (const char *path, const BdbParseOptions *opts, GError **error)
{
	int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		bdb_set_errno_error (error, errno, "cannot open");
		return NULL;
	}
	struct stat st;
	gboolean known = fstat (fd, &st) == 0;
	if (known && S_ISDIR (st.st_mode)) {
		close (fd);
		g_set_error (error, BDB_ERROR, BDB_ERROR_IO, "is a directory");
		return NULL;
	}
	BdbReport *r = parse_fd_stat (fd, known ? &st : NULL, opts, error);
	close (fd);
	return r;
}

