/* bouncedb import, inside: the readers of each shape (import-csv.c,
 * import-json.c) hand their entries to cmd-import.c, which decides what
 * each one means and merges it. */
#ifndef BOUNCEDB_CLI_IMPORT_H
#define BOUNCEDB_CLI_IMPORT_H

#include "cli.h"

/* What an ESP says an entry is. */
typedef enum {
	IMPORT_GUESS = 0,      /* the reader cannot say: read the reason, status and code */
	IMPORT_HARD,           /* a permanent bounce: suppress */
	IMPORT_COMPLAINT,      /* a spam complaint: suppress (feedback) */
	IMPORT_UNSUBSCRIBE,    /* an opt-out: suppress (unsubscribed) */
	IMPORT_MANUAL,         /* suppressed by hand at the ESP: suppress (manual) */
	IMPORT_UNKNOWN,        /* a list that does not say why: --reason, else undefined */
	IMPORT_SOFT,           /* a temporary failure: not a suppression, skipped */
	IMPORT_OTHER,          /* no failure at all (a delivery, an open): skipped */
} ImportClass;

/* One entry of an ESP's export, as its reader found it.  Strings are
 * borrowed for the call. */
typedef struct {
	ImportClass klass;
	const char *address;
	const char *reason;    /* the ESP's word for why ("HardBounce", "BOUNCE"), or a reason name */
	const char *status;    /* RFC 3463 status */
	const char *code;      /* SMTP reply code */
	const char *text;      /* what the remote server said */
	const char *date;      /* when, as written; or: */
	gint64 when;           /* when, in seconds (0: see date) */
} EspEntry;

typedef struct _Import Import;
/* Where an entry goes: checked (first pass) or merged (second pass).
 * Takes @s. */
typedef gboolean (*ImportSink) (Import *im, BdbTable table, BdbSuppression *s, const char *soft_addr,
                                const BdbSoftCounter *soft, GError **error);

struct _Import {
	Cli *cli;
	BdbRules *rules;
	BdbPolicy policy;
	const char *path;          /* the file read (standard input's copy) */
	const char *default_reason;  /* --reason, for entries that give none; NULL: none given */
	gint64 now;
	char *note;                /* "imported from NAME" */
	/* The shape, from detection. */
	const char *shape;         /* for messages: "Mailgun suppressions (JSON)" */
	gboolean own;              /* bouncedb's own export: empty is fine */
	gboolean (*read) (Import *im, GError **error);
	char delim;                /* CSV */
	gboolean headerless;
	GPtrArray *header;         /* char *: the header row's fields */
	int c_addr, c_reason, c_type, c_code, c_error, c_status, c_date;
	int json;                  /* import-json.c's shape */
	/* One pass. */
	ImportSink sink;
	gpointer sink_data;
	guint64 entries, soft, other;
};

/* cmd-import.c: what an ESP's entry means: a suppression handed to the
 * sink, or a skipped one counted.  @where names it in errors ("line 3"). */
gboolean import_esp_entry (Import *im, const char *where, const EspEntry *e, GError **error);
/* One of bouncedb's own entries (takes @s); a soft counter when @soft. */
gboolean import_own_entry (Import *im, BdbTable table, BdbSuppression *s, const char *soft_addr,
                           const BdbSoftCounter *soft, GError **error);
/* A time as exports write them: seconds or milliseconds since the epoch,
 * ISO 8601, RFC 2822.  Empty is 0. */
gboolean import_parse_when (const char *text, gint64 *out);
void import_error (GError **error, const char *where, const char *fmt, ...) G_GNUC_PRINTF (3, 4);
/* "HardBounce", "hard_bounce", "Hard bounce", "Email Address": one word,
 * its letters and digits in lower case.  g_free(). */
char *import_fold (const char *word);

/* import-csv.c: a CSV (or headerless address list) whose first line is
 * @first (BOM removed): sets the delimiter, the columns and im->read. */
gboolean import_csv_detect (Import *im, const char *first, GError **error);
/* import-json.c: a file starting with '{' or '[': sets the shape and
 * im->read, or says what was expected. */
gboolean import_json_detect (Import *im, GError **error);

#endif
