/* bouncedb serve: the pieces between the sockets and the database.
 *
 *   serve-answer.c  the database as a long-running reader sees it (a read
 *                   transaction per request, the environment let go when
 *                   a compaction asks), the answer for one address, the
 *                   configured actions, and the metrics
 *   serve-proto.c   the Postfix protocols: socketmap netstrings and the
 *                   SMTPD access policy delegation, bytes in, bytes out
 *   serve-http.c    the HTTP/JSON endpoints, request in, reply out
 *   cmd-serve.c     sockets, connections, libsoup, the main loop
 *
 * Everything but cmd-serve.c is plain functions of their input, so that
 * the unit tests and the fuzzers (tests/fuzz/fuzz_serve_*.c) reach them
 * without a socket.
 */
#ifndef BOUNCEDB_CLI_SERVE_H
#define BOUNCEDB_CLI_SERVE_H

#include "cli.h"

typedef enum {
	SERVE_SOCKETMAP = 0,
	SERVE_POLICY,
	SERVE_HTTP,
	SERVE_N_PROTOCOLS
} ServeProtocol;

/* What a lookup answered, as counted in the metrics. */
typedef enum {
	SERVE_ANSWER_OK = 0,        /* may be mailed */
	SERVE_ANSWER_SUPPRESSED,
	SERVE_ANSWER_INVALID,       /* not an address */
	SERVE_ANSWER_BUSY,          /* the database is being compacted */
	SERVE_ANSWER_ERROR,         /* the database failed */
	SERVE_N_ANSWERS
} ServeAnswer;

/* Which configured action a suppression gets. */
typedef enum {
	SERVE_ACTION_SUPPRESSED = 0,  /* hard bounces, manual, imported, domains */
	SERVE_ACTION_INACTIVE,
	SERVE_ACTION_COMPLAINT,
	SERVE_N_ACTIONS
} ServeActionKind;

/* Everything [serve] and [database] say, read once by cmd-serve.c. */
typedef struct {
	char *db_dir;
	BdbStoreOptions store;         /* read_only */
	BdbAddressFlags address_flags;
	/* Templates: {address}, {reason}, {since}, {kind}.  The access map
	 * and the policy service answer access[], the transport map
	 * transport[]; "" is no answer (NOTFOUND, DUNNO). */
	char *access[SERVE_N_ACTIONS];
	char *transport[SERVE_N_ACTIONS];
	gsize max_request_size;        /* HTTP bodies */
	gsize max_line_length;         /* a netstring, a policy line, a filter line */
	guint max_attributes;          /* per policy request */
	guint max_connections;
	guint idle_timeout;            /* seconds */
	gint64 metrics_interval;       /* seconds between database scans */
} ServeConfig;

typedef struct {
	const ServeConfig *config;
	BdbStore *store;               /* NULL while let go */
	gint64 (*now) (void);          /* cli_now, or a test's clock */
	guint64 lookups[SERVE_N_PROTOCOLS][SERVE_N_ANSWERS];
	guint64 requests[SERVE_N_PROTOCOLS];
	guint64 accepted[SERVE_N_PROTOCOLS];
	guint64 refused;               /* connections over max_connections */
	guint64 protocol_errors[SERVE_N_PROTOCOLS];
	guint64 reopened;              /* environments opened again */
	guint connections;
	gint64 started;
	GString *db_metrics;           /* cached scan, NULL until the first */
	gint64 db_metrics_at;
	double db_metrics_seconds;
} Serve;

/* The refusal marker: serve puts it in every refusal text it writes,
 * and the classifier ignores Postfix's notices that carry it (classify.h,
 * BDB_REFUSAL_MARKER). */
#define SERVE_MARKER BDB_REFUSAL_MARKER

/* ---- serve-answer.c ---- */

void serve_config_clear (ServeConfig *config);
void serve_init (Serve *sv, const ServeConfig *config);
void serve_clear (Serve *sv);
/* A read transaction on the database, opening the environment when it
 * was let go; BDB_ERROR_DB_BUSY while a compaction waits.  Abort it
 * before returning to the main loop. */
BdbTxn *serve_read (Serve *sv, GError **error);
/* Let the environment go when a compaction waits (the timer's job), or
 * always (@force: SIGHUP).  TRUE when it was let go. */
gboolean serve_release (Serve *sv, gboolean force);
/* Is @text (an address) suppressed?  In @txn, or a transaction of its
 * own when NULL.  *@address gets the normalised address, *@hit the
 * deciding suppression (both owned, may be NULL); *@error the reason of
 * INVALID, BUSY and ERROR.  Counted for @proto. */
ServeAnswer serve_lookup (Serve *sv, ServeProtocol proto, BdbTxn *txn, const char *text,
                          char **address, BdbSuppression **hit, GError **error);
/* The configured action for @hit, expanded, with the marker; "" when the
 * action is empty.  g_free(). */
char *serve_action (const Serve *sv, char *const templates[SERVE_N_ACTIONS], const char *address,
                    const BdbSuppression *hit);
/* The Prometheus text of /metrics, appended to @out. */
void serve_metrics (Serve *sv, GString *out);

/* ---- serve-proto.c ---- */

/* Answer the complete netstring requests at the start of @in (removed
 * from it), appending the replies to @out.  FALSE on a protocol error
 * (a malformed or oversized netstring): *@problem says what, a PERM reply
 * is appended, and the connection is to be closed once @out is sent. */
gboolean serve_socketmap_input (Serve *sv, GByteArray *in, GString *out, char **problem);
/* Append @s as a netstring. */
void serve_netstring (GString *out, const char *s);

typedef struct {
	char *request;      /* "smtpd_access_policy" */
	char *recipient;
	guint n;            /* attributes read */
} ServePolicy;

void serve_policy_clear (ServePolicy *p);
/* Answer the complete policy requests at the start of @in, as above;
 * @state keeps a request read in part. */
gboolean serve_policy_input (Serve *sv, ServePolicy *state, GByteArray *in, GString *out,
                             char **problem);

/* ---- serve-http.c ---- */

typedef struct {
	guint status;
	const char *content_type;      /* static */
	const char *allow;             /* for 405; static */
	GString *body;
} ServeHttpReply;

/* Answer one request.  @path and @query as sent (percent-encoded; @query
 * NULL when absent), @body the request body (may be NULL). */
void serve_http_answer (Serve *sv, const char *method, const char *path, const char *query,
                        const char *body, gsize len, ServeHttpReply *reply);

#endif
